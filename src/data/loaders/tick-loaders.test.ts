// The non-Binance-capture tick loaders on the real files: counts from the data README, exact first records,
// validation results (explained where non-zero), detection of every file, and malformed rows in temp files.
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { Bot4Error } from '../../core/errors.ts';
import { present } from '../../core/test-resources.ts';
import { newInstrumentRegistry } from '../../model/instrument.ts';
import { DeltaFlag, RecordKind, Side } from '../../model/market-data.ts';
import type { ValidationReport } from '../loader.ts';
import { emptyReport, type LoadOptions } from '../loader.ts';
import { detectLoader, findLoader, LOADERS, registerLoader } from './index.ts';

const DATA = fileURLToPath(new URL('../../../../shared/data/', import.meta.url));
const HAVE_DATA = present(DATA, 'shared market data');
const NOTE = HAVE_DATA ? '' : ' (SKIPPED: ../shared/data not found beside the repo)';

const noProblems = {
  malformed_row: 0,
  out_of_order: 0,
  duplicate_trade: 0,
  crossed_book: 0,
  sequence_gap: 0,
  non_positive: 0,
  inexact_volume: 0,
};

async function load(file: string, options: Partial<LoadOptions> = {}) {
  const loader = detectLoader(file);
  const report = emptyReport(file) as ValidationReport;
  const rows: number[][] = [];
  for await (const b of loader.load(file, { instruments: newInstrumentRegistry(), ...options }, report)) {
    for (let i = 0; i < b.length; i++) {
      rows.push([b.kind[i]!, b.tsEvent[i]!, b.tsInit[i]!, b.a[i]!, b.b[i]!, b.c[i]!, b.d[i]!, b.seq[i]!]);
    }
  }
  return { loader: loader.name, report, rows };
}

const flagged = (rows: number[][], f: number) =>
  rows.filter((r) => r[0] === RecordKind.DELTA && (r[6]! & f) !== 0).length;

