// Order vocabulary as integer codes, the order request, the pooled Order record, and request validation.
// Units: qty in lots, prices in ticks (NaN = absent), times in Micros (0 = none). Every field is set in the
// constructor (one hidden class); open orders keep filledQty + leavesQty = qty, closed ones leavesQty = 0.

import { Bot4Error, ErrorCode } from '../core/errors.ts';
import type { InstrumentId, Micros, OrderId, PriceTicks, QtyLots, StrategyId } from '../core/units.ts';
import { stepsToDecimal } from './decimal.ts';
import type { Instrument } from './instrument.ts';
import { OrderStatus, orderStatusName } from './order-state.ts';

export const OrderSide = { BUY: 1, SELL: 2 } as const;
export type OrderSide = (typeof OrderSide)[keyof typeof OrderSide];

export const OrderType = {
  MARKET: 1,
  LIMIT: 2,
  STOP_MARKET: 3,
  STOP_LIMIT: 4,
  TRAILING_STOP_MARKET: 5,
  TRAILING_STOP_LIMIT: 6,
  MARKET_IF_TOUCHED: 7,
  LIMIT_IF_TOUCHED: 8,
} as const;
export type OrderType = (typeof OrderType)[keyof typeof OrderType];

export const TimeInForce = { GTC: 1, IOC: 2, FOK: 3, GTD: 4, DAY: 5 } as const;
export type TimeInForce = (typeof TimeInForce)[keyof typeof TimeInForce];

/** Bit flags. An iceberg is an order with displayQty > 0 (no flag: the quantity says it). */
export const OrderFlags = { NONE: 0, POST_ONLY: 1, REDUCE_ONLY: 2 } as const;

/** How a trailing offset is measured: in ticks, or in basis points of the reference price (Binance's BIPS). */
export const TrailingOffsetType = { NONE: 0, TICKS: 1, BASIS_POINTS: 2 } as const;
export type TrailingOffsetType = (typeof TrailingOffsetType)[keyof typeof TrailingOffsetType];

export const ContingencyType = { NONE: 0, OCO: 1, OTO: 2, BRACKET: 3 } as const;
export type ContingencyType = (typeof ContingencyType)[keyof typeof ContingencyType];

/** The "no order" id for parent/linked references: order ids start at 1. */
export const NO_ORDER = 0 as OrderId;
/** Absent price or trigger; test with hasPrice(). */
export const NO_PRICE = Number.NaN as PriceTicks;

export function hasPrice(p: number): boolean {
  return !Number.isNaN(p);
}

const SIDE_NAMES = ['', 'BUY', 'SELL'] as const;
const TYPE_NAMES = [
  '',
  'MARKET',
  'LIMIT',
  'STOP_MARKET',
  'STOP_LIMIT',
  'TRAILING_STOP_MARKET',
  'TRAILING_STOP_LIMIT',
  'MARKET_IF_TOUCHED',
  'LIMIT_IF_TOUCHED',
] as const;
const TIF_NAMES = ['', 'GTC', 'IOC', 'FOK', 'GTD', 'DAY'] as const;
export function orderSideName(s: number): string {
  return SIDE_NAMES[s] || `OrderSide(${s})`;
}
export function orderTypeName(t: number): string {
  return TYPE_NAMES[t] || `OrderType(${t})`;
}
export function timeInForceName(t: number): string {
  return TIF_NAMES[t] || `TimeInForce(${t})`;
}

/** Types that rest with a limit price (or, for trailing stop-limit, may carry an initial one). */
export function typeHasLimitPrice(t: OrderType): boolean {
  return (
    t === OrderType.LIMIT ||
    t === OrderType.STOP_LIMIT ||
    t === OrderType.LIMIT_IF_TOUCHED ||
    t === OrderType.TRAILING_STOP_LIMIT
  );
}

/** Types that wait for a trigger (and so may go through TRIGGERED). */
export function typeHasTrigger(t: OrderType): boolean {
  return t >= OrderType.STOP_MARKET;
}

