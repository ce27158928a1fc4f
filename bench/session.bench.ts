// Session recording cost on the node's event path, through the SessionRecorder as the node calls it: one quote,
// one book update (a strategy's book as a snapshot of 20 levels a side, 40 rows) and one order event (published
// on the engine's topic, written by the recorder's subscription) into the session log, ns per call, median over samples of 4,096 rows (one write buffer),
// the event loop turning between samples until the async batched write completed and its buffer came back (as
// between a node's market events, which come hundreds per second, not millions). GC count and heap growth show whether recording allocates per event; `buffers made`
// counts write buffers created (two at the start; more only when the disk fell behind). The file lives in
// the OS temp directory, so the write side is that disk's.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Side as BookSide, L2Book } from '../src/book/l2-book.ts';
import { TestClock } from '../src/core/clock.ts';
import type { InstrumentId, Micros, PriceTicks, QtyLots } from '../src/core/units.ts';
import { BOOK_LEVELS } from '../src/data/session-log.ts';
import { buildKernel } from '../src/kernel/kernel.ts';
import { SessionRecorder } from '../src/live/session-recorder.ts';
import { OrderEvent } from '../src/model/events.ts';
import { newInstrumentRegistry } from '../src/model/instrument.ts';
import { QuoteTick } from '../src/model/market-data.ts';
import { OrderEventKind } from '../src/model/order-state.ts';
import { type BenchContext, type BenchOutcome, type BenchSpec, median, startProbe } from './harness.ts';

const ROWS = 4096;

async function run(ctx: BenchContext, what: 'quote' | 'order' | 'book'): Promise<BenchOutcome> {
  const dir = mkdtempSync(join(tmpdir(), 'bot4-session-bench-'));
  try {
    // The recorder as a node wires it: a kernel (no instruments needed), its clock and its order-event topic.
    const kernel = buildKernel({
      clock: new TestClock(1_765_000_000_000_000 as Micros),
      instruments: newInstrumentRegistry(),
      strategies: [],
      balances: [],
      makeVenue: () => {
        throw new Error('no venue');
      },
    });
    const rec = SessionRecorder.start({
      catalogDir: dir,
      importCatalog: false,
      mode: 'paper',
      config: { strategies: [] },
      kernel,
      instruments: [],
      balances: [],
      paperLatencyMicros: 0,
    });
    const w = rec.log;
    const ev = new OrderEvent();
    ev.init(
      OrderEventKind.FILLED,
      17 as never,
      3,
      1_765_000_000_000_000 as never,
      1_765_000_000_000_100 as never,
    );
    ev.setFill(1000, 6512345, 6512, 2, 2, '');
    const q = new QuoteTick();
    q.instrumentId = 1 as InstrumentId;
    q.bidPx = 6512345 as PriceTicks;
    q.askPx = 6512346 as PriceTicks;
    q.bidQty = 1200 as QtyLots;
    q.askQty = 800 as QtyLots;
    // A book 20 levels deep a side: one update is 40 rows, so a sample is ROWS / 40 updates.
    const book = new L2Book();
    for (let l = 0; l < BOOK_LEVELS; l++) {
      book.set(BookSide.BID, (6512345 - l) as PriceTicks, (100 + l) as QtyLots);
      book.set(BookSide.ASK, (6512346 + l) as PriceTicks, (100 + l) as QtyLots);
    }
    const perCall = what === 'book' ? 2 * BOOK_LEVELS : 1;
    const topic = kernel.engine.orderEvents;
    const record = (n: number): void => {
      if (what === 'book') {
        for (let i = 0; i < n; i += perCall) rec.book(1, book);
      } else if (what === 'quote') {
        for (let i = 0; i < n; i++) {
          q.tsEvent = (q.tsEvent + 137) as Micros;
          q.sequence = i;
          rec.quote(q);
        }
      } else {
        // Through the bus, as the engine publishes: the recorder's subscription writes the row.
        for (let i = 0; i < n; i++) kernel.bus.publish(topic, ev);
      }
    };
    record(ROWS);
    const samples = ctx.quick ? 60 : 300;
    const ns = new Float64Array(samples);
    let heapInLoop = 0;
    const probe = startProbe();
    for (let s = 0; s < samples; s++) {
      const h0 = process.memoryUsage().heapUsed;
      const t0 = process.hrtime.bigint();
      record(ROWS);
      ns[s] = (Number(process.hrtime.bigint() - t0) / ROWS) * perCall;
      heapInLoop += Math.max(0, process.memoryUsage().heapUsed - h0);
      // A node's event loop turns between market events: the batched writes complete there.
      while (w.pendingWrites > 0) await new Promise<void>((r) => setImmediate(r));
    }
    const main = await probe.finish(median(ns), null, samples);
    await rec.close();
    return {
      main,
      extra: {
        rows: w.rowsWritten,
        'buffers made': w.buffersMade,
        // Heap growth inside the recording loops only (the harness's gc/heap columns include the event-loop
        // turns between samples, whose promises and write callbacks are not on the event path).
        'heap bytes/row in loop': Math.round((heapInLoop / (samples * ROWS)) * 100) / 100,
        'write errors': w.writeErrors,
        'bytes/row': 88,
      },
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export const benches: BenchSpec[] = [
  {
    id: 'live.session.record_quote',
    title: 'session recording: one quote row into the session log (batched async writes)',
    unit: 'ns/row',
    better: 'lower',
    target: null,
    run: (ctx) => run(ctx, 'quote'),
  },
  {
    id: 'live.session.record_book',
    title: 'session recording: one book update (a top-20-levels-a-side snapshot, 40 rows)',
    unit: 'ns/update',
    better: 'lower',
    target: null,
    run: (ctx) => run(ctx, 'book'),
  },
  {
    id: 'live.session.record_order_event',
    title: 'session recording: one order-event row (a fill) into the session log',
    unit: 'ns/row',
    better: 'lower',
    target: null,
    run: (ctx) => run(ctx, 'order'),
  },
];
