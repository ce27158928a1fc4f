import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { newInstrumentRegistry } from '../model/instrument.ts';
import { type Bar, EventBatch, RecordKind } from '../model/market-data.ts';
import {
  BarBatchWriter,
  BarResampler,
  EmptyBars,
  feedTrades,
  MICROS_PER_MINUTE,
  midTicks,
  QuotePrice,
  TickBarAggregator,
  TimeBarAggregator,
  ValueBarAggregator,
  VolumeBarAggregator,
  valueThreshold,
} from './bars.ts';

const MIN = MICROS_PER_MINUTE;
const SEC = 1_000_000;

type Row = [
  tsOpen: number,
  tsClose: number,
  tsInit: number,
  o: number,
  h: number,
  l: number,
  c: number,
  v: number,
];

function collector(): { rows: Row[]; handler: (b: Bar) => void } {
  const rows: Row[] = [];
  return {
    rows,
    handler: (b) => {
      rows.push([b.tsOpen, b.tsClose, b.tsInit, b.open, b.high, b.low, b.close, b.volume]);
    },
  };
}

describe('TimeBarAggregator', () => {
  it('aligns bars to epoch multiples and emits a bar only once a later trade (or the clock) passes its end', () => {
    const c = collector();
    const agg = new TimeBarAggregator(MIN, c.handler);
    const t0 = 1_570_752_000_000_000; // 2019-10-11 00:00:00 UTC
    expect(agg.update(t0 + 11 * SEC, 100, 5)).toBe(0);
    expect(agg.update(t0 + 30 * SEC, 103, 1)).toBe(0);
    expect(agg.update(t0 + 59 * SEC + 999_999, 99, 2)).toBe(0);
    expect(agg.onTime(t0 + MIN - 1)).toBe(0);
    expect(c.rows).toEqual([]);
    // A trade exactly at the boundary belongs to the next bar ([start, end)) and closes this one.
    expect(agg.update(t0 + MIN, 101, 7)).toBe(1);
    expect(c.rows).toEqual([[t0, t0 + MIN, t0 + MIN, 100, 103, 99, 99, 8]]);
    // The timer closes the second bar without a new trade, at the timer's time.
    expect(agg.onTime(t0 + 2 * MIN + 5)).toBe(1);
    expect(c.rows[1]).toEqual([t0 + MIN, t0 + 2 * MIN, t0 + 2 * MIN + 5, 101, 101, 101, 101, 7]);
    // A trade for an already published bar is late: dropped and counted.
    expect(agg.update(t0 + MIN + 3, 500, 1)).toBe(0);
    expect(agg.late).toBe(1);
    expect(agg.emitted).toBe(2);
    // A NaN time neither closes nor opens a bar.
    agg.update(t0 + 3 * MIN, 7, 1);
    expect(agg.update(Number.NaN, 8, 1)).toBe(0);
    expect(agg.late).toBe(2);
    expect(agg.emitted).toBe(2);
  });

  it('SKIP leaves empty intervals out; FLAT fills them at the last close with zero volume', () => {
    const trades: [number, number, number][] = [
      [10 * SEC, 50, 1],
      [20 * SEC, 52, 2],
      [3 * MIN + 1, 49, 4],
    ];
    const skip = collector();
    const flat = collector();
    const a = new TimeBarAggregator(MIN, skip.handler);
    const b = new TimeBarAggregator(MIN, flat.handler, { empty: EmptyBars.FLAT });
    for (const [t, p, q] of trades) {
      a.update(t, p, q);
      b.update(t, p, q);
    }
    a.onTime(5 * MIN);
    b.onTime(5 * MIN);
    expect(skip.rows).toEqual([
      [0, MIN, 3 * MIN + 1, 50, 52, 50, 52, 3],
      [3 * MIN, 4 * MIN, 5 * MIN, 49, 49, 49, 49, 4],
    ]);
    expect(flat.rows).toEqual([
      [0, MIN, 3 * MIN + 1, 50, 52, 50, 52, 3],
      [MIN, 2 * MIN, 3 * MIN + 1, 52, 52, 52, 52, 0],
      [2 * MIN, 3 * MIN, 3 * MIN + 1, 52, 52, 52, 52, 0],
      [3 * MIN, 4 * MIN, 5 * MIN, 49, 49, 49, 49, 4],
      [4 * MIN, 5 * MIN, 5 * MIN, 49, 49, 49, 49, 0],
    ]);
    // The clock alone keeps producing flat bars, each only once its interval has ended.
    expect(b.onTime(6 * MIN - 1)).toBe(0);
    expect(b.onTime(6 * MIN)).toBe(1);
  });

  it('FLAT emits nothing before the first trade (no close to repeat yet)', () => {
    const c = collector();
    const agg = new TimeBarAggregator(SEC, c.handler, { empty: EmptyBars.FLAT });
    expect(agg.onTime(100 * SEC)).toBe(0);
    expect(c.rows).toEqual([]);
  });

  it('builds quote bars from BID, ASK or MID (ties to the even tick), with zero volume', () => {
    expect(midTicks(100, 101)).toBe(100);
    expect(midTicks(101, 102)).toBe(102);
    expect(midTicks(100, 102)).toBe(101);
    for (const [mode, want] of [
      [QuotePrice.BID, [100, 103, 100, 103]],
      [QuotePrice.ASK, [101, 104, 101, 104]],
      [QuotePrice.MID, [100, 104, 100, 104]],
    ] as const) {
      const c = collector();
      const agg = new TimeBarAggregator(SEC, c.handler, { quotePrice: mode });
      agg.updateQuote(0, 100, 101);
      agg.updateQuote(500_000, 103, 104);
      agg.onTime(SEC);
      expect(c.rows).toEqual([[0, SEC, SEC, want[0], want[1], want[2], want[3], 0]]);
    }
  });

  it('rejects intervals outside 1 s .. 1 day', () => {
    expect(() => new TimeBarAggregator(999_999, () => {})).toThrow(/1 s/);
    expect(() => new TimeBarAggregator(86_400_000_001, () => {})).toThrow(/1 day/);
  });

  it('writes bars into an EventBatch as BAR rows', () => {
    const batch = new EventBatch(4);
    const w = new BarBatchWriter(batch);
    const agg = new TimeBarAggregator(SEC, w.handler, { instrumentId: 7 });
    agg.update(0, 10, 1);
    agg.update(SEC, 11, 1);
    expect(batch.length).toBe(1);
    expect(batch.kind[0]).toBe(RecordKind.BAR);
    expect(batch.instrument[0]).toBe(7);
    expect(batch.tsEvent[0]).toBe(SEC);
    expect(batch.seq[0]).toBe(0);
    expect(batch.f[0]).toBe(SEC);
    const full = new BarBatchWriter(new EventBatch(1));
    const agg2 = new TimeBarAggregator(SEC, full.handler);
    agg2.update(0, 1, 1);
    agg2.update(SEC, 1, 1);
    expect(() => agg2.update(2 * SEC, 1, 1)).toThrow(/batch full/);
  });
});

