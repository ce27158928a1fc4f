// `bot4 backtest`: runs a built-in or user strategy over the demo market, files or catalog queries,
// shows progress on long runs, stops cleanly on Ctrl-C with a partial report, and writes report.json and a
// self-contained report.html. The demo needs no data at all, so it is the first thing a new user runs.

import type { Command } from 'commander';
import { parseDuration } from '../backtest/optimize/walk-forward.ts';
import type { BacktestProgress, LateRowPolicy } from '../backtest/runner.ts';
import type { Config } from '../core/config.ts';
import { Bot4Error, ErrorCode } from '../core/errors.ts';
import { isoMicros, parseTime } from '../core/time-text.ts';
import type { EventBatch } from '../model/market-data.ts';
import { FEE_OPTION } from './fee-option.ts';
import { Interrupted, onInterrupt } from './interrupt.ts';
import { printNotes, STRICT_OPTION } from './load-notes.ts';
import {
  addMetricsOptions,
  closeCliMetrics,
  type MetricsCliOptions,
  startCliMetrics,
} from './metrics-option.ts';
import { checkInputFiles, checkOutputDir } from './outputs.ts';
import { ProgressLine } from './progress.ts';

interface BacktestCliOptions extends MetricsCliOptions {
  demo?: boolean;
  strategy: string[];
  data?: string[];
  catalog?: string;
  from?: string;
  to?: string;
  param: string[];
  balance: string[];
  out: string;
  seed: string;
  hours: string;
  latency?: string;
  sample?: string;
  strict?: boolean;
  fee?: string;
  listParams?: boolean;
  progress: boolean;
  lateRows?: string;
}

const HOUR = 3_600_000_000;

/** "10000USDT", "10000 USDT" or "1e5USDT" -> { amount: '100000', currency: 'USDT' }; the amount must be > 0. */
export function parseBalance(text: string): { amount: string; currency: string } {
  // The exponent needs digits after the e, so "1e5USDT" is 1e5 USDT while "100EUR" stays 100 EUR.
  const m = /^\s*(\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)\s*([A-Za-z][A-Za-z0-9]*)\s*$/.exec(text);
  if (m === null) {
    throw new Bot4Error(
      ErrorCode.INVALID_ARGUMENT,
      `--balance '${text}' must be an amount followed by a currency, e.g. 10000USDT`,
      { value: text },
    );
  }
  const n = Number(m[1]);
  if (!(n > 0) || !Number.isFinite(n)) {
    throw new Bot4Error(
      ErrorCode.INVALID_ARGUMENT,
      `--balance '${text}': the amount must be above zero (a backtest without money places no order)`,
      { value: text },
    );
  }
  // Plain decimal text for the money parser (it takes no exponent); 20 digits keep any amount typed.
  const amount = /[eE]/.test(m[1]!)
    ? n.toLocaleString('en-US', { useGrouping: false, maximumFractionDigits: 20 })
    : m[1]!;
  return { amount, currency: m[2]!.toUpperCase() };
}

function parseLateRows(text: string, policies: readonly LateRowPolicy[]): LateRowPolicy {
  const policy = policies.find((p) => p === text);
  if (policy === undefined) {
    throw new Bot4Error(
      ErrorCode.INVALID_ARGUMENT,
      `--late-rows '${text}' must be one of ${policies.join(', ')}`,
      { value: text },
    );
  }
  return policy;
}

export function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function progressLine(p: BacktestProgress): string {
  const rate = p.events / Math.max(p.wallMs / 1000, 1e-3);
  let eta = '';
  if (Number.isFinite(p.from) && Number.isFinite(p.to) && p.ts > p.from) {
    const done = (p.ts - p.from) / (p.to - p.from);
    const left = (p.wallMs / 1000) * (1 / Math.max(done, 1e-9) - 1);
    eta = ` ${(done * 100).toFixed(1)}% ETA ${left.toFixed(0)} s`;
  }
  return `${(p.events / 1e6).toFixed(2)}M events, ${(rate / 1e6).toFixed(2)}M events/s${eta}`;
}

