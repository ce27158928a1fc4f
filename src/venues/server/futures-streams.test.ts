// The USD-M side of the local exchange over raw REST and WebSockets: the futures market streams under
// /fstream (bookTicker with e/E/T, depth diffs whose pu chains to the previous u, aggTrade), the futures listen
// key and its user stream (ORDER_TRADE_UPDATE then ACCOUNT_UPDATE for a fill), and the separation of the spot
// and futures books of one account (a futures order is not a spot order, nor its client id).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ExchangeServer, startExchangeServer } from './server.ts';
import { Collector, type Json, rest, type Signer } from './test-client.ts';

const signer: Signer = { apiKey: 'fkey', secret: 'fsecret' };

describe('USD-M futures streams and user stream', () => {
  let s: ExchangeServer;
  beforeAll(async () => {
    s = await startExchangeServer({
      warmupMs: 60_000,
      speed: 10,
      accounts: [{ apiKey: signer.apiKey, apiSecret: signer.secret! }],
      log: () => {},
    });
  }, 30_000);
  afterAll(async () => {
    await s?.close();
  });

  it('serves futures market streams with the futures fields and a continuous pu chain', async () => {
    const c = new Collector(
      `${s.wsUrl}/fstream/stream?streams=btcusdt@bookTicker/btcusdt@depth@100ms/btcusdt@aggTrade`,
    );
    try {
      await c.open();
      const bt = await c.next('futures bookTicker', (m) => m?.stream === 'btcusdt@bookTicker');
      expect(bt.data.e).toBe('bookTicker');
      expect(typeof bt.data.T).toBe('number');
      // On the perpetual's 0.10 grid (not spot's 0.01).
      expect(bt.data.b).toMatch(/^\d+\.\d0*$/);
      const first = await c.next('first depth diff', (m) => m?.stream === 'btcusdt@depth@100ms');
      const i = c.json.indexOf(first);
      const second = await c.next('second depth diff', (m) => m?.stream === 'btcusdt@depth@100ms', i + 1);
      expect(second.data.pu).toBe(first.data.u);
      expect(second.data.U).toBe(first.data.u + 1);
      const snap = await rest(s.url, 'GET', '/fapi/v1/depth', { symbol: 'BTCUSDT', limit: 5 });
      expect(snap.status).toBe(200);
      expect(snap.body.bids).toHaveLength(5);
      expect(typeof snap.body.lastUpdateId).toBe('number');
    } finally {
      c.close();
    }
  });

  it('pushes ORDER_TRADE_UPDATE and ACCOUNT_UPDATE on the futures listen key, not on spot', async () => {
    const key = (await rest(s.url, 'POST', '/fapi/v1/listenKey', {}, { apiKey: signer.apiKey })).body
      .listenKey;
    expect(key).toMatch(/^[0-9a-f]{60}$/);
    const spotKey = (await rest(s.url, 'POST', '/api/v3/userDataStream', {}, { apiKey: signer.apiKey })).body
      .listenKey;
    const fu = new Collector(`${s.wsUrl}/fstream/ws/${key}`);
    const sp = new Collector(`${s.wsUrl}/ws/${spotKey}`);
    try {
      await fu.open();
      await sp.open();
      await new Promise((r) => setTimeout(r, 50));
      const placed = await rest(
        s.url,
        'POST',
        '/fapi/v1/order',
        { symbol: 'BTCUSDT', side: 'SELL', type: 'MARKET', quantity: '0.010', newClientOrderId: 'same-id' },
        signer,
      );
      expect(placed.status).toBe(200);
      expect(placed.body.status).toBe('FILLED');
      expect(placed.body.positionSide).toBe('BOTH');
      const trade = await fu.next(
        'ORDER_TRADE_UPDATE TRADE',
        (m: Json) => m?.e === 'ORDER_TRADE_UPDATE' && m.o.x === 'TRADE',
      );
      expect(trade.o.c).toBe('same-id');
      expect(trade.o.N).toBe('USDT');
      const acct = await fu.next('ACCOUNT_UPDATE', (m: Json) => m?.e === 'ACCOUNT_UPDATE');
      expect(acct.a.P[0]).toMatchObject({ s: 'BTCUSDT', pa: '-0.010', ps: 'BOTH' });
      expect(Number(acct.a.B[0].wb)).toBeCloseTo(100_000 - Number(trade.o.n), 8);
      // The same client id on spot is a different order: it is accepted, and the futures one is not spot's.
      const spot = await rest(
        s.url,
        'POST',
        '/api/v3/order',
        { symbol: 'BTCUSDT', side: 'BUY', type: 'MARKET', quantity: '0.001', newClientOrderId: 'same-id' },
        signer,
      );
      expect(spot.status).toBe(200);
      await sp.next('spot executionReport', (m: Json) => m?.e === 'executionReport' && m.c === 'same-id');
      expect(sp.json.some((m: Json) => m?.e === 'ORDER_TRADE_UPDATE')).toBe(false);
      expect(fu.json.some((m: Json) => m?.e === 'executionReport')).toBe(false);
      const fOpen = await rest(s.url, 'GET', '/fapi/v1/openOrders', {}, signer);
      expect(fOpen.body).toEqual([]);
      const pos = await rest(s.url, 'GET', '/fapi/v2/positionRisk', { symbol: 'BTCUSDT' }, signer);
      expect(pos.body[0]).toMatchObject({ symbol: 'BTCUSDT', positionAmt: '-0.010', leverage: '20' });
      // Keepalive and close name no key on USD-M.
      expect((await rest(s.url, 'PUT', '/fapi/v1/listenKey', {}, { apiKey: signer.apiKey })).body).toEqual({
        listenKey: key,
      });
      expect((await rest(s.url, 'DELETE', '/fapi/v1/listenKey', {}, { apiKey: signer.apiKey })).status).toBe(
        200,
      );
    } finally {
      fu.close();
      sp.close();
    }
  });
});
