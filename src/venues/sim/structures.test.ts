import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Consumed, OrderIndex, OwnSide } from './structures.ts';

describe('OrderIndex', () => {
  it('behaves as a Map under any mix of set and delete, growing past its capacity', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            del: fc.boolean(),
            id: fc.oneof(fc.integer({ min: 1, max: 64 }), fc.integer({ min: 1, max: 2 ** 40 })),
            slot: fc.integer({ min: 0, max: 1000 }),
          }),
          { maxLength: 400 },
        ),
        (ops) => {
          const ix = new OrderIndex(4);
          const ref = new Map<number, number>();
          for (const { del, id, slot } of ops) {
            if (del) {
              const cur = ref.get(id);
              ix.delete(id, cur ?? slot);
              ref.delete(id);
            } else {
              ix.set(id, slot);
              ref.set(id, slot);
            }
            expect(ix.size).toBe(ref.size);
          }
          for (const { id } of ops) expect(ix.get(id)).toBe(ref.get(id) ?? -1);
        },
      ),
    );
  });

  it('with a direct front: add/get/delete behave as a Map, ids sharing a cell included', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            del: fc.boolean(),
            // Few cells (8): most ids collide, so the table behind the front is exercised too.
            id: fc.oneof(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 2 ** 40 })),
            slot: fc.integer({ min: 0, max: 1000 }),
          }),
          { maxLength: 400 },
        ),
        (ops) => {
          const ix = new OrderIndex(4, 8);
          const ref = new Map<number, number>();
          for (const { del, id, slot } of ops) {
            if (del) {
              ix.delete(id, ref.get(id) ?? slot);
              ref.delete(id);
            } else {
              expect(ix.add(id, slot)).toBe(ref.get(id) ?? -1);
              if (!ref.has(id)) ref.set(id, slot);
            }
            expect(ix.get(id)).toBe(ref.get(id) ?? -1);
          }
          for (const { id } of ops) expect(ix.get(id)).toBe(ref.get(id) ?? -1);
        },
      ),
    );
  });

  it('add refuses an id already mapped; delete with another slot keeps the mapping', () => {
    const ix = new OrderIndex();
    expect(ix.add(7, 3)).toBe(-1);
    expect(ix.add(7, 4)).toBe(3);
    ix.delete(7, 4);
    expect(ix.get(7)).toBe(3);
    ix.delete(7, 3);
    expect(ix.get(7)).toBe(-1);
  });
});

describe('OwnSide and Consumed', () => {
  it('keeps levels best first for both sides', () => {
    for (const sign of [1, -1] as const) {
      const side = new OwnSide(sign, 2);
      for (const p of [105, 101, 110, 99, 103]) {
        const i = side.search(p);
        expect(i).toBeLessThan(0);
        side.insertAt(-i - 1, p);
      }
      const prices = Array.from({ length: side.count }, (_, i) => side.priceAt(i));
      expect(prices).toEqual(sign > 0 ? [110, 105, 103, 101, 99] : [99, 101, 103, 105, 110]);
      side.removeAt(side.search(103));
      expect(side.search(103)).toBeLessThan(0);
      expect(side.best()).toBe(sign > 0 ? 110 : 99);
    }
  });

  it('finds a level by price through its stable id while other levels come and go, past its capacity', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(1 as const, -1 as const),
        fc.array(fc.record({ del: fc.boolean(), px: fc.integer({ min: 1, max: 40 }) }), { maxLength: 300 }),
        (sign, ops) => {
          const side = new OwnSide(sign, 2);
          const ref = new Map<number, number>();
          for (const { del, px } of ops) {
            const id = side.level(px);
            expect(id).toBe(ref.get(px) ?? -1);
            if (del && id >= 0) {
              side.removeLevel(id);
              ref.delete(px);
            } else if (!del) {
              const got = side.levelFor(px);
              if (id >= 0) expect(got).toBe(id);
              else {
                expect(side.heads[got]).toBe(-1);
                ref.set(px, got);
              }
            }
            expect(side.count).toBe(ref.size);
            // Ids stay distinct and each sorted level's id maps back to its price.
            const prices = Array.from({ length: side.count }, (_, i) => side.priceAt(i));
            const want = [...ref.keys()].sort((a, b) => (b - a) * sign);
            expect(prices).toEqual(want);
            for (let i = 0; i < side.count; i++) expect(side.ids[i]).toBe(ref.get(side.priceAt(i)));
          }
        },
      ),
    );
  });

  it('consumed size: added, capped by the displayed size, reduced by trades', () => {
    const c = new Consumed(1);
    c.add(100, 5);
    c.add(101, 2);
    c.add(100, 1);
    expect([c.get(100), c.get(101), c.get(102)]).toEqual([6, 2, 0]);
    c.cap(100, 4);
    expect(c.get(100)).toBe(4);
    c.traded(100, 3);
    expect(c.get(100)).toBe(1);
    c.cap(101, 0);
    expect(c.get(101)).toBe(0);
    c.traded(100, 9);
    expect(c.n).toBe(0);
  });
});
