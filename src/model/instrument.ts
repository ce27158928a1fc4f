// Instruments (spot, linear and inverse perpetuals, dated futures) and their registry. Prices are integer ticks,
// quantities integer lots, values integer money units of the settlement currency, fee rates integers in 1e-8.
// Notional and fees are exact (doubles while products stay below 2^53, BigInt beyond), rounded once, documented.

import { Bot4Error, ErrorCode } from '../core/errors.ts';
import type { Brand, InstrumentId, Micros, PriceTicks, QtyLots, VenueId } from '../core/units.ts';
import { type Currency, CurrencyRegistry, currencies as defaultCurrencies, type Money } from './currency.ts';
import {
  type DecimalStatus,
  decimalErrorMessage,
  decimalToSteps,
  decimalToStepsRounded,
  divRoundBig,
  floatToSteps,
  isRounding,
  lastDecimalStatus,
  mulDivRound,
  parseDecimalSteps,
  parseFloatSteps,
  parseStep,
  Rounding,
  type Step,
  stepOfScale,
  stepsToDecimal,
} from './decimal.ts';

export const InstrumentKind = { SPOT: 0, PERPETUAL: 1, FUTURE: 2 } as const;
export type InstrumentKind = (typeof InstrumentKind)[keyof typeof InstrumentKind];
const KIND_NAMES = ['SPOT', 'PERPETUAL', 'FUTURE'] as const;
export function instrumentKindName(k: InstrumentKind): string {
  return KIND_NAMES[k] ?? `InstrumentKind(${k})`;
}

/** Which side of the book a fill took: maker (resting) or taker (aggressing). */
export const LiquiditySide = { NONE: 0, MAKER: 1, TAKER: 2 } as const;
export type LiquiditySide = (typeof LiquiditySide)[keyof typeof LiquiditySide];

/**
 * A fee rate as an integer count of 1e-8 (the 8 decimals Binance uses for commission rates, so every rate it
 * reports, e.g. "0.00016875", is exact; ppm would not be). 0.1% = 100_000; negative is a rebate.
 */
export type FeeRate = Brand<number, 'FeeRate'>;
export const FEE_RATE_SCALE = 8;
export const FEE_RATE_DENOMINATOR = 100_000_000;
const FEE_STEP = stepOfScale(FEE_RATE_SCALE);

/** "0.001" (a fraction, not a percent) -> 100_000. Throws naming the field when finer than 1e-8. */
export function parseFeeRate(text: string, what = 'fee rate', context = ''): FeeRate {
  return parseDecimalSteps(text, FEE_STEP, {
    what,
    stepName: 'fee-rate unit',
    context,
    signed: true,
  }) as FeeRate;
}

/** 100_000 -> "0.001". */
export function feeRateToDecimal(rate: FeeRate | number): string {
  return stepsToDecimal(rate, FEE_STEP);
}

/** Everything an instrument is made from; decimal strings as the venue publishes them. */
export interface InstrumentSpec {
  readonly symbol: string;
  readonly venue: string;
  readonly kind: InstrumentKind;
  readonly base: string;
  readonly quote: string;
  /** Currency values and fees are paid in: quote for spot and linear, base (margin asset) for inverse. */
  readonly settlement: string;
  readonly tickSize: string;
  readonly lotSize: string;
  /** Contract size: units of base per lot unit (linear) or of quote per contract (inverse). Default "1". */
  readonly multiplier?: string;
  readonly isInverse?: boolean;
  readonly minQty?: string;
  readonly maxQty?: string;
  /** Limits for market orders where the venue sets them apart (Binance MARKET_LOT_SIZE). */
  readonly marketMinQty?: string;
  readonly marketMaxQty?: string;
  readonly minPrice?: string;
  readonly maxPrice?: string;
  /** Minimum order value, in settlement currency. */
  readonly minNotional?: string;
  /** Fee rates as fractions ("0.0002" = 0.02%); negative for rebates. Default "0". */
  readonly makerFee?: string;
  readonly takerFee?: string;
  /** Expiry/delivery time of a dated future, micros since the epoch; 0 for spot and perpetuals. */
  readonly expiry?: number;
  /** Where the fee rates came from (a preset, a config key, `--fee`), for reports. Default: the definition. */
  readonly feeSource?: string;
  /** Rounding of a fee to settlement units. Default HALF_UP (see Instrument.feeRounding). */
  readonly feeRounding?: Rounding;
  /** Rounding of a notional to settlement units. Default HALF_EVEN. */
  readonly notionalRounding?: Rounding;
}

