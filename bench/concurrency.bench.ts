// Concurrency benchmarks: Bot4's SharedArrayBuffer rings between worker threads, raced in the same run against
// ringbuf.js (SPSC ring over SharedArrayBuffer) and postMessage over a MessageChannel. The main thread only
// coordinates: producers and consumers are workers that start together on a shared GO word. Units: msg/s, ns.

import { MessageChannel, type MessagePort, type Worker } from 'node:worker_threads';
import { RingBuffer } from 'ringbuf.js';
import { Bot4Error, ErrorCode } from '../src/core/errors.ts';
import { siblingModule, startWorker } from '../src/core/worker.ts';
import { MpscRing } from '../src/memory/mpsc-ring.ts';
import { SpscRing } from '../src/memory/spsc-ring.ts';
import {
  CTL_BYTES,
  CTL_GO,
  CTL_READY,
  CTL_STOP,
  expectedSeqSum,
  type Job,
  type JobResult,
} from './concurrency.jobs.ts';
import {
  type BenchContext,
  type BenchSpec,
  type Measurement,
  median,
  peerName,
  startProbe,
} from './harness.ts';

const workerUrl = siblingModule(import.meta.url, 'concurrency.worker');

/** Records per ring: 16384 x 8 B = 128 KiB, enough slack that a briefly descheduled consumer rarely stalls. */
const CAPACITY_8B = 16384;
const CAPACITY_64B = 4096;
const BATCH_8B = 256;
const BATCH_64B = 64;

const RINGBUF = peerName('ringbuf.js');
const POST_MESSAGE = `postMessage@node-${process.versions.node}`;

// ------------------------------------------------------------------------------------------------ workers

/**
 * Benchmark workers are started once and reused by every benchmark in this file (startup under the tsx loader
 * costs about a second). Between runs they are unref'd, so they never keep the process alive.
 */
const pool: Worker[] = [];

async function crew(k: number): Promise<Worker[]> {
  while (pool.length < k) {
    const w = startWorker(workerUrl);
    await new Promise<void>((resolve, reject) => {
      w.once('message', () => resolve());
      w.once('error', reject);
    });
    pool.push(w);
  }
  return pool.slice(0, k);
}

interface Assignment {
  job: Job;
  transfer?: MessagePort[];
}

/**
 * Runs one job per worker, releases them together once all are ready, sets STOP after `durationMs` (ring
 * jobs run until then), and collects the results.
 */
async function runJobs(assignments: Assignment[], durationMs = 0): Promise<JobResult[]> {
  const workers = await crew(assignments.length);
  const ctl = new Int32Array(assignments[0]!.job.ctl);
  let stopTimer: NodeJS.Timeout | undefined;
  for (const w of workers) w.ref();
  try {
    const results = workers.map(
      (w) =>
        new Promise<JobResult>((resolve, reject) => {
          const onError = (e: Error) => reject(e);
          w.once('error', onError);
          w.once('message', (r: JobResult) => {
            w.off('error', onError);
            resolve(r);
          });
        }),
    );
    for (const [i, a] of assignments.entries()) workers[i]!.postMessage(a.job, a.transfer ?? []);
    // Wait (without blocking this thread's event loop) until every worker has attached and is parked on GO.
    for (
      let seen = Atomics.load(ctl, CTL_READY);
      seen < assignments.length;
      seen = Atomics.load(ctl, CTL_READY)
    ) {
      const w = Atomics.waitAsync(ctl, CTL_READY, seen, 30_000);
      if (w.async && (await w.value) === 'timed-out') {
        throw new Bot4Error(ErrorCode.INTERNAL, `benchmark workers not ready after 30 s (${seen} ready)`);
      }
    }
    Atomics.store(ctl, CTL_GO, 1);
    Atomics.notify(ctl, CTL_GO);
    if (durationMs > 0) stopTimer = setTimeout(() => Atomics.store(ctl, CTL_STOP, 1), durationMs);
    return await Promise.all(results);
  } finally {
    clearTimeout(stopTimer);
    for (const w of workers) w.unref();
  }
}

