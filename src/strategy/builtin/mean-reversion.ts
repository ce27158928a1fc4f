// Bollinger/RSI mean reversion on bar closes: long when the close is below the lower band with RSI oversold,
// short (if allowed) above the upper band with RSI overbought; back to flat when the close returns to the middle.
// Units: closes in ticks, targets in lots. The position target is held here; rebalanceTo moves the account to it.

import { Bot4Error, ErrorCode } from '../../core/errors.ts';
import type { InstrumentId } from '../../core/units.ts';
import { Rsi } from '../../indicators/oscillators.ts';
import { BollingerBands } from '../../indicators/volatility.ts';
import type { Bar } from '../../model/market-data.ts';
import { bool, choice, float, int, type ParamInput, text } from '../params.ts';
import { Strategy, type Subscriptions } from '../strategy.ts';

const PARAMS = {
  instrument: text({ default: 'BTCUSDT', description: 'instrument traded (SYMBOL or SYMBOL.VENUE)' }),
  interval: choice(['1m', '5m', '15m', '1h', '4h', '1d'], { default: '5m', description: 'bar interval' }),
  period: int({
    default: 20,
    min: 2,
    max: 500,
    step: 1,
    description: 'Bollinger period (SMA and deviation)',
  }),
  k: float({ default: 2, min: 0.5, max: 5, step: 0.25, description: 'band width in standard deviations' }),
  rsiPeriod: int({ default: 14, min: 2, max: 200, step: 1, description: 'RSI period' }),
  oversold: float({
    default: 30,
    min: 0,
    max: 50,
    step: 5,
    description: 'RSI at or below which a long may open',
  }),
  overbought: float({
    default: 70,
    min: 50,
    max: 100,
    step: 5,
    description: 'RSI at or above which a short may open',
  }),
  qty: float({
    default: 0.01,
    min: 0,
    step: 0.01,
    description: 'position size in base units (a lot multiple)',
  }),
  allowShort: bool({ default: false, description: 'also fade rallies above the upper band' }),
};

export class MeanReversion extends Strategy<typeof PARAMS> {
  static override readonly params = PARAMS;
  static override readonly description =
    'Bollinger/RSI mean reversion: buy below the lower band when oversold, exit at the middle band';

  private readonly bands = new BollingerBands(this.params.period, this.params.k);
  private readonly rsi = new Rsi(this.params.rsiPeriod);
  private instrumentId = 0 as InstrumentId;
  private lots = 0;
  /** The position this strategy wants, in lots: +lots, 0 or -lots. */
  private target = 0;

  constructor(params: ParamInput<typeof PARAMS> = {}) {
    super(params);
    if (this.params.oversold >= this.params.overbought) {
      throw new Bot4Error(
        ErrorCode.INVALID_ARGUMENT,
        `strategy ${this.name}: 'oversold' (${this.params.oversold}) must be below 'overbought' (${this.params.overbought})`,
      );
    }
  }

  override subscriptions(): Subscriptions {
    return { bars: [{ instrument: this.params.instrument, interval: this.params.interval }] };
  }

  override warmUp(): { done: boolean } {
    return { done: this.bands.ready && this.rsi.ready };
  }

  override onStart(): void {
    const inst = this.instrument(this.params.instrument);
    this.instrumentId = inst.id;
    this.lots = inst.qtyFromFloat(this.params.qty);
    if (this.lots <= 0)
      throw new Bot4Error(ErrorCode.INVALID_ARGUMENT, `strategy ${this.name}: qty must be at least one lot`);
  }

  override onBar(bar: Bar): void {
    const c = bar.close;
    const b = this.bands;
    b.update(c);
    const r = this.rsi.update(c);
    // NaN until both are warm: every comparison below is false, so nothing happens.
    const p = this.params;
    let t = this.target;
    if (t <= 0 && c < b.lower && r <= p.oversold) t = this.lots;
    else if (t >= 0 && c > b.upper && r >= p.overbought) t = p.allowShort ? -this.lots : 0;
    else if ((t > 0 && c >= b.middle) || (t < 0 && c <= b.middle)) t = 0;
    if (t !== this.target) {
      this.target = t;
      this.rebalanceTo(this.instrumentId, t);
    }
  }
}
