// Loader for raw Binance websocket captures: hftbacktest's collector ("<local ns> <json>" per line, gzip) and
// cryptofeed's ("<unix s>: <json>", connection lines skipped). Every message goes through the one Binance
// parser; tsInit = local receive time, tsEvent = venue time (see messages.ts). Units: micros, ticks, lots.
//
// Book sync: collectors subscribe to the diff stream, then fetch a REST snapshot, so the snapshot line sits a
// few diffs into the file and is older than the diffs just before it. While an instrument's book is not in
// sync (no snapshot yet, or a gap since) its diffs are also kept in a bounded ring (256 messages); when a
// snapshot arrives it is emitted (SNAPSHOT rows, CLEAR on the first) and the buffered diffs newer than its
// lastUpdateId are emitted again after it (tsInit = the snapshot's, tsEvent = the snapshot's), which is
// Binance's documented procedure. A snapshot that arrives while the chain is intact is redundant (the book
// is already exact) and is dropped with a note, as are diffs older than a snapshot (Binance: discard them).

import { Bot4Error, ErrorCode } from '../../core/errors.ts';
import { BINANCE_VENUES, BinanceMarket } from '../../model/binance-instruments.ts';
import { type Instrument, InstrumentKind } from '../../model/instrument.ts';
import { DeltaFlag, type EventBatch, RecordKind } from '../../model/market-data.ts';
import { knownBinanceInstrument } from '../../venues/binance/known-instruments.ts';
import { BinanceParser, ParseResult } from '../../venues/binance/messages.ts';
import { readHeadText, readLineBytes, readLines } from '../lines.ts';
import type { Loader, LoadOptions, ValidationReport } from '../loader.ts';
import { addNote, SequenceRule, Validator } from '../validate.ts';
import {
  ensureInstrument,
  Ignored,
  moveRow,
  newBatch,
  nsBytesToMicros,
  ProgressTicker,
  StepInference,
  secondsBytesToMicros,
  splitSymbol,
  tally,
  tickSpec,
} from './tick-common.ts';

export const CaptureFormat = { HFTBACKTEST: 0, CRYPTOFEED: 1 } as const;
export type CaptureFormat = (typeof CaptureFormat)[keyof typeof CaptureFormat];

/** Diffs kept per unsynced instrument for replay after its snapshot. */
const RING = 256;

