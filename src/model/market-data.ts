// Market-data records: quote (best bid/ask), trade, L2 book delta, bar, mark price and funding rate.
// Two forms of the same data: one reusable object per record kind for handlers (strategies, books, the
// simulated exchange), and a columnar `EventBatch` of typed arrays that loaders fill and replay moves in
// chunks, with no JS object per row. Prices are integer ticks, sizes integer lots, times micros (UTC).

import type { InstrumentId, Micros, PriceTicks, QtyLots } from '../core/units.ts';

export const RecordKind = {
  QUOTE: 1,
  TRADE: 2,
  DELTA: 3,
  BAR: 4,
  MARK_PRICE: 5,
  FUNDING_RATE: 6,
} as const;
export type RecordKind = (typeof RecordKind)[keyof typeof RecordKind];
export const RECORD_KIND_NAMES: Readonly<Record<RecordKind, string>> = {
  1: 'quote',
  2: 'trade',
  3: 'delta',
  4: 'bar',
  5: 'mark',
  6: 'funding',
};

/** Record kind from its name in RECORD_KIND_NAMES; undefined for any other name. */
export function recordKindByName(name: string): RecordKind | undefined {
  for (const [k, n] of Object.entries(RECORD_KIND_NAMES)) if (n === name) return Number(k) as RecordKind;
  return undefined;
}

/** Book side of a delta, and the aggressor side of a trade (BUY: the taker bought). */
export const Side = { BUY: 1, SELL: 2 } as const;
export type Side = (typeof Side)[keyof typeof Side];
/** Aggressor unknown (some venues do not say). */
export const NO_SIDE = 0;

/**
 * Flags of a book delta. SNAPSHOT deltas rebuild a book; CLEAR empties it first; LAST ends a venue message;
 * GAP marks the first delta after a sequence gap: the book is out of sync until the next SNAPSHOT.
 */
export const DeltaFlag = { SNAPSHOT: 1, CLEAR: 2, LAST: 4, GAP: 8 } as const;

/** Funding rates and similar fractions as integers in 1e-8 units (exact for every venue figure seen). */
export const RATE_SCALE = 100_000_000;

export class QuoteTick {
  instrumentId = 0 as InstrumentId;
  /** Venue time of the event, and Bot4's receive (or load) time. */
  tsEvent = 0 as Micros;
  tsInit = 0 as Micros;
  bidPx = 0 as PriceTicks;
  bidQty = 0 as QtyLots;
  askPx = 0 as PriceTicks;
  askQty = 0 as QtyLots;
  /** Venue sequence (e.g. Binance bookTicker `u`), 0 when absent. */
  sequence = 0;
}

export class TradeTick {
  instrumentId = 0 as InstrumentId;
  tsEvent = 0 as Micros;
  tsInit = 0 as Micros;
  px = 0 as PriceTicks;
  qty = 0 as QtyLots;
  /** Side.BUY when the taker bought, Side.SELL when the taker sold, NO_SIDE when unknown. */
  aggressor: number = NO_SIDE;
  /** Venue trade id (numeric; venues with string ids are interned at the edge). */
  tradeId = 0;
}

export class BookDelta {
  instrumentId = 0 as InstrumentId;
  tsEvent = 0 as Micros;
  tsInit = 0 as Micros;
  side: number = Side.BUY;
  px = 0 as PriceTicks;
  /** New total size at the level; 0 deletes it. */
  qty = 0 as QtyLots;
  flags = 0;
  /** Venue update id of the message this delta came from (Binance `u`). */
  sequence = 0;
}

export class Bar {
  instrumentId = 0 as InstrumentId;
  /** Bar open and close times; a bar is published at tsClose, never before (no look-ahead). */
  tsOpen = 0 as Micros;
  tsClose = 0 as Micros;
  tsInit = 0 as Micros;
  open = 0 as PriceTicks;
  high = 0 as PriceTicks;
  low = 0 as PriceTicks;
  close = 0 as PriceTicks;
  volume = 0 as QtyLots;
  /** Bar length in micros for time bars, 0 for tick/volume/value bars. */
  interval = 0;
}

