// The engine's only source of time. Backtests drive a TestClock from event timestamps, paper and live
// trading use the LiveClock; nothing else in Bot4 reads the wall clock (Date.now) or the monotonic clock.
// Units: event time in microseconds since the epoch (Micros); latency in monotonic nanoseconds (MonoNanos).

import { performance } from 'node:perf_hooks';
import { Bot4Error, ErrorCode } from './errors.ts';
import type { Micros, MonoNanos } from './units.ts';

export type TimerCallback = (firedAt: Micros, timerId: number) => void;

export interface Clock {
  /** Current event time in microseconds since the epoch. */
  now(): Micros;
  /** Monotonic nanoseconds for latency measurement; meaningful only as a difference. */
  monoNanos(): MonoNanos;
  /** Calls `callback` once at `at` (or as soon as possible if `at` is already past). Returns a timer id. */
  setTimer(at: Micros, callback: TimerCallback): number;
  /** Calls `callback` every `intervalMicros`, first at now + interval. Returns a timer id. */
  setInterval(intervalMicros: number, callback: TimerCallback): number;
  cancelTimer(timerId: number): boolean;
}

const timeOrigin = performance.timeOrigin;

/** Wall-clock microseconds. The single place that reads the wall clock. */
export function wallMicros(): Micros {
  return Math.round((timeOrigin + performance.now()) * 1000) as Micros;
}

/** Wall-clock milliseconds since the epoch, for stamps shown to people and compared with other hosts' times. */
export function wallMillis(): number {
  return timeOrigin + performance.now();
}

/** Monotonic nanoseconds (sub-microsecond resolution as a double; exact enough for latency). */
export function monoNanos(): MonoNanos {
  return (performance.now() * 1e6) as MonoNanos;
}

/** Monotonic milliseconds (a double), for timeouts and deadlines outside the hot path. */
export function monoMillis(): number {
  return performance.now();
}

/** Monotonic nanoseconds as a bigint, for benchmarks that time long loops exactly. */
export function monoNanosBig(): bigint {
  return process.hrtime.bigint();
}

interface Timer {
  id: number;
  at: number;
  seq: number;
  interval: number;
  callback: TimerCallback;
}

/** Min-heap of timers ordered by (time, creation order): equal times fire in the order they were set. */
class TimerHeap {
  private readonly items: Timer[] = [];

  get size(): number {
    return this.items.length;
  }

  peek(): Timer | undefined {
    return this.items[0];
  }

  push(t: Timer): void {
    const a = this.items;
    a.push(t);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!before(a[i]!, a[p]!)) break;
      [a[i], a[p]] = [a[p]!, a[i]!];
      i = p;
    }
  }

  pop(): Timer | undefined {
    const a = this.items;
    const top = a[0];
    const last = a.pop();
    if (a.length > 0 && last !== undefined) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && before(a[l]!, a[m]!)) m = l;
        if (r < a.length && before(a[r]!, a[m]!)) m = r;
        if (m === i) break;
        [a[i], a[m]] = [a[m]!, a[i]!];
        i = m;
      }
    }
    return top;
  }
}

function before(x: Timer, y: Timer): boolean {
  return x.at < y.at || (x.at === y.at && x.seq < y.seq);
}

function checkTime(value: number, what: string): void {
  if (!Number.isFinite(value)) {
    throw new Bot4Error(ErrorCode.CLOCK, `${what} must be a finite number of microseconds, got ${value}`, {
      value,
    });
  }
}

function backwards(now: number, t: number): never {
  throw new Bot4Error(
    ErrorCode.CLOCK,
    `test clock cannot go back in time: now ${now} us, asked ${t} us (are the events out of order?)`,
    { now, requested: t },
  );
}

/**
 * A clock driven by data: time moves only when `advanceTo` is called with an event timestamp.
 * Timers due at or before the new time fire first, in time order, each seeing `now()` equal to its own
 * due time, so a strategy's timer behaves exactly as it would have live.
 */
export class TestClock implements Clock {
  private time: number;
  private nextId = 1;
  private seq = 0;
  private readonly heap = new TimerHeap();
  private readonly live = new Map<number, Timer>();
  /** The earliest timer's time (or earlier, never later); +Infinity when none is set. */
  private nextDue = Number.POSITIVE_INFINITY;

  constructor(start: Micros = 0 as Micros) {
    checkTime(start, 'start time');
    this.time = start;
  }

