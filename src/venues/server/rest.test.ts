import { generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ExchangeServer, startExchangeServer } from './server.ts';
import { type Json, rest, type Signer } from './test-client.ts';

const key: Signer = { apiKey: 'testkey', secret: 'testsecret' };
const ed = generateKeyPairSync('ed25519');
const edKey: Signer = { apiKey: 'edkey', ed25519: ed.privateKey };

describe('local exchange server: REST', () => {
  let s: ExchangeServer;
  beforeAll(async () => {
    s = await startExchangeServer({
      warmupMs: 120_000,
      accounts: [
        { apiKey: 'testkey', apiSecret: 'testsecret' },
        {
          apiKey: 'edkey',
          ed25519PublicKey: ed.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
        },
      ],
    });
  }, 30_000);
  afterAll(() => s?.close());

  it('serves exchangeInfo with Binance filters and rate limits', async () => {
    const r = await rest(s.url, 'GET', '/api/v3/exchangeInfo');
    expect(r.status).toBe(200);
    expect(r.body.rateLimits).toContainEqual({
      rateLimitType: 'REQUEST_WEIGHT',
      interval: 'MINUTE',
      intervalNum: 1,
      limit: 6000,
    });
    const btc = r.body.symbols.find((x: Json) => x.symbol === 'BTCUSDT');
    expect(btc).toMatchObject({ baseAsset: 'BTC', quoteAsset: 'USDT', status: 'TRADING' });
    expect(btc.filters).toContainEqual({
      filterType: 'PRICE_FILTER',
      minPrice: '0.01000000',
      maxPrice: '1000000.00000000',
      tickSize: '0.01000000',
    });
    expect(btc.filters).toContainEqual({
      filterType: 'LOT_SIZE',
      minQty: '0.00001000',
      maxQty: '9000.00000000',
      stepSize: '0.00001000',
    });
    expect(r.body.symbols.map((x: Json) => x.symbol)).toEqual(['BTCUSDT', 'ETHUSDT']);
    expect(Number(r.headers.get('x-mbx-used-weight-1m'))).toBeGreaterThanOrEqual(20);
  });

  it('serves a depth snapshot, tickers, trades and klines', async () => {
    const d = await rest(s.url, 'GET', '/api/v3/depth', { symbol: 'BTCUSDT', limit: 10 });
    expect(d.body.lastUpdateId).toBeGreaterThan(0);
    expect(d.body.bids).toHaveLength(10);
    expect(Number(d.body.bids[0][0])).toBeLessThan(Number(d.body.asks[0][0]));
    const t = await rest(s.url, 'GET', '/api/v3/ticker/24hr', { symbol: 'ETHUSDT' });
    expect(t.body.symbol).toBe('ETHUSDT');
    expect(t.body.count).toBeGreaterThan(0);
    const tr = await rest(s.url, 'GET', '/api/v3/trades', { symbol: 'BTCUSDT', limit: 5 });
    expect(tr.body).toHaveLength(5);
    expect(tr.body[4].id).toBe(tr.body[3].id + 1);
    const k = await rest(s.url, 'GET', '/api/v3/klines', { symbol: 'BTCUSDT', interval: '1m', limit: 3 });
    expect(k.body).toHaveLength(3);
    expect(k.body[1][0] - k.body[0][0]).toBe(60_000);
    const bad = await rest(s.url, 'GET', '/api/v3/depth', { symbol: 'NOPE' });
    expect(bad).toMatchObject({ status: 400, body: { code: -1121, msg: 'Invalid symbol.' } });
  });

  it('places, queries and cancels a resting limit order; balances lock and unlock', async () => {
    const before = await rest(s.url, 'GET', '/api/v3/account', {}, key);
    const usdt = (b: Json) => b.balances.find((x: Json) => x.asset === 'USDT');
    expect(usdt(before.body)).toEqual({ asset: 'USDT', free: '100000.00000000', locked: '0.00000000' });
    const place = await rest(
      s.url,
      'POST',
      '/api/v3/order',
      {
        symbol: 'BTCUSDT',
        side: 'BUY',
        type: 'LIMIT',
        timeInForce: 'GTC',
        quantity: '0.01000',
        price: '1000.00',
        newClientOrderId: 'rest-1',
      },
      key,
    );
    expect(place.status).toBe(200);
    expect(place.body).toMatchObject({
      symbol: 'BTCUSDT',
      clientOrderId: 'rest-1',
      status: 'NEW',
      executedQty: '0.00000000',
      fills: [],
    });
    expect(place.headers.get('x-mbx-order-count-10s')).toBe('1');
    const counts = await rest(s.url, 'GET', '/api/v3/rateLimit/order', {}, key);
    expect(counts.body[0]).toMatchObject({
      rateLimitType: 'ORDERS',
      interval: 'SECOND',
      intervalNum: 10,
      limit: 100,
      count: expect.any(Number),
    });
    const during = await rest(s.url, 'GET', '/api/v3/account', {}, key);
    expect(usdt(during.body)).toEqual({ asset: 'USDT', free: '99990.00000000', locked: '10.00000000' });
    const q = await rest(
      s.url,
      'GET',
      '/api/v3/order',
      { symbol: 'BTCUSDT', origClientOrderId: 'rest-1' },
      key,
    );
    expect(q.body).toMatchObject({
      orderId: place.body.orderId,
      status: 'NEW',
      price: '1000.00000000',
      origQty: '0.01000000',
    });
    const open = await rest(s.url, 'GET', '/api/v3/openOrders', { symbol: 'BTCUSDT' }, key);
    expect(open.body.map((o: Json) => o.orderId)).toEqual([place.body.orderId]);
    const c = await rest(
      s.url,
      'DELETE',
      '/api/v3/order',
      { symbol: 'BTCUSDT', orderId: place.body.orderId },
      key,
    );
    expect(c.body).toMatchObject({ status: 'CANCELED', origClientOrderId: 'rest-1' });
    const after = await rest(s.url, 'GET', '/api/v3/account', {}, key);
    expect(usdt(after.body)).toEqual({ asset: 'USDT', free: '100000.00000000', locked: '0.00000000' });
    const again = await rest(
      s.url,
      'DELETE',
      '/api/v3/order',
      { symbol: 'BTCUSDT', orderId: place.body.orderId },
      key,
    );
    expect(again).toMatchObject({ status: 400, body: { code: -2011, msg: 'Unknown order sent.' } });
    const none = await rest(s.url, 'GET', '/api/v3/order', { symbol: 'BTCUSDT', orderId: 999999 }, key);
    expect(none).toMatchObject({ status: 400, body: { code: -2013, msg: 'Order does not exist.' } });
  });

  it('fills a market order through the simulator: fills, commission in the bought asset, myTrades', async () => {
    const r = await rest(
      s.url,
      'POST',
      '/api/v3/order',
      { symbol: 'ETHUSDT', side: 'BUY', type: 'MARKET', quantity: '0.5000' },
      key,
    );
    expect(r.status).toBe(200);
    expect(r.body.status).toBe('FILLED');
    expect(r.body.executedQty).toBe('0.50000000');
    const qty = r.body.fills.reduce((a: number, f: Json) => a + Number(f.qty), 0);
    expect(qty).toBeCloseTo(0.5, 8);
    expect(r.body.fills[0].commissionAsset).toBe('ETH');
    const acc = await rest(s.url, 'GET', '/api/v3/account', {}, key);
    const eth = acc.body.balances.find((x: Json) => x.asset === 'ETH');
    // 10 ETH + 0.5 bought - 0.1% commission in ETH.
    expect(eth.free).toBe('10.49950000');
    const usdt = acc.body.balances.find((x: Json) => x.asset === 'USDT');
    expect(Number(usdt.free)).toBeCloseTo(100_000 - Number(r.body.cummulativeQuoteQty), 6);
    expect(usdt.locked).toBe('0.00000000');
    const mt = await rest(s.url, 'GET', '/api/v3/myTrades', { symbol: 'ETHUSDT' }, key);
    expect(mt.body.map((t: Json) => t.orderId)).toContain(r.body.orderId);
    expect(mt.body[0]).toMatchObject({ isBuyer: true, isMaker: false, commissionAsset: 'ETH' });
  });

  it('LIMIT_MAKER rests when passive and is refused (-2010, not recorded) when it would take', async () => {
    const book = await rest(s.url, 'GET', '/api/v3/depth', { symbol: 'BTCUSDT', limit: 1 });
    const ask = book.body.asks[0][0];
    const taker = await rest(
      s.url,
      'POST',
      '/api/v3/order',
      {
        symbol: 'BTCUSDT',
        side: 'BUY',
        type: 'LIMIT_MAKER',
        quantity: '0.00100',
        price: (Number(ask) + 50).toFixed(2),
        newClientOrderId: 'lm-1',
      },
      key,
    );
    expect(taker.body).toEqual({ code: -2010, msg: 'Order would immediately match and take.' });
    const q = await rest(
      s.url,
      'GET',
      '/api/v3/order',
      { symbol: 'BTCUSDT', origClientOrderId: 'lm-1' },
      key,
    );
    expect(q.body.code).toBe(-2013);
    const maker = await rest(
      s.url,
      'POST',
      '/api/v3/order',
      {
        symbol: 'BTCUSDT',
        side: 'BUY',
        type: 'LIMIT_MAKER',
        quantity: '0.00100',
        price: '10000.00',
        newClientOrderId: 'lm-2',
      },
      key,
    );
    expect(maker.body).toMatchObject({ status: 'NEW', type: 'LIMIT_MAKER' });
    await rest(s.url, 'DELETE', '/api/v3/order', { symbol: 'BTCUSDT', origClientOrderId: 'lm-2' }, key);
  });

  it('answers Binance error codes: signature, timestamp, balance, key, filters', async () => {
    const order = {
      symbol: 'BTCUSDT',
      side: 'BUY',
      type: 'LIMIT',
      timeInForce: 'GTC',
      quantity: '0.01000',
      price: '1000.00',
    };
    const badSig = await rest(s.url, 'POST', '/api/v3/order', order, { apiKey: 'testkey', secret: 'wrong' });
    expect(badSig).toMatchObject({
      status: 400,
      body: { code: -1022, msg: 'Signature for this request is not valid.' },
    });
    const old = await rest(s.url, 'POST', '/api/v3/order', { ...order, timestamp: Date.now() - 60_000 }, key);
    expect(old).toMatchObject({ status: 400, body: { code: -1021 } });
    expect(old.body.msg).toBe('Timestamp for this request is outside of the recvWindow.');
    const ahead = await rest(s.url, 'GET', '/api/v3/account', { timestamp: Date.now() + 5000 }, key);
    expect(ahead.body.code).toBe(-1021);
    const wide = await rest(
      s.url,
      'GET',
      '/api/v3/account',
      { timestamp: Date.now() - 30_000, recvWindow: 60_000 },
      key,
    );
    expect(wide.status).toBe(200);
    const poor = await rest(s.url, 'POST', '/api/v3/order', { ...order, quantity: '500.00000' }, key);
    expect(poor).toMatchObject({
      status: 400,
      body: { code: -2010, msg: 'Account has insufficient balance for requested action.' },
    });
    const unknownKey = await rest(s.url, 'GET', '/api/v3/account', {}, { apiKey: 'nobody', secret: 'x' });
    expect(unknownKey).toMatchObject({ status: 401, body: { code: -2015 } });
    const noKey = await rest(s.url, 'GET', '/api/v3/account', { timestamp: Date.now(), signature: 'ab' });
    expect(noKey).toMatchObject({ status: 401, body: { code: -2014 } });
    const lot = await rest(s.url, 'POST', '/api/v3/order', { ...order, quantity: '0.000015' }, key);
    expect(lot.body).toEqual({ code: -1013, msg: 'Filter failure: LOT_SIZE' });
    const tick = await rest(s.url, 'POST', '/api/v3/order', { ...order, price: '1000.001' }, key);
    expect(tick.body).toEqual({ code: -1013, msg: 'Filter failure: PRICE_FILTER' });
    const notional = await rest(s.url, 'POST', '/api/v3/order', { ...order, quantity: '0.00100' }, key);
    expect(notional.body).toEqual({ code: -1013, msg: 'Filter failure: NOTIONAL' });
    const noTif = await rest(s.url, 'POST', '/api/v3/order', { ...order, timeInForce: '' }, key);
    expect(noTif.body.code).toBe(-1102);
    const side = await rest(s.url, 'POST', '/api/v3/order', { ...order, side: 'UP' }, key);
    expect(side.body.code).toBe(-1117);
  });

  it('cancel-replace: both done, or Binance -2022/-2021 with both results in data', async () => {
    const base = { symbol: 'BTCUSDT', side: 'BUY', type: 'LIMIT', timeInForce: 'GTC', quantity: '0.01000' };
    const first = await rest(
      s.url,
      'POST',
      '/api/v3/order',
      { ...base, price: '1100.00', newClientOrderId: 'cr-1' },
      key,
    );
    const ok = await rest(
      s.url,
      'POST',
      '/api/v3/order/cancelReplace',
      {
        ...base,
        price: '1200.00',
        cancelReplaceMode: 'STOP_ON_FAILURE',
        cancelOrigClientOrderId: 'cr-1',
        newClientOrderId: 'cr-2',
      },
      key,
    );
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({
      cancelResult: 'SUCCESS',
      newOrderResult: 'SUCCESS',
      cancelResponse: { orderId: first.body.orderId, status: 'CANCELED' },
      newOrderResponse: { clientOrderId: 'cr-2', price: '1200.00000000', status: 'NEW' },
    });
    const stop = await rest(
      s.url,
      'POST',
      '/api/v3/order/cancelReplace',
      {
        ...base,
        price: '1300.00',
        cancelReplaceMode: 'STOP_ON_FAILURE',
        cancelOrigClientOrderId: 'cr-1',
      },
      key,
    );
    expect(stop.status).toBe(400);
    expect(stop.body).toEqual({
      code: -2022,
      msg: 'Order cancel-replace failed.',
      data: {
        cancelResult: 'FAILURE',
        newOrderResult: 'NOT_ATTEMPTED',
        cancelResponse: { code: -2011, msg: 'Unknown order sent.' },
        newOrderResponse: null,
      },
    });
    const half = await rest(
      s.url,
      'POST',
      '/api/v3/order/cancelReplace',
      {
        ...base,
        price: '1300.00',
        cancelReplaceMode: 'ALLOW_FAILURE',
        cancelOrigClientOrderId: 'cr-1',
        newClientOrderId: 'cr-3',
      },
      key,
    );
    expect(half.status).toBe(409);
    expect(half.body.code).toBe(-2021);
    expect(half.body.data).toMatchObject({ cancelResult: 'FAILURE', newOrderResult: 'SUCCESS' });
    await rest(s.url, 'DELETE', '/api/v3/openOrders', { symbol: 'BTCUSDT' }, key);
    const open = await rest(s.url, 'GET', '/api/v3/openOrders', { symbol: 'BTCUSDT' }, key);
    expect(open.body).toEqual([]);
  });

  it('accepts Ed25519-signed requests and rejects a forged one', async () => {
    const ok = await rest(s.url, 'GET', '/api/v3/account', {}, edKey);
    expect(ok.status).toBe(200);
    const other = generateKeyPairSync('ed25519');
    const forged = await rest(
      s.url,
      'GET',
      '/api/v3/account',
      {},
      { apiKey: 'edkey', ed25519: other.privateKey },
    );
    expect(forged.body.code).toBe(-1022);
  });

  it('manages listen keys', async () => {
    const a = await rest(s.url, 'POST', '/api/v3/userDataStream', {}, { apiKey: 'testkey' });
    expect(a.body.listenKey).toMatch(/^[0-9a-f]{60}$/);
    const keep = await rest(
      s.url,
      'PUT',
      '/api/v3/userDataStream',
      { listenKey: a.body.listenKey },
      { apiKey: 'testkey' },
    );
    expect(keep.body).toEqual({});
    const del = await rest(
      s.url,
      'DELETE',
      '/api/v3/userDataStream',
      { listenKey: a.body.listenKey },
      { apiKey: 'testkey' },
    );
    expect(del.body).toEqual({});
    const gone = await rest(
      s.url,
      'PUT',
      '/api/v3/userDataStream',
      { listenKey: a.body.listenKey },
      { apiKey: 'testkey' },
    );
    expect(gone.body.code).toBe(-1125);
  });
});

