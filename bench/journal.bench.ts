// Journal benchmarks: appending a typical fill-sized record (~200 bytes of JSON) to the node's append-only
// journal under each fsync policy, records per second (median over samples) and the p99 of one append in
// microseconds (extra), in bursts of 50 records per event-loop turn. `always` pays one fdatasync per record, `group` at most one per 5 ms window, `os`
// none (the page cache; survives kill -9, not power loss). The file lives in the OS temp directory, so the
// figures are that disk's.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FsyncPolicy, openJournal } from '../src/persistence/journal.ts';
import {
  type BenchContext,
  type BenchOutcome,
  type BenchSpec,
  median,
  percentile,
  startProbe,
} from './harness.ts';

const PAYLOAD = Buffer.from(
  JSON.stringify({
    cid: 'b4-000001234-01',
    sym: 'BTCUSDT',
    side: 1,
    qty: 1000,
    px: 6512345,
    fee: 6512,
    feeCcy: 'USDT',
    tradeId: '123456789',
    ts: 1_765_000_000_000_000,
    venueOrderId: '987654321',
    pad: 'x'.repeat(40),
  }),
);

/** Records appended per event-loop turn. */
const BURST = 50;

async function appendRun(ctx: BenchContext, fsync: FsyncPolicy): Promise<BenchOutcome> {
  const dir = mkdtempSync(join(tmpdir(), 'bot4-journal-bench-'));
  try {
    const { writer } = openJournal(join(dir, 'journal.bin'), { fsync, groupMs: 5 });
    const samples = ctx.quick ? 5 : 15;
    // fdatasync per record is ~ms on a disk: fewer records per sample (and in the warm-up) for `always`.
    const always = fsync === FsyncPolicy.ALWAYS;
    const perSample = always ? (ctx.quick ? 50 : 300) : ctx.quick ? 5_000 : 20_000;
    const warm = always && ctx.quick ? 50 : 200;
    for (let i = 0; i < warm; i++) writer.append(3, PAYLOAD);
    const lat = new Float64Array(samples * perSample);
    const rates = new Float64Array(samples);
    const probe = startProbe();
    let k = 0;
    for (let s = 0; s < samples; s++) {
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < perSample; i++) {
        const a = process.hrtime.bigint();
        writer.append(3, PAYLOAD);
        lat[k++] = Number(process.hrtime.bigint() - a) / 1000;
        // A node's event loop turns between bursts; grouped fdatasyncs complete there (on the thread pool).
        if (i % BURST === BURST - 1) await new Promise<void>((r) => setImmediate(r));
      }
      rates[s] = perSample / (Number(process.hrtime.bigint() - t0) / 1e9);
    }
    const main = await probe.finish(median(rates), null, samples);
    writer.close();
    return {
      main,
      extra: {
        'p50 us/append': Math.round(percentile(lat, 50) * 10) / 10,
        'p99 us/append': Math.round(percentile(lat, 99) * 10) / 10,
        fdatasyncs: writer.stats.syncs,
        records: writer.stats.records,
        'bytes/record': PAYLOAD.length + 9,
      },
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function spec(fsync: FsyncPolicy, title: string): BenchSpec {
  return {
    id: `journal.append.${fsync}`,
    title,
    unit: 'records/s',
    better: 'higher',
    target: null,
    run: (ctx) => appendRun(ctx, fsync),
  };
}

export const benches: BenchSpec[] = [
  spec(FsyncPolicy.ALWAYS, 'journal append, fdatasync per record'),
  spec(FsyncPolicy.GROUP, 'journal append, fdatasync grouped within 5 ms'),
  spec(FsyncPolicy.OS, 'journal append, no fsync (OS page cache)'),
];
