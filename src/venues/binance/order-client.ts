// The native Binance spot VenueClient: orders over the WebSocket API (order.place / order.cancel /
// order.cancelReplace) with signed REST as the fallback while the socket is down, and the account's
// executionReport events (userDataStream.subscribe on the same socket) mapped to order events. HMAC keys sign
// every request (in place, ws-request.ts); an Ed25519 key logs the connection on (session.logon) and its requests
// then carry no apiKey and no signature, as Binance allows, so the order path skips the signature altogether.
// Place and cancel are written straight into a reused buffer (no params object, no string per order).
// Invariants: one client order id per order for its whole life, so a submit retried after a lost ack can
// never become a second order (after the ack timeout the order is looked up by that id, and re-sent only when
// the venue does not know it; Binance also refuses a duplicate id of an open order). Fills and cancels come only
// from the user stream (a cancel's answer may overtake the fills before it); the engine drops a fill seen
// twice by its trade id. Units: ticks/lots inside, Binance decimals on the wire, micros for event times.
// USD-M futures (a BinanceRest made with market 'usdm'): orders over signed REST (/fapi/v1/order; the futures
// WebSocket API is not used yet), the account's ORDER_TRADE_UPDATE events from the listen-key user stream
// (POST /fapi/v1/listenKey, kept alive every 30 minutes), mapped to the same order events as spot's reports.

import { type Clock, monoMillis, monoNanos, wallMicros } from '../../core/clock.ts';
import type { Micros, OrderId } from '../../core/units.ts';
import { typeMask, type VenueClient, type VenueEventSink } from '../../execution/venue.ts';
import { currencies, moneyFromDecimal } from '../../model/currency.ts';
import { decimalToStepsRounded, Rounding, stepsToDecimal } from '../../model/decimal.ts';
import { OrderEvent } from '../../model/events.ts';
import { type Instrument, LiquiditySide } from '../../model/instrument.ts';
import { hasPrice, type Order, OrderFlags, OrderSide, OrderType, TimeInForce } from '../../model/order.ts';
import { OrderEventKind } from '../../model/order-state.ts';
import { HdrHistogram } from '../../monitoring/latency.ts';
import { GovernorVerdict, type RateLimitSpec } from './rate-governor.ts';
import { BinanceApiError, type BinanceRest } from './rest.ts';
import { type BinanceCredentials, KeyKind, type ParamValue } from './signing.ts';
import { WsRequestWriter } from './ws-request.ts';
import { type ConnectionEvent, WsSupervisor, type WsSupervisorOptions } from './ws-supervisor.ts';

export interface BinanceOrderClientOptions {
  name: string;
  /** WebSocket API endpoint, e.g. wss://ws-api.binance.com:443/ws-api/v3 or ws://127.0.0.1:<port>/ws-api/v3. */
  wsApiUrl: string;
  /** USD-M: the user-stream base (wss://fstream.binance.com, ws://127.0.0.1:<port>/fstream); + /ws/<listenKey>. */
  userStreamUrl?: string;
  rest: BinanceRest;
  credentials: BinanceCredentials;
  instruments: readonly Instrument[];
  clock: Clock;
  /** No answer (nor user-stream report) within this long: look the order up by client id (default 2000 ms). */
  ackTimeoutMs?: number;
  /** Sends of one order at most (first + re-sends after look-ups found nothing); default 3. */
  maxAttempts?: number;
  /** Client order ids are <prefix><order id> when the order has none (default "b4" + start time, base 36). */
  clientIdPrefix?: string;
  /** Closed orders kept findable by client id (late reports, cancels of a just-closed order); default 4096. */
  retainClosed?: number;
  onConnection?: (e: ConnectionEvent) => void;
  /** Anomalies worth a log line: unknown client ids, unreadable frames, look-ups. */
  onNote?: (text: string) => void;
  connection?: Partial<Omit<WsSupervisorOptions, 'name' | 'url' | 'onMessage' | 'onOpen' | 'onEvent'>>;
}

/** What the client remembers of one order until it is closed (and for `retainClosed` closed orders after). */
class Tracked {
  orderId = 0 as OrderId;
  coid = '';
  inst: Instrument | undefined = undefined;
  /** Set by the first of: place answer, NEW report, look-up. */
  accepted = false;
  closed = false;
  /** The place request has an answer (or a report): no ack timeout. */
  answered = false;
  sentAtMs = 0;
  attempts = 0;
  lookingUp = false;
  /** cancelReplace in flight: the new client id, and the new venue quantity and price (ticks). */
  replaceCoid = '';
  replaceQty = 0;
  replacePx = Number.NaN;
  /** The order the venue knows (changes with a replace). */
  venueCoid = '';
  order: Order | undefined = undefined;
}

