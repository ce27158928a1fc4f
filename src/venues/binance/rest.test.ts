import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { GovernorVerdict, RateGovernor } from './rate-governor.ts';
import { BinanceApiError, BinanceRest } from './rest.ts';
import { BinanceCredentials } from './signing.ts';

// A loopback HTTP server with a scripted answer per request; it checks signatures as Binance does.
type Handler = (req: IncomingMessage, url: URL, res: ServerResponse) => void;
const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise<void>((r) => s.close(() => r()));
  }
});

async function serve(handler: Handler): Promise<string> {
  const s = createServer((req, res) => handler(req, new URL(req.url ?? '/', 'http://x'), res));
  servers.push(s);
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  return `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
}

const creds = BinanceCredentials.hmac('key-1', 'secret-1');
function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

describe('BinanceRest', () => {
  it('signs requests the way the venue checks them and reads the usage headers', async () => {
    const base = await serve((req, url, res) => {
      const raw = url.search.slice(1);
      const [body, sig] = raw.split('&signature=');
      if (req.headers['x-mbx-apikey'] !== 'key-1' || creds.sign(body!) !== sig) {
        json(res, 401, { code: -1022, msg: 'Signature for this request is not valid.' });
        return;
      }
      json(res, 200, { ok: url.searchParams.get('symbol') }, { 'x-mbx-used-weight-1m': '42' });
    });
    const g = new RateGovernor([
      { rateLimitType: 'REQUEST_WEIGHT', interval: 'MINUTE', intervalNum: 1, limit: 1200 },
    ]);
    const rest = new BinanceRest({ baseUrl: base, credentials: creds, governor: g });
    expect(await rest.signed('GET', '/api/v3/openOrders', { symbol: 'BTCUSDT' }, 6)).toEqual({
      ok: 'BTCUSDT',
    });
    expect(g.usage(rest.venueNow())[0]!.used).toBe(42);
    const bad = new BinanceRest({ baseUrl: base, credentials: BinanceCredentials.hmac('key-1', 'wrong') });
    const e = await bad.signed('GET', '/api/v3/account', {}, 20).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(BinanceApiError);
    expect([
      (e as BinanceApiError).status,
      (e as BinanceApiError).code,
      (e as BinanceApiError).retryable,
    ]).toEqual([401, -1022, false]);
  }, 10_000);

  it('re-measures the server time after -1021 and retries once with a corrected timestamp', async () => {
    const skewMs = 120_000; // the venue's clock runs 2 minutes ahead of ours
    let rejected = 0;
    const base = await serve((_req, url, res) => {
      const now = Date.now() + skewMs;
      if (url.pathname === '/api/v3/time') return json(res, 200, { serverTime: now });
      const ts = Number(url.searchParams.get('timestamp'));
      if (Math.abs(now - ts) > Number(url.searchParams.get('recvWindow'))) {
        rejected++;
        return json(res, 400, {
          code: -1021,
          msg: 'Timestamp for this request is outside of the recvWindow.',
        });
      }
      json(res, 200, { balances: [] });
    });
    const rest = new BinanceRest({ baseUrl: base, credentials: creds, recvWindowMs: 5_000 });
    expect(await rest.signed('GET', '/api/v3/account', {}, 20)).toEqual({ balances: [] });
    expect(rejected).toBe(1);
    expect(rest.timeResyncs).toBe(1);
    expect(Math.abs(rest.serverTime.offsetMs - skewMs)).toBeLessThan(1_000);
  }, 10_000);

  it('stops sending after a 429 until Retry-After, and says the error is retryable', async () => {
    let hits = 0;
    const base = await serve((_req, _url, res) => {
      hits++;
      json(res, 429, { code: -1003, msg: 'Too many requests.' }, { 'retry-after': '30' });
    });
    const g = new RateGovernor([], { maxWaitMs: 1_000 });
    const rest = new BinanceRest({ baseUrl: base, governor: g });
    const e = (await rest.get('/api/v3/ticker/24hr', {}, 2).catch((x: unknown) => x)) as BinanceApiError;
    expect([e.status, e.code, e.retryable]).toEqual([429, -1003, true]);
    expect(g.check(1, false, rest.venueNow())).toBe(GovernorVerdict.REJECT);
    await expect(rest.get('/api/v3/ticker/24hr', {}, 2)).rejects.toThrow(/rate limit/);
    expect(hits).toBe(1);
  }, 10_000);

  it('refuses a signed request without keys and an out-of-range recvWindow', async () => {
    const rest = new BinanceRest({ baseUrl: 'http://127.0.0.1:9' });
    await expect(rest.signed('GET', '/api/v3/account', {}, 20)).rejects.toThrow(/needs API keys/);
    expect(() => new BinanceRest({ baseUrl: 'http://x', recvWindowMs: 70_000 })).toThrow(/recvWindow/);
  }, 5_000);
});
