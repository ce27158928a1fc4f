// `bot4 ta` run as a user would (a child process): candles through the data loaders and through the plain
// header-CSV reader, outputs checked against the indicators' own batch forms, and exit 2 with the valid names
// for an unknown indicator or parameter. Uses shared/data when present, else a CSV written here.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { present } from '../core/test-resources.ts';
import { atrBatch, INDICATORS, smaBatch } from '../indicators/index.ts';
import { runBot4 } from './cli.test-util.ts';
import { parseParams, readHeaderCsv } from './ta-command.ts';

const _root = fileURLToPath(new URL('../..', import.meta.url));
const shared = fileURLToPath(new URL('../../../shared/data/', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'bot4-ta-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function bot4(args: string[]) {
  return runBot4(['ta', ...args]);
}

/** The output CSV as columns of numbers (empty cells are NaN), plus the raw timestamps. */
function readOutput(text: string): { header: string[]; time: string[]; cols: Float64Array[] } {
  const lines = text.trim().split('\n');
  const header = lines[0]!.split(',');
  const rows = lines.slice(1).map((l) => l.split(','));
  const cols = header.map((_, k) =>
    Float64Array.from(rows, (r) => (r[k] === '' || r[k] === undefined ? Number.NaN : Number(r[k]))),
  );
  return { header, time: rows.map((r) => r[0]!), cols };
}

function expectSame(got: Float64Array, want: Float64Array): void {
  expect(got.length).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    if (Number.isNaN(want[i]!)) expect(got[i]).toBeNaN();
    else expect(got[i]).toBe(want[i]);
  }
}

