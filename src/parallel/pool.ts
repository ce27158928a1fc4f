// A pool of long-lived worker threads for CPU-bound research work (parameter sweeps, bulk statistics).
// Small tasks cost no message each: a call posts one job message per worker, wakes the workers through a
// generation word (Atomics.notify), and the workers claim indices from a shared atomic counter until none are
// left. Calls run one at a time, in the order they were made; setup and args share SharedArrayBuffers.
// A task that throws rejects its call (TASK_FAILED) and the pool stays usable; a thread that dies outside a
// task rejects everything pending (WORKER_FAILED) and stops the pool, since its claimed work is lost.
//
// CPU affinity: Node.js has no affinity API. What can be pinned, on Linux, through util-linux's taskset: the
// whole process (start it under `taskset -c 0-1 bot4 ...`, or call `pinProcess([0, 1])`: every thread, the
// libuv and V8 helper threads included, and threads started later inherit it), and each pool thread's
// JavaScript thread (option `pin`: the worker finds its own thread id through /proc/thread-self). V8's GC and
// compiler helper threads are shared by the whole process and follow the process mask only. Elsewhere (macOS,
// Windows) nothing can be pinned from JavaScript; a native addon would be needed.

import { availableParallelism } from 'node:os';
import { MessageChannel, type MessagePort, type Worker } from 'node:worker_threads';
import { Bot4Error, ErrorCode } from '../core/errors.ts';
import { siblingModule, startWorker } from '../core/worker.ts';
import {
  CTL_ABORT,
  CTL_GEN,
  CTL_NEXT,
  CTL_WORDS,
  claim,
  type JobMessage,
  type TaskFailure,
  taskset,
  type WorkerMessage,
  type WorkerSetup,
} from './pool.protocol.ts';

export interface TaskContext {
  readonly setup: unknown;
  /** 0..threads-1 for the pool's threads; `threads` for the main thread when it joins a parallelFor. */
  readonly threadIndex: number;
  readonly threadName: string;
}
// biome-ignore lint/suspicious/noExplicitAny: each task declares its own input type
export type TaskFn = (input: any, ctx: TaskContext) => unknown | Promise<unknown>;
// biome-ignore lint/suspicious/noExplicitAny: each task declares its own args type
export type RangeFn = (start: number, end: number, args: any, ctx: TaskContext) => void;

export interface PoolOptions {
  /** Module the workers import; it exports `tasks: Record<string, TaskFn | RangeFn>`. */
  module: URL;
  /** Default max(1, os.availableParallelism() - 1). */
  threads?: number;
  /** Thread names `${name}-${i}` (default 'bot4-pool'). */
  name?: string;
  /** Given once to every worker as ctx.setup; SharedArrayBuffers in it are shared, not copied. */
  setup?: unknown;
  /**
   * Polls of the generation word an idle worker makes before it sleeps in Atomics.wait (default 0). Spinning
   * lets back-to-back calls find the workers awake on idle cores, but on a busy machine it takes CPU from the
   * main thread (no bench measures spin > 0 yet: parallel.pool.roundtrip runs with the default).
   */
  spin?: number;
  /**
   * Pins pool thread i to CPU pin[i % pin.length] (Linux with taskset only; the pool fails to start otherwise,
   * naming the thread and the reason). Default: no pinning, the OS scheduler places the threads.
   */
  pin?: readonly number[];
}

export interface MapOptions<O> {
  /** Called on the main thread as results arrive (in batches, at most ~10 ms late), in completion order. */
  onResult?: (index: number, result: O) => void;
  /** Stops handing out inputs and rejects with the signal's reason; running tasks finish in the background. */
  signal?: AbortSignal;
}

export interface ParallelForOptions {
  /** Indices per claim. Default: about 64 claims per participating thread. */
  chunk?: number;
  /** Passed to every call of the RangeFn; SharedArrayBuffers in it are shared, not copied. */
  args?: unknown;
  /**
   * The main thread claims chunks too (default false). On a machine with cores - 1 workers this uses every
   * core, but the main thread's event loop is blocked until the counter runs out. The task module is then
   * imported into the main thread as well.
   */
  mainThread?: boolean;
}

