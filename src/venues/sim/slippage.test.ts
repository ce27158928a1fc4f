// The simulated venue's slippage models on one instrument (tick 0.1, lot 0.001 BTC): taker fills move against
// the taker by whole ticks, rounded up, never beyond the order's limit; maker fills never move; the cost is
// the value moved, in the settlement currency. Real-data runs with hand-checked fills: src/cli/backtest-costs.test.ts.
import { describe, expect, it } from 'vitest';
import type { InstrumentId, Micros, PriceTicks, QtyLots } from '../../core/units.ts';
import { currencies } from '../../model/currency.ts';
import { Bar } from '../../model/market-data.ts';
import { OrderSide, OrderType } from '../../model/order.ts';
import { parseSlippage, slipTicks } from './slippage.ts';
import { makeSim, PX, type SimKit, T0 } from './test-kit.ts';

const MIN = 60_000_000;
const USDT = currencies.getOrCreate('USDT').id;

/** Bar n covers (T0 + (n-1) min, T0 + n min], flat at `o` +- 5 USDT. */
function bar(k: SimKit, n: number, o: number, volume: number): void {
  const b = new Bar();
  b.instrumentId = k.btc.id as InstrumentId;
  b.tsOpen = (T0 + (n - 1) * MIN) as Micros;
  b.tsClose = (T0 + n * MIN) as Micros;
  b.open = o as PriceTicks;
  b.high = (o + 50) as PriceTicks;
  b.low = (o - 50) as PriceTicks;
  b.close = o as PriceTicks;
  b.volume = volume as QtyLots;
  b.interval = MIN;
  k.at(n * MIN);
  k.sim.onBar(b);
}

describe('slipTicks', () => {
  it('ticks, a fraction of the spread and volume impact, rounded up to whole ticks', () => {
    expect(slipTicks(parseSlippage('ticks:3'), PX, 5, Number.NaN, 0, 0.1)).toBe(3);
    expect(slipTicks(parseSlippage('spread:0.5'), PX, 5, 3, 0, 0.1)).toBe(2); // 1.5 -> 2
    expect(slipTicks(parseSlippage('spread:0.5'), PX, 5, 4, 0, 0.1)).toBe(2);
    expect(Number.isNaN(slipTicks(parseSlippage('spread:0.5'), PX, 5, 0, 0, 0.1))).toBe(true);
    // 60,000.0 x 0.1 x (10 / 1,000)^0.5 = 600 USDT = 6,000 ticks; with a = 1: 60 USDT = 600 ticks.
    expect(slipTicks(parseSlippage('impact:k=0.1,a=0.5'), PX, 10, 0, 1000, 0.1)).toBe(6000);
    expect(slipTicks(parseSlippage('impact:k=0.1,a=1'), PX, 10, 0, 1000, 0.1)).toBe(600);
    // Quote volume: 10 lots at 60,000.0 are worth 10 x 600,000 x 0.1 = 600,000 lot-steps of quote.
    expect(slipTicks(parseSlippage('impact:k=0.1,a=1,volume=quote'), PX, 10, 0, 6_000_000, 0.1)).toBe(6000);
    expect(Number.isNaN(slipTicks(parseSlippage('impact:k=0.1'), PX, 10, 0, 0, 0.1))).toBe(true);
  });
});

describe('SimulatedExchange with a slippage model', () => {
  it('moves a market order on bars by the impact of its size against the bar volume, and books the cost', () => {
    const k = makeSim({ slippageModel: parseSlippage('impact:k=0.1,a=1') });
    bar(k, 1, PX, 1000);
    const buy = k.send({ type: OrderType.MARKET, qty: 10 });
    k.at(MIN);
    bar(k, 2, PX, 1000);
    // 60,000.0 x 0.1 x 10 / 1,000 = 60 USDT = 600 ticks: filled at 60,060.0.
    expect(k.sink.fillPairs(buy.id)).toEqual([[10, PX + 600]]);
    // 0.01 BTC x 60 USDT = 0.6 USDT.
    expect(k.sim.slippageCost(USDT)).toEqual({ cost: 0.6 * 1e8, otherCurrencies: 0 });
    expect(k.sim.stats.slippedFills).toBe(1);
    const sell = k.send({ side: OrderSide.SELL, type: OrderType.MARKET, qty: 10 });
    k.at(2 * MIN);
    bar(k, 3, PX, 0);
    // A bar without volume cannot price impact: filled at the open, counted.
    expect(k.sink.fillPairs(sell.id)).toEqual([[10, PX]]);
    expect(k.sim.stats.unpricedSlippage).toBe(1);
  });

  it('never slips a fill beyond the limit price, nor a resting (maker) fill at all', () => {
    const k = makeSim({ slippageModel: parseSlippage('ticks:5') });
    k.quote(0, PX - 1, 5, PX, 5);
    const capped = k.send({ type: OrderType.LIMIT, price: PX + 2, qty: 1 });
    k.at(0);
    expect(k.sink.fillPairs(capped.id)).toEqual([[1, PX + 2]]);
    const market = k.send({ side: OrderSide.SELL, type: OrderType.MARKET, qty: 1 });
    k.at(0);
    expect(k.sink.fillPairs(market.id)).toEqual([[1, PX - 1 - 5]]);
    const resting = k.send({ type: OrderType.LIMIT, price: PX - 10, qty: 1 });
    k.at(0);
    k.trade(1, PX - 11, 3, OrderSide.SELL);
    expect(k.sink.fillPairs(resting.id)).toEqual([[1, PX - 10]]);
    // 2 + 5 ticks of 0.1 USDT on 0.001 BTC = 0.0007 USDT.
    expect(k.sim.slippageCost(USDT).cost).toBe(0.0007 * 1e8);
  });
});
