// Tick-data CSV loaders: Binance historical order-book files ("T_DEPTH": snap + set rows) and Tardis.dev
// CSV datasets (book_snapshot_N, incremental_book_L2, trades, quotes). Rows stream through a shared driver;
// steps come from the registry, the Binance fixtures (Binance CSV) or the file's decimals (pre-scan of up
// to 200,000 rows). Deltas of one venue message/timestamp form a group ending in DeltaFlag.LAST. Units: µs.

import { Bot4Error, ErrorCode } from '../../core/errors.ts';
import { BINANCE_VENUES, BinanceMarket } from '../../model/binance-instruments.ts';
import {
  type DecimalStatus,
  decimalErrorMessage,
  decimalToSteps,
  lastDecimalStatus,
} from '../../model/decimal.ts';
import { type Instrument, InstrumentKind, type InstrumentRegistry } from '../../model/instrument.ts';
import { DeltaFlag, type EventBatch, NO_SIDE, RecordKind, Side } from '../../model/market-data.ts';
import { knownBinanceInstrument } from '../../venues/binance/known-instruments.ts';
import { readHeadText, readLines } from '../lines.ts';
import { type Loader, type LoadOptions, Problem, type ValidationReport } from '../loader.ts';
import { SequenceRule, Validator } from '../validate.ts';
import {
  DeltaGroups,
  ensureInstrument,
  intText,
  newBatch,
  ProgressTicker,
  StepInference,
  splitSymbol,
  tally,
  tickSpec,
} from './tick-common.ts';

/** Rows scanned before loading to infer tick and lot sizes of instruments without metadata. */
const INFER_ROWS = 200_000;

/** What a CSV format does with its header and rows. Rows write into `groups.batch`. */
interface CsvFormat {
  /** Most batch rows one CSV row can produce (the driver makes room before each row). */
  readonly maxRowsPerLine: number;
  header(cols: string[], line: number): void;
  /** Decimals of one row for step inference (pre-scan). */
  scan(cols: string[], inf: StepInference): void;
  row(cols: string[], line: number, groups: DeltaGroups): void;
  /** Called at the end (close the open group). */
  end(groups: DeltaGroups): void;
}

function headerError(file: string, line: number, want: string, got: string[]): Bot4Error {
  return new Bot4Error(
    ErrorCode.DATA_MALFORMED,
    `${file}:${line}: unexpected CSV header; expected ${want}, got ${got.slice(0, 10).join(',')}`,
    { file, line },
  );
}

async function inferCsv(file: string, fmt: CsvFormat, options: LoadOptions): Promise<StepInference> {
  const inf = new StepInference();
  let header = true;
  let rows = 0;
  outer: for await (const chunk of readLines(file, { signal: options.signal })) {
    for (let k = 0; k < chunk.count; k++) {
      const line = chunk.lines[k]!;
      if (line.length === 0) continue;
      if (header) {
        header = false;
        continue;
      }
      fmt.scan(line.split(','), inf);
      if (++rows >= INFER_ROWS) break outer;
    }
  }
  return inf;
}

async function* runCsv(
  file: string,
  options: LoadOptions,
  report: ValidationReport,
  fmt: CsvFormat,
): AsyncGenerator<EventBatch> {
  let batch = newBatch(options);
  if (batch.capacity < fmt.maxRowsPerLine) batch = newBatch({ ...options, batchSize: fmt.maxRowsPerLine });
  const groups = new DeltaGroups(batch);
  const progress = new ProgressTicker(file, options);
  let header = true;
  let bytes = 0;
  for await (const chunk of readLines(file, { signal: options.signal })) {
    for (let k = 0; k < chunk.count; k++) {
      const line = chunk.lines[k]!;
      if (line.length === 0) continue;
      const lineNo = chunk.firstLine + k;
      const cols = line.split(',');
      if (header) {
        header = false;
        fmt.header(cols, lineNo);
        continue;
      }
      if (batch.capacity - batch.length < fmt.maxRowsPerLine) {
        if (groups.carryOut() > 0) {
          tally(batch, report);
          yield batch;
        }
        batch.clear();
        groups.carryIn();
      }
      report.rows++;
      fmt.row(cols, lineNo, groups);
    }
    bytes = chunk.bytesRead;
    progress.tick(bytes, chunk.bytesTotal, report.rows);
  }
  fmt.end(groups);
  if (batch.length > 0) {
    tally(batch, report);
    yield batch;
    batch.clear();
  }
  progress.tick(bytes, bytes, report.rows, true);
}

