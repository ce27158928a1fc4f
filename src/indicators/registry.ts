// The indicator registry: every indicator by name ('sma', 'macd', 'bbands'...) with its parameter schema (name,
// type, default, range), input and output names, its convention, a streaming factory and a batch form. Used by
// `bot4 ta` and the strategy layer; parameters are validated here (the edge), so the classes never see bad input.

import { Bot4Error, ErrorCode } from '../core/errors.ts';
import { checkBatch, type EmaSeed, MAX_PERIOD } from './common.ts';
import { BookImbalance, Microprice, RealizedVolatility, TradeFlowImbalance } from './microstructure.ts';
import { Dema, Ema, emaBatch, Hma, Kama, Sma, smaBatch, Tema, Wma, wmaBatch } from './moving-averages.ts';
import {
  Cci,
  Macd,
  Momentum,
  macdBatch,
  Roc,
  Rsi,
  type RsiSeed,
  rsiBatch,
  Stochastic,
  StochRsi,
  WilliamsR,
} from './oscillators.ts';
import { Beta, type BetaInput, Correlation, LinReg, StdDev, ZScore } from './statistics.ts';
import { Adx, type AdxConvention, Aroon, ParabolicSar, type SarConvention } from './trend.ts';
import {
  Atr,
  atrBatch,
  BollingerBands,
  bbandsBatch,
  DonchianChannels,
  type FirstTrueRange,
  KeltnerChannels,
  Natr,
} from './volatility.ts';
import { Mfi, Obv, type ObvStart, Vwap } from './volume.ts';

/** Input series an indicator reads, in the order its streaming `update` takes them. */
export type InputName =
  | 'open'
  | 'high'
  | 'low'
  | 'close'
  | 'volume'
  | 'x'
  | 'y'
  | 'asset'
  | 'market'
  | 'bidPrice'
  | 'bidSize'
  | 'askPrice'
  | 'askSize'
  | 'signedSize';

/** The candle fields; an indicator whose inputs are all among these can run over an OHLCV file. */
export const CANDLE_INPUTS: readonly InputName[] = ['open', 'high', 'low', 'close', 'volume'];

export type ParamType = 'int' | 'number' | 'enum';
export type ParamValue = number | string;
export type Params = Readonly<Record<string, ParamValue>>;

export interface ParamSpec {
  readonly name: string;
  readonly type: ParamType;
  readonly default: ParamValue;
  /** Inclusive bounds for 'int' and 'number'. */
  readonly min?: number;
  readonly max?: number;
  /** Allowed values for 'enum'. */
  readonly values?: readonly string[];
  readonly description: string;
}

/** A registry-made streaming indicator: inputs positionally in the spec's input order, outputs by index. */
export interface StreamingIndicator {
  /** Feeds one observation (unused trailing inputs are ignored) and returns the first output. */
  update(a: number, b?: number, c?: number, d?: number): number;
  /** Output `k` of the spec's `outputs` (NaN until that output is available). */
  output(k: number): number;
  readonly ready: boolean;
  reset(): void;
  /**
   * The concrete indicator behind the positional interface, for code that compiles its own call sites (one per
   * indicator, each monomorphic: src/ml/indicator-step.ts). Absent on indicators made outside the registry.
   */
  readonly kernel?: IndicatorKernel;
}

/** A registry indicator's parts: `step(state, a, b, c, d)` feeds it, `read[k](state)` is output k. */
export interface IndicatorKernel {
  readonly state: unknown;
  readonly step: (state: never, a: number, b: number, c: number, d: number) => number;
  readonly read: readonly ((state: never) => number)[];
}

export interface IndicatorSpec {
  readonly name: string;
  readonly title: string;
  readonly inputs: readonly InputName[];
  readonly outputs: readonly string[];
  readonly params: readonly ParamSpec[];
  /** The convention followed and the options for others, in a sentence or two. */
  readonly convention: string;
  /** Validates `params` (defaults fill the gaps; strings are parsed, as from a command line) and makes an instance. */
  create(params?: Readonly<Record<string, ParamValue>>): StreamingIndicator;
  /** Batch form: one Float64Array per input and per output (outputs at least as long; NaN during warm-up). */
  batch(
    inputs: readonly Float64Array[],
    outputs: readonly Float64Array[],
    params?: Readonly<Record<string, ParamValue>>,
  ): void;
}

interface Updatable {
  readonly ready: boolean;
  reset(): void;
}

interface Definition<T extends Updatable> {
  name: string;
  title: string;
  inputs: readonly InputName[];
  outputs: readonly string[];
  params: readonly ParamSpec[];
  convention: string;
  make(p: Params): T;
  step(ind: T, a: number, b: number, c: number, d: number): number;
  read: readonly ((ind: T) => number)[];
  /** A tight loop over the arrays; each definition writes its own so the calls inside stay monomorphic. */
  batch(ins: readonly Float64Array[], outs: readonly Float64Array[], p: Params): void;
}

/** Adapts a concrete indicator to the positional StreamingIndicator interface. */
class Adapter<T extends Updatable> implements StreamingIndicator {
  private readonly ind: T;
  private readonly def: Definition<T>;
  readonly kernel: IndicatorKernel;

  constructor(ind: T, def: Definition<T>) {
    this.ind = ind;
    this.def = def;
    this.kernel = { state: ind, step: def.step, read: def.read };
  }

  update(a: number, b = 0, c = 0, d = 0): number {
    return this.def.step(this.ind, a, b, c, d);
  }

