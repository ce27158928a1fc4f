// Kernel performance counters of this process through Linux `perf stat` attached to its pid (a child process
// reading perf_event_open, so nothing runs on the engine thread but one line per event per interval).
// Hardware counters (cache misses, branch mispredicts) exist only where the kernel exposes a PMU: on most VMs
// perf reports them "<not supported>"; then they stay absent, bot4_hw_counters_available is 0 and the reason
// is logged once. Software counters (context switches, page faults) take the same path and prove it works.

import { type ChildProcess, spawn } from 'node:child_process';
import { type SharedMetrics, sharedArray } from './shared-metrics.ts';

export const HW_EVENTS = ['cache-misses', 'branch-misses'] as const;
export const SW_EVENTS = ['context-switches', 'page-faults'] as const;

/** Metric name per perf event. */
const METRIC: Record<string, { name: string; help: string }> = {
  'cache-misses': {
    name: 'bot4_perf_cache_misses_total',
    help: 'Last-level cache misses (hardware counter via perf stat -p on this process).',
  },
  'branch-misses': {
    name: 'bot4_perf_branch_mispredicts_total',
    help: 'Mispredicted branches (hardware counter via perf stat -p on this process).',
  },
  'context-switches': {
    name: 'bot4_perf_context_switches_total',
    help: 'Context switches of this process (software counter via perf stat -p).',
  },
  'page-faults': {
    name: 'bot4_perf_page_faults_total',
    help: 'Page faults of this process (software counter via perf stat -p).',
  },
};

export type PerfEventState = 'pending' | 'counting' | 'unsupported';

export interface PerfCountersOptions {
  /** Where the counters go (shared slots the metrics worker reads). */
  shared: SharedMetrics;
  /** Process to attach to; default this one. */
  pid?: number;
  /** perf stat -I interval, ms (>= 100). Default 1000. */
  intervalMs?: number;
  /** perf executable; default `perf` on PATH. */
  perf?: string;
  /** Told once whether hardware counters are available, and why not. */
  onStatus?: (available: boolean, reason: string) => void;
  events?: readonly string[];
}

/** One `perf stat -x, -I` line: "time,value,unit,event,...". Returns undefined for anything else. */
export function parsePerfLine(
  line: string,
): { event: string; value: number | 'unsupported' | 'uncounted' } | undefined {
  const f = line.trim().split(',');
  if (f.length < 4 || !/^\d+\.\d+$/.test(f[0]!)) return undefined;
  const event = f[3]!.replace(/:u$/, '');
  const raw = f[1]!;
  if (raw === '<not supported>') return { event, value: 'unsupported' };
  if (raw === '<not counted>') return { event, value: 'uncounted' };
  const value = Number(raw);
  return Number.isFinite(value) ? { event, value } : undefined;
}

export class PerfCounters {
  readonly events: readonly string[];
  readonly state = new Map<string, PerfEventState>();
  readonly totals = new Map<string, number>();
  /** Why hardware counters are unavailable ('' while unknown or when they work). */
  reason = '';
  private child: ChildProcess | undefined;
  private readonly shared: SharedMetrics;
  /** Slot 0: hardware counters available; slot 1 + i: the total of events[i]. */
  private readonly values: Float64Array;
  private readonly onStatus: (available: boolean, reason: string) => void;
  private reported = false;
  private readonly registered = new Set<string>();
  private stderrTail = '';

