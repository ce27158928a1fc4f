import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decimalToSteps, parseStep } from '../../model/decimal.ts';
import { CsvCells, lastPlainValue, plainDecimals, plainSteps, plainTime } from './csv-bytes.ts';
import { textDecimals } from './decimal-scan.ts';
import { parseTimeCell } from './ohlcv-csv.ts';

// The byte readers are a shortcut of the text path: wherever they answer, they must answer what the text path
// does (and they must answer for the plain forms, or the shortcut is never taken).

/** Text made of the characters that decide a number's reading, plainer forms more often. */
const numberText = fc.oneof(
  fc.stringMatching(/^\d{1,18}(\.\d{0,14})?$/),
  fc.stringMatching(/^[-+]?\d{0,6}\.?\d{0,6}0{0,4}$/),
  fc.string({ unit: fc.constantFrom(...'0123456789.-+eE 0x,'.split('')), maxLength: 12 }),
);

const STEPS = ['1', '0.1', '0.01', '0.00000001', '0.5', '0.25', '10', '5', '1e-12'].map((t) => parseStep(t));

function bytes(s: string): Buffer {
  return Buffer.from(`#${s}#`, 'utf8');
}

describe('csv-bytes', () => {
  it('plainDecimals reads plain cells as textDecimals and Number do, and answers for them', () => {
    fc.assert(
      fc.property(numberText, (s) => {
        const b = bytes(s);
        const d = plainDecimals(b, 1, b.length - 1);
        if (d >= 0) {
          expect(d).toBe(textDecimals(s));
          expect(Object.is(lastPlainValue(), Number(s))).toBe(true);
        }
        if (/^\d{1,15}$|^\d+\.\d+$/.test(s) && s.replace('.', '').length <= 15)
          expect(d).toBeGreaterThanOrEqual(0);
      }),
      { numRuns: 5000 },
    );
    const b = bytes('40000.50');
    expect(plainDecimals(b, 1, b.length - 1)).toBe(1);
    expect(lastPlainValue()).toBe(40000.5);
  });

  it('plainSteps gives decimalToSteps whenever it answers, and answers for exact plain values', () => {
    fc.assert(
      fc.property(numberText, fc.constantFrom(...STEPS), (s, step) => {
        const b = bytes(s);
        const fast = plainSteps(b, 1, b.length - 1, step.scale, step.units);
        const slow = decimalToSteps(s, step, true);
        if (!Number.isNaN(fast)) expect(fast).toBe(slow);
        else if (/^\d+(\.\d*)?$/.test(s) && s.replace('.', '').length <= 12) {
          // A plain value of up to 12 digits: only the text path's own refusals (not a multiple) remain.
          expect(slow).toBeNaN();
        }
      }),
      { numRuns: 5000 },
    );
    const b = bytes('61800.30');
    expect(plainSteps(b, 1, b.length - 1, 1, 1)).toBe(618003);
    expect(plainSteps(b, 1, b.length - 1, 2, 5)).toBe(1236006);
  });

  it('plainTime gives parseTimeCell whenever it answers, and answers for dates, times and epochs', () => {
    const dateText = fc
      .record({
        y: fc.integer({ min: 1000, max: 2999 }),
        mo: fc.integer({ min: 0, max: 13 }),
        d: fc.integer({ min: 0, max: 32 }),
        h: fc.integer({ min: 0, max: 25 }),
        mi: fc.integer({ min: 0, max: 61 }),
        s: fc.integer({ min: 0, max: 61 }),
        frac: fc.stringMatching(/^\d{0,9}$/),
        sep: fc.constantFrom(' ', 'T', '_'),
        tail: fc.constantFrom('', 'Z', '+00:00', 'z', ' '),
        form: fc.integer({ min: 0, max: 3 }),
      })
      .map((r) => {
        const p = (n: number) => String(n).padStart(2, '0');
        const date = `${r.y}-${p(r.mo)}-${p(r.d)}`;
        if (r.form === 0) return date;
        const hm = `${date}${r.sep}${p(r.h)}:${p(r.mi)}`;
        if (r.form === 1) return hm + r.tail;
        return `${hm}:${p(r.s)}${r.form === 3 ? `.${r.frac}` : ''}${r.tail}`;
      });
    const text = fc.oneof(
      dateText,
      fc.stringMatching(/^\d{1,20}$/),
      numberText,
      fc.string({ maxLength: 24 }),
    );
    fc.assert(
      fc.property(text, (s) => {
        const b = bytes(s);
        const fast = plainTime(b, 1, b.length - 1);
        if (!Number.isNaN(fast)) expect(fast).toBe(parseTimeCell(s));
      }),
      { numRuns: 5000 },
    );
    for (const s of ['2021-12-31 00:00:00', '2021-12-31T23:59:00.123456Z', '2021-12-31', '1640995200000']) {
      const b = bytes(s);
      expect(plainTime(b, 1, b.length - 1)).toBe(parseTimeCell(s));
    }
    const b = bytes('2021-12-31 23:59:00+00:00');
    expect(Number.isNaN(plainTime(b, 1, b.length - 1))).toBe(true);
  });

  it('CsvCells splits lines and cells as split("\\n") and split(",") do, a CR before the newline dropped', () => {
    const cellText = fc.string({ unit: fc.constantFrom(...'ab1,é\r'.split('')), maxLength: 8 });
    fc.assert(
      fc.property(fc.array(cellText, { maxLength: 6 }), fc.integer({ min: 1, max: 4 }), (lines, width) => {
        const text = lines.join('\n');
        const buf = Buffer.from(text, 'utf8');
        const row = new CsvCells(width);
        const want = text.split('\n').map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
        const got: string[] = [];
        for (let at = 0; at < buf.length; ) {
          at = row.line(buf, at);
          const line = row.lineText();
          got.push(line);
          const cells = line.split(',');
          expect(row.count).toBe(cells.length);
          for (let c = 0; c < Math.min(width, cells.length); c++) expect(row.text(c)).toBe(cells[c]);
        }
        // A trailing newline ends the last line; it does not start an empty one.
        expect(got).toEqual(text === '' ? [] : text.endsWith('\n') ? want.slice(0, -1) : want);
      }),
      { numRuns: 2000 },
    );
  });
});
