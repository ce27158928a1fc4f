// Runs side by side: their statistics (the report's own rows plus the Monte Carlo percentiles), parameters,
// the trades that differ from the first run's, and one self-contained HTML page with the equity and drawdown
// curves overlaid (the report page's chart code and inlined library; no external URL is loaded).
// Trades match on (instrument, position side, direction, entry time): same when exit time, lots and net PnL
// agree too, 'changed' when only the entry agrees, otherwise only in one of the two runs.

import { analyse } from './analysis.ts';
import { ANALYSIS_CSS, type Table, textTable } from './analysis-format.ts';
import type { Trade } from './recorder.ts';
import type { BacktestReport } from './report.ts';
import { formatMoneyUnits, formatPct, formatTime, statRows } from './report-format.ts';
import { CHART_BUCKETS, CSS, chartData, chartLibrary, escapeHtml, scriptJson } from './report-html.ts';

export interface CompareRun {
  readonly name: string;
  readonly report: BacktestReport;
}

export const DiffKind = { ONLY_BASE: 'only-base', ONLY_OTHER: 'only-other', CHANGED: 'changed' } as const;
export type DiffKind = (typeof DiffKind)[keyof typeof DiffKind];

export interface TradeDiff {
  kind: DiffKind;
  instrument: string;
  base: Trade | null;
  other: Trade | null;
}

export interface PairDiff {
  /** Index of the run compared with run 0. */
  run: number;
  same: number;
  onlyBase: number;
  onlyOther: number;
  changed: number;
  /** Every difference, in entry time order. */
  diffs: TradeDiff[];
}

export interface Comparison {
  /** `label` is A, B, C...: the column heads of the side-by-side tables. */
  runs: {
    label: string;
    name: string;
    strategy: string;
    data: string;
    createdAt: string;
    fingerprint: string;
  }[];
  /** Label, then one formatted value per run. */
  stats: { label: string; values: string[] }[];
  params: { key: string; values: string[] }[];
  pairs: PairDiff[];
}

/** Differing trades listed in text and in the page per pair (the counts cover all). */
export const DIFFS_LISTED_TEXT = 20;
export const DIFFS_LISTED_HTML = 1000;

const COLOURS = ['#1e6fd9', '#d9731e', '#1a9850', '#8e44ad', '#d73027', '#16a2b8', '#6b7385', '#b8860b'];

/** A, B, ... Z, then R27, R28... */
export function runLabel(i: number): string {
  return i < 26 ? String.fromCharCode(65 + i) : `R${i + 1}`;
}

function tradeKey(r: BacktestReport, t: Trade): string {
  return `${r.instruments[t.slot]?.key ?? t.slot}|${t.positionSide}|${t.direction}|${t.entryTs}`;
}

function sameTrade(a: Trade, b: Trade): boolean {
  return a.exitTs === b.exitTs && a.qty === b.qty && a.exitQty === b.exitQty && a.netPnl === b.netPnl;
}

/** The trades of `other` that differ from `base`'s. */
export function diffTrades(base: BacktestReport, other: BacktestReport, run = 1): PairDiff {
  const pending = new Map<string, Trade[]>();
  for (const t of base.trades) {
    const k = tradeKey(base, t);
    const list = pending.get(k);
    if (list === undefined) pending.set(k, [t]);
    else list.push(t);
  }
  const out: PairDiff = { run, same: 0, onlyBase: 0, onlyOther: 0, changed: 0, diffs: [] };
  const inst = (r: BacktestReport, t: Trade): string => r.instruments[t.slot]?.key ?? String(t.slot);
  for (const t of other.trades) {
    const b = pending.get(tradeKey(other, t))?.shift();
    if (b === undefined) {
      out.onlyOther++;
      out.diffs.push({ kind: 'only-other', instrument: inst(other, t), base: null, other: t });
    } else if (sameTrade(b, t)) {
      out.same++;
    } else {
      out.changed++;
      out.diffs.push({ kind: 'changed', instrument: inst(other, t), base: b, other: t });
    }
  }
  for (const list of pending.values()) {
    for (const b of list) {
      out.onlyBase++;
      out.diffs.push({ kind: 'only-base', instrument: inst(base, b), base: b, other: null });
    }
  }
  const entry = (d: TradeDiff): number => (d.base ?? d.other)!.entryTs;
  out.diffs.sort((x, y) => entry(x) - entry(y) || x.instrument.localeCompare(y.instrument));
  return out;
}

function paramText(v: unknown): string {
  return v === undefined ? '' : typeof v === 'string' ? v : JSON.stringify(v);
}

