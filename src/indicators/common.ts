// Shared parts of the streaming indicators: parameter checks (thrown at construction, the edge, never per
// update), batch-output checks, and RollingExtreme, the monotonic deque behind every rolling max/min.
// Convention: inputs are plain doubles, outputs are NaN while warming up; nothing here allocates per update.

import { Bot4Error, ErrorCode } from '../core/errors.ts';
import { Float64Ring, ringCapacity } from '../memory/ring-buffer.ts';

/** Largest window any indicator accepts: keeps rings (rounded up to a power of two) well inside 2^30. */
export const MAX_PERIOD = 1 << 24;

/** Fails with a message naming the indicator, the parameter and the accepted range. */
export function intParam(
  indicator: string,
  name: string,
  value: number,
  min: number,
  max = MAX_PERIOD,
): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new Bot4Error(
      ErrorCode.INVALID_ARGUMENT,
      `${indicator}: parameter '${name}' must be an integer from ${min} to ${max}, got ${String(value)}`,
      { indicator, param: name, value },
    );
  }
  return value;
}

export function numParam(
  indicator: string,
  name: string,
  value: number,
  min: number,
  max = Number.MAX_VALUE,
): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    throw new Bot4Error(
      ErrorCode.INVALID_ARGUMENT,
      `${indicator}: parameter '${name}' must be a number from ${min} to ${max}, got ${String(value)}`,
      { indicator, param: name, value },
    );
  }
  return value;
}

export function enumParam<T extends string>(
  indicator: string,
  name: string,
  value: string,
  allowed: readonly T[],
): T {
  if (!(allowed as readonly string[]).includes(value)) {
    throw new Bot4Error(
      ErrorCode.INVALID_ARGUMENT,
      `${indicator}: parameter '${name}' must be one of ${allowed.map((a) => `'${a}'`).join(', ')}, got '${value}'`,
      { indicator, param: name, value },
    );
  }
  return value as T;
}

/** Every output of a batch call must hold at least as many elements as the inputs. */
export function checkBatch(indicator: string, n: number, ...arrays: ArrayLike<number>[]): void {
  for (const a of arrays) {
    if (a.length < n) {
      throw new Bot4Error(
        ErrorCode.INVALID_ARGUMENT,
        `${indicator}: batch array of length ${a.length} is shorter than the input (${n}); ` +
          'pass inputs of equal length and outputs at least as long',
        { indicator, length: a.length, expected: n },
      );
    }
  }
}

/** EMA seeding: 'sma' = TA-Lib (seed with the SMA of the first N), 'first' = Tulip/pandas (seed with the first value). */
export type EmaSeed = 'sma' | 'first';
export const EMA_SEEDS: readonly EmaSeed[] = ['sma', 'first'];

/** Placeholder for ring fields before the constructor sizes them, so each field has an initialiser of its final type. */
export function placeholderRing(): Float64Ring {
  return new Float64Ring(1);
}

/**
 * Rolling maximum (or minimum) over the last `period` values, amortised O(1) per push: a monotonic deque of
 * (value, sequence number) pairs. Among equal values the most recent wins, as in TA-Lib and Tulip (Aroon counts
 * bars since the most recent extreme). A minimum is kept as the maximum of negated values. The deque lives in two
 * typed arrays sharing one head and count (not two Float64Rings): one index update per operation instead of two,
 * and small enough that V8 inlines the whole push into the indicator that calls it (a push it does not inline
 * returns its double boxed).
 */
export class RollingExtreme {
  readonly period: number = 0;
  /** +1 for a maximum, -1 for a minimum. */
  private readonly sign: number = 1;
  /** Power-of-two capacity minus one: slots wrap by masking. */
  private readonly mask: number = 0;
  private readonly values: Float64Array = new Float64Array(1);
  private readonly seqs: Float64Array = new Float64Array(1);
  /** Slot of the front (the extreme) and the number of entries. */
  private head = 0;
  private count = 0;
  /** Values pushed so far; the sequence number of the next push. */
  private seq = 0;

  constructor(period: number, kind: 'max' | 'min') {
    this.period = period;
    this.sign = kind === 'max' ? 1 : -1;
    const capacity = ringCapacity(period, 'RollingExtreme');
    this.mask = capacity - 1;
    this.values = new Float64Array(capacity);
    this.seqs = new Float64Array(capacity);
  }

  /** Adds a value and returns the extreme of the last `period` values (of all values while fewer). */
  push(value: number): number {
    const v = value * this.sign;
    const values = this.values;
    const seqs = this.seqs;
    const mask = this.mask;
    const seq = this.seq;
    let head = this.head;
    let count = this.count;
    // Drop the entry leaving the window first (at most one per push, sequence numbers strictly increase),
    // so the deque holds at most period - 1 entries before the push and never outgrows its capacity.
    if (count !== 0 && seqs[head]! <= seq - this.period) {
      head = (head + 1) & mask;
      count--;
    }
    let tail = (head + count) & mask;
    while (count !== 0 && values[(tail - 1) & mask]! <= v) {
      tail = (tail - 1) & mask;
      count--;
    }
    values[tail] = v;
    seqs[tail] = seq;
    this.head = head;
    this.count = count + 1;
    this.seq = seq + 1;
    return values[head]! * this.sign;
  }

  /** The current extreme; NaN before the first push. */
  get value(): number {
    return this.count === 0 ? Number.NaN : this.values[this.head]! * this.sign;
  }

  /** Pushes since the current extreme arrived (0 = the latest value is the extreme). */
  get age(): number {
    return this.count === 0 ? Number.NaN : this.seq - 1 - this.seqs[this.head]!;
  }

  reset(): void {
    this.head = 0;
    this.count = 0;
    this.seq = 0;
  }
}

/**
 * A running sum with Neumaier compensation, for windowed sums that feed a ratio (VWAP's volume, MFI's flows,
 * realised variance, KAMA's path length): adding and later subtracting a large term leaves an error of order
 * eps^2 * |term| instead of eps * |term|, so a window that goes quiet after a burst still reads its own small sum.
 */
export class CompensatedSum {
  private sum = 0;
  private compensation = 0;

  add(x: number): void {
    const s = this.sum;
    const t = s + x;
    // The low-order bits lost by s + x, recovered exactly (Neumaier: whichever operand is larger is exact).
    this.compensation += Math.abs(s) >= Math.abs(x) ? s - t + x : x - t + s;
    this.sum = t;
  }

  get value(): number {
    return this.sum + this.compensation;
  }

  /** Restarts at exactly 0 (also used when a window is known to hold no non-zero term). */
  clear(): void {
    this.sum = 0;
    this.compensation = 0;
  }
}
