// Tests for the HDR histogram and latency recorder: bucketing identical to HdrHistogram, percentiles within the
// stated precision of exact ones (sorted arrays), exact counts and extremes, merge, reset, out-of-range values.
// Units are arbitrary integers (ns in production); precision is 10^-significantDigits relative.

import fc from 'fast-check';
import hdr from 'hdr-histogram-js';
import { describe, expect, it } from 'vitest';
import { Bot4Error, ErrorCode } from '../core/errors.ts';
import type { MonoNanos } from '../core/units.ts';
import {
  DEFAULT_HIGHEST_TRACKABLE_NS,
  DEFAULT_PERCENTILES,
  type HdrConfig,
  HdrHistogram,
  LatencyRecorder,
  percentileKey,
  TOTALS_LENGTH,
} from './latency.ts';

interface PeerInternals {
  countsArrayIndex(value: number): number;
  countsArrayLength: number;
}

function peerOf(config: Required<HdrConfig>) {
  return hdr.build({
    lowestDiscernibleValue: config.lowestDiscernibleValue,
    highestTrackableValue: config.highestTrackableValue,
    numberOfSignificantValueDigits: config.significantDigits as 1 | 2 | 3 | 4 | 5,
    autoResize: false,
    bitBucketSize: 64,
  });
}

/** Exact percentile of sorted values for p = k / 1000 percent, with integer arithmetic for the rank. */
function exactPercentile(sorted: Float64Array, k: number): number {
  const n = sorted.length;
  const rank = Math.max(1, Math.floor((k * n + 99_999) / 100_000));
  return sorted[rank - 1]!;
}

function build(values: readonly number[], config: HdrConfig): HdrHistogram {
  const h = new HdrHistogram(config);
  for (const v of values) h.record(v);
  return h;
}

const configArb = fc.record({
  lowestDiscernibleValue: fc.constantFrom(1, 2, 3, 100, 1000),
  highestTrackableValue: fc.constantFrom(1e6, 2 ** 40, DEFAULT_HIGHEST_TRACKABLE_NS),
  significantDigits: fc.integer({ min: 1, max: 4 }),
});

/** Latency-like integers: log-uniform up to `max`, with some exact repeats and small values mixed in. */
function integerValues(max: number, maxLength = 600) {
  const logMax = Math.log2(max);
  return fc.array(
    fc.oneof(
      fc.double({ min: 0, max: logMax, noNaN: true }).map((e) => Math.min(max, Math.floor(2 ** e))),
      fc.integer({ min: 0, max: Math.min(max, 5000) }),
      fc
        .constantFrom(0, 1, 1023, 1024, 2047, 2048, 4095, 2 ** 32 - 1, 2 ** 32, 2 ** 32 + 1)
        .filter((v) => v <= max),
    ),
    { minLength: 1, maxLength },
  );
}

/** A percentile given as thousandths of a percent, so the exact rank is computed without fp noise. */
const milliPercentArb = fc.oneof(
  fc.integer({ min: 0, max: 100_000 }),
  fc.constantFrom(0, 50_000, 90_000, 99_000, 99_900, 99_990, 100_000),
);

function sortedOf(values: readonly number[]): Float64Array {
  return Float64Array.from(values).sort();
}

describe('HdrHistogram configuration', () => {
  it('rejects bad configs with a message naming the key', () => {
    const cases: [HdrConfig, string][] = [
      [{ lowestDiscernibleValue: 0 }, 'lowestDiscernibleValue'],
      [{ lowestDiscernibleValue: 1.5 }, 'lowestDiscernibleValue'],
      [{ lowestDiscernibleValue: 10, highestTrackableValue: 19 }, 'highestTrackableValue'],
      [{ highestTrackableValue: 2 ** 53 }, 'highestTrackableValue'],
      [{ highestTrackableValue: Number.NaN }, 'highestTrackableValue'],
      [{ significantDigits: 0 }, 'significantDigits'],
      [{ significantDigits: 6 }, 'significantDigits'],
      [{ significantDigits: 2.5 }, 'significantDigits'],
    ];
    for (const [config, key] of cases) {
      try {
        new HdrHistogram(config);
        expect.fail(`config ${JSON.stringify(config)} should be rejected`);
      } catch (e) {
        expect(e).toBeInstanceOf(Bot4Error);
        expect((e as Bot4Error).code).toBe(ErrorCode.INVALID_ARGUMENT);
        expect((e as Bot4Error).message).toContain(key);
        expect((e as Bot4Error).details['key']).toBe(key);
      }
    }
  });

  it('defaults to 1 ns resolution, 3 digits, one hour', () => {
    const h = new HdrHistogram();
    expect(h.lowestDiscernibleValue).toBe(1);
    expect(h.significantDigits).toBe(3);
    expect(h.highestTrackableValue).toBe(DEFAULT_HIGHEST_TRACKABLE_NS);
  });
});

