// Single-thread bounded FIFO rings: RingBuffer<T> for references, Float64Ring for numeric streams
// (rolling windows). Capacity is rounded UP to a power of two so wrap-around is a mask, not a modulo;
// head and tail are masked after each step and count stays in [0, capacity], so all stay small integers.

import { Bot4Error, ErrorCode } from '../core/errors.ts';

/** Largest ring capacity: 2^30 keeps every index a small integer (Smi) and the mask a positive int32. */
export const MAX_RING_CAPACITY = 2 ** 30;

/** Smallest power of two >= `n`, for 1 <= n <= 2^30. */
export function nextPowerOfTwo(n: number): number {
  return n <= 1 ? 1 : 2 ** (32 - Math.clz32(n - 1));
}

/** Validates a requested ring capacity and rounds it up to a power of two. */
export function ringCapacity(requested: number, what: string): number {
  if (!Number.isInteger(requested) || requested < 1 || requested > MAX_RING_CAPACITY) {
    throw new Bot4Error(
      ErrorCode.INVALID_ARGUMENT,
      `${what}: capacity ${String(requested)} is invalid; pass an integer from 1 to 2^30 (${MAX_RING_CAPACITY}), ` +
        'it is rounded up to a power of two',
      { capacity: requested },
    );
  }
  return nextPowerOfTwo(requested);
}

/**
 * Bounded FIFO of references. `push` returns false when full (never throws, never grows); `shift` and the
 * peeks return undefined when empty, so do not store `undefined` itself if you need to tell the two apart.
 * Removed slots are cleared so the ring never keeps a dead object alive.
 */
export class RingBuffer<T> {
  // Numeric fields get a number initialiser: a field declared bare starts as undefined (class fields
  // define it before the constructor runs), and V8 then keeps it as a generic tagged value, not a Smi.
  /** Physical capacity: the requested capacity rounded up to a power of two. */
  readonly capacity: number = 0;
  private readonly mask: number = 0;
  private readonly items: (T | undefined)[];
  /** Slot of the oldest item, in [0, capacity). */
  private head = 0;
  /** Slot the next push writes, in [0, capacity); equals head when the ring is empty or full. */
  private tail = 0;
  /** Items held, in [0, capacity]: tells empty from full, and saves push a read of head. */
  private count = 0;

  constructor(capacity: number) {
    this.capacity = ringCapacity(capacity, 'RingBuffer');
    this.mask = this.capacity - 1;
    // Built by push so the backing store is PACKED (a holey array makes every read check for holes).
    const items: (T | undefined)[] = [];
    for (let i = 0; i < this.capacity; i++) items.push(undefined);
    this.items = items;
  }

  get size(): number {
    return this.count;
  }

  get isEmpty(): boolean {
    return this.count === 0;
  }

  get isFull(): boolean {
    return this.count === this.capacity;
  }

  /** Appends at the tail; false (and nothing stored) when full. */
  push(item: T): boolean {
    const count = this.count;
    if (count === this.capacity) return false;
    const tail = this.tail;
    this.items[tail] = item;
    this.tail = (tail + 1) & this.mask;
    this.count = count + 1;
    return true;
  }

  /** Removes and returns the oldest item; undefined when empty. */
  shift(): T | undefined {
    const count = this.count;
    if (count === 0) return undefined;
    const head = this.head;
    const item = this.items[head];
    this.items[head] = undefined;
    this.head = (head + 1) & this.mask;
    this.count = count - 1;
    return item;
  }

  /** Removes and returns the newest item (the back, for monotonic deques); undefined when empty. */
  pop(): T | undefined {
    const count = this.count;
    if (count === 0) return undefined;
    const tail = (this.tail - 1) & this.mask;
    const item = this.items[tail];
    this.items[tail] = undefined;
    this.tail = tail;
    this.count = count - 1;
    return item;
  }

  /** The oldest item without removing it; undefined when empty. */
  peek(): T | undefined {
    return this.count === 0 ? undefined : this.items[this.head];
  }

  /** The newest item without removing it; undefined when empty. */
  peekBack(): T | undefined {
    return this.count === 0 ? undefined : this.items[(this.tail - 1) & this.mask];
  }

