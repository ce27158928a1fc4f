import { describe, expect, it } from 'vitest';
import { OrderSide, OrderType } from '../../model/order.ts';
import { makeStrategyKit, START } from '../test-kit.ts';
import { DonchianBreakout } from './donchian-breakout.ts';

const HOUR = 3_600_000_000;

type Ohlc = [high: number, low: number, close: number];
const range = (n: number, bar: Ohlc): Ohlc[] => Array.from({ length: n }, () => bar);

function run(params: ConstructorParameters<typeof DonchianBreakout>[0], bars: Ohlc[]) {
  const k = makeStrategyKit();
  k.run(new DonchianBreakout(params));
  const trades: string[] = [];
  bars.forEach(([h, l, c], i) => {
    const before = k.venue.calls.length;
    k.bar(k.btc.id, START + i * HOUR, HOUR, c, h, l, c);
    for (const call of k.venue.calls.slice(before)) {
      if (call.op !== 'submit') continue;
      const side = k.engine.cache.order(call.orderId)!.side === OrderSide.BUY ? 'buy' : 'sell';
      trades.push(`${side} ${call.qty} at bar ${i}`);
    }
    k.fillOpen(OrderType.MARKET, c);
  });
  return { k, trades };
}

describe('DonchianBreakout', () => {
  it('buys a close above the previous highs and exits below the exit channel', () => {
    const bars = [
      ...range(20, [1010, 990, 1000]),
      [1012, 1000, 1010], // inside the channel (high 1010 not exceeded by the close)
      [1025, 1005, 1020], // breakout: bar 21
      ...range(10, [1030, 1015, 1025]),
      [1026, 1012, 1016], // still above the 10-bar low (1015)
      [1020, 1008, 1010], // below it: exit at bar 33
    ] as Ohlc[];
    const { k, trades } = run({ entryPeriod: 20, exitPeriod: 10, qty: 0.003 }, bars);
    expect(trades).toEqual(['buy 3 at bar 21', 'sell 3 at bar 33']);
    expect(k.portfolio.netQty(k.btc.id)).toBe(0);
  });

  it('shorts a downside breakout only when allowed', () => {
    const bars = [
      ...range(5, [1010, 990, 1000]),
      [995, 970, 980],
      ...range(3, [985, 975, 980]),
      [1000, 985, 995],
    ] as Ohlc[];
    expect(run({ entryPeriod: 5, exitPeriod: 3, qty: 0.001, allowShort: true }, bars).trades).toEqual([
      'sell 1 at bar 5',
      'buy 1 at bar 9',
    ]);
    expect(run({ entryPeriod: 5, exitPeriod: 3, qty: 0.001 }, bars).trades).toEqual([]);
  });
});
