// One parser for Binance websocket market-data messages (spot, USD-M, COIN-M; bare or in the combined-stream
// wrapper {"stream":..,"data":{..}}): bookTicker, trade, aggTrade, depthUpdate, markPriceUpdate, and the REST
// depth snapshot ({"lastUpdateId":..,"bids":..,"asks":..}) that collectors interleave with the stream.
// A hand-written scanner walks the message's UTF-8 bytes once (parseBytes: a line of a capture in place;
// parse: a string, encoded into a reused buffer first), reads only the keys it needs and turns decimal strings
// straight into integer ticks/lots (no float, no substring) written into an EventBatch. Times: ms -> micros.
//
// Per message: result code (ParseResult), never a throw. Depth messages write one DELTA row per level (bids
// then asks, in message order) with DeltaFlag.LAST on the final row. Field choices:
//   tsEvent  trade/aggTrade T (trade time); depthUpdate and futures bookTicker T when present, else E;
//            markPriceUpdate E; spot bookTicker carries no venue time, so tsEvent = tsInit (receive time).
//   seq      bookTicker/depth `u`; trade `t`, aggTrade `a` (the aggregate id); REST snapshot lastUpdateId.
//   trade    aggressor = SELL when `m` (buyer is maker), BUY otherwise.
//   mark     MARK row (px, index px: venue figures carry more decimals than the tick, so rounded HALF_EVEN to
//            the tick) and FUNDING row (rate in 1e-8 units, rounded HALF_EVEN; next funding time).
// Messages the scanner cannot read (escapes in needed fields, unexpected shapes) fall back to JSON.parse:
// the object is re-serialised (escape-free, no whitespace) and scanned once more; `fallbacks` counts them.

import { MICROS_PER_MS } from '../../core/units.ts';
import {
  DecimalStatus,
  decimalErrorMessage,
  decimalToSteps,
  decimalToStepsRounded,
  lastDecimalStatus,
  Rounding,
  type Step,
  stepOfScale,
} from '../../model/decimal.ts';
import type { Instrument } from '../../model/instrument.ts';
import { DeltaFlag, type EventBatch, NO_SIDE, RecordKind, Side } from '../../model/market-data.ts';

export const ParseResult = {
  QUOTE: 1,
  TRADE: 2,
  DEPTH: 3,
  MARK: 4,
  /** A REST depth snapshot: DELTA rows flagged SNAPSHOT (CLEAR on the first, LAST on the final). */
  SNAPSHOT: 5,
  /** Valid JSON that is not an event this parser emits (kline, 24hrTicker, subscription replies...). */
  UNKNOWN: 10,
  /** A required field is missing, or a price/size is not on the instrument's grid. See describeError(). */
  BAD_VALUE: 11,
  /** Not JSON at all (JSON.parse fails too). */
  MALFORMED: 12,
  /** The batch cannot take the message's rows: nothing was written; flush the batch and parse again. */
  NO_ROOM: 13,
  /** The resolver has no instrument for the message's symbol. */
  NO_INSTRUMENT: 14,
} as const;
export type ParseResult = (typeof ParseResult)[keyof typeof ParseResult];

/** Event types, as read from "e" (or inferred from the shape for spot bookTicker and REST snapshots). */
export const BinanceEvent = {
  NONE: 0,
  BOOK_TICKER: 1,
  TRADE: 2,
  AGG_TRADE: 3,
  DEPTH: 4,
  MARK_PRICE: 5,
  SNAPSHOT: 6,
  OTHER: 7,
} as const;
export type BinanceEvent = (typeof BinanceEvent)[keyof typeof BinanceEvent];

/** Maps a symbol as written in messages ("BTCUSDT") to its instrument; undefined when unknown. */
export type SymbolResolver = (symbol: string) => Instrument | undefined;

const RATE_STEP = stepOfScale(8);

// Key codes of the fields the parser reads.
const K_OTHER = 0;
const K_e = 1;
const K_E = 2;
const K_T = 3;
const K_s = 4;
const K_U = 5;
const K_u = 6;
const K_pu = 7;
const K_b = 8;
const K_B = 9;
const K_a = 10;
const K_A = 11;
const K_p = 12;
const K_q = 13;
const K_t = 14;
const K_m = 15;
const K_i = 16;
const K_r = 17;
const K_DATA = 18;
const K_LAST_UPDATE_ID = 19;
const K_BIDS = 20;
const K_ASKS = 21;

// Internal scan outcomes (negative: abandon the fast path).
const SCAN_OK = 0;
const SCAN_SYNTAX = -1;
const SCAN_ESCAPE = -2;
const SCAN_NO_ROOM = -3;
const SCAN_BAD = -4;
const SCAN_NO_INSTRUMENT = -5;

/** Which field failed, for describeError(). */
const WHAT = [
  '',
  'bid price',
  'bid size',
  'ask price',
  'ask size',
  'price',
  'size',
  'mark price',
  'index price',
  'funding rate',
];
const W_BID_PX = 1;
const W_BID_QTY = 2;
const W_ASK_PX = 3;
const W_ASK_QTY = 4;
const W_PX = 5;
const W_QTY = 6;
const W_MARK = 7;
const W_INDEX = 8;
const W_RATE = 9;

