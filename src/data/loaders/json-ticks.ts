// JSON market-data captures of venues other than Binance: Bybit v5 order books and trades (public history
// ob500 zips, websocket JSON lines or single-message fixtures), cryptofeed captures (Coinbase level2 +
// matches, Bybit v2 orderBookL2_25 + trades; Binance goes to the Binance parser) and hftbacktest's
// Hyperliquid capture (l2Book snapshots, trades). JSON.parse per message: these are not hot paths.
// Steps are inferred per symbol from the decimals in the file (one pre-scan). Units: µs, ticks, lots.

import { readFileSync, statSync } from 'node:fs';
import { unzipSync } from 'fflate';
import { Bot4Error, ErrorCode, isBot4Error } from '../../core/errors.ts';
import { BinanceMarket } from '../../model/binance-instruments.ts';
import { decimalErrorMessage, decimalToSteps, floatToSteps, lastDecimalStatus } from '../../model/decimal.ts';
import { type Instrument, InstrumentKind } from '../../model/instrument.ts';
import { DeltaFlag, type EventBatch, NO_SIDE, RecordKind, Side } from '../../model/market-data.ts';
import { readHeadBytes, readLines } from '../lines.ts';
import type { Loader, LoadOptions, ValidationReport } from '../loader.ts';
import { SequenceRule, Validator } from '../validate.ts';
import { binanceMarketOf, CaptureFormat, loadBinanceCapture } from './binance-capture.ts';
import {
  ensureInstrument,
  floatDecimals,
  Ignored,
  isoTextToMicros,
  newBatch,
  nsTextToMicros,
  ProgressTicker,
  StepInference,
  secondsTextToMicros,
  splitSymbol,
  tally,
  textDecimals,
  tickSpec,
} from './tick-common.ts';

type J = Record<string, unknown>;

