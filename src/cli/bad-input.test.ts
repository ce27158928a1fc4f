// Bad and unusual input to the commands, in process: each case exits with the documented code and one line
// that names the bad value, and leaves nothing behind that blocks the corrected command.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { parseBalance } from './backtest-command.ts';
import { runCaptured } from './in-process.test-util.ts';

async function bot4(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const r = await runCaptured(args);
  return { code: r.code, stdout: r.out, stderr: r.err };
}

afterEach(() => vi.restoreAllMocks());

const tmp = () => mkdtempSync(join(tmpdir(), 'bot4-bad-'));
const OPT = ['optimize', '--bars', '1000', '--param', 'fast=5..10:5', '--param', 'slow=20', '--no-progress'];

describe('balances', () => {
  it('reads exponents and refuses a zero balance', () => {
    expect(parseBalance('1e5USDT')).toEqual({ amount: '100000', currency: 'USDT' });
    expect(parseBalance('2.5e-3 btc')).toEqual({ amount: '0.0025', currency: 'BTC' });
    expect(parseBalance('100EUR')).toEqual({ amount: '100', currency: 'EUR' });
    expect(() => parseBalance('0USDT')).toThrow(/--balance '0USDT': the amount must be above zero/);
  });

  it('a balance or a quantity too large for the engine exits 2 in plain words', async () => {
    const big = await bot4(['backtest', '--demo', '--hours', '1', '--balance', '1e30USDT', '--out', tmp()]);
    expect(big.code).toBe(2);
    expect(big.stderr).toMatch(
      /balance USDT 1000000000000000000000000000000 is too large: with USDT unit 0.00000001 the largest is 90071992.54740991\n$/,
    );
    expect(big.stderr).not.toMatch(/2\^53|\n {4}at /);
    const qty = await bot4(['backtest', '--demo', '--hours', '1', '--param', 'qty=1e20', '--out', tmp()]);
    expect(qty.code).toBe(2);
    expect(qty.stderr).toMatch(
      /qty (1e\+?20|100000000000000000000) is too large \(BTCUSDT\): with lot size 0\.001 the largest is 9007199254740\.991\n$/,
    );
  }, 60_000);
});

