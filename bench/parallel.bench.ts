// Worker pool benchmarks: Bot4's WorkerPool against piscina and tinypool, measured in the same run on the same
// work (bench/parallel.work.ts). Per-task overhead (empty tasks, batched and one at a time) and speedup over
// one thread for 50 us tasks and for coarse ~10 ms chunks. Subjects run interleaved, run by run, so load from
// elsewhere on a shared machine hits them alike; each figure is a median over runs, CPU time beside wall time.

import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { Worker } from 'node:worker_threads';
import { Piscina } from 'piscina';
import Tinypool from 'tinypool';
import { Bot4Error, ErrorCode } from '../src/core/errors.ts';
import { siblingModule, startWorker } from '../src/core/worker.ts';
import { WorkerPool } from '../src/parallel/pool.ts';
import {
  type BenchContext,
  type BenchSpec,
  type Measurement,
  median,
  peerName,
  percentile,
  round,
  startProbe,
} from './harness.ts';
import type { BurnArgs } from './parallel.tasks.ts';
import { burn } from './parallel.work.ts';

const PISCINA = peerName('piscina');
const TINYPOOL = peerName('tinypool');

const tasksModule = siblingModule(import.meta.url, 'parallel.tasks');
const peerWorker = siblingModule(import.meta.url, 'parallel.peer.worker');
const rawWorker = siblingModule(import.meta.url, 'parallel.raw.worker');
const CORES = availableParallelism();
/** The pools' default size, and the thread count every peer is given unless a figure says otherwise. */
const DEFAULT_THREADS = Math.max(1, CORES - 1);

// ------------------------------------------------------------------------------------------------ pools

interface Peer {
  run(iters: number): Promise<unknown>;
  destroy(): Promise<void>;
}

function peerFile(): string {
  const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
  if (peerWorker.pathname.endsWith('.ts') && (major < 22 || (major === 22 && minor < 18))) {
    throw new Bot4Error(
      ErrorCode.INVALID_ARGUMENT,
      `piscina and tinypool cannot load ${peerWorker.pathname} on Node ${process.versions.node} (no type stripping): run the built suite, 'npm run build && node bin/bot4.js bench --filter parallel.pool'`,
    );
  }
  return fileURLToPath(peerWorker);
}

function piscina(threads: number): Peer {
  const p = new Piscina({
    filename: peerFile(),
    minThreads: threads,
    maxThreads: threads,
    idleTimeout: 60_000,
  });
  return { run: (iters) => p.run(iters), destroy: () => p.destroy() };
}

function tinypool(threads: number): Peer {
  const p = new Tinypool({
    filename: peerFile(),
    minThreads: threads,
    maxThreads: threads,
    idleTimeout: 60_000,
  });
  return { run: (iters) => p.run(iters), destroy: () => p.destroy() };
}

/**
 * The control: the range split in equal parts over `threads` threads (the main thread and plain workers, no
 * pool, one message each way). On a loaded machine it shows how much parallelism there was to be had.
 */
class StaticSplit {
  private readonly workers: Worker[] = [];

  async start(threads: number): Promise<void> {
    for (let i = 1; i < threads; i++) {
      const w = startWorker(rawWorker);
      await new Promise<void>((resolve, reject) => {
        w.once('online', resolve);
        w.once('error', reject);
      });
      w.unref();
      this.workers.push(w);
    }
  }