/** Converts decimal text; on failure records a malformed row naming the field and returns NaN. */
function steps(
  v: Validator,
  text: string,
  inst: Instrument,
  isPrice: boolean,
  what: string,
  line: number,
): number {
  const step = isPrice ? inst.tickSize : inst.lotSize;
  const x = decimalToSteps(text, step);
  if (!Number.isNaN(x)) return x;
  v.malformed(
    line,
    decimalErrorMessage(lastDecimalStatus() as DecimalStatus, text, step, {
      what,
      stepName: isPrice ? 'tick size' : 'lot size',
      context: inst.key,
    }),
  );
  return Number.NaN;
}

// ---------------------------------------------------------------------------------------------------------
// Binance historical depth CSV: symbol,timestamp,first_update_id,last_update_id,side,update_type,price,qty,pu

const BINANCE_DEPTH_HEADER = 'symbol,timestamp,first_update_id,last_update_id,side,update_type,price,qty,pu';

class BinanceDepthCsv implements CsvFormat {
  readonly maxRowsPerLine = 1;
  private readonly file: string;
  private readonly options: LoadOptions;
  private readonly report: ValidationReport;
  private readonly v: Validator;
  private readonly venue: string;
  private readonly market: BinanceMarket;
  inference: StepInference | undefined;
  private sym = '';
  private inst: Instrument | undefined;
  /** Current group: (update type, last update id); a new pair starts a new venue message. */
  private gSnap = false;
  private gLast = Number.NaN;
  private gKeep = true;
  private gTs = 0;

  constructor(file: string, options: LoadOptions, report: ValidationReport, v: Validator) {
    this.file = file;
    this.options = options;
    this.report = report;
    this.v = v;
    this.market =
      options.venue === BINANCE_VENUES.spot
        ? BinanceMarket.SPOT
        : options.venue === BINANCE_VENUES.coinm
          ? BinanceMarket.COINM
          : BinanceMarket.USDM;
    this.venue = options.venue ?? BINANCE_VENUES.usdm;
  }

  header(cols: string[], line: number): void {
    if (cols.join(',') !== BINANCE_DEPTH_HEADER)
      throw headerError(this.file, line, BINANCE_DEPTH_HEADER, cols);
  }

  scan(cols: string[], inf: StepInference): void {
    if (cols.length < 9) return;
    inf.priceText(cols[0]!, cols[6]!);
    inf.sizeText(cols[0]!, cols[7]!);
  }

  private instrument(sym: string): Instrument {
    if (sym === this.sym && this.inst !== undefined) return this.inst;
    const reg = this.options.instruments;
    const have = reg.find(sym, this.venue);
    let inst: Instrument;
    if (have !== undefined) inst = ensureInstrument(reg, have.spec, this.report, 'registered');
    else {
      const known = knownBinanceInstrument(this.market, sym, this.venue);
      if (known !== undefined) inst = ensureInstrument(reg, known.spec, this.report, known.source);
      else {
        const st = this.inference?.steps(sym) ?? { tickSize: '1', lotSize: '1' };
        const { base, quote } = splitSymbol(sym, 'USDT');
        const kind = this.market === BinanceMarket.SPOT ? InstrumentKind.SPOT : InstrumentKind.PERPETUAL;
        inst = ensureInstrument(
          reg,
          tickSpec({ symbol: sym, venue: this.venue, kind, base, quote, ...st }),
          this.report,
          `inferred from the decimals of the first ${INFER_ROWS.toLocaleString('en')} rows`,
        );
      }
    }
    this.sym = sym;
    this.inst = inst;
    return inst;
  }

