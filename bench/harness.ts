// The benchmark harness every area adds to. A benchmark measures its subject (and any peer library doing
// the same job) with `measure`, which reports the median over many samples plus the GC events, heap growth,
// context switches and CPU time seen while the measured loops ran. Results print as a table and go to JSON
// with stable ids (area.subject.operation) so runs can be compared across versions.

import { existsSync, readFileSync } from 'node:fs';
import { dirname, sep } from 'node:path';
import { PerformanceObserver } from 'node:perf_hooks';
import { setImmediate as tick } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { GCProfiler } from 'node:v8';

export type Better = 'lower' | 'higher';

export interface BenchContext {
  /**
   * Quick mode: fewer and shorter samples, smaller message counts, and for the slow peers fewer passes or a
   * smaller data set (said in the bench's extra). `measure` takes 7 samples of ~3 ms after a 50 ms warm-up
   * (QUICK): medians of 7 short samples move by a few percent more between runs than the full 30 x 20 ms, and
   * code that needs longer than 50 ms to reach its optimised tier is measured partly unoptimised. Issue 14 asks
   * the whole quick suite under a minute on the 2-core machine (it was 104 s quiet).
   */
  readonly quick: boolean;
}

/** What one measured subject did while it was measured. */
export interface Measurement {
  /** Median of the per-sample figures, in the benchmark's unit. */
  median: number;
  /** 99th percentile, where the benchmark records individual latencies; otherwise null. */
  p99: number | null;
  samples: number;
  /** Garbage collections observed during the measured loops. */
  gc: number;
  /** Heap used after minus before the measured loops, bytes. */
  heapGrowth: number;
  voluntaryCtx: number;
  involuntaryCtx: number;
  /** CPU time (user + system, all threads of this process) divided by wall time during measurement. */
  cpuPerWall: number;
}

export interface BenchOutcome {
  main: Measurement;
  /** Peer library measurements, keyed by "name@version". */
  peers?: Record<string, Measurement>;
  /** Other figures worth printing (e.g. GC count of a peer over 10M operations). */
  extra?: Record<string, number | string>;
}

export interface BenchSpec {
  /** Stable id: area.subject.operation. */
  id: string;
  title: string;
  unit: string;
  better: Better;
  /** The target this figure serves, in `unit`; null when there is none. */
  target: number | null;
  /** Where the target comes from (the brief, an issue, a peer's figure). */
  targetSource?: string;
  run(ctx: BenchContext): Promise<BenchOutcome> | BenchOutcome;
}

export interface BenchRecord {
  id: string;
  title: string;
  unit: string;
  median: number;
  p99: number | null;
  target: number | null;
  better: Better;
  met: boolean | null;
  gc: number;
  heapGrowth: number;
  ctx: { voluntary: number; involuntary: number };
  cpuPerWall: number;
  peers: Record<string, number>;
  /** Peer median divided by ours, oriented so that > 1 means Bot4 is better. */
  ratios: Record<string, number>;
  extra: Record<string, number | string>;
  /** Wall seconds the benchmark took, setup included (set by the suite). */
  seconds?: number;
}

/** Counts GC events; PerformanceObserver delivers entries asynchronously, so `stop` awaits a tick. */
class GcCounter {
  private count = 0;
  private readonly observer = new PerformanceObserver((list) => {
    this.count += list.getEntries().length;
  });
  start(): void {
    this.count = 0;
    this.observer.observe({ entryTypes: ['gc'] });
  }
  async stop(): Promise<number> {
    await tick();
    this.count += this.observer.takeRecords().length;
    this.observer.disconnect();
    return this.count;
  }
}

export interface Probe {
  finish(median: number, p99: number | null, samples: number): Promise<Measurement>;
}

/**
 * Starts watching GC, heap, context switches and CPU time. Use it directly for benchmarks that time
 * themselves (cross-worker throughput, ping-pong); `measure` uses it for loop benchmarks.
 */
export function startProbe(): Probe {
  const gc = new GcCounter();
  const heap0 = process.memoryUsage().heapUsed;
  const ru0 = process.resourceUsage();
  const wall0 = process.hrtime.bigint();
  gc.start();
  return {
    async finish(median, p99, samples) {
      const wall = Number(process.hrtime.bigint() - wall0) / 1e3;
      const ru1 = process.resourceUsage();
      const heapGrowth = process.memoryUsage().heapUsed - heap0;
      const gcCount = await gc.stop();
      const cpu = ru1.userCPUTime - ru0.userCPUTime + (ru1.systemCPUTime - ru0.systemCPUTime);
      return {
        median,
        p99,
        samples,
        gc: gcCount,
        heapGrowth,
        voluntaryCtx: ru1.voluntaryContextSwitches - ru0.voluntaryContextSwitches,
        involuntaryCtx: ru1.involuntaryContextSwitches - ru0.involuntaryContextSwitches,
        cpuPerWall: wall > 0 ? cpu / wall : 0,
      };
    },
  };
}