/** A request waiting for its answer (pooled: one per order request would be an allocation per order). */
class Pending {
  kind: 'place' | 'cancel' | 'replace' | 'subscribe' | 'logon' = 'place';
  t: Tracked | undefined = undefined;
  sentMs = 0;
  /** Monotonic send time, ns (ack latency); 0 when not measured. */
  sentNs = 0;
}

export class BinanceOrderClient implements VenueClient {
  readonly name: string;
  readonly nativeTypes = typeMask(OrderType.MARKET, OrderType.LIMIT);
  sink: VenueEventSink | undefined = undefined;
  readonly supervisor: WsSupervisor;
  /** Counters for status lines and tests. */
  readonly stats = {
    placed: 0,
    restFallbacks: 0,
    lookups: 0,
    resent: 0,
    adoptedAfterLookup: 0,
    reports: 0,
    unknownReports: 0,
    badFrames: 0,
    timeResyncs: 0,
    /** Fills read back over REST after a reconnect (the engine drops those it already had). */
    recovered: 0,
  };
  /** Ack round trips of order.place, ms (last), and all of them in ns. */
  lastAckMs = Number.NaN;
  readonly ackNanos = new HdrHistogram();
  /** When the last request sent on the socket was signed, and when its write returned, monotonic ns. */
  signedNanos = 0;
  sentNanos = 0;
  /** True once the user stream is subscribed on the current connection. */
  userStreamReady = false;
  /** Why the last subscription was refused ('' when it was not). */
  subscribeError = '';

  private readonly o: BinanceOrderClientOptions;
  private readonly bySymbol = new Map<string, Instrument>();
  private readonly byId: (Instrument | undefined)[] = [];
  private readonly byOrder: (Tracked | undefined)[] = [];
  private readonly byCoid = new Map<string, Tracked>();
  /**
   * The last `retainClosed` closed orders, a ring: they stay findable (a late report or a cancel of a just-closed
   * order still finds its order), older ones are forgotten; without this a node's maps grow with every order it
   * ever placed.
   */
  private readonly closedRing: (Tracked | undefined)[];
  private closedAt = 0;
  /** By request id (the id is sent as its decimal text). */
  private readonly pending = new Map<number, Pending>();
  private readonly pendingPool: Pending[] = [];
  /** The request being written (one at a time: the engine thread's). */
  private readonly writer = new WsRequestWriter();
  /** The connection is logged on (session.logon, Ed25519 keys): requests go unsigned, without apiKey. */
  private session = false;
  private readonly adoptions = new Map<string, string>();
  /** One record per nesting level: a handler of a delivered event may cause another delivery. */
  private readonly events: OrderEvent[] = Array.from({ length: 8 }, () => new OrderEvent());
  private depth = 0;
  private readonly prefix: string;
  /** The made-up order's client id for `warm` (as long as a real one). */
  private readonly warmCoid: string;
  private nextReq = 1;
  private timer: NodeJS.Timeout | undefined = undefined;
  /** USD-M: orders over REST, events from the listen-key stream. */
  private readonly usdm: boolean;
  private listenKey = '';
  private keepAlive: NodeJS.Timeout | undefined = undefined;

  constructor(o: BinanceOrderClientOptions) {
    this.o = o;
    this.name = o.name;
    for (const i of o.instruments) {
      this.bySymbol.set(i.symbol, i);
      this.byId[i.id] = i;
    }
    this.prefix = o.clientIdPrefix ?? `b4${Math.floor(wallMicros() / 1000).toString(36)}-`;
    this.warmCoid = `${this.prefix}1000`;
    this.usdm = o.rest.market === 'usdm';
    this.closedRing = new Array<Tracked | undefined>(Math.max(1, o.retainClosed ?? 4_096)).fill(undefined);
    const streamBase = (o.userStreamUrl ?? '').replace(/\/+$/, '');
    this.supervisor = new WsSupervisor({
      ...o.connection,
      name: this.usdm ? `${o.name}-user-stream` : `${o.name}-ws-api`,
      url: () => (this.usdm ? `${streamBase}/ws/${this.listenKey}` : o.wsApiUrl),
      onMessage: (text) => this.onFrame(text),
      onOpen: () => this.onOpen(),
      ...(o.onConnection === undefined ? {} : { onEvent: o.onConnection }),
    });
  }

