// DuckDB input/output for the catalog: EventBatch rows go in through the Appender as whole columnar chunks
// (typed-array memory copied into DuckDB vectors, never a row INSERT), and come out of Parquet as one list per
// column per window, copied into typed arrays. Values are integers held in doubles (ticks, lots, micros).

import {
  DOUBLE,
  type DuckDBAppender,
  type DuckDBConnection,
  DuckDBDataChunk,
  INTEGER,
  UTINYINT,
} from '@duckdb/node-api';
import duckdb from '@duckdb/node-bindings';
import { Bot4Error, ErrorCode } from '../core/errors.ts';
import { type EventBatch, RecordKind } from '../model/market-data.ts';
import { fieldColumn } from './catalog-cache.ts';

/** DuckDB's vector size: the most rows one appended chunk holds. */
const VECTOR_SIZE = 2048;

/**
 * Staging table layout: one row per EventBatch row, plus `pos`, the row's position among the staged rows of its
 * (instrument, kind) in the loader's order, which becomes its row number in the Parquet file.
 */
export const STAGING_COLUMNS =
  'pos DOUBLE, kind UTINYINT, instrument INTEGER, ts_event DOUBLE, ts_init DOUBLE, ' +
  'a DOUBLE, b DOUBLE, c DOUBLE, d DOUBLE, e DOUBLE, f DOUBLE, seq DOUBLE';

const STAGING_TYPES = [
  DOUBLE,
  UTINYINT,
  INTEGER,
  DOUBLE,
  DOUBLE,
  DOUBLE,
  DOUBLE,
  DOUBLE,
  DOUBLE,
  DOUBLE,
  DOUBLE,
  DOUBLE,
];

/**
 * Stored column names per record kind, in EventBatch field order a, b, c, d, e, f, seq (null: not stored, reads
 * as 0). Named for people who open the Parquet files with other tools; prices and sizes are integer ticks/lots.
 */
export const KIND_COLUMNS: Readonly<Record<RecordKind, readonly (string | null)[]>> = {
  [RecordKind.QUOTE]: ['bid_px', 'bid_qty', 'ask_px', 'ask_qty', null, null, 'sequence'],
  [RecordKind.TRADE]: ['px', 'qty', 'aggressor', null, null, null, 'trade_id'],
  [RecordKind.DELTA]: ['px', 'qty', 'side', 'flags', null, null, 'sequence'],
  [RecordKind.BAR]: ['open', 'high', 'low', 'close', 'volume', 'interval_us', 'ts_open'],
  [RecordKind.MARK_PRICE]: ['px', 'index_px', null, null, null, null, null],
  [RecordKind.FUNDING_RATE]: ['rate', 'next_funding_time', null, null, null, null, null],
};

const FIELDS = ['a', 'b', 'c', 'd', 'e', 'f', 'seq'] as const;

/** Stored columns holding prices (ticks) and sizes (lots): the ones rescaled when steps differ. */
export const PRICE_COLUMNS: ReadonlySet<string> = new Set([
  'bid_px',
  'ask_px',
  'px',
  'open',
  'high',
  'low',
  'close',
  'index_px',
]);
export const SIZE_COLUMNS: ReadonlySet<string> = new Set(['bid_qty', 'ask_qty', 'qty', 'volume']);

/**
 * Integer factors from a file's stored steps to the reader's: a file stored at tick 0.01 read for an instrument
 * whose tick is 0.001 has price factor 10 (lots likewise). 1 and 1 when the steps agree.
 */
export interface StepScale {
  price: number;
  size: number;
}

/** `name` as stored, multiplied into the reader's steps when the file's steps are coarser. */
export function scaledColumn(name: string, scale: StepScale): string {
  const k = PRICE_COLUMNS.has(name) ? scale.price : SIZE_COLUMNS.has(name) ? scale.size : 1;
  return k === 1 ? name : `(${name} * ${k})`;
}

