// Book benchmarks on the real Binance USD-M BTCUSDT depth stream (hftbacktest capture in ../shared/data):
// level updates per second, best bid/ask reads and the market-order walk. The capture is parsed once into
// typed arrays so the measured loops only touch the book. Without the data the benchmarks report skipped.

import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { createGunzip } from 'node:zlib';
import { L2Book, type LevelList, Side, Sweep } from '../src/book/l2-book.ts';
import type { Micros, PriceTicks, QtyLots } from '../src/core/units.ts';
import { decimalToSteps, stepOfScale } from '../src/model/decimal.ts';
import { type BenchSpec, measure, sharedDataFile, sink, skipped } from './harness.ts';

const CAPTURE = sharedDataFile('hftbacktest/usdm/btcusdt_20240808.gz');
const MISSING = `../shared/data/hftbacktest/usdm/btcusdt_20240808.gz not found (see shared/data/README.md section 1)`;
const PRICE_DECIMALS = 1; // tick 0.1
const QTY_DECIMALS = 3; // lot 0.001 BTC

const PRICE_STEP = stepOfScale(PRICE_DECIMALS);
const QTY_STEP = stepOfScale(QTY_DECIMALS);

interface Stream {
  snapshotId: number;
  bids: LevelList;
  asks: LevelList;
  /** Level updates of the events after the snapshot (USD-M rule: u >= lastUpdateId), in order. */
  count: number;
  side: Uint8Array;
  price: Float64Array;
  qty: Float64Array;
}

let loading: Promise<Stream> | undefined;

function loadStream(file: string): Promise<Stream> {
  loading ??= (async () => {
    const lines = createInterface({
      input: createReadStream(file).pipe(createGunzip()),
      crlfDelay: Infinity,
    });
    type Levels = [string, string][];
    let snap: { lastUpdateId: number; bids: Levels; asks: Levels } | undefined;
    const events: { u: number; b: Levels; a: Levels }[] = [];
    for await (const text of lines) {
      const msg = JSON.parse(text.slice(text.indexOf(' ') + 1));
      if (msg.data === undefined && msg.lastUpdateId !== undefined) snap ??= msg;
      else if (msg.data?.e === 'depthUpdate') events.push(msg.data);
    }
    if (snap === undefined) throw new Error(`${file}: no REST snapshot line`);
    const toList = (levels: Levels): LevelList => ({
      prices: levels.map((l) => decimalToSteps(l[0], PRICE_STEP)),
      qtys: levels.map((l) => decimalToSteps(l[1], QTY_STEP)),
      count: levels.length,
    });
    const side: number[] = [];
    const price: number[] = [];
    const qty: number[] = [];
    const add = (sd: Side, levels: Levels) => {
      for (const [p, q] of levels) {
        side.push(sd);
        price.push(decimalToSteps(p, PRICE_STEP));
        qty.push(decimalToSteps(q, QTY_STEP));
      }
    };
    for (const ev of events) {
      if (ev.u < snap.lastUpdateId) continue;
      add(Side.BID, ev.b);
      add(Side.ASK, ev.a);
    }
    return {
      snapshotId: snap.lastUpdateId,
      bids: toList(snap.bids),
      asks: toList(snap.asks),
      count: side.length,
      side: Uint8Array.from(side),
      price: Float64Array.from(price),
      qty: Float64Array.from(qty),
    };
  })();
  return loading;
}

/** Books at eight points of the stream, so that reads see different states and cannot be hoisted. */
function booksAlong(s: Stream): L2Book[] {
  const books: L2Book[] = [];
  for (let k = 1; k <= 8; k++) {
    const book = new L2Book();
    book.applySnapshot(s.bids, s.asks, s.snapshotId, 0 as Micros);
    const end = Math.floor((s.count * k) / 8);
    for (let i = 0; i < end; i++) book.set(s.side[i] as Side, s.price[i] as PriceTicks, s.qty[i] as QtyLots);
    books.push(book);
  }
  return books;
}

export const benches: BenchSpec[] = [
  {
    id: 'book.l2.apply_delta',
    title: 'L2Book: apply one level update (real Binance USD-M BTCUSDT depth stream, looped)',
    unit: 'deltas/s',
    better: 'higher',
    target: CAPTURE === undefined ? null : 10_000_000,
    targetSource: 'issue 4',
    async run(ctx) {
      if (CAPTURE === undefined) return skipped(MISSING);
      const s = await loadStream(CAPTURE);
      const book = new L2Book();
      let i = s.count;
      const loop = (n: number) => {
        for (let k = 0; k < n; k++) {
          if (i === s.count) {
            // Back to the snapshot so every pass replays the same states (2,000 levels per 443k deltas).
            book.applySnapshot(s.bids, s.asks, s.snapshotId, 0 as Micros);
            i = 0;
          }
          book.set(s.side[i] as Side, s.price[i] as PriceTicks, s.qty[i] as QtyLots);
          i++;
        }
        return book.bestBid();
      };
      // Paths deep in the stream (overflow inserts, far deletes) are first met after the harness's short
      // warm-up and would deoptimise inside the measured samples; three whole passes settle the JIT first.
      sink(loop(3 * s.count));
      const m = await measure(ctx, loop);
      return {
        main: { ...m, median: 1e9 / m.median },
        extra: {
          ns_per_delta: m.median,
          deltas_in_stream: s.count,
          window_recentres: book.bids.recentres + book.asks.recentres,
        },
      };
    },
  },
  {
    id: 'book.l2.best_bid_ask',
    title: 'L2Book: read best bid and best ask (8 books along the real stream)',
    unit: 'ns/op',
    better: 'lower',
    target: null,
    async run(ctx) {
      if (CAPTURE === undefined) return skipped(MISSING);
      const books = booksAlong(await loadStream(CAPTURE));
      const m = await measure(ctx, (n) => {
        let acc = 0;
        for (let k = 0; k < n; k++) {
          const b = books[k & 7]!;
          acc += b.bestAsk() - b.bestBid();
        }
        return acc;
      });
      return { main: m };
    },
  },
  {
    id: 'book.l2.price_for_volume',
    title: 'L2Book: VWAP and worst price for a market order of 0.01-20 BTC (8 books along the real stream)',
    unit: 'ns/op',
    better: 'lower',
    target: null,
    async run(ctx) {
      if (CAPTURE === undefined) return skipped(MISSING);
      const books = booksAlong(await loadStream(CAPTURE));
      const sizes = [10, 100, 1_000, 5_000, 20_000]; // lots of 0.001 BTC
      const out = new Sweep();
      let levels = 0;
      let ops = 0;
      const m = await measure(ctx, (n) => {
        let acc = 0;
        for (let k = 0; k < n; k++) {
          const b = books[k & 7]!;
          b.priceForVolume((k & 1) as Side, sizes[k % 5]! as QtyLots, out);
          acc += out.worstPrice;
          levels += out.levels;
        }
        ops += n;
        return acc;
      });
      return { main: m, extra: { mean_levels_walked: Math.round((levels / ops) * 10) / 10 } };
    },
  },
];
