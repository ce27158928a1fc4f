// A scripted venue for tests, benchmarks and examples: it records what it was asked and answers only when
// told to (or acknowledges at once when `autoAccept`), so a test can play any venue behaviour, including
// late, duplicate and out-of-order events. The simulated exchange (src/venues/sim) is the realistic venue.

import type { Clock } from '../core/clock.ts';
import type { Micros, OrderId } from '../core/units.ts';
import { OrderEvent } from '../model/events.ts';
import { LiquiditySide } from '../model/instrument.ts';
import { NO_PRICE, type Order, OrderType } from '../model/order.ts';
import { OrderEventKind } from '../model/order-state.ts';
import { typeMask, type VenueClient, type VenueEventSink } from './venue.ts';

export const ALL_ORDER_TYPES = typeMask(
  OrderType.MARKET,
  OrderType.LIMIT,
  OrderType.STOP_MARKET,
  OrderType.STOP_LIMIT,
  OrderType.TRAILING_STOP_MARKET,
  OrderType.TRAILING_STOP_LIMIT,
  OrderType.MARKET_IF_TOUCHED,
  OrderType.LIMIT_IF_TOUCHED,
);
export const BASIC_ORDER_TYPES = typeMask(OrderType.MARKET, OrderType.LIMIT);

export interface StubCall {
  op: 'submit' | 'modify' | 'cancel';
  orderId: OrderId;
  asType: number;
  qty: number;
  price: number;
  triggerPrice: number;
}

export class StubVenue implements VenueClient {
  readonly name: string;
  readonly nativeTypes: number;
  /** Acknowledge every submit/modify/cancel synchronously (benchmarks, simple scenarios). */
  autoAccept = false;
  /** Record calls (tests); off in benchmarks so the venue allocates nothing. */
  record = true;
  readonly calls: StubCall[] = [];
  sink: VenueEventSink | undefined = undefined;
  private readonly clock: Clock;
  /** One record per nesting level: a handler of a delivered event may cause another delivery. */
  private readonly events: OrderEvent[] = Array.from({ length: 8 }, () => new OrderEvent());
  private depth = 0;
  private nextTrade = 1;

  constructor(name: string, clock: Clock, nativeTypes = BASIC_ORDER_TYPES) {
    this.name = name;
    this.clock = clock;
    this.nativeTypes = nativeTypes;
  }

  submit(order: Order, asType: OrderType): void {
    if (this.record)
      this.calls.push({
        op: 'submit',
        orderId: order.id,
        asType,
        qty: order.qty,
        price: order.price,
        triggerPrice: order.triggerPrice,
      });
    if (this.autoAccept) this.send(order.id, OrderEventKind.ACCEPTED);
  }

  modify(order: Order, qty: number, price: number, triggerPrice: number): void {
    if (this.record)
      this.calls.push({ op: 'modify', orderId: order.id, asType: order.type, qty, price, triggerPrice });
    if (this.autoAccept) this.update(order.id, qty, price, triggerPrice);
  }

  cancel(order: Order): void {
    if (this.record)
      this.calls.push({
        op: 'cancel',
        orderId: order.id,
        asType: order.type,
        qty: 0,
        price: NO_PRICE,
        triggerPrice: NO_PRICE,
      });
    if (this.autoAccept) this.send(order.id, OrderEventKind.CANCELED);
  }

  // ---- scripted answers --------------------------------------------------------------------------------------

  /** Delivers an event of `kind` (ACCEPTED, REJECTED, CANCELED, EXPIRED, CANCEL_REJECTED ...). */
  send(orderId: OrderId | number, kind: OrderEventKind, reason = ''): void {
    const ev = this.begin(orderId, kind);
    // Benchmarks switch recording off: then no venue id string is built per order either.
    if (kind === OrderEventKind.ACCEPTED && this.record) ev.setVenueOrderId(`V${orderId}`);
    if (reason !== '') ev.setReason(1, reason);
    this.deliver(ev);
  }

  fill(
    orderId: OrderId | number,
    qty: number,
    px: number,
    fee = 0,
    tradeId = `T${this.nextTrade++}`,
    feeCurrencyId = -1,
    liquidity: number = LiquiditySide.TAKER,
  ): void {
    const ev = this.begin(orderId, OrderEventKind.FILLED);
    ev.setFill(qty, px, fee, feeCurrencyId, liquidity as LiquiditySide, tradeId);
    this.deliver(ev);
  }

  update(orderId: OrderId | number, qty: number, price: number, triggerPrice: number): void {
    const ev = this.begin(orderId, OrderEventKind.UPDATED);
    ev.setUpdate(qty, price, triggerPrice);
    this.deliver(ev);
  }

  private begin(orderId: OrderId | number, kind: OrderEventKind): OrderEvent {
    const now = this.clock.now();
    return this.events[this.depth]!.init(kind, orderId as OrderId, 0, now as Micros, now as Micros);
  }

  private deliver(ev: OrderEvent): void {
    if (this.sink === undefined) throw new Error(`stub venue ${this.name} has no event sink`);
    this.depth++;
    try {
      this.sink.onVenueEvent(ev);
    } finally {
      this.depth--;
    }
  }
}
