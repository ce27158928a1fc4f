import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { Bot4Error, ErrorCode } from '../../core/errors.ts';
import { present } from '../../core/test-resources.ts';
import { newInstrumentRegistry } from '../../model/instrument.ts';
import { DeltaFlag, type EventBatch, RecordKind, Side } from '../../model/market-data.ts';
import type { ValidationReport } from '../loader.ts';
import { emptyReport, type LoadOptions } from '../loader.ts';
import { binanceMarketOf, hftbacktestBinanceLoader } from './binance-capture.ts';

const DATA = fileURLToPath(new URL('../../../../shared/data/', import.meta.url));
const HAVE_DATA = present(DATA, 'shared market data');
const NOTE = HAVE_DATA ? '' : ' (SKIPPED: ../shared/data not found beside the repo)';

interface Loaded {
  report: ValidationReport;
  /** All rows, copied out of the (reused) batches. */
  rows: number[][];
  batchObjects: number;
  batches: number;
}

async function load(
  file: string,
  options: Partial<LoadOptions> = {},
  keepRows = true,
  visit?: (b: EventBatch, i: number) => void,
): Promise<Loaded> {
  const report = emptyReport(file);
  const rows: number[][] = [];
  const seen = new Set<EventBatch>();
  let batches = 0;
  for await (const b of hftbacktestBinanceLoader.load(
    file,
    { instruments: newInstrumentRegistry(), ...options },
    report,
  )) {
    seen.add(b);
    batches++;
    if (visit !== undefined) for (let i = 0; i < b.length; i++) visit(b, i);
    if (!keepRows) continue;
    for (let i = 0; i < b.length; i++) {
      rows.push([b.kind[i]!, b.tsEvent[i]!, b.tsInit[i]!, b.a[i]!, b.b[i]!, b.c[i]!, b.d[i]!, b.seq[i]!]);
    }
  }
  return { report, rows, batchObjects: seen.size, batches };
}

const noProblems = {
  malformed_row: 0,
  out_of_order: 0,
  duplicate_trade: 0,
  crossed_book: 0,
  sequence_gap: 0,
  non_positive: 0,
  inexact_volume: 0,
};

