// Binance market data over one combined stream (/stream?streams=...): bookTicker, trades and diff depth for
// each instrument, parsed by the message scanner straight into ticks and lots, books kept by
// BinanceDepthSync from a REST snapshot plus contiguous diffs. A gap (U != last u + 1 on spot, pu != last u
// on futures), a reconnect or a snapshot older than the buffered stream triggers a fresh snapshot; while a
// book is out of sync it is not published. Malformed, truncated and unreadable messages are counted, never
// thrown. Units: ticks/lots, micros (tsEvent venue time, tsInit local receive time).

import {
  BinanceDepthSync,
  DepthEvent,
  type BinanceMarket as SyncMarket,
  SyncResult,
  SyncState,
} from '../../book/binance-sync.ts';
import { L2Book } from '../../book/l2-book.ts';
import { type Clock, monoNanos } from '../../core/clock.ts';
import type { InstrumentId, Micros } from '../../core/units.ts';
import type { Instrument } from '../../model/instrument.ts';
import { BookDelta, EventBatch, QuoteTick, Side, TradeTick } from '../../model/market-data.ts';
import { BinanceParser, ParseResult } from './messages.ts';
import type { BinanceRest } from './rest.ts';
import { type ConnectionEvent, WsSupervisor, type WsSupervisorOptions } from './ws-supervisor.ts';

/** Where decoded market data goes. Objects passed are reused: copy what must outlive the call. */
export interface MarketDataSink {
  onQuote(q: QuoteTick): void;
  onTrade(t: TradeTick): void;
  /** The book after an applied depth event (only while in sync). */
  onBook(instrumentId: InstrumentId, book: L2Book, tsEvent: Micros): void;
}

export interface MarketDataEvent {
  /** feed-failed: the feed worker died or failed (src/live/feed-worker.ts); no more frames arrive. */
  kind: 'resync' | 'in-sync' | 'snapshot-failed' | 'feed-failed';
  symbol: string;
  reason: string;
}

export interface BinanceMarketDataOptions {
  /** Stream base, e.g. wss://stream.binance.com:9443 or ws://127.0.0.1:<port>. */
  wsBaseUrl: string;
  rest: BinanceRest;
  /** 'spot' or 'futures' (USD-M/COIN-M continuity rules and depth path). */
  market: SyncMarket;
  instruments: readonly Instrument[];
  sink: MarketDataSink;
  clock: Clock;
  /** Streams per instrument (default all three). */
  quotes?: boolean;
  trades?: 'trade' | 'aggTrade' | false;
  depth?: boolean;
  /** Depth stream speed suffix (default '@100ms'; futures '@0ms' or ''). */
  depthSpeed?: string;
  snapshotLimit?: number;
  /** The book to keep for an instrument (e.g. the one strategies read); default a new one. */
  bookFor?: (inst: Instrument) => L2Book | undefined;
  onConnection?: (e: ConnectionEvent) => void;
  onEvent?: (e: MarketDataEvent) => void;
  /** Passed to the supervisor (ping, backoff, rollover). */
  connection?: Partial<Omit<WsSupervisorOptions, 'name' | 'url' | 'onMessage' | 'onOpen' | 'onEvent'>>;
}

export class MarketDataStats {
  messages = 0;
  quotes = 0;
  trades = 0;
  depthEvents = 0;
  snapshots = 0;
  /** Not JSON (truncated frames included). */
  malformed = 0;
  /** A required field missing or off the instrument's grid. */
  badValue = 0;
  /** Valid JSON this client does not use (subscription replies, other events). */
  unknown = 0;
  noInstrument = 0;
  gaps = 0;
  resyncs = 0;
  snapshotFailures = 0;
  /** Applied depth events after which the book was crossed (should stay 0). */
  crossed = 0;
  /** Frames a feed worker dropped because its ring to the engine thread stayed full (src/live/feed-worker.ts). */
  feedDropped = 0;
}

/** What the parser said of one frame (reused): its result, instrument, rows [rowStart, rowEnd) and ids. */
export class DecodedFrame {
  result: number = ParseResult.UNKNOWN;
  /** -1 when the frame named no known instrument. */
  instrumentId = -1;
  rowStart = 0;
  rowEnd = 0;
  firstId = Number.NaN;
  lastId = Number.NaN;
  prevId = Number.NaN;
  tsEvent = 0;
}

/** One instrument's book and its sync state. */
class BookState {
  readonly inst: Instrument;
  readonly book: L2Book;
  sync: BinanceDepthSync;
  fetching = false;
  constructor(inst: Instrument, market: SyncMarket, book: L2Book | undefined) {
    this.inst = inst;
    this.book = book ?? new L2Book();
    this.sync = new BinanceDepthSync(this.book, { market });
  }
}

