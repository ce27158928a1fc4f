// The trading node with venue.kind 'ccxt': ccxt's binance (pro) class, unmodified, aimed at the local exchange
// server through the config's URL overrides. Live: the node's fills and balances equal the venue's (REST
// look-ups), the keys appear nowhere in the output or the session files, Ctrl-C prints the summary. Paper:
// ccxt market data with the simulated exchange. Also the polled path (no watch*), the instrument mapping and
// the config errors.

import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { envWithoutBot4 } from '../../cli/cli.test-util.ts';
import { LiveClock } from '../../core/clock.ts';
import { waitFor } from '../../core/poll.test-util.ts';
import { addDecimals, NodeMode, TradingNode } from '../../live/node.ts';
import { NodeConfigSchema } from '../../live/node-config.ts';
import { binanceSpotSpecs } from '../../model/binance-instruments.ts';
import { currencies, moneyFromDecimal } from '../../model/currency.ts';
import { newInstrumentRegistry } from '../../model/instrument.ts';
import { orderEventName } from '../../model/order-state.ts';
import { type ExchangeServer, startExchangeServer } from '../server/server.ts';
import { localCcxt, rest } from '../server/test-client.ts';
import { CcxtMarketData } from './ccxt-market-data.ts';
import { loadCcxtKeys } from './ccxt-node.ts';
import { ccxtSpecs } from './ccxt-specs.ts';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const STRATEGY = fileURLToPath(new URL('./ccxt-node.test-strategy.ts', import.meta.url));
const API_KEY = 'ccxtNodeKey7f3a91';
const SECRET = 'ccxtNodeSecret0b5e22d4';
/** A strategy that sends nothing within a test's time (its averages need 1000 quotes). */
const QUIET = {
  name: 'ema-cross',
  params: { instrument: 'BTCUSDT.BINANCE', source: 'quote', fast: 400, slow: 1000, qty: 0.001 },
};
const KEY_ENV = { BOT4_CCXT_API_KEY: API_KEY, BOT4_CCXT_SECRET: SECRET };
/** The local server serves spot only and has no wallet (sapi) routes: ccxt's binance loads spot markets only. */
const LOCAL_OPTIONS = { fetchMarkets: { types: ['spot'] }, fetchCurrencies: false, fetchMargins: false };

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function server(): Promise<ExchangeServer> {
  const srv = await startExchangeServer({
    accounts: [{ apiKey: API_KEY, apiSecret: SECRET }],
    log: () => {},
  });
  cleanups.push(() => srv.close());
  return srv;
}

function nodeConfig(srv: ExchangeServer, extra: Record<string, unknown> = {}) {
  return {
    venue: {
      kind: 'ccxt',
      exchange: 'binance',
      restUrl: srv.url,
      wsUrl: srv.wsUrl,
      options: LOCAL_OPTIONS,
    },
    instruments: ['BTCUSDT'],
    strategies: [{ name: STRATEGY }],
    statusIntervalSec: 0.5,
    ...extra,
  };
}

/** The venue's account (REST, signed): asset -> free + locked. */
async function venueTotals(srv: ExchangeServer): Promise<Map<string, string>> {
  const r = await rest(srv.url, 'GET', '/api/v3/account', {}, { apiKey: API_KEY, secret: SECRET });
  expect(r.status).toBe(200);
  const out = new Map<string, string>();
  for (const b of r.body.balances as { asset: string; free: string; locked: string }[])
    out.set(b.asset, addDecimals(b.free, b.locked));
  return out;
}

/** The venue's trades of the key on BTCUSDT (REST): count and net base quantity bought. */
async function venueTrades(srv: ExchangeServer): Promise<{ count: number; net: number }> {
  const r = await rest(
    srv.url,
    'GET',
    '/api/v3/myTrades',
    { symbol: 'BTCUSDT' },
    { apiKey: API_KEY, secret: SECRET },
  );
  expect(r.status).toBe(200);
  const list = r.body as { qty: string; isBuyer: boolean }[];
  const net = list.reduce((s, t) => s + (t.isBuyer ? 1 : -1) * Math.round(Number(t.qty) * 1e5), 0);
  return { count: list.length, net: net / 1e5 };
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? filesUnder(p) : [p];
  });
}

