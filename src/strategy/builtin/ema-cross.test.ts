import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Ema } from '../../indicators/moving-averages.ts';
import { OrderSide, OrderType } from '../../model/order.ts';
import { MINUTE, makeStrategyKit, START } from '../test-kit.ts';
import { CrossIntent, EmaCross } from './ema-cross.ts';

/** Submitted orders as [side, qty] (BUY/SELL as 'B'/'S'). */
function orders(k: ReturnType<typeof makeStrategyKit>): string[] {
  return k.venue.calls
    .filter((c) => c.op === 'submit')
    .map((c) => `${k.engine.cache.order(c.orderId)!.side === OrderSide.BUY ? 'B' : 'S'}${c.qty}`);
}

const DOWN_UP_DOWN = [100, 99, 98, 97, 96, 95, 94, 93, 95, 98, 102, 106, 110, 108, 104, 99, 94, 90];

describe('EmaCross', () => {
  it('buys on an up-cross and sells back to flat on a down-cross (bar closes)', () => {
    const k = makeStrategyKit();
    k.run(new EmaCross({ fast: 3, slow: 6, qty: 0.01 }));
    DOWN_UP_DOWN.forEach((c, i) => {
      k.bar(k.btc.id, START + i * MINUTE, MINUTE, c * 10, c * 10, c * 10, c * 10);
      k.fillOpen(OrderType.MARKET, c * 10);
    });
    expect(orders(k)).toEqual(['B10', 'S10']);
    expect(k.venue.calls.every((c) => c.op !== 'submit' || c.asType === OrderType.MARKET)).toBe(true);
    expect(k.portfolio.netQty(k.btc.id)).toBe(0);
  });

  it('changes its size while running (a live parameter); the EMA periods and sub-lot sizes are refused', () => {
    const k = makeStrategyKit();
    const s = new EmaCross({ fast: 3, slow: 6, qty: 0.01 });
    k.run(s);
    s.changeParam('qty', 0.02);
    expect(s.params.qty).toBe(0.02);
    expect(() => s.changeParam('fast', 4)).toThrow(
      /'fast' cannot change while running \(live parameters: qty, allowShort\)/,
    );
    expect(() => s.changeParam('qty', 'a lot')).toThrow(/qty/);
    expect(() => s.changeParam('qty', 0)).toThrow(/at least one lot/);
    expect(s.params.qty).toBe(0.02);
    DOWN_UP_DOWN.forEach((c, i) => {
      k.bar(k.btc.id, START + i * MINUTE, MINUTE, c * 10, c * 10, c * 10, c * 10);
      k.fillOpen(OrderType.MARKET, c * 10);
    });
    expect(orders(k)).toEqual(['B20', 'S20']);
  });

  it('trades quote mids when source=quote, and reverses when shorts are allowed', () => {
    const k = makeStrategyKit();
    k.run(new EmaCross({ fast: 3, slow: 6, qty: 0.005, source: 'quote', allowShort: true }));
    DOWN_UP_DOWN.concat([95, 100, 105, 110]).forEach((c, i) => {
      k.quote(k.btc.id, START + i * 1000, c * 10 - 1, c * 10 + 1);
      k.fillOpen(OrderType.MARKET, c * 10);
    });
    // Up: +5; down: to -5 (sell 10); up again: to +5 (buy 10).
    expect(orders(k)).toEqual(['B5', 'S10', 'B10']);
    expect(k.portfolio.netQty(k.btc.id)).toBe(5);
  });

  it('ignores bars of another interval', () => {
    const k = makeStrategyKit();
    k.run(new EmaCross({ fast: 3, slow: 6, interval: '5m' }));
    DOWN_UP_DOWN.forEach((c, i) => {
      k.bar(k.btc.id, START + i * MINUTE, MINUTE, c, c, c, c);
    });
    expect(orders(k)).toEqual([]);
  });

  it('refuses fast >= slow', () => {
    expect(() => new EmaCross({ fast: 30, slow: 30 })).toThrow(
      "strategy EmaCross: parameter 'fast' (30) must be below 'slow' (30)",
    );
  });

  it('decide() signals exactly where the sign of fast - slow changes', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 1000 }), { minLength: 1, maxLength: 200 }), (prices) => {
        const s = new EmaCross({ fast: 2, slow: 5 });
        const f = new Ema(2);
        const sl = new Ema(5);
        let regime = 0;
        for (const px of prices) {
          const d = f.update(px) - sl.update(px);
          const side = d > 0 ? 1 : d < 0 ? -1 : 0;
          let want: number = CrossIntent.NONE;
          if (side !== 0 && side !== regime) {
            if (regime !== 0) want = side > 0 ? CrossIntent.UP : CrossIntent.DOWN;
            regime = side;
          }
          expect(s.decide(px)).toBe(want);
        }
      }),
    );
  });
});
