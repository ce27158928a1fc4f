// Binance spot REST on node:http: the public market-data routes, the signed account and order routes and the
// listen-key routes, each with Binance's request weight. Every answer carries X-MBX-USED-WEIGHT-1M; errors
// are {"code","msg"} with Binance's HTTP status (400, 401, 404, 418 and 429 with Retry-After). Parameters
// come from the query string and the form body alike; signed routes verify over the exact text received.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { accountOf, checkSignature, checkTimestamp, restPayload } from './auth.ts';
import { ApiError, BinanceCode } from './errors.ts';
import { takeAckFault } from './faults.ts';
import { USDM_ROUTES } from './futures-rest.ts';
import { wallMs } from './limits.ts';
import {
  aggTrades,
  bookTicker,
  depth,
  depthWeight,
  exchangeInfo,
  formatPx,
  intParam,
  klines,
  ticker24,
  trades,
} from './public-data.ts';
import { type Ctx, type Route, Security, send } from './route.ts';
import type { ServerCore } from './server.ts';
import { cancelJson, myTradeJson, orderJson, placeJson } from './spot-json.ts';
import { type Account, fmt8, type Params } from './trading.ts';

const symbolsParam = (c: Ctx): string[] | undefined => {
  const s = c.p.symbols;
  if (s === undefined) return c.p.symbol === undefined ? undefined : [c.p.symbol];
  try {
    const list = JSON.parse(s) as unknown;
    if (Array.isArray(list) && list.every((x) => typeof x === 'string')) return list as string[];
  } catch {}
  throw new ApiError(
    BinanceCode.ILLEGAL_CHARS,
    'Illegal characters found in parameter \'symbols\'; legal range is \'^\\[("[A-Z0-9-_.]{1,20}"(,"[A-Z0-9-_.]{1,20}"){0,}){0,1}\\]$\'.',
  );
};

/** One symbol's document, or all (or the listed) symbols' as an array, as Binance's ticker routes answer. */
function perSymbol(c: Ctx, one: (symbol: string) => unknown): unknown {
  const list = symbolsParam(c);
  if (list !== undefined && c.p.symbols === undefined) return one(list[0]!);
  return (list ?? [...c.core.markets.keys()]).map(one);
}

