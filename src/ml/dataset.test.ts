import { describe, expect, it } from 'vitest';
import { computeLabels, parseLabel, purgedKFold } from './dataset.ts';

const M = 60e6;

describe('labels', () => {
  const ts = Float64Array.of(0, 1, 2, 3, 4, 5).map((x) => x * M);
  const close = Float64Array.of(100, 101, 99, 103, 100, 100);
  const high = Float64Array.of(100, 101.5, 100, 103, 100, 100);
  const low = Float64Array.of(100, 100.5, 98, 102, 99, 100);

  it('forward-return: the log return to the first row at or after ts + horizon, ending there', () => {
    const { label, end } = computeLabels(parseLabel('forward-return:2m'), ts, close, high, low);
    expect(label[0]).toBe(Math.log(99 / 100));
    expect(end[0]).toBe(2 * M);
    expect(label[3]).toBe(Math.log(100 / 103));
    expect(label[4]).toBeNaN(); // the data ends before the horizon
    expect(end[5]).toBeNaN();
  });

  it('triple-barrier: first barrier touched by later highs/lows, 0 at the horizon, stop first on a tie', () => {
    const tb = parseLabel('triple-barrier:up=0.012,down=0.015,horizon=2m');
    const { label, end } = computeLabels(tb, ts, close, high, low);
    expect([label[0], end[0]]).toEqual([1, 1 * M]); // high 101.5 >= 101.2
    expect([label[1], end[1]]).toEqual([-1, 2 * M]); // low 98 <= 99.485
    expect([label[2], end[2]]).toEqual([1, 3 * M]);
    expect([label[3], end[3]]).toEqual([-1, 4 * M]); // low 99 <= 101.455
    expect(label[4]).toBeNaN();
    const two = Float64Array.of(0, M);
    const flat = Float64Array.of(100, 100);
    const tie = computeLabels(
      parseLabel('triple-barrier:up=0.01,down=0.01,horizon=1m'),
      two,
      flat,
      Float64Array.of(100, 102),
      Float64Array.of(100, 98),
    );
    expect(tie.label[0]).toBe(-1);
  });

  it('refuses malformed labels naming the problem', () => {
    expect(() => parseLabel('forward-return:soon')).toThrow(/'soon' is not a duration/);
    expect(() => parseLabel('triple-barrier:up=0.01,horizon=1h')).toThrow(
      /up and down must be fractions > 0/,
    );
    expect(() => parseLabel('triple-barrier:up=1,down=1,horizon=1h,x=2')).toThrow(/unknown key 'x'/);
    expect(() => parseLabel('sharpe:1h')).toThrow(/is not forward-return/);
  });
});

describe('purged k-fold with embargo', () => {
  it('drops training rows whose label overlaps the test block, and the embargoed rows after it', () => {
    const n = 100;
    const ts = Float64Array.from({ length: n }, (_, i) => i * M);
    const end = Float64Array.from({ length: n }, (_, i) => (i + 5) * M); // each label spans 5 rows
    end[99] = Number.NaN;
    const folds = purgedKFold(ts, end, 4, 3 * M);
    expect(folds).toHaveLength(4);
    const f1 = folds[1]!; // test rows 24..48 (99 labelled rows)
    expect(f1.test[0]).toBe(24);
    expect(f1.test[f1.test.length - 1]).toBe(48);
    const train = new Set(f1.train);
    // Rows 19..23 have labels ending inside the test block: purged. Row 18 ends at 23: kept.
    for (let i = 19; i <= 23; i++) expect(train.has(i)).toBe(false);
    expect(train.has(18)).toBe(true);
    // After the block: labels of the test block end at 53; rows up to 53 overlap, then 3 minutes of embargo.
    for (let i = 49; i <= 55; i++) expect(train.has(i)).toBe(false);
    expect(train.has(56)).toBe(true);
    for (const f of folds)
      for (const i of f.train)
        expect(ts[i]! > (end[f.test[f.test.length - 1]!] ?? 0) || end[i]! < ts[f.test[0]!]!).toBe(true);
    expect(() => purgedKFold(ts, end, 1)).toThrow(/--cv must be a whole number from 2/);
  });
});
