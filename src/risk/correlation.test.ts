import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  correlationClusters,
  historicalVaR,
  normalQuantile,
  parametricCVaR,
  parametricVaR,
  portfolioVariance,
  portfolioVolatility,
  RollingCovariance,
} from './correlation.ts';

/** Direct two-pass sample covariance of the last `w` rows (n columns each) of `rows`. */
function direct(rows: number[][], w: number, n: number): number[][] {
  const win = rows.slice(Math.max(0, rows.length - w));
  const m = win.length;
  const mean = Array.from({ length: n }, (_, i) => win.reduce((s, r) => s + r[i]!, 0) / m);
  return Array.from({ length: n }, (_, i) =>
    Array.from(
      { length: n },
      (_, j) => win.reduce((s, r) => s + (r[i]! - mean[i]!) * (r[j]! - mean[j]!), 0) / (m - 1),
    ),
  );
}

/** A simple deterministic generator (the property tests draw their seeds). */
function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 4294967296;
  };
}

function gauss(r: () => number): number {
  return Math.sqrt(-2 * Math.log(r() + 1e-300)) * Math.cos(2 * Math.PI * r());
}

describe('RollingCovariance', () => {
  it('equals a direct computation over the same window to 1e-9, through several window wraps', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 7 }),
        fc.integer({ min: 2, max: 25 }),
        fc.integer({ min: 3, max: 6 }),
        fc.integer({ min: 1, max: 2 ** 31 - 1 }),
        fc.double({ min: -200, max: 200, noNaN: true }),
        fc.integer({ min: 1, max: 50 }),
        (n, w, wraps, seed, level, resyncEvery) => {
          const r = rng(seed);
          const cov = new RollingCovariance(n, w, resyncEvery);
          const rows: number[][] = [];
          const loadings = Array.from({ length: n }, () => r() * 2 - 1);
          for (let t = 0; t < w * wraps; t++) {
            // A common factor makes the series correlated; `level` tests the shifted sums away from zero.
            const f = gauss(r);
            const row = Array.from({ length: n }, (_, i) => level + 0.01 * (loadings[i]! * f + gauss(r)));
            rows.push(row);
            cov.update(row);
            if (t < 1 || (t % 3 !== 0 && t !== w * wraps - 1)) continue;
            const d = direct(rows, w, n);
            for (let i = 0; i < n; i++) {
              for (let j = 0; j < n; j++) {
                const scale = Math.sqrt(d[i]![i]! * d[j]![j]!);
                // The running sums round in absolute terms (values ~0.01 around `level`), so a window whose
                // variance is tiny (w = 2, two near-equal values) gets an absolute allowance, not only 1e-9.
                const absolute = 1e-15;
                expect(Math.abs(cov.covariance(i, j) - d[i]![j]!)).toBeLessThanOrEqual(
                  1e-9 * scale + absolute,
                );
                if (i !== j) {
                  const rho = d[i]![j]! / scale;
                  expect(Math.abs(cov.correlation(i, j) - rho)).toBeLessThanOrEqual(1e-9 + absolute / scale);
                }
              }
            }
          }
          expect(cov.count).toBe(w);
          const full = cov.recompute();
          const d = direct(rows, w, n);
          for (let i = 0; i < n; i++) {
            for (let j = 0; j < n; j++) {
              expect(Math.abs(full[i * n + j]! - d[i]![j]!)).toBeLessThanOrEqual(
                1e-12 * Math.sqrt(d[i]![i]! * d[j]![j]!),
              );
            }
          }
        },
      ),
      { numRuns: 150, examples: [[7, 2, 3, 1405217614, 0, 4]] },
    );
  });

  it('50 instruments over a 1,000-sample window: online sums agree with the full recompute after 3.5 wraps', () => {
    const n = 50;
    const w = 1000;
    const r = rng(42);
    const cov = new RollingCovariance(n, w);
    const row = new Float64Array(n);
    for (let t = 0; t < 3500; t++) {
      const f = gauss(r);
      for (let i = 0; i < n; i++) row[i] = 0.001 + 0.02 * ((i / n) * f + gauss(r));
      cov.update(row);
    }
    const online = cov.covarianceMatrix();
    const full = cov.recompute();
    let worst = 0;
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        const scale = Math.sqrt(full[i * n + i]! * full[j * n + j]!);
        worst = Math.max(worst, Math.abs(online[i * n + j]! - full[i * n + j]!) / scale);
      }
    }
    expect(worst).toBeLessThan(1e-9);
    const rho = cov.correlationMatrix();
    // The online correlation matrix (what risk.correlation.rolling_50x50 times) against the recomputed one.
    let worstRho = 0;
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        const exact = full[i * n + j]! / Math.sqrt(full[i * n + i]! * full[j * n + j]!);
        worstRho = Math.max(worstRho, Math.abs(rho[i * n + j]! - exact) / Math.max(Math.abs(exact), 1e-3));
        expect(rho[i * n + j]).toBe(rho[j * n + i]);
      }
    }
    expect(worstRho).toBeLessThan(1e-9);
    expect(rho[0]).toBe(1);
    expect(rho[49 * n + 48]).toBeGreaterThan(0.1); // the factor loads the later series more
    expect(cov.mean(0)).toBeCloseTo(0.001, 2);
  });

  it('recompute before the window is full covers exactly the samples so far', () => {
    const n = 5;
    const w = 40;
    const r = rng(7);
    const cov = new RollingCovariance(n, w);
    const rows: number[][] = [];
    for (let t = 0; t < 23; t++) {
      const row = Array.from({ length: n }, (_, i) => 0.5 * i + 0.01 * gauss(r));
      rows.push(row);
      cov.update(row);
      if (t < 1) continue;
      const full = cov.recompute();
      const d = direct(rows, w, n);
      for (let i = 0; i < n; i++)
        for (let j = 0; j < n; j++)
          expect(Math.abs(full[i * n + j]! - d[i]![j]!)).toBeLessThanOrEqual(
            1e-12 * Math.sqrt(d[i]![i]! * d[j]![j]!),
          );
    }
  });

  it('reports NaN before two samples and copies the window oldest first', () => {
    const cov = new RollingCovariance(2, 3);
    expect(cov.covariance(0, 1)).toBeNaN();
    for (const x of [1, 2, 3, 4]) cov.update([x, -x]);
    const out = new Float64Array(6);
    expect(cov.samples(out)).toBe(3);
    expect([...out]).toEqual([2, -2, 3, -3, 4, -4]);
    expect(cov.correlation(0, 1)).toBeCloseTo(-1, 12);
    const pr = new Float64Array(3);
    cov.portfolioReturns([0.5, 0.25], pr);
    expect([...pr]).toEqual([0.5, 0.75, 1]);
  });
});