describe.skipIf(!HAVE_DATA)(`tick loaders on the real files${NOTE}`, () => {
  const nt = `${DATA}nautilus_trader/`;

  it('Binance depth CSV: snapshot file (100 snap rows, one message) and update file (100 set rows)', async () => {
    const snap = await load(`${nt}binance/btcusdt-depth-snap.csv`);
    expect(snap.loader).toBe('binance-depth-csv');
    expect([snap.report.rows, snap.report.records]).toEqual([100, { delta: 100 }]);
    expect(snap.report.problems).toEqual(noProblems);
    const S = DeltaFlag.SNAPSHOT;
    expect(snap.rows[0]).toEqual([
      RecordKind.DELTA,
      1667346579146000,
      1667346579146000,
      203770,
      1770,
      Side.BUY,
      S | DeltaFlag.CLEAR,
      2098021528332,
    ]);
    expect([
      flagged(snap.rows, S),
      flagged(snap.rows, DeltaFlag.CLEAR),
      flagged(snap.rows, DeltaFlag.LAST),
    ]).toEqual([100, 1, 1]);
    const upd = await load(`${nt}binance/btcusdt-depth-update.csv`);
    expect([upd.report.rows, upd.report.records, upd.report.problems]).toEqual([
      100,
      { delta: 100 },
      noProblems,
    ]);
    expect(upd.rows[0]).toEqual([
      RecordKind.DELTA,
      1667347199939000,
      1667347199939000,
      204728,
      0,
      Side.SELL,
      0,
      2098041696700,
    ]);
    expect(upd.rows.filter((r) => r[5] === Side.SELL).length).toBe(77);
    expect(flagged(upd.rows, DeltaFlag.LAST)).toBe(1);
  });

  it('Tardis CSV: book snapshots 25 and 5, BitMEX trades, Deribit incremental L2, Huobi quotes', async () => {
    const t = `${nt}tardis/`;
    const s25 = await load(`${t}binance-futures_book_snapshot_25_BTCUSDT.csv`);
    expect(s25.loader).toBe('tardis-csv');
    // 10 rows x (25 bids + 25 asks), each row a full top-25 image (CLEAR first, LAST final).
    expect([s25.report.rows, s25.report.records, s25.report.problems]).toEqual([
      10,
      { delta: 500 },
      noProblems,
    ]);
    expect(s25.rows[0]).toEqual([
      RecordKind.DELTA,
      1598918403696000,
      1598918403810979,
      1165707,
      10896,
      Side.BUY,
      DeltaFlag.SNAPSHOT | DeltaFlag.CLEAR,
      0,
    ]);
    expect([flagged(s25.rows, DeltaFlag.CLEAR), flagged(s25.rows, DeltaFlag.LAST)]).toEqual([10, 10]);
    expect(s25.report.notes).toContain(
      'BTCUSDT.BINANCE_USDM: tick 0.01, lot 0.001 (inferred from the decimals of the first 200,000 rows)',
    );
    const s5 = await load(`${t}binance-futures_book_snapshot_5_BTCUSDT.csv`);
    expect([s5.report.rows, s5.report.records]).toEqual([10, { delta: 100 }]);
    const bm = await load(`${t}bitmex_trades_XBTUSD.csv`);
    expect([bm.report.rows, bm.report.records, bm.report.problems]).toEqual([10, { trade: 10 }, noProblems]);
    // UUID trade ids are not comparable: seq 0.
    expect(bm.rows[0]).toEqual([
      RecordKind.TRADE,
      1583020803145000,
      1583020803307160,
      85315,
      2152,
      Side.SELL,
      0,
      0,
    ]);
    const dr = await load(`${t}deribit_incremental_book_L2_BTC-PERPETUAL.csv`);
    // 15 snapshot rows at one timestamp: one message, all asks.
    expect([dr.report.rows, dr.report.records, dr.report.problems]).toEqual([15, { delta: 15 }, noProblems]);
    expect(dr.rows[0]).toEqual([
      RecordKind.DELTA,
      1585699200245000,
      1585699200355684,
      64215,
      18640,
      Side.SELL,
      DeltaFlag.SNAPSHOT | DeltaFlag.CLEAR,
      0,
    ]);
    expect([flagged(dr.rows, DeltaFlag.CLEAR), flagged(dr.rows, DeltaFlag.LAST)]).toEqual([1, 1]);
    const hb = await load(`${t}huobi-dm-swap_quotes_BTC-USD.csv`);
    expect([hb.report.rows, hb.report.records, hb.report.problems]).toEqual([10, { quote: 10 }, noProblems]);
    expect(hb.rows[0]).toEqual([
      RecordKind.QUOTE,
      1588291201099000,
      1588291201234268,
      86292,
      806,
      86293,
      5494,
      0,
    ]);
    expect(hb.report.notes?.[0]).toContain('inverse, 100 USD per contract');
  });

  it('Parquet: nautilus Binance trades (2,001) and quotes (451), freqtrade XRP/ETH trades (12,477)', async () => {
    const tr = await load(`${nt}binance/btcusdt-trades.parquet`);
    expect(tr.loader).toBe('parquet-ticks');
    expect([tr.report.rows, tr.report.records, tr.report.problems]).toEqual([
      2001,
      { trade: 2001 },
      noProblems,
    ]);
    // README first row: 2021-01-08T00:00:00.278Z, 553287559, 39432.48, 0.000263, buyer_maker "True" (taker sold).
    expect(tr.rows[0]).toEqual([
      RecordKind.TRADE,
      1610064000278000,
      1610064000278000,
      3943248,
      263,
      Side.SELL,
      0,
      553287559,
    ]);
    // The 2021-10 exchangeInfo lot (0.00001) is coarser than these 2021-01 quantities (0.000263): inferred.
    expect(
      tr.report.notes?.some((n) =>
        n.includes('lot 0.000001 (inferred from the decimals in the data: the Binance spot exchangeInfo'),
      ),
    ).toBe(true);
    const q = await load(`${nt}binance/btcusdt-quotes.parquet`);
    expect([q.report.rows, q.report.records, q.report.problems]).toEqual([451, { quote: 451 }, noProblems]);
    // README first row: ask_size 0.066851, ask 39433.62, bid_size 0.0031, bid 39432.99.
    expect(q.rows[0]).toEqual([
      RecordKind.QUOTE,
      1610064001076000,
      1610064001076000,
      3943299,
      3100,
      3943362,
      66851,
      0,
    ]);
    const x = await load(`${DATA}freqtrade/XRP_ETH-trades.parquet`);
    expect([x.report.rows, x.report.records, x.report.problems]).toEqual([
      12_477,
      { trade: 12_477 },
      noProblems,
    ]);
    // README first row: [1570752011620, "13519807", null, "sell", 0.00141342, 23.0, ...].
    expect(x.rows[0]).toEqual([
      RecordKind.TRADE,
      1570752011620000,
      1570752011620000,
      141342,
      23,
      Side.SELL,
      0,
      13519807,
    ]);
    expect(x.report.instruments).toEqual(['XRPETH.BINANCE']);
  });

  it('Bybit ob500 zip: 1 snapshot (500 + 500 levels) + 49 deltas, u consecutive; v5 fixtures', async () => {
    const z = await load(`${nt}bybit/xrpusdt-ob500.data.zip`);
    expect(z.loader).toBe('bybit-v5');
    expect([z.report.rows, z.report.problems]).toEqual([50, noProblems]);
    expect(z.report.records['delta']).toBe(3966);
    expect([
      flagged(z.rows, DeltaFlag.SNAPSHOT),
      flagged(z.rows, DeltaFlag.CLEAR),
      flagged(z.rows, DeltaFlag.LAST),
    ]).toEqual([1000, 1, 50]);
    // First level ["1.9531","6203"], u 20254869; tsEvent = cts, tsInit = ts (1733011200691).
    expect(z.rows[0]).toEqual([
      RecordKind.DELTA,
      1733011200589000,
      1733011200691000,
      19531,
      6203,
      Side.BUY,
      DeltaFlag.SNAPSHOT | DeltaFlag.CLEAR,
      20254869,
    ]);
    expect(z.report.firstTs).toBe(1733011200589000);
    const f = `${nt}bybit_fixtures/`;
    const snap = await load(`${f}ws_orderbook_snapshot.json`);
    expect(snap.report.records).toEqual({ delta: 4 });
    expect(snap.rows.map((r) => [r[3], r[4], r[5]])).toEqual([
      [274500, 50, Side.BUY],
      [274495, 100, Side.BUY],
      [274510, 75, Side.SELL],
      [274515, 90, Side.SELL],
    ]);
    const tr = await load(`${f}ws_public_trade.json`);
    expect(tr.rows).toEqual([
      [RecordKind.TRADE, 1709891679000000, 1709891679005000, 27451, 1, Side.BUY, 0, 0],
    ]);
    expect(findLoader(`${f}ws_kline.json`)?.name).not.toBe('bybit-v5');
  });

  it('cryptofeed captures: Binance futures, Coinbase, Bybit v2 (README message counts)', async () => {
    const bf = await load(`${DATA}cryptofeed/BINANCE_FUTURES.ws.1.0`);
    expect(bf.loader).toBe('cryptofeed-capture');
    // 764 depth@100ms + 613 bookTicker + 91 aggTrade + 67 kline_1m = 1,535 messages (+1 connection line).
    expect(bf.report.rows).toBe(1535);
    expect([bf.report.records['quote'], bf.report.records['trade']]).toEqual([613, 91]);
    expect(bf.report.problems).toEqual(noProblems);
    expect(bf.report.notes).toContain('messages not converted (not market-data records): kline 67');
    expect(bf.report.instruments).toEqual([
      'SUSHIUSDT.BINANCE_USDM',
      'AKROUSDT.BINANCE_USDM',
      'KEEPUSDT.BINANCE_USDM',
      'CTKUSDT.BINANCE_USDM',
    ]);
    // First message: SUSHIUSDT bookTicker b 7.6110 x 2, a 7.6120 x 297 at tick 0.001, received 1626992741.06217 s.
    expect(bf.rows[0]).toEqual([
      RecordKind.QUOTE,
      1626992741012000,
      1626992741062170,
      7611,
      2,
      7612,
      297,
      600859600576,
    ]);

    const cb = await load(`${DATA}cryptofeed/COINBASE.ws.28.0`);
    // 10 snapshot + 9,719 l2update + 107 ticker + 97 match + 10 last_match + 3 subscriptions = 9,946.
    expect(cb.report.rows).toBe(9946);
    expect(cb.report.records['trade']).toBe(107);
    expect(cb.report.problems).toEqual(noProblems);
    expect(cb.report.notes).toContain(
      'messages not converted (not market-data records): subscriptions 3, ticker 107',
    );
    expect(cb.report.instruments.length).toBe(10);
    expect(flagged(cb.rows, DeltaFlag.CLEAR)).toBe(10);

    const bb = await load(`${DATA}cryptofeed/BYBIT.ws.25.0`);
    // 3,260 orderBookL2_25 + 66 trade messages + 16 subscription replies.
    expect(bb.report.rows).toBe(3342);
    expect(bb.report.records['trade']).toBe(101);
    expect(bb.report.problems).toEqual(noProblems);
    expect(flagged(bb.rows, DeltaFlag.LAST)).toBe(3260);
    expect(flagged(bb.rows, DeltaFlag.CLEAR)).toBe(8);
  });

  it('Hyperliquid capture: 46 l2Book snapshots of 20 + 20 levels, 64 trades in 9 messages', async () => {
    const h = await load(`${DATA}hftbacktest/hyperliquid/btcusd_20250126.gz`);
    expect(h.loader).toBe('hyperliquid-capture');
    expect([h.report.rows, h.report.records, h.report.problems]).toEqual([
      55,
      { delta: 1840, trade: 64 },
      noProblems,
    ]);
    expect(h.rows[0]).toEqual([
      RecordKind.DELTA,
      1737918843542000,
      1737918843893903,
      105055,
      303622,
      Side.BUY,
      DeltaFlag.SNAPSHOT | DeltaFlag.CLEAR,
      0,
    ]);
    expect(flagged(h.rows, DeltaFlag.CLEAR)).toBe(46);
  });

  it('detectLoader recognises every tick-data file and no candle file', () => {
    const expectName = (rel: string, name: string | undefined) =>
      expect(findLoader(DATA + rel)?.name, rel).toBe(name);
    for (const dir of ['spot', 'usdm', 'cm']) {
      for (const f of readdirSync(`${DATA}hftbacktest/${dir}`))
        expectName(`hftbacktest/${dir}/${f}`, 'binance-ws-capture');
    }
    for (const f of readdirSync(`${DATA}nautilus_trader/tardis`))
      expectName(`nautilus_trader/tardis/${f}`, 'tardis-csv');
    expectName('nautilus_trader/binance/btcusdt-depth-snap.csv', 'binance-depth-csv');
    expectName('cryptofeed/BYBIT.ws.25.0', 'cryptofeed-capture');
    // Candle files belong to the OHLCV loaders, never to a tick loader.
    const tick = [
      'binance-ws-capture',
      'hyperliquid-capture',
      'cryptofeed-capture',
      'bybit-v5',
      'binance-depth-csv',
      'tardis-csv',
      'parquet-ticks',
    ];
    expect(tick).not.toContain(findLoader(`${DATA}basana/binance_btcusdt_day_2020.csv`)?.name);
  });
});

