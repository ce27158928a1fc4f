// The optimisation report: `optimize.json` (everything, for tools) and `optimize.html` (self-contained, opens
// offline): best parameters, the walk-forward folds with IS vs OOS objective and the degradation, the stitched
// out-of-sample equity (or the best run's equity) on lightweight-charts inlined as the backtest report does,
// a heatmap of the objective over two parameters, and every trial in a table sortable by any column.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatPct, formatTime } from '../report-format.ts';
import { chartLibrary, escapeHtml, scriptJson } from '../report-html.ts';
import { type Objective, objectiveByName } from './objective.ts';
import type { FoldResult, OptimizeResult } from './optimizer.ts';
import type { ParamSpace } from './space.ts';
import type { TrialRecord } from './store.ts';
import type { EquityCurve } from './trial.ts';
import type { WalkForwardSpec, Window } from './walk-forward.ts';

export const OPTIMIZE_REPORT_FORMAT = 'bot4.optimize-report';

export interface OptimizeMeta {
  strategy: string;
  data: string;
  search: string;
  seed: number;
  trialsPerFold: number;
  batch: number;
  range: Window;
  walkForward: WalkForwardSpec | null;
  specHash: string;
  /** What the data loaders skipped or repaired (count, first file:line, reason). */
  notes?: string[];
  /** Fee rates every trial charged, per instrument ("KEY: maker% / taker% (source)"). */
  fees?: string[];
}

export interface Heatmap {
  x: string;
  y: string;
  xs: (number | string | boolean)[];
  ys: (number | string | boolean)[];
  /** z[iy][ix]: the best objective among trials with those two values (the other parameters free); null if none. */
  z: (number | null)[][];
  fold: number;
}

export interface OptimizeReport {
  format: typeof OPTIMIZE_REPORT_FORMAT;
  version: 1;
  meta: OptimizeMeta & {
    objective: { name: string; better: string; description: string };
    workers: number;
    ran: number;
    resumed: number;
    wallMs: number;
    trialsPerSecond: number;
    partial: boolean;
  };
  space: { dims: { name: string; values: unknown[] }[]; fixed: Record<string, unknown>; where: string[] };
  best: TrialRecord | null;
  folds: FoldResult[];
  degradation: OptimizeResult['degradation'];
  stitched: EquityCurve | null;
  stitchedReturn: number | null;
  stitchedMaxDrawdown: number | null;
  heatmap: Heatmap | null;
  trials: Omit<TrialRecord, 'curve'>[];
}

export function buildOptimizeReport(
  meta: OptimizeMeta,
  objective: Objective,
  space: ParamSpace,
  result: OptimizeResult,
  heatmapDims?: readonly [string, string],
): OptimizeReport {
  const lastFold = result.folds[result.folds.length - 1];
  return {
    format: OPTIMIZE_REPORT_FORMAT,
    version: 1,
    meta: {
      ...meta,
      objective: { name: objective.name, better: objective.better, description: objective.description },
      workers: result.workers,
      ran: result.ran,
      resumed: result.resumed,
      wallMs: result.wallMs,
      trialsPerSecond: result.ran / Math.max(result.wallMs / 1000, 1e-3),
      partial: result.partial,
    },
    space: {
      dims: space.dims.map((d) => ({ name: d.name, values: [...d.values] })),
      fixed: { ...space.fixed },
      where: space.where.map((w) => w.text),
    },
    // Walk-forward: the most recent fold's best is what one would trade next (of an interrupted run, the
    // latest fold that has one).
    best: result.folds.findLast((f) => f.best !== null)?.best ?? null,
    folds: result.folds,
    degradation: result.degradation,
    stitched: result.stitched,
    stitchedReturn: result.stitchedReturn,
    stitchedMaxDrawdown: result.stitchedMaxDrawdown,
    heatmap: heatmap(objective, space, result.trials, lastFold?.index ?? 0, heatmapDims),
    trials: result.trials.map(({ curve: _c, ...rest }) => rest),
  };
}

