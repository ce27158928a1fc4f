// The coordinator's side of distributed optimisation: a TrialExecutor (the optimiser does not know the
// difference) that publishes each round's trials to the JetStream work queue and hands back results as they
// arrive on the results stream. The optimiser keeps its rounds, TPE and the trials file exactly as on one
// machine; only where a trial runs changes, so the same seed gives the same results.
//
// Invariants: a trial is keyed by a hash of its input (see job.ts), so a trial whose result is already in the
// results stream (a resumed search, a coordinator restarted while workers finished its round) is not run
// again; a result that arrives twice (a trial redelivered after its worker died between storing the result
// and acknowledging the trial) is counted and discarded; an interrupted search purges its queued trials.

import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { DeliverPolicy, type JsMsg } from '@nats-io/jetstream';
import type { TrialExecutor } from '../backtest/optimize/executor.ts';
import type { TrialInput, TrialOutput, TrialSetup } from '../backtest/optimize/trial.ts';
import type { DataSource } from '../cli/optimize-command.ts';
import { monoMillis } from '../core/clock.ts';
import { Bot4Error, ErrorCode } from '../core/errors.ts';
import type { FeeConfig } from '../model/fee-schedule.ts';
import { decode, encode } from './codec.ts';
import { type OptimizeJob, trialId } from './job.ts';
import {
  type Cluster,
  ensureQueue,
  JOBS_BUCKET,
  openCluster,
  parseClusterUrls,
  type QueueOptions,
  RESULTS_STREAM,
  resultSubject,
  retry,
  TRIALS_STREAM,
  trialSubject,
} from './nats.ts';

/** What a worker publishes per trial. */
export interface ResultMessage {
  readonly id: string;
  readonly out: TrialOutput;
  /** hostname:pid of the worker process. */
  readonly worker: string;
  /** JetStream's delivery count of the trial (> 1: redelivered). */
  readonly deliveries: number;
  /** The trial crashed (a bug, not refused parameters): the search stops, as it would on one machine. */
  readonly fatal?: string;
}

export interface TrialMessage {
  readonly job: string;
  readonly id: string;
  readonly input: TrialInput;
}

export interface ClusterStats {
  /** Results taken (one per trial). */
  results: number;
  /** Of those, trials a worker ran after an earlier delivery went unacknowledged. */
  redelivered: number;
  /** Second results of a trial, discarded. */
  duplicates: number;
  /** Results found in the stream from an earlier run, not run again. */
  reused: number;
  /** Distinct worker processes that sent results. */
  workers: Set<string>;
}

export interface ClusterExecutorOptions extends QueueOptions {
  readonly urls: readonly string[];
  /** Deadline of each JetStream call (retried through leader elections), ms. */
  readonly timeoutMs?: number;
}

const IDLE_HINT_MS = 15_000;

export class ClusterExecutor implements TrialExecutor {
  readonly stats: ClusterStats = { results: 0, redelivered: 0, duplicates: 0, reused: 0, workers: new Set() };
  private readonly c: Cluster;
  private readonly job: OptimizeJob;
  private readonly timeoutMs: number;
  private readonly results = new Map<string, TrialOutput>();
  /** Trial id -> the callback of the round waiting for it. */
  private readonly waiting = new Map<string, (out: TrialOutput) => void>();
  private wake: (() => void) | null = null;
  private closed = false;
  private reader: Promise<void> = Promise.resolve();
  private failure: Error | null = null;
  /** Called when the first round has waited IDLE_HINT_MS without a single result (no worker running?). */
  onIdle: (() => void) | null = null;
  /** Called once by close() with the final counts. */
  onClose: ((stats: ClusterStats) => void) | null = null;

  private constructor(c: Cluster, job: OptimizeJob, timeoutMs: number) {
    this.c = c;
    this.job = job;
    this.timeoutMs = timeoutMs;
  }

  /** The distinct workers that ran trials (the report's worker count). */
  get workers(): number {
    return Math.max(1, this.stats.workers.size);
  }

  static async start(job: OptimizeJob, o: ClusterExecutorOptions): Promise<ClusterExecutor> {
    const timeoutMs = o.timeoutMs ?? 30_000;
    const c = await openCluster(o.urls, `bot4-optimize ${hostname()}:${process.pid}`, timeoutMs);
    try {
      await ensureQueue(c, o, monoMillis() + timeoutMs);
      const kv = await c.kvm.open(JOBS_BUCKET);
      await retry(`publishing job ${job.id}`, monoMillis() + timeoutMs, () => kv.put(job.id, encode(job)));
      const ex = new ClusterExecutor(c, job, timeoutMs);
      await ex.readResults();
      return ex;
    } catch (e) {
      await c.close();
      throw e;
    }
  }

