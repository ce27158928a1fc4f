// Features for models: a declarative spec (JSON) compiled into one streaming engine. Bar features (indicators from
// the registry, log returns and volatility over windows) update on each closed bar of the spec's interval; book
// features (spread, imbalance over N levels, microprice) read the latest top of book or L2 book; trade-flow features
// (signed volume, intensity, VPIN-style bucket imbalance) update per trade; time of day comes from the event time.
// A row is written at each bar close into one reused Float64Array, in spec order. No allocation per update: state
// lives in typed arrays and rings sized when the spec is compiled. Causal by construction: every value depends only
// on events already fed (features.test.ts perturbs the future and checks the past does not move).

import type { L2Book } from '../book/l2-book.ts';
import { Bot4Error, ErrorCode } from '../core/errors.ts';
import {
  CANDLE_INPUTS,
  getIndicator,
  resolveParams,
  type StreamingIndicator,
} from '../indicators/registry.ts';
import { parseBarInterval } from '../strategy/strategy.ts';
import { compileIndicatorStep, type IndicatorStep } from './indicator-step.ts';

export const FeatureKind = {
  indicator: 'indicator',
  return: 'return',
  volatility: 'volatility',
  spread: 'spread',
  imbalance: 'imbalance',
  microprice: 'microprice',
  signedVolume: 'signed-volume',
  intensity: 'trade-intensity',
  vpin: 'vpin',
  timeOfDay: 'time-of-day',
} as const;
type Kind = (typeof FeatureKind)[keyof typeof FeatureKind];
const KINDS = Object.values(FeatureKind) as readonly string[];
const K_INDEX: Readonly<Record<string, number>> = Object.fromEntries(KINDS.map((k, i) => [k, i]));
const K_IND = K_INDEX.indicator!;
const K_RET = K_INDEX.return!;
const K_VOL = K_INDEX.volatility!;
const K_SPREAD = K_INDEX.spread!;
const K_IMB = K_INDEX.imbalance!;
const K_MICRO = K_INDEX.microprice!;
const K_SV = K_INDEX['signed-volume']!;
const K_INT = K_INDEX['trade-intensity']!;
const K_VPIN = K_INDEX.vpin!;
const K_TOD = K_INDEX['time-of-day']!;

/** One feature as written in the spec file. */
export interface FeatureDef {
  readonly kind: string;
  /** Column name (default: derived from kind and parameters, e.g. rsi_14, ret_5, imb_5). */
  readonly name?: string;
  /** indicator: registry name, its parameters, and which output (name or index; default the first). */
  readonly indicator?: string;
  readonly params?: Readonly<Record<string, number | string>>;
  readonly output?: string | number;
  /** return, volatility: bars; signed-volume, trade-intensity: trades. */
  readonly window?: number;
  /** imbalance: book levels per side (1 = top of book). */
  readonly levels?: number;
  /** vpin: bucket volume in lots, and the number of buckets averaged. */
  readonly bucket?: number;
  readonly buckets?: number;
  /** time-of-day: 'fraction' of the UTC day in [0, 1), or its 'sin' / 'cos' on the 24 h circle. */
  readonly encoding?: string;
}

export interface FeatureSpecFile {
  /** Bar interval the bar features (and the rows) follow: '1m', '5m', '1h'... */
  readonly interval: string;
  readonly features: readonly FeatureDef[];
}

/** A checked spec: names resolved, every parameter validated. */
export interface FeatureSpec {
  readonly interval: string;
  readonly intervalMicros: number;
  readonly features: readonly FeatureDef[];
  readonly names: readonly string[];
  /** Which inputs the engine needs beyond bars. */
  readonly needsBook: boolean;
  readonly needsTrades: boolean;
}

function bad(source: string, msg: string, details: Record<string, unknown> = {}): never {
  throw new Bot4Error(ErrorCode.INVALID_ARGUMENT, `${source}: ${msg}`, { source, ...details });
}

function posInt(source: string, def: FeatureDef, key: keyof FeatureDef, fallback?: number): number {
  const v = def[key] ?? fallback;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > 1_000_000) {
    bad(
      source,
      `feature '${def.name ?? def.kind}': '${String(key)}' must be a whole number from 1 to 1000000, got ${JSON.stringify(v)}`,
      {
        key,
      },
    );
  }
  return v;
}

