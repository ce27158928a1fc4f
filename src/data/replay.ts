// Replay: merges time-ordered EventBatch sources (catalog queries, loaders) into one stream ordered by event
// time, stable and deterministic (ties: source order, then row order), moving typed-array rows with no JS object
// per row; memory is bounded by the sources' batch sizes, never by data length. Units: micros, ticks, lots.

import { Bot4Error, ErrorCode } from '../core/errors.ts';
import type { InstrumentRegistry } from '../model/instrument.ts';
import {
  Bar,
  BookDelta,
  EventBatch,
  FundingRate,
  MarkPrice,
  QuoteTick,
  RecordKind,
  TradeTick,
} from '../model/market-data.ts';
import {
  emptyReport,
  type Loader,
  type LoadOptions,
  type Policy,
  type Problem,
  type ValidationReport,
} from './loader.ts';
import { detectLoader } from './loaders/index.ts';
import { canPump, type PumpSource, type RunSink } from './run-sink.ts';

/** Which timestamp orders the merged stream: venue time (default) or Bot4's receive/load time. */
export type OrderKey = 'tsEvent' | 'tsInit';

/** A source of batches in time order. Batches may be reused by the source: each is valid until the next. */
export type BatchSource = AsyncIterable<EventBatch>;

/** The columnar fast path: receives each merged batch (valid only during the call). */
export interface BatchConsumer {
  onBatch(batch: EventBatch): void;
}

export const DEFAULT_REPLAY_BATCH = 8192;

/** What a replay saw. `outOfOrder` counts rows whose key went backwards within one source (kept, in place). */
export class ReplayStats {
  events = 0;
  batches = 0;
  firstTs = Number.NaN;
  lastTs = Number.NaN;
  outOfOrder = 0;
  /** Rows a reorder window released after a later row had already gone (window too short for the data). */
  late = 0;
}

function keysOf(batch: EventBatch, key: OrderKey): Float64Array {
  return key === 'tsInit' ? batch.tsInit : batch.tsEvent;
}

/** Runs this long copy column by column (tight loops); shorter ones row by row. Both allocation-free. */
const LONG_RUN = 16;

/** Appends rows [from, to) of `src` to `dst` (caller checks room). */
export function copyRows(src: EventBatch, from: number, to: number, dst: EventBatch): void {
  const o = dst.length;
  if (to - from >= LONG_RUN) {
    const d = o - from;
    copyU8(src.kind, dst.kind, from, to, d);
    copyI32(src.instrument, dst.instrument, from, to, d);
    copyF64(src.tsEvent, dst.tsEvent, from, to, d);
    copyF64(src.tsInit, dst.tsInit, from, to, d);
    copyF64(src.a, dst.a, from, to, d);
    copyF64(src.b, dst.b, from, to, d);
    copyF64(src.c, dst.c, from, to, d);
    copyF64(src.d, dst.d, from, to, d);
    copyF64(src.e, dst.e, from, to, d);
    copyF64(src.f, dst.f, from, to, d);
    copyF64(src.seq, dst.seq, from, to, d);
  } else {
    for (let i = from, j = o; i < to; i++, j++) {
      dst.kind[j] = src.kind[i]!;
      dst.instrument[j] = src.instrument[i]!;
      dst.tsEvent[j] = src.tsEvent[i]!;
      dst.tsInit[j] = src.tsInit[i]!;
      dst.a[j] = src.a[i]!;
      dst.b[j] = src.b[i]!;
      dst.c[j] = src.c[i]!;
      dst.d[j] = src.d[i]!;
      dst.e[j] = src.e[i]!;
      dst.f[j] = src.f[i]!;
      dst.seq[j] = src.seq[i]!;
    }
  }
  dst.length = o + (to - from);
}

function copyF64(s: Float64Array, t: Float64Array, from: number, to: number, d: number): void {
  for (let i = from; i < to; i++) t[i + d] = s[i]!;
}

function copyI32(s: Int32Array, t: Int32Array, from: number, to: number, d: number): void {
  for (let i = from; i < to; i++) t[i + d] = s[i]!;
}

function copyU8(s: Uint8Array, t: Uint8Array, from: number, to: number, d: number): void {
  for (let i = from; i < to; i++) t[i + d] = s[i]!;
}

const EMPTY_KEYS = new Float64Array(0);

