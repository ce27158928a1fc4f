// L2Book against a Map reference model (fast-check) plus the cases that matter on real books.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Bot4Error } from '../core/errors.ts';
import type { Micros, PriceTicks, QtyLots } from '../core/units.ts';
import { L2Book, MAX_PRICE_TICKS, SetResult, Side, Sweep, SweepResult } from './l2-book.ts';

const px = (n: number) => n as PriceTicks;
const lots = (n: number) => n as QtyLots;

/** The reference: a Map price -> qty per side, sorted on demand. Slow and obviously right. */
class Model {
  readonly sides: [Map<number, number>, Map<number, number>] = [new Map(), new Map()];
  set(side: Side, price: number, qty: number): void {
    if (qty === 0) this.sides[side].delete(price);
    else this.sides[side].set(price, qty);
  }
  clear(): void {
    this.sides[0].clear();
    this.sides[1].clear();
  }
  /** Levels best first. */
  levels(side: Side): [number, number][] {
    const list = [...this.sides[side].entries()];
    return list.sort((a, b) => (side === Side.BID ? b[0] - a[0] : a[0] - b[0]));
  }
  best(side: Side): number {
    return this.levels(side)[0]?.[0] ?? Number.NaN;
  }
}

type Op =
  | { kind: 'set'; side: Side; price: number; qty: number }
  | { kind: 'deleteBest'; side: Side }
  | { kind: 'snapshot'; bids: [number, number][]; asks: [number, number][] }
  | { kind: 'clear' };

const CENTRE = 500_000;
const side = fc.constantFrom<Side>(Side.BID, Side.ASK);
// Mostly near a centre (inside a small window), sometimes far (overflow, recentring), rarely at the limits.
const price = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: CENTRE - 400, max: CENTRE + 400 }) },
  { weight: 2, arbitrary: fc.integer({ min: CENTRE - 20_000, max: CENTRE + 20_000 }) },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 3_000_000 }) },
  { weight: 1, arbitrary: fc.constantFrom(1, 2, MAX_PRICE_TICKS) },
);
const qty = fc.oneof(
  { weight: 2, arbitrary: fc.constant(0) },
  { weight: 3, arbitrary: fc.integer({ min: 1, max: 1_000 }) },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }) },
);
const levelList = fc.array(fc.tuple(price, qty), { maxLength: 60 });
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 20, arbitrary: fc.record({ kind: fc.constant('set' as const), side, price, qty }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('deleteBest' as const), side }) },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('snapshot' as const), bids: levelList, asks: levelList }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('clear' as const) }) },
);

function toList(levels: [number, number][]) {
  return { prices: levels.map((l) => l[0]), qtys: levels.map((l) => l[1]), count: levels.length };
}

function apply(book: L2Book, model: Model, o: Op): void {
  switch (o.kind) {
    case 'set':
      book.set(o.side, px(o.price), lots(o.qty));
      model.set(o.side, o.price, o.qty);
      return;
    case 'deleteBest': {
      const best = model.best(o.side);
      if (Number.isNaN(best)) return;
      expect(book.set(o.side, px(best), lots(0))).toBe(SetResult.DELETED);
      model.set(o.side, best, 0);
      return;
    }
    case 'snapshot':
      book.applySnapshot(toList(o.bids), toList(o.asks), 7, 1 as Micros);
      model.clear();
      for (const [p, q] of o.bids) model.set(Side.BID, p, q);
      for (const [p, q] of o.asks) model.set(Side.ASK, p, q);
      return;
    case 'clear':
      book.clear();
      model.clear();
      return;
  }
}

function expectSame(book: L2Book, model: Model): void {
  for (const s of [Side.BID, Side.ASK] as const) {
    const want = model.levels(s);
    expect(book.levelCount(s)).toBe(want.length);
    const prices = new Float64Array(want.length + 2);
    const qtys = new Float64Array(want.length + 2);
    const n = book.depth(s, want.length + 2, prices, qtys);
    const got: [number, number][] = [];
    for (let i = 0; i < n; i++) got.push([prices[i]!, qtys[i]!]);
    expect(got).toEqual(want);
  }
  expect(book.bestBid()).toEqual(model.best(Side.BID));
  expect(book.bestAsk()).toEqual(model.best(Side.ASK));
  expect(book.bestBidQty()).toBe(model.levels(Side.BID)[0]?.[1] ?? 0);
  expect(book.bestAskQty()).toBe(model.levels(Side.ASK)[0]?.[1] ?? 0);
}

/** Small windows (1024 ticks) so that random prices exercise the overflow and the recentring. */
const SMALL = { windowBits: 10, overflowCapacity: 16 };