  /** Measures the server time, connects and subscribes to the account's events. */
  async start(): Promise<void> {
    await this.o.rest.syncTime();
    if (this.usdm) {
      if (this.o.userStreamUrl === undefined) throw new Error(`${this.name}: USD-M needs userStreamUrl`);
      await this.renewListenKey();
      // Binance drops a key not kept alive for 60 minutes.
      this.keepAlive = setInterval(() => {
        this.o.rest.keyed('PUT', this.o.rest.paths.listenKey, 1).catch((e: unknown) => {
          this.o.onNote?.(`${this.name}: listen key keepalive failed: ${(e as Error).message}`);
        });
      }, 30 * 60_000);
      this.keepAlive.unref();
    }
    await this.supervisor.start();
    const t0 = monoMillis();
    while (!this.userStreamReady) {
      if (monoMillis() - t0 > 10_000)
        throw new Error(`${this.name}: the user data stream did not subscribe in 10 s`);
      await new Promise((r) => setTimeout(r, 5));
    }
    this.timer = setInterval(() => this.checkTimeouts(), Math.max(10, (this.o.ackTimeoutMs ?? 2_000) / 4));
  }

  async stop(): Promise<void> {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    if (this.keepAlive !== undefined) clearInterval(this.keepAlive);
    this.keepAlive = undefined;
    await this.supervisor.stop();
  }

  /** USD-M: a listen key for the user stream (the live one when the account has it). */
  private async renewListenKey(): Promise<void> {
    const r = (await this.o.rest.keyed('POST', this.o.rest.paths.listenKey, 1)) as { listenKey: string };
    this.listenKey = r.listenKey;
  }

  /** Orders the client can still find by client id: the open ones and the last `retainClosed` closed. */
  get trackedOrders(): number {
    return this.byCoid.size;
  }

  /** The client order id the venue knows an order by (for reconciliation and tests). */
  clientIdOf(orderId: number): string {
    return this.byOrder[orderId]?.coid ?? '';
  }

  /**
   * Reconciliation: the next submit of an order with client id `coid` takes over the venue's open order of
   * that id (ACCEPTED with `venueOrderId`, nothing sent) instead of placing a new one.
   */
  expectAdoption(coid: string, venueOrderId: string): void {
    this.adoptions.set(coid, venueOrderId);
  }

  // ---- VenueClient ------------------------------------------------------------------------------------------

  submit(order: Order, asType: OrderType): void {
    const t = this.track(order);
    const inst = t.inst;
    if (inst === undefined) {
      this.emit(
        t,
        OrderEventKind.REJECTED,
        this.o.clock.now(),
        '',
        `no instrument ${order.instrumentId} at ${this.name}`,
      );
      return;
    }
    const adopted = this.adoptions.get(t.coid);
    if (adopted !== undefined) {
      this.adoptions.delete(t.coid);
      t.accepted = t.answered = true;
      this.emit(t, OrderEventKind.ACCEPTED, this.o.clock.now(), adopted, '');
      return;
    }
    this.stats.placed++;
    this.sendPlace(t, asType);
  }

  modify(order: Order, qty: number, price: number, _triggerPrice: number): void {
    const t = this.byOrder[order.id];
    if (t === undefined || t.closed || t.inst === undefined) return;
    if (this.usdm) {
      this.emit(
        t,
        OrderEventKind.MODIFY_REJECTED,
        this.o.clock.now(),
        '',
        'modify is not supported on USD-M yet',
      );
      return;
    }
    const newQty = qty > 0 ? qty : order.qty;
    const newPx = hasPrice(price) ? price : order.price;
    t.replaceCoid = `${t.coid}.${order.eventCount}`.slice(-36);
    t.replaceQty = newQty - order.filledQty;
    t.replacePx = newPx;
    this.byCoid.set(t.replaceCoid, t);
    const p: Record<string, ParamValue | undefined> = {
      symbol: t.inst.symbol,
      cancelReplaceMode: 'STOP_ON_FAILURE',
      cancelOrigClientOrderId: t.venueCoid,
      newClientOrderId: t.replaceCoid,
      side: order.side === OrderSide.BUY ? 'BUY' : 'SELL',
      type: 'LIMIT',
      timeInForce: 'GTC',
      quantity: stepsToDecimal(t.replaceQty, t.inst.lotSize),
      price: stepsToDecimal(newPx, t.inst.tickSize),
    };
    this.request(
      'order.cancelReplace',
      p,
      this.pend('replace', t, monoMillis(), 0),
      '/api/v3/order/cancelReplace',
    );
  }

