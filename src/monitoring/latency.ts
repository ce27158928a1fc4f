// HDR histogram (HdrHistogram's log-linear bucketing) and a hot-path latency recorder on top of it.
// Invariants: the counts array is sized once; record() never allocates or throws; above the linear range a
// bucket is at most 10^-significantDigits of its value wide. Units: whatever is recorded (ns for latency).

import { monoNanos } from '../core/clock.ts';
import { Bot4Error, ErrorCode } from '../core/errors.ts';
import type { MonoNanos } from '../core/units.ts';

export interface HdrConfig {
  /** Smallest value told apart from 0 (rounded down to a power of two internally). Integer >= 1. Default 1. */
  lowestDiscernibleValue?: number;
  /** Largest value tracked; larger values are clamped to it and counted as overflow. Default 1 hour in ns. */
  highestTrackableValue?: number;
  /** Decimal digits of relative precision kept across the range, 1 to 5. Default 3 (0.1%). */
  significantDigits?: number;
}

/** Plain-data view for metrics export (the Prometheus exporter reads it when scraped). */
export interface HdrSnapshot {
  /** Values recorded, overflowed (clamped) ones included. */
  count: number;
  /** Exact sum of recorded values (clamped values count as highestTrackableValue). */
  sum: number;
  min: number;
  max: number;
  mean: number;
  stdDev: number;
  /** Values above highestTrackableValue, recorded as highestTrackableValue. */
  overflow: number;
  /** Values ignored: negative, NaN, or a recordN call with a count that is not a whole number. */
  invalid: number;
  /** Keyed by `percentileKey(p)`: p50, p90, p99, p99_9, p99_99. */
  percentiles: Record<string, number>;
}

/** Slots storeTotals() writes. */
export const TOTALS_LENGTH = 6;

export const DEFAULT_PERCENTILES: readonly number[] = [50, 90, 99, 99.9, 99.99];

/** One hour in nanoseconds: anything slower is an outage, not a latency. */
export const DEFAULT_HIGHEST_TRACKABLE_NS = 3_600_000_000_000;

const TWO_POW_32 = 4294967296;
/** Placeholder so the counts field is typed as a Float64Array from the start (see the class note). */
const NO_COUNTS = new Float64Array(0);

/** `p99.9` is not an identifier and Prometheus-style names avoid dots, hence p99_9. */
export function percentileKey(p: number): string {
  return `p${String(p).replace('.', '_')}`;
}

/** Unit in the last place, as HdrHistogram uses to stop fp noise in p/100*n from skipping a count. */
function ulp(x: number): number {
  return 2 ** (Math.floor(Math.log2(x)) - 52);
}

function configError(key: string, value: unknown, rule: string): Bot4Error {
  return new Bot4Error(
    ErrorCode.INVALID_ARGUMENT,
    `HDR histogram config '${key}' ${rule}, got ${String(value)}`,
    { key, value },
  );
}

export class HdrHistogram {
  // Fields get initialisers although the constructor sets them: a bare declaration defines the field as
  // undefined first, and V8 then keeps it as a generic tagged slot, which measurably slows record().
  readonly lowestDiscernibleValue: number = 0;
  readonly highestTrackableValue: number = 0;
  readonly significantDigits: number = 0;
  /** Length of the counts array (memory is 8 bytes per entry). */
  readonly countsLength: number = 0;

  private readonly unitMagnitude: number = 0;
  /** 2^-unitMagnitude, so scaling to units is a multiply that stays exact. */
  private readonly unitScale: number = 0;
  private readonly subBucketHalfCountMagnitude: number = 0;
  private readonly subBucketHalfCount: number = 0;
  /** OR-ing this in makes every value below subBucketCount land in bucket 0. */
  private readonly subBucketMask: number = 0;
  private readonly leadingZeroBase: number = 0;
  private readonly leadingZeroBaseHigh: number = 0;
  /**
   * Largest value, in units, that record()'s fast path takes: in range and below 2^32 units, so one pair of
   * comparisons on the scaled value stands for the range check and the 32-bit bucket test.
   */
  private readonly fastLimit: number = 0;
  /**
   * Float64 rather than Int32: a busy bucket passes 2^31 in under an hour at 1M values/s. Not readonly:
   * shareCounts() moves it onto a SharedArrayBuffer once, at setup (same element kind, so record() is unchanged).
   */
  private counts: Float64Array = NO_COUNTS;

