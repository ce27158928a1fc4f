// Bounded report tables: report.json and report.html embed at most REPORT_MAX_TRADES trades and
// REPORT_MAX_FILLS fills whatever the run length (a 1M-bar run has ~18k trades, ~37k fills: 10+ MB of JSON).
// Kept: the first and last trades (by id) plus the best and worst by net PnL; the first and last fills. The
// report's `tables` says how many rows each table had and how many it embeds, and a note says so: nothing is
// silently lost. Statistics and the analysis are computed from every row before the tables are cut (report.ts).
// The full tables go to JSON-lines side files (trades.jsonl, fills.jsonl: one object a line) only when asked;
// `tables.files` names them (relative to the report's folder) and readers that need every trade load them.

import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Trade } from './recorder.ts';
import type { BacktestReport, ReportFills } from './report.ts';

/** Most trades a written report embeds: first and last REPORT_EDGE_TRADES, best and worst REPORT_EXTREME_TRADES. */
export const REPORT_MAX_TRADES = 1000;
const REPORT_EXTREME_TRADES = 100;
/** Most fills a written report embeds: the first and last half of it. */
export const REPORT_MAX_FILLS = 2000;

export const TRADES_FILE = 'trades.jsonl';
export const FILLS_FILE = 'fills.jsonl';

/** The backtest command's option asking for the side files (WriteReportOptions.fullTables). */
export const FULL_REPORT_OPTION = [
  '--full-report',
  `also write every trade and fill to ${TRADES_FILE} and ${FILLS_FILE} (the report embeds at most ${REPORT_MAX_TRADES} trades and ${REPORT_MAX_FILLS} fills)`,
] as const;

export interface TableCount {
  /** Rows the run produced. */
  total: number;
  /** Rows embedded in this report. */
  embedded: number;
}

export interface ReportTables {
  trades: TableCount;
  fills: TableCount;
  /** The side files holding every row, relative to the report's folder (absent unless asked for). */
  files?: { trades: string; fills: string };
}

/** Indices of the trades kept: first and last by id, best and worst by net PnL; ascending. */
export function keptTradeIndices(trades: readonly Trade[], max: number = REPORT_MAX_TRADES): number[] {
  const n = trades.length;
  if (n <= max) return Array.from({ length: n }, (_, i) => i);
  const extreme = Math.min(REPORT_EXTREME_TRADES, max >> 2);
  const edge = (max - 2 * extreme) >> 1;
  const keep = new Set<number>();
  for (let i = 0; i < edge; i++) {
    keep.add(i);
    keep.add(n - 1 - i);
  }
  // An odd remainder: one more from the front, so exactly `max` rows are kept.
  if (((max - 2 * extreme) & 1) === 1) keep.add(edge);
  const byPnl = Array.from({ length: n }, (_, i) => i).sort(
    (a, b) => trades[a]!.netPnl - trades[b]!.netPnl || a - b,
  );
  // Worst and best not already kept, so the bound holds exactly (n > max leaves enough of both).
  const addFrom = (start: number, step: number): void => {
    for (let i = start, k = 0; k < extreme && i >= 0 && i < n; i += step) {
      if (keep.has(byPnl[i]!)) continue;
      keep.add(byPnl[i]!);
      k++;
    }
  };
  addFrom(0, 1);
  addFrom(n - 1, -1);
  return [...keep].sort((a, b) => a - b);
}

function fillRows(f: ReportFills, max: number): number[] | undefined {
  const n = f.ts.length;
  if (n <= max) return undefined;
  const half = max >> 1;
  const out: number[] = [];
  for (let i = 0; i < half; i++) out.push(i);
  for (let i = n - (max - half); i < n; i++) out.push(i);
  return out;
}

