import { describe, expect, it } from 'vitest';
import { Bot4Error, ErrorCode } from '../core/errors.ts';
import type { InstrumentId, Micros, OrderId, PriceTicks, QtyLots } from '../core/units.ts';
import { InstrumentKind, newInstrumentRegistry } from './instrument.ts';
import {
  assertValidOrderRequest,
  ContingencyType,
  hasPrice,
  NO_PRICE,
  Order,
  OrderFlags,
  OrderReason,
  OrderRequest,
  OrderSide,
  OrderType,
  orderReasonMessage,
  orderRequest,
  TimeInForce,
  TrailingOffsetType,
  typeHasTrigger,
  validateOrderRequest,
} from './order.ts';
import { OrderStatus } from './order-state.ts';

const px = (n: number) => n as PriceTicks;
const lots = (n: number) => n as QtyLots;

function limit(extra: Parameters<typeof orderRequest>[0] = {}): OrderRequest {
  return orderRequest({
    clientOrderId: 'C-1',
    side: OrderSide.BUY,
    type: OrderType.LIMIT,
    qty: lots(100),
    price: px(618003),
    tif: TimeInForce.GTC,
    tsInit: 1_000 as Micros,
    ...extra,
  });
}

describe('order vocabulary', () => {
  it('classifies types', () => {
    expect(typeHasTrigger(OrderType.MARKET)).toBe(false);
    expect(typeHasTrigger(OrderType.LIMIT)).toBe(false);
    for (const t of [3, 4, 5, 6, 7, 8] as const) expect(typeHasTrigger(t)).toBe(true);
    expect(hasPrice(NO_PRICE)).toBe(false);
    expect(hasPrice(0)).toBe(true);
  });
});

