// What the engine thread and the feed worker share: the ring's record layout and the messages they post.
// A frame becomes one HEADER record followed by its rows (one per decoded row), claimed together and published
// with one store, so a visible header always has its rows. Records are 12 float64 words (96 bytes).
// Units: stamps are the worker's monotonic ns (the engine shifts them by the two threads' time origins).

import type { InstrumentSpec } from '../model/instrument.ts';
import type { ConnectionEvent, WsSupervisorOptions } from '../venues/binance/ws-supervisor.ts';

export const FEED_RECORD_WORDS = 12;
export const FEED_RECORD_BYTES = FEED_RECORD_WORDS * 8;

/** Word 0 of a header record (a row's word 0 is its RecordKind, >= 0). */
export const FEED_HEADER = -1;
/** Header word 1 (the parse result) of the marker the worker writes when its connection opens. */
export const FEED_OPENED = -100;

/** Header words. */
export const FeedHeader = {
  TAG: 0,
  RESULT: 1,
  ROWS: 2,
  INSTRUMENT: 3,
  FIRST_ID: 4,
  LAST_ID: 5,
  PREV_ID: 6,
  TS_EVENT: 7,
  READ_NS: 8,
  FRAME_NS: 9,
  PARSED_NS: 10,
} as const;

/** Word indices of the shared counters (Int32Array over `counters`). */
export const FeedCounter = {
  /** Frames dropped because the ring stayed full (the engine thread fell behind by the whole ring). */
  DROPPED: 0,
  FRAMES: 1,
} as const;
export const FEED_COUNTER_WORDS = 2;

export interface FeedWorkerInit {
  url: string;
  /** The instruments in registry order: the worker rebuilds them with the same ids. */
  specs: { id: number; spec: InstrumentSpec }[];
  ring: SharedArrayBuffer;
  counters: SharedArrayBuffer;
  /** CPU to pin the worker's thread to, or null. */
  cpu: number | null;
  connection: Partial<Omit<WsSupervisorOptions, 'name' | 'url' | 'onMessage' | 'onOpen' | 'onEvent'>>;
}

/** Worker -> engine. */
export type FeedWorkerMessage =
  | { type: 'ready'; timeOrigin: number; pinned: string }
  | {
      type: 'connection';
      event: ConnectionEvent;
      opens: number;
      reconnects: number;
      rollovers: number;
      pongTimeouts: number;
    }
  | { type: 'stopped' }
  | { type: 'failed'; message: string };

/** Engine -> worker. */
export type FeedEngineMessage = { type: 'stop' } | { type: 'drop'; reason: string };
