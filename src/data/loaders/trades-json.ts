// Trade-list loaders: freqtrade trades (JSON arrays, old ccxt dicts, feather, pandas CSV), Kraken CSV exports
// and Kraken REST `Trades` responses, all as TRADE rows (a px, b qty, c aggressor, seq trade id; tsEvent =
// tsInit = trade time in micros). JSON and feather are read whole (< 500 KB here); CSV streams line by line.

import { basename } from 'node:path';
import { Bot4Error, ErrorCode } from '../../core/errors.ts';
import { type EventBatch, NO_SIDE, Side } from '../../model/market-data.ts';
import { checkAborted, readLines } from '../lines.ts';
import type { Loader, ValidationReport } from '../loader.ts';
import { Validator } from '../validate.ts';
import {
  type BarLoadOptions,
  BarWriter,
  DecimalScan,
  ensureInstrument,
  type FileInstrument,
  guessInstrument,
  pairInstrument,
  resolveInstrument,
  shapeError,
} from './ohlcv-common.ts';
import { parseTimeCell } from './ohlcv-csv.ts';
import { column, floatColumn, readFeather, timeColumn } from './ohlcv-feather.ts';
import { jsonTime, readJson } from './ohlcv-json.ts';

/** Buffered trades as the writer consumes them: a time, a price and size cell (number or text), side, id. */
export interface TradeRows {
  ts: ArrayLike<number>;
  px: ArrayLike<unknown>;
  qty: ArrayLike<unknown>;
  /** Side.BUY / Side.SELL / NO_SIDE per row. */
  side: ArrayLike<number>;
  /** Numeric trade id, 0 when the format has none (no duplicate check then). */
  id: ArrayLike<number>;
  line: (i: number) => number;
  length: number;
}

/** "buy"/"b" -> BUY, "sell"/"s" -> SELL (the taker's side in freqtrade, ccxt and Kraken), else NO_SIDE. */
export function sideOf(v: unknown): number {
  if (v === 'buy' || v === 'b' || v === 'BUY' || v === 'Buy') return Side.BUY;
  if (v === 'sell' || v === 's' || v === 'SELL' || v === 'Sell') return Side.SELL;
  return NO_SIDE;
}

/** A trade id: digits (number or text) -> number; anything else 0 (string ids are not interned here). */
export function idOf(v: unknown): number {
  if (typeof v === 'number') return Number.isSafeInteger(v) && v > 0 ? v : 0;
  if (typeof v === 'bigint') return v > 0n && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : 0;
  if (typeof v === 'string' && /^\d{1,15}$/.test(v)) return Number(v);
  return 0;
}

function scanCell(scan: DecimalScan, v: unknown, qty: boolean): void {
  if (typeof v === 'number') {
    if (qty) scan.qtyFloat(v);
    else scan.priceFloat(v);
  } else if (typeof v === 'string') {
    if (qty) scan.qtyText(v);
    else scan.priceText(v);
  }
}

/** Infers steps from every row, registers the instrument and writes TRADE rows in file order. */
export function* writeTrades(
  file: string,
  options: BarLoadOptions,
  report: ValidationReport,
  fi: FileInstrument,
  rows: TradeRows,
): Generator<EventBatch> {
  checkAborted(file, options.signal);
  const scan = new DecimalScan();
  for (let i = 0; i < rows.length; i++) {
    scanCell(scan, rows.px[i], false);
    scanCell(scan, rows.qty[i], true);
  }
  const inst = ensureInstrument(options.instruments, fi, scan, options, file, report);
  const w = new BarWriter(
    file,
    inst,
    report,
    options,
    0,
    new Validator(report, options.policies, options.strict),
  );
  for (let i = 0; i < rows.length; i++) {
    w.row();
    const p = rows.px[i];
    const q = rows.qty[i];
    const px =
      typeof p === 'number'
        ? w.pxFloat(p, 'price')
        : typeof p === 'string'
          ? w.px(p, 'price')
          : bad(w, 'price', p);
    const qty =
      typeof q === 'number'
        ? w.qtyFloat(q, 'amount')
        : typeof q === 'string'
          ? w.qty(q, 'amount')
          : bad(w, 'amount', q);
    w.trade(rows.line(i), rows.ts[i]!, px, qty, rows.side[i]!, rows.id[i]!);
    if (w.full) {
      yield w.batch;
      w.batch.clear();
    }
  }
  w.finish();
  if (w.batch.length > 0) yield w.batch;
}

