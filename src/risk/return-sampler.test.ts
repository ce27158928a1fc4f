// The VaR limit's input: returns sampled at interval boundaries of event time, and the VaR computed from them,
// against a direct computation (returns from the price path, sample covariance, z x sqrt(w' C w h)).
import { describe, expect, it } from 'vitest';
import { normalQuantile } from './correlation.ts';
import { ReturnSampler } from './return-sampler.ts';

const MIN = 60_000_000;

describe('ReturnSampler', () => {
  it('samples the last price before each boundary and gives the parametric VaR of the exposures', () => {
    const s = new ReturnSampler(2, { sampleUs: MIN, window: 50, minSamples: 5 });
    // Two instruments, prices at 10 s steps; the sample at each minute boundary uses the last price before it.
    const a: number[] = [];
    const b: number[] = [];
    let sampled = 0;
    for (let k = 0; k < 6 * 20; k++) {
      const ts = k * 10_000_000 + 5;
      const pa = 1000 + 10 * Math.sin(k / 3) + k;
      const pb = 500 + 7 * Math.cos(k / 5) - k / 2;
      if (s.onPrice(0, pa, ts)) sampled++;
      s.onPrice(1, pb, ts + 1);
      // the last price of each minute (k = 5, 11, ...) is what the next boundary samples
      if (k % 6 === 5) {
        a.push(pa);
        b.push(pb);
      }
    }
    // 20 minutes of prices: 19 boundaries crossed inside the data (the last minute's has not come yet).
    expect(sampled).toBe(19);
    expect(s.samples).toBe(19);
    expect(s.ready).toBe(true);
    // The first sample has no previous price: a zero return; then price-to-price returns minute by minute.
    const ra = [0, ...a.slice(1, 19).map((p, i) => p / a[i]! - 1)];
    const rb = [0, ...b.slice(1, 19).map((p, i) => p / b[i]! - 1)];
    const mean = (x: number[]) => x.reduce((u, v) => u + v, 0) / x.length;
    const cov = (x: number[], y: number[]) => {
      const mx = mean(x);
      const my = mean(y);
      return x.reduce((u, v, i) => u + (v - mx) * (y[i]! - my), 0) / (x.length - 1);
    };
    const w = new Float64Array([2_000, -1_500]);
    const variance =
      w[0]! * w[0]! * cov(ra, ra) + 2 * w[0]! * w[1]! * cov(ra, rb) + w[1]! * w[1]! * cov(rb, rb);
    const expected = normalQuantile(0.99) * Math.sqrt(variance * 4);
    expect(s.valueAtRisk(w, 0.99, 4)).toBeCloseTo(expected, 9);
    expect(expected).toBeGreaterThan(0);
  });

  it('is not ready (NaN VaR) before minSamples, and restarts with room for a new instrument', () => {
    const s = new ReturnSampler(1, { sampleUs: MIN, window: 10, minSamples: 3 });
    for (let m = 0; m < 3; m++) s.onPrice(0, 100 + m, m * MIN + 1);
    expect(s.samples).toBe(2);
    expect(s.valueAtRisk(new Float64Array([1]), 0.99, 1)).toBeNaN();
    s.onPrice(0, 104, 3 * MIN + 1);
    expect(s.ready).toBe(true);
    s.onPrice(3, 50, 3 * MIN + 2);
    expect(s.n).toBe(4);
    expect(s.samples).toBe(0);
    expect(s.ready).toBe(false);
  });
});
