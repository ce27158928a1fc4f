// Worker side of bench/concurrency.bench.ts: runs one role of a cross-thread benchmark per job (producer,
// consumer, pinger, ponger) for Bot4's rings and the peers (ringbuf.js, postMessage), then posts its figures.
// Ring producers write consecutive integers (modulo 2^20) as float64 so the consumer's sum proves nothing
// was lost.

import { PerformanceObserver } from 'node:perf_hooks';
import { parentPort } from 'node:worker_threads';
import { RingBuffer } from 'ringbuf.js';
import { MpscRing } from '../src/memory/mpsc-ring.ts';
import { SpscRing } from '../src/memory/spsc-ring.ts';
import {
  CTL_DONE,
  CTL_GO,
  CTL_READY,
  CTL_STOP,
  CTL_TOTAL,
  type Job,
  type JobResult,
  type MpscJob,
  type RingJob,
  SEQ_MASK,
} from './concurrency.jobs.ts';

/**
 * When a ring is empty (or full) the waiting side backs off for a few hundred ns of local work before
 * polling again: every poll pulls the other side's index line into this core and makes the other side's next
 * store miss, so a consumer that polls flat out slows the producer it waits for. After SPINS polls in a row
 * without progress the side sleeps, which frees the core when its peer is descheduled (this machine is
 * shared, and spinning through time slices there cut throughput tenfold): Bot4's rings in Atomics.wait until
 * notified (capped at SLEEP_MS, so a consumer whose producers stopped without a final publish notices DONE
 * quickly). An SPSC side asks to be woken when half the ring is free (producer) or full (consumer), not at
 * the first slot: woken per batch, a sleeper preempts its peer on a shared core every batch and each cycle
 * burns another SPINS of polling. ringbuf.js, which has no notify, naps NAP_MS, the best its caller can do.
 */
const SPINS = 500;
const NAP_MS = 0.05;
const nap = new Int32Array(new SharedArrayBuffer(4));
const BACKOFF = 256;
const SLEEP_MS = 2;
/** Unbatched producers look at STOP once per this many messages (+1), not on every message. */
const STOP_EVERY = 1023;

let junk = 0;
/** Times this worker slept (or napped) in the current job. */
let sleeps = 0;
function backoff(): void {
  let x = junk;
  for (let i = 0; i < BACKOFF; i++) x = (x * 31 + i) | 0;
  junk = x;
}

let gcCount = 0;
const gcObserver = new PerformanceObserver((list) => {
  gcCount += list.getEntries().length;
});
gcObserver.observe({ entryTypes: ['gc'] });

function hr(): number {
  return Number(process.hrtime.bigint());
}

function ready(ctl: Int32Array): void {
  Atomics.add(ctl, CTL_READY, 1);
  Atomics.notify(ctl, CTL_READY);
  Atomics.wait(ctl, CTL_GO, 0);
}

function finishProducer(ctl: Int32Array, count: number): void {
  // TOTAL before DONE: a consumer that sees DONE also sees every producer's count.
  Atomics.add(ctl, CTL_TOTAL, count);
  Atomics.add(ctl, CTL_DONE, 1);
}

function allDone(ctl: Int32Array, producers: number, got: number): boolean {
  return Atomics.load(ctl, CTL_DONE) === producers && Atomics.load(ctl, CTL_TOTAL) === got;
}

/** A consumer's tally; one per job, so no allocation in the loops. */
const tally = { count: 0, sum: 0 };

// ------------------------------------------------------------------------------------------------ Bot4 SPSC

