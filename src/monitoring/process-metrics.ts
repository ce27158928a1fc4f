// Process metrics read when scraped: V8 heap and allocation, GC pauses by kind, event-loop lag and utilisation
// (engine thread, into shared slots), and RSS plus, from Linux /proc, context switches, page faults and CPU
// time per thread (pool threads name themselves bot4-pool-N), read by the serving thread. Nothing here runs per
// event; the GC observer runs per collection. Units in names.

import { readdirSync, readFileSync } from 'node:fs';
import { constants, monitorEventLoopDelay, PerformanceObserver, performance } from 'node:perf_hooks';
import { GCProfiler, getHeapStatistics } from 'node:v8';
import { Counter, Gauge, type Registry } from 'prom-client';
import { monoNanos } from '../core/clock.ts';
import { type SharedMetrics, sharedArray } from './shared-metrics.ts';

/** GC kinds as perf_hooks reports them (detail.kind), and their label. */
const GC_KINDS: readonly [number, string][] = [
  [constants.NODE_PERFORMANCE_GC_MINOR, 'minor'],
  [constants.NODE_PERFORMANCE_GC_MAJOR, 'major'],
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL, 'incremental'],
  [constants.NODE_PERFORMANCE_GC_WEAKCB, 'weakcb'],
];

/** Linux clock ticks per second for /proc CPU times (USER_HZ, 100 on every mainstream kernel). */
const USER_HZ = 100;

export interface ProcStat {
  /** Thread (or process) name, from comm. */
  name: string;
  userSeconds: number;
  systemSeconds: number;
  minorFaults: number;
  majorFaults: number;
}

/** Parses /proc/<pid>[/task/<tid>]/stat; comm may hold spaces and parentheses, so split after the last ')'. */
export function parseProcStat(text: string): ProcStat {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  const f = text.slice(close + 2).split(' ');
  // f[0] is field 3 (state): field n is f[n - 3].
  return {
    name: text.slice(open + 1, close),
    minorFaults: Number(f[7]),
    majorFaults: Number(f[9]),
    userSeconds: Number(f[11]) / USER_HZ,
    systemSeconds: Number(f[12]) / USER_HZ,
  };
}

/** voluntary_ctxt_switches and nonvoluntary_ctxt_switches from a /proc status file. */
export function parseContextSwitches(text: string): { voluntary: number; involuntary: number } {
  const v = /^voluntary_ctxt_switches:\s*(\d+)/m.exec(text);
  const n = /^nonvoluntary_ctxt_switches:\s*(\d+)/m.exec(text);
  return { voluntary: Number(v?.[1] ?? 0), involuntary: Number(n?.[1] ?? 0) };
}

export interface ThreadSample extends ProcStat {
  tid: number;
  voluntary: number;
  involuntary: number;
}

/**
 * Every thread of this process from /proc/self/task (threads that exit mid-read are left out). Synchronous on
 * purpose: /proc is served from kernel memory in microseconds, while fs/promises costs four event-loop round
 * trips per file (measured as most of a scrape's CPU).
 */
export function readThreads(root = '/proc/self'): ThreadSample[] {
  const tids = readdirSync(`${root}/task`);
  const rows = tids.map((tid) => {
    try {
      const stat = readFileSync(`${root}/task/${tid}/stat`, 'utf8');
      const status = readFileSync(`${root}/task/${tid}/status`, 'utf8');
      const row = { tid: Number(tid), ...parseProcStat(stat), ...parseContextSwitches(status) };
      // The main thread's comm is the executable's name ("node"), like V8's helpers: call it what it is.
      if (row.tid === process.pid) row.name = 'main';
      return row;
    } catch {
      return undefined;
    }
  });
  return rows.filter((r) => r !== undefined);
}

/** Slots of ProcessMetrics' values array, filled by publish(). */
const P = {
  ALLOCATED: 0,
  ALLOC_RATE: 1,
  HEAP_USED: 2,
  HEAP_TOTAL: 3,
  HEAP_LIMIT: 4,
  HEAP_EXTERNAL: 5,
  LAG_P50: 6,
  LAG_P99: 7,
  LAG_MAX: 8,
  LOOP_ACTIVE: 9,
  LENGTH: 10,
} as const;

/**
 * The engine thread's own figures: V8 heap and allocation, GC, event-loop lag and utilisation (all per isolate
 * or per event loop, so they are read here, once per scrape, in publish()). The GC observer writes its counts
 * straight into shared slots. Process-wide series (RSS, /proc) are the serving thread's:
 * registerProcessWideMetrics. Start once per process; close() stops the observers.
 */
