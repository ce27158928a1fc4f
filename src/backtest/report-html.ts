// The self-contained HTML page of a backtest report: TradingView Lightweight Charts (read from node_modules
// and inlined), the full report JSON and a downsampled chart series in script tags; no external URL is loaded.
// Invariant: nothing embedded can close its <script> early (JSON escapes '<'; the library is checked).

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Bot4Error, ErrorCode } from '../core/errors.ts';
import { feeLine } from '../model/fee-schedule.ts';
import { analyse } from './analysis.ts';
import { ANALYSIS_CSS, analysisHtml } from './analysis-format.ts';
import { breakdownHtml } from './breakdown.ts';
import type { BacktestReport } from './report.ts';
import {
  displayDecimals,
  formatDuration,
  formatPct,
  formatTime,
  formatUnits,
  statRows,
} from './report-format.ts';
import { drawdownSeries } from './stats.ts';

/** Buckets of the chart's downsampling: about one per horizontal pixel of a wide chart. */
export const CHART_BUCKETS = 1500;

/**
 * Which samples the chart draws. The rule: with n <= 2 x buckets samples, all of them. Otherwise the n samples
 * are cut into `buckets` runs of equal length (samples are evenly spaced in time, so equal time), and in each
 * run the sample holding the minimum and the one holding the maximum of EVERY series are kept (NaN ignored),
 * plus the first and last sample. So each series' peaks and troughs (the drawdown's deepest point, a price
 * spike) survive, and all series share the kept timestamps. At most 2 x series x buckets + 2 samples.
 */
export function downsampleIndices(
  n: number,
  series: readonly ArrayLike<number>[],
  buckets: number = CHART_BUCKETS,
): number[] {
  if (n <= 2 * buckets) return Array.from({ length: n }, (_, i) => i);
  const keep = new Uint8Array(n);
  keep[0] = 1;
  keep[n - 1] = 1;
  for (let b = 0; b < buckets; b++) {
    const lo = Math.floor((b * n) / buckets);
    const hi = Math.floor(((b + 1) * n) / buckets);
    for (let k = 0; k < series.length; k++) {
      const s = series[k]!;
      let iMin = -1;
      let iMax = -1;
      // The extremes so far, held in locals (a 1M-sample curve is scanned this way up to three times a report).
      let vMin = 0;
      let vMax = 0;
      for (let i = lo; i < hi; i++) {
        const v = s[i]!;
        if (Number.isNaN(v)) continue;
        if (iMin < 0) {
          iMin = i;
          iMax = i;
          vMin = v;
          vMax = v;
        } else if (v < vMin) {
          iMin = i;
          vMin = v;
        } else if (v > vMax) {
          iMax = i;
          vMax = v;
        }
      }
      if (iMin >= 0) keep[iMin] = 1;
      if (iMax >= 0) keep[iMax] = 1;
    }
  }
  const out: number[] = [];
  for (let i = 0; i < n; i++) if (keep[i] === 1) out.push(i);
  return out;
}

export interface ChartMarker {
  time: number;
  position: 'atPriceTop' | 'atPriceBottom' | 'atPriceMiddle';
  price: number;
  shape: 'arrowUp' | 'arrowDown' | 'circle';
  color: string;
  text: string;
  id: string;
}

/** What the page's chart draws: decimal values (floats, display only) at whole seconds. */
export interface ChartData {
  /** UTC seconds, strictly increasing (the chart library's time unit). */
  time: number[];
  equity: number[];
  /** Drawdown from the running peak, percent, <= 0. */
  drawdown: number[];
  /** Per instrument slot: decimal price, null before its first price. */
  prices: (number | null)[][];
  markers: ChartMarker[][];
  moneyDecimals: number;
  sourcePoints: number;
  points: number;
  buckets: number;
}

const MARKER_TEXT_LIMIT = 300;

