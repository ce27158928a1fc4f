import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LiveClock, TestClock, wallMicros } from './clock.ts';
import { Bot4Error } from './errors.ts';
import type { Micros } from './units.ts';

const us = (n: number) => n as Micros;

describe('TestClock', () => {
  it('moves only when advanced, and never backwards', () => {
    const clock = new TestClock(us(1_000));
    expect(clock.now()).toBe(1_000);
    clock.advanceTo(us(5_000));
    expect(clock.now()).toBe(5_000);
    expect(() => clock.advanceTo(us(4_999))).toThrow(/cannot go back in time: now 5000 us, asked 4999 us/);
    expect(clock.now()).toBe(5_000);
  });

  it('fires timers in time order, each seeing its own due time as now', () => {
    const clock = new TestClock(us(0));
    const seen: string[] = [];
    clock.setTimer(us(30), (at) => seen.push(`c@${at}/${clock.now()}`));
    clock.setTimer(us(10), (at) => seen.push(`a@${at}/${clock.now()}`));
    clock.setTimer(us(20), (at) => seen.push(`b@${at}/${clock.now()}`));
    clock.advanceTo(us(25));
    expect(seen).toEqual(['a@10/10', 'b@20/20']);
    expect(clock.now()).toBe(25);
    clock.advanceTo(us(30));
    expect(seen).toEqual(['a@10/10', 'b@20/20', 'c@30/30']);
    expect(clock.pendingTimers).toBe(0);
  });

  it('fires timers due at the same time in the order they were set', () => {
    const clock = new TestClock(us(0));
    const seen: number[] = [];
    for (let i = 0; i < 5; i++) clock.setTimer(us(7), () => seen.push(i));
    clock.advanceTo(us(7));
    expect(seen).toEqual([0, 1, 2, 3, 4]);
  });

  it('repeats intervals and stops when cancelled', () => {
    const clock = new TestClock(us(100));
    const fired: number[] = [];
    const id = clock.setInterval(50, (at) => fired.push(at));
    clock.advanceTo(us(260));
    expect(fired).toEqual([150, 200, 250]);
    expect(clock.cancelTimer(id)).toBe(true);
    expect(clock.cancelTimer(id)).toBe(false);
    clock.advanceTo(us(1000));
    expect(fired).toEqual([150, 200, 250]);
    expect(clock.nextTimerAt()).toBeUndefined();
  });

  it('lets a timer set a new timer that fires in the same advance when due', () => {
    const clock = new TestClock(us(0));
    const seen: number[] = [];
    clock.setTimer(us(10), () => {
      seen.push(clock.now());
      clock.setTimer(us(15), () => seen.push(clock.now()));
    });
    clock.advanceTo(us(20));
    expect(seen).toEqual([10, 15]);
  });

  it('fires a timer set in the past at the current time', () => {
    const clock = new TestClock(us(100));
    const seen: number[] = [];
    clock.setTimer(us(50), (at) => seen.push(at));
    clock.advanceTo(us(100));
    expect(seen).toEqual([100]);
  });

  it('rejects non-finite times and intervals with a clear error', () => {
    const clock = new TestClock();
    expect(() => clock.setTimer(us(Number.NaN), () => {})).toThrow(Bot4Error);
    expect(() => clock.setInterval(0, () => {})).toThrow(/interval must be > 0/);
  });

  it('property: any set of timers fires exactly once each, sorted by (time, creation order)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 1000 }), { maxLength: 60 }),
        fc.array(fc.integer({ min: 0, max: 1100 }), { maxLength: 20 }),
        (times, steps) => {
          const clock = new TestClock(us(0));
          const fired: [number, number][] = [];
          for (const [i, t] of times.entries()) clock.setTimer(us(t), (at) => fired.push([at, i]));
          let now = 0;
          for (const s of [...steps].sort((a, b) => a - b)) {
            now = Math.max(now, s);
            clock.advanceTo(us(now));
          }
          clock.advanceTo(us(2000));
          const expected = times
            .map((t, i) => [t, i] as [number, number])
            .sort((a, b) => a[0] - b[0] || a[1] - b[1]);
          expect(fired).toEqual(expected);
        },
      ),
    );
  });
});

describe('LiveClock', () => {
  it('reads wall time in microseconds and fires timers', async () => {
    const clock = new LiveClock();
    const before = wallMicros();
    expect(Math.abs(clock.now() - before)).toBeLessThan(5_000_000);
    let fired = 0;
    clock.setTimer(us(clock.now() + 1_000), () => fired++);
    const cancelled = clock.setTimer(us(clock.now() + 1_000), () => fired++);
    clock.cancelTimer(cancelled);
    while (fired === 0) await new Promise((r) => setImmediate(r));
    expect(fired).toBe(1);
    clock.close();
  });
});
