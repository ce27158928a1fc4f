// Bot4 numeric kernels in AssemblyScript, compiled to WebAssembly with SIMD (asm/asconfig.json, `npm run build:wasm`).
// Every pointer is a byte offset into the imported (shared) memory that src/parallel/simd.ts lays out; nothing here
// allocates. Summation orders are fixed and documented in src/parallel/kernels.ts: the plain TypeScript kernels
// follow the same orders, so both give bit-identical f64 results (the f32x4 kernel is the one exception).

// Sums in eight lanes: four f64x2 accumulators over blocks of 8, combined as ((a0 + a1) + (a2 + a3)), then lane 0
// + lane 1, then the tail in order. One accumulator would wait on the add latency every step.

/** Dot product of a[0..len) and b[0..len) (f64). */
export function dot(a: usize, b: usize, len: i32): f64 {
  let a0 = f64x2.splat(0);
  let a1 = f64x2.splat(0);
  let a2 = f64x2.splat(0);
  let a3 = f64x2.splat(0);
  const end = <usize>(len & ~7) << 3;
  for (let o: usize = 0; o < end; o += 64) {
    a0 = f64x2.add(a0, f64x2.mul(v128.load(a + o), v128.load(b + o)));
    a1 = f64x2.add(a1, f64x2.mul(v128.load(a + o, 16), v128.load(b + o, 16)));
    a2 = f64x2.add(a2, f64x2.mul(v128.load(a + o, 32), v128.load(b + o, 32)));
    a3 = f64x2.add(a3, f64x2.mul(v128.load(a + o, 48), v128.load(b + o, 48)));
  }
  const v = f64x2.add(f64x2.add(a0, a1), f64x2.add(a2, a3));
  let s = f64x2.extract_lane(v, 0) + f64x2.extract_lane(v, 1);
  for (let i = len & ~7; i < len; i++) {
    const o = <usize>i << 3;
    s += load<f64>(a + o) * load<f64>(b + o);
  }
  return s;
}

/**
 * Mean and sum of squared deviations of x[0..len), written to out[0] and out[1]. A constant series (every value
 * equal to the first) gets its first value as mean and exactly 0, not the rounding residue of sum / len.
 */
export function moments(x: usize, len: i32, out: usize): void {
  if (len <= 0) {
    store<f64>(out, NaN);
    store<f64>(out, NaN, 8);
    return;
  }
  const first = load<f64>(x);
  const m = mean(x, len, first);
  store<f64>(out, m);
  store<f64>(out, squares(x, len, m), 8);
}

/** The mean in the eight-lane order, or `first` when every value equals it. */
@inline
function mean(x: usize, len: i32, first: f64): f64 {
  let a0 = f64x2.splat(0);
  let a1 = f64x2.splat(0);
  let a2 = f64x2.splat(0);
  let a3 = f64x2.splat(0);
  const f = f64x2.splat(first);
  let differ = i64x2.splat(0);
  const end = <usize>(len & ~7) << 3;
  for (let o: usize = 0; o < end; o += 64) {
    const v0 = v128.load(x + o);
    const v1 = v128.load(x + o, 16);
    const v2 = v128.load(x + o, 32);
    const v3 = v128.load(x + o, 48);
    a0 = f64x2.add(a0, v0);
    a1 = f64x2.add(a1, v1);
    a2 = f64x2.add(a2, v2);
    a3 = f64x2.add(a3, v3);
    differ = v128.or(differ, v128.or(v128.or(f64x2.ne(v0, f), f64x2.ne(v1, f)), v128.or(f64x2.ne(v2, f), f64x2.ne(v3, f))));
  }
  const v = f64x2.add(f64x2.add(a0, a1), f64x2.add(a2, a3));
  let s = f64x2.extract_lane(v, 0) + f64x2.extract_lane(v, 1);
  let constant = !v128.any_true(differ);
  for (let i = len & ~7; i < len; i++) {
    const e = load<f64>(x + (<usize>i << 3));
    s += e;
    if (e != first) constant = false;
  }
  return constant ? first : s / <f64>len;
}