export function registerBacktestCommand(program: Command, loadConfig: () => Config): void {
  const cmd = program
    .command('backtest')
    .description('backtest a strategy on the demo market or on data files, and write a JSON + HTML report')
    .option('--demo', 'run on the built-in seeded demo market (no data needed)')
    .option(
      '-s, --strategy <name|file>',
      'built-in strategy name or a .ts/.js file (file.ts:ExportName to pick one); repeatable: several share one account (default ema-cross)',
      collect,
      [],
    )
    .option(
      '-d, --data <files|query...>',
      'market-data files (any format `bot4 data import` reads) and catalog queries catalog:<instruments>[/<kinds>], merged in time order',
    )
    .option('--catalog <dir>', 'catalog directory for catalog: queries (default: config data.catalogDir)')
    .option('--from <time>', 'start of the replay (ISO time, date or micros)')
    .option('--to <time>', 'end of the replay, exclusive')
    .option(
      '-p, --param <key=value>',
      'strategy parameter (repeatable); N.key=value or NAME.key=value for one of several strategies',
      collect,
      [],
    )
    .option('-b, --balance <amountCCY>', 'initial balance (repeatable), e.g. 10000USDT', collect, [])
    .option('-o, --out <dir>', 'report folder', 'reports/latest')
    .option('--seed <n>', 'demo market seed', '42')
    .option('--hours <n>', 'demo market length in hours', '24')
    .option('--latency <micros>', 'order entry and response latency of the simulated venue, micros each')
    .option(
      '--sample <d>',
      'equity sampling interval (1m, 1h, 1d); default the bar interval of candle data, else 1m',
    )
    .option(...STRICT_OPTION)
    .option(...FEE_OPTION)
    .option(
      '--late-rows <policy>',
      'a row older than rows already replayed: deliver (at the current time) or drop; counted in report notes (default: config data.lateRows, deliver)',
    )
    .option('--list-params', "print the strategy's parameters and exit")
    .option('--no-progress', 'no progress line on standard error');
  addMetricsOptions(cmd)
    .addHelpText(
      'after',
      `
Examples:
  bot4 backtest --demo
  bot4 backtest --demo --hours 2000 --metrics-port 9464      # watch it in Prometheus/Grafana
  bot4 backtest --demo --strategy ema-cross --param fast=10 --param slow=40 --out reports/ema
  bot4 backtest --strategy mean-reversion --list-params
  bot4 backtest --demo --fee maker=0.02%,taker=0.05%
  bot4 backtest --demo --fee binance-spot-vip0-bnb
  bot4 backtest --demo --strategy ema-cross --strategy mean-reversion --param 2.period=30   # one account
  bot4 backtest --strategy examples/my-strategy.ts --data ../shared/data/hftbacktest/usdm/btcusdt_20240808.gz \\
      --param instrument=BTCUSDT --balance 10000USDT
  bot4 backtest --strategy market-maker --data catalog:BTCUSDT.BINANCE_USDM/quotes,trades,depth \\
      --from 2024-08-08T23:55:00Z --to 2024-08-09 --param qty=0.01

Rows a data loader skips or repairs (malformed, out of order, a volume finer than the lot...) are counted
and named (first file:line) on standard error and in report.notes; --strict makes any skipped row an error.
The report's equity curve is sampled every --sample and thinned to at most 20,000 points (each stretch's
low and high kept); the statistics use every sample.

Catalog queries: catalog:<instruments>[/<kinds>]; instruments are SYMBOL.VENUE keys or symbols (comma
separated, * for all); kinds quote, trade, delta (depth), bar, mark, funding (all when absent). --from/--to
go down to the catalog: only the data inside the range is read.

How it fills (README "How a backtest fills" has the details):
  candles       timestamp = open time; the bar is an event at open + interval, when strategies see it
  bar-only data market orders fill at the next bar's open; resting limits at their price when the next
                bar's range goes through it (a touch is not enough); fills stamped at that bar's close
  quotes/depth  marketable orders take the best (L1) or walk the book (L2); resting orders queue behind the
                size shown at their level when they arrive; trades at the price eat that queue first
  --latency N   N micros order -> venue and N micros venue -> strategy (default 0)
  funding       perpetuals, every 8 h (00:00/08:00/16:00 UTC) from funding-rate records in the data
  end of data   open positions stay open, marked at the last price: in equity and return, not in trade stats
  ema-cross     EMAs seeded with the SMA of their first 'period' inputs; ready after 'slow' bars
A run without trades says why (data seen, warm-up, risk denials) on standard error and in the report notes.

Exit codes: 0 done, 2 bad input (unknown strategy, parameter, file), 130 interrupted (partial report written).`,
    )
    .action(async (opts: BacktestCliOptions) => {
      // The engine, loaders and report load here, not at start-up (bot4 --help stays fast).
      const [
        { isCatalogQuery, openBacktestData },
        { DEMO_INSTRUMENT, DEMO_START, demoMarket },
        { writeReport },
        { formatSummary },
        { LATE_ROW_POLICIES, runBacktest },
        { newInstrumentRegistry },
        { resolveStrategy },
        { describeParams },
        { DEFAULT_SAMPLE_INTERVAL },
        { runFeeSchedules },
        { dataInstruments, planStrategies },
        { formatBreakdown },
        { StrategyFailure },
      ] = await Promise.all([
        import('../backtest/data-query.ts'),
        import('../backtest/demo-market.ts'),
        import('../backtest/report.ts'),
        import('../backtest/report-format.ts'),
        import('../backtest/runner.ts'),
        import('../model/instrument.ts'),
        import('../strategy/loader.ts'),
        import('../strategy/params.ts'),
        import('../backtest/recorder.ts'),
        import('../model/fee-schedule.ts'),
        import('../backtest/strategy-plan.ts'),
        import('../backtest/breakdown.ts'),
        import('../backtest/strategy-failure.ts'),
      ]);
      const config = loadConfig();
      const specs = opts.strategy.length > 0 ? opts.strategy : ['ema-cross'];
      const entries = [];
      for (const spec of specs) entries.push({ spec, cls: await resolveStrategy(spec) });
      if (opts.listParams === true) {
        for (const { cls } of entries)
          process.stdout.write(`${cls.name}: ${cls.description}\n${describeParams(cls.params).join('\n')}\n`);
        return;
      }
      // Parameters are checked before any data is read; instances per instrument are made once it is open.
      planStrategies(entries, opts.param, []);
      const lateRows = parseLateRows(opts.lateRows ?? config.data.lateRows, LATE_ROW_POLICIES);
      checkOutputDir(opts.out);
      checkInputFiles(
        (opts.data ?? []).filter((s) => !isCatalogQuery(s)),
        '--data',
      );
      const instruments = newInstrumentRegistry();
      instruments.fees = runFeeSchedules(config.fees, opts.fee);
      const balances =
        opts.balance.length > 0 ? opts.balance.map(parseBalance) : [{ amount: '10000', currency: 'USDT' }];
      const from = opts.from === undefined ? undefined : parseTime(opts.from, '--from');
      const to = opts.to === undefined ? undefined : parseTime(opts.to, '--to');
      const sample = opts.sample === undefined ? undefined : parseDuration(opts.sample, '--sample');
      if (from !== undefined && to !== undefined && !(from < to)) {
        throw new Bot4Error(
          ErrorCode.INVALID_ARGUMENT,
          `--from ${isoMicros(from)} is not before --to ${isoMicros(to)}: the range is empty`,
        );
      }

      let data: AsyncIterable<EventBatch> | Iterable<EventBatch>;
      let label: string;
      let closeData = () => {};
      let dataNotes = (): string[] => [];
      // Candle data samples the equity at its bar: a minute grid over daily bars is 1,440 identical samples a bar.
      let sampleEvery = sample ?? DEFAULT_SAMPLE_INTERVAL;
      let rangeFrom = from;
      let rangeTo = to;
      if (opts.data !== undefined && opts.data.length > 0) {
        if (opts.demo === true)
          throw new Bot4Error(ErrorCode.INVALID_ARGUMENT, 'give either --demo or --data, not both');
        const opened = await openBacktestData(opts.data, {
          instruments,
          catalogDir: opts.catalog ?? config.data.catalogDir,
          ...(from === undefined ? {} : { from }),
          ...(to === undefined ? {} : { to }),
          ...(opts.strict === true ? { strict: true } : {}),
        });
        data = opened.data;
        label = opened.label;
        closeData = opened.close;
        dataNotes = opened.notes;
        if (sample === undefined && opened.barInterval !== undefined) {
          sampleEvery = Math.max(sampleEvery, opened.barInterval);
        }
      } else {
        const inst = instruments.add(DEMO_INSTRUMENT);
        const hours = Number(opts.hours);
        const seed = Number(opts.seed);
        if (!(hours > 0) || !Number.isInteger(seed)) {
          throw new Bot4Error(
            ErrorCode.INVALID_ARGUMENT,
            `--hours must be > 0 and --seed an integer (got ${opts.hours}, ${opts.seed})`,
          );
        }
        const start = DEMO_START;
        data = demoMarket(inst.id, { seed, duration: hours * HOUR, start });
        label = `demo market (seed ${seed}, ${hours} h)`;
        rangeFrom ??= start;
        rangeTo ??= start + hours * HOUR;
      }

      const interrupt = onInterrupt('interrupted: stopping at the next batch, then writing a partial report');
      const progress = new ProgressLine(opts.progress);
      const onProgress = (p: BacktestProgress): void => progress.show(progressLine(p));
      const latency = opts.latency === undefined ? undefined : Number(opts.latency);
      const metrics = await startCliMetrics(opts, 'backtest');
      const strategies = planStrategies(entries, opts.param, dataInstruments(opts.data ?? [], instruments));
      let result: Awaited<ReturnType<typeof runBacktest>>;
      try {
        result = await runBacktest({
          strategies,
          instruments,
          data,
          dataLabel: label,
          balances,
          riskConfig: config.risk,
          sampleIntervalMicros: sampleEvery,
          dataNotes,
          orderCapacity: config.memory.pools.orders,
          ...(rangeFrom === undefined ? {} : { from: rangeFrom }),
          ...(rangeTo === undefined ? {} : { to: rangeTo }),
          ...(latency === undefined
            ? {}
            : { venue: { latency: { orderEntry: latency, response: latency } } }),
          signal: interrupt.signal,
          onProgress,
          lateRows,
          ...(metrics === undefined ? {} : { probe: metrics.backtestProbe() }),
        });
      } catch (e) {
        await metrics?.close();
        // A strategy threw: its partial report is written, and the error says where (its file:line) and when.
        if (e instanceof StrategyFailure) {
          const paths = writeReport(opts.out, e.result.report);
          process.stderr.write(`partial report (up to the failing event): ${paths.html}\n`);
        }
        throw e;
      } finally {
        closeData();
        interrupt.dispose();
        progress.end();
      }
      printNotes('backtest', result.report.notes);
      const paths = writeReport(opts.out, result.report);
      process.stdout.write(`${formatSummary(result.stats)}\n`);
      if (result.breakdown !== undefined)
        process.stdout.write(`\n${formatBreakdown(result.breakdown, result.report.currency)}\n`);
      process.stdout.write(
        `\n${result.events.toLocaleString('en-US')} events in ${(result.wallMs / 1000).toFixed(2)} s ` +
          `(${Math.round(result.events / Math.max(result.wallMs / 1000, 1e-3)).toLocaleString('en-US')} events/s), fingerprint ${result.fingerprint}` +
          `${result.partial ? ' (PARTIAL: interrupted)' : ''}\nreport: ${paths.html}\n        ${paths.json}\n`,
      );
      await closeCliMetrics(metrics, opts);
      if (result.partial) throw new Interrupted('backtest interrupted: partial report written');
    });
}
