// Binance's public market-data documents built from the server's SymbolMarkets: exchangeInfo (with its real
// filters and rate limits), depth snapshots, 24-hour and book tickers, trades, aggTrades and klines, exactly in
// Binance's spot shapes (decimal strings with 8 places, times in ms). Shared by REST and the WebSocket API.

import { ApiError, BinanceCode, illegal } from './errors.ts';
import type { RateLimits } from './limits.ts';
import type { Candle, PublicTrade, SymbolMarket } from './market.ts';
import { fmt8, type Params } from './trading.ts';

const MINUTE = 60_000;
/** Kline intervals served, ms (1M is not: months have no fixed length). */
export const INTERVALS: Readonly<Record<string, number>> = {
  '1m': MINUTE,
  '3m': 3 * MINUTE,
  '5m': 5 * MINUTE,
  '15m': 15 * MINUTE,
  '30m': 30 * MINUTE,
  '1h': 60 * MINUTE,
  '2h': 120 * MINUTE,
  '4h': 240 * MINUTE,
  '6h': 360 * MINUTE,
  '8h': 480 * MINUTE,
  '12h': 720 * MINUTE,
  '1d': 1440 * MINUTE,
};

const px = (m: SymbolMarket, ticks: number): string =>
  Number.isFinite(ticks) ? m.inst.ticksToPrice(ticks, 8) : '0.00000000';
const qty = (m: SymbolMarket, lots: number): string => m.inst.lotsToQty(lots, 8);

export function symbolInfo(m: SymbolMarket): Record<string, unknown> {
  const i = m.inst;
  return {
    symbol: m.symbol,
    status: 'TRADING',
    baseAsset: i.base.code,
    baseAssetPrecision: 8,
    quoteAsset: i.quote.code,
    quotePrecision: 8,
    quoteAssetPrecision: 8,
    baseCommissionPrecision: 8,
    quoteCommissionPrecision: 8,
    orderTypes: ['LIMIT', 'LIMIT_MAKER', 'MARKET'],
    icebergAllowed: false,
    ocoAllowed: false,
    otoAllowed: false,
    quoteOrderQtyMarketAllowed: true,
    allowTrailingStop: false,
    cancelReplaceAllowed: true,
    amendAllowed: false,
    pegInstructionsAllowed: false,
    isSpotTradingAllowed: true,
    isMarginTradingAllowed: false,
    filters: [
      {
        filterType: 'PRICE_FILTER',
        minPrice: px(m, i.minPrice),
        maxPrice: px(m, i.maxPrice),
        tickSize: px(m, 1),
      },
      {
        filterType: 'LOT_SIZE',
        minQty: qty(m, i.minQty),
        maxQty: qty(m, i.maxQty),
        stepSize: qty(m, 1),
      },
      {
        filterType: 'MARKET_LOT_SIZE',
        minQty: qty(m, i.marketMinQty),
        maxQty: qty(m, i.marketMaxQty),
        stepSize: '0.00000000',
      },
      {
        filterType: 'NOTIONAL',
        minNotional: fmt8(i.minNotional * 10 ** (8 - i.settlement.precision)),
        applyMinToMarket: true,
        maxNotional: '9000000.00000000',
        applyMaxToMarket: false,
        avgPriceMins: 5,
      },
      { filterType: 'MAX_NUM_ORDERS', maxNumOrders: 200 },
    ],
    permissions: [],
    permissionSets: [['SPOT']],
    defaultSelfTradePreventionMode: 'EXPIRE_MAKER',
    allowedSelfTradePreventionModes: ['EXPIRE_MAKER'],
  };
}

export function exchangeInfo(
  markets: readonly SymbolMarket[],
  limits: RateLimits,
  serverMs: number,
): Record<string, unknown> {
  return {
    timezone: 'UTC',
    serverTime: serverMs,
    rateLimits: limits.describe(),
    exchangeFilters: [],
    symbols: markets.map(symbolInfo),
  };
}

/** Parses an integer parameter in [lo, hi], `def` when absent. */
export function intParam(p: Params, name: string, def: number, lo: number, hi: number): number {
  const t = p[name];
  if (t === undefined) return def;
  if (!/^-?[0-9]{1,19}$/.test(t)) throw illegal(name, '^[0-9]{1,19}$');
  const v = Number(t);
  if (v < lo || v > hi) {
    throw new ApiError(BinanceCode.INVALID_PARAMETER, `Invalid data sent for a parameter.`);
  }
  return v;
}

