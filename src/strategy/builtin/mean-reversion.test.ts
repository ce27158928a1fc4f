import { describe, expect, it } from 'vitest';
import { OrderSide, OrderType } from '../../model/order.ts';
import { MINUTE, makeStrategyKit, START } from '../test-kit.ts';
import { MeanReversion } from './mean-reversion.ts';

const FIVE = 5 * MINUTE;

/** 25 calm bars around 1000 (ticks), then `tail`. */
function closes(tail: number[]): number[] {
  return Array.from({ length: 25 }, (_, i) => 1000 + (i % 2 === 0 ? 2 : -2)).concat(tail);
}

function run(params: ConstructorParameters<typeof MeanReversion>[0], series: number[]) {
  const k = makeStrategyKit();
  k.run(new MeanReversion(params));
  const trades: string[] = [];
  series.forEach((c, i) => {
    const before = k.venue.calls.length;
    k.bar(k.btc.id, START + i * FIVE, FIVE, c, c, c, c);
    for (const call of k.venue.calls.slice(before)) {
      if (call.op !== 'submit') continue;
      const side = k.engine.cache.order(call.orderId)!.side === OrderSide.BUY ? 'buy' : 'sell';
      trades.push(`${side} ${call.qty} at bar ${i} close ${c}`);
    }
    k.fillOpen(OrderType.MARKET, c);
  });
  return { k, trades };
}

describe('MeanReversion', () => {
  it('buys a sell-off below the lower band once RSI is oversold, and exits at the middle band', () => {
    const { k, trades } = run({ qty: 0.002 }, closes([990, 975, 960, 955, 980, 1000, 1004]));
    // 990 and 975 are below the band but RSI is not yet oversold; 960 is both.
    expect(trades).toEqual(['buy 2 at bar 27 close 960', 'sell 2 at bar 30 close 1000']);
    expect(k.portfolio.netQty(k.btc.id)).toBe(0);
  });

  it('fades a rally when shorts are allowed, and stays out when they are not', () => {
    const rally = closes([1010, 1025, 1040, 1045, 1020, 1000, 996]);
    expect(run({ qty: 0.001, allowShort: true }, rally).trades).toEqual([
      'sell 1 at bar 27 close 1040',
      'buy 1 at bar 30 close 1000',
    ]);
    expect(run({ qty: 0.001 }, rally).trades).toEqual([]);
  });

  it('does nothing in a calm market', () => {
    expect(run({}, closes([1002, 998, 1001, 999])).trades).toEqual([]);
  });

  it('refuses oversold >= overbought', () => {
    expect(() => new MeanReversion({ oversold: 50, overbought: 50 })).toThrow(
      /'oversold' \(50\) must be below/,
    );
  });
});
