// Binance's spot JSON of the local exchange's orders and fills: the order documents of GET/POST/DELETE
// /api/v3/order (ACK, RESULT, FULL), myTrades rows and the executionReport user-stream event (decimals with 8
// places, times in ms). The USD-M shapes are in futures.ts.

import { fmt8, type ServerFill, type ServerOrder } from './trading.ts';

const px8 = (o: ServerOrder, ticks: number): string =>
  Number.isNaN(ticks) ? '0.00000000' : o.market.inst.ticksToPrice(ticks, 8);
const qty8 = (o: ServerOrder, lots: number): string => o.market.inst.lotsToQty(lots, 8);

/** GET /api/v3/order and friends. */
export function orderJson(o: ServerOrder): Record<string, unknown> {
  return {
    symbol: o.market.symbol,
    orderId: o.orderId,
    orderListId: -1,
    clientOrderId: o.clientOrderId,
    price: px8(o, o.price),
    origQty: qty8(o, o.qty),
    executedQty: qty8(o, o.executed),
    cummulativeQuoteQty: fmt8(o.cumQuote),
    status: o.status,
    timeInForce: o.tif,
    type: o.type,
    side: o.side,
    stopPrice: '0.00000000',
    icebergQty: '0.00000000',
    time: o.time,
    updateTime: o.updateTime,
    isWorking: true,
    workingTime: o.time,
    origQuoteOrderQty: fmt8(o.quoteOrderQty),
    selfTradePreventionMode: 'EXPIRE_MAKER',
  };
}

/** POST /api/v3/order response in newOrderRespType ACK, RESULT or FULL (the default). */
export function placeJson(o: ServerOrder, respType: string): Record<string, unknown> {
  const ack = {
    symbol: o.market.symbol,
    orderId: o.orderId,
    orderListId: -1,
    clientOrderId: o.clientOrderId,
    transactTime: o.time,
  };
  if (respType === 'ACK') return ack;
  const result = {
    ...ack,
    price: px8(o, o.price),
    origQty: qty8(o, o.qty),
    executedQty: qty8(o, o.executed),
    origQuoteOrderQty: fmt8(o.quoteOrderQty),
    cummulativeQuoteQty: fmt8(o.cumQuote),
    status: o.status,
    timeInForce: o.tif,
    type: o.type,
    side: o.side,
    workingTime: o.time,
    selfTradePreventionMode: 'EXPIRE_MAKER',
  };
  if (respType === 'RESULT') return result;
  return {
    ...result,
    fills: o.fills.map((f) => ({
      price: px8(o, f.px),
      qty: qty8(o, f.qty),
      commission: fmt8(f.commission),
      commissionAsset: f.commissionAsset,
      tradeId: f.tradeId,
    })),
  };
}

/** DELETE /api/v3/order response. */
export function cancelJson(o: ServerOrder, newClientId: string): Record<string, unknown> {
  const j = orderJson(o);
  return {
    symbol: o.market.symbol,
    origClientOrderId: o.clientOrderId,
    orderId: o.orderId,
    orderListId: -1,
    clientOrderId: newClientId,
    transactTime: o.updateTime,
    price: j.price,
    origQty: j.origQty,
    executedQty: j.executedQty,
    origQuoteOrderQty: j.origQuoteOrderQty,
    cummulativeQuoteQty: j.cummulativeQuoteQty,
    status: o.status,
    timeInForce: o.tif,
    type: o.type,
    side: o.side,
    selfTradePreventionMode: 'EXPIRE_MAKER',
  };
}

/** GET /api/v3/myTrades rows. */
export function myTradeJson(o: ServerOrder, f: ServerFill): Record<string, unknown> {
  return {
    symbol: o.market.symbol,
    id: f.tradeId,
    orderId: o.orderId,
    orderListId: -1,
    price: px8(o, f.px),
    qty: qty8(o, f.qty),
    quoteQty: fmt8(f.quote),
    commission: fmt8(f.commission),
    commissionAsset: f.commissionAsset,
    time: f.time,
    isBuyer: o.side === 'BUY',
    isMaker: f.maker,
    isBestMatch: true,
  };
}

export function executionReport(o: ServerOrder, x: string, f: ServerFill | null): Record<string, unknown> {
  return {
    e: 'executionReport',
    E: o.updateTime,
    s: o.market.symbol,
    c: o.clientOrderId,
    S: o.side,
    o: o.type,
    f: o.tif,
    q: qty8(o, o.qty),
    p: px8(o, o.price),
    P: '0.00000000',
    F: '0.00000000',
    g: -1,
    C: '',
    x,
    X: o.status,
    r: 'NONE',
    i: o.orderId,
    l: qty8(o, f?.qty ?? 0),
    z: qty8(o, o.executed),
    L: f === null ? '0.00000000' : px8(o, f.px),
    n: fmt8(f?.commission ?? 0),
    N: f?.commissionAsset ?? null,
    T: f?.time ?? o.updateTime,
    t: f?.tradeId ?? -1,
    v: 0,
    I: 0,
    w: o.open,
    m: f?.maker ?? false,
    M: false,
    O: o.time,
    Z: fmt8(o.cumQuote),
    Y: fmt8(f?.quote ?? 0),
    Q: fmt8(o.quoteOrderQty),
    W: o.time,
    V: 'EXPIRE_MAKER',
  };
}