export class MarkPrice {
  instrumentId = 0 as InstrumentId;
  tsEvent = 0 as Micros;
  tsInit = 0 as Micros;
  px = 0 as PriceTicks;
  indexPx = 0 as PriceTicks;
}

export class FundingRate {
  instrumentId = 0 as InstrumentId;
  tsEvent = 0 as Micros;
  tsInit = 0 as Micros;
  /** Rate in 1e-8 units (RATE_SCALE): 0.0001 = 10_000. */
  rate = 0;
  /** Time of the next funding payment. */
  nextFundingTime = 0 as Micros;
}

/** The typed arrays behind an EventBatch (see EventBatch for what a..f mean per kind). */
export type EventColumns = Pick<
  EventBatch,
  'kind' | 'instrument' | 'tsEvent' | 'tsInit' | 'a' | 'b' | 'c' | 'd' | 'e' | 'f' | 'seq'
>;

/**
 * Columnar batch of records of any kind, in one layout so that several instruments and kinds merge and
 * replay without conversion. Fields a..f mean, per kind:
 *   QUOTE   a bidPx  b bidQty  c askPx  d askQty  seq sequence
 *   TRADE   a px     b qty     c aggressor        seq tradeId
 *   DELTA   a px     b qty     c side    d flags  seq sequence
 *   BAR     a open   b high    c low     d close  e volume  f interval  seq tsOpen; tsEvent = tsClose
 *   MARK    a px     b indexPx
 *   FUNDING a rate   b nextFundingTime
 */
export class EventBatch {
  readonly capacity: number;
  length = 0;
  readonly kind: Uint8Array;
  readonly instrument: Int32Array;
  readonly tsEvent: Float64Array;
  readonly tsInit: Float64Array;
  readonly a: Float64Array;
  readonly b: Float64Array;
  readonly c: Float64Array;
  readonly d: Float64Array;
  readonly e: Float64Array;
  readonly f: Float64Array;
  readonly seq: Float64Array;

  /** `columns`: existing arrays of at least `capacity` rows to use instead of new ones (nothing is copied). */
  constructor(capacity: number, columns?: EventColumns) {
    this.capacity = capacity;
    this.kind = columns?.kind ?? new Uint8Array(capacity);
    this.instrument = columns?.instrument ?? new Int32Array(capacity);
    this.tsEvent = columns?.tsEvent ?? new Float64Array(capacity);
    this.tsInit = columns?.tsInit ?? new Float64Array(capacity);
    this.a = columns?.a ?? new Float64Array(capacity);
    this.b = columns?.b ?? new Float64Array(capacity);
    this.c = columns?.c ?? new Float64Array(capacity);
    this.d = columns?.d ?? new Float64Array(capacity);
    this.e = columns?.e ?? new Float64Array(capacity);
    this.f = columns?.f ?? new Float64Array(capacity);
    this.seq = columns?.seq ?? new Float64Array(capacity);
  }

  /**
   * A full batch over rows [from, to) of existing columns, as subarray views: no copy. Workers replay a data
   * set held in SharedArrayBuffers this way, each through its own views of the one copy.
   */
  static view(columns: EventColumns, from: number, to: number): EventBatch {
    const sub = <T extends Uint8Array | Int32Array | Float64Array>(x: T): T => x.subarray(from, to) as T;
    const b = new EventBatch(to - from, {
      kind: sub(columns.kind),
      instrument: sub(columns.instrument),
      tsEvent: sub(columns.tsEvent),
      tsInit: sub(columns.tsInit),
      a: sub(columns.a),
      b: sub(columns.b),
      c: sub(columns.c),
      d: sub(columns.d),
      e: sub(columns.e),
      f: sub(columns.f),
      seq: sub(columns.seq),
    });
    b.length = to - from;
    return b;
  }

  get full(): boolean {
    return this.length >= this.capacity;
  }

  clear(): void {
    this.length = 0;
  }

