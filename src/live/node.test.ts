import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '../core/poll.test-util.ts';
import { currencies } from '../model/currency.ts';
import { OrderSide } from '../model/order.ts';
import { OrderEventKind, OrderStatus } from '../model/order-state.ts';
import { BinanceRest } from '../venues/binance/rest.ts';
import { BinanceCredentials } from '../venues/binance/signing.ts';
import { type ExchangeServer, startExchangeServer } from '../venues/server/server.ts';
import { addDecimals, NodeMode, TradingNode } from './node.ts';
import { NodeConfigSchema } from './node-config.ts';

const quiet = () => {};
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const STRATEGY = {
  name: 'ema-cross',
  params: { instrument: 'BTCUSDT.BINANCE', source: 'quote', fast: 3, slow: 8, qty: 0.001 },
};

describe('paper node', () => {
  it('trades a built-in strategy on the in-process local server and its account reconciles', async () => {
    const lines: string[] = [];
    const config = NodeConfigSchema.parse({
      instruments: ['BTCUSDT'],
      strategies: [STRATEGY],
      statusIntervalSec: 0.5,
    });
    const node = await TradingNode.start({ mode: NodeMode.PAPER, config, print: (l) => lines.push(l) });
    cleanups.push(() => node.stop());
    // The position is the sum of the fills the engine publishes, the same books the backtest keeps.
    const k = node.kernel;
    const btc = k.traded[0]!;
    const net0 = k.portfolio.netQty(btc.id);
    let net = 0;
    k.bus.subscribe(k.engine.orderEvents, (ev) => {
      if (ev.kind !== OrderEventKind.FILLED) return;
      net += k.cache.order(ev.orderId)!.side === OrderSide.BUY ? ev.fillQty : -ev.fillQty;
    });
    await waitFor(
      () => node.counters.fills >= 2 && lines.some((l) => l.startsWith('[paper')),
      'two fills',
      20_000,
    );
    const summary = await node.stop();
    expect(node.md.inSync(node.kernel.traded[0]!.id)).toBe(true);
    expect(node.md.stats.quotes).toBeGreaterThan(0);
    expect(node.md.stats.crossed + node.md.stats.malformed).toBe(0);
    expect(summary[0]).toMatch(
      /^summary: \[paper \d+s\] pos BTCUSDT [\d.]+ \| equity [\d.]+ USDT \(PnL -?[\d.]+\)/,
    );
    expect(k.portfolio.netQty(btc.id)).toBe(net0 + net);
  }, 30_000);

  it('adds venue balances exactly (free + locked)', () => {
    expect(addDecimals('100000.00000000', '0.00000000')).toBe('100000');
    expect(addDecimals('0.1', '0.2')).toBe('0.3');
    expect(addDecimals('1.99999999', '0.00000001')).toBe('2');
    expect(addDecimals('100', '0')).toBe('100');
  });

  it('refuses a config with an unknown key, naming it', () => {
    expect(() =>
      NodeConfigSchema.parse({ instruments: ['BTCUSDT'], strategies: [STRATEGY], lverage: 3 }),
    ).toThrow(/lverage/);
  });
});

describe('live node start-up reconciliation (restart with open orders)', () => {
  async function serverWithOpenOrders(): Promise<{
    srv: ExchangeServer;
    keyFile: string;
    rest: BinanceRest;
  }> {
    const srv = await startExchangeServer({
      accounts: [{ apiKey: 'bot4Live', apiSecret: 'liveSecret' }],
      log: quiet,
    });
    cleanups.push(() => srv.close());
    const dir = mkdtempSync(join(tmpdir(), 'bot4-live-'));
    const keyFile = join(dir, 'keys.json');
    writeFileSync(keyFile, JSON.stringify({ apiKey: 'bot4Live', apiSecret: 'liveSecret' }));
    const rest = new BinanceRest({
      baseUrl: srv.url,
      credentials: BinanceCredentials.hmac('bot4Live', 'liveSecret'),
    });
    // Orders a previous run left resting.
    for (const [cid, px] of [
      ['prev-1', '1000.00'],
      ['prev-2', '1100.00'],
    ] as const) {
      await rest.signed(
        'POST',
        '/api/v3/order',
        {
          symbol: 'BTCUSDT',
          side: 'BUY',
          type: 'LIMIT',
          timeInForce: 'GTC',
          quantity: '0.01000',
          price: px,
          newClientOrderId: cid,
        },
        1,
        true,
      );
    }
    return { srv, keyFile, rest };
  }

  it('adopts the venue open orders; they cancel through the engine; balances are the venue balances', async () => {
    const { srv, keyFile, rest } = await serverWithOpenOrders();
    const config = NodeConfigSchema.parse({
      venue: { restUrl: srv.url, keyFile },
      instruments: ['BTCUSDT'],
      strategies: [{ ...STRATEGY, params: { ...STRATEGY.params, fast: 400, slow: 1000 } }],
      unknownOrders: 'adopt',
      statusIntervalSec: 60,
    });
    const lines: string[] = [];
    const node = await TradingNode.start({
      mode: NodeMode.LIVE,
      config,
      print: (l) => lines.push(l),
      env: {},
    });
    cleanups.push(() => node.stop());
    expect(node.reconciliation).toMatchObject({ openAtVenue: 2, adopted: 2 });
    expect(lines.some((l) => /locked funds agree/.test(l))).toBe(true);
    const k = node.kernel;
    expect(k.cache.openCount()).toBe(2);
    const [a] = k.cache.allOpenOrderIds();
    const order = k.cache.order(a!)!;
    expect(order.status).toBe(OrderStatus.ACCEPTED);
    expect(k.engine.cancel(order.id)).toBe(true);
    await waitFor(
      () => order.status === OrderStatus.CANCELED,
      'the adopted order to cancel at the venue',
      5_000,
    );
    const open = (await rest.signed('GET', '/api/v3/openOrders', { symbol: 'BTCUSDT' }, 6)) as unknown[];
    expect(open).toHaveLength(1);
    // The portfolio starts from the venue's balances: 100000 USDT and 1 BTC of the funded test key.
    const usdt = currencies.getOrCreate('USDT');
    expect(k.portfolio.balance(usdt.id) / 10 ** usdt.precision).toBe(100_000);
  }, 30_000);

  it("halts with a clear message when unknownOrders is 'halt'", async () => {
    const { srv, keyFile } = await serverWithOpenOrders();
    const config = NodeConfigSchema.parse({
      venue: { restUrl: srv.url, keyFile },
      instruments: ['BTCUSDT'],
      strategies: [STRATEGY],
      unknownOrders: 'halt',
    });
    await expect(TradingNode.start({ mode: NodeMode.LIVE, config, print: quiet, env: {} })).rejects.toThrow(
      /2 open order\(s\) at the venue that this node did not place: prev-1 .*trading halted/,
    );
  }, 30_000);
});

describe('bot4 paper --config examples/paper.json', () => {
  it('starts the local server itself, prints status, and stops on SIGTERM with a summary (exit 0)', async () => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'src/cli/main.ts', 'paper', '--config', 'examples/paper.json'],
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
    await waitFor(() => /\[paper \d+s\]/.test(out), 'the first status line', 25_000);
    expect(out).toMatch(/^local exchange server http:\/\/127\.0\.0\.1:\d+/);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(out).toMatch(/stopping\.\.\.\nsummary: \[paper/);
    expect(out).toMatch(/orders: \d+ submitted/);
  }, 40_000);
});