/** `bot4 ...` as a child process (the local server runs in this one, so not spawnSync): output, waits, exit. */
function bot4(args: string[], env: NodeJS.ProcessEnv) {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env,
  });
  const r = { child, out: '', err: '', until, exit };
  child.stdout!.on('data', (d) => {
    r.out += String(d);
  });
  child.stderr!.on('data', (d) => {
    r.err += String(d);
  });
  const exited = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
  cleanups.push(async () => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  const output = () => `bot4 ${args.join(' ')}\nstdout:\n${r.out}\nstderr:\n${r.err}`;
  /** Waits for `cond` while the child runs; fails with its output on timeout or an early exit. */
  async function until(cond: () => boolean, what: string, ms: number): Promise<void> {
    await waitFor(() => cond() || child.exitCode !== null, what, ms).catch((e: Error) => {
      throw new Error(`${e.message}\n${output()}`);
    });
    if (!cond()) throw new Error(`exited (${child.exitCode}) before ${what}\n${output()}`);
  }
  /** The exit code, or a failure with the output after `ms`. */
  function exit(ms: number): Promise<number | null> {
    return Promise.race([
      exited,
      new Promise<never>((_, rej) =>
        setTimeout(() => rej(new Error(`did not exit within ${ms / 1000} s\n${output()}`)), ms),
      ),
    ]);
  }
  return r;
}

describe('live node through ccxt (venue.kind ccxt)', () => {
  it('places, cancels and fills through ccxt; its balances equal the venue account at the end', async () => {
    const srv = await server();
    const before = await venueTotals(srv);
    const lines: string[] = [];
    const node = await TradingNode.start({
      mode: NodeMode.LIVE,
      config: NodeConfigSchema.parse(nodeConfig(srv)),
      print: (l) => lines.push(l),
      env: KEY_ENV,
    });
    cleanups.push(() => node.stop());
    expect(node.ccxtOrders).toBeDefined();
    expect(
      lines.some((l) =>
        /^ccxt binance .*book watchOrderBook, quotes watchBidsAsks, trades watchTrades/.test(l),
      ),
    ).toBe(true);
    expect(lines.some((l) => /reconcile: .*locked funds agree/.test(l))).toBe(true);
    const k = node.kernel;
    const c = node.counters;
    // Every order event with its reason, for the failure message.
    const events: string[] = [];
    k.bus.subscribe(k.engine.orderEvents, (ev) => {
      const o = k.cache.order(ev.orderId);
      const why = o === undefined || o.lastReason === 0 ? '' : ` ${k.risk.reasonText(o.lastReason, o)}`;
      events.push(`#${ev.orderId} ${orderEventName(ev.kind)}${why}`);
    });
    await waitFor(
      () => c.submitted === 3 && c.canceled === 1 && c.fills >= 2 && k.cache.openCount() === 0,
      '3 orders sent, 1 cancelled, both market orders filled',
      20_000,
    ).catch((e: Error) => {
      throw new Error(`${e.message}: ${node.status()}\norder events: ${events.join(', ')}`);
    });
    // Every fill the venue booked reached the node, and the node's books equal the venue's account.
    await waitFor(
      () => k.portfolio.netQty(k.traded[0]!.id) === 100,
      'the position to be 0.001 BTC (100 lots)',
      5_000,
    );
    const trades = await venueTrades(srv);
    expect(trades.net).toBeCloseTo(0.001, 8);
    expect(c.fills).toBe(trades.count);
    const after = await venueTotals(srv);
    for (const code of ['BTC', 'USDT']) {
      const ccy = currencies.getOrCreate(code);
      expect({ code, node: k.portfolio.balance(ccy.id) }).toEqual({
        code,
        node: moneyFromDecimal(after.get(code)!, ccy),
      });
    }
    expect(after.get('BTC')).not.toBe(before.get('BTC'));
    const summary = await node.stop();
    expect(summary[0]).toMatch(/^summary: \[live \d+s\] pos BTCUSDT 0\.001 .* \| ack \d+\.\d ms$/);
    expect(summary.join('\n')).toMatch(/orders: 3 submitted, \d+ fills, 1 canceled, 0 rejected/);
    const all = [...lines, ...summary].join('\n');
    expect(all).not.toContain(SECRET);
    expect(all).not.toContain(API_KEY);
  }, 40_000);

  it('bot4 live --config (kind ccxt): fills arrive, Ctrl-C prints the summary, the keys are in no output or session file', async () => {
    const srv = await server();
    const dir = mkdtempSync(join(tmpdir(), 'bot4-ccxt-live-'));
    const cfgFile = join(dir, 'live-ccxt.json');
    writeFileSync(cfgFile, JSON.stringify(nodeConfig(srv)));
    const catalog = join(dir, 'catalog');
    const run = bot4(['live', '--config', cfgFile, '--catalog', catalog], {
      ...envWithoutBot4(),
      ...KEY_ENV,
    });
    await run.until(
      () => /orders 3 sent 0 open ([2-9]|\d\d+) fills/.test(run.out),
      'a status line with 3 orders sent, none open and the fills',
      40_000,
    );
    run.child.kill('SIGINT');
    const code = await run.exit(20_000);
    const { out, err } = run;
    expect(code, `stdout:\n${out}\nstderr:\n${err}`).toBe(0);
    expect(out).toMatch(/stopping\.\.\.\nsummary: \[live \d+s\] pos BTCUSDT 0\.001 /);
    const fills = Number(/orders: 3 submitted, (\d+) fills, 1 canceled/.exec(out)?.[1]);
    // The venue's own record (REST) of the key's trades: as many as the node took, net 0.001 BTC bought.
    const trades = await venueTrades(srv);
    expect(fills).toBe(trades.count);
    expect(trades.net).toBeCloseTo(0.001, 8);
    expect(out).toMatch(/session \S+ recording to /);
    const files = filesUnder(join(catalog, 'sessions'));
    expect(files.length).toBeGreaterThan(0);
    for (const text of [out, err, ...files.map((f) => readFileSync(f, 'latin1'))]) {
      expect(text).not.toContain(SECRET);
      expect(text).not.toContain(API_KEY);
    }
  }, 90_000);
});

