// Kept runs: every backtest without --out writes its report into a new folder reports/<time>-<strategy>/ and
// points the link reports/latest at it, so runs pile up to be listed and compared instead of overwriting one
// another. A run is any folder holding a report.json (an --out folder under the reports root counts too).
// Names: <UTC yyyymmdd-hhmmss>-<strategy slug>, with -2, -3... when a name is taken; they sort by time.
// Invariant: the latest link is replaced atomically (a new link renamed over it) and never written through.

import {
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  renameSync,
  rmSync,
  type Stats,
  symlinkSync,
  unlinkSync,
} from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { Bot4Error, ErrorCode } from '../core/errors.ts';
import { type Analysis, type AnalysisOptions, analyse } from './analysis.ts';
import { textTable } from './analysis-format.ts';
import { type BacktestReport, type ReportPaths, writeReport } from './report.ts';
import { formatDuration, formatMoneyUnits, formatPct, formatRatio } from './report-format.ts';
import { allTrades, TRADES_FILE } from './report-tables.ts';

/** The default reports root, relative to the working folder. */
export const REPORTS_DIR = 'reports';
export const LATEST = 'latest';

/** 'ema-cross' -> 'ema-cross'; 'examples/my-strategy.ts:Fast' -> 'my-strategy-fast'; several joined by '+'. */
export function strategySlug(strategy: string | readonly string[]): string {
  const one = (s: string): string => {
    const [file = '', exp] = s.split(':');
    const base = basename(file).replace(/\.(m?[jt]s)$/, '');
    const text = exp === undefined || exp === '' ? base : `${base}-${exp}`;
    return (
      text
        .toLowerCase()
        .replace(/[^a-z0-9]+/g, '-')
        .replace(/^-+|-+$/g, '') || 'strategy'
    );
  };
  const list = typeof strategy === 'string' ? [strategy] : strategy;
  return list.length === 0 ? 'strategy' : list.map(one).join('+').slice(0, 80);
}

/** '2026-12-07T16:16:25.123Z' -> '20261207-161625' (UTC). */
export function runTime(iso: string): string {
  const d = new Date(iso);
  const t = Number.isNaN(d.getTime()) ? new Date(0) : d;
  return t.toISOString().slice(0, 19).replace(/[-:]/g, '').replace('T', '-');
}

/** Creates reports/<time>-<slug> (or -2, -3... when taken) and returns its absolute path. */
export function newRunDir(root: string, createdAt: string, slug: string): string {
  const base = `${runTime(createdAt)}-${slug}`;
  mkdirSync(resolve(root), { recursive: true });
  for (let k = 1; ; k++) {
    const dir = resolve(root, k === 1 ? base : `${base}-${k}`);
    try {
      mkdirSync(dir);
      return dir;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
  }
}

/**
 * Points root/latest at `dir` (a relative link). A `latest` that is a real folder (what Bot4 wrote before runs
 * were kept) is kept as a run under its own time-strategy name first; returns a note saying so.
 */
export function linkLatest(root: string, dir: string): string | undefined {
  const abs = resolve(root);
  const link = join(abs, LATEST);
  let note: string | undefined;
  const st = lstatOrNull(link);
  if (st !== null && !st.isSymbolicLink()) {
    const old = readReportOrNull(join(link, 'report.json'));
    const keep = newRunDir(
      abs,
      old?.createdAt ?? st.mtime.toISOString(),
      `${strategySlug(old?.meta.strategy ?? 'strategy')}-was-latest`,
    );
    rmSync(keep, { recursive: true });
    renameSync(link, keep);
    note = `${link} was a folder, not a link: kept as ${keep}`;
  }
  const tmp = join(abs, `.${LATEST}.${process.pid}`);
  rmSync(tmp, { force: true });
  symlinkSync(basename(dir), tmp, 'dir');
  renameSync(tmp, link);
  return note;
}

function lstatOrNull(path: string): Stats | null {
  try {
    return lstatSync(path);
  } catch {
    return null;
  }
}

function readReportOrNull(path: string): BacktestReport | null {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as BacktestReport;
  } catch {
    return null;
  }
}

