// The real check of bar aggregation: freqtrade built XRP_ETH-1m/-5m.feather from XRP_ETH-trades (README §3),
// so aggregating the same trades here must give the same bars, field for field.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { present } from '../core/test-resources.ts';
import { newInstrumentRegistry } from '../model/instrument.ts';
import { type Bar, EventBatch } from '../model/market-data.ts';
import {
  BarResampler,
  EmptyBars,
  feedTrades,
  MICROS_PER_MINUTE,
  TickBarAggregator,
  TimeBarAggregator,
  VolumeBarAggregator,
} from './bars.ts';
import { emptyReport } from './loader.ts';
import { freqtradeFeatherLoader } from './loaders/ohlcv-feather.ts';
import { freqtradeTradesJsonLoader } from './loaders/trades-json.ts';

// src/data -> the repository root is two levels up; shared/ sits beside the repository.
const DATA = fileURLToPath(new URL('../../../shared/data/freqtrade/', import.meta.url));
const haveData = present(join(DATA, 'XRP_ETH-trades.json.gz'), 'freqtrade trades');
if (!haveData) console.warn(`bar aggregation check against freqtrade skipped: ${DATA} not found`);

type B = [tsOpen: number, o: number, h: number, l: number, c: number, v: number];
const MIN = MICROS_PER_MINUTE;

describe.skipIf(!haveData)('bars from XRP/ETH trades vs freqtrade', () => {
  const reg = newInstrumentRegistry();

  async function trades(): Promise<EventBatch> {
    const all = new EventBatch(20_000);
    for await (const b of freqtradeTradesJsonLoader.load(
      join(DATA, 'XRP_ETH-trades.json.gz'),
      { instruments: reg },
      emptyReport('t'),
    )) {
      for (let i = 0; i < b.length; i++) all.copyRow(b, i);
    }
    return all;
  }

  async function feather(name: string): Promise<B[]> {
    const out: B[] = [];
    for await (const b of freqtradeFeatherLoader.load(
      join(DATA, name),
      { instruments: reg },
      emptyReport(name),
    )) {
      for (let i = 0; i < b.length; i++) out.push([b.seq[i]!, b.a[i]!, b.b[i]!, b.c[i]!, b.d[i]!, b.e[i]!]);
    }
    return out;
  }

  const row = (b: Bar): B => [b.tsOpen, b.open, b.high, b.low, b.close, b.volume];

  it('12,477 trades -> 2,469 one-minute and 706 five-minute bars, identical to freqtrade (all fields)', async () => {
    const t = await trades();
    expect(t.length).toBe(12_477);
    for (const [m, file, count] of [
      [1, 'XRP_ETH-1m.feather', 2469],
      [5, 'XRP_ETH-5m.feather', 706],
    ] as const) {
      const ours: B[] = [];
      let lookAhead = 0;
      let now = 0;
      const agg = new TimeBarAggregator(m * MIN, (b) => {
        if (b.tsInit < b.tsClose || b.tsClose > now) lookAhead++;
        ours.push(row(b));
      });
      for (let i = 0; i < t.length; i++) {
        now = t.tsEvent[i]!;
        agg.update(now, t.a[i]!, t.b[i]!);
      }
      // The last bar closes only once time passes its end.
      expect(ours.length).toBe(count - 1);
      now = Number.MAX_SAFE_INTEGER;
      agg.onTime(now);
      expect(lookAhead).toBe(0);
      const theirs = await feather(file);
      expect(theirs.length).toBe(count);
      expect(ours).toEqual(theirs);
    }
  });

  it('the 1 m feather resampled to 5 m equals the 5 m feather (706 bars)', async () => {
    const out: B[] = [];
    const r = new BarResampler(5 * MIN, (b) => out.push(row(b)), { sourceIntervalMicros: MIN });
    for await (const b of freqtradeFeatherLoader.load(
      join(DATA, 'XRP_ETH-1m.feather'),
      { instruments: reg },
      emptyReport('1m'),
    )) {
      for (let i = 0; i < b.length; i++)
        r.update(b.seq[i]!, b.tsEvent[i]!, b.tsInit[i]!, b.a[i]!, b.b[i]!, b.c[i]!, b.d[i]!, b.e[i]!);
    }
    r.onTime(Number.MAX_SAFE_INTEGER);
    expect(out).toEqual(await feather('XRP_ETH-5m.feather'));
  });

  it('FLAT 1 m bars fill the minutes without trades: one bar per minute from first to last', async () => {
    const t = await trades();
    const ours: B[] = [];
    const agg = new TimeBarAggregator(MIN, (b) => ours.push(row(b)), { empty: EmptyBars.FLAT });
    feedTrades(agg, t);
    agg.onTime(t.tsEvent[t.length - 1]! + MIN);
    const span = (ours.at(-1)![0] - ours[0]![0]) / MIN + 1;
    expect(ours.length).toBe(span);
    const flats = ours.filter((b) => b[5] === 0);
    expect(ours.length - flats.length).toBe(2469);
  });

  it('tick and volume bars on the real trades: exact boundaries and totals', async () => {
    const t = await trades();
    const ticks: [number, number, number][] = [];
    const tick = new TickBarAggregator(100, (b) => ticks.push([b.tsOpen, b.tsClose, b.volume]));
    feedTrades(tick, t);
    expect(ticks.length).toBe(124); // floor(12,477 / 100)
    let vol = 0;
    for (let i = 0; i < 100; i++) vol += t.b[i]!;
    expect(ticks[0]).toEqual([t.tsEvent[0], t.tsEvent[99], vol]);
    expect(ticks[123]![1]).toBe(t.tsEvent[12_399]);
    let total = 0;
    for (let i = 0; i < t.length; i++) total += t.b[i]!;
    const vols: number[] = [];
    const vbars = new VolumeBarAggregator(10_000, (b) => vols.push(b.volume));
    feedTrades(vbars, t);
    expect(vols.length).toBe(Math.floor(total / 10_000));
    expect(vols.every((v) => v === 10_000)).toBe(true);
  });
});
