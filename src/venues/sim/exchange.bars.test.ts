import { describe, expect, it } from 'vitest';
import type { InstrumentId, Micros, PriceTicks } from '../../core/units.ts';
import { Bar } from '../../model/market-data.ts';
import { OrderSide, OrderType } from '../../model/order.ts';
import { makeSim, PX, T0 } from './test-kit.ts';

const MIN = 60_000_000;
const { MARKET, LIMIT } = OrderType;

/** Bar k covers (T0 + (k-1) min, T0 + k min]. */
function bar(k: ReturnType<typeof makeSim>, n: number, o: number, h: number, l: number, c: number): void {
  const b = new Bar();
  b.instrumentId = k.btc.id as InstrumentId;
  b.tsOpen = (T0 + (n - 1) * MIN) as Micros;
  b.tsClose = (T0 + n * MIN) as Micros;
  b.open = o as PriceTicks;
  b.high = h as PriceTicks;
  b.low = l as PriceTicks;
  b.close = c as PriceTicks;
  b.interval = MIN;
  k.at(n * MIN);
  k.sim.onBar(b);
}

describe('SimulatedExchange: bar-only data', () => {
  it("a market order sent on a bar's close fills at the next bar's open, not at the close it saw", () => {
    const k = makeSim();
    bar(k, 1, PX, PX + 50, PX - 50, PX + 20);
    k.at(MIN);
    const o = k.send({ type: MARKET, qty: 3 });
    k.at(MIN);
    expect(k.sink.kinds(o.id)).toEqual(['ACCEPTED']);
    bar(k, 2, PX + 30, PX + 60, PX + 10, PX + 40);
    expect(k.sink.fillPairs(o.id)).toEqual([[3, PX + 30]]);
    expect(k.sim.position(k.btc.id)).toBe(3);
  });

  it('a resting limit fills at its own price only when the range goes through it (a touch is not enough)', () => {
    const k = makeSim();
    bar(k, 1, PX, PX + 10, PX - 10, PX);
    const buy = k.send({ type: LIMIT, price: PX - 20, qty: 2 });
    const sell = k.send({ side: OrderSide.SELL, type: LIMIT, price: PX + 40, qty: 1 });
    k.at(MIN);
    bar(k, 2, PX, PX + 40, PX - 20, PX + 5);
    expect(k.sink.fills(buy.id)).toEqual([]);
    expect(k.sink.fills(sell.id)).toEqual([]);
    bar(k, 3, PX, PX + 41, PX - 21, PX);
    expect(k.sink.fillPairs(buy.id)).toEqual([[2, PX - 20]]);
    expect(k.sink.fillPairs(sell.id)).toEqual([[1, PX + 40]]);
  });

  it('ignores bars once the market has quotes (bars are then derived, not a price source)', () => {
    const k = makeSim();
    k.quote(0, PX - 1, 5, PX, 5);
    const o = k.send({ type: LIMIT, price: PX - 100, qty: 1 });
    k.at(0);
    bar(k, 1, PX, PX, PX - 200, PX);
    expect(k.sink.fills(o.id)).toEqual([]);
  });
});
