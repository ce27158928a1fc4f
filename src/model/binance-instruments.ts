// Instrument specs from Binance exchangeInfo responses: spot (/api/v3), USD-M futures (/fapi/v1) and COIN-M
// futures (/dapi/v1). Filters are copied as the venue's decimal strings; nothing is converted through floats.
// A symbol whose metadata is unusable is skipped with a reason, never half-built; a malformed document throws.

import { Bot4Error, ErrorCode } from '../core/errors.ts';
import { MICROS_PER_MS } from '../core/units.ts';
import type { Rounding } from './decimal.ts';
import {
  type Instrument,
  InstrumentKind,
  type InstrumentRegistry,
  type InstrumentSpec,
} from './instrument.ts';

export const BinanceMarket = { SPOT: 'spot', USDM: 'usdm', COINM: 'coinm' } as const;
export type BinanceMarket = (typeof BinanceMarket)[keyof typeof BinanceMarket];

/** Venue names the builders use unless told otherwise: the three markets are separate books and accounts. */
export const BINANCE_VENUES: Readonly<Record<BinanceMarket, string>> = {
  spot: 'BINANCE',
  usdm: 'BINANCE_USDM',
  coinm: 'BINANCE_COINM',
};

/**
 * Regular-tier (VIP 0) fee rates as fractions, used because exchangeInfo carries no fees: spot 0.1%/0.1%,
 * USD-M 0.02% maker / 0.05% taker, COIN-M the same. Override with the account's rates when known.
 */
export const BINANCE_DEFAULT_FEES: Readonly<Record<BinanceMarket, { maker: string; taker: string }>> = {
  spot: { maker: '0.001', taker: '0.001' },
  usdm: { maker: '0.0002', taker: '0.0005' },
  coinm: { maker: '0.0002', taker: '0.0005' },
};

export interface BinanceBuildOptions {
  readonly venue?: string;
  readonly makerFee?: string;
  readonly takerFee?: string;
  /** Per-symbol fee overrides (fractions), e.g. zero-fee promotions. */
  readonly fees?: Readonly<Record<string, { maker: string; taker: string }>>;
  readonly feeRounding?: Rounding;
  /** Skip symbols whose status is not TRADING (default false: a backtest needs delisted symbols too). */
  readonly tradingOnly?: boolean;
}

export interface BinanceBuildResult {
  readonly specs: InstrumentSpec[];
  readonly skipped: { readonly symbol: string; readonly reason: string }[];
}

type Json = Record<string, unknown>;

function isObject(x: unknown): x is Json {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function symbolsOf(info: unknown, market: BinanceMarket): unknown[] {
  if (!isObject(info) || !Array.isArray(info['symbols'])) {
    throw new Bot4Error(
      ErrorCode.DATA_MALFORMED,
      `Binance ${market} exchangeInfo must be an object with a "symbols" array; got ${describe(info)}`,
      { market },
    );
  }
  return info['symbols'];
}

function describe(x: unknown): string {
  if (Array.isArray(x)) return 'an array';
  if (x === null) return 'null';
  if (isObject(x)) return `an object with keys ${Object.keys(x).slice(0, 8).join(', ') || '(none)'}`;
  return typeof x;
}

/** Thrown inside a symbol's build; caught and turned into a skip reason. */
class Skip extends Error {}

function str(o: Json, key: string, where: string): string {
  const v = o[key];
  if (typeof v === 'string' && v !== '') return v;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  throw new Skip(`${where}.${key} is missing or empty (got ${JSON.stringify(v)})`);
}

function optStr(o: Json | undefined, key: string): string | undefined {
  if (o === undefined) return undefined;
  const v = o[key];
  if (typeof v === 'string' && v !== '') return v;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  return undefined;
}

/** Binance uses "0" to mean "no limit" / "disabled" in its filters. */
function isZero(text: string | undefined): boolean {
  if (text === undefined) return true;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c !== 48 && c !== 46) return false;
  }
  return true;
}

function nonZero(text: string | undefined): string | undefined {
  return isZero(text) ? undefined : text;
}

function filtersOf(s: Json): Map<string, Json> {
  const out = new Map<string, Json>();
  const f = s['filters'];
  if (!Array.isArray(f)) return out;
  for (const x of f) if (isObject(x) && typeof x['filterType'] === 'string') out.set(x['filterType'], x);
  return out;
}

interface CommonLimits {
  tickSize: string;
  lotSize: string;
  minPrice?: string;
  maxPrice?: string;
  minQty?: string;
  maxQty?: string;
  marketMinQty?: string;
  marketMaxQty?: string;
}

