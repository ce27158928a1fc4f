// The embedded market-data catalog: Parquet files partitioned by venue/symbol/kind, read and written through
// DuckDB, plus a JSON manifest (instrument specs, imports log) that is the single commit point of an import.
// Invariants: every file is sorted by (ts_event, import order); queries come back ordered by ts_event. Units: µs.
//
// Layout of <dir>:
//   catalog.json                                   manifest: version, instrument specs, imports (with parts)
//   data/venue=<V>/symbol=<S>/kind=<K>/i<id>-<n>.parquet   pos, ts_event, ts_init (TIMESTAMP µs), kind columns
//   .lock                                          held by the process importing (pid inside)
//   cache/<same path as the data file>.cols        decoded columns for fast replay (catalog-cache.ts)
// Re-import identity: SHA-256 of the file's bytes. Same content again is skipped (at any path); a path already
// imported with different content replaces its earlier import; --force re-imports identical content.
// Steps: each file keeps the tick/lot its loader chose (a venue changes lot sizes over the years); the manifest's
// instrument has the finest step all files fit (their gcd) and reads scale every file into it exactly.

import { createHash } from 'node:crypto';
import {
  closeSync,
  createReadStream,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { monoMillis, wallMicros } from '../core/clock.ts';
import { Bot4Error, ErrorCode } from '../core/errors.ts';
import { parseStep } from '../model/decimal.ts';
import {
  type Instrument,
  type InstrumentRegistry,
  type InstrumentSpec,
  instrumentKey,
  newInstrumentRegistry,
} from '../model/instrument.ts';
import { EventBatch, RECORD_KIND_NAMES, RecordKind, recordKindByName } from '../model/market-data.ts';
import {
  CACHE_BLOCK_ROWS,
  ColumnCacheReader,
  ColumnCacheWriter,
  fieldColumn,
  TS_EVENT_FIELD,
  TS_INIT_FIELD,
} from './catalog-cache.ts';
import {
  copyPartitionSql,
  KIND_COLUMNS,
  nonIntegerSql,
  PartitionWindowReader,
  PRICE_COLUMNS,
  SIZE_COLUMNS,
  StagingWriter,
  type StepScale,
  scaledColumn,
  scaleFactors,
  sqlString,
  storedFields,
} from './catalog-duckdb.ts';
import {
  emptyReport,
  type Loader,
  type LoadOptions,
  type LoadProgress,
  type Policy,
  type Problem,
  type ProblemExample,
  type ValidationReport,
} from './loader.ts';
import { detectLoader } from './loaders/index.ts';
import { type BatchSource, Merge } from './replay.ts';
import { loadNotes } from './validate.ts';

export const CATALOG_VERSION = 1;
const MANIFEST = 'catalog.json';
const LOCK = '.lock';
/** Rows per Parquet row group, and the largest read window (a window never spans two row groups). */
export const ROW_GROUP_ROWS = 65_536;
/** Staged rows written out to Parquet at a time (bounds DuckDB memory on very large files). */
const FLUSH_ROWS = 2_097_152;
/** Rows of read buffers a query may hold across all its sources (two windows per source). */
const QUERY_BUDGET_ROWS = 1_048_576;

/** One Parquet file: rows of one instrument and record kind from one import. */
export interface PartRecord {
  /** Relative to the catalog directory, '/'-separated. */
  path: string;
  instrument: string;
  kind: string;
  rows: number;
  firstTs: number;
  lastTs: number;
  bytes: number;
  /** Steps of the stored integers (the loader's instrument at import); read scaled to the instrument's steps. */
  tickSize: string;
  lotSize: string;
}

/** Kinds with one record per instrument and time: two imports covering the same times would double them. */
const TIME_KEYED_KINDS: ReadonlySet<string> = new Set([
  RECORD_KIND_NAMES[RecordKind.BAR],
  RECORD_KIND_NAMES[RecordKind.MARK_PRICE],
  RECORD_KIND_NAMES[RecordKind.FUNDING_RATE],
]);

/** The imports log: what was read, by which loader, what it found, and where the rows went. */
export interface ImportRecord {
  id: number;
  file: string;
  size: number;
  mtimeMs: number;
  sha256: string;
  loader: string;
  importedAt: string;
  seconds: number;
  rows: number;
  records: Record<string, number>;
  problems: Record<Problem, number>;
  /** Of `problems`, the rows dropped (absent in manifests written before it was kept). */
  dropped?: Partial<Record<Problem, number>>;
  examples: Partial<Record<Problem, ProblemExample[]>>;
  notes: string[];
  instruments: string[];
  /** Event-time range (µs), null when the file held no records. */
  firstTs: number | null;
  lastTs: number | null;
  options: { venue?: string; symbol?: string; policies?: Partial<Record<Problem, Policy>> };
  parts: PartRecord[];
}

interface Manifest {
  version: number;
  nextImportId: number;
  instruments: InstrumentSpec[];
  imports: ImportRecord[];
}

export interface ImportOptions {
  /** Loader to use; detected from the file otherwise. */
  loader?: Loader;
  venue?: string;
  symbol?: string;
  policies?: Partial<Record<Problem, Policy>>;
  /** Any row a policy would skip is an error and nothing is stored (LoadOptions.strict). */
  strict?: boolean;
  /** Re-import even when the same content is already in the catalog (replaces it). */
  force?: boolean;
  /** Instruments to register before loading (exact tick/lot sizes, e.g. from exchangeInfo). */
  instruments?: readonly InstrumentSpec[];
  /** Rows staged in DuckDB before they are written out as Parquet files (default 2,097,152). */
  flushRows?: number;
  onProgress?: (p: LoadProgress) => void;
  signal?: AbortSignal;
}

export interface ImportResult {
  status: 'imported' | 'replaced' | 'skipped';
  record: ImportRecord;
  /** Imports this one replaced (same path, new content; or --force). */
  replaced: ImportRecord[];
  /** The loader's report (for a skipped file: rebuilt from the earlier import's record). */
  report: ValidationReport;
}

export interface CatalogQuery {
  /** Instrument keys "SYMBOL.VENUE" or bare symbols (when unambiguous); every instrument when absent. */
  instruments?: readonly string[];
  kinds?: readonly RecordKind[];
  /** Event-time range [from, to) in µs. */
  from?: number;
  to?: number;
  /** Where instrument ids are interned; a fresh registry of the catalog's instruments when absent. */
  registry?: InstrumentRegistry;
  /** Rows per merged output batch. */
  batchSize?: number;
  /** Rows per read window and source (at most ROW_GROUP_ROWS; scaled down when a query has many sources). */
  windowRows?: number;
}

/** A query's stream with the registry its instrument ids refer to. */
export interface CatalogStream extends AsyncIterable<EventBatch> {
  readonly registry: InstrumentRegistry;
  readonly merge: Merge;
  /** Number of sorted sources merged (one per instrument, kind and chain of non-overlapping files). */
  readonly sourceCount: number;
}

export interface ListingRow {
  instrument: string;
  venue: string;
  symbol: string;
  kind: string;
  rows: number;
  firstTs: number;
  lastTs: number;
  files: number;
  bytes: number;
  imports: number[];
}

export interface InspectOptions {
  kind?: RecordKind;
  from?: number;
  to?: number;
  /** Rows shown from each end. Default 3. */
  rows?: number;
}

export interface InspectGap {
  /** Time of the event before the gap (µs) and the gap's length (µs). */
  afterTs: number;
  gapMicros: number;
}

export interface InspectKind {
  kind: string;
  rows: number;
  files: number;
  firstTs: number | null;
  lastTs: number | null;
  /** Lowest and highest price seen (decimal text), when the kind has prices. */
  priceMin: string | null;
  priceMax: string | null;
  medianGapMicros: number | null;
  /** Gaps longer than a minute. */
  gapsOverMinute: number;
  largestGaps: InspectGap[];
  first: Record<string, string | number>[];
  last: Record<string, string | number>[];
}

export interface InspectResult {
  instrument: string;
  spec: InstrumentSpec;
  /** Canonical tick and lot ("0.01" for "0.01000000"). */
  tickSize: string;
  lotSize: string;
  kinds: InspectKind[];
  imports: ImportRecord[];
}

const TIME_COLUMNS = new Set(['ts_open', 'next_funding_time']);
/** Price range columns per kind: [column for the minimum, column for the maximum]. */
const PRICE_RANGE: Partial<Record<RecordKind, [string, string]>> = {
  [RecordKind.QUOTE]: ['bid_px', 'ask_px'],
  [RecordKind.TRADE]: ['px', 'px'],
  [RecordKind.DELTA]: ['px', 'px'],
  [RecordKind.BAR]: ['low', 'high'],
  [RecordKind.MARK_PRICE]: ['px', 'px'],
};

/** Record kind from its name ('quote', 'trade', 'delta', 'bar', 'mark', 'funding'). */
export function kindByName(name: string): RecordKind {
  const kind = recordKindByName(name);
  if (kind !== undefined) return kind;
  throw new Bot4Error(
    ErrorCode.INVALID_ARGUMENT,
    `record kind ${JSON.stringify(name)} is not one of ${Object.values(RECORD_KIND_NAMES).join(', ')}`,
    { kind: name },
  );
}

/** Micros as ISO-8601 UTC text with microseconds. */
export function isoMicros(us: number | null): string {
  if (us === null || !Number.isFinite(us)) return '-';
  const ms = Math.floor(us / 1000);
  const iso = new Date(ms).toISOString();
  return `${iso.slice(0, -1)}${String(us - ms * 1000).padStart(3, '0')}Z`;
}

/** Keeps path segments readable and safe: anything but [A-Za-z0-9_.-] becomes %XX. */
function pathSegment(s: string): string {
  return s.replace(
    /[^A-Za-z0-9_.-]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`,
  );
}

function finiteOrNull(x: number): number | null {
  return Number.isFinite(x) ? x : null;
}

export interface CatalogOptions {
  /** Fail when `dir` holds no catalog yet (it is created on the first import otherwise). */
  mustExist?: boolean;
  /**
   * Keep decoded columns of files read whole in <dir>/cache (about 8 bytes per stored value, ~10x the Parquet
   * size) and replay from them afterwards. Default true.
   */
  replayCache?: boolean;
}

export class Catalog {
  readonly dir: string;
  readonly replayCache: boolean;
  private manifest: Manifest;
  private instance: DuckDBInstance | null = null;

  private constructor(dir: string, manifest: Manifest, replayCache: boolean) {
    this.dir = dir;
    this.manifest = manifest;
    this.replayCache = replayCache;
  }

  /** Opens the catalog in `dir`. */
  static open(dir: string, options: CatalogOptions = {}): Catalog {
    const abs = resolve(dir);
    const m = readManifest(abs);
    if (m === undefined && options.mustExist === true) {
      throw new Bot4Error(
        ErrorCode.NOT_FOUND,
        `no catalog in ${abs} (no ${MANIFEST}); import data first: bot4 data import <files...> --catalog ${dir}`,
        { dir: abs },
      );
    }
    return new Catalog(abs, m ?? emptyManifest(), options.replayCache !== false);
  }

  /** Releases DuckDB. The catalog can be used again afterwards (DuckDB reopens on demand). */
  close(): void {
    this.instance?.closeSync();
    this.instance = null;
  }

  get exists(): boolean {
    return existsSync(join(this.dir, MANIFEST));
  }

  instrumentSpecs(): readonly InstrumentSpec[] {
    return this.manifest.instruments;
  }

  imports(): readonly ImportRecord[] {
    return this.manifest.imports;
  }

  /**
   * Adds the catalog's instruments that `registry` lacks (an instrument already there is kept: queries scale
   * the stored ticks and lots into its steps, or fail naming the file whose steps it cannot express).
   */
  registerInstruments(registry: InstrumentRegistry): InstrumentRegistry {
    for (const spec of this.manifest.instruments) {
      if (registry.find(spec.symbol, spec.venue) === undefined) registry.add(spec);
    }
    return registry;
  }

  /** A fresh registry holding the catalog's instruments, ids in manifest order. */
  newRegistry(): InstrumentRegistry {
    return this.registerInstruments(newInstrumentRegistry());
  }

  // ------------------------------------------------------------------------------------------ import

  /** Runs a loader over `file` and stores its records; see the module comment for re-import rules. */
  async importFile(file: string, options: ImportOptions = {}): Promise<ImportResult> {
    const abs = resolve(file);
    let st: ReturnType<typeof statSync>;
    try {
      st = statSync(abs);
    } catch {
      throw new Bot4Error(ErrorCode.DATA_MISSING, `data file ${file} does not exist`, { file });
    }
    const release = this.lock();
    try {
      this.manifest = readManifest(this.dir) ?? emptyManifest();
      const sha256 = await sha256File(abs);
      const same = this.manifest.imports.find((i) => i.sha256 === sha256);
      if (same !== undefined && options.force !== true) {
        return { status: 'skipped', record: same, replaced: [], report: reportOf(same) };
      }
      const replaced = this.manifest.imports.filter((i) => i.file === abs || i === same);
      const loader = options.loader ?? detectLoader(abs);
      const t0 = monoMillis();
      const { record, specs } = await this.load(abs, loader, options, sha256, st.size, st.mtimeMs);
      record.seconds = (monoMillis() - t0) / 1000;
      try {
        this.checkImport(record, loader, replaced);
      } catch (e) {
        for (const p of record.parts) rmSync(join(this.dir, p.path), { force: true });
        throw e;
      }
      this.commit(record, specs, replaced);
      const report = reportOf(record);
      return { status: replaced.length > 0 ? 'replaced' : 'imported', record, replaced, report };
    } finally {
      release();
    }
  }

  /**
   * Refuses an import before it is recorded: one that produced no records (a wrong --loader; recording it
   * would make the right import of the same file a "same as #n" skip), and one whose bars (or marks, funding:
   * one record per instrument and time) overlap those of another import, which would double them in queries.
   */
  private checkImport(record: ImportRecord, loader: Loader, replaced: readonly ImportRecord[]): void {
    if (record.parts.length === 0) {
      const problems = Object.entries(record.problems)
        .filter(([, n]) => n > 0)
        .map(([p, n]) => `${p} ${n}`)
        .join(', ');
      throw new Bot4Error(
        ErrorCode.DATA_MALFORMED,
        `${record.file}: the ${loader.name} loader read ${record.rows} rows and produced no records ` +
          `(problems: ${problems || 'none'}); nothing recorded. Is it the right --loader?`,
        { file: record.file, loader: loader.name },
      );
    }
    const gone = new Set(replaced.map((r) => r.id));
    const clashes: string[] = [];
    for (const p of record.parts) {
      if (!TIME_KEYED_KINDS.has(p.kind)) continue;
      for (const imp of this.manifest.imports) {
        if (gone.has(imp.id)) continue;
        for (const q of imp.parts) {
          if (q.instrument !== p.instrument || q.kind !== p.kind) continue;
          if (p.firstTs > q.lastTs || p.lastTs < q.firstTs) continue;
          clashes.push(
            `${p.instrument} ${p.kind} ${isoMicros(Math.max(p.firstTs, q.firstTs))} -> ` +
              `${isoMicros(Math.min(p.lastTs, q.lastTs))} already imported by #${imp.id} (${imp.file})`,
          );
        }
      }
    }
    if (clashes.length > 0) {
      const shown = [...new Set(clashes)];
      throw new Bot4Error(
        ErrorCode.DATA_MALFORMED,
        `${record.file}: overlaps data in the catalog, which would double it in every query; nothing recorded:\n  ` +
          `${shown.slice(0, 10).join('\n  ')}${shown.length > 10 ? `\n  ... ${shown.length - 10} more` : ''}\n` +
          'Import only the new range, or a new version of a file at its old path (it replaces the earlier import).',
        { file: record.file },
      );
    }
  }

  private async load(
    file: string,
    loader: Loader,
    options: ImportOptions,
    sha256: string,
    size: number,
    mtimeMs: number,
  ): Promise<{ record: ImportRecord; specs: InstrumentSpec[] }> {
    const id = this.manifest.nextImportId;
    // A fresh registry: the loader picks the steps that fit this file (known venue specs, or the decimals it
    // shows); forcing the catalog's steps on it would turn finer rows into malformed ones.
    const registry = newInstrumentRegistry();
    for (const spec of options.instruments ?? []) registry.add(spec);
    const report = emptyReport(file);
    const parts: PartRecord[] = [];
    const conn = await (await this.db()).connect();
    const stage = await StagingWriter.open(conn, 'staging');
    let staged = 0;
    try {
      const load: LoadOptions = {
        instruments: registry,
        ...(options.policies === undefined ? {} : { policies: options.policies }),
        ...(options.strict === true ? { strict: true } : {}),
        ...(options.venue === undefined ? {} : { venue: options.venue }),
        ...(options.symbol === undefined ? {} : { symbol: options.symbol }),
        ...(options.onProgress === undefined ? {} : { onProgress: options.onProgress }),
        ...(options.signal === undefined ? {} : { signal: options.signal }),
      };
      for await (const batch of loader.load(file, load, report)) {
        stage.append(batch);
        staged += batch.length;
        if (staged >= (options.flushRows ?? FLUSH_ROWS)) {
          await this.flushStage(conn, stage, registry, id, parts, loader.name);
          staged = 0;
        }
      }
      if (staged > 0) await this.flushStage(conn, stage, registry, id, parts, loader.name);
    } catch (e) {
      for (const p of parts) rmSync(join(this.dir, p.path), { force: true });
      throw e;
    } finally {
      stage.close();
      conn.closeSync();
    }
    const record: ImportRecord = {
      id,
      file,
      size,
      mtimeMs,
      sha256,
      loader: loader.name,
      importedAt: new Date(wallMicros() / 1000).toISOString(),
      seconds: 0,
      rows: report.rows,
      records: { ...report.records },
      problems: { ...report.problems },
      dropped: { ...report.dropped },
      examples: report.examples,
      notes: [...report.notes],
      instruments: [...report.instruments],
      firstTs: finiteOrNull(report.firstTs),
      lastTs: finiteOrNull(report.lastTs),
      options: {
        ...(options.venue === undefined ? {} : { venue: options.venue }),
        ...(options.symbol === undefined ? {} : { symbol: options.symbol }),
        ...(options.policies === undefined ? {} : { policies: options.policies }),
      },
      parts,
    };
    const touched = new Set(parts.map((p) => p.instrument));
    return {
      record,
      specs: registry
        .all()
        .filter((i) => touched.has(i.key))
        .map((i) => i.spec),
    };
  }

  /** Writes the staged rows out, one Parquet file per (instrument, kind), and empties the stage. */
  private async flushStage(
    conn: DuckDBConnection,
    stage: StagingWriter,
    registry: InstrumentRegistry,
    id: number,
    parts: PartRecord[],
    loaderName: string,
  ): Promise<void> {
    stage.flush();
    const bad = Number((await conn.runAndReadAll(nonIntegerSql('staging'))).getRows()[0]?.[0] ?? 0);
    if (bad > 0) {
      throw new Bot4Error(
        ErrorCode.INTERNAL,
        `loader ${loaderName} emitted ${bad} rows with values that are not safe integers (ticks, lots, µs); not stored`,
        { loader: loaderName, rows: bad },
      );
    }
    const groups = (
      await conn.runAndReadAll(
        'SELECT instrument, kind, count(*)::DOUBLE, min(ts_event), max(ts_event) FROM staging GROUP BY ALL ORDER BY ALL',
      )
    ).getRows();
    for (const g of groups) {
      const instrumentId = Number(g[0]);
      const kind = Number(g[1]) as RecordKind;
      const inst = registry.get(instrumentId as Instrument['id']);
      const kindName = RECORD_KIND_NAMES[kind];
      if (inst === undefined || kindName === undefined) {
        throw new Bot4Error(
          ErrorCode.INTERNAL,
          `loader ${loaderName} emitted rows for instrument id ${instrumentId} / kind ${kind}, which it did not register`,
        );
      }
      const n = parts.filter((p) => p.instrument === inst.key && p.kind === kindName).length;
      const rel = [
        'data',
        `venue=${pathSegment(inst.venue)}`,
        `symbol=${pathSegment(inst.symbol)}`,
        `kind=${kindName}`,
        `i${id}-${n}.parquet`,
      ].join('/');
      const abs = join(this.dir, rel);
      mkdirSync(dirname(abs), { recursive: true });
      const part: PartRecord = {
        path: rel,
        instrument: inst.key,
        kind: kindName,
        rows: Number(g[2]),
        firstTs: Number(g[3]),
        lastTs: Number(g[4]),
        bytes: 0,
        tickSize: inst.tickSize.text,
        lotSize: inst.lotSize.text,
      };
      parts.push(part);
      await conn.run(
        copyPartitionSql(
          'staging',
          instrumentId,
          kind,
          abs,
          ROW_GROUP_ROWS,
          stage.sorted(instrumentId, kind),
        ),
      );
      part.bytes = statSync(abs).size;
    }
    await conn.run('DELETE FROM staging');
    stage.restart();
  }

  private commit(record: ImportRecord, specs: readonly InstrumentSpec[], replaced: ImportRecord[]): void {
    const m = this.manifest;
    // The first import defines an instrument; later ones can only make its steps finer (gcd).
    for (const spec of specs) {
      const key = instrumentKey(spec.symbol, spec.venue);
      const i = m.instruments.findIndex((s) => instrumentKey(s.symbol, s.venue) === key);
      if (i < 0) {
        m.instruments.push(spec);
      } else {
        const old = m.instruments[i]!;
        m.instruments[i] = {
          ...old,
          tickSize: gcdStep(old.tickSize, spec.tickSize),
          lotSize: gcdStep(old.lotSize, spec.lotSize),
        };
      }
    }
    const gone = new Set(replaced.map((r) => r.id));
    m.imports = m.imports.filter((i) => !gone.has(i.id));
    m.imports.push(record);
    m.nextImportId = record.id + 1;
    writeManifest(this.dir, m);
    // After the commit point: files of replaced imports are no longer referenced.
    for (const r of replaced) {
      for (const p of r.parts) {
        rmSync(join(this.dir, p.path), { force: true });
        rmSync(this.cachePath(p), { force: true });
      }
    }
  }

  /** Where the decoded columns of a part are kept. */
  cachePath(p: PartRecord): string {
    return join(this.dir, 'cache', `${p.path}.cols`);
  }

  /** Takes the catalog's import lock (a file holding our pid); returns its release. */
  private lock(): () => void {
    mkdirSync(this.dir, { recursive: true });
    const path = join(this.dir, LOCK);
    for (let attempt = 0; ; attempt++) {
      try {
        const fd = openSync(path, 'wx');
        writeSync(
          fd,
          JSON.stringify({ pid: process.pid, since: new Date(wallMicros() / 1000).toISOString() }),
        );
        closeSync(fd);
        return () => rmSync(path, { force: true });
      } catch (e) {
        if ((e as { code?: string }).code !== 'EEXIST' || attempt > 0) throw lockError(path, e);
        const holder = lockHolder(path);
        if (holder !== undefined && processAlive(holder)) throw lockError(path, e, holder);
        rmSync(path, { force: true }); // stale: its process is gone
      }
    }
  }

  // ------------------------------------------------------------------------------------------- query

  /** Resolves a selection of instruments ("SYM.VENUE" or a bare symbol) to catalog keys. */
  resolveInstruments(selection: readonly string[] | undefined): string[] {
    const keys = this.manifest.instruments.map((s) => instrumentKey(s.symbol, s.venue));
    if (selection === undefined || selection.length === 0) return keys;
    return selection.map((sel) => {
      if (keys.includes(sel)) return sel;
      const bySymbol = this.manifest.instruments.filter((s) => s.symbol === sel);
      if (bySymbol.length === 1) return instrumentKey(bySymbol[0]!.symbol, bySymbol[0]!.venue);
      throw new Bot4Error(
        ErrorCode.NOT_FOUND,
        bySymbol.length > 1
          ? `instrument ${sel} is ambiguous in catalog ${this.dir}: ${bySymbol.map((s) => instrumentKey(s.symbol, s.venue)).join(', ')}; give SYMBOL.VENUE`
          : `instrument ${sel} is not in catalog ${this.dir}; it holds ${keys.join(', ') || 'nothing'}`,
        { instrument: sel },
      );
    });
  }

  /** The parts a query reads, with the import each belongs to, in manifest order. */
  private *selectedParts(q: CatalogQuery): Generator<[ImportRecord, PartRecord]> {
    const keys = new Set(this.resolveInstruments(q.instruments));
    const kinds = q.kinds === undefined ? undefined : new Set(q.kinds.map((k) => RECORD_KIND_NAMES[k]));
    const from = q.from ?? Number.NEGATIVE_INFINITY;
    const to = q.to ?? Number.POSITIVE_INFINITY;
    for (const imp of this.manifest.imports) {
      for (const p of imp.parts) {
        if (!keys.has(p.instrument) || (kinds !== undefined && !kinds.has(p.kind))) continue;
        if (p.lastTs < from || p.firstTs >= to) continue;
        yield [imp, p];
      }
    }
  }

  /**
   * What the loaders skipped or repaired when the imports a query reads were made (loadNotes of each,
   * prefixed with the import id): a backtest on catalog data reports them as it would for the files.
   */
  importNotes(q: CatalogQuery): string[] {
    const seen = new Set<number>();
    const out: string[] = [];
    for (const [imp] of this.selectedParts(q)) {
      if (seen.has(imp.id)) continue;
      seen.add(imp.id);
      for (const n of loadNotes(reportOf(imp))) out.push(`catalog import #${imp.id}: ${n}`);
    }
    return out;
  }

  /**
   * The query's sorted sources, one per (instrument, kind, chain of files that do not overlap in time), in
   * the order ties are broken: instrument key, kind, chain. Merge them (with other sources if wanted).
   */
  sources(q: CatalogQuery, registry: InstrumentRegistry): BatchSource[] {
    const from = q.from ?? Number.NEGATIVE_INFINITY;
    const to = q.to ?? Number.POSITIVE_INFINITY;
    const groups = new Map<string, PartRecord[]>();
    for (const [, p] of this.selectedParts(q)) {
      const g = `${p.instrument}\u0000${String(kindByName(p.kind)).padStart(2, '0')}`;
      const list = groups.get(g);
      if (list === undefined) groups.set(g, [p]);
      else list.push(p);
    }
    const chains: { inst: Instrument; kind: RecordKind; parts: PartRecord[] }[] = [];
    for (const g of [...groups.keys()].sort()) {
      const parts = groups.get(g)!;
      const first = parts[0]!;
      const inst = registry.find(...splitKey(first.instrument, this.manifest.instruments));
      if (inst === undefined) {
        throw new Bot4Error(
          ErrorCode.NOT_FOUND,
          `instrument ${first.instrument} is not in the registry given to the query; call catalog.registerInstruments(registry) first`,
          { instrument: first.instrument },
        );
      }
      for (const c of chainParts(parts)) chains.push({ inst, kind: kindByName(first.kind), parts: c });
    }
    const window = windowRows(q.windowRows, chains.length);
    return chains.map((c) =>
      partsSource(
        this,
        c.parts.map((p) => ({ part: p, scale: stepScale(p, c.inst) })),
        c.kind,
        c.inst.id,
        from,
        to,
        window,
        () => this.db(),
      ),
    );
  }

  /** Records of the selection, merged in ts_event order (ties: instrument key, kind, import order). */
  query(q: CatalogQuery = {}): CatalogStream {
    const registry = q.registry === undefined ? this.newRegistry() : this.registerInstruments(q.registry);
    const sources = this.sources(q, registry);
    const merge = new Merge(sources, q.batchSize === undefined ? {} : { batchSize: q.batchSize });
    return {
      registry,
      merge,
      sourceCount: sources.length,
      [Symbol.asyncIterator]: () => merge[Symbol.asyncIterator](),
    };
  }

  // -------------------------------------------------------------------------------------- ls, inspect

  /** What the catalog holds, per instrument and record kind (from the manifest: no data is read). */
  list(): ListingRow[] {
    const rows = new Map<string, ListingRow>();
    for (const imp of this.manifest.imports) {
      for (const p of imp.parts) {
        const k = `${p.instrument}\u0000${p.kind}`;
        let r = rows.get(k);
        if (r === undefined) {
          const [symbol, venue] = splitKey(p.instrument, this.manifest.instruments);
          r = {
            instrument: p.instrument,
            venue,
            symbol,
            kind: p.kind,
            rows: 0,
            firstTs: p.firstTs,
            lastTs: p.lastTs,
            files: 0,
            bytes: 0,
            imports: [],
          };
          rows.set(k, r);
        }
        r.rows += p.rows;
        r.firstTs = Math.min(r.firstTs, p.firstTs);
        r.lastTs = Math.max(r.lastTs, p.lastTs);
        r.files++;
        r.bytes += p.bytes;
        if (!r.imports.includes(imp.id)) r.imports.push(imp.id);
      }
    }
    return [...rows.values()].sort((a, b) =>
      a.instrument === b.instrument
        ? kindByName(a.kind) - kindByName(b.kind)
        : a.instrument < b.instrument
          ? -1
          : 1,
    );
  }

  /** First and last rows, price range, time gaps and import reports of one instrument (one kind or all). */
  async inspect(instrument: string, options: InspectOptions = {}): Promise<InspectResult> {
    const key = this.resolveInstruments([instrument])[0]!;
    const registry = this.newRegistry();
    const inst = registry.find(...splitKey(key, this.manifest.instruments))!;
    const n = options.rows ?? 3;
    const from = options.from ?? Number.NEGATIVE_INFINITY;
    const to = options.to ?? Number.POSITIVE_INFINITY;
    const byKind = new Map<RecordKind, PartRecord[]>();
    const imports: ImportRecord[] = [];
    for (const imp of this.manifest.imports) {
      let used = false;
      for (const p of imp.parts) {
        const kind = kindByName(p.kind);
        if (p.instrument !== key || (options.kind !== undefined && kind !== options.kind)) continue;
        used = true;
        if (p.lastTs < from || p.firstTs >= to) continue;
        const list = byKind.get(kind);
        if (list === undefined) byKind.set(kind, [p]);
        else list.push(p);
      }
      if (used) imports.push(imp);
    }
    const conn = await (await this.db()).connect();
    try {
      const kinds: InspectKind[] = [];
      for (const kind of [...byKind.keys()].sort((a, b) => a - b)) {
        kinds.push(await this.inspectKind(conn, inst, kind, byKind.get(kind)!, from, to, n));
      }
      return {
        instrument: key,
        spec: inst.spec,
        tickSize: inst.tickSize.text,
        lotSize: inst.lotSize.text,
        kinds,
        imports,
      };
    } finally {
      conn.closeSync();
    }
  }

  private async inspectKind(
    conn: DuckDBConnection,
    inst: Instrument,
    kind: RecordKind,
    parts: PartRecord[],
    from: number,
    to: number,
    n: number,
  ): Promise<InspectKind> {
    const stored = [
      'pos',
      'ts_event',
      'ts_init',
      ...KIND_COLUMNS[kind].filter((c): c is string => c !== null),
    ];
    const files = `(${parts
      .map((p) => {
        const scale = stepScale(p, inst);
        const cols = stored.map((c) => `${scaledColumn(c, scale)} AS ${c}`).join(', ');
        return `SELECT ${cols} FROM read_parquet(${sqlString(join(this.dir, p.path))})`;
      })
      .join(' UNION ALL ')})`;
    const where = [
      Number.isFinite(from) ? `ts_event >= make_timestamp(${Math.ceil(from)}::BIGINT)` : 'true',
      Number.isFinite(to) ? `ts_event < make_timestamp(${Math.ceil(to)}::BIGINT)` : 'true',
    ].join(' AND ');
    const src = `(SELECT * FROM ${files} WHERE ${where})`;
    const range = PRICE_RANGE[kind];
    const stats = (
      await conn.runAndReadAll(
        `SELECT count(*)::DOUBLE, epoch_us(min(ts_event))::DOUBLE, epoch_us(max(ts_event))::DOUBLE` +
          (range === undefined ? ', NULL, NULL' : `, min(${range[0]})::DOUBLE, max(${range[1]})::DOUBLE`) +
          ` FROM ${src}`,
      )
    ).getRows()[0]!;
    const gaps = `(SELECT epoch_us(ts_event)::DOUBLE AS ts, (epoch_us(lead(ts_event) OVER (ORDER BY ts_event, pos)) - epoch_us(ts_event))::DOUBLE AS gap FROM ${src})`;
    const gapStats = (
      await conn.runAndReadAll(
        `SELECT median(gap)::DOUBLE, count(*) FILTER (WHERE gap > 60000000)::DOUBLE FROM ${gaps} WHERE gap IS NOT NULL`,
      )
    ).getRows()[0]!;
    const largest = (
      await conn.runAndReadAll(
        `SELECT ts, gap FROM ${gaps} WHERE gap IS NOT NULL ORDER BY gap DESC, ts LIMIT 3`,
      )
    ).getRows();
    const cols = KIND_COLUMNS[kind].filter((c): c is string => c !== null);
    const select = `epoch_us(ts_event)::DOUBLE AS ts_event, epoch_us(ts_init)::DOUBLE AS ts_init, ${cols
      .map((c) => `${c}::DOUBLE AS ${c}`)
      .join(', ')}`;
    const first = await conn.runAndReadAll(`SELECT ${select} FROM ${src} ORDER BY ts_event, pos LIMIT ${n}`);
    const last = await conn.runAndReadAll(
      `SELECT * FROM (SELECT ${select}, pos FROM ${src} ORDER BY ts_event DESC, pos DESC LIMIT ${n}) ORDER BY ts_event, pos`,
    );
    const fmt = (rows: Record<string, unknown>[]) => rows.map((r) => formatRow(inst, kind, r));
    const price = (x: unknown) => (x === null || x === undefined ? null : inst.ticksToPrice(Number(x)));
    return {
      kind: RECORD_KIND_NAMES[kind],
      rows: Number(stats[0]),
      files: parts.length,
      firstTs: stats[1] === null ? null : Number(stats[1]),
      lastTs: stats[2] === null ? null : Number(stats[2]),
      priceMin: price(stats[3]),
      priceMax: price(stats[4]),
      medianGapMicros: gapStats[0] === null ? null : Number(gapStats[0]),
      gapsOverMinute: Number(gapStats[1] ?? 0),
      largestGaps: largest.map((g) => ({ afterTs: Number(g[0]), gapMicros: Number(g[1]) })),
      first: fmt(first.getRowObjectsJS() as Record<string, unknown>[]),
      last: fmt(last.getRowObjectsJS() as Record<string, unknown>[]),
    };
  }

  /** The catalog's DuckDB (in memory: the data lives in the Parquet files, the metadata in the manifest). */
  async db(): Promise<DuckDBInstance> {
    if (this.instance === null) {
      this.instance = await DuckDBInstance.create(':memory:');
      const c = await this.instance.connect();
      // Window reads re-open the same files many times: keep their footers parsed.
      await c.run('SET parquet_metadata_cache = true');
      c.closeSync();
    }
    return this.instance;
  }
}