export function typeIsTrailing(t: OrderType): boolean {
  return t === OrderType.TRAILING_STOP_MARKET || t === OrderType.TRAILING_STOP_LIMIT;
}

/** Types that execute as market orders once live: they can never rest, so post-only contradicts them. */
export function typeIsMarketable(t: OrderType): boolean {
  return (
    t === OrderType.MARKET ||
    t === OrderType.STOP_MARKET ||
    t === OrderType.TRAILING_STOP_MARKET ||
    t === OrderType.MARKET_IF_TOUCHED
  );
}

/**
 * What a strategy asks for. A reusable scratch object (reset() then set fields): the engine copies it into a
 * pooled Order and into the INITIALIZED event, so the request can be reused for the next order.
 */
export class OrderRequest {
  clientOrderId = '';
  strategyId = 0 as StrategyId;
  instrumentId = 0 as InstrumentId;
  side: OrderSide = OrderSide.BUY;
  type: OrderType = OrderType.MARKET;
  qty = 0 as QtyLots;
  price: PriceTicks = NO_PRICE;
  triggerPrice: PriceTicks = NO_PRICE;
  tif: TimeInForce = TimeInForce.GTC;
  /** GTD expiry, Micros; 0 when not GTD. */
  expireTime = 0 as Micros;
  flags = 0;
  /** Iceberg visible quantity in lots; 0 = not an iceberg. */
  displayQty = 0 as QtyLots;
  trailingOffsetType: TrailingOffsetType = TrailingOffsetType.NONE;
  /** In ticks or basis points per trailingOffsetType; 0 when not trailing. */
  trailingOffset = 0;
  contingency: ContingencyType = ContingencyType.NONE;
  orderListId = 0;
  parentOrderId: OrderId = NO_ORDER;
  /** OCO sibling(s), bracket children. Reused array: reset() empties it without reallocating. */
  readonly linkedOrderIds: OrderId[] = [];
  tsInit = 0 as Micros;

  reset(): this {
    this.clientOrderId = '';
    this.strategyId = 0 as StrategyId;
    this.instrumentId = 0 as InstrumentId;
    this.side = OrderSide.BUY;
    this.type = OrderType.MARKET;
    this.qty = 0 as QtyLots;
    this.price = NO_PRICE;
    this.triggerPrice = NO_PRICE;
    this.tif = TimeInForce.GTC;
    this.expireTime = 0 as Micros;
    this.flags = 0;
    this.displayQty = 0 as QtyLots;
    this.trailingOffsetType = TrailingOffsetType.NONE;
    this.trailingOffset = 0;
    this.contingency = ContingencyType.NONE;
    this.orderListId = 0;
    this.parentOrderId = NO_ORDER;
    if (this.linkedOrderIds.length !== 0) this.linkedOrderIds.length = 0;
    this.tsInit = 0 as Micros;
    return this;
  }

  copyFrom(r: OrderRequest): this {
    this.clientOrderId = r.clientOrderId;
    this.strategyId = r.strategyId;
    this.instrumentId = r.instrumentId;
    this.side = r.side;
    this.type = r.type;
    this.qty = r.qty;
    this.price = r.price;
    this.triggerPrice = r.triggerPrice;
    this.tif = r.tif;
    this.expireTime = r.expireTime;
    this.flags = r.flags;
    this.displayQty = r.displayQty;
    this.trailingOffsetType = r.trailingOffsetType;
    this.trailingOffset = r.trailingOffset;
    this.contingency = r.contingency;
    this.orderListId = r.orderListId;
    this.parentOrderId = r.parentOrderId;
    copyIds(this.linkedOrderIds, r.linkedOrderIds);
    this.tsInit = r.tsInit;
    return this;
  }
}

/** A value V8 holds as a double (not a small integer), for the field representations set in constructors. */
const DOUBLE = 0.5;