const NO_MAX = Number.MAX_SAFE_INTEGER;

/**
 * An immutable instrument definition. Construct through InstrumentRegistry (which assigns the id).
 *
 * Value conventions, in money units of `settlement` (10^-precision):
 * - linear (spot, USD-M): notional = price * qty * multiplier; exact integer whenever
 *   tick.scale + lot.scale + multiplier.scale <= settlement precision (every Binance USDT pair), else rounded
 *   with `notionalRounding` (HALF_EVEN).
 * - inverse (COIN-M): notional = contracts * multiplier / price, in base currency; rounded HALF_EVEN (an
 *   unbiased choice for values summed over many fills; the venue's own figure wins for settlement).
 * - fee = exact notional * rate, rounded once with `feeRounding`, default HALF_UP: Binance does not publish
 *   its commission rounding, so this is our choice, not a documented venue rule; live fills carry the venue's
 *   own commission, and the simulator's mode can be set per instrument.
 * Results beyond 2^53-1 units (about 90 million units of currency at 8 dp) are not representable: the try*
 * methods return NaN, the others throw NUMERIC_OVERFLOW.
 */
export class Instrument {
  readonly id: InstrumentId;
  readonly venueId: VenueId;
  readonly symbol: string;
  readonly venue: string;
  /** "SYMBOL.VENUE", the registry's edge key. */
  readonly key: string;
  readonly kind: InstrumentKind;
  readonly base: Currency;
  readonly quote: Currency;
  readonly settlement: Currency;
  readonly tickSize: Step;
  readonly lotSize: Step;
  readonly multiplier: Step;
  /** Decimal places of a price (tick scale) and of a quantity (lot scale). */
  readonly pricePrecision: number;
  readonly sizePrecision: number;
  readonly isInverse: boolean;
  readonly minQty: QtyLots;
  readonly maxQty: QtyLots;
  readonly marketMinQty: QtyLots;
  readonly marketMaxQty: QtyLots;
  readonly minPrice: PriceTicks;
  readonly maxPrice: PriceTicks;
  readonly minNotional: Money;
  readonly makerFee: FeeRate;
  readonly takerFee: FeeRate;
  /** Where makerFee and takerFee came from (report only). */
  readonly feeSource: string;
  readonly expiry: Micros;
  readonly feeRounding: Rounding;
  readonly notionalRounding: Rounding;
  /** The normalised spec this instrument was built from (for equality checks and journaling). */
  readonly spec: InstrumentSpec;

  // Notional = round(ticks * lots * num / den) for linear, round(lots * num / (ticks * den)) for inverse;
  // the maker/taker ratios fold the fee rate into the same fraction, so a fee is rounded exactly once.
  private readonly value: Ratio;
  private readonly maker: Ratio;
  private readonly taker: Ratio;