  row(cols: string[], line: number, groups: DeltaGroups): void {
    const v = this.v;
    if (cols.length !== 9) {
      v.malformed(line, `expected 9 columns (${BINANCE_DEPTH_HEADER}), got ${cols.length}`);
      return;
    }
    const inst = this.instrument(cols[0]!);
    const ms = intText(cols[1]!, 0, cols[1]!.length);
    const U = intText(cols[2]!, 0, cols[2]!.length);
    const u = intText(cols[3]!, 0, cols[3]!.length);
    const puText = cols[8]!;
    const pu = puText === '-1' ? Number.NaN : intText(puText, 0, puText.length);
    const sideText = cols[4]!;
    const type = cols[5]!;
    if (Number.isNaN(ms) || Number.isNaN(U) || Number.isNaN(u) || (puText !== '-1' && Number.isNaN(pu))) {
      v.malformed(
        line,
        `timestamp, update ids and pu must be integers (got ${cols[1]}, ${cols[2]}, ${cols[3]}, ${puText})`,
      );
      return;
    }
    if ((sideText !== 'b' && sideText !== 'a') || (type !== 'snap' && type !== 'set')) {
      v.malformed(line, `side must be b or a and update_type snap or set (got ${sideText}, ${type})`);
      return;
    }
    const snap = type === 'snap';
    const batch = groups.batch;
    if (snap !== this.gSnap || u !== this.gLast || groups.openRows === 0) {
      // A new venue message (an update id range, or a snapshot).
      groups.begin();
      this.gSnap = snap;
      this.gLast = u;
      const ts = ms * 1000;
      if (snap) {
        v.snapshot(inst.id, u);
        this.gKeep = true;
      } else {
        const flags = v.depth(inst.id, SequenceRule.FUTURES, U, u, pu, line);
        this.gKeep = flags !== 0;
      }
      const t = v.orderedTs(inst.id, RecordKind.DELTA, ts, line);
      if (Number.isNaN(t)) this.gKeep = false;
      this.gTs = t;
    }
    if (!this.gKeep) return;
    const px = steps(v, cols[6]!, inst, true, 'price', line);
    if (Number.isNaN(px)) return;
    const qty = steps(v, cols[7]!, inst, false, 'qty', line);
    if (Number.isNaN(qty)) return;
    if (px <= 0 && !v.problem(Problem.NON_POSITIVE, line, `price ${cols[6]} must be > 0`)) return;
    const first = groups.openRows === 0;
    const flags = snap ? DeltaFlag.SNAPSHOT | (first ? DeltaFlag.CLEAR : 0) : 0;
    batch.push(
      RecordKind.DELTA,
      inst.id,
      this.gTs,
      this.gTs,
      px,
      qty,
      sideText === 'b' ? Side.BUY : Side.SELL,
      flags,
      0,
      0,
      u,
    );
  }

  end(groups: DeltaGroups): void {
    groups.close();
  }
}

export const binanceDepthCsvLoader: Loader = {
  name: 'binance-depth-csv',
  detect(_file: string, head: string): boolean {
    return head.startsWith(BINANCE_DEPTH_HEADER);
  },
  async *load(file: string, options: LoadOptions, report: ValidationReport): AsyncGenerator<EventBatch> {
    const v = new Validator(report, options.policies, options.strict);
    const fmt = new BinanceDepthCsv(file, options, report, v);
    fmt.inference = await inferCsv(file, fmt, options);
    yield* runCsv(file, options, report, fmt);
  },
};

// ---------------------------------------------------------------------------------------------------------
// Tardis.dev CSV datasets. Every file starts exchange,symbol,timestamp,local_timestamp (µs since epoch).

const TARDIS_PREFIX = 'exchange,symbol,timestamp,local_timestamp,';

/** Tardis exchange id -> Bot4 venue name. */
export function tardisVenue(exchange: string): string {
  switch (exchange) {
    case 'binance':
      return BINANCE_VENUES.spot;
    case 'binance-futures':
      return BINANCE_VENUES.usdm;
    case 'binance-delivery':
      return BINANCE_VENUES.coinm;
    default:
      return exchange.toUpperCase().replace(/[^A-Z0-9_]/g, '_');
  }
}

/**
 * Contract terms of well-known inverse perpetuals Tardis samples use (public venue specs): BitMEX XBTUSD is 1 USD
 * per contract, Deribit BTC-PERPETUAL amounts are USD in 10 USD contracts, Huobi BTC-USD swaps 100 USD.
 */
const INVERSE: Readonly<Record<string, string>> = {
  'bitmex|XBTUSD': '1',
  'deribit|BTC-PERPETUAL': '10',
  'huobi-dm-swap|BTC-USD': '100',
};

const TardisKind = { SNAPSHOT: 0, INCREMENTAL: 1, TRADES: 2, QUOTES: 3 } as const;
type TardisKind = (typeof TardisKind)[keyof typeof TardisKind];

