// Local exchange server benchmarks: an order's round trip on loopback (signed REST POST, and the WebSocket
// API's order.place) as a Binance client sees it, p50 and p99 in microseconds; and market-data fan-out,
// messages per second delivered to N subscribed WebSocket clients while the market runs as fast as it can.
// Client and server share this process (and its CPU), so the figures are an upper bound on the server's cost.

import { createHmac } from 'node:crypto';
import { Agent, request } from 'node:http';
import WebSocket from 'ws';
import { wsPayload } from '../src/venues/server/auth.ts';
import { type ExchangeServer, startExchangeServer } from '../src/venues/server/server.ts';
import { type BenchSpec, median, percentile, startProbe } from './harness.ts';

const KEY = 'benchkey';
const SECRET = 'benchsecret';

function server(): Promise<ExchangeServer> {
  return startExchangeServer({
    warmupMs: 60_000,
    // Spot only, as these figures were first measured (the USD-M demo market would double the feed's work).
    usdm: false,
    accounts: [{ apiKey: KEY, apiSecret: SECRET, balances: { BTC: 1000, ETH: 1000, USDT: 1e9 } }],
    // The bench sends far more than Binance's 100 orders per 10 s: lift the limits, keep their accounting.
    limits: { weightPerMinute: 1e9, ordersPer10s: 1e9, ordersPerDay: 1e9 },
    log: () => {},
  });
}

/** An IOC buy far below the market: the venue takes it, matches nothing and expires it; nothing rests. */
function orderParams(i: number): Record<string, string> {
  return {
    symbol: 'BTCUSDT',
    side: 'BUY',
    type: 'LIMIT',
    timeInForce: 'IOC',
    quantity: '0.01000',
    price: '1000.00',
    newClientOrderId: `bench${i}`,
    timestamp: String(Date.now()),
  };
}

function restOrder(port: number, agent: Agent, i: number): Promise<number> {
  const qs = new URLSearchParams(orderParams(i)).toString();
  const sig = createHmac('sha256', SECRET).update(qs).digest('hex');
  const path = `/api/v3/order?${qs}&signature=${sig}`;
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const req = request(
      { host: '127.0.0.1', port, path, method: 'POST', agent, headers: { 'X-MBX-APIKEY': KEY } },
      (res) => {
        res.resume();
        res.on('end', () => {
          if (res.statusCode !== 200) reject(new Error(`order answered ${res.statusCode}`));
          else resolve(Number(process.hrtime.bigint() - t0) / 1000);
        });
      },
    );
    req.on('error', reject);
    req.end();
  });
}

async function latencies(n: number, once: (i: number) => Promise<number>): Promise<Float64Array> {
  for (let i = 0; i < Math.min(200, n); i++) await once(-i - 1); // warm-up: JIT, sockets
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = await once(i);
  return out;
}

const roundtripRest: BenchSpec = {
  id: 'server.order.roundtrip_rest',
  title: 'local exchange: signed REST order (POST /api/v3/order, IOC) round trip on loopback, p50/p99',
  unit: 'µs',
  better: 'lower',
  target: null,
  async run(ctx) {
    const s = await server();
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const n = ctx.quick ? 300 : 3000;
      const probe = startProbe();
      const lat = await latencies(n, (i) => restOrder(s.port, agent, i));
      const main = await probe.finish(median(lat), percentile(lat, 99), n);
      return { main, extra: { orders: n } };
    } finally {
      agent.destroy();
      await s.close();
    }
  },
};

const roundtripWsApi: BenchSpec = {
  id: 'server.order.roundtrip_wsapi',
  title: 'local exchange: WebSocket API order.place (HMAC, IOC) round trip on loopback, p50/p99',
  unit: 'µs',
  better: 'lower',
  target: null,
  async run(ctx) {
    const s = await server();
    const ws = new WebSocket(`${s.wsUrl}/ws-api/v3`);
    try {
      await new Promise<void>((resolve, reject) => {
        ws.once('open', () => resolve());
        ws.once('error', reject);
      });
      let pending: ((t: number) => void) | null = null;
      let t0 = 0n;
      ws.on('message', (d) => {
        const t = Number(process.hrtime.bigint() - t0) / 1000;
        if (!String(d).includes('"status":200'))
          throw new Error(`order.place failed: ${String(d).slice(0, 200)}`);
        const p = pending;
        pending = null;
        p?.(t);
      });
      const once = (i: number): Promise<number> =>
        new Promise((resolve) => {
          const params: Record<string, string> = { ...orderParams(i), apiKey: KEY };
          params.signature = createHmac('sha256', SECRET).update(wsPayload(params)).digest('hex');
          pending = resolve;
          t0 = process.hrtime.bigint();
          ws.send(JSON.stringify({ id: i, method: 'order.place', params }));
        });
      const n = ctx.quick ? 300 : 3000;
      const probe = startProbe();
      const lat = await latencies(n, once);
      const main = await probe.finish(median(lat), percentile(lat, 99), n);
      return { main, extra: { orders: n } };
    } finally {
      ws.terminate();
      await s.close();
    }
  },
};

const fanout: BenchSpec = {
  id: 'server.md.fanout',
  title:
    'local exchange: market-data messages/s delivered to N WebSocket clients (trade, bookTicker, depth@100ms)',
  unit: 'msg/s',
  better: 'higher',
  target: null,
  async run(ctx) {
    const clients = ctx.quick ? 10 : 50;
    const seconds = ctx.quick ? 2 : 5;
    const s = await startExchangeServer({ speed: 'max', warmupMs: 0, usdm: false, log: () => {} });
    const socks: WebSocket[] = [];
    let received = 0;
    try {
      const streams = 'btcusdt@trade/btcusdt@bookTicker/btcusdt@depth@100ms/ethusdt@trade/ethusdt@bookTicker';
      for (let i = 0; i < clients; i++) {
        const ws = new WebSocket(`${s.wsUrl}/stream?streams=${streams}`);
        ws.on('message', () => {
          received++;
        });
        socks.push(ws);
        await new Promise<void>((resolve, reject) => {
          ws.once('open', () => resolve());
          ws.once('error', reject);
        });
      }
      const probe = startProbe();
      const rates: number[] = [];
      for (let sec = 0; sec < seconds; sec++) {
        const r0 = received;
        const end = Date.now() + 1000;
        // The market runs in 5 s steps (~200 events); each step's events go out before the next (the loop yields).
        while (Date.now() < end) {
          await s.advance(5000);
          await new Promise((r) => setImmediate(r));
        }
        rates.push(received - r0);
      }
      const main = await probe.finish(median(rates), null, seconds);
      return { main, extra: { clients, serverMessages: s.streams.messages } };
    } finally {
      for (const ws of socks) ws.terminate();
      await s.close();
    }
  },
};

export const benches: BenchSpec[] = [roundtripRest, roundtripWsApi, fanout];