/** Read position in one source. Fields are initialised so V8 keeps one shape and unboxed doubles. */
class Cursor {
  readonly index: number;
  readonly iter: AsyncIterator<EventBatch>;
  batch: EventBatch | null = null;
  keys: Float64Array = EMPTY_KEYS;
  pos = 0;
  end = 0;
  /** keys[pos], kept beside the cursor so heap comparisons do not chase the array. */
  head = 0;
  /** Last key taken from this source (order check across batches). */
  last = Number.NEGATIVE_INFINITY;

  constructor(index: number, iter: AsyncIterator<EventBatch>) {
    this.index = index;
    this.iter = iter;
  }
}

/** Strict order of cursor heads: key, then source index (the stable tie rule). */
function before(x: Cursor, y: Cursor): boolean {
  return x.head < y.head || (x.head === y.head && x.index < y.index);
}

export interface MergeOptions {
  /** Rows per output batch (default 8192). The output batch is reused: consume it before the next. */
  batchSize?: number;
  orderBy?: OrderKey;
}

/**
 * k-way merge of time-ordered sources over a binary heap of cursors. The head cursor gives a run of rows up to
 * the runner-up's key, copied column by column; when one source is left (or a whole batch precedes the
 * others) its batch passes through without a copy. A source that goes backwards is counted, not reordered.
 * `pump` hands the same runs over in place instead of copying them (the copy was half the cost of a catalog
 * read with 18 interleaved sources); iteration and pump may follow one another (e.g. the first batch iterated
 * to register instruments, the rest pumped).
 */
export class Merge implements PumpSource {
  readonly stats = new ReplayStats();
  private readonly sources: readonly BatchSource[];
  private readonly out: EventBatch;
  private readonly orderBy: OrderKey;
  private used = false;
  private opened = false;
  private readonly heap: Cursor[] = [];
  private readonly cursors: Cursor[] = [];
  /** The cursor whose run ended the last output batch: settled (refilled, re-sifted) only once it is consumed. */
  private unsettled: Cursor | null = null;
  /** The whole source batch the last fill handed over as the output batch (iteration yields it as it is). */
  private whole: EventBatch | null = null;
  /** Where runs go: null copies them into `out`. */
  private sink: RunSink | null = null;

  constructor(sources: readonly BatchSource[], options: MergeOptions = {}) {
    this.sources = sources;
    this.out = new EventBatch(checkBatchSize(options.batchSize ?? DEFAULT_REPLAY_BATCH));
    this.orderBy = options.orderBy ?? 'tsEvent';
  }

  [Symbol.asyncIterator](): AsyncIterator<EventBatch> {
    this.claim();
    return this.run();
  }

  /**
   * Hands every remaining row to `sink` in merged order, in place: no copy into an output batch. The rows and
   * batch boundaries are exactly those iteration would give. Resolves at the end of the data or when
   * `sink.batchEnd` says stop; the sources are released either way.
   */
  async pump(sink: RunSink): Promise<void> {
    this.used = true;
    this.sink = sink;
    try {
      for (;;) {
        const n = await this.fill();
        if (n === 0) break;
        this.stats.batches++;
        const go = sink.batchEnd();
        if (!(go === true || (go !== false && (await go)))) break;
      }
    } finally {
      this.sink = null;
      await this.release();
    }
  }

  private claim(): void {
    if (this.used) {
      throw new Bot4Error(ErrorCode.INVALID_ARGUMENT, 'a Merge can be iterated once; build a new one');
    }
    this.used = true;
  }

  private async *run(): AsyncGenerator<EventBatch> {
    const out = this.out;
    try {
      for (;;) {
        const n = await this.fill();
        if (n === 0) break;
        const w = this.whole;
        if (w !== null) {
          this.whole = null;
          this.count(w);
          yield w;
        } else {
          this.count(out);
          yield out;
          out.clear();
        }
      }
    } finally {
      // Early exit (break, error): let every source release what it holds (files, DuckDB connections).
      await this.release();
    }
  }

  private async release(): Promise<void> {
    await Promise.allSettled(this.cursors.map((c) => c.iter.return?.()));
  }

