// Bot4 instrument specs from ccxt's loadMarkets(): the market's precision becomes the tick and lot (ccxt's
// TICK_SIZE mode gives the step itself, DECIMAL_PLACES the number of decimals), its limits become min/max
// quantity and price and the minimum notional (limits.cost.min), its maker/taker rates the fees. The
// instrument's symbol is the exchange's market id (BTCUSDT on Binance), so strategies name the same
// instrument whichever adapter trades it; the venue is the exchange id in capitals. Numbers cross as ccxt's
// floats and become decimal strings through ccxt's own numberToString (exact for the floats it parsed).

import type { Exchange, MarketInterface as Market } from 'ccxt';
import ccxt from 'ccxt';
import { Bot4Error, ErrorCode } from '../../core/errors.ts';
import { MICROS_PER_MS } from '../../core/units.ts';
import { InstrumentKind, type InstrumentSpec } from '../../model/instrument.ts';

/** The market a config entry names: its market id (BTCUSDT) or ccxt's unified symbol (BTC/USDT). */
export function findMarket(ex: Exchange, name: string): Market | undefined {
  const bySymbol = ex.markets?.[name];
  if (bySymbol !== undefined) return bySymbol;
  return ex.markets_by_id?.[name]?.[0];
}

function dec(x: number | undefined): string | undefined {
  if (x === undefined || x === null || !Number.isFinite(x) || x <= 0) return undefined;
  return ccxt.numberToString(x);
}

/** A precision entry as a step ("0.01"), by the exchange's precision mode. */
function step(ex: Exchange, p: number | undefined, what: string, m: Market): string {
  if (p === undefined || p === null || !Number.isFinite(p)) {
    throw new Bot4Error(ErrorCode.CONFIG_INVALID, `ccxt ${ex.id} ${m.symbol}: no ${what} precision`);
  }
  if (ex.precisionMode === ccxt.TICK_SIZE) return ccxt.numberToString(p);
  if (ex.precisionMode === ccxt.DECIMAL_PLACES && Number.isInteger(p) && p >= 0) {
    return p === 0 ? '1' : `0.${'0'.repeat(p - 1)}1`;
  }
  throw new Bot4Error(
    ErrorCode.CONFIG_INVALID,
    `ccxt ${ex.id} ${m.symbol}: ${what} precision ${p} in precision mode ${ex.precisionMode} has no fixed step (significant digits are not supported)`,
  );
}

function kindOf(ex: Exchange, m: Market): { kind: InstrumentKind; expiry: number } {
  if (m.spot === true) return { kind: InstrumentKind.SPOT, expiry: 0 };
  if (m.swap === true) return { kind: InstrumentKind.PERPETUAL, expiry: 0 };
  if (m.future === true && typeof m.expiry === 'number') {
    return { kind: InstrumentKind.FUTURE, expiry: m.expiry * MICROS_PER_MS };
  }
  throw new Bot4Error(
    ErrorCode.CONFIG_INVALID,
    `config 'instruments': ${m.id} at ccxt ${ex.id} is a ${m.type} market; spot, swap and dated futures are supported`,
  );
}

/** One spec per named market, in the config's order; a name the exchange does not list is a config error. */
export function ccxtSpecs(ex: Exchange, names: readonly string[], venue: string): InstrumentSpec[] {
  return names.map((name) => {
    const m = findMarket(ex, name);
    if (m === undefined) {
      const some = Object.values(ex.markets ?? {})
        .slice(0, 5)
        .map((x) => x.id);
      throw new Bot4Error(
        ErrorCode.CONFIG_INVALID,
        `config 'instruments': ${name} is not a market of ccxt ${ex.id} (e.g. ${some.join(', ')})`,
      );
    }
    const { kind, expiry } = kindOf(ex, m);
    const inverse = m.inverse === true;
    const spec: Record<string, unknown> = {
      symbol: m.id,
      venue,
      kind,
      base: m.base,
      quote: m.quote,
      settlement: kind === InstrumentKind.SPOT ? m.quote : (m.settle ?? (inverse ? m.base : m.quote)),
      tickSize: step(ex, m.precision.price, 'price', m),
      lotSize: step(ex, m.precision.amount, 'amount', m),
    };
    if (kind !== InstrumentKind.SPOT) {
      spec['isInverse'] = inverse;
      const cs = dec(m.contractSize);
      if (cs !== undefined) spec['multiplier'] = cs;
      if (expiry > 0) spec['expiry'] = expiry;
    }
    const l = m.limits;
    const put = (key: string, x: number | undefined) => {
      const d = dec(x);
      if (d !== undefined) spec[key] = d;
    };
    put('minQty', l.amount?.min);
    put('maxQty', l.amount?.max);
    put('marketMinQty', (l as { market?: { min?: number } }).market?.min);
    put('marketMaxQty', (l as { market?: { max?: number } }).market?.max);
    put('minPrice', l.price?.min);
    put('maxPrice', l.price?.max);
    put('minNotional', l.cost?.min);
    const fee = (x: number | undefined) => (typeof x === 'number' ? ccxt.numberToString(x) : undefined);
    const maker = fee(m.maker);
    const taker = fee(m.taker);
    if (maker !== undefined) spec['makerFee'] = maker;
    if (taker !== undefined) spec['takerFee'] = taker;
    spec['feeSource'] = `ccxt ${ex.id} markets`;
    return spec as unknown as InstrumentSpec;
  });
}
