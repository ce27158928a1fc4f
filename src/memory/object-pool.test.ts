import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../core/config.ts';
import { Bot4Error, ErrorCode } from '../core/errors.ts';
import {
  createObjectPool,
  DebugObjectPool,
  type GrowthPolicy,
  ObjectPool,
  POOL_DEFAULTS,
} from './object-pool.ts';

class Order {
  id = 0;
  price = 0;
  qty = 0;
}

function orderPool(capacity: number, growth: GrowthPolicy, debug: boolean, reset?: (o: Order) => void) {
  let created = 0;
  const pool = createObjectPool({
    name: 'orders',
    capacity,
    growth,
    debug,
    factory: () => {
      created++;
      return new Order();
    },
    ...(reset ? { reset } : {}),
  });
  return { pool, created: () => created };
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return e instanceof Bot4Error ? e.code : 'not a Bot4Error';
  }
  return undefined;
}

describe('ObjectPool', () => {
  it('creates every object up front and hands them out without calling the factory', () => {
    const { pool, created } = orderPool(8, 'grow', false);
    expect(created()).toBe(8);
    const taken = Array.from({ length: 8 }, () => pool.acquire());
    expect(created()).toBe(8);
    expect(new Set(taken).size).toBe(8);
    expect(pool.stats()).toEqual({
      name: 'orders',
      capacity: 8,
      inUse: 8,
      available: 0,
      highWaterMark: 8,
      grows: 0,
    });
  });

  it('reuses released objects (LIFO) and applies reset on release', () => {
    const { pool } = orderPool(4, 'fail', false, (o) => {
      o.price = 0;
    });
    const a = pool.acquire();
    a.price = 42;
    pool.release(a);
    expect(a.price).toBe(0);
    expect(pool.acquire()).toBe(a);
  });

  it("'grow' doubles the capacity when empty and keeps the high-water mark", () => {
    const { pool, created } = orderPool(3, 'grow', false);
    const taken = Array.from({ length: 7 }, () => pool.acquire());
    expect(new Set(taken).size).toBe(7);
    // 3 -> 6 -> 12
    expect(pool.capacity).toBe(12);
    expect(pool.grows).toBe(2);
    expect(created()).toBe(12);
    for (const o of taken) pool.release(o);
    expect(pool.inUse).toBe(0);
    expect(pool.available).toBe(12);
    expect(pool.highWaterMark).toBe(7);
    // All 12 distinct objects can be taken again without growing.
    expect(new Set(Array.from({ length: 12 }, () => pool.acquire())).size).toBe(12);
    expect(pool.grows).toBe(2);
  });

  it("'fail' throws POOL_EXHAUSTED naming the pool, capacity and config keys; tryAcquire returns null", () => {
    const { pool } = orderPool(2, 'fail', false);
    pool.acquire();
    pool.acquire();
    expect(pool.tryAcquire()).toBeNull();
    let error: Bot4Error | undefined;
    try {
      pool.acquire();
    } catch (e) {
      error = e as Bot4Error;
    }
    expect(error).toBeInstanceOf(Bot4Error);
    expect(error!.code).toBe(ErrorCode.POOL_EXHAUSTED);
    expect(error!.message).toContain("pool 'orders'");
    expect(error!.message).toContain('2 objects');
    expect(error!.message).toContain('memory.pools.orders');
    expect(error!.message).toContain('memory.growth');
    expect(error!.details).toMatchObject({ pool: 'orders', capacity: 2, growth: 'fail' });
    expect(pool.capacity).toBe(2);
  });

  it.each([0, -3, 2.5, Number.NaN, 2 ** 31])('rejects capacity %s naming the config key', (capacity) => {
    expect(() => orderPool(capacity, 'grow', false)).toThrow(/memory\.pools\.orders/);
    expect(codeOf(() => orderPool(capacity, 'grow', false))).toBe(ErrorCode.INVALID_ARGUMENT);
  });

  it('refuses debug on the unchecked class, so a debug flag is never silently ignored', () => {
    expect(
      codeOf(() => new ObjectPool({ name: 'x', capacity: 1, debug: true, factory: () => new Order() })),
    ).toBe(ErrorCode.INVALID_ARGUMENT);
    expect(
      new DebugObjectPool({ name: 'x', capacity: 1, debug: true, factory: () => new Order() }),
    ).toBeInstanceOf(DebugObjectPool);
  });

  it('picks the checking pool only when debug is on', () => {
    expect(orderPool(1, 'grow', true).pool).toBeInstanceOf(DebugObjectPool);
    const fast = orderPool(1, 'grow', false).pool;
    expect(fast).toBeInstanceOf(ObjectPool);
    expect(fast).not.toBeInstanceOf(DebugObjectPool);
  });

  it('the config schema takes its pool defaults from POOL_DEFAULTS', () => {
    expect(parseConfig({}).memory.pools).toEqual(POOL_DEFAULTS);
    expect(POOL_DEFAULTS).toEqual({ orders: 10_000 });
  });

  for (const debug of [false, true]) {
    for (const growth of ['grow', 'fail'] as const) {
      it(`random acquire/release sequences keep stats consistent and never hand out an object twice (debug ${debug}, ${growth})`, () => {
        fc.assert(
          fc.property(
            fc.integer({ min: 1, max: 6 }),
            fc.array(fc.oneof(fc.constant(-1), fc.nat(40)), { maxLength: 200 }),
            (capacity, ops) => {
              const { pool, created } = orderPool(capacity, growth, debug);
              const live = new Set<Order>();
              let hwm = 0;
              let expectedCapacity = capacity;
              let grows = 0;
              for (const op of ops) {
                if (op === -1) {
                  // acquire
                  if (growth === 'fail' && live.size === expectedCapacity) {
                    expect(pool.tryAcquire()).toBeNull();
                    expect(codeOf(() => pool.acquire())).toBe(ErrorCode.POOL_EXHAUSTED);
                  } else {
                    if (live.size === expectedCapacity) {
                      expectedCapacity *= 2;
                      grows++;
                    }
                    const o = live.size % 2 === 0 ? pool.acquire() : pool.tryAcquire()!;
                    expect(o).toBeInstanceOf(Order);
                    expect(live.has(o)).toBe(false);
                    live.add(o);
                  }
                } else if (live.size > 0) {
                  // release the (op mod n)-th live object
                  const o = [...live][op % live.size]!;
                  live.delete(o);
                  pool.release(o);
                }
                hwm = Math.max(hwm, live.size);
                expect(pool.inUse).toBe(live.size);
                expect(pool.capacity).toBe(expectedCapacity);
                expect(pool.available).toBe(expectedCapacity - live.size);
                expect(pool.highWaterMark).toBe(hwm);
                expect(pool.grows).toBe(grows);
                expect(created()).toBe(expectedCapacity);
                if (pool instanceof DebugObjectPool) {
                  for (const o of live) expect(pool.isInUse(o)).toBe(true);
                }
              }
            },
          ),
        );
      });
    }
  }
});

