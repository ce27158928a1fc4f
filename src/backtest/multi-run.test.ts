import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { present, SHARED_DATA } from '../core/test-resources.ts';
import { Catalog } from '../data/catalog.ts';
import { newInstrumentRegistry } from '../model/instrument.ts';
import { BUILTIN_STRATEGIES } from '../strategy/builtin/index.ts';
import { Strategy, type Subscriptions, text } from '../strategy/index.ts';
import { openBacktestData } from './data-query.ts';
import type { Trade } from './recorder.ts';
import { renderHtml } from './report-html.ts';
import { runBacktest } from './runner.ts';
import {
  dataInstruments,
  entryName,
  planStrategies,
  routeParams,
  type StrategyEntry,
} from './strategy-plan.ts';

const ETH = `${SHARED_DATA}freqtrade/ETH_BTC-5m.feather`;
const LTC = `${SHARED_DATA}freqtrade/LTC_BTC-5m.feather`;
const ADA = `${SHARED_DATA}freqtrade/ADA_BTC-5m.feather`;
const PARAMS = ['interval=5m', 'qty=1', 'fast=8', 'slow=21'];
const builtin = (spec: string): StrategyEntry => ({ spec, cls: BUILTIN_STRATEGIES[spec]! });

async function run(files: string[], entries: StrategyEntry[], params: string[], catalogDir = '/nonexistent') {
  const instruments = newInstrumentRegistry();
  const opened = await openBacktestData(files, { instruments, catalogDir });
  const strategies = planStrategies(entries, params, dataInstruments(files, instruments));
  try {
    const r = await runBacktest({
      strategies,
      instruments,
      data: opened.data,
      dataLabel: opened.label,
      balances: [{ currency: 'BTC', amount: '100' }],
    });
    return { ...r, strategies };
  } finally {
    opened.close();
  }
}

/** A trade without its run-specific numbering, for comparing runs. */
function plain(t: Trade) {
  const { id: _id, slot: _slot, instrumentId: _i, bars: _b, ...rest } = t;
  return rest;
}