const MAX_INDEX = 0x7fffffff;
const EXIT_GRACE_MS = 5000;
const workerUrl = siblingModule(import.meta.url, 'pool.worker');

interface Job {
  readonly kind: 'map' | 'range';
  readonly task: string;
  readonly n: number;
  readonly chunk: number;
  /** Map inputs, or the RangeFn's args. */
  readonly payload: unknown;
  readonly results: unknown[];
  readonly onResult: ((index: number, result: unknown) => void) | undefined;
  readonly signal: AbortSignal | undefined;
  /** The RangeFn for the main thread's share, or null when the main thread does not join. */
  readonly mainFn: RangeFn | null;
  readonly resolve: (value: unknown) => void;
  readonly reject: (reason: unknown) => void;
  gen: number;
  /** Workers that have not sent 'done' for this job yet. */
  pending: number;
  settled: boolean;
  onAbort: (() => void) | null;
}

export class WorkerPool {
  readonly threads: number;
  private readonly name: string;
  private readonly module: URL;
  private readonly setup: unknown;
  private readonly ctl: Int32Array;
  private readonly workers: Worker[];
  private readonly ports: MessagePort[];
  private readonly taskNames: ReadonlySet<string>;
  private readonly queue: Job[] = [];
  private current: Job | null = null;
  private gen = 0;
  private failure: Bot4Error | null = null;
  private closing: Promise<void> | null = null;
  private stopping = false;
  private idleWaiters: (() => void)[] = [];
  private localTasks: Promise<Record<string, TaskFn | RangeFn>> | null = null;

  private constructor(
    options: PoolOptions,
    threads: number,
    name: string,
    ctl: Int32Array,
    workers: Worker[],
    ports: MessagePort[],
    taskNames: readonly string[],
  ) {
    this.threads = threads;
    this.name = name;
    this.module = options.module;
    this.setup = options.setup;
    this.ctl = ctl;
    this.workers = workers;
    this.ports = ports;
    this.taskNames = new Set(taskNames);
    for (const [i, w] of workers.entries()) {
      w.on('message', (m: WorkerMessage) => this.onMessage(i, m));
      w.on('error', (e: Error) => this.onCrash(i, e, null));
      w.on('exit', (code: number) => this.onCrash(i, null, code));
      w.unref();
    }
  }

  static async start(options: PoolOptions): Promise<WorkerPool> {
    if (!(options.module instanceof URL)) {
      throw new Bot4Error(
        ErrorCode.INVALID_ARGUMENT,
        `pool option 'module' must be a URL (e.g. new URL('./tasks.ts', import.meta.url)), got ${String(options.module)}`,
        { module: String(options.module) },
      );
    }
    const threads = options.threads ?? Math.max(1, availableParallelism() - 1);
    if (!Number.isInteger(threads) || threads < 1 || threads > 1024) {
      throw new Bot4Error(
        ErrorCode.INVALID_ARGUMENT,
        `pool option 'threads' must be an integer from 1 to 1024, got ${threads}`,
        { threads },
      );
    }
    const spin = options.spin ?? 0;
    if (!Number.isInteger(spin) || spin < 0) {
      throw new Bot4Error(
        ErrorCode.INVALID_ARGUMENT,
        `pool option 'spin' must be an integer >= 0, got ${spin}`,
        {
          spin,
        },
      );
    }
    const pin = options.pin ?? [];
    if (!pin.every((c) => Number.isInteger(c) && c >= 0)) {
      throw new Bot4Error(
        ErrorCode.INVALID_ARGUMENT,
        `pool option 'pin' must list CPU numbers >= 0, got [${pin}]`,
        {
          pin,
        },
      );
    }
    const name = options.name ?? 'bot4-pool';
    const ctl = new Int32Array(new SharedArrayBuffer(CTL_WORDS * 4));
    const workers: Worker[] = [];
    const ports: MessagePort[] = [];
    const ready: Promise<readonly string[]>[] = [];
    for (let i = 0; i < threads; i++) {
      const { port1, port2 } = new MessageChannel();
      const data: WorkerSetup & { port: MessagePort } = {
        ctl: ctl.buffer as SharedArrayBuffer,
        index: i,
        name: `${name}-${i}`,
        module: options.module.href,
        setup: options.setup,
        spin,
        cpu: pin.length > 0 ? pin[i % pin.length]! : null,
        port: port2,
      };
      let w: Worker;
      try {
        w = startWorker(workerUrl, { name: `${name}-${i}`, workerData: data, transferList: [port2] });
      } catch (e) {
        // setup cannot be cloned (a function, a class instance with private state...): nothing is running yet
        // but the threads already started.
        await Promise.all(workers.map((x) => x.terminate()));
        for (const p of [...ports, port1]) p.close();
        throw new Bot4Error(
          ErrorCode.INVALID_ARGUMENT,
          `pool option 'setup' cannot be sent to the pool threads (${(e as Error).message}); pass plain data, typed arrays and SharedArrayBuffers`,
          {},
          { cause: e },
        );
      }
      workers.push(w);
      ports.push(port1);
      ready.push(whenReady(w, `${name}-${i}`, options.module));
    }
    let names: readonly string[];
    try {
      names = (await Promise.all(ready))[0] ?? [];
    } catch (e) {
      await Promise.all(workers.map((w) => w.terminate()));
      for (const p of ports) p.close();
      throw e;
    }
    return new WorkerPool(options, threads, name, ctl, workers, ports, names);
  }