function copyIds(dst: OrderId[], src: readonly OrderId[]): void {
  // Setting length is a runtime call even when nothing changes; most orders have no linked ids.
  if (dst.length !== 0) dst.length = 0;
  for (let i = 0; i < src.length; i++) dst.push(src[i]!);
}

type RequestFields = {
  -readonly [K in keyof OrderRequest as OrderRequest[K] extends (...args: never[]) => unknown
    ? never
    : K]?: OrderRequest[K];
};

/** Edge/test convenience: a new request from named fields (allocates; not for the hot path). */
export function orderRequest(fields: RequestFields): OrderRequest {
  const r = new OrderRequest();
  for (const [k, v] of Object.entries(fields)) {
    if (v === undefined) continue;
    if (k === 'linkedOrderIds') copyIds(r.linkedOrderIds, v as OrderId[]);
    else (r as unknown as Record<string, unknown>)[k] = v;
  }
  return r;
}

/** A live order. Owned and mutated by the execution engine through applyEvent (events.ts) only. */
export class Order {
  id: OrderId = NO_ORDER;
  clientOrderId = '';
  /** Assigned by the venue on accept (or first fill); '' until then. */
  venueOrderId = '';
  strategyId = 0 as StrategyId;
  instrumentId = 0 as InstrumentId;
  side: OrderSide = OrderSide.BUY;
  type: OrderType = OrderType.MARKET;
  qty = 0 as QtyLots;
  price: PriceTicks = NO_PRICE;
  triggerPrice: PriceTicks = NO_PRICE;
  tif: TimeInForce = TimeInForce.GTC;
  expireTime = 0 as Micros;
  flags = 0;
  displayQty = 0 as QtyLots;
  trailingOffsetType: TrailingOffsetType = TrailingOffsetType.NONE;
  trailingOffset = 0;
  contingency: ContingencyType = ContingencyType.NONE;
  orderListId = 0;
  parentOrderId: OrderId = NO_ORDER;
  readonly linkedOrderIds: OrderId[] = [];
  status: OrderStatus = OrderStatus.INITIALIZED;
  /** While PENDING_UPDATE/PENDING_CANCEL: the open state a reject returns to; otherwise equal to status. */
  prevStatus: OrderStatus = OrderStatus.INITIALIZED;
  filledQty = 0 as QtyLots;
  leavesQty = 0 as QtyLots;
  /** Volume-weighted average fill price in ticks (a double: the average is rarely on the grid). NaN before a fill. */
  avgPx = Number.NaN;
  /** Sum of fillPx * fillQty (ticks x lots), exact while below 2^53; avgPx = fillValue / filledQty. */
  fillValue = 0;
  /** Reason code of the last deny/reject/cancel-reject/modify-reject, 0 if none. */
  lastReason = 0;
  /** Bot4 time the order was created. */
  tsInit = 0 as Micros;
  /** Event time (venue time where the venue reported it) of the last applied event. */
  tsLast = 0 as Micros;
  /** seq of the last applied event; events with seq <= this are stale and ignored. */
  lastEventSeq = 0;
  eventCount = 0;

  constructor() {
    // Microsecond timestamps and fill values are past the small-integer range: store a double in each field once
    // now, so V8 gives the class's hidden class double fields from its first object. Otherwise the first such
    // store generalises the fields, deprecates the hidden class, and every order made before it (an engine's
    // pool makes 10,000 up front) is migrated when first initialised: microseconds per order, on the order path.
    this.tsInit = this.tsLast = this.expireTime = DOUBLE as Micros;
    this.fillValue = DOUBLE;
    this.tsInit = this.tsLast = this.expireTime = 0 as Micros;
    this.fillValue = 0;
  }

