// Tick-to-trade on a real wire: the local exchange server (src/venues/server) sends bookTicker frames over a
// loopback WebSocket; the live node reads each one, parses it, updates quote and risk state, runs the strategy,
// passes the order through the risk engine and writes it, signed, to the WebSocket API socket. In-process figure:
// frame received (ws 'message') -> order bytes handed to the socket, for the quotes that sent an order; the
// stages (src/live/tick-to-trade.ts) and socket read -> written are extras. Round trip: the same plus the
// venue's acknowledgement (order.place answer). Once with the feed on the engine thread, once on a feed worker.
// The machine is shared: quote medians.

import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { siblingModule } from '../src/core/worker.ts';
import { NodeMode, TradingNode } from '../src/live/node.ts';
import { NodeConfigSchema } from '../src/live/node-config.ts';
import { stepsToDecimal } from '../src/model/decimal.ts';
import { type BenchContext, type BenchOutcome, type BenchSpec, startProbe } from './harness.ts';

// Compiled (dist/) or sources: each keeps its own extension.
const STRATEGY = fileURLToPath(siblingModule(import.meta.url, 'tick-to-trade.strategy'));
const SERVER = siblingModule(import.meta.url, '../src/venues/server/server').href;
const CHILD_ARGS = import.meta.url.endsWith('.ts') ? ['--import', 'tsx'] : [];

/** The local exchange server in a child process (order limits raised: the bench sends an order per 2 quotes). */
async function spawnServer(): Promise<{ url: string; kill(): void }> {
  const code = `
    const { startExchangeServer } = await import(${JSON.stringify(SERVER)});
    const s = await startExchangeServer({
      accounts: [{ apiKey: 'bench', apiSecret: 'benchSecret' }], speed: 10, warmupMs: 60000, log: () => {}, usdm: false,
      limits: { weightPerMinute: 1e9, ordersPer10s: 1e9, ordersPerDay: 1e9 },
    });
    process.stdout.write('listening ' + s.url + '\\n');
    process.on('SIGTERM', () => s.close().then(() => process.exit(0)));`;
  const child = spawn(process.execPath, [...CHILD_ARGS, '--input-type=module', '-e', code], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error('the exchange server did not start in 30 s')), 30_000);
    child.stdout.on('data', (d) => {
      out += String(d);
      const m = /listening (\S+)/.exec(out);
      if (m !== null) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    child.on('exit', (c) => reject(new Error(`the exchange server exited (${c})`)));
  });
  return { url, kill: () => child.kill('SIGTERM') };
}

/** One measured session of the live node against the server, with the feed on `feed`'s thread. */
async function tickToTrade(ctx: BenchContext, feed: 'engine' | 'worker'): Promise<BenchOutcome> {
  // The server runs in its own process, so the GC and CPU figures are the node's alone.
  const server = await spawnServer();
  const keyFile = join(mkdtempSync(join(tmpdir(), 'bot4-bench-')), 'keys.json');
  writeFileSync(keyFile, JSON.stringify({ apiKey: 'bench', apiSecret: 'benchSecret' }));
  const config = NodeConfigSchema.parse({
    venue: { restUrl: server.url, keyFile },
    engine: { feed },
    instruments: ['BTCUSDT'],
    strategies: [{ name: STRATEGY, params: { instrument: 'BTCUSDT.BINANCE' } }],
    statusIntervalSec: 3600,
    unknownOrders: 'adopt',
  });
  const node = await TradingNode.start({ mode: NodeMode.LIVE, config, print: () => {}, env: {} });
  try {
    // Warm up (JIT), then measure a fresh window.
    await new Promise((r) => setTimeout(r, ctx.quick ? 500 : 3_000));
    node.t2tStages.reset();
    node.handler.reset();
    node.orders!.ackNanos.reset();
    const probe = startProbe();
    await new Promise((r) => setTimeout(r, ctx.quick ? 1_500 : 15_000));
    const t2t = node.tickToTrade;
    const ack = node.orders!.ackNanos;
    const m = await probe.finish(t2t.valueAtPercentile(50), t2t.valueAtPercentile(99), t2t.totalCount);
    // Everything of the measured window is read before the warm run below adds its own orders.
    const measured = {
      feed,
      orders_measured: t2t.totalCount,
      ...node.t2tStages.figures(),
      dispatch_p50_ns: node.handler.valueAtPercentile(50),
      ack_rtt_p50_ns: ack.valueAtPercentile(50),
      ack_rtt_p99_ns: ack.valueAtPercentile(99),
      round_trip_to_ack_p50_ns: t2t.valueAtPercentile(50) + ack.valueAtPercentile(50),
      market_messages: node.md.stats.messages,
      rejected: node.counters.rejected + node.counters.denied,
    };
    const warm = feed === 'engine' ? await warmStages(node) : {};
    return { main: m, extra: { ...measured, ...warm } };
  } finally {
    await node.stop();
    server.kill();
  }
}

/**
 * The same path with the CPU warm: bookTicker frames at the market's best prices handed to the market-data
 * client back to back (a few hundred per event-loop turn), so caches and branch predictors stay hot. Stages
 * from parsed on (the frames skip the socket read), prefixed `warm_`.
 */
async function warmStages(node: TradingNode): Promise<Record<string, number>> {
  const inst = node.kernel.traded[0]!;
  const book = node.md.book(inst.id)!;
  const bid = stepsToDecimal(book.bestBid(), inst.tickSize);
  const ask = stepsToDecimal(book.bestAsk(), inst.tickSize);
  let u = 4e9;
  const burst = async (n: number): Promise<void> => {
    for (let i = 0; i < n; i++) {
      u++;
      node.md.onMessage(
        `{"stream":"btcusdt@bookTicker","data":{"u":${u},"s":"BTCUSDT","b":"${bid}","B":"1.5","a":"${ask}","A":"2.0"}}`,
      );
      // Let the acknowledgements in now and then (the socket's buffers stay small).
      if (i % 100 === 99) await new Promise((r) => setImmediate(r));
    }
  };
  await burst(2_000);
  node.t2tStages.reset();
  await burst(2_000);
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(node.t2tStages.figures())) {
    if (!k.startsWith('read_') && !k.startsWith('frame_')) out[`warm_${k}`] = v;
  }
  return out;
}

const TARGET = {
  unit: 'ns',
  better: 'lower',
  target: 20_000,
  targetSource: 'issue 13: <= 20 us p50 in-process (the brief: submission < 100 us)',
} as const;

export const benches: BenchSpec[] = [
  {
    id: 'live.tick_to_trade',
    title:
      'bookTicker frame on a socket -> parse -> strategy -> risk -> signed order written (live node, feed on the engine thread)',
    ...TARGET,
    run: (ctx) => tickToTrade(ctx, 'engine'),
  },
  {
    id: 'live.tick_to_trade.feed_worker',
    title: 'the same with socket reads and decoding on a feed worker, rows handed over an SPSC ring',
    ...TARGET,
    run: (ctx) => tickToTrade(ctx, 'worker'),
  },
];
