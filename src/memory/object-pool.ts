// Preallocated object pools: the hot path takes objects from here instead of `new`, so it allocates nothing.
// Invariant: every object the pool created is either in the free stack (slots [0, top)) or in use, never both;
// `capacity` counts the objects created. acquire/release are O(1) and allocate nothing (growth aside).

import { POOL_DEFAULTS } from '../core/config.ts';
import { Bot4Error, ErrorCode } from '../core/errors.ts';

export { POOL_DEFAULTS };

/**
 * What an empty pool does: 'grow' doubles its capacity (creates as many objects again as it already has);
 * 'fail' refuses: `acquire` throws POOL_EXHAUSTED, `tryAcquire` returns null.
 */
export type GrowthPolicy = 'grow' | 'fail';

/** Upper bound on a pool's capacity, growth included, so a runaway leak fails loudly instead of eating RAM. */
export const MAX_POOL_CAPACITY = 2 ** 30;

export interface ObjectPoolOptions<T extends object> {
  /** Names the pool in errors and stats, e.g. 'orders'. */
  name: string;
  /** Objects created up front. */
  capacity: number;
  /** Creates one object; called `capacity` times up front and again on growth. Initialise every field. */
  factory: () => T;
  /**
   * Applied to each released object. Optional: on the hottest pools prefer to overwrite every field when
   * you fill an acquired object (you write them anyway). The call site is shared by every pool, so many
   * different reset functions make it megamorphic (a few ns per release).
   */
  reset?: (obj: T) => void;
  /** Default 'grow' (config key memory.growth). */
  growth?: GrowthPolicy;
  /**
   * Detect double release and foreign objects (config key memory.debugPools). Default false. Honoured by
   * `createObjectPool` (and `new DebugObjectPool`); `new ObjectPool` refuses it rather than ignore it.
   */
  debug?: boolean;
  /** Config key that sets this pool's capacity, named in errors. Default `memory.pools.<name>`. */
  configKey?: string;
}

export interface PoolStats {
  name: string;
  capacity: number;
  inUse: number;
  available: number;
  /** Most objects in use at once since creation. */
  highWaterMark: number;
  /** Times the pool grew. */
  grows: number;
}

/**
 * The fast pool: no misuse checks. Create pools with `createObjectPool`, which returns a
 * `DebugObjectPool` when debug is on; a process runs one kind, so each call site stays monomorphic.
 */
export class ObjectPool<T extends object> {
  readonly name: string;
  readonly growth: GrowthPolicy;
  readonly configKey: string;
  protected readonly factory: () => T;
  protected readonly reset: ((obj: T) => void) | null;
  /** Free stack: slots [0, top) hold available objects; its length is always `capacity`. */
  protected readonly free: T[];
  // Numeric fields get a number initialiser: a bare declaration starts the field as undefined, and V8
  // then keeps it as a generic tagged value instead of a small integer (slower loads and compares).
  protected top = 0;
  protected cap = 0;
  /** Lowest `top` seen, in [0, top]: the high-water mark is capacity minus it. */
  protected lowWater = 0;
  protected growCount = 0;

  constructor(options: ObjectPoolOptions<T>) {
    const { name, capacity } = options;
    if (!Number.isInteger(capacity) || capacity < 1 || capacity > MAX_POOL_CAPACITY) {
      throw new Bot4Error(
        ErrorCode.INVALID_ARGUMENT,
        `pool '${name}': capacity ${String(capacity)} is invalid; set ${options.configKey ?? `memory.pools.${name}`} ` +
          `to an integer from 1 to ${MAX_POOL_CAPACITY}`,
        { pool: name, capacity },
      );
    }
    if (options.debug === true && new.target === ObjectPool) {
      throw new Bot4Error(
        ErrorCode.INVALID_ARGUMENT,
        `pool '${name}': debug is on but ObjectPool never checks; create it with createObjectPool()`,
        { pool: name },
      );
    }
    this.name = name;
    this.growth = options.growth ?? 'grow';
    this.configKey = options.configKey ?? `memory.pools.${name}`;
    this.factory = options.factory;
    this.reset = options.reset ?? null;
    this.free = [];
    this.addObjects(capacity);
    this.lowWater = capacity;
  }

  /** Takes an object. Empty pool: grows under 'grow', throws POOL_EXHAUSTED under 'fail'. */
  acquire(): T {
    const top = this.top - 1;
    // lowWater >= 0, so one compare covers both the new low and the empty pool in the common case.
    if (top < this.lowWater) {
      if (top < 0) return this.acquireWhenEmpty(true) as T;
      this.lowWater = top;
    }
    this.top = top;
    return this.free[top]!;
  }

  /** Like `acquire`, but returns null instead of throwing when a 'fail' pool is empty (for the hot path). */
  tryAcquire(): T | null {
    const top = this.top - 1;
    // lowWater >= 0, so one compare covers both the new low and the empty pool in the common case.
    if (top < this.lowWater) {
      if (top < 0) return this.acquireWhenEmpty(false);
      this.lowWater = top;
    }
    this.top = top;
    return this.free[top]!;
  }

  /** Returns an object taken from this pool. Unchecked here: releasing twice or a foreign object corrupts it. */
  release(obj: T): void {
    if (this.reset !== null) this.reset(obj);
    this.free[this.top++] = obj;
  }

  get capacity(): number {
    return this.cap;
  }

