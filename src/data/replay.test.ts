import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { present } from '../core/test-resources.ts';
import { newInstrumentRegistry } from '../model/instrument.ts';
import { EventBatch, RecordKind } from '../model/market-data.ts';
import {
  type BatchSource,
  batchesSource,
  Merge,
  primed,
  RecordDispatcher,
  Reorder,
  replay,
  replayFiles,
} from './replay.ts';
import type { PumpSource } from './run-sink.ts';

const DATA = join(import.meta.dirname, '../../../shared/data');
const hasData = present(DATA, 'shared market data');

/** Rows as [key, id]; `id` goes in seq so the output can be traced back to its source row. */
type Row = [number, number];

/**
 * A source that refills ONE batch object for every chunk, as loaders do: the merge must be done with a
 * batch before asking for the next.
 */
function reusingSource(rows: readonly Row[], chunk: number, source: number): BatchSource {
  return {
    async *[Symbol.asyncIterator]() {
      const b = new EventBatch(chunk);
      for (let i = 0; i < rows.length; i += chunk) {
        b.clear();
        for (const [k, id] of rows.slice(i, i + chunk))
          b.push(RecordKind.TRADE, source, k, k + 1, id, 1, 0, 0, 0, 0, id);
        yield b;
      }
    },
  };
}

type Traced = [number, number, number];

/**
 * Pumps a stream (rows handed over in place), copying each row's (instrument, seq, tsEvent) out during the call;
 * also the row count at each batch end.
 */
async function drainPump(
  stream: PumpSource,
  stopAfter = Number.POSITIVE_INFINITY,
): Promise<{ rows: Traced[]; ends: number[] }> {
  const rows: Traced[] = [];
  const ends: number[] = [];
  await stream.pump({
    rows(b, from, to) {
      for (let i = from; i < to; i++) rows.push([b.instrument[i]!, b.seq[i]!, b.tsEvent[i]!]);
    },
    batchEnd() {
      ends.push(rows.length);
      return ends.length < stopAfter;
    },
  });
  return { rows, ends };
}

/** Drains a stream, copying each row's (instrument, seq, tsEvent) out before the batch is reused. */
async function drain(stream: AsyncIterable<EventBatch>): Promise<[number, number, number][]> {
  const out: [number, number, number][] = [];
  for await (const b of stream)
    for (let i = 0; i < b.length; i++) out.push([b.instrument[i]!, b.seq[i]!, b.tsEvent[i]!]);
  return out;
}

const sortedKeys = fc
  .array(fc.integer({ min: 0, max: 20 }), { maxLength: 60 })
  .map((a) => a.sort((x, y) => x - y));

