import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { replayFiles } from '../data/replay.ts';
import { newInstrumentRegistry } from '../model/instrument.ts';
import { QuoteTick, RecordKind } from '../model/market-data.ts';
import { runBot4 } from './cli.test-util.ts';

const _root = fileURLToPath(new URL('../..', import.meta.url));
const DATA = fileURLToPath(new URL('../../../shared/data/', import.meta.url));
const CANDLES = `${DATA}nautilus_trader/bars/btc-perp-20211231-20220201_1m.csv`;
const QUOTES = `${DATA}nautilus_trader/binance/btcusdt-quotes.parquet`;
const USDM = `${DATA}hftbacktest/usdm/btcusdt_20240808.gz`;
const ETH_BTC = `${DATA}freqtrade/ETH_BTC-5m.feather`;
const LTC_BTC = `${DATA}freqtrade/LTC_BTC-5m.feather`;
const haveData = [CANDLES, QUOTES, USDM, ETH_BTC, LTC_BTC].every((f) => existsSync(f));
const MIN = 60_000_000;

function bot4(args: string[]) {
  return runBot4(args);
}

interface Report {
  currency: { code: string };
  instruments: { key: string }[];
  parameters: Record<string, unknown>;
  notes: string[];
  stats: {
    startTs: number;
    endTs: number;
    startEquity: number;
    netProfit: number;
    slippage: number;
    fees: number;
    funding: number;
    netProfitBeforeCosts: number;
    trades: number;
  };
  fills: { ts: number[]; px: number[]; qty: number[]; side: number[] };
}

/** Runs a backtest into a fresh folder; exit 0 expected. */
function run(args: string[]): { rep: Report; stdout: string; stderr: string } {
  const out = mkdtempSync(join(tmpdir(), 'bot4-costs-'));
  const r = bot4(['backtest', ...args, '--out', out, '--no-progress']);
  expect(r.code, r.stderr).toBe(0);
  return {
    rep: JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as Report,
    stdout: r.stdout,
    stderr: r.stderr,
  };
}

/** Candle rows of the FTX file by open time (micros): open, close and volume (USD) as the file writes them. */
function candles(): Map<number, { open: number; close: number; volume: number }> {
  const rows = new Map<number, { open: number; close: number; volume: number }>();
  for (const line of readFileSync(CANDLES, 'utf8').split('\n').slice(1)) {
    const c = line.split(',');
    if (c.length < 6) continue;
    const ts = Date.parse(`${c[0]!.slice(0, 19).replace(' ', 'T')}Z`) * 1000;
    rows.set(ts, { open: Number(c[1]), close: Number(c[4]), volume: Number(c[5]) });
  }
  return rows;
}

// The fee test's setting: ema-cross 10/30, 0.5 BTC, the first 7 hours of the FTX file (24 fills).
const BASE = [
  '--data',
  CANDLES,
  '--param',
  'qty=0.5',
  '--param',
  'fast=10',
  '--param',
  'slow=30',
  '--to',
  '2022-01-01T06:00:00Z',
  '--balance',
  '100000USD',
];

describe('bad cost, sizing and range options exit 2 with one line naming the value', () => {
  it.each([
    [['--slippage', 'bps:3'], "--slippage 'bps:3': 'bps' is not a slippage model"],
    [['--slippage', 'ticks:1.5'], "ticks '1.5' must be a whole number"],
    [['--slippage', 'impact:k=x,a=0.5'], "k 'x' must be a number >= 0"],
    [['--slippage', 'impact:a=0.5'], 'impact needs k'],
    [['--slippage', 'impact:k=0.1,volume=usd'], "volume 'usd' must be base or quote"],
    [['--sizing', 'risk:1%'], 'risk needs stop='],
    [['--sizing', 'stake'], 'stake needs an amount'],
    [['--sizing', 'equity:-5%'], "'-5%' is not key=number"],
    [['--sizing', 'martingale:2'], "'martingale' is not a sizing method"],
    [['--timerange', '20240201-20240101'], '--timerange: 2024-02-01T00:00:00.000000Z is not before'],
    [['--timerange', '2024'], '--timerange "2024" is not a time range'],
    [['--timerange', '20240101-', '--from', '2024-01-01'], 'give --timerange or --from/--to, not both'],
    [['--last', '30days'], "--last '30days' is not a duration like 90m, 12h, 7d or 2w"],
    [['--last', '30d', '--from', '2024-01-01'], '--last 30d counts back from the end'],
  ])(
    '%j',
    (args, message) => {
      const r = bot4(['backtest', '--demo', ...args]);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toContain(message);
      expect(r.stderr.trim().split('\n').length).toBe(1);
    },
    60_000,
  );
});

