// Reports: the JSON round-trips through the HTML page, the page loads nothing from outside and embeds the
// chart library, the downsampling keeps extremes, the page script runs (against a stand-in DOM here, and in
// headless Chromium when /usr/bin/chromium exists), and the terminal summary is aligned and formatted.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runInNewContext } from 'node:vm';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { present } from '../core/test-resources.ts';
import type { InstrumentId } from '../core/units.ts';
import { LiquiditySide, newInstrumentRegistry } from '../model/instrument.ts';
import { OrderSide } from '../model/order.ts';
import { AccountType } from '../portfolio/account.ts';
import { Portfolio } from '../portfolio/portfolio.ts';
import { PortfolioResult } from '../portfolio/result.ts';
import { USDM_BTCUSDT } from '../portfolio/testing.ts';
import { analyse } from './analysis.ts';
import { BacktestRecorder, PortfolioEquitySource } from './recorder.ts';
import {
  type BacktestReport,
  buildReport,
  formatSummary,
  REPORT_MAX_SAMPLES,
  reportText,
  reportToJson,
  writeReport,
} from './report.ts';
import { formatDuration, formatMoneyUnits, formatUnits } from './report-format.ts';
import {
  CHART_BUCKETS,
  chartData,
  chartLibrary,
  downsampleIndices,
  renderHtml,
  scriptJson,
} from './report-html.ts';
import {
  allTrades,
  FILLS_FILE,
  keptTradeIndices,
  REPORT_MAX_FILLS,
  REPORT_MAX_TRADES,
  TRADES_FILE,
} from './report-tables.ts';
import { withAllTrades } from './runs.ts';
import { statsFromRecording } from './stats.ts';

const MINUTE = 60_000_000;
const T0 = Date.UTC(2024, 0, 1) * 1000;

/**
 * A deterministic run on a real Portfolio: a random-walk BTCUSDT perpetual sampled every minute for `n`
 * minutes, alternating long / flat / short / flat every `every` minutes, 1 BTC at a time.
 */
function syntheticRun(n: number, every = 700, strategy = 'alternator') {
  const reg = newInstrumentRegistry();
  const inst = reg.add(USDM_BTCUSDT);
  const usdt = reg.currencies.get('USDT')!;
  const pf = new Portfolio();
  pf.addAccount({
    venue: inst.venue,
    type: AccountType.MARGIN,
    balances: [{ currency: usdt, amount: 100_000 * 1e8 }],
  });
  pf.register(inst);
  const rec = new BacktestRecorder({
    currency: usdt,
    instruments: [inst],
    source: new PortfolioEquitySource(pf, usdt),
    intervalMicros: MINUTE,
  });
  let seed = 12345;
  const rand = (): number => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648;
  };
  let px = 600_000; // 60,000.0
  const targets = [1000, 0, -1000, 0];
  let pos = 0;
  for (let i = 0; i < n; i++) {
    const ts = T0 + i * MINUTE;
    rec.advance(ts);
    px = Math.max(1000, px + Math.round((rand() - 0.5) * 600));
    pf.mark(inst.id, px);
    rec.observePrice(inst.id, px);
    if (i % every === every - 1) {
      const target = targets[Math.floor(i / every) % 4]!;
      const d = target - pos;
      if (d !== 0) {
        const side = d > 0 ? OrderSide.BUY : OrderSide.SELL;
        const qty = Math.abs(d);
        const fee = inst.fee(px, qty, LiquiditySide.TAKER);
        rec.orderSubmitted();
        expect(pf.applyFill(inst, side, qty, px, fee, usdt.id, ts)).toBe(PortfolioResult.OK);
        rec.fill(ts, inst.id, side, qty, px, fee, LiquiditySide.TAKER, pf.position(inst.id)!.lastRealised);
        pos = target;
      }
    }
    if (i % 480 === 479 && pos !== 0) {
      // Funding every 8 hours at 0.01%.
      const before = pf.position(inst.id)!.funding;
      pf.applyFunding(inst, 10_000, px, ts);
      rec.funding(ts, inst.id as InstrumentId, pf.position(inst.id)!.funding - before);
    }
  }
  rec.end(T0 + (n - 1) * MINUTE + MINUTE / 2);
  const recording = rec.recording();
  const stats = statsFromRecording(recording);
  const report = buildReport({
    recording,
    stats,
    fingerprint: 'sha256:0123abcd',
    meta: { strategy, data: 'synthetic BTCUSDT random walk', eventsProcessed: n, wallTimeMs: 1234 },
    parameters: { every, size: '1 BTC', note: '</script><script>alert(1)</script>' },
    createdAt: '2024-06-01T00:00:00.000Z',
  });
  return { report, recording, stats, pf, usdt };
}

