// The execution engine (OMS): strategies' commands go in, pass the risk gate, and are routed to a venue or
// held by the emulator; venue events come back, are checked against the one order state machine and
// published on the bus. Duplicate and out-of-order venue events are counted and dropped, never crashed on.
// Contingent orders (OCO, OTO, brackets) are managed here as groups, so every venue gets them.

import type { Clock } from '../core/clock.ts';
import { Bot4Error, ErrorCode } from '../core/errors.ts';
import type { MessageBus, Topic } from '../core/message-bus.ts';
import type { Micros, OrderId, VenueId } from '../core/units.ts';
import { ObjectPool } from '../memory/object-pool.ts';
import { ApplyResult, applyEvent, OrderEvent } from '../model/events.ts';
import type { Instrument } from '../model/instrument.ts';
import type { QuoteTick, TradeTick } from '../model/market-data.ts';
import {
  ContingencyType,
  hasPrice,
  NO_PRICE,
  Order,
  OrderRequest,
  OrderType,
  orderReasonMessage,
  typeHasLimitPrice,
  validateOrderRequest,
} from '../model/order.ts';
import { isOpen, isTerminal, OrderEventKind, OrderStatus } from '../model/order-state.ts';
import type { Cache } from './cache.ts';
import { OrderEmulator } from './emulator.ts';
import { acceptAllRisk, type RiskGate, type VenueClient, type VenueEventSink } from './venue.ts';

export const ORDER_EVENTS_TOPIC = 'orders.events';

/** Why the engine refused a command, for denials it makes itself (risk has its own codes, offset by 1000). */
export const EngineReason = {
  /** validateOrderRequest's reason codes are used as they are (1..99). */
  NO_VENUE: 100,
  UNKNOWN_INSTRUMENT: 101,
  ORDER_NOT_OPEN: 102,
  /** A cancel or an amendment is already in flight: wait for its answer. */
  ORDER_PENDING: 103,
  RISK: 1000,
} as const;

export interface ExecutionStats {
  submitted: number;
  denied: number;
  /** Venue events applied. */
  applied: number;
  /** The same event delivered twice (same fill id, an ack for an order already working...). */
  duplicates: number;
  /** Events the state machine refused (out of order, after a terminal state) or that were malformed. */
  rejectedEvents: number;
  /** Venue events for an order id the engine does not know. */
  unknownOrders: number;
  released: number;
}

export interface ExecutionEngineOptions {
  bus: MessageBus;
  clock: Clock;
  cache: Cache;
  risk?: RiskGate;
  /** Preallocated orders (config memory.pools.orders). */
  orderCapacity?: number;
  /** Called for each venue event the engine refuses (for logs); the default ignores them. */
  onAnomaly?: (ev: OrderEvent, result: number, order: Order | undefined) => void;
}

/** A group of contingent orders. Children of OTO/bracket parents exist only as requests until released. */
class OrderList {
  id = 0;
  type: ContingencyType = ContingencyType.NONE;
  parentId = 0 as OrderId;
  /** Child requests of an OTO/bracket parent, copied at submission. */
  childRequests: OrderRequest[] = [];
  /** Live orders of the group that are linked one-cancels-other (OCO pair, or a bracket's TP/SL). */
  ocoIds: OrderId[] = [];
  released = false;
}

/**
 * Nesting depth of event publication: a handler may submit an order while an event is being published, so
 * each depth has its own event record (no allocation, and the outer event stays intact).
 */
const MAX_DEPTH = 16;

