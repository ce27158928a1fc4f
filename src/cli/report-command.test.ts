// Kept runs on real bars (FTX BTC-PERP, a month of 1-minute candles): each `bot4 backtest` without --out is
// kept under reports/<time>-<strategy>/ with the latest link moved to it, `report ls` lists the runs,
// `report compare` puts them side by side and writes a page that headless Chromium renders, and the analysis in
// report.json is the one analyse() recomputes from the report (seeded, reproducible).
import { execFileSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyse } from '../backtest/analysis.ts';
import { diffTrades } from '../backtest/compare.ts';
import type { BacktestReport } from '../backtest/report.ts';
import { findRun, linkLatest, listRuns, newRunDir, strategySlug } from '../backtest/runs.ts';
import { present, SHARED_DATA } from '../core/test-resources.ts';
import { runCaptured as bot4 } from './in-process.test-util.ts';

const BARS = `${SHARED_DATA}nautilus_trader/bars/btc-perp-20211231-20220201_1m.csv`;
const CHROMIUM = '/usr/bin/chromium';
const BASE = ['backtest', '--strategy', 'ema-cross', '--data', BARS, '--param', 'instrument=BTC-PERP.FTX'];
const MORE = ['--param', 'qty=0.1', '--balance', '100000USD', '--no-progress'];

function readReport(dir: string): BacktestReport {
  return JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')) as BacktestReport;
}

describe('run names', () => {
  it('strategy slugs and unique time-named folders', () => {
    expect(strategySlug('ema-cross')).toBe('ema-cross');
    expect(strategySlug('examples/my-strategy.ts:Fast')).toBe('my-strategy-fast');
    expect(strategySlug(['ema-cross', 'Pairs'])).toBe('ema-cross+pairs');
    const root = mkdtempSync(join(tmpdir(), 'bot4-runs-'));
    const a = newRunDir(root, '2024-01-02T03:04:05.678Z', 'x');
    const b = newRunDir(root, '2024-01-02T03:04:05.999Z', 'x');
    expect(a).toBe(join(root, '20240102-030405-x'));
    expect(b).toBe(join(root, '20240102-030405-x-2'));
    rmSync(root, { recursive: true });
  });
});