  output(k: number): number {
    const read = this.def.read[k];
    return read === undefined ? Number.NaN : read(this.ind);
  }

  get ready(): boolean {
    return this.ind.ready;
  }

  reset(): void {
    this.ind.reset();
  }
}

function define<T extends Updatable>(def: Definition<T>): IndicatorSpec {
  const spec: IndicatorSpec = {
    name: def.name,
    title: def.title,
    inputs: def.inputs,
    outputs: def.outputs,
    params: def.params,
    convention: def.convention,
    create: (params) => new Adapter(def.make(resolveParams(spec, params ?? {})), def),
    batch: (inputs, outputs, params) => {
      const p = resolveParams(spec, params ?? {});
      if (inputs.length !== def.inputs.length || outputs.length !== def.outputs.length) {
        throw new Bot4Error(
          ErrorCode.INVALID_ARGUMENT,
          `${def.name}: batch takes ${def.inputs.length} input array(s) (${def.inputs.join(', ')}) and ` +
            `${def.outputs.length} output array(s) (${def.outputs.join(', ')}), got ${inputs.length} and ${outputs.length}`,
        );
      }
      const n = inputs[0]?.length ?? 0;
      checkBatch(def.name, n, ...inputs, ...outputs);
      def.batch(inputs, outputs, p);
    },
  };
  return spec;
}

/**
 * Fills defaults, parses strings (command-line values) and checks types and ranges. Unknown names fail with the
 * list of valid ones.
 */
export function resolveParams(spec: IndicatorSpec, raw: Readonly<Record<string, ParamValue>>): Params {
  const out: Record<string, ParamValue> = {};
  for (const key of Object.keys(raw)) {
    if (!spec.params.some((p) => p.name === key)) {
      throw new Bot4Error(
        ErrorCode.INVALID_ARGUMENT,
        `${spec.name}: unknown parameter '${key}'; valid parameters: ${describeParams(spec)}`,
        { indicator: spec.name, param: key },
      );
    }
  }
  for (const p of spec.params) {
    const given = raw[p.name];
    if (given === undefined) {
      out[p.name] = p.default;
      continue;
    }
    if (p.type === 'enum') {
      const v = String(given);
      if (!(p.values ?? []).includes(v)) {
        throw new Bot4Error(
          ErrorCode.INVALID_ARGUMENT,
          `${spec.name}: parameter '${p.name}' must be one of ${(p.values ?? []).join(', ')}, got '${v}'`,
          { indicator: spec.name, param: p.name, value: v },
        );
      }
      out[p.name] = v;
      continue;
    }
    const v = typeof given === 'number' ? given : given.trim() === '' ? Number.NaN : Number(given);
    const min = p.min ?? Number.NEGATIVE_INFINITY;
    const max = p.max ?? Number.POSITIVE_INFINITY;
    if (!Number.isFinite(v) || (p.type === 'int' && !Number.isInteger(v)) || v < min || v > max) {
      throw new Bot4Error(
        ErrorCode.INVALID_ARGUMENT,
        `${spec.name}: parameter '${p.name}' must be ${p.type === 'int' ? 'an integer' : 'a number'} ` +
          `from ${min} to ${max}, got '${String(given)}'`,
        { indicator: spec.name, param: p.name, value: given },
      );
    }
    out[p.name] = v;
  }
  return out;
}

/** 'period (int, default 14, 1..16777216), seed (sma|first, default sma)'. */
export function describeParams(spec: IndicatorSpec): string {
  if (spec.params.length === 0) return '(none)';
  return spec.params
    .map((p) =>
      p.type === 'enum'
        ? `${p.name} (${(p.values ?? []).join('|')}, default ${p.default})`
        : `${p.name} (${p.type}, default ${p.default}, ${p.min ?? '-inf'}..${p.max ?? 'inf'})`,
    )
    .join(', ');
}

const num = (p: Params, k: string): number => p[k] as number;
const str = <T extends string>(p: Params, k: string): T => p[k] as T;

function period(def: number, description = 'window length in bars', min = 1): ParamSpec {
  return { name: 'period', type: 'int', default: def, min, max: MAX_PERIOD, description };
}
function intSpec(name: string, def: number, min: number, description: string): ParamSpec {
  return { name, type: 'int', default: def, min, max: MAX_PERIOD, description };
}
const SEED: ParamSpec = {
  name: 'seed',
  type: 'enum',
  default: 'sma',
  values: ['sma', 'first'],
  description: "EMA seed: 'sma' = SMA of the first N (TA-Lib), 'first' = the first value (Tulip, pandas)",
};
const RSI_SEED: ParamSpec = {
  name: 'seed',
  type: 'enum',
  default: 'sma',
  values: ['sma', 'zero'],
  description: "Wilder averages start: 'sma' of the first N changes (TA-Lib) or 0 on bar 0 (bukosabino ta)",
};
const FIRST_TR_SPEC: ParamSpec = {
  name: 'firstTr',
  type: 'enum',
  default: 'skip',
  values: ['skip', 'range'],
  description: "first bar: 'skip' (TA-Lib, no true range) or 'range' (high - low: Tulip, StockCharts)",
};
const DDOF: ParamSpec = {
  name: 'ddof',
  type: 'int',
  default: 0,
  min: 0,
  max: 1,
  description: 'delta degrees of freedom: 0 = population (TA-Lib), 1 = sample deviation',
};

/** Writes NaN-or-value for every output of a multi-output indicator after each step. */
type Out = Float64Array;

