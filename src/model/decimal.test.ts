import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Bot4Error, ErrorCode } from '../core/errors.ts';
import {
  DecimalStatus,
  decimalToSteps,
  decimalToStepsRounded,
  divRound,
  divRoundBig,
  floatToSteps,
  lastDecimalStatus,
  mulDivRound,
  parseDecimalSteps,
  parseFloatSteps,
  parseStep,
  Rounding,
  type Step,
  scaledToDecimal,
  stepsToDecimal,
} from './decimal.ts';

const MAX = Number.MAX_SAFE_INTEGER;
const tick01 = parseStep('0.10');
const tick001 = parseStep('0.01000000');
const sat = parseStep('1e-8');

function thrown(fn: () => unknown): Bot4Error {
  try {
    fn();
  } catch (e) {
    if (e instanceof Bot4Error) return e;
    throw e;
  }
  throw new Error('expected a Bot4Error');
}

describe('parseStep', () => {
  it('normalises venue step strings to units x 10^-scale', () => {
    expect(tick01).toMatchObject({ text: '0.1', units: 1, scale: 1, unitsBig: 1n });
    expect(tick001).toMatchObject({ text: '0.01', units: 1, scale: 2 });
    expect(sat).toMatchObject({ text: '0.00000001', units: 1, scale: 8 });
    expect(parseStep('0.25')).toMatchObject({ text: '0.25', units: 25, scale: 2 });
    expect(parseStep('10')).toMatchObject({ text: '10', units: 10, scale: 0 });
    expect(parseStep('1E+3')).toMatchObject({ text: '1000', units: 1000, scale: 0 });
    expect(parseStep('0.00500')).toMatchObject({ text: '0.005', units: 5, scale: 3 });
    expect(parseStep('2.5e-1')).toMatchObject({ text: '0.25', units: 25, scale: 2 });
  });

  it('rejects zero, negative, garbage and absurd steps with the name of the field', () => {
    expect(thrown(() => parseStep('0.00000000', 'tick size', 'BTCUSDT')).message).toBe(
      'tick size "0.00000000" is not a positive decimal (BTCUSDT); expected e.g. "0.01" or "1e-8"',
    );
    expect(() => parseStep('-0.1')).toThrow(/not a positive decimal/);
    expect(() => parseStep('abc')).toThrow(/not a positive decimal/);
    expect(() => parseStep('')).toThrow(/not a positive decimal/);
    expect(thrown(() => parseStep('1e-23', 'lot size', 'X')).code).toBe(ErrorCode.DECIMAL_INVALID);
  });
});