  // Running totals are plain fields: measured faster than slots in a Float64Array (each slot access carries
  // its own bounds check). The count turns from small integer to double past 2^31: one deopt, then steady.
  private total = 0;
  /** Exact sum of recorded values, for an exact mean and Prometheus' _sum. */
  private sumValues = 0;
  private minValue = Number.POSITIVE_INFINITY;
  private maxValue = Number.NEGATIVE_INFINITY;
  private overflowCount = 0;
  private invalidCount = 0;

  constructor(config: HdrConfig = {}) {
    const lowest = config.lowestDiscernibleValue ?? 1;
    const highest = config.highestTrackableValue ?? DEFAULT_HIGHEST_TRACKABLE_NS;
    const digits = config.significantDigits ?? 3;
    if (!Number.isSafeInteger(lowest) || lowest < 1) {
      throw configError('lowestDiscernibleValue', lowest, 'must be an integer >= 1');
    }
    if (!Number.isSafeInteger(highest) || highest < 2 * lowest) {
      throw configError(
        'highestTrackableValue',
        highest,
        `must be an integer >= 2 * lowestDiscernibleValue (${2 * lowest}) and <= 2^53 - 1`,
      );
    }
    if (!Number.isInteger(digits) || digits < 1 || digits > 5) {
      throw configError('significantDigits', digits, 'must be an integer from 1 to 5');
    }
    this.lowestDiscernibleValue = lowest;
    this.highestTrackableValue = highest;
    this.significantDigits = digits;

    let unitMagnitude = 0;
    while (2 ** (unitMagnitude + 1) <= lowest) unitMagnitude++;
    this.unitMagnitude = unitMagnitude;
    this.unitScale = 2 ** -unitMagnitude;
    // Unit resolution is needed up to 2 * 10^digits (being +/-1 at 1000 is fine, at 1999 it is not).
    const subBucketCountMagnitude = Math.ceil(Math.log2(2 * 10 ** digits));
    this.subBucketHalfCountMagnitude = subBucketCountMagnitude - 1;
    // A shift, not 2 **: ** gives a double, and a double field makes record() unbox and convert the mask.
    this.subBucketHalfCount = 1 << this.subBucketHalfCountMagnitude;
    const subBucketCount = 2 * this.subBucketHalfCount;
    this.subBucketMask = subBucketCount - 1;
    this.leadingZeroBase = 31 - this.subBucketHalfCountMagnitude;
    this.leadingZeroBaseHigh = 63 - this.subBucketHalfCountMagnitude;

    let bucketCount = 1;
    for (let smallestUntrackable = subBucketCount * 2 ** unitMagnitude; smallestUntrackable <= highest; ) {
      smallestUntrackable *= 2;
      bucketCount++;
    }
    this.countsLength = (bucketCount + 1) * this.subBucketHalfCount;
    this.counts = new Float64Array(this.countsLength);
    // Scaling by a power of two is exact, so value <= highest exactly when u <= highest * unitScale.
    this.fastLimit = Math.min(highest * this.unitScale, TWO_POW_32 - 1);
  }

  /**
   * Moves the counts onto a SharedArrayBuffer (once, at setup; a no-op when they are there already) so another
   * thread can read them while this one records: the metrics worker does, at scrape time. Returns them.
   */
  shareCounts(): Float64Array {
    if (!(this.counts.buffer instanceof SharedArrayBuffer)) {
      const shared = new Float64Array(new SharedArrayBuffer(this.counts.byteLength));
      shared.set(this.counts);
      this.counts = shared;
    }
    return this.counts;
  }

  /**
   * A reader over counts another thread records into (from shareCounts(), same config): its totals are what
   * the last loadTotals() read, so call that before each read. Never record into it.
   */
  static reader(config: HdrConfig, counts: Float64Array): HdrHistogram {
    const h = new HdrHistogram(config);
    if (counts.length !== h.countsLength) {
      throw new Bot4Error(
        ErrorCode.INVALID_ARGUMENT,
        `HDR reader needs ${h.countsLength} counts for its config, got ${counts.length}`,
        { expected: h.countsLength, got: counts.length },
      );
    }
    h.counts = counts;
    return h;
  }

  /** Writes count, sum, min, max, overflow, invalid to out[at..at+5] (TOTALS_LENGTH slots) for a reader. */
  storeTotals(out: Float64Array, at = 0): void {
    out[at] = this.total;
    out[at + 1] = this.sumValues;
    out[at + 2] = this.minValue;
    out[at + 3] = this.maxValue;
    out[at + 4] = this.overflowCount;
    out[at + 5] = this.invalidCount;
  }

