// `bot4 optimize`: searches a strategy's parameters (grid, random or TPE) by backtesting each set on a data
// set loaded once into shared memory and replayed by every worker; optional walk-forward analysis. Trials are
// persisted as they finish, so an interrupted run resumes where it stopped; Ctrl-C stops cleanly with a report.

import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { DEMO_INSTRUMENT, demoMarket } from '../backtest/demo-market.ts';
import {
  datasetFingerprint,
  datasetRange,
  loadShared,
  type SharedDataset,
  syntheticBars,
} from '../backtest/optimize/dataset.ts';
import {
  OBJECTIVES,
  type Objective,
  objectiveByName,
  type TrialStats,
} from '../backtest/optimize/objective.ts';
import { DEFAULT_BATCH, type OptimizeProgress, optimize } from '../backtest/optimize/optimizer.ts';
import type { buildOptimizeReport, paramText } from '../backtest/optimize/report.ts';
import { SEARCH_KINDS, type SearchKind } from '../backtest/optimize/search.ts';
import { bad, buildSpace, gridSize } from '../backtest/optimize/space.ts';
import { type TrialRecord, TrialStore } from '../backtest/optimize/store.ts';
import type { TrialSetup } from '../backtest/optimize/trial.ts';
import { parseDuration, type WalkForwardSpec, type Window } from '../backtest/optimize/walk-forward.ts';
import { DEFAULT_SAMPLE_INTERVAL } from '../backtest/recorder.ts';
import { formatPct } from '../backtest/report-format.ts';
import { monoMillis } from '../core/clock.ts';
import type { Config } from '../core/config.ts';
import { Bot4Error, ErrorCode } from '../core/errors.ts';
import { isoMicros, parseRangeOptions } from '../core/time-text.ts';
import type { FeeSchedules } from '../model/fee-schedule.ts';
import { newInstrumentRegistry } from '../model/instrument.ts';
import { collect, parseBalance } from './backtest-command.ts';
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
import { LAST_OPTION, SIZING_OPTION, SLIPPAGE_OPTION, TIMERANGE_OPTION } from './run-options.ts';

interface OptimizeCliOptions extends MetricsCliOptions {
  strategy: string;
  data?: string[];
  catalog?: string;
  demo?: boolean;
  bars?: string;
  from?: string;
  to?: string;
  timerange?: string;
  last?: string;
  slippage?: string;
  sizing?: string;
  param: string[];
  where: string[];
  search: string;
  trials?: string;
  seed: string;
  objective: string;
  workers?: string;
  batch: string;
  walkForward?: string;
  anchored?: boolean;
  isRatio?: string;
  isLength?: string;
  oosLength?: string;
  balance: string[];
  latency?: string;
  fee?: string;
  sample?: string;
  heatmap?: string;
  out: string;
  resume?: boolean;
  fresh?: boolean;
  strict?: boolean;
  progress: boolean;
  cluster?: string;
  clusterReplicas: string;
  clusterAckWait: string;
}

function wholeNumber(text: string, option: string, min: number): number {
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || n < min)
    bad(`${option} must be a whole number >= ${min}, got '${text}'`, { option });
  return n;
}

/** A strategy file's content goes into the spec hash: editing the strategy must not resume old trials. */
export function strategyIdentity(spec: string): string {
  const path = spec.replace(/:[A-Za-z_$][\w$]*$/, '');
  if (!/\.[cm]?[jt]s$/.test(path) || !existsSync(path)) return spec;
  return `${resolve(spec)}#${createHash('sha256').update(readFileSync(path)).digest('hex').slice(0, 16)}`;
}

/** Where the data set comes from (also what a cluster job sends its workers: see src/cluster/job.ts). */
export type DataSource = Pick<OptimizeCliOptions, 'data' | 'catalog' | 'demo' | 'bars' | 'strict'>;

