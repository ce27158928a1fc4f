import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { InstrumentId, Micros, OrderId, PriceTicks, QtyLots } from '../core/units.ts';
import { rebuildOrder } from '../model/events.ts';
import { QuoteTick, TradeTick } from '../model/market-data.ts';
import { OrderSide, OrderType, TimeInForce, TrailingOffsetType } from '../model/order.ts';
import { isTerminal, OrderEventKind, OrderStatus, orderEventName } from '../model/order-state.ts';
import { EngineReason } from './engine.ts';
import { ALL_ORDER_TYPES } from './stub-venue.ts';
import { makeKit, req } from './test-kit.ts';
import type { RiskGate } from './venue.ts';

const S = OrderStatus;
const K = OrderEventKind;

function quote(instrumentId: number, bid: number, ask: number): QuoteTick {
  const q = new QuoteTick();
  q.instrumentId = instrumentId as InstrumentId;
  q.bidPx = bid as PriceTicks;
  q.askPx = ask as PriceTicks;
  q.bidQty = 1 as QtyLots;
  q.askQty = 1 as QtyLots;
  return q;
}

function trade(instrumentId: number, px: number): TradeTick {
  const t = new TradeTick();
  t.instrumentId = instrumentId as InstrumentId;
  t.px = px as PriceTicks;
  t.qty = 1 as QtyLots;
  return t;
}

const kinds = (k: ReturnType<typeof makeKit>, id: number) =>
  k.log.filter((e) => e.orderId === id).map((e) => orderEventName(e.kind));