describe('Merge', () => {
  it('is a stable k-way merge: key, then source order, then row order (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(sortedKeys, fc.integer({ min: 1, max: 7 })), { minLength: 1, maxLength: 5 }),
        fc.integer({ min: 1, max: 16 }),
        async (specs, outSize) => {
          let id = 0;
          const sources = specs.map(([keys]) => keys.map((k): Row => [k, id++]));
          const merge = new Merge(
            sources.map((rows, s) => reusingSource(rows, specs[s]![1], s)),
            { batchSize: outSize },
          );
          const got = await drain(merge);
          const expected = sources
            .flatMap((rows, s) => rows.map(([k, rid], r) => ({ k, s, r, rid })))
            .sort((x, y) => x.k - y.k || x.s - y.s || x.r - y.r)
            .map((x): [number, number, number] => [x.s, x.rid, x.k]);
          expect(got).toEqual(expected);
          expect(merge.stats.events).toBe(expected.length);
          expect(merge.stats.outOfOrder).toBe(0);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('hands a batch over without copying when nothing else competes', async () => {
    const b = new EventBatch(4);
    for (let i = 0; i < 4; i++) b.push(RecordKind.TRADE, 0, i, i, 1, 1);
    const seen: EventBatch[] = [];
    for await (const x of new Merge([batchesSource([b])])) seen.push(x);
    expect(seen).toEqual([b]);
    expect(seen[0]).toBe(b);
  });

  it('counts a source going backwards and keeps its rows in source order', async () => {
    const merge = new Merge([
      reusingSource(
        [
          [5, 0],
          [3, 1],
          [9, 2],
        ],
        2,
        0,
      ),
      reusingSource([[4, 3]], 1, 1),
    ]);
    const got = await drain(merge);
    expect(got.map((r) => r[1])).toEqual([3, 0, 1, 2]);
    expect(merge.stats.outOfOrder).toBe(1);
  });

  it('orders by tsInit on request', async () => {
    const a = new EventBatch(2);
    a.push(RecordKind.QUOTE, 0, 100, 5, 1, 1, 1, 1, 0, 0, 0);
    const b = new EventBatch(2);
    b.push(RecordKind.QUOTE, 1, 50, 6, 1, 1, 1, 1, 0, 0, 1);
    const got = await drain(new Merge([batchesSource([a]), batchesSource([b])], { orderBy: 'tsInit' }));
    expect(got.map((r) => r[0])).toEqual([0, 1]);
  });

  it('closes every source when the consumer stops early', async () => {
    let closed = 0;
    const source = (): BatchSource => ({
      async *[Symbol.asyncIterator]() {
        try {
          const b = new EventBatch(1);
          for (let i = 0; i < 100; i++) {
            b.clear();
            b.push(RecordKind.TRADE, 0, i, i, 1, 1);
            yield b;
          }
        } finally {
          closed++;
        }
      },
    });
    for await (const _ of new Merge([source(), source()], { batchSize: 4 })) break;
    expect(closed).toBe(2);
  });

  it('pumps the same rows in place, with the same batch ends as iteration, primed or not (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(sortedKeys, fc.integer({ min: 1, max: 7 })), { minLength: 1, maxLength: 5 }),
        fc.integer({ min: 1, max: 16 }),
        fc.boolean(),
        async (specs, outSize, prime) => {
          let id = 0;
          const sources = specs.map(([keys]) => keys.map((k): Row => [k, id++]));
          const merge = () =>
            new Merge(
              sources.map((rows, s) => reusingSource(rows, specs[s]![1], s)),
              { batchSize: outSize },
            );
          const rows: Traced[] = [];
          const ends: number[] = [];
          for await (const b of merge()) {
            for (let i = 0; i < b.length; i++) rows.push([b.instrument[i]!, b.seq[i]!, b.tsEvent[i]!]);
            ends.push(rows.length);
          }
          const m = merge();
          if (prime && rows.length === 0) return;
          const stream = prime ? await primed(m, 'test') : m;
          if (!('pump' in stream)) throw new Error('primed(Merge) must pump');
          const got = await drainPump(stream as PumpSource);
          expect(got).toEqual({ rows, ends });
          expect(m.stats.events).toBe(rows.length);
          expect(m.stats.batches).toBe(ends.length);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('stops pumping when the sink says so, and closes every source', async () => {
    let closed = 0;
    const source = (): BatchSource => ({
      async *[Symbol.asyncIterator]() {
        try {
          const b = new EventBatch(1);
          for (let i = 0; i < 100; i++) {
            b.clear();
            b.push(RecordKind.TRADE, 0, i, i, 1, 1);
            yield b;
          }
        } finally {
          closed++;
        }
      },
    });
    const got = await drainPump(new Merge([source(), source()], { batchSize: 4 }), 2);
    // Each one-row source batch precedes the other source's: handed over whole, a batch of its own.
    expect(got.ends).toEqual([1, 2]);
    expect(got.rows.map((r) => r[2])).toEqual([0, 0]);
    expect(closed).toBe(2);
  });

  it('is iterable once', async () => {
    const m = new Merge([]);
    expect(await drain(m)).toEqual([]);
    expect(() => m[Symbol.asyncIterator]()).toThrow(/once/);
  });
});

describe('Reorder', () => {
  it('sorts a stream whose displacement stays inside the window, stably (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 1000 }), fc.integer({ min: 0, max: 30 })), {
          maxLength: 200,
        }),
        fc.integer({ min: 1, max: 9 }),
        fc.integer({ min: 4, max: 64 }),
        async (raw, chunk, maxRows) => {
          // Arrival order: by base time; the key jitters up to 30 below it (within the 50 window).
          const rows: Row[] = raw
            .map(([t, j], i) => ({ t, key: t - j, i }))
            .sort((x, y) => x.t - y.t || x.i - y.i)
            .map((x, n): Row => [x.key, n]);
          const r = new Reorder(reusingSource(rows, chunk, 0), {
            windowMicros: 50,
            maxRows: 1024,
            batchSize: maxRows,
          });
          const got = await drain(r);
          const expected = rows
            .map(([k, id], n) => ({ k, id, n }))
            .sort((x, y) => x.k - y.k || x.n - y.n)
            .map((x) => x.id);
          expect(got.map((g) => g[1])).toEqual(expected);
          expect(r.stats.late).toBe(0);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('takes a batch as it takes the same rows one by one: runs of equal keys go in whole (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.tuple(
            fc.integer({ min: 0, max: 40 }),
            fc.integer({ min: 0, max: 60 }),
            fc.integer({ min: 1, max: 12 }),
          ),
          { maxLength: 60 },
        ),
        fc.integer({ min: 1, max: 64 }),
        fc.integer({ min: 1, max: 9 }),
        fc.integer({ min: 1, max: 80 }),
        fc.integer({ min: 0, max: 40 }),
        async (messages, chunk, outSize, maxRows, window) => {
          // Messages arrive in time order, each a run of rows with one key up to 60 behind its arrival time.
          const rows: Row[] = [];
          let t = 0;
          for (const [dt, behind, n] of messages) {
            t += dt;
            for (let k = 0; k < n; k++) rows.push([t - behind, rows.length]);
          }
          const run = async (size: number) => {
            const r = new Reorder(reusingSource(rows, size, 0), {
              windowMicros: window,
              maxRows,
              batchSize: outSize,
            });
            return { rows: await drain(r), late: r.stats.late };
          };
          expect(await run(chunk)).toEqual(await run(1));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('never drops rows: a bounded buffer sends early and counts late rows', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 0, max: 100 }), { maxLength: 150 }),
        fc.integer({ min: 1, max: 16 }),
        async (keys, maxRows) => {
          const rows = keys.map((k, i): Row => [k, i]);
          const r = new Reorder(reusingSource(rows, 5, 0), { windowMicros: 10, maxRows, batchSize: 3 });
          const got = await drain(r);
          expect(got.map((g) => g[1]).sort((a, b) => a - b)).toEqual(rows.map((x) => x[1]));
          let backwards = 0;
          for (let i = 1; i < got.length; i++) if (got[i]![2] < got[i - 1]![2]) backwards++;
          if (backwards > 0) expect(r.stats.late).toBeGreaterThan(0);
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('RecordDispatcher', () => {
  it('reads every kind into one reused record per kind', () => {
    const b = new EventBatch(8);
    b.push(RecordKind.QUOTE, 3, 10, 11, 100, 2, 101, 3, 0, 0, 7);
    b.push(RecordKind.TRADE, 3, 12, 13, 100, 5, 1, 0, 0, 0, 99);
    b.push(RecordKind.DELTA, 3, 14, 15, 99, 0, 2, 4, 0, 0, 8);
    b.push(RecordKind.BAR, 3, 60, 61, 1, 4, 0, 2, 9, 60, 0);
    b.push(RecordKind.MARK_PRICE, 3, 16, 17, 100, 101);
    b.push(RecordKind.FUNDING_RATE, 3, 18, 19, 10_000, 28_800);
    b.push(RecordKind.QUOTE, 4, 20, 21, 200, 2, 201, 3, 0, 0, 9);
    const got: string[] = [];
    const quotes: object[] = [];
    const d = new RecordDispatcher({
      onQuote(q) {
        quotes.push(q);
        got.push(`q${q.instrumentId}:${q.bidPx}/${q.askPx}#${q.sequence}`);
      },
      onTrade: (t) => got.push(`t${t.px}x${t.qty}:${t.aggressor}#${t.tradeId}`),
      onDelta: (x) => got.push(`d${x.side}:${x.px}x${x.qty}f${x.flags}`),
      onBar: (x) => got.push(`b${x.open}-${x.close}@${x.tsClose}-${x.tsOpen}`),
      onMark: (m) => got.push(`m${m.px}/${m.indexPx}`),
      onFunding: (f) => got.push(`f${f.rate}@${f.nextFundingTime}`),
    });
    d.onBatch(b);
    expect(got).toEqual([
      'q3:100/101#7',
      't100x5:1#99',
      'd2:99x0f4',
      'b1-2@60-0',
      'm100/101',
      'f10000@28800',
      'q4:200/201#9',
    ]);
    expect(quotes[0]).toBe(quotes[1]);
  });

  it('keeps the handler object as `this` and ignores kinds without a handler', async () => {
    class Counter {
      trades = 0;
      onTrade(): void {
        this.trades++;
      }
    }
    const c = new Counter();
    const b = new EventBatch(4);
    b.push(RecordKind.TRADE, 0, 1, 1, 1, 1);
    b.push(RecordKind.QUOTE, 0, 2, 2, 1, 1, 2, 1);
    b.push(RecordKind.TRADE, 0, 3, 3, 1, 1);
    const stats = await replay(batchesSource([b]), new RecordDispatcher(c));
    expect(c.trades).toBe(2);
    expect(stats.events).toBe(3);
    expect([stats.firstTs, stats.lastTs]).toEqual([1, 3]);
  });
});

describe.skipIf(!hasData)('replayFiles on real captures (../shared/data)', () => {
  it('merges two days and two symbols of Binance spot captures in venue-time order', async () => {
    const files = ['btcusdt_20240808.gz', 'btcusdt_20240809.gz', 'ethusdt_20240808.gz'].map((f) =>
      join(DATA, 'hftbacktest/spot', f),
    );
    const registry = newInstrumentRegistry();
    const { stream, reports, reorders } = replayFiles(files, { instruments: registry });
    let n = 0;
    let last = Number.NEGATIVE_INFINITY;
    let backwards = 0;
    const perInstrument = new Map<number, number>();
    for await (const b of stream) {
      for (let i = 0; i < b.length; i++) {
        const t = b.tsEvent[i]!;
        if (t < last) backwards++;
        last = t;
        perInstrument.set(b.instrument[i]!, (perInstrument.get(b.instrument[i]!) ?? 0) + 1);
      }
      n += b.length;
    }
    const loaded = reports.reduce((s, r) => s + Object.values(r.records).reduce((a, x) => a + x, 0), 0);
    expect(n).toBe(loaded);
    expect(backwards).toBe(0);
    expect(reorders.reduce((s, r) => s + r.stats.late, 0)).toBe(0);
    expect(stream.stats.outOfOrder).toBe(0);
    expect(
      registry
        .all()
        .map((i) => i.key)
        .sort(),
    ).toEqual(['BTCUSDT.BINANCE', 'ETHUSDT.BINANCE']);
    expect(perInstrument.size).toBe(2);
  }, 120_000);
});
