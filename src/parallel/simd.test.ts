import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Bot4Error } from '../core/errors.ts';
import { isCi } from '../core/test-resources.ts';
import { type Kernels, ScalarKernels, splitRows } from './kernels.ts';
import { defaultWasmUrl, loadKernels, simdSupported, WasmKernels } from './simd.ts';

// CI builds the module in `prepare`, so there a missing or broken module fails this file instead of skipping.
const inCi = isCi();
const built = existsSync(fileURLToPath(defaultWasmUrl));
const loaded = loadKernels({ prefer: inCi ? 'wasm-simd' : 'auto' });
const wasm = loaded instanceof WasmKernels ? loaded : undefined;
const scalar = new ScalarKernels();
if (wasm === undefined) {
  process.stderr.write(`simd.test: SIMD agreement tests skipped (${loaded.reason})\n`);
}

/** Series values on a 1/1000 grid: no subnormals, and repeated values (constant stretches) come up often. */
const value = fc.integer({ min: -100_000, max: 100_000 }).map((v) => v / 1000);

interface Matrix {
  n: number;
  t: number;
  data: Float64Array;
}

/** n series of t samples, some of them constant. */
const matrix = (maxN: number, maxT: number): fc.Arbitrary<Matrix> =>
  fc
    .record({ n: fc.integer({ min: 1, max: maxN }), t: fc.integer({ min: 0, max: maxT }) })
    .chain(({ n, t }) =>
      fc.record({
        n: fc.constant(n),
        t: fc.constant(t),
        values: fc.array(value, { minLength: n * t, maxLength: n * t }),
        constant: fc.array(fc.boolean(), { minLength: n, maxLength: n }),
      }),
    )
    .map(({ n, t, values, constant }) => {
      const data = Float64Array.from(values);
      for (let i = 0; i < n; i++) if (constant[i]) data.fill(data[i * t] ?? 0, i * t, (i + 1) * t);
      return { n, t, data };
    });

function expectSameBits(actual: Float64Array, expected: Float64Array): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < actual.length; i++) {
    if (!Object.is(actual[i], expected[i])) {
      expect.fail(`index ${i}: ${actual[i]} (SIMD) vs ${expected[i]} (TypeScript)`);
    }
  }
}

/** The textbook two-pass formulas, one pair at a time. */
function textbook(m: Matrix): { cov: Float64Array; corr: Float64Array } {
  const { n, t, data } = m;
  const means = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let k = 0; k < t; k++) s += data[i * t + k]!;
    means[i] = s / t;
  }
  const cov = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let k = 0; k < t; k++) s += (data[i * t + k]! - means[i]!) * (data[j * t + k]! - means[j]!);
      cov[i * n + j] = s / (t - 1);
    }
  }
  const corr = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++)
      corr[i * n + j] = cov[i * n + j]! / Math.sqrt(cov[i * n + i]! * cov[j * n + j]!);
  }
  return { cov, corr };
}

function isConstant(m: Matrix, i: number): boolean {
  for (let k = 1; k < m.t; k++) if (m.data[i * m.t + k] !== m.data[i * m.t]) return false;
  return true;
}

function checkCorrelation(kernels: Kernels, m: Matrix): void {
  const { n, t } = m;
  const corr = kernels.correlationMatrix(m.data, n, t);
  const cov = kernels.covarianceMatrix(m.data, n, t);
  if (t < 2) {
    expect(corr.every(Number.isNaN)).toBe(true);
    expect(cov.every(Number.isNaN)).toBe(true);
    return;
  }
  const ref = textbook(m);
  for (let i = 0; i < n; i++) {
    const ci = isConstant(m, i);
    for (let j = 0; j < n; j++) {
      const r = corr[i * n + j]!;
      expect(Object.is(r, corr[j * n + i])).toBe(true);
      const c = cov[i * n + j]!;
      expect(Object.is(c, cov[j * n + i])).toBe(true);
      if (ci || isConstant(m, j)) {
        expect(r).toBeNaN();
        expect(c).toBe(0);
        continue;
      }
      if (i === j) expect(r).toBe(1);
      expect(r).toBeGreaterThanOrEqual(-1);
      expect(r).toBeLessThanOrEqual(1);
      expect(Math.abs(r - ref.corr[i * n + j]!)).toBeLessThan(1e-9);
      const scale = Math.sqrt(ref.cov[i * n + i]! * ref.cov[j * n + j]!);
      expect(Math.abs(c - ref.cov[i * n + j]!)).toBeLessThanOrEqual(1e-12 * scale);
    }
  }
}

