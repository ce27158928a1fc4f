// Linear models trained here: online linear/logistic regression by SGD with an adaptive step (Adam or AdaGrad),
// recursive least squares with forgetting, ridge (and OLS) by closed form, and L2-penalised logistic regression by
// Newton's method. update() and predict() allocate nothing (scratch arrays are preallocated); the batch fits
// allocate their d x d systems once. Rows are read in place from a Float64Array at an offset; the bias is separate.

import { Bot4Error, ErrorCode } from '../core/errors.ts';

export const Link = { IDENTITY: 0, LOGISTIC: 1 } as const;
export type Link = (typeof Link)[keyof typeof Link];

export function sigmoid(z: number): number {
  return z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z));
}

/**
 * w . x[off .. off + d) + bias. NaN in, NaN out (a linear model has no default branch for a missing value).
 * Four running sums: one chain of d dependent additions waits ~4 cycles per add, four chains overlap. The row is
 * walked by its own index j rather than off + i (one index add per four loads instead of one per load: ~10%).
 */
function dot(w: Float64Array, bias: number, x: Float64Array, off: number): number {
  const d = w.length;
  const d4 = d - (d & 3);
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let i = 0;
  let j = off;
  for (; i < d4; i += 4, j += 4) {
    s0 += w[i]! * x[j]!;
    s1 += w[i + 1]! * x[j + 1]!;
    s2 += w[i + 2]! * x[j + 2]!;
    s3 += w[i + 3]! * x[j + 3]!;
  }
  for (; i < d; i++, j++) s0 += w[i]! * x[j]!;
  return bias + (s0 + s1 + (s2 + s3));
}

/** A fitted linear model in raw feature space: the prediction, or P(y = 1) under the logistic link. */
export class LinearModel {
  readonly weights: Float64Array;
  bias = 0;
  readonly link: Link;

  constructor(weights: Float64Array, bias: number, link: Link) {
    this.weights = weights;
    this.bias = bias;
    this.link = link;
  }

  predict(x: Float64Array, off = 0): number {
    const z = dot(this.weights, this.bias, x, off);
    return this.link === Link.LOGISTIC ? sigmoid(z) : z;
  }
}

export const Optimizer = { ADAM: 0, ADAGRAD: 1 } as const;
export type Optimizer = (typeof Optimizer)[keyof typeof Optimizer];

export interface SgdOptions {
  readonly link?: Link;
  readonly optimizer?: Optimizer;
  /** Step size (default 0.01). */
  readonly rate?: number;
  /** L2 penalty on the weights per update (not on the bias). */
  readonly l2?: number;
}

/**
 * Online linear (squared loss) or logistic (log loss) regression: one adaptive SGD step per sample. Both losses
 * have the gradient (prediction - y) x under their canonical link, so one update serves both.
 */
export class OnlineSgd {
  readonly dim: number;
  readonly link: Link;
  readonly optimizer: Optimizer;
  readonly rate: number;
  readonly l2: number;
  /** Weights then the bias at index dim. */
  readonly w: Float64Array;
  private readonly m: Float64Array;
  private readonly v: Float64Array;
  private pow1 = 1;
  private pow2 = 1;
  samples = 0;

  constructor(dim: number, options: SgdOptions = {}) {
    this.dim = dim;
    this.link = options.link ?? Link.IDENTITY;
    this.optimizer = options.optimizer ?? Optimizer.ADAM;
    this.rate = options.rate ?? 0.01;
    this.l2 = options.l2 ?? 0;
    this.w = new Float64Array(dim + 1);
    this.m = new Float64Array(dim + 1);
    this.v = new Float64Array(dim + 1);
  }

  predict(x: Float64Array, off = 0): number {
    const z = this.margin(x, off);
    return this.link === Link.LOGISTIC ? sigmoid(z) : z;
  }

  private margin(x: Float64Array, off: number): number {
    const d = this.dim;
    const w = this.w;
    let s = w[d]!;
    for (let i = 0; i < d; i++) s += w[i]! * x[off + i]!;
    return s;
  }

