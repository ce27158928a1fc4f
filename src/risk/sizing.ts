// Position sizing: fixed quantity, stake (a notional), fixed fraction of equity, risk per trade (stop distance),
// volatility targeting (ATR or realised volatility), fractional Kelly, and risk-parity weights from a covariance
// matrix; sizeByPolicy applies the config's policy (risk.sizing) for Strategy.size(). Sizes come out in whole
// lots, rounded down and within the instrument's min/max quantity (0 when the minimum cannot be met). Money in
// units, px in ticks.

import { Bot4Error, ErrorCode } from '../core/errors.ts';
import type { PriceTicks, QtyLots } from '../core/units.ts';
import type { Instrument } from '../model/instrument.ts';
import type { SizingConfig } from './risk-config.ts';

/** Whole lots within the instrument's limits: floor, 0 below the minimum, capped at the maximum. */
export function roundLots(inst: Instrument, lots: number, market = false): QtyLots {
  if (!(lots > 0)) return 0 as QtyLots;
  const whole = Math.floor(lots + 1e-9);
  const min = market ? inst.marketMinQty : inst.minQty;
  const max = market ? inst.marketMaxQty : inst.maxQty;
  if (whole < min || whole < 1) return 0 as QtyLots;
  return Math.min(whole, max) as QtyLots;
}

/** A fixed quantity ("0.5" base units) as lots, rounded down onto the lot grid and within the limits. */
export function fixedQtyLots(inst: Instrument, qty: number, market = false): QtyLots {
  return roundLots(inst, qty / inst.lotSize.value, market);
}

/**
 * Value of one lot at `px`, in money units of the settlement currency, as a double (for sizing only; exact
 * notionals come from Instrument.tryNotional).
 */
export function lotValue(inst: Instrument, px: number): number {
  const k = inst.lotSize.value * inst.multiplier.value * 10 ** inst.settlement.precision;
  return inst.isInverse ? k / (px * inst.tickSize.value) : k * px * inst.tickSize.value;
}

/** The most lots whose exact notional at `px` stays within `budget` money units. */
export function lotsForNotional(
  inst: Instrument,
  px: PriceTicks | number,
  budget: number,
  market = false,
): QtyLots {
  const v = lotValue(inst, px);
  if (!(v > 0) || !(budget > 0)) return 0 as QtyLots;
  let lots = Math.floor(budget / v + 1e-9);
  // The double estimate can be one lot off the exact, rounded notional.
  while (lots > 0 && (inst.tryNotional(px, lots) as number) > budget) lots--;
  return roundLots(inst, lots, market);
}

/** `fraction` of equity (money units of the settlement currency) at `px`. */
export function fixedFractionLots(
  inst: Instrument,
  px: PriceTicks | number,
  equity: number,
  fraction: number,
  market = false,
): QtyLots {
  return lotsForNotional(inst, px, equity * fraction, market);
}

/**
 * Risks `riskFraction` of equity on a stop `atrMultiple` ATRs away: lots = equity * riskFraction / (loss of one
 * lot when the price moves atrTicks * atrMultiple against it from `px`).
 */
export function atrRiskLots(
  inst: Instrument,
  px: PriceTicks | number,
  equity: number,
  riskFraction: number,
  atrTicks: number,
  atrMultiple = 1,
  market = false,
): QtyLots {
  const stop = atrTicks * atrMultiple;
  if (!(stop > 0) || !(stop < px || !inst.isInverse)) return 0 as QtyLots;
  const perLot = Math.abs(lotValue(inst, px) - lotValue(inst, px - stop));
  if (!(perLot > 0)) return 0 as QtyLots;
  return roundLots(inst, (equity * riskFraction) / perLot, market);
}

/**
 * Volatility targeting: a position whose value times `realisedVol` equals equity times `targetVol` (both over
 * the same horizon, e.g. annualised), capped by `maxLeverage` times equity.
 */
export function volTargetLots(
  inst: Instrument,
  px: PriceTicks | number,
  equity: number,
  targetVol: number,
  realisedVol: number,
  maxLeverage = 1,
  market = false,
): QtyLots {
  if (!(realisedVol > 0)) return 0 as QtyLots;
  const notional = Math.min((equity * targetVol) / realisedVol, equity * maxLeverage);
  return lotsForNotional(inst, px, notional, market);
}

/** Sample standard deviation of returns, scaled by sqrt(periodsPerYear) (1 = per period). */
export function realisedVolatility(returns: ArrayLike<number>, periodsPerYear = 1): number {
  const n = returns.length;
  if (n < 2) return Number.NaN;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += returns[i]!;
  mean /= n;
  let ss = 0;
  for (let i = 0; i < n; i++) {
    const d = returns[i]! - mean;
    ss += d * d;
  }
  return Math.sqrt((ss / (n - 1)) * periodsPerYear);
}

/**
 * Fractional Kelly for a bet won with probability `winProb` paying `payoff` times the stake lost otherwise
 * (average win / average loss): fraction * (p * b - (1 - p)) / b, never below 0.
 */
export function kellyFraction(winProb: number, payoff: number, fraction = 0.5): number {
  if (!(payoff > 0) || !(winProb >= 0 && winProb <= 1)) return 0;
  const f = (winProb * payoff - (1 - winProb)) / payoff;
  return f > 0 ? f * fraction : 0;
}

/** Fractional Kelly for a continuous return (mean, variance per period): fraction * mean / variance (signed). */
export function kellyContinuous(mean: number, variance: number, fraction = 0.5): number {
  return variance > 0 ? (fraction * mean) / variance : 0;
}