describe('optimize', () => {
  it('--resume --fresh is refused before the earlier trials are touched', async () => {
    const out = tmp();
    expect((await bot4([...OPT, '--workers', '1', '--out', out])).code).toBe(0);
    const before = readFileSync(join(out, 'trials.jsonl'), 'utf8');
    const r = await bot4([...OPT, '--workers', '1', '--out', out, '--resume', '--fresh']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--resume and --fresh contradict each other/);
    expect(readFileSync(join(out, 'trials.jsonl'), 'utf8')).toBe(before);
  }, 60_000);

  it('an empty grid exits 2 saying which constraint refused the points, and keeps no trials file', async () => {
    const out = tmp();
    const r = await bot4([
      ...OPT,
      '--workers',
      '1',
      '--where',
      'fast > slow',
      '--search',
      'grid',
      '--out',
      out,
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /nothing to optimise: all 2 parameter sets proposed were refused; the first breaks --where fast > slow/,
    );
    expect(existsSync(join(out, 'trials.jsonl'))).toBe(false);
    // The corrected command is not blocked by a file of a "different optimisation".
    expect((await bot4([...OPT, '--workers', '1', '--where', 'fast < slow', '--out', out])).code).toBe(0);
  }, 60_000);

  it('a strategy that fails in every trial exits 1 with the first error, and keeps no trials file', async () => {
    const out = tmp();
    const r = await bot4([...OPT, '--workers', '1', '--param', 'instrument=NOPE', '--out', out]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /every trial failed \(2 of 2\); the first error: strategy EmaCross: instrument 'NOPE' is not registered/,
    );
    expect(existsSync(join(out, 'trials.jsonl'))).toBe(false);
    expect((await bot4([...OPT, '--workers', '1', '--out', out])).code).toBe(0);
  }, 60_000);

  it('--workers beyond what can run at once is capped, and says so', async () => {
    const r = await bot4([...OPT, '--workers', '1000', '--batch', '1', '--out', tmp()]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(
      /--workers 1000: using 1 \(\d+ cores?, --batch 1, 2 trials per fold; more would wait\)/,
    );
    expect(r.stdout).toMatch(/on 1 worker\(s\)/);
  }, 60_000);
});

describe('times', () => {
  it('an impossible date exits 2 naming it, before any data is read', async () => {
    const r = await bot4(['backtest', '--demo', '--from', '2024-02-30', '--out', tmp()]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--from "2024-02-30" is not a date \(2024-02 has 29 days\)/);
  });

  it('an empty range is named in ISO time', async () => {
    const r = await bot4([
      'backtest',
      '--demo',
      '--from',
      '2024-01-02',
      '--to',
      '1704067200000',
      '--out',
      tmp(),
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /--from 2024-01-02T00:00:00.000000Z is not before --to 2024-01-01T00:00:00.000000Z/,
    );
  });
});

describe('outputs and inputs are checked before the run', () => {
  it('--out naming a file, a folder under a file, or --data naming a folder: exit 2, one line', async () => {
    const dir = tmp();
    const file = join(dir, 'taken');
    writeFileSync(file, 'x');
    const cases: [string[], RegExp][] = [
      [
        ['backtest', '--demo', '--out', file],
        /^bot4: error \[INVALID_ARGUMENT\]: --out .*taken: is a file, not a folder\n$/,
      ],
      [
        ['backtest', '--demo', '--out', join(file, 'sub')],
        /--out .*sub: cannot be created: .*taken is a file\n$/,
      ],
      [[...OPT, '--out', file], /--out .*taken: is a file, not a folder\n$/],
      [['backtest', '--data', dir, '--out', join(dir, 'r')], /--data .*: is a folder: give the files in it/],
      [
        ['ta', 'rsi', '--input', file, '--out', join(dir, 'missing', 'rsi.csv')],
        /--out .*rsi\.csv: the folder .*missing does not exist\n$/,
      ],
      [['ta', 'rsi', '--input', file, '--out', dir], /--out .*: is a folder, not a file\n$/],
      [
        ['bench', '--filter', 'core.bus', '--json', join(dir, 'missing', 'b.json')],
        /--json .*b\.json: the folder .*missing does not exist\n$/,
      ],
    ];
    for (const [args, re] of cases) {
      const r = await bot4(args);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toMatch(re);
    }
  }, 60_000);

  it('`bot4 ... | head -1` stops quietly when the reader leaves (no EPIPE crash)', async () => {
    const dir = tmp();
    const csv = join(dir, 'candles.csv');
    const rows = ['timestamp,open,high,low,close,volume'];
    for (let i = 0; i < 60_000; i++) {
      const t = new Date(Date.UTC(2024, 0, 1) + i * 60_000).toISOString();
      rows.push(`${t},100,101,99,${100 + (i % 7)},1`);
    }
    writeFileSync(csv, `${rows.join('\n')}\n`);
    const root = fileURLToPath(new URL('../..', import.meta.url));
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'src/cli/main.ts', 'ta', 'rsi', '--input', csv],
      {
        cwd: root,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stderr = '';
    child.stderr.on('data', (d) => {
      stderr += String(d);
    });
    // Like head -1: read the first chunk, then close the pipe.
    child.stdout.once('data', () => child.stdout.destroy());
    const code = await new Promise<number | null>((done, fail) => {
      const timer = setTimeout(
        () => fail(new Error(`bot4 ta did not exit within 30 s; stderr: ${stderr}`)),
        30_000,
      );
      child.on('exit', (c) => {
        clearTimeout(timer);
        done(c);
      });
    });
    expect(stderr).not.toMatch(/EPIPE|unexpected failure/);
    expect(code).toBe(0);
  }, 40_000);
});

describe('promises the code does not keep yet are not made', () => {
  it('`risk kill` is not advertised and exits 2 saying no node can be reached', async () => {
    const help = await bot4(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/backtest/);
    expect(help.stdout).not.toMatch(/^\s+risk\b/m);
    const kill = await bot4(['risk', 'kill']);
    expect(kill.code).toBe(2);
    expect(kill.stderr).toMatch(
      /no running Bot4 node to reach: paper and live nodes have no control API yet/,
    );
  });
});
