// The loader registry: `detectLoader(file)` picks the loader for a file from its name and first lines (gzip
// decompressed), for `bot4 data import` and tests. Loaders register in order, most specific first; another
// module adds its own with one `registerLoader(x)` line (or by appending to LOADERS).

import { Bot4Error, ErrorCode } from '../../core/errors.ts';
import { readHeadText } from '../lines.ts';
import type { Loader } from '../loader.ts';
import { hftbacktestBinanceLoader } from './binance-capture.ts';
import { binanceDepthCsvLoader, tardisCsvLoader } from './csv-ticks.ts';
import { bybitLoader, cryptofeedLoader, hyperliquidLoader } from './json-ticks.ts';
import { BAR_AND_TRADE_LIST_LOADERS } from './ohlcv.ts';
import { parquetTicksLoader } from './parquet-ticks.ts';

/** Every known loader, tried in order by detectLoader. */
export const LOADERS: Loader[] = [
  hftbacktestBinanceLoader,
  hyperliquidLoader,
  cryptofeedLoader,
  bybitLoader,
  binanceDepthCsvLoader,
  tardisCsvLoader,
  parquetTicksLoader,
  ...BAR_AND_TRADE_LIST_LOADERS,
];

/** Adds a loader (before the existing ones when `first`, so it can claim files they would also take). */
export function registerLoader(loader: Loader, first = false): void {
  if (LOADERS.some((l) => l.name === loader.name)) {
    throw new Bot4Error(ErrorCode.INVALID_ARGUMENT, `a loader named ${loader.name} is already registered`, {
      name: loader.name,
    });
  }
  if (first) LOADERS.unshift(loader);
  else LOADERS.push(loader);
}

/** The first loader whose detect() accepts the file, or undefined. Reads at most 64 KiB of the file. */
export function findLoader(file: string): Loader | undefined {
  const head = readHeadText(file, 64 * 1024);
  for (const l of LOADERS) if (l.detect(file, head)) return l;
  return undefined;
}

/** findLoader that throws a DATA_MALFORMED error naming the file and the formats tried. */
export function detectLoader(file: string): Loader {
  const l = findLoader(file);
  if (l !== undefined) return l;
  throw new Bot4Error(
    ErrorCode.DATA_MALFORMED,
    `no loader recognises ${file}; known formats: ${LOADERS.map((x) => x.name).join(', ')}`,
    { file },
  );
}

export function loaderByName(name: string): Loader {
  const l = LOADERS.find((x) => x.name === name);
  if (l !== undefined) return l;
  throw new Bot4Error(
    ErrorCode.NOT_FOUND,
    `no loader named ${JSON.stringify(name)}; known: ${LOADERS.map((x) => x.name).join(', ')}`,
    { name },
  );
}