describe('portfolio risk', () => {
  it("portfolio variance and volatility are w'Cw", () => {
    const c = [0.04, 0.006, 0.006, 0.09];
    expect(portfolioVariance(c, 2, [0.5, 0.5])).toBeCloseTo(0.25 * 0.04 + 0.25 * 0.09 + 2 * 0.25 * 0.006, 15);
    expect(portfolioVolatility(c, 2, [1, 0])).toBeCloseTo(0.2, 15);
  });

  it('parametric VaR and CVaR match the normal tables', () => {
    expect(normalQuantile(0.99)).toBeCloseTo(2.3263478740408408, 12);
    expect(normalQuantile(0.95)).toBeCloseTo(1.6448536269514722, 12);
    expect(parametricVaR(0.02, 0.99, 1_000_000)).toBeCloseTo(46_526.957, 2);
    // ES_99 of a standard normal is 2.665214220345806.
    expect(parametricCVaR(0.02, 0.99, 1_000_000)).toBeCloseTo(53_304.284, 2);
    expect(parametricVaR(0.02, 0.99, 1, 0.001)).toBeCloseTo(0.046526957 - 0.001, 8);
  });

  it('historical VaR and CVaR of a known sample', () => {
    const returns = Array.from({ length: 100 }, (_, k) => -(k + 1) / 100);
    const { var: v, cvar } = historicalVaR(returns, 0.95);
    expect(v).toBeCloseTo(0.95, 12);
    expect(cvar).toBeCloseTo((0.95 + 0.96 + 0.97 + 0.98 + 0.99 + 1) / 6, 12);
    const scratch = new Float64Array(200);
    expect(historicalVaR(returns, 0.99, 10, scratch).var).toBeCloseTo(9.9, 12);
    expect(historicalVaR([], 0.99).var).toBeNaN();
  });

  it('clusters instruments correlated above the threshold, directly or through a chain', () => {
    const r = rng(7);
    const cov = new RollingCovariance(5, 500);
    for (let t = 0; t < 500; t++) {
      const a = gauss(r);
      const c = gauss(r);
      cov.update([a, a + 0.1 * gauss(r), c, -c + 0.1 * gauss(r), gauss(r)]);
    }
    const labels = new Int32Array(5);
    expect(correlationClusters(cov, 0.8, labels)).toBe(2);
    expect([...labels]).toEqual([0, 0, 1, 1, -1]);
    expect(correlationClusters(cov, 0.999, labels)).toBe(0);
    expect([...labels]).toEqual([-1, -1, -1, -1, -1]);
  });
});