function formatRow(
  inst: Instrument,
  kind: RecordKind,
  r: Record<string, unknown>,
): Record<string, string | number> {
  const out: Record<string, string | number> = {};
  for (const [k, v] of Object.entries(r)) {
    if (k === 'pos') continue;
    const x = Number(v);
    if (k === 'ts_event' || k === 'ts_init' || TIME_COLUMNS.has(k)) out[k] = isoMicros(x);
    else if (PRICE_COLUMNS.has(k)) out[k] = inst.ticksToPrice(x);
    else if (SIZE_COLUMNS.has(k)) out[k] = inst.lotsToQty(x);
    else if (k === 'rate' && kind === RecordKind.FUNDING_RATE) out[k] = x / 1e8;
    else if (k === 'aggressor') out[k] = x === 1 ? 'buy' : x === 2 ? 'sell' : '-';
    else if (k === 'side') out[k] = x === 1 ? 'bid' : x === 2 ? 'ask' : String(x);
    else out[k] = x;
  }
  return out;
}

/** [symbol, venue] of a key, using the manifest specs (symbols may contain dots). */
function splitKey(key: string, specs: readonly InstrumentSpec[]): [string, string] {
  const s = specs.find((x) => instrumentKey(x.symbol, x.venue) === key);
  if (s !== undefined) return [s.symbol, s.venue];
  const dot = key.lastIndexOf('.');
  return [key.slice(0, dot), key.slice(dot + 1)];
}

