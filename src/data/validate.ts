// Shared validation for the loaders: one Validator per load, bound to its report and policies. Each check
// is O(1) in time and memory per row (typed arrays indexed by instrument id), messages are built only when a
// problem occurs, and the policy decides: fail (throw naming file:line), skip (count, drop), repair (count, fix).
//
// What "repair" means, per problem (the only fixes that are honest without more data):
//   malformed_row    nothing to repair: same as skip.
//   out_of_order     keep the row with its event time clamped to the last one seen for (instrument, kind).
//   duplicate_trade  drop the duplicate (dropping is the repair): same as skip.
//   crossed_book     keep the quote as the venue sent it (crossed/locked tops do occur in real feeds).
//   sequence_gap     keep the message and set DeltaFlag.GAP on its first delta: without a REST snapshot the
//                    missing updates cannot be recovered, so the book must know it is out of sync until the
//                    next SNAPSHOT. skip drops the message after the gap (the chain continues from it).
//   non_positive     nothing to repair: same as skip.
//   inexact_volume   a bar's volume finer than the lot: rounded to the nearest lot (a measurement, not an order).
//
// Strict mode (`--strict`): any row a policy would drop is an error naming file:line, as under 'fail'; rows a
// repair keeps still pass (and are counted). Every problem lands in report.problems, the dropped ones also in
// report.dropped, so loadNotes() can say what was skipped and what was repaired.

import { Bot4Error, ErrorCode } from '../core/errors.ts';
import { DeltaFlag } from '../model/market-data.ts';
import {
  DEFAULT_POLICIES,
  type Policy,
  Problem,
  type ProblemExample,
  type ValidationReport,
} from './loader.ts';

/**
 * Delta flag set by loaders on the first delta after a sequence gap (repair policy): the book built so far
 * misses updates and stays unreliable until the next SNAPSHOT. Not in DeltaFlag (model) yet: proposed there.
 */

/** SNAPSHOT | CLEAR: the first delta of a full book image. */
export const SNAPSHOT_FIRST = DeltaFlag.SNAPSHOT | DeltaFlag.CLEAR;

/** Whether policy 'repair' keeps the row (true) or drops it (false, same as skip) for each problem. */
const REPAIR_KEEPS: Readonly<Record<Problem, boolean>> = {
  malformed_row: false,
  out_of_order: true,
  duplicate_trade: false,
  crossed_book: true,
  sequence_gap: true,
  non_positive: false,
  inexact_volume: true,
};

export const MAX_EXAMPLES = 5;

/** Binance depth-stream continuity rules: spot checks `U == prev u + 1`, futures `pu == prev u`. */
export const SequenceRule = { SPOT: 0, FUTURES: 1 } as const;
export type SequenceRule = (typeof SequenceRule)[keyof typeof SequenceRule];

export function addNote(report: ValidationReport, note: string): void {
  if (!report.notes.includes(note)) report.notes.push(note);
}

export class Validator {
  readonly report: ValidationReport;
  readonly file: string;
  private readonly policies: Record<Problem, Policy>;
  private readonly strict: boolean;
  /** Last event time per (instrument, kind): index instrument * 8 + kind. NaN = none yet. */
  private lastTs: Float64Array = new Float64Array(64).fill(Number.NaN);
  /** Last trade id per instrument (monotonic-id rule). */
  private lastTradeId: Float64Array = new Float64Array(8).fill(Number.NaN);
  /** Last depth update id (Binance `u`) per instrument, and the snapshot id awaiting its first diff. */
  private lastU: Float64Array = new Float64Array(8).fill(Number.NaN);
  private snapId: Float64Array = new Float64Array(8).fill(Number.NaN);
  private pendingGap = new Uint8Array(8);
  /** Event time a repaired (clamped) row should use; set by orderedTs. */
  clampedTs = 0;

  constructor(report: ValidationReport, policies: Partial<Record<Problem, Policy>> = {}, strict = false) {
    this.report = report;
    this.file = report.file;
    this.policies = { ...DEFAULT_POLICIES, ...policies };
    this.strict = strict;
  }

  policy(kind: Problem): Policy {
    return this.policies[kind];
  }

