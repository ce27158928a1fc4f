// End-to-end benchmarks of what a user runs, not of the engine alone: `bot4 backtest` opens its data (loaders
// over gzip captures or a catalog query), merges it in time order, runs the engine with recorder and
// statistics, and writes the report. These benches call the same functions the command calls
// (openBacktestData -> runBacktest -> writeReport) on data sets big enough that start-up is noise: every
// hftbacktest capture in ../shared/data merged, read again through the real loaders (or the catalog) per loop
// with times shifted past the previous loop. They report events/s, bytes allocated per event and collections
// per 1M events (through V8's GC profiler). `cli.startup` times `bot4 --help` as a whole process.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openBacktestData } from '../src/backtest/data-query.ts';
import { writeReport } from '../src/backtest/report.ts';
import { type BacktestOptions, runBacktest } from '../src/backtest/runner.ts';
import { canPump, type PumpSource, type RunSink } from '../src/data/run-sink.ts';
import { type InstrumentRegistry, newInstrumentRegistry } from '../src/model/instrument.ts';
import { DeltaFlag, type EventBatch, RecordKind } from '../src/model/market-data.ts';
import { EmaCross } from '../src/strategy/builtin/ema-cross.ts';
import { MarketMaker } from '../src/strategy/builtin/market-maker.ts';
import {
  type BenchOutcome,
  type BenchSpec,
  median,
  sharedDataFile,
  skipped,
  startAllocationProbe,
  startProbe,
} from './harness.ts';

/**
 * Every Binance capture of hftbacktest in ../shared/data (10 files, 3 venues, 2.97M events merged), or in quick
 * mode the two USD-M ones (1.03M events); or what is missing.
 */
function allCaptures(quick: boolean): { files: string[] } | { missing: string } {
  const dir = sharedDataFile('hftbacktest');
  if (dir === undefined)
    return { missing: '../shared/data/hftbacktest not found (see shared/data/README.md)' };
  const files: string[] = [];
  for (const venue of quick ? ['usdm'] : ['usdm', 'spot', 'cm']) {
    const sub = join(dir, venue);
    if (!existsSync(sub)) return { missing: `${sub} not found` };
    for (const f of readdirSync(sub).sort()) if (f.endsWith('.gz')) files.push(join(sub, f));
  }
  return { files };
}

/** The strategies of the L2 runs: a market maker on the USD-M BTCUSDT book and an EMA cross on USD-M ETHUSDT. */
function l2Strategies(): BacktestOptions['strategies'] {
  return [
    { strategy: new MarketMaker({ instrument: 'BTCUSDT.BINANCE_USDM', qty: 0.01 }) },
    {
      strategy: new EmaCross({
        instrument: 'ETHUSDT.BINANCE_USDM',
        source: 'quote',
        fast: 50,
        slow: 200,
        qty: 0.1,
      }),
    },
  ];
}

const L2_BALANCES = [
  { currency: 'USDT', amount: '1000000' },
  { currency: 'BTC', amount: '10' },
  { currency: 'ETH', amount: '100' },
];

/**
 * Per-loop time shift of loopedData: after the first loop, a loop's first depth row per instrument clears the
 * book (the capture starts from a partial book) and every row's times move past the previous loop's end.
 */
class LoopShift {
  loop = 0;
  shift = 0;
  last = Number.NEGATIVE_INFINITY;
  firstTs = Number.NaN;
  /** Last row's own (unshifted) time of the batch being delivered. */
  batchLast = Number.NEGATIVE_INFINITY;
  /** Loop in which each instrument's book was last cleared. */
  private readonly clearedIn: number[] = [];

  nextLoop(): void {
    this.loop++;
    this.shift = this.last - this.firstTs + 1_000_000 + this.shift;
    this.last = Number.NEGATIVE_INFINITY;
  }

  /** Rows [from, to) of `b`, in place. */
  apply(b: EventBatch, from: number, to: number): void {
    if (Number.isNaN(this.firstTs)) this.firstTs = b.tsEvent[from]!;
    const te = b.tsEvent;
    const ti = b.tsInit;
    const l = this.loop;
    const shift = this.shift;
    if (l > 0) {
      for (let i = from; i < to; i++) {
        const id = b.instrument[i]!;
        if (b.kind[i] === RecordKind.DELTA && this.clearedIn[id] !== l) {
          this.clearedIn[id] = l;
          b.d[i] = b.d[i]! | DeltaFlag.CLEAR;
        }
        te[i] = te[i]! + shift;
        ti[i] = ti[i]! + shift;
      }
    }
    this.batchLast = te[to - 1]! - shift;
  }

