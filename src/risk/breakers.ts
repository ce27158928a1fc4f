// Circuit breakers, global, per venue and per strategy: CLOSED (orders pass), OPEN (new orders denied until a
// cool-down on the engine clock ends), HALF_OPEN (a few probe orders pass; their success closes, a failure reopens).
// The hot-path check is three Uint8Array reads. Units: times in Micros, latency in ns, losses in money units.

import type { Clock } from '../core/clock.ts';
import type { MessageBus, Topic } from '../core/message-bus.ts';
import type { Micros } from '../core/units.ts';

export const BREAKER_EVENTS_TOPIC = 'risk.breakers';

export const BreakerState = { CLOSED: 0, OPEN: 1, HALF_OPEN: 2 } as const;
export type BreakerState = (typeof BreakerState)[keyof typeof BreakerState];
const STATE_NAMES = ['CLOSED', 'OPEN', 'HALF_OPEN'] as const;
export function breakerStateName(s: number): string {
  return STATE_NAMES[s] ?? `BreakerState(${s})`;
}

export const BreakerScope = { GLOBAL: 0, VENUE: 1, STRATEGY: 2 } as const;
export type BreakerScope = (typeof BreakerScope)[keyof typeof BreakerScope];
const SCOPE_NAMES = ['global', 'venue', 'strategy'] as const;
export function breakerScopeName(s: number): string {
  return SCOPE_NAMES[s] ?? `BreakerScope(${s})`;
}

/** Why a breaker changed state. */
export const BreakerReason = {
  NONE: 0,
  REJECT_RATE: 1,
  ERROR_RATE: 2,
  CONSECUTIVE_REJECTS: 3,
  LATENCY: 4,
  STALE_DATA: 5,
  LOSS: 6,
  MANUAL: 7,
  /** A probe order failed in HALF_OPEN. */
  PROBE_FAILED: 8,
  /** OPEN -> HALF_OPEN. */
  COOLDOWN_OVER: 9,
  /** HALF_OPEN -> CLOSED. */
  PROBES_OK: 10,
  /** Closed by an operator. */
  RESET: 11,
} as const;
export type BreakerReason = (typeof BreakerReason)[keyof typeof BreakerReason];
const REASON_NAMES = [
  'none',
  'reject rate',
  'error rate',
  'consecutive rejects',
  'venue latency',
  'stale market data',
  'loss in window',
  'manual trip',
  'probe failed',
  'cool-down over',
  'probes succeeded',
  'reset',
] as const;
export function breakerReasonName(r: number): string {
  return REASON_NAMES[r] ?? `BreakerReason(${r})`;
}

/** A state change, published on BREAKER_EVENTS_TOPIC. Preallocated and reused: copy what you keep. */
export class BreakerEvent {
  scope: BreakerScope = BreakerScope.GLOBAL;
  /** Venue or strategy id; 0 for the global breaker. */
  id = 0;
  from: BreakerState = BreakerState.CLOSED;
  to: BreakerState = BreakerState.CLOSED;
  reason: BreakerReason = BreakerReason.NONE;
  /** The measured figure that tripped it (rate 0..1, count, ns, money units, us of silence) and its limit. */
  value = 0;
  threshold = 0;
  ts = 0 as Micros;

  toString(): string {
    return (
      `breaker ${breakerScopeName(this.scope)}${this.scope === BreakerScope.GLOBAL ? '' : ` ${this.id}`} ` +
      `${breakerStateName(this.from)} -> ${breakerStateName(this.to)}: ${breakerReasonName(this.reason)}` +
      (this.threshold !== 0 ? ` (${this.value} vs limit ${this.threshold})` : '')
    );
  }
}

export interface BreakerOptions {
  cooldownUs: number;
  halfOpenProbes: number;
  windowUs: number;
  minSamples: number;
  /** 0..1; > 1 disables. */
  maxRejectRate: number;
  maxErrorRate: number;
  /** Infinity disables. */
  maxConsecutiveRejects: number;
  /** Infinity disables. */
  maxLatencyNs: number;
  latencyBreaches: number;
  /** 0 disables. */
  staleDataUs: number;
  /** Money units; Infinity disables. */
  maxLossInWindow: number;
}

export const DEFAULT_BREAKER_OPTIONS: BreakerOptions = {
  cooldownUs: 60_000_000,
  halfOpenProbes: 1,
  windowUs: 60_000_000,
  minSamples: 20,
  maxRejectRate: 0.5,
  maxErrorRate: 0.5,
  maxConsecutiveRejects: 10,
  maxLatencyNs: Number.POSITIVE_INFINITY,
  latencyBreaches: 3,
  staleDataUs: 0,
  maxLossInWindow: Number.POSITIVE_INFINITY,
};

