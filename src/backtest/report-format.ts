// Human formatting of backtest statistics: money, percentages, durations, times, and the terminal summary.
// Money arrives as integer units of 10^-precision and is rounded for display only (half away from zero).
// Times are micros since the epoch, shown in UTC.

import type { BacktestStats, StatsCurrency } from './stats.ts';

/** Currencies shown with 2 decimals (money is booked at 8, see currency.ts) (fiat and USD-pegged coins); others with their precision, at most 8. */
const TWO_DECIMALS = new Set([
  'USD',
  'USDT',
  'USDC',
  'BUSD',
  'FDUSD',
  'TUSD',
  'DAI',
  'EUR',
  'GBP',
  'CHF',
  'AUD',
  'CAD',
  'TRY',
  'BRL',
]);

/** Currencies without minor units in everyday use. */
const ZERO_DECIMALS = new Set(['JPY', 'KRW']);

export function displayDecimals(c: StatsCurrency): number {
  return Math.min(c.precision, ZERO_DECIMALS.has(c.code) ? 0 : TWO_DECIMALS.has(c.code) ? 2 : 8);
}

function group(intPart: string): string {
  return intPart.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/**
 * Money units as a decimal with `decimals` places and thousands separators: 123456789 at precision 8 and 2
 * decimals -> "1.23". Integers are rounded exactly (BigInt); averages (fractional units) through doubles.
 */
export function formatUnits(units: number, precision: number, decimals: number, signed = false): string {
  if (!Number.isFinite(units)) return 'n/a';
  const neg = units < 0;
  const a = Math.abs(units);
  const drop = precision - decimals;
  let digits: string;
  if (Number.isSafeInteger(a)) {
    let big = BigInt(a);
    if (drop > 0) {
      const d = 10n ** BigInt(drop);
      big = (big + d / 2n) / d;
    } else if (drop < 0) big *= 10n ** BigInt(-drop);
    digits = big.toString();
  } else {
    digits = Math.round(a / 10 ** drop).toFixed(0);
  }
  digits = digits.padStart(decimals + 1, '0');
  const intPart = group(digits.slice(0, digits.length - decimals));
  const frac = decimals > 0 ? `.${digits.slice(digits.length - decimals)}` : '';
  const isZero = /^[0,.]*$/.test(intPart + frac);
  const sign = neg && !isZero ? '-' : signed && !isZero ? '+' : '';
  return `${sign}${intPart}${frac}`;
}

/** "1,234.56 USDT"; `signed` puts a + on gains. */
export function formatMoneyUnits(units: number | null, c: StatsCurrency, signed = false): string {
  if (units === null) return 'n/a';
  return `${formatUnits(units, c.precision, displayDecimals(c), signed)} ${c.code}`;
}

export function formatPct(x: number | null, digits = 2, signed = false): string {
  if (x === null || !Number.isFinite(x)) return 'n/a';
  const s = (x * 100).toFixed(digits);
  return `${signed && x > 0 ? '+' : ''}${s}%`;
}

export function formatRatio(x: number | null, digits = 2): string {
  if (x === null || !Number.isFinite(x)) return 'n/a';
  return x.toFixed(digits);
}

/** "3d 4h 5m", "12m 30s", "0s". */
export function formatDuration(micros: number | null): string {
  if (micros === null || !Number.isFinite(micros)) return 'n/a';
  let s = Math.round(micros / 1_000_000);
  if (s < 1) return micros > 0 ? `${(micros / 1000).toFixed(0)}ms` : '0s';
  const d = Math.floor(s / 86_400);
  s -= d * 86_400;
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  const parts: string[] = [];
  if (d > 0) parts.push(`${d}d`);
  if (h > 0) parts.push(`${h}h`);
  if (m > 0 && d === 0) parts.push(`${m}m`);
  if (s > 0 && d === 0 && h === 0) parts.push(`${s}s`);
  return parts.length === 0 ? '0s' : parts.join(' ');
}

/** "2024-01-02 03:04:05" (UTC). */
export function formatTime(micros: number | null): string {
  if (micros === null || !Number.isFinite(micros)) return 'n/a';
  return new Date(Math.floor(micros / 1000)).toISOString().replace('T', ' ').slice(0, 19);
}

/** One line of the statistics table: a label and its formatted value. */
export interface StatRow {
  readonly label: string;
  readonly value: string;
  /** 1 good, -1 bad, 0 neutral: colours the HTML table. */
  readonly tone: number;
}

function tone(x: number | null): number {
  return x === null || x === 0 ? 0 : x > 0 ? 1 : -1;
}

/** The statistics as label/value rows, in reading order (shared by the terminal summary and the HTML page). */
export function statRows(s: BacktestStats): StatRow[] {
  const c = s.currency;
  const m = (u: number | null, signed = false): string => formatMoneyUnits(u, c, signed);
  const row = (label: string, value: string, t = 0): StatRow => ({ label, value, tone: t });
  const ddTail =
    s.maxDrawdownRecoveryTs === null && s.maxDrawdown > 0
      ? `${formatDuration(s.maxDrawdownDurationMicros)} (not recovered)`
      : formatDuration(s.maxDrawdownDurationMicros);
  return [
    row('Period', `${formatTime(s.startTs)} to ${formatTime(s.endTs)} UTC`),
    row('Duration', formatDuration(s.durationMicros)),
    row('Start equity', m(s.startEquity)),
    row('End equity', m(s.endEquity)),
    row('Net profit', m(s.netProfit, true), tone(s.netProfit)),
    row('Total return', formatPct(s.totalReturn, 2, true), tone(s.totalReturn)),
    row('CAGR (365 d)', formatPct(s.cagr, 2, true), tone(s.cagr)),
    row('Volatility (ann.)', formatPct(s.volatility)),
    row('Sharpe', formatRatio(s.sharpe), tone(s.sharpe)),
    row('Sortino', formatRatio(s.sortino), tone(s.sortino)),
    row('Calmar', formatRatio(s.calmar), tone(s.calmar)),
    row('Max drawdown', formatPct(s.maxDrawdown === 0 ? 0 : -s.maxDrawdown), s.maxDrawdown > 0 ? -1 : 0),
    row('Max drawdown (money)', m(s.maxDrawdownMoney === 0 ? 0 : -s.maxDrawdownMoney)),
    row('Max drawdown duration', ddTail),
    row('Longest drawdown', formatDuration(s.longestDrawdownMicros)),
    row('Trades (closed)', `${s.trades}${s.openTrades > 0 ? ` (+${s.openTrades} open)` : ''}`),
    row('Win rate', formatPct(s.winRate, 1)),
    row('Profit factor', formatRatio(s.profitFactor)),
    row('Expectancy / trade', m(s.expectancy, true), tone(s.expectancy)),
    row('Average win', m(s.avgWin)),
    row('Average loss', m(s.avgLoss)),
    row('Largest win', m(s.largestWin)),
    row('Largest loss', m(s.largestLoss)),
    row('Average trade duration', formatDuration(s.avgTradeDurationMicros)),
    row('Exposure time', formatPct(s.exposureTime, 1)),
    row('Turnover', s.turnover === null ? 'n/a' : `${s.turnover.toFixed(2)}x`),
    row('Traded notional', m(s.tradedNotional)),
    row('Fees', m(s.fees)),
    row('Slippage', m(s.slippage)),
    row('Funding paid', m(s.funding)),
    row('Net profit before costs', m(s.netProfitBeforeCosts, true), tone(s.netProfitBeforeCosts)),
    row('Orders / fills', `${s.orders} / ${s.fills}`),
  ];
}

/** A short aligned table for the terminal: labels left, values right-aligned in one column. */
export function formatSummary(stats: BacktestStats): string {
  // The period heads the table: its long value would push every number far to the right.
  const rows = statRows(stats).filter((r) => r.label !== 'Period');
  const lw = Math.max(...rows.map((r) => r.label.length));
  const vw = Math.max(...rows.map((r) => r.value.length));
  const title = `Backtest summary (${stats.currency.code}), ${formatTime(stats.startTs)} to ${formatTime(stats.endTs)} UTC`;
  const rule = '-'.repeat(lw + 2 + vw);
  const lines = rows.map((r) => `${r.label.padEnd(lw)}  ${r.value.padStart(vw)}`);
  return [title, rule, ...lines].join('\n');
}
