// Exact conversion between decimal strings (venue messages, metadata, reports) and integer step counts
// (ticks, lots, money units). No binary floating point touches a decimal string: digits are accumulated as an
// integer and checked against the step, so "61800.30" at 0.1 is exactly 618003. Integers stay within 2^53.

import { Bot4Error, ErrorCode } from '../core/errors.ts';

/** Why a conversion failed. The hot-path functions return NaN and leave the reason in `lastDecimalStatus()`. */
export const DecimalStatus = {
  OK: 0,
  EMPTY: 1,
  SYNTAX: 2,
  NEGATIVE: 3,
  NOT_MULTIPLE: 4,
  OUT_OF_RANGE: 5,
  NOT_FINITE: 6,
  OFF_GRID: 7,
} as const;
export type DecimalStatus = (typeof DecimalStatus)[keyof typeof DecimalStatus];

/**
 * Rounding of an exact rational to an integer. UP/DOWN are away from/toward zero; HALF_UP breaks ties away
 * from zero (commercial rounding, symmetric for negatives); HALF_EVEN is banker's rounding.
 */
export const Rounding = {
  HALF_EVEN: 0,
  HALF_UP: 1,
  UP: 2,
  DOWN: 3,
  FLOOR: 4,
  CEIL: 5,
} as const;
export type Rounding = (typeof Rounding)[keyof typeof Rounding];

const ROUNDING_NAMES = ['HALF_EVEN', 'HALF_UP', 'UP', 'DOWN', 'FLOOR', 'CEIL'] as const;
export function roundingName(mode: Rounding): string {
  return ROUNDING_NAMES[mode] ?? `Rounding(${mode})`;
}

export function isRounding(x: number): x is Rounding {
  return Number.isInteger(x) && x >= 0 && x < ROUNDING_NAMES.length;
}

const MAX_SAFE = Number.MAX_SAFE_INTEGER;
/** Step scales above this are refused: 10^k stops being an exact double at k = 23. */
export const MAX_SCALE = 22;
/** Exponents in venue metadata are small ("1e-8"); anything wilder is garbage, not a number to honour. */
const MAX_EXPONENT = 1000;

const POW10: readonly number[] = (() => {
  const out: number[] = [];
  let p = 1;
  for (let i = 0; i <= MAX_SCALE; i++) {
    out.push(p);
    p *= 10;
  }
  return out;
})();

/** 10^k as an exact double, 0 <= k <= 22. */
export function pow10(k: number): number {
  const p = POW10[k];
  if (p === undefined)
    throw new Bot4Error(ErrorCode.INVALID_ARGUMENT, `pow10(${k}): k must be in 0..${MAX_SCALE}`);
  return p;
}

let status: DecimalStatus = DecimalStatus.OK;

/** Reason for the last NaN returned by a hot-path conversion in this module (OK after a success). */
export function lastDecimalStatus(): DecimalStatus {
  return status;
}

function fail(s: DecimalStatus): number {
  status = s;
  return Number.NaN;
}

/**
 * A positive decimal step (tick size, lot size, money unit, multiplier): value = units * 10^-scale with the
 * smallest scale >= 0, so "0.10" is {units 1, scale 1} and "0.25" is {units 25, scale 2}.
 */
export interface Step {
  /** Canonical decimal text without exponent or redundant zeros ("0.1" for "0.10000000"). */
  readonly text: string;
  readonly units: number;
  readonly unitsBig: bigint;
  readonly scale: number;
  /** Nearest double, for display and float heuristics only, never for arithmetic on amounts. */
  readonly value: number;
}

function makeStep(units: bigint, scale: number): Step {
  return {
    text: scaledToDecimal(units, scale, 0),
    units: Number(units),
    unitsBig: units,
    scale,
    value: Number(units) / 10 ** scale,
  };
}

const SCALE_STEPS: Step[] = [];
for (let k = 0; k <= MAX_SCALE; k++) SCALE_STEPS.push(makeStep(1n, k));

