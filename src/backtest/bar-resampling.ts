// Bars a strategy asks for at another interval than the recorded bars of candle data: 15m bars for a strategy
// on 1m candles are resampled from the 1m bars as they replay (data/bars.ts BarResampler), so the strategy gets
// the bar the 15m slot's trades would have given, at the same moment (the close of its last 1m bar). Ticks or
// quotes of an instrument feed the kernel's own aggregators instead; recorded bars of it are then not resampled
// (else the strategy would get each bar twice). Units: micros, ticks, lots. Per bar: no allocation.

import { BarResampler } from '../data/bars.ts';
import type { Bar } from '../model/market-data.ts';

export class RecordedBarResampling {
  /** Per instrument id, one resampler per interval its strategies subscribed to. */
  private readonly byInstrument: (BarResampler[] | undefined)[] = [];
  /** 1 once an instrument's quotes or trades were seen: the kernel's aggregators make its bars. */
  private readonly ticks: Uint8Array;

  /** `intervals[id]` are the bar intervals strategies asked for on instrument `id` (the kernel's barAggs). */
  constructor(
    intervals: readonly (readonly { readonly interval: number }[] | undefined)[],
    publish: (bar: Bar) => void,
  ) {
    this.ticks = new Uint8Array(intervals.length + 1);
    for (let id = 0; id < intervals.length; id++) {
      const list = intervals[id];
      if (list === undefined || list.length === 0) continue;
      this.byInstrument[id] = list.map((a) => new BarResampler(a.interval, publish, { instrumentId: id }));
    }
  }

  /** The instrument has tick data (quotes or trades): its subscribed bars come from them. */
  markTicks(instrumentId: number): void {
    if (instrumentId < this.ticks.length) this.ticks[instrumentId] = 1;
  }

  /**
   * A recorded bar was published: feed it to each resampler of a larger interval it divides. Intervals it
   * cannot make (smaller, or not a multiple) get nothing; the host counts the bars it dropped.
   */
  onBar(bar: Bar): void {
    const id = bar.instrumentId;
    const list = this.byInstrument[id];
    if (list === undefined || this.ticks[id] === 1) return;
    const src = bar.interval;
    for (let k = 0; k < list.length; k++) {
      const r = list[k]!;
      if (src > 0 && r.interval > src && r.interval % src === 0) r.updateBar(bar);
    }
  }
}
