// Market streams as Binance serves them: raw `/ws/<stream>[/<stream>...]` and combined
// `/stream?streams=a/b` ({"stream","data"} envelopes), SUBSCRIBE / UNSUBSCRIBE / LIST_SUBSCRIPTIONS messages,
// `/ws/<listenKey>` user-data connections, a ping every 20 s (no pong for a minute closes), and the 24-hour
// connection lifetime. Streams: <symbol>@trade, @aggTrade, @bookTicker, @depth[@100ms|@1000ms] diffs whose
// U/u follow the REST snapshot's lastUpdateId, @depth5/10/20[@100ms] partial books, @kline_1m, @ticker.
// Each message is serialised once per stream and written to every subscriber, faults applied per connection.
// A futures hub (USD-M, under /fstream) writes Binance's futures shapes: bookTicker with e/E/T, depthUpdate
// with T and pu (the previous event's u; every change is in some diff, so pu = U - 1 unless a frame is lost).

import type { WebSocket } from 'ws';
import { FaultSet, FrameFault, takeFrameFault } from './faults.ts';
import { wallMs } from './limits.ts';
import type { DepthAccumulator, MarketListener, PublicTrade, SymbolMarket } from './market.ts';
import {
  aggTradeJson,
  bookTicker,
  depthLevels,
  formatPx,
  formatQty,
  klineStream,
  ticker24,
} from './public-data.ts';
import type { Account } from './trading.ts';
import type { UserSink, UserStreams } from './user-stream.ts';

/** A market-stream (or listen-key) WebSocket connection. */
export class StreamConn implements UserSink {
  readonly id: number;
  readonly ws: WebSocket;
  readonly combined: boolean;
  readonly streams = new Set<string>();
  readonly faults = new FaultSet();
  readonly openedAt: number;
  /** The listen key's account for a user-data connection. */
  account: Account | null = null;
  listenKey = '';
  /** Wall ms of the last pong (or of the connection); Binance closes a client silent for a minute. */
  lastPong: number;
  /** Messages written (after faults). */
  sent = 0;
  private readonly hub: StreamHub;

  constructor(id: number, ws: WebSocket, combined: boolean, hub: StreamHub) {
    this.id = id;
    this.ws = ws;
    this.combined = combined;
    this.hub = hub;
    this.openedAt = wallMs();
    this.lastPong = this.openedAt;
  }

  sendUserEvent(json: string): void {
    this.hub.write(this, this.combined ? `{"stream":"${this.listenKey}","data":${json}}` : json, false);
  }
}

const STREAM_RE =
  /^([a-z0-9]+)@(trade|aggTrade|bookTicker|depth(?:5|10|20)?(?:@100ms|@1000ms)?|kline_1m|ticker)$/;
/** A client that answers no ping for this long is disconnected (Binance: one minute). */
const PONG_TIMEOUT_MS = 60_000;
/** Binance closes a connection whose client falls this far behind. */
const MAX_BUFFERED = 16 * 1024 * 1024;

export interface StreamHubOptions {
  markets: Map<string, SymbolMarket>;
  users: UserStreams;
  globalFaults: FaultSet;
  /** Market time, ms (event times E). */
  nowMs: () => number;
  pingIntervalMs?: number;
  /** Connection lifetime; Binance: 24 hours. */
  maxLifetimeMs?: number;
  /** USD-M futures message shapes. */
  futures?: boolean;
}

export class StreamHub implements MarketListener {
  readonly conns = new Map<number, StreamConn>();
  /** Messages written to all connections since start, closed ones included (metrics). */
  sentTotal = 0;
  private readonly subs = new Map<string, Set<StreamConn>>();
  private readonly markets: Map<string, SymbolMarket>;
  private readonly users: UserStreams;
  private readonly global: FaultSet;
  private readonly nowMs: () => number;
  private readonly maxLifetimeMs: number;
  private readonly futures: boolean;
  private readonly timers: NodeJS.Timeout[] = [];
  /** Market-data messages written to sockets (the fan-out bench reads it). */
  messages = 0;