  constructor(options: PerfCountersOptions) {
    this.shared = options.shared;
    this.events = options.events ?? [...HW_EVENTS, ...SW_EVENTS];
    this.values = sharedArray(1 + this.events.length);
    this.onStatus = options.onStatus ?? (() => {});
    for (const e of this.events) this.state.set(e, 'pending');
    this.shared
      .gauge(
        'bot4_hw_counters_available',
        'Whether hardware counters (cache misses, branch mispredicts) are read through perf_event_open: 1 yes, 0 no (see the startup log for why; VMs usually lack a PMU).',
      )
      .add({}, this.values, 0);
    const intervalMs = Math.max(100, options.intervalMs ?? 1000);
    const pid = options.pid ?? process.pid;
    let child: ChildProcess;
    try {
      child = spawn(
        options.perf ?? 'perf',
        ['stat', '-x,', '-I', String(intervalMs), '-e', this.events.join(','), '-p', String(pid)],
        { stdio: ['ignore', 'ignore', 'pipe'] },
      );
    } catch (e) {
      this.fail(`perf could not be started: ${(e as Error).message}`);
      return;
    }
    this.child = child;
    // The counters must never keep the node alive or die with a stack trace when perf is missing.
    child.unref();
    child.on('error', (e: NodeJS.ErrnoException) =>
      this.fail(
        e.code === 'ENOENT' ? 'perf is not installed (Debian: linux-perf)' : `perf failed: ${e.message}`,
      ),
    );
    child.on('exit', (code) => {
      this.child = undefined;
      if (code !== 0 && code !== null) {
        this.fail(
          `perf stat exited with code ${code}: ${this.stderrTail.trim().split('\n').slice(-2).join(' / ')}`,
        );
      }
    });
    let buf = '';
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (chunk: string) => {
      buf += chunk;
      let nl = buf.indexOf('\n');
      while (nl >= 0) {
        this.onLine(buf.slice(0, nl));
        buf = buf.slice(nl + 1);
        nl = buf.indexOf('\n');
      }
    });
    (child.stderr as unknown as { unref?: () => void }).unref?.();
  }

  hardwareAvailable(): boolean {
    return HW_EVENTS.every((e) => this.state.get(e) === 'counting');
  }

  private onLine(line: string): void {
    const p = parsePerfLine(line);
    if (p === undefined) {
      this.stderrTail = `${this.stderrTail}${line}\n`.slice(-2000);
      return;
    }
    if (!this.state.has(p.event)) return;
    if (p.value === 'unsupported') {
      this.state.set(p.event, 'unsupported');
    } else {
      // "<not counted>" is an interval in which the process never ran: the counter works, it counted 0.
      this.state.set(p.event, 'counting');
      if (p.value !== 'uncounted') {
        const total = (this.totals.get(p.event) ?? 0) + p.value;
        this.totals.set(p.event, total);
        this.values[1 + this.events.indexOf(p.event)] = total;
      }
      this.ensureMetric(p.event);
    }
    this.values[0] = this.hardwareAvailable() ? 1 : 0;
    this.maybeReport();
  }

  /** A counter metric appears once its event has counted: an unsupported one stays absent. */
  private ensureMetric(event: string): void {
    if (this.registered.has(event)) return;
    this.registered.add(event);
    const m = METRIC[event] ?? {
      name: `bot4_perf_${event.replace(/[^a-z0-9]/gi, '_')}_total`,
      help: `perf event ${event}`,
    };
    this.shared.counter(m.name, m.help).add({}, this.values, 1 + this.events.indexOf(event));
  }

  private maybeReport(): void {
    if (this.reported || [...this.state.values()].some((s) => s === 'pending')) return;
    this.reported = true;
    const missing = HW_EVENTS.filter((e) => this.state.get(e) !== 'counting');
    if (missing.length === 0) {
      this.onStatus(true, 'hardware counters read through perf stat');
    } else {
      this.reason = `perf reports ${missing.join(', ')} as <not supported>: the kernel exposes no hardware PMU to this machine (typical of virtual machines)`;
      this.onStatus(false, this.reason);
    }
  }

  private fail(reason: string): void {
    if (this.reported) return;
    this.reported = true;
    this.reason = reason;
    for (const [e, s] of this.state) if (s === 'pending') this.state.set(e, 'unsupported');
    this.onStatus(false, reason);
  }

  close(): void {
    this.child?.kill('SIGINT');
    this.child = undefined;
  }
}
