// Market data through ccxt for the trading node: per instrument, the order book from watchOrderBook (ccxt pro)
// or polled fetchOrderBook, best bid/ask from watchBidsAsks or watchTicker (else the book's top), trades from
// watchTrades or polled fetchTrades, whichever `exchange.has` offers. ccxt keeps the book in sync itself
// (snapshot + diffs, resync on a gap); each update it hands over replaces the kernel's L2Book of the
// instrument (applySnapshot), so strategies read the same book type as with the native adapter; a crossed
// book is counted and held back. A failed book watch or fetch marks the book out of sync and counts a resync;
// any failed stream backs off and retries (ccxt reconnects and resubscribes on the next watch).
// Not the fast path (ccxt allocates per message); the native Binance client is. Units: ccxt floats become
// ticks/lots on the instrument's grid, ms timestamps become engine micros.

import type { Exchange, OrderBook, Ticker, Trade } from 'ccxt';
import { L2Book, type LevelList } from '../../book/l2-book.ts';
import { type Clock, monoNanos, wallMicros } from '../../core/clock.ts';
import type { InstrumentId, Micros, PriceTicks, QtyLots } from '../../core/units.ts';
import type { NodeConnection, NodeMarketData } from '../../live/node-market-data.ts';
import { floatToSteps } from '../../model/decimal.ts';
import type { Instrument } from '../../model/instrument.ts';
import { NO_SIDE, QuoteTick, Side, TradeTick } from '../../model/market-data.ts';
import { type MarketDataEvent, type MarketDataSink, MarketDataStats } from '../binance/market-data.ts';
import { type ConnectionEvent, ConnState } from '../binance/ws-supervisor.ts';

export interface CcxtMarketDataOptions {
  /** A ccxt (pro) exchange with its markets loaded; keys not needed. This client closes it on stop. */
  exchange: Exchange;
  instruments: readonly Instrument[];
  /** ccxt's unified symbol of an instrument. */
  symbolOf: (inst: Instrument) => string;
  sink: MarketDataSink;
  clock: Clock;
  /** The book to keep for an instrument (the one strategies read); default a new one. */
  bookFor?: (inst: Instrument) => L2Book | undefined;
  /** Polling interval where the exchange cannot stream, ms. */
  pollMs: number;
  onEvent?: (e: MarketDataEvent) => void;
  onConnection?: (e: ConnectionEvent) => void;
}

/** Where each stream comes from, by `exchange.has`. */
export interface CcxtFeedPlan {
  book: 'watchOrderBook' | 'fetchOrderBook';
  quotes: 'watchBidsAsks' | 'watchTicker' | 'book';
  trades: 'watchTrades' | 'fetchTrades';
}

export function ccxtFeedPlan(ex: Exchange): CcxtFeedPlan {
  const has = ex.has;
  return {
    book: has.watchOrderBook === true ? 'watchOrderBook' : 'fetchOrderBook',
    quotes: has.watchBidsAsks === true ? 'watchBidsAsks' : has.watchTicker === true ? 'watchTicker' : 'book',
    trades: has.watchTrades === true ? 'watchTrades' : 'fetchTrades',
  };
}

/** One side of a ccxt book as a LevelList, in reused arrays (grown when a deeper book arrives). */
class Levels implements LevelList {
  prices = new Float64Array(64);
  qtys = new Float64Array(64);
  count = 0;
  fill(side: readonly (readonly (number | undefined)[])[], inst: Instrument): void {
    if (side.length > this.prices.length) {
      this.prices = new Float64Array(side.length * 2);
      this.qtys = new Float64Array(side.length * 2);
    }
    let n = 0;
    for (let i = 0; i < side.length; i++) {
      const l = side[i]!;
      this.prices[n] = floatToSteps(l[0] ?? 0, inst.tickSize);
      this.qtys[n] = floatToSteps(l[1] ?? 0, inst.lotSize);
      n++;
    }
    this.count = n;
  }
}

class Feed {
  readonly inst: Instrument;
  readonly symbol: string;
  /** [symbol], the argument of watchBidsAsks (made once). */
  readonly symbols: string[];
  readonly book: L2Book;
  readonly bids = new Levels();
  readonly asks = new Levels();
  inSync = false;
  /** Polled trades: the newest timestamp taken, and the ids taken at it (a poll returns them again). */
  lastTradeMs = 0;
  idsAtLast = new Set<string>();
  constructor(inst: Instrument, symbol: string, book: L2Book) {
    this.inst = inst;
    this.symbol = symbol;
    this.symbols = [symbol];
    this.book = book;
  }
}

