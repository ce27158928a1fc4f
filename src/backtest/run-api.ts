// `backtest(MyStrategy, { data: [...] })`: one call that runs a strategy class on data files, catalog queries or
// the demo market and returns the result (statistics, trades, report), for strategy authors' own tests and
// scripts (`import { backtest } from 'bot4'`). The same pieces as `bot4 backtest`: data-query.ts, the strategy
// plan (an `instrument` parameter defaults to the data's instrument), the runner. Units as in the runner.

import { parseBalance } from '../cli/backtest-command.ts';
import { Bot4Error, ErrorCode } from '../core/errors.ts';
import { parseTime } from '../core/time-text.ts';
import { newInstrumentRegistry } from '../model/instrument.ts';
import type { EventBatch } from '../model/market-data.ts';
import type { StrategyClass } from '../strategy/strategy.ts';
import { openBacktestData } from './data-query.ts';
import { DEMO_INSTRUMENT, DEMO_START, demoMarket } from './demo-market.ts';
import { type BacktestResult, runBacktest } from './runner.ts';
import { dataInstruments, planStrategies } from './strategy-plan.ts';

const HOUR = 3_600_000_000;

export interface BacktestRunOptions {
  /** Data files (any format `bot4 data import` reads) and catalog queries; absent: the demo market. */
  readonly data?: readonly string[];
  /** Demo market length and seed (default 24 h, seed 42) when there is no `data`. */
  readonly demo?: { readonly hours?: number; readonly seed?: number };
  /** Parameters as values ({ fast: 10 }) or `key=value` texts, as on the command line. */
  readonly params?: Readonly<Record<string, string | number | boolean>> | readonly string[];
  /** Initial balance, e.g. '10000USDT' (default). */
  readonly balance?: string;
  /** Replay range: ISO time, date or micros. */
  readonly from?: string;
  readonly to?: string;
  /** Catalog directory for `catalog:` queries (default ./catalog). */
  readonly catalogDir?: string;
}

/** Runs `cls` once per instrument of the data (see strategy-plan.ts) and returns the result. */
export async function backtest(
  cls: StrategyClass,
  options: BacktestRunOptions = {},
): Promise<BacktestResult> {
  const instruments = newInstrumentRegistry();
  const params = Array.isArray(options.params)
    ? (options.params as readonly string[])
    : Object.entries(options.params ?? {}).map(([k, v]) => `${k}=${String(v)}`);
  const entries = [{ spec: cls.name, cls }];
  const from = options.from === undefined ? undefined : parseTime(options.from, 'from');
  const to = options.to === undefined ? undefined : parseTime(options.to, 'to');
  let data: AsyncIterable<EventBatch> | Iterable<EventBatch>;
  let label: string;
  let close = (): void => {};
  let notes = (): string[] => [];
  let range: { from?: number; to?: number } = {};
  const specs = options.data ?? [];
  if (specs.length > 0) {
    const opened = await openBacktestData(specs, {
      instruments,
      catalogDir: options.catalogDir ?? 'catalog',
      ...(from === undefined ? {} : { from }),
      ...(to === undefined ? {} : { to }),
    });
    ({ data, label, close, notes } = opened);
  } else {
    const hours = options.demo?.hours ?? 24;
    const seed = options.demo?.seed ?? 42;
    if (!(hours > 0) || !Number.isInteger(seed)) {
      throw new Bot4Error(
        ErrorCode.INVALID_ARGUMENT,
        `demo hours must be > 0 and seed an integer (got ${hours}, ${seed})`,
      );
    }
    const inst = instruments.add(DEMO_INSTRUMENT);
    data = demoMarket(inst.id, { seed, duration: hours * HOUR, start: DEMO_START });
    label = `demo market (seed ${seed}, ${hours} h)`;
    range = { from: from ?? DEMO_START, to: to ?? DEMO_START + hours * HOUR };
  }
  try {
    return await runBacktest({
      strategies: planStrategies(entries, params, dataInstruments(specs, instruments)),
      instruments,
      data,
      dataLabel: label,
      balances: [parseBalance(options.balance ?? '10000USDT')],
      dataNotes: notes,
      ...range,
    });
  } finally {
    close();
  }
}