function outputIndex(source: string, def: FeatureDef, outputs: readonly string[]): number {
  const o = def.output ?? 0;
  const k = typeof o === 'number' ? o : outputs.indexOf(o);
  if (!Number.isInteger(k) || k < 0 || k >= outputs.length) {
    bad(
      source,
      `indicator ${def.indicator}: output ${JSON.stringify(o)} is not one of ${outputs.join(', ')}`,
      {
        output: o,
      },
    );
  }
  return k;
}

/** Validates a spec (as parsed JSON) and fills in names; errors name the feature and key. */
export function parseFeatureSpec(json: unknown, source = 'feature spec'): FeatureSpec {
  const j = json as Partial<FeatureSpecFile> | null;
  if (j === null || typeof j !== 'object' || !Array.isArray(j.features) || j.features.length === 0) {
    bad(source, `must be an object {"interval": "1m", "features": [...]} with at least one feature`);
  }
  const interval = String(j.interval ?? '');
  const intervalMicros = parseBarInterval(interval, `${source}: interval`);
  const names: string[] = [];
  const features: FeatureDef[] = [];
  let needsBook = false;
  let needsTrades = false;
  for (const def of j.features) {
    if (!KINDS.includes(def?.kind)) {
      bad(source, `feature kind ${JSON.stringify(def?.kind)} is not one of ${KINDS.join(', ')}`, {
        kind: def?.kind,
      });
    }
    let name: string;
    switch (def.kind as Kind) {
      case 'indicator': {
        const spec = getIndicator(String(def.indicator));
        const bars = spec.inputs.every((i) => CANDLE_INPUTS.includes(i));
        if (!bars)
          bad(
            source,
            `indicator ${spec.name} reads ${spec.inputs.join(', ')}; features take bar inputs only`,
          );
        const p = resolveParams(spec, def.params ?? {});
        const k = outputIndex(source, def, spec.outputs);
        const given = spec.params.filter((ps) => def.params?.[ps.name] !== undefined).map((ps) => p[ps.name]);
        name = [spec.name, ...given, ...(k === 0 ? [] : [spec.outputs[k]])].join('_');
        break;
      }
      case 'return':
        name = `ret_${posInt(source, def, 'window')}`;
        break;
      case 'volatility':
        name = `vol_${posInt(source, def, 'window')}`;
        if (def.window === 1) bad(source, `volatility needs a window of at least 2 bars`);
        break;
      case 'spread':
        name = 'spread_bps';
        needsBook = true;
        break;
      case 'imbalance':
        name = `imb_${posInt(source, def, 'levels', 1)}`;
        needsBook = true;
        break;
      case 'microprice':
        name = 'micro_bps';
        needsBook = true;
        break;
      case 'signed-volume':
        name = `sv_${posInt(source, def, 'window')}`;
        needsTrades = true;
        break;
      case 'trade-intensity':
        name = `intensity_${posInt(source, def, 'window')}`;
        if (def.window === 1) bad(source, `trade-intensity needs a window of at least 2 trades`);
        needsTrades = true;
        break;
      case 'vpin':
        name = `vpin_${posInt(source, def, 'bucket')}x${posInt(source, def, 'buckets', 50)}`;
        needsTrades = true;
        break;
      case 'time-of-day': {
        const e = def.encoding ?? 'fraction';
        if (e !== 'fraction' && e !== 'sin' && e !== 'cos') {
          bad(source, `time-of-day encoding '${e}' is not fraction, sin or cos`);
        }
        name = e === 'fraction' ? 'tod' : `tod_${e}`;
        break;
      }
    }
    name = def.name ?? name;
    if (names.includes(name)) bad(source, `two features are named '${name}'; give one a "name"`, { name });
    names.push(name);
    features.push(def);
  }
  return { interval, intervalMicros, features, names, needsBook, needsTrades };
}

const DAY = 86_400_000_000;
const TWO_PI = 2 * Math.PI;

/**
 * The streaming feature engine for one instrument. Feed it bars (of the spec's interval), trades and book or
 * quote updates in event order; after each onBar, `row` holds every feature (NaN while one warms up).
 */
