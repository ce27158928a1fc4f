// Replay benchmarks: the catalog read path (decoded column cache -> k-way merge -> a no-op batch consumer; the
// Parquet-through-DuckDB rate of a cold read is in extra) in events/s, heap after 1x and 4x the data (must not
// grow with data length); and the in-memory k-way merge of 3 sources. Imports the USD-M capture into a temp dir.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { Catalog } from '../src/data/catalog.ts';
import { type BatchConsumer, batchesSource, Merge, replay } from '../src/data/replay.ts';
import { EventBatch, RecordKind } from '../src/model/market-data.ts';
import {
  type BenchOutcome,
  type BenchSpec,
  median,
  sharedDataFile,
  sink,
  skipped,
  startProbe,
} from './harness.ts';

const CAPTURE = sharedDataFile('hftbacktest/usdm/btcusdt_20240808.gz');
const MISSING = `../shared/data/hftbacktest/usdm/btcusdt_20240808.gz not found (see shared/data/README.md section 1)`;

/** Counts rows and touches one column, so the batches are really consumed. */
class NoopConsumer implements BatchConsumer {
  rows = 0;
  check = 0;
  onBatch(b: EventBatch): void {
    this.rows += b.length;
    this.check += b.tsEvent[b.length - 1]!;
  }
}

function gcFn(): () => void {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as (() => void) | undefined;
  return typeof gc === 'function' ? gc : () => {};
}

async function catalogReplay(quick: boolean): Promise<BenchOutcome> {
  if (CAPTURE === undefined) return skipped(MISSING);
  // DuckDB's native module loads only when this benchmark runs.
  const { Catalog } = await import('../src/data/catalog.ts');
  // The full run imports into a fresh folder and times it; quick mode keeps its catalog in the temp folder
  // across runs (an import already there is skipped), so the import rate is the one recorded when it was made.
  const dir = quick
    ? join(tmpdir(), 'bot4-bench', 'catalog-usdm-btcusdt')
    : mkdtempSync(join(tmpdir(), 'bot4-bench-catalog-'));
  const catalog = Catalog.open(dir);
  try {
    const t0 = process.hrtime.bigint();
    const imported = await catalog.importFile(CAPTURE);
    const importSeconds =
      imported.status === 'skipped' ? imported.record.seconds : Number(process.hrtime.bigint() - t0) / 1e9;
    const perPass = Object.values(imported.record.records).reduce((s, n) => s + n, 0);
    const consumer = new NoopConsumer();
    const pass = async (times: number, from: Catalog = catalog): Promise<number> => {
      let events = 0;
      for (let i = 0; i < times; i++) events += (await replay(from.query(), consumer)).events;
      return events;
    };
    // Straight from Parquet through DuckDB (no decoded cache), for reference; quick mode times the first pass
    // (DuckDB's start included) instead of warming up with it.
    const cold = Catalog.open(dir, { replayCache: false });
    if (!quick) await pass(1, cold);
    const coldStart = process.hrtime.bigint();
    const coldEvents = await pass(quick ? 1 : 3, cold);
    const duckdbRate = coldEvents / (Number(process.hrtime.bigint() - coldStart) / 1e9);
    cold.close();
    await pass(1); // fills the decoded cache
    const gc = gcFn();
    gc();
    const heap0 = process.memoryUsage().heapUsed;
    await pass(1);
    gc();
    const heap1 = process.memoryUsage().heapUsed;
    await pass(4);
    gc();
    const heap4 = process.memoryUsage().heapUsed;
    const samples = quick ? 3 : 7;
    const passes = quick ? 2 : 8;
    const rates: number[] = [];
    const probe = startProbe();
    for (let s = 0; s < samples; s++) {
      const start = process.hrtime.bigint();
      const events = await pass(passes);
      rates.push(events / (Number(process.hrtime.bigint() - start) / 1e9));
    }
    const main = await probe.finish(median(rates), null, samples);
    sink(consumer.check);
    return {
      main,
      extra: {
        eventsPerSample: perPass * passes,
        duckdbEventsPerS: Math.round(duckdbRate),
        ...(quick ? { duckdb: 'quick mode: one pass, the first (DuckDB start included)' } : {}),
        heapAfter1xMB: round1((heap1 - heap0) / 2 ** 20),
        heapAfter4xMB: round1((heap4 - heap0) / 2 ** 20),
        importEventsPerS: Math.round(perPass / importSeconds),
        ...(quick ? { import: `${imported.status} (quick mode keeps the catalog in ${dir})` } : {}),
        parquetMB: round1(imported.record.parts.reduce((s, p) => s + p.bytes, 0) / 2 ** 20),
      },
    };
  } finally {
    catalog.close();
    if (!quick) rmSync(dir, { recursive: true, force: true });
  }
}

function round1(x: number): number {
  return Math.round(x * 10) / 10;
}

/** Three sources of sorted timestamps with random gaps (a fixed-seed LCG), cut into 8192-row batches. */
function syntheticSources(rowsPerSource: number): EventBatch[][] {
  let seed = 12345;
  const rand = () => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648;
  };
  const kinds = [RecordKind.QUOTE, RecordKind.TRADE, RecordKind.DELTA] as const;
  return kinds.map((kind, s) => {
    const batches: EventBatch[] = [];
    let t = 1.7e15;
    let b = new EventBatch(8192);
    for (let i = 0; i < rowsPerSource; i++) {
      if (b.full) {
        batches.push(b);
        b = new EventBatch(8192);
      }
      t += Math.floor(rand() * 2000 * (s + 1));
      b.push(kind, 0, t, t, 100 + i, 1, 2, 3, 0, 0, i);
    }
    batches.push(b);
    return batches;
  });
}

async function mergeReplay(quick: boolean): Promise<BenchOutcome> {
  const rows = quick ? 300_000 : 1_000_000;
  const sources = syntheticSources(rows);
  const consumer = new NoopConsumer();
  const once = async () => (await replay(new Merge(sources.map((b) => batchesSource(b))), consumer)).events;
  await once();
  await once();
  const samples = quick ? 5 : 15;
  const rates: number[] = [];
  const probe = startProbe();
  for (let s = 0; s < samples; s++) {
    const start = process.hrtime.bigint();
    const events = await once();
    rates.push(events / (Number(process.hrtime.bigint() - start) / 1e9));
  }
  const main = await probe.finish(median(rates), null, samples);
  sink(consumer.check);
  return { main, extra: { sources: 3, eventsPerSample: rows * 3, outputBatch: 8192 } };
}

export const benches: BenchSpec[] = [
  {
    id: 'data.replay.catalog',
    title:
      'catalog replay (decoded cache of the Parquet files -> merged EventBatch stream -> no-op consumer)',
    unit: 'events/s',
    better: 'higher',
    target: 10_000_000,
    targetSource: 'issue 4 (data pipeline)',
    run: (ctx) => catalogReplay(ctx.quick),
  },
  {
    id: 'data.replay.merge',
    title: 'k-way merge of 3 in-memory sorted sources into 8192-row batches',
    unit: 'events/s',
    better: 'higher',
    target: null,
    run: (ctx) => mergeReplay(ctx.quick),
  },
];