  cancel(order: Order): void {
    const t = this.byOrder[order.id];
    if (t === undefined || t.inst === undefined) return;
    if (t.closed) {
      this.emit(t, OrderEventKind.CANCEL_REJECTED, this.o.clock.now(), '', 'order is already closed');
      return;
    }
    const pend = this.pend('cancel', t, monoMillis(), 0);
    if (!this.admit(pend)) return;
    const rest = this.o.rest;
    if (this.supervisor.state === 'open' && !this.usdm) {
      // The order path: params written in name order.
      const id = this.nextReq++;
      const w = this.writer.begin(id, 'order.cancel');
      if (!this.session) w.text('apiKey', this.o.credentials.apiKey);
      w.text('origClientOrderId', t.venueCoid)
        .int('recvWindow', rest.recvWindowMs)
        .text('symbol', t.inst.symbol)
        .int('timestamp', rest.venueNow());
      if (this.sendWs(id, pend)) return;
    }
    this.viaRest(pend, 'DELETE', rest.paths.order, { symbol: t.inst.symbol, origClientOrderId: t.venueCoid });
  }

  // ---- sending ----------------------------------------------------------------------------------------------

  private track(order: Order): Tracked {
    let t = this.byOrder[order.id];
    if (t === undefined) {
      t = new Tracked();
      t.orderId = order.id;
      t.order = order;
      t.coid = order.clientOrderId !== '' ? order.clientOrderId : `${this.prefix}${order.id}`;
      t.venueCoid = t.coid;
      t.inst = this.byId[order.instrumentId];
      while (this.byOrder.length <= order.id) this.byOrder.push(undefined);
      this.byOrder[order.id] = t;
      this.byCoid.set(t.coid, t);
    }
    return t;
  }

  private sendPlace(t: Tracked, asType: OrderType): void {
    const order = t.order!;
    const inst = t.inst!;
    t.attempts++;
    t.sentAtMs = monoMillis();
    t.answered = false;
    const limit = asType === OrderType.LIMIT;
    const postOnly = (order.flags & OrderFlags.POST_ONLY) !== 0;
    // Post-only: spot's LIMIT_MAKER type, USD-M's GTX time in force.
    const type = limit ? (postOnly && !this.usdm ? 'LIMIT_MAKER' : 'LIMIT') : 'MARKET';
    const tif = !limit
      ? undefined
      : postOnly
        ? this.usdm
          ? 'GTX'
          : undefined
        : order.tif === TimeInForce.IOC
          ? 'IOC'
          : order.tif === TimeInForce.FOK
            ? 'FOK'
            : 'GTC';
    const side = order.side === OrderSide.BUY ? 'BUY' : 'SELL';
    const pend = this.pend('place', t, t.sentAtMs, monoNanos());
    if (!this.admit(pend)) return;
    const rest = this.o.rest;
    if (this.supervisor.state === 'open' && !this.usdm) {
      const id = this.nextReq++;
      this.writePlace(id, t.coid, inst, limit ? order.price : Number.NaN, order.leavesQty, side, tif, type);
      if (this.sendWs(id, pend)) return;
    }
    this.viaRest(pend, 'POST', rest.paths.order, {
      symbol: inst.symbol,
      side,
      type,
      timeInForce: tif,
      quantity: stepsToDecimal(order.leavesQty, inst.lotSize),
      price: limit ? stepsToDecimal(order.price, inst.tickSize) : undefined,
      reduceOnly: this.usdm && (order.flags & OrderFlags.REDUCE_ONLY) !== 0 ? 'true' : undefined,
      newClientOrderId: t.coid,
      newOrderRespType: 'ACK',
    });
  }

  /** The order path's order.place: params written in name order, decimals straight from ticks and lots. */
  private writePlace(
    id: number,
    coid: string,
    inst: Instrument,
    price: number,
    lots: number,
    side: string,
    tif: string | undefined,
    type: string,
  ): void {
    const w = this.writer.begin(id, 'order.place');
    if (!this.session) w.text('apiKey', this.o.credentials.apiKey);
    w.text('newClientOrderId', coid).text('newOrderRespType', 'ACK');
    if (!Number.isNaN(price)) w.steps('price', price, inst.tickSize);
    w.steps('quantity', lots, inst.lotSize)
      .int('recvWindow', this.o.rest.recvWindowMs)
      .text('side', side)
      .text('symbol', inst.symbol);
    if (tif !== undefined) w.text('timeInForce', tif);
    w.int('timestamp', this.o.rest.venueNow()).text('type', type);
  }

  /**
   * Runs the order path's own code on a made-up limit buy without sending it: the request written, signed (HMAC
   * keys) and masked into a frame, then dropped. The live node calls it while the market is quiet (its
   * keep-warm), so the first order after a pause meets that code and its buffers in the CPU's caches. Nothing
   * leaves the process and nothing the next request depends on changes: no request id, pending entry, order
   * record or rate-limit budget is used, and the writer and the frame buffer are rewritten by every request.
   * Not while a request is being written (the node calls it from a timer, between events).
   */
  warm(): void {
    const inst = this.o.instruments[0];
    if (inst === undefined || this.usdm || this.supervisor.state !== 'open') return;
    this.writePlace(0, this.warmCoid, inst, 1, 1, 'BUY', 'GTC', 'LIMIT');
    this.supervisor.warmFrame(this.session ? this.writer.unsigned() : this.writer.signed(this.o.credentials));
  }