/** The data set, and what the file loaders skipped or repaired reading it. */
export async function loadData(
  opts: DataSource,
  catalogDir: string,
  range: Partial<Window>,
  fees: FeeSchedules | undefined,
): Promise<{ data: SharedDataset; notes: string[]; barInterval?: number }> {
  const sources = [
    opts.data !== undefined && opts.data.length > 0,
    opts.demo === true,
    opts.bars !== undefined,
  ];
  if (sources.filter(Boolean).length !== 1) {
    bad('give exactly one of --data FILES, --demo or --bars N (synthetic one-minute bars)');
  }
  const instruments = newInstrumentRegistry();
  // The data set carries its instruments' specs, fee rates included, to every worker.
  instruments.fees = fees;
  if (opts.bars !== undefined) {
    const spec = instruments.add(DEMO_INSTRUMENT).spec;
    return { data: syntheticBars(spec, { bars: wholeNumber(opts.bars, '--bars', 100), seed: 7 }), notes: [] };
  }
  if (opts.demo === true) {
    const inst = instruments.add(DEMO_INSTRUMENT);
    const data = await loadShared(
      demoMarket(inst.id, { seed: 42 }),
      instruments,
      'demo market (seed 42, 24 h)',
    );
    return { data, notes: [] };
  }
  // Loaders, the catalog and the engine load when a command runs, not at bot4 start-up (--help stays fast).
  const { openBacktestData } = await import('../backtest/data-query.ts');
  const opened = await openBacktestData(opts.data!, {
    instruments,
    catalogDir: opts.catalog ?? catalogDir,
    ...range,
    ...(opts.strict === true ? { strict: true } : {}),
  });
  try {
    const data = await loadShared(opened.data, instruments, opened.label);
    return {
      data,
      notes: opened.notes(),
      ...(opened.barInterval === undefined ? {} : { barInterval: opened.barInterval }),
    };
  } finally {
    opened.close();
  }
}

function progressText(p: OptimizeProgress, objective: Objective): string {
  const eta = Number.isFinite(p.etaSeconds) ? `ETA ${Math.ceil(p.etaSeconds)} s` : 'ETA -';
  const fold = p.folds > 1 ? ` fold ${p.fold + 1}/${p.folds}` : '';
  const best =
    p.best?.stats == null
      ? ''
      : ` best ${objective.name} ${String(objective.value(p.best.stats)?.toPrecision(4))}`;
  return `trials ${p.done}/${p.total} ${p.trialsPerSecond.toFixed(1)}/s ${eta}${fold}${best}`;
}