describe('ExecutionEngine: the order life cycle', () => {
  it('submits, accepts, fills in parts, and publishes every transition in order', () => {
    const k = makeKit();
    const o = k.engine.submit(req(k.btc, { qty: 10 as QtyLots, price: 600_000 as PriceTicks }));
    expect(o.status).toBe(S.SUBMITTED);
    expect(k.venue.calls).toEqual([
      expect.objectContaining({ op: 'submit', orderId: o.id, asType: OrderType.LIMIT }),
    ]);
    expect(k.engine.cache.isOpen(o.id)).toBe(true);
    k.venue.send(o.id, K.ACCEPTED);
    k.venue.fill(o.id, 4, 600_000);
    k.venue.fill(o.id, 6, 599_990);
    expect(o.status).toBe(S.FILLED);
    expect(o.filledQty).toBe(10);
    expect(o.avgPx).toBeCloseTo((4 * 600_000 + 6 * 599_990) / 10, 9);
    expect(o.venueOrderId).toBe(`V${o.id}`);
    expect(kinds(k, o.id)).toEqual(['INITIALIZED', 'SUBMITTED', 'ACCEPTED', 'FILLED', 'FILLED']);
    expect(k.engine.cache.isOpen(o.id)).toBe(false);
    expect(k.log.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]);
  });

  it('denies an invalid request with a reason naming the field, and never sends it', () => {
    const k = makeKit();
    const o = k.engine.submit(req(k.btc, { qty: 10 as QtyLots })); // LIMIT without a price
    expect(o.status).toBe(S.DENIED);
    expect(k.venue.calls).toEqual([]);
    const denied = k.log.find((e) => e.kind === K.DENIED)!;
    expect(denied.reason).toMatch(/price/i);
    expect(k.engine.stats.denied).toBe(1);
  });

  it('passes every order through the risk gate; a denial carries the gate reason', () => {
    const risk: RiskGate = {
      checkSubmit: (order) => (order.qty > 5 ? 7 : 0),
      checkModify: () => 0,
      reasonText: (code, order) => `max order quantity 5 lots exceeded: ${order.qty} (code ${code})`,
    };
    const k = makeKit({ risk });
    const big = k.engine.submit(req(k.btc, { qty: 6 as QtyLots, price: 600_000 as PriceTicks }));
    const small = k.engine.submit(req(k.btc, { qty: 5 as QtyLots, price: 600_000 as PriceTicks }));
    expect(big.status).toBe(S.DENIED);
    expect(big.lastReason).toBe(EngineReason.RISK + 7);
    expect(k.log.find((e) => e.kind === K.DENIED)?.reason).toBe(
      'max order quantity 5 lots exceeded: 6 (code 7)',
    );
    expect(small.status).toBe(S.SUBMITTED);
    expect(k.venue.calls.map((c) => c.orderId)).toEqual([small.id]);
  });

  it('cancels through the venue, and a cancel reject returns the order to where it was', () => {
    const k = makeKit();
    const o = k.engine.submit(req(k.btc, { qty: 10 as QtyLots, price: 600_000 as PriceTicks }));
    k.venue.send(o.id, K.ACCEPTED);
    k.venue.fill(o.id, 3, 600_000);
    expect(k.engine.cancel(o.id)).toBe(true);
    expect(o.status).toBe(S.PENDING_CANCEL);
    k.venue.send(o.id, K.CANCEL_REJECTED, 'too late');
    expect(o.status).toBe(S.PARTIALLY_FILLED);
    k.engine.cancel(o.id);
    k.venue.send(o.id, K.CANCELED);
    expect(o.status).toBe(S.CANCELED);
    expect(k.engine.cancel(o.id)).toBe(false);
  });

  it('modifies through the venue and applies the venue answer', () => {
    const k = makeKit();
    const o = k.engine.submit(req(k.btc, { qty: 10 as QtyLots, price: 600_000 as PriceTicks }));
    k.venue.send(o.id, K.ACCEPTED);
    expect(k.engine.modify(o.id, 8, 600_100, Number.NaN)).toBe(0);
    expect(o.status).toBe(S.PENDING_UPDATE);
    k.venue.update(o.id, 8, 600_100, Number.NaN);
    expect(o.status).toBe(S.ACCEPTED);
    expect([o.qty, o.price, o.leavesQty]).toEqual([8, 600_100, 8]);
    expect(k.engine.modify(999 as OrderId, 1, 1, 1)).toBe(EngineReason.ORDER_NOT_OPEN);
  });

  it('handles duplicate, late and unknown venue events without crashing or changing state', () => {
    const k = makeKit();
    const o = k.engine.submit(req(k.btc, { qty: 10 as QtyLots, price: 600_000 as PriceTicks }));
    k.venue.fill(o.id, 4, 600_000, 0, 'T-1'); // fill before the ack: implicit accept
    k.venue.fill(o.id, 4, 600_000, 0, 'T-1'); // the same fill again (stream + REST)
    k.venue.send(o.id, K.ACCEPTED); // late ack after the fill: no-op
    k.venue.send(o.id, K.ACCEPTED); // and again
    expect(o.status).toBe(S.PARTIALLY_FILLED);
    expect(o.filledQty).toBe(4);
    k.venue.fill(o.id, 6, 600_000, 0, 'T-2');
    k.venue.send(o.id, K.CANCELED); // cancel after the order filled: refused
    k.venue.fill(o.id, 1, 600_000, 0, 'T-3'); // a fill beyond the order: refused
    k.venue.send(12345, K.ACCEPTED); // unknown order
    expect(o.status).toBe(S.FILLED);
    expect(o.filledQty).toBe(10);
    // Duplicates: the repeated fill and both acks that trailed the first fill.
    expect(k.engine.stats).toMatchObject({ duplicates: 3, unknownOrders: 1, rejectedEvents: 2 });
  });

  it('rebuilds every order from the published event log alone', () => {
    const k = makeKit();
    const a = k.engine.submit(req(k.btc, { qty: 10 as QtyLots, price: 600_000 as PriceTicks }));
    const b = k.engine.submit(
      req(k.btc, { side: OrderSide.SELL, qty: 3 as QtyLots, type: OrderType.MARKET }),
    );
    k.venue.send(a.id, K.ACCEPTED);
    k.venue.fill(a.id, 2, 600_000);
    k.venue.fill(b.id, 3, 599_000);
    k.engine.cancel(a.id);
    k.venue.send(a.id, K.CANCELED);
    for (const o of [a, b]) {
      const rebuilt = rebuildOrder(k.log.filter((e) => e.orderId === o.id));
      expect({ ...rebuilt }).toEqual({ ...o });
    }
  });

  it('cancels all open orders of a strategy', () => {
    const k = makeKit();
    const ids = [1, 2, 3].map(
      (i) => k.engine.submit(req(k.btc, { qty: i as QtyLots, price: 600_000 as PriceTicks })).id,
    );
    for (const id of ids) k.venue.send(id, K.ACCEPTED);
    expect(k.engine.cancelAll({ strategyId: 1 })).toBe(3);
    expect(k.venue.calls.filter((c) => c.op === 'cancel').map((c) => c.orderId)).toEqual(ids);
  });
});

