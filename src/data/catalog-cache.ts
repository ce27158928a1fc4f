// Decoded column cache of catalog files: a Parquet file's columns as raw float64 arrays, built the first time a
// query reads the whole file through DuckDB, then read straight into EventBatch typed arrays (positioned reads,
// no decoding). Derived data: deleting <catalog>/cache loses nothing. Values unscaled.
//
// Why: DuckDB decodes these files at 10M+ rows/s, but handing results to JS costs far more per row (list
// building or 2048-row chunk fetches, measured 2-3M rows/s per core); replays read the same files again and again.
// Layout: 64-byte header ("BOT4CC02", rows f64, column count u32, block rows u32, the EventBatch fields stored,
// u8 each), then blocks of CACHE_BLOCK_ROWS rows (the last one shorter), each holding its rows of column 0, then
// of column 1, and so on. A whole block is one contiguous range of the file, so it lands in a batch's columns in
// one readv: a replay merging many sources reads each in small blocks that are consumed while still in the CPU
// caches, at one system call per block (column after column over the whole file, it took one call per column).
// Fields: 0..6 = a, b, c, d, e, f, seq; 7 = tsEvent; 8 = tsInit.

import {
  closeSync,
  mkdirSync,
  openSync,
  readSync,
  readvSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs';
import { dirname } from 'node:path';
import { Bot4Error, ErrorCode } from '../core/errors.ts';
import type { EventBatch } from '../model/market-data.ts';

const MAGIC = 'BOT4CC02';
const HEADER = 64;
/**
 * Rows per block, and so per batch read from a cache: 360 kB of batch per source instead of 2.6 MB at 32,768
 * rows, and rows the merge reaches soon after they were read. Not tuned finely: on the loaded 2-core machine
 * 4,096 and 8,192 rows measured alike, both at or above 32,768, within the noise.
 */
export const CACHE_BLOCK_ROWS = 4096;
export const TS_EVENT_FIELD = 7;
export const TS_INIT_FIELD = 8;

/** The typed array of an EventBatch that holds `field`. */
export function fieldColumn(b: EventBatch, field: number): Float64Array {
  switch (field) {
    case 0:
      return b.a;
    case 1:
      return b.b;
    case 2:
      return b.c;
    case 3:
      return b.d;
    case 4:
      return b.e;
    case 5:
      return b.f;
    case 6:
      return b.seq;
    case TS_EVENT_FIELD:
      return b.tsEvent;
    default:
      return b.tsInit;
  }
}

function bytesOf(a: Float64Array, from: number, n: number): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset + from * 8, n * 8);
}

/** Byte offset of (column c, row r) in a cache file of `rows` rows and `cols` columns. */
function offsetOf(rows: number, cols: number, c: number, r: number): number {
  const start = r - (r % CACHE_BLOCK_ROWS);
  const n = Math.min(CACHE_BLOCK_ROWS, rows - start);
  return HEADER + (start * cols + c * n + (r - start)) * 8;
}

/** Calls `each(from, to)` for the parts of rows [lo, hi) that lie in one block each. */
function perBlock(lo: number, hi: number, each: (from: number, to: number) => void): void {
  for (let r = lo; r < hi; ) {
    const end = Math.min(hi, r - (r % CACHE_BLOCK_ROWS) + CACHE_BLOCK_ROWS);
    each(r, end);
    r = end;
  }
}

/**
 * Writes a cache file window by window into a temporary file; `close` publishes it atomically when complete.
 * Best effort: a catalog on a read-only or full disk still replays (through DuckDB), it just is not cached.
 */
export class ColumnCacheWriter {
  private readonly path: string;
  private readonly tmp: string;
  private readonly rows: number;
  private readonly fields: readonly number[];
  private fd = -1;
  private written = 0;

  /** A writer, or null when the cache file cannot be created here. */
  static create(path: string, rows: number, fields: readonly number[]): ColumnCacheWriter | null {
    try {
      return new ColumnCacheWriter(path, rows, fields);
    } catch {
      return null;
    }
  }

  private constructor(path: string, rows: number, fields: readonly number[]) {
    this.path = path;
    this.tmp = `${path}.${process.pid}.tmp`;
    this.rows = rows;
    this.fields = fields;
    mkdirSync(dirname(path), { recursive: true });
    this.fd = openSync(this.tmp, 'w');
    const h = Buffer.alloc(HEADER);
    h.write(MAGIC, 0, 'latin1');
    h.writeDoubleLE(rows, 8);
    h.writeUInt32LE(fields.length, 16);
    h.writeUInt32LE(CACHE_BLOCK_ROWS, 20);
    for (let i = 0; i < fields.length; i++) h.writeUInt8(fields[i]!, 24 + i);
    writeSync(this.fd, h, 0, HEADER, 0);
  }