/**
 * Risk-parity (equal risk contribution) weights for a row-major n x n covariance matrix: w_i * (C w)_i equal for
 * every i, weights summing to 1. Cyclical coordinate descent on 1/2 y'Cy - sum(b_i ln y_i) (Griveau-Billion,
 * Richard, Roncalli 2013), then w = y / sum(y). Throws INVALID_ARGUMENT on a non-positive variance.
 */
export function riskParityWeights(
  cov: ArrayLike<number>,
  n: number,
  out: Float64Array = new Float64Array(n),
  budgets?: ArrayLike<number>,
  tolerance = 1e-12,
  maxIterations = 10_000,
): Float64Array {
  for (let i = 0; i < n; i++) {
    const v = cov[i * n + i]!;
    if (!(v > 0) || !Number.isFinite(v)) {
      throw new Bot4Error(
        ErrorCode.INVALID_ARGUMENT,
        `risk parity needs a positive variance for every asset; asset ${i} has ${v}`,
        { asset: i, variance: v },
      );
    }
  }
  const y = out;
  for (let i = 0; i < n; i++) y[i] = 1 / Math.sqrt(cov[i * n + i]!);
  for (let it = 0; it < maxIterations; it++) {
    let change = 0;
    for (let i = 0; i < n; i++) {
      let other = 0;
      for (let j = 0; j < n; j++) if (j !== i) other += cov[i * n + j]! * y[j]!;
      const cii = cov[i * n + i]!;
      const b = budgets === undefined ? 1 / n : budgets[i]!;
      const next = (-other + Math.sqrt(other * other + 4 * cii * b)) / (2 * cii);
      const rel = Math.abs(next - y[i]!) / next;
      if (rel > change) change = rel;
      y[i] = next;
    }
    if (change < tolerance) break;
  }
  let sum = 0;
  for (let i = 0; i < n; i++) sum += y[i]!;
  for (let i = 0; i < n; i++) y[i] = y[i]! / sum;
  return y;
}

/** Risk contributions w_i * (C w)_i (they sum to the portfolio variance). */
export function riskContributions(
  cov: ArrayLike<number>,
  n: number,
  w: ArrayLike<number>,
  out: Float64Array = new Float64Array(n),
): Float64Array {
  for (let i = 0; i < n; i++) {
    let row = 0;
    for (let j = 0; j < n; j++) row += cov[i * n + j]! * w[j]!;
    out[i] = w[i]! * row;
  }
  return out;
}

/**
 * Lots for an order at `px` under the config's sizing policy (risk.sizing); `fixedLots` (the strategy's own
 * size) for method `fixed`. `equity` in money units of the instrument's settlement currency. `stopTicks`: the
 * strategy's stop distance for method `risk` (NaN: the policy's `stop` fraction of px); `realisedVol`: the
 * instrument's annualised realised volatility for method `volatility` (NaN: the strategy's own size, as it
 * gave nothing to target with). Whole lots, rounded down within the limits. No allocation.
 */
export function sizeByPolicy(
  policy: SizingConfig,
  inst: Instrument,
  px: PriceTicks | number,
  equity: number,
  fixedLots: number,
  market = true,
  stopTicks = Number.NaN,
  realisedVol = Number.NaN,
): QtyLots {
  switch (policy.method) {
    case 'quantity':
      return fixedQtyLots(inst, policy.qty!, market);
    case 'stake':
      return lotsForNotional(inst, px, policy.amount! * 10 ** inst.settlement.precision, market);
    case 'equity-fraction':
      return fixedFractionLots(inst, px, equity, policy.fraction!, market);
    case 'risk': {
      const stop = stopTicks > 0 ? stopTicks : policy.stop! * px;
      return atrRiskLots(inst, px, equity, policy.fraction!, stop, 1, market);
    }
    case 'volatility':
      if (!(realisedVol > 0)) return fixedLots as QtyLots;
      return volTargetLots(inst, px, equity, policy.target!, realisedVol, policy.maxLeverage ?? 1, market);
    case 'kelly':
      return fixedFractionLots(
        inst,
        px,
        equity,
        kellyFraction(policy.winProb!, policy.payoff!, policy.fraction ?? 0.5),
        market,
      );
    default:
      return fixedLots as QtyLots;
  }
}

const MICROS_PER_YEAR = 365 * 86_400_000_000;

/**
 * Annualised realised volatility of a price series sampled at any times (bars, quote mids): an exponentially
 * weighted mean of squared log returns per micro, so irregular sampling needs no interval. NaN until
 * `minSamples` returns are in. For volatility targeting (sizeByPolicy method `volatility`). No allocation.
 */
export class EwmaVolatility {
  private readonly alpha: number;
  private readonly minSamples: number;
  private lastPx = Number.NaN;
  private lastTs = Number.NaN;
  private variance = 0;
  private n = 0;

  /** `halfLife` in samples (a return's weight halves after that many more). */
  constructor(halfLife = 100, minSamples = 20) {
    this.alpha = 1 - 0.5 ** (1 / halfLife);
    this.minSamples = minSamples;
  }

  /** A price (> 0, any unit) at time `ts` (micros); returns the current estimate. */
  update(px: number, ts: number): number {
    if (this.lastPx > 0 && px > 0 && ts > this.lastTs) {
      const r = Math.log(px / this.lastPx);
      const perMicro = (r * r) / (ts - this.lastTs);
      this.variance = this.n === 0 ? perMicro : this.variance + this.alpha * (perMicro - this.variance);
      this.n++;
    }
    if (px > 0 && !(ts <= this.lastTs)) {
      this.lastPx = px;
      this.lastTs = ts;
    }
    return this.value;
  }

  /** Annualised volatility (0.6 = 60% a year), NaN while warming up. */
  get value(): number {
    return this.n >= this.minSamples ? Math.sqrt(this.variance * MICROS_PER_YEAR) : Number.NaN;
  }
}
