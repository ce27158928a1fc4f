// What the pool's main thread and its workers share: the layout of the control words in a SharedArrayBuffer
// and the messages that cross between them. One job message per worker per call goes out; a worker sends
// back result batches and one 'done' per job. Indices are claimed from NEXT, never sent one by one.

import { execFileSync } from 'node:child_process';
import { readlinkSync, writeFileSync } from 'node:fs';

/** Int32 slots of the control buffer. GEN and NEXT sit 64 bytes apart so claims do not bounce GEN's line. */
export const CTL_GEN = 0;
export const CTL_ABORT = 1;
export const CTL_NEXT = 16;
export const CTL_WORDS = 32;

/** How long a worker keeps partial map results before sending them (streaming `onResult`), ms. */
export const FLUSH_MS = 10;

/**
 * Claims the next `chunk` indices of [0, n) from NEXT, as every participant does (pool threads and the main
 * thread): the chunk's start, or -1 once the job is aborted or the counter has passed n.
 */
export function claim(ctl: Int32Array, n: number, chunk: number): number {
  if (Atomics.load(ctl, CTL_ABORT) !== 0) return -1;
  const start = Atomics.add(ctl, CTL_NEXT, chunk);
  return start < n ? start : -1;
}

export interface WorkerSetup {
  readonly ctl: SharedArrayBuffer;
  readonly index: number;
  readonly name: string;
  readonly module: string;
  readonly setup: unknown;
  /** Polls of GEN before the worker sleeps in Atomics.wait (catches back-to-back jobs without a futex). */
  readonly spin: number;
  /** CPU this thread pins itself to, or null. */
  readonly cpu: number | null;
}

export type JobMessage =
  | { readonly kind: 'map'; readonly gen: number; readonly task: string; readonly inputs: readonly unknown[] }
  | {
      readonly kind: 'range';
      readonly gen: number;
      readonly task: string;
      readonly n: number;
      readonly chunk: number;
      readonly args: unknown;
    }
  | { readonly kind: 'exit'; readonly gen: number };

/** A task's failure as plain data: Error subclasses and their fields do not survive structured clone. */
export interface TaskFailure {
  readonly name: string;
  readonly message: string;
  readonly stack: string | undefined;
  readonly code: string | undefined;
  /** Map: the input index; range: the chunk [start, end). */
  readonly start: number;
  readonly end: number;
}

export type WorkerMessage =
  | { readonly type: 'ready'; readonly tasks: readonly string[] }
  | { readonly type: 'init-failed'; readonly failure: TaskFailure }
  | { readonly type: 'results'; readonly gen: number; readonly idx: number[]; readonly values: unknown[] }
  | {
      readonly type: 'done';
      readonly gen: number;
      readonly idx: number[];
      readonly values: unknown[];
      readonly failure: TaskFailure | null;
    };

export function toFailure(e: unknown, start: number, end: number): TaskFailure {
  if (e instanceof Error) {
    const code = (e as { code?: unknown }).code;
    return {
      name: e.name,
      message: e.message,
      stack: e.stack,
      code: typeof code === 'string' ? code : undefined,
      start,
      end,
    };
  }
  return { name: 'Error', message: String(e), stack: undefined, code: undefined, start, end };
}

/** Runs util-linux's taskset (pinning the process or one thread): null, or why it failed and the error. */
export function taskset(args: readonly string[]): { why: string; cause: unknown } | null {
  try {
    execFileSync('taskset', args, { stdio: 'pipe' });
    return null;
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { stderr?: Buffer };
    const why =
      err.code === 'ENOENT'
        ? 'taskset is not installed (apt-get install util-linux)'
        : (err.stderr?.toString().trim() ?? err.message);
    return { why, cause: e };
  }
}

/** Pins this thread (not the process) to one CPU: taskset on the thread id that /proc/thread-self names. */
export function pinThread(cpu: number): void {
  const tid = readlinkSync('/proc/thread-self').split('/').pop()!;
  const failed = taskset(['-p', '-c', String(cpu), tid]);
  if (failed !== null) {
    throw new Error(`cannot pin thread ${tid} to CPU ${cpu}: ${failed.why}`, { cause: failed.cause });
  }
}

/**
 * Gives the OS thread the pool thread's name (Linux keeps 15 bytes), so top -H, perf and gdb show it; Node 20
 * leaves every thread named "node". Best effort: elsewhere, or if /proc is read-only, the name stays JS-only.
 */
export function nameThread(name: string): void {
  if (process.platform !== 'linux') return;
  try {
    writeFileSync('/proc/thread-self/comm', name.slice(0, 15));
  } catch {
    // Naming is a diagnostic aid, never a reason to fail.
  }
}
