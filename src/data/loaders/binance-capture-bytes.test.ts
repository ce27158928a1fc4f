// The capture loader parses each line in place in the decompressed bytes (BinanceParser.parseBytes). Checked here
// on every line of the real captures: the bytes path gives the rows the string path gives, and every price and
// size it turns into ticks and lots is exactly the venue's decimal (steps * step === Number(text), both doubles).
// Then the byte bounds: a message cut anywhere inside a buffer that goes on (with the rest of it, or the next
// line) reads as the cut string does, never as the whole message.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { present } from '../../core/test-resources.ts';
import type { Step } from '../../model/decimal.ts';
import { newInstrumentRegistry } from '../../model/instrument.ts';
import { EventBatch, RecordKind } from '../../model/market-data.ts';
import { knownBinanceSpec } from '../../venues/binance/known-instruments.ts';
import { BinanceParser, ParseResult } from '../../venues/binance/messages.ts';
import { batchRows, CAPTURES } from '../../venues/binance/reference.test-util.ts';

const DATA = fileURLToPath(new URL('../../../../shared/data/', import.meta.url));
const HAVE_DATA = present(DATA, 'shared market data');
const NOTE = HAVE_DATA ? '' : ' (SKIPPED: ../shared/data not found beside the repo)';

/** The double of steps * step, computed as the exact integer units over the exact power of ten. */
function stepsValue(steps: number, step: Step): number {
  return (steps * step.units) / 10 ** step.scale;
}

type Levels = [string, string][];

/** Price and size texts of a message's rows, in row order (depth: bids then asks). */
function texts(msg: string): string[] {
  const o = JSON.parse(msg) as Record<string, unknown>;
  const d = (typeof o['data'] === 'object' ? o['data'] : o) as Record<string, unknown>;
  if (Array.isArray(d['b']) || Array.isArray(d['bids'])) {
    const out: string[] = [];
    for (const side of [d['b'] ?? d['bids'], d['a'] ?? d['asks']] as Levels[])
      for (const [p, q] of side) out.push(p, q);
    return out;
  }
  if (typeof d['B'] === 'string') return [d['b'], d['B'], d['a'], d['A']] as string[];
  return [d['p'], d['q']] as string[];
}

describe.skipIf(!HAVE_DATA)(`capture lines parsed as bytes, in place${NOTE}`, () => {
  for (const [rel, market, symbol] of CAPTURES) {
    it(`hftbacktest/${rel}: bytes == string path on every line; every value == Number(text)`, () => {
      const reg = newInstrumentRegistry();
      const inst = reg.add(knownBinanceSpec(market, symbol)!);
      const bytes = new BinanceParser((s) => (s === symbol ? inst : undefined));
      const strings = new BinanceParser((s) => (s === symbol ? inst : undefined));
      bytes.defaultInstrument = strings.defaultInstrument = inst;
      const a = new EventBatch(4096);
      const b = new EventBatch(4096);
      const buf = gunzipSync(readFileSync(`${DATA}hftbacktest/${rel}`));
      let lines = 0;
      let values = 0;
      for (let from = 0; from < buf.length; ) {
        let nl = buf.indexOf(10, from);
        if (nl < 0) nl = buf.length;
        const at = buf.indexOf(32, from) + 1;
        if (nl > from) {
          lines++;
          a.clear();
          b.clear();
          const ra = bytes.parseBytes(buf, at, nl, 7, a);
          const line = buf.toString('utf8', from, nl);
          const rb = strings.parse(line, at - from, 7, b);
          if (ra !== rb || a.length !== b.length) expect([ra, a.length], line).toEqual([rb, b.length]);
          const rowsA = batchRows(a, 0, a.length);
          const rowsB = batchRows(b, 0, b.length);
          if (JSON.stringify(rowsA) !== JSON.stringify(rowsB)) expect(rowsA, line).toEqual(rowsB);
          if (
            ra === ParseResult.QUOTE ||
            ra === ParseResult.TRADE ||
            ra === ParseResult.DEPTH ||
            ra === ParseResult.SNAPSHOT
          ) {
            const t = texts(line.slice(at - from));
            const got: number[] = [];
            for (let i = 0; i < a.length; i++) {
              got.push(stepsValue(a.a[i]!, inst.tickSize), stepsValue(a.b[i]!, inst.lotSize));
              if (a.kind[i] === RecordKind.QUOTE)
                got.push(stepsValue(a.c[i]!, inst.tickSize), stepsValue(a.d[i]!, inst.lotSize));
            }
            const want = t.map(Number);
            if (got.length !== want.length || got.some((v, k) => v !== want[k]))
              expect(got, line).toEqual(want);
            values += got.length;
          }
        }
        from = nl + 1;
      }
      expect(bytes.fallbacks).toBe(0);
      expect(lines).toBeGreaterThan(30_000);
      expect(values).toBeGreaterThan(lines);
    });
  }
});

