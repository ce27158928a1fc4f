// Whole-document candle loaders: freqtrade `[[ts_ms,o,h,l,c,v],…]` (.json/.json.gz), Binance REST klines,
// Kraken REST OHLC, pandas `orient="columns"`, plus the column writer feather shares. The files are small
// (≤ 1 MB) and parsed whole; problem examples give the 1-based JSON element number as the "line".

import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { Bot4Error, ErrorCode } from '../../core/errors.ts';
import { InstrumentKind } from '../../model/instrument.ts';
import type { EventBatch } from '../../model/market-data.ts';
import { checkAborted, isGzip } from '../lines.ts';
import type { Loader, ValidationReport } from '../loader.ts';
import { addNote } from '../validate.ts';
import {
  type BarLoadOptions,
  BarWriter,
  DecimalScan,
  ensureInstrument,
  type FileInstrument,
  guessInstrument,
  pairInstrument,
  parseUtcMicros,
  repairOrder,
  resolveInstrument,
  resolveInterval,
  shapeError,
} from './ohlcv-common.ts';

/** Reads and parses a JSON document (gzip detected by magic bytes); a syntax error names file and line. */
export function readJson(file: string): unknown {
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
  const text = (isGzip(buf) ? gunzipSync(buf) : buf).toString('utf8');
  try {
    return JSON.parse(text);
  } catch (e) {
    const msg = (e as Error).message;
    const pos = /position (\d+)/.exec(msg);
    let line = 1;
    if (pos !== null)
      for (let i = 0, p = Number(pos[1]); i < p && i < text.length; i++)
        if (text.charCodeAt(i) === 10) line++;
    throw new Bot4Error(
      ErrorCode.DATA_MALFORMED,
      `${file}:${line}: not valid JSON: ${msg}`,
      { file, line },
      { cause: e },
    );
  }
}

/** What the candle writer consumes: one time and five cells per row (number, decimal string, or null). */
export interface CandleRows {
  /** Bar open times in micros (NaN where unreadable), one per row. */
  ts: ArrayLike<number>;
  open: ArrayLike<unknown>;
  high: ArrayLike<unknown>;
  low: ArrayLike<unknown>;
  close: ArrayLike<unknown>;
  /** undefined: the format has no volume (bars carry 0). A null cell is a missing volume (reported). */
  volume: ArrayLike<unknown> | undefined;
  /** Reported "line" of row i (element number for JSON, row number for feather). */
  line: (i: number) => number;
  length: number;
}

export const CandleMode = { BAR: 0, MARK: 1, FUNDING: 2 } as const;
export type CandleMode = (typeof CandleMode)[keyof typeof CandleMode];

function scanCell(scan: DecimalScan, v: unknown, qty: boolean): void {
  if (typeof v === 'number') {
    if (qty) scan.qtyFloat(v);
    else scan.priceFloat(v);
  } else if (typeof v === 'string') {
    if (qty) scan.qtyText(v);
    else scan.priceText(v);
  }
}

function pxCell(w: BarWriter, v: unknown, field: string): number {
  if (typeof v === 'number') return w.pxFloat(v, field);
  if (typeof v === 'string') return w.px(v, field);
  w.bad(`${field} ${JSON.stringify(v)} is not a number or decimal string`);
  return Number.NaN;
}

function volumeCell(w: BarWriter, v: unknown): number {
  if (typeof v === 'number') return w.volumeFloat(v);
  if (typeof v === 'string') return w.volume(v);
  w.bad(`volume ${JSON.stringify(v)} is not a number or decimal string`);
  return Number.NaN;
}

/**
 * Converts, validates and emits buffered candle rows: infers steps from every row (the whole file is in memory),
 * the interval (option, name, `intervalHint`, median gap), sorts rows out of time order (the candle default, candlePolicies), writes batches.
 * MARK rows become MARK_PRICE records (close, at the candle's close); FUNDING rows FUNDING_RATE records (rate
 * in `open`, at the row's own time, which for funding is the payment time, not a candle open).
 */