export class ExecutionEngine implements VenueEventSink {
  readonly cache: Cache;
  readonly stats: ExecutionStats = {
    submitted: 0,
    denied: 0,
    applied: 0,
    duplicates: 0,
    rejectedEvents: 0,
    unknownOrders: 0,
    released: 0,
  };
  private readonly bus: MessageBus;
  private readonly clock: Clock;
  private readonly topic: Topic<OrderEvent>;
  private risk: RiskGate;
  private readonly venues: (VenueClient | undefined)[] = [];
  private readonly pool: ObjectPool<Order>;
  private readonly emulator: OrderEmulator;
  private readonly events: OrderEvent[] = [];
  /** The request view of an order under validation (validation reads requests). */
  private readonly scratch = new OrderRequest();
  private depth = 0;
  private nextOrderId = 1;
  private nextListId = 1;
  private readonly lists: (OrderList | undefined)[] = [undefined];
  /** Fill ids already applied, to drop a fill delivered twice (stream and REST, reconnect replay). */
  private readonly seenFills = new Map<string, OrderId>();
  private readonly onAnomaly: (ev: OrderEvent, result: number, order: Order | undefined) => void;

  constructor(options: ExecutionEngineOptions) {
    this.bus = options.bus;
    this.clock = options.clock;
    this.cache = options.cache;
    this.risk = options.risk ?? acceptAllRisk;
    this.onAnomaly = options.onAnomaly ?? (() => {});
    this.topic = this.bus.topic<OrderEvent>(ORDER_EVENTS_TOPIC);
    this.pool = new ObjectPool<Order>({
      name: 'orders',
      capacity: options.orderCapacity ?? 10_000,
      factory: () => new Order(),
    });
    for (let i = 0; i < MAX_DEPTH; i++) this.events.push(new OrderEvent());
    this.emulator = new OrderEmulator({
      release: (order, px) => this.releaseEmulated(order, px),
      trail: (order, trigger) => this.localUpdate(order, 0, NO_PRICE, trigger),
    });
  }

  /** The topic order events are published on (subscribe the portfolio before strategies: lower priority). */
  get orderEvents(): Topic<OrderEvent> {
    return this.topic;
  }

  setRisk(risk: RiskGate): void {
    this.risk = risk;
  }

  registerVenue(venueId: VenueId, client: VenueClient): void {
    while (this.venues.length <= venueId) this.venues.push(undefined);
    this.venues[venueId] = client;
  }

  // ---- commands -------------------------------------------------------------------------------------------

  /**
   * Creates an order from `req`, checks it and sends it on. Returns the order: DENIED (with lastReason) when
   * the request or risk refused it, otherwise SUBMITTED (venue) or ACCEPTED (held by the emulator).
   */
  submit(req: OrderRequest): Order {
    const order = this.create(req);
    this.send(order);
    return order;
  }

  /**
   * Two orders linked one-cancels-other: when one fills the other is cancelled (or reduced by a partial
   * fill); when one is cancelled, expires or is rejected, the other is cancelled too.
   */
  submitOco(a: OrderRequest, b: OrderRequest): [Order, Order] {
    const list = this.newList(ContingencyType.OCO);
    // Ids are sequential, so each order can name its sibling before the sibling exists.
    const oa = this.create(a, list, (this.nextOrderId + 1) as OrderId);
    const ob = this.create(b, list, oa.id);
    list.ocoIds.push(oa.id, ob.id);
    this.send(oa);
    this.send(ob);
    if (isTerminal(oa.status) || isTerminal(ob.status))
      this.onOcoClosed(list, isTerminal(oa.status) ? oa : ob);
    return [oa, ob];
  }

  /** A parent whose fill releases a child order (for the filled quantity). */
  submitOto(parent: OrderRequest, child: OrderRequest): Order {
    const list = this.newList(ContingencyType.OTO);
    list.childRequests.push(child);
    const order = this.create(parent, list);
    list.parentId = order.id;
    this.send(order);
    return order;
  }

  /**
   * Entry plus take-profit and stop-loss. The exits exist only once the entry fills (created then, for the
   * filled quantity, and linked one-cancels-other); an entry that ends unfilled ends the group.
   */
  submitBracket(entry: OrderRequest, takeProfit: OrderRequest, stopLoss: OrderRequest): Order {
    const list = this.newList(ContingencyType.BRACKET);
    list.childRequests.push(takeProfit, stopLoss);
    const order = this.create(entry, list);
    list.parentId = order.id;
    this.send(order);
    return order;
  }