/** Window buckets: counts age out one tenth of the window at a time. */
const BUCKETS = 10;

/**
 * Which breaker judges what: reject and error rates trip global, venue and strategy breakers; consecutive
 * rejects venue and strategy (one bad venue should not stop the others); latency and stale data the venue;
 * losses the strategy and global breakers.
 */
export class CircuitBreakers {
  readonly options: BreakerOptions;
  /** 1 while new orders must be denied (OPEN, or HALF_OPEN with its probes out). Slot layout in slotOf*. */
  blocked: Uint8Array = new Uint8Array(0);
  private state: Uint8Array = new Uint8Array(0);
  private reopenAt: Float64Array = new Float64Array(0);
  private timerOf: Float64Array = new Float64Array(0);
  private bucketNo: Float64Array = new Float64Array(0);
  /** bucketNo % BUCKETS, kept apart: `%` on a double (bucket numbers of µs timestamps) is a call to fmod. */
  private bucketIdx: Int32Array = new Int32Array(0);
  private sent: Int32Array = new Int32Array(0);
  private rejects: Int32Array = new Int32Array(0);
  private errors: Int32Array = new Int32Array(0);
  private losses: Float64Array = new Float64Array(0);
  private consecutive: Int32Array = new Int32Array(0);
  private latencyRun: Int32Array = new Int32Array(0);
  private probesSent: Int32Array = new Int32Array(0);
  private probesOk: Int32Array = new Int32Array(0);
  /** Last market-data time per venue slot (starts at construction: a grace period at start-up). */
  private lastData: Float64Array = new Float64Array(0);
  private slots = 0;
  private readonly bucketUs: number = 1;
  private readonly startedAt: number = 0;
  private readonly clock: Clock;
  private readonly bus: MessageBus | undefined;
  private readonly topic: Topic<BreakerEvent> | undefined;
  private readonly events: BreakerEvent[] = [new BreakerEvent(), new BreakerEvent(), new BreakerEvent()];
  private depth = 0;
  private readonly timers = new Map<number, number>();
  private readonly onTimer = (_at: Micros, timerId: number): void => this.cooldownOver(timerId);
  /** Trips and state changes so far, for diagnostics. */
  transitions = 0;

  constructor(options: Partial<BreakerOptions>, clock: Clock, bus?: MessageBus, venues = 4, strategies = 16) {
    this.options = { ...DEFAULT_BREAKER_OPTIONS, ...options };
    this.clock = clock;
    this.bus = bus;
    this.topic = bus?.topic<BreakerEvent>(BREAKER_EVENTS_TOPIC);
    this.bucketUs = this.options.windowUs / BUCKETS;
    this.startedAt = clock.now();
    this.grow(Math.max(slotOfVenue(venues - 1), slotOfStrategy(strategies - 1)) + 1);
  }

  // ---- hot path ------------------------------------------------------------------------------------------

  /** True when a new order of this strategy on this venue must be denied. Ids must be ensured (ensure()). */
  isBlocked(venueId: number, strategyId: number): boolean {
    const b = this.blocked;
    return (b[0]! | b[1 + 2 * venueId]! | b[2 + 2 * strategyId]!) !== 0;
  }

  /** True when the venue has had no market data for longer than staleDataUs at `now` (always false when off). */
  isStale(venueId: number, now: number): boolean {
    const limit = this.options.staleDataUs;
    return limit > 0 && now - this.lastData[1 + 2 * venueId]! > limit;
  }

  /** Market data arrived from a venue. */
  onMarketData(venueId: number, ts: number): void {
    const s = 1 + 2 * venueId;
    if (s >= this.slots) this.ensure(venueId, 0);
    if (ts > this.lastData[s]!) this.lastData[s] = ts;
  }

  // ---- what happened to orders (event path) ---------------------------------------------------------------

  /** Makes room for these ids (allocates; call at setup or on the first order of a new id). */
  ensure(venueId: number, strategyId: number): void {
    const need = Math.max(slotOfVenue(venueId), slotOfStrategy(strategyId)) + 1;
    if (need > this.slots) this.grow(Math.max(need, this.slots * 2));
  }