describe('decimalToSteps (fast path)', () => {
  it('converts exactly, with leading/trailing zeros and signs', () => {
    expect(decimalToSteps('61800.30', tick01)).toBe(618003);
    expect(decimalToSteps('61800.3', tick01)).toBe(618003);
    expect(decimalToSteps('061800.3000000000000000000000', tick01)).toBe(618003);
    expect(decimalToSteps('+61800.3', tick01)).toBe(618003);
    expect(decimalToSteps('61800', tick01)).toBe(618000);
    expect(decimalToSteps('.5', tick01)).toBe(5);
    expect(decimalToSteps('5.', tick01)).toBe(50);
    expect(decimalToSteps('-1.5', tick01, true)).toBe(-15);
    expect(decimalToSteps('1.25', parseStep('0.25'))).toBe(5);
    expect(decimalToSteps('0.00001000', parseStep('0.00001'))).toBe(1);
    expect(lastDecimalStatus()).toBe(DecimalStatus.OK);
  });

  it('returns 0, never -0, for zero in any spelling', () => {
    for (const z of ['0', '0.000', '-0', '-0.00', '+0', '0e5'])
      expect(Object.is(decimalToSteps(z, tick01, true), 0)).toBe(true);
    expect(Object.is(decimalToSteps('-0', tick01, false), 0)).toBe(true);
  });

  it('handles exponents as venue metadata writes them', () => {
    expect(decimalToSteps('1e-8', sat)).toBe(1);
    expect(decimalToSteps('1.5E2', tick01)).toBe(1500);
    expect(decimalToSteps('2.5e-1', parseStep('0.05'))).toBe(5);
    expect(decimalToSteps('-1e1', tick01, true)).toBe(-100);
    expect(decimalToSteps('1e-9', sat)).toBeNaN();
    expect(lastDecimalStatus()).toBe(DecimalStatus.NOT_MULTIPLE);
  });

  it('reports each failure with a status', () => {
    const cases: [string, Step, DecimalStatus][] = [
      ['', tick01, DecimalStatus.EMPTY],
      ['abc', tick01, DecimalStatus.SYNTAX],
      ['1.2.3', tick01, DecimalStatus.SYNTAX],
      ['1,5', tick01, DecimalStatus.SYNTAX],
      [' 1', tick01, DecimalStatus.SYNTAX],
      ['1 ', tick01, DecimalStatus.SYNTAX],
      ['1e', tick01, DecimalStatus.SYNTAX],
      ['1e+', tick01, DecimalStatus.SYNTAX],
      ['1e5x', tick01, DecimalStatus.SYNTAX],
      ['--1', tick01, DecimalStatus.SYNTAX],
      ['.', tick01, DecimalStatus.SYNTAX],
      ['-', tick01, DecimalStatus.SYNTAX],
      ['0x10', tick01, DecimalStatus.SYNTAX],
      ['Infinity', tick01, DecimalStatus.SYNTAX],
      ['NaN', tick01, DecimalStatus.SYNTAX],
      ['1e99999', tick01, DecimalStatus.OUT_OF_RANGE],
      ['-1.5', tick01, DecimalStatus.NEGATIVE],
      ['61800.35', tick01, DecimalStatus.NOT_MULTIPLE],
      ['1.30', parseStep('0.25'), DecimalStatus.NOT_MULTIPLE],
      ['90071992547409.92', tick001, DecimalStatus.OUT_OF_RANGE],
    ];
    for (const [text, step, st] of cases) {
      expect(decimalToSteps(text, step), text).toBeNaN();
      expect(lastDecimalStatus(), text).toBe(st);
    }
  });

  it('is exact at the 2^53 boundary and falls back to BigInt when digits overflow but the count does not', () => {
    expect(decimalToSteps('90071992547409.91', tick001)).toBe(MAX);
    expect(decimalToSteps('9007199254740991', parseStep('1'))).toBe(MAX);
    expect(decimalToSteps('9007199254740992', parseStep('1'))).toBeNaN();
    expect(decimalToSteps('9007199254740991000', parseStep('1000'))).toBe(MAX);
    expect(decimalToSteps('9007199254740991000.000', parseStep('1000'))).toBe(MAX);
  });
});

describe('parseDecimalSteps (edge) messages', () => {
  it('names the value, the step and the instrument', () => {
    const e = thrown(() =>
      parseDecimalSteps('61800.35', tick01, { what: 'price', stepName: 'tick size', context: 'BTCUSDT' }),
    );
    expect(e.code).toBe(ErrorCode.DECIMAL_INVALID);
    expect(e.message).toBe('price 61800.35 is not a multiple of tick size 0.1 (BTCUSDT)');
    expect(e.details).toMatchObject({ value: '61800.35', step: '0.1', context: 'BTCUSDT' });
    expect(
      thrown(() =>
        parseDecimalSteps('0.0015', parseStep('0.001'), {
          what: 'qty',
          stepName: 'lot size',
          context: 'BTCUSDT',
        }),
      ).message,
    ).toBe('qty 0.0015 is not a multiple of lot size 0.001 (BTCUSDT)');
    expect(thrown(() => parseDecimalSteps('61,800', tick01, { what: 'price' })).message).toMatch(
      /^price "61,800" is not a decimal number; expected digits/,
    );
    expect(thrown(() => parseDecimalSteps('-2', tick01, { what: 'qty', context: 'ETHUSDT' })).message).toBe(
      'qty -2 is negative (ETHUSDT); it must be zero or positive',
    );
    expect(thrown(() => parseDecimalSteps('', tick01, { what: 'qty' })).message).toMatch(/^qty is empty/);
  });
});