  /**
   * Records a problem at `line` and applies its policy: throws (fail, or strict when the row would be dropped),
   * or returns whether the row is kept (repair where the problem has a safe repair) or dropped (skip).
   * `canKeep` false: the caller drops the row whatever the policy (e.g. a repeated bar time).
   */
  problem(kind: Problem, line: number, message: string, canKeep = true): boolean {
    const policy = this.policies[kind];
    const keep = canKeep && policy === 'repair' && REPAIR_KEEPS[kind];
    if (policy === 'fail' || (this.strict && !keep)) {
      const why = policy === 'fail' ? '' : ' (--strict: no row may be skipped)';
      throw new Bot4Error(ErrorCode.DATA_MALFORMED, `${this.file}:${line}: ${kind}: ${message}${why}`, {
        file: this.file,
        line,
        problem: kind,
      });
    }
    const r = this.report;
    r.problems[kind]++;
    if (!keep) r.dropped[kind] = (r.dropped[kind] ?? 0) + 1;
    let ex = r.examples[kind];
    if (ex === undefined) {
      ex = [];
      r.examples[kind] = ex;
    }
    if (ex.length < MAX_EXAMPLES) ex.push({ line, message } satisfies ProblemExample);
    return keep;
  }

  malformed(line: number, message: string): false {
    this.problem(Problem.MALFORMED_ROW, line, message);
    return false;
  }

  private grow(a: Float64Array, need: number): Float64Array {
    let n = a.length;
    while (n <= need) n *= 2;
    const b = new Float64Array(n).fill(Number.NaN);
    b.set(a);
    return b;
  }

  private ensureInstrument(instrument: number): void {
    if (instrument >= this.lastTradeId.length) {
      this.lastTradeId = this.grow(this.lastTradeId, instrument);
      this.lastU = this.grow(this.lastU, instrument);
      this.snapId = this.grow(this.snapId, instrument);
      const g = new Uint8Array(this.lastU.length);
      g.set(this.pendingGap);
      this.pendingGap = g;
    }
  }

  /**
   * Non-decreasing event time per (instrument, kind). Returns the time to use: `ts` when in order, the
   * previous time when out of order and repaired (clamped), NaN when the row is to be dropped.
   */
  orderedTs(instrument: number, kind: number, ts: number, line: number): number {
    const k = instrument * 8 + kind;
    if (k >= this.lastTs.length) this.lastTs = this.grow(this.lastTs, k);
    const last = this.lastTs[k]!;
    if (!(ts < last)) {
      this.lastTs[k] = ts;
      return ts;
    }
    const keep = this.problem(
      Problem.OUT_OF_ORDER,
      line,
      `event time ${ts} us is before the previous ${last} us for the same instrument and record kind (instrument ${instrument}, kind ${kind})`,
    );
    return keep ? last : Number.NaN;
  }

  /** Last accepted event time for (instrument, kind), NaN if none. */
  lastTime(instrument: number, kind: number): number {
    const k = instrument * 8 + kind;
    return k < this.lastTs.length ? this.lastTs[k]! : Number.NaN;
  }

  /**
   * Duplicate trades by the monotonic-id rule: venues with numeric trade ids (Binance, Coinbase) issue them
   * in increasing order per symbol, so an id at or below the last one seen is a repeat. Constant memory; ids
   * of 0 (unknown, or string ids the loader did not intern) are not checked. Returns whether to keep the row.
   */
  tradeId(instrument: number, id: number, line: number): boolean {
    if (id === 0) return true;
    this.ensureInstrument(instrument);
    const last = this.lastTradeId[instrument]!;
    if (!(id <= last)) {
      this.lastTradeId[instrument] = id;
      return true;
    }
    return this.problem(
      Problem.DUPLICATE_TRADE,
      line,
      `trade id ${id} is not above the last id ${last} for instrument ${instrument} (ids increase per symbol)`,
    );
  }

  /** Price and size of a trade must be > 0. */
  positiveTrade(px: number, qty: number, line: number): boolean {
    if (px > 0 && qty > 0) return true;
    return this.problem(
      Problem.NON_POSITIVE,
      line,
      `trade price ${px} ticks and size ${qty} lots must both be > 0`,
    );
  }

  /**
   * A quote with both sides present must have bid < ask (locked bid == ask counts as crossed too). A side with
   * zero size is absent (an empty book side) and is not checked; negative values are non_positive.
   */
  quote(bidPx: number, bidQty: number, askPx: number, askQty: number, line: number): boolean {
    if (bidPx < 0 || askPx < 0 || bidQty < 0 || askQty < 0) {
      return this.problem(
        Problem.NON_POSITIVE,
        line,
        `quote has a negative value: bid ${bidPx}x${bidQty}, ask ${askPx}x${askQty} (ticks x lots)`,
      );
    }
    if (bidQty > 0 && askQty > 0 && bidPx >= askPx) {
      return this.problem(
        Problem.CROSSED_BOOK,
        line,
        `${bidPx === askPx ? 'locked' : 'crossed'} quote: bid ${bidPx} >= ask ${askPx} (ticks)`,
      );
    }
    return true;
  }