  /** Requests an amendment; 0 = sent, else a reason code (the order is unchanged). */
  modify(orderId: OrderId, qty: number, price: number, triggerPrice: number): number {
    const order = this.cache.order(orderId);
    if (order === undefined || !isOpen(order.status)) return EngineReason.ORDER_NOT_OPEN;
    if (order.status === OrderStatus.PENDING_UPDATE || order.status === OrderStatus.PENDING_CANCEL) {
      return EngineReason.ORDER_PENDING;
    }
    const inst = this.cache.instruments.get(order.instrumentId)!;
    const denial = this.risk.checkModify(order, inst, qty, price, triggerPrice);
    if (denial !== 0) return EngineReason.RISK + denial;
    if (this.emulator.isHeld(order)) {
      this.localUpdate(order, qty, price, triggerPrice);
      return 0;
    }
    this.local(order, OrderEventKind.PENDING_UPDATE);
    this.venueOf(order).modify(order, qty, price, triggerPrice);
    return 0;
  }

  /** Requests cancellation; false when the order is not open. Held (emulated) orders cancel at once. */
  cancel(orderId: OrderId): boolean {
    const order = this.cache.order(orderId);
    if (order === undefined || !isOpen(order.status)) return false;
    if (order.status === OrderStatus.PENDING_CANCEL) return true;
    if (this.emulator.isHeld(order)) {
      this.emulator.drop(order);
      this.local(order, OrderEventKind.CANCELED);
      return true;
    }
    this.local(order, OrderEventKind.PENDING_CANCEL);
    this.venueOf(order).cancel(order);
    return true;
  }

  /** Cancels every open order, or those of one instrument and/or strategy. Returns how many were asked. */
  cancelAll(filter: { instrumentId?: number; strategyId?: number } = {}): number {
    const ids =
      filter.instrumentId !== undefined
        ? this.cache.openOrderIds(filter.instrumentId as never)
        : filter.strategyId !== undefined
          ? this.cache.openOrderIdsOfStrategy(filter.strategyId as never)
          : this.cache.allOpenOrderIds();
    let n = 0;
    for (const id of [...ids]) {
      const o = this.cache.order(id)!;
      if (filter.strategyId !== undefined && o.strategyId !== filter.strategyId) continue;
      if (this.cancel(id)) n++;
    }
    return n;
  }

  /** Returns closed orders to the pool; call between batches, never while handling an event of theirs. */
  purgeClosed(): number {
    return this.cache.purgeClosed(this.releaseOrder);
  }

  private readonly releaseOrder = (order: Order): void => {
    this.pool.release(order.reset());
  };

  // ---- market data for the emulator ---------------------------------------------------------------------

  onQuote(q: QuoteTick): void {
    this.emulator.onQuote(q);
  }

  onTrade(t: TradeTick): void {
    this.emulator.onTrade(t);
  }

  // ---- venue events ----------------------------------------------------------------------------------------

  onVenueEvent(ev: OrderEvent): void {
    const order = this.cache.order(ev.orderId);
    if (order === undefined) {
      this.stats.unknownOrders++;
      this.onAnomaly(ev, ApplyResult.WRONG_ORDER, undefined);
      return;
    }
    if (this.isDuplicate(order, ev)) {
      this.stats.duplicates++;
      return;
    }
    ev.seq = order.lastEventSeq + 1;
    ev.instrumentId = order.instrumentId;
    ev.strategyId = order.strategyId;
    const result = applyEvent(order, ev);
    if (result !== ApplyResult.OK) {
      this.stats.rejectedEvents++;
      this.onAnomaly(ev, result, order);
      return;
    }
    this.stats.applied++;
    if (ev.kind === OrderEventKind.FILLED && ev.tradeId !== '') this.rememberFill(ev.tradeId, order.id);
    this.after(order, ev);
  }