  /**
   * Runs `task` once per input on the workers (dynamic claiming), results in input order. A task that throws
   * rejects the whole map with a Bot4Error naming the task, the input index, the thread and the cause; the
   * pool stays usable.
   */
  map<I, O>(task: string, inputs: readonly I[], options: MapOptions<O> = {}): Promise<O[]> {
    return new Promise<O[]>((resolve, reject) => {
      this.checkTask(task);
      if (!Array.isArray(inputs)) {
        throw new Bot4Error(ErrorCode.INVALID_ARGUMENT, `map('${task}'): inputs must be an array`, { task });
      }
      if (inputs.length > MAX_INDEX - this.threads) {
        throw new Bot4Error(
          ErrorCode.INVALID_ARGUMENT,
          `map('${task}'): too many inputs (${inputs.length})`,
          {
            task,
          },
        );
      }
      this.enqueue({
        kind: 'map',
        task,
        n: inputs.length,
        chunk: 1,
        payload: inputs,
        results: new Array(inputs.length),
        onResult: options.onResult as ((index: number, result: unknown) => void) | undefined,
        signal: options.signal,
        mainFn: null,
        resolve: resolve as (value: unknown) => void,
        reject,
        gen: 0,
        pending: 0,
        settled: false,
        onAbort: null,
      });
    });
  }

  /** Calls the RangeFn `task` over [0, n) in chunks claimed from a shared atomic counter (no message per chunk). */
  async parallelFor(task: string, n: number, options: ParallelForOptions = {}): Promise<void> {
    this.checkTask(task);
    if (!Number.isInteger(n) || n < 0) {
      throw new Bot4Error(
        ErrorCode.INVALID_ARGUMENT,
        `parallelFor('${task}'): n must be an integer >= 0, got ${n}`,
        {
          task,
          n,
        },
      );
    }
    const participants = this.threads + (options.mainThread ? 1 : 0);
    const chunk = options.chunk ?? Math.max(1, Math.ceil(n / (participants * 64)));
    if (!Number.isInteger(chunk) || chunk < 1) {
      throw new Bot4Error(
        ErrorCode.INVALID_ARGUMENT,
        `parallelFor('${task}'): chunk must be an integer >= 1, got ${chunk}`,
        { task, chunk },
      );
    }
    // Every participant overshoots the counter by at most one chunk: keep that inside int32.
    if (n + (participants + 1) * chunk > MAX_INDEX) {
      throw new Bot4Error(
        ErrorCode.INVALID_ARGUMENT,
        `parallelFor('${task}'): n ${n} with chunk ${chunk} overflows the 31-bit claim counter; split the range`,
        { task, n, chunk },
      );
    }
    if (n === 0) return;
    const mainFn = options.mainThread ? await this.localTask(task) : null;
    await new Promise<unknown>((resolve, reject) => {
      this.enqueue({
        kind: 'range',
        task,
        n,
        chunk,
        payload: options.args,
        results: [],
        onResult: undefined,
        signal: undefined,
        mainFn,
        resolve,
        reject,
        gen: 0,
        pending: 0,
        settled: false,
        onAbort: null,
      });
    });
  }

