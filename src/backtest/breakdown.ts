// Per-instrument and per-strategy tables of a backtest with several instruments or strategies on one account.
// Instruments: round trips (recorder.ts trades), their PnL, fees, funding, traded value, and what is still open
// at the end (lots, unrealised PnL at the last mark). Strategies: their fills, traded value, fees and the PnL
// their fills realised (the portfolio's booking, so a strategy closing another's position is credited with it).
// Funding belongs to positions, not orders: it is in the instrument rows only. Money: integer units of the
// report currency; quantities lots. The sums of the instrument rows equal the run's realised, fees and funding.

import type { Portfolio } from '../portfolio/portfolio.ts';
import { F64Column, type Recording } from './recorder.ts';
import { formatMoneyUnits } from './report-format.ts';
import { escapeHtml } from './report-html.ts';
import type { StatsCurrency } from './stats.ts';

export interface InstrumentBreakdown {
  key: string;
  /** Names of the strategies that traded it. */
  strategies: string[];
  /** Closed round trips, and those of them with a net profit. */
  trades: number;
  wins: number;
  /** Net PnL of the trades (open ones: what they realised so far): realised - fees - funding. */
  netPnl: number;
  fees: number;
  funding: number;
  /** Sum of the fills' notional. */
  volume: number;
  fills: number;
  /** Position at the end, lots (signed), and its unrealised PnL at the last mark. */
  endQty: number;
  unrealised: number;
  /** netPnl + unrealised. */
  total: number;
}

export interface StrategyBreakdown {
  id: number;
  name: string;
  /** Its parameters as resolved (each copy of a per-instrument strategy has its own `instrument`). */
  parameters: Record<string, unknown>;
  /** Keys of the instruments its orders filled on. */
  instruments: string[];
  fills: number;
  volume: number;
  fees: number;
  /** PnL its fills realised, and that minus its fees. */
  realised: number;
  net: number;
}

export interface Breakdown {
  instruments: InstrumentBreakdown[];
  strategies: StrategyBreakdown[];
}

/** The strategy of each recorded fill, in recording order (the runner pushes one per recorded fill). */
export class FillStrategies {
  readonly ids = new F64Column(256);

  push(strategyId: number): void {
    this.ids.push(strategyId);
  }
}

/** The tables of a finished run; `strategies[k]` is strategy id k + 1. */
export function buildBreakdown(
  rec: Recording,
  fillStrategies: FillStrategies,
  runStrategies: readonly {
    readonly name: string;
    readonly parameters?: Readonly<Record<string, unknown>>;
  }[],
  portfolio: Portfolio,
): Breakdown {
  const f = rec.fills;
  const instruments: InstrumentBreakdown[] = rec.instruments.map((inst) => {
    const pos = portfolio.position(inst.id);
    return {
      key: inst.key,
      strategies: [],
      trades: 0,
      wins: 0,
      netPnl: 0,
      fees: 0,
      funding: 0,
      volume: 0,
      fills: 0,
      endQty: pos?.qty ?? 0,
      unrealised: pos?.unrealisedPnl ?? 0,
      total: 0,
    };
  });
  const strategies: StrategyBreakdown[] = runStrategies.map((r, k) => ({
    id: k + 1,
    name: r.name,
    parameters: { ...(r.parameters ?? {}) },
    instruments: [],
    fills: 0,
    volume: 0,
    fees: 0,
    realised: 0,
    net: 0,
  }));
  for (let i = 0; i < f.length; i++) {
    const row = instruments[f.slot[i]!]!;
    row.volume += f.notional[i]!;
    row.fills++;
    const s = strategies[fillStrategies.ids.get(i) - 1];
    if (s === undefined) continue;
    s.fills++;
    s.volume += f.notional[i]!;
    s.fees += f.fee[i]!;
    s.realised += f.realised[i]!;
    if (!s.instruments.includes(row.key)) s.instruments.push(row.key);
    if (!row.strategies.includes(s.name)) row.strategies.push(s.name);
  }
  for (const t of rec.trades) {
    const row = instruments[t.slot]!;
    row.netPnl += t.netPnl;
    row.fees += t.fees;
    row.funding += t.funding;
    if (!t.open) {
      row.trades++;
      if (t.netPnl > 0) row.wins++;
    }
  }
  for (const row of instruments) row.total = row.netPnl + row.unrealised;
  for (const s of strategies) s.net = s.realised - s.fees;
  return { instruments, strategies };
}

function table(head: string[], rows: string[][]): string[] {
  const widths = head.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
  // First column left-aligned (names), figures right-aligned.
  const line = (r: string[]): string =>
    r.map((x, c) => (c === 0 ? x.padEnd(widths[c]!) : x.padStart(widths[c]!))).join('  ');
  return [line(head), ...rows.map(line)];
}

const INSTRUMENT_HEAD = [
  'instrument',
  'trades',
  'win %',
  'net PnL',
  'fees',
  'funding',
  'open PnL',
  'total',
  'volume',
];
const STRATEGY_HEAD = ['strategy', 'fills', 'realised', 'fees', 'net', 'volume', 'instruments'];

/** The rows of both tables as display text, money in the report currency. */
function cells(b: Breakdown, currency: StatsCurrency): { instruments: string[][]; strategies: string[][] } {
  const m = (x: number): string => formatMoneyUnits(x, currency, true);
  return {
    instruments: b.instruments.map((r) => [
      r.key,
      String(r.trades),
      r.trades === 0 ? '-' : ((100 * r.wins) / r.trades).toFixed(1),
      m(r.netPnl),
      formatMoneyUnits(r.fees, currency),
      formatMoneyUnits(r.funding, currency),
      m(r.unrealised),
      m(r.total),
      formatMoneyUnits(r.volume, currency),
    ]),
    strategies: b.strategies.map((s) => [
      s.name,
      String(s.fills),
      m(s.realised),
      formatMoneyUnits(s.fees, currency),
      m(s.net),
      formatMoneyUnits(s.volume, currency),
      s.instruments.join(',') || '-',
    ]),
  };
}

/** The two tables for the terminal. */
export function formatBreakdown(b: Breakdown, currency: StatsCurrency): string {
  const c = cells(b, currency);
  return [
    'By instrument',
    ...table(INSTRUMENT_HEAD, c.instruments),
    '',
    'By strategy',
    ...table(STRATEGY_HEAD, c.strategies),
  ].join('\n');
}

/** The two tables as report.html sections (empty without a breakdown). */
export function breakdownHtml(b: Breakdown | undefined, currency: StatsCurrency): string {
  if (b === undefined) return '';
  const c = cells(b, currency);
  const html = (title: string, head: string[], rows: string[][]): string =>
    `<section class="panel"><h2>${title}</h2><div class="scroll"><table class="trades"><thead><tr>${head
      .map((h, i) => `<th${i === 0 ? ' class="l"' : ''}>${escapeHtml(h)}</th>`)
      .join('')}</tr></thead><tbody>${rows
      .map(
        (r) =>
          `<tr>${r.map((x, i) => `<td${i === 0 || i === head.length - 1 ? ' class="l"' : ''}>${escapeHtml(x)}</td>`).join('')}</tr>`,
      )
      .join('')}</tbody></table></div></section>`;
  return (
    html('By instrument', INSTRUMENT_HEAD, c.instruments) + html('By strategy', STRATEGY_HEAD, c.strategies)
  );
}
