// Rolling statistics: standard deviation, z-score, linear regression (slope, intercept, fitted value), Pearson
// correlation and beta. Moments use the sliding-window Welford update (no sum-of-squares cancellation on large
// prices), O(1) per update on a Float64Ring; variances are population (ddof 0, TA-Lib) unless ddof 1 is asked.

import { Float64Ring } from '../memory/ring-buffer.ts';
import { enumParam, intParam, placeholderRing } from './common.ts';

/**
 * Mean and sum of squared deviations (M2) of the last `period` values, O(1) amortised. Three things keep it exact
 * enough to trust on prices near 1e5 with spreads near 1e-3:
 * - the sliding Welford step (replacing x_old by x_new moves the mean by (x_new - x_old) / n and M2 by
 *   (x_new - x_old) * (x_new - mean' + x_old - mean)), never sum(x^2) - n * mean^2, which cancels;
 * - values are shifted by a reference K (the window mean at the last recomputation), so rounding scales with the
 *   spread rather than the price level;
 * - every `period` slides the moments are recomputed exactly in two passes (O(period) once per period updates),
 *   so rounding never accumulates beyond one window, and a window of identical values reads exactly that value
 *   with M2 = 0 (tracked by a run length), not a rounding residue that a z-score would blow up.
 */
export class RollingMoments {
  readonly period: number = 1;
  // The window inline (a Float64Array of exactly `period` slots, not a Float64Ring): one slot read and written
  // per slide, and the recomputation walks it in two contiguous runs, oldest first, without a bounds check and a
  // mask per element. The same operations in the same order as before (and as bbandsBatch).
  private readonly window: Float64Array = new Float64Array(1);
  /** Slot of the oldest value once full; the next slot to write. */
  private slot = 0;
  private filled = 0;
  /** The reference K subtracted from every value. */
  private shift = 0;
  /** Mean of the shifted values. */
  private meanShifted = 0;
  private m2 = 0;
  /** Slides left before the next exact recomputation. */
  private untilResync = 0;
  /** The latest value and how many times in a row it came (capped at period). */
  private last = Number.NaN;
  private run = 0;

  constructor(period: number) {
    this.period = period;
    this.window = new Float64Array(period);
  }

  push(x: number): void {
    const period = this.period;
    if (x === this.last) {
      if (this.run < period) this.run++;
    } else {
      this.last = x;
      this.run = 1;
    }
    const w = this.window;
    const slot = this.slot;
    this.slot = slot + 1 === period ? 0 : slot + 1;
    if (this.filled === period) {
      const old = w[slot]!;
      w[slot] = x;
      if (--this.untilResync === 0) {
        this.resync();
        return;
      }
      const xs = x - this.shift;
      const os = old - this.shift;
      const m0 = this.meanShifted;
      const delta = xs - os;
      const m1 = m0 + delta / period;
      this.m2 += delta * (xs - m1 + os - m0);
      this.meanShifted = m1;
      return;
    }
    if (this.filled === 0) this.shift = x;
    w[slot] = x;
    const filled = this.filled + 1;
    this.filled = filled;
    const xs = x - this.shift;
    const d = xs - this.meanShifted;
    const m1 = this.meanShifted + d / filled;
    this.m2 += d * (xs - m1);
    this.meanShifted = m1;
    if (filled === period) this.untilResync = period;
  }

  /** Two passes, oldest to newest (bbandsBatch repeats these exact operations); only called when full. */
  private resync(): void {
    const w = this.window;
    const period = this.period;
    const oldest = this.slot;
    let sum = 0;
    for (let i = oldest; i < period; i++) sum += w[i]!;
    for (let i = 0; i < oldest; i++) sum += w[i]!;
    const k = sum / period;
    // K carries the rounding of sum / period (an ulp of the price level); keep the residual mean of x - K so the
    // next sliding steps work around the exact mean, not around K.
    let r = 0;
    let q = 0;
    for (let i = oldest; i < period; i++) {
      const d = w[i]! - k;
      r += d;
      q += d * d;
    }
    for (let i = 0; i < oldest; i++) {
      const d = w[i]! - k;
      r += d;
      q += d * d;
    }
    const m = r / period;
    this.shift = k;
    this.meanShifted = m;
    this.m2 = q - r * m;
    this.untilResync = period;
  }

  get full(): boolean {
    return this.filled === this.period;
  }

  get count(): number {
    return this.filled;
  }