  /** Item `i` counted from the oldest (0) or, when negative, from the newest (-1); undefined outside. */
  at(i: number): T | undefined {
    const count = this.count;
    if (!(i >= -count && i < count)) return undefined;
    return this.items[(this.head + (i < 0 ? i + count : i)) & this.mask];
  }

  /** Empties the ring and drops its references: O(size). */
  clear(): void {
    for (let i = 0, n = this.count; i < n; i++) this.items[(this.head + i) & this.mask] = undefined;
    this.head = 0;
    this.tail = 0;
    this.count = 0;
  }

  /** Oldest first. Allocates: for tests, debugging and the edges, not the hot path. */
  toArray(): T[] {
    const out: T[] = [];
    for (let i = 0; i < this.count; i++) out.push(this.items[(this.head + i) & this.mask] as T);
    return out;
  }
}

/**
 * Bounded FIFO of doubles on a Float64Array, for numeric streams and rolling windows. Empty reads return
 * NaN (a number keeps the call sites monomorphic); check `isEmpty` first when NaN is a legal value.
 */
export class Float64Ring {
  /** Physical capacity: the requested capacity rounded up to a power of two. */
  readonly capacity: number = 0;
  private readonly mask: number = 0;
  private readonly items: Float64Array;
  private head = 0;
  private tail = 0;
  private count = 0;

  constructor(capacity: number) {
    this.capacity = ringCapacity(capacity, 'Float64Ring');
    this.mask = this.capacity - 1;
    this.items = new Float64Array(this.capacity);
  }

  get size(): number {
    return this.count;
  }

  get isEmpty(): boolean {
    return this.count === 0;
  }

  get isFull(): boolean {
    return this.count === this.capacity;
  }

  /** Appends at the tail; false (and nothing stored) when full. */
  push(value: number): boolean {
    const count = this.count;
    if (count === this.capacity) return false;
    const tail = this.tail;
    this.items[tail] = value;
    this.tail = (tail + 1) & this.mask;
    this.count = count + 1;
    return true;
  }

  /**
   * Appends, evicting the oldest value when full, and returns the evicted value (NaN when nothing was
   * evicted): the rolling-window step `sum += v - evicted` in one call.
   */
  pushEvict(value: number): number {
    const count = this.count;
    const tail = this.tail;
    const next = (tail + 1) & this.mask;
    if (count === this.capacity) {
      // Full ring: the tail slot is the head slot, so the new value overwrites the evicted one.
      const evicted = this.items[tail]!;
      this.items[tail] = value;
      this.head = next;
      this.tail = next;
      return evicted;
    }
    this.items[tail] = value;
    this.tail = next;
    this.count = count + 1;
    return Number.NaN;
  }

  /** Removes and returns the oldest value; NaN when empty. */
  shift(): number {
    const count = this.count;
    if (count === 0) return Number.NaN;
    const head = this.head;
    this.head = (head + 1) & this.mask;
    this.count = count - 1;
    return this.items[head]!;
  }

  /** Removes and returns the newest value; NaN when empty. */
  pop(): number {
    const count = this.count;
    if (count === 0) return Number.NaN;
    const tail = (this.tail - 1) & this.mask;
    this.tail = tail;
    this.count = count - 1;
    return this.items[tail]!;
  }

  /** The oldest value; NaN when empty. */
  peek(): number {
    return this.count === 0 ? Number.NaN : this.items[this.head]!;
  }

  /** The newest value; NaN when empty. */
  peekBack(): number {
    return this.count === 0 ? Number.NaN : this.items[(this.tail - 1) & this.mask]!;
  }

  /** Value `i` counted from the oldest (0) or, when negative, from the newest (-1); NaN outside. */
  at(i: number): number {
    const count = this.count;
    if (!(i >= -count && i < count)) return Number.NaN;
    return this.items[(this.head + (i < 0 ? i + count : i)) & this.mask]!;
  }

  /** Empties the ring: O(1), numbers hold no references. */
  clear(): void {
    this.head = 0;
    this.tail = 0;
    this.count = 0;
  }

  /** Oldest first. Allocates: for tests, debugging and the edges. */
  toArray(): number[] {
    const out: number[] = [];
    for (let i = 0; i < this.count; i++) out.push(this.items[(this.head + i) & this.mask]!);
    return out;
  }
}
