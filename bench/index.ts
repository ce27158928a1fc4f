// The benchmark suite: every area's benchmarks, run in order, printed as a table and optionally written to
// JSON. `bot4 bench` and `npm run bench` both come here. Areas register by adding their module below.

import { readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { wallMicros } from '../src/core/clock.ts';
import { Bot4Error, ErrorCode } from '../src/core/errors.ts';
import { type BenchContext, type BenchRecord, type BenchSpec, toRecord } from './harness.ts';

/** Every benchmark area, in the order they run. */
async function loadAreas(): Promise<BenchSpec[]> {
  const areas: { benches: BenchSpec[] }[] = await Promise.all([
    // area modules, one line each, in the order they run
    import('./core.bench.ts'),
    import('./memory.bench.ts'),
    import('./concurrency.bench.ts'),
    import('./portfolio.bench.ts'),
    import('./monitoring.bench.ts'),
    import('./execution.bench.ts'),
    import('./risk.bench.ts'),
    import('./book.bench.ts'),
    import('./sim.bench.ts'),
    import('./backtest.bench.ts'),
    import('./analysis.bench.ts'),
    import('./e2e.bench.ts'),
    import('./optimize.bench.ts'),
    import('./data.bench.ts'),
    import('./replay.bench.ts'),
    import('./bars.bench.ts'),
    import('./indicators.bench.ts'),
    import('./ml.bench.ts'),
    import('./strategy.bench.ts'),
    import('./simd.bench.ts'),
    import('./parallel.bench.ts'),
    import('./server.bench.ts'),
    import('./live.bench.ts'),
    import('./journal.bench.ts'),
    import('./session.bench.ts'),
    import('./cluster.bench.ts'),
  ]);
  return areas.flatMap((a) => a.benches);
}

export interface SuiteOptions {
  quick: boolean;
  filter?: string;
  json?: string;
  list?: boolean;
  /** Where progress and the table go (standard error and standard output by default). */
  out?: (line: string) => void;
  progress?: (line: string) => void;
}

export interface SuiteResult {
  meta: Record<string, string | number | boolean>;
  results: BenchRecord[];
}

export async function runSuite(options: SuiteOptions): Promise<SuiteResult> {
  const out = options.out ?? ((line: string) => process.stdout.write(`${line}\n`));
  const progress = options.progress ?? ((line: string) => process.stderr.write(`${line}\n`));
  const all = await loadAreas();
  const selected = options.filter === undefined ? all : all.filter((b) => matches(b.id, options.filter!));
  if (selected.length === 0 && options.filter !== undefined) {
    throw new Bot4Error(
      ErrorCode.INVALID_ARGUMENT,
      `no benchmark id matches --filter '${options.filter}'; run 'bot4 bench --list' to see the ids`,
      { filter: options.filter },
    );
  }
  if (options.list) {
    for (const b of selected) out(`${b.id.padEnd(44)} ${b.title}`);
    return { meta: {}, results: [] };
  }
  const ctx: BenchContext = { quick: options.quick };
  const gc = exposeGc();
  const meta = {
    date: new Date(wallMicros() / 1000).toISOString(),
    node: process.version,
    v8: process.versions.v8,
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    platform: `${process.platform}-${process.arch}`,
    quick: options.quick,
  };
  progress(
    `bot4 bench: ${selected.length} benchmarks, ${options.quick ? 'quick' : 'full'} mode, Node ${meta.node}, ${meta.cores} cores (${meta.cpu})`,
  );
  const results: BenchRecord[] = [];
  const suite0 = process.hrtime.bigint();
  const cpu0 = process.cpuUsage();
  for (const [i, spec] of selected.entries()) {
    progress(`[${i + 1}/${selected.length}] ${spec.id}: ${spec.title}`);
    gc();
    const t0 = process.hrtime.bigint();
    const record = toRecord(spec, await spec.run(ctx));
    // How long the benchmark took, setup included: what makes a suite slow is visible per id.
    record.seconds = Number((Number(process.hrtime.bigint() - t0) / 1e9).toFixed(2));
    results.push(record);
    progress(`  ${formatLine(record)} (${record.seconds.toFixed(1)} s)`);
  }
  // CPU time beside wall time: on a shared machine the wall figure says as much about the neighbours.
  const cpu = process.cpuUsage(cpu0);
  progress(
    `${results.length} benchmarks in ${(Number(process.hrtime.bigint() - suite0) / 1e9).toFixed(1)} s ` +
      `(CPU ${((cpu.user + cpu.system) / 1e6).toFixed(1)} s in this process, worker threads included)`,
  );
  out('');
  for (const line of formatTable(results)) out(line);
  if (options.json !== undefined) {
    writeFileSync(options.json, `${JSON.stringify({ meta, results }, null, 2)}\n`);
    progress(`results written to ${options.json}`);
  }
  return { meta, results };
}

function matches(id: string, filter: string): boolean {
  return id.includes(filter) || safeRegex(filter)?.test(id) === true;
}

function safeRegex(pattern: string): RegExp | undefined {
  try {
    return new RegExp(pattern);
  } catch {
    return undefined;
  }
}

/** A full collection between benchmarks so one benchmark's garbage is not counted against the next. */
function exposeGc(): () => void {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as (() => void) | undefined;
  return typeof gc === 'function' ? gc : () => {};
}

function fmt(x: number | null): string {
  if (x === null || Number.isNaN(x)) return '-';
  const abs = Math.abs(x);
  if (abs >= 1e9) return `${(x / 1e9).toFixed(2)}G`;
  if (abs >= 1e6) return `${(x / 1e6).toFixed(2)}M`;
  if (abs >= 1e4) return `${(x / 1e3).toFixed(1)}k`;
  if (abs >= 100) return x.toFixed(0);
  if (abs >= 10) return x.toFixed(1);
  return x.toFixed(2);
}

function verdict(r: BenchRecord): string {
  if (r.extra.skipped !== undefined) return 'skipped';
  return r.met === null ? '' : r.met ? 'ok' : 'MISS';
}

function formatLine(r: BenchRecord): string {
  if (r.extra.skipped !== undefined) return `skipped: ${r.extra.skipped}`;
  const peers = Object.entries(r.peers)
    .map(([name, v]) => `${name} ${fmt(v)} (x${fmt(r.ratios[name] ?? Number.NaN)})`)
    .join(', ');
  return (
    `${fmt(r.median)} ${r.unit}` +
    (r.p99 === null ? '' : ` p99 ${fmt(r.p99)}`) +
    (r.target === null
      ? ''
      : ` target ${r.better === 'lower' ? '<=' : '>='} ${fmt(r.target)} ${verdict(r)}`) +
    ` gc ${r.gc}` +
    (peers ? ` | peers: ${peers}` : '')
  );
}

export function formatTable(results: BenchRecord[]): string[] {
  const header = [
    'benchmark',
    'median',
    'p99',
    'unit',
    'target',
    '',
    'gc',
    'heap',
    'ctx v/i',
    'cpu/wall',
    'peers (ratio: >1 = Bot4 better)',
  ];
  const rows = results.map((r) => [
    r.id,
    fmt(r.median),
    fmt(r.p99),
    r.unit,
    r.target === null ? '-' : `${r.better === 'lower' ? '<=' : '>='}${fmt(r.target)}`,
    verdict(r),
    String(r.gc),
    fmtBytes(r.heapGrowth),
    `${r.ctx.voluntary}/${r.ctx.involuntary}`,
    r.cpuPerWall.toFixed(2),
    Object.entries(r.peers)
      .map(([name, v]) => `${name} ${fmt(v)} x${fmt(r.ratios[name] ?? Number.NaN)}`)
      .join('; '),
  ]);
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((row) => row[c]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, c) => cell.padEnd(widths[c]!))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)];
}