describe('local exchange server: lockstep determinism', () => {
  async function session(): Promise<unknown[]> {
    const s = await startExchangeServer({
      speed: 'max',
      seed: 7,
      warmupMs: 60_000,
      accounts: [{ apiKey: 'k', apiSecret: 's' }],
    });
    const k: Signer = { apiKey: 'k', secret: 's' };
    try {
      const out: unknown[] = [];
      const book = await rest(s.url, 'GET', '/api/v3/depth', { symbol: 'BTCUSDT', limit: 1 });
      const bid = Number(book.body.bids[0][0]);
      out.push(book.body);
      const buy = await rest(
        s.url,
        'POST',
        '/api/v3/order',
        {
          symbol: 'BTCUSDT',
          side: 'BUY',
          type: 'LIMIT',
          timeInForce: 'GTC',
          quantity: '0.05000',
          price: bid.toFixed(2),
          newClientOrderId: 'd1',
        },
        k,
      );
      out.push(buy.body);
      const mkt = await rest(
        s.url,
        'POST',
        '/api/v3/order',
        { symbol: 'BTCUSDT', side: 'SELL', type: 'MARKET', quantity: '0.02000' },
        k,
      );
      out.push(mkt.body);
      for (let i = 0; i < 30; i++) await rest(s.url, 'GET', '/api/v3/ping');
      out.push(
        (await rest(s.url, 'GET', '/api/v3/order', { symbol: 'BTCUSDT', origClientOrderId: 'd1' }, k)).body,
      );
      out.push((await rest(s.url, 'GET', '/api/v3/myTrades', { symbol: 'BTCUSDT' }, k)).body);
      return out;
    } finally {
      await s.close();
    }
  }

  it('gives the same fills for the same requests on the same seed', async () => {
    const a = await session();
    const b = await session();
    expect(b).toEqual(a);
    expect((a[4] as unknown[]).length).toBeGreaterThan(0);
  }, 60_000);
});
