// The local exchange server: Bot4's simulated exchange behind Binance's spot REST, market streams, user data
// stream and WebSocket API, and beside it a USD-M futures market (/fapi REST, /fstream streams and futures
// user stream; perpetual instruments of a replay, or the demo's BTCUSDT/ETHUSDT perpetuals), on loopback. startExchangeServer() builds the market (demo generator or a replay),
// the accounts, the HTTP + WebSocket listener and the fault switches, and returns them with close().
// Pace: `speed` 1 or 10 maps wall time onto market time; 'max' runs lockstep (every request first advances the
// market by `stepMs`), so the same client requests on the same seed give the same fills, bit for bit.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import { DEMO_START, demoMarket } from '../../backtest/demo-market.ts';
import { TestClock } from '../../core/clock.ts';
import type { Micros } from '../../core/units.ts';
import { Merge } from '../../data/replay.ts';
import {
  type Instrument,
  InstrumentKind,
  type InstrumentRegistry,
  newInstrumentRegistry,
} from '../../model/instrument.ts';
import type { EventBatch } from '../../model/market-data.ts';
import { SimulatedExchange } from '../sim/exchange.ts';
import { FaultSet, type FaultSpec } from './faults.ts';
import { type BatchSourceLike, MarketFeed } from './feed.ts';
import { type LimitOptions, RateLimits, wallMs } from './limits.ts';
import { SymbolMarket } from './market.ts';
import { ServerCounters } from './metrics.ts';
import { handleRest } from './rest.ts';
import { StreamHub } from './streams.ts';
import { Trading } from './trading.ts';
import { UserStreams } from './user-stream.ts';
import { WsApi } from './ws-api.ts';

export interface ServerAccount {
  apiKey: string;
  /** HMAC-SHA256 secret (omit for an Ed25519 key). */
  apiSecret?: string;
  /** PEM public key of an Ed25519 API key. */
  ed25519PublicKey?: string;
  /** Starting balances by asset; default 1 BTC, 10 ETH, 100000 USDT. */
  balances?: Record<string, number>;
  /** USD-M futures wallet, USDT; default 100000. */
  usdmWallet?: number;
}

export interface ExchangeServerOptions {
  /** TCP port on 127.0.0.1; 0 (default) picks a free one. */
  port?: number;
  /** Market source: the seeded demo generator (default) or a replay with the registry its loaders fill. */
  data?: { source: BatchSourceLike; instruments: InstrumentRegistry };
  /** Serve the demo's USD-M perpetuals too (default true; a replay serves the perpetuals it holds). */
  usdm?: boolean;
  /** Seed of the demo market and of the simulator's random models. Default 42. */
  seed?: number;
  /** 1 (real time), 10, or 'max' (lockstep: each request advances the market by stepMs). Default 1. */
  speed?: number | 'max';
  stepMs?: number;
  /** Demo market history generated before the server opens (klines, trades, 24-hour ticker). Default 10 min. */
  warmupMs?: number;
  accounts?: ServerAccount[];
  /** Enables /admin/* for loopback callers sending X-Admin-Token: this value. */
  adminToken?: string;
  limits?: LimitOptions;
  pingIntervalMs?: number;
  /** Where internal errors go (default stderr); never given secrets. */
  log?: (line: string) => void;
}

/** Spot pairs of the demo market: Binance's own filters, sizes scaled so the book looks like Binance's. */
const DEMO_PAIRS = [
  {
    symbol: 'BTCUSDT',
    base: 'BTC',
    tick: '0.01',
    lot: '0.00001',
    maxQty: '9000',
    mktMax: '100',
    px: 6_000_000,
    scale: 1000,
    spacing: 120,
  },
  {
    symbol: 'ETHUSDT',
    base: 'ETH',
    tick: '0.01',
    lot: '0.0001',
    maxQty: '9000',
    mktMax: '1000',
    px: 300_000,
    scale: 1000,
    spacing: 6,
  },
] as const;

/** USD-M perpetuals of the demo market: Binance's own filters (tick 0.10 / 0.01, step 0.001). */
const DEMO_PERPS = [
  {
    symbol: 'BTCUSDT',
    base: 'BTC',
    tick: '0.10',
    lot: '0.001',
    maxQty: '1000',
    mktMax: '120',
    px: 600_000,
    scale: 10,
    spacing: 12,
  },
  {
    symbol: 'ETHUSDT',
    base: 'ETH',
    tick: '0.01',
    lot: '0.001',
    maxQty: '10000',
    mktMax: '2000',
    px: 300_000,
    scale: 100,
    spacing: 6,
  },
] as const;