// Decimal conversion of text[from, to) to steps, with the same results as decimalToSteps (decimal.ts): digits
// are accumulated as an integer, digits finer than the step's scale must be zero, and exponents or counts past
// 2^53 take decimalToSteps' exact path on a slice. NaN on failure with the reason in `decStatus`.
const POW10 = [1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16];
let decStatus: number = DecimalStatus.OK;

function stepsIn(text: Buffer, from: number, to: number, step: Step): number {
  if (from >= to) {
    decStatus = DecimalStatus.EMPTY;
    return Number.NaN;
  }
  const scale = step.scale;
  let i = from;
  let neg = false;
  if (text[i] === 45) {
    neg = true;
    i++;
  }
  // Integer digits, then up to `scale` kept fraction digits, then the finer ones (which must be zeros): one
  // tight loop each; anything but digits and one '.' (exponents, signs, spaces) takes the exact slow path.
  let m = 0;
  const intStart = i;
  for (; i < to; i++) {
    const d = text[i]! - 48;
    if (d < 0 || d > 9) break;
    m = m * 10 + d;
  }
  let digits = i - intStart;
  let frac = 0;
  let excess = false;
  if (i < to) {
    if (text[i] !== 46) return slowSteps(text, from, to, step);
    i++;
    const fracStart = i;
    const keep = to - i < scale ? to : i + scale;
    for (; i < keep; i++) {
      const d = text[i]! - 48;
      if (d < 0 || d > 9) return slowSteps(text, from, to, step);
      m = m * 10 + d;
    }
    frac = i - fracStart;
    for (; i < to; i++) {
      const c = text[i]!;
      if (c !== 48) {
        if (c > 48 && c <= 57) excess = true;
        else return slowSteps(text, from, to, step);
      }
    }
    digits += to - fracStart;
  }
  if (digits === 0) {
    decStatus = DecimalStatus.SYNTAX;
    return Number.NaN;
  }
  if (neg && (m !== 0 || excess)) {
    decStatus = DecimalStatus.NEGATIVE;
    return Number.NaN;
  }
  if (excess) {
    decStatus = DecimalStatus.NOT_MULTIPLE;
    return Number.NaN;
  }
  if (m > 9007199254740991 || scale - frac > 16) return slowSteps(text, from, to, step);
  if (frac < scale) {
    m *= POW10[scale - frac]!;
    if (m > 9007199254740991) return slowSteps(text, from, to, step);
  }
  const u = step.units;
  if (u !== 1) {
    if (m % u !== 0) {
      decStatus = DecimalStatus.NOT_MULTIPLE;
      return Number.NaN;
    }
    m /= u;
  }
  decStatus = DecimalStatus.OK;
  return m;
}

function slowSteps(text: Buffer, from: number, to: number, step: Step): number {
  const v = decimalToSteps(text.toString('utf8', from, to), step);
  decStatus = !Number.isNaN(v) ? DecimalStatus.OK : lastDecimalStatus();
  return v;
}

function roundedIn(text: Buffer, from: number, to: number, step: Step, signed: boolean): number {
  const v = decimalToStepsRounded(text.toString('utf8', from, to), step, Rounding.HALF_EVEN, signed);
  decStatus = !Number.isNaN(v) ? DecimalStatus.OK : lastDecimalStatus();
  return v;
}

/** One-character keys -> key codes (others K_OTHER). */
const KEY1 = new Uint8Array(128);
KEY1[101] = K_e;
KEY1[69] = K_E;
KEY1[84] = K_T;
KEY1[115] = K_s;
KEY1[85] = K_U;
KEY1[117] = K_u;
KEY1[98] = K_b;
KEY1[66] = K_B;
KEY1[97] = K_a;
KEY1[65] = K_A;
KEY1[112] = K_p;
KEY1[113] = K_q;
KEY1[116] = K_t;
KEY1[109] = K_m;
KEY1[105] = K_i;
KEY1[114] = K_r;

/** Keys whose value is an integer (times, update ids, trade ids). */
const INT_KEY = new Uint8Array(32);
for (const k of [K_E, K_T, K_U, K_u, K_pu, K_t, K_a, K_LAST_UPDATE_ID]) INT_KEY[k] = 1;

const INT_KEY_NAMES: Record<number, string> = {
  [K_E]: 'E',
  [K_T]: 'T',
  [K_U]: 'U',
  [K_u]: 'u',
  [K_pu]: 'pu',
  [K_t]: 't',
  [K_a]: 'a',
  [K_LAST_UPDATE_ID]: 'lastUpdateId',
};

const EMPTY = Buffer.alloc(0);
const B_DATA = Buffer.from('data');
const B_BIDS = Buffer.from('bids');
const B_ASKS = Buffer.from('asks');
const B_SYMBOL = Buffer.from('symbol');
const B_LAST_UPDATE_ID = Buffer.from('lastUpdateId');
const B_DEPTH_UPDATE = Buffer.from('depthUpdate');
const B_BOOK_TICKER = Buffer.from('bookTicker');
const B_TRADE = Buffer.from('trade');
const B_AGG_TRADE = Buffer.from('aggTrade');
const B_MARK_PRICE_UPDATE = Buffer.from('markPriceUpdate');

/** Whether s holds the bytes of `lit` at `at` (the caller has checked that they fit before the message end). */
function bytesAt(s: Buffer, at: number, lit: Buffer): boolean {
  for (let k = 0; k < lit.length; k++) if (s[at + k] !== lit[k]) return false;
  return true;
}

