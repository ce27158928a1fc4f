// Volume indicators: VWAP (cumulative or rolling), OBV and the Money Flow Index. O(1) per update on Float64Ring
// windows, no allocation per update; inputs are bar high/low/close/volume as doubles (volume in base units).
// Typical price is (high + low + close) / 3 throughout, as TA-Lib, Tulip and StockCharts.

import { Float64Ring } from '../memory/ring-buffer.ts';
import { CompensatedSum, enumParam, intParam, placeholderRing } from './common.ts';

/**
 * Volume-weighted average price of the typical price. period 0 (default): cumulative since the last reset(), the
 * session VWAP (call reset() at the session start), ready from the first bar; period n: rolling over the last n
 * bars (bukosabino ta / StockCharts' rolling VWAP), ready after n bars. Falls back to the bar's typical price
 * while the window's volume is 0, so a quiet start yields a price rather than NaN.
 */
export class Vwap {
  readonly period: number = 0;
  private readonly pvs: Float64Ring = placeholderRing();
  private readonly vols: Float64Ring = placeholderRing();
  private readonly sumPv: CompensatedSum = new CompensatedSum();
  private readonly sumV: CompensatedSum = new CompensatedSum();
  /** Bars in the rolling window with a non-zero volume. */
  private traded = 0;
  private bars = 0;
  private current = Number.NaN;

  constructor(period = 0) {
    this.period = intParam('vwap', 'period', period, 0);
    if (period > 0) {
      this.pvs = new Float64Ring(period);
      this.vols = new Float64Ring(period);
    }
  }

  update(high: number, low: number, close: number, volume: number): number {
    const tp = (high + low + close) / 3;
    const pv = tp * volume;
    const period = this.period;
    if (period > 0) {
      const vols = this.vols;
      if (vols.size === period) {
        const oldPv = this.pvs.shift();
        const oldV = vols.shift();
        // Snap to exact zeros once no traded bar is left, so a quiet window falls back to the typical price
        // instead of dividing two rounding residues.
        if (oldV !== 0) {
          if (--this.traded === 0) {
            this.sumPv.clear();
            this.sumV.clear();
          } else {
            this.sumPv.add(-oldPv);
            this.sumV.add(-oldV);
          }
        }
      }
      this.pvs.push(pv);
      vols.push(volume);
      if (volume !== 0) this.traded++;
      if (this.bars < period) this.bars++;
    } else {
      this.bars = 1;
    }
    if (volume !== 0) {
      this.sumPv.add(pv);
      this.sumV.add(volume);
    }
    if (this.bars < period) return this.current;
    const sumV = this.sumV.value;
    const v = sumV > 0 ? this.sumPv.value / sumV : tp;
    this.current = v;
    return v;
  }

  get value(): number {
    return this.current;
  }

  get ready(): boolean {
    return this.bars > 0 && this.bars >= this.period;
  }

  reset(): void {
    this.pvs.clear();
    this.vols.clear();
    this.sumPv.clear();
    this.sumV.clear();
    this.traded = 0;
    this.bars = 0;
    this.current = Number.NaN;
  }
}

/**
 * Where OBV starts. 'volume' (TA-Lib): the first bar's OBV is its volume. 'zero' (Tulip, StockCharts): 0.
 * Afterwards both add the volume on an up close and subtract it on a down close.
 */
export type ObvStart = 'volume' | 'zero';
export const OBV_STARTS: readonly ObvStart[] = ['volume', 'zero'];

/** On-balance volume, ready from the first bar. */
export class Obv {
  readonly start: ObvStart = 'volume';
  private started = false;
  private prevClose = 0;
  private obv = 0;
  private current = Number.NaN;

  constructor(start: ObvStart = 'volume') {
    this.start = enumParam('obv', 'start', start, OBV_STARTS);
  }

  update(close: number, volume: number): number {
    const pc = this.prevClose;
    this.prevClose = close;
    if (this.started) {
      if (close > pc) this.obv += volume;
      else if (close < pc) this.obv -= volume;
    } else {
      this.started = true;
      this.obv = this.start === 'volume' ? volume : 0;
    }
    this.current = this.obv;
    return this.obv;
  }

  get value(): number {
    return this.current;
  }

  get ready(): boolean {
    return this.started;
  }

  reset(): void {
    this.started = false;
    this.prevClose = 0;
    this.obv = 0;
    this.current = Number.NaN;
  }
}

/**
 * Money flow index: 100 * positive flow / (positive + negative flow) over `period` bars, flow = typical price *
 * volume, positive when the typical price rose, negative when it fell, neither when unchanged. First output at
 * bar `period` (TA-Lib, Tulip, StockCharts). 0 when both flows are 0; TA-Lib also returns 0 whenever the flow
 * sum is below 1.0 (a quirk that zeroes small-volume crypto bars), which is not reproduced.
 */
export class Mfi {
  readonly period: number = 1;
  /** Signed flows: > 0 positive, < 0 negative money flow. */
  private readonly flows: Float64Ring = placeholderRing();
  private started = false;
  private prevTp = 0;
  private readonly pos: CompensatedSum = new CompensatedSum();
  private readonly neg: CompensatedSum = new CompensatedSum();
  /** Positive and negative flows in the window. */
  private posCount = 0;
  private negCount = 0;
  private current = Number.NaN;

  constructor(period = 14) {
    this.period = intParam('mfi', 'period', period, 1);
    this.flows = new Float64Ring(period);
  }

  update(high: number, low: number, close: number, volume: number): number {
    const tp = (high + low + close) / 3;
    const prev = this.prevTp;
    this.prevTp = tp;
    if (!this.started) {
      this.started = true;
      return this.current;
    }
    const mf = tp * volume;
    const flow = tp > prev ? mf : tp < prev ? -mf : 0;
    const flows = this.flows;
    if (flows.size === this.period) {
      const old = flows.shift();
      // A side with no flow left in the window is exactly 0, not a rounding residue.
      if (old > 0) {
        if (--this.posCount === 0) this.pos.clear();
        else this.pos.add(-old);
      } else if (old < 0) {
        if (--this.negCount === 0) this.neg.clear();
        else this.neg.add(old);
      }
    }
    flows.push(flow);
    if (flow > 0) {
      this.pos.add(flow);
      this.posCount++;
    } else if (flow < 0) {
      this.neg.add(-flow);
      this.negCount++;
    }
    if (flows.size < this.period) return this.current;
    const pos = this.pos.value;
    const sum = pos + this.neg.value;
    const v = sum > 0 ? (100 * pos) / sum : 0;
    this.current = v;
    return v;
  }

  get value(): number {
    return this.current;
  }

  get ready(): boolean {
    return this.flows.size === this.period;
  }

  reset(): void {
    this.flows.clear();
    this.started = false;
    this.prevTp = 0;
    this.pos.clear();
    this.neg.clear();
    this.posCount = 0;
    this.negCount = 0;
    this.current = Number.NaN;
  }
}
