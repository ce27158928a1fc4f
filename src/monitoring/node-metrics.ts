// One call gives a node its metrics: process, perf, trading, venue and latency metrics in shared memory
// (SharedMetrics: the engine thread stores, the metrics worker reads and formats), served on /metrics with
// RSS and /proc series, plus a prom-client registry for an owner's own metrics (optimiser progress, the local
// exchange server's requests). Backtests, optimisations, the paper/live node and the local exchange server
// mount it the same way: `const m = await NodeMetrics.start({ port, role })`, feed m.trading / m.venues /
// m.stages from their own code, `await m.close()` at shutdown. Nothing registered here runs per event.

import { Registry } from 'prom-client';
import type { BacktestProbe } from '../backtest/runner.ts';
import type { StageLatencies } from './hdr-metric.ts';
import { PerfCounters } from './perf-counters.ts';
import { ProcessMetrics } from './process-metrics.ts';
import { type MetricsServer, startMetricsServer } from './server.ts';
import { SharedMetrics, sharedArray } from './shared-metrics.ts';
import { TradingMetrics } from './trading-metrics.ts';
import { VenueMetrics } from './venue-metrics.ts';

export interface NodeMetricsOptions {
  /** /metrics port (0: a free one). */
  port: number;
  /** Bind address; default 127.0.0.1. */
  host?: string;
  /** What this process is (backtest, optimize, paper, live, exchange-server): the bot4_node_info label. */
  role: string;
  /** Attach `perf stat` for hardware and software counters (default true on Linux). */
  perf?: boolean;
  /** perf stat interval, ms (default 1000). */
  perfIntervalMs?: number;
  /** Serve and format /metrics on this thread instead of a worker (default false; see server.ts). */
  inThread?: boolean;
  /** Startup lines (where the endpoint is, whether hardware counters are available and why not). */
  log?: (line: string) => void;
}

export class NodeMetrics {
  /** prom-client metrics an owner adds (their collectors run on the engine thread per scrape). */
  readonly registry: Registry;
  readonly shared: SharedMetrics;
  readonly stages: StageLatencies;
  readonly trading: TradingMetrics;
  readonly venues: VenueMetrics;
  readonly process: ProcessMetrics;
  readonly perf: PerfCounters | undefined;
  readonly server: MetricsServer;

  private constructor(
    registry: Registry,
    shared: SharedMetrics,
    proc: ProcessMetrics,
    perf: PerfCounters | undefined,
    server: MetricsServer,
  ) {
    this.registry = registry;
    this.shared = shared;
    this.stages = shared.stages;
    this.process = proc;
    this.perf = perf;
    this.server = server;
    this.trading = new TradingMetrics(shared);
    this.venues = new VenueMetrics(shared);
  }

  static async start(options: NodeMetricsOptions): Promise<NodeMetrics> {
    const log = options.log ?? (() => {});
    const registry = new Registry();
    const shared = new SharedMetrics();
    const scrapeCost = shared.stages.stage('metrics.scrape');
    shared
      .gauge('bot4_node_info', 'Always 1; labels say what this process is (role) and its versions.', [
        'role',
        'version',
        'node',
      ])
      .add(
        { role: options.role, version: process.env.npm_package_version ?? 'unknown', node: process.version },
        sharedArray(1).fill(1),
        0,
      );
    const inThread = options.inThread ?? false;
    const proc = new ProcessMetrics(shared);
    const usePerf = options.perf ?? process.platform === 'linux';
    const perf = usePerf
      ? new PerfCounters({
          shared,
          intervalMs: options.perfIntervalMs ?? 1000,
          onStatus: (ok, reason) =>
            log(
              ok
                ? `metrics: ${reason}`
                : `metrics: hardware counters unavailable (bot4_hw_counters_available 0): ${reason}`,
            ),
        })
      : undefined;
    let server: MetricsServer;
    try {
      server = await startMetricsServer({
        registry,
        shared,
        port: options.port,
        ...(options.host === undefined ? {} : { host: options.host }),
        scrapeCost,
        inThread,
        procFs: true,
      });
    } catch (e) {
      proc.close();
      perf?.close();
      throw e;
    }
    log(`metrics: serving ${server.url}`);
    return new NodeMetrics(registry, shared, proc, perf, server);
  }

  /** The backtest runner's probe: engine parts to the trading metrics, batch timings to latency stages. */
  backtestProbe(): BacktestProbe {
    const fetch = this.stages.stage('backtest.fetch');
    const replay = this.stages.stage('backtest.replay');
    const housekeeping = this.stages.stage('backtest.housekeeping');
    const trading = this.trading;
    return {
      attach: (parts) => trading.attach(parts),
      rows(b, start, end, from, to) {
        trading.countRows(b, start, end, from, to);
      },
      batch(fetchNs, replayNs) {
        fetch.record(fetchNs);
        replay.record(replayNs);
      },
      housekeeping(ns) {
        housekeeping.record(ns);
      },
    };
  }

  async close(): Promise<void> {
    this.perf?.close();
    this.process.close();
    await this.server.close();
  }
}
