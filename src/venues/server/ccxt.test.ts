// THE acceptance test: ccxt, unmodified (npm `ccxt`; only its URLs point at the loopback server), trades on
// the local exchange through its binance (REST) and pro binance (WebSocket) classes, and maps the server's
// errors to the same ccxt exceptions Binance's would give.
import ccxt from 'ccxt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ExchangeServer, startExchangeServer } from './server.ts';
import { localCcxt, waitFor } from './test-client.ts';

/** Keeps one watch* call pending at all times; last() is the latest result. */
function follow<T>(next: () => Promise<T>): { last(): T | undefined; stop(): void } {
  let latest: T | undefined;
  let stopped = false;
  void (async () => {
    while (!stopped) {
      try {
        latest = await next();
      } catch {
        if (!stopped) await new Promise((r) => setTimeout(r, 50));
      }
    }
  })();
  return {
    last: () => latest,
    stop: () => {
      stopped = true;
    },
  };
}

function userSubscribed(s: ExchangeServer): boolean {
  return s.faults.connections().some((c) => c.kind === 'ws-api' && c.userData);
}

const within = <T>(what: string, p: Promise<T>, ms = 10_000): Promise<T> =>
  Promise.race([
    p,
    new Promise<T>((_, reject) =>
      setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms),
    ),
  ]);

