// `bot4 ta <indicator>`: runs one registry indicator over a candle file and writes a CSV with one row per bar
// (timestamp, close, outputs; empty cells while warming up). Candles come from the data loaders (any detected
// OHLCV format, prices converted from ticks to doubles); a plain header CSV is read directly when none claims it.

import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import type { Command } from 'commander';
import { Bot4Error, ErrorCode, isBot4Error } from '../core/errors.ts';
import type { InstrumentId } from '../core/units.ts';
import type { Loader } from '../data/loader.ts';
import { loadNotes } from '../data/validate.ts';
import type { IndicatorSpec, InputName, ParamValue } from '../indicators/index.ts';
import type { Step } from '../model/decimal.ts';
import { InstrumentRegistry } from '../model/instrument.ts';
import { RecordKind } from '../model/market-data.ts';
import { printNotes, STRICT_OPTION } from './load-notes.ts';
import { checkInputFiles, checkOutputFile } from './outputs.ts';

/**
 * The indicator modules (a quarter of the CLI's code): imported when `ta` runs, so `bot4 --help` and every
 * other command start without compiling them.
 */
type Indicators = typeof import('../indicators/index.ts');

/** Candles as doubles, oldest first; `time` is what the timestamp column prints. */
export interface Candles {
  time: string[];
  open: Float64Array;
  high: Float64Array;
  low: Float64Array;
  close: Float64Array;
  volume: Float64Array;
}

/** Grows column arrays while reading, then trims them to the row count. */
class CandleBuilder {
  time: string[] = [];
  private cols: Float64Array[] = [0, 1, 2, 3, 4].map(() => new Float64Array(1024));
  private n = 0;

  push(time: string, o: number, h: number, l: number, c: number, v: number): void {
    if (this.n === this.cols[0]!.length) {
      this.cols = this.cols.map((a) => {
        const b = new Float64Array(a.length * 2);
        b.set(a);
        return b;
      });
    }
    const [co, ch, cl, cc, cv] = this.cols as [
      Float64Array,
      Float64Array,
      Float64Array,
      Float64Array,
      Float64Array,
    ];
    co[this.n] = o;
    ch[this.n] = h;
    cl[this.n] = l;
    cc[this.n] = c;
    cv[this.n] = v;
    this.time.push(time);
    this.n++;
  }

  build(): Candles {
    const [o, h, l, c, v] = this.cols.map((a) => a.slice(0, this.n)) as [
      Float64Array,
      Float64Array,
      Float64Array,
      Float64Array,
      Float64Array,
    ];
    return { time: this.time, open: o, high: h, low: l, close: c, volume: v };
  }
}

/** ticks * 10^-scale * units: exact integer product, one correctly rounded division. */
function stepsToDouble(steps: number, step: Step): number {
  return (steps * step.units) / 10 ** step.scale;
}