  /** A batch ended: the loop's end time so far. */
  endBatch(): void {
    if (this.batchLast > this.last) this.last = this.batchLast;
  }
}

/**
 * The data specs opened `loops` times through openBacktestData (the loaders or the catalog, every loop), each
 * loop's times shifted past the previous one's end (see LoopShift). One loop is exactly the command's run. The
 * first loop is opened before the run, as the command does (instruments register from it). Iterated or pumped
 * (rows handed over in place, as the command's runner takes a merged stream), like the command's data.
 */
async function loopedData(
  specs: readonly string[],
  loops: number,
  instruments: InstrumentRegistry,
  catalogDir: string,
): Promise<{ data: PumpSource; close(): void }> {
  const open = () => openBacktestData(specs, { instruments, catalogDir });
  let current = await open();
  const s = new LoopShift();
  const reopen = async (l: number) => {
    if (l === 0) return;
    current.close();
    current = await open();
    s.nextLoop();
  };
  async function* run(): AsyncGenerator<EventBatch> {
    for (let l = 0; l < loops; l++) {
      await reopen(l);
      for await (const b of current.data) {
        if (b.length === 0) continue;
        s.apply(b, 0, b.length);
        s.endBatch();
        yield b;
      }
    }
  }
  const data: PumpSource = {
    [Symbol.asyncIterator]: run,
    async pump(sink: RunSink): Promise<void> {
      let go = true;
      const inner: RunSink = {
        rows(b, from, to) {
          s.apply(b, from, to);
          sink.rows(b, from, to);
        },
        async batchEnd() {
          s.endBatch();
          go = await sink.batchEnd();
          return go;
        },
      };
      for (let l = 0; l < loops && go; l++) {
        await reopen(l);
        const src = current.data;
        if (canPump(src)) await src.pump(inner);
        else
          for await (const b of src) {
            if (b.length === 0) continue;
            inner.rows(b, 0, b.length);
            if (!(await inner.batchEnd())) break;
          }
      }
    },
  };
  return { data, close: () => current.close() };
}

interface E2eRun {
  events: number;
  wallS: number;
  cpuS: number;
  bytes: number;
  scavenges: number;
  markSweeps: number;
  gcMs: number;
  fingerprint: string;
  fills: number;
}

/** One user-path run: open data, backtest, write report.json and report.html; timed from open to written. */
async function e2eRun(
  specs: readonly string[],
  loops: number,
  catalogDir: string,
  strategies: () => BacktestOptions['strategies'],
  balances: BacktestOptions['balances'],
  out: string,
): Promise<E2eRun> {
  const alloc = startAllocationProbe();
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const instruments = newInstrumentRegistry();
  const opened = await loopedData(specs, loops, instruments, catalogDir);
  try {
    const res = await runBacktest({
      strategies: strategies(),
      instruments,
      data: opened.data,
      dataLabel: specs.join(', '),
      balances,
    });
    writeReport(out, res.report);
    const wallS = Number(process.hrtime.bigint() - t0) / 1e9;
    const cpu = process.cpuUsage(c0);
    const a = alloc.finish();
    return {
      events: res.events,
      wallS,
      cpuS: (cpu.user + cpu.system) / 1e6,
      bytes: a.bytes,
      scavenges: a.scavenges,
      markSweeps: a.markSweeps,
      gcMs: a.gcMs,
      fingerprint: res.fingerprint,
      fills: res.recording.fills.length,
    };
  } finally {
    opened.close();
  }
}

/**
 * Runs a warm-up (`once` itself, a smaller run of the same code, or none) then `runs` times `once`, and reports
 * the median events/s with the allocation figures. Without a warm-up the figure includes JIT compilation and
 * start-up, which dominate a run of a second or less (quick mode's catalog run read 1.97M events/s cold
 * against 5.3M warm).
 */
