// Bulk numeric kernels behind one interface, in plain TypeScript here and in WebAssembly SIMD in simd.ts (built
// from asm/kernels.ts). Both follow the summation orders below, so their f64 results are bit-identical; only the
// f32x4 correlation is lower precision. Data is row-major f64: series i is data[i * t .. (i + 1) * t).
//
// Summation orders (the contract between the two implementations):
// - dot, mean, sum of squares: eight lanes s[k] += term(i) for i = 8b + k over the whole blocks of 8, then
//   ((s0 + s2) + (s4 + s6)) + ((s1 + s3) + (s5 + s7)), then the remaining terms in order.
// - covariance and correlation entries: the centred rows' dot s in two lanes (even and odd samples) over the pairs,
//   lane 0 + lane 1, then the last sample when t is odd; a covariance is s * (1 / (t - 1)), a correlation
//   (s * inv_i) * inv_j with inv = 1 / sqrt(sum of squared deviations), that sum in the eight-lane order.
// - rolling windows: chunks of max(1024, 16 w) outputs, each from an exact two-pass window, then a sliding update.
//
// Definitions: standard deviations and covariances are sample ones (denominator t - 1). A constant series (every
// value equal to the first) has mean = that value, standard deviation 0, covariance 0 with everything, and NaN
// correlation with everything including itself: the correlation is undefined, and NaN says so rather than a 0 that
// reads as "independent". Correlations are clamped to [-1, 1] and the diagonal is exactly 1.

import { Bot4Error, ErrorCode } from '../core/errors.ts';

export type KernelKind = 'wasm-simd' | 'scalar';

/** How `data` holds n series of t samples: one row of t per series (default), or one row of n per time step. */
export type Layout = 'series-rows' | 'sample-rows';

export interface MeanStd {
  mean: number;
  std: number;
}

export interface Kernels {
  readonly kind: KernelKind;
  /** Why this implementation was chosen, e.g. why the SIMD kernels could not be loaded. */
  readonly reason: string;
  /**
   * A zeroed Float64Array the kernels read and write without copying (it lives in the WebAssembly memory for the
   * SIMD kernels). Lay long-lived series out in one once; arrays are never freed individually, only by `reset`.
   */
  array(length: number): Float64Array;
  /** Frees every array from `array` (their contents become scratch space). */
  reset(): void;
  dot(a: Float64Array, b: Float64Array): number;
  meanStd(x: Float64Array): MeanStd;
  /** The n x n sample covariance matrix of n series of t samples (row-major data), into `out` (n * n). */
  covarianceMatrix(
    data: Float64Array,
    n: number,
    t: number,
    out?: Float64Array,
    layout?: Layout,
  ): Float64Array;
  /** The n x n Pearson correlation matrix of n series of t samples, into `out` (n * n). */
  correlationMatrix(
    data: Float64Array,
    n: number,
    t: number,
    out?: Float64Array,
    layout?: Layout,
  ): Float64Array;
  /**
   * Rolling mean and sample standard deviation over `window` samples: output k covers x[k .. k + window). Writes
   * x.length - window + 1 values to each output and returns that count.
   */
  rollingMeanStd(x: Float64Array, window: number, outMean: Float64Array, outStd: Float64Array): number;
}

/** Outputs per independently started rolling chunk (see the summation orders above). */
export function rollingChunk(window: number): number {
  return Math.max(1024, 16 * window);
}

export function checkMatrixArgs(
  data: Float64Array,
  n: number,
  t: number,
  out: Float64Array | undefined,
): void {
  if (!Number.isInteger(n) || n < 1 || !Number.isInteger(t) || t < 0) {
    throw new Bot4Error(
      ErrorCode.INVALID_ARGUMENT,
      `a covariance or correlation matrix needs n >= 1 series and t >= 0 samples (integers), got n ${n}, t ${t}`,
      { n, t },
    );
  }
  if (data.length < n * t) {
    throw new Bot4Error(
      ErrorCode.INVALID_ARGUMENT,
      `data holds ${data.length} values but n ${n} series x t ${t} samples need ${n * t}: pass the series row-major, one row of t per series`,
      { n, t, length: data.length },
    );
  }
  if (out !== undefined && out.length < n * n) {
    throw new Bot4Error(
      ErrorCode.INVALID_ARGUMENT,
      `the output holds ${out.length} values but an ${n} x ${n} matrix needs ${n * n}: pass a Float64Array(n * n)`,
      { n, length: out.length },
    );
  }
}

