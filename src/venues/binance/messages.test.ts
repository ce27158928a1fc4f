import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { present } from '../../core/test-resources.ts';
import { BINANCE_VENUES } from '../../model/binance-instruments.ts';
import { type Instrument, InstrumentKind, newInstrumentRegistry } from '../../model/instrument.ts';
import { DeltaFlag, EventBatch, RecordKind, Side } from '../../model/market-data.ts';
import { knownBinanceSpec } from './known-instruments.ts';
import { BinanceEvent, BinanceParser, ParseResult } from './messages.ts';
import { batchRows, referenceRows } from './reference.test-util.ts';

const DATA = fileURLToPath(new URL('../../../../shared/data/', import.meta.url));
const HAVE_DATA = present(DATA, 'shared market data');

function setup(market: 'spot' | 'usdm' | 'coinm' = 'usdm', symbol = 'BTCUSDT') {
  const reg = newInstrumentRegistry();
  const inst = reg.add(knownBinanceSpec(market, symbol)!);
  const seen: string[] = [];
  const parser = new BinanceParser((s) => {
    seen.push(s);
    return s === symbol ? inst : undefined;
  });
  return { reg, inst, parser, seen, out: new EventBatch(4096) };
}

const USDM_BT =
  '{"stream":"btcusdt@bookTicker","data":{"e":"bookTicker","u":5123107839020,"s":"BTCUSDT","b":"61800.20","B":"2.507","a":"61800.30","A":"2.510","T":1723161256313,"E":1723161256313}}';
const USDM_TRADE =
  '{"stream":"btcusdt@trade","data":{"e":"trade","E":1723161256322,"T":1723161256322,"s":"BTCUSDT","t":5266583935,"p":"61800.30","q":"0.006","X":"MARKET","m":false}}';
const USDM_DEPTH =
  '{"stream":"btcusdt@depth@0ms","data":{"e":"depthUpdate","E":1723161256299,"T":1723161256298,"s":"BTCUSDT","U":5123107832006,"u":5123107837557,"pu":5123107831937,"b":[["58710.20","0.014"],["61510.90","0.000"]],"a":[["61800.30","3.330"]]}}';

