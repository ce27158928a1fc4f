// ccxt's binanceusdm class, unmodified (only its URLs point at the loopback server), trades the local
// exchange's USD-M futures market: markets, leverage, orders, positions and balance, and the accounting
// reconciles to 1e-8 USDT: after opening and closing a position the wallet moved by exactly the trades'
// realised PnL minus their commissions, and each commission is the documented rate of its notional.
import ccxt from 'ccxt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ExchangeServer, startExchangeServer } from './server.ts';
import { rest } from './test-client.ts';

const within = <T>(what: string, p: Promise<T>, ms = 10_000): Promise<T> =>
  Promise.race([
    p,
    new Promise<T>((_, reject) =>
      setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms),
    ),
  ]);

/** Decimal text -> integer of 1e-8 (exact for Binance's 8-place figures). */
function e8(text: unknown): number {
  const s = String(text);
  const neg = s.startsWith('-');
  const [i, f = ''] = (neg ? s.slice(1) : s).split('.');
  const v = Number(i) * 1e8 + Number(f.padEnd(8, '0').slice(0, 8));
  return neg ? -v : v;
}

/** A ccxt binanceusdm aimed at the local server's /fapi routes. */
function localUsdm(s: ExchangeServer, apiKey: string, secret: string): InstanceType<typeof ccxt.binanceusdm> {
  const ex = new ccxt.binanceusdm({
    apiKey,
    secret,
    timeout: 10_000,
    options: { fetchMarkets: { types: ['linear'] }, fetchCurrencies: false, fetchMargins: false },
  });
  const api = ex.urls.api as Record<string, unknown>;
  for (const v of [1, 2, 3]) {
    const sfx = v === 1 ? '' : `V${v}`;
    api[`fapiPublic${sfx}`] = `${s.url}/fapi/v${v}`;
    api[`fapiPrivate${sfx}`] = `${s.url}/fapi/v${v}`;
  }
  api.fapiData = `${s.url}/futures/data`;
  return ex;
}