  /** Fills every field from `req` and returns the order to INITIALIZED. Allocation-free. */
  init(id: OrderId, req: OrderRequest): this {
    this.id = id;
    this.clientOrderId = req.clientOrderId;
    this.venueOrderId = '';
    this.strategyId = req.strategyId;
    this.instrumentId = req.instrumentId;
    this.side = req.side;
    this.type = req.type;
    this.qty = req.qty;
    this.price = req.price;
    this.triggerPrice = req.triggerPrice;
    this.tif = req.tif;
    this.expireTime = req.expireTime;
    this.flags = req.flags;
    this.displayQty = req.displayQty;
    this.trailingOffsetType = req.trailingOffsetType;
    this.trailingOffset = req.trailingOffset;
    this.contingency = req.contingency;
    this.orderListId = req.orderListId;
    this.parentOrderId = req.parentOrderId;
    copyIds(this.linkedOrderIds, req.linkedOrderIds);
    this.status = OrderStatus.INITIALIZED;
    this.prevStatus = OrderStatus.INITIALIZED;
    this.filledQty = 0 as QtyLots;
    this.leavesQty = req.qty;
    this.avgPx = Number.NaN;
    this.fillValue = 0;
    this.lastReason = 0;
    this.tsInit = req.tsInit;
    this.tsLast = req.tsInit;
    this.lastEventSeq = 0;
    this.eventCount = 0;
    return this;
  }

  /** Back to the blank state, for returning to a pool. */
  reset(): this {
    this.init(NO_ORDER, BLANK_REQUEST);
    return this;
  }

  get isPostOnly(): boolean {
    return (this.flags & OrderFlags.POST_ONLY) !== 0;
  }

  get isReduceOnly(): boolean {
    return (this.flags & OrderFlags.REDUCE_ONLY) !== 0;
  }

  get isIceberg(): boolean {
    return this.displayQty > 0;
  }

  /** Edge: a one-line description for logs. */
  toString(): string {
    const px = hasPrice(this.price) ? ` @${this.price}` : '';
    const trg = hasPrice(this.triggerPrice) ? ` trigger ${this.triggerPrice}` : '';
    return `Order#${this.id}(${this.clientOrderId} ${orderSideName(this.side)} ${this.qty} ${orderTypeName(this.type)}${px}${trg} ${timeInForceName(this.tif)} ${orderStatusName(this.status)} filled ${this.filledQty})`;
  }
}

const BLANK_REQUEST = new OrderRequest();

/** Why an order request is invalid. 0 = valid. Values are stable (they travel in DENIED events). */
export const OrderReason = {
  OK: 0,
  SIDE_INVALID: 1,
  TYPE_INVALID: 2,
  TIF_INVALID: 3,
  QTY_INVALID: 4,
  PRICE_REQUIRED: 5,
  PRICE_NOT_ALLOWED: 6,
  PRICE_INVALID: 7,
  TRIGGER_REQUIRED: 8,
  TRIGGER_NOT_ALLOWED: 9,
  TRIGGER_INVALID: 10,
  TRAILING_OFFSET_REQUIRED: 11,
  TRAILING_OFFSET_NOT_ALLOWED: 12,
  TRAILING_OFFSET_INVALID: 13,
  EXPIRE_TIME_REQUIRED: 14,
  EXPIRE_TIME_NOT_ALLOWED: 15,
  EXPIRE_TIME_PAST: 16,
  DISPLAY_QTY_INVALID: 17,
  ICEBERG_NOT_ALLOWED: 18,
  POST_ONLY_NOT_ALLOWED: 19,
  TIF_NOT_ALLOWED: 20,
  CONTINGENCY_INVALID: 21,
  ORDER_LIST_REQUIRED: 22,
  QTY_BELOW_MIN: 23,
  QTY_ABOVE_MAX: 24,
  PRICE_OUT_OF_RANGE: 25,
  NOTIONAL_BELOW_MIN: 26,
  INSTRUMENT_MISMATCH: 27,
  FLAGS_INVALID: 28,
} as const;
export type OrderReason = (typeof OrderReason)[keyof typeof OrderReason];