/** Sum of (x - m)^2 in the eight-lane order. */
@inline
function squares(x: usize, len: i32, m: f64): f64 {
  let a0 = f64x2.splat(0);
  let a1 = f64x2.splat(0);
  let a2 = f64x2.splat(0);
  let a3 = f64x2.splat(0);
  const mv = f64x2.splat(m);
  const end = <usize>(len & ~7) << 3;
  for (let o: usize = 0; o < end; o += 64) {
    const d0 = f64x2.sub(v128.load(x + o), mv);
    const d1 = f64x2.sub(v128.load(x + o, 16), mv);
    const d2 = f64x2.sub(v128.load(x + o, 32), mv);
    const d3 = f64x2.sub(v128.load(x + o, 48), mv);
    a0 = f64x2.add(a0, f64x2.mul(d0, d0));
    a1 = f64x2.add(a1, f64x2.mul(d1, d1));
    a2 = f64x2.add(a2, f64x2.mul(d2, d2));
    a3 = f64x2.add(a3, f64x2.mul(d3, d3));
  }
  const v = f64x2.add(f64x2.add(a0, a1), f64x2.add(a2, a3));
  let s = f64x2.extract_lane(v, 0) + f64x2.extract_lane(v, 1);
  for (let i = len & ~7; i < len; i++) {
    const d = load<f64>(x + (<usize>i << 3)) - m;
    s += d * d;
  }
  return s;
}

/**
 * Centres rows [rowStart, rowEnd) of x (n rows of t samples) into z (z = x - mean; x and z may be the same) and
 * writes inv[i] = 1 / sqrt(sum of squared deviations), which turns a gram entry into a correlation. A constant row
 * centres to zeros and gets inv = Infinity, so its correlations come out NaN (0 * Infinity).
 */
export function center(x: usize, n: i32, t: i32, z: usize, inv: usize, rowStart: i32, rowEnd: i32): void {
  const stride = <usize>t << 3;
  for (let i = rowStart; i < rowEnd && i < n; i++) {
    const xi = x + <usize>i * stride;
    const zi = z + <usize>i * stride;
    const m = mean(xi, t, load<f64>(xi));
    // One pass writes the deviations and sums their squares in the eight-lane order of `squares`.
    const mv = f64x2.splat(m);
    let a0 = f64x2.splat(0);
    let a1 = f64x2.splat(0);
    let a2 = f64x2.splat(0);
    let a3 = f64x2.splat(0);
    const end = <usize>(t & ~7) << 3;
    for (let o: usize = 0; o < end; o += 64) {
      const d0 = f64x2.sub(v128.load(xi + o), mv);
      const d1 = f64x2.sub(v128.load(xi + o, 16), mv);
      const d2 = f64x2.sub(v128.load(xi + o, 32), mv);
      const d3 = f64x2.sub(v128.load(xi + o, 48), mv);
      v128.store(zi + o, d0);
      v128.store(zi + o, d1, 16);
      v128.store(zi + o, d2, 32);
      v128.store(zi + o, d3, 48);
      a0 = f64x2.add(a0, f64x2.mul(d0, d0));
      a1 = f64x2.add(a1, f64x2.mul(d1, d1));
      a2 = f64x2.add(a2, f64x2.mul(d2, d2));
      a3 = f64x2.add(a3, f64x2.mul(d3, d3));
    }
    const v = f64x2.add(f64x2.add(a0, a1), f64x2.add(a2, a3));
    let ss = f64x2.extract_lane(v, 0) + f64x2.extract_lane(v, 1);
    for (let k = t & ~7; k < t; k++) {
      const o = <usize>k << 3;
      const d = load<f64>(xi + o) - m;
      store<f64>(zi + o, d);
      ss += d * d;
    }
    store<f64>(inv + (<usize>i << 3), 1 / Math.sqrt(ss));
  }
}

/**
 * dst[c * rows + r] = src[r * cols + c]: samples stored one row per time step become one row per series. Blocks
 * of 16 rows keep the 16 source rows in cache while every series gets 16 contiguous writes.
 */
export function transpose(src: usize, rows: i32, cols: i32, dst: usize): void {
  for (let r0 = 0; r0 < rows; r0 += 16) {
    const r1 = min(rows, r0 + 16);
    for (let c = 0; c < cols; c++) {
      const d = dst + ((<usize>c * <usize>rows) << 3);
      for (let r = r0; r < r1; r++) {
        store<f64>(d + (<usize>r << 3), load<f64>(src + ((<usize>r * <usize>cols + <usize>c) << 3)));
      }
    }
  }
}

// Gram matrix: out[i][j] = out[j][i] = finish(dot(z_i, z_j)) for i <= j. Each dot runs in two lanes (even and
// odd samples) then lane 0 + lane 1, then the last sample when t is odd. Tiles of 2 rows x 4 columns keep eight
// accumulators and six loaded vectors in 14 of the 16 vector registers; each loaded row serves several dots.

