// `bot4 data ...`: import files into the embedded catalog (progress on stderr, a validation summary on stdout),
// list and inspect what it holds, download candles and trades from Binance. Tables go to stdout, progress and
// diagnostics to stderr; a 'fail' policy hit ends the import with exit 2 naming file:line. Times: µs inside.

import { basename, dirname, join } from 'node:path';
import type { Command } from 'commander';
import { monoMillis, wallMicros } from '../core/clock.ts';
import type { Config } from '../core/config.ts';
import { Bot4Error, ErrorCode } from '../core/errors.ts';
import { isoMicros, parseRangeOptions, resolveLast } from '../core/time-text.ts';
import type { ImportResult, InspectKind, InspectResult, ListingRow } from '../data/catalog.ts';
import type { DownloadMarket, DownloadType } from '../data/download.ts';
import { type LoadProgress, type Policy, Problem } from '../data/loader.ts';
import { loadNotes } from '../data/validate.ts';
import { InstrumentKind, instrumentKindName } from '../model/instrument.ts';
import { printNotes, STRICT_OPTION } from './load-notes.ts';
import { TIMERANGE_OPTION } from './run-options.ts';

const PROBLEMS = Object.values(Problem);
/** Kline intervals offered (download.ts checks them); listed here so --help needs no DuckDB or loaders. */
const INTERVALS = '1s, 1m, 3m, 5m, 15m, 30m, 1h, 2h, 4h, 6h, 8h, 12h, 1d, 3d, 1w';

// The catalog (DuckDB's native module) and the loaders load only when a data command runs: `bot4 --help`
// and the other commands start without them.
const catalogModule = () => import('../data/catalog.ts');
const loadersModule = () => import('../data/loaders/index.ts');

const POLICIES: readonly Policy[] = ['fail', 'skip', 'repair'];
/** Short column titles for the problems in the import summary. */
const PROBLEM_TITLES: Readonly<Record<Problem, string>> = {
  malformed_row: 'malformed',
  out_of_order: 'order',
  duplicate_trade: 'dup',
  crossed_book: 'crossed',
  sequence_gap: 'gap',
  non_positive: 'nonpos',
  inexact_volume: 'volume',
};

/** "--policy out_of_order=fail" (repeatable, or comma-separated; "all=skip" sets every problem). */
export function parsePolicies(items: readonly string[]): Partial<Record<Problem, Policy>> {
  const out: Partial<Record<Problem, Policy>> = {};
  for (const item of items.flatMap((s) => s.split(','))) {
    const [name = '', policy = ''] = item.split('=', 2).map((s) => s.trim());
    if (!POLICIES.includes(policy as Policy)) {
      throw new Bot4Error(
        ErrorCode.INVALID_ARGUMENT,
        `--policy ${JSON.stringify(item)}: policy must be one of ${POLICIES.join(', ')} (e.g. out_of_order=fail)`,
        { option: '--policy', value: item },
      );
    }
    if (name === 'all') {
      for (const p of PROBLEMS) out[p] = policy as Policy;
    } else if (PROBLEMS.includes(name as Problem)) {
      out[name as Problem] = policy as Policy;
    } else {
      throw new Bot4Error(
        ErrorCode.INVALID_ARGUMENT,
        `--policy ${JSON.stringify(item)}: problem must be one of ${PROBLEMS.join(', ')}, or all`,
        { option: '--policy', value: item },
      );
    }
  }
  return out;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** Left-aligned text columns, right-aligned numbers; two spaces between columns. */
export function table(header: string[], rows: (string | number)[][]): string[] {
  const cells = rows.map((r) => r.map((c) => String(c)));
  const numeric = header.map((_, i) => rows.length > 0 && rows.every((r) => typeof r[i] === 'number'));
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((r) => r[i]!.length)));
  const line = (r: string[]) =>
    r
      .map((c, i) => (numeric[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)];
}

function mb(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}

function duration(us: number): string {
  if (us < 1000) return `${us} µs`;
  if (us < 1_000_000) return `${(us / 1000).toFixed(1)} ms`;
  if (us < 120_000_000) return `${(us / 1e6).toFixed(2)} s`;
  if (us < 7_200_000_000) return `${(us / 60e6).toFixed(1)} min`;
  if (us < 172_800_000_000) return `${(us / 3600e6).toFixed(1)} h`;
  return `${(us / 86_400e6).toFixed(1)} days`;
}

