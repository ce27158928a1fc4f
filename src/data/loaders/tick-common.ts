// Shared parts of the tick-data loaders: batch bookkeeping (record counts and time range into the report),
// throttled progress, timestamp text -> micros without floats, tick/lot inference from decimals, and
// instrument registration that records where each instrument's steps came from. Units: micros, ticks, lots.

import { monoNanos } from '../../core/clock.ts';
import { Bot4Error, ErrorCode } from '../../core/errors.ts';
import { floatToSteps, type Step } from '../../model/decimal.ts';
import {
  type Instrument,
  InstrumentKind,
  type InstrumentRegistry,
  type InstrumentSpec,
} from '../../model/instrument.ts';
import { DeltaFlag, EventBatch, RECORD_KIND_NAMES, type RecordKind } from '../../model/market-data.ts';
import type { LoadOptions, ValidationReport } from '../loader.ts';
import { addInstrument, addNote, countRecords, widenRange } from '../validate.ts';

export const DEFAULT_BATCH_SIZE = 65_536;
/** Deepest decimal place inferred from data; finer values fail conversion and are reported per row. */
export const MAX_INFERRED_SCALE = 12;

export function newBatch(options: LoadOptions): EventBatch {
  const n = options.batchSize ?? DEFAULT_BATCH_SIZE;
  if (!Number.isInteger(n) || n < 1) {
    throw new Bot4Error(ErrorCode.INVALID_ARGUMENT, `batchSize ${n} must be a positive integer`, {
      batchSize: n,
    });
  }
  return new EventBatch(n);
}

const kindCounts = new Float64Array(8);

/** Adds a finished batch's rows to the report: counts per record kind and the event-time range. */
export function tally(batch: EventBatch, report: ValidationReport): void {
  const n = batch.length;
  if (n === 0) return;
  kindCounts.fill(0);
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  const kind = batch.kind;
  const ts = batch.tsEvent;
  for (let i = 0; i < n; i++) {
    kindCounts[kind[i]!]!++;
    const t = ts[i]!;
    if (t < lo) lo = t;
    if (t > hi) hi = t;
  }
  for (let k = 1; k < 8; k++) {
    const c = kindCounts[k]!;
    if (c > 0) countRecords(report, RECORD_KIND_NAMES[k as RecordKind] ?? `kind${k}`, c);
  }
  widenRange(report, lo, hi);
}

/** Calls onProgress at most every 250 ms (one clock read per call, made once per chunk of lines). */
export class ProgressTicker {
  private last = 0;
  private readonly file: string;
  private readonly cb: LoadOptions['onProgress'];

  constructor(file: string, options: LoadOptions) {
    this.file = file;
    this.cb = options.onProgress;
  }

  tick(bytesRead: number, bytesTotal: number, rows: number, force = false): void {
    const cb = this.cb;
    if (cb === undefined) return;
    const now = monoNanos();
    if (!force && now - this.last < 250e6) return;
    this.last = now;
    cb({ file: this.file, bytesRead, bytesTotal, rows });
  }
}

/**
 * Nanoseconds since the epoch as decimal digits text[from, to) -> micros, truncated (the last three digits
 * dropped without a float: 19-digit ns values are beyond 2^53). NaN when not all digits or too short.
 */
export function nsTextToMicros(text: string, from: number, to: number): number {
  const end = to - 3;
  if (end <= from || end - from > 16) return Number.NaN;
  let v = 0;
  for (let i = from; i < to; i++) {
    const d = text.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return Number.NaN;
    if (i < end) v = v * 10 + d;
  }
  return v;
}

/** nsTextToMicros on bytes (a capture line read in place). */
export function nsBytesToMicros(buf: Uint8Array, from: number, to: number): number {
  const end = to - 3;
  if (end <= from || end - from > 16) return Number.NaN;
  let v = 0;
  for (let i = from; i < to; i++) {
    const d = buf[i]! - 48;
    if (!(d >= 0 && d <= 9)) return Number.NaN;
    if (i < end) v = v * 10 + d;
  }
  return v;
}

