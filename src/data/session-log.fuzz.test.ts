// The session log: rows written through the batching writer come back exactly and in order whatever the
// buffer size and flush points (property); a damaged file (byte flips, truncation, deletions, splices) is read
// without a crash: whole rows that are valid come back, damaged ones are counted, a cut-short last row is
// measured, and only a file that is not a session log at all is refused, with a Bot4Error naming it (fuzz).
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isBot4Error } from '../core/errors.ts';
import { fuzzParams, mutatedBytes } from '../core/fuzz.test-util.ts';
import { OrderEvent } from '../model/events.ts';
import { newInstrumentRegistry } from '../model/instrument.ts';
import { type EventBatch, RecordKind } from '../model/market-data.ts';
import { OrderRequest } from '../model/order.ts';
import { OrderEventKind } from '../model/order-state.ts';
import { Catalog } from './catalog.ts';
import { emptyReport } from './loader.ts';
import {
  CLOCK_TAG,
  Col,
  marketBatches,
  ORDER_TAG,
  parseSessionLog,
  ROW,
  readSessionLog,
  SESSION_LOG_HEADER_BYTES,
  SessionLogWriter,
  sessionLogLoader,
} from './session-log.ts';

const dir = mkdtempSync(join(tmpdir(), 'bot4-session-log-'));
const SPEC = {
  symbol: 'BTCUSDT',
  venue: 'BINANCE',
  kind: 0,
  base: 'BTC',
  quote: 'USDT',
  settlement: 'USDT',
  tickSize: '0.01',
  lotSize: '0.00001',
} as const;

type Row =
  | { t: 'quote'; ts: number; bid: number; ask: number }
  | { t: 'trade'; ts: number; px: number; qty: number }
  | { t: 'order'; kind: number; id: number; ts: number; q: number; px: number }
  | { t: 'flush' };

const rowArb: fc.Arbitrary<Row> = fc.oneof(
  fc.record({
    t: fc.constant('quote' as const),
    ts: fc.integer({ min: 1, max: 2 ** 52 }),
    bid: fc.nat(),
    ask: fc.nat(),
  }),
  fc.record({
    t: fc.constant('trade' as const),
    ts: fc.integer({ min: 1, max: 2 ** 52 }),
    px: fc.nat(),
    qty: fc.nat(),
  }),
  fc.record({
    t: fc.constant('order' as const),
    kind: fc.constantFrom(OrderEventKind.INITIALIZED, OrderEventKind.FILLED, OrderEventKind.CANCELED),
    id: fc.nat(),
    ts: fc.integer({ min: 1, max: 2 ** 52 }),
    q: fc.nat(),
    px: fc.nat(),
  }),
  fc.constant({ t: 'flush' as const }),
);

const ev = new OrderEvent();
const req = new OrderRequest();

/** Writes `rows` through a writer with `perBuffer` rows per buffer; returns the file. */
async function writeLog(name: string, rows: readonly Row[], perBuffer: number): Promise<string> {
  const file = join(dir, name);
  const w = new SessionLogWriter(file, perBuffer);
  for (const r of rows) {
    if (r.t === 'quote') w.market(RecordKind.QUOTE, 0, r.ts, r.ts + 1, r.bid, 1, r.ask, 2, 0, 0, 7);
    else if (r.t === 'trade') w.market(RecordKind.TRADE, 0, r.ts, r.ts + 1, r.px, r.qty, 1, 0, 0, 0, 9);
    else if (r.t === 'flush') w.flush();
    else {
      ev.init(r.kind as OrderEventKind, r.id as never, 1, r.ts as never, (r.ts + 2) as never);
      if (r.kind === OrderEventKind.INITIALIZED) {
        req.qty = r.q as never;
        req.price = r.px as never;
        ev.setRequest(req);
      } else if (r.kind === OrderEventKind.FILLED) ev.setFill(r.q, r.px, 0, -1, 0, '');
      w.orderEvent(ev);
    }
  }
  await w.close();
  expect(w.writeErrors).toBe(0);
  return file;
}