/** The step 10^-scale (a currency's money unit). */
export function stepOfScale(scale: number): Step {
  const s = SCALE_STEPS[scale];
  if (s === undefined || !Number.isInteger(scale)) {
    throw new Bot4Error(ErrorCode.INVALID_ARGUMENT, `scale ${scale} must be an integer in 0..${MAX_SCALE}`, {
      scale,
    });
  }
  return s;
}

/**
 * Parse a step such as "0.01000000", "0.5", "10" or "1e-8". Throws when it is not a positive decimal;
 * `what` and `context` name it in the message ("tick size", "BTCUSDT").
 */
export function parseStep(text: string, what = 'step', context = ''): Step {
  const where = context === '' ? '' : ` (${context})`;
  const st = parseExact(text);
  if (st !== DecimalStatus.OK || exNeg || exMant === 0n) {
    throw new Bot4Error(
      ErrorCode.DECIMAL_INVALID,
      `${what} ${JSON.stringify(text)} is not a positive decimal${where}; expected e.g. "0.01" or "1e-8"`,
      { what, value: text, context },
    );
  }
  let mant = exMant;
  let exp = exExp;
  while (mant % 10n === 0n) {
    mant /= 10n;
    exp += 1;
  }
  // A whole-number step keeps its zeros in `units` so that scale never goes negative.
  if (exp > 0) {
    mant *= 10n ** BigInt(exp);
    exp = 0;
  }
  const scale = exp === 0 ? 0 : -exp;
  if (scale > MAX_SCALE || mant > BigInt(MAX_SAFE)) {
    throw new Bot4Error(
      ErrorCode.DECIMAL_INVALID,
      `${what} ${text} is out of range${where}: at most ${MAX_SCALE} decimal places and below 2^53 units`,
      { what, value: text, context },
    );
  }
  return makeStep(mant, scale);
}

/**
 * Hot path: decimal text to a whole number of steps, e.g. ("61800.30", 0.1) -> 618003. Returns NaN when the
 * text is not a decimal, is negative and `signed` is false, is not a multiple of the step, or the count is
 * beyond 2^53 (see lastDecimalStatus()). Plain digits allocate nothing; exponents take the exact slow path.
 */
export function decimalToSteps(text: string, step: Step, signed = false): number {
  const n = text.length;
  if (n === 0) return fail(DecimalStatus.EMPTY);
  const scale = step.scale;
  let i = 0;
  let neg = false;
  let c = text.charCodeAt(0);
  if (c === 45) {
    neg = true;
    i = 1;
  } else if (c === 43) {
    i = 1;
  }
  let m = 0;
  let digits = 0;
  let seenPoint = false;
  let frac = 0;
  let excess = false;
  for (; i < n; i++) {
    c = text.charCodeAt(i);
    const d = c - 48;
    if (d >= 0 && d <= 9) {
      digits++;
      if (!seenPoint) {
        m = m * 10 + d;
      } else if (frac < scale) {
        m = m * 10 + d;
        frac++;
      } else if (d !== 0) {
        // A non-zero digit finer than the step's scale can never be a multiple of the step.
        excess = true;
      }
    } else if (c === 46 && !seenPoint) {
      seenPoint = true;
    } else if (c === 101 || c === 69) {
      return slowSteps(text, step, signed, -1);
    } else {
      return fail(DecimalStatus.SYNTAX);
    }
  }
  if (digits === 0) return fail(DecimalStatus.SYNTAX);
  if (neg && !signed && (m !== 0 || excess)) return fail(DecimalStatus.NEGATIVE);
  if (excess) return fail(DecimalStatus.NOT_MULTIPLE);
  // Once m passes 2^53 it only grows, so one check at the end catches every inexact accumulation.
  if (m > MAX_SAFE) return slowSteps(text, step, signed, -1);
  if (frac < scale) {
    m *= POW10[scale - frac]!;
    if (m > MAX_SAFE) return slowSteps(text, step, signed, -1);
  }
  const u = step.units;
  if (u !== 1) {
    if (m % u !== 0) return fail(DecimalStatus.NOT_MULTIPLE);
    m /= u;
  }
  status = DecimalStatus.OK;
  return neg && m !== 0 ? -m : m;
}

