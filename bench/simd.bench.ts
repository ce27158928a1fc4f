// Correlation matrices and dot products: the plain TypeScript kernels, the WebAssembly SIMD kernels (f64x2, and
// f32x4 at lower precision) and, where a worker pool is available, SIMD over every core; ml-matrix as the peer.
// Times are per matrix (or per dot). GFLOP/s counts the multiply and add of every product in the upper triangle
// (diagonal included): n (n + 1) / 2 * t * 2 per matrix, the work any symmetric method must do.

import { Matrix, correlation as mlCorrelation } from 'ml-matrix';
import { Bot4Error, ErrorCode } from '../src/core/errors.ts';
import { type Kernels, ScalarKernels } from '../src/parallel/kernels.ts';
import { loadKernels, WasmKernels } from '../src/parallel/simd.ts';
import { ParallelKernels } from '../src/parallel/simd-parallel.ts';
import {
  type BenchContext,
  type BenchSpec,
  type Measurement,
  measure,
  median,
  peerName,
  QUICK,
  round,
  startProbe,
} from './harness.ts';

const ML_MATRIX = peerName('ml-matrix');
const SCALAR = 'bot4-scalar-ts';

/**
 * The SIMD kernels, or an error: a benchmark of the fallback under the SIMD id would mislead. `fma`: the relaxed
 * SIMD build (fused multiply-add where the runtime has it; its reason says whether it does).
 */
function simd(fma = false): WasmKernels {
  const k = loadKernels({ prefer: 'wasm-simd', fma });
  if (!(k instanceof WasmKernels))
    throw new Bot4Error(ErrorCode.INTERNAL, `expected SIMD kernels, got ${k.kind}`);
  return k;
}

/** n series of t returns with a common factor, so the correlations are not all near 0. */
function series(n: number, t: number, into: Float64Array = new Float64Array(n * t)): Float64Array {
  let s = 12345;
  const rand = () => {
    s = (Math.imul(s, 1103515245) + 12345) | 0;
    return ((s >>> 8) / (1 << 24) - 0.5) * 0.02;
  };
  const market = Float64Array.from({ length: t }, rand);
  for (let i = 0; i < n; i++) {
    const beta = 0.2 + (i % 7) * 0.15;
    for (let k = 0; k < t; k++) into[i * t + k] = beta * market[k]! + rand();
  }
  return into;
}

/** The harness prints medians and peers; GFLOP/s and the Node version go beside them on the progress stream. */
function note(extra: Record<string, number | string>): void {
  const parts = Object.entries(extra).map(([k, v]) => `${k} ${v}`);
  process.stderr.write(`  ${parts.join(', ')}\n`);
}

const flops = (n: number, t: number) => n * (n + 1) * t;
const gflops = (n: number, t: number, us: number) => round(flops(n, t) / (us * 1e3));
const perMatrixUs = (m: Measurement): Measurement => ({ ...m, median: m.median / 1000 });

function matrixLoop(k: Kernels, data: Float64Array, n: number, t: number, out: Float64Array) {
  return (reps: number) => {
    for (let r = 0; r < reps; r++) k.correlationMatrix(data, n, t, out);
    return out[1];
  };
}

/** `measure` for loops of matrices; slow ones are timed call by call (see Sizes.slow). */
function measureMatrix(
  ctx: BenchContext,
  size: Sizes,
  loop: (reps: number) => unknown,
  samples = size.samples(ctx),
  warmCalls?: number,
): Promise<Measurement> {
  const opts = { samples, sampleMs: size.sampleMs(ctx), ...(warmCalls === undefined ? {} : { warmCalls }) };
  if (!size.slow) return measure(ctx, loop, opts);
  return measureAsync(
    ctx,
    () => {
      loop(1);
      return Promise.resolve();
    },
    opts,
  );
}

interface Sizes {
  n: number;
  t: number;
  /** Samples and sample length: the 500-series scalar matrix takes about 0.1 s. */
  samples: (ctx: BenchContext) => number;
  sampleMs: (ctx: BenchContext) => number;
  /** Tens of ms per call or more: the harness's calibration (which starts at 1,000 calls) would take minutes. */
  slow: boolean;
}