  /** One step towards y; rows holding NaN are skipped (returns false). */
  update(x: Float64Array, off: number, y: number): boolean {
    const z = this.margin(x, off);
    if (Number.isNaN(z) || Number.isNaN(y)) return false;
    const err = (this.link === Link.LOGISTIC ? sigmoid(z) : z) - y;
    const d = this.dim;
    const w = this.w;
    const m = this.m;
    const v = this.v;
    const lr = this.rate;
    const l2 = this.l2;
    if (this.optimizer === Optimizer.ADAM) {
      this.pow1 *= 0.9;
      this.pow2 *= 0.999;
      const c1 = 1 / (1 - this.pow1);
      const c2 = 1 / (1 - this.pow2);
      for (let i = 0; i <= d; i++) {
        const g = i === d ? err : err * x[off + i]! + l2 * w[i]!;
        const mi = 0.9 * m[i]! + 0.1 * g;
        const vi = 0.999 * v[i]! + 0.001 * g * g;
        m[i] = mi;
        v[i] = vi;
        w[i] = w[i]! - (lr * mi * c1) / (Math.sqrt(vi * c2) + 1e-8);
      }
    } else {
      for (let i = 0; i <= d; i++) {
        const g = i === d ? err : err * x[off + i]! + l2 * w[i]!;
        const vi = v[i]! + g * g;
        v[i] = vi;
        w[i] = w[i]! - (lr * g) / (Math.sqrt(vi) + 1e-8);
      }
    }
    this.samples++;
    return true;
  }

  model(): LinearModel {
    return new LinearModel(this.w.slice(0, this.dim), this.w[this.dim]!, this.link);
  }
}

/**
 * Recursive least squares with exponential forgetting (lambda in (0, 1]; 1 = ordinary least squares on all
 * samples so far). The bias is a constant input 1. P starts at delta * I; update is O(d^2) with no allocation.
 */
export class Rls {
  readonly dim: number;
  readonly lambda: number;
  /** Weights then the bias at index dim. */
  readonly w: Float64Array;
  /** (d+1) x (d+1), row-major, symmetric. */
  readonly p: Float64Array;
  private readonly phi: Float64Array;
  private readonly pphi: Float64Array;
  samples = 0;

  constructor(dim: number, lambda = 1, delta = 1e6) {
    if (!(lambda > 0 && lambda <= 1)) {
      throw new Bot4Error(
        ErrorCode.INVALID_ARGUMENT,
        `RLS forgetting factor must be in (0, 1], got ${lambda}`,
      );
    }
    const n = dim + 1;
    this.dim = dim;
    this.lambda = lambda;
    this.w = new Float64Array(n);
    this.p = new Float64Array(n * n);
    for (let i = 0; i < n; i++) this.p[i * n + i] = delta;
    this.phi = new Float64Array(n);
    this.pphi = new Float64Array(n);
  }

  predict(x: Float64Array, off = 0): number {
    const d = this.dim;
    const w = this.w;
    let s = w[d]!;
    for (let i = 0; i < d; i++) s += w[i]! * x[off + i]!;
    return s;
  }

  update(x: Float64Array, off: number, y: number): boolean {
    const n = this.dim + 1;
    const phi = this.phi;
    const pphi = this.pphi;
    const p = this.p;
    for (let i = 0; i < this.dim; i++) phi[i] = x[off + i]!;
    phi[this.dim] = 1;
    const err = y - this.predict(x, off);
    if (Number.isNaN(err)) return false;
    let denom = this.lambda;
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let j = 0; j < n; j++) s += p[i * n + j]! * phi[j]!;
      pphi[i] = s;
      denom += phi[i]! * s;
    }
    const inv = 1 / denom;
    for (let i = 0; i < n; i++) this.w[i] = this.w[i]! + pphi[i]! * inv * err;
    const il = 1 / this.lambda;
    for (let i = 0; i < n; i++) {
      const ki = pphi[i]! * inv;
      for (let j = 0; j < n; j++) p[i * n + j] = (p[i * n + j]! - ki * pphi[j]!) * il;
    }
    this.samples++;
    return true;
  }

  model(): LinearModel {
    return new LinearModel(this.w.slice(0, this.dim), this.w[this.dim]!, Link.IDENTITY);
  }
}