  constructor(id: InstrumentId, venueId: VenueId, spec: InstrumentSpec, registry: CurrencyRegistry) {
    const sym = spec.symbol;
    this.id = id;
    this.venueId = venueId;
    this.symbol = sym;
    this.venue = spec.venue;
    this.key = instrumentKey(sym, spec.venue);
    this.kind = spec.kind;
    if (KIND_NAMES[spec.kind] === undefined) {
      throw new Bot4Error(
        ErrorCode.INVALID_ARGUMENT,
        `instrument ${sym}: kind ${spec.kind} is not an InstrumentKind`,
        {
          symbol: sym,
        },
      );
    }
    this.base = registry.getOrCreate(spec.base);
    this.quote = registry.getOrCreate(spec.quote);
    this.settlement = registry.getOrCreate(spec.settlement);
    this.isInverse = spec.isInverse === true;
    if (this.isInverse && spec.kind === InstrumentKind.SPOT) {
      throw new Bot4Error(
        ErrorCode.INVALID_ARGUMENT,
        `instrument ${sym}: a spot instrument cannot be inverse`,
        {
          symbol: sym,
        },
      );
    }
    if (!this.isInverse && spec.settlement !== spec.quote) {
      throw new Bot4Error(
        ErrorCode.INVALID_ARGUMENT,
        `instrument ${sym}: a linear instrument settles in its quote currency (${spec.quote}), not ${spec.settlement}; quanto contracts are not supported`,
        { symbol: sym, quote: spec.quote, settlement: spec.settlement },
      );
    }
    this.tickSize = parseStep(spec.tickSize, 'tick size', sym);
    this.lotSize = parseStep(spec.lotSize, 'lot size', sym);
    this.multiplier = parseStep(spec.multiplier ?? '1', 'multiplier', sym);
    this.pricePrecision = this.tickSize.scale;
    this.sizePrecision = this.lotSize.scale;

    const qty = (text: string | undefined, what: string, dflt: number, mode: Rounding): QtyLots => {
      if (text === undefined) return dflt as QtyLots;
      const v = decimalToStepsRounded(text, this.lotSize, mode);
      if (Number.isNaN(v)) throw decimalError(lastDecimalStatus(), text, this.lotSize, what, 'lot size', sym);
      return v as QtyLots;
    };
    // Limits that fall between lots are rounded inwards, so a quantity that passes them passes the venue's.
    this.minQty = qty(spec.minQty, 'minQty', 0, Rounding.CEIL);
    this.maxQty = qty(spec.maxQty, 'maxQty', NO_MAX, Rounding.FLOOR);
    this.marketMinQty = qty(spec.marketMinQty, 'marketMinQty', this.minQty, Rounding.CEIL);
    this.marketMaxQty = qty(spec.marketMaxQty, 'marketMaxQty', this.maxQty, Rounding.FLOOR);
    const px = (text: string | undefined, what: string, dflt: number, mode: Rounding): PriceTicks => {
      if (text === undefined) return dflt as PriceTicks;
      const v = decimalToStepsRounded(text, this.tickSize, mode);
      if (Number.isNaN(v))
        throw decimalError(lastDecimalStatus(), text, this.tickSize, what, 'tick size', sym);
      return v as PriceTicks;
    };
    this.minPrice = px(spec.minPrice, 'minPrice', 0, Rounding.CEIL);
    this.maxPrice = px(spec.maxPrice, 'maxPrice', NO_MAX, Rounding.FLOOR);
    this.minNotional = (
      spec.minNotional === undefined
        ? 0
        : parseDecimalSteps(spec.minNotional, this.settlement.unit, {
            what: 'minNotional',
            stepName: `${this.settlement.code} unit`,
            context: sym,
          })
    ) as Money;
    this.makerFee =
      spec.makerFee === undefined ? (0 as FeeRate) : parseFeeRate(spec.makerFee, 'makerFee', sym);
    this.takerFee =
      spec.takerFee === undefined ? (0 as FeeRate) : parseFeeRate(spec.takerFee, 'takerFee', sym);
    this.feeSource = spec.feeSource ?? 'instrument definition';
    const expiry = spec.expiry ?? 0;
    if (!Number.isSafeInteger(expiry) || expiry < 0) {
      throw new Bot4Error(
        ErrorCode.INVALID_ARGUMENT,
        `instrument ${sym}: expiry ${expiry} must be micros >= 0`,
        {
          symbol: sym,
          expiry,
        },
      );
    }
    if (spec.kind === InstrumentKind.FUTURE && expiry === 0) {
      throw new Bot4Error(
        ErrorCode.INVALID_ARGUMENT,
        `instrument ${sym}: a dated future needs an expiry (micros)`,
        {
          symbol: sym,
        },
      );
    }
    this.expiry = expiry as Micros;
    this.feeRounding = spec.feeRounding ?? Rounding.HALF_UP;
    this.notionalRounding = spec.notionalRounding ?? Rounding.HALF_EVEN;
    if (!isRounding(this.feeRounding) || !isRounding(this.notionalRounding)) {
      throw new Bot4Error(
        ErrorCode.INVALID_ARGUMENT,
        `instrument ${sym}: feeRounding/notionalRounding must be a Rounding code (0..5)`,
        { symbol: sym, feeRounding: this.feeRounding, notionalRounding: this.notionalRounding },
      );
    }

    const t = this.tickSize;
    const l = this.lotSize;
    const m = this.multiplier;
    const p = this.settlement.precision;
    let num: bigint;
    let den: bigint;
    if (!this.isInverse) {
      num = t.unitsBig * l.unitsBig * m.unitsBig;
      den = 1n;
      const e = p - t.scale - l.scale - m.scale;
      if (e >= 0) num *= 10n ** BigInt(e);
      else den = 10n ** BigInt(-e);
    } else {
      num = l.unitsBig * m.unitsBig;
      den = t.unitsBig;
      const e = p - l.scale - m.scale + t.scale;
      if (e >= 0) num *= 10n ** BigInt(e);
      else den *= 10n ** BigInt(-e);
    }
    const feeDen = den * BigInt(FEE_RATE_DENOMINATOR);
    this.value = new Ratio(num, den);
    this.maker = new Ratio(num * BigInt(this.makerFee), feeDen);
    this.taker = new Ratio(num * BigInt(this.takerFee), feeDen);
    this.spec = normaliseSpec(spec);
  }

