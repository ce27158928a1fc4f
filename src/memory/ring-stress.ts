// Producer and consumer loops that push millions of checked records through SpscRing and MpscRing across
// threads (used by the stress tests, in workers and on the main thread). Both sides fold every sequence
// number into a sum and an order-sensitive hash that must match; the consumer also checks each record's
// redundant fields (torn or stale reads) and that sequences arrive consecutively. Records are 16 bytes.

import type { MpscRing } from './mpsc-ring.ts';
import type { SpscRing } from './spsc-ring.ts';

export const STRESS_RECORD_BYTES = 16;

export interface StressTally {
  count: number;
  /** Sum of sequence numbers (exact in a double up to ~1.3e8 records). */
  sum: number;
  /** FNV-1a over the sequence numbers in order: any reordering changes it. */
  hash: number;
  /** Records whose fields disagreed, or that arrived out of order; 0 on success. */
  errors: number;
  firstError: string;
  /** Times a side had to sleep (Atomics.wait): shows the wait/notify path was exercised. */
  sleeps: number;
}

export function newTally(): StressTally {
  return { count: 0, sum: 0, hash: 0x811c9dc5 | 0, errors: 0, firstError: '', sleeps: 0 };
}

function fold(t: StressTally, seq: number): void {
  t.count++;
  t.sum += seq;
  t.hash = Math.imul(t.hash ^ seq, 0x01000193);
}

function fail(t: StressTally, message: string): void {
  if (t.errors === 0) t.firstError = message;
  t.errors++;
}

/** xorshift32: reproducible batch sizes and mode choices per seed. */
function nextRandom(state: Int32Array): number {
  let x = state[0]!;
  x ^= x << 13;
  x ^= x >>> 17;
  x ^= x << 5;
  state[0] = x;
  return x >>> 0;
}

/**
 * Misses before sleeping. The count is not reset on progress, on purpose: both sides sleep often, so the
 * wait/notify path (and its lost-wake-up races) is exercised thousands of times per run.
 */
const SPINS = 64;

// ---------------------------------------------------------------------------------------------------- SPSC

function writeSpsc(ring: SpscRing, off: number, seq: number): void {
  ring.i32[off >> 2] = seq;
  ring.i32[(off >> 2) + 1] = seq ^ 0x5bd1e995;
  ring.f64[(off >> 3) + 1] = seq * 3 + 0.5;
}

/** Pushes sequences 0..count-1, mixing single claims, multi-claim-one-publish and claimBatch at random. */
export function produceSpsc(ring: SpscRing, count: number, seed: number): StressTally {
  const t = newTally();
  const rnd = Int32Array.of(seed | 1);
  let seq = 0;
  let misses = 0;
  while (seq < count) {
    const r = nextRandom(rnd);
    const want = Math.min(1 + (r % 97), count - seq);
    let wrote = 0;
    switch ((r >>> 8) % 3) {
      case 0: // one publish per record
        for (; wrote < want; wrote++) {
          const off = ring.claim();
          if (off < 0) break;
          writeSpsc(ring, off, seq);
          fold(t, seq++);
          ring.publish();
        }
        break;
      case 1: // several claims, one publish
        for (; wrote < want; wrote++) {
          const off = ring.claim();
          if (off < 0) break;
          writeSpsc(ring, off, seq);
          fold(t, seq++);
        }
        ring.publish();
        break;
      default: {
        const n = ring.claimBatch(want);
        let off = ring.batchOffset;
        for (; wrote < n; wrote++, off += STRESS_RECORD_BYTES) {
          writeSpsc(ring, off, seq);
          fold(t, seq++);
        }
        ring.publish();
      }
    }
    if (wrote === 0 && ++misses > SPINS) {
      misses = 0;
      t.sleeps++;
      ring.waitNotFull(1000, 1 + (r % 64)); // sometimes asks for many free slots: exercises the hysteresis
    }
  }
  ring.publish();
  return t;
}

function checkSpsc(ring: SpscRing, off: number, expected: number, t: StressTally): void {
  const seq = ring.i32[off >> 2]!;
  if (seq !== expected) fail(t, `record ${t.count}: sequence ${seq}, expected ${expected}`);
  else if (ring.i32[(off >> 2) + 1] !== (seq ^ 0x5bd1e995) || ring.f64[(off >> 3) + 1] !== seq * 3 + 0.5)
    fail(t, `record ${t.count}: sequence ${seq} has torn fields`);
  fold(t, seq);
}

/** Consumes `count` records with a random mix of peek/release, peekBatch and available/offsetAt. */
function consumeSome(ring: SpscRing, t: StressTally, count: number, r: number): number {
  const want = Math.min(1 + (r % 113), count - t.count);
  switch ((r >>> 8) % 3) {
    case 0: {
      let k = 0;
      for (; k < want; k++) {
        const off = ring.peek();
        if (off < 0) break;
        checkSpsc(ring, off, t.count, t);
        ring.release();
      }
      return k;
    }
    case 1: {
      const n = ring.peekBatch(want);
      let off = ring.readOffset;
      for (let i = 0; i < n; i++, off += STRESS_RECORD_BYTES) checkSpsc(ring, off, t.count, t);
      ring.releaseBatch(n);
      return n;
    }
    default: {
      const n = Math.min(ring.available(), want);
      for (let i = 0; i < n; i++) checkSpsc(ring, ring.offsetAt(i), t.count, t);
      ring.releaseBatch(n);
      return n;
    }
  }
}

