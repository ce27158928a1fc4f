import { MICROS_PER_MINUTE, TickBarAggregator, TimeBarAggregator } from '../src/data/bars.ts';
import { emptyReport } from '../src/data/loader.ts';
import { freqtradeTradesJsonLoader } from '../src/data/loaders/trades-json.ts';
import { newInstrumentRegistry } from '../src/model/instrument.ts';
import type { Bar } from '../src/model/market-data.ts';
import { type BenchContext, type BenchSpec, measure, sharedDataFile } from './harness.ts';

interface Stream {
  ts: Float64Array;
  px: Float64Array;
  qty: Float64Array;
  /** Where the trades came from, for the results' `extra`. */
  source: string;
  baseTrades: number;
}

async function baseTrades(): Promise<{ ts: number[]; px: number[]; qty: number[]; source: string }> {
  const file = sharedDataFile('freqtrade/XRP_ETH-trades.json.gz');
  const ts: number[] = [];
  const px: number[] = [];
  const qty: number[] = [];
  if (file !== undefined) {
    const reg = newInstrumentRegistry();
    for await (const b of freqtradeTradesJsonLoader.load(file, { instruments: reg }, emptyReport(file))) {
      for (let i = 0; i < b.length; i++) {
        ts.push(b.tsEvent[i]!);
        px.push(b.a[i]!);
        qty.push(b.b[i]!);
      }
    }
    return { ts, px, qty, source: 'freqtrade XRP_ETH-trades.json.gz (real), looped' };
  }
  // No shared data: a random walk with the same shape (about one trade every 17 s, 1-tick moves, sizes 1-1000).
  let seed = 42;
  const rnd = (): number => {
    seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
    return seed / 2_147_483_648;
  };
  let t = 1_570_752_011_620_000;
  let p = 141_342;
  for (let i = 0; i < 12_477; i++) {
    t += Math.floor(rnd() * 34_000_000);
    p += rnd() < 0.5 ? -1 : 1;
    ts.push(t);
    px.push(p);
    qty.push(1 + Math.floor(rnd() * 1000));
  }
  return { ts, px, qty, source: 'synthetic random walk (shared data not found)' };
}

let cached: Stream | undefined;

/** About 1M trades: the base list repeated, each pass shifted past the previous one by its span + 1 minute. */
async function stream(): Promise<Stream> {
  if (cached !== undefined) return cached;
  const base = await baseTrades();
  const n = base.ts.length;
  const passes = Math.ceil(1_000_000 / n);
  const span = base.ts[n - 1]! - base.ts[0]! + MICROS_PER_MINUTE;
  const ts = new Float64Array(n * passes);
  const px = new Float64Array(n * passes);
  const qty = new Float64Array(n * passes);
  for (let p = 0; p < passes; p++) {
    for (let i = 0; i < n; i++) {
      const k = p * n + i;
      ts[k] = base.ts[i]! + p * span;
      px[k] = base.px[i]!;
      qty[k] = base.qty[i]!;
    }
  }
  cached = { ts, px, qty, source: base.source, baseTrades: n };
  return cached;
}

/** One aggregator class per loop, so the call site stays monomorphic as it would in the engine. */
async function runTime(
  ctx: BenchContext,
): Promise<{ perSecond: number; m: Awaited<ReturnType<typeof measure>>; bars: number; s: Stream }> {
  const s = await stream();
  const { ts, px, qty } = s;
  const len = ts.length;
  // A typed-array accumulator: a captured `let` double would be re-boxed on every write.
  const acc = new Float64Array(2);
  const onBar = (b: Bar): void => {
    acc[0]! += b.close;
    acc[1]!++;
  };
  const agg = new TimeBarAggregator(MICROS_PER_MINUTE, onBar);
  // Replays continue where the last call stopped; each wrap of the stream moves time on by its whole span.
  const cur = new Float64Array(2); // [index, time offset]
  const wrapShift = ts[len - 1]! - ts[0]! + MICROS_PER_MINUTE;
  const loop = (n: number): number => {
    let i = cur[0]!;
    let off = cur[1]!;
    for (let k = 0; k < n; k++) {
      agg.update(ts[i]! + off, px[i]!, qty[i]!);
      if (++i === len) {
        i = 0;
        off += wrapShift;
      }
    }
    cur[0] = i;
    cur[1] = off;
    return acc[0]!;
  };
  const m = await measure(ctx, loop);
  return { perSecond: 1e9 / m.median, m, bars: acc[1]!, s };
}

export const benches: BenchSpec[] = [
  {
    id: 'data.bars.time_1m_from_trades',
    title: 'TimeBarAggregator: real trades into 1-minute bars (emitted on close, reused Bar)',
    unit: 'trades/s',
    better: 'higher',
    target: 20_000_000,
    targetSource: 'issue 4',
    async run(ctx) {
      const { perSecond, m, bars, s } = await runTime(ctx);
      return {
        main: { ...m, median: perSecond },
        extra: {
          ns_per_trade: m.median,
          bars_emitted: bars,
          stream_trades: s.ts.length,
          source: s.source,
        },
      };
    },
  },
  {
    id: 'data.bars.tick_bars',
    title: 'TickBarAggregator: real trades into 100-trade bars',
    unit: 'trades/s',
    better: 'higher',
    target: null,
    async run(ctx) {
      const s = await stream();
      const { ts, px, qty } = s;
      const len = ts.length;
      const acc = new Float64Array(2);
      const agg = new TickBarAggregator(100, (b: Bar): void => {
        acc[0]! += b.volume;
        acc[1]!++;
      });
      const cur = new Float64Array(1);
      const loop = (n: number): number => {
        let i = cur[0]!;
        for (let k = 0; k < n; k++) {
          agg.update(ts[i]!, px[i]!, qty[i]!);
          if (++i === len) i = 0;
        }
        cur[0] = i;
        return acc[0]!;
      };
      const m = await measure(ctx, loop);
      return {
        main: { ...m, median: 1e9 / m.median },
        extra: { ns_per_trade: m.median, bars_emitted: acc[1]!, source: s.source },
      };
    },
  },
];