  onSent(venueId: number, strategyId: number, ts: number): void {
    this.ensure(venueId, strategyId);
    const k = Math.floor(ts / this.bucketUs);
    this.sentAt(0, k);
    this.sentAt(slotOfVenue(venueId), k);
    this.sentAt(slotOfStrategy(strategyId), k);
  }

  onSuccess(venueId: number, strategyId: number, ts: number): void {
    this.ensure(venueId, strategyId);
    const k = Math.floor(ts / this.bucketUs);
    this.successAt(0, k, ts);
    this.successAt(slotOfVenue(venueId), k, ts);
    this.successAt(slotOfStrategy(strategyId), k, ts);
  }

  onReject(venueId: number, strategyId: number, ts: number): void {
    this.ensure(venueId, strategyId);
    this.failureAt(0, ts, this.rejects, false);
    this.failureAt(slotOfVenue(venueId), ts, this.rejects, true);
    this.failureAt(slotOfStrategy(strategyId), ts, this.rejects, true);
  }

  /** A venue call failed without an answer about the order (network, timeout, 5xx). */
  onError(venueId: number, strategyId: number, ts: number): void {
    this.ensure(venueId, strategyId);
    this.failureAt(0, ts, this.errors, false);
    this.failureAt(slotOfVenue(venueId), ts, this.errors, false);
    this.failureAt(slotOfStrategy(strategyId), ts, this.errors, false);
  }

  onLatency(venueId: number, nanos: number, ts: number): void {
    this.ensure(venueId, 0);
    const s = slotOfVenue(venueId);
    const o = this.options;
    if (!(nanos > o.maxLatencyNs)) {
      this.latencyRun[s] = 0;
      return;
    }
    const run = ++this.latencyRun[s]!;
    if (run >= o.latencyBreaches && this.state[s] !== BreakerState.OPEN) {
      this.latencyRun[s] = 0;
      this.trip(s, BreakerReason.LATENCY, nanos, o.maxLatencyNs, ts);
    }
  }

  /** A realised loss (positive money units) of a strategy; gains are ignored (the window sums losses). */
  onLoss(strategyId: number, loss: number, ts: number): void {
    if (!(loss > 0)) return;
    this.ensure(0, strategyId);
    this.lossAt(0, loss, ts);
    this.lossAt(slotOfStrategy(strategyId), loss, ts);
  }

  /** Trips the venue breaker for stale data (the risk engine calls it when it sees the silence). */
  tripStale(venueId: number, ts: number): void {
    const s = slotOfVenue(venueId);
    if (this.state[s] === BreakerState.OPEN) return;
    this.trip(s, BreakerReason.STALE_DATA, ts - this.lastData[s]!, this.options.staleDataUs, ts);
  }

  // ---- operators -------------------------------------------------------------------------------------------

  tripManually(scope: BreakerScope, id: number, ts: number = this.clock.now()): void {
    const s = this.slotOf(scope, id);
    if (this.state[s] !== BreakerState.OPEN) this.trip(s, BreakerReason.MANUAL, 0, 0, ts);
  }

  reset(scope: BreakerScope, id: number, ts: number = this.clock.now()): void {
    const s = this.slotOf(scope, id);
    this.cancelTimer(s);
    if (this.state[s] !== BreakerState.CLOSED) this.close(s, BreakerReason.RESET, ts);
  }

  stateOf(scope: BreakerScope, id = 0): BreakerState {
    const s = scope === BreakerScope.GLOBAL ? 0 : this.slotOf(scope, id);
    return (this.state[s] ?? BreakerState.CLOSED) as BreakerState;
  }

  /** Which breaker blocks this venue/strategy pair first (global, then venue, then strategy), or -1. */
  blockingScope(venueId: number, strategyId: number): number {
    if (this.blocked[0] !== 0) return BreakerScope.GLOBAL;
    if (this.blocked[slotOfVenue(venueId)] === 1) return BreakerScope.VENUE;
    if (this.blocked[slotOfStrategy(strategyId)] === 1) return BreakerScope.STRATEGY;
    return -1;
  }

  /** Micros when an OPEN breaker turns HALF_OPEN (NaN when not OPEN). */
  reopensAt(scope: BreakerScope, id = 0): number {
    const s = scope === BreakerScope.GLOBAL ? 0 : this.slotOf(scope, id);
    return this.state[s] === BreakerState.OPEN ? this.reopenAt[s]! : Number.NaN;
  }

  lastMarketData(venueId: number): number {
    return this.lastData[slotOfVenue(venueId)] ?? this.startedAt;
  }

  // ---- internals -------------------------------------------------------------------------------------------

