// `bot4 risk kill`: the kill switch of a running node (cancel every open order, optionally flatten positions,
// halt trading). A paper/live node (src/live) has no control API yet (planned), so there is no running node to
// reach from another process: until it has, the command says so and exits non-zero; in-process callers use
// KillSwitch.kill() directly.

import type { Command } from 'commander';
import { Bot4Error, ErrorCode } from '../core/errors.ts';
import type { RiskControl } from '../risk/kill-switch.ts';

export interface RiskCommandOptions {
  /** Reaches the running node's risk controls; undefined when no node is running. */
  connect?: () => RiskControl | undefined | Promise<RiskControl | undefined>;
  out?: (text: string) => void;
}

function noNode(): undefined {
  return undefined;
}

/** Adds `risk kill` to the program (main.ts calls this once). */
export function registerRiskCommands(program: Command, options: RiskCommandOptions = {}): Command {
  const connect = options.connect ?? noNode;
  const out = options.out ?? ((text: string) => process.stdout.write(`${text}\n`));
  // Not in `bot4 --help` until a node's control API exists to reach: flip `hidden` when it lands.
  const risk = program.command('risk', { hidden: true }).description("a running node's risk controls");
  risk
    .command('kill')
    .description(
      'kill switch: halt trading, cancel every open order and, with --flatten, close every position',
    )
    .option('--flatten', 'also close every position with reduce-only market orders')
    .option('-r, --reason <text>', 'why, for the report and the logs', 'operator kill switch (CLI)')
    .addHelpText(
      'after',
      '\nTargets a running Bot4 node. Nodes have no control API yet (planned): until they have, this command\n' +
        'reports that no node can be reached. In-process, call KillSwitch.kill() (src/risk/kill-switch.ts).\n',
    )
    .action(async (opts: { flatten?: boolean; reason: string }) => {
      const control = await connect();
      if (control === undefined) {
        throw new Bot4Error(
          ErrorCode.NOT_FOUND,
          'no running Bot4 node to reach: paper and live nodes have no control API yet (planned), so `bot4 risk kill` ' +
            'has nothing to act on; stop a node with Ctrl-C or SIGTERM. Inside a process, call KillSwitch.kill({ flatten }) from src/risk/kill-switch.ts.',
        );
      }
      const report = await control.kill({ flatten: opts.flatten === true, reason: opts.reason });
      const { formatKillReport } = await import('../risk/kill-switch.ts');
      out(formatKillReport(report));
    });
  return risk;
}