/** Loads candles with the data loaders; undefined when no loader recognises the file. */
async function loadWithLoaders(
  file: string,
  strict: boolean,
): Promise<{ candles: Candles; notes: string[] } | undefined> {
  // The loaders (every format's parser) load when a file is read, not at bot4 start-up.
  const [{ emptyReport }, { detectLoader }] = await Promise.all([
    import('../data/loader.ts'),
    import('../data/loaders/index.ts'),
  ]);
  let loader: Loader;
  try {
    loader = detectLoader(file);
  } catch (e) {
    if (isBot4Error(e) && e.code === ErrorCode.DATA_MALFORMED) return undefined;
    throw e;
  }
  const instruments = new InstrumentRegistry();
  const report = emptyReport(file);
  const out = new CandleBuilder();
  let instrument = -1;
  for await (const batch of loader.load(file, { instruments, strict }, report)) {
    for (let i = 0; i < batch.length; i++) {
      if (batch.kind[i] !== RecordKind.BAR) continue;
      const id = batch.instrument[i]!;
      if (instrument >= 0 && id !== instrument) {
        throw new Bot4Error(
          ErrorCode.DATA_MALFORMED,
          `${file}: holds candles of several instruments; pass one`,
          {
            file,
          },
        );
      }
      instrument = id;
      const ins = instruments.get(id as InstrumentId)!;
      const t = ins.tickSize;
      // BAR rows carry the open time in `seq` (tsEvent is the close): print the open, as candle files do.
      out.push(
        new Date(batch.seq[i]! / 1000).toISOString(),
        stepsToDouble(batch.a[i]!, t),
        stepsToDouble(batch.b[i]!, t),
        stepsToDouble(batch.c[i]!, t),
        stepsToDouble(batch.d[i]!, t),
        stepsToDouble(batch.e[i]!, ins.lotSize),
      );
    }
  }
  const candles = out.build();
  if (candles.close.length === 0) {
    throw new Bot4Error(
      ErrorCode.DATA_MISSING,
      `${file}: the ${loader.name} loader found no candles (it reads ${Object.keys(report.records).join(', ') || 'nothing'})`,
      { file, loader: loader.name },
    );
  }
  const notes = loadNotes(report);
  return { candles, notes };
}

const TIME_COLUMNS = ['timestamp', 'date', 'datetime', 'time', 'open_time'];

/**
 * A header CSV with a time column (timestamp, date, datetime, time or open_time) and open/high/low/close[/volume]
 * columns, any case and order; extra columns and empty trailing cells are ignored. Times are printed as given.
 */
export function readHeaderCsv(file: string, text: string): Candles {
  const lines = text.split(/\r?\n/);
  let h = 0;
  while (h < lines.length && lines[h]!.trim() === '') h++;
  const header = (lines[h] ?? '').split(',').map((c) => c.trim().toLowerCase());
  const col = (name: string): number => header.indexOf(name);
  const timeCol = TIME_COLUMNS.map(col).find((k) => k >= 0) ?? -1;
  const [o, hi, lo, c, v] = ['open', 'high', 'low', 'close', 'volume'].map(col) as [
    number,
    number,
    number,
    number,
    number,
  ];
  if (timeCol < 0 || hi < 0 || lo < 0 || c < 0) {
    throw new Bot4Error(
      ErrorCode.DATA_MALFORMED,
      `${file}: not a recognised candle file: no data loader claims it, and as a header CSV it needs a time ` +
        `column (${TIME_COLUMNS.join('/')}) and high, low, close columns (found: ${header.join(', ')})`,
      { file },
    );
  }
  const out = new CandleBuilder();
  for (let i = h + 1; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.trim() === '') continue;
    const cells = line.split(',');
    const cell = (k: number): number => {
      const s = k < 0 ? '' : (cells[k] ?? '').trim();
      const x = s === '' ? Number.NaN : Number(s);
      return x;
    };
    const close = cell(c);
    const high = cell(hi);
    const low = cell(lo);
    if (![close, high, low].every(Number.isFinite)) {
      throw new Bot4Error(
        ErrorCode.DATA_MALFORMED,
        `${file}:${i + 1}: high, low and close must be numbers, got '${line}'`,
        { file, line: i + 1 },
      );
    }
    const open = cell(o);
    const volume = cell(v);
    out.push(
      (cells[timeCol] ?? '').trim(),
      Number.isFinite(open) ? open : close,
      high,
      low,
      close,
      Number.isFinite(volume) ? volume : 0,
    );
  }
  return out.build();
}

export async function loadCandles(
  file: string,
  strict = false,
): Promise<{ candles: Candles; notes: string[] }> {
  let text: string;
  const viaLoaders = await loadWithLoaders(file, strict);
  if (viaLoaders !== undefined) return viaLoaders;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new Bot4Error(ErrorCode.DATA_MISSING, `cannot read ${file}: ${(e as Error).message}`, { file });
  }
  return { candles: readHeaderCsv(file, text), notes: [] };
}

