// The market feed: pulls EventBatch rows (the seeded demo generator, a capture file or a catalog query) in
// time order and hands each to the server's SymbolMarkets and to the simulated exchange, the way a paper
// session drives the simulator. Time is the data's own (micros); the pace (1x, 10x, max) is the caller's:
// pumpTo(t) processes every row at or before market time t. Pumps are serialised: one runs at a time.

import type { TestClock } from '../../core/clock.ts';
import type { Micros, PriceTicks, QtyLots } from '../../core/units.ts';
import {
  BookDelta,
  DeltaFlag,
  type EventBatch,
  Side as MdSide,
  QuoteTick,
  RecordKind,
  TradeTick,
} from '../../model/market-data.ts';
import type { SimulatedExchange } from '../sim/exchange.ts';
import type { MarketListener, SymbolMarket } from './market.ts';

export type BatchSourceLike = Iterable<EventBatch> | AsyncIterable<EventBatch>;

export class FeedStats {
  rows = 0;
  quotes = 0;
  trades = 0;
  deltas = 0;
  /** Rows of instruments the server does not serve, or of kinds it does not publish (counted, not lost). */
  ignored = 0;
  /** Stale levels removed from a crossed replayed book, as its bookTicker proved them gone (after a gap). */
  repairedLevels = 0;
}

export class MarketFeed {
  readonly stats = new FeedStats();
  /** Market time, micros: the latest pumpTo target reached (never goes back). */
  now = 0;
  /** Time of the first row, NaN before it is read. */
  firstTs = Number.NaN;
  done = false;
  private readonly it: Iterator<EventBatch> | AsyncIterator<EventBatch>;
  private batch: EventBatch | null = null;
  private row = 0;
  private chain: Promise<void> = Promise.resolve();
  private readonly bySymbolId: (SymbolMarket | undefined)[];
  private readonly q = new QuoteTick();
  private readonly t = new TradeTick();
  private readonly d = new BookDelta();
  private readonly emitDelta: (d: BookDelta) => void;

  private readonly sim: SimulatedExchange;
  private readonly clock: TestClock;
  private readonly listener: MarketListener;

  constructor(
    source: BatchSourceLike,
    markets: readonly SymbolMarket[],
    sim: SimulatedExchange,
    clock: TestClock,
    listener: MarketListener,
  ) {
    this.sim = sim;
    this.clock = clock;
    this.listener = listener;
    this.it =
      Symbol.asyncIterator in source
        ? (source as AsyncIterable<EventBatch>)[Symbol.asyncIterator]()
        : (source as Iterable<EventBatch>)[Symbol.iterator]();
    this.bySymbolId = [];
    for (const m of markets) {
      while (this.bySymbolId.length <= m.inst.id) this.bySymbolId.push(undefined);
      this.bySymbolId[m.inst.id] = m;
    }
    this.emitDelta = (d) => this.applyDelta(d);
  }

  /** Reads the first batch (so the start time is known) without processing it. */
  async prime(): Promise<void> {
    await this.enqueue(async () => {
      await this.ensureBatch();
      if (this.batch !== null) this.firstTs = this.batch.tsEvent[this.row]!;
    });
  }

  /** Processes every row with tsEvent <= t, then moves market time (and the simulator) to t. */
  pumpTo(t: number): Promise<void> {
    return this.enqueue(() => this.run(t));
  }

  private enqueue(f: () => Promise<void>): Promise<void> {
    const p = this.chain.then(f);
    this.chain = p.catch(() => {});
    return p;
  }

  private async ensureBatch(): Promise<void> {
    while (!this.done && (this.batch === null || this.row >= this.batch.length)) {
      const r = await this.it.next();
      if (r.done === true) {
        this.done = true;
        this.batch = null;
        return;
      }
      this.batch = r.value;
      this.row = 0;
    }
  }

  private async run(t: number): Promise<void> {
    for (;;) {
      if (this.batch === null || this.row >= this.batch.length) {
        await this.ensureBatch();
        if (this.batch === null) break;
      }
      const b = this.batch;
      const n = b.length;
      let i = this.row;
      for (; i < n; i++) {
        const ts = b.tsEvent[i]!;
        if (ts > t) break;
        this.processRow(b, i, ts);
      }
      this.row = i;
      if (i < n) break;
    }
    if (t > this.now) {
      this.now = t;
      if (t > this.clock.now()) this.clock.advanceTo(t as Micros);
      this.sim.advanceTo(t);
    }
  }

  private processRow(b: EventBatch, i: number, ts: number): void {
    this.stats.rows++;
    const m = this.bySymbolId[b.instrument[i]!];
    if (m === undefined) {
      this.stats.ignored++;
      return;
    }
    if (ts > this.now) this.now = ts;
    if (ts > this.clock.now()) this.clock.advanceTo(ts as Micros);
    switch (b.kind[i]) {
      case RecordKind.QUOTE: {
        this.stats.quotes++;
        const q = b.readQuote(i, this.q);
        if (!m.synth) {
          // A capture's diffs after a gap can leave stale levels that cross the book; the bookTicker shows
          // the true top, so levels beyond it on a crossed book are removed (and counted).
          if (m.bestBid() >= m.bestAsk()) this.repairCrossed(m, ts, q.bidPx, q.askPx);
          return;
        }
        m.quoteToDeltas(ts, q.bidPx, q.bidQty, q.askPx, q.askQty, this.emitDelta);
        this.listener.onBookTicker(m);
        return;
      }
      case RecordKind.TRADE: {
        this.stats.trades++;
        const tr = b.readTrade(i, this.t);
        const qty = m.synth ? tr.qty * m.sizeScale : tr.qty;
        tr.qty = qty as typeof tr.qty;
        const pub = m.noteTrade(ts, tr.px, qty, tr.aggressor);
        this.sim.onTrade(tr);
        this.listener.onTrade(m, pub);
        return;
      }
      case RecordKind.DELTA: {
        this.stats.deltas++;
        if (m.synth) {
          // Real depth arrived: from now on the book is the data's, not a synthesis from quotes.
          m.synth = false;
          m.book.clear();
        }
        const d = b.readDelta(i, this.d);
        const bid = m.bestBid();
        const ask = m.bestAsk();
        this.applyDelta(d);
        if (m.bestBid() !== bid || m.bestAsk() !== ask) this.listener.onBookTicker(m);
        return;
      }
      default:
        this.stats.ignored++;
    }
  }

  private repairCrossed(m: SymbolMarket, ts: number, bidPx: number, askPx: number): void {
    const stale: [number, number][] = [];
    for (const [px] of m.levels(true, 5000)) {
      if (px <= bidPx) break;
      stale.push([MdSide.BUY, px]);
    }
    for (const [px] of m.levels(false, 5000)) {
      if (px >= askPx) break;
      stale.push([MdSide.SELL, px]);
    }
    const d = this.d;
    d.instrumentId = m.inst.id;
    d.tsEvent = ts as Micros;
    d.tsInit = ts as Micros;
    d.qty = 0 as QtyLots;
    for (let k = 0; k < stale.length; k++) {
      d.side = stale[k]![0];
      d.px = stale[k]![1] as PriceTicks;
      d.flags = k === stale.length - 1 ? DeltaFlag.LAST : 0;
      this.applyDelta(d);
    }
    this.stats.repairedLevels += stale.length;
  }

  private applyDelta(d: BookDelta): void {
    const m = this.bySymbolId[d.instrumentId]!;
    this.sim.onBookDelta(d);
    m.noteDelta(d.side, d.px, d.qty, d.flags);
  }
}
