import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { OrderId } from '../../core/units.ts';
import { type Order, OrderFlags, OrderSide, OrderType } from '../../model/order.ts';
import { OrderEventKind, OrderStatus } from '../../model/order-state.ts';
import { makeStrategyKit, START } from '../test-kit.ts';
import { AsQuote, avellanedaStoikov, MarketMaker } from './market-maker.ts';

const MS = 1000;
// sigma 1 tick/sqrt(s), T-t 10 s, gamma 0.5: inventory risk gamma*sigma^2*(T-t) = 5 ticks per quote size;
// spread = 5 + (2/0.5) ln(1 + 0.5/0.5) = 5 + 4 ln 2 = 7.77 ticks, half 3.89.
const PARAMS = {
  qty: 0.002,
  gamma: 0.5,
  kappa: 0.5,
  sigma: 1,
  horizon: 10,
  minRequoteMs: 100,
  maxInventory: 2,
};

function working(k: ReturnType<typeof makeStrategyKit>): { bid?: Order; ask?: Order } {
  const out: { bid?: Order; ask?: Order } = {};
  for (const id of k.engine.cache.allOpenOrderIds()) {
    const o = k.engine.cache.order(id)!;
    if (o.side === OrderSide.BUY) out.bid = o;
    else out.ask = o;
  }
  return out;
}

