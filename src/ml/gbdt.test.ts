// The complete-tree layout against the pointer walker on the same XGBoost models, for rows that probe every
// edge: values exactly at, just under and just over the thresholds, NaN (missing), and both infinities.

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { GbdtModel } from './gbdt.ts';

const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

describe('GbdtModel complete-tree layout', () => {
  for (const name of ['xgb-100x6.json', 'xgb-reg.json', 'xgb-bin.json']) {
    it(`${name}: equals the pointer walk bit for bit`, () => {
      const m = new GbdtModel(JSON.parse(readFileSync(fixture(name), 'utf8')), name);
      expect(m.depth).toBeGreaterThan(0);
      const walk = (m as unknown as { marginWalk(x: Float64Array, off: number): number }).marginWalk.bind(m);
      const thresholds = [...new Set(m.value)].filter(Number.isFinite);
      const edge = fc.oneof(
        fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY),
        fc.constantFrom(...thresholds),
        fc.constantFrom(...thresholds).map((t) => t * (1 + 1e-7)),
        fc.constantFrom(...thresholds).map((t) => t * (1 - 1e-7)),
        fc.double({ noNaN: true, min: -10, max: 10 }),
      );
      const d = m.features.length;
      fc.assert(
        fc.property(fc.array(edge, { minLength: d, maxLength: d }), (row) => {
          const x = Float64Array.from(row);
          expect(Object.is(m.margin(x, 0), walk(x, 0))).toBe(true);
        }),
        { numRuns: 2000 },
      );
    });
  }
});
