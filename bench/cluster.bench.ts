// Scale-out on NATS JetStream (src/cluster/), against a real nats-server started here on loopback: optimiser
// trials per second through the work queue with 1, 2 and 3 local workers (each `runWorker` with one thread, as
// `bot4 worker --workers 1` runs), the coordination each trial costs on top of running it, and how long a
// node's exposure update takes to be visible in a peer's risk view through the KV bucket.
// nats-server (Debian's package) must be installed: the benchmarks fail naming it otherwise.

import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { datasetFingerprint } from '../src/backtest/optimize/dataset.ts';
import type { TrialExecutor } from '../src/backtest/optimize/executor.ts';
import { specHash } from '../src/backtest/optimize/store.ts';
import type { TrialInput } from '../src/backtest/optimize/trial.ts';
import { loadData } from '../src/cli/optimize-command.ts';
import { ClusterExecutor } from '../src/cluster/cluster-executor.ts';
import type { OptimizeJob } from '../src/cluster/job.ts';
import { openCluster, parseClusterUrls } from '../src/cluster/nats.ts';
import { NATS_SERVER, NatsCluster } from '../src/cluster/nats-testing.ts';
import { SharedRisk } from '../src/cluster/shared-risk.ts';
import { runWorker } from '../src/cluster/trial-worker.ts';
import { FeeConfigSchema } from '../src/model/fee-schedule.ts';
import { makeRiskKit } from '../src/risk/testing.ts';
import { type BenchSpec, median, startProbe } from './harness.ts';

function needServer(): void {
  if (!existsSync(NATS_SERVER))
    throw new Error(`nats-server is not installed (${NATS_SERVER}): apt-get install nats-server`);
}

/** A job over N synthetic one-minute bars (the data every worker loads by reference: `--bars N`). */
async function job(bars: number): Promise<OptimizeJob> {
  const source = { bars: String(bars) };
  const { data } = await loadData(source, '/nonexistent', {}, undefined);
  return {
    v: 1,
    // A fresh id per run: results of an earlier run must not be reused.
    id: specHash({ bars, at: process.hrtime.bigint().toString() }),
    source,
    catalogDir: '/nonexistent',
    fees: { config: FeeConfigSchema.parse({}) },
    fingerprint: datasetFingerprint(data),
    strategyIdentity: 'ema-cross',
    setup: { strategy: 'ema-cross', balances: [{ currency: 'USDT', amount: '100000' }] },
  };
}

/** Distinct EMA pairs over the whole range. */
function inputs(n: number, offset = 0): TrialInput[] {
  return Array.from({ length: n }, (_, k) => {
    const i = k + offset;
    return {
      params: { fast: 2 + (i % 20), slow: 30 + Math.floor(i / 20) },
      from: Number.NEGATIVE_INFINITY,
      to: Number.POSITIVE_INFINITY,
      curve: false,
    };
  });
}

/** Runs rounds of `batch` like the optimiser does; returns wall seconds. */
async function rounds(ex: TrialExecutor, all: TrialInput[], batch: number): Promise<number> {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < all.length; i += batch) {
    let got = 0;
    const round = all.slice(i, i + batch);
    await ex.run(round, () => {
      got++;
    });
    if (got !== round.length) throw new Error(`round of ${round.length} returned ${got} results`);
  }
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

/** How to run the bot4 CLI from here: the sources under tsx, or the build (dist/) as bin/bot4.js does. */
function bot4Cli(): string[] {
  const ts = import.meta.url.endsWith('.ts');
  const main = fileURLToPath(new URL(`../src/cli/main.${ts ? 'ts' : 'js'}`, import.meta.url));
  return ts ? ['--import', 'tsx', main] : [main];
}

const QUEUE = { replicas: 1, ackWaitMs: 30_000, resultsMaxAgeMs: 3_600_000 };

/** A server, `workers` in-process workers of one slot each, and a coordinator for a fresh job. */
async function rig(workers: number, bars: number) {
  needServer();
  const server = await NatsCluster.start(1);
  const urls = parseClusterUrls(server.urls);
  const j = await job(bars);
  const ex = await ClusterExecutor.start(j, { urls, ...QUEUE });
  const stop = new AbortController();
  const running = Array.from({ length: workers }, () =>
    runWorker({ urls, slots: 1, signal: stop.signal, log: () => {} }),
  );
  return {
    ex,
    j,
    async close() {
      stop.abort();
      await Promise.all(running);
      await ex.close();
      await server.close();
    },
  };
}

const perWorkers = new Map<number, number>();

function trialsBench(workers: number): BenchSpec {
  return {
    id: `cluster.optimize.trials.workers_${workers}`,
    title: `distributed optimiser trials through one nats-server, ${workers} local worker(s) of one thread (EMA cross on 100,000 bars, rounds of 6): trials/s`,
    unit: 'trials/s',
    better: 'higher',
    target: null,
    targetSource:
      'issue 19: trials/s with 1, 2, 3 local workers (a 2-core machine flattens the curve past 2)',
    async run(ctx) {
      const r = await rig(workers, 100_000);
      try {
        // Quick mode: one round of 6 trials per worker count (the rig's start-up and warm-up dominate it).
        const n = ctx.quick ? 6 : 24;
        const runs = ctx.quick ? 1 : 3;
        // Warm-up: every worker loads the job's data and starts its thread (quick mode: one trial each).
        const warmTrials = ctx.quick ? workers : 2 * workers;
        await rounds(r.ex, inputs(warmTrials, 1000), warmTrials);
        const probe = startProbe();
        const rates: number[] = [];
        for (let k = 0; k < runs; k++) rates.push(n / (await rounds(r.ex, inputs(n, k * n), 6)));
        const m = await probe.finish(median(rates), null, runs);
        perWorkers.set(workers, m.median);
        const one = perWorkers.get(1);
        return {
          main: m,
          extra: {
            trials_per_run: n,
            ...(workers > 1 && one !== undefined
              ? { speedup_vs_1: Number((m.median / one).toFixed(2)) }
              : {}),
          },
        };
      } finally {
        await r.close();
      }
    },
  };
}