/** Progress on stderr: rewritten in place on a terminal, one line a second otherwise. */
class Progress {
  private last = 0;
  private readonly tty = process.stderr.isTTY === true;
  private readonly started = monoMillis();
  private shown = false;

  update(text: (elapsedS: number) => string): void {
    const now = monoMillis();
    if (now - this.last < (this.tty ? 200 : 1000)) return;
    this.last = now;
    const line = text((now - this.started) / 1000);
    if (this.tty) process.stderr.write(`\r\x1b[2K${line}`);
    else process.stderr.write(`${line}\n`);
    this.shown = true;
  }

  done(): void {
    if (this.tty && this.shown) process.stderr.write('\r\x1b[2K');
  }
}

function importProgress(file: string): { onProgress: (p: LoadProgress) => void; progress: Progress } {
  const progress = new Progress();
  return {
    progress,
    onProgress: (p) =>
      progress.update((s) => {
        const total = p.bytesTotal > 0 ? `/${mb(p.bytesTotal)}` : '';
        return `importing ${basename(file)}: ${mb(p.bytesRead)}${total}, ${p.rows} rows, ${Math.round(p.rows / Math.max(s, 1e-3))} rows/s`;
      }),
  };
}

function summary(results: ImportResult[]): string[] {
  const header = [
    'file',
    'loader',
    'status',
    'rows',
    'records',
    ...PROBLEMS.map((p) => PROBLEM_TITLES[p]),
    'from',
    'to',
    'events/s',
  ];
  return table(
    header,
    results.map((r) => {
      const rec = r.record;
      const records = Object.entries(rec.records)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ');
      const events = Object.values(rec.records).reduce((a, b) => a + b, 0);
      const rate =
        r.status === 'skipped' || rec.seconds <= 0 ? '-' : String(Math.round(events / rec.seconds));
      return [
        basename(rec.file),
        rec.loader,
        r.status === 'skipped' ? `skipped (same as #${rec.id})` : `${r.status} #${rec.id}`,
        rec.rows,
        records || '-',
        ...PROBLEMS.map((p) => rec.problems[p] ?? 0),
        isoMicros(rec.firstTs),
        isoMicros(rec.lastTs),
        rate,
      ];
    }),
  );
}

function printInspect(res: InspectResult): void {
  const s = res.spec;
  const out = (line = '') => process.stdout.write(`${line}\n`);
  out(
    `${res.instrument}  ${instrumentKindName(s.kind as InstrumentKind)} ${s.base}/${s.quote}, tick ${res.tickSize}, lot ${res.lotSize}` +
      (s.kind === InstrumentKind.SPOT ? '' : `, settles in ${s.settlement}`),
  );
  const kinds = res.kinds.filter((k) => k.rows > 0);
  if (kinds.length === 0) out('no rows in the selected range');
  for (const k of kinds) printKind(k, out);
  out();
  out('imports:');
  for (const imp of res.imports) {
    const problems = Object.entries(imp.problems)
      .filter(([, v]) => v > 0)
      .map(([p, v]) => `${p} ${v}`)
      .join(', ');
    out(
      `  #${imp.id} ${imp.file} (${imp.loader}, ${imp.importedAt}): ${imp.rows} rows; problems: ${problems || 'none'}`,
    );
    for (const [p, examples] of Object.entries(imp.examples)) {
      for (const e of examples ?? []) out(`      ${p} at line ${e.line}: ${e.message}`);
    }
    for (const n of imp.notes) out(`      note: ${n}`);
  }
}

function printKind(k: InspectKind, out: (line?: string) => void): void {
  out();
  out(`${k.kind}: ${k.rows} rows in ${k.files} file(s), ${isoMicros(k.firstTs)} -> ${isoMicros(k.lastTs)}`);
  if (k.priceMin !== null) out(`  price ${k.priceMin} .. ${k.priceMax}`);
  if (k.medianGapMicros !== null) {
    const largest = k.largestGaps
      .map((g) => `${duration(g.gapMicros)} after ${isoMicros(g.afterTs)}`)
      .join('; ');
    out(`  time between events: median ${duration(k.medianGapMicros)}; gaps over 1 min: ${k.gapsOverMinute}`);
    out(`  largest gaps: ${largest || '-'}`);
  }
  for (const [title, rows] of [
    ['first', k.first],
    ['last', k.last],
  ] as const) {
    if (rows.length === 0) continue;
    out(`  ${title} rows:`);
    const cols = Object.keys(rows[0]!);
    for (const line of table(
      cols,
      rows.map((r) => cols.map((c) => r[c] ?? '')),
    ))
      out(`    ${line}`);
  }
}

