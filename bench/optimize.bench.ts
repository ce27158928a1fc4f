// Optimiser benchmarks on one data set of 1,000,000 seeded one-minute bars (generated once straight into
// shared memory): a single SMA-cross backtest through runBacktest (the figure Jesse publishes for the same
// amount of data), and optimisation trials per second on one worker against every core, each trial a full
// backtest of the whole data set replayed from the shared copy.

import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { DEMO_INSTRUMENT } from '../src/backtest/demo-market.ts';
import {
  datasetRegistry,
  datasetViews,
  type SharedDataset,
  syntheticBars,
} from '../src/backtest/optimize/dataset.ts';
import { InProcessExecutor, PoolExecutor, type TrialExecutor } from '../src/backtest/optimize/executor.ts';
import type { TrialInput, TrialSetup } from '../src/backtest/optimize/trial.ts';
import { runBacktest } from '../src/backtest/runner.ts';
import { siblingModule } from '../src/core/worker.ts';
import { type BenchSpec, median, startProbe } from './harness.ts';
import SmaCross from './sma-cross.strategy.ts';

const BARS = 1_000_000;
const BALANCES = [{ currency: 'USDT', amount: '1000000' }];
/** Jesse's published figure for an SMA cross over 1M one-minute candles (jesse.trade benchmarks), not run here. */
const JESSE_PUBLISHED_S = 2.05;

let data: SharedDataset | null = null;
function bars(): SharedDataset {
  data ??= syntheticBars(DEMO_INSTRUMENT, { bars: BARS, seed: 7 });
  return data;
}

const strategyFile = fileURLToPath(siblingModule(import.meta.url, 'sma-cross.strategy'));

function cpuSeconds(since: NodeJS.CpuUsage): number {
  const u = process.cpuUsage(since);
  return (u.user + u.system) / 1e6;
}

/** Trial inputs over the data set (up to `to`, µs; all of it by default): distinct SMA pairs, as a sweep would run them. */
function trialInputs(n: number, to = Number.POSITIVE_INFINITY): TrialInput[] {
  return Array.from({ length: n }, (_, i) => ({
    params: { fast: 5 + 5 * (i % 8), slow: 60 + 20 * Math.floor(i / 8), qty: 0.01 },
    from: Number.NEGATIVE_INFINITY,
    to,
    curve: false,
  }));
}

/** Runs the trials; returns backtests per second (wall) and per CPU second of the whole process. */
async function trialRate(
  executor: TrialExecutor,
  inputs: TrialInput[],
): Promise<{ rate: number; perCpu: number }> {
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  let done = 0;
  await executor.run(inputs, () => {
    done++;
  });
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  return { rate: done / wall, perCpu: done / cpuSeconds(c0) };
}

const rates = new Map<number, number>();

function trialBench(workers: 'one' | 'all'): BenchSpec {
  const threads = workers === 'one' ? 1 : availableParallelism();
  return {
    id: `optimize.trials.bars_1m.${workers === 'one' ? 'workers_1' : 'workers_all'}`,
    title: `optimiser trials on 1M one-minute bars (SMA cross, full backtest each), ${workers === 'one' ? '1 worker (this thread)' : `all ${threads} cores (worker pool, shared data)`}: backtests/s`,
    unit: 'backtests/s',
    better: 'higher',
    target: null,
    targetSource: 'issue: optimiser backtests per second on a 1M-bar data set, 1 worker vs all',
    async run(ctx) {
      const ds = bars();
      const setup: TrialSetup = { data: ds, strategy: strategyFile, balances: BALANCES };
      const executor =
        threads === 1 ? new InProcessExecutor(setup) : await PoolExecutor.start(setup, threads);
      const runs = ctx.quick ? 1 : 3;
      // Quick mode: one 1M-bar trial per thread (a single thread's rate needs no second trial to show).
      const perRun = ctx.quick ? threads : Math.max(2, threads) * 2;
      const samples: number[] = [];
      const perCpu: number[] = [];
      try {
        // Warm-up: every worker loads the strategy and compiles the engine before the clock starts (quick
        // mode: over the first eighth of the bars, 125k iterations of the same loop).
        const warmTo = ctx.quick ? ds.columns.tsEvent[BARS >> 3]! : Number.POSITIVE_INFINITY;
        await executor.run(trialInputs(Math.max(1, threads), warmTo), () => {});
        const probe = startProbe();
        for (let r = 0; r < runs; r++) {
          const x = await trialRate(executor, trialInputs(perRun));
          samples.push(x.rate);
          perCpu.push(x.perCpu);
        }
        const m = await probe.finish(median(samples), null, runs);
        rates.set(threads, m.median);
        const one = rates.get(1);
        return {
          main: m,
          extra: {
            workers: threads,
            bars_per_trial: BARS,
            trials_per_run: perRun,
            backtests_per_cpu_s: Number(median(perCpu).toFixed(3)),
            ...(threads > 1 && one !== undefined
              ? { speedup_vs_1_worker: Number((m.median / one).toFixed(2)) }
              : {}),
          },
        };
      } finally {
        await executor.close();
      }
    },
  };
}