  private pend(kind: Pending['kind'], t: Tracked | undefined, sentMs: number, sentNs: number): Pending {
    const p = this.pendingPool.pop() ?? new Pending();
    p.kind = kind;
    p.t = t;
    p.sentMs = sentMs;
    p.sentNs = sentNs;
    return p;
  }

  /** Every request passes the governor; one it refuses is never sent (no wait on this path: a refusal). */
  private admit(pend: Pending): boolean {
    const rest = this.o.rest;
    if (rest.governor.check(1, pend.kind !== 'cancel', rest.venueNow()) === GovernorVerdict.GO) return true;
    const text = `rate limit: refused locally for ${rest.governor.waitMs} ms to stay under Binance's limits`;
    this.onAnswer(pend, 400, undefined, -1003, text);
    return false;
  }

  /** Ends the writer's request (signed, or unsigned on a logged-on session) and sends it; false if the socket
   * would not take it. */
  private sendWs(id: number, pend: Pending): boolean {
    const bytes = this.session ? this.writer.unsigned() : this.writer.signed(this.o.credentials);
    this.pending.set(id, pend);
    this.signedNanos = monoNanos();
    if (this.supervisor.sendBytes(bytes)) {
      this.sentNanos = monoNanos();
      return true;
    }
    this.pending.delete(id);
    return false;
  }

  /** A request from a params object (the generic path): over the WebSocket API when open, else over REST. */
  private request(
    method: string,
    params: Record<string, ParamValue | undefined>,
    pend: Pending,
    path: string,
  ): void {
    if (!this.admit(pend)) return;
    const rest = this.o.rest;
    if (this.supervisor.state === 'open' && !this.usdm) {
      const id = this.nextReq++;
      this.writer.params(
        id,
        method,
        params,
        rest.venueNow(),
        rest.recvWindowMs,
        this.session ? '' : this.o.credentials.apiKey,
      );
      if (this.sendWs(id, pend)) return;
    }
    this.viaRest(pend, 'POST', path, params);
  }

  private viaRest(
    pend: Pending,
    httpMethod: 'POST' | 'DELETE',
    path: string,
    params: Record<string, ParamValue | undefined>,
  ): void {
    const rest = this.o.rest;
    if (!this.usdm) this.stats.restFallbacks++;
    rest.signed(httpMethod, path, params, 1, pend.kind !== 'cancel').then(
      (result) => this.onAnswer(pend, 200, result, 0, ''),
      (e: unknown) => {
        const err = e instanceof BinanceApiError ? e : undefined;
        this.onAnswer(pend, err?.status ?? 0, undefined, err?.code ?? 0, (e as Error).message);
      },
    );
  }

  // ---- receiving --------------------------------------------------------------------------------------------

  /**
   * On every open: an Ed25519 key logs the connection on, then subscribes the session's user stream; an HMAC
   * key (Binance allows session.logon for Ed25519 only) subscribes with a signature.
   */
  private onOpen(): void {
    if (this.usdm) {
      // The listen-key stream needs no subscription; what it missed while down is read back over REST.
      this.userStreamReady = true;
      if (this.supervisor.opens > 1) void this.recoverMissed();
      return;
    }
    this.userStreamReady = false;
    this.session = false;
    if (this.o.credentials.kind === KeyKind.ED25519) this.sendSigned('session.logon', 'logon');
    else this.sendSigned('userDataStream.subscribe.signature', 'subscribe');
  }

  /** A signed request without params of its own (logon, subscription). */
  private sendSigned(method: string, kind: Pending['kind']): void {
    const rest = this.o.rest;
    const id = this.nextReq++;
    this.writer.params(id, method, {}, rest.venueNow(), rest.recvWindowMs, this.o.credentials.apiKey);
    this.pending.set(id, this.pend(kind, undefined, monoMillis(), 0));
    this.supervisor.sendBytes(this.writer.signed(this.o.credentials));
  }

  /** After a logon: the session's user stream (no params, no signature). */
  private subscribeSession(): void {
    const id = this.nextReq++;
    this.pending.set(id, this.pend('subscribe', undefined, monoMillis(), 0));
    this.supervisor.sendBytes(this.writer.begin(id, 'userDataStream.subscribe').unsigned());
  }

