// Pool tasks for the parallel SIMD kernels (simd-parallel.ts). Every participant (pool threads and the main
// thread) runs one `matrix` call: it claims blocks of rows to centre from a counter in the shared memory, waits
// until every row is centred, then claims pairs of output rows for the gram kernel. The claims are dynamic, so
// a thread that starts late, or runs `matrix` twice, only finds less work; no thread waits on another thread's
// arrival, only on rows already claimed.

import { Bot4Error, ErrorCode } from '../core/errors.ts';
import type { RangeFn, TaskContext } from './pool.ts';
import { instantiateKernels, type KernelExports } from './simd.ts';

export interface ParallelSetup {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
}

export interface MatrixArgs {
  n: number;
  t: number;
  data: number;
  z: number;
  inv: number;
  out: number;
  /** Byte offset of four Int32 words: next row to centre, rows centred, next row pair, (unused). */
  ctl: number;
  correlation: boolean;
}

/** Rows centred per claim: enough to amortise the atomic, few enough to share the pass out. */
export const CENTER_ROWS = 4;
const NEXT_CENTER = 0;
const CENTERED = 1;
const NEXT_PAIR = 2;
/** Polls of the centred count before sleeping on it (a few microseconds). */
const SPIN = 20_000;
/** Sleeps of about 1 ms on the centred count before giving up on a thread that stopped. */
const STUCK_MS = 30_000;

let instance: { memory: WebAssembly.Memory; k: KernelExports } | null = null;

function kernelsFor(setup: ParallelSetup): KernelExports {
  if (instance === null || instance.memory !== setup.memory) {
    instance = { memory: setup.memory, k: instantiateKernels(setup.module, setup.memory) };
  }
  return instance.k;
}

const matrix: RangeFn = (_start, _end, args: MatrixArgs, ctx: TaskContext) => {
  const setup = ctx.setup as ParallelSetup;
  const k = kernelsFor(setup);
  const { n, t, data, z, inv, out, correlation } = args;
  const ctl = new Int32Array(setup.memory.buffer, args.ctl, 4);
  for (;;) {
    const r0 = Atomics.add(ctl, NEXT_CENTER, CENTER_ROWS);
    if (r0 >= n) break;
    const r1 = Math.min(n, r0 + CENTER_ROWS);
    k.center(data, n, t, z, inv, r0, r1);
    if (Atomics.add(ctl, CENTERED, r1 - r0) + (r1 - r0) === n) Atomics.notify(ctl, CENTERED);
  }
  let spins = 0;
  for (;;) {
    const done = Atomics.load(ctl, CENTERED);
    if (done >= n) break;
    if (++spins > SPIN && Atomics.wait(ctl, CENTERED, done, 1) === 'timed-out' && spins > SPIN + STUCK_MS) {
      // Only a thread that died holding rows leaves them uncentred; do not hang the pool (or the main thread).
      throw new Bot4Error(
        ErrorCode.INTERNAL,
        `parallel SIMD matrix: ${n - done} of ${n} rows still uncentred after ${STUCK_MS} ms; a pool thread holding them has stopped`,
        { n, done },
      );
    }
  }
  const scale = 1 / (t - 1);
  const corr = correlation ? 1 : 0;
  const pairs = (n + 1) >> 1;
  for (;;) {
    const p = Atomics.add(ctl, NEXT_PAIR, 1);
    if (p >= pairs) break;
    k.gram(z, n, t, out, 2 * p, 2 * p + 2, scale, inv, corr);
  }
};

export const tasks = { matrix };