export function registerOptimizeCommand(program: Command, loadConfig: () => Config): void {
  const cmd = program
    .command('optimize')
    .description(
      'search strategy parameters (grid, random, TPE) with backtests on parallel workers, optionally walk-forward',
    )
    .option('-s, --strategy <name|file>', 'built-in strategy name or a .ts/.js file', 'ema-cross')
    .option(
      '-d, --data <files|query...>',
      'market-data files (any format `bot4 data import` reads) and catalog queries catalog:<instruments>[/<kinds>], loaded once',
    )
    .option('--catalog <dir>', 'catalog directory for catalog: queries (default: config data.catalogDir)')
    .option('--demo', 'the seeded demo market (24 h of quotes and trades)')
    .option('--bars <n>', 'N seeded synthetic one-minute bars (e.g. 1000000) instead of files')
    .option('--from <time>', 'start of the range (ISO time, date or micros)')
    .option('--to <time>', 'end of the range, exclusive')
    .option(...TIMERANGE_OPTION)
    .option(...LAST_OPTION)
    .option('-p, --param <spec>', 'name=lo..hi:step, name=a,b,c or name=value (repeatable)', collect, [])
    .option('--where <cond>', "constraint between parameters, e.g. 'fast < slow' (repeatable)", collect, [])
    .option('--search <kind>', `${SEARCH_KINDS.join(' | ')}`, 'tpe')
    .option('-n, --trials <n>', 'trials per fold (default: the whole grid for grid search, else 100)')
    .option('--seed <n>', 'seed of the random and TPE searches', '1')
    .option(
      '--objective <name>',
      `what to maximise/minimise: ${OBJECTIVES.map((o) => o.name).join(', ')}`,
      'sharpe',
    )
    .option('-w, --workers <n>', 'worker threads (default: every core; 1 runs trials in this thread)')
    .option(
      '--batch <n>',
      'points proposed per round; results do not depend on --workers',
      String(DEFAULT_BATCH),
    )
    .option('--walk-forward <folds>', 'walk-forward analysis with this many folds')
    .option('--anchored', 'anchored walk-forward: every in-sample window starts at the start of the range')
    .option('--is-ratio <r>', 'in-sample share of each fold (default 0.75)')
    .option('--is-length <d>', 'in-sample window length (90m, 12h, 7d, 2w); with --oos-length')
    .option('--oos-length <d>', 'out-of-sample window length')
    .option('-b, --balance <amountCCY>', 'initial balance (repeatable), e.g. 10000USDT', collect, [])
    .option('--latency <micros>', 'order entry and response latency of the simulated venue, micros each')
    .option(...FEE_OPTION)
    .option(...SLIPPAGE_OPTION)
    .option(...SIZING_OPTION)
    .option(
      '--sample <d>',
      'equity sampling interval of the statistics (default: the bar interval of candle data, else 1m; 1h makes long runs faster, Sharpe on hourly returns)',
    )
    .option('--heatmap <a,b>', 'the two parameters of the report heatmap (default the first two swept)')
    .option('-o, --out <dir>', 'folder for trials.jsonl, optimize.json and optimize.html', 'reports/optimize')
    .option('--resume', 'require an earlier run in --out to resume (resuming is otherwise automatic)')
    .option('--fresh', 'discard the trials of an earlier run in --out and start again')
    .option(...STRICT_OPTION)
    .option('--no-progress', 'no progress on standard error')
    .option(
      '--cluster <urls>',
      'run the trials on `bot4 worker`s through NATS JetStream (nats://host:4222, comma-separated servers)',
    )
    .option('--cluster-replicas <n>', 'copies of the cluster streams (3 on a cluster of three servers)', '1')
    .option(
      '--cluster-ack-wait <s>',
      'seconds after which a silent worker (dead) has its trial go to another',
      '30',
    );
  addMetricsOptions(cmd)
    .addHelpText(
      'after',
      `
Every trial is a full backtest (simulated exchange, risk, portfolio). The data set is loaded once into shared
memory and every worker replays it without copying. Bar-only data (candle files) fills market orders at the
next bar's open and limit orders when the bar's range goes through their price.

Searches: grid (every point, in order), random (seeded, no repeats), tpe (tree-structured Parzen estimator:
random start, then points where good trials are dense and bad ones sparse). Trials run in rounds of --batch,
so the same seed gives the same trials and results with any --workers; on many cores, raise --batch to at
least the worker count (TPE then learns from fewer, larger rounds).

Walk-forward: the range splits into folds; each fold optimises on its in-sample window, then runs the best
parameters on the out-of-sample window that follows. The report stitches the out-of-sample equity and gives
the in-sample vs out-of-sample objective per fold (walk-forward efficiency = OOS / IS).

Examples:
  bot4 optimize --strategy ema-cross --data ../shared/data/nautilus_trader/bars/btc-perp-20211231-20220201_1m.csv \\
      --param instrument=BTC-PERP.FTX --param qty=0.1 --balance 100000USD \\
      --param fast=5..50:5 --param slow=20..200:10 --where 'fast < slow' --objective sharpe --search grid
  bot4 optimize --bars 200000 --param fast=5..50:5 --param slow=20..200:10 --search tpe --trials 60 --out reports/tpe
  bot4 optimize --data FILE ... --walk-forward 6 --is-ratio 0.75 --search tpe --trials 50 --out reports/wf
  bot4 optimize --data FILE ... --walk-forward 4 --anchored --is-length 7d --oos-length 2d

Interrupt with Ctrl-C: finished trials stay in <out>/trials.jsonl and the report is written; run the same
command again to resume. A different strategy, data, space, search, seed or objective in the same --out is
refused (use another --out or --fresh).

Exit codes: 0 done, 2 bad input, 130 interrupted (partial report written).`,
    )
    .action(async (opts: OptimizeCliOptions) => {
      const config = loadConfig();
      if (opts.resume === true && opts.fresh === true) {
        bad(
          '--resume and --fresh contradict each other: --resume keeps the earlier trials, --fresh deletes them; give one',
        );
      }
      checkOutputDir(opts.out);
      // Bad cluster options fail before the data loads (NATS modules load only with --cluster).
      if (opts.cluster !== undefined) {
        (await import('../cluster/cluster-executor.ts')).clusterOptions({ ...opts, cluster: opts.cluster });
      }
      // Loaders, the catalog and the engine load when a command runs, not at bot4 start-up (--help stays fast).
      const { isCatalogQuery } = await import('../backtest/data-query.ts');
      checkInputFiles(
        (opts.data ?? []).filter((s) => !isCatalogQuery(s)),
        '--data',
      );
      const { resolveStrategy } = await import('../strategy/loader.ts');
      const cls = await resolveStrategy(opts.strategy);
      if (!(SEARCH_KINDS as readonly string[]).includes(opts.search)) {
        bad(`--search '${opts.search}' is not one of ${SEARCH_KINDS.join(', ')}`, { search: opts.search });
      }
      const search = opts.search as SearchKind;
      const objective = objectiveByName(opts.objective);
      const space = buildSpace(cls.params, opts.param, opts.where, `strategy ${cls.name}`);
      if (space.dims.length === 0) {
        bad('nothing to optimise: give at least one --param name=lo..hi:step or name=a,b,c', {});
      }
      const trials =
        opts.trials === undefined
          ? search === 'grid'
            ? gridSize(space)
            : 100
          : wholeNumber(opts.trials, '--trials', 1);
      const seed = wholeNumber(opts.seed, '--seed', 0);
      const batch = wholeNumber(opts.batch, '--batch', 1);
      const cores = Math.max(1, availableParallelism());
      const asked = opts.workers === undefined ? cores : wholeNumber(opts.workers, '--workers', 1);
      // More threads than cores, than trials run at once (--batch) or than trials at all only cost start-up.
      const perFold = Math.min(trials, gridSize(space));
      const workers = Math.min(asked, cores, batch, perFold);
      if (opts.workers !== undefined && workers < asked) {
        process.stderr.write(
          `--workers ${asked}: using ${workers} (${cores} core${cores === 1 ? '' : 's'}, --batch ${batch}, ${perFold} trial${perFold === 1 ? '' : 's'} per fold; more would wait)\n`,
        );
      }
      let walkForward: WalkForwardSpec | undefined;
      if (opts.walkForward !== undefined) {
        const folds = wholeNumber(opts.walkForward, '--walk-forward', 1);
        if ((opts.isLength === undefined) !== (opts.oosLength === undefined)) {
          bad('--is-length and --oos-length go together: give both, or neither (then --is-ratio applies)');
        }
        walkForward = {
          folds,
          anchored: opts.anchored === true,
          ...(opts.isRatio === undefined ? {} : { isRatio: Number(opts.isRatio) }),
          ...(opts.isLength === undefined ? {} : { isLength: parseDuration(opts.isLength, '--is-length') }),
          ...(opts.oosLength === undefined
            ? {}
            : { oosLength: parseDuration(opts.oosLength, '--oos-length') }),
        };
      } else if (opts.anchored === true || opts.isRatio !== undefined || opts.isLength !== undefined) {
        bad('--anchored, --is-ratio and --is-length need --walk-forward N');
      }
      const heatmapDims = opts.heatmap?.split(',').map((s) => s.trim());
      if (heatmapDims !== undefined) {
        for (const d of heatmapDims) {
          if (!space.dims.some((x) => x.name === d)) {
            bad(
              `--heatmap ${opts.heatmap}: '${d}' is not a swept parameter (${space.dims.map((x) => x.name).join(', ')})`,
            );
          }
        }
        if (heatmapDims.length !== 2) bad(`--heatmap takes two parameters, e.g. --heatmap fast,slow`);
      }
      const balances =
        opts.balance.length > 0 ? opts.balance.map(parseBalance) : [{ amount: '10000', currency: 'USDT' }];
      const latency = opts.latency === undefined ? undefined : wholeNumber(opts.latency, '--latency', 0);
      const sample = opts.sample === undefined ? undefined : parseDuration(opts.sample, '--sample');
      const { feeLine, runFeeSchedules } = await import('../model/fee-schedule.ts');
      const fees = runFeeSchedules(config.fees, opts.fee);

      const { from, to, last } = parseRangeOptions(opts);
      const { parseSlippage } = await import('../venues/sim/slippage.ts');
      const { parseSizing } = await import('../risk/sizing-text.ts');
      const slippage = opts.slippage === undefined ? undefined : parseSlippage(opts.slippage, '--slippage');
      const riskConfig =
        opts.sizing === undefined
          ? config.risk
          : { ...config.risk, sizing: parseSizing(opts.sizing, '--sizing') };
      const t0 = monoMillis();
      const { data, notes, barInterval } = await loadData(
        opts,
        config.data.catalogDir,
        {
          ...(from === undefined ? {} : { from }),
          ...(to === undefined ? {} : { to }),
        },
        fees,
      );
      printNotes('optimize', notes);
      // As backtest does: candle data longer than a minute is sampled at its bar (the spec records it).
      const sampleEvery =
        sample ??
        (barInterval !== undefined && barInterval > DEFAULT_SAMPLE_INTERVAL ? barInterval : undefined);
      const full = datasetRange(data);
      // --last counts back from the end of the loaded data (from --to, when given, parseRangeOptions did).
      const range = {
        from: from ?? (last === undefined ? full.from : full.to - 1 - last),
        to: to ?? full.to,
      };
      if (!(range.from < range.to)) {
        bad(`--from ${isoMicros(range.from)} is not before --to ${isoMicros(range.to)}: the range is empty`);
      }
      const strategy = opts.strategy.includes('.') ? resolve(opts.strategy) : opts.strategy;
      const setup: TrialSetup = {
        data,
        strategy,
        balances,
        riskConfig,
        ...(slippage === undefined ? {} : { slippage }),
        ...(latency === undefined ? {} : { latency }),
        ...(sampleEvery === undefined ? {} : { sampleIntervalMicros: sampleEvery }),
      };
      const spec = {
        strategy: strategyIdentity(opts.strategy),
        data: datasetFingerprint(data),
        range,
        space: { dims: space.dims, fixed: space.fixed, where: space.where.map((w) => w.text) },
        search,
        seed,
        batch,
        objective: objective.name,
        walkForward: walkForward ?? null,
        balances,
        latency: latency ?? null,
        sample: sampleEvery ?? null,
        risk: riskConfig,
        ...(slippage === undefined ? {} : { slippage: slippage.text }),
      };
      const store = new TrialStore(opts.out, spec, {
        fresh: opts.fresh === true,
        resume: opts.resume === true,
      });
      const loadMs = monoMillis() - t0;
      process.stderr.write(
        `${data.length.toLocaleString('en-US')} events loaded in ${(loadMs / 1000).toFixed(2)} s (${opts.cluster === undefined ? `shared by ${workers} worker${workers === 1 ? '' : 's'}` : `trials go to the workers of ${opts.cluster}`})` +
          `${store.resumed > 0 ? `; resuming ${store.resumed} finished trials from ${store.path}` : ''}\n`,
      );

      const interrupt = onInterrupt('interrupted: finishing the running trials, then writing the report');
      const progress = new ProgressLine(opts.progress);
      const metrics = await startCliMetrics(opts, 'optimize');
      const trialGauge =
        metrics &&
        new (await import('prom-client')).Gauge({
          name: 'bot4_optimize_trials',
          help: 'Optimisation trials by status: done (this fold, resumed included) and total (this fold).',
          labelNames: ['status'],
          registers: [metrics.registry],
        });
      const onProgress = (p: OptimizeProgress): void => {
        trialGauge?.set({ status: 'done' }, p.done);
        trialGauge?.set({ status: 'total' }, p.total);
        progress.show(progressText(p, objective), p.done >= p.total);
      };
      const { startExecutor } = await import('../backtest/optimize/executor.ts');
      let result: Awaited<ReturnType<typeof optimize>>;
      let executor: Awaited<ReturnType<typeof startExecutor>> | undefined;
      try {
        executor =
          opts.cluster === undefined
            ? await startExecutor(setup, workers)
            : await (await import('../cluster/cluster-executor.ts')).startClusterExecutor(
                { ...opts, cluster: opts.cluster },
                {
                  id: store.hash,
                  source: opts,
                  catalogDir: resolve(opts.catalog ?? config.data.catalogDir),
                  from,
                  to,
                  fees: { config: config.fees, option: opts.fee },
                  fingerprint: spec.data,
                  strategyIdentity: spec.strategy,
                  setup,
                },
              );
        result = await optimize({
          cls,
          space,
          objective,
          search,
          trials,
          seed,
          batch,
          range,
          ...(walkForward === undefined ? {} : { walkForward }),
          executor,
          store,
          signal: interrupt.signal,
          onProgress,
        });
      } catch (e) {
        await metrics?.close();
        // Nothing finished: leave no trials file behind to block the next run.
        if (store.size === 0) store.discardIfCreated();
        throw e;
      } finally {
        interrupt.dispose();
        progress.end();
        store.close();
        await executor?.close();
      }
      if (!result.partial) failIfNothingRan(result.trials, () => store.discardIfCreated());
      await closeCliMetrics(metrics, opts);
      const { buildOptimizeReport, paramText, writeOptimizeReport } = await import(
        '../backtest/optimize/report.ts'
      );
      const report = buildOptimizeReport(
        {
          strategy: cls.name,
          data: data.label,
          search,
          seed,
          trialsPerFold: trials,
          batch,
          range,
          walkForward: walkForward ?? null,
          specHash: store.hash,
          notes,
          fees: data.instruments.map((i) =>
            feeLine(`${i.symbol}.${i.venue}`, i.makerFee, i.takerFee, i.feeSource),
          ),
        },
        objective,
        space,
        result,
        heatmapDims as [string, string] | undefined,
      );
      const paths = writeOptimizeReport(opts.out, report);
      process.stdout.write(
        `${summary(report, paramText)}\nreport: ${paths.html}\n        ${paths.json}\ntrials: ${store.path}\n`,
      );
      if (result.partial) throw new Interrupted('optimisation interrupted: partial report written');
    });
}

