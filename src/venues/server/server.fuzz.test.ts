// Fuzzing the local exchange server through real HTTP and WebSocket on a port-0 loopback server: REST requests
// on every route (read from the spot and USD-M route tables) with mutated query strings, correctly signed with the test
// account's key so the fuzz reaches past authentication into the order handlers; WebSocket API requests and
// market-stream control messages mutated from valid ones, plus arbitrary JSON. A crash is a 5xx, a dropped or
// closed connection, no reply within 5 s (a hang), or an "internal error" line in the server's log; refusals
// with Binance's 4xx codes are the documented rejects.

import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { FuzzTally, fuzzParams, mutatedText } from '../../core/fuzz.test-util.ts';
import { wsPayload } from './auth.ts';
import { type ExchangeServer, startExchangeServer } from './server.ts';
import { type Signer, signPayload } from './test-client.ts';

const KEY: Signer = { apiKey: 'fuzzkey', secret: 'fuzzsecret' };
const ROUTES = ['./rest.ts', './futures-rest.ts'].flatMap((file) =>
  [
    ...readFileSync(new URL(file, import.meta.url), 'utf8').matchAll(
      /'(GET|POST|PUT|DELETE) (\/(?:api|fapi)\/[^']+)'/g,
    ),
  ].map((m) => ({ method: m[1]!, path: m[2]! })),
);

/** Valid-looking parameter sets the routes read; mutations start from these. */
const QUERY_SEEDS = [
  'symbol=BTCUSDT&limit=10',
  'symbols=["BTCUSDT","ETHUSDT"]',
  'symbol=BTCUSDT&interval=1m&startTime=1700000000000&endTime=1700000600000&limit=5',
  'symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.00100&price=50000.00&newClientOrderId=fz1',
  'symbol=BTCUSDT&side=SELL&type=MARKET&quantity=0.001&newOrderRespType=FULL',
  'symbol=ETHUSDT&side=BUY&type=MARKET&quoteOrderQty=100',
  'symbol=BTCUSDT&side=BUY&type=LIMIT_MAKER&quantity=0.001&price=1000.00',
  'symbol=BTCUSDT&side=SELL&type=STOP_LOSS_LIMIT&timeInForce=GTC&quantity=0.001&price=40000&stopPrice=41000',
  'symbol=BTCUSDT&orderId=1',
  'symbol=BTCUSDT&origClientOrderId=fz1',
  'symbol=BTCUSDT&cancelReplaceMode=STOP_ON_FAILURE&cancelOrderId=1&side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.001&price=50000',
  'symbol=BTCUSDT&fromId=0&limit=100&recvWindow=5000',
  'listenKey=abc',
  'symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTX&quantity=0.010&price=50000.0&reduceOnly=false',
  'symbol=BTCUSDT&side=SELL&type=MARKET&quantity=0.005&reduceOnly=true&newClientOrderId=fz2',
  'symbol=ETHUSDT&side=BUY&type=STOP_MARKET&quantity=1.000&stopPrice=4000',
  'symbol=BTCUSDT&leverage=125',
];

const WS_SEEDS = [
  '{"id":1,"method":"ping"}',
  '{"id":"a","method":"time"}',
  '{"id":2,"method":"exchangeInfo","params":{"symbols":["BTCUSDT"]}}',
  '{"id":3,"method":"depth","params":{"symbol":"BTCUSDT","limit":5}}',
  '{"id":4,"method":"ticker.book","params":{"symbol":"ETHUSDT"}}',
  '{"id":5,"method":"ticker.24hr","params":{"symbols":["BTCUSDT"]}}',
  '{"id":6,"method":"order.place","params":{"symbol":"BTCUSDT","side":"BUY","type":"LIMIT","timeInForce":"GTC","quantity":"0.001","price":"50000"}}',
  '{"id":7,"method":"order.cancel","params":{"symbol":"BTCUSDT","orderId":1}}',
  '{"id":8,"method":"order.status","params":{"symbol":"BTCUSDT","origClientOrderId":"x"}}',
  '{"id":9,"method":"openOrders.status","params":{"symbol":"BTCUSDT"}}',
  '{"id":10,"method":"account.status","params":{}}',
  '{"id":11,"method":"order.cancelReplace","params":{"symbol":"BTCUSDT","cancelReplaceMode":"ALLOW_FAILURE","cancelOrderId":1,"side":"SELL","type":"MARKET","quantity":"0.001"}}',
  '{"id":12,"method":"session.status"}',
];

const STREAM_SEEDS = [
  '{"method":"SUBSCRIBE","params":["btcusdt@trade","ethusdt@bookTicker"],"id":1}',
  '{"method":"UNSUBSCRIBE","params":["btcusdt@depth@100ms"],"id":2}',
  '{"method":"LIST_SUBSCRIPTIONS","id":3}',
];

let server: ExchangeServer;
const internal: string[] = [];

beforeAll(async () => {
  server = await startExchangeServer({
    accounts: [{ apiKey: KEY.apiKey, apiSecret: KEY.secret! }],
    // Limits high enough that the fuzz reaches the handlers instead of the rate governor.
    limits: { weightPerMinute: 1e9, ordersPer10s: 1e9, ordersPerDay: 1e9 },
    warmupMs: 60_000,
    log: (line) => {
      if (/internal error/i.test(line)) internal.push(line);
    },
  });
});
afterAll(async () => {
  await server?.close();
});