/** Bytes written by the last encodeInto. */
let encodedLength = 0;

/**
 * Writes `text` as UTF-8 into `buf` (or a larger buffer when it cannot fit, which is returned) followed by a
 * 0 byte, so that the read at the message end sees no JSON; sets encodedLength.
 */
function encodeInto(buf: Buffer, text: string): Buffer {
  const need = text.length * 3 + 1;
  if (buf.length < need) buf = Buffer.allocUnsafe(Math.max(need, buf.length * 2));
  encodedLength = buf.write(text, 0, 'utf8');
  buf[encodedLength] = 0;
  return buf;
}

/** Set by stringEnd when the string held a backslash escape. */
let escSeen = false;

// The scanner reads a message in s[start, n) of a larger buffer (a capture holds many lines): every loop stops
// at n, and the scan succeeds only at a '}' read before n, so the bytes from n on (the next line, or the rest
// of a message cut short) never make a message complete.

function skipWsAt(s: Buffer, p: number, n: number): number {
  while (p < n) {
    const c = s[p]!;
    if (c === 32 || c === 10 || c === 13 || c === 9) p++;
    else return p;
  }
  return p;
}

/** At '"': the index of the closing quote, or -1 when the text ends first. Sets escSeen. */
function stringEnd(s: Buffer, p: number, n: number): number {
  let esc = false;
  p++;
  for (;;) {
    if (p >= n) return -1;
    const c = s[p]!;
    if (c === 34) break;
    if (c === 92) {
      esc = true;
      p += 2;
      continue;
    }
    p++;
  }
  escSeen = esc;
  return p;
}

/** Skips any JSON value starting at p; returns the position after it, or -1 on a syntax error. */
function skipValueAt(s: Buffer, p: number, n: number): number {
  if (p >= n) return -1;
  const c = s[p]!;
  if (c === 34) {
    const e = stringEnd(s, p, n);
    return e < 0 ? -1 : e + 1;
  }
  if (c === 123 || c === 91) {
    let depth = 0;
    while (p < n) {
      const d = s[p]!;
      if (d === 34) {
        const e = stringEnd(s, p, n);
        if (e < 0) return -1;
        p = e + 1;
        continue;
      }
      if (d === 123 || d === 91) depth++;
      else if (d === 125 || d === 93) {
        depth--;
        if (depth === 0) return p + 1;
      }
      p++;
    }
    return -1;
  }
  // number, true, false, null: up to the next delimiter.
  const p0 = p;
  while (p < n) {
    const d = s[p]!;
    if (d === 44 || d === 125 || d === 93 || d === 32 || d === 10 || d === 13 || d === 9) break;
    p++;
  }
  return p === p0 ? -1 : p;
}

/**
 * The parser. Holds a symbol cache (symbol text -> instrument, compared in place without slicing) and the
 * facts about the last message (event, ids, row range) for the caller's validation. Not re-entrant.
 */
export class BinanceParser {
  private readonly resolve: SymbolResolver;
  private readonly symTexts: string[] = [];
  /** symTexts as UTF-8 bytes, compared in place against the message. */
  private readonly symBytes: Buffer[] = [];
  private readonly symInsts: Instrument[] = [];
  private lastHit = -1;
  /** Instrument for messages that name none (REST snapshots); set by the caller (e.g. the last one seen). */
  defaultInstrument: Instrument | undefined = undefined;

  // Facts about the last parsed message.
  event: BinanceEvent = BinanceEvent.NONE;
  instrument: Instrument | undefined = undefined;
  tsEvent = 0;
  /** Whether tsEvent came from the venue (false: spot bookTicker and REST snapshots use tsInit). */
  venueTime = false;
  /** Depth first/last/previous-last update ids (NaN when absent); bookTicker u in `lastId`. */
  firstId = Number.NaN;
  lastId = Number.NaN;
  prevId = Number.NaN;
  rowStart = 0;
  rowEnd = 0;
  /** Messages that needed the JSON.parse fallback. */
  fallbacks = 0;
  /**
   * Round depth sizes that are off the lot grid to the nearest lot (HALF_EVEN, never to 0) instead of failing
   * the message. Binance spot books hold a few legacy orders sized on an older, finer lot (BTCUSDT levels of
   * 25.426189 at lot 0.00001); dropping their message would cost the book an update.
   */
  roundSizes = false;
  /** Depth sizes rounded so far (see roundSizes), and the text of the last one. */
  roundedSizes = 0;
  lastRounded = '';
  /** The symbol of the last message when it named one the resolver does not know. */
  unknownSymbol = '';

  // Scanner state (one message at a time): the message is s[start, n).
  private s: Buffer = EMPTY;
  private n = 0;
  /** Where parse() encodes a string message, and fallback() its normalised form. */
  private text: Buffer = Buffer.alloc(1024);
  private norm: Buffer = Buffer.alloc(1024);
  private out: EventBatch | undefined = undefined;
  private inst: Instrument | undefined = undefined;
  private evStart = -1;
  private evEnd = -1;
  private fE = Number.NaN;
  private fT = Number.NaN;
  private fU = Number.NaN;
  private fu = Number.NaN;
  private fpu = Number.NaN;
  private ft = Number.NaN;
  private faNum = Number.NaN;
  private fm = -1;
  private fLastUpdateId = Number.NaN;
  // String value ranges [start, end) of b, B, a, A, p, q, i, r.
  private bS = -1;
  private bE = -1;
  private BS = -1;
  private BE = -1;
  private aS = -1;
  private aE = -1;
  private AS = -1;
  private AE = -1;
  private pS = -1;
  private pE = -1;
  private qS = -1;
  private qE = -1;
  private iS = -1;
  private iE = -1;
  private rS = -1;
  private rE = -1;
  // Depth arrays met before the symbol: their positions, parsed after the object is scanned.
  private bidsPos = -1;
  private asksPos = -1;
  private sawBids = false;
  private sawAsks = false;
  // Failure details.
  private badWhat = 0;
  private badIntKey = 0;
  private badStatus = 0;
  private badText = '';
  private missing = '';