export interface MeasureOptions {
  /** Samples to take (median over them). Default 30, or 7 in quick mode. */
  samples?: number;
  /** Target duration of one sample in ms; the iteration count is calibrated to it. Default 20 (quick 3). */
  sampleMs?: number;
  /** Fixed iterations per sample (skips calibration), e.g. to run exactly 10M operations. */
  iterations?: number;
  /** Warm-up time in ms before calibration. Default 300 (quick 50); 0 when the caller has just run the loop. */
  warmUpMs?: number;
}

/** Quick mode's `measure` defaults (issue 14: the quick suite under a minute); the full mode's are 30, 20, 300. */
export const QUICK = { samples: 7, sampleMs: 3, warmUpMs: 50 } as const;

/** Loops `measure` has already warmed up: measured again (e.g. for 10M operations), they are not warmed twice. */
const warmed = new WeakSet<(n: number) => unknown>();

/**
 * Measures `loop(n)`, which must perform n operations, and reports ns per operation.
 * The loop lives in the benchmark so that V8 optimises the operation inline, as it would in real code.
 */
export async function measure(
  ctx: BenchContext,
  loop: (n: number) => unknown,
  options: MeasureOptions = {},
): Promise<Measurement> {
  const samples = options.samples ?? (ctx.quick ? QUICK.samples : 30);
  const sampleMs = options.sampleMs ?? (ctx.quick ? QUICK.sampleMs : 20);
  // Warm up by time, not by a fixed count, so slow-to-optimise code is compiled before calibration.
  if (!warmed.has(loop)) warmUp(loop, options.warmUpMs ?? (ctx.quick ? QUICK.warmUpMs : 300));
  warmed.add(loop);
  const n = options.iterations ?? calibrate(loop, sampleMs);
  const perOp = new Float64Array(samples);
  const probe = startProbe();
  for (let s = 0; s < samples; s++) {
    const t0 = process.hrtime.bigint();
    sink(loop(n));
    perOp[s] = Number(process.hrtime.bigint() - t0) / n;
  }
  return probe.finish(median(perOp), null, samples);
}

/** Calls `loop` with doubling counts (from 1: a call may take milliseconds) until `ms` have passed. */
function warmUp(loop: (n: number) => unknown, ms: number): void {
  const t0 = process.hrtime.bigint();
  let n = 1;
  while (Number(process.hrtime.bigint() - t0) / 1e6 < ms) {
    sink(loop(n));
    if (n < 1_000_000) n *= 2;
  }
}

/** The count whose call lasts about `sampleMs`, from counts growing 4x from 1 (slow calls must not start at 1,000). */
function calibrate(loop: (n: number) => unknown, sampleMs: number): number {
  let n = 1;
  for (;;) {
    const t0 = process.hrtime.bigint();
    sink(loop(n));
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    if (ms >= sampleMs / 4 || n >= 1e9) return Math.max(1, Math.round((n * sampleMs) / Math.max(ms, 1e-3)));
    n *= 4;
  }
}

/** Keeps results observable so V8 cannot remove the measured work. */
let blackhole: unknown;
export function sink(value: unknown): void {
  blackhole = value;
}
export function drain(): unknown {
  return blackhole;
}

