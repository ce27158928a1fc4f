// The `/metrics` endpoint: node:http serving a prom-client registry in Prometheus text format, bound to
// 127.0.0.1 unless told otherwise (metrics name instruments and positions). Each scrape's cost on this thread
// (collectors plus formatting) is recorded in ns into a latency stage, so the endpoint measures itself.

import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { monoNanos } from '../core/clock.ts';
import { Bot4Error, ErrorCode } from '../core/errors.ts';
import type { HdrHistogram } from './latency.ts';

export interface MetricsServerOptions {
  registry: Registry;
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
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' || path !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('only GET /metrics is served here\n');
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
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