/**
 * Chains of parts that follow each other in time (each chain is one sorted source). Parts come in import order
 * (import, then flush); a part joins the last chain when it starts at or after that chain's end, else opens a
 * new one. Chain numbers thus never decrease along import order, so the merge's tie rule (source order) keeps
 * equal-time rows in import order.
 */
function chainParts(parts: readonly PartRecord[]): PartRecord[][] {
  const chains: PartRecord[][] = [];
  for (const p of parts) {
    const last = chains[chains.length - 1];
    if (last !== undefined && last[last.length - 1]!.lastTs <= p.firstTs) last.push(p);
    else chains.push([p]);
  }
  return chains;
}

/** Rows per window: the asked size (or a row group), shrunk to a power of two so all sources fit the budget. */
function windowRows(asked: number | undefined, sources: number): number {
  let w = Math.min(asked ?? ROW_GROUP_ROWS, ROW_GROUP_ROWS);
  const fit = Math.floor(QUERY_BUDGET_ROWS / (2 * Math.max(1, sources)));
  while (w > 2048 && w > fit) w >>= 1;
  if (!Number.isInteger(w) || w < 1) {
    throw new Bot4Error(ErrorCode.INVALID_ARGUMENT, `windowRows ${asked} must be a positive integer`);
  }
  // A window must not straddle row groups: round down to a divisor of the row group size.
  let p = 1;
  while (p * 2 <= w) p *= 2;
  return p;
}