async function measureE2e(
  runs: number,
  once: () => Promise<E2eRun>,
  warm: 'same' | 'none' | (() => Promise<E2eRun>),
  label: string,
): Promise<BenchOutcome> {
  const first = warm === 'same' ? await once() : undefined;
  if (typeof warm === 'function') await warm();
  const probe = startProbe();
  const all: E2eRun[] = [];
  for (let r = 0; r < runs; r++) {
    const x = await once();
    if (first !== undefined && x.fingerprint !== first.fingerprint) {
      throw new Error(`fingerprint ${x.fingerprint} != ${first.fingerprint}: the run is not deterministic`);
    }
    all.push(x);
  }
  const rates = all.map((x) => x.events / x.wallS);
  const main = await probe.finish(median(rates), null, runs);
  const mid = all[all.length >> 1]!;
  const perM = (x: number) => Number(((x * 1e6) / mid.events).toFixed(2));
  return {
    main,
    extra: {
      data: label,
      events_per_run: mid.events,
      runs,
      wall_s: Number(median(all.map((x) => x.wallS)).toFixed(3)),
      events_per_cpu_s: Math.round(median(all.map((x) => x.events / x.cpuS))),
      bytes_per_event: Number((mid.bytes / mid.events).toFixed(1)),
      scavenges_per_1m_events: perM(mid.scavenges),
      mark_sweeps_per_run: mid.markSweeps,
      gc_ms_per_run: Number(mid.gcMs.toFixed(1)),
      fills_per_run: mid.fills,
      fingerprint: mid.fingerprint,
    },
  };
}

const benchDir = join(tmpdir(), 'bot4-bench');

/** A catalog holding every capture, imported once and kept in the temp folder across bench runs. */
async function captureCatalog(files: readonly string[]): Promise<string> {
  const dir = join(benchDir, 'catalog-captures');
  const { Catalog } = await import('../src/data/catalog.ts');
  const catalog = Catalog.open(dir);
  try {
    // Files already imported (same content) are skipped: only the first bench run pays for the import.
    for (const f of files) await catalog.importFile(f);
  } finally {
    catalog.close();
  }
  return dir;
}

const BARS = 1_000_000;

/** A 1M-row one-minute candle CSV in the FTX layout the OHLCV loader reads (seeded random walk), kept in tmp. */
function barsCsv(): string {
  const file = join(benchDir, 'btc-perp-bench_1m.csv');
  if (existsSync(file)) return file;
  mkdirSync(benchDir, { recursive: true });
  const lines = ['timestamp,open,high,low,close,volume'];
  let seed = 12345;
  const rnd = () => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed / 4294967296;
  };
  let px = 40000;
  const t0 = Date.UTC(2020, 0, 1);
  for (let i = 0; i < BARS; i++) {
    const open = px;
    const close = Math.max(1000, Math.round(open + (rnd() - 0.5) * 60));
    const high = Math.max(open, close) + Math.round(rnd() * 20);
    const low = Math.min(open, close) - Math.round(rnd() * 20);
    const ts = new Date(t0 + i * 60_000).toISOString().replace('T', ' ').replace('Z', '000');
    lines.push(`${ts},${open}.0,${high}.0,${low}.0,${close}.0,${(rnd() * 1e6).toFixed(4)}`);
    px = close;
  }
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

/** bin/bot4.js beside the repository root, from bench/ (tsx) and dist/bench/ (built) alike. */
function bot4Bin(): string | undefined {
  for (const up of ['../bin/bot4.js', '../../bin/bot4.js']) {
    const f = fileURLToPath(new URL(up, import.meta.url));
    if (
      existsSync(f) &&
      existsSync(fileURLToPath(new URL('../dist/src/cli/main.js', new URL(up, import.meta.url))))
    )
      return f;
  }
  return undefined;
}

function reportDir(id: string): string {
  const dir = join(benchDir, `report-${id}`);
  rmSync(dir, { recursive: true, force: true });
  return dir;
}