export function checkRollingArgs(
  x: Float64Array,
  window: number,
  outMean: Float64Array,
  outStd: Float64Array,
): number {
  if (!Number.isInteger(window) || window < 2) {
    throw new Bot4Error(
      ErrorCode.INVALID_ARGUMENT,
      `a rolling standard deviation needs a window of at least 2 samples (integer), got ${window}`,
      { window },
    );
  }
  const outputs = Math.max(0, x.length - window + 1);
  if (outMean.length < outputs || outStd.length < outputs) {
    throw new Bot4Error(
      ErrorCode.INVALID_ARGUMENT,
      `rolling outputs hold ${outMean.length} (mean) and ${outStd.length} (std) values but ${x.length} samples with window ${window} give ${outputs}: size them x.length - window + 1`,
      { window, length: x.length, mean: outMean.length, std: outStd.length },
    );
  }
  return outputs;
}

export function checkDotArgs(a: Float64Array, b: Float64Array): void {
  if (a.length !== b.length) {
    throw new Bot4Error(
      ErrorCode.INVALID_ARGUMENT,
      `dot product of arrays of different lengths (${a.length} and ${b.length}): pass equal lengths`,
      { a: a.length, b: b.length },
    );
  }
}

/** Dot product of a[ao .. ao + len) and b[bo .. bo + len) in the eight-lane order. */
export function dotAt(a: Float64Array, ao: number, b: Float64Array, bo: number, len: number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let s4 = 0;
  let s5 = 0;
  let s6 = 0;
  let s7 = 0;
  const end = len & ~7;
  for (let i = 0; i < end; i += 8) {
    s0 += a[ao + i]! * b[bo + i]!;
    s1 += a[ao + i + 1]! * b[bo + i + 1]!;
    s2 += a[ao + i + 2]! * b[bo + i + 2]!;
    s3 += a[ao + i + 3]! * b[bo + i + 3]!;
    s4 += a[ao + i + 4]! * b[bo + i + 4]!;
    s5 += a[ao + i + 5]! * b[bo + i + 5]!;
    s6 += a[ao + i + 6]! * b[bo + i + 6]!;
    s7 += a[ao + i + 7]! * b[bo + i + 7]!;
  }
  let s = s0 + s2 + (s4 + s6) + (s1 + s3 + (s5 + s7));
  for (let i = end; i < len; i++) s += a[ao + i]! * b[bo + i]!;
  return s;
}

/** Mean of x[o .. o + len) in the eight-lane order, or x[o] exactly when every value equals it. */
export function meanAt(x: Float64Array, o: number, len: number): number {
  if (len <= 0) return Number.NaN;
  const first = x[o]!;
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let s4 = 0;
  let s5 = 0;
  let s6 = 0;
  let s7 = 0;
  let constant = true;
  const end = len & ~7;
  for (let i = 0; i < end; i += 8) {
    const v0 = x[o + i]!;
    const v1 = x[o + i + 1]!;
    const v2 = x[o + i + 2]!;
    const v3 = x[o + i + 3]!;
    const v4 = x[o + i + 4]!;
    const v5 = x[o + i + 5]!;
    const v6 = x[o + i + 6]!;
    const v7 = x[o + i + 7]!;
    s0 += v0;
    s1 += v1;
    s2 += v2;
    s3 += v3;
    s4 += v4;
    s5 += v5;
    s6 += v6;
    s7 += v7;
    // NaN compares unequal, as in the SIMD f64x2.ne.
    if (v0 !== first || v1 !== first || v2 !== first || v3 !== first) constant = false;
    if (v4 !== first || v5 !== first || v6 !== first || v7 !== first) constant = false;
  }
  let s = s0 + s2 + (s4 + s6) + (s1 + s3 + (s5 + s7));
  for (let i = end; i < len; i++) {
    const v = x[o + i]!;
    s += v;
    if (v !== first) constant = false;
  }
  return constant ? first : s / len;
}