describe.skipIf(!present(BARS, 'the FTX BTC-PERP 1-minute bars'))('kept runs on real bars', () => {
  const cwd = process.cwd();
  const sandbox = mkdtempSync(join(tmpdir(), 'bot4-report-cmd-'));
  const runs = (): string[] =>
    readdirSync(join(sandbox, 'reports')).filter((n) => /^\d{8}-\d{6}-ema-cross(-\d+)?$/.test(n));
  let first = '';
  let second = '';
  beforeAll(() => process.chdir(sandbox));
  afterAll(() => {
    process.chdir(cwd);
    rmSync(sandbox, { recursive: true, force: true });
  });

  it('each backtest without --out is kept in its own folder, reports/latest linked to the newest', async () => {
    const a = await bot4([...BASE, ...MORE]);
    expect(a.code, a.err).toBe(0);
    for (const title of ['Backtest summary (USD)', 'Results by month', 'Exit reasons', 'Monte Carlo']) {
      expect(a.out).toContain(title);
    }
    expect(runs()).toHaveLength(1);
    first = runs()[0]!;
    expect(readlinkSync(join('reports', 'latest'))).toBe(first);
    for (const f of ['report.json', 'report.html', 'report.txt'])
      expect(existsSync(join('reports', first, f))).toBe(true);
    const before = readFileSync(join('reports', first, 'report.json'), 'utf8');

    const b = await bot4([
      ...BASE,
      '--param',
      'fast=20',
      '--param',
      'slow=60',
      ...MORE,
      '--mc-runs',
      '200',
      '--mc-seed',
      '9',
    ]);
    expect(b.code, b.err).toBe(0);
    expect(runs()).toHaveLength(2);
    second = runs().find((n) => n !== first)!;
    expect(readlinkSync(join('reports', 'latest'))).toBe(second);
    expect(readFileSync(join('reports', first, 'report.json'), 'utf8')).toBe(before);
    expect(b.out).toContain(join(sandbox, 'reports', second, 'report.txt'));
  }, 240_000);

  it('the analysis in report.json adds up on real trades and replays from its seed', () => {
    const r = readReport(join('reports', second));
    const a = r.analysis!;
    expect(a.monteCarlo).toMatchObject({ runs: 200, seed: 9, trades: r.stats.trades });
    expect(analyse(r, { runs: 200, seed: 9 })).toEqual(a);
    expect(a.closedTrades).toBe(r.stats.trades);
    const closed = r.trades.filter((t) => !t.open);
    const net = closed.reduce((s, t) => s + t.netPnl, 0);
    for (const kind of ['day', 'week', 'month'] as const) {
      expect(a.periods[kind].reduce((s, p) => s + p.netPnl, 0)).toBe(net);
      expect(a.periods[kind].reduce((s, p) => s + p.endEquity - p.startEquity, 0)).toBe(
        r.stats.endEquity - r.stats.startEquity,
      );
    }
    // 2021-12-31 23:02 to 2022-02-01 05:32 UTC: three months, 33 days.
    expect(a.periods.month.map((p) => p.key)).toEqual(['2021-12', '2022-01', '2022-02']);
    expect(a.periods.day).toHaveLength(33);
    // ema-cross enters and exits with market orders.
    expect(a.exitReasons.map((g) => [g.key, g.trades])).toEqual([['market order', r.stats.trades]]);
    expect(a.drawdowns.listed[0]!.depth).toBeCloseTo(r.stats.maxDrawdown, 12);
    expect(readFileSync(join('reports', second, 'report.txt'), 'utf8')).toContain(
      `Monte Carlo of the trade sequence (200 paths of ${r.stats.trades} trades drawn with replacement, seed 9)`,
    );
  });

  it('report ls lists the runs with headline figures, the latest starred', async () => {
    const r = await bot4(['report', 'ls']);
    expect(r.code, r.err).toBe(0);
    const a = readReport(join('reports', first)).stats;
    expect(r.out).toMatch(new RegExp(`\\n  ${first}\\s+EmaCross\\s.*\\s${a.trades}\\s`));
    expect(r.out).toMatch(new RegExp(`\\n\\* ${second}\\s`));
    expect(r.out).toContain('Backtest runs under');
    const j = await bot4(['report', 'ls', '--json']);
    const rows = j.out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { name: string; latest: boolean; trades: number });
    expect(rows.map((x) => [x.name, x.latest, x.trades])).toEqual([
      [first, false, a.trades],
      [second, true, readReport(join('reports', second)).stats.trades],
    ]);
  });

  it('report compare latest~1 latest: statistics side by side, the trades that differ, one page', async () => {
    const r = await bot4(['report', 'compare', 'latest~1', 'latest']);
    expect(r.code, r.err).toBe(0);
    const ra = readReport(join('reports', first));
    const rb = readReport(join('reports', second));
    const d = diffTrades(ra, rb);
    // Every trade of either run is either the same in both, changed, or only in one.
    expect(d.same + d.changed + d.onlyBase).toBe(ra.trades.length);
    expect(d.same + d.changed + d.onlyOther).toBe(rb.trades.length);
    expect(d.onlyBase + d.onlyOther).toBeGreaterThan(0);
    const total = d.onlyBase + d.onlyOther + d.changed;
    expect(r.out).toContain(`Trades that differ: B against A (${total} differ, ${d.same} the same)`);
    expect(r.out).toMatch(/Trades \(closed\)\s+852\s+432/);
    expect(r.out).toMatch(/fast\s+10\s+20/);
    expect(r.out).toContain(`A  ${first}`);
    const page = join(sandbox, 'reports', 'compare.html');
    expect(r.out).toContain(`compare page: ${page}`);
    const html = readFileSync(page, 'utf8');
    expect(html).not.toMatch(/<(script|link|img)[^>]+(src|href)=["']https?:/);
    expect(html).toContain(`Trades that differ: B against A (${total} differ`);
    // A run by name, by part of its name, and by folder resolve to the same run.
    expect(findRun(first).name).toBe(first);
    expect(findRun(join('reports', first)).report.fingerprint).toBe(ra.fingerprint);
    expect(listRuns().map((x) => x.name)).toEqual([first, second]);
  });

  it('report show prints a run’s text report', async () => {
    const r = await bot4(['report', 'show', 'latest~1']);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain(`${first}: EmaCross on ${BARS}`);
    expect(r.out).toContain('Results by week');
    // The loader's repairs of the file are in the text report too, not only on the run's standard error.
    expect(r.out).toMatch(/\nNotes\n-----\n- .*rows inexact_volume \(repaired\)/);
  });

  it('bad input exits 2 with one line naming it', async () => {
    const one = await bot4(['report', 'compare', 'latest']);
    expect(one.code).toBe(2);
    expect(one.err).toContain('report compare needs two runs or more, got 1');
    const none = await bot4(['report', 'compare', 'latest', 'no-such-run']);
    expect(none.code).toBe(2);
    expect(none.err).toContain('run no-such-run: no such folder');
    const many = await bot4(['report', 'compare', 'latest', 'ema-cross']);
    expect(many.code).toBe(2);
    expect(many.err).toContain('run ema-cross: names 2 runs');
    const far = await bot4(['report', 'compare', 'latest', 'latest~5']);
    expect(far.code).toBe(2);
    expect(far.err).toContain('run latest~5: only 2 run(s) up to the latest');
    const mc = await bot4([...BASE, ...MORE, '--mc-runs', '-1']);
    expect(mc.code).toBe(2);
    expect(mc.err).toContain("--mc-runs '-1' must be a whole number from 0 to 1000000");
  });

  it('--out onto the latest link writes a folder there and leaves the kept run as it was', async () => {
    const before = readFileSync(join('reports', second, 'report.json'), 'utf8');
    const r = await bot4([...BASE, ...MORE, '--mc-runs', '0', '--out', 'reports/latest']);
    expect(r.code, r.err).toBe(0);
    expect(r.err).toContain('was a link');
    expect(lstatSync(join('reports', 'latest')).isDirectory()).toBe(true);
    expect(readFileSync(join('reports', second, 'report.json'), 'utf8')).toBe(before);
    expect(readReport(join('reports', 'latest')).analysis!.monteCarlo).toBeNull();
    // The next kept run keeps that folder as a run of its own before linking latest again.
    const root = join(sandbox, 'legacy');
    mkdirSync(join(root, 'latest'), { recursive: true });
    cpSync(join('reports', 'latest', 'report.json'), join(root, 'latest', 'report.json'));
    const made = newRunDir(root, new Date().toISOString(), 'ema-cross');
    const note = linkLatest(root, made);
    expect(note).toMatch(/was a folder, not a link: kept as .*-emacross-was-latest$/);
    expect(readlinkSync(join(root, 'latest'))).toBe(made.split('/').at(-1));
    expect(readdirSync(root).filter((n) => n.endsWith('-emacross-was-latest'))).toHaveLength(1);
  }, 120_000);

  describe.skipIf(!present(CHROMIUM, "Debian's chromium (.ci/run installs it)"))('headless Chromium', () => {
    it('renders the compare page: both equity curves drawn, the screenshot not blank', () => {
      const page = join(sandbox, 'reports', 'compare.html');
      const flags = [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--hide-scrollbars',
        '--virtual-time-budget=5000',
      ];
      const env = { ...process.env, DBUS_SESSION_BUS_ADDRESS: 'disabled:' };
      const dom = execFileSync(CHROMIUM, [...flags, '--dump-dom', `file://${page}`], {
        env,
        encoding: 'utf8',
        maxBuffer: 256 * 1024 * 1024,
        stdio: ['ignore', 'pipe', 'ignore'],
        timeout: 120_000,
      });
      expect(dom).toContain('id="series-count">2 equity curves');
      expect(dom).toContain('<canvas');
      const png = join(sandbox, 'compare.png');
      execFileSync(CHROMIUM, [...flags, '--window-size=1400,1600', `--screenshot=${png}`, `file://${page}`], {
        env,
        stdio: 'ignore',
        timeout: 120_000,
      });
      expect(statSync(png).size).toBeGreaterThan(50_000);
    }, 240_000);
  });
});