describe.skipIf(!HAVE_DATA)(`hftbacktest Binance captures${NOTE}`, () => {
  it('usdm/btcusdt_20240808.gz: README counts, exact first records, snapshot + replay, clean validation', async () => {
    const file = `${DATA}hftbacktest/usdm/btcusdt_20240808.gz`;
    // 533k rows: checked as they stream by (first rows, flag counts, time order) rather than copied out.
    const firsts = new Map<number, number[]>();
    const flags = { clear: 0, snapshot: 0, last: 0, gap: 0 };
    const lastTs = [0, 0, 0, 0];
    let prevInit = 0;
    let timeOrder = true;
    const visit = (b: EventBatch, i: number) => {
      const k = b.kind[i]!;
      if (!firsts.has(k))
        firsts.set(k, [k, b.tsEvent[i]!, b.tsInit[i]!, b.a[i]!, b.b[i]!, b.c[i]!, b.d[i]!, b.seq[i]!]);
      if (k === RecordKind.DELTA) {
        const d = b.d[i]!;
        if (d & DeltaFlag.CLEAR) flags.clear++;
        if (d & DeltaFlag.SNAPSHOT) flags.snapshot++;
        if (d & DeltaFlag.LAST) flags.last++;
        if (d & DeltaFlag.GAP) flags.gap++;
      }
      if (b.tsEvent[i]! < lastTs[k]! || b.tsInit[i]! < prevInit) timeOrder = false;
      lastTs[k] = b.tsEvent[i]!;
      prevInit = b.tsInit[i]!;
    };
    const { report } = await load(file, {}, false, visit);
    // README: 93,954 lines = 6,551 depth diffs + 66,089 bookTicker + 21,313 trades + 1 REST snapshot line.
    expect(report.rows).toBe(93_954);
    expect(report.records['quote']).toBe(66_089);
    expect(report.records['trade']).toBe(21_313);
    expect(report.problems).toEqual(noProblems);
    expect(report.instruments).toEqual(['BTCUSDT.BINANCE_USDM']);
    expect(report.firstTs).toBe(1723161256298000);
    expect(report.lastTs).toBe(1723161601054000);

    // Delta rows: every diff level, plus the snapshot's 1,000 + 1,000 levels, plus the levels of the diffs that
    // arrived before the snapshot line but are newer than its lastUpdateId (emitted again after it).
    const lines = readLines(file, 60);
    const snapAt = lines.findIndex((l) => l.includes('"lastUpdateId"'));
    expect(snapAt).toBe(54); // line 55
    const L = JSON.parse(lines[snapAt]!.slice(lines[snapAt]!.indexOf(' ') + 1)).lastUpdateId as number;
    let staleLevels = 0;
    let replayLevels = 0;
    let stale = 0;
    let replayed = 0;
    for (const l of lines.slice(0, snapAt)) {
      const d = JSON.parse(l.slice(l.indexOf(' ') + 1)).data;
      if (d.e !== 'depthUpdate') continue;
      const n = d.b.length + d.a.length;
      if (d.u < L) {
        stale++;
        staleLevels += n;
      } else {
        replayed++;
        replayLevels += n;
      }
    }
    expect([stale, replayed]).toEqual([4, 2]);
    expect(report.records['delta']).toBe(443_521 + 2_000 + replayLevels);
    expect(staleLevels).toBe(259);
    expect(report.records['delta']).toBe(445_590);
    expect(report.notes).toContain(
      'REST depth snapshots applied: 1; diffs received before a snapshot and newer than it, emitted again after it: 2; older ones not repeated: 4',
    );
    expect(report.notes).toContain(
      'BTCUSDT.BINANCE_USDM: tick 0.1, lot 0.001 (Binance USD-M exchangeInfo of 2022-02-19 (nautilus_trader fixture))',
    );

    // First rows exactly: line 1's first level, line 2's bookTicker, line 3's trade.
    expect(firsts.get(RecordKind.DELTA)).toEqual([
      RecordKind.DELTA,
      1723161256298000,
      1723161255030314,
      587102,
      14,
      Side.BUY,
      0,
      5123107837557,
    ]);
    expect(firsts.get(RecordKind.QUOTE)).toEqual([
      RecordKind.QUOTE,
      1723161256313000,
      1723161255088169,
      618002,
      2507,
      618003,
      2510,
      5123107839020,
    ]);
    expect(firsts.get(RecordKind.TRADE)).toEqual([
      RecordKind.TRADE,
      1723161256322000,
      1723161255088176,
      618003,
      6,
      Side.BUY,
      0,
      5266583935,
    ]);
    // Flags: one CLEAR, 2,000 SNAPSHOT rows, a LAST per emitted message (6,551 diffs + 2 repeated + 1 snapshot).
    expect(flags).toEqual({ clear: 1, snapshot: 2_000, last: 6_554, gap: 0 });
    // Event time never decreases per record kind; receive time never decreases at all.
    expect(timeOrder).toBe(true);
  });

  it('spot/btcusdt_20240808.gz: lot sizes of 2021 vs 2024 depth levels; skip (default) vs repair', async () => {
    const file = `${DATA}hftbacktest/spot/btcusdt_20240808.gz`;
    const skip = await load(file, {}, false);
    // README: 41,249 lines = 3,451 diffs + 28,040 bookTicker + 9,757 trades + 1 REST snapshot.
    expect(skip.report.rows).toBe(41_249);
    expect(skip.report.records['quote']).toBe(28_040);
    expect(skip.report.records['trade']).toBe(9_757);
    // Three diffs carry a level sized finer than the lot (legacy resting orders, e.g. 25.426189 BTC at lot
    // 0.00001): dropped under 'skip', which breaks the U/u chain at the next diff (a gap, flagged for the book).
    expect(skip.report.problems).toEqual({ ...noProblems, malformed_row: 3, sequence_gap: 3 });
    expect(skip.report.examples.malformed_row?.map((e) => e.line)).toEqual([1886, 34306, 38887]);
    expect(skip.report.examples.malformed_row?.[0]?.message).toBe(
      'ask size 25.42618900 is not a multiple of lot size 0.00001 (BTCUSDT.BINANCE)',
    );
    expect(skip.report.examples.sequence_gap?.[0]).toEqual({
      line: 1894,
      message:
        'depth update U=50093247002 u=50093247039 does not continue the chain: expected U == 50093246973 (previous u + 1)',
    });
    const repair = await load(file, { policies: { malformed_row: 'repair' } }, false);
    // 'repair' rounds those sizes to the lot: the messages are kept and the chain stays intact.
    expect(repair.report.problems).toEqual({ ...noProblems, malformed_row: 3 });
    expect(repair.report.examples.malformed_row?.[0]?.message).toContain('rounded to the nearest lot');
    expect(repair.report.records['delta']! - skip.report.records['delta']!).toBe(142);
  });

  it('cm/btcusd_perp_20240808.gz: COIN-M counts, inverse instrument with a 100 USD contract, batches reused', async () => {
    const file = `${DATA}hftbacktest/cm/btcusd_perp_20240808.gz`;
    const instruments = newInstrumentRegistry();
    const { report, batchObjects, batches } = await load(file, { instruments, batchSize: 4096 }, false);
    expect(report.rows).toBe(48_270);
    expect(report.records['quote']).toBe(19_136);
    expect(report.records['trade']).toBe(2_286);
    expect(report.problems).toEqual(noProblems);
    const inst = instruments.find('BTCUSD_PERP', 'BINANCE_COINM')!;
    expect([inst.isInverse, inst.multiplier.text, inst.tickSize.text, inst.lotSize.text]).toEqual([
      true,
      '100',
      '0.1',
      '1',
    ]);
    expect(batches).toBeGreaterThan(70);
    expect(batchObjects).toBe(1);
  });
});