class TardisCsv implements CsvFormat {
  maxRowsPerLine = 1;
  private readonly file: string;
  private readonly registry: InstrumentRegistry;
  private readonly report: ValidationReport;
  private readonly v: Validator;
  private readonly kind: TardisKind;
  inference: StepInference | undefined;
  private idx: Record<string, number> = {};
  private levels = 0;
  private lastKey = '';
  private inst: Instrument | undefined;
  // incremental_book_L2 grouping: a message is the rows of one (timestamp, is_snapshot).
  private gTs = Number.NaN;
  private gSnap = false;
  private gKeep = true;
  private gTsUse = 0;
  private inSnapshot = false;

  constructor(file: string, options: LoadOptions, report: ValidationReport, v: Validator, kind: TardisKind) {
    this.file = file;
    this.registry = options.instruments;
    this.report = report;
    this.v = v;
    this.kind = kind;
  }

  header(cols: string[], line: number): void {
    const want: Record<TardisKind, string[]> = {
      0: ['asks[0].price', 'asks[0].amount', 'bids[0].price', 'bids[0].amount'],
      1: ['is_snapshot', 'side', 'price', 'amount'],
      2: ['id', 'side', 'price', 'amount'],
      3: ['ask_amount', 'ask_price', 'bid_price', 'bid_amount'],
    };
    if (`${cols.slice(0, 4).join(',')},` !== TARDIS_PREFIX)
      throw headerError(this.file, line, TARDIS_PREFIX, cols);
    this.idx = {};
    this.levels = 0;
    for (let i = 0; i < cols.length; i++) this.idx[cols[i]!] = i;
    for (const c of want[this.kind])
      if (this.idx[c] === undefined) throw headerError(this.file, line, want[this.kind].join(','), cols);
    if (this.kind === TardisKind.SNAPSHOT) {
      while (this.idx[`asks[${this.levels}].price`] !== undefined) this.levels++;
      this.maxRowsPerLine = 2 * this.levels;
    }
  }

  private col(cols: string[], name: string): string {
    return cols[this.idx[name]!] ?? '';
  }

  scan(cols: string[], inf: StepInference): void {
    const sym = `${cols[0]}|${cols[1]}`;
    const px = (n: string) => {
      const t = this.col(cols, n);
      if (t !== '') inf.priceText(sym, t);
    };
    const qty = (n: string) => {
      const t = this.col(cols, n);
      if (t !== '') inf.sizeText(sym, t);
    };
    if (this.kind === TardisKind.SNAPSHOT) {
      for (let i = 0; i < this.levels; i++) {
        px(`asks[${i}].price`);
        qty(`asks[${i}].amount`);
        px(`bids[${i}].price`);
        qty(`bids[${i}].amount`);
      }
    } else if (this.kind === TardisKind.QUOTES) {
      px('ask_price');
      px('bid_price');
      qty('ask_amount');
      qty('bid_amount');
    } else {
      px('price');
      qty('amount');
    }
  }

  private instrument(exchange: string, symbol: string): Instrument {
    const key = `${exchange}|${symbol}`;
    if (key === this.lastKey && this.inst !== undefined) return this.inst;
    const venue = tardisVenue(exchange);
    const reg = this.registry;
    let inst = reg.find(symbol, venue);
    if (inst !== undefined) inst = ensureInstrument(reg, inst.spec, this.report, 'registered');
    else {
      const st = this.inference?.steps(key) ?? { tickSize: '1', lotSize: '1' };
      const { base, quote } = splitSymbol(symbol.replace(/-PERPETUAL$/, '-USD'), 'USD');
      const mult = INVERSE[key];
      const perp = /futures|swap|deribit|bitmex|delivery/.test(exchange);
      inst = ensureInstrument(
        reg,
        tickSpec({
          symbol,
          venue,
          kind: perp ? InstrumentKind.PERPETUAL : InstrumentKind.SPOT,
          base,
          quote,
          ...st,
          ...(mult === undefined ? {} : { isInverse: true, multiplier: mult }),
        }),
        this.report,
        `inferred from the decimals of the first ${INFER_ROWS.toLocaleString('en')} rows` +
          (mult === undefined ? '' : `; inverse, ${mult} USD per contract (venue spec)`),
      );
    }
    this.lastKey = key;
    this.inst = inst;
    return inst;
  }

