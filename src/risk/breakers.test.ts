import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TestClock } from '../core/clock.ts';
import { MessageBus } from '../core/message-bus.ts';
import type { Micros } from '../core/units.ts';
import {
  BREAKER_EVENTS_TOPIC,
  type BreakerEvent,
  type BreakerOptions,
  BreakerReason,
  BreakerScope,
  BreakerState,
  CircuitBreakers,
} from './breakers.ts';

const T0 = 1_700_000_000_000_000;
const V = 2; // venue id
const S = 5; // strategy id

function setup(options: Partial<BreakerOptions> = {}) {
  const clock = new TestClock(T0 as Micros);
  const bus = new MessageBus();
  const events: BreakerEvent[] = [];
  bus.subscribe(bus.topic<BreakerEvent>(BREAKER_EVENTS_TOPIC), (e) =>
    events.push(Object.assign(Object.create(Object.getPrototypeOf(e)), e)),
  );
  const br = new CircuitBreakers(
    { cooldownUs: 10_000_000, maxConsecutiveRejects: 1000, minSamples: 1000, ...options },
    clock,
    bus,
  );
  const at = (us: number) => {
    clock.advanceTo((T0 + us) as Micros);
    return T0 + us;
  };
  return { clock, bus, br, events, at };
}

const summary = (e: BreakerEvent) => `${e.scope}:${e.id} ${e.from}->${e.to} r${e.reason}`;