  /**
   * Moves the next output batch's rows: copied into `out`, handed to the sink, or (a whole source batch that
   * precedes everything else) left in `whole`. Returns the row count, 0 at the end of the data.
   */
  private async fill(): Promise<number> {
    const heap = this.heap;
    if (!this.opened) {
      this.opened = true;
      for (let i = 0; i < this.sources.length; i++) {
        const c = new Cursor(i, this.sources[i]![Symbol.asyncIterator]());
        this.cursors.push(c);
        if (await this.refill(c)) heap.push(c);
      }
      for (let i = (heap.length >> 1) - 1; i >= 0; i--) siftDown(heap, i);
    }
    const held = this.unsettled;
    if (held !== null) {
      // After the consumer is done with the batch, as iteration always did: a refill may reuse its rows.
      this.unsettled = null;
      if (!(await this.settle(held))) siftDown(heap, 0);
    }
    const out = this.out;
    const sink = this.sink;
    const stats = this.stats;
    const capacity = out.capacity;
    let filled = 0;
    while (heap.length > 0) {
      const top = heap[0]!;
      // Runner-up: the smaller child of the root.
      let second: Cursor | null = null;
      if (heap.length > 1) {
        second = heap[1]!;
        if (heap.length > 2 && before(heap[2]!, second)) second = heap[2]!;
      }
      const keys = top.keys;
      const start = top.pos;
      const room = capacity - filled;
      const limit = top.end - start < room ? top.end : start + room;
      let i = start;
      let prev = top.last;
      if (second === null) {
        for (; i < limit; i++) {
          const k = keys[i]!;
          if (k < prev) stats.outOfOrder++;
          prev = k;
        }
      } else {
        const k2 = second.head;
        const topFirst = top.index < second.index;
        for (; i < limit; i++) {
          const k = keys[i]!;
          if (k > k2 || (k === k2 && !topFirst)) break;
          if (k < prev) stats.outOfOrder++;
          prev = k;
        }
      }
      top.last = prev;
      const batch = top.batch!;
      top.pos = i;
      if (i < top.end) top.head = keys[i]!;
      if (start === 0 && i === top.end && filled === 0) {
        // The whole batch precedes everything else: hand it over as it is.
        if (sink === null) this.whole = batch;
        else this.sinkRows(sink, batch, 0, i);
        this.unsettled = top;
        return i;
      }
      if (sink === null) copyRows(batch, start, i, out);
      else this.sinkRows(sink, batch, start, i);
      filled += i - start;
      if (filled === capacity) {
        this.unsettled = top;
        return filled;
      }
      if (!(top.pos === top.end && (await this.settle(top)))) siftDown(heap, 0);
    }
    return filled;
  }

  /**
   * Refills the heap's top cursor when its batch is used up, dropping it from the heap when its source has
   * ended; true when the heap was rearranged that way (else the caller sifts the top down).
   */
  private async settle(top: Cursor): Promise<boolean> {
    if (top.pos !== top.end || (await this.refill(top))) return false;
    const heap = this.heap;
    const last = heap.pop()!;
    if (heap.length > 0) {
      heap[0] = last;
      siftDown(heap, 0);
    }
    return true;
  }

  private sinkRows(sink: RunSink, b: EventBatch, from: number, to: number): void {
    const s = this.stats;
    const keys = keysOf(b, this.orderBy);
    if (s.events === 0) s.firstTs = keys[from]!;
    s.lastTs = keys[to - 1]!;
    s.events += to - from;
    sink.rows(b, from, to);
  }

  /** Loads the cursor's next non-empty batch; false when the source is exhausted. */
  private async refill(c: Cursor): Promise<boolean> {
    for (;;) {
      const r = await c.iter.next();
      if (r.done === true) {
        c.batch = null;
        c.keys = EMPTY_KEYS;
        c.pos = 0;
        c.end = 0;
        return false;
      }
      const b = r.value;
      if (b.length === 0) continue;
      c.batch = b;
      c.keys = keysOf(b, this.orderBy);
      c.pos = 0;
      c.end = b.length;
      c.head = c.keys[0]!;
      return true;
    }
  }

  private count(b: EventBatch): void {
    const s = this.stats;
    const keys = keysOf(b, this.orderBy);
    if (s.events === 0) s.firstTs = keys[0]!;
    s.lastTs = keys[b.length - 1]!;
    s.events += b.length;
    s.batches++;
  }
}