  /** Records a full-book snapshot with update id `lastUpdateId` (Binance REST lastUpdateId). */
  snapshot(instrument: number, lastUpdateId: number): void {
    this.ensureInstrument(instrument);
    this.snapId[instrument] = lastUpdateId;
    this.lastU[instrument] = lastUpdateId;
    this.pendingGap[instrument] = 0;
  }

  /**
   * True when a diff ending at update id `u` is entirely covered by the last snapshot of the instrument
   * (Binance: drop it; spot when u <= lastUpdateId, futures when u < lastUpdateId).
   */
  staleDepth(instrument: number, rule: SequenceRule, u: number): boolean {
    this.ensureInstrument(instrument);
    const s = this.snapId[instrument]!;
    return !Number.isNaN(s) && (rule === SequenceRule.SPOT ? u <= s : u < s);
  }

  /**
   * Binance depth continuity. After a snapshot with id L the first diff must straddle it (spot U <= L+1 <= u,
   * futures U <= L <= u); after that spot needs U == prev u + 1 and futures pu == prev u. The first diff of
   * a stream has nothing to continue and passes. Returns 0 to drop the message, else the flags for its first
   * delta (DeltaFlag.GAP after a repaired gap, 1 otherwise: non-zero means keep).
   */
  depth(instrument: number, rule: SequenceRule, U: number, u: number, pu: number, line: number): number {
    this.ensureInstrument(instrument);
    const last = this.lastU[instrument]!;
    const snap = this.snapId[instrument]!;
    let ok: boolean;
    let expected: string;
    if (Number.isNaN(last)) {
      ok = true;
      expected = '';
    } else if (!Number.isNaN(snap)) {
      ok = rule === SequenceRule.SPOT ? U <= snap + 1 && u >= snap + 1 : U <= snap && u >= snap;
      expected =
        rule === SequenceRule.SPOT
          ? `the first diff after snapshot ${snap} to have U <= ${snap + 1} <= u`
          : `the first diff after snapshot ${snap} to have U <= ${snap} <= u`;
    } else if (rule === SequenceRule.SPOT) {
      ok = U === last + 1;
      expected = `U == ${last + 1} (previous u + 1)`;
    } else {
      ok = pu === last;
      expected = `pu == ${last} (previous u)`;
    }
    this.lastU[instrument] = u;
    this.snapId[instrument] = Number.NaN;
    if (ok) {
      if (this.pendingGap[instrument] === 1) {
        this.pendingGap[instrument] = 0;
        return DeltaFlag.GAP;
      }
      return 1;
    }
    const keep = this.problem(
      Problem.SEQUENCE_GAP,
      line,
      `depth update U=${U} u=${u}${!Number.isNaN(pu) ? ` pu=${pu}` : ''} does not continue the chain: expected ${expected}`,
    );
    if (!keep) return 0;
    return DeltaFlag.GAP;
  }

  /** A kept message after a gap had no deltas to carry the flag: carry it to the instrument's next message. */
  deferGap(instrument: number): void {
    this.ensureInstrument(instrument);
    this.pendingGap[instrument] = 1;
  }
}

/** Adds a record to the report's counts and time range (by record kind name). */
export function countRecords(report: ValidationReport, kindName: string, n: number): void {
  if (n === 0) return;
  report.records[kindName] = (report.records[kindName] ?? 0) + n;
}

/** Widens the report's time range to include [first, last] (micros). */
export function widenRange(report: ValidationReport, first: number, last: number): void {
  if (first < report.firstTs) report.firstTs = first;
  if (last > report.lastTs) report.lastTs = last;
}

export function addInstrument(report: ValidationReport, key: string): void {
  if (!report.instruments.includes(key)) report.instruments.push(key);
}

/**
 * What a load skipped and repaired, one line per problem kind (count, first file:line, the reason), then the
 * loader's own notes: the text every command shows on stderr and puts in its report, so no row goes unsaid.
 */
export function loadNotes(report: ValidationReport): string[] {
  const out: string[] = [];
  const name = report.file;
  for (const [kind, n] of Object.entries(report.problems) as [Problem, number][]) {
    if (!(n > 0)) continue;
    const dropped = report.dropped[kind] ?? 0;
    const what =
      dropped === n ? 'skipped' : dropped === 0 ? 'repaired' : `${dropped} skipped, ${n - dropped} repaired`;
    const first = report.examples[kind]?.[0];
    out.push(
      `${name}: ${n} of ${report.rows} rows ${kind} (${what})` +
        (first === undefined ? '' : `; first at line ${first.line}: ${first.message}`),
    );
  }
  for (const note of report.notes) out.push(`${name}: ${note}`);
  return out;
}

/** Rows the load dropped, over every problem kind. */
export function droppedRows(report: ValidationReport): number {
  let n = 0;
  for (const v of Object.values(report.dropped)) n += v ?? 0;
  return n;
}