export function median(values: ArrayLike<number>): number {
  const sorted = Float64Array.from(values).sort();
  if (sorted.length === 0) return Number.NaN;
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function percentile(values: ArrayLike<number>, p: number): number {
  const sorted = Float64Array.from(values).sort();
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

/** Median of several independent runs of a self-timed benchmark (cross-worker runs are noisy). */
export async function repeatMedian(runs: number, once: () => Promise<number>): Promise<number> {
  const values: number[] = [];
  for (let i = 0; i < runs; i++) values.push(await once());
  return median(values);
}

export function toRecord(spec: BenchSpec, outcome: BenchOutcome): BenchRecord {
  const { main } = outcome;
  const peers: Record<string, number> = {};
  const ratios: Record<string, number> = {};
  for (const [name, m] of Object.entries(outcome.peers ?? {})) {
    peers[name] = round(m.median);
    ratios[name] = round(spec.better === 'lower' ? m.median / main.median : main.median / m.median);
  }
  const met =
    spec.target === null || Number.isNaN(main.median)
      ? null
      : spec.better === 'lower'
        ? main.median <= spec.target
        : main.median >= spec.target;
  return {
    id: spec.id,
    title: spec.title,
    unit: spec.unit,
    median: round(main.median),
    p99: main.p99 === null ? null : round(main.p99),
    target: spec.target,
    better: spec.better,
    met,
    gc: main.gc,
    heapGrowth: main.heapGrowth,
    ctx: { voluntary: main.voluntaryCtx, involuntary: main.involuntaryCtx },
    cpuPerWall: round(main.cpuPerWall),
    peers,
    ratios,
    extra: outcome.extra ?? {},
  };
}

/** Rounds to 3 significant digits past the integer part, enough for ns and msg/s alike. */
export function round(x: number): number {
  if (!Number.isFinite(x)) return x;
  const abs = Math.abs(x);
  if (abs >= 1000) return Math.round(x);
  if (abs >= 1) return Math.round(x * 100) / 100;
  return Number(x.toPrecision(3));
}

/**
 * A file of the shared market data beside the repository (../shared/data/<rel>), found from bench/ (run with tsx)
 * and from dist/bench/ (the built suite) alike; undefined when absent.
 */
export function sharedDataFile(rel: string): string | undefined {
  for (const up of ['../../shared/data/', '../../../shared/data/']) {
    const file = fileURLToPath(new URL(up + rel, import.meta.url));
    if (existsSync(file)) return file;
  }
  return undefined;
}

/** The outcome of a benchmark that could not run (its data is absent): printed as skipped with the reason. */
export function skipped(reason: string): BenchOutcome {
  const nothing: Measurement = {
    median: Number.NaN,
    p99: null,
    samples: 0,
    gc: 0,
    heapGrowth: 0,
    voluntaryCtx: 0,
    involuntaryCtx: 0,
    cpuPerWall: 0,
  };
  return { main: nothing, extra: { skipped: reason } };
}

/** "label@version" of an installed peer library, read from the package.json at the root of its package folder. */
export function peerName(pkg: string, label = pkg): string {
  const entry = fileURLToPath(import.meta.resolve(pkg));
  const marker = `${sep}node_modules${sep}${pkg.split('/').join(sep)}${sep}`;
  const at = entry.lastIndexOf(marker);
  const root = at >= 0 ? entry.slice(0, at + marker.length) : `${dirname(entry)}${sep}`;
  const { version } = JSON.parse(readFileSync(`${root}package.json`, 'utf8')) as { version: string };
  return `${label}@${version}`;
}

/** What the heap did while an allocation probe ran. */
export interface AllocationReport {
  /** Bytes allocated on the JS heap: growth of the used heap between collections, summed (a close lower bound). */
  bytes: number;
  /** Young-generation collections (scavenges, minor mark-sweeps) and full (mark-sweep-compact) ones. */
  scavenges: number;
  markSweeps: number;
  /** Time spent in those collections, ms. */
  gcMs: number;
}

/**
 * Watches every collection through V8's GC profiler (no --expose-gc, no --trace-gc) and sums what was
 * allocated between them, so a benchmark can report bytes allocated per event and scavenges per 1M events.
 */
export function startAllocationProbe(): { finish(): AllocationReport } {
  const profiler = new GCProfiler();
  const used0 = process.memoryUsage().heapUsed;
  profiler.start();
  return {
    finish() {
      const used1 = process.memoryUsage().heapUsed;
      const stats = profiler.stop()?.statistics ?? [];
      let bytes = 0;
      let after = used0;
      let scavenges = 0;
      let markSweeps = 0;
      let gcUs = 0;
      for (const s of stats) {
        const before = s.beforeGC.heapStatistics.usedHeapSize;
        if (before > after) bytes += before - after;
        after = s.afterGC.heapStatistics.usedHeapSize;
        gcUs += s.cost;
        if (s.gcType === 'Scavenge' || s.gcType === 'MinorMarkSweep') scavenges++;
        else if (s.gcType === 'MarkSweepCompact') markSweeps++;
      }
      if (used1 > after) bytes += used1 - after;
      return { bytes, scavenges, markSweeps, gcMs: gcUs / 1000 };
    },
  };
}
