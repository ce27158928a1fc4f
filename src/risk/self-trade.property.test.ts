// Self-trade prevention's book-keeping (the per-(strategy, instrument, side) lists of resting orders, best first):
// after any sequence of resting orders placed, cancelled and filled by two strategies, a probe buy at the
// strategy's lowest resting sell is denied SELF_TRADE and one tick below passes (sells mirrored), the oracle being
// the engine's own open orders. Also across the record ring's growth (more than 1,024 open orders).

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { OrderId, PriceTicks, QtyLots, StrategyId } from '../core/units.ts';
import { Order, OrderRequest, OrderSide, OrderType, TimeInForce } from '../model/order.ts';
import { isOpen, OrderEventKind } from '../model/order-state.ts';
import { RiskReason } from './risk-engine.ts';
import { makeRiskKit, type RiskKit } from './testing.ts';

const U = 100_000_000;
const PX = 500_000;

function kit(orderCapacity = 256): RiskKit {
  const k = makeRiskKit({}, { keepLog: false, orderCapacity });
  k.venue.record = false;
  k.account.balances[k.usdt] = 1_000_000_000 * U;
  k.risk.onPrice(k.btc.id, PX);
  return k;
}

function place(k: RiskKit, strategy: number, side: OrderSide, price: number): Order {
  const r = new OrderRequest();
  r.instrumentId = k.btc.id;
  r.strategyId = strategy as StrategyId;
  r.side = side;
  r.type = OrderType.LIMIT;
  r.tif = TimeInForce.GTC;
  r.qty = 1 as QtyLots;
  r.price = price as PriceTicks;
  return k.engine.submit(r);
}

const probe = new Order();
const probeReq = new OrderRequest();

/** The risk code of a one-lot limit order of `strategy` at `price`, checked without submitting it. */
function check(k: RiskKit, strategy: number, side: OrderSide, price: number): number {
  probeReq.instrumentId = k.btc.id;
  probeReq.strategyId = strategy as StrategyId;
  probeReq.side = side;
  probeReq.type = OrderType.LIMIT;
  probeReq.tif = TimeInForce.GTC;
  probeReq.qty = 1 as QtyLots;
  probeReq.price = price as PriceTicks;
  probeReq.tsInit = k.clock.now();
  probe.init(999_999_999 as OrderId, probeReq);
  return k.risk.checkSubmit(probe, k.btc);
}

/** Every strategy's best resting sell and buy from the engine's open orders, probed on both sides of it. */
function expectBoundaries(k: RiskKit, open: Order[]): void {
  for (const s of [1, 2]) {
    let minSell = Number.POSITIVE_INFINITY;
    let maxBuy = Number.NEGATIVE_INFINITY;
    for (const o of open) {
      if (o.strategyId !== s || !isOpen(o.status)) continue;
      if (o.side === OrderSide.SELL) minSell = Math.min(minSell, o.price);
      else maxBuy = Math.max(maxBuy, o.price);
    }
    if (minSell !== Number.POSITIVE_INFINITY) {
      expect(check(k, s, OrderSide.BUY, minSell), `strategy ${s} buy at its best sell ${minSell}`).toBe(
        RiskReason.SELF_TRADE,
      );
      expect(check(k, s, OrderSide.BUY, minSell - 1), `strategy ${s} buy below ${minSell}`).toBe(0);
    } else {
      expect(check(k, s, OrderSide.BUY, PX + 10_000), `strategy ${s} has no resting sell`).toBe(0);
    }
    if (maxBuy !== Number.NEGATIVE_INFINITY) {
      expect(check(k, s, OrderSide.SELL, maxBuy), `strategy ${s} sell at its best buy ${maxBuy}`).toBe(
        RiskReason.SELF_TRADE,
      );
      expect(check(k, s, OrderSide.SELL, maxBuy + 1), `strategy ${s} sell above ${maxBuy}`).toBe(0);
    } else {
      expect(check(k, s, OrderSide.SELL, PX - 10_000), `strategy ${s} has no resting buy`).toBe(0);
    }
  }
}