export interface WriteRunOptions {
  /** --out: write exactly there (not kept, the latest link unchanged). */
  readonly out?: string;
  /** Reports root of kept runs (default REPORTS_DIR). */
  readonly root?: string;
  readonly strategy: string | readonly string[];
  readonly analysis?: AnalysisOptions;
  /** --full-report: every trade and fill also in trades.jsonl and fills.jsonl beside the report. */
  readonly fullTables?: boolean;
}

export interface WrittenRun {
  readonly dir: string;
  readonly paths: ReportPaths;
  /** True when written as a kept run (and linked as latest). */
  readonly kept: boolean;
  /** The analysis written with the report. */
  readonly analysis: Analysis;
  readonly notes: string[];
}

/** Where a backtest's report goes: --out when given, else a new kept run linked as latest. */
export function writeRun(written: BacktestReport, options: WriteRunOptions): WrittenRun {
  const notes: string[] = [];
  const analysis = written.analysis ?? analyse(written, options.analysis);
  const report = { ...written, analysis };
  const write = { fullTables: options.fullTables === true };
  if (options.out !== undefined) {
    const out = resolve(options.out);
    // Writing through a link into a kept run would overwrite that run: replace the link by a folder.
    if (lstatOrNull(out)?.isSymbolicLink() === true) {
      notes.push(
        `${out} was a link (to ${readlinkSync(out)}); replaced by a folder so that run stays as it was`,
      );
      unlinkSync(out);
    }
    const paths = writeReport(out, report, {}, write);
    return { dir: out, paths, kept: false, analysis, notes: [...notes, ...paths.notes] };
  }
  const root = options.root ?? REPORTS_DIR;
  const dir = newRunDir(root, report.createdAt, strategySlug(options.strategy));
  const paths = writeReport(dir, report, {}, write);
  notes.push(...paths.notes);
  const note = linkLatest(root, dir);
  if (note !== undefined) notes.push(note);
  return { dir, paths, kept: true, analysis, notes };
}

// ---- listing and finding runs ---------------------------------------------------------------------------

export interface RunEntry {
  /** Folder name under the root. */
  name: string;
  dir: string;
  report: BacktestReport;
  /** True for the run the latest link points at. */
  latest: boolean;
}

/** Runs under `root` (folders with a report.json, the latest link itself excluded), oldest first. */
export function listRuns(root: string = REPORTS_DIR): RunEntry[] {
  const abs = resolve(root);
  if (!existsSync(abs)) return [];
  const latest =
    lstatOrNull(join(abs, LATEST))?.isSymbolicLink() === true ? readlinkSync(join(abs, LATEST)) : null;
  const out: RunEntry[] = [];
  for (const name of readdirSync(abs).sort()) {
    if (name === LATEST || name.startsWith('.')) continue;
    const dir = join(abs, name);
    const json = join(dir, 'report.json');
    if (!existsSync(json)) continue;
    const report = readReportOrNull(json);
    if (report === null || report.stats === undefined) continue;
    out.push({ name, dir, report, latest: latest !== null && basename(latest) === name });
  }
  return out.sort(
    (a, b) => a.report.createdAt.localeCompare(b.report.createdAt) || a.name.localeCompare(b.name),
  );
}

function readRun(dir: string, name: string): RunEntry {
  const json = dir.endsWith('.json') ? dir : join(dir, 'report.json');
  if (!existsSync(json)) {
    throw new Bot4Error(ErrorCode.NOT_FOUND, `run ${name}: ${json} does not exist`, { run: name });
  }
  const report = readReportOrNull(json);
  if (report === null || report.stats === undefined || !Array.isArray(report.trades)) {
    throw new Bot4Error(ErrorCode.DATA_MALFORMED, `run ${name}: ${json} is not a Bot4 backtest report`, {
      run: name,
    });
  }
  return { name, dir: dirname(resolve(json)), report, latest: false };
}

