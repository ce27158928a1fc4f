import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runBot4 } from './cli.test-util.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));

function bot4(args: string[]) {
  return runBot4(args);
}

describe('bot4 backtest', () => {
  it('runs the demo, writes a self-contained report, and is deterministic', () => {
    const out = mkdtempSync(join(tmpdir(), 'bot4-bt-'));
    const a = bot4([
      'backtest',
      '--demo',
      '--hours',
      '2',
      '--out',
      join(out, 'a'),
      '--param',
      'fast=5',
      '--param',
      'slow=15',
    ]);
    expect(a.code, a.stderr).toBe(0);
    expect(a.stdout).toContain('Backtest summary (USDT)');
    const fp = /fingerprint ([0-9a-f]{16})/.exec(a.stdout)?.[1];
    expect(fp).toBeDefined();
    const html = readFileSync(join(out, 'a', 'report.html'), 'utf8');
    expect(html).not.toMatch(/<script[^>]+src=["']https?:/);
    const json = JSON.parse(readFileSync(join(out, 'a', 'report.json'), 'utf8')) as { fingerprint: string };
    expect(json.fingerprint).toBe(fp);
    const b = bot4([
      'backtest',
      '--demo',
      '--hours',
      '2',
      '--out',
      join(out, 'b'),
      '--param',
      'fast=5',
      '--param',
      'slow=15',
    ]);
    expect(/fingerprint ([0-9a-f]{16})/.exec(b.stdout)?.[1]).toBe(fp);
  });

  it('exits 2 naming the problem for an unknown strategy or parameter', () => {
    const s = bot4(['backtest', '--demo', '--strategy', 'no-such-strategy']);
    expect(s.code).toBe(2);
    expect(s.stderr).toContain("unknown strategy 'no-such-strategy'");
    const p = bot4(['backtest', '--demo', '--param', 'fastt=5']);
    expect(p.code).toBe(2);
    expect(p.stderr).toContain('fastt');
    expect(existsSync(join(root, 'reports', 'never'))).toBe(false);
  });

  it('takes catalog queries in --data: exits 2 naming the catalog when there is none', () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'bot4-bt-')), 'no-catalog');
    const r = bot4(['backtest', '--data', 'catalog:BTCUSDT/trades', '--catalog', dir]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`no catalog in ${dir}`);
    const k = bot4(['backtest', '--data', 'catalog:BTCUSDT/candles', '--catalog', dir]);
    expect(k.code).toBe(2);
    expect(k.stderr).toContain("'candles' is not a record kind");
  });

  it('lists a strategy parameters', () => {
    const r = bot4(['backtest', '--strategy', 'ema-cross', '--list-params']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('fast');
    expect(r.stdout).toContain('slow');
  });
});

describe('bot4 backtest interrupted', () => {
  it('Ctrl-C stops the run cleanly: partial report written, exit code 130', async () => {
    const out = mkdtempSync(join(tmpdir(), 'bot4-bt-int-'));
    // Ten thousand demo hours would take minutes: the run is stopped once its first progress line shows.
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'src/cli/main.ts', 'backtest', '--demo', '--hours', '10000', '--out', out],
      { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    const code = await new Promise<number | null>((resolve) => {
      child.stderr.on('data', (d: Buffer) => {
        const first = stderr === '';
        stderr += d.toString();
        if (first && /M events/.test(stderr)) child.kill('SIGINT');
      });
      child.on('close', (c) => resolve(c));
    });
    expect(code, stderr).toBe(130);
    expect(stderr).toContain('interrupted: stopping at the next batch');
    expect(stdout).toContain('(PARTIAL: interrupted)');
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as {
      meta: { partial: boolean };
    };
    expect(report.meta.partial).toBe(true);
  }, 120_000);
});
