// Properties of every indicator on random data (fast-check): the streaming form equals the batch form bar for
// bar (bit-identical: both run the same operations in the same order), reset() returns to a fresh state, and the
// O(1) rolling windows equal a naive O(period) recomputation within 1e-9 relative to the data's scale.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RollingExtreme } from './common.ts';
import { RealizedVolatility, TradeFlowImbalance } from './microstructure.ts';
import { Ema, Kama, Sma, Wma } from './moving-averages.ts';
import { Cci } from './oscillators.ts';
import {
  INDICATOR_NAMES,
  INDICATORS,
  type IndicatorSpec,
  type InputName,
  type ParamValue,
} from './registry.ts';
import { Beta, Correlation, LinReg, StdDev, ZScore } from './statistics.ts';
import { Aroon } from './trend.ts';
import { BollingerBands, DonchianChannels } from './volatility.ts';
import { Mfi, Vwap } from './volume.ts';

/** Deterministic uniform [0, 1) from a seed (mulberry32), so a failing case replays from its fast-check seed. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Market {
  open: Float64Array;
  high: Float64Array;
  low: Float64Array;
  close: Float64Array;
  volume: Float64Array;
  /** A second, partly correlated price series. */
  other: Float64Array;
  signed: Float64Array;
}

/** A random-walk market: price level, volatility and the share of flat steps vary per case. */
const marketArb = fc
  .record({
    seed: fc.integer(),
    n: fc.integer({ min: 1, max: 300 }),
    base: fc.constantFrom(0.0003, 1, 95, 30_000, 2e6),
    vol: fc.constantFrom(0.001, 0.01, 0.05),
    flat: fc.constantFrom(0, 0.3),
  })
  .map(({ seed, n, base, vol, flat }): Market => {
    const r = rng(seed);
    const m: Market = {
      open: new Float64Array(n),
      high: new Float64Array(n),
      low: new Float64Array(n),
      close: new Float64Array(n),
      volume: new Float64Array(n),
      other: new Float64Array(n),
      signed: new Float64Array(n),
    };
    let p = base;
    let q = base * 2;
    for (let i = 0; i < n; i++) {
      const o = p;
      const still = r() < flat;
      const shock = still ? 0 : (r() - 0.5) * 2 * vol;
      p = o * Math.exp(shock);
      q *= Math.exp(0.7 * shock + (r() - 0.5) * vol);
      m.open[i] = o;
      m.close[i] = p;
      m.high[i] = Math.max(o, p) * (still ? 1 : 1 + r() * vol);
      m.low[i] = Math.min(o, p) * (still ? 1 : 1 - r() * vol);
      m.volume[i] = still ? 0 : r() * 1000;
      m.other[i] = q;
      m.signed[i] = (r() - 0.45) * 10;
    }
    return m;
  });

function inputFor(m: Market, name: InputName): Float64Array {
  switch (name) {
    case 'open':
      return m.open;
    case 'high':
    case 'askPrice':
      return m.high;
    case 'low':
    case 'bidPrice':
      return m.low;
    case 'close':
    case 'x':
    case 'asset':
      return m.close;
    case 'y':
    case 'market':
      return m.other;
    case 'volume':
    case 'bidSize':
      return m.volume;
    case 'askSize':
      return m.volume.map((v, i) => (v * (i % 7)) / 3);
    case 'signedSize':
      return m.signed;
  }
}

const same = (a: number, b: number): boolean => Object.is(a, b) || (a === b && a === 0);

/** Parameters for a spec: every enum value and small integer windows get exercised, numbers stay at defaults. */
function paramsArb(spec: IndicatorSpec): fc.Arbitrary<Record<string, ParamValue>> {
  const fields: Record<string, fc.Arbitrary<ParamValue>> = {};
  for (const p of spec.params) {
    if (p.type === 'enum') fields[p.name] = fc.constantFrom(...(p.values ?? []));
    else if (p.type === 'int') {
      const min = p.min ?? 0;
      fields[p.name] = fc.integer({ min, max: Math.min(p.max ?? 30, Math.max(min, 30)) });
    }
  }
  return fc.record(fields).filter((p) => {
    // MACD needs slow >= fast.
    return !(typeof p.fast === 'number' && typeof p.slow === 'number' && p.slow < p.fast);
  });
}

