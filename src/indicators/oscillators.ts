// Momentum oscillators: RSI, Stochastic, StochRSI, MACD, CCI, ROC, Momentum, Williams %R. O(1) per update except
// CCI (exact mean deviation is O(period), see Cci). Outputs NaN until ready; no allocation per update.
// Conventions follow TA-Lib (Wilder smoothing seeded with an SMA, SMA-seeded EMAs); options cover Tulip/StockCharts.

import { Float64Ring } from '../memory/ring-buffer.ts';
import {
  checkBatch,
  EMA_SEEDS,
  type EmaSeed,
  enumParam,
  intParam,
  numParam,
  placeholderRing,
  RollingExtreme,
} from './common.ts';
import { Sma } from './moving-averages.ts';

// Gain and loss of a change without a branch (a coin-flip branch on every price change mispredicts half the
// time): (d + |d|) / 2 is exactly max(d, 0) and (|d| - d) / 2 exactly max(-d, 0) in floating point.
function upMove(d: number): number {
  return (d + Math.abs(d)) * 0.5;
}

function downMove(d: number): number {
  return (Math.abs(d) - d) * 0.5;
}

/**
 * How RSI's Wilder averages start. 'sma' (TA-Lib, Tulip, Wilder's book, StockCharts' worked table): the first
 * average gain/loss is the SMA of the first `period` changes. 'zero' (bukosabino ta, i.e. pandas
 * ewm(alpha=1/period, adjust=False) over gains with a 0 on bar 0): both start at 0 on bar 0 and follow the Wilder
 * recursion from bar 1. Both publish from bar `period`; the difference decays by (period-1)/period per bar.
 */
export type RsiSeed = 'sma' | 'zero';
export const RSI_SEEDS: readonly RsiSeed[] = ['sma', 'zero'];

/**
 * Relative strength index with Wilder smoothing: avg = avg * (1 - 1/period) + change / period, RSI = 100 * avg
 * gain / (avg gain + avg loss). First output at bar `period`; 0 when there was no movement at all (TA-Lib).
 */
export class Rsi {
  readonly period: number = 1;
  readonly seed: RsiSeed = 'sma';
  private readonly alpha: number = 1;
  private readonly beta: number = 0;
  private started = false;
  private changes = 0;
  private prev = 0;
  private gain = 0;
  private loss = 0;
  private current = Number.NaN;

  constructor(period: number, seed: RsiSeed = 'sma') {
    this.period = intParam('rsi', 'period', period, 1);
    this.seed = enumParam('rsi', 'seed', seed, RSI_SEEDS);
    this.alpha = 1 / period;
    this.beta = 1 - this.alpha;
  }

  update(x: number): number {
    const d = x - this.prev;
    this.prev = x;
    const period = this.period;
    if (this.changes >= period) {
      // Wilder's recursion as avg * (1 - 1/period) + x / period, factors precomputed: one multiply and one add on
      // the loop-carried path (TA-Lib's (avg * (period - 1) + x) / period is the same up to rounding).
      const alpha = this.alpha;
      const beta = this.beta;
      const gain = this.gain * beta + upMove(d) * alpha;
      const loss = this.loss * beta + downMove(d) * alpha;
      this.gain = gain;
      this.loss = loss;
      const sum = gain + loss;
      const v = sum !== 0 ? (100 * gain) / sum : 0;
      this.current = v;
      return v;
    }
    return this.warmUp(d);
  }

  private warmUp(d: number): number {
    if (!this.started) {
      this.started = true;
      return this.current;
    }
    const period = this.period;
    const changes = this.changes + 1;
    this.changes = changes;
    if (this.seed === 'zero') {
      this.gain = this.gain * this.beta + upMove(d) * this.alpha;
      this.loss = this.loss * this.beta + downMove(d) * this.alpha;
      if (changes < period) return this.current;
    } else {
      if (d > 0) this.gain += d;
      else this.loss -= d;
      if (changes < period) return this.current;
      this.gain /= changes;
      this.loss /= changes;
    }
    const sum = this.gain + this.loss;
    this.current = sum !== 0 ? (100 * this.gain) / sum : 0;
    return this.current;
  }