  /** Pool threads that have not exited yet. */
  get liveThreads(): number {
    let n = 0;
    for (const w of this.workers) if (w.threadId >= 0) n++;
    return n;
  }

  /** Finishes running and queued work, then stops every thread; idempotent. */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  // ---------------------------------------------------------------------------------------------- jobs

  private checkTask(task: string): void {
    if (!this.taskNames.has(task)) {
      throw new Bot4Error(
        ErrorCode.NOT_FOUND,
        `no task '${task}' in ${this.module.href}; it exports: ${[...this.taskNames].join(', ') || '(none)'}`,
        { task, module: this.module.href },
      );
    }
  }

  private localTask(task: string): Promise<RangeFn> {
    this.localTasks ??= import(this.module.href).then(
      (m: { tasks: Record<string, TaskFn | RangeFn> }) => m.tasks,
    );
    return this.localTasks.then((t) => t[task] as RangeFn);
  }

  private enqueue(job: Job): void {
    if (this.failure !== null) throw this.failure;
    if (this.closing !== null) {
      throw new Bot4Error(ErrorCode.POOL_CLOSED, `pool ${this.name} is closed; start a new pool`, {
        pool: this.name,
      });
    }
    if (job.n === 0) {
      job.resolve(job.results);
      return;
    }
    if (job.signal !== undefined) {
      const signal = job.signal;
      if (signal.aborted) {
        job.reject(signal.reason);
        return;
      }
      job.onAbort = () => this.abort(job, signal.reason);
      signal.addEventListener('abort', job.onAbort, { once: true });
    }
    this.queue.push(job);
    this.pump();
  }

  private abort(job: Job, reason: unknown): void {
    const queued = this.queue.indexOf(job);
    if (queued >= 0) this.queue.splice(queued, 1);
    else if (job === this.current) Atomics.store(this.ctl, CTL_ABORT, 1);
    this.settle(job, reason);
  }

  private pump(): void {
    for (;;) {
      if (this.current !== null || this.failure !== null) return;
      const job = this.queue.shift();
      if (job === undefined) {
        const waiters = this.idleWaiters;
        this.idleWaiters = [];
        for (const w of waiters) w();
        return;
      }
      if (this.dispatch(job)) return;
    }
  }

  /** Hands `job` to every thread; false (and the job rejected) when its inputs or args cannot be cloned. */
  private dispatch(job: Job): boolean {
    const gen = this.gen + 1;
    const msg: JobMessage =
      job.kind === 'map'
        ? { kind: 'map', gen, task: job.task, inputs: job.payload as unknown[] }
        : { kind: 'range', gen, task: job.task, n: job.n, chunk: job.chunk, args: job.payload };
    // A message that cannot be cloned throws on the first port and is queued nowhere; the same message
    // then goes to the other ports without fail.
    try {
      this.ports[0]!.postMessage(msg);
    } catch (e) {
      const what = job.kind === 'map' ? 'inputs' : 'args';
      this.settle(
        job,
        new Bot4Error(
          ErrorCode.INVALID_ARGUMENT,
          `${job.kind === 'map' ? 'map' : 'parallelFor'}('${job.task}'): its ${what} cannot be sent to the pool threads (${(e as Error).message}); pass plain data, typed arrays and SharedArrayBuffers`,
          { task: job.task },
          { cause: e },
        ),
      );
      return false;
    }
    for (let i = 1; i < this.ports.length; i++) this.ports[i]!.postMessage(msg);
    this.gen = gen;
    this.current = job;
    job.gen = gen;
    job.pending = this.workers.length;
    const ctl = this.ctl;
    Atomics.store(ctl, CTL_NEXT, 0);
    Atomics.store(ctl, CTL_ABORT, 0);
    for (const w of this.workers) w.ref();
    // The messages are queued before GEN moves: a worker that sees the new GEN finds its job on the port.
    Atomics.store(ctl, CTL_GEN, gen);
    Atomics.notify(ctl, CTL_GEN);
    if (job.mainFn !== null) this.runMainShare(job, job.mainFn);
    return true;
  }

