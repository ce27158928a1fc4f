// What the execution engine needs from a venue (the simulated exchange, a live adapter, a test stub) and what
// it needs from risk. Venues answer asynchronously or synchronously by calling the sink with order events;
// risk answers synchronously with a reason code (0 = pass) so the hot path needs no exception or allocation.

import type { OrderEvent } from '../model/events.ts';
import type { Instrument } from '../model/instrument.ts';
import type { Order, OrderType } from '../model/order.ts';

export interface VenueClient {
  readonly name: string;
  /** Bit (1 << OrderType) set for each order type the venue handles itself; the others are emulated. */
  readonly nativeTypes: number;
  /** Sends a new order. `asType` is the order's own type, or MARKET/LIMIT for an emulated order released. */
  submit(order: Order, asType: OrderType): void;
  /** Amends an open order; 0 / NaN for a field mean unchanged. */
  modify(order: Order, qty: number, price: number, triggerPrice: number): void;
  cancel(order: Order): void;
}

/** Where venues deliver order events (ACCEPTED, REJECTED, FILLED, CANCELED ...). The record stays the venue's. */
export interface VenueEventSink {
  onVenueEvent(ev: OrderEvent): void;
}

export function typeMask(...types: OrderType[]): number {
  let m = 0;
  for (const t of types) m |= 1 << t;
  return m;
}

/** The pre-trade gate every order passes before it reaches a venue or the emulator. */
export interface RiskGate {
  /** 0 when the order may go, else a reason code for `reasonText`. Must not allocate or throw. */
  checkSubmit(order: Order, instrument: Instrument): number;
  checkModify(order: Order, instrument: Instrument, qty: number, price: number, triggerPrice: number): number;
  /** Edge: a sentence for a denial, naming the limit and the value. */
  reasonText(code: number, order: Order): string;
}

/** The default until a real risk engine is configured: every order passes. */
export const acceptAllRisk: RiskGate = {
  checkSubmit: () => 0,
  checkModify: () => 0,
  reasonText: (code) => `denied by risk (code ${code})`,
};
