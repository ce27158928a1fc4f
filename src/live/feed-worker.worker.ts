// The feed worker: owns the market-data WebSocket (the same WsSupervisor: pings, reconnects, rollover),
// decodes every frame with the same BinanceParser into rows, and hands header + rows to the engine thread
// through an SPSC ring (src/memory/spsc-ring.ts). Books, sync, snapshots and stats stay on the engine thread
// (WorkerFedMarketData in feed-worker.ts). Connection events go by postMessage (rare, not on the data path).
// Invariant: a frame is published whole or not at all; a frame that finds the ring full for a second is
// counted in DROPPED (never silently lost; a depth gap follows and the engine resyncs that book).

import { parentPort, workerData } from 'node:worker_threads';
import { monoNanos, wallMicros } from '../core/clock.ts';
import { SpscRing } from '../memory/spsc-ring.ts';
import { type Instrument, newInstrumentRegistry } from '../model/instrument.ts';
import { EventBatch } from '../model/market-data.ts';
import { nameThread, pinThread } from '../parallel/pool.protocol.ts';
import { BinanceParser } from '../venues/binance/messages.ts';
import { WsSupervisor } from '../venues/binance/ws-supervisor.ts';
import {
  FEED_HEADER,
  FEED_OPENED,
  FeedCounter,
  type FeedEngineMessage,
  FeedHeader,
  type FeedWorkerInit,
  type FeedWorkerMessage,
} from './feed-worker.protocol.ts';

const init = workerData as FeedWorkerInit;
const port = parentPort!;
const send = (m: FeedWorkerMessage): void => port.postMessage(m);

nameThread('bot4-feed');
let pinned = 'not pinned';
if (init.cpu !== null) {
  try {
    if (process.platform !== 'linux')
      throw new Error(`thread pinning needs Linux, this is ${process.platform}`);
    pinThread(init.cpu);
    pinned = `pinned to CPU ${init.cpu}`;
  } catch (e) {
    pinned = `could not pin to CPU ${init.cpu}: ${(e as Error).message}`;
  }
}

const registry = newInstrumentRegistry();
const bySymbol = new Map<string, Instrument>();
for (const { id, spec } of init.specs) {
  const inst = registry.add(spec);
  if (inst.id !== id)
    throw new Error(`feed worker: instrument ${spec.symbol} got id ${inst.id}, expected ${id}`);
  bySymbol.set(inst.symbol, inst);
}
const parser = new BinanceParser((s) => bySymbol.get(s));
parser.roundSizes = true;
const batch = new EventBatch(8192);
const ring = SpscRing.attach(init.ring);
const f64 = ring.f64;
const counters = new Int32Array(init.counters);

/** Claims `n` records, waiting up to a second for room; false when the ring stayed full. */
function room(n: number): boolean {
  if (ring.freeSlots() >= n) return true;
  return ring.waitNotFull(1_000, n);
}

function header(result: number, rows: number, readNs: number, frameNs: number, parsedNs: number): void {
  const h = ring.claim() >> 3;
  f64[h + FeedHeader.TAG] = FEED_HEADER;
  f64[h + FeedHeader.RESULT] = result;
  f64[h + FeedHeader.ROWS] = rows;
  f64[h + FeedHeader.INSTRUMENT] = parser.instrument === undefined ? -1 : parser.instrument.id;
  f64[h + FeedHeader.FIRST_ID] = parser.firstId;
  f64[h + FeedHeader.LAST_ID] = parser.lastId;
  f64[h + FeedHeader.PREV_ID] = parser.prevId;
  f64[h + FeedHeader.TS_EVENT] = parser.tsEvent;
  f64[h + FeedHeader.READ_NS] = readNs;
  f64[h + FeedHeader.FRAME_NS] = frameNs;
  f64[h + FeedHeader.PARSED_NS] = parsedNs;
}

function onFrame(text: string, frameNs: number): void {
  Atomics.add(counters, FeedCounter.FRAMES, 1);
  batch.clear();
  const r = parser.parse(text, 0, wallMicros(), batch);
  const parsedNs = monoNanos();
  const from = parser.rowStart;
  const rows = parser.rowEnd - from;
  if (!room(rows + 1)) {
    Atomics.add(counters, FeedCounter.DROPPED, 1);
    return;
  }
  header(r, rows, sup.readNanos, frameNs, parsedNs);
  for (let i = from; i < from + rows; i++) {
    const o = ring.claim() >> 3;
    f64[o] = batch.kind[i]!;
    f64[o + 1] = batch.instrument[i]!;
    f64[o + 2] = batch.tsEvent[i]!;
    f64[o + 3] = batch.tsInit[i]!;
    f64[o + 4] = batch.a[i]!;
    f64[o + 5] = batch.b[i]!;
    f64[o + 6] = batch.c[i]!;
    f64[o + 7] = batch.d[i]!;
    f64[o + 8] = batch.e[i]!;
    f64[o + 9] = batch.f[i]!;
    f64[o + 10] = batch.seq[i]!;
  }
  ring.publish();
}

const sup = new WsSupervisor({
  ...init.connection,
  name: 'binance-market-data',
  url: () => init.url,
  onMessage: onFrame,
  // In the ring, so the engine starts its books afresh before any frame of the new connection.
  onOpen: () => {
    if (!room(1)) {
      Atomics.add(counters, FeedCounter.DROPPED, 1);
      return;
    }
    parser.instrument = undefined;
    parser.firstId = parser.lastId = parser.prevId = Number.NaN;
    header(FEED_OPENED, 0, 0, 0, 0);
    ring.publish();
  },
  onEvent: (event) =>
    send({
      type: 'connection',
      event,
      opens: sup.opens,
      reconnects: sup.reconnects,
      rollovers: sup.rollovers,
      pongTimeouts: sup.pongTimeouts,
    }),
});
port.on('message', (m: FeedEngineMessage) => {
  if (m.type === 'drop') sup.drop(m.reason);
  else if (m.type === 'stop') {
    void sup.stop().then(() => {
      send({ type: 'stopped' });
      port.close();
    });
  }
});

send({ type: 'ready', timeOrigin: performance.timeOrigin, pinned });
sup.start().catch((e: unknown) => send({ type: 'failed', message: (e as Error).message }));