function bad(w: BarWriter, field: string, v: unknown): number {
  w.bad(`${field} ${JSON.stringify(v)} is not a number or decimal string`);
  return Number.NaN;
}

/** Column arrays for TradeRows built row by row. */
class TradeColumns {
  readonly ts: number[] = [];
  readonly px: unknown[] = [];
  readonly qty: unknown[] = [];
  readonly side: number[] = [];
  readonly id: number[] = [];
  push(ts: number, px: unknown, qty: unknown, side: number, id: number): void {
    this.ts.push(ts);
    this.px.push(px);
    this.qty.push(qty);
    this.side.push(side);
    this.id.push(id);
  }
  rows(): TradeRows {
    return { ...this, line: (i) => i + 1, length: this.ts.length };
  }
}

/** freqtrade's instrument from "XRP_ETH-trades.json.gz"; XRP_OLD (the old ccxt form) names its symbol inside. */
function freqtradeInstrument(file: string, symbol: unknown): FileInstrument {
  if (typeof symbol === 'string' && symbol.includes('/')) {
    const [base = '', rest = ''] = symbol.split('/');
    const [quote = '', settle] = rest.split(':');
    return settle === undefined
      ? pairInstrument(`${base}${quote}`, 'BINANCE')
      : { ...pairInstrument(`${base}${quote}`, 'BINANCE_USDM'), kind: 1 };
  }
  return guessInstrument(file);
}

/**
 * freqtrade trade lists: `[[ts_ms, id, type, side, price, amount, cost], …]` (XRP_ETH-trades.json.gz) and the
 * old ccxt dict form `[{"timestamp":…, "id":"…", "side":…, "price":…, "amount":…, "symbol":"XRP/ETH", …}]`
 * (XRP_OLD-trades.json.gz). Both are Binance aggregate trades: `side` is the taker's, `amount` base units, ids
 * increasing. Prices are JSON numbers; steps are inferred from their shortest decimal form.
 */