describe('BinanceParser.parseBytes reads only its range', () => {
  const reg = newInstrumentRegistry();
  const inst = reg.add(knownBinanceSpec('usdm', 'BTCUSDT')!);
  const msgs = [
    '{"stream":"btcusdt@bookTicker","data":{"e":"bookTicker","u":5123107839020,"s":"BTCUSDT","b":"61800.20","B":"2.507","a":"61800.30","A":"2.510","T":1723161256313,"E":1723161256313}}',
    '{"stream":"btcusdt@trade","data":{"e":"trade","E":1723161256322,"T":1723161256322,"s":"BTCUSDT","t":5266583935,"p":"61800.30","q":"0.006","X":"MARKET","m":false}}',
    '{"stream":"btcusdt@depth@0ms","data":{"e":"depthUpdate","E":1723161256299,"T":1723161256298,"s":"BTCUSDT","U":5123107832006,"u":5123107837557,"pu":5123107831937,"b":[["58710.20","0.014"],["61510.90","0.000"]],"a":[["61800.30","3.330"]]}}',
    '{"e":"trade","E":1723161256322,"T":1723161256322,"s":"BTCUSDT","t":5266583935,"p":"6.180030e4","q":"6E-3","m":true}',
    '{"lastUpdateId":5123107830000,"E":1723161256290,"T":1723161256280,"bids":[["61800.20","1.000"]],"asks":[]}',
    '{ "u" : 400900217, "s" : "BTCUSDT", "b" : "61800.20", "B" : "2.507", "a" : "61800.30", "A" : "2.510" }',
    '{}',
    '{"stream":"x","data":{}}',
  ];
  const parser = () => {
    const p = new BinanceParser((s) => (s === 'BTCUSDT' ? inst : undefined));
    p.defaultInstrument = inst;
    return p;
  };
  const parse = (p: BinanceParser, m: string | Buffer, end: number) => {
    const out = new EventBatch(64);
    const r = typeof m === 'string' ? p.parse(m, 0, 1, out) : p.parseBytes(m, 0, end, 1, out);
    return { r, rows: batchRows(out, 0, out.length) };
  };

  it('property: a message cut anywhere reads as the cut string, whatever bytes follow the cut', () => {
    const p = parser();
    const q = parser();
    fc.assert(
      fc.property(fc.nat(msgs.length - 1), fc.nat(), fc.nat(3), (which, at, tail) => {
        const m = msgs[which]!;
        const cut = at % (m.length + 1);
        // What follows the cut: the rest of the message (which would complete it), a newline and the next
        // line, a CRLF, or nothing (the buffer ends).
        const rest = [m.slice(cut), `\n${m}`, `\r\n${m}`, ''][tail]!;
        const buf = Buffer.from(m.slice(0, cut) + rest);
        expect(parse(p, buf, cut), `${m.slice(0, cut)} | ${tail}`).toEqual(parse(q, m.slice(0, cut), 0));
      }),
      { numRuns: 3000 },
    );
  });

  it('every cut of each message, followed by the rest of it, is refused or read as the cut string', () => {
    const p = parser();
    const q = parser();
    for (const m of msgs) {
      const buf = Buffer.from(m);
      for (let cut = 0; cut < m.length; cut++) {
        const got = parse(p, buf, cut);
        expect(got, m.slice(0, cut)).toEqual(parse(q, m.slice(0, cut), 0));
        // No prefix of these messages is a complete message.
        expect([
          ParseResult.QUOTE,
          ParseResult.TRADE,
          ParseResult.DEPTH,
          ParseResult.SNAPSHOT,
          ParseResult.UNKNOWN,
        ]).not.toContain(got.r);
      }
      expect(parse(p, buf, m.length).r).not.toBe(ParseResult.MALFORMED);
    }
  });

  it('exponents, negative numbers, missing fields, escapes: the same outcome from bytes and from the string', () => {
    const p = parser();
    const q = parser();
    const trade = (px: string, qty: string) =>
      `{"e":"trade","E":1723161256322,"T":1723161256322,"s":"BTCUSDT","t":5,"p":"${px}","q":"${qty}","m":true}`;
    const cases: [string, ParseResult][] = [
      [trade('6.180030e4', '6E-3'), ParseResult.TRADE],
      [trade('618003e-1', '0.006'), ParseResult.TRADE],
      [trade('-61800.30', '0.006'), ParseResult.BAD_VALUE],
      [trade('61800.30', '-0.006'), ParseResult.BAD_VALUE],
      [trade('-0', '0.006'), ParseResult.TRADE],
      [trade('61800.35', '0.006'), ParseResult.BAD_VALUE],
      [trade('1e400', '0.006'), ParseResult.BAD_VALUE],
      [trade('', '0.006'), ParseResult.BAD_VALUE],
      [trade('6180O.3', '0.006'), ParseResult.BAD_VALUE],
      [trade('61800.30', '0.006').replace(',"q":"0.006"', ''), ParseResult.BAD_VALUE],
      [trade('61800.30', '0.006').replace('"t":5,', ''), ParseResult.BAD_VALUE],
      [trade('61800.30', '0.006').replace('"T":1723161256322,', '"T":-1723161256322,'), ParseResult.TRADE],
      [trade('61800.30', '0.006').replace('"s":"BTCUSDT"', '"s":"BTC\\u0055SDT"'), ParseResult.TRADE],
      [trade('61800.30', '0.006').replace('"m":true', '"m":true,"x":"caf\u00e9 \u20ac"'), ParseResult.TRADE],
      [trade('61800.30', '0.006').replace('"s":"BTCUSDT"', '"s":"ETHUSDT"'), ParseResult.NO_INSTRUMENT],
      ['{"e":"trade","E":1723161256322,"T":17231612', ParseResult.MALFORMED],
      ['', ParseResult.MALFORMED],
      ['   ', ParseResult.MALFORMED],
    ];
    for (const [m, want] of cases) {
      const got = parse(p, Buffer.from(`${m}\n${msgs[1]}`), Buffer.byteLength(m));
      expect(got.r, m).toBe(want);
      expect(got, m).toEqual(parse(q, m, 0));
      if (want === ParseResult.BAD_VALUE) expect(p.describeError()).toBe(q.describeError());
    }
  });
});
