import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { present, SHARED_DATA } from '../core/test-resources.ts';
import { newInstrumentRegistry } from '../model/instrument.ts';
import type { Bar } from '../model/market-data.ts';
import { Strategy, type Subscriptions, text } from '../strategy/index.ts';
import { openBacktestData } from './data-query.ts';
import { runBacktest } from './runner.ts';

const FILE = `${SHARED_DATA}nautilus_trader/bars/btc-perp-20211231-20220201_1m.csv`;
const MIN = 60_000_000;
const SLOT = 15 * MIN;

const PARAMS = { instrument: text({ default: 'BTC-PERP.FTX', description: 'instrument' }) };

/** Keeps every bar it gets, 1m and 15m, as plain rows. */
class KeepBars extends Strategy<typeof PARAMS> {
  static override readonly params = PARAMS;
  readonly bars = new Map<number, number[][]>();
  override subscriptions(): Subscriptions {
    const i = this.params.instrument;
    return {
      bars: [
        { instrument: i, interval: '1m' },
        { instrument: i, interval: '15m' },
      ],
    };
  }
  override onBar(b: Bar): void {
    let list = this.bars.get(b.interval);
    if (list === undefined) {
      list = [];
      this.bars.set(b.interval, list);
    }
    list.push([b.tsOpen, b.tsClose, b.open, b.high, b.low, b.close, b.volume, this.now]);
  }
}

describe.skipIf(!present(FILE, 'FTX BTC-PERP 1m candles'))('bars resampled from recorded candles', () => {
  it('gives a 15m subscriber the bars a reference aggregation of the 1m file makes, at their close', async () => {
    const instruments = newInstrumentRegistry();
    const opened = await openBacktestData([FILE], { instruments, catalogDir: '/nonexistent' });
    const strategy = new KeepBars();
    await runBacktest({
      strategies: [{ strategy }],
      instruments,
      data: opened.data,
      dataLabel: opened.label,
      balances: [{ currency: 'USD', amount: '100000' }],
    });
    const inst = instruments.all().find((i) => i.key === 'BTC-PERP.FTX')!;
    const tick = Number(inst.tickSize.text);

    // Reference: the file's rows grouped by 15-minute slot, straight from the text.
    const groups = new Map<number, number[]>();
    const rows = readFileSync(FILE, 'utf8').trim().split('\n').slice(1);
    for (const line of rows) {
      const [t, o, h, l, c] = line.split(',');
      const ts = Date.parse(`${t!.slice(0, 19).replace(' ', 'T')}Z`) * 1000;
      const px = [o, h, l, c].map((x) => Math.round(Number(x) / tick));
      const slot = ts - (ts % SLOT);
      const g = groups.get(slot);
      if (g === undefined) groups.set(slot, [slot, slot + SLOT, px[0]!, px[1]!, px[2]!, px[3]!]);
      else {
        g[3] = Math.max(g[3]!, px[1]!);
        g[4] = Math.min(g[4]!, px[2]!);
        g[5] = px[3]!;
      }
    }
    const reference = [...groups.values()].slice(0, -1); // the last slot never closes: the data ends inside it

    const m1 = strategy.bars.get(MIN)!;
    const m15 = strategy.bars.get(SLOT)!;
    expect(m1.length).toBe(rows.length);
    expect(m15.length).toBe(reference.length);
    expect(m15.length).toBeGreaterThan(2900);
    expect(m15.map((b) => b.slice(0, 6))).toEqual(reference);
    // Volume: the sum of the slot's 1m bars (lots, as the loader gave them); delivered at the slot's end.
    const vol = new Map<number, number>();
    for (const b of m1) vol.set(b[0]! - (b[0]! % SLOT), (vol.get(b[0]! - (b[0]! % SLOT)) ?? 0) + b[6]!);
    for (const b of m15) {
      expect(b[6]).toBe(vol.get(b[0]!));
      expect(b[7]).toBe(b[1]); // strategies see the 15m bar when its last minute closes, not later
    }
  });
});

const XRP = `${SHARED_DATA}freqtrade/`;

/** 15m bars a strategy gets from `file` (trades or 1m candles), as [tsOpen, open, high, low, close] decimal text. */
async function strategyBars(file: string): Promise<string[][]> {
  const instruments = newInstrumentRegistry();
  const opened = await openBacktestData([file], { instruments, catalogDir: '/nonexistent' });
  const strategy = new KeepBars({ instrument: 'XRPETH' });
  await runBacktest({
    strategies: [{ strategy }],
    instruments,
    data: opened.data,
    dataLabel: opened.label,
    balances: [{ currency: 'ETH', amount: '100' }],
  });
  const inst = instruments.all()[0]!;
  return (strategy.bars.get(SLOT) ?? []).map((b) => [
    String(b[0]),
    ...b.slice(2, 6).map((x) => inst.ticksToPrice(x!)),
  ]);
}

describe.skipIf(!present(`${XRP}XRP_ETH-trades.json.gz`, 'freqtrade XRP/ETH trades and candles'))(
  '15m bars from trades and from 1m candles (freqtrade XRP/ETH)',
  () => {
    it("both equal the 15m aggregation of freqtrade's own 5m candles (built from the same trades)", async () => {
      // Reference: freqtrade's 5m candles, three to a slot, straight from the loader's rows.
      const reg = newInstrumentRegistry();
      const five = await openBacktestData([`${XRP}XRP_ETH-5m.feather`], {
        instruments: reg,
        catalogDir: '/x',
      });
      const groups = new Map<number, number[]>();
      for await (const b of five.data) {
        for (let i = 0; i < b.length; i++) {
          const ts = b.seq[i]!;
          const slot = ts - (ts % SLOT);
          const g = groups.get(slot);
          if (g === undefined) groups.set(slot, [slot, b.a[i]!, b.b[i]!, b.c[i]!, b.d[i]!]);
          else {
            g[2] = Math.max(g[2]!, b.b[i]!);
            g[3] = Math.min(g[3]!, b.c[i]!);
            g[4] = b.d[i]!;
          }
        }
      }
      const inst = reg.all()[0]!;
      const reference = [...groups.values()]
        .slice(0, -1)
        .map((g) => [String(g[0]), ...g.slice(1).map((x) => inst.ticksToPrice(x!))]);
      expect(reference.length).toBeGreaterThan(230);
      expect(await strategyBars(`${XRP}XRP_ETH-trades.json.gz`)).toEqual(reference);
      expect(await strategyBars(`${XRP}XRP_ETH-1m.feather`)).toEqual(reference);
    });
  },
);