  get value(): number {
    return this.current;
  }

  get ready(): boolean {
    return this.changes >= this.period;
  }

  reset(): void {
    this.started = false;
    this.changes = 0;
    this.prev = 0;
    this.gain = 0;
    this.loss = 0;
    this.current = Number.NaN;
  }
}

export function rsiBatch(src: Float64Array, out: Float64Array, period: number, seed: RsiSeed = 'sma'): void {
  intParam('rsi', 'period', period, 1);
  enumParam('rsi', 'seed', seed, RSI_SEEDS);
  const n = src.length;
  checkBatch('rsi', n, out);
  const warm = Math.min(period, n);
  const alpha = 1 / period;
  const beta = 1 - alpha;
  let gain = 0;
  let loss = 0;
  for (let i = 0; i < warm; i++) out[i] = Number.NaN;
  for (let i = 1; i <= period && i < n; i++) {
    const d = src[i]! - src[i - 1]!;
    if (seed === 'zero') {
      gain = gain * beta + upMove(d) * alpha;
      loss = loss * beta + downMove(d) * alpha;
    } else if (d > 0) gain += d;
    else loss -= d;
  }
  if (n <= period) return;
  if (seed === 'sma') {
    gain /= period;
    loss /= period;
  }
  let sum = gain + loss;
  out[period] = sum !== 0 ? (100 * gain) / sum : 0;
  let prev = src[period]!;
  for (let i = period + 1; i < n; i++) {
    const x = src[i]!;
    const d = x - prev;
    prev = x;
    gain = gain * beta + upMove(d) * alpha;
    loss = loss * beta + downMove(d) * alpha;
    sum = gain + loss;
    out[i] = sum !== 0 ? (100 * gain) / sum : 0;
  }
}

/**
 * Stochastic oscillator. fast %K = 100 * (close - LL) / (HH - LL) over `kPeriod` bars (0 when HH = LL, as
 * TA-Lib); %K = SMA(fast %K, kSmooth) (kSmooth 1 = the fast stochastic); %D = SMA(%K, dPeriod). Both outputs
 * start together at bar kPeriod + kSmooth + dPeriod - 3, as TA-Lib's STOCH with SMA smoothing and Tulip's stoch.
 */
export class Stochastic {
  readonly kPeriod: number = 1;
  private readonly high: RollingExtreme = new RollingExtreme(1, 'max');
  private readonly low: RollingExtreme = new RollingExtreme(1, 'min');
  private readonly kSma: Sma = new Sma(1);
  private readonly dSma: Sma = new Sma(1);
  private bars = 0;
  private kValue = Number.NaN;
  private dValue = Number.NaN;

  constructor(kPeriod = 14, kSmooth = 3, dPeriod = 3) {
    this.kPeriod = intParam('stoch', 'kPeriod', kPeriod, 1);
    intParam('stoch', 'kSmooth', kSmooth, 1);
    intParam('stoch', 'dPeriod', dPeriod, 1);
    this.high = new RollingExtreme(kPeriod, 'max');
    this.low = new RollingExtreme(kPeriod, 'min');
    this.kSma = new Sma(kSmooth);
    this.dSma = new Sma(dPeriod);
  }

  /** Returns %K (NaN until ready); %D is in `d`. */
  update(high: number, low: number, close: number): number {
    const hh = this.high.push(high);
    const ll = this.low.push(low);
    if (this.bars < this.kPeriod) {
      this.bars++;
      if (this.bars < this.kPeriod) return this.kValue;
    }
    const range = hh - ll;
    const fast = range > 0 ? (100 * (close - ll)) / range : 0;
    const k = this.kSma.update(fast);
    if (!this.kSma.ready) return this.kValue;
    const d = this.dSma.update(k);
    if (!this.dSma.ready) return this.kValue;
    this.kValue = k;
    this.dValue = d;
    return k;
  }