/**
 * The run with every trade (from its trades.jsonl when the report's table was cut and the file is there), and
 * a note when only the embedded part could be had.
 */
export function withAllTrades(run: RunEntry): { run: RunEntry; note?: string } {
  const { trades, complete } = allTrades(run.dir, run.report);
  const t = run.report.tables?.trades;
  return {
    run: { ...run, report: { ...run.report, trades } },
    ...(complete || t === undefined
      ? {}
      : {
          note: `run ${run.name}: its report embeds ${t.embedded} of ${t.total} trades (no ${TRADES_FILE}: run it with --full-report for all); trade differences cover the embedded ones only`,
        }),
  };
}

/**
 * A run named by the user: a folder or report.json path, `latest`, `latest~N` (the N-th run before the
 * latest, in time order), a run's folder name, or a part of one that names a single run.
 */
export function findRun(ref: string, root: string = REPORTS_DIR): RunEntry {
  const tilde = /^latest~(\d+)$/.exec(ref);
  if (ref === LATEST || tilde !== null) {
    const runs = listRuns(root);
    let at = runs.findIndex((r) => r.latest);
    if (at < 0) at = runs.length - 1;
    const k = at - Number(tilde?.[1] ?? 0);
    if (at < 0 || k < 0) {
      throw new Bot4Error(
        ErrorCode.NOT_FOUND,
        `run ${ref}: ${runs.length === 0 ? `no runs under ${resolve(root)}` : `only ${at + 1} run(s) up to the latest under ${resolve(root)}`}`,
        { run: ref },
      );
    }
    return runs[k]!;
  }
  if (existsSync(ref)) return readRun(ref, ref);
  const runs = listRuns(root);
  const exact = runs.find((r) => r.name === ref);
  if (exact !== undefined) return exact;
  const some = runs.filter((r) => r.name.includes(ref));
  if (some.length === 1) return some[0]!;
  throw new Bot4Error(
    ErrorCode.NOT_FOUND,
    some.length === 0
      ? `run ${ref}: no such folder and no run under ${resolve(root)} has it in its name (bot4 report ls lists them)`
      : `run ${ref}: names ${some.length} runs (${some
          .slice(0, 5)
          .map((r) => r.name)
          .join(', ')}${some.length > 5 ? ', ...' : ''}); give more of the name`,
    { run: ref },
  );
}

/** The runs as a table: name (* = latest), strategy, data, period, and the headline figures. */
export function runsTable(runs: readonly RunEntry[], root: string = REPORTS_DIR): string {
  return textTable({
    title: `Backtest runs under ${resolve(root)} (${runs.length}, oldest first; * = latest)`,
    head: [
      'Run',
      'Strategy',
      'Data',
      'Length',
      'Net profit',
      'Return',
      'Max DD',
      'Sharpe',
      'Trades',
      'Win rate',
    ],
    left: [1, 2],
    rows: runs.map((r) => {
      const s = r.report.stats;
      const data = r.report.meta.data;
      return [
        `${r.latest ? '* ' : '  '}${r.name}`,
        r.report.meta.strategy,
        data.length > 40 ? `...${data.slice(-37)}` : data,
        formatDuration(s.durationMicros),
        formatMoneyUnits(s.netProfit, s.currency, true),
        formatPct(s.totalReturn, 2, true),
        formatPct(s.maxDrawdown === 0 ? 0 : -s.maxDrawdown),
        formatRatio(s.sharpe),
        String(s.trades),
        formatPct(s.winRate, 1),
      ];
    }),
    ...(runs.length === 0 ? { note: 'run `bot4 backtest` to make one' } : {}),
  });
}
