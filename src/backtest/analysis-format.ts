// The analysis (analysis.ts) for people: aligned text tables for the terminal and report.txt, and HTML
// sections for report.html (plain tables and an SVG histogram: they read without JavaScript). Long period
// tables are cut to their last rows in text, saying how many were left out and where all of them are.

import type { Analysis, GroupRow, Percentiles, PeriodRow } from './analysis.ts';
import { PERCENTILES } from './analysis.ts';
import { formatDuration, formatMoneyUnits, formatPct, formatTime } from './report-format.ts';
import { escapeHtml } from './report-html.ts';
import type { StatsCurrency } from './stats.ts';

/** Rows of the day and week tables shown in text (the last ones); months are shown whole. */
export const TEXT_PERIOD_ROWS = { day: 14, week: 12, month: Number.POSITIVE_INFINITY } as const;

/** One table: a header row and text cells; the first column is left-aligned, the others right-aligned. */
export interface Table {
  title: string;
  head: string[];
  rows: string[][];
  /** A line under the table (what was left out, how it was computed). */
  note?: string;
  /** Columns (by index) aligned left besides the first. */
  left?: readonly number[];
}

export function textTable(t: Table): string {
  const all = [t.head, ...t.rows];
  const w = t.head.map((_, c) => Math.max(...all.map((r) => (r[c] ?? '').length)));
  const line = (r: string[]): string =>
    r
      .map((v, c) => (c === 0 || t.left?.includes(c) === true ? v.padEnd(w[c]!) : v.padStart(w[c]!)))
      .join('  ')
      .trimEnd();
  const out = [t.title, '-'.repeat(w.reduce((a, b) => a + b + 2, -2)), line(t.head), ...t.rows.map(line)];
  if (t.rows.length === 0) out.push('(none)');
  if (t.note !== undefined) out.push(t.note);
  return out.join('\n');
}

const pctOrNa = (x: number | null, d = 2, signed = false): string => formatPct(x, d, signed);

function groupCells(r: GroupRow, c: StatsCurrency): string[] {
  return [
    r.key,
    String(r.trades),
    pctOrNa(r.winRate, 1),
    formatMoneyUnits(r.netPnl, c, true),
    pctOrNa(r.avgReturn, 2, true),
    r.avgDurationMicros === null ? 'n/a' : formatDuration(r.avgDurationMicros),
  ];
}

const GROUP_HEAD = ['Trades', 'Win rate', 'Net PnL', 'Avg return', 'Avg duration'];

function periodTableOf(
  rows: readonly PeriodRow[],
  kind: 'day' | 'week' | 'month',
  c: StatsCurrency,
  limit: number,
): Table {
  const shown = rows.length > limit ? rows.slice(rows.length - limit) : rows;
  const label = kind === 'week' ? 'Week of' : kind === 'day' ? 'Day' : 'Month';
  return {
    title: `Results by ${kind} (trades by exit time, equity at the period's last sample; UTC)`,
    head: [label, 'Trades', 'Win rate', 'Net PnL', 'Equity change', 'Return'],
    rows: shown.map((r) => [
      r.key,
      String(r.trades),
      pctOrNa(r.winRate, 1),
      formatMoneyUnits(r.netPnl, c, true),
      formatMoneyUnits(r.endEquity - r.startEquity, c, true),
      pctOrNa(r.return, 2, true),
    ]),
    ...(shown.length < rows.length
      ? {
          note: `(last ${shown.length} of ${rows.length} ${kind}s; report.json analysis.periods and report.html have all)`,
        }
      : {}),
  };
}

function pctCells(p: Percentiles, signed: boolean): string[] {
  return PERCENTILES.map((k) => pctOrNa(p[`p${k}`], 2, signed));
}

