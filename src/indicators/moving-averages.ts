// Moving averages: SMA, EMA, WMA, DEMA, TEMA, HMA, KAMA. Streaming classes update in O(1) (running sums on a
// Float64Ring window, no allocation) and return NaN until ready; the *Batch functions fill a caller's Float64Array.
// Conventions follow TA-Lib (EMA seeded with the SMA of the first N) with a `seed: 'first'` option for Tulip/pandas.

import { Float64Ring } from '../memory/ring-buffer.ts';
import {
  CompensatedSum,
  checkBatch,
  EMA_SEEDS,
  type EmaSeed,
  enumParam,
  intParam,
  placeholderRing,
} from './common.ts';

/** Simple moving average of the last `period` values; ready after `period` values. */
export class Sma {
  readonly period: number = 1;
  // The window inline (not a Float64Ring): one slot read and written per update, the hottest indicator.
  private readonly window: Float64Array = new Float64Array(1);
  /** Slot of the oldest value once full; the next slot to write. */
  private slot = 0;
  private filled = 0;
  private sum = 0;
  private current = Number.NaN;

  constructor(period: number) {
    this.period = intParam('sma', 'period', period, 1);
    this.window = new Float64Array(period);
  }

  update(x: number): number {
    const period = this.period;
    const slot = this.slot;
    // Evict before adding, so a 1-bar SMA returns its input exactly.
    let sum = this.sum;
    if (this.filled === period) sum -= this.window[slot]!;
    else this.filled++;
    sum += x;
    this.window[slot] = x;
    this.slot = slot + 1 === period ? 0 : slot + 1;
    this.sum = sum;
    const v = this.filled === period ? sum / period : Number.NaN;
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
    this.sum = 0;
    this.current = Number.NaN;
  }
}

export function smaBatch(src: Float64Array, out: Float64Array, period: number): void {
  intParam('sma', 'period', period, 1);
  const n = src.length;
  checkBatch('sma', n, out);
  // The same operations in the same order as Sma.update, so batch and streaming agree to the bit.
  let sum = 0;
  const warm = Math.min(period, n);
  for (let i = 0; i < warm; i++) {
    sum += src[i]!;
    out[i] = Number.NaN;
  }
  if (n < period) return;
  out[period - 1] = sum / period;
  for (let i = period; i < n; i++) {
    sum -= src[i - period]!;
    sum += src[i]!;
    out[i] = sum / period;
  }
}

/**
 * Exponential moving average, alpha = 2 / (period + 1), ema = ema * (1 - alpha) + alpha * x: the same value as
 * TA-Lib's ema + alpha * (x - ema) up to rounding, with one operation less on the loop-carried path.
 * seed 'sma' (TA-Lib, default): the first value is the SMA of the first `period` inputs, ready after `period`.
 * seed 'first' (Tulip, pandas ewm adjust=False, StockCharts spreadsheets in ta): seeded with the first input,
 * ready from the first input.
 */
export class Ema {
  readonly period: number = 1;
  readonly seed: EmaSeed = 'sma';
  readonly alpha: number = 0;
  private readonly beta: number = 1;
  /** Inputs needed before the recursion starts: period for 'sma', 1 for 'first'. */
  private readonly seedCount: number = 1;
  private count = 0;
  /** count >= seedCount, kept as one flag so the steady state tests a single field. */
  private seeded = false;
  private sum = 0;
  private ema = Number.NaN;

  constructor(period: number, seed: EmaSeed = 'sma') {
    this.period = intParam('ema', 'period', period, 1);
    this.seed = enumParam('ema', 'seed', seed, EMA_SEEDS);
    this.alpha = 2 / (period + 1);
    this.beta = 1 - this.alpha;
    this.seedCount = seed === 'sma' ? period : 1;
  }

  update(x: number): number {
    if (this.seeded) {
      const v = this.ema * this.beta + this.alpha * x;
      this.ema = v;
      return v;
    }
    return this.warmUp(x);
  }

  private warmUp(x: number): number {
    const count = this.count + 1;
    this.count = count;
    this.sum += x;
    if (count === this.seedCount) {
      this.ema = this.sum / count;
      this.seeded = true;
    }
    return this.ema;
  }

  get value(): number {
    return this.ema;
  }

  get ready(): boolean {
    return this.seeded;
  }

  reset(): void {
    this.count = 0;
    this.seeded = false;
    this.sum = 0;
    this.ema = Number.NaN;
  }
}

