// Exact arithmetic: mulDivIo/mulDivHalfEven against BigInt references, and ValueCalc against
// Instrument.tryNotional, unit for unit (toBe, never toBeCloseTo).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { divRoundBig, Rounding } from '../model/decimal.ts';
import { type InstrumentSpec, newInstrumentRegistry } from '../model/instrument.ts';
import { isSafe, MD, mulDivHalfEven, mulDivIo, ValueCalc } from './arith.ts';
import { COINM_BTCUSD, ODD_LINEAR, SPOT_BTCUSDT, USDM_BTCUSDT } from './testing.ts';

const MAX = Number.MAX_SAFE_INTEGER;

function reference(a: number, b: number, c: number): number {
  const q = divRoundBig(BigInt(a) * BigInt(b), BigInt(c), Rounding.HALF_EVEN);
  return q > BigInt(MAX) ? Number.NaN : Number(q);
}

describe('mulDivHalfEven', () => {
  it('rounds ties to even and everything else to nearest', () => {
    expect(mulDivHalfEven(5, 1, 2)).toBe(2); // 2.5 -> 2
    expect(mulDivHalfEven(7, 1, 2)).toBe(4); // 3.5 -> 4
    expect(mulDivHalfEven(1_050_001, 1, 2)).toBe(525_000); // 525000.5 -> 525000 (even)
    expect(mulDivHalfEven(1_050_003, 1, 2)).toBe(525_002); // 525001.5 -> 525002 (even)
    expect(mulDivHalfEven(2_100_002, 2, 7)).toBe(600_001); // 600000.571 -> 600001
    expect(mulDivHalfEven(10, 1, 3)).toBe(3); // 3.333 -> 3
    expect(mulDivHalfEven(0, 5, 7)).toBe(0);
    expect(mulDivHalfEven(MAX, 1, 1)).toBe(MAX);
    // k*b part: 3 * 2^52 / 3 = 2^52 exactly, with the remainder path at 0
    expect(mulDivHalfEven(3 * 2 ** 51, 2, 3)).toBe(2 ** 52);
  });

  it('returns NaN past 2^53-1', () => {
    expect(mulDivHalfEven(MAX, 2, 1)).toBeNaN();
    expect(mulDivHalfEven(MAX, 3, 2)).toBeNaN();
  });

  it('equals a BigInt reference, including the remainder-product fallback (property)', () => {
    const safe = fc.integer({ min: 0, max: MAX });
    fc.assert(
      fc.property(safe, safe, fc.integer({ min: 1, max: MAX }), (a, b, c) => {
        const got = mulDivHalfEven(a, b, c);
        const ref = reference(a, b, c);
        if (Number.isNaN(ref)) expect(got).toBeNaN();
        else expect(got).toBe(ref);
      }),
      { numRuns: 5000 },
    );
  });

  it('equals the reference on the shapes the portfolio uses: cost x q / Q, value x rate / 1e8 (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 ** 50 }),
        fc.integer({ min: 1, max: 2 ** 30 }),
        fc.integer({ min: 0, max: 2 ** 30 }),
        (cost, big, small) => {
          const Q = Math.max(big, small, 1);
          const q = Math.min(big, small);
          expect(mulDivHalfEven(cost, q, Q)).toBe(reference(cost, q, Q));
          expect(mulDivHalfEven(cost, small % 3_000_000, 100_000_000)).toBe(
            reference(cost, small % 3_000_000, 100_000_000),
          );
        },
      ),
      { numRuns: 5000 },
    );
  });
});

describe('isSafe', () => {
  it('accepts +-(2^53-1) and rejects beyond, NaN and infinities', () => {
    expect(isSafe(MAX)).toBe(true);
    expect(isSafe(-MAX)).toBe(true);
    expect(isSafe(MAX + 1)).toBe(false);
    expect(isSafe(Number.NaN)).toBe(false);
    expect(isSafe(Number.POSITIVE_INFINITY)).toBe(false);
  });
});

describe('mulDivIo with CEIL', () => {
  it('rounds any remainder up and equals a BigInt reference (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 ** 50 }),
        fc.integer({ min: 0, max: 2 ** 20 }),
        fc.integer({ min: 1, max: 2 ** 40 }),
        (a, b, c) => {
          MD[0] = a;
          MD[1] = b;
          MD[2] = c;
          const ref = divRoundBig(BigInt(a) * BigInt(b), BigInt(c), Rounding.CEIL);
          const ok = mulDivIo(Rounding.CEIL);
          if (ref > BigInt(MAX)) expect(ok).toBe(false);
          else expect(MD[3]).toBe(Number(ref));
        },
      ),
      { numRuns: 3000 },
    );
    MD[0] = 10;
    MD[1] = 1;
    MD[2] = 3;
    mulDivIo(Rounding.CEIL);
    expect(MD[3]).toBe(4);
  });
});

describe('ValueCalc', () => {
  const specs: [string, InstrumentSpec][] = [
    ['spot', SPOT_BTCUSDT],
    ['usdm', USDM_BTCUSDT],
    ['coinm', COINM_BTCUSD],
    ['rounded', ODD_LINEAR],
    [
      'inverse, fractional tick',
      { ...COINM_BTCUSD, symbol: 'ETHUSD_PERP', tickSize: '0.01', multiplier: '10' },
    ],
    ['rounded HALF_UP (delegates)', { ...ODD_LINEAR, symbol: 'HU', notionalRounding: Rounding.HALF_UP }],
  ];
  for (const [name, spec] of specs) {
    it(`equals Instrument.tryNotional to the unit: ${name} (property)`, () => {
      const inst = newInstrumentRegistry().add(spec);
      const calc = new ValueCalc(inst);
      fc.assert(
        fc.property(
          fc.integer({ min: 1, max: 2 ** 40 }),
          fc.integer({ min: 0, max: 2 ** 40 }),
          (ticks, lots) => {
            const ref = inst.tryNotional(ticks, lots);
            const ok = calc.compute(ticks, lots);
            expect(ok).toBe(!Number.isNaN(ref));
            expect(calc.result).toBe(ref);
          },
        ),
        { numRuns: 3000 },
      );
    });
  }

  it('takes the inline path for standard instruments and delegates other roundings', () => {
    const reg = newInstrumentRegistry();
    expect(new ValueCalc(reg.add(USDM_BTCUSDT)).fast).toBe(true);
    expect(new ValueCalc(reg.add(COINM_BTCUSD)).fast).toBe(true);
    expect(new ValueCalc(reg.add({ ...ODD_LINEAR, notionalRounding: Rounding.FLOOR })).fast).toBe(false);
  });
});
