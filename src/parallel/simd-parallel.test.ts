import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isCi } from '../core/test-resources.ts';
import { ScalarKernels } from './kernels.ts';
import { defaultWasmUrl } from './simd.ts';
import { ParallelKernels } from './simd-parallel.ts';

// CI builds the module in `prepare`: there a missing module fails (ParallelKernels.start throws) instead of skipping.
const inCi = isCi();
const runnable = inCi || existsSync(fileURLToPath(defaultWasmUrl));
const scalar = new ScalarKernels();

function sameBits(actual: Float64Array, expected: Float64Array): void {
  for (let i = 0; i < expected.length; i++) {
    if (!Object.is(actual[i], expected[i]))
      expect.fail(`index ${i}: ${actual[i]} (parallel) vs ${expected[i]}`);
  }
}

function series(
  n: number,
  t: number,
  seed: number,
  into: Float64Array = new Float64Array(n * t),
): Float64Array {
  let s = seed | 1;
  for (let i = 0; i < n * t; i++) {
    s = (Math.imul(s, 1103515245) + 12345) | 0;
    into[i] = (s % 1000) / 1000 + Math.sin(i * 0.01);
  }
  // A constant series, whose correlations are NaN.
  if (n > 2) into.fill(0.25, t, 2 * t);
  return into;
}

describe.skipIf(!runnable)(
  'ParallelKernels: SIMD on every thread, bit-identical to the one-thread kernels',
  () => {
    for (const mainThread of [true, false]) {
      describe(mainThread ? 'pool threads and the main thread' : 'pool threads only', () => {
        let pk: ParallelKernels;
        beforeAll(async () => {
          pk = await ParallelKernels.start({ threads: 2, mainThread });
        });
        afterAll(() => pk.close());

        it('correlation and covariance matrices of any shape, data passed in or laid out in the shared memory', async () => {
          await fc.assert(
            fc.asyncProperty(
              fc.integer({ min: 1, max: 41 }),
              fc.integer({ min: 0, max: 70 }),
              fc.integer(),
              fc.boolean(),
              async (n, t, seed, resident) => {
                const data = resident ? series(n, t, seed, pk.kernels.array(n * t)) : series(n, t, seed);
                const copy = Float64Array.from(data);
                sameBits(await pk.correlationMatrix(data, n, t), scalar.correlationMatrix(copy, n, t));
                sameBits(await pk.covarianceMatrix(data, n, t), scalar.covarianceMatrix(copy, n, t));
                pk.kernels.reset();
              },
            ),
            { numRuns: 60 },
          );
        });

        it('calls made together run one after the other, and survive the memory growing between them', async () => {
          const a = series(60, 500, 7);
          const b = series(31, 333, 9);
          const [ra, rb] = await Promise.all([
            pk.correlationMatrix(a, 60, 500),
            pk.covarianceMatrix(b, 31, 333),
          ]);
          sameBits(ra, scalar.correlationMatrix(a, 60, 500));
          sameBits(rb, scalar.covarianceMatrix(b, 31, 333));
          const grown = pk.kernels.array(3_000_000);
          const c = series(200, 1000, 11, pk.kernels.array(200 * 1000));
          const out = pk.kernels.array(200 * 200);
          await pk.correlationMatrix(c, 200, 1000, out);
          sameBits(out, scalar.correlationMatrix(Float64Array.from(c), 200, 1000));
          expect(grown.length).toBe(3_000_000);
          pk.kernels.reset();
        });
      });
    }
  },
);

describe.skipIf(!runnable)('ParallelKernels with fma: fused multiply-add on every thread', () => {
  let pk: ParallelKernels;
  beforeAll(async () => {
    pk = await ParallelKernels.start({ threads: 1, fma: true });
  });
  afterAll(() => pk.close());

  it('agrees with the TypeScript kernels to rounding (1e-12 of the scale) and says which kernels run', async () => {
    expect(pk.kernels.reason).toMatch(/fused multiply-add|no FMA/);
    for (const [n, t, seed] of [
      [50, 1000, 3],
      [7, 33, 5],
    ] as const) {
      const data = series(n, t, seed);
      const got = await pk.covarianceMatrix(data, n, t);
      const want = scalar.covarianceMatrix(data, n, t);
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < n; j++) {
          const scale = Math.sqrt(want[i * n + i]! * want[j * n + j]!);
          expect(Math.abs(got[i * n + j]! - want[i * n + j]!)).toBeLessThanOrEqual(1e-12 * scale);
        }
      }
    }
  });
});