/** Sum of (x - m)^2 over x[o .. o + len) in the eight-lane order. */
export function squaresAt(x: Float64Array, o: number, len: number, m: number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let s4 = 0;
  let s5 = 0;
  let s6 = 0;
  let s7 = 0;
  const end = len & ~7;
  for (let i = 0; i < end; i += 8) {
    const d0 = x[o + i]! - m;
    const d1 = x[o + i + 1]! - m;
    const d2 = x[o + i + 2]! - m;
    const d3 = x[o + i + 3]! - m;
    const d4 = x[o + i + 4]! - m;
    const d5 = x[o + i + 5]! - m;
    const d6 = x[o + i + 6]! - m;
    const d7 = x[o + i + 7]! - m;
    s0 += d0 * d0;
    s1 += d1 * d1;
    s2 += d2 * d2;
    s3 += d3 * d3;
    s4 += d4 * d4;
    s5 += d5 * d5;
    s6 += d6 * d6;
    s7 += d7 * d7;
  }
  let s = s0 + s2 + (s4 + s6) + (s1 + s3 + (s5 + s7));
  for (let i = end; i < len; i++) {
    const d = x[o + i]! - m;
    s += d * d;
  }
  return s;
}

/** dst[c * rows + r] = src[r * cols + c], in blocks of 16 rows (see asm/kernels.ts transpose). */
export function transposeInto(src: Float64Array, rows: number, cols: number, dst: Float64Array): void {
  for (let r0 = 0; r0 < rows; r0 += 16) {
    const r1 = Math.min(rows, r0 + 16);
    for (let c = 0; c < cols; c++) {
      const d = c * rows;
      for (let r = r0; r < r1; r++) dst[d + r] = src[r * cols + c]!;
    }
  }
}

/**
 * Centres rows [r0, r1) of data into z (z = x - mean; data and z may be the same array) and writes inv[i] = 1 /
 * sqrt(sum of squared deviations), summed in the eight-lane order; see asm/kernels.ts center.
 */
export function centerRows(
  data: Float64Array,
  t: number,
  z: Float64Array,
  inv: Float64Array,
  r0: number,
  r1: number,
): void {
  const end = t & ~7;
  for (let i = r0; i < r1; i++) {
    const o = i * t;
    const m = meanAt(data, o, t);
    let s0 = 0;
    let s1 = 0;
    let s2 = 0;
    let s3 = 0;
    let s4 = 0;
    let s5 = 0;
    let s6 = 0;
    let s7 = 0;
    for (let k = o; k < o + end; k += 8) {
      const d0 = data[k]! - m;
      const d1 = data[k + 1]! - m;
      const d2 = data[k + 2]! - m;
      const d3 = data[k + 3]! - m;
      const d4 = data[k + 4]! - m;
      const d5 = data[k + 5]! - m;
      const d6 = data[k + 6]! - m;
      const d7 = data[k + 7]! - m;
      z[k] = d0;
      z[k + 1] = d1;
      z[k + 2] = d2;
      z[k + 3] = d3;
      z[k + 4] = d4;
      z[k + 5] = d5;
      z[k + 6] = d6;
      z[k + 7] = d7;
      s0 += d0 * d0;
      s1 += d1 * d1;
      s2 += d2 * d2;
      s3 += d3 * d3;
      s4 += d4 * d4;
      s5 += d5 * d5;
      s6 += d6 * d6;
      s7 += d7 * d7;
    }
    // One pass writes the deviations and sums their squares in the order of squaresAt; squaresAt(z, o, t, 0)
    // after the writes gives the same bits but reads every row a second time.
    let ss = s0 + s2 + (s4 + s6) + (s1 + s3 + (s5 + s7));
    for (let k = o + end; k < o + t; k++) {
      const d = data[k]! - m;
      z[k] = d;
      ss += d * d;
    }
    inv[i] = 1 / Math.sqrt(ss);
  }
}

