// Trend indicators: ADX/DMI (+DI, -DI, DX, ADX), Parabolic SAR and Aroon. O(1) per update (Wilder recursions,
// monotonic deques), NaN until each output is available, no allocation per update. Inputs are bar high/low/close.
// Conventions: TA-Lib's by default; `convention` options reproduce Wilder's book (StockCharts) and Tulip exactly.

import { enumParam, intParam, numParam, RollingExtreme } from './common.ts';

/**
 * How the Wilder sums of TR, +DM and -DM start (they differ only in the first ~3 * period bars):
 * 'talib'  — sum of the first period-1 values, then one Wilder step; DI from bar `period`, ADX from 2*period - 1.
 * 'wilder' — sum of the first `period` values (Wilder's book, StockCharts); DI from bar `period`, ADX from 2*period - 1.
 * 'tulip'  — sum of the first period-1 values is already published; DI from bar period - 1, ADX from 2*period - 2.
 */
export type AdxConvention = 'talib' | 'wilder' | 'tulip';
export const ADX_CONVENTIONS: readonly AdxConvention[] = ['talib', 'wilder', 'tulip'];

/**
 * Average directional index with the directional indicators. +DM = up move when it exceeds the down move and is
 * positive (else 0), likewise -DM; Wilder sums S = S - S / period + v; +DI = 100 * S(+DM) / S(TR);
 * DX = 100 * |+DI - -DI| / (+DI + -DI); ADX = mean of the first `period` DX, then (adx * (period - 1) + dx) / period.
 * `update` returns the ADX; `plusDi`, `minusDi` and `dx` are available earlier (see AdxConvention).
 */
export class Adx {
  readonly period: number = 2;
  readonly convention: AdxConvention = 'talib';
  /** True ranges and DMs summed before the Wilder recursion starts (bars 1..seedBars). */
  private readonly seedBars: number = 1;
  private bars = 0;
  private prevHigh = 0;
  private prevLow = 0;
  private prevClose = 0;
  private tr = 0;
  private plusDm = 0;
  private minusDm = 0;
  private dxCount = 0;
  private dxSum = 0;
  private adxValue = Number.NaN;
  private plusDiValue = Number.NaN;
  private minusDiValue = Number.NaN;
  private dxValue = Number.NaN;

  constructor(period = 14, convention: AdxConvention = 'talib') {
    this.period = intParam('adx', 'period', period, 2);
    this.convention = enumParam('adx', 'convention', convention, ADX_CONVENTIONS);
    this.seedBars = convention === 'wilder' ? period : period - 1;
  }

  /** Returns the ADX (NaN until ready). */
  update(high: number, low: number, close: number): number {
    const bar = this.bars;
    const ph = this.prevHigh;
    const pl = this.prevLow;
    const pc = this.prevClose;
    this.prevHigh = high;
    this.prevLow = low;
    this.prevClose = close;
    if (bar === 0) {
      this.bars = 1;
      return this.adxValue;
    }
    const up = high - ph;
    const down = pl - low;
    const pdm = up > down && up > 0 ? up : 0;
    const mdm = down > up && down > 0 ? down : 0;
    const tr = Math.max(high, pc) - Math.min(low, pc);
    const m = this.seedBars;
    if (bar <= m) {
      this.bars = bar + 1;
      this.tr += tr;
      this.plusDm += pdm;
      this.minusDm += mdm;
      // 'talib' publishes nothing from the plain sums: its first DI follows one Wilder step.
      if (bar < m || this.convention === 'talib') return this.adxValue;
    } else {
      const period = this.period;
      this.tr = this.tr - this.tr / period + tr;
      this.plusDm = this.plusDm - this.plusDm / period + pdm;
      this.minusDm = this.minusDm - this.minusDm / period + mdm;
    }
    return this.publish();
  }

  private publish(): number {
    const tr = this.tr;
    const pdi = tr !== 0 ? (100 * this.plusDm) / tr : 0;
    const mdi = tr !== 0 ? (100 * this.minusDm) / tr : 0;
    const sum = pdi + mdi;
    const dx = sum !== 0 ? (100 * Math.abs(pdi - mdi)) / sum : 0;
    this.plusDiValue = pdi;
    this.minusDiValue = mdi;
    this.dxValue = dx;
    const period = this.period;
    const count = this.dxCount;
    if (count >= period) {
      const adx = (this.adxValue * (period - 1) + dx) / period;
      this.adxValue = adx;
      return adx;
    }
    this.dxCount = count + 1;
    this.dxSum += dx;
    if (count + 1 === period) this.adxValue = this.dxSum / period;
    return this.adxValue;
  }