function spscProduce(ring: SpscRing, ctl: Int32Array, batch: number, words: number): number {
  const f64 = ring.f64;
  let seq = 0;
  let misses = 0;
  if (batch === 1) {
    // One claim and one publish (one Atomics.store) per message.
    for (;;) {
      if ((seq & STOP_EVERY) === 0 && Atomics.load(ctl, CTL_STOP) !== 0) break;
      const off = ring.claim();
      if (off < 0) {
        backoff();
        if (++misses > SPINS) {
          misses = 0;
          sleeps++;
          ring.waitNotFull(SLEEP_MS, ring.capacity >> 1);
        }
        continue;
      }
      misses = 0;
      const base = off >> 3;
      for (let w = 0; w < words; w++) f64[base + w] = seq & SEQ_MASK;
      seq++;
      ring.publish();
    }
    return seq;
  }
  while (Atomics.load(ctl, CTL_STOP) === 0) {
    const k = ring.claimBatch(batch);
    if (k === 0) {
      backoff();
      if (++misses > SPINS) {
        misses = 0;
        sleeps++;
        ring.waitNotFull(SLEEP_MS, ring.capacity >> 1);
      }
      continue;
    }
    misses = 0;
    let i = ring.batchOffset >> 3;
    if (words === 1) {
      for (let j = 0; j < k; j++) f64[i++] = seq++ & SEQ_MASK;
    } else {
      for (let j = 0; j < k; j++, seq++) for (let w = 0; w < words; w++) f64[i++] = seq & SEQ_MASK;
    }
    ring.publish();
  }
  return seq;
}

function spscConsume(ring: SpscRing, ctl: Int32Array, batch: number, words: number): void {
  const f64 = ring.f64;
  let got = 0;
  let sum = 0;
  let misses = 0;
  for (;;) {
    let k: number;
    if (batch === 1) {
      const off = ring.peek();
      k = off < 0 ? 0 : 1;
      if (k === 1) {
        const base = off >> 3;
        for (let w = 0; w < words; w++) sum += f64[base + w]!;
        ring.release();
      }
    } else {
      k = ring.peekBatch(batch);
      if (k > 0) {
        let i = ring.readOffset >> 3;
        const end = i + k * words;
        for (; i < end; i++) sum += f64[i]!;
        ring.releaseBatch(k);
      }
    }
    if (k > 0) {
      got += k;
      misses = 0;
      continue;
    }
    if (allDone(ctl, 1, got)) break;
    backoff();
    if (++misses > SPINS) {
      misses = 0;
      sleeps++;
      ring.waitNotEmpty(SLEEP_MS, ring.capacity >> 1);
    }
  }
  tally.count = got;
  tally.sum = sum;
}

// ------------------------------------------------------------------------------------------------ ringbuf.js

function rbProduce(rb: RingBuffer, ctl: Int32Array, batch: number, words: number): number {
  const src = new Float64Array(batch * words);
  let seq = 0;
  let misses = 0;
  while (Atomics.load(ctl, CTL_STOP) === 0) {
    let i = 0;
    for (let j = 0; j < batch; j++, seq++) for (let w = 0; w < words; w++) src[i++] = seq & SEQ_MASK;
    // ringbuf.js may accept part of the array when nearly full: push the rest until all is in.
    let off = 0;
    while (off < i) {
      const w = rb.push(src, i - off, off);
      if (w === 0) {
        backoff();
        if (++misses > SPINS) {
          misses = 0;
          sleeps++;
          Atomics.wait(nap, 0, 0, NAP_MS);
        }
      } else misses = 0;
      off += w;
    }
  }
  return seq;
}

function rbConsume(rb: RingBuffer, ctl: Int32Array, batch: number, words: number): void {
  const dst = new Float64Array(batch * words);
  let got = 0; // elements, not records: ringbuf.js may split a record across two pops
  let sum = 0;
  let misses = 0;
  for (;;) {
    const r = rb.pop(dst, dst.length);
    if (r > 0) {
      for (let i = 0; i < r; i++) sum += dst[i]!;
      got += r;
      misses = 0;
      continue;
    }
    if (got % words === 0 && allDone(ctl, 1, got / words)) break;
    backoff();
    if (++misses > SPINS) {
      misses = 0;
      sleeps++;
      Atomics.wait(nap, 0, 0, NAP_MS);
    }
  }
  tally.count = got / words;
  tally.sum = sum;
}

