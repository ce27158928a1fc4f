// The /metrics endpoint's own thread: it owns the HTTP server, so accepting connections, parsing requests,
// reading the engine's counters, gauges and HDR histograms from shared memory (SharedMetrics), reading RSS and
// /proc (`procFs`: process-wide, readable from any thread) and writing the Prometheus text format never run on
// the engine thread. Per scrape it asks the engine thread to publish (copy what lives in engine objects into
// shared slots); the answer carries the schema when a registration changed it, and the engine registry's
// values as JSON only when the owner put prom-client metrics there. Everything is formatted through
// prom-client's AggregatorRegistry, the library's path for metrics gathered in another thread or process. A
// scrape within `reuseMs` of the last publish, with no registration since, does not ask the engine thread at
// all (the control block and SharedMetrics' version cell say so, in shared memory). A scrape the engine thread
// does not answer within `answerMs` gets 503: a stuck engine shows as failed scrapes, not hung.

import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parentPort, workerData } from 'node:worker_threads';
import {
  CONTROL,
  type EngineMessage,
  formatScrape,
  type MetricsJson,
  notServed,
  PROBE_PATHS,
  processMillis,
  processWideRegistry,
  SharedReader,
  type WorkerMessage,
  type WorkerServerData,
} from './server.ts';

const port = parentPort!;
const data = workerData as WorkerServerData;
const { host, port: wantedPort, answerMs, procFs, metrics, reuseMs } = data;
const control = new Float64Array(data.control);
const version = data.version === undefined ? undefined : new Float64Array(data.version);
const own = processWideRegistry(procFs);
const reader = new SharedReader();
const pending = new Map<number, (m: EngineMessage) => void>();
let nextId = 1;

/** Whether what the engine thread last published may answer this scrape without asking it. */
function reusable(): boolean {
  return (
    version !== undefined &&
    reuseMs > 0 &&
    version[0] === reader.version &&
    control[CONTROL.REGISTRY_HAS_METRICS] === 0 &&
    processMillis() - control[CONTROL.PUBLISHED_AT_MS]! < reuseMs
  );
}

const server = createServer((req, res) => {
  const path = (req.url ?? '/').split('?')[0] ?? '/';
  const probe = req.method === 'GET' && PROBE_PATHS.includes(path);
  if (!probe && (req.method !== 'GET' || path !== '/metrics' || !metrics)) {
    res.writeHead(404, { 'content-type': 'text/plain' }).end(notServed(metrics));
    return;
  }
  if (!probe && reusable()) {
    format(res, undefined);
    return;
  }
  const id = nextId++;
  const timer = setTimeout(() => {
    pending.delete(id);
    res
      .writeHead(503, { 'content-type': 'text/plain' })
      .end(`the engine thread did not answer within ${answerMs} ms\n`);
  }, answerMs);
  pending.set(id, (m) => {
    clearTimeout(timer);
    if (m.type === 'answer') {
      res.writeHead(m.status, { 'content-type': 'text/plain' }).end(m.body);
    } else if (m.type === 'failed') {
      res.writeHead(500, { 'content-type': 'text/plain' }).end(`metrics collection failed: ${m.error}\n`);
    } else if (m.type === 'values') {
      format(res, m.json === undefined ? undefined : (JSON.parse(m.json) as MetricsJson));
    }
  });
  port.postMessage((probe ? { type: 'probe', id, path } : { type: 'collect', id }) satisfies WorkerMessage);
});
server.keepAliveTimeout = 5_000;

function format(res: ServerResponse, engine: MetricsJson | undefined): void {
  formatScrape(engine, [...reader.registries, ...own])
    .then(({ text, contentType }) => res.writeHead(200, { 'content-type': contentType }).end(text))
    .catch((e: unknown) =>
      res.writeHead(500, { 'content-type': 'text/plain' }).end(`formatting failed: ${e}\n`),
    );
}

port.on('message', (m: EngineMessage) => {
  if (m.type !== 'close') {
    // A schema counts even when its scrape already timed out: the next scrape's answer will not repeat it.
    if (m.type === 'values' && m.schema !== undefined) reader.update(m.schema);
    const answer = pending.get(m.id);
    pending.delete(m.id);
    answer?.(m);
  } else {
    server.closeAllConnections();
    server.close(() => port.close());
  }
});
server.once('error', (e: NodeJS.ErrnoException) =>
  port.postMessage({ type: 'error', code: e.code ?? '', message: e.message } satisfies WorkerMessage),
);
server.listen(wantedPort, host, () =>
  port.postMessage({
    type: 'listening',
    port: (server.address() as AddressInfo).port,
  } satisfies WorkerMessage),
);