  /** Edge: "61800.30" -> 618003 ticks at 0.1; throws DECIMAL_INVALID naming price, tick size and symbol. */
  priceToTicks(text: string): PriceTicks {
    return parseDecimalSteps(text, this.tickSize, {
      what: 'price',
      stepName: 'tick size',
      context: this.symbol,
    }) as PriceTicks;
  }

  /** Hot path: NaN when not a valid multiple of the tick (see lastDecimalStatus()). */
  tryPriceToTicks(text: string): PriceTicks {
    return decimalToSteps(text, this.tickSize) as PriceTicks;
  }

  /** 618003 -> "61800.3"; fixed true -> the tick's decimals, a number -> at least that many. */
  ticksToPrice(ticks: PriceTicks | number, fixed: boolean | number = false): string {
    return stepsToDecimal(ticks, this.tickSize, fixed);
  }

  qtyToLots(text: string): QtyLots {
    return parseDecimalSteps(text, this.lotSize, {
      what: 'qty',
      stepName: 'lot size',
      context: this.symbol,
    }) as QtyLots;
  }

  tryQtyToLots(text: string): QtyLots {
    return decimalToSteps(text, this.lotSize) as QtyLots;
  }

  lotsToQty(lots: QtyLots | number, fixed: boolean | number = false): string {
    return stepsToDecimal(lots, this.lotSize, fixed);
  }

  /** A float price (Parquet, JSON number) to ticks; throws when it was not on the tick grid. */
  priceFromFloat(x: number): PriceTicks {
    return parseFloatSteps(x, this.tickSize, {
      what: 'price',
      stepName: 'tick size',
      context: this.symbol,
    }) as PriceTicks;
  }

  tryPriceFromFloat(x: number): PriceTicks {
    return floatToSteps(x, this.tickSize) as PriceTicks;
  }