describe('session log', () => {
  it('reads back every row written, in order, whatever the buffer size and flush points', async () => {
    let n = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(rowArb, { maxLength: 300 }),
        fc.integer({ min: 1, max: 40 }),
        async (rows, per) => {
          const file = await writeLog(`prop-${n++}.b4s`, rows, per);
          const log = readSessionLog(file);
          const want = rows.filter((r) => r.t !== 'flush');
          expect(log).toMatchObject({ count: want.length, malformed: 0, truncatedBytes: 0 });
          want.forEach((r, i) => {
            const o = i * ROW;
            const tag = log.rows[o + Col.TAG]!;
            if (r.t === 'quote') {
              expect([tag, log.rows[o + Col.TS_EVENT], log.rows[o + Col.A], log.rows[o + Col.C]]).toEqual([
                RecordKind.QUOTE,
                r.ts,
                r.bid,
                r.ask,
              ]);
            } else if (r.t === 'trade') {
              expect([tag, log.rows[o + Col.TS_INIT], log.rows[o + Col.A], log.rows[o + Col.B]]).toEqual([
                RecordKind.TRADE,
                r.ts + 1,
                r.px,
                r.qty,
              ]);
            } else if (r.t === 'order') {
              const cols =
                r.kind === OrderEventKind.INITIALIZED
                  ? [log.rows[o + Col.E], log.rows[o + Col.F]]
                  : r.kind === OrderEventKind.FILLED
                    ? [log.rows[o + Col.C], log.rows[o + Col.D]]
                    : [r.q, r.px];
              expect([tag, log.rows[o + Col.A], log.rows[o + Col.TS_INIT], ...cols]).toEqual([
                ORDER_TAG + r.kind,
                r.id,
                r.ts + 2,
                r.q,
                r.px,
              ]);
            }
          });
        },
      ),
      fuzzParams(60),
    );
  }, 60_000);

  it('replays its market rows at engine time, the stop-time row as a row of no kind and no instrument', async () => {
    const file = join(dir, 'clock.b4s');
    const w = new SessionLogWriter(file, 2);
    w.market(RecordKind.QUOTE, 0, 100, 150, 1, 1, 2, 1, 0, 0, 0);
    w.market(RecordKind.TRADE, 0, 120, 160, 2, 1, 1, 0, 0, 0, 5);
    w.clock(900);
    await w.close();
    const rows: number[][] = [];
    for (const b of marketBatches(readSessionLog(file), 2)) {
      for (let i = 0; i < b.length; i++) rows.push([b.kind[i]!, b.instrument[i]!, b.tsEvent[i]!]);
    }
    expect(rows).toEqual([
      [RecordKind.QUOTE, 0, 150],
      [RecordKind.TRADE, 0, 160],
      [0, -1, 900],
    ]);
  });

  it('refuses a file that is not a session log, naming it', () => {
    const file = join(dir, 'not-a-log.b4s');
    writeFileSync(file, 'ts,price\n1,2\n');
    expect(() => readSessionLog(file)).toThrow(/not-a-log\.b4s: not a Bot4 session log/);
    expect(() => readSessionLog(join(dir, 'absent.b4s'))).toThrow(/absent\.b4s/);
  });

  it('fuzz: a damaged log never crashes the reader; valid rows come back, the rest is counted', async () => {
    const seed = readFileSync(
      await writeLog(
        'seed.b4s',
        Array.from(
          { length: 40 },
          (_, i): Row =>
            i % 3 === 0
              ? { t: 'order', kind: 13, id: i, ts: i + 1, q: 1, px: 5 }
              : { t: 'quote', ts: i + 1, bid: 10, ask: 11 },
        ),
        8,
      ),
    );
    let parsed = 0;
    fc.assert(
      fc.property(mutatedBytes([seed]), (bytes) => {
        let log: ReturnType<typeof parseSessionLog>;
        try {
          log = parseSessionLog(bytes, 'fuzz.b4s');
        } catch (e) {
          // Only a broken header is refused.
          expect(isBot4Error(e)).toBe(true);
          expect(
            bytes.length < SESSION_LOG_HEADER_BYTES ||
              !bytes.subarray(0, 8).equals(seed.subarray(0, 8)) ||
              bytes.readUInt32LE(8) !== ROW,
          ).toBe(true);
          return;
        }
        parsed++;
        const body = bytes.length - SESSION_LOG_HEADER_BYTES;
        expect(log.count + log.malformed).toBe(Math.floor(body / (ROW * 8)));
        expect(log.truncatedBytes).toBe(body % (ROW * 8));
        expect(log.examples.length).toBe(Math.min(log.malformed, 5));
        for (let i = 0; i < log.count; i++) {
          const tag = log.rows[i * ROW]!;
          expect(
            tag === RecordKind.QUOTE ||
              tag === RecordKind.TRADE ||
              tag === RecordKind.DELTA ||
              tag === CLOCK_TAG ||
              (tag >= ORDER_TAG && tag < ORDER_TAG + 14),
          ).toBe(true);
          expect(Number.isFinite(log.rows[i * ROW + Col.TS_INIT]!)).toBe(true);
        }
      }),
      fuzzParams(300),
    );
    expect(parsed).toBeGreaterThan(0);
  }, 60_000);

  it('imports into a catalog with damaged rows counted as dropped, never silently', async () => {
    const file = await writeLog(
      'damaged.b4s',
      [
        { t: 'quote', ts: 10, bid: 100, ask: 101 },
        { t: 'quote', ts: 20, bid: 100, ask: 102 },
        { t: 'trade', ts: 30, px: 101, qty: 3 },
        { t: 'order', kind: OrderEventKind.CANCELED, id: 1, ts: 31, q: 0, px: 0 },
      ],
      2,
    );
    const bytes = readFileSync(file);
    // The second row's tag becomes an unknown one, and half a row is appended (a crash mid-write).
    bytes.writeDoubleLE(99, SESSION_LOG_HEADER_BYTES + ROW * 8);
    writeFileSync(file, Buffer.concat([bytes, Buffer.alloc(20)]));
    const report = emptyReport(file);
    const batches: number[] = [];
    for await (const b of sessionLogLoader([SPEC]).load(
      file,
      { instruments: newInstrumentRegistry() },
      report,
    )) {
      batches.push(b.length);
    }
    expect(batches).toEqual([2]);
    expect(report).toMatchObject({
      rows: 2,
      records: { quote: 1, trade: 1 },
      problems: { malformed_row: 2 },
      dropped: { malformed_row: 2 },
      instruments: ['BTCUSDT.BINANCE'],
    });
    expect(report.examples.malformed_row?.map((e) => e.message)).toEqual([
      'row 2: unknown tag 99',
      'last row cut short (20 bytes)',
    ]);
    const catalog = Catalog.open(join(dir, 'catalog'));
    try {
      const r = await catalog.importFile(file, { loader: sessionLogLoader([SPEC]), instruments: [SPEC] });
      expect(r.record.records).toEqual({ quote: 1, trade: 1 });
      expect(r.record.dropped).toEqual({ malformed_row: 2 });
      const seen: number[] = [];
      for await (const b of catalog.query({
        instruments: ['BTCUSDT.BINANCE'],
      }) as AsyncIterable<EventBatch>) {
        for (let i = 0; i < b.length; i++) seen.push(b.tsEvent[i]!);
      }
      expect(seen).toEqual([10, 30]);
    } finally {
      catalog.close();
    }
  });
});
