// Objectives: which backtest statistic an optimisation ranks trials by, and which way is better. A score is
// the objective turned so that higher is always better (the searchers maximise it); a statistic that is
// undefined for a run (no trade, no drawdown) scores null and ranks last.

import { Bot4Error, ErrorCode } from '../../core/errors.ts';
import type { BacktestStats } from '../stats.ts';

export interface Objective {
  readonly name: string;
  readonly description: string;
  readonly better: 'higher' | 'lower';
  readonly value: (s: TrialStats) => number | null;
}

/** The statistics a trial keeps (small, JSON-friendly; money in the report currency's units as doubles). */
export interface TrialStats {
  sharpe: number | null;
  sortino: number | null;
  calmar: number | null;
  totalReturn: number | null;
  cagr: number | null;
  maxDrawdown: number;
  netProfit: number;
  profitFactor: number | null;
  winRate: number | null;
  expectancy: number | null;
  trades: number;
  exposureTime: number;
  fees: number;
}

export function trialStats(s: BacktestStats): TrialStats {
  return {
    sharpe: s.sharpe,
    sortino: s.sortino,
    calmar: s.calmar,
    totalReturn: s.totalReturn,
    cagr: s.cagr,
    maxDrawdown: s.maxDrawdown,
    netProfit: s.netProfit / 10 ** s.currency.precision,
    profitFactor: s.profitFactor,
    winRate: s.winRate,
    expectancy: s.expectancy === null ? null : s.expectancy / 10 ** s.currency.precision,
    trades: s.trades,
    exposureTime: s.exposureTime,
    fees: s.fees / 10 ** s.currency.precision,
  };
}

export const OBJECTIVES: readonly Objective[] = [
  {
    name: 'sharpe',
    description: 'annualised Sharpe ratio of the equity curve',
    better: 'higher',
    value: (s) => s.sharpe,
  },
  {
    name: 'sortino',
    description: 'annualised Sortino ratio (downside deviation)',
    better: 'higher',
    value: (s) => s.sortino,
  },
  { name: 'calmar', description: 'CAGR / max drawdown', better: 'higher', value: (s) => s.calmar },
  {
    name: 'return',
    description: 'total return (end / start equity - 1)',
    better: 'higher',
    value: (s) => s.totalReturn,
  },
  { name: 'cagr', description: 'compound annual growth rate', better: 'higher', value: (s) => s.cagr },
  {
    name: 'profit',
    description: 'net profit in the report currency',
    better: 'higher',
    value: (s) => s.netProfit,
  },
  {
    name: 'profit-factor',
    description: 'gross profit / gross loss of closed trades',
    better: 'higher',
    value: (s) => s.profitFactor,
  },
  {
    name: 'win-rate',
    description: 'share of closed trades that won',
    better: 'higher',
    value: (s) => s.winRate,
  },
  {
    name: 'expectancy',
    description: 'mean net PnL per closed trade',
    better: 'higher',
    value: (s) => s.expectancy,
  },
  {
    name: 'drawdown',
    description: 'max drawdown (a fraction of the peak)',
    better: 'lower',
    value: (s) => s.maxDrawdown,
  },
];

export function objectiveByName(name: string): Objective {
  const o = OBJECTIVES.find((x) => x.name === name);
  if (o === undefined) {
    throw new Bot4Error(
      ErrorCode.INVALID_ARGUMENT,
      `--objective '${name}' is not known; use one of: ${OBJECTIVES.map((x) => x.name).join(', ')}`,
      { objective: name },
    );
  }
  return o;
}

/** The objective as a score (higher is better), null when undefined or not finite. */
export function scoreOf(o: Objective, s: TrialStats): number | null {
  const v = o.value(s);
  if (v === null || !Number.isFinite(v)) return null;
  return o.better === 'higher' ? v : -v;
}