  qtyFromFloat(x: number): QtyLots {
    return parseFloatSteps(x, this.lotSize, {
      what: 'qty',
      stepName: 'lot size',
      context: this.symbol,
    }) as QtyLots;
  }

  tryQtyFromFloat(x: number): QtyLots {
    return floatToSteps(x, this.lotSize) as QtyLots;
  }

  /**
   * Hot path: value of `lots` at `ticks` in settlement money units, or NaN when it exceeds 2^53-1 units (or,
   * for an inverse contract, the price is not positive). Signed lots give signed values.
   */
  tryNotional(ticks: PriceTicks | number, lots: QtyLots | number): Money {
    return this.valueOf(ticks, lots, this.value, this.notionalRounding) as Money;
  }

  /** Edge: tryNotional that throws NUMERIC_OVERFLOW naming the inputs and the limit. */
  notional(ticks: PriceTicks | number, lots: QtyLots | number): Money {
    const v = this.tryNotional(ticks, lots);
    if (!Number.isNaN(v)) return v;
    throw this.valueError('notional', ticks, lots);
  }

  feeRate(liquidity: LiquiditySide): FeeRate {
    return liquidity === LiquiditySide.MAKER ? this.makerFee : this.takerFee;
  }

  /**
   * Hot path: fee of a fill in settlement money units, from the exact notional (not the rounded one), rounded
   * once with `feeRounding`. Positive is a cost, negative a rebate. NaN on overflow. Liquidity NONE is taker.
   */
  tryFee(ticks: PriceTicks | number, lots: QtyLots | number, liquidity: LiquiditySide): Money {
    const r = liquidity === LiquiditySide.MAKER ? this.maker : this.taker;
    if (r.num === 0 && !this.isInverse) return 0 as Money;
    return this.valueOf(ticks, lots, r, this.feeRounding) as Money;
  }

  fee(ticks: PriceTicks | number, lots: QtyLots | number, liquidity: LiquiditySide): Money {
    const v = this.tryFee(ticks, lots, liquidity);
    if (!Number.isNaN(v)) return v;
    throw this.valueError('fee', ticks, lots);
  }

  /** True when the order value reaches the venue's minimum notional (always true without one). */
  meetsMinNotional(ticks: PriceTicks | number, lots: QtyLots | number): boolean {
    if (this.minNotional === 0) return true;
    const v = this.tryNotional(ticks, lots);
    return Number.isNaN(v) || Math.abs(v) >= this.minNotional;
  }

  private valueOf(ticks: number, lots: number, r: Ratio, mode: Rounding): number {
    if (!this.isInverse) {
      if (r.safe) return mulDivRound(ticks, lots, r.num, r.den, 1, mode);
      return slowRatio(ticks, lots, r, false, mode);
    }
    if (!(ticks > 0)) return Number.NaN;
    if (r.safe) return mulDivRound(lots, r.num, 1, ticks, r.den, mode);
    return slowRatio(lots, ticks, r, true, mode);
  }

  private valueError(what: string, ticks: number, lots: number): Bot4Error {
    const s = this.settlement;
    const price = Number.isSafeInteger(ticks) ? this.ticksToPrice(ticks) : String(ticks);
    const qty = Number.isSafeInteger(lots) ? this.lotsToQty(lots) : String(lots);
    if (this.isInverse && ticks <= 0) {
      return new Bot4Error(
        ErrorCode.INVALID_ARGUMENT,
        `${what} of ${qty} ${this.symbol} at price ${price}: an inverse contract needs a positive price`,
        { symbol: this.symbol, ticks, lots },
      );
    }
    return new Bot4Error(
      ErrorCode.NUMERIC_OVERFLOW,
      `${what} of qty ${qty} at price ${price} (${this.symbol}) exceeds 2^53-1 ${s.code} units ` +
        `(max ${stepsToDecimal(Number.MAX_SAFE_INTEGER, s.unit)} ${s.code} at ${s.precision} dp); split the amount`,
      { symbol: this.symbol, ticks, lots, currency: s.code },
    );
  }
}