describe('ccxt (unmodified) on the local exchange server', () => {
  let s: ExchangeServer;
  let ex: InstanceType<typeof ccxt.pro.binance>;
  beforeAll(async () => {
    s = await startExchangeServer({
      warmupMs: 180_000,
      speed: 10,
      accounts: [{ apiKey: 'ccxtkey', apiSecret: 'ccxtsecret' }],
    });
    ex = await localCcxt(s, 'ccxtkey', 'ccxtsecret');
  }, 30_000);
  afterAll(async () => {
    await ex?.close();
    await s?.close();
  });

  it('loads markets and fetches the order book, ticker, trades and OHLCV', async () => {
    const markets = await within('loadMarkets', ex.loadMarkets());
    expect(Object.keys(markets).sort()).toEqual(['BTC/USDT', 'ETH/USDT']);
    expect(markets['BTC/USDT']!.precision).toMatchObject({ price: 0.01, amount: 0.00001 });
    expect(markets['BTC/USDT']!.limits.cost?.min).toBe(5);
    const ob = await within('fetchOrderBook', ex.fetchOrderBook('BTC/USDT', 20));
    expect(ob.bids.length).toBe(20);
    expect(ob.bids[0]![0]!).toBeLessThan(ob.asks[0]![0]!);
    expect(ob.nonce).toBeGreaterThan(0);
    const t = await within('fetchTicker', ex.fetchTicker('ETH/USDT'));
    expect(t.symbol).toBe('ETH/USDT');
    expect(t.last).toBeGreaterThan(0);
    expect(t.bid).toBeLessThan(t.ask!);
    const trades = await within('fetchTrades', ex.fetchTrades('BTC/USDT', undefined, 10));
    expect(trades).toHaveLength(10);
    expect(trades[0]!.price).toBeGreaterThan(0);
    const ohlcv = await within('fetchOHLCV', ex.fetchOHLCV('BTC/USDT', '1m', undefined, 3));
    expect(ohlcv).toHaveLength(3);
    expect(ohlcv[1]![0]! - ohlcv[0]![0]!).toBe(60_000);
  }, 30_000);

  it('watches the order book (snapshot + diffs) and trades', async () => {
    let ob = await within('watchOrderBook', ex.watchOrderBook('BTC/USDT'));
    for (let i = 0; i < 5; i++) ob = await within('watchOrderBook update', ex.watchOrderBook('BTC/USDT'));
    expect(ob.bids.length).toBeGreaterThan(10);
    expect(ob.bids[0]![0]!).toBeLessThan(ob.asks[0]![0]!);
    // The synced book equals the server's book at the same update id.
    const ref = s.markets.get('BTCUSDT')!;
    expect(ob.nonce).toBeLessThanOrEqual(ref.updateId);
    const trades = await within('watchTrades', ex.watchTrades('ETH/USDT'));
    expect(trades.length).toBeGreaterThan(0);
    expect(trades[0]!.symbol).toBe('ETH/USDT');
  }, 30_000);

  it('creates, fetches and cancels limit and market orders; watches its orders and balance', async () => {
    await ex.loadMarkets();
    // Watch in the background: each watch* call resolves on the next update, so keep one always pending.
    const orders = follow(() => ex.watchOrders('BTC/USDT'));
    const balances = follow(() => ex.watchBalance());
    try {
      await waitFor('user-data subscription', () => s.trading.accounts.get('ccxtkey') && userSubscribed(s));
      const ob = await ex.fetchOrderBook('BTC/USDT', 5);
      const low = Math.floor(ob.bids[0]![0]! * 0.9);
      const limit = await within('createOrder limit', ex.createOrder('BTC/USDT', 'limit', 'buy', 0.01, low));
      expect(limit.status).toBe('open');
      await waitFor('watchOrders: the limit order', () => orders.last()?.some((o) => o.id === limit.id));
      const fetched = await within('fetchOrder', ex.fetchOrder(String(limit.id), 'BTC/USDT'));
      expect(fetched).toMatchObject({ id: limit.id, status: 'open', price: low, amount: 0.01 });
      const open = await ex.fetchOpenOrders('BTC/USDT');
      expect(open.map((o) => o.id)).toContain(limit.id);
      const canceled = await within('cancelOrder', ex.cancelOrder(String(limit.id), 'BTC/USDT'));
      expect(canceled.status).toBe('canceled');
      await waitFor('watchOrders: canceled', () =>
        orders.last()?.some((o) => o.id === limit.id && o.status === 'canceled'),
      );

      const before = await ex.fetchBalance();
      const market = await within('createOrder market', ex.createOrder('BTC/USDT', 'market', 'buy', 0.002));
      expect(market.status).toBe('closed');
      expect(market.filled).toBeCloseTo(0.002, 8);
      await waitFor('watchOrders: market order filled', () =>
        orders.last()?.some((o) => o.id === market.id && o.status === 'closed' && o.filled === 0.002),
      );
      // The streamed balance shows the BTC bought, less the 0.1% commission taken in BTC.
      const want = (before.BTC?.free ?? 0) + 0.002 * 0.999;
      await waitFor(
        'watchBalance: BTC after the fill',
        () => balances.last() !== undefined && Math.abs((balances.last()!.BTC?.free ?? 0) - want) < 1e-9,
      );
      const trades = await ex.fetchMyTrades('BTC/USDT');
      expect(trades.some((t) => t.order === market.id)).toBe(true);
      const sell = await within(
        'createOrder market sell',
        ex.createOrder('BTC/USDT', 'market', 'sell', 0.001),
      );
      expect(sell.status).toBe('closed');
      const all = await ex.fetchOrders('BTC/USDT');
      const status = Object.fromEntries(all.map((o) => [o.id, o.status]));
      expect(status).toMatchObject({
        [String(limit.id)]: 'canceled',
        [String(market.id)]: 'closed',
        [String(sell.id)]: 'closed',
      });
    } finally {
      orders.stop();
      balances.stop();
    }
  }, 40_000);

  it('maps errors as for Binance: bad signature, expired timestamp, insufficient funds', async () => {
    const wrong = await localCcxt(s, 'ccxtkey', 'not-the-secret');
    await wrong.loadMarkets();
    await expect(wrong.fetchBalance()).rejects.toBeInstanceOf(ccxt.AuthenticationError);
    await wrong.close();
    const late = await localCcxt(s, 'ccxtkey', 'ccxtsecret');
    await late.loadMarkets();
    late.options.timeDifference = 120_000; // the client's clock is two minutes behind
    await expect(late.fetchBalance()).rejects.toBeInstanceOf(ccxt.InvalidNonce);
    await late.close();
    const px = (await ex.fetchTicker('BTC/USDT')).bid!;
    await expect(ex.createOrder('BTC/USDT', 'limit', 'buy', 100, Math.floor(px))).rejects.toBeInstanceOf(
      ccxt.InsufficientFunds,
    );
  }, 30_000);
});