describe('L2Book', () => {
  it('keeps best bid and ask, deletes the best and finds the next level', () => {
    const book = new L2Book();
    expect(book.bestBid()).toBeNaN();
    expect(book.set(Side.BID, px(100), lots(5))).toBe(SetResult.INSERTED);
    expect(book.set(Side.BID, px(90), lots(7))).toBe(SetResult.INSERTED);
    expect(book.set(Side.BID, px(100), lots(6))).toBe(SetResult.UPDATED);
    expect(book.set(Side.ASK, px(101), lots(3))).toBe(SetResult.INSERTED);
    expect(book.bestBid()).toBe(100);
    expect(book.bestBidQty()).toBe(6);
    expect(book.bestAsk()).toBe(101);
    expect(book.set(Side.BID, px(100), lots(0))).toBe(SetResult.DELETED);
    expect(book.bestBid()).toBe(90);
    expect(book.set(Side.BID, px(95), lots(0))).toBe(SetResult.ABSENT);
    expect(book.mid()).toBe(95.5);
    expect(book.crossed()).toBe(false);
    expect(book.locked()).toBe(false);
  });

  it('rejects bad prices and quantities with a code and leaves the book unchanged', () => {
    const book = new L2Book();
    book.set(Side.BID, px(100), lots(1));
    for (const p of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, MAX_PRICE_TICKS + 1]) {
      expect(book.set(Side.BID, px(p), lots(1))).toBe(SetResult.BAD_PRICE);
    }
    for (const q of [-1, 0.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53]) {
      expect(book.set(Side.ASK, px(100), lots(q))).toBe(SetResult.BAD_QTY);
    }
    expect(book.levelCount(Side.BID)).toBe(1);
    expect(book.levelCount(Side.ASK)).toBe(0);
  });

  it('refuses an unusable window size at construction, naming the option', () => {
    expect(() => new L2Book({ windowBits: 40 })).toThrow(Bot4Error);
    expect(() => new L2Book({ windowBits: 40 })).toThrow(/windowBits 40/);
  });

  it('follows the price across millions of ticks and keeps the far levels', () => {
    const book = new L2Book({ windowBits: 12 });
    book.set(Side.BID, px(600_000), lots(1));
    book.set(Side.BID, px(5_600), lots(2)); // far below: overflow
    book.set(Side.BID, px(6_000_000), lots(3)); // far above: the window moves up
    expect(book.bestBid()).toBe(6_000_000);
    book.set(Side.BID, px(6_000_000), lots(0));
    expect(book.bestBid()).toBe(600_000);
    book.set(Side.BID, px(600_000), lots(0));
    expect(book.bestBid()).toBe(5_600);
    expect(book.levelCount(Side.BID)).toBe(1);
    expect(book.bids.recentres).toBeGreaterThan(0);
  });

  it('replaces the book on a snapshot and records sequence and time; clear resets them', () => {
    const book = new L2Book();
    book.set(Side.BID, px(1), lots(1));
    const rejected = book.applySnapshot(
      toList([
        [99, 1],
        [100, 2],
        [98, 0],
      ]),
      toList([
        [103, 4],
        [101, 3],
        [-5, 1],
      ]),
      42,
      1_700_000_000_000_000 as Micros,
    );
    expect(rejected).toBe(1);
    expect(book.levelCount(Side.BID)).toBe(2);
    expect(book.bestBid()).toBe(100);
    expect(book.bestAsk()).toBe(101);
    expect(book.sequence).toBe(42);
    expect(book.tsEvent).toBe(1_700_000_000_000_000);
    book.clear();
    expect(book.levelCount(Side.BID) + book.levelCount(Side.ASK)).toBe(0);
    expect(book.sequence).toBe(0);
    expect(book.tsEvent).toBe(0);
  });

  it('computes microprice, imbalance, crossed and locked', () => {
    const book = new L2Book();
    book.set(Side.BID, px(100), lots(3));
    book.set(Side.BID, px(99), lots(5));
    book.set(Side.ASK, px(102), lots(1));
    // Less size on the ask: the microprice leans to the ask.
    expect(book.microprice()).toBeCloseTo((100 * 1 + 102 * 3) / 4, 12);
    expect(book.imbalance(1)).toBeCloseTo((3 - 1) / 4, 12);
    expect(book.imbalance(2)).toBeCloseTo((8 - 1) / 9, 12);
    book.set(Side.ASK, px(100), lots(1));
    expect(book.locked()).toBe(true);
    book.set(Side.ASK, px(99), lots(1));
    expect(book.crossed()).toBe(true);
  });

  it('walks the book for a market order: VWAP, worst price, partial fill', () => {
    const book = new L2Book();
    book.set(Side.ASK, px(101), lots(2));
    book.set(Side.ASK, px(103), lots(3));
    book.set(Side.ASK, px(104), lots(10));
    const out = new Sweep();
    expect(book.priceForVolume(Side.ASK, lots(4), out)).toBe(SweepResult.FULL);
    expect(out.filled).toBe(4);
    expect(out.worstPrice).toBe(103);
    expect(out.notional).toBe(2 * 101 + 2 * 103);
    expect(out.vwap).toBe((2 * 101 + 2 * 103) / 4);
    expect(out.levels).toBe(2);
    expect(book.priceForVolume(Side.ASK, lots(100), out)).toBe(SweepResult.PARTIAL);
    expect(out.filled).toBe(15);
    expect(out.worstPrice).toBe(104);
    expect(book.priceForVolume(Side.BID, lots(1), out)).toBe(SweepResult.EMPTY);
    expect(out.filled).toBe(0);
    expect(out.vwap).toBeNaN();
  });

  it('equals a Map reference model after random snapshot, update, delete-best and clear sequences', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 200 }), fc.constantFrom(10, 12, 16), (ops, bits) => {
        const book = new L2Book({ windowBits: bits, overflowCapacity: 16 });
        const model = new Model();
        for (const o of ops) {
          apply(book, model, o);
          expect(book.bestBid()).toEqual(model.best(Side.BID));
          expect(book.bestAsk()).toEqual(model.best(Side.ASK));
        }
        expectSame(book, model);
      }),
      { numRuns: 300 },
    );
  });

  it('never crosses or locks when every update respects the other side', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(side, price, qty), { maxLength: 300 }), (updates) => {
        const book = new L2Book(SMALL);
        for (const [s, p, q] of updates) {
          // A consistent venue never rests a bid at or above the best ask (or an ask at or below the bid).
          if (q !== 0 && s === Side.BID && p >= book.bestAsk()) continue;
          if (q !== 0 && s === Side.ASK && p <= book.bestBid()) continue;
          book.set(s, px(p), lots(q));
          expect(book.crossed()).toBe(false);
          expect(book.locked()).toBe(false);
          if (book.levelCount(Side.BID) > 0 && book.levelCount(Side.ASK) > 0) {
            expect(book.bestBid()).toBeLessThan(book.bestAsk());
          }
        }
      }),
      { numRuns: 200 },
    );
  });

  it('answers depth, volume-to-price and imbalance queries as the model does', () => {
    fc.assert(
      fc.property(
        fc.array(op, { maxLength: 150 }),
        fc.integer({ min: 0, max: 40 }),
        price,
        (ops, n, limit) => {
          const book = new L2Book(SMALL);
          const model = new Model();
          for (const o of ops) apply(book, model, o);
          const prices = new Float64Array(n);
          const qtys = new Float64Array(n);
          for (const s of [Side.BID, Side.ASK] as const) {
            const want = model.levels(s).slice(0, n);
            const k = book.depth(s, n, prices, qtys);
            expect(k).toBe(want.length);
            for (let i = 0; i < k; i++) expect([prices[i], qtys[i]]).toEqual(want[i]);
            const better = (p: number) => (s === Side.BID ? p >= limit : p <= limit);
            const vol = model
              .levels(s)
              .filter(([p]) => better(p))
              .reduce((a, [, q]) => a + q, 0);
            expect(book.volumeTo(s, px(limit))).toBe(vol);
          }
          const top = (s: Side) =>
            model
              .levels(s)
              .slice(0, n)
              .reduce((a, [, q]) => a + q, 0);
          const b = top(Side.BID);
          const a = top(Side.ASK);
          expect(book.imbalance(n)).toEqual((b - a) / (b + a));
        },
      ),
      { numRuns: 200 },
    );
  });

  it('prices a volume exactly as a naive walk of the sorted levels', () => {
    fc.assert(
      fc.property(
        fc.array(op, { maxLength: 150 }),
        side,
        fc.integer({ min: 1, max: 5_000 }),
        (ops, s, want) => {
          const book = new L2Book(SMALL);
          const model = new Model();
          for (const o of ops) apply(book, model, o);
          let left = want;
          let notional = 0;
          let worst = Number.NaN;
          let levels = 0;
          for (const [p, q] of model.levels(s)) {
            if (left === 0) break;
            const take = Math.min(q, left);
            notional += take * p;
            left -= take;
            worst = p;
            levels++;
          }
          const out = new Sweep();
          const code = book.priceForVolume(s, lots(want), out);
          if (levels === 0) {
            expect(code).toBe(SweepResult.EMPTY);
            return;
          }
          expect(code).toBe(left === 0 ? SweepResult.FULL : SweepResult.PARTIAL);
          expect(out.filled).toBe(want - left);
          expect(out.notional).toBe(notional);
          expect(out.worstPrice).toBe(worst);
          expect(out.levels).toBe(levels);
          expect(out.vwap).toBe(notional / (want - left));
        },
      ),
      { numRuns: 200 },
    );
  });
});