  row(cols: string[], line: number, groups: DeltaGroups): void {
    const v = this.v;
    if (cols.length < 4) {
      v.malformed(line, `expected at least 4 columns (${TARDIS_PREFIX}...), got ${cols.length}`);
      return;
    }
    const inst = this.instrument(cols[0]!, cols[1]!);
    const ts = intText(cols[2]!, 0, cols[2]!.length);
    const tsInit = intText(cols[3]!, 0, cols[3]!.length);
    if (Number.isNaN(ts) || Number.isNaN(tsInit)) {
      v.malformed(
        line,
        `timestamp and local_timestamp must be integer microseconds (got ${cols[2]}, ${cols[3]})`,
      );
      return;
    }
    switch (this.kind) {
      case TardisKind.SNAPSHOT:
        this.snapshotRow(cols, line, groups, inst, ts, tsInit);
        return;
      case TardisKind.INCREMENTAL:
        this.incrementalRow(cols, line, groups, inst, ts, tsInit);
        return;
      case TardisKind.TRADES:
        this.tradeRow(cols, line, groups.batch, inst, ts, tsInit);
        return;
      default:
        this.quoteRow(cols, line, groups.batch, inst, ts, tsInit);
    }
  }

  private snapshotRow(
    cols: string[],
    line: number,
    groups: DeltaGroups,
    inst: Instrument,
    ts: number,
    tsInit: number,
  ): void {
    const v = this.v;
    const b = groups.batch;
    const start = b.length;
    const t = v.orderedTs(inst.id, RecordKind.DELTA, ts, line);
    if (Number.isNaN(t)) return;
    let bestBid = Number.NaN;
    let bestAsk = Number.NaN;
    groups.begin();
    for (const [sideName, side] of [
      ['bids', Side.BUY],
      ['asks', Side.SELL],
    ] as const) {
      for (let i = 0; i < this.levels; i++) {
        const pt = this.col(cols, `${sideName}[${i}].price`);
        const qt = this.col(cols, `${sideName}[${i}].amount`);
        if (pt === '' && qt === '') continue; // a book shallower than N levels
        const px = steps(v, pt, inst, true, `${sideName}[${i}].price`, line);
        const qty = steps(v, qt, inst, false, `${sideName}[${i}].amount`, line);
        if (Number.isNaN(px) || Number.isNaN(qty)) {
          b.length = start;
          groups.begin();
          return;
        }
        if (i === 0) {
          if (side === Side.BUY) bestBid = px;
          else bestAsk = px;
        }
        b.push(RecordKind.DELTA, inst.id, t, tsInit, px, qty, side, DeltaFlag.SNAPSHOT, 0, 0, 0);
      }
    }
    if (
      bestBid >= bestAsk &&
      !v.problem(Problem.CROSSED_BOOK, line, `snapshot top crossed: bid ${bestBid} >= ask ${bestAsk} (ticks)`)
    ) {
      b.length = start;
      groups.begin();
      return;
    }
    if (b.length > start) b.d[start] = b.d[start]! | DeltaFlag.CLEAR;
    groups.close();
  }

  private incrementalRow(
    cols: string[],
    line: number,
    groups: DeltaGroups,
    inst: Instrument,
    ts: number,
    tsInit: number,
  ): void {
    const v = this.v;
    const b = groups.batch;
    const snapText = this.col(cols, 'is_snapshot');
    const sideText = this.col(cols, 'side');
    if ((snapText !== 'true' && snapText !== 'false') || (sideText !== 'bid' && sideText !== 'ask')) {
      v.malformed(line, `is_snapshot must be true/false and side bid/ask (got ${snapText}, ${sideText})`);
      return;
    }
    const snap = snapText === 'true';
    let clear = false;
    if (ts !== this.gTs || snap !== this.gSnap || groups.openRows === 0) {
      groups.begin();
      // A snapshot after incremental rows (or at the start) replaces the book: CLEAR on its first row.
      clear = snap && !this.inSnapshot;
      this.inSnapshot = snap;
      this.gTs = ts;
      this.gSnap = snap;
      const t = v.orderedTs(inst.id, RecordKind.DELTA, ts, line);
      this.gKeep = !Number.isNaN(t);
      this.gTsUse = t;
    }
    if (!this.gKeep) return;
    const px = steps(v, this.col(cols, 'price'), inst, true, 'price', line);
    const qty = steps(v, this.col(cols, 'amount'), inst, false, 'amount', line);
    if (Number.isNaN(px) || Number.isNaN(qty)) return;
    const flags = snap ? DeltaFlag.SNAPSHOT | (clear ? DeltaFlag.CLEAR : 0) : 0;
    b.push(
      RecordKind.DELTA,
      inst.id,
      this.gTsUse,
      tsInit,
      px,
      qty,
      sideText === 'bid' ? Side.BUY : Side.SELL,
      flags,
      0,
      0,
      0,
    );
  }

