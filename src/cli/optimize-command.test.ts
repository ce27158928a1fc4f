import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { present } from '../core/test-resources.ts';
import { runBot4 } from './cli.test-util.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const FILE = resolve(root, '../shared/data/basana/bitstamp_btcusd_min_2020_01_01.csv');

function bot4(args: string[]) {
  return runBot4(['optimize', ...args]);
}

const BASE = ['--param', 'instrument=BTCUSD.BITSTAMP', '--param', 'qty=1', '--balance', '100000USD'];

describe('bot4 optimize', () => {
  it('errors name the bad flag and exit 2', () => {
    const cases: [string[], RegExp][] = [
      [['--bars', '1000', '--param', 'fast=5..50:5', '--search', 'annealing'], /--search 'annealing'/],
      [
        ['--bars', '1000', '--param', 'fast=5..50:5', '--objective', 'alpha'],
        /--objective 'alpha' is not known/,
      ],
      [['--bars', '1000', '--param', 'fats=5..50:5'], /--param fats: .*no parameter 'fats'/],
      [
        ['--bars', '1000', '--param', 'fast=5..50:5', '--workers', '0'],
        /--workers must be a whole number >= 1/,
      ],
      [['--bars', '1000', '--param', 'fast=5..50:5', '--is-ratio', '0.5'], /need --walk-forward/],
      [
        ['--bars', '1000', '--param', 'fast=5..50:5', '--walk-forward', '3', '--is-length', '7d'],
        /--is-length and --oos-length go together/,
      ],
      [['--param', 'fast=5..50:5'], /exactly one of --data FILES, --demo or --bars/],
      [['--bars', '1000'], /the parameter space has .* points; narrow it with --param/],
      [['--bars', '1000', '--param', 'fast=5'], /nothing to optimise/],
    ];
    for (const [args, re] of cases) {
      const r = bot4(args);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toMatch(re);
    }
  }, 120_000);

  it.skipIf(!present(FILE, 'Bitstamp one-minute bars'))(
    'walk-forward on real bars with 2 workers, then the same command resumes every trial',
    () => {
      const out = mkdtempSync(join(tmpdir(), 'bot4-optcli-'));
      const args = [
        '--data',
        FILE,
        ...BASE,
        '--param',
        'fast=2..10:2',
        '--param',
        'slow=6..30:6',
        '--where',
        'fast < slow',
        '--search',
        'grid',
        '--walk-forward',
        '2',
        '--workers',
        '2',
        '--objective',
        'return',
        '--out',
        out,
      ];
      const a = bot4(args);
      expect(a.code, a.stderr).toBe(0);
      expect(a.stdout).toMatch(/on 2 worker\(s\)/);
      expect(a.stdout).toMatch(/efficiency/);
      const b = bot4(args);
      expect(b.code, b.stderr).toBe(0);
      expect(b.stderr).toMatch(/resuming \d+ finished trials/);
      expect(b.stdout).toMatch(/\((\d+) resumed\)/);
      const ja = JSON.parse(readFileSync(join(out, 'optimize.json'), 'utf8')) as {
        meta: { ran: number; resumed: number };
        folds: unknown[];
      };
      expect(ja.meta.ran).toBe(0);
      expect(ja.folds).toHaveLength(2);
      const other = bot4([...args.slice(0, -2), '--seed', '9', '--search', 'tpe', '--out', out]);
      expect(other.code).toBe(2);
      expect(other.stderr).toMatch(/different optimisation.*--fresh/);
    },
    180_000,
  );
});
