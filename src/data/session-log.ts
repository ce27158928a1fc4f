// The event log of a paper or live session (`<catalog>/sessions/<id>/events.b4s`): every market event and
// every order event the node handled, in the order it handled them, with the engine time of each. Written in
// batches off the event path (a row is 11 stores into a preallocated Float64Array; full buffers go to the
// file through async writes), read back whole for `bot4 backtest --replay-session`, and its market rows
// imported into the session's own catalog (Parquet) when the session stops.
// File: 16-byte header (magic "BOT4SES1", u32 doubles per row = 11, u32 0), then rows of 11 little-endian
// float64: [tag, instrument, tsEvent, tsInit, a, b, c, d, e, f, seq]. Market rows: tag = RecordKind (quote,
// trade, delta: a strategy's book as a snapshot, see book()) and the columns mean what EventBatch's do; tsEvent
// is the venue's time. Order rows: tag = ORDER_TAG + OrderEventKind, a = order id, b = strategy id, c.. by kind
// (see encodeOrderEvent). One CLOCK_TAG row at the stop time. Units: µs (tsInit = engine time), ticks, lots.

import { closeSync, openSync, readFileSync, write, writeSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { L2Book } from '../book/l2-book.ts';
import { Bot4Error, ErrorCode } from '../core/errors.ts';
import type { OrderEvent } from '../model/events.ts';
import type { InstrumentRegistry, InstrumentSpec } from '../model/instrument.ts';
import {
  DeltaFlag,
  EventBatch,
  type QuoteTick,
  RECORD_KIND_NAMES,
  RecordKind,
  Side,
  type TradeTick,
} from '../model/market-data.ts';
import { ORDER_EVENT_KIND_COUNT, OrderEventKind } from '../model/order-state.ts';
import type { Loader, LoadOptions, ValidationReport } from './loader.ts';

export const SESSION_LOG_MAGIC = 'BOT4SES1';
export const SESSION_LOG_HEADER_BYTES = 16;
/** Levels a side of a strategy's book recorded per book update (the book as strategies read it, top first). */
export const BOOK_LEVELS = 20;
/** Doubles per row: tag, instrument, tsEvent, tsInit, a..f, seq. */
export const ROW = 11;
/** Order event rows: ORDER_TAG + OrderEventKind (market rows use RecordKind, 1..6). */
export const ORDER_TAG = 32;
/**
 * The engine clock reached tsInit with no market event (the session's stop): the replay lets the venue
 * deliver what was due by then, as the stopping node did.
 */
export const CLOCK_TAG = 16;
const T_TAG = 0;
const T_INST = 1;
const T_EV = 2;
const T_INIT = 3;
const C_A = 4;
const C_B = 5;
const C_C = 6;
const C_D = 7;
const C_E = 8;
const C_F = 9;
const C_SEQ = 10;

export const SESSION_LOG_FILE = 'events.b4s';
export const SESSION_MANIFEST_FILE = 'session.json';
/** The config's data.catalogDir default, where `bot4 paper|live` record unless told otherwise. */
export const DEFAULT_CATALOG_DIR = '.bot4/catalog';

/** `<catalogDir>/sessions/<id>`. */
export function sessionDir(catalogDir: string, id: string): string {
  return join(resolve(catalogDir), 'sessions', id);
}

/** What a session directory holds besides the log: enough to re-run the session. */
export interface SessionManifest {
  version: 1;
  id: string;
  mode: 'paper' | 'live';
  startedAt: string;
  /** Set when the session stopped cleanly (absent after a crash: the log is read to its last whole row). */
  stoppedAt?: string;
  /** The node config as loaded (venue, instruments, strategies, risk, latency...); it holds no secrets. */
  config: Record<string, unknown>;
  /** Strategies as constructed: resolved name and the parsed parameters. */
  strategies: { name: string; params: Record<string, unknown> }[];
  /** The instruments as the venue defined them (exact tick and lot sizes), index = the log's instrument id. */
  instruments: InstrumentSpec[];
  /** The portfolio's starting balances. */
  balances: { currency: string; amount: string }[];
  /** Simulated order-entry and response latency of a paper session, micros each. */
  paperLatencyMicros: number;
  /** Rows written, by kind name (quote, trade, order events by name), at stop. */
  counts?: Record<string, number>;
}

/** Writes order event `ev` as a row at `out[o..o+ROW)`. Allocation-free. */
export function encodeOrderEvent(ev: OrderEvent, out: Float64Array, o: number): void {
  out[o + T_TAG] = ORDER_TAG + ev.kind;
  out[o + T_INST] = ev.instrumentId;
  out[o + T_EV] = ev.tsEvent;
  out[o + T_INIT] = ev.tsInit;
  out[o + C_A] = ev.orderId;
  out[o + C_B] = ev.strategyId;
  let c = 0;
  let d = 0;
  let e = 0;
  let f = 0;
  let s = 0;
  switch (ev.kind) {
    case OrderEventKind.INITIALIZED: {
      const r = ev.request;
      c = r.side;
      d = r.type;
      e = r.qty;
      f = r.price;
      s = r.triggerPrice;
      break;
    }
    case OrderEventKind.FILLED:
      c = ev.fillQty;
      d = ev.fillPx;
      e = ev.fee;
      f = ev.liquidity;
      break;
    case OrderEventKind.UPDATED:
      c = ev.newQty;
      d = ev.newPrice;
      e = ev.newTriggerPrice;
      break;
    default:
      c = ev.reasonCode;
  }
  out[o + C_C] = c;
  out[o + C_D] = d;
  out[o + C_E] = e;
  out[o + C_F] = f;
  out[o + C_SEQ] = s;
}

/**
 * Appends rows to a session log. Rows go into the current buffer; a full buffer is handed to an async write
 * and the next free buffer takes over (buffers come back when their write completes; a new one is made only
 * when every buffer is still being written, which a disk slower than the feed would cause). `flush()` from a
 * timer hands over a partly filled buffer, so a crash loses at most one timer period of rows.
 */
export class SessionLogWriter {
  readonly file: string;
  /** Rows handed to the file, rows whose write completed, and write errors (the first one kept). */
  rowsQueued = 0;
  rowsWritten = 0;
  writeErrors = 0;
  firstError = '';
  /** Buffers made so far: two at the start, one more each time every buffer was still being written. */
  buffersMade = 2;
  private readonly fd: number;
  private readonly rowsPerBuffer: number;
  private free: Float64Array[] = [];
  private buf: Float64Array;
  private n = 0;
  private pending = 0;
  private position: number;
  private closed = false;
  private drained: (() => void) | undefined = undefined;
  private readonly levelPx = new Float64Array(BOOK_LEVELS);
  private readonly levelQty = new Float64Array(BOOK_LEVELS);
  /** The engine time of the book update being written: a slot, not an argument (a double argument is boxed). */
  private readonly bookTs = new Float64Array(1);
  private readonly engineClock: { now(): number };

  /** `clock`: the engine clock, read for the engine time of quote, trade and book rows. */
  constructor(file: string, rowsPerBuffer = 4096, clock: { now(): number } = { now: () => 0 }) {
    this.file = file;
    this.engineClock = clock;
    this.rowsPerBuffer = rowsPerBuffer;
    this.fd = openSync(file, 'w');
    const head = Buffer.alloc(SESSION_LOG_HEADER_BYTES);
    head.write(SESSION_LOG_MAGIC, 0, 'latin1');
    head.writeUInt32LE(ROW, 8);
    writeSync(this.fd, head, 0, head.length, 0);
    this.position = SESSION_LOG_HEADER_BYTES;
    this.buf = new Float64Array(rowsPerBuffer * ROW);
    this.free.push(new Float64Array(rowsPerBuffer * ROW));
  }

  /**
   * A market record's row (EventBatch columns), for tests and the stop-time row: its double arguments are
   * boxed unless V8 inlines the call, so the event path uses quote(), trade() and book().
   */
  market(
    kind: RecordKind,
    instrument: number,
    tsEvent: number,
    tsInit: number,
    a: number,
    b: number,
    c: number,
    d: number,
    e: number,
    f: number,
    seq: number,
  ): void {
    if (this.closed) return;
    const o = this.n * ROW;
    const w = this.buf;
    w[o + T_TAG] = kind;
    w[o + T_INST] = instrument;
    w[o + T_EV] = tsEvent;
    w[o + T_INIT] = tsInit;
    w[o + C_A] = a;
    w[o + C_B] = b;
    w[o + C_C] = c;
    w[o + C_D] = d;
    w[o + C_E] = e;
    w[o + C_F] = f;
    w[o + C_SEQ] = seq;
    if (++this.n === this.rowsPerBuffer) this.flush();
  }

  /** A CLOCK_TAG row: the engine clock reached `engineTs`. */
  clock(engineTs: number): void {
    this.market(CLOCK_TAG as RecordKind, -1, engineTs, engineTs, 0, 0, 0, 0, 0, 0, 0);
  }

  /**
   * A strategy's book after a depth update, as one snapshot of its top BOOK_LEVELS levels a side (SNAPSHOT on
   * every row, CLEAR on the first, LAST on the last): the depth stream's own deltas never reach the node, and a
   * snapshot replays to the same top of book whatever the venue's diff messages were. Up to 2 x BOOK_LEVELS rows.
   */
  book(instrumentId: number, book: L2Book): void {
    this.bookTs[0] = this.engineClock.now();
    const nb = book.bids.levels(BOOK_LEVELS, this.levelPx, this.levelQty);
    this.bookSide(instrumentId, book, Side.BUY, nb, DeltaFlag.CLEAR, book.asks.count === 0);
    const na = book.asks.levels(BOOK_LEVELS, this.levelPx, this.levelQty);
    this.bookSide(instrumentId, book, Side.SELL, na, nb === 0 ? DeltaFlag.CLEAR : 0, true);
  }

  private bookSide(id: number, book: L2Book, side: number, n: number, first: number, last: boolean): void {
    if (this.closed) return;
    for (let i = 0; i < n; i++) {
      const o = this.n * ROW;
      const w = this.buf;
      w[o + T_TAG] = RecordKind.DELTA;
      w[o + T_INST] = id;
      w[o + T_EV] = book.tsEvent;
      w[o + T_INIT] = this.bookTs[0]!;
      w[o + C_A] = this.levelPx[i]!;
      w[o + C_B] = this.levelQty[i]!;
      w[o + C_C] = side;
      w[o + C_D] = DeltaFlag.SNAPSHOT | (i === 0 ? first : 0) | (last && i === n - 1 ? DeltaFlag.LAST : 0);
      w[o + C_E] = 0;
      w[o + C_F] = 0;
      w[o + C_SEQ] = book.sequence;
      if (++this.n === this.rowsPerBuffer) this.flush();
    }
  }

  /** A quote at the engine's time. Reads fields, takes no double argument: nothing is boxed or allocated. */
  quote(q: QuoteTick): void {
    if (this.closed) return;
    const o = this.n * ROW;
    const w = this.buf;
    w[o + T_TAG] = RecordKind.QUOTE;
    w[o + T_INST] = q.instrumentId;
    w[o + T_EV] = q.tsEvent;
    w[o + T_INIT] = this.engineClock.now();
    w[o + C_A] = q.bidPx;
    w[o + C_B] = q.bidQty;
    w[o + C_C] = q.askPx;
    w[o + C_D] = q.askQty;
    w[o + C_E] = 0;
    w[o + C_F] = 0;
    w[o + C_SEQ] = q.sequence;
    if (++this.n === this.rowsPerBuffer) this.flush();
  }

  /** A trade at the engine's time (as quote()). */
  trade(t: TradeTick): void {
    if (this.closed) return;
    const o = this.n * ROW;
    const w = this.buf;
    w[o + T_TAG] = RecordKind.TRADE;
    w[o + T_INST] = t.instrumentId;
    w[o + T_EV] = t.tsEvent;
    w[o + T_INIT] = this.engineClock.now();
    w[o + C_A] = t.px;
    w[o + C_B] = t.qty;
    w[o + C_C] = t.aggressor;
    w[o + C_D] = 0;
    w[o + C_E] = 0;
    w[o + C_F] = 0;
    w[o + C_SEQ] = t.tradeId;
    if (++this.n === this.rowsPerBuffer) this.flush();
  }

  orderEvent(ev: OrderEvent): void {
    if (this.closed) return;
    encodeOrderEvent(ev, this.buf, this.n * ROW);
    if (++this.n === this.rowsPerBuffer) this.flush();
  }

  /** Hands the rows buffered so far to an async write. */
  flush(): void {
    const n = this.n;
    if (n === 0) return;
    const full = this.buf;
    let next = this.free.pop();
    if (next === undefined) {
      next = new Float64Array(this.rowsPerBuffer * ROW);
      this.buffersMade++;
    }
    this.buf = next;
    this.n = 0;
    const bytes = n * ROW * 8;
    const at = this.position;
    this.position += bytes;
    this.rowsQueued += n;
    this.pending++;
    // Rows are written at their own offset, so completions in any order leave the file in row order.
    write(this.fd, new Uint8Array(full.buffer, 0, bytes), 0, bytes, at, (err) => {
      this.pending--;
      if (err === null) this.rowsWritten += n;
      else if (this.writeErrors++ === 0) this.firstError = err.message;
      // Keep a few spare buffers; the extras a slow disk made go back to the GC.
      if (this.free.length < 4) this.free.push(full);
      if (this.pending === 0) this.drained?.();
    });
  }

  /** Writes handed to the file and not yet completed. */
  get pendingWrites(): number {
    return this.pending;
  }

  /** Flushes, waits for every write, closes the file. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    if (this.pending > 0) await new Promise<void>((r) => (this.drained = r));
    closeSync(this.fd);
  }
}

/** A session log read whole: rows in file order, and what could not be read (counted, never silent). */
export interface SessionLog {
  rows: Float64Array;
  count: number;
  /** Bytes of a last row cut short (a crash mid-write), dropped. */
  truncatedBytes: number;
  /** Rows with an unknown tag or a non-finite time, dropped; the first few described. */
  malformed: number;
  examples: string[];
}

/** Reads a session log; a file that is not one is an error naming it, damaged rows are counted and dropped. */
export function readSessionLog(file: string): SessionLog {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    throw new Bot4Error(ErrorCode.NOT_FOUND, `session log ${file}: ${(e as Error).message}`, { file });
  }
  return parseSessionLog(bytes, file);
}

export function parseSessionLog(bytes: Uint8Array, file = 'session log'): SessionLog {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (
    buf.length < SESSION_LOG_HEADER_BYTES ||
    buf.toString('latin1', 0, 8) !== SESSION_LOG_MAGIC ||
    buf.readUInt32LE(8) !== ROW
  ) {
    throw new Bot4Error(
      ErrorCode.DATA_MALFORMED,
      `${file}: not a Bot4 session log (expected a '${SESSION_LOG_MAGIC}' header with ${ROW} doubles per row)`,
      { file },
    );
  }
  const body = buf.length - SESSION_LOG_HEADER_BYTES;
  const rowBytes = ROW * 8;
  const whole = Math.floor(body / rowBytes);
  const rows = new Float64Array(whole * ROW);
  // Copy byte-wise: the body need not be 8-byte aligned in the Buffer's pool.
  new Uint8Array(rows.buffer).set(
    buf.subarray(SESSION_LOG_HEADER_BYTES, SESSION_LOG_HEADER_BYTES + whole * rowBytes),
  );
  let count = 0;
  let malformed = 0;
  const examples: string[] = [];
  for (let i = 0; i < whole; i++) {
    const o = i * ROW;
    const problem = rowProblem(rows, o);
    if (problem !== undefined) {
      malformed++;
      if (examples.length < 5) examples.push(`row ${i + 1}: ${problem}`);
      continue;
    }
    if (count !== i) rows.copyWithin(count * ROW, o, o + ROW);
    count++;
  }
  return {
    rows: rows.subarray(0, count * ROW),
    count,
    truncatedBytes: body - whole * rowBytes,
    malformed,
    examples,
  };
}

function rowProblem(r: Float64Array, o: number): string | undefined {
  const tag = r[o + T_TAG]!;
  if (tag === CLOCK_TAG) return Number.isFinite(r[o + T_INIT]!) ? undefined : 'time is not a number';
  const isMarket = tag === RecordKind.QUOTE || tag === RecordKind.TRADE || tag === RecordKind.DELTA;
  const isOrder = Number.isInteger(tag) && tag >= ORDER_TAG && tag < ORDER_TAG + ORDER_EVENT_KIND_COUNT;
  if (!isMarket && !isOrder) return `unknown tag ${tag}`;
  if (!Number.isFinite(r[o + T_EV]!) || !Number.isFinite(r[o + T_INIT]!)) return 'time is not a number';
  const inst = r[o + T_INST]!;
  if (!Number.isInteger(inst) || inst < 0 || inst > 0xffff) return `instrument id ${inst} is not an id`;
  return undefined;
}

/** Row `i`'s tag, instrument, times and columns a..f, seq: `rows[i * ROW + k]`. */
export const Col = {
  TAG: T_TAG,
  INST: T_INST,
  TS_EVENT: T_EV,
  TS_INIT: T_INIT,
  A: C_A,
  B: C_B,
  C: C_C,
  D: C_D,
  E: C_E,
  F: C_F,
  SEQ: C_SEQ,
} as const;

/** Counts of a log's rows by kind name (quote, trade, SUBMITTED, FILLED...). */
export function countRows(log: SessionLog, kindName: (tag: number) => string): Record<string, number> {
  const out: Record<string, number> = {};
  for (let i = 0; i < log.count; i++) {
    const name = kindName(log.rows[i * ROW]!);
    out[name] = (out[name] ?? 0) + 1;
  }
  return out;
}

/**
 * The log's market rows as batches for the backtest runner, in the order the node handled them, each at the
 * engine time it was handled (tsInit): the replay clock is the live session's clock. A CLOCK_TAG row becomes
 * a row of no kind and no instrument: the runner advances its venues to its time and nothing else.
 */
export function* marketBatches(log: SessionLog, batchSize = 4096): Generator<EventBatch> {
  const batch = new EventBatch(batchSize);
  const r = log.rows;
  for (let i = 0; i < log.count; i++) {
    const o = i * ROW;
    const tag = r[o]!;
    if (tag >= ORDER_TAG) continue;
    const clock = tag === CLOCK_TAG;
    batch.push(
      (clock ? 0 : tag) as RecordKind,
      clock ? -1 : r[o + T_INST]!,
      r[o + T_INIT]!,
      r[o + T_INIT]!,
      r[o + C_A]!,
      r[o + C_B]!,
      r[o + C_C]!,
      r[o + C_D]!,
      r[o + C_E]!,
      r[o + C_F]!,
      r[o + C_SEQ]!,
    );
    if (batch.full) {
      yield batch;
      batch.clear();
    }
  }
  if (batch.length > 0) yield batch;
}

/**
 * A catalog loader for a session log's market rows (venue times, as a catalog keeps them), so the session's
 * market data lands in a catalog like any imported file. Instrument ids in the log are the session registry's;
 * `instruments` maps them to specs (index = id, the node's registry order).
 */
export function sessionLogLoader(instruments: readonly InstrumentSpec[]): Loader {
  return {
    name: 'bot4-session',
    detect: (file, head) => file.endsWith('.b4s') && head.startsWith(SESSION_LOG_MAGIC),
    async *load(file: string, options: LoadOptions, report: ValidationReport): AsyncIterable<EventBatch> {
      const log = readSessionLog(file);
      const reg: InstrumentRegistry = options.instruments;
      const ids = instruments.map((s) => reg.find(s.symbol, s.venue)?.id ?? reg.add(s).id);
      const batch = new EventBatch(options.batchSize ?? 65_536);
      const seen = new Set<number>();
      const r = log.rows;
      // Damaged rows and a cut-short last row are dropped, counted and named, as any loader's bad rows are.
      const bad = log.malformed + (log.truncatedBytes > 0 ? 1 : 0);
      if (bad > 0) {
        report.problems.malformed_row += bad;
        report.dropped.malformed_row = bad;
        const ex = log.examples.map((message) => ({ line: 0, message }));
        if (log.truncatedBytes > 0)
          ex.push({ line: 0, message: `last row cut short (${log.truncatedBytes} bytes)` });
        report.examples.malformed_row = ex;
      }
      for (let i = 0; i < log.count; i++) {
        const o = i * ROW;
        const tag = r[o]!;
        if (tag >= CLOCK_TAG) continue;
        const id = ids[r[o + T_INST]!];
        if (id === undefined) continue;
        report.rows++;
        const name = RECORD_KIND_NAMES[tag as RecordKind];
        report.records[name] = (report.records[name] ?? 0) + 1;
        const ts = r[o + T_EV]!;
        if (ts < report.firstTs) report.firstTs = ts;
        if (ts > report.lastTs) report.lastTs = ts;
        seen.add(id);
        batch.push(
          tag as RecordKind,
          id,
          ts,
          r[o + T_INIT]!,
          r[o + C_A]!,
          r[o + C_B]!,
          r[o + C_C]!,
          r[o + C_D]!,
          r[o + C_E]!,
          r[o + C_F]!,
          r[o + C_SEQ]!,
        );
        if (batch.full) {
          yield batch;
          batch.clear();
        }
      }
      if (batch.length > 0) yield batch;
      report.instruments = [...seen].map((id) => reg.require(id as never).key);
    },
  };
}