// ------------------------------------------------------------------------------------------------ ping-pong

/** One-way latency in ns for `rounds` spinning round trips over two SpscRings (after `warmup` rounds). */
function ping(a: SpscRing, b: SpscRing, rounds: number, warmup: number): Partial<JobResult> {
  const lat = new Float64Array(rounds);
  const f64 = b.f64;
  let errors = 0;
  for (let r = 0; r < warmup + rounds; r++) {
    const t0 = performance.now();
    a.pushF64(r);
    let off = b.peek();
    while (off < 0) off = b.peek();
    const v = f64[off >> 3];
    b.release();
    const t1 = performance.now();
    if (v !== r) errors++;
    if (r >= warmup) lat[r - warmup] = (t1 - t0) * 5e5; // ms round trip -> ns one way
  }
  return { ...percentiles(lat), errors };
}

function pong(a: SpscRing, b: SpscRing, total: number): void {
  const f64 = a.f64;
  for (let r = 0; r < total; r++) {
    let off = a.peek();
    while (off < 0) off = a.peek();
    const v = f64[off >> 3]!;
    a.release();
    b.pushF64(v);
  }
}

function percentiles(lat: Float64Array): { p50: number; p99: number } {
  lat.sort();
  return {
    p50: lat[lat.length >> 1]!,
    p99: lat[Math.min(lat.length - 1, Math.ceil(lat.length * 0.99) - 1)]!,
  };
}

// ------------------------------------------------------------------------------------------------ MPSC

function mpscProduce(ring: MpscRing, ctl: Int32Array): number {
  const f64 = ring.f64;
  let i = 0;
  for (;;) {
    if ((i & STOP_EVERY) === 0 && Atomics.load(ctl, CTL_STOP) !== 0) break;
    f64[ring.claim() >> 3] = i++ & SEQ_MASK; // claim() spins, then sleeps, while the ring is full
    ring.publish();
  }
  return i;
}

function mpscConsume(ring: MpscRing, ctl: Int32Array, batch: number, producers: number): void {
  const f64 = ring.f64;
  let got = 0;
  let sum = 0;
  let misses = 0;
  for (;;) {
    const k = ring.peekBatch(batch);
    if (k > 0) {
      let i = ring.readOffset >> 3;
      const end = i + k;
      for (; i < end; i++) sum += f64[i]!;
      ring.releaseBatch(k);
      got += k;
      misses = 0;
      continue;
    }
    if (allDone(ctl, producers, got)) break;
    backoff();
    if (++misses > SPINS) {
      misses = 0;
      sleeps++;
      ring.waitNotEmpty(SLEEP_MS);
    }
  }
  tally.count = got;
  tally.sum = sum;
}

// ------------------------------------------------------------------------------------------------ dispatch

function post(t0: number, count: number, sum: number, extra: Partial<JobResult> = {}): void {
  const gc = gcCount + gcObserver.takeRecords().length;
  const r: JobResult = { t0, t1: hr(), count, sum, gc, sleeps, ...extra };
  parentPort!.postMessage(r);
}

function runRing(job: RingJob, ctl: Int32Array): void {
  const { batch, words } = job;
  if (job.kind === 'spsc-produce' || job.kind === 'spsc-consume') {
    const ring = SpscRing.attach(job.sab);
    ready(ctl);
    const t0 = hr();
    if (job.kind === 'spsc-consume') {
      spscConsume(ring, ctl, batch, words);
      post(t0, tally.count, tally.sum);
      return;
    }
    const count = spscProduce(ring, ctl, batch, words);
    finishProducer(ctl, count);
    post(t0, count, 0);
    return;
  }
  const rb = new RingBuffer(job.sab, Float64Array);
  ready(ctl);
  const t0 = hr();
  if (job.kind === 'rb-consume') {
    rbConsume(rb, ctl, batch, words);
    post(t0, tally.count, tally.sum);
    return;
  }
  const count = rbProduce(rb, ctl, batch, words);
  finishProducer(ctl, count);
  post(t0, count, 0);
}

