// Freqtrade-grade analysis of a finished backtest, computed from its report (so it works on any report.json,
// also one written before this module existed): results by day/week/month, by exit reason, by hour of day and
// weekday of entry, the drawdown episodes of the equity curve, the distribution of trade returns, and a seeded
// Monte Carlo of the trade sequence. Pure: the same report and options give the same analysis, bit for bit.
// Units: money integer units of the report currency (sums exact while below 2^53), times micros since the epoch
// (UTC), returns fractions. Trade tables cover closed trades (as the statistics do); open ones are counted.
// Invariants (analysis.test.ts): each period table's trade PnL sums to the closed trades' total and its equity
// changes to end - start equity; group tables partition the closed trades; Monte Carlo percentiles ascend.

import { OrderType } from '../model/order.ts';
import { Prng } from '../venues/sim/rng.ts';
import type { Trade } from './recorder.ts';
import type { BacktestReport } from './report.ts';

export const ANALYSIS_VERSION = 1;
export const MONTE_CARLO_RUNS = 1000;
export const MONTE_CARLO_SEED = 1;
/** Drawdown episodes listed (deepest first); the count of all is given beside them. */
export const DRAWDOWNS_LISTED = 10;
/** Bars of the trade-return histogram. */
export const RETURN_BINS = 20;
/** The percentiles the distribution and the Monte Carlo report, in ascending order. */
export const PERCENTILES = [5, 25, 50, 75, 95] as const;

const DAY = 86_400_000_000;
const HOUR = 3_600_000_000;
export const WEEKDAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'] as const;

export interface AnalysisOptions {
  /** Monte Carlo paths (0: none). Default MONTE_CARLO_RUNS. */
  readonly runs?: number;
  /** Seed of the Monte Carlo's random numbers. Default MONTE_CARLO_SEED. */
  readonly seed?: number;
}

/** Closed trades of one group (an exit reason, an hour, a period...). */
export interface GroupRow {
  key: string;
  trades: number;
  wins: number;
  losses: number;
  /** Sum of the trades' net PnL (after fees and funding), money units. */
  netPnl: number;
  fees: number;
  /** Mean of returnFraction; null without trades. */
  avgReturn: number | null;
  /** wins / trades; null without trades. */
  winRate: number | null;
  avgDurationMicros: number | null;
}

/** A calendar period: closed trades by exit time, and the equity change over the period. */
export interface PeriodRow extends GroupRow {
  /** Period start and end (exclusive), micros UTC. */
  start: number;
  end: number;
  /** Equity at the last sample before the period began (the run's first sample for the first period). */
  startEquity: number;
  /** Equity at the period's last sample (startEquity when it has none). */
  endEquity: number;
  /** endEquity / startEquity - 1; null when startEquity <= 0. */
  return: number | null;
}

export interface DrawdownEpisode {
  peakTs: number;
  troughTs: number;
  /** First sample back at (or above) the peak; null when the run ended under water. */
  recoveryTs: number | null;
  peakEquity: number;
  troughEquity: number;
  /** (peak - trough) / peak. */
  depth: number;
  depthMoney: number;
  /** Peak to recovery, or peak to the last sample when not recovered. */
  durationMicros: number;
}

export type Percentiles = Record<`p${(typeof PERCENTILES)[number]}`, number>;

export interface ReturnDistribution {
  count: number;
  mean: number | null;
  /** Sample standard deviation (n - 1); null below two trades. */
  stdev: number | null;
  min: number | null;
  max: number | null;
  percentiles: Percentiles | null;
  /** Equal-width bins from min to max (the last one closed); their counts add up to `count`. */
  bins: { lo: number; hi: number; count: number }[];
}

export interface MonteCarlo {
  runs: number;
  seed: number;
  /** Trades per path: as many as the run closed, drawn with replacement. */
  trades: number;
  startEquity: number;
  /** Total return of a path: sum of its trades' net PnL / start equity. */
  totalReturn: Percentiles;
  /** Largest fall from a running peak of a path's equity after each trade, fraction (1 = all lost). */
  maxDrawdown: Percentiles;
  /** Share of paths that ended below the start. */
  lossProbability: number;
  /** The same two figures for the trades in the order they happened. */
  observed: { totalReturn: number; maxDrawdown: number };
}

export interface Analysis {
  version: typeof ANALYSIS_VERSION;
  closedTrades: number;
  openTrades: number;
  periods: { day: PeriodRow[]; week: PeriodRow[]; month: PeriodRow[] };
  exitReasons: GroupRow[];
  /** 24 rows, hour of the entry (UTC). */
  hourOfDay: GroupRow[];
  /** 7 rows, Monday first, weekday of the entry (UTC). */
  weekday: GroupRow[];
  drawdowns: { count: number; listed: DrawdownEpisode[] };
  returns: ReturnDistribution;
  /** null without closed trades or with runs = 0. */
  monteCarlo: MonteCarlo | null;
}