  get value(): number {
    return this.adxValue;
  }

  get adx(): number {
    return this.adxValue;
  }

  get plusDi(): number {
    return this.plusDiValue;
  }

  get minusDi(): number {
    return this.minusDiValue;
  }

  get dx(): number {
    return this.dxValue;
  }

  get ready(): boolean {
    return this.dxCount >= this.period;
  }

  reset(): void {
    this.bars = 0;
    this.prevHigh = 0;
    this.prevLow = 0;
    this.prevClose = 0;
    this.tr = 0;
    this.plusDm = 0;
    this.minusDm = 0;
    this.dxCount = 0;
    this.dxSum = 0;
    this.adxValue = Number.NaN;
    this.plusDiValue = Number.NaN;
    this.minusDiValue = Number.NaN;
    this.dxValue = Number.NaN;
  }
}

/**
 * Parabolic SAR conventions (identical once the first reversal has happened, except for ties on the reversal test):
 * 'talib' — TA-Lib SAR: start short if bar 1's -DM is positive, else long; first EP is bar 1's extreme, SAR starts at
 * bar 0's opposite extreme; reverse when the low touches the SAR (<=). Output at bar i is the SAR in force for bar i.
 * 'tulip' — Tulip psar: start long if bar 1's high + low >= bar 0's; first EP is bar 0's extreme and the first step
 * already accelerates; reverse only when the low crosses the SAR (<).
 */
export type SarConvention = 'talib' | 'tulip';
export const SAR_CONVENTIONS: readonly SarConvention[] = ['talib', 'tulip'];

/** Wilder's Parabolic SAR; first output at bar 1. `isLong` tells the side the SAR of the latest bar belongs to. */
export class ParabolicSar {
  readonly step: number = 0.02;
  readonly max: number = 0.2;
  readonly convention: SarConvention = 'talib';
  private bars = 0;
  private long = true;
  private sar = 0;
  private ep = 0;
  private af = 0;
  /** High and low of the previous two bars (1 = the previous, 2 = the one before). */
  private high1 = 0;
  private low1 = 0;
  private high2 = 0;
  private low2 = 0;
  private current = Number.NaN;

  constructor(step = 0.02, max = 0.2, convention: SarConvention = 'talib') {
    this.step = numParam('psar', 'step', step, Number.MIN_VALUE);
    this.max = numParam('psar', 'max', max, step);
    this.convention = enumParam('psar', 'convention', convention, SAR_CONVENTIONS);
    this.af = step;
  }

  update(high: number, low: number): number {
    const bar = this.bars;
    if (bar < 2) {
      this.bars = bar + 1;
      if (bar === 0) {
        this.high1 = high;
        this.low1 = low;
        return this.current;
      }
      this.start(high, low);
    }
    const v = this.convention === 'talib' ? this.stepTalib(high, low) : this.stepTulip(high, low, bar);
    this.high2 = this.high1;
    this.low2 = this.low1;
    this.high1 = high;
    this.low1 = low;
    this.current = v;
    return v;
  }

  private start(high: number, low: number): void {
    const h0 = this.high1;
    const l0 = this.low1;
    this.af = this.step;
    if (this.convention === 'talib') {
      const up = high - h0;
      const down = l0 - low;
      this.long = !(down > 0 && up < down);
      this.ep = this.long ? high : low;
      this.sar = this.long ? l0 : h0;
      // TA-Lib takes bar 1 as its own previous bar on the first step.
      this.high1 = high;
      this.low1 = low;
    } else {
      this.long = h0 + l0 <= high + low;
      this.ep = this.long ? h0 : l0;
      this.sar = this.long ? l0 : h0;
    }
  }

