// Times as people type them and read them, for every command: one parser (UTC unless the text names a zone,
// impossible dates refused rather than rolled over, epoch numbers told apart by their digit count) and one
// formatter (ISO-8601 UTC with microseconds). Units: microseconds since the Unix epoch, as everywhere inside.

import { Bot4Error, ErrorCode } from './errors.ts';

const ISO =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/i;

const FORMS =
  'use an ISO date or time (2024-08-08, 2024-08-08T23:55:00Z; UTC unless a zone like +02:00 is given) ' +
  'or epoch seconds (10 digits), milliseconds (13) or microseconds (16)';

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
 * `+hh` set one. A bare number is epoch seconds (up to 10 digits), milliseconds (11-13) or micros (14-16).
 * Throws INVALID_ARGUMENT (exit 2) naming the option for anything else, including 2024-02-30 or 24:00.
 */
export function parseTime(text: string, option: string): number {
  const t = text.trim();
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
