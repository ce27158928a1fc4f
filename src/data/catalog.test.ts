import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Bot4Error, ErrorCode } from '../core/errors.ts';
import { present } from '../core/test-resources.ts';
import { InstrumentKind, type InstrumentSpec, newInstrumentRegistry } from '../model/instrument.ts';
import { EventBatch, RECORD_KIND_NAMES, RecordKind } from '../model/market-data.ts';
import { Catalog, gcdStep, stepRatio } from './catalog.ts';
import { emptyReport, type Loader } from './loader.ts';
import { detectLoader } from './loaders/index.ts';

const DATA = join(import.meta.dirname, '../../../shared/data');
const hasData = present(DATA, 'shared market data');

/** A row of the test files: kind, instrument key, tsEvent, tsInit, a..f, seq. */
type Row = [RecordKind, string, number, number, number, number, number, number, number, number, number];
interface TestFile {
  /** Makes otherwise equal files differ in content (the catalog identifies files by SHA-256). */
  nonce?: string;
  specs: InstrumentSpec[];
  rows: Row[];
  /** Throw a 'fail'-policy error at this row. */
  failAt?: number;
}

function spec(symbol: string, tick = '0.1', lot = '0.001'): InstrumentSpec {
  return {
    symbol,
    venue: 'TESTX',
    kind: InstrumentKind.SPOT,
    base: symbol.replace(/USDT$/, ''),
    quote: 'USDT',
    settlement: 'USDT',
    tickSize: tick,
    lotSize: lot,
  };
}

/** Reads a TestFile (JSON) and streams it in batches of 3, one reused batch, as real loaders do. */
const jsonLoader: Loader = {
  name: 'test-json',
  detect: () => true,
  async *load(file, options, report) {
    const f = JSON.parse(readFileSync(file, 'utf8')) as TestFile;
    const ids = new Map<string, number>();
    for (const s of f.specs) ids.set(`${s.symbol}.${s.venue}`, options.instruments.add(s).id);
    const b = new EventBatch(3);
    let line = 0;
    for (const r of f.rows) {
      line++;
      if (f.failAt === line) {
        throw new Bot4Error(ErrorCode.DATA_MALFORMED, `${file}:${line}: out_of_order: test`, { file, line });
      }
      report.rows++;
      b.push(r[0], ids.get(r[1])!, r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10]);
      const name = RECORD_KIND_NAMES[r[0]];
      report.records[name] = (report.records[name] ?? 0) + 1;
      report.firstTs = Math.min(report.firstTs, r[2]);
      report.lastTs = Math.max(report.lastTs, r[2]);
      if (!report.instruments.includes(r[1])) report.instruments.push(r[1]);
      if (b.full) {
        yield b;
        b.clear();
      }
    }
    if (b.length > 0) yield b;
  },
};

let root = '';
let n = 0;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'bot4-catalog-'));
});
afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

function fresh(): string {
  return join(root, `c${n++}`);
}

function writeTestFile(name: string, f: TestFile): string {
  const path = join(root, name);
  writeFileSync(path, JSON.stringify(f));
  return path;
}

interface Out {
  kind: number;
  key: string;
  ts: number;
  init: number;
  a: number;
  b: number;
  seq: number;
}

async function readAll(cat: Catalog, q: Parameters<Catalog['query']>[0] = {}): Promise<Out[]> {
  const s = cat.query(q);
  const out: Out[] = [];
  for await (const b of s) {
    for (let i = 0; i < b.length; i++) {
      out.push({
        kind: b.kind[i]!,
        key: s.registry.get(b.instrument[i]! as never)!.key,
        ts: b.tsEvent[i]!,
        init: b.tsInit[i]!,
        a: b.a[i]!,
        b: b.b[i]!,
        seq: b.seq[i]!,
      });
    }
  }
  return out;
}

describe('gcdStep / stepRatio', () => {
  it('finds the finest common step and exact ratios', () => {
    expect(gcdStep('0.01', '0.025')).toBe('0.005');
    expect(gcdStep('0.00001000', '0.000001')).toBe('0.000001');
    expect(gcdStep('5', '0.5')).toBe('0.5');
    expect(gcdStep('10', '4')).toBe('2');
    expect(stepRatio('0.01', '0.001')).toBe(10);
    expect(stepRatio('0.01000000', '0.01')).toBe(1);
    expect(Number.isNaN(stepRatio('0.025', '0.01'))).toBe(true);
  });
});

