// Session recording cost on the node's event path: one market row (a quote) and one order-event row appended to
// the session log (src/data/session-log.ts), ns per row, median over samples of 4,096 rows (one write buffer),
// the event loop turning between samples until the async batched write completed and its buffer came back (as
// between a node's market events, which come hundreds per second, not millions). GC count and heap growth show whether recording allocates per event; `buffers made`
// counts write buffers created (two at the start; more only when the disk fell behind). The file lives in
// the OS temp directory, so the write side is that disk's.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SessionLogWriter } from '../src/data/session-log.ts';
import { OrderEvent } from '../src/model/events.ts';
import { RecordKind } from '../src/model/market-data.ts';
import { OrderEventKind } from '../src/model/order-state.ts';
import { type BenchContext, type BenchOutcome, type BenchSpec, median, startProbe } from './harness.ts';

const ROWS = 4096;

async function run(ctx: BenchContext, what: 'quote' | 'order'): Promise<BenchOutcome> {
  const dir = mkdtempSync(join(tmpdir(), 'bot4-session-bench-'));
  try {
    const w = new SessionLogWriter(join(dir, 'events.b4s'));
    const ev = new OrderEvent();
    ev.init(
      OrderEventKind.FILLED,
      17 as never,
      3,
      1_765_000_000_000_000 as never,
      1_765_000_000_000_100 as never,
    );
    ev.setFill(1000, 6512345, 6512, 2, 2, '');
    const record = (n: number): void => {
      let ts = 1_765_000_000_000_000;
      if (what === 'quote') {
        for (let i = 0; i < n; i++) {
          ts += 137;
          w.market(RecordKind.QUOTE, 1, ts, ts + 250, 6512345, 1200, 6512346, 800, 0, 0, i);
        }
      } else {
        for (let i = 0; i < n; i++) w.orderEvent(ev);
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
      ns[s] = Number(process.hrtime.bigint() - t0) / ROWS;
      heapInLoop += Math.max(0, process.memoryUsage().heapUsed - h0);
      // A node's event loop turns between market events: the batched writes complete there.
      while (w.pendingWrites > 0) await new Promise<void>((r) => setImmediate(r));
    }
    const main = await probe.finish(median(ns), null, samples);
    await w.close();
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
    id: 'live.session.record_order_event',
    title: 'session recording: one order-event row (a fill) into the session log',
    unit: 'ns/row',
    better: 'lower',
    target: null,
    run: (ctx) => run(ctx, 'order'),
  },
];
