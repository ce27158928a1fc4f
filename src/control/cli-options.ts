// The control options of `bot4 paper|live` (kept apart from start.ts so registering them loads no server).

import type { Command } from 'commander';

export interface ControlCliOptions {
  console?: boolean;
  rotateTokens?: boolean;
}

export function addControlOptions(cmd: Command): Command {
  return cmd
    .option('--console', 'serve the control API and web console (config "control"; prints the URL and token)')
    .option('--rotate-tokens', 'replace the control tokens before starting (the old ones stop working)');
}