describe('live node through ccxt: restart with open orders', () => {
  async function withOpenOrder(): Promise<ExchangeServer> {
    const srv = await server();
    const r = await rest(
      srv.url,
      'POST',
      '/api/v3/order',
      {
        symbol: 'BTCUSDT',
        side: 'BUY',
        type: 'LIMIT',
        timeInForce: 'GTC',
        quantity: '0.01000',
        price: '1000.00',
        newClientOrderId: 'prev-1',
      },
      { apiKey: API_KEY, secret: SECRET },
    );
    expect(r.status).toBe(200);
    return srv;
  }

  it('adopts the open order from fetchOpenOrders, checks the locked funds from fetchBalance, cancels it through ccxt', async () => {
    const srv = await withOpenOrder();
    const lines: string[] = [];
    const node = await TradingNode.start({
      mode: NodeMode.LIVE,
      config: NodeConfigSchema.parse(nodeConfig(srv, { unknownOrders: 'adopt', strategies: [QUIET] })),
      print: (l) => lines.push(l),
      env: KEY_ENV,
    });
    cleanups.push(() => node.stop());
    expect(node.reconciliation).toMatchObject({ openAtVenue: 1, adopted: 1 });
    expect(lines).toContain('reconcile: adopted open order prev-1 (BTCUSDT BUY 0.01 @ 1000, filled 0)');
    expect(lines.some((l) => /USDT 99990\+10; 1 open order\(s\) .* locked funds agree/.test(l))).toBe(true);
    const k = node.kernel;
    const [id] = k.cache.allOpenOrderIds();
    const order = k.cache.order(id!)!;
    expect(order.clientOrderId).toBe('prev-1');
    expect(k.engine.cancel(order.id)).toBe(true);
    await waitFor(() => k.cache.openCount() === 0, 'the adopted order to cancel through ccxt', 10_000);
    const open = await rest(
      srv.url,
      'GET',
      '/api/v3/openOrders',
      { symbol: 'BTCUSDT' },
      { apiKey: API_KEY, secret: SECRET },
    );
    expect(open.body).toEqual([]);
  }, 30_000);

  it("halts naming the order when unknownOrders is 'halt'", async () => {
    const srv = await withOpenOrder();
    await expect(
      TradingNode.start({
        mode: NodeMode.LIVE,
        config: NodeConfigSchema.parse(nodeConfig(srv, { unknownOrders: 'halt' })),
        print: () => {},
        env: KEY_ENV,
      }),
    ).rejects.toThrow(/1 open order\(s\) at the venue that this node did not place: prev-1 .*trading halted/);
  }, 30_000);
});