export const benches: BenchSpec[] = [
  {
    id: 'backtest.e2e.capture_l2',
    title:
      'bot4 backtest path on every hftbacktest gzip capture (10 files, 3 venues, 6 instruments; quick: the 2 USD-M ones) read through the loaders, market maker + EMA cross, report written: events/s',
    unit: 'events/s',
    better: 'higher',
    target: 2_000_000,
    targetSource: 'issue 14: >= 2M events/s from gzip captures, 0 scavenges per 1M events in steady state',
    async run(ctx) {
      const c = allCaptures(ctx.quick);
      if (!('files' in c)) return skipped(c.missing);
      const loops = ctx.quick ? 1 : 2;
      const out = reportDir('capture');
      const once = () => e2eRun(c.files, loops, benchDir, l2Strategies, L2_BALANCES, out);
      if (!ctx.quick) return measureE2e(3, once, 'same', `${c.files.length} captures, ${loops} loops`);
      // Quick: the two USD-M captures (the strategies' instruments) once, after a warm-up run on them.
      return measureE2e(1, once, 'same', 'quick: the 2 USD-M captures, 1 loop, after a warm-up run');
    },
  },
  {
    id: 'backtest.e2e.catalog_l2',
    title:
      'bot4 backtest path on catalog:* (every hftbacktest capture imported: 18 sorted sources merged; quick: one loop), market maker + EMA cross, report written: events/s',
    unit: 'events/s',
    better: 'higher',
    target: 6_000_000,
    targetSource: 'issue 14: >= 6M events/s from the catalog, 0 scavenges per 1M events in steady state',
    async run(ctx) {
      const c = allCaptures(false);
      if (!('files' in c)) return skipped(c.missing);
      const dir = await captureCatalog(c.files);
      const loops = ctx.quick ? 1 : 3;
      const out = reportDir('catalog');
      const once = () => e2eRun(['catalog:*'], loops, dir, l2Strategies, L2_BALANCES, out);
      if (!ctx.quick) return measureE2e(3, once, 'same', `catalog:*, ${loops} loops`);
      // Quick: the same 18 merged sources, one loop, after a warm-up on the USD-M instruments (a third of the
      // rows): cold, the run was JIT and start-up as much as replay.
      const usdm = 'catalog:BTCUSDT.BINANCE_USDM,ETHUSDT.BINANCE_USDM';
      const warm = () => e2eRun([usdm], 1, dir, l2Strategies, L2_BALANCES, out);
      return measureE2e(
        1,
        once,
        warm,
        'quick: catalog:*, 1 loop, after a warm-up run on the USD-M instruments',
      );
    },
  },
  {
    id: 'backtest.e2e.csv_1m_bars',
    title:
      '`bot4 backtest` on a 1,000,000-row one-minute candle CSV as a process (start, loader, EMA cross 10/30, report written): seconds',
    unit: 's',
    better: 'lower',
    target: 1.5,
    targetSource: 'issue 14: a 1M-bar CSV backtest end to end <= 1.5 s (process start to report written)',
    async run(ctx) {
      const file = barsCsv();
      const out = reportDir('csv');
      const strategies = () => [
        { strategy: new EmaCross({ instrument: 'BTC-PERP.FTX', fast: 10, slow: 30, qty: 0.1 }) },
      ];
      const once = () =>
        e2eRun([file], 1, benchDir, strategies, [{ currency: 'USD', amount: '1000000' }], out);
      const outcome = await measureE2e(ctx.quick ? 1 : 3, once, 'none', '1M one-minute bars, cold');
      // The goal is process start to report written: the same run as the user's command, timed as a process
      // (the in-process figure above, without node's start-up and module loading, stays as an extra).
      const bin = bot4Bin();
      if (bin === undefined) return skipped('dist/ is not built (npm run build)');
      const args = [
        bin,
        'backtest',
        '--strategy',
        'ema-cross',
        '--data',
        file,
        '--param',
        'instrument=BTC-PERP.FTX',
      ];
      args.push('--param', 'fast=10', '--param', 'slow=30', '--param', 'qty=0.1', '--balance', '1000000USD');
      args.push('--out', reportDir('csv-cli'), '--no-progress');
      const proc: number[] = [];
      for (let r = 0; r < (ctx.quick ? 1 : 3); r++) {
        const t0 = process.hrtime.bigint();
        const res = spawnSync(process.execPath, args, { encoding: 'utf8' });
        if (res.status !== 0) throw new Error(`bot4 backtest exited ${res.status}: ${res.stderr}`);
        proc.push(Number(process.hrtime.bigint() - t0) / 1e9);
      }
      return {
        ...outcome,
        main: { ...outcome.main, median: median(proc) },
        extra: {
          ...outcome.extra,
          in_process_wall_s: Number(outcome.extra?.wall_s),
          process_runs: proc.length,
        },
      };
    },
  },
  {
    id: 'cli.startup',
    title: '`bot4 --help` as a whole process (node start, CLI modules loaded, help printed): wall ms',
    unit: 'ms',
    better: 'lower',
    target: 150,
    targetSource: 'issue 14: bot4 --help <= 0.15 s (heavy modules load only when a command needs them)',
    async run(ctx) {
      const bin = bot4Bin();
      if (bin === undefined) return skipped('dist/ is not built (npm run build)');
      const runs = ctx.quick ? 3 : 15;
      const once = (): number => {
        const t0 = process.hrtime.bigint();
        const r = spawnSync(process.execPath, [bin, '--help'], { encoding: 'utf8' });
        if (r.status !== 0) throw new Error(`bot4 --help exited ${r.status}: ${r.stderr}`);
        return Number(process.hrtime.bigint() - t0) / 1e6;
      };
      once();
      const probe = startProbe();
      const ms: number[] = [];
      for (let r = 0; r < runs; r++) ms.push(once());
      return { main: await probe.finish(median(ms), null, runs), extra: { min_ms: Math.min(...ms) } };
    },
  },
];
