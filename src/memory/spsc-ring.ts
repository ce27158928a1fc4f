import { monoMillis } from '../core/clock.ts';
// Lock-free single-producer single-consumer ring of fixed-size binary records in a SharedArrayBuffer (workers).
// Invariants: only the producer writes TAIL, only the consumer writes HEAD, 0 <= (TAIL - HEAD) | 0 <= capacity.
// Units: positions are int32 record counts wrapping at 2^32 (never doubles); offsets are bytes into the data.
//
// Memory ordering: record bytes are written with plain stores and published by one Atomics.store of TAIL;
// the consumer's Atomics.load of TAIL that observes it synchronizes-with that store, so the plain reads that
// follow see the record (ECMAScript memory model: Atomics are sequentially consistent). Symmetrically the
// consumer's Atomics.store of HEAD orders its reads before the producer's later overwrite of the slot.

import {
  checkSpec,
  HEADER_BYTES,
  LINE_WORDS,
  RingKind,
  type RingSpec,
  readMeta,
  releasePastSeen,
  remainingMs,
  writeMeta,
} from './ring-header.ts';

/**
 * Int32 word indices of the header. HEAD lives on the consumer's line (bytes 0..63), TAIL on the producer's
 * (bytes 64..127), so neither side's stores invalidate the line the other side writes.
 *
 * Each waiting flag sits on the line of the side that *reads* it on its fast path, not the side that sets it:
 * the producer checks CONSUMER_WAITING after every publish, and finds it in the line it has just written (a
 * cache hit), whereas a flag on the consumer's line would cost the producer a miss each time the consumer
 * moved HEAD. The flags are set only by a side about to sleep, which is rare; a flag holds the count of
 * records (or free slots) its sleeper waits for, 0 when nobody sleeps.
 */
export const SpscWord = {
  HEAD: 0,
  PRODUCER_WAITING: 1,
  TAIL: LINE_WORDS,
  CONSUMER_WAITING: LINE_WORDS + 1,
} as const;

const HEAD = SpscWord.HEAD;
const PRODUCER_WAITING = SpscWord.PRODUCER_WAITING;
const TAIL = SpscWord.TAIL;
const CONSUMER_WAITING = SpscWord.CONSUMER_WAITING;
const DATA_OFFSET = HEADER_BYTES;

export class SpscRing {
  /** The shared memory; post it to the other worker and call `SpscRing.attach` there. */
  readonly buffer: SharedArrayBuffer;
  /** Records the ring holds (a power of two). */
  readonly capacity: number;
  readonly recordBytes: number;
  /** Views over the data region only: offsets from claim/peek index them directly (after the shift). */
  readonly f64: Float64Array;
  readonly i32: Int32Array;
  readonly u8: Uint8Array;
  readonly view: DataView;
  /** Byte offset of the first record reserved by the last `claimBatch`. */
  batchOffset = 0;
  /** Byte offset of the first record exposed by the last `peekBatch`. */
  readOffset = 0;

  private readonly ctrl: Int32Array;
  private readonly mask: number;
  // Producer-owned: `tail` counts claimed records (published or not), `published` what TAIL holds, and
  // `headCache` a possibly stale HEAD, so the shared HEAD is read only when the ring looks full. The cached
  // copies live in this thread's own object, not in shared memory: no other thread ever reads them, and
  // writing them into the shared header would dirty a line the other side polls.
  private tail = 0;
  private published = 0;
  private headCache = 0;
  // Consumer-owned: `head` is what HEAD holds; `tailCache` a possibly stale TAIL, read only when empty-looking.
  private head = 0;
  private tailCache = 0;

  /** Bytes of shared memory a ring of this shape occupies. */
  static bytesFor(capacity: number, recordBytes: number): number {
    return DATA_OFFSET + capacity * recordBytes;
  }

  /** Lays out a new ring in a fresh SharedArrayBuffer. */
  static create(spec: RingSpec): SpscRing {
    checkSpec(spec, 'SpscRing');
    const sab = new SharedArrayBuffer(SpscRing.bytesFor(spec.capacity, spec.recordBytes));
    const ctrl = new Int32Array(sab, 0, HEADER_BYTES / 4);
    const start = spec.startSequence ?? 0;
    ctrl[HEAD] = start;
    ctrl[TAIL] = start;
    writeMeta(ctrl, RingKind.SPSC, spec.capacity, spec.recordBytes);
    return new SpscRing(sab, spec.capacity, spec.recordBytes);
  }