  get value(): number {
    return this.kValue;
  }

  get k(): number {
    return this.kValue;
  }

  get d(): number {
    return this.dValue;
  }

  get ready(): boolean {
    return this.dSma.ready;
  }

  reset(): void {
    this.high.reset();
    this.low.reset();
    this.kSma.reset();
    this.dSma.reset();
    this.bars = 0;
    this.kValue = Number.NaN;
    this.dValue = Number.NaN;
  }
}

/**
 * Stochastic RSI: raw = scale * (RSI - min RSI) / (max RSI - min RSI) over `stochPeriod` RSI values (0 when flat,
 * as TA-Lib and Tulip); %K = SMA(raw, kSmooth), %D = SMA(%K, dPeriod). TA-Lib's STOCHRSI is kSmooth 1 with scale
 * 100; Tulip's stochrsi and StockCharts print raw on a 0..1 scale (scale 1, kSmooth 1, dPeriod 1). `rsiSeed` as Rsi.
 */
export class StochRsi {
  private readonly rsi: Rsi = new Rsi(1);
  private readonly high: RollingExtreme = new RollingExtreme(1, 'max');
  private readonly low: RollingExtreme = new RollingExtreme(1, 'min');
  private readonly kSma: Sma = new Sma(1);
  private readonly dSma: Sma = new Sma(1);
  private readonly stochPeriod: number = 1;
  private readonly scale: number = 100;
  private rsiCount = 0;
  private kValue = Number.NaN;
  private dValue = Number.NaN;

  constructor(
    period = 14,
    stochPeriod = 14,
    kSmooth = 1,
    dPeriod = 3,
    scale = 100,
    rsiSeed: RsiSeed = 'sma',
  ) {
    this.rsi = new Rsi(period, rsiSeed);
    this.stochPeriod = intParam('stochrsi', 'stochPeriod', stochPeriod, 1);
    intParam('stochrsi', 'kSmooth', kSmooth, 1);
    intParam('stochrsi', 'dPeriod', dPeriod, 1);
    this.scale = numParam('stochrsi', 'scale', scale, Number.MIN_VALUE);
    this.high = new RollingExtreme(stochPeriod, 'max');
    this.low = new RollingExtreme(stochPeriod, 'min');
    this.kSma = new Sma(kSmooth);
    this.dSma = new Sma(dPeriod);
  }

  /** Returns %K (NaN until ready); %D is in `d`. */
  update(x: number): number {
    const r = this.rsi.update(x);
    if (!this.rsi.ready) return this.kValue;
    const hh = this.high.push(r);
    const ll = this.low.push(r);
    if (this.rsiCount < this.stochPeriod) {
      this.rsiCount++;
      if (this.rsiCount < this.stochPeriod) return this.kValue;
    }
    const range = hh - ll;
    const raw = range > 0 ? (this.scale * (r - ll)) / range : 0;
    const k = this.kSma.update(raw);
    if (!this.kSma.ready) return this.kValue;
    const d = this.dSma.update(k);
    if (!this.dSma.ready) return this.kValue;
    this.kValue = k;
    this.dValue = d;
    return k;
  }

  get value(): number {
    return this.kValue;
  }

  get k(): number {
    return this.kValue;
  }

  get d(): number {
    return this.dValue;
  }

  get ready(): boolean {
    return this.dSma.ready;
  }

  reset(): void {
    this.rsi.reset();
    this.high.reset();
    this.low.reset();
    this.kSma.reset();
    this.dSma.reset();
    this.rsiCount = 0;
    this.kValue = Number.NaN;
    this.dValue = Number.NaN;
  }
}

