import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Bot4Error } from '../core/errors.ts';
import {
  bool,
  choice,
  describeParams,
  float,
  formatParams,
  int,
  paramRange,
  parseParams,
  resolveParams,
  text,
  validateSchema,
} from './params.ts';

const schema = {
  fast: int({ default: 10, min: 1, max: 100, description: 'fast period' }),
  slow: int({ default: 30, min: 2, max: 500, step: 10, description: 'slow period' }),
  k: float({ default: 2, min: 0.5, max: 4, step: 0.5, description: 'band width' }),
  short: bool({ default: false, description: 'allow shorts' }),
  mode: choice(['bar', 'quote'], { default: 'bar', description: 'input' }),
  symbol: text({ default: 'BTCUSDT', description: 'instrument' }),
};

function errorOf(fn: () => unknown): Bot4Error {
  try {
    fn();
  } catch (e) {
    if (e instanceof Bot4Error) return e;
    throw e;
  }
  throw new Error('expected a Bot4Error');
}

describe('parseParams', () => {
  it('applies defaults and parses each type', () => {
    const v = parseParams(schema, ['fast=5', 'k=1.5', 'short=yes', 'mode=quote', 'symbol=ETHUSDT.SIM']);
    expect(v).toEqual({ fast: 5, slow: 30, k: 1.5, short: true, mode: 'quote', symbol: 'ETHUSDT.SIM' });
    expect(Object.isFrozen(v)).toBe(true);
    // The types follow the schema: number, boolean, the enum's literals.
    const fast: number = v.fast;
    const short: boolean = v.short;
    const mode: 'bar' | 'quote' = v.mode;
    expect([fast, short, mode]).toEqual([5, true, 'quote']);
    expect(parseParams(schema, [])).toEqual({
      fast: 10,
      slow: 30,
      k: 2,
      short: false,
      mode: 'bar',
      symbol: 'BTCUSDT',
    });
  });

  it('names an unknown key, suggests the near one and lists the valid keys', () => {
    const e = errorOf(() => parseParams(schema, ['fats=3'], 'strategy ema-cross'));
    expect(e.code).toBe('CONFIG_UNKNOWN_KEY');
    expect(e.message).toBe(
      "strategy ema-cross: unknown parameter 'fats'. Did you mean 'fast'? Valid parameters: fast, slow, k, short, mode, symbol",
    );
    expect(e.details).toMatchObject({ key: 'fats' });
    expect(errorOf(() => parseParams(schema, ['zzz=1'])).message).not.toMatch(/Did you mean/);
  });

  it('rejects values that are not of the type, naming the key and the value', () => {
    expect(errorOf(() => parseParams(schema, ['fast=ten'])).message).toBe(
      "strategy: parameter 'fast' must be an integer, got 'ten'",
    );
    expect(errorOf(() => parseParams(schema, ['fast=2.5'])).message).toBe(
      "strategy: parameter 'fast' must be an integer, got '2.5' (it takes whole numbers only)",
    );
    expect(errorOf(() => parseParams(schema, ['k=abc'])).message).toBe(
      "strategy: parameter 'k' must be a number, got 'abc'",
    );
    expect(errorOf(() => parseParams(schema, ['short=maybe'])).message).toBe(
      "strategy: parameter 'short' must be true or false, got 'maybe'",
    );
    expect(errorOf(() => parseParams(schema, ['mode=tick'])).message).toBe(
      "strategy: parameter 'mode' must be one of bar, quote, got 'tick'",
    );
  });

  it('rejects values out of range with the range', () => {
    const e = errorOf(() => parseParams(schema, ['fast=0']));
    expect(e.message).toBe("strategy: parameter 'fast' is 0, out of range: it must be from 1 to 100");
    expect(e.details).toMatchObject({ key: 'fast', value: 0, min: 1, max: 100 });
    expect(errorOf(() => parseParams(schema, ['k=4.01'])).message).toMatch(/'k' is 4.01, out of range/);
  });

  it('rejects malformed and repeated arguments', () => {
    expect(errorOf(() => parseParams(schema, ['fast'])).message).toBe(
      "strategy: parameter 'fast' must be written key=value (e.g. fast=10)",
    );
    expect(errorOf(() => parseParams(schema, ['=3'])).message).toMatch(/key=value/);
    expect(errorOf(() => parseParams(schema, ['fast=3', 'fast=4'])).message).toBe(
      "strategy: parameter 'fast' is given twice",
    );
  });

  it('round-trips any in-range values through formatParams', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 100 }),
        fc.integer({ min: 2, max: 500 }),
        fc.double({ min: 0.5, max: 4, noNaN: true }),
        fc.boolean(),
        fc.constantFrom('bar' as const, 'quote' as const),
        (fast, slow, k, short, mode) => {
          const v = resolveParams(schema, { fast, slow, k, short, mode });
          const args = formatParams(v).split(' ');
          expect(parseParams(schema, args)).toEqual(v);
        },
      ),
    );
  });
});

