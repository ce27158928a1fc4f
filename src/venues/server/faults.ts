// Fault switches: what a client of a real exchange meets on a bad day, on demand. A FaultSet holds the
// switches; the server has one global set and one per WebSocket connection, and a switch applies when either
// set has it. Counted switches (gap, malformed, truncated, ack) fire that many times and then turn off.
// Reached in-process (ExchangeServer.faults) and through POST /admin/faults (loopback + admin token).

export const AckFault = { NONE: 'none', DELAY: 'delay', LOSE: 'lose' } as const;
export type AckFault = (typeof AckFault)[keyof typeof AckFault];

export interface FaultSpec {
  /** Server clock offset, ms: `time` answers with it and timestamps are checked against it. */
  clockSkewMs?: number;
  /** Replace the REQUEST_WEIGHT limit (e.g. 10 to reach 429, then 418, in a few requests). */
  weightLimit?: number;
  /** Drop the next N depth-diff messages (the client sees U != last u + 1). */
  depthGap?: number;
  /** Send the next N market-stream messages as text that is not JSON. */
  malformed?: number;
  /** Send the next N market-stream messages cut in half. */
  truncated?: number;
  /** The next `ackCount` order acknowledgements are delayed by `ackDelayMs` or lost; the order still rests. */
  ack?: AckFault;
  ackDelayMs?: number;
  ackCount?: number;
}

export class FaultSet {
  clockSkewMs = 0;
  depthGap = 0;
  malformed = 0;
  truncated = 0;
  ack: AckFault = AckFault.NONE;
  ackDelayMs = 0;
  ackCount = 0;

  set(spec: FaultSpec): void {
    if (spec.clockSkewMs !== undefined) this.clockSkewMs = num(spec.clockSkewMs, 'clockSkewMs');
    if (spec.depthGap !== undefined) this.depthGap = count(spec.depthGap, 'depthGap');
    if (spec.malformed !== undefined) this.malformed = count(spec.malformed, 'malformed');
    if (spec.truncated !== undefined) this.truncated = count(spec.truncated, 'truncated');
    if (spec.ack !== undefined) {
      if (spec.ack !== 'none' && spec.ack !== 'delay' && spec.ack !== 'lose') {
        throw new RangeError(`ack must be none, delay or lose (got ${String(spec.ack)})`);
      }
      this.ack = spec.ack;
      this.ackCount = spec.ackCount === undefined ? 1 : count(spec.ackCount, 'ackCount');
      this.ackDelayMs = spec.ackDelayMs === undefined ? 1000 : count(spec.ackDelayMs, 'ackDelayMs');
    }
  }

  clear(): void {
    this.clockSkewMs = 0;
    this.depthGap = 0;
    this.malformed = 0;
    this.truncated = 0;
    this.ack = AckFault.NONE;
    this.ackDelayMs = 0;
    this.ackCount = 0;
  }

  snapshot(): FaultSpec {
    return {
      clockSkewMs: this.clockSkewMs,
      depthGap: this.depthGap,
      malformed: this.malformed,
      truncated: this.truncated,
      ack: this.ack,
      ackDelayMs: this.ackDelayMs,
      ackCount: this.ackCount,
    };
  }
}

function num(v: unknown, name: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new RangeError(`${name} must be a number`);
  return v;
}

function count(v: unknown, name: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) {
    throw new RangeError(`${name} must be a whole number >= 0`);
  }
  return v;
}

/** How a frame leaves the server under the switches of its connection and the global set. */
export const FrameFault = { NONE: 0, DROP_GAP: 1, MALFORMED: 2, TRUNCATED: 3 } as const;
export type FrameFault = (typeof FrameFault)[keyof typeof FrameFault];

/** Takes one shot of a counted frame switch (connection first, then global); NONE when none is armed. */
export function takeFrameFault(conn: FaultSet, global: FaultSet, depth: boolean): FrameFault {
  for (const s of [conn, global]) {
    if (depth && s.depthGap > 0) {
      s.depthGap--;
      return FrameFault.DROP_GAP;
    }
    if (s.malformed > 0) {
      s.malformed--;
      return FrameFault.MALFORMED;
    }
    if (s.truncated > 0) {
      s.truncated--;
      return FrameFault.TRUNCATED;
    }
  }
  return FrameFault.NONE;
}

/** Takes one shot of the ack switch: the delay in ms, -1 to lose the ack, 0 for none. */
export function takeAckFault(conn: FaultSet | null, global: FaultSet): number {
  for (const s of conn === null ? [global] : [conn, global]) {
    if (s.ack !== AckFault.NONE && s.ackCount > 0) {
      s.ackCount--;
      const r = s.ack === AckFault.LOSE ? -1 : Math.max(1, s.ackDelayMs);
      if (s.ackCount === 0) s.ack = AckFault.NONE;
      return r;
    }
  }
  return 0;
}