export function compareRuns(runs: readonly CompareRun[]): Comparison {
  const rows = runs.map((r) => statRows(r.report.stats));
  const stats = rows[0]!.map((row, i) => ({
    label: row.label,
    values: rows.map((rs) => rs[i]?.value ?? ''),
  }));
  const mcs = runs.map((r) => (r.report.analysis ?? analyse(r.report)).monteCarlo);
  const mcRow = (label: string, pick: (m: NonNullable<(typeof mcs)[number]>) => number): void => {
    stats.push({ label, values: mcs.map((m) => (m === null ? 'n/a' : formatPct(pick(m), 2))) });
  };
  mcRow('Monte Carlo return p5', (m) => m.totalReturn.p5);
  mcRow('Monte Carlo return p50', (m) => m.totalReturn.p50);
  mcRow('Monte Carlo max drawdown p50', (m) => m.maxDrawdown.p50);
  mcRow('Monte Carlo max drawdown p95', (m) => m.maxDrawdown.p95);
  const keys = [...new Set(runs.flatMap((r) => Object.keys(r.report.parameters)))].sort();
  return {
    runs: runs.map((r, i) => ({
      label: runLabel(i),
      name: r.name,
      strategy: r.report.meta.strategy,
      data: r.report.meta.data,
      createdAt: r.report.createdAt,
      fingerprint: r.report.fingerprint,
    })),
    stats,
    params: keys.map((key) => ({ key, values: runs.map((r) => paramText(r.report.parameters[key])) })),
    pairs: runs.slice(1).map((r, i) => diffTrades(runs[0]!.report, r.report, i + 1)),
  };
}

function diffTable(c: Comparison, runs: readonly CompareRun[], p: PairDiff, limit: number): Table {
  const base = runs[0]!.report;
  const other = runs[p.run]!.report;
  const cur = base.stats.currency;
  const side = (t: Trade | null): string => (t === null ? '' : t.direction > 0 ? 'long' : 'short');
  const exit = (t: Trade | null): string =>
    t === null ? '-' : t.exitTs === null ? 'open' : formatTime(t.exitTs);
  const net = (t: Trade | null): string => (t === null ? '-' : formatMoneyUnits(t.netPnl, cur, true));
  const total = p.onlyBase + p.onlyOther + p.changed;
  const shown = p.diffs.slice(0, limit);
  const notes: string[] = [];
  if (shown.length < p.diffs.length) notes.push(`first ${shown.length} of ${p.diffs.length} listed`);
  if (cur.code !== other.stats.currency.code) {
    notes.push(`the runs report in ${cur.code} and ${other.stats.currency.code}: net PnL in each one's own`);
  }
  const a = c.runs[0]!.label;
  const b = c.runs[p.run]!.label;
  const kindText = { 'only-base': `only in ${a}`, 'only-other': `only in ${b}`, changed: 'changed' };
  return {
    title: `Trades that differ: ${b} against ${a} (${total} differ, ${p.same} the same)`,
    head: ['Entry', 'Instrument', 'Side', 'Difference', `Exit ${a}`, `Exit ${b}`, `Net ${a}`, `Net ${b}`],
    left: [1, 2, 3],
    rows: shown.map((d) => {
      const t = (d.base ?? d.other)!;
      return [
        formatTime(t.entryTs),
        d.instrument,
        side(t),
        kindText[d.kind],
        exit(d.base),
        exit(d.other),
        net(d.base),
        net(d.other),
      ];
    }),
    ...(notes.length > 0 ? { note: notes.join('; ') } : {}),
  };
}

/** The comparison as text: statistics side by side, parameters, and per pair the trades that differ. */
export function formatComparison(c: Comparison, runs: readonly CompareRun[]): string {
  const names = c.runs.map((r) => r.label);
  const tables: Table[] = [
    {
      title: `Runs compared (${names.length}; trades against ${names[0]})`,
      head: ['', 'Run', 'Strategy', 'Data', 'Created'],
      rows: c.runs.map((r) => [r.label, r.name, r.strategy, r.data, r.createdAt]),
      left: [1, 2, 3, 4],
    },
    { title: 'Statistics', head: ['Statistic', ...names], rows: c.stats.map((s) => [s.label, ...s.values]) },
  ];
  if (c.params.length > 0) {
    tables.push({
      title: 'Parameters',
      head: ['Parameter', ...names],
      rows: c.params.map((p) => [p.key, ...p.values]),
    });
  }
  for (const p of c.pairs) tables.push(diffTable(c, runs, p, DIFFS_LISTED_TEXT));
  return tables.map(textTable).join('\n\n');
}

function htmlRows(t: Table): string {
  const l = (i: number): string => (i === 0 || t.left?.includes(i) === true ? ' class="l"' : '');
  const head = t.head.map((h, i) => `<th${l(i)}>${escapeHtml(h)}</th>`).join('');
  const body =
    t.rows.length === 0
      ? `<tr><td class="l muted" colspan="${t.head.length}">None.</td></tr>`
      : t.rows
          .map((r) => `<tr>${r.map((v, i) => `<td${l(i)}>${escapeHtml(v)}</td>`).join('')}</tr>`)
          .join('');
  const note = t.note === undefined ? '' : `<p class="muted">${escapeHtml(t.note)}</p>`;
  return `<section class="panel"><h2>${escapeHtml(t.title)}</h2><div class="scroll"><table class="atable"><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table></div>${note}</section>`;
}

