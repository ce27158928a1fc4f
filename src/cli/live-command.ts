// `bot4 paper` and `bot4 live`: a trading node from one config file (given with the global --config): venue,
// instruments, strategies, balances and risk limits. Paper fills orders in the simulated exchange on live market
// data; live sends them to the venue after reconciling. With no venue URL both start the local exchange server
// in-process. A status line every few seconds; Ctrl-C or SIGTERM stops cleanly with a summary (exit 0).

import type { Command } from 'commander';
import { addControlOptions, type ControlCliOptions } from '../control/cli-options.ts';
import { Bot4Error, ErrorCode } from '../core/errors.ts';
import type { NodeMode, TradingNode } from '../live/node.ts';
import { addHealthOptions, type HealthCliOptions, startCliHealth } from './health-option.ts';
import {
  addMetricsOptions,
  closeCliMetrics,
  type MetricsCliOptions,
  startCliMetrics,
} from './metrics-option.ts';

/** `bot4 paper|live` options: metrics, probes, the control API, CPU pinning and session recording. */
type NodeCliOptions = MetricsCliOptions &
  HealthCliOptions &
  ControlCliOptions & { cpus?: string; busyPoll?: boolean; catalog?: string; record: boolean };

async function runNode(
  mode: NodeMode,
  configFile: string | undefined,
  metricsOpts: NodeCliOptions,
): Promise<void> {
  if (configFile === undefined) {
    throw new Bot4Error(
      ErrorCode.INVALID_ARGUMENT,
      `bot4 ${mode} needs --config <file> (see examples/paper.json)`,
    );
  }
  // The node (engine, venues, the local server) loads when it runs, not at bot4 start-up (--help stays fast).
  const [{ TradingNode }, { loadNodeConfig }] = await Promise.all([
    import('../live/node.ts'),
    import('../live/node-config.ts'),
  ]);
  const config = loadNodeConfig(configFile);
  if (metricsOpts.cpus !== undefined) {
    const { parseCpuList } = await import('../live/affinity.ts');
    config.engine.cpus = parseCpuList(metricsOpts.cpus);
  }
  if (metricsOpts.busyPoll === true) config.engine.busyPoll = true;
  // The control API (--console): tokens checked before the node starts; its print feeds the console's log.
  const control =
    metricsOpts.console === true || metricsOpts.rotateTokens === true
      ? (await import('../control/start.ts')).prepareControl(metricsOpts, config.control)
      : undefined;
  // --config is the node's file here: the catalog default is the engine config's (defaults + BOT4_* variables).
  let catalogDir = metricsOpts.catalog;
  if (metricsOpts.record && catalogDir === undefined) {
    const env = { ...process.env };
    delete env.BOT4_CONFIG;
    catalogDir = (await import('../core/config.ts')).loadConfig({ env }).data.catalogDir;
  }
  const metrics = await startCliMetrics(metricsOpts, mode);
  // /readyz answers 503 "starting" until the node has reconciled and started.
  const health = await startCliHealth(metricsOpts, metrics);
  let node: TradingNode;
  try {
    node = await TradingNode.start({
      mode,
      config,
      ...(metrics === undefined ? {} : { metrics }),
      ...(control === undefined ? {} : { print: control.print }),
      ...(catalogDir === undefined || !metricsOpts.record ? {} : { record: { catalogDir } }),
    });
    await control?.start(node).catch(async (e: unknown) => {
      await node.stop();
      throw e;
    });
  } catch (e) {
    await health.close();
    await metrics?.close();
    throw e;
  }
  for (const s of health.servers) s.setReadiness(() => node.readiness());
  process.stdout.write(
    `${mode} trading ${config.instruments.join(', ')} with ${config.strategies.map((s) => s.name).join(', ')}; Ctrl-C stops\n`,
  );
  await new Promise<void>((resolve) => {
    const done = (): void => {
      process.removeListener('SIGINT', done);
      process.removeListener('SIGTERM', done);
      if (timer !== undefined) clearTimeout(timer);
      resolve();
    };
    const timer = config.durationSec > 0 ? setTimeout(done, config.durationSec * 1000) : undefined;
    process.on('SIGINT', done);
    process.on('SIGTERM', done);
  });
  process.stdout.write('stopping...\n');
  await control?.close();
  for (const line of await node.stop()) process.stdout.write(`${line}\n`);
  await health.close();
  await closeCliMetrics(metrics, metricsOpts);
}