/** The text of the <script type="application/json" id=...> block. */
function jsonBlock(html: string, id: string): string {
  const open = `<script type="application/json" id="${id}">`;
  const a = html.indexOf(open);
  expect(a).toBeGreaterThan(0);
  const b = html.indexOf('</script>', a);
  return html.slice(a + open.length, b);
}

const tmpDirs: string[] = [];
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'bot4-report-'));
  tmpDirs.push(d);
  return d;
}
afterAll(() => {
  for (const d of tmpDirs) rmSync(d, { recursive: true, force: true });
});

describe('formatting', () => {
  it('money units to display decimals, exactly rounded half away from zero', () => {
    expect(formatUnits(123_456_789, 8, 2)).toBe('1.23');
    expect(formatUnits(1_234_567_890_000, 8, 2)).toBe('12,345.68');
    expect(formatUnits(-5, 2, 2)).toBe('-0.05');
    expect(formatUnits(125, 3, 2)).toBe('0.13');
    expect(formatUnits(-125, 3, 2)).toBe('-0.13');
    expect(formatUnits(-4, 3, 2)).toBe('0.00'); // no "-0.00"
    expect(formatUnits(42, 8, 2, true)).toBe('0.00');
    expect(formatUnits(5_000_000, 8, 2, true)).toBe('+0.05');
    expect(formatUnits(7, 0, 0)).toBe('7');
    expect(formatUnits(2.5e8 + 0.5, 8, 8)).toBe('2.50000001'); // an average: fractional units
    expect(formatMoneyUnits(1e12, { code: 'USDT', precision: 8 })).toBe('10,000.00 USDT');
    expect(formatMoneyUnits(12_345_678, { code: 'BTC', precision: 8 })).toBe('0.12345678 BTC');
    expect(formatMoneyUnits(null, { code: 'BTC', precision: 8 })).toBe('n/a');
    expect(formatDuration(3 * 86_400e6 + 4 * 3600e6 + 5 * 60e6)).toBe('3d 4h');
    expect(formatDuration(12 * 60e6 + 30e6)).toBe('12m 30s');
    expect(formatDuration(0)).toBe('0s');
  });

  it('formatSummary is an aligned two-column table with money in the currency', () => {
    const { stats } = syntheticRun(3000);
    const text = formatSummary(stats);
    const lines = text.split('\n');
    expect(lines[0]).toBe('Backtest summary (USDT), 2024-01-01 00:00:00 to 2024-01-03 01:59:30 UTC'); // 2999 min + 30 s
    const body = lines.slice(2);
    const width = body[0]!.length;
    for (const l of body) expect(l.length).toBe(width);
    expect(text).toContain('Start equity');
    expect(text).toMatch(/Start equity\s+100,000\.00 USDT/);
    expect(text).toMatch(/Orders \/ fills\s+\d+ \/ \d+/);
    expect(text).toMatch(/Sharpe\s+-?\d+\.\d\d/);
  });
});