/** REST weight of a depth request by its limit (Binance spot). */
export function depthWeight(limit: number): number {
  return limit <= 100 ? 5 : limit <= 500 ? 25 : limit <= 1000 ? 50 : 250;
}

export function depth(m: SymbolMarket, limit: number): Record<string, unknown> {
  return {
    lastUpdateId: m.updateId,
    bids: m.levels(true, limit).map(([p, q]) => [px(m, p), qty(m, q)]),
    asks: m.levels(false, limit).map(([p, q]) => [px(m, p), qty(m, q)]),
  };
}

export function bookTicker(m: SymbolMarket): Record<string, unknown> {
  const b = m.bestBid();
  const a = m.bestAsk();
  return {
    symbol: m.symbol,
    bidPrice: px(m, b),
    bidQty: qty(m, Number.isFinite(b) ? m.book.bestBidQty() : 0),
    askPrice: px(m, a),
    askQty: qty(m, Number.isFinite(a) ? m.book.bestAskQty() : 0),
  };
}

/** The 24-hour rolling window ending at `nowMs` (market time), built from the 1-minute candles. */
export function ticker24(m: SymbolMarket, nowMs: number): Record<string, unknown> {
  const from = nowMs - 86_400_000;
  let open = Number.NaN;
  let high = Number.NaN;
  let low = Number.NaN;
  let vol = 0;
  let quote = 0;
  let count = 0;
  let firstId = -1;
  let lastId = -1;
  let prevClose = Number.NaN;
  for (const c of m.candles) {
    if (c.openTime + MINUTE <= from) {
      prevClose = c.close;
      continue;
    }
    if (c.trades === 0) continue;
    if (Number.isNaN(open)) open = c.open;
    high = Number.isNaN(high) ? c.high : Math.max(high, c.high);
    low = Number.isNaN(low) ? c.low : Math.min(low, c.low);
    vol += c.volume;
    quote += c.quoteVolume;
    count += c.trades;
    if (firstId < 0) firstId = c.firstTradeId;
    lastId = c.lastTradeId;
  }
  const last = m.lastTrade;
  const lastPx = last?.px ?? Number.NaN;
  if (Number.isNaN(open)) open = lastPx;
  const change = Number.isFinite(lastPx) && Number.isFinite(open) ? lastPx - open : 0;
  const pct = Number.isFinite(open) && open > 0 ? ((change / open) * 100).toFixed(3) : '0.000';
  const lotsToUnits = m.baseUnits(1);
  const avg = vol > 0 ? quote / (vol * lotsToUnits) : 0;
  return {
    symbol: m.symbol,
    priceChange: px(m, change),
    priceChangePercent: pct,
    weightedAvgPrice: avg.toFixed(8),
    prevClosePrice: px(m, Number.isNaN(prevClose) ? open : prevClose),
    lastPrice: px(m, lastPx),
    lastQty: qty(m, last?.qty ?? 0),
    ...bookTickerFields(m),
    openPrice: px(m, open),
    highPrice: px(m, Number.isNaN(high) ? lastPx : high),
    lowPrice: px(m, Number.isNaN(low) ? lastPx : low),
    volume: qty(m, vol),
    quoteVolume: fmt8(quote),
    openTime: from,
    closeTime: nowMs,
    firstId,
    lastId,
    count,
  };
}

function bookTickerFields(m: SymbolMarket): Record<string, unknown> {
  const { symbol: _s, ...rest } = bookTicker(m);
  return rest;
}

export function trades(m: SymbolMarket, limit: number): Record<string, unknown>[] {
  return m.trades.slice(-limit).map((t) => tradeJson(m, t));
}

function tradeJson(m: SymbolMarket, t: PublicTrade): Record<string, unknown> {
  return {
    id: t.id,
    price: px(m, t.px),
    qty: qty(m, t.qty),
    quoteQty: fmt8(m.quoteUnits(t.px, t.qty)),
    time: t.time,
    isBuyerMaker: t.buyerMaker,
    isBestMatch: true,
  };
}

export function aggTradeJson(m: SymbolMarket, t: PublicTrade): Record<string, unknown> {
  return { a: t.id, p: px(m, t.px), q: qty(m, t.qty), f: t.id, l: t.id, T: t.time, m: t.buyerMaker, M: true };
}

