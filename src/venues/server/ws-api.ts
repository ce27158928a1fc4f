// Binance's WebSocket API (`/ws-api/v3`): JSON requests {id, method, params} answered with {id, status,
// result | error, rateLimits}. Signed methods carry apiKey, timestamp and a signature over the params sorted by
// name, or rely on session.logon (Ed25519 keys, as Binance requires). userDataStream.subscribe (after logon) and
// userDataStream.subscribe.signature put the account's events on this connection as {subscriptionId, event}.
// A USD-M instance (`/ws-fapi/v1`) serves the futures subset: ping, time, session.*, order.place, order.cancel
// and order.status on the futures market, answered in the futures order shape (its events stay on the
// listen-key stream, as on Binance).

import type { WebSocket } from 'ws';
import { accountOf, checkSignature, checkTimestamp, wsPayload } from './auth.ts';
import { ApiError, BinanceCode, badApiKey } from './errors.ts';
import { FaultSet, takeAckFault } from './faults.ts';
import { futuresOrderJson } from './futures.ts';
import { wallMs } from './limits.ts';
import { bookTicker, depth, exchangeInfo, intParam, ticker24 } from './public-data.ts';
import type { ServerCore } from './server.ts';
import { cancelJson, orderJson, placeJson } from './spot-json.ts';
import { type Account, fmt8, type Params } from './trading.ts';
import type { UserSink } from './user-stream.ts';

const WEIGHTS: Readonly<Record<string, number>> = {
  ping: 1,
  time: 1,
  exchangeInfo: 20,
  depth: 5,
  'ticker.book': 2,
  'ticker.24hr': 2,
  'session.logon': 2,
  'session.status': 2,
  'session.logout': 2,
  'order.place': 1,
  'order.cancel': 1,
  'order.cancelReplace': 1,
  'order.status': 4,
  'openOrders.status': 6,
  'account.status': 20,
  'userDataStream.subscribe': 2,
  'userDataStream.subscribe.signature': 2,
  'userDataStream.unsubscribe': 2,
};

/** Methods that need an account: a signature on the request or a logged-on session. */
const SIGNED = new Set([
  'order.place',
  'order.cancel',
  'order.cancelReplace',
  'order.status',
  'openOrders.status',
  'account.status',
  'userDataStream.subscribe.signature',
]);

/** Methods of Binance's USD-M WebSocket API that this server serves. */
const USDM_METHODS = new Set([
  'ping',
  'time',
  'session.logon',
  'session.status',
  'session.logout',
  'order.place',
  'order.cancel',
  'order.status',
]);

export class WsApiConn implements UserSink {
  readonly id: number;
  readonly ws: WebSocket;
  readonly faults = new FaultSet();
  session: Account | null = null;
  subscriptionId = -1;
  subscribed: Account | null = null;
  /** Wall ms of the last pong (or of the connection). */
  lastPong = wallMs();

  constructor(id: number, ws: WebSocket) {
    this.id = id;
    this.ws = ws;
  }

  sendUserEvent(json: string): void {
    if (this.ws.readyState === this.ws.OPEN) {
      this.ws.send(`{"subscriptionId":${this.subscriptionId},"event":${json}}`);
    }
  }
}

export class WsApi {
  readonly conns = new Map<number, WsApiConn>();
  private nextSubscription = 0;
  private readonly core: ServerCore;
  /** The USD-M futures WebSocket API (/ws-fapi/v1) rather than spot's. */
  private readonly usdm: boolean;

  private readonly timer: NodeJS.Timeout;

  /** Pings every connection each `pingIntervalMs` (Binance: 20 s); one silent for a minute is dropped. */
  constructor(core: ServerCore, pingIntervalMs = 20_000, usdm = false) {
    this.core = core;
    this.usdm = usdm;
    this.timer = setInterval(() => {
      const now = wallMs();
      for (const c of this.conns.values()) {
        if (now - c.lastPong > 60_000) c.ws.terminate();
        else c.ws.ping();
      }
    }, pingIntervalMs);
    this.timer.unref();
  }