describe.skipIf([ETH, LTC, ADA].some((f) => !present(f, 'freqtrade 5m candles')))(
  'several instruments and strategies in one run (freqtrade ETH/BTC and LTC/BTC 5m candles)',
  () => {
    it('runs one strategy per instrument whose results equal two single runs', async () => {
      const both = await run([ETH, LTC], [builtin('ema-cross')], PARAMS);
      expect(both.strategies.map((s) => s.strategy.name)).toEqual([
        'ema-cross[ETHBTC.BINANCE]',
        'ema-cross[LTCBTC.BINANCE]',
      ]);
      const b = both.breakdown!;
      expect(b.instruments.map((r) => r.key)).toEqual(['ETHBTC.BINANCE', 'LTCBTC.BINANCE']);
      let total = 0;
      for (const [k, file] of [ETH, LTC].entries()) {
        const single = await run([file], [builtin('ema-cross')], PARAMS);
        const key = b.instruments[k]!.key;
        // The single run trades the data's one instrument under the strategy's own name.
        expect(single.strategies[0]!.parameters['instrument']).toBe(key);
        expect(single.recording.trades.length).toBeGreaterThan(50);
        const slot = both.recording.instruments.findIndex((i) => i.key === key);
        const mine = both.recording.trades.filter((t) => t.slot === slot).map(plain);
        expect(mine).toEqual(single.recording.trades.map(plain));
        const row = b.instruments[k]!;
        expect(row.trades).toBe(single.stats.trades);
        expect(row.netPnl).toBe(single.recording.trades.reduce((s, t) => s + t.netPnl, 0));
        expect(b.strategies[k]!.fills).toBe(single.recording.fills.length);
        total += row.total;
      }
      // The combined equity is one account: its change is the instruments' totals added up.
      const eq = both.recording.curve.equity;
      expect(eq[eq.length - 1]! - eq[0]!).toBe(total);
    });

    it('takes the instruments from a catalog query naming several symbols (and not the others it holds)', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'bot4-multi-catalog-'));
      try {
        const cat = Catalog.open(dir);
        try {
          for (const f of [ETH, LTC, ADA]) await cat.importFile(f);
        } finally {
          cat.close();
        }
        const q = await run(['catalog:ETHBTC,LTCBTC/bars'], [builtin('ema-cross')], PARAMS, dir);
        expect(q.strategies.map((s) => s.strategy.name)).toEqual([
          'ema-cross[ETHBTC.BINANCE]',
          'ema-cross[LTCBTC.BINANCE]',
        ]);
        const files = await run([ETH, LTC], [builtin('ema-cross')], PARAMS);
        expect(q.breakdown!.instruments).toEqual(files.breakdown!.instruments);
        expect(q.fingerprint).toBe(files.fingerprint);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it('runs several strategies on one account, each credited with its own fills', async () => {
      const r = await run(
        [ETH],
        [builtin('ema-cross'), builtin('mean-reversion')],
        ['interval=5m', 'qty=1', '1.fast=8', '1.slow=21', 'mean-reversion.period=30'],
      );
      expect(r.strategies.map((s) => s.strategy.name)).toEqual(['ema-cross', 'mean-reversion']);
      expect(r.strategies[0]!.parameters['fast']).toBe(8);
      expect(r.strategies[1]!.parameters['period']).toBe(30);
      const s = r.breakdown!.strategies;
      expect(s[0]!.fills).toBeGreaterThan(10);
      expect(s[1]!.fills).toBeGreaterThan(10);
      // Every fill belongs to one strategy; their realised PnL and fees add up to the account's.
      const f = r.recording.fills;
      expect(s[0]!.fills + s[1]!.fills).toBe(f.length);
      let realised = 0;
      let fees = 0;
      for (let i = 0; i < f.length; i++) {
        realised += f.realised[i]!;
        fees += f.fee[i]!;
      }
      expect(s[0]!.realised + s[1]!.realised).toBe(realised);
      expect(s[0]!.fees + s[1]!.fees).toBe(fees);
      expect(r.report.breakdown).toEqual(r.breakdown);
      expect(s[1]!.parameters['period']).toBe(30);
      expect(s[0]!.parameters['instrument']).toBe('ETHBTC.BINANCE');
      expect(r.report.meta.strategy).toBe('ema-cross, mean-reversion');
      const html = renderHtml(r.report);
      expect(html).toContain('<h2>By strategy</h2>');
      expect(html).toContain('<td class="l">mean-reversion</td>');
    });

    it('gives a portfolio strategy (an `instruments` parameter) every instrument of the data, once', async () => {
      const P = { instruments: text({ default: '', description: 'instruments' }) };
      class Both extends Strategy<typeof P> {
        static override readonly params = P;
        seen = new Set<number>();
        override subscriptions(): Subscriptions {
          return { bars: this.params.instruments.split(',').map((i) => ({ instrument: i, interval: '5m' })) };
        }
        override onBar(bar: { instrumentId: number }): void {
          this.seen.add(bar.instrumentId);
        }
      }
      const r = await run([ETH, LTC], [{ spec: 'both.ts', cls: Both }], []);
      expect(r.strategies.length).toBe(1);
      expect(r.strategies[0]!.parameters['instruments']).toBe('ETHBTC.BINANCE,LTCBTC.BINANCE');
      expect((r.strategies[0]!.strategy as Both).seen.size).toBe(2);
    });
  },
);

describe('--param routing among several strategies', () => {
  const entries = [
    builtin('ema-cross'),
    builtin('mean-reversion'),
    { spec: 'dir/my-strat.ts:Mine', cls: BUILTIN_STRATEGIES['ema-cross']! },
  ];
  it('sends a key to every strategy declaring it, N.key and NAME.key to one', () => {
    expect(entryName('dir/my-strat.ts:Mine')).toBe('my-strat');
    expect(routeParams(entries, ['qty=2', '2.period=9', 'my-strat.fast=3', 'ema-cross.slow=40'])).toEqual([
      ['qty=2', 'slow=40'],
      ['qty=2', 'period=9'],
      ['qty=2', 'fast=3'],
    ]);
  });
  it('names a key no strategy declares, and a prefix that names no strategy', () => {
    expect(() => routeParams(entries, ['nope=1'])).toThrow(/no --strategy has a parameter 'nope'/);
    expect(() => routeParams(entries, ['4.fast=1'])).toThrow(/'4' names no --strategy/);
    expect(() => routeParams(entries, ['other.fast=1'])).toThrow(/'other' names no --strategy/);
  });
});
