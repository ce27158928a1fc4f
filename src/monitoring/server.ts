// The `/metrics` endpoint: Prometheus text format over node:http, bound to 127.0.0.1 unless told otherwise
// (metrics name instruments and positions). What it serves: a SharedMetrics set (counters, gauges and HDR
// stages in shared memory, read by whichever thread formats), the process-wide series (RSS, /proc) read by that
// same thread, and any prom-client registry the owner adds to (its collectors run on the engine thread; an
// empty registry costs nothing). By default the HTTP server and the formatting run on a worker thread
// (metrics-server.worker.ts): per scrape the engine thread only runs SharedMetrics.publish() (plain stores)
// and posts a small message, plus the schema when a registration changed it (`monitoring.scrape.full`
// measures this against serving here). `inThread: true` keeps everything here (one thread fewer; tests and
// tools). Each scrape's cost on this thread is recorded in ns into a latency stage, so the endpoint measures
// itself. The same server answers orchestrators' probes, from this thread in both modes (a stuck engine thread
// must not look alive): `/healthz` (200 while its event loop runs) and `/readyz` (200 once the owner's
// readiness check passes, 503 with the reasons before that). Without metrics it serves only the probes
// (`--health-port`).

import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Worker } from 'node:worker_threads';
import { AggregatorRegistry, type MetricObjectWithValues, type MetricValue, Registry } from 'prom-client';
import { monoNanos, monoNanosBig } from '../core/clock.ts';
import { Bot4Error, ErrorCode } from '../core/errors.ts';
import { siblingModule, startWorker } from '../core/worker.ts';
import type { HdrHistogram } from './latency.ts';
import { registerProcessWideMetrics } from './process-metrics.ts';
import { type SharedMetrics, type SharedSchema, sharedArray, sharedRegistry } from './shared-metrics.ts';

/** A readiness verdict: ready, or the reasons it is not (one line each). */
export type Readiness = () => { ready: boolean; reasons: readonly string[] };

export interface MetricsServerOptions {
  /** prom-client metrics whose collectors run on the engine thread (an owner's own; may be empty). */
  registry?: Registry;
  /** Metrics in shared memory, formatted by the serving thread. Neither this nor registry: only the probes. */
  shared?: SharedMetrics;
  /** TCP port; 0 picks a free one (tests). */
  port: number;
  /** Interface to bind; default 127.0.0.1. */
  host?: string;
  /** Where each scrape's main-thread cost goes, ns. */
  scrapeCost?: HdrHistogram;
  /** Serve and format on this thread instead of a worker (default false). */
  inThread?: boolean;
  /** Worker mode: a scrape the engine thread has not answered within this many ms gets 503 (default 10 s). */
  answerMs?: number;
  /**
   * Worker mode with `shared`: a scrape within this many ms of the engine thread's last publish, with no
   * registration since and nothing in `registry`, is served from what was published then without waking the
   * engine thread (default 100; 0 asks every time). Counters the hot path bumps are read live either way;
   * HDR totals, portfolio figures and heap statistics are at most this old. Coalesces back-to-back scrapes.
   */
  reuseMs?: number;
  /** Serve the process-wide series (RSS, /proc: registerProcessWideMetrics), read by the serving thread. */
  procFs?: boolean;
}

/** What the worker is started with. */
export interface WorkerServerData {
  host: string;
  port: number;
  answerMs: number;
  procFs: boolean;
  /** Whether /metrics is served (a registry was given). */
  metrics: boolean;
  reuseMs: number;
  /** Float64 slots CONTROL.* the engine thread writes after each publish. */
  control: SharedArrayBuffer;
  /** SharedMetrics.versionCell's buffer, when there is a shared set. */
  version: SharedArrayBuffer | undefined;
}

/** Slots of the control block: when the engine thread last published, and whether its registry has metrics. */
export const CONTROL = { PUBLISHED_AT_MS: 0, REGISTRY_HAS_METRICS: 1, LENGTH: 2 } as const;

/** Milliseconds on a clock every thread of the process shares (the performance clock is per thread). */
export function processMillis(): number {
  return Number(monoNanosBig()) / 1e6;
}
/** Worker -> engine thread. */
export type WorkerMessage =
  | { type: 'listening'; port: number }
  | { type: 'error'; code: string; message: string }
  | { type: 'collect'; id: number }
  | { type: 'probe'; id: number; path: string };
/** Engine thread -> worker. */
export type EngineMessage =
  /** `json`: the engine registry's values, when it has any; `schema`: when it changed since the last one sent. */
  | { type: 'values'; id: number; json: string | undefined; schema: SharedSchema | undefined }
  | { type: 'failed'; id: number; error: string }
  | { type: 'answer'; id: number; status: number; body: string }
  | { type: 'close' };