describe('ExecutionEngine: emulated order types', () => {
  it('holds a stop-market the venue lacks and releases it as MARKET when the ask reaches the trigger', () => {
    const k = makeKit();
    const o = k.engine.submit(
      req(k.btc, { type: OrderType.STOP_MARKET, qty: 5 as QtyLots, triggerPrice: 610_000 as PriceTicks }),
    );
    expect(o.status).toBe(S.ACCEPTED);
    expect(k.venue.calls).toEqual([]);
    k.engine.onQuote(quote(k.btc.id, 609_990, 609_999));
    expect(k.venue.calls).toEqual([]);
    k.engine.onQuote(quote(k.btc.id, 609_999, 610_000));
    expect(o.status).toBe(S.TRIGGERED);
    expect(k.venue.calls).toEqual([
      expect.objectContaining({ op: 'submit', orderId: o.id, asType: OrderType.MARKET }),
    ]);
    k.venue.fill(o.id, 5, 610_001);
    expect(o.status).toBe(S.FILLED);
    expect(kinds(k, o.id)).toEqual(['INITIALIZED', 'SUBMITTED', 'ACCEPTED', 'TRIGGERED', 'FILLED']);
  });

  it('sends stops straight to a venue that supports them', () => {
    const k = makeKit({ nativeTypes: ALL_ORDER_TYPES });
    const o = k.engine.submit(
      req(k.btc, { type: OrderType.STOP_MARKET, qty: 5 as QtyLots, triggerPrice: 610_000 as PriceTicks }),
    );
    expect(o.status).toBe(S.SUBMITTED);
    expect(k.venue.calls[0]).toMatchObject({ asType: OrderType.STOP_MARKET });
  });

  it('releases a sell stop-limit as LIMIT at its price when a trade prints at or below the trigger', () => {
    const k = makeKit();
    const o = k.engine.submit(
      req(k.btc, {
        side: OrderSide.SELL,
        type: OrderType.STOP_LIMIT,
        qty: 2 as QtyLots,
        triggerPrice: 590_000 as PriceTicks,
        price: 589_000 as PriceTicks,
      }),
    );
    k.engine.onTrade(trade(k.btc.id, 590_001));
    expect(k.venue.calls).toEqual([]);
    k.engine.onTrade(trade(k.btc.id, 590_000));
    expect(k.venue.calls[0]).toMatchObject({ asType: OrderType.LIMIT, price: 589_000 });
    expect(o.status).toBe(S.TRIGGERED);
  });

  it('fires if-touched orders the other way round from stops', () => {
    const k = makeKit();
    const buyMit = k.engine.submit(
      req(k.btc, {
        type: OrderType.MARKET_IF_TOUCHED,
        qty: 1 as QtyLots,
        triggerPrice: 590_000 as PriceTicks,
      }),
    );
    k.engine.onTrade(trade(k.btc.id, 595_000));
    expect(buyMit.status).toBe(S.ACCEPTED);
    k.engine.onTrade(trade(k.btc.id, 589_900));
    expect(buyMit.status).toBe(S.TRIGGERED);
    expect(k.venue.calls[0]).toMatchObject({ asType: OrderType.MARKET });
  });

  it('trails a sell stop behind the peak by a tick offset and fires on the pull-back', () => {
    const k = makeKit();
    const o = k.engine.submit(
      req(k.btc, {
        side: OrderSide.SELL,
        type: OrderType.TRAILING_STOP_MARKET,
        qty: 1 as QtyLots,
        trailingOffsetType: TrailingOffsetType.TICKS,
        trailingOffset: 100,
      }),
    );
    for (const px of [600_000, 600_500, 600_450, 601_000]) k.engine.onTrade(trade(k.btc.id, px));
    expect(o.triggerPrice).toBe(600_900); // peak 601_000 - 100, never loosened by the dip to 600_450
    k.engine.onTrade(trade(k.btc.id, 600_901));
    expect(o.status).toBe(S.ACCEPTED);
    k.engine.onTrade(trade(k.btc.id, 600_900));
    expect(o.status).toBe(S.TRIGGERED);
    expect(k.venue.calls[0]).toMatchObject({ asType: OrderType.MARKET });
  });

  it('trails a buy stop above the trough by basis points', () => {
    const k = makeKit();
    const o = k.engine.submit(
      req(k.btc, {
        type: OrderType.TRAILING_STOP_MARKET,
        qty: 1 as QtyLots,
        trailingOffsetType: TrailingOffsetType.BASIS_POINTS,
        trailingOffset: 50,
      }),
    );
    k.engine.onTrade(trade(k.btc.id, 600_000));
    expect(o.triggerPrice).toBe(603_000); // 600_000 + 0.5%
    k.engine.onTrade(trade(k.btc.id, 590_000));
    expect(o.triggerPrice).toBe(592_950);
    k.engine.onTrade(trade(k.btc.id, 592_950));
    expect(o.status).toBe(S.TRIGGERED);
  });

  it('cancels and modifies held orders locally, without the venue', () => {
    const k = makeKit();
    const o = k.engine.submit(
      req(k.btc, { type: OrderType.STOP_MARKET, qty: 5 as QtyLots, triggerPrice: 610_000 as PriceTicks }),
    );
    expect(k.engine.modify(o.id, 0, Number.NaN, 620_000)).toBe(0);
    expect(o.triggerPrice).toBe(620_000);
    k.engine.onQuote(quote(k.btc.id, 610_000, 610_001));
    expect(o.status).toBe(S.ACCEPTED);
    expect(k.engine.cancel(o.id)).toBe(true);
    expect(o.status).toBe(S.CANCELED);
    k.engine.onQuote(quote(k.btc.id, 630_000, 630_001));
    expect(k.venue.calls).toEqual([]);
  });
});