  /** Opens a ring created elsewhere (usually another worker); refuses a buffer that is not an SpscRing. */
  static attach(sab: SharedArrayBuffer): SpscRing {
    const { capacity, recordBytes } = readMeta(sab, RingKind.SPSC, SpscRing.bytesFor);
    return new SpscRing(sab, capacity, recordBytes);
  }

  private constructor(sab: SharedArrayBuffer, capacity: number, recordBytes: number) {
    this.buffer = sab;
    this.capacity = capacity;
    this.recordBytes = recordBytes;
    this.mask = capacity - 1;
    const dataBytes = capacity * recordBytes;
    this.f64 = new Float64Array(sab, DATA_OFFSET, dataBytes / 8);
    this.i32 = new Int32Array(sab, DATA_OFFSET, dataBytes / 4);
    this.u8 = new Uint8Array(sab, DATA_OFFSET, dataBytes);
    this.view = new DataView(sab, DATA_OFFSET, dataBytes);
    this.ctrl = new Int32Array(sab, 0, HEADER_BYTES / 4);
    const head = Atomics.load(this.ctrl, HEAD);
    const tail = Atomics.load(this.ctrl, TAIL);
    this.tail = tail;
    this.published = tail;
    this.headCache = head;
    this.head = head;
    this.tailCache = tail;
  }

  // ---------------------------------------------------------------------------------------------- producer

  /**
   * Reserves the next record and returns its byte offset, or -1 when the ring is full. The record becomes
   * visible to the consumer at the next `publish()`; claim several, then publish once, to batch.
   */
  claim(): number {
    const t = this.tail;
    if (((t - this.headCache) | 0) >= this.capacity) {
      this.headCache = Atomics.load(this.ctrl, HEAD);
      if (((t - this.headCache) | 0) >= this.capacity) return -1;
    }
    this.tail = (t + 1) | 0;
    return (t & this.mask) * this.recordBytes;
  }

  /**
   * Reserves up to `max` records that are contiguous in memory (a batch stops at the end of the data region)
   * and returns how many; the first is at `batchOffset`, the next ones every `recordBytes`. 0 when full.
   */
  claimBatch(max: number): number {
    const t = this.tail;
    let free = this.capacity - ((t - this.headCache) | 0);
    if (free < max) {
      this.headCache = Atomics.load(this.ctrl, HEAD);
      free = this.capacity - ((t - this.headCache) | 0);
    }
    const index = t & this.mask;
    let n = this.capacity - index;
    if (n > free) n = free;
    if (n > max) n = max;
    if (n <= 0) return 0;
    this.tail = (t + n) | 0;
    this.batchOffset = index * this.recordBytes;
    return n;
  }

  /**
   * Makes every record claimed so far visible with one Atomics.store, and wakes the consumer only if it has
   * said it is asleep, so the fast path makes no notify call.
   */
  publish(): void {
    const t = this.tail;
    if (t === this.published) return;
    this.published = t;
    const ctrl = this.ctrl;
    Atomics.store(ctrl, TAIL, t);
    // Sequentially consistent store-then-load against the consumer's flag-store-then-TAIL-load: at least one
    // side sees the other's write, so a consumer cannot go to sleep on a TAIL that has already moved.
    const want = Atomics.load(ctrl, CONSUMER_WAITING);
    if (want !== 0) this.wakeConsumer(want, t);
  }

  /**
   * The consumer sleeps until `want` records are readable. The waker clears the flag, so a sleeper costs one
   * notify however many publishes land before it runs.
   */
  private wakeConsumer(want: number, tail: number): void {
    const ctrl = this.ctrl;
    const readable = (tail - Atomics.load(ctrl, HEAD)) | 0;
    if (readable >= want && Atomics.exchange(ctrl, CONSUMER_WAITING, 0) !== 0) Atomics.notify(ctrl, TAIL, 1);
  }

  /** Claims, writes and publishes one 8-byte value (the first 8 bytes of a wider record); false when full. */
  pushF64(value: number): boolean {
    const off = this.claim();
    if (off < 0) return false;
    this.f64[off >> 3] = value;
    this.publish();
    return true;
  }

