// Market data with the socket and the decoding on a feed worker (feed-worker.worker.ts): the worker reads and
// parses every frame, the engine thread takes the decoded rows off an SPSC ring and runs the same code as the
// in-thread feed from there on (BinanceMarketData.onDecoded: stats, depth sync and snapshots, the sink).
// The engine thread waits on the ring with Atomics.waitAsync, so it sleeps in its event loop like any socket.
// `supervisor` mirrors the worker's connection (state and counters, from its events) for status and metrics.
// Tick-to-trade stamps: read and frame are the worker's (shifted onto this thread's clock); "parsed" is when
// the row reached this thread, so the hop between threads counts in read -> parsed, as it must.
// Units: as BinanceMarketData (ticks/lots, micros); stamps monotonic ns.

import type { Worker } from 'node:worker_threads';
import { monoNanos } from '../core/clock.ts';
import { siblingModule, startWorker } from '../core/worker.ts';
import { SpscRing } from '../memory/spsc-ring.ts';
import { EventBatch, type RecordKind } from '../model/market-data.ts';
import {
  BinanceMarketData,
  type BinanceMarketDataOptions,
  DecodedFrame,
} from '../venues/binance/market-data.ts';
import {
  FEED_COUNTER_WORDS,
  FEED_OPENED,
  FEED_RECORD_BYTES,
  FeedCounter,
  type FeedEngineMessage,
  FeedHeader,
  type FeedWorkerInit,
  type FeedWorkerMessage,
} from './feed-worker.protocol.ts';

export const FeedThread = { ENGINE: 'engine', WORKER: 'worker' } as const;
export type FeedThread = (typeof FeedThread)[keyof typeof FeedThread];

/** Records in the ring (a power of two): room for a burst of full depth frames while the engine is busy. */
const RING_RECORDS = 16_384;
/** The engine's wait on an empty ring wakes this often to notice a stop, ms. */
const IDLE_WAKE_MS = 250;

/** The market-data client of a node: in-thread, or fed by a worker (`engine.feed` in the node config). */
export function createMarketData(
  o: BinanceMarketDataOptions,
  thread: FeedThread,
  feed: WorkerFeedOptions,
): BinanceMarketData {
  return thread === FeedThread.WORKER ? new WorkerFedMarketData(o, feed) : new BinanceMarketData(o);
}

export interface WorkerFeedOptions {
  /** CPU to pin the feed worker's thread to (null: not pinned). */
  cpu: number | null;
  /** Called once the worker is up, with what became of its pinning. */
  onPinned?: (text: string) => void;
}

export class WorkerFedMarketData extends BinanceMarketData {
  private readonly ring: SpscRing;
  private readonly counters: Int32Array;
  private readonly rows = new EventBatch(8192);
  private readonly decoded = new DecodedFrame();
  private readonly feed: WorkerFeedOptions;
  private worker: Worker | undefined = undefined;
  /** Worker clock -> this thread's clock, ns to add. */
  private shiftNs = 0;
  private workerReadNs = 0;
  private running = false;
  private pumping: Promise<void> | undefined = undefined;
  private opened: { resolve: () => void; reject: (e: Error) => void } | undefined = undefined;
  /** Opens seen in the ring (the markers order them with the frames; the worker's events may come later). */
  private opens = 0;

  constructor(o: BinanceMarketDataOptions, feed: WorkerFeedOptions) {
    super(o);
    this.feed = feed;
    this.ring = SpscRing.create({ capacity: RING_RECORDS, recordBytes: FEED_RECORD_BYTES });
    this.counters = new Int32Array(new SharedArrayBuffer(FEED_COUNTER_WORDS * 4));
  }

  /** When the worker read the bytes of the frame being handled, on this thread's clock, ns. */
  override get readNanos(): number {
    return this.workerReadNs;
  }

  /** Frames the worker dropped because the ring stayed full (each also shows as a depth gap or a lost quote). */
  get dropped(): number {
    return Atomics.load(this.counters, FeedCounter.DROPPED);
  }

  override start(): Promise<void> {
    this.running = true;
    const init: FeedWorkerInit = {
      url: this.url(),
      specs: this.o.instruments.map((i) => ({ id: i.id, spec: i.spec })),
      ring: this.ring.buffer,
      counters: this.counters.buffer as SharedArrayBuffer,
      cpu: this.feed.cpu,
      connection: this.o.connection ?? {},
    };
    const w = startWorker(siblingModule(import.meta.url, 'feed-worker.worker'), { workerData: init });
    this.worker = w;
    const first = new Promise<void>((resolve, reject) => {
      this.opened = { resolve, reject };
    });
    w.on('message', (m: FeedWorkerMessage) => this.onWorker(m));
    w.on('error', (e) => this.fail(`feed worker failed: ${e.message}`));
    w.on('exit', (code) => {
      if (this.running) this.fail(`feed worker exited (code ${code}) while the feed was running`);
    });
    this.pumping = this.pump();
    // A worker that never opens leaves nothing running behind the caller's error.
    return first.catch(async (e: unknown) => {
      await this.stop();
      throw e;
    });
  }

