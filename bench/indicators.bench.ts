// Indicator benchmarks: ns per streaming update (SMA, EMA, RSI, MACD, Bollinger, ATR) and ns per element of the
// batch forms, on the same 2^20-bar seeded random walk, beside technicalindicators, trading-signals, @ixjb94/indicators
// and tulind measured in the same run. Before timing, each peer's last 100 outputs are checked against ours.

import { createRequire } from 'node:module';
import { setTimeout as delay } from 'node:timers/promises';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { IndicatorsSync } from '@ixjb94/indicators';
import * as TI from 'technicalindicators';
import * as TS from 'trading-signals';
import {
  Atr,
  atrBatch,
  BollingerBands,
  bbandsBatch,
  Ema,
  emaBatch,
  Macd,
  macdBatch,
  Rsi,
  rsiBatch,
  Sma,
  smaBatch,
} from '../src/indicators/index.ts';
import { type BenchContext, type BenchSpec, type Measurement, measure, peerName } from './harness.ts';

const require = createRequire(import.meta.url);

/**
 * A full collection, then a pause for V8's concurrent sweeper: the peers leave hundreds of MB of garbage (their
 * full 2^20-bar runs), and sweeping it on background threads of a 2-core machine slows the next timed loop
 * (measured: ATR after the Bollinger peers went from 6 to 119 ns/op).
 */
setFlagsFromString('--expose-gc');
const fullGc = runInNewContext('gc') as (() => void) | undefined;
async function settleHeap(quick: boolean): Promise<void> {
  // Twice: the first collection's finalisers and weak callbacks leave work that the second one clears. Quick
  // mode's peers run over far fewer bars (see QUICK_BATCH_BARS): one collection and a short pause do.
  for (let i = 0; i < (quick ? 1 : 2); i++) {
    if (typeof fullGc === 'function') fullGc();
    await delay(quick ? 20 : 100);
  }
}

const TI_NAME = peerName('technicalindicators');
const TS_NAME = peerName('trading-signals');
const IX_NAME = peerName('@ixjb94/indicators');

/** tulind is a native addon: when its binary does not load here, its batch figures are left out (and said so). */
interface Tulind {
  indicators: Record<
    string,
    { indicator(inputs: number[][], options: number[], cb: (err: unknown, res: number[][]) => void): void }
  >;
}
let tulind: Tulind | undefined;
let tulindName = 'tulind';
try {
  tulind = require('tulind') as Tulind;
  tulindName = peerName('tulind');
} catch {
  tulind = undefined;
}

// ---- the data: 2^20 bars of a seeded geometric random walk around 30,000 (a BTC-like price) -------------------

const N = 1 << 20;
const MASK = N - 1;

