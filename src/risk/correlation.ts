// Online covariance and correlation of N return series over a rolling window of W samples: each new sample
// updates the sums in O(N^2) with no allocation (Float64Arrays, data shifted by a per-series origin so sums stay
// small), plus portfolio volatility, parametric and historical VaR/CVaR, and clusters of correlated instruments.
// Units: whatever the samples are in (returns as fractions, usually); VaR and CVaR in the units of `value`.

import { Bot4Error, ErrorCode } from '../core/errors.ts';
import type { Kernels } from '../parallel/kernels.ts';
import { loadKernels } from '../parallel/simd.ts';

/**
 * The bulk kernels for full recomputation (with fused multiply-add where the runtime has it: f64, correct to the
 * last bits rather than bit-identical to the TypeScript kernels), loaded by the first instance.
 */
let bulk: Kernels | undefined;

/** Which bulk kernels recompute uses and why (WebAssembly SIMD with or without FMA, or the TypeScript ones). */
export function bulkKernelsReason(): string {
  bulk ??= loadKernels({ fma: true });
  return bulk.reason;
}

export class RollingCovariance {
  readonly n: number;
  readonly window: number;
  /**
   * Samples as given, one row of `window` per series (series i's sample in slot k at i * window + k), the slots a
   * ring; `head` is the next slot to write. Series-major so recompute hands the rows to the bulk kernels as they
   * are (no transpose).
   */
  private ring: Float64Array;
  /**
   * Whether `ring` lives in the bulk kernels' memory: moved there by the first recompute, so later ones read the
   * window in place instead of copying n * window doubles in (about a fifth of a 50 x 1,000 recompute). Only
   * then: that memory is never given back, and most instances (the risk engine's) never recompute.
   */
  private resident = false;
  /** The first `count` slots of each series, packed, while the window is not yet full (recompute). */
  private packed: Float64Array | undefined;
  /** Per-series origin subtracted before summing (the window mean at the last resync). */
  private readonly shift: Float64Array;
  private readonly sum: Float64Array;
  /** Sums of products of shifted values, upper triangle of an n x n row-major matrix (i <= j). */
  private readonly cross: Float64Array;
  private readonly cNew: Float64Array;
  private readonly cOld: Float64Array;
  /** Per-series 1 / standard deviation, scratch of correlationMatrix. */
  private readonly inv: Float64Array;
  private head = 0;
  private filled = 0;
  private sinceResync = 0;
  private started = false;
  /** Full recomputation of the sums after this many updates, so rounding cannot accumulate without bound. */
  readonly resyncEvery: number;

  constructor(n: number, window: number, resyncEvery = 64 * window) {
    if (!Number.isInteger(n) || n < 1 || !Number.isInteger(window) || window < 2) {
      throw new Bot4Error(
        ErrorCode.INVALID_ARGUMENT,
        `rolling covariance needs n >= 1 series and a window >= 2 samples, got n ${n}, window ${window}`,
        { n, window },
      );
    }
    this.n = n;
    this.window = window;
    this.resyncEvery = resyncEvery;
    this.ring = new Float64Array(n * window);
    this.inv = new Float64Array(n);
    this.shift = new Float64Array(n);
    this.sum = new Float64Array(n);
    this.cross = new Float64Array(n * n);
    this.cNew = new Float64Array(n);
    this.cOld = new Float64Array(n);
  }

  /** Samples in the window (up to `window`). */
  get count(): number {
    return this.filled;
  }

  /** Adds one sample of every series (x[i] for series i); the oldest leaves once the window is full. */
  update(x: ArrayLike<number>): void {
    const n = this.n;
    const shift = this.shift;
    if (!this.started) {
      for (let i = 0; i < n; i++) shift[i] = x[i]!;
      this.started = true;
    }
    const c = this.cNew;
    for (let i = 0; i < n; i++) c[i] = x[i]! - shift[i]!;
    const ring = this.ring;
    const w = this.window;
    const head = this.head;
    const sum = this.sum;
    const cross = this.cross;
    if (this.filled === w) {
      const o = this.cOld;
      for (let i = 0; i < n; i++) {
        o[i] = ring[i * w + head]! - shift[i]!;
        sum[i]! += c[i]! - o[i]!;
      }
      for (let i = 0; i < n; i++) {
        const ci = c[i]!;
        const oi = o[i]!;
        const r = i * n;
        for (let j = i; j < n; j++) cross[r + j]! += ci * c[j]! - oi * o[j]!;
      }
    } else {
      for (let i = 0; i < n; i++) {
        const ci = c[i]!;
        sum[i]! += ci;
        const r = i * n;
        for (let j = i; j < n; j++) cross[r + j]! += ci * c[j]!;
      }
      this.filled++;
    }
    for (let i = 0; i < n; i++) ring[i * w + head] = x[i]!;
    this.head = head + 1 === w ? 0 : head + 1;
    if (++this.sinceResync >= this.resyncEvery) this.resync();
  }