/**
 * A finished optimisation without one trial that ran to the end has no result: exit non-zero saying why (every
 * point refused: exit 2; every trial failed: exit 1), with the first reason, after removing the trials file
 * this run created (it would block the corrected command as a "different optimisation").
 */
function failIfNothingRan(trials: readonly TrialRecord[], discard: () => boolean): void {
  const tried = trials.filter((t) => t.skipped === null);
  if (tried.some((t) => t.error === null)) return;
  const removed = discard() ? ' (no trials file kept)' : '';
  if (tried.length === 0) {
    const first = trials[0]?.skipped;
    bad(
      first === undefined
        ? `nothing to optimise: the search proposed no parameter set${removed}`
        : `nothing to optimise: all ${trials.length} parameter sets proposed were refused; the first ${first}${removed}`,
    );
  }
  throw new Bot4Error(
    ErrorCode.TASK_FAILED,
    `every trial failed (${tried.length} of ${tried.length}); the first error: ${tried[0]!.error}${removed}`,
  );
}

function summary(r: ReturnType<typeof buildOptimizeReport>, text: typeof paramText): string {
  const m = r.meta;
  const name = m.objective.name;
  const swept = new Set(r.space.dims.map((d) => d.name));
  const objective = objectiveByName(name);
  const ptxt = (p: Record<string, unknown> | undefined): string => (p === undefined ? '-' : text(p, swept));
  const val = (t: { stats: TrialStats | null } | null | undefined): string => {
    const v = t?.stats == null ? null : objective.value(t.stats);
    return v === null ? 'n/a' : v.toPrecision(4);
  };
  const lines = [
    `${m.ran + m.resumed} trials (${m.resumed} resumed) in ${(m.wallMs / 1000).toFixed(1)} s, ${m.trialsPerSecond.toFixed(2)} trials/s on ${m.workers} worker(s)${m.partial ? ' (PARTIAL: interrupted)' : ''}`,
    `best ${name} ${val(r.best)}: ${ptxt(r.best?.params)}`,
  ];
  if (r.degradation !== null) {
    lines.push('fold  best parameters                    IS        OOS');
    for (const f of r.folds) {
      lines.push(
        `${String(f.index + 1).padEnd(5)} ${ptxt(f.best?.params).padEnd(34)} ${val(f.best).padEnd(9)} ${val(f.check)}`,
      );
    }
    const d = r.degradation;
    lines.push(
      `mean ${name} IS ${d.meanInSample?.toPrecision(4) ?? 'n/a'}, OOS ${d.meanOutOfSample?.toPrecision(4) ?? 'n/a'}, efficiency ${d.efficiency?.toFixed(2) ?? 'n/a'}; stitched OOS return ${formatPct(r.stitchedReturn)}, max drawdown ${formatPct(r.stitchedMaxDrawdown)}`,
    );
  }
  return lines.join('\n');
}