  get available(): number {
    return this.top;
  }

  get inUse(): number {
    return this.cap - this.top;
  }

  get highWaterMark(): number {
    return this.cap - this.lowWater;
  }

  get grows(): number {
    return this.growCount;
  }

  stats(): PoolStats {
    return {
      name: this.name,
      capacity: this.cap,
      inUse: this.inUse,
      available: this.top,
      highWaterMark: this.highWaterMark,
      grows: this.growCount,
    };
  }

  /** Kept out of acquire so the fast path stays small enough to inline. */
  protected acquireWhenEmpty(orThrow: boolean): T | null {
    if (!this.grow()) {
      if (!orThrow) return null;
      throw this.exhausted();
    }
    return this.acquire();
  }

  /** Doubles the capacity (doubling keeps growth events logarithmic in peak demand); false when not allowed. */
  protected grow(): boolean {
    if (this.growth === 'fail' || this.cap >= MAX_POOL_CAPACITY) return false;
    const added = Math.min(this.cap, MAX_POOL_CAPACITY - this.cap);
    // lowWater is relative to the old capacity; shift it so highWaterMark (cap - lowWater) is unchanged.
    this.lowWater += added;
    this.addObjects(added);
    this.growCount++;
    return true;
  }

  protected exhausted(): Bot4Error {
    const fix =
      this.growth === 'fail'
        ? `raise ${this.configKey} or set memory.growth to 'grow'`
        : `the pool reached its maximum ${MAX_POOL_CAPACITY}; look for objects acquired and never released`;
    return new Bot4Error(
      ErrorCode.POOL_EXHAUSTED,
      `pool '${this.name}' exhausted: all ${this.cap} objects are in use (growth '${this.growth}'); ${fix}`,
      { pool: this.name, capacity: this.cap, growth: this.growth, configKey: this.configKey },
    );
  }

  /**
   * Creates `n` objects into stack slots [0, n). Only called at construction or when the stack is empty
   * (top === 0), so no available object is overwritten.
   */
  private addObjects(n: number): void {
    const free = this.free;
    for (let i = 0; i < n; i++) {
      const obj = this.factory();
      if (i < free.length) free[i] = obj;
      else free.push(obj);
    }
    // Keep the stack's length equal to the capacity so release never grows the array. Slots at or above
    // `top` are never read before release overwrites them, so stale references there are harmless.
    const total = this.cap + n;
    while (free.length < total) free.push(free[free.length - n]!);
    this.top = n;
    this.cap = total;
  }
}

/**
 * The checking pool: the same contract, plus POOL_DOUBLE_RELEASE and POOL_FOREIGN_OBJECT errors on misuse.
 * Each object maps to its creation index, with an in-use flag per index, so the checks are O(1).
 */
export class DebugObjectPool<T extends object> extends ObjectPool<T> {
  private readonly ids: WeakMap<T, number>;
  private flags: Uint8Array;

  constructor(options: ObjectPoolOptions<T>) {
    super(options);
    this.ids = new WeakMap();
    this.flags = new Uint8Array(this.cap);
    this.register(0);
  }

  override acquire(): T {
    const obj = super.acquire();
    this.flags[this.ids.get(obj)!] = 1;
    return obj;
  }

  override tryAcquire(): T | null {
    const obj = super.tryAcquire();
    if (obj !== null) this.flags[this.ids.get(obj)!] = 1;
    return obj;
  }

  override release(obj: T): void {
    const id = this.ids.get(obj);
    if (id === undefined) {
      throw new Bot4Error(
        ErrorCode.POOL_FOREIGN_OBJECT,
        `pool '${this.name}': released an object this pool did not create; release it to the pool that ` +
          'acquired it (or just drop it if it came from `new`)',
        { pool: this.name },
      );
    }
    if (this.flags[id] === 0) {
      throw new Bot4Error(
        ErrorCode.POOL_DOUBLE_RELEASE,
        `pool '${this.name}': object #${id} released twice (it is already free); some holder kept using ` +
          'it after releasing it',
        { pool: this.name, objectIndex: id },
      );
    }
    this.flags[id] = 0;
    super.release(obj);
  }

  /** Whether `obj` came from this pool and is currently acquired. */
  isInUse(obj: T): boolean {
    const id = this.ids.get(obj);
    return id !== undefined && this.flags[id] === 1;
  }

  protected override grow(): boolean {
    const before = this.cap;
    if (!super.grow()) return false;
    const flags = new Uint8Array(this.cap);
    flags.set(this.flags);
    this.flags = flags;
    this.register(before);
    return true;
  }

  /** Numbers the objects just created (stack slots [0, cap - firstId)) from `firstId`. */
  private register(firstId: number): void {
    for (let i = 0; i < this.cap - firstId; i++) {
      const obj = this.free[i]!;
      if (this.ids.has(obj)) {
        throw new Bot4Error(
          ErrorCode.INVALID_ARGUMENT,
          `pool '${this.name}': the factory returned the same object twice; it must create a new object per call`,
          { pool: this.name },
        );
      }
      this.ids.set(obj, firstId + i);
    }
  }
}

/** Creates a pool, checking (slower) when `options.debug` is true. */
export function createObjectPool<T extends object>(options: ObjectPoolOptions<T>): ObjectPool<T> {
  return options.debug === true ? new DebugObjectPool(options) : new ObjectPool(options);
}
