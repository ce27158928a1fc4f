// Market data for a backtest from `--data` specs: files (any format a loader reads) and catalog queries
// `catalog:<instruments>[/<kinds>]`, merged in event-time order. The time range goes down to the catalog, so
// only the Parquet parts and rows inside [from, to) are read. Units: micros.
//
// Query syntax: instruments are catalog keys (BTCUSDT.BINANCE_USDM) or symbols listed on one venue, comma
// separated, `*` or nothing for all; kinds are quote, trade, delta (alias depth), bar, mark, funding (plurals
// too), all when absent. E.g. `catalog:BTCUSDT/quotes,trades,depth`, `catalog:*`, `catalog:ETHUSDT.BINANCE`.

import { resolve } from 'node:path';
import { Bot4Error, ErrorCode } from '../core/errors.ts';
import type { ValidationReport } from '../data/loader.ts';
import { type BatchSource, Merge, primed, replayFiles } from '../data/replay.ts';
import { loadNotes } from '../data/validate.ts';
import type { InstrumentRegistry } from '../model/instrument.ts';
import { type EventBatch, RecordKind, recordKindByName } from '../model/market-data.ts';

export const CATALOG_PREFIX = 'catalog:';

export interface CatalogSelection {
  /** Instrument keys or symbols; empty = every instrument of the catalog. */
  readonly instruments: readonly string[];
  /** Record kinds; undefined = all. */
  readonly kinds: readonly RecordKind[] | undefined;
  readonly text: string;
}

const KIND_ALIASES: Readonly<Record<string, string>> = { depth: 'delta', book: 'delta' };

function kindOf(name: string, spec: string): RecordKind {
  const n = name.toLowerCase();
  const kind = recordKindByName(KIND_ALIASES[n] ?? (n.endsWith('s') ? n.slice(0, -1) : n));
  if (kind !== undefined) return kind;
  throw new Bot4Error(
    ErrorCode.INVALID_ARGUMENT,
    `--data '${spec}': '${name}' is not a record kind; use quote, trade, delta (or depth), bar, mark, funding`,
    { spec, kind: name },
  );
}

export function isCatalogQuery(spec: string): boolean {
  return spec.startsWith(CATALOG_PREFIX);
}

/** Edge: parses `catalog:<instruments>[/<kinds>]`, throwing with the spec and the expected form. */
export function parseCatalogQuery(spec: string): CatalogSelection {
  const parts = spec.slice(CATALOG_PREFIX.length).split('/');
  if (parts.length > 2) {
    throw new Bot4Error(
      ErrorCode.INVALID_ARGUMENT,
      `--data '${spec}' is not a catalog query: write catalog:<instruments>[/<kinds>], e.g. catalog:BTCUSDT/quotes,trades`,
      { spec },
    );
  }
  const list = (s: string | undefined) =>
    s === undefined || s.trim() === '*'
      ? []
      : s
          .split(',')
          .map((x) => x.trim())
          .filter((x) => x !== '');
  const kinds = list(parts[1]);
  return {
    instruments: list(parts[0]),
    kinds: kinds.length === 0 ? undefined : [...new Set(kinds.map((k) => kindOf(k, spec)))],
    text: spec,
  };
}

export interface BacktestDataOptions {
  /** Instruments intern here (catalog instruments up front, file instruments as their loaders read them). */
  instruments: InstrumentRegistry;
  /** Catalog directory for `catalog:` specs. */
  catalogDir: string;
  from?: number;
  to?: number;
  /** Any file row a loader policy would skip is an error (see LoadOptions.strict). */
  strict?: boolean;
  /** Symbol and venue of file data whose name or rows do not say, or say wrongly (--symbol, --venue). */
  symbol?: string;
  venue?: string;
}

