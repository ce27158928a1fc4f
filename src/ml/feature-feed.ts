// The one path from engine events to feature rows: a FeatureFeed sits inside a strategy and turns the bars,
// trades and book updates the host delivers into FeatureEngine calls. The dataset builder (FeatureRecorder, a
// strategy that only records) and the ml-signal strategy both use it, in backtest as in live, so a model trades on
// exactly the features it was trained on. Prices ticks, sizes lots (as doubles), times micros.

import { readFileSync } from 'node:fs';
import type { L2Book } from '../book/l2-book.ts';
import { Bot4Error, ErrorCode } from '../core/errors.ts';
import type { Bar, QuoteTick, TradeTick } from '../model/market-data.ts';
import { Side } from '../model/market-data.ts';
import type { BookUpdate } from '../strategy/context.ts';
import { text } from '../strategy/params.ts';
import { Strategy, type Subscriptions } from '../strategy/strategy.ts';
import { FeatureEngine, type FeatureSpec, parseFeatureSpec } from './features.ts';

/** Reads and checks a feature spec file (edge: errors name the file and the bad key). */
export function loadFeatureSpec(file: string): FeatureSpec {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Bot4Error(
      ErrorCode.INVALID_ARGUMENT,
      `feature spec ${file} cannot be read as JSON: ${(e as Error).message}`,
      {
        file,
      },
    );
  }
  return parseFeatureSpec(json, `feature spec ${file}`);
}

export class FeatureFeed {
  readonly engine: FeatureEngine;
  readonly spec: FeatureSpec;
  instrumentId = -1;

  constructor(spec: FeatureSpec) {
    this.spec = spec;
    this.engine = new FeatureEngine(spec);
  }

  subscriptions(instrument: string): Subscriptions {
    const s = this.spec;
    return {
      bars: [{ instrument, interval: s.intervalMicros }],
      ...(s.needsTrades ? { trades: [instrument] } : {}),
      // Depth where the data has it, quotes otherwise: the engine prefers the book once one arrives.
      ...(s.needsBook ? { books: [instrument], quotes: [instrument] } : {}),
    };
  }

  trade(t: TradeTick): void {
    if (t.instrumentId !== this.instrumentId) return;
    const sign = t.aggressor === Side.BUY ? 1 : t.aggressor === Side.SELL ? -1 : 0;
    this.engine.onTrade(t.tsEvent, t.px, t.qty, sign);
  }

  quote(q: QuoteTick): void {
    if (q.instrumentId === this.instrumentId) this.engine.onQuote(q.bidPx, q.bidQty, q.askPx, q.askQty);
  }

  book(book: L2Book, update: BookUpdate): void {
    if (update.instrumentId === this.instrumentId) this.engine.onBook(book);
  }

  /** True when the bar is this feed's series: the engine's row was recomputed at event time `now`. */
  bar(bar: Bar, now: number): boolean {
    if (bar.instrumentId !== this.instrumentId || bar.interval !== this.spec.intervalMicros) return false;
    this.engine.time[0] = now;
    this.engine.onBar(bar.open, bar.high, bar.low, bar.close, bar.volume);
    return true;
  }
}

const RECORDER_PARAMS = {
  instrument: text({ default: 'BTCUSDT', description: 'instrument whose features are recorded' }),
};

/** Growable columns of doubles (research side: grows by doubling, never per row). */
export class Columns {
  readonly names: readonly string[];
  cols: Float64Array[];
  n = 0;

  constructor(names: readonly string[]) {
    this.names = names;
    this.cols = names.map(() => new Float64Array(1024));
  }

  /** Room for one more row; returns its index. */
  next(): number {
    if (this.n === this.cols[0]!.length) {
      this.cols = this.cols.map((c) => {
        const g = new Float64Array(c.length * 2);
        g.set(c);
        return g;
      });
    }
    return this.n++;
  }

  trimmed(): Float64Array[] {
    return this.cols.map((c) => c.slice(0, this.n));
  }
}

/**
 * Records one feature row per bar, with the row's event time and the bar's close, high and low (for labels).
 * Places no orders: a dataset is the engine's own view of the data, through the same feed ml-signal uses.
 */
export class FeatureRecorder extends Strategy<typeof RECORDER_PARAMS> {
  static override readonly params = RECORDER_PARAMS;
  static override readonly description = 'records feature rows (the ML dataset builder)';
  readonly feed: FeatureFeed;
  readonly out: Columns;

  constructor(params: { instrument?: string }, spec: FeatureSpec) {
    super(params);
    this.feed = new FeatureFeed(spec);
    this.out = new Columns(['ts', ...spec.names, 'close', 'high', 'low']);
  }

  override subscriptions(): Subscriptions {
    return this.feed.subscriptions(this.params.instrument);
  }

  override onStart(): void {
    this.feed.instrumentId = this.instrument(this.params.instrument).id;
  }

  override onTrade(t: TradeTick): void {
    this.feed.trade(t);
  }

  override onQuote(q: QuoteTick): void {
    this.feed.quote(q);
  }

  override onBook(book: L2Book, update: BookUpdate): void {
    this.feed.book(book, update);
  }

  override onBar(bar: Bar): void {
    const now = this.now;
    if (!this.feed.bar(bar, now)) return;
    const r = this.out.next();
    const c = this.out.cols;
    const row = this.feed.engine.row;
    c[0]![r] = now;
    for (let i = 0; i < row.length; i++) c[i + 1]![r] = row[i]!;
    c[row.length + 1]![r] = bar.close;
    c[row.length + 2]![r] = bar.high;
    c[row.length + 3]![r] = bar.low;
  }
}
