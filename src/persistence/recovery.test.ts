import { appendFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '../core/poll.test-util.ts';
import { NodeMode, TradingNode } from '../live/node.ts';
import { NodeConfigSchema } from '../live/node-config.ts';
import {
  checkInvariants,
  journalFills,
  kill9,
  nodeConfig,
  spawnNode,
  startVenue,
  venueTruth,
} from './recovery.test-util.ts';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('recovery from the journal', () => {
  it('a kill -9-ed live node restarts knowing every order and fill; balances equal the venue', async () => {
    const v = await startVenue();
    cleanups.push(() => v.srv.close());
    const { child, out } = spawnNode(v, 'first');
    cleanups.push(() => kill9(child));
    await waitFor(
      () => journalFills(v.journal) >= 3,
      `three fills in the journal (node output: ${out()})`,
      40_000,
    );
    await kill9(child);
    // A torn last write, as a crash mid-append leaves it.
    appendFileSync(v.journal, Buffer.from([200, 0, 0, 0, 1, 2, 3]));
    const lines: string[] = [];
    const node = await TradingNode.start({
      mode: NodeMode.LIVE,
      config: NodeConfigSchema.parse(nodeConfig(v, false)),
      print: (l) => lines.push(l),
      env: {},
    });
    cleanups.push(() => node.stop());
    const r = node.journal!.report;
    expect(r.repairedBytes).toBe(7);
    expect(r.fills).toBeGreaterThanOrEqual(3);
    expect(lines.join('\n')).toMatch(/torn tail repaired: cut 7 byte\(s\)/);
    expect(lines.join('\n')).toMatch(
      /positions and balances match the last checkpoint \(\d+ figure\(s\)\)|no checkpoint after the last fill/,
    );
    expect(lines.join('\n')).toMatch(/rebuilt balances equal the venue balances/);
    const counts = await checkInvariants(node, v, await venueTruth(v));
    expect(counts.lost).toBe(0);
    expect(counts.fills).toBeGreaterThanOrEqual(3);
  }, 90_000);

  it('a journal damaged in the middle stops the start, naming the offset', async () => {
    const v = await startVenue();
    cleanups.push(() => v.srv.close());
    const { child, out } = spawnNode(v, 'first');
    cleanups.push(() => kill9(child));
    await waitFor(
      () => journalFills(v.journal) >= 1,
      `a fill in the journal (node output: ${out()})`,
      40_000,
    );
    await kill9(child);
    const { readFileSync, writeFileSync } = await import('node:fs');
    const bytes = readFileSync(v.journal);
    bytes[20] = bytes[20]! ^ 0xff;
    writeFileSync(v.journal, bytes);
    await expect(
      TradingNode.start({
        mode: NodeMode.LIVE,
        config: NodeConfigSchema.parse(nodeConfig(v, false)),
        print: () => {},
        env: {},
      }),
    ).rejects.toThrow(/at byte offset 8; the journal is damaged in the middle/);
  }, 90_000);

  it('paper: positions and balances come back from the journal; no order is left open', async () => {
    const { mkdtempSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const path = join(mkdtempSync(join(tmpdir(), 'bot4-paper-journal-')), 'paper.journal');
    const config = (fast: number, slow: number) =>
      NodeConfigSchema.parse({
        instruments: ['BTCUSDT'],
        strategies: [
          {
            name: 'ema-cross',
            params: { instrument: 'BTCUSDT.BINANCE', source: 'quote', fast, slow, qty: 0.001 },
          },
        ],
        journal: { path, fsync: 'always' },
        statusIntervalSec: 60,
      });
    const first = await TradingNode.start({ mode: NodeMode.PAPER, config: config(2, 4), print: () => {} });
    cleanups.push(() => first.stop());
    await waitFor(() => first.counters.fills >= 2, 'two paper fills', 30_000);
    await first.stop();
    const k1 = first.kernel;
    const btc1 = k1.cache.instruments.all().find((i) => i.symbol === 'BTCUSDT')!;
    const usdt = k1.cache.instruments.all()[0]!.quote;
    const want = { net: k1.portfolio.netQty(btc1.id), usdt: k1.portfolio.balance(usdt.id) };
    // The fills moved the account (10000 USDT at the start): the test restores something.
    expect(want.usdt).not.toBe(10_000 * 10 ** usdt.precision);
    const lines: string[] = [];
    const second = await TradingNode.start({
      mode: NodeMode.PAPER,
      config: config(400, 1000),
      print: (l) => lines.push(l),
    });
    cleanups.push(() => second.stop());
    const k2 = second.kernel;
    const btc2 = k2.cache.instruments.all().find((i) => i.symbol === 'BTCUSDT')!;
    expect({ net: k2.portfolio.netQty(btc2.id), usdt: k2.portfolio.balance(usdt.id) }).toEqual(want);
    expect(second.journal!.report.fills).toBe(first.journal!.state.fills.length);
    expect(second.journal!.state.openOrders()).toEqual([]);
    expect(lines.join('\n')).toMatch(/replayed \d+ record\(s\): \d+ order\(s\), \d+ fill\(s\)/);
  }, 60_000);
});