describe('CircuitBreakers', () => {
  it('consecutive rejects: one under stays closed, at the limit opens venue and strategy (not global)', () => {
    const { br, events } = setup({ maxConsecutiveRejects: 3 });
    br.onSent(V, S, T0);
    br.onReject(V, S, T0);
    br.onReject(V, S, T0);
    br.onSuccess(V, S, T0); // resets the run
    br.onReject(V, S, T0);
    br.onReject(V, S, T0);
    expect(br.isBlocked(V, S)).toBe(false);
    br.onReject(V, S, T0);
    expect(br.isBlocked(V, S)).toBe(true);
    expect(br.stateOf(BreakerScope.VENUE, V)).toBe(BreakerState.OPEN);
    expect(br.stateOf(BreakerScope.STRATEGY, S)).toBe(BreakerState.OPEN);
    expect(br.stateOf(BreakerScope.GLOBAL)).toBe(BreakerState.CLOSED);
    expect(br.isBlocked(V + 1, S + 1)).toBe(false);
    expect(events.map(summary)).toEqual([
      `${BreakerScope.VENUE}:${V} 0->1 r${BreakerReason.CONSECUTIVE_REJECTS}`,
      `${BreakerScope.STRATEGY}:${S} 0->1 r${BreakerReason.CONSECUTIVE_REJECTS}`,
    ]);
    expect(events[0]).toMatchObject({ value: 3, threshold: 3, ts: T0 });
    expect(events[0]!.toString()).toBe('breaker venue 2 CLOSED -> OPEN: consecutive rejects (3 vs limit 3)');
  });

  it('stays OPEN for the whole cool-down, turns HALF_OPEN at its end, closes after the probes succeed', () => {
    const { br, events, at } = setup({ maxConsecutiveRejects: 1, halfOpenProbes: 2 });
    br.onReject(V, S, T0);
    expect(br.reopensAt(BreakerScope.VENUE, V)).toBe(T0 + 10_000_000);
    at(9_999_999);
    expect(br.stateOf(BreakerScope.VENUE, V)).toBe(BreakerState.OPEN);
    at(10_000_000);
    expect(br.stateOf(BreakerScope.VENUE, V)).toBe(BreakerState.HALF_OPEN);
    expect(br.isBlocked(V, S)).toBe(false);
    br.onSent(V, S, T0 + 10_000_001);
    expect(br.isBlocked(V, S)).toBe(false);
    br.onSent(V, S, T0 + 10_000_002);
    expect(br.isBlocked(V, S)).toBe(true); // both probes out
    br.onSuccess(V, S, T0 + 10_000_003);
    expect(br.stateOf(BreakerScope.VENUE, V)).toBe(BreakerState.HALF_OPEN);
    br.onSuccess(V, S, T0 + 10_000_004);
    expect(br.stateOf(BreakerScope.VENUE, V)).toBe(BreakerState.CLOSED);
    expect(br.isBlocked(V, S)).toBe(false);
    const venue = events
      .filter((e) => e.scope === BreakerScope.VENUE)
      .map((e) => [e.to, e.reason, e.ts - T0]);
    expect(venue).toEqual([
      [BreakerState.OPEN, BreakerReason.CONSECUTIVE_REJECTS, 0],
      [BreakerState.HALF_OPEN, BreakerReason.COOLDOWN_OVER, 10_000_000],
      [BreakerState.CLOSED, BreakerReason.PROBES_OK, 10_000_004],
    ]);
  });

  it('a failed probe reopens for a fresh cool-down', () => {
    const { br, at } = setup({ maxConsecutiveRejects: 1 });
    br.onReject(V, S, T0);
    at(10_000_000);
    br.onSent(V, S, T0 + 10_000_000);
    br.onReject(V, S, T0 + 10_000_500);
    expect(br.stateOf(BreakerScope.VENUE, V)).toBe(BreakerState.OPEN);
    expect(br.reopensAt(BreakerScope.VENUE, V)).toBe(T0 + 20_000_500);
    at(20_000_499);
    expect(br.stateOf(BreakerScope.VENUE, V)).toBe(BreakerState.OPEN);
    at(20_000_500);
    expect(br.stateOf(BreakerScope.VENUE, V)).toBe(BreakerState.HALF_OPEN);
  });

  it('reject rate over the window: 4 of 10 stays closed, 5 of 10 opens global, venue and strategy', () => {
    const { br } = setup({ minSamples: 10, maxRejectRate: 0.5 });
    for (let i = 0; i < 10; i++) br.onSent(V, S, T0 + i);
    for (let i = 0; i < 4; i++) {
      br.onReject(V, S, T0 + 20 + i);
      br.onSuccess(V, S, T0 + 20 + i);
    }
    expect(br.isBlocked(V, S)).toBe(false);
    br.onReject(V, S, T0 + 30);
    expect(br.stateOf(BreakerScope.GLOBAL)).toBe(BreakerState.OPEN);
    expect(br.stateOf(BreakerScope.VENUE, V)).toBe(BreakerState.OPEN);
    expect(br.stateOf(BreakerScope.STRATEGY, S)).toBe(BreakerState.OPEN);
  });

  it('orders older than the window no longer count (rates need minSamples inside the window)', () => {
    const { br } = setup({ minSamples: 10, maxRejectRate: 0.5, windowUs: 1_000_000 });
    for (let i = 0; i < 10; i++) br.onSent(V, S, T0);
    // A full window later the 10 sends have aged out: 9 rejects among 1 send is below minSamples.
    br.onSent(V, S, T0 + 1_000_000);
    for (let i = 0; i < 9; i++) {
      br.onReject(V, S, T0 + 1_000_000);
      br.onSuccess(V, S, T0 + 1_000_000);
    }
    expect(br.stateOf(BreakerScope.GLOBAL)).toBe(BreakerState.CLOSED);
  });

  it('error rate trips like the reject rate, from venue call failures', () => {
    const { br } = setup({ minSamples: 4, maxErrorRate: 0.5 });
    for (let i = 0; i < 4; i++) br.onSent(V, S, T0);
    br.onError(V, S, T0);
    expect(br.stateOf(BreakerScope.VENUE, V)).toBe(BreakerState.CLOSED);
    br.onError(V, S, T0);
    expect(br.stateOf(BreakerScope.VENUE, V)).toBe(BreakerState.OPEN);
  });

  it('latency: N consecutive samples above the threshold trip the venue only; a good sample resets the run', () => {
    const { br, events } = setup({ maxLatencyNs: 100e6, latencyBreaches: 3 });
    br.onLatency(V, 150e6, T0);
    br.onLatency(V, 150e6, T0);
    br.onLatency(V, 100e6, T0); // at the threshold: fine
    br.onLatency(V, 150e6, T0);
    br.onLatency(V, 150e6, T0);
    expect(br.stateOf(BreakerScope.VENUE, V)).toBe(BreakerState.CLOSED);
    br.onLatency(V, 150e6, T0);
    expect(br.stateOf(BreakerScope.VENUE, V)).toBe(BreakerState.OPEN);
    expect(br.stateOf(BreakerScope.GLOBAL)).toBe(BreakerState.CLOSED);
    expect(events.at(-1)).toMatchObject({ reason: BreakerReason.LATENCY, value: 150e6, threshold: 100e6 });
  });

  it('loss within the window trips the strategy and global breakers at the limit', () => {
    const { br } = setup({ maxLossInWindow: 1000, windowUs: 1_000_000 });
    br.onLoss(S, 600, T0);
    br.onLoss(S, -5000, T0); // gains do not offset
    br.onLoss(S, 399, T0 + 500_000);
    expect(br.isBlocked(V, S)).toBe(false);
    br.onLoss(S, 1, T0 + 500_000);
    expect(br.stateOf(BreakerScope.STRATEGY, S)).toBe(BreakerState.OPEN);
    expect(br.stateOf(BreakerScope.GLOBAL)).toBe(BreakerState.OPEN);
    const aged = setup({ maxLossInWindow: 1000, windowUs: 1_000_000 }).br;
    aged.onLoss(S, 600, T0);
    aged.onLoss(S, 600, T0 + 1_000_000);
    expect(aged.stateOf(BreakerScope.STRATEGY, S)).toBe(BreakerState.CLOSED);
  });

  it('stale data: silence of exactly the limit is fine, one microsecond more is stale', () => {
    const { br } = setup({ staleDataUs: 1000 });
    br.onMarketData(V, T0 + 50);
    expect(br.isStale(V, T0 + 1050)).toBe(false);
    expect(br.isStale(V, T0 + 1051)).toBe(true);
    br.tripStale(V, T0 + 1051);
    expect(br.stateOf(BreakerScope.VENUE, V)).toBe(BreakerState.OPEN);
    const off = setup().br;
    expect(off.isStale(V, T0 + 1e12)).toBe(false);
  });

  it('manual trip and reset; ids beyond the initial capacity grow the arrays', () => {
    const { br } = setup();
    br.tripManually(BreakerScope.STRATEGY, 300);
    expect(br.isBlocked(0, 300)).toBe(true);
    expect(br.isBlocked(0, 299)).toBe(false);
    br.reset(BreakerScope.STRATEGY, 300);
    expect(br.isBlocked(0, 300)).toBe(false);
    br.tripManually(BreakerScope.GLOBAL, 0);
    expect(br.isBlocked(40, 7)).toBe(true);
  });

  it('property: transitions chain, OPEN lasts exactly the cool-down, blocked matches the states', () => {
    const op = fc.oneof(
      fc.record({ k: fc.constantFrom('sent', 'ok', 'reject', 'error'), v: fc.nat(2), s: fc.nat(2) }),
      fc.record({ k: fc.constant('lat'), v: fc.nat(2), ns: fc.integer({ min: 0, max: 200 }) }),
      fc.record({ k: fc.constant('loss'), s: fc.nat(2), amount: fc.integer({ min: 0, max: 400 }) }),
      fc.record({ k: fc.constant('time'), us: fc.integer({ min: 0, max: 4_000 }) }),
    );
    let transitions = 0;
    let halfOpens = 0;
    fc.assert(
      fc.property(fc.array(op, { maxLength: 300, size: 'max' }), (ops) => {
        const { br, events, clock } = setup({
          cooldownUs: 5_000,
          windowUs: 3_000,
          minSamples: 3,
          maxRejectRate: 0.5,
          maxErrorRate: 0.5,
          maxConsecutiveRejects: 3,
          maxLatencyNs: 100,
          latencyBreaches: 2,
          maxLossInWindow: 1000,
          halfOpenProbes: 2,
        });
        for (const o of ops) {
          const now = clock.now();
          if (o.k === 'time') clock.advanceTo((now + o.us) as Micros);
          else if (o.k === 'sent') br.onSent(o.v, o.s, now);
          else if (o.k === 'ok') br.onSuccess(o.v, o.s, now);
          else if (o.k === 'reject') br.onReject(o.v, o.s, now);
          else if (o.k === 'error') br.onError(o.v, o.s, now);
          else if (o.k === 'lat') br.onLatency(o.v, o.ns, now);
          else if (o.k === 'loss') br.onLoss(o.s, o.amount, now);
          // Blocked exactly when a relevant breaker is OPEN (HALF_OPEN blocks only with its probes out).
          for (let v = 0; v < 3; v++) {
            for (let s = 0; s < 3; s++) {
              const states = [
                br.stateOf(BreakerScope.GLOBAL),
                br.stateOf(BreakerScope.VENUE, v),
                br.stateOf(BreakerScope.STRATEGY, s),
              ];
              if (states.includes(BreakerState.OPEN)) expect(br.isBlocked(v, s)).toBe(true);
              if (states.every((x) => x === BreakerState.CLOSED)) expect(br.isBlocked(v, s)).toBe(false);
            }
          }
        }
        transitions += events.length;
        halfOpens += events.filter((e) => e.to === BreakerState.HALF_OPEN).length;
        const last = new Map<string, BreakerEvent>();
        for (const e of events) {
          const key = `${e.scope}:${e.id}`;
          const prev = last.get(key);
          expect(e.from).toBe(prev?.to ?? BreakerState.CLOSED);
          if (e.to === BreakerState.HALF_OPEN) {
            expect(prev?.to).toBe(BreakerState.OPEN);
            expect(e.ts - prev!.ts).toBe(5_000);
          }
          if (e.to === BreakerState.OPEN && e.reason !== BreakerReason.PROBE_FAILED) {
            expect(e.value).toBeGreaterThanOrEqual(e.threshold);
          }
          last.set(key, e);
        }
        // An OPEN breaker whose cool-down has passed must have moved on.
        for (const e of last.values()) {
          if (e.to === BreakerState.OPEN) expect(clock.now()).toBeLessThan(e.ts + 5_000);
        }
      }),
      { numRuns: 200 },
    );
    // The runs went through every state many times.
    expect(transitions).toBeGreaterThan(1000);
    expect(halfOpens).toBeGreaterThan(100);
  });
});
