// Step inference for candle and trade-list files: how many decimals each column's values show, and the tick or
// lot (10^-d) that keeps the most of them exactly while counts stay below MAX_COUNT. Text values count their
// written decimals, floats the fewest decimals that reproduce the double.

/** Deepest decimal place inference accepts; finer values fail conversion and are reported per row. */
export const MAX_INFER_SCALE = 12;
/** A float is taken as having k decimals when within this many 10^-k steps (plus its ulps) of the grid. */
const INFER_TOLERANCE = 1e-9;
/** 10^k for k in 0..MAX_INFER_SCALE + 1, the values `10 ** k` gives. */
const POW10 = Array.from({ length: MAX_INFER_SCALE + 2 }, (_, k) => 10 ** k);

/**
 * Counts stay below 2^53 / 64 (about 1.4e14) for the largest value kept, leaving room to sum 64 of them exactly
 * at worst (typical sums of bars of bars are far below the maximum). Without this cap a few rows with float noise
 * (e.g. an FTX USD volume of "289169.9847625") would push every other row past 2^53.
 */
export const MAX_COUNT = 2 ** 53 / 64;

/**
 * The decimals a column's values need, as two histograms: how many values need d decimals, and how many fit
 * (value * 10^d <= MAX_COUNT) at most d. `choose` picks the step that loses the fewest values: one absurd row
 * (high = 1e308) or one row with float noise then costs that row, not every other row of the file.
 */
export class DecimalNeeds {
  /** need[d]: values showing d decimals (MAX_INFER_SCALE + 1 = finer than inference keeps). */
  readonly need = new Float64Array(MAX_INFER_SCALE + 2);
  /** fit[d + 1]: values whose finest representable decimals is d (fit[0]: too large at any step). */
  readonly fit = new Float64Array(MAX_INFER_SCALE + 2);
  count = 0;
  maxDecimals = 0;

  /** The last value's fit (see add): consecutive values mostly share it, so two products confirm it. */
  private lastFit = -1;

  add(decimals: number, x: number): void {
    this.count++;
    this.need[decimals]!++;
    if (decimals > this.maxDecimals) this.maxDecimals = decimals;
    const a = Math.abs(x);
    // d: the most decimals k in -1..MAX_INFER_SCALE with a * 10^(k+1) <= MAX_COUNT (the products grow with k).
    let d = this.lastFit;
    if (
      !((d < 0 || a * POW10[d]! <= MAX_COUNT) && (d === MAX_INFER_SCALE || !(a * POW10[d + 1]! <= MAX_COUNT)))
    ) {
      d = -1;
      while (d < MAX_INFER_SCALE && a * POW10[d + 1]! <= MAX_COUNT) d++;
      this.lastFit = d;
    }
    this.fit[d + 1]!++;
  }

  /** Values lost at d decimals: those needing more, and those too large for it. */
  lost(d: number): number {
    let n = 0;
    for (let k = d + 1; k < this.need.length; k++) n += this.need[k]!;
    // fit[f] holds values representable at most at f - 1 decimals: lost at d when f - 1 < d.
    for (let f = 0; f <= d; f++) n += this.fit[f]!;
    return n;
  }

  /** The decimals losing the fewest values (the finer on a tie), at most what the values show. */
  choose(): number {
    const top = Math.min(this.maxDecimals, MAX_INFER_SCALE);
    let best = 0;
    let bestLost = Number.POSITIVE_INFINITY;
    for (let d = 0; d <= top; d++) {
      const l = this.lost(d);
      if (l <= bestLost) {
        best = d;
        bestLost = l;
      }
    }
    return best;
  }
}

/**
 * Infers tick and lot sizes from the values a file shows: the step is 10^-d where d is the most decimal places
 * seen, trailing zeros ignored ("7195.24000000" has 2; Binance pads every price to 8). For floats (JSON numbers,
 * feather) d is the fewest decimals that reproduce the double, so 0.04088000000000001 has 5. Only powers of
 * ten can be inferred: a venue tick of 0.5 shows as 0.1 (every price still converts exactly). Where the finest
 * decimals would push counts past MAX_COUNT, DecimalNeeds.choose() gives up the fewest values.
 */
export class DecimalScan {
  readonly price = new DecimalNeeds();
  readonly qty = new DecimalNeeds();

  get prices(): number {
    return this.price.count;
  }
  get qtys(): number {
    return this.qty.count;
  }

  priceText(s: string): void {
    this.price.add(textDecimals(s), Number(s));
  }

  qtyText(s: string): void {
    this.qty.add(textDecimals(s), Number(s));
  }

  priceFloat(x: number): void {
    this.price.add(floatDecimals(x), x);
  }

  qtyFloat(x: number): void {
    this.qty.add(floatDecimals(x), x);
  }
}

/** Decimal places of a decimal string without its trailing zeros; exponent forms go through the float rule. */
export function textDecimals(s: string): number {
  const dot = s.indexOf('.');
  if (s.indexOf('e') >= 0 || s.indexOf('E') >= 0) return floatDecimals(Number(s));
  if (dot < 0) return 0;
  let end = s.length;
  while (end > dot + 1 && s.charCodeAt(end - 1) === 48) end--;
  return Math.min(end - dot - 1, MAX_INFER_SCALE + 1);
}

/** Fewest decimals k <= MAX_INFER_SCALE such that x is a multiple of 10^-k up to float error; else the max + 1. */
export function floatDecimals(x: number): number {
  if (!Number.isFinite(x)) return 0;
  const a = Math.abs(x);
  let p = 1;
  for (let k = 0; k <= MAX_INFER_SCALE; k++) {
    const q = a * p;
    if (Math.abs(q - Math.round(q)) <= INFER_TOLERANCE + q * 8.881784197001252e-16) return k;
    p *= 10;
  }
  return MAX_INFER_SCALE + 1;
}

export function stepText(decimals: number): string {
  return decimals <= 0 ? '1' : `0.${'0'.repeat(decimals - 1)}1`;
}
