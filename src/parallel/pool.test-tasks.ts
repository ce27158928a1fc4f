// Tasks for the pool's tests: echo and arithmetic, visits counted in shared memory, thread identity,
// failures on chosen inputs, async work, and a thread that dies outside any task.

import { readFileSync } from 'node:fs';
import type { RangeFn, TaskContext, TaskFn } from './pool.ts';

export interface TestSetup {
  /** Int32Array over a SharedArrayBuffer: one visit counter per index. */
  readonly visits?: Int32Array;
}

function visitsOf(ctx: TaskContext, args: { visits?: Int32Array } | undefined): Int32Array {
  const v = args?.visits ?? (ctx.setup as TestSetup | undefined)?.visits;
  if (v === undefined) throw new Error('no visits array in args or setup');
  return v;
}

const square: TaskFn = (x: number) => x * x;
const echo: TaskFn = (x: unknown) => x;
const whoami: TaskFn = (_: unknown, ctx) => ({
  index: ctx.threadIndex,
  name: ctx.threadName,
  os: process.platform === 'linux' ? readFileSync('/proc/thread-self/comm', 'utf8').trim() : null,
});
const failOn: TaskFn = (x: { value: number; failAt: number }) => {
  if (x.value === x.failAt) throw new RangeError(`value ${x.value} is not allowed`);
  return x.value;
};
const later: TaskFn = async (x: number) => {
  await new Promise((r) => setTimeout(r, 1));
  return x + 1;
};
/** Writes `value` into a shared Float64Array from the worker. */
const writeShared: TaskFn = (x: { out: Float64Array; at: number; value: number }) => {
  x.out[x.at] = x.value;
  return x.at;
};
const exitThread: TaskFn = () => process.exit(3);
/** This thread's index and the CPUs it may run on, as Linux lists them ("0-1", "1"). */
const affinity: TaskFn = (_: unknown, ctx) => ({
  index: ctx.threadIndex,
  cpus: /Cpus_allowed_list:\s*(\S+)/.exec(readFileSync('/proc/thread-self/status', 'utf8'))?.[1],
});

const visit: RangeFn = (start, end, args: { visits?: Int32Array } | undefined, ctx) => {
  const v = visitsOf(ctx, args);
  for (let i = start; i < end; i++) Atomics.add(v, i, 1);
};
const visitThenFail: RangeFn = (start, end, args: { visits: Int32Array; failAt: number }, ctx) => {
  if (args.failAt >= start && args.failAt < end) throw new Error(`index ${args.failAt} fails`);
  visit(start, end, args, ctx);
};
/** Records which thread took each index (threadIndex + 1, so 0 means "not visited"). */
const owner: RangeFn = (start, end, args: { owners: Int32Array }, ctx) => {
  for (let i = start; i < end; i++) Atomics.store(args.owners, i, ctx.threadIndex + 1);
};

export const tasks: Record<string, TaskFn | RangeFn> = {
  square,
  echo,
  whoami,
  failOn,
  later,
  writeShared,
  exitThread,
  affinity,
  visit,
  visitThenFail,
  owner,
};
