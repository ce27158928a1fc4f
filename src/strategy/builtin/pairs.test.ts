import { describe, expect, it } from 'vitest';
import { OrderSide, OrderType } from '../../model/order.ts';
import { MINUTE, makeStrategyKit, START } from '../test-kit.ts';
import { PairsTrading } from './pairs.ts';

/** BTC (leg b) in USD; ETH (leg a) = 0.05 x BTC + a small deterministic wobble, plus `shock` USD at bar i. */
function prices(i: number, shock: (i: number) => number): [eth: number, btc: number] {
  const btc = 60_000 + 100 * Math.sin(i / 5);
  const eth = 0.05 * btc + 0.3 * Math.sin(1.7 * i) + shock(i);
  return [Math.round(eth * 100), Math.round(btc * 10)]; // ticks: ETH 0.01, BTC 0.1
}

function run(shock: (i: number) => number, bars: number) {
  const k = makeStrategyKit();
  const s = new PairsTrading({ a: 'ETHUSDT', b: 'BTCUSDT', window: 30, entryZ: 2, exitZ: 0.5, qty: 1 });
  k.run(s);
  const trades: string[] = [];
  const zs: number[] = [];
  const betas: number[] = [];
  for (let i = 0; i < bars; i++) {
    const [eth, btc] = prices(i, shock);
    const before = k.venue.calls.length;
    k.bar(k.eth.id, START + i * MINUTE, MINUTE, eth, eth, eth, eth);
    k.bar(k.btc.id, START + i * MINUTE, MINUTE, btc, btc, btc, btc);
    zs.push(s.z);
    betas.push(s.beta);
    for (const c of k.venue.calls.slice(before)) {
      if (c.op !== 'submit') continue;
      const o = k.engine.cache.order(c.orderId)!;
      const leg = o.instrumentId === k.eth.id ? 'ETH' : 'BTC';
      trades.push(`bar ${i}: ${o.side === OrderSide.BUY ? 'buy' : 'sell'} ${o.qty} ${leg}`);
    }
    for (const id of [...k.engine.cache.allOpenOrderIds()]) {
      const o = k.engine.cache.order(id)!;
      if (o.type === OrderType.MARKET) k.venue.fill(id, o.qty, o.instrumentId === k.eth.id ? eth : btc);
    }
  }
  return { k, s, trades, zs, betas };
}

describe('PairsTrading', () => {
  it('fits the hedge ratio and stays flat while the spread is quiet', () => {
    const { s, trades, zs } = run(() => 0, 60);
    expect(s.beta).toBeCloseTo(0.05, 2);
    expect(trades).toEqual([]);
    expect(zs.slice(0, 29).every(Number.isNaN)).toBe(true);
    expect(Math.max(...zs.slice(29).map(Math.abs))).toBeLessThan(2);
  });

  it('shorts the spread when z > entry and closes both legs when |z| < exit', () => {
    const { k, trades, zs, betas } = run((i) => (i === 40 ? 10 : 0), 45);
    expect(zs[40]).toBeGreaterThan(2);
    // The shock is in the window, so the fitted beta moves off 0.05; the hedge uses the beta of the entry bar.
    const hedge = Math.round(betas[40]! / 0.001);
    expect(hedge).toBeGreaterThan(40);
    expect(hedge).toBeLessThan(60);
    // Held while |z| >= exitZ (bar 41: z = -0.51), closed on the first bar below it.
    expect(Math.abs(zs[41]!)).toBeGreaterThanOrEqual(0.5);
    expect(Math.abs(zs[42]!)).toBeLessThan(0.5);
    // Short 1 ETH (1000 lots), long beta x 1 ETH-worth of BTC; then both back to flat.
    expect(trades).toEqual([
      'bar 40: sell 1000 ETH',
      `bar 40: buy ${hedge} BTC`,
      'bar 42: buy 1000 ETH',
      `bar 42: sell ${hedge} BTC`,
    ]);
    expect([k.portfolio.netQty(k.eth.id), k.portfolio.netQty(k.btc.id)]).toEqual([0, 0]);
  });

  it('goes long the spread on a negative z', () => {
    const { trades, zs, betas } = run((i) => (i === 40 ? -10 : 0), 41);
    expect(zs[40]).toBeLessThan(-2);
    expect(trades).toEqual(['bar 40: buy 1000 ETH', `bar 40: sell ${Math.round(betas[40]! / 0.001)} BTC`]);
  });

  it('refuses exitZ >= entryZ and identical legs', () => {
    expect(() => new PairsTrading({ entryZ: 1, exitZ: 1 })).toThrow(
      /'exitZ' \(1\) must be below 'entryZ' \(1\)/,
    );
    const k = makeStrategyKit();
    expect(() => k.run(new PairsTrading({ a: 'BTCUSDT', b: 'BTCUSDT' }))).toThrow(
      /legs a and b are the same/,
    );
  });
});