function pickFills(f: ReportFills, rows: readonly number[]): ReportFills {
  const col = (a: readonly number[]): number[] => rows.map((i) => a[i]!);
  return {
    ts: col(f.ts),
    slot: col(f.slot),
    side: col(f.side),
    qty: col(f.qty),
    px: col(f.px),
    notional: col(f.notional),
    fee: col(f.fee),
    realised: col(f.realised),
    liquidity: col(f.liquidity),
    positionSide: col(f.positionSide),
    orderId: col(f.orderId),
    ...(f.orderType === undefined ? {} : { orderType: col(f.orderType) }),
  };
}

/** True when a report read from disk embeds fewer trades than its run had. */
export function tradesCut(report: BacktestReport): boolean {
  const t = report.tables?.trades;
  return t !== undefined && t.embedded < t.total;
}

/**
 * The report as written: trades and fills cut to the bounds, `tables` filled in and a note per cut table
 * (returned too, for standard error). `sideFiles` names the full tables' files in the report.
 */
export function boundTables(
  report: BacktestReport,
  sideFiles: boolean,
): { report: BacktestReport; notes: string[] } {
  const trades = report.trades;
  const fills = report.fills;
  const keptTrades = keptTradeIndices(trades);
  const keptFills = fillRows(fills, REPORT_MAX_FILLS);
  const tables: ReportTables = {
    trades: { total: trades.length, embedded: keptTrades.length },
    fills: { total: fills.ts.length, embedded: keptFills?.length ?? fills.ts.length },
    ...(sideFiles ? { files: { trades: TRADES_FILE, fills: FILLS_FILE } } : {}),
  };
  const where = sideFiles
    ? `every row is in ${TRADES_FILE} and ${FILLS_FILE} beside this report`
    : 'run with --full-report to write every row to trades.jsonl and fills.jsonl';
  const notes: string[] = [];
  if (keptTrades.length < trades.length) {
    notes.push(
      `the trades table embeds ${keptTrades.length} of ${trades.length} trades (the first and last by id, the best and worst by net PnL; ${trades.length - keptTrades.length} omitted); the statistics and analysis use all of them; ${where}`,
    );
  }
  if (keptFills !== undefined) {
    notes.push(
      `the fills table embeds ${keptFills.length} of ${fills.ts.length} fills (the first and last; ${fills.ts.length - keptFills.length} omitted); the statistics use all of them; ${where}`,
    );
  }
  return {
    report: {
      ...report,
      trades: keptTrades.length < trades.length ? keptTrades.map((i) => trades[i]!) : trades,
      fills: keptFills === undefined ? fills : pickFills(fills, keptFills),
      tables,
      notes: [...report.notes, ...notes],
    },
    notes,
  };
}

/** Writes every trade and fill as JSON lines into `dir`; returns the two paths. */
export function writeTableFiles(dir: string, report: BacktestReport): { trades: string; fills: string } {
  const trades = join(dir, TRADES_FILE);
  const fills = join(dir, FILLS_FILE);
  writeFileSync(trades, report.trades.map((t) => `${JSON.stringify(t)}\n`).join(''));
  const f = report.fills;
  const keys = Object.keys(f) as (keyof ReportFills)[];
  const lines: string[] = [];
  for (let i = 0; i < f.ts.length; i++) {
    const row: Record<string, number> = {};
    for (const k of keys) row[k] = f[k]![i]!;
    lines.push(`${JSON.stringify(row)}\n`);
  }
  writeFileSync(fills, lines.join(''));
  return { trades, fills };
}

/**
 * Every trade of a report read from `dir`: from its side file when the report names one that exists, else the
 * embedded ones; `complete` is false when the embedded table was cut and no side file was found.
 */
export function allTrades(dir: string, report: BacktestReport): { trades: Trade[]; complete: boolean } {
  const file = report.tables?.files?.trades;
  if (file !== undefined && existsSync(join(dir, file))) {
    const text = readFileSync(join(dir, file), 'utf8');
    const trades = text
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as Trade);
    return { trades, complete: true };
  }
  return { trades: report.trades, complete: !tradesCut(report) };
}