  /** Records claimed but not yet published. */
  pending(): number {
    return (this.tail - this.published) | 0;
  }

  /** Free slots as the producer sees them now (reads the shared HEAD). */
  freeSlots(): number {
    this.headCache = Atomics.load(this.ctrl, HEAD);
    return this.capacity - ((this.tail - this.headCache) | 0);
  }

  /**
   * Blocks the calling thread until at least `minFree` slots (default 1) are free or `timeoutMs` passes;
   * true if they are. Publishes pending records first (they must be written): the consumer cannot free space
   * it cannot see. A `minFree` of a batch or more gives hysteresis: the consumer wakes this producer once,
   * after freeing that much, rather than for every released slot (each wake-up is a syscall and, on a busy
   * core, a context switch). Atomics.wait blocks the whole thread: call it from a worker (on Node's main
   * thread it freezes the event loop, and browsers forbid it there); use `waitNotFullAsync` there.
   */
  waitNotFull(timeoutMs = Number.POSITIVE_INFINITY, minFree = 1): boolean {
    this.publish();
    const want = this.clamp(minFree);
    if (this.freeSlots() >= want) return true;
    const ctrl = this.ctrl;
    const deadline = monoMillis() + timeoutMs;
    for (;;) {
      // Flag up (with the amount wanted) before re-reading HEAD; the consumer clears it when it notifies,
      // so it is set again every round.
      Atomics.store(ctrl, PRODUCER_WAITING, want);
      const h = Atomics.load(ctrl, HEAD);
      if (this.capacity - ((this.tail - h) | 0) >= want) break;
      const left = remainingMs(deadline);
      if (left <= 0) break;
      Atomics.wait(ctrl, HEAD, h, left);
    }
    Atomics.store(ctrl, PRODUCER_WAITING, 0);
    return this.freeSlots() >= want;
  }

  /** `waitNotFull` for the main thread: resolves without blocking the event loop (Atomics.waitAsync). */
  async waitNotFullAsync(timeoutMs = Number.POSITIVE_INFINITY, minFree = 1): Promise<boolean> {
    this.publish();
    const want = this.clamp(minFree);
    if (this.freeSlots() >= want) return true;
    const ctrl = this.ctrl;
    const deadline = monoMillis() + timeoutMs;
    for (;;) {
      Atomics.store(ctrl, PRODUCER_WAITING, want);
      const h = Atomics.load(ctrl, HEAD);
      if (this.capacity - ((this.tail - h) | 0) >= want) break;
      const left = remainingMs(deadline);
      if (left <= 0) break;
      const r = Atomics.waitAsync(ctrl, HEAD, h, left);
      if (r.async) await r.value;
    }
    Atomics.store(ctrl, PRODUCER_WAITING, 0);
    return this.freeSlots() >= want;
  }

  /** A wait threshold in [1, capacity]: 0 would read as "not waiting", more than capacity never comes. */
  private clamp(count: number): number {
    return count < 1 ? 1 : count > this.capacity ? this.capacity : count | 0;
  }

  // ---------------------------------------------------------------------------------------------- consumer

  /** Byte offset of the oldest unreleased record, or -1 when the ring is empty. Does not consume it. */
  peek(): number {
    const h = this.head;
    if (h === this.tailCache) {
      this.tailCache = Atomics.load(this.ctrl, TAIL);
      if (h === this.tailCache) return -1;
    }
    return (h & this.mask) * this.recordBytes;
  }

  /** Frees the record `peek` returned, handing its slot back to the producer (one Atomics.store). */
  release(): void {
    this.releaseBatch(1);
  }

  /** Records readable now (reads the shared TAIL); address them with `offsetAt(0..n-1)`. */
  available(): number {
    this.tailCache = Atomics.load(this.ctrl, TAIL);
    return (this.tailCache - this.head) | 0;
  }

  /** Byte offset of the i-th unreleased record (0 = oldest); valid for i < available(). */
  offsetAt(i: number): number {
    return ((this.head + i) & this.mask) * this.recordBytes;
  }