describe('downsampling', () => {
  it('keeps every sample of a short curve', () => {
    expect(downsampleIndices(5, [[1, 2, 3, 4, 5]], 10)).toEqual([0, 1, 2, 3, 4]);
  });

  it('keeps first, last and each bucket min/max of every series', () => {
    // 20 samples, 4 buckets of 5: series a has its max at 7 and min at 12, series b a spike at 16.
    const a = Array.from({ length: 20 }, (_, i) => (i === 7 ? 100 : i === 12 ? -100 : 0));
    const b = Array.from({ length: 20 }, (_, i) => (i === 16 ? 9 : 1));
    const idx = downsampleIndices(20, [a, b], 4);
    expect(idx).toContain(0);
    expect(idx).toContain(19);
    expect(idx).toContain(7);
    expect(idx).toContain(12);
    expect(idx).toContain(16);
    // Flat runs keep their first sample as both min and max: 0, 5, 10, 15 at most, plus the extremes.
    expect(idx).toEqual([0, 5, 7, 10, 12, 15, 16, 19]);
  });

  it('property: the first minimum and first maximum of each bucket and series, NaN skipped, as the rule says', () => {
    // The rule read literally: every series' extremes compared against the array itself, bucket by bucket.
    const reference = (n: number, series: number[][], buckets: number): number[] => {
      if (n <= 2 * buckets) return Array.from({ length: n }, (_, i) => i);
      const keep = new Set([0, n - 1]);
      for (let b = 0; b < buckets; b++) {
        const lo = Math.floor((b * n) / buckets);
        const hi = Math.floor(((b + 1) * n) / buckets);
        for (const s of series) {
          let iMin = -1;
          let iMax = -1;
          for (let i = lo; i < hi; i++) {
            if (Number.isNaN(s[i]!)) continue;
            if (iMin < 0 || s[i]! < s[iMin]!) iMin = i;
            if (iMax < 0 || s[i]! > s[iMax]!) iMax = i;
          }
          if (iMin >= 0) keep.add(iMin).add(iMax);
        }
      }
      return [...keep].sort((x, y) => x - y);
    };
    const value = fc.oneof(fc.integer({ min: -5, max: 5 }), fc.constant(Number.NaN));
    fc.assert(
      fc.property(
        fc
          .integer({ min: 1, max: 80 })
          .chain((n) =>
            fc.tuple(
              fc.constant(n),
              fc.array(fc.array(value, { minLength: n, maxLength: n }), { minLength: 1, maxLength: 3 }),
              fc.integer({ min: 1, max: 12 }),
            ),
          ),
        ([n, series, buckets]) => {
          const typed = series.map((s, k) => (k === 0 ? Float64Array.from(s) : s));
          expect(downsampleIndices(n, typed, buckets)).toEqual(reference(n, series, buckets));
        },
      ),
      { numRuns: 500 },
    );
  });

  it('100k samples: bounded points, increasing seconds, the deepest drawdown kept', () => {
    const n = 100_000;
    const { report } = syntheticRun(n, 2000);
    // The report thins the curve to REPORT_MAX_SAMPLES (lows and highs kept); it says how many were recorded.
    expect(report.equity.sourceSamples).toBe(n + 1); // the last sample is the end, half a minute later
    expect(report.equity.ts.length).toBeLessThanOrEqual(REPORT_MAX_SAMPLES);
    expect(report.equity.ts.length).toBeGreaterThan(REPORT_MAX_SAMPLES / 2);
    expect(report.prices[0]).toHaveLength(report.equity.ts.length);
    expect(report.notes.some((t) => t.includes(`${n + 1} samples are thinned`))).toBe(true);
    // A few MB whatever the run length (the JSON is also inlined in the HTML).
    expect(reportToJson(report).length).toBeLessThan(3_000_000);
    const chart = chartData(report);
    expect(chart.sourcePoints).toBe(report.equity.ts.length);
    expect(chart.points).toBeLessThanOrEqual(2 * 3 * CHART_BUCKETS + 2);
    expect(chart.points).toBeGreaterThan(CHART_BUCKETS);
    for (let i = 1; i < chart.time.length; i++) expect(chart.time[i]!).toBeGreaterThan(chart.time[i - 1]!);
    // The deepest drawdown in the chart is the report's max drawdown.
    expect(Math.min(...chart.drawdown)).toBeCloseTo(-report.stats.maxDrawdown * 100, 10);
    // Equity extremes survive.
    const scale = 1e8;
    expect(Math.max(...chart.equity)).toBe(Math.max(...report.equity.equity) / scale);
    expect(Math.min(...chart.equity)).toBe(Math.min(...report.equity.equity) / scale);
    // Every trade has its markers (entry, and exit when closed).
    const closed = report.trades.filter((t) => !t.open).length;
    expect(chart.markers[0]).toHaveLength(report.trades.length + closed);
  });
});