describe('decimalToStepsRounded', () => {
  it('rounds values between steps with the requested mode', () => {
    const lot = parseStep('0.00001');
    expect(decimalToStepsRounded('112.21108820', lot, Rounding.FLOOR)).toBe(11221108);
    expect(decimalToStepsRounded('112.21108820', lot, Rounding.CEIL)).toBe(11221109);
    expect(decimalToStepsRounded('0.25', tick01, Rounding.HALF_EVEN)).toBe(2);
    expect(decimalToStepsRounded('0.35', tick01, Rounding.HALF_EVEN)).toBe(4);
    expect(decimalToStepsRounded('0.25', tick01, Rounding.HALF_UP)).toBe(3);
    expect(decimalToStepsRounded('-0.25', tick01, Rounding.HALF_UP, true)).toBe(-3);
    expect(decimalToStepsRounded('-0.25', tick01, Rounding.DOWN, true)).toBe(-2);
    expect(decimalToStepsRounded('-0.25', tick01, Rounding.FLOOR, true)).toBe(-3);
    expect(decimalToStepsRounded('-0.25', tick01, Rounding.CEIL, true)).toBe(-2);
    expect(decimalToStepsRounded('1e-30', tick01, Rounding.CEIL)).toBe(1);
    expect(decimalToStepsRounded('x', tick01, Rounding.CEIL)).toBeNaN();
  });
});

describe('stepsToDecimal / scaledToDecimal', () => {
  it('formats exactly, optionally with fixed decimals', () => {
    expect(stepsToDecimal(618003, tick01)).toBe('61800.3');
    expect(stepsToDecimal(618003, tick01, 2)).toBe('61800.30');
    expect(stepsToDecimal(6180030, tick001, true)).toBe('61800.30');
    expect(stepsToDecimal(6180030, tick001)).toBe('61800.3');
    expect(stepsToDecimal(618000, tick01)).toBe('61800');
    expect(stepsToDecimal(0, tick001)).toBe('0');
    expect(stepsToDecimal(0, tick001, true)).toBe('0.00');
    expect(stepsToDecimal(-5, sat)).toBe('-0.00000005');
    expect(stepsToDecimal(5, parseStep('0.25'))).toBe('1.25');
    expect(stepsToDecimal(4, parseStep('0.25'))).toBe('1');
    expect(stepsToDecimal(3, parseStep('10'))).toBe('30');
    // steps * units beyond 2^53 goes through BigInt
    expect(stepsToDecimal(MAX, parseStep('0.25'))).toBe('2251799813685247.75');
    expect(scaledToDecimal(5n, 0, 2)).toBe('5.00');
    expect(scaledToDecimal(-120, 2, 0)).toBe('-1.2');
    expect(() => stepsToDecimal(1.5, tick01)).toThrow(/not a safe integer/);
  });

  it('round-trips every safe integer at random steps (property)', () => {
    const stepArb = fc
      .record({ units: fc.integer({ min: 1, max: 1000 }), scale: fc.integer({ min: 0, max: 12 }) })
      .map(({ units, scale }) => parseStep(`${units}e-${scale}`));
    fc.assert(
      fc.property(fc.maxSafeInteger(), stepArb, fc.boolean(), (n, step, fixed) => {
        const text = stepsToDecimal(n, step, fixed);
        expect(decimalToSteps(text, step, true)).toBe(n);
        // Independent route: the exponent form goes through the BigInt parser.
        const mant = (BigInt(n) * step.unitsBig).toString();
        expect(decimalToSteps(`${mant}e-${step.scale}`, step, true)).toBe(n);
        // Canonical text carries no redundant zeros.
        if (!fixed && text.includes('.')) expect(text.endsWith('0')).toBe(false);
        // Padding with zeros either side changes nothing.
        const padded = `${text.startsWith('-') ? '-' : ''}000${text.replace('-', '')}${text.includes('.') ? '' : '.'}000`;
        expect(decimalToSteps(padded, step, true)).toBe(n);
      }),
      { numRuns: 2000 },
    );
  });

  it('accepts exactly the decimals on the grid (property against a BigInt reference)', () => {
    fc.assert(
      fc.property(
        fc.stringMatching(/^[0-9]{1,12}$/),
        fc.stringMatching(/^[0-9]{0,12}$/),
        fc.integer({ min: 1, max: 50 }),
        fc.integer({ min: 0, max: 10 }),
        (intPart, fracPart, units, scale) => {
          const step = parseStep(`${units}e-${scale}`);
          const text = fracPart === '' ? intPart : `${intPart}.${fracPart}`;
          // value * 10^(scale+F) as an integer, F = fracPart length
          const F = fracPart.length;
          const v = BigInt(intPart + fracPart);
          const den = step.unitsBig * 10n ** BigInt(F);
          const num = v * 10n ** BigInt(step.scale);
          const expected = num % den === 0n && num / den <= BigInt(MAX) ? Number(num / den) : Number.NaN;
          const got = decimalToSteps(text, step);
          if (Number.isNaN(expected)) expect(got).toBeNaN();
          else expect(got).toBe(expected);
        },
      ),
      { numRuns: 3000 },
    );
  });
});