  /** Appends one row; returns its index. The caller checks `full` first (loaders flush full batches). */
  push(
    kind: RecordKind,
    instrument: number,
    tsEvent: number,
    tsInit: number,
    a: number,
    b: number,
    c = 0,
    d = 0,
    e = 0,
    f = 0,
    seq = 0,
  ): number {
    const i = this.length++;
    this.kind[i] = kind;
    this.instrument[i] = instrument;
    this.tsEvent[i] = tsEvent;
    this.tsInit[i] = tsInit;
    this.a[i] = a;
    this.b[i] = b;
    this.c[i] = c;
    this.d[i] = d;
    this.e[i] = e;
    this.f[i] = f;
    this.seq[i] = seq;
    return i;
  }

  /** Copies row `i` of `src` to the end of this batch. */
  copyRow(src: EventBatch, i: number): void {
    this.push(
      src.kind[i] as RecordKind,
      src.instrument[i]!,
      src.tsEvent[i]!,
      src.tsInit[i]!,
      src.a[i]!,
      src.b[i]!,
      src.c[i]!,
      src.d[i]!,
      src.e[i]!,
      src.f[i]!,
      src.seq[i]!,
    );
  }

  readQuote(i: number, out: QuoteTick): QuoteTick {
    out.instrumentId = this.instrument[i]! as InstrumentId;
    out.tsEvent = this.tsEvent[i]! as Micros;
    out.tsInit = this.tsInit[i]! as Micros;
    out.bidPx = this.a[i]! as PriceTicks;
    out.bidQty = this.b[i]! as QtyLots;
    out.askPx = this.c[i]! as PriceTicks;
    out.askQty = this.d[i]! as QtyLots;
    out.sequence = this.seq[i]!;
    return out;
  }

  readTrade(i: number, out: TradeTick): TradeTick {
    out.instrumentId = this.instrument[i]! as InstrumentId;
    out.tsEvent = this.tsEvent[i]! as Micros;
    out.tsInit = this.tsInit[i]! as Micros;
    out.px = this.a[i]! as PriceTicks;
    out.qty = this.b[i]! as QtyLots;
    out.aggressor = this.c[i]!;
    out.tradeId = this.seq[i]!;
    return out;
  }

  readDelta(i: number, out: BookDelta): BookDelta {
    out.instrumentId = this.instrument[i]! as InstrumentId;
    out.tsEvent = this.tsEvent[i]! as Micros;
    out.tsInit = this.tsInit[i]! as Micros;
    out.px = this.a[i]! as PriceTicks;
    out.qty = this.b[i]! as QtyLots;
    out.side = this.c[i]!;
    out.flags = this.d[i]!;
    out.sequence = this.seq[i]!;
    return out;
  }

  readBar(i: number, out: Bar): Bar {
    out.instrumentId = this.instrument[i]! as InstrumentId;
    out.tsClose = this.tsEvent[i]! as Micros;
    out.tsInit = this.tsInit[i]! as Micros;
    out.open = this.a[i]! as PriceTicks;
    out.high = this.b[i]! as PriceTicks;
    out.low = this.c[i]! as PriceTicks;
    out.close = this.d[i]! as PriceTicks;
    out.volume = this.e[i]! as QtyLots;
    out.interval = this.f[i]!;
    out.tsOpen = this.seq[i]! as Micros;
    return out;
  }

  readMark(i: number, out: MarkPrice): MarkPrice {
    out.instrumentId = this.instrument[i]! as InstrumentId;
    out.tsEvent = this.tsEvent[i]! as Micros;
    out.tsInit = this.tsInit[i]! as Micros;
    out.px = this.a[i]! as PriceTicks;
    out.indexPx = this.b[i]! as PriceTicks;
    return out;
  }

  readFunding(i: number, out: FundingRate): FundingRate {
    out.instrumentId = this.instrument[i]! as InstrumentId;
    out.tsEvent = this.tsEvent[i]! as Micros;
    out.tsInit = this.tsInit[i]! as Micros;
    out.rate = this.a[i]!;
    out.nextFundingTime = this.b[i]! as Micros;
    return out;
  }
}