/**
 * Decimal text to steps, rounding values between steps with `mode` (e.g. FLOOR a venue's maxQty onto the lot
 * grid). Edge use: always takes the exact BigInt path. NaN plus status on bad text or overflow.
 */
export function decimalToStepsRounded(text: string, step: Step, mode: Rounding, signed = false): number {
  return slowSteps(text, step, signed, mode);
}

// Scratch result of parseExact: value = (exNeg ? -1 : 1) * exMant * 10^exExp.
let exNeg = false;
let exMant = 0n;
let exExp = 0;

/** Exact parse of [+-]digits[.digits][(e|E)[+-]digits] into the scratch fields. Edge code: allocates. */
function parseExact(text: string): DecimalStatus {
  const n = text.length;
  if (n === 0) return DecimalStatus.EMPTY;
  let i = 0;
  exNeg = false;
  let c = text.charCodeAt(0);
  if (c === 45 || c === 43) {
    exNeg = c === 45;
    i = 1;
  }
  let digitText = '';
  let fracDigits = 0;
  let seenPoint = false;
  let digits = 0;
  for (; i < n; i++) {
    c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      digitText += text[i];
      digits++;
      if (seenPoint) fracDigits++;
    } else if (c === 46 && !seenPoint) {
      seenPoint = true;
    } else {
      break;
    }
  }
  if (digits === 0) return DecimalStatus.SYNTAX;
  let exp = 0;
  if (i < n) {
    c = text.charCodeAt(i);
    if (c !== 101 && c !== 69) return DecimalStatus.SYNTAX;
    i++;
    let expNeg = false;
    c = text.charCodeAt(i);
    if (c === 45 || c === 43) {
      expNeg = c === 45;
      i++;
    }
    let expDigits = 0;
    for (; i < n; i++) {
      c = text.charCodeAt(i);
      if (c < 48 || c > 57) return DecimalStatus.SYNTAX;
      exp = exp * 10 + (c - 48);
      expDigits++;
      if (exp > MAX_EXPONENT) return DecimalStatus.OUT_OF_RANGE;
    }
    if (expDigits === 0) return DecimalStatus.SYNTAX;
    if (expNeg) exp = -exp;
  }
  exMant = BigInt(digitText);
  exExp = exp - fracDigits;
  return DecimalStatus.OK;
}

/** Exact BigInt conversion. mode -1: the value must be a multiple of the step; else round with `mode`. */
function slowSteps(text: string, step: Step, signed: boolean, mode: number): number {
  const st = parseExact(text);
  if (st !== DecimalStatus.OK) return fail(st);
  if (exMant === 0n) {
    status = DecimalStatus.OK;
    return 0;
  }
  if (exNeg && !signed) return fail(DecimalStatus.NEGATIVE);
  const k = exExp + step.scale;
  let num = exNeg ? -exMant : exMant;
  let den = step.unitsBig;
  if (k >= 0) num *= 10n ** BigInt(k);
  else den *= 10n ** BigInt(-k);
  let q: bigint;
  if (mode < 0) {
    if (num % den !== 0n) return fail(DecimalStatus.NOT_MULTIPLE);
    q = num / den;
  } else {
    q = divRoundBig(num, den, mode as Rounding);
  }
  if (q > BIG_MAX_SAFE || q < -BIG_MAX_SAFE) return fail(DecimalStatus.OUT_OF_RANGE);
  status = DecimalStatus.OK;
  return Number(q);
}

const BIG_MAX_SAFE = BigInt(MAX_SAFE);

