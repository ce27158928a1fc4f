// Diagnostic probe (not a bench id): where the cold tick-to-trade time goes. A live node trades on the local
// exchange server (market paused: speed tiny, so no frames arrive on their own); the probe hands it bookTicker
// frames itself after controlled idle gaps and records every stage of the frames after each gap (#0 the first):
//   sleep     the thread sleeps in epoll for the gap (what the live node does between the server's bursts),
//   tick1     the same, woken every millisecond to do nothing (CPU idle states, timer and wake-up costs),
//   partial1  the same, woken every millisecond to decode a frame and sign a request (the node's keep-warm),
//   full1     the same, running the whole path every millisecond (sends orders: an experiment, not a remedy),
//   spin      the thread spins on the clock for the gap (CPU never idle, nothing else run),
//   thrash    the thread writes over a buffer larger than the caches for the gap (caches evicted, CPU busy),
//   b2b       no gap (frames back to back).
// Run: node --import tsx bench/live-cold.probe.ts [gapMs=20] [rounds=200] [placesPerBurst=1]
// Environment: PROBE_KINDS (comma list of the kinds), PROBE_KW (the node's engine.keepWarmMs, default 0),
// PROBE_SPLIT=N (N frames back to back, parsed -> decision split), PROBE_HOT=N (a warm loop, for --cpu-prof).

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { monoNanos } from '../src/core/clock.ts';
import { siblingModule } from '../src/core/worker.ts';
import { NodeMode, TradingNode } from '../src/live/node.ts';
import { NodeConfigSchema } from '../src/live/node-config.ts';
import { stepsToDecimal } from '../src/model/decimal.ts';
import { EventBatch } from '../src/model/market-data.ts';
import type { BinanceMarketData } from '../src/venues/binance/market-data.ts';
import { API_KEY, spawnServer } from './live.bench.ts';

const STRATEGY = fileURLToPath(siblingModule(import.meta.url, 'tick-to-trade.strategy'));
const gapMs = Number(process.argv[2] ?? 20);
const rounds = Number(process.argv[3] ?? 200);
const burstLen = Number(process.argv[4] ?? 1);

const dir = mkdtempSync(join(tmpdir(), 'bot4-probe-'));
const keyFile = join(dir, 'keys.json');
const account = { apiKey: API_KEY, apiSecret: 'benchSecret' };
writeFileSync(keyFile, JSON.stringify(account));
const server = await spawnServer(account, 1e-6);
const config = NodeConfigSchema.parse({
  venue: { restUrl: server.url, keyFile },
  engine: { feed: 'engine', busyPoll: false, keepWarmMs: Number(process.env.PROBE_KW ?? 0) },
  instruments: ['BTCUSDT'],
  strategies: [{ name: STRATEGY, params: { instrument: 'BTCUSDT.BINANCE' } }],
  statusIntervalSec: 3600,
  unknownOrders: 'adopt',
});
const node = await TradingNode.start({ mode: NodeMode.LIVE, config, print: () => {}, env: {} });
const inst = node.kernel.traded[0]!;
const md = node.md as BinanceMarketData;
const book = md.book(inst.id)!;
while (!md.inSync(inst.id)) await new Promise((r) => setTimeout(r, 10));
const bid = stepsToDecimal(book.bestBid(), inst.tickSize);
const ask = stepsToDecimal(book.bestAsk(), inst.tickSize);
let u = 4e9;
const frames: string[] = [];
for (let i = 0; i < 64; i++) {
  frames.push(
    `{"stream":"btcusdt@bookTicker","data":{"u":${u + i},"s":"BTCUSDT","b":"${bid}","B":"1.5","a":"${ask}","A":"2.0"}}`,
  );
}
// Stage stamps of the recorded (order-sending) frame.
const st = node.t2tStages as unknown as { decisionNs: number; riskNs: number };
const orders = node.orders!;
const STAGES = [
  'frame_to_parsed',
  'parsed_to_decision',
  'decision_to_risk',
  'risk_to_signed',
  'signed_to_written',
  'total',
];
type Row = number[];
let last: Row | undefined;
const origRecord = node.t2tStages.record.bind(node.t2tStages);
node.t2tStages.record = (readNs, frameNs, parsedNs, signedNs, writtenNs, endNs) => {
  last = [
    parsedNs - frameNs,
    st.decisionNs - parsedNs,
    st.riskNs - st.decisionNs,
    signedNs - st.riskNs,
    writtenNs - signedNs,
    writtenNs - frameNs,
  ];
  origRecord(readNs, frameNs, parsedNs, signedNs, writtenNs, endNs);
};