function siftDown(heap: Cursor[], i: number): void {
  const n = heap.length;
  const item = heap[i]!;
  for (;;) {
    const l = 2 * i + 1;
    if (l >= n) break;
    const r = l + 1;
    let m = l;
    if (r < n && before(heap[r]!, heap[l]!)) m = r;
    if (!before(heap[m]!, item)) break;
    heap[i] = heap[m]!;
    i = m;
  }
  heap[i] = item;
}

function checkBatchSize(n: number): number {
  if (!Number.isInteger(n) || n < 1) {
    throw new Bot4Error(ErrorCode.INVALID_ARGUMENT, `batchSize ${n} must be a positive integer`, {
      batchSize: n,
    });
  }
  return n;
}

export function merge(sources: readonly BatchSource[], options: MergeOptions = {}): Merge {
  return new Merge(sources, options);
}

// ------------------------------------------------------------------------------------------- reordering

export interface ReorderOptions {
  /** A row is held until a row this much later (in the key) has arrived. Default 2 s. */
  windowMicros?: number;
  /** Rows held at most; past it the earliest rows go out early (memory bound). Default 65,536. */
  maxRows?: number;
  batchSize?: number;
  orderBy?: OrderKey;
}

/**
 * Sorts a nearly ordered source within a bounded window: a raw capture is ordered by receive time, and its
 * venue times interleave across record kinds by up to the venue's latency spread (Binance USD-M: 110 ms around a
 * depth snapshot). Stable (equal keys keep arrival order). A row that arrives after a later row already left is
 * counted in `stats.late` and sent at once (never dropped, never re-timed).
 *
 * Per row the work is synchronous and allocation-free: releasing a row only moves the `relEnd` mark over the
 * held rows; released rows are copied to the output a batch at a time, and only a full output batch (or the
 * end) suspends the async iteration.
 */
export class Reorder implements AsyncIterable<EventBatch> {
  readonly stats = new ReplayStats();
  private readonly source: BatchSource;
  private readonly window: number;
  private readonly buf: EventBatch;
  private readonly out: EventBatch;
  private readonly orderBy: OrderKey;
  /** Held rows are buf[head, length): [head, relEnd) released in order, not yet copied out; the rest waiting. */
  private head = 0;
  private relEnd = 0;
  private released = Number.NEGATIVE_INFINITY;
  private maxKey = Number.NEGATIVE_INFINITY;