function runMpsc(job: MpscJob, ctl: Int32Array): void {
  const ring = MpscRing.attach(job.sab);
  ready(ctl);
  const t0 = hr();
  if (job.kind === 'mpsc-consume') {
    mpscConsume(ring, ctl, job.batch, job.producers);
    post(t0, tally.count, tally.sum);
    return;
  }
  const count = mpscProduce(ring, ctl);
  finishProducer(ctl, count);
  post(t0, count, 0);
}

function runJob(job: Job): void {
  gcObserver.takeRecords();
  gcCount = 0;
  sleeps = 0;
  const ctl = new Int32Array(job.ctl);
  switch (job.kind) {
    case 'spsc-produce':
    case 'spsc-consume':
    case 'rb-produce':
    case 'rb-consume':
      runRing(job, ctl);
      return;
    case 'mpsc-produce':
    case 'mpsc-consume':
      runMpsc(job, ctl);
      return;
    case 'pm-produce': {
      ready(ctl);
      const t0 = hr();
      if (job.words === 1) {
        for (let i = 0; i < job.n; i++) job.port.postMessage(i);
      } else {
        // postMessage clones the array, so one reusable array is enough on this side.
        const msg = new Float64Array(job.words);
        for (let i = 0; i < job.n; i++) {
          msg.fill(i);
          job.port.postMessage(msg);
        }
      }
      post(t0, job.n, 0);
      return;
    }
    case 'pm-consume': {
      const { port, n } = job;
      let got = 0;
      let sum = 0;
      const t0 = hr();
      port.on('message', (m: number | Float64Array) => {
        if (typeof m === 'number') sum += m;
        else for (let i = 0; i < m.length; i++) sum += m[i]!;
        if (++got === n) {
          port.close();
          post(t0, got, sum);
        }
      });
      ready(ctl); // blocks this thread's event loop until GO; messages queue meanwhile
      return;
    }
    case 'pm-consume-multi': {
      let got = 0;
      let sum = 0;
      const t0 = hr();
      for (const port of job.ports) {
        port.on('message', (m: number) => {
          sum += m;
          if (++got === job.n) {
            for (const p of job.ports) p.close();
            post(t0, got, sum);
          }
        });
      }
      ready(ctl);
      return;
    }
    case 'ping':
    case 'pong': {
      const a = SpscRing.attach(job.a);
      const b = SpscRing.attach(job.b);
      ready(ctl);
      const t0 = hr();
      if (job.kind === 'ping') post(t0, job.rounds, 0, ping(a, b, job.rounds, job.warmup));
      else {
        pong(a, b, job.rounds + job.warmup);
        post(t0, job.rounds, 0);
      }
      return;
    }
    case 'pm-ping': {
      const { port, rounds, warmup } = job;
      const lat = new Float64Array(rounds);
      let r = 0;
      let errors = 0;
      let sent = 0;
      const t0 = hr();
      port.on('message', (v: number) => {
        const t1 = performance.now();
        if (v !== r) errors++;
        if (r >= warmup) lat[r - warmup] = (t1 - sent) * 5e5;
        r++;
        if (r < rounds + warmup) {
          sent = performance.now();
          port.postMessage(r);
          return;
        }
        port.close();
        post(t0, rounds, 0, { ...percentiles(lat), errors });
      });
      ready(ctl);
      sent = performance.now();
      port.postMessage(0);
      return;
    }
    case 'pm-pong': {
      const { port } = job;
      const total = job.rounds + job.warmup;
      let got = 0;
      const t0 = hr();
      port.on('message', (v: number) => {
        port.postMessage(v);
        if (++got === total) {
          port.close();
          post(t0, got, 0);
        }
      });
      ready(ctl);
      return;
    }
  }
}

parentPort!.on('message', (job: Job) => runJob(job));
parentPort!.postMessage('online');