/** Parses repeated `--param key=value`. */
export function parseParams(pairs: readonly string[]): Record<string, ParamValue> {
  const out: Record<string, ParamValue> = {};
  for (const p of pairs) {
    const eq = p.indexOf('=');
    if (eq <= 0) {
      throw new Bot4Error(
        ErrorCode.INVALID_ARGUMENT,
        `--param '${p}' must look like key=value, e.g. period=14`,
        {
          param: p,
        },
      );
    }
    out[p.slice(0, eq).trim()] = p.slice(eq + 1).trim();
  }
  return out;
}

/** Candle columns for a spec's inputs; two-series indicators take x/asset from --input and y/market from --input2. */
function inputsFor(ind: Indicators, spec: IndicatorSpec, a: Candles, b: Candles | undefined): Float64Array[] {
  return spec.inputs.map((name: InputName) => {
    if ((ind.CANDLE_INPUTS as readonly string[]).includes(name))
      return a[name as keyof Omit<Candles, 'time'>];
    if (name === 'x' || name === 'asset') return a.close;
    if ((name === 'y' || name === 'market') && b !== undefined) return b.close;
    throw new Bot4Error(
      ErrorCode.INVALID_ARGUMENT,
      `${spec.name} reads ${spec.inputs.join(', ')}, which a candle file does not hold; ` +
        'use it through the streaming API (src/indicators) on book or trade data',
      { indicator: spec.name },
    );
  });
}

/** Keeps the bars whose time appears in both files, in the first file's order. */
function joinOnTime(a: Candles, b: Candles): [Candles, Candles] {
  const index = new Map<string, number>();
  for (let i = 0; i < b.time.length; i++) index.set(b.time[i]!, i);
  const keepA: number[] = [];
  const keepB: number[] = [];
  a.time.forEach((t, i) => {
    const j = index.get(t);
    if (j !== undefined) {
      keepA.push(i);
      keepB.push(j);
    }
  });
  const pick = (c: Candles, rows: number[]): Candles => ({
    time: rows.map((i) => c.time[i]!),
    open: Float64Array.from(rows, (i) => c.open[i]!),
    high: Float64Array.from(rows, (i) => c.high[i]!),
    low: Float64Array.from(rows, (i) => c.low[i]!),
    close: Float64Array.from(rows, (i) => c.close[i]!),
    volume: Float64Array.from(rows, (i) => c.volume[i]!),
  });
  return [pick(a, keepA), pick(b, keepB)];
}

/** Shortest round-trip text; empty while warming up. */
function cell(x: number): string {
  return Number.isNaN(x) ? '' : String(x);
}

const pause = new Int32Array(new SharedArrayBuffer(4));

/**
 * Writes all of `text`. Standard output may be a non-blocking pipe: a full pipe answers EAGAIN and a write may
 * take part of the bytes, so wait a millisecond for the reader and go on from where the write stopped.
 */
function writeAllSync(fd: number, text: string): void {
  const bytes = Buffer.from(text);
  for (let off = 0; off < bytes.length; ) {
    try {
      off += writeSync(fd, bytes, off);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
      Atomics.wait(pause, 0, 0, 1);
    }
  }
}

/** Writes the CSV in chunks so a long file never becomes one giant string. */
function writeCsv(fd: number, spec: IndicatorSpec, candles: Candles, outs: Float64Array[]): void {
  const rows: string[] = [`timestamp,close,${spec.outputs.join(',')}`];
  const flush = () => {
    writeAllSync(fd, `${rows.join('\n')}\n`);
    rows.length = 0;
  };
  for (let i = 0; i < candles.close.length; i++) {
    let line = `${candles.time[i]!},${cell(candles.close[i]!)}`;
    for (const o of outs) line += `,${cell(o[i]!)}`;
    rows.push(line);
    if (rows.length >= 8192) flush();
  }
  if (rows.length > 0) flush();
}