/** The Binance market of a capture: by folder or file name first, then by what the first messages show. */
export function binanceMarketOf(file: string, head: string): BinanceMarket {
  const f = file.replace(/\\/g, '/').toLowerCase();
  if (/\/spot\//.test(f)) return BinanceMarket.SPOT;
  if (/\/usdm\//.test(f) || f.includes('binance_futures')) return BinanceMarket.USDM;
  if (/\/(cm|coinm)\//.test(f) || f.includes('binance_delivery')) return BinanceMarket.COINM;
  if (/"s":\s*"[A-Z0-9]+_[A-Z0-9]+"/.test(head) || head.includes('dstream.binance'))
    return BinanceMarket.COINM;
  if (/"pu":/.test(head) || head.includes('fstream.binance')) return BinanceMarket.USDM;
  return BinanceMarket.SPOT;
}

/** Result of handling one message: done, or the batch needs flushing / steps need inferring first. */
const DONE = 0;
const NEED_ROOM = 1;
const NEED_INFERENCE = 2;

/** A diff kept for replay: its message bytes (a copy) and line. */
interface Replay {
  readonly bytes: Buffer;
  readonly line: number;
}

const EMPTY = Buffer.alloc(0);

/**
 * The last RING diffs of an unsynced instrument, as copies of their message bytes in per-slot buffers that are
 * reused (a capture without REST snapshots keeps every diff here, so a copy per message must not allocate).
 */
class DepthRing {
  private readonly bufs: Buffer[] = [];
  private readonly lens = new Int32Array(RING);
  private readonly lines = new Float64Array(RING);
  private head = 0;
  private count = 0;
  push(src: Buffer, from: number, to: number, line: number): void {
    let w: number;
    if (this.count === RING) {
      w = this.head;
      this.head = (this.head + 1) % RING;
    } else {
      w = (this.head + this.count) % RING;
      this.count++;
    }
    const len = to - from;
    let b = this.bufs[w];
    if (b === undefined || b.length < len) {
      b = Buffer.allocUnsafe(Math.max(len, 2 * (b?.length ?? 0), 512));
      this.bufs[w] = b;
    }
    src.copy(b, 0, from, to);
    this.lens[w] = len;
    this.lines[w] = line;
  }
  /** Moves the kept diffs, oldest first, to `queue` (as fresh copies) and empties the ring. */
  drainTo(queue: Replay[]): void {
    for (let k = 0; k < this.count; k++) {
      const w = (this.head + k) % RING;
      queue.push({ bytes: Buffer.from(this.bufs[w]!.subarray(0, this.lens[w]!)), line: this.lines[w]! });
    }
    this.head = 0;
    this.count = 0;
  }
}

class CaptureEngine {
  readonly file: string;
  readonly options: LoadOptions;
  readonly report: ValidationReport;
  readonly market: BinanceMarket;
  readonly venue: string;
  readonly rule: SequenceRule;
  readonly v: Validator;
  readonly parser: BinanceParser;
  batch: EventBatch;
  readonly ignored = new Ignored();
  inference: StepInference | undefined = undefined;
  private readonly rings = new Map<number, DepthRing>();
  private synced = new Uint8Array(8);
  readonly replayQueue: Replay[] = [];
  private snapTs = 0;
  private snapTsInit = 0;
  stale = 0;
  notReplayed = 0;
  redundantSnapshots = 0;
  replayed = 0;
  snapshots = 0;

  // The message being handled, msg[start, end) (kept so a NO_ROOM can re-run it after the flush).
  private msg: Buffer = EMPTY;
  private start = 0;
  private end = 0;
  private tsInit = 0;
  private line = 0;
  private replaying = false;

  constructor(file: string, options: LoadOptions, report: ValidationReport, market: BinanceMarket) {
    this.file = file;
    this.options = options;
    this.report = report;
    this.market = market;
    this.venue = options.venue ?? BINANCE_VENUES[market];
    this.rule = market === BinanceMarket.SPOT ? SequenceRule.SPOT : SequenceRule.FUTURES;
    this.v = new Validator(report, options.policies, options.strict);
    this.batch = newBatch(options);
    this.parser = new BinanceParser((sym) => this.resolve(sym));
    // Policy 'repair' for malformed rows lets depth sizes finer than the lot be rounded (see roundSizes).
    this.parser.roundSizes = this.v.policy('malformed_row') === 'repair';
  }

  private resolve(sym: string): Instrument | undefined {
    const reg = this.options.instruments;
    const have = reg.find(sym, this.venue);
    if (have !== undefined) return ensureInstrument(reg, have.spec, this.report, 'registered');
    const known = knownBinanceInstrument(this.market, sym, this.venue);
    if (known !== undefined) return ensureInstrument(reg, known.spec, this.report, known.source);
    const steps = this.inference?.steps(sym);
    if (steps === undefined) return undefined;
    const { base, quote } = splitSymbol(sym, this.market === BinanceMarket.COINM ? 'USD' : 'USDT');
    if (this.market === BinanceMarket.COINM) {
      // Binance's published rule: BTC contracts are worth 100 USD, every other coin's 10 USD.
      const multiplier = base === 'BTC' ? '100' : '10';
      return ensureInstrument(
        reg,
        tickSpec({
          symbol: sym,
          venue: this.venue,
          kind: InstrumentKind.PERPETUAL,
          base,
          quote,
          ...steps,
          isInverse: true,
          multiplier,
        }),
        this.report,
        `inferred from the decimals in the data; contract size ${multiplier} USD by Binance's rule`,
      );
    }
    const kind = this.market === BinanceMarket.SPOT ? InstrumentKind.SPOT : InstrumentKind.PERPETUAL;
    return ensureInstrument(
      reg,
      tickSpec({ symbol: sym, venue: this.venue, kind, base, quote, ...steps }),
      this.report,
      'inferred from the decimals in the data',
    );
  }

  /**
   * Sets the message for handle() from the line buf[from, to) (its "\n" excluded); returns false for lines
   * that carry no message (blank, connection logs).
   */
  setLine(buf: Buffer, from: number, to: number, line: number, format: CaptureFormat): boolean {
    if (to > from && buf[to - 1] === 13) to--;
    if (to === from) return false;
    if (format === CaptureFormat.HFTBACKTEST) {
      // hftbacktest writes 19-digit nanoseconds: look there first.
      let sp = from + 19 < to && buf[from + 19] === 32 ? from + 19 : from;
      while (sp < to && buf[sp] !== 32) sp++;
      this.report.rows++;
      const ts = sp > from && sp < to ? nsBytesToMicros(buf, from, sp) : Number.NaN;
      if (Number.isNaN(ts)) {
        this.v.malformed(
          line,
          `expected "<local ns> <json>", got ${preview(buf.toString('utf8', from, to))}`,
        );
        return false;
      }
      this.set(buf, sp + 1, to, ts, line, false);
      return true;
    }
    const c = buf[from]!;
    if (c < 48 || c > 57) return false; // "<url> <-> ..." connection and "<url> <- ..." subscription lines
    this.report.rows++;
    let colon = from;
    while (colon + 1 < to && !(buf[colon] === 58 && buf[colon + 1] === 32)) colon++;
    const ts = colon > from && colon + 1 < to ? secondsBytesToMicros(buf, from, colon) : Number.NaN;
    if (Number.isNaN(ts)) {
      this.v.malformed(
        line,
        `expected "<unix seconds>: <json>", got ${preview(buf.toString('utf8', from, to))}`,
      );
      return false;
    }
    this.set(buf, colon + 2, to, ts, line, false);
    return true;
  }

  private set(
    msg: Buffer,
    start: number,
    end: number,
    tsInit: number,
    line: number,
    replaying: boolean,
  ): void {
    this.msg = msg;
    this.start = start;
    this.end = end;
    this.tsInit = tsInit;
    this.line = line;
    this.replaying = replaying;
  }

  /** Next buffered diff to replay after a snapshot; false when none is left. */
  nextReplay(): boolean {
    const r = this.replayQueue.shift();
    if (r === undefined) return false;
    this.set(r.bytes, 0, r.bytes.length, this.snapTsInit, r.line, true);
    return true;
  }

  handle(): number {
    const p = this.parser;
    const out = this.batch;
    const rounded = p.roundedSizes;
    const r = p.parseBytes(this.msg, this.start, this.end, this.tsInit, out);
    if (p.roundedSizes !== rounded && r !== ParseResult.NO_ROOM) {
      const inst = p.instrument;
      this.v.problem(
        'malformed_row',
        this.line,
        `depth size ${p.lastRounded} is not a multiple of lot size ${inst?.lotSize.text ?? '?'} (${inst?.key ?? '?'}): ` +
          `rounded to the nearest lot (${p.roundedSizes - rounded} level(s) in this message)`,
      );
    }
    switch (r) {
      case ParseResult.NO_ROOM:
        return NEED_ROOM;
      case ParseResult.QUOTE:
        this.quote(out, p.rowStart, p.instrument!);
        break;
      case ParseResult.TRADE:
        this.trade(out, p.rowStart, p.instrument!);
        break;
      case ParseResult.DEPTH:
        this.depth(out, p.instrument!);
        break;
      case ParseResult.SNAPSHOT:
        this.snapshot(out, p.instrument!);
        break;
      case ParseResult.MARK: {
        const t = this.v.orderedTs(p.instrument!.id, RecordKind.MARK_PRICE, p.tsEvent, this.line);
        if (Number.isNaN(t)) out.length = p.rowStart;
        else for (let i = p.rowStart; i < out.length; i++) out.tsEvent[i] = t;
        break;
      }
      case ParseResult.UNKNOWN:
        this.ignored.add(p.eventType());
        break;
      case ParseResult.NO_INSTRUMENT:
        if (this.inference === undefined) return NEED_INFERENCE;
        this.v.malformed(this.line, p.describeError());
        break;
      case ParseResult.MALFORMED:
        this.v.malformed(
          this.line,
          `not valid JSON: ${preview(this.msg.toString('utf8', this.start, this.end))}`,
        );
        break;
      default:
        this.v.malformed(this.line, p.describeError());
        break;
    }
    if (p.instrument !== undefined) p.defaultInstrument = p.instrument;
    return DONE;
  }

  private quote(out: EventBatch, i: number, inst: Instrument): void {
    const v = this.v;
    if (!v.quote(out.a[i]!, out.b[i]!, out.c[i]!, out.d[i]!, this.line)) {
      out.length = i;
      return;
    }
    const t = v.orderedTs(inst.id, RecordKind.QUOTE, out.tsEvent[i]!, this.line);
    if (Number.isNaN(t)) out.length = i;
    else out.tsEvent[i] = t;
  }

  private trade(out: EventBatch, i: number, inst: Instrument): void {
    const v = this.v;
    if (!v.positiveTrade(out.a[i]!, out.b[i]!, this.line) || !v.tradeId(inst.id, out.seq[i]!, this.line)) {
      out.length = i;
      return;
    }
    const t = v.orderedTs(inst.id, RecordKind.TRADE, out.tsEvent[i]!, this.line);
    if (Number.isNaN(t)) out.length = i;
    else out.tsEvent[i] = t;
  }

  private isSynced(id: number): boolean {
    return id < this.synced.length && this.synced[id] === 1;
  }

  private setSynced(id: number, on: boolean): void {
    if (id >= this.synced.length) {
      const s = new Uint8Array(Math.max(id + 1, this.synced.length * 2));
      s.set(this.synced);
      this.synced = s;
    }
    this.synced[id] = on ? 1 : 0;
  }

  private depth(out: EventBatch, inst: Instrument): void {
    const p = this.parser;
    const v = this.v;
    const id = inst.id;
    const start = p.rowStart;
    if (!this.replaying && !this.isSynced(id)) {
      let ring = this.rings.get(id);
      if (ring === undefined) {
        ring = new DepthRing();
        this.rings.set(id, ring);
      }
      ring.push(this.msg, this.start, this.end, this.line);
    }
    if (v.staleDepth(id, this.rule, p.lastId)) {
      if (this.replaying) this.notReplayed++;
      else this.stale++;
      out.length = start;
      return;
    }
    const flags = v.depth(id, this.rule, p.firstId, p.lastId, p.prevId, this.line);
    if (flags === 0) {
      out.length = start;
      return;
    }
    if (flags === DeltaFlag.GAP) this.setSynced(id, false);
    // A level at price <= 0 is not a level; drop such rows (a size of 0 is a deletion, which is fine).
    let end = out.length;
    for (let i = start; i < end; i++) {
      if (out.a[i]! > 0) continue;
      const keep = v.problem('non_positive', this.line, `depth level price ${out.a[i]} ticks must be > 0`);
      if (keep) continue;
      for (let j = i + 1; j < end; j++) moveRow(out, j, j - 1);
      end--;
      out.length = end;
      i--;
    }
    if (end > start) {
      out.d[end - 1] = out.d[end - 1]! | DeltaFlag.LAST;
      if (flags === DeltaFlag.GAP) out.d[start] = out.d[start]! | DeltaFlag.GAP;
    } else if (flags === DeltaFlag.GAP) {
      v.deferGap(id);
    }
    let t: number;
    if (this.replaying) {
      t = this.snapTs;
      this.replayed++;
    } else {
      t = v.orderedTs(id, RecordKind.DELTA, p.tsEvent, this.line);
      if (Number.isNaN(t)) {
        out.length = start;
        return;
      }
    }
    for (let i = start; i < end; i++) out.tsEvent[i] = t;
  }

  private snapshot(out: EventBatch, inst: Instrument): void {
    const p = this.parser;
    const v = this.v;
    const id = inst.id;
    const start = p.rowStart;
    if (this.isSynced(id)) {
      this.redundantSnapshots++;
      out.length = start;
      return;
    }
    this.snapshots++;
    // The snapshot's event time: never before the diffs already emitted (it is applied after them); spot
    // REST snapshots carry no time at all, so the last diff's time (or, failing that, receive time) stands in.
    const last = v.lastTime(id, RecordKind.DELTA);
    const own = p.venueTime ? p.tsEvent : Number.NaN;
    let t = !Number.isNaN(last)
      ? !Number.isNaN(own) && own > last
        ? own
        : last
      : !Number.isNaN(own)
        ? own
        : this.tsInit;
    t = v.orderedTs(id, RecordKind.DELTA, t, this.line);
    for (let i = start; i < out.length; i++) out.tsEvent[i] = t;
    this.snapTs = t;
    this.snapTsInit = this.tsInit;
    v.snapshot(id, p.lastId);
    this.setSynced(id, true);
    const ring = this.rings.get(id);
    if (ring !== undefined) ring.drainTo(this.replayQueue);
  }

  growBatch(): void {
    const b = this.batch;
    this.batch = newBatch({ ...this.options, batchSize: b.capacity * 2 });
  }

  finishNotes(): void {
    const r = this.report;
    if (this.snapshots > 0) {
      addNote(
        r,
        `REST depth snapshots applied: ${this.snapshots}; diffs received before a snapshot and newer than it, ` +
          `emitted again after it: ${this.replayed}; older ones not repeated: ${this.notReplayed}`,
      );
    }
    if (this.redundantSnapshots > 0) {
      addNote(r, `REST depth snapshots dropped while the diff chain was intact: ${this.redundantSnapshots}`);
    }
    if (this.stale > 0)
      addNote(r, `depth diffs older than the last snapshot dropped (Binance procedure): ${this.stale}`);
    if (this.parser.fallbacks > 0)
      addNote(r, `messages read through the JSON.parse fallback: ${this.parser.fallbacks}`);
    this.ignored.note(r);
  }
}

function preview(s: string): string {
  return JSON.stringify(s.length > 80 ? `${s.slice(0, 80)}...` : s);
}

/** Collects decimals per symbol over the whole file (JSON.parse; only for symbols with no known metadata). */
async function inferSteps(file: string, format: CaptureFormat, options: LoadOptions): Promise<StepInference> {
  const inf = new StepInference();
  let lastSym = '';
  const levels = (sym: string, rows: unknown) => {
    if (!Array.isArray(rows)) return;
    for (const r of rows) {
      if (Array.isArray(r) && typeof r[0] === 'string' && typeof r[1] === 'string') {
        inf.priceText(sym, r[0]);
        inf.sizeText(sym, r[1]);
      }
    }
  };
  for await (const chunk of readLines(file, { signal: options.signal })) {
    for (let k = 0; k < chunk.count; k++) {
      const line = chunk.lines[k]!;
      const at = format === CaptureFormat.HFTBACKTEST ? line.indexOf(' ') + 1 : line.indexOf(': ') + 2;
      if (at <= 1 || line.charCodeAt(at) !== 123) continue;
      let o: Record<string, unknown>;
      try {
        o = JSON.parse(line.slice(at)) as Record<string, unknown>;
      } catch {
        continue;
      }
      const d = (typeof o['data'] === 'object' && o['data'] !== null ? o['data'] : o) as Record<
        string,
        unknown
      >;
      const sym =
        typeof d['s'] === 'string' ? d['s'] : typeof d['symbol'] === 'string' ? d['symbol'] : lastSym;
      if (sym === '') continue;
      lastSym = sym;
      levels(sym, d['b']);
      levels(sym, d['a']);
      levels(sym, d['bids']);
      levels(sym, d['asks']);
      for (const [pk, qk] of [
        ['b', 'B'],
        ['a', 'A'],
        ['p', 'q'],
      ] as const) {
        const pv = d[pk];
        const qv = d[qk];
        if (typeof pv === 'string' && typeof qv === 'string' && d['e'] !== 'markPriceUpdate') {
          inf.priceText(sym, pv);
          inf.sizeText(sym, qv);
        }
      }
    }
  }
  return inf;
}

/** Streams a Binance websocket capture through the parser and validator. */
export async function* loadBinanceCapture(
  file: string,
  options: LoadOptions,
  report: ValidationReport,
  format: CaptureFormat,
  market: BinanceMarket,
): AsyncGenerator<EventBatch> {
  const eng = new CaptureEngine(file, options, report, market);
  const progress = new ProgressTicker(file, options);
  let bytesRead = 0;
  let bytesTotal = 0;
  // Lines are read in place from the decompressed bytes: no string per line (see BinanceParser.parseBytes).
  for await (const step of readLineBytes(file, { signal: options.signal })) {
    const buf = step.buf;
    const n = buf.length;
    let from = 0;
    let line = step.firstLine;
    while (from < n) {
      let nl = buf.indexOf(10, from);
      if (nl < 0) nl = n;
      if (eng.setLine(buf, from, nl, line, format)) {
        let more = true;
        while (more) {
          let r = eng.handle();
          while (r !== DONE) {
            if (r === NEED_INFERENCE) {
              eng.inference = await inferSteps(file, format, options);
            } else if (eng.batch.length > 0) {
              tally(eng.batch, report);
              yield eng.batch;
              eng.batch.clear();
            } else {
              eng.growBatch();
            }
            r = eng.handle();
          }
          more = eng.nextReplay();
        }
      }
      from = nl + 1;
      line++;
    }
    bytesRead = step.bytesRead;
    bytesTotal = step.bytesTotal;
    progress.tick(bytesRead, bytesTotal, report.rows);
  }
  if (eng.batch.length > 0) {
    tally(eng.batch, report);
    yield eng.batch;
    eng.batch.clear();
  }
  eng.finishNotes();
  progress.tick(bytesTotal, bytesTotal, report.rows, true);
}

function isBinanceWsHead(head: string): boolean {
  return (
    /"e":\s*"(depthUpdate|bookTicker|trade|aggTrade|markPriceUpdate)"/.test(head) ||
    /"stream":\s*"[a-z0-9_]+@(depth|bookTicker|trade|aggTrade|markPrice)/.test(head)
  );
}

/** hftbacktest Binance captures: "<local ns> <json>" lines, usually gzip. */
export const hftbacktestBinanceLoader: Loader = {
  name: 'binance-ws-capture',
  detect(_file: string, head: string): boolean {
    return /^\d{16,19} \{/.test(head) && isBinanceWsHead(head);
  },
  load(file: string, options: LoadOptions, report: ValidationReport): AsyncIterable<EventBatch> {
    const market = binanceMarketFromOptions(options) ?? binanceMarketOf(file, readHeadText(file, 16 * 1024));
    return loadBinanceCapture(file, options, report, CaptureFormat.HFTBACKTEST, market);
  },
};

function binanceMarketFromOptions(options: LoadOptions): BinanceMarket | undefined {
  const v = options.venue;
  if (v === undefined) return undefined;
  if (v === BINANCE_VENUES.usdm) return BinanceMarket.USDM;
  if (v === BINANCE_VENUES.coinm) return BinanceMarket.COINM;
  if (v === BINANCE_VENUES.spot) return BinanceMarket.SPOT;
  return undefined;
}

/** Throws unless the market of a capture is one the loader knows; used by callers that pass it explicitly. */
export function requireMarket(m: string): BinanceMarket {
  if (m === BinanceMarket.SPOT || m === BinanceMarket.USDM || m === BinanceMarket.COINM) return m;
  throw new Bot4Error(
    ErrorCode.INVALID_ARGUMENT,
    `Binance market ${JSON.stringify(m)} is not one of spot, usdm, coinm`,
    {
      market: m,
    },
  );
}