export const benches: BenchSpec[] = [
  {
    id: 'backtest.bars_1m.sma_cross',
    title: '1,000,000 one-minute bars through runBacktest, SMA cross (10/30): wall time of the whole call',
    unit: 's',
    better: 'lower',
    target: 0.25,
    targetSource: `backtester issue: under 0.25 s; Jesse publishes ${JESSE_PUBLISHED_S} s for the same data (a published figure, not measured here: Jesse is Python)`,
    async run(ctx) {
      const ds = bars();
      const runs = ctx.quick ? 2 : 7;
      const once = async (sampleIntervalMicros?: number, venueIds = false) => {
        const c0 = process.cpuUsage();
        const t0 = process.hrtime.bigint();
        const res = await runBacktest({
          strategies: [{ strategy: new SmaCross({ fast: 10, slow: 30, qty: 0.01 }) }],
          instruments: datasetRegistry(ds),
          data: datasetViews(ds, Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY),
          dataLabel: 'synthetic 1M bars',
          balances: BALANCES,
          ...(sampleIntervalMicros === undefined ? {} : { sampleIntervalMicros }),
          ...(venueIds ? { venue: { tradeIds: true, venueOrderIds: true } } : {}),
        });
        if (res.events !== BARS) throw new Error(`expected ${BARS} bars, replayed ${res.events}`);
        return {
          wall: Number(process.hrtime.bigint() - t0) / 1e9,
          cpu: cpuSeconds(c0),
          trades: res.stats.trades,
        };
      };
      await once();
      const probe = startProbe();
      const walls: number[] = [];
      const cpus: number[] = [];
      let trades = 0;
      for (let r = 0; r < runs; r++) {
        const x = await once();
        walls.push(x.wall);
        cpus.push(x.cpu);
        trades = x.trades;
      }
      const m = await probe.finish(median(walls), null, runs);
      // What the venue's id strings (off in backtests by default) and one equity sample per bar cost: the same
      // run with ids on, and with hourly equity samples.
      // Not in quick mode: they were 4 of its 8 runs of this benchmark.
      const extraRuns = ctx.quick ? 0 : 3;
      const withIds: number[] = [];
      const hourly: number[] = [];
      for (let r = 0; r < extraRuns; r++) withIds.push((await once(undefined, true)).wall);
      for (let r = 0; r < extraRuns; r++) hourly.push((await once(3_600_000_000)).wall);
      return {
        main: m,
        extra: {
          cpu_s: Number(median(cpus).toFixed(3)),
          bars_per_s: Math.round(BARS / m.median),
          trades,
          ...(extraRuns > 0
            ? {
                with_venue_ids_s: Number(median(withIds).toFixed(3)),
                hourly_samples_s: Number(median(hourly).toFixed(3)),
              }
            : {}),
          jesse_published_s: JESSE_PUBLISHED_S,
          x_vs_jesse_published: Number((JESSE_PUBLISHED_S / m.median).toFixed(2)),
        },
      };
    },
  },
  trialBench('one'),
  trialBench('all'),
];
