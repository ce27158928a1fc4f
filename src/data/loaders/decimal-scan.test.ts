import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DecimalNeeds, MAX_COUNT, MAX_INFER_SCALE } from './decimal-scan.ts';

/** The fit of one value as the plain loop finds it: the most decimals d with |x| * 10^(d+1) <= MAX_COUNT. */
function fitOf(x: number): number {
  const a = Math.abs(x);
  let d = -1;
  while (d < MAX_INFER_SCALE && a * 10 ** (d + 1) <= MAX_COUNT) d++;
  return d;
}

describe('DecimalNeeds', () => {
  it('property: the cached fit gives the histogram value by value computation gives, in any order', () => {
    const value = fc.oneof(
      fc.double({ noNaN: false }),
      fc.integer({ min: 0, max: 2 ** 53 }).map((n) => n / 1e6),
      fc.constantFrom(0, 1.4e14, MAX_COUNT, MAX_COUNT * 10, 14.07, 1e-3, Number.POSITIVE_INFINITY),
    );
    fc.assert(
      fc.property(fc.array(value, { maxLength: 60 }), (xs) => {
        const needs = new DecimalNeeds();
        const want = new Float64Array(MAX_INFER_SCALE + 2);
        for (const x of xs) {
          needs.add(0, x);
          want[fitOf(x) + 1]!++;
        }
        expect(Array.from(needs.fit)).toEqual(Array.from(want));
      }),
      { numRuns: 3000 },
    );
  });
});
