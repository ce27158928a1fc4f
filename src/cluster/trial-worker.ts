// `bot4 worker`'s loop: pulls trials from the JetStream work queue and runs them, each slot on its own
// one-thread pool (the job's data set is shared memory, loaded once per job and shared by every slot), so the
// main thread stays free for NATS (heartbeats, reconnects) while trials run.
//
// Invariants: a trial is acknowledged only after its result is stored (the results stream's PubAck), so a
// worker killed at any point leaves its trial to be redelivered after the ack wait; a running trial tells the
// server it is still in progress every third of the ack wait, so the wait can be short and trials long. A
// redelivered trial whose result is already stored is acknowledged without running again. A trial that
// crashes (a bug, not a refused parameter set) is reported to the coordinator, which stops as one machine
// would.

import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Consumer, JsMsg } from '@nats-io/jetstream';
import type { KV } from '@nats-io/kv';
import { PoolExecutor } from '../backtest/optimize/executor.ts';
import type { TrialOutput, TrialSetup } from '../backtest/optimize/trial.ts';
import { monoMillis } from '../core/clock.ts';
import type { ResultMessage, TrialMessage } from './cluster-executor.ts';
import { decode, encode } from './codec.ts';
import { loadJobSetup, type OptimizeJob } from './job.ts';
import {
  type Cluster,
  JOBS_BUCKET,
  openCluster,
  RESULTS_STREAM,
  resultSubject,
  retry,
  TRIALS_STREAM,
  WORKERS_CONSUMER,
} from './nats.ts';

export interface WorkerOptions {
  readonly urls: readonly string[];
  /** Trials run at once (one thread each). */
  readonly slots: number;
  readonly signal: AbortSignal;
  /** One line per event worth a log (job loaded, job refused, trial crashed); no newline. */
  readonly log: (line: string) => void;
  /** Log every trial started and stored too. */
  readonly verbose?: boolean;
  /** Deadline of each JetStream call, ms (retried through leader elections meanwhile). */
  readonly timeoutMs?: number;
}

export interface WorkerStats {
  ran: number;
  /** Trials this worker got after another delivery went unacknowledged. */
  redelivered: number;
  /** Redelivered trials whose result was already stored: acknowledged, not run. */
  alreadyDone: number;
  /** Results the stream had already (PubAck duplicate): discarded by JetStream. */
  duplicates: number;
}

export const WORKER_NAME = `${hostname()}:${process.pid}`;

export async function runWorker(o: WorkerOptions): Promise<WorkerStats> {
  const timeoutMs = o.timeoutMs ?? 30_000;
  const c = await openCluster(o.urls, `bot4-worker ${WORKER_NAME}`, timeoutMs);
  const stats: WorkerStats = { ran: 0, redelivered: 0, alreadyDone: 0, duplicates: 0 };
  try {
    const consumer = await waitForQueue(c, o);
    if (consumer === null) return stats;
    const ackWaitMs = ((await consumer.info()).config.ack_wait ?? 30e9) / 1e6;
    const kv = await retry(`opening bucket ${JOBS_BUCKET}`, monoMillis() + timeoutMs, () =>
      c.kvm.open(JOBS_BUCKET),
    );
    const jobs = new JobCache(kv, o.log);
    const slots = Array.from(
      { length: o.slots },
      () => new Slot(c, consumer, jobs, ackWaitMs, timeoutMs, o, stats),
    );
    await Promise.all(slots.map((s) => s.loop()));
    await Promise.all(slots.map((s) => s.close()));
  } finally {
    await c.close();
  }
  return stats;
}

/** The workers' consumer, once a coordinator has created it; null when stopped before. */
async function waitForQueue(c: Cluster, o: WorkerOptions): Promise<Consumer | null> {
  let said = false;
  while (!o.signal.aborted) {
    try {
      return await c.js.consumers.get(TRIALS_STREAM, WORKERS_CONSUMER);
    } catch {
      if (!said) o.log(`waiting for a coordinator to create the trials queue (${TRIALS_STREAM})`);
      said = true;
      await sleep(500);
    }
  }
  return null;
}

/** Jobs' set-ups by id, each loaded once; the last two are kept (a new search replaces an old one). */
class JobCache {
  private readonly kv: KV;
  private readonly log: (line: string) => void;
  private readonly setups = new Map<string, Promise<TrialSetup>>();

  constructor(kv: KV, log: (line: string) => void) {
    this.kv = kv;
    this.log = log;
  }

  get(id: string): Promise<TrialSetup> {
    let p = this.setups.get(id);
    if (p === undefined) {
      p = this.load(id);
      this.setups.set(id, p);
      // A failed load is retried on the next trial of the job (the shared path may be mounted meanwhile).
      p.catch(() => this.setups.delete(id));
      while (this.setups.size > 2) this.setups.delete(this.setups.keys().next().value!);
    }
    return p;
  }

