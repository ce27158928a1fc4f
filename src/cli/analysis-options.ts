// The report analysis' command-line options (Monte Carlo paths and seed), parsed and checked in one place:
// a bad value is INVALID_ARGUMENT (exit 2) naming the option.

import { MONTE_CARLO_RUNS, MONTE_CARLO_SEED } from '../backtest/analysis.ts';
import { Bot4Error, ErrorCode } from '../core/errors.ts';

/** Most Monte Carlo paths accepted: each costs one pass over the run's closed trades. */
export const MAX_MC_RUNS = 1_000_000;

export const MC_RUNS_OPTION = [
  '--mc-runs <n>',
  `Monte Carlo paths of the report's trade-sequence analysis, 0 for none (default ${MONTE_CARLO_RUNS})`,
] as const;
export const MC_SEED_OPTION = [
  '--mc-seed <n>',
  `seed of the Monte Carlo's random draws: the same seed gives the same percentiles (default ${MONTE_CARLO_SEED})`,
] as const;

function integer(option: string, text: string, min: number, max: number): number {
  const n = Number(text);
  if (!/^\s*-?\d+\s*$/.test(text) || !Number.isSafeInteger(n) || n < min || n > max) {
    throw new Bot4Error(
      ErrorCode.INVALID_ARGUMENT,
      `${option} '${text}' must be a whole number from ${min} to ${max}`,
      { option, value: text },
    );
  }
  return n;
}

export function parseAnalysisOptions(runs?: string, seed?: string): { runs: number; seed: number } {
  return {
    runs: runs === undefined ? MONTE_CARLO_RUNS : integer('--mc-runs', runs, 0, MAX_MC_RUNS),
    seed: seed === undefined ? MONTE_CARLO_SEED : integer('--mc-seed', seed, 0, 0xffffffff),
  };
}