describe('kernel loading', () => {
  it.skipIf(!built && !inCi)('loads the SIMD kernels when the module is built (required in CI)', () => {
    expect(simdSupported()).toBe(true);
    const k = loadKernels({ prefer: 'auto' });
    expect(k.kind).toBe('wasm-simd');
    expect(k.reason).toContain(process.version);
  });

  it('falls back to the TypeScript kernels when asked, or when the module is missing, and says why', () => {
    expect(loadKernels({ prefer: 'scalar' }).kind).toBe('scalar');
    const missing = new URL('./no-such-kernels.wasm', import.meta.url);
    const k = loadKernels({ wasm: missing });
    expect(k.kind).toBe('scalar');
    expect(k.reason).toContain('no-such-kernels.wasm');
    expect(k.reason).toContain('npm run build:wasm');
    expect(() => loadKernels({ prefer: 'wasm-simd', wasm: missing })).toThrow(Bot4Error);
    expect(() => loadKernels({ prefer: 'wasm-simd', wasm: missing })).toThrow(/cannot be used.*not built/);
  });

  it('rejects inputs of the wrong size with the sizes in the message', () => {
    for (const k of [loaded, scalar]) {
      expect(() => k.correlationMatrix(new Float64Array(10), 3, 4)).toThrow(/need 12/);
      expect(() => k.covarianceMatrix(new Float64Array(12), 3, 4, new Float64Array(8))).toThrow(/needs 9/);
      expect(() => k.dot(new Float64Array(3), new Float64Array(4))).toThrow(/3 and 4/);
      expect(() =>
        k.rollingMeanStd(new Float64Array(10), 1, new Float64Array(10), new Float64Array(10)),
      ).toThrow(/at least 2/);
      expect(() =>
        k.rollingMeanStd(new Float64Array(10), 3, new Float64Array(7), new Float64Array(8)),
      ).toThrow(/give 8/);
    }
  });
});

describe('kernels against the textbook formulas', () => {
  for (const k of [scalar, ...(wasm === undefined ? [] : [wasm])]) {
    it(`${k.kind}: correlation is symmetric, 1 on the diagonal, within [-1, 1], NaN for constant series, and matches the two-pass formula`, () => {
      fc.assert(
        fc.property(matrix(9, 40), (m) => checkCorrelation(k, m)),
        { numRuns: 300 },
      );
    });

    it(`${k.kind}: dot, mean/std and rolling windows match direct sums`, () => {
      fc.assert(
        fc.property(fc.array(value, { maxLength: 300 }), fc.integer({ min: 2, max: 20 }), (xs, w) => {
          const x = Float64Array.from(xs);
          const y = Float64Array.from(xs, (v, i) => v * 0.5 - i);
          let d = 0;
          for (let i = 0; i < x.length; i++) d += x[i]! * y[i]!;
          expect(Math.abs(k.dot(x, y) - d)).toBeLessThanOrEqual(1e-9 * (1 + Math.abs(d)));
          const ms = k.meanStd(x);
          const ref = textbook({ n: 1, t: x.length, data: x });
          if (x.length === 0) expect(ms.mean).toBeNaN();
          else expect(Math.abs(ms.mean - x.reduce((a, b) => a + b, 0) / x.length)).toBeLessThan(1e-9);
          if (x.length < 2) expect(ms.std).toBeNaN();
          else expect(Math.abs(ms.std - Math.sqrt(ref.cov[0]!))).toBeLessThan(1e-9);
          const outputs = Math.max(0, x.length - w + 1);
          const mean = new Float64Array(outputs);
          const std = new Float64Array(outputs);
          expect(k.rollingMeanStd(x, w, mean, std)).toBe(outputs);
          for (let o = 0; o < outputs; o += 7) {
            const win = textbook({ n: 1, t: w, data: x.subarray(o, o + w) });
            let s = 0;
            for (let i = o; i < o + w; i++) s += x[i]!;
            expect(Math.abs(mean[o]! - s / w)).toBeLessThan(1e-9);
            expect(Math.abs(std[o]! - Math.sqrt(win.cov[0]!))).toBeLessThan(1e-7);
          }
        }),
        { numRuns: 200 },
      );
    });
  }
});