describe('floatToSteps', () => {
  it('rounds floats that are on the grid and rejects the rest', () => {
    expect(floatToSteps(61800.3, tick01)).toBe(618003);
    expect(floatToSteps(0.1 + 0.2, tick01)).toBe(3);
    expect(floatToSteps(1e-8, sat)).toBe(1);
    expect(floatToSteps(0.00001, parseStep('0.00001'))).toBe(1);
    expect(floatToSteps(-1.5, tick01, true)).toBe(-15);
    expect(Object.is(floatToSteps(-0, tick01), 0)).toBe(true);
    expect(floatToSteps(61800.35, tick01)).toBeNaN();
    expect(lastDecimalStatus()).toBe(DecimalStatus.OFF_GRID);
    expect(floatToSteps(Number.NaN, tick01)).toBeNaN();
    expect(lastDecimalStatus()).toBe(DecimalStatus.NOT_FINITE);
    expect(floatToSteps(Number.POSITIVE_INFINITY, tick01)).toBeNaN();
    expect(floatToSteps(-1, tick01)).toBeNaN();
    expect(lastDecimalStatus()).toBe(DecimalStatus.NEGATIVE);
    expect(floatToSteps(1e300, tick01)).toBeNaN();
    expect(lastDecimalStatus()).toBe(DecimalStatus.OUT_OF_RANGE);
    // A float32 artefact needs an explicit, wider tolerance.
    const f32 = Math.fround(61800.3);
    expect(floatToSteps(f32, tick01)).toBeNaN();
    expect(floatToSteps(f32, tick01, false, 0.05)).toBe(618003);
  });

  it('names the value and step at the edge', () => {
    expect(
      thrown(() =>
        parseFloatSteps(61800.35, tick01, { what: 'price', stepName: 'tick size', context: 'BTCUSDT' }),
      ).message,
    ).toMatch(/^price 61800\.35 is not on the grid of tick size 0\.1 \(BTCUSDT\)/);
  });

  it('recovers the step count from the double nearest to its decimal (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: -(2 ** 50), max: 2 ** 50 }),
        fc.integer({ min: 0, max: 10 }),
        fc.integer({ min: 1, max: 9 }),
        (n, scale, units) => {
          const step = parseStep(`${units}e-${scale}`);
          const x = Number(stepsToDecimal(n, step));
          expect(floatToSteps(x, step, true)).toBe(n);
        },
      ),
      { numRuns: 3000 },
    );
  });
});