/** What rest.ts and ws-api.ts need from the server. */
export interface ServerCore {
  readonly markets: Map<string, SymbolMarket>;
  /** USD-M futures markets by symbol, and their listen keys. */
  readonly usdmMarkets: Map<string, SymbolMarket>;
  readonly usdmUsers: UserStreams;
  readonly trading: Trading;
  readonly users: UserStreams;
  readonly limits: RateLimits;
  readonly faults: FaultSet;
  /** Server clock (wall + skew), ms. */
  serverMs(): number;
  /** Market time, ms. */
  marketMs(): number;
  /** Lockstep pace: advances the market one step before a request is served. */
  beforeRequest(): Promise<void>;
  log(line: string): void;
}

export interface ConnectionInfo {
  id: number;
  kind: 'stream' | 'ws-api';
  streams: string[];
  sent: number;
  /** A user-data stream is attached (listen key, or userDataStream.subscribe on the WebSocket API). */
  userData: boolean;
}

export interface FaultControls {
  readonly global: FaultSet;
  /** Sets switches globally or on one WebSocket connection (by id from connections()). */
  set(spec: FaultSpec, connectionId?: number): void;
  clear(): void;
  connections(): ConnectionInfo[];
  /** Cuts connections without a close frame (all market-stream connections when no id). */
  drop(connectionId?: number): number;
  /** Closes connections as Binance's 24-hour limit does (all market-stream connections when no id). */
  rollover(connectionId?: number): number;
}

export interface ExchangeServer {
  readonly port: number;
  readonly url: string;
  readonly wsUrl: string;
  readonly faults: FaultControls;
  readonly trading: Trading;
  readonly feed: MarketFeed;
  readonly markets: Map<string, SymbolMarket>;
  readonly streams: StreamHub;
  /** The USD-M markets and their streams (/fstream/ws, /fstream/stream). */
  readonly usdmMarkets: Map<string, SymbolMarket>;
  readonly usdmStreams: StreamHub;
  /** Requests, weight, connections and messages for /metrics (counters.register(registry)). */
  readonly counters: ServerCounters;
  /** Moves the market forward by ms of market time (any speed; lockstep tests use it between requests). */
  advance(ms: number): Promise<void>;
  close(): Promise<void>;
}

export const DEFAULT_BALANCES: Readonly<Record<string, number>> = { BTC: 1, ETH: 10, USDT: 100_000 };

/** The demo's instruments with their start price, size scale and level spacing (spot, then perpetuals). */
function demoInstruments(usdm: boolean): {
  list: Instrument[];
  shape: { px: number; scale: number; spacing: number }[];
} {
  const registry = newInstrumentRegistry();
  // Spot and perpetuals differ only in venue, kind and fees.
  const add = (
    p: (typeof DEMO_PAIRS)[number] | (typeof DEMO_PERPS)[number],
    venue: string,
    kind: InstrumentKind,
    makerFee: string,
    takerFee: string,
  ): Instrument =>
    registry.add({
      symbol: p.symbol,
      venue,
      kind,
      base: p.base,
      quote: 'USDT',
      settlement: 'USDT',
      tickSize: p.tick,
      lotSize: p.lot,
      minQty: p.lot,
      maxQty: p.maxQty,
      marketMinQty: p.lot,
      marketMaxQty: p.mktMax,
      minPrice: p.tick,
      maxPrice: '1000000',
      minNotional: '5',
      makerFee,
      takerFee,
    });
  const spot = DEMO_PAIRS.map((p) => add(p, 'BINANCE', InstrumentKind.SPOT, '0.001', '0.001'));
  const perps = (usdm ? DEMO_PERPS : []).map((p) =>
    add(p, 'BINANCE_USDM', InstrumentKind.PERPETUAL, '0.0002', '0.0005'),
  );
  return { list: [...spot, ...perps], shape: [...DEMO_PAIRS, ...(usdm ? DEMO_PERPS : [])] };
}