/** secondsTextToMicros on bytes (a capture line read in place). */
export function secondsBytesToMicros(buf: Uint8Array, from: number, to: number): number {
  let v = 0;
  let i = from;
  let digits = 0;
  for (; i < to; i++) {
    const d = buf[i]! - 48;
    if (!(d >= 0 && d <= 9)) break;
    v = v * 10 + d;
    digits++;
  }
  if (digits === 0 || digits > 10) return Number.NaN;
  v *= 1_000_000;
  if (i < to) {
    if (buf[i] !== 46) return Number.NaN;
    i++;
    let scale = 100_000;
    for (; i < to; i++) {
      const d = buf[i]! - 48;
      if (!(d >= 0 && d <= 9)) return Number.NaN;
      v += d * scale;
      scale /= 10;
      if (scale < 1) scale = 0;
    }
  }
  return v;
}

/** Digits text[from, to) -> integer up to 2^53 - 1; NaN otherwise. */
export function intText(text: string, from: number, to: number): number {
  if (to <= from || to - from > 16) return Number.NaN;
  let v = 0;
  for (let i = from; i < to; i++) {
    const d = text.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return Number.NaN;
    v = v * 10 + d;
  }
  return v <= Number.MAX_SAFE_INTEGER ? v : Number.NaN;
}

/** Seconds with an optional fraction ("1626992741.06217") -> micros, exactly (digits past 1e-6 truncated). */
export function secondsTextToMicros(text: string, from: number, to: number): number {
  let v = 0;
  let i = from;
  let digits = 0;
  for (; i < to; i++) {
    const d = text.charCodeAt(i) - 48;
    if (d < 0 || d > 9) break;
    v = v * 10 + d;
    digits++;
  }
  if (digits === 0 || digits > 10) return Number.NaN;
  v *= 1_000_000;
  if (i < to) {
    if (text.charCodeAt(i) !== 46) return Number.NaN;
    i++;
    let scale = 100_000;
    for (; i < to; i++) {
      const d = text.charCodeAt(i) - 48;
      if (d < 0 || d > 9) return Number.NaN;
      v += d * scale;
      scale /= 10;
      if (scale < 1) scale = 0;
    }
  }
  return v;
}

/** ISO-8601 UTC text "2021-04-17T16:43:37.075687Z" -> micros, without Date (exact to the microsecond). */
export function isoTextToMicros(text: string): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?Z?$/.exec(text);
  if (m === null) return Number.NaN;
  const y = Number(m[1]);
  const mo = Number(m[2]);
  const d = Number(m[3]);
  const days = daysFromCivil(y, mo, d);
  const secs = days * 86_400 + Number(m[4]) * 3600 + Number(m[5]) * 60 + Number(m[6]);
  const frac = (m[7] ?? '').padEnd(6, '0').slice(0, 6);
  return secs * 1_000_000 + Number(frac);
}

/** Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm). */
function daysFromCivil(y: number, m: number, d: number): number {
  const yy = m <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146_097 + doe - 719_468;
}

/** Decimal places of decimal text without trailing zeros ("61800.20" -> 1); exponent forms -> the float rule. */
export function textDecimals(s: string): number {
  if (s.indexOf('e') >= 0 || s.indexOf('E') >= 0) return floatDecimals(Number(s));
  const dot = s.indexOf('.');
  if (dot < 0) return 0;
  let end = s.length;
  while (end > dot + 1 && s.charCodeAt(end - 1) === 48) end--;
  return Math.min(end - dot - 1, MAX_INFERRED_SCALE + 1);
}

/** Fewest decimals k such that the float is a multiple of 10^-k up to its representation error. */
export function floatDecimals(x: number): number {
  if (!Number.isFinite(x)) return 0;
  const a = Math.abs(x);
  let p = 1;
  for (let k = 0; k <= MAX_INFERRED_SCALE; k++) {
    const q = a * p;
    if (Math.abs(q - Math.round(q)) <= 1e-9 + q * 8.881784197001252e-16) return k;
    p *= 10;
  }
  return MAX_INFERRED_SCALE + 1;
}

