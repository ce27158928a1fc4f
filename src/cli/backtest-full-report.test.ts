// A long run's report through the real CLI: report.json embeds a bounded part of the trades and fills and says
// so (report notes and standard error), the statistics are those of every row, --full-report writes every row
// as JSON lines, and `report compare` matches all trades when the file is there and says when it is not.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { BacktestReport } from '../backtest/report.ts';
import { REPORT_MAX_FILLS, REPORT_MAX_TRADES } from '../backtest/report-tables.ts';
import { present, SHARED_DATA } from '../core/test-resources.ts';
import { runBot4 } from './cli.test-util.ts';

const CSV = join(SHARED_DATA, 'nautilus_trader/bars/btc-perp-20211231-20220201_1m.csv');
const dir = mkdtempSync(join(tmpdir(), 'bot4-full-report-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// EMA 2/4 on 45,031 one-minute bars: ~4,600 trades, more than a report embeds.
const run = (out: string, ...extra: string[]) =>
  runBot4([
    'backtest',
    '--strategy',
    'ema-cross',
    '--data',
    CSV,
    '--param',
    'fast=2',
    '--param',
    'slow=4',
    '--out',
    join(dir, out),
    '--no-progress',
    ...extra,
  ]);
const read = (out: string): BacktestReport =>
  JSON.parse(readFileSync(join(dir, out, 'report.json'), 'utf8')) as BacktestReport;
const lines = (file: string): string[] => readFileSync(file, 'utf8').trimEnd().split('\n');

describe.skipIf(!present(CSV, 'the FTX one-minute bars'))('bot4 backtest: bounded report tables', () => {
  it('cuts the tables, counts the omitted rows, writes every row with --full-report, compares on them', () => {
    const cut = run('cut');
    expect(cut.code, cut.stderr).toBe(0);
    const full = run('full', '--full-report');
    expect(full.code, full.stderr).toBe(0);
    const a = read('cut');
    const b = read('full');
    const trades = a.stats.trades + a.stats.openTrades;
    expect(trades).toBeGreaterThan(REPORT_MAX_TRADES);
    expect(a.trades).toHaveLength(REPORT_MAX_TRADES);
    expect(a.fills.ts).toHaveLength(REPORT_MAX_FILLS);
    expect(a.tables).toEqual({
      trades: { total: trades, embedded: REPORT_MAX_TRADES },
      fills: { total: a.stats.fills, embedded: REPORT_MAX_FILLS },
    });
    const omitted = `${trades - REPORT_MAX_TRADES} omitted`;
    expect(cut.stderr).toContain(omitted);
    expect(cut.stderr).toContain('--full-report');
    expect(a.notes.some((n) => n.includes(omitted))).toBe(true);
    // Same run: same statistics and analysis, only the side files added.
    expect(b.stats).toEqual(a.stats);
    expect(b.analysis).toEqual(a.analysis);
    expect(b.tables?.files).toEqual({ trades: 'trades.jsonl', fills: 'fills.jsonl' });
    expect(full.stdout).toContain(join(dir, 'full', 'trades.jsonl'));
    const tl = lines(join(dir, 'full', 'trades.jsonl'));
    expect(tl).toHaveLength(trades);
    expect(lines(join(dir, 'full', 'fills.jsonl'))).toHaveLength(a.stats.fills);
    let net = 0;
    for (const l of tl) net += (JSON.parse(l) as { netPnl: number }).netPnl;
    expect(net).toBe(a.stats.netProfit);

    const both = runBot4([
      'report',
      'compare',
      join(dir, 'full'),
      join(dir, 'full'),
      '-o',
      join(dir, 'c.html'),
    ]);
    expect(both.code, both.stderr).toBe(0);
    expect(both.stdout).toContain(`(0 differ, ${trades} the same)`);
    expect(both.stderr).not.toContain('note');
    const part = runBot4([
      'report',
      'compare',
      join(dir, 'cut'),
      join(dir, 'cut'),
      '-o',
      join(dir, 'd.html'),
    ]);
    expect(part.code, part.stderr).toBe(0);
    expect(part.stderr).toContain(`embeds ${REPORT_MAX_TRADES} of ${trades} trades`);
    expect(part.stdout).toContain(`(0 differ, ${REPORT_MAX_TRADES} the same)`);
  }, 300_000);
});
