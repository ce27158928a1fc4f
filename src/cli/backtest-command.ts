// `bot4 backtest`: runs a built-in or user strategy over the demo market, files or catalog queries,
// shows progress on long runs, stops cleanly on Ctrl-C with a partial report, and writes report.json and a
// self-contained report.html. The demo needs no data at all, so it is the first thing a new user runs.

import type { Command } from 'commander';
import { parseDuration } from '../backtest/optimize/walk-forward.ts';
import { FULL_REPORT_OPTION } from '../backtest/report-tables.ts';
import type { BacktestProgress, LateRowPolicy } from '../backtest/runner.ts';
import type { Config } from '../core/config.ts';
import { Bot4Error, ErrorCode } from '../core/errors.ts';
import { parseRangeOptions, resolveLast } from '../core/time-text.ts';
import type { EventBatch } from '../model/market-data.ts';
import { MC_RUNS_OPTION, MC_SEED_OPTION, parseAnalysisOptions } from './analysis-options.ts';
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
import {
  LAST_OPTION,
  SIZING_OPTION,
  SLIPPAGE_OPTION,
  SYMBOL_OPTION,
  TIMERANGE_OPTION,
  VENUE_OPTION,
} from './run-options.ts';

interface BacktestCliOptions extends MetricsCliOptions {
  demo?: boolean;
  strategy: string[];
  data?: string[];
  catalog?: string;
  from?: string;
  to?: string;
  timerange?: string;
  last?: string;
  symbol?: string;
  venue?: string;
  slippage?: string;
  sizing?: string;
  param: string[];
  balance: string[];
  out?: string;
  seed: string;
  mcRuns?: string;
  mcSeed?: string;
  hours: string;
  latency?: string;
  sample?: string;
  strict?: boolean;
  fee?: string;
  listParams?: boolean;
  progress: boolean;
  fullReport?: boolean;
  lateRows?: string;
  replaySession?: string;
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
    .option(...TIMERANGE_OPTION)
    .option(...LAST_OPTION)
    .option(...SYMBOL_OPTION)
    .option(...VENUE_OPTION)
    .option(
      '-p, --param <key=value>',
      'strategy parameter (repeatable); N.key=value or NAME.key=value for one of several strategies',
      collect,
      [],
    )
    .option('-b, --balance <amountCCY>', 'initial balance (repeatable), e.g. 10000USDT', collect, [])
    .option(
      '-o, --out <dir>',
      'report folder (default: a new run folder reports/<time>-<strategy>/, linked as reports/latest)',
    )
    .option('--seed <n>', 'demo market seed', '42')
    .option('--hours <n>', 'demo market length in hours', '24')
    .option('--latency <micros>', 'order entry and response latency of the simulated venue, micros each')
    .option(
      '--sample <d>',
      'equity sampling interval (1m, 1h, 1d); default the bar interval of candle data, else 1m',
    )
    .option(...STRICT_OPTION)
    .option(...FEE_OPTION)
    .option(...SLIPPAGE_OPTION)
    .option(...SIZING_OPTION)
    .option(
      '--late-rows <policy>',
      'a row older than rows already replayed: deliver (at the current time) or drop; counted in report notes (default: config data.lateRows, deliver)',
    )
    .option(...MC_RUNS_OPTION)
    .option(...MC_SEED_OPTION)
    .option('--list-params', "print the strategy's parameters and exit")
    .option(
      '--replay-session <id>',
      'replay a recorded paper/live session (from --catalog) with its own strategies, data and limits, and report where backtest and session diverged, order by order',
    )
    .option(...FULL_REPORT_OPTION)
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
  bot4 backtest --strategy ema-cross --data ../shared/data/nautilus_trader/bars/btc-perp-20211231-20220201_1m.csv
  bot4 backtest --demo --timerange 20240101-2024-01-01T12:00 --slippage ticks:2 --sizing stake:500
  bot4 backtest --demo --last 6h --slippage spread:0.5 --sizing risk:0.5%,stop=1%
  bot4 backtest --demo --strategy ema-cross --strategy mean-reversion --param 2.period=30   # one account
  bot4 backtest --strategy examples/my-strategy.ts --data ../shared/data/hftbacktest/usdm/btcusdt_20240808.gz \\
      --param instrument=BTCUSDT --balance 10000USDT
  bot4 backtest --strategy market-maker --data catalog:BTCUSDT.BINANCE_USDM/quotes,trades,depth \\
      --from 2024-08-08T23:55:00Z --to 2024-08-09 --param qty=0.01
  bot4 backtest --replay-session paper-20261207T163012Z-a1b2 --out reports/replay

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
Defaults from the data: --strategy and --data are enough. The instrument (the data's only one, or --symbol/
--venue), its bar interval and a balance of 10,000 in its settlement currency (1 of a coin) are taken from
the data when not given; the report's notes say which.
Costs: --fee, --slippage (taker fills on quote and bar data; none on L2 data, where the book walk is the
slippage) and funding each have a line in the summary, and 'Net profit before costs' is the result without.
A run without trades says why (data seen, warm-up, risk denials) on standard error and in the report notes.

Without --out each run is kept in reports/<time>-<strategy>/ and reports/latest links to the newest; bot4
report ls|show|compare reads them. The report (terminal, report.txt, report.html) adds results by day, week,
month, exit reason, hour and weekday, drawdown episodes, the trade-return distribution and a Monte Carlo of
the trade sequence (--mc-runs paths drawn with --mc-seed: the same seed, the same figures).
Session replay: bot4 paper/live record each session into the catalog and print its id; --replay-session
re-runs it at the session's own engine times (same strategies, parameters, risk limits, balances, latency) and
counts orders matched, missing in backtest, extra in backtest, and whose price, quantity, time or outcome
differ, listing the first 20 (all in divergence.json beside the report).

Exit codes: 0 done, 2 bad input (unknown strategy, parameter, file), 130 interrupted (partial report written).`,
    )
    .action(async (opts: BacktestCliOptions) => {
      // The engine, loaders and report load here, not at start-up (bot4 --help stays fast).
      const [
        { isCatalogQuery, openBacktestData },
        { DEMO_INSTRUMENT, DEMO_START, demoMarket },
        { REPORTS_DIR, writeRun },
        { reportText },
        { LATE_ROW_POLICIES, runBacktest },
        { newInstrumentRegistry },
        { resolveStrategy },
        { describeParams },
        { DEFAULT_SAMPLE_INTERVAL },
        { runFeeSchedules },
        { dataDefaults },
        { dataEnd },
        { parseSlippage },
        { parseSizing },
        { dataInstruments, planStrategies },
        { formatBreakdown },
        { StrategyFailure },
      ] = await Promise.all([
        import('../backtest/data-query.ts'),
        import('../backtest/demo-market.ts'),
        import('../backtest/runs.ts'),
        import('../backtest/report.ts'),
        import('../backtest/runner.ts'),
        import('../model/instrument.ts'),
        import('../strategy/loader.ts'),
        import('../strategy/params.ts'),
        import('../backtest/recorder.ts'),
        import('../model/fee-schedule.ts'),
        import('../backtest/run-defaults.ts'),
        import('../backtest/data-end.ts'),
        import('../venues/sim/slippage.ts'),
        import('../risk/sizing-text.ts'),
        import('../backtest/strategy-plan.ts'),
        import('../backtest/breakdown.ts'),
        import('../backtest/strategy-failure.ts'),
      ]);
      const config = loadConfig();
      if (opts.replaySession !== undefined) {
        const { runReplayCommand } = await import('./replay-command.ts');
        const catalogDir = opts.catalog ?? config.data.catalogDir;
        // Without --out the replay's report goes beside the kept runs, named by its session.
        const out = opts.out ?? `${REPORTS_DIR}/replay-${opts.replaySession}`;
        return runReplayCommand({ sessionId: opts.replaySession, catalogDir, out });
      }
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
      checkOutputDir(opts.out ?? REPORTS_DIR);
      const analysis = parseAnalysisOptions(opts.mcRuns, opts.mcSeed);
      checkInputFiles(
        (opts.data ?? []).filter((s) => !isCatalogQuery(s)),
        '--data',
      );
      const instruments = newInstrumentRegistry();
      instruments.fees = runFeeSchedules(config.fees, opts.fee);
      let balances =
        opts.balance.length > 0 ? opts.balance.map(parseBalance) : [{ amount: '10000', currency: 'USDT' }];
      const rangeSpec = parseRangeOptions(opts);
      const slippage = opts.slippage === undefined ? undefined : parseSlippage(opts.slippage, '--slippage');
      const riskConfig =
        opts.sizing === undefined
          ? config.risk
          : { ...config.risk, sizing: parseSizing(opts.sizing, '--sizing') };
      const sample = opts.sample === undefined ? undefined : parseDuration(opts.sample, '--sample');
      const dataSpecs = opts.data ?? [];
      const pick = {
        ...(opts.symbol === undefined ? {} : { symbol: opts.symbol }),
        ...(opts.venue === undefined ? {} : { venue: opts.venue }),
      };
      // One file: --symbol/--venue also name its instrument (a file name may not say); several: they only pick.
      const rename = dataSpecs.length === 1 && !isCatalogQuery(dataSpecs[0]!) ? pick : {};
      // --last counts back from the end of the data: the demo's is known, files are read once to find theirs.
      const dataLast =
        rangeSpec.last === undefined
          ? Number.NaN
          : dataSpecs.length > 0
            ? await dataEnd(dataSpecs, { catalogDir: opts.catalog ?? config.data.catalogDir, ...rename })
            : DEMO_START + Number(opts.hours) * HOUR;
      const { from, to } = resolveLast(rangeSpec, dataLast);
      // Defaults taken from the data (instrument when one is picked, bar interval) go to the plan as parameters.
      let dataParams: string[] = [];

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
          ...rename,
        });
        data = opened.data;
        label = opened.label;
        closeData = opened.close;
        if (sample === undefined && opened.barInterval !== undefined) {
          sampleEvery = Math.max(sampleEvery, opened.barInterval);
        }
        // A first run needs no more than --strategy and --data: instrument, interval and balance from the data.
        const defaults = dataDefaults({
          schema: entries[0]!.cls.params,
          given: new Set(opts.param.map((p) => p.slice(0, p.indexOf('=')).trim())),
          instruments,
          ...pick,
          barInterval: opened.barInterval,
          balanceGiven: opts.balance.length > 0,
        });
        dataParams = Object.entries(defaults.params).map(([k, v]) => `${k}=${v}`);
        if (defaults.balance !== undefined) balances = [defaults.balance];
        dataNotes = () => [...defaults.notes, ...opened.notes()];
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
      const strategies = planStrategies(
        entries,
        [...opts.param, ...dataParams],
        dataInstruments(opts.data ?? [], instruments),
      );
      let result: Awaited<ReturnType<typeof runBacktest>>;
      try {
        result = await runBacktest({
          strategies,
          instruments,
          data,
          dataLabel: label,
          balances,
          riskConfig,
          sampleIntervalMicros: sampleEvery,
          dataNotes,
          orderCapacity: config.memory.pools.orders,
          ...(rangeFrom === undefined ? {} : { from: rangeFrom }),
          ...(rangeTo === undefined ? {} : { to: rangeTo }),
          ...(latency === undefined && slippage === undefined
            ? {}
            : {
                venue: {
                  ...(latency === undefined ? {} : { latency: { orderEntry: latency, response: latency } }),
                  ...(slippage === undefined ? {} : { slippageModel: slippage }),
                },
              }),
          signal: interrupt.signal,
          onProgress,
          lateRows,
          ...(metrics === undefined ? {} : { probe: metrics.backtestProbe() }),
        });
      } catch (e) {
        await metrics?.close();
        // A strategy threw: its partial report is written, and the error says where (its file:line) and when.
        if (e instanceof StrategyFailure) {
          const kept = writeRun(e.result.report, {
            strategy: specs,
            analysis,
            fullTables: opts.fullReport === true,
            ...(opts.out === undefined ? {} : { out: opts.out }),
          });
          process.stderr.write(`partial report (up to the failing event): ${kept.paths.html}\n`);
        }
        throw e;
      } finally {
        closeData();
        interrupt.dispose();
        progress.end();
      }
      printNotes('backtest', result.report.notes);
      const kept = writeRun(result.report, {
        strategy: specs,
        analysis,
        fullTables: opts.fullReport === true,
        ...(opts.out === undefined ? {} : { out: opts.out }),
      });
      for (const note of kept.notes) process.stderr.write(`backtest: ${note}\n`);
      const paths = kept.paths;
      process.stdout.write(reportText({ ...result.report, analysis: kept.analysis }, false));
      if (result.breakdown !== undefined)
        process.stdout.write(`\n${formatBreakdown(result.breakdown, result.report.currency)}\n`);
      process.stdout.write(
        `\n${result.events.toLocaleString('en-US')} events in ${(result.wallMs / 1000).toFixed(2)} s ` +
          `(${Math.round(result.events / Math.max(result.wallMs / 1000, 1e-3)).toLocaleString('en-US')} events/s), fingerprint ${result.fingerprint}` +
          `${result.partial ? ' (PARTIAL: interrupted)' : ''}\nreport: ${paths.html}\n        ${paths.json}\n        ${paths.text}\n` +
          (paths.trades === undefined ? '' : `        ${paths.trades}\n        ${paths.fills}\n`),
      );
      await closeCliMetrics(metrics, opts);
      if (result.partial) throw new Interrupted('backtest interrupted: partial report written');
    });
}