function heatmap(
  objective: Objective,
  space: ParamSpace,
  trials: readonly TrialRecord[],
  fold: number,
  dims?: readonly [string, string],
): Heatmap | null {
  const names = dims ?? [space.dims[0]?.name, space.dims[1]?.name];
  const dx = space.dims.find((d) => d.name === names[0]);
  const dy = space.dims.find((d) => d.name === names[1]);
  if (dx === undefined || dy === undefined || dx === dy) return null;
  const z: (number | null)[][] = dy.values.map(() => dx.values.map(() => null));
  for (const t of trials) {
    if (t.fold !== fold || t.score === null || t.stats === null) continue;
    const ix = dx.values.indexOf(t.params[dx.name]!);
    const iy = dy.values.indexOf(t.params[dy.name]!);
    if (ix < 0 || iy < 0) continue;
    const v = objective.value(t.stats);
    const cur = z[iy]![ix]!;
    if (v !== null && (cur === null || (objective.better === 'higher' ? v > cur : v < cur))) z[iy]![ix] = v;
  }
  return { x: dx.name, y: dy.name, xs: [...dx.values], ys: [...dy.values], z, fold };
}

export interface OptimizeReportPaths {
  json: string;
  html: string;
}

export function writeOptimizeReport(dir: string, report: OptimizeReport): OptimizeReportPaths {
  mkdirSync(dir, { recursive: true });
  const json = join(dir, 'optimize.json');
  const html = join(dir, 'optimize.html');
  writeFileSync(json, `${JSON.stringify(report, null, 1)}\n`);
  writeFileSync(html, renderOptimizeHtml(report));
  return { json, html };
}

function fmt(v: number | null | undefined, digits = 3): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return 'n/a';
  return Math.abs(v) >= 1000 ? v.toFixed(0) : v.toPrecision(digits);
}

function pct(v: number | null | undefined): string {
  return formatPct(v ?? null);
}

function day(micros: number): string {
  return formatTime(micros).slice(0, 16);
}

/** The swept parameters of a set as `name=value ...` (fixed ones are the same in every trial). */
export function paramText(p: Record<string, unknown>, swept: ReadonlySet<string>): string {
  return Object.entries(p)
    .filter(([k]) => swept.has(k))
    .map(([k, v]) => `${k}=${String(v)}`)
    .join(' ');
}