describe('validateOrderRequest', () => {
  it('accepts a valid request of every type', () => {
    const valid: OrderRequest[] = [
      orderRequest({ type: OrderType.MARKET, qty: lots(1), tif: TimeInForce.IOC }),
      limit(),
      limit({ tif: TimeInForce.GTD, expireTime: 2_000 as Micros }),
      limit({ flags: OrderFlags.POST_ONLY, displayQty: lots(10) }),
      orderRequest({ type: OrderType.STOP_MARKET, qty: lots(1), triggerPrice: px(5) }),
      orderRequest({ type: OrderType.STOP_LIMIT, qty: lots(1), price: px(5), triggerPrice: px(6) }),
      orderRequest({ type: OrderType.MARKET_IF_TOUCHED, qty: lots(1), triggerPrice: px(5) }),
      orderRequest({ type: OrderType.LIMIT_IF_TOUCHED, qty: lots(1), price: px(5), triggerPrice: px(6) }),
      orderRequest({
        type: OrderType.TRAILING_STOP_MARKET,
        qty: lots(1),
        trailingOffsetType: TrailingOffsetType.BASIS_POINTS,
        trailingOffset: 100,
      }),
      orderRequest({
        type: OrderType.TRAILING_STOP_LIMIT,
        qty: lots(1),
        trailingOffsetType: TrailingOffsetType.TICKS,
        trailingOffset: 20,
        triggerPrice: px(1000),
      }),
      limit({ contingency: ContingencyType.OCO, orderListId: 7, linkedOrderIds: [2 as OrderId] }),
    ];
    for (const r of valid)
      expect(validateOrderRequest(r), orderReasonMessage(validateOrderRequest(r), r)).toBe(0);
  });

  it('returns the reason and a message naming the field', () => {
    const cases: [OrderRequest, OrderReason, string][] = [
      [
        limit({ price: NO_PRICE }),
        OrderReason.PRICE_REQUIRED,
        "order C-1: 'price' is required for a LIMIT order",
      ],
      [
        limit({ qty: lots(0) }),
        OrderReason.QTY_INVALID,
        "order C-1: 'qty' 0 must be a positive whole number of lots",
      ],
      [
        limit({ qty: lots(1.5) }),
        OrderReason.QTY_INVALID,
        "order C-1: 'qty' 1.5 must be a positive whole number of lots",
      ],
      [
        limit({ side: 3 as OrderSide }),
        OrderReason.SIDE_INVALID,
        "order C-1: 'side' 3 is not BUY (1) or SELL (2)",
      ],
      [
        limit({ price: px(-1) }),
        OrderReason.PRICE_INVALID,
        "order C-1: 'price' -1 must be a positive whole number of ticks",
      ],
      [
        orderRequest({ clientOrderId: 'M', type: OrderType.MARKET, qty: lots(1), price: px(5) }),
        OrderReason.PRICE_NOT_ALLOWED,
        "order M: 'price' 5 ticks is not allowed on a MARKET order",
      ],
      [
        orderRequest({ clientOrderId: 'S', type: OrderType.STOP_LIMIT, qty: lots(1), price: px(5) }),
        OrderReason.TRIGGER_REQUIRED,
        "order S: 'triggerPrice' is required for a STOP_LIMIT order",
      ],
      [
        limit({ triggerPrice: px(5) }),
        OrderReason.TRIGGER_NOT_ALLOWED,
        "order C-1: 'triggerPrice' 5 ticks is not allowed on a LIMIT order",
      ],
      [
        orderRequest({ clientOrderId: 'T', type: OrderType.TRAILING_STOP_MARKET, qty: lots(1) }),
        OrderReason.TRAILING_OFFSET_REQUIRED,
        "order T: 'trailingOffsetType' and 'trailingOffset' are required for a TRAILING_STOP_MARKET order",
      ],
      [
        orderRequest({
          type: OrderType.TRAILING_STOP_MARKET,
          qty: lots(1),
          trailingOffsetType: TrailingOffsetType.BASIS_POINTS,
          trailingOffset: 20_000,
        }),
        OrderReason.TRAILING_OFFSET_INVALID,
        "order (no client id): 'trailingOffset' 20000 (type 2) must be positive ticks, or 1..10000 basis points",
      ],
      [
        limit({ trailingOffsetType: TrailingOffsetType.TICKS, trailingOffset: 3 }),
        OrderReason.TRAILING_OFFSET_NOT_ALLOWED,
        "order C-1: 'trailingOffset' is only for trailing orders, not LIMIT",
      ],
      [
        limit({ tif: TimeInForce.GTD }),
        OrderReason.EXPIRE_TIME_REQUIRED,
        "order C-1: 'expireTime' (micros) is required when 'tif' is GTD",
      ],
      [
        limit({ tif: TimeInForce.GTD, expireTime: 500 as Micros }),
        OrderReason.EXPIRE_TIME_PAST,
        "order C-1: 'expireTime' 500 is not after the order's creation time 1000",
      ],
      [
        limit({ expireTime: 5_000 as Micros }),
        OrderReason.EXPIRE_TIME_NOT_ALLOWED,
        "order C-1: 'expireTime' 5000 is only allowed with 'tif' GTD, not GTC",
      ],
      [
        limit({ displayQty: lots(101) }),
        OrderReason.DISPLAY_QTY_INVALID,
        "order C-1: 'displayQty' 101 lots must be a positive number of lots no larger than 'qty' 100 lots",
      ],
      [
        limit({ displayQty: lots(10), tif: TimeInForce.IOC }),
        OrderReason.ICEBERG_NOT_ALLOWED,
        "order C-1: 'displayQty' (iceberg) needs a resting order; not allowed on LIMIT IOC",
      ],
      [
        limit({ flags: OrderFlags.POST_ONLY, tif: TimeInForce.FOK }),
        OrderReason.POST_ONLY_NOT_ALLOWED,
        "order C-1: 'flags' POST_ONLY contradicts LIMIT FOK: a post-only order must rest on the book",
      ],
      [
        orderRequest({
          clientOrderId: 'M',
          type: OrderType.MARKET,
          qty: lots(1),
          flags: OrderFlags.POST_ONLY,
        }),
        OrderReason.POST_ONLY_NOT_ALLOWED,
        "order M: 'flags' POST_ONLY contradicts MARKET GTC: a post-only order must rest on the book",
      ],
      [
        orderRequest({ clientOrderId: 'M', type: OrderType.MARKET, qty: lots(1), tif: TimeInForce.DAY }),
        OrderReason.TIF_NOT_ALLOWED,
        "order M: 'tif' DAY is not allowed on a MARKET order",
      ],
      [
        limit({ flags: 8 }),
        OrderReason.FLAGS_INVALID,
        "order C-1: 'flags' 8 has unknown bits (POST_ONLY=1, REDUCE_ONLY=2)",
      ],
      [
        limit({ contingency: ContingencyType.BRACKET }),
        OrderReason.ORDER_LIST_REQUIRED,
        "order C-1: 'orderListId' is required for a contingent order",
      ],
      [
        limit({ contingency: ContingencyType.OCO, orderListId: 1 }),
        OrderReason.CONTINGENCY_INVALID,
        "order C-1: 'contingency' 1 is invalid (an OCO order needs 'linkedOrderIds')",
      ],
    ];
    for (const [req, reason, message] of cases) {
      expect(validateOrderRequest(req), message).toBe(reason);
      expect(orderReasonMessage(reason, req)).toBe(message);
    }
  });

  it('checks venue limits when given the instrument, with prices in the instrument units', () => {
    const inst = newInstrumentRegistry().add({
      symbol: 'BTCUSDT',
      venue: 'BINANCE',
      kind: InstrumentKind.SPOT,
      base: 'BTC',
      quote: 'USDT',
      settlement: 'USDT',
      tickSize: '0.01',
      lotSize: '0.00001',
      minQty: '0.0001',
      maxQty: '9000',
      marketMaxQty: '100',
      minPrice: '0.01',
      maxPrice: '1000000',
      minNotional: '10',
    });
    const base = { instrumentId: inst.id, clientOrderId: 'C-9' };
    const ok = limit({ ...base, price: inst.priceToTicks('60000'), qty: inst.qtyToLots('0.001') });
    expect(validateOrderRequest(ok, inst)).toBe(OrderReason.OK);
    const small = limit({ ...base, price: inst.priceToTicks('60000'), qty: inst.qtyToLots('0.00001') });
    expect(validateOrderRequest(small, inst)).toBe(OrderReason.QTY_BELOW_MIN);
    expect(orderReasonMessage(OrderReason.QTY_BELOW_MIN, small, inst)).toBe(
      "order C-9 (BTCUSDT): 'qty' 0.00001 (1 lots) is below the minimum 0.0001 (10 lots)",
    );
    const cheap = limit({ ...base, price: inst.priceToTicks('1000'), qty: inst.qtyToLots('0.001') });
    expect(validateOrderRequest(cheap, inst)).toBe(OrderReason.NOTIONAL_BELOW_MIN);
    expect(orderReasonMessage(OrderReason.NOTIONAL_BELOW_MIN, cheap, inst)).toBe(
      'order C-9 (BTCUSDT): order value is below the minimum notional 10 USDT',
    );
    const bigMarket = orderRequest({ ...base, type: OrderType.MARKET, qty: inst.qtyToLots('200') });
    expect(validateOrderRequest(bigMarket, inst)).toBe(OrderReason.QTY_ABOVE_MAX);
    const bigLimit = limit({ ...base, qty: inst.qtyToLots('200') });
    expect(validateOrderRequest(bigLimit, inst)).toBe(OrderReason.OK);
    const high = limit({ ...base, price: inst.priceToTicks('2000000') });
    expect(validateOrderRequest(high, inst)).toBe(OrderReason.PRICE_OUT_OF_RANGE);
    expect(validateOrderRequest(limit({ instrumentId: 9 as InstrumentId }), inst)).toBe(
      OrderReason.INSTRUMENT_MISMATCH,
    );
  });

  it('throws ORDER_INVALID at the edge', () => {
    let e: unknown;
    try {
      assertValidOrderRequest(limit({ price: NO_PRICE }));
    } catch (x) {
      e = x;
    }
    expect(e).toBeInstanceOf(Bot4Error);
    expect((e as Bot4Error).code).toBe(ErrorCode.ORDER_INVALID);
    expect((e as Bot4Error).details).toMatchObject({
      reason: OrderReason.PRICE_REQUIRED,
      clientOrderId: 'C-1',
    });
    expect(() => assertValidOrderRequest(limit())).not.toThrow();
  });
});