/** Single-quoted SQL string literal. */
export function sqlString(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

/**
 * Appends EventBatch rows to a staging table, 2048-row chunks at a time, numbering each (instrument, kind)'s rows
 * and noting whether its event times stayed in order (then its file needs no sort: insertion order is kept).
 */
export class StagingWriter {
  rows = 0;
  private readonly appender: DuckDBAppender;
  private readonly chunk: DuckDBDataChunk = DuckDBDataChunk.create(STAGING_TYPES);
  private readonly pos = new Float64Array(VECTOR_SIZE);
  /** Per partition (instrument * 8 + kind): rows staged, last event time, 1 when time went backwards. */
  private count = new Float64Array(64);
  private lastTs = new Float64Array(64).fill(Number.NEGATIVE_INFINITY);
  private unsorted = new Uint8Array(64);

  constructor(appender: DuckDBAppender) {
    this.appender = appender;
  }

  static async open(conn: DuckDBConnection, table: string): Promise<StagingWriter> {
    await conn.run(`CREATE OR REPLACE TEMP TABLE ${table} (${STAGING_COLUMNS})`);
    return new StagingWriter(await conn.createAppender(table));
  }

  append(b: EventBatch): void {
    const raw = this.chunk.chunk;
    for (let off = 0; off < b.length; off += VECTOR_SIZE) {
      const n = Math.min(VECTOR_SIZE, b.length - off);
      this.number(b, off, n);
      this.chunk.reset();
      put(raw, 0, this.pos, 0, n);
      put(raw, 1, b.kind, off, n);
      put(raw, 2, b.instrument, off, n);
      put(raw, 3, b.tsEvent, off, n);
      put(raw, 4, b.tsInit, off, n);
      put(raw, 5, b.a, off, n);
      put(raw, 6, b.b, off, n);
      put(raw, 7, b.c, off, n);
      put(raw, 8, b.d, off, n);
      put(raw, 9, b.e, off, n);
      put(raw, 10, b.f, off, n);
      put(raw, 11, b.seq, off, n);
      duckdb.data_chunk_set_size(raw, n);
      this.appender.appendDataChunk(this.chunk);
      this.rows += n;
    }
  }

  /** True when the partition's staged rows are in event-time order (the loader's order needs no sort). */
  sorted(instrument: number, kind: number): boolean {
    return this.unsorted[instrument * 8 + kind] !== 1;
  }

  /** Makes the appended rows visible to queries. */
  flush(): void {
    this.appender.flushSync();
  }

  /** Forgets the numbering after the staged rows went to files (each file numbers from 0). */
  restart(): void {
    this.count.fill(0);
    this.lastTs.fill(Number.NEGATIVE_INFINITY);
    this.unsorted.fill(0);
  }

  close(): void {
    this.appender.closeSync();
  }

  private number(b: EventBatch, off: number, n: number): void {
    const pos = this.pos;
    for (let i = 0; i < n; i++) {
      const p = b.instrument[off + i]! * 8 + b.kind[off + i]!;
      if (p >= this.count.length) this.grow(p);
      const t = b.tsEvent[off + i]!;
      if (t < this.lastTs[p]!) this.unsorted[p] = 1;
      this.lastTs[p] = t;
      pos[i] = this.count[p]!++;
    }
  }

  private grow(p: number): void {
    let n = this.count.length;
    while (n <= p) n *= 2;
    const count = new Float64Array(n);
    count.set(this.count);
    const lastTs = new Float64Array(n).fill(Number.NEGATIVE_INFINITY);
    lastTs.set(this.lastTs);
    const unsorted = new Uint8Array(n);
    unsorted.set(this.unsorted);
    this.count = count;
    this.lastTs = lastTs;
    this.unsorted = unsorted;
  }
}

/** Copies n values of a typed array from index `from` into column `col` of a raw DuckDB data chunk. */
export function put(
  raw: duckdb.DataChunk,
  col: number,
  src: Float64Array | Int32Array | Uint8Array,
  from: number,
  n: number,
): void {
  const bytes = src.BYTES_PER_ELEMENT;
  duckdb.copy_data_to_vector(
    duckdb.data_chunk_get_vector(raw, col),
    0,
    src.buffer as ArrayBuffer,
    src.byteOffset + from * bytes,
    n * bytes,
  );
}

/**
 * The COPY that writes one partition's rows from staging to a Parquet file in (ts_event, loader order), `pos`
 * being the row number in the file (windows select on it; row groups of `rowGroup` rows keep each window in
 * one). Rows already in time order keep their staged order and numbers (insertion order is preserved without a
 * sort); otherwise they are sorted and renumbered.
 */
export function copyPartitionSql(
  table: string,
  instrument: number,
  kind: RecordKind,
  file: string,
  rowGroup: number,
  sorted: boolean,
): string {
  const cols = KIND_COLUMNS[kind]
    .map((name, i) => (name === null ? null : `${FIELDS[i]}::BIGINT AS ${name}`))
    .filter((x) => x !== null)
    .join(', ');
  const pos = sorted ? 'pos::BIGINT' : '(row_number() OVER (ORDER BY ts_event, pos) - 1)::BIGINT';
  return (
    `COPY (SELECT ${pos} AS pos, ` +
    `make_timestamp(ts_event::BIGINT) AS ts_event, make_timestamp(ts_init::BIGINT) AS ts_init, ${cols} ` +
    `FROM ${table} WHERE instrument = ${instrument} AND kind = ${kind}${sorted ? '' : ' ORDER BY pos'}) ` +
    `TO ${sqlString(file)} (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE ${rowGroup})`
  );
}

/** Rows whose values are not safe integers (a loader bug: EventBatch holds integer ticks, lots, micros). */
export function nonIntegerSql(table: string): string {
  const checks = ['ts_event', 'ts_init', 'a', 'b', 'c', 'd', 'e', 'f', 'seq']
    .map((c) => `NOT isfinite(${c}) OR ${c} <> trunc(${c}) OR abs(${c}) > 9007199254740991`)
    .join(' OR ');
  return `SELECT count(*)::DOUBLE FROM ${table} WHERE ${checks}`;
}

/** EventBatch fields (0..6 = a..f, seq) a record kind stores, in KIND_COLUMNS order. */
export function storedFields(kind: RecordKind): number[] {
  const out: number[] = [];
  KIND_COLUMNS[kind].forEach((name, i) => {
    if (name !== null) out.push(i);
  });
  return out;
}

/**
 * The multiplications that take a file's stored values into the reader's steps: [field, factor] pairs for the
 * price and size fields whose factor is not 1 (empty in the common case).
 */
export function scaleFactors(kind: RecordKind, scale: StepScale): [number, number][] {
  const out: [number, number][] = [];
  KIND_COLUMNS[kind].forEach((name, i) => {
    if (name === null) return;
    const k = PRICE_COLUMNS.has(name) ? scale.price : SIZE_COLUMNS.has(name) ? scale.size : 1;
    if (k !== 1) out.push([i, k]);
  });
  return out;
}

/**
 * Reads windows of one partition file: every stored column of rows pos in [lo, hi) as one DuckDB list each,
 * so a window costs one query and one memory copy per column (2048-row chunk fetches cost far more per row).
 * `pos` comes along to prove the lists kept file order; if not (a window split across threads), the window is
 * read again with explicitly ordered lists.
 */
export class PartitionWindowReader {
  private readonly conn: DuckDBConnection;
  private readonly file: string;
  private readonly fields: readonly number[];
  private readonly select: string;
  private prep: Awaited<ReturnType<DuckDBConnection['prepare']>> | null = null;
  private ordered: Awaited<ReturnType<DuckDBConnection['prepare']>> | null = null;
  private readonly pos: Float64Array;

  constructor(conn: DuckDBConnection, file: string, kind: RecordKind, windowRows: number) {
    this.conn = conn;
    this.file = file;
    const names = ['epoch_us(ts_event)', 'epoch_us(ts_init)'];
    this.fields = storedFields(kind);
    for (const f of this.fields) names.push(KIND_COLUMNS[kind][f]!);
    this.select = ['pos', ...names].map((n) => `list(${n}::DOUBLE%ORDER%)`).join(', ');
    this.pos = new Float64Array(windowRows);
  }

  /** Row range [lo, hi) of the rows with ts_event in [from, to) (the file is sorted by ts_event). */
  async posRange(from: number, to: number): Promise<[number, number]> {
    const where: string[] = [];
    if (Number.isFinite(from)) where.push(`ts_event >= make_timestamp(${Math.ceil(from)}::BIGINT)`);
    if (Number.isFinite(to)) where.push(`ts_event < make_timestamp(${Math.ceil(to)}::BIGINT)`);
    const r = await this.conn.runAndReadAll(
      `SELECT coalesce(min(pos), 0)::DOUBLE, coalesce(max(pos) + 1, 0)::DOUBLE FROM read_parquet(${sqlString(this.file)})` +
        (where.length === 0 ? '' : ` WHERE ${where.join(' AND ')}`),
    );
    const row = r.getRows()[0] ?? [0, 0];
    return [Number(row[0]), Number(row[1])];
  }

  /** Fills `out` with rows [lo, hi) (hi - lo <= out.capacity); kind and instrument columns are the caller's. */
  async read(lo: number, hi: number, out: EventBatch): Promise<void> {
    if (this.prep === null) this.prep = await this.conn.prepare(this.sql(false));
    let n = await this.run(this.prep, lo, hi, out);
    if (!this.inOrder(lo, n)) {
      if (this.ordered === null) this.ordered = await this.conn.prepare(this.sql(true));
      n = await this.run(this.ordered, lo, hi, out);
      if (!this.inOrder(lo, n)) {
        throw new Bot4Error(
          ErrorCode.DATA_MALFORMED,
          `catalog file ${this.file}: column pos is not 0..n-1 around rows ${lo}..${hi}; the file was not written by this catalog, or is damaged`,
          { file: this.file, lo, hi },
        );
      }
    }
    out.length = n;
  }

  close(): void {
    this.prep?.destroySync();
    this.ordered?.destroySync();
    this.prep = null;
    this.ordered = null;
  }

  private sql(ordered: boolean): string {
    return (
      `SELECT ${this.select.replaceAll('%ORDER%', ordered ? ' ORDER BY pos' : '')} ` +
      `FROM read_parquet(${sqlString(this.file)}) WHERE pos >= $1 AND pos < $2`
    );
  }

  private inOrder(lo: number, n: number): boolean {
    const pos = this.pos;
    for (let i = 0; i < n; i++) if (pos[i] !== lo + i) return false;
    return true;
  }

  private async run(
    prep: NonNullable<PartitionWindowReader['prep']>,
    lo: number,
    hi: number,
    out: EventBatch,
  ): Promise<number> {
    prep.bindBigInt(1, BigInt(lo));
    prep.bindBigInt(2, BigInt(hi));
    const res = await prep.run();
    if (res.chunkCount === 0) return 0;
    const raw = res.getChunk(0).chunk;
    const n = listInto(raw, 0, this.pos);
    if (n > hi - lo || n > out.capacity) {
      throw new Bot4Error(ErrorCode.INTERNAL, `window ${lo}..${hi} of ${this.file} returned ${n} rows`);
    }
    listInto(raw, 1, out.tsEvent);
    listInto(raw, 2, out.tsInit);
    const fields = this.fields;
    for (let j = 0; j < fields.length; j++) listInto(raw, 3 + j, fieldColumn(out, fields[j]!));
    return n;
  }
}

/** Copies the DOUBLE list in row 0 of column `col` into `dst`; returns its length (0 for NULL). */
function listInto(raw: duckdb.DataChunk, col: number, dst: Float64Array): number {
  const lv = duckdb.data_chunk_get_vector(raw, col);
  const n = duckdb.list_vector_get_size(lv);
  if (n === 0) return 0;
  const u8 = duckdb.vector_get_data(duckdb.list_vector_get_child(lv), n * 8);
  if ((u8.byteOffset & 7) === 0) {
    dst.set(new Float64Array(u8.buffer, u8.byteOffset, n));
  } else {
    dst.set(new Float64Array(u8.slice().buffer, 0, n));
  }
  return n;
}