export interface MetricsServer {
  readonly port: number;
  readonly host: string;
  /** http://host:port/metrics */
  readonly url: string;
  /** What /readyz asks; until set it answers 503 "starting". */
  setReadiness(check: Readiness | undefined): void;
  close(): Promise<void>;
}

/** The probe paths, answered on the engine thread. */
export const PROBE_PATHS: readonly string[] = ['/healthz', '/readyz'];

function probeAnswer(path: string, readiness: Readiness | undefined): { status: number; body: string } {
  if (path === '/healthz') return { status: 200, body: 'ok\n' };
  let r: { ready: boolean; reasons: readonly string[] };
  try {
    r = readiness?.() ?? { ready: false, reasons: ['starting'] };
  } catch (e) {
    r = { ready: false, reasons: [`readiness check failed: ${(e as Error).message}`] };
  }
  return r.ready
    ? { status: 200, body: 'ready\n' }
    : { status: 503, body: `not ready: ${r.reasons.join('; ')}\n` };
}

/** The 404 text: what this server does serve. */
export function notServed(metrics: boolean): string {
  return `only GET ${metrics ? '/metrics, /healthz and /readyz are' : '/healthz and /readyz are'} served here\n`;
}

export type MetricsJson = MetricObjectWithValues<MetricValue<string>>[];

/** One scrape's text: the engine registry's values (when it has any) and the serving thread's registries. */
export async function formatScrape(
  engine: MetricsJson | undefined,
  local: readonly Registry[],
): Promise<{ text: string; contentType: string }> {
  if (engine === undefined) {
    // All collectors are on this thread: format them in place (the JSON round trip cost as much again).
    const registry = local.length === 0 ? new Registry() : Registry.merge([...local]);
    return { text: await registry.metrics(), contentType: registry.contentType };
  }
  const parts = await Promise.all(local.map((r) => r.getMetricsAsJSON()));
  const registry = AggregatorRegistry.aggregate([engine, ...parts]);
  return { text: await registry.metrics(), contentType: registry.contentType };
}

/** The serving thread's registry of process-wide series, or none. */
export function processWideRegistry(procFs: boolean): Registry[] {
  if (!procFs) return [];
  const r = new Registry();
  registerProcessWideMetrics(r);
  return [r];
}

/** A reader registry kept in step with a schema: rebuilt only when the schema's version changes. */
export class SharedReader {
  version = -1;
  private registry: Registry | undefined;
  update(schema: SharedSchema): void {
    if (schema.version === this.version) return;
    this.registry = sharedRegistry(schema);
    this.version = schema.version;
  }
  get registries(): Registry[] {
    return this.registry === undefined ? [] : [this.registry];
  }
}

/** Whether a registry has metrics of its own (an empty one costs the engine thread nothing per scrape). */
function hasMetrics(registry: Registry | undefined): registry is Registry {
  return registry !== undefined && registry.getMetricsAsArray().length > 0;
}

/** Checks a --metrics-port value: an integer 0..65535 (exit code 2 otherwise, naming the option). */
export function parseMetricsPort(text: string, option = '--metrics-port'): number {
  const port = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isInteger(port) || port > 65535) {
    throw new Bot4Error(
      ErrorCode.INVALID_ARGUMENT,
      `${option} '${text}' must be a port number from 0 to 65535`,
      {
        option,
        value: text,
      },
    );
  }
  return port;
}