describe('Catalog', () => {
  it('stores imports and returns them merged by ts_event, ties by instrument, kind, import (property)', async () => {
    const kinds = [RecordKind.QUOTE, RecordKind.TRADE, RecordKind.DELTA] as const;
    const row = fc.tuple(
      fc.constantFrom(...kinds),
      fc.constantFrom('AAAUSDT.TESTX', 'BBBUSDT.TESTX'),
      fc.integer({ min: 0, max: 40 }),
      fc.integer({ min: 1, max: 1e6 }),
      fc.integer({ min: 0, max: 1e6 }),
    );
    const dir = fresh();
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.array(row, { maxLength: 25 }), fc.boolean()), { minLength: 1, maxLength: 3 }),
        fc.constantFrom(4, 1_000_000),
        async (files, flushRows) => {
          rmSync(dir, { recursive: true, force: true });
          run++;
          const cat = Catalog.open(dir);
          try {
            const expected: (Out & { imp: number; r: number })[] = [];
            let seq = 0;
            for (const [fi, [rows, inOrder]] of files.entries()) {
              // Loaders emit each (instrument, kind) in time order, except with some policies; both must work.
              const sorted = rows
                .map((r, i) => ({ r, i }))
                .sort((x, y) => (inOrder ? x.r[2] - y.r[2] : 0) || x.i - y.i);
              const f: TestFile = {
                nonce: `${run}-${fi}`,
                specs: [spec('AAAUSDT'), spec('BBBUSDT')],
                rows: sorted.map(
                  ({ r: [k, key, ts, a, b] }): Row => [
                    k,
                    key,
                    ts * 1000,
                    ts * 1000 + 7,
                    a,
                    b,
                    0,
                    0,
                    0,
                    0,
                    seq++,
                  ],
                ),
              };
              for (const [i, r] of f.rows.entries()) {
                expected.push({
                  kind: r[0],
                  key: r[1],
                  ts: r[2],
                  init: r[3],
                  a: r[4],
                  b: r[5],
                  seq: r[10],
                  imp: fi,
                  r: i,
                });
              }
              const imported = cat.importFile(writeTestFile(`p${run}-${fi}.json`, f), {
                loader: jsonLoader,
                flushRows,
              });
              // A file that gave no records is refused, not recorded (see 'refuses an import...' below).
              if (f.rows.length === 0) await expect(imported).rejects.toThrow(/produced no records/);
              else expect((await imported).status).toBe('imported');
            }
            expected.sort(
              (x, y) =>
                x.ts - y.ts ||
                (x.key < y.key ? -1 : x.key > y.key ? 1 : 0) ||
                x.kind - y.kind ||
                x.imp - y.imp ||
                x.r - y.r,
            );
            const want = expected.map(({ imp: _i, r: _r, ...o }) => o);
            // First read: Parquet through DuckDB (filling the decoded cache); second: from the cache.
            expect(await readAll(cat, { windowRows: 4 })).toEqual(want);
            expect(await readAll(cat, { windowRows: 4 })).toEqual(want);
            const [from, to] = [10_000, 30_000];
            const inRange = want.filter((o) => o.ts >= from && o.ts < to);
            expect(await readAll(cat, { windowRows: 4, from, to })).toEqual(inRange);
            const cold = Catalog.open(dir, { replayCache: false });
            expect(await readAll(cold, { windowRows: 4, from, to })).toEqual(inRange);
            cold.close();
          } finally {
            cat.close();
          }
        },
      ),
      { numRuns: 30 },
    );
  }, 300_000);

  it('keeps import order for equal times when a later import starts earlier', async () => {
    const cat = Catalog.open(fresh());
    const file = (name: string, rows: [number, number][]) =>
      writeTestFile(name, {
        specs: [spec('AAAUSDT')],
        rows: rows.map(
          ([ts, tag]): Row => [RecordKind.TRADE, 'AAAUSDT.TESTX', ts, ts, tag, 1, 1, 0, 0, 0, tag],
        ),
      });
    await cat.importFile(
      file('tieA.json', [
        [20, 1],
        [30, 2],
      ]),
      { loader: jsonLoader },
    );
    await cat.importFile(
      file('tieB.json', [
        [10, 3],
        [30, 4],
      ]),
      { loader: jsonLoader },
    );
    expect((await readAll(cat)).map((r) => r.a)).toEqual([3, 1, 2, 4]);
    cat.close();
  });

  it('selects instruments, kinds and [from, to)', async () => {
    const cat = Catalog.open(fresh());
    const rows: Row[] = [];
    for (let t = 0; t < 100; t++) {
      rows.push([RecordKind.TRADE, 'AAAUSDT.TESTX', t * 10, t * 10, 100 + t, 1, 1, 0, 0, 0, t]);
      rows.push([RecordKind.QUOTE, 'AAAUSDT.TESTX', t * 10 + 5, t * 10 + 5, 100, 1, 101, 1, 0, 0, t]);
      rows.push([RecordKind.TRADE, 'BBBUSDT.TESTX', t * 10 + 1, t * 10 + 1, 50, 2, 2, 0, 0, 0, t]);
    }
    await cat.importFile(writeTestFile('sel.json', { specs: [spec('AAAUSDT'), spec('BBBUSDT')], rows }), {
      loader: jsonLoader,
    });
    const got = await readAll(cat, {
      instruments: ['AAAUSDT'],
      kinds: [RecordKind.TRADE],
      from: 200,
      to: 500,
      windowRows: 8,
    });
    expect(got.map((r) => r.ts)).toEqual(Array.from({ length: 30 }, (_, i) => 200 + i * 10));
    expect(got.every((r) => r.key === 'AAAUSDT.TESTX' && r.kind === RecordKind.TRADE)).toBe(true);
    expect((await readAll(cat, { from: 995 })).map((r) => r.ts)).toEqual([995]);
    expect(await readAll(cat, { from: 2000 })).toEqual([]);
    expect(() => cat.query({ instruments: ['ZZZ'] })).toThrow(/not in catalog/);
    cat.close();
  });

  it('skips the same content, replaces a changed file at the same path, and re-imports with force', async () => {
    const dir = fresh();
    const cat = Catalog.open(dir);
    const rows = (p: number): Row[] => [[RecordKind.TRADE, 'AAAUSDT.TESTX', 1000, 1000, p, 1, 1, 0, 0, 0, 1]];
    const file = writeTestFile('idem.json', { specs: [spec('AAAUSDT')], rows: rows(10) });
    const first = await cat.importFile(file, { loader: jsonLoader });
    expect(first.status).toBe('imported');
    const again = await cat.importFile(file, { loader: jsonLoader });
    expect(again.status).toBe('skipped');
    expect(again.record.id).toBe(first.record.id);
    // Same bytes under another name: still the same content.
    const copy = writeTestFile('idem-copy.json', JSON.parse(readFileSync(file, 'utf8')) as TestFile);
    expect((await cat.importFile(copy, { loader: jsonLoader })).status).toBe('skipped');
    const oldPart = join(dir, first.record.parts[0]!.path);
    writeTestFile('idem.json', { specs: [spec('AAAUSDT')], rows: rows(20) });
    const changed = await cat.importFile(file, { loader: jsonLoader });
    expect(changed.status).toBe('replaced');
    expect(changed.replaced.map((r) => r.id)).toEqual([first.record.id]);
    expect(existsSync(oldPart)).toBe(false);
    expect((await readAll(cat)).map((r) => r.a)).toEqual([20]);
    const forced = await cat.importFile(file, { loader: jsonLoader, force: true });
    expect(forced.status).toBe('replaced');
    expect(cat.imports().map((i) => i.id)).toEqual([forced.record.id]);
    expect(cat.list().map((l) => [l.instrument, l.kind, l.rows])).toEqual([['AAAUSDT.TESTX', 'trade', 1]]);
    cat.close();
  });

  it('stores each file in its own steps and reads them exactly in the finest common step', async () => {
    const cat = Catalog.open(fresh());
    // 2021: lot 0.000001; 2024: lot 0.00001 and tick 0.1 (prices 61800.3 = 618003 ticks of 0.1).
    await cat.importFile(
      writeTestFile('fine.json', {
        specs: [spec('AAAUSDT', '0.01', '0.000001')],
        rows: [[RecordKind.TRADE, 'AAAUSDT.TESTX', 1, 1, 3_943_248, 263, 2, 0, 0, 0, 1]],
      }),
      { loader: jsonLoader },
    );
    await cat.importFile(
      writeTestFile('coarse.json', {
        specs: [spec('AAAUSDT', '0.1', '0.00001')],
        rows: [[RecordKind.QUOTE, 'AAAUSDT.TESTX', 2, 2, 618_003, 251, 618_004, 7, 0, 0, 9]],
      }),
      { loader: jsonLoader },
    );
    const s = cat.instrumentSpecs()[0]!;
    expect([s.tickSize, s.lotSize]).toEqual(['0.01', '0.000001']);
    const got = await readAll(cat);
    expect(got.map((r) => [r.a, r.b])).toEqual([
      [3_943_248, 263],
      [6_180_030, 2510],
    ]);
    // A registry with a coarser lot cannot express the 2021 file: the error names it.
    const reg = newInstrumentRegistry();
    reg.add(spec('AAAUSDT', '0.01', '0.00001'));
    expect(() => cat.query({ registry: reg })).toThrow(/cannot express/);
    const inspected = await cat.inspect('AAAUSDT');
    expect(inspected.kinds.map((k) => [k.kind, k.priceMin, k.priceMax])).toEqual([
      ['quote', '61800.3', '61800.4'],
      ['trade', '39432.48', '39432.48'],
    ]);
    expect(inspected.kinds[0]!.first[0]).toMatchObject({ bid_px: '61800.3', bid_qty: '0.00251' });
    cat.close();
  });

  it('leaves nothing behind when a fail policy stops the import', async () => {
    const dir = fresh();
    const cat = Catalog.open(dir);
    const rows: Row[] = Array.from(
      { length: 10 },
      (_, i): Row => [RecordKind.TRADE, 'AAAUSDT.TESTX', i, i, 1, 1, 1, 0, 0, 0, i],
    );
    await expect(
      cat.importFile(writeTestFile('fail.json', { specs: [spec('AAAUSDT')], rows, failAt: 8 }), {
        loader: jsonLoader,
      }),
    ).rejects.toThrow(/fail\.json:8: out_of_order/);
    expect(existsSync(join(dir, 'catalog.json'))).toBe(false);
    expect(existsSync(join(dir, '.lock'))).toBe(false);
    expect(
      existsSync(join(dir, 'data'))
        ? readdirSync(join(dir, 'data'), { recursive: true }).filter((f) => String(f).endsWith('.parquet'))
        : [],
    ).toEqual([]);
    cat.close();
  });

  it('refuses to import while another live process holds the lock, and clears a stale lock', async () => {
    const dir = fresh();
    const cat = Catalog.open(dir);
    const file = writeTestFile('lock.json', {
      specs: [spec('AAAUSDT')],
      rows: [[RecordKind.TRADE, 'AAAUSDT.TESTX', 1, 1, 1, 1, 1, 0, 0, 0, 1]],
    });
    await cat.importFile(file, { loader: jsonLoader });
    writeFileSync(join(dir, '.lock'), JSON.stringify({ pid: process.pid }));
    await expect(cat.importFile(file, { loader: jsonLoader, force: true })).rejects.toThrow(
      /busy: process \d+/,
    );
    writeFileSync(join(dir, '.lock'), JSON.stringify({ pid: 2 ** 22 + 12345 }));
    expect((await cat.importFile(file, { loader: jsonLoader, force: true })).status).toBe('replaced');
    cat.close();
  });

  it('lets a consumer stop early and be queried again', async () => {
    const cat = Catalog.open(fresh());
    const rows: Row[] = Array.from(
      { length: 5000 },
      (_, i): Row => [RecordKind.TRADE, 'AAAUSDT.TESTX', i, i, 1, 1, 1, 0, 0, 0, i],
    );
    await cat.importFile(writeTestFile('early.json', { specs: [spec('AAAUSDT')], rows }), {
      loader: jsonLoader,
    });
    for await (const b of cat.query({ windowRows: 512, batchSize: 100 })) {
      expect(b.length).toBe(100);
      break;
    }
    expect((await readAll(cat)).length).toBe(5000);
    cat.close();
  });

  it('fills the decoded cache only from whole-file reads, and ignores a damaged cache', async () => {
    const dir = fresh();
    const cat = Catalog.open(dir);
    const rows: Row[] = Array.from(
      { length: 50 },
      (_, i): Row => [RecordKind.TRADE, 'AAAUSDT.TESTX', i * 10, i, 7, 1, 1, 0, 0, 0, i],
    );
    await cat.importFile(writeTestFile('cache.json', { specs: [spec('AAAUSDT')], rows }), {
      loader: jsonLoader,
    });
    const part = cat.imports()[0]!.parts[0]!;
    expect((await readAll(cat, { from: 100, to: 200 })).length).toBe(10);
    expect(existsSync(cat.cachePath(part))).toBe(false);
    expect((await readAll(cat)).length).toBe(50);
    expect(existsSync(cat.cachePath(part))).toBe(true);
    expect((await readAll(cat, { from: 100, to: 200 })).map((r) => r.seq)).toEqual([
      10, 11, 12, 13, 14, 15, 16, 17, 18, 19,
    ]);
    writeFileSync(cat.cachePath(part), 'garbage');
    expect((await readAll(cat)).map((r) => r.seq)).toEqual(rows.map((r) => r[10]));
    // A cache that cannot be written (here: 'cache' is a file) only costs speed.
    rmSync(join(dir, 'cache'), { recursive: true, force: true });
    writeFileSync(join(dir, 'cache'), '');
    expect((await readAll(cat)).length).toBe(50);
    cat.close();
  });

  it('fails opening a missing catalog when asked to', () => {
    expect(() => Catalog.open(join(root, 'nothing-here'), { mustExist: true })).toThrow(/no catalog/);
  });
});

