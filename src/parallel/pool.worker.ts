// A pool thread. It imports the task module once, then loops: sleep on GEN (Atomics.wait, after an optional
// spin), take this job's one message synchronously from its port, claim indices from the shared NEXT
// counter until none are left, report. No per-task message and no event-loop wake-up between tasks.

import { type MessagePort, parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import { monoMillis } from '../core/clock.ts';
import {
  CTL_ABORT,
  CTL_GEN,
  claim,
  FLUSH_MS,
  type JobMessage,
  nameThread,
  pinThread,
  type TaskFailure,
  toFailure,
  type WorkerMessage,
  type WorkerSetup,
} from './pool.protocol.ts';
import type { RangeFn, TaskContext, TaskFn } from './pool.ts';

const init = workerData as WorkerSetup & { port: MessagePort };
const ctl = new Int32Array(init.ctl);
const ctx: TaskContext = { setup: init.setup, threadIndex: init.index, threadName: init.name };

function send(m: WorkerMessage): void {
  parentPort!.postMessage(m);
}

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return v !== null && typeof v === 'object' && typeof (v as { then?: unknown }).then === 'function';
}

nameThread(init.name);
let tasks: Record<string, TaskFn | RangeFn> | null = null;
try {
  if (init.cpu !== null) {
    if (process.platform !== 'linux')
      throw new Error(`option 'pin' needs Linux, this is ${process.platform}`);
    pinThread(init.cpu);
  }
  const mod = (await import(init.module)) as { tasks?: unknown };
  if (mod.tasks === null || typeof mod.tasks !== 'object') {
    throw new Error(`${init.module} does not export 'tasks' (export const tasks = { name: fn, ... })`);
  }
  tasks = mod.tasks as Record<string, TaskFn | RangeFn>;
} catch (e) {
  // The main thread terminates this thread once it reads the failure.
  send({ type: 'init-failed', failure: toFailure(e, -1, -1) });
}

/** Claims input indices one at a time; results go back in batches at most FLUSH_MS old. */
async function runMap(job: Extract<JobMessage, { kind: 'map' }>, fn: TaskFn): Promise<void> {
  const { inputs, gen } = job;
  const n = inputs.length;
  let idx: number[] = [];
  let values: unknown[] = [];
  let flushedAt = monoMillis();
  let failure: TaskFailure | null = null;
  for (;;) {
    const i = claim(ctl, n, 1);
    if (i < 0) break;
    try {
      let r = fn(inputs[i], ctx);
      if (isThenable(r)) r = await r;
      idx.push(i);
      values.push(r);
    } catch (e) {
      failure = toFailure(e, i, i + 1);
      Atomics.store(ctl, CTL_ABORT, 1);
      break;
    }
    const now = monoMillis();
    if (now - flushedAt >= FLUSH_MS) {
      send({ type: 'results', gen, idx, values });
      idx = [];
      values = [];
      flushedAt = now;
    }
  }
  send({ type: 'done', gen, idx, values, failure });
}

/** Claims chunks [start, start + chunk) of [0, n) until the counter passes n. */
async function runRange(job: Extract<JobMessage, { kind: 'range' }>, fn: RangeFn): Promise<void> {
  const { n, chunk, args } = job;
  let failure: TaskFailure | null = null;
  for (;;) {
    const start = claim(ctl, n, chunk);
    if (start < 0) break;
    const end = Math.min(n, start + chunk);
    try {
      const r: unknown = fn(start, end, args, ctx);
      if (isThenable(r)) await r;
    } catch (e) {
      failure = toFailure(e, start, end);
      Atomics.store(ctl, CTL_ABORT, 1);
      break;
    }
  }
  send({ type: 'done', gen: job.gen, idx: [], values: [], failure });
}

async function loop(tasks: Record<string, TaskFn | RangeFn>): Promise<void> {
  // Generation 0 is the pool's start: the first job may already be posted by the time this line runs.
  let seen = 0;
  for (;;) {
    let g = Atomics.load(ctl, CTL_GEN);
    for (let s = init.spin; g === seen && s > 0; s--) g = Atomics.load(ctl, CTL_GEN);
    while (g === seen) {
      Atomics.wait(ctl, CTL_GEN, seen);
      g = Atomics.load(ctl, CTL_GEN);
    }
    seen = g;
    // The main thread posts the job before it bumps GEN, so the message is already queued on the port.
    const job = receiveMessageOnPort(init.port)?.message as JobMessage | undefined;
    if (job === undefined)
      throw new Error(`pool thread ${init.name}: woken for job ${g} without a job message`);
    if (job.kind === 'exit') break;
    // The main thread checked the task name against the names this thread reported.
    if (job.kind === 'map') await runMap(job, tasks[job.task] as TaskFn);
    else await runRange(job, tasks[job.task] as RangeFn);
  }
  init.port.close();
  // Told to exit: end the thread now. A task may leave a handle behind (a timer, a data source), which would
  // keep the thread alive until the pool's grace period terminates it (5 s added to every optimisation).
  process.exit(0);
}

if (tasks !== null) {
  const t = tasks;
  send({ type: 'ready', tasks: Object.keys(t).filter((k) => typeof t[k] === 'function') });
  await loop(t);
}
