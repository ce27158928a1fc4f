// Performance statistics of a backtest from its sampled equity curve and its round-trip trades.
// Conventions: simple returns between consecutive samples; annualised with 365 days (crypto never closes)
// and the sampling interval. Units: sums of money are integer money units; averages and ratios are doubles.

import type { Recording, Trade } from './recorder.ts';

export const DAYS_PER_YEAR = 365;
export const MICROS_PER_DAY = 86_400_000_000;
/** 365 days of microseconds: the year of every annualised figure. */
export const MICROS_PER_YEAR = DAYS_PER_YEAR * MICROS_PER_DAY;

export interface StatsCurrency {
  readonly code: string;
  /** Decimal places of a money unit (8 for USDT: 1 unit = 1e-8 USDT). */
  readonly precision: number;
}

export interface StatsInput {
  readonly currency: StatsCurrency;
  /** Sample times (micros), strictly increasing, and equity at each, money units. */
  readonly ts: ArrayLike<number>;
  readonly equity: ArrayLike<number>;
  readonly intervalMicros: number;
  readonly trades: readonly Trade[];
  /** Fees and funding paid over the run (money units; negative: rebates, funding received). */
  readonly fees: number;
  readonly funding: number;
  /** Slippage paid (money units, >= 0): value the venue's slippage model moved fills by. Default 0. */
  readonly slippage?: number;
  /** Sum of |notional| of every fill, money units. */
  readonly tradedNotional: number;
  readonly orders: number;
  readonly fills: number;
}

export interface StatsOptions {
  /** Annual risk-free rate as a fraction (0.04 = 4%) for Sharpe and Sortino. Default 0. */
  readonly riskFreeRate?: number;
}

/**
 * Every statistic of a run. A ratio that is undefined for the run (no variance, no trade, no loss...) is
 * null, never NaN or Infinity, so the JSON says what it means.
 */
export interface BacktestStats {
  currency: StatsCurrency;
  startTs: number;
  endTs: number;
  durationMicros: number;
  samples: number;
  intervalMicros: number;
  /** MICROS_PER_YEAR / intervalMicros: returns per year for annualising. */
  periodsPerYear: number;
  riskFreeRate: number;
  startEquity: number;
  endEquity: number;
  /** endEquity - startEquity, money units. */
  netProfit: number;
  /** endEquity / startEquity - 1; null when startEquity <= 0. */
  totalReturn: number | null;
  /** (endEquity / startEquity)^(1 / years) - 1, years = duration / 365 days; -1 once equity is gone. */
  cagr: number | null;
  /** Sample standard deviation (n - 1) of period returns x sqrt(periodsPerYear). */
  volatility: number | null;
  /** (mean period return - rf per period) / sample sd x sqrt(periodsPerYear); null when sd = 0 or < 2 returns. */
  sharpe: number | null;
  /** (mean - rf per period) / downside deviation x sqrt(periodsPerYear); downside deviation =
   *  sqrt(sum(min(0, r - rf per period)^2) / n) over all n returns; null when it is 0. */
  sortino: number | null;
  /** cagr / maxDrawdown; null when there was no drawdown. */
  calmar: number | null;
  /** Largest fall from a running peak as a fraction of that peak, >= 0. */
  maxDrawdown: number;
  /** Largest fall from a running peak in money units (it may be a different episode than maxDrawdown's). */
  maxDrawdownMoney: number;
  /** The maxDrawdown episode: its peak, trough and recovery (first sample back at the peak; null if never). */
  maxDrawdownPeakTs: number | null;
  maxDrawdownTroughTs: number | null;
  maxDrawdownRecoveryTs: number | null;
  /** Peak to recovery of the maxDrawdown episode, or peak to the end of the run when it never recovered. */
  maxDrawdownDurationMicros: number;
  /** The longest peak-to-recovery (or peak-to-end) time of any drawdown. */
  longestDrawdownMicros: number;
  /** Closed trades (open trades at the end are counted apart and left out of the trade statistics). */
  trades: number;
  openTrades: number;
  /** net PnL > 0, and < 0; a trade at exactly 0 is neither (but counts in the win rate's denominator). */
  wins: number;
  losses: number;
  winRate: number | null;
  /** grossProfit / |grossLoss|; null without a losing trade. */
  profitFactor: number | null;
  /** Mean net PnL per closed trade, money units (a double). */
  expectancy: number | null;
  /** Sum of net PnL of winning trades (>= 0) and of losing trades (<= 0), money units. */
  grossProfit: number;
  grossLoss: number;
  avgWin: number | null;
  avgLoss: number | null;
  largestWin: number | null;
  largestLoss: number | null;
  avgTradeDurationMicros: number | null;
  /** Fraction of the run's time with a position open (union of trade intervals, all instruments). */
  exposureTime: number;
  tradedNotional: number;
  /** tradedNotional / mean equity over the samples; null when mean equity <= 0. */
  turnover: number | null;
  fees: number;
  funding: number;
  /** Slippage paid (money units, >= 0; see StatsInput.slippage). */
  slippage: number;
  /** netProfit + fees + funding + slippage: what the run would have made without trading costs. */
  netProfitBeforeCosts: number;
  orders: number;
  fills: number;
}

