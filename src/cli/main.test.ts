import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const version = (JSON.parse(readFileSync(`${root}/package.json`, 'utf8')) as { version: string }).version;

/** Runs the real CLI in a child process, as a user would. */
function bot4(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, ...env },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('bot4 CLI', () => {
  it('prints its version and help', () => {
    expect(bot4(['--version'])).toMatchObject({ code: 0, stdout: `${version}\n` });
    const help = bot4(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('bench');
    expect(help.stdout).toContain('config');
    const benchHelp = bot4(['bench', '--help']);
    expect(benchHelp.stdout).toContain('--quick');
    expect(benchHelp.stdout).toContain('--json <file>');
  });

  it('exits 2 with a helpful message on an unknown command or option', () => {
    const r = bot4(['frobnicate']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("unknown command 'frobnicate'");
    expect(bot4(['bench', '--nope']).code).toBe(2);
  });

  it('exits 2 naming the bad config key', () => {
    const r = bot4(['config', 'check'], { BOT4_MEMORY__GROWTH: 'maybe' });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      "[CONFIG_INVALID]: invalid config key 'memory.growth' (from env BOT4_MEMORY__GROWTH)",
    );
    const ok = bot4(['config', 'show'], { BOT4_MEMORY__POOLS__ORDERS: '77' });
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout).memory.pools.orders).toBe(77);
  });

  it('exits 2 when a benchmark filter matches nothing', () => {
    const r = bot4(['bench', '--filter', 'no.such.benchmark']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("no benchmark id matches --filter 'no.such.benchmark'");
  });
});
