// Byte-level reading of CSV cells for the candle loaders' common case: plain decimals ("40000.5") and UTC
// date or epoch times, read straight from the file's bytes (readLineBytes) without a string per line or cell.
// Each reader accepts only the plain forms and returns NaN (or -1) for anything else: the caller then decodes
// the cell and takes the string path (decimalToSteps, textDecimals, parseTimeCell), which decides and reports
// exactly as before. So a fast result is always the string path's result, never a different one.

import { daysFromCivil } from './ohlcv-common.ts';

/** 10^k for k in 0..22, exact doubles. */
const POW10 = Array.from({ length: 23 }, (_, k) => 10 ** k);
const MAX_SAFE = Number.MAX_SAFE_INTEGER;
const COMMA = 44;
const CR = 13;
const LF = 10;

/** Where the cells of one line are in a buffer: cell i is buf[start(i), end(i)). Reused line after line. */
export class CsvCells {
  buf: Buffer = Buffer.alloc(0);
  /** The line's bytes, its "\r\n" or "\n" excluded. */
  from = 0;
  to = 0;
  /** Cells in the line (commas + 1), as line.split(',').length counts them. */
  count = 0;
  private readonly starts: Int32Array;
  private readonly ends: Int32Array;
  private readonly width: number;

  /** `width`: cells whose bounds are kept (the columns a loader reads are all below it). */
  constructor(width: number) {
    this.width = width;
    this.starts = new Int32Array(width);
    this.ends = new Int32Array(width);
  }

  /**
   * Reads the line starting at `from` (up to its "\n" or the buffer's end); returns where the next line starts.
   * A "\r" before the "\n" is not part of the line, as readLines strips it.
   */
  line(buf: Buffer, from: number): number {
    this.buf = buf;
    const n = buf.length;
    const width = this.width;
    const starts = this.starts;
    const ends = this.ends;
    let k = 0;
    starts[0] = from;
    let i = from;
    for (; i < n; i++) {
      const c = buf[i]!;
      if (c === COMMA) {
        if (k < width) ends[k] = i;
        k++;
        if (k < width) starts[k] = i + 1;
      } else if (c === LF) {
        break;
      }
    }
    const to = i > from && buf[i - 1] === CR ? i - 1 : i;
    if (k < width) ends[k] = to;
    this.from = from;
    this.to = to;
    this.count = k + 1;
    return i + 1;
  }

  start(cell: number): number {
    return this.starts[cell]!;
  }

  end(cell: number): number {
    return this.ends[cell]!;
  }

  /** Cell `cell` (< width) decoded as text: what line.split(',')[cell] gives. */
  text(cell: number): string {
    return this.buf.toString('utf8', this.starts[cell], this.ends[cell]);
  }

  /** The whole line decoded as text. */
  lineText(): string {
    return this.buf.toString('utf8', this.from, this.to);
  }
}

/** The value of the last plainDecimals cell, as Number(text) gives it. */
let plainValue = 0;

export function lastPlainValue(): number {
  return plainValue;
}

/**
 * For step inference: a cell of digits with at most one point and at most 15 digits gives the decimals it shows
 * without trailing zeros (textDecimals) and its value (lastPlainValue; m / 10^f is the correctly rounded
 * double, as Number(text) is). -1 for any other cell (sign, exponent, spaces, more digits, empty).
 */
export function plainDecimals(buf: Buffer, from: number, to: number): number {
  let m = 0;
  let digits = 0;
  let point = -1;
  for (let i = from; i < to; i++) {
    const c = buf[i]!;
    if (c >= 48 && c <= 57) {
      m = m * 10 + (c - 48);
      digits++;
    } else if (c === 46 && point < 0) {
      point = i;
    } else {
      return -1;
    }
  }
  if (digits === 0 || digits > 15) return -1;
  if (point < 0) {
    plainValue = m;
    return 0;
  }
  plainValue = m / POW10[to - point - 1]!;
  let end = to;
  while (end > point + 1 && buf[end - 1] === 48) end--;
  return Math.min(end - point - 1, 13);
}

/**
 * decimalToSteps for a plain cell (digits, at most one point) that converts exactly: the count of steps of
 * 10^-scale * units. NaN whenever the string path is needed to decide (sign, exponent, finer than the step,
 * beyond 2^53, not a multiple, not plain): the caller then converts the text, which also reports why.
 */
