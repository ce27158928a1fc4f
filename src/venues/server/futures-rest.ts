// Binance USD-M futures REST (/fapi/v1, v2, v3) on the local exchange: exchangeInfo with the futures fields
// (contractType, marginAsset, MIN_NOTIONAL.notional), depth, time, book ticker and mark price; the signed order
// routes (one-way mode: positionSide BOTH), open orders, cancel-all, userTrades, positionRisk (v2 and v3),
// account (v2, v3), balance, leverage and leverage brackets; and the futures listen key. Orders go through the
// same Trading (and so the same simulated exchange, fault switches and rate limits) as spot; futures.ts holds
// the margin rules and JSON shapes. Weights are Binance's futures weights.

import { ApiError, BinanceCode } from './errors.ts';
import { takeAckFault } from './faults.ts';
import { FuturesCode, futuresOrderJson, futuresTradeJson, markTicks } from './futures.ts';
import { wallMs } from './limits.ts';
import type { SymbolMarket } from './market.ts';
import { aggTrades, bookTicker, formatPx, formatQty, intParam, klines, trades } from './public-data.ts';
import { type Ctx, type Route, Security, send } from './route.ts';
import { fmt8 } from './trading.ts';

const pxText = (m: SymbolMarket, ticks: number): string => m.inst.ticksToPrice(ticks, m.inst.pricePrecision);
const qtyText = (m: SymbolMarket, lots: number): string => m.inst.lotsToQty(lots, m.inst.sizePrecision);

/** One symbol of GET /fapi/v1/exchangeInfo. */
function futuresSymbol(m: SymbolMarket): Record<string, unknown> {
  const i = m.inst;
  return {
    symbol: m.symbol,
    pair: m.symbol,
    contractType: 'PERPETUAL',
    deliveryDate: 4133404800000,
    onboardDate: 1569398400000,
    status: 'TRADING',
    maintMarginPercent: '2.5000',
    requiredMarginPercent: '5.0000',
    baseAsset: i.base.code,
    quoteAsset: i.quote.code,
    marginAsset: i.settlement.code,
    pricePrecision: i.pricePrecision,
    quantityPrecision: i.sizePrecision,
    baseAssetPrecision: 8,
    quotePrecision: 8,
    underlyingType: 'COIN',
    underlyingSubType: [],
    settlePlan: 0,
    triggerProtect: '0.0500',
    liquidationFee: '0.012500',
    marketTakeBound: '0.05',
    maxMoveOrderLimit: 10000,
    filters: [
      {
        filterType: 'PRICE_FILTER',
        minPrice: pxText(m, i.minPrice),
        maxPrice: pxText(m, i.maxPrice),
        tickSize: pxText(m, 1),
      },
      {
        filterType: 'LOT_SIZE',
        minQty: qtyText(m, i.minQty),
        maxQty: qtyText(m, i.maxQty),
        stepSize: qtyText(m, 1),
      },
      {
        filterType: 'MARKET_LOT_SIZE',
        minQty: qtyText(m, i.marketMinQty),
        maxQty: qtyText(m, i.marketMaxQty),
        stepSize: qtyText(m, 1),
      },
      { filterType: 'MAX_NUM_ORDERS', limit: 200 },
      { filterType: 'MAX_NUM_ALGO_ORDERS', limit: 10 },
      {
        filterType: 'MIN_NOTIONAL',
        notional: fmt8(i.minNotional * 10 ** (8 - i.settlement.precision)).replace(/\.?0+$/, ''),
      },
      {
        filterType: 'PERCENT_PRICE',
        multiplierUp: '1.0500',
        multiplierDown: '0.9500',
        multiplierDecimal: '4',
      },
    ],
    orderTypes: ['LIMIT', 'MARKET'],
    timeInForce: ['GTC', 'IOC', 'FOK', 'GTX'],
    permissionSets: ['GRID', 'COPY'],
  };
}

const market = (c: Ctx): SymbolMarket => c.core.trading.market(c.p.symbol, true);

/** Futures depth weight by limit (Binance: 5-50 -> 2, 100 -> 5, 500 -> 10, 1000 -> 20). */
const depthWeight = (p: { limit?: string }): number => {
  const n = Number(p.limit ?? 500);
  return n <= 50 ? 2 : n <= 100 ? 5 : n <= 500 ? 10 : 20;
};

/** Positions of one symbol or all (v3 lists only the symbols with a position or open orders). */
const positionRisk =
  (v3: boolean) =>
  (c: Ctx): unknown => {
    if (c.p.symbol !== undefined) market(c);
    return c.core.trading.desk.positionRisk(c.account!, c.p.symbol, v3);
  };