/** Names the input in error messages: `${what} ${value} is not a multiple of ${stepName} ${step} (${context})`. */
export interface DecimalLabel {
  /** The field: 'price', 'qty', 'minNotional'... */
  readonly what?: string;
  /** What the step is called: 'tick size', 'lot size', 'USDT unit'... */
  readonly stepName?: string;
  /** Instrument symbol, file and line, config key... */
  readonly context?: string;
  readonly signed?: boolean;
}

/** The largest amount held exactly at `step`: (2^53 - 1) steps, as decimal text ("9007199254740.991" at 0.001). */
function largestAmount(step: Step): string {
  const digits = (BIG_MAX_SAFE * step.unitsBig).toString();
  if (step.scale <= 0) return digits + '0'.repeat(-step.scale);
  const whole = digits.slice(0, -step.scale) || '0';
  const frac = digits.slice(-step.scale).padStart(step.scale, '0').replace(/0+$/, '');
  return frac === '' ? whole : `${whole}.${frac}`;
}

/** Message for a failed conversion of `value` at `step`, naming the field, the step and the context. */
export function decimalErrorMessage(
  st: DecimalStatus,
  value: string | number,
  step: Step,
  label: DecimalLabel = {},
): string {
  const what = label.what ?? 'value';
  const stepName = label.stepName ?? 'step';
  const where = label.context === undefined || label.context === '' ? '' : ` (${label.context})`;
  const shown = typeof value === 'string' ? value : String(value);
  switch (st) {
    case DecimalStatus.EMPTY:
      return `${what} is empty${where}; expected a decimal number such as "1.5"`;
    case DecimalStatus.SYNTAX:
      return `${what} ${JSON.stringify(shown)} is not a decimal number${where}; expected digits with an optional sign, point and exponent, e.g. "61800.3" or "1e-8"`;
    case DecimalStatus.NEGATIVE:
      return `${what} ${shown} is negative${where}; it must be zero or positive`;
    case DecimalStatus.NOT_MULTIPLE:
      return `${what} ${shown} is not a multiple of ${stepName} ${step.text}${where}`;
    case DecimalStatus.OUT_OF_RANGE:
      return `${what} ${shown} is too large${where}: with ${stepName} ${step.text} the largest is ${largestAmount(step)}`;
    case DecimalStatus.NOT_FINITE:
      return `${what} ${shown} is not a finite number${where}`;
    case DecimalStatus.OFF_GRID:
      return `${what} ${shown} is not on the grid of ${stepName} ${step.text}${where} (a float that far from a multiple is not a rounding artefact)`;
    default:
      return `${what} ${shown} could not be converted${where}`;
  }
}

/** Edge: like decimalToSteps but throws a Bot4Error (DECIMAL_INVALID) whose message names the bad input. */
export function parseDecimalSteps(text: string, step: Step, label: DecimalLabel = {}): number {
  const v = decimalToSteps(text, step, label.signed === true);
  if (!Number.isNaN(v)) return v;
  const st = status;
  throw new Bot4Error(ErrorCode.DECIMAL_INVALID, decimalErrorMessage(st, text, step, label), {
    status: st,
    value: text,
    step: step.text,
    what: label.what,
    context: label.context,
  });
}

/**
 * A float (Parquet, JSON number) to steps: the nearest multiple of the step, provided the float is within
 * `toleranceSteps` of it (plus a few ulps of the count, the error a double carries for a decimal).
 * NaN plus status (NOT_FINITE, OFF_GRID, OUT_OF_RANGE, NEGATIVE) otherwise. No allocation.
 */
export function floatToSteps(x: number, step: Step, signed = false, toleranceSteps = 1e-6): number {
  if (!Number.isFinite(x)) return fail(DecimalStatus.NOT_FINITE);
  if (x < 0 && !signed) return fail(DecimalStatus.NEGATIVE);
  const q = step.units === 1 ? x * POW10[step.scale]! : (x * POW10[step.scale]!) / step.units;
  const r = Math.round(q);
  if (!Number.isSafeInteger(r)) return fail(DecimalStatus.OUT_OF_RANGE);
  // 2^-50 relative: the decimal-to-double error (2^-53) plus the scaling's roundings, with margin.
  if (Math.abs(q - r) > toleranceSteps + Math.abs(q) * 8.881784197001252e-16)
    return fail(DecimalStatus.OFF_GRID);
  status = DecimalStatus.OK;
  return r + 0; // + 0 turns -0 into 0
}