  get mean(): number {
    return this.run >= this.period ? this.last : this.shift + this.meanShifted;
  }

  /** Sum of squared deviations: exactly 0 on a window of identical values, never negative. */
  get sumSquares(): number {
    return this.run >= this.period ? 0 : Math.max(this.m2, 0);
  }

  reset(): void {
    this.slot = 0;
    this.filled = 0;
    this.shift = 0;
    this.meanShifted = 0;
    this.m2 = 0;
    this.untilResync = 0;
    this.last = Number.NaN;
    this.run = 0;
  }
}

export type Ddof = 0 | 1;

function ddofParam(indicator: string, ddof: number): Ddof {
  return intParam(indicator, 'ddof', ddof, 0, 1) as Ddof;
}

/** Rolling standard deviation; ddof 0 = population (TA-Lib STDDEV, Tulip stddev), 1 = sample. Ready after `period`. */
export class StdDev {
  readonly period: number = 1;
  readonly ddof: Ddof = 0;
  private readonly moments: RollingMoments = new RollingMoments(1);
  private current = Number.NaN;

  constructor(period = 20, ddof: number = 0) {
    this.period = intParam('stddev', 'period', period, 1 + ddof);
    this.ddof = ddofParam('stddev', ddof);
    this.moments = new RollingMoments(period);
  }

  update(x: number): number {
    const m = this.moments;
    m.push(x);
    if (!m.full) return this.current;
    const v = Math.sqrt(m.sumSquares / (this.period - this.ddof));
    this.current = v;
    return v;
  }

  get value(): number {
    return this.current;
  }

  get mean(): number {
    return this.moments.mean;
  }

  get ready(): boolean {
    return this.moments.full;
  }

  reset(): void {
    this.moments.reset();
    this.current = Number.NaN;
  }
}

/** Rolling z-score of the latest value: (x - mean) / std over the last `period` values (the latest included); 0 when flat. */
export class ZScore {
  readonly period: number = 2;
  readonly ddof: Ddof = 0;
  private readonly moments: RollingMoments = new RollingMoments(1);
  private current = Number.NaN;

  constructor(period = 20, ddof: number = 0) {
    this.period = intParam('zscore', 'period', period, 2);
    this.ddof = ddofParam('zscore', ddof);
    this.moments = new RollingMoments(period);
  }

  update(x: number): number {
    const m = this.moments;
    m.push(x);
    if (!m.full) return this.current;
    const sd = Math.sqrt(m.sumSquares / (this.period - this.ddof));
    const v = sd > 0 ? (x - m.mean) / sd : 0;
    this.current = v;
    return v;
  }

  get value(): number {
    return this.current;
  }

  get ready(): boolean {
    return this.moments.full;
  }

  reset(): void {
    this.moments.reset();
    this.current = Number.NaN;
  }
}

/**
 * Least-squares line through the last `period` values against bar positions 0 (oldest) .. period-1 (newest).
 * `slope` is per bar (TA-Lib LINEARREG_SLOPE, Tulip linregslope), `intercept` the fitted value at the oldest bar
 * (TA-Lib LINEARREG_INTERCEPT, Tulip linregintercept), `value` the fitted value at the newest (LINEARREG, linreg).
 * O(1): S = sum(y) and W = sum(j * y) step as W' = W - (S - y_old) + (period - 1) * x.
 */
export class LinReg {
  readonly period: number = 2;
  private readonly ring: Float64Ring = placeholderRing();
  private readonly sumX: number = 0;
  private readonly divisor: number = 1;
  private sum = 0;
  private wsum = 0;
  private slopeValue = Number.NaN;
  private interceptValue = Number.NaN;
  private current = Number.NaN;

  constructor(period = 14) {
    this.period = intParam('linreg', 'period', period, 2);
    this.ring = new Float64Ring(period);
    this.sumX = (period * (period - 1)) / 2;
    const sumXX = ((period - 1) * period * (2 * period - 1)) / 6;
    this.divisor = period * sumXX - this.sumX * this.sumX;
  }

  /** Returns the fitted value at the newest bar; `slope` and `intercept` hold the rest. */
  update(x: number): number {
    const ring = this.ring;
    const period = this.period;
    if (ring.size === period) {
      const old = ring.shift();
      this.wsum += (period - 1) * x - (this.sum - old);
      this.sum += x - old;
    } else {
      this.wsum += ring.size * x;
      this.sum += x;
    }
    ring.push(x);
    if (ring.size < period) return this.current;
    const slope = (period * this.wsum - this.sumX * this.sum) / this.divisor;
    const intercept = (this.sum - slope * this.sumX) / period;
    this.slopeValue = slope;
    this.interceptValue = intercept;
    const v = intercept + slope * (period - 1);
    this.current = v;
    return v;
  }