/**
 * One sorted source over a chain of parts. A part with a decoded cache is read from it directly; otherwise
 * through DuckDB in windows of `window` rows, into two alternating batches (the next window's query runs while
 * the consumer works on the current one), filling the cache on the way when the whole part is read.
 */
function partsSource(
  catalog: Catalog,
  parts: { part: PartRecord; scale: StepScale }[],
  kind: RecordKind,
  instrumentId: number,
  from: number,
  to: number,
  window: number,
  db: () => Promise<DuckDBInstance>,
): BatchSource {
  return {
    async *[Symbol.asyncIterator]() {
      // Buffers on first use: cache reads are synchronous and need one small batch; DuckDB windows need two.
      let small: EventBatch | null = null;
      let bufs: [EventBatch, EventBatch] | null = null;
      const batch = (rows: number): EventBatch => {
        const b = new EventBatch(rows);
        b.kind.fill(kind);
        b.instrument.fill(instrumentId);
        return b;
      };
      const fields = [TS_EVENT_FIELD, TS_INIT_FIELD, ...storedFields(kind)];
      // A cache batch no larger than the chain's largest part (trades of a day can be a few thousand rows).
      let maxRows = 1;
      for (const { part } of parts) maxRows = Math.max(maxRows, part.rows);
      let flip = 0;
      let conn: DuckDBConnection | null = null;
      let pending: Promise<[EventBatch, number]> | null = null;
      let reader: PartitionWindowReader | null = null;
      let writer: ColumnCacheWriter | null = null;
      let cache: ColumnCacheReader | undefined;
      try {
        for (const { part, scale } of parts) {
          const file = join(catalog.dir, part.path);
          const factors = scaleFactors(kind, scale);
          const whole = from <= part.firstTs && to > part.lastTs;
          cache = catalog.replayCache
            ? ColumnCacheReader.open(catalog.cachePath(part), file, part.rows, fields)
            : undefined;
          if (cache !== undefined) {
            small ??= batch(Math.min(window, CACHE_BLOCK_ROWS, maxRows));
            const b = small;
            const lo0 = whole || !Number.isFinite(from) ? 0 : cache.lowerBound(from);
            const hi = whole || !Number.isFinite(to) ? part.rows : cache.lowerBound(to);
            for (let lo = lo0; lo < hi; ) {
              // Block by block (a range's first read ends at its block's end), so reads are whole blocks.
              const end = Math.min(hi, lo + b.capacity, lo - (lo % CACHE_BLOCK_ROWS) + CACHE_BLOCK_ROWS);
              cache.read(lo, end, b);
              lo = end;
              applyScale(b, factors);
              yield b;
            }
            cache.close();
            cache = undefined;
            continue;
          }
          bufs ??= [batch(window), batch(window)];
          const pair = bufs;
          conn ??= await (await db()).connect();
          reader = new PartitionWindowReader(conn, file, kind, window);
          const r = reader;
          let [lo, hi] = whole ? [0, part.rows] : await r.posRange(from, to);
          if (catalog.replayCache && lo === 0 && hi === part.rows) {
            writer = ColumnCacheWriter.create(catalog.cachePath(part), part.rows, fields);
          }
          const next = (): Promise<[EventBatch, number]> | null => {
            if (lo >= hi) return null;
            const end = Math.min(hi, (Math.floor(lo / window) + 1) * window);
            const b = pair[flip]!;
            flip ^= 1;
            const start = lo;
            lo = end;
            return r.read(start, end, b).then((): [EventBatch, number] => [b, start]);
          };
          pending = next();
          while (pending !== null) {
            const [b, start] = await pending;
            pending = next();
            writer?.write(start, b.length, b);
            applyScale(b, factors);
            yield b;
          }
          writer?.close();
          writer = null;
          r.close();
          reader = null;
        }
      } finally {
        // Stopped early: let the query in flight finish before its connection goes; drop a partial cache.
        if (pending !== null) await pending.catch(() => undefined);
        writer?.close();
        cache?.close();
        reader?.close();
        conn?.closeSync();
      }
    },
  };
}