describe('every registry indicator', () => {
  for (const name of INDICATOR_NAMES) {
    const spec = INDICATORS[name]!;
    it(`${name}: streaming equals batch bar for bar, and reset() starts afresh`, () => {
      fc.assert(
        fc.property(marketArb, paramsArb(spec), (m, params) => {
          const ins = spec.inputs.map((k) => inputFor(m, k));
          const n = ins[0]!.length;
          const outs = spec.outputs.map(() => new Float64Array(n));
          spec.batch(ins, outs, params);
          const s = spec.create(params);
          // Feed garbage first, then reset: the run after reset() must match a fresh one exactly.
          for (let i = 0; i < Math.min(n, 7); i++) s.update(1 + i, 2, 0.5, 3);
          s.reset();
          expect(s.ready).toBe(false);
          for (let i = 0; i < n; i++) {
            s.update(ins[0]![i]!, ins[1]?.[i], ins[2]?.[i], ins[3]?.[i]);
            for (let k = 0; k < outs.length; k++) {
              const b = outs[k]![i]!;
              const v = s.output(k);
              if (!same(b, v)) {
                throw new Error(`${name}.${spec.outputs[k]} bar ${i}: streaming ${v} != batch ${b}`);
              }
            }
          }
        }),
        { numRuns: Number(process.env.RUNS ?? 100) },
      );
    });
  }

  it('ready flips exactly at the first non-NaN primary output and stays', () => {
    fc.assert(
      fc.property(marketArb, fc.constantFrom(...INDICATOR_NAMES), (m, name) => {
        const spec = INDICATORS[name]!;
        const ins = spec.inputs.map((k) => inputFor(m, k));
        const s = spec.create();
        let wasReady = false;
        for (let i = 0; i < ins[0]!.length; i++) {
          const v = s.update(ins[0]![i]!, ins[1]?.[i], ins[2]?.[i], ins[3]?.[i]);
          expect(s.ready, `${name} bar ${i}`).toBe(!Number.isNaN(v) || wasReady);
          if (wasReady) expect(Number.isNaN(v), `${name} bar ${i}`).toBe(false);
          wasReady = s.ready;
        }
      }),
      { numRuns: Number(process.env.RUNS ?? 300) },
    );
  });
});

// ---- O(1) windows against naive recomputation -------------------------------------------------------------

const periodArb = fc.integer({ min: 2, max: 40 });

function maxAbs(a: Float64Array): number {
  let m = 0;
  for (const x of a) m = Math.max(m, Math.abs(x));
  return m;
}

function window(a: Float64Array, end: number, period: number): Float64Array {
  return a.subarray(end - period + 1, end + 1);
}

function mean(w: Float64Array): number {
  let s = 0;
  for (const x of w) s += x;
  return s / w.length;
}

function sumSq(w: Float64Array, mu: number): number {
  let s = 0;
  for (const x of w) s += (x - mu) ** 2;
  return s;
}

/**
 * Sliding (co)moments carry rounding of the order eps * (spread of the recent values / spread of the window)^2:
 * when a window's spread collapses below 1e-3 of the spread over the last two windows (a run of flat bars after
 * moves), a ratio such as beta is ill-conditioned and no O(1) method keeps 1e-9; compare the others.
 */
function conditioned(a: Float64Array, i: number, period: number): boolean {
  const std = (w: Float64Array) => Math.sqrt(sumSq(w, mean(w)) / w.length);
  const recent = a.subarray(Math.max(0, i - 2 * period + 1), i + 1);
  const s = std(window(a, i, period));
  return s > 0 && s >= 1e-3 * std(recent);
}