  async run(n: number, args: BurnArgs): Promise<void> {
    const parts = this.workers.length + 1;
    const done = this.workers.map((w, i) => {
      w.ref();
      const start = Math.floor(((i + 1) * n) / parts);
      const end = Math.floor(((i + 2) * n) / parts);
      return new Promise<void>((resolve, reject) => {
        w.once('message', () => {
          w.unref();
          resolve();
        });
        w.once('error', reject);
        w.postMessage({ iters: args.iters, start, end, out: args.out });
      });
    });
    const mine = Math.floor(n / parts);
    for (let i = 0; i < mine; i++) args.out[i] = burn(args.iters);
    await Promise.all(done);
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

/** Pools started once per benchmark and closed when it ends (startup is not what is measured). */
class Pools {
  private readonly bot4 = new Map<number, Promise<WorkerPool>>();
  private readonly peers = new Map<string, Peer>();
  private readonly splits: StaticSplit[] = [];

  async split(threads: number): Promise<StaticSplit> {
    const s = new StaticSplit();
    this.splits.push(s);
    await s.start(threads);
    return s;
  }

  pool(threads = DEFAULT_THREADS): Promise<WorkerPool> {
    let p = this.bot4.get(threads);
    if (p === undefined) {
      p = WorkerPool.start({ module: tasksModule, threads, name: 'bench-pool' });
      this.bot4.set(threads, p);
    }
    return p;
  }

  peer(kind: 'piscina' | 'tinypool', threads = DEFAULT_THREADS): Peer {
    const key = `${kind}/${threads}`;
    let p = this.peers.get(key);
    if (p === undefined) {
      p = kind === 'piscina' ? piscina(threads) : tinypool(threads);
      this.peers.set(key, p);
    }
    return p;
  }

  async close(): Promise<void> {
    for (const p of this.bot4.values()) await (await p).close();
    for (const p of this.peers.values()) await p.destroy();
    for (const s of this.splits) await s.close();
  }
}

/** Starts the pools' threads and compiles their code before anything is timed. */
async function warm(
  ctx: BenchContext,
  pools: Pools,
  threads: number[],
  peerThreads: number[],
): Promise<void> {
  // Quick mode: 500 warm-up tasks a pool (each subject still runs once unmeasured before its timed runs).
  const tasks = ctx.quick ? 500 : 2000;
  for (const t of threads) await (await pools.pool(t)).map('empty', Array(tasks).fill(1));
  for (const t of peerThreads) {
    for (const kind of ['piscina', 'tinypool'] as const) {
      const p = pools.peer(kind, t);
      await Promise.all(Array.from({ length: tasks }, () => p.run(0)));
    }
  }
}

// ------------------------------------------------------------------------------------------------ timing

interface Subject {
  name: string;
  once: () => Promise<unknown> | unknown;
}

interface Runs {
  wallMs: number[];
  cpuMs: number[];
  /** GC, heap and context switches over this subject's runs; median and cpuPerWall are filled in later. */
  m: Measurement;
}

/**
 * Runs the subjects in turn, run by run (a, b, c, a, b, c, ...), after one unmeasured run each. CPU time is the
 * whole process's (every thread, user + system), so a pool's spinning or sleeping shows beside its wall time.
 */
async function interleaved(runs: number, subjects: Subject[]): Promise<Map<string, Runs>> {
  for (const s of subjects) await s.once();
  const out = new Map<string, Runs>();
  for (const s of subjects) {
    out.set(s.name, { wallMs: [], cpuMs: [], m: emptyMeasurement(runs) });
  }
  for (let r = 0; r < runs; r++) {
    for (const s of subjects) {
      const acc = out.get(s.name)!;
      const probe = startProbe();
      const t0 = process.hrtime.bigint();
      await s.once();
      const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
      acc.wallMs.push(wallMs);
      acc.cpuMs.push(addRun(acc.m, await probe.finish(0, null, 1), wallMs));
    }
  }
  for (const acc of out.values()) {
    const wall = acc.wallMs.reduce((a, b) => a + b, 0);
    acc.m.cpuPerWall = wall > 0 ? acc.cpuMs.reduce((a, b) => a + b, 0) / wall : 0;
  }
  return out;
}

function emptyMeasurement(samples: number): Measurement {
  return {
    median: 0,
    p99: null,
    samples,
    gc: 0,
    heapGrowth: 0,
    voluntaryCtx: 0,
    involuntaryCtx: 0,
    cpuPerWall: 0,
  };
}

/**
 * Adds one run's GC, heap and context-switch figures to a subject's totals and returns the run's CPU time in ms
 * (the probe's CPU per wall time, which counts every thread of the process, times the run's wall time).
 */
function addRun(acc: Measurement, m: Measurement, wallMs: number): number {
  acc.gc += m.gc;
  acc.heapGrowth += m.heapGrowth;
  acc.voluntaryCtx += m.voluntaryCtx;
  acc.involuntaryCtx += m.involuntaryCtx;
  return m.cpuPerWall * wallMs;
}

function withMedian(r: Runs, value: number): Measurement {
  return { ...r.m, median: value };
}

/** Burn iterations per microsecond on this thread, measured after warm-up (median of several timings). */
function calibrate(): number {
  for (let i = 0; i < 20; i++) burn(200_000);
  const rates: number[] = [];
  for (let i = 0; i < 9; i++) {
    const t0 = process.hrtime.bigint();
    burn(1_000_000);
    rates.push(1_000_000 / (Number(process.hrtime.bigint() - t0) / 1e3));
  }
  return median(rates);
}

/** The harness prints medians and peers; curves and CPU figures go beside them on the progress stream. */
function note(title: string, lines: string[]): void {
  process.stderr.write(`  ${title}, Node ${process.version}, ${CORES} cores:\n`);
  for (const l of lines) process.stderr.write(`    ${l}\n`);
}

/**
 * The static split's speedup is what the machine gave at that moment (Linux schedules each session's group
 * of threads as one: while another session keeps a core busy, two threads of this process share one core).
 * Bot4's speedup over the control's is the pool's own efficiency, whatever the load.
 */
function controlNote(
  extra: Record<string, string | number>,
  base: number,
  control: number,
  ours: number,
): void {
  const allowed = base / control;
  extra.control_speedup = round(allowed);
  extra.bot4_vs_control = round(control / ours);
  if (allowed < 1.5) {
    process.stderr.write(
      `  note: the static split over plain threads reached only ${round(allowed)}x: the machine did not give this process ${CORES} cores during the run (other sessions busy); bot4 reached ${round(control / ours)} of the control's speed\n`,
    );
  }
}

function describeMachine(): Record<string, string | number> {
  return { node: process.version, cores: CORES, default_threads: DEFAULT_THREADS };
}

// ------------------------------------------------------------------------------------------------ subjects

/** Per-task cost of `count` empty tasks submitted at once: one map call, or `count` run() calls in flight. */
async function taskOverhead(ctx: BenchContext) {
  const count = ctx.quick ? 2000 : 20_000;
  const runs = ctx.quick ? 3 : 9;
  const inputs: number[] = Array(count).fill(0);
  const pools = new Pools();
  try {
    await warm(ctx, pools, [DEFAULT_THREADS], [DEFAULT_THREADS]);
    const pool = await pools.pool();
    const pis = pools.peer('piscina');
    const tiny = pools.peer('tinypool');
    const r = await interleaved(runs, [
      { name: 'bot4', once: () => pool.map('empty', inputs) },
      { name: PISCINA, once: () => Promise.all(inputs.map((x) => pis.run(x))) },
      { name: TINYPOOL, once: () => Promise.all(inputs.map((x) => tiny.run(x))) },
    ]);
    const perTask = (name: string) => withMedian(r.get(name)!, (median(r.get(name)!.wallMs) * 1000) / count);
    const cpuPerTask = (name: string) => round((median(r.get(name)!.cpuMs) * 1000) / count);
    return {
      main: perTask('bot4'),
      peers: { [PISCINA]: perTask(PISCINA), [TINYPOOL]: perTask(TINYPOOL) },
      extra: {
        tasks_per_run: count,
        runs,
        threads: DEFAULT_THREADS,
        cpu_us_per_task: cpuPerTask('bot4'),
        [`${PISCINA} cpu_us_per_task`]: cpuPerTask(PISCINA),
        [`${TINYPOOL} cpu_us_per_task`]: cpuPerTask(TINYPOOL),
        ...describeMachine(),
      },
    };
  } finally {
    await pools.close();
  }
}

/**
 * One empty task at a time, awaited before the next: the full round trip main -> worker -> main. Every trip is
 * timed; the figure is the median trip (p99 beside it), since a descheduled thread on a shared machine turns a
 * mean into a measure of the load. Subjects take turns in rounds of `perRound` trips.
 */
async function roundTrip(ctx: BenchContext) {
  const rounds = ctx.quick ? 5 : 15;
  const perRound = ctx.quick ? 200 : 400;
  const one = [0];
  const pools = new Pools();
  try {
    await warm(ctx, pools, [DEFAULT_THREADS], [DEFAULT_THREADS]);
    const pool = await pools.pool();
    const pis = pools.peer('piscina');
    const tiny = pools.peer('tinypool');
    const subjects: [string, () => Promise<unknown>][] = [
      ['bot4', () => pool.map('empty', one)],
      [PISCINA, () => pis.run(0)],
      [TINYPOOL, () => tiny.run(0)],
    ];
    const lat = subjects.map(() => new Float64Array(rounds * perRound));
    const probes = subjects.map(() => ({ ...emptyMeasurement(rounds), wallMs: 0, cpuMs: 0 }));
    for (let r = 0; r < rounds; r++) {
      for (const [k, [, call]] of subjects.entries()) {
        const acc = probes[k]!;
        const probe = startProbe();
        const t00 = process.hrtime.bigint();
        for (let i = 0; i < perRound; i++) {
          const t0 = process.hrtime.bigint();
          await call();
          lat[k]![r * perRound + i] = Number(process.hrtime.bigint() - t0) / 1e3;
        }
        const wallMs = Number(process.hrtime.bigint() - t00) / 1e6;
        acc.wallMs += wallMs;
        acc.cpuMs += addRun(acc, await probe.finish(0, null, 1), wallMs);
      }
    }
    const result = (k: number): Measurement => {
      const { wallMs, cpuMs, ...m } = probes[k]!;
      return { ...m, median: median(lat[k]!), p99: percentile(lat[k]!, 99), cpuPerWall: cpuMs / wallMs };
    };
    const cpuPerTrip = (k: number) => round((probes[k]!.cpuMs * 1000) / (rounds * perRound));
    return {
      main: result(0),
      peers: { [PISCINA]: result(1), [TINYPOOL]: result(2) },
      extra: {
        trips: rounds * perRound,
        threads: DEFAULT_THREADS,
        cpu_us_per_trip: cpuPerTrip(0),
        [`${PISCINA} p99_us`]: round(percentile(lat[1]!, 99)),
        [`${PISCINA} cpu_us_per_trip`]: cpuPerTrip(1),
        [`${TINYPOOL} p99_us`]: round(percentile(lat[2]!, 99)),
        [`${TINYPOOL} cpu_us_per_trip`]: cpuPerTrip(2),
        ...describeMachine(),
      },
    };
  } finally {
    await pools.close();
  }
}

/**
 * 10,000 tasks of ~50 us: one thread running them in a loop against Bot4's parallelFor (pool threads plus the
 * main thread), Bot4's map, piscina and tinypool. The headline peers get as many threads as Bot4 uses in all.
 */
async function smallTasks(ctx: BenchContext) {
  // Quick mode: 500 tasks (nine subjects, each run four times, made this id one of the suite's slowest).
  const n = ctx.quick ? 500 : 10_000;
  const runs = ctx.quick ? 3 : 7;
  const iters = Math.round(calibrate() * 50);
  const args: BurnArgs = { iters, out: new Int32Array(new SharedArrayBuffer(4 * n)) };
  const inputs: number[] = Array(n).fill(iters);
  const total = DEFAULT_THREADS + 1;
  const pools = new Pools();
  try {
    await warm(ctx, pools, [DEFAULT_THREADS, total], [DEFAULT_THREADS, total]);
    const pool = await pools.pool();
    const poolAll = await pools.pool(total);
    const split = await pools.split(total);
    const peerRun = (p: Peer) => () => Promise.all(inputs.map((x) => p.run(x)));
    const subjects: Subject[] = [
      {
        name: 'one thread',
        once: () => {
          for (let i = 0; i < n; i++) args.out[i] = burn(iters);
        },
      },
      { name: 'static split, no pool', once: () => split.run(n, args) },
      { name: 'bot4', once: () => pool.parallelFor('burnRange', n, { args, mainThread: true }) },
      { name: 'bot4 workers only', once: () => poolAll.parallelFor('burnRange', n, { args }) },
      { name: 'bot4 map', once: () => poolAll.map('burn', inputs) },
      { name: PISCINA, once: peerRun(pools.peer('piscina', total)) },
      { name: TINYPOOL, once: peerRun(pools.peer('tinypool', total)) },
      { name: `${PISCINA} cores-1`, once: peerRun(pools.peer('piscina', DEFAULT_THREADS)) },
      { name: `${TINYPOOL} cores-1`, once: peerRun(pools.peer('tinypool', DEFAULT_THREADS)) },
    ];
    const r = await interleaved(runs, subjects);
    const base = median(r.get('one thread')!.wallMs);
    const speedup = (name: string) => withMedian(r.get(name)!, base / median(r.get(name)!.wallMs));
    const extra: Record<string, string | number> = {
      tasks: n,
      task_us: 50,
      burn_iters: iters,
      runs,
      threads: `${DEFAULT_THREADS} pool + main = ${total}`,
      one_thread_ms: round(base),
    };
    const baseCpu = median(r.get('one thread')!.cpuMs);
    for (const s of subjects) {
      const x = r.get(s.name)!;
      extra[`${s.name} wall_ms`] = round(median(x.wallMs));
      extra[`${s.name} cpu_ms`] = round(median(x.cpuMs));
      if (s.name === 'one thread') continue;
      if (s.name !== 'bot4') extra[`${s.name} speedup`] = round(base / median(x.wallMs));
      // CPU of all threads over the CPU of the work alone: what the pool costs, whatever the machine's load.
      extra[`${s.name} cpu_vs_one_thread`] = round(median(x.cpuMs) / baseCpu);
    }
    note(
      `${n} tasks of ~50 us (speedup vs one thread; wall ms; CPU ms of all threads; threads running tasks)`,
      subjects.map((s) => {
        const x = r.get(s.name)!;
        const t = s.name === 'one thread' ? 1 : s.name.endsWith('cores-1') ? DEFAULT_THREADS : total;
        return `${s.name}: ${round(base / median(x.wallMs))}x; ${round(median(x.wallMs))}; ${round(median(x.cpuMs))}; ${t}`;
      }),
    );
    controlNote(extra, base, median(r.get('static split, no pool')!.wallMs), median(r.get('bot4')!.wallMs));
    extra['bot4 workers only threads'] = total;
    extra['bot4 map threads'] = total;
    extra[`${PISCINA} threads`] = total;
    extra[`${TINYPOOL} threads`] = total;
    Object.assign(extra, describeMachine());
    return {
      main: speedup('bot4'),
      peers: { [PISCINA]: speedup(PISCINA), [TINYPOOL]: speedup(TINYPOOL) },
      extra,
    };
  } finally {
    await pools.close();
  }
}

/**
 * Coarse parallel-for: chunks of ~10 ms (a backtest trial's grain), one chunk per claim. The headline uses
 * every core (cores - 1 pool threads plus the main thread); the scaling curve covers 1..cores threads both
 * ways (t pool threads; t - 1 pool threads plus the main thread).
 */
async function coarse(ctx: BenchContext) {
  const n = ctx.quick ? 8 : 40;
  const runs = ctx.quick ? 3 : 7;
  const iters = Math.round(calibrate() * 10_000);
  const args: BurnArgs = { iters, out: new Int32Array(new SharedArrayBuffer(4 * n)) };
  const pools = new Pools();
  try {
    const sizes = Array.from({ length: CORES }, (_, i) => i + 1);
    await warm(ctx, pools, sizes, []);
    const subjects: Subject[] = [
      {
        name: 'one thread',
        once: () => {
          for (let i = 0; i < n; i++) args.out[i] = burn(iters);
        },
      },
    ];
    const split = await pools.split(CORES);
    subjects.push({ name: `static split over ${CORES} threads, no pool`, once: () => split.run(n, args) });
    for (const t of sizes) {
      const p = await pools.pool(t);
      subjects.push({
        name: `${t} pool threads`,
        once: () => p.parallelFor('burnRange', n, { chunk: 1, args }),
      });
      if (t < CORES) {
        subjects.push({
          name: `${t} pool threads + main`,
          once: () => p.parallelFor('burnRange', n, { chunk: 1, args, mainThread: true }),
        });
      }
    }
    const r = await interleaved(runs, subjects);
    const base = median(r.get('one thread')!.wallMs);
    const headline = CORES > 1 ? `${CORES - 1} pool threads + main` : '1 pool threads';
    const extra: Record<string, string | number> = {
      chunks: n,
      chunk_ms: 10,
      runs,
      threads: CORES > 1 ? `${CORES - 1} pool + main = ${CORES}` : '1 pool',
      one_thread_ms: round(base),
      one_thread_cpu_ms: round(median(r.get('one thread')!.cpuMs)),
    };
    for (const s of subjects.slice(1)) {
      const x = r.get(s.name)!;
      extra[`${s.name} speedup`] = round(base / median(x.wallMs));
      extra[`${s.name} wall_ms`] = round(median(x.wallMs));
      extra[`${s.name} cpu_ms`] = round(median(x.cpuMs));
    }
    note(
      `scaling curve, ${n} chunks of ~10 ms (speedup vs one thread; wall ms; CPU ms of all threads)`,
      subjects.map((s) => {
        const x = r.get(s.name)!;
        return `${s.name}: ${round(base / median(x.wallMs))}x; ${round(median(x.wallMs))}; ${round(median(x.cpuMs))}`;
      }),
    );
    controlNote(
      extra,
      base,
      median(r.get(`static split over ${CORES} threads, no pool`)!.wallMs),
      median(r.get(headline)!.wallMs),
    );
    Object.assign(extra, describeMachine());
    return { main: withMedian(r.get(headline)!, base / median(r.get(headline)!.wallMs)), extra };
  } finally {
    await pools.close();
  }
}

// ------------------------------------------------------------------------------------------------ specs

export const benches: BenchSpec[] = [
  {
    id: 'parallel.pool.task_overhead',
    title: 'WorkerPool: empty tasks submitted together (one map call vs one run() per task), us per task',
    unit: 'us/task',
    better: 'lower',
    target: 2,
    targetSource:
      'brief: beat piscina and tinypool on per-task overhead (they take 24-35 us per round trip here)',
    run: taskOverhead,
  },
  {
    id: 'parallel.pool.roundtrip',
    title: 'WorkerPool: one empty task at a time, main -> worker -> main round trip',
    unit: 'us',
    better: 'lower',
    target: 24,
    targetSource: 'brief: piscina and tinypool take 24-35 us per round trip on this machine',
    run: roundTrip,
  },
  {
    id: 'parallel.pool.small_tasks_speedup',
    title: '10,000 tasks of ~50 us: speed vs one thread (Bot4 parallelFor, pool + main thread)',
    unit: 'x',
    better: 'higher',
    target: 1.5,
    targetSource: "brief: well above piscina's 0.5x on this 2-core machine",
    run: smallTasks,
  },
  {
    id: 'parallel.pool.coarse_speedup',
    title:
      'Parallel-for over ~10 ms chunks: speedup vs one thread, every core (pool + main); curve in extras',
    unit: 'x',
    better: 'higher',
    target: 1.8,
    targetSource: 'brief: at least 1.8x on this 2-core machine for coarse work such as backtest trials',
    run: coarse,
  },
];