  /** Takes the totals storeTotals() wrote (the reader side). */
  loadTotals(src: Float64Array, at = 0): void {
    this.total = src[at]!;
    this.sumValues = src[at + 1]!;
    this.minValue = src[at + 2]!;
    this.maxValue = src[at + 3]!;
    this.overflowCount = src[at + 4]!;
    this.invalidCount = src[at + 5]!;
  }

  /** Records one value. Fractions are floored for bucketing but kept exactly in min, max and sum. */
  record(value: number): void {
    // One comparison pair on the scaled value filters NaN, negatives, overflow and values of 2^32 units or
    // more into the cold path; the bucket index is then countsIndex's 32-bit branch, inlined.
    const u = value * this.unitScale;
    if (u >= 0 && u <= this.fastLimit) {
      const ui = u >>> 0;
      const bucket = this.leadingZeroBase - Math.clz32(ui | this.subBucketMask);
      const c = this.counts;
      const i = (bucket << this.subBucketHalfCountMagnitude) + (ui >>> bucket);
      c[i] = c[i]! + 1;
      this.total += 1;
      this.sumValues += value;
      if (value < this.minValue) this.minValue = value;
      if (value > this.maxValue) this.maxValue = value;
    } else {
      this.recordSlow(value);
    }
  }

  /** record() past its fast path: large values in range, then overflow and invalid values. */
  private recordSlow(value: number): void {
    if (value >= 0 && value <= this.highestTrackableValue) this.recordInRange(value, 1);
    else this.recordOutOfRange(value, 1);
  }

  /** Records `count` occurrences of a value. A count that is not a whole number >= 0 is ignored as invalid. */
  recordN(value: number, count: number): void {
    if (!(count >= 1 && Number.isSafeInteger(count))) {
      if (count !== 0) this.invalidCount += 1;
      return;
    }
    if (value >= 0 && value <= this.highestTrackableValue) this.recordInRange(value, count);
    else this.recordOutOfRange(value, count);
  }

  private recordInRange(value: number, count: number): void {
    const c = this.counts;
    const i = this.countsIndex(value);
    c[i] = c[i]! + count;
    this.total += count;
    this.sumValues += value * count;
    if (value < this.minValue) this.minValue = value;
    if (value > this.maxValue) this.maxValue = value;
  }

  private recordOutOfRange(value: number, count: number): void {
    if (value > this.highestTrackableValue) {
      this.overflowCount += count;
      this.recordInRange(this.highestTrackableValue, count);
    } else {
      this.invalidCount += count;
    }
  }

  /**
   * Index into the counts array for a value in [0, highestTrackableValue]; exposed for tests and exporters.
   * Same bucketing as HdrHistogram: bucket 0 covers [0, subBucketCount) units in steps of 1, bucket k > 0
   * covers [subBucketCount * 2^(k-1), subBucketCount * 2^k) in steps of 2^k, as its upper half of sub-buckets.
   */
  countsIndex(value: number): number {
    const u = value * this.unitScale;
    if (u < TWO_POW_32) {
      // clz32 needs an int32: `>>> 0` floors the (non-negative) value into uint32 range.
      const ui = u >>> 0;
      const bucket = this.leadingZeroBase - Math.clz32(ui | this.subBucketMask);
      return (bucket << this.subBucketHalfCountMagnitude) + (ui >>> bucket);
    }
    return this.countsIndexHigh(u);
  }

  /** Values of 2^32 units and more: take the bucket from the high word, then divide by a power of two (exact). */
  private countsIndexHigh(u: number): number {
    const bucket = this.leadingZeroBaseHigh - Math.clz32(Math.floor(u / TWO_POW_32));
    return bucket * this.subBucketHalfCount + Math.floor(u * 2 ** -bucket);
  }

  /** Lowest value that falls in the counts entry `index`. */
  private valueFromIndex(index: number): number {
    let bucket = Math.floor(index / this.subBucketHalfCount) - 1;
    let sub = (index % this.subBucketHalfCount) + this.subBucketHalfCount;
    if (bucket < 0) {
      sub -= this.subBucketHalfCount;
      bucket = 0;
    }
    return sub * 2 ** (bucket + this.unitMagnitude);
  }

  private widthAtIndex(index: number): number {
    const bucket = Math.max(Math.floor(index / this.subBucketHalfCount) - 1, 0);
    return 2 ** (bucket + this.unitMagnitude);
  }

  /** Width of the range of values counted together with `value`. */
  sizeOfEquivalentRange(value: number): number {
    return this.widthAtIndex(this.countsIndex(this.clampForLookup(value)));
  }

  lowestEquivalentValue(value: number): number {
    return this.valueFromIndex(this.countsIndex(this.clampForLookup(value)));
  }