  constructor(o: StreamHubOptions) {
    this.markets = o.markets;
    this.users = o.users;
    this.global = o.globalFaults;
    this.nowMs = o.nowMs;
    this.maxLifetimeMs = o.maxLifetimeMs ?? 86_400_000;
    this.futures = o.futures === true;
    this.users.onKeyClosed = (key) => {
      for (const c of this.conns.values()) if (c.listenKey === key) this.expireKey(c);
    };
    this.timers.push(setInterval(() => this.flushFast(), 100));
    this.timers.push(setInterval(() => this.flushSlow(), 1000));
    this.timers.push(setInterval(() => this.heartbeat(), o.pingIntervalMs ?? 20_000));
    for (const t of this.timers) t.unref();
  }

  /** Takes a new connection (id given by the server) for `path` (/ws..., /stream...) with its query string. */
  accept(ws: WebSocket, path: string, query: URLSearchParams, nowWallMs: number, id: number): void {
    const combined = path === '/stream' || path.startsWith('/stream/');
    const c = new StreamConn(id, ws, combined, this);
    this.conns.set(c.id, c);
    const names = combined ? (query.get('streams') ?? '').split('/') : path.slice(4).split('/'); // after "/ws/"
    for (const name of names) {
      if (name === '') continue;
      const acc = this.users.accountOfKey(name, nowWallMs);
      if (acc !== undefined) {
        c.account = acc;
        c.listenKey = name;
        this.users.attach(acc, c);
      } else if (STREAM_RE.test(name)) this.subscribe(c, name);
    }
    ws.on('pong', () => {
      c.lastPong = wallMs();
    });
    ws.on('message', (data) => this.onMessage(c, String(data)));
    ws.on('close', () => this.remove(c));
    ws.on('error', () => this.remove(c));
  }

  private remove(c: StreamConn): void {
    if (!this.conns.delete(c.id)) return;
    for (const s of c.streams) this.subs.get(s)?.delete(c);
    if (c.account !== null) this.users.detach(c.account, c);
  }

  private subscribe(c: StreamConn, name: string): void {
    c.streams.add(name);
    let s = this.subs.get(name);
    if (s === undefined) {
      s = new Set();
      this.subs.set(name, s);
    }
    s.add(c);
  }

  private onMessage(c: StreamConn, text: string): void {
    let msg: { method?: unknown; params?: unknown; id?: unknown };
    try {
      msg = JSON.parse(text) as typeof msg;
    } catch {
      this.reply(c, { error: { code: 3, msg: 'Invalid JSON: expected value at line 1 column 1' }, id: null });
      return;
    }
    // `null` is valid JSON but no request (found by fuzzing: reading .id threw out of the socket handler).
    if (typeof msg !== 'object' || msg === null) {
      this.reply(c, { error: { code: 2, msg: 'Invalid request: not a JSON object' }, id: null });
      return;
    }
    const id = msg.id ?? null;
    const params = Array.isArray(msg.params) ? (msg.params as unknown[]) : [];
    switch (msg.method) {
      case 'SUBSCRIBE':
      case 'UNSUBSCRIBE': {
        for (const p of params) {
          if (typeof p !== 'string' || !this.validStream(p)) {
            this.reply(c, {
              error: { code: 2, msg: `Invalid request: invalid stream name '${String(p)}'` },
              id,
            });
            return;
          }
        }
        for (const p of params as string[]) {
          if (msg.method === 'SUBSCRIBE') this.subscribe(c, p);
          else {
            c.streams.delete(p);
            this.subs.get(p)?.delete(c);
          }
        }
        this.reply(c, { result: null, id });
        return;
      }
      case 'LIST_SUBSCRIPTIONS':
        this.reply(c, { result: [...c.streams], id });
        return;
      default:
        this.reply(c, { error: { code: 2, msg: `Invalid request: unknown method` }, id });
    }
  }

  private validStream(name: string): boolean {
    const m = STREAM_RE.exec(name);
    return m !== null && this.markets.has(m[1]!.toUpperCase());
  }