export class BinanceMarketData {
  readonly stats = new MarketDataStats();
  readonly supervisor: WsSupervisor;
  protected readonly o: BinanceMarketDataOptions;
  private readonly parser: BinanceParser;
  private readonly batch = new EventBatch(8192);
  private readonly snapBatch = new EventBatch(8192);
  private readonly q = new QuoteTick();
  private readonly t = new TradeTick();
  private readonly d = new BookDelta();
  private readonly ev = new DepthEvent();
  private readonly snap = new DepthEvent();
  /** By instrument id. */
  private readonly books: (BookState | undefined)[] = [];
  private readonly frame = new DecodedFrame();
  private stopped = false;
  /** Monotonic receive time of the frame being handled, ns ('message' from ws). */
  recvNanos = 0;
  /** When the frame being handled was decoded, monotonic ns (a tick-to-trade stage boundary). */
  parsedNanos = 0;
  /** The last bookTicker frame (a reference, no copy) and a batch for `warm` to decode it into again. */
  private lastQuoteText = '';
  private readonly warmBatch = new EventBatch(16);

  constructor(o: BinanceMarketDataOptions) {
    this.o = o;
    const bySymbol = new Map(o.instruments.map((i) => [i.symbol, i]));
    this.parser = new BinanceParser((s) => bySymbol.get(s));
    // Binance spot books hold legacy orders sized on a finer lot; rounding keeps their updates.
    this.parser.roundSizes = true;
    if (o.depth !== false) {
      for (const i of o.instruments) this.books[i.id] = new BookState(i, o.market, o.bookFor?.(i));
    }
    this.supervisor = new WsSupervisor({
      ...o.connection,
      name: 'binance-market-data',
      url: () => this.url(),
      onMessage: (text, ns) => {
        this.recvNanos = ns;
        this.onMessage(text);
      },
      onOpen: () => this.onOpen(),
      ...(o.onConnection === undefined ? {} : { onEvent: o.onConnection }),
    });
  }

  /** The combined-stream URL for the configured instruments. */
  url(): string {
    const names: string[] = [];
    const trades = this.o.trades ?? 'trade';
    for (const i of this.o.instruments) {
      const s = i.symbol.toLowerCase();
      if (this.o.quotes !== false) names.push(`${s}@bookTicker`);
      if (trades !== false) names.push(`${s}@${trades}`);
      if (this.o.depth !== false) names.push(`${s}@depth${this.o.depthSpeed ?? '@100ms'}`);
    }
    return `${this.o.wsBaseUrl.replace(/\/+$/, '')}/stream?streams=${names.join('/')}`;
  }

  start(): Promise<void> {
    this.stopped = false;
    return this.supervisor.start();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.supervisor.stop();
  }

  /** When the socket's bytes of the frame being handled reached JavaScript, monotonic ns. */
  get readNanos(): number {
    return this.supervisor.readNanos;
  }

  /** The book of an instrument (undefined when depth is off), and whether it is in sync now. */
  book(id: number): L2Book | undefined {
    return this.books[id]?.book;
  }

  inSync(id: number): boolean {
    return this.books[id]?.sync.state === SyncState.IN_SYNC;
  }

  /** Every connection (the first too) starts books afresh: diffs missed while away cannot be replayed. */
  protected onOpen(): void {
    for (const b of this.books) {
      if (b === undefined) continue;
      if (this.supervisor.opens > 1) {
        b.sync = new BinanceDepthSync(b.book, { market: this.o.market });
        this.stats.resyncs++;
        this.o.onEvent?.({ kind: 'resync', symbol: b.inst.symbol, reason: 'reconnected' });
      }
      this.requestSnapshot(b);
    }
  }

  /** One frame. Public so a feed replaying recorded frames (tests, benches) drives the same path. */
  onMessage(text: string): void {
    const batch = this.batch;
    batch.clear();
    const p = this.parser;
    const r = p.parse(text, 0, this.o.clock.now(), batch);
    this.parsedNanos = monoNanos();
    if (r === ParseResult.QUOTE) this.lastQuoteText = text;
    const f = this.frame;
    f.result = r;
    f.instrumentId = p.instrument === undefined ? -1 : p.instrument.id;
    f.rowStart = p.rowStart;
    f.rowEnd = p.rowEnd;
    f.firstId = p.firstId;
    f.lastId = p.lastId;
    f.prevId = p.prevId;
    f.tsEvent = p.tsEvent;
    this.onDecoded(f, batch);
  }

  /**
   * Decodes the last bookTicker frame again into a batch of its own and drops the result: the decoder's code and
   * data stay in the CPU's caches while the market is quiet (the live node's keep-warm, src/live/node.ts).
   * Changes nothing the next frame sees: the parser's fields are per frame, its counters move only on odd
   * frames, and this one decoded cleanly before.
   */
  warm(): void {
    if (this.lastQuoteText === '') return;
    this.warmBatch.clear();
    this.parser.parse(this.lastQuoteText, 0, this.o.clock.now(), this.warmBatch);
  }

