// Lock-free multi-producer single-consumer ring (Disruptor style) of fixed-size records in a SharedArrayBuffer.
// Invariants: a slot is rewritten only after the consumer released the sequence one lap earlier; the consumer
// reads in sequence order, stopping at the first unpublished slot. Units: int32 sequences wrapping at 2^32.
//
// Design: producers claim sequences from a shared counter (compare-and-swap in tryClaim, Atomics.add in claim),
// write the record, then publish by storing the sequence into the slot's availability word, so a slow producer
// holds back only the sequences after its own, never corrupts them.
//
// Memory ordering: a producer writes its record with plain stores, then Atomics.store(avail[slot], seq); the
// consumer's Atomics.load(avail[slot]) that reads seq synchronizes-with it, so the record is visible. The
// consumer's Atomics.store(CONSUMER) after reading orders those reads before any producer's overwrite, which
// first reads CONSUMER (Atomics.load) to see the lap is free. All Atomics are sequentially consistent.

import { monoMillis } from '../core/clock.ts';
import { invariant } from '../core/errors.ts';
import {
  CACHE_LINE,
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
 * Int32 word indices of the header. CLAIM, hammered by every producer, has the first line to itself with the
 * consumer's sleeping flag and the sequence it sleeps on (producers read the flag after each publish, so it
 * is best on the line they just wrote); CONSUMER, written by the consumer on every release, has the second
 * line with the count of sleeping producers (which the consumer reads after each release).
 */
export const MpscWord = {
  CLAIM: 0,
  CONSUMER_WAITING: 1,
  CONSUMER_WAIT_SEQ: 2,
  CONSUMER: LINE_WORDS,
  PRODUCERS_SLEEPING: LINE_WORDS + 1,
} as const;

const CLAIM = MpscWord.CLAIM;
const CONSUMER_WAITING = MpscWord.CONSUMER_WAITING;
const CONSUMER_WAIT_SEQ = MpscWord.CONSUMER_WAIT_SEQ;
const CONSUMER = MpscWord.CONSUMER;
const PRODUCERS_SLEEPING = MpscWord.PRODUCERS_SLEEPING;
const AVAIL_OFFSET = HEADER_BYTES;
/** Spins on the consumer sequence before a blocked producer sleeps: the consumer is usually just behind. */
const CLAIM_SPINS = 256;

function availBytes(capacity: number): number {
  return Math.ceil((capacity * 4) / CACHE_LINE) * CACHE_LINE;
}

export class MpscRing {
  readonly buffer: SharedArrayBuffer;
  readonly capacity: number;
  readonly recordBytes: number;
  /** Views over the data region only. */
  readonly f64: Float64Array;
  readonly i32: Int32Array;
  readonly u8: Uint8Array;
  readonly view: DataView;
  /** Byte offset of the first record of the last `tryClaimBatch`. */
  batchOffset = 0;
  /** Byte offset of the first record exposed by the last `peekBatch`. */
  readOffset = 0;

  private readonly ctrl: Int32Array;
  /** avail[seq & mask] === seq once sequence `seq` is published. */
  private readonly avail: Int32Array;
  private readonly mask: number;
  // Producer-owned (one handle per producer thread): a possibly stale CONSUMER, and the claim in progress.
  private gatingCache = 0;
  private pendingSeq = 0;
  private pendingCount = 0;
  // Consumer-owned: next sequence to read, and how many from there are known to be published.
  private seq = 0;
  private known = 0;

  static bytesFor(capacity: number, recordBytes: number): number {
    return AVAIL_OFFSET + availBytes(capacity) + capacity * recordBytes;
  }

  static create(spec: RingSpec): MpscRing {
    checkSpec(spec, 'MpscRing');
    const { capacity, recordBytes } = spec;
    const sab = new SharedArrayBuffer(MpscRing.bytesFor(capacity, recordBytes));
    const ctrl = new Int32Array(sab, 0, HEADER_BYTES / 4);
    const avail = new Int32Array(sab, AVAIL_OFFSET, capacity);
    const start = spec.startSequence ?? 0;
    // Each slot holds the sequence one lap before the first that will use it: "not yet published".
    for (let k = 0; k < capacity; k++) {
      const s = (start + k) | 0;
      avail[s & (capacity - 1)] = (s - capacity) | 0;
    }
    ctrl[CLAIM] = start;
    ctrl[CONSUMER] = start;
    writeMeta(ctrl, RingKind.MPSC, capacity, recordBytes);
    return new MpscRing(sab, capacity, recordBytes);
  }

