// One test per fault switch, showing what a client sees; the switches are set in-process and through the
// admin endpoint (loopback + token), globally and per connection.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type ExchangeServer, startExchangeServer } from './server.ts';
import { Collector, rest, type Signer, waitFor } from './test-client.ts';

const key: Signer = { apiKey: 'fkey', secret: 'fsecret' };
const order = (cid: string) => ({
  symbol: 'BTCUSDT',
  side: 'BUY',
  type: 'LIMIT',
  timeInForce: 'GTC',
  quantity: '0.01000',
  price: '1500.00',
  newClientOrderId: cid,
});

describe('fault switches', () => {
  let s: ExchangeServer;
  beforeAll(async () => {
    s = await startExchangeServer({
      speed: 10,
      warmupMs: 30_000,
      adminToken: 'admintok',
      accounts: [{ apiKey: 'fkey', apiSecret: 'fsecret' }],
      limits: { banMs: 2000 },
    });
  }, 30_000);
  afterEach(() => s.faults.clear());
  afterAll(() => s?.close());

  it('drop: the connection ends mid-stream without a close frame (1006)', async () => {
    const c = new Collector(`${s.wsUrl}/ws/btcusdt@bookTicker`);
    await c.open();
    await c.next('a message before the drop', (m) => m?.s === 'BTCUSDT');
    expect(s.faults.drop()).toBeGreaterThanOrEqual(1);
    await waitFor('close', () => c.closed);
    expect(c.closed!.code).toBe(1006);
  });

  it('rollover: closed early as at the 24-hour limit (close frame 1000), reconnecting works', async () => {
    const c = new Collector(`${s.wsUrl}/ws/btcusdt@trade`);
    await c.open();
    const id = s.faults.connections().find((x) => x.streams.includes('btcusdt@trade'))!.id;
    expect(s.faults.rollover(id)).toBe(1);
    await waitFor('close', () => c.closed);
    expect(c.closed).toEqual({ code: 1000, reason: 'Connection exceeded 24 hours' });
    const again = new Collector(`${s.wsUrl}/ws/btcusdt@trade`);
    await again.open();
    await again.next('trade after reconnect', (m) => m?.e === 'trade');
    again.close();
  });

  it('depthGap on one connection: its next diff is skipped, U != last u + 1; other clients unaffected', async () => {
    const a = new Collector(`${s.wsUrl}/ws/btcusdt@depth@100ms`);
    const b = new Collector(`${s.wsUrl}/ws/btcusdt@depth@100ms`);
    try {
      await a.open();
      await b.open();
      await a.next('first diff', (m) => m?.e === 'depthUpdate');
      const conns = s.faults.connections().filter((x) => x.streams.includes('btcusdt@depth@100ms'));
      s.faults.set({ depthGap: 1 }, conns[0]!.id);
      const gapped = conns[0]!.id < conns[1]!.id ? a : b;
      const clean = gapped === a ? b : a;
      const from = gapped.json.length;
      await waitFor('diffs after the gap', () => gapped.json.length >= from + 3);
      const seq = gapped.json.filter((m) => m?.e === 'depthUpdate');
      const breaks = seq.filter((m, i) => i > 0 && m.U !== seq[i - 1].u + 1);
      expect(breaks).toHaveLength(1);
      await waitFor('clean diffs', () => clean.json.length >= 4);
      const cs = clean.json.filter((m) => m?.e === 'depthUpdate');
      for (let i = 1; i < cs.length; i++) expect(cs[i].U).toBe(cs[i - 1].u + 1);
    } finally {
      a.close();
      b.close();
    }
  });

  it('malformed and truncated frames: the next messages are not JSON, then the stream goes on', async () => {
    const c = new Collector(`${s.wsUrl}/ws/ethusdt@bookTicker`);
    try {
      await c.open();
      await c.next('a good message', (m) => m?.s === 'ETHUSDT');
      const id = s.faults.connections().find((x) => x.streams.includes('ethusdt@bookTicker'))!.id;
      const from = c.raw.length;
      s.faults.set({ malformed: 1, truncated: 1 }, id);
      await waitFor('three more frames', () => c.raw.length >= from + 3);
      const bad = c.raw.slice(from, from + 2);
      expect(
        bad.map((t) => {
          try {
            JSON.parse(t);
            return 'json';
          } catch {
            return 'broken';
          }
        }),
      ).toEqual(['broken', 'broken']);
      expect(bad[0]!.startsWith('{"e":')).toBe(true); // malformed: looks like a message, is not JSON
      expect(JSON.parse(c.raw[from + 2]!).s).toBe('ETHUSDT');
    } finally {
      c.close();
    }
  });

  it('lost order ack (REST): the connection is cut, the order still rests and is found by client id', async () => {
    s.faults.set({ ack: 'lose' });
    await expect(rest(s.url, 'POST', '/api/v3/order', order('lost-1'), key)).rejects.toThrow();
    const q = await rest(
      s.url,
      'GET',
      '/api/v3/order',
      { symbol: 'BTCUSDT', origClientOrderId: 'lost-1' },
      key,
    );
    expect(q.body).toMatchObject({ clientOrderId: 'lost-1', status: 'NEW' });
    // One shot: the next order is acknowledged normally.
    expect((await rest(s.url, 'POST', '/api/v3/order', order('lost-2'), key)).status).toBe(200);
  });

  it('delayed order ack (REST and WebSocket API): the order rests before the answer arrives', async () => {
    s.faults.set({ ack: 'delay', ackDelayMs: 700 });
    const t0 = Date.now();
    const pending = rest(s.url, 'POST', '/api/v3/order', order('late-1'), key);
    await waitFor(
      'order resting before its ack',
      () => s.trading.accounts.get('fkey')!.byClientId.get('late-1')?.status === 'NEW' || undefined,
    );
    const r = await pending;
    expect(r.status).toBe(200);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(650);
    const api = new Collector(`${s.wsUrl}/ws-api/v3`);
    try {
      await api.open();
      const id = s.faults.connections().find((x) => x.kind === 'ws-api')!.id;
      s.faults.set({ ack: 'lose' }, id);
      const { createHmac } = await import('node:crypto');
      const { wsPayload } = await import('./auth.ts');
      const p: Record<string, unknown> = { ...order('lost-ws'), apiKey: 'fkey', timestamp: Date.now() };
      p.signature = createHmac('sha256', 'fsecret').update(wsPayload(p)).digest('hex');
      api.send({ id: 9, method: 'order.place', params: p });
      await waitFor(
        'order resting',
        () => s.trading.accounts.get('fkey')!.byClientId.get('lost-ws')?.open || undefined,
      );
      await new Promise((r) => setTimeout(r, 300));
      expect(api.json.filter((m) => m?.id === 9)).toEqual([]);
    } finally {
      api.close();
    }
  });

  it('weight limit: 429 (-1003, Retry-After), then 418 when the client keeps going, until the ban ends', async () => {
    // Weight counts in fixed one-minute windows: start away from a window's end so the run stays in one.
    await waitFor('a fresh weight window', () => Date.now() % 60_000 < 55_000, 6000);
    s.faults.set({ weightLimit: 3 });
    const statuses: number[] = [];
    let r429: Awaited<ReturnType<typeof rest>> | undefined;
    let r418: Awaited<ReturnType<typeof rest>> | undefined;
    for (let i = 0; i < 6; i++) {
      const r = await rest(s.url, 'GET', '/api/v3/ping');
      statuses.push(r.status);
      if (r.status === 429) r429 ??= r;
      if (r.status === 418) r418 ??= r;
    }
    expect(statuses.slice(0, 5)).toContain(429);
    expect(statuses.indexOf(418)).toBeGreaterThan(statuses.indexOf(429));
    expect(r429!.body.code).toBe(-1003);
    expect(Number(r429!.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(r418!.body.msg).toMatch(/^Way too many requests; IP\(.+\) banned until \d+/);
    expect(Number(r418!.headers.get('retry-after'))).toBe(2);
    s.faults.clear();
    // Banned for banMs (2 s here) even under a normal limit.
    expect((await rest(s.url, 'GET', '/api/v3/ping')).status).toBe(418);
    await new Promise((r) => setTimeout(r, 2100));
    expect((await rest(s.url, 'GET', '/api/v3/ping')).status).toBe(200);
  }, 15_000);

  it('clock skew beyond recvWindow: -1021 until the client syncs to /time', async () => {
    s.faults.set({ clockSkewMs: 90_000 });
    const r = await rest(s.url, 'GET', '/api/v3/account', {}, key);
    expect(r.body).toEqual({ code: -1021, msg: 'Timestamp for this request is outside of the recvWindow.' });
    const t = await rest(s.url, 'GET', '/api/v3/time');
    const offset = t.body.serverTime - Date.now();
    expect(offset).toBeGreaterThan(85_000);
    const ok = await rest(s.url, 'GET', '/api/v3/account', { timestamp: Date.now() + offset }, key);
    expect(ok.status).toBe(200);
  });

  it('admin endpoint: loopback + token; sets switches per connection by id', async () => {
    const noToken = await fetch(`${s.url}/admin/faults`, { method: 'POST', body: '{}' });
    expect(noToken.status).toBe(401);
    const c = new Collector(`${s.wsUrl}/ws/btcusdt@bookTicker`);
    try {
      await c.open();
      const hdr = { 'X-Admin-Token': 'admintok' };
      const list = (await (await fetch(`${s.url}/admin/connections`, { headers: hdr })).json()) as {
        id: number;
        streams: string[];
      }[];
      const id = list.find((x) => x.streams.includes('btcusdt@bookTicker'))!.id;
      const set = await fetch(`${s.url}/admin/faults`, {
        method: 'POST',
        headers: hdr,
        body: JSON.stringify({ connection: id, truncated: 1 }),
      });
      expect(set.status).toBe(200);
      const from = c.raw.length;
      await waitFor('the truncated frame', () => c.raw.length > from);
      expect(() => JSON.parse(c.raw[from]!)).toThrow();
      const badSpec = await fetch(`${s.url}/admin/faults`, {
        method: 'POST',
        headers: hdr,
        body: JSON.stringify({ ack: 'sometimes' }),
      });
      expect(badSpec.status).toBe(400);
      const drop = await fetch(`${s.url}/admin/drop`, {
        method: 'POST',
        headers: hdr,
        body: JSON.stringify({ connection: id }),
      });
      expect(await drop.json()).toEqual({ dropped: 1 });
      await waitFor('dropped', () => c.closed);
    } finally {
      c.close();
    }
    const off = await startExchangeServer({ warmupMs: 0 });
    try {
      expect((await fetch(`${off.url}/admin/connections`)).status).toBe(403);
    } finally {
      await off.close();
    }
  });
});