const SMALL: Sizes = {
  n: 50,
  t: 1000,
  samples: (c) => (c.quick ? QUICK.samples : 30),
  sampleMs: (c) => (c.quick ? 6 : 30),
  slow: false,
};
const LARGE: Sizes = { n: 500, t: 1000, samples: (c) => (c.quick ? 3 : 7), sampleMs: () => 1, slow: true };

async function correlationRun(ctx: BenchContext, size: Sizes, variant: 'f64x2' | 'f32x4') {
  const { n, t } = size;
  // The f32 variant, already labelled lower precision, fuses its multiply-adds where the runtime can (one
  // rounding per product instead of two); the f64x2 variant stays bit-identical to the TypeScript kernels.
  const w = simd(variant === 'f32x4');
  // The series laid out once in the kernels' memory (the intended use), and the result written there too.
  const resident = series(n, t, w.array(n * t));
  const out = w.array(n * n);
  const main = perMatrixUs(
    await measureMatrix(
      ctx,
      size,
      variant === 'f64x2'
        ? matrixLoop(w, resident, n, t, out)
        : (reps) => {
            for (let r = 0; r < reps; r++) w.correlationMatrixF32(resident, n, t, out);
            return out[1];
          },
    ),
  );
  const plain = series(n, t);
  const plainOut = new Float64Array(n * n);
  const extra: Record<string, number | string> = {
    node: process.version,
    gflops: gflops(n, t, main.median),
    precision:
      variant === 'f64x2' ? 'f64, bit-identical to the TypeScript kernels' : 'f32 products, ~1e-6 abs',
    kernels: w.reason,
  };
  if (variant === 'f32x4') {
    note(extra);
    return { main, extra };
  }
  const copied = perMatrixUs(await measureMatrix(ctx, size, matrixLoop(w, plain, n, t, plainOut)));
  extra['us_with_copy_in_out'] = round(copied.median);
  const scalar = perMatrixUs(
    await measureMatrix(ctx, size, matrixLoop(new ScalarKernels(), plain, n, t, plainOut)),
  );
  extra['scalar_gflops'] = gflops(n, t, scalar.median);
  // ml-matrix wants observations as rows: a t x n matrix, built once outside the measured loop.
  const samplesByRow = new Matrix(t, n);
  for (let i = 0; i < n; i++) for (let k = 0; k < t; k++) samplesByRow.set(k, i, plain[i * t + k]!);
  // ml-matrix takes about a second for the 500-series matrix: quick mode times one call of it there, and the
  // agreement check reads the last timed call's result instead of computing another.
  let check: Matrix | undefined;
  const ml = perMatrixUs(
    await measureMatrix(
      ctx,
      size,
      (reps) => {
        for (let r = 0; r < reps; r++) check = mlCorrelation(samplesByRow);
        return check;
      },
      Math.min(size.samples(ctx), ctx.quick ? (size.slow ? 1 : 3) : 5),
      // Quick mode times one call of the 500-series matrix with no warm-up call before it (a call of ~1 s
      // warms itself up; the two calls were about a fifth of the quick suite's parallel area).
      ctx.quick && size.slow ? 0 : undefined,
    ),
  );
  if (check === undefined) throw new Bot4Error(ErrorCode.INTERNAL, 'ml-matrix correlation never ran');
  let maxDiff = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) maxDiff = Math.max(maxDiff, Math.abs(check.get(i, j) - out[i * n + j]!));
  }
  extra['max_abs_diff_vs_ml_matrix'] = Number(maxDiff.toPrecision(2));
  note(extra);
  return { main, peers: { [SCALAR]: scalar, [ML_MATRIX]: ml }, extra };
}