/** What the analysis reads of a report (older reports lack fills.orderType: their exits are 'unknown'). */
export type AnalysisInput = Pick<BacktestReport, 'trades' | 'equity' | 'stats'> & {
  fills: Pick<BacktestReport['fills'], 'ts' | 'slot' | 'side' | 'positionSide'> & { orderType?: number[] };
};

// ---- groups ----------------------------------------------------------------------------------------------

class Acc {
  trades = 0;
  wins = 0;
  losses = 0;
  netPnl = 0;
  fees = 0;
  sumReturn = 0;
  sumDuration = 0;

  add(t: Trade): void {
    this.trades++;
    if (t.netPnl > 0) this.wins++;
    else if (t.netPnl < 0) this.losses++;
    this.netPnl += t.netPnl;
    this.fees += t.fees;
    this.sumReturn += t.returnFraction;
    this.sumDuration += t.durationMicros ?? 0;
  }

  row(key: string): GroupRow {
    const n = this.trades;
    return {
      key,
      trades: n,
      wins: this.wins,
      losses: this.losses,
      netPnl: this.netPnl,
      fees: this.fees,
      avgReturn: n === 0 ? null : this.sumReturn / n,
      winRate: n === 0 ? null : this.wins / n,
      avgDurationMicros: n === 0 ? null : this.sumDuration / n,
    };
  }
}

function groupBy(trades: readonly Trade[], keys: readonly string[], keyOf: (t: Trade) => number): GroupRow[] {
  const acc = keys.map(() => new Acc());
  for (const t of trades) acc[keyOf(t)]!.add(t);
  return acc.map((a, i) => a.row(keys[i]!));
}

// ---- exit reasons ----------------------------------------------------------------------------------------

/** The exit reason of an order type: what kind of order took the position back to flat. */
export function exitReasonOf(orderType: number | undefined): string {
  switch (orderType) {
    case OrderType.MARKET:
      return 'market order';
    case OrderType.LIMIT:
      return 'limit order';
    case OrderType.STOP_MARKET:
    case OrderType.STOP_LIMIT:
      return 'stop';
    case OrderType.TRAILING_STOP_MARKET:
    case OrderType.TRAILING_STOP_LIMIT:
      return 'trailing stop';
    case OrderType.MARKET_IF_TOUCHED:
    case OrderType.LIMIT_IF_TOUCHED:
      return 'if touched';
    default:
      return 'unknown';
  }
}

/**
 * Each closed trade's exit reason: the order type of the fill that closed it, i.e. the last fill on its
 * (instrument, position side) at its exit time against its direction.
 */
export function exitReasons(input: AnalysisInput, trades: readonly Trade[]): string[] {
  const f = input.fills;
  const last = new Map<string, number>();
  for (let i = 0; i < f.ts.length; i++) {
    last.set(`${f.slot[i]}|${f.positionSide[i]}|${f.ts[i]}|${f.side[i]}`, i);
  }
  return trades.map((t) => {
    const i = last.get(`${t.slot}|${t.positionSide}|${t.exitTs}|${-t.direction}`);
    return exitReasonOf(i === undefined ? undefined : f.orderType?.[i]);
  });
}

// ---- periods ---------------------------------------------------------------------------------------------

export const PeriodKind = { DAY: 'day', WEEK: 'week', MONTH: 'month' } as const;
export type PeriodKind = (typeof PeriodKind)[keyof typeof PeriodKind];

/** The start (micros, UTC) of the period holding `ts`. Weeks start on Monday. */
export function periodStart(kind: PeriodKind, ts: number): number {
  const dayStart = Math.floor(ts / DAY) * DAY;
  if (kind === 'day') return dayStart;
  if (kind === 'week') {
    const weekday = (new Date(dayStart / 1000).getUTCDay() + 6) % 7;
    return dayStart - weekday * DAY;
  }
  const d = new Date(dayStart / 1000);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1) * 1000;
}

function periodNext(kind: PeriodKind, start: number): number {
  if (kind === 'day') return start + DAY;
  if (kind === 'week') return start + 7 * DAY;
  const d = new Date(start / 1000);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1) * 1000;
}

function periodKey(kind: PeriodKind, start: number): string {
  const iso = new Date(start / 1000).toISOString();
  return kind === 'month' ? iso.slice(0, 7) : iso.slice(0, 10);
}

/**
 * Every period from the one holding the first equity sample to the one holding the last (empty ones too):
 * closed trades by exit time, equity from the last sample inside each period.
 */
export function periodTable(input: AnalysisInput, trades: readonly Trade[], kind: PeriodKind): PeriodRow[] {
  return periodRows(input, byExitTime(trades), kind);
}

