// Parquet trade and quote files (plain pandas/pyarrow layouts: nautilus_trader's Binance trades/quotes,
// freqtrade's trade lists) read with hyparquet one row group at a time. Prices and sizes arrive as doubles:
// they are put on the tick/lot grid with floatToSteps (tolerance 1e-6 of a step). Times: ms/µs/ns -> µs.

import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import type { asyncBufferFromFile, FileMetaData } from 'hyparquet';

/** hyparquet loads when a Parquet file is read, not when the loader registry is (bot4 start-up). */
const hyparquet = () => import('hyparquet');

import { Bot4Error, ErrorCode } from '../../core/errors.ts';
import { BINANCE_VENUES, BinanceMarket } from '../../model/binance-instruments.ts';
import { decimalErrorMessage, floatToSteps, lastDecimalStatus, parseStep } from '../../model/decimal.ts';
import { type Instrument, InstrumentKind } from '../../model/instrument.ts';
import { type EventBatch, NO_SIDE, RecordKind, Side } from '../../model/market-data.ts';
import { knownBinanceInstrument } from '../../venues/binance/known-instruments.ts';
import { checkAborted } from '../lines.ts';
import type { Loader, LoadOptions, ValidationReport } from '../loader.ts';
import { addNote, Validator } from '../validate.ts';
import {
  ensureInstrument,
  floatDecimals,
  MAX_INFERRED_SCALE,
  newBatch,
  ProgressTicker,
  splitSymbol,
  stepText,
  tally,
  tickSpec,
} from './tick-common.ts';

/** Decompressors hyparquet lacks but Node has (pandas writes BROTLI by default in some setups). */
const COMPRESSORS = {
  BROTLI: (input: Uint8Array) => new Uint8Array(brotliDecompressSync(input)),
  GZIP: (input: Uint8Array) => new Uint8Array(gunzipSync(input)),
};

const Layout = { NAUTILUS_TRADES: 0, NAUTILUS_QUOTES: 1, FREQTRADE_TRADES: 2 } as const;
type Layout = (typeof Layout)[keyof typeof Layout];

const LAYOUTS: Readonly<Record<Layout, { name: string; columns: string[] }>> = {
  0: {
    name: 'trades (timestamp, trade_id, price, quantity, buyer_maker)',
    columns: ['timestamp', 'trade_id', 'price', 'quantity', 'buyer_maker'],
  },
  1: {
    name: 'quotes (timestamp, symbol, ask_size, ask, bid_size, bid)',
    columns: ['timestamp', 'symbol', 'ask_size', 'ask', 'bid_size', 'bid'],
  },
  2: {
    name: 'freqtrade trades (timestamp, id, side, price, amount)',
    columns: ['timestamp', 'id', 'side', 'price', 'amount'],
  },
};

function layoutOf(md: FileMetaData): Layout | undefined {
  const names = new Set(md.schema.slice(1).map((s) => s.name));
  for (const k of [0, 1, 2] as Layout[]) if (LAYOUTS[k].columns.every((c) => names.has(c))) return k;
  return undefined;
}

/** A Parquet timestamp value (Date, bigint or number) -> µs; plain integers by magnitude (s, ms, µs, ns). */
function toMicros(x: unknown): number {
  if (x instanceof Date) return x.getTime() * 1000;
  let n: number;
  if (typeof x === 'bigint') {
    if (x > 100_000_000_000_000_000n) return Number(x / 1000n); // ns
    n = Number(x);
  } else if (typeof x === 'number') n = x;
  else return Number.NaN;
  if (n > 1e17) return Math.trunc(n / 1000);
  if (n > 1e14) return n;
  if (n > 1e11) return n * 1000;
  return n * 1_000_000;
}

/** The symbol a file name suggests: "btcusdt-trades.parquet" -> BTCUSDT, "XRP_ETH-trades" -> XRPETH. */
function symbolFromName(file: string): string {
  const base = file.replace(/\\/g, '/').split('/').pop() ?? file;
  const m = /^([A-Za-z0-9]+(?:[_-][A-Za-z0-9]+)?)-(?:trades|quotes)/.exec(base);
  return (m?.[1] ?? base.replace(/\.parquet$/, '')).replace(/[_-]/g, '').toUpperCase();
}

/**
 * A damaged file makes hyparquet throw plain errors (bad footer, thrift types, failed decompression, reads past
 * the end); found by fuzzing. They become the loader's typed error naming the file.
 */