async function dotBench(ctx: BenchContext, len: number) {
  const w = simd();
  const a = series(1, len, w.array(len));
  const b = w.array(len);
  for (let i = 0; i < len; i++) b[i] = a[i]! * 0.5 + i * 1e-6;
  const aj = Float64Array.from(a);
  const bj = Float64Array.from(b);
  const loop = (k: Kernels, x: Float64Array, y: Float64Array) => (reps: number) => {
    let acc = 0;
    for (let r = 0; r < reps; r++) acc += k.dot(x, y);
    return acc;
  };
  const main = await measure(ctx, loop(w, a, b));
  const scalar = await measure(ctx, loop(new ScalarKernels(), aj, bj));
  const copied = await measure(ctx, loop(w, aj, bj));
  const extra = {
    node: process.version,
    gflops: round((2 * len) / main.median),
    scalar_gflops: round((2 * len) / scalar.median),
    ns_with_copy_in: round(copied.median),
  };
  note(extra);
  return { main, peers: { [SCALAR]: scalar }, extra };
}

/** `measure` for an asynchronous operation: warm-up by time, calibrated repetitions, ns per operation. */
async function measureAsync(
  ctx: BenchContext,
  once: () => Promise<unknown>,
  opts: { samples: number; sampleMs: number; warmCalls?: number },
): Promise<Measurement> {
  const now = () => Number(process.hrtime.bigint()) / 1e6;
  const minCalls = opts.warmCalls ?? (ctx.quick ? 1 : 3);
  const warmUntil = minCalls === 0 ? 0 : now() + (ctx.quick ? QUICK.warmUpMs : 300);
  let calls = 0;
  let lastMs = 0;
  // At least 3 calls (1 in quick mode: a call of the slow subjects takes up to a second); the last one's time
  // sets the repetitions per sample (one per sample when there was no warm-up call).
  while (now() < warmUntil || calls < minCalls) {
    const t0 = now();
    await once();
    lastMs = now() - t0;
    calls++;
  }
  const reps = calls === 0 ? 1 : Math.max(1, Math.round(opts.sampleMs / Math.max(lastMs, 1e-3)));
  const perOp = new Float64Array(opts.samples);
  const probe = startProbe();
  for (let s = 0; s < opts.samples; s++) {
    const start = process.hrtime.bigint();
    for (let r = 0; r < reps; r++) await once();
    perOp[s] = Number(process.hrtime.bigint() - start) / reps;
  }
  return probe.finish(median(perOp), null, opts.samples);
}

/** SIMD on every core (pool threads plus the main thread), against one-thread SIMD and the TypeScript kernels. */
async function parallelRun(ctx: BenchContext, size: Sizes) {
  const { n, t } = size;
  const opts = { samples: size.samples(ctx), sampleMs: size.sampleMs(ctx) };
  const pk = await ParallelKernels.start({ fma: true });
  try {
    const data = series(n, t, pk.kernels.array(n * t));
    const out = pk.kernels.array(n * n);
    const main = perMatrixUs(await measureAsync(ctx, () => pk.correlationMatrix(data, n, t, out), opts));
    const one = perMatrixUs(await measureMatrix(ctx, size, matrixLoop(pk.kernels, data, n, t, out)));
    const plain = series(n, t);
    const scalar = perMatrixUs(
      await measureMatrix(ctx, size, matrixLoop(new ScalarKernels(), plain, n, t, new Float64Array(n * n))),
    );
    const extra = {
      node: process.version,
      threads: `${pk.threads} pool + main`,
      kernels: pk.kernels.reason,
      gflops: gflops(n, t, main.median),
      simd_1thread_gflops: gflops(n, t, one.median),
      scalar_gflops: gflops(n, t, scalar.median),
    };
    note(extra);
    return { main, peers: { 'bot4-simd-f64x2-1-thread': one, [SCALAR]: scalar }, extra };
  } finally {
    await pk.close();
  }
}

/** Rolling mean and standard deviation of one long series: two chunks side by side in f64x2 lanes. */
async function rollingRun(ctx: BenchContext, len: number, window: number) {
  const w = simd();
  const x = series(1, len, w.array(len));
  const outputs = len - window + 1;
  const mean = w.array(outputs);
  const std = w.array(outputs);
  const loop = (k: Kernels, xs: Float64Array, m: Float64Array, s: Float64Array) => (reps: number) => {
    for (let r = 0; r < reps; r++) k.rollingMeanStd(xs, window, m, s);
    return s[0];
  };
  const main = perMatrixUs(await measure(ctx, loop(w, x, mean, std)));
  const scalar = perMatrixUs(
    await measure(
      ctx,
      loop(new ScalarKernels(), Float64Array.from(x), new Float64Array(outputs), new Float64Array(outputs)),
    ),
  );
  const extra = { node: process.version, ns_per_output: round((main.median * 1e3) / outputs) };
  note(extra);
  return { main, peers: { [SCALAR]: scalar }, extra };
}

