// Times as people type them and read them, for every command: one parser (UTC unless the text names a zone,
// impossible dates refused rather than rolled over, epoch numbers told apart by their digit count), one range
// parser on top of it (--timerange FROM-TO, open-ended FROM- and -TO, --last 30d) and one formatter (ISO-8601
// UTC with microseconds). Units: microseconds since the Unix epoch, as everywhere inside; ranges are half-open.

import { Bot4Error, ErrorCode } from './errors.ts';

const ISO =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/i;

const FORMS =
  'use a date (20240808 or 2024-08-08), an ISO time (2024-08-08T23:55:00Z; UTC unless a zone like +02:00 is ' +
  'given) or epoch seconds (10 digits), milliseconds (13) or microseconds (16)';

function invalid(option: string, text: string, why: string): never {
  throw new Bot4Error(ErrorCode.INVALID_ARGUMENT, `${option} ${JSON.stringify(text)} ${why}: ${FORMS}`, {
    option,
    value: text,
  });
}

function daysIn(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/**
 * Parses a time option into micros. ISO dates and times without a zone are UTC; `Z`, `+hh:mm`, `+hhmm` or
 * `+hh` set one. Eight digits are a compact date (20240808, as freqtrade's --timerange writes it); any other
 * bare number is epoch seconds (up to 10 digits), milliseconds (11-13) or micros (14-16).
 * Throws INVALID_ARGUMENT (exit 2) naming the option for anything else, including 2024-02-30 or 24:00.
 */
export function parseTime(text: string, option: string): number {
  let t = text.trim();
  // An 8-digit epoch second is before 1973-03: nobody means that, everybody means a date.
  if (/^\d{8}$/.test(t)) t = `${t.slice(0, 4)}-${t.slice(4, 6)}-${t.slice(6)}`;
  if (/^\d+$/.test(t)) {
    const n = Number(t);
    if (t.length <= 10) return n * 1_000_000;
    if (t.length <= 13) return n * 1000;
    if (t.length <= 16) return n;
    invalid(option, text, 'has too many digits for an epoch time');
  }
  const m = ISO.exec(t);
  if (m === null) invalid(option, text, 'is not a time');
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const [hour, minute, second] = [Number(m[4] ?? 0), Number(m[5] ?? 0), Number(m[6] ?? 0)];
  if (month < 1 || month > 12 || day < 1 || day > daysIn(year, month)) {
    invalid(
      option,
      text,
      `is not a date (${year}-${m[2]} has ${month >= 1 && month <= 12 ? daysIn(year, month) : 'no'} days)`,
    );
  }
  if (hour > 23 || minute > 59 || second > 59) invalid(option, text, 'is not a time of day');
  let offsetMinutes = 0;
  const zone = m[8];
  if (zone !== undefined && zone.toUpperCase() !== 'Z') {
    const digits = zone.slice(1).replace(':', '');
    const oh = Number(digits.slice(0, 2));
    const om = Number(digits.slice(2) || '0');
    if (oh > 14 || om > 59) invalid(option, text, 'has an impossible zone offset');
    offsetMinutes = (zone[0] === '-' ? -1 : 1) * (oh * 60 + om);
  }
  const ms = Date.UTC(year, month - 1, day, hour, minute, second) - offsetMinutes * 60_000;
  return ms * 1000 + Number((m[7] ?? '').padEnd(6, '0'));
}

/** Micros as ISO-8601 UTC text with microseconds (2024-08-08T23:55:00.000000Z); '-' when absent. */
export function isoMicros(us: number | null | undefined): string {
  if (us === null || us === undefined || !Number.isFinite(us)) return '-';
  const ms = Math.floor(us / 1000);
  return `${new Date(ms).toISOString().slice(0, -1)}${String(us - ms * 1000).padStart(3, '0')}Z`;
}

const DURATION_RE = /^(\d+(?:\.\d+)?)\s*(s|m|h|d|w)$/;
const DURATION_UNIT: Readonly<Record<string, number>> = {
  s: 1e6,
  m: 60e6,
  h: 3600e6,
  d: 86_400e6,
  w: 7 * 86_400e6,
};

/** '30s', '90m', '12h', '7d', '2w' -> micros (m is minutes); throws INVALID_ARGUMENT naming the option. */
export function parseDuration(text: string, option: string): number {
  const m = DURATION_RE.exec(text.trim());
  const us = m === null ? Number.NaN : Math.round(Number(m[1]) * DURATION_UNIT[m[2]!]!);
  if (!(us > 0)) {
    throw new Bot4Error(
      ErrorCode.INVALID_ARGUMENT,
      `${option} '${text}' is not a duration like 90m, 12h, 7d or 2w`,
      { option, value: text },
    );
  }
  return us;
}

/** A half-open time range [from, to), micros; an absent end is open. */
export interface TimeRange {
  from?: number;
  to?: number;
}

const RANGE_FORMS =
  'write FROM-TO, FROM- or -TO, e.g. 20240101-20240201, 20240101- or 2024-01-01T12:00Z-2024-02-01';

/**
 * `--timerange` text -> a range: FROM-TO, FROM- (to the end of the data) or -TO (from its start), each end any
 * form parseTime reads. ISO dates hold dashes too, so every dash is tried as the separator and the one split
 * whose two sides both parse wins (two such splits would be ambiguous and are refused). FROM must be before TO.
 */
export function parseTimeRange(text: string, option = '--timerange'): TimeRange {
  const t = text.trim();
  let found: TimeRange | undefined;
  let splits = 0;
  for (let i = t.indexOf('-'); i >= 0; i = t.indexOf('-', i + 1)) {
    const a = t.slice(0, i).trim();
    const b = t.slice(i + 1).trim();
    if (a === '' && b === '') continue;
    let range: TimeRange;
    try {
      range = {
        ...(a === '' ? {} : { from: parseTime(a, option) }),
        ...(b === '' ? {} : { to: parseTime(b, option) }),
      };
    } catch {
      continue;
    }
    splits++;
    found = range;
  }
  if (found === undefined || splits > 1) {
    throw new Bot4Error(
      ErrorCode.INVALID_ARGUMENT,
      `${option} ${JSON.stringify(text)} is ${splits > 1 ? 'ambiguous' : 'not a time range'}: ${RANGE_FORMS}; ${FORMS}`,
      { option, value: text },
    );
  }
  checkRange(found, option);
  return found;
}

function checkRange(r: TimeRange, option: string | undefined): void {
  if (r.from !== undefined && r.to !== undefined && !(r.from < r.to)) {
    const [a, b] = [isoMicros(r.from), isoMicros(r.to)];
    throw new Bot4Error(
      ErrorCode.INVALID_ARGUMENT,
      option === undefined
        ? `--from ${a} is not before --to ${b}: the range is empty`
        : `${option}: ${a} is not before ${b}, the range is empty`,
      { from: r.from, to: r.to },
    );
  }
}

/** The range options a command takes, as typed; any may be absent. */
export interface RangeText {
  from?: string | undefined;
  to?: string | undefined;
  timerange?: string | undefined;
  last?: string | undefined;
}

/** Parsed range options: the range, and `last` (micros) when it counts back from the end of the data. */
export interface RangeSpec extends TimeRange {
  last?: number;
}

/**
 * Reads --from/--to, --timerange and --last together: --timerange replaces --from/--to (giving both is an
 * error); --last N counts back N from --to, or from the end of the data when there is no --to (resolveLast).
 */
export function parseRangeOptions(o: RangeText): RangeSpec {
  if (o.timerange !== undefined && (o.from !== undefined || o.to !== undefined)) {
    throw new Bot4Error(
      ErrorCode.INVALID_ARGUMENT,
      `give --timerange or --from/--to, not both (--timerange ${o.timerange})`,
      { option: '--timerange', value: o.timerange },
    );
  }
  const r: TimeRange =
    o.timerange !== undefined
      ? parseTimeRange(o.timerange, '--timerange')
      : {
          ...(o.from === undefined ? {} : { from: parseTime(o.from, '--from') }),
          ...(o.to === undefined ? {} : { to: parseTime(o.to, '--to') }),
        };
  if (o.timerange === undefined) checkRange(r, undefined);
  if (o.last === undefined) return r;
  const last = parseDuration(o.last, '--last');
  if (r.from !== undefined) {
    throw new Bot4Error(
      ErrorCode.INVALID_ARGUMENT,
      `--last ${o.last} counts back from the end: give no start with it (--from or a --timerange FROM)`,
      { option: '--last', value: o.last },
    );
  }
  return r.to === undefined ? { last } : { from: r.to - last, to: r.to };
}

/** The range once the end of the data is known: `last` becomes from = end - last (the rest unchanged). */
export function resolveLast(spec: RangeSpec, dataEnd: number): TimeRange {
  if (spec.last === undefined) return spec;
  return { from: dataEnd - spec.last, ...(spec.to === undefined ? {} : { to: spec.to }) };
}