/** |got - want| <= 1e-9 * scale, with scale the data's magnitude for that quantity. */
function near(got: number, want: number, scale: number, what: string): void {
  if (!(Math.abs(got - want) <= 1e-9 * Math.max(scale, Math.abs(want)))) {
    throw new Error(`${what}: got ${got}, naive ${want} (scale ${scale})`);
  }
}

describe('O(1) windows equal naive recomputation (1e-9 relative)', () => {
  it('SMA, WMA, standard deviation, z-score and Bollinger Bands', () => {
    fc.assert(
      fc.property(marketArb, periodArb, (m, period) => {
        const x = m.close;
        const scale = maxAbs(x);
        const sma = new Sma(period);
        const wma = new Wma(period);
        const sd = new StdDev(period);
        const sd1 = new StdDev(period, 1);
        const z = new ZScore(period);
        const bb = new BollingerBands(period, 2);
        for (let i = 0; i < x.length; i++) {
          const a = sma.update(x[i]!);
          const b = wma.update(x[i]!);
          const c = sd.update(x[i]!);
          const c1 = sd1.update(x[i]!);
          const zz = z.update(x[i]!);
          bb.update(x[i]!);
          if (i < period - 1) {
            expect([a, b, c, zz].every(Number.isNaN)).toBe(true);
            continue;
          }
          const w = window(x, i, period);
          const mu = mean(w);
          let ws = 0;
          w.forEach((v, j) => {
            ws += (j + 1) * v;
          });
          const std = Math.sqrt(sumSq(w, mu) / period);
          near(a, mu, scale, 'sma');
          near(b, ws / ((period * (period + 1)) / 2), scale, 'wma');
          near(c, std, scale, 'stddev');
          near(c1, Math.sqrt(sumSq(w, mu) / (period - 1)), scale, 'stddev ddof 1');
          near(bb.upper, mu + 2 * std, scale, 'bb upper');
          near(bb.lower, mu - 2 * std, scale, 'bb lower');
          // A z-score is ill-conditioned on a near-flat window; compare where the window has real spread.
          if (w.every((v) => v === w[0])) {
            // A window of identical values is exactly flat: no rounding residue may leak into the z-score.
            expect(zz).toBe(0);
            expect(c).toBe(0);
          } else if (std > 1e-6 * scale) near(zz, (x[i]! - mu) / std, 1, 'zscore');
        }
      }),
      { numRuns: Number(process.env.RUNS ?? 200) },
    );
  });

  it('linear regression slope, intercept and fitted value', () => {
    fc.assert(
      fc.property(marketArb, periodArb, (m, period) => {
        const x = m.close;
        const scale = maxAbs(x);
        const lr = new LinReg(period);
        for (let i = 0; i < x.length; i++) {
          const v = lr.update(x[i]!);
          if (i < period - 1) continue;
          const w = window(x, i, period);
          const my = mean(w);
          const mx = (period - 1) / 2;
          let sxy = 0;
          let sxx = 0;
          w.forEach((y, j) => {
            sxy += (j - mx) * (y - my);
            sxx += (j - mx) ** 2;
          });
          const slope = sxy / sxx;
          near(lr.slope, slope, scale, 'slope');
          near(lr.intercept, my - slope * mx, scale, 'intercept');
          near(v, my + slope * (period - 1 - mx), scale, 'value');
        }
      }),
      { numRuns: Number(process.env.RUNS ?? 200) },
    );
  });

  it('rolling correlation and beta', () => {
    fc.assert(
      fc.property(marketArb, periodArb, (m, period) => {
        const x = m.close;
        const y = m.other;
        const corr = new Correlation(period);
        const beta = new Beta(period, 'values');
        const betaR = new Beta(period, 'returns');
        const rx = x.map((v, i) => (i === 0 ? 0 : v / x[i - 1]! - 1));
        const ry = y.map((v, i) => (i === 0 ? 0 : v / y[i - 1]! - 1));
        for (let i = 0; i < x.length; i++) {
          const c = corr.update(x[i]!, y[i]!);
          const b = beta.update(y[i]!, x[i]!);
          const br = betaR.update(y[i]!, x[i]!);
          if (i >= period - 1) {
            const wx = window(x, i, period);
            const wy = window(y, i, period);
            const mx = mean(wx);
            const my = mean(wy);
            let sxy = 0;
            wx.forEach((v, j) => {
              sxy += (v - mx) * (wy[j]! - my);
            });
            const sxx = sumSq(wx, mx);
            const syy = sumSq(wy, my);
            // Correlation and beta are ill-conditioned on near-flat windows: compare where both series move.
            if (
              Math.sqrt(sxx / period) > 1e-6 * maxAbs(x) &&
              Math.sqrt(syy / period) > 1e-6 * maxAbs(y) &&
              conditioned(x, i, period) &&
              conditioned(y, i, period)
            ) {
              near(c, sxy / Math.sqrt(sxx * syy), 1, 'correl');
              near(b, sxy / sxx, Math.abs(sxy / sxx) + 1, 'beta');
            }
          }
          if (i >= period) {
            const wx = window(rx, i, period);
            const wy = window(ry, i, period);
            const mx = mean(wx);
            const my = mean(wy);
            let sxy = 0;
            wx.forEach((v, j) => {
              sxy += (v - mx) * (wy[j]! - my);
            });
            const sxx = sumSq(wx, mx);
            if (conditioned(rx, i, period)) near(br, sxy / sxx, Math.abs(sxy / sxx) + 1, 'beta returns');
            else if (wx.every((r) => r === wx[0])) expect(br).toBe(0);
          } else {
            expect(Number.isNaN(br)).toBe(true);
          }
        }
      }),
      { numRuns: Number(process.env.RUNS ?? 200) },
    );
  });

  it('rolling extremes (monotonic deque), Donchian and Aroon ages', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: -5, max: 5 }), { minLength: 1, maxLength: 300 }),
        periodArb,
        (raw, period) => {
          // Small integers: many ties, which exercise the "latest extreme wins" rule.
          const x = Float64Array.from(raw);
          const hi = new RollingExtreme(period, 'max');
          const lo = new RollingExtreme(period, 'min');
          const dc = new DonchianChannels(period);
          const ar = new Aroon(period - 1);
          for (let i = 0; i < x.length; i++) {
            const h = hi.push(x[i]!);
            const l = lo.push(x[i]!);
            dc.update(x[i]!, x[i]!);
            ar.update(x[i]!, x[i]!);
            const w = x.subarray(Math.max(0, i - period + 1), i + 1);
            const max = Math.max(...w);
            const min = Math.min(...w);
            expect(h).toBe(max);
            expect(l).toBe(min);
            expect(hi.age).toBe(w.length - 1 - w.lastIndexOf(max));
            expect(lo.age).toBe(w.length - 1 - w.lastIndexOf(min));
            if (i >= period - 1) {
              expect(dc.upper).toBe(max);
              expect(dc.lower).toBe(min);
              const n = period - 1;
              expect(ar.up).toBeCloseTo((100 * (n - (w.length - 1 - w.lastIndexOf(max)))) / n, 12);
              expect(ar.down).toBeCloseTo((100 * (n - (w.length - 1 - w.lastIndexOf(min)))) / n, 12);
            }
          }
        },
      ),
      { numRuns: Number(process.env.RUNS ?? 300) },
    );
  });

  it('rolling VWAP, MFI, CCI, KAMA, realised volatility and trade-flow imbalance', () => {
    fc.assert(
      fc.property(marketArb, periodArb, (m, period) => {
        const { high, low, close, volume, signed } = m;
        const scale = maxAbs(high);
        const tp = close.map((c, i) => (high[i]! + low[i]! + c) / 3);
        const vwap = new Vwap(period);
        const mfi = new Mfi(period);
        const cci = new Cci(period);
        const kama = new Kama(period);
        const rv = new RealizedVolatility(period);
        const tfi = new TradeFlowImbalance(period);
        let kamaNaive = Number.NaN;
        for (let i = 0; i < close.length; i++) {
          const v = vwap.update(high[i]!, low[i]!, close[i]!, volume[i]!);
          const f = mfi.update(high[i]!, low[i]!, close[i]!, volume[i]!);
          const c = cci.update(high[i]!, low[i]!, close[i]!);
          const k = kama.update(close[i]!);
          const r = rv.update(close[i]!);
          const t = tfi.update(signed[i]!);
          if (i >= period - 1) {
            let pv = 0;
            let vv = 0;
            let gross = 0;
            let net = 0;
            for (let j = i - period + 1; j <= i; j++) {
              pv += tp[j]! * volume[j]!;
              vv += volume[j]!;
              net += signed[j]!;
              gross += Math.abs(signed[j]!);
            }
            near(v, vv > 0 ? pv / vv : tp[i]!, scale, 'vwap');
            near(t, gross > 0 ? net / gross : 0, 1, 'tfi');
            const w = window(tp, i, period);
            const mu = mean(w);
            let md = 0;
            for (const y of w) md += Math.abs(y - mu);
            md /= period;
            if (md > 1e-6 * scale) near(c, (tp[i]! - mu) / (0.015 * md), Math.abs(c) + 1, 'cci');
          }
          if (i >= period) {
            let pos = 0;
            let neg = 0;
            let sq = 0;
            let vol = 0;
            for (let j = i - period + 1; j <= i; j++) {
              const flow = tp[j]! * volume[j]!;
              if (tp[j]! > tp[j - 1]!) pos += flow;
              else if (tp[j]! < tp[j - 1]!) neg += flow;
              sq += Math.log(close[j]! / close[j - 1]!) ** 2;
              vol += Math.abs(close[j]! - close[j - 1]!);
            }
            near(f, pos + neg > 0 ? (100 * pos) / (pos + neg) : 0, 100, 'mfi');
            near(r, Math.sqrt(sq), r, 'rv');
            const dir = Math.abs(close[i]! - close[i - period]!);
            const er = vol > 0 && dir < vol ? dir / vol : 1;
            const sc = (er * (2 / 3 - 2 / 31) + 2 / 31) ** 2;
            kamaNaive += sc * (close[i]! - kamaNaive);
            // The efficiency ratio divides two window sums: compare where the window moved.
            if (vol > 1e-6 * scale) near(k, kamaNaive, scale, 'kama');
            else kamaNaive = k;
          } else if (i === period - 1) {
            kamaNaive = close[i]!;
          }
        }
      }),
      { numRuns: Number(process.env.RUNS ?? 200) },
    );
  });

  it('EMA seeds: sma seeds with the mean of the first N, first with the first value', () => {
    fc.assert(
      fc.property(marketArb, periodArb, (m, period) => {
        const x = m.close;
        const a = new Ema(period, 'sma');
        const b = new Ema(period, 'first');
        const alpha = 2 / (period + 1);
        let ea = Number.NaN;
        let eb = Number.NaN;
        for (let i = 0; i < x.length; i++) {
          const va = a.update(x[i]!);
          const vb = b.update(x[i]!);
          eb = i === 0 ? x[0]! : eb + alpha * (x[i]! - eb);
          if (i === period - 1) ea = mean(x.subarray(0, period));
          else if (i >= period) ea += alpha * (x[i]! - ea);
          near(vb, eb, maxAbs(x), 'ema first');
          if (i < period - 1) expect(Number.isNaN(va)).toBe(true);
          else near(va, ea, maxAbs(x), 'ema sma');
        }
      }),
      { numRuns: Number(process.env.RUNS ?? 100) },
    );
  });
});
