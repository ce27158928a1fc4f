// The /metrics endpoint's own thread: it owns the HTTP server, so accepting connections, parsing requests,
// reading /proc (`procFs`: process-wide, readable from any thread) and writing the Prometheus text format never
// run on the engine thread. Per scrape it asks the engine thread for its registry's values as one JSON string
// (those collectors read engine objects) and formats them with its own through prom-client's
// AggregatorRegistry, the library's path for metrics gathered in another thread or process. A scrape the
// engine thread does not answer within `answerMs` gets 503: a stuck engine shows as failed scrapes, not hung.

import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parentPort, workerData } from 'node:worker_threads';
import { AggregatorRegistry, type MetricObjectWithValues, type MetricValue, Registry } from 'prom-client';
import { registerProcFsMetrics } from './process-metrics.ts';
import {
  type EngineMessage,
  notServed,
  PROBE_PATHS,
  type WorkerMessage,
  type WorkerServerData,
} from './server.ts';

const port = parentPort!;
const { host, port: wantedPort, answerMs, procFs, metrics } = workerData as WorkerServerData;
const own = new Registry();
if (procFs) registerProcFsMetrics(own);
type Json = MetricObjectWithValues<MetricValue<string>>[];
const pending = new Map<number, (m: EngineMessage) => void>();
let nextId = 1;

const server = createServer((req, res) => {
  const path = (req.url ?? '/').split('?')[0] ?? '/';
  const probe = req.method === 'GET' && PROBE_PATHS.includes(path);
  if (!probe && (req.method !== 'GET' || path !== '/metrics' || !metrics)) {
    res.writeHead(404, { 'content-type': 'text/plain' }).end(notServed(metrics));
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
      const values = JSON.parse(m.json) as Json;
      own
        .getMetricsAsJSON()
        .then((mine) => {
          const registry = AggregatorRegistry.aggregate([values, mine]);
          return registry
            .metrics()
            .then((text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text));
        })
        .catch((e: unknown) =>
          res.writeHead(500, { 'content-type': 'text/plain' }).end(`formatting failed: ${e}\n`),
        );
    }
  });
  port.postMessage((probe ? { type: 'probe', id, path } : { type: 'collect', id }) satisfies WorkerMessage);
});
server.keepAliveTimeout = 5_000;

port.on('message', (m: EngineMessage) => {
  if (m.type !== 'close') {
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
