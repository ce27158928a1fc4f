// Shared parts of the candle and trade-list loaders: instruments from the decimals a file shows (decimal-scan.ts), date
// parsing without Date objects, interval and symbol inference from file names, and BarWriter, which converts,
// validates and appends BAR (and MARK, FUNDING, TRADE) rows. Units: micros, integer ticks and lots, rates in 1e-8.

import { basename } from 'node:path';
import { Bot4Error, ErrorCode } from '../../core/errors.ts';
import {
  DecimalStatus,
  decimalErrorMessage,
  decimalToSteps,
  decimalToStepsRounded,
  floatToSteps,
  lastDecimalStatus,
  parseStep,
  Rounding,
  type Step,
  stepOfScale,
} from '../../model/decimal.ts';
import { type Instrument, InstrumentKind, type InstrumentRegistry } from '../../model/instrument.ts';
import { EventBatch, RATE_SCALE, RECORD_KIND_NAMES, RecordKind } from '../../model/market-data.ts';
import { type LoadOptions, type Policy, Problem, type ValidationReport } from '../loader.ts';
import { addInstrument, addNote, countRecords, Validator } from '../validate.ts';
import { type DecimalNeeds, type DecimalScan, stepText } from './decimal-scan.ts';

export {
  DecimalNeeds,
  DecimalScan,
  floatDecimals,
  MAX_COUNT,
  MAX_INFER_SCALE,
  stepText,
  textDecimals,
} from './decimal-scan.ts';

/** Options the candle and trade-list loaders understand on top of the loader contract's. */
export interface BarLoadOptions extends LoadOptions {
  /** Tick and lot size as decimal text; when absent they are inferred from the file (see DecimalScan). */
  tickSize?: string;
  lotSize?: string;
  /** Bar length in micros; when absent, from the file name, else the median gap between bar times. */
  intervalMicros?: number;
  /** Rows scanned to infer steps and interval in streamed files (default: all rows of files up to 64 MiB). */
  inferRows?: number;
  /** Instrument kind and currencies, when the file name does not say (default SPOT, from the symbol). */
  kind?: InstrumentKind;
  base?: string;
  quote?: string;
  /** Kraken OHLC: also emit the last, still-open candle (default false: a bar is published once closed). */
  includeOpenBar?: boolean;
}

export const DEFAULT_BATCH = 65_536;

/**
 * Candle files default to sorting rows out of time order (out_of_order 'repair'): a bar is keyed by its open
 * time, so the order of rows in the file carries nothing a sort could lose (newest-first files are common).
 * An explicit policy wins. Loaders that stream without holding the file report and drop such rows instead.
 */
export function candlePolicies(options: LoadOptions): Partial<Record<Problem, Policy>> {
  return { out_of_order: 'repair', ...options.policies };
}

/** The Validator of a candle load: candle policies, strict mode from the options. */
export function candleValidator(report: ValidationReport, options: LoadOptions): Validator {
  return new Validator(report, candlePolicies(options), options.strict);
}
/** Files up to this size are scanned whole for step inference; bigger ones by their first rows only. */
export const WHOLE_SCAN_BYTES = 64 * 1024 * 1024;
export const LARGE_FILE_INFER_ROWS = 200_000;
const QUOTES = [
  'FDUSD',
  'USDT',
  'USDC',
  'BUSD',
  'TUSD',
  'USD',
  'EUR',
  'GBP',
  'TRY',
  'BTC',
  'XBT',
  'ETH',
  'BNB',
  'DAI',
] as const;

/** "ADABTC" -> ["ADA", "BTC"] by the known quote currencies (longest first); undefined when none fits. */
export function splitPair(pair: string): [string, string] | undefined {
  const p = pair.toUpperCase();
  for (const q of QUOTES) {
    if (p.length > q.length && p.endsWith(q)) return [p.slice(0, p.length - q.length), q];
  }
  return undefined;
}