  /** Stores rows [lo, lo + n) of the file, held in rows [0, n) of `b`. A failed write abandons the cache. */
  write(lo: number, n: number, b: EventBatch): void {
    if (this.fd < 0) return;
    try {
      const cols = this.fields.length;
      perBlock(lo, lo + n, (from, to) => {
        for (let c = 0; c < cols; c++) {
          const col = fieldColumn(b, this.fields[c]!);
          writeSync(
            this.fd,
            bytesOf(col, from - lo, to - from),
            0,
            (to - from) * 8,
            offsetOf(this.rows, cols, c, from),
          );
        }
      });
      this.written += n;
    } catch {
      this.written = Number.NaN;
      this.close();
    }
  }

  /** Publishes the file if every row was written; otherwise drops it. */
  close(): void {
    if (this.fd < 0) return;
    try {
      closeSync(this.fd);
      this.fd = -1;
      if (this.written === this.rows) renameSync(this.tmp, this.path);
      else rmSync(this.tmp, { force: true });
    } catch {
      this.fd = -1;
      rmSync(this.tmp, { force: true });
    }
  }
}

/** Positioned reads of a cache file. */
export class ColumnCacheReader {
  readonly rows: number;
  private readonly fd: number;
  private readonly path: string;
  /** The stored fields, in file column order. */
  private readonly fields: readonly number[];
  private readonly slot = new Int8Array(16).fill(-1);
  private readonly one = new Float64Array(1);
  /** Byte views of the batch last read a whole block into, by column: reused while the batch and size are. */
  private views: Uint8Array[] = [];
  private viewsOf: EventBatch | null = null;
  private viewsRows = 0;

  private constructor(fd: number, path: string, rows: number, fields: readonly number[]) {
    this.fd = fd;
    this.path = path;
    this.rows = rows;
    this.fields = fields;
    for (let c = 0; c < fields.length; c++) this.slot[fields[c]!] = c;
  }

  /**
   * Opens the cache of `source` when it is complete and newer than the source, with the expected rows and
   * fields; undefined otherwise (the caller reads through DuckDB and may rebuild it).
   */
  static open(
    path: string,
    source: string,
    rows: number,
    fields: readonly number[],
  ): ColumnCacheReader | undefined {
    let fd = -1;
    try {
      if (statSync(path).mtimeMs < statSync(source).mtimeMs) return undefined;
      fd = openSync(path, 'r');
      const h = Buffer.alloc(HEADER);
      readSync(fd, h, 0, HEADER, 0);
      const n = h.readUInt32LE(16);
      const ok =
        h.toString('latin1', 0, 8) === MAGIC &&
        h.readDoubleLE(8) === rows &&
        n === fields.length &&
        h.readUInt32LE(20) === CACHE_BLOCK_ROWS &&
        fields.every((f, i) => h.readUInt8(24 + i) === f) &&
        statSync(path).size === HEADER + n * rows * 8;
      if (ok) return new ColumnCacheReader(fd, path, rows, [...fields]);
    } catch {
      // Missing or unreadable: treated as absent.
    }
    if (fd >= 0) closeSync(fd);
    return undefined;
  }

  /** First row with tsEvent >= t (binary search over the stored, sorted tsEvent column). */
  lowerBound(t: number): number {
    let lo = 0;
    let hi = this.rows;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.at(TS_EVENT_FIELD, mid) < t) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /**
   * Reads rows [lo, hi) of every stored field into rows [0, hi - lo) of `out`: one call when the rows are one
   * whole block, one per column and block otherwise.
   */
  read(lo: number, hi: number, out: EventBatch): void {
    const n = hi - lo;
    const cols = this.fields.length;
    if (lo % CACHE_BLOCK_ROWS === 0 && n === Math.min(CACHE_BLOCK_ROWS, this.rows - lo)) {
      if (this.viewsOf !== out || this.viewsRows !== n) {
        this.views = this.fields.map((f) => bytesOf(fieldColumn(out, f), 0, n));
        this.viewsOf = out;
        this.viewsRows = n;
      }
      this.check(readvSync(this.fd, this.views, offsetOf(this.rows, cols, 0, lo)), n * cols);
    } else {
      perBlock(lo, hi, (from, to) => {
        for (let c = 0; c < cols; c++) {
          const bytes = bytesOf(fieldColumn(out, this.fields[c]!), from - lo, to - from);
          this.check(
            readSync(this.fd, bytes, 0, bytes.length, offsetOf(this.rows, cols, c, from)),
            to - from,
          );
        }
      });
    }
    out.length = n;
  }

  close(): void {
    closeSync(this.fd);
  }

  private at(field: number, row: number): number {
    const pos = offsetOf(this.rows, this.fields.length, this.slot[field]!, row);
    this.check(readSync(this.fd, bytesOf(this.one, 0, 1), 0, 8, pos), 1);
    return this.one[0]!;
  }

  /** A short read: the file was truncated after it was checked at open. */
  private check(bytes: number, values: number): void {
    if (bytes !== values * 8) {
      throw new Bot4Error(
        ErrorCode.DATA_MALFORMED,
        `catalog cache ${this.path} gave ${bytes} of ${values * 8} bytes: it changed while being read; delete it and retry`,
        { file: this.path },
      );
    }
  }
}
