// ML signal: a model file (Bot4 linear or XGBoost JSON) predicts from the feature rows of a feature spec at each
// bar close; at or above `long` the target is long, at or below `short` it is short (or flat when shorts are off),
// between the two the position is held. Sizes come from the sizing module (fixed quantity or a fraction of equity).
// Features come through the same FeatureFeed the dataset builder records with, so training and trading agree.
// Units: prices ticks, targets lots; the thresholds are in the model's output units (a return, or a probability).

import type { L2Book } from '../../book/l2-book.ts';
import { Bot4Error, ErrorCode } from '../../core/errors.ts';
import type { InstrumentId } from '../../core/units.ts';
import { FeatureFeed, loadFeatureSpec } from '../../ml/feature-feed.ts';
import { LinearModel } from '../../ml/linear.ts';
import { loadRowModel, type RowModel } from '../../ml/model-file.ts';
import { Retrainer, SwappableModel } from '../../ml/retrainer.ts';
import { completeRows } from '../../ml/train.ts';
import type { Instrument } from '../../model/instrument.ts';
import type { Bar, QuoteTick, TradeTick } from '../../model/market-data.ts';
import { fixedFractionLots, fixedQtyLots } from '../../risk/sizing.ts';
import type { BookUpdate } from '../context.ts';
import { bool, choice, float, int, type ParamInput, text } from '../params.ts';
import { Strategy, type Subscriptions } from '../strategy.ts';

const PARAMS = {
  instrument: text({ default: 'BTCUSDT', description: 'instrument traded (SYMBOL or SYMBOL.VENUE)' }),
  model: text({ default: '', description: 'model file: Bot4 linear JSON (bot4 ml train) or XGBoost JSON' }),
  features: text({ default: '', description: 'feature spec JSON the model was trained on' }),
  long: float({
    default: 0,
    min: -1,
    max: 1,
    step: 0.0001,
    description: 'go long when the prediction is at or above this (a return, or a probability)',
  }),
  short: float({
    default: 0,
    min: -1,
    max: 1,
    step: 0.0001,
    description: 'go short (or flat) when the prediction is at or below this',
  }),
  allowShort: bool({ default: false, description: 'short below the short threshold instead of flat' }),
  sizing: choice(['fixed', 'fraction'], {
    default: 'fixed',
    description: "'fixed': qty base units; 'fraction': that fraction of equity at the bar close",
  }),
  qty: float({
    default: 0.01,
    min: 0,
    step: 0.01,
    description: 'position size in base units (sizing=fixed)',
  }),
  fraction: float({
    default: 0.1,
    min: 0,
    max: 10,
    step: 0.05,
    description: 'fraction of equity per position (sizing=fraction)',
  }),
  retrainEvery: int({
    default: 0,
    min: 0,
    max: 1_000_000,
    step: 100,
    description: 'retrain a linear model (ridge, in a worker thread) every N bars; 0 = never',
  }),
  retrainWindow: int({
    default: 2000,
    min: 10,
    max: 1_000_000,
    step: 100,
    description: 'bars of history per retrain',
  }),
  retrainHorizon: int({
    default: 15,
    min: 1,
    max: 10_000,
    step: 1,
    description: 'retrain label: log return of the close over this many bars',
  }),
  retrainLag: int({
    default: 5,
    min: 1,
    max: 10_000,
    step: 1,
    description: 'bars from a retrain request to the model swap (waits for the worker if it is not done)',
  }),
  retrainAlpha: float({ default: 1, min: 0, step: 0.5, description: 'ridge penalty of the retrained model' }),
};

export class MlSignal extends Strategy<typeof PARAMS> {
  static override readonly params = PARAMS;
  static override readonly description =
    'model predictions on a feature spec: long above a threshold, short/flat below it (linear or XGBoost)';

  // Set in subscriptions() (the model and spec load when a host attaches the strategy, so the defaults construct).
  private feed: FeatureFeed | null = null;
  private model: RowModel | null = null;
  /** The model's input row, gathered from the engine's row in the model's feature order. */
  private x: Float64Array = new Float64Array(0);
  private take: Int32Array = new Int32Array(0);
  private inst: Instrument | null = null;
  private instrumentId = 0 as InstrumentId;
  /** The side this strategy holds: 1 long, -1 short, 0 flat. */
  private side = 0;
  /** Tests and reports: every prediction made, when set to an array. */
  predictions: number[] | null = null;
  // Retraining (retrainEvery > 0): the recent model inputs and closes in rings, the bar count, the swap bar.
  private retrainer: Retrainer | null = null;
  private histX: Float64Array = new Float64Array(0);
  private histClose: Float64Array = new Float64Array(0);
  private bars = 0;
  private swapAt = -1;

  constructor(params: ParamInput<typeof PARAMS> = {}) {
    super(params);
    const p = this.params;
    if (!(p.short <= p.long)) {
      throw new Bot4Error(
        ErrorCode.INVALID_ARGUMENT,
        `strategy ${this.name}: parameter 'short' (${p.short}) must not be above 'long' (${p.long})`,
      );
    }
  }