  // ---- internals --------------------------------------------------------------------------------------------

  private create(req: OrderRequest, list?: OrderList, linkTo?: OrderId): Order {
    const id = this.nextOrderId++ as OrderId;
    const order = this.pool.acquire();
    if (list !== undefined) {
      req.contingency = list.type;
      req.orderListId = list.id;
    }
    if (linkTo !== undefined) req.linkedOrderIds.push(linkTo);
    if (req.tsInit === 0) req.tsInit = this.clock.now();
    const ev = this.begin(OrderEventKind.INITIALIZED, id);
    ev.setRequest(req);
    ev.seq = 1;
    const r = applyEvent(order, ev);
    if (r !== ApplyResult.OK) {
      this.end();
      throw new Bot4Error(ErrorCode.INTERNAL, `cannot initialise order ${id}: ${r}`);
    }
    this.cache.addOrder(order);
    this.publish(ev);
    this.end();
    return order;
  }

  /** Validation, risk, then the venue or the emulator. */
  private send(order: Order): void {
    const inst = this.cache.instruments.get(order.instrumentId);
    const req = orderAsRequest(order, this.scratch);
    let reason: number =
      inst === undefined ? EngineReason.UNKNOWN_INSTRUMENT : validateOrderRequest(req, inst);
    const venue = inst === undefined ? undefined : this.venues[inst.venueId];
    if (reason === 0 && venue === undefined) reason = EngineReason.NO_VENUE;
    if (reason === 0) {
      const denial = this.risk.checkSubmit(order, inst!);
      if (denial !== 0) reason = EngineReason.RISK + denial;
    }
    if (reason !== 0) {
      this.stats.denied++;
      const ev = this.begin(OrderEventKind.DENIED, order.id);
      ev.setReason(reason, this.reasonText(reason, order, inst));
      this.apply(order, ev);
      this.end();
      return;
    }
    this.stats.submitted++;
    this.local(order, OrderEventKind.SUBMITTED);
    if ((venue!.nativeTypes & (1 << order.type)) !== 0) {
      this.cache.markOpen(order);
      venue!.submit(order, order.type);
    } else if (order.type === OrderType.MARKET || order.type === OrderType.LIMIT) {
      throw new Bot4Error(ErrorCode.INTERNAL, `venue ${venue!.name} must support MARKET and LIMIT orders`);
    } else {
      // Held locally until its trigger fires: accepted by Bot4, not yet known to the venue, but open.
      this.cache.markOpen(order);
      this.local(order, OrderEventKind.ACCEPTED);
      this.emulator.hold(order);
    }
  }

  private releaseEmulated(order: Order, px: number): void {
    this.stats.released++;
    this.local(order, OrderEventKind.TRIGGERED);
    // Risk sees the order again as it leaves for the venue: the trading state may have changed since it was
    // accepted (HALTED stops everything; REDUCING still lets a protective stop through).
    const denial = this.risk.checkSubmit(order, this.cache.instruments.require(order.instrumentId));
    if (denial !== 0) {
      this.stats.denied++;
      const ev = this.begin(OrderEventKind.REJECTED, order.id);
      ev.setReason(EngineReason.RISK + denial, this.risk.reasonText(denial, order));
      this.apply(order, ev);
      this.end();
      return;
    }
    const asLimit = typeHasLimitPrice(order.type);
    // A trailing stop-limit without its own limit price works at the price that triggered it.
    if (asLimit && !hasPrice(order.price)) this.localUpdate(order, 0, px, NO_PRICE);
    this.venueOf(order).submit(order, asLimit ? OrderType.LIMIT : OrderType.MARKET);
  }

  private localUpdate(order: Order, qty: number, price: number, trigger: number): void {
    const ev = this.begin(OrderEventKind.UPDATED, order.id);
    ev.setUpdate(qty, price, trigger);
    this.apply(order, ev);
    this.end();
  }

