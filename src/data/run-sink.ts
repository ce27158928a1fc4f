// Handing merged market-data rows over in place: a stream that can pump its rows into a sink instead of copying
// them into output batches (Merge.pump, and the backtest runner as the sink). Apart from replay.ts so that a
// consumer can test for it without loading the loaders. Units: rows of EventBatch.

import type { EventBatch } from '../model/market-data.ts';

/**
 * Takes merged rows in place, without a copy (Merge.pump): runs of rows of the sources' own batches, valid only
 * during the call, and the points where an iterating consumer's batch would end.
 */
export interface RunSink {
  /** Rows [from, to) of `b`, next in merged order. */
  rows(b: EventBatch, from: number, to: number): void;
  /** An output batch ends here (same boundaries as iteration); false, or a promise of false, stops the pump. */
  batchEnd(): boolean | Promise<boolean>;
}

/** A time-ordered stream that can also hand its rows over in place (see Merge.pump). */
export interface PumpSource extends AsyncIterable<EventBatch> {
  pump(sink: RunSink): Promise<void>;
}

/** Whether `x` can pump (see PumpSource). */
export function canPump(x: unknown): x is PumpSource {
  return typeof (x as { pump?: unknown } | null)?.pump === 'function';
}