  private tradeRow(
    cols: string[],
    line: number,
    b: EventBatch,
    inst: Instrument,
    ts: number,
    tsInit: number,
  ): void {
    const v = this.v;
    const px = steps(v, this.col(cols, 'price'), inst, true, 'price', line);
    const qty = steps(v, this.col(cols, 'amount'), inst, false, 'amount', line);
    if (Number.isNaN(px) || Number.isNaN(qty)) return;
    if (!v.positiveTrade(px, qty, line)) return;
    const idText = this.col(cols, 'id');
    // Numeric ids are checked for duplicates; string ids (BitMEX UUIDs) are not comparable and count as 0.
    const id = /^\d{1,15}$/.test(idText) ? Number(idText) : 0;
    if (!v.tradeId(inst.id, id, line)) return;
    const t = v.orderedTs(inst.id, RecordKind.TRADE, ts, line);
    if (Number.isNaN(t)) return;
    const s = this.col(cols, 'side');
    const side = s === 'buy' ? Side.BUY : s === 'sell' ? Side.SELL : NO_SIDE;
    b.push(RecordKind.TRADE, inst.id, t, tsInit, px, qty, side, 0, 0, 0, id);
  }

  private quoteRow(
    cols: string[],
    line: number,
    b: EventBatch,
    inst: Instrument,
    ts: number,
    tsInit: number,
  ): void {
    const v = this.v;
    const val = (name: string, isPrice: boolean) => {
      const t = this.col(cols, name);
      return t === '' ? 0 : steps(v, t, inst, isPrice, name, line);
    };
    const bp = val('bid_price', true);
    const bq = val('bid_amount', false);
    const ap = val('ask_price', true);
    const aq = val('ask_amount', false);
    if (Number.isNaN(bp) || Number.isNaN(bq) || Number.isNaN(ap) || Number.isNaN(aq)) return;
    if (!v.quote(bp, bq, ap, aq, line)) return;
    const t = v.orderedTs(inst.id, RecordKind.QUOTE, ts, line);
    if (Number.isNaN(t)) return;
    b.push(RecordKind.QUOTE, inst.id, t, tsInit, bp, bq, ap, aq, 0, 0, 0);
  }

  end(groups: DeltaGroups): void {
    groups.close();
  }
}

function tardisKindOf(head: string): TardisKind | undefined {
  if (!head.startsWith(TARDIS_PREFIX)) return undefined;
  const header = head.slice(0, head.indexOf('\n') < 0 ? head.length : head.indexOf('\n'));
  if (header.includes('asks[0].price')) return TardisKind.SNAPSHOT;
  if (header.includes(',is_snapshot,side,price,amount')) return TardisKind.INCREMENTAL;
  if (header.includes(',id,side,price,amount')) return TardisKind.TRADES;
  if (header.includes(',ask_amount,ask_price,bid_price,bid_amount')) return TardisKind.QUOTES;
  return undefined;
}

export const tardisCsvLoader: Loader = {
  name: 'tardis-csv',
  detect(_file: string, head: string): boolean {
    return tardisKindOf(head) !== undefined;
  },
  async *load(file: string, options: LoadOptions, report: ValidationReport): AsyncGenerator<EventBatch> {
    const head = readHeadText(file, 64 * 1024);
    const kind = tardisKindOf(head);
    if (kind === undefined) {
      throw new Bot4Error(
        ErrorCode.DATA_MALFORMED,
        `${file}:1: not a Tardis CSV dataset (book_snapshot_N, incremental_book_L2, trades or quotes header expected)`,
        { file },
      );
    }
    const v = new Validator(report, options.policies, options.strict);
    const fmt = new TardisCsv(file, options, report, v, kind);
    // The header sets the column map the pre-scan needs.
    fmt.header(head.split('\n')[0]!.replace(/\r$/, '').split(','), 1);
    fmt.inference = await inferCsv(file, fmt, options);
    yield* runCsv(file, options, report, fmt);
  },
};
