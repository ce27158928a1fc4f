// The retraining worker: trains one model per message with the same train() the CLI uses and posts back its
// weights. Runs off the engine thread, so a long fit never blocks the event loop (see retrainer.ts).

import { parentPort } from 'node:worker_threads';
import { type TrainOptions, train } from './train.ts';

export interface RetrainJob {
  readonly id: number;
  readonly x: Float64Array;
  readonly y: Float64Array;
  readonly d: number;
  readonly rows: Int32Array;
  readonly options: Omit<TrainOptions, 'onProgress'>;
}

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
    reply = { id: job.id, weights: r.model.weights, bias: r.model.bias, link: r.model.link, rows: r.rows };
  } catch (e) {
    reply = { id: job.id, error: (e as Error).message };
  }
  parentPort?.postMessage(reply, 'weights' in reply ? [reply.weights.buffer as ArrayBuffer] : []);
});
