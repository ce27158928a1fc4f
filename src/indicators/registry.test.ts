// The registry's contract (names, parameter schemas, validation messages, batch arity) and the conventions that
// no reference file pins down: TA-Lib's warm-up lengths, its MACD fast-EMA seed, the microstructure formulas.

import { describe, expect, it } from 'vitest';
import type { Bot4Error } from '../core/errors.ts';
import { BookImbalance, depthImbalance, Microprice, TradeFlowImbalance } from './microstructure.ts';
import { Dema, Ema, Tema } from './moving-averages.ts';
import { Macd } from './oscillators.ts';
import { createIndicator, getIndicator, INDICATOR_NAMES, INDICATORS, resolveParams } from './registry.ts';
import { Beta } from './statistics.ts';
import { Adx } from './trend.ts';
import { Atr } from './volatility.ts';
import { Obv, Vwap } from './volume.ts';

const REQUIRED = [
  'sma',
  'ema',
  'wma',
  'dema',
  'tema',
  'hma',
  'kama',
  'vwap',
  'rsi',
  'stoch',
  'stochrsi',
  'macd',
  'bbands',
  'keltner',
  'donchian',
  'atr',
  'natr',
  'adx',
  'cci',
  'mfi',
  'obv',
  'roc',
  'mom',
  'willr',
  'psar',
  'aroon',
  'stddev',
  'zscore',
  'linreg',
  'correl',
  'beta',
  'obi',
  'microprice',
  'rv',
  'tfi',
];

const ramp = (n: number, f: (i: number) => number) => Float64Array.from({ length: n }, (_, i) => f(i));

