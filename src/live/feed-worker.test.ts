import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '../core/poll.test-util.ts';
import { type ExchangeServer, startExchangeServer } from '../venues/server/server.ts';
import { parseCpuList } from './affinity.ts';
import type EveryThirdQuote from './feed-worker.test-strategy.ts';
import { WorkerFedMarketData } from './feed-worker.ts';
import { NodeMode, TradingNode } from './node.ts';
import { NodeConfigSchema } from './node-config.ts';

const STRATEGY = fileURLToPath(new URL('./feed-worker.test-strategy.ts', import.meta.url));
const root = fileURLToPath(new URL('../..', import.meta.url));
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function liveNode(
  server: ExchangeServer,
  account: string,
  feed: 'engine' | 'worker',
): Promise<TradingNode> {
  const keyFile = join(mkdtempSync(join(tmpdir(), 'bot4-feed-')), 'keys.json');
  writeFileSync(keyFile, JSON.stringify({ apiKey: account, apiSecret: `${account}Secret` }));
  const config = NodeConfigSchema.parse({
    venue: { restUrl: server.url, keyFile },
    engine: { feed },
    instruments: ['BTCUSDT'],
    strategies: [{ name: STRATEGY, params: { instrument: 'BTCUSDT.BINANCE' } }],
    statusIntervalSec: 3600,
    unknownOrders: 'adopt',
  });
  const node = await TradingNode.start({ mode: NodeMode.LIVE, config, print: () => {}, env: {} });
  cleanups.push(() => node.stop());
  return node;
}

const strategyOf = (n: TradingNode) => n.kernel.hosts[0]!.strategy as EveryThirdQuote;

describe('feed worker', () => {
  it('a live session with the feed on a worker sends the same orders as one with the feed on the engine thread', async () => {
    const server = await startExchangeServer({
      accounts: [
        { apiKey: 'onEngine', apiSecret: 'onEngineSecret' },
        { apiKey: 'onWorker', apiSecret: 'onWorkerSecret' },
      ],
      speed: 10,
      log: () => {},
      limits: { weightPerMinute: 1e9, ordersPer10s: 1e9, ordersPerDay: 1e9 },
    });
    cleanups.push(() => server.close());
    const a = await liveNode(server, 'onEngine', 'engine');
    const b = await liveNode(server, 'onWorker', 'worker');
    expect(b.md).toBeInstanceOf(WorkerFedMarketData);
    const sa = strategyOf(a);
    const sb = strategyOf(b);
    const common = (): number[] => [...sb.orders.keys()].filter((u) => sa.quotes.has(u));
    await waitFor(() => common().length >= 10, 'ten orders decided by both nodes', 30_000);
    // The worker's connection drops: it reconnects, resyncs the book and trades on.
    const md = b.md as WorkerFedMarketData;
    md.drop('test drop');
    await waitFor(() => md.supervisor.reconnects === 1, 'the feed worker to reconnect', 10_000);
    const after = sb.orders.size;
    await waitFor(
      () => md.inSync(b.kernel.traded[0]!.id) && sb.orders.size >= after + 5,
      'the worker-fed node in sync and trading again',
      15_000,
    );
    await waitFor(
      () => a.orders!.ackNanos.totalCount >= 10 && b.orders!.ackNanos.totalCount >= 10,
      'acks',
      10_000,
    );
    await b.stop();
    await a.stop();
    // Every quote both saw is the same quote, and the same quotes sent the same orders.
    const seenByBoth = [...sb.quotes.keys()].filter((u) => sa.quotes.has(u));
    expect(seenByBoth.length).toBeGreaterThan(20);
    for (const u of seenByBoth) {
      expect(sb.quotes.get(u), `quote ${u}`).toBe(sa.quotes.get(u));
      expect(sb.orders.get(u), `order of quote ${u}`).toBe(sa.orders.get(u));
    }
    for (const n of [a, b]) {
      expect(n.counters.rejected + n.counters.denied).toBe(0);
      expect(n.md.stats.malformed + n.md.stats.badValue + n.md.stats.crossed + n.md.stats.feedDropped).toBe(
        0,
      );
      expect(n.t2tStages.stage.read_to_parsed.totalCount).toBeGreaterThan(0);
    }
    expect(b.md.stats.resyncs).toBeGreaterThanOrEqual(1);
  }, 90_000);

  it('bot4 paper --cpus pins the process, the engine thread and the feed worker, and says so', async () => {
    expect(parseCpuList('0,1')).toEqual([0, 1]);
    expect(parseCpuList('2-3,2')).toEqual([2, 3]);
    expect(() => parseCpuList('1,x')).toThrow(/--cpus '1,x'/);
    const dir = mkdtempSync(join(tmpdir(), 'bot4-cpus-'));
    const cfg = join(dir, 'paper.json');
    writeFileSync(
      cfg,
      JSON.stringify({
        engine: { feed: 'worker' },
        instruments: ['BTCUSDT'],
        strategies: [{ name: 'ema-cross', params: { instrument: 'BTCUSDT.BINANCE', source: 'quote' } }],
        durationSec: 2,
        statusIntervalSec: 1,
      }),
    );
    const run = async (cpus: string): Promise<{ code: unknown; out: string }> => {
      const child = spawn(
        process.execPath,
        ['--import', 'tsx', 'src/cli/main.ts', 'paper', '--config', cfg, '--cpus', cpus],
        { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let out = '';
      child.stdout.on('data', (d) => {
        out += String(d);
      });
      child.stderr.on('data', (d) => {
        out += String(d);
      });
      const code = await Promise.race([
        new Promise((resolve) => child.on('exit', (c) => resolve(c))),
        new Promise((r) => setTimeout(() => r('timeout after 40 s'), 40_000)),
      ]);
      if (code === 'timeout after 40 s') child.kill('SIGKILL');
      return { code, out };
    };
    const ok = await run('0');
    expect(ok.code, ok.out).toBe(0);
    if (process.platform === 'linux') {
      expect(ok.out).toContain('cpu pinning: process (all threads, V8 and libuv helpers included) to CPUs 0');
      expect(ok.out).toContain('cpu pinning: engine thread to CPU 0');
      expect(ok.out).toContain('feed worker: pinned to CPU 0');
    }
    expect(ok.out).toMatch(/summary: \[paper/);
    // A CPU the machine lacks: reported, not fatal.
    const bad = await run('4000');
    expect(bad.code, bad.out).toBe(0);
    if (process.platform === 'linux')
      expect(bad.out).toContain('cpu pinning: could not pin the process to CPUs 4000');
  }, 100_000);
});