function lowerBound(a: readonly number[], x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (a[mid]! <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * The chart's series from a report: downsampled by downsampleIndices, then put on whole seconds (the chart
 * library needs strictly increasing integer times; below one-second sampling a later sample in the same second
 * is dropped). Trade markers sit at their average entry/exit price, on the last drawn time at or before them.
 */
export function chartData(report: BacktestReport, buckets: number = CHART_BUCKETS): ChartData {
  const eq = report.equity;
  const n = eq.ts.length;
  const dd = drawdownSeries(eq.equity);
  const priceTicks = report.prices.map((p) => Float64Array.from(p, (x) => (x === null ? Number.NaN : x)));
  const idx = downsampleIndices(n, [eq.equity, dd, ...priceTicks], buckets);
  const scale = 10 ** report.currency.precision;
  const time: number[] = [];
  const kept: number[] = [];
  let prev = Number.NEGATIVE_INFINITY;
  for (const i of idx) {
    const sec = Math.floor(eq.ts[i]! / 1_000_000);
    if (sec <= prev) continue;
    prev = sec;
    time.push(sec);
    kept.push(i);
  }
  const tickOf = report.instruments.map((inst) => Number(inst.tickSize));
  const px = (slot: number, ticks: number): number => {
    const inst = report.instruments[slot]!;
    return Number((ticks * tickOf[slot]!).toFixed(inst.pricePrecision));
  };
  const prices = priceTicks.map((p, slot) => kept.map((i) => (Number.isNaN(p[i]!) ? null : px(slot, p[i]!))));
  const snap = (us: number): number => {
    const k = lowerBound(time, Math.floor(us / 1_000_000));
    return time[Math.max(0, k - 1)] ?? 0;
  };
  const markers: ChartMarker[][] = report.instruments.map(() => []);
  const perSlot = new Array<number>(report.instruments.length).fill(0);
  for (const t of report.trades) perSlot[t.slot] = (perSlot[t.slot] ?? 0) + 1;
  for (const t of report.trades) {
    const list = markers[t.slot];
    if (list === undefined || time.length === 0) continue;
    const withText = (perSlot[t.slot] ?? 0) <= MARKER_TEXT_LIMIT;
    const long = t.direction > 0;
    list.push({
      time: snap(t.entryTs),
      position: long ? 'atPriceBottom' : 'atPriceTop',
      price: px(t.slot, t.entryPx),
      shape: long ? 'arrowUp' : 'arrowDown',
      color: long ? '#1e6fd9' : '#d9731e',
      text: withText ? (long ? 'L' : 'S') : '',
      id: `e${t.id}`,
    });
    if (t.exitTs !== null && t.exitPx !== null) {
      list.push({
        time: snap(t.exitTs),
        position: 'atPriceMiddle',
        price: px(t.slot, t.exitPx),
        shape: 'circle',
        color: t.netPnl >= 0 ? '#1a9850' : '#d73027',
        text: '',
        id: `x${t.id}`,
      });
    }
  }
  for (const list of markers) list.sort((a, b) => a.time - b.time);
  return {
    time,
    equity: kept.map((i) => eq.equity[i]! / scale),
    drawdown: kept.map((i) => (dd[i]! === 0 ? 0 : -dd[i]! * 100)),
    prices,
    markers,
    moneyDecimals: displayDecimals(report.currency),
    sourcePoints: n,
    points: kept.length,
    buckets,
  };
}

export interface ChartLibrary {
  name: string;
  version: string;
  license: string;
  code: string;
}

let library: ChartLibrary | null = null;

/** The standalone build of lightweight-charts from node_modules (it defines window.LightweightCharts). */
export function chartLibrary(): ChartLibrary {
  if (library !== null) return library;
  const require = createRequire(import.meta.url);
  let pkgPath: string;
  try {
    pkgPath = require.resolve('lightweight-charts/package.json');
  } catch (e) {
    throw new Bot4Error(
      ErrorCode.DATA_MISSING,
      'the HTML report needs the lightweight-charts package; run `npm install` in the Bot4 folder',
      {},
      { cause: e },
    );
  }
  const pkg = JSON.parse(readFileSync(pkgPath, 'utf8')) as { version: string; license: string };
  const code = readFileSync(
    join(dirname(pkgPath), 'dist', 'lightweight-charts.standalone.production.js'),
    'utf8',
  );
  if (/<\/script|<!--/i.test(code)) {
    throw new Bot4Error(
      ErrorCode.INTERNAL,
      `lightweight-charts ${pkg.version} contains '</script' or '<!--' and cannot be inlined as it is`,
    );
  }
  library = { name: 'lightweight-charts', version: pkg.version, license: pkg.license, code };
  return library;
}

/** What scriptJson escapes, found in one pass over the text (a long run's JSON is tens of MB). */
const SCRIPT_UNSAFE = /[<\u2028\u2029]/g;
const SCRIPT_ESCAPES: Readonly<Record<string, string>> = {
  '<': '\\u003c',
  '\u2028': '\\u2028',
  '\u2029': '\\u2029',
};

/** JSON safe inside <script>: '<' (so '</script>' and '<!--') and the JS line separators escaped. */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(SCRIPT_UNSAFE, (c) => SCRIPT_ESCAPES[c]!);
}