  /** Opens a ring created elsewhere; each producer thread and the consumer attach their own handle. */
  static attach(sab: SharedArrayBuffer): MpscRing {
    const { capacity, recordBytes } = readMeta(sab, RingKind.MPSC, MpscRing.bytesFor);
    return new MpscRing(sab, capacity, recordBytes);
  }

  private constructor(sab: SharedArrayBuffer, capacity: number, recordBytes: number) {
    this.buffer = sab;
    this.capacity = capacity;
    this.recordBytes = recordBytes;
    this.mask = capacity - 1;
    const dataOffset = AVAIL_OFFSET + availBytes(capacity);
    const dataBytes = capacity * recordBytes;
    this.f64 = new Float64Array(sab, dataOffset, dataBytes / 8);
    this.i32 = new Int32Array(sab, dataOffset, dataBytes / 4);
    this.u8 = new Uint8Array(sab, dataOffset, dataBytes);
    this.view = new DataView(sab, dataOffset, dataBytes);
    this.ctrl = new Int32Array(sab, 0, HEADER_BYTES / 4);
    this.avail = new Int32Array(sab, AVAIL_OFFSET, capacity);
    const consumer = Atomics.load(this.ctrl, CONSUMER);
    this.gatingCache = consumer;
    this.seq = consumer;
  }

  // ---------------------------------------------------------------------------------------------- producer

  /**
   * Claims the next sequence if the ring has room, returning the record's byte offset, or -1 when full. Uses
   * compare-and-swap so that a full ring claims nothing. Write the record, then `publish()`.
   */
  tryClaim(): number {
    invariant(this.pendingCount === 0, 'MpscRing: publish() the previous claim before claiming again');
    const ctrl = this.ctrl;
    const cap = this.capacity;
    for (;;) {
      const cur = Atomics.load(ctrl, CLAIM);
      // d < 0 means our cache is more than 2^31 behind (other producers ran while this one idled): refresh.
      let d = (cur - this.gatingCache) | 0;
      if (d < 0 || d >= cap) {
        this.gatingCache = Atomics.load(ctrl, CONSUMER);
        d = (cur - this.gatingCache) | 0;
        // The consumer moved past a stale `cur` (others claimed and published since): retry with a fresh one.
        if (d < 0) continue;
        if (d >= cap) return -1;
      }
      if (Atomics.compareExchange(ctrl, CLAIM, cur, (cur + 1) | 0) === cur) {
        this.pendingSeq = cur;
        this.pendingCount = 1;
        return (cur & this.mask) * this.recordBytes;
      }
    }
  }

  /**
   * Claims the next sequence with one Atomics.add (no retry loop under contention) and, if the ring is full,
   * waits for the consumer: spins briefly, then sleeps in Atomics.wait. The claim cannot be undone, so there
   * is no timeout; it blocks forever if the consumer stops. Atomics.wait blocks the thread: use it in
   * workers (on Node's main thread it freezes the event loop).
   */
  claim(): number {
    invariant(this.pendingCount === 0, 'MpscRing: publish() the previous claim before claiming again');
    const ctrl = this.ctrl;
    const seq = Atomics.add(ctrl, CLAIM, 1);
    const d = (seq - this.gatingCache) | 0;
    if (d < 0 || d >= this.capacity) {
      this.gatingCache = Atomics.load(ctrl, CONSUMER);
      if (((seq - this.gatingCache) | 0) >= this.capacity) this.awaitLap(seq);
    }
    this.pendingSeq = seq;
    this.pendingCount = 1;
    return (seq & this.mask) * this.recordBytes;
  }

