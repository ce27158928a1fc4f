// The backtest report: one JSON document (statistics, parameters, trades, fills, the full equity curve and
// prices, a fingerprint and run metadata) and a self-contained HTML page rendered from it (report-html.ts).
// Units in the JSON: money integer units of `currency` (10^-precision), prices ticks, quantities lots, micros.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { wallMicros } from '../core/clock.ts';
import { feeRateToDecimal } from '../model/instrument.ts';
import { type Analysis, type AnalysisOptions, analyse } from './analysis.ts';
import { formatAnalysis } from './analysis-format.ts';
import type { Breakdown } from './breakdown.ts';
import type { Recording, Trade } from './recorder.ts';
import { formatSummary } from './report-format.ts';
import { downsampleIndices, renderHtml } from './report-html.ts';
import { boundTables, type ReportTables, writeTableFiles } from './report-tables.ts';
import type { BacktestStats } from './stats.ts';

export { formatSummary };

export const REPORT_FORMAT = 'bot4.backtest-report';
export const REPORT_VERSION = 1;

/**
 * Most equity samples a report carries: a longer curve is thinned (each stretch's low and high of every series
 * kept), so report.json and report.html stay a few MB whatever the run length. Statistics use every sample.
 */
export const REPORT_MAX_SAMPLES = 20_000;

/** What the runner knows about the run that the recording does not. */
export interface RunMetadata {
  /** Strategy name (and version, if it has one). */
  readonly strategy: string;
  /** What data the run replayed: a catalog query, file list or dataset id. */
  readonly data: string;
  /** The requested time range, micros; defaults to the recording's first and last sample. */
  readonly startTs?: number;
  readonly endTs?: number;
  readonly eventsProcessed: number;
  /** Wall-clock duration of the run, milliseconds. */
  readonly wallTimeMs: number;
  /** True when the run was stopped (Ctrl-C) before its data ended. */
  readonly partial?: boolean;
  /** Free-form extras (engine version, host, seed...). */
  readonly extra?: Readonly<Record<string, unknown>>;
}

export interface ReportInput {
  readonly recording: Recording;
  readonly stats: BacktestStats;
  /** Identifies the run's inputs (config, code, data); computed by the runner. */
  readonly fingerprint: string;
  readonly meta: RunMetadata;
  /** The strategy's parameters as configured. */
  readonly parameters?: Readonly<Record<string, unknown>>;
  /** ISO time the report was made; default now (pass one to make reports byte-for-byte reproducible). */
  readonly createdAt?: string;
  /** Notes from outside the recording (rows the loaders skipped or repaired, late rows, risk limits that acted...), listed first. */
  readonly notes?: readonly string[];
}

export interface ReportInstrument {
  /** Index used by trades (`slot`), fills and `prices`. */
  slot: number;
  id: number;
  key: string;
  symbol: string;
  venue: string;
  kind: number;
  tickSize: string;
  lotSize: string;
  pricePrecision: number;
  sizePrecision: number;
  /** Fee rates charged, as fractions ("0.0002" = 0.02%; negative = rebate), and where they came from. */
  makerFee: string;
  takerFee: string;
  feeSource: string;
}

/** Columnar, so 100k rows stay compact: row i of every array is one fill. */
export interface ReportFills {
  ts: number[];
  slot: number[];
  side: number[];
  qty: number[];
  px: number[];
  notional: number[];
  fee: number[];
  realised: number[];
  liquidity: number[];
  positionSide: number[];
  orderId: number[];
  /** OrderType code of the fill's order, 0 when not known (absent in reports made before it was recorded). */
  orderType?: number[];
}

export interface ReportFundings {
  ts: number[];
  slot: number[];
  positionSide: number[];
  amount: number[];
}

