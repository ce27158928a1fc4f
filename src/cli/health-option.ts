// `--health-port` for `bot4 paper|live`: the orchestrator probes /healthz (the process answers) and /readyz
// (reconciled, market data connected, not halted) on a port of their own, for a node run without
// `--metrics-port`; with metrics the same probes are also on the metrics port.

import type { Command } from 'commander';
import type { NodeMetrics } from '../monitoring/node-metrics.ts';
import type { MetricsServer } from '../monitoring/server.ts';

export interface HealthCliOptions {
  healthPort?: string;
  healthHost?: string;
}

export function addHealthOptions(cmd: Command): Command {
  return cmd
    .option('--health-port <port>', 'serve /healthz and /readyz on http://127.0.0.1:PORT (0: any free port)')
    .option('--health-host <addr>', 'interface for --health-port (default 127.0.0.1)');
}

/** The servers whose /readyz follows the node: the metrics endpoint and/or the --health-port one. */
export async function startCliHealth(
  opts: HealthCliOptions,
  metrics: NodeMetrics | undefined,
): Promise<{
  servers: MetricsServer[];
  close(): Promise<void>;
}> {
  const servers: MetricsServer[] = metrics === undefined ? [] : [metrics.server];
  let own: MetricsServer | undefined;
  if (opts.healthPort !== undefined) {
    const { parseMetricsPort, startMetricsServer } = await import('../monitoring/server.ts');
    own = await startMetricsServer({
      // Probes only: nothing to format, so no worker thread for it.
      inThread: true,
      port: parseMetricsPort(opts.healthPort, '--health-port'),
      ...(opts.healthHost === undefined ? {} : { host: opts.healthHost }),
    });
    process.stderr.write(`health: serving ${own.url.replace(/\/metrics$/, '/healthz')} and /readyz\n`);
    servers.push(own);
  }
  return { servers, close: async () => own?.close() };
}