describe('resolveParams', () => {
  it('checks typed values from code the same way', () => {
    expect(resolveParams(schema, { fast: 7 }).fast).toBe(7);
    expect(errorOf(() => resolveParams(schema, { fast: '7' })).message).toBe(
      "strategy: parameter 'fast' must be an integer, got '7'",
    );
    expect(errorOf(() => resolveParams(schema, { nope: 1 })).code).toBe('CONFIG_UNKNOWN_KEY');
  });
});

describe('validateSchema', () => {
  it('rejects a default outside its own range, a bad type, a bad key and a missing description', () => {
    expect(() => validateSchema({ a: int({ default: 0, min: 1, description: '' }) }, 'S')).toThrow(
      "S: parameter 'a' default 0 is outside its range (at least 1)",
    );
    expect(() => validateSchema({ a: { type: 'date', default: 1, description: '' } }, 'S')).toThrow(
      "S: parameter 'a' has unknown type 'date' (int, float, bool, enum or string)",
    );
    expect(() => validateSchema({ 'a-b': bool({ default: true, description: '' }) }, 'S')).toThrow(
      /not a valid name/,
    );
    expect(() => validateSchema({ a: { type: 'int', default: 1 } }, 'S')).toThrow(/needs a description/);
    expect(() => validateSchema({ a: int({ default: 1.5, description: '' }) }, 'S')).toThrow(
      /default must be a finite integer/,
    );
    expect(() =>
      validateSchema({ a: { type: 'enum', values: ['x'], default: 'y', description: '' } }, 'S'),
    ).toThrow("S: parameter 'a' default 'y' is not one of x");
    expect(() => validateSchema([], 'S')).toThrow(/must be an object/);
  });
});

describe('paramRange and describeParams', () => {
  it('builds the optimiser grid without float drift', () => {
    const slow = paramRange(schema.slow);
    expect(slow).toEqual(Array.from({ length: 50 }, (_, i) => 2 + i * 10));
    expect(slow.at(-1)).toBe(492);
    expect(paramRange(schema.k)).toEqual([0.5, 1, 1.5, 2, 2.5, 3, 3.5, 4]);
    expect(paramRange(float({ default: 0.3, min: 0.1, max: 0.5, step: 0.1, description: '' }))).toEqual([
      0.1, 0.2, 0.3, 0.4, 0.5,
    ]);
    expect(paramRange(schema.short)).toEqual([false, true]);
    expect(paramRange(schema.mode)).toEqual(['bar', 'quote']);
    expect(paramRange(schema.symbol)).toEqual(['BTCUSDT']);
    expect(paramRange(float({ default: 1, description: '' }))).toEqual([1]);
  });

  it('describes every parameter on one line', () => {
    const lines = describeParams(schema);
    expect(lines).toHaveLength(6);
    expect(lines[0]).toMatch(/^fast\s+int\s+10\s+from 1 to 100\s+fast period$/);
    expect(lines[4]).toMatch(/^mode\s+enum\s+bar\s+bar\|quote\s+input$/);
  });
});