export const benches: BenchSpec[] = [
  {
    id: 'parallel.correlation.50x1000.simd_f64x2',
    title:
      'correlation matrix 50 series x 1,000 samples, WebAssembly SIMD f64x2 (series laid out in its memory)',
    unit: 'us/op',
    better: 'lower',
    target: 100,
    targetSource:
      'issue: correlation 50x50 over 1,000 samples under 100 us (one core here; see simd_parallel)',
    run: (ctx) => correlationRun(ctx, SMALL, 'f64x2'),
  },
  {
    id: 'parallel.correlation.50x1000.simd_parallel',
    title:
      'correlation matrix 50 x 1,000, WebAssembly SIMD f64x2 (fused multiply-add where the runtime has relaxed SIMD) on every core (worker pool + main thread)',
    unit: 'us/op',
    better: 'lower',
    target: 100,
    targetSource: 'issue: correlation 50x50 over 1,000 samples under 100 us',
    run: (ctx) => parallelRun(ctx, SMALL),
  },
  {
    id: 'parallel.correlation.50x1000.simd_f32x4',
    title:
      'correlation matrix 50 x 1,000, WebAssembly SIMD f32x4 products, fused where the runtime has relaxed SIMD (LOWER PRECISION, ~1e-6)',
    unit: 'us/op',
    better: 'lower',
    target: 100,
    targetSource: 'issue: correlation 50x50 over 1,000 samples under 100 us',
    run: (ctx) => correlationRun(ctx, SMALL, 'f32x4'),
  },
  {
    id: 'parallel.correlation.500x1000.simd_f64x2',
    title: 'correlation matrix 500 series x 1,000 samples, WebAssembly SIMD f64x2 (scaling: 100x the work)',
    unit: 'us/op',
    better: 'lower',
    target: null,
    run: (ctx) => correlationRun(ctx, LARGE, 'f64x2'),
  },
  {
    id: 'parallel.correlation.500x1000.simd_parallel',
    title:
      'correlation matrix 500 x 1,000, WebAssembly SIMD f64x2 (fused multiply-add where the runtime has relaxed SIMD) on every core (worker pool + main thread)',
    unit: 'us/op',
    better: 'lower',
    target: null,
    run: (ctx) => parallelRun(ctx, LARGE),
  },
  {
    id: 'parallel.correlation.500x1000.simd_f32x4',
    title:
      'correlation matrix 500 x 1,000, WebAssembly SIMD f32x4 products, fused where the runtime has relaxed SIMD (LOWER PRECISION, ~1e-6)',
    unit: 'us/op',
    better: 'lower',
    target: null,
    run: (ctx) => correlationRun(ctx, LARGE, 'f32x4'),
  },
  {
    id: 'parallel.dot.1000',
    title: 'dot product of two 1,000-sample f64 series, WebAssembly SIMD (in its memory) vs TypeScript',
    unit: 'ns/op',
    better: 'lower',
    target: null,
    run: (ctx) => dotBench(ctx, 1000),
  },
  {
    id: 'parallel.dot.100k',
    title: 'dot product of two 100,000-sample f64 series, WebAssembly SIMD (in its memory) vs TypeScript',
    unit: 'ns/op',
    better: 'lower',
    target: null,
    run: (ctx) => dotBench(ctx, 100_000),
  },
  {
    id: 'parallel.rolling.meanstd_100k_w50',
    title: 'rolling mean and std, window 50, over 100,000 samples, WebAssembly SIMD vs TypeScript',
    unit: 'us/op',
    better: 'lower',
    target: null,
    run: (ctx) => rollingRun(ctx, 100_000, 50),
  },
];
