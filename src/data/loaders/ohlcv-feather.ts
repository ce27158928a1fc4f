// Feather (Arrow IPC v2, LZ4_FRAME-compressed batches) readers: freqtrade candles, mark-price candles and
// funding rates (`date` ns UTC + open/high/low/close/volume float64). apache-arrow decodes the file once the
// lz4js codec is registered; the whole file is read (feather has no line stream; these files are < 400 KB).

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename } from 'node:path';
import type { Table, Vector } from 'apache-arrow';
import { Bot4Error, ErrorCode } from '../../core/errors.ts';
import type { Loader } from '../loader.ts';
import { checkArrowIpcFile, lz4DecodeBounded } from './arrow-ipc-check.ts';
import { type BarLoadOptions, guessInstrument, resolveInstrument } from './ohlcv-common.ts';
import { CandleMode, type CandleRows, writeCandles } from './ohlcv-json.ts';

// apache-arrow and lz4js load when a feather file is read, not when the loader registry is: they are most of
// bot4's start-up otherwise. Synchronous (require), so the readers stay synchronous.
const require = createRequire(import.meta.url);
let arrowModule: typeof import('apache-arrow') | undefined;
function arrow(): typeof import('apache-arrow') {
  arrowModule ??= require('apache-arrow') as typeof import('apache-arrow');
  return arrowModule;
}

let codecReady = false;

/** Registers the LZ4_FRAME codec with apache-arrow (pyarrow writes feather with it by default). Idempotent. */
export function registerLz4(): void {
  if (codecReady) return;
  const { compressionRegistry, CompressionType } = arrow();
  const lz4 = require('lz4js') as typeof import('lz4js');
  compressionRegistry.set(CompressionType.LZ4_FRAME, {
    decode: (b: Uint8Array) => lz4DecodeBounded(b),
    encode: (b: Uint8Array) => Uint8Array.from(lz4.compress(b)),
  });
  codecReady = true;
}

/** Reads a feather/Arrow IPC file whole; errors name the file. */
export function readFeather(file: string): Table {
  registerLz4();
  let buf: Buffer;
  try {
    buf = readFileSync(file);
  } catch (e) {
    const code = (e as { code?: string }).code;
    throw new Bot4Error(
      code === 'ENOENT' ? ErrorCode.DATA_MISSING : ErrorCode.DATA_MALFORMED,
      code === 'ENOENT' ? `data file ${file} does not exist` : `cannot read ${file}: ${String(e)}`,
      { file },
      { cause: e },
    );
  }
  // Lengths apache-arrow would loop over unchecked are checked first (a damaged one hangs the thread).
  checkArrowIpcFile(buf, file);
  let table: Table;
  try {
    table = arrow().tableFromIPC(buf);
  } catch (e) {
    throw new Bot4Error(
      ErrorCode.DATA_MALFORMED,
      `${file}: not a readable Arrow IPC/feather file: ${(e as Error).message}`,
      { file },
      { cause: e },
    );
  }
  checkColumnSizes(table, file);
  return table;
}

/**
 * Every fixed-width column chunk holds a value per row: a damaged row count (or a short buffer) would make
 * the per-row loops run over rows that have no data, up to billions of them.
 */
function checkColumnSizes(table: Table, file: string): void {
  const { DataType } = arrow();
  for (const f of table.schema.fields) {
    const vec = table.getChild(f.name);
    if (vec === null) continue;
    for (const d of vec.data) {
      const values = d.values as ArrayLike<unknown> | undefined;
      const t = d.type;
      const fixed = DataType.isFloat(t) || DataType.isInt(t) || DataType.isTimestamp(t) || DataType.isDate(t);
      const offsets = d.valueOffsets as ArrayLike<unknown> | undefined;
      if (offsets !== undefined && offsets.length < d.offset + d.length + 1) {
        throw new Bot4Error(
          ErrorCode.DATA_MALFORMED,
          `${file}: damaged Arrow IPC file: column ${f.name} holds ${offsets.length} offsets for ${d.length} rows`,
          { file, column: f.name },
        );
      }
      if (values === undefined || !fixed) continue;
      if (values.length < (d.offset + d.length) * d.stride) {
        throw new Bot4Error(
          ErrorCode.DATA_MALFORMED,
          `${file}: damaged Arrow IPC file: column ${f.name} holds ${values.length} values for ${d.length} rows`,
          { file, column: f.name },
        );
      }
    }
  }
}

/** Micros per unit of Arrow's TimeUnit (SECOND, MILLISECOND, MICROSECOND, NANOSECOND). */
const UNIT_DIV: readonly bigint[] = [1n, 1n, 1n, 1000n];
const UNIT_MUL: readonly bigint[] = [1_000_000n, 1000n, 1n, 1n];