  private onFrame(text: string): void {
    let msg: {
      id?: string;
      status?: number;
      result?: { orderId?: number };
      error?: { code: number; msg: string };
      rateLimits?: (RateLimitSpec & { count?: number })[];
      event?: Record<string, unknown>;
      e?: string;
    };
    try {
      msg = JSON.parse(text) as typeof msg;
    } catch {
      this.stats.badFrames++;
      this.o.onNote?.(`${this.name}: unreadable frame (${text.length} bytes) counted and skipped`);
      return;
    }
    if (typeof msg !== 'object' || msg === null) {
      this.stats.badFrames++;
      return;
    }
    if (msg.id !== undefined && msg.status !== undefined) {
      const id = Number(msg.id);
      const pend = this.pending.get(id);
      if (pend === undefined) return;
      this.pending.delete(id);
      if (msg.rateLimits !== undefined)
        this.o.rest.governor.onWsRateLimits(msg.rateLimits, this.o.rest.venueNow());
      this.onAnswer(pend, msg.status, msg.result, msg.error?.code ?? 0, msg.error?.msg ?? '');
      pend.t = undefined;
      this.pendingPool.push(pend);
      return;
    }
    const ev = msg.event ?? (msg.e !== undefined ? (msg as Record<string, unknown>) : undefined);
    if (ev === undefined) return;
    if (ev.e === 'executionReport') this.onReport(ev);
    // USD-M: the order's fields sit in `o`, named as in spot's executionReport (c, x, X, i, l, L, n, N, T, t, m).
    else if (ev.e === 'ORDER_TRADE_UPDATE' && typeof ev.o === 'object' && ev.o !== null) {
      this.onReport(ev.o as Record<string, unknown>);
    } else if (ev.e === 'listenKeyExpired' && this.usdm) {
      this.o.onNote?.(`${this.name}: listen key expired; a new one is taken and the stream reconnects`);
      void this.renewListenKey().then(
        () => this.supervisor.drop('listen key renewed'),
        (e: unknown) => this.o.onNote?.(`${this.name}: listen key renewal failed: ${(e as Error).message}`),
      );
    }
  }

  private onAnswer(pend: Pending, status: number, result: unknown, code: number, text: string): void {
    const t = pend.t;
    const now = this.o.clock.now();
    if (pend.kind === 'logon') {
      if (status === 200) {
        this.session = true;
        this.subscribeSession();
      } else {
        // Refused (e.g. the key is not enabled for it): every request keeps its own signature.
        this.o.onNote?.(`${this.name}: session.logon refused (${code} ${text}); requests stay signed`);
        this.sendSigned('userDataStream.subscribe.signature', 'subscribe');
      }
      return;
    }
    if (pend.kind === 'subscribe') {
      if (status === 200) {
        this.userStreamReady = true;
        if (this.supervisor.opens > 1) void this.recoverMissed();
      } else {
        this.subscribeError = `user stream subscription refused: ${code} ${text}`;
        this.o.onNote?.(`${this.name}: ${this.subscribeError}`);
      }
      return;
    }
    if (t === undefined) return;
    if (pend.kind === 'place') {
      t.answered = true;
      if (status === 200) {
        this.lastAckMs = monoMillis() - pend.sentMs;
        if (pend.sentNs !== 0) this.ackNanos.record(monoNanos() - pend.sentNs);
        if (!t.accepted && !t.closed) {
          t.accepted = true;
          const id = (result as { orderId?: number } | undefined)?.orderId;
          this.emit(t, OrderEventKind.ACCEPTED, now, id === undefined ? '' : String(id), '');
        }
      } else if ((code === -2010 || code === -4116) && /duplicate/i.test(text)) {
        // A re-send the venue already has: the first send arrived. Its reports (or the next look-up) settle it.
        t.answered = false;
        t.sentAtMs = monoMillis();
      } else if (status === 0 || status === 429 || status === 418 || status >= 500 || code === -1021) {
        // Unknown outcome (no answer, or refused before matching): the look-up decides.
        t.answered = false;
        if (code === -1021) {
          this.stats.timeResyncs++;
          void this.o.rest.syncTime().catch(() => {});
        }
      } else if (!t.accepted && !t.closed) {
        this.close(t, OrderEventKind.REJECTED, now, `${code} ${text}`);
      }
    } else if (pend.kind === 'cancel') {
      if (status !== 200 && !t.closed)
        this.emit(t, OrderEventKind.CANCEL_REJECTED, now, '', `${code} ${text}`);
    } else if (pend.kind === 'replace') {
      if (status !== 200 && !t.closed) {
        this.byCoid.delete(t.replaceCoid);
        t.replaceCoid = '';
        this.emit(t, OrderEventKind.MODIFY_REJECTED, now, '', `${code} ${text}`);
      }
    }
  }

