// Retraining in a worker thread with an atomic model swap, for nodes that retrain on a schedule: request() copies
// the training window into buffers transferred to the worker (the caller keeps writing its own), at most one job
// runs at a time, and the new model replaces the old one in a single reference assignment on the event-loop
// thread, between two events. The old model's arrays are never mutated, so a prediction sees one model whole.

import type { Worker } from 'node:worker_threads';
import { Bot4Error, ErrorCode } from '../core/errors.ts';
import { siblingModule, startWorker } from '../core/worker.ts';
import { LinearModel, type Link } from './linear.ts';
import type { RowModel } from './model-file.ts';
import { JobState, type RetrainJob, type RetrainReply } from './retrain.worker.ts';
import type { TrainOptions } from './train.ts';

/** The model a strategy predicts with; `current` is swapped whole when a retrained model arrives. */
export class SwappableModel implements RowModel {
  current: RowModel;

  constructor(initial: RowModel) {
    this.current = initial;
  }

  predict(x: Float64Array, off: number): number {
    return this.current.predict(x, off);
  }
}

export class Retrainer {
  readonly target: SwappableModel;
  /** Models swapped in so far, and the last failure (the old model stays in place on a failure). */
  swaps = 0;
  lastError: string | null = null;
  private readonly worker: Worker;
  private readonly options: Omit<TrainOptions, 'onProgress'>;
  private inFlight = -1;
  private nextId = 0;
  private out: Float64Array<ArrayBufferLike> = new Float64Array(0);
  private readonly state = new Int32Array(new SharedArrayBuffer(4));
  private link: Link = 0 as Link;
  private waiters: (() => void)[] = [];

  private constructor(worker: Worker, target: SwappableModel, options: Omit<TrainOptions, 'onProgress'>) {
    this.worker = worker;
    this.target = target;
    this.options = options;
    worker.on('message', (r: RetrainReply) => this.receive(r));
    worker.on('error', (e) => {
      this.lastError = e.message;
      this.inFlight = -1;
      this.wake();
    });
  }

  static start(target: SwappableModel, options: Omit<TrainOptions, 'onProgress'>): Retrainer {
    return new Retrainer(startWorker(siblingModule(import.meta.url, 'retrain.worker')), target, options);
  }

  get busy(): boolean {
    return this.inFlight >= 0;
  }

  /** Starts a fit on rows of x (n x d) and y; false (nothing sent) while the previous one still runs. */
  request(x: Float64Array, y: Float64Array, d: number, rows: Int32Array): boolean {
    if (this.busy) return false;
    if (this.out.length !== d + 1) this.out = new Float64Array(new SharedArrayBuffer((d + 1) * 8));
    Atomics.store(this.state, 0, JobState.RUNNING);
    this.link = (
      this.options.trainer === 'logistic' || this.options.trainer === 'sgd-logistic' ? 1 : 0
    ) as Link;
    const job: RetrainJob = {
      id: this.nextId++,
      x: x.slice(),
      y: y.slice(),
      d,
      rows: rows.slice(),
      options: this.options,
      out: this.out,
      state: this.state,
    };
    this.inFlight = job.id;
    this.worker.postMessage(job, [
      job.x.buffer as ArrayBuffer,
      job.y.buffer as ArrayBuffer,
      job.rows.buffer as ArrayBuffer,
    ]);
    return true;
  }

  /** Resolves when no job is running (tests, shutdown); rejects after `timeoutMs`. */
  idle(timeoutMs = 30_000): Promise<void> {
    if (!this.busy) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new Bot4Error(ErrorCode.INVALID_ARGUMENT, `retraining did not finish within ${timeoutMs} ms`),
          ),
        timeoutMs,
      );
      this.waiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /**
   * Swaps in the running job's model now, waiting for the worker (blocking, up to `timeoutMs`) if it has not
   * finished. A schedule that swaps a fixed number of events after the request gets the same model at the same
   * data time in a backtest (which replays faster than the worker trains) as live (where the worker is done long
   * before). Returns true when a model was swapped in.
   */
  swapNow(timeoutMs = 60_000): boolean {
    if (!this.busy) return false;
    Atomics.wait(this.state, 0, JobState.RUNNING, timeoutMs);
    const s = Atomics.load(this.state, 0);
    if (s === JobState.RUNNING) {
      this.lastError = `retraining did not finish within ${timeoutMs} ms; the old model stays`;
      return false;
    }
    // The message that follows is ignored: this job is no longer in flight.
    this.inFlight = -1;
    if (s === JobState.FAILED) {
      this.lastError = 'retraining failed; the old model stays (the worker message has the reason)';
      return false;
    }
    const d = this.out.length - 1;
    this.target.current = new LinearModel(this.out.slice(0, d), this.out[d]!, this.link);
    this.swaps++;
    return true;
  }

  async close(): Promise<void> {
    await this.worker.terminate();
  }

  private receive(r: RetrainReply): void {
    if (r.id !== this.inFlight) return;
    this.inFlight = -1;
    if ('error' in r) this.lastError = r.error;
    else {
      this.target.current = new LinearModel(r.weights, r.bias, r.link as Link);
      this.swaps++;
    }
    this.wake();
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }
}