  /**
   * Reads the job's results, from the first stored (an earlier run's) on, for as long as the executor is open;
   * resolves once the stored ones are in, so a round never re-queues a trial that already has a result.
   */
  private async readResults(): Promise<void> {
    const consumer = await retry('opening the results stream', monoMillis() + this.timeoutMs, () =>
      this.c.js.consumers.get(RESULTS_STREAM, {
        filter_subjects: resultSubject(this.job.id, '>'),
        deliver_policy: DeliverPolicy.All,
      }),
    );
    // Results already stored for this job (each trial's subject holds at most one).
    const info = await retry('reading the results stream', monoMillis() + this.timeoutMs, () =>
      this.c.jsm.streams.info(RESULTS_STREAM, { subjects_filter: resultSubject(this.job.id, '>') }),
    );
    const backlog = Object.keys(info.state.subjects ?? {}).length;
    // Pull requests of 5 s (heartbeats every 2.5 s): a consumer whose server went away is noticed and recreated
    // within seconds, not the default minute (a search would stall that long after a server restart).
    const messages = await consumer.consume({ expires: 5000 });
    let seen = 0;
    let caughtUp!: () => void;
    const ready = new Promise<void>((resolve) => {
      caughtUp = resolve;
    });
    if (backlog === 0) caughtUp();
    this.reader = (async () => {
      for await (const m of messages) {
        if (this.closed) break;
        this.take(m, seen < backlog);
        if (++seen >= backlog || m.info.pending === 0) caughtUp();
      }
    })().catch((e: unknown) => {
      this.failure = e as Error;
      this.wake?.();
    });
    this.closeReader = () => messages.close().then(() => undefined);
    await ready;
  }

  private closeReader: () => Promise<void> = async () => {};

  private take(m: JsMsg, stored: boolean): void {
    const r = decode<ResultMessage>(m.string());
    if (r.fatal !== undefined) {
      // Never a result: a resumed search runs the trial again (and crashes again if the bug is still there).
      if (!stored) {
        this.failure = new Error(`trial ${r.id} crashed on worker ${r.worker}: ${r.fatal}`);
        this.wake?.();
      }
      return;
    }
    if (this.results.has(r.id)) {
      this.stats.duplicates++;
      return;
    }
    this.results.set(r.id, r.out);
    if (stored) return;
    this.stats.results++;
    this.stats.workers.add(r.worker);
    if (r.deliveries > 1) this.stats.redelivered++;
    const cb = this.waiting.get(r.id);
    if (cb !== undefined) {
      this.waiting.delete(r.id);
      cb(r.out);
      if (this.waiting.size === 0) this.wake?.();
    }
  }

