// Part of the parser's real-capture check (see messages.captures.test.ts): the COIN-M files.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { present } from '../../core/test-resources.ts';
import { newInstrumentRegistry } from '../../model/instrument.ts';
import { knownBinanceSpec } from './known-instruments.ts';
import { BinanceParser, ParseResult } from './messages.ts';
import { CAPTURES, compare } from './reference.test-util.ts';

const DATA = fileURLToPath(new URL('../../../../shared/data/', import.meta.url));
const HAVE_DATA = present(DATA, 'shared market data');

describe.skipIf(!HAVE_DATA)(
  `every message of the COIN-M captures${HAVE_DATA ? '' : ' (SKIPPED: ../shared/data not found)'}`,
  () => {
    for (const [rel, market, symbol, offGrid] of CAPTURES.filter((c) => c[1] === 'coinm')) {
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
  },
);