/**
 * Rows [r0, r1) of the upper triangle of Z Z^T (centred rows), mirrored: covariances (times `scale`) or, with
 * `correlation`, (s * inv_i) * inv_j clamped to [-1, 1].
 */
export function gramRows(
  z: Float64Array,
  n: number,
  t: number,
  out: Float64Array,
  r0: number,
  r1: number,
  scale: number,
  inv: Float64Array,
  correlation: boolean,
): void {
  const pairs = t & ~1;
  for (let i = r0; i < r1; i++) {
    const a = i * t;
    let j = i;
    // Row i against four rows at once: each load of z_i serves four dots (still two lanes per dot).
    for (; j + 3 < n; j += 4) {
      const b0 = j * t;
      const b1 = b0 + t;
      const b2 = b1 + t;
      const b3 = b2 + t;
      let e0 = 0;
      let o0 = 0;
      let e1 = 0;
      let o1 = 0;
      let e2 = 0;
      let o2 = 0;
      let e3 = 0;
      let o3 = 0;
      for (let k = 0; k < pairs; k += 2) {
        const x = z[a + k]!;
        const y = z[a + k + 1]!;
        e0 += x * z[b0 + k]!;
        o0 += y * z[b0 + k + 1]!;
        e1 += x * z[b1 + k]!;
        o1 += y * z[b1 + k + 1]!;
        e2 += x * z[b2 + k]!;
        o2 += y * z[b2 + k + 1]!;
        e3 += x * z[b3 + k]!;
        o3 += y * z[b3 + k + 1]!;
      }
      store(z, n, t, out, i, j, e0 + o0, scale, inv, correlation);
      store(z, n, t, out, i, j + 1, e1 + o1, scale, inv, correlation);
      store(z, n, t, out, i, j + 2, e2 + o2, scale, inv, correlation);
      store(z, n, t, out, i, j + 3, e3 + o3, scale, inv, correlation);
    }
    for (; j < n; j++) {
      const b = j * t;
      let even = 0;
      let odd = 0;
      for (let k = 0; k < pairs; k += 2) {
        even += z[a + k]! * z[b + k]!;
        odd += z[a + k + 1]! * z[b + k + 1]!;
      }
      store(z, n, t, out, i, j, even + odd, scale, inv, correlation);
    }
  }
}

/** Adds the odd last sample to a two-lane sum, finishes it (see gramRows) and writes both halves. */
function store(
  z: Float64Array,
  n: number,
  t: number,
  out: Float64Array,
  i: number,
  j: number,
  lanes: number,
  scale: number,
  inv: Float64Array,
  correlation: boolean,
): void {
  let s = lanes;
  if ((t & 1) === 1) s += z[i * t + t - 1]! * z[j * t + t - 1]!;
  // i <= j here, the order asm/kernels.ts finish fixes.
  const v = correlation ? Math.min(1, Math.max(-1, s * inv[i]! * inv[j]!)) : s * scale;
  out[i * n + j] = v;
  out[j * n + i] = v;
}

/** Diagonal of a correlation matrix: exactly 1, or NaN for a constant series (whose gram entry is NaN). */
export function fixDiagonal(out: Float64Array, n: number): void {
  for (let i = 0; i < n; i++) {
    const d = i * n + i;
    out[d] = Number.isNaN(out[d]!) ? Number.NaN : 1;
  }
}

/**
 * Rows of the n x n output split into `parts` ranges of about equal work (row i of the upper triangle costs
 * n - i dots), each starting on an even row so the 2-row SIMD tiles stay whole. Returns parts + 1 bounds.
 */
export function splitRows(n: number, parts: number): Int32Array {
  const bounds = new Int32Array(parts + 1);
  const total = (n * (n + 1)) / 2;
  let row = 0;
  let done = 0;
  for (let p = 1; p < parts; p++) {
    const goal = (total * p) / parts;
    while (row < n && done + (n - row) <= goal) {
      done += n - row;
      row++;
    }
    const even = Math.min(n, row + (row & 1));
    bounds[p] = Math.max(bounds[p - 1]!, even);
  }
  bounds[parts] = n;
  return bounds;
}

