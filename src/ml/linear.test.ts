import { readFileSync } from 'node:fs';
import { Matrix, solve } from 'ml-matrix';
import { describe, expect, it } from 'vitest';
import { fitLogistic, fitRidge, Link, OnlineSgd, Optimizer, Rls } from './linear.ts';

interface Fixture {
  X: number[][];
  y: number[];
  ybin: number[];
  ols: { coef: number[]; intercept: number };
  ridge: { alpha: number; coef: number[]; intercept: number };
  logistic: { C: number; coef: number[]; intercept: number; proba: number[] };
}
const fx = JSON.parse(
  readFileSync(new URL('./fixtures/sklearn-linear.json', import.meta.url), 'utf8'),
) as Fixture;
const n = fx.X.length;
const d = fx.X[0]!.length;
const X = Float64Array.from(fx.X.flat());
const y = Float64Array.from(fx.y);
const ybin = Float64Array.from(fx.ybin);

/** OLS by the normal equations [X 1]'[X 1] b = [X 1]'y, solved by ml-matrix's LU: an independent reference. */
function normalEquations(rows: number[][], target: number[]): number[] {
  const A = new Matrix(rows.map((r) => [...r, 1]));
  return solve(A.transpose().mmul(A), A.transpose().mmul(Matrix.columnVector(target))).to1DArray();
}

function close(a: ArrayLike<number>, b: ArrayLike<number>, tol: number): void {
  expect(a.length).toBe(b.length);
  for (let i = 0; i < a.length; i++)
    expect(Math.abs(a[i]! - b[i]!)).toBeLessThan(tol * (1 + Math.abs(b[i]!)));
}

describe('linear models against references', () => {
  it('fitRidge with alpha 0 solves the normal equations, and matches scikit-learn LinearRegression', () => {
    const m = fitRidge(X, y, n, d, 0);
    const ref = normalEquations(fx.X, fx.y);
    close([...m.weights, m.bias], ref, 1e-10);
    close([...m.weights, m.bias], [...fx.ols.coef, fx.ols.intercept], 1e-10);
  });

  it('fitRidge matches scikit-learn Ridge (alpha 10, unpenalised intercept)', () => {
    const m = fitRidge(X, y, n, d, fx.ridge.alpha);
    close([...m.weights, m.bias], [...fx.ridge.coef, fx.ridge.intercept], 1e-10);
  });

  it('fitLogistic matches scikit-learn LogisticRegression (C = 1 / l2), coefficients and probabilities', () => {
    const m = fitLogistic(X, ybin, n, d, 1 / fx.logistic.C);
    close([...m.weights, m.bias], [...fx.logistic.coef, fx.logistic.intercept], 1e-6);
    const p = fx.X.map((_, r) => m.predict(X, r * d));
    close(p, fx.logistic.proba, 1e-6);
  });

  it('RLS with no forgetting converges to the OLS solution of the normal equations', () => {
    const rls = new Rls(d, 1, 1e4);
    for (let r = 0; r < n; r++) rls.update(X, r * d, y[r]!);
    close(rls.w, normalEquations(fx.X, fx.y), 1e-5);
    expect(rls.samples).toBe(n);
  });

  it('RLS with forgetting equals weighted least squares with weights lambda^(n-1-i)', () => {
    const lambda = 0.97;
    const rls = new Rls(d, lambda, 1e4);
    for (let r = 0; r < n; r++) rls.update(X, r * d, y[r]!);
    const s = fx.X.map((_, r) => Math.sqrt(lambda ** (n - 1 - r)));
    // Weighted least squares: every row of [X 1] and y scaled by sqrt(weight), the bias column included.
    const A = new Matrix(fx.X.map((row, r) => [...row.map((v) => v * s[r]!), s[r]!]));
    const b = Matrix.columnVector(fx.y.map((v, r) => v * s[r]!));
    const wls = solve(A.transpose().mmul(A), A.transpose().mmul(b)).to1DArray();
    close(rls.w, wls, 1e-5);
  });

  it('online SGD (Adam and AdaGrad) approaches the closed-form fits', () => {
    for (const optimizer of [Optimizer.ADAM, Optimizer.ADAGRAD]) {
      const sgd = new OnlineSgd(d, { optimizer, rate: optimizer === Optimizer.ADAM ? 0.01 : 0.3 });
      for (let epoch = 0; epoch < 300; epoch++) for (let r = 0; r < n; r++) sgd.update(X, r * d, y[r]!);
      close(sgd.w, [...fx.ols.coef, fx.ols.intercept], 0.05);
    }
    const lg = new OnlineSgd(d, { link: Link.LOGISTIC, rate: 0.005, l2: 0 });
    for (let epoch = 0; epoch < 300; epoch++) for (let r = 0; r < n; r++) lg.update(X, r * d, ybin[r]!);
    const ref = fitLogistic(X, ybin, n, d, 1e-9);
    const p = fx.X.map((_, r) => lg.predict(X, r * d));
    const q = fx.X.map((_, r) => ref.predict(X, r * d));
    close(p, q, 0.05);
  });

  it('skips rows with a missing value instead of poisoning the weights', () => {
    const sgd = new OnlineSgd(2);
    expect(sgd.update(Float64Array.of(1, Number.NaN), 0, 1)).toBe(false);
    expect([...sgd.w]).toEqual([0, 0, 0]);
    const rls = new Rls(2);
    expect(rls.update(Float64Array.of(Number.NaN, 1), 0, 1)).toBe(false);
    expect(rls.samples).toBe(0);
  });

  it('refuses a singular system with a message naming the column', () => {
    const x = Float64Array.of(1, 1, 2, 2, 3, 3);
    expect(() => fitRidge(x, Float64Array.of(1, 2, 3), 3, 2, 0)).toThrow(/singular at column 1/);
  });
});