  /** Records an event Bot4 itself decided (submitted, pending cancel, emulated accept/cancel...). */
  private local(order: Order, kind: OrderEventKind): void {
    const ev = this.begin(kind, order.id);
    this.apply(order, ev);
    this.end();
  }

  private apply(order: Order, ev: OrderEvent): void {
    ev.seq = order.lastEventSeq + 1;
    ev.setIds(order.instrumentId, order.strategyId);
    const r = applyEvent(order, ev);
    if (r !== ApplyResult.OK) {
      throw new Bot4Error(
        ErrorCode.ILLEGAL_TRANSITION,
        `engine produced an illegal ${ev.kind} for ${order.toString()} (result ${r})`,
      );
    }
    this.after(order, ev);
  }

  /** Book-keeping after an event was applied: open/closed sets, contingencies, then publication. */
  private after(order: Order, ev: OrderEvent): void {
    if (isTerminal(order.status)) {
      this.cache.markClosed(order);
      this.emulator.drop(order);
    }
    this.publish(ev);
    if (order.orderListId !== 0) this.contingency(order, ev);
  }

  private contingency(order: Order, ev: OrderEvent): void {
    const list = this.lists[order.orderListId];
    if (list === undefined) return;
    if (order.id === list.parentId) {
      // OTO / bracket parent: release the children once the parent is done filling.
      if (!list.released && isTerminal(order.status) && order.filledQty > 0)
        this.releaseChildren(list, order);
      return;
    }
    if (list.ocoIds.includes(order.id)) {
      if (ev.kind === OrderEventKind.FILLED && order.status !== OrderStatus.FILLED) {
        this.reduceSiblings(list, order, ev.fillQty);
      } else if (isTerminal(order.status)) {
        this.onOcoClosed(list, order);
      }
    }
  }

  private releaseChildren(list: OrderList, parent: Order): void {
    list.released = true;
    const bracket = list.type === ContingencyType.BRACKET;
    const children: Order[] = [];
    const first = this.nextOrderId;
    for (const [i, req] of list.childRequests.entries()) {
      req.qty = parent.filledQty;
      req.tsInit = this.clock.now();
      req.parentOrderId = parent.id;
      // A bracket's take-profit and stop-loss name each other (ids are sequential).
      const child = this.create(req, list, bracket ? ((i === 0 ? first + 1 : first) as OrderId) : undefined);
      if (bracket) list.ocoIds.push(child.id);
      children.push(child);
    }
    for (const child of children) this.send(child);
    if (bracket) {
      const closed = children.find((c) => isTerminal(c.status));
      if (closed !== undefined) this.onOcoClosed(list, closed);
    }
  }

  /** A partial fill of one OCO member takes the same quantity off the others. */
  private reduceSiblings(list: OrderList, filled: Order, qty: number): void {
    for (const id of list.ocoIds) {
      if (id === filled.id) continue;
      const s = this.cache.order(id);
      if (s === undefined || !isOpen(s.status) || s.status === OrderStatus.PENDING_CANCEL) continue;
      const newQty = s.qty - qty;
      // When an amendment cannot be sent (one already in flight), cancelling is the safe side.
      if (newQty <= s.filledQty || this.modify(id, newQty, NO_PRICE, NO_PRICE) !== 0) this.cancel(id);
    }
  }

  private onOcoClosed(list: OrderList, closed: Order): void {
    for (const id of list.ocoIds) {
      if (id !== closed.id) this.cancel(id);
    }
  }

  private isDuplicate(order: Order, ev: OrderEvent): boolean {
    if (ev.kind === OrderEventKind.FILLED) {
      return ev.tradeId !== '' && this.seenFills.get(ev.tradeId) === order.id;
    }
    // An ack for an order already working (resent ack, or an emulated order the venue now acknowledges).
    // Its venue order id also arrives with the fills, which record it.
    if (ev.kind === OrderEventKind.ACCEPTED && isOpen(order.status)) {
      const pending =
        order.status === OrderStatus.PENDING_UPDATE || order.status === OrderStatus.PENDING_CANCEL;
      return (pending ? order.prevStatus : order.status) !== OrderStatus.SUBMITTED;
    }
    // The same terminal news twice (cancel confirmed by stream and by REST).
    return isTerminal(order.status) && statusOf(ev.kind) === order.status;
  }

