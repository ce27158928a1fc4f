// The `/metrics` endpoint: node:http serving a prom-client registry in Prometheus text format, bound to
// 127.0.0.1 unless told otherwise (metrics name instruments and positions). Each scrape's cost on this thread
// (collectors plus formatting) is recorded in ns into a latency stage, so the endpoint measures itself.
// The same server answers orchestrators' probes: `/healthz` (200 while the event loop runs) and `/readyz`
// (200 once the owner's readiness check passes, 503 with the reasons before that). Without a registry it
// serves only the probes (`--health-port`).

import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { monoNanos } from '../core/clock.ts';
import { Bot4Error, ErrorCode } from '../core/errors.ts';
import type { HdrHistogram } from './latency.ts';

/** A readiness verdict: ready, or the reasons it is not (one line each). */
export type Readiness = () => { ready: boolean; reasons: readonly string[] };

export interface MetricsServerOptions {
  /** Absent: only /healthz and /readyz are served. */
  registry?: Registry;
  /** TCP port; 0 picks a free one (tests). */
  port: number;
  /** Interface to bind; default 127.0.0.1. */
  host?: string;
  /** Where each scrape's main-thread cost goes, ns. */
  scrapeCost?: HdrHistogram;
}

export interface MetricsServer {
  readonly port: number;
  readonly host: string;
  /** http://host:port/metrics */
  readonly url: string;
  /** What /readyz asks; until set it answers 503 "starting". */
  setReadiness(check: Readiness | undefined): void;
  close(): Promise<void>;
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
  const { registry, scrapeCost } = options;
  let readiness: Readiness | undefined;
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'GET' && path === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
      return;
    }
    if (req.method === 'GET' && path === '/readyz') {
      let r: { ready: boolean; reasons: readonly string[] };
      try {
        r = readiness?.() ?? { ready: false, reasons: ['starting'] };
      } catch (e) {
        r = { ready: false, reasons: [`readiness check failed: ${(e as Error).message}`] };
      }
      res
        .writeHead(r.ready ? 200 : 503, { 'content-type': 'text/plain' })
        .end(r.ready ? 'ready\n' : `not ready: ${r.reasons.join('; ')}\n`);
      return;
    }
    if (req.method !== 'GET' || path !== '/metrics' || registry === undefined) {
      const served = registry === undefined ? '/healthz and /readyz' : '/metrics, /healthz and /readyz';
      res.writeHead(404, { 'content-type': 'text/plain' }).end(`only GET ${served} are served here\n`);
      return;
    }
    const t0 = monoNanos();
    registry.metrics().then(
      (text) => {
        scrapeCost?.record(monoNanos() - t0);
        res.writeHead(200, { 'content-type': registry.contentType }).end(text);
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
      reject(
        new Bot4Error(
          ErrorCode.INVALID_ARGUMENT,
          `cannot serve metrics on ${host}:${options.port}: ${e.code ?? e.message}` +
            (e.code === 'EADDRINUSE'
              ? ' (the port is taken; pick another --metrics-port, or 0 for a free one)'
              : ''),
          { host, port: options.port },
        ),
      ),
    );
    server.listen(options.port, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    host,
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}/metrics`,
    setReadiness: (check) => {
      readiness = check;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