async function* demoSource(
  list: Instrument[],
  startPx: readonly number[],
  seed: number,
  start: number,
): AsyncGenerator<EventBatch> {
  const month = 30 * 86_400_000_000;
  const sources = list.map((inst, k) => {
    const gen = demoMarket(inst.id, {
      seed: seed + k,
      start,
      duration: month,
      startPx: startPx[k]!,
      batchSize: 4096,
    });
    return (async function* () {
      yield* gen;
    })();
  });
  yield* new Merge(sources, { batchSize: 4096 });
}

function isLoopback(addr: string | undefined): boolean {
  return addr === '127.0.0.1' || addr === '::1' || addr === '::ffff:127.0.0.1';
}

export async function startExchangeServer(opts: ExchangeServerOptions = {}): Promise<ExchangeServer> {
  const seed = opts.seed ?? 42;
  const speed = opts.speed ?? 1;
  if (speed !== 'max' && !(typeof speed === 'number' && speed > 0)) {
    throw new RangeError(`speed must be a number > 0 or 'max' (got ${String(speed)})`);
  }
  const stepMs = opts.stepMs ?? 1000;
  const log = opts.log ?? ((line: string) => process.stderr.write(`exchange: ${line}\n`));
  const warmupMicros = (opts.warmupMs ?? 600_000) * 1000;

  let instruments: Instrument[];
  let source: BatchSourceLike;
  let marketStart: number;
  const scales = new Map<number, [number, number]>();
  if (opts.data === undefined) {
    const demo = demoInstruments(opts.usdm ?? true);
    instruments = demo.list;
    // Lockstep sessions start at a fixed time so timestamps repeat too; real-time ones end their warm-up now.
    marketStart = speed === 'max' ? DEMO_START : wallMs() * 1000 - warmupMicros;
    source = demoSource(
      instruments,
      demo.shape.map((d) => d.px),
      seed,
      marketStart,
    );
    for (let k = 0; k < demo.shape.length; k++) {
      scales.set(instruments[k]!.id, [demo.shape[k]!.scale, demo.shape[k]!.spacing]);
    }
  } else {
    source = opts.data.source;
    instruments = [];
    marketStart = Number.NaN;
  }

  const clock = new TestClock(0 as Micros);
  const markets = new Map<string, SymbolMarket>();
  const usdmMarkets = new Map<string, SymbolMarket>();
  const globalFaults = new FaultSet();
  const limits = new RateLimits(opts.limits);
  const users = new UserStreams();
  const usdmUsers = new UserStreams();
  let feed: MarketFeed | undefined;
  const marketMs = (): number => Math.floor((feed?.now ?? 0) / 1000);
  const hub = new StreamHub({
    markets,
    users,
    globalFaults,
    nowMs: marketMs,
    ...(opts.pingIntervalMs === undefined ? {} : { pingIntervalMs: opts.pingIntervalMs }),
  });
  const usdmHub = new StreamHub({
    markets: usdmMarkets,
    users: usdmUsers,
    globalFaults,
    nowMs: marketMs,
    futures: true,
    ...(opts.pingIntervalMs === undefined ? {} : { pingIntervalMs: opts.pingIntervalMs }),
  });
  const hubOf = (m: SymbolMarket): StreamHub => (m.usdm ? usdmHub : hub);

  // A replay's instruments are known once its first batch is read (loaders register them as they go).
  if (opts.data !== undefined) {
    const it = (source as AsyncIterable<EventBatch>)[Symbol.asyncIterator]?.();
    if (it !== undefined) {
      const first = await it.next();
      if (first.done === true) throw new RangeError('the replay holds no market data');
      const head = first.value;
      marketStart = head.tsEvent[0]!;
      source = (async function* () {
        yield head;
        for (;;) {
          const r = await it.next();
          if (r.done === true) return;
          yield r.value;
        }
      })();
    }
    instruments = [...opts.data.instruments.all()];
  }
  for (const inst of instruments) {
    const [scale, spacing] = scales.get(inst.id) ?? [1, 1];
    const m = new SymbolMarket(inst, scale, spacing);
    (m.usdm ? usdmMarkets : markets).set(inst.symbol, m);
  }
  const allMarkets = [...markets.values(), ...usdmMarkets.values()];
  clock.advanceTo(Math.max(0, marketStart) as Micros);
  const sim = new SimulatedExchange({ name: 'BINANCE-LOCAL', clock, instruments, seed });
  for (const m of allMarkets) sim.useBook(m.inst.id, m.book);
  const trading = new Trading(
    markets,
    sim,
    clock,
    users,
    (m, px, qty, buyerMaker) => {
      const t = m.noteTrade(clock.now(), px, qty, buyerMaker ? 2 : 1);
      hubOf(m).onTrade(m, t);
      return t.id;
    },
    { markets: usdmMarkets, listener: usdmUsers },
  );
  for (const a of opts.accounts ?? []) {
    trading.addAccount(
      a.apiKey,
      a.apiSecret ?? '',
      a.balances ?? DEFAULT_BALANCES,
      a.ed25519PublicKey,
      a.usdmWallet ?? 100_000,
    );
  }
  // Each market's streams go out on its own hub (spot /ws, USD-M /fstream/ws).
  feed = new MarketFeed(source, allMarkets, sim, clock, {
    onBookTicker: (m) => hubOf(m).onBookTicker(m),
    onTrade: (m, t) => hubOf(m).onTrade(m, t),
  });
  const theFeed = feed;
  // History first: the warm-up (demo) is processed before the server answers anyone.
  await theFeed.pumpTo(marketStart + warmupMicros);
  for (const m of allMarkets) m.publishing = true;

  const wallStart = wallMs();
  const marketAtStart = theFeed.now;
  let pacer: NodeJS.Timeout | undefined;
  if (speed !== 'max') {
    pacer = setInterval(() => {
      const target = marketAtStart + (wallMs() - wallStart) * 1000 * speed;
      theFeed.pumpTo(target).catch((e: unknown) => log(`market feed failed: ${String(e)}`));
    }, 20);
  }

  const core: ServerCore = {
    markets,
    usdmMarkets,
    usdmUsers,
    trading,
    users,
    limits,
    faults: globalFaults,
    serverMs: () => wallMs() + globalFaults.clockSkewMs,
    marketMs,
    beforeRequest: () => (speed === 'max' ? theFeed.pumpTo(theFeed.now + stepMs * 1000) : Promise.resolve()),
    log,
  };
  const api = new WsApi(core, opts.pingIntervalMs);
  const usdmApi = new WsApi(core, opts.pingIntervalMs, true);
  const apis = [api, usdmApi];

  const faults: FaultControls = {
    global: globalFaults,
    set(spec, id) {
      if (id === undefined) {
        globalFaults.set(spec);
        if (spec.weightLimit !== undefined) limits.weightPerMinute = spec.weightLimit;
        return;
      }
      const c = hub.conns.get(id) ?? usdmHub.conns.get(id) ?? api.conns.get(id) ?? usdmApi.conns.get(id);
      if (c === undefined) throw new RangeError(`no connection ${id}`);
      c.faults.set(spec);
    },
    clear() {
      globalFaults.clear();
      limits.weightPerMinute = opts.limits?.weightPerMinute ?? 6000;
      for (const c of hub.conns.values()) c.faults.clear();
      for (const c of usdmHub.conns.values()) c.faults.clear();
      for (const a of apis) for (const c of a.conns.values()) c.faults.clear();
    },
    connections() {
      return [
        ...[...hub.conns.values(), ...usdmHub.conns.values()].map((c) => ({
          id: c.id,
          kind: 'stream' as const,
          streams: [...c.streams],
          sent: c.sent,
          userData: c.account !== null,
        })),
        ...[...api.conns.values(), ...usdmApi.conns.values()].map((c) => ({
          id: c.id,
          kind: 'ws-api' as const,
          streams: [],
          sent: 0,
          userData: c.subscribed !== null,
        })),
      ];
    },
    drop(id) {
      return forConns(
        id,
        (c) => hub.drop(c),
        (w) => w.ws.terminate(),
      );
    },
    rollover(id) {
      return forConns(
        id,
        (c) => hub.rollover(c),
        (w) => w.ws.close(1000, 'Connection exceeded 24 hours'),
      );
    },
  };
  function forConns(
    id: number | undefined,
    stream: (c: import('./streams.ts').StreamConn) => void,
    wsapi: (c: import('./ws-api.ts').WsApiConn) => void,
  ): number {
    if (id === undefined) {
      const all = [...hub.conns.values(), ...usdmHub.conns.values()];
      all.forEach(stream);
      return all.length;
    }
    const c = hub.conns.get(id) ?? usdmHub.conns.get(id);
    if (c !== undefined) {
      stream(c);
      return 1;
    }
    const w = api.conns.get(id) ?? usdmApi.conns.get(id);
    if (w !== undefined) {
      wsapi(w);
      return 1;
    }
    return 0;
  }

  const counters = new ServerCounters([hub, usdmHub], api, limits);
  const server: Server = createServer((req, res) => {
    res.once('finish', () => counters.request(req.method, req.url, res.statusCode));
    if ((req.url ?? '').startsWith('/admin/')) {
      void admin(req, res);
      return;
    }
    void handleRest(core, req, res);
  });
  server.keepAliveTimeout = 65_000;
  // Stream and WS-API connections share one id space so faults can name either.
  const wss = new WebSocketServer({ noServer: true, maxPayload: 1 << 20 });
  let nextConnId = 1;
  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = url.pathname;
    const isApi = path === '/ws-api/v3' || path === '/ws-fapi/v1';
    // USD-M streams live under /fstream (Binance's fstream.binance.com host), with the same paths below it.
    const futures = path.startsWith('/fstream/');
    const sub = futures ? path.slice('/fstream'.length) : path;
    if (!isApi && !(sub === '/ws' || sub.startsWith('/ws/') || sub === '/stream')) {
      socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      const id = nextConnId++;
      if (isApi) (path === '/ws-api/v3' ? api : usdmApi).accept(ws, req.socket.remoteAddress ?? '', id);
      else (futures ? usdmHub : hub).accept(ws, sub, url.searchParams, wallMs(), id);
    });
  });

  async function admin(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const reply = (status: number, body: unknown): void => {
      res.statusCode = status;
      res.setHeader('Content-Type', 'application/json');
      res.end(JSON.stringify(body));
    };
    if (opts.adminToken === undefined || !isLoopback(req.socket.remoteAddress)) {
      reply(403, { code: -1002, msg: 'admin endpoint disabled or not on loopback' });
      return;
    }
    if (req.headers['x-admin-token'] !== opts.adminToken) {
      reply(401, { code: -1002, msg: 'bad or missing X-Admin-Token' });
      return;
    }
    let body: Record<string, unknown> = {};
    if (req.method === 'POST') {
      let text = '';
      for await (const chunk of req) text += String(chunk);
      try {
        body = text === '' ? {} : (JSON.parse(text) as Record<string, unknown>);
      } catch {
        reply(400, { code: -1100, msg: 'body is not JSON' });
        return;
      }
    }
    const id = typeof body.connection === 'number' ? body.connection : undefined;
    try {
      switch (`${req.method} ${new URL(req.url ?? '/', 'http://x').pathname}`) {
        case 'GET /admin/connections':
          return reply(200, faults.connections());
        case 'GET /admin/faults':
          return reply(200, globalFaults.snapshot());
        case 'POST /admin/faults':
          faults.set(body as FaultSpec, id);
          return reply(200, { ok: true });
        case 'POST /admin/faults/clear':
          faults.clear();
          return reply(200, { ok: true });
        case 'POST /admin/drop':
          return reply(200, { dropped: faults.drop(id) });
        case 'POST /admin/rollover':
          return reply(200, { closed: faults.rollover(id) });
        default:
          return reply(404, { code: -1000, msg: 'unknown admin route' });
      }
    } catch (e) {
      reply(400, { code: -1100, msg: (e as Error).message });
    }
  }

  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
    });
  } catch (e) {
    // Nothing may keep the process alive after a failed start (a port in use).
    if (pacer !== undefined) clearInterval(pacer);
    hub.close();
    usdmHub.close();
    api.close();
    usdmApi.close();
    throw e;
  }
  const port = (server.address() as AddressInfo).port;

  return {
    port,
    url: `http://127.0.0.1:${port}`,
    wsUrl: `ws://127.0.0.1:${port}`,
    faults,
    trading,
    feed: theFeed,
    markets,
    streams: hub,
    usdmMarkets,
    usdmStreams: usdmHub,
    counters,
    advance: (ms) => theFeed.pumpTo(theFeed.now + ms * 1000),
    async close() {
      if (pacer !== undefined) clearInterval(pacer);
      hub.close();
      usdmHub.close();
      api.close();
      usdmApi.close();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