export function aggTrades(m: SymbolMarket, p: Params): Record<string, unknown>[] {
  const limit = intParam(p, 'limit', 500, 1, 1000);
  const fromId = p.fromId === undefined ? Number.NaN : intParam(p, 'fromId', 0, 0, Number.MAX_SAFE_INTEGER);
  const start = p.startTime === undefined ? Number.NaN : intParam(p, 'startTime', 0, 0, 1e15);
  const end = p.endTime === undefined ? Number.NaN : intParam(p, 'endTime', 0, 0, 1e15);
  let list = m.trades;
  if (!Number.isNaN(fromId)) list = list.filter((t) => t.id >= fromId);
  if (!Number.isNaN(start)) list = list.filter((t) => t.time >= start);
  if (!Number.isNaN(end)) list = list.filter((t) => t.time <= end);
  // With a start (id or time) Binance returns the oldest matches; without, the most recent.
  const pick = Number.isNaN(fromId) && Number.isNaN(start) ? list.slice(-limit) : list.slice(0, limit);
  return pick.map((t) => aggTradeJson(m, t));
}

/** Candles of `interval` aggregated from the 1-minute ones, as Binance's kline arrays. */
export function klines(m: SymbolMarket, p: Params): unknown[][] {
  const iv = p.interval;
  if (iv === undefined || iv === '')
    throw new ApiError(
      BinanceCode.MANDATORY_PARAM_EMPTY_OR_MALFORMED,
      "Mandatory parameter 'interval' was not sent, was empty/null, or malformed.",
    );
  const ms = INTERVALS[iv];
  if (ms === undefined) throw new ApiError(BinanceCode.BAD_INTERVAL, 'Invalid interval.');
  const limit = intParam(p, 'limit', 500, 1, 1000);
  const start = p.startTime === undefined ? Number.NaN : intParam(p, 'startTime', 0, 0, 1e15);
  const end = p.endTime === undefined ? Number.NaN : intParam(p, 'endTime', 0, 0, 1e15);
  const out: Candle[] = [];
  for (const c of m.candles) {
    const open = c.openTime - (c.openTime % ms);
    let k = out[out.length - 1];
    if (k === undefined || k.openTime !== open) {
      k = { ...c, openTime: open };
      out.push(k);
      continue;
    }
    if (c.trades > 0) {
      if (k.trades === 0) {
        k.open = c.open;
        k.high = c.high;
        k.low = c.low;
      } else {
        k.high = Math.max(k.high, c.high);
        k.low = Math.min(k.low, c.low);
      }
      if (k.firstTradeId < 0) k.firstTradeId = c.firstTradeId;
      k.lastTradeId = c.lastTradeId;
    }
    k.close = c.close;
    k.volume += c.volume;
    k.quoteVolume += c.quoteVolume;
    k.trades += c.trades;
    k.takerBuyVolume += c.takerBuyVolume;
    k.takerBuyQuote += c.takerBuyQuote;
  }
  let list = out;
  if (!Number.isNaN(start))
    list = list.filter((k) => k.openTime >= start - (start % ms) && k.openTime + ms > start);
  if (!Number.isNaN(end)) list = list.filter((k) => k.openTime <= end);
  const pick = Number.isNaN(start) ? list.slice(-limit) : list.slice(0, limit);
  return pick.map((k) => klineRow(m, k, ms));
}

export function klineRow(m: SymbolMarket, k: Candle, ms: number): unknown[] {
  return [
    k.openTime,
    px(m, k.open),
    px(m, k.high),
    px(m, k.low),
    px(m, k.close),
    qty(m, k.volume),
    k.openTime + ms - 1,
    fmt8(k.quoteVolume),
    k.trades,
    qty(m, k.takerBuyVolume),
    fmt8(k.takerBuyQuote),
    '0',
  ];
}

/** The kline stream's `k` object for a 1-minute candle. */
export function klineStream(m: SymbolMarket, k: Candle, closed: boolean): Record<string, unknown> {
  return {
    t: k.openTime,
    T: k.openTime + MINUTE - 1,
    s: m.symbol,
    i: '1m',
    f: k.firstTradeId,
    L: k.lastTradeId,
    o: px(m, k.open),
    c: px(m, k.close),
    h: px(m, k.high),
    l: px(m, k.low),
    v: qty(m, k.volume),
    n: k.trades,
    x: closed,
    q: fmt8(k.quoteVolume),
    V: qty(m, k.takerBuyVolume),
    Q: fmt8(k.takerBuyQuote),
    B: '0',
  };
}

export function depthLevels(m: SymbolMarket, levels: Map<number, number>): string[][] {
  const out: string[][] = [];
  for (const [p, q] of levels) out.push([px(m, p), qty(m, q)]);
  return out;
}

export { px as formatPx, qty as formatQty };
