// Tick-to-trade split into stages, for the live node's status line and the `live.tick_to_trade` bench.
// A market event that sends an order is stamped (monotonic ns, one clock for all stamps) at:
//   read      the socket's bytes reach JavaScript ('data' on the market-data socket, before ws decodes them),
//             or the feed worker's read when the feed runs on a worker (its clock is shifted onto this one),
//   parsed    the frame is decoded into a row (ticks/lots) on the engine thread,
//   decision  the strategy's order request reaches the engine (the INITIALIZED event),
//   risk      the order passed validation and the risk engine (the SUBMITTED event),
//   written   the signed request was handed to the order socket (the write returned),
// and each stage's span goes to its own histogram. The tick-to-trade figure itself is frame -> written (the
// frame's own path: ws delivered it, as the "message in to bytes out"); read -> written adds the wait
// behind earlier frames of the same socket read (a burst), kept apart as `fromRead`.
// Only the first order an event sends is split (a second order's decision comes after the first's write).
// Hot path: no allocation; stamps are plain number fields.

import { monoNanos } from '../core/clock.ts';
import { HdrHistogram } from '../monitoring/latency.ts';

export const T2T_STAGES = [
  'read_to_parsed',
  'parsed_to_decision',
  'decision_to_risk',
  'risk_to_written',
  // Finer splits of two of the stages above: frames queued in one read and their decoding; signing and the write.
  'read_to_frame',
  'frame_to_parsed',
  'risk_to_signed',
  'signed_to_written',
] as const;
export type T2TStage = (typeof T2T_STAGES)[number];

export class TickToTradeStages {
  /** frame -> written for every event that sent an order, ns (the tick-to-trade figure). */
  readonly total: HdrHistogram;
  /** read -> written: the same plus the wait behind the frames ahead in the same socket read, ns. */
  readonly fromRead = new HdrHistogram();
  readonly stage: Record<T2TStage, HdrHistogram> = {
    read_to_parsed: new HdrHistogram(),
    parsed_to_decision: new HdrHistogram(),
    decision_to_risk: new HdrHistogram(),
    risk_to_written: new HdrHistogram(),
    read_to_frame: new HdrHistogram(),
    frame_to_parsed: new HdrHistogram(),
    risk_to_signed: new HdrHistogram(),
    signed_to_written: new HdrHistogram(),
  };
  /** Stamps of the event being handled (0: not reached yet). */
  private decisionNs = 0;
  private riskNs = 0;

  /** `total` is shared with the metrics probe when there is one. */
  constructor(total: HdrHistogram = new HdrHistogram()) {
    this.total = total;
  }

  /** A market event starts: forget the previous event's stamps. */
  begin(): void {
    this.decisionNs = 0;
    this.riskNs = 0;
  }

  /** An order was created from a strategy's request. */
  onDecision(): void {
    if (this.decisionNs === 0) this.decisionNs = monoNanos();
  }

  /** An order passed risk and leaves for the venue. */
  onRiskPassed(): void {
    if (this.riskNs === 0 && this.decisionNs !== 0) this.riskNs = monoNanos();
  }

  /**
   * The event sent an order: records its stages. `frameNs`: ws delivered the frame; `signedNs`/`writtenNs`:
   * the request was signed / the order socket's write returned, or 0 when the venue is simulated (then the
   * event's end, `endNs`, stands for both).
   */
  record(
    readNs: number,
    frameNs: number,
    parsedNs: number,
    signedNs: number,
    writtenNs: number,
    endNs: number,
  ): void {
    const live = writtenNs !== 0 && signedNs >= this.riskNs && writtenNs >= signedNs;
    const out = live ? writtenNs : endNs;
    this.total.record(out - frameNs);
    this.fromRead.record(out - readNs);
    if (this.riskNs === 0) return;
    const s = this.stage;
    s.read_to_parsed.record(parsedNs - readNs);
    s.parsed_to_decision.record(this.decisionNs - parsedNs);
    s.decision_to_risk.record(this.riskNs - this.decisionNs);
    s.risk_to_written.record(out - this.riskNs);
    s.read_to_frame.record(frameNs - readNs);
    s.frame_to_parsed.record(parsedNs - frameNs);
    if (!live) return;
    s.risk_to_signed.record(signedNs - this.riskNs);
    s.signed_to_written.record(writtenNs - signedNs);
  }

  reset(): void {
    this.total.reset();
    this.fromRead.reset();
    for (const k of T2T_STAGES) this.stage[k].reset();
  }

  /** p50 and p99 of every stage and the total, ns, keyed `<stage>_p50_ns` (bench extras, reports). */
  figures(): Record<string, number> {
    const out: Record<string, number> = {
      read_to_written_p50_ns: this.fromRead.valueAtPercentile(50),
      read_to_written_p99_ns: this.fromRead.valueAtPercentile(99),
    };
    for (const k of T2T_STAGES) {
      out[`${k}_p50_ns`] = this.stage[k].valueAtPercentile(50);
      out[`${k}_p99_ns`] = this.stage[k].valueAtPercentile(99);
    }
    return out;
  }
}