  async run(
    inputs: readonly TrialInput[],
    onResult: (index: number, out: TrialOutput) => void,
    signal?: AbortSignal,
  ): Promise<void> {
    const aborted = (): boolean => signal?.aborted === true;
    if (aborted()) return;
    const queued: TrialMessage[] = [];
    for (let i = 0; i < inputs.length; i++) {
      const id = trialId(inputs[i]!);
      const have = this.results.get(id);
      if (have !== undefined) {
        this.stats.reused++;
        onResult(i, have);
        continue;
      }
      this.waiting.set(id, (out) => onResult(i, out));
      queued.push({ job: this.job.id, id, input: inputs[i]! });
    }
    if (queued.length === 0) return;
    const done = new Promise<void>((resolve) => {
      this.wake = resolve;
    });
    const onAbort = (): void => this.wake?.();
    signal?.addEventListener('abort', onAbort);
    try {
      const deadline = monoMillis() + this.timeoutMs;
      await Promise.all(
        queued.map((t) =>
          retry(`queueing trial ${t.id}`, deadline, () =>
            // The message id makes a re-queued trial (resume within the duplicate window) one message.
            this.c.js.publish(trialSubject(this.job.id), encode(t), { msgID: `${t.job}.${t.id}` }),
          ),
        ),
      );
      // A search with no worker would wait silently: say what it waits for, once.
      const hint =
        this.stats.results === 0 && this.onIdle !== null
          ? setTimeout(() => this.onIdle?.(), IDLE_HINT_MS)
          : undefined;
      if (this.waiting.size > 0 && !aborted()) await done;
      clearTimeout(hint);
      if (this.failure !== null) {
        throw new Bot4Error(ErrorCode.TASK_FAILED, `cluster: ${this.failure.message}`);
      }
    } finally {
      signal?.removeEventListener('abort', onAbort);
      this.wake = null;
      if (aborted()) {
        this.waiting.clear();
        // Workers must not start what nobody waits for; a resumed run queues them again.
        await this.c.jsm.streams
          .purge(TRIALS_STREAM, { filter: trialSubject(this.job.id) })
          .catch(() => undefined);
      }
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.closeReader();
    await this.reader;
    await this.c.close();
    this.onClose?.(this.stats);
  }
}

/** `bot4 optimize`'s cluster options. */
export interface ClusterCliOptions {
  readonly cluster: string;
  readonly clusterReplicas: string;
  readonly clusterAckWait: string;
}

/** The queue settings from the command line; exit 2 naming a bad value. */
export function clusterOptions(o: ClusterCliOptions): ClusterExecutorOptions {
  const whole = (text: string, option: string, min: number, max: number): number => {
    const n = Number(text);
    if (!/^\d+$/.test(text.trim()) || n < min || n > max) {
      throw new Bot4Error(
        ErrorCode.INVALID_ARGUMENT,
        `${option} must be a whole number from ${min} to ${max}, got '${text}'`,
        { [option]: text },
      );
    }
    return n;
  };
  return {
    urls: parseClusterUrls(o.cluster),
    replicas: whole(o.clusterReplicas, '--cluster-replicas', 1, 5),
    ackWaitMs: whole(o.clusterAckWait, '--cluster-ack-wait', 1, 3600) * 1000,
    resultsMaxAgeMs: 30 * 86_400_000,
  };
}

/** One line for standard error at the end of a search: where its trials ran and what was redone. */
export function clusterSummary(s: ClusterStats): string {
  return `cluster: ${s.results} trials run by ${s.workers.size} worker process(es), ${s.reused} reused from the results stream, ${s.redelivered} redelivered, ${s.duplicates} duplicate results discarded`;
}

/** What optimize-command knows of the job; startClusterExecutor makes it path-independent. */
export interface JobParts {
  readonly id: string;
  readonly source: DataSource;
  readonly catalogDir: string;
  readonly from: number | undefined;
  readonly to: number | undefined;
  readonly fees: { readonly config: FeeConfig; readonly option: string | undefined };
  readonly fingerprint: string;
  readonly strategyIdentity: string;
  readonly setup: TrialSetup;
}

/** Connects, publishes the job and returns the executor; its summary goes to standard error on close. */
export async function startClusterExecutor(cli: ClusterCliOptions, p: JobParts): Promise<ClusterExecutor> {
  const { isCatalogQuery } = await import('../backtest/data-query.ts');
  const s = p.source;
  const { data: _data, ...setup } = p.setup;
  const job: OptimizeJob = {
    v: 1,
    id: p.id,
    source: {
      ...(s.data === undefined ? {} : { data: s.data.map((d) => (isCatalogQuery(d) ? d : resolve(d))) }),
      ...(s.demo === undefined ? {} : { demo: s.demo }),
      ...(s.bars === undefined ? {} : { bars: s.bars }),
      ...(s.strict === undefined ? {} : { strict: s.strict }),
    },
    catalogDir: p.catalogDir,
    ...(p.from === undefined ? {} : { from: p.from }),
    ...(p.to === undefined ? {} : { to: p.to }),
    fees: { config: p.fees.config, ...(p.fees.option === undefined ? {} : { option: p.fees.option }) },
    fingerprint: p.fingerprint,
    strategyIdentity: p.strategyIdentity,
    setup,
  };
  const ex = await ClusterExecutor.start(job, clusterOptions(cli));
  ex.onClose = (stats) => process.stderr.write(`${clusterSummary(stats)}\n`);
  ex.onIdle = () =>
    process.stderr.write(
      `\nno worker has taken a trial for ${IDLE_HINT_MS / 1000} s: start \`bot4 worker --cluster ${cli.cluster}\` on a machine that sees the data\n`,
    );
  return ex;
}
