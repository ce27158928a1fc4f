// Every indicator we implement that Tulip Indicators' test vectors cover (untest.txt, extra.txt, atoz.txt in
// shared/data/tulipindicators), run with Tulip's convention options, batch and streaming both. Tolerance: 1e-3
// absolute (Tulip's own smoke-test tolerance: untest.txt prints 3 dp, the A-to-Z cases carry hand rounding), or
// 1e-9 relative for large values (OBV).

import { describe, expect, it } from 'vitest';
import { RollingExtreme } from './common.ts';
import { parseTulip, readText, sharedDataDir, type TulipCase } from './reference-data.ts';
import { INDICATORS, type ParamValue } from './registry.ts';

const DATA = sharedDataDir();
const FILES = ['untest.txt', 'extra.txt', 'atoz.txt'];

interface Runner {
  /** Input arrays the Tulip case carries. */
  inputs: number;
  run(ins: Float64Array[], options: number[]): Float64Array[];
  /** Leading Tulip outputs we deliberately leave NaN (documented per indicator). */
  skipLead?: number;
  /** Bars by which our first output precedes Tulip's (Tulip delays some indicators). */
  earlier?(options: number[]): number;
  /** Why a case is not compared (a different convention we do not offer), or undefined to compare. */
  exclude?(options: number[]): string | undefined;
}

/** Runs a registry indicator in batch and streaming form, checks they agree, and returns outputs in `order`. */
function viaRegistry(
  name: string,
  params: (o: number[]) => Record<string, ParamValue>,
  order?: number[],
  adapt?: (ins: Float64Array[]) => Float64Array[],
): Runner['run'] {
  return (raw, options) => {
    const spec = INDICATORS[name]!;
    const ins = adapt ? adapt(raw) : raw;
    const n = ins[0]!.length;
    const outs = spec.outputs.map(() => new Float64Array(n));
    const p = params(options);
    spec.batch(ins, outs, p);
    const stream = spec.create(p);
    for (let i = 0; i < n; i++) {
      stream.update(ins[0]![i]!, ins[1]?.[i], ins[2]?.[i], ins[3]?.[i]);
      for (let k = 0; k < outs.length; k++) {
        const b = outs[k]![i]!;
        const s = stream.output(k);
        if (!(Number.isNaN(b) && Number.isNaN(s)) && b !== s) {
          throw new Error(`${name}: streaming ${s} != batch ${b} at bar ${i}, output ${spec.outputs[k]}`);
        }
      }
    }
    return (order ?? outs.map((_, k) => k)).map((k) => outs[k]!);
  };
}

/** Tulip's adx and dx read high and low only (the true range cancels in DX); we add a close inside the bar. */
const withMidClose = (ins: Float64Array[]): Float64Array[] => [
  ins[0]!,
  ins[1]!,
  ins[0]!.map((h, i) => (h + ins[1]![i]!) / 2),
];

function rolling(kind: 'max' | 'min'): Runner['run'] {
  return (ins, o) => {
    const ext = new RollingExtreme(o[0]!, kind);
    const out = ins[0]!.map((x, i) => {
      const v = ext.push(x);
      return i >= o[0]! - 1 ? v : Number.NaN;
    });
    return [out];
  };
}

const p1 = (o: number[]) => ({ period: o[0]! });