/** PRICE_FILTER, LOT_SIZE and MARKET_LOT_SIZE, shared by the three markets. */
function commonLimits(filters: Map<string, Json>): CommonLimits {
  const pf = filters.get('PRICE_FILTER');
  const ls = filters.get('LOT_SIZE');
  if (pf === undefined) throw new Skip('no PRICE_FILTER filter, so no tick size');
  if (ls === undefined) throw new Skip('no LOT_SIZE filter, so no lot size');
  const tickSize = str(pf, 'tickSize', 'PRICE_FILTER');
  const lotSize = str(ls, 'stepSize', 'LOT_SIZE');
  if (isZero(tickSize)) throw new Skip('PRICE_FILTER.tickSize is 0 (price filter disabled), so no tick size');
  if (isZero(lotSize)) throw new Skip('LOT_SIZE.stepSize is 0, so no lot size');
  const mls = filters.get('MARKET_LOT_SIZE');
  const out: CommonLimits = { tickSize, lotSize };
  const minPrice = nonZero(optStr(pf, 'minPrice'));
  const maxPrice = nonZero(optStr(pf, 'maxPrice'));
  const minQty = nonZero(optStr(ls, 'minQty'));
  const maxQty = nonZero(optStr(ls, 'maxQty'));
  const mMin = nonZero(optStr(mls, 'minQty'));
  const mMax = nonZero(optStr(mls, 'maxQty'));
  if (minPrice !== undefined) out.minPrice = minPrice;
  if (maxPrice !== undefined) out.maxPrice = maxPrice;
  if (minQty !== undefined) out.minQty = minQty;
  if (maxQty !== undefined) out.maxQty = maxQty;
  // MARKET_LOT_SIZE's own stepSize is "0" on spot (meaning: use LOT_SIZE's); its limits are rounded onto the
  // lot grid inwards by Instrument, e.g. maxQty 112.21108820 at lot 0.00001 -> 112.21108.
  if (mMin !== undefined) out.marketMinQty = mMin;
  if (mMax !== undefined) out.marketMaxQty = mMax;
  return out;
}

function fees(
  market: BinanceMarket,
  symbol: string,
  opts: BinanceBuildOptions,
): { makerFee: string; takerFee: string } {
  const o = opts.fees?.[symbol];
  if (o !== undefined) return { makerFee: o.maker, takerFee: o.taker };
  const d = BINANCE_DEFAULT_FEES[market];
  return { makerFee: opts.makerFee ?? d.maker, takerFee: opts.takerFee ?? d.taker };
}

function withOptional(spec: Record<string, unknown>, opts: BinanceBuildOptions): InstrumentSpec {
  if (opts.feeRounding !== undefined) spec['feeRounding'] = opts.feeRounding;
  return spec as unknown as InstrumentSpec;
}

function build(
  info: unknown,
  market: BinanceMarket,
  opts: BinanceBuildOptions,
  one: (s: Json, symbol: string) => InstrumentSpec,
): BinanceBuildResult {
  const specs: InstrumentSpec[] = [];
  const skipped: { symbol: string; reason: string }[] = [];
  const list = symbolsOf(info, market);
  for (let i = 0; i < list.length; i++) {
    const s = list[i];
    if (!isObject(s) || typeof s['symbol'] !== 'string') {
      skipped.push({
        symbol: `symbols[${i}]`,
        reason: `not an object with a "symbol" string (${describe(s)})`,
      });
      continue;
    }
    const symbol = s['symbol'];
    const st = s['status'] ?? s['contractStatus'];
    if (opts.tradingOnly === true && st !== 'TRADING') {
      skipped.push({ symbol, reason: `status ${String(st)} is not TRADING` });
      continue;
    }
    try {
      specs.push(one(s, symbol));
    } catch (e) {
      if (e instanceof Skip) skipped.push({ symbol, reason: e.message });
      else throw e;
    }
  }
  return { specs, skipped };
}

/** Spot exchangeInfo (GET /api/v3/exchangeInfo): PRICE_FILTER, LOT_SIZE, MARKET_LOT_SIZE, NOTIONAL/MIN_NOTIONAL. */
export function binanceSpotSpecs(info: unknown, opts: BinanceBuildOptions = {}): BinanceBuildResult {
  const venue = opts.venue ?? BINANCE_VENUES.spot;
  return build(info, BinanceMarket.SPOT, opts, (s, symbol) => {
    const filters = filtersOf(s);
    const base = str(s, 'baseAsset', symbol);
    const quote = str(s, 'quoteAsset', symbol);
    const spec: Record<string, unknown> = {
      symbol,
      venue,
      kind: InstrumentKind.SPOT,
      base,
      quote,
      settlement: quote,
      ...commonLimits(filters),
      ...fees(BinanceMarket.SPOT, symbol, opts),
    };
    // NOTIONAL superseded MIN_NOTIONAL on spot in 2023; both carry "minNotional".
    const mn = nonZero(
      optStr(filters.get('NOTIONAL'), 'minNotional') ?? optStr(filters.get('MIN_NOTIONAL'), 'minNotional'),
    );
    if (mn !== undefined) spec['minNotional'] = mn;
    return withOptional(spec, opts);
  });
}

