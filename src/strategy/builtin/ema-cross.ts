// EMA-cross trend following: long when the fast EMA crosses above the slow one, flat (or short) when it crosses
// below. Works on bar closes or on quote mids; decide() is the whole decision (two EMA updates and a compare).
// Units: prices in ticks (as doubles: an EMA is rarely on the grid), position targets in lots.

import { Bot4Error, ErrorCode } from '../../core/errors.ts';
import type { InstrumentId } from '../../core/units.ts';
import { Ema } from '../../indicators/moving-averages.ts';
import type { Instrument } from '../../model/instrument.ts';
import type { Bar, QuoteTick } from '../../model/market-data.ts';
import { EwmaVolatility } from '../../risk/sizing.ts';
import { bool, choice, float, int, type ParamInput, text } from '../params.ts';
import { Strategy, type Subscriptions } from '../strategy.ts';

/** What decide() asks for. Integers, so the decision path returns a code, not an object. */
export const CrossIntent = { NONE: 0, UP: 1, DOWN: 2 } as const;
export type CrossIntent = (typeof CrossIntent)[keyof typeof CrossIntent];

const PARAMS = {
  instrument: text({ default: 'BTCUSDT', description: 'instrument traded (SYMBOL or SYMBOL.VENUE)' }),
  fast: int({ default: 10, min: 1, max: 500, step: 1, description: 'fast EMA period' }),
  slow: int({ default: 30, min: 2, max: 2000, step: 1, description: 'slow EMA period (> fast)' }),
  qty: float({
    default: 0.01,
    min: 0,
    step: 0.01,
    description: 'position size in base units (a lot multiple)',
  }),
  source: choice(['bar', 'quote'], { default: 'bar', description: 'bar closes or quote mids' }),
  interval: choice(['1m', '5m', '15m', '1h', '4h', '1d'], {
    default: '1m',
    description: 'bar interval when source=bar',
  }),
  allowShort: bool({ default: false, description: 'go short on a down-cross instead of flat' }),
};

export class EmaCross extends Strategy<typeof PARAMS> {
  static override readonly params = PARAMS;
  static override readonly description =
    'EMA crossover trend following (long on up-cross, flat/short on down-cross)';
  /** The size may change while running (the next signal trades the new size); the EMAs may not. */
  static override readonly liveParams = ['qty', 'allowShort'];

  private readonly fast = new Ema(this.params.fast);
  private readonly slow = new Ema(this.params.slow);
  private readonly useQuotes: boolean = this.params.source === 'quote';
  /** Realised volatility of the prices decided on, for a volatility-target sizing policy (--sizing vol:20%). */
  private readonly vol = new EwmaVolatility(this.params.slow);
  /** Sign of fast - slow at the last decision: 1 above, -1 below, 0 before both EMAs are ready. */
  private regime = 0;
  private instrumentId = 0 as InstrumentId;
  private lots = 0;
  private inst: Instrument | undefined = undefined;

  constructor(params: ParamInput<typeof PARAMS> = {}) {
    super(params);
    if (this.params.fast >= this.params.slow) {
      throw new Bot4Error(
        ErrorCode.INVALID_ARGUMENT,
        `strategy ${this.name}: parameter 'fast' (${this.params.fast}) must be below 'slow' (${this.params.slow})`,
        { fast: this.params.fast, slow: this.params.slow },
      );
    }
  }

  override subscriptions(): Subscriptions {
    const p = this.params;
    return this.useQuotes
      ? { quotes: [p.instrument] }
      : { bars: [{ instrument: p.instrument, interval: p.interval }] };
  }

  override onStart(): void {
    const inst = this.instrument(this.params.instrument);
    this.inst = inst;
    this.instrumentId = inst.id;
    this.lots = inst.qtyFromFloat(this.params.qty);
    if (this.lots <= 0) {
      throw new Bot4Error(ErrorCode.INVALID_ARGUMENT, `strategy ${this.name}: qty must be at least one lot`);
    }
  }

  override onParamsChanged(key: string): void {
    if (key === 'qty' && this.inst !== undefined) {
      const lots = this.inst.qtyFromFloat(this.params.qty);
      // The check ran in the schema (qty >= 0); a size below one lot would silence the strategy.
      if (lots <= 0) {
        throw new Bot4Error(
          ErrorCode.INVALID_ARGUMENT,
          `strategy ${this.name}: qty must be at least one lot`,
        );
      }
      this.lots = lots;
    }
  }

  /** Ready once the slow EMA is seeded: its first value is the SMA of the first `slow` prices. */
  override warmUp(): { done: boolean; needed: number } {
    return { done: this.slow.ready, needed: this.params.slow };
  }

  /** Feeds one price and returns the crossing it completes, if any. The strategy's whole decision step. */
  decide(px: number): CrossIntent {
    const f = this.fast.update(px);
    const s = this.slow.update(px);
    // NaN while either EMA warms up: both compares are false, so no regime and no signal.
    const side = f > s ? 1 : f < s ? -1 : 0;
    const prev = this.regime;
    if (side === 0 || side === prev) return CrossIntent.NONE;
    this.regime = side;
    // The first regime after warm-up is where we are, not a crossing.
    if (prev === 0) return CrossIntent.NONE;
    return side > 0 ? CrossIntent.UP : CrossIntent.DOWN;
  }

  override onQuote(q: QuoteTick): void {
    if (this.useQuotes) {
      const mid = (q.bidPx + q.askPx) * 0.5;
      this.vol.update(mid, q.tsEvent);
      this.act(this.decide(mid), mid);
    }
  }

  override onBar(bar: Bar): void {
    if (this.useQuotes) return;
    this.vol.update(bar.close, bar.tsClose);
    this.act(this.decide(bar.close), bar.close);
  }

  /** `px`: the price the decision was made at (ticks), which sizes the position under risk.sizing. */
  private act(intent: CrossIntent, px: number): void {
    if (intent === CrossIntent.NONE) return;
    const lots = this.size(this.inst!, px, this.lots, Number.NaN, this.vol.value);
    if (intent === CrossIntent.UP) this.rebalanceTo(this.instrumentId, lots);
    else this.rebalanceTo(this.instrumentId, this.params.allowShort ? -lots : 0);
  }
}
