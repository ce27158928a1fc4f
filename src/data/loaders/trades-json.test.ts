import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { present } from '../../core/test-resources.ts';
import { type InstrumentRegistry, newInstrumentRegistry } from '../../model/instrument.ts';
import { NO_SIDE, RecordKind, Side } from '../../model/market-data.ts';
import { readHeadText } from '../lines.ts';
import { emptyReport, type Loader, type ValidationReport } from '../loader.ts';
import { OHLCV_LOADERS } from './ohlcv.ts';
import type { BarLoadOptions } from './ohlcv-common.ts';
import { parseUtcMicros } from './ohlcv-common.ts';
import { parquetTicksLoader } from './parquet-ticks.ts';
import {
  freqtradeTradesFeatherLoader,
  freqtradeTradesJsonLoader,
  krakenTradesCsvLoader,
  krakenTradesJsonLoader,
  TRADE_LIST_LOADERS,
  tradesHeaderCsvLoader,
} from './trades-json.ts';

// src/data/loaders -> repository root is three levels up; shared/ sits beside the repository.
const DATA = fileURLToPath(new URL('../../../../shared/data/', import.meta.url));
const haveData = present(join(DATA, 'README.md'), 'shared market data');
if (!haveData) console.warn(`trade-list loader tests skipped: ${DATA} not found`);
const real = describe.skipIf(!haveData);

/** [ts micros, price text, qty text, aggressor, trade id] */
type T = [number, string, string, number, number];

async function load(
  loader: Loader,
  file: string,
  options: Partial<BarLoadOptions> = {},
  reg: InstrumentRegistry = newInstrumentRegistry(),
): Promise<{ rows: T[]; report: ValidationReport; reg: InstrumentRegistry }> {
  const report = emptyReport(file);
  const rows: T[] = [];
  let bad = 0;
  for await (const b of loader.load(file, { instruments: reg, batchSize: 4096, ...options }, report)) {
    for (let i = 0; i < b.length; i++) {
      if (b.kind[i] !== RecordKind.TRADE || b.tsInit[i] !== b.tsEvent[i]) bad++;
      const inst = reg.require(b.instrument[i] as never);
      rows.push([b.tsEvent[i]!, inst.ticksToPrice(b.a[i]!), inst.lotsToQty(b.b[i]!), b.c[i]!, b.seq[i]!]);
    }
  }
  expect(bad).toBe(0);
  return { rows, report, reg };
}

const problems = (rep: ValidationReport): Record<string, number> =>
  Object.fromEntries(Object.entries(rep.problems).filter(([, n]) => n > 0));
const utc = parseUtcMicros;