const DEFINITIONS: IndicatorSpec[] = [
  define<Sma>({
    name: 'sma',
    title: 'Simple moving average',
    inputs: ['close'],
    outputs: ['sma'],
    params: [period(20)],
    convention: 'Running sum over the window; first output at bar period - 1.',
    make: (p) => new Sma(num(p, 'period')),
    step: (i, a) => i.update(a),
    read: [(i) => i.value],
    batch: (ins, outs, p) => smaBatch(ins[0]!, outs[0]!, num(p, 'period')),
  }),
  define<Ema>({
    name: 'ema',
    title: 'Exponential moving average',
    inputs: ['close'],
    outputs: ['ema'],
    params: [period(20), SEED],
    convention:
      "alpha = 2 / (period + 1). seed 'sma' (TA-Lib): first output at bar period - 1; 'first' (Tulip): from bar 0.",
    make: (p) => new Ema(num(p, 'period'), str<EmaSeed>(p, 'seed')),
    step: (i, a) => i.update(a),
    read: [(i) => i.value],
    batch: (ins, outs, p) => emaBatch(ins[0]!, outs[0]!, num(p, 'period'), str<EmaSeed>(p, 'seed')),
  }),
  define<Wma>({
    name: 'wma',
    title: 'Weighted moving average',
    inputs: ['close'],
    outputs: ['wma'],
    params: [period(20)],
    convention: 'Linear weights 1..period, newest heaviest (TA-Lib, Tulip).',
    make: (p) => new Wma(num(p, 'period')),
    step: (i, a) => i.update(a),
    read: [(i) => i.value],
    batch: (ins, outs, p) => wmaBatch(ins[0]!, outs[0]!, num(p, 'period')),
  }),
  define<Dema>({
    name: 'dema',
    title: 'Double exponential moving average',
    inputs: ['close'],
    outputs: ['dema'],
    params: [period(20), SEED],
    convention:
      '2 EMA - EMA(EMA); first output at bar 2 (period - 1) for both seeds (TA-Lib sma, Tulip first).',
    make: (p) => new Dema(num(p, 'period'), str<EmaSeed>(p, 'seed')),
    step: (i, a) => i.update(a),
    read: [(i) => i.value],
    batch: (ins, outs, p) => {
      const ind = new Dema(num(p, 'period'), str<EmaSeed>(p, 'seed'));
      const src = ins[0]!;
      const out = outs[0]!;
      for (let k = 0; k < src.length; k++) out[k] = ind.update(src[k]!);
    },
  }),
  define<Tema>({
    name: 'tema',
    title: 'Triple exponential moving average',
    inputs: ['close'],
    outputs: ['tema'],
    params: [period(20), SEED],
    convention: '3 EMA - 3 EMA(EMA) + EMA(EMA(EMA)); first output at bar 3 (period - 1).',
    make: (p) => new Tema(num(p, 'period'), str<EmaSeed>(p, 'seed')),
    step: (i, a) => i.update(a),
    read: [(i) => i.value],
    batch: (ins, outs, p) => {
      const ind = new Tema(num(p, 'period'), str<EmaSeed>(p, 'seed'));
      const src = ins[0]!;
      const out = outs[0]!;
      for (let k = 0; k < src.length; k++) out[k] = ind.update(src[k]!);
    },
  }),
  define<Hma>({
    name: 'hma',
    title: 'Hull moving average',
    inputs: ['close'],
    outputs: ['hma'],
    params: [period(20, 'window length in bars', 2)],
    convention: 'WMA(2 WMA(n/2) - WMA(n), sqrt n) with floor rounding (Tulip).',
    make: (p) => new Hma(num(p, 'period')),
    step: (i, a) => i.update(a),
    read: [(i) => i.value],
    batch: (ins, outs, p) => {
      const ind = new Hma(num(p, 'period'));
      const src = ins[0]!;
      const out = outs[0]!;
      for (let k = 0; k < src.length; k++) out[k] = ind.update(src[k]!);
    },
  }),
  define<Kama>({
    name: 'kama',
    title: 'Kaufman adaptive moving average',
    inputs: ['close'],
    outputs: ['kama'],
    params: [
      period(10, 'efficiency-ratio window'),
      intSpec('fast', 2, 1, 'fastest EMA period'),
      intSpec('slow', 30, 1, 'slowest EMA period'),
    ],
    convention:
      'TA-Lib: seeded with the close of bar period - 1, first output at bar period; ER = 1 on a flat window.',
    make: (p) => new Kama(num(p, 'period'), num(p, 'fast'), num(p, 'slow')),
    step: (i, a) => i.update(a),
    read: [(i) => i.value],
    batch: (ins, outs, p) => {
      const ind = new Kama(num(p, 'period'), num(p, 'fast'), num(p, 'slow'));
      const src = ins[0]!;
      const out = outs[0]!;
      for (let k = 0; k < src.length; k++) out[k] = ind.update(src[k]!);
    },
  }),
  define<Vwap>({
    name: 'vwap',
    title: 'Volume-weighted average price',
    inputs: ['high', 'low', 'close', 'volume'],
    outputs: ['vwap'],
    params: [{ ...period(0, '0 = cumulative since reset (session VWAP), n = rolling n bars'), min: 0 }],
    convention:
      'Typical price (h + l + c) / 3 weighted by volume; the typical price itself while volume is 0.',
    make: (p) => new Vwap(num(p, 'period')),
    step: (i, a, b, c, d) => i.update(a, b, c, d),
    read: [(i) => i.value],
    batch: (ins, outs, p) => {
      const ind = new Vwap(num(p, 'period'));
      const [h, l, c, v] = ins as [Out, Out, Out, Out];
      const out = outs[0]!;
      for (let k = 0; k < c.length; k++) out[k] = ind.update(h[k]!, l[k]!, c[k]!, v[k]!);
    },
  }),
  define<Rsi>({
    name: 'rsi',
    title: 'Relative strength index',
    inputs: ['close'],
    outputs: ['rsi'],
    params: [period(14), RSI_SEED],
    convention:
      "Wilder smoothing; seed 'sma' (TA-Lib) or 'zero' (bukosabino ta); first output at bar period.",
    make: (p) => new Rsi(num(p, 'period'), str<RsiSeed>(p, 'seed')),
    step: (i, a) => i.update(a),
    read: [(i) => i.value],
    batch: (ins, outs, p) => rsiBatch(ins[0]!, outs[0]!, num(p, 'period'), str<RsiSeed>(p, 'seed')),
  }),
  define<Stochastic>({
    name: 'stoch',
    title: 'Stochastic oscillator',
    inputs: ['high', 'low', 'close'],
    outputs: ['k', 'd'],
    params: [
      intSpec('kPeriod', 14, 1, 'look-back of the highest high and lowest low'),
      intSpec('kSmooth', 3, 1, 'SMA smoothing of %K (1 = fast stochastic)'),
      intSpec('dPeriod', 3, 1, 'SMA of %K giving %D'),
    ],
    convention:
      'SMA smoothing for %K and %D (TA-Lib STOCH with SMA, Tulip stoch); both start together; 0 when HH = LL.',
    make: (p) => new Stochastic(num(p, 'kPeriod'), num(p, 'kSmooth'), num(p, 'dPeriod')),
    step: (i, a, b, c) => i.update(a, b, c),
    read: [(i) => i.k, (i) => i.d],
    batch: (ins, outs, p) => {
      const ind = new Stochastic(num(p, 'kPeriod'), num(p, 'kSmooth'), num(p, 'dPeriod'));
      const [h, l, c] = ins as [Out, Out, Out];
      const [ok, od] = outs as [Out, Out];
      for (let k = 0; k < c.length; k++) {
        ok[k] = ind.update(h[k]!, l[k]!, c[k]!);
        od[k] = ind.d;
      }
    },
  }),
  define<StochRsi>({
    name: 'stochrsi',
    title: 'Stochastic RSI',
    inputs: ['close'],
    outputs: ['k', 'd'],
    params: [
      period(14, 'RSI period'),
      intSpec('stochPeriod', 14, 1, 'look-back of the RSI high and low'),
      intSpec('kSmooth', 1, 1, 'SMA smoothing of %K (1 = raw, as TA-Lib)'),
      intSpec('dPeriod', 3, 1, 'SMA of %K giving %D'),
      {
        name: 'scale',
        type: 'number',
        default: 100,
        min: 1e-9,
        description: '100 (TA-Lib) or 1 (Tulip, StockCharts)',
      },
      { ...RSI_SEED, name: 'rsiSeed' },
    ],
    convention: 'Stochastic of Wilder RSI; 0 on a flat RSI window (TA-Lib, Tulip).',
    make: (p) =>
      new StochRsi(
        num(p, 'period'),
        num(p, 'stochPeriod'),
        num(p, 'kSmooth'),
        num(p, 'dPeriod'),
        num(p, 'scale'),
        str<RsiSeed>(p, 'rsiSeed'),
      ),
    step: (i, a) => i.update(a),
    read: [(i) => i.k, (i) => i.d],
    batch: (ins, outs, p) => {
      const ind = new StochRsi(
        num(p, 'period'),
        num(p, 'stochPeriod'),
        num(p, 'kSmooth'),
        num(p, 'dPeriod'),
        num(p, 'scale'),
        str<RsiSeed>(p, 'rsiSeed'),
      );
      const src = ins[0]!;
      const [ok, od] = outs as [Out, Out];
      for (let k = 0; k < src.length; k++) {
        ok[k] = ind.update(src[k]!);
        od[k] = ind.d;
      }
    },
  }),
  define<Macd>({
    name: 'macd',
    title: 'Moving average convergence/divergence',
    inputs: ['close'],
    outputs: ['macd', 'signal', 'histogram'],
    params: [
      intSpec('fast', 12, 1, 'fast EMA period'),
      intSpec('slow', 26, 1, 'slow EMA period (>= fast)'),
      intSpec('signal', 9, 1, 'signal EMA period'),
      SEED,
    ],
    convention:
      "seed 'sma' = TA-Lib (fast EMA seeded on the slow EMA's seed bar, outputs from bar slow + signal - 2); 'first' = Tulip (from bar slow - 1).",
    make: (p) => new Macd(num(p, 'fast'), num(p, 'slow'), num(p, 'signal'), str<EmaSeed>(p, 'seed')),
    step: (i, a) => i.update(a),
    read: [(i) => i.macd, (i) => i.signal, (i) => i.histogram],
    batch: (ins, outs, p) =>
      macdBatch(
        ins[0]!,
        outs[0]!,
        outs[1]!,
        outs[2]!,
        num(p, 'fast'),
        num(p, 'slow'),
        num(p, 'signal'),
        str<EmaSeed>(p, 'seed'),
      ),
  }),
  define<BollingerBands>({
    name: 'bbands',
    title: 'Bollinger Bands',
    inputs: ['close'],
    outputs: ['upper', 'middle', 'lower'],
    params: [
      period(20, 'window length in bars', 2),
      { name: 'k', type: 'number', default: 2, min: 0, description: 'band width in standard deviations' },
      DDOF,
    ],
    convention:
      'SMA middle, population standard deviation (TA-Lib, Tulip, StockCharts); ddof 1 for the sample one.',
    make: (p) => new BollingerBands(num(p, 'period'), num(p, 'k'), num(p, 'ddof')),
    step: (i, a) => i.update(a),
    read: [(i) => i.upper, (i) => i.middle, (i) => i.lower],
    batch: (ins, outs, p) =>
      bbandsBatch(ins[0]!, outs[0]!, outs[1]!, outs[2]!, num(p, 'period'), num(p, 'k'), num(p, 'ddof')),
  }),
  define<KeltnerChannels>({
    name: 'keltner',
    title: 'Keltner channels',
    inputs: ['high', 'low', 'close'],
    outputs: ['upper', 'middle', 'lower'],
    params: [
      period(20, 'EMA period of the middle line'),
      intSpec('atrPeriod', 10, 1, 'ATR period of the band width'),
      { name: 'multiplier', type: 'number', default: 2, min: 0, description: 'band width in ATRs' },
      SEED,
      FIRST_TR_SPEC,
    ],
    convention: 'StockCharts: EMA(close) +/- multiplier * ATR (Wilder); EMA and ATR conventions selectable.',
    make: (p) =>
      new KeltnerChannels(
        num(p, 'period'),
        num(p, 'atrPeriod'),
        num(p, 'multiplier'),
        str<EmaSeed>(p, 'seed'),
        str<FirstTrueRange>(p, 'firstTr'),
      ),
    step: (i, a, b, c) => i.update(a, b, c),
    read: [(i) => i.upper, (i) => i.middle, (i) => i.lower],
    batch: (ins, outs, p) => {
      const ind = new KeltnerChannels(
        num(p, 'period'),
        num(p, 'atrPeriod'),
        num(p, 'multiplier'),
        str<EmaSeed>(p, 'seed'),
        str<FirstTrueRange>(p, 'firstTr'),
      );
      const [h, l, c] = ins as [Out, Out, Out];
      const [ou, om, ol] = outs as [Out, Out, Out];
      for (let k = 0; k < c.length; k++) {
        om[k] = ind.update(h[k]!, l[k]!, c[k]!);
        ou[k] = ind.upper;
        ol[k] = ind.lower;
      }
    },
  }),
  define<DonchianChannels>({
    name: 'donchian',
    title: 'Donchian channels',
    inputs: ['high', 'low'],
    outputs: ['upper', 'middle', 'lower'],
    params: [period(20)],
    convention: 'Highest high and lowest low over period bars (current bar included), middle = their mean.',
    make: (p) => new DonchianChannels(num(p, 'period')),
    step: (i, a, b) => i.update(a, b),
    read: [(i) => i.upper, (i) => i.middle, (i) => i.lower],
    batch: (ins, outs, p) => {
      const ind = new DonchianChannels(num(p, 'period'));
      const [h, l] = ins as [Out, Out];
      const [ou, om, ol] = outs as [Out, Out, Out];
      for (let k = 0; k < h.length; k++) {
        om[k] = ind.update(h[k]!, l[k]!);
        ou[k] = ind.upper;
        ol[k] = ind.lower;
      }
    },
  }),
  define<Atr>({
    name: 'atr',
    title: 'Average true range',
    inputs: ['high', 'low', 'close'],
    outputs: ['atr'],
    params: [period(14), FIRST_TR_SPEC],
    convention:
      "Wilder smoothing after an SMA seed; firstTr 'skip' (TA-Lib, first output at bar period) or 'range'.",
    make: (p) => new Atr(num(p, 'period'), str<FirstTrueRange>(p, 'firstTr')),
    step: (i, a, b, c) => i.update(a, b, c),
    read: [(i) => i.value],
    batch: (ins, outs, p) =>
      atrBatch(ins[0]!, ins[1]!, ins[2]!, outs[0]!, num(p, 'period'), str<FirstTrueRange>(p, 'firstTr')),
  }),
  define<Natr>({
    name: 'natr',
    title: 'Normalised average true range',
    inputs: ['high', 'low', 'close'],
    outputs: ['natr'],
    params: [period(14), FIRST_TR_SPEC],
    convention: '100 * ATR / close (TA-Lib NATR), ATR conventions as atr.',
    make: (p) => new Natr(num(p, 'period'), str<FirstTrueRange>(p, 'firstTr')),
    step: (i, a, b, c) => i.update(a, b, c),
    read: [(i) => i.value],
    batch: (ins, outs, p) => {
      const ind = new Natr(num(p, 'period'), str<FirstTrueRange>(p, 'firstTr'));
      const [h, l, c] = ins as [Out, Out, Out];
      const out = outs[0]!;
      for (let k = 0; k < c.length; k++) out[k] = ind.update(h[k]!, l[k]!, c[k]!);
    },
  }),
  define<Adx>({
    name: 'adx',
    title: 'Average directional index with +DI/-DI (DMI)',
    inputs: ['high', 'low', 'close'],
    outputs: ['adx', 'plusDi', 'minusDi', 'dx'],
    params: [
      period(14, 'Wilder period', 2),
      {
        name: 'convention',
        type: 'enum',
        default: 'talib',
        values: ['talib', 'wilder', 'tulip'],
        description: "seed of the Wilder sums: 'talib', 'wilder' (book, StockCharts) or 'tulip'",
      },
    ],
    convention:
      'Wilder smoothing; the DIs start before the ADX; seed of the sums selectable (they converge).',
    make: (p) => new Adx(num(p, 'period'), str<AdxConvention>(p, 'convention')),
    step: (i, a, b, c) => i.update(a, b, c),
    read: [(i) => i.adx, (i) => i.plusDi, (i) => i.minusDi, (i) => i.dx],
    batch: (ins, outs, p) => {
      const ind = new Adx(num(p, 'period'), str<AdxConvention>(p, 'convention'));
      const [h, l, c] = ins as [Out, Out, Out];
      const [oa, op, om, od] = outs as [Out, Out, Out, Out];
      for (let k = 0; k < c.length; k++) {
        oa[k] = ind.update(h[k]!, l[k]!, c[k]!);
        op[k] = ind.plusDi;
        om[k] = ind.minusDi;
        od[k] = ind.dx;
      }
    },
  }),
  define<Cci>({
    name: 'cci',
    title: 'Commodity channel index',
    inputs: ['high', 'low', 'close'],
    outputs: ['cci'],
    params: [period(20)],
    convention:
      'Typical price, exact mean deviation about the current SMA (O(period) per update), constant 0.015.',
    make: (p) => new Cci(num(p, 'period')),
    step: (i, a, b, c) => i.update(a, b, c),
    read: [(i) => i.value],
    batch: (ins, outs, p) => {
      const ind = new Cci(num(p, 'period'));
      const [h, l, c] = ins as [Out, Out, Out];
      const out = outs[0]!;
      for (let k = 0; k < c.length; k++) out[k] = ind.update(h[k]!, l[k]!, c[k]!);
    },
  }),
  define<Mfi>({
    name: 'mfi',
    title: 'Money flow index',
    inputs: ['high', 'low', 'close', 'volume'],
    outputs: ['mfi'],
    params: [period(14)],
    convention:
      'Typical-price money flow split by the direction of the typical price; first output at bar period.',
    make: (p) => new Mfi(num(p, 'period')),
    step: (i, a, b, c, d) => i.update(a, b, c, d),
    read: [(i) => i.value],
    batch: (ins, outs, p) => {
      const ind = new Mfi(num(p, 'period'));
      const [h, l, c, v] = ins as [Out, Out, Out, Out];
      const out = outs[0]!;
      for (let k = 0; k < c.length; k++) out[k] = ind.update(h[k]!, l[k]!, c[k]!, v[k]!);
    },
  }),
  define<Obv>({
    name: 'obv',
    title: 'On-balance volume',
    inputs: ['close', 'volume'],
    outputs: ['obv'],
    params: [
      {
        name: 'start',
        type: 'enum',
        default: 'volume',
        values: ['volume', 'zero'],
        description: "first bar's OBV: its volume (TA-Lib) or 0 (Tulip, StockCharts)",
      },
    ],
    convention: '+volume on an up close, -volume on a down close.',
    make: (p) => new Obv(str<ObvStart>(p, 'start')),
    step: (i, a, b) => i.update(a, b),
    read: [(i) => i.value],
    batch: (ins, outs, p) => {
      const ind = new Obv(str<ObvStart>(p, 'start'));
      const [c, v] = ins as [Out, Out];
      const out = outs[0]!;
      for (let k = 0; k < c.length; k++) out[k] = ind.update(c[k]!, v[k]!);
    },
  }),
  define<Roc>({
    name: 'roc',
    title: 'Rate of change',
    inputs: ['close'],
    outputs: ['roc'],
    params: [
      period(10),
      {
        name: 'scale',
        type: 'number',
        default: 100,
        min: 1e-9,
        description: '100 = percent (TA-Lib), 1 = fraction (Tulip)',
      },
    ],
    convention: 'scale * (x - x[period]) / x[period]; first output at bar period.',
    make: (p) => new Roc(num(p, 'period'), num(p, 'scale')),
    step: (i, a) => i.update(a),
    read: [(i) => i.value],
    batch: (ins, outs, p) => {
      const ind = new Roc(num(p, 'period'), num(p, 'scale'));
      const src = ins[0]!;
      const out = outs[0]!;
      for (let k = 0; k < src.length; k++) out[k] = ind.update(src[k]!);
    },
  }),
  define<Momentum>({
    name: 'mom',
    title: 'Momentum',
    inputs: ['close'],
    outputs: ['mom'],
    params: [period(10)],
    convention: 'x - x[period]; first output at bar period.',
    make: (p) => new Momentum(num(p, 'period')),
    step: (i, a) => i.update(a),
    read: [(i) => i.value],
    batch: (ins, outs, p) => {
      const ind = new Momentum(num(p, 'period'));
      const src = ins[0]!;
      const out = outs[0]!;
      for (let k = 0; k < src.length; k++) out[k] = ind.update(src[k]!);
    },
  }),
  define<WilliamsR>({
    name: 'willr',
    title: 'Williams %R',
    inputs: ['high', 'low', 'close'],
    outputs: ['willr'],
    params: [period(14)],
    convention: '-100 (HH - close) / (HH - LL), in [-100, 0]; 0 when HH = LL (TA-Lib).',
    make: (p) => new WilliamsR(num(p, 'period')),
    step: (i, a, b, c) => i.update(a, b, c),
    read: [(i) => i.value],
    batch: (ins, outs, p) => {
      const ind = new WilliamsR(num(p, 'period'));
      const [h, l, c] = ins as [Out, Out, Out];
      const out = outs[0]!;
      for (let k = 0; k < c.length; k++) out[k] = ind.update(h[k]!, l[k]!, c[k]!);
    },
  }),
  define<ParabolicSar>({
    name: 'psar',
    title: 'Parabolic SAR',
    inputs: ['high', 'low'],
    outputs: ['sar'],
    params: [
      { name: 'step', type: 'number', default: 0.02, min: 1e-9, max: 1, description: 'acceleration step' },
      { name: 'max', type: 'number', default: 0.2, min: 1e-9, max: 10, description: 'maximum acceleration' },
      {
        name: 'convention',
        type: 'enum',
        default: 'talib',
        values: ['talib', 'tulip'],
        description: "start-up and reversal test: 'talib' (SAR) or 'tulip' (psar)",
      },
    ],
    convention: 'Wilder SAR, clamped to the previous two bars; first output at bar 1.',
    make: (p) => new ParabolicSar(num(p, 'step'), num(p, 'max'), str<SarConvention>(p, 'convention')),
    step: (i, a, b) => i.update(a, b),
    read: [(i) => i.value],
    batch: (ins, outs, p) => {
      const ind = new ParabolicSar(num(p, 'step'), num(p, 'max'), str<SarConvention>(p, 'convention'));
      const [h, l] = ins as [Out, Out];
      const out = outs[0]!;
      for (let k = 0; k < h.length; k++) out[k] = ind.update(h[k]!, l[k]!);
    },
  }),
  define<Aroon>({
    name: 'aroon',
    title: 'Aroon up/down and oscillator',
    inputs: ['high', 'low'],
    outputs: ['up', 'down', 'oscillator'],
    params: [period(14)],
    convention: 'Bars since the extreme over period + 1 bars, the latest tie wins (TA-Lib, Tulip).',
    make: (p) => new Aroon(num(p, 'period')),
    step: (i, a, b) => i.update(a, b),
    read: [(i) => i.up, (i) => i.down, (i) => i.oscillator],
    batch: (ins, outs, p) => {
      const ind = new Aroon(num(p, 'period'));
      const [h, l] = ins as [Out, Out];
      const [ou, od, oo] = outs as [Out, Out, Out];
      for (let k = 0; k < h.length; k++) {
        oo[k] = ind.update(h[k]!, l[k]!);
        ou[k] = ind.up;
        od[k] = ind.down;
      }
    },
  }),
  define<StdDev>({
    name: 'stddev',
    title: 'Rolling standard deviation',
    inputs: ['close'],
    outputs: ['stddev'],
    params: [period(20, 'window length in bars', 2), DDOF],
    convention: 'Sliding Welford moments; population by default (TA-Lib STDDEV, Tulip stddev).',
    make: (p) => new StdDev(num(p, 'period'), num(p, 'ddof')),
    step: (i, a) => i.update(a),
    read: [(i) => i.value],
    batch: (ins, outs, p) => {
      const ind = new StdDev(num(p, 'period'), num(p, 'ddof'));
      const src = ins[0]!;
      const out = outs[0]!;
      for (let k = 0; k < src.length; k++) out[k] = ind.update(src[k]!);
    },
  }),
  define<ZScore>({
    name: 'zscore',
    title: 'Rolling z-score',
    inputs: ['close'],
    outputs: ['zscore'],
    params: [period(20, 'window length in bars', 2), DDOF],
    convention: '(x - mean) / std over the window including x; 0 on a flat window.',
    make: (p) => new ZScore(num(p, 'period'), num(p, 'ddof')),
    step: (i, a) => i.update(a),
    read: [(i) => i.value],
    batch: (ins, outs, p) => {
      const ind = new ZScore(num(p, 'period'), num(p, 'ddof'));
      const src = ins[0]!;
      const out = outs[0]!;
      for (let k = 0; k < src.length; k++) out[k] = ind.update(src[k]!);
    },
  }),
  define<LinReg>({
    name: 'linreg',
    title: 'Linear regression (fitted value, slope, intercept)',
    inputs: ['close'],
    outputs: ['value', 'slope', 'intercept'],
    params: [period(14, 'window length in bars', 2)],
    convention: 'Least squares on bar positions; slope per bar, intercept at the oldest bar (TA-Lib, Tulip).',
    make: (p) => new LinReg(num(p, 'period')),
    step: (i, a) => i.update(a),
    read: [(i) => i.value, (i) => i.slope, (i) => i.intercept],
    batch: (ins, outs, p) => {
      const ind = new LinReg(num(p, 'period'));
      const src = ins[0]!;
      const [ov, os, oi] = outs as [Out, Out, Out];
      for (let k = 0; k < src.length; k++) {
        ov[k] = ind.update(src[k]!);
        os[k] = ind.slope;
        oi[k] = ind.intercept;
      }
    },
  }),
  define<Correlation>({
    name: 'correl',
    title: 'Rolling Pearson correlation',
    inputs: ['x', 'y'],
    outputs: ['correl'],
    params: [period(20, 'window length in observations', 2)],
    convention: 'On the values as given (TA-Lib CORREL); pass returns for return correlation.',
    make: (p) => new Correlation(num(p, 'period')),
    step: (i, a, b) => i.update(a, b),
    read: [(i) => i.value],
    batch: (ins, outs, p) => {
      const ind = new Correlation(num(p, 'period'));
      const [x, y] = ins as [Out, Out];
      const out = outs[0]!;
      for (let k = 0; k < x.length; k++) out[k] = ind.update(x[k]!, y[k]!);
    },
  }),
  define<Beta>({
    name: 'beta',
    title: 'Rolling beta of an asset against a market',
    inputs: ['asset', 'market'],
    outputs: ['beta'],
    params: [
      period(20, 'window length in observations', 2),
      {
        name: 'input',
        type: 'enum',
        default: 'returns',
        values: ['returns', 'values'],
        description:
          "'returns' turns prices into simple returns first (TA-Lib BETA), 'values' uses them as given",
      },
    ],
    convention: 'cov(asset, market) / var(market) (TA-Lib divides by the variance of its first input).',
    make: (p) => new Beta(num(p, 'period'), str<BetaInput>(p, 'input')),
    step: (i, a, b) => i.update(a, b),
    read: [(i) => i.value],
    batch: (ins, outs, p) => {
      const ind = new Beta(num(p, 'period'), str<BetaInput>(p, 'input'));
      const [a, m] = ins as [Out, Out];
      const out = outs[0]!;
      for (let k = 0; k < a.length; k++) out[k] = ind.update(a[k]!, m[k]!);
    },
  }),
  define<BookImbalance>({
    name: 'obi',
    title: 'Order-book (top of book) imbalance',
    inputs: ['bidSize', 'askSize'],
    outputs: ['obi'],
    params: [period(1, 'EMA smoothing period (1 = raw)')],
    convention: '(bid - ask) / (bid + ask) sizes, in [-1, 1].',
    make: (p) => new BookImbalance(num(p, 'period')),
    step: (i, a, b) => i.update(a, b),
    read: [(i) => i.value],
    batch: (ins, outs, p) => {
      const ind = new BookImbalance(num(p, 'period'));
      const [b, a] = ins as [Out, Out];
      const out = outs[0]!;
      for (let k = 0; k < b.length; k++) out[k] = ind.update(b[k]!, a[k]!);
    },
  }),
  define<Microprice>({
    name: 'microprice',
    title: 'Microprice (size-weighted mid)',
    inputs: ['bidPrice', 'bidSize', 'askPrice', 'askSize'],
    outputs: ['microprice'],
    params: [],
    convention: '(bid * askSize + ask * bidSize) / (bidSize + askSize); the mid when both sizes are 0.',
    make: () => new Microprice(),
    step: (i, a, b, c, d) => i.update(a, b, c, d),
    read: [(i) => i.value],
    batch: (ins, outs) => {
      const ind = new Microprice();
      const [bp, bs, ap, as] = ins as [Out, Out, Out, Out];
      const out = outs[0]!;
      for (let k = 0; k < bp.length; k++) out[k] = ind.update(bp[k]!, bs[k]!, ap[k]!, as[k]!);
    },
  }),
  define<RealizedVolatility>({
    name: 'rv',
    title: 'Realised volatility',
    inputs: ['close'],
    outputs: ['rv'],
    params: [
      period(20, 'number of log returns'),
      {
        name: 'periodsPerYear',
        type: 'number',
        default: 0,
        min: 0,
        description: '0 = over the window; else annualised with this many periods per year',
      },
    ],
    convention: 'sqrt(sum of squared log returns), no mean removal.',
    make: (p) => new RealizedVolatility(num(p, 'period'), num(p, 'periodsPerYear')),
    step: (i, a) => i.update(a),
    read: [(i) => i.value],
    batch: (ins, outs, p) => {
      const ind = new RealizedVolatility(num(p, 'period'), num(p, 'periodsPerYear'));
      const src = ins[0]!;
      const out = outs[0]!;
      for (let k = 0; k < src.length; k++) out[k] = ind.update(src[k]!);
    },
  }),
  define<TradeFlowImbalance>({
    name: 'tfi',
    title: 'Trade-flow imbalance',
    inputs: ['signedSize'],
    outputs: ['tfi'],
    params: [period(100, 'window length in trades')],
    convention:
      '(buy - sell volume) / (buy + sell volume) over the last period trades; signed size > 0 = buyer-initiated.',
    make: (p) => new TradeFlowImbalance(num(p, 'period')),
    step: (i, a) => i.update(a),
    read: [(i) => i.value],
    batch: (ins, outs, p) => {
      const ind = new TradeFlowImbalance(num(p, 'period'));
      const src = ins[0]!;
      const out = outs[0]!;
      for (let k = 0; k < src.length; k++) out[k] = ind.update(src[k]!);
    },
  }),
];

/** Every indicator by name. */
export const INDICATORS: Readonly<Record<string, IndicatorSpec>> = Object.freeze(
  Object.fromEntries(DEFINITIONS.map((d) => [d.name, d])),
);

export const INDICATOR_NAMES: readonly string[] = DEFINITIONS.map((d) => d.name);

/** The spec for `name`; fails listing the valid names. */
export function getIndicator(name: string): IndicatorSpec {
  const spec = Object.hasOwn(INDICATORS, name) ? INDICATORS[name] : undefined;
  if (spec === undefined) {
    throw new Bot4Error(
      ErrorCode.NOT_FOUND,
      `unknown indicator '${name}'; valid indicators: ${INDICATOR_NAMES.join(', ')}`,
      { indicator: name },
    );
  }
  return spec;
}

/** Makes a streaming indicator by name with validated parameters. */
export function createIndicator(
  name: string,
  params?: Readonly<Record<string, ParamValue>>,
): StreamingIndicator {
  return getIndicator(name).create(params);
}