  accept(ws: WebSocket, ip: string, id: number): void {
    const c = new WsApiConn(id, ws);
    this.conns.set(c.id, c);
    ws.on('message', (data) => {
      void this.onMessage(c, String(data), ip);
    });
    ws.on('pong', () => {
      c.lastPong = wallMs();
    });
    const gone = (): void => {
      this.conns.delete(c.id);
      if (c.subscribed !== null) this.core.users.detach(c.subscribed, c);
    };
    ws.on('close', gone);
    ws.on('error', gone);
  }

  private rateLimits(ip: string): unknown[] {
    return [
      {
        rateLimitType: 'REQUEST_WEIGHT',
        interval: 'MINUTE',
        intervalNum: 1,
        limit: this.core.limits.weightPerMinute,
        count: this.core.limits.used(ip, wallMs()),
      },
    ];
  }

  private reply(c: WsApiConn, id: unknown, status: number, body: object, ip: string): void {
    if (c.ws.readyState !== c.ws.OPEN) return;
    c.ws.send(JSON.stringify({ id, status, ...body, rateLimits: this.rateLimits(ip) }));
  }

  private async onMessage(c: WsApiConn, text: string, ip: string): Promise<void> {
    let msg: { id?: unknown; method?: unknown; params?: unknown };
    try {
      msg = JSON.parse(text) as typeof msg;
    } catch {
      this.reply(c, null, 400, { error: { code: -1000, msg: 'Malformed request: invalid JSON.' } }, ip);
      return;
    }
    // `null` is valid JSON but no request (found by fuzzing: reading .id threw outside the handler's catch).
    if (typeof msg !== 'object' || msg === null) {
      this.reply(c, null, 400, { error: { code: -1000, msg: 'Malformed request: not a JSON object.' } }, ip);
      return;
    }
    const id = msg.id ?? null;
    try {
      const method = typeof msg.method === 'string' ? msg.method : '';
      const weight = WEIGHTS[method];
      if (weight === undefined || (this.usdm && !USDM_METHODS.has(method))) {
        throw new ApiError(BinanceCode.UNKNOWN_PARAM, `Unknown method '${method}'.`);
      }
      const raw = (msg.params ?? {}) as Record<string, unknown>;
      const p: Params = {};
      for (const [k, v] of Object.entries(raw)) p[k] = String(v);
      this.core.limits.spend(ip, weight, wallMs());
      await this.core.beforeRequest();
      const result = this.call(c, method, raw, p);
      if (method === 'order.place') {
        const ack = takeAckFault(c.faults, this.core.faults);
        if (ack < 0) return; // lost: the order rests, no response ever comes
        if (ack > 0) {
          setTimeout(() => this.reply(c, id, 200, { result }, ip), ack).unref();
          return;
        }
      }
      this.reply(c, id, 200, { result }, ip);
    } catch (e) {
      if (e instanceof ApiError) {
        const body: Record<string, unknown> = { error: e.body() };
        if (e.retryAfter > 0)
          (body.error as Record<string, unknown>).data = { retryAfter: wallMs() + e.retryAfter * 1000 };
        this.reply(c, id, e.status === 401 ? 401 : e.status, body, ip);
      } else {
        this.core.log(`internal error in WebSocket API: ${(e as Error).stack ?? String(e)}`);
        this.reply(
          c,
          id,
          500,
          { error: { code: -1000, msg: 'An unknown error occurred while processing the request.' } },
          ip,
        );
      }
    }
  }

  /** The account a request acts for: its own signature, else the logged-on session. */
  private signedAccount(c: WsApiConn, raw: Record<string, unknown>, p: Params): Account {
    checkTimestamp(p, this.core.serverMs());
    if (p.signature === undefined && c.session !== null) {
      if (p.apiKey !== undefined && p.apiKey !== c.session.apiKey) throw badApiKey();
      return c.session;
    }
    const acc = accountOf(this.core.trading.accounts, p.apiKey);
    checkSignature(acc, wsPayload(raw), p.signature);
    return acc;
  }

