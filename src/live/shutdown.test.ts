// Shutdown policies against the local exchange server (a live node, keys from a key file): after stop(),
// `cancel-all` leaves no order open at the venue, `leave` leaves the resting order working there, `flatten`
// cancels it and sells the position back: as much sold as bought at the venue, and its BTC balance the
// starting one less the buy's commission, to the last unit.
// And /readyz on the probe server: 503 "starting" before the node has reconciled, 200 once it trades, 503
// again when the kill switch halts trading and while it stops; /healthz 200 throughout.

import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '../core/poll.test-util.ts';
import type { StrategyId } from '../core/units.ts';
import { OrderRequest, OrderSide, OrderType, TimeInForce } from '../model/order.ts';
import { orderStatusName } from '../model/order-state.ts';
import { type MetricsServer, startMetricsServer } from '../monitoring/server.ts';
import { BinanceRest } from '../venues/binance/rest.ts';
import { BinanceCredentials } from '../venues/binance/signing.ts';
import { startExchangeServer } from '../venues/server/server.ts';
import { NodeMode, TradingNode } from './node.ts';
import { NodeConfigSchema } from './node-config.ts';
import type { ShutdownPolicy } from './shutdown.ts';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

// A strategy that stays out of the way (its averages need 1,000 quotes).
const IDLE = {
  name: 'ema-cross',
  params: { instrument: 'BTCUSDT.BINANCE', source: 'quote', fast: 400, slow: 1000, qty: 0.001 },
};

async function liveNode(policy: ShutdownPolicy, print: (l: string) => void = () => {}) {
  const srv = await startExchangeServer({
    accounts: [{ apiKey: 'bot4Stop', apiSecret: 'stopSecret' }],
    log: () => {},
  });
  cleanups.push(() => srv.close());
  const keyFile = join(mkdtempSync(join(tmpdir(), 'bot4-stop-')), 'keys.json');
  writeFileSync(keyFile, JSON.stringify({ apiKey: 'bot4Stop', apiSecret: 'stopSecret' }));
  const rest = new BinanceRest({
    baseUrl: srv.url,
    credentials: BinanceCredentials.hmac('bot4Stop', 'stopSecret'),
  });
  const config = NodeConfigSchema.parse({
    venue: { restUrl: srv.url, keyFile },
    instruments: ['BTCUSDT'],
    strategies: [IDLE],
    statusIntervalSec: 60,
    shutdown: { policy, timeoutSec: 10 },
  });
  const node = await TradingNode.start({ mode: NodeMode.LIVE, config, print, env: {} });
  cleanups.push(() => node.stop());
  return { node, rest };
}

let seq = 0;
function submit(node: TradingNode, side: number, type: number, qty: string, price?: number) {
  const k = node.kernel;
  const inst = k.traded[0]!;
  const req = new OrderRequest();
  req.clientOrderId = `stop-test-${++seq}`;
  req.strategyId = 0 as StrategyId;
  req.instrumentId = inst.id;
  req.side = side as never;
  req.type = type as never;
  req.tif = type === OrderType.MARKET ? TimeInForce.IOC : TimeInForce.GTC;
  req.qty = inst.qtyToLots(qty);
  if (price !== undefined) req.price = price as never;
  req.tsInit = k.clock.now();
  return k.engine.submit(req);
}

async function venueOpen(rest: BinanceRest): Promise<number> {
  return ((await rest.signed('GET', '/api/v3/openOrders', { symbol: 'BTCUSDT' }, 6)) as unknown[]).length;
}

async function venueBtc(rest: BinanceRest): Promise<string> {
  const acct = (await rest.signed('GET', '/api/v3/account', {}, 20)) as {
    balances: { asset: string; free: string; locked: string }[];
  };
  const b = acct.balances.find((x) => x.asset === 'BTC')!;
  return `${b.free}+${b.locked}`;
}