describe('divRound / mulDivRound', () => {
  it('rounds ties and non-ties per mode, symmetric for negatives', () => {
    const R = Rounding;
    const table: [number, number, Rounding, number][] = [
      [5, 2, R.HALF_EVEN, 2],
      [7, 2, R.HALF_EVEN, 4],
      [-5, 2, R.HALF_EVEN, -2],
      [-7, 2, R.HALF_EVEN, -4],
      [5, 2, R.HALF_UP, 3],
      [-5, 2, R.HALF_UP, -3],
      [4, 3, R.HALF_UP, 1],
      [5, 3, R.HALF_UP, 2],
      [1, 3, R.UP, 1],
      [-1, 3, R.UP, -1],
      [-5, 3, R.DOWN, -1],
      [-5, 3, R.FLOOR, -2],
      [5, 3, R.FLOOR, 1],
      [5, 3, R.CEIL, 2],
      [-5, 3, R.CEIL, -1],
      [6, 3, R.UP, 2],
      [5, -2, R.HALF_EVEN, -2],
    ];
    for (const [n, d, m, want] of table) expect(divRound(n, d, m), `${n}/${d} mode ${m}`).toBe(want);
    expect(Object.is(divRound(-1, 3, Rounding.DOWN), 0)).toBe(true);
    expect(divRound(1, 0, Rounding.HALF_EVEN)).toBeNaN();
  });

  it('agrees with BigInt for all safe inputs and modes (property)', () => {
    fc.assert(
      fc.property(
        fc.maxSafeInteger(),
        fc.maxSafeInteger().filter((d) => d !== 0),
        fc.integer({ min: 0, max: 5 }),
        (n, d, mode) => {
          expect(divRound(n, d, mode as Rounding)).toBe(
            Number(divRoundBig(BigInt(n), BigInt(d), mode as Rounding)),
          );
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('agrees with BigInt on the division fast path and at its 2^53 boundary (property)', () => {
    const near = fc.integer({ min: 0, max: 2 ** 20 }).map((k) => MAX - k);
    fc.assert(
      fc.property(
        fc.oneof(
          fc.integer({ min: -(2 ** 52), max: 2 ** 52 }),
          near,
          near.map((x) => -x),
        ),
        fc.oneof(fc.integer({ min: 1, max: 2 ** 20 }), fc.integer({ min: 1, max: 2 ** 52 })),
        fc.integer({ min: 0, max: 5 }),
        (n, d, mode) => {
          expect(divRound(n, d, mode as Rounding)).toBe(
            Number(divRoundBig(BigInt(n), BigInt(d), mode as Rounding)),
          );
          expect(divRound(n, -d, mode as Rounding)).toBe(
            Number(divRoundBig(BigInt(n), BigInt(-d), mode as Rounding)),
          );
        },
      ),
      { numRuns: 5000 },
    );
  });

  it('mulDivRound is exact through the BigInt fallback and NaN exactly on overflow (property)', () => {
    const small = fc.integer({ min: -(10 ** 9), max: 10 ** 9 });
    const pos = fc.integer({ min: 1, max: 10 ** 9 });
    fc.assert(
      fc.property(small, small, pos, pos, pos, fc.integer({ min: 0, max: 5 }), (a, b, c, d, e, mode) => {
        const ref = divRoundBig(BigInt(a) * BigInt(b) * BigInt(c), BigInt(d) * BigInt(e), mode as Rounding);
        const got = mulDivRound(a, b, c, d, e, mode as Rounding);
        if (ref > BigInt(MAX) || ref < -BigInt(MAX)) {
          expect(got).toBeNaN();
          expect(lastDecimalStatus()).toBe(DecimalStatus.OUT_OF_RANGE);
        } else {
          expect(got).toBe(Number(ref));
        }
      }),
      { numRuns: 3000 },
    );
  });
});