function fmtBytes(b: number): string {
  const abs = Math.abs(b);
  if (abs >= 1 << 20) return `${(b / (1 << 20)).toFixed(1)}MB`;
  if (abs >= 1 << 10) return `${(b / (1 << 10)).toFixed(0)}kB`;
  return `${b}B`;
}

/** One row of `bot4 bench --compare`: an id's medians in two result files and the change between them. */
export interface ComparisonRow {
  id: string;
  unit: string;
  old: number | null;
  new: number | null;
  /** new vs old oriented by the id's `better`, so > 1 means the new run is better (x1.25 = 25% better). */
  ratio: number | null;
}

function readResults(file: string): Map<string, BenchRecord> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Bot4Error(
      ErrorCode.INVALID_ARGUMENT,
      `--compare: cannot read ${file} as bench results JSON (bot4 bench --json FILE writes one): ${(e as Error).message}`,
      { file },
    );
  }
  const results = (parsed as { results?: unknown }).results;
  if (!Array.isArray(results)) {
    throw new Bot4Error(
      ErrorCode.INVALID_ARGUMENT,
      `--compare: ${file} has no "results" array (bot4 bench --json FILE writes one)`,
      { file },
    );
  }
  return new Map((results as BenchRecord[]).map((r) => [r.id, r]));
}

/** Compares two `bench --json` files id by id (ids of either file; a missing or skipped side gives null). */
export function compareResults(oldFile: string, newFile: string): ComparisonRow[] {
  const a = readResults(oldFile);
  const b = readResults(newFile);
  const ids = [...new Set([...a.keys(), ...b.keys()])];
  return ids.map((id) => {
    const x = a.get(id);
    const y = b.get(id);
    const old = x === undefined || x.median === null || Number.isNaN(x.median) ? null : x.median;
    const cur = y === undefined || y.median === null || Number.isNaN(y.median) ? null : y.median;
    const better = (y ?? x)!.better;
    const ratio =
      old === null || cur === null || old === 0 || cur === 0
        ? null
        : better === 'lower'
          ? old / cur
          : cur / old;
    return { id, unit: (y ?? x)!.unit, old, new: cur, ratio };
  });
}

export function formatComparison(rows: readonly ComparisonRow[]): string[] {
  const header = ['benchmark', 'old', 'new', 'unit', 'new vs old (>1 = better)'];
  const cells = rows.map((r) => [
    r.id,
    fmt(r.old),
    fmt(r.new),
    r.unit,
    r.ratio === null
      ? '-'
      : `x${r.ratio.toFixed(2)}${r.ratio >= 1.05 ? ' better' : r.ratio <= 0.95 ? ' WORSE' : ''}`,
  ]);
  const widths = header.map((h, c) => Math.max(h.length, ...cells.map((row) => row[c]!.length)));
  const line = (row: string[]) =>
    row
      .map((cell, c) => cell.padEnd(widths[c]!))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)];
}