/** Every table of the analysis, in reading order (the text report prints them; tests read them). */
export function analysisTables(a: Analysis, c: StatsCurrency): Table[] {
  const tables: Table[] = [];
  for (const kind of ['month', 'week', 'day'] as const) {
    tables.push(periodTableOf(a.periods[kind], kind, c, TEXT_PERIOD_ROWS[kind]));
  }
  const openNote =
    a.openTrades > 0 ? `${a.openTrades} trade(s) still open at the end are not in these tables` : undefined;
  tables.push({
    title: 'Exit reasons (the type of the order that closed the trade)',
    head: ['Reason', ...GROUP_HEAD],
    rows: a.exitReasons.map((r) => groupCells(r, c)),
    ...(openNote === undefined ? {} : { note: openNote }),
  });
  const hours = a.hourOfDay.filter((r) => r.trades > 0);
  tables.push({
    title: 'By hour of entry (UTC)',
    head: ['Hour', ...GROUP_HEAD],
    rows: hours.map((r) => groupCells(r, c)),
    ...(hours.length < 24 ? { note: `(${24 - hours.length} hours without a trade entry left out)` } : {}),
  });
  tables.push({
    title: 'By weekday of entry (UTC)',
    head: ['Weekday', ...GROUP_HEAD],
    rows: a.weekday.map((r) => groupCells(r, c)),
  });
  const d = a.drawdowns;
  tables.push({
    title: `Drawdowns (${d.count} episode(s) under a running equity peak; deepest ${d.listed.length})`,
    head: ['Peak', 'Trough', 'Recovered', 'Depth', 'Depth (money)', 'Duration'],
    rows: d.listed.map((e) => [
      formatTime(e.peakTs),
      formatTime(e.troughTs),
      e.recoveryTs === null ? 'not recovered' : formatTime(e.recoveryTs),
      pctOrNa(-e.depth),
      formatMoneyUnits(-e.depthMoney, c),
      formatDuration(e.durationMicros),
    ]),
  });
  const r = a.returns;
  tables.push({
    title: `Distribution of trade returns (${r.count} closed trades; net return on entry value)`,
    head: ['Mean', 'Stdev', 'Min', ...PERCENTILES.map((p) => `p${p}`), 'Max'],
    rows:
      r.count === 0
        ? []
        : [
            [
              pctOrNa(r.mean, 2, true),
              pctOrNa(r.stdev),
              pctOrNa(r.min, 2, true),
              ...pctCells(r.percentiles!, true),
              pctOrNa(r.max, 2, true),
            ],
          ],
  });
  if (r.count > 0) {
    const top = Math.max(...r.bins.map((b) => b.count));
    tables.push({
      title: 'Histogram of trade returns',
      head: ['Return from', 'to', 'Trades', ''],
      left: [3],
      rows: r.bins.map((b) => [
        formatPct(b.lo, 2, true),
        formatPct(b.hi, 2, true),
        String(b.count),
        '#'.repeat(top === 0 ? 0 : Math.round((b.count / top) * 40)),
      ]),
    });
  }
  const mc = a.monteCarlo;
  tables.push(
    mc === null
      ? { title: 'Monte Carlo of the trade sequence', head: ['Figure'], rows: [], note: '(no closed trades)' }
      : {
          title: `Monte Carlo of the trade sequence (${mc.runs} paths of ${mc.trades} trades drawn with replacement, seed ${mc.seed})`,
          head: ['Figure', ...PERCENTILES.map((p) => `p${p}`), 'Actual order'],
          rows: [
            ['Total return', ...pctCells(mc.totalReturn, true), pctOrNa(mc.observed.totalReturn, 2, true)],
            ['Max drawdown', ...pctCells(mc.maxDrawdown, false), pctOrNa(mc.observed.maxDrawdown)],
          ],
          note: `Paths ending below the start: ${pctOrNa(mc.lossProbability, 1)}. Drawdown here is measured at trade exits (closed trades only), not on the sampled curve.`,
        },
  );
  return tables;
}

/** The analysis as text: the tables one after another. */
export function formatAnalysis(a: Analysis, c: StatsCurrency): string {
  return analysisTables(a, c).map(textTable).join('\n\n');
}

// ---- HTML --------------------------------------------------------------------------------------------------