/** What a loader knows about the instrument of a file before reading it. */
export interface FileInstrument {
  symbol: string;
  venue: string;
  base: string;
  quote: string;
  kind: InstrumentKind;
}

/** Resolves symbol/venue/currencies: options win over what the loader guessed from the file. */
export function resolveInstrument(guess: FileInstrument, options: BarLoadOptions): FileInstrument {
  const symbol = options.symbol ?? guess.symbol;
  let base = options.base ?? guess.base;
  let quote = options.quote ?? guess.quote;
  if (options.symbol !== undefined && options.base === undefined && options.quote === undefined) {
    const split = splitPair(options.symbol.replace(/[-_/]/g, ''));
    if (split !== undefined) [base, quote] = split;
  }
  return { symbol, venue: options.venue ?? guess.venue, base, quote, kind: options.kind ?? guess.kind };
}

/** A pair symbol, e.g. "BTCUSDT", with its currencies, or a placeholder currency pair when it cannot be split. */
export function pairInstrument(
  pair: string,
  venue: string,
  kind: InstrumentKind = InstrumentKind.SPOT,
): FileInstrument {
  const clean = pair.toUpperCase().replace(/[-_/]/g, '');
  const split = splitPair(clean) ?? [clean, 'UNKNOWN'];
  return { symbol: clean, venue, base: split[0], quote: split[1], kind };
}

/**
 * Steps still unknown on instruments this module registered: a funding-rate file shows no prices, a mark-price
 * file no sizes. No tick (lot) count has been loaded against an unknown step, so the next file of the symbol
 * that shows one may set it (registry.replace keeps the id).
 */
const UNKNOWN_STEPS = new WeakMap<Instrument, { tick: boolean; lot: boolean }>();

/** Says why an inferred step is coarser than the values show, or leaves values out. */
function stepNote(
  report: ValidationReport,
  what: string,
  step: string,
  needs: DecimalNeeds,
  d: number,
): void {
  const lost = needs.lost(d);
  if (d >= needs.maxDecimals && lost === 0) return;
  addNote(
    report,
    `${what} show up to ${needs.maxDecimals} decimals; ${step} ${stepText(d)} keeps counts below 2^53/64 and ` +
      `loses the fewest values (${lost} of ${needs.count} are finer or too large: their rows are reported)`,
  );
}

/**
 * Finds or adds the instrument. Without an explicit tick/lot size the steps come from the scan. An instrument
 * already registered under the key is reused when the file's decimals fit its steps (another file of the same
 * symbol); when they do not, the load stops: re-registering would change the meaning of ticks already loaded.
 */