export class FeatureEngine {
  readonly spec: FeatureSpec;
  readonly names: readonly string[];
  readonly size: number;
  readonly row: Float64Array;
  /** Event time of the next row, micros: set before onBar. */
  readonly time = new Float64Array(1);
  /** Per feature: its kind index, its row slot's parameter a and b (window, levels, indicator id, output). */
  private readonly kind: Uint8Array;
  private readonly pa: Int32Array;
  private readonly pb: Int32Array;
  // Indicators: unique instances, their input codes (0..4 = o,h,l,c,v; 4 per indicator) and arity.
  private readonly inds: StreamingIndicator[] = [];
  private readonly indIn: Int8Array;
  private readonly indArity: Int8Array;
  /** The indicator updates and their row slots, compiled with a call site per indicator (./indicator-step.ts). */
  private readonly indStep: IndicatorStep;
  private readonly bar = new Float64Array(5);
  /** Row slots of the features that are not indicators: onBar loops over these only. */
  private readonly others: Int32Array;
  /** Whether a feature reads past closes (returns, volatility) or 1-bar returns (volatility): else no ring work. */
  private readonly hasCloses: boolean;
  private readonly hasVol: boolean;
  // Closes ring (returns) and 1-bar log-return ring (volatility), with running sums per volatility feature.
  private readonly closes: Float64Array;
  private readonly rets: Float64Array;
  private bars = 0;
  private readonly volSum: Float64Array;
  private readonly volSq: Float64Array;
  // Top of book (doubles: ticks and lots) and the L2 book, when depth is fed.
  private bidPx = Number.NaN;
  private bidQty = Number.NaN;
  private askPx = Number.NaN;
  private askQty = Number.NaN;
  private book: L2Book | null = null;
  // Trades: signed-size and time rings, per-feature running signed sums, VPIN buckets.
  private readonly tSigned: Float64Array;
  private readonly tTime: Float64Array;
  private trades = 0;
  private lastPx = Number.NaN;
  private lastSign = 1;
  private readonly svSum: Float64Array;
  private readonly vpBuy: Float64Array;
  private readonly vpSell: Float64Array;
  private readonly vpRing: Float64Array;
  private readonly vpCount: Float64Array;
  private readonly vpSum: Float64Array;
  private readonly vpOff: Int32Array;

  constructor(spec: FeatureSpec) {
    this.spec = spec;
    this.names = spec.names;
    const n = spec.features.length;
    this.size = n;
    this.row = new Float64Array(n).fill(Number.NaN);
    this.kind = new Uint8Array(n);
    this.pa = new Int32Array(n);
    this.pb = new Int32Array(n);
    const indKeys: string[] = [];
    const inputs: number[] = [];
    const arity: number[] = [];
    let maxRet = 1;
    let maxVol = 1;
    let maxTrades = 1;
    let vpTotal = 0;
    spec.features.forEach((def, i) => {
      const k = K_INDEX[def.kind]!;
      this.kind[i] = k;
      switch (def.kind as Kind) {
        case 'indicator': {
          const ind = getIndicator(String(def.indicator));
          const p = resolveParams(ind, def.params ?? {});
          const key = `${ind.name}(${JSON.stringify(p)})`;
          let u = indKeys.indexOf(key);
          if (u < 0) {
            u = indKeys.length;
            indKeys.push(key);
            this.inds.push(ind.create(p));
            for (let s = 0; s < 4; s++)
              inputs.push(s < ind.inputs.length ? CANDLE_INPUTS.indexOf(ind.inputs[s]!) : 0);
            arity.push(ind.inputs.length);
          }
          this.pa[i] = u;
          this.pb[i] = outputIndex('feature spec', def, ind.outputs);
          break;
        }
        case 'return':
          this.pa[i] = def.window!;
          maxRet = Math.max(maxRet, def.window!);
          break;
        case 'volatility':
          this.pa[i] = def.window!;
          maxVol = Math.max(maxVol, def.window!);
          break;
        case 'imbalance':
          this.pa[i] = def.levels ?? 1;
          break;
        case 'signed-volume':
        case 'trade-intensity':
          this.pa[i] = def.window!;
          maxTrades = Math.max(maxTrades, def.window!);
          break;
        case 'vpin':
          this.pa[i] = def.bucket!;
          this.pb[i] = def.buckets ?? 50;
          vpTotal += this.pb[i]!;
          break;
        case 'time-of-day':
          this.pa[i] = def.encoding === 'sin' ? 1 : def.encoding === 'cos' ? 2 : 0;
          break;
        default:
          break;
      }
    });
    this.indIn = Int8Array.from(inputs);
    this.indArity = Int8Array.from(arity);
    const rowOf: [number, number, number][] = [];
    for (let i = 0; i < n; i++) if (this.kind[i] === K_IND) rowOf.push([i, this.pa[i]!, this.pb[i]!]);
    this.indStep = compileIndicatorStep(this.inds, this.indIn, this.indArity, rowOf);
    const others: number[] = [];
    for (let i = 0; i < n; i++) if (this.kind[i] !== K_IND) others.push(i);
    this.others = Int32Array.from(others);
    this.hasVol = this.kind.includes(K_VOL);
    this.hasCloses = this.hasVol || this.kind.includes(K_RET);
    this.closes = new Float64Array(maxRet + 1);
    this.rets = new Float64Array(maxVol + 1);
    this.volSum = new Float64Array(n);
    this.volSq = new Float64Array(n);
    this.tSigned = new Float64Array(maxTrades + 1);
    this.tTime = new Float64Array(maxTrades + 1);
    this.svSum = new Float64Array(n);
    this.vpBuy = new Float64Array(n);
    this.vpSell = new Float64Array(n);
    this.vpCount = new Float64Array(n);
    this.vpSum = new Float64Array(n);
    this.vpOff = new Int32Array(n);
    this.vpRing = new Float64Array(Math.max(1, vpTotal));
    let off = 0;
    for (let i = 0; i < n; i++) {
      if (this.kind[i] === K_INDEX.vpin) {
        this.vpOff[i] = off;
        off += this.pb[i]!;
      }
    }
  }