describe('Order record', () => {
  it('initialises every field from the request and keeps one shape when reused', () => {
    const fresh = new Order();
    const keys = Object.keys(fresh);
    const req = limit({
      linkedOrderIds: [5 as OrderId, 6 as OrderId],
      flags: OrderFlags.REDUCE_ONLY,
      displayQty: lots(10),
    });
    const o = new Order().init(42 as OrderId, req);
    expect(Object.keys(o)).toEqual(keys);
    expect(o).toMatchObject({
      id: 42,
      clientOrderId: 'C-1',
      status: OrderStatus.INITIALIZED,
      qty: 100,
      leavesQty: 100,
      filledQty: 0,
      price: 618003,
      tsInit: 1000,
      tsLast: 1000,
    });
    expect(o.linkedOrderIds).toEqual([5, 6]);
    expect(o.linkedOrderIds).not.toBe(req.linkedOrderIds);
    expect(o.isReduceOnly).toBe(true);
    expect(o.isPostOnly).toBe(false);
    expect(o.isIceberg).toBe(true);
    expect(o.avgPx).toBeNaN();
    const arr = o.linkedOrderIds;
    o.reset();
    expect(o.linkedOrderIds).toBe(arr); // reused, not reallocated
    expect(o.linkedOrderIds).toEqual([]);
    expect(o).toEqual(fresh);
    expect(Object.keys(o)).toEqual(keys);
    expect(String(new Order().init(1 as OrderId, req))).toBe(
      'Order#1(C-1 BUY 100 LIMIT @618003 GTC INITIALIZED filled 0)',
    );
  });

  it('OrderRequest.copyFrom and reset are complete', () => {
    const a = limit({ linkedOrderIds: [3 as OrderId], trailingOffset: 0, orderListId: 4 });
    const b = new OrderRequest().copyFrom(a);
    expect(b).toEqual(a);
    expect(b.linkedOrderIds).not.toBe(a.linkedOrderIds);
    expect(b.reset()).toEqual(new OrderRequest());
  });
});