  private stepTalib(high: number, low: number): number {
    const ph = this.high1;
    const pl = this.low1;
    let sar = this.sar;
    let out: number;
    if (this.long) {
      if (low <= sar) {
        this.long = false;
        sar = Math.max(this.ep, ph, high);
        out = sar;
        this.af = this.step;
        this.ep = low;
        sar += this.af * (this.ep - sar);
        sar = Math.max(sar, ph, high);
      } else {
        out = sar;
        if (high > this.ep) {
          this.ep = high;
          this.af = Math.min(this.af + this.step, this.max);
        }
        sar += this.af * (this.ep - sar);
        sar = Math.min(sar, pl, low);
      }
    } else if (high >= sar) {
      this.long = true;
      sar = Math.min(this.ep, pl, low);
      out = sar;
      this.af = this.step;
      this.ep = high;
      sar += this.af * (this.ep - sar);
      sar = Math.min(sar, pl, low);
    } else {
      out = sar;
      if (low < this.ep) {
        this.ep = low;
        this.af = Math.min(this.af + this.step, this.max);
      }
      sar += this.af * (this.ep - sar);
      sar = Math.max(sar, ph, high);
    }
    this.sar = sar;
    return out;
  }

  private stepTulip(high: number, low: number, bar: number): number {
    let sar = (this.ep - this.sar) * this.af + this.sar;
    if (this.long) {
      if (bar >= 2 && sar > this.low2) sar = this.low2;
      if (sar > this.low1) sar = this.low1;
      if (high > this.ep) {
        if (this.af < this.max) this.af = Math.min(this.af + this.step, this.max);
        this.ep = high;
      }
      if (low < sar) {
        this.af = this.step;
        sar = this.ep;
        this.long = false;
        this.ep = low;
      }
    } else {
      if (bar >= 2 && sar < this.high2) sar = this.high2;
      if (sar < this.high1) sar = this.high1;
      if (low < this.ep) {
        if (this.af < this.max) this.af = Math.min(this.af + this.step, this.max);
        this.ep = low;
      }
      if (high > sar) {
        this.af = this.step;
        sar = this.ep;
        this.long = true;
        this.ep = high;
      }
    }
    this.sar = sar;
    return sar;
  }

  get value(): number {
    return this.current;
  }

  /** The side of the latest output: true = the SAR sits below price (long). */
  get isLong(): boolean {
    return this.long;
  }

  get ready(): boolean {
    return this.bars >= 2;
  }

  reset(): void {
    this.bars = 0;
    this.long = true;
    this.sar = 0;
    this.ep = 0;
    this.af = this.step;
    this.high1 = 0;
    this.low1 = 0;
    this.high2 = 0;
    this.low2 = 0;
    this.current = Number.NaN;
  }
}

/**
 * Aroon: up = 100 * (period - bars since the highest high) / period over the last period + 1 bars, down likewise
 * with the lowest low, oscillator = up - down. The most recent bar wins ties (TA-Lib, Tulip). First output at bar `period`.
 */
export class Aroon {
  readonly period: number = 1;
  private readonly high: RollingExtreme = new RollingExtreme(1, 'max');
  private readonly low: RollingExtreme = new RollingExtreme(1, 'min');
  private bars = 0;
  private upValue = Number.NaN;
  private downValue = Number.NaN;
  private oscValue = Number.NaN;

  constructor(period = 14) {
    this.period = intParam('aroon', 'period', period, 1);
    this.high = new RollingExtreme(period + 1, 'max');
    this.low = new RollingExtreme(period + 1, 'min');
  }

  /** Returns the oscillator (up - down); `up` and `down` hold the two lines. */
  update(high: number, low: number): number {
    this.high.push(high);
    this.low.push(low);
    const period = this.period;
    // bars counts to period + 1: the first output needs period + 1 bars.
    if (this.bars <= period) {
      this.bars++;
      if (this.bars <= period) return this.oscValue;
    }
    const up = (100 * (period - this.high.age)) / period;
    const down = (100 * (period - this.low.age)) / period;
    this.upValue = up;
    this.downValue = down;
    const osc = up - down;
    this.oscValue = osc;
    return osc;
  }

  get value(): number {
    return this.oscValue;
  }

  get up(): number {
    return this.upValue;
  }

  get down(): number {
    return this.downValue;
  }

  get oscillator(): number {
    return this.oscValue;
  }

  get ready(): boolean {
    return this.bars > this.period;
  }

  reset(): void {
    this.high.reset();
    this.low.reset();
    this.bars = 0;
    this.upValue = Number.NaN;
    this.downValue = Number.NaN;
    this.oscValue = Number.NaN;
  }
}
