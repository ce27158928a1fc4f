// The USD-M side of the local exchange over raw REST and WebSockets: the futures market streams under
// /fstream (bookTicker with e/E/T, depth diffs whose pu chains to the previous u, aggTrade), the futures listen
// key and its user stream (ORDER_TRADE_UPDATE then ACCOUNT_UPDATE for a fill), and the separation of the spot
// and futures books of one account (a futures order is not a spot order, nor its client id); the futures
// WebSocket API (/ws-fapi/v1) places, queries and cancels futures orders in the futures shape.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { wsPayload } from './auth.ts';
import { wallMs } from './limits.ts';
import { type ExchangeServer, startExchangeServer } from './server.ts';
import { Collector, type Json, rest, type Signer, signPayload } from './test-client.ts';

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

  it('the USD-M WebSocket API places, queries and cancels futures orders; spot-only methods are unknown', async () => {
    const c = new Collector(`${s.wsUrl}/ws-fapi/v1`);
    const signed = (extra: Record<string, string>) => {
      const params: Record<string, string> = { ...extra, apiKey: signer.apiKey, timestamp: String(wallMs()) };
      return { ...params, signature: signPayload(signer, wsPayload(params)) };
    };
    try {
      await c.open();
      c.send({
        id: 'p1',
        method: 'order.place',
        params: signed({
          symbol: 'ETHUSDT',
          side: 'BUY',
          type: 'LIMIT',
          timeInForce: 'GTC',
          quantity: '0.100',
          price: '1000.00',
          newClientOrderId: 'ws-f1',
        }),
      });
      const placed = await c.next('order.place answer', (m: Json) => m?.id === 'p1');
      expect(placed.status).toBe(200);
      expect(placed.result).toMatchObject({
        symbol: 'ETHUSDT',
        status: 'NEW',
        positionSide: 'BOTH',
        price: '1000.00',
      });
      c.send({
        id: 's1',
        method: 'order.status',
        params: signed({ symbol: 'ETHUSDT', origClientOrderId: 'ws-f1' }),
      });
      expect((await c.next('order.status answer', (m: Json) => m?.id === 's1')).result.orderId).toBe(
        placed.result.orderId,
      );
      // Not a spot order: the spot WebSocket API's book does not have it.
      const spot = await rest(s.url, 'GET', '/api/v3/openOrders', { symbol: 'ETHUSDT' }, signer);
      expect(spot.body).toEqual([]);
      c.send({
        id: 'c1',
        method: 'order.cancel',
        params: signed({ symbol: 'ETHUSDT', origClientOrderId: 'ws-f1' }),
      });
      expect((await c.next('order.cancel answer', (m: Json) => m?.id === 'c1')).result.status).toBe(
        'CANCELED',
      );
      c.send({ id: 'x1', method: 'order.cancelReplace', params: signed({ symbol: 'ETHUSDT' }) });
      const unknown = await c.next('order.cancelReplace answer', (m: Json) => m?.id === 'x1');
      expect(unknown.error.msg).toMatch(/Unknown method/);
    } finally {
      c.close();
    }
  });
});