describe('tick, volume and value bars', () => {
  it('tick bars close on exactly the Nth trade', () => {
    const c = collector();
    const agg = new TickBarAggregator(3, c.handler);
    const px = [5, 7, 4, 6, 6, 9, 1];
    px.forEach((p, i) => {
      agg.update(i * 10, p, i + 1);
    });
    expect(c.rows).toEqual([
      [0, 20, 20, 5, 7, 4, 4, 6],
      [30, 50, 50, 6, 9, 6, 9, 15],
    ]);
  });

  it('volume bars hold exactly N lots, splitting the crossing trade (a big one closes several bars)', () => {
    const c = collector();
    const agg = new VolumeBarAggregator(10, c.handler);
    expect(agg.update(1, 100, 4)).toBe(0);
    expect(agg.update(2, 101, 8)).toBe(1); // 6 lots close bar 1, 2 open bar 2
    expect(agg.update(3, 99, 25)).toBe(2); // 8 close bar 2, 10 make bar 3, 7 open bar 4
    expect(c.rows).toEqual([
      [1, 2, 2, 100, 101, 100, 101, 10],
      [2, 3, 3, 101, 101, 99, 99, 10],
      [3, 3, 3, 99, 99, 99, 99, 10],
    ]);
    for (const r of c.rows) expect(r[7]).toBe(10);
  });

  it('value bars close with the first lot that reaches the threshold', () => {
    const c = collector();
    const agg = new ValueBarAggregator(1000, c.handler);
    agg.update(1, 100, 3); // 300
    agg.update(2, 120, 10); // needs ceil(700/120) = 6 lots -> 1020, 4 lots left (480)
    agg.update(3, 130, 4); // needs ceil(520/130) = 4 -> 1000 exactly
    expect(c.rows).toEqual([
      [1, 2, 2, 100, 120, 100, 120, 9],
      [2, 3, 3, 120, 130, 120, 130, 8],
    ]);
    agg.update(4, 0, 5);
    expect(agg.rejected).toBe(1);
  });

  it('states a value threshold in quote currency, exactly, for an instrument', () => {
    const reg = newInstrumentRegistry();
    const inst = reg.add({
      symbol: 'BTCUSDT',
      venue: 'BINANCE',
      kind: 0,
      base: 'BTC',
      quote: 'USDT',
      settlement: 'USDT',
      tickSize: '0.01',
      lotSize: '0.00001',
    });
    // 1,000,000 USDT / (0.01 * 0.00001) = 1e13 ticks x lots.
    expect(valueThreshold(inst, '1000000')).toBe(10_000_000_000_000);
    expect(valueThreshold(inst, '0.0000001')).toBe(1);
    expect(() => valueThreshold(inst, '-5')).toThrow(/plain positive decimal/);
  });

  it('property: every volume bar has N lots and the volumes add up', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 50 }),
        fc.array(fc.tuple(fc.integer({ min: 1, max: 1000 }), fc.integer({ min: 0, max: 200 })), {
          maxLength: 200,
        }),
        (n, trades) => {
          const c = collector();
          const agg = new VolumeBarAggregator(n, c.handler);
          let total = 0;
          trades.forEach(([p, q], i) => {
            agg.update(i, p, q);
            total += q;
          });
          expect(c.rows.length).toBe(Math.floor(total / n));
          for (const r of c.rows) expect(r[7]).toBe(n);
        },
      ),
    );
  });
});