  private call(c: WsApiConn, method: string, raw: Record<string, unknown>, p: Params): unknown {
    const core = this.core;
    const acc = SIGNED.has(method) ? this.signedAccount(c, raw, p) : null;
    switch (method) {
      case 'ping':
        return {};
      case 'time':
        return { serverTime: core.serverMs() };
      case 'exchangeInfo':
        return exchangeInfo([...core.markets.values()], core.limits, core.serverMs());
      case 'depth':
        return depth(core.trading.market(p.symbol), intParam(p, 'limit', 100, 1, 5000));
      case 'ticker.book':
        return bookTicker(core.trading.market(p.symbol));
      case 'ticker.24hr':
        return ticker24(core.trading.market(p.symbol), core.marketMs());
      case 'session.logon': {
        const a = accountOf(core.trading.accounts, p.apiKey);
        if (a.ed25519PublicKey === undefined) {
          throw new ApiError(
            BinanceCode.UNAUTHORIZED,
            'Only Ed25519 API keys are supported for session.logon.',
            401,
          );
        }
        checkTimestamp(p, core.serverMs());
        checkSignature(a, wsPayload(raw), p.signature);
        c.session = a;
        return this.sessionStatus(c);
      }
      case 'session.status':
        return this.sessionStatus(c);
      case 'session.logout':
        c.session = null;
        return this.sessionStatus(c);
      case 'order.place': {
        core.limits.order(acc!.apiKey, wallMs());
        const o = core.trading.place(acc!, p, this.usdm);
        return this.usdm ? futuresOrderJson(o) : placeJson(o, p.newOrderRespType ?? 'FULL');
      }
      case 'order.cancel': {
        const o = core.trading.cancel(acc!, p, this.usdm);
        return this.usdm ? futuresOrderJson(o) : cancelJson(o, p.newClientOrderId ?? `cancel${o.orderId}`);
      }
      case 'order.cancelReplace':
        core.limits.order(acc!.apiKey, wallMs());
        return core.trading.cancelReplace(acc!, p);
      case 'order.status': {
        const o = core.trading.query(acc!, p, this.usdm);
        return this.usdm ? futuresOrderJson(o) : orderJson(o);
      }
      case 'openOrders.status':
        return core.trading.openOrders(acc!, p.symbol).map(orderJson);
      case 'account.status':
        return {
          canTrade: true,
          accountType: 'SPOT',
          balances: [...acc!.balances.entries()].map(([asset, b]) => ({
            asset,
            free: fmt8(b.free),
            locked: fmt8(b.locked),
          })),
        };
      case 'userDataStream.subscribe':
        if (c.session === null) {
          throw new ApiError(BinanceCode.UNAUTHORIZED, 'Unauthorized: session.logon first.', 401);
        }
        return this.subscribe(c, c.session);
      case 'userDataStream.subscribe.signature':
        return this.subscribe(c, acc!);
      case 'userDataStream.unsubscribe':
        if (c.subscribed !== null) core.users.detach(c.subscribed, c);
        c.subscribed = null;
        return {};
      default:
        throw new ApiError(BinanceCode.UNKNOWN_PARAM, `Unknown method '${method}'.`);
    }
  }

  private subscribe(c: WsApiConn, acc: Account): unknown {
    if (c.subscribed !== null) this.core.users.detach(c.subscribed, c);
    c.subscriptionId = this.nextSubscription++;
    c.subscribed = acc;
    this.core.users.attach(acc, c);
    return { subscriptionId: c.subscriptionId };
  }

  private sessionStatus(c: WsApiConn): unknown {
    const now = wallMs();
    return {
      apiKey: c.session?.apiKey ?? null,
      authorizedSince: c.session === null ? null : now,
      connectedSince: now,
      returnRateLimits: true,
      serverTime: this.core.serverMs(),
      userDataStream: c.subscribed !== null,
    };
  }

  close(): void {
    clearInterval(this.timer);
    for (const c of this.conns.values()) c.ws.terminate();
    this.conns.clear();
  }
}