/** One frame through the node, as ws would deliver it; the stages when it sent an order. */
const med = (a: number[]): number => {
  const s = [...a].sort((x, y) => x - y);
  return s[Math.floor(s.length / 2)]!;
};
const p90 = (a: number[]): number => {
  const s = [...a].sort((x, y) => x - y);
  return s[Math.floor(s.length * 0.9)]!;
};

let hasOpen = false;
function frame(): Row | undefined {
  last = undefined;
  u++;
  const text = frames[u & 63]!;
  (md as unknown as { recvNanos: number }).recvNanos = monoNanos();
  md.onMessage(text);
  hasOpen = last !== undefined;
  return last;
}

// The side-effect-free parts of the path: parse a frame into a scratch batch, write and sign an order request
// that is never sent.
const parser = (
  md as unknown as { parser: { parse(t: string, o: number, now: number, b: EventBatch): number } }
).parser;
const scratch = new EventBatch(64);
type W = {
  begin(id: number, m: string): W;
  text(k: string, v: string): W;
  int(k: string, v: number): W;
  steps(k: string, v: number, s: unknown): W;
  signed(c: unknown): Buffer;
};
const writer = (orders as unknown as { writer: W }).writer;
const creds = (orders as unknown as { o: { credentials: { apiKey: string } } }).o.credentials;
function partialWarm(): void {
  scratch.clear();
  parser.parse(frames[0]!, 0, node.kernel.clock.now(), scratch);
  writer
    .begin(1, 'order.place')
    .text('apiKey', creds.apiKey)
    .text('newClientOrderId', 'b4warm-1')
    .text('newOrderRespType', 'ACK')
    .steps('price', 600000, inst.tickSize)
    .steps('quantity', 1, inst.lotSize)
    .int('recvWindow', 5000)
    .text('side', 'BUY')
    .text('symbol', 'BTCUSDT')
    .text('timeInForce', 'GTC')
    .int('timestamp', 1700000000000)
    .text('type', 'LIMIT')
    .signed(creds);
}
const big = new Float64Array(8 << 20); // 64 MB
async function gap(kind: string): Promise<void> {
  if (kind === 'sleep') {
    await new Promise((r) => setTimeout(r, gapMs));
    return;
  }
  if (kind === 'tick1' || kind === 'partial1' || kind === 'full1') {
    // Sleep for the gap, woken every millisecond to do nothing, the safe parts, or the whole path.
    await new Promise<void>((resolve) => {
      let n = 0;
      const t = setInterval(() => {
        if (++n >= gapMs) {
          clearInterval(t);
          resolve();
          return;
        }
        if (kind === 'partial1') partialWarm();
        else if (kind === 'full1') {
          frame();
          frame();
        }
      }, 1);
    });
    return;
  }
  if (kind === 'spin' || kind === 'thrash') {
    // Let acks in first, then hold the CPU for the gap, then one loop turn with an immediate pending.
    await new Promise((r) => setImmediate(r));
    const end = monoNanos() + gapMs * 1e6;
    let i = 0;
    while (monoNanos() < end) {
      if (kind === 'thrash') {
        for (let k = 0; k < 65536; k++) {
          big[i] = big[i]! + 1;
          i = (i + 8) & (big.length - 1);
        }
      }
    }
    await new Promise((r) => setImmediate(r));
    return;
  }
  // b2b: one loop turn, no wait
  await new Promise((r) => setImmediate(r));
}

