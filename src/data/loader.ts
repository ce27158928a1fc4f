// The contract every market-data loader follows: stream a file (any size, gzip handled) into columnar
// EventBatch chunks, validating as it goes. Problems are never silent: each has a policy (fail, skip and
// count, repair where safe) and lands in a ValidationReport with file and line of the first examples.

import type { InstrumentRegistry } from '../model/instrument.ts';
import type { EventBatch } from '../model/market-data.ts';

export const Problem = {
  MALFORMED_ROW: 'malformed_row',
  OUT_OF_ORDER: 'out_of_order',
  DUPLICATE_TRADE: 'duplicate_trade',
  CROSSED_BOOK: 'crossed_book',
  SEQUENCE_GAP: 'sequence_gap',
  NON_POSITIVE: 'non_positive',
  /** A bar's volume finer than the lot: a measurement, so repair rounds it to the nearest lot (half even). */
  INEXACT_VOLUME: 'inexact_volume',
} as const;
export type Problem = (typeof Problem)[keyof typeof Problem];

/** fail: stop with an error naming file and line; skip: drop the row and count it; repair: fix where safe. */
export type Policy = 'fail' | 'skip' | 'repair';

export const DEFAULT_POLICIES: Readonly<Record<Problem, Policy>> = {
  malformed_row: 'skip',
  out_of_order: 'skip',
  duplicate_trade: 'skip',
  crossed_book: 'skip',
  sequence_gap: 'repair',
  non_positive: 'skip',
  inexact_volume: 'repair',
};

export interface ProblemExample {
  line: number;
  message: string;
}

export interface ValidationReport {
  file: string;
  /** Data rows read (not counting headers and blank lines). */
  rows: number;
  /** Records emitted, by record kind name (quote, trade, delta, bar...). */
  records: Record<string, number>;
  problems: Record<Problem, number>;
  /** Of `problems`, the rows dropped (skipped); the rest were kept (repaired). Absent = none dropped. */
  dropped: Partial<Record<Problem, number>>;
  /** The first few examples of each problem, with line numbers. */
  examples: Partial<Record<Problem, ProblemExample[]>>;
  /** Instrument keys ("SYMBOL.VENUE") seen, and the time range covered (micros). */
  instruments: string[];
  firstTs: number;
  lastTs: number;
  /** Free-text facts worth knowing (where an instrument's steps came from, message types not converted). */
  notes: string[];
}

export interface LoadProgress {
  file: string;
  bytesRead: number;
  /** Total bytes of the file on disk (compressed size for gzip); 0 when unknown. */
  bytesTotal: number;
  rows: number;
}

export interface LoadOptions {
  /** Where instruments are found or created (symbols are interned to ids here). */
  instruments: InstrumentRegistry;
  /** Rows per emitted batch (default 65,536). Batches are reused: consume each before asking for the next. */
  batchSize?: number;
  policies?: Partial<Record<Problem, Policy>>;
  /** Any row a policy would drop is an error naming file:line instead (`--strict`); repairs still pass. */
  strict?: boolean;
  /** Called every few hundred milliseconds of work on long files. */
  onProgress?: (p: LoadProgress) => void;
  signal?: AbortSignal;
  /** Venue name override when a file does not say (e.g. an OHLCV CSV). */
  venue?: string;
  /** Symbol override when a file does not say. */
  symbol?: string;
}

export interface Loader {
  /** Short name, e.g. 'binance-ws-capture', shown in import summaries. */
  readonly name: string;
  /** True if this loader reads the file, judged from its name and first lines. */
  detect(file: string, head: string): boolean;
  /** Streams the file as batches; `report` is complete when the iterator finishes. */
  load(file: string, options: LoadOptions, report: ValidationReport): AsyncIterable<EventBatch>;
}

export function emptyReport(file: string): ValidationReport {
  return {
    file,
    rows: 0,
    records: {},
    problems: {
      malformed_row: 0,
      out_of_order: 0,
      duplicate_trade: 0,
      crossed_book: 0,
      sequence_gap: 0,
      non_positive: 0,
      inexact_volume: 0,
    },
    dropped: {},
    examples: {},
    instruments: [],
    firstTs: Number.POSITIVE_INFINITY,
    lastTs: Number.NEGATIVE_INFINITY,
    notes: [],
  };
}
