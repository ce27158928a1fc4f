// Feature tables at the edges: CSV (one header row of names; an empty cell is a missing value, NaN) and Parquet
// read through DuckDB, and Parquet written through DuckDB's Appender (whole 2048-row chunks copied from typed
// arrays) then COPY, with NaN stored as NULL so pandas, polars and DuckDB all read a missing value.

import { readFileSync } from 'node:fs';
import { DOUBLE, DuckDBDataChunk, DuckDBInstance } from '@duckdb/node-api';
import duckdb from '@duckdb/node-bindings';
import { Bot4Error, ErrorCode } from '../core/errors.ts';
import { put, sqlString } from '../data/catalog-duckdb.ts';

/** Columns of doubles by name, all of length n. */
export interface Table {
  readonly names: readonly string[];
  readonly columns: readonly Float64Array[];
  readonly n: number;
}

export function column(t: Table, name: string, file: string): Float64Array {
  const i = t.names.indexOf(name);
  if (i < 0) {
    throw new Bot4Error(
      ErrorCode.INVALID_ARGUMENT,
      `${file} has no column '${name}' (it has ${t.names.join(', ')})`,
      { file, column: name },
    );
  }
  return t.columns[i]!;
}

/** Row-major n x names.length matrix of the named columns (the model's feature order). */
export function matrix(t: Table, names: readonly string[], file: string): Float64Array {
  const d = names.length;
  const cols = names.map((nm) => column(t, nm, file));
  const x = new Float64Array(t.n * d);
  for (let j = 0; j < d; j++) {
    const c = cols[j]!;
    for (let r = 0; r < t.n; r++) x[r * d + j] = c[r]!;
  }
  return x;
}

export async function readTable(file: string): Promise<Table> {
  return file.toLowerCase().endsWith('.parquet') ? readParquet(file) : readCsv(file);
}

export function readCsv(file: string): Table {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new Bot4Error(ErrorCode.DATA_MISSING, `cannot read ${file}: ${(e as Error).message}`, { file });
  }
  const lines = text.split(/\r?\n/);
  while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  if (lines.length === 0) throw new Bot4Error(ErrorCode.DATA_MALFORMED, `${file} is empty (no header row)`);
  const names = lines[0]!.split(',').map((s) => s.trim());
  const n = lines.length - 1;
  const columns = names.map(() => new Float64Array(n));
  for (let r = 0; r < n; r++) {
    const cells = lines[r + 1]!.split(',');
    if (cells.length !== names.length) {
      throw new Bot4Error(
        ErrorCode.DATA_MALFORMED,
        `${file} line ${r + 2}: ${cells.length} cells, the header has ${names.length}`,
        { file, line: r + 2 },
      );
    }
    for (let j = 0; j < names.length; j++) {
      const cell = cells[j]!.trim();
      const v = cell === '' ? Number.NaN : Number(cell);
      if (cell !== '' && Number.isNaN(v) && cell.toLowerCase() !== 'nan') {
        throw new Bot4Error(
          ErrorCode.DATA_MALFORMED,
          `${file} line ${r + 2} column '${names[j]}': '${cell}' is not a number`,
          { file, line: r + 2, column: names[j] },
        );
      }
      columns[j]![r] = v;
    }
  }
  return { names, columns, n };
}

async function readParquet(file: string): Promise<Table> {
  const db = await DuckDBInstance.create();
  const conn = await db.connect();
  try {
    const src = `read_parquet(${sqlString(file)})`;
    let names: string[];
    try {
      names = (await conn.runAndReadAll(`DESCRIBE SELECT * FROM ${src}`)).getRows().map((r) => String(r[0]));
    } catch (e) {
      throw new Bot4Error(
        ErrorCode.DATA_MALFORMED,
        `cannot read ${file} as Parquet: ${(e as Error).message}`,
        {
          file,
        },
      );
    }
    const sel = names.map((c) => `"${c.replace(/"/g, '""')}"::DOUBLE`).join(', ');
    const cols = (await conn.runAndReadAll(`SELECT ${sel} FROM ${src}`)).getColumns();
    const columns = cols.map((c) => Float64Array.from(c, (v) => (v === null ? Number.NaN : Number(v))));
    return { names, columns, n: columns[0]?.length ?? 0 };
  } finally {
    conn.closeSync();
    db.closeSync();
  }
}

/** Writes the columns to a Parquet file; `integer` names columns stored as BIGINT (times in micros). */
export async function writeParquet(
  file: string,
  t: Table,
  integer: ReadonlySet<string> = new Set(),
): Promise<void> {
  const db = await DuckDBInstance.create();
  const conn = await db.connect();
  const q = (c: string) => `"${c.replace(/"/g, '""')}"`;
  try {
    await conn.run(`CREATE TEMP TABLE t (${t.names.map((c) => `${q(c)} DOUBLE`).join(', ')})`);
    const app = await conn.createAppender('t');
    const chunk = DuckDBDataChunk.create(t.names.map(() => DOUBLE));
    for (let off = 0; off < t.n; off += 2048) {
      const n = Math.min(2048, t.n - off);
      chunk.reset();
      for (let j = 0; j < t.columns.length; j++) put(chunk.chunk, j, t.columns[j]!, off, n);
      duckdb.data_chunk_set_size(chunk.chunk, n);
      app.appendDataChunk(chunk);
    }
    app.flushSync();
    app.closeSync();
    const sel = t.names
      .map((c) =>
        integer.has(c)
          ? `${q(c)}::BIGINT AS ${q(c)}`
          : `CASE WHEN isnan(${q(c)}) THEN NULL ELSE ${q(c)} END AS ${q(c)}`,
      )
      .join(', ');
    await conn.run(`COPY (SELECT ${sel} FROM t) TO ${sqlString(file)} (FORMAT parquet)`);
  } finally {
    conn.closeSync();
    db.closeSync();
  }
}