describe('HdrHistogram bucketing', () => {
  it('matches HdrHistogram (hdr-histogram-js) index for index, including values past 2^32', () => {
    fc.assert(
      fc.property(
        fc.record({
          lowestDiscernibleValue: fc.integer({ min: 1, max: 5000 }),
          highestTrackableValue: fc.constantFrom(1e7, 2 ** 33, 2 ** 45, Number.MAX_SAFE_INTEGER),
          significantDigits: fc.integer({ min: 1, max: 3 }),
        }),
        fc.array(fc.double({ min: 0, max: 53, noNaN: true }), { minLength: 1, maxLength: 200 }),
        (config, exponents) => {
          const ours = new HdrHistogram(config);
          const peer = peerOf(config) as unknown as PeerInternals;
          expect(ours.countsLength).toBe(peer.countsArrayLength);
          for (const e of exponents) {
            const v = Math.min(config.highestTrackableValue, Math.floor(2 ** e));
            expect(ours.countsIndex(v)).toBe(peer.countsArrayIndex(v));
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  it('keeps equivalent ranges within the stated relative precision', () => {
    for (const digits of [1, 2, 3, 4, 5]) {
      const h = new HdrHistogram({ significantDigits: digits, highestTrackableValue: 2 ** 40 });
      for (let e = 0; e < 40; e += 0.37) {
        const v = Math.floor(2 ** e);
        const lo = h.lowestEquivalentValue(v);
        const hi = h.highestEquivalentValue(v);
        expect(lo).toBeLessThanOrEqual(v);
        expect(hi).toBeGreaterThanOrEqual(v);
        expect(hi - lo + 1).toBe(h.sizeOfEquivalentRange(v));
        expect(h.sizeOfEquivalentRange(v) - 1).toBeLessThanOrEqual(Math.max(v * 10 ** -digits, 0));
      }
    }
  });
});

describe('HdrHistogram percentiles', () => {
  it('are within the stated precision of exact percentiles and never below them (integer values)', () => {
    fc.assert(
      fc.property(
        configArb,
        integerValues(2 ** 40),
        fc.array(milliPercentArb, { minLength: 1, maxLength: 12 }),
        (config, raw, ks) => {
          const values = raw.map((v) => Math.min(v, config.highestTrackableValue));
          const h = build(values, config);
          const sorted = sortedOf(values);
          const unit = 2 ** Math.floor(Math.log2(config.lowestDiscernibleValue));
          for (const k of ks) {
            const exact = exactPercentile(sorted, k);
            const got = h.valueAtPercentile(k / 1000);
            expect(got).toBeGreaterThanOrEqual(exact);
            expect(got - exact).toBeLessThanOrEqual(
              Math.max(exact * 10 ** -config.significantDigits, unit - 1),
            );
            expect(got - exact).toBeLessThan(h.sizeOfEquivalentRange(exact));
          }
          expect(h.valueAtPercentile(0)).toBe(sorted[0]);
          expect(h.valueAtPercentile(100)).toBe(sorted[sorted.length - 1]);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('are within one bucket of exact percentiles for fractional values', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 0, max: 1e7, noNaN: true }), { minLength: 1, maxLength: 400 }),
        fc.array(milliPercentArb, { minLength: 1, maxLength: 8 }),
        (values, ks) => {
          const h = build(values, { highestTrackableValue: 1e8, significantDigits: 3 });
          const sorted = sortedOf(values);
          for (const k of ks) {
            const exact = exactPercentile(sorted, k);
            const got = h.valueAtPercentile(k / 1000);
            const width = h.sizeOfEquivalentRange(exact);
            expect(got).toBeGreaterThan(exact - width);
            expect(got).toBeLessThan(exact + width);
          }
        },
      ),
      { numRuns: 100 },
    );
  });

  it('agree with hdr-histogram-js at p50, p99 and p99.9', () => {
    fc.assert(
      fc.property(configArb, integerValues(2 ** 40, 2000), (config, raw) => {
        const values = raw.map((v) => Math.min(v, config.highestTrackableValue));
        const ours = build(values, config);
        const peer = peerOf(config);
        for (const v of values) peer.recordValue(v);
        for (const p of [50, 99, 99.9]) {
          const theirs = peer.getValueAtPercentile(p);
          const got = ours.valueAtPercentile(p);
          // Same bucket, same rank rule; ours is additionally clamped to the exact min and max.
          expect(got).toBe(Math.min(Math.max(theirs, ours.min), ours.max));
          const unit = 2 ** Math.floor(Math.log2(config.lowestDiscernibleValue));
          expect(Math.abs(got - theirs)).toBeLessThanOrEqual(
            Math.max(theirs * 10 ** -config.significantDigits, unit - 1),
          );
        }
      }),
      { numRuns: 100 },
    );
  });

  it('finds the exact rank from either end, at every offset within the 8-count scan blocks', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 1, maxLength: 300 }),
        fc.array(milliPercentArb, { minLength: 1, maxLength: 20 }),
        (countsPerValue, ks) => {
          // Values below 2048 have unit-wide buckets, so the answer is exact: the first value whose cumulative
          // count reaches the rank.
          const h = new HdrHistogram();
          const cumulative: number[] = [];
          let sum = 0;
          countsPerValue.forEach((n, v) => {
            h.recordN(v, n);
            sum += n;
            cumulative.push(sum);
          });
          fc.pre(sum > 0);
          for (const k of ks) {
            const rank = Math.max(1, Math.floor((k * sum + 99_999) / 100_000));
            const expected = cumulative.findIndex((c) => c >= rank);
            expect(h.valueAtPercentile(k / 1000)).toBe(expected);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('does not skip a rank when p/100*n lands one ulp above an integer', () => {
    // (99.9 / 100) * 1000 evaluates to 999.0000000000001; the 999th of 1..1000 is 999, not 1000.
    const h = build(
      Array.from({ length: 1000 }, (_, i) => i + 1),
      {},
    );
    expect(h.valueAtPercentile(99.9)).toBe(999);
  });

  it('clamps p outside 0..100, rejects NaN, and returns an object keyed by percentile', () => {
    const h = build([10, 20, 30, 40], {});
    expect(h.valueAtPercentile(-5)).toBe(10);
    expect(h.valueAtPercentile(250)).toBe(40);
    expect(() => h.valueAtPercentile(Number.NaN)).toThrow(Bot4Error);
    expect(h.percentiles([50, 75, 99.9, 100])).toEqual({ p50: 20, p75: 30, p99_9: 40, p100: 40 });
    expect(Object.keys(h.percentiles())).toEqual(['p50', 'p90', 'p99', 'p99_9', 'p99_99']);
    expect(percentileKey(99.99)).toBe('p99_99');
  });

  it('handles values beyond 2^32 and a coarse lowest discernible value', () => {
    const big = build([5e9, 7.5e9, 1e12, 3e12], {});
    expect(big.min).toBe(5e9);
    expect(big.max).toBe(3e12);
    expect(big.valueAtPercentile(50)).toBeGreaterThanOrEqual(7.5e9);
    expect(big.valueAtPercentile(50)).toBeLessThanOrEqual(7.5e9 * 1.001);
    expect(big.valueAtPercentile(75)).toBeGreaterThanOrEqual(1e12);
    expect(big.valueAtPercentile(75)).toBeLessThanOrEqual(1e12 * 1.001);

    const coarse = build([0, 100, 999, 1000, 1500], {
      lowestDiscernibleValue: 1000,
      highestTrackableValue: 1e9,
    });
    // 1000 rounds down to 512: values below 512 share bucket [0, 512).
    expect(coarse.lowestEquivalentValue(100)).toBe(0);
    expect(coarse.highestEquivalentValue(100)).toBe(511);
    expect(coarse.valueAtPercentile(40)).toBe(511);
  });
});

describe('HdrHistogram statistics', () => {
  it('counts, min, max and mean are exact; stdDev is within one bucket width', () => {
    fc.assert(
      fc.property(configArb, integerValues(2 ** 40), (config, raw) => {
        const values = raw.map((v) => Math.min(v, config.highestTrackableValue));
        const h = build(values, config);
        const n = values.length;
        let min = Number.POSITIVE_INFINITY;
        let max = Number.NEGATIVE_INFINITY;
        let sum = 0;
        for (const v of values) {
          min = Math.min(min, v);
          max = Math.max(max, v);
          sum += v;
        }
        const mean = sum / n;
        let sq = 0;
        for (const v of values) sq += (v - mean) ** 2;
        const std = Math.sqrt(sq / n);
        expect(h.totalCount).toBe(n);
        expect(h.min).toBe(min);
        expect(h.max).toBe(max);
        expect(h.sum).toBe(sum);
        expect(Math.abs(h.mean - mean)).toBeLessThanOrEqual(Math.abs(mean) * 1e-12);
        expect(Math.abs(h.stdDev - std)).toBeLessThanOrEqual(h.sizeOfEquivalentRange(max) + std * 1e-9);
        expect(h.overflow).toBe(0);
        expect(h.invalid).toBe(0);
      }),
      { numRuns: 150 },
    );
  });

  it('is all zeros when empty', () => {
    const h = new HdrHistogram();
    expect([h.totalCount, h.min, h.max, h.mean, h.stdDev, h.valueAtPercentile(99)]).toEqual([
      0, 0, 0, 0, 0, 0,
    ]);
    expect(h.snapshot()).toEqual({
      count: 0,
      sum: 0,
      min: 0,
      max: 0,
      mean: 0,
      stdDev: 0,
      overflow: 0,
      invalid: 0,
      percentiles: { p50: 0, p90: 0, p99: 0, p99_9: 0, p99_99: 0 },
    });
  });

  it('snapshot is plain JSON-safe data matching the getters', () => {
    const h = build([1, 2, 3, 1000, 5000], {});
    const s = h.snapshot();
    expect(JSON.parse(JSON.stringify(s))).toEqual(s);
    expect(s.count).toBe(5);
    expect(s.sum).toBe(6006);
    expect(s.mean).toBe(h.mean);
    expect(s.stdDev).toBe(h.stdDev);
    expect(s.percentiles).toEqual(h.percentiles(DEFAULT_PERCENTILES));
    expect(h.snapshot([50])).toMatchObject({ percentiles: { p50: 3 } });
  });
});

describe('HdrHistogram merge and reset', () => {
  const allPercentiles = Array.from({ length: 201 }, (_, i) => i / 2);

  it('add(other) equals recording both value sets in one histogram', () => {
    fc.assert(
      fc.property(configArb, integerValues(2 ** 40), integerValues(2 ** 40), (config, a, b) => {
        const clampTo = (v: number) => Math.min(v, config.highestTrackableValue);
        const left = build(a.map(clampTo), config);
        const right = build(b.map(clampTo), config);
        right.record(-1);
        const both = build([...a, ...b].map(clampTo), config);
        both.record(-1);
        left.add(right);
        expect(left.totalCount).toBe(both.totalCount);
        expect(left.min).toBe(both.min);
        expect(left.max).toBe(both.max);
        expect(left.invalid).toBe(1);
        expect(left.sum).toBeCloseTo(both.sum, 0);
        expect(left.percentiles(allPercentiles)).toEqual(both.percentiles(allPercentiles));
        expect(left.stdDev).toBeCloseTo(both.stdDev, 6);
      }),
      { numRuns: 80 },
    );
  });

  it('add into an empty histogram copies the other', () => {
    const src = build([5, 50, 500, 5000], {});
    const dst = new HdrHistogram();
    dst.add(src);
    expect(dst.snapshot()).toEqual(src.snapshot());
  });

  it('add rejects histograms with a different config, naming both', () => {
    const a = new HdrHistogram({ significantDigits: 3 });
    const b = new HdrHistogram({ significantDigits: 2 });
    try {
      a.add(b);
      expect.fail('merge of different configs should throw');
    } catch (e) {
      expect(e).toBeInstanceOf(Bot4Error);
      expect((e as Bot4Error).code).toBe(ErrorCode.INVALID_ARGUMENT);
      expect((e as Bot4Error).message).toContain('significantDigits 3');
      expect((e as Bot4Error).message).toContain('significantDigits 2');
    }
    expect(a.totalCount).toBe(0);
  });

  it('reset empties everything and the histogram records as new afterwards', () => {
    fc.assert(
      fc.property(integerValues(1e9), integerValues(1e9), (first, second) => {
        const h = build(first, {});
        h.record(Number.NaN);
        h.record(1e15);
        h.reset();
        expect([h.totalCount, h.min, h.max, h.sum, h.overflow, h.invalid]).toEqual([0, 0, 0, 0, 0, 0]);
        for (const v of second) h.record(v);
        expect(h.snapshot(allPercentiles)).toEqual(build(second, {}).snapshot(allPercentiles));
      }),
      { numRuns: 40 },
    );
  });
});

describe('HdrHistogram out-of-range values', () => {
  it('ignores negative and NaN values and counts them as invalid', () => {
    const h = build([10, -1, Number.NaN, Number.NEGATIVE_INFINITY, -0.5, 20], {});
    expect(h.totalCount).toBe(2);
    expect(h.invalid).toBe(4);
    expect(h.min).toBe(10);
    expect(h.max).toBe(20);
  });

  it('clamps values above highestTrackableValue and counts them as overflow', () => {
    const h = build([10, 2e6, Number.POSITIVE_INFINITY], { highestTrackableValue: 1e6 });
    expect(h.totalCount).toBe(3);
    expect(h.overflow).toBe(2);
    expect(h.max).toBe(1e6);
    expect(h.sum).toBe(10 + 2e6);
    expect(h.valueAtPercentile(100)).toBe(1e6);
    expect(h.valueAtPercentile(50)).toBe(1e6);
  });

  it('recordN(v, n) equals n records, and ignores counts that are not whole numbers', () => {
    const a = new HdrHistogram();
    a.recordN(1234, 5);
    a.recordN(99, 0);
    const b = build([1234, 1234, 1234, 1234, 1234], {});
    expect(a.snapshot()).toEqual(b.snapshot());
    a.recordN(5, -1);
    a.recordN(5, 1.5);
    a.recordN(5, Number.NaN);
    expect(a.totalCount).toBe(5);
    expect(a.invalid).toBe(3);
    a.recordN(-3, 4);
    a.recordN(1e20, 2);
    expect(a.invalid).toBe(7);
    expect(a.overflow).toBe(2);
    expect(a.totalCount).toBe(7);
  });

  it('record() counts where recordN(v, 1) does on either side of its fast path (2^32 units, the top of the range)', () => {
    const edges = [
      0,
      0.5,
      1,
      2 ** 31,
      2 ** 32 - 1,
      2 ** 32 - 0.5,
      2 ** 32,
      2 ** 32 + 1,
      2 ** 40,
      2 ** 41 - 1,
    ];
    for (const config of [{ highestTrackableValue: 2 ** 41 - 1 }, { lowestDiscernibleValue: 1000 }, {}]) {
      const a = new HdrHistogram(config);
      const b = new HdrHistogram(config);
      const bounds = Float64Array.from(edges, (v) => v + 1);
      for (const v of [...edges, 5e12, -1, Number.NaN]) {
        a.record(v);
        b.recordN(v, 1);
      }
      expect(a.snapshot()).toEqual(b.snapshot());
      const ca = new Float64Array(bounds.length);
      const cb = new Float64Array(bounds.length);
      a.countsBelow(bounds, ca);
      b.countsBelow(bounds, cb);
      expect([...ca]).toEqual([...cb]);
    }
  });

  it('equivalent-range lookups reject negative values', () => {
    expect(() => new HdrHistogram().lowestEquivalentValue(-1)).toThrow(Bot4Error);
  });
});

describe('LatencyRecorder', () => {
  it('records the difference between start and stop from its clock', () => {
    const times = [1000, 1250, 5000, 9000];
    let i = 0;
    const r = new LatencyRecorder(new HdrHistogram(), () => times[i++]! as MonoNanos);
    const t0 = r.start();
    expect(r.stop(t0)).toBe(250);
    const t1 = r.start();
    expect(r.stop(t1)).toBe(4000);
    expect(r.histogram.totalCount).toBe(2);
    expect(r.histogram.min).toBe(250);
    expect(r.histogram.max).toBe(4000);
  });

  it('uses the monotonic clock by default', () => {
    const r = new LatencyRecorder();
    const t0 = r.start();
    const elapsed = r.stop(t0);
    expect(elapsed).toBeGreaterThanOrEqual(0);
    expect(r.histogram.totalCount).toBe(1);
    expect(r.histogram.invalid).toBe(0);
  });
});

describe('HdrHistogram across threads', () => {
  it('a reader over shared counts matches the recorder once it loads the stored totals', () => {
    const h = new HdrHistogram();
    h.record(5);
    const counts = h.shareCounts();
    expect(counts.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(h.shareCounts()).toBe(counts); // once only
    for (let i = 1; i <= 10_000; i++) h.record(i * 37);
    h.record(-1);
    h.record(DEFAULT_HIGHEST_TRACKABLE_NS * 2);
    const totals = new Float64Array(new SharedArrayBuffer(TOTALS_LENGTH * 8));
    h.storeTotals(totals);
    const r = HdrHistogram.reader({}, new Float64Array(counts.buffer));
    expect(r.totalCount).toBe(0);
    r.loadTotals(totals);
    expect(r.snapshot()).toEqual(h.snapshot());
    // Counts are live; totals are what was last stored.
    h.record(123);
    expect(r.totalCount).toBe(h.totalCount - 1);
    expect(() => HdrHistogram.reader({ significantDigits: 2 }, counts)).toThrow(/needs \d+ counts/);
  });
});