export class CcxtMarketData implements NodeMarketData {
  readonly stats = new MarketDataStats();
  readonly plan: CcxtFeedPlan;
  readonly supervisor: NodeConnection & { state: string; reconnects: number };
  readNanos = 0;
  recvNanos = 0;
  parsedNanos = 0;
  private readonly o: CcxtMarketDataOptions;
  private readonly ex: Exchange;
  private readonly feeds: Feed[] = [];
  private readonly byId: (Feed | undefined)[] = [];
  private readonly q = new QuoteTick();
  private readonly t = new TradeTick();
  /** Pending sleeps (polling, backoff): stop ends them at once. */
  private readonly sleeps = new Map<NodeJS.Timeout, () => void>();
  private loops: Promise<void>[] = [];
  private running = false;
  private failures = 0;
  private tradeSeq = 0;

  constructor(o: CcxtMarketDataOptions) {
    this.o = o;
    this.ex = o.exchange;
    this.plan = ccxtFeedPlan(o.exchange);
    this.supervisor = { state: ConnState.IDLE, reconnects: 0 };
    for (const inst of o.instruments) {
      const f = new Feed(inst, o.symbolOf(inst), o.bookFor?.(inst) ?? new L2Book());
      this.feeds.push(f);
      while (this.byId.length <= inst.id) this.byId.push(undefined);
      this.byId[inst.id] = f;
    }
  }

  inSync(id: number): boolean {
    return this.byId[id]?.inSync === true;
  }