describe.skipIf(!hasData)('Catalog with a real capture (../shared/data)', () => {
  const file = join(DATA, 'hftbacktest/usdm/btcusdt_20240808.gz');
  let cat: Catalog;
  let direct: { records: Record<string, number>; sums: Map<number, number[]>; spec: InstrumentSpec };

  beforeAll(async () => {
    // The loader run straight, for reference.
    const reg = newInstrumentRegistry();
    const report = emptyReport(file);
    const sums = new Map<number, number[]>();
    for await (const b of detectLoader(file).load(file, { instruments: reg }, report)) {
      for (let i = 0; i < b.length; i++) {
        const s = sums.get(b.kind[i]!) ?? [0, 0, 0, 0];
        s[0]! += b.a[i]!;
        s[1]! += b.b[i]!;
        s[2]! += b.seq[i]!;
        s[3]! += b.tsEvent[i]! - 1.7e15;
        sums.set(b.kind[i]!, s);
      }
    }
    direct = { records: report.records, sums, spec: reg.all()[0]!.spec };
    cat = Catalog.open(fresh());
    const res = await cat.importFile(file);
    expect(res.status).toBe('imported');
  }, 180_000);

  afterAll(() => cat?.close());

  it('keeps every record and returns them in ts_event order with the same values', async () => {
    const s = cat.query();
    const sums = new Map<number, number[]>();
    let last = Number.NEGATIVE_INFINITY;
    let backwards = 0;
    let rows = 0;
    for await (const b of s) {
      for (let i = 0; i < b.length; i++) {
        const t = b.tsEvent[i]!;
        if (t < last) backwards++;
        last = t;
        const v = sums.get(b.kind[i]!) ?? [0, 0, 0, 0];
        v[0]! += b.a[i]!;
        v[1]! += b.b[i]!;
        v[2]! += b.seq[i]!;
        v[3]! += t - 1.7e15;
        sums.set(b.kind[i]!, v);
      }
      rows += b.length;
    }
    expect(rows).toBe(532_992);
    expect(backwards).toBe(0);
    expect(sums).toEqual(direct.sums);
    // The decoded cache was filled on the way; a second replay reads it and sees the same rows.
    for (const p of cat.imports()[0]!.parts) expect(existsSync(cat.cachePath(p))).toBe(true);
    const again = new Map<number, number[]>();
    for await (const b of cat.query()) {
      for (let i = 0; i < b.length; i++) {
        const v = again.get(b.kind[i]!) ?? [0, 0, 0, 0];
        v[0]! += b.a[i]!;
        v[1]! += b.b[i]!;
        v[2]! += b.seq[i]!;
        v[3]! += b.tsEvent[i]! - 1.7e15;
        again.set(b.kind[i]!, v);
      }
    }
    expect(again).toEqual(direct.sums);
    expect(s.sourceCount).toBe(3);
    expect(Object.fromEntries(cat.list().map((l) => [l.kind, l.rows]))).toEqual(direct.records);
  });

  it('rebuilds the registry with the loader’s tick and lot sizes', () => {
    const inst = cat.newRegistry().find('BTCUSDT', 'BINANCE_USDM')!;
    expect([inst.tickSize.text, inst.lotSize.text]).toEqual(['0.1', '0.001']);
    expect(inst.spec).toEqual(direct.spec);
    const bytes = cat.list().reduce((s, l) => s + l.bytes, 0);
    expect(bytes).toBe(cat.imports()[0]!.parts.reduce((s, p) => s + statSync(join(cat.dir, p.path)).size, 0));
  });

  it('inspects first/last rows, price range and gaps', async () => {
    const r = await cat.inspect('BTCUSDT', { kind: RecordKind.TRADE, rows: 2 });
    const k = r.kinds[0]!;
    expect(k.rows).toBe(21_313);
    expect(k.first[0]).toMatchObject({
      ts_event: '2024-08-08T23:54:16.322000Z',
      px: '61800.3',
      qty: '0.006',
      aggressor: 'buy',
    });
    expect(Number(k.priceMin)).toBeLessThanOrEqual(Number(k.priceMax));
    expect(k.largestGaps.length).toBe(3);
    expect(k.medianGapMicros).not.toBeNull();
    expect(r.imports[0]!.loader).toBe('binance-ws-capture');
  });
});