describe('paper node with ccxt market data', () => {
  it('streams book, quotes and trades through ccxt; the simulated exchange fills', async () => {
    const srv = await server();
    const lines: string[] = [];
    // No keys: paper needs only public market data.
    const node = await TradingNode.start({
      mode: NodeMode.PAPER,
      config: NodeConfigSchema.parse(nodeConfig(srv)),
      print: (l) => lines.push(l),
      env: {},
    });
    cleanups.push(() => node.stop());
    expect(lines.some((l) => /orders simulated/.test(l))).toBe(true);
    const c = node.counters;
    await waitFor(
      () => c.submitted === 3 && c.canceled === 1 && c.fills >= 2,
      "the test strategy's 3 orders, 1 cancel and 2 fills in the simulator",
      20_000,
    );
    const btc = node.kernel.traded[0]!;
    expect(node.md.inSync(btc.id)).toBe(true);
    expect(node.md.stats.quotes).toBeGreaterThan(0);
    expect(node.md.stats.depthEvents).toBeGreaterThan(0);
    expect(node.md.stats.badValue + node.md.stats.crossed).toBe(0);
    expect(node.kernel.portfolio.netQty(btc.id)).toBe(100);
    const summary = await node.stop();
    expect(summary[0]).toMatch(/^summary: \[paper \d+s\] pos BTCUSDT 0\.001 /);
  }, 40_000);
});

describe('bot4 paper --config (kind ccxt) records its session', () => {
  it('stops after durationSec with the summary; --replay-session reproduces every order', async () => {
    const srv = await server();
    const dir = mkdtempSync(join(tmpdir(), 'bot4-ccxt-paper-'));
    const cfgFile = join(dir, 'paper-ccxt.json');
    writeFileSync(cfgFile, JSON.stringify(nodeConfig(srv, { durationSec: 6, statusIntervalSec: 2 })));
    const catalog = join(dir, 'catalog');
    const paper = bot4(['paper', '--config', cfgFile, '--catalog', catalog], envWithoutBot4());
    expect(await paper.exit(60_000), paper.out + paper.err).toBe(0);
    expect(paper.out).toMatch(/stopping\.\.\.\nsummary: \[paper \d+s\] pos BTCUSDT 0\.001 /);
    expect(paper.out).toMatch(/orders: 3 submitted, \d+ fills, 1 canceled, 0 rejected/);
    const id = /session (\S+) recording to /.exec(paper.out)?.[1];
    expect(id, paper.out).toBeDefined();
    const replay = bot4(
      ['backtest', '--replay-session', id!, '--catalog', catalog, '--out', join(dir, 'replay')],
      envWithoutBot4(),
    );
    expect(await replay.exit(60_000), replay.out + replay.err).toBe(0);
    expect(replay.out).toContain('no divergence: the backtest reproduced every order of the session');
  }, 150_000);
});

