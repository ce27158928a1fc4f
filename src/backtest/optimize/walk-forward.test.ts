import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseDuration, walkForwardFolds } from './walk-forward.ts';

const DAY = 86_400_000_000;

describe('walk-forward windows', () => {
  it('OOS windows tile the range after the first IS window; IS ends where its OOS starts; no overlap', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 1e15 }),
        fc.integer({ min: 1000, max: 1e13 }),
        fc.integer({ min: 1, max: 12 }),
        fc.double({ min: 0.1, max: 0.9, noNaN: true }),
        fc.boolean(),
        (from, len, folds, isRatio, anchored) => {
          const range = { from, to: from + len };
          const fs = walkForwardFolds(range, { folds, isRatio, anchored });
          expect(fs).toHaveLength(folds);
          expect(fs[fs.length - 1]!.outOfSample.to).toBe(range.to);
          for (let k = 0; k < fs.length; k++) {
            const f = fs[k]!;
            expect(f.inSample.to).toBe(f.outOfSample.from);
            expect(f.inSample.from).toBeGreaterThanOrEqual(range.from);
            expect(f.inSample.from).toBeLessThan(f.inSample.to);
            expect(f.outOfSample.from).toBeLessThan(f.outOfSample.to);
            if (anchored) expect(f.inSample.from).toBe(range.from);
            if (k > 0) expect(f.outOfSample.from).toBe(fs[k - 1]!.outOfSample.to);
          }
          if (!anchored && folds > 1) {
            // Rolling: every IS window has the same length (to rounding).
            const lens = fs.map((f) => f.inSample.to - f.inSample.from);
            expect(Math.max(...lens) - Math.min(...lens)).toBeLessThanOrEqual(2);
          }
        },
      ),
    );
  });

  it('the ratio sets IS vs OOS lengths: 4 folds at 0.75 over 28 days give 12-day IS and 4-day OOS windows', () => {
    const fs = walkForwardFolds({ from: 0, to: 28 * DAY }, { folds: 4, isRatio: 0.75, anchored: false });
    expect(fs.map((f) => [f.inSample.from / DAY, f.inSample.to / DAY, f.outOfSample.to / DAY])).toEqual([
      [0, 12, 16],
      [4, 16, 20],
      [8, 20, 24],
      [12, 24, 28],
    ]);
    const an = walkForwardFolds({ from: 0, to: 28 * DAY }, { folds: 4, isRatio: 0.75, anchored: true });
    expect(an.map((f) => f.inSample.from)).toEqual([0, 0, 0, 0]);
  });

  it('explicit lengths take the most recent folds that fit', () => {
    const fs = walkForwardFolds(
      { from: 0, to: 30 * DAY },
      { folds: 3, anchored: false, isLength: 7 * DAY, oosLength: 2 * DAY },
    );
    expect(fs.map((f) => [f.inSample.from / DAY, f.outOfSample.from / DAY, f.outOfSample.to / DAY])).toEqual([
      [17, 24, 26],
      [19, 26, 28],
      [21, 28, 30],
    ]);
    expect(() =>
      walkForwardFolds(
        { from: 0, to: 10 * DAY },
        { folds: 3, anchored: false, isLength: 7 * DAY, oosLength: 2 * DAY },
      ),
    ).toThrow(/needs 13.00 days of data; the range has 10.00 days/);
  });

  it('errors name the option', () => {
    expect(() => walkForwardFolds({ from: 0, to: DAY }, { folds: 0, anchored: false })).toThrow(
      /--walk-forward/,
    );
    expect(() => walkForwardFolds({ from: 0, to: DAY }, { folds: 2, anchored: false, isRatio: 1 })).toThrow(
      /--is-ratio/,
    );
    expect(parseDuration('7d', '--is-length')).toBe(7 * DAY);
    expect(() => parseDuration('7 days', '--is-length')).toThrow(/--is-length '7 days'/);
  });
});