export function ensureInstrument(
  registry: InstrumentRegistry,
  fi: FileInstrument,
  scan: DecimalScan,
  options: BarLoadOptions,
  file: string,
  report?: ValidationReport,
): Instrument {
  const noTick = scan.prices === 0 && options.tickSize === undefined;
  const noLot = scan.qtys === 0 && options.lotSize === undefined;
  const pd = scan.price.choose();
  const qd = scan.qty.choose();
  if (report !== undefined && options.tickSize === undefined)
    stepNote(report, 'prices', 'tick', scan.price, pd);
  if (report !== undefined && options.lotSize === undefined) stepNote(report, 'sizes', 'lot', scan.qty, qd);
  const tickSize = options.tickSize ?? stepText(pd);
  const lotSize = options.lotSize ?? stepText(qd);
  const spec = {
    symbol: fi.symbol,
    venue: fi.venue,
    kind: fi.kind,
    base: fi.base,
    quote: fi.quote,
    settlement: fi.quote,
    tickSize,
    lotSize,
  };
  const existing = registry.find(fi.symbol, fi.venue);
  if (existing === undefined) {
    const inst = registry.add(spec);
    if (noTick || noLot) UNKNOWN_STEPS.set(inst, { tick: noTick, lot: noLot });
    return inst;
  }
  const unknown = UNKNOWN_STEPS.get(existing) ?? { tick: false, lot: false };
  // An explicit step must be the registered one; an inferred 10^-d fits when the registered step divides it.
  const fits = (have: Step, want: string, explicit: boolean): boolean => {
    const w = parseStep(want);
    if (explicit) return have.text === w.text;
    return have.units !== 1 || have.scale >= w.scale;
  };
  const tickOk = noTick || unknown.tick || fits(existing.tickSize, tickSize, options.tickSize !== undefined);
  const lotOk = noLot || unknown.lot || fits(existing.lotSize, lotSize, options.lotSize !== undefined);
  if (!tickOk || !lotOk) {
    throw new Bot4Error(
      ErrorCode.INVALID_ARGUMENT,
      `${file}: prices/sizes need tick ${tickSize} and lot ${lotSize}, but ${existing.key} is registered with tick ` +
        `${existing.tickSize.text} and lot ${existing.lotSize.text}; load into a fresh registry or pass matching tickSize/lotSize`,
      { file, instrument: existing.key, tickSize, lotSize },
    );
  }
  const setTick = unknown.tick && !noTick;
  const setLot = unknown.lot && !noLot;
  if (!setTick && !setLot) return existing;
  const inst = registry.replace({
    ...existing.spec,
    tickSize: setTick ? tickSize : existing.tickSize.text,
    lotSize: setLot ? lotSize : existing.lotSize.text,
  });
  UNKNOWN_STEPS.delete(existing);
  if (unknown.tick !== setTick || unknown.lot !== setLot) {
    UNKNOWN_STEPS.set(inst, { tick: unknown.tick && !setTick, lot: unknown.lot && !setLot });
  }
  return inst;
}

/**
 * Guesses the instrument from a file name, for the layouts this repository knows:
 *   freqtrade  "XRP_ETH-1m.json", "XRP_USDT_USDT-1h-futures.feather" (a settle currency means a USD-M perpetual)
 *   Binance    "ADABTC-1m-2021-11-27.csv" (data.binance.vision)
 *   venue_pair "binance_btcusdt_day_2020.csv", "Coinbase_BTCUSD_1h.csv", "bitstamp_btcusd_min_2020_01_01.csv"
 *   FTX        "btc-perp-20211231-20220201_1m.csv"
 * Anything else becomes the file stem upper-cased on venue UNKNOWN: pass symbol/venue options for those.
 */
export function guessInstrument(file: string): FileInstrument {
  const stem = basename(file).replace(/\.(json|csv|feather|parquet|gz|txt)/gi, '');
  let m = /^([a-z0-9]+)-perp(?:[-_]|$)/i.exec(stem);
  if (m !== null) {
    const base = m[1]!.toUpperCase();
    return { symbol: `${base}-PERP`, venue: 'FTX', base, quote: 'USD', kind: InstrumentKind.PERPETUAL };
  }
  m = /^(binance|bitstamp|coinbase|kraken|bybit|okx|ftx|bitfinex|gemini)_([a-z0-9]+)(?:[-_]|$)/i.exec(stem);
  if (m !== null) return pairInstrument(m[2]!, m[1]!.toUpperCase());
  m = /^([A-Z0-9]+)_([A-Z0-9]+)(?:_([A-Z0-9]+))?-/.exec(stem);
  if (m !== null) {
    const base = m[1]!;
    const quote = m[2]!;
    if (m[3] !== undefined) {
      return {
        symbol: `${base}${quote}`,
        venue: 'BINANCE_USDM',
        base,
        quote,
        kind: InstrumentKind.PERPETUAL,
      };
    }
    return { symbol: `${base}${quote}`, venue: 'BINANCE', base, quote, kind: InstrumentKind.SPOT };
  }
  m = /^([A-Z0-9]+)-\d+[smhdw]-\d{4}-\d{2}/.exec(stem);
  if (m !== null) return pairInstrument(m[1]!, 'BINANCE');
  const symbol = stem.toUpperCase().replace(/[^A-Z0-9]/g, '') || 'UNKNOWN';
  return { symbol, venue: 'UNKNOWN', base: symbol, quote: 'UNKNOWN', kind: InstrumentKind.SPOT };
}

