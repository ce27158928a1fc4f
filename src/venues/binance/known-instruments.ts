// Binance instrument metadata known without a network call, for loading recorded data offline: the
// PRICE_FILTER / LOT_SIZE entries of real exchangeInfo responses (copied as the venue's strings) and, for
// COIN-M, the published contract sizes. Used only when the registry does not already hold the instrument.

import {
  BINANCE_VENUES,
  type BinanceMarket,
  binanceSpotSpecs,
  binanceUsdmSpecs,
} from '../../model/binance-instruments.ts';
import { InstrumentKind, type InstrumentSpec } from '../../model/instrument.ts';

/**
 * Spot BTCUSDT/ETHUSDT: GET /api/v3/exchangeInfo as recorded in nautilus_trader's test data
 * (http_spot_market_exchange_info.json, serverTime 2021-10-22). Only the fields the spec builder reads.
 */
const SPOT_INFO = {
  symbols: [
    {
      symbol: 'BTCUSDT',
      status: 'TRADING',
      baseAsset: 'BTC',
      quoteAsset: 'USDT',
      filters: [
        {
          filterType: 'PRICE_FILTER',
          minPrice: '0.01000000',
          maxPrice: '1000000.00000000',
          tickSize: '0.01000000',
        },
        { filterType: 'LOT_SIZE', minQty: '0.00001000', maxQty: '9000.00000000', stepSize: '0.00001000' },
        { filterType: 'MIN_NOTIONAL', minNotional: '10.00000000' },
      ],
    },
    {
      symbol: 'ETHUSDT',
      status: 'TRADING',
      baseAsset: 'ETH',
      quoteAsset: 'USDT',
      filters: [
        {
          filterType: 'PRICE_FILTER',
          minPrice: '0.01000000',
          maxPrice: '1000000.00000000',
          tickSize: '0.01000000',
        },
        { filterType: 'LOT_SIZE', minQty: '0.00010000', maxQty: '9000.00000000', stepSize: '0.00010000' },
        { filterType: 'MIN_NOTIONAL', minNotional: '10.00000000' },
      ],
    },
  ],
};

/** USD-M BTCUSDT/ETHUSDT: GET /fapi/v1/exchangeInfo (http_futures_market_exchange_info.json, 2022-02-19). */
const USDM_INFO = {
  symbols: [
    {
      symbol: 'BTCUSDT',
      contractType: 'PERPETUAL',
      status: 'TRADING',
      baseAsset: 'BTC',
      quoteAsset: 'USDT',
      marginAsset: 'USDT',
      filters: [
        { filterType: 'PRICE_FILTER', minPrice: '402', maxPrice: '1246396.60', tickSize: '0.10' },
        { filterType: 'LOT_SIZE', minQty: '0.001', maxQty: '1000', stepSize: '0.001' },
        { filterType: 'MIN_NOTIONAL', notional: '10' },
      ],
    },
    {
      symbol: 'ETHUSDT',
      contractType: 'PERPETUAL',
      status: 'TRADING',
      baseAsset: 'ETH',
      quoteAsset: 'USDT',
      marginAsset: 'USDT',
      filters: [
        { filterType: 'PRICE_FILTER', minPrice: '28.23', maxPrice: '144004.03', tickSize: '0.01' },
        { filterType: 'LOT_SIZE', minQty: '0.001', maxQty: '10000', stepSize: '0.001' },
        { filterType: 'MIN_NOTIONAL', notional: '10' },
      ],
    },
  ],
};

/**
 * COIN-M perpetuals: no exchangeInfo fixture is at hand, so tick sizes are the decimals the 2024-08 captures
 * show (BTCUSD_PERP prices to 0.1, ETHUSD_PERP to 0.01; sizes are whole contracts) and the contract sizes are
 * Binance's published ones (BTCUSD_PERP 100 USD, ETHUSD_PERP 10 USD per contract).
 */
function coinmPerp(symbol: string, base: string, tickSize: string, contractSize: string): InstrumentSpec {
  return {
    symbol,
    venue: BINANCE_VENUES.coinm,
    kind: InstrumentKind.PERPETUAL,
    base,
    quote: 'USD',
    settlement: base,
    isInverse: true,
    multiplier: contractSize,
    tickSize,
    lotSize: '1',
    minQty: '1',
    makerFee: '0.0002',
    takerFee: '0.0005',
  };
}

export interface KnownSpec {
  readonly spec: InstrumentSpec;
  /** Where the steps come from, for load reports. */
  readonly source: string;
}

let cache: Map<string, KnownSpec> | undefined;

function table(): Map<string, KnownSpec> {
  if (cache !== undefined) return cache;
  const m = new Map<string, KnownSpec>();
  for (const spec of binanceSpotSpecs(SPOT_INFO).specs) {
    m.set(`spot:${spec.symbol}`, {
      spec,
      source: 'Binance spot exchangeInfo of 2021-10-22 (nautilus_trader fixture)',
    });
  }
  for (const spec of binanceUsdmSpecs(USDM_INFO).specs) {
    m.set(`usdm:${spec.symbol}`, {
      spec,
      source: 'Binance USD-M exchangeInfo of 2022-02-19 (nautilus_trader fixture)',
    });
  }
  const cm = 'tick from the decimals of the 2024-08 captures; Binance published contract size';
  m.set('coinm:BTCUSD_PERP', {
    spec: coinmPerp('BTCUSD_PERP', 'BTC', '0.1', '100'),
    source: `${cm} (100 USD)`,
  });
  m.set('coinm:ETHUSD_PERP', {
    spec: coinmPerp('ETHUSD_PERP', 'ETH', '0.01', '10'),
    source: `${cm} (10 USD)`,
  });
  cache = m;
  return m;
}

/** The known spec of `symbol` on `market`, with `venue` substituted when given; undefined when unknown. */
export function knownBinanceInstrument(
  market: BinanceMarket,
  symbol: string,
  venue?: string,
): KnownSpec | undefined {
  const k = table().get(`${market}:${symbol}`);
  if (k === undefined) return undefined;
  return venue === undefined || venue === k.spec.venue ? k : { spec: { ...k.spec, venue }, source: k.source };
}

/** The spec alone (see knownBinanceInstrument). */
export function knownBinanceSpec(
  market: BinanceMarket,
  symbol: string,
  venue?: string,
): InstrumentSpec | undefined {
  return knownBinanceInstrument(market, symbol, venue)?.spec;
}