describe('Catalog refuses imports that would mislead later queries', () => {
  /** `datetime,open,high,low,close,volume` rows for days [from, to) of 2020. */
  const days = (name: string, from: number, to: number): string => {
    const rows = [];
    for (let i = from; i < to; i++) {
      const d = new Date(Date.UTC(2020, 0, 1) + i * 86_400_000).toISOString().slice(0, 10);
      rows.push(`${d},${100 + i},${101 + i},${99 + i},${100 + i},5`);
    }
    const path = join(root, name);
    writeFileSync(path, `datetime,open,high,low,close,volume\n${rows.join('\n')}\n`);
    return path;
  };
  const bars = (cat: Catalog): number =>
    cat
      .list()
      .filter((r) => r.kind === 'bar')
      .reduce((s, r) => s + r.rows, 0);

  it('a second file with bars already imported is refused naming the overlap; the new range alone imports', async () => {
    const dir = fresh();
    const cat = Catalog.open(dir);
    try {
      const a = days('binance_btcusdt_day_a.csv', 0, 200);
      expect((await cat.importFile(a)).status).toBe('imported');
      const b = days('binance_btcusdt_day_b.csv', 150, 366);
      const err = await cat.importFile(b).catch((e: unknown) => e as Bot4Error);
      expect(err).toBeInstanceOf(Bot4Error);
      expect((err as Bot4Error).code).toBe(ErrorCode.DATA_MALFORMED);
      // Bars are stored at their close: day 150 opens 2020-05-30 and closes 2020-05-31.
      expect((err as Error).message).toContain(
        `BTCUSDT.BINANCE bar 2020-05-31T00:00:00.000000Z -> 2020-07-19T00:00:00.000000Z already imported by #1 (${a})`,
      );
      expect(bars(cat)).toBe(200);
      expect(cat.imports()).toHaveLength(1);
      // Nothing of the refused import is left on disk.
      const files = readdirSync(join(dir, 'data/venue=BINANCE/symbol=BTCUSDT/kind=bar'));
      expect(files).toEqual(['i1-0.parquet']);
      const c = days('binance_btcusdt_day_c.csv', 200, 366);
      expect((await cat.importFile(c)).status).toBe('imported');
      expect(bars(cat)).toBe(366);
    } finally {
      cat.close();
    }
  });

  it('an import that gave no records (wrong --loader) is not recorded, so the right one is not skipped', async () => {
    const { loaderByName } = await import('./loaders/index.ts');
    const cat = Catalog.open(fresh());
    try {
      const f = days('binance_ethusdt_day_x.csv', 0, 30);
      const wrong = cat.importFile(f, { loader: loaderByName('binance-klines-csv') });
      await expect(wrong).rejects.toThrow(/binance-klines-csv loader read 31 rows and produced no records/);
      expect(cat.imports()).toHaveLength(0);
      const right = await cat.importFile(f);
      expect(right.status).toBe('imported');
      expect(bars(cat)).toBe(30);
    } finally {
      cat.close();
    }
  });
});