/** Closed trades by exit time, then id. */
function byExitTime(trades: readonly Trade[]): Trade[] {
  return trades.slice().sort((a, b) => a.exitTs! - b.exitTs! || a.id - b.id);
}

/** periodTable on trades already in byExitTime order (analyse sorts once for its three tables). */
function periodRows(input: AnalysisInput, sorted: readonly Trade[], kind: PeriodKind): PeriodRow[] {
  const ts = input.equity.ts;
  const eq = input.equity.equity;
  if (ts.length === 0) return [];
  const rows: PeriodRow[] = [];
  const lastTs = Math.max(ts[ts.length - 1]!, sorted.length > 0 ? sorted[sorted.length - 1]!.exitTs! : 0);
  let k = 0;
  let s = 0;
  let equity = eq[0]!;
  for (let start = periodStart(kind, Math.min(ts[0]!, sorted[0]?.exitTs ?? ts[0]!)); start <= lastTs; ) {
    const end = periodNext(kind, start);
    const acc = new Acc();
    while (k < sorted.length && sorted[k]!.exitTs! < end) acc.add(sorted[k++]!);
    const startEquity = equity;
    while (s < ts.length && ts[s]! < end) equity = eq[s++]!;
    rows.push({
      ...acc.row(periodKey(kind, start)),
      start,
      end,
      startEquity,
      endEquity: equity,
      return: startEquity > 0 ? equity / startEquity - 1 : null,
    });
    start = end;
  }
  return rows;
}

// ---- drawdowns -------------------------------------------------------------------------------------------

/** Every stretch under a running peak of the curve, from the peak to the first sample back at it. */
export function drawdownEpisodes(ts: ArrayLike<number>, equity: ArrayLike<number>): DrawdownEpisode[] {
  const out: DrawdownEpisode[] = [];
  const n = equity.length;
  if (n === 0) return out;
  let peak = equity[0]!;
  let peakIdx = 0;
  let troughIdx = -1;
  const close = (recovery: number): void => {
    const trough = equity[troughIdx]!;
    const endIdx = recovery >= 0 ? recovery : n - 1;
    out.push({
      peakTs: ts[peakIdx]!,
      troughTs: ts[troughIdx]!,
      recoveryTs: recovery >= 0 ? ts[recovery]! : null,
      peakEquity: peak,
      troughEquity: trough,
      depth: peak > 0 ? (peak - trough) / peak : 0,
      depthMoney: peak - trough,
      durationMicros: ts[endIdx]! - ts[peakIdx]!,
    });
  };
  for (let i = 1; i < n; i++) {
    const e = equity[i]!;
    if (e >= peak) {
      if (troughIdx >= 0) close(i);
      troughIdx = -1;
      peak = e;
      peakIdx = i;
    } else if (troughIdx < 0 || e < equity[troughIdx]!) {
      troughIdx = i;
    }
  }
  if (troughIdx >= 0) close(-1);
  return out;
}

// ---- distribution ----------------------------------------------------------------------------------------

/** Percentile p (0..100) of ascending `sorted` with linear interpolation between ranks (R's type 7). */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  const n = sorted.length;
  if (n === 0) return Number.NaN;
  const h = ((n - 1) * p) / 100;
  const lo = Math.floor(h);
  const hi = Math.min(n - 1, lo + 1);
  return sorted[lo]! + (h - lo) * (sorted[hi]! - sorted[lo]!);
}

function percentiles(sorted: ArrayLike<number>): Percentiles {
  const out = {} as Percentiles;
  for (const p of PERCENTILES) out[`p${p}`] = percentile(sorted, p);
  return out;
}

export function returnDistribution(returns: readonly number[], bins = RETURN_BINS): ReturnDistribution {
  const n = returns.length;
  if (n === 0) {
    return { count: 0, mean: null, stdev: null, min: null, max: null, percentiles: null, bins: [] };
  }
  const sorted = Float64Array.from(returns).sort();
  let sum = 0;
  for (const r of returns) sum += r;
  const mean = sum / n;
  let ss = 0;
  for (const r of returns) ss += (r - mean) ** 2;
  const min = sorted[0]!;
  const max = sorted[n - 1]!;
  const nb = min === max ? 1 : bins;
  const width = (max - min) / nb;
  const out = Array.from({ length: nb }, (_, i) => ({
    lo: min + i * width,
    hi: i === nb - 1 ? max : min + (i + 1) * width,
    count: 0,
  }));
  for (const r of returns) {
    const i = width === 0 ? 0 : Math.min(nb - 1, Math.floor((r - min) / width));
    out[i]!.count++;
  }
  return {
    count: n,
    mean,
    stdev: n > 1 ? Math.sqrt(ss / (n - 1)) : null,
    min,
    max,
    percentiles: percentiles(sorted),
    bins: out,
  };
}