  now(): Micros {
    return this.time as Micros;
  }

  monoNanos(): MonoNanos {
    return (this.time * 1000) as MonoNanos;
  }

  setTimer(at: Micros, callback: TimerCallback): number {
    checkTime(at, 'timer time');
    return this.add(Math.max(at, this.time), 0, callback);
  }

  setInterval(intervalMicros: number, callback: TimerCallback): number {
    if (!(intervalMicros > 0) || !Number.isFinite(intervalMicros)) {
      throw new Bot4Error(ErrorCode.CLOCK, `timer interval must be > 0 microseconds, got ${intervalMicros}`);
    }
    return this.add(this.time + intervalMicros, intervalMicros, callback);
  }

  cancelTimer(timerId: number): boolean {
    return this.live.delete(timerId);
  }

  /** Number of timers waiting to fire. */
  get pendingTimers(): number {
    return this.live.size;
  }

  /** Time of the next live timer, or undefined when none is set. */
  nextTimerAt(): Micros | undefined {
    this.dropCancelled();
    return this.heap.peek()?.at as Micros | undefined;
  }

  /**
   * Moves time forward to `t`, firing every timer due on the way. Time never moves backwards. Called per
   * replayed event: the common case (no timer due) is a compare and a store, small enough to inline into the
   * replay loop, so the time is never boxed to cross a call.
   */
  advanceTo(t: Micros): void {
    if (t < this.time) backwards(this.time, t);
    if (t >= this.nextDue) this.fireDue(t);
    this.time = t;
  }

  /** Fires the timers due at or before `t`, each at its own time, then notes when the next one is due. */
  private fireDue(t: number): void {
    for (;;) {
      this.dropCancelled();
      const next = this.heap.peek();
      if (next === undefined || next.at > t) break;
      this.heap.pop();
      const firedAt = next.at;
      this.time = firedAt;
      if (next.interval > 0) {
        next.at += next.interval;
        next.seq = this.seq++;
        this.heap.push(next);
      } else {
        this.live.delete(next.id);
      }
      next.callback(firedAt as Micros, next.id);
    }
    // A cancelled timer may still head the heap: then nextDue is early, and the next call here drops it.
    this.nextDue = this.heap.peek()?.at ?? Number.POSITIVE_INFINITY;
  }

  private add(at: number, interval: number, callback: TimerCallback): number {
    const timer: Timer = { id: this.nextId++, at, seq: this.seq++, interval, callback };
    this.live.set(timer.id, timer);
    this.heap.push(timer);
    if (at < this.nextDue) this.nextDue = at;
    return timer.id;
  }

  private dropCancelled(): void {
    for (let top = this.heap.peek(); top !== undefined && !this.live.has(top.id); top = this.heap.peek()) {
      this.heap.pop();
    }
  }
}

/** The wall clock, for paper and live trading. Timers run on Node's event loop. */
export class LiveClock implements Clock {
  private nextId = 1;
  private readonly handles = new Map<number, NodeJS.Timeout>();

  now(): Micros {
    return wallMicros();
  }

  monoNanos(): MonoNanos {
    return monoNanos();
  }

  setTimer(at: Micros, callback: TimerCallback): number {
    checkTime(at, 'timer time');
    const id = this.nextId++;
    const delayMs = Math.max(0, (at - wallMicros()) / 1000);
    const handle = setTimeout(() => {
      this.handles.delete(id);
      callback(this.now(), id);
    }, delayMs);
    this.handles.set(id, handle);
    return id;
  }

  setInterval(intervalMicros: number, callback: TimerCallback): number {
    if (!(intervalMicros > 0) || !Number.isFinite(intervalMicros)) {
      throw new Bot4Error(ErrorCode.CLOCK, `timer interval must be > 0 microseconds, got ${intervalMicros}`);
    }
    const id = this.nextId++;
    const handle = setInterval(() => callback(this.now(), id), intervalMicros / 1000);
    this.handles.set(id, handle);
    return id;
  }

  cancelTimer(timerId: number): boolean {
    const h = this.handles.get(timerId);
    if (h === undefined) return false;
    clearTimeout(h);
    this.handles.delete(timerId);
    return true;
  }

  /** Cancels every timer so the process can exit. */
  close(): void {
    for (const h of this.handles.values()) clearTimeout(h);
    this.handles.clear();
  }
}