export async function startMetricsServer(options: MetricsServerOptions): Promise<MetricsServer> {
  const host = options.host ?? '127.0.0.1';
  const probes: Probes = { readiness: undefined };
  const port =
    options.inThread === true
      ? await serveInThread(options, host, probes)
      : await serveFromWorker(options, host, probes);
  return {
    port: port.port,
    host,
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port.port}/metrics`,
    setReadiness: (check) => {
      probes.readiness = check;
    },
    close: port.close,
  };
}

interface Probes {
  readiness: Readiness | undefined;
}

function bindError(host: string, port: number, code: string): Bot4Error {
  return new Bot4Error(
    ErrorCode.INVALID_ARGUMENT,
    `cannot serve metrics on ${host}:${port}: ${code}` +
      (code === 'EADDRINUSE' ? ' (the port is taken; pick another --metrics-port, or 0 for a free one)' : ''),
    { host, port },
  );
}

interface Bound {
  port: number;
  close: () => Promise<void>;
}

async function serveFromWorker(options: MetricsServerOptions, host: string, probes: Probes): Promise<Bound> {
  const { registry, shared, scrapeCost } = options;
  const control = sharedArray(CONTROL.LENGTH);
  const data: WorkerServerData = {
    host,
    port: options.port,
    answerMs: options.answerMs ?? 10_000,
    procFs: options.procFs ?? false,
    metrics: registry !== undefined || shared !== undefined,
    reuseMs: options.reuseMs ?? 100,
    control: control.buffer as SharedArrayBuffer,
    version: shared?.versionCell.buffer as SharedArrayBuffer | undefined,
  };
  const worker: Worker = startWorker(siblingModule(import.meta.url, 'metrics-server.worker'), {
    workerData: data,
    name: 'bot4-metrics',
  });
  let sentVersion = -1;
  const fail = (id: number, e: unknown) =>
    worker.postMessage({ type: 'failed', id, error: String(e) } satisfies EngineMessage);
  const collect = (id: number): void => {
    const t0 = monoNanos();
    let schema: SharedSchema | undefined;
    try {
      if (shared !== undefined) {
        shared.publish();
        if (shared.version !== sentVersion) {
          schema = shared.schema();
          sentVersion = shared.version;
        }
      }
    } catch (e) {
      fail(id, e);
      return;
    }
    const send = (json: string | undefined): void => {
      worker.postMessage({ type: 'values', id, json, schema } satisfies EngineMessage);
      control[CONTROL.PUBLISHED_AT_MS] = processMillis();
      scrapeCost?.record(monoNanos() - t0);
    };
    const own = hasMetrics(registry);
    control[CONTROL.REGISTRY_HAS_METRICS] = own ? 1 : 0;
    if (!own) {
      send(undefined);
      return;
    }
    // A string crosses threads as one copy; structured-cloning the objects cost ~8x JSON.stringify.
    registry.getMetricsAsJSON().then(
      (values) => send(JSON.stringify(values)),
      (e: unknown) => fail(id, e),
    );
  };
  const port = await new Promise<number>((resolve, reject) => {
    worker.on('message', (m: WorkerMessage) => {
      if (m.type === 'collect') collect(m.id);
      else if (m.type === 'probe')
        worker.postMessage({
          type: 'answer',
          id: m.id,
          ...probeAnswer(m.path, probes.readiness),
        } satisfies EngineMessage);
      else if (m.type === 'listening') resolve(m.port);
      else reject(bindError(host, options.port, m.code || m.message));
    });
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`the metrics worker exited (${code}) before listening`)));
  }).catch(async (e: unknown) => {
    await worker.terminate();
    throw e;
  });
  // The endpoint must not keep a finished command alive; close() ends it when asked.
  worker.unref();
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        const timer = setTimeout(() => void worker.terminate().then(() => resolve()), 2_000);
        worker.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
        worker.postMessage({ type: 'close' } satisfies EngineMessage);
      }),
  };
}

async function serveInThread(options: MetricsServerOptions, host: string, probes: Probes): Promise<Bound> {
  const { registry, shared, scrapeCost } = options;
  const metrics = registry !== undefined || shared !== undefined;
  const local = processWideRegistry(options.procFs ?? false);
  const reader = new SharedReader();
  const scrape = async (): Promise<{ text: string; contentType: string }> => {
    if (shared !== undefined) {
      shared.publish();
      if (shared.version !== reader.version) reader.update(shared.schema());
    }
    const engine = hasMetrics(registry) ? ((await registry.getMetricsAsJSON()) as MetricsJson) : undefined;
    return formatScrape(engine, [...reader.registries, ...local]);
  };
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    if (req.method === 'GET' && PROBE_PATHS.includes(path)) {
      const a = probeAnswer(path, probes.readiness);
      res.writeHead(a.status, { 'content-type': 'text/plain' }).end(a.body);
      return;
    }
    if (req.method !== 'GET' || path !== '/metrics' || !metrics) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end(notServed(metrics));
      return;
    }
    const t0 = monoNanos();
    scrape().then(
      ({ text, contentType }) => {
        scrapeCost?.record(monoNanos() - t0);
        res.writeHead(200, { 'content-type': contentType }).end(text);
      },
      (e: unknown) => {
        res.writeHead(500, { 'content-type': 'text/plain' }).end(`metrics collection failed: ${String(e)}\n`);
      },
    );
  });
  // A scraper that keeps its connection alive must not hold the process open at shutdown.
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) =>
      reject(bindError(host, options.port, e.code ?? e.message)),
    );
    server.listen(options.port, host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