export interface BacktestReport {
  format: typeof REPORT_FORMAT;
  version: typeof REPORT_VERSION;
  fingerprint: string;
  createdAt: string;
  meta: {
    strategy: string;
    data: string;
    startTs: number;
    endTs: number;
    eventsProcessed: number;
    wallTimeMs: number;
    /** Events per second of wall time. */
    eventsPerSecond: number | null;
    /** True when the run was stopped (Ctrl-C) before its data ended: the figures cover what ran. */
    partial: boolean;
    extra: Record<string, unknown>;
  };
  parameters: Record<string, unknown>;
  currency: { code: string; precision: number };
  instruments: ReportInstrument[];
  stats: BacktestStats;
  trades: Trade[];
  fills: ReportFills;
  fundings: ReportFundings;
  /**
   * The sampled curve, thinned to at most REPORT_MAX_SAMPLES (sourceSamples says how many were recorded; the
   * statistics use all of them): row i of every array is one sample.
   */
  equity: {
    intervalMicros: number;
    sourceSamples: number;
    ts: number[];
    equity: number[];
    cash: number[];
    grossExposure: number[];
  };
  /** Per instrument slot, its price in ticks at each (kept) equity sample; null before its first price. */
  prices: (number | null)[][];
  /** Things a reader should know (rows the data loaders skipped or repaired, funding outside any trade...). */
  notes: string[];
  /** Periods, exit reasons, drawdowns, return distribution, Monte Carlo (analysis.ts); writeReport adds it. */
  analysis?: Analysis;
  /** Per-instrument and per-strategy tables of a run with several instruments or strategies (breakdown.ts). */
  breakdown?: Breakdown;
  /**
   * Set in a written report: rows each table had and how many it embeds (report-tables.ts), and the side files
   * holding every row when asked for. Absent in memory (every row is there) and in reports made before.
   */
  tables?: ReportTables;
}

function list(a: ArrayLike<number>): number[] {
  return Array.from(a);
}

/** Assembles the report document from a recording, its statistics and the runner's metadata. */
export function buildReport(input: ReportInput): BacktestReport {
  const rec = input.recording;
  const f = rec.fills;
  const u = rec.fundings;
  const notes: string[] = [...(input.notes ?? [])];
  if (rec.unattributedFunding !== 0) {
    notes.push(
      `${rec.unattributedFunding} ${rec.currency.code} units of funding were paid while no trade was open on the instrument; they count in the statistics' funding but in no trade`,
    );
  }
  if (rec.foreignFeeFills > 0) {
    notes.push(
      `${rec.foreignFeeFills} fills paid their fee in another currency than ${rec.currency.code}; those fees are not in the figures`,
    );
  }
  const c = rec.curve;
  const total = c.ts.length;
  const series = [c.equity, c.cash, c.grossExposure, ...rec.prices];
  let kept: number[] | undefined;
  if (total > REPORT_MAX_SAMPLES) {
    // Buckets keep up to two samples per series each, but the series' lows and highs mostly coincide: start at
    // half the bound and shrink until the kept samples fit it.
    for (let buckets = REPORT_MAX_SAMPLES >> 1; kept === undefined || kept.length > REPORT_MAX_SAMPLES; ) {
      if (kept !== undefined) buckets = Math.floor((buckets * REPORT_MAX_SAMPLES * 0.9) / kept.length);
      kept = downsampleIndices(total, series, buckets);
    }
  }
  const pick = (a: ArrayLike<number>): number[] => (kept === undefined ? list(a) : kept.map((i) => a[i]!));
  if (kept !== undefined) {
    notes.push(
      `the equity curve's ${total} samples are thinned to ${kept.length} in this report (each stretch's low and high kept); the statistics use all of them`,
    );
  }
  const m = input.meta;
  const wall = m.wallTimeMs;
  return {
    format: REPORT_FORMAT,
    version: REPORT_VERSION,
    fingerprint: input.fingerprint,
    createdAt: input.createdAt ?? new Date(Math.floor(wallMicros() / 1000)).toISOString(),
    meta: {
      strategy: m.strategy,
      data: m.data,
      startTs: m.startTs ?? rec.startTs,
      endTs: m.endTs ?? rec.endTs,
      eventsProcessed: m.eventsProcessed,
      wallTimeMs: wall,
      eventsPerSecond: wall > 0 ? (m.eventsProcessed * 1000) / wall : null,
      partial: m.partial === true,
      extra: { ...(m.extra ?? {}) },
    },
    parameters: { ...(input.parameters ?? {}) },
    currency: { code: rec.currency.code, precision: rec.currency.precision },
    instruments: rec.instruments.map((inst, slot) => ({
      slot,
      id: inst.id,
      key: inst.key,
      symbol: inst.symbol,
      venue: inst.venue,
      kind: inst.kind,
      tickSize: inst.tickSize.text,
      lotSize: inst.lotSize.text,
      pricePrecision: inst.pricePrecision,
      sizePrecision: inst.sizePrecision,
      makerFee: feeRateToDecimal(inst.makerFee),
      takerFee: feeRateToDecimal(inst.takerFee),
      feeSource: inst.feeSource,
    })),
    stats: input.stats,
    trades: rec.trades,
    fills: {
      ts: list(f.ts),
      slot: list(f.slot),
      side: list(f.side),
      qty: list(f.qty),
      px: list(f.px),
      notional: list(f.notional),
      fee: list(f.fee),
      realised: list(f.realised),
      liquidity: list(f.liquidity),
      positionSide: list(f.positionSide),
      orderId: list(f.orderId),
      orderType: f.orderType === undefined ? new Array<number>(f.length).fill(0) : list(f.orderType),
    },
    fundings: {
      ts: list(u.ts),
      slot: list(u.slot),
      positionSide: list(u.positionSide),
      amount: list(u.amount),
    },
    equity: {
      intervalMicros: rec.intervalMicros,
      sourceSamples: total,
      ts: pick(c.ts),
      equity: pick(c.equity),
      cash: pick(c.cash),
      grossExposure: pick(c.grossExposure),
    },
    prices: rec.prices.map((p) => pick(p).map((x) => (Number.isNaN(x) ? null : x))),
    notes,
  };
}