  private onReport(r: Record<string, unknown>): void {
    this.stats.reports++;
    const x = r.x as string;
    // A cancel's report names the order in C (c is the cancel request's own id).
    const coid = x === 'CANCELED' && typeof r.C === 'string' && r.C !== '' ? r.C : (r.c as string);
    const t = this.byCoid.get(coid);
    if (t === undefined || t.inst === undefined) {
      this.stats.unknownReports++;
      this.o.onNote?.(`${this.name}: executionReport for unknown client order id ${coid} (${x})`);
      return;
    }
    const ts = ((r.T as number) * 1000) as Micros;
    const replacing = t.replaceCoid !== '';
    switch (x) {
      case 'NEW':
        t.answered = true;
        if (replacing && coid === t.replaceCoid) {
          t.venueCoid = coid;
          t.replaceCoid = '';
          const ev = this.begin(t, OrderEventKind.UPDATED, ts);
          ev.setUpdate(t.order!.filledQty + t.replaceQty, t.replacePx, Number.NaN);
          this.deliver(ev);
        } else if (!t.accepted) {
          t.accepted = true;
          this.emit(t, OrderEventKind.ACCEPTED, ts, String(r.i), '');
        }
        break;
      case 'TRADE': {
        t.answered = true;
        if (!t.accepted) t.accepted = true;
        this.fill(
          t,
          ts,
          String(r.i),
          r.l as string,
          r.L as string,
          r.n as string,
          r.N,
          r.m === true,
          String(r.t),
        );
        if (r.X === 'FILLED') this.retire(t);
        break;
      }
      case 'CANCELED':
        // The old order of a replace is cancelled on the way to its successor: not the engine's order's end.
        if (replacing && coid === t.venueCoid) break;
        this.close(t, OrderEventKind.CANCELED, ts, '');
        break;
      case 'REJECTED':
        this.close(t, OrderEventKind.REJECTED, ts, String(r.r));
        break;
      case 'EXPIRED':
      case 'TRADE_PREVENTION':
        this.close(t, OrderEventKind.EXPIRED, ts, String(r.r ?? ''));
        break;
      default:
        break;
    }
  }

  /** Orders without an answer past the timeout: ask the venue by client id, re-send only if it has none. */
  private checkTimeouts(): void {
    const timeout = this.o.ackTimeoutMs ?? 2_000;
    const now = monoMillis();
    for (const t of this.byCoid.values()) {
      if (t.answered || t.accepted || t.closed || t.lookingUp || now - t.sentAtMs < timeout) continue;
      t.lookingUp = true;
      this.stats.lookups++;
      void this.lookUp(t).finally(() => {
        t.lookingUp = false;
      });
    }
  }

  private async lookUp(t: Tracked): Promise<void> {
    const inst = t.inst!;
    try {
      const o = (await this.o.rest.signed(
        'GET',
        this.o.rest.paths.order,
        { symbol: inst.symbol, origClientOrderId: t.coid },
        4,
      )) as {
        orderId: number;
        status: string;
      };
      if (t.accepted || t.closed) return;
      t.answered = true;
      this.stats.adoptedAfterLookup++;
      this.o.onNote?.(`${this.name}: ack of ${t.coid} lost; the venue has it (${o.status}), not re-sent`);
      t.accepted = true;
      this.emit(t, OrderEventKind.ACCEPTED, this.o.clock.now(), String(o.orderId), '');
      // Fills before the look-up arrive on the user stream; a terminal state the stream missed ends it here.
      if (o.status === 'CANCELED' || o.status === 'EXPIRED' || o.status === 'REJECTED') {
        this.close(
          t,
          o.status === 'CANCELED' ? OrderEventKind.CANCELED : OrderEventKind.EXPIRED,
          this.o.clock.now(),
          '',
        );
      }
    } catch (e) {
      if (!(e instanceof BinanceApiError) || e.code !== -2013 || t.accepted || t.closed) return;
      if (t.attempts >= (this.o.maxAttempts ?? 3)) {
        this.close(t, OrderEventKind.REJECTED, this.o.clock.now(), `no answer after ${t.attempts} sends`);
        return;
      }
      this.stats.resent++;
      this.o.onNote?.(
        `${this.name}: ${t.coid} unknown to the venue after a lost ack; re-sent with the same id`,
      );
      this.sendPlace(t, t.order!.type === OrderType.LIMIT ? OrderType.LIMIT : OrderType.MARKET);
    }
  }

