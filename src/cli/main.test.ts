import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runBot4 } from './cli.test-util.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const version = (JSON.parse(readFileSync(`${root}/package.json`, 'utf8')) as { version: string }).version;

/** Runs the real CLI in a child process, as a user would. */
function bot4(args: string[], env: Record<string, string> = {}) {
  return runBot4(args, { env: { ...process.env, ...env } });
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

  it('bench --compare prints the ratio per id, oriented so that > 1 is better', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bot4-compare-'));
    try {
      const rec = (id: string, median: number, better: string, unit: string) => ({
        id,
        median,
        better,
        unit,
      });
      const old = join(dir, 'old.json');
      const cur = join(dir, 'new.json');
      writeFileSync(
        old,
        JSON.stringify({
          results: [rec('a.rate', 1_000_000, 'higher', 'events/s'), rec('b.lat', 80, 'lower', 'ns')],
        }),
      );
      writeFileSync(
        cur,
        JSON.stringify({
          results: [
            rec('a.rate', 2_500_000, 'higher', 'events/s'),
            rec('b.lat', 100, 'lower', 'ns'),
            rec('c.new', 5, 'lower', 's'),
          ],
        }),
      );
      const r = bot4(['bench', '--compare', old, cur]);
      expect(r.code).toBe(0);
      const line = (id: string) => r.stdout.split('\n').find((l) => l.startsWith(id)) ?? '';
      expect(line('a.rate')).toMatch(/1\.00M\s+2\.50M\s+events\/s\s+x2\.50 better/);
      expect(line('b.lat')).toMatch(/80\.0\s+100\s+ns\s+x0\.80 WORSE/);
      expect(line('c.new')).toMatch(/-\s+5\.00\s+s\s+-/);
      const bad = bot4(['bench', '--compare', old]);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toContain('--compare takes two result files (old new), got 1');
      expect(bot4(['bench', '--compare', old, join(dir, 'missing.json')]).code).toBe(2);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
