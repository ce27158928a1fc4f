// The messages between bench/concurrency.bench.ts (main thread, coordinator) and its workers
// (bench/concurrency.worker.ts): one job per worker per run, one result back, plus a small shared control
// block. Times are process.hrtime nanoseconds (one monotonic clock for every thread); latencies are ns.

import type { MessagePort } from 'node:worker_threads';

/**
 * Int32 words of the control block. Workers count themselves READY and park on GO; ring producers run until
 * the main thread sets STOP (so a run lasts a fixed time whatever the speed), then add their message count to
 * TOTAL and count themselves DONE; the consumer stops once DONE covers every producer and it has TOTAL
 * messages. STOP, read by producers while they run, sits alone on its cache line.
 */
export const CTL_READY = 0;
export const CTL_GO = 1;
export const CTL_STOP = 16;
export const CTL_DONE = 32;
export const CTL_TOTAL = 33;
export const CTL_BYTES = 256;

/**
 * Ring producers write their sequence numbers modulo 2^20, so the consumer's float64 sum stays exact (below
 * 2^53) however many hundred million records a long run moves.
 */
export const SEQ_MASK = 0xfffff;

/** Sum of (i & SEQ_MASK) for i in [0, count), times `words` (values per record): what a consumer must see. */
export function expectedSeqSum(count: number, words: number): number {
  const m = SEQ_MASK + 1;
  const laps = Math.floor(count / m);
  const rest = count - laps * m;
  return (laps * ((m * (m - 1)) / 2) + (rest * (rest - 1)) / 2) * words;
}

/** Bot4 SpscRing or ringbuf.js, one producer and one consumer; runs until STOP. */
export interface RingJob {
  kind: 'spsc-produce' | 'spsc-consume' | 'rb-produce' | 'rb-consume';
  sab: SharedArrayBuffer;
  ctl: SharedArrayBuffer;
  batch: number;
  /** Float64 words per record (1 = 8 bytes, 8 = 64 bytes). */
  words: number;
}

export interface MpscJob {
  kind: 'mpsc-produce' | 'mpsc-consume';
  sab: SharedArrayBuffer;
  ctl: SharedArrayBuffer;
  batch: number;
  producers: number;
}

/** postMessage peers move a fixed count: a producer past STOP would leave an unbounded queue to drain. */
export interface PostJob {
  kind: 'pm-produce' | 'pm-consume';
  port: MessagePort;
  ctl: SharedArrayBuffer;
  n: number;
  words: number;
}

export interface PostFanInJob {
  kind: 'pm-consume-multi';
  ports: MessagePort[];
  ctl: SharedArrayBuffer;
  n: number;
}

export interface PingJob {
  kind: 'ping' | 'pong';
  a: SharedArrayBuffer;
  b: SharedArrayBuffer;
  ctl: SharedArrayBuffer;
  rounds: number;
  warmup: number;
}

export interface PostPingJob {
  kind: 'pm-ping' | 'pm-pong';
  port: MessagePort;
  ctl: SharedArrayBuffer;
  rounds: number;
  warmup: number;
}

export type Job = RingJob | MpscJob | PostJob | PostFanInJob | PingJob | PostPingJob;

export interface JobResult {
  /** hrtime ns when this side started (after GO) and finished. */
  t0: number;
  t1: number;
  /** Messages this side sent (producers) or received (consumers). */
  count: number;
  /** Sum of every value received (consumers), to check nothing was lost or altered. */
  sum: number;
  /** GC events in this worker during the job. */
  gc: number;
  /** Times this worker slept in Atomics.wait (or napped, for ringbuf.js) because the ring was empty or full. */
  sleeps: number;
  /** Ping-pong: one-way latency percentiles (ns) and mismatched echoes. */
  p50?: number;
  p99?: number;
  errors?: number;
}