describe('DebugObjectPool misuse', () => {
  it('throws POOL_DOUBLE_RELEASE on a second release, and the pool stays intact', () => {
    const { pool } = orderPool(2, 'fail', true);
    const a = pool.acquire();
    pool.release(a);
    expect(codeOf(() => pool.release(a))).toBe(ErrorCode.POOL_DOUBLE_RELEASE);
    expect(() => pool.release(a)).toThrow(/released twice/);
    expect(pool.available).toBe(2);
    const x = pool.acquire();
    const y = pool.acquire();
    expect(x).not.toBe(y);
  });

  it('throws POOL_DOUBLE_RELEASE for an object of this pool that was never acquired', () => {
    const { pool } = orderPool(2, 'grow', true);
    const a = pool.acquire();
    pool.release(a);
    // `a` is free again; releasing it without acquiring is the same bug.
    expect(codeOf(() => pool.release(a))).toBe(ErrorCode.POOL_DOUBLE_RELEASE);
  });

  it('throws POOL_FOREIGN_OBJECT for an object from elsewhere, naming the pool', () => {
    const { pool } = orderPool(2, 'grow', true);
    const other = orderPool(2, 'grow', true).pool;
    expect(codeOf(() => pool.release(new Order()))).toBe(ErrorCode.POOL_FOREIGN_OBJECT);
    expect(codeOf(() => pool.release(other.acquire()))).toBe(ErrorCode.POOL_FOREIGN_OBJECT);
    expect(() => pool.release(new Order())).toThrow(/pool 'orders'/);
    expect(pool.available).toBe(2);
  });

  it('checks objects created by growth too', () => {
    const { pool } = orderPool(1, 'grow', true);
    const a = pool.acquire();
    const b = pool.acquire();
    expect(pool.grows).toBe(1);
    pool.release(b);
    expect(codeOf(() => pool.release(b))).toBe(ErrorCode.POOL_DOUBLE_RELEASE);
    pool.release(a);
    expect(codeOf(() => pool.release(a))).toBe(ErrorCode.POOL_DOUBLE_RELEASE);
  });

  it('rejects a factory that returns the same object twice', () => {
    const shared = new Order();
    expect(
      codeOf(() => createObjectPool({ name: 'bad', capacity: 2, debug: true, factory: () => shared })),
    ).toBe(ErrorCode.INVALID_ARGUMENT);
  });

  it('the fast pool does not check (documented): a double release corrupts it', () => {
    const { pool } = orderPool(2, 'fail', false);
    const a = pool.acquire();
    pool.release(a);
    pool.release(a);
    expect(pool.acquire()).toBe(pool.acquire());
  });
});
