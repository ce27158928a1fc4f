// Volatility and channel indicators: ATR, NATR, Bollinger Bands, Keltner and Donchian channels. O(1) per update
// (Wilder recursion, sliding Welford moments, monotonic deques), NaN until ready, no allocation per update.
// Conventions: TA-Lib's (ATR skips the first bar, Bollinger uses the population deviation); options for the rest.

import { checkBatch, type EmaSeed, enumParam, intParam, numParam, RollingExtreme } from './common.ts';
import { Ema } from './moving-averages.ts';
import { RollingMoments } from './statistics.ts';

/**
 * How the first bar, which has no previous close, enters the ATR. 'skip' (TA-Lib ATR/NATR): it gives no true
 * range, the first ATR is the mean of the true ranges of bars 1..period, at bar `period`. 'range' (Tulip,
 * StockCharts, trading-signals): its true range is high - low, the first ATR is at bar period - 1.
 */
export type FirstTrueRange = 'skip' | 'range';
export const FIRST_TR: readonly FirstTrueRange[] = ['skip', 'range'];

/** Average true range with Wilder smoothing, atr = atr * (1 - 1/period) + tr / period, after an SMA seed of `period` true ranges. */
export class Atr {
  readonly period: number = 1;
  readonly firstTr: FirstTrueRange = 'skip';
  private readonly alpha: number = 1;
  private readonly beta: number = 0;
  private bars = 0;
  private trCount = 0;
  private prevClose = 0;
  private atr = 0;
  private current = Number.NaN;

  constructor(period = 14, firstTr: FirstTrueRange = 'skip') {
    this.period = intParam('atr', 'period', period, 1);
    this.firstTr = enumParam('atr', 'firstTr', firstTr, FIRST_TR);
    this.alpha = 1 / period;
    this.beta = 1 - this.alpha;
  }

  update(high: number, low: number, close: number): number {
    const pc = this.prevClose;
    this.prevClose = close;
    const period = this.period;
    if (this.trCount >= period) {
      const tr = Math.max(high, pc) - Math.min(low, pc);
      // atr * (1 - 1/period) + tr / period, factors precomputed: one multiply and one add on the loop-carried path.
      const v = this.atr * this.beta + tr * this.alpha;
      this.atr = v;
      this.current = v;
      return v;
    }
    return this.warmUp(high, low, pc);
  }

  private warmUp(high: number, low: number, pc: number): number {
    const bar = this.bars;
    this.bars = bar + 1;
    let tr: number;
    if (bar === 0) {
      if (this.firstTr === 'skip') return this.current;
      tr = high - low;
    } else {
      tr = Math.max(high, pc) - Math.min(low, pc);
    }
    this.atr += tr;
    const count = this.trCount + 1;
    this.trCount = count;
    if (count < this.period) return this.current;
    this.atr /= count;
    this.current = this.atr;
    return this.atr;
  }

  get value(): number {
    return this.current;
  }

  get ready(): boolean {
    return this.trCount >= this.period;
  }

  reset(): void {
    this.bars = 0;
    this.trCount = 0;
    this.prevClose = 0;
    this.atr = 0;
    this.current = Number.NaN;
  }
}

export function atrBatch(
  high: Float64Array,
  low: Float64Array,
  close: Float64Array,
  out: Float64Array,
  period = 14,
  firstTr: FirstTrueRange = 'skip',
): void {
  intParam('atr', 'period', period, 1);
  enumParam('atr', 'firstTr', firstTr, FIRST_TR);
  const n = close.length;
  checkBatch('atr', n, high, low, out);
  // Index of the bar where the first ATR appears; bars before it only add their true range to the seed.
  const first = firstTr === 'skip' ? period : period - 1;
  let atr = 0;
  for (let i = 0; i < n && i <= first; i++) {
    if (i === 0) {
      if (firstTr === 'range') atr += high[0]! - low[0]!;
    } else {
      const pc = close[i - 1]!;
      const h = high[i]!;
      const l = low[i]!;
      atr += Math.max(h, pc) - Math.min(l, pc);
    }
    out[i] = Number.NaN;
  }
  if (n <= first) return;
  atr /= period;
  out[first] = atr;
  const alpha = 1 / period;
  const beta = 1 - alpha;
  for (let i = first + 1; i < n; i++) {
    const pc = close[i - 1]!;
    const h = high[i]!;
    const l = low[i]!;
    const tr = Math.max(h, pc) - Math.min(l, pc);
    atr = atr * beta + tr * alpha;
    out[i] = atr;
  }
}