  /** The main thread's share of a parallelFor: it claims chunks like a worker until the counter runs out. */
  private runMainShare(job: Job, fn: RangeFn): void {
    const ctl = this.ctl;
    const ctx: TaskContext = {
      setup: this.setup,
      threadIndex: this.threads,
      threadName: `${this.name}-main`,
    };
    const { n, chunk } = job;
    for (;;) {
      const start = claim(ctl, n, chunk);
      if (start < 0) return;
      const end = Math.min(n, start + chunk);
      try {
        fn(start, end, job.payload, ctx);
      } catch (e) {
        Atomics.store(ctl, CTL_ABORT, 1);
        this.settle(job, this.taskError(job, ctx.threadName, start, end, e));
        return;
      }
    }
  }

  private onMessage(worker: number, m: WorkerMessage): void {
    const job = this.current;
    if (m.type !== 'results' && m.type !== 'done') return;
    if (job === null || m.gen !== job.gen) return;
    if (m.idx.length > 0) this.store(job, m.idx, m.values);
    if (m.type === 'results') return;
    if (m.failure !== null) {
      Atomics.store(this.ctl, CTL_ABORT, 1);
      this.settle(
        job,
        this.taskError(job, `${this.name}-${worker}`, m.failure.start, m.failure.end, revive(m.failure)),
      );
    }
    if (--job.pending > 0) return;
    for (const w of this.workers) w.unref();
    this.current = null;
    this.settle(job, null);
    this.pump();
  }

  private store(job: Job, idx: number[], values: unknown[]): void {
    const { results, onResult } = job;
    for (let k = 0; k < idx.length; k++) results[idx[k]!] = values[k];
    if (onResult === undefined || job.settled) return;
    try {
      for (let k = 0; k < idx.length; k++) onResult(idx[k]!, values[k]);
    } catch (e) {
      // The caller's callback failed, not a task: stop the map and hand the error back unchanged.
      Atomics.store(this.ctl, CTL_ABORT, 1);
      this.settle(job, e);
    }
  }

  /** Resolves (error null) or rejects a job once; later outcomes of the same job are dropped. */
  private settle(job: Job, error: unknown): void {
    if (job.settled) return;
    job.settled = true;
    if (job.onAbort !== null) job.signal?.removeEventListener('abort', job.onAbort);
    if (error === null) job.resolve(job.kind === 'map' ? job.results : undefined);
    else job.reject(error);
  }

  private taskError(job: Job, thread: string, start: number, end: number, cause: unknown): Bot4Error {
    const where = job.kind === 'map' ? `input ${start}` : `indices [${start}, ${end})`;
    const why = cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause);
    return new Bot4Error(
      ErrorCode.TASK_FAILED,
      `task '${job.task}' failed on ${where} in thread ${thread}: ${why}`,
      job.kind === 'map' ? { task: job.task, index: start, thread } : { task: job.task, start, end, thread },
      { cause },
    );
  }

  // ---------------------------------------------------------------------------------------------- lifecycle

  /** A worker died outside a task (process.exit, out of memory, an uncaught error in a callback). */
  private onCrash(worker: number, error: Error | null, code: number | null): void {
    if (this.stopping || this.failure !== null) return;
    const thread = `${this.name}-${worker}`;
    const job = this.current;
    const during = job === null ? 'while idle' : `while running task '${job.task}'`;
    const why = error !== null ? `threw ${error.name}: ${error.message}` : `exited with code ${code}`;
    this.failure = new Bot4Error(
      ErrorCode.WORKER_FAILED,
      `pool thread ${thread} ${why} ${during}; the pool is stopped and its pending work rejected: start a new pool`,
      { thread, task: job?.task, code },
      error === null ? undefined : { cause: error },
    );
    this.current = null;
    if (job !== null) this.settle(job, this.failure);
    for (const q of this.queue.splice(0)) this.settle(q, this.failure);
    for (const w of this.workers) void w.terminate();
    for (const p of this.ports) p.close();
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }

  private async shutdown(): Promise<void> {
    if (this.current !== null || this.queue.length > 0) {
      await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
    }
    this.stopping = true;
    const exited = this.workers.map((w) => exitOf(w));
    if (this.failure === null) {
      const msg: JobMessage = { kind: 'exit', gen: ++this.gen };
      for (const p of this.ports) p.postMessage(msg);
      Atomics.store(this.ctl, CTL_GEN, this.gen);
      Atomics.notify(this.ctl, CTL_GEN);
    }
    for (const w of this.workers) w.ref();
    const grace = setTimeout(() => {
      for (const w of this.workers) void w.terminate();
    }, EXIT_GRACE_MS);
    try {
      await Promise.all(exited);
    } finally {
      clearTimeout(grace);
      for (const p of this.ports) p.close();
    }
  }
}