type Step =
  | { kind: 'place'; strategy: number; sell: boolean; offset: number }
  | { kind: 'cancel' | 'fill'; pick: number }
  | { kind: 'best'; strategy: number; sell: boolean };

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({
    kind: fc.constant('place' as const),
    strategy: fc.integer({ min: 1, max: 2 }),
    sell: fc.boolean(),
    // Few distinct prices: ties at the best are common.
    offset: fc.integer({ min: 1, max: 12 }),
  }),
  fc.record({ kind: fc.constantFrom('cancel' as const, 'fill' as const), pick: fc.nat() }),
  // Cancels a strategy's best on a side: the next in its list must be the new best.
  fc.record({
    kind: fc.constant('best' as const),
    strategy: fc.integer({ min: 1, max: 2 }),
    sell: fc.boolean(),
  }),
);

describe('RiskEngine self-trade prevention: best resting prices', () => {
  it('property: the boundaries follow the open resting orders through places, cancels and fills', () => {
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 80 }), (steps) => {
        const k = kit();
        const open: Order[] = [];
        for (const st of steps) {
          if (st.kind === 'place') {
            // Sells above the mid and buys below it, so a strategy's own orders never cross each other.
            const price = st.sell ? PX + 10 * st.offset : PX - 10 * st.offset;
            const o = place(k, st.strategy, st.sell ? OrderSide.SELL : OrderSide.BUY, price);
            if (isOpen(o.status)) open.push(o);
          } else if (st.kind === 'best') {
            const side = st.sell ? OrderSide.SELL : OrderSide.BUY;
            let best = -1;
            for (let n = 0; n < open.length; n++) {
              const o = open[n]!;
              if (o.strategyId !== st.strategy || o.side !== side) continue;
              if (best < 0 || (st.sell ? o.price < open[best]!.price : o.price > open[best]!.price)) best = n;
            }
            if (best >= 0) {
              const o = open.splice(best, 1)[0]!;
              k.engine.cancel(o.id);
              k.venue.send(o.id, OrderEventKind.CANCELED);
            }
          } else if (open.length > 0) {
            const o = open.splice(st.pick % open.length, 1)[0]!;
            if (st.kind === 'cancel') {
              k.engine.cancel(o.id);
              k.venue.send(o.id, OrderEventKind.CANCELED);
            } else {
              k.venue.fill(o.id, o.leavesQty, o.price);
            }
            expect(isOpen(o.status)).toBe(false);
          }
          expectBoundaries(k, open);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('the record ring grows with 1,100 resting orders open; the lists survive the move of their records', () => {
    const k = kit(4096);
    let open: Order[] = [];
    const cancel = (o: Order): void => {
      k.engine.cancel(o.id);
      k.venue.send(o.id, OrderEventKind.CANCELED);
    };
    // Ids 1..600 come and go, so the ring (1,024 slots) holds ids above 1,023 before it grows: those move.
    for (let n = 0; n < 700; n++) open.push(place(k, 1, OrderSide.SELL, PX + 10 + ((n * 7919) % 1400)));
    for (const o of open.splice(0, 600)) cancel(o);
    for (let n = 0; n < 1000; n++) open.push(place(k, 1, OrderSide.SELL, PX + 11 + ((n * 104729) % 1400)));
    expect(k.risk.trackedOrders).toBe(1100);
    expectBoundaries(k, open);
    // Cancels in a scattered order (middle, ends) and, often, the best: every link is walked.
    let pick = 0;
    for (let round = 0; open.length > 3; round++) {
      open.sort((a, b) => a.price - b.price);
      pick = round % 3 === 0 ? 0 : (pick + 389) % open.length;
      cancel(open.splice(pick, 1)[0]!);
      if (round % 200 === 0) open.push(place(k, 1, OrderSide.SELL, PX + 12 + (round % 1400)));
      if (round % 10 === 0 || open.length < 20) expectBoundaries(k, open);
    }
    open = open.filter((o) => o.price > 0);
    expectBoundaries(k, open);
  });
});