/** Normalised ATR: 100 * ATR / close (TA-Lib NATR, Tulip natr); 0 when close is 0. */
export class Natr {
  private readonly atr: Atr = new Atr(1);
  private current = Number.NaN;

  constructor(period = 14, firstTr: FirstTrueRange = 'skip') {
    this.atr = new Atr(period, firstTr);
  }

  update(high: number, low: number, close: number): number {
    const a = this.atr.update(high, low, close);
    if (!this.atr.ready) return this.current;
    const v = close !== 0 ? (100 * a) / close : 0;
    this.current = v;
    return v;
  }

  get value(): number {
    return this.current;
  }

  get ready(): boolean {
    return this.atr.ready;
  }

  reset(): void {
    this.atr.reset();
    this.current = Number.NaN;
  }
}

/**
 * Bollinger Bands: middle = SMA(period), upper/lower = middle +/- k * std. std is the population deviation
 * (ddof 0: TA-Lib, Tulip, StockCharts, trading-signals); ddof 1 for the sample deviation. Ready after `period`.
 */
export class BollingerBands {
  readonly period: number = 1;
  readonly k: number = 2;
  readonly ddof: number = 0;
  private readonly moments: RollingMoments = new RollingMoments(1);
  private upperValue = Number.NaN;
  private middleValue = Number.NaN;
  private lowerValue = Number.NaN;
  private lastClose = Number.NaN;

  constructor(period = 20, k = 2, ddof = 0) {
    this.period = intParam('bbands', 'period', period, 1 + ddof);
    this.k = numParam('bbands', 'k', k, 0);
    this.ddof = intParam('bbands', 'ddof', ddof, 0, 1);
    this.moments = new RollingMoments(period);
  }

  /** Returns the middle band (NaN until ready); `upper` and `lower` hold the bands. */
  update(x: number): number {
    const m = this.moments;
    m.push(x);
    this.lastClose = x;
    if (!m.full) return this.middleValue;
    const mid = m.mean;
    const width = this.k * Math.sqrt(m.sumSquares / (this.period - this.ddof));
    this.middleValue = mid;
    this.upperValue = mid + width;
    this.lowerValue = mid - width;
    return mid;
  }

  get value(): number {
    return this.middleValue;
  }

  get upper(): number {
    return this.upperValue;
  }

  get middle(): number {
    return this.middleValue;
  }

  get lower(): number {
    return this.lowerValue;
  }

  /** (upper - lower) / middle, StockCharts' BandWidth as a fraction (x100 for their percent). */
  get bandwidth(): number {
    return (this.upperValue - this.lowerValue) / this.middleValue;
  }

  /** %B = (last input - lower) / (upper - lower). */
  get percentB(): number {
    return (this.lastClose - this.lowerValue) / (this.upperValue - this.lowerValue);
  }

  get ready(): boolean {
    return this.moments.full;
  }

  reset(): void {
    this.moments.reset();
    this.upperValue = Number.NaN;
    this.middleValue = Number.NaN;
    this.lowerValue = Number.NaN;
    this.lastClose = Number.NaN;
  }
}

export function bbandsBatch(
  src: Float64Array,
  outUpper: Float64Array,
  outMiddle: Float64Array,
  outLower: Float64Array,
  period = 20,
  k = 2,
  ddof = 0,
): void {
  intParam('bbands', 'period', period, 1 + ddof);
  numParam('bbands', 'k', k, 0);
  intParam('bbands', 'ddof', ddof, 0, 1);
  const n = src.length;
  checkBatch('bbands', n, outUpper, outMiddle, outLower);
  // The same operations in the same order as RollingMoments (shifted sliding Welford steps, a two-pass
  // recomputation every `period` slides, the run length of identical values), reading evicted values from the input.
  let shift = n > 0 ? src[0]! : 0;
  let meanS = 0;
  let m2 = 0;
  let last = Number.NaN;
  let run = 0;
  const denom = period - ddof;
  for (let i = 0; i < n; i++) {
    const x = src[i]!;
    if (x === last) {
      if (run < period) run++;
    } else {
      last = x;
      run = 1;
    }
    if (i < period) {
      const xs = x - shift;
      const d = xs - meanS;
      const m1 = meanS + d / (i + 1);
      m2 += d * (xs - m1);
      meanS = m1;
      if (i < period - 1) {
        outUpper[i] = Number.NaN;
        outMiddle[i] = Number.NaN;
        outLower[i] = Number.NaN;
        continue;
      }
    } else if ((i - period + 1) % period === 0) {
      const start = i - period + 1;
      let sum = 0;
      for (let j = 0; j < period; j++) sum += src[start + j]!;
      const kk = sum / period;
      let r = 0;
      let q = 0;
      for (let j = 0; j < period; j++) {
        const d = src[start + j]! - kk;
        r += d;
        q += d * d;
      }
      shift = kk;
      meanS = r / period;
      m2 = q - r * meanS;
    } else {
      const xs = x - shift;
      const os = src[i - period]! - shift;
      const delta = xs - os;
      const m1 = meanS + delta / period;
      m2 += delta * (xs - m1 + os - meanS);
      meanS = m1;
    }
    const flat = run >= period;
    const mean = flat ? last : shift + meanS;
    const w = k * Math.sqrt((flat ? 0 : Math.max(m2, 0)) / denom);
    outUpper[i] = mean + w;
    outMiddle[i] = mean;
    outLower[i] = mean - w;
  }
}