function listIndicators(ind: Indicators): string {
  const lines = ['indicators (bot4 ta <name> --param key=value ... --input <file>):'];
  for (const name of ind.INDICATOR_NAMES) {
    const s = ind.INDICATORS[name]!;
    lines.push(
      `  ${name.padEnd(11)} ${s.title}`,
      `  ${''.padEnd(11)} inputs: ${s.inputs.join(', ')}; outputs: ${s.outputs.join(', ')}`,
      `  ${''.padEnd(11)} params: ${ind.describeParams(s)}`,
      `  ${''.padEnd(11)} ${s.convention}`,
    );
  }
  return `${lines.join('\n')}\n`;
}

export function registerTaCommand(program: Command): void {
  program
    .command('ta')
    .description(
      'compute a technical indicator over a candle file: one CSV row per bar (timestamp, close, outputs)',
    )
    .argument('<indicator>', `indicator name, or 'list' for every indicator with its parameters`)
    .option('-i, --input <file>', 'candle file: any OHLCV format the data loaders detect, or a header CSV')
    .option(
      '-p, --param <key=value>',
      'indicator parameter (repeatable), e.g. --param period=14',
      (v: string, acc: string[]) => [...acc, v],
      [] as string[],
    )
    .option('-o, --out <file>', 'write the CSV to FILE instead of standard output')
    .option(
      '--input2 <file>',
      'second candle file for two-series indicators (correl y, beta market), joined on bar time',
    )
    .option(...STRICT_OPTION)
    .addHelpText(
      'after',
      '\nRows the loader skips or repairs are counted on standard error (first file:line and the reason).\n' +
        '\nExamples:\n  bot4 ta list\n  bot4 ta rsi --param period=14 --input btcusdt_1h.csv --out rsi.csv\n' +
        '  bot4 ta macd --param fast=12 --param slow=26 --param signal=9 --input ETH_BTC-5m.feather\n',
    )
    .action(
      async (
        name: string,
        opts: { input?: string; param: string[]; out?: string; input2?: string; strict?: boolean },
      ) => {
        const ind = await import('../indicators/index.ts');
        if (name === 'list') {
          process.stdout.write(listIndicators(ind));
          return;
        }
        const spec = ind.getIndicator(name);
        const params = parseParams(opts.param);
        // Validate the parameters before reading any file, so a typo fails fast (exit 2, valid names listed).
        spec.create(params);
        if (opts.input === undefined) {
          throw new Bot4Error(ErrorCode.INVALID_ARGUMENT, `ta ${name}: --input <candle file> is required`);
        }
        const twoSeries = spec.inputs.some((k) => k === 'y' || k === 'market');
        if (twoSeries && opts.input2 === undefined) {
          throw new Bot4Error(
            ErrorCode.INVALID_ARGUMENT,
            `ta ${name}: reads two series (${spec.inputs.join(', ')}); pass the second candle file with --input2`,
          );
        }
        checkInputFiles(opts.input2 === undefined ? [opts.input] : [opts.input, opts.input2], '--input');
        if (opts.out !== undefined) checkOutputFile(opts.out, '--out');
        const strict = opts.strict === true;
        let { candles, notes } = await loadCandles(opts.input, strict);
        let second: Candles | undefined;
        if (twoSeries) {
          const b = await loadCandles(opts.input2!, strict);
          notes = [...notes, ...b.notes];
          [candles, second] = joinOnTime(candles, b.candles);
        }
        const n = candles.close.length;
        const outs = spec.outputs.map(() => new Float64Array(n));
        spec.batch(inputsFor(ind, spec, candles, second), outs, params);
        printNotes('ta', notes);
        if (opts.out === undefined) {
          writeCsv(1, spec, candles, outs);
          return;
        }
        const fd = openSync(opts.out, 'w');
        try {
          writeCsv(fd, spec, candles, outs);
        } finally {
          closeSync(fd);
        }
        process.stderr.write(`bot4 ta: ${name} over ${n} bars written to ${opts.out}\n`);
      },
    );
}
