// Properties of the one time-range parser every command uses (--timerange, --last, --from/--to together):
// every form people type reads back to the exact micros, open ends stay open, empty and inverted ranges and
// any junk are refused with INVALID_ARGUMENT (exit 2) naming the option, never another error.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Bot4Error, ErrorCode } from './errors.ts';
import { isoMicros, parseDuration, parseRangeOptions, parseTimeRange, resolveLast } from './time-text.ts';

const DAY = 86_400_000_000;
/** 2000-01-01 .. 2099-12-31, in days and in micros. */
const FIRST_DAY = Date.UTC(2000, 0, 1) / 86_400_000;
const LAST_DAY = Date.UTC(2099, 11, 31) / 86_400_000;
const day = fc.integer({ min: FIRST_DAY, max: LAST_DAY });
const micros = fc.integer({ min: FIRST_DAY * DAY, max: LAST_DAY * DAY + DAY - 1 });
const RUNS = { numRuns: 300, seed: 17 };

/** 20240131 for a day number. */
function ymd(d: number): string {
  return new Date(d * 86_400_000).toISOString().slice(0, 10).replaceAll('-', '');
}

function invalid(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(Bot4Error);
    expect((e as Bot4Error).code).toBe(ErrorCode.INVALID_ARGUMENT);
    return (e as Error).message;
  }
  throw new Error('expected INVALID_ARGUMENT, nothing was thrown');
}

describe('parseTimeRange', () => {
  it('reads the forms of the issue', () => {
    const jan = Date.UTC(2024, 0, 1) * 1000;
    const feb = Date.UTC(2024, 1, 1) * 1000;
    expect(parseTimeRange('20240101-20240201')).toEqual({ from: jan, to: feb });
    expect(parseTimeRange('20240101-')).toEqual({ from: jan });
    expect(parseTimeRange('-20240201')).toEqual({ to: feb });
    expect(parseTimeRange('2024-01-01-2024-02-01')).toEqual({ from: jan, to: feb });
    expect(parseTimeRange('2024-01-01T12:00-05:00-2024-02-01')).toEqual({ from: jan + 17 * 3600e6, to: feb });
    expect(parseTimeRange('1704067200-1706745600')).toEqual({ from: jan, to: feb });
  });

  it('YYYYMMDD-YYYYMMDD is exactly [from, to) of those UTC midnights, for any two days', () => {
    fc.assert(
      fc.property(day, day, (a, b) => {
        fc.pre(a !== b);
        const [lo, hi] = a < b ? [a, b] : [b, a];
        expect(parseTimeRange(`${ymd(lo)}-${ymd(hi)}`)).toEqual({ from: lo * DAY, to: hi * DAY });
        expect(parseTimeRange(` ${ymd(lo)} - ${ymd(hi)} `)).toEqual({ from: lo * DAY, to: hi * DAY });
      }),
      RUNS,
    );
  });

  it('ISO ends (which hold dashes themselves) read back to the microsecond, open ends stay open', () => {
    fc.assert(
      fc.property(micros, micros, (a, b) => {
        fc.pre(a !== b);
        const [lo, hi] = a < b ? [a, b] : [b, a];
        expect(parseTimeRange(`${isoMicros(lo)}-${isoMicros(hi)}`)).toEqual({ from: lo, to: hi });
        expect(parseTimeRange(`${isoMicros(lo)}-`)).toEqual({ from: lo });
        expect(parseTimeRange(`-${isoMicros(hi)}`)).toEqual({ to: hi });
        // Mixed forms: a compact date to epoch milliseconds.
        const d = Math.floor(lo / DAY);
        const ms = Math.floor(hi / 1000);
        fc.pre(d * DAY < ms * 1000);
        expect(parseTimeRange(`${ymd(d)}-${ms}`)).toEqual({ from: d * DAY, to: ms * 1000 });
      }),
      RUNS,
    );
  });

  it('refuses an empty or inverted range, naming both ends', () => {
    fc.assert(
      fc.property(day, day, (a, b) => {
        const [lo, hi] = a <= b ? [a, b] : [b, a];
        expect(invalid(() => parseTimeRange(`${ymd(hi)}-${ymd(lo)}`))).toMatch(
          lo === hi ? /is not before/ : /--timerange: .* is not before .*, the range is empty/,
        );
      }),
      RUNS,
    );
  });

  it('any other text is INVALID_ARGUMENT naming the option and the forms, never another error', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 30 }), (s) => {
        let r: ReturnType<typeof parseTimeRange> | undefined;
        try {
          r = parseTimeRange(s, '--timerange');
        } catch (e) {
          expect(e).toBeInstanceOf(Bot4Error);
          expect((e as Bot4Error).code).toBe(ErrorCode.INVALID_ARGUMENT);
          expect((e as Error).message).toMatch(/^--timerange/);
          return;
        }
        // What parses is a real range: at least one end, ordered.
        expect(r.from !== undefined || r.to !== undefined).toBe(true);
        if (r.from !== undefined && r.to !== undefined) expect(r.from).toBeLessThan(r.to);
      }),
      { numRuns: 2000, seed: 17 },
    );
    expect(invalid(() => parseTimeRange('-'))).toMatch(/not a time range: write FROM-TO, FROM- or -TO/);
    expect(invalid(() => parseTimeRange('20240101'))).toMatch(/not a time range/);
    expect(invalid(() => parseTimeRange('20240230-'))).toMatch(/not a time range/);
  });
});

describe('parseRangeOptions and --last', () => {
  it('--last N counts back from --to, or is kept for the end of the data', () => {
    fc.assert(
      fc.property(
        micros,
        fc.integer({ min: 1, max: 1000 }),
        fc.constantFrom('m', 'h', 'd', 'w'),
        (to, n, u) => {
          const last = parseDuration(`${n}${u}`, '--last');
          expect(parseRangeOptions({ to: isoMicros(to), last: `${n}${u}` })).toEqual({ from: to - last, to });
          expect(parseRangeOptions({ timerange: `-${isoMicros(to)}`, last: `${n}${u}` })).toEqual({
            from: to - last,
            to,
          });
          const open = parseRangeOptions({ last: `${n}${u}` });
          expect(open).toEqual({ last });
          expect(resolveLast(open, to)).toEqual({ from: to - last });
        },
      ),
      RUNS,
    );
    expect(parseDuration('30d', '--last')).toBe(30 * DAY);
  });

  it('refuses contradicting options with a message naming them', () => {
    expect(invalid(() => parseRangeOptions({ timerange: '20240101-', from: '2024-01-01' }))).toMatch(
      /give --timerange or --from\/--to, not both/,
    );
    expect(invalid(() => parseRangeOptions({ from: '2024-01-01', last: '30d' }))).toMatch(
      /--last 30d counts back from the end: give no start with it/,
    );
    expect(invalid(() => parseRangeOptions({ timerange: '20240101-', last: '30d' }))).toMatch(/--last 30d/);
    expect(invalid(() => parseRangeOptions({ from: '2024-02-01', to: '2024-01-01' }))).toMatch(
      /--from 2024-02-01T00:00:00.000000Z is not before --to 2024-01-01T00:00:00.000000Z: the range is empty/,
    );
    expect(invalid(() => parseRangeOptions({ last: '30 days' }))).toMatch(
      /--last '30 days' is not a duration/,
    );
    expect(invalid(() => parseRangeOptions({ last: '0d' }))).toMatch(/--last '0d'/);
    expect(parseRangeOptions({})).toEqual({});
  });
});