export function plainSteps(buf: Buffer, from: number, to: number, scale: number, units: number): number {
  let m = 0;
  let digits = 0;
  let seenPoint = false;
  let frac = 0;
  for (let i = from; i < to; i++) {
    const c = buf[i]!;
    const d = c - 48;
    if (d >= 0 && d <= 9) {
      digits++;
      if (!seenPoint) {
        m = m * 10 + d;
      } else if (frac < scale) {
        m = m * 10 + d;
        frac++;
      } else if (d !== 0) {
        return Number.NaN;
      }
    } else if (c === 46 && !seenPoint) {
      seenPoint = true;
    } else {
      return Number.NaN;
    }
  }
  if (digits === 0 || m > MAX_SAFE) return Number.NaN;
  if (frac < scale) {
    m *= POW10[scale - frac]!;
    if (m > MAX_SAFE) return Number.NaN;
  }
  if (units !== 1) {
    if (m % units !== 0) return Number.NaN;
    m /= units;
  }
  return m;
}

/** Two ASCII digits at i as a number, NaN when either is not a digit. */
function two(buf: Buffer, i: number): number {
  const a = buf[i]! - 48;
  const b = buf[i + 1]! - 48;
  return a >= 0 && a <= 9 && b >= 0 && b <= 9 ? a * 10 + b : Number.NaN;
}

/** The last date plainTime read (yyyymmdd) and its start in micros. */
let lastDate = -1;
let lastDayMicros = 0;

/**
 * parseTimeCell for the plain forms: "YYYY-MM-DD", "YYYY-MM-DD HH:MM[:SS[.f...]]" (or "T"), with an optional
 * "Z", and integer epochs of up to 15 digits (seconds, ms or us by magnitude). NaN for anything else (other
 * forms, bad digits or ranges): the caller then parses the text.
 */
export function plainTime(buf: Buffer, from: number, to: number): number {
  const n = to - from;
  if (n >= 10 && buf[from + 4] === 45 && buf[from + 7] === 45) {
    const y = two(buf, from) * 100 + two(buf, from + 2);
    const mo = two(buf, from + 5);
    const d = two(buf, from + 8);
    if (!(mo >= 1 && mo <= 12 && d >= 1 && d <= 31)) return Number.NaN;
    // Rows of candle files share their date for hours or days: the day's start is computed once per date.
    const date = (y * 100 + mo) * 100 + d;
    if (date !== lastDate) {
      lastDate = date;
      lastDayMicros = daysFromCivil(y, mo, d) * 86_400_000_000;
    }
    let us = lastDayMicros;
    if (n === 10) return us;
    const sep = buf[from + 10];
    if ((sep !== 32 && sep !== 84) || n < 16 || buf[from + 13] !== 58) return Number.NaN;
    const hh = two(buf, from + 11);
    const mi = two(buf, from + 14);
    let sec = 0;
    let i = from + 16;
    if (i < to && buf[i] === 58) {
      if (i + 3 > to) return Number.NaN;
      sec = two(buf, i + 1);
      i += 3;
    }
    if (!(hh <= 23 && mi <= 59 && sec <= 60)) return Number.NaN;
    us += hh * 3_600_000_000 + mi * 60_000_000 + sec * 1_000_000;
    if (i < to && buf[i] === 46) {
      i++;
      let scale = 100_000;
      let frac = 0;
      const start = i;
      for (; i < to; i++) {
        const c = buf[i]! - 48;
        if (c < 0 || c > 9) break;
        frac += c * scale;
        scale = Math.floor(scale / 10);
      }
      if (i === start) return Number.NaN;
      us += frac;
    }
    if (i === to) return us;
    return i === to - 1 && buf[i] === 90 /* Z */ ? us : Number.NaN;
  }
  if (n === 0 || n > 15) return Number.NaN;
  let v = 0;
  for (let i = from; i < to; i++) {
    const c = buf[i]! - 48;
    if (c < 0 || c > 9) return Number.NaN;
    v = v * 10 + c;
  }
  if (v < 1e11) return v * 1e6;
  if (v < 1e14) return v * 1e3;
  return v;
}
