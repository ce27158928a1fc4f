// Microstructure features from top-of-book quotes and trades: order-book imbalance, microprice, realised
// volatility and trade-flow imbalance. O(1) per update, no allocation; prices and sizes are plain doubles (the
// strategy layer converts ticks and lots). Windows count events (quotes, trades or bars), not wall time.

import { Float64Ring } from '../memory/ring-buffer.ts';
import { CompensatedSum, intParam, numParam, placeholderRing } from './common.ts';

/**
 * Top-of-book imbalance (bidSize - askSize) / (bidSize + askSize), in [-1, 1], > 0 when bids dominate; 0 for an
 * empty book. period > 1 smooths it with an EMA (alpha 2 / (period + 1), seeded with the first value), which damps
 * quote flicker; period 1 is the raw value. Ready from the first update.
 */
export class BookImbalance {
  readonly period: number = 1;
  private readonly alpha: number = 1;
  private started = false;
  private current = Number.NaN;

  constructor(period = 1) {
    this.period = intParam('obi', 'period', period, 1);
    this.alpha = 2 / (period + 1);
  }

  update(bidSize: number, askSize: number): number {
    const total = bidSize + askSize;
    const raw = total > 0 ? (bidSize - askSize) / total : 0;
    if (!this.started) {
      this.started = true;
      this.current = raw;
      return raw;
    }
    const v = this.current + this.alpha * (raw - this.current);
    this.current = v;
    return v;
  }

  get value(): number {
    return this.current;
  }

  get ready(): boolean {
    return this.started;
  }

  reset(): void {
    this.started = false;
    this.current = Number.NaN;
  }
}

/** Imbalance over the first `levels` levels of each side (sizes best first): sum(bid) vs sum(ask), in [-1, 1]. */
export function depthImbalance(
  bidSizes: ArrayLike<number>,
  askSizes: ArrayLike<number>,
  levels: number,
): number {
  let b = 0;
  let a = 0;
  const nb = Math.min(levels, bidSizes.length);
  const na = Math.min(levels, askSizes.length);
  for (let i = 0; i < nb; i++) b += bidSizes[i]!;
  for (let i = 0; i < na; i++) a += askSizes[i]!;
  return b + a > 0 ? (b - a) / (b + a) : 0;
}

/**
 * Microprice (size-weighted mid): (bid * askSize + ask * bidSize) / (bidSize + askSize). It leans towards the side
 * more likely to trade next: a heavy bid pulls it up towards the ask. The plain mid when both sizes are 0.
 */
export class Microprice {
  private started = false;
  private current = Number.NaN;

  update(bidPrice: number, bidSize: number, askPrice: number, askSize: number): number {
    const total = bidSize + askSize;
    const v = total > 0 ? (bidPrice * askSize + askPrice * bidSize) / total : (bidPrice + askPrice) / 2;
    this.started = true;
    this.current = v;
    return v;
  }

  get value(): number {
    return this.current;
  }

  get ready(): boolean {
    return this.started;
  }

  reset(): void {
    this.started = false;
    this.current = Number.NaN;
  }
}

/**
 * Realised volatility over the last `period` log returns: sqrt(sum r^2) (no mean removal, the usual estimator for
 * high-frequency returns). periodsPerYear > 0 annualises it: sqrt(sum r^2 / period * periodsPerYear).
 * First output at bar `period` (period returns need period + 1 prices). Prices must be positive.
 */
export class RealizedVolatility {
  readonly period: number = 1;
  private readonly scale: number = 1;
  private readonly squares: Float64Ring = placeholderRing();
  private started = false;
  private prev = 0;
  private readonly sum: CompensatedSum = new CompensatedSum();
  /** Non-zero returns in the window. */
  private moves = 0;
  private current = Number.NaN;

  constructor(period = 20, periodsPerYear = 0) {
    this.period = intParam('rv', 'period', period, 1);
    numParam('rv', 'periodsPerYear', periodsPerYear, 0);
    this.scale = periodsPerYear > 0 ? periodsPerYear / period : 1;
    this.squares = new Float64Ring(period);
  }

  update(price: number): number {
    const prev = this.prev;
    this.prev = price;
    if (!this.started) {
      this.started = true;
      return this.current;
    }
    const r = Math.log(price / prev);
    const sq = r * r;
    const squares = this.squares;
    if (squares.size === this.period) {
      const old = squares.shift();
      // A window of unchanged prices is exactly 0, not the residue of the running sum.
      if (old !== 0) {
        if (--this.moves === 0) this.sum.clear();
        else this.sum.add(-old);
      }
    }
    squares.push(sq);
    if (sq !== 0) {
      this.moves++;
      this.sum.add(sq);
    }
    if (squares.size < this.period) return this.current;
    const v = Math.sqrt(Math.max(this.sum.value, 0) * this.scale);
    this.current = v;
    return v;
  }

  get value(): number {
    return this.current;
  }

  get ready(): boolean {
    return this.squares.size === this.period;
  }

  reset(): void {
    this.squares.clear();
    this.started = false;
    this.prev = 0;
    this.sum.clear();
    this.moves = 0;
    this.current = Number.NaN;
  }
}

/**
 * Trade-flow imbalance over the last `period` trades: (buy volume - sell volume) / (buy + sell volume), in [-1, 1].
 * Input is the signed size: > 0 for a buyer-initiated (aggressive buy) trade, < 0 for a seller-initiated one.
 * 0 when the window's volume is 0. Ready after `period` trades.
 */
export class TradeFlowImbalance {
  readonly period: number = 1;
  private readonly sizes: Float64Ring = placeholderRing();
  private readonly net: CompensatedSum = new CompensatedSum();
  private readonly gross: CompensatedSum = new CompensatedSum();
  /** Non-zero trades in the window. */
  private trades = 0;
  private current = Number.NaN;

  constructor(period = 100) {
    this.period = intParam('tfi', 'period', period, 1);
    this.sizes = new Float64Ring(period);
  }

  update(signedSize: number): number {
    const sizes = this.sizes;
    if (sizes.size === this.period) {
      const old = sizes.shift();
      if (old !== 0) {
        if (--this.trades === 0) {
          this.net.clear();
          this.gross.clear();
        } else {
          this.net.add(-old);
          this.gross.add(-Math.abs(old));
        }
      }
    }
    sizes.push(signedSize);
    if (signedSize !== 0) {
      this.trades++;
      this.net.add(signedSize);
      this.gross.add(Math.abs(signedSize));
    }
    if (sizes.size < this.period) return this.current;
    const gross = this.gross.value;
    // Rounding in the running sums must not push the ratio past +/-1.
    const v = gross > 0 ? Math.max(-1, Math.min(1, this.net.value / gross)) : 0;
    this.current = v;
    return v;
  }

  get value(): number {
    return this.current;
  }

  get ready(): boolean {
    return this.sizes.size === this.period;
  }

  reset(): void {
    this.sizes.clear();
    this.net.clear();
    this.gross.clear();
    this.trades = 0;
    this.current = Number.NaN;
  }
}