  /**
   * Claims up to `max` consecutive sequences whose records are contiguous in memory (a batch stops at the end
   * of the data region); returns how many (0 when full), the first at `batchOffset`.
   */
  tryClaimBatch(max: number): number {
    invariant(this.pendingCount === 0, 'MpscRing: publish() the previous claim before claiming again');
    const ctrl = this.ctrl;
    const cap = this.capacity;
    for (;;) {
      const cur = Atomics.load(ctrl, CLAIM);
      let d = (cur - this.gatingCache) | 0;
      if (d < 0 || cap - d < max) {
        this.gatingCache = Atomics.load(ctrl, CONSUMER);
        d = (cur - this.gatingCache) | 0;
        if (d < 0) continue;
      }
      const index = cur & this.mask;
      let n = cap - index;
      if (n > cap - d) n = cap - d;
      if (n > max) n = max;
      if (n <= 0) return 0;
      if (Atomics.compareExchange(ctrl, CLAIM, cur, (cur + n) | 0) === cur) {
        this.pendingSeq = cur;
        this.pendingCount = n;
        this.batchOffset = index * this.recordBytes;
        return n;
      }
    }
  }

  /** Publishes this handle's claim (one availability store per record) and wakes a sleeping consumer. */
  publish(): void {
    const n = this.pendingCount;
    if (n === 0) return;
    const avail = this.avail;
    const mask = this.mask;
    const first = this.pendingSeq;
    let s = first;
    for (let i = 0; i < n; i++) {
      Atomics.store(avail, s & mask, s);
      s = (s + 1) | 0;
    }
    this.pendingCount = 0;
    // Store-then-load against the consumer's (WAIT_SEQ, flag)-store-then-avail-load, all sequentially
    // consistent: if the consumer sleeps on a sequence of this batch, we see its flag, then its WAIT_SEQ.
    // Only the producer that owns that sequence notifies, so other producers make no syscall.
    const ctrl = this.ctrl;
    if (Atomics.load(ctrl, CONSUMER_WAITING) !== 0) {
      const w = Atomics.load(ctrl, CONSUMER_WAIT_SEQ);
      const k = (w - first) | 0;
      if (k >= 0 && k < n) Atomics.notify(avail, w & mask, 1);
    }
  }

  /** Sequences claimed by all producers and not yet released by the consumer (a snapshot). */
  size(): number {
    return (Atomics.load(this.ctrl, CLAIM) - Atomics.load(this.ctrl, CONSUMER)) | 0;
  }

  /**
   * For `tryClaim` users: publishes this handle's pending claim, then blocks until the ring has room or
   * `timeoutMs` passes; true if it has room (another producer may still take it first). Worker threads only,
   * as for `claim`.
   */
  waitNotFull(timeoutMs = Number.POSITIVE_INFINITY): boolean {
    this.publish();
    const ctrl = this.ctrl;
    if (this.hasRoom()) return true;
    const deadline = monoMillis() + timeoutMs;
    // Counted as a sleeper before the re-check of CONSUMER (see awaitLap).
    Atomics.add(ctrl, PRODUCERS_SLEEPING, 1);
    for (;;) {
      const g = Atomics.load(ctrl, CONSUMER);
      if (((Atomics.load(ctrl, CLAIM) - g) | 0) < this.capacity) break;
      const left = remainingMs(deadline);
      if (left <= 0) break;
      Atomics.wait(ctrl, CONSUMER, g, left);
    }
    Atomics.sub(ctrl, PRODUCERS_SLEEPING, 1);
    return this.hasRoom();
  }

  private hasRoom(): boolean {
    this.gatingCache = Atomics.load(this.ctrl, CONSUMER);
    return ((Atomics.load(this.ctrl, CLAIM) - this.gatingCache) | 0) < this.capacity;
  }

  /** Waits until the consumer has released `seq - capacity`, the previous user of seq's slot. */
  private awaitLap(seq: number): void {
    const ctrl = this.ctrl;
    const cap = this.capacity;
    for (let i = 0; i < CLAIM_SPINS; i++) {
      const g = Atomics.load(ctrl, CONSUMER);
      if (((seq - g) | 0) < cap) {
        this.gatingCache = g;
        return;
      }
    }
    // Count ourselves as a sleeper, re-check, then sleep on CONSUMER: the consumer reads the count after each
    // store of CONSUMER and wakes every sleeper while it is non-zero (sequentially consistent store-then-load
    // on both sides, so a release cannot slip between our check and our sleep). Only sleepers change the
    // count: an earlier version let the consumer clear a shared flag, which could erase the flag a producer
    // had just raised for its own re-check, and that producer then slept through every later release.
    Atomics.add(ctrl, PRODUCERS_SLEEPING, 1);
    let g = Atomics.load(ctrl, CONSUMER);
    while (((seq - g) | 0) >= cap) {
      Atomics.wait(ctrl, CONSUMER, g);
      g = Atomics.load(ctrl, CONSUMER);
    }
    Atomics.sub(ctrl, PRODUCERS_SLEEPING, 1);
    this.gatingCache = g;
  }