/** Blocking consumer (Atomics.wait when empty): for a worker. */
export function consumeSpsc(ring: SpscRing, count: number, seed: number): StressTally {
  const t = newTally();
  const rnd = Int32Array.of(seed | 1);
  let misses = 0;
  let idleWaits = 0;
  while (t.count < count) {
    const r = nextRandom(rnd);
    if (consumeSome(ring, t, count, r) > 0) {
      idleWaits = 0;
      continue;
    }
    if (++misses > SPINS) {
      misses = 0;
      t.sleeps++;
      // Sometimes waits for several records (hysteresis); near the end of the stream fewer may ever come,
      // so the wait is short and only a long run of empty waits counts as a stall.
      if (!ring.waitNotEmpty(20, 1 + (r % 32)) && ring.available() === 0 && ++idleWaits > 250) {
        fail(t, `stalled after ${t.count} records`);
        break;
      }
    }
  }
  return t;
}

/** Main-thread consumer: sleeps with Atomics.waitAsync so the event loop keeps running. */
export async function consumeSpscAsync(ring: SpscRing, count: number, seed: number): Promise<StressTally> {
  const t = newTally();
  const rnd = Int32Array.of(seed | 1);
  while (t.count < count) {
    if (consumeSome(ring, t, count, nextRandom(rnd)) > 0) continue;
    t.sleeps++;
    if (!(await ring.waitNotEmptyAsync(5000))) {
      fail(t, `stalled after ${t.count} records`);
      break;
    }
  }
  return t;
}

// ---------------------------------------------------------------------------------------------------- MPSC

function writeMpsc(ring: MpscRing, off: number, producer: number, seq: number): void {
  ring.i32[off >> 2] = producer;
  ring.i32[(off >> 2) + 1] = seq;
  ring.f64[(off >> 3) + 1] = seq * 4 + producer;
}

/** One producer: sequences 0..count-1 tagged with its id, by blocking claim, tryClaim or tryClaimBatch. */
export function produceMpsc(ring: MpscRing, producer: number, count: number, seed: number): StressTally {
  const t = newTally();
  const rnd = Int32Array.of(seed | 1);
  let seq = 0;
  let misses = 0;
  while (seq < count) {
    const r = nextRandom(rnd);
    const mode = r % 3;
    if (mode === 0) {
      writeMpsc(ring, ring.claim(), producer, seq); // blocks (spin, then sleep) when full
      ring.publish();
      fold(t, seq++);
      continue;
    }
    let n = 0;
    if (mode === 1) {
      const off = ring.tryClaim();
      if (off >= 0) {
        writeMpsc(ring, off, producer, seq);
        fold(t, seq++);
        n = 1;
      }
    } else {
      n = ring.tryClaimBatch(Math.min(1 + ((r >>> 8) % 31), count - seq));
      let off = ring.batchOffset;
      for (let i = 0; i < n; i++, off += STRESS_RECORD_BYTES) {
        writeMpsc(ring, off, producer, seq);
        fold(t, seq++);
      }
    }
    ring.publish();
    if (n === 0 && ++misses > SPINS) {
      misses = 0;
      t.sleeps++;
      ring.waitNotFull(1000);
    }
  }
  return t;
}

/** The consumer: one tally per producer; each producer's sequences must arrive consecutively. */
export function consumeMpsc(
  ring: MpscRing,
  producers: number,
  perProducer: number,
  seed: number,
): StressTally[] {
  const tallies = Array.from({ length: producers }, newTally);
  const total = producers * perProducer;
  const rnd = Int32Array.of(seed | 1);
  const overall = newTally();
  let got = 0;
  let misses = 0;
  const check = (off: number) => {
    const p = ring.i32[off >> 2]!;
    const seq = ring.i32[(off >> 2) + 1]!;
    const t = tallies[p];
    if (t === undefined) {
      fail(overall, `record ${got}: unknown producer ${p}`);
      return;
    }
    if (seq !== t.count) fail(t, `producer ${p}: sequence ${seq}, expected ${t.count}`);
    else if (ring.f64[(off >> 3) + 1] !== seq * 4 + p)
      fail(t, `producer ${p}: sequence ${seq} has torn fields`);
    fold(t, seq);
  };
  while (got < total) {
    const r = nextRandom(rnd);
    let n = 0;
    if (r % 2 === 0) {
      const off = ring.peek();
      if (off >= 0) {
        check(off);
        ring.release();
        n = 1;
      }
    } else {
      n = ring.peekBatch(1 + ((r >>> 8) % 127));
      let off = ring.readOffset;
      for (let i = 0; i < n; i++, off += STRESS_RECORD_BYTES) check(off);
      ring.releaseBatch(n);
    }
    got += n;
    if (n > 0) continue;
    if (++misses > SPINS) {
      misses = 0;
      overall.sleeps++;
      if (!ring.waitNotEmpty(5000)) {
        fail(overall, `stalled after ${got} records`);
        break;
      }
    }
  }
  // Errors not attributable to one producer are reported on every tally so the caller cannot miss them.
  if (overall.errors > 0) for (const t of tallies) fail(t, overall.firstError);
  tallies[0]!.sleeps += overall.sleeps;
  return tallies;
}