function decimalError(
  st: DecimalStatus,
  text: string,
  step: Step,
  what: string,
  stepName: string,
  sym: string,
): Bot4Error {
  return new Bot4Error(
    ErrorCode.DECIMAL_INVALID,
    decimalErrorMessage(st, text, step, { what, stepName, context: sym }),
    {
      status: st,
      value: text,
      step: step.text,
      what,
      context: sym,
    },
  );
}

/** A reduced constant fraction, with BigInt twins for the (odd) instruments whose factors pass 2^53. */
class Ratio {
  readonly num: number;
  readonly den: number;
  readonly numBig: bigint;
  readonly denBig: bigint;
  /** Both parts are safe integers, so the double fast path applies. */
  readonly safe: boolean;

  constructor(num: bigint, den: bigint) {
    let a = num < 0n ? -num : num;
    let b = den;
    while (b !== 0n) {
      const t = a % b;
      a = b;
      b = t;
    }
    if (a === 0n) a = 1n;
    this.numBig = num / a;
    this.denBig = den / a;
    this.num = Number(this.numBig);
    this.den = Number(this.denBig);
    this.safe = Number.isSafeInteger(this.num) && Number.isSafeInteger(this.den);
  }
}

const BIG_MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** round(x * y * num / den) (linear) or round(x * num / (y * den)) (inverse) in BigInt; NaN beyond 2^53-1. */
function slowRatio(x: number, y: number, r: Ratio, inverse: boolean, mode: Rounding): number {
  if (!Number.isSafeInteger(x) || !Number.isSafeInteger(y)) return Number.NaN;
  const n = inverse ? BigInt(x) * r.numBig : BigInt(x) * BigInt(y) * r.numBig;
  const d = inverse ? BigInt(y) * r.denBig : r.denBig;
  const q = divRoundBig(n, d, mode);
  return q > BIG_MAX_SAFE || q < -BIG_MAX_SAFE ? Number.NaN : Number(q);
}

function normaliseSpec(s: InstrumentSpec): InstrumentSpec {
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(s).sort()) {
    const v = (s as unknown as Record<string, unknown>)[k];
    if (v !== undefined) out[k] = v;
  }
  return Object.freeze(out) as unknown as InstrumentSpec;
}

export function instrumentKey(symbol: string, venue: string): string {
  return `${symbol}.${venue}`;
}

/** What the registry asks for fee rates (FeeSchedules in fee-schedule.ts); undefined keeps the spec's own. */
export interface FeeResolver {
  resolve(symbol: string, venue: string): { maker: FeeRate; taker: FeeRate; source: string } | undefined;
}

/**
 * Interns instruments ("SYMBOL.VENUE" -> small integer id, dense from 0) and venues (name -> VenueId).
 * By id: one array read. By key: a Map lookup, for the edges (parsing a venue message's symbol once).
 */
export class InstrumentRegistry {
  readonly currencies: CurrencyRegistry;
  private readonly list: Instrument[] = [];
  private readonly byKey = new Map<string, Instrument>();
  private readonly venueNames: string[] = [];
  private readonly venueByName = new Map<string, VenueId>();
  /**
   * Fee rates for the instruments added from now on (simulated venues: the config's `fees` or `--fee`); they
   * replace a spec's own rates, so an instrument built from a data file charges them instead of none.
   */
  fees: FeeResolver | undefined = undefined;

  constructor(currencies: CurrencyRegistry = defaultCurrencies) {
    this.currencies = currencies;
  }

  private withFees(spec: InstrumentSpec): InstrumentSpec {
    const f = this.fees?.resolve(spec.symbol, spec.venue);
    if (f === undefined) return spec;
    return {
      ...spec,
      makerFee: feeRateToDecimal(f.maker),
      takerFee: feeRateToDecimal(f.taker),
      feeSource: f.source,
    };
  }

