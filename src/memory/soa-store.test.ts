import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Bot4Error, ErrorCode } from '../core/errors.ts';
import { Aggressor, createQuoteStore, createSoaStore, createTickStore } from './soa-store.ts';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return e instanceof Bot4Error ? e.code : 'not a Bot4Error';
  }
  return undefined;
}

const SCHEMA = { price: 'f64', qty: 'f64', instrument: 'i32', flag: 'u8' } as const;

describe('SoaStore', () => {
  it('exposes each column as a typed array field of the capacity', () => {
    const store = createSoaStore('t', SCHEMA, { capacity: 5 });
    expect(store.price).toBeInstanceOf(Float64Array);
    expect(store.instrument).toBeInstanceOf(Int32Array);
    expect(store.flag).toBeInstanceOf(Uint8Array);
    expect(store.price.length).toBe(5);
    expect(store.capacity).toBe(5);
    expect(store.size).toBe(0);
  });

  it('hands out handles 0, 1, 2... on a fresh store and reuses freed ones', () => {
    const store = createSoaStore('t', SCHEMA, { capacity: 4 });
    expect([store.alloc(), store.alloc(), store.alloc()]).toEqual([0, 1, 2]);
    store.free(1);
    expect(store.alloc()).toBe(1);
    expect(store.size).toBe(3);
    expect(store.available).toBe(1);
  });

  it("'fail' returns -1 when full, allocOrThrow throws CAPACITY naming the store", () => {
    const store = createSoaStore('quotes', SCHEMA, { capacity: 2, growth: 'fail', configKey: 'x.cap' });
    store.alloc();
    store.alloc();
    expect(store.alloc()).toBe(-1);
    expect(store.size).toBe(2);
    expect(codeOf(() => store.allocOrThrow())).toBe(ErrorCode.CAPACITY);
    expect(() => store.allocOrThrow()).toThrow(/store 'quotes' is full: all 2 records.*raise x\.cap/);
  });

  it("'grow' doubles every column and keeps the values of live records", () => {
    const store = createSoaStore('t', SCHEMA, { capacity: 2 });
    const a = store.alloc();
    const b = store.alloc();
    store.price[a] = 101;
    store.qty[b] = 7;
    store.instrument[b] = -3;
    store.flag[a] = 200;
    const oldPrice = store.price;
    const c = store.alloc();
    expect(c).toBe(2);
    expect(store.grows).toBe(1);
    expect(store.capacity).toBe(4);
    expect(store.price).not.toBe(oldPrice);
    for (const col of [store.price, store.qty, store.instrument, store.flag]) expect(col.length).toBe(4);
    expect(store.price[a]).toBe(101);
    expect(store.qty[b]).toBe(7);
    expect(store.instrument[b]).toBe(-3);
    expect(store.flag[a]).toBe(200);
    expect(store.alloc()).toBe(3);
    expect(store.alloc()).toBe(4);
    expect(store.capacity).toBe(8);
  });

  it('clearRecord zeroes one record in every column', () => {
    const store = createSoaStore('t', SCHEMA, { capacity: 2 });
    const a = store.alloc();
    const b = store.alloc();
    store.price[a] = 1;
    store.qty[a] = 2;
    store.instrument[a] = 3;
    store.flag[a] = 4;
    store.price[b] = 9;
    store.clearRecord(a);
    expect([store.price[a], store.qty[a], store.instrument[a], store.flag[a]]).toEqual([0, 0, 0, 0]);
    expect(store.price[b]).toBe(9);
  });

  it('rejects bad capacities, unknown column kinds, clashing names and empty schemas', () => {
    expect(codeOf(() => createSoaStore('t', SCHEMA, { capacity: 0 }))).toBe(ErrorCode.INVALID_ARGUMENT);
    expect(() => createSoaStore('t', SCHEMA, { capacity: 1.5, configKey: 'a.b' })).toThrow(/set a\.b to/);
    expect(() => createSoaStore('t', { x: 'f128' } as never, { capacity: 1 })).toThrow(
      /column 'x' has kind 'f128'/,
    );
    expect(() => createSoaStore('t', { alloc: 'f64' }, { capacity: 1 })).toThrow(/clashes/);
    expect(() => createSoaStore('t', { size: 'f64' }, { capacity: 1 })).toThrow(/clashes/);
    expect(() => createSoaStore('t', {}, { capacity: 1 })).toThrow(/no columns/);
  });

  it('debug: double free and foreign handles throw and leave the store intact', () => {
    const store = createSoaStore('ticks', SCHEMA, { capacity: 3, debug: true });
    const a = store.alloc();
    expect(store.isLive(a)).toBe(true);
    store.free(a);
    expect(store.isLive(a)).toBe(false);
    expect(codeOf(() => store.free(a))).toBe(ErrorCode.POOL_DOUBLE_RELEASE);
    expect(() => store.free(a)).toThrow(/store 'ticks': record 0 freed twice/);
    expect(codeOf(() => store.free(2))).toBe(ErrorCode.POOL_DOUBLE_RELEASE); // never allocated
    for (const bad of [-1, 3, 1.5, Number.NaN]) {
      expect(codeOf(() => store.free(bad))).toBe(ErrorCode.POOL_FOREIGN_OBJECT);
    }
    expect(store.size).toBe(0);
    expect(new Set([store.alloc(), store.alloc(), store.alloc()]).size).toBe(3);
    // Handles created by growth are checked too.
    const d = store.alloc();
    expect(d).toBe(3);
    store.free(d);
    expect(codeOf(() => store.free(d))).toBe(ErrorCode.POOL_DOUBLE_RELEASE);
  });

  for (const debug of [false, true]) {
    it(`random alloc/free sequences: live handles unique, size consistent, values survive growth (debug ${debug})`, () => {
      fc.assert(
        fc.property(
          fc.integer({ min: 1, max: 8 }),
          fc.constantFrom('grow' as const, 'fail' as const),
          fc.array(fc.oneof(fc.constant(-1), fc.nat(50)), { maxLength: 200 }),
          (capacity, growth, ops) => {
            const store = createSoaStore('t', SCHEMA, { capacity, growth, debug });
            // handle -> the value written into it when allocated
            const live = new Map<number, number>();
            let stamp = 0;
            let expectedCapacity = capacity;
            for (const op of ops) {
              if (op === -1) {
                const full = live.size === expectedCapacity;
                if (full && growth === 'grow') expectedCapacity *= 2;
                const h = store.alloc();
                if (full && growth === 'fail') {
                  expect(h).toBe(-1);
                } else {
                  expect(Number.isInteger(h) && h >= 0 && h < expectedCapacity).toBe(true);
                  expect(live.has(h)).toBe(false);
                  stamp++;
                  live.set(h, stamp);
                  store.price[h] = stamp * 1.5;
                  store.instrument[h] = stamp;
                }
              } else if (live.size > 0) {
                const h = [...live.keys()][op % live.size]!;
                live.delete(h);
                store.free(h);
              }
              expect(store.size).toBe(live.size);
              expect(store.capacity).toBe(expectedCapacity);
              for (const [h, v] of live) {
                expect(store.price[h]).toBe(v * 1.5);
                expect(store.instrument[h]).toBe(v);
              }
            }
          },
        ),
      );
    });
  }
});