/** Edge: floatToSteps that throws a Bot4Error naming the value, the step and the context. */
export function parseFloatSteps(
  x: number,
  step: Step,
  label: DecimalLabel = {},
  toleranceSteps = 1e-6,
): number {
  const v = floatToSteps(x, step, label.signed === true, toleranceSteps);
  if (!Number.isNaN(v)) return v;
  const st = status;
  throw new Bot4Error(ErrorCode.DECIMAL_INVALID, decimalErrorMessage(st, x, step, label), {
    status: st,
    value: x,
    step: step.text,
    what: label.what,
    context: label.context,
  });
}

/**
 * Integer `value` * 10^-scale as exact decimal text, trailing fractional zeros removed down to `minDecimals`:
 * (618003, 1, 0) -> "61800.3"; (618003, 1, 2) -> "61800.30"; (-5, 8, 0) -> "-0.00000005".
 */
export function scaledToDecimal(value: number | bigint, scale: number, minDecimals = 0): string {
  if (typeof value === 'number' && !Number.isSafeInteger(value)) {
    throw new Bot4Error(
      ErrorCode.INVALID_ARGUMENT,
      `cannot format ${value}: a scaled amount must be a safe integer (|x| <= 2^53-1)`,
      { value },
    );
  }
  const neg = value < 0;
  let s = (neg ? -value : value).toString();
  if (scale > 0) {
    if (s.length <= scale) s = s.padStart(scale + 1, '0');
    const cut = s.length - scale;
    let end = s.length;
    const keep = cut + minDecimals;
    while (end > keep && s.charCodeAt(end - 1) === 48) end--;
    s = end === cut ? s.slice(0, cut) : `${s.slice(0, cut)}.${s.slice(cut, end)}`;
    if (minDecimals > scale) s += (end === cut ? '.' : '') + '0'.repeat(minDecimals - scale);
  } else if (minDecimals > 0) {
    s += `.${'0'.repeat(minDecimals)}`;
  }
  return neg ? `-${s}` : s;
}

/**
 * Steps back to exact decimal text: (618003, step 0.1) -> "61800.3". `fixed` pads the fraction: true to the
 * step's decimals, a number to at least that many ((618003, 0.1, 2) -> "61800.30"); digits are never dropped.
 * Edge code (builds a string).
 */
export function stepsToDecimal(steps: number, step: Step, fixed: boolean | number = false): string {
  if (!Number.isSafeInteger(steps)) {
    throw new Bot4Error(
      ErrorCode.INVALID_ARGUMENT,
      `cannot format ${steps} steps of ${step.text}: not a safe integer`,
      {
        steps,
        step: step.text,
      },
    );
  }
  const v = steps * step.units;
  const scaled: number | bigint = Number.isSafeInteger(v) ? v : BigInt(steps) * step.unitsBig;
  return scaledToDecimal(scaled, step.scale, fixed === true ? step.scale : fixed === false ? 0 : fixed);
}

/**
 * round(n / d) for safe integers n and d != 0, exact in doubles. NaN when d is 0.
 * The quotient comes from one division, corrected by one step: a correctly rounded n / d can only overshoot
 * (an integer quotient is representable), and n - q * d is exact while |n| + d <= 2^53. Beyond that, n % d
 * (exact, but a libc fmod call costing ~15 ns) takes over. 2|r| < 2^54 is exact.
 */