function applyScale(b: EventBatch, factors: readonly [number, number][]): void {
  for (const [field, k] of factors) {
    const col = fieldColumn(b, field);
    for (let i = 0, n = b.length; i < n; i++) col[i]! *= k;
  }
}

/** The finest step both steps are whole multiples of: "0.01" and "0.025" -> "0.005". */
export function gcdStep(a: string, b: string): string {
  const x = parseStep(a);
  const y = parseStep(b);
  const scale = Math.max(x.scale, y.scale);
  let u = x.unitsBig * 10n ** BigInt(scale - x.scale);
  let v = y.unitsBig * 10n ** BigInt(scale - y.scale);
  while (v !== 0n) [u, v] = [v, u % v];
  const digits = u.toString().padStart(scale + 1, '0');
  return parseStep(scale === 0 ? digits : `${digits.slice(0, -scale)}.${digits.slice(-scale)}`).text;
}

/** How many `fine` steps make one `coarse` step; NaN when `coarse` is not a whole multiple of `fine`. */
export function stepRatio(coarse: string, fine: string): number {
  const c = parseStep(coarse);
  const f = parseStep(fine);
  const scale = Math.max(c.scale, f.scale);
  const cu = c.unitsBig * 10n ** BigInt(scale - c.scale);
  const fu = f.unitsBig * 10n ** BigInt(scale - f.scale);
  return cu % fu === 0n ? Number(cu / fu) : Number.NaN;
}

