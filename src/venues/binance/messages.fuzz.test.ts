// Fuzzing the Binance message parser (the market-data hot path's reader of venue input): real captured
// messages from ../shared/data (spot, USD-M, COIN-M: bookTicker, trade, aggTrade, depth, markPrice) mutated
// (byte flips, truncation, splices, numeric extremes), plus arbitrary JSON values and strings. The parser's
// contract is to never throw: every input ends as a ParseResult; a reject writes no row.

import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FuzzTally, fuzzParams, mutatedText } from '../../core/fuzz.test-util.ts';
import { present, SHARED_DATA } from '../../core/test-resources.ts';
import { newInstrumentRegistry } from '../../model/instrument.ts';
import { EventBatch } from '../../model/market-data.ts';
import { knownBinanceSpec } from './known-instruments.ts';
import { BinanceParser, ParseResult } from './messages.ts';

const FILES = [
  ['spot', 'hftbacktest/spot/ethusdt_20240808.gz', 'ETHUSDT'],
  ['usdm', 'hftbacktest/usdm/ethusdt_20240808.gz', 'ETHUSDT'],
  ['coinm', 'hftbacktest/cm/ethusd_perp_20240808.gz', 'ETHUSD_PERP'],
] as const;
const HAVE = FILES.every(([, f]) => present(`${SHARED_DATA}${f}`, 'hftbacktest captures'));

/** Every `stride`-th message of a capture, JSON only (the local-time prefix cut), about `n` of them. */
function sample(file: string, n: number): string[] {
  const lines = gunzipSync(readFileSync(`${SHARED_DATA}${file}`))
    .toString('utf8')
    .split('\n');
  const stride = Math.max(1, Math.floor(lines.length / n));
  const out: string[] = [];
  for (let i = 0; i < lines.length; i += stride) {
    const l = lines[i]!;
    if (l !== '') out.push(l.slice(l.indexOf(' ') + 1));
  }
  return out;
}

const RESULTS = new Set<number>(Object.values(ParseResult));
const SUCCESS = new Set<number>([
  ParseResult.QUOTE,
  ParseResult.TRADE,
  ParseResult.DEPTH,
  ParseResult.MARK,
  ParseResult.SNAPSHOT,
]);

describe.skipIf(!HAVE)('BinanceParser fuzz (mutated real captures, arbitrary JSON)', () => {
  for (const [market, file, symbol] of FILES) {
    it(`${market}: never throws; each input is a ParseResult and a reject writes no row`, () => {
      const reg = newInstrumentRegistry();
      const inst = reg.add(knownBinanceSpec(market, symbol)!);
      const parser = new BinanceParser((s) => (s === symbol ? inst : undefined));
      parser.defaultInstrument = inst;
      const out = new EventBatch(4096);
      const seeds = sample(file, 400);
      const tally = new FuzzTally(`binance-parser ${market}`);
      const results = new Map<number, number>();
      const input = fc.oneof(
        { weight: 8, arbitrary: mutatedText(seeds) },
        { weight: 1, arbitrary: fc.jsonValue().map((v) => JSON.stringify(v)) },
        { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 200 }) },
      );
      fc.assert(
        fc.property(input, (msg) => {
          if (out.length > 3000) out.clear();
          const before = out.length;
          let r = 0;
          tally.check(
            () => {
              r = parser.parse(msg, 0, 1, out);
              if (!RESULTS.has(r)) throw new Error(`result ${r} is not a ParseResult`);
              if (!SUCCESS.has(r) && out.length !== before)
                throw new Error(`reject ${r} wrote ${out.length - before} rows`);
              if (r === ParseResult.BAD_VALUE || r === ParseResult.NO_INSTRUMENT) parser.describeError();
              parser.eventType();
            },
            () => msg,
          );
          results.set(r, (results.get(r) ?? 0) + 1);
        }),
        fuzzParams(2000),
      );
      tally.report();
      process.stderr.write(
        `  results: ${[...results].map(([k, v]) => `${Object.entries(ParseResult).find(([, x]) => x === k)?.[0]} ${v}`).join(', ')}\n`,
      );
      // The tally records a throw of any kind: the parser has no error to throw, only results.
      expect(tally.rejected).toBe(0);
      expect(tally.crashes).toEqual([]);
      // The mutations must leave enough intact messages for the fuzz to reach past the reject paths.
      expect([...SUCCESS].some((k) => (results.get(k) ?? 0) > 0)).toBe(true);
    });
  }
});
