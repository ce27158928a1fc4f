// Replays a Binance capture (hftbacktest collector format: "<local ns> <raw websocket JSON>" per line, gzip)
// through BinanceDepthSync and checks the rebuilt book against the bookTicker stream of the same capture.
// A ticker is compared at its own update id u (bookTicker and depth share Binance's update-id sequence), not
// when it arrives: exactly when some depth event ends at u, by consistency when u falls inside an event.

import { createReadStream } from 'node:fs';
import { basename } from 'node:path';
import { createInterface } from 'node:readline';
import { createGunzip } from 'node:zlib';
import { Bot4Error, ErrorCode, isBot4Error } from '../core/errors.ts';
import type { Micros, PriceTicks } from '../core/units.ts';
import {
  BinanceDepthSync,
  type BinanceMarket,
  DepthEvent,
  type LevelArrays,
  SyncResult,
  SyncStart,
  SyncState,
} from './binance-sync.ts';
import { L2Book, Side } from './l2-book.ts';

export interface TickerCheckOptions {
  /** Capture files read in order as one stream (e.g. a day's file and its continuation). */
  files: readonly string[];
  market: BinanceMarket;
  /** 'snapshot' (default): sync from the REST snapshot lines in the capture; 'diffs': ignore them. */
  start?: SyncStart;
  /** Venue decimal string -> integer ticks / lots (the instrument's tick and lot size). */
  parsePrice: (s: string) => number;
  parseQty: (s: string) => number;
  /** Disagreements described in `examples`. Default 10. */
  maxExamples?: number;
}

export interface TickerCheckReport {
  files: string[];
  market: BinanceMarket;
  start: SyncStart;
  lines: number;
  depthEvents: number;
  snapshots: number;
  tickers: number;
  sync: {
    applied: number;
    dropped: number;
    gaps: number;
    resyncs: number;
    badLevels: number;
    bufferOverflows: number;
    crossedAfterApply: number;
    finalState: SyncState;
  };
  /** Tickers whose u is the final id of a depth event: the book state is exactly the ticker's. */
  exact: { compared: number; pricesAgreed: number; agreed: number; uncertain: number };
  /**
   * Tickers whose u falls strictly inside an aggregated depth event (the book never holds that state):
   * checked against the levels the event did not touch, which cannot have changed in between.
   */
  inside: {
    compared: number;
    consistent: number;
    uncertain: number;
    /** Failures where the ticker's level is in neither the event nor the book: it came and went inside. */
    transientTickerLevel: number;
    /** Failures where a better level the event did not list sits in the book: it went and came back. */
    untouchedBetterLevel: number;
  };
  /** Arrival order: the ticker against the book as it stands when the ticker arrives. */
  naive: { compared: number; agreed: number; tickerAhead: number; disagreedTickerAhead: number };
  /**
   * Tickers not compared: arrived while not in sync (before the snapshot, or passed by its replay), arrived
   * after the book had moved past their u (late), pending at a gap, or (naive only) top not proven.
   */
  skipped: { beforeSync: number; late: number; atGap: number; uncertainNaive: number };
  /** Median arrival delay of a depth event after the ticker that has its final id, ms (local clock). */
  depthLagMedianMs: number;
  examples: string[];
}

interface RawDepth {
  e: string;
  E: number;
  T?: number;
  U: number;
  u: number;
  pu?: number;
  b: [string, string][];
  a: [string, string][];
}

interface RawTicker {
  u: number;
  b: string;
  B: string;
  a: string;
  A: string;
}

interface RawSnapshot {
  lastUpdateId: number;
  E?: number;
  T?: number;
  bids: [string, string][];
  asks: [string, string][];
}

interface PendingTicker {
  u: number;
  bid: number;
  bidQty: number;
  ask: number;
  askQty: number;
  line: number;
  arrivalNs: number;
}