/** The report as JSON text (compact: a 100k-sample curve stays a few MB). NaN never appears: it is null. */
export function reportToJson(report: BacktestReport): string {
  return JSON.stringify(report);
}

export interface ReportPaths {
  json: string;
  html: string;
  text: string;
  /** The full tables' side files, when asked for (WriteReportOptions.fullTables). */
  trades?: string;
  fills?: string;
  /** What the written tables omit (also in the report's notes), for standard error; empty when nothing. */
  notes: string[];
}

export interface WriteReportOptions {
  /** Also write every trade and fill to trades.jsonl and fills.jsonl (the report embeds a bounded part). */
  readonly fullTables?: boolean;
}

/** The text report: the summary table, the analysis tables, then the report's notes (unless `notes` is false). */
export function reportText(report: BacktestReport, notes = true): string {
  const a = report.analysis ?? analyse(report);
  const tail =
    notes && report.notes.length > 0
      ? `\nNotes\n-----\n${report.notes.map((n) => `- ${n}`).join('\n')}\n`
      : '';
  return `${formatSummary(report.stats)}\n\n${formatAnalysis(a, report.stats.currency)}\n${tail}`;
}

/**
 * Writes report.json, report.html and report.txt into `dir` (created if missing), with the analysis (computed
 * with `analysis` options from every trade unless the report has one); the trades and fills tables are then
 * cut to a bounded size (report-tables.ts), the full ones written beside when `options.fullTables`. Returns the
 * absolute paths.
 */
export function writeReport(
  dir: string,
  report: BacktestReport,
  analysis: AnalysisOptions = {},
  options: WriteReportOptions = {},
): ReportPaths {
  const root = resolve(dir);
  mkdirSync(root, { recursive: true });
  const full: BacktestReport = { ...report, analysis: report.analysis ?? analyse(report, analysis) };
  const sideFiles = options.fullTables === true;
  const bounded = boundTables(full, sideFiles);
  const json = join(root, 'report.json');
  const html = join(root, 'report.html');
  const text = join(root, 'report.txt');
  writeFileSync(json, reportToJson(bounded.report));
  writeFileSync(html, renderHtml(bounded.report));
  writeFileSync(text, reportText(bounded.report));
  const files = sideFiles ? writeTableFiles(root, full) : {};
  return { json, html, text, ...files, notes: bounded.notes };
}