  /** One fill, from a report or a myTrades row; the trade id lets the engine drop one delivered twice. */
  private fill(
    t: Tracked,
    ts: number,
    venueOrderId: string,
    qty: string,
    px: string,
    fee: string,
    feeAsset: unknown,
    maker: boolean,
    tradeId: string,
  ): void {
    const inst = t.inst!;
    const ev = this.begin(t, OrderEventKind.FILLED, ts);
    ev.setVenueOrderId(venueOrderId);
    const c = typeof feeAsset === 'string' && feeAsset !== '' ? currencies.getOrCreate(feeAsset) : undefined;
    ev.setFill(
      decimalToStepsRounded(qty, inst.lotSize, Rounding.HALF_EVEN),
      decimalToStepsRounded(px, inst.tickSize, Rounding.HALF_EVEN),
      c === undefined ? 0 : moneyFromDecimal(fee, c),
      c === undefined ? -1 : c.id,
      maker ? LiquiditySide.MAKER : LiquiditySide.TAKER,
      `${inst.symbol}:${tradeId}`,
    );
    this.deliver(ev);
  }

  /**
   * After a reconnect: what the user stream said while the connection was down is gone, so every order still
   * open here is read back over REST (status and its trades); fills the engine already has are dropped by it.
   */
  private async recoverMissed(): Promise<void> {
    const rest = this.o.rest;
    for (const t of new Set(this.byCoid.values())) {
      if (t.closed || t.inst === undefined) continue;
      const symbol = t.inst.symbol;
      try {
        const o = (await rest.signed(
          'GET',
          rest.paths.order,
          { symbol, origClientOrderId: t.venueCoid },
          4,
        )) as {
          orderId: number;
          status: string;
          executedQty: string;
        };
        const now = this.o.clock.now();
        if (!t.accepted && !t.closed) {
          t.accepted = t.answered = true;
          this.emit(t, OrderEventKind.ACCEPTED, now, String(o.orderId), '');
        }
        if (Number(o.executedQty) > 0) {
          const trades = await rest.orderTrades(symbol, o.orderId);
          this.stats.recovered += trades.length;
          for (const tr of trades) {
            if (t.closed) break;
            this.fill(
              t,
              tr.time * 1000,
              String(o.orderId),
              tr.qty,
              tr.price,
              tr.commission,
              tr.commissionAsset,
              tr.isMaker,
              String(tr.id),
            );
          }
        }
        if (o.status === 'FILLED') this.retire(t);
        else if (o.status === 'CANCELED') this.close(t, OrderEventKind.CANCELED, now, '');
        else if (o.status === 'EXPIRED' || o.status === 'EXPIRED_IN_MATCH')
          this.close(t, OrderEventKind.EXPIRED, now, '');
      } catch (e) {
        // Unknown to the venue (-2013): the ack timeout's look-up and re-send settle it.
        this.o.onNote?.(`${this.name}: recovery of ${t.coid} failed: ${(e as Error).message}`);
      }
    }
  }

  // ---- events -----------------------------------------------------------------------------------------------

  private close(t: Tracked, kind: OrderEventKind, ts: number, reason: string): void {
    if (t.closed) return;
    this.retire(t);
    this.emit(t, kind, ts, '', reason);
  }

  /** Marks the order closed and forgets the one closed `retainClosed` orders ago. */
  private retire(t: Tracked): void {
    if (t.closed) return;
    t.closed = true;
    const at = this.closedAt;
    const old = this.closedRing[at];
    this.closedRing[at] = t;
    this.closedAt = at + 1 === this.closedRing.length ? 0 : at + 1;
    if (old === undefined) return;
    this.forget(old.coid, old);
    this.forget(old.venueCoid, old);
    this.forget(old.replaceCoid, old);
    if (this.byOrder[old.orderId] === old) this.byOrder[old.orderId] = undefined;
  }

  private forget(coid: string, t: Tracked): void {
    if (this.byCoid.get(coid) === t) this.byCoid.delete(coid);
  }

  private begin(t: Tracked, kind: OrderEventKind, ts: number): OrderEvent {
    return this.events[this.depth]!.init(kind, t.orderId, 0, ts as Micros, this.o.clock.now());
  }

  private emit(t: Tracked, kind: OrderEventKind, ts: number, venueOrderId: string, reason: string): void {
    const ev = this.begin(t, kind, ts);
    if (venueOrderId !== '') ev.setVenueOrderId(venueOrderId);
    if (reason !== '') ev.setReason(1, reason);
    this.deliver(ev);
  }

  private deliver(ev: OrderEvent): void {
    if (this.sink === undefined) throw new Error(`venue ${this.name} has no event sink`);
    this.depth++;
    try {
      this.sink.onVenueEvent(ev);
    } finally {
      this.depth--;
    }
  }
}