  private slotOf(scope: BreakerScope, id: number): number {
    if (scope === BreakerScope.GLOBAL) return 0;
    if (scope === BreakerScope.VENUE) {
      this.ensure(id, 0);
      return slotOfVenue(id);
    }
    this.ensure(0, id);
    return slotOfStrategy(id);
  }

  /** `k`: the bucket number of the event's time (see advance). */
  private sentAt(s: number, k: number): void {
    const b = this.advance(s, k);
    this.sent[s * BUCKETS + b]!++;
    if (this.state[s] === BreakerState.HALF_OPEN && ++this.probesSent[s]! >= this.options.halfOpenProbes) {
      // Probes are out: hold further orders until their outcome is known.
      this.blocked[s] = 1;
    }
  }

  private successAt(s: number, k: number, ts: number): void {
    this.advance(s, k);
    this.consecutive[s] = 0;
    if (this.state[s] === BreakerState.HALF_OPEN && ++this.probesOk[s]! >= this.options.halfOpenProbes) {
      this.close(s, BreakerReason.PROBES_OK, ts);
    }
  }

  private failureAt(s: number, ts: number, counts: Int32Array, countRun: boolean): void {
    const b = this.advance(s, Math.floor(ts / this.bucketUs));
    counts[s * BUCKETS + b]!++;
    const st = this.state[s];
    if (st === BreakerState.OPEN) return;
    if (st === BreakerState.HALF_OPEN) {
      this.trip(s, BreakerReason.PROBE_FAILED, 1, 0, ts);
      return;
    }
    const o = this.options;
    if (countRun) {
      const run = ++this.consecutive[s]!;
      if (run >= o.maxConsecutiveRejects) {
        this.trip(s, BreakerReason.CONSECUTIVE_REJECTS, run, o.maxConsecutiveRejects, ts);
        return;
      }
    }
    const sent = this.windowSum(this.sent, s);
    if (sent < o.minSamples) return;
    const isReject = counts === this.rejects;
    const rate = this.windowSum(counts, s) / sent;
    const max = isReject ? o.maxRejectRate : o.maxErrorRate;
    if (rate >= max)
      this.trip(s, isReject ? BreakerReason.REJECT_RATE : BreakerReason.ERROR_RATE, rate, max, ts);
  }

  private lossAt(s: number, loss: number, ts: number): void {
    const b = this.advance(s, Math.floor(ts / this.bucketUs));
    this.losses[s * BUCKETS + b]! += loss;
    if (this.state[s] === BreakerState.OPEN) return;
    let sum = 0;
    for (let i = 0; i < BUCKETS; i++) sum += this.losses[s * BUCKETS + i]!;
    if (sum >= this.options.maxLossInWindow)
      this.trip(s, BreakerReason.LOSS, sum, this.options.maxLossInWindow, ts);
  }

  /**
   * Moves the slot's window to bucket number `k` = floor(ts / bucketUs) (zeroing buckets that aged out); returns
   * the current bucket index.
   */
  private advance(s: number, k: number): number {
    const cur = this.bucketNo[s]!;
    if (k > cur) {
      const steps = Math.min(k - cur, BUCKETS);
      for (let j = 1; j <= steps; j++) this.clearBucket(s, (cur + j) % BUCKETS);
      this.bucketNo[s] = k;
      this.bucketIdx[s] = k % BUCKETS;
    }
    // Late events (ts before the current bucket) count in the current bucket.
    return this.bucketIdx[s]!;
  }

  private clearBucket(s: number, b: number): void {
    const i = s * BUCKETS + b;
    this.sent[i] = 0;
    this.rejects[i] = 0;
    this.errors[i] = 0;
    this.losses[i] = 0;
  }

  private windowSum(counts: Int32Array, s: number): number {
    let sum = 0;
    for (let i = 0; i < BUCKETS; i++) sum += counts[s * BUCKETS + i]!;
    return sum;
  }

  private trip(s: number, reason: BreakerReason, value: number, threshold: number, ts: number): void {
    const from = this.state[s] as BreakerState;
    this.state[s] = BreakerState.OPEN;
    this.blocked[s] = 1;
    this.reopenAt[s] = ts + this.options.cooldownUs;
    this.cancelTimer(s);
    const id = this.clock.setTimer(this.reopenAt[s] as Micros, this.onTimer);
    this.timerOf[s] = id;
    this.timers.set(id, s);
    this.publish(s, from, BreakerState.OPEN, reason, value, threshold, ts);
  }