/** Simple returns r_i = e_i / e_{i-1} - 1 (0 once equity is <= 0: there is nothing left to return on). */
export function periodReturns(equity: ArrayLike<number>): Float64Array {
  const n = Math.max(0, equity.length - 1);
  const r = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const prev = equity[i]!;
    r[i] = prev > 0 ? equity[i + 1]! / prev - 1 : 0;
  }
  return r;
}

/** Drawdown at each sample as a fraction of the running peak (0 at a peak, 0.25 = 25% below it). */
export function drawdownSeries(equity: ArrayLike<number>): Float64Array {
  const out = new Float64Array(equity.length);
  let peak = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < equity.length; i++) {
    const e = equity[i]!;
    if (e > peak) peak = e;
    out[i] = peak > 0 ? (peak - e) / peak : 0;
  }
  return out;
}

interface Drawdowns {
  maxFraction: number;
  maxMoney: number;
  peakIdx: number;
  troughIdx: number;
  recoveryIdx: number;
  durationMicros: number;
  longestMicros: number;
}

function drawdowns(ts: ArrayLike<number>, equity: ArrayLike<number>): Drawdowns {
  const n = equity.length;
  const d: Drawdowns = {
    maxFraction: 0,
    maxMoney: 0,
    peakIdx: -1,
    troughIdx: -1,
    recoveryIdx: -1,
    durationMicros: 0,
    longestMicros: 0,
  };
  if (n === 0) return d;
  let peak = equity[0]!;
  let peakIdx = 0;
  let underwater = false;
  for (let i = 1; i < n; i++) {
    const e = equity[i]!;
    if (e >= peak) {
      if (underwater) {
        const dur = ts[i]! - ts[peakIdx]!;
        if (dur > d.longestMicros) d.longestMicros = dur;
        if (d.peakIdx === peakIdx && d.recoveryIdx < 0) d.recoveryIdx = i;
        underwater = false;
      }
      peak = e;
      peakIdx = i;
      continue;
    }
    underwater = true;
    const money = peak - e;
    if (money > d.maxMoney) d.maxMoney = money;
    const frac = peak > 0 ? money / peak : 0;
    if (frac > d.maxFraction) {
      d.maxFraction = frac;
      d.troughIdx = i;
      if (d.peakIdx !== peakIdx) {
        d.peakIdx = peakIdx;
        d.recoveryIdx = -1;
      }
    }
  }
  if (underwater) {
    const dur = ts[n - 1]! - ts[peakIdx]!;
    if (dur > d.longestMicros) d.longestMicros = dur;
  }
  if (d.peakIdx >= 0) {
    const endIdx = d.recoveryIdx >= 0 ? d.recoveryIdx : n - 1;
    d.durationMicros = ts[endIdx]! - ts[d.peakIdx]!;
  }
  return d;
}

/** Length of the union of [entry, exit) intervals (open trades run to `end`), clipped to [start, end]. */
export function exposedMicros(trades: readonly Trade[], start: number, end: number): number {
  const iv: [number, number][] = [];
  for (const t of trades) {
    const a = Math.max(start, t.entryTs);
    const b = Math.min(end, t.exitTs ?? end);
    if (b > a) iv.push([a, b]);
  }
  iv.sort((x, y) => x[0] - y[0]);
  let total = 0;
  let curA = Number.NaN;
  let curB = Number.NaN;
  for (const [a, b] of iv) {
    if (Number.isNaN(curA) || a > curB) {
      if (!Number.isNaN(curA)) total += curB - curA;
      curA = a;
      curB = b;
    } else if (b > curB) curB = b;
  }
  if (!Number.isNaN(curA)) total += curB - curA;
  return total;
}