const R = OrderReason;
const T = OrderType;

function isPositiveInt(x: number): boolean {
  return Number.isSafeInteger(x) && x > 0;
}

/**
 * Checks a request (and, given the instrument, its venue limits). Returns 0 or the first reason found;
 * orderReasonMessage() turns it into a sentence naming the field. Allocation-free, so the risk engine can run
 * it per order.
 */
export function validateOrderRequest(req: OrderRequest, inst?: Instrument): OrderReason {
  const t = req.type;
  if (req.side !== OrderSide.BUY && req.side !== OrderSide.SELL) return R.SIDE_INVALID;
  if (!Number.isInteger(t) || t < T.MARKET || t > T.LIMIT_IF_TOUCHED) return R.TYPE_INVALID;
  if (!Number.isInteger(req.tif) || req.tif < TimeInForce.GTC || req.tif > TimeInForce.DAY)
    return R.TIF_INVALID;
  if (!isPositiveInt(req.qty)) return R.QTY_INVALID;
  if ((req.flags & ~(OrderFlags.POST_ONLY | OrderFlags.REDUCE_ONLY)) !== 0) return R.FLAGS_INVALID;

  const hasPx = hasPrice(req.price);
  if (hasPx && !isPositiveInt(req.price)) return R.PRICE_INVALID;
  if (t === T.LIMIT || t === T.STOP_LIMIT || t === T.LIMIT_IF_TOUCHED) {
    if (!hasPx) return R.PRICE_REQUIRED;
  } else if (t !== T.TRAILING_STOP_LIMIT && hasPx) {
    return R.PRICE_NOT_ALLOWED;
  }

  const hasTrg = hasPrice(req.triggerPrice);
  if (hasTrg && !isPositiveInt(req.triggerPrice)) return R.TRIGGER_INVALID;
  if (t === T.STOP_MARKET || t === T.STOP_LIMIT || t === T.MARKET_IF_TOUCHED || t === T.LIMIT_IF_TOUCHED) {
    if (!hasTrg) return R.TRIGGER_REQUIRED;
  } else if (!typeIsTrailing(t) && hasTrg) {
    // A trailing order's trigger is its optional activation price.
    return R.TRIGGER_NOT_ALLOWED;
  }

  if (typeIsTrailing(t)) {
    const ot = req.trailingOffsetType;
    if (ot === TrailingOffsetType.NONE) return R.TRAILING_OFFSET_REQUIRED;
    if (ot !== TrailingOffsetType.TICKS && ot !== TrailingOffsetType.BASIS_POINTS)
      return R.TRAILING_OFFSET_INVALID;
    if (!isPositiveInt(req.trailingOffset)) return R.TRAILING_OFFSET_INVALID;
    if (ot === TrailingOffsetType.BASIS_POINTS && req.trailingOffset > 10_000)
      return R.TRAILING_OFFSET_INVALID;
  } else if (req.trailingOffsetType !== TrailingOffsetType.NONE || req.trailingOffset !== 0) {
    return R.TRAILING_OFFSET_NOT_ALLOWED;
  }

  if (req.tif === TimeInForce.GTD) {
    if (!isPositiveInt(req.expireTime)) return R.EXPIRE_TIME_REQUIRED;
    if (req.tsInit > 0 && req.expireTime <= req.tsInit) return R.EXPIRE_TIME_PAST;
  } else if (req.expireTime !== 0) {
    return R.EXPIRE_TIME_NOT_ALLOWED;
  }
  // A market order has nothing left to keep alive until a date.
  if (t === T.MARKET && (req.tif === TimeInForce.GTD || req.tif === TimeInForce.DAY))
    return R.TIF_NOT_ALLOWED;

  const postOnly = (req.flags & OrderFlags.POST_ONLY) !== 0;
  if (postOnly && (typeIsMarketable(t) || req.tif === TimeInForce.IOC || req.tif === TimeInForce.FOK)) {
    // Post-only must rest on the book; IOC/FOK and market-type orders must not.
    return R.POST_ONLY_NOT_ALLOWED;
  }

  if (req.displayQty !== 0) {
    if (!isPositiveInt(req.displayQty) || req.displayQty > req.qty) return R.DISPLAY_QTY_INVALID;
    if (typeIsMarketable(t) || req.tif === TimeInForce.IOC || req.tif === TimeInForce.FOK)
      return R.ICEBERG_NOT_ALLOWED;
  }

  const c = req.contingency;
  if (c < ContingencyType.NONE || c > ContingencyType.BRACKET || !Number.isInteger(c))
    return R.CONTINGENCY_INVALID;
  if (c !== ContingencyType.NONE && req.orderListId === 0) return R.ORDER_LIST_REQUIRED;
  if (c === ContingencyType.OCO && req.linkedOrderIds.length === 0) return R.CONTINGENCY_INVALID;

  if (inst !== undefined) {
    if (inst.id !== req.instrumentId) return R.INSTRUMENT_MISMATCH;
    if (req.qty < inst.minQty) return R.QTY_BELOW_MIN;
    const max = typeIsMarketable(t) ? inst.marketMaxQty : inst.maxQty;
    if (req.qty > max) return R.QTY_ABOVE_MAX;
    if (hasPx && (req.price < inst.minPrice || req.price > inst.maxPrice)) return R.PRICE_OUT_OF_RANGE;
    if (hasTrg && (req.triggerPrice < inst.minPrice || req.triggerPrice > inst.maxPrice))
      return R.PRICE_OUT_OF_RANGE;
    const refPx = hasPx ? req.price : req.triggerPrice;
    if (hasPrice(refPx) && !inst.meetsMinNotional(refPx, req.qty)) return R.NOTIONAL_BELOW_MIN;
  }
  return R.OK;
}

