// The behaviour every venue client owes the execution engine, as a reusable Vitest suite: acknowledge with a
// venue order id, cancel, amend, answer a cancel of a closed order without breaking the order, publish a log
// that rebuilds each order. Run for the StubVenue, the SimulatedExchange and the native Binance adapter (against
// the local exchange server, where settling means waiting for the venue's answers).

import { afterEach, describe, expect, it } from 'vitest';
import type { Clock } from '../../core/clock.ts';
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
  clock: Clock;
  btc: Instrument;
  /** Every published order event, cloned. */
  log: OrderEvent[];
  /** Lets the venue answer everything sent so far (advance time past its latencies, or wait for a remote one). */
  settle(): void | Promise<void>;
  /** A price (ticks) far enough from the market that a limit buy there rests. */
  restingBuyPx: number;
  /** Lots per unit of the suite's quantities (default 1): a venue whose minimum notional is many lots scales up. */
  lotScale?: number;
  /** Releases what the harness holds (connections, servers), after each test. */
  close?(): Promise<void>;
}

export function describeVenueContract(
  name: string,
  makeHarness: () => VenueHarness | Promise<VenueHarness>,
  timeoutMs = 5_000,
): void {
  describe(`venue contract: ${name}`, { timeout: timeoutMs }, () => {
    const made: VenueHarness[] = [];
    const make = async (): Promise<VenueHarness> => {
      const h = await makeHarness();
      made.push(h);
      return h;
    };
    afterEach(async () => {
      for (const h of made.splice(0)) await h.close?.();
    });

    it('handles MARKET and LIMIT natively', async () => {
      const h = await make();
      const both = (1 << OrderType.MARKET) | (1 << OrderType.LIMIT);
      expect(h.venue.nativeTypes & both).toBe(both);
      expect(h.venue.name).not.toBe('');
    });

    it('acknowledges a resting limit order with a venue order id', async () => {
      const h = await make();
      const o = h.engine.submit(
        req(h.btc, { qty: (2 * (h.lotScale ?? 1)) as QtyLots, price: h.restingBuyPx as PriceTicks }),
      );
      await h.settle();
      expect(o.status).toBe(OrderStatus.ACCEPTED);
      expect(o.venueOrderId).not.toBe('');
      expect(h.engine.cache.isOpen(o.id)).toBe(true);
    });

    it('cancels an open order; a second cancel of the closed order changes nothing', async () => {
      const h = await make();
      const o = h.engine.submit(
        req(h.btc, { qty: (2 * (h.lotScale ?? 1)) as QtyLots, price: h.restingBuyPx as PriceTicks }),
      );
      await h.settle();
      expect(h.engine.cancel(o.id)).toBe(true);
      await h.settle();
      expect(o.status).toBe(OrderStatus.CANCELED);
      expect(o.leavesQty).toBe(0);
      expect(h.engine.cancel(o.id)).toBe(false);
      h.venue.cancel(o);
      await h.settle();
      expect(o.status).toBe(OrderStatus.CANCELED);
    });

    it('amends quantity and price of an open order', async () => {
      const h = await make();
      const o = h.engine.submit(
        req(h.btc, { qty: (5 * (h.lotScale ?? 1)) as QtyLots, price: h.restingBuyPx as PriceTicks }),
      );
      await h.settle();
      expect(h.engine.modify(o.id, 3 * (h.lotScale ?? 1), h.restingBuyPx - 1, Number.NaN)).toBe(0);
      await h.settle();
      expect(o.status).toBe(OrderStatus.ACCEPTED);
      const three = 3 * (h.lotScale ?? 1);
      expect([o.qty, o.price, o.leavesQty]).toEqual([three, h.restingBuyPx - 1, three]);
    });

    it('publishes a log that rebuilds every order exactly', async () => {
      const h = await make();
      const a = h.engine.submit(
        req(h.btc, { qty: (5 * (h.lotScale ?? 1)) as QtyLots, price: h.restingBuyPx as PriceTicks }),
      );
      const b = h.engine.submit(
        req(h.btc, { qty: (1 * (h.lotScale ?? 1)) as QtyLots, price: (h.restingBuyPx - 3) as PriceTicks }),
      );
      await h.settle();
      h.engine.modify(a.id, 4 * (h.lotScale ?? 1), Number.NaN, Number.NaN);
      h.engine.cancel(b.id);
      await h.settle();
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
