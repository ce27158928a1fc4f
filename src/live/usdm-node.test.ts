// A live node on USD-M futures against the local exchange server: it reconciles a restart with an open
// position and an open order (adopted under unknownOrders 'adopt'; a position it may not adopt halts with a
// message), opens and closes a position through a strategy, keeps the portfolio's position equal to the
// venue's positionRisk, recovers a fill its user stream lost (unreadable frames, then a dropped connection)
// over REST, paper-trades on the futures market data, and `bot4 live` on a usdm config stops on SIGINT with
// a summary.
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '../core/poll.test-util.ts';
import type { StrategyId } from '../core/units.ts';
import { currencies } from '../model/currency.ts';
import { OrderRequest, OrderSide, OrderType } from '../model/order.ts';
import { BinanceRest } from '../venues/binance/rest.ts';
import { BinanceCredentials } from '../venues/binance/signing.ts';
import { type ExchangeServer, startExchangeServer } from '../venues/server/server.ts';
import { NodeMode, TradingNode } from './node.ts';
import { loadNodeConfig, NodeConfigSchema } from './node-config.ts';
import type OpenThenClose from './usdm.test-strategy.ts';

const quiet = () => {};
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const STRATEGY_FILE = join(import.meta.dirname, 'usdm.test-strategy.ts');

/** A server whose futures account holds a 0.010 BTC long and a resting buy a previous run left. */
async function serverWithPosition(): Promise<{ srv: ExchangeServer; keyFile: string; rest: BinanceRest }> {
  const srv = await startExchangeServer({
    accounts: [{ apiKey: 'usdmLive', apiSecret: 'usdmSecret', usdmWallet: 20_000 }],
    warmupMs: 60_000,
    log: quiet,
  });
  cleanups.push(() => srv.close());
  const dir = mkdtempSync(join(tmpdir(), 'bot4-usdm-'));
  const keyFile = join(dir, 'keys.json');
  writeFileSync(keyFile, JSON.stringify({ apiKey: 'usdmLive', apiSecret: 'usdmSecret' }));
  const rest = new BinanceRest({
    baseUrl: srv.url,
    market: 'usdm',
    credentials: BinanceCredentials.hmac('usdmLive', 'usdmSecret'),
  });
  const order = (p: Record<string, string>) =>
    rest.signed('POST', '/fapi/v1/order', { symbol: 'BTCUSDT', ...p }, 0, true);
  await order({ side: 'BUY', type: 'MARKET', quantity: '0.010', newClientOrderId: 'prev-open' });
  await order({
    side: 'BUY',
    type: 'LIMIT',
    timeInForce: 'GTC',
    quantity: '0.010',
    price: '30000.0',
    newClientOrderId: 'prev-rest',
  });
  return { srv, keyFile, rest };
}

async function venuePosition(rest: BinanceRest): Promise<string> {
  const rows = (await rest.signed('GET', '/fapi/v2/positionRisk', { symbol: 'BTCUSDT' }, 5)) as {
    positionAmt: string;
  }[];
  return rows[0]!.positionAmt;
}

