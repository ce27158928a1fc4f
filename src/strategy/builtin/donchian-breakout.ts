// Donchian breakout (turtle style) on bars: long when a close breaks above the highest high of the previous
// `entryPeriod` bars, short (if allowed) below the lowest low; exit on the opposite `exitPeriod` channel.
// Channels are read before the current bar is added, so a bar never breaks out of a channel containing itself.

import { Bot4Error, ErrorCode } from '../../core/errors.ts';
import type { InstrumentId } from '../../core/units.ts';
import { DonchianChannels } from '../../indicators/volatility.ts';
import type { Bar } from '../../model/market-data.ts';
import { bool, choice, float, int, type ParamInput, text } from '../params.ts';
import { Strategy, type Subscriptions } from '../strategy.ts';

const PARAMS = {
  instrument: text({ default: 'BTCUSDT', description: 'instrument traded (SYMBOL or SYMBOL.VENUE)' }),
  interval: choice(['1m', '5m', '15m', '1h', '4h', '1d'], { default: '1h', description: 'bar interval' }),
  entryPeriod: int({
    default: 20,
    min: 2,
    max: 500,
    step: 1,
    description: 'breakout channel length in bars',
  }),
  exitPeriod: int({ default: 10, min: 1, max: 500, step: 1, description: 'exit channel length in bars' }),
  qty: float({
    default: 0.01,
    min: 0,
    step: 0.01,
    description: 'position size in base units (a lot multiple)',
  }),
  allowShort: bool({ default: false, description: 'also trade downside breakouts' }),
};

export class DonchianBreakout extends Strategy<typeof PARAMS> {
  static override readonly params = PARAMS;
  static override readonly description = 'Donchian channel breakout with an exit channel (turtle style)';

  private readonly entry = new DonchianChannels(this.params.entryPeriod);
  private readonly exit = new DonchianChannels(this.params.exitPeriod);
  private instrumentId = 0 as InstrumentId;
  private lots = 0;
  private target = 0;

  constructor(params: ParamInput<typeof PARAMS> = {}) {
    super(params);
  }

  override subscriptions(): Subscriptions {
    return { bars: [{ instrument: this.params.instrument, interval: this.params.interval }] };
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
    const en = this.entry;
    const ex = this.exit;
    let t = this.target;
    // Channels of the bars before this one (NaN until full: the comparisons are then false).
    if (c > en.upper) t = this.lots;
    else if (c < en.lower && this.params.allowShort) t = -this.lots;
    else if ((t > 0 && c < ex.lower) || (t < 0 && c > ex.upper)) t = 0;
    en.update(bar.high, bar.low);
    ex.update(bar.high, bar.low);
    if (t !== this.target) {
      this.target = t;
      this.rebalanceTo(this.instrumentId, t);
    }
  }
}
