// The candle loaders (OHLCV in every layout the shared data holds), in detection order: the most specific
// shapes first, so a generic header CSV never claims a CryptoDataDownload or Binance kline file.
// All emit BAR rows (tsEvent = tsClose = tsOpen + interval, ascending); see each loader for its time convention.

import type { Loader } from '../loader.ts';
import { binanceKlinesCsvLoader, cryptoDataDownloadLoader, ohlcvHeaderCsvLoader } from './ohlcv-csv.ts';
import { freqtradeFeatherLoader } from './ohlcv-feather.ts';
import { krakenOhlcJsonLoader, ohlcvJsonArraysLoader, pandasColumnsJsonLoader } from './ohlcv-json.ts';
import { TRADE_LIST_LOADERS } from './trades-json.ts';

export { binanceKlinesCsvLoader, cryptoDataDownloadLoader, ohlcvHeaderCsvLoader } from './ohlcv-csv.ts';
export { freqtradeFeatherLoader } from './ohlcv-feather.ts';
export { krakenOhlcJsonLoader, ohlcvJsonArraysLoader, pandasColumnsJsonLoader } from './ohlcv-json.ts';

export const OHLCV_LOADERS: readonly Loader[] = [
  cryptoDataDownloadLoader,
  binanceKlinesCsvLoader,
  ohlcvHeaderCsvLoader,
  krakenOhlcJsonLoader,
  pandasColumnsJsonLoader,
  ohlcvJsonArraysLoader,
  freqtradeFeatherLoader,
];

/** Candle and trade-list loaders together, for the registry (src/data/loaders/index.ts). */
export const BAR_AND_TRADE_LIST_LOADERS: readonly Loader[] = [...OHLCV_LOADERS, ...TRADE_LIST_LOADERS];