describe('bot4 ta', () => {
  it('reads a header CSV directly when no loader claims it, one row per bar, warm-up cells empty', () => {
    const file = join(tmp, 'bars.csv');
    const close = [10, 11, 12, 11.5, 13, 12.25, 14, 15.5];
    const body = close.map((c, i) => `t${i},${c - 0.5},${c + 1},${c - 1},${c},${100 + i}`);
    writeFileSync(file, `Date,Open,High,Low,Close,Volume\n${body.join('\n')}\n`);
    const out = join(tmp, 'sma.csv');
    const r = bot4(['sma', '--param', 'period=3', '--input', file, '--out', out]);
    expect(r.stderr).toContain('written to');
    expect(r.code).toBe(0);
    const csv = readOutput(readFileSync(out, 'utf8'));
    expect(csv.header).toEqual(['timestamp', 'close', 'sma']);
    expect(csv.time).toEqual(close.map((_, i) => `t${i}`));
    const want = new Float64Array(close.length);
    smaBatch(Float64Array.from(close), want, 3);
    expectSame(csv.cols[2]!, want);
    expect(Number.isNaN(csv.cols[2]![1]!)).toBe(true);
  });

  it('writes every output of a multi-output indicator to standard output', () => {
    const file = join(tmp, 'bars2.csv');
    const rows = Array.from({ length: 60 }, (_, i) => {
      // Four decimals: the data loaders infer the tick from the decimals a file shows.
      const c = Math.round((100 + Math.sin(i / 3) * 5 + i * 0.1) * 1e4) / 1e4;
      return `${1_600_000_000 + i * 60},${c},${(c * 1e4 + 1e4) / 1e4},${(c * 1e4 - 1e4) / 1e4},${c},${10 + i}`;
    });
    writeFileSync(file, `timestamp,open,high,low,close,volume\n${rows.join('\n')}\n`);
    const r = bot4([
      'macd',
      '--param',
      'fast=3',
      '--param',
      'slow=6',
      '--param',
      'signal=4',
      '--input',
      file,
    ]);
    expect(r.code).toBe(0);
    const csv = readOutput(r.stdout);
    expect(csv.header).toEqual(['timestamp', 'close', 'macd', 'signal', 'histogram']);
    const c = readHeaderCsv(file, readFileSync(file, 'utf8')).close;
    const outs = [0, 1, 2].map(() => new Float64Array(c.length));
    INDICATORS.macd!.batch([c], outs, { fast: 3, slow: 6, signal: 4 });
    for (let k = 0; k < 3; k++) expectSame(csv.cols[k + 2]!, outs[k]!);
  });

  it('fails with exit 2 listing the valid names for an unknown indicator or parameter', () => {
    const unknown = bot4(['sam', '--input', 'whatever.csv']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("unknown indicator 'sam'");
    for (const name of ['sma', 'ema', 'rsi', 'macd', 'bbands', 'atr', 'adx', 'psar']) {
      expect(unknown.stderr).toContain(name);
    }
    const badParam = bot4(['rsi', '--param', 'length=14', '--input', 'whatever.csv']);
    expect(badParam.code).toBe(2);
    expect(badParam.stderr).toContain("unknown parameter 'length'");
    expect(badParam.stderr).toContain('period (int, default 14');
    const badValue = bot4(['rsi', '--param', 'period=0', '--input', 'whatever.csv']);
    expect(badValue.code).toBe(2);
    expect(badValue.stderr).toContain("parameter 'period' must be an integer");
    const badEnum = bot4(['ema', '--param', 'seed=zero', '--input', 'whatever.csv']);
    expect(badEnum.code).toBe(2);
    expect(badEnum.stderr).toContain('sma, first');
    const bookOnly = bot4(['obi', '--input', join(tmp, 'bars.csv')]);
    expect(bookOnly.code).toBe(2);
    expect(bookOnly.stderr).toContain('a candle file does not hold');
  });

  it('joins two files on bar time for two-series indicators (correl x from --input, y from --input2)', () => {
    const a = join(tmp, 'a.csv');
    const b = join(tmp, 'b.csv');
    const xs = [1, 2, 4, 3, 5, 7, 6];
    writeFileSync(a, `time,high,low,close\n${xs.map((x, i) => `t${i},${x},${x},${x}`).join('\n')}\n`);
    // b lacks t0 and has an extra t9: only the 6 shared bars are kept; y = 2x + 1 correlates perfectly.
    const ys = xs.slice(1).map((x, i) => `t${i + 1},${2 * x + 1},${2 * x + 1},${2 * x + 1}`);
    writeFileSync(b, `time,high,low,close\n${[...ys, 't9,1,1,1'].join('\n')}\n`);
    const r = bot4(['correl', '--param', 'period=3', '--input', a, '--input2', b]);
    expect(r.code).toBe(0);
    const csv = readOutput(r.stdout);
    expect(csv.time).toEqual(['t1', 't2', 't3', 't4', 't5', 't6']);
    expect(Array.from(csv.cols[2]!.slice(2))).toEqual([1, 1, 1, 1]);
    const missing = bot4(['beta', '--input', a]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('--input2');
  });

  it("'list' prints every indicator with its parameters and convention", () => {
    const r = bot4(['list']);
    expect(r.code).toBe(0);
    for (const name of Object.keys(INDICATORS)) expect(r.stdout).toContain(`  ${name} `);
    expect(r.stdout).toContain("seed 'sma' (TA-Lib)");
  });

  it.skipIf(!present(`${shared}basana`, 'basana candles'))(
    'loads candles through the data loaders (basana Binance daily CSV)',
    () => {
      const file = `${shared}basana/binance_btcusdt_day_2020.csv`;
      const r = bot4(['atr', '--param', 'period=14', '--input', file]);
      expect(r.code).toBe(0);
      const csv = readOutput(r.stdout);
      expect(csv.cols[0]!.length).toBe(366);
      expect(csv.time[0]).toBe('2020-01-01T00:00:00.000Z');
      // The same bars read straight from the file's decimal text give the same ATR.
      const raw = readFileSync(file, 'utf8')
        .trim()
        .split('\n')
        .slice(1)
        .map((l) => l.split(',').map(Number));
      const [h, l, c] = [2, 3, 4].map((k) => Float64Array.from(raw, (row) => row[k]!)) as [
        Float64Array,
        Float64Array,
        Float64Array,
      ];
      expectSame(csv.cols[1]!, c);
      const want = new Float64Array(c.length);
      atrBatch(h, l, c, want, 14);
      expectSame(csv.cols[2]!, want);
    },
  );

  it('parses --param pairs and rejects malformed ones', () => {
    expect(parseParams(['period=14', ' seed = first '])).toEqual({ period: '14', seed: 'first' });
    expect(() => parseParams(['period'])).toThrow(/key=value/);
  });
});
