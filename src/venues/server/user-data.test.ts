import { createHmac, generateKeyPairSync, sign } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { wsPayload } from './auth.ts';
import { type ExchangeServer, startExchangeServer } from './server.ts';
import { Collector, type Json, rest, type Signer, waitFor } from './test-client.ts';

const key: Signer = { apiKey: 'udkey', secret: 'udsecret' };
const ed = generateKeyPairSync('ed25519');

/** A WebSocket API request signed as Binance documents (params sorted by name, HMAC hex or Ed25519 base64). */
function signed(
  method: string,
  params: Record<string, unknown>,
  id: number,
  how: 'hmac' | 'ed25519' = 'hmac',
): Json {
  const p: Record<string, unknown> = { ...params, timestamp: Date.now() };
  p.apiKey = how === 'hmac' ? key.apiKey : 'edkey';
  const payload = wsPayload(p);
  p.signature =
    how === 'hmac'
      ? createHmac('sha256', key.secret!).update(payload).digest('hex')
      : sign(null, Buffer.from(payload), ed.privateKey).toString('base64');
  return { id, method, params: p };
}

describe('user data stream and WebSocket API', () => {
  let s: ExchangeServer;
  beforeAll(async () => {
    s = await startExchangeServer({
      speed: 10,
      warmupMs: 60_000,
      pingIntervalMs: 300,
      accounts: [
        { apiKey: 'udkey', apiSecret: 'udsecret' },
        {
          apiKey: 'edkey',
          ed25519PublicKey: ed.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
        },
      ],
    });
  }, 30_000);
  afterAll(() => s?.close());

  it('streams executionReport and outboundAccountPosition on /ws/<listenKey>', async () => {
    const lk = (await rest(s.url, 'POST', '/api/v3/userDataStream', {}, { apiKey: 'udkey' })).body.listenKey;
    const c = new Collector(`${s.wsUrl}/ws/${lk}`);
    try {
      await c.open();
      const placed = await rest(
        s.url,
        'POST',
        '/api/v3/order',
        {
          symbol: 'BTCUSDT',
          side: 'BUY',
          type: 'LIMIT',
          timeInForce: 'GTC',
          quantity: '0.01000',
          price: '2000.00',
          newClientOrderId: 'ud-1',
        },
        key,
      );
      expect(placed.status).toBe(200);
      const rep = await c.next('executionReport NEW', (m) => m?.e === 'executionReport' && m.c === 'ud-1');
      expect(rep).toMatchObject({
        s: 'BTCUSDT',
        S: 'BUY',
        o: 'LIMIT',
        f: 'GTC',
        x: 'NEW',
        X: 'NEW',
        i: placed.body.orderId,
        p: '2000.00000000',
        q: '0.01000000',
      });
      const pos = await c.next('outboundAccountPosition', (m) => m?.e === 'outboundAccountPosition');
      expect(pos.B).toContainEqual({ a: 'USDT', f: '99980.00000000', l: '20.00000000' });
      await rest(s.url, 'DELETE', '/api/v3/order', { symbol: 'BTCUSDT', origClientOrderId: 'ud-1' }, key);
      const canceled = await c.next(
        'executionReport CANCELED',
        (m) => m?.e === 'executionReport' && m.x === 'CANCELED',
      );
      expect(canceled.X).toBe('CANCELED');
      // Deleting the key ends the stream as Binance does: listenKeyExpired, then the connection closes.
      await rest(s.url, 'DELETE', '/api/v3/userDataStream', { listenKey: lk }, { apiKey: 'udkey' });
      const expired = await c.next('listenKeyExpired', (m) => m?.e === 'listenKeyExpired');
      expect(expired.listenKey).toBe(lk);
      await waitFor('close after expiry', () => c.closed);
    } finally {
      c.close();
    }
  });

  it('WebSocket API: time, exchangeInfo, order.place/status/cancel with HMAC, errors in its shape', async () => {
    const c = new Collector(`${s.wsUrl}/ws-api/v3`);
    let pings = 0;
    c.ws.on('ping', () => pings++);
    try {
      await c.open();
      c.send({ id: 'a', method: 'time' });
      const t = await c.next('time', (m) => m?.id === 'a');
      expect(t.status).toBe(200);
      expect(Math.abs(t.result.serverTime - Date.now())).toBeLessThan(5000);
      expect(t.rateLimits[0]).toMatchObject({
        rateLimitType: 'REQUEST_WEIGHT',
        interval: 'MINUTE',
        limit: 6000,
      });
      c.send({ id: 'b', method: 'exchangeInfo', params: {} });
      expect((await c.next('exchangeInfo', (m) => m?.id === 'b')).result.symbols).toHaveLength(2);
      c.send(
        signed(
          'order.place',
          {
            symbol: 'ETHUSDT',
            side: 'SELL',
            type: 'LIMIT',
            timeInForce: 'GTC',
            quantity: '0.1000',
            price: '9000.00',
            newClientOrderId: 'wsapi-1',
          },
          1,
        ),
      );
      const placed = await c.next('order.place', (m) => m?.id === 1);
      expect(placed).toMatchObject({
        status: 200,
        result: { clientOrderId: 'wsapi-1', status: 'NEW', side: 'SELL' },
      });
      c.send(signed('order.status', { symbol: 'ETHUSDT', orderId: placed.result.orderId }, 2));
      expect((await c.next('order.status', (m) => m?.id === 2)).result.status).toBe('NEW');
      c.send(signed('order.cancel', { symbol: 'ETHUSDT', origClientOrderId: 'wsapi-1' }, 3));
      expect((await c.next('order.cancel', (m) => m?.id === 3)).result.status).toBe('CANCELED');
      const bad = signed(
        'order.place',
        { symbol: 'ETHUSDT', side: 'SELL', type: 'MARKET', quantity: '0.1000' },
        4,
      );
      bad.params.signature = '0'.repeat(64);
      c.send(bad);
      expect(await c.next('bad signature', (m) => m?.id === 4)).toMatchObject({
        status: 400,
        error: { code: -1022, msg: 'Signature for this request is not valid.' },
      });
      c.send(
        signed('order.place', { symbol: 'ETHUSDT', side: 'SELL', type: 'MARKET', quantity: '500.0000' }, 5),
      );
      expect((await c.next('over balance', (m) => m?.id === 5)).error.code).toBe(-2010);
      await waitFor('a ping from the WebSocket API', () => pings > 0, 3000);
    } finally {
      c.close();
    }
  });

  it('session.logon (Ed25519), userDataStream.subscribe, then unsigned orders and events as {subscriptionId, event}', async () => {
    const c = new Collector(`${s.wsUrl}/ws-api/v3`);
    try {
      await c.open();
      c.send(signed('session.logon', {}, 1, 'ed25519'));
      expect((await c.next('logon', (m) => m?.id === 1)).result.apiKey).toBe('edkey');
      c.send({ id: 2, method: 'userDataStream.subscribe' });
      const sub = await c.next('subscribe', (m) => m?.id === 2);
      expect(sub.result.subscriptionId).toBeGreaterThanOrEqual(0);
      // Logged on: orders need a timestamp but no signature.
      c.send({
        id: 3,
        method: 'order.place',
        params: {
          symbol: 'BTCUSDT',
          side: 'BUY',
          type: 'MARKET',
          quantity: '0.00100',
          timestamp: Date.now(),
        },
      });
      const filled = await c.next('market order', (m) => m?.id === 3);
      expect(filled.result.status).toBe('FILLED');
      const trade = await c.next('event', (m) => m?.event?.e === 'executionReport' && m.event.x === 'TRADE');
      expect(trade.subscriptionId).toBe(sub.result.subscriptionId);
      expect(trade.event).toMatchObject({ s: 'BTCUSDT', X: 'FILLED', N: 'BTC', i: filled.result.orderId });
      await c.next('balance event', (m) => m?.event?.e === 'outboundAccountPosition');
      // A HMAC key cannot log on (Binance: Ed25519 only).
      c.send(signed('session.logon', {}, 4));
      expect((await c.next('hmac logon', (m) => m?.id === 4)).status).toBe(401);
    } finally {
      c.close();
    }
  });
});