  /** Sample covariance (denominator count - 1); NaN with fewer than 2 samples. */
  covariance(i: number, j: number): number {
    const m = this.filled;
    if (m < 2) return Number.NaN;
    const a = Math.min(i, j);
    const b = Math.max(i, j);
    return (this.cross[a * this.n + b]! - (this.sum[a]! * this.sum[b]!) / m) / (m - 1);
  }

  correlation(i: number, j: number): number {
    const d = Math.sqrt(this.covariance(i, i) * this.covariance(j, j));
    return d > 0 ? this.covariance(i, j) / d : Number.NaN;
  }

  mean(i: number): number {
    return this.filled === 0 ? Number.NaN : this.shift[i]! + this.sum[i]! / this.filled;
  }

  /** The n x n sample covariance matrix, row-major, from the running sums. */
  covarianceMatrix(out: Float64Array = new Float64Array(this.n * this.n)): Float64Array {
    const n = this.n;
    for (let i = 0; i < n; i++) {
      for (let j = i; j < n; j++) {
        const v = this.covariance(i, j);
        out[i * n + j] = v;
        out[j * n + i] = v;
      }
    }
    return out;
  }

  /**
   * The n x n correlation matrix from the running sums, O(N^2) (one square root per series): after each
   * `update`, the window's full matrix without a recompute. NaN off the diagonal for a constant series.
   */
  correlationMatrix(out: Float64Array = new Float64Array(this.n * this.n)): Float64Array {
    const n = this.n;
    const m = this.filled;
    if (m < 2) return out.fill(Number.NaN, 0, n * n);
    const cross = this.cross;
    const sum = this.sum;
    const inv = this.inv;
    // The 1 / (m - 1) of covariance cancels in a correlation; a non-positive variance (a constant series,
    // rounding) gives NaN, as correlation(i, j) does.
    for (let i = 0; i < n; i++) {
      const v = cross[i * n + i]! - (sum[i]! * sum[i]!) / m;
      inv[i] = v > 0 ? 1 / Math.sqrt(v) : Number.NaN;
    }
    for (let i = 0; i < n; i++) {
      const r = i * n;
      const si = sum[i]! / m;
      const ii = inv[i]!;
      out[r + i] = 1;
      for (let j = i + 1; j < n; j++) {
        const v = (cross[r + j]! - si * sum[j]!) * ii * inv[j]!;
        out[r + j] = v;
        out[j * n + i] = v;
      }
    }
    return out;
  }

  /**
   * The covariance matrix computed afresh from the window (two passes: means, then centred products), written
   * to `out`. O(W N^2) on the bulk kernels (WebAssembly SIMD where available, see src/parallel/simd.ts).
   */
  recompute(out: Float64Array = new Float64Array(this.n * this.n)): Float64Array {
    const n = this.n;
    const m = this.filled;
    if (m < 2) return out.fill(Number.NaN, 0, n * n);
    bulk ??= loadKernels({ fma: true });
    if (!this.resident) {
      const moved = bulk.array(this.ring.length);
      moved.set(this.ring);
      this.ring = moved;
      this.resident = true;
    }
    // Each series' slots 0..m-1 hold the window (in ring order, which a covariance does not depend on): the
    // ring itself once full, packed rows of m before.
    const w = this.window;
    if (m === w) return bulk.covarianceMatrix(this.ring, n, m, out, 'series-rows');
    this.packed ??= bulk.array(n * w);
    const packed = this.packed;
    for (let i = 0; i < n; i++) for (let t = 0; t < m; t++) packed[i * m + t] = this.ring[i * w + t]!;
    return bulk.covarianceMatrix(packed, n, m, out, 'series-rows');
  }