export function stepText(decimals: number): string {
  const d = Math.min(decimals, MAX_INFERRED_SCALE);
  return d <= 0 ? '1' : `0.${'0'.repeat(d - 1)}1`;
}

/** Most decimals seen per symbol for prices and for sizes. */
export class StepInference {
  private readonly px = new Map<string, number>();
  private readonly qty = new Map<string, number>();

  price(symbol: string, d: number): void {
    if (d > (this.px.get(symbol) ?? -1)) this.px.set(symbol, d);
  }

  size(symbol: string, d: number): void {
    if (d > (this.qty.get(symbol) ?? -1)) this.qty.set(symbol, d);
  }

  priceText(symbol: string, s: string): void {
    this.price(symbol, textDecimals(s));
  }

  sizeText(symbol: string, s: string): void {
    this.size(symbol, textDecimals(s));
  }

  has(symbol: string): boolean {
    return this.px.has(symbol);
  }

  /** Tick and lot as decimal text for `symbol`, or undefined when it was never seen. */
  steps(symbol: string): { tickSize: string; lotSize: string } | undefined {
    const p = this.px.get(symbol);
    if (p === undefined) return undefined;
    return { tickSize: stepText(p), lotSize: stepText(this.qty.get(symbol) ?? 0) };
  }
}

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
];

/**
 * Base and quote of a symbol: "BTC-USD", "BTC/USDT" split at the separator; "BTCUSDT" by known quote suffixes;
 * "BTCUSD_PERP" drops the contract suffix. Unsplittable symbols get quote 'USD' only when `fallbackQuote` says.
 */
export function splitSymbol(symbol: string, fallbackQuote = 'USD'): { base: string; quote: string } {
  const s = symbol.toUpperCase();
  const sep = /[-/]/.exec(s);
  if (sep !== null) {
    const parts = s.split(/[-/]/);
    return { base: parts[0] || s, quote: parts[1] || fallbackQuote };
  }
  const core = s.includes('_') ? s.slice(0, s.indexOf('_')) : s;
  for (const q of QUOTES) {
    if (core.length > q.length && core.endsWith(q))
      return { base: core.slice(0, core.length - q.length), quote: q };
  }
  return { base: core, quote: fallbackQuote };
}

/** Currency codes must match the registry's pattern; venue symbols like "1000SHIB" do. */
function code(c: string): string {
  return c.replace(/[^A-Za-z0-9._-]/g, '') || 'UNKNOWN';
}

export interface TickSpecInput {
  symbol: string;
  venue: string;
  kind?: InstrumentKind;
  base: string;
  quote: string;
  tickSize: string;
  lotSize: string;
  /** Inverse contracts settle in base and need a multiplier (contract size in quote). */
  isInverse?: boolean;
  multiplier?: string;
}

export function tickSpec(x: TickSpecInput): InstrumentSpec {
  const base = code(x.base);
  const quote = code(x.quote);
  const spec: Record<string, unknown> = {
    symbol: x.symbol,
    venue: x.venue,
    kind: x.kind ?? InstrumentKind.SPOT,
    base,
    quote,
    settlement: x.isInverse === true ? base : quote,
    tickSize: x.tickSize,
    lotSize: x.lotSize,
  };
  if (x.isInverse === true) spec['isInverse'] = true;
  if (x.multiplier !== undefined) spec['multiplier'] = x.multiplier;
  return spec as unknown as InstrumentSpec;
}

/**
 * The registered instrument for the spec's key, else the spec added. An instrument already in the registry
 * wins (the caller knows its steps better than a file does). Notes where the steps came from.
 */