/** Factors from a file's stored steps to the instrument's; throws when the file's steps are not multiples. */
function stepScale(p: PartRecord, inst: Instrument): StepScale {
  const price = stepRatio(p.tickSize, inst.tickSize.text);
  const size = stepRatio(p.lotSize, inst.lotSize.text);
  if (!Number.isSafeInteger(price) || !Number.isSafeInteger(size)) {
    throw new Bot4Error(
      ErrorCode.INVALID_ARGUMENT,
      `catalog file ${p.path} stores ${p.instrument} in tick ${p.tickSize} / lot ${p.lotSize}, which ticks of ` +
        `${inst.tickSize.text} / lots of ${inst.lotSize.text} (the registry's ${inst.key}) cannot express exactly`,
      { file: p.path, instrument: p.instrument },
    );
  }
  return { price, size };
}

function emptyManifest(): Manifest {
  return { version: CATALOG_VERSION, nextImportId: 1, instruments: [], imports: [] };
}

function readManifest(dir: string): Manifest | undefined {
  const path = join(dir, MANIFEST);
  if (!existsSync(path)) return undefined;
  let m: Manifest;
  try {
    m = JSON.parse(readFileSync(path, 'utf8')) as Manifest;
  } catch (e) {
    throw new Bot4Error(
      ErrorCode.DATA_MALFORMED,
      `catalog manifest ${path} is not valid JSON: ${(e as Error).message}`,
      {
        file: path,
      },
    );
  }
  if (m.version !== CATALOG_VERSION || !Array.isArray(m.imports) || !Array.isArray(m.instruments)) {
    throw new Bot4Error(
      ErrorCode.DATA_MALFORMED,
      `catalog manifest ${path} has version ${String(m.version)}; this Bot4 reads version ${CATALOG_VERSION}`,
      { file: path },
    );
  }
  return m;
}