/** The account's live futures listen key: PUT and DELETE name none on USD-M. */
function liveKey(c: Ctx): string {
  const key = c.core.usdmUsers.keyOf(c.account!, wallMs());
  if (key === undefined) throw new ApiError(BinanceCode.INVALID_LISTEN_KEY, 'This listenKey does not exist.');
  return key;
}

export const USDM_ROUTES: Record<string, Route> = {
  'GET /fapi/v1/ping': { security: Security.NONE, weight: 1, handle: () => ({}) },
  'GET /fapi/v1/time': { security: Security.NONE, weight: 1, handle: (c) => ({ serverTime: c.serverMs }) },
  'GET /fapi/v1/exchangeInfo': {
    security: Security.NONE,
    weight: 1,
    handle: (c) => ({
      timezone: 'UTC',
      serverTime: c.serverMs,
      futuresType: 'U_MARGINED',
      rateLimits: c.core.limits.describe(),
      exchangeFilters: [],
      assets: [{ asset: 'USDT', marginAvailable: true, autoAssetExchange: '-10000' }],
      symbols: [...c.core.usdmMarkets.values()].map(futuresSymbol),
    }),
  },
  'GET /fapi/v1/depth': {
    security: Security.NONE,
    weight: depthWeight,
    handle: (c) => {
      const m = market(c);
      const n = intParam(c.p, 'limit', 500, 5, 1000);
      const now = c.core.marketMs();
      return {
        lastUpdateId: m.updateId,
        E: now,
        T: now,
        bids: m.levels(true, n).map(([p, q]) => [formatPx(m, p), formatQty(m, q)]),
        asks: m.levels(false, n).map(([p, q]) => [formatPx(m, p), formatQty(m, q)]),
      };
    },
  },
  'GET /fapi/v1/trades': {
    security: Security.NONE,
    weight: 5,
    handle: (c) => trades(market(c), intParam(c.p, 'limit', 500, 1, 1000)),
  },
  'GET /fapi/v1/aggTrades': { security: Security.NONE, weight: 20, handle: (c) => aggTrades(market(c), c.p) },
  'GET /fapi/v1/klines': { security: Security.NONE, weight: 5, handle: (c) => klines(market(c), c.p) },
  'GET /fapi/v1/ticker/bookTicker': {
    security: Security.NONE,
    weight: (p) => (p.symbol !== undefined ? 2 : 5),
    handle: (c) => {
      const one = (m: SymbolMarket) => ({ ...bookTicker(m), time: c.core.marketMs() });
      return c.p.symbol !== undefined ? one(market(c)) : [...c.core.usdmMarkets.values()].map(one);
    },
  },
  'GET /fapi/v1/premiumIndex': {
    security: Security.NONE,
    weight: 1,
    handle: (c) => {
      const now = c.core.marketMs();
      const one = (m: SymbolMarket) => {
        const mark = markTicks(m);
        const text = Number.isFinite(mark) ? m.inst.ticksToPrice(mark, 8) : '0.00000000';
        return {
          symbol: m.symbol,
          markPrice: text,
          indexPrice: text,
          estimatedSettlePrice: text,
          lastFundingRate: '0.00000000',
          interestRate: '0.00000000',
          nextFundingTime: now - (now % 28_800_000) + 28_800_000,
          time: now,
        };
      };
      return c.p.symbol !== undefined ? one(market(c)) : [...c.core.usdmMarkets.values()].map(one);
    },
  },
  'POST /fapi/v1/order': {
    security: Security.SIGNED,
    weight: 0,
    order: true,
    handle: (c) => {
      const o = c.core.trading.place(c.account!, c.p, true);
      const body = futuresOrderJson(o);
      const ack = takeAckFault(null, c.core.faults);
      if (ack === 0) return body;
      if (ack < 0) c.res.destroy();
      else setTimeout(() => send(c.core, c.req, c.res, 200, body), ack).unref();
      return undefined;
    },
  },
  'GET /fapi/v1/order': {
    security: Security.SIGNED,
    weight: 1,
    handle: (c) => futuresOrderJson(c.core.trading.query(c.account!, c.p, true)),
  },
  'DELETE /fapi/v1/order': {
    security: Security.SIGNED,
    weight: 1,
    handle: (c) => futuresOrderJson(c.core.trading.cancel(c.account!, c.p, true)),
  },
  'GET /fapi/v1/openOrders': {
    security: Security.SIGNED,
    weight: (p) => (p.symbol !== undefined ? 1 : 40),
    handle: (c) => c.core.trading.openOrders(c.account!, c.p.symbol, true).map(futuresOrderJson),
  },
  'DELETE /fapi/v1/allOpenOrders': {
    security: Security.SIGNED,
    weight: 1,
    handle: (c) => {
      const m = market(c);
      for (const o of c.core.trading.openOrders(c.account!, m.symbol, true)) {
        c.core.trading.cancel(c.account!, { symbol: m.symbol, orderId: String(o.orderId) }, true);
      }
      return { code: 200, msg: 'The operation of cancel all open order is done.' };
    },
  },
  'GET /fapi/v1/allOrders': {
    security: Security.SIGNED,
    weight: 5,
    handle: (c) => {
      const m = market(c);
      const limit = intParam(c.p, 'limit', 500, 1, 1000);
      const from = intParam(c.p, 'orderId', 0, 0, Number.MAX_SAFE_INTEGER);
      return [...c.account!.orders.values()]
        .filter((o) => o.market === m && o.orderId >= from)
        .slice(0, limit)
        .map(futuresOrderJson);
    },
  },
  'GET /fapi/v1/userTrades': {
    security: Security.SIGNED,
    weight: 5,
    handle: (c) => {
      const m = market(c);
      const limit = intParam(c.p, 'limit', 500, 1, 1000);
      const start = intParam(c.p, 'startTime', 0, 0, 1e15);
      const fromId = intParam(c.p, 'fromId', 0, 0, Number.MAX_SAFE_INTEGER);
      const only = c.p.orderId === undefined ? -1 : intParam(c.p, 'orderId', 0, 0, Number.MAX_SAFE_INTEGER);
      const rows: Record<string, unknown>[] = [];
      for (const o of c.account!.orders.values()) {
        if (o.market !== m || (only >= 0 && o.orderId !== only)) continue;
        for (const f of o.fills)
          if (f.time >= start && f.tradeId >= fromId) rows.push(futuresTradeJson(o, f));
      }
      rows.sort((a, b) => (a.id as number) - (b.id as number));
      return rows.slice(-limit);
    },
  },
  'GET /fapi/v2/positionRisk': { security: Security.SIGNED, weight: 5, handle: positionRisk(false) },
  'GET /fapi/v3/positionRisk': { security: Security.SIGNED, weight: 5, handle: positionRisk(true) },
  'GET /fapi/v2/account': {
    security: Security.SIGNED,
    weight: 5,
    handle: (c) => c.core.trading.desk.account(c.account!, false),
  },
  'GET /fapi/v3/account': {
    security: Security.SIGNED,
    weight: 5,
    handle: (c) => c.core.trading.desk.account(c.account!, true),
  },
  'GET /fapi/v2/balance': {
    security: Security.SIGNED,
    weight: 5,
    handle: (c) => c.core.trading.desk.balance(c.account!),
  },
  'GET /fapi/v3/balance': {
    security: Security.SIGNED,
    weight: 5,
    handle: (c) => c.core.trading.desk.balance(c.account!),
  },
  'POST /fapi/v1/leverage': {
    security: Security.SIGNED,
    weight: 1,
    handle: (c) => {
      const m = market(c);
      const lev = intParam(c.p, 'leverage', 0, 0, 1_000);
      if (!(lev >= 1 && lev <= 125)) {
        throw new ApiError(FuturesCode.INVALID_LEVERAGE, 'Invalid leverage');
      }
      c.account!.usdm.position(m.symbol).leverage = lev;
      return { leverage: lev, maxNotionalValue: '1000000', symbol: m.symbol };
    },
  },
  'GET /fapi/v1/leverageBracket': {
    security: Security.SIGNED,
    weight: 1,
    handle: (c) =>
      [...c.core.usdmMarkets.values()]
        .filter((m) => c.p.symbol === undefined || m.symbol === c.p.symbol)
        .map((m) => ({
          symbol: m.symbol,
          brackets: [
            {
              bracket: 1,
              initialLeverage: 125,
              notionalCap: 1_000_000,
              notionalFloor: 0,
              maintMarginRatio: 0.004,
              cum: 0,
            },
          ],
        })),
  },
  'GET /fapi/v1/positionSide/dual': {
    security: Security.SIGNED,
    weight: 30,
    handle: () => ({ dualSidePosition: false }),
  },
  'POST /fapi/v1/listenKey': {
    security: Security.API_KEY,
    weight: 1,
    handle: (c) => ({ listenKey: c.core.usdmUsers.create(c.account!, wallMs()) }),
  },
  'PUT /fapi/v1/listenKey': {
    security: Security.API_KEY,
    weight: 1,
    handle: (c) => {
      const key = liveKey(c);
      c.core.usdmUsers.keepAlive(c.account!, key, wallMs());
      return { listenKey: key };
    },
  },
  'DELETE /fapi/v1/listenKey': {
    security: Security.API_KEY,
    weight: 1,
    handle: (c) => {
      c.core.usdmUsers.close(c.account!, liveKey(c), wallMs());
      return {};
    },
  },
};