describe('ExecutionEngine: contingent orders', () => {
  it('OCO: a full fill of one cancels the other; a partial fill reduces it', () => {
    const k = makeKit();
    const [tp, sl] = k.engine.submitOco(
      req(k.btc, { side: OrderSide.SELL, qty: 10 as QtyLots, price: 620_000 as PriceTicks }),
      req(k.btc, { side: OrderSide.SELL, qty: 10 as QtyLots, price: 580_000 as PriceTicks }),
    );
    k.venue.send(tp.id, K.ACCEPTED);
    k.venue.send(sl.id, K.ACCEPTED);
    k.venue.fill(tp.id, 4, 620_000);
    expect(k.venue.calls.at(-1)).toMatchObject({ op: 'modify', orderId: sl.id, qty: 6 });
    k.venue.update(sl.id, 6, Number.NaN, Number.NaN);
    k.venue.fill(tp.id, 6, 620_000);
    expect(k.venue.calls.at(-1)).toMatchObject({ op: 'cancel', orderId: sl.id });
    k.venue.send(sl.id, K.CANCELED);
    expect([tp.status, sl.status]).toEqual([S.FILLED, S.CANCELED]);
  });

  it('bracket: exits appear only when the entry fills, for the filled quantity, and cancel each other', () => {
    const k = makeKit();
    const entry = k.engine.submitBracket(
      req(k.btc, { qty: 10 as QtyLots, price: 600_000 as PriceTicks }),
      req(k.btc, { side: OrderSide.SELL, qty: 10 as QtyLots, price: 620_000 as PriceTicks }),
      req(k.btc, {
        side: OrderSide.SELL,
        type: OrderType.STOP_MARKET,
        qty: 10 as QtyLots,
        triggerPrice: 590_000 as PriceTicks,
      }),
    );
    k.venue.send(entry.id, K.ACCEPTED);
    k.venue.fill(entry.id, 7, 600_000);
    expect(k.engine.cache.lastOrderId).toBe(entry.id); // no exits yet: the entry is still working
    k.engine.cancel(entry.id);
    k.venue.send(entry.id, K.CANCELED);
    const tp = k.engine.cache.order(entry.id + 1)!;
    const sl = k.engine.cache.order(entry.id + 2)!;
    expect([tp.qty, sl.qty]).toEqual([7, 7]);
    expect([tp.parentOrderId, sl.parentOrderId]).toEqual([entry.id, entry.id]);
    expect(tp.status).toBe(S.SUBMITTED); // limit at the venue
    expect(sl.status).toBe(S.ACCEPTED); // stop held by the emulator
    k.venue.send(tp.id, K.ACCEPTED);
    k.venue.fill(tp.id, 7, 620_000);
    expect(sl.status).toBe(S.CANCELED); // held stop cancelled locally
    k.engine.onQuote(quote(k.btc.id, 580_000, 580_001));
    expect(k.venue.calls.filter((c) => c.orderId === sl.id)).toEqual([]);
  });

  it('bracket: an entry that ends unfilled creates no exits', () => {
    const k = makeKit();
    const entry = k.engine.submitBracket(
      req(k.btc, { qty: 10 as QtyLots, price: 600_000 as PriceTicks }),
      req(k.btc, { side: OrderSide.SELL, qty: 10 as QtyLots, price: 620_000 as PriceTicks }),
      req(k.btc, {
        side: OrderSide.SELL,
        type: OrderType.STOP_MARKET,
        qty: 10 as QtyLots,
        triggerPrice: 590_000 as PriceTicks,
      }),
    );
    k.venue.send(entry.id, K.REJECTED, 'insufficient margin');
    expect(entry.status).toBe(S.REJECTED);
    expect(k.engine.cache.lastOrderId).toBe(entry.id);
  });

  it('OTO: the child is released for the parent filled quantity', () => {
    const k = makeKit();
    const parent = k.engine.submitOto(
      req(k.btc, { qty: 3 as QtyLots, type: OrderType.MARKET }),
      req(k.btc, { side: OrderSide.SELL, qty: 3 as QtyLots, price: 650_000 as PriceTicks }),
    );
    k.venue.fill(parent.id, 3, 600_000);
    const child = k.engine.cache.order(parent.id + 1)!;
    expect(child).toMatchObject({ status: S.SUBMITTED, qty: 3, side: OrderSide.SELL, price: 650_000 });
  });
});