export function emaBatch(src: Float64Array, out: Float64Array, period: number, seed: EmaSeed = 'sma'): void {
  intParam('ema', 'period', period, 1);
  enumParam('ema', 'seed', seed, EMA_SEEDS);
  const n = src.length;
  checkBatch('ema', n, out);
  if (n === 0) return;
  const alpha = 2 / (period + 1);
  const beta = 1 - alpha;
  const seedCount = seed === 'sma' ? period : 1;
  if (n < seedCount) {
    out.fill(Number.NaN, 0, n);
    return;
  }
  let sum = 0;
  for (let i = 0; i < seedCount - 1; i++) {
    sum += src[i]!;
    out[i] = Number.NaN;
  }
  let ema = (sum + src[seedCount - 1]!) / seedCount;
  out[seedCount - 1] = ema;
  for (let i = seedCount; i < n; i++) {
    ema = ema * beta + alpha * src[i]!;
    out[i] = ema;
  }
}

/**
 * Linearly weighted moving average, weights 1..period (newest heaviest), as TA-Lib and Tulip. O(1): the
 * weighted sum steps as W' = W - S + period * x, with S the plain sum of the previous window.
 */
export class Wma {
  readonly period: number = 1;
  private readonly ring: Float64Ring = placeholderRing();
  private readonly divisor: number = 1;
  private sum = 0;
  private wsum = 0;
  private current = Number.NaN;

  constructor(period: number) {
    this.period = intParam('wma', 'period', period, 1);
    this.ring = new Float64Ring(period);
    this.divisor = (period * (period + 1)) / 2;
  }

  update(x: number): number {
    const ring = this.ring;
    const period = this.period;
    if (ring.size === period) {
      this.wsum += period * x - this.sum;
      this.sum += x - ring.shift();
      ring.push(x);
      const v = this.wsum / this.divisor;
      this.current = v;
      return v;
    }
    ring.push(x);
    this.wsum += ring.size * x;
    this.sum += x;
    const v = ring.size === period ? this.wsum / this.divisor : Number.NaN;
    this.current = v;
    return v;
  }

  get value(): number {
    return this.current;
  }

  get ready(): boolean {
    return this.ring.size === this.period;
  }

  reset(): void {
    this.ring.clear();
    this.sum = 0;
    this.wsum = 0;
    this.current = Number.NaN;
  }
}

export function wmaBatch(src: Float64Array, out: Float64Array, period: number): void {
  intParam('wma', 'period', period, 1);
  const n = src.length;
  checkBatch('wma', n, out);
  const divisor = (period * (period + 1)) / 2;
  let sum = 0;
  let wsum = 0;
  const warm = Math.min(period, n);
  for (let i = 0; i < warm; i++) {
    const x = src[i]!;
    sum += x;
    wsum += (i + 1) * x;
    out[i] = Number.NaN;
  }
  if (warm === period) out[period - 1] = wsum / divisor;
  for (let i = period; i < n; i++) {
    const x = src[i]!;
    wsum += period * x - sum;
    sum += x - src[i - period]!;
    out[i] = wsum / divisor;
  }
}

/**
 * Double EMA: 2 * EMA(x) - EMA(EMA(x)). The second EMA is fed from the bar where the first has seen `period`
 * inputs, so the first output is at bar 2 * (period - 1) for both seeds (TA-Lib with 'sma', Tulip with 'first').
 */
export class Dema {
  readonly period: number = 1;
  private readonly e1: Ema = new Ema(1);
  private readonly e2: Ema = new Ema(1);
  private count = 0;
  private current = Number.NaN;

  constructor(period: number, seed: EmaSeed = 'sma') {
    this.period = intParam('dema', 'period', period, 1);
    this.e1 = new Ema(period, seed);
    this.e2 = new Ema(period, seed);
  }

  update(x: number): number {
    const a = this.e1.update(x);
    const period = this.period;
    if (this.count < 2 * period - 1) this.count++;
    if (this.count < period) return this.current;
    const b = this.e2.update(a);
    const v = this.count >= 2 * period - 1 ? 2 * a - b : Number.NaN;
    this.current = v;
    return v;
  }

  get value(): number {
    return this.current;
  }

  get ready(): boolean {
    return this.count >= 2 * this.period - 1;
  }

  reset(): void {
    this.e1.reset();
    this.e2.reset();
    this.count = 0;
    this.current = Number.NaN;
  }
}

/**
 * Triple EMA: 3 * EMA - 3 * EMA(EMA) + EMA(EMA(EMA)); each stage is fed once the previous one has seen `period`
 * inputs, so the first output is at bar 3 * (period - 1) (TA-Lib with seed 'sma', Tulip with 'first').
 */
export class Tema {
  readonly period: number = 1;
  private readonly e1: Ema = new Ema(1);
  private readonly e2: Ema = new Ema(1);
  private readonly e3: Ema = new Ema(1);
  private count = 0;
  private current = Number.NaN;

  constructor(period: number, seed: EmaSeed = 'sma') {
    this.period = intParam('tema', 'period', period, 1);
    this.e1 = new Ema(period, seed);
    this.e2 = new Ema(period, seed);
    this.e3 = new Ema(period, seed);
  }