  private reply(c: StreamConn, body: unknown): void {
    if (c.ws.readyState === c.ws.OPEN) c.ws.send(JSON.stringify(body));
  }

  /** Writes one frame to a connection, through its fault switches. */
  write(c: StreamConn, text: string, depth: boolean): void {
    const ws = c.ws;
    if (ws.readyState !== ws.OPEN) return;
    if (ws.bufferedAmount > MAX_BUFFERED) {
      ws.terminate();
      return;
    }
    const f = takeFrameFault(c.faults, this.global, depth);
    if (f === FrameFault.DROP_GAP) return;
    let out = text;
    if (f === FrameFault.MALFORMED) out = `{"e":${text.slice(1).replace(/:/g, '=')}`;
    else if (f === FrameFault.TRUNCATED) out = text.slice(0, Math.max(1, text.length >> 1));
    ws.send(out);
    c.sent++;
    this.sentTotal++;
  }

  private publish(name: string, data: string, depth: boolean): void {
    const s = this.subs.get(name);
    if (s === undefined || s.size === 0) return;
    let wrapped = '';
    for (const c of s) {
      if (c.combined) {
        if (wrapped === '') wrapped = `{"stream":"${name}","data":${data}}`;
        this.write(c, wrapped, depth);
      } else this.write(c, data, depth);
      this.messages++;
    }
  }

  private has(name: string): boolean {
    const s = this.subs.get(name);
    return s !== undefined && s.size > 0;
  }

  // ---- MarketListener --------------------------------------------------------------------------------------

  onBookTicker(m: SymbolMarket): void {
    const name = `${m.symbol.toLowerCase()}@bookTicker`;
    if (!this.has(name)) return;
    const t = bookTicker(m);
    const E = this.nowMs();
    const data = JSON.stringify({
      ...(this.futures ? { e: 'bookTicker', u: m.updateId, E, T: E } : {}),
      u: m.updateId,
      s: m.symbol,
      b: t.bidPrice,
      B: t.bidQty,
      a: t.askPrice,
      A: t.askQty,
    });
    this.publish(name, data, false);
  }

  onTrade(m: SymbolMarket, t: PublicTrade): void {
    const lower = m.symbol.toLowerCase();
    const E = this.nowMs();
    if (this.has(`${lower}@trade`)) {
      const data = JSON.stringify({
        e: 'trade',
        E,
        s: m.symbol,
        t: t.id,
        p: formatPx(m, t.px),
        q: formatQty(m, t.qty),
        T: t.time,
        m: t.buyerMaker,
        M: true,
      });
      this.publish(`${lower}@trade`, data, false);
    }
    if (this.has(`${lower}@aggTrade`)) {
      const data = JSON.stringify({ e: 'aggTrade', E, s: m.symbol, ...aggTradeJson(m, t) });
      this.publish(`${lower}@aggTrade`, data, false);
    }
  }

  // ---- timed streams ---------------------------------------------------------------------------------------

  private flushFast(): void {
    for (const m of this.markets.values()) {
      const lower = m.symbol.toLowerCase();
      this.flushDiff(m, m.fast, `${lower}@depth@100ms`);
      for (const n of [5, 10, 20]) this.partial(m, `${lower}@depth${n}@100ms`, n);
    }
  }