/**
 * A time column as micros (NaN for nulls): Arrow timestamps by their unit (exact: int64 arithmetic, ns floored
 * to micros), plain integers and floats by magnitude (s, ms, us, ns).
 */
export function timeColumn(vec: Vector): Float64Array {
  const out = new Float64Array(vec.length);
  const unit = (vec.type as { unit?: number }).unit;
  const isTimestamp = vec.type.toString().startsWith('Timestamp');
  for (let i = 0; i < vec.length; i++) {
    if (!vec.isValid(i)) {
      out[i] = Number.NaN;
      continue;
    }
    // Read the raw int64 where there is one: get() on a timestamp gives ms as a double, dropping sub-ms digits.
    const raw = rawValue(vec, i);
    if (typeof raw === 'bigint') {
      if (isTimestamp && unit !== undefined) out[i] = Number((raw * UNIT_MUL[unit]!) / UNIT_DIV[unit]!);
      else out[i] = byMagnitude(raw);
    } else if (typeof raw === 'number') {
      out[i] =
        isTimestamp && unit !== undefined ? Math.round(raw * Number(UNIT_MUL[unit]!)) : byMagnitude(raw);
    } else {
      out[i] = Number.NaN;
    }
  }
  return out;
}

function byMagnitude(v: bigint | number): number {
  const n = Number(v);
  if (n < 1e11) return Math.round(n * 1e6);
  if (n < 1e14) return Math.round(n * 1e3);
  if (n < 1e17) return Math.round(n);
  return typeof v === 'bigint' ? Number(v / 1000n) : Math.floor(n / 1e3);
}

/** The stored value of row i (bigint for 64-bit integer storage), across record-batch chunks. */
function rawValue(vec: Vector, i: number): unknown {
  let k = i;
  for (const d of vec.data) {
    if (k < d.length) {
      const values = d.values as ArrayLike<unknown> | undefined;
      return values === undefined ? vec.get(i) : values[d.offset + k];
    }
    k -= d.length;
  }
  return undefined;
}

/** A float column as numbers, nulls as null. */
export function floatColumn(vec: Vector): (number | null)[] {
  const out: (number | null)[] = new Array(vec.length);
  for (let i = 0; i < vec.length; i++) {
    const v = vec.isValid(i) ? (vec.get(i) as unknown) : null;
    out[i] = typeof v === 'number' ? v : typeof v === 'bigint' ? Number(v) : null;
  }
  return out;
}

export function column(table: Table, file: string, ...names: string[]): Vector {
  for (const n of names) {
    const v = table.getChild(n);
    if (v !== null) return v;
  }
  throw new Bot4Error(
    ErrorCode.DATA_MALFORMED,
    `${file}: no column ${names.join(' or ')} (columns: ${table.schema.fields.map((f) => f.name).join(', ')})`,
    { file, columns: table.schema.fields.map((f) => f.name) },
  );
}

/**
 * freqtrade feather candles: `date` (timestamp ns UTC, the candle's open) and float64 open, high, low, close,
 * volume. By name: "-mark" files become MARK_PRICE records (close at the candle's close time; the mark candles
 * carry no index price, so indexPx is 0), "-funding_rate" files FUNDING_RATE records (rate from `open`, at
 * `date`, the funding time, which in freqtrade's file sits a few ms after the 8 h mark; next funding one
 * interval later). Everything else is BAR rows. Instrument from the name ("XRP_USDT_USDT" = Binance USD-M).
 */
export const freqtradeFeatherLoader: Loader = {
  name: 'freqtrade-feather',
  detect(file, head) {
    return /\.feather$/i.test(file) && head.startsWith('ARROW1') && !/-trades\.feather$/i.test(file);
  },
  async *load(file, options: BarLoadOptions, report) {
    const table = readFeather(file);
    const name = basename(file);
    const mode = /-funding_rate\./i.test(name)
      ? CandleMode.FUNDING
      : /-mark\./i.test(name)
        ? CandleMode.MARK
        : CandleMode.BAR;
    const volume = table.getChild('volume');
    const rows: CandleRows = {
      ts: timeColumn(column(table, file, 'date', 'timestamp', 'time')),
      open: floatColumn(column(table, file, 'open')),
      high: floatColumn(column(table, file, 'high')),
      low: floatColumn(column(table, file, 'low')),
      close: floatColumn(column(table, file, 'close')),
      volume: volume === null ? undefined : floatColumn(volume),
      line: (i) => i + 1,
      length: table.numRows,
    };
    yield* writeCandles(file, options, report, resolveInstrument(guessInstrument(file), options), rows, mode);
  },
};