/** Solves A z = b in place for symmetric positive-definite A (n x n, row-major; A is overwritten by its factor). */
export function choleskySolve(a: Float64Array, b: Float64Array, n: number): Float64Array {
  for (let j = 0; j < n; j++) {
    const diag = a[j * n + j]!;
    let s = diag;
    for (let k = 0; k < j; k++) s -= a[j * n + k]! * a[j * n + k]!;
    // Relative: a dependent column leaves rounding noise of the diagonal's size, not an exact 0.
    if (!(s > 1e-12 * diag)) {
      throw new Bot4Error(
        ErrorCode.INVALID_ARGUMENT,
        `the normal equations are singular at column ${j} (a constant or duplicated feature?); add a ridge penalty`,
        { column: j },
      );
    }
    const l = Math.sqrt(s);
    a[j * n + j] = l;
    for (let i = j + 1; i < n; i++) {
      let t = a[i * n + j]!;
      for (let k = 0; k < j; k++) t -= a[i * n + k]! * a[j * n + k]!;
      a[i * n + j] = t / l;
    }
  }
  for (let i = 0; i < n; i++) {
    let t = b[i]!;
    for (let k = 0; k < i; k++) t -= a[i * n + k]! * b[k]!;
    b[i] = t / a[i * n + i]!;
  }
  for (let i = n - 1; i >= 0; i--) {
    let t = b[i]!;
    for (let k = i + 1; k < n; k++) t -= a[k * n + i]! * b[k]!;
    b[i] = t / a[i * n + i]!;
  }
  return b;
}

/** Column means of an n x d row-major matrix. */
function means(x: Float64Array, n: number, d: number): Float64Array {
  const mu = new Float64Array(d);
  for (let r = 0; r < n; r++) for (let j = 0; j < d; j++) mu[j] = mu[j]! + x[r * d + j]!;
  for (let j = 0; j < d; j++) mu[j] = mu[j]! / n;
  return mu;
}

/**
 * Ridge regression by closed form: minimises ||y - Xw - b||^2 + alpha ||w||^2 with the intercept unpenalised
 * (X and y centred first, as scikit-learn's Ridge does). alpha 0 is ordinary least squares.
 */
export function fitRidge(x: Float64Array, y: Float64Array, n: number, d: number, alpha = 0): LinearModel {
  const mu = means(x, n, d);
  let ym = 0;
  for (let r = 0; r < n; r++) ym += y[r]!;
  ym /= n;
  const a = new Float64Array(d * d);
  const b = new Float64Array(d);
  for (let r = 0; r < n; r++) {
    const o = r * d;
    const yr = y[r]! - ym;
    for (let i = 0; i < d; i++) {
      const xi = x[o + i]! - mu[i]!;
      b[i] = b[i]! + xi * yr;
      for (let j = 0; j <= i; j++) a[i * d + j] = a[i * d + j]! + xi * (x[o + j]! - mu[j]!);
    }
  }
  for (let i = 0; i < d; i++) {
    a[i * d + i] = a[i * d + i]! + alpha;
    for (let j = 0; j < i; j++) a[j * d + i] = a[i * d + j]!;
  }
  const w = choleskySolve(a, b, d);
  let bias = ym;
  for (let i = 0; i < d; i++) bias -= w[i]! * mu[i]!;
  return new LinearModel(w, bias, Link.IDENTITY);
}

/**
 * L2-penalised logistic regression by Newton's method: minimises sum(log loss) + l2/2 ||w||^2, intercept
 * unpenalised (scikit-learn's LogisticRegression with C = 1 / l2). Stops when the step is below `tol`.
 */
export function fitLogistic(
  x: Float64Array,
  y: Float64Array,
  n: number,
  d: number,
  l2 = 1,
  tol = 1e-12,
  maxIter = 100,
): LinearModel {
  const k = d + 1;
  const w = new Float64Array(k);
  const h = new Float64Array(k * k);
  const g = new Float64Array(k);
  for (let it = 0; it < maxIter; it++) {
    h.fill(0);
    g.fill(0);
    for (let r = 0; r < n; r++) {
      const o = r * d;
      let z = w[d]!;
      for (let i = 0; i < d; i++) z += w[i]! * x[o + i]!;
      const p = sigmoid(z);
      const e = p - y[r]!;
      const s = p * (1 - p);
      for (let i = 0; i < k; i++) {
        const xi = i === d ? 1 : x[o + i]!;
        g[i] = g[i]! + e * xi;
        for (let j = 0; j <= i; j++) h[i * k + j] = h[i * k + j]! + s * xi * (j === d ? 1 : x[o + j]!);
      }
    }
    for (let i = 0; i < k; i++) {
      if (i < d) {
        g[i] = g[i]! + l2 * w[i]!;
        h[i * k + i] = h[i * k + i]! + l2;
      }
      for (let j = 0; j < i; j++) h[j * k + i] = h[i * k + j]!;
    }
    const step = choleskySolve(h, g, k);
    let size = 0;
    for (let i = 0; i < k; i++) {
      w[i] = w[i]! - step[i]!;
      size = Math.max(size, Math.abs(step[i]!));
    }
    if (size < tol) break;
  }
  return new LinearModel(w.slice(0, d), w[d]!, Link.LOGISTIC);
}
