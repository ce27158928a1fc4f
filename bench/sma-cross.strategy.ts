// The SMA-cross strategy of the 1M-bar benchmark (the strategy Jesse's published backtest figure uses): long
// when the fast simple moving average of bar closes crosses above the slow one, flat when it crosses below.
// A user-strategy file (default export), so optimiser workers load it by path as they would a user's.

import type { InstrumentId } from '../src/core/units.ts';
import { Sma } from '../src/indicators/moving-averages.ts';
import type { Bar } from '../src/model/market-data.ts';
import { float, int, text } from '../src/strategy/params.ts';
import { Strategy, type Subscriptions } from '../src/strategy/strategy.ts';

const PARAMS = {
  instrument: text({ default: 'BTCUSDT', description: 'instrument traded' }),
  fast: int({ default: 10, min: 1, max: 500, description: 'fast SMA period' }),
  slow: int({ default: 30, min: 2, max: 2000, description: 'slow SMA period' }),
  qty: float({ default: 0.01, min: 0, description: 'position size in base units' }),
};

export default class SmaCross extends Strategy<typeof PARAMS> {
  static override readonly params = PARAMS;
  static override readonly description = 'SMA crossover on one-minute bars (benchmark strategy)';

  private readonly fast = new Sma(this.params.fast);
  private readonly slow = new Sma(this.params.slow);
  private regime = 0;
  private id = 0 as InstrumentId;
  private lots = 0;

  override subscriptions(): Subscriptions {
    return { bars: [{ instrument: this.params.instrument, interval: '1m' }] };
  }

  override onStart(): void {
    const inst = this.instrument(this.params.instrument);
    this.id = inst.id;
    this.lots = inst.qtyFromFloat(this.params.qty);
  }

  override onBar(bar: Bar): void {
    const f = this.fast.update(bar.close);
    const s = this.slow.update(bar.close);
    const side = f > s ? 1 : f < s ? -1 : 0;
    if (side === 0 || side === this.regime) return;
    const prev = this.regime;
    this.regime = side;
    if (prev !== 0) this.rebalanceTo(this.id, side > 0 ? this.lots : 0);
  }
}
