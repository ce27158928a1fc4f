// Order events: one pooled record class for every kind; applyEvent(), the only way an Order changes (never
// throws, changes nothing when it reports an error); rebuildOrder(), which replays a log into the same Order.
// Units: lots, ticks, fee in money units of feeCurrencyId; tsEvent = venue time, tsInit = Bot4 time (Micros).

import { Bot4Error, ErrorCode } from '../core/errors.ts';
import type { InstrumentId, Micros, OrderId, PriceTicks, QtyLots, StrategyId } from '../core/units.ts';
import type { Money } from './currency.ts';
import { LiquiditySide } from './instrument.ts';
import { hasPrice, NO_ORDER, NO_PRICE, Order, OrderRequest, typeHasTrigger } from './order.ts';
import {
  applyTransition,
  FILL_PARTIAL,
  illegalTransition,
  isTerminal,
  OrderEventKind,
  type OrderStatus,
  orderEventName,
  type TransitionInput,
} from './order-state.ts';

/**
 * One record for every event kind, so every consumer sees a single hidden class. Fields that do not apply to a
 * kind keep their reset values. Build with init(kind, ...) then the set*() for the kind.
 */
export class OrderEvent {
  kind: OrderEventKind = OrderEventKind.INITIALIZED;
  /** Position in the order's (or the engine's) event stream; strictly increasing per order, from 1. */
  seq = 0;
  orderId: OrderId = NO_ORDER;
  instrumentId = 0 as InstrumentId;
  strategyId = 0 as StrategyId;
  /** When it happened at the venue (or in Bot4 for local events such as DENIED, PENDING_CANCEL). */
  tsEvent = 0 as Micros;
  /** When Bot4 created this record. */
  tsInit = 0 as Micros;
  /** ACCEPTED (and a fill that implies acceptance) carry the venue's order id. */
  venueOrderId = '';
  // FILLED
  fillQty = 0 as QtyLots;
  fillPx: PriceTicks = NO_PRICE;
  /** Fee in money units of feeCurrencyId; negative for a rebate. */
  fee = 0 as Money;
  feeCurrencyId = -1;
  liquidity: LiquiditySide = LiquiditySide.NONE;
  tradeId = '';
  // DENIED, REJECTED, CANCEL_REJECTED, MODIFY_REJECTED
  reasonCode = 0;
  reason = '';
  // UPDATED: 0 / NaN mean unchanged
  newQty = 0 as QtyLots;
  newPrice: PriceTicks = NO_PRICE;
  newTriggerPrice: PriceTicks = NO_PRICE;
  /** INITIALIZED: the full request, so the log alone can rebuild the order. Preallocated, copied into. */
  readonly request: OrderRequest = new OrderRequest();
  /** True once setRequest()/copyFrom() filled `request`; init() then clears it. */
  hasRequest = false;

  /** Clears every field and sets the header. Allocation-free. */
  init(kind: OrderEventKind, orderId: OrderId, seq: number, tsEvent: Micros, tsInit: Micros): this {
    this.kind = kind;
    this.seq = seq;
    this.orderId = orderId;
    this.instrumentId = 0 as InstrumentId;
    this.strategyId = 0 as StrategyId;
    this.tsEvent = tsEvent;
    this.tsInit = tsInit;
    this.venueOrderId = '';
    this.fillQty = 0 as QtyLots;
    this.fillPx = NO_PRICE;
    this.fee = 0 as Money;
    this.feeCurrencyId = -1;
    this.liquidity = LiquiditySide.NONE;
    this.tradeId = '';
    this.reasonCode = 0;
    this.reason = '';
    this.newQty = 0 as QtyLots;
    this.newPrice = NO_PRICE;
    this.newTriggerPrice = NO_PRICE;
    // Only a record given a request carries one; resetting it for every fill would cost ~20 stores.
    if (this.hasRequest) {
      this.request.reset();
      this.hasRequest = false;
    }
    return this;
  }

  /** Routing ids (the engine fills them from the order so subscribers need no lookup). */
  setIds(instrumentId: InstrumentId, strategyId: StrategyId): this {
    this.instrumentId = instrumentId;
    this.strategyId = strategyId;
    return this;
  }

  setRequest(req: OrderRequest): this {
    this.request.copyFrom(req);
    this.hasRequest = true;
    this.instrumentId = req.instrumentId;
    this.strategyId = req.strategyId;
    return this;
  }

  setVenueOrderId(venueOrderId: string): this {
    this.venueOrderId = venueOrderId;
    return this;
  }

  setFill(
    qty: QtyLots | number,
    px: PriceTicks | number,
    fee: Money | number,
    feeCurrencyId: number,
    liquidity: LiquiditySide,
    tradeId: string,
  ): this {
    this.fillQty = qty as QtyLots;
    this.fillPx = px as PriceTicks;
    this.fee = fee as Money;
    this.feeCurrencyId = feeCurrencyId;
    this.liquidity = liquidity;
    this.tradeId = tradeId;
    return this;
  }

  setReason(code: number, text: string): this {
    this.reasonCode = code;
    this.reason = text;
    return this;
  }