function unreadable(path: string, e: unknown): never {
  throw new Bot4Error(
    ErrorCode.DATA_MALFORMED,
    `${path}: unreadable Parquet file: ${e instanceof Error ? e.message : String(e)}`,
    { file: path },
  );
}

/** Rows of the file one row group at a time (hyparquet decodes a group whole; memory is one group). */
async function* groupRows(
  file: Awaited<ReturnType<typeof asyncBufferFromFile>>,
  md: FileMetaData,
  columns: string[],
  signal: AbortSignal | undefined,
  path: string,
  maxRows = Number.POSITIVE_INFINITY,
): AsyncGenerator<{ rows: unknown[][]; first: number }> {
  let start = 0;
  for (const g of md.row_groups) {
    checkAborted(path, signal);
    const n = Number(g.num_rows);
    const end = Math.min(start + n, maxRows);
    if (end <= start) break;
    let rows: unknown[][] = [];
    const { parquetRead } = await hyparquet();
    await parquetRead({
      file,
      metadata: md,
      columns,
      rowStart: start,
      rowEnd: end,
      compressors: COMPRESSORS,
      onComplete: (r: unknown[][]) => {
        rows = r;
      },
    }).catch((e: unknown) => unreadable(path, e));
    yield { rows, first: start };
    start += n;
  }
}

