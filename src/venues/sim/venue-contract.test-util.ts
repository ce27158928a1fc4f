// The behaviour every venue client owes the execution engine, as a reusable Vitest suite: acknowledge with a
// venue order id, cancel, amend, answer a cancel of a closed order without breaking the order, publish a log
// that rebuilds each order. Run for the StubVenue and the SimulatedExchange; live adapters can join later.

import { describe, expect, it } from 'vitest';
import type { TestClock } from '../../core/clock.ts';
import type { Micros, PriceTicks, QtyLots } from '../../core/units.ts';
import type { ExecutionEngine } from '../../execution/engine.ts';
import { req } from '../../execution/test-kit.ts';
import type { VenueClient } from '../../execution/venue.ts';
import { type OrderEvent, rebuildOrder } from '../../model/events.ts';
import type { Instrument } from '../../model/instrument.ts';
import { OrderType } from '../../model/order.ts';
import { OrderStatus } from '../../model/order-state.ts';

export interface VenueHarness {
  engine: ExecutionEngine;
  venue: VenueClient;
  clock: TestClock;
  btc: Instrument;
  /** Every published order event, cloned. */
  log: OrderEvent[];
  /** Lets the venue answer everything sent so far (advance time past its latencies). */
  settle(): void;
  /** A price (ticks) far enough from the market that a limit buy there rests. */
  restingBuyPx: number;
}

export function describeVenueContract(name: string, make: () => VenueHarness): void {
  describe(`venue contract: ${name}`, () => {
    it('handles MARKET and LIMIT natively', () => {
      const h = make();
      const both = (1 << OrderType.MARKET) | (1 << OrderType.LIMIT);
      expect(h.venue.nativeTypes & both).toBe(both);
      expect(h.venue.name).not.toBe('');
    });

    it('acknowledges a resting limit order with a venue order id', () => {
      const h = make();
      const o = h.engine.submit(req(h.btc, { qty: 2 as QtyLots, price: h.restingBuyPx as PriceTicks }));
      h.settle();
      expect(o.status).toBe(OrderStatus.ACCEPTED);
      expect(o.venueOrderId).not.toBe('');
      expect(h.engine.cache.isOpen(o.id)).toBe(true);
    });

    it('cancels an open order; a second cancel of the closed order changes nothing', () => {
      const h = make();
      const o = h.engine.submit(req(h.btc, { qty: 2 as QtyLots, price: h.restingBuyPx as PriceTicks }));
      h.settle();
      expect(h.engine.cancel(o.id)).toBe(true);
      h.settle();
      expect(o.status).toBe(OrderStatus.CANCELED);
      expect(o.leavesQty).toBe(0);
      expect(h.engine.cancel(o.id)).toBe(false);
      h.venue.cancel(o);
      h.settle();
      expect(o.status).toBe(OrderStatus.CANCELED);
    });

    it('amends quantity and price of an open order', () => {
      const h = make();
      const o = h.engine.submit(req(h.btc, { qty: 5 as QtyLots, price: h.restingBuyPx as PriceTicks }));
      h.settle();
      expect(h.engine.modify(o.id, 3, h.restingBuyPx - 1, Number.NaN)).toBe(0);
      h.settle();
      expect(o.status).toBe(OrderStatus.ACCEPTED);
      expect([o.qty, o.price, o.leavesQty]).toEqual([3, h.restingBuyPx - 1, 3]);
    });

    it('publishes a log that rebuilds every order exactly', () => {
      const h = make();
      const a = h.engine.submit(req(h.btc, { qty: 5 as QtyLots, price: h.restingBuyPx as PriceTicks }));
      const b = h.engine.submit(req(h.btc, { qty: 1 as QtyLots, price: (h.restingBuyPx - 3) as PriceTicks }));
      h.settle();
      h.engine.modify(a.id, 4, Number.NaN, Number.NaN);
      h.engine.cancel(b.id);
      h.settle();
      for (const o of [a, b]) {
        const rebuilt = rebuildOrder(h.log.filter((e) => e.orderId === o.id));
        expect({ ...rebuilt, tsLast: 0 }).toEqual({ ...o, tsLast: 0 });
        expect(rebuilt.tsLast as Micros).toBe(o.tsLast);
      }
      expect(h.engine.stats.rejectedEvents).toBe(0);
      expect(h.engine.stats.unknownOrders).toBe(0);
    });
  });
}