const CPUS_FLAG = '--cpus <list>';
const CPUS_HELP =
  'pin to these CPUs (e.g. 0,1 or 2-3; Linux, taskset): the process to all, the engine thread to the first, ' +
  'the feed worker to the second; overrides engine.cpus';

const BUSY_POLL_FLAG = '--busy-poll';
const BUSY_POLL_HELP =
  'the engine thread never sleeps between market events (a warm CPU, lower tick-to-trade) at the cost of a ' +
  'whole core; overrides engine.busyPoll';

export function registerLiveCommands(program: Command): void {
  const help = (mode: string) => `
The config file (JSON) is given with the global option: bot4 ${mode} --config examples/paper.json
Keys: venue { kind (binance|ccxt), restUrl, wsUrl, wsApiUrl, keyFile, recvWindowMs, seed,
exchange, options, sandbox, urls, pollMs (kind ccxt: any exchange ccxt supports) },
engine { feed (engine|worker), cpus, busyPoll, keepWarmMs },
instruments, strategies [{ name, params }],
balances (paper), risk, paperLatencyMicros, statusIntervalSec, durationSec, unknownOrders (adopt|report|halt),
journal { path, fsync (always|group|os), groupMs } (a crash-safe journal; a restart rebuilds from it),
control { host, port, stateDir, bodyLimitBytes, requestsPerSec, writesPerSec } (--console).
Each session is recorded (market and order events, config) into <catalog>/sessions/<id>; its id is printed
at start and in the summary; bot4 backtest --replay-session <id> replays it.
shutdown { policy (cancel-all|leave|flatten), timeoutSec } (what stopping does with orders and positions),
notify { webhooks [{ url, secretEnv, events }], telegram { chatId, tokenEnv, baseUrl, events }, queueSize,
maxRetries, backoffMs, timeoutMs, dailyPnlUtc } (events: fill, breaker, kill-switch, disconnect, daily-pnl).
Without venue.restUrl the local exchange server starts in-process (demo market) and the node trades there.
Keys come from venue.keyFile or BINANCE_API_KEY + BINANCE_API_SECRET (or BINANCE_PRIVATE_KEY_FILE), never the config;
with venue.kind ccxt from venue.keyFile or BOT4_CCXT_API_KEY + BOT4_CCXT_SECRET (+ BOT4_CCXT_PASSWORD).

Probes: /healthz (alive) and /readyz (reconciled, market data connected, not halted) on --metrics-port
and on --health-port.

Exit codes: 0 stopped (Ctrl-C, SIGTERM or durationSec), 2 bad config or a reconciliation halt, 1 failure.`;
  const config = (): string | undefined => program.opts<{ config?: string }>().config;
  const recordOptions = (c: Command): Command =>
    c
      .option(
        '--catalog <dir>',
        'catalog the session is recorded into, under sessions/<id>/ (default: config data.catalogDir, .bot4/catalog)',
      )
      .option('--no-record', 'do not record the session');
  addMetricsOptions(
    recordOptions(
      addHealthOptions(program.command('paper'))
        .description('paper trading: live market data, fills by the simulated exchange, real latency')
        .option(CPUS_FLAG, CPUS_HELP)
        .option(BUSY_POLL_FLAG, BUSY_POLL_HELP)
        .addHelpText('after', help('paper')),
    ),
  ).action(async (opts: NodeCliOptions) => runNode('paper', config(), opts));
  addMetricsOptions(
    recordOptions(
      addHealthOptions(program.command('live'))
        .description(
          'live trading through the native Binance adapter or ccxt (reconciles with the venue first)',
        )
        .option(CPUS_FLAG, CPUS_HELP)
        .option(BUSY_POLL_FLAG, BUSY_POLL_HELP)
        .addHelpText('after', help('live')),
    ),
  ).action(async (opts: NodeCliOptions) => runNode('live', config(), opts));
  for (const c of program.commands) if (c.name() === 'paper' || c.name() === 'live') addControlOptions(c);
}