  /** Recomputes the running sums exactly from the window, re-centred on its means. */
  resync(): void {
    this.sinceResync = 0;
    const n = this.n;
    const m = this.filled;
    if (m === 0) return;
    const ring = this.ring;
    const shift = this.shift;
    const w = this.window;
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let t = 0; t < m; t++) s += ring[i * w + t]!;
      shift[i] = s / m;
    }
    this.sum.fill(0);
    this.cross.fill(0);
    const c = this.cNew;
    for (let t = 0; t < m; t++) {
      for (let i = 0; i < n; i++) {
        c[i] = ring[i * w + t]! - shift[i]!;
        this.sum[i]! += c[i]!;
      }
      for (let i = 0; i < n; i++) {
        const ci = c[i]!;
        const r = i * n;
        for (let j = i; j < n; j++) this.cross[r + j]! += ci * c[j]!;
      }
    }
  }

  /** Copies the window, oldest sample first, as rows of n into `out` (length >= count * n). Returns count. */
  samples(out: Float64Array): number {
    const n = this.n;
    const m = this.filled;
    const start = m < this.window ? 0 : this.head;
    const w = this.window;
    for (let t = 0; t < m; t++) {
      const slot = (start + t) % w;
      for (let i = 0; i < n; i++) out[t * n + i] = this.ring[i * w + slot]!;
    }
    return m;
  }

  /** Portfolio returns over the window, oldest first: out[t] = sum_i w[i] * x[t][i]. Returns count. */
  portfolioReturns(weights: ArrayLike<number>, out: Float64Array): number {
    const n = this.n;
    const m = this.filled;
    const start = m < this.window ? 0 : this.head;
    const w = this.window;
    for (let t = 0; t < m; t++) {
      const slot = (start + t) % w;
      let r = 0;
      for (let i = 0; i < n; i++) r += weights[i]! * this.ring[i * w + slot]!;
      out[t] = r;
    }
    return m;
  }
}

/** w' C w for a row-major n x n covariance matrix. */
export function portfolioVariance(cov: ArrayLike<number>, n: number, w: ArrayLike<number>): number {
  let v = 0;
  for (let i = 0; i < n; i++) {
    let row = 0;
    for (let j = 0; j < n; j++) row += cov[i * n + j]! * w[j]!;
    v += w[i]! * row;
  }
  return v;
}

export function portfolioVolatility(cov: ArrayLike<number>, n: number, w: ArrayLike<number>): number {
  return Math.sqrt(Math.max(0, portfolioVariance(cov, n, w)));
}

// Acklam's coefficients for the normal quantile, and W. J. Cody's for erfc (three ranges).
const QA = [
  -39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716,
  2.506628277459239,
];
const QB = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572];
const QC = [
  -0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968,
  2.938163982698783,
];
const QD = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
const E0P = [
  3209.3775891384694, 377.485237685302, 113.86415415105016, 3.1611237438705655, 0.18577770618460315,
];
const E0Q = [2844.236833439171, 1282.6165260773723, 244.02463793444417, 23.601290952344122, 1];
const E1P = [
  300.4592610201616, 451.9189537118729, 339.3208167343437, 152.9892850469404, 43.16222722205674,
  7.211758250883094, 0.564195517478974, -1.368648573827167e-7,
];
const E1Q = [
  300.4592609569833, 790.950925327898, 931.3540948506096, 638.9802644656312, 277.5854447439876,
  77.00015293522947, 12.78272731962942, 1,
];
const E2P = [
  -0.002996107077035422, -0.04947309106232507, -0.22695659353968692, -0.2786613086096478,
  -0.02231924597341847,
];
const E2Q = [0.010620923052846792, 0.19130892610782985, 1.051675107067932, 1.9873320181713525, 1];

/** Horner evaluation of sum c[k] x^k, coefficients lowest degree first. */
function poly(c: readonly number[], x: number): number {
  let v = 0;
  for (let k = c.length - 1; k >= 0; k--) v = v * x + c[k]!;
  return v;
}

