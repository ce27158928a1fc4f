// Instrument specs for the portfolio's tests and benchmark (Binance's real filters, where they exist).
// Not used by the engine. Units: decimal strings as venues publish them; fee rates as fractions.

import { InstrumentKind, type InstrumentSpec } from '../model/instrument.ts';

/** Spot BTCUSDT: tick 0.01, lot 0.00001 (1000 sat), 0.1% fees; notional = ticks x lots x 10 USDT units. */
export const SPOT_BTCUSDT: InstrumentSpec = {
  symbol: 'BTCUSDT',
  venue: 'BINANCE',
  kind: InstrumentKind.SPOT,
  base: 'BTC',
  quote: 'USDT',
  settlement: 'USDT',
  tickSize: '0.01',
  lotSize: '0.00001',
  makerFee: '0.001',
  takerFee: '0.001',
};

/** USD-M BTCUSDT perpetual: tick 0.1, lot 0.001; notional = ticks x lots x 10_000 USDT units. */
export const USDM_BTCUSDT: InstrumentSpec = {
  symbol: 'BTCUSDT',
  venue: 'BINANCE_USDM',
  kind: InstrumentKind.PERPETUAL,
  base: 'BTC',
  quote: 'USDT',
  settlement: 'USDT',
  tickSize: '0.1',
  lotSize: '0.001',
  makerFee: '0.0002',
  takerFee: '0.0005',
};

/** COIN-M BTCUSD perpetual: 100 USD a contract, tick 0.1; notional = contracts x 100 / price BTC (rounded). */
export const COINM_BTCUSD: InstrumentSpec = {
  symbol: 'BTCUSD_PERP',
  venue: 'BINANCE_COINM',
  kind: InstrumentKind.PERPETUAL,
  base: 'BTC',
  quote: 'USD',
  settlement: 'BTC',
  isInverse: true,
  multiplier: '100',
  tickSize: '0.1',
  lotSize: '1',
  makerFee: '0.0002',
  takerFee: '0.0005',
};

/**
 * A made-up linear contract whose notional is rounded (tick x lot = 1e-14 USD, settled in 1e-8 units): every
 * fill's value is round_half_even(ticks x lots / 1e6) units, which exercises the split of a flip's notional.
 */
export const ODD_LINEAR: InstrumentSpec = {
  symbol: 'ODDUSD',
  venue: 'ODDVENUE',
  kind: InstrumentKind.PERPETUAL,
  base: 'ODD',
  quote: 'USD',
  settlement: 'USD',
  tickSize: '0.0000001',
  lotSize: '0.0000001',
};