// ---------------------------------------------------------------------------------------------- time

const MS = 1000;

/** Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil). */
export function daysFromCivil(y: number, m: number, d: number): number {
  const yy = m <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

function digits(s: string, from: number, n: number): number {
  let v = 0;
  for (let i = from; i < from + n; i++) {
    const d = s.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return Number.NaN;
    v = v * 10 + d;
  }
  return v;
}

/**
 * UTC date-time text to micros, NaN when malformed. Accepts "YYYY-MM-DD", "YYYY-MM-DD HH:MM[:SS[.f…]]" (or a
 * "T"), an optional "Z" or "+00:00" suffix, and CryptoDataDownload's "YYYY-MM-DD HH-AM"/"HH-PM" (12-AM is
 * midnight). Fractions beyond microseconds are truncated; other UTC offsets are refused (NaN).
 */
export function parseUtcMicros(s: string): number {
  const n = s.length;
  if (n < 10 || s.charCodeAt(4) !== 45 || s.charCodeAt(7) !== 45) return Number.NaN;
  const y = digits(s, 0, 4);
  const mo = digits(s, 5, 2);
  const d = digits(s, 8, 2);
  if (!(mo >= 1 && mo <= 12 && d >= 1 && d <= 31)) return Number.NaN;
  let us = daysFromCivil(y, mo, d) * 86_400_000_000;
  if (n === 10) return us;
  const sep = s.charCodeAt(10);
  if ((sep !== 32 && sep !== 84) || n < 13) return Number.NaN;
  const hh = digits(s, 11, 2);
  if (s.charCodeAt(13) === 45) {
    // "09-AM": 12-hour clock.
    const ap = s.slice(14);
    if (!(hh >= 1 && hh <= 12) || (ap !== 'AM' && ap !== 'PM')) return Number.NaN;
    return us + ((hh % 12) + (ap === 'PM' ? 12 : 0)) * 3_600_000_000;
  }
  if (n < 16 || s.charCodeAt(13) !== 58) return Number.NaN;
  const mi = digits(s, 14, 2);
  let sec = 0;
  let i = 16;
  if (i < n && s.charCodeAt(i) === 58) {
    sec = digits(s, 17, 2);
    i = 19;
  }
  if (!(hh <= 23 && mi <= 59 && sec <= 60)) return Number.NaN;
  us += hh * 3_600_000_000 + mi * 60_000_000 + sec * 1_000_000;
  if (i < n && s.charCodeAt(i) === 46) {
    i++;
    let scale = 100_000;
    let frac = 0;
    const start = i;
    for (; i < n; i++) {
      const c = s.charCodeAt(i) - 48;
      if (c < 0 || c > 9) break;
      frac += c * scale;
      scale = Math.floor(scale / 10);
    }
    if (i === start) return Number.NaN;
    us += frac;
  }
  if (i === n) return us;
  const tail = s.slice(i);
  return tail === 'Z' || tail === '+00:00' || tail === '+0000' ? us : Number.NaN;
}

// ------------------------------------------------------------------------------------------ intervals

const UNIT_MICROS: Readonly<Record<string, number>> = {
  s: 1_000_000,
  m: 60_000_000,
  min: 60_000_000,
  h: 3_600_000_000,
  hour: 3_600_000_000,
  d: 86_400_000_000,
  day: 86_400_000_000,
  w: 604_800_000_000,
};

/**
 * Bar length from a file name token such as "5m", "1h", "8h", "d", "day", "min" ("ADABTC-1m-2021-11-27.csv",
 * "Coinbase_BTCUSD_d.csv", "binance_btcusdt_day_2020.csv"); undefined when no token says. Months ("1M") are
 * not bars of fixed length and are not recognised.
 */
export function intervalFromName(file: string): number | undefined {
  const stem = basename(file).replace(/\.(json|csv|feather|parquet|gz|txt)/gi, '');
  for (const tok of stem.split(/[-_.]/)) {
    const m = /^(\d*)(s|m|min|h|hour|d|day|w)$/.exec(tok);
    if (m === null) continue;
    const unit = UNIT_MICROS[m[2]!]!;
    const k = m[1] === '' ? 1 : Number(m[1]);
    if (k > 0) return k * unit;
  }
  return undefined;
}

/** Median of the positive gaps between consecutive times (robust to a few missing bars); NaN with < 2 times. */
export function medianGap(times: ArrayLike<number>): number {
  const gaps: number[] = [];
  for (let i = 1; i < times.length; i++) {
    const g = Math.abs(times[i]! - times[i - 1]!);
    if (g > 0) gaps.push(g);
  }
  if (gaps.length === 0) return Number.NaN;
  gaps.sort((a, b) => a - b);
  return gaps[gaps.length >> 1]!;
}

/**
 * The bar interval: the option, else the file name, else the median gap. When the name and the data disagree
 * the name wins (gaps make the median larger, never smaller) and the report gets a note.
 */
export function resolveInterval(
  file: string,
  options: BarLoadOptions,
  times: ArrayLike<number>,
  report: ValidationReport,
): number {
  if (options.intervalMicros !== undefined) return options.intervalMicros;
  const named = intervalFromName(file);
  const med = medianGap(times);
  if (named !== undefined) {
    if (!Number.isNaN(med) && med !== named) {
      addNote(report, `interval ${named} us from the file name; the median gap between bars is ${med} us`);
    }
    return named;
  }
  if (!Number.isNaN(med)) return med;
  throw new Bot4Error(
    ErrorCode.DATA_MALFORMED,
    `${file}: cannot tell the bar interval (no token like "1m" in the name and fewer than 2 bars); pass intervalMicros`,
    { file },
  );
}

// ------------------------------------------------------------------------------------------ BarWriter

/**
 * Converts and validates one file's rows into EventBatch rows. Conversions record the first failure of the
 * current row (`err`), so a row is reported once with the field that broke it. Checks per bar: strictly
 * increasing open time (a repeat is reported as a duplicate), prices > 0, volume >= 0, and
 * low <= min(open, close) <= max(open, close) <= high. Invalid bars are reported as malformed_row; negative
 * volume as non_positive. For bars, "repair" of out_of_order means sorting, which only loaders that hold the
 * whole file can do (they sort before writing); here it drops the row like skip. The report's time range is
 * the span covered: the first bar's open to the last bar's close (event times for marks, funding, trades).
 */
export class BarWriter {
  readonly batch: EventBatch;
  readonly inst: Instrument;
  readonly report: ValidationReport;
  readonly validator: Validator;
  readonly interval: number;
  readonly file: string;
  /**
   * First conversion problem of the current row, '' when none. Conversions accept a sign so that a negative
   * price or size is reported as non_positive by the row check, not as an unreadable number.
   */
  err = '';
  /** The current row's volume rounding, '' when exact: reported as inexact_volume once the row is valid. */
  rounded = '';
  private lastOpen = Number.NEGATIVE_INFINITY;
  private lastLine = 0;
  private kindTotals = new Float64Array(8);

  constructor(
    file: string,
    inst: Instrument,
    report: ValidationReport,
    options: BarLoadOptions,
    interval: number,
    validator?: Validator,
  ) {
    this.file = file;
    this.inst = inst;
    this.report = report;
    this.interval = interval;
    this.validator = validator ?? candleValidator(report, options);
    this.batch = new EventBatch(options.batchSize ?? DEFAULT_BATCH);
    addInstrument(report, inst.key);
  }

  get full(): boolean {
    return this.batch.length >= this.batch.capacity;
  }

  /** Starts a row: clears the conversion error and counts the row as read. */
  row(): void {
    this.err = '';
    this.rounded = '';
    this.report.rows++;
  }

  px(text: string, field: string): number {
    const v = decimalToSteps(text, this.inst.tickSize, true);
    if (Number.isNaN(v) && this.err === '')
      this.fail(lastDecimalStatus(), text, this.inst.tickSize, field, 'tick size');
    return v;
  }

  pxFloat(x: number, field: string): number {
    const v = floatToSteps(x, this.inst.tickSize, true);
    if (Number.isNaN(v) && this.err === '')
      this.fail(lastDecimalStatus(), x, this.inst.tickSize, field, 'tick size');
    return v;
  }

  qty(text: string, field: string): number {
    const v = decimalToSteps(text, this.inst.lotSize, true);
    if (Number.isNaN(v) && this.err === '')
      this.fail(lastDecimalStatus(), text, this.inst.lotSize, field, 'lot size');
    return v;
  }

  qtyFloat(x: number, field: string): number {
    const v = floatToSteps(x, this.inst.lotSize, true);
    if (Number.isNaN(v) && this.err === '')
      this.fail(lastDecimalStatus(), x, this.inst.lotSize, field, 'lot size');
    return v;
  }

  /**
   * A bar's volume in lots. Volume is a measurement, not an order size: a value finer than the lot (float noise
   * such as 218102.59507500002, or more decimals than the lot inference could keep) is rounded to the nearest
   * lot (half even) and the row reported as inexact_volume, never dropped for it (unless that policy says so).
   */
  volume(text: string): number {
    const v = decimalToSteps(text, this.inst.lotSize, true);
    if (!Number.isNaN(v) || lastDecimalStatus() !== DecimalStatus.NOT_MULTIPLE) {
      if (Number.isNaN(v) && this.err === '')
        this.fail(lastDecimalStatus(), text, this.inst.lotSize, 'volume', 'lot size');
      return v;
    }
    const r = decimalToStepsRounded(text, this.inst.lotSize, Rounding.HALF_EVEN, true);
    if (!Number.isNaN(r)) this.roundedTo(text, r);
    return r;
  }

  volumeFloat(x: number): number {
    const v = floatToSteps(x, this.inst.lotSize, true);
    if (!Number.isNaN(v) || lastDecimalStatus() !== DecimalStatus.OFF_GRID) {
      if (Number.isNaN(v) && this.err === '')
        this.fail(lastDecimalStatus(), x, this.inst.lotSize, 'volume', 'lot size');
      return v;
    }
    // Within half a lot by construction: Math.round of the scaled value (ties away from zero; doubles rarely tie).
    const r = floatToSteps(x, this.inst.lotSize, true, 0.5);
    if (!Number.isNaN(r)) this.roundedTo(x, r);
    return r;
  }

  private roundedTo(value: string | number, lots: number): void {
    this.rounded = `volume ${value} is finer than the lot ${this.inst.lotSize.text}: rounded to ${this.inst.lotsToQty(lots)}`;
  }

  /** A rate (funding) as an integer of 1e-8 (RATE_SCALE); signed. */
  rateFloat(x: number, field: string): number {
    const v = floatToSteps(x, RATE_STEP, true);
    if (Number.isNaN(v) && this.err === '') this.fail(lastDecimalStatus(), x, RATE_STEP, field, 'rate unit');
    return v;
  }

  /** A time that failed to parse (NaN) or any other row-level defect. */
  bad(message: string): void {
    if (this.err === '') this.err = message;
  }

  private fail(st: number, value: string | number, step: Step, field: string, stepName: string): void {
    this.err = decimalErrorMessage(st as Parameters<typeof decimalErrorMessage>[0], value, step, {
      what: field,
      stepName,
      context: this.inst.key,
    });
  }

  /** True when the row had a conversion error (now reported as malformed). */
  private rejectMalformed(line: number): boolean {
    if (this.err === '') return false;
    this.validator.problem(Problem.MALFORMED_ROW, line, this.err);
    return true;
  }

  private ordered(ts: number, line: number, what: string): boolean {
    if (ts > this.lastOpen) {
      this.lastOpen = ts;
      this.lastLine = line;
      return true;
    }
    const dup = ts === this.lastOpen;
    // Dropped whatever the policy: this writer streams, so a row out of order cannot be put back in place here.
    this.validator.problem(
      Problem.OUT_OF_ORDER,
      line,
      `${what} time ${isoMicros(ts)} ${dup ? 'repeats' : 'is before'} the previous row's ${isoMicros(this.lastOpen)} (line ${this.lastLine})${dup ? ': duplicate row' : ''}`,
      false,
    );
    return false;
  }

  /** Validates and appends a bar opening at `tsOpen`; tsEvent = tsInit = tsOpen + interval. */
  bar(line: number, tsOpen: number, o: number, h: number, l: number, c: number, v: number): void {
    if (Number.isNaN(tsOpen) && this.err === '') this.err = 'bar time is missing or not a valid date';
    if (this.rejectMalformed(line)) return;
    if (!(o > 0 && h > 0 && l > 0 && c > 0)) {
      this.validator.problem(
        Problem.NON_POSITIVE,
        line,
        `bar prices must be > 0: open ${o} high ${h} low ${l} close ${c} (ticks of ${this.inst.tickSize.text})`,
      );
      return;
    }
    if (v < 0) {
      this.validator.problem(Problem.NON_POSITIVE, line, `bar volume ${this.inst.lotsToQty(v)} is negative`);
      return;
    }
    if (h < Math.max(o, c) || l > Math.min(o, c) || l > h) {
      const t = this.inst;
      this.validator.problem(
        Problem.MALFORMED_ROW,
        line,
        `invalid bar: need low <= min(open, close) and high >= max(open, close); got open ${t.ticksToPrice(o)} high ` +
          `${t.ticksToPrice(h)} low ${t.ticksToPrice(l)} close ${t.ticksToPrice(c)}`,
      );
      return;
    }
    if (!this.ordered(tsOpen, line, 'bar')) return;
    if (this.rounded !== '' && !this.validator.problem(Problem.INEXACT_VOLUME, line, this.rounded)) return;
    const close = tsOpen + this.interval;
    this.batch.push(RecordKind.BAR, this.inst.id, close, close, o, h, l, c, v, this.interval, tsOpen);
    this.count(RecordKind.BAR, tsOpen, close);
  }

  /** A mark-price candle as one MARK_PRICE record at its close (the last mark of the interval). */
  mark(line: number, tsOpen: number, close: number): void {
    if (Number.isNaN(tsOpen) && this.err === '') this.err = 'time is missing or not a valid date';
    if (this.rejectMalformed(line)) return;
    if (!(close > 0)) {
      this.validator.problem(Problem.NON_POSITIVE, line, `mark price ${close} ticks must be > 0`);
      return;
    }
    if (!this.ordered(tsOpen, line, 'mark candle')) return;
    const ts = tsOpen + this.interval;
    this.batch.push(RecordKind.MARK_PRICE, this.inst.id, ts, ts, close, 0);
    this.count(RecordKind.MARK_PRICE, ts, ts);
  }

  /** A funding rate published at `ts` (1e-8 units); the next one is due one interval later. */
  funding(line: number, ts: number, rate: number): void {
    if (Number.isNaN(ts) && this.err === '') this.err = 'funding time is missing or not a valid date';
    if (this.rejectMalformed(line)) return;
    if (!this.ordered(ts, line, 'funding')) return;
    this.batch.push(RecordKind.FUNDING_RATE, this.inst.id, ts, ts, rate, ts + this.interval);
    this.count(RecordKind.FUNDING_RATE, ts, ts);
  }

  private count(kind: RecordKind, first: number, last: number): void {
    this.kindTotals[kind]!++;
    const r = this.report;
    if (first < r.firstTs) r.firstTs = first;
    if (last > r.lastTs) r.lastTs = last;
  }

  /**
   * Validates and appends a trade (tsEvent = tsInit = ts). Times must not go backwards per instrument (repair
   * clamps, as for every tick loader); numeric ids must increase (a repeat is a duplicate); price and size > 0.
   */
  trade(line: number, ts: number, px: number, qty: number, aggressor: number, id: number): void {
    if (Number.isNaN(ts) && this.err === '') this.err = 'trade time is missing or not a valid time';
    if (this.rejectMalformed(line)) return;
    const v = this.validator;
    if (!v.positiveTrade(px, qty, line)) return;
    const t = v.orderedTs(this.inst.id, RecordKind.TRADE, ts, line);
    if (Number.isNaN(t)) return;
    if (!v.tradeId(this.inst.id, id, line)) return;
    this.batch.push(RecordKind.TRADE, this.inst.id, t, t, px, qty, aggressor, 0, 0, 0, id);
    this.count(RecordKind.TRADE, t, t);
  }

  /** Moves the per-kind counts into the report; call once when the load ends. */
  finish(): void {
    for (let k = 1; k < this.kindTotals.length; k++) {
      const n = this.kindTotals[k]!;
      if (n > 0) countRecords(this.report, RECORD_KIND_NAMES[k as RecordKind], n);
      this.kindTotals[k] = 0;
    }
  }
}

const RATE_STEP = stepOfScale(Math.round(Math.log10(RATE_SCALE)));

/** Micros as ISO-8601 text, for messages only. */
export function isoMicros(us: number): string {
  if (!Number.isFinite(us)) return String(us);
  const ms = Math.floor(us / MS);
  // Beyond Date's range (+-8.64e15 ms) toISOString throws; a message about such a time shows the number (fuzz).
  if (Math.abs(ms) > 8.64e15) return `${us} us`;
  const iso = new Date(ms).toISOString();
  const sub = us - ms * MS;
  return sub === 0 ? iso : `${iso.slice(0, -1)}${String(sub).padStart(3, '0')}Z`;
}

/** Throws a DATA_MALFORMED error about the whole document (not one row): wrong top-level shape. */
export function shapeError(file: string, expected: string, got: unknown): Bot4Error {
  const shown = Array.isArray(got) ? `an array of ${got.length}` : got === null ? 'null' : typeof got;
  return new Bot4Error(ErrorCode.DATA_MALFORMED, `${file}: expected ${expected}, got ${shown}`, { file });
}

/**
 * For loaders that hold the whole file: with the out_of_order policy 'repair', rows out of time order are
 * reported (counted, with examples) and then sorted into place (stable, so equal times keep file order).
 * Other policies leave the order alone and BarWriter reports (skip) or throws (fail) row by row.
 */
export function repairOrder<T>(
  rows: T[],
  time: (r: T) => number,
  line: (r: T) => number,
  validator: Validator,
): number {
  if (validator.policy(Problem.OUT_OF_ORDER) !== 'repair') return 0;
  let moved = 0;
  let max = Number.NEGATIVE_INFINITY;
  for (const r of rows) {
    const t = time(r);
    if (t < max) {
      moved++;
      validator.problem(
        Problem.OUT_OF_ORDER,
        line(r),
        `row time ${isoMicros(t)} is before an earlier row's ${isoMicros(max)}; sorted into place (repair)`,
      );
    } else {
      max = t;
    }
  }
  if (moved > 0) rows.sort((a, b) => time(a) - time(b));
  return moved;
}
