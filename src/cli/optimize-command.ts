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
import { TrialStore } from '../backtest/optimize/store.ts';
import type { TrialSetup } from '../backtest/optimize/trial.ts';
import { parseDuration, type WalkForwardSpec, type Window } from '../backtest/optimize/walk-forward.ts';
import { formatPct } from '../backtest/report-format.ts';
import { monoMillis } from '../core/clock.ts';
import type { Config } from '../core/config.ts';
import { newInstrumentRegistry } from '../model/instrument.ts';
import { collect, parseBalance, parseTime } from './backtest-command.ts';
import { Interrupted, onInterrupt } from './interrupt.ts';
import { ProgressLine } from './progress.ts';

interface OptimizeCliOptions {
  strategy: string;
  data?: string[];
  catalog?: string;
  demo?: boolean;
  bars?: string;
  from?: string;
  to?: string;
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
  sample?: string;
  heatmap?: string;
  out: string;
  resume?: boolean;
  fresh?: boolean;
  progress: boolean;
}

function wholeNumber(text: string, option: string, min: number): number {
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || n < min)
    bad(`${option} must be a whole number >= ${min}, got '${text}'`, { option });
  return n;
}

/** A strategy file's content goes into the spec hash: editing the strategy must not resume old trials. */
function strategyIdentity(spec: string): string {
  const path = spec.replace(/:[A-Za-z_$][\w$]*$/, '');
  if (!/\.[cm]?[jt]s$/.test(path) || !existsSync(path)) return spec;
  return `${resolve(spec)}#${createHash('sha256').update(readFileSync(path)).digest('hex').slice(0, 16)}`;
}

async function loadData(
  opts: OptimizeCliOptions,
  catalogDir: string,
  range: Partial<Window>,
): Promise<SharedDataset> {
  const sources = [
    opts.data !== undefined && opts.data.length > 0,
    opts.demo === true,
    opts.bars !== undefined,
  ];
  if (sources.filter(Boolean).length !== 1) {
    bad('give exactly one of --data FILES, --demo or --bars N (synthetic one-minute bars)');
  }
  if (opts.bars !== undefined) {
    return syntheticBars(DEMO_INSTRUMENT, { bars: wholeNumber(opts.bars, '--bars', 100), seed: 7 });
  }
  const instruments = newInstrumentRegistry();
  if (opts.demo === true) {
    const inst = instruments.add(DEMO_INSTRUMENT);
    return loadShared(demoMarket(inst.id, { seed: 42 }), instruments, 'demo market (seed 42, 24 h)');
  }
  // Loaders, the catalog and the engine load when a command runs, not at bot4 start-up (--help stays fast).
  const { openBacktestData } = await import('../backtest/data-query.ts');
  const opened = await openBacktestData(opts.data!, {
    instruments,
    catalogDir: opts.catalog ?? catalogDir,
    ...range,
  });
  try {
    return await loadShared(opened.data, instruments, opened.label);
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
  program
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
    .option(
      '--sample <d>',
      'equity sampling interval of the statistics (1m default; 1h makes long bar runs faster, Sharpe on hourly returns)',
    )
    .option('--heatmap <a,b>', 'the two parameters of the report heatmap (default the first two swept)')
    .option('-o, --out <dir>', 'folder for trials.jsonl, optimize.json and optimize.html', 'reports/optimize')
    .option('--resume', 'require an earlier run in --out to resume (resuming is otherwise automatic)')
    .option('--fresh', 'discard the trials of an earlier run in --out and start again')
    .option('--no-progress', 'no progress on standard error')
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
  bot4 optimize --bars 1000000 --param fast=5..50:5 --param slow=20..200:10 --search tpe --trials 60
  bot4 optimize --data FILE ... --walk-forward 6 --is-ratio 0.75 --search tpe --trials 50 --out reports/wf
  bot4 optimize --data FILE ... --walk-forward 4 --anchored --is-length 7d --oos-length 2d

Interrupt with Ctrl-C: finished trials stay in <out>/trials.jsonl and the report is written; run the same
command again to resume. A different strategy, data, space, search, seed or objective in the same --out is
refused (use another --out or --fresh).

Exit codes: 0 done, 2 bad input, 130 interrupted (partial report written).`,
    )
    .action(async (opts: OptimizeCliOptions) => {
      const config = loadConfig();
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
      const workers =
        opts.workers === undefined
          ? Math.max(1, availableParallelism())
          : wholeNumber(opts.workers, '--workers', 1);
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

      const from = opts.from === undefined ? undefined : parseTime(opts.from, '--from');
      const to = opts.to === undefined ? undefined : parseTime(opts.to, '--to');
      const t0 = monoMillis();
      const data = await loadData(opts, config.data.catalogDir, {
        ...(from === undefined ? {} : { from }),
        ...(to === undefined ? {} : { to }),
      });
      const full = datasetRange(data);
      const range = { from: from ?? full.from, to: to ?? full.to };
      if (!(range.from < range.to)) bad(`--from must be before --to`);
      const strategy = opts.strategy.includes('.') ? resolve(opts.strategy) : opts.strategy;
      const setup: TrialSetup = {
        data,
        strategy,
        balances,
        riskConfig: config.risk,
        ...(latency === undefined ? {} : { latency }),
        ...(sample === undefined ? {} : { sampleIntervalMicros: sample }),
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
        sample: sample ?? null,
        risk: config.risk,
      };
      const store = new TrialStore(opts.out, spec, {
        fresh: opts.fresh === true,
        resume: opts.resume === true,
      });
      const loadMs = monoMillis() - t0;
      process.stderr.write(
        `${data.length.toLocaleString('en-US')} events loaded in ${(loadMs / 1000).toFixed(2)} s (shared by ${workers} worker${workers === 1 ? '' : 's'})` +
          `${store.resumed > 0 ? `; resuming ${store.resumed} finished trials from ${store.path}` : ''}\n`,
      );

      const interrupt = onInterrupt('interrupted: finishing the running trials, then writing the report');
      const progress = new ProgressLine(opts.progress);
      const onProgress = (p: OptimizeProgress): void =>
        progress.show(progressText(p, objective), p.done >= p.total);
      const { startExecutor } = await import('../backtest/optimize/executor.ts');
      const executor = await startExecutor(setup, workers);
      let result: Awaited<ReturnType<typeof optimize>>;
      try {
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
      } finally {
        interrupt.dispose();
        progress.end();
        store.close();
        await executor.close();
      }
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