  /** Loads the feature spec and the model (edge: errors name the files and what does not fit). */
  override subscriptions(): Subscriptions {
    const p = this.params;
    if (p.model === '' || p.features === '') {
      throw new Bot4Error(
        ErrorCode.INVALID_ARGUMENT,
        `strategy ${this.name}: parameters 'model' and 'features' are required (--param model=FILE --param features=SPEC.json)`,
      );
    }
    const spec = loadFeatureSpec(p.features);
    const m = loadRowModel(p.model);
    const missing = m.features.filter((f) => !spec.names.includes(f));
    if (missing.length > 0) {
      throw new Bot4Error(
        ErrorCode.INVALID_ARGUMENT,
        `strategy ${this.name}: model ${p.model} reads ${missing.join(', ')}, which feature spec ${p.features} does not make (it makes ${spec.names.join(', ')})`,
      );
    }
    this.feed = new FeatureFeed(spec);
    this.model = m.model;
    if (p.retrainEvery > 0) {
      if (!(m.model instanceof LinearModel)) {
        throw new Bot4Error(
          ErrorCode.INVALID_ARGUMENT,
          `strategy ${this.name}: retrainEvery needs a linear model (${p.model} is ${m.format}); XGBoost models are trained elsewhere`,
        );
      }
      const target = new SwappableModel(m.model);
      this.model = target;
      this.retrainer = Retrainer.start(target, { trainer: 'ridge', alpha: p.retrainAlpha });
      const cap = p.retrainWindow + p.retrainHorizon;
      this.histX = new Float64Array(cap * m.features.length);
      this.histClose = new Float64Array(cap);
    }
    this.take = Int32Array.from(m.features, (f) => spec.names.indexOf(f));
    this.x = new Float64Array(m.features.length);
    return this.feed.subscriptions(p.instrument);
  }

  override onStart(): void {
    this.inst = this.instrument(this.params.instrument);
    this.instrumentId = this.inst.id;
    this.feed!.instrumentId = this.inst.id;
  }

  override onTrade(t: TradeTick): void {
    this.feed!.trade(t);
  }

  override onQuote(q: QuoteTick): void {
    this.feed!.quote(q);
  }

  override onBook(book: L2Book, update: BookUpdate): void {
    this.feed!.book(book, update);
  }

  override onBar(bar: Bar): void {
    const feed = this.feed!;
    if (!feed.bar(bar, this.now)) return;
    const row = feed.engine.row;
    const x = this.x;
    const take = this.take;
    for (let i = 0; i < take.length; i++) x[i] = row[take[i]!]!;
    if (this.retrainer !== null) this.retrainStep(bar.close);
    const pred = this.model!.predict(x, 0);
    this.predictions?.push(pred);
    this.decide(pred, bar.close);
  }

  override onStop(): void {
    void this.retrainer?.close();
  }

  /**
   * Keeps the row in the history; swaps in the model requested retrainLag bars ago (waiting for the worker if it
   * is not done, so a backtest swaps at the same bar as live); every retrainEvery bars requests a ridge fit on the
   * rows of the window whose label (the close retrainHorizon bars later) is known. Allocates only when it requests.
   */
  private retrainStep(close: number): void {
    const p = this.params;
    const d = this.x.length;
    const cap = this.histClose.length;
    const t = this.bars++;
    const slot = t % cap;
    this.histX.set(this.x, slot * d);
    this.histClose[slot] = close;
    if (t === this.swapAt) {
      this.swapAt = -1;
      if (!this.retrainer!.swapNow()) this.log.warn(`model not swapped: ${this.retrainer!.lastError}`);
    }
    if (t === 0 || t % p.retrainEvery !== 0 || this.retrainer!.busy) return;
    const h = p.retrainHorizon;
    const first = Math.max(0, t - cap + 1);
    const n = t - h - first + 1;
    if (n < d + 2) return;
    const x = new Float64Array(n * d);
    const y = new Float64Array(n);
    for (let k = 0; k < n; k++) {
      const i = first + k;
      x.set(this.histX.subarray((i % cap) * d, (i % cap) * d + d), k * d);
      y[k] = Math.log(this.histClose[(i + h) % cap]! / this.histClose[i % cap]!);
    }
    const rows = completeRows(
      x,
      y,
      d,
      Int32Array.from({ length: n }, (_, k) => k),
    );
    if (rows.length >= d + 2 && this.retrainer!.request(x, y, d, rows)) this.swapAt = t + p.retrainLag;
  }

  /** The target from one prediction (NaN while features warm up: no change). */
  private decide(pred: number, px: number): void {
    const p = this.params;
    let side = 0;
    if (pred >= p.long) side = 1;
    else if (pred <= p.short) side = p.allowShort ? -1 : 0;
    else return;
    // Sized when the side changes, not every bar: equity-based sizes would otherwise trade on every mark.
    if (side === this.side) return;
    this.side = side;
    this.rebalanceTo(this.instrumentId, side === 0 ? 0 : side * this.lots(px));
  }

  private lots(px: number): number {
    const inst = this.inst!;
    if (this.params.sizing === 'fixed') return fixedQtyLots(inst, this.params.qty, true);
    const equity = this.ctx.portfolio.equity(inst.settlement.id);
    return fixedFractionLots(inst, px, equity, this.params.fraction, true);
  }
}