export function escapeHtml(s: string): string {
  return s
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

function cell(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'object') return escapeHtml(JSON.stringify(v));
  return escapeHtml(String(v));
}

function kvTable(rows: readonly (readonly [string, string])[], cls = 'kv'): string {
  return `<table class="${cls}"><tbody>${rows
    .map(([k, v]) => `<tr><th>${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`)
    .join('')}</tbody></table>`;
}

export interface HtmlOptions {
  /** Chart downsampling buckets (default CHART_BUCKETS). */
  readonly buckets?: number;
}

/** The whole page as one string: opens offline, from a file, with no request to any server. */
export function renderHtml(report: BacktestReport, options: HtmlOptions = {}): string {
  const s = report.stats;
  const c = report.currency;
  const lib = chartLibrary();
  const chart = chartData(report, options.buckets ?? CHART_BUCKETS);
  const toneClass = (t: number): string => (t > 0 ? 'pos' : t < 0 ? 'neg' : '');
  const kpis: [string, string, number][] = [
    [
      `Net profit (${c.code})`,
      formatUnits(s.netProfit, c.precision, displayDecimals(c), true),
      Math.sign(s.netProfit),
    ],
    ['Total return', formatPct(s.totalReturn, 2, true), Math.sign(s.totalReturn ?? 0)],
    ['Sharpe', s.sharpe === null ? 'n/a' : s.sharpe.toFixed(2), Math.sign(s.sharpe ?? 0)],
    ['Max drawdown', formatPct(s.maxDrawdown === 0 ? 0 : -s.maxDrawdown), s.maxDrawdown > 0 ? -1 : 0],
    ['Trades', String(s.trades), 0],
    ['Win rate', formatPct(s.winRate, 1), 0],
    ['Profit factor', s.profitFactor === null ? 'n/a' : s.profitFactor.toFixed(2), 0],
    ['Exposure', formatPct(s.exposureTime, 1), 0],
  ];
  const statsHtml = `<table class="kv stats"><tbody>${statRows(s)
    .map(
      (r) =>
        `<tr><th>${escapeHtml(r.label)}</th><td class="${toneClass(r.tone)}">${escapeHtml(r.value)}</td></tr>`,
    )
    .join('')}</tbody></table>`;
  const m = report.meta;
  const runRows: [string, string][] = [
    ['Strategy', m.strategy],
    ['Data', m.data],
    ['Time range', `${formatTime(m.startTs)} to ${formatTime(m.endTs)} UTC`],
    ['Events processed', m.eventsProcessed.toLocaleString('en-US')],
    ['Wall time', formatDuration(m.wallTimeMs * 1000)],
    [
      'Events / second',
      m.eventsPerSecond === null ? 'n/a' : Math.round(m.eventsPerSecond).toLocaleString('en-US'),
    ],
    ['Sampling interval', formatDuration(report.equity.intervalMicros)],
    ['Instruments', report.instruments.map((i) => i.key).join(', ') || 'none'],
    [
      'Fees (maker / taker)',
      report.instruments.map((i) => feeLine(i.key, i.makerFee, i.takerFee, i.feeSource)).join('; ') || 'none',
    ],
    ['Currency', `${c.code} (${c.precision} dp units)`],
    ['Fingerprint', report.fingerprint],
    ['Report created', report.createdAt],
  ];
  if (m.partial)
    runRows.push(['Stopped early', 'yes: interrupted (Ctrl-C), figures cover the part that ran']);
  for (const [k, v] of Object.entries(m.extra))
    runRows.push([k, typeof v === 'string' ? v : JSON.stringify(v)]);
  const params = Object.entries(report.parameters);
  const paramsHtml =
    params.length === 0
      ? '<p class="muted">No parameters.</p>'
      : `<table class="kv"><tbody>${params.map(([k, v]) => `<tr><th>${escapeHtml(k)}</th><td>${cell(v)}</td></tr>`).join('')}</tbody></table>`;
  const notesHtml =
    report.notes.length === 0
      ? ''
      : `<section class="panel notes"><h2>Notes</h2><ul>${report.notes.map((n) => `<li>${escapeHtml(n)}</li>`).join('')}</ul></section>`;
  const choices = report.instruments
    .map((i) => `<option value="${i.slot}">${escapeHtml(i.key)}</option>`)
    .join('');
  const dsNote =
    chart.points < chart.sourcePoints
      ? `Chart: ${chart.points.toLocaleString('en-US')} of ${chart.sourcePoints.toLocaleString('en-US')} samples (min/max per bucket, ${chart.buckets} buckets); report.json has them all.`
      : `Chart: all ${chart.sourcePoints.toLocaleString('en-US')} samples.`;
  const title = `Backtest: ${m.strategy}`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="bot4 ${escapeHtml(REPORT_GENERATOR)}">
<title>${escapeHtml(title)}</title>
<style>${CSS}${ANALYSIS_CSS}</style>
</head>
<body>
<header>
<h1>${escapeHtml(title)}</h1>
<p class="sub">${escapeHtml(m.data)} &middot; ${escapeHtml(formatTime(m.startTs))} to ${escapeHtml(formatTime(m.endTs))} UTC &middot; fingerprint <code>${escapeHtml(report.fingerprint)}</code></p>
</header>
<main>
<section class="kpis">${kpis
    .map(
      ([k, v, t]) =>
        `<div class="kpi"><div class="k">${escapeHtml(k)}</div><div class="v ${toneClass(t)}">${escapeHtml(v)}</div></div>`,
    )
    .join('')}</section>
<section class="panel">
<div class="toolbar"><h2>Price, equity and drawdown</h2>${report.instruments.length > 1 ? `<label>Instrument <select id="instrument">${choices}</select></label>` : ''}<span class="muted" id="ds-note">${escapeHtml(dsNote)}</span></div>
<div class="legend"><span><i class="sw" style="background:#1e6fd9"></i>long entry</span><span><i class="sw" style="background:#d9731e"></i>short entry</span><span><i class="sw round" style="background:#1a9850"></i>exit, net win</span><span><i class="sw round" style="background:#d73027"></i>exit, net loss</span><span class="muted">Panes: price of the instrument, equity (${escapeHtml(c.code)}), drawdown from the running peak (%). Times UTC.</span></div>
<div id="chart"><noscript>The charts need JavaScript.</noscript></div>
</section>
<div class="grid2">
<section class="panel"><h2>Statistics</h2>${statsHtml}</section>
<section class="panel"><h2>Run</h2>${kvTable(runRows)}<h2>Parameters</h2>${paramsHtml}</section>
</div>
${notesHtml}
${analysisHtml(report.analysis ?? analyse(report), c)}
${breakdownHtml(report.breakdown, c)}
<section class="panel">
<div class="toolbar"><h2>Trades</h2><span class="muted" id="trade-count"></span><span class="pager"><button id="prev" type="button">&lsaquo; Prev</button><span id="page"></span><button id="next" type="button">Next &rsaquo;</button></span></div>
<div class="scroll"><table class="trades" id="trades"><thead></thead><tbody></tbody></table></div>
<p class="muted">Money in ${escapeHtml(c.code)}. Prices are volume-weighted averages of the entering and exiting fills. Click a column to sort, a row to show the trade on the chart.</p>
</section>
</main>
<footer>Generated by Bot4. Charts by TradingView Lightweight Charts&trade; ${escapeHtml(lib.version)} (${escapeHtml(lib.license)}), Copyright &copy; TradingView, Inc., embedded in this file.</footer>
<script type="application/json" id="bot4-report">${scriptJson(report)}</script>
<script type="application/json" id="bot4-chart">${scriptJson(chart)}</script>
<script>${lib.code}</script>
<script>${APP_JS}</script>
</body>
</html>
`;
}

const REPORT_GENERATOR = 'backtest report v1';

export const CSS = `
:root{--bg:#f6f7f9;--panel:#fff;--ink:#1d2330;--muted:#6b7385;--line:#e3e6ec;--pos:#1a9850;--neg:#d73027;--accent:#1e6fd9}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--ink);font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif}
header{padding:20px 28px 8px}
h1{margin:0;font-size:22px;font-weight:650}
h2{margin:0 0 10px;font-size:15px;font-weight:600}
table+h2{margin-top:20px}
.sub{margin:4px 0 0;color:var(--muted)}
code{font:12px ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;background:#eef0f4;padding:1px 5px;border-radius:4px}
main{padding:8px 28px 28px;display:flex;flex-direction:column;gap:16px}
.panel{background:var(--panel);border:1px solid var(--line);border-radius:10px;padding:16px}
.kpis{display:grid;grid-template-columns:repeat(auto-fit,minmax(150px,1fr));gap:12px}
.kpi{background:var(--panel);border:1px solid var(--line);border-radius:10px;padding:12px 14px}
.kpi .k{color:var(--muted);font-size:12px;text-transform:uppercase;letter-spacing:.04em}
.kpi .v{font-size:19px;overflow-wrap:anywhere;font-weight:650;margin-top:2px;font-variant-numeric:tabular-nums}
.pos{color:var(--pos)}.neg{color:var(--neg)}.muted{color:var(--muted);font-size:12px}
.toolbar{display:flex;align-items:center;gap:16px;flex-wrap:wrap;margin-bottom:8px}
.toolbar h2{margin:0}
.legend{display:flex;gap:16px;flex-wrap:wrap;font-size:12px;margin-bottom:8px}
.sw{display:inline-block;width:10px;height:10px;margin-right:5px;vertical-align:-1px;border-radius:2px}
.sw.round{border-radius:50%}
#chart{height:620px;position:relative}
.grid2{display:grid;grid-template-columns:1fr 1fr;gap:16px}
@media (max-width:900px){.grid2{grid-template-columns:1fr}}
table{border-collapse:collapse;width:100%}
.kv th{text-align:left;font-weight:500;color:var(--muted);padding:5px 12px 5px 0;white-space:nowrap;width:1%}
.kv td{padding:5px 0;font-variant-numeric:tabular-nums;word-break:break-all}
.kv tr+tr th,.kv tr+tr td{border-top:1px solid var(--line)}
.stats td{text-align:right}
.scroll{overflow-x:auto}
.trades th,.trades td{padding:6px 10px;border-bottom:1px solid var(--line);white-space:nowrap;text-align:right;font-variant-numeric:tabular-nums}
.trades th{position:sticky;top:0;background:#fafbfc;cursor:pointer;user-select:none;font-weight:600;font-size:12px;color:var(--muted)}
.trades th.sorted{color:var(--ink)}
.trades td.l,.trades th.l{text-align:left}
.trades tbody tr{cursor:pointer}
.trades tbody tr:hover{background:#f0f5ff}
.pager{margin-left:auto;display:flex;gap:8px;align-items:center}
button{font:inherit;font-size:12px;padding:4px 10px;border:1px solid var(--line);border-radius:6px;background:#fff;cursor:pointer}
button:disabled{opacity:.4;cursor:default}
select{font:inherit;padding:3px 6px;border:1px solid var(--line);border-radius:6px;background:#fff}
.notes ul{margin:0;padding-left:18px}
footer{padding:0 28px 24px;color:var(--muted);font-size:12px}
`;

// The page's script: plain ES2017, no template literals (it lives in one), reads the two JSON blocks.
const APP_JS = String.raw`
(function () {
  'use strict';
  var R = JSON.parse(document.getElementById('bot4-report').textContent);
  var C = JSON.parse(document.getElementById('bot4-chart').textContent);
  var CUR = R.currency;
  var DEC = C.moneyDecimals;
  var SCALE = Math.pow(10, CUR.precision);
  function esc(s) {
    return String(s).replace(/[&<>"']/g, function (ch) {
      return { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[ch];
    });
  }
  function num(x, d) {
    return x.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });
  }
  function money(u) {
    return u === null || u === undefined ? '' : num(u / SCALE, DEC);
  }
  function time(us) {
    return us === null ? '' : new Date(Math.floor(us / 1000)).toISOString().replace('T', ' ').slice(0, 19);
  }
  function dur(us) {
    if (us === null) return '';
    var s = Math.round(us / 1e6);
    var d = Math.floor(s / 86400); s -= d * 86400;
    var h = Math.floor(s / 3600); s -= h * 3600;
    var m = Math.floor(s / 60); s -= m * 60;
    if (d > 0) return d + 'd ' + h + 'h';
    if (h > 0) return h + 'h ' + m + 'm';
    if (m > 0) return m + 'm ' + s + 's';
    return s + 's';
  }
  function inst(slot) { return R.instruments[slot]; }
  function price(slot, ticks) {
    if (ticks === null) return '';
    var i = inst(slot);
    return num(ticks * Number(i.tickSize), i.pricePrecision);
  }
  function qty(slot, lots) {
    var i = inst(slot);
    return num(lots * Number(i.lotSize), i.sizePrecision);
  }

  // ---- chart: one chart, three panes sharing the time axis
  var LC = window.LightweightCharts;
  var chart = null;
  var priceSeries = null;
  var markers = null;
  var el = document.getElementById('chart');
  if (LC && el && C.time.length > 0) {
    chart = LC.createChart(el, {
      autoSize: true,
      layout: {
        background: { type: 'solid', color: '#ffffff' },
        textColor: '#384152',
        fontSize: 11,
        attributionLogo: true,
        panes: { separatorColor: '#e3e6ec', separatorHoverColor: 'rgba(30,111,217,0.15)' }
      },
      grid: { vertLines: { color: '#f0f2f5' }, horzLines: { color: '#f0f2f5' } },
      rightPriceScale: { borderColor: '#e3e6ec' },
      // A small minimum bar spacing lets the whole downsampled run (up to a few thousand points) fit the
      // width; the library's default (0.5 px) would cut off its start.
      timeScale: { borderColor: '#e3e6ec', timeVisible: true, secondsVisible: false, minBarSpacing: 0.01 },
      crosshair: { mode: 0 },
      localization: { locale: 'en-US' }
    });
    priceSeries = chart.addSeries(LC.LineSeries, {
      color: '#384152', lineWidth: 1, priceLineVisible: false, title: ''
    }, 0);
    var eq = chart.addSeries(LC.AreaSeries, {
      lineColor: '#1e6fd9', topColor: 'rgba(30,111,217,0.25)', bottomColor: 'rgba(30,111,217,0.02)',
      lineWidth: 2, priceLineVisible: false,
      priceFormat: { type: 'price', precision: DEC, minMove: Math.pow(10, -DEC) }
    }, 1);
    var dd = chart.addSeries(LC.AreaSeries, {
      lineColor: '#d73027', topColor: 'rgba(215,48,39,0.02)', bottomColor: 'rgba(215,48,39,0.30)',
      invertFilledArea: true, lineWidth: 1, priceLineVisible: false,
      priceFormat: { type: 'percent', precision: 2, minMove: 0.01 }
    }, 2);
    eq.setData(C.time.map(function (t, i) { return { time: t, value: C.equity[i] }; }));
    dd.setData(C.time.map(function (t, i) { return { time: t, value: C.drawdown[i] }; }));
    var panes = chart.panes();
    if (panes.length === 3) {
      panes[0].setStretchFactor(3);
      panes[1].setStretchFactor(2);
      panes[2].setStretchFactor(1);
    }
    markers = LC.createSeriesMarkers(priceSeries, []);
    chart.timeScale().fitContent();
    // autoSize measures the container a frame later: fit again once it has.
    if (window.requestAnimationFrame) window.requestAnimationFrame(function () { chart.timeScale().fitContent(); });
  }
  function showInstrument(slot) {
    if (!priceSeries || !inst(slot)) return;
    var i = inst(slot);
    var tick = Number(i.tickSize);
    priceSeries.applyOptions({
      title: i.symbol,
      priceFormat: { type: 'price', precision: i.pricePrecision, minMove: tick }
    });
    var p = C.prices[slot];
    priceSeries.setData(C.time.map(function (t, k) {
      return p[k] === null ? { time: t } : { time: t, value: p[k] };
    }));
    markers.setMarkers(C.markers[slot]);
  }
  var select = document.getElementById('instrument');
  if (select) select.addEventListener('change', function () { showInstrument(Number(select.value)); });
  showInstrument(0);

  // ---- trades: sortable, paged
  var COLS = [
    ['#', 'id', function (t) { return t.id + 1; }, 'l'],
    ['Instrument', 'slot', function (t) { return esc(inst(t.slot).symbol); }, 'l'],
    ['Side', 'direction', function (t) {
      return '<span class="' + (t.direction > 0 ? 'pos' : 'neg') + '">' + (t.direction > 0 ? 'Long' : 'Short') + '</span>';
    }, 'l'],
    ['Entry time', 'entryTs', function (t) { return time(t.entryTs); }, 'l'],
    ['Entry price', 'entryPx', function (t) { return price(t.slot, t.entryPx); }],
    ['Exit time', 'exitTs', function (t) { return t.open ? '<span class="muted">open</span>' : time(t.exitTs); }, 'l'],
    ['Exit price', 'exitPx', function (t) { return price(t.slot, t.exitPx); }],
    ['Qty', 'qty', function (t) { return qty(t.slot, t.qty); }],
    ['Gross', 'grossPnl', function (t) { return money(t.grossPnl); }],
    ['Fees', 'fees', function (t) { return money(t.fees); }],
    ['Funding', 'funding', function (t) { return money(t.funding); }],
    ['Net', 'netPnl', function (t) {
      return '<span class="' + (t.netPnl > 0 ? 'pos' : t.netPnl < 0 ? 'neg' : '') + '">' + money(t.netPnl) + '</span>';
    }],
    ['Return', 'returnFraction', function (t) { return (t.returnFraction * 100).toFixed(2) + '%'; }],
    ['Duration', 'durationMicros', function (t) { return dur(t.durationMicros); }],
    ['Bars', 'bars', function (t) { return t.bars === null ? '' : t.bars; }]
  ];
  var PAGE = 100;
  var rows = R.trades.slice();
  var sortKey = 'id';
  var sortDir = 1;
  var page = 0;
  var table = document.getElementById('trades');
  var head = table.querySelector('thead');
  var body = table.querySelector('tbody');
  function renderHead() {
    head.innerHTML = '<tr>' + COLS.map(function (c) {
      var mark = c[1] === sortKey ? (sortDir > 0 ? ' \u25B4' : ' \u25BE') : '';
      return '<th data-key="' + c[1] + '" class="' + (c[3] || '') + (c[1] === sortKey ? ' sorted' : '') + '">' + c[0] + mark + '</th>';
    }).join('') + '</tr>';
  }
  function renderBody() {
    var pages = Math.max(1, Math.ceil(rows.length / PAGE));
    if (page >= pages) page = pages - 1;
    var slice = rows.slice(page * PAGE, page * PAGE + PAGE);
    body.innerHTML = slice.map(function (t) {
      return '<tr data-id="' + t.id + '">' + COLS.map(function (c) {
        return '<td class="' + (c[3] || '') + '">' + c[2](t) + '</td>';
      }).join('') + '</tr>';
    }).join('') || '<tr><td class="l muted" colspan="' + COLS.length + '">No trades.</td></tr>';
    document.getElementById('page').textContent = 'page ' + (page + 1) + ' / ' + pages;
    document.getElementById('prev').disabled = page === 0;
    document.getElementById('next').disabled = page >= pages - 1;
    var open = R.trades.filter(function (t) { return t.open; }).length;
    var total = R.tables ? R.tables.trades.total : R.trades.length;
    document.getElementById('trade-count').textContent =
      (total > R.trades.length ? R.trades.length + ' of ' + total + ' trades shown (first, last, best and worst; see the notes)' : R.trades.length + ' trades') +
      (open > 0 ? ' (' + open + ' open at the end)' : '');
  }
  function sortBy(key) {
    if (key === sortKey) sortDir = -sortDir; else { sortKey = key; sortDir = 1; }
    rows.sort(function (a, b) {
      var x = a[key], y = b[key];
      if (x === y) return a.id - b.id;
      if (x === null) return 1;
      if (y === null) return -1;
      return (x < y ? -1 : 1) * sortDir;
    });
    page = 0;
    renderHead();
    renderBody();
  }
  head.addEventListener('click', function (e) {
    var th = e.target.closest ? e.target.closest('th') : null;
    if (th && th.getAttribute('data-key')) sortBy(th.getAttribute('data-key'));
  });
  body.addEventListener('click', function (e) {
    var tr = e.target.closest ? e.target.closest('tr') : null;
    if (!tr || !chart) return;
    var id = Number(tr.getAttribute('data-id'));
    var t = R.trades.filter(function (x) { return x.id === id; })[0];
    if (!t) return;
    if (select) select.value = String(t.slot);
    showInstrument(t.slot);
    var a = Math.floor(t.entryTs / 1e6);
    var b = Math.floor((t.exitTs === null ? R.equity.ts[R.equity.ts.length - 1] : t.exitTs) / 1e6);
    var pad = Math.max(60, Math.round((b - a) * 0.5));
    chart.timeScale().setVisibleRange({ from: a - pad, to: b + pad });
    el.scrollIntoView({ behavior: 'smooth', block: 'center' });
  });
  document.getElementById('prev').addEventListener('click', function () { page--; renderBody(); });
  document.getElementById('next').addEventListener('click', function () { page++; renderBody(); });
  renderHead();
  renderBody();
  window.bot4Report = { report: R, chart: C, ready: true };
})();
`;