// ---- Monte Carlo -----------------------------------------------------------------------------------------

/** Return and max drawdown of a start equity followed by these PnLs in order (drawdown 1 once equity <= 0). */
export function pathFigures(
  start: number,
  pnl: ArrayLike<number>,
): { totalReturn: number; maxDrawdown: number } {
  let e = start;
  let peak = start;
  let dd = 0;
  for (let i = 0; i < pnl.length; i++) {
    e += pnl[i]!;
    if (e > peak) peak = e;
    const d = e <= 0 ? 1 : (peak - e) / peak;
    if (d > dd) dd = d;
  }
  return { totalReturn: (e - start) / start, maxDrawdown: dd };
}

/**
 * Bootstrap of the trade sequence: `runs` paths, each as many trades as the run closed, drawn with replacement
 * from its net PnLs (sfc32 seeded with `seed`), applied in money to the start equity. null without trades, or
 * when the start equity is not positive (no return to measure).
 */
export function monteCarlo(
  pnl: readonly number[],
  startEquity: number,
  runs = MONTE_CARLO_RUNS,
  seed = MONTE_CARLO_SEED,
): MonteCarlo | null {
  const n = pnl.length;
  if (n === 0 || runs <= 0 || !(startEquity > 0)) return null;
  const rng = new Prng(seed);
  const returns = new Float64Array(runs);
  const drawdowns = new Float64Array(runs);
  // runs x trades steps (18M for a 1M-bar run): a typed copy of the PnLs, and the drawdown's division only at a
  // new low since the last peak, where (peak - e) / peak can grow (it falls as e rises): the same figures.
  const draws = Float64Array.from(pnl);
  const picks = new Uint32Array(n);
  let losses = 0;
  for (let r = 0; r < runs; r++) {
    let e = startEquity;
    let peak = startEquity;
    let low = startEquity;
    let dd = 0;
    rng.fillInt(picks, n);
    for (let k = 0; k < n; k++) {
      e += draws[picks[k]!]!;
      if (e > peak) {
        peak = e;
        low = e;
      } else if (e < low) {
        low = e;
        const d = e <= 0 ? 1 : (peak - e) / peak;
        if (d > dd) dd = d;
      }
    }
    returns[r] = (e - startEquity) / startEquity;
    drawdowns[r] = dd;
    if (e < startEquity) losses++;
  }
  returns.sort();
  drawdowns.sort();
  return {
    runs,
    seed,
    trades: n,
    startEquity,
    totalReturn: percentiles(returns),
    maxDrawdown: percentiles(drawdowns),
    lossProbability: losses / runs,
    observed: pathFigures(startEquity, pnl),
  };
}

// ---- all of it -------------------------------------------------------------------------------------------

export function analyse(input: AnalysisInput, options: AnalysisOptions = {}): Analysis {
  const closed = input.trades.filter((t) => !t.open && t.exitTs !== null);
  const reasons = exitReasons(input, closed);
  const reasonKeys = [...new Set(reasons)].sort();
  const reasonIdx = new Map(closed.map((t, i) => [t, reasonKeys.indexOf(reasons[i]!)]));
  const hours = Array.from({ length: 24 }, (_, h) => `${String(h).padStart(2, '0')}:00`);
  const episodes = drawdownEpisodes(input.equity.ts, input.equity.equity);
  const deepest = episodes
    .slice()
    .sort((a, b) => b.depth - a.depth || a.peakTs - b.peakTs)
    .slice(0, DRAWDOWNS_LISTED);
  const byExit = byExitTime(closed);
  return {
    version: ANALYSIS_VERSION,
    closedTrades: closed.length,
    openTrades: input.trades.length - closed.length,
    periods: {
      day: periodRows(input, byExit, 'day'),
      week: periodRows(input, byExit, 'week'),
      month: periodRows(input, byExit, 'month'),
    },
    exitReasons: groupBy(closed, reasonKeys, (t) => reasonIdx.get(t)!),
    hourOfDay: groupBy(closed, hours, (t) => Math.floor((((t.entryTs % DAY) + DAY) % DAY) / HOUR)),
    weekday: groupBy(closed, WEEKDAYS, (t) => (new Date(Math.floor(t.entryTs / 1000)).getUTCDay() + 6) % 7),
    drawdowns: { count: episodes.length, listed: deepest },
    returns: returnDistribution(closed.map((t) => t.returnFraction)),
    monteCarlo: monteCarlo(
      byExit.map((t) => t.netPnl),
      input.stats.startEquity,
      options.runs ?? MONTE_CARLO_RUNS,
      options.seed ?? MONTE_CARLO_SEED,
    ),
  };
}