describe('report JSON and HTML', () => {
  const { report, recording, stats } = syntheticRun(5000, 600, 'evil </script><!-- name');
  const html = renderHtml(report);

  it('the JSON holds the whole run', () => {
    expect(report.format).toBe('bot4.backtest-report');
    expect(report.fingerprint).toBe('sha256:0123abcd');
    expect(report.equity.ts).toHaveLength(recording.curve.ts.length);
    expect(report.fills.ts).toHaveLength(recording.fills.length);
    expect(report.trades.length).toBeGreaterThan(3);
    expect(report.stats).toBe(stats);
    expect(report.meta.eventsPerSecond).toBeCloseTo(5000 / 1.234, 6);
    expect(report.prices[0]![0]).toBeNull(); // the first sample comes before the first price
    const parsed = JSON.parse(reportToJson(report)) as BacktestReport;
    expect(parsed).toEqual(JSON.parse(JSON.stringify(report)));
    // Trades add up to the run's realised - fees - funding (the recorder's identity, through the report).
    const net = parsed.trades.reduce((s, t) => s + t.netPnl, 0);
    const realised = parsed.fills.realised.reduce((s, x) => s + x, 0);
    const fees = parsed.fills.fee.reduce((s, x) => s + x, 0);
    const funding = parsed.fundings.amount.reduce((s, x) => s + x, 0);
    expect(net).toBe(realised - fees - funding);
    expect(funding).not.toBe(0);
  });

  it('loads nothing from outside: no external script, link, image, frame, import or url()', () => {
    expect(html).not.toMatch(/<script[^>]*\bsrc\s*=/i);
    expect(html).not.toMatch(/<link\b/i);
    expect(html).not.toMatch(/<(img|iframe|embed|object|source|audio|video)\b/i);
    expect(html).not.toMatch(/\b(src|href)\s*=\s*["']?\s*(https?:)?\/\//i);
    expect(html).not.toMatch(/url\(\s*["']?\s*(https?:)?\/\//i);
    expect(html).not.toMatch(/@import/i);
    // Outside the inlined library (whose only URLs are its licence comment, the SVG namespace and the
    // TradingView attribution link it creates, as its licence requires), the page names no URL at all.
    const lib = chartLibrary();
    expect(html.replace(lib.code, '')).not.toMatch(/https?:\/\//i);
  });

  it('embeds the chart library and the data; every <script> closes where it should', () => {
    const lib = chartLibrary();
    expect(lib.code.length).toBeGreaterThan(100_000);
    expect(html).toContain(lib.code);
    expect(html).toContain('window.LightweightCharts');
    expect(html).toContain(`Lightweight Charts&trade; ${lib.version}`);
    // 4 script blocks (report JSON, chart JSON, library, app), so exactly 4 closing tags: the strategy name
    // and a parameter both contain '</script>' and must not end a block early.
    expect(html.match(/<script\b/gi)).toHaveLength(4);
    expect(html.match(/<\/script>/gi)).toHaveLength(4);
    expect(html).not.toContain('<!-- name');
    expect(html).toContain('<title>Backtest: evil &lt;/script&gt;&lt;!-- name</title>');
  });

  it('its embedded JSON parses back to the report', () => {
    const back = JSON.parse(jsonBlock(html, 'bot4-report')) as BacktestReport;
    expect(back).toEqual(JSON.parse(reportToJson(report)));
    expect(back.parameters['note']).toBe('</script><script>alert(1)</script>');
    expect(back.meta.strategy).toBe('evil </script><!-- name');
    const chart = JSON.parse(jsonBlock(html, 'bot4-chart')) as ReturnType<typeof chartData>;
    expect(chart.time.length).toBe(chart.equity.length);
    expect(scriptJson({ s: '</script>\u2028' })).toBe('{"s":"\\u003c/script>\\u2028"}');
  });

  it('renders the statistics table and run metadata without JavaScript', () => {
    expect(html).toContain('<th>Sharpe</th>');
    expect(html).toContain('<th>Max drawdown duration</th>');
    expect(html).toContain('sha256:0123abcd');
    expect(html).toContain('synthetic BTCUSDT random walk');
    expect(html).toContain('<th>Events processed</th><td>5,000</td>');
  });

  it('the page script runs: chart panes, series, markers and the trade table (stand-in DOM)', () => {
    const scripts = [...html.matchAll(/<script>([\s\S]*?)<\/script>/g)].map((m) => m[1]!);
    expect(scripts).toHaveLength(2);
    const app = scripts[1]!;
    const calls: { series: { kind: string; pane: number; data: unknown[] }[]; markers: unknown[] } = {
      series: [],
      markers: [],
    };
    const el = (): Record<string, unknown> & { listeners: Record<string, (e: unknown) => void> } => {
      const listeners: Record<string, (e: unknown) => void> = {};
      const node: Record<string, unknown> & { listeners: Record<string, (e: unknown) => void> } = {
        listeners,
        textContent: '',
        innerHTML: '',
        value: '0',
        disabled: false,
        addEventListener: (type: string, fn: (e: unknown) => void) => {
          listeners[type] = fn;
        },
        scrollIntoView: () => {},
      };
      const subs: Record<string, unknown> = {};
      node['querySelector'] = (sel: string) => {
        subs[sel] ??= el();
        return subs[sel];
      };
      return node;
    };
    const nodes: Record<string, ReturnType<typeof el>> = {};
    const document = {
      getElementById: (id: string) => {
        if (id === 'instrument') return null; // one instrument: no selector
        if (nodes[id] === undefined) {
          nodes[id] = el();
          if (id === 'bot4-report') nodes[id]!.textContent = jsonBlock(html, 'bot4-report');
          if (id === 'bot4-chart') nodes[id]!.textContent = jsonBlock(html, 'bot4-chart');
        }
        return nodes[id];
      },
    };
    const LightweightCharts = {
      LineSeries: 'Line',
      AreaSeries: 'Area',
      createChart: () => ({
        addSeries: (kind: string, _opts: unknown, pane: number) => {
          const s = { kind, pane, data: [] as unknown[] };
          calls.series.push(s);
          return {
            setData: (d: unknown[]) => {
              s.data = d;
            },
            applyOptions: () => {},
          };
        },
        panes: () => [0, 1, 2].map(() => ({ setStretchFactor: () => {} })),
        timeScale: () => ({ fitContent: () => {}, setVisibleRange: () => {} }),
      }),
      createSeriesMarkers: () => ({
        setMarkers: (m: unknown[]) => {
          calls.markers = m;
        },
      }),
    };
    const window: Record<string, unknown> = { LightweightCharts };
    runInNewContext(app, { window, document });
    expect(window['bot4Report']).toMatchObject({ ready: true });
    const chart = chartData(report);
    expect(calls.series.map((s) => [s.kind, s.pane, s.data.length])).toEqual([
      ['Line', 0, chart.points],
      ['Area', 1, chart.points],
      ['Area', 2, chart.points],
    ]);
    expect(calls.markers).toHaveLength(chart.markers[0]!.length);
    const body = (nodes['trades']!['querySelector'] as (s: string) => Record<string, unknown>)('tbody');
    const rows = String(body['innerHTML']).match(/<tr /g) ?? [];
    expect(rows).toHaveLength(Math.min(100, report.trades.length));
    expect(nodes['trade-count']!.textContent).toBe(
      `${report.trades.length} trades${report.stats.openTrades > 0 ? ` (${report.stats.openTrades} open at the end)` : ''}`,
    );
  });

  it('writeReport writes report.json, report.html and report.txt into a new directory', () => {
    const dir = join(tmp(), 'nested', 'run-1');
    const paths = writeReport(dir, report);
    expect(paths.json).toBe(join(dir, 'report.json'));
    expect(paths.html).toBe(join(dir, 'report.html'));
    // The written report carries its analysis (default options), in the JSON and the page alike.
    const written = { ...report, analysis: analyse(report) };
    // Few rows: nothing cut, `tables` just counts them.
    written.tables = {
      trades: { total: report.trades.length, embedded: report.trades.length },
      fills: { total: report.fills.ts.length, embedded: report.fills.ts.length },
    };
    expect(paths.notes).toEqual([]);
    expect(JSON.parse(readFileSync(paths.json, 'utf8'))).toEqual(JSON.parse(reportToJson(written)));
    expect(readFileSync(paths.html, 'utf8') === renderHtml(written)).toBe(true);
    expect(readFileSync(paths.text, 'utf8')).toBe(reportText(written));
    expect(readFileSync(paths.text, 'utf8')).toContain('Monte Carlo of the trade sequence');
  });
});

describe('bounded tables: a long run writes a report of bounded size, every row counted', () => {
  const { report } = syntheticRun(14_000, 5);
  const full = { ...report, analysis: analyse(report) };

  it('the synthetic run has more rows than a report embeds', () => {
    expect(report.trades.length).toBeGreaterThan(REPORT_MAX_TRADES);
    expect(report.fills.ts.length).toBeGreaterThan(REPORT_MAX_FILLS);
  });

  it('keeps the first, last, best and worst trades within the bound (any trade list)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: -1e6, max: 1e6 }), { maxLength: 400 }),
        fc.integer({ min: 8, max: 100 }),
        (pnls, max) => {
          const trades = pnls.map((netPnl, id) => ({ ...report.trades[0]!, id, netPnl }));
          const kept = keptTradeIndices(trades, max);
          expect(kept.length).toBe(Math.min(max, trades.length));
          expect(kept).toEqual([...kept].sort((a, b) => a - b));
          if (trades.length === 0) return;
          expect(kept).toContain(0);
          expect(kept).toContain(trades.length - 1);
          const worst = Math.min(...pnls);
          const best = Math.max(...pnls);
          expect(kept.some((i) => pnls[i] === worst)).toBe(true);
          expect(kept.some((i) => pnls[i] === best)).toBe(true);
        },
      ),
    );
  });

  it('writeReport embeds a bounded part, says how much is omitted, and keeps statistics and analysis of every row', () => {
    const dir = tmp();
    const paths = writeReport(dir, report);
    const json = JSON.parse(readFileSync(paths.json, 'utf8')) as BacktestReport;
    const nTrades = report.trades.length;
    const nFills = report.fills.ts.length;
    expect(json.trades).toHaveLength(REPORT_MAX_TRADES);
    expect(json.fills.ts).toHaveLength(REPORT_MAX_FILLS);
    expect(json.fills.orderId).toHaveLength(REPORT_MAX_FILLS);
    expect(json.tables).toEqual({
      trades: { total: nTrades, embedded: REPORT_MAX_TRADES },
      fills: { total: nFills, embedded: REPORT_MAX_FILLS },
    });
    expect(json.stats).toEqual(JSON.parse(JSON.stringify(report.stats)));
    expect(json.analysis).toEqual(JSON.parse(JSON.stringify(full.analysis)));
    expect(json.analysis!.closedTrades).toBe(report.stats.trades);
    // The kept rows are the run's own rows, first and last ones included.
    expect(json.trades[0]).toEqual(report.trades[0]);
    expect(json.trades.at(-1)).toEqual(report.trades.at(-1));
    for (const t of json.trades) expect(t).toEqual(report.trades[t.id]);
    expect(json.fills.ts[0]).toBe(report.fills.ts[0]);
    expect(json.fills.ts.at(-1)).toBe(report.fills.ts.at(-1));
    const omitted = `${nTrades - REPORT_MAX_TRADES} omitted`;
    expect(paths.notes).toHaveLength(2);
    expect(paths.notes[0]).toContain(omitted);
    expect(paths.notes[1]).toContain(`${nFills - REPORT_MAX_FILLS} omitted`);
    expect(json.notes).toEqual([...report.notes, ...paths.notes]);
    expect(readFileSync(paths.text, 'utf8')).toContain(omitted);
    // The page embeds the same bounded document.
    const html = readFileSync(paths.html, 'utf8');
    expect(JSON.parse(jsonBlock(html, 'bot4-report'))).toEqual(json);
    expect(paths.trades).toBeUndefined();
    // A reader needing every trade is told it has only part of them.
    expect(allTrades(dir, json)).toEqual({ trades: json.trades, complete: false });
    const run = withAllTrades({ name: 'r', dir, report: json, latest: false });
    expect(run.note).toContain(`embeds ${REPORT_MAX_TRADES} of ${nTrades} trades`);
  });

  it('fullTables writes every trade and fill as JSON lines, named in the report, and readers load them', () => {
    const dir = tmp();
    const paths = writeReport(dir, report, {}, { fullTables: true });
    expect(paths.trades).toBe(join(dir, TRADES_FILE));
    expect(paths.fills).toBe(join(dir, FILLS_FILE));
    const json = JSON.parse(readFileSync(paths.json, 'utf8')) as BacktestReport;
    expect(json.tables?.files).toEqual({ trades: TRADES_FILE, fills: FILLS_FILE });
    expect(paths.notes[0]).toContain(`every row is in ${TRADES_FILE}`);
    const lines = (file: string): unknown[] =>
      readFileSync(file, 'utf8')
        .trimEnd()
        .split('\n')
        .map((l) => JSON.parse(l));
    expect(lines(paths.trades!)).toEqual(JSON.parse(JSON.stringify(report.trades)));
    const fills = lines(paths.fills!) as Record<string, number>[];
    expect(fills).toHaveLength(report.fills.ts.length);
    const k = report.fills.ts.length >> 1;
    expect(fills[k]).toEqual({
      ts: report.fills.ts[k],
      slot: report.fills.slot[k],
      side: report.fills.side[k],
      qty: report.fills.qty[k],
      px: report.fills.px[k],
      notional: report.fills.notional[k],
      fee: report.fills.fee[k],
      realised: report.fills.realised[k],
      liquidity: report.fills.liquidity[k],
      positionSide: report.fills.positionSide[k],
      orderId: report.fills.orderId[k],
      orderType: report.fills.orderType![k],
    });
    const run = withAllTrades({ name: 'r', dir, report: json, latest: false });
    expect(run.note).toBeUndefined();
    expect(run.run.report.trades).toEqual(JSON.parse(JSON.stringify(report.trades)));
  });
});

const CHROMIUM = '/usr/bin/chromium';

describe.skipIf(!present(CHROMIUM, "Debian's chromium (.ci/run installs it)"))('headless Chromium', () => {
  it('renders a 100k-sample report: the script runs and the screenshot is not blank', () => {
    const { report } = syntheticRun(100_000, 2500);
    const dir = tmp();
    const { html } = writeReport(dir, report);
    const flags = [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--hide-scrollbars',
      '--virtual-time-budget=5000',
    ];
    const env = { ...process.env, DBUS_SESSION_BUS_ADDRESS: 'disabled:' };
    const dom = execFileSync(CHROMIUM, [...flags, '--dump-dom', `file://${html}`], {
      env,
      encoding: 'utf8',
      maxBuffer: 256 * 1024 * 1024,
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    // The page script filled the trade table and the chart library drew canvases.
    expect(dom).toMatch(new RegExp(`id="trade-count">${report.trades.length} trades`));
    expect(dom).toContain('<canvas');
    const png = join(dir, 'shot.png');
    execFileSync(CHROMIUM, [...flags, '--window-size=1400,1800', `--screenshot=${png}`, `file://${html}`], {
      env,
      stdio: 'ignore',
    });
    expect(statSync(png).size).toBeGreaterThan(50_000);
  }, 240_000);
});
