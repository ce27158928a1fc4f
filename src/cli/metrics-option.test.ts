// --metrics-port on the long-running commands: bad values exit 2 naming the option; an optimisation serves
// metrics while its worker pool runs (the pool threads appear by name, bot4-optimize-N) and, with --metrics-hold,
// its final trial count after the run.

import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { waitUntil } from '../monitoring/prometheus-kit.ts';
import { run } from './main.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

describe('--metrics-port', () => {
  it('a bad port, host or hold exits 2 naming the option', async () => {
    const errs: string[] = [];
    const write = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((s: string) => errs.push(String(s)) > 0) as typeof process.stderr.write;
    try {
      expect(await run(['backtest', '--demo', '--metrics-port', 'x1'])).toBe(2);
      expect(await run(['backtest', '--demo', '--metrics-hold', '5'])).toBe(2);
      expect(await run(['backtest', '--demo', '--metrics-port', '0', '--metrics-hold', '-1'])).toBe(2);
    } finally {
      process.stderr.write = write;
    }
    expect(errs.join('')).toMatch(/--metrics-port 'x1' must be a port number from 0 to 65535/);
    expect(errs.join('')).toMatch(/--metrics-host and --metrics-hold need --metrics-port/);
    expect(errs.join('')).toMatch(/--metrics-hold '-1' must be seconds >= 0/);
  });

  let child: ChildProcess | undefined;
  afterAll(() => {
    child?.kill('SIGKILL');
  });

  it('an optimisation serves pool-thread CPU while it runs and its final trial count after', async () => {
    const out = mkdtempSync(join(tmpdir(), 'bot4-opt-metrics-'));
    child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        'src/cli/main.ts',
        'optimize',
        '--bars',
        '300000',
        '--param',
        'fast=5..50:5',
        '--param',
        'slow=20..200:20',
        '--where',
        'fast < slow',
        '--search',
        'random',
        '--trials',
        '24',
        '--workers',
        '2',
        '--metrics-port',
        '0',
        '--metrics-hold',
        '60',
        '--no-progress',
        '--out',
        out,
      ],
      { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let log = '';
    child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      log += d;
    });
    await waitUntil(
      () => /serving (http:\S+\/metrics)/.test(log),
      60_000,
      `the metrics endpoint (log: ${log})`,
    );
    const url = /serving (http:\S+\/metrics)/.exec(log)![1]!;
    const scrape = async () => (await fetch(url, { signal: AbortSignal.timeout(10_000) })).text();
    let sawPool = false;
    await waitUntil(
      async () => {
        const text = await scrape();
        // The optimiser names its pool bot4-optimize (WorkerPool option name; bot4-pool by default).
        sawPool ||= /bot4_thread_cpu_seconds_total\{thread="bot4-(pool|optimize)-0"/.test(text);
        return sawPool || log.includes('run finished');
      },
      180_000,
      'a pool thread in bot4_thread_cpu_seconds_total',
    );
    expect(sawPool, 'pool threads are named in /proc and exported so').toBe(true);
    await waitUntil(() => log.includes('run finished'), 240_000, `the optimisation to finish (log: ${log})`);
    const text = await scrape();
    const done = Number(/bot4_optimize_trials\{status="done"\} (\d+)\n/.exec(text)?.[1]);
    const total = Number(/bot4_optimize_trials\{status="total"\} (\d+)\n/.exec(text)?.[1]);
    expect(done).toBeGreaterThanOrEqual(24);
    expect(done).toBe(total);
    expect(text).toMatch(/bot4_node_info\{role="optimize"/);
  }, 300_000);
});