  constructor(resolve: SymbolResolver) {
    this.resolve = resolve;
  }

  /**
   * Parses the message in msg[start..] (start lets a caller skip a line prefix) and appends its rows to `out`
   * with receive time `tsInit` (micros). Returns a ParseResult. The text is encoded into a reused buffer first,
   * which the byte scan more than pays for (a bookTicker: 0.90 us -> 0.67 us CPU against the former string
   * scan, loaded machine); readers holding bytes call parseBytes.
   */
  parse(msg: string, start: number, tsInit: number, out: EventBatch): ParseResult {
    const t = start === 0 ? msg : msg.slice(start);
    this.text = encodeInto(this.text, t);
    return this.parseBytes(this.text, 0, encodedLength, tsInit, out);
  }

  /**
   * Parses the message in buf[start, end) (one line of a capture: end excludes its "\n" or "\r\n"); the
   * bytes after `end` are never read as part of it. Returns a ParseResult like parse().
   */
  parseBytes(buf: Buffer, start: number, end: number, tsInit: number, out: EventBatch): ParseResult {
    const r = this.fast(buf, start, end, tsInit, out);
    if (r >= 0) return r as ParseResult;
    if (r === SCAN_NO_ROOM) return ParseResult.NO_ROOM;
    if (r === SCAN_BAD) return ParseResult.BAD_VALUE;
    if (r === SCAN_NO_INSTRUMENT) return ParseResult.NO_INSTRUMENT;
    return this.fallback(buf, start, end, tsInit, out);
  }