export class ProcessMetrics {
  private readonly gcCount = sharedArray(32);
  private readonly gcSeconds = sharedArray(32);
  private readonly values = sharedArray(P.LENGTH);
  private readonly gcObserver: PerformanceObserver;
  private gcProfiler: GCProfiler | undefined = new GCProfiler();
  /** Bytes the collector freed since start (before minus after, per GC), for the allocation figure. */
  private freedBytes = 0;
  private readonly usedAtStart: number;
  private lastAllocated = 0;
  private lastAllocNs = 0;
  private allocRate = 0;
  private readonly loopDelay = monitorEventLoopDelay({ resolution: 10 });
  private readonly eluStart = performance.eventLoopUtilization();

  constructor(shared: SharedMetrics) {
    this.gcObserver = new PerformanceObserver((list) => {
      for (const e of list.getEntries()) {
        const kind = (e as unknown as { detail?: { kind?: number } }).detail?.kind ?? 0;
        this.gcCount[kind & 31]! += 1;
        this.gcSeconds[kind & 31]! += e.duration / 1000;
      }
    });
    this.gcObserver.observe({ entryTypes: ['gc'] });
    this.gcProfiler!.start();
    this.usedAtStart = getHeapStatistics().used_heap_size;
    this.lastAllocNs = monoNanos();
    this.loopDelay.enable();
    this.register(shared);
    shared.onPublish(() => this.publish());
  }

  /** Bytes allocated on the V8 heap since start: growth of used heap plus what GC freed meanwhile. */
  allocatedBytes(): number {
    const p = this.gcProfiler;
    if (p !== undefined) {
      // stop() hands over the collections since start(); restart at once so none is missed for long.
      const report = p.stop() as { statistics: GcStat[] } | undefined;
      p.start();
      for (const s of report?.statistics ?? []) {
        this.freedBytes += Math.max(
          0,
          s.beforeGC.heapStatistics.usedHeapSize - s.afterGC.heapStatistics.usedHeapSize,
        );
      }
    }
    return getHeapStatistics().used_heap_size - this.usedAtStart + this.freedBytes;
  }

  /** Engine thread, once per scrape: what only this isolate and event loop can tell, into shared slots. */
  private publish(): void {
    const v = this.values;
    const total = Math.max(0, this.allocatedBytes());
    const now = monoNanos();
    const dt = (now - this.lastAllocNs) / 1e9;
    if (dt > 0.05) {
      this.allocRate = Math.max(0, total - this.lastAllocated) / dt;
      this.lastAllocated = total;
      this.lastAllocNs = now;
    }
    v[P.ALLOCATED] = total;
    v[P.ALLOC_RATE] = this.allocRate;
    const h = getHeapStatistics();
    v[P.HEAP_USED] = h.used_heap_size;
    v[P.HEAP_TOTAL] = h.total_heap_size;
    v[P.HEAP_LIMIT] = h.heap_size_limit;
    v[P.HEAP_EXTERNAL] = h.external_memory;
    const d = this.loopDelay;
    // An interval with no samples reports NaN percentiles: 0 lag is the truth then.
    const ok = d.count > 0;
    v[P.LAG_P50] = ok ? d.percentile(50) / 1e9 : 0;
    v[P.LAG_P99] = ok ? d.percentile(99) / 1e9 : 0;
    v[P.LAG_MAX] = ok ? d.max / 1e9 : 0;
    d.reset();
    v[P.LOOP_ACTIVE] = performance.eventLoopUtilization(this.eluStart).active / 1000;
  }

  private register(shared: SharedMetrics): void {
    const v = this.values;
    shared
      .counter(
        'bot4_heap_allocated_bytes_total',
        'Bytes allocated on the V8 heap since start: used-heap growth plus bytes freed per GC (v8.GCProfiler before/after heap statistics).',
      )
      .add({}, v, P.ALLOCATED);
    shared
      .gauge(
        'bot4_heap_allocation_rate_bytes_per_second',
        'V8 heap allocation rate between the last two scrapes, bytes/s (v8 heap statistics and GCProfiler; prefer rate(bot4_heap_allocated_bytes_total) in queries).',
      )
      .add({}, v, P.ALLOC_RATE);
    const pause = shared.counter(
      'bot4_gc_pause_seconds_total',
      'Time spent in garbage-collection pauses by kind, seconds (perf_hooks GC observer entries).',
      ['kind'],
    );
    const runs = shared.counter(
      'bot4_gc_runs_total',
      'Garbage collections by kind (perf_hooks GC observer entries).',
      ['kind'],
    );
    for (const [k, label] of GC_KINDS) {
      pause.add({ kind: label }, this.gcSeconds, k);
      runs.add({ kind: label }, this.gcCount, k);
    }
    const heap = shared.gauge(
      'bot4_heap_bytes',
      'V8 heap, bytes, by area: used, total (reserved), limit, external (v8.getHeapStatistics).',
      ['area'],
    );
    heap.add({ area: 'used' }, v, P.HEAP_USED);
    heap.add({ area: 'total' }, v, P.HEAP_TOTAL);
    heap.add({ area: 'limit' }, v, P.HEAP_LIMIT);
    heap.add({ area: 'external' }, v, P.HEAP_EXTERNAL);
    const lag = shared.gauge(
      'bot4_event_loop_lag_seconds',
      'Event-loop delay since the previous scrape, seconds, by stat p50/p99/max (perf_hooks monitorEventLoopDelay, 10 ms resolution).',
      ['stat'],
    );
    lag.add({ stat: 'p50' }, v, P.LAG_P50);
    lag.add({ stat: 'p99' }, v, P.LAG_P99);
    lag.add({ stat: 'max' }, v, P.LAG_MAX);
    shared
      .counter(
        'bot4_event_loop_active_seconds_total',
        'Time the event loop spent busy (not waiting for I/O) since start, seconds: rate() is the utilisation (performance.eventLoopUtilization).',
      )
      .add({}, v, P.LOOP_ACTIVE);
  }