describe('ExecutionEngine: properties', () => {
  const op = fc.oneof(
    fc.record({
      t: fc.constant('submit' as const),
      qty: fc.integer({ min: 1, max: 20 }),
      market: fc.boolean(),
    }),
    fc.record({ t: fc.constant('cancel' as const), pick: fc.nat() }),
    fc.record({ t: fc.constant('modify' as const), pick: fc.nat(), qty: fc.integer({ min: 1, max: 30 }) }),
    fc.record({
      t: fc.constant('venue' as const),
      pick: fc.nat(),
      kind: fc.constantFrom(
        K.ACCEPTED,
        K.REJECTED,
        K.CANCELED,
        K.EXPIRED,
        K.CANCEL_REJECTED,
        K.MODIFY_REJECTED,
        K.UPDATED,
        K.FILLED,
      ),
      qty: fc.integer({ min: 1, max: 25 }),
      dupTrade: fc.boolean(),
    }),
  );

  it('random commands and venue events never leave an order in an illegal state, and the log rebuilds them', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 80 }), (ops) => {
        const k = makeKit();
        const ids: number[] = [];
        let trade = 0;
        for (const o of ops) {
          k.clock.advanceTo((k.clock.now() + 1) as Micros);
          if (o.t === 'submit') {
            ids.push(
              k.engine.submit(
                req(
                  k.btc,
                  o.market
                    ? { qty: o.qty as QtyLots, type: OrderType.MARKET }
                    : { qty: o.qty as QtyLots, price: 600_000 as PriceTicks },
                ),
              ).id,
            );
          } else if (ids.length > 0) {
            const id = ids[o.pick % ids.length]! as OrderId;
            if (o.t === 'cancel') k.engine.cancel(id);
            else if (o.t === 'modify') k.engine.modify(id, o.qty, Number.NaN, Number.NaN);
            else if (o.kind === K.FILLED)
              k.venue.fill(id, o.qty, 600_000, 0, o.dupTrade && trade > 0 ? `T${trade}` : `T${++trade}`);
            else if (o.kind === K.UPDATED) k.venue.update(id, o.qty, Number.NaN, Number.NaN);
            else k.venue.send(id, o.kind);
          }
        }
        for (const id of ids) {
          const order = k.engine.cache.order(id)!;
          expect(order.filledQty + order.leavesQty === order.qty || isTerminal(order.status)).toBe(true);
          expect(order.filledQty).toBeLessThanOrEqual(order.qty);
          expect(order.status === S.FILLED).toBe(order.filledQty === order.qty);
          expect(k.engine.cache.isOpen(order.id)).toBe(!isTerminal(order.status));
          const rebuilt = rebuildOrder(k.log.filter((e) => e.orderId === id));
          expect({ ...rebuilt }).toEqual({ ...order });
        }
      }),
      { numRuns: 300 },
    );
  });
});

// Keep TimeInForce referenced for GTD scenarios added with the simulated exchange.
void TimeInForce;