  /** JSON.parse, then one more scan of the normalised text (no whitespace, no escapes). */
  private fallback(buf: Buffer, start: number, end: number, tsInit: number, out: EventBatch): ParseResult {
    this.fallbacks++;
    let obj: unknown;
    try {
      obj = JSON.parse(buf.toString('utf8', start, end));
    } catch {
      this.rowEnd = this.rowStart = out.length;
      return ParseResult.MALFORMED;
    }
    if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) {
      this.event = BinanceEvent.OTHER;
      return ParseResult.UNKNOWN;
    }
    this.norm = encodeInto(this.norm, JSON.stringify(obj));
    const r = this.fast(this.norm, 0, encodedLength, tsInit, out);
    if (r >= 0) return r as ParseResult;
    if (r === SCAN_NO_ROOM) return ParseResult.NO_ROOM;
    if (r === SCAN_NO_INSTRUMENT) return ParseResult.NO_INSTRUMENT;
    if (r === SCAN_BAD) return ParseResult.BAD_VALUE;
    // Still unreadable after normalisation: a shape this parser does not know (e.g. a field of another type).
    this.missing = 'a readable event object';
    return ParseResult.BAD_VALUE;
  }

  /** Human description of the last BAD_VALUE / NO_INSTRUMENT / UNKNOWN result (edge use: builds strings). */
  describeError(): string {
    const inst = this.inst;
    if (this.missing !== '') return `message lacks ${this.missing}`;
    if (this.unknownSymbol !== '' && inst === undefined)
      return `no instrument for symbol ${this.unknownSymbol}`;
    if (this.badWhat !== 0) {
      const what = WHAT[this.badWhat] ?? 'value';
      const w = this.badWhat;
      const isPx = w === W_BID_PX || w === W_ASK_PX || w === W_PX || w === W_MARK || w === W_INDEX;
      const step = inst === undefined || w === W_RATE ? RATE_STEP : isPx ? inst.tickSize : inst.lotSize;
      return decimalErrorMessage(this.badStatus as DecimalStatus, this.badText, step, {
        what,
        stepName: w === W_RATE ? 'rate unit' : isPx ? 'tick size' : 'lot size',
        context: inst?.key ?? '',
      });
    }
    return 'unreadable message';
  }

  /** The "e" value of the last message ('' when absent), for counting unknown event types. */
  eventType(): string {
    return this.evStart >= 0 ? this.s.toString('utf8', this.evStart, this.evEnd) : '';
  }

  // ---------------------------------------------------------------------------------------------------------
  // Fast path.

  private fast(msg: Buffer, start: number, end: number, tsInit: number, out: EventBatch): number {
    this.s = msg;
    this.n = end;
    this.out = out;
    this.inst = undefined;
    this.event = BinanceEvent.NONE;
    this.instrument = undefined;
    this.evStart = this.evEnd = -1;
    this.fE = this.fT = this.fU = this.fu = this.fpu = this.ft = this.faNum = this.fLastUpdateId = Number.NaN;
    this.fm = -1;
    this.bS = this.bE = this.BS = this.BE = this.aS = this.aE = this.AS = this.AE = -1;
    this.pS = this.pE = this.qS = this.qE = this.iS = this.iE = this.rS = this.rE = -1;
    this.bidsPos = this.asksPos = -1;
    this.sawBids = this.sawAsks = false;
    this.badWhat = 0;
    this.badIntKey = 0;
    this.missing = '';
    this.unknownSymbol = '';
    this.firstId = this.lastId = this.prevId = Number.NaN;
    const rowStart = out.length;
    this.rowStart = this.rowEnd = rowStart;
    const r = this.scan(msg, start);
    if (r !== SCAN_OK) {
      out.length = rowStart;
      return r;
    }
    const res = this.finish(tsInit, out, rowStart);
    if (res < 0 || res === ParseResult.UNKNOWN) out.length = rowStart;
    this.rowEnd = out.length;
    return res;
  }

  /**
   * One pass over the message with the position in a local: keys are read in place (one-character keys by
   * table), the combined-stream "data" object is entered without recursion, values the parser does not need
   * are skipped. Records ranges and integers in the scratch fields; depth levels are written as met.
   */
  private scan(s: Buffer, start: number): number {
    const n = this.n;
    let p = skipWsAt(s, start, n);
    if (s[p]! !== 123) return SCAN_SYNTAX;
    p = skipWsAt(s, p + 1, n);
    let depth = 0;
    if (p < n && s[p]! === 125) return SCAN_OK; // {}
    for (;;) {
      if (s[p]! !== 34) return SCAN_SYNTAX;
      let key: number;
      const k1 = s[p + 1]!;
      if (p + 2 < n && s[p + 2]! === 34 && k1 !== 92) {
        key = k1 < 128 ? KEY1[k1]! : K_OTHER;
        p += 3;
      } else {
        const ke = stringEnd(s, p, n);
        if (ke < 0) return SCAN_SYNTAX;
        key = escSeen ? K_OTHER : this.keyCode(p + 1, ke);
        p = ke + 1;
      }
      let c = s[p]!;
      if (c !== 58) {
        p = skipWsAt(s, p, n);
        if (s[p]! !== 58) return SCAN_SYNTAX;
      }
      p++;
      c = s[p]!;
      if (c === 32 || c === 10 || c === 13 || c === 9) {
        p = skipWsAt(s, p, n);
        c = s[p]!;
      }
      if (c === 34) {
        // A string value.
        const ve = stringEnd(s, p, n);
        if (ve < 0) return SCAN_SYNTAX;
        const vs = p + 1;
        p = ve + 1;
        if (key !== K_OTHER) {
          if (escSeen) return SCAN_ESCAPE;
          switch (key) {
            case K_e:
              this.evStart = vs;
              this.evEnd = ve;
              break;
            case K_s: {
              const r = this.symbol(vs, ve);
              if (r !== SCAN_OK) return r;
              break;
            }
            case K_b:
              this.bS = vs;
              this.bE = ve;
              break;
            case K_B:
              this.BS = vs;
              this.BE = ve;
              break;
            case K_a:
              this.aS = vs;
              this.aE = ve;
              break;
            case K_A:
              this.AS = vs;
              this.AE = ve;
              break;
            case K_p:
              this.pS = vs;
              this.pE = ve;
              break;
            case K_q:
              this.qS = vs;
              this.qE = ve;
              break;
            case K_i:
              this.iS = vs;
              this.iE = ve;
              break;
            case K_r:
              this.rS = vs;
              this.rE = ve;
              break;
            case K_DATA:
            case K_m:
              break;
            default:
              // A string where a number was expected (e.g. "E":"123"): the fallback judges the shape.
              return SCAN_SYNTAX;
          }
        }
      } else if ((c >= 48 && c <= 57) || c === 45) {
        // A number: the integer fields are read in place, others skipped.
        let v = 0;
        let q = p;
        const neg = c === 45;
        if (neg) q++;
        const q0 = q;
        while (q < n) {
          const d = s[q]! - 48;
          if (d >= 0 && d <= 9) {
            v = v * 10 + d;
            q++;
          } else break;
        }
        const e = q < n ? s[q]! : -1;
        const isInt = q > q0 && q - q0 <= 15 && e !== 46 && e !== 101 && e !== 69;
        // Integer fields are read in place; any other number (or an integer field too long for a double to
        // hold exactly, which then stays absent) is skipped.
        if (isInt && key >= K_E && key <= K_LAST_UPDATE_ID && INT_KEY[key] === 1) {
          if (neg) v = -v;
          switch (key) {
            case K_E:
              this.fE = v;
              break;
            case K_T:
              this.fT = v;
              break;
            case K_U:
              this.fU = v;
              break;
            case K_u:
              this.fu = v;
              break;
            case K_pu:
              this.fpu = v;
              break;
            case K_t:
              this.ft = v;
              break;
            case K_a:
              this.faNum = v;
              break;
            default:
              this.fLastUpdateId = v;
              break;
          }
          p = q;
        } else {
          // An integer field that is not a safe integer (a fraction, an exponent, 16+ digits) is kept as a
          // fact: harmless in events this parser does not emit, BAD_VALUE in those it does.
          if (key >= K_E && key <= K_LAST_UPDATE_ID && INT_KEY[key] === 1) this.badIntKey = key;
          p = skipValueAt(s, p, n);
          if (p < 0) return SCAN_SYNTAX;
        }
      } else if (c === 91 && (key === K_b || key === K_BIDS || key === K_a || key === K_ASKS)) {
        const bids = key === K_b || key === K_BIDS;
        if (bids) this.sawBids = true;
        else this.sawAsks = true;
        if (this.inst === undefined) {
          if (bids) this.bidsPos = p;
          else this.asksPos = p;
          p = skipValueAt(s, p, n);
          if (p < 0) return SCAN_SYNTAX;
        } else {
          p = this.writeLevels(s, p, bids);
          if (p < 0) return p;
        }
      } else if (c === 123 && key === K_DATA) {
        depth++;
        p = skipWsAt(s, p + 1, n);
        if (s[p]! !== 125) continue;
        // An empty "data":{} closes at once; fall through to the separator handling.
      } else {
        if (key === K_m) this.fm = c === 116 ? 1 : c === 102 ? 0 : -1;
        else if (key !== K_OTHER && key !== K_DATA && c !== 110) return SCAN_SYNTAX; // null leaves a field absent
        p = skipValueAt(s, p, n);
        if (p < 0) return SCAN_SYNTAX;
      }
      // After a value: ',' then the next key, or '}' closing the object (the wrapper's "data", or the message).
      for (;;) {
        if (p >= n) return SCAN_SYNTAX;
        c = s[p]!;
        if (c === 44) {
          p++;
          c = s[p]!;
          if (c !== 34) p = skipWsAt(s, p, n);
          break;
        }
        if (c === 125) {
          if (depth === 0) return SCAN_OK;
          depth--;
          p++;
          continue;
        }
        if (c === 32 || c === 10 || c === 13 || c === 9) {
          p = skipWsAt(s, p, n);
          continue;
        }
        return SCAN_SYNTAX;
      }
    }
  }

  private keyCode(ks: number, ke: number): number {
    const s = this.s;
    const len = ke - ks;
    const c = s[ks]!;
    if (len === 1) return c < 128 ? KEY1[c]! : K_OTHER;
    if (len === 2) return c === 112 && s[ks + 1]! === 117 ? K_pu : K_OTHER;
    if (len === 4) {
      if (c === 100 && bytesAt(s, ks, B_DATA)) return K_DATA;
      if (c === 98 && bytesAt(s, ks, B_BIDS)) return K_BIDS;
      if (c === 97 && bytesAt(s, ks, B_ASKS)) return K_ASKS;
      return K_OTHER;
    }
    if (len === 6 && c === 115 && bytesAt(s, ks, B_SYMBOL)) return K_s;
    if (len === 12 && c === 108 && bytesAt(s, ks, B_LAST_UPDATE_ID)) return K_LAST_UPDATE_ID;
    return K_OTHER;
  }

  private symbol(vs: number, ve: number): number {
    const s = this.s;
    const len = ve - vs;
    const texts = this.symBytes;
    let hit = this.lastHit;
    if (hit >= 0) {
      const t = texts[hit]!;
      if (t.length !== len || !bytesAt(s, vs, t)) hit = -1;
    }
    if (hit < 0) {
      for (let k = 0; k < texts.length; k++) {
        const t = texts[k]!;
        if (t.length === len && bytesAt(s, vs, t)) {
          hit = k;
          break;
        }
      }
    }
    if (hit < 0) {
      const sym = s.toString('utf8', vs, ve);
      const inst = this.resolve(sym);
      if (inst === undefined) {
        this.unknownSymbol = sym;
        return SCAN_NO_INSTRUMENT;
      }
      this.symTexts.push(sym);
      texts.push(Buffer.from(s.subarray(vs, ve)));
      this.symInsts.push(inst);
      hit = texts.length - 1;
    }
    this.lastHit = hit;
    this.inst = this.symInsts[hit]!;
    return SCAN_OK;
  }

  /**
   * At '[' of a depth side, [["px","qty"],...], with the instrument known: writes px (a), qty (b) and side (c)
   * of each level into the batch. Returns the position after ']' or a negative scan code.
   */
  private writeLevels(s: Buffer, p: number, bids: boolean): number {
    const n = this.n;
    const out = this.out!;
    const inst = this.inst!;
    const tick = inst.tickSize;
    const lot = inst.lotSize;
    const side = bids ? Side.BUY : Side.SELL;
    const A = out.a;
    const B = out.b;
    const C = out.c;
    const cap = out.capacity;
    let i = out.length;
    p = skipWsAt(s, p + 1, n);
    if (s[p]! === 93) return p + 1;
    for (;;) {
      if (s[p]! !== 91) return SCAN_SYNTAX;
      p = skipWsAt(s, p + 1, n);
      if (s[p]! !== 34) return SCAN_SYNTAX;
      const ps = p + 1;
      const pe = stringEnd(s, p, n);
      if (pe < 0) return SCAN_SYNTAX;
      if (escSeen) return SCAN_ESCAPE;
      p = pe + 1;
      if (s[p]! !== 44) {
        p = skipWsAt(s, p, n);
        if (s[p]! !== 44) return SCAN_SYNTAX;
      }
      p = skipWsAt(s, p + 1, n);
      if (s[p]! !== 34) return SCAN_SYNTAX;
      const qs = p + 1;
      const qe = stringEnd(s, p, n);
      if (qe < 0) return SCAN_SYNTAX;
      if (escSeen) return SCAN_ESCAPE;
      p = qe + 1;
      let c = s[p]!;
      if (c !== 93) {
        p = skipWsAt(s, p, n);
        c = s[p]!;
        // Tolerate extra elements after [px, qty] (older payloads carried an ignored third one).
        while (c === 44) {
          p = skipValueAt(s, skipWsAt(s, p + 1, n), n);
          if (p < 0) return SCAN_SYNTAX;
          p = skipWsAt(s, p, n);
          c = s[p]!;
        }
        if (c !== 93) return SCAN_SYNTAX;
      }
      p++;
      const px = stepsIn(s, ps, pe, tick);
      if (Number.isNaN(px)) return this.bad(bids ? W_BID_PX : W_ASK_PX, ps, pe);
      let qty = stepsIn(s, qs, qe, lot);
      if (Number.isNaN(qty)) {
        if (!this.roundSizes || decStatus !== DecimalStatus.NOT_MULTIPLE)
          return this.bad(bids ? W_BID_QTY : W_ASK_QTY, qs, qe);
        qty = roundedIn(s, qs, qe, lot, false);
        if (Number.isNaN(qty)) return this.bad(bids ? W_BID_QTY : W_ASK_QTY, qs, qe);
        if (qty === 0) qty = 1;
        this.roundedSizes++;
        this.lastRounded = s.toString('utf8', qs, qe);
      }
      if (i >= cap) {
        out.length = i;
        return SCAN_NO_ROOM;
      }
      A[i] = px;
      B[i] = qty;
      C[i] = side;
      i++;
      c = s[p]!;
      if (c === 44) {
        out.length = i;
        p = skipWsAt(s, p + 1, n);
        continue;
      }
      if (c !== 93) {
        p = skipWsAt(s, p, n);
        c = s[p]!;
        if (c === 44) {
          p = skipWsAt(s, p + 1, n);
          continue;
        }
        if (c !== 93) return SCAN_SYNTAX;
      }
      out.length = i;
      return p + 1;
    }
  }

  private bad(what: number, from: number, to: number): number {
    this.badWhat = what;
    this.badStatus = decStatus;
    this.badText = this.s.toString('utf8', from, to);
    return SCAN_BAD;
  }

  private need(name: string): number {
    this.missing = name;
    return SCAN_BAD;
  }

  private isEvent(lit: Buffer): boolean {
    return this.evEnd - this.evStart === lit.length && bytesAt(this.s, this.evStart, lit);
  }

  /** Turns the scanned fields into rows, by event type. */
  private finish(tsInit: number, out: EventBatch, rowStart: number): number {
    let ev: BinanceEvent;
    if (this.evStart >= 0) {
      if (this.isEvent(B_DEPTH_UPDATE)) ev = BinanceEvent.DEPTH;
      else if (this.isEvent(B_BOOK_TICKER)) ev = BinanceEvent.BOOK_TICKER;
      else if (this.isEvent(B_TRADE)) ev = BinanceEvent.TRADE;
      else if (this.isEvent(B_AGG_TRADE)) ev = BinanceEvent.AGG_TRADE;
      else if (this.isEvent(B_MARK_PRICE_UPDATE)) ev = BinanceEvent.MARK_PRICE;
      else ev = BinanceEvent.OTHER;
    } else if (!Number.isNaN(this.fLastUpdateId) && (this.sawBids || this.sawAsks)) {
      ev = BinanceEvent.SNAPSHOT;
    } else if (!Number.isNaN(this.fu) && this.bS >= 0 && this.aS >= 0) {
      // Spot bookTicker has no "e": recognised by its shape (u, s, b, B, a, A).
      ev = BinanceEvent.BOOK_TICKER;
    } else {
      ev = BinanceEvent.OTHER;
    }
    this.event = ev;
    if (ev === BinanceEvent.OTHER) return ParseResult.UNKNOWN;
    if (this.badIntKey !== 0)
      return this.need(
        `an integer ${INT_KEY_NAMES[this.badIntKey] ?? 'field'} (got a fraction or 16+ digits)`,
      );
    if (ev === BinanceEvent.SNAPSHOT && this.inst === undefined) {
      this.inst = this.defaultInstrument;
      if (this.inst === undefined) {
        this.unknownSymbol = '';
        return SCAN_NO_INSTRUMENT;
      }
    }
    const inst = this.inst;
    if (inst === undefined) return this.need('a symbol ("s")');
    this.instrument = inst;
    const id = inst.id;
    switch (ev) {
      case BinanceEvent.BOOK_TICKER: {
        if (this.bS < 0 || this.BS < 0 || this.aS < 0 || this.AS < 0) return this.need('b, B, a and A');
        if (out.length >= out.capacity) return SCAN_NO_ROOM;
        const s = this.s;
        const bp = stepsIn(s, this.bS, this.bE, inst.tickSize);
        if (Number.isNaN(bp)) return this.bad(W_BID_PX, this.bS, this.bE);
        const bq = stepsIn(s, this.BS, this.BE, inst.lotSize);
        if (Number.isNaN(bq)) return this.bad(W_BID_QTY, this.BS, this.BE);
        const ap = stepsIn(s, this.aS, this.aE, inst.tickSize);
        if (Number.isNaN(ap)) return this.bad(W_ASK_PX, this.aS, this.aE);
        const aq = stepsIn(s, this.AS, this.AE, inst.lotSize);
        if (Number.isNaN(aq)) return this.bad(W_ASK_QTY, this.AS, this.AE);
        const ms = !Number.isNaN(this.fT) ? this.fT : this.fE;
        const t = !Number.isNaN(ms) ? ms * MICROS_PER_MS : tsInit;
        this.tsEvent = t;
        this.venueTime = !Number.isNaN(ms);
        this.lastId = this.fu;
        const seq = !Number.isNaN(this.fu) ? this.fu : 0;
        out.push(RecordKind.QUOTE, id, t, tsInit, bp, bq, ap, aq, 0, 0, seq);
        return ParseResult.QUOTE;
      }
      case BinanceEvent.TRADE:
      case BinanceEvent.AGG_TRADE: {
        if (this.pS < 0 || this.qS < 0) return this.need('p and q');
        const tid = ev === BinanceEvent.TRADE ? this.ft : this.faNum;
        if (Number.isNaN(tid))
          return this.need(ev === BinanceEvent.TRADE ? 'a trade id ("t")' : 'an aggregate id ("a")');
        const ms = !Number.isNaN(this.fT) ? this.fT : this.fE;
        if (Number.isNaN(ms)) return this.need('a time ("T" or "E")');
        if (out.length >= out.capacity) return SCAN_NO_ROOM;
        const s = this.s;
        const px = stepsIn(s, this.pS, this.pE, inst.tickSize);
        if (Number.isNaN(px)) return this.bad(W_PX, this.pS, this.pE);
        const qty = stepsIn(s, this.qS, this.qE, inst.lotSize);
        if (Number.isNaN(qty)) return this.bad(W_QTY, this.qS, this.qE);
        const t = ms * MICROS_PER_MS;
        this.tsEvent = t;
        this.venueTime = true;
        this.lastId = tid;
        const aggressor = this.fm === 1 ? Side.SELL : this.fm === 0 ? Side.BUY : NO_SIDE;
        out.push(RecordKind.TRADE, id, t, tsInit, px, qty, aggressor, 0, 0, 0, tid);
        return ParseResult.TRADE;
      }
      case BinanceEvent.DEPTH:
      case BinanceEvent.SNAPSHOT: {
        const snap = ev === BinanceEvent.SNAPSHOT;
        if (snap) {
          this.firstId = this.lastId = this.fLastUpdateId;
        } else {
          if (Number.isNaN(this.fU) || Number.isNaN(this.fu)) return this.need('update ids U and u');
          this.firstId = this.fU;
          this.lastId = this.fu;
          this.prevId = this.fpu;
        }
        const ms = !Number.isNaN(this.fT) ? this.fT : this.fE;
        if (!snap && Number.isNaN(ms)) return this.need('an event time ("E")');
        if (this.bidsPos >= 0 || this.asksPos >= 0) {
          // Arrays came before the symbol: parse them now, bids first as in the message.
          if (this.bidsPos >= 0) {
            const r = this.writeLevels(this.s, this.bidsPos, true);
            if (r < 0) return r;
          }
          if (this.asksPos >= 0) {
            const r = this.writeLevels(this.s, this.asksPos, false);
            if (r < 0) return r;
          }
        }
        const t = !Number.isNaN(ms) ? ms * MICROS_PER_MS : tsInit;
        this.tsEvent = t;
        this.venueTime = !Number.isNaN(ms);
        const end = out.length;
        const seq = this.lastId;
        const flags = snap ? DeltaFlag.SNAPSHOT : 0;
        for (let i = rowStart; i < end; i++) {
          out.kind[i] = RecordKind.DELTA;
          out.instrument[i] = id;
          out.tsEvent[i] = t;
          out.tsInit[i] = tsInit;
          out.d[i] = flags;
          out.e[i] = 0;
          out.f[i] = 0;
          out.seq[i] = seq;
        }
        if (end > rowStart) {
          out.d[end - 1] = flags | DeltaFlag.LAST;
          if (snap) out.d[rowStart] = out.d[rowStart]! | DeltaFlag.CLEAR;
        }
        return snap ? ParseResult.SNAPSHOT : ParseResult.DEPTH;
      }
      default: {
        // markPriceUpdate
        if (this.pS < 0 || Number.isNaN(this.fE)) return this.need('p and E');
        if (out.capacity - out.length < 2) return SCAN_NO_ROOM;
        const s = this.s;
        const px = roundedIn(s, this.pS, this.pE, inst.tickSize, false);
        if (Number.isNaN(px)) return this.bad(W_MARK, this.pS, this.pE);
        const ipx = this.iS >= 0 ? roundedIn(s, this.iS, this.iE, inst.tickSize, false) : 0;
        if (Number.isNaN(ipx)) return this.bad(W_INDEX, this.iS, this.iE);
        const t = this.fE * MICROS_PER_MS;
        this.tsEvent = t;
        this.venueTime = true;
        out.push(RecordKind.MARK_PRICE, id, t, tsInit, px, ipx);
        if (this.rS >= 0) {
          const rate = roundedIn(s, this.rS, this.rE, RATE_STEP, true);
          if (Number.isNaN(rate)) {
            out.length--;
            return this.bad(W_RATE, this.rS, this.rE);
          }
          const next = !Number.isNaN(this.fT) ? this.fT * MICROS_PER_MS : 0;
          out.push(RecordKind.FUNDING_RATE, id, t, tsInit, rate, next);
        }
        return ParseResult.MARK;
      }
    }
  }
}