/**
 * Keltner channels (StockCharts' current definition): middle = EMA(close, period), bands = middle +/- multiplier *
 * ATR(atrPeriod). `seed` and `firstTr` pick the EMA and ATR conventions (StockCharts' ta spreadsheet: 'first',
 * 'range'). Ready when both the EMA and the ATR are.
 */
export class KeltnerChannels {
  readonly multiplier: number = 2;
  private readonly ema: Ema = new Ema(1);
  private readonly atr: Atr = new Atr(1);
  private upperValue = Number.NaN;
  private middleValue = Number.NaN;
  private lowerValue = Number.NaN;

  constructor(
    period = 20,
    atrPeriod = 10,
    multiplier = 2,
    seed: EmaSeed = 'sma',
    firstTr: FirstTrueRange = 'skip',
  ) {
    intParam('keltner', 'period', period, 1);
    intParam('keltner', 'atrPeriod', atrPeriod, 1);
    this.multiplier = numParam('keltner', 'multiplier', multiplier, 0);
    this.ema = new Ema(period, seed);
    this.atr = new Atr(atrPeriod, firstTr);
  }

  /** Returns the middle line (NaN until ready); `upper` and `lower` hold the bands. */
  update(high: number, low: number, close: number): number {
    const mid = this.ema.update(close);
    const a = this.atr.update(high, low, close);
    if (!this.atr.ready || !this.ema.ready) return this.middleValue;
    const w = this.multiplier * a;
    this.middleValue = mid;
    this.upperValue = mid + w;
    this.lowerValue = mid - w;
    return mid;
  }

  get value(): number {
    return this.middleValue;
  }

  get upper(): number {
    return this.upperValue;
  }

  get middle(): number {
    return this.middleValue;
  }

  get lower(): number {
    return this.lowerValue;
  }

  get ready(): boolean {
    return this.atr.ready && this.ema.ready;
  }

  reset(): void {
    this.ema.reset();
    this.atr.reset();
    this.upperValue = Number.NaN;
    this.middleValue = Number.NaN;
    this.lowerValue = Number.NaN;
  }
}

/** Donchian channels: upper = highest high, lower = lowest low over `period` bars, middle = their mean. */
export class DonchianChannels {
  readonly period: number = 1;
  private readonly high: RollingExtreme = new RollingExtreme(1, 'max');
  private readonly low: RollingExtreme = new RollingExtreme(1, 'min');
  private bars = 0;
  private upperValue = Number.NaN;
  private middleValue = Number.NaN;
  private lowerValue = Number.NaN;

  constructor(period = 20) {
    this.period = intParam('donchian', 'period', period, 1);
    this.high = new RollingExtreme(period, 'max');
    this.low = new RollingExtreme(period, 'min');
  }

  /** Returns the middle line (NaN until ready); `upper` and `lower` hold the channel. */
  update(high: number, low: number): number {
    const u = this.high.push(high);
    const l = this.low.push(low);
    if (this.bars < this.period) {
      this.bars++;
      if (this.bars < this.period) return this.middleValue;
    }
    const mid = (u + l) / 2;
    this.upperValue = u;
    this.lowerValue = l;
    this.middleValue = mid;
    return mid;
  }

  get value(): number {
    return this.middleValue;
  }

  get upper(): number {
    return this.upperValue;
  }

  get middle(): number {
    return this.middleValue;
  }

  get lower(): number {
    return this.lowerValue;
  }

  get ready(): boolean {
    return this.bars >= this.period;
  }

  reset(): void {
    this.high.reset();
    this.low.reset();
    this.bars = 0;
    this.upperValue = Number.NaN;
    this.middleValue = Number.NaN;
    this.lowerValue = Number.NaN;
  }
}
