// What reaches a strategy is the data, all of it: trade-only files feed the bar builder (a bar strategy on
// freqtrade's XRP/ETH trades sees the same one-minute bars freqtrade built from them), candle data samples the
// equity at its bar, and the report stays a few MB whatever the run length.

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { emptyReport } from '../data/loader.ts';
import { freqtradeFeatherLoader } from '../data/loaders/ohlcv-feather.ts';
import { newInstrumentRegistry } from '../model/instrument.ts';
import type { Bar } from '../model/market-data.ts';
import { Strategy, type Subscriptions } from '../strategy/strategy.ts';
import { openBacktestData } from './data-query.ts';
import { runBacktest } from './runner.ts';

const DATA = fileURLToPath(new URL('../../../shared/data/', import.meta.url));
const TRADES = join(DATA, 'freqtrade/XRP_ETH-trades.json.gz');
// In CI the shared data must be there: the suite then runs and fails on the missing file instead of skipping.
const real = describe.skipIf(!existsSync(TRADES) && process.env.CI === undefined);

/** Records every bar it is given, as decimal text (so two registries with different steps compare). */
class BarTape extends Strategy {
  static override readonly params = {};
  static override readonly description = 'records the one-minute bars of XRPETH';
  readonly bars: string[][] = [];
  override subscriptions(): Subscriptions {
    return { bars: [{ instrument: 'XRPETH.BINANCE', interval: '1m' }] };
  }
  override onBar(b: Bar): void {
    const inst = this.instrument('XRPETH.BINANCE');
    const px = (t: number) => inst.ticksToPrice(t);
    this.bars.push([
      String(b.tsOpen),
      px(b.open),
      px(b.high),
      px(b.low),
      px(b.close),
      inst.lotsToQty(b.volume),
    ]);
  }
}

real('trade-only data reaches the bar builder', () => {
  it('a bar strategy on XRP/ETH trades sees the one-minute bars freqtrade built from them', async () => {
    const instruments = newInstrumentRegistry();
    const data = await openBacktestData([TRADES], { instruments, catalogDir: '/nonexistent' });
    const tape = new BarTape({});
    await runBacktest({
      strategies: [{ strategy: tape }],
      instruments,
      data: data.data,
      dataLabel: 'XRP_ETH-trades',
      balances: [{ currency: 'ETH', amount: '100' }],
    });
    const reg = newInstrumentRegistry();
    const want: string[][] = [];
    const file = join(DATA, 'freqtrade/XRP_ETH-1m.feather');
    for await (const b of freqtradeFeatherLoader.load(file, { instruments: reg }, emptyReport(file))) {
      for (let i = 0; i < b.length; i++) {
        const inst = reg.require(b.instrument[i] as never);
        want.push([
          String(b.seq[i]),
          inst.ticksToPrice(b.a[i]!),
          inst.ticksToPrice(b.b[i]!),
          inst.ticksToPrice(b.c[i]!),
          inst.ticksToPrice(b.d[i]!),
          inst.lotsToQty(b.e[i]!),
        ]);
      }
    }
    expect(want).toHaveLength(2_469);
    // Every bar but the last, still open when the trades end (a bar is published once closed).
    expect(tape.bars).toHaveLength(2_468);
    expect(tape.bars).toEqual(want.slice(0, 2_468));
  }, 60_000);
});