/**
 * A covariance is s * scale; a correlation (s * inv_lo) * inv_hi with lo = min(i, j), clamped to [-1, 1]. The
 * order is fixed because a diagonal tile also computes a pair below the diagonal, as (j, i).
 */
@inline
function finish(s: f64, i: i32, j: i32, scale: f64, inv: usize, correlation: i32): f64 {
  if (!correlation) return s * scale;
  const v = s * load<f64>(inv + (<usize>min(i, j) << 3)) * load<f64>(inv + (<usize>max(i, j) << 3));
  return Math.min(1.0, Math.max(-1.0, v));
}

@inline
function reduce(acc: v128, a: usize, b: usize, t: i32): f64 {
  let s = f64x2.extract_lane(acc, 0) + f64x2.extract_lane(acc, 1);
  if (t & 1) {
    const o = <usize>(t - 1) << 3;
    s += load<f64>(a + o) * load<f64>(b + o);
  }
  return s;
}

@inline
function put(out: usize, n: i32, i: i32, j: i32, v: f64): void {
  store<f64>(out + ((<usize>i * <usize>n + <usize>j) << 3), v);
  store<f64>(out + ((<usize>j * <usize>n + <usize>i) << 3), v);
}

/** Converts len f64 values at src to f32 at dst (for the lower-precision kernel). */
export function toF32(src: usize, dst: usize, len: i32): void {
  for (let i = 0; i < len; i++) store<f32>(dst + (<usize>i << 2), <f32>load<f64>(src + (<usize>i << 3)));
}

@inline
function reduce32(acc: v128, a: usize, b: usize, t: i32): f64 {
  let s = <f64>(f32x4.extract_lane(acc, 0) + f32x4.extract_lane(acc, 1)) +
    <f64>(f32x4.extract_lane(acc, 2) + f32x4.extract_lane(acc, 3));
  for (let k = t & ~3; k < t; k++) {
    const o = <usize>k << 2;
    s += <f64>(load<f32>(a + o) * load<f32>(b + o));
  }
  return s;
}

// The gram tiles over rows of T: f64 rows in f64x2 lanes (`gram`), or f32 rows in f32x4 lanes (`gram32`). The
// choice of T is made at compile time: each export holds only its own lane type's instructions (the same
// arithmetic instructions, by count, as the two hand-written copies this replaced).

@inline
function zero<T>(): v128 {
  return sizeof<T>() == 8 ? f64x2.splat(0) : f32x4.splat(0);
}

/**
 * acc + x * y, lane by lane. The fma build (relaxed SIMD, dist/wasm/kernels-fma.wasm) fuses the product and sum
 * where the CPU can: one rounding instead of two and one instruction instead of two, so its gram is not
 * bit-identical to the TypeScript kernels (it is at least as accurate). The default build stays unfused.
 */
@inline
function madd<T>(acc: v128, x: v128, y: v128): v128 {
  if (sizeof<T>() == 8) {
    if (ASC_FEATURE_RELAXED_SIMD) return f64x2.relaxed_madd(x, y, acc);
    return f64x2.add(acc, f64x2.mul(x, y));
  }
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(x, y, acc);
  return f32x4.add(acc, f32x4.mul(x, y));
}

@inline
function reduceT<T>(acc: v128, a: usize, b: usize, t: i32): f64 {
  return sizeof<T>() == 8 ? reduce(acc, a, b, t) : reduce32(acc, a, b, t);
}