/** Lines of a file: a zip's single member (fflate, in memory: zips are history files of a day) or a text file. */
async function* messageLines(
  file: string,
  options: LoadOptions,
): AsyncGenerator<{ text: string; line: number }> {
  const magic = readHeadBytes(file, 4);
  if (magic[0] === 0x50 && magic[1] === 0x4b) {
    const members = unzipSync(new Uint8Array(readFileSync(file)));
    const names = Object.keys(members);
    if (names.length !== 1) {
      throw new Bot4Error(
        ErrorCode.DATA_MALFORMED,
        `${file}: expected a zip with one member, found ${names.length}`,
        {
          file,
          members: names,
        },
      );
    }
    const text = Buffer.from(members[names[0]!]!).toString('utf8');
    let line = 0;
    let from = 0;
    while (from < text.length) {
      let nl = text.indexOf('\n', from);
      if (nl < 0) nl = text.length;
      line++;
      yield { text: text.slice(from, nl > from && text.charCodeAt(nl - 1) === 13 ? nl - 1 : nl), line };
      from = nl + 1;
    }
    return;
  }
  // A pretty-printed single message (venue fixture files): one JSON document over many lines.
  const head = readHeadBytes(file, 2).toString('utf8');
  if (
    head === '{\n' ||
    head === '{\r' ||
    (head[0] === '{' && /^\{\s*$/.test(readHeadBytes(file, 64).toString().split('\n')[0]!))
  ) {
    if (statSync(file).size < 64 * 1024 * 1024) {
      let doc: unknown;
      try {
        doc = JSON.parse(readFileSync(file, 'utf8'));
      } catch (e) {
        // A damaged document is bad input naming the file, not a SyntaxError (found by fuzzing).
        throw new Bot4Error(ErrorCode.DATA_MALFORMED, `${file}: not valid JSON (${(e as Error).message})`, {
          file,
        });
      }
      yield { text: JSON.stringify(doc), line: 1 };
      return;
    }
  }
  for await (const chunk of readLines(file, { signal: options.signal })) {
    for (let k = 0; k < chunk.count; k++) yield { text: chunk.lines[k]!, line: chunk.firstLine + k };
  }
}

/** A venue's JSON message handling; the driver owns reading, batching, validation bookkeeping. */
interface JsonFormat {
  readonly venue: string;
  /** The receive time a line carries (µs) and where its JSON starts; start -1: not a data line. */
  prefix(text: string): { tsInit: number; start: number };
  /** Decimals for step inference. */
  scan(msg: J, inf: StepInference): void;
  /** Upper bound of the rows the message produces. */
  rows(msg: J): number;
  /** Converts one message; returns false when it is not a market-data message (counted as ignored). */
  emit(msg: J, tsInit: number, line: number, out: EventBatch): boolean;
  /** Type label for ignored messages. */
  typeOf(msg: J): string;
}

class Ctx {
  readonly v: Validator;
  readonly report: ValidationReport;
  readonly options: LoadOptions;
  inference = new StepInference();
  private readonly insts = new Map<string, Instrument>();
  readonly kindOf: (symbol: string) => InstrumentKind;

  constructor(report: ValidationReport, options: LoadOptions, kindOf: (symbol: string) => InstrumentKind) {
    this.report = report;
    this.options = options;
    this.v = new Validator(report, options.policies, options.strict);
    this.kindOf = kindOf;
  }

  instrument(symbol: string, venue: string, quoteFallback = 'USDT'): Instrument {
    let inst = this.insts.get(symbol);
    if (inst !== undefined) return inst;
    const reg = this.options.instruments;
    const have = reg.find(symbol, venue);
    if (have !== undefined) inst = ensureInstrument(reg, have.spec, this.report, 'registered');
    else {
      const st = this.inference.steps(symbol) ?? { tickSize: '1', lotSize: '1' };
      const { base, quote } = splitSymbol(symbol, quoteFallback);
      inst = ensureInstrument(
        reg,
        tickSpec({ symbol, venue, kind: this.kindOf(symbol), base, quote, ...st }),
        this.report,
        'inferred from the decimals in the data',
      );
    }
    this.insts.set(symbol, inst);
    return inst;
  }

  px(text: unknown, inst: Instrument, line: number, what = 'price'): number {
    return this.conv(text, inst, true, line, what);
  }

  qty(text: unknown, inst: Instrument, line: number, what = 'size'): number {
    return this.conv(text, inst, false, line, what);
  }

  private conv(x: unknown, inst: Instrument, isPrice: boolean, line: number, what: string): number {
    const step = isPrice ? inst.tickSize : inst.lotSize;
    const n =
      typeof x === 'string'
        ? decimalToSteps(x, step)
        : typeof x === 'number'
          ? floatToSteps(x, step)
          : Number.NaN;
    if (!Number.isNaN(n)) return n;
    this.v.malformed(
      line,
      decimalErrorMessage(
        lastDecimalStatus(),
        typeof x === 'string' || typeof x === 'number' ? x : String(x),
        step,
        {
          what,
          stepName: isPrice ? 'tick size' : 'lot size',
          context: inst.key,
        },
      ),
    );
    return Number.NaN;
  }
}

function decimals(x: unknown): number {
  return typeof x === 'string' ? textDecimals(x) : typeof x === 'number' ? floatDecimals(x) : 0;
}

/** Writes book levels [[px, qty], ...] (or objects via pick) as DELTA rows; false (rows removed) on a bad value. */
function levels(
  ctx: Ctx,
  out: EventBatch,
  inst: Instrument,
  list: unknown,
  side: number,
  ts: number,
  tsInit: number,
  seq: number,
  line: number,
  pick: (lv: unknown) => [unknown, unknown] | undefined,
): boolean {
  if (!Array.isArray(list)) return true;
  for (const lv of list) {
    const pq = pick(lv);
    if (pq === undefined) {
      ctx.v.malformed(line, `book level ${JSON.stringify(lv)} is not [price, size]`);
      return false;
    }
    const px = ctx.px(pq[0], inst, line);
    const qty = ctx.qty(pq[1], inst, line);
    if (Number.isNaN(px) || Number.isNaN(qty)) return false;
    out.push(RecordKind.DELTA, inst.id, ts, tsInit, px, qty, side, 0, 0, 0, seq);
  }
  return true;
}

/** Flags rows [start, end) as one message: SNAPSHOT (+CLEAR first) when a snapshot, LAST on the final row. */
function closeMessage(out: EventBatch, start: number, snapshot: boolean, extraFirst = 0): void {
  const end = out.length;
  if (end === start) return;
  if (snapshot) for (let i = start; i < end; i++) out.d[i] = DeltaFlag.SNAPSHOT;
  out.d[start] = out.d[start]! | (snapshot ? DeltaFlag.CLEAR : 0) | extraFirst;
  out.d[end - 1] = out.d[end - 1]! | DeltaFlag.LAST;
}

/** A JSON object (not null, not an array): what a message's nested fields must be before they are read. */
const isObject = (x: unknown): x is J => typeof x === 'object' && x !== null && !Array.isArray(x);

const pair = (lv: unknown): [unknown, unknown] | undefined =>
  Array.isArray(lv) && lv.length >= 2 ? [lv[0], lv[1]] : undefined;

// ---------------------------------------------------------------------------------------------------------
// Bybit v5: {"topic":"orderbook.500.XRPUSDT","type":"snapshot"|"delta","ts":..,"data":{"s","b","a","u","seq"},"cts":..}
// and {"topic":"publicTrade.BTCUSDT","type":"snapshot","ts":..,"data":[{"T","s","S","v","p","i","BT"}]}.

class BybitV5 implements JsonFormat {
  readonly venue: string;
  private readonly ctx: Ctx;
  constructor(ctx: Ctx, venue: string) {
    this.ctx = ctx;
    this.venue = venue;
  }
  prefix(text: string): { tsInit: number; start: number } {
    return { tsInit: Number.NaN, start: text.charCodeAt(0) === 123 ? 0 : -1 };
  }
  private isBook(m: J): boolean {
    return typeof m['topic'] === 'string' && m['topic'].startsWith('orderbook.');
  }
  private isTrade(m: J): boolean {
    return typeof m['topic'] === 'string' && /^(publicTrade|trade)\./.test(m['topic']);
  }
  typeOf(m: J): string {
    return String(m['topic'] ?? m['op'] ?? '').split('.')[0] ?? '';
  }
  scan(m: J, inf: StepInference): void {
    const d = m['data'];
    if (this.isBook(m) && typeof d === 'object' && d !== null) {
      const o = d as J;
      const s = String(o['s']);
      for (const k of ['b', 'a']) {
        const list = o[k];
        if (!Array.isArray(list)) continue;
        for (const lv of list) {
          const pq = pair(lv);
          if (pq === undefined) continue;
          inf.price(s, decimals(pq[0]));
          inf.size(s, decimals(pq[1]));
        }
      }
    } else if (this.isTrade(m) && Array.isArray(d)) {
      for (const t of d as J[]) {
        inf.price(String(t['s']), decimals(t['p']));
        inf.size(String(t['s']), decimals(t['v']));
      }
    }
  }
  rows(m: J): number {
    const d = m['data'];
    if (Array.isArray(d)) return d.length;
    if (typeof d === 'object' && d !== null) {
      const o = d as J;
      return (Array.isArray(o['b']) ? o['b'].length : 0) + (Array.isArray(o['a']) ? o['a'].length : 0);
    }
    return 0;
  }
  emit(m: J, _tsInit: number, line: number, out: EventBatch): boolean {
    const ctx = this.ctx;
    const v = ctx.v;
    const ts = typeof m['ts'] === 'number' ? m['ts'] * 1000 : Number.NaN;
    if (this.isBook(m)) {
      const d = m['data'];
      if (!isObject(d)) {
        v.malformed(line, `orderbook message's data is ${JSON.stringify(d) ?? 'absent'}, not an object`);
        return true;
      }
      const inst = ctx.instrument(String(d['s']), this.venue);
      const snap = m['type'] === 'snapshot';
      const u = typeof d['u'] === 'number' ? d['u'] : Number.NaN;
      // cts is the matching engine's time for the book; ts when the message was built (no receive time here).
      const te = typeof m['cts'] === 'number' ? m['cts'] * 1000 : ts;
      if (Number.isNaN(te) || Number.isNaN(u)) {
        v.malformed(line, 'orderbook message lacks ts or data.u');
        return true;
      }
      let gap = 0;
      if (snap) v.snapshot(inst.id, u);
      else {
        // Bybit: u increases by one per update of a book ("u"=1 is a service-restart snapshot).
        const f = v.depth(inst.id, SequenceRule.SPOT, u, u, Number.NaN, line);
        if (f === 0) return true;
        gap = f === 1 ? 0 : f;
      }
      const t = v.orderedTs(inst.id, RecordKind.DELTA, te, line);
      if (Number.isNaN(t)) return true;
      const start = out.length;
      const tsInit = ts;
      if (
        !levels(ctx, out, inst, d['b'], Side.BUY, t, tsInit, u, line, pair) ||
        !levels(ctx, out, inst, d['a'], Side.SELL, t, tsInit, u, line, pair)
      ) {
        out.length = start;
        return true;
      }
      closeMessage(out, start, snap, gap);
      return true;
    }
    if (this.isTrade(m) && Array.isArray(m['data'])) {
      for (const tr of m['data'] as unknown[]) {
        if (!isObject(tr)) {
          v.malformed(line, `trade ${JSON.stringify(tr)} is not an object`);
          continue;
        }
        const inst = ctx.instrument(String(tr['s']), this.venue);
        const px = ctx.px(tr['p'], inst, line);
        const qty = ctx.qty(tr['v'], inst, line);
        if (Number.isNaN(px) || Number.isNaN(qty) || !v.positiveTrade(px, qty, line)) continue;
        const te = typeof tr['T'] === 'number' ? tr['T'] * 1000 : ts;
        const t = v.orderedTs(inst.id, RecordKind.TRADE, te, line);
        if (Number.isNaN(t)) continue;
        const side = tr['S'] === 'Buy' ? Side.BUY : tr['S'] === 'Sell' ? Side.SELL : NO_SIDE;
        // Trade ids are UUIDs: not comparable, so seq 0 and no duplicate check.
        out.push(RecordKind.TRADE, inst.id, t, Number.isNaN(ts) ? t : ts, px, qty, side, 0, 0, 0, 0);
      }
      return true;
    }
    return false;
  }
}

// ---------------------------------------------------------------------------------------------------------
// cryptofeed captures: "<unix s>: <json>" lines; "<url> <-> <s>" and "<url> <- <s>: <json>" are not data.

function cryptofeedPrefix(text: string): { tsInit: number; start: number } {
  const c = text.charCodeAt(0);
  if (c < 48 || c > 57) return { tsInit: Number.NaN, start: -1 };
  const colon = text.indexOf(': ');
  if (colon < 0) return { tsInit: Number.NaN, start: -1 };
  return { tsInit: secondsTextToMicros(text, 0, colon), start: colon + 2 };
}

/** Coinbase Pro level2 (snapshot, l2update) and matches (match, last_match). */
class CoinbaseFeed implements JsonFormat {
  readonly venue: string;
  private readonly ctx: Ctx;
  constructor(ctx: Ctx, venue: string) {
    this.ctx = ctx;
    this.venue = venue;
  }
  prefix = cryptofeedPrefix;
  typeOf(m: J): string {
    return String(m['type'] ?? '');
  }
  scan(m: J, inf: StepInference): void {
    const s = String(m['product_id']);
    switch (m['type']) {
      case 'snapshot':
        for (const k of ['bids', 'asks']) {
          for (const lv of (m[k] as unknown[]) ?? []) {
            const pq = pair(lv);
            if (pq === undefined) continue;
            inf.price(s, decimals(pq[0]));
            inf.size(s, decimals(pq[1]));
          }
        }
        break;
      case 'l2update':
        for (const ch of (m['changes'] as unknown[][]) ?? []) {
          inf.price(s, decimals(ch[1]));
          inf.size(s, decimals(ch[2]));
        }
        break;
      case 'match':
      case 'last_match':
        inf.price(s, decimals(m['price']));
        inf.size(s, decimals(m['size']));
        break;
      default:
    }
  }
  rows(m: J): number {
    if (m['type'] === 'snapshot') {
      return (
        (Array.isArray(m['bids']) ? m['bids'].length : 0) + (Array.isArray(m['asks']) ? m['asks'].length : 0)
      );
    }
    if (m['type'] === 'l2update') return Array.isArray(m['changes']) ? m['changes'].length : 0;
    return 1;
  }
  emit(m: J, tsInit: number, line: number, out: EventBatch): boolean {
    const ctx = this.ctx;
    const v = ctx.v;
    const type = m['type'];
    if (type !== 'snapshot' && type !== 'l2update' && type !== 'match' && type !== 'last_match') return false;
    const inst = ctx.instrument(String(m['product_id']), this.venue, 'USD');
    const te = typeof m['time'] === 'string' ? isoTextToMicros(m['time']) : tsInit;
    if (Number.isNaN(te)) {
      v.malformed(line, `time ${JSON.stringify(m['time'])} is not an ISO-8601 UTC time`);
      return true;
    }
    if (type === 'match' || type === 'last_match') {
      const px = ctx.px(m['price'], inst, line);
      const qty = ctx.qty(m['size'], inst, line);
      if (Number.isNaN(px) || Number.isNaN(qty) || !v.positiveTrade(px, qty, line)) return true;
      const id = typeof m['trade_id'] === 'number' ? m['trade_id'] : 0;
      if (!v.tradeId(inst.id, id, line)) return true;
      const t = v.orderedTs(inst.id, RecordKind.TRADE, te, line);
      if (Number.isNaN(t)) return true;
      // Coinbase's side is the maker order's side: a "sell" maker means the taker bought.
      const side = m['side'] === 'sell' ? Side.BUY : m['side'] === 'buy' ? Side.SELL : NO_SIDE;
      out.push(RecordKind.TRADE, inst.id, t, tsInit, px, qty, side, 0, 0, 0, id);
      return true;
    }
    // A level2 snapshot carries no venue time: receive time stands in, and it is not held against the venue
    // times of the updates (network latency puts receive time after updates the venue sent just before).
    const t = type === 'snapshot' ? te : v.orderedTs(inst.id, RecordKind.DELTA, te, line);
    if (Number.isNaN(t)) return true;
    const start = out.length;
    let ok: boolean;
    if (type === 'snapshot') {
      ok =
        levels(ctx, out, inst, m['bids'], Side.BUY, t, tsInit, 0, line, pair) &&
        levels(ctx, out, inst, m['asks'], Side.SELL, t, tsInit, 0, line, pair);
    } else {
      ok = true;
      for (const ch of (m['changes'] as unknown[]) ?? []) {
        if (!Array.isArray(ch) || (ch[0] !== 'buy' && ch[0] !== 'sell')) {
          v.malformed(line, `l2update change ${JSON.stringify(ch)} is not [buy|sell, price, size]`);
          ok = false;
          break;
        }
        const side = ch[0] === 'buy' ? Side.BUY : Side.SELL;
        if (!levels(ctx, out, inst, [[ch[1], ch[2]]], side, t, tsInit, 0, line, pair)) {
          ok = false;
          break;
        }
      }
    }
    if (!ok) {
      out.length = start;
      return true;
    }
    closeMessage(out, start, type === 'snapshot');
    return true;
  }
}

/** Bybit v2 realtime_public (USDT perpetuals): orderBookL2_25 snapshot/delta and trade, sizes as JSON numbers. */
class BybitV2Feed implements JsonFormat {
  readonly venue: string;
  private readonly ctx: Ctx;
  constructor(ctx: Ctx, venue: string) {
    this.ctx = ctx;
    this.venue = venue;
  }
  prefix = cryptofeedPrefix;
  typeOf(m: J): string {
    if (typeof m['topic'] === 'string') return m['topic'].split('.')[0] ?? '';
    return m['success'] !== undefined ? 'subscribe reply' : '';
  }
  private entries(m: J): J[][] {
    const d = m['data'];
    if (m['type'] === 'snapshot') {
      const ob = Array.isArray(d) ? d : (d as J | undefined)?.['order_book'];
      return [Array.isArray(ob) ? (ob as J[]) : []];
    }
    const o = (d ?? {}) as J;
    return [(o['delete'] as J[]) ?? [], (o['update'] as J[]) ?? [], (o['insert'] as J[]) ?? []];
  }
  scan(m: J, inf: StepInference): void {
    const topic = String(m['topic'] ?? '');
    if (topic.startsWith('orderBookL2_25.')) {
      for (const list of this.entries(m)) {
        for (const e of list) {
          inf.price(String(e['symbol']), decimals(e['price']));
          if (e['size'] !== undefined) inf.size(String(e['symbol']), decimals(e['size']));
        }
      }
    } else if (topic.startsWith('trade.') && Array.isArray(m['data'])) {
      for (const t of m['data'] as J[]) {
        inf.price(String(t['symbol']), decimals(t['price']));
        inf.size(String(t['symbol']), decimals(t['size']));
      }
    }
  }
  rows(m: J): number {
    if (Array.isArray(m['data'])) return m['data'].length;
    return this.entries(m).reduce((a, l) => a + l.length, 0);
  }
  emit(m: J, tsInit: number, line: number, out: EventBatch): boolean {
    const ctx = this.ctx;
    const v = ctx.v;
    const topic = String(m['topic'] ?? '');
    if (topic.startsWith('orderBookL2_25.')) {
      const inst = ctx.instrument(topic.slice('orderBookL2_25.'.length), this.venue);
      const e6 = m['timestamp_e6'];
      const te = typeof e6 === 'string' || typeof e6 === 'number' ? Number(e6) : tsInit;
      const t = v.orderedTs(inst.id, RecordKind.DELTA, te, line);
      if (Number.isNaN(t)) return true;
      const snap = m['type'] === 'snapshot';
      const seq = Number(m['cross_seq'] ?? 0) || 0;
      const start = out.length;
      const lists = this.entries(m);
      let ok = true;
      for (let li = 0; li < lists.length && ok; li++) {
        // Deletes carry no size: the level goes to 0. Updates and inserts carry the new total size.
        const isDelete = !snap && li === 0;
        for (const e of lists[li]!) {
          const side = e['side'] === 'Buy' ? Side.BUY : e['side'] === 'Sell' ? Side.SELL : 0;
          if (side === 0) {
            v.malformed(line, `order book entry side ${JSON.stringify(e['side'])} is not Buy or Sell`);
            ok = false;
            break;
          }
          if (
            !levels(
              ctx,
              out,
              inst,
              [[e['price'], isDelete ? '0' : e['size']]],
              side,
              t,
              tsInit,
              seq,
              line,
              pair,
            )
          ) {
            ok = false;
            break;
          }
        }
      }
      if (!ok) {
        out.length = start;
        return true;
      }
      closeMessage(out, start, snap);
      return true;
    }
    if (topic.startsWith('trade.') && Array.isArray(m['data'])) {
      for (const tr of m['data'] as J[]) {
        const inst = ctx.instrument(String(tr['symbol']), this.venue);
        const px = ctx.px(tr['price'], inst, line);
        const qty = ctx.qty(tr['size'], inst, line);
        if (Number.isNaN(px) || Number.isNaN(qty) || !v.positiveTrade(px, qty, line)) continue;
        const ms = Number(tr['trade_time_ms']);
        const t = v.orderedTs(inst.id, RecordKind.TRADE, Number.isFinite(ms) ? ms * 1000 : tsInit, line);
        if (Number.isNaN(t)) continue;
        const side = tr['side'] === 'Buy' ? Side.BUY : tr['side'] === 'Sell' ? Side.SELL : NO_SIDE;
        out.push(RecordKind.TRADE, inst.id, t, tsInit, px, qty, side, 0, 0, 0, 0);
      }
      return true;
    }
    return false;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Hyperliquid (hftbacktest capture): "<local ns> {"channel":"l2Book"|"trades","data":...}".

class HyperliquidFeed implements JsonFormat {
  readonly venue: string;
  private readonly ctx: Ctx;
  constructor(ctx: Ctx, venue: string) {
    this.ctx = ctx;
    this.venue = venue;
  }
  prefix(text: string): { tsInit: number; start: number } {
    const sp = text.indexOf(' ');
    if (sp <= 0) return { tsInit: Number.NaN, start: -1 };
    return { tsInit: nsTextToMicros(text, 0, sp), start: sp + 1 };
  }
  typeOf(m: J): string {
    return String(m['channel'] ?? '');
  }
  scan(m: J, inf: StepInference): void {
    const d = m['data'];
    if (m['channel'] === 'l2Book') {
      const o = d as J;
      for (const side of (o['levels'] as J[][]) ?? []) {
        for (const lv of side) {
          inf.price(String(o['coin']), decimals(lv['px']));
          inf.size(String(o['coin']), decimals(lv['sz']));
        }
      }
    } else if (m['channel'] === 'trades' && Array.isArray(d)) {
      for (const t of d as J[]) {
        inf.price(String(t['coin']), decimals(t['px']));
        inf.size(String(t['coin']), decimals(t['sz']));
      }
    }
  }
  rows(m: J): number {
    const d = m['data'];
    if (Array.isArray(d)) return d.length;
    const lv = (d as J | undefined)?.['levels'];
    return Array.isArray(lv)
      ? lv.reduce((a: number, s: unknown) => a + (Array.isArray(s) ? s.length : 0), 0)
      : 0;
  }
  emit(m: J, tsInit: number, line: number, out: EventBatch): boolean {
    const ctx = this.ctx;
    const v = ctx.v;
    if (m['channel'] === 'l2Book') {
      const d = m['data'] as J;
      const inst = ctx.instrument(String(d['coin']), this.venue, 'USDC');
      const te = typeof d['time'] === 'number' ? d['time'] * 1000 : tsInit;
      const t = v.orderedTs(inst.id, RecordKind.DELTA, te, line);
      if (Number.isNaN(t)) return true;
      const lv = (d['levels'] as J[][]) ?? [];
      const start = out.length;
      const pick = (x: unknown): [unknown, unknown] | undefined => {
        const o = x as J;
        return typeof o === 'object' && o !== null ? [o['px'], o['sz']] : undefined;
      };
      if (
        !levels(ctx, out, inst, lv[0], Side.BUY, t, tsInit, 0, line, pick) ||
        !levels(ctx, out, inst, lv[1], Side.SELL, t, tsInit, 0, line, pick)
      ) {
        out.length = start;
        return true;
      }
      const bid = (lv[0]?.length ?? 0) > 0 ? out.a[start]! : Number.NaN;
      const ask = (lv[1]?.length ?? 0) > 0 ? out.a[start + (lv[0]?.length ?? 0)]! : Number.NaN;
      if (
        bid >= ask &&
        !v.problem('crossed_book', line, `l2Book top crossed: bid ${bid} >= ask ${ask} (ticks)`)
      ) {
        out.length = start;
        return true;
      }
      closeMessage(out, start, true);
      return true;
    }
    if (m['channel'] === 'trades' && Array.isArray(m['data'])) {
      for (const tr of m['data'] as J[]) {
        const inst = ctx.instrument(String(tr['coin']), this.venue, 'USDC');
        const px = ctx.px(tr['px'], inst, line);
        const qty = ctx.qty(tr['sz'], inst, line);
        if (Number.isNaN(px) || Number.isNaN(qty) || !v.positiveTrade(px, qty, line)) continue;
        const t = v.orderedTs(
          inst.id,
          RecordKind.TRADE,
          typeof tr['time'] === 'number' ? tr['time'] * 1000 : tsInit,
          line,
        );
        if (Number.isNaN(t)) continue;
        // side is the aggressor's: B bought (lifted the ask), A sold. tids are not ordered: kept, not checked.
        const side = tr['side'] === 'B' ? Side.BUY : tr['side'] === 'A' ? Side.SELL : NO_SIDE;
        const tid = typeof tr['tid'] === 'number' && Number.isSafeInteger(tr['tid']) ? tr['tid'] : 0;
        out.push(RecordKind.TRADE, inst.id, t, tsInit, px, qty, side, 0, 0, 0, tid);
      }
      return true;
    }
    return false;
  }
}

// ---------------------------------------------------------------------------------------------------------
// The driver.

async function* runJson(
  file: string,
  options: LoadOptions,
  report: ValidationReport,
  ctx: Ctx,
  fmt: JsonFormat,
): AsyncGenerator<EventBatch> {
  // Pre-scan for steps (every message: these captures are small; JSON.parse failures are reported below).
  for await (const { text } of messageLines(file, options)) {
    const { start } = fmt.prefix(text);
    if (start < 0) continue;
    try {
      fmt.scan(JSON.parse(start === 0 ? text : text.slice(start)) as J, ctx.inference);
    } catch {
      // reported in the main pass
    }
  }
  let batch = newBatch(options);
  const ignored = new Ignored();
  const progress = new ProgressTicker(file, options);
  const size = statSync(file).size;
  for await (const { text, line } of messageLines(file, options)) {
    if (text.length === 0) continue;
    const { tsInit, start } = fmt.prefix(text);
    if (start < 0) continue;
    report.rows++;
    let msg: J;
    try {
      const parsed: unknown = JSON.parse(start === 0 ? text : text.slice(start));
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
        ignored.add('non-object');
        continue;
      }
      msg = parsed as J;
    } catch (e) {
      ctx.v.malformed(line, `not valid JSON (${(e as Error).message}): ${JSON.stringify(text.slice(0, 80))}`);
      continue;
    }
    const need = fmt.rows(msg);
    if (batch.capacity - batch.length < need) {
      if (batch.length > 0) {
        tally(batch, report);
        yield batch;
        batch.clear();
      }
      if (batch.capacity < need) batch = newBatch({ ...options, batchSize: need });
    }
    const ts = Number.isNaN(tsInit) ? Number.NaN : tsInit;
    const first = batch.length;
    try {
      if (!fmt.emit(msg, ts, line, batch)) ignored.add(fmt.typeOf(msg));
    } catch (e) {
      // A Bot4Error is the strict policy's verdict; anything else is a message of a shape no format check
      // foresaw: its rows are taken back and it counts as malformed (naming the line), never a crash.
      if (isBot4Error(e)) throw e;
      batch.length = first;
      ctx.v.malformed(line, `message of an unexpected shape (${(e as Error).message})`);
    }
    if ((line & 1023) === 0) progress.tick(0, size, report.rows);
  }
  if (batch.length > 0) {
    tally(batch, report);
    yield batch;
    batch.clear();
  }
  ignored.note(report);
  progress.tick(size, size, report.rows, true);
}

const perpetual = () => InstrumentKind.PERPETUAL;
const spot = () => InstrumentKind.SPOT;

/** Bybit v5 order books and trades: public history ob500 zips, JSON-lines captures, single-message fixtures. */
export const bybitLoader: Loader = {
  name: 'bybit-v5',
  detect(file: string, head: string): boolean {
    if (/\.data\.zip$/i.test(file) && /bybit|ob\d+/i.test(file)) return true;
    return (
      /"topic"\s*:\s*"(orderbook\.\d+|publicTrade)\.[A-Z0-9]+"/.test(head) ||
      /"topic"\s*:\s*"trade\.(linear|spot|inverse)\./.test(head)
    );
  },
  load(file: string, options: LoadOptions, report: ValidationReport): AsyncIterable<EventBatch> {
    const ctx = new Ctx(report, options, perpetual);
    return runJson(file, options, report, ctx, new BybitV5(ctx, options.venue ?? 'BYBIT'));
  },
};

/** cryptofeed sample captures: Coinbase, Bybit (v2) and Binance (through the Binance parser). */
export const cryptofeedLoader: Loader = {
  name: 'cryptofeed-capture',
  detect(file: string, head: string): boolean {
    const name = file.replace(/\\/g, '/').split('/').pop() ?? '';
    return /^[A-Z_]+\.ws\.\d+\.\d+$/.test(name) || /^wss:\/\/\S+ <-> \d+(\.\d+)?\n/.test(head);
  },
  load(file: string, options: LoadOptions, report: ValidationReport): AsyncIterable<EventBatch> {
    const name = (file.replace(/\\/g, '/').split('/').pop() ?? '').toUpperCase();
    const head = readHeadBytes(file, 4096).toString('utf8');
    if (name.startsWith('BINANCE') || head.includes('binance.com')) {
      const market = name.startsWith('BINANCE_FUTURES')
        ? BinanceMarket.USDM
        : name.startsWith('BINANCE_DELIVERY')
          ? BinanceMarket.COINM
          : binanceMarketOf(file, head);
      return loadBinanceCapture(file, options, report, CaptureFormat.CRYPTOFEED, market);
    }
    if (name.startsWith('COINBASE') || head.includes('coinbase.com')) {
      const ctx = new Ctx(report, options, spot);
      return runJson(file, options, report, ctx, new CoinbaseFeed(ctx, options.venue ?? 'COINBASE'));
    }
    if (name.startsWith('BYBIT') || head.includes('bybit.com')) {
      const ctx = new Ctx(report, options, perpetual);
      return runJson(file, options, report, ctx, new BybitV2Feed(ctx, options.venue ?? 'BYBIT'));
    }
    throw new Bot4Error(
      ErrorCode.DATA_MALFORMED,
      `${file}: cryptofeed capture of an exchange this loader does not read (Binance, Coinbase and Bybit are supported)`,
      { file },
    );
  },
};

/** hftbacktest's Hyperliquid capture: l2Book snapshots (SNAPSHOT deltas) and trades. */
export const hyperliquidLoader: Loader = {
  name: 'hyperliquid-capture',
  detect(_file: string, head: string): boolean {
    return /^\d{16,19} \{"channel":"(l2Book|trades)"/.test(head);
  },
  load(file: string, options: LoadOptions, report: ValidationReport): AsyncIterable<EventBatch> {
    const ctx = new Ctx(report, options, perpetual);
    return runJson(file, options, report, ctx, new HyperliquidFeed(ctx, options.venue ?? 'HYPERLIQUID'));
  },
};