  update(x: number): number {
    const a = this.e1.update(x);
    const period = this.period;
    const last = 3 * period - 2;
    if (this.count < last) this.count++;
    const count = this.count;
    if (count < period) return this.current;
    const b = this.e2.update(a);
    if (count < 2 * period - 1) return this.current;
    const c = this.e3.update(b);
    const v = count >= last ? 3 * a - 3 * b + c : Number.NaN;
    this.current = v;
    return v;
  }

  get value(): number {
    return this.current;
  }

  get ready(): boolean {
    return this.count >= 3 * this.period - 2;
  }

  reset(): void {
    this.e1.reset();
    this.e2.reset();
    this.e3.reset();
    this.count = 0;
    this.current = Number.NaN;
  }
}

/**
 * Hull moving average: WMA(2 * WMA(x, floor(n/2)) - WMA(x, n), floor(sqrt(n))), Tulip's integer rounding
 * (TradingView rounds the square root instead; the two differ for n = 14, 15...). First output at n + floor(sqrt n) - 2.
 */
export class Hma {
  readonly period: number = 2;
  private readonly half: Wma = new Wma(1);
  private readonly full: Wma = new Wma(1);
  private readonly smooth: Wma = new Wma(1);
  private current = Number.NaN;

  constructor(period: number) {
    this.period = intParam('hma', 'period', period, 2);
    this.half = new Wma(Math.floor(period / 2));
    this.full = new Wma(period);
    this.smooth = new Wma(Math.floor(Math.sqrt(period)));
  }

  update(x: number): number {
    const h = this.half.update(x);
    const f = this.full.update(x);
    if (!this.full.ready) return this.current;
    const v = this.smooth.update(2 * h - f);
    this.current = v;
    return v;
  }

  get value(): number {
    return this.current;
  }

  get ready(): boolean {
    return this.smooth.ready;
  }

  reset(): void {
    this.half.reset();
    this.full.reset();
    this.smooth.reset();
    this.current = Number.NaN;
  }
}

/**
 * Kaufman adaptive moving average. ER = |x - x[n]| / sum(|x[i] - x[i-1]|, n) (1 when the sum is 0, as TA-Lib),
 * sc = (ER * (2/(fast+1) - 2/(slow+1)) + 2/(slow+1))^2, kama += sc * (x - kama). Seeded with the input at bar
 * n-1, first output at bar n (TA-Lib; Tulip and StockCharts also print the seed at bar n-1, same values after).
 */
export class Kama {
  readonly period: number = 1;
  private readonly slowSc: number = 0;
  private readonly scDiff: number = 0;
  /** The last period+1 inputs (x[n] is the oldest once full). */
  private readonly prices: Float64Ring = placeholderRing();
  /** The last `period` absolute one-bar changes. */
  private readonly changes: Float64Ring = placeholderRing();
  /** Path length: the sum of the absolute changes in the window. */
  private readonly volatility: CompensatedSum = new CompensatedSum();
  private kama = Number.NaN;
  private current = Number.NaN;

  constructor(period: number, fast = 2, slow = 30) {
    this.period = intParam('kama', 'period', period, 1);
    intParam('kama', 'fast', fast, 1);
    intParam('kama', 'slow', slow, 1);
    this.slowSc = 2 / (slow + 1);
    this.scDiff = 2 / (fast + 1) - this.slowSc;
    this.prices = new Float64Ring(period + 1);
    this.changes = new Float64Ring(period);
  }

  update(x: number): number {
    const prices = this.prices;
    const changes = this.changes;
    const period = this.period;
    if (!prices.isEmpty) {
      const change = Math.abs(x - prices.peekBack());
      if (changes.size === period) this.volatility.add(-changes.shift());
      changes.push(change);
      this.volatility.add(change);
    }
    if (prices.size === period + 1) prices.shift();
    prices.push(x);
    if (prices.size <= period) {
      // The bar before the first output seeds the average.
      if (prices.size === period) this.kama = x;
      return this.current;
    }
    const direction = Math.abs(x - prices.peek());
    const vol = this.volatility.value;
    const er = vol > 0 && direction < vol ? direction / vol : 1;
    const sc = er * this.scDiff + this.slowSc;
    const kama = this.kama + sc * sc * (x - this.kama);
    this.kama = kama;
    this.current = kama;
    return kama;
  }

  get value(): number {
    return this.current;
  }

  get ready(): boolean {
    return this.prices.size === this.period + 1;
  }

  reset(): void {
    this.prices.clear();
    this.changes.clear();
    this.volatility.clear();
    this.kama = Number.NaN;
    this.current = Number.NaN;
  }
}