  // ---------------------------------------------------------------------------------------------- consumer

  /** Byte offset of the next record in sequence order, or -1 if it is not published yet. */
  peek(): number {
    const s = this.seq;
    if (this.known === 0) {
      if (Atomics.load(this.avail, s & this.mask) !== s) return -1;
      this.known = 1;
    }
    return (s & this.mask) * this.recordBytes;
  }

  release(): void {
    this.releaseBatch(1);
  }

  /**
   * Published records readable in order from the next sequence, up to `max` (scans availability words and
   * stops at the first unpublished one); address them with `offsetAt(0..n-1)`.
   */
  available(max = this.capacity): number {
    const avail = this.avail;
    const mask = this.mask;
    let k = this.known;
    let s = (this.seq + k) | 0;
    while (k < max && Atomics.load(avail, s & mask) === s) {
      k++;
      s = (s + 1) | 0;
    }
    this.known = k;
    return Math.min(k, max);
  }

  offsetAt(i: number): number {
    return ((this.seq + i) & this.mask) * this.recordBytes;
  }

  /** Up to `max` published records contiguous in memory, the first at `readOffset`; returns how many. */
  peekBatch(max: number): number {
    const index = this.seq & this.mask;
    let limit = this.capacity - index;
    if (limit > max) limit = max;
    if (limit <= 0) return 0;
    const n = this.available(limit);
    this.readOffset = index * this.recordBytes;
    return n;
  }

  /** Releases the `n` oldest records with one Atomics.store of CONSUMER; wakes producers only if any sleep. */
  releaseBatch(n: number): void {
    if (n < 0 || n > this.known) releasePastSeen('MpscRing', n, this.known);
    const next = (this.seq + n) | 0;
    this.seq = next;
    this.known -= n;
    const ctrl = this.ctrl;
    Atomics.store(ctrl, CONSUMER, next);
    if (Atomics.load(ctrl, PRODUCERS_SLEEPING) !== 0) Atomics.notify(ctrl, CONSUMER);
  }

  /**
   * Blocks until the next record is published or `timeoutMs` passes; true if readable. Worker threads only
   * (Atomics.wait); use `waitNotEmptyAsync` on the main thread.
   */
  waitNotEmpty(timeoutMs = Number.POSITIVE_INFINITY): boolean {
    if (this.peek() >= 0) return true;
    const ctrl = this.ctrl;
    const avail = this.avail;
    const slot = this.seq & this.mask;
    const deadline = monoMillis() + timeoutMs;
    // WAIT_SEQ before the flag: a producer that sees the flag then reads the sequence we sleep on.
    Atomics.store(ctrl, CONSUMER_WAIT_SEQ, this.seq);
    Atomics.store(ctrl, CONSUMER_WAITING, 1);
    for (;;) {
      const v = Atomics.load(avail, slot);
      if (v === this.seq) break;
      const left = remainingMs(deadline);
      if (left <= 0) break;
      Atomics.wait(avail, slot, v, left);
    }
    Atomics.store(ctrl, CONSUMER_WAITING, 0);
    return this.peek() >= 0;
  }

  async waitNotEmptyAsync(timeoutMs = Number.POSITIVE_INFINITY): Promise<boolean> {
    if (this.peek() >= 0) return true;
    const ctrl = this.ctrl;
    const avail = this.avail;
    const slot = this.seq & this.mask;
    const deadline = monoMillis() + timeoutMs;
    // WAIT_SEQ before the flag: a producer that sees the flag then reads the sequence we sleep on.
    Atomics.store(ctrl, CONSUMER_WAIT_SEQ, this.seq);
    Atomics.store(ctrl, CONSUMER_WAITING, 1);
    for (;;) {
      const v = Atomics.load(avail, slot);
      if (v === this.seq) break;
      const left = remainingMs(deadline);
      if (left <= 0) break;
      const r = Atomics.waitAsync(avail, slot, v, left);
      if (r.async) await r.value;
    }
    Atomics.store(ctrl, CONSUMER_WAITING, 0);
    return this.peek() >= 0;
  }
}