real('trade lists on the shared data', () => {
  it('detects each trade file with exactly one loader (candle loaders included)', () => {
    const expected: [string, Loader][] = [
      ['freqtrade/XRP_ETH-trades.json.gz', freqtradeTradesJsonLoader],
      ['freqtrade/XRP_OLD-trades.json.gz', freqtradeTradesJsonLoader],
      ['freqtrade/XRP_ETH-trades.feather', freqtradeTradesFeatherLoader],
      ['freqtrade/orderflow/public_trades_list.csv', tradesHeaderCsvLoader],
      ['freqtrade/kraken/trades_csv/BCHEUR.csv', krakenTradesCsvLoader],
      ['nautilus_trader/kraken_fixtures/http_trades.json', krakenTradesJsonLoader],
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

  it('XRP/ETH: the JSON, old ccxt JSON, feather and Parquet readings of the 12,477 trades agree row for row', async () => {
    const reg = newInstrumentRegistry();
    const json = await load(
      freqtradeTradesJsonLoader,
      join(DATA, 'freqtrade/XRP_ETH-trades.json.gz'),
      {},
      reg,
    );
    const old = await load(
      freqtradeTradesJsonLoader,
      join(DATA, 'freqtrade/XRP_OLD-trades.json.gz'),
      {},
      reg,
    );
    const feather = await load(
      freqtradeTradesFeatherLoader,
      join(DATA, 'freqtrade/XRP_ETH-trades.feather'),
      {},
      reg,
    );
    expect(json.rows.length).toBe(12_477);
    expect(problems(json.report)).toEqual({});
    expect(json.report.records).toEqual({ trade: 12_477 });
    expect(old.rows).toEqual(json.rows);
    expect(feather.rows).toEqual(json.rows);
    expect(reg.size).toBe(1);
    const inst = reg.find('XRPETH', 'BINANCE')!;
    expect([inst.tickSize.text, inst.lotSize.text, inst.base.code, inst.quote.code]).toEqual([
      '0.00000001',
      '1',
      'XRP',
      'ETH',
    ]);
    expect(json.rows[0]).toEqual([utc('2019-10-11 00:00:11.620'), '0.00141342', '23', Side.SELL, 13_519_807]);
    expect(json.rows[3]).toEqual([utc('2019-10-11 00:00:28.907'), '0.00141379', '581', Side.BUY, 13_519_810]);
    expect(json.rows.at(-1)).toEqual([
      utc('2019-10-13 11:19:28.844'),
      '0.00152787',
      '130',
      Side.SELL,
      13_532_283,
    ]);
    expect(json.report.firstTs).toBe(utc('2019-10-11 00:00:11.620'));
    expect(json.report.lastTs).toBe(utc('2019-10-13 11:19:28.844'));

    // Parquet, through the tick helper's Parquet loader (its own registry: same key and steps, compared as text).
    const parquet = await load(parquetTicksLoader, join(DATA, 'freqtrade/XRP_ETH-trades.parquet'));
    const pInst = parquet.reg.find('XRPETH', 'BINANCE')!;
    expect([pInst.tickSize.text, pInst.lotSize.text]).toEqual(['0.00000001', '1']);
    expect(parquet.rows).toEqual(json.rows);
  });

  it('freqtrade pandas trade CSV (orderflow): 1,000 trades, ms times, taker side, ids', async () => {
    const { rows, report, reg } = await load(
      tradesHeaderCsvLoader,
      join(DATA, 'freqtrade/orderflow/public_trades_list.csv'),
      {
        symbol: 'ETHUSDT',
      },
    );
    expect(rows.length).toBe(1000);
    expect(problems(report)).toEqual({});
    const inst = reg.find('ETHUSDT', 'UNKNOWN')!;
    expect([inst.tickSize.text, inst.lotSize.text]).toEqual(['0.01', '0.001']);
    expect(rows[0]).toEqual([utc('2023-02-02 09:20:00.138'), '1666.8', '26.062', Side.BUY, 1_206_419_187]);
    expect(rows[1]).toEqual([utc('2023-02-02 09:20:00.214'), '1666.79', '0.152', Side.SELL, 1_206_419_188]);
    expect(rows.at(-1)).toEqual([utc('2023-02-02 09:23:27.493'), '1667.3', '0.018', Side.BUY, 1_206_420_186]);
  });

  it('Kraken trade CSV export (BCHEUR, no header): 148 trades, whole seconds, no side or id', async () => {
    const { rows, report, reg } = await load(
      krakenTradesCsvLoader,
      join(DATA, 'freqtrade/kraken/trades_csv/BCHEUR.csv'),
    );
    expect(rows.length).toBe(148);
    expect(problems(report)).toEqual({});
    const inst = reg.find('BCHEUR', 'KRAKEN')!;
    expect([inst.base.code, inst.quote.code, inst.tickSize.text, inst.lotSize.text]).toEqual([
      'BCH',
      'EUR',
      '0.01',
      '0.00000001',
    ]);
    expect(rows[0]).toEqual([1_672_531_436_000_000, '90.54', '1.1044842', NO_SIDE, 0]);
    expect(rows.at(-1)).toEqual([1_672_615_187_000_000, '90.53', '1', NO_SIDE, 0]);
  });

  it('Kraken REST trades JSON: 1,000 XBTUSDT trades, decimal strings exact, float seconds to micros', async () => {
    const { rows, report, reg } = await load(
      krakenTradesJsonLoader,
      join(DATA, 'nautilus_trader/kraken_fixtures/http_trades.json'),
    );
    expect(rows.length).toBe(1000);
    expect(problems(report)).toEqual({});
    expect(reg.find('XBTUSDT', 'KRAKEN')!.tickSize.text).toBe('0.1');
    expect(rows[0]).toEqual([1_762_795_433_971_745, '105433.6', '0.00027625', Side.BUY, 10_218_208]);
    expect(rows.at(-1)).toEqual([1_762_820_035_982_278, '105899.4', '0.00009443', Side.SELL, 10_219_207]);
  });
});

describe('trade validation (synthetic)', () => {
  it('drops non-positive, out-of-order and repeated-id trades with their lines', async () => {
    const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(join(tmpdir(), 'bot4-trades-'));
    try {
      const f = join(dir, 'SYN_USDT-trades.json');
      writeFileSync(
        f,
        JSON.stringify([
          [1000, '1', null, 'buy', 1.5, 2, 3],
          [1001, '2', null, 'sell', 0, 2, 0],
          [999, '3', null, 'sell', 1.5, 1, 1.5],
          [1002, '1', null, 'sell', 1.5, 1, 1.5],
          [1003, '4', null, 'buy', 1.25, 'x', 0],
          [1004, '5', null, 'buy', 1.75, 4, 7],
        ]),
      );
      const { rows, report } = await load(freqtradeTradesJsonLoader, f);
      expect(rows).toEqual([
        [1_000_000, '1.5', '2', Side.BUY, 1],
        [1_004_000, '1.75', '4', Side.BUY, 5],
      ]);
      expect(problems(report)).toEqual({
        non_positive: 1,
        out_of_order: 1,
        duplicate_trade: 1,
        malformed_row: 1,
      });
      expect(report.examples.non_positive?.[0]?.line).toBe(2);
      expect(report.examples.out_of_order?.[0]?.line).toBe(3);
      expect(report.examples.duplicate_trade?.[0]?.line).toBe(4);
      expect(report.examples.malformed_row?.[0]?.message).toContain('amount "x"');
      expect(readdirSync(dir)).toEqual(['SYN_USDT-trades.json']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