  /** Top of book from a quote (prices and sizes as doubles, ticks and lots). */
  onQuote(bidPx: number, bidQty: number, askPx: number, askQty: number): void {
    if (this.book !== null) return; // the L2 book, once fed, is the finer source
    this.bidPx = bidPx;
    this.bidQty = bidQty;
    this.askPx = askPx;
    this.askQty = askQty;
  }

  /** The L2 book after an update: top of book from it; imbalance reads its levels at the next row. */
  onBook(book: L2Book): void {
    this.book = book;
    this.bidPx = book.bestBid();
    this.bidQty = book.bestBidQty();
    this.askPx = book.bestAsk();
    this.askQty = book.bestAskQty();
  }

  /** A trade: sign from the aggressor (+1 buy, -1 sell), or by the tick rule when the venue gives none (0). */
  onTrade(ts: number, px: number, qty: number, aggressor: number): void {
    let sign = aggressor;
    if (sign === 0) {
      sign = px > this.lastPx ? 1 : px < this.lastPx ? -1 : this.lastSign;
    }
    this.lastSign = sign;
    this.lastPx = px;
    const cap = this.tSigned.length;
    const at = this.trades % cap;
    const signed = sign * qty;
    const t = this.trades;
    const kinds = this.kind;
    for (let i = 0; i < this.size; i++) {
      const k = kinds[i]!;
      if (k === K_SV) {
        const w = this.pa[i]!;
        let s = this.svSum[i]! + signed;
        if (t >= w) s -= this.tSigned[(t - w) % cap]!;
        this.svSum[i] = s;
      } else if (k === K_VPIN) {
        this.vpinAdd(i, qty, sign > 0);
      }
    }
    this.tSigned[at] = signed;
    this.tTime[at] = ts;
    this.trades = t + 1;
  }

  /** Adds one trade's volume to feature i's current bucket; what the bucket lacks closes it, the rest spills on. */
  private vpinAdd(i: number, qty: number, buy: boolean): void {
    const size = this.pa[i]!;
    let b = this.vpBuy[i]!;
    let s = this.vpSell[i]!;
    let left = qty;
    while (left > 0) {
      const take = Math.min(left, size - b - s);
      if (buy) b += take;
      else s += take;
      left -= take;
      if (b + s >= size) {
        this.vpinClose(i, Math.abs(b - s) / size);
        b = 0;
        s = 0;
      }
    }
    this.vpBuy[i] = b;
    this.vpSell[i] = s;
  }