/**
 * MACD = EMA(fast) - EMA(slow); signal = EMA(MACD, signal); histogram = MACD - signal. All three start together.
 * seed 'sma' (TA-Lib): the slow EMA is seeded with the SMA of the first `slow` inputs and the fast EMA with the
 * SMA of the `fast` inputs ending on the same bar (TA-Lib aligns them); the signal EMA is seeded with the SMA of
 * the first `signal` MACD values; first output at bar slow + signal - 2.
 * seed 'first' (Tulip, pandas): both EMAs start at the first input, the signal starts at the MACD of bar slow-1;
 * first output at bar slow - 1. Tulip's special 0.15/0.075 constants for 12/26 are not reproduced.
 */
export class Macd {
  readonly fast: number = 12;
  readonly slow: number = 26;
  readonly signalPeriod: number = 9;
  readonly seed: EmaSeed = 'sma';
  private readonly fastAlpha: number = 0;
  private readonly slowAlpha: number = 0;
  private readonly signalAlpha: number = 0;
  private readonly fastBeta: number = 1;
  private readonly slowBeta: number = 1;
  private readonly signalBeta: number = 1;
  private inputs = 0;
  private signalInputs = 0;
  /** True once the signal line is seeded: the steady-state path. */
  private warm = false;
  private fastSum = 0;
  private slowSum = 0;
  private signalSum = 0;
  private fastEma = 0;
  private slowEma = 0;
  private signalEma = 0;
  private macdValue = Number.NaN;
  private signalValue = Number.NaN;
  private histValue = Number.NaN;

  constructor(fast = 12, slow = 26, signal = 9, seed: EmaSeed = 'sma') {
    this.fast = intParam('macd', 'fast', fast, 1);
    this.slow = intParam('macd', 'slow', slow, fast);
    this.signalPeriod = intParam('macd', 'signal', signal, 1);
    this.seed = enumParam('macd', 'seed', seed, EMA_SEEDS);
    this.fastAlpha = 2 / (fast + 1);
    this.slowAlpha = 2 / (slow + 1);
    this.signalAlpha = 2 / (signal + 1);
    this.fastBeta = 1 - this.fastAlpha;
    this.slowBeta = 1 - this.slowAlpha;
    this.signalBeta = 1 - this.signalAlpha;
  }

  /** Returns the MACD line (NaN until ready); signal and histogram are in `signal` and `histogram`. */
  update(x: number): number {
    if (this.warm) {
      // ema * (1 - alpha) + alpha * x, as Ema: one multiply and one add on each loop-carried path.
      const f = this.fastEma * this.fastBeta + this.fastAlpha * x;
      const s = this.slowEma * this.slowBeta + this.slowAlpha * x;
      const m = f - s;
      const g = this.signalEma * this.signalBeta + this.signalAlpha * m;
      this.fastEma = f;
      this.slowEma = s;
      this.signalEma = g;
      this.macdValue = m;
      this.signalValue = g;
      this.histValue = m - g;
      return m;
    }
    this.warmUp(x);
    return this.macdValue;
  }

  private warmUp(x: number): void {
    const i = this.inputs;
    this.inputs = i + 1;
    const slow = this.slow;
    if (this.seed === 'first') {
      if (i === 0) {
        this.fastEma = x;
        this.slowEma = x;
      } else {
        this.fastEma = this.fastEma * this.fastBeta + this.fastAlpha * x;
        this.slowEma = this.slowEma * this.slowBeta + this.slowAlpha * x;
      }
      if (i < slow - 1) return;
      const m = this.fastEma - this.slowEma;
      this.signalEma = m;
      this.warm = true;
      this.publish(m);
      return;
    }
    if (i < slow) {
      this.slowSum += x;
      if (i >= slow - this.fast) this.fastSum += x;
      if (i < slow - 1) return;
      this.slowEma = this.slowSum / slow;
      this.fastEma = this.fastSum / this.fast;
    } else {
      this.fastEma = this.fastEma * this.fastBeta + this.fastAlpha * x;
      this.slowEma = this.slowEma * this.slowBeta + this.slowAlpha * x;
    }
    const m = this.fastEma - this.slowEma;
    this.signalSum += m;
    this.signalInputs++;
    if (this.signalInputs < this.signalPeriod) return;
    this.signalEma = this.signalSum / this.signalPeriod;
    this.warm = true;
    this.publish(m);
  }