describe('MarketMaker (Avellaneda-Stoikov)', () => {
  it('quotes both sides post-only around the reservation price, then skews down when long', () => {
    const k = makeStrategyKit();
    const mm = new MarketMaker(PARAMS);
    k.run(mm);
    k.book(k.btc.id, START, [[600_000, 5]], [[600_010, 5]]);
    let q = working(k);
    expect(mm.quote.reservation).toBe(600_005);
    expect([q.bid?.price, q.ask?.price]).toEqual([600_001, 600_009]);
    expect([q.bid?.qty, q.ask?.qty, q.bid?.type, q.bid?.flags]).toEqual([
      2,
      2,
      OrderType.LIMIT,
      OrderFlags.POST_ONLY,
    ]);

    // Our bid is hit: long one quote size. Requote at once (a fill resets the interval).
    k.venue.fill(q.bid!.id, 2, 600_001);
    expect(k.portfolio.netQty(k.btc.id)).toBe(2);
    k.book(k.btc.id, START + 10 * MS, [[600_000, 5]], [[600_010, 5]]);
    q = working(k);
    // r = s - q * 5 = 600_000: both quotes move down by 5 ticks; the ask is amended, a new bid sent.
    expect(mm.quote.reservation).toBe(600_000);
    expect([q.bid?.price, q.ask?.price]).toEqual([599_996, 600_004]);
    const calls = k.venue.calls.map((c) => `${c.op} ${c.price}`);
    expect(calls).toEqual(['submit 600001', 'submit 600009', 'submit 599996', 'modify 600004']);
  });

  it('requotes on book changes no faster than minRequoteMs', () => {
    const k = makeStrategyKit();
    k.run(new MarketMaker(PARAMS));
    k.book(k.btc.id, START, [[600_000, 5]], [[600_010, 5]]);
    k.book(k.btc.id, START + 50 * MS, [[600_020, 5]], [[600_030, 5]]); // too soon: nothing
    expect(k.venue.calls.map((c) => c.op)).toEqual(['submit', 'submit']);
    k.book(k.btc.id, START + 100 * MS, [[600_020, 5]], [[600_030, 5]]);
    expect(k.venue.calls.slice(2).map((c) => `${c.op} ${c.price}`)).toEqual([
      'modify 600021',
      'modify 600029',
    ]);
  });

  it('stops bidding at max inventory and never crosses the book', () => {
    const k = makeStrategyKit({ autoAccept: false });
    const mm = new MarketMaker(PARAMS);
    k.run(mm);
    // A one-tick market: the model's 7.77-tick spread is clamped to stay passive on each side.
    k.book(k.btc.id, START, [[600_000, 5]], [[600_001, 5]]);
    const [bid, ask] = k.venue.calls;
    // r = 600_000.5: bid floor(599_996.6), ask ceil(600_004.4).
    expect([bid?.price, ask?.price]).toEqual([599_996, 600_005]);
    for (const c of k.venue.calls) k.venue.send(c.orderId, OrderEventKind.ACCEPTED);
    k.venue.fill(bid!.orderId, 2, 599_997);
    // Long 2 quote sizes... by filling a second bid through a fresh quote.
    k.book(k.btc.id, START + 200 * MS, [[600_000, 5]], [[600_010, 5]]);
    const nextBid = k.venue.calls.find((c, i) => i > 1 && c.op === 'submit')!;
    k.venue.send(nextBid.orderId, OrderEventKind.ACCEPTED);
    k.venue.fill(nextBid.orderId, 2, nextBid.price);
    for (const c of k.venue.calls)
      if (c.op === 'modify') k.venue.update(c.orderId, c.qty, c.price, c.triggerPrice);
    expect(mm.netQty(k.btc.id)).toBe(4); // q = 2 = maxInventory
    k.book(k.btc.id, START + 400 * MS, [[600_000, 5]], [[600_010, 5]]);
    const open = k.engine.cache.allOpenOrderIds().map((id) => k.engine.cache.order(id)!);
    expect(open.map((o) => o.side)).toEqual([OrderSide.SELL]);
    // Skewed hard: r = 600_005 - 2 * 5 = 599_995, the ask ceil(599_998.89) = 599_999 would cross: clamped to 600_001.
    expect(mm.quote.reservation).toBe(599_995);
    expect(k.venue.calls.at(-1)).toMatchObject({ op: 'modify', price: 600_001 });
  });

  it('estimates sigma from the book when none is given, and widens with it', () => {
    const k = makeStrategyKit();
    const mm = new MarketMaker({ ...PARAMS, sigma: 0, volWindow: 10 });
    k.run(mm);
    for (let i = 0; i < 50; i++) {
      const mid = 600_000 + (i % 2 === 0 ? 0 : 4); // the mid moves 4 ticks every second
      k.book(k.btc.id, START + i * 1000 * MS, [[mid - 1, 5]], [[mid + 1, 5]]);
    }
    expect(mm.sigma2).toBeCloseTo(16, 6);
    expect(mm.quote.halfSpread).toBeCloseTo(0.5 * (0.5 * 16 * 10 + 4 * Math.log(2)), 9);
  });

  it('cancels its quotes on stop', () => {
    const k = makeStrategyKit();
    const host = k.run(new MarketMaker(PARAMS));
    k.book(k.btc.id, START, [[600_000, 5]], [[600_010, 5]]);
    host.stop();
    expect(k.engine.cache.allOpenOrderIds()).toEqual([]);
    expect(k.venue.calls.filter((c) => c.op === 'cancel').map((c) => c.orderId as OrderId)).toHaveLength(2);
    expect(k.log.filter((e) => e.kind === OrderEventKind.CANCELED)).toHaveLength(2);
    expect(k.engine.cache.order(k.venue.calls[0]!.orderId)?.status).toBe(OrderStatus.CANCELED);
  });

  it('model: the reservation falls as inventory rises, the spread does not depend on it', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 1000, max: 1e7, noNaN: true }),
        fc.double({ min: -10, max: 10, noNaN: true }),
        fc.double({ min: 0.01, max: 0.1, noNaN: true }),
        fc.double({ min: 1e-3, max: 10, noNaN: true }),
        fc.double({ min: 0, max: 100, noNaN: true }),
        fc.double({ min: 0.01, max: 10, noNaN: true }),
        (s, q, dq, gamma, sigma2, kappa) => {
          const a = avellanedaStoikov(s, q, gamma, sigma2, 60, kappa, new AsQuote());
          const b = avellanedaStoikov(s, q + dq, gamma, sigma2, 60, kappa, new AsQuote());
          expect(a.bid).toBeLessThan(a.reservation);
          expect(a.ask).toBeGreaterThan(a.reservation);
          expect(a.ask - a.reservation).toBeCloseTo(a.reservation - a.bid, 6);
          expect(a.reservation - b.reservation).toBeCloseTo(dq * gamma * sigma2 * 60, 3);
          expect(b.halfSpread).toBe(a.halfSpread);
          // Flat inventory: quotes centred on the mid.
          const c = avellanedaStoikov(s, 0, gamma, sigma2, 60, kappa, new AsQuote());
          expect(c.reservation).toBe(s);
        },
      ),
    );
  });
});
