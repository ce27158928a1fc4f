// Tick-to-trade on a real wire: the local exchange server (src/venues/server) sends bookTicker frames over a
// loopback WebSocket; the live node reads each one, parses it, updates quote and risk state, runs the strategy,
// passes the order through the risk engine and writes it, signed, to the WebSocket API socket. In-process figure:
// frame received (ws 'message') -> order bytes handed to the socket, for the quotes that sent an order; the
// stages (src/live/tick-to-trade.ts) and socket read -> written are extras. Round trip: the same plus the
// venue's acknowledgement (order.place answer). With the feed on the engine thread (HMAC key, signed per request),
// the same busy-polling, with an Ed25519 key (the connection logged on, requests unsigned), and with the feed on
// a worker. The machine is shared: quote medians.

import { spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { siblingModule } from '../src/core/worker.ts';
import { NodeMode, TradingNode } from '../src/live/node.ts';
import { NodeConfigSchema } from '../src/live/node-config.ts';
import { stepsToDecimal } from '../src/model/decimal.ts';
import type { BinanceMarketData } from '../src/venues/binance/market-data.ts';
import { type BenchContext, type BenchOutcome, type BenchSpec, startProbe } from './harness.ts';

// Compiled (dist/) or sources: each keeps its own extension.
const STRATEGY = fileURLToPath(siblingModule(import.meta.url, 'tick-to-trade.strategy'));
const SERVER = siblingModule(import.meta.url, '../src/venues/server/server').href;
const CHILD_ARGS = import.meta.url.endsWith('.ts') ? ['--import', 'tsx'] : [];

/**
 * The local exchange server in a child process (order limits raised: the bench sends an order per 2 quotes), its
 * market at `speed` times real time.
 */
export async function spawnServer(account: object, speed = 10): Promise<{ url: string; kill(): void }> {
  const code = `
    const { startExchangeServer } = await import(${JSON.stringify(SERVER)});
    const s = await startExchangeServer({
      accounts: [${JSON.stringify(account)}], speed: ${speed}, warmupMs: 60000, log: () => {}, usdm: false,
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

/** A key as long as Binance's (64 characters): the signed payload is as long as a real one. */
export const API_KEY = 'bench'.repeat(13).slice(0, 64);

interface Variant {
  feed: 'engine' | 'worker';
  busyPoll?: boolean;
  /** 'ed25519': the order connection logs on (session.logon) and its requests carry no signature. */
  key?: 'hmac' | 'ed25519';
}

/** One measured session of the live node against the server. */
async function tickToTrade(ctx: BenchContext, v: Variant): Promise<BenchOutcome> {
  const { feed, busyPoll = false, key = 'hmac' } = v;
  const dir = mkdtempSync(join(tmpdir(), 'bot4-bench-'));
  const keyFile = join(dir, 'keys.json');
  let account: object = { apiKey: API_KEY, apiSecret: 'benchSecret' };
  if (key === 'ed25519') {
    const ed = generateKeyPairSync('ed25519');
    const pem = join(dir, 'key.pem');
    writeFileSync(pem, ed.privateKey.export({ type: 'pkcs8', format: 'pem' }));
    writeFileSync(keyFile, JSON.stringify({ apiKey: API_KEY, privateKeyFile: pem }));
    account = { apiKey: API_KEY, ed25519PublicKey: ed.publicKey.export({ type: 'spki', format: 'pem' }) };
  } else {
    writeFileSync(keyFile, JSON.stringify(account));
  }
  // The server runs in its own process, so the GC and CPU figures are the node's alone.
  const server = await spawnServer(account);
  const config = NodeConfigSchema.parse({
    venue: { restUrl: server.url, keyFile },
    engine: { feed, busyPoll },
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
      busy_poll: busyPoll ? 1 : 0,
      key,
      orders_measured: t2t.totalCount,
      ...node.t2tStages.figures(),
      dispatch_p50_ns: node.handler.valueAtPercentile(50),
      ack_rtt_p50_ns: ack.valueAtPercentile(50),
      ack_rtt_p99_ns: ack.valueAtPercentile(99),
      round_trip_to_ack_p50_ns: t2t.valueAtPercentile(50) + ack.valueAtPercentile(50),
      market_messages: node.md.stats.messages,
      rejected: node.counters.rejected + node.counters.denied,
    };
    const warm = feed === 'engine' && !busyPoll ? await warmStages(node) : {};
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
  // The native adapter's client (this bench's config): its frame entry point and books.
  const md = node.md as BinanceMarketData;
  const book = md.book(inst.id)!;
  const bid = stepsToDecimal(book.bestBid(), inst.tickSize);
  const ask = stepsToDecimal(book.bestAsk(), inst.tickSize);
  let u = 4e9;
  const burst = async (n: number): Promise<void> => {
    for (let i = 0; i < n; i++) {
      u++;
      md.onMessage(
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
    run: (ctx) => tickToTrade(ctx, { feed: 'engine' }),
  },
  {
    id: 'live.tick_to_trade.busy_poll',
    title:
      'the same with the engine thread busy-polling (engine.busyPoll: never sleeps, a warm CPU, a core spent)',
    ...TARGET,
    run: (ctx) => tickToTrade(ctx, { feed: 'engine', busyPoll: true }),
  },
  {
    id: 'live.tick_to_trade.ed25519_session',
    title: 'the same with an Ed25519 key: the order connection logged on (session.logon), requests unsigned',
    ...TARGET,
    run: (ctx) => tickToTrade(ctx, { feed: 'engine', key: 'ed25519' }),
  },
  {
    id: 'live.tick_to_trade.feed_worker',
    title: 'the same with socket reads and decoding on a feed worker, rows handed over an SPSC ring',
    ...TARGET,
    run: (ctx) => tickToTrade(ctx, { feed: 'worker' }),
  },
];