  private publish(m: number): void {
    this.macdValue = m;
    this.signalValue = this.signalEma;
    this.histValue = m - this.signalEma;
  }

  get value(): number {
    return this.macdValue;
  }

  /** The fast and slow EMA states, so the batch form can continue in a tight loop after the warm-up. */
  get fastState(): number {
    return this.fastEma;
  }

  get slowState(): number {
    return this.slowEma;
  }

  get macd(): number {
    return this.macdValue;
  }

  get signal(): number {
    return this.signalValue;
  }

  get histogram(): number {
    return this.histValue;
  }

  get ready(): boolean {
    return this.warm;
  }

  reset(): void {
    this.inputs = 0;
    this.signalInputs = 0;
    this.warm = false;
    this.fastSum = 0;
    this.slowSum = 0;
    this.signalSum = 0;
    this.fastEma = 0;
    this.slowEma = 0;
    this.signalEma = 0;
    this.macdValue = Number.NaN;
    this.signalValue = Number.NaN;
    this.histValue = Number.NaN;
  }
}

export function macdBatch(
  src: Float64Array,
  outMacd: Float64Array,
  outSignal: Float64Array,
  outHist: Float64Array,
  fast = 12,
  slow = 26,
  signal = 9,
  seed: EmaSeed = 'sma',
): void {
  const n = src.length;
  checkBatch('macd', n, outMacd, outSignal, outHist);
  // The warm-up is short and branchy: run it through the streaming class, then continue in a tight loop.
  const m = new Macd(fast, slow, signal, seed);
  let i = 0;
  for (; i < n && !m.ready; i++) {
    m.update(src[i]!);
    outMacd[i] = m.macd;
    outSignal[i] = m.signal;
    outHist[i] = m.histogram;
  }
  if (i >= n) return;
  const fa = 2 / (fast + 1);
  const sa = 2 / (slow + 1);
  const ga = 2 / (signal + 1);
  const fb = 1 - fa;
  const sb = 1 - sa;
  const gb = 1 - ga;
  // Recover the EMA states from the last published values: macd = f - s, so keep f and s explicitly.
  let f = m.fastState;
  let s = m.slowState;
  let g = m.signal;
  for (; i < n; i++) {
    const x = src[i]!;
    f = f * fb + fa * x;
    s = s * sb + sa * x;
    const v = f - s;
    g = g * gb + ga * v;
    outMacd[i] = v;
    outSignal[i] = g;
    outHist[i] = v - g;
  }
}

/**
 * Commodity channel index: (TP - SMA(TP)) / (0.015 * mean deviation), TP = (high + low + close) / 3, the mean
 * deviation taken about the current SMA (TA-Lib, Tulip, StockCharts). That deviation has no O(1) update (every
 * term moves with the mean), so each update costs O(period): two tight passes over the window; 0 when flat.
 * The window is a plain Float64Array of exactly `period` slots walked in two contiguous runs (oldest to the end,
 * then the start to the newest): the same additions in the same order as indexing a ring, without a bounds check
 * and a mask per element.
 */
export class Cci {
  readonly period: number = 1;
  private readonly window: Float64Array = new Float64Array(1);
  /** Slot of the oldest value once full; the next slot to write. */
  private slot = 0;
  private filled = 0;
  private current = Number.NaN;

  constructor(period = 20) {
    this.period = intParam('cci', 'period', period, 1);
    this.window = new Float64Array(period);
  }