function control(): SharedArrayBuffer {
  return new SharedArrayBuffer(CTL_BYTES);
}

/**
 * msg/s from the earliest producer start to the consumer's end, after checking that the consumer received
 * exactly what the producers sent (count, and the sum of the consecutive integers each producer wrote).
 */
function rate(producers: JobResult[], consumer: JobResult, words: number, what: string): number {
  const sent = producers.reduce((s, p) => s + p.count, 0);
  const expectedSum = producers.reduce((s, p) => s + expectedSeqSum(p.count, words), 0);
  if (consumer.count !== sent || consumer.sum !== expectedSum) {
    throw new Bot4Error(
      ErrorCode.INTERNAL,
      `${what}: consumer got ${consumer.count} messages (sum ${consumer.sum}), producers sent ${sent} (sum ${expectedSum}); messages were lost or corrupted`,
    );
  }
  const t0 = Math.min(...producers.map((p) => p.t0));
  return consumer.count / ((consumer.t1 - t0) / 1e9);
}

/**
 * GC events seen inside the workers (the probe sees only the main thread), and the workers' sleeps on an
 * empty or full ring, summed over a subject's runs.
 */
const workerGc = { count: 0, sleeps: 0 };

function gcOf(results: JobResult[]): void {
  for (const r of results) {
    workerGc.count += r.gc;
    workerGc.sleeps += r.sleeps;
  }
}

// ------------------------------------------------------------------------------------------------ subjects

interface Shape {
  batch: number;
  words: number;
  capacity: number;
}

async function spscThroughput(ms: number, { batch, words, capacity }: Shape): Promise<number> {
  const ring = SpscRing.create({ capacity, recordBytes: words * 8 });
  const ctl = control();
  const [c, p] = await runJobs(
    [
      { job: { kind: 'spsc-consume', sab: ring.buffer, ctl, batch, words } },
      { job: { kind: 'spsc-produce', sab: ring.buffer, ctl, batch, words } },
    ],
    ms,
  );
  gcOf([c!, p!]);
  return rate([p!], c!, words, 'SpscRing');
}

async function ringbufThroughput(ms: number, { batch, words, capacity }: Shape): Promise<number> {
  const sab = RingBuffer.getStorageForCapacity(capacity * words, Float64Array);
  const ctl = control();
  const [c, p] = await runJobs(
    [
      { job: { kind: 'rb-consume', sab, ctl, batch, words } },
      { job: { kind: 'rb-produce', sab, ctl, batch, words } },
    ],
    ms,
  );
  gcOf([c!, p!]);
  return rate([p!], c!, words, 'ringbuf.js');
}

async function postMessageThroughput(n: number, words: number): Promise<number> {
  const { port1, port2 } = new MessageChannel();
  const ctl = control();
  const [c, p] = await runJobs([
    { job: { kind: 'pm-consume', port: port2, ctl, n, words }, transfer: [port2] },
    { job: { kind: 'pm-produce', port: port1, ctl, n, words }, transfer: [port1] },
  ]);
  gcOf([c!, p!]);
  return rate([p!], c!, words, 'postMessage');
}

interface Subject {
  /** A short run first (JIT, page faults), not measured. */
  warm: () => Promise<number>;
  once: () => Promise<number>;
}

interface Rated {
  m: Measurement;
  /** GC events and sleeps inside the workers over the measured runs. */
  gc: number;
  sleeps: number;
}

/**
 * Runs the subjects in turn, run by run (a, b, c, a, b, c, ...), so that a burst of load from elsewhere on a
 * shared machine hits them alike; each subject's figure is the median of its runs, and its GC, context switch
 * and CPU figures add up over its own runs only.
 */
