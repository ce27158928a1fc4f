// The real `bot4` CLI in a child process, as a user runs it, for the command tests: one place for how it is
// started (tsx on the sources, from the repository root) and for the timeout every child process needs, so a
// hung command fails its test with a message instead of hanging the run.

import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface Bot4Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface Bot4RunOptions {
  /** The child's environment (default this process's). */
  env?: NodeJS.ProcessEnv;
  /** Default 240 s (a loaded CI machine runs the heavier commands for minutes). */
  timeoutMs?: number;
}

export function runBot4(args: readonly string[], options: Bot4RunOptions = {}): Bot4Run {
  const timeout = options.timeoutMs ?? 240_000;
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    env: options.env ?? process.env,
    timeout,
  });
  if (r.error !== undefined) {
    throw new Error(`bot4 ${args.join(' ')} did not finish within ${timeout / 1000} s: ${r.error.message}`);
  }
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** This process's environment without BOT4_* variables (a developer's own settings must not steer a test). */
export function envWithoutBot4(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('BOT4_')));
}