  override async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    const w = this.worker;
    this.worker = undefined;
    if (w !== undefined) {
      const gone = new Promise<void>((resolve) => {
        const t = setTimeout(() => void w.terminate().then(() => resolve()), 3_000);
        w.once('exit', () => {
          clearTimeout(t);
          resolve();
        });
      });
      w.postMessage({ type: 'stop' } satisfies FeedEngineMessage);
      await gone;
    }
    await this.pumping;
    this.stats.feedDropped = this.dropped;
    // Stops the snapshot loop; the (never started) in-thread supervisor just records CLOSED.
    await super.stop();
  }

  /** Drops the worker's connection as if the network had (the fault seam of WsSupervisor.drop). */
  drop(reason = 'dropped by owner'): void {
    this.worker?.postMessage({ type: 'drop', reason } satisfies FeedEngineMessage);
  }

  private fail(message: string): void {
    const o = this.opened;
    this.opened = undefined;
    if (o !== undefined) o.reject(new Error(message));
    else this.o.onEvent?.({ kind: 'feed-failed', symbol: '*', reason: message });
  }

  private onWorker(m: FeedWorkerMessage): void {
    if (m.type === 'ready') {
      this.shiftNs = (m.timeOrigin - performance.timeOrigin) * 1e6;
      this.feed.onPinned?.(m.pinned);
    } else if (m.type === 'connection') {
      const s = this.supervisor;
      s.state = m.event.state;
      s.opens = Math.max(s.opens, m.opens);
      s.reconnects = m.reconnects;
      s.rollovers = m.rollovers;
      s.pongTimeouts = m.pongTimeouts;
      this.o.onConnection?.(m.event);
    } else if (m.type === 'failed') {
      this.fail(`feed worker: ${m.message}`);
    }
  }

  /** Sleeps on the ring (Atomics.waitAsync) and handles what the worker published, until stopped. */
  private async pump(): Promise<void> {
    while (this.running) {
      if (await this.ring.waitNotEmptyAsync(IDLE_WAKE_MS)) this.drain();
    }
    this.drain();
  }

  /** Every frame readable now, one by one, each released as soon as it is handled. */
  private drain(): void {
    const ring = this.ring;
    const f64 = ring.f64;
    let avail = ring.available();
    while (avail > 0) {
      const h = ring.offsetAt(0) >> 3;
      const rows = f64[h + FeedHeader.ROWS]!;
      const result = f64[h + FeedHeader.RESULT]!;
      if (result === FEED_OPENED) {
        ring.releaseBatch(1);
        avail--;
        this.onOpened();
        continue;
      }
      const batch = this.rows;
      batch.clear();
      for (let i = 1; i <= rows; i++) {
        const o = ring.offsetAt(i) >> 3;
        batch.push(
          f64[o]! as RecordKind,
          f64[o + 1]!,
          f64[o + 2]!,
          f64[o + 3]!,
          f64[o + 4]!,
          f64[o + 5]!,
          f64[o + 6]!,
          f64[o + 7]!,
          f64[o + 8]!,
          f64[o + 9]!,
          f64[o + 10]!,
        );
      }
      const f = this.decoded;
      f.result = result;
      f.instrumentId = f64[h + FeedHeader.INSTRUMENT]!;
      f.rowStart = 0;
      f.rowEnd = rows;
      f.firstId = f64[h + FeedHeader.FIRST_ID]!;
      f.lastId = f64[h + FeedHeader.LAST_ID]!;
      f.prevId = f64[h + FeedHeader.PREV_ID]!;
      f.tsEvent = f64[h + FeedHeader.TS_EVENT]!;
      this.workerReadNs = f64[h + FeedHeader.READ_NS]! + this.shiftNs;
      this.recvNanos = f64[h + FeedHeader.FRAME_NS]! + this.shiftNs;
      ring.releaseBatch(rows + 1);
      avail -= rows + 1;
      this.parsedNanos = monoNanos();
      this.onDecoded(f, batch);
    }
  }

  private onOpened(): void {
    this.opens++;
    if (this.supervisor.opens < this.opens) this.supervisor.opens = this.opens;
    this.onOpen();
    const o = this.opened;
    this.opened = undefined;
    o?.resolve();
  }
}