  highestEquivalentValue(value: number): number {
    const i = this.countsIndex(this.clampForLookup(value));
    return this.valueFromIndex(i) + this.widthAtIndex(i) - 1;
  }

  private clampForLookup(value: number): number {
    if (!(value >= 0)) {
      throw new Bot4Error(
        ErrorCode.INVALID_ARGUMENT,
        `HDR histogram lookup needs a value >= 0, got ${value}`,
        {
          value,
        },
      );
    }
    return Math.min(value, this.highestTrackableValue);
  }

  /**
   * The value that p% of recorded values are at or below, to the histogram's precision: the top of the bucket
   * holding the exact percentile (bottom for p = 0), clamped to the exact min and max. Empty histogram: 0.
   */
  valueAtPercentile(p: number): number {
    if (Number.isNaN(p)) {
      throw new Bot4Error(ErrorCode.INVALID_ARGUMENT, 'percentile must be a number from 0 to 100, got NaN', {
        percentile: p,
      });
    }
    const total = this.total;
    if (total === 0) return 0;
    const min = this.minValue;
    const max = this.maxValue;
    const pct = Math.min(Math.max(p, 0), 100);
    const fp = (pct / 100) * total;
    const rank = Math.max(Math.ceil(fp - ulp(fp)), 1);
    const lo = this.countsIndex(min);
    const hi = this.countsIndex(max);
    // Walk from whichever end is nearer the rank: tail percentiles then touch only the tail's buckets.
    const index =
      rank <= total / 2 ? this.indexAtRankUp(rank, lo, hi) : this.indexAtRankDown(rank, total, lo, hi);
    const v =
      pct === 0 ? this.valueFromIndex(index) : this.valueFromIndex(index) + this.widthAtIndex(index) - 1;
    return Math.min(Math.max(v, min), max);
  }

  // Both walks find the first index whose cumulative count reaches `rank`. They add blocks of 8 counts with
  // independent adds first: a single running sum would chain every add to the previous one (4 cycles each).
  // Counts are integers below 2^53, so the regrouped sums are exact.

  private indexAtRankUp(rank: number, lo: number, hi: number): number {
    const c = this.counts;
    let seen = 0;
    let i = lo;
    for (; i + 7 <= hi; i += 8) {
      const block = sum8(c, i);
      if (seen + block >= rank) break;
      seen += block;
    }
    for (; i <= hi; i++) {
      seen += c[i]!;
      if (seen >= rank) return i;
    }
    return hi;
  }

  private indexAtRankDown(rank: number, total: number, lo: number, hi: number): number {
    const c = this.counts;
    let atOrBelow = total;
    let i = hi;
    for (; i - 7 >= lo; i -= 8) {
      const block = sum8(c, i - 7);
      if (atOrBelow - block < rank) break;
      atOrBelow -= block;
    }
    for (; i >= lo; i--) {
      atOrBelow -= c[i]!;
      if (atOrBelow < rank) return i;
    }
    return lo;
  }

  /** Several percentiles at once, keyed by `percentileKey(p)` (p50, p99_9, ...). */
  percentiles(ps: readonly number[] = DEFAULT_PERCENTILES): Record<string, number> {
    const out: Record<string, number> = {};
    for (const p of ps) out[percentileKey(p)] = this.valueAtPercentile(p);
    return out;
  }

  get totalCount(): number {
    return this.total;
  }

  /** Exact smallest recorded value; 0 when empty. */
  get min(): number {
    return this.total === 0 ? 0 : this.minValue;
  }

  /** Exact largest recorded value (highestTrackableValue after an overflow); 0 when empty. */
  get max(): number {
    return this.total === 0 ? 0 : this.maxValue;
  }

  /** Exact mean (from the running sum, not from bucket midpoints); 0 when empty. */
  get mean(): number {
    return this.total === 0 ? 0 : this.sumValues / this.total;
  }

  /** Standard deviation from bucket midpoints around the exact mean: error at most about one bucket width. */
  get stdDev(): number {
    const total = this.total;
    if (total === 0) return 0;
    const mean = this.sumValues / total;
    const min = this.minValue;
    const max = this.maxValue;
    const c = this.counts;
    const hi = this.countsIndex(max);
    let acc = 0;
    for (let i = this.countsIndex(min); i <= hi; i++) {
      const n = c[i]!;
      if (n === 0) continue;
      const mid = this.valueFromIndex(i) + Math.floor(this.widthAtIndex(i) / 2);
      const d = Math.min(Math.max(mid, min), max) - mean;
      acc += d * d * n;
    }
    return Math.sqrt(acc / total);
  }