/** Adds apiKey, timestamp and a valid signature to a WebSocket API request whose params are an object. */
function signWs(text: string): string {
  let msg: unknown;
  try {
    msg = JSON.parse(text);
  } catch {
    return text;
  }
  if (typeof msg !== 'object' || msg === null || Array.isArray(msg)) return text;
  const m = msg as { params?: unknown };
  if (typeof m.params !== 'object' || m.params === null || Array.isArray(m.params)) return text;
  const p = { ...(m.params as Record<string, unknown>), apiKey: KEY.apiKey, timestamp: Date.now() };
  return JSON.stringify({ ...m, params: { ...p, signature: signPayload(KEY, wsPayload(p)) } });
}

/**
 * A WebSocket that answers each message with exactly one reply frame (`isReply` tells replies from pushed
 * market data); a crash is a close or no answer within 5 s.
 */
async function openWs(
  url: string,
  isReply: (frame: string) => boolean = () => true,
): Promise<{ ws: WebSocket; ask: (text: string) => Promise<string> }> {
  const ws = new WebSocket(url);
  const frames: string[] = [];
  let closed = '';
  ws.on('message', (d) => {
    const t = String(d);
    if (isReply(t)) frames.push(t);
  });
  ws.on('close', (code) => {
    closed = `closed by the server (code ${code})`;
  });
  ws.on('error', (e) => {
    closed = `error ${e.message}`;
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    setTimeout(() => reject(new Error(`WebSocket ${url} did not open within 5 s`)), 5000).unref();
  });
  const ask = async (text: string): Promise<string> => {
    const n = frames.length;
    ws.send(text);
    const end = Date.now() + 5000;
    while (frames.length === n) {
      if (closed !== '') throw new Error(`connection ${closed}`);
      if (Date.now() > end) throw new Error('no reply within 5 s');
      await new Promise((r) => setTimeout(r, 1));
    }
    return frames.at(-1)!;
  };
  return { ws, ask };
}

describe('local exchange server fuzz (real HTTP and WebSocket on loopback)', () => {
  it('REST: every route, mutated and signed parameters: no 5xx, no dropped connection', async () => {
    expect(ROUTES.length).toBeGreaterThan(10);
    const tally = new FuzzTally('server REST');
    const statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(
        fc.nat({ max: ROUTES.length - 1 }),
        fc.oneof({ weight: 6, arbitrary: mutatedText(QUERY_SEEDS) }, fc.string({ maxLength: 80 })),
        fc.boolean(),
        fc.boolean(),
        async (r, query, signed, inBody) => {
          const { method, path } = ROUTES[r]!;
          let qs = signed ? `${query}&timestamp=${Date.now()}` : query;
          if (signed) qs += `&signature=${signPayload(KEY, qs)}`;
          const viaBody = inBody && method !== 'GET';
          const url = `${server.url}${path}${viaBody ? '' : `?${qs}`}`;
          await tally.checkAsync(
            async () => {
              const res = await fetch(url, {
                method,
                headers: {
                  'X-MBX-APIKEY': KEY.apiKey,
                  ...(viaBody ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
                },
                ...(viaBody ? { body: qs } : {}),
                signal: AbortSignal.timeout(5000),
              });
              const text = await res.text();
              statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
              if (res.status >= 500) throw new Error(`${res.status} ${text}`);
              JSON.parse(text);
            },
            () => `${method} ${path} ${viaBody ? 'body' : 'query'} ${qs}`,
          );
        },
      ),
      fuzzParams(400),
    );
    tally.report();
    process.stderr.write(`  statuses: ${[...statuses].map(([k, v]) => `${k} ${v}`).join(', ')}\n`);
    expect(tally.crashes).toEqual([]);
    expect(internal).toEqual([]);
    // Signed, intact requests must reach the handlers: some answers are 200.
    expect(statuses.get(200) ?? 0).toBeGreaterThan(0);
  });

  it('WebSocket API: mutated (signed) requests and arbitrary JSON: one reply each, no 5xx, no close', async () => {
    const { ws, ask } = await openWs(`${server.wsUrl}/ws-api/v3`);
    const tally = new FuzzTally('server WebSocket API');
    try {
      await fc.assert(
        fc.asyncProperty(
          fc.oneof(
            { weight: 6, arbitrary: mutatedText(WS_SEEDS).map(signWs) },
            { weight: 2, arbitrary: mutatedText(WS_SEEDS) },
            { weight: 1, arbitrary: fc.jsonValue().map((v) => JSON.stringify(v)) },
          ),
          async (text) => {
            await tally.checkAsync(
              async () => {
                const reply = JSON.parse(await ask(text)) as { status?: number };
                if (typeof reply.status !== 'number' || reply.status >= 500) {
                  throw new Error(`reply ${JSON.stringify(reply).slice(0, 200)}`);
                }
              },
              () => text,
            );
          },
        ),
        fuzzParams(400),
      );
    } finally {
      ws.terminate();
    }
    tally.report();
    expect(tally.crashes).toEqual([]);
    expect(internal).toEqual([]);
  });

  it('market streams: mutated control messages and arbitrary JSON: one reply each, no close', async () => {
    // Market data frames arrive too; replies to control messages are the frames with an "id".
    const { ws, ask } = await openWs(`${server.wsUrl}/ws`, (t) => t.includes('"id":'));
    const tally = new FuzzTally('server market-stream control');
    try {
      await fc.assert(
        fc.asyncProperty(
          fc.oneof(
            { weight: 6, arbitrary: mutatedText(STREAM_SEEDS) },
            { weight: 1, arbitrary: fc.jsonValue().map((v) => JSON.stringify(v)) },
          ),
          async (text) => {
            await tally.checkAsync(
              async () => {
                JSON.parse(await ask(text));
              },
              () => text,
            );
          },
        ),
        fuzzParams(300),
      );
    } finally {
      ws.terminate();
    }
    tally.report();
    expect(tally.crashes).toEqual([]);
  });
});