export function computeStats(input: StatsInput, options: StatsOptions = {}): BacktestStats {
  const { ts, equity, intervalMicros, trades } = input;
  const rf = options.riskFreeRate ?? 0;
  const n = equity.length;
  const periodsPerYear = MICROS_PER_YEAR / intervalMicros;
  const startTs = n > 0 ? ts[0]! : 0;
  const endTs = n > 0 ? ts[n - 1]! : 0;
  const duration = endTs - startTs;
  const startEquity = n > 0 ? equity[0]! : 0;
  const endEquity = n > 0 ? equity[n - 1]! : 0;

  const totalReturn = startEquity > 0 ? endEquity / startEquity - 1 : null;
  let cagr: number | null = null;
  if (startEquity > 0 && duration > 0) {
    cagr = endEquity <= 0 ? -1 : (endEquity / startEquity) ** (MICROS_PER_YEAR / duration) - 1;
  }

  const r = periodReturns(equity);
  const m = r.length;
  const rfPeriod = (1 + rf) ** (1 / periodsPerYear) - 1;
  const annual = Math.sqrt(periodsPerYear);
  let volatility: number | null = null;
  let sharpe: number | null = null;
  let sortino: number | null = null;
  if (m >= 1) {
    let sum = 0;
    for (let i = 0; i < m; i++) sum += r[i]!;
    const mean = sum / m;
    let down = 0;
    for (let i = 0; i < m; i++) {
      const x = r[i]! - rfPeriod;
      if (x < 0) down += x * x;
    }
    const downside = Math.sqrt(down / m);
    if (downside > 0) sortino = ((mean - rfPeriod) / downside) * annual;
    if (m >= 2) {
      let ss = 0;
      for (let i = 0; i < m; i++) {
        const x = r[i]! - mean;
        ss += x * x;
      }
      const sd = Math.sqrt(ss / (m - 1));
      volatility = sd * annual;
      // A curve with no variance (flat, or rounding noise far below a money unit) has no Sharpe ratio.
      if (sd > 1e-15) sharpe = ((mean - rfPeriod) / sd) * annual;
    }
  }

  const dd = drawdowns(ts, equity);
  const calmar = cagr !== null && dd.maxFraction > 0 ? cagr / dd.maxFraction : null;

  let closed = 0;
  let open = 0;
  let wins = 0;
  let losses = 0;
  let grossProfit = 0;
  let grossLoss = 0;
  let largestWin: number | null = null;
  let largestLoss: number | null = null;
  let durationSum = 0;
  for (const t of trades) {
    if (t.open) {
      open++;
      continue;
    }
    closed++;
    durationSum += t.durationMicros ?? 0;
    const p = t.netPnl;
    if (p > 0) {
      wins++;
      grossProfit += p;
      if (largestWin === null || p > largestWin) largestWin = p;
    } else if (p < 0) {
      losses++;
      grossLoss += p;
      if (largestLoss === null || p < largestLoss) largestLoss = p;
    }
  }

  let equitySum = 0;
  for (let i = 0; i < n; i++) equitySum += equity[i]!;
  const meanEquity = n > 0 ? equitySum / n : 0;

  return {
    currency: { code: input.currency.code, precision: input.currency.precision },
    startTs,
    endTs,
    durationMicros: duration,
    samples: n,
    intervalMicros,
    periodsPerYear,
    riskFreeRate: rf,
    startEquity,
    endEquity,
    netProfit: endEquity - startEquity,
    totalReturn,
    cagr,
    volatility,
    sharpe,
    sortino,
    calmar,
    maxDrawdown: dd.maxFraction,
    maxDrawdownMoney: dd.maxMoney,
    maxDrawdownPeakTs: dd.peakIdx >= 0 ? ts[dd.peakIdx]! : null,
    maxDrawdownTroughTs: dd.troughIdx >= 0 ? ts[dd.troughIdx]! : null,
    maxDrawdownRecoveryTs: dd.recoveryIdx >= 0 ? ts[dd.recoveryIdx]! : null,
    maxDrawdownDurationMicros: dd.durationMicros,
    longestDrawdownMicros: dd.longestMicros,
    trades: closed,
    openTrades: open,
    wins,
    losses,
    winRate: closed > 0 ? wins / closed : null,
    profitFactor: losses > 0 ? grossProfit / -grossLoss : null,
    expectancy: closed > 0 ? (grossProfit + grossLoss) / closed : null,
    grossProfit,
    grossLoss,
    avgWin: wins > 0 ? grossProfit / wins : null,
    avgLoss: losses > 0 ? grossLoss / losses : null,
    largestWin,
    largestLoss,
    avgTradeDurationMicros: closed > 0 ? durationSum / closed : null,
    exposureTime: duration > 0 ? exposedMicros(trades, startTs, endTs) / duration : 0,
    tradedNotional: input.tradedNotional,
    turnover: meanEquity > 0 ? input.tradedNotional / meanEquity : null,
    fees: input.fees,
    funding: input.funding,
    slippage: input.slippage ?? 0,
    netProfitBeforeCosts: endEquity - startEquity + input.fees + input.funding + (input.slippage ?? 0),
    orders: input.orders,
    fills: input.fills,
  };
}

/** computeStats over what a BacktestRecorder recorded. */
export function statsFromRecording(
  rec: Recording,
  options: StatsOptions = {},
  costs: { slippage?: number } = {},
): BacktestStats {
  let fees = 0;
  let notional = 0;
  for (let i = 0; i < rec.fills.length; i++) {
    fees += rec.fills.fee[i]!;
    notional += Math.abs(rec.fills.notional[i]!);
  }
  let funding = 0;
  for (let i = 0; i < rec.fundings.length; i++) funding += rec.fundings.amount[i]!;
  return computeStats(
    {
      currency: rec.currency,
      ts: rec.curve.ts,
      equity: rec.curve.equity,
      intervalMicros: rec.intervalMicros,
      trades: rec.trades,
      fees,
      funding,
      ...(costs.slippage === undefined ? {} : { slippage: costs.slippage }),
      tradedNotional: notional,
      orders: rec.orders,
      fills: rec.fills.length,
    },
    options,
  );
}