describe('ccxt market data without watch* (polled)', () => {
  it('polls fetchOrderBook and fetchTrades, quotes from the book top', async () => {
    const srv = await server();
    const ex = await localCcxt(srv, API_KEY, SECRET);
    await ex.loadMarkets();
    for (const w of ['watchOrderBook', 'watchTrades', 'watchBidsAsks', 'watchTicker']) ex.has[w] = false;
    const registry = newInstrumentRegistry();
    for (const s of ccxtSpecs(ex, ['BTCUSDT'], 'BINANCE')) registry.add(s);
    const btc = registry.find('BTCUSDT', 'BINANCE')!;
    let quotes = 0;
    let trades = 0;
    let crossed = 0;
    const tradeIds: number[] = [];
    const md = new CcxtMarketData({
      exchange: ex,
      instruments: [btc],
      symbolOf: () => 'BTC/USDT',
      sink: {
        onQuote: (q) => {
          quotes++;
          if (q.bidPx >= q.askPx) crossed++;
        },
        onTrade: (t) => {
          trades++;
          tradeIds.push(t.tradeId);
        },
        onBook: () => {},
      },
      clock: new LiveClock(),
      pollMs: 100,
    });
    cleanups.push(() => md.stop());
    expect(md.plan).toEqual({ book: 'fetchOrderBook', quotes: 'book', trades: 'fetchTrades' });
    await md.start();
    await waitFor(
      () => md.stats.snapshots >= 3 && trades > 0,
      'three polled books and a polled trade',
      15_000,
    );
    expect(md.inSync(btc.id)).toBe(true);
    expect(quotes).toBe(md.stats.snapshots);
    expect(crossed).toBe(0);
    // A trade polled twice is passed on once.
    expect(new Set(tradeIds).size).toBe(tradeIds.length);
    expect(md.stats.badValue).toBe(0);
  }, 30_000);
});

describe('ccxt market data when the connection drops', () => {
  it('marks the book out of sync, resubscribes and re-syncs; no crossed book is passed on', async () => {
    const srv = await server();
    const ex = await localCcxt(srv, API_KEY, SECRET);
    await ex.loadMarkets();
    const registry = newInstrumentRegistry();
    for (const s of ccxtSpecs(ex, ['BTCUSDT'], 'BINANCE')) registry.add(s);
    const btc = registry.find('BTCUSDT', 'BINANCE')!;
    let books = 0;
    let crossed = 0;
    const events: string[] = [];
    const md = new CcxtMarketData({
      exchange: ex,
      instruments: [btc],
      symbolOf: () => 'BTC/USDT',
      sink: {
        onQuote: () => {},
        onTrade: () => {},
        onBook: (_id, book) => {
          books++;
          if (book.crossed()) crossed++;
        },
      },
      clock: new LiveClock(),
      pollMs: 1_000,
      onEvent: (e) => events.push(`${e.kind} ${e.symbol}`),
    });
    cleanups.push(() => md.stop());
    await md.start();
    await waitFor(() => books >= 5, 'five streamed books', 10_000);
    expect(srv.faults.drop()).toBeGreaterThan(0);
    await waitFor(() => md.stats.resyncs >= 1, 'the dropped connection to be noticed', 10_000);
    const after = books;
    await waitFor(
      () => md.inSync(btc.id) && books >= after + 5 && md.supervisor.state === 'open',
      'the book back in sync and streaming after the drop',
      15_000,
    );
    expect(md.supervisor.reconnects).toBeGreaterThanOrEqual(1);
    expect(events).toContain('resync BTCUSDT');
    expect(events.filter((e) => e === 'in-sync BTCUSDT').length).toBeGreaterThanOrEqual(2);
    expect(crossed).toBe(0);
  }, 40_000);
});