function catalogDir(opts: { catalog?: string }, config: () => Config): string {
  return opts.catalog ?? config().data.catalogDir;
}

const CATALOG_OPTION = [
  '--catalog <dir>',
  'catalog directory (default: config data.catalogDir, .bot4/catalog)',
] as const;

/** Adds `bot4 data import|ls|inspect|download` to the program. */
export function registerDataCommands(program: Command, config: () => Config): void {
  const data = program
    .command('data')
    .description('market data: import files into the embedded catalog, list, inspect, download from Binance');

  data
    .command('import')
    .description(
      'import data files (Binance captures, trade/quote/OHLCV CSV, JSON, Parquet, Feather) into the catalog',
    )
    .argument('<files...>', 'files to import (the loader is detected from the name and first lines)')
    .option(...CATALOG_OPTION)
    .option('--venue <venue>', 'venue name when the file does not say (e.g. BINANCE_USDM)')
    .option('--symbol <symbol>', 'symbol when the file does not say (e.g. BTCUSDT)')
    .option('--loader <name>', 'use this loader instead of detecting one')
    .option(
      '--policy <problem=policy>',
      `what to do on a problem: fail, skip or repair (repeatable; problems: ${PROBLEMS.join(', ')}, all)`,
      collect,
      [],
    )
    .option('--force', 're-import files whose content is already in the catalog')
    .option(...STRICT_OPTION)
    .option('--quiet', 'no progress on stderr')
    .addHelpText(
      'after',
      `
Re-importing a file whose content (SHA-256) is already in the catalog does nothing; a file at the same path
with new content replaces its earlier import. A 'fail' policy (or --strict, for rows a policy would skip)
stops at the first problem with exit code 2, storing nothing. Rows skipped or repaired are counted in the
summary and named on standard error (first file:line and the reason).

Examples:
  bot4 data import ../shared/data/hftbacktest/usdm/btcusdt_20240808.gz
  bot4 data import data/*.csv --venue BINANCE --symbol ETHUSDT --policy out_of_order=fail
  bot4 data import trades.json.gz --policy all=skip --catalog /tmp/catalog
`,
    )
    .action(
      async (
        files: string[],
        opts: {
          catalog?: string;
          venue?: string;
          symbol?: string;
          loader?: string;
          policy: string[];
          force?: boolean;
          strict?: boolean;
          quiet?: boolean;
        },
      ) => {
        const policies = parsePolicies(opts.policy);
        const { Catalog } = await catalogModule();
        const loader =
          opts.loader === undefined ? undefined : (await loadersModule()).loaderByName(opts.loader);
        const catalog = Catalog.open(catalogDir(opts, config));
        const results: ImportResult[] = [];
        try {
          for (const file of files) {
            const { onProgress, progress } = importProgress(file);
            try {
              results.push(
                await catalog.importFile(file, {
                  policies,
                  ...(loader === undefined ? {} : { loader }),
                  ...(opts.venue === undefined ? {} : { venue: opts.venue }),
                  ...(opts.symbol === undefined ? {} : { symbol: opts.symbol }),
                  ...(opts.force === true ? { force: true } : {}),
                  ...(opts.strict === true ? { strict: true } : {}),
                  ...(opts.quiet === true ? {} : { onProgress }),
                }),
              );
            } finally {
              progress.done();
            }
            const r = results[results.length - 1]!;
            // Skipped and repaired rows are said even with --quiet: nothing a policy drops goes unsaid.
            if (r.status !== 'skipped') printNotes('data import', loadNotes(r.report));
            if (opts.quiet !== true && r.status !== 'skipped') {
              const events = Object.values(r.record.records).reduce((a, b) => a + b, 0);
              process.stderr.write(
                `imported ${file}: ${r.record.rows} rows, ${events} events in ${r.record.seconds.toFixed(2)} s ` +
                  `(${Math.round(events / Math.max(r.record.seconds, 1e-6))} events/s) into ${r.record.parts.length} file(s)\n`,
              );
            }
          }
        } finally {
          if (results.length > 0) for (const line of summary(results)) process.stdout.write(`${line}\n`);
          catalog.close();
        }
      },
    );

  data
    .command('ls')
    .description('list the instruments, record kinds, time ranges and row counts in the catalog')
    .option(...CATALOG_OPTION)
    .option('--json', 'print JSON instead of a table')
    .addHelpText('after', '\nExamples:\n  bot4 data ls\n  bot4 data ls --catalog /tmp/catalog --json\n')
    .action(async (opts: { catalog?: string; json?: boolean }) => {
      const { Catalog } = await catalogModule();
      const catalog = Catalog.open(catalogDir(opts, config), { mustExist: true });
      const rows = catalog.list();
      if (opts.json === true) {
        process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
        return;
      }
      const lines = table(
        ['instrument', 'kind', 'rows', 'from', 'to', 'files', 'size', 'imports'],
        rows.map((r: ListingRow) => [
          r.instrument,
          r.kind,
          r.rows,
          isoMicros(r.firstTs),
          isoMicros(r.lastTs),
          r.files,
          mb(r.bytes),
          r.imports.map((i) => `#${i}`).join(' '),
        ]),
      );
      for (const line of lines) process.stdout.write(`${line}\n`);
      const total = rows.reduce((s, r) => s + r.rows, 0);
      process.stdout.write(
        `${catalog.instrumentSpecs().length} instrument(s), ${catalog.imports().length} import(s), ${total} rows in ${catalog.dir}\n`,
      );
    });

  data
    .command('inspect')
    .description('first/last rows, price range, time gaps and import reports of one instrument')
    .argument('<instrument>', 'SYMBOL.VENUE, or SYMBOL when only one venue has it')
    .option(...CATALOG_OPTION)
    .option('--kind <kind>', 'only this record kind: quote, trade, delta, bar, mark, funding')
    .option('--from <time>', 'from this time (ISO UTC or epoch s/ms/µs)')
    .option('--to <time>', 'up to this time (exclusive)')
    .option(...TIMERANGE_OPTION)
    .option('--rows <n>', 'rows shown from each end', '3')
    .option('--json', 'print JSON')
    .addHelpText(
      'after',
      '\nExamples:\n  bot4 data inspect BTCUSDT.BINANCE_USDM\n  bot4 data inspect BTCUSDT --kind trade --from 2024-08-08T23:58:00Z --to 2024-08-09\n',
    )
    .action(
      async (
        instrument: string,
        opts: {
          catalog?: string;
          kind?: string;
          from?: string;
          to?: string;
          timerange?: string;
          rows: string;
          json?: boolean;
        },
      ) => {
        const { from, to } = parseRangeOptions(opts);
        const rows = Number(opts.rows);
        if (!Number.isInteger(rows) || rows < 0 || rows > 1000) {
          throw new Bot4Error(ErrorCode.INVALID_ARGUMENT, `--rows ${opts.rows} must be an integer 0..1000`);
        }
        const { Catalog, kindByName } = await catalogModule();
        const catalog = Catalog.open(catalogDir(opts, config), { mustExist: true });
        try {
          const res = await catalog.inspect(instrument, {
            rows,
            ...(opts.kind === undefined ? {} : { kind: kindByName(opts.kind) }),
            ...(from === undefined ? {} : { from }),
            ...(to === undefined ? {} : { to }),
          });
          if (opts.json === true) process.stdout.write(`${JSON.stringify(res, null, 2)}\n`);
          else printInspect(res);
        } finally {
          catalog.close();
        }
      },
    );

  data
    .command('download')
    .description('download klines or aggregate trades from Binance public REST (spot, USD-M) to CSV')
    .argument('<symbol>', 'Binance symbol, e.g. BTCUSDT')
    .option('--market <market>', 'spot or usdm', 'spot')
    .option('--type <type>', 'klines or trades (aggregate trades)', 'klines')
    .option('--interval <interval>', `kline interval: ${INTERVALS}`, '1m')
    .option('--from <time>', 'start time (ISO UTC or epoch s/ms/µs); or --timerange FROM-TO, or --last')
    .option('--to <time>', 'end time, exclusive (default: now)')
    .option(...TIMERANGE_OPTION)
    .option('--last <duration>', 'the last stretch before --to (default: now): 30d, 12h, 2w')
    .option('--out <dir>', 'output directory (default: downloads/ beside the catalog)')
    .option('--import', 'import the downloaded file into the catalog afterwards')
    .option('--retries <n>', 'attempts per request on network errors and HTTP 5xx', '6')
    .option(
      '--base-url <url>',
      'REST base URL (default https://api.binance.com, or https://fapi.binance.com for usdm)',
    )
    .option(...CATALOG_OPTION)
    .addHelpText(
      'after',
      `
Files are named <SYMBOL>-<interval>-<from>_<to>.csv (klines, data.binance.vision layout) or
<SYMBOL>-aggTrades-<from>_<to>.csv; running the same command again resumes after the last complete line.

Examples:
  bot4 data download BTCUSDT --from 2024-08-01 --to 2024-08-02 --interval 1m --import
  bot4 data download ETHUSDT --market usdm --type trades --from 2024-08-08T00:00:00Z --to 2024-08-08T01:00:00Z
`,
    )
    .action(
      async (
        symbol: string,
        opts: {
          market: string;
          type: string;
          interval: string;
          from?: string;
          to?: string;
          timerange?: string;
          last?: string;
          out?: string;
          import?: boolean;
          retries: string;
          baseUrl?: string;
          catalog?: string;
        },
      ) => {
        const retries = Number(opts.retries);
        if (!Number.isInteger(retries) || retries < 1) {
          throw new Bot4Error(
            ErrorCode.INVALID_ARGUMENT,
            `--retries ${opts.retries} must be an integer >= 1`,
          );
        }
        if (opts.market !== 'spot' && opts.market !== 'usdm') {
          throw new Bot4Error(ErrorCode.INVALID_ARGUMENT, `--market ${opts.market} must be spot or usdm`);
        }
        if (opts.type !== 'klines' && opts.type !== 'trades') {
          throw new Bot4Error(ErrorCode.INVALID_ARGUMENT, `--type ${opts.type} must be klines or trades`);
        }
        const spec = parseRangeOptions(opts);
        const range = resolveLast(spec, spec.to ?? wallMicros());
        if (range.from === undefined) {
          throw new Bot4Error(
            ErrorCode.INVALID_ARGUMENT,
            'data download needs a start: --from, --timerange FROM-[TO] or --last (e.g. --last 30d)',
          );
        }
        const dir = catalogDir(opts, config);
        const progress = new Progress();
        const { download } = await import('../data/download.ts');
        const res = await download({
          market: opts.market as DownloadMarket,
          type: opts.type as DownloadType,
          symbol: symbol.toUpperCase(),
          interval: opts.interval,
          from: range.from,
          to: range.to ?? wallMicros(),
          outDir: opts.out ?? join(dirname(dir), 'downloads'),
          maxRetries: retries,
          ...(opts.baseUrl === undefined ? {} : { baseUrl: opts.baseUrl.replace(/\/+$/, '') }),
          onProgress: (p) =>
            progress.update(
              (s) =>
                `downloading ${basename(p.file)}: ${p.rows} rows, ${p.requests} requests, at ${isoMicros(p.lastTs)} (${s.toFixed(0)} s)`,
            ),
        }).finally(() => progress.done());
        process.stdout.write(
          `${res.file}: ${res.rows} new rows (${isoMicros(res.firstTs)} -> ${isoMicros(res.lastTs)}), ` +
            `${res.requests} requests${res.resumedBytes > 0 ? `, resumed after ${res.resumedBytes} bytes` : ''}\n`,
        );
        if (opts.import === true) {
          const { Catalog } = await catalogModule();
          const { loaderByName } = await loadersModule();
          const catalog = Catalog.open(dir);
          try {
            const r = await catalog.importFile(res.file, {
              venue: res.venue,
              symbol: res.spec.symbol,
              instruments: [res.spec],
              loader: loaderByName(opts.type === 'klines' ? 'binance-klines-csv' : 'trades-csv'),
            });
            for (const line of summary([r])) process.stdout.write(`${line}\n`);
          } finally {
            catalog.close();
          }
        }
      },
    );
}