@inline
function gramRows<T>(
  z: usize,
  n: i32,
  t: i32,
  out: usize,
  rowStart: i32,
  rowEnd: i32,
  scale: f64,
  inv: usize,
  correlation: i32,
): void {
  const stride = <usize>t * sizeof<T>();
  // Whole vectors only: 2 samples per f64x2, 4 per f32x4; reduceT adds the rest.
  const lanes = 16 / <i32>sizeof<T>();
  const end = <usize>(t & ~(lanes - 1)) * sizeof<T>();
  if (rowEnd > n) rowEnd = n;
  let i = rowStart;
  for (; i + 1 < rowEnd; i += 2) {
    const a0 = z + <usize>i * stride;
    const a1 = a0 + stride;
    let j = i;
    for (; j + 3 < n; j += 4) {
      const b0 = z + <usize>j * stride;
      const b1 = b0 + stride;
      const b2 = b1 + stride;
      const b3 = b2 + stride;
      let c00 = zero<T>();
      let c01 = zero<T>();
      let c02 = zero<T>();
      let c03 = zero<T>();
      let c10 = zero<T>();
      let c11 = zero<T>();
      let c12 = zero<T>();
      let c13 = zero<T>();
      for (let o: usize = 0; o < end; o += 16) {
        const x0 = v128.load(a0 + o);
        const x1 = v128.load(a1 + o);
        const y0 = v128.load(b0 + o);
        const y1 = v128.load(b1 + o);
        const y2 = v128.load(b2 + o);
        const y3 = v128.load(b3 + o);
        c00 = madd<T>(c00, x0, y0);
        c01 = madd<T>(c01, x0, y1);
        c02 = madd<T>(c02, x0, y2);
        c03 = madd<T>(c03, x0, y3);
        c10 = madd<T>(c10, x1, y0);
        c11 = madd<T>(c11, x1, y1);
        c12 = madd<T>(c12, x1, y2);
        c13 = madd<T>(c13, x1, y3);
      }
      put(out, n, i, j, finish(reduceT<T>(c00, a0, b0, t), i, j, scale, inv, correlation));
      put(out, n, i, j + 1, finish(reduceT<T>(c01, a0, b1, t), i, j + 1, scale, inv, correlation));
      put(out, n, i, j + 2, finish(reduceT<T>(c02, a0, b2, t), i, j + 2, scale, inv, correlation));
      put(out, n, i, j + 3, finish(reduceT<T>(c03, a0, b3, t), i, j + 3, scale, inv, correlation));
      put(out, n, i + 1, j, finish(reduceT<T>(c10, a1, b0, t), i + 1, j, scale, inv, correlation));
      put(out, n, i + 1, j + 1, finish(reduceT<T>(c11, a1, b1, t), i + 1, j + 1, scale, inv, correlation));
      put(out, n, i + 1, j + 2, finish(reduceT<T>(c12, a1, b2, t), i + 1, j + 2, scale, inv, correlation));
      put(out, n, i + 1, j + 3, finish(reduceT<T>(c13, a1, b3, t), i + 1, j + 3, scale, inv, correlation));
    }
    for (; j < n; j++) {
      const b0 = z + <usize>j * stride;
      let c0 = zero<T>();
      let c1 = zero<T>();
      for (let o: usize = 0; o < end; o += 16) {
        const y = v128.load(b0 + o);
        c0 = madd<T>(c0, v128.load(a0 + o), y);
        c1 = madd<T>(c1, v128.load(a1 + o), y);
      }
      put(out, n, i, j, finish(reduceT<T>(c0, a0, b0, t), i, j, scale, inv, correlation));
      put(out, n, i + 1, j, finish(reduceT<T>(c1, a1, b0, t), i + 1, j, scale, inv, correlation));
    }
  }
  // An odd last row: the tile above stopped one short.
  if (i < rowEnd) {
    const a0 = z + <usize>i * stride;
    for (let j = i; j < n; j++) {
      const b0 = z + <usize>j * stride;
      let c = zero<T>();
      for (let o: usize = 0; o < end; o += 16) c = madd<T>(c, v128.load(a0 + o), v128.load(b0 + o));
      put(out, n, i, j, finish(reduceT<T>(c, a0, b0, t), i, j, scale, inv, correlation));
    }
  }
}

/**
 * Rows [rowStart, rowEnd) of the upper triangle of Z Z^T (z: n rows of t, centred), each written to both halves
 * of the n x n output as a covariance (times `scale`) or, with `correlation`, scaled by the rows' inv. Threads
 * given disjoint row ranges write disjoint cells.
 */
export function gram(
  z: usize,
  n: i32,
  t: i32,
  out: usize,
  rowStart: i32,
  rowEnd: i32,
  scale: f64,
  inv: usize,
  correlation: i32,
): void {
  gramRows<f64>(z, n, t, out, rowStart, rowEnd, scale, inv, correlation);
}

/**
 * The correlation gram product over f32 rows (z32: n rows of t f32), f32x4 lanes: twice the arithmetic per
 * instruction and half the memory traffic of `gram`, at single precision (about 1e-6 relative error on
 * correlations).
 */
export function gram32(z: usize, n: i32, t: i32, out: usize, rowStart: i32, rowEnd: i32, inv: usize): void {
  gramRows<f32>(z, n, t, out, rowStart, rowEnd, 1, inv, 1);
}

// Rolling mean and sample standard deviation over a window of w: output k covers x[k .. k + w). The outputs are
// cut into chunks of max(1024, 16 w); each chunk starts from an exact two-pass window (so rounding cannot build up
// across a long series) and then slides with the update
//   mean' = mean + (in - out) * (1 / w);  M2' = M2 + (in - out) * ((in - mean') + (out - mean))
// Chunks are independent, so two of them run side by side in the lanes of one f64x2.