  private vpinClose(i: number, imbalance: number): void {
    const k = this.pb[i]!;
    const c = this.vpCount[i]!;
    const slot = this.vpOff[i]! + (c % k);
    let sum = this.vpSum[i]! + imbalance;
    if (c >= k) sum -= this.vpRing[slot]!;
    this.vpRing[slot] = imbalance;
    this.vpSum[i] = sum;
    this.vpCount[i] = c + 1;
  }

  /**
   * A closed bar of the spec's interval: computes the whole row, stamped with the event time in `time[0]` (micros;
   * a typed slot because a timestamp-sized double passed as an argument is boxed on every call).
   */
  onBar(open: number, high: number, low: number, close: number, volume: number): void {
    const ts = this.time[0]!;
    const bar = this.bar;
    bar[0] = open;
    bar[1] = high;
    bar[2] = low;
    bar[3] = close;
    bar[4] = volume;
    const row = this.row;
    this.indStep(bar, row);
    const t = this.bars;
    const cc = this.closes.length;
    const rc = this.rets.length;
    // The 1-bar log return only feeds the volatility features: no logarithm (nor ring division) per bar without one.
    let r1 = Number.NaN;
    if (this.hasVol) r1 = Math.log(close / (t > 0 ? this.closes[(t - 1) % cc]! : Number.NaN));
    if (this.hasCloses) this.closes[t % cc] = close;
    const kinds = this.kind;
    const others = this.others;
    for (let j = 0; j < others.length; j++) {
      const i = others[j]!;
      const k = kinds[i]!;
      if (k === K_RET) {
        const w = this.pa[i]!;
        row[i] = t >= w ? Math.log(close / this.closes[(t - w) % cc]!) : Number.NaN;
      } else if (k === K_VOL) {
        row[i] = t >= 1 ? this.volUpdate(i, r1, t - 1) : Number.NaN;
      } else if (k === K_TOD) {
        const frac = (ts % DAY) / DAY;
        const e = this.pa[i]!;
        row[i] = e === 0 ? frac : e === 1 ? Math.sin(TWO_PI * frac) : Math.cos(TWO_PI * frac);
      } else {
        row[i] = this.flowOrBook(i, k);
      }
    }
    // After every volatility feature read the ring: the return of bar t goes in at slot (t - 1).
    if (this.hasVol && t >= 1) this.rets[(t - 1) % rc] = r1;
    this.bars = t + 1;
  }

  /** Adds the return with index j (0-based) to feature i's window and returns the window's sample std. */
  private volUpdate(i: number, r: number, j: number): number {
    const w = this.pa[i]!;
    const rc = this.rets.length;
    let s = this.volSum[i]! + r;
    let q = this.volSq[i]! + r * r;
    if (j >= w) {
      const old = this.rets[(j - w) % rc]!;
      s -= old;
      q -= old * old;
    }
    this.volSum[i] = s;
    this.volSq[i] = q;
    if (j + 1 < w) return Number.NaN;
    const v = (q - (s * s) / w) / (w - 1);
    return Math.sqrt(Math.max(v, 0));
  }

  private flowOrBook(i: number, k: number): number {
    const bid = this.bidPx;
    const ask = this.askPx;
    const mid = (bid + ask) * 0.5;
    if (k === K_SPREAD) return ((ask - bid) / mid) * 1e4;
    if (k === K_MICRO) {
      const tot = this.bidQty + this.askQty;
      const micro = tot > 0 ? (bid * this.askQty + ask * this.bidQty) / tot : mid;
      return ((micro - mid) / mid) * 1e4;
    }
    if (k === K_IMB) {
      const levels = this.pa[i]!;
      if (this.book !== null && levels > 1) return this.book.imbalance(levels);
      const tot = this.bidQty + this.askQty;
      return tot > 0 ? (this.bidQty - this.askQty) / tot : Number.NaN;
    }
    const w = this.pa[i]!;
    const t = this.trades;
    if (k === K_SV) return t >= w ? this.svSum[i]! : Number.NaN;
    if (k === K_INT) {
      if (t < w) return Number.NaN;
      const cap = this.tTime.length;
      const span = this.tTime[(t - 1) % cap]! - this.tTime[(t - w) % cap]!;
      return span > 0 ? ((w - 1) * 1e6) / span : Number.NaN;
    }
    if (k === K_VPIN) return this.vpCount[i]! >= this.pb[i]! ? this.vpSum[i]! / this.pb[i]! : Number.NaN;
    return Number.NaN;
  }
}