  /**
   * One frame decoded elsewhere (the feed worker, src/live/feed-worker.ts) or by `onMessage`: its rows in
   * `batch`, what the parser said of it in `f`. Counts it and hands it on (quotes, trades, depth to the sync).
   */
  onDecoded(f: DecodedFrame, batch: EventBatch): void {
    const st = this.stats;
    st.messages++;
    switch (f.result) {
      case ParseResult.QUOTE:
        st.quotes++;
        this.o.sink.onQuote(batch.readQuote(f.rowStart, this.q));
        break;
      case ParseResult.TRADE:
        st.trades++;
        this.o.sink.onTrade(batch.readTrade(f.rowStart, this.t));
        break;
      case ParseResult.DEPTH:
        this.onDepth(f, batch);
        break;
      case ParseResult.MALFORMED:
        st.malformed++;
        break;
      case ParseResult.BAD_VALUE:
        st.badValue++;
        break;
      case ParseResult.NO_INSTRUMENT:
        st.noInstrument++;
        break;
      default:
        st.unknown++;
        break;
    }
  }

  private onDepth(f: DecodedFrame, batch: EventBatch): void {
    const st = this.stats;
    st.depthEvents++;
    const b = f.instrumentId < 0 ? undefined : this.books[f.instrumentId];
    if (b === undefined) return;
    const ev = this.ev;
    this.fill(ev, batch, f.rowStart, f.rowEnd);
    ev.firstId = f.firstId;
    ev.finalId = f.lastId;
    ev.prevFinalId = Number.isNaN(f.prevId) ? -1 : f.prevId;
    ev.tsEvent = f.tsEvent as Micros;
    const gaps = b.sync.gaps;
    const r = b.sync.onDepth(ev);
    if (b.sync.gaps !== gaps) {
      st.gaps++;
      st.resyncs++;
      this.o.onEvent?.({ kind: 'resync', symbol: b.inst.symbol, reason: `sequence gap at U=${ev.firstId}` });
    }
    if (r === SyncResult.APPLIED || r === SyncResult.APPLIED_WITH_REJECTS) {
      if (b.book.crossed()) st.crossed++;
      else this.o.sink.onBook(b.inst.id, b.book, ev.tsEvent);
    }
    if (b.sync.state !== SyncState.IN_SYNC) this.requestSnapshot(b);
  }

  private fill(ev: DepthEvent, batch: EventBatch, from: number, to: number): void {
    ev.bids.count = 0;
    ev.asks.count = 0;
    const d = this.d;
    for (let i = from; i < to; i++) {
      batch.readDelta(i, d);
      (d.side === Side.BUY ? ev.bids : ev.asks).push(d.px, d.qty);
    }
  }

  private requestSnapshot(b: BookState): void {
    if (b.fetching || this.stopped) return;
    b.fetching = true;
    void this.fetchSnapshot(b);
  }

  private async fetchSnapshot(b: BookState): Promise<void> {
    const path = this.o.market === 'spot' ? '/api/v3/depth' : '/fapi/v1/depth';
    for (let attempt = 0; !this.stopped; attempt++) {
      const sync = b.sync;
      let text: string;
      try {
        text = await this.o.rest.depthText(b.inst.symbol, this.o.snapshotLimit ?? 1000, path);
      } catch (e) {
        this.stats.snapshotFailures++;
        this.o.onEvent?.({ kind: 'snapshot-failed', symbol: b.inst.symbol, reason: (e as Error).message });
        await new Promise((r) => setTimeout(r, Math.min(5_000, 100 * 2 ** attempt)));
        continue;
      }
      if (this.stopped) break;
      // A reconnect replaced the sync while the snapshot was on its way: the new one needs its own.
      if (sync !== b.sync) continue;
      const p = this.parser;
      p.defaultInstrument = b.inst;
      this.snapBatch.clear();
      const r = p.parse(text, 0, this.o.clock.now(), this.snapBatch);
      if (r !== ParseResult.SNAPSHOT) {
        this.stats.snapshotFailures++;
        this.o.onEvent?.({
          kind: 'snapshot-failed',
          symbol: b.inst.symbol,
          reason: `unreadable snapshot (${r})`,
        });
        await new Promise((res) => setTimeout(res, Math.min(5_000, 100 * 2 ** attempt)));
        continue;
      }
      this.stats.snapshots++;
      this.fill(this.snap, this.snapBatch, p.rowStart, p.rowEnd);
      this.snap.firstId = this.snap.finalId = p.lastId;
      this.snap.prevFinalId = -1;
      this.snap.tsEvent = p.tsEvent as Micros;
      if (sync.onSnapshot(this.snap) === SyncState.IN_SYNC) {
        b.fetching = false;
        this.o.onEvent?.({ kind: 'in-sync', symbol: b.inst.symbol, reason: `snapshot ${this.snap.finalId}` });
        if (!b.book.crossed()) this.o.sink.onBook(b.inst.id, b.book, b.book.tsEvent);
        return;
      }
      // The snapshot is older than the buffered stream (or a gap sits in the buffer): fetch again.
    }
    b.fetching = false;
  }
}