  get overflow(): number {
    return this.overflowCount;
  }

  get invalid(): number {
    return this.invalidCount;
  }

  /** Exact sum of recorded values (clamped values count as highestTrackableValue). */
  get sum(): number {
    return this.sumValues;
  }

  reset(): void {
    this.counts.fill(0);
    this.total = 0;
    this.sumValues = 0;
    this.minValue = Number.POSITIVE_INFINITY;
    this.maxValue = Number.NEGATIVE_INFINITY;
    this.overflowCount = 0;
    this.invalidCount = 0;
  }

  /** Adds another histogram's counts into this one. Both must share one configuration. */
  add(other: HdrHistogram): void {
    if (
      other.lowestDiscernibleValue !== this.lowestDiscernibleValue ||
      other.highestTrackableValue !== this.highestTrackableValue ||
      other.significantDigits !== this.significantDigits
    ) {
      throw new Bot4Error(
        ErrorCode.INVALID_ARGUMENT,
        `cannot merge HDR histograms with different configs: this has ${describe(this)}, other has ${describe(other)}; ` +
          'build both from the same HdrConfig',
        { self: configOf(this), other: configOf(other) },
      );
    }
    const c = this.counts;
    const o = other.counts;
    for (let i = 0; i < c.length; i++) c[i] = c[i]! + o[i]!;
    this.total += other.total;
    this.sumValues += other.sumValues;
    this.overflowCount += other.overflowCount;
    this.invalidCount += other.invalidCount;
    if (other.minValue < this.minValue) this.minValue = other.minValue;
    if (other.maxValue > this.maxValue) this.maxValue = other.maxValue;
  }

  /**
   * For ascending `bounds`, writes to out[j] how many recorded values lie below bounds[j], walking the counts
   * once (a metrics scrape, not the hot path). Exact when each bound is a bucket boundary (its own
   * lowestEquivalentValue): then no bucket straddles it. Bounds above highestTrackableValue count everything.
   */
  countsBelow(bounds: ArrayLike<number>, out: Float64Array): void {
    const c = this.counts;
    const total = this.total;
    // Only the entries from min's to max's hold counts: start there, and stop once every value is seen.
    let i = total === 0 ? 0 : this.countsIndex(this.minValue);
    const last = total === 0 ? -1 : this.countsIndex(this.maxValue);
    let seen = 0;
    for (let j = 0; j < bounds.length; j++) {
      const b = bounds[j]!;
      const end = b > this.highestTrackableValue ? c.length : this.countsIndex(Math.max(b, 0));
      if (end > last) {
        out[j] = total;
        continue;
      }
      for (; i < end; i++) seen += c[i]!;
      out[j] = seen;
    }
  }

  snapshot(ps: readonly number[] = DEFAULT_PERCENTILES): HdrSnapshot {
    return {
      count: this.total,
      sum: this.sumValues,
      min: this.min,
      max: this.max,
      mean: this.mean,
      stdDev: this.stdDev,
      overflow: this.overflowCount,
      invalid: this.invalidCount,
      percentiles: this.percentiles(ps),
    };
  }
}

function sum8(c: Float64Array, i: number): number {
  return c[i]! + c[i + 1]! + (c[i + 2]! + c[i + 3]!) + (c[i + 4]! + c[i + 5]! + (c[i + 6]! + c[i + 7]!));
}

function configOf(h: HdrHistogram): Required<HdrConfig> {
  return {
    lowestDiscernibleValue: h.lowestDiscernibleValue,
    highestTrackableValue: h.highestTrackableValue,
    significantDigits: h.significantDigits,
  };
}

function describe(h: HdrHistogram): string {
  return `lowestDiscernibleValue ${h.lowestDiscernibleValue}, highestTrackableValue ${h.highestTrackableValue}, significantDigits ${h.significantDigits}`;
}

/**
 * Times a section of the hot path in monotonic nanoseconds: `const t = r.start(); ...; r.stop(t)`.
 * Each call reads the clock once (about 45 ns), so time a batch rather than every event where possible.
 */
export class LatencyRecorder {
  readonly histogram: HdrHistogram;
  private readonly now: () => MonoNanos;

  constructor(histogram: HdrHistogram = new HdrHistogram(), now: () => MonoNanos = monoNanos) {
    this.histogram = histogram;
    this.now = now;
  }

  start(): MonoNanos {
    return this.now();
  }

  /** Records the nanoseconds since `startNs` and returns them. */
  stop(startNs: MonoNanos): number {
    const elapsed = this.now() - startNs;
    this.histogram.record(elapsed);
    return elapsed;
  }
}