  constructor(source: BatchSource, options: ReorderOptions = {}) {
    this.source = source;
    this.window = options.windowMicros ?? 2_000_000;
    const maxRows = checkBatchSize(options.maxRows ?? 65_536);
    this.buf = new EventBatch(maxRows);
    this.out = new EventBatch(checkBatchSize(options.batchSize ?? DEFAULT_REPLAY_BATCH));
    this.orderBy = options.orderBy ?? 'tsEvent';
    if (!(this.window >= 0)) {
      throw new Bot4Error(ErrorCode.INVALID_ARGUMENT, `reorder window ${this.window} us must be >= 0`);
    }
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<EventBatch> {
    const buf = this.buf;
    const out = this.out;
    for await (const b of this.source) {
      const n = b.length;
      let i = 0;
      while (i < n) {
        i = this.take(b, i, n);
        // A full output batch's worth released: send it (the only suspension per output batch).
        while (this.relEnd - this.head >= out.capacity - out.length) {
          this.moveOut(out.capacity - out.length);
          this.count(out);
          yield out;
          out.clear();
        }
        if (buf.length === buf.capacity) {
          // Full: send the earliest eighth if nothing is released yet, move released rows out, then compact.
          if (this.relEnd === this.head) this.releaseCount(buf.capacity >> 3 || 1);
          while (this.relEnd > this.head) {
            this.moveOut(Math.min(this.relEnd - this.head, out.capacity - out.length));
            if (out.length === out.capacity) {
              this.count(out);
              yield out;
              out.clear();
            }
          }
          this.compact();
        }
      }
    }
    this.releaseTo(Number.POSITIVE_INFINITY);
    while (this.relEnd > this.head) {
      this.moveOut(Math.min(this.relEnd - this.head, out.capacity - out.length));
      if (out.length === out.capacity || this.relEnd === this.head) {
        if (out.length > 0) {
          this.count(out);
          yield out;
          out.clear();
        }
      }
    }
    if (out.length > 0) {
      this.count(out);
      yield out;
      out.clear();
    }
  }

  /**
   * Inserts rows i.. of `b` until the buffer is full or an output batch's worth is released; returns the
   * index of the first row not taken. Synchronous: no promise, generator or object per row. Rows of one
   * message share a key (a depth update's levels): such a run goes in with one shift, as row-by-row insertion
   * would place it, when its key is inside the window (releases go up to maxKey - window: none falls inside the run).
   */
  private take(b: EventBatch, i: number, n: number): number {
    const buf = this.buf;
    const keys = keysOf(b, this.orderBy);
    const bufKeys = keysOf(buf, this.orderBy);
    const room = this.out.capacity - this.out.length;
    const window = this.window;
    while (i < n) {
      const free = buf.capacity - buf.length;
      if (free === 0) return i;
      const k = keys[i]!;
      // Not Math.max: a NaN key leaves maxKey as it was.
      let top = this.maxKey;
      if (k > top) top = k;
      let j = i + 1;
      if (top - k < window) {
        const lim = n - i < free ? n : i + free;
        while (j < lim && keys[j] === k) j++;
      }
      this.insert(b, i, j, k);
      this.maxKey = top;
      i = j;
      const r = this.relEnd;
      if (r < buf.length && top - bufKeys[r]! > window) {
        this.releaseTo(top - window);
        if (this.relEnd - this.head >= room) return i;
      }
    }
    return n;
  }

  /**
   * Inserts rows [i, j) of `b`, all with key k, after the last held row with key <= k among the unreleased
   * ones (stable), shifting later rows up.
   */
  private insert(b: EventBatch, i: number, j: number, k: number): void {
    const buf = this.buf;
    const keys = keysOf(buf, this.orderBy);
    const m = j - i;
    let at = buf.length;
    if (at > this.relEnd && keys[at - 1]! > k) {
      let lo = this.relEnd;
      let hi = at;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (keys[mid]! <= k) lo = mid + 1;
        else hi = mid;
      }
      at = lo;
      shiftUp(buf, at, m);
    }
    if (k < this.released) this.stats.late += m;
    const n = buf.length;
    buf.length = at;
    if (m === 1) buf.copyRow(b, i);
    else copyRows(b, i, j, buf);
    buf.length = n + m;
  }

  /** Releases the held rows with key <= upTo (in order). */
  private releaseTo(upTo: number): void {
    const buf = this.buf;
    const keys = keysOf(buf, this.orderBy);
    let r = this.relEnd;
    const n = buf.length;
    while (r < n && keys[r]! <= upTo) r++;
    this.markReleased(r);
  }

  /** Releases the next `count` held rows whatever their keys (memory bound). */
  private releaseCount(count: number): void {
    this.markReleased(Math.min(this.buf.length, this.relEnd + count));
  }

  private markReleased(r: number): void {
    if (r > this.relEnd) {
      const k = keysOf(this.buf, this.orderBy)[r - 1]!;
      if (k > this.released) this.released = k;
      this.relEnd = r;
    }
  }

  /** Copies the next `m` released rows to the output (the caller checks room). */
  private moveOut(m: number): void {
    const h = this.head;
    copyRows(this.buf, h, h + m, this.out);
    this.head = h + m;
    if (this.head === this.buf.length) {
      this.buf.length = 0;
      this.head = 0;
      this.relEnd = 0;
    }
  }

  private compact(): void {
    const buf = this.buf;
    const h = this.head;
    if (h === 0) return;
    const n = buf.length - h;
    buf.kind.copyWithin(0, h, buf.length);
    buf.instrument.copyWithin(0, h, buf.length);
    for (const col of f64Columns(buf)) col.copyWithin(0, h, buf.length);
    buf.length = n;
    this.relEnd -= h;
    this.head = 0;
  }

  private count(b: EventBatch): void {
    const s = this.stats;
    const keys = keysOf(b, this.orderBy);
    if (s.events === 0) s.firstTs = keys[0]!;
    s.lastTs = keys[b.length - 1]!;
    s.events += b.length;
    s.batches++;
  }
}

function f64Columns(b: EventBatch): Float64Array[] {
  return [b.tsEvent, b.tsInit, b.a, b.b, b.c, b.d, b.e, b.f, b.seq];
}