  private async load(id: string): Promise<TrialSetup> {
    const entry = await this.kv.get(id);
    if (entry === null || entry.length === 0) throw new Error(`job ${id} is not in bucket ${JOBS_BUCKET}`);
    const job = decode<OptimizeJob>(entry.string());
    const t0 = monoMillis();
    const { setup, notes } = await loadJobSetup(job);
    for (const n of notes) this.log(`job ${id}: ${n}`);
    this.log(
      `job ${id}: ${setup.data.length.toLocaleString('en-US')} events of ${setup.data.label} loaded in ${((monoMillis() - t0) / 1000).toFixed(2)} s`,
    );
    return setup;
  }
}

class Slot {
  private executor: { job: string; ex: PoolExecutor } | null = null;
  private readonly c: Cluster;
  private readonly consumer: Consumer;
  private readonly jobs: JobCache;
  private readonly ackWaitMs: number;
  private readonly timeoutMs: number;
  private readonly o: WorkerOptions;
  private readonly stats: WorkerStats;

  constructor(
    c: Cluster,
    consumer: Consumer,
    jobs: JobCache,
    ackWaitMs: number,
    timeoutMs: number,
    o: WorkerOptions,
    stats: WorkerStats,
  ) {
    this.c = c;
    this.consumer = consumer;
    this.jobs = jobs;
    this.ackWaitMs = ackWaitMs;
    this.timeoutMs = timeoutMs;
    this.o = o;
    this.stats = stats;
  }

  async loop(): Promise<void> {
    while (!this.o.signal.aborted) {
      let m: JsMsg | null;
      try {
        m = await this.consumer.next({ expires: 2000 });
      } catch {
        // No responders or a timeout while a server restarts: the client reconnects; ask again shortly.
        await sleep(250);
        continue;
      }
      if (m !== null) await this.handle(m);
    }
  }

  private async handle(m: JsMsg): Promise<void> {
    const t = decode<TrialMessage>(m.string());
    const heartbeat = setInterval(() => m.working(), Math.max(100, this.ackWaitMs / 3));
    try {
      if (m.info.deliveryCount > 1) {
        this.stats.redelivered++;
        const stored = await this.c.jsm.direct
          .getMessage(RESULTS_STREAM, { last_by_subj: resultSubject(t.job, t.id) })
          .catch(() => null);
        if (stored !== null) {
          this.stats.alreadyDone++;
          await m.ackAck().catch(() => false);
          return;
        }
      }
      let setup: TrialSetup;
      try {
        setup = await this.jobs.get(t.job);
      } catch (e) {
        this.o.log(`job ${t.job}: ${(e as Error).message}; its trials are left to other workers`);
        m.nak(5000);
        return;
      }
      if (this.o.verbose === true) this.o.log(`trial ${t.id} started (delivery ${m.info.deliveryCount})`);
      let out: TrialOutput | null = null;
      let fatal: string | null = null;
      try {
        const ex = await this.executorFor(t.job, setup);
        await ex.run([t.input], (_, r) => {
          out = r;
        });
      } catch (e) {
        fatal = (e as Error).message;
        this.o.log(`job ${t.job}: trial ${t.id} crashed: ${fatal}`);
      }
      const result: ResultMessage = {
        id: t.id,
        out: out ?? { stats: null, error: fatal, events: 0, wallMs: 0, fingerprint: '', curve: null },
        worker: WORKER_NAME,
        deliveries: m.info.deliveryCount,
        ...(fatal === null ? {} : { fatal }),
      };
      let stored = false;
      try {
        const ack = await retry(`storing the result of trial ${t.id}`, monoMillis() + this.timeoutMs, () =>
          this.c.js.publish(resultSubject(t.job, t.id), encode(result), {
            msgID: `${t.job}.${t.id}`,
          }),
        );
        if (ack.duplicate) this.stats.duplicates++;
        stored = true;
      } catch (e) {
        this.o.log(`${(e as Error).message}; the trial will be redelivered`);
      }
      if (!stored) return;
      this.stats.ran++;
      if (this.o.verbose === true) this.o.log(`trial ${t.id} stored`);
      // A lost acknowledgement only means a redelivery, which finds the stored result.
      await m.ackAck().catch(() => false);
    } finally {
      clearInterval(heartbeat);
    }
  }

  private async executorFor(job: string, setup: TrialSetup): Promise<PoolExecutor> {
    if (this.executor?.job === job) return this.executor.ex;
    await this.executor?.ex.close();
    this.executor = null;
    const ex = await PoolExecutor.start(setup, 1);
    this.executor = { job, ex };
    return ex;
  }

  async close(): Promise<void> {
    await this.executor?.ex.close();
    this.executor = null;
  }
}