export const freqtradeTradesJsonLoader: Loader = {
  name: 'freqtrade-trades-json',
  detect(file, head) {
    if (!/\.json(\.gz)?$/i.test(file)) return false;
    return (
      /^\s*\[\s*\[\s*\d+\s*,\s*"?\d+"?\s*,\s*(null|"[^"]*")\s*,\s*"(buy|sell)"/.test(head) ||
      (/^\s*\[\s*\{/.test(head) && /"side"\s*:/.test(head) && /"amount"\s*:/.test(head))
    );
  },
  async *load(file, options: BarLoadOptions, report) {
    const doc = readJson(file);
    if (!Array.isArray(doc)) throw shapeError(file, 'a JSON array of trades', doc);
    const cols = new TradeColumns();
    let symbol: unknown;
    for (const r of doc as unknown[]) {
      if (Array.isArray(r)) {
        cols.push(jsonTime(r[0], 1000), r[4], r[5], sideOf(r[3]), idOf(r[1]));
      } else if (typeof r === 'object' && r !== null) {
        const t = r as Record<string, unknown>;
        symbol ??= t['symbol'];
        cols.push(jsonTime(t['timestamp'], 1000), t['price'], t['amount'], sideOf(t['side']), idOf(t['id']));
      } else {
        cols.push(Number.NaN, undefined, undefined, NO_SIDE, 0);
      }
    }
    const fi = resolveInstrument(freqtradeInstrument(file, symbol), options);
    yield* writeTrades(file, options, report, fi, cols.rows());
  },
};

/**
 * freqtrade trades as feather (XRP_ETH-trades.feather): timestamp (int64 ms), id (utf8), type, side, price,
 * amount, cost. The same 12,477 trades as the JSON, read through apache-arrow + lz4js.
 */
export const freqtradeTradesFeatherLoader: Loader = {
  name: 'freqtrade-trades-feather',
  detect(file, head) {
    return /-trades\.feather$/i.test(file) && head.startsWith('ARROW1');
  },
  async *load(file, options: BarLoadOptions, report) {
    const t = readFeather(file);
    const ts = timeColumn(column(t, file, 'timestamp', 'date'));
    const idCol = t.getChild('id');
    const sideCol = t.getChild('side');
    const n = t.numRows;
    const side = new Uint8Array(n);
    const id = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      side[i] = sideCol === null ? NO_SIDE : sideOf(sideCol.get(i));
      id[i] = idCol === null ? 0 : idOf(idCol.get(i));
    }
    const rows: TradeRows = {
      ts,
      px: floatColumn(column(t, file, 'price')),
      qty: floatColumn(column(t, file, 'amount', 'qty', 'quantity')),
      side,
      id,
      line: (i) => i + 1,
      length: n,
    };
    yield* writeTrades(file, options, report, resolveInstrument(guessInstrument(file), options), rows);
  },
};

/**
 * Kraken REST `Trades`: `{"error":[],"result":{"XBTUSDT":[[price, volume, time_s, "b"|"s", "l"|"m", misc,
 * trade_id],…],"last":"ns"}}`. Prices and volumes are decimal strings (exact); the time is a float of seconds
 * with 100 ns digits, rounded to the microsecond (the double holds it to ±0.12 us). "b" means the taker bought.
 */
export const krakenTradesJsonLoader: Loader = {
  name: 'kraken-trades-json',
  detect(file, head) {
    return /\.json(\.gz)?$/i.test(file) && /"result"\s*:\s*\{\s*"[A-Z0-9.]+"\s*:\s*\[\s*\[\s*"\d/.test(head);
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
      throw shapeError(file, 'result.<PAIR> as an array of trades', list);
    const cols = new TradeColumns();
    for (const r of list as unknown[]) {
      if (!Array.isArray(r)) cols.push(Number.NaN, undefined, undefined, NO_SIDE, 0);
      else cols.push(jsonTime(r[2], 1_000_000), r[0], r[1], sideOf(r[3]), idOf(r[6]));
    }
    const fi = resolveInstrument({ ...pairInstrument(pair, 'KRAKEN'), symbol: pair }, options);
    yield* writeTrades(file, options, report, fi, cols.rows());
  },
};

/** Where the fields of a trade CSV are. */
interface TradeCsvLayout {
  skip: number;
  time: number;
  px: number;
  qty: number;
  side: number;
  id: number;
  width: number;
}

/**
 * Streams a trade CSV in two passes (decimals first, then rows; constant memory at any size), each line split
 * at commas. Times are epoch numbers (s/ms/us/ns by magnitude) or UTC date text.
 */
async function* streamTradesCsv(
  file: string,
  options: BarLoadOptions,
  report: ValidationReport,
  fi: FileInstrument,
  lay: TradeCsvLayout,
): AsyncGenerator<EventBatch> {
  const scan = new DecimalScan();
  for await (const chunk of readLines(file, { signal: options.signal })) {
    for (let k = 0; k < chunk.count; k++) {
      if (chunk.firstLine + k <= lay.skip) continue;
      const cells = chunk.lines[k]!.split(',');
      if (cells.length < lay.width) continue;
      scan.priceText(cells[lay.px]!);
      scan.qtyText(cells[lay.qty]!);
    }
  }
  const inst = ensureInstrument(options.instruments, fi, scan, options, file, report);
  const w = new BarWriter(
    file,
    inst,
    report,
    options,
    0,
    new Validator(report, options.policies, options.strict),
  );
  for await (const chunk of readLines(file, { signal: options.signal })) {
    for (let k = 0; k < chunk.count; k++) {
      const line = chunk.firstLine + k;
      if (line <= lay.skip) continue;
      const text = chunk.lines[k]!;
      if (text.length === 0) continue;
      w.row();
      const cells = text.split(',');
      if (cells.length < lay.width) {
        w.bad(
          `expected at least ${lay.width} comma-separated fields, got ${cells.length}: ${text.slice(0, 80)}`,
        );
        w.trade(line, Number.NaN, 0, 0, NO_SIDE, 0);
        continue;
      }
      const ts = parseTimeCell(cells[lay.time]!);
      if (Number.isNaN(ts)) w.bad(`time ${JSON.stringify(cells[lay.time])} is not an epoch number or date`);
      const px = w.px(cells[lay.px]!, 'price');
      const qty = w.qty(cells[lay.qty]!, 'amount');
      const side = lay.side >= 0 ? sideOf(cells[lay.side]) : NO_SIDE;
      const id = lay.id >= 0 ? idOf(cells[lay.id]) : 0;
      w.trade(line, ts, px, qty, side, id);
      if (w.full) {
        yield w.batch;
        w.batch.clear();
      }
    }
  }
  w.finish();
  if (w.batch.length > 0) yield w.batch;
}

/** Header trade CSV: a time column and price/amount columns by name (side and id optional). */
export function tradeCsvLayout(header: string): TradeCsvLayout | undefined {
  const names = header.split(',').map((h) => h.trim().toLowerCase());
  const time = names.findIndex((n) => n === 'timestamp' || n === 'time' || n === 'ts');
  const px = names.indexOf('price');
  const qty = names.findIndex((n) => n === 'amount' || n === 'qty' || n === 'quantity' || n === 'size');
  if (time < 0 || px < 0 || qty < 0) return undefined;
  const side = names.indexOf('side');
  const id = names.findIndex((n) => n === 'id' || n === 'trade_id');
  return { skip: 1, time, px, qty, side, id, width: Math.max(time, px, qty, side, id) + 1 };
}

/**
 * freqtrade's pandas trade CSV (orderflow/public_trades_list.csv): header `,timestamp,id,type,side,price,
 * amount,cost,date` with a leading index column; timestamp in ms, side the taker's. The file does not name its
 * instrument (README: probably ETH/USDT, venue not stated): pass symbol/venue, else the stem on UNKNOWN.
 */
export const tradesHeaderCsvLoader: Loader = {
  name: 'trades-csv',
  detect(file, head) {
    if (!/\.csv(\.gz)?$/i.test(file)) return false;
    // freqtrade/ccxt naming: timestamp, side, price, amount; Tardis files (local_timestamp) are not this layout.
    const names = (head.split('\n', 1)[0] ?? '').toLowerCase().split(',');
    return (
      names.includes('timestamp') &&
      names.includes('side') &&
      names.includes('price') &&
      names.includes('amount') &&
      !names.includes('local_timestamp') &&
      !names.includes('open')
    );
  },
  async *load(file, options: BarLoadOptions, report) {
    let header = '';
    for await (const chunk of readLines(file, { chunkBytes: 64 * 1024 })) {
      header = chunk.lines[0] ?? '';
      break;
    }
    const lay = tradeCsvLayout(header);
    if (lay === undefined) {
      throw new Bot4Error(
        ErrorCode.DATA_MALFORMED,
        `${file}:1: header ${JSON.stringify(header)} names no timestamp, price and amount`,
        {
          file,
          line: 1,
        },
      );
    }
    yield* streamTradesCsv(file, options, report, resolveInstrument(guessInstrument(file), options), lay);
  },
};

/**
 * Kraken's trade CSV export (freqtrade kraken/trades_csv/BCHEUR.csv), no header: `unix_s,price,volume`. Whole
 * seconds, so trades of one second share a time (kept in file order); no side, no id. The pair comes from the
 * file name ("BCHEUR" -> BCH/EUR), the venue is KRAKEN.
 */
export const krakenTradesCsvLoader: Loader = {
  name: 'kraken-trades-csv',
  detect(file, head) {
    if (!/\.csv(\.gz)?$/i.test(file)) return false;
    return /^\d{10}(\.\d+)?,\d+(\.\d+)?,\d+(\.\d+)?\r?$/.test(head.split('\n', 1)[0] ?? '');
  },
  async *load(file, options: BarLoadOptions, report) {
    const stem = basename(file).replace(/\.csv(\.gz)?$/i, '');
    const fi = resolveInstrument(pairInstrument(stem, 'KRAKEN'), options);
    yield* streamTradesCsv(file, options, report, fi, {
      skip: 0,
      time: 0,
      px: 1,
      qty: 2,
      side: -1,
      id: -1,
      width: 3,
    });
  },
};

/** The trade-list loaders, most specific first. */
export const TRADE_LIST_LOADERS: readonly Loader[] = [
  freqtradeTradesFeatherLoader,
  krakenTradesJsonLoader,
  freqtradeTradesJsonLoader,
  krakenTradesCsvLoader,
  tradesHeaderCsvLoader,
];