/** Moves rows [at, length) up by m (memmove per column); the caller then writes rows [at, at + m). */
function shiftUp(b: EventBatch, at: number, m: number): void {
  const n = b.length;
  const to = at + m;
  b.kind.copyWithin(to, at, n);
  b.instrument.copyWithin(to, at, n);
  b.tsEvent.copyWithin(to, at, n);
  b.tsInit.copyWithin(to, at, n);
  b.a.copyWithin(to, at, n);
  b.b.copyWithin(to, at, n);
  b.c.copyWithin(to, at, n);
  b.d.copyWithin(to, at, n);
  b.e.copyWithin(to, at, n);
  b.f.copyWithin(to, at, n);
  b.seq.copyWithin(to, at, n);
}

// ------------------------------------------------------------------------------------------- consumers

/** Drives a stream into a consumer, batch by batch; returns what it saw. */
export async function replay(
  stream: AsyncIterable<EventBatch>,
  consumer: BatchConsumer,
  orderBy: OrderKey = 'tsEvent',
): Promise<ReplayStats> {
  const s = new ReplayStats();
  for await (const b of stream) {
    const n = b.length;
    if (n === 0) continue;
    const keys = keysOf(b, orderBy);
    if (s.events === 0) s.firstTs = keys[0]!;
    s.lastTs = keys[n - 1]!;
    s.events += n;
    s.batches++;
    consumer.onBatch(b);
  }
  if (stream instanceof Merge) s.outOfOrder = stream.stats.outOfOrder;
  if (stream instanceof Reorder) s.late = stream.stats.late;
  return s;
}

/** Per-record handlers; each receives a reused object, valid only during the call. */
export interface RecordHandler {
  onQuote(q: QuoteTick): void;
  onTrade(t: TradeTick): void;
  onDelta(d: BookDelta): void;
  onBar(b: Bar): void;
  onMark(m: MarkPrice): void;
  onFunding(f: FundingRate): void;
}

function ignore(): void {}

/**
 * Adapter from the columnar stream to per-record handlers: one switch on the kind per row, one reused record
 * object per kind, so dispatch allocates nothing. Missing handlers ignore their records.
 */
export class RecordDispatcher implements BatchConsumer {
  readonly quote = new QuoteTick();
  readonly trade = new TradeTick();
  readonly delta = new BookDelta();
  readonly bar = new Bar();
  readonly mark = new MarkPrice();
  readonly funding = new FundingRate();
  private readonly h: RecordHandler;

  constructor(handler: Partial<RecordHandler>) {
    // Bound once, so the handler's own `this` still works through the stored methods.
    this.h = {
      onQuote: handler.onQuote?.bind(handler) ?? ignore,
      onTrade: handler.onTrade?.bind(handler) ?? ignore,
      onDelta: handler.onDelta?.bind(handler) ?? ignore,
      onBar: handler.onBar?.bind(handler) ?? ignore,
      onMark: handler.onMark?.bind(handler) ?? ignore,
      onFunding: handler.onFunding?.bind(handler) ?? ignore,
    };
  }

  onBatch(b: EventBatch): void {
    const h = this.h;
    const kind = b.kind;
    for (let i = 0, n = b.length; i < n; i++) {
      switch (kind[i]) {
        case RecordKind.QUOTE:
          h.onQuote(b.readQuote(i, this.quote));
          break;
        case RecordKind.TRADE:
          h.onTrade(b.readTrade(i, this.trade));
          break;
        case RecordKind.DELTA:
          h.onDelta(b.readDelta(i, this.delta));
          break;
        case RecordKind.BAR:
          h.onBar(b.readBar(i, this.bar));
          break;
        case RecordKind.MARK_PRICE:
          h.onMark(b.readMark(i, this.mark));
          break;
        case RecordKind.FUNDING_RATE:
          h.onFunding(b.readFunding(i, this.funding));
          break;
      }
    }
  }
}

// ------------------------------------------------------------------------------------------- sources

/** In-memory batches as a source (tests, benchmarks, data already loaded). */
export function batchesSource(batches: readonly EventBatch[]): BatchSource {
  return {
    async *[Symbol.asyncIterator]() {
      for (const b of batches) yield b;
    },
  };
}

export interface FileSourceOptions {
  instruments: InstrumentRegistry;
  /** The loader to use; by default the registry's detectLoader picks one per file. */
  loader?: Loader;
  policies?: Partial<Record<Problem, Policy>>;
  /** Rows a policy would skip are errors (LoadOptions.strict). */
  strict?: boolean;
  venue?: string;
  symbol?: string;
  batchSize?: number;
  signal?: AbortSignal;
}