  private cooldownOver(timerId: number): void {
    const s = this.timers.get(timerId);
    this.timers.delete(timerId);
    if (s === undefined || this.timerOf[s] !== timerId) return;
    this.timerOf[s] = 0;
    if (this.state[s] !== BreakerState.OPEN) return;
    this.state[s] = BreakerState.HALF_OPEN;
    this.blocked[s] = 0;
    this.probesSent[s] = 0;
    this.probesOk[s] = 0;
    this.consecutive[s] = 0;
    this.latencyRun[s] = 0;
    this.publish(
      s,
      BreakerState.OPEN,
      BreakerState.HALF_OPEN,
      BreakerReason.COOLDOWN_OVER,
      0,
      0,
      this.clock.now(),
    );
  }

  private close(s: number, reason: BreakerReason, ts: number): void {
    const from = this.state[s] as BreakerState;
    this.state[s] = BreakerState.CLOSED;
    this.blocked[s] = 0;
    this.consecutive[s] = 0;
    this.latencyRun[s] = 0;
    // Failures that opened the breaker must not reopen it at once.
    for (let b = 0; b < BUCKETS; b++) this.clearBucket(s, b);
    this.publish(s, from, BreakerState.CLOSED, reason, 0, 0, ts);
  }

  private cancelTimer(s: number): void {
    const id = this.timerOf[s]!;
    if (id === 0) return;
    this.clock.cancelTimer(id);
    this.timers.delete(id);
    this.timerOf[s] = 0;
  }

  private publish(
    s: number,
    from: BreakerState,
    to: BreakerState,
    reason: BreakerReason,
    value: number,
    threshold: number,
    ts: number,
  ): void {
    this.transitions++;
    if (this.topic === undefined || this.bus === undefined) return;
    // A handler may trip another breaker while this event is delivered: one record per nesting level.
    if (this.depth >= this.events.length) this.events.push(new BreakerEvent());
    const ev = this.events[this.depth++]!;
    ev.scope = s === 0 ? BreakerScope.GLOBAL : (s & 1) === 1 ? BreakerScope.VENUE : BreakerScope.STRATEGY;
    ev.id = s === 0 ? 0 : (s - 1) >> 1;
    ev.from = from;
    ev.to = to;
    ev.reason = reason;
    ev.value = value;
    ev.threshold = threshold;
    ev.ts = ts as Micros;
    try {
      this.bus.publish(this.topic, ev);
    } finally {
      this.depth--;
    }
  }

  private grow(slots: number): void {
    const old = this.slots;
    this.blocked = growU8(this.blocked, slots);
    this.state = growU8(this.state, slots);
    this.reopenAt = growF64(this.reopenAt, slots);
    this.timerOf = growF64(this.timerOf, slots);
    this.bucketNo = growF64(this.bucketNo, slots);
    this.bucketIdx = growI32(this.bucketIdx, slots);
    this.consecutive = growI32(this.consecutive, slots);
    this.latencyRun = growI32(this.latencyRun, slots);
    this.probesSent = growI32(this.probesSent, slots);
    this.probesOk = growI32(this.probesOk, slots);
    this.sent = growI32(this.sent, slots * BUCKETS);
    this.rejects = growI32(this.rejects, slots * BUCKETS);
    this.errors = growI32(this.errors, slots * BUCKETS);
    this.losses = growF64(this.losses, slots * BUCKETS);
    this.lastData = growF64(this.lastData, slots);
    for (let s = old; s < slots; s++) {
      this.lastData[s] = this.startedAt;
      this.bucketNo[s] = Math.floor(this.startedAt / this.bucketUs);
      this.bucketIdx[s] = this.bucketNo[s]! % BUCKETS;
    }
    this.slots = slots;
  }
}

/** Slot layout: 0 global, odd venues, even (> 0) strategies, so either kind grows without moving the other. */
export function slotOfVenue(venueId: number): number {
  return 1 + 2 * venueId;
}

export function slotOfStrategy(strategyId: number): number {
  return 2 + 2 * strategyId;
}

function growU8(a: Uint8Array, n: number): Uint8Array {
  const b = new Uint8Array(n);
  b.set(a.subarray(0, Math.min(a.length, n)));
  return b;
}

function growI32(a: Int32Array, n: number): Int32Array {
  const b = new Int32Array(n);
  b.set(a.subarray(0, Math.min(a.length, n)));
  return b;
}

function growF64(a: Float64Array, n: number): Float64Array {
  const b = new Float64Array(n);
  b.set(a.subarray(0, Math.min(a.length, n)));
  return b;
}