export async function compareBookWithTicker(options: TickerCheckOptions): Promise<TickerCheckReport> {
  const start = options.start ?? SyncStart.SNAPSHOT;
  const maxExamples = options.maxExamples ?? 10;
  const { parsePrice, parseQty } = options;
  const book = new L2Book();
  const sync = new BinanceDepthSync(book, { market: options.market, start });
  const ev = new DepthEvent();
  const snap = new DepthEvent();
  const pending: PendingTicker[] = [];
  let head = 0;
  const lags: number[] = [];
  const scratchPrices = new Float64Array(4096);
  const scratchQtys = new Float64Array(4096);

  const report: TickerCheckReport = {
    files: options.files.map((f) => basename(f)),
    market: options.market,
    start,
    lines: 0,
    depthEvents: 0,
    snapshots: 0,
    tickers: 0,
    sync: {
      applied: 0,
      dropped: 0,
      gaps: 0,
      resyncs: 0,
      badLevels: 0,
      bufferOverflows: 0,
      crossedAfterApply: 0,
      finalState: sync.state,
    },
    exact: { compared: 0, pricesAgreed: 0, agreed: 0, uncertain: 0 },
    inside: { compared: 0, consistent: 0, uncertain: 0, transientTickerLevel: 0, untouchedBetterLevel: 0 },
    naive: { compared: 0, agreed: 0, tickerAhead: 0, disagreedTickerAhead: 0 },
    skipped: { beforeSync: 0, late: 0, atGap: 0, uncertainNaive: 0 },
    depthLagMedianMs: Number.NaN,
    examples: [],
  };

  const example = (text: string) => {
    if (report.examples.length < maxExamples) report.examples.push(text);
  };
  const bookText = () =>
    `book u=${book.sequence} bid ${book.bestBid()}x${book.bestBidQty()} ask ${book.bestAsk()}x${book.bestAskQty()}`;
  const tickerText = (t: PendingTicker) =>
    `line ${t.line} ticker u=${t.u} bid ${t.bid}x${t.bidQty} ask ${t.ask}x${t.askQty}`;

  const compareExact = (t: PendingTicker) => {
    if (!sync.topCertain(Side.BID) || !sync.topCertain(Side.ASK)) {
      report.exact.uncertain++;
      return;
    }
    report.exact.compared++;
    const prices = book.bestBid() === t.bid && book.bestAsk() === t.ask;
    if (prices) report.exact.pricesAgreed++;
    if (prices && book.bestBidQty() === t.bidQty && book.bestAskQty() === t.askQty) report.exact.agreed++;
    else example(`exact: ${tickerText(t)}; ${bookText()}`);
  };

  /**
   * 1 consistent, -1 cannot tell (diffs mode, the ticker's level never seen), 0 an untouched better level
   * in the book, 2 the ticker's own untouched level has another size in the book.
   */
  const sideConsistent = (side: Side, price: number, qty: number, touched: LevelArrays): number => {
    const inEvent = (p: number) => {
      for (let i = 0; i < touched.count; i++) if (touched.prices[i] === p) return true;
      return false;
    };
    // Every level better than the ticker's must have been touched by the event: an untouched one existed
    // unchanged at the ticker's u and would have been its best.
    const n = book.depth(side, Math.min(touched.count + 1, scratchPrices.length), scratchPrices, scratchQtys);
    for (let i = 0; i < n; i++) {
      const p = scratchPrices[i]!;
      const better = side === Side.BID ? p > price : p < price;
      if (!better) break;
      if (!inEvent(p)) return 0;
    }
    if (inEvent(price)) return 1;
    if (!sync.hasSeen(side, price)) return -1;
    return book.qtyAt(side, price as PriceTicks) === qty ? 1 : 2;
  };

  const compareInside = (t: PendingTicker, e: DepthEvent) => {
    const b = sideConsistent(Side.BID, t.bid, t.bidQty, e.bids);
    const a = sideConsistent(Side.ASK, t.ask, t.askQty, e.asks);
    if (b === 0 || a === 0 || b === 2 || a === 2) {
      report.inside.compared++;
      if (b === 0 || a === 0) report.inside.untouchedBetterLevel++;
      else report.inside.transientTickerLevel++;
      const span = e.finalId - e.firstId + 1;
      example(`inside event U=${e.firstId} u=${e.finalId} (${span} ids): ${tickerText(t)}; ${bookText()}`);
    } else if (b === -1 || a === -1) {
      report.inside.uncertain++;
    } else {
      report.inside.compared++;
      report.inside.consistent++;
    }
  };

  const resolve = (e: DepthEvent, prevSeq: number, arrivalNs: number) => {
    while (head < pending.length && pending[head]!.u <= e.finalId) {
      const t = pending[head++]!;
      if (t.u === e.finalId) {
        lags.push((arrivalNs - t.arrivalNs) / 1e6);
        compareExact(t);
      } else if (t.u > prevSeq) compareInside(t, e);
      else report.skipped.late++;
    }
    if (head > 1024 && head * 2 > pending.length) {
      pending.splice(0, head);
      head = 0;
    }
  };

  const dropPending = () => {
    report.skipped.atGap += pending.length - head;
    pending.length = 0;
    head = 0;
  };

  const onTicker = (d: RawTicker, line: number, arrivalNs: number) => {
    report.tickers++;
    if (sync.state !== SyncState.IN_SYNC || sync.lastUpdateId < 0) {
      report.skipped.beforeSync++;
      return;
    }
    const t: PendingTicker = {
      u: d.u,
      bid: parsePrice(d.b),
      bidQty: parseQty(d.B),
      ask: parsePrice(d.a),
      askQty: parseQty(d.A),
      line,
      arrivalNs,
    };
    const ahead = t.u > book.sequence;
    if (sync.topCertain(Side.BID) && sync.topCertain(Side.ASK)) {
      report.naive.compared++;
      if (ahead) report.naive.tickerAhead++;
      if (book.bestBid() === t.bid && book.bestAsk() === t.ask) report.naive.agreed++;
      else if (ahead) report.naive.disagreedTickerAhead++;
    } else report.skipped.uncertainNaive++;
    if (t.u === book.sequence) compareExact(t);
    else if (ahead) pending.push(t);
    else report.skipped.late++;
  };

  const onDepth = (d: RawDepth, arrivalNs: number) => {
    report.depthEvents++;
    ev.reset();
    ev.firstId = d.U;
    ev.finalId = d.u;
    ev.prevFinalId = d.pu ?? -1;
    ev.tsEvent = ((d.T ?? d.E) * 1000) as Micros;
    fillLevels(ev.bids, d.b, parsePrice, parseQty);
    fillLevels(ev.asks, d.a, parsePrice, parseQty);
    const prevSeq = sync.lastUpdateId;
    const r = sync.onDepth(ev);
    if (r === SyncResult.APPLIED || r === SyncResult.APPLIED_WITH_REJECTS) resolve(ev, prevSeq, arrivalNs);
    else if (r === SyncResult.GAP) dropPending();
  };

  const onSnapshot = (d: RawSnapshot) => {
    report.snapshots++;
    if (start === SyncStart.DIFFS) return;
    snap.reset();
    snap.finalId = d.lastUpdateId;
    snap.tsEvent = ((d.T ?? d.E ?? 0) * 1000) as Micros;
    fillLevels(snap.bids, d.bids, parsePrice, parseQty);
    fillLevels(snap.asks, d.asks, parsePrice, parseQty);
    sync.onSnapshot(snap);
    // Tickers the replay went past cannot be placed on an exact state any more.
    while (head < pending.length && pending[head]!.u <= book.sequence) {
      head++;
      report.skipped.beforeSync++;
    }
  };

  for (const file of options.files) {
    const input = createReadStream(file).pipe(createGunzip());
    const lines = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
    let lineNo = 0;
    for await (const text of lines) {
      lineNo++;
      if (text.length === 0) continue;
      report.lines++;
      try {
        const space = text.indexOf(' ');
        if (space <= 0) throw new Error('no "<local ns> <json>" separator');
        const arrivalNs = Number(text.slice(0, space));
        const msg = JSON.parse(text.slice(space + 1)) as {
          stream?: string;
          data?: RawDepth | RawTicker;
          lastUpdateId?: number;
        };
        if (msg.data === undefined) {
          if (msg.lastUpdateId !== undefined) onSnapshot(msg as unknown as RawSnapshot);
        } else if ((msg.data as RawDepth).e === 'depthUpdate') {
          onDepth(msg.data as RawDepth, arrivalNs);
        } else if (msg.stream?.endsWith('@bookTicker')) {
          onTicker(msg.data as RawTicker, lineNo, arrivalNs);
        }
      } catch (e) {
        const why = isBot4Error(e) || e instanceof Error ? e.message : String(e);
        throw new Bot4Error(
          ErrorCode.DATA_MALFORMED,
          `${file}:${lineNo}: cannot use this capture line: ${why}`,
          { file, line: lineNo },
          { cause: e },
        );
      }
    }
  }

  report.sync = {
    applied: sync.applied,
    dropped: sync.dropped,
    gaps: sync.gaps,
    resyncs: sync.resyncs,
    badLevels: sync.badLevels,
    bufferOverflows: sync.bufferOverflows,
    crossedAfterApply: sync.crossedAfterApply,
    finalState: sync.state,
  };
  report.depthLagMedianMs = medianOf(lags);
  return report;
}

