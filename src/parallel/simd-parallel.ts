// Correlation and covariance matrices on every core: the WebAssembly SIMD kernels run in the worker pool's
// threads (and the main thread) over one shared WebAssembly memory, each taking rows of the output. Series laid
// out in `kernels.array()` are read in place; results are bit-identical to the one-thread kernels (each entry is
// the same dot product in the same order, whichever thread computes it).

import { availableParallelism } from 'node:os';
import { Bot4Error, ErrorCode } from '../core/errors.ts';
import { siblingModule } from '../core/worker.ts';
import { WorkerPool } from './pool.ts';
import { kernelModule, WasmKernels } from './simd.ts';
import type { MatrixArgs, ParallelSetup } from './simd-parallel.tasks.ts';

export interface ParallelKernelOptions {
  /** Pool threads (default: cores - 1, since the main thread takes a share too). */
  threads?: number;
  /** The main thread computes rows as well (default true); its event loop is blocked meanwhile. */
  mainThread?: boolean;
  /**
   * Polls an idle pool thread makes before it sleeps (WorkerPool's `spin`). Waking a sleeping thread is a futex
   * wake and a reschedule (bench parallel.pool.roundtrip times a whole trip to sleeping threads), a sizeable share
   * of a 50 x 50 matrix, so back-to-back calls may want the threads still awake.
   */
  spin?: number;
  wasm?: URL;
  /**
   * The fma build (fused multiply-add in the gram kernels where the runtime has relaxed SIMD, see simd.ts): not
   * bit-identical to the TypeScript kernels; `kernels.reason` says whether it loaded. Ignored with `wasm`.
   */
  fma?: boolean;
}

export class ParallelKernels {
  /** The one-thread kernels over the shared memory: lay series out with `kernels.array()`. */
  readonly kernels: WasmKernels;
  readonly threads: number;
  private readonly pool: WorkerPool;
  private readonly mainThread: boolean;
  /** Calls run one at a time: each stages its arrays in the same scratch space. */
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(kernels: WasmKernels, pool: WorkerPool, mainThread: boolean) {
    this.kernels = kernels;
    this.pool = pool;
    this.threads = pool.threads;
    this.mainThread = mainThread;
  }

  /** Starts the pool; throws when the SIMD kernels cannot load (there is no parallel TypeScript fallback). */
  static async start(options: ParallelKernelOptions = {}): Promise<ParallelKernels> {
    const { module, fma } = kernelModule(options);
    if (typeof module === 'string') {
      throw new Bot4Error(ErrorCode.NOT_FOUND, `the parallel SIMD kernels cannot start: ${module}`);
    }
    const kernels = new WasmKernels(
      module,
      `parallel WebAssembly SIMD kernels (f64x2${fma}) on Node ${process.version}`,
    );
    const setup: ParallelSetup = { module, memory: kernels.memory };
    const mainThread = options.mainThread ?? true;
    const pool = await WorkerPool.start({
      module: siblingModule(import.meta.url, 'simd-parallel.tasks'),
      threads: options.threads ?? Math.max(1, availableParallelism() - (mainThread ? 1 : 0)),
      name: 'bot4-simd',
      setup,
      ...(options.spin === undefined ? {} : { spin: options.spin }),
    });
    return new ParallelKernels(kernels, pool, mainThread);
  }

  correlationMatrix(
    data: Float64Array,
    n: number,
    t: number,
    out: Float64Array = new Float64Array(n * n),
  ): Promise<Float64Array> {
    return this.serial(() => this.matrix(data, n, t, out, true));
  }

  covarianceMatrix(
    data: Float64Array,
    n: number,
    t: number,
    out: Float64Array = new Float64Array(n * n),
  ): Promise<Float64Array> {
    return this.serial(() => this.matrix(data, n, t, out, false));
  }

  close(): Promise<void> {
    return this.pool.close();
  }

  private serial<T>(run: () => Promise<T>): Promise<T> {
    const next = this.queue.then(run, run);
    this.queue = next.catch(() => {});
    return next;
  }

  private async matrix(
    data: Float64Array,
    n: number,
    t: number,
    out: Float64Array,
    correlation: boolean,
  ): Promise<Float64Array> {
    if (t < 2)
      return correlation
        ? this.kernels.correlationMatrix(data, n, t, out)
        : this.kernels.covarianceMatrix(data, n, t, out);
    const staged = this.kernels.stageMatrix(data, n, t, out, 16);
    new Int32Array(this.kernels.memory.buffer, staged.extra, 4).fill(0);
    const args: MatrixArgs = {
      n,
      t,
      data: staged.data,
      z: staged.z,
      inv: staged.inv,
      out: staged.out,
      ctl: staged.extra,
      correlation,
    };
    const participants = this.pool.threads + (this.mainThread ? 1 : 0);
    await this.pool.parallelFor('matrix', participants, { chunk: 1, args, mainThread: this.mainThread });
    return this.kernels.finishMatrix(out, staged, n, correlation);
  }
}