  private rememberFill(tradeId: string, orderId: OrderId): void {
    // Bounded: forget the oldest half when full (duplicates arrive within seconds, not days).
    if (this.seenFills.size >= 200_000) {
      let drop = 100_000;
      for (const key of this.seenFills.keys()) {
        this.seenFills.delete(key);
        if (--drop === 0) break;
      }
    }
    this.seenFills.set(tradeId, orderId);
  }

  private newList(type: ContingencyType): OrderList {
    const list = new OrderList();
    list.id = this.nextListId++;
    list.type = type;
    this.lists.push(list);
    return list;
  }

  private venueOf(order: Order): VenueClient {
    const inst = this.cache.instruments.require(order.instrumentId);
    return this.venues[inst.venueId]!;
  }

  private reasonText(reason: number, order: Order, inst: Instrument | undefined): string {
    if (reason === EngineReason.UNKNOWN_INSTRUMENT) return `unknown instrument id ${order.instrumentId}`;
    if (reason === EngineReason.NO_VENUE) return `no venue client registered for ${inst?.venue ?? '?'}`;
    if (reason >= EngineReason.RISK) return this.risk.reasonText(reason - EngineReason.RISK, order);
    return orderReasonMessage(reason, orderAsRequest(order, this.scratch), inst);
  }

  private begin(kind: OrderEventKind, orderId: OrderId): OrderEvent {
    if (this.depth >= MAX_DEPTH) {
      throw new Bot4Error(
        ErrorCode.INTERNAL,
        `order events nested deeper than ${MAX_DEPTH}: a handler loop?`,
      );
    }
    const now = this.clock.now();
    return this.events[this.depth++]!.init(kind, orderId, 0, now as Micros, now as Micros);
  }

  private end(): void {
    this.depth--;
  }

  private publish(ev: OrderEvent): void {
    this.bus.publish(this.topic, ev);
  }
}

function statusOf(kind: OrderEventKind): number {
  switch (kind) {
    case OrderEventKind.CANCELED:
      return OrderStatus.CANCELED;
    case OrderEventKind.EXPIRED:
      return OrderStatus.EXPIRED;
    case OrderEventKind.REJECTED:
      return OrderStatus.REJECTED;
    case OrderEventKind.FILLED:
      return OrderStatus.FILLED;
    default:
      return -1;
  }
}

/**
 * The request an order was made from, for validation (fills `into`, allocation-free). Every field is written, so
 * no reset() first (it would write each one twice on every submit).
 */
export function orderAsRequest(order: Order, into: OrderRequest): OrderRequest {
  into.clientOrderId = order.clientOrderId;
  into.strategyId = order.strategyId;
  into.instrumentId = order.instrumentId;
  into.side = order.side;
  into.type = order.type;
  into.qty = order.qty;
  into.price = order.price;
  into.triggerPrice = order.triggerPrice;
  into.tif = order.tif;
  into.expireTime = order.expireTime;
  into.flags = order.flags;
  into.displayQty = order.displayQty;
  into.trailingOffsetType = order.trailingOffsetType;
  into.trailingOffset = order.trailingOffset;
  into.contingency = order.contingency;
  into.orderListId = order.orderListId;
  into.parentOrderId = order.parentOrderId;
  const ids = into.linkedOrderIds;
  if (ids.length !== 0) ids.length = 0;
  for (let k = 0; k < order.linkedOrderIds.length; k++) ids.push(order.linkedOrderIds[k]!);
  into.tsInit = order.tsInit;
  return into;
}