/** Random trades: sorted times over ~40 minutes with gaps, prices and sizes as small integers. */
const tradesArb = fc
  .array(
    fc.tuple(
      fc.integer({ min: 0, max: 12 * MIN }),
      fc.integer({ min: 1, max: 10_000 }),
      fc.integer({ min: 0, max: 500 }),
    ),
    { minLength: 0, maxLength: 300 },
  )
  .map((rows) => {
    let t = 1_600_000_000_000_000 + 7 * SEC;
    return rows.map(([dt, p, q]) => {
      // Mostly small steps, sometimes a long silence, so that empty minutes and empty 5-minute slots occur.
      t += dt % 7 === 0 ? dt : dt % (20 * SEC);
      return [t, p, q] as const;
    });
  });

describe('bars of bars', () => {
  it('property: trades -> 1 m -> 5 m equals trades -> 5 m (SKIP and FLAT 5 m), emission times included', () => {
    fc.assert(
      fc.property(tradesArb, fc.boolean(), (trades, flat) => {
        const empty = flat ? EmptyBars.FLAT : EmptyBars.SKIP;
        const direct = collector();
        const chained = collector();
        const d5 = new TimeBarAggregator(5 * MIN, direct.handler, { empty });
        const r5 = new BarResampler(5 * MIN, chained.handler, { empty, sourceIntervalMicros: MIN });
        const m1 = new TimeBarAggregator(MIN, r5.onBar);
        for (const [t, p, q] of trades) {
          d5.update(t, p, q);
          m1.update(t, p, q);
        }
        const end = (trades.at(-1)?.[0] ?? 0) + 11 * MIN;
        d5.onTime(end);
        m1.onTime(end);
        r5.onTime(end);
        expect(chained.rows).toEqual(direct.rows);
        for (const r of direct.rows) {
          expect(r[1] - r[0]).toBe(5 * MIN);
          expect(r[0] % (5 * MIN)).toBe(0);
          expect(r[2]).toBeGreaterThanOrEqual(r[1]);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('property: no bar is emitted before its close time (the newest input time is past tsClose)', () => {
    fc.assert(
      fc.property(tradesArb, fc.boolean(), (trades, flat) => {
        let now = Number.NEGATIVE_INFINITY;
        let bad = 0;
        const agg = new TimeBarAggregator(
          MIN,
          (b) => {
            if (b.tsClose > now || b.tsInit < b.tsClose) bad++;
          },
          { empty: flat ? EmptyBars.FLAT : EmptyBars.SKIP },
        );
        for (const [t, p, q] of trades) {
          now = t;
          agg.update(t, p, q);
          if (q % 3 === 0) agg.onTime(t + 1);
        }
        expect(bad).toBe(0);
      }),
    );
  });

  it('refuses a target that is not a multiple of the source and drops bars that straddle slots', () => {
    expect(() => new BarResampler(5 * MIN, () => {}, { sourceIntervalMicros: 2 * MIN })).toThrow(/multiple/);
    const c = collector();
    const r = new BarResampler(5 * MIN, c.handler);
    expect(r.update(4 * MIN, 6 * MIN, 6 * MIN, 1, 1, 1, 1, 1)).toBe(0);
    expect(r.misaligned).toBe(1);
  });

  it('feedTrades reads TRADE rows of one instrument from an EventBatch', () => {
    const batch = new EventBatch(8);
    batch.push(RecordKind.TRADE, 1, 0, 0, 10, 2, 1, 0, 0, 0, 1);
    batch.push(RecordKind.TRADE, 2, 1, 1, 99, 2, 1, 0, 0, 0, 2);
    batch.push(RecordKind.QUOTE, 1, 2, 2, 9, 1, 11, 1);
    batch.push(RecordKind.TRADE, 1, SEC, SEC, 12, 3, 2, 0, 0, 0, 3);
    const c = collector();
    const agg = new TimeBarAggregator(SEC, c.handler, { instrumentId: 1 });
    expect(feedTrades(agg, batch, 1)).toBe(1);
    expect(c.rows).toEqual([[0, SEC, SEC, 10, 10, 10, 10, 2]]);
  });
});
