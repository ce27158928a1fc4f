import { describe, expect, it } from 'vitest';
import { isoMicros, parseTime } from './time-text.ts';

const at = (...a: [number, number, number, number?, number?, number?]) =>
  Date.UTC(a[0], a[1] - 1, a[2], a[3] ?? 0, a[4] ?? 0, a[5] ?? 0) * 1000;

describe('parseTime: one parser for every command', () => {
  it('reads dates and times without a zone as UTC, whatever the machine zone', () => {
    expect(parseTime('2024-08-08', '--from')).toBe(at(2024, 8, 8));
    expect(parseTime('2024-08-08T23:55', '--from')).toBe(at(2024, 8, 8, 23, 55));
    expect(parseTime('2024-08-08 23:55:01.5', '--from')).toBe(at(2024, 8, 8, 23, 55, 1) + 500_000);
    expect(parseTime('2024-08-08T23:55:01.000001Z', '--from')).toBe(at(2024, 8, 8, 23, 55, 1) + 1);
  });

  it('applies a zone when one is given', () => {
    expect(parseTime('2024-08-09T01:55:00+02:00', '--to')).toBe(at(2024, 8, 8, 23, 55));
    expect(parseTime('2024-08-08T20:25:00-0330', '--to')).toBe(at(2024, 8, 8, 23, 55));
    expect(parseTime('2024-08-09T01:55+02', '--to')).toBe(at(2024, 8, 8, 23, 55));
  });

  it('tells epoch seconds, milliseconds and microseconds apart by their digits', () => {
    expect(parseTime('1723161300', '--from')).toBe(1_723_161_300_000_000);
    expect(parseTime('1723161300000', '--from')).toBe(1_723_161_300_000_000);
    expect(parseTime('1723161300000000', '--from')).toBe(1_723_161_300_000_000);
    expect(() => parseTime('17231613000000000', '--from')).toThrow(/too many digits/);
  });

  it('refuses impossible dates and times instead of rolling them over', () => {
    expect(() => parseTime('2024-02-30', '--from')).toThrow(
      /--from "2024-02-30" is not a date \(2024-02 has 29 days\)/,
    );
    expect(() => parseTime('2023-02-29', '--from')).toThrow(/has 28 days/);
    expect(() => parseTime('2024-13-01', '--to')).toThrow(/--to "2024-13-01" is not a date/);
    expect(() => parseTime('2024-08-08T24:00', '--to')).toThrow(/not a time of day/);
    expect(() => parseTime('yesterday', '--to')).toThrow(
      /--to "yesterday" is not a time: use a date \(20240808/,
    );
    expect(parseTime('2024-02-29', '--from')).toBe(at(2024, 2, 29));
  });

  it('formats micros as ISO UTC text with microseconds', () => {
    expect(isoMicros(at(2024, 8, 8, 23, 55) + 1)).toBe('2024-08-08T23:55:00.000001Z');
    expect(isoMicros(null)).toBe('-');
    expect(isoMicros(Number.NaN)).toBe('-');
  });
});
