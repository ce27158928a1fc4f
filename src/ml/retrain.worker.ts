// The retraining worker: trains one model per message with the same train() the CLI uses, writes the weights into
// shared memory and posts them back. Runs off the engine thread, so a long fit never blocks the event loop (see retrainer.ts).

import { parentPort } from 'node:worker_threads';
import { type TrainOptions, train } from './train.ts';

export interface RetrainJob {
  readonly id: number;
  readonly x: Float64Array;
  readonly y: Float64Array;
  readonly d: number;
  readonly rows: Int32Array;
  readonly options: Omit<TrainOptions, 'onProgress'>;
  /** Shared result: weights then bias (d + 1 doubles), and a state word set to DONE or FAILED when written. */
  readonly out: Float64Array<ArrayBufferLike>;
  readonly state: Int32Array;
}

export const JobState = { RUNNING: 0, DONE: 1, FAILED: 2 } as const;

export type RetrainReply =
  | {
      readonly id: number;
      readonly weights: Float64Array;
      readonly bias: number;
      readonly link: number;
      readonly rows: number;
    }
  | { readonly id: number; readonly error: string };

parentPort?.on('message', (job: RetrainJob) => {
  let reply: RetrainReply;
  try {
    const r = train(job.x, job.y, job.d, job.rows, job.options);
    job.out.set(r.model.weights);
    job.out[job.d] = r.model.bias;
    reply = { id: job.id, weights: r.model.weights, bias: r.model.bias, link: r.model.link, rows: r.rows };
    Atomics.store(job.state, 0, JobState.DONE);
  } catch (e) {
    reply = { id: job.id, error: (e as Error).message };
    Atomics.store(job.state, 0, JobState.FAILED);
  }
  // The shared result first (a blocked swapAt() wakes on it), then the message (the asynchronous path).
  Atomics.notify(job.state, 0);
  parentPort?.postMessage(reply, 'weights' in reply ? [reply.weights.buffer as ArrayBuffer] : []);
});