describe.skipIf(wasm === undefined)(
  'WebAssembly SIMD kernels agree bit for bit with the TypeScript kernels',
  () => {
    const w = wasm!;

    it('covariance and correlation matrices, any n and t (odd sizes, tails, constant series)', () => {
      fc.assert(
        fc.property(matrix(13, 45), ({ n, t, data }) => {
          expectSameBits(w.correlationMatrix(data, n, t), scalar.correlationMatrix(data, n, t));
          expectSameBits(w.covarianceMatrix(data, n, t), scalar.covarianceMatrix(data, n, t));
        }),
        { numRuns: 400 },
      );
    });

    it('dot products and mean/std, lengths around the 8-lane blocks', () => {
      fc.assert(
        fc.property(fc.array(value, { maxLength: 70 }), (xs) => {
          const x = Float64Array.from(xs);
          const y = Float64Array.from(xs, (v, i) => v - i / 3);
          expect(Object.is(w.dot(x, y), scalar.dot(x, y))).toBe(true);
          const a = w.meanStd(x);
          const b = scalar.meanStd(x);
          expect(Object.is(a.mean, b.mean) && Object.is(a.std, b.std)).toBe(true);
        }),
        { numRuns: 400 },
      );
    });

    it('rolling mean/std across several chunks (paired in SIMD lanes) and a short last one', () => {
      fc.assert(
        fc.property(
          fc.integer({ min: 0, max: 5000 }),
          fc.integer({ min: 2, max: 90 }),
          fc.integer({ min: 1, max: 1 << 30 }),
          (len, win, seed) => {
            const x = new Float64Array(len);
            let s = seed;
            for (let i = 0; i < len; i++) {
              s = (Math.imul(s, 1103515245) + 12345) | 0;
              x[i] = 100 + (s % 10_000) / 1000 + i * 1e-3;
            }
            const outputs = Math.max(0, len - win + 1);
            const m1 = new Float64Array(outputs);
            const s1 = new Float64Array(outputs);
            const m2 = new Float64Array(outputs);
            const s2 = new Float64Array(outputs);
            w.rollingMeanStd(x, win, m1, s1);
            scalar.rollingMeanStd(x, win, m2, s2);
            expectSameBits(m1, m2);
            expectSameBits(s1, s2);
          },
        ),
        { numRuns: 60 },
      );
    });

    it('reads arrays laid out in its memory in place, and they survive the memory growing', () => {
      const k = new WasmKernels(w.module, 'test');
      const n = 20;
      const t = 301;
      const data = k.array(n * t);
      for (let i = 0; i < data.length; i++) data[i] = Math.sin(i * 0.37) + (i % 11) / 7;
      const out = k.array(n * n);
      const copy = Float64Array.from(data);
      k.correlationMatrix(data, n, t, out);
      expectSameBits(out, scalar.correlationMatrix(copy, n, t));
      // Force growth: the earlier views stay valid (shared memory) and are still read in place.
      const big = k.array(2_000_000);
      expect(k.pointer(big)).toBeGreaterThan(k.pointer(out));
      out.fill(0);
      k.correlationMatrix(data, n, t, out);
      expectSameBits(out, scalar.correlationMatrix(copy, n, t));
      expect(k.pointer(data)).toBeGreaterThanOrEqual(0);
    });

    it('the fma build (relaxed SIMD) agrees with the TypeScript kernels to rounding (1e-12 of the scale; f32x4 1e-5)', () => {
      const f = loadKernels({ fma: true });
      expect(f.reason).toMatch(/fused multiply-add|no FMA/);
      fc.assert(
        fc.property(matrix(11, 60), ({ n, t, data }) => {
          const got = f.covarianceMatrix(data, n, t);
          const want = scalar.covarianceMatrix(data, n, t);
          if (f instanceof WasmKernels) {
            const lo = f.correlationMatrixF32(data, n, t);
            const hi = scalar.correlationMatrix(data, n, t);
            for (let i = 0; i < n * n; i++) {
              if (Number.isNaN(hi[i]!)) expect(lo[i]).toBeNaN();
              else expect(Math.abs(lo[i]! - hi[i]!)).toBeLessThan(1e-5);
            }
          }
          for (let i = 0; i < n; i++) {
            for (let j = 0; j < n; j++) {
              const scale = Math.sqrt(want[i * n + i]! * want[j * n + j]!);
              if (Number.isNaN(want[i * n + j]!)) {
                expect(got[i * n + j]).toBeNaN();
                continue;
              }
              expect(Math.abs(got[i * n + j]! - want[i * n + j]!)).toBeLessThanOrEqual(
                1e-12 * scale + 1e-300,
              );
            }
          }
        }),
        { numRuns: 200 },
      );
    });

    it('f32x4 correlation stays within 1e-5 of the f64 result', () => {
      fc.assert(
        fc.property(matrix(11, 60), ({ n, t, data }) => {
          const lo = w.correlationMatrixF32(data, n, t);
          const hi = scalar.correlationMatrix(data, n, t);
          for (let i = 0; i < n * n; i++) {
            if (Number.isNaN(hi[i]!)) expect(lo[i]).toBeNaN();
            else expect(Math.abs(lo[i]! - hi[i]!)).toBeLessThan(1e-5);
          }
        }),
        { numRuns: 200 },
      );
    });
  },
);

describe('splitRows', () => {
  it('covers every row once, starts parts on even rows, and balances the triangle', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 600 }), fc.integer({ min: 1, max: 8 }), (n, parts) => {
        const b = splitRows(n, parts);
        expect(b[0]).toBe(0);
        expect(b[parts]).toBe(n);
        for (let p = 0; p < parts; p++) {
          expect(b[p + 1]!).toBeGreaterThanOrEqual(b[p]!);
          if (b[p]! < n) expect(b[p]! % 2).toBe(0);
        }
        if (n >= 100) {
          const work = (r0: number, r1: number) => {
            let s = 0;
            for (let r = r0; r < r1; r++) s += n - r;
            return s;
          };
          const ideal = (n * (n + 1)) / 2 / parts;
          for (let p = 0; p < parts; p++)
            expect(Math.abs(work(b[p]!, b[p + 1]!) - ideal)).toBeLessThan(3 * n);
        }
      }),
    );
  });
});
