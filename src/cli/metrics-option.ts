// `--metrics-port` and `--metrics-hold` for long-running commands (backtest, optimize): serve /metrics while
// the command runs, and optionally keep serving a while after it, so a scraper sees the final figures.

import type { Command } from 'commander';
import { Bot4Error, ErrorCode } from '../core/errors.ts';
import type { NodeMetrics } from '../monitoring/node-metrics.ts';

export interface MetricsCliOptions {
  metricsPort?: string;
  metricsHost?: string;
  metricsHold?: string;
}

export function addMetricsOptions(cmd: Command): Command {
  return cmd
    .option(
      '--metrics-port <port>',
      'serve Prometheus metrics on http://127.0.0.1:PORT/metrics while running (0: any free port)',
    )
    .option('--metrics-host <addr>', 'interface for --metrics-port (default 127.0.0.1; 0.0.0.0 exposes it)')
    .option(
      '--metrics-hold <seconds>',
      'with --metrics-port: keep serving this long after the run ends',
      '0',
    );
}

/** Starts the endpoint when --metrics-port is given; undefined otherwise. Lines go to standard error. */
export async function startCliMetrics(
  opts: MetricsCliOptions,
  role: string,
): Promise<NodeMetrics | undefined> {
  const hold = Number(opts.metricsHold ?? '0');
  if (!(hold >= 0)) {
    throw new Bot4Error(
      ErrorCode.INVALID_ARGUMENT,
      `--metrics-hold '${opts.metricsHold}' must be seconds >= 0`,
      {
        option: '--metrics-hold',
      },
    );
  }
  if (opts.metricsPort === undefined) {
    if (opts.metricsHost !== undefined || hold > 0) {
      throw new Bot4Error(
        ErrorCode.INVALID_ARGUMENT,
        '--metrics-host and --metrics-hold need --metrics-port',
        {},
      );
    }
    return undefined;
  }
  // prom-client and the collectors load only when metrics are asked for (bot4 start-up stays fast).
  const [{ NodeMetrics }, { parseMetricsPort }] = await Promise.all([
    import('../monitoring/node-metrics.ts'),
    import('../monitoring/server.ts'),
  ]);
  return NodeMetrics.start({
    port: parseMetricsPort(opts.metricsPort),
    ...(opts.metricsHost === undefined ? {} : { host: opts.metricsHost }),
    role,
    log: (line) => process.stderr.write(`${line}\n`),
  });
}

/** Waits --metrics-hold seconds (Ctrl-C cuts it short), then closes the endpoint. */
export async function closeCliMetrics(
  metrics: NodeMetrics | undefined,
  opts: MetricsCliOptions,
): Promise<void> {
  if (metrics === undefined) return;
  const holdMs = Number(opts.metricsHold ?? '0') * 1000;
  if (holdMs > 0) {
    process.stderr.write(
      `metrics: run finished; serving ${metrics.server.url} for ${holdMs / 1000} s more\n`,
    );
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, holdMs);
      function done(): void {
        clearTimeout(timer);
        process.off('SIGINT', done);
        resolve();
      }
      process.once('SIGINT', done);
    });
  }
  await metrics.close();
}