export const parquetTicksLoader: Loader = {
  name: 'parquet-ticks',
  detect(file: string, head: string): boolean {
    return /\.parquet$/i.test(file) && head.startsWith('PAR1');
  },
  async *load(path: string, options: LoadOptions, report: ValidationReport): AsyncGenerator<EventBatch> {
    const { asyncBufferFromFile, parquetMetadataAsync } = await hyparquet();
    const file = await asyncBufferFromFile(path);
    const md = await parquetMetadataAsync(file).catch((e: unknown) => unreadable(path, e));
    const layout = layoutOf(md);
    if (layout === undefined) {
      throw new Bot4Error(
        ErrorCode.DATA_MALFORMED,
        `${path}: Parquet columns ${md.schema
          .slice(1)
          .map((s) => s.name)
          .join(', ')} match no known layout; expected ${Object.values(LAYOUTS)
          .map((l) => l.name)
          .join(' or ')}`,
        { file: path },
      );
    }
    const cols = LAYOUTS[layout].columns;
    const v = new Validator(report, options.policies, options.strict);
    const venue = options.venue ?? BINANCE_VENUES.spot;
    if (options.venue === undefined)
      addNote(report, `venue not in the file: assumed ${venue} (pass options.venue)`);

    // Steps: the registry, else the Binance fixture when every value fits it, else the file's decimals.
    const pxIdx = layout === Layout.NAUTILUS_QUOTES ? [3, 5] : layout === Layout.NAUTILUS_TRADES ? [2] : [3];
    const qtyIdx = layout === Layout.NAUTILUS_QUOTES ? [2, 4] : layout === Layout.NAUTILUS_TRADES ? [3] : [4];
    let pd = 0;
    let qd = 0;
    for await (const { rows } of groupRows(file, md, cols, options.signal, path, 200_000)) {
      for (const r of rows) {
        for (const i of pxIdx) pd = Math.max(pd, floatDecimals(r[i] as number));
        for (const i of qtyIdx) qd = Math.max(qd, floatDecimals(r[i] as number));
      }
    }
    const symbol = options.symbol ?? symbolFromName(path);
    const inferred = {
      tickSize: stepText(Math.min(pd, MAX_INFERRED_SCALE)),
      lotSize: stepText(Math.min(qd, MAX_INFERRED_SCALE)),
    };
    const reg = options.instruments;
    let inst: Instrument;
    const have = reg.find(symbol, venue);
    const market =
      venue === BINANCE_VENUES.usdm
        ? BinanceMarket.USDM
        : venue === BINANCE_VENUES.coinm
          ? BinanceMarket.COINM
          : BinanceMarket.SPOT;
    const known = venue.startsWith('BINANCE') ? knownBinanceInstrument(market, symbol, venue) : undefined;
    if (have !== undefined) inst = ensureInstrument(reg, have.spec, report, 'registered');
    else if (known !== undefined && fits(known.spec.tickSize, pd) && fits(known.spec.lotSize, qd)) {
      inst = ensureInstrument(reg, known.spec, report, known.source);
    } else {
      const { base, quote } = splitSymbol(symbol, 'USDT');
      const why =
        known === undefined
          ? 'inferred from the decimals in the data'
          : `inferred from the decimals in the data: the ${known.source} steps (tick ${known.spec.tickSize}, ` +
            `lot ${known.spec.lotSize}) are coarser than the file's values`;
      inst = ensureInstrument(
        reg,
        tickSpec({
          symbol,
          venue,
          kind: market === BinanceMarket.SPOT ? InstrumentKind.SPOT : InstrumentKind.PERPETUAL,
          base,
          quote,
          ...inferred,
        }),
        report,
        why,
      );
    }

    const batch = newBatch(options);
    const progress = new ProgressTicker(path, options);
    const total = Number(md.num_rows);
    const id = inst.id;
    let line = 0;
    const conv = (x: unknown, isPrice: boolean, what: string): number => {
      const step = isPrice ? inst.tickSize : inst.lotSize;
      const n = floatToSteps(typeof x === 'number' ? x : Number.NaN, step);
      if (!Number.isNaN(n)) return n;
      v.malformed(
        line,
        decimalErrorMessage(lastDecimalStatus(), typeof x === 'number' ? x : String(x), step, {
          what,
          stepName: isPrice ? 'tick size' : 'lot size',
          context: inst.key,
        }),
      );
      return Number.NaN;
    };
    for await (const { rows, first } of groupRows(file, md, cols, options.signal, path)) {
      for (let k = 0; k < rows.length; k++) {
        const r = rows[k]!;
        line = first + k + 1; // 1-based row number in the file (examples say "line" for it)
        report.rows++;
        const ts = toMicros(r[0]);
        if (Number.isNaN(ts)) {
          v.malformed(line, `timestamp ${String(r[0])} is not a time`);
          continue;
        }
        if (batch.full) {
          tally(batch, report);
          yield batch;
          batch.clear();
        }
        if (layout === Layout.NAUTILUS_QUOTES) {
          const ap = conv(r[3], true, 'ask');
          const aq = conv(r[2], false, 'ask_size');
          const bp = conv(r[5], true, 'bid');
          const bq = conv(r[4], false, 'bid_size');
          if (Number.isNaN(ap) || Number.isNaN(aq) || Number.isNaN(bp) || Number.isNaN(bq)) continue;
          if (!v.quote(bp, bq, ap, aq, line)) continue;
          const t = v.orderedTs(id, RecordKind.QUOTE, ts, line);
          if (Number.isNaN(t)) continue;
          batch.push(RecordKind.QUOTE, id, t, ts, bp, bq, ap, aq, 0, 0, 0);
        } else {
          const nautilus = layout === Layout.NAUTILUS_TRADES;
          const px = conv(r[nautilus ? 2 : 3], true, 'price');
          const qty = conv(r[nautilus ? 3 : 4], false, nautilus ? 'quantity' : 'amount');
          if (Number.isNaN(px) || Number.isNaN(qty)) continue;
          if (!v.positiveTrade(px, qty, line)) continue;
          const rawId = r[1];
          const tid =
            typeof rawId === 'bigint'
              ? Number(rawId)
              : typeof rawId === 'string' && /^\d{1,15}$/.test(rawId)
                ? Number(rawId)
                : 0;
          if (!v.tradeId(id, tid, line)) continue;
          // nautilus: buyer_maker "True" means the aggressor sold; freqtrade: side is the taker's side.
          let side: number = NO_SIDE;
          if (nautilus) side = r[4] === 'True' ? Side.SELL : r[4] === 'False' ? Side.BUY : NO_SIDE;
          else side = r[2] === 'buy' ? Side.BUY : r[2] === 'sell' ? Side.SELL : NO_SIDE;
          const t = v.orderedTs(id, RecordKind.TRADE, ts, line);
          if (Number.isNaN(t)) continue;
          batch.push(RecordKind.TRADE, id, t, ts, px, qty, side, 0, 0, 0, tid);
        }
      }
      progress.tick(0, file.byteLength, report.rows);
    }
    if (batch.length > 0) {
      tally(batch, report);
      yield batch;
      batch.clear();
    }
    progress.tick(file.byteLength, file.byteLength, total, true);
  },
};

/** True when every value with `decimals` decimal places is a multiple of the step. */
function fits(stepText: string, decimals: number): boolean {
  const s = parseStep(stepText);
  return s.units === 1 && decimals <= s.scale;
}