function exitOf(w: Worker): Promise<void> {
  // threadId is -1 once the thread has exited.
  if (w.threadId < 0) return Promise.resolve();
  return new Promise<void>((resolve) => w.once('exit', () => resolve()));
}

function whenReady(w: Worker, thread: string, module: URL): Promise<readonly string[]> {
  return new Promise((resolve, reject) => {
    const fail = (why: string, cause?: unknown) => {
      w.off('message', onMessage);
      w.off('error', onError);
      w.off('exit', onExit);
      reject(
        new Bot4Error(
          ErrorCode.WORKER_FAILED,
          `pool thread ${thread} could not load the task module ${module.href}: ${why}`,
          { thread, module: module.href },
          cause === undefined ? undefined : { cause },
        ),
      );
    };
    const onMessage = (m: WorkerMessage) => {
      if (m.type === 'ready') {
        w.off('message', onMessage);
        w.off('error', onError);
        w.off('exit', onExit);
        resolve(m.tasks);
      } else if (m.type === 'init-failed') fail(`${m.failure.name}: ${m.failure.message}`, revive(m.failure));
    };
    const onError = (e: Error) => fail(`${e.name}: ${e.message}`, e);
    const onExit = (code: number) => fail(`the thread exited with code ${code} before it was ready`);
    w.on('message', onMessage);
    w.once('error', onError);
    w.once('exit', onExit);
  });
}

/** An Error standing for one thrown in a worker, with the worker's name, message, stack and code. */
function revive(f: TaskFailure): Error {
  const e = new Error(f.message);
  e.name = f.name;
  if (f.stack !== undefined) e.stack = f.stack;
  if (f.code !== undefined) (e as Error & { code?: string }).code = f.code;
  return e;
}

/**
 * Restricts this process and all its threads (the workers included) to the given CPUs, through
 * `taskset -a -p` (Linux, util-linux). Threads started later inherit the mask. Same effect as starting
 * under `taskset -c <cpus> bot4 ...`.
 */
export function pinProcess(cpus: readonly number[]): void {
  if (cpus.length === 0 || !cpus.every((c) => Number.isInteger(c) && c >= 0)) {
    throw new Bot4Error(
      ErrorCode.INVALID_ARGUMENT,
      `pinProcess: cpus must be CPU numbers >= 0, got [${cpus}]`,
      {
        cpus,
      },
    );
  }
  if (process.platform !== 'linux') {
    throw new Bot4Error(
      ErrorCode.INVALID_ARGUMENT,
      `pinProcess needs Linux's taskset; on ${process.platform} leave placement to the OS scheduler`,
      { platform: process.platform },
    );
  }
  const failed = taskset(['-a', '-p', '-c', cpus.join(','), String(process.pid)]);
  if (failed !== null) {
    throw new Bot4Error(
      ErrorCode.NOT_FOUND,
      `pinProcess([${cpus}]) failed: ${failed.why}`,
      { cpus },
      {
        cause: failed.cause,
      },
    );
  }
}