  /** Starts the loops; resolves once every instrument's first book arrived (or rejects on the first failure). */
  async start(): Promise<void> {
    this.running = true;
    this.setState(ConnState.CONNECTING, 'state', '');
    const first = this.feeds.map((f) => this.nextBook(f));
    await Promise.all(first);
    this.setState(ConnState.OPEN, 'state', '');
    for (const f of this.feeds) {
      this.loops.push(this.loop(f, 'book', () => this.nextBook(f)));
      if (this.plan.quotes !== 'book') this.loops.push(this.loop(f, 'quotes', () => this.nextQuote(f)));
      this.loops.push(this.loop(f, 'trades', () => this.nextTrades(f)));
    }
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    for (const [t, wake] of this.sleeps) {
      clearTimeout(t);
      wake();
    }
    this.sleeps.clear();
    try {
      await this.ex.close();
    } catch {
      // Closing aborts the pending watches; their loops end on `running`.
    }
    await Promise.allSettled(this.loops);
    this.loops = [];
    this.setState(ConnState.CLOSED, 'state', '');
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.sleeps.delete(t);
        resolve();
      }, ms);
      this.sleeps.set(t, resolve);
    });
  }

  private setState(state: ConnState, kind: ConnectionEvent['kind'], reason: string, delayMs = 0): void {
    if (this.supervisor.state === state && kind === 'state') return;
    this.supervisor.state = state;
    this.o.onConnection?.({
      connection: `ccxt ${this.ex.id} market data`,
      kind,
      state,
      attempt: this.failures,
      delayMs,
      reason,
    });
  }

  /** Runs one stream until stop; a failure backs off (0.5 s doubling to 10 s) and retries (ccxt resubscribes). */
  private async loop(f: Feed, what: string, next: () => Promise<void>): Promise<void> {
    while (this.running) {
      try {
        await next();
        if (this.failures > 0) {
          this.failures = 0;
          this.setState(ConnState.OPEN, 'state', '');
        }
      } catch (e) {
        if (!this.running) return;
        this.failures++;
        const delay = Math.min(10_000, 500 * 2 ** Math.min(this.failures - 1, 5));
        this.supervisor.reconnects++;
        // The book is out of sync when its own stream failed (a dropped socket fails them all).
        if (what === 'book') {
          this.stats.resyncs++;
          if (f.inSync) {
            f.inSync = false;
            this.o.onEvent?.({ kind: 'resync', symbol: f.inst.symbol, reason: errText(e) });
          }
        }
        this.setState(ConnState.BACKOFF, 'reconnect', `${what}: ${errText(e)}`, delay);
        await this.sleep(delay);
      }
    }
  }

  private received(): void {
    this.recvNanos = monoNanos();
    this.readNanos = this.recvNanos;
  }

  private async nextBook(f: Feed): Promise<void> {
    let ob: OrderBook;
    if (this.plan.book === 'watchOrderBook') {
      ob = await this.ex.watchOrderBook(f.symbol);
      this.stats.depthEvents++;
    } else {
      if (f.inSync) await this.sleep(this.o.pollMs);
      if (!this.running) return;
      ob = await this.ex.fetchOrderBook(f.symbol);
      this.stats.snapshots++;
    }
    if (!this.running) return;
    this.received();
    this.stats.messages++;
    const inst = f.inst;
    f.bids.fill(ob.bids as number[][], inst);
    f.asks.fill(ob.asks as number[][], inst);
    const ts = ((ob.timestamp ?? 0) > 0 ? ob.timestamp! * 1000 : wallMicros()) as Micros;
    const rejected = f.book.applySnapshot(f.bids, f.asks, ob.nonce ?? 0, ts);
    this.parsedNanos = monoNanos();
    if (rejected > 0) this.stats.badValue += rejected;
    // Counted and held back: strategies never see a crossed book (the next update replaces it).
    if (f.book.crossed()) {
      this.stats.crossed++;
      return;
    }
    if (!f.inSync) {
      f.inSync = true;
      this.o.onEvent?.({ kind: 'in-sync', symbol: inst.symbol, reason: this.plan.book });
    }
    this.o.sink.onBook(inst.id as InstrumentId, f.book, ts);
    if (this.plan.quotes === 'book' && f.bids.count > 0 && f.asks.count > 0) {
      this.quote(f, f.bids.prices[0]!, f.bids.qtys[0]!, f.asks.prices[0]!, f.asks.qtys[0]!, ts);
    }
  }

  private async nextQuote(f: Feed): Promise<void> {
    let tk: Ticker | undefined;
    if (this.plan.quotes === 'watchBidsAsks') tk = (await this.ex.watchBidsAsks(f.symbols))[f.symbol];
    else tk = await this.ex.watchTicker(f.symbol);
    if (!this.running || tk === undefined) return;
    this.received();
    this.stats.messages++;
    if (tk.bid === undefined || tk.ask === undefined || tk.bid === null || tk.ask === null) {
      this.stats.badValue++;
      return;
    }
    const inst = f.inst;
    const ts = ((tk.timestamp ?? 0) > 0 ? tk.timestamp! * 1000 : wallMicros()) as Micros;
    const bid = floatToSteps(tk.bid, inst.tickSize);
    const bidQty = floatToSteps(tk.bidVolume ?? 0, inst.lotSize);
    const ask = floatToSteps(tk.ask, inst.tickSize);
    const askQty = floatToSteps(tk.askVolume ?? 0, inst.lotSize);
    // Off the instrument's grid (NaN): counted, never passed on.
    if (Number.isNaN(bid + bidQty + ask + askQty)) {
      this.stats.badValue++;
      return;
    }
    this.quote(f, bid, bidQty, ask, askQty, ts);
  }

  private quote(f: Feed, bid: number, bidQty: number, ask: number, askQty: number, ts: Micros): void {
    const q = this.q;
    q.instrumentId = f.inst.id as InstrumentId;
    q.tsEvent = ts;
    q.tsInit = this.o.clock.now() as Micros;
    q.bidPx = bid as PriceTicks;
    q.bidQty = bidQty as QtyLots;
    q.askPx = ask as PriceTicks;
    q.askQty = askQty as QtyLots;
    q.sequence = 0;
    this.parsedNanos = monoNanos();
    this.stats.quotes++;
    this.o.sink.onQuote(q);
  }

  private async nextTrades(f: Feed): Promise<void> {
    let list: Trade[];
    if (this.plan.trades === 'watchTrades') {
      list = await this.ex.watchTrades(f.symbol);
    } else {
      await this.sleep(this.o.pollMs);
      if (!this.running) return;
      const since = f.lastTradeMs > 0 ? f.lastTradeMs : undefined;
      list = (await this.ex.fetchTrades(f.symbol, since)).filter((t) => this.isNewPolled(f, t));
    }
    if (!this.running) return;
    this.received();
    this.stats.messages++;
    for (const tr of list) this.trade(f, tr);
  }

  /** A polled trade not taken before (a poll since the newest timestamp returns that timestamp's trades again). */
  private isNewPolled(f: Feed, t: Trade): boolean {
    const ms = t.timestamp ?? 0;
    const id = t.id ?? `${ms}:${t.price}:${t.amount}`;
    if (ms < f.lastTradeMs || (ms === f.lastTradeMs && f.idsAtLast.has(id))) return false;
    if (ms > f.lastTradeMs) {
      f.lastTradeMs = ms;
      f.idsAtLast = new Set();
    }
    f.idsAtLast.add(id);
    return true;
  }

  private trade(f: Feed, tr: Trade): void {
    const inst = f.inst;
    if (tr.price === undefined || tr.amount === undefined) {
      this.stats.badValue++;
      return;
    }
    const t = this.t;
    t.instrumentId = inst.id as InstrumentId;
    t.tsEvent = ((tr.timestamp ?? 0) > 0 ? tr.timestamp! * 1000 : wallMicros()) as Micros;
    t.tsInit = this.o.clock.now() as Micros;
    t.px = floatToSteps(tr.price, inst.tickSize) as PriceTicks;
    t.qty = floatToSteps(tr.amount, inst.lotSize) as QtyLots;
    if (Number.isNaN(t.px + t.qty)) {
      this.stats.badValue++;
      return;
    }
    t.aggressor = tr.side === 'buy' ? Side.BUY : tr.side === 'sell' ? Side.SELL : NO_SIDE;
    // Numeric venue ids as they are; others numbered here in arrival order.
    const n = Number(tr.id);
    t.tradeId = tr.id !== undefined && Number.isSafeInteger(n) ? n : ++this.tradeSeq;
    this.parsedNanos = monoNanos();
    this.stats.trades++;
    this.o.sink.onTrade(t);
  }
}

function errText(e: unknown): string {
  return e instanceof Error ? `${e.constructor.name}: ${e.message.split('\n')[0]}` : String(e);
}