function htmlTable(t: Table, cls = 'atable'): string {
  const left = (i: number): boolean => i === 0 || t.left?.includes(i) === true;
  const head = t.head.map((h, i) => `<th${left(i) ? ' class="l"' : ''}>${escapeHtml(h)}</th>`).join('');
  const body =
    t.rows.length === 0
      ? `<tr><td class="l muted" colspan="${t.head.length}">None.</td></tr>`
      : t.rows
          .map(
            (r) =>
              `<tr>${r
                .map((v, i) => {
                  const tone = /^\+/.test(v) ? 'pos' : /^-\d/.test(v) ? 'neg' : '';
                  return `<td class="${left(i) ? 'l ' : ''}${tone}">${escapeHtml(v)}</td>`;
                })
                .join('')}</tr>`,
          )
          .join('');
  const note = t.note === undefined ? '' : `<p class="muted">${escapeHtml(t.note)}</p>`;
  return `<div class="scroll"><table class="${cls}"><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table></div>${note}`;
}

/** An SVG bar chart of the return histogram (no script). */
function histogramSvg(a: Analysis): string {
  const bins = a.returns.bins;
  if (bins.length === 0) return '';
  const w = 600;
  const h = 140;
  const top = Math.max(...bins.map((b) => b.count), 1);
  const bw = w / bins.length;
  const bars = bins
    .map((b, i) => {
      const bh = (b.count / top) * (h - 20);
      const colour = b.hi <= 0 ? '#d73027' : b.lo >= 0 ? '#1a9850' : '#8a93a6';
      return `<rect x="${(i * bw + 1).toFixed(1)}" y="${(h - 16 - bh).toFixed(1)}" width="${(bw - 2).toFixed(1)}" height="${bh.toFixed(1)}" fill="${colour}"><title>${escapeHtml(`${formatPct(b.lo, 2, true)} to ${formatPct(b.hi, 2, true)}: ${b.count} trades`)}</title></rect>`;
    })
    .join('');
  const lo = escapeHtml(formatPct(bins[0]!.lo, 2, true));
  const hi = escapeHtml(formatPct(bins[bins.length - 1]!.hi, 2, true));
  return `<svg class="hist" viewBox="0 0 ${w} ${h}" width="100%" height="${h}" role="img" aria-label="histogram of trade returns">${bars}<text x="0" y="${h - 2}" font-size="11" fill="#6b7385">${lo}</text><text x="${w}" y="${h - 2}" font-size="11" fill="#6b7385" text-anchor="end">${hi}</text></svg>`;
}

/** The analysis sections of report.html; every period row is in the page (day and week tables folded). */
export function analysisHtml(a: Analysis, c: StatsCurrency): string {
  const tables = analysisTables(a, c);
  const byTitle = (prefix: string): Table => tables.find((t) => t.title.startsWith(prefix))!;
  const all = (kind: 'day' | 'week' | 'month'): Table =>
    periodTableOf(a.periods[kind], kind, c, Number.POSITIVE_INFINITY);
  const section = (t: Table, extra = ''): string =>
    `<section class="panel"><h2>${escapeHtml(t.title)}</h2>${extra}${htmlTable(t)}</section>`;
  const folded = (kind: 'day' | 'week'): string => {
    const t = all(kind);
    return `<details><summary>${escapeHtml(`Results by ${kind} (${t.rows.length} rows)`)}</summary>${htmlTable(t)}</details>`;
  };
  return `<div id="analysis">
${section(all('month'), '')}
<section class="panel">${folded('week')}${folded('day')}</section>
<div class="grid2">
${section(byTitle('Exit reasons'))}
${section(byTitle('By weekday'))}
</div>
${section(byTitle('By hour'))}
${section(byTitle('Drawdowns'))}
${section(byTitle('Distribution'), histogramSvg(a))}
${section(byTitle('Monte Carlo'))}
</div>`;
}

/** CSS the analysis sections add to the report page. */
export const ANALYSIS_CSS = `
.atable th,.atable td{padding:5px 10px;border-bottom:1px solid var(--line);white-space:nowrap;text-align:right;font-variant-numeric:tabular-nums}
.atable th{font-weight:600;font-size:12px;color:var(--muted)}
.atable td.l,.atable th.l{text-align:left}
details summary{cursor:pointer;font-weight:600;margin:4px 0}
details+details{margin-top:8px}
.hist{display:block;margin-bottom:8px}
#analysis{display:flex;flex-direction:column;gap:16px}
`;