  private flushSlow(): void {
    const E = this.nowMs();
    for (const m of this.markets.values()) {
      const lower = m.symbol.toLowerCase();
      const acc = m.slow;
      if (this.has(`${lower}@depth@1000ms`)) {
        // Both names carry the same diff; the accumulator clears after the second.
        const data = this.diffJson(m, acc, E);
        if (data !== '') this.publish(`${lower}@depth@1000ms`, data, true);
      }
      this.flushDiff(m, acc, `${lower}@depth`);
      for (const n of [5, 10, 20]) {
        this.partial(m, `${lower}@depth${n}`, n);
        this.partial(m, `${lower}@depth${n}@1000ms`, n);
      }
      if (this.has(`${lower}@kline_1m`) && m.candles.length > 0) {
        const k = m.candleAt(E, m.lastTrade?.px ?? 0);
        // The minute before the current one closed since the last push: send it once with x=true.
        const closed = m.candles[m.candles.length - 2];
        if (closed !== undefined && closed.openTime > m.lastClosedKline) {
          m.lastClosedKline = closed.openTime;
          const data = JSON.stringify({ e: 'kline', E, s: m.symbol, k: klineStream(m, closed, true) });
          this.publish(`${lower}@kline_1m`, data, false);
        }
        const data = JSON.stringify({ e: 'kline', E, s: m.symbol, k: klineStream(m, k, false) });
        this.publish(`${lower}@kline_1m`, data, false);
      }
      if (this.has(`${lower}@ticker`)) {
        const t = ticker24(m, E);
        const data = JSON.stringify({
          e: '24hrTicker',
          E,
          s: m.symbol,
          p: t.priceChange,
          P: t.priceChangePercent,
          w: t.weightedAvgPrice,
          x: t.prevClosePrice,
          c: t.lastPrice,
          Q: t.lastQty,
          b: t.bidPrice,
          B: t.bidQty,
          a: t.askPrice,
          A: t.askQty,
          o: t.openPrice,
          h: t.highPrice,
          l: t.lowPrice,
          v: t.volume,
          q: t.quoteVolume,
          O: t.openTime,
          C: t.closeTime,
          F: t.firstId,
          L: t.lastId,
          n: t.count,
        });
        this.publish(`${lower}@ticker`, data, false);
      }
    }
  }

  private diffJson(m: SymbolMarket, acc: DepthAccumulator, E: number): string {
    if (acc.first === 0) return '';
    return JSON.stringify({
      e: 'depthUpdate',
      E,
      ...(this.futures ? { T: E } : {}),
      s: m.symbol,
      U: acc.first,
      u: acc.last,
      ...(this.futures ? { pu: acc.first - 1 } : {}),
      b: depthLevels(m, acc.bids),
      a: depthLevels(m, acc.asks),
    });
  }

  private flushDiff(m: SymbolMarket, acc: DepthAccumulator, name: string): void {
    if (acc.first === 0) return;
    if (this.has(name)) this.publish(name, this.diffJson(m, acc, this.nowMs()), true);
    acc.clear();
  }

  private partial(m: SymbolMarket, name: string, n: number): void {
    if (!this.has(name)) return;
    const data = JSON.stringify({
      lastUpdateId: m.updateId,
      bids: m.levels(true, n).map(([p, q]) => [formatPx(m, p), formatQty(m, q)]),
      asks: m.levels(false, n).map(([p, q]) => [formatPx(m, p), formatQty(m, q)]),
    });
    this.publish(name, data, false);
  }

  /** Binance's end of a user-data stream whose key was deleted or not kept alive: an event, then close. */
  private expireKey(c: StreamConn): void {
    if (c.account === null) return;
    this.users.detach(c.account, c);
    const E = wallMs();
    c.sendUserEvent(JSON.stringify({ e: 'listenKeyExpired', E, listenKey: c.listenKey }));
    c.account = null;
    c.ws.close(1000, 'listenKey expired');
  }

  private heartbeat(): void {
    const now = wallMs();
    for (const c of this.conns.values()) {
      if (c.account !== null && this.users.accountOfKey(c.listenKey, now) === undefined) {
        this.expireKey(c);
        continue;
      }
      if (now - c.lastPong > PONG_TIMEOUT_MS) {
        c.ws.terminate();
        continue;
      }
      if (now - c.openedAt >= this.maxLifetimeMs) {
        this.rollover(c);
        continue;
      }
      c.ws.ping();
    }
  }

  /** Binance's 24-hour limit: the server closes the connection (clients reconnect and resubscribe). */
  rollover(c: StreamConn): void {
    c.ws.close(1000, 'Connection exceeded 24 hours');
  }

  /** Drops a connection mid-stream: the TCP connection ends without a close frame. */
  drop(c: StreamConn): void {
    c.ws.terminate();
  }

  close(): void {
    for (const t of this.timers) clearInterval(t);
    for (const c of this.conns.values()) c.ws.terminate();
    this.conns.clear();
  }
}