/** A buy limit 5% under the venue's best bid: rests there. */
async function restingBuy(node: TradingNode, rest: BinanceRest): Promise<void> {
  const k = node.kernel;
  const inst = k.traded[0]!;
  await waitFor(() => node.md.stats.quotes > 0, 'a first quote', 10_000);
  const depth = (await rest.get('/api/v3/depth', { symbol: 'BTCUSDT', limit: 5 }, 1)) as {
    bids: [string, string][];
  };
  const bid = inst.priceToTicks(depth.bids[0]![0]);
  submit(node, OrderSide.BUY, OrderType.LIMIT, '0.01', Math.floor(bid * 0.95));
  await waitFor(() => k.cache.openCount() === 1, 'the resting order accepted by the node', 10_000);
  expect(await venueOpen(rest)).toBe(1);
}

describe('shutdown policies against the local exchange server', () => {
  it('cancel-all: no order is left open at the venue', async () => {
    const { node, rest } = await liveNode('cancel-all');
    await restingBuy(node, rest);
    const summary = await node.stop();
    expect(summary).toContain('shutdown policy cancel-all: 1 cancel request(s) sent');
    expect(summary.find((l) => l.startsWith('shutdown:'))).toMatch(/^shutdown: 0 order\(s\) still open/);
    expect(await venueOpen(rest)).toBe(0);
  }, 40_000);

  it('leave: the resting order keeps working at the venue', async () => {
    const { node, rest } = await liveNode('leave');
    await restingBuy(node, rest);
    const summary = await node.stop();
    expect(summary.find((l) => l.startsWith('shutdown policy'))).toMatch(
      /^shutdown policy leave: 1 open order\(s\) left working at the venue/,
    );
    expect(await venueOpen(rest)).toBe(1);
  }, 40_000);

  it('flatten: orders cancelled and the position sold back at the venue', async () => {
    const { node, rest } = await liveNode('flatten');
    const btc0 = await venueBtc(rest);
    const k = node.kernel;
    const inst = k.traded[0]!;
    const pos0 = k.portfolio.netQty(inst.id);
    // Risk prices a market order from the last quote: wait for one.
    await waitFor(() => node.md.stats.quotes > 0, 'a first quote', 10_000);
    const buy = submit(node, OrderSide.BUY, OrderType.MARKET, '0.01');
    try {
      await waitFor(() => k.portfolio.netQty(inst.id) !== pos0, 'the market buy filled', 10_000);
    } catch (e) {
      throw new Error(`${(e as Error).message}: order ${orderStatusName(buy.status)} (${buy.lastReason})`);
    }
    expect(await venueBtc(rest)).not.toBe(btc0);
    await restingBuy(node, rest);
    const summary = await node.stop();
    expect(summary.find((l) => l.startsWith('shutdown policy'))).toMatch(
      /^shutdown policy flatten: kill switch .*1 cancel request\(s\) sent; flatten BTCUSDT.BINANCE: SELL 0.01/,
    );
    expect(summary.find((l) => l.startsWith('shutdown:'))).toMatch(
      /^shutdown: 0 order\(s\) still open, positions BTCUSDT/,
    );
    expect(await venueOpen(rest)).toBe(0);
    expect(k.portfolio.netQty(inst.id)).toBe(pos0);
    // At the venue: as much sold as bought, and BTC back where it was but for the buy's commission (in BTC).
    const trades = (await rest.signed('GET', '/api/v3/myTrades', { symbol: 'BTCUSDT' }, 20)) as {
      qty: string;
      isBuyer: boolean;
      commission: string;
      commissionAsset: string;
    }[];
    const lots = (q: string) => inst.qtyToLots(q) as number;
    const bought = trades.filter((t) => t.isBuyer).reduce((a, t) => a + lots(t.qty), 0);
    const sold = trades.filter((t) => !t.isBuyer).reduce((a, t) => a + lots(t.qty), 0);
    expect(sold).toBe(bought);
    const fee = trades
      .filter((t) => t.commissionAsset === 'BTC')
      .reduce((a, t) => a + Number(t.commission) * 1e8, 0);
    const sats = (s: string) => s.split('+').reduce((a, x) => a + Math.round(Number(x) * 1e8), 0);
    expect(sats(await venueBtc(rest))).toBe(sats(btc0) - Math.round(fee));
  }, 40_000);
});