/** The compare page: equity and drawdown of every run overlaid, statistics, parameters, differing trades. */
export function renderCompareHtml(c: Comparison, runs: readonly CompareRun[]): string {
  const lib = chartLibrary();
  const names = c.runs.map((r) => r.label);
  const series = runs.map((r, i) => {
    const ch = chartData(r.report, CHART_BUCKETS);
    return {
      name: `${c.runs[i]!.label}: ${r.name}`,
      colour: COLOURS[i % COLOURS.length]!,
      currency: r.report.stats.currency.code,
      decimals: ch.moneyDecimals,
      time: ch.time,
      equity: ch.equity,
      drawdown: ch.drawdown,
    };
  });
  const currencies = [...new Set(series.map((s) => s.currency))];
  const tables: Table[] = [
    {
      title: 'Runs',
      head: ['', 'Run', 'Strategy', 'Data', 'Created', 'Fingerprint'],
      rows: c.runs.map((r) => [r.label, r.name, r.strategy, r.data, r.createdAt, r.fingerprint]),
      left: [1, 2, 3, 4, 5],
    },
    { title: 'Statistics', head: ['Statistic', ...names], rows: c.stats.map((s) => [s.label, ...s.values]) },
    { title: 'Parameters', head: ['Parameter', ...names], rows: c.params.map((p) => [p.key, ...p.values]) },
    ...c.pairs.map((p) => diffTable(c, runs, p, DIFFS_LISTED_HTML)),
  ];
  const legend = series
    .map((s) => `<span><i class="sw" style="background:${s.colour}"></i>${escapeHtml(s.name)}</span>`)
    .join('');
  const title = `Backtest comparison: ${c.runs.map((r) => r.name).join(' vs ')}`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="bot4 backtest comparison v1">
<title>${escapeHtml(title)}</title>
<style>${CSS}${ANALYSIS_CSS}</style>
</head>
<body>
<header>
<h1>${escapeHtml(title)}</h1>
<p class="sub">${escapeHtml(`${names.length} runs (${names.join(', ')}); trades compared with ${names[0]}'s`)}</p>
</header>
<main>
<section class="panel">
<div class="toolbar"><h2>Equity and drawdown, overlaid</h2><span class="muted" id="series-count"></span></div>
<div class="legend">${legend}<span class="muted">Panes: equity (${escapeHtml(currencies.join(', '))}), drawdown from the running peak (%). Times UTC.${currencies.length > 1 ? ' The runs report in different currencies: their equity is not on one scale.' : ''}</span></div>
<div id="chart"><noscript>The charts need JavaScript.</noscript></div>
</section>
${tables.map(htmlRows).join('\n')}
</main>
<footer>Generated by Bot4. Charts by TradingView Lightweight Charts&trade; ${escapeHtml(lib.version)} (${escapeHtml(lib.license)}), Copyright &copy; TradingView, Inc., embedded in this file.</footer>
<script type="application/json" id="bot4-compare">${scriptJson(series)}</script>
<script>${lib.code}</script>
<script>${COMPARE_JS}</script>
</body>
</html>
`;
}

// The page's script: plain ES2017 without template literals, like the report page's.
const COMPARE_JS = `
(function () {
  'use strict';
  var S = JSON.parse(document.getElementById('bot4-compare').textContent);
  var LC = window.LightweightCharts;
  var el = document.getElementById('chart');
  var drawn = 0;
  if (LC && el) {
    var chart = LC.createChart(el, {
      autoSize: true,
      layout: { background: { type: 'solid', color: '#ffffff' }, textColor: '#384152', fontSize: 11 },
      grid: { vertLines: { color: '#f0f2f5' }, horzLines: { color: '#f0f2f5' } },
      timeScale: { borderColor: '#e3e6ec', timeVisible: true, secondsVisible: false, minBarSpacing: 0.01 },
      localization: { locale: 'en-US' }
    });
    S.forEach(function (s) {
      if (s.time.length === 0) return;
      var eq = chart.addSeries(LC.LineSeries, {
        color: s.colour, lineWidth: 2, priceLineVisible: false, title: s.name,
        priceFormat: { type: 'price', precision: s.decimals, minMove: Math.pow(10, -s.decimals) }
      }, 0);
      var dd = chart.addSeries(LC.LineSeries, {
        color: s.colour, lineWidth: 1, priceLineVisible: false,
        priceFormat: { type: 'percent', precision: 2, minMove: 0.01 }
      }, 1);
      eq.setData(s.time.map(function (t, i) { return { time: t, value: s.equity[i] }; }));
      dd.setData(s.time.map(function (t, i) { return { time: t, value: s.drawdown[i] }; }));
      drawn++;
    });
    var panes = chart.panes();
    if (panes.length === 2) { panes[0].setStretchFactor(3); panes[1].setStretchFactor(1); }
    chart.timeScale().fitContent();
    if (window.requestAnimationFrame) window.requestAnimationFrame(function () { chart.timeScale().fitContent(); });
  }
  document.getElementById('series-count').textContent = drawn + ' equity curves';
  window.bot4Compare = { series: S, drawn: drawn, ready: true };
})();
`;