async function interleaved(runs: number, subjects: Subject[]): Promise<Rated[]> {
  for (const s of subjects) await s.warm();
  const acc = subjects.map(() => ({
    values: [] as number[],
    workerGc: 0,
    sleeps: 0,
    gc: 0,
    heap: 0,
    vctx: 0,
    ictx: 0,
    cpuMs: 0,
    wallMs: 0,
  }));
  for (let r = 0; r < runs; r++) {
    for (const [i, subject] of subjects.entries()) {
      const a = acc[i]!;
      workerGc.count = 0;
      workerGc.sleeps = 0;
      const probe = startProbe();
      const t0 = performance.now();
      const value = await subject.once();
      const wallMs = performance.now() - t0;
      const m = await probe.finish(value, null, 1);
      a.values.push(value);
      a.workerGc += workerGc.count;
      a.sleeps += workerGc.sleeps;
      a.gc += m.gc;
      a.heap += m.heapGrowth;
      a.vctx += m.voluntaryCtx;
      a.ictx += m.involuntaryCtx;
      a.cpuMs += m.cpuPerWall * wallMs;
      a.wallMs += wallMs;
    }
  }
  return acc.map((a) => ({
    m: {
      median: median(a.values),
      p99: null,
      samples: runs,
      gc: a.gc,
      heapGrowth: a.heap,
      voluntaryCtx: a.vctx,
      involuntaryCtx: a.ictx,
      cpuPerWall: a.wallMs > 0 ? a.cpuMs / a.wallMs : 0,
    },
    gc: a.workerGc,
    sleeps: a.sleeps,
  }));
}

/**
 * Messages per CPU-second of the whole process (rate / cpuPerWall): steadier than msg/s on a shared machine,
 * where a descheduled worker stretches the wall time but burns no CPU. Spinning does count as CPU.
 */
function perCpuSecond(m: Measurement): number {
  return m.cpuPerWall > 0 ? Math.round(m.median / m.cpuPerWall) : 0;
}

interface Plan {
  runs: number;
  /** Duration of one ring run (Bot4 and ringbuf.js), ms. */
  ms: number;
  /** Messages per postMessage run (a fixed count: its producer outruns its consumer). */
  pm: number;
}

function plan(quick: boolean, pm: number): Plan {
  return quick ? { runs: 3, ms: 100, pm } : { runs: 9, ms: 500, pm: pm * 4 };
}

function throughputSpec(
  id: string,
  title: string,
  target: number | null,
  targetSource: string,
  shape: Shape,
  pmMessages: number,
): BenchSpec {
  return {
    id,
    title,
    unit: 'msg/s',
    better: 'higher',
    target,
    targetSource,
    async run(ctx: BenchContext) {
      const p = plan(ctx.quick, pmMessages);
      const [ours, rb, pm] = (await interleaved(p.runs, [
        { warm: () => spscThroughput(50, shape), once: () => spscThroughput(p.ms, shape) },
        { warm: () => ringbufThroughput(50, shape), once: () => ringbufThroughput(p.ms, shape) },
        {
          warm: () => postMessageThroughput(p.pm >> 3, shape.words),
          once: () => postMessageThroughput(p.pm, shape.words),
        },
      ])) as [Rated, Rated, Rated];
      return {
        main: ours.m,
        peers: { [RINGBUF]: rb.m, [POST_MESSAGE]: pm.m },
        extra: {
          record_bytes: shape.words * 8,
          batch: shape.batch,
          capacity: shape.capacity,
          run_ms: p.ms,
          runs: p.runs,
          gc_in_workers: ours.gc,
          sleeps: ours.sleeps,
          msg_per_cpu_s: perCpuSecond(ours.m),
          [`${RINGBUF} gc_in_workers`]: rb.gc,
          [`${RINGBUF} naps`]: rb.sleeps,
          [`${RINGBUF} msg_per_cpu_s`]: perCpuSecond(rb.m),
          [`${RINGBUF} note`]:
            'same batch and back-off as Bot4; after 500 empty/full polls it naps 50 us (Atomics.wait with timeout: it has no notify), where Bot4 sleeps until notified',
          [`${POST_MESSAGE} gc_in_workers`]: pm.gc,
          [`${POST_MESSAGE} msg_per_cpu_s`]: perCpuSecond(pm.m),
          [`${POST_MESSAGE} note`]: `${p.pm} messages per run, ${
            shape.words === 1
              ? 'one postMessage per 8-byte number (sending arrays of messages would batch, but is not per-message)'
              : 'one postMessage per 64-byte Float64Array (a structured clone per message)'
          }`,
        },
      };
    },
  };
}