  /**
   * Exposes up to `max` readable records that are contiguous in memory and returns how many (0 when empty);
   * the first is at `readOffset`. Release them with `releaseBatch(n)`.
   */
  peekBatch(max: number): number {
    const h = this.head;
    let avail = (this.tailCache - h) | 0;
    if (avail < max) {
      this.tailCache = Atomics.load(this.ctrl, TAIL);
      avail = (this.tailCache - h) | 0;
    }
    const index = h & this.mask;
    let n = this.capacity - index;
    if (n > avail) n = avail;
    if (n > max) n = max;
    if (n <= 0) return 0;
    this.readOffset = index * this.recordBytes;
    return n;
  }

  /** Frees the `n` oldest records with one Atomics.store; n must not exceed what peek/available showed. */
  releaseBatch(n: number): void {
    const h = this.head;
    // A release past what was seen would let the producer overwrite unread records: a caller bug.
    if (n < 0 || ((this.tailCache - h) | 0) < n) releasePastSeen('SpscRing', n, (this.tailCache - h) | 0);
    const next = (h + n) | 0;
    this.head = next;
    const ctrl = this.ctrl;
    Atomics.store(ctrl, HEAD, next);
    // Store-then-load against the producer's flag-store-then-HEAD-load (see waitNotFull): a producer that
    // read the old HEAD is seen here. It is woken only once the space it asked for is free.
    const want = Atomics.load(ctrl, PRODUCER_WAITING);
    if (want !== 0) this.wakeProducer(want, next);
  }

  private wakeProducer(want: number, head: number): void {
    const ctrl = this.ctrl;
    const free = this.capacity - ((Atomics.load(ctrl, TAIL) - head) | 0);
    if (free >= want && Atomics.exchange(ctrl, PRODUCER_WAITING, 0) !== 0) Atomics.notify(ctrl, HEAD, 1);
  }

  /**
   * Blocks the calling thread until at least `minAvailable` records (default 1) are readable or `timeoutMs`
   * passes; true if they are. A larger `minAvailable` batches wake-ups for throughput (like io_uring's
   * min_complete): the producer wakes this consumer once that many are published. A producer that stops
   * short of it leaves the consumer asleep until the timeout, so pair it with a bounded timeout.
   * Atomics.wait blocks the whole thread: call it from a worker (on Node's main thread it freezes the event
   * loop, and browsers forbid it there); use `waitNotEmptyAsync` on the main thread.
   */
  waitNotEmpty(timeoutMs = Number.POSITIVE_INFINITY, minAvailable = 1): boolean {
    const want = this.clamp(minAvailable);
    if (this.available() >= want) return true;
    const ctrl = this.ctrl;
    const deadline = monoMillis() + timeoutMs;
    for (;;) {
      // The flag (the count wanted) is set before this load (see publish): either we see the new TAIL here,
      // or the producer sees the flag and notifies; Atomics.wait re-checks TAIL atomically, so no wake-up is
      // lost. The producer clears the flag when it notifies, so it is set again every round.
      Atomics.store(ctrl, CONSUMER_WAITING, want);
      const t = Atomics.load(ctrl, TAIL);
      if (((t - this.head) | 0) >= want) break;
      const left = remainingMs(deadline);
      if (left <= 0) break;
      Atomics.wait(ctrl, TAIL, t, left);
    }
    Atomics.store(ctrl, CONSUMER_WAITING, 0);
    return this.available() >= want;
  }

  /** `waitNotEmpty` for the main thread: resolves without blocking the event loop (Atomics.waitAsync). */
  async waitNotEmptyAsync(timeoutMs = Number.POSITIVE_INFINITY, minAvailable = 1): Promise<boolean> {
    const want = this.clamp(minAvailable);
    if (this.available() >= want) return true;
    const ctrl = this.ctrl;
    const deadline = monoMillis() + timeoutMs;
    for (;;) {
      Atomics.store(ctrl, CONSUMER_WAITING, want);
      const t = Atomics.load(ctrl, TAIL);
      if (((t - this.head) | 0) >= want) break;
      const left = remainingMs(deadline);
      if (left <= 0) break;
      const r = Atomics.waitAsync(ctrl, TAIL, t, left);
      if (r.async) await r.value;
    }
    Atomics.store(ctrl, CONSUMER_WAITING, 0);
    return this.available() >= want;
  }

  // ---------------------------------------------------------------------------------------------- either side

  /** Published, unreleased records, read from both shared counters (a snapshot for monitoring). */
  size(): number {
    return (Atomics.load(this.ctrl, TAIL) - Atomics.load(this.ctrl, HEAD)) | 0;
  }
}