export function divRound(n: number, d: number, mode: Rounding): number {
  if (d === 1) return n + 0;
  if (d === 0) return Number.NaN;
  if (d < 0) {
    n = -n;
    d = -d;
  }
  let q: number;
  let r: number;
  if ((n < 0 ? -n : n) + d <= MAX_SAFE) {
    q = Math.trunc(n / d);
    r = n - q * d;
    if (n >= 0) {
      if (r < 0) {
        q -= 1;
        r += d;
      }
    } else if (r > 0) {
      q += 1;
      r -= d;
    }
  } else {
    r = n % d;
    q = (n - r) / d;
  }
  if (r === 0) return q + 0;
  const away = n < 0 ? q - 1 : q + 1;
  switch (mode) {
    case Rounding.DOWN:
      return q + 0;
    case Rounding.UP:
      return away;
    case Rounding.FLOOR:
      return n < 0 ? away : q;
    case Rounding.CEIL:
      return n > 0 ? away : q + 0;
    case Rounding.HALF_UP: {
      const twice = 2 * Math.abs(r);
      return twice >= d ? away : q + 0;
    }
    default: {
      const twice = 2 * Math.abs(r);
      if (twice > d) return away;
      if (twice < d) return q + 0;
      return q % 2 === 0 ? q + 0 : away;
    }
  }
}

/** BigInt twin of divRound (d != 0). */
export function divRoundBig(n: bigint, d: bigint, mode: Rounding): bigint {
  if (d < 0n) {
    n = -n;
    d = -d;
  }
  const r = n % d;
  const q = n / d;
  if (r === 0n) return q;
  const away = n < 0n ? q - 1n : q + 1n;
  switch (mode) {
    case Rounding.DOWN:
      return q;
    case Rounding.UP:
      return away;
    case Rounding.FLOOR:
      return n < 0n ? away : q;
    case Rounding.CEIL:
      return n > 0n ? away : q;
    case Rounding.HALF_UP: {
      const twice = 2n * (r < 0n ? -r : r);
      return twice >= d ? away : q;
    }
    default: {
      const twice = 2n * (r < 0n ? -r : r);
      if (twice > d) return away;
      if (twice < d) return q;
      return q % 2n === 0n ? q : away;
    }
  }
}

/**
 * round(a*b*c / (d*e)) for safe integers, exactly: in doubles while every product is a safe integer (the
 * common case, no allocation), else in BigInt. NaN (status OUT_OF_RANGE) when the result exceeds 2^53-1 or
 * the divisor is 0.
 */
export function mulDivRound(a: number, b: number, c: number, d: number, e: number, mode: Rounding): number {
  const ab = a * b;
  const num = ab * c;
  const den = d * e;
  if (Number.isSafeInteger(ab) && Number.isSafeInteger(num) && Number.isSafeInteger(den)) {
    if (den === 0) return fail(DecimalStatus.OUT_OF_RANGE);
    status = DecimalStatus.OK;
    return divRound(num, den, mode);
  }
  return mulDivRoundBig(a, b, c, d, e, mode);
}

function mulDivRoundBig(a: number, b: number, c: number, d: number, e: number, mode: Rounding): number {
  if (
    !Number.isSafeInteger(a) ||
    !Number.isSafeInteger(b) ||
    !Number.isSafeInteger(c) ||
    !Number.isSafeInteger(d) ||
    !Number.isSafeInteger(e)
  ) {
    return fail(DecimalStatus.OUT_OF_RANGE);
  }
  const den = BigInt(d) * BigInt(e);
  if (den === 0n) return fail(DecimalStatus.OUT_OF_RANGE);
  const q = divRoundBig(BigInt(a) * BigInt(b) * BigInt(c), den, mode);
  if (q > BIG_MAX_SAFE || q < -BIG_MAX_SAFE) return fail(DecimalStatus.OUT_OF_RANGE);
  status = DecimalStatus.OK;
  return Number(q);
}

/** Greatest common divisor of two non-negative safe integers (for reducing constant fractions once). */
export function gcd(a: number, b: number): number {
  a = Math.abs(a);
  b = Math.abs(b);
  while (b !== 0) {
    const t = a % b;
    a = b;
    b = t;
  }
  return a;
}
