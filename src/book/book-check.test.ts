// compareBookWithTicker on a small hand-made capture, so its rules are tested without the shared data.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { Bot4Error } from '../core/errors.ts';
import { compareBookWithTicker } from './book-check.ts';

const dir = mkdtempSync(join(tmpdir(), 'bot4-book-check-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function capture(name: string, messages: unknown[]): string {
  const path = join(dir, name);
  const text = messages.map((m, i) => `${1_700_000_000_000_000_000 + i * 1_000_000} ${JSON.stringify(m)}`);
  writeFileSync(path, gzipSync(`${text.join('\n')}\n`));
  return path;
}

const depth = (U: number, u: number, pu: number, b: [string, string][], a: [string, string][]) => ({
  stream: 'x@depth@0ms',
  data: { e: 'depthUpdate', E: 1, T: 1, U, u, pu, b, a },
});
const ticker = (u: number, b: string, B: string, a: string, A: string) => ({
  stream: 'x@bookTicker',
  data: { u, b, B, a, A },
});
const int = (s: string) => {
  const n = Number(s);
  if (!Number.isInteger(n)) throw new Error(`'${s}' is not an integer`);
  return n;
};

describe('compareBookWithTicker', () => {
  it('compares tickers at their own update id: exactly at event ends, by consistency inside events', async () => {
    const file = capture('futures.gz', [
      depth(90, 95, 80, [['100', '1']], []), // before the snapshot, stale after it
      ticker(99, '100', '5', '102', '1'), // before the snapshot: not in sync, skipped
      { lastUpdateId: 100, bids: [['100', '5']], asks: [['102', '1']] },
      ticker(101, '100', '5', '103', '2'), // arrives before the event covering it: held until then
      depth(
        98,
        105,
        95,
        [],
        [
          ['102', '0'],
          ['103', '2'],
        ],
      ), // covers 101 (inside) and ends at 105
      ticker(105, '100', '5', '103', '2'), // arrives after its event: compared on arrival, exactly
      ticker(107, '100', '5', '103', '3'), // inside the next event, consistent
      ticker(110, '100', '4', '103', '3'), // exact, but the bid size is wrong
      depth(106, 110, 105, [['101', '0']], [['103', '3']]),
    ]);
    const r = await compareBookWithTicker({
      files: [file],
      market: 'futures',
      parsePrice: int,
      parseQty: int,
    });
    expect(r.snapshots).toBe(1);
    expect(r.sync).toMatchObject({ applied: 2, dropped: 1, gaps: 0, crossedAfterApply: 0 });
    expect(r.exact).toEqual({ compared: 2, pricesAgreed: 2, agreed: 1, uncertain: 0 });
    expect(r.inside.compared).toBe(2);
    expect(r.inside.consistent).toBe(2);
    expect(r.skipped.beforeSync).toBe(1);
    expect(r.examples).toHaveLength(1);
    expect(r.examples[0]).toMatch(/ticker u=110 bid 100x4/);
  });

  it('flags a ticker whose level the book lacks although the event did not touch it', async () => {
    const file = capture('spot.gz', [
      { lastUpdateId: 10, bids: [['100', '1']], asks: [['105', '1']] },
      ticker(11, '101', '1', '105', '1'), // bid 101 never appears in the diffs
      depth(11, 12, -1, [['99', '1']], []),
    ]);
    const r = await compareBookWithTicker({ files: [file], market: 'spot', parsePrice: int, parseQty: int });
    expect(r.inside).toMatchObject({ compared: 1, consistent: 0, transientTickerLevel: 1 });
  });

  it('from diffs, compares only where the top is proven', async () => {
    const file = capture('diffs.gz', [
      { lastUpdateId: 1, bids: [['1', '1']], asks: [['999', '1']] }, // ignored in diffs mode
      depth(10, 11, 9, [['100', '1']], [['103', '1']]),
      ticker(11, '100', '1', '103', '1'), // 101 and 102 unseen: not proven
      depth(
        12,
        13,
        11,
        [
          ['101', '0'],
          ['102', '0'],
        ],
        [
          ['101', '0'],
          ['102', '0'],
        ],
      ),
      ticker(13, '100', '1', '103', '1'),
    ]);
    const r = await compareBookWithTicker({
      files: [file],
      market: 'futures',
      start: 'diffs',
      parsePrice: int,
      parseQty: int,
    });
    expect(r.snapshots).toBe(1);
    expect(r.exact).toMatchObject({ compared: 1, agreed: 1, uncertain: 1 });
  });

  it('names the file and line of a line it cannot use', async () => {
    const file = capture('bad.gz', [depth(1, 2, 0, [['1.5', '1']], [])]);
    const run = compareBookWithTicker({ files: [file], market: 'futures', parsePrice: int, parseQty: int });
    await expect(run).rejects.toThrow(Bot4Error);
    await expect(run).rejects.toThrow(/bad\.gz:1: .*'1\.5' is not an integer/);
  });
});
