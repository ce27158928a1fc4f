// The NATS connection of the cluster commands, and the JetStream topology they share: the trials work queue,
// the results stream and the jobs bucket of distributed optimisation. Only cluster commands import this module
// (it loads the @nats-io clients): a single machine never does. Calls that JetStream may refuse while a cluster
// elects a leader (a server restarting) are retried until a deadline, then fail naming what they were doing.

import { setTimeout as sleep } from 'node:timers/promises';
import {
  AckPolicy,
  type JetStreamClient,
  type JetStreamManager,
  jetstream,
  jetstreamManager,
  RetentionPolicy,
  StorageType,
} from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { monoMillis } from '../core/clock.ts';
import { Bot4Error, ErrorCode } from '../core/errors.ts';

export const TRIALS_STREAM = 'BOT4_TRIALS';
export const RESULTS_STREAM = 'BOT4_RESULTS';
/** The durable pull consumer every worker shares: the work queue hands each trial to one of them. */
export const WORKERS_CONSUMER = 'bot4-workers';
export const JOBS_BUCKET = 'bot4_optimize_jobs';

export const trialSubject = (job: string): string => `bot4.trials.${job}`;
export const resultSubject = (job: string, trial: string): string => `bot4.results.${job}.${trial}`;

export interface Cluster {
  readonly nc: NatsConnection;
  readonly js: JetStreamClient;
  readonly jsm: JetStreamManager;
  readonly kvm: Kvm;
  close(): Promise<void>;
}

/** `nats://a:4222,nats://b:4222` (or bare host:port) as --cluster gives it; exit 2 on anything else. */
export function parseClusterUrls(text: string, option = '--cluster'): string[] {
  const urls = text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  for (const u of urls) {
    if (!/^(nats:\/\/)?[\w.-]+:\d{1,5}$/.test(u)) {
      throw new Bot4Error(
        ErrorCode.INVALID_ARGUMENT,
        `${option} '${u}' is not a NATS server URL (nats://host:port)`,
        { [option]: u },
      );
    }
  }
  if (urls.length === 0) throw new Bot4Error(ErrorCode.INVALID_ARGUMENT, `${option} is empty`);
  return urls;
}

/**
 * Connects and waits for JetStream (a cluster answers only once it has a meta leader). Reconnects forever
 * once connected: a restarting server is not a reason for a long search to stop.
 */
export async function openCluster(
  urls: readonly string[],
  name: string,
  timeoutMs = 30_000,
): Promise<Cluster> {
  const deadline = monoMillis() + timeoutMs;
  let nc: NatsConnection;
  try {
    nc = await connect({
      servers: [...urls],
      name,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 250,
      timeout: Math.min(timeoutMs, 10_000),
    });
  } catch (e) {
    throw new Bot4Error(
      ErrorCode.TASK_FAILED,
      `cannot connect to NATS at ${urls.join(',')}: ${(e as Error).message}`,
    );
  }
  const jsm = await retry(`JetStream at ${urls.join(',')}`, deadline, () => jetstreamManager(nc));
  const js = jetstream(nc);
  return { nc, js, jsm, kvm: new Kvm(js), close: () => nc.drain().catch(() => nc.close()) };
}

/** Runs `fn` until it succeeds or the deadline passes (then fails naming `what` and the last error). */
export async function retry<T>(what: string, deadline: number, fn: () => Promise<T>): Promise<T> {
  let wait = 50;
  for (;;) {
    try {
      return await fn();
    } catch (e) {
      if (monoMillis() + wait > deadline) {
        throw new Bot4Error(ErrorCode.TASK_FAILED, `${what}: ${(e as Error).message} (gave up retrying)`);
      }
      await sleep(wait);
      wait = Math.min(1000, wait * 2);
    }
  }
}

export interface QueueOptions {
  /** Copies of every stream (3 on a cluster of three or more: a server may stop without losing a trial). */
  readonly replicas: number;
  /** A trial not acknowledged (nor reported in progress) this long after delivery goes to another worker. */
  readonly ackWaitMs: number;
  /** Results older than this are dropped (the durable record of finished searches), ms. */
  readonly resultsMaxAgeMs: number;
}

/** Creates the streams, the workers' consumer and the jobs bucket when absent (an existing one is used as is). */
export async function ensureQueue(c: Cluster, o: QueueOptions, deadline: number): Promise<void> {
  const ms = 1_000_000; // JetStream durations are nanoseconds
  const addStream = async (
    name: string,
    cfg: Parameters<JetStreamManager['streams']['add']>[0],
  ): Promise<void> => {
    await retry(`creating stream ${name}`, deadline, async () => {
      try {
        await c.jsm.streams.info(name);
      } catch {
        await c.jsm.streams.add(cfg);
      }
    });
  };
  await addStream(TRIALS_STREAM, {
    name: TRIALS_STREAM,
    subjects: ['bot4.trials.>'],
    retention: RetentionPolicy.Workqueue,
    storage: StorageType.File,
    num_replicas: o.replicas,
    // A resumed coordinator publishes its round again: the same trial inside the window is stored once.
    duplicate_window: 120_000 * ms,
  });
  await addStream(RESULTS_STREAM, {
    name: RESULTS_STREAM,
    subjects: ['bot4.results.>'],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    num_replicas: o.replicas,
    // One result per trial subject: a redelivered trial's second result replaces the first (same content).
    max_msgs_per_subject: 1,
    max_age: o.resultsMaxAgeMs * ms,
    duplicate_window: 120_000 * ms,
    allow_direct: true,
  });
  await retry(`creating consumer ${WORKERS_CONSUMER}`, deadline, async () => {
    try {
      await c.jsm.consumers.info(TRIALS_STREAM, WORKERS_CONSUMER);
    } catch {
      await c.jsm.consumers.add(TRIALS_STREAM, {
        durable_name: WORKERS_CONSUMER,
        ack_policy: AckPolicy.Explicit,
        ack_wait: o.ackWaitMs * ms,
        max_deliver: -1,
        max_ack_pending: 10_000,
      });
    }
  });
  await retry(`creating bucket ${JOBS_BUCKET}`, deadline, () =>
    c.kvm.create(JOBS_BUCKET, { replicas: o.replicas, history: 1 }),
  );
}