export function* writeCandles(
  file: string,
  options: BarLoadOptions,
  report: ValidationReport,
  fi: FileInstrument,
  rows: CandleRows,
  mode: CandleMode = CandleMode.BAR,
  intervalHint?: number,
): Generator<EventBatch> {
  checkAborted(file, options.signal);
  const scan = new DecimalScan();
  const n = rows.length;
  for (let i = 0; i < n; i++) {
    if (mode === CandleMode.FUNDING) continue;
    if (mode === CandleMode.BAR) {
      scanCell(scan, rows.open[i], false);
      scanCell(scan, rows.high[i], false);
      scanCell(scan, rows.low[i], false);
      if (rows.volume !== undefined) scanCell(scan, rows.volume[i], true);
    }
    scanCell(scan, rows.close[i], false);
  }
  const inst = ensureInstrument(options.instruments, fi, scan, options, file, report);
  const interval =
    options.intervalMicros === undefined && intervalHint !== undefined && intervalHint > 0
      ? intervalHint
      : resolveInterval(file, options, rows.ts, report);
  const w = new BarWriter(file, inst, report, options, interval);
  const order: number[] = [];
  for (let i = 0; i < n; i++) order.push(i);
  repairOrder(
    order,
    (i) => rows.ts[i]!,
    (i) => rows.line(i),
    w.validator,
  );
  let nullVolume = 0;
  for (const i of order) {
    w.row();
    const line = rows.line(i);
    const ts = rows.ts[i]!;
    if (mode === CandleMode.FUNDING) {
      const r = rows.open[i];
      const rate = typeof r === 'number' ? w.rateFloat(r, 'funding rate') : Number.NaN;
      if (typeof r !== 'number') w.bad(`funding rate ${JSON.stringify(r)} is not a number`);
      w.funding(line, ts, rate);
    } else if (mode === CandleMode.MARK) {
      w.mark(line, ts, pxCell(w, rows.close[i], 'close'));
    } else {
      const o = pxCell(w, rows.open[i], 'open');
      const h = pxCell(w, rows.high[i], 'high');
      const l = pxCell(w, rows.low[i], 'low');
      const c = pxCell(w, rows.close[i], 'close');
      let v = 0;
      if (rows.volume !== undefined) {
        const cell = rows.volume[i];
        if (cell === null || cell === undefined) nullVolume++;
        else v = volumeCell(w, cell);
      }
      w.bar(line, ts, o, h, l, c, v);
    }
    if (w.full) {
      yield w.batch;
      w.batch.clear();
    }
  }
  if (nullVolume > 0) addNote(report, `${nullVolume} bars have no volume (null): written with volume 0`);
  w.finish();
  if (w.batch.length > 0) yield w.batch;
}

/** A JSON time: a number (epoch s/ms/us/ns by magnitude) or date text; NaN otherwise. */
export function jsonTime(v: unknown, unitMicros?: number): number {
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) return Number.NaN;
    if (unitMicros !== undefined) return Math.round(v * unitMicros);
    if (v < 1e11) return Math.round(v * 1e6);
    if (v < 1e14) return Math.round(v * 1e3);
    if (v < 1e17) return Math.round(v);
    return Math.floor(v / 1e3);
  }
  if (typeof v === 'string') {
    if (/^\d+$/.test(v)) return jsonTime(Number(v), unitMicros);
    return parseUtcMicros(v);
  }
  return Number.NaN;
}

/** Array-of-arrays rows into CandleRows; cells past index 5 are ignored. */
function arrayRows(file: string, doc: unknown, unitMicros?: number): CandleRows & { closeTimes: number[] } {
  if (!Array.isArray(doc))
    throw shapeError(file, 'a JSON array of [time, open, high, low, close, volume] rows', doc);
  const n = doc.length;
  const ts = new Float64Array(n);
  const cols: unknown[][] = [[], [], [], [], []];
  const closeTimes: number[] = [];
  for (let i = 0; i < n; i++) {
    const r = doc[i] as unknown;
    if (!Array.isArray(r)) {
      ts[i] = Number.NaN;
      for (const c of cols) c.push(undefined);
      continue;
    }
    ts[i] = jsonTime(r[0], unitMicros);
    for (let k = 0; k < 5; k++) cols[k]!.push(r[k + 1]);
    if (closeTimes.length < 2 && r.length >= 7 && typeof r[6] === 'number') closeTimes.push(r[6]);
  }
  return {
    ts,
    open: cols[0]!,
    high: cols[1]!,
    low: cols[2]!,
    close: cols[3]!,
    volume: cols[4]!,
    line: (i) => i + 1,
    length: n,
    closeTimes,
  };
}