const SPOT_ROUTES: Record<string, Route> = {
  'GET /api/v3/ping': { security: Security.NONE, weight: 1, handle: () => ({}) },
  'GET /api/v3/time': { security: Security.NONE, weight: 1, handle: (c) => ({ serverTime: c.serverMs }) },
  'GET /api/v3/exchangeInfo': {
    security: Security.NONE,
    weight: 20,
    handle: (c) => {
      const list = symbolsParam(c);
      const ms =
        list === undefined ? [...c.core.markets.values()] : list.map((s) => c.core.trading.market(s));
      return exchangeInfo(ms, c.core.limits, c.serverMs);
    },
  },
  'GET /api/v3/depth': {
    security: Security.NONE,
    weight: (p) => depthWeight(Number(p.limit ?? 100)),
    handle: (c) => depth(c.core.trading.market(c.p.symbol), intParam(c.p, 'limit', 100, 1, 5000)),
  },
  'GET /api/v3/trades': {
    security: Security.NONE,
    weight: 25,
    handle: (c) => trades(c.core.trading.market(c.p.symbol), intParam(c.p, 'limit', 500, 1, 1000)),
  },
  'GET /api/v3/aggTrades': {
    security: Security.NONE,
    weight: 4,
    handle: (c) => aggTrades(c.core.trading.market(c.p.symbol), c.p),
  },
  'GET /api/v3/klines': {
    security: Security.NONE,
    weight: 2,
    handle: (c) => klines(c.core.trading.market(c.p.symbol), c.p),
  },
  'GET /api/v3/ticker/24hr': {
    security: Security.NONE,
    weight: (p) => (p.symbol !== undefined ? 2 : 80),
    handle: (c) => perSymbol(c, (s) => ticker24(c.core.trading.market(s), c.core.marketMs())),
  },
  'GET /api/v3/ticker/bookTicker': {
    security: Security.NONE,
    weight: (p) => (p.symbol !== undefined ? 2 : 4),
    handle: (c) => perSymbol(c, (s) => bookTicker(c.core.trading.market(s))),
  },
  'GET /api/v3/ticker/price': {
    security: Security.NONE,
    weight: (p) => (p.symbol !== undefined ? 2 : 4),
    handle: (c) =>
      perSymbol(c, (s) => {
        const m = c.core.trading.market(s);
        return { symbol: m.symbol, price: formatPx(m, m.lastTrade?.px ?? Number.NaN) };
      }),
  },
  'GET /api/v3/avgPrice': {
    security: Security.NONE,
    weight: 2,
    handle: (c) => {
      const m = c.core.trading.market(c.p.symbol);
      const now = c.core.marketMs();
      const recent = m.trades.filter((t) => t.time > now - 300_000);
      const q = recent.reduce((s, t) => s + t.qty, 0);
      const v = recent.reduce((s, t) => s + t.px * t.qty, 0);
      const avg = q > 0 ? Math.round(v / q) : (m.lastTrade?.px ?? Number.NaN);
      return { mins: 5, price: formatPx(m, avg), closeTime: m.lastTrade?.time ?? now };
    },
  },
  'GET /api/v3/account': {
    security: Security.SIGNED,
    weight: 20,
    handle: (c) => {
      const a = c.account!;
      const balances = [...a.balances.entries()].map(([asset, b]) => ({
        asset,
        free: fmt8(b.free),
        locked: fmt8(b.locked),
      }));
      return {
        makerCommission: 10,
        takerCommission: 10,
        buyerCommission: 0,
        sellerCommission: 0,
        commissionRates: {
          maker: '0.00100000',
          taker: '0.00100000',
          buyer: '0.00000000',
          seller: '0.00000000',
        },
        canTrade: true,
        canWithdraw: false,
        canDeposit: false,
        brokered: false,
        requireSelfTradePrevention: false,
        preventSor: false,
        updateTime: c.core.trading.nowMs(),
        accountType: 'SPOT',
        balances:
          c.p.omitZeroBalances === 'true'
            ? balances.filter((b) => b.free !== '0.00000000' || b.locked !== '0.00000000')
            : balances,
        permissions: ['SPOT'],
        uid: 1,
      };
    },
  },
  'POST /api/v3/order': {
    security: Security.SIGNED,
    weight: 1,
    order: true,
    handle: (c) => {
      const o = c.core.trading.place(c.account!, c.p);
      const body = placeJson(o, c.p.newOrderRespType ?? 'FULL');
      const ack = takeAckFault(null, c.core.faults);
      if (ack === 0) return body;
      // The order rests; only its acknowledgement is late or never comes (the socket is cut).
      if (ack < 0) c.res.destroy();
      else setTimeout(() => send(c.core, c.req, c.res, 200, body), ack).unref();
      return undefined;
    },
  },
  'POST /api/v3/order/cancelReplace': {
    security: Security.SIGNED,
    weight: 1,
    order: true,
    handle: (c) => c.core.trading.cancelReplace(c.account!, c.p),
  },
  'POST /api/v3/order/test': {
    security: Security.SIGNED,
    weight: 1,
    handle: (c) => {
      c.core.trading.market(c.p.symbol);
      return {};
    },
  },
  'GET /api/v3/order': {
    security: Security.SIGNED,
    weight: 4,
    handle: (c) => orderJson(c.core.trading.query(c.account!, c.p)),
  },
  'DELETE /api/v3/order': {
    security: Security.SIGNED,
    weight: 1,
    handle: (c) => {
      const o = c.core.trading.cancel(c.account!, c.p);
      return cancelJson(o, c.p.newClientOrderId ?? `cancel${o.orderId}`);
    },
  },
  'GET /api/v3/openOrders': {
    security: Security.SIGNED,
    weight: (p) => (p.symbol !== undefined ? 6 : 80),
    handle: (c) => c.core.trading.openOrders(c.account!, c.p.symbol).map(orderJson),
  },
  'DELETE /api/v3/openOrders': {
    security: Security.SIGNED,
    weight: 1,
    handle: (c) => {
      const open = c.core.trading.openOrders(c.account!, c.core.trading.market(c.p.symbol).symbol);
      return open.map((o) =>
        cancelJson(
          c.core.trading.cancel(c.account!, { symbol: c.p.symbol!, orderId: String(o.orderId) }),
          `cancel${o.orderId}`,
        ),
      );
    },
  },
  'GET /api/v3/rateLimit/order': {
    security: Security.SIGNED,
    weight: 40,
    handle: (c) => c.core.limits.orderCounts(c.account!.apiKey, wallMs()),
  },
  'GET /api/v3/allOrders': {
    security: Security.SIGNED,
    weight: 20,
    handle: (c) => {
      const m = c.core.trading.market(c.p.symbol);
      const limit = intParam(c.p, 'limit', 500, 1, 1000);
      const from = intParam(c.p, 'orderId', 0, 0, Number.MAX_SAFE_INTEGER);
      const start = intParam(c.p, 'startTime', 0, 0, 1e15);
      const end = intParam(c.p, 'endTime', Number.MAX_SAFE_INTEGER, 0, Number.MAX_SAFE_INTEGER);
      return [...c.account!.orders.values()]
        .filter((o) => o.market === m && o.orderId >= from && o.time >= start && o.time <= end)
        .slice(0, limit)
        .map(orderJson);
    },
  },
  'GET /api/v3/myTrades': {
    security: Security.SIGNED,
    weight: 20,
    handle: (c) => {
      const m = c.core.trading.market(c.p.symbol);
      const limit = intParam(c.p, 'limit', 500, 1, 1000);
      const start = intParam(c.p, 'startTime', 0, 0, 1e15);
      const end = intParam(c.p, 'endTime', Number.MAX_SAFE_INTEGER, 0, Number.MAX_SAFE_INTEGER);
      const fromId = intParam(c.p, 'fromId', 0, 0, Number.MAX_SAFE_INTEGER);
      const only = c.p.orderId === undefined ? -1 : intParam(c.p, 'orderId', 0, 0, Number.MAX_SAFE_INTEGER);
      const rows: Record<string, unknown>[] = [];
      for (const o of c.account!.orders.values()) {
        if (o.market !== m || (only >= 0 && o.orderId !== only)) continue;
        for (const f of o.fills) {
          if (f.time >= start && f.time <= end && f.tradeId >= fromId) rows.push(myTradeJson(o, f));
        }
      }
      rows.sort((a, b) => (a.id as number) - (b.id as number));
      return rows.slice(0, limit);
    },
  },
  'POST /api/v3/userDataStream': {
    security: Security.API_KEY,
    weight: 2,
    handle: (c) => ({ listenKey: c.core.users.create(c.account!, wallMs()) }),
  },
  'PUT /api/v3/userDataStream': {
    security: Security.API_KEY,
    weight: 2,
    handle: (c) => {
      c.core.users.keepAlive(c.account!, c.p.listenKey, wallMs());
      return {};
    },
  },
  'DELETE /api/v3/userDataStream': {
    security: Security.API_KEY,
    weight: 2,
    handle: (c) => {
      c.core.users.close(c.account!, c.p.listenKey, wallMs());
      return {};
    },
  },
};