  venueId(name: string): VenueId {
    let id = this.venueByName.get(name);
    if (id === undefined) {
      if (name === '' || /\s|\./.test(name)) {
        throw new Bot4Error(
          ErrorCode.INVALID_ARGUMENT,
          `venue name ${JSON.stringify(name)} must be non-empty without spaces or dots`,
          {
            venue: name,
          },
        );
      }
      id = this.venueNames.length as VenueId;
      this.venueNames.push(name);
      this.venueByName.set(name, id);
    }
    return id;
  }

  venueName(id: VenueId): string | undefined {
    return this.venueNames[id];
  }

  /**
   * Adds an instrument and returns it with its id. Adding the same definition again returns the existing
   * instrument; a different definition under an existing key is an error (use replace()).
   */
  add(given: InstrumentSpec): Instrument {
    const spec = this.withFees(given);
    const key = instrumentKey(spec.symbol, spec.venue);
    const existing = this.byKey.get(key);
    if (existing !== undefined) {
      const candidate = new Instrument(existing.id, existing.venueId, spec, this.currencies);
      if (JSON.stringify(candidate.spec) === JSON.stringify(existing.spec)) return existing;
      throw new Bot4Error(
        ErrorCode.INVALID_ARGUMENT,
        `instrument ${key} is already registered with a different definition; call replace() to update venue metadata`,
        { key, existing: existing.spec, spec: candidate.spec },
      );
    }
    const inst = new Instrument(
      this.list.length as InstrumentId,
      this.venueId(spec.venue),
      spec,
      this.currencies,
    );
    this.list.push(inst);
    this.byKey.set(key, inst);
    return inst;
  }

  /**
   * Replaces the definition under an existing key, keeping its id (venue metadata refresh). Holders of ticks
   * and lots must re-derive them if tick or lot size changed.
   */
  replace(given: InstrumentSpec): Instrument {
    const spec = this.withFees(given);
    const key = instrumentKey(spec.symbol, spec.venue);
    const existing = this.byKey.get(key);
    if (existing === undefined) return this.add(spec);
    const inst = new Instrument(existing.id, existing.venueId, spec, this.currencies);
    this.list[existing.id] = inst;
    this.byKey.set(key, inst);
    return inst;
  }

  /** O(1); undefined for an id this registry never issued. */
  get(id: InstrumentId): Instrument | undefined {
    return this.list[id];
  }

  /** Edge: get() that throws NOT_FOUND. */
  require(id: InstrumentId): Instrument {
    const inst = this.list[id];
    if (inst === undefined) {
      throw new Bot4Error(
        ErrorCode.NOT_FOUND,
        `instrument id ${id} is not registered (${this.list.length} instruments)`,
        {
          id,
        },
      );
    }
    return inst;
  }

  find(symbol: string, venue: string): Instrument | undefined {
    return this.byKey.get(instrumentKey(symbol, venue));
  }

  /** Edge: symbol + venue -> id, throwing NOT_FOUND with the key. */
  idOf(symbol: string, venue: string): InstrumentId {
    const inst = this.byKey.get(instrumentKey(symbol, venue));
    if (inst === undefined) {
      throw new Bot4Error(
        ErrorCode.NOT_FOUND,
        `instrument ${instrumentKey(symbol, venue)} is not registered; load the venue's instruments first`,
        { symbol, venue },
      );
    }
    return inst.id;
  }

  get size(): number {
    return this.list.length;
  }

  all(): readonly Instrument[] {
    return this.list;
  }
}

/** A registry using its own fresh currency registry (tests, isolated backtests). */
export function newInstrumentRegistry(): InstrumentRegistry {
  return new InstrumentRegistry(CurrencyRegistry.withDefaults());
}