describe.skipIf(!haveData && process.env.CI === undefined)(
  'costs, sizing, defaults and ranges on real data (skipped off CI when ../shared/data is absent)',
  () => {
    it('the first run needs only --strategy and --data: instrument, balance and settlement from the file', () => {
      expect(haveData, 'a data file of ../shared/data is missing').toBe(true);
      const { rep, stdout, stderr } = run(['--strategy', 'ema-cross', '--data', CANDLES]);
      expect(rep.instruments.map((i) => i.key)).toEqual(['BTC-PERP.FTX']);
      expect(rep.parameters.instrument).toBe('BTC-PERP.FTX');
      expect(rep.currency.code).toBe('USD');
      expect(rep.stats.startEquity).toBe(10_000 * 1e8);
      expect(rep.stats.trades).toBeGreaterThan(100);
      const note =
        'defaults from the data: instrument BTC-PERP.FTX (perpetual, tick 0.001, lot 0.000001, settles in USD), ' +
        'balance 10000 USD (the settlement currency)';
      expect(rep.notes.some((n) => n.startsWith(note))).toBe(true);
      expect(stderr).toContain(note);
      expect(stdout).toMatch(/Backtest summary \(USD\), 2021-12-31 23:02:00 to 2022-02-01 05:32:00 UTC/);
      for (const line of ['Fees', 'Slippage', 'Funding paid', 'Net profit before costs']) {
        expect(stdout).toMatch(new RegExp(`${line}\\s+-?[\\d,.]+ USD`));
      }
    }, 120_000);

    it('takes the bar interval from the data and a coin balance in the settlement currency', () => {
      const { rep } = run(['--data', ETH_BTC]);
      expect(rep.parameters).toMatchObject({ instrument: 'ETHBTC.BINANCE', interval: '5m' });
      expect(rep.currency.code).toBe('BTC');
      expect(rep.stats.startEquity).toBe(1e8);
      expect(rep.stats.trades).toBeGreaterThan(10);
    }, 120_000);

    it('--symbol picks one of several instruments; without it the strategy runs on each', () => {
      const both = run(['--data', ETH_BTC, LTC_BTC]);
      expect(
        (both.rep as unknown as { breakdown: { instruments: unknown[] } }).breakdown.instruments,
      ).toHaveLength(2);
      const { rep } = run(['--data', ETH_BTC, LTC_BTC, '--symbol', 'ltcbtc']);
      expect(rep.parameters.instrument).toBe('LTCBTC.BINANCE');
      const bad = bot4(['backtest', '--data', ETH_BTC, LTC_BTC, '--symbol', 'XRPBTC', '--no-progress']);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toContain('--symbol XRPBTC names no instrument of the data');
      // One file: --symbol/--venue name its instrument.
      const renamed = run(['--data', ETH_BTC, '--symbol', 'ETHBTC', '--venue', 'KRAKEN']);
      expect(renamed.rep.instruments.map((i) => i.key)).toEqual(['ETHBTC.KRAKEN']);
    }, 180_000);

    it('ticks:1000 moves every candle fill 1 USD against the taker: 24 x 0.5 BTC x 1 USD = 12 USD', () => {
      const plain = run(BASE).rep;
      const slipped = run([...BASE, '--slippage', 'ticks:1000']).rep;
      const p = plain.fills;
      const s = slipped.fills;
      expect(s.px.length).toBe(24);
      // By hand (ticks of 0.001 USD): buy 46,475 -> 46,476; sell 46,408 -> 46,407; buy 46,443 -> 46,444.
      expect(s.px.slice(0, 3)).toEqual([46_476_000, 46_407_000, 46_444_000]);
      for (let i = 0; i < s.px.length; i++) expect(s.px[i]! - p.px[i]!).toBe(1000 * s.side[i]!);
      expect(slipped.stats.slippage).toBe(12 * 1e8);
      // The same trades: what slippage took is exactly the difference, and the result before costs is equal.
      expect(plain.stats.netProfit - slipped.stats.netProfit).toBe(12 * 1e8);
      expect(slipped.stats.netProfitBeforeCosts).toBe(plain.stats.netProfit);
      expect(slipped.notes).toContain('slippage model ticks:1000: 24 taker fills moved against the taker');
    }, 120_000);

    it('impact k=0.1, a=0.5 against the bar volume (USD): price x 0.1 x sqrt(q x price / V), rounded up', () => {
      const { rep } = run([...BASE, '--slippage', 'impact:k=0.1,a=0.5,volume=quote']);
      const f = rep.fills;
      // By hand, the first three fills (market orders fill at the next bar's open, stamped at its close):
      //  23:36 bar: open 46,475, volume 1,405,038.6714 USD: 46,475 x 0.1 x sqrt(0.5 x 46,475 / 1,405,038.6714)
      //             = 597.6817 USD -> 597,682 ticks; buy at 47,072.682
      //  23:40 bar: open 46,408, volume   206,094.8038 USD: 1,557.1870 USD -> sell at 44,850.813
      //  23:45 bar: open 46,443, volume 1,698,164.0920 USD:   543.0947 USD -> buy at 46,986.095
      expect(f.px.slice(0, 3)).toEqual([47_072_682, 44_850_813, 46_986_095]);
      const bars = candles();
      let total = 0;
      for (let i = 0; i < f.px.length; i++) {
        const bar = bars.get(f.ts[i]! - MIN)!;
        const move = bar.open * 0.1 * Math.sqrt((0.5 * bar.open) / bar.volume);
        const ticks = Math.ceil(move / 0.001 - 1e-9);
        expect(f.px[i]).toBe(Math.round(bar.open * 1000) + f.side[i]! * ticks);
        total += ticks * 0.001 * 0.5;
      }
      expect(rep.stats.slippage / 1e8).toBeCloseTo(total, 6);
      expect(rep.stats.netProfitBeforeCosts).toBe(rep.stats.netProfit + rep.stats.slippage);
    }, 120_000);

    it('spread:0.5 on quotes: the best plus half the spread at the fill, rounded up to a tick', async () => {
      const args = ['--data', QUOTES, '--param', 'source=quote', '--param', 'fast=3', '--param', 'slow=8'];
      const plain = run(args).rep;
      const { rep } = run([...args, '--slippage', 'spread:0.5']);
      // The quote in force at the first fill, read with the project's loader.
      const replay = replayFiles([QUOTES], { instruments: newInstrumentRegistry() });
      const q = new QuoteTick();
      let bid = Number.NaN;
      let ask = Number.NaN;
      for await (const b of replay.stream) {
        for (let i = 0; i < b.length && b.tsEvent[i]! <= rep.fills.ts[0]!; i++) {
          if (b.kind[i] !== RecordKind.QUOTE) continue;
          b.readQuote(i, q);
          bid = q.bidPx;
          ask = q.askPx;
        }
        break;
      }
      expect(rep.fills.side[0]).toBe(1);
      expect(plain.fills.px[0]).toBe(ask);
      expect(rep.fills.px[0]).toBe(ask + Math.ceil(0.5 * (ask - bid)));
      expect(rep.stats.slippage).toBeGreaterThan(0);
      expect(rep.stats.netProfitBeforeCosts).toBe(plain.stats.netProfit);
    }, 120_000);

    it('on L2 data walking the book is the slippage: a model changes no fill', () => {
      const args = ['--data', USDM, '--param', 'source=quote', '--param', 'fast=50', '--param', 'slow=200'];
      const plain = run(args).rep;
      const { rep } = run([...args, '--slippage', 'ticks:5']);
      expect(rep.fills.px.length).toBeGreaterThan(10);
      expect(rep.fills).toEqual(plain.fills);
      expect(rep.stats.slippage).toBe(0);
      expect(rep.notes).toContain('slippage model ticks:5: 0 taker fills moved against the taker');
    }, 180_000);

    it('sizes from --sizing are whole lots of the size computed by hand; too big is denied by risk', () => {
      const bars = candles();
      const stake = run([...BASE, '--sizing', 'stake:1000']).rep.fills;
      // The size is set at the signal bar's close: 1,000 USD / 46,475 = 0.021516.. BTC -> 21,516 lots of 1e-6.
      const signal = bars.get(stake.ts[0]! - 2 * MIN)!;
      expect(signal.close).toBe(46_475);
      expect(stake.qty[0]).toBe(Math.floor(1000 / signal.close / 1e-6));
      expect(stake.qty[0]).toBe(21_516);
      // risk:1%,stop=2% on 100,000 USD: lose 1,000 USD at 2% -> 50,000 USD of BTC: 1.075847.. -> 1,075,847 lots.
      const risk = run([...BASE, '--sizing', 'risk:1%,stop=2%']).rep.fills;
      expect(risk.qty[0]).toBe(Math.floor(1000 / (0.02 * signal.close) / 1e-6));
      expect(risk.qty[0]).toBe(1_075_847);
      // A stake above the account: every order sized so is denied by risk and nothing trades.
      const { rep } = run([...BASE, '--sizing', 'stake:1000000']);
      expect(rep.fills.px.length).toBe(0);
      expect(rep.notes.some((n) => /^risk denied 12 order\(s\): 12 insufficient margin/.test(n))).toBe(true);
    }, 180_000);

    it('--last and --timerange cut the replay, open ends included', () => {
      const last = run(['--data', CANDLES, '--last', '1d']).rep;
      // The data's last record is the 2022-02-01 05:31 bar: one day back is 2022-01-31 05:31.
      expect(last.stats.startTs).toBe(Date.UTC(2022, 0, 31, 5, 32) * 1000);
      expect(last.stats.endTs).toBe(Date.UTC(2022, 1, 1, 5, 32) * 1000);
      const range = run(['--data', CANDLES, '--timerange', '20220110-20220111']).rep;
      // The statistics run from the range's start to the last bar closed inside it.
      expect([range.stats.startTs, range.stats.endTs]).toEqual([
        Date.UTC(2022, 0, 10) * 1000,
        Date.UTC(2022, 0, 10, 23, 59) * 1000,
      ]);
      const open = run(['--data', CANDLES, '--timerange', '20220131-']).rep;
      expect(open.stats.endTs).toBe(Date.UTC(2022, 1, 1, 5, 32) * 1000);
    }, 180_000);
  },
);