function futuresKind(s: Json, symbol: string): { kind: InstrumentKind; expiry: number } {
  const ct = s['contractType'];
  if (ct === 'PERPETUAL' || ct === 'PERPETUAL_DELIVERING' || ct === 'TRADIFI_PERPETUAL') {
    // deliveryDate on a perpetual is a far-future placeholder (4133404802000 = year 2100), not an expiry.
    return { kind: InstrumentKind.PERPETUAL, expiry: 0 };
  }
  if (ct === 'CURRENT_QUARTER' || ct === 'NEXT_QUARTER' || ct === 'CURRENT_MONTH' || ct === 'NEXT_MONTH') {
    const d = s['deliveryDate'];
    if (typeof d !== 'number' || !Number.isSafeInteger(d) || d <= 0) {
      throw new Skip(`contractType ${ct} needs a deliveryDate in ms (got ${JSON.stringify(d)})`);
    }
    return { kind: InstrumentKind.FUTURE, expiry: d * MICROS_PER_MS };
  }
  throw new Skip(`contractType ${JSON.stringify(ct)} is not a known perpetual or delivery type (${symbol})`);
}

/** USD-M futures exchangeInfo (GET /fapi/v1/exchangeInfo): linear, settled in marginAsset (= quote). */
export function binanceUsdmSpecs(info: unknown, opts: BinanceBuildOptions = {}): BinanceBuildResult {
  const venue = opts.venue ?? BINANCE_VENUES.usdm;
  return build(info, BinanceMarket.USDM, opts, (s, symbol) => {
    const filters = filtersOf(s);
    const { kind, expiry } = futuresKind(s, symbol);
    const base = str(s, 'baseAsset', symbol);
    const quote = str(s, 'quoteAsset', symbol);
    const margin = str(s, 'marginAsset', symbol);
    if (margin !== quote)
      throw new Skip(`marginAsset ${margin} differs from quoteAsset ${quote} (quanto not supported)`);
    const spec: Record<string, unknown> = {
      symbol,
      venue,
      kind,
      base,
      quote,
      settlement: margin,
      ...commonLimits(filters),
      ...fees(BinanceMarket.USDM, symbol, opts),
    };
    if (expiry !== 0) spec['expiry'] = expiry;
    const mn = nonZero(optStr(filters.get('MIN_NOTIONAL'), 'notional'));
    if (mn !== undefined) spec['minNotional'] = mn;
    return withOptional(spec, opts);
  });
}

/**
 * COIN-M futures exchangeInfo (GET /dapi/v1/exchangeInfo): inverse contracts worth `contractSize` quote (USD)
 * each, margined and settled in marginAsset (the base coin). Status is in "contractStatus".
 */
export function binanceCoinmSpecs(info: unknown, opts: BinanceBuildOptions = {}): BinanceBuildResult {
  const venue = opts.venue ?? BINANCE_VENUES.coinm;
  return build(info, BinanceMarket.COINM, opts, (s, symbol) => {
    const filters = filtersOf(s);
    const { kind, expiry } = futuresKind(s, symbol);
    const base = str(s, 'baseAsset', symbol);
    const quote = str(s, 'quoteAsset', symbol);
    const margin = str(s, 'marginAsset', symbol);
    const contractSize = str(s, 'contractSize', symbol);
    const spec: Record<string, unknown> = {
      symbol,
      venue,
      kind,
      base,
      quote,
      settlement: margin,
      isInverse: true,
      multiplier: contractSize,
      ...commonLimits(filters),
      ...fees(BinanceMarket.COINM, symbol, opts),
    };
    if (expiry !== 0) spec['expiry'] = expiry;
    return withOptional(spec, opts);
  });
}

const BUILDERS: Readonly<
  Record<BinanceMarket, (info: unknown, opts: BinanceBuildOptions) => BinanceBuildResult>
> = {
  spot: binanceSpotSpecs,
  usdm: binanceUsdmSpecs,
  coinm: binanceCoinmSpecs,
};

/**
 * Builds and registers every usable symbol of an exchangeInfo document. A symbol whose values do not parse
 * (e.g. minNotional finer than the settlement precision) is skipped with the parser's message.
 */
export function loadBinanceInstruments(
  registry: InstrumentRegistry,
  info: unknown,
  market: BinanceMarket,
  opts: BinanceBuildOptions = {},
): { instruments: Instrument[]; skipped: { symbol: string; reason: string }[] } {
  const builder = BUILDERS[market];
  if (builder === undefined) {
    throw new Bot4Error(
      ErrorCode.INVALID_ARGUMENT,
      `Binance market ${JSON.stringify(market)} is not one of spot, usdm, coinm`,
      {
        market,
      },
    );
  }
  const { specs, skipped } = builder(info, opts);
  const instruments: Instrument[] = [];
  for (const spec of specs) {
    try {
      instruments.push(registry.add(spec));
    } catch (e) {
      if (e instanceof Bot4Error && e.code !== ErrorCode.INTERNAL)
        skipped.push({ symbol: spec.symbol, reason: e.message });
      else throw e;
    }
  }
  return { instruments, skipped };
}