/** Write-then-rename: a crash leaves the old manifest or the new one, never half of one. */
function writeManifest(dir: string, m: Manifest): void {
  const path = join(dir, MANIFEST);
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(m, null, 1)}\n`);
  renameSync(tmp, path);
}

function reportOf(r: ImportRecord): ValidationReport {
  const rep: ValidationReport = {
    file: r.file,
    rows: r.rows,
    records: { ...r.records },
    // Manifests written before a problem kind existed lack its count: zero.
    problems: { ...emptyReport(r.file).problems, ...r.problems },
    dropped: { ...(r.dropped ?? {}) },
    examples: r.examples,
    instruments: [...r.instruments],
    firstTs: r.firstTs ?? Number.POSITIVE_INFINITY,
    lastTs: r.lastTs ?? Number.NEGATIVE_INFINITY,
    notes: [...r.notes],
  };
  return rep;
}

async function sha256File(file: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) h.update(chunk as Buffer);
  return h.digest('hex');
}

function lockHolder(path: string): number | undefined {
  try {
    const pid = (JSON.parse(readFileSync(path, 'utf8')) as { pid?: unknown }).pid;
    return typeof pid === 'number' ? pid : undefined;
  } catch {
    return undefined;
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as { code?: string }).code === 'EPERM';
  }
}

function lockError(path: string, cause: unknown, pid?: number): Bot4Error {
  return new Bot4Error(
    ErrorCode.INVALID_ARGUMENT,
    pid === undefined
      ? `cannot lock catalog (${path}): ${String(cause)}`
      : `catalog is busy: process ${pid} is importing into it (${path}); wait for it to finish`,
    { file: path, pid },
    { cause },
  );
}