/** Acklam's tail and central forms, coefficients highest degree first. */
function tailForm(q: number): number {
  const c = QC;
  const d = QD;
  return (
    (((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) /
    ((((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1)
  );
}

/**
 * The standard normal quantile (inverse CDF): Acklam's rational approximation (relative error 1.15e-9)
 * refined by one Halley step on erfc, to about 1e-15.
 */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) {
    return p === 0 ? Number.NEGATIVE_INFINITY : p === 1 ? Number.POSITIVE_INFINITY : Number.NaN;
  }
  const lo = 0.02425;
  let x: number;
  if (p < lo) {
    x = tailForm(Math.sqrt(-2 * Math.log(p)));
  } else if (p <= 1 - lo) {
    const a = QA;
    const b = QB;
    const q = p - 0.5;
    const r = q * q;
    x =
      ((((((a[0]! * r + a[1]!) * r + a[2]!) * r + a[3]!) * r + a[4]!) * r + a[5]!) * q) /
      (((((b[0]! * r + b[1]!) * r + b[2]!) * r + b[3]!) * r + b[4]!) * r + 1);
  } else {
    x = -tailForm(Math.sqrt(-2 * Math.log(1 - p)));
  }
  const e = 0.5 * erfc(-x / Math.SQRT2) - p;
  const u = e * Math.sqrt(2 * Math.PI) * Math.exp((x * x) / 2);
  return x - u / (1 + (x * u) / 2);
}

/** Complementary error function (W. J. Cody's rational approximations, ~1e-16 relative). */
export function erfc(x: number): number {
  const z = Math.abs(x);
  let r: number;
  if (z < 0.5) {
    const t = z * z;
    r = 1 - (z * poly(E0P, t)) / poly(E0Q, t);
  } else if (z < 4) {
    r = Math.exp(-z * z) * (poly(E1P, z) / poly(E1Q, z));
  } else {
    const zi = 1 / (z * z);
    r = (Math.exp(-z * z) / z) * (1 / Math.sqrt(Math.PI) + zi * (poly(E2P, zi) / poly(E2Q, zi)));
  }
  return x < 0 ? 2 - r : r;
}

/** Standard normal density. */
export function normalPdf(x: number): number {
  return Math.exp(-0.5 * x * x) / Math.sqrt(2 * Math.PI);
}

/**
 * Parametric (normal) value at risk: the loss not exceeded with probability `confidence` (e.g. 0.99), for a
 * position `value` whose return has standard deviation `sigma` and mean `mean` over the horizon. Positive = loss.
 */
export function parametricVaR(sigma: number, confidence: number, value = 1, mean = 0): number {
  return value * (normalQuantile(confidence) * sigma - mean);
}

/** Parametric (normal) expected shortfall: the mean loss beyond the VaR. */
export function parametricCVaR(sigma: number, confidence: number, value = 1, mean = 0): number {
  const z = normalQuantile(confidence);
  return value * ((sigma * normalPdf(z)) / (1 - confidence) - mean);
}

/**
 * Historical VaR and CVaR of a return sample, as positive losses times `value`. VaR is the
 * ceil(confidence * n)-th smallest loss; CVaR the mean of that loss and every larger one. Sorts a copy in
 * `scratch` (allocated when not given or too small).
 */
export function historicalVaR(
  returns: ArrayLike<number>,
  confidence: number,
  value = 1,
  scratch?: Float64Array,
): { var: number; cvar: number } {
  const n = returns.length;
  if (n === 0) return { var: Number.NaN, cvar: Number.NaN };
  const losses = scratch !== undefined && scratch.length >= n ? scratch.subarray(0, n) : new Float64Array(n);
  for (let t = 0; t < n; t++) losses[t] = -returns[t]!;
  losses.sort();
  const k = Math.min(n - 1, Math.max(0, Math.ceil(confidence * n) - 1));
  let tail = 0;
  for (let t = k; t < n; t++) tail += losses[t]!;
  return { var: value * losses[k]!, cvar: (value * tail) / (n - k) };
}

/**
 * Groups series whose |correlation| exceeds `threshold` (directly or through a chain) into clusters. Writes a
 * label per series into `labels` (0.. for clusters of two or more, -1 for a series on its own) and returns the
 * number of clusters. O(N^2) union-find; `scratch` (3N entries, reused) makes it allocation-free for callers
 * that regroup on every sample (the risk engine).
 */
export function correlationClusters(
  cov: RollingCovariance,
  threshold: number,
  labels: Int32Array,
  scratch: Int32Array = new Int32Array(3 * cov.n),
): number {
  const n = cov.n;
  // scratch[0..n) parent, [n..2n) cluster size by root, [2n..3n) label by root
  const p = scratch;
  for (let i = 0; i < n; i++) p[i] = i;
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const rho = cov.correlation(i, j);
      if (Math.abs(rho) > threshold) {
        const a = findRoot(p, i);
        const b = findRoot(p, j);
        if (a !== b) p[b] = a;
      }
    }
  }
  for (let i = 0; i < n; i++) {
    p[n + i] = 0;
    p[2 * n + i] = -1;
  }
  for (let i = 0; i < n; i++) p[n + findRoot(p, i)]!++;
  let clusters = 0;
  for (let i = 0; i < n; i++) {
    const r = findRoot(p, i);
    if (p[n + r]! < 2) {
      labels[i] = -1;
      continue;
    }
    if (p[2 * n + r] === -1) p[2 * n + r] = clusters++;
    labels[i] = p[2 * n + r]!;
  }
  return clusters;
}

/** Union-find root of i in parent[0..n), with path compression. */
function findRoot(parent: Int32Array, i: number): number {
  let r = i;
  while (parent[r] !== r) r = parent[r]!;
  while (parent[i] !== r) {
    const next = parent[i]!;
    parent[i] = r;
    i = next;
  }
  return r;
}