/** Sample standard deviation from the sum of squared deviations of `count` values; NaN below 2 values. */
export function sampleStd(squares: number, count: number): number {
  return count < 2 ? Number.NaN : Math.sqrt(squares / (count - 1));
}

/** One rolling chunk, outputs [k0, k1), in the documented order. */
function rollingChunkAt(
  x: Float64Array,
  w: number,
  k0: number,
  k1: number,
  outMean: Float64Array,
  outStd: Float64Array,
): void {
  let s = 0;
  for (let i = k0; i < k0 + w; i++) s += x[i]!;
  let m = s / w;
  let m2 = 0;
  for (let i = k0; i < k0 + w; i++) {
    const d = x[i]! - m;
    m2 += d * d;
  }
  const invW = 1 / w;
  const dof = w - 1;
  outMean[k0] = m;
  outStd[k0] = Math.sqrt(Math.max(m2, 0) / dof);
  for (let k = k0 + 1; k < k1; k++) {
    const xin = x[k + w - 1]!;
    const xout = x[k - 1]!;
    const delta = xin - xout;
    const next = m + delta * invW;
    m2 = m2 + delta * (xin - next + (xout - m));
    m = next;
    outMean[k] = m;
    outStd[k] = Math.sqrt(Math.max(m2, 0) / dof);
  }
}

/** The plain TypeScript kernels: the fallback, and the reference the SIMD kernels are tested against. */
export class ScalarKernels implements Kernels {
  readonly kind: KernelKind = 'scalar';
  readonly reason: string;
  private z: Float64Array = new Float64Array(0);
  private inv: Float64Array = new Float64Array(0);

  constructor(reason = 'plain TypeScript kernels requested') {
    this.reason = reason;
  }

  array(length: number): Float64Array {
    return new Float64Array(length);
  }

  reset(): void {
    this.z = new Float64Array(0);
    this.inv = new Float64Array(0);
  }

  dot(a: Float64Array, b: Float64Array): number {
    checkDotArgs(a, b);
    return dotAt(a, 0, b, 0, a.length);
  }

  meanStd(x: Float64Array): MeanStd {
    const mean = meanAt(x, 0, x.length);
    return { mean, std: sampleStd(squaresAt(x, 0, x.length, mean), x.length) };
  }

  covarianceMatrix(
    data: Float64Array,
    n: number,
    t: number,
    out: Float64Array = new Float64Array(n * n),
    layout: Layout = 'series-rows',
  ): Float64Array {
    return this.matrix(data, n, t, out, layout, false);
  }

  correlationMatrix(
    data: Float64Array,
    n: number,
    t: number,
    out: Float64Array = new Float64Array(n * n),
    layout: Layout = 'series-rows',
  ): Float64Array {
    return this.matrix(data, n, t, out, layout, true);
  }

  rollingMeanStd(x: Float64Array, window: number, outMean: Float64Array, outStd: Float64Array): number {
    const outputs = checkRollingArgs(x, window, outMean, outStd);
    const c = rollingChunk(window);
    for (let k0 = 0; k0 < outputs; k0 += c)
      rollingChunkAt(x, window, k0, Math.min(k0 + c, outputs), outMean, outStd);
    return outputs;
  }

  private matrix(
    data: Float64Array,
    n: number,
    t: number,
    out: Float64Array,
    layout: Layout,
    correlation: boolean,
  ): Float64Array {
    checkMatrixArgs(data, n, t, out);
    if (t < 2) return out.fill(Number.NaN, 0, n * n);
    if (this.z.length < n * t) this.z = new Float64Array(n * t);
    if (this.inv.length < n) this.inv = new Float64Array(n);
    const z = this.z;
    if (layout === 'sample-rows') {
      transposeInto(data, t, n, z);
      centerRows(z, t, z, this.inv, 0, n);
    } else {
      centerRows(data, t, z, this.inv, 0, n);
    }
    gramRows(z, n, t, out, 0, n, 1 / (t - 1), this.inv, correlation);
    if (correlation) fixDiagonal(out, n);
    return out;
  }
}
