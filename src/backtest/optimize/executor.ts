// Where trials run: on the worker pool (the data set's buffers shared with every worker through the pool's
// setup), or in this thread (--workers 1: no start-up cost, same code). Both report each result as it
// finishes and stop handing out trials when the signal fires.

import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { siblingModule } from '../../core/worker.ts';
import { WorkerPool } from '../../parallel/pool.ts';
import { runTrial, type TrialInput, type TrialOutput, type TrialSetup } from './trial.ts';

export interface TrialExecutor {
  readonly workers: number;
  /** Runs the inputs; onResult gets each as it finishes. Resolves early (no error) when `signal` aborts. */
  run(
    inputs: readonly TrialInput[],
    onResult: (index: number, out: TrialOutput) => void,
    signal?: AbortSignal,
  ): Promise<void>;
  close(): Promise<void>;
}

export class InProcessExecutor implements TrialExecutor {
  readonly workers = 1;
  private readonly setup: TrialSetup;

  constructor(setup: TrialSetup) {
    this.setup = setup;
  }

  async run(
    inputs: readonly TrialInput[],
    onResult: (index: number, out: TrialOutput) => void,
    signal?: AbortSignal,
  ): Promise<void> {
    for (let i = 0; i < inputs.length; i++) {
      // A trial runs without leaving the microtask queue: let the event loop see Ctrl-C between trials.
      await yieldToEventLoop();
      if (signal?.aborted === true) return;
      onResult(i, await runTrial(this.setup, inputs[i]!));
    }
  }

  async close(): Promise<void> {}
}

export class PoolExecutor implements TrialExecutor {
  readonly workers: number;
  private readonly pool: WorkerPool;

  private constructor(pool: WorkerPool) {
    this.pool = pool;
    this.workers = pool.threads;
  }

  static async start(setup: TrialSetup, threads: number): Promise<PoolExecutor> {
    const pool = await WorkerPool.start({
      module: siblingModule(import.meta.url, 'optimize.worker'),
      threads,
      name: 'bot4-optimize',
      setup,
      // Trials are long: idle workers sleep at once rather than spin against the ones still running.
      spin: 0,
    });
    return new PoolExecutor(pool);
  }

  async run(
    inputs: readonly TrialInput[],
    onResult: (index: number, out: TrialOutput) => void,
    signal?: AbortSignal,
  ): Promise<void> {
    if (inputs.length === 0 || signal?.aborted === true) return;
    try {
      await this.pool.map<TrialInput, TrialOutput>('trial', inputs, {
        onResult,
        ...(signal === undefined ? {} : { signal }),
      });
    } catch (e) {
      // An abort rejects the map; the results that arrived before it were already handed to onResult.
      if (!isAborted(signal)) throw e;
    }
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}

function isAborted(signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true;
}

/** One worker runs in this thread; more start a pool. */
export async function startExecutor(setup: TrialSetup, workers: number): Promise<TrialExecutor> {
  return workers <= 1 ? new InProcessExecutor(setup) : PoolExecutor.start(setup, workers);
}
