// The local exchange server's own figures for its /metrics endpoint (`bot4 exchange serve --metrics-port`):
// HTTP requests by method, route and status, request weight spent and the per-IP limit, open WebSocket
// connections by kind, and stream messages written. The server bumps plain fields and one map entry per
// request; collectors read them when scraped. Routes not served (404) and admin paths are folded into one
// label each, so a client probing paths cannot grow the series without bound. Units: counts, weight units.

import { Counter, Gauge, type Registry } from 'prom-client';
import type { RateLimits } from './limits.ts';
import type { StreamHub } from './streams.ts';
import type { WsApi } from './ws-api.ts';

export class ServerCounters {
  /** "METHOD route status" -> requests answered. */
  readonly requests = new Map<string, number>();
  /** The spot and USD-M stream hubs (connections and messages are their sums). */
  private readonly hubs: readonly StreamHub[];
  private readonly api: WsApi;
  private readonly limits: RateLimits;

  constructor(hubs: readonly StreamHub[], api: WsApi, limits: RateLimits) {
    this.hubs = hubs;
    this.api = api;
    this.limits = limits;
  }

  /** One answered HTTP request (called when the response finished). */
  request(method: string | undefined, url: string | undefined, status: number): void {
    const u = url ?? '/';
    const q = u.indexOf('?');
    const path = q < 0 ? u : u.slice(0, q);
    const route = path.startsWith('/admin/') ? '/admin' : status === 404 ? 'other' : path;
    const key = `${method ?? 'GET'} ${route} ${status}`;
    this.requests.set(key, (this.requests.get(key) ?? 0) + 1);
  }

  /** Registers the server's series in a node's registry (NodeMetrics adds process metrics beside them). */
  register(registry: Registry): void {
    const self = this;
    const registers = [registry];
    new Counter({
      name: 'bot4_exchange_http_requests_total',
      help: 'HTTP requests the local exchange server answered, by method, route and status (404s as route "other").',
      labelNames: ['method', 'route', 'status'],
      registers,
      collect() {
        this.reset();
        for (const [key, n] of self.requests) {
          const [method, route, status] = key.split(' ') as [string, string, string];
          this.inc({ method, route, status }, n);
        }
      },
    });
    new Counter({
      name: 'bot4_exchange_request_weight_total',
      help: 'Request weight charged to clients by the local exchange server, all IPs (Binance weight units).',
      registers,
      collect() {
        this.reset();
        this.inc(self.limits.weightSpent);
      },
    });
    new Gauge({
      name: 'bot4_exchange_request_weight_limit',
      help: 'Request weight per IP per minute the local exchange server allows (exchangeInfo REQUEST_WEIGHT).',
      registers,
      collect() {
        this.set(self.limits.weightPerMinute);
      },
    });
    new Gauge({
      name: 'bot4_exchange_connections',
      help: 'Open WebSocket connections to the local exchange server, by kind (stream, ws-api).',
      labelNames: ['kind'],
      registers,
      collect() {
        this.set(
          { kind: 'stream' },
          self.hubs.reduce((n, h) => n + h.conns.size, 0),
        );
        this.set({ kind: 'ws-api' }, self.api.conns.size);
      },
    });
    new Counter({
      name: 'bot4_exchange_stream_messages_sent_total',
      help: 'Market and user-data stream messages the local exchange server wrote to clients (after faults).',
      registers,
      collect() {
        this.reset();
        this.inc(self.hubs.reduce((n, h) => n + h.sentTotal, 0));
      },
    });
  }
}