function makeBars(): { close: Float64Array; high: Float64Array; low: Float64Array } {
  let seed = 0x5eed;
  const rand = (): number => {
    seed = (seed + 0x6d2b79f5) >>> 0;
    let t = seed;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const close = new Float64Array(N);
  const high = new Float64Array(N);
  const low = new Float64Array(N);
  let p = 30_000;
  for (let i = 0; i < N; i++) {
    const open = p;
    // Roughly normal returns (sum of three uniforms), 0.1% per bar.
    p = open * Math.exp((rand() + rand() + rand() - 1.5) * 0.002);
    close[i] = p;
    high[i] = Math.max(open, p) * (1 + rand() * 0.0008);
    low[i] = Math.min(open, p) * (1 - rand() * 0.0008);
  }
  return { close, high, low };
}

let bars: ReturnType<typeof makeBars> | undefined;
function data(): ReturnType<typeof makeBars> {
  bars ??= makeBars();
  return bars;
}
type Bars = ReturnType<typeof makeBars>;
interface PlainBars {
  close: number[];
  high: number[];
  low: number[];
}
const plain = new Map<number, PlainBars>();
/** The first n bars as plain arrays, for the peers whose APIs take number[] (converted once, outside the timing). */
function plainData(n = N): PlainBars {
  let p = plain.get(n);
  if (p === undefined) {
    const d = data();
    const part = (a: Float64Array) => Array.from(a.subarray(0, n));
    p = { close: part(d.close), high: part(d.high), low: part(d.low) };
    plain.set(n, p);
  }
  return p;
}
/** The first n bars as views of the typed arrays. */
function typedData(n = N): Bars {
  const d = data();
  return { close: d.close.subarray(0, n), high: d.high.subarray(0, n), low: d.low.subarray(0, n) };
}

/**
 * Quick mode runs the batch forms over the first 2^18 bars (ns per element of a linear pass, so the figure keeps
 * its meaning) and checks the streaming forms' agreement after 2^16 bars: the slow peers' full 2^20-bar runs
 * were most of the suite's time (technicalindicators' Bollinger batch alone takes seconds per call).
 */
const QUICK_BATCH_BARS = 1 << 18;
const QUICK_TAIL_BARS = 1 << 16;

// ---- agreement: the last 100 outputs of a full run over the bars ----------------------------------------------

const TAIL = 100;

/** Largest |ours - theirs| / max(|ours|, 1) over aligned tails (several outputs each), and how many were compared. */
function tailDiff(ours: Float64Array[], theirs: ArrayLike<number>[]): { diff: number; compared: number } {
  let diff = 0;
  let compared = 0;
  for (let k = 0; k < ours.length; k++) {
    const a = ours[k]!;
    const b = theirs[k]!;
    for (let j = 0; j < TAIL; j++) {
      const x = a[a.length - TAIL + j]!;
      const y = b[b.length - TAIL + j]!;
      const d = Math.abs(x - y) / Math.max(Math.abs(x), 1);
      diff = Number.isNaN(d) ? Number.POSITIVE_INFINITY : Math.max(diff, d);
      compared++;
    }
  }
  return { diff, compared };
}

/** A peer agrees when every one of its last 100 outputs is within 1e-9 relative of ours. */
const AGREE = 1e-9;

function agreement(
  extra: Record<string, string | number>,
  name: string,
  ours: Float64Array[],
  theirs: ArrayLike<number>[],
  decimals?: number,
): void {
  // A peer that rounds its output is compared with ours rounded the same way (and the rounding is said).
  const mine =
    decimals === undefined ? ours : ours.map((a) => a.map((x) => Number.parseFloat(x.toFixed(decimals))));
  const { diff, compared } = tailDiff(mine, theirs);
  const note = decimals === undefined ? '' : ` (it rounds to ${decimals} dp; ours rounded alike)`;
  extra[`agree ${name}`] =
    `${diff <= AGREE ? 'yes' : 'NO'}: ${compared} values, max rel diff ${diff.toExponential(1)}${note}`;
}

// ---- streaming ------------------------------------------------------------------------------------------------

/** A timed loop: n updates over the bars in order, wrapping at 2^20, returning the last output. */
type Loop = (n: number) => unknown;

interface StreamCase {
  id: string;
  title: string;
  target: number;
  /** trading-signals' per-update figure quoted in issue 6. */
  issueFigure: number;
  /** technicalindicators rounds some outputs (RSI to 2 dp). */
  tiDecimals?: number;
  /**
   * One loop per subject, each written out so its call site sees a single class (a loop shared by all subjects
   * would be megamorphic and measure V8's dispatch instead of the indicators). The bar index lives in the closure
   * and persists across samples, so every sample sees fresh bars.
   */
  loops(): { ours: Loop; ti: Loop; ts: Loop };
  /** The last 100 outputs (every output line) of a full run over the bars, for ours and each peer. */
  tails(): { ours: Float64Array[]; ti: Float64Array[]; ts: Float64Array[] };
}

const num = (v: unknown): number => (typeof v === 'number' ? v : Number.NaN);

/** Bars the streaming agreement check runs over (all of them in full mode); set per run by streamBench. */
let tailBars = N;

/** Runs `step` over the first `tailBars` bars and keeps the last 100 values of each field. */
function collect<T>(step: (i: number) => T, fields: ((r: T) => number)[]): Float64Array[] {
  const outs = fields.map(() => new Float64Array(TAIL));
  const n = tailBars;
  for (let i = 0; i < n; i++) {
    const r = step(i);
    if (i >= n - TAIL) for (let k = 0; k < fields.length; k++) outs[k]![i - (n - TAIL)] = fields[k]!(r);
  }
  return outs;
}

const same = (v: number): number => v;

const STREAM_CASES: StreamCase[] = [
  {
    id: 'indicators.stream.sma',
    title: 'SMA(20) streaming update',
    target: 8,
    issueFigure: 40,
    loops() {
      const { close } = data();
      const ours = new Sma(20);
      const ti = new TI.SMA({ period: 20, values: [] });
      const ts = new TS.SMA(20);
      let a = 0;
      let b = 0;
      let c = 0;
      return {
        ours: (n) => {
          let v = 0;
          for (let k = 0; k < n; k++, a = (a + 1) & MASK) v = ours.update(close[a]!);
          return v;
        },
        ti: (n) => {
          let v: unknown;
          for (let k = 0; k < n; k++, b = (b + 1) & MASK) v = ti.nextValue(close[b]!);
          return v;
        },
        ts: (n) => {
          let v: unknown;
          for (let k = 0; k < n; k++, c = (c + 1) & MASK) v = ts.update(close[c]!, false);
          return v;
        },
      };
    },
    tails() {
      const { close } = data();
      const ours = new Sma(20);
      const ti = new TI.SMA({ period: 20, values: [] });
      const ts = new TS.SMA(20);
      return {
        ours: collect((i) => ours.update(close[i]!), [same]),
        ti: collect((i) => ti.nextValue(close[i]!), [num]),
        ts: collect((i) => ts.update(close[i]!, false), [num]),
      };
    },
  },
  {
    id: 'indicators.stream.ema',
    title: 'EMA(20) streaming update',
    target: 5.5,
    issueFigure: 5.5,
    loops() {
      const { close } = data();
      const ours = new Ema(20);
      const ti = new TI.EMA({ period: 20, values: [] });
      const ts = new TS.EMA(20);
      let a = 0;
      let b = 0;
      let c = 0;
      return {
        ours: (n) => {
          let v = 0;
          for (let k = 0; k < n; k++, a = (a + 1) & MASK) v = ours.update(close[a]!);
          return v;
        },
        ti: (n) => {
          let v: unknown;
          for (let k = 0; k < n; k++, b = (b + 1) & MASK) v = ti.nextValue(close[b]!);
          return v;
        },
        ts: (n) => {
          let v: unknown;
          for (let k = 0; k < n; k++, c = (c + 1) & MASK) v = ts.update(close[c]!, false);
          return v;
        },
      };
    },
    tails() {
      const { close } = data();
      const ours = new Ema(20);
      const ti = new TI.EMA({ period: 20, values: [] });
      const ts = new TS.EMA(20);
      return {
        ours: collect((i) => ours.update(close[i]!), [same]),
        ti: collect((i) => ti.nextValue(close[i]!), [num]),
        ts: collect((i) => ts.update(close[i]!, false), [num]),
      };
    },
  },
  {
    id: 'indicators.stream.rsi',
    title: 'RSI(14) streaming update',
    target: 27,
    issueFigure: 137,
    tiDecimals: 2,
    loops() {
      const { close } = data();
      const ours = new Rsi(14);
      const ti = new TI.RSI({ period: 14, values: [] });
      const ts = new TS.RSI(14);
      let a = 0;
      let b = 0;
      let c = 0;
      return {
        ours: (n) => {
          let v = 0;
          for (let k = 0; k < n; k++, a = (a + 1) & MASK) v = ours.update(close[a]!);
          return v;
        },
        ti: (n) => {
          let v: unknown;
          for (let k = 0; k < n; k++, b = (b + 1) & MASK) v = ti.nextValue(close[b]!);
          return v;
        },
        ts: (n) => {
          let v: unknown;
          for (let k = 0; k < n; k++, c = (c + 1) & MASK) v = ts.update(close[c]!, false);
          return v;
        },
      };
    },
    tails() {
      const { close } = data();
      const ours = new Rsi(14);
      const ti = new TI.RSI({ period: 14, values: [] });
      const ts = new TS.RSI(14);
      return {
        ours: collect((i) => ours.update(close[i]!), [same]),
        ti: collect((i) => ti.nextValue(close[i]!), [num]),
        ts: collect((i) => ts.update(close[i]!, false), [num]),
      };
    },
  },
  {
    id: 'indicators.stream.macd',
    title: 'MACD(12,26,9) streaming update',
    target: 16,
    issueFigure: 78,
    loops() {
      const { close } = data();
      const ours = new Macd(12, 26, 9);
      const ti = new TI.MACD(tiMacdInput());
      const ts = new TS.MACD(new TS.EMA(12), new TS.EMA(26), new TS.EMA(9));
      let a = 0;
      let b = 0;
      let c = 0;
      return {
        ours: (n) => {
          let v = 0;
          for (let k = 0; k < n; k++, a = (a + 1) & MASK) v = ours.update(close[a]!);
          return v;
        },
        ti: (n) => {
          let v: unknown;
          for (let k = 0; k < n; k++, b = (b + 1) & MASK) v = ti.nextValue(close[b]!);
          return v;
        },
        ts: (n) => {
          let v: unknown;
          for (let k = 0; k < n; k++, c = (c + 1) & MASK) v = ts.update(close[c]!, false);
          return v;
        },
      };
    },
    tails() {
      const { close } = data();
      const ours = new Macd(12, 26, 9);
      const ti = new TI.MACD(tiMacdInput());
      const ts = new TS.MACD(new TS.EMA(12), new TS.EMA(26), new TS.EMA(9));
      return {
        ours: collect(
          (i) => ours.update(close[i]!),
          [() => ours.macd, () => ours.signal, () => ours.histogram],
        ),
        ti: collect(
          (i) => ti.nextValue(close[i]!),
          [(r) => num(r?.MACD), (r) => num(r?.signal), (r) => num(r?.histogram)],
        ),
        ts: collect(
          (i) => ts.update(close[i]!, false),
          [(r) => num(r?.macd), (r) => num(r?.signal), (r) => num(r?.histogram)],
        ),
      };
    },
  },
  {
    id: 'indicators.stream.bbands',
    title: 'Bollinger Bands(20, 2) streaming update',
    target: 54,
    issueFigure: 272,
    loops() {
      const { close } = data();
      const ours = new BollingerBands(20, 2);
      const ti = new TI.BollingerBands({ period: 20, stdDev: 2, values: [] });
      const ts = new TS.BollingerBands(20, 2);
      let a = 0;
      let b = 0;
      let c = 0;
      return {
        ours: (n) => {
          let v = 0;
          for (let k = 0; k < n; k++, a = (a + 1) & MASK) v = ours.update(close[a]!);
          return v;
        },
        ti: (n) => {
          let v: unknown;
          for (let k = 0; k < n; k++, b = (b + 1) & MASK) v = ti.nextValue(close[b]!);
          return v;
        },
        ts: (n) => {
          let v: unknown;
          for (let k = 0; k < n; k++, c = (c + 1) & MASK) v = ts.update(close[c]!, false);
          return v;
        },
      };
    },
    tails() {
      const { close } = data();
      const ours = new BollingerBands(20, 2);
      const ti = new TI.BollingerBands({ period: 20, stdDev: 2, values: [] });
      const ts = new TS.BollingerBands(20, 2);
      const bands = <T extends { upper: number; middle: number; lower: number } | null | undefined>(): ((
        r: T,
      ) => number)[] => [(r) => num(r?.upper), (r) => num(r?.middle), (r) => num(r?.lower)];
      return {
        ours: collect((i) => ours.update(close[i]!), [() => ours.upper, () => ours.middle, () => ours.lower]),
        ti: collect((i) => ti.nextValue(close[i]!), bands()),
        ts: collect((i) => ts.update(close[i]!, false), bands()),
      };
    },
  },
  {
    id: 'indicators.stream.atr',
    title: 'ATR(14) streaming update',
    target: 12,
    issueFigure: 58,
    loops() {
      const { close, high, low } = data();
      const ours = new Atr(14);
      const ti = new TI.ATR({ period: 14, high: [], low: [], close: [] });
      const ts = new TS.ATR(14);
      let a = 0;
      let b = 0;
      let c = 0;
      return {
        ours: (n) => {
          let v = 0;
          for (let k = 0; k < n; k++, a = (a + 1) & MASK) v = ours.update(high[a]!, low[a]!, close[a]!);
          return v;
        },
        // The peers take a candle object per update: building it is part of using their API.
        ti: (n) => {
          let v: unknown;
          for (let k = 0; k < n; k++, b = (b + 1) & MASK) {
            v = ti.nextValue({ high: high[b]!, low: low[b]!, close: close[b]! });
          }
          return v;
        },
        ts: (n) => {
          let v: unknown;
          for (let k = 0; k < n; k++, c = (c + 1) & MASK) {
            v = ts.update({ high: high[c]!, low: low[c]!, close: close[c]! }, false);
          }
          return v;
        },
      };
    },
    tails() {
      const { close, high, low } = data();
      const ours = new Atr(14);
      const ti = new TI.ATR({ period: 14, high: [], low: [], close: [] });
      const ts = new TS.ATR(14);
      return {
        ours: collect((i) => ours.update(high[i]!, low[i]!, close[i]!), [same]),
        ti: collect((i) => ti.nextValue({ high: high[i]!, low: low[i]!, close: close[i]! }), [num]),
        ts: collect((i) => ts.update({ high: high[i]!, low: low[i]!, close: close[i]! }, false), [num]),
      };
    },
  },
];

function tiMacdInput(): ConstructorParameters<typeof TI.MACD>[0] {
  return {
    values: [],
    fastPeriod: 12,
    slowPeriod: 26,
    signalPeriod: 9,
    SimpleMAOscillator: false,
    SimpleMASignal: false,
  };
}

function streamBench(c: StreamCase): BenchSpec {
  return {
    id: c.id,
    title: `${c.title} (vs technicalindicators, trading-signals)`,
    unit: 'ns/op',
    better: 'lower',
    target: c.target,
    targetSource: `issue 6: >= 5x faster than trading-signals (${c.issueFigure} ns there)${c.id.endsWith('ema') ? '; EMA on par' : ''}`,
    async run(ctx: BenchContext) {
      const extra: Record<string, string | number> = {};
      tailBars = ctx.quick ? QUICK_TAIL_BARS : N;
      if (ctx.quick) extra['agreement bars'] = `${tailBars} (quick mode; ${N} in the full run)`;
      const tails = c.tails();
      agreement(extra, TI_NAME, tails.ours, tails.ti, c.tiDecimals);
      agreement(extra, TS_NAME, tails.ours, tails.ts);
      extra[IX_NAME] = 'batch API only: see indicators.batch';
      await settleHeap(ctx.quick);
      const loops = c.loops();
      const main = await measure(ctx, loops.ours);
      const peers: Record<string, Measurement> = {
        [TI_NAME]: await measure(ctx, loops.ti),
        [TS_NAME]: await measure(ctx, loops.ts),
      };
      await settleHeap(ctx.quick);
      return { main, peers, extra };
    },
  };
}

// ---- batch ----------------------------------------------------------------------------------------------------

interface BatchCase {
  id: string;
  title: string;
  /** 10x faster than the fastest JavaScript batch peer as measured when the benchmark was written. */
  target: number;
  targetSource: string;
  tiDecimals?: number;
  /** Ours over the whole input, writing outputs preallocated for it; returns them for the agreement check. */
  ours(d: Bars): () => Float64Array[];
  ix(p: PlainBars): ArrayLike<number>[];
  tulind?: { name: string; inputs: ('close' | 'high' | 'low')[]; options: number[]; order: number[] };
  ti(p: PlainBars): ArrayLike<number>[];
}

const ix = new IndicatorsSync();

function tulindRun(
  p: PlainBars,
  name: string,
  inputs: ('close' | 'high' | 'low')[],
  options: number[],
): number[][] {
  let out: number[][] = [];
  tulind!.indicators[name]!.indicator(
    inputs.map((k) => p[k]),
    options,
    (err, res) => {
      if (err) throw new Error(`tulind ${name}: ${String(err)}`);
      out = res;
    },
  );
  return out;
}

/**
 * Batch targets are fixed numbers: 10x faster than the fastest JavaScript batch peer, @ixjb94/indicators 1.2.4 in
 * every case, as measured in this benchmark's first quick runs (2 shared cores under load; tulind, native, pays for
 * copying JS arrays and is slower; technicalindicators is slower still).
 */
const BATCH_SOURCE = (peerNs: number): string =>
  `brief: 10x faster than the fastest batch peer (@ixjb94/indicators ${peerNs} ns/elem when the benchmark was written)`;

const BATCH_CASES: BatchCase[] = [
  {
    id: 'indicators.batch.sma',
    target: 13,
    targetSource: BATCH_SOURCE(131),
    title: 'SMA(20) batch over a Float64Array',
    ours(d) {
      const out = new Float64Array(d.close.length);
      return () => {
        smaBatch(d.close, out, 20);
        return [out];
      };
    },
    ix: (p) => [ix.sma(p.close, 20)],
    tulind: { name: 'sma', inputs: ['close'], options: [20], order: [0] },
    ti: (p) => [TI.SMA.calculate({ period: 20, values: p.close })],
  },
  {
    id: 'indicators.batch.ema',
    target: 20,
    targetSource: BATCH_SOURCE(198),
    title: 'EMA(20) batch over a Float64Array',
    ours(d) {
      const out = new Float64Array(d.close.length);
      return () => {
        emaBatch(d.close, out, 20);
        return [out];
      };
    },
    ix: (p) => [ix.ema(p.close, 20)],
    tulind: { name: 'ema', inputs: ['close'], options: [20], order: [0] },
    ti: (p) => [TI.EMA.calculate({ period: 20, values: p.close })],
  },
  {
    id: 'indicators.batch.rsi',
    tiDecimals: 2,
    target: 22,
    targetSource: BATCH_SOURCE(226),
    title: 'RSI(14) batch over a Float64Array',
    ours(d) {
      const out = new Float64Array(d.close.length);
      return () => {
        rsiBatch(d.close, out, 14);
        return [out];
      };
    },
    ix: (p) => [ix.rsi(p.close, 14)],
    tulind: { name: 'rsi', inputs: ['close'], options: [14], order: [0] },
    ti: (p) => [TI.RSI.calculate({ period: 14, values: p.close })],
  },
  {
    id: 'indicators.batch.macd',
    target: 38,
    targetSource: BATCH_SOURCE(381),
    title: 'MACD(12,26,9) batch over a Float64Array',
    ours(d) {
      const n = d.close.length;
      const m = new Float64Array(n);
      const s = new Float64Array(n);
      const h = new Float64Array(n);
      return () => {
        macdBatch(d.close, m, s, h, 12, 26, 9);
        return [m, s, h];
      };
    },
    ix: (p) => ix.macd(p.close, 12, 26, 9),
    // Tulip's macd uses 0.15 / 0.075 instead of 2 / (n + 1) for 12/26: its outputs differ by design (see extra).
    tulind: { name: 'macd', inputs: ['close'], options: [12, 26, 9], order: [0, 1, 2] },
    ti: (p) => {
      const r = TI.MACD.calculate({
        values: p.close,
        fastPeriod: 12,
        slowPeriod: 26,
        signalPeriod: 9,
        SimpleMAOscillator: false,
        SimpleMASignal: false,
      });
      return [r.map((x) => num(x.MACD)), r.map((x) => num(x.signal)), r.map((x) => num(x.histogram))];
    },
  },
  {
    id: 'indicators.batch.bbands',
    target: 35,
    targetSource: BATCH_SOURCE(358),
    title: 'Bollinger Bands(20, 2) batch over a Float64Array',
    ours(d) {
      const n = d.close.length;
      const u = new Float64Array(n);
      const m = new Float64Array(n);
      const l = new Float64Array(n);
      return () => {
        bbandsBatch(d.close, u, m, l, 20, 2);
        return [u, m, l];
      };
    },
    ix: (p) => {
      const [lower, middle, upper] = ix.bbands(p.close, 20, 2) as number[][];
      return [upper!, middle!, lower!];
    },
    tulind: { name: 'bbands', inputs: ['close'], options: [20, 2], order: [2, 1, 0] },
    ti: (p) => {
      const r = TI.BollingerBands.calculate({ period: 20, stdDev: 2, values: p.close });
      return [r.map((x) => x.upper), r.map((x) => x.middle), r.map((x) => x.lower)];
    },
  },
  {
    id: 'indicators.batch.atr',
    target: 12,
    targetSource: BATCH_SOURCE(122),
    title: 'ATR(14) batch over Float64Arrays',
    ours(d) {
      const out = new Float64Array(d.close.length);
      return () => {
        atrBatch(d.high, d.low, d.close, out, 14);
        return [out];
      };
    },
    ix: (p) => [ix.atr(p.high, p.low, p.close, 14)],
    tulind: { name: 'atr', inputs: ['high', 'low', 'close'], options: [14], order: [0] },
    ti: (p) => [TI.ATR.calculate({ period: 14, high: p.high, low: p.low, close: p.close })],
  },
];

/**
 * Times `samples` whole passes over the n bars (the harness is told each is exactly n operations) after one
 * unmeasured pass, whose outputs are returned for the agreement check: a slow peer's pass is computed once for
 * both warm-up and agreement (quick mode warms up with that pass alone; the full run then also by time).
 */
async function batchMeasure<T>(
  ctx: BenchContext,
  n: number,
  run: () => T,
  samples: number,
): Promise<{ m: Measurement; out: T }> {
  const out = run();
  const warmUpMs = ctx.quick ? 0 : undefined;
  return { m: await measure(ctx, run, { iterations: n, samples, warmUpMs }), out };
}

function batchBench(c: BatchCase): BenchSpec {
  return {
    id: c.id,
    title: `${c.title} (vs @ixjb94/indicators, tulind, technicalindicators)`,
    unit: 'ns/elem',
    better: 'lower',
    target: c.target,
    targetSource: c.targetSource,
    async run(ctx: BenchContext) {
      const n = ctx.quick ? QUICK_BATCH_BARS : N;
      const p = plainData(n);
      const t = c.tulind;
      const extra: Record<string, string | number> = {
        bars: ctx.quick ? `${n} (quick mode; ${N} in the full run)` : n,
      };
      await settleHeap(ctx.quick);
      // Ours is cheap: warmed up by time as usual (one pass is milliseconds).
      const main = await measure(ctx, c.ours(typedData(n)), { iterations: n, samples: ctx.quick ? 5 : 15 });
      const ixM = await batchMeasure(ctx, n, () => c.ix(p), ctx.quick ? 3 : 15);
      const peers: Record<string, Measurement> = { [IX_NAME]: ixM.m };
      const tu =
        tulind !== undefined && t !== undefined
          ? await batchMeasure(ctx, n, () => tulindRun(p, t.name, t.inputs, t.options), ctx.quick ? 3 : 15)
          : undefined;
      if (tu !== undefined) peers[tulindName] = tu.m;
      const tiM = await batchMeasure(ctx, n, () => c.ti(p), ctx.quick ? 1 : 7);
      peers[TI_NAME] = tiM.m;
      const oursOut = c.ours(typedData(n))();
      agreement(extra, IX_NAME, oursOut, ixM.out);
      agreement(extra, TI_NAME, oursOut, tiM.out, c.tiDecimals);
      if (tu !== undefined && t !== undefined) {
        agreement(
          extra,
          tulindName,
          oursOut,
          t.order.map((k) => tu.out[k]!),
        );
        if (t.name === 'macd') {
          extra[`agree ${tulindName}`] +=
            ' (expected: Tulip uses 0.15/0.075 instead of 2/13, 2/27 for 12/26)';
        }
      } else {
        extra.tulind = 'native addon did not load here: not measured';
      }
      await settleHeap(ctx.quick);
      return { main, peers, extra };
    },
  };
}

export const benches: BenchSpec[] = [...STREAM_CASES.map(streamBench), ...BATCH_CASES.map(batchBench)];