describe('BinanceParser: the message types', () => {
  it('futures bookTicker in the combined-stream wrapper -> one QUOTE row, tsEvent = T', () => {
    const { parser, out, inst } = setup();
    expect(parser.parse(USDM_BT, 0, 42, out)).toBe(ParseResult.QUOTE);
    expect(batchRows(out, 0, out.length)).toEqual([
      [RecordKind.QUOTE, inst.id, 1723161256313000, 42, 618002, 2507, 618003, 2510, 5123107839020],
    ]);
    expect(parser.event).toBe(BinanceEvent.BOOK_TICKER);
    expect(parser.venueTime).toBe(true);
  });

  it('spot bookTicker (no "e", no time) is recognised by shape; tsEvent = tsInit', () => {
    const { parser, out, inst } = setup('spot');
    const msg =
      '{"stream":"btcusdt@bookTicker","data":{"u":50093239212,"s":"BTCUSDT","b":"61837.63000000","B":"3.78826000","a":"61837.64000000","A":"1.54698000"}}';
    expect(parser.parse(msg, 0, 1723161254087891, out)).toBe(ParseResult.QUOTE);
    expect(batchRows(out, 0, 1)).toEqual([
      [
        RecordKind.QUOTE,
        inst.id,
        1723161254087891,
        1723161254087891,
        6183763,
        378826,
        6183764,
        154698,
        50093239212,
      ],
    ]);
    expect(parser.venueTime).toBe(false);
  });

  it('trade: T as tsEvent, t as seq, m=false -> taker bought', () => {
    const { parser, out, inst } = setup();
    expect(parser.parse(USDM_TRADE, 0, 7, out)).toBe(ParseResult.TRADE);
    expect(batchRows(out, 0, 1)).toEqual([
      [RecordKind.TRADE, inst.id, 1723161256322000, 7, 618003, 6, Side.BUY, 0, 5266583935],
    ]);
  });

  it('aggTrade: a as seq, m=true -> taker sold', () => {
    const { parser, out, inst } = setup('spot', 'ETHUSDT');
    const msg =
      '{"stream":"ethusdt@aggTrade","data":{"e":"aggTrade","E":1675759520848,"s":"ETHUSDT","a":226532,"p":"1632.46000000","q":"0.34300000","f":228423,"l":228423,"T":1675759520847,"m":true,"M":true}}';
    expect(parser.parse(msg, 0, 1, out)).toBe(ParseResult.TRADE);
    expect(batchRows(out, 0, 1)).toEqual([
      [RecordKind.TRADE, inst.id, 1675759520847000, 1, 163246, 3430, Side.SELL, 0, 226532],
    ]);
  });

  it('depthUpdate: one DELTA per level, bids then asks, LAST on the final one, ids exposed', () => {
    const { parser, out, inst } = setup();
    expect(parser.parse(USDM_DEPTH, 0, 5, out)).toBe(ParseResult.DEPTH);
    const t = 1723161256298000;
    const u = 5123107837557;
    expect(batchRows(out, 0, out.length)).toEqual([
      [RecordKind.DELTA, inst.id, t, 5, 587102, 14, Side.BUY, 0, u],
      [RecordKind.DELTA, inst.id, t, 5, 615109, 0, Side.BUY, 0, u],
      [RecordKind.DELTA, inst.id, t, 5, 618003, 3330, Side.SELL, DeltaFlag.LAST, u],
    ]);
    expect([parser.firstId, parser.lastId, parser.prevId]).toEqual([5123107832006, u, 5123107831937]);
    expect([parser.rowStart, parser.rowEnd]).toEqual([0, 3]);
  });

  it('REST depth snapshot (no symbol) uses defaultInstrument; SNAPSHOT rows, CLEAR first, LAST final', () => {
    const { parser, out, inst } = setup();
    const snap =
      '{"lastUpdateId":5123107852948,"E":1723161256501,"T":1723161256493,"bids":[["61800.20","2.909"]],"asks":[["61800.30","1.000"],["61800.40","0.5"]]}';
    expect(parser.parse(snap, 0, 9, out)).toBe(ParseResult.NO_INSTRUMENT);
    parser.defaultInstrument = inst;
    expect(parser.parse(snap, 0, 9, out)).toBe(ParseResult.SNAPSHOT);
    const S = DeltaFlag.SNAPSHOT;
    expect(batchRows(out, 0, out.length)).toEqual([
      [
        RecordKind.DELTA,
        inst.id,
        1723161256493000,
        9,
        618002,
        2909,
        Side.BUY,
        S | DeltaFlag.CLEAR,
        5123107852948,
      ],
      [RecordKind.DELTA, inst.id, 1723161256493000, 9, 618003, 1000, Side.SELL, S, 5123107852948],
      [
        RecordKind.DELTA,
        inst.id,
        1723161256493000,
        9,
        618004,
        500,
        Side.SELL,
        S | DeltaFlag.LAST,
        5123107852948,
      ],
    ]);
  });

  // The mark-price message is nautilus_trader's fixture in ../shared/data.
  it.skipIf(!HAVE_DATA)(
    'markPriceUpdate -> MARK (rounded half-even to the tick) and FUNDING (1e-8 units, next funding time)',
    () => {
      const { parser, out, inst } = setup();
      const msg = readFixture('futures_market_data_json/mark_price_stream.json');
      expect(parser.parse(msg, 0, 3, out)).toBe(ParseResult.MARK);
      // p 11794.15000000 -> 117941.5 ticks -> half-even 117942; i 11784.62659091 -> 117846.27 -> 117846.
      expect(batchRows(out, 0, out.length)).toEqual([
        [RecordKind.MARK_PRICE, inst.id, 1562305380000000, 3, 117942, 117846, 0, 0, 0],
        [RecordKind.FUNDING_RATE, inst.id, 1562305380000000, 3, 38167, 1562306400000000, 0, 0, 0],
      ]);
    },
  );

  it('unknown event types and non-events are result codes, not throws; garbage is MALFORMED', () => {
    const { parser, out } = setup();
    expect(parser.parse('{"e":"kline","E":1,"s":"BTCUSDT","k":{"t":1,"o":"1"}}', 0, 0, out)).toBe(
      ParseResult.UNKNOWN,
    );
    expect(parser.eventType()).toBe('kline');
    expect(parser.parse('{"result":null,"id":1}', 0, 0, out)).toBe(ParseResult.UNKNOWN);
    expect(parser.parse('{"e":"trade",', 0, 0, out)).toBe(ParseResult.MALFORMED);
    expect(parser.parse('', 0, 0, out)).toBe(ParseResult.MALFORMED);
    expect(parser.parse('[1,2]', 0, 0, out)).toBe(ParseResult.UNKNOWN);
    expect(out.length).toBe(0);
  });

  it('a price off the tick grid is BAD_VALUE with a message naming value, step and instrument', () => {
    const { parser, out } = setup();
    const msg = USDM_TRADE.replace('"61800.30"', '"61800.35"');
    expect(parser.parse(msg, 0, 0, out)).toBe(ParseResult.BAD_VALUE);
    expect(parser.describeError()).toBe(
      'price 61800.35 is not a multiple of tick size 0.1 (BTCUSDT.BINANCE_USDM)',
    );
    expect(out.length).toBe(0);
    const depth = USDM_DEPTH.replace('"0.014"', '"0.0145"');
    expect(parser.parse(depth, 0, 0, out)).toBe(ParseResult.BAD_VALUE);
    expect(parser.describeError()).toContain('bid size 0.0145 is not a multiple of lot size 0.001');
    expect(out.length).toBe(0);
    expect(parser.parse(USDM_TRADE.replace(',"p":"61800.30"', ''), 0, 0, out)).toBe(ParseResult.BAD_VALUE);
    expect(parser.describeError()).toBe('message lacks p and q');
    expect(parser.parse(USDM_TRADE.replace('"T":1723161256322', '"T":1.7e12'), 0, 0, out)).toBe(
      ParseResult.BAD_VALUE,
    );
    expect(parser.describeError()).toBe('message lacks an integer T (got a fraction or 16+ digits)');
  });

  it('unknown symbols are NO_INSTRUMENT, asked of the resolver once per distinct symbol', () => {
    const { parser, out, seen } = setup();
    const other = USDM_TRADE.replace('"BTCUSDT"', '"XYZUSDT"');
    expect(parser.parse(other, 0, 0, out)).toBe(ParseResult.NO_INSTRUMENT);
    expect(parser.describeError()).toBe('no instrument for symbol XYZUSDT');
    for (let i = 0; i < 3; i++) expect(parser.parse(USDM_TRADE, 0, 0, out)).toBe(ParseResult.TRADE);
    expect(seen).toEqual(['XYZUSDT', 'BTCUSDT']);
  });

  it('NO_ROOM leaves the batch untouched; the message parses once there is room', () => {
    const { parser, inst } = setup();
    const small = new EventBatch(2);
    small.push(RecordKind.QUOTE, inst.id, 1, 1, 1, 1, 2, 1);
    expect(parser.parse(USDM_DEPTH, 0, 0, small)).toBe(ParseResult.NO_ROOM);
    expect(small.length).toBe(1);
    small.clear();
    expect(parser.parse(USDM_DEPTH, 0, 0, small)).toBe(ParseResult.NO_ROOM); // 3 levels never fit in 2
    const big = new EventBatch(3);
    expect(parser.parse(USDM_DEPTH, 0, 0, big)).toBe(ParseResult.DEPTH);
  });

  it('parses from an offset (a capture line "<ns> <json>" without slicing)', () => {
    const { parser, out } = setup();
    const line = `1723161255088176367 ${USDM_TRADE}`;
    expect(parser.parse(line, 20, 0, out)).toBe(ParseResult.TRADE);
    expect(out.a[0]).toBe(618003);
  });

  it('whitespace, any key order, arrays before the symbol, and escapes (via the JSON.parse fallback)', () => {
    const { parser, out, inst } = setup();
    const want = referenceRows(USDM_DEPTH, inst, 0);
    const pretty = JSON.stringify(JSON.parse(USDM_DEPTH), null, 2);
    expect(parser.parse(pretty, 0, 0, out)).toBe(ParseResult.DEPTH);
    expect(batchRows(out, 0, out.length)).toEqual(want);
    out.clear();
    const d = JSON.parse(USDM_DEPTH).data;
    const reordered = JSON.stringify({
      a: d.a,
      b: d.b,
      u: d.u,
      U: d.U,
      pu: d.pu,
      T: d.T,
      E: d.E,
      e: d.e,
      s: d.s,
    });
    expect(parser.parse(reordered, 0, 0, out)).toBe(ParseResult.DEPTH);
    // Arrays met before the symbol are parsed after the object: same rows, bids first.
    expect(batchRows(out, 0, out.length)).toEqual(want);
    out.clear();
    const escaped = USDM_TRADE.replace('"BTCUSDT"', '"BTC\\u0055SDT"');
    const fb = parser.fallbacks;
    expect(parser.parse(escaped, 0, 0, out)).toBe(ParseResult.TRADE);
    expect(parser.fallbacks).toBe(fb + 1);
    expect(batchRows(out, 0, 1)).toEqual(referenceRows(USDM_TRADE, inst, 0));
  });

  it('property: truncated or corrupted messages never throw, and never leave rows behind on failure', () => {
    const { parser, inst } = setup();
    const msgs = [USDM_BT, USDM_TRADE, USDM_DEPTH];
    fc.assert(
      fc.property(
        fc.nat(2),
        fc.nat(),
        fc.integer({ min: 0, max: 127 }),
        fc.boolean(),
        (which, at, code, cut) => {
          const m = msgs[which]!;
          const i = at % m.length;
          const bad = cut ? m.slice(0, i) : m.slice(0, i) + String.fromCharCode(code) + m.slice(i + 1);
          const out = new EventBatch(64);
          out.push(RecordKind.QUOTE, inst.id, 1, 1, 1, 1, 2, 1);
          const r = parser.parse(bad, 0, 0, out);
          const ok = r === ParseResult.QUOTE || r === ParseResult.TRADE || r === ParseResult.DEPTH;
          if (!ok) expect(out.length).toBe(1);
          else {
            // Whatever it accepted must be what JSON.parse sees (when JSON.parse accepts it too).
            let ref: ReturnType<typeof referenceRows> | undefined;
            try {
              ref = referenceRows(bad, inst, 0);
            } catch {
              ref = undefined;
            }
            if (ref !== undefined && ref !== 'unknown')
              expect(batchRows(out, 1, out.length), bad).toEqual(ref);
          }
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('property: random depth messages decode exactly like the JSON.parse reference', () => {
    const { parser, inst } = setup();
    const level = fc.tuple(fc.integer({ min: 1, max: 20_000_000 }), fc.integer({ min: 0, max: 5_000_000 }));
    const text = (n: number, scale: number, pad: number) => {
      const s = String(n).padStart(scale + 1, '0');
      return `${s.slice(0, s.length - scale)}.${s.slice(s.length - scale)}${'0'.repeat(pad)}`;
    };
    fc.assert(
      fc.property(
        fc.array(level, { maxLength: 30 }),
        fc.array(level, { maxLength: 30 }),
        fc.nat(3),
        fc.boolean(),
        (bids, asks, pad, ws) => {
          const data = {
            e: 'depthUpdate',
            E: 1723161256299,
            T: 1723161256298,
            s: 'BTCUSDT',
            U: 1,
            u: 2,
            pu: 0,
            b: bids.map(([p, q]) => [text(p, 1, pad), text(q, 3, pad)]),
            a: asks.map(([p, q]) => [text(p, 1, 0), text(q, 3, 0)]),
          };
          const msg = JSON.stringify({ stream: 'btcusdt@depth', data }, null, ws ? 1 : 0);
          const out = new EventBatch(100);
          expect(parser.parse(msg, 0, 11, out)).toBe(ParseResult.DEPTH);
          expect(batchRows(out, 0, out.length)).toEqual(referenceRows(msg, inst, 11));
        },
      ),
      { numRuns: 300 },
    );
  });
});

function readFixture(rel: string): string {
  const p = `${DATA}nautilus_trader/binance_fixtures/${rel}`;
  if (!existsSync(p)) return '{}';
  return readFileSync(p, 'utf8');
}

describe.skipIf(!HAVE_DATA)(
  `BinanceParser on the nautilus fixtures${HAVE_DATA ? '' : ' (SKIPPED: ../shared/data not found)'}`,
  () => {
    const dirs = ['ws_messages', 'futures_market_data_json'];
    // Fixture symbols (BNBUSDT, ETHUSDT...) get a permissive instrument so every documented value converts.
    function permissive(): { parser: BinanceParser; insts: Map<string, Instrument> } {
      const reg = newInstrumentRegistry();
      const insts = new Map<string, Instrument>();
      const parser = new BinanceParser((s) => {
        let i = insts.get(s);
        if (i === undefined) {
          i = reg.add({
            symbol: s,
            venue: BINANCE_VENUES.usdm,
            kind: InstrumentKind.PERPETUAL,
            base: 'BTC',
            quote: 'USDT',
            settlement: 'USDT',
            tickSize: '0.0001',
            lotSize: '0.00001',
          });
          insts.set(s, i);
        }
        return i;
      });
      return { parser, insts };
    }
    const expected: Record<string, ParseResult> = {
      'ws_futures_book_ticker.json': ParseResult.QUOTE,
      'ws_futures_depth_diff_update.json': ParseResult.DEPTH,
      'ws_futures_depth_update.json': ParseResult.DEPTH,
      'ws_futures_ticker_24hr.json': ParseResult.UNKNOWN,
      'ws_futures_trade_lite.json': ParseResult.UNKNOWN,
      'ws_spot_agg_trade.json': ParseResult.TRADE,
      'ws_spot_ticker_24hr.json': ParseResult.UNKNOWN,
      'agg_trade_stream.json': ParseResult.TRADE,
      'book_ticker_stream.json': ParseResult.QUOTE,
      'depth_update_stream.json': ParseResult.DEPTH,
      'kline_stream_closed.json': ParseResult.UNKNOWN,
      'kline_stream_open.json': ParseResult.UNKNOWN,
      'liquidation_stream.json': ParseResult.UNKNOWN,
      'mark_price_stream.json': ParseResult.MARK,
      'ticker_stream.json': ParseResult.UNKNOWN,
      'trade_stream.json': ParseResult.TRADE,
    };
    for (const dir of dirs) {
      const path = `${DATA}nautilus_trader/binance_fixtures/${dir}/`;
      const files = existsSync(path) ? readdirSync(path).filter((f) => f.endsWith('.json')) : [];
      it(`${dir}: all ${files.length} files decode as the reference does (pretty-printed JSON)`, () => {
        expect(files.length).toBeGreaterThan(0);
        for (const f of files) {
          const msg = readFileSync(path + f, 'utf8');
          const { parser, insts } = permissive();
          const out = new EventBatch(64);
          const r = parser.parse(msg, 0, 123, out);
          expect(r, f).toBe(expected[f]);
          expect(parser.fallbacks, f).toBe(0);
          if (r === ParseResult.UNKNOWN) continue;
          const inst = insts.values().next().value as Instrument;
          expect(batchRows(out, 0, out.length), f).toEqual(referenceRows(msg, inst, 123));
        }
      });
    }
  },
);