  get value(): number {
    return this.current;
  }

  get slope(): number {
    return this.slopeValue;
  }

  get intercept(): number {
    return this.interceptValue;
  }

  get ready(): boolean {
    return this.ring.size === this.period;
  }

  reset(): void {
    this.ring.clear();
    this.sum = 0;
    this.wsum = 0;
    this.slopeValue = Number.NaN;
    this.interceptValue = Number.NaN;
    this.current = Number.NaN;
  }
}

/**
 * Co-moments of the last `period` (x, y) pairs with the safeguards of RollingMoments: a sliding replacement step
 * (dx = x - x_old: C' = C + dx * (y - my') + dy * (x_old - mx)), values shifted by references refreshed at each
 * exact two-pass recomputation (every `period` slides), and run lengths that make a constant series exactly flat.
 */
export class RollingCovariance {
  readonly period: number = 2;
  private readonly xs: Float64Ring = placeholderRing();
  private readonly ys: Float64Ring = placeholderRing();
  private kx = 0;
  private ky = 0;
  /** Means of the shifted values. */
  private mx = 0;
  private my = 0;
  private cxx = 0;
  private cyy = 0;
  private cxy = 0;
  private untilResync = 0;
  private lastX = Number.NaN;
  private lastY = Number.NaN;
  private runX = 0;
  private runY = 0;

  constructor(period: number) {
    this.period = period;
    this.xs = new Float64Ring(period);
    this.ys = new Float64Ring(period);
  }

  push(x: number, y: number): void {
    const xs = this.xs;
    const ys = this.ys;
    const period = this.period;
    if (x === this.lastX) {
      if (this.runX < period) this.runX++;
    } else {
      this.lastX = x;
      this.runX = 1;
    }
    if (y === this.lastY) {
      if (this.runY < period) this.runY++;
    } else {
      this.lastY = y;
      this.runY = 1;
    }
    if (xs.size === period) {
      const xo = xs.shift();
      const yo = ys.shift();
      xs.push(x);
      ys.push(y);
      if (--this.untilResync === 0) {
        this.resync();
        return;
      }
      // Replacing (xo, yo) by (x, y) moves the co-moment by dx * (y - my') + dy * (xo - mx) (shifted values).
      const sxo = xo - this.kx;
      const syo = yo - this.ky;
      const dx = x - this.kx - sxo;
      const dy = y - this.ky - syo;
      const mx0 = this.mx;
      const my0 = this.my;
      const mx = mx0 + dx / period;
      const my = my0 + dy / period;
      this.cxy += dx * (y - this.ky - my) + dy * (sxo - mx0);
      this.cxx += dx * (x - this.kx - mx + sxo - mx0);
      this.cyy += dy * (y - this.ky - my + syo - my0);
      this.mx = mx;
      this.my = my;
      return;
    }
    if (xs.isEmpty) {
      this.kx = x;
      this.ky = y;
    }
    xs.push(x);
    ys.push(y);
    const n = xs.size;
    const sx = x - this.kx;
    const sy = y - this.ky;
    const dx = sx - this.mx;
    const dy = sy - this.my;
    const mx = this.mx + dx / n;
    const my = this.my + dy / n;
    this.cxy += dx * (sy - my);
    this.cxx += dx * (sx - mx);
    this.cyy += dy * (sy - my);
    this.mx = mx;
    this.my = my;
    if (n === period) this.untilResync = period;
  }

  private resync(): void {
    const xs = this.xs;
    const ys = this.ys;
    const n = this.period;
    let sx = 0;
    let sy = 0;
    for (let i = 0; i < n; i++) {
      sx += xs.at(i);
      sy += ys.at(i);
    }
    const kx = sx / n;
    const ky = sy / n;
    let rx = 0;
    let ry = 0;
    let cxx = 0;
    let cyy = 0;
    let cxy = 0;
    for (let i = 0; i < n; i++) {
      const dx = xs.at(i) - kx;
      const dy = ys.at(i) - ky;
      rx += dx;
      ry += dy;
      cxx += dx * dx;
      cyy += dy * dy;
      cxy += dx * dy;
    }
    const mx = rx / n;
    const my = ry / n;
    this.kx = kx;
    this.ky = ky;
    this.mx = mx;
    this.my = my;
    this.cxx = cxx - rx * mx;
    this.cyy = cyy - ry * my;
    this.cxy = cxy - rx * my;
    this.untilResync = n;
  }