const ROUTES: Record<string, Route> = { ...SPOT_ROUTES, ...USDM_ROUTES };

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let s = '';
    req.setEncoding('utf8');
    req.on('data', (d: string) => {
      s += d;
      if (s.length > 1 << 20)
        reject(new ApiError(BinanceCode.TOO_MANY_PARAMETERS, 'Too many parameters sent for this endpoint.'));
    });
    req.on('end', () => resolve(s));
    req.on('error', reject);
  });
}

/** Answers one REST request (the admin routes are the server's). */
export async function handleRest(core: ServerCore, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  const query = q < 0 ? '' : url.slice(q + 1);
  const route = ROUTES[`${req.method} ${path}`];
  try {
    if (route === undefined) {
      send(core, req, res, 404, { code: BinanceCode.UNKNOWN, msg: `Unknown endpoint ${req.method} ${path}` });
      return;
    }
    const body = req.method === 'GET' ? '' : await readBody(req);
    const p: Params = {};
    for (const [k, v] of new URLSearchParams(query)) p[k] = v;
    if (body !== '') for (const [k, v] of new URLSearchParams(body)) p[k] = v;
    const ip = req.socket.remoteAddress ?? '';
    const weight = typeof route.weight === 'number' ? route.weight : route.weight(p);
    core.limits.spend(ip, weight, wallMs());
    await core.beforeRequest();
    const serverMs = core.serverMs();
    let account: Account | null = null;
    if (route.security !== Security.NONE) {
      account = accountOf(core.trading.accounts, req.headers['x-mbx-apikey'] as string | undefined);
      if (route.security === Security.SIGNED) {
        checkTimestamp(p, serverMs);
        checkSignature(account, restPayload(query, body), p.signature);
      }
    }
    if (route.order === true) {
      const [n10, nDay] = core.limits.order(account!.apiKey, wallMs());
      res.setHeader('X-MBX-ORDER-COUNT-10S', String(n10));
      res.setHeader('X-MBX-ORDER-COUNT-1D', String(nDay));
    }
    const out = route.handle({ core, p, account, serverMs, req, res });
    if (out !== undefined) send(core, req, res, 200, out);
  } catch (e) {
    if (e instanceof ApiError) send(core, req, res, e.status, e.body(), e.retryAfter);
    else {
      core.log(`internal error on ${req.method} ${path}: ${(e as Error).stack ?? String(e)}`);
      send(core, req, res, 500, {
        code: BinanceCode.UNKNOWN,
        msg: 'An unknown error occurred while processing the request.',
      });
    }
  }
}
