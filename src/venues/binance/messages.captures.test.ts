// The parser's correctness check: every message of the real Binance captures decodes exactly as the JSON.parse
// reference does (rows, ticks, lots, flags, ids, times), with no message needing the JSON.parse fallback.
// Spot and cryptofeed here; USD-M and COIN-M in messages.captures-futures/-coinm.test.ts (split to keep each fast).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { present } from '../../core/test-resources.ts';
import { BINANCE_VENUES } from '../../model/binance-instruments.ts';
import { type Instrument, InstrumentKind, newInstrumentRegistry } from '../../model/instrument.ts';
import { knownBinanceSpec } from './known-instruments.ts';
import { BinanceParser, ParseResult } from './messages.ts';
import { CAPTURES, compare } from './reference.test-util.ts';

const DATA = fileURLToPath(new URL('../../../../shared/data/', import.meta.url));
const HAVE_DATA = present(DATA, 'shared market data');

describe.skipIf(!HAVE_DATA)(
  `every message of the real captures${HAVE_DATA ? '' : ' (SKIPPED: ../shared/data not found)'}`,
  () => {
    for (const [rel, market, symbol, offGrid] of CAPTURES.filter((c) => c[1] === 'spot')) {
      it(`hftbacktest/${rel}`, () => {
        const reg = newInstrumentRegistry();
        const inst = reg.add(knownBinanceSpec(market, symbol)!);
        const parser = new BinanceParser((s) => (s === symbol ? inst : undefined));
        parser.defaultInstrument = inst;
        const lines = gunzipSync(readFileSync(`${DATA}hftbacktest/${rel}`))
          .toString('utf8')
          .split('\n');
        const counts = compare(
          lines,
          (l) => l.indexOf(' ') + 1,
          parser,
          () => inst,
        );
        expect(parser.fallbacks).toBe(0);
        expect(counts[ParseResult.BAD_VALUE] ?? 0).toBe(offGrid);
        expect(counts[ParseResult.UNKNOWN] ?? 0).toBe(0);
      });
    }

    it('cryptofeed/BINANCE_FUTURES.ws.1.0 (4 symbols, aggTrade, depth@100ms, bookTicker, kline_1m)', () => {
      const reg = newInstrumentRegistry();
      const insts = new Map<string, Instrument>();
      const get = (s: string) => {
        let i = insts.get(s);
        if (i === undefined) {
          i = reg.add({
            symbol: s,
            venue: BINANCE_VENUES.usdm,
            kind: InstrumentKind.PERPETUAL,
            base: s.replace(/USDT$/, ''),
            quote: 'USDT',
            settlement: 'USDT',
            tickSize: '0.00000001',
            lotSize: '0.001',
          });
          insts.set(s, i);
        }
        return i;
      };
      const parser = new BinanceParser(get);
      const lines = readFileSync(`${DATA}cryptofeed/BINANCE_FUTURES.ws.1.0`, 'utf8').split('\n');
      const counts = compare(
        lines,
        (l) => (l.charCodeAt(0) >= 48 && l.charCodeAt(0) <= 57 ? l.indexOf(': ') + 2 : -1),
        parser,
        (m) => get(/"s":"([A-Z0-9]+)"/.exec(m)?.[1] ?? ''),
      );
      // README: 764 depth@100ms, 613 bookTicker, 91 aggTrade, 67 kline_1m.
      expect(counts).toEqual({
        [ParseResult.DEPTH]: 764,
        [ParseResult.QUOTE]: 613,
        [ParseResult.TRADE]: 91,
        [ParseResult.UNKNOWN]: 67,
      });
      expect(parser.fallbacks).toBe(0);
    });
  },
);