// ------------------------------------------------------------------------------------------------ latency

async function pingPong(rounds: number, warmup: number): Promise<JobResult> {
  const a = SpscRing.create({ capacity: 64, recordBytes: 8 });
  const b = SpscRing.create({ capacity: 64, recordBytes: 8 });
  const ctl = control();
  const [pinger, ponger] = await runJobs([
    { job: { kind: 'ping', a: a.buffer, b: b.buffer, ctl, rounds, warmup } },
    { job: { kind: 'pong', a: a.buffer, b: b.buffer, ctl, rounds, warmup } },
  ]);
  gcOf([pinger!, ponger!]);
  if (pinger!.errors !== 0)
    throw new Bot4Error(ErrorCode.INTERNAL, `ping-pong: ${pinger!.errors} wrong echoes`);
  return pinger!;
}

async function postMessagePingPong(rounds: number, warmup: number): Promise<JobResult> {
  const { port1, port2 } = new MessageChannel();
  const ctl = control();
  const [pinger, ponger] = await runJobs([
    { job: { kind: 'pm-ping', port: port1, ctl, rounds, warmup }, transfer: [port1] },
    { job: { kind: 'pm-pong', port: port2, ctl, rounds, warmup }, transfer: [port2] },
  ]);
  gcOf([pinger!, ponger!]);
  if (pinger!.errors !== 0) throw new Bot4Error(ErrorCode.INTERNAL, 'postMessage ping-pong: wrong echoes');
  return pinger!;
}

/** Median over runs of each run's p50 and p99. */
async function measureLatency(runs: number, once: () => Promise<JobResult>): Promise<Measurement> {
  workerGc.count = 0;
  const probe = startProbe();
  const p50s: number[] = [];
  const p99s: number[] = [];
  for (let i = 0; i < runs; i++) {
    const r = await once();
    p50s.push(r.p50!);
    p99s.push(r.p99!);
  }
  return probe.finish(median(p50s), median(p99s), runs);
}

// ------------------------------------------------------------------------------------------------ MPSC

async function mpscThroughput(ms: number): Promise<number> {
  const ring = MpscRing.create({ capacity: CAPACITY_8B, recordBytes: 8 });
  const ctl = control();
  const producers = 2;
  const [c, p1, p2] = await runJobs(
    [
      { job: { kind: 'mpsc-consume', sab: ring.buffer, ctl, batch: BATCH_8B, producers } },
      { job: { kind: 'mpsc-produce', sab: ring.buffer, ctl, batch: 1, producers } },
      { job: { kind: 'mpsc-produce', sab: ring.buffer, ctl, batch: 1, producers } },
    ],
    ms,
  );
  gcOf([c!, p1!, p2!]);
  return rate([p1!, p2!], c!, 1, 'MpscRing');
}

async function postMessageFanIn(n: number): Promise<number> {
  const a = new MessageChannel();
  const b = new MessageChannel();
  const ctl = control();
  const half = n >> 1;
  const [c, p1, p2] = await runJobs([
    {
      job: { kind: 'pm-consume-multi', ports: [a.port2, b.port2], ctl, n: half * 2 },
      transfer: [a.port2, b.port2],
    },
    { job: { kind: 'pm-produce', port: a.port1, ctl, n: half, words: 1 }, transfer: [a.port1] },
    { job: { kind: 'pm-produce', port: b.port1, ctl, n: half, words: 1 }, transfer: [b.port1] },
  ]);
  gcOf([c!, p1!, p2!]);
  return rate([p1!, p2!], c!, 1, 'postMessage fan-in');
}