function fillLevels(
  out: LevelArrays,
  levels: [string, string][] | undefined,
  parsePrice: (s: string) => number,
  parseQty: (s: string) => number,
): void {
  if (!Array.isArray(levels)) throw new Error('depth message without a bids/asks array');
  for (const level of levels) out.push(parsePrice(level[0]), parseQty(level[1]));
}

function medianOf(values: number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

const pct = (n: number, d: number) => (d === 0 ? '-' : `${((100 * n) / d).toFixed(2)}%`);

/** One-line summary per report, for the CLI and test logs. */
export function formatTickerCheck(r: TickerCheckReport): string {
  return (
    `${r.files.join('+')} [${r.market}, from ${r.start}]: depth ${r.depthEvents} (applied ${r.sync.applied}, ` +
    `stale ${r.sync.dropped}, gaps ${r.sync.gaps}, crossed ${r.sync.crossedAfterApply}), tickers ${r.tickers}; ` +
    `exact ${r.exact.agreed}/${r.exact.compared} = ${pct(r.exact.agreed, r.exact.compared)} ` +
    `(uncertain ${r.exact.uncertain}); inside ${r.inside.consistent}/${r.inside.compared} = ` +
    `${pct(r.inside.consistent, r.inside.compared)} (uncertain ${r.inside.uncertain}, misses: transient ticker ` +
    `level ${r.inside.transientTickerLevel}, untouched better level ${r.inside.untouchedBetterLevel}); naive ` +
    `arrival-order ` +
    `${pct(r.naive.agreed, r.naive.compared)} (${r.naive.disagreedTickerAhead}/${r.naive.compared - r.naive.agreed} ` +
    `misses with the ticker ahead); depth lag ${r.depthLagMedianMs.toFixed(1)} ms`
  );
}