describe('ccxt binanceusdm (unmodified) on the local exchange server', () => {
  let s: ExchangeServer;
  let ex: InstanceType<typeof ccxt.binanceusdm>;
  const SYM = 'BTC/USDT:USDT';
  beforeAll(async () => {
    s = await startExchangeServer({
      warmupMs: 120_000,
      speed: 10,
      accounts: [{ apiKey: 'usdmkey', apiSecret: 'usdmsecret', usdmWallet: 10_000 }],
      log: () => {},
    });
    ex = localUsdm(s, 'usdmkey', 'usdmsecret');
  }, 30_000);
  afterAll(async () => {
    await ex?.close();
    await s?.close();
  });

  it('loads the perpetuals with their tick and step', async () => {
    const markets = await within('loadMarkets', ex.loadMarkets());
    expect(Object.keys(markets).sort()).toEqual(['BTC/USDT:USDT', 'ETH/USDT:USDT']);
    const m = markets[SYM]!;
    expect(m.linear).toBe(true);
    expect(m.swap).toBe(true);
    expect(m.settle).toBe('USDT');
    expect(m.precision.price).toBe(0.1);
    expect(m.precision.amount).toBe(0.001);
    const bal = await within('fetchBalance', ex.fetchBalance());
    expect(bal.USDT?.total).toBe(10_000);
    expect(bal.USDT?.free).toBe(10_000);
  });

  it('opens and closes a position: positions, balance, PnL and fees reconcile to 1e-8', async () => {
    await within('setLeverage', ex.setLeverage(10, SYM));
    const open = await within('createOrder buy', ex.createOrder(SYM, 'market', 'buy', 0.05));
    expect(open.status).toBe('closed');
    expect(open.filled).toBe(0.05);
    const pos = (await within('fetchPositions', ex.fetchPositions([SYM]))).find((p) => p.symbol === SYM)!;
    expect(pos.contracts).toBe(0.05);
    expect(pos.side).toBe('long');
    expect(pos.entryPrice).toBeCloseTo(open.average!, 6);

    // A resting sell far above the market is listed, then cancelled.
    const ob = await within('fetchOrderBook', ex.fetchOrderBook(SYM, 5));
    const far = Math.round((ob.asks[0]![0]! * 1.03) / 0.1) * 0.1;
    const resting = await within('createOrder limit', ex.createOrder(SYM, 'limit', 'sell', 0.01, far));
    expect(resting.status).toBe('open');
    const listed = await within('fetchOpenOrders', ex.fetchOpenOrders(SYM));
    expect(listed.map((o) => o.id)).toEqual([resting.id]);
    const bal1 = await within('fetchBalance', ex.fetchBalance());
    // The resting sell only closes part of the long: it holds no margin, the position does.
    expect(bal1.USDT!.used).toBeGreaterThan(0);
    await within('cancelOrder', ex.cancelOrder(resting.id!, SYM));
    expect(await within('fetchOpenOrders', ex.fetchOpenOrders(SYM))).toEqual([]);

    await s.advance(5_000);
    const close = await within(
      'createOrder sell',
      ex.createOrder(SYM, 'market', 'sell', 0.05, undefined, { reduceOnly: true }),
    );
    expect(close.status).toBe('closed');
    const after = (await within('fetchPositions', ex.fetchPositions([SYM]))).find((p) => p.symbol === SYM);
    expect(after?.contracts ?? 0).toBe(0);

    const trades = await within('fetchMyTrades', ex.fetchMyTrades(SYM));
    expect(trades.length).toBeGreaterThanOrEqual(2);
    let pnl = 0;
    let fees = 0;
    for (const t of trades) {
      const info = t.info as Record<string, string>;
      pnl += e8(info.realizedPnl);
      fees += e8(info.commission);
      expect(info.commissionAsset).toBe('USDT');
      // Taker 0.05% of the notional, rounded once to 1e-8.
      expect(e8(info.commission)).toBe(Math.round(e8(info.quoteQty) * 0.0005));
    }
    const buys = trades.filter((t) => t.side === 'buy');
    const sells = trades.filter((t) => t.side === 'sell');
    const cash = (ts: typeof trades) =>
      ts.reduce((a, t) => a + e8((t.info as Record<string, string>).quoteQty), 0);
    // Realised PnL of a round trip is exactly what the sells brought minus what the buys cost.
    expect(pnl).toBe(cash(sells) - cash(buys));
    const bal2 = await within('fetchBalance', ex.fetchBalance());
    const info = (bal2.info as { assets: Record<string, string>[] }).assets.find((a) => a.asset === 'USDT')!;
    expect(e8(info.walletBalance)).toBe(10_000 * 1e8 + pnl - fees);
    expect(e8(info.unrealizedProfit)).toBe(0);
    expect(bal2.USDT!.used).toBe(0);
  });

  // ccxt picks its per-market error table by Binance's host name (fapi.binance.com), which a loopback URL is
  // not: the codes and messages are checked as the body ccxt carries in its ExchangeError.
  it('refuses what Binance refuses, with its codes and messages', async () => {
    // 5 BTC at 10x needs ~30000 USDT of margin against a 10000 wallet: -2019.
    await expect(ex.createOrder(SYM, 'market', 'buy', 5)).rejects.toThrow(/-2019.*Margin is insufficient/);
    // Reduce-only with no position to reduce: -2022.
    await expect(
      ex.createOrder(SYM, 'market', 'sell', 0.01, undefined, { reduceOnly: true }),
    ).rejects.toThrow(/-2022.*ReduceOnly Order is rejected/);
    // Below the 5 USDT minimum notional: -4164.
    await expect(ex.createOrder(SYM, 'limit', 'buy', 0.001, 1000)).rejects.toThrow(
      /-4164.*notional must be no smaller than 5/,
    );
    // A post-only (GTX) buy above the ask would take: -5022, and nothing is recorded.
    const ob = await within('fetchOrderBook', ex.fetchOrderBook(SYM, 5));
    await expect(
      ex.createOrder(SYM, 'limit', 'buy', 0.01, ob.asks[0]![0]! + 50, { timeInForce: 'GTX' }),
    ).rejects.toThrow(/-5022/);
    expect(await within('fetchOpenOrders', ex.fetchOpenOrders(SYM))).toEqual([]);
    // Conditional types on /fapi/v1/order: Binance's answer since its Algo Order API took them (-4120).
    const r = await rest(
      s.url,
      'POST',
      '/fapi/v1/order',
      {
        symbol: 'BTCUSDT',
        side: 'SELL',
        type: 'STOP_MARKET',
        quantity: '0.010',
        stopPrice: '1000.0',
      },
      { apiKey: 'usdmkey', secret: 'usdmsecret' },
    );
    expect(r.body).toEqual({
      code: -4120,
      msg: 'Order type not supported for this endpoint. Please use the Algo Order API endpoints instead.',
    });
  });
});