// ------------------------------------------------------------------------------------------------ specs

export const benches: BenchSpec[] = [
  throughputSpec(
    'concurrency.spsc.throughput_8b_batched',
    `SpscRing worker->worker, 8-byte records, batches of ${BATCH_8B} (one publish per batch)`,
    40_000_000,
    'issue target (ringbuf.js measured ~5M/s batched on this machine)',
    { batch: BATCH_8B, words: 1, capacity: CAPACITY_8B },
    50_000,
  ),
  throughputSpec(
    'concurrency.spsc.throughput_8b',
    'SpscRing worker->worker, 8-byte records, one claim + publish and one peek + release per message',
    10_000_000,
    'issue target',
    { batch: 1, words: 1, capacity: CAPACITY_8B },
    50_000,
  ),
  throughputSpec(
    'concurrency.spsc.throughput_64b_batched',
    `SpscRing worker->worker, 64-byte records, batches of ${BATCH_64B}`,
    null,
    'no target in the brief; ringbuf.js and postMessage beside it',
    { batch: BATCH_64B, words: 8, capacity: CAPACITY_64B },
    25_000,
  ),
  {
    id: 'concurrency.spsc.latency_pingpong',
    title: 'SpscRing ping-pong between two spinning workers, one-way latency (round trip / 2)',
    unit: 'ns',
    better: 'lower',
    target: null,
    targetSource: 'no target in the brief; postMessage ping-pong beside it',
    async run(ctx) {
      const runs = ctx.quick ? 3 : 5;
      const rounds = ctx.quick ? 10_000 : 200_000;
      const pmRounds = ctx.quick ? 1_000 : 20_000;
      const ours = await measureLatency(runs, () => pingPong(rounds, rounds >> 3));
      const gcOurs = workerGc.count;
      const pm = await measureLatency(runs, () => postMessagePingPong(pmRounds, pmRounds >> 3));
      return {
        main: ours,
        peers: { [POST_MESSAGE]: pm },
        extra: {
          rounds,
          runs,
          gc_in_workers: gcOurs,
          [`${POST_MESSAGE} p99_ns`]: Math.round(pm.p99!),
          [`${POST_MESSAGE} rounds`]: pmRounds,
          clock: 'performance.now() around each round trip (its ~30-50 ns cost is included)',
        },
      };
    },
  },
  {
    id: 'concurrency.mpsc.throughput_2p',
    title:
      'MpscRing, 2 producer workers -> 1 consumer worker, 8-byte records, one claim + publish per message',
    unit: 'msg/s',
    better: 'higher',
    target: null,
    targetSource: 'no target set in the brief; postMessage fan-in (2 ports -> 1 worker) beside it',
    async run(ctx) {
      const p = plan(ctx.quick, 50_000);
      const [ours, pm] = (await interleaved(p.runs, [
        { warm: () => mpscThroughput(50), once: () => mpscThroughput(p.ms) },
        { warm: () => postMessageFanIn(p.pm >> 3), once: () => postMessageFanIn(p.pm) },
      ])) as [Rated, Rated];
      return {
        main: ours.m,
        peers: { [POST_MESSAGE]: pm.m },
        extra: {
          producers: 2,
          capacity: CAPACITY_8B,
          consumer_batch: BATCH_8B,
          run_ms: p.ms,
          runs: p.runs,
          gc_in_workers: ours.gc,
          sleeps: ours.sleeps,
          msg_per_cpu_s: perCpuSecond(ours.m),
          [`${POST_MESSAGE} msg_per_cpu_s`]: perCpuSecond(pm.m),
          note: '3 workers share the cores: producers spin briefly, then sleep in Atomics.wait when the ring is full',
        },
      };
    },
  },
];