describe('TickStore and QuoteStore', () => {
  it('store trades with integer ticks/lots, micros timestamps and 2^53-exact trade ids', () => {
    const ticks = createTickStore({ capacity: 4 });
    expect(ticks.name).toBe('ticks');
    const h = ticks.alloc();
    ticks.ts[h] = 1_700_000_000_123_456;
    ticks.tsRecv[h] = 1_700_000_000_124_000;
    ticks.instrument[h] = 7;
    ticks.price[h] = 6_512_345;
    ticks.qty[h] = 2 ** 40 + 1;
    ticks.side[h] = Aggressor.SELLER;
    ticks.tradeId[h] = 2 ** 53 - 1;
    expect(ticks.ts[h]).toBe(1_700_000_000_123_456);
    expect(ticks.tsRecv[h]).toBe(1_700_000_000_124_000);
    expect(ticks.qty[h]).toBe(2 ** 40 + 1);
    expect(ticks.side[h]).toBe(2);
    expect(ticks.tradeId[h]).toBe(2 ** 53 - 1);
    expect(ticks.ts).toBeInstanceOf(Float64Array);
    expect(ticks.instrument).toBeInstanceOf(Int32Array);
    expect(ticks.side).toBeInstanceOf(Uint8Array);
  });

  it('default to a million records and name the capacity option when full', () => {
    expect(createTickStore().capacity).toBe(1_000_000);
    const small = createTickStore({ capacity: 1, growth: 'fail' });
    small.alloc();
    expect(() => small.allocOrThrow()).toThrow(/tick store capacity option/);
  });

  it('quotes keep both sides of the book', () => {
    const quotes = createQuoteStore({ capacity: 2 });
    const h = quotes.alloc();
    quotes.bidPx[h] = 100;
    quotes.askPx[h] = 101;
    quotes.bidQty[h] = 5;
    quotes.askQty[h] = 6;
    expect([quotes.bidPx[h], quotes.bidQty[h], quotes.askPx[h], quotes.askQty[h]]).toEqual([100, 5, 101, 6]);
    expect(Object.keys(quotes.schema)).toEqual([
      'ts',
      'tsRecv',
      'instrument',
      'bidPx',
      'bidQty',
      'askPx',
      'askQty',
    ]);
  });
});