/** The whole page as one string: no request to any server. */
export function renderOptimizeHtml(r: OptimizeReport): string {
  const lib = chartLibrary();
  const m = r.meta;
  const obj = m.objective;
  const swept = new Set(r.space.dims.map((d) => d.name));
  const objective = objectiveByName(obj.name);
  const value = (t: { stats: TrialRecord['stats'] } | null): number | null =>
    t?.stats == null ? null : objective.value(t.stats);
  const kpis: [string, string][] = [
    ['Best parameters', r.best === null ? 'none' : paramText(r.best.params, swept)],
    [`Best ${obj.name} (in sample)`, fmt(value(r.best))],
    ['Trials', `${m.ran + m.resumed} (${m.resumed} resumed)`],
    ['Fees (maker / taker)', m.fees?.join('; ') ?? 'n/a'],
    ['Trials/s', `${fmt(m.trialsPerSecond)} on ${m.workers} worker${m.workers === 1 ? '' : 's'}`],
  ];
  if (r.degradation !== null) {
    kpis.push(
      [
        `Mean ${obj.name} IS / OOS`,
        `${fmt(r.degradation.meanInSample)} / ${fmt(r.degradation.meanOutOfSample)}`,
      ],
      ['Walk-forward efficiency (OOS / IS)', fmt(r.degradation.efficiency)],
      ['Stitched OOS return', pct(r.stitchedReturn)],
      ['Stitched OOS max drawdown', pct(r.stitchedMaxDrawdown)],
    );
  }
  const kpiHtml = kpis
    .map(
      ([k, v]) =>
        `<div class="kpi"><div class="k">${escapeHtml(k)}</div><div class="v">${escapeHtml(v)}</div></div>`,
    )
    .join('');
  const foldRows = r.folds
    .map(
      (f) =>
        `<tr><td>${f.index + 1}</td><td>${day(f.inSample.from)} → ${day(f.inSample.to)}</td><td>${
          f.outOfSample === null ? '' : `${day(f.outOfSample.from)} → ${day(f.outOfSample.to)}`
        }</td><td>${f.trials}${f.skipped > 0 ? ` (+${f.skipped} skipped)` : ''}</td><td>${escapeHtml(
          f.best === null ? '' : paramText(f.best.params, swept),
        )}</td><td class="n">${fmt(value(f.best))}</td><td class="n">${fmt(value(f.check))}</td><td class="n">${pct(
          f.check?.stats?.totalReturn,
        )}</td></tr>`,
    )
    .join('');
  const chartTitle =
    r.stitched !== null
      ? 'Stitched out-of-sample equity'
      : 'Equity of the best parameters over the whole range';
  const curve = r.stitched ?? r.folds[0]?.check?.curve ?? null;
  const chart: { time: number[]; value: number[] } = { time: [], value: [] };
  if (curve !== null) {
    let prev = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < curve.ts.length; i++) {
      const sec = Math.floor(curve.ts[i]! / 1e6);
      if (sec <= prev) continue;
      prev = sec;
      chart.time.push(sec);
      chart.value.push(curve.equity[i]!);
    }
  }
  const heat =
    r.heatmap === null
      ? '<p class="muted">A heatmap needs two swept parameters.</p>'
      : heatmapHtml(r.heatmap, obj.better);
  const cols = [...swept, obj.name, 'return', 'maxDD', 'trades', 'note'];
  const trialRows = r.trials
    .filter((t) => t.fold === (r.folds[r.folds.length - 1]?.index ?? 0))
    .map((t) => {
      const cells = [
        ...[...swept].map((k) => String(t.params[k])),
        fmt(value(t)),
        pct(t.stats?.totalReturn),
        pct(t.stats?.maxDrawdown),
        String(t.stats?.trades ?? ''),
        t.skipped ?? t.error ?? '',
      ];
      return `<tr>${cells.map((c) => `<td>${escapeHtml(c)}</td>`).join('')}</tr>`;
    })
    .join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Bot4 optimisation: ${escapeHtml(m.strategy)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font:13px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;color:#222a35;margin:0;background:#f6f7f9}
main{max-width:1200px;margin:0 auto;padding:20px}h1{font-size:20px;margin:0 0 4px}h2{font-size:15px;margin:26px 0 8px}
.muted{color:#6b7280}.kpis{display:grid;grid-template-columns:repeat(auto-fill,minmax(210px,1fr));gap:8px;margin-top:14px}
.kpi{background:#fff;border:1px solid #e3e6ec;border-radius:6px;padding:8px 10px}.k{color:#6b7280;font-size:11px}.v{font-size:15px;font-weight:600;word-break:break-word}
table{border-collapse:collapse;background:#fff;border:1px solid #e3e6ec;font-variant-numeric:tabular-nums}
th,td{padding:3px 8px;border-bottom:1px solid #eef0f3;text-align:left;white-space:nowrap}th{background:#f0f2f5;position:sticky;top:0}
td.n{text-align:right}#trials th{cursor:pointer}#trials th:hover{background:#e3e8f0}.scroll{max-height:520px;overflow:auto;display:inline-block;max-width:100%}
#chart{height:320px;background:#fff;border:1px solid #e3e6ec;border-radius:6px}.heat td{text-align:center;min-width:34px;font-size:11px;color:#111}
</style></head><body><main>
<h1>Optimisation: ${escapeHtml(m.strategy)}</h1>
<div class="muted">${escapeHtml(m.data)} · ${escapeHtml(m.search)} search, seed ${m.seed}, objective ${escapeHtml(obj.name)} (${escapeHtml(obj.description)}; ${escapeHtml(obj.better)} is better)${m.partial ? ' · <b>PARTIAL: interrupted</b>' : ''}</div>
<div class="kpis">${kpiHtml}</div>
<h2>${escapeHtml(chartTitle)}</h2><div id="chart"></div>
<h2>${r.degradation === null ? 'Search' : 'Walk-forward folds'}</h2>
<table><thead><tr><th>fold</th><th>in sample</th><th>out of sample</th><th>trials</th><th>best parameters</th><th>${escapeHtml(obj.name)} IS</th><th>${escapeHtml(obj.name)} ${r.degradation === null ? 'full range' : 'OOS'}</th><th>return ${r.degradation === null ? '' : 'OOS'}</th></tr></thead><tbody>${foldRows}</tbody></table>
<h2>Heatmap of ${escapeHtml(obj.name)}${r.heatmap === null ? '' : ` over ${escapeHtml(r.heatmap.x)} × ${escapeHtml(r.heatmap.y)} (fold ${r.heatmap.fold + 1}, best over the other parameters)`}</h2>
${heat}
${(m.notes ?? []).length === 0 ? '' : `<h2>Notes on the data</h2><ul>${(m.notes ?? []).map((n) => `<li>${escapeHtml(n)}</li>`).join('')}</ul>`}
<h2>Trials${r.folds.length > 1 ? ` of fold ${r.folds.length}` : ''} (click a column to sort)</h2>
<div class="scroll"><table id="trials"><thead><tr>${cols.map((c) => `<th>${escapeHtml(c)}</th>`).join('')}</tr></thead><tbody>${trialRows}</tbody></table></div>
<p class="muted">Spec ${escapeHtml(m.specHash)} · ${(m.wallMs / 1000).toFixed(1)} s · charts: ${escapeHtml(lib.name)} ${escapeHtml(lib.version)} (${escapeHtml(lib.license)})</p>
</main>
<script type="application/json" id="bot4-chart">${scriptJson(chart)}</script>
<script>${lib.code}</script>
<script>${APP_JS}</script>
</body></html>
`;
}

function heatmapHtml(h: Heatmap, better: string): string {
  const vals = h.z.flat().filter((v): v is number => v !== null);
  const lo = Math.min(...vals);
  const hi = Math.max(...vals);
  const color = (v: number | null): string => {
    if (v === null || !(hi > lo)) return v === null ? '#f3f4f6' : 'hsl(120,55%,70%)';
    let t = (v - lo) / (hi - lo);
    if (better === 'lower') t = 1 - t;
    return `hsl(${Math.round(t * 120)},60%,${Math.round(62 + 10 * Math.abs(t - 0.5))}%)`;
  };
  const head = `<tr><th>${escapeHtml(h.y)} \\ ${escapeHtml(h.x)}</th>${h.xs.map((x) => `<th>${escapeHtml(String(x))}</th>`).join('')}</tr>`;
  const rows = h.ys
    .map(
      (y, iy) =>
        `<tr><th>${escapeHtml(String(y))}</th>${h.z[iy]!.map(
          (v) =>
            `<td style="background:${color(v)}" title="${escapeHtml(fmt(v))}">${v === null ? '' : escapeHtml(fmt(v, 2))}</td>`,
        ).join('')}</tr>`,
    )
    .join('');
  return `<div class="scroll"><table class="heat">${head}${rows}</table></div>`;
}

const APP_JS = `
(function () {
  var C = JSON.parse(document.getElementById('bot4-chart').textContent);
  var LC = window.LightweightCharts;
  var el = document.getElementById('chart');
  if (LC && el && C.time.length > 0) {
    var chart = LC.createChart(el, {
      autoSize: true,
      layout: { background: { type: 'solid', color: '#ffffff' }, textColor: '#384152', fontSize: 11 },
      grid: { vertLines: { color: '#f0f2f5' }, horzLines: { color: '#f0f2f5' } },
      timeScale: { timeVisible: true, secondsVisible: false, minBarSpacing: 0.01 }
    });
    var s = chart.addSeries(LC.AreaSeries, {
      lineColor: '#1e6fd9', topColor: 'rgba(30,111,217,0.25)', bottomColor: 'rgba(30,111,217,0.02)', lineWidth: 2
    });
    s.setData(C.time.map(function (t, i) { return { time: t, value: C.value[i] }; }));
    chart.timeScale().fitContent();
  } else if (el) { el.textContent = 'No curve (no trial finished).'; el.style.padding = '12px'; }
  var table = document.getElementById('trials');
  if (!table) return;
  var dir = {};
  function key(td) {
    var t = td.textContent.replace('%', '');
    var n = Number(t);
    return t === '' || t === 'n/a' ? null : isNaN(n) ? t : n;
  }
  Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, c) {
    th.addEventListener('click', function () {
      var body = table.tBodies[0];
      var rows = Array.prototype.slice.call(body.rows);
      var d = dir[c] = -(dir[c] || 1);
      rows.sort(function (a, b) {
        var x = key(a.cells[c]), y = key(b.cells[c]);
        if (x === null) return 1;
        if (y === null) return -1;
        return (x < y ? -1 : x > y ? 1 : 0) * d;
      });
      rows.forEach(function (r) { body.appendChild(r); });
    });
  });
})();
`;