/** Edge: a sentence for a reason code, naming the offending field and value. */
export function orderReasonMessage(reason: number, req: OrderRequest, inst?: Instrument): string {
  const who = `order ${req.clientOrderId === '' ? '(no client id)' : req.clientOrderId}${inst === undefined ? '' : ` (${inst.symbol})`}`;
  const type = orderTypeName(req.type);
  const px = (p: number): string =>
    inst !== undefined && Number.isSafeInteger(p) ? `${inst.ticksToPrice(p)} (${p} ticks)` : `${p} ticks`;
  const qty = (q: number): string =>
    inst !== undefined && Number.isSafeInteger(q) ? `${inst.lotsToQty(q)} (${q} lots)` : `${q} lots`;
  switch (reason) {
    case R.OK:
      return `${who}: valid`;
    case R.SIDE_INVALID:
      return `${who}: 'side' ${req.side} is not BUY (1) or SELL (2)`;
    case R.TYPE_INVALID:
      return `${who}: 'type' ${req.type} is not an OrderType`;
    case R.TIF_INVALID:
      return `${who}: 'tif' ${req.tif} is not a TimeInForce`;
    case R.QTY_INVALID:
      return `${who}: 'qty' ${req.qty} must be a positive whole number of lots`;
    case R.PRICE_REQUIRED:
      return `${who}: 'price' is required for a ${type} order`;
    case R.PRICE_NOT_ALLOWED:
      return `${who}: 'price' ${px(req.price)} is not allowed on a ${type} order`;
    case R.PRICE_INVALID:
      return `${who}: 'price' ${req.price} must be a positive whole number of ticks`;
    case R.TRIGGER_REQUIRED:
      return `${who}: 'triggerPrice' is required for a ${type} order`;
    case R.TRIGGER_NOT_ALLOWED:
      return `${who}: 'triggerPrice' ${px(req.triggerPrice)} is not allowed on a ${type} order`;
    case R.TRIGGER_INVALID:
      return `${who}: 'triggerPrice' ${req.triggerPrice} must be a positive whole number of ticks`;
    case R.TRAILING_OFFSET_REQUIRED:
      return `${who}: 'trailingOffsetType' and 'trailingOffset' are required for a ${type} order`;
    case R.TRAILING_OFFSET_NOT_ALLOWED:
      return `${who}: 'trailingOffset' is only for trailing orders, not ${type}`;
    case R.TRAILING_OFFSET_INVALID:
      return `${who}: 'trailingOffset' ${req.trailingOffset} (type ${req.trailingOffsetType}) must be positive ticks, or 1..10000 basis points`;
    case R.EXPIRE_TIME_REQUIRED:
      return `${who}: 'expireTime' (micros) is required when 'tif' is GTD`;
    case R.EXPIRE_TIME_NOT_ALLOWED:
      return `${who}: 'expireTime' ${req.expireTime} is only allowed with 'tif' GTD, not ${timeInForceName(req.tif)}`;
    case R.EXPIRE_TIME_PAST:
      return `${who}: 'expireTime' ${req.expireTime} is not after the order's creation time ${req.tsInit}`;
    case R.DISPLAY_QTY_INVALID:
      return `${who}: 'displayQty' ${qty(req.displayQty)} must be a positive number of lots no larger than 'qty' ${qty(req.qty)}`;
    case R.ICEBERG_NOT_ALLOWED:
      return `${who}: 'displayQty' (iceberg) needs a resting order; not allowed on ${type} ${timeInForceName(req.tif)}`;
    case R.POST_ONLY_NOT_ALLOWED:
      return `${who}: 'flags' POST_ONLY contradicts ${type} ${timeInForceName(req.tif)}: a post-only order must rest on the book`;
    case R.TIF_NOT_ALLOWED:
      return `${who}: 'tif' ${timeInForceName(req.tif)} is not allowed on a ${type} order`;
    case R.CONTINGENCY_INVALID:
      return `${who}: 'contingency' ${req.contingency} is invalid (an OCO order needs 'linkedOrderIds')`;
    case R.ORDER_LIST_REQUIRED:
      return `${who}: 'orderListId' is required for a contingent order`;
    case R.QTY_BELOW_MIN:
      return `${who}: 'qty' ${qty(req.qty)} is below the minimum ${inst === undefined ? '' : qty(inst.minQty)}`;
    case R.QTY_ABOVE_MAX:
      return `${who}: 'qty' ${qty(req.qty)} is above the maximum ${inst === undefined ? '' : qty(typeIsMarketable(req.type) ? inst.marketMaxQty : inst.maxQty)}`;
    case R.PRICE_OUT_OF_RANGE:
      return `${who}: 'price'/'triggerPrice' is outside the venue's range ${inst === undefined ? '' : `${px(inst.minPrice)}..${px(inst.maxPrice)}`}`;
    case R.NOTIONAL_BELOW_MIN:
      return `${who}: order value is below the minimum notional${inst === undefined ? '' : ` ${stepsToDecimal(inst.minNotional, inst.settlement.unit)} ${inst.settlement.code}`}`;
    case R.INSTRUMENT_MISMATCH:
      return `${who}: 'instrumentId' ${req.instrumentId} does not match instrument ${inst?.id}`;
    case R.FLAGS_INVALID:
      return `${who}: 'flags' ${req.flags} has unknown bits (POST_ONLY=1, REDUCE_ONLY=2)`;
    default:
      return `${who}: invalid (reason ${reason})`;
  }
}

/** Edge: throws Bot4Error ORDER_INVALID with the message when the request is invalid. */
export function assertValidOrderRequest(req: OrderRequest, inst?: Instrument): void {
  const reason = validateOrderRequest(req, inst);
  if (reason === R.OK) return;
  throw new Bot4Error(ErrorCode.ORDER_INVALID, orderReasonMessage(reason, req, inst), {
    reason,
    clientOrderId: req.clientOrderId,
  });
}
