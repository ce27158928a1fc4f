// Decoded column cache of catalog files: a Parquet file's columns as raw float64 arrays, one after another,
// built the first time a query reads the whole file through DuckDB, then read straight into EventBatch typed
// arrays (positioned reads, no decoding). Derived data: deleting <catalog>/cache loses nothing. Values unscaled.
//
// Why: DuckDB decodes these files at 10M+ rows/s, but handing results to JS costs far more per row (list
// building or 2048-row chunk fetches, measured 2-3M rows/s per core); replays read the same files again and again.
// Layout: 64-byte header ("BOT4CC01", rows f64, column count u32, the EventBatch fields stored, u8 each),
// then column c at byte 64 + c * rows * 8. Fields: 0..6 = a, b, c, d, e, f, seq; 7 = tsEvent; 8 = tsInit.

import { closeSync, mkdirSync, openSync, readSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import type { EventBatch } from '../model/market-data.ts';

const MAGIC = 'BOT4CC01';
const HEADER = 64;
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
    for (let i = 0; i < fields.length; i++) h.writeUInt8(fields[i]!, 20 + i);
    writeSync(this.fd, h, 0, HEADER, 0);
  }

  /** Stores rows [lo, lo + n) of the file, held in rows [0, n) of `b`. A failed write abandons the cache. */
  write(lo: number, n: number, b: EventBatch): void {
    if (this.fd < 0) return;
    try {
      for (let c = 0; c < this.fields.length; c++) {
        const col = fieldColumn(b, this.fields[c]!);
        writeSync(this.fd, bytesOf(col, 0, n), 0, n * 8, HEADER + (c * this.rows + lo) * 8);
      }
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
  private readonly slot = new Int8Array(16).fill(-1);
  private readonly one = new Float64Array(1);

  private constructor(fd: number, rows: number, fields: readonly number[]) {
    this.fd = fd;
    this.rows = rows;
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
        fields.every((f, i) => h.readUInt8(20 + i) === f) &&
        statSync(path).size === HEADER + n * rows * 8;
      if (ok) return new ColumnCacheReader(fd, rows, fields);
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

  /** Reads rows [lo, hi) of every stored field into rows [0, hi - lo) of `out`. */
  read(lo: number, hi: number, out: EventBatch, fields: readonly number[]): void {
    const n = hi - lo;
    for (let i = 0; i < fields.length; i++) {
      const f = fields[i]!;
      readSync(
        this.fd,
        bytesOf(fieldColumn(out, f), 0, n),
        0,
        n * 8,
        HEADER + (this.slot[f]! * this.rows + lo) * 8,
      );
    }
    out.length = n;
  }

  close(): void {
    closeSync(this.fd);
  }

  private at(field: number, row: number): number {
    readSync(this.fd, bytesOf(this.one, 0, 1), 0, 8, HEADER + (this.slot[field]! * this.rows + row) * 8);
    return this.one[0]!;
  }
}
