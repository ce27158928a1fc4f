// Bot4 pool tasks for bench/parallel.bench.ts: an empty task (per-task overhead) and the shared burn kernel
// as a map task and as a range task writing its results to shared memory.

import type { RangeFn, TaskFn } from '../src/parallel/pool.ts';
import { burn } from './parallel.work.ts';

export interface BurnArgs {
  readonly iters: number;
  /** One result per index, over a SharedArrayBuffer, so the work cannot be dropped. */
  readonly out: Int32Array;
}

const empty: TaskFn = (x: number) => x;
const burnTask: TaskFn = (iters: number) => burn(iters);
const burnRange: RangeFn = (start, end, args: BurnArgs) => {
  for (let i = start; i < end; i++) args.out[i] = burn(args.iters);
};

export const tasks: Record<string, TaskFn | RangeFn> = { empty, burn: burnTask, burnRange };