describe('live node on USD-M futures', () => {
  it('adopts the position and order of a restart, opens and closes a position, equals the venue', async () => {
    const { srv, keyFile, rest } = await serverWithPosition();
    const lines: string[] = [];
    const config = NodeConfigSchema.parse({
      venue: { restUrl: srv.url, keyFile, market: 'usdm' },
      instruments: ['BTCUSDT'],
      strategies: [{ name: STRATEGY_FILE, params: { qty: 0.005 } }],
      unknownOrders: 'adopt',
      statusIntervalSec: 0.5,
    });
    const node = await TradingNode.start({
      mode: NodeMode.LIVE,
      config,
      print: (l) => lines.push(l),
      env: {},
    });
    cleanups.push(() => node.stop());
    expect(lines).toContainEqual(
      expect.stringMatching(/^reconcile: adopted position BTCUSDT 0\.010 at entry /),
    );
    expect(lines).toContainEqual(expect.stringMatching(/^reconcile: adopted open order prev-rest /));
    expect(lines).toContainEqual("reconcile: positions BTCUSDT 0.01 equal the venue's");
    const k = node.kernel;
    const btc = k.traded[0]!;
    expect(btc.venue).toBe('BINANCE_USDM');
    expect(k.portfolio.netQty(btc.id)).toBe(10);
    const usdt = currencies.getOrCreate('USDT');
    // The starting balance is the venue's wallet: 20000 less the opening fill's commission.
    const wallet = Number(
      ((await rest.signed('GET', '/fapi/v2/balance', {}, 5)) as { balance: string }[])[0]!.balance,
    );
    expect(k.portfolio.balance(usdt.id) / 10 ** usdt.precision).toBeCloseTo(wallet, 8);

    const strategy = k.hosts[0]!.strategy as unknown as OpenThenClose;
    await waitFor(() => strategy.stage === 3, 'the strategy to open and close its position', 20_000);
    await waitFor(() => node.counters.fills >= 2, 'two fills', 5_000);
    expect(await venuePosition(rest)).toBe('0.010');
    expect(k.portfolio.netQty(btc.id)).toBe(10);
    // The same wallet change at the venue and in the portfolio: realised PnL and fees of the two fills.
    const wallet2 = Number(
      ((await rest.signed('GET', '/fapi/v2/balance', {}, 5)) as { balance: string }[])[0]!.balance,
    );
    expect(k.portfolio.balance(usdt.id) / 10 ** usdt.precision).toBeCloseTo(wallet2, 6);
    const summary = await node.stop();
    expect(summary[0]).toMatch(/^summary: \[live \d+s\] pos BTCUSDT 0\.01 /);
    // The default shutdown policy cancelled the adopted order at the venue.
    expect(await rest.signed('GET', '/fapi/v1/openOrders', { symbol: 'BTCUSDT' }, 1)).toEqual([]);
  }, 60_000);

  it("halts with a clear message on a venue position it may not adopt ('report')", async () => {
    const { srv, keyFile } = await serverWithPosition();
    const config = NodeConfigSchema.parse({
      venue: { restUrl: srv.url, keyFile, market: 'usdm' },
      instruments: ['BTCUSDT'],
      strategies: [{ name: STRATEGY_FILE }],
      unknownOrders: 'report',
    });
    await expect(TradingNode.start({ mode: NodeMode.LIVE, config, print: quiet, env: {} })).rejects.toThrow(
      /position BTCUSDT 0\.010 .*at the venue but 0 in this node; trading halted \(unknownOrders is 'report'/,
    );
  }, 30_000);
});

describe('USD-M faults and paper', () => {
  it('a fill whose user-stream frames were unreadable is recovered over REST after the stream reconnects', async () => {
    const { srv, keyFile, rest } = await serverWithPosition();
    const config = NodeConfigSchema.parse({
      venue: { restUrl: srv.url, keyFile, market: 'usdm' },
      instruments: ['BTCUSDT'],
      strategies: [{ name: STRATEGY_FILE, params: { trade: false } }],
      unknownOrders: 'adopt',
    });
    const node = await TradingNode.start({ mode: NodeMode.LIVE, config, print: quiet, env: {} });
    cleanups.push(() => node.stop());
    const k = node.kernel;
    const btc = k.traded[0]!;
    // Risk needs a reference price before a market order.
    await waitFor(() => node.md.stats.quotes > 0, 'a first quote', 10_000);
    const conn = srv.faults.connections().find((c) => c.kind === 'stream' && c.userData);
    expect(conn).toBeDefined();
    // ORDER_TRADE_UPDATE NEW, TRADE and ACCOUNT_UPDATE of the next order all arrive as garbage.
    srv.faults.set({ malformed: 3 }, conn!.id);
    const req = new OrderRequest();
    req.instrumentId = btc.id;
    req.strategyId = 1 as StrategyId;
    req.side = OrderSide.SELL;
    req.type = OrderType.MARKET;
    req.qty = 4 as OrderRequest['qty'];
    k.engine.submit(req);
    await waitFor(() => node.orders!.stats.badFrames >= 3, 'three unreadable user-stream frames', 10_000);
    expect(node.counters.fills).toBe(0);
    expect(await venuePosition(rest)).toBe('0.006');
    srv.faults.drop(conn!.id);
    await waitFor(() => node.counters.fills === 1, 'the lost fill, read back over REST', 15_000);
    expect(node.orders!.stats.recovered).toBe(1);
    expect(k.portfolio.netQty(btc.id)).toBe(6);
  }, 40_000);

  it('paper-trades on the USD-M market data: the simulated perpetual fills at the futures fee rates', async () => {
    const lines: string[] = [];
    const config = NodeConfigSchema.parse({
      venue: { market: 'usdm' },
      instruments: ['BTCUSDT'],
      strategies: [{ name: STRATEGY_FILE, params: { qty: 0.005 } }],
      balances: [{ currency: 'USDT', amount: '10000' }],
    });
    const node = await TradingNode.start({ mode: NodeMode.PAPER, config, print: (l) => lines.push(l) });
    cleanups.push(() => node.stop());
    await waitFor(() => node.counters.fills >= 2, 'two paper fills', 20_000);
    const k = node.kernel;
    const btc = k.traded[0]!;
    expect(btc.venue).toBe('BINANCE_USDM');
    expect(k.portfolio.netQty(btc.id)).toBe(0);
    expect(node.md.stats.quotes).toBeGreaterThan(0);
    // Two taker fills of ~300 USDT at 0.05%: about 0.30 USDT of fees (the price moves a little between them).
    const usdt = currencies.getOrCreate('USDT');
    const fees = k.portfolio.fees(usdt.id) / 10 ** usdt.precision;
    expect(fees).toBeGreaterThan(0.25);
    expect(fees).toBeLessThan(0.35);
  }, 30_000);
});

describe('examples/paper-usdm.json', () => {
  it("paper-trades ema-cross on the in-process server's BTCUSDT perpetual", async () => {
    const config = loadNodeConfig(join(import.meta.dirname, '../../examples/paper-usdm.json'));
    const lines: string[] = [];
    const node = await TradingNode.start({
      mode: NodeMode.PAPER,
      config: { ...config, statusIntervalSec: 0.2 },
      print: (l) => lines.push(l),
    });
    cleanups.push(() => node.stop());
    await waitFor(
      () => lines.some((l) => /^\[paper \d+s\] pos BTCUSDT /.test(l)) && node.md.stats.quotes > 5,
      'a status line and quotes',
      15_000,
    );
    expect(node.kernel.traded[0]!.key).toBe('BTCUSDT.BINANCE_USDM');
    expect(node.md.inSync(node.kernel.traded[0]!.id)).toBe(true);
  }, 30_000);
});

describe('bot4 live on a usdm config', () => {
  it('trades on the local server and stops on SIGINT with a summary (exit 0)', async () => {
    const { srv, keyFile, rest } = await serverWithPosition();
    await rest.signed('DELETE', '/fapi/v1/allOpenOrders', { symbol: 'BTCUSDT' }, 1);
    await rest.signed(
      'POST',
      '/fapi/v1/order',
      { symbol: 'BTCUSDT', side: 'SELL', type: 'MARKET', quantity: '0.010' },
      0,
      true,
    );
    const dir = mkdtempSync(join(tmpdir(), 'bot4-usdm-cli-'));
    const cfgFile = join(dir, 'usdm.json');
    writeFileSync(
      cfgFile,
      JSON.stringify({
        venue: { restUrl: srv.url, keyFile, market: 'usdm' },
        instruments: ['BTCUSDT'],
        strategies: [{ name: STRATEGY_FILE, params: { qty: 0.002 } }],
        statusIntervalSec: 0.5,
      }),
    );
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'src/cli/main.ts', 'live', '--config', cfgFile],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    child.stdout.on('data', (d) => {
      out += String(d);
    });
    child.stderr.on('data', (d) => {
      out += String(d);
    });
    const exited = new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
    cleanups.push(async () => {
      if (child.exitCode === null) child.kill('SIGKILL');
    });
    await waitFor(
      () => /\[live \d+s\] pos BTCUSDT 0 .* 2 fills/.test(out),
      'a status line after two fills',
      40_000,
    );
    expect(await venuePosition(rest)).toBe('0.000');
    child.kill('SIGINT');
    expect(
      await Promise.race([exited, new Promise((r) => setTimeout(() => r('no exit in 15 s'), 15_000))]),
    ).toBe(0);
    expect(out).toMatch(/summary: \[live \d+s\] pos BTCUSDT 0 /);
    expect(out).toMatch(/orders: 2 submitted, 2 fills/);
  }, 70_000);
});