// Warm-up (JIT).
for (let i = 0; i < 3000; i++) {
  frame();
  if (i % 50 === 49) await new Promise((r) => setTimeout(r, 1));
}
if (process.env.PROBE_SPLIT !== undefined) {
  // parsed -> decision split, frames back to back: node preamble + bus + host up to the strategy's onQuote,
  // the strategy's own code up to engine.submit, and the order's creation up to the INITIALIZED event.
  const host = node.kernel.hosts[0] as unknown as { strategy: { onQuote(q: unknown): void } };
  const strat = host.strategy;
  const origQ = strat.onQuote.bind(strat);
  let tStrat = 0;
  let tSubmit = 0;
  strat.onQuote = (q) => {
    tStrat = monoNanos();
    origQ(q);
  };
  const eng = node.kernel.engine as unknown as { submit(r: unknown): unknown };
  const origS = eng.submit.bind(eng);
  eng.submit = (r) => {
    tSubmit = monoNanos();
    return origS(r);
  };
  // Time each order-event handler on INITIALIZED (the node's own stamp is the last one).
  const topic = node.kernel.engine.orderEvents as unknown as { handlers: ((ev: { kind: number }) => void)[] };
  const hs = topic.handlers.slice();
  const hTimes: number[][] = hs.map(() => []);
  topic.handlers = hs.map((h, k) => (ev: { kind: number }) => {
    const t = monoNanos();
    h(ev);
    if (ev.kind === 0) hTimes[k]!.push(monoNanos() - t);
  });
  const a: number[] = [];
  const b: number[] = [];
  const c: number[] = [];
  const n = Number(process.env.PROBE_SPLIT);
  for (let i = 0; i < n; i++) {
    frame();
    if (last !== undefined && i > n / 2) {
      a.push(tStrat - md.parsedNanos);
      b.push(tSubmit - tStrat);
      c.push(st.decisionNs - tSubmit);
    }
    if (i % 100 === 99) await new Promise((r) => setImmediate(r));
  }
  console.log(
    `split (p50 ns): parsed -> strategy.onQuote ${med(a)}, onQuote -> engine.submit ${med(b)}, submit -> INITIALIZED ${med(c)}`,
  );
  console.log(
    `INITIALIZED handlers (p50 ns each, in order): ${hs.map((h, k) => `${h.name || 'anon'} ${med(hTimes[k]!)}`).join(', ')}`,
  );
  topic.handlers = hs;
  strat.onQuote = origQ;
  eng.submit = origS;
}
if (process.env.PROBE_HOT !== undefined) {
  // Warm loop only (for --cpu-prof): frames back to back, acks let in every 100.
  const n = Number(process.env.PROBE_HOT);
  const t0 = monoNanos();
  for (let i = 0; i < n; i++) {
    frame();
    if (i % 100 === 99) await new Promise((r) => setImmediate(r));
  }
  console.log(`hot: ${((monoNanos() - t0) / n).toFixed(0)} ns per frame (place or cancel, acks included)`);
}
const kinds = (process.env.PROBE_KINDS ?? 'b2b,sleep,spin,thrash').split(',');
const res: Record<string, Row[][]> = {};
for (const k of kinds) res[k] = Array.from({ length: burstLen * 2 }, () => []);
console.log('measuring (warm-up done)');
for (let r = 0; r < rounds; r++) {
  for (const k of kinds) {
    // The strategy alternates place/cancel: make the frame after the gap a place.
    if (hasOpen) frame();
    await gap(k);
    for (let b = 0; b < burstLen * 2; b++) {
      const row = frame();
      if (row !== undefined) res[k]![b]!.push(row);
    }
  }
}
for (const k of kinds) {
  for (let b = 0; b < burstLen * 2; b++) {
    const rows = res[k]![b]!;
    if (rows.length === 0) continue;
    const cells = STAGES.map(
      (s, i) =>
        `${s} ${(med(rows.map((x) => x[i]!)) / 1000).toFixed(1)}/${(p90(rows.map((x) => x[i]!)) / 1000).toFixed(1)}`,
    );
    console.log(`${k.padEnd(6)} #${b} n=${rows.length} ${cells.join(' ')}`);
  }
}
console.log(`placed ${orders.stats.placed} gc? heap ${(process.memoryUsage().heapUsed / 1e6).toFixed(1)} MB`);
await node.stop();
server.kill();
process.exit(0);