export const benches: BenchSpec[] = [
  trialsBench(1),
  trialsBench(2),
  trialsBench(3),
  {
    id: 'cluster.optimize.coordination_per_trial',
    title:
      'coordinator CPU per trial through the JetStream queue (publish, collect the result, hand it to the optimiser), one `bot4 worker` process of 2 threads, rounds of 8: ms',
    unit: 'ms',
    better: 'lower',
    target: 1,
    targetSource:
      'issue 19: per-trial coordination overhead <= 1 ms (what bounds how many workers one coordinator feeds)',
    async run(ctx) {
      needServer();
      const server = await NatsCluster.start(1);
      const urls = parseClusterUrls(server.urls);
      const j = await job(200);
      const ex = await ClusterExecutor.start(j, { urls, ...QUEUE });
      // The worker is another process, so this process's CPU time is the coordinator's alone.
      const worker = spawn(
        process.execPath,
        [...bot4Cli(), 'worker', '--cluster', server.urls, '--workers', '2'],
        {
          stdio: 'ignore',
        },
      );
      try {
        // Trials on an empty window: each is a real trial (a failed one) that costs the worker a few ms.
        const empty = (n: number, offset: number): TrialInput[] =>
          inputs(n, offset).map((t) => ({ ...t, from: 0, to: 1 }));
        await rounds(ex, empty(16, 5000), 8); // waits for the worker to start and load the job
        const n = ctx.quick ? 160 : 480;
        const runs = ctx.quick ? 2 : 5;
        const probe = startProbe();
        const cpu: number[] = [];
        const wall: number[] = [];
        for (let k = 0; k < runs; k++) {
          const c0 = process.cpuUsage();
          const w = await rounds(ex, empty(n, 200 + k * n), 8);
          const c = process.cpuUsage(c0);
          cpu.push((c.user + c.system) / 1000 / n);
          wall.push((w * 1000) / n);
        }
        // One trial alone: publish, pull, run, store, ack, read back (what a round of 1 waits).
        const single: number[] = [];
        for (let k = 0; k < (ctx.quick ? 20 : 60); k++) single.push(await rounds(ex, empty(1, 9000 + k), 1));
        const m = await probe.finish(median(cpu), null, runs);
        return {
          main: m,
          extra: {
            wall_ms_per_trial: Number(median(wall).toFixed(3)),
            single_trial_round_trip_ms: Number((median(single) * 1000).toFixed(3)),
            trials_per_run: n,
          },
        };
      } finally {
        worker.kill('SIGKILL');
        await ex.close();
        await server.close();
      }
    },
  },
  {
    id: 'cluster.risk.exposure_visible_on_peer',
    title: "a node's exposure update (KV put) until a peer node's risk view holds it, one nats-server: ms",
    unit: 'ms',
    better: 'lower',
    target: null,
    targetSource: 'issue 19: KV exposure update to visible-on-peer latency',
    async run(ctx) {
      needServer();
      const server = await NatsCluster.start(1);
      const urls = parseClusterUrls(server.urls);
      const ca = await openCluster(urls, 'bench-a');
      const cb = await openCluster(urls, 'bench-b');
      const common = { maxAgeMs: 60_000, onStale: 'limit' as const, publishMs: 3_600_000, onKill: () => {} };
      const ka = makeRiskKit({});
      const kb = makeRiskKit({});
      const a = await SharedRisk.start({
        cluster: ca,
        node: 'bench-a',
        risk: ka.risk,
        instruments: ka.instruments,
        ...common,
      });
      const b = await SharedRisk.start({
        cluster: cb,
        node: 'bench-b',
        risk: kb.risk,
        instruments: kb.instruments,
        ...common,
      });
      try {
        const n = ctx.quick ? 100 : 400;
        const seen = (rev: number): boolean =>
          b.peerAges().some((p) => p.node === 'bench-a' && p.revision >= rev);
        const once = async (): Promise<number> => {
          const t0 = process.hrtime.bigint();
          const rev = await a.publish();
          // Poll on every turn of the event loop: the figure is the arrival, not a timer's period.
          while (!seen(rev)) await new Promise((res) => setImmediate(res));
          return Number(process.hrtime.bigint() - t0) / 1e6;
        };
        for (let k = 0; k < 20; k++) await once();
        const probe = startProbe();
        const lat: number[] = [];
        for (let k = 0; k < n; k++) lat.push(await once());
        lat.sort((x, y) => x - y);
        const m = await probe.finish(median(lat), lat[Math.floor(lat.length * 0.99)]!, n);
        return { main: m, extra: { updates: n, entry_bytes: JSON.stringify(a.snapshot()).length } };
      } finally {
        await a.close();
        await b.close();
        await ca.close();
        await cb.close();
        await server.close();
      }
    },
  },
];