describe('tick loaders on synthetic files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bot4-ticks-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const write = (name: string, text: string) => {
    const p = join(dir, name);
    writeFileSync(p, text);
    return p;
  };
  const header = 'symbol,timestamp,first_update_id,last_update_id,side,update_type,price,qty,pu';

  it('Binance depth CSV: malformed rows are skipped with file line, or fail naming them', async () => {
    const file = write(
      'depth.csv',
      [
        header,
        'BTCUSDT,1667347199939,10,20,b,set,20000.10,1.000,9',
        'BTCUSDT,1667347199939,10,20,x,set,20000.20,1.000,9',
        'BTCUSDT,1667347199939,10,20,a,set,20000.25,1.000,9',
        'BTCUSDT,1667347199940,21,30,a,set,20001.00,0.500',
        'BTCUSDT,1667347199941,21,30,a,set,20001.00,0.500,20',
        '',
      ].join('\n'),
    );
    const { report, rows } = await load(file);
    expect(report.rows).toBe(5);
    expect(report.problems).toEqual({ ...noProblems, malformed_row: 3 });
    expect(report.examples.malformed_row).toEqual([
      { line: 3, message: 'side must be b or a and update_type snap or set (got x, set)' },
      { line: 4, message: 'price 20000.25 is not a multiple of tick size 0.1 (BTCUSDT.BINANCE_USDM)' },
      { line: 5, message: `expected 9 columns (${header}), got 8` },
    ]);
    expect(rows.map((r) => [r[3], r[6], r[7]])).toEqual([
      [200001, DeltaFlag.LAST, 20],
      [200010, DeltaFlag.LAST, 30],
    ]);
    await expect(load(file, { policies: { malformed_row: 'fail' } })).rejects.toThrow(
      `${file}:3: malformed_row: side must be b or a and update_type snap or set (got x, set)`,
    );
    const e = await load(file, { policies: { malformed_row: 'fail' } }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(Bot4Error);
  });

  it('Tardis quotes: a crossed quote is counted (skip drops it, repair keeps it)', async () => {
    const file = write(
      'huobi-dm-swap_quotes_X.csv',
      [
        'exchange,symbol,timestamp,local_timestamp,ask_amount,ask_price,bid_price,bid_amount',
        'huobi-dm-swap,BTC-USD,1588291201099000,1588291201234268,5494,8629.3,8629.2,806',
        'huobi-dm-swap,BTC-USD,1588291201133000,1588291201454126,5493,8629.2,8629.3,806',
        'huobi-dm-swap,BTC-USD,1588291201133000,1588291201454126,5493,8629.4,,',
      ].join('\n'),
    );
    const skip = await load(file);
    expect(skip.report.problems).toEqual({ ...noProblems, crossed_book: 1 });
    expect(skip.report.examples.crossed_book).toEqual([
      { line: 3, message: 'crossed quote: bid 86293 >= ask 86292 (ticks)' },
    ]);
    // An empty side (no bid) is a quote with size 0 there, not a problem.
    expect(skip.rows.map((r) => [r[3], r[4], r[5], r[6]])).toEqual([
      [86292, 806, 86293, 5494],
      [0, 0, 86294, 5493],
    ]);
    const repair = await load(file, { policies: { crossed_book: 'repair' } });
    expect(repair.report.records).toEqual({ quote: 3 });
  });

  it('registerLoader adds a loader that detectLoader then finds; names are unique', () => {
    const n = LOADERS.length;
    const mine = {
      name: 'test-only',
      detect: (f: string) => f.endsWith('.testonly'),
      load: () => (async function* () {})(),
    };
    registerLoader(mine);
    try {
      expect(detectLoader(write('a.testonly', 'x')).name).toBe('test-only');
      expect(() => registerLoader(mine)).toThrow('a loader named test-only is already registered');
      expect(() => detectLoader(write('a.unknown', 'hello'))).toThrow(
        /no loader recognises .*a\.unknown; known formats: binance-ws-capture/,
      );
    } finally {
      LOADERS.splice(LOADERS.indexOf(mine), 1);
    }
    expect(LOADERS.length).toBe(n);
  });
});