describe('/healthz and /readyz', () => {
  async function get(s: MetricsServer, path: string): Promise<{ status: number; text: string }> {
    const r = await fetch(`http://127.0.0.1:${s.port}${path}`, { signal: AbortSignal.timeout(5_000) });
    return { status: r.status, text: await r.text() };
  }

  it('not ready before reconciliation, ready once trading, not ready when halted or stopping', async () => {
    const probe = await startMetricsServer({ port: 0 });
    cleanups.push(() => probe.close());
    expect(await get(probe, '/healthz')).toEqual({ status: 200, text: 'ok\n' });
    expect(await get(probe, '/readyz')).toEqual({ status: 503, text: 'not ready: starting\n' });
    expect((await get(probe, '/metrics')).status).toBe(404);

    const { node } = await liveNode('cancel-all');
    probe.setReadiness(() => node.readiness());
    let last = { status: 0, text: '' };
    const poll = async (status: number) => {
      const until = Date.now() + 15_000;
      while (Date.now() < until) {
        last = await get(probe, '/readyz');
        if (last.status === status) return;
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error(`/readyz did not answer ${status} within 15 s; last: ${last.status} ${last.text}`);
    };
    await poll(200);
    expect(last.text).toBe('ready\n');
    node.kernel.riskMonitor.killSwitch.kill({ reason: 'test' });
    await poll(503);
    expect(last.text).toBe('not ready: trading halted\n');
    await node.stop();
    expect(await get(probe, '/readyz')).toMatchObject({
      status: 503,
      text: expect.stringMatching(/^not ready: stopping/),
    });
    expect(await get(probe, '/healthz')).toEqual({ status: 200, text: 'ok\n' });
  }, 40_000);
});

describe('bot4 paper --health-port, stopped by SIGTERM', () => {
  it('answers /healthz and /readyz, then SIGTERM applies the policy and prints the summary (exit 0)', async () => {
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        'src/cli/main.ts',
        'paper',
        '--config',
        'examples/paper.json',
        '--health-port',
        '0',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
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
      () => /health: serving http:\/\/127\.0\.0\.1:\d+\/healthz/.test(out),
      'the health line',
      25_000,
    );
    const base = /health: serving (http:\/\/127\.0\.0\.1:\d+)\/healthz/.exec(out)![1]!;
    const get = async (path: string) => {
      const r = await fetch(`${base}${path}`, { signal: AbortSignal.timeout(5_000) });
      return { status: r.status, text: await r.text() };
    };
    expect(await get('/healthz')).toEqual({ status: 200, text: 'ok\n' });
    let ready = { status: 0, text: '' };
    const until = Date.now() + 25_000;
    while (ready.status !== 200 && Date.now() < until) {
      ready = await get('/readyz');
      if (ready.status !== 200) await new Promise((r) => setTimeout(r, 100));
    }
    expect(ready, `/readyz within 25 s; output so far:\n${out}`).toEqual({ status: 200, text: 'ready\n' });
    child.kill('SIGTERM');
    const code = await Promise.race([exited, new Promise((r) => setTimeout(() => r('timeout'), 20_000))]);
    expect(code, `exit after SIGTERM; output:\n${out}`).toBe(0);
    expect(out).toMatch(/stopping\.\.\.\nsummary: \[paper/);
    expect(out).toMatch(
      /\nshutdown policy cancel-all: \d+ cancel request\(s\) sent\nshutdown: 0 order\(s\) still open/,
    );
  }, 60_000);
});