/** A loader over one file as a source; `report` fills in as the file is read. */
export function fileSource(
  file: string,
  options: FileSourceOptions,
  report: ValidationReport = emptyReport(file),
): BatchSource {
  const loader = options.loader ?? detectLoader(file);
  const load: LoadOptions = {
    instruments: options.instruments,
    ...(options.batchSize === undefined ? {} : { batchSize: options.batchSize }),
    ...(options.policies === undefined ? {} : { policies: options.policies }),
    ...(options.strict === true ? { strict: true } : {}),
    ...(options.venue === undefined ? {} : { venue: options.venue }),
    ...(options.symbol === undefined ? {} : { symbol: options.symbol }),
    ...(options.signal === undefined ? {} : { signal: options.signal }),
  };
  return loader.load(file, load, report);
}

export interface FileReplayOptions extends FileSourceOptions {
  orderBy?: OrderKey;
  /** Reorder window per file for venue-time order (see Reorder); 0 disables it. Default 2 s. */
  reorderWindowMicros?: number;
  /** Output rows per batch. */
  outputBatchSize?: number;
}

/** The streams of a file replay, with one validation report per file (complete once the stream ends). */
export interface FileReplay {
  stream: Merge;
  reports: ValidationReport[];
  reorders: Reorder[];
}

/**
 * Replays files directly through their loaders (no catalog): each file becomes a source (re-sorted within a
 * bounded window when ordered by venue time, since captures arrive in receive order), and the files merge in
 * the order given. Instruments intern into `options.instruments`.
 */
export function replayFiles(files: readonly string[], options: FileReplayOptions): FileReplay {
  const orderBy = options.orderBy ?? 'tsEvent';
  const window = options.reorderWindowMicros ?? 2_000_000;
  const reports: ValidationReport[] = [];
  const reorders: Reorder[] = [];
  const sources: BatchSource[] = files.map((file) => {
    const report = emptyReport(file);
    reports.push(report);
    const src = fileSource(file, options, report);
    if (window <= 0) return src;
    const r = new Reorder(src, {
      windowMicros: window,
      orderBy,
      ...(options.outputBatchSize === undefined ? {} : { batchSize: options.outputBatchSize }),
    });
    reorders.push(r);
    return r;
  });
  const stream = new Merge(sources, {
    orderBy,
    ...(options.outputBatchSize === undefined ? {} : { batchSize: options.outputBatchSize }),
  });
  return { stream, reports, reorders };
}

/**
 * replayFiles, with the first merged batch already read: loaders register instruments as they read, and by
 * the first output batch every file has announced its own, so a kernel can be built from the registry before
 * the replay runs. Throws DATA_MISSING when the files hold no data.
 */
export async function primedReplay(
  files: readonly string[],
  options: FileReplayOptions,
): Promise<AsyncIterable<EventBatch>> {
  return primed(replayFiles(files, options).stream, files.join(', '));
}

/**
 * Any source with its first batch already read (loaders register instruments as they read; a catalog query's
 * sources open their files). Throws DATA_MISSING naming `what` when the source is empty. `inspect` sees the
 * first batch (e.g. to tell bar-only data and its interval) before anything consumes it.
 */
export async function primed(
  source: BatchSource,
  what: string,
  inspect?: (first: EventBatch) => void,
): Promise<AsyncIterable<EventBatch>> {
  const it = source[Symbol.asyncIterator]();
  const first = await it.next();
  if (first.done === true) {
    throw new Bot4Error(ErrorCode.DATA_MISSING, `no market data in ${what}`, { source: what });
  }
  inspect?.(first.value);
  const rest = (async function* () {
    yield first.value;
    for (let r = await it.next(); r.done !== true; r = await it.next()) yield r.value;
  })();
  if (!canPump(source)) return rest;
  // A Merge underneath: the first batch, then the rest handed over in place.
  const primedPump: PumpSource = {
    [Symbol.asyncIterator]: () => rest,
    async pump(sink: RunSink): Promise<void> {
      const b = first.value;
      sink.rows(b, 0, b.length);
      const go = sink.batchEnd();
      if (go === true || (go !== false && (await go))) await source.pump(sink);
      else await it.return?.();
    },
  };
  return primedPump;
}