describe('registry', () => {
  it('holds every indicator of the brief with a consistent schema', () => {
    expect([...INDICATOR_NAMES].sort()).toEqual([...REQUIRED].sort());
    for (const name of INDICATOR_NAMES) {
      const s = INDICATORS[name]!;
      expect(s.name).toBe(name);
      expect(s.outputs.length).toBeGreaterThan(0);
      expect(s.inputs.length).toBeGreaterThan(0);
      expect(s.convention.length).toBeGreaterThan(10);
      for (const p of s.params) {
        if (p.type === 'enum') expect(p.values).toContain(p.default);
        else {
          expect(typeof p.default).toBe('number');
          expect(p.default as number).toBeGreaterThanOrEqual(p.min ?? Number.NEGATIVE_INFINITY);
          expect(p.default as number).toBeLessThanOrEqual(p.max ?? Number.POSITIVE_INFINITY);
        }
      }
      // Defaults make a working instance; unknown outputs read NaN.
      const ind = s.create();
      expect(ind.ready).toBe(false);
      expect(ind.output(s.outputs.length)).toBeNaN();
    }
  });

  it('parses command-line strings and names the valid choices on errors', () => {
    const macd = getIndicator('macd');
    expect(resolveParams(macd, { fast: '5', seed: 'first' })).toEqual({
      fast: 5,
      slow: 26,
      signal: 9,
      seed: 'first',
    });
    const err = (f: () => unknown): Bot4Error => {
      try {
        f();
      } catch (e) {
        return e as Bot4Error;
      }
      throw new Error('expected a throw');
    };
    expect(err(() => resolveParams(macd, { fsat: 3 })).message).toMatch(
      /unknown parameter 'fsat'.*fast \(int/,
    );
    expect(err(() => resolveParams(macd, { fast: '2.5' })).code).toBe('INVALID_ARGUMENT');
    expect(err(() => resolveParams(macd, { fast: '' })).message).toMatch(/must be an integer/);
    expect(err(() => resolveParams(macd, { seed: 'ewm' })).message).toMatch(/one of sma, first/);
    expect(err(() => getIndicator('smaa')).message).toMatch(/valid indicators: sma, ema/);
    expect(err(() => getIndicator('toString')).code).toBe('NOT_FOUND');
    // A constraint between parameters is checked by the class itself.
    expect(err(() => createIndicator('macd', { fast: 30, slow: 26 })).message).toMatch(/'slow'/);
  });

  it('batch checks its array count and lengths', () => {
    const sma = getIndicator('sma');
    expect(() => sma.batch([new Float64Array(5)], [new Float64Array(4)])).toThrow(/shorter than the input/);
    expect(() => sma.batch([new Float64Array(5), new Float64Array(5)], [new Float64Array(5)])).toThrow(
      /1 input array/,
    );
  });
});

describe('TA-Lib warm-up lengths and seeds', () => {
  it('EMA/DEMA/TEMA first outputs at period-1, 2(period-1), 3(period-1) for both seeds', () => {
    const x = ramp(40, (i) => 100 + Math.sin(i));
    for (const seed of ['sma', 'first'] as const) {
      const first = (ind: { update(v: number): number }) => x.findIndex((v) => !Number.isNaN(ind.update(v)));
      expect(first(new Ema(5, seed))).toBe(seed === 'sma' ? 4 : 0);
      expect(first(new Dema(5, seed))).toBe(8);
      expect(first(new Tema(5, seed))).toBe(12);
    }
  });

  it("MACD 'sma' seeds the fast EMA with the SMA of the fast-period closes ending on the slow seed bar", () => {
    const x = ramp(60, (i) => 50 + i * 0.3 + Math.cos(i / 2) * 2);
    const m = new Macd(3, 6, 4, 'sma');
    const outs = Array.from(x, (v) => m.update(v));
    expect(outs.findIndex((v) => !Number.isNaN(v))).toBe(6 + 4 - 2);
    // Independent recomputation of TA-Lib's definition.
    const mean = (a: number, b: number) => x.slice(a, b + 1).reduce((s, v) => s + v, 0) / (b - a + 1);
    let fast = mean(3, 5);
    let slow = mean(0, 5);
    const line: number[] = [fast - slow];
    for (let i = 6; i < x.length; i++) {
      fast += (2 / 4) * (x[i]! - fast);
      slow += (2 / 7) * (x[i]! - slow);
      line.push(fast - slow);
    }
    let signal = line.slice(0, 4).reduce((s, v) => s + v, 0) / 4;
    for (let j = 4; j < line.length; j++) signal += (2 / 5) * (line[j]! - signal);
    expect(m.macd).toBeCloseTo(line.at(-1)!, 12);
    expect(m.signal).toBeCloseTo(signal, 12);
    expect(m.histogram).toBeCloseTo(line.at(-1)! - signal, 12);
  });

  it("ATR 'skip' averages the true ranges of bars 1..period; 'range' counts bar 0's high - low", () => {
    const h = [10, 11, 12, 11, 13];
    const l = [9, 10, 10, 10, 11];
    const c = [9.5, 10.5, 11, 10.5, 12];
    const skip = new Atr(3, 'skip');
    const range = new Atr(3, 'range');
    const a = h.map((_, i) => skip.update(h[i]!, l[i]!, c[i]!));
    const b = h.map((_, i) => range.update(h[i]!, l[i]!, c[i]!));
    // True ranges: bar 1: max(11, 9.5) - min(10, 9.5) = 1.5; bar 2: 2; bar 3: 1.
    expect(a.slice(0, 3).every(Number.isNaN)).toBe(true);
    expect(a[3]).toBeCloseTo((1.5 + 2 + 1) / 3, 14);
    expect(b[2]).toBeCloseTo((1 + 1.5 + 2) / 3, 14);
  });

  it("ADX conventions differ only in their first bars: 'talib' DI at period, ADX at 2 period - 1", () => {
    const n = 600;
    const h = ramp(n, (i) => 100 + 10 * Math.sin(i / 7) + (i % 5));
    const l = h.map((x, i) => x - 1 - (i % 3));
    const c = h.map((x, i) => x - 0.5 - (i % 2) * 0.4);
    const run = (conv: 'talib' | 'wilder' | 'tulip') => {
      const a = new Adx(14, conv);
      const adx: number[] = [];
      const di: number[] = [];
      for (let i = 0; i < n; i++) {
        adx.push(a.update(h[i]!, l[i]!, c[i]!));
        di.push(a.plusDi);
      }
      return { adx, di };
    };
    const t = run('talib');
    const w = run('wilder');
    const u = run('tulip');
    expect(t.di.findIndex((x) => !Number.isNaN(x))).toBe(14);
    expect(t.adx.findIndex((x) => !Number.isNaN(x))).toBe(27);
    expect(w.adx.findIndex((x) => !Number.isNaN(x))).toBe(27);
    expect(u.adx.findIndex((x) => !Number.isNaN(x))).toBe(26);
    // Tulip's DI equals TA-Lib's from bar `period` on (same sums, published one bar earlier).
    for (let i = 14; i < n; i++) expect(u.di[i]).toBeCloseTo(t.di[i]!, 9);
    expect(Math.abs(t.adx[n - 1]! - w.adx[n - 1]!)).toBeLessThan(1e-6);
  });

  it('OBV starts at the first volume (TA-Lib) or at 0; VWAP restarts on reset (sessions)', () => {
    const a = new Obv('volume');
    const b = new Obv('zero');
    expect([a.update(10, 5), a.update(11, 3), a.update(10.5, 2), a.update(10.5, 7)]).toEqual([5, 8, 6, 6]);
    expect([b.update(10, 5), b.update(11, 3)]).toEqual([0, 3]);
    const v = new Vwap();
    expect(v.update(3, 1, 2, 10)).toBe(2);
    expect(v.update(6, 4, 5, 30)).toBeCloseTo((2 * 10 + 5 * 30) / 40, 14);
    v.reset();
    expect(v.ready).toBe(false);
    expect(v.update(9, 7, 8, 0)).toBe(8);
  });

  it('beta on returns: cov(asset, market) / var(market), first output at bar period', () => {
    const market = [100, 101, 99, 102, 103, 101];
    const asset = market.map((m, i) => 50 * (1 + 2 * (m / 100 - 1)) + (i % 2) * 0.3);
    const b = new Beta(3, 'returns');
    const out = market.map((m, i) => b.update(asset[i]!, m));
    expect(out.slice(0, 3).every(Number.isNaN)).toBe(true);
    const rm = market.slice(1).map((m, i) => m / market[i]! - 1);
    const ra = asset.slice(1).map((a, i) => a / asset[i]! - 1);
    const w = (r: number[], end: number) => r.slice(end - 2, end + 1);
    const mean = (r: number[]) => r.reduce((s, x) => s + x, 0) / r.length;
    const wm = w(rm, 4);
    const wa = w(ra, 4);
    const mm = mean(wm);
    const ma = mean(wa);
    const cov = wm.reduce((s, x, j) => s + (x - mm) * (wa[j]! - ma), 0);
    const vm = wm.reduce((s, x) => s + (x - mm) ** 2, 0);
    expect(out[5]).toBeCloseTo(cov / vm, 12);
  });
});

describe('microstructure features', () => {
  it('book imbalance, depth imbalance and microprice', () => {
    const obi = new BookImbalance();
    expect(obi.update(3, 1)).toBe(0.5);
    expect(obi.update(0, 0)).toBe(0);
    const smooth = new BookImbalance(3);
    smooth.update(1, 1);
    expect(smooth.update(3, 1)).toBeCloseTo(0.25, 15);
    expect(depthImbalance([5, 1, 100], [1, 1, 0], 2)).toBeCloseTo((6 - 2) / 8, 15);
    const mp = new Microprice();
    // A heavy bid pulls the price towards the ask.
    expect(mp.update(100, 9, 101, 1)).toBeCloseTo(100.9, 12);
    expect(mp.update(100, 0, 101, 0)).toBe(100.5);
  });

  it('trade-flow imbalance over the last N trades', () => {
    const tfi = new TradeFlowImbalance(3);
    expect(tfi.update(2)).toBeNaN();
    tfi.update(-1);
    expect(tfi.update(1)).toBeCloseTo(2 / 4, 15);
    expect(tfi.update(-3)).toBeCloseTo(-3 / 5, 15);
    for (let i = 0; i < 3; i++) tfi.update(0);
    expect(tfi.value).toBe(0);
  });
});
