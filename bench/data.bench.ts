// Data benchmarks: the Binance message parser against JSON.parse on the same real messages (ns/message), and
// the whole USD-M capture through the loader (events/s). Messages come from ../shared/data beside the repo;
// without it each benchmark returns a NaN measurement with extra.skipped naming the missing file.

import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { emptyReport } from '../src/data/loader.ts';
import { hftbacktestBinanceLoader } from '../src/data/loaders/binance-capture.ts';
import { newInstrumentRegistry } from '../src/model/instrument.ts';
import { EventBatch } from '../src/model/market-data.ts';
import { knownBinanceSpec } from '../src/venues/binance/known-instruments.ts';
import { BinanceParser } from '../src/venues/binance/messages.ts';
import {
  type BenchContext,
  type BenchOutcome,
  type BenchSpec,
  measure,
  median,
  sharedDataFile,
  skipped,
  startProbe,
} from './harness.ts';

const CAPTURE = sharedDataFile('hftbacktest/usdm/btcusdt_20240808.gz');
const MISSING = `../shared/data/hftbacktest/usdm/btcusdt_20240808.gz not found (see shared/data/README.md section 1)`;

let messages: Map<string, string[]> | undefined;

/** The capture's messages by event type, each a flat string (the JSON part of the line, as a venue sends it). */
function capture(file: string): Map<string, string[]> {
  if (messages !== undefined) return messages;
  const m = new Map<string, string[]>();
  for (const line of gunzipSync(readFileSync(file)).toString('utf8').split('\n')) {
    const at = line.indexOf(' ');
    if (at < 0) continue;
    const msg = Buffer.from(line.slice(at + 1)).toString('utf8');
    const e = /"e":"([A-Za-z]+)"/.exec(msg)?.[1] ?? 'other';
    let list = m.get(e);
    if (list === undefined) {
      list = [];
      m.set(e, list);
    }
    list.push(msg);
  }
  messages = m;
  return m;
}

function parseBench(id: string, event: string, title: string): BenchSpec {
  return {
    id,
    title,
    unit: 'ns/msg',
    better: 'lower',
    target: null,
    targetSource:
      'issue 4: faster than JSON.parse (JSON.parse of the same messages, measured in the same run, is the peer)',
    async run(ctx: BenchContext): Promise<BenchOutcome> {
      if (CAPTURE === undefined) return skipped(MISSING);
      const msgs = capture(CAPTURE).get(event) ?? [];
      if (msgs.length === 0) return skipped(`no ${event} messages in ${CAPTURE}`);
      const reg = newInstrumentRegistry();
      const inst = reg.add(knownBinanceSpec('usdm', 'BTCUSDT')!);
      const parser = new BinanceParser(() => inst);
      const out = new EventBatch(1 << 16);
      const len = msgs.length;
      let k = 0;
      const ours = await measure(ctx, (n) => {
        let rows = 0;
        for (let i = 0; i < n; i++) {
          if (out.length > 60_000) {
            rows += out.length;
            out.clear();
          }
          parser.parse(msgs[k]!, 0, 0, out);
          if (++k === len) k = 0;
        }
        return rows + out.length;
      });
      let j = 0;
      const peer = await measure(ctx, (n) => {
        let acc = 0;
        for (let i = 0; i < n; i++) {
          const o = JSON.parse(msgs[j]!) as { stream?: string };
          if (o.stream !== undefined) acc++;
          if (++j === len) j = 0;
        }
        return acc;
      });
      return {
        main: ours,
        peers: { 'JSON.parse': peer },
        extra: { messages: len, avg_chars: Math.round(msgs.reduce((a, m) => a + m.length, 0) / len) },
      };
    },
  };
}

export const benches: BenchSpec[] = [
  parseBench(
    'data.parse.binance_bookticker',
    'bookTicker',
    'Binance bookTicker message -> QUOTE row (ticks/lots), real USD-M capture',
  ),
  parseBench('data.parse.binance_trade', 'trade', 'Binance trade message -> TRADE row, real USD-M capture'),
  parseBench(
    'data.parse.binance_depth',
    'depthUpdate',
    'Binance depthUpdate message (avg 68 levels) -> DELTA rows, real USD-M capture',
  ),
  {
    id: 'data.load.binance_capture',
    title: 'usdm/btcusdt_20240808.gz through the capture loader (gunzip, lines, parse, validate)',
    unit: 'events/s',
    better: 'higher',
    target: null,
    targetSource: 'none set: throughput of the whole load path',
    async run(ctx: BenchContext): Promise<BenchOutcome> {
      const file = CAPTURE;
      if (file === undefined) return skipped(MISSING);
      const runs = ctx.quick ? 2 : 7;
      const rates: number[] = [];
      let events = 0;
      const once = async () => {
        const report = emptyReport(file);
        let n = 0;
        const t0 = process.hrtime.bigint();
        for await (const b of hftbacktestBinanceLoader.load(
          file,
          { instruments: newInstrumentRegistry() },
          report,
        )) {
          n += b.length;
        }
        const s = Number(process.hrtime.bigint() - t0) / 1e9;
        events = n;
        return n / s;
      };
      await once(); // warm-up
      const probe = startProbe();
      for (let i = 0; i < runs; i++) rates.push(await once());
      const main = await probe.finish(median(rates), null, runs);
      return { main, extra: { events, lines: 93_954 } };
    },
  },
];