export interface BacktestData {
  /** The merged stream, first batch already read (so every instrument is registered before the kernel). */
  data: AsyncIterable<EventBatch>;
  label: string;
  /**
   * The shortest bar interval (micros) when the first batch holds only bars (and marks, funding): candle data,
   * whose natural sampling grid is its bar; undefined for tick data.
   */
  barInterval: number | undefined;
  /**
   * What the loaders skipped and repaired: at import, for the catalog data read; so far, for the files (complete
   * once the stream has ended). See loadNotes.
   */
  notes(): string[];
  /** Releases the catalog's DuckDB, if one was opened. */
  close(): void;
}

/** Opens every spec (files and catalog queries) as one time-ordered stream. */
export async function openBacktestData(
  specs: readonly string[],
  options: BacktestDataOptions,
): Promise<BacktestData> {
  const files = specs.filter((s) => !isCatalogQuery(s)).map((f) => resolve(f));
  const queries = specs.filter(isCatalogQuery).map(parseCatalogQuery);
  const sources: BatchSource[] = [];
  const catalogNotes: string[] = [];
  let close = () => {};
  if (queries.length > 0) {
    // DuckDB loads only when a backtest reads the catalog.
    const { Catalog, isoMicros } = await import('../data/catalog.ts');
    const catalog = Catalog.open(options.catalogDir, { mustExist: true });
    close = () => catalog.close();
    try {
      catalog.registerInstruments(options.instruments);
      for (const q of queries) {
        const selection = {
          ...(q.instruments.length === 0 ? {} : { instruments: q.instruments }),
          ...(q.kinds === undefined ? {} : { kinds: q.kinds }),
          ...(options.from === undefined ? {} : { from: options.from }),
          ...(options.to === undefined ? {} : { to: options.to }),
        };
        const found = catalog.sources(selection, options.instruments);
        if (found.length === 0) {
          const held = catalog
            .list()
            .map((r) => `${r.instrument} ${r.kind} ${isoMicros(r.firstTs)} -> ${isoMicros(r.lastTs)}`);
          const range =
            options.from === undefined && options.to === undefined
              ? ''
              : ` between ${options.from === undefined ? 'the start' : isoMicros(options.from)} and ${options.to === undefined ? 'the end' : isoMicros(options.to)}`;
          throw new Bot4Error(
            ErrorCode.DATA_MISSING,
            `--data '${q.text}': catalog ${catalog.dir} has no such data${range}; it holds:\n  ${held.join('\n  ') || '(nothing)'}`,
            { spec: q.text, dir: catalog.dir },
          );
        }
        sources.push(...found);
        // Rows the loaders dropped or repaired at import shaped this data too: say so as for files.
        for (const n of catalog.importNotes(selection)) if (!catalogNotes.includes(n)) catalogNotes.push(n);
      }
    } catch (e) {
      close();
      throw e;
    }
  }
  let reports: ValidationReport[] = [];
  if (files.length > 0) {
    const replay = replayFiles(files, {
      instruments: options.instruments,
      ...(options.strict === true ? { strict: true } : {}),
      ...(options.symbol === undefined ? {} : { symbol: options.symbol }),
      ...(options.venue === undefined ? {} : { venue: options.venue }),
    });
    reports = replay.reports;
    sources.push(replay.stream);
  }
  const stream = sources.length === 1 ? sources[0]! : new Merge(sources);
  const label = specs.join(', ');
  const notes = (): string[] => [...catalogNotes, ...reports.flatMap(loadNotes)];
  let barInterval: number | undefined;
  try {
    const data = await primed(stream, label, (b) => {
      barInterval = barOnlyInterval(b);
    });
    return { data, label, barInterval, notes, close };
  } catch (e) {
    close();
    throw e;
  }
}

/** The shortest BAR interval in `b` when it holds no quotes, trades or book deltas; else undefined. */
export function barOnlyInterval(b: EventBatch): number | undefined {
  let min = Number.POSITIVE_INFINITY;
  for (let i = 0; i < b.length; i++) {
    const k = b.kind[i];
    if (k === RecordKind.QUOTE || k === RecordKind.TRADE || k === RecordKind.DELTA) return undefined;
    if (k === RecordKind.BAR && b.f[i]! > 0 && b.f[i]! < min) min = b.f[i]!;
  }
  return Number.isFinite(min) ? min : undefined;
}