export function ensureInstrument(
  registry: InstrumentRegistry,
  spec: InstrumentSpec,
  report: ValidationReport,
  source: string,
): Instrument {
  const existing = registry.find(spec.symbol, spec.venue);
  if (existing !== undefined) {
    addInstrument(report, existing.key);
    addNote(
      report,
      `${existing.key}: tick ${existing.tickSize.text}, lot ${existing.lotSize.text} (already registered)`,
    );
    return existing;
  }
  const inst = registry.add(spec);
  addInstrument(report, inst.key);
  addNote(report, `${inst.key}: tick ${inst.tickSize.text}, lot ${inst.lotSize.text} (${source})`);
  return inst;
}

/** A float (Parquet, JSON number) to steps with a tolerance; NaN when off the grid (see floatToSteps). */
export function floatSteps(x: number, step: Step): number {
  return floatToSteps(x, step, false, 1e-6);
}

/** Counts of messages a loader read but does not turn into records, by type, for the report's notes. */
export class Ignored {
  private readonly counts = new Map<string, number>();

  add(type: string): void {
    this.counts.set(type, (this.counts.get(type) ?? 0) + 1);
  }

  note(report: ValidationReport, what = 'messages not converted (not market-data records)'): void {
    if (this.counts.size === 0) return;
    const parts = [...this.counts.entries()].map(([k, v]) => `${k || '(no type)'} ${v}`);
    addNote(report, `${what}: ${parts.join(', ')}`);
  }
}

/** Copies row `from` of a batch over row `to` (compaction after dropping a row). */
export function moveRow(b: EventBatch, from: number, to: number): void {
  b.kind[to] = b.kind[from]!;
  b.instrument[to] = b.instrument[from]!;
  b.tsEvent[to] = b.tsEvent[from]!;
  b.tsInit[to] = b.tsInit[from]!;
  b.a[to] = b.a[from]!;
  b.b[to] = b.b[from]!;
  b.c[to] = b.c[from]!;
  b.d[to] = b.d[from]!;
  b.e[to] = b.e[from]!;
  b.f[to] = b.f[from]!;
  b.seq[to] = b.seq[from]!;
}

/**
 * Message boundaries for deltas read row by row (CSV): the open group's rows sit at the end of the batch;
 * begin() closes the previous group (LAST on its final row). When the batch fills, carryOut() moves the open
 * group to a scratch batch so the yielded batch ends on a boundary, and carryIn() puts it back after clear().
 */
export class DeltaGroups {
  private groupStart = -1;
  private readonly scratch: EventBatch;
  private carried = 0;
  batch: EventBatch;

  constructor(batch: EventBatch) {
    this.batch = batch;
    this.scratch = new EventBatch(batch.capacity);
  }

  /** Starts a new group (closing the open one); returns the flags the first row should carry (0). */
  begin(): void {
    this.close();
    this.groupStart = this.batch.length;
  }

  /** Ends the open group: LAST on its final row (if the group has rows in this batch). */
  close(): void {
    const b = this.batch;
    if (this.groupStart >= 0 && b.length > this.groupStart)
      b.d[b.length - 1] = b.d[b.length - 1]! | DeltaFlag.LAST;
    this.groupStart = -1;
  }

  /** Rows of the open group in the batch (0 when none is open). */
  get openRows(): number {
    return this.groupStart < 0 ? 0 : this.batch.length - this.groupStart;
  }

  /**
   * Before yielding a full batch: moves the open group's rows out unless the group fills the whole batch
   * (then it is yielded as is and continues in the next batch). Returns the rows left to yield.
   */
  carryOut(): number {
    const b = this.batch;
    const gs = this.groupStart;
    this.carried = 0;
    if (gs > 0) {
      const s = this.scratch;
      s.clear();
      for (let i = gs; i < b.length; i++) s.copyRow(b, i);
      this.carried = s.length;
      b.length = gs;
    }
    return b.length;
  }

  /** After the yielded batch was cleared: restores the carried rows; the open group restarts at 0. */
  carryIn(): void {
    const b = this.batch;
    if (this.groupStart >= 0) this.groupStart = 0;
    if (this.carried > 0) {
      const s = this.scratch;
      for (let i = 0; i < s.length; i++) b.copyRow(s, i);
      this.carried = 0;
    }
  }
}