const RUNNERS: Record<string, Runner> = {
  sma: { inputs: 1, run: viaRegistry('sma', p1) },
  ema: { inputs: 1, run: viaRegistry('ema', (o) => ({ period: o[0]!, seed: 'first' })) },
  wma: { inputs: 1, run: viaRegistry('wma', p1) },
  dema: { inputs: 1, run: viaRegistry('dema', (o) => ({ period: o[0]!, seed: 'first' })) },
  tema: { inputs: 1, run: viaRegistry('tema', (o) => ({ period: o[0]!, seed: 'first' })) },
  hma: { inputs: 1, run: viaRegistry('hma', p1) },
  // Tulip prints KAMA's seed (the close of bar period - 1) as its first output; TA-Lib starts one bar later.
  kama: { inputs: 1, run: viaRegistry('kama', p1), skipLead: 1 },
  rsi: { inputs: 1, run: viaRegistry('rsi', p1) },
  stoch: {
    inputs: 3,
    run: viaRegistry('stoch', (o) => ({ kPeriod: o[0]!, kSmooth: o[1]!, dPeriod: o[2]! })),
  },
  stochrsi: {
    inputs: 1,
    run: viaRegistry(
      'stochrsi',
      (o) => ({ period: o[0]!, stochPeriod: o[0]!, kSmooth: 1, dPeriod: 1, scale: 1 }),
      [0],
    ),
  },
  macd: {
    inputs: 1,
    run: viaRegistry('macd', (o) => ({ fast: o[0]!, slow: o[1]!, signal: o[2]!, seed: 'first' })),
    exclude: (o) =>
      o[0] === 12 && o[1] === 26
        ? 'Tulip (and the A-to-Z spreadsheet) use rounded constants 0.15/0.075 for 12/26, not 2/(n+1)'
        : undefined,
  },
  bbands: { inputs: 1, run: viaRegistry('bbands', (o) => ({ period: o[0]!, k: o[1]! }), [2, 1, 0]) },
  atr: { inputs: 3, run: viaRegistry('atr', (o) => ({ period: o[0]!, firstTr: 'range' })) },
  natr: { inputs: 3, run: viaRegistry('natr', (o) => ({ period: o[0]!, firstTr: 'range' })) },
  adx: {
    inputs: 2,
    run: viaRegistry('adx', (o) => ({ period: o[0]!, convention: 'tulip' }), [0], withMidClose),
  },
  dx: {
    inputs: 2,
    run: viaRegistry('adx', (o) => ({ period: o[0]!, convention: 'tulip' }), [3], withMidClose),
  },
  di: { inputs: 3, run: viaRegistry('adx', (o) => ({ period: o[0]!, convention: 'tulip' }), [1, 2]) },
  // Tulip's cci holds its first output back to bar 2 (period - 1); TA-Lib, StockCharts and we start at period - 1.
  cci: { inputs: 3, run: viaRegistry('cci', p1), earlier: (o) => o[0]! - 1 },
  mfi: { inputs: 4, run: viaRegistry('mfi', p1) },
  obv: { inputs: 2, run: viaRegistry('obv', () => ({ start: 'zero' })) },
  roc: { inputs: 1, run: viaRegistry('roc', (o) => ({ period: o[0]!, scale: 1 })) },
  mom: { inputs: 1, run: viaRegistry('mom', p1) },
  willr: { inputs: 3, run: viaRegistry('willr', p1) },
  psar: {
    inputs: 2,
    run: viaRegistry('psar', (o) => ({ step: o[0]!, max: o[1]!, convention: 'tulip' })),
  },
  aroon: { inputs: 2, run: viaRegistry('aroon', p1, [1, 0]) },
  aroonosc: { inputs: 2, run: viaRegistry('aroon', p1, [2]) },
  stddev: { inputs: 1, run: viaRegistry('stddev', p1) },
  var: {
    inputs: 1,
    run: (ins, o) => viaRegistry('stddev', p1)(ins, o).map((a) => a.map((x) => x * x)),
  },
  linreg: { inputs: 1, run: viaRegistry('linreg', p1, [0]) },
  linregslope: { inputs: 1, run: viaRegistry('linreg', p1, [1]) },
  linregintercept: { inputs: 1, run: viaRegistry('linreg', p1, [2]) },
  max: { inputs: 1, run: rolling('max') },
  min: { inputs: 1, run: rolling('min') },
};

interface Mismatch {
  bar: number;
  output: number;
  expected: number;
  actual: number;
}

function compare(c: TulipCase, runner: Runner): { compared: number; mismatches: Mismatch[] } {
  const ins = c.arrays.slice(0, runner.inputs).map((a) => Float64Array.from(a));
  const expected = c.arrays.slice(runner.inputs);
  const outs = runner.run(ins, c.options);
  const n = ins[0]!.length;
  const mismatches: Mismatch[] = [];
  let compared = 0;
  expect(outs.length).toBe(expected.length);
  for (let k = 0; k < expected.length; k++) {
    const exp = expected[k]!;
    const offset = n - exp.length;
    for (let j = runner.skipLead ?? 0; j < exp.length; j++) {
      const bar = offset + j;
      const want = exp[j]!;
      const got = outs[k]![bar]!;
      const tol = Math.max(1e-3, 1e-9 * Math.abs(want));
      compared++;
      if (!(Math.abs(got - want) <= tol)) mismatches.push({ bar, output: k, expected: want, actual: got });
    }
    // Bars before Tulip's first output must still be warming up on our side too.
    const firstOurs = outs[k]!.findIndex((x) => !Number.isNaN(x));
    const earlier = runner.earlier?.(c.options) ?? 0;
    expect(firstOurs, `${c.name}: first output bar`).toBe(offset + (runner.skipLead ?? 0) - earlier);
  }
  return { compared, mismatches };
}

const cases: TulipCase[] = DATA
  ? FILES.flatMap((f) => parseTulip(readText(`${DATA}tulipindicators/${f}`), f))
  : [];

describe.skipIf(DATA === undefined)('Tulip Indicators reference vectors', () => {
  if (DATA === undefined) {
    it.skip('shared/data/tulipindicators is absent: reference vectors not checked', () => {});
    return;
  }
  const covered = cases.filter((c) => RUNNERS[c.name] !== undefined && c.arrays.at(-1)!.length > 0);

  for (const c of covered) {
    const runner = RUNNERS[c.name]!;
    const reason = runner.exclude?.(c.options);
    const title = `${c.file}:${c.line} ${c.name} ${c.options.join(' ')}`;
    if (reason !== undefined) {
      it.skip(`${title} (${reason})`, () => {});
      continue;
    }
    it(title, () => {
      const { compared, mismatches } = compare(c, runner);
      expect(compared).toBeGreaterThan(0);
      expect(mismatches).toEqual([]);
    });
  }

  it('covers the indicators we implement in every file', () => {
    const names = new Set(covered.map((c) => c.name));
    for (const n of Object.keys(RUNNERS)) expect(names.has(n), n).toBe(true);
    // At least these many cases are compared (guards against a parser silently dropping blocks).
    expect(covered.length).toBeGreaterThanOrEqual(60);
  });
});