  /** New quantity (0 = unchanged), price and trigger (NaN = unchanged). */
  setUpdate(qty: QtyLots | number, price: PriceTicks | number, triggerPrice: PriceTicks | number): this {
    this.newQty = qty as QtyLots;
    this.newPrice = price as PriceTicks;
    this.newTriggerPrice = triggerPrice as PriceTicks;
    return this;
  }

  copyFrom(e: OrderEvent): this {
    this.kind = e.kind;
    this.seq = e.seq;
    this.orderId = e.orderId;
    this.instrumentId = e.instrumentId;
    this.strategyId = e.strategyId;
    this.tsEvent = e.tsEvent;
    this.tsInit = e.tsInit;
    this.venueOrderId = e.venueOrderId;
    this.fillQty = e.fillQty;
    this.fillPx = e.fillPx;
    this.fee = e.fee;
    this.feeCurrencyId = e.feeCurrencyId;
    this.liquidity = e.liquidity;
    this.tradeId = e.tradeId;
    this.reasonCode = e.reasonCode;
    this.reason = e.reason;
    this.newQty = e.newQty;
    this.newPrice = e.newPrice;
    this.newTriggerPrice = e.newTriggerPrice;
    this.request.copyFrom(e.request);
    this.hasRequest = e.hasRequest;
    return this;
  }

  /** Edge: a detached copy (journal, tests). */
  clone(): OrderEvent {
    return new OrderEvent().copyFrom(this);
  }
}

/** Outcome of applyEvent. Anything but OK means the order was left exactly as it was. */
export const ApplyResult = {
  OK: 0,
  /** The state machine forbids this event in the order's state. */
  ILLEGAL_TRANSITION: 1,
  /** A fill larger than the open quantity. */
  OVERFILL: 2,
  /** The event's content is invalid: fill qty/price not positive integers, an update below the filled qty,
   *  TRIGGERED on an order without a trigger, INITIALIZED on an order that already has events. */
  INVALID_EVENT: 3,
  /** The event is for another order. */
  WRONG_ORDER: 4,
  /** seq not after the order's last applied event: a duplicate or out-of-order replay. */
  STALE_EVENT: 5,
} as const;
export type ApplyResult = (typeof ApplyResult)[keyof typeof ApplyResult];
const APPLY_NAMES = [
  'OK',
  'ILLEGAL_TRANSITION',
  'OVERFILL',
  'INVALID_EVENT',
  'WRONG_ORDER',
  'STALE_EVENT',
] as const;
export function applyResultName(r: number): string {
  return APPLY_NAMES[r] ?? `ApplyResult(${r})`;
}

function isPositiveInt(x: number): boolean {
  return Number.isSafeInteger(x) && x > 0;
}

/**
 * Applies one event to an order: validates it, runs the state machine, then updates quantities, prices and
 * timestamps. Returns an ApplyResult; on anything but OK the order is untouched. Hot path: no allocation, no
 * throw. INITIALIZED (re)initialises a blank order from the event's request.
 */
export function applyEvent(order: Order, ev: OrderEvent): ApplyResult {
  const kind = ev.kind;
  if (kind === OrderEventKind.INITIALIZED) {
    if (order.eventCount !== 0 || ev.seq < 1 || ev.orderId === NO_ORDER) return ApplyResult.INVALID_EVENT;
    order.init(ev.orderId, ev.request);
    order.lastEventSeq = ev.seq;
    order.eventCount = 1;
    return ApplyResult.OK;
  }
  if (ev.orderId !== order.id) return ApplyResult.WRONG_ORDER;
  if (ev.seq <= order.lastEventSeq) return ApplyResult.STALE_EVENT;

  let input: TransitionInput = kind;
  if (kind === OrderEventKind.FILLED) {
    const q = ev.fillQty;
    if (!isPositiveInt(q) || !isPositiveInt(ev.fillPx)) return ApplyResult.INVALID_EVENT;
    // A fill on a closed order is a transition problem, not an overfill: report what the machine says.
    if (q > order.leavesQty && !isTerminal(order.status)) return ApplyResult.OVERFILL;
    input = q === order.leavesQty ? OrderEventKind.FILLED : FILL_PARTIAL;
  } else if (kind === OrderEventKind.UPDATED) {
    const nq = ev.newQty;
    if (nq !== 0 && (!isPositiveInt(nq) || nq <= order.filledQty)) return ApplyResult.INVALID_EVENT;
    if (hasPrice(ev.newPrice) && !isPositiveInt(ev.newPrice)) return ApplyResult.INVALID_EVENT;
    if (hasPrice(ev.newTriggerPrice) && !isPositiveInt(ev.newTriggerPrice)) return ApplyResult.INVALID_EVENT;
  } else if (kind === OrderEventKind.TRIGGERED) {
    if (!typeHasTrigger(order.type)) return ApplyResult.INVALID_EVENT;
  } else if (kind > OrderEventKind.FILLED || kind < 0) {
    return ApplyResult.INVALID_EVENT;
  }

  if (!applyTransition(order, input)) return ApplyResult.ILLEGAL_TRANSITION;

  switch (kind) {
    case OrderEventKind.FILLED: {
      const q = ev.fillQty;
      order.filledQty = (order.filledQty + q) as QtyLots;
      order.leavesQty = (order.leavesQty - q) as QtyLots;
      order.fillValue += ev.fillPx * q;
      order.avgPx = order.fillValue / order.filledQty;
      if (order.venueOrderId === '' && ev.venueOrderId !== '') order.venueOrderId = ev.venueOrderId;
      break;
    }
    case OrderEventKind.ACCEPTED:
      if (ev.venueOrderId !== '') order.venueOrderId = ev.venueOrderId;
      break;
    case OrderEventKind.UPDATED:
      if (ev.newQty !== 0) {
        order.qty = ev.newQty;
        order.leavesQty = (ev.newQty - order.filledQty) as QtyLots;
      }
      if (hasPrice(ev.newPrice)) order.price = ev.newPrice;
      if (hasPrice(ev.newTriggerPrice)) order.triggerPrice = ev.newTriggerPrice;
      break;
    case OrderEventKind.DENIED:
    case OrderEventKind.REJECTED:
      order.lastReason = ev.reasonCode;
      order.leavesQty = 0 as QtyLots;
      break;
    case OrderEventKind.CANCEL_REJECTED:
    case OrderEventKind.MODIFY_REJECTED:
      order.lastReason = ev.reasonCode;
      break;
    case OrderEventKind.CANCELED:
    case OrderEventKind.EXPIRED:
      order.leavesQty = 0 as QtyLots;
      break;
    default:
      break;
  }
  order.tsLast = ev.tsEvent;
  order.lastEventSeq = ev.seq;
  order.eventCount++;
  return ApplyResult.OK;
}