describe('ccxt instruments and config', () => {
  it('venue.urls points any exchange elsewhere (here binance at the local server, no restUrl)', async () => {
    const srv = await server();
    const cfg = nodeConfig(srv);
    const venue = {
      kind: 'ccxt',
      exchange: 'binance',
      options: LOCAL_OPTIONS,
      urls: {
        api: {
          public: `${srv.url}/api/v3`,
          private: `${srv.url}/api/v3`,
          v1: `${srv.url}/api/v1`,
          ws: { spot: `${srv.wsUrl}/ws` },
        },
      },
    };
    const node = await TradingNode.start({
      mode: NodeMode.PAPER,
      config: NodeConfigSchema.parse({ ...cfg, venue, strategies: [QUIET] }),
      print: () => {},
      env: {},
    });
    cleanups.push(() => node.stop());
    await waitFor(
      () => node.md.stats.quotes >= 3,
      'three quotes from the local server over venue.urls',
      10_000,
    );
    expect(node.kernel.traded[0]!.symbol).toBe('BTCUSDT');
  }, 30_000);

  it('reads ccxt keys from venue.keyFile or BOT4_CCXT_*; a half-given key is an error', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bot4-ccxt-keys-'));
    const good = join(dir, 'keys.json');
    writeFileSync(good, JSON.stringify({ apiKey: 'A', apiSecret: 'B', password: 'C' }));
    expect(loadCcxtKeys({}, good)).toEqual({ apiKey: 'A', secret: 'B', password: 'C' });
    const half = join(dir, 'half.json');
    writeFileSync(half, JSON.stringify({ apiKey: 'A' }));
    expect(() => loadCcxtKeys({}, half)).toThrow(/needs "apiKey" and "apiSecret"/);
    expect(loadCcxtKeys(KEY_ENV, undefined)).toEqual({ apiKey: API_KEY, secret: SECRET });
    expect(loadCcxtKeys({}, undefined)).toBeUndefined();
    expect(() => loadCcxtKeys({ BOT4_CCXT_API_KEY: 'A' }, undefined)).toThrow(
      /BOT4_CCXT_API_KEY is set but BOT4_CCXT_SECRET is not/,
    );
  });

  it('maps loadMarkets precision and limits onto the same instrument exchangeInfo gives', async () => {
    const srv = await server();
    const ex = await localCcxt(srv, API_KEY, SECRET);
    cleanups.push(() => ex.close());
    await ex.loadMarkets();
    const [fromCcxt] = ccxtSpecs(ex, ['BTC/USDT'], 'BINANCE');
    const info = await (
      await fetch(`${srv.url}/api/v3/exchangeInfo`, { signal: AbortSignal.timeout(10_000) })
    ).json();
    const native = binanceSpotSpecs(info, { venue: 'BINANCE' }).specs.find((s) => s.symbol === 'BTCUSDT')!;
    const reg = newInstrumentRegistry();
    const a = reg.add(fromCcxt!);
    const b = newInstrumentRegistry().add(native);
    expect(a.symbol).toBe('BTCUSDT');
    expect([a.tickSize, a.lotSize, a.minQty, a.maxQty, a.minNotional]).toEqual([
      b.tickSize,
      b.lotSize,
      b.minQty,
      b.maxQty,
      b.minNotional,
    ]);
    expect(() => ccxtSpecs(ex, ['DOGEUSDT'], 'BINANCE')).toThrow(
      /config 'instruments': DOGEUSDT is not a market of ccxt binance/,
    );
  }, 30_000);

  it('names the bad key: kind ccxt without exchange, ccxt keys with kind binance, an unknown exchange, live without keys', async () => {
    const base = { instruments: ['BTCUSDT'], strategies: [{ name: STRATEGY }] };
    const r1 = NodeConfigSchema.safeParse({ ...base, venue: { kind: 'ccxt' } });
    expect(r1.success).toBe(false);
    expect(r1.error!.issues[0]!.path).toEqual(['venue', 'exchange']);
    const r2 = NodeConfigSchema.safeParse({ ...base, venue: { exchange: 'kraken' } });
    expect(r2.error!.issues[0]!.path).toEqual(['venue', 'exchange']);
    expect(r2.error!.issues[0]!.message).toMatch(/only for venue.kind 'ccxt'/);
    const r3 = NodeConfigSchema.safeParse({
      ...base,
      venue: { kind: 'ccxt', exchange: 'binance', wsApiUrl: 'ws://127.0.0.1:1/ws-api/v3' },
    });
    expect(r3.error!.issues[0]!.path).toEqual(['venue', 'wsApiUrl']);
    const bad = NodeConfigSchema.parse({ ...base, venue: { kind: 'ccxt', exchange: 'nosuchexchange' } });
    await expect(
      TradingNode.start({ mode: NodeMode.PAPER, config: bad, print: () => {}, env: {} }),
    ).rejects.toThrow(/config 'venue.exchange': 'nosuchexchange' is not a ccxt exchange id/);
    const srv = await server();
    const noKeys = NodeConfigSchema.parse(nodeConfig(srv));
    await expect(
      TradingNode.start({ mode: NodeMode.LIVE, config: noKeys, print: () => {}, env: {} }),
    ).rejects.toThrow(/live trading through ccxt needs API keys: set BOT4_CCXT_API_KEY and BOT4_CCXT_SECRET/);
  }, 30_000);
});