function readLines(file: string, n: number): string[] {
  return gunzipSync(readFileSync(file)).toString('utf8').split('\n').slice(0, n);
}

describe('Binance capture loader on synthetic files (policies, malformed rows, gzip, inference)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bot4-capture-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const T0 = 1723161255000000000n;
  const line = (k: number, json: string) => `${T0 + BigInt(k) * 1_000_000n} ${json}`;
  const trade = (t: number, id: number, p: string, q = '0.010') =>
    `{"stream":"btcusdt@trade","data":{"e":"trade","E":${t},"T":${t},"s":"BTCUSDT","t":${id},"p":"${p}","q":"${q}","m":true}}`;
  const depth = (U: number, u: number, pu: number, t = 1723161256000) =>
    `{"stream":"btcusdt@depth@0ms","data":{"e":"depthUpdate","E":${t},"T":${t},"s":"BTCUSDT","U":${U},"u":${u},"pu":${pu},"b":[["61800.20","1.000"]],"a":[["61800.30","2.000"]]}}`;

  function write(name: string, lines: string[], gz = true): string {
    const p = join(dir, 'usdm', name);
    mkdirSync(join(dir, 'usdm'), { recursive: true });
    const text = `${lines.join('\n')}\n`;
    writeFileSync(p, gz ? gzipSync(text) : text);
    return p;
  }

  const bad = [
    line(1, trade(1723161256001, 100, '61800.30')),
    'not a capture line',
    line(3, '{"stream":"btcusdt@trade","data":{"e":"trade",'),
    line(4, trade(1723161256002, 101, '61800.35')),
    line(5, trade(1723161256000, 102, '61800.40')),
    line(6, trade(1723161256003, 102, '61800.50')),
    line(7, trade(1723161256004, 103, '61800.60', '0')),
    line(8, trade(1723161256005, 104, '61800.70')),
  ];

  it('skip: each problem counted with file line and reason; good rows kept; gzip detected by magic', async () => {
    const file = write('bad.gz', bad);
    const { report, rows } = await load(file);
    expect(report.rows).toBe(8);
    expect(report.records).toEqual({ trade: 2 });
    expect(rows.map((r) => r[7])).toEqual([100, 104]);
    expect(report.problems).toEqual({
      ...noProblems,
      malformed_row: 3,
      out_of_order: 1,
      duplicate_trade: 1,
      non_positive: 1,
    });
    expect(report.examples.malformed_row).toEqual([
      { line: 2, message: 'expected "<local ns> <json>", got "not a capture line"' },
      {
        line: 3,
        message: 'not valid JSON: "{\\"stream\\":\\"btcusdt@trade\\",\\"data\\":{\\"e\\":\\"trade\\","',
      },
      { line: 4, message: 'price 61800.35 is not a multiple of tick size 0.1 (BTCUSDT.BINANCE_USDM)' },
    ]);
    expect(report.examples.out_of_order?.[0]?.line).toBe(5);
    expect(report.examples.duplicate_trade?.[0]?.line).toBe(6);
    expect(report.examples.non_positive?.[0]).toEqual({
      line: 7,
      message: 'trade price 618006 ticks and size 0 lots must both be > 0',
    });
  });

  it('fail: the first problem throws DATA_MALFORMED naming file and line', async () => {
    const file = write('bad-plain.txt', bad, false);
    const err = await load(file, { policies: { malformed_row: 'fail' } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Bot4Error);
    expect((err as Bot4Error).code).toBe(ErrorCode.DATA_MALFORMED);
    expect((err as Bot4Error).message).toBe(
      `${file}:2: malformed_row: expected "<local ns> <json>", got "not a capture line"`,
    );
    expect((err as Bot4Error).details).toMatchObject({ file, line: 2, problem: 'malformed_row' });
  });

  it('out_of_order repair clamps the event time to the previous one', async () => {
    const file = write(
      'ooo.gz',
      bad.filter((_, i) => i === 0 || i === 4),
    );
    const { report, rows } = await load(file, { policies: { out_of_order: 'repair' } });
    expect(report.problems.out_of_order).toBe(1);
    expect(rows.map((r) => r[1])).toEqual([1723161256001000, 1723161256001000]);
  });

  it('sequence gaps (futures pu rule): repair flags the next message GAP, skip drops it, fail throws', async () => {
    const lines = [
      line(1, depth(10, 20, 9)),
      line(2, depth(21, 30, 20)),
      line(3, depth(35, 40, 33)),
      line(4, depth(41, 50, 40)),
    ];
    const file = write('gap.gz', lines);
    const rep = await load(file);
    expect(rep.report.problems.sequence_gap).toBe(1);
    expect(rep.report.examples.sequence_gap?.[0]).toEqual({
      line: 3,
      message: 'depth update U=35 u=40 pu=33 does not continue the chain: expected pu == 30 (previous u)',
    });
    expect(rep.rows.map((r) => r[6])).toEqual([
      0,
      DeltaFlag.LAST,
      0,
      DeltaFlag.LAST,
      DeltaFlag.GAP,
      DeltaFlag.LAST,
      0,
      DeltaFlag.LAST,
    ]);
    const skip = await load(file, { policies: { sequence_gap: 'skip' } });
    expect(skip.rows.map((r) => r[7])).toEqual([20, 20, 30, 30, 50, 50]);
    await expect(load(file, { policies: { sequence_gap: 'fail' } })).rejects.toThrow(
      `${file}:3: sequence_gap:`,
    );
  });

  it('a symbol without known metadata gets tick and lot inferred from the file, and says so', async () => {
    const sushi = (t: number, id: number, p: string, q: string) =>
      line(
        id,
        `{"stream":"sushiusdt@trade","data":{"e":"trade","E":${t},"T":${t},"s":"SUSHIUSDT","t":${id},"p":"${p}","q":"${q}","m":false}}`,
      );
    const file = write('sushi.gz', [
      sushi(1, 1, '7.6110', '2'),
      sushi(2, 2, '7.6125', '297'),
      sushi(3, 3, '7.6000', '0.5'),
    ]);
    const instruments = newInstrumentRegistry();
    const { report, rows } = await load(file, { instruments });
    expect(report.records).toEqual({ trade: 3 });
    const inst = instruments.find('SUSHIUSDT', 'BINANCE_USDM')!;
    expect([inst.tickSize.text, inst.lotSize.text, inst.base.code, inst.quote.code]).toEqual([
      '0.0001',
      '0.1',
      'SUSHI',
      'USDT',
    ]);
    expect(rows.map((r) => [r[3], r[4]])).toEqual([
      [76110, 20],
      [76125, 2970],
      [76000, 5],
    ]);
    expect(report.notes).toContain(
      'SUSHIUSDT.BINANCE_USDM: tick 0.0001, lot 0.1 (inferred from the decimals in the data)',
    );
  });

  it('lines read in place from the bytes: CRLF, exponents, truncated, negative, missing fields, no final newline', async () => {
    const lines = [
      `${line(1, trade(1723161256001, 100, '61800.30'))}\r\n`,
      `${line(2, trade(1723161256002, 101, '6.180040e4', '1E-2'))}\n`,
      `${line(3, trade(1723161256003, 102, '61800.50')).slice(0, -40)}\n`,
      `${line(4, trade(1723161256004, 103, '-61800.50'))}\n`,
      `${line(5, trade(1723161256005, 104, '61800.50')).replace(',"q":"0.010"', '')}\n`,
      '\n',
      `${T0}\n`,
      `${line(8, trade(1723161256008, 105, '61800.60', '0.020'))}`,
    ];
    mkdirSync(join(dir, 'usdm'), { recursive: true });
    const file = join(dir, 'usdm', 'bytes.gz');
    writeFileSync(file, gzipSync(lines.join('')));
    const { report, rows } = await load(file);
    expect(report.rows).toBe(7);
    expect(rows.map((r) => [r[7], r[3], r[4]])).toEqual([
      [100, 618003, 10],
      [101, 618004, 10],
      [105, 618006, 20],
    ]);
    expect(report.problems).toEqual({ ...noProblems, malformed_row: 4 });
    expect(report.examples.malformed_row?.map((e) => e.line)).toEqual([3, 4, 5, 7]);
    expect(report.examples.malformed_row?.[1]?.message).toMatch(/negative|-61800\.50/);
    expect(report.examples.malformed_row?.[2]?.message).toBe('message lacks p and q');
    expect(report.examples.malformed_row?.[3]?.message).toBe(`expected "<local ns> <json>", got "${T0}"`);
  });

  it('progress reports bytes of the file read (compressed bytes for gzip), ending at the file size', async () => {
    const file = write('progress.gz', bad);
    const seen: number[] = [];
    await load(file, { onProgress: (p) => seen.push(p.bytesRead, p.bytesTotal) });
    const size = readFileSync(file).length;
    expect(seen.slice(-2)).toEqual([size, size]);
  });

  it('market from the folder or the stream shape', () => {
    expect(binanceMarketOf('/x/spot/a.gz', '')).toBe('spot');
    expect(binanceMarketOf('/x/cm/a.gz', '')).toBe('coinm');
    expect(binanceMarketOf('/x/y.gz', '1 {"data":{"e":"depthUpdate","pu":1}}')).toBe('usdm');
    expect(binanceMarketOf('/x/y.gz', '1 {"data":{"s":"BTCUSD_PERP"}}')).toBe('coinm');
  });
});