  close(): void {
    this.gcObserver.disconnect();
    this.gcProfiler?.stop();
    this.gcProfiler = undefined;
    this.loopDelay.disable();
  }
}

interface GcStat {
  beforeGC: { heapStatistics: { usedHeapSize: number } };
  afterGC: { heapStatistics: { usedHeapSize: number } };
}

/**
 * Series of the whole process, readable from any thread: the metrics worker serves them, off the engine
 * thread. RSS everywhere; context switches, page faults and per-thread CPU from /proc on Linux.
 */
export function registerProcessWideMetrics(registry: Registry): void {
  new Gauge({
    name: 'bot4_resident_memory_bytes',
    help: 'Resident set size, bytes (process.memoryUsage.rss).',
    registers: [registry],
    collect() {
      this.set(process.memoryUsage.rss());
    },
  });
  registerProcFsMetrics(registry);
}

/**
 * Process-wide series read from /proc (context switches, page faults, per-thread CPU and context switches;
 * Linux only). Any thread of the process may collect them: the metrics worker does, off the engine thread.
 */
export function registerProcFsMetrics(registry: Registry): void {
  if (process.platform !== 'linux') return;
  new Counter({
    name: 'bot4_context_switches_total',
    help: 'Context switches of the whole process, voluntary (waited) and involuntary (preempted) (/proc/self/status).',
    labelNames: ['kind'],
    registers: [registry],
    collect() {
      const c = parseContextSwitches(readFileSync('/proc/self/status', 'utf8'));
      this.reset();
      this.inc({ kind: 'voluntary' }, c.voluntary);
      this.inc({ kind: 'involuntary' }, c.involuntary);
    },
  });
  new Counter({
    name: 'bot4_page_faults_total',
    help: 'Page faults of the whole process, minor (no I/O) and major (read from disk) (/proc/self/stat).',
    labelNames: ['kind'],
    registers: [registry],
    collect() {
      const s = parseProcStat(readFileSync('/proc/self/stat', 'utf8'));
      this.reset();
      this.inc({ kind: 'minor' }, s.minorFaults);
      this.inc({ kind: 'major' }, s.majorFaults);
    },
  });
  // One /proc walk feeds both per-thread counters: the first collector to run reads, the other reuses it.
  let threads: ThreadSample[] | undefined;
  const sample = (): ThreadSample[] => {
    if (threads === undefined) {
      threads = readThreads();
      setImmediate(() => {
        threads = undefined;
      });
    }
    return threads;
  };
  new Counter({
    name: 'bot4_thread_cpu_seconds_total',
    help: 'CPU time per thread, seconds, by mode user/system (/proc/self/task/*/stat; thread = its name, e.g. bot4-pool-0).',
    labelNames: ['thread', 'tid', 'mode'],
    registers: [registry],
    collect() {
      const rows = sample();
      this.reset();
      for (const t of rows) {
        this.inc({ thread: t.name, tid: t.tid, mode: 'user' }, t.userSeconds);
        this.inc({ thread: t.name, tid: t.tid, mode: 'system' }, t.systemSeconds);
      }
    },
  });
  new Counter({
    name: 'bot4_thread_context_switches_total',
    help: 'Context switches per thread, voluntary/involuntary (/proc/self/task/*/status).',
    labelNames: ['thread', 'tid', 'kind'],
    registers: [registry],
    collect() {
      const rows = sample();
      this.reset();
      for (const t of rows) {
        this.inc({ thread: t.name, tid: t.tid, kind: 'voluntary' }, t.voluntary);
        this.inc({ thread: t.name, tid: t.tid, kind: 'involuntary' }, t.involuntary);
      }
    },
  });
}
