// Exact integer arithmetic for the portfolio's hot path: round(a * b / c) and instrument notional values, on
// safe integers (money units, lots, ticks, 1e-8 rates) in doubles. Results travel in typed arrays and double
// fields, not return values: V8 boxes a non-Smi number passed to or returned from a call it did not inline.

import { mulDivRound, Rounding } from '../model/decimal.ts';
import type { Instrument } from '../model/instrument.ts';

const MAX = Number.MAX_SAFE_INTEGER;

/** True for a number within +-(2^53-1); false for NaN and infinities. Integer-ness is the caller's. */
export function isSafe(x: number): boolean {
  return x <= MAX && x >= -MAX;
}

/**
 * Operands of mulDivIo: MD[0] = a, MD[1] = b, MD[2] = c in; MD[3] = the rounded a * b / c out. One shared
 * register file (everything here is synchronous and never re-entered mid-computation).
 */
export const MD = new Float64Array(4);

/**
 * MD[3] = round(MD[0] * MD[1] / MD[2]) for safe integers a >= 0, b >= 0, c > 0, exactly, with `mode`
 * Rounding.HALF_EVEN or Rounding.CEIL. Returns false (MD[3] = NaN) when the result passes 2^53-1.
 * With a = k*c + r: a*b/c = k*b + r*b/c, where k*b is at most the result and r*b < c*b. Only when r*b passes
 * 2^53 (possible once c > ~9.5e7, e.g. a position above 95 million lots) does it take BigInt, which allocates;
 * every figure seen in practice stays on the double path.
 */
export function mulDivIo(mode: Rounding): boolean {
  const a = MD[0]!;
  const b = MD[1]!;
  const c = MD[2]!;
  // k = floor(a / c), r = a - k*c. A correctly rounded a / c overshoots the floor by at most one (an integer
  // quotient is representable) and k*c <= a + c stays exact; past that, a % c is exact for doubles.
  let k: number;
  let r: number;
  if (a + c <= MAX) {
    k = Math.trunc(a / c);
    r = a - k * c;
    if (r < 0) {
      k -= 1;
      r += c;
    }
  } else {
    r = a % c;
    k = (a - r) / c;
  }
  const hi = k * b;
  const lo = r * b;
  if (hi > MAX) {
    MD[3] = Number.NaN;
    return false;
  }
  if (lo > MAX) {
    const v = mulDivRound(a, b, 1, c, 1, mode);
    MD[3] = v;
    return !Number.isNaN(v);
  }
  let f: number;
  let rr: number;
  if (lo + c <= MAX) {
    f = Math.trunc(lo / c);
    rr = lo - f * c;
    if (rr < 0) {
      f -= 1;
      rr += c;
    }
  } else {
    rr = lo % c;
    f = (lo - rr) / c;
  }
  let n = hi + f;
  if (rr !== 0) {
    if (mode === Rounding.CEIL) n += 1;
    else {
      const twice = 2 * rr;
      if (twice > c || (twice === c && n % 2 !== 0)) n += 1;
    }
  }
  if (n > MAX) {
    MD[3] = Number.NaN;
    return false;
  }
  MD[3] = n;
  return true;
}

/** round(a * b / c), ties to even, for safe integers a, b >= 0, c > 0; NaN past 2^53-1. Cold-path convenience. */
export function mulDivHalfEven(a: number, b: number, c: number): number {
  MD[0] = a;
  MD[1] = b;
  MD[2] = c;
  mulDivIo(Rounding.HALF_EVEN);
  return MD[3]!;
}

/**
 * Instrument.tryNotional's arithmetic, inlined for the portfolio: the same reduced fraction (built from the
 * instrument's tick, lot, multiplier and settlement precision exactly as Instrument builds it) and the same
 * HALF_EVEN rounding, so the figures are identical (a property test holds them equal). It writes `result`
 * (a double field, updated in place) instead of returning a boxed double. Instruments with another notional
 * rounding, and products past 2^53, go to Instrument.tryNotional itself (which may allocate).
 */
export class ValueCalc {
  readonly instrument: Instrument;
  readonly inverse: boolean = false;
  readonly num: number = 0;
  readonly den: number = 1;
  /** The inline path applies (safe fraction, HALF_EVEN rounding). */
  readonly fast: boolean = false;
  /** The value of the last compute(), money units of the settlement currency; NaN after a failure. */
  result = 0;

  constructor(inst: Instrument) {
    this.instrument = inst;
    this.inverse = inst.isInverse;
    const t = inst.tickSize;
    const l = inst.lotSize;
    const m = inst.multiplier;
    const p = inst.settlement.precision;
    let num: bigint;
    let den: bigint;
    if (!inst.isInverse) {
      num = t.unitsBig * l.unitsBig * m.unitsBig;
      den = 1n;
      const e = p - t.scale - l.scale - m.scale;
      if (e >= 0) num *= 10n ** BigInt(e);
      else den = 10n ** BigInt(-e);
    } else {
      num = l.unitsBig * m.unitsBig;
      den = t.unitsBig;
      const e = p - l.scale - m.scale + t.scale;
      if (e >= 0) num *= 10n ** BigInt(e);
      else den *= 10n ** BigInt(-e);
    }
    let a = num;
    let b = den;
    while (b !== 0n) {
      const x = a % b;
      a = b;
      b = x;
    }
    num /= a;
    den /= a;
    this.num = Number(num);
    this.den = Number(den);
    // A double field from the start, or the first value past 2^31 changes this object's map mid-run.
    this.result = 0.5;
    this.result = 0;
    this.fast =
      Number.isSafeInteger(this.num) &&
      Number.isSafeInteger(this.den) &&
      inst.notionalRounding === Rounding.HALF_EVEN;
  }

  /** Value of `lots` (>= 0) at `ticks` (> 0) into `result`; false (result NaN) past 2^53-1 units. */
  compute(ticks: number, lots: number): boolean {
    if (lots === 0) {
      this.result = 0;
      return true;
    }
    if (this.fast) {
      let n: number;
      let d: number;
      if (this.inverse) {
        n = lots * this.num;
        d = ticks * this.den;
      } else {
        n = ticks * lots * this.num;
        d = this.den;
      }
      if (n <= MAX && d <= MAX && d > 0) {
        if (d === 1) {
          this.result = n;
          return true;
        }
        let q: number;
        let r: number;
        if (n + d <= MAX) {
          q = Math.trunc(n / d);
          r = n - q * d;
          if (r < 0) {
            q -= 1;
            r += d;
          }
        } else {
          r = n % d;
          q = (n - r) / d;
        }
        const twice = 2 * r;
        if (twice > d || (twice === d && q % 2 !== 0)) q += 1;
        this.result = q;
        return true;
      }
      // The product passed 2^53 but the value may not have (a large inverse position: contracts x 1e11):
      // divide first, exactly, as mulDivIo does.
      if (d > 1 && d <= MAX) {
        if (this.inverse) {
          MD[0] = this.num;
          MD[1] = lots;
        } else {
          MD[0] = ticks * lots;
          MD[1] = this.num;
        }
        MD[2] = d;
        if (MD[0]! <= MAX) {
          const ok = mulDivIo(Rounding.HALF_EVEN);
          this.result = MD[3]!;
          return ok;
        }
      }
    }
    const v = this.instrument.tryNotional(ticks, lots);
    this.result = v;
    return !Number.isNaN(v);
  }
}