  get full(): boolean {
    return this.xs.size === this.period;
  }

  /** Sums of squared deviations and cross-products over the window (divide by n or n - 1 for (co)variances). */
  get sxx(): number {
    return this.runX >= this.period ? 0 : Math.max(this.cxx, 0);
  }

  get syy(): number {
    return this.runY >= this.period ? 0 : Math.max(this.cyy, 0);
  }

  get sxy(): number {
    return this.runX >= this.period || this.runY >= this.period ? 0 : this.cxy;
  }

  reset(): void {
    this.xs.clear();
    this.ys.clear();
    this.kx = 0;
    this.ky = 0;
    this.mx = 0;
    this.my = 0;
    this.cxx = 0;
    this.cyy = 0;
    this.cxy = 0;
    this.untilResync = 0;
    this.lastX = Number.NaN;
    this.lastY = Number.NaN;
    this.runX = 0;
    this.runY = 0;
  }
}

/** Rolling Pearson correlation of two series over `period` pairs (TA-Lib CORREL on the values as given); 0 when either is flat. */
export class Correlation {
  readonly period: number = 2;
  private readonly cov: RollingCovariance = new RollingCovariance(2);
  private current = Number.NaN;

  constructor(period = 20) {
    this.period = intParam('correl', 'period', period, 2);
    this.cov = new RollingCovariance(period);
  }

  update(x: number, y: number): number {
    const c = this.cov;
    c.push(x, y);
    if (!c.full) return this.current;
    const d = Math.sqrt(c.sxx * c.syy);
    let v = d > 0 ? c.sxy / d : 0;
    // Rounding can step just outside [-1, 1] on perfectly collinear windows.
    if (v > 1) v = 1;
    else if (v < -1) v = -1;
    this.current = v;
    return v;
  }

  get value(): number {
    return this.current;
  }

  get ready(): boolean {
    return this.cov.full;
  }

  reset(): void {
    this.cov.reset();
    this.current = Number.NaN;
  }
}

export type BetaInput = 'returns' | 'values';
export const BETA_INPUTS: readonly BetaInput[] = ['returns', 'values'];

/**
 * Rolling beta of an asset against a market: cov(asset, market) / var(market) over `period` observations.
 * input 'returns' (default, like TA-Lib BETA) turns both price series into simple returns x / x_prev - 1 first,
 * so the first output is at bar `period`; 'values' uses the inputs as given. Note TA-Lib's BETA(real0, real1)
 * divides by the variance of real0: pass (market, asset) there to get this number. 0 when the market is flat.
 */
export class Beta {
  readonly period: number = 2;
  readonly input: BetaInput = 'returns';
  private readonly cov: RollingCovariance = new RollingCovariance(2);
  private started = false;
  private prevAsset = 0;
  private prevMarket = 0;
  private current = Number.NaN;

  constructor(period = 20, input: BetaInput = 'returns') {
    this.period = intParam('beta', 'period', period, 2);
    this.input = enumParam('beta', 'input', input, BETA_INPUTS);
    this.cov = new RollingCovariance(period);
  }

  update(asset: number, market: number): number {
    let a = asset;
    let m = market;
    if (this.input === 'returns') {
      const pa = this.prevAsset;
      const pm = this.prevMarket;
      this.prevAsset = asset;
      this.prevMarket = market;
      if (!this.started) {
        this.started = true;
        return this.current;
      }
      a = pa !== 0 ? asset / pa - 1 : 0;
      m = pm !== 0 ? market / pm - 1 : 0;
    }
    const c = this.cov;
    c.push(m, a);
    if (!c.full) return this.current;
    const vm = c.sxx;
    const v = vm > 0 ? c.sxy / vm : 0;
    this.current = v;
    return v;
  }

  get value(): number {
    return this.current;
  }

  get ready(): boolean {
    return this.cov.full;
  }

  reset(): void {
    this.cov.reset();
    this.started = false;
    this.prevAsset = 0;
    this.prevMarket = 0;
    this.current = Number.NaN;
  }
}
