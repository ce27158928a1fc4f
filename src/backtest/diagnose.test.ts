import { describe, expect, it } from 'vitest';
import { present, SHARED_DATA } from '../core/test-resources.ts';
import { primedReplay } from '../data/replay.ts';
import { newInstrumentRegistry } from '../model/instrument.ts';
import { EmaCross } from '../strategy/builtin/ema-cross.ts';
import { DEMO_INSTRUMENT, demoMarket } from './demo-market.ts';
import { intervalText } from './diagnose.ts';
import { runBacktest } from './runner.ts';

const HOUR = 3_600_000_000;
const DAILY = `${SHARED_DATA}basana/binance_btcusdt_day_2020.csv`;

async function demo(params: ConstructorParameters<typeof EmaCross>[0], hours = 2) {
  const instruments = newInstrumentRegistry();
  const inst = instruments.add(DEMO_INSTRUMENT);
  return runBacktest({
    strategies: [{ strategy: new EmaCross(params) }],
    instruments,
    data: demoMarket(inst.id, { seed: 3, duration: hours * HOUR }),
    dataLabel: 'demo',
    balances: [{ currency: 'USDT', amount: '10000' }],
  });
}

describe('a run without trades says why', () => {
  it('names the risk denial when the size is beyond the balance (qty=10 on the demo)', async () => {
    const r = await demo({ instrument: 'BTCUSDT', qty: 10 });
    expect(r.recording.fills.length).toBe(0);
    expect(r.notes[1]).toMatch(
      /^no trades: of [\d,]+ market-data records, EmaCross received [\d,]+ bars \(1m BTCUSDT\.DEMO\); its warm-up completed$/,
    );
    expect(r.notes[0]).toMatch(
      /^risk denied (\d+) order\(s\): \1 insufficient margin \(first: order needs margin .* USDT but only 10,000 USDT is available \(risk.balance.enabled, BTCUSDT\)\)$/,
    );
    expect(r.notes).not.toContain('the strategy placed no order');
    expect(r.report.notes).toEqual(r.notes);
  });

  it('says the warm-up did not complete', async () => {
    const r = await demo({ instrument: 'BTCUSDT', fast: 10, slow: 200, interval: '1h' }, 3);
    expect(r.notes[0]).toMatch(
      /received [23] bars \(1h BTCUSDT\.DEMO\); its warm-up did not complete \(it needs 200\)/,
    );
    expect(r.notes).toContain('the strategy placed no order');
  });

  it('has nothing to say when the run traded', async () => {
    const r = await demo({ instrument: 'BTCUSDT', fast: 3, slow: 8 });
    expect(r.recording.fills.length).toBeGreaterThan(0);
    expect(r.notes).toEqual([]);
  });

  it('names intervals', () => {
    expect(intervalText(60_000_000)).toBe('1m');
    expect(intervalText(86_400_000_000)).toBe('1d');
    expect(intervalText(4 * HOUR)).toBe('4h');
    expect(intervalText(1500)).toBe('1500 µs');
  });

  it.skipIf(!present(DAILY, 'basana daily candles'))(
    "says when the data's bars are not the interval the strategy subscribes to",
    async () => {
      const instruments = newInstrumentRegistry();
      const data = await primedReplay([DAILY], { instruments });
      const r = await runBacktest({
        strategies: [{ strategy: new EmaCross({ instrument: instruments.all()[0]!.symbol, qty: 0.01 }) }],
        instruments,
        data,
        dataLabel: DAILY,
        balances: [{ currency: 'USDT', amount: '100000' }],
      });
      expect(r.notes[0]).toMatch(/received 0 bars \(1m /);
      expect(r.notes[1]).toMatch(
        /^EmaCross subscribes to 1m bars but the data's bars are 1d: 36[56] bars did not reach it \(set its interval parameter to 1d, or give 1m data\)$/,
      );
    },
  );
});