export function rollingChunk(w: i32): i32 {
  return max(1024, 16 * w);
}

@inline
function windowMean(x: usize, k: i32, w: i32): f64 {
  let s = 0.0;
  for (let i = k; i < k + w; i++) s += load<f64>(x + (<usize>i << 3));
  return s / <f64>w;
}

@inline
function windowM2(x: usize, k: i32, w: i32, m: f64): f64 {
  let s = 0.0;
  for (let i = k; i < k + w; i++) {
    const d = load<f64>(x + (<usize>i << 3)) - m;
    s += d * d;
  }
  return s;
}

/** One chunk, outputs [k0, k1), in scalar code (the odd chunk and the short last one). */
function rollingScalar(x: usize, w: i32, k0: i32, k1: i32, outMean: usize, outStd: usize): void {
  let m = windowMean(x, k0, w);
  let m2 = windowM2(x, k0, w, m);
  const invW = 1 / <f64>w;
  const dof = <f64>(w - 1);
  store<f64>(outMean + (<usize>k0 << 3), m);
  store<f64>(outStd + (<usize>k0 << 3), Math.sqrt(Math.max(m2, 0) / dof));
  for (let k = k0 + 1; k < k1; k++) {
    const xin = load<f64>(x + (<usize>(k + w - 1) << 3));
    const xout = load<f64>(x + (<usize>(k - 1) << 3));
    const delta = xin - xout;
    const next = m + delta * invW;
    m2 = m2 + delta * (xin - next + (xout - m));
    m = next;
    store<f64>(outMean + (<usize>k << 3), m);
    store<f64>(outStd + (<usize>k << 3), Math.sqrt(Math.max(m2, 0) / dof));
  }
}

export function rolling(x: usize, len: i32, w: i32, outMean: usize, outStd: usize): void {
  const outputs = len - w + 1;
  if (outputs <= 0) return;
  const c = rollingChunk(w);
  const full = outputs / c;
  const invW = f64x2.splat(1 / <f64>w);
  const dof = f64x2.splat(<f64>(w - 1));
  const zero = f64x2.splat(0);
  let chunk = 0;
  for (; chunk + 1 < full; chunk += 2) {
    const k0 = chunk * c;
    const k1 = k0 + c;
    const ma = windowMean(x, k0, w);
    const mb = windowMean(x, k1, w);
    let m = f64x2.replace_lane(f64x2.splat(ma), 1, mb);
    let m2 = f64x2.replace_lane(f64x2.splat(windowM2(x, k0, w, ma)), 1, windowM2(x, k1, w, mb));
    // Pointers walk both chunks at once; the gap between the lanes is c samples.
    const gap = <usize>c << 3;
    let pin = x + (<usize>(k0 + w) << 3);
    let pout = x + (<usize>k0 << 3);
    let pm = outMean + (<usize>k0 << 3);
    let ps = outStd + (<usize>k0 << 3);
    let sd = f64x2.sqrt(f64x2.div(f64x2.max(m2, zero), dof));
    v128.store64_lane(pm, m, 0);
    v128.store64_lane(pm + gap, m, 1);
    v128.store64_lane(ps, sd, 0);
    v128.store64_lane(ps + gap, sd, 1);
    for (let k = 1; k < c; k++) {
      const xin = v128.load64_lane(pin + gap, v128.load64_zero(pin), 1);
      const xout = v128.load64_lane(pout + gap, v128.load64_zero(pout), 1);
      const delta = f64x2.sub(xin, xout);
      const next = f64x2.add(m, f64x2.mul(delta, invW));
      m2 = f64x2.add(m2, f64x2.mul(delta, f64x2.add(f64x2.sub(xin, next), f64x2.sub(xout, m))));
      m = next;
      pin += 8;
      pout += 8;
      pm += 8;
      ps += 8;
      sd = f64x2.sqrt(f64x2.div(f64x2.max(m2, zero), dof));
      v128.store64_lane(pm, m, 0);
      v128.store64_lane(pm + gap, m, 1);
      v128.store64_lane(ps, sd, 0);
      v128.store64_lane(ps + gap, sd, 1);
    }
  }
  for (; chunk * c < outputs; chunk++) {
    const k0 = chunk * c;
    rollingScalar(x, w, k0, min(k0 + c, outputs), outMean, outStd);
  }
}

/** Offset of the first free byte after static data; the loader lays its arrays out from here. */
export function heapBase(): usize {
  return __heap_base;
}