  update(high: number, low: number, close: number): number {
    const tp = (high + low + close) / 3;
    const w = this.window;
    const period = this.period;
    const slot = this.slot;
    w[slot] = tp;
    const oldest = slot + 1 === period ? 0 : slot + 1;
    this.slot = oldest;
    if (this.filled < period) {
      this.filled++;
      if (this.filled < period) return this.current;
    }
    // The window is walked anyway for the deviation, so the mean comes from the same values exactly (a running
    // sum would drift by an ulp of the price level per bar, which a small deviation turns into visible error).
    let sum = 0;
    for (let i = oldest; i < period; i++) sum += w[i]!;
    for (let i = 0; i < oldest; i++) sum += w[i]!;
    const mean = sum / period;
    let dev = 0;
    for (let i = oldest; i < period; i++) dev += Math.abs(w[i]! - mean);
    for (let i = 0; i < oldest; i++) dev += Math.abs(w[i]! - mean);
    dev /= period;
    const v = dev !== 0 ? (tp - mean) / (0.015 * dev) : 0;
    this.current = v;
    return v;
  }

  get value(): number {
    return this.current;
  }

  get ready(): boolean {
    return this.filled === this.period;
  }

  reset(): void {
    this.slot = 0;
    this.filled = 0;
    this.current = Number.NaN;
  }
}

/** Shared shape of ROC and Momentum: x compared with the input `period` bars ago. */
class Lagged {
  readonly period: number = 1;
  protected readonly ring: Float64Ring = placeholderRing();
  protected current = Number.NaN;

  constructor(name: string, period: number) {
    this.period = intParam(name, 'period', period, 1);
    this.ring = new Float64Ring(period + 1);
  }

  /** Pushes x and returns the input `period` bars ago (NaN while warming up). */
  protected lag(x: number): number {
    const ring = this.ring;
    if (ring.size === this.period + 1) ring.shift();
    ring.push(x);
    return ring.size === this.period + 1 ? ring.peek() : Number.NaN;
  }

  get value(): number {
    return this.current;
  }

  get ready(): boolean {
    return this.ring.size === this.period + 1;
  }

  reset(): void {
    this.ring.clear();
    this.current = Number.NaN;
  }
}

/**
 * Rate of change: scale * (x - x[period]) / x[period]; scale 100 = TA-Lib ROC and StockCharts (percent), scale 1 =
 * Tulip roc (fraction). 0 when x[period] is 0 (TA-Lib). First output at bar `period`.
 */
export class Roc extends Lagged {
  readonly scale: number = 100;

  constructor(period = 10, scale = 100) {
    super('roc', period);
    this.scale = numParam('roc', 'scale', scale, Number.MIN_VALUE);
  }

  update(x: number): number {
    const prev = this.lag(x);
    const v = prev !== 0 ? (this.scale * (x - prev)) / prev : 0;
    this.current = v;
    return v;
  }
}

/** Momentum: x - x[period] (TA-Lib MOM, Tulip mom). First output at bar `period`. */
export class Momentum extends Lagged {
  constructor(period = 10) {
    super('mom', period);
  }

  update(x: number): number {
    const v = x - this.lag(x);
    this.current = v;
    return v;
  }
}

/**
 * Williams %R: -100 * (HH - close) / (HH - LL) over `period` bars, in [-100, 0]; 0 when HH = LL (TA-Lib).
 * First output at bar period - 1.
 */
export class WilliamsR {
  readonly period: number = 1;
  private readonly high: RollingExtreme = new RollingExtreme(1, 'max');
  private readonly low: RollingExtreme = new RollingExtreme(1, 'min');
  private bars = 0;
  private current = Number.NaN;

  constructor(period = 14) {
    this.period = intParam('willr', 'period', period, 1);
    this.high = new RollingExtreme(period, 'max');
    this.low = new RollingExtreme(period, 'min');
  }

  update(high: number, low: number, close: number): number {
    const hh = this.high.push(high);
    const ll = this.low.push(low);
    if (this.bars < this.period) {
      this.bars++;
      if (this.bars < this.period) return this.current;
    }
    const range = hh - ll;
    const v = range !== 0 ? (-100 * (hh - close)) / range : 0;
    this.current = v;
    return v;
  }

  get value(): number {
    return this.current;
  }

  get ready(): boolean {
    return this.bars >= this.period;
  }

  reset(): void {
    this.high.reset();
    this.low.reset();
    this.bars = 0;
    this.current = Number.NaN;
  }
}