const ARRAY_HEAD = /^\s*\[\s*\[\s*\d+(\.\d+)?\s*,\s*("?\d+(\.\d+)?([eE][-+]?\d+)?"?\s*,\s*){4}"?\d/;

/**
 * freqtrade candle JSON (`[[ts_ms, o, h, l, c, v], …]`, numbers; `.json.gz` for futures) and Binance REST
 * klines (`[[open_ms, "o", "h", "l", "c", "v", close_ms, …], …]`, decimal strings, exact). Times are open
 * times in ms. For klines the interval is close_ms + 1 - open_ms; for freqtrade the name ("-1m") or the data.
 * Instrument: from the file name (freqtrade: "XRP_USDT_USDT" is Binance USD-M XRPUSDT); nautilus'
 * `http_*_market_klines.json` fixtures are Binance BTCUSDT (spot or USD-M by the name).
 */
export const ohlcvJsonArraysLoader: Loader = {
  name: 'ohlcv-json-arrays',
  detect(file, head) {
    return /\.json(\.gz)?$/i.test(file) && ARRAY_HEAD.test(head);
  },
  async *load(file, options: BarLoadOptions, report) {
    const rows = arrayRows(file, readJson(file));
    let hint: number | undefined;
    const first = rows.ts[0];
    if (rows.closeTimes.length > 0 && first !== undefined) hint = jsonTime(rows.closeTimes[0]! + 1) - first;
    let guess = guessInstrument(file);
    const m = /http_(spot|futures)_market_klines/.exec(file);
    if (m !== null) {
      guess =
        m[1] === 'spot'
          ? pairInstrument('BTCUSDT', 'BINANCE')
          : pairInstrument('BTCUSDT', 'BINANCE_USDM', InstrumentKind.PERPETUAL);
    }
    yield* writeCandles(file, options, report, resolveInstrument(guess, options), rows, CandleMode.BAR, hint);
  },
};

/**
 * Kraken REST OHLC: `{"error":[],"result":{"XBTUSDT":[[time_s,"o","h","l","c","vwap","volume",count],…],
 * "last":t}}`. Times are open times in seconds; volume is base. Kraken's last row is the current, still-open
 * candle (its time is after `last`, the newest committed one): it is left out unless includeOpenBar.
 */
export const krakenOhlcJsonLoader: Loader = {
  name: 'kraken-ohlc-json',
  detect(file, head) {
    return (
      /\.json(\.gz)?$/i.test(file) &&
      /"result"\s*:\s*\{\s*"[A-Z0-9.]+"\s*:\s*\[\s*\[\s*\d+\s*,\s*"/.test(head)
    );
  },
  async *load(file, options: BarLoadOptions, report) {
    const doc = readJson(file) as { error?: unknown; result?: Record<string, unknown> };
    const result = doc?.result;
    if (typeof result !== 'object' || result === null)
      throw shapeError(file, 'a Kraken response with "result"', doc);
    if (Array.isArray(doc.error) && doc.error.length > 0) {
      throw new Bot4Error(
        ErrorCode.DATA_MALFORMED,
        `${file}: Kraken returned errors: ${doc.error.join('; ')}`,
        { file },
      );
    }
    const pair = Object.keys(result).find((k) => k !== 'last');
    const list = pair === undefined ? undefined : result[pair];
    if (pair === undefined || !Array.isArray(list))
      throw shapeError(file, 'result.<PAIR> as an array of OHLC rows', list);
    const last = Number(result['last']);
    let kept = list as unknown[];
    if (options.includeOpenBar !== true && Number.isFinite(last)) {
      kept = kept.filter((r) => !(Array.isArray(r) && typeof r[0] === 'number' && r[0] > last));
      const dropped = list.length - kept.length;
      if (dropped > 0) {
        report.rows += dropped;
        addNote(report, `${dropped} Kraken candle(s) after "last" (${last}) are still open: not emitted`);
      }
    }
    // Kraken rows: [time, open, high, low, close, vwap, volume, count] -> drop vwap.
    const rows = arrayRows(
      file,
      kept.map((r) => (Array.isArray(r) ? [r[0], r[1], r[2], r[3], r[4], r[6]] : r)),
      1_000_000,
    );
    const fi = resolveInstrument(pairInstrument(pair, 'KRAKEN'), options);
    yield* writeCandles(file, options, report, { ...fi, symbol: options.symbol ?? pair }, rows);
  },
};

/**
 * pandas `DataFrame.to_json(orient="columns")` candles: `{"date":{"0":ms,…},"open":{…},…,"volume":{…}}`
 * (freqtrade orderflow/candles.json). Row order is the index order; dates are open times in ms (or ISO text).
 * The file names no instrument: pass symbol and venue (defaults: the file stem on venue UNKNOWN).
 */
export const pandasColumnsJsonLoader: Loader = {
  name: 'pandas-columns-json',
  detect(file, head) {
    return /\.json(\.gz)?$/i.test(file) && /^\s*\{\s*"(date|timestamp|open)"\s*:\s*\{\s*"\d+"\s*:/.test(head);
  },
  async *load(file, options: BarLoadOptions, report) {
    const doc = readJson(file) as Record<string, Record<string, unknown>>;
    if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
      throw shapeError(file, 'an object of columns {"date":{…},"open":{…},…}', doc);
    }
    const timeCol = doc['date'] ?? doc['timestamp'] ?? doc['time'];
    const need = ['open', 'high', 'low', 'close'] as const;
    if (timeCol === undefined || need.some((k) => typeof doc[k] !== 'object' || doc[k] === null)) {
      throw shapeError(
        file,
        'columns date (or timestamp), open, high, low, close[, volume]',
        Object.keys(doc),
      );
    }
    const keys = Object.keys(timeCol);
    const pick = (col: Record<string, unknown> | undefined): unknown[] => keys.map((k) => col?.[k]);
    const ts = new Float64Array(keys.length);
    keys.forEach((k, i) => {
      ts[i] = jsonTime(timeCol[k]);
    });
    const rows: CandleRows = {
      ts,
      open: pick(doc['open']),
      high: pick(doc['high']),
      low: pick(doc['low']),
      close: pick(doc['close']),
      volume: doc['volume'] === undefined ? undefined : pick(doc['volume']),
      line: (i) => i + 1,
      length: keys.length,
    };
    yield* writeCandles(file, options, report, resolveInstrument(guessInstrument(file), options), rows);
  },
};