/** Edge: applyEvent that throws — ILLEGAL_TRANSITION naming order, state and event, else DATA_MALFORMED. */
export function applyEventOrThrow(order: Order, ev: OrderEvent): void {
  const status = order.status;
  const prev = order.prevStatus;
  const r = applyEvent(order, ev);
  if (r === ApplyResult.OK) return;
  if (r === ApplyResult.ILLEGAL_TRANSITION) throw illegalTransition(order.id, status, ev.kind, prev);
  const detail =
    r === ApplyResult.OVERFILL
      ? `fill qty ${ev.fillQty} exceeds leaves qty ${order.leavesQty} (qty ${order.qty}, filled ${order.filledQty})`
      : r === ApplyResult.WRONG_ORDER
        ? `event is for order ${ev.orderId}`
        : r === ApplyResult.STALE_EVENT
          ? `seq ${ev.seq} is not after the last applied seq ${order.lastEventSeq}`
          : describeInvalid(order, ev);
  throw new Bot4Error(
    ErrorCode.DATA_MALFORMED,
    `order ${order.id}: ${orderEventName(ev.kind)} event seq ${ev.seq} rejected (${applyResultName(r)}): ${detail}`,
    { orderId: order.id, event: orderEventName(ev.kind), seq: ev.seq, result: applyResultName(r) },
  );
}

function describeInvalid(order: Order, ev: OrderEvent): string {
  switch (ev.kind) {
    case OrderEventKind.INITIALIZED:
      return ev.seq < 1 || ev.orderId === NO_ORDER
        ? `INITIALIZED needs seq >= 1 and an order id (got seq ${ev.seq}, id ${ev.orderId})`
        : `the order already has ${order.eventCount} events`;
    case OrderEventKind.FILLED:
      return `fillQty ${ev.fillQty} and fillPx ${ev.fillPx} must be positive whole lots and ticks`;
    case OrderEventKind.UPDATED:
      return `newQty ${ev.newQty} must exceed filled qty ${order.filledQty}; prices must be positive ticks`;
    case OrderEventKind.TRIGGERED:
      return `order type ${order.type} has no trigger`;
    default:
      return `unknown event kind ${ev.kind}`;
  }
}

/**
 * Replays an order's event log into `into` (or a new Order). The first event must be INITIALIZED. Events the
 * live order rejected are rejected again identically, so the result equals the live order either way; with
 * `strict`, any rejected event throws instead (a journal that should hold only applied events).
 */
export function rebuildOrder(
  events: readonly OrderEvent[],
  into: Order = new Order(),
  strict = false,
): Order {
  const first = events[0];
  if (first === undefined || first.kind !== OrderEventKind.INITIALIZED) {
    throw new Bot4Error(
      ErrorCode.DATA_MALFORMED,
      `cannot rebuild an order: its event log must start with INITIALIZED (got ${first === undefined ? 'no events' : orderEventName(first.kind)})`,
      { count: events.length },
    );
  }
  into.reset();
  for (let i = 0; i < events.length; i++) {
    const ev = events[i]!;
    if (strict) applyEventOrThrow(into, ev);
    else applyEvent(into, ev);
  }
  return into;
}

/** The status an order would have after the log, without building it (journal inspection). */
export function statusAfter(events: readonly OrderEvent[]): OrderStatus {
  return rebuildOrder(events).status;
}
