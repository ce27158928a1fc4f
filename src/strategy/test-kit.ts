// Wiring for strategy tests and benchmarks, and the reference for a kernel: engine + StubVenue (execution kit),
// a portfolio fed by the engine's fills below STRATEGY_PRIORITY, books, a context, and feeds that move the test
// clock to a record's time before publishing it. Units: ticks, lots, micros. Not used by production code.

import { Side as BookSide, L2Book } from '../book/l2-book.ts';
import { silentLogger } from '../core/log.ts';
import type { Topic } from '../core/message-bus.ts';
import type { InstrumentId, Micros, PriceTicks, QtyLots } from '../core/units.ts';
import { type Kit, makeKit } from '../execution/test-kit.ts';
import type { OrderEvent } from '../model/events.ts';
import { type Instrument, InstrumentKind } from '../model/instrument.ts';
import { Bar, QuoteTick, TradeTick } from '../model/market-data.ts';
import type { OrderType } from '../model/order.ts';
import { isOpen, OrderEventKind } from '../model/order-state.ts';
import { AccountType } from '../portfolio/account.ts';
import { Portfolio } from '../portfolio/portfolio.ts';
import { BookArray, BookUpdate, MarketTopics, type StrategyContext } from './context.ts';
import { StrategyHost } from './host.ts';
import type { Strategy } from './strategy.ts';

export interface StrategyKit extends Kit {
  eth: Instrument;
  portfolio: Portfolio;
  books: BookArray;
  ctx: StrategyContext;
  quotes: Topic<QuoteTick>;
  trades: Topic<TradeTick>;
  bars: Topic<Bar>;
  bookTopic: Topic<BookUpdate>;
  /** Builds a host for `strategy` (strategy id 1 unless given) and starts it. */
  run(strategy: Strategy, strategyId?: number): StrategyHost;
  quote(instrumentId: number, ts: number, bid: number, ask: number, bidQty?: number, askQty?: number): void;
  trade(instrumentId: number, ts: number, px: number, qty?: number): void;
  /** A closed bar; published at tsClose = tsOpen + interval. */
  bar(
    instrumentId: number,
    tsOpen: number,
    interval: number,
    o: number,
    h: number,
    l: number,
    c: number,
  ): void;
  /** Replaces the instrument's book with these levels ([price, qty] pairs) and publishes a BookUpdate. */
  book(instrumentId: number, ts: number, bids: [number, number][], asks: [number, number][]): void;
  /** Fills every open order of the given type in full at `px` (the scripted venue's answer). */
  fillOpen(type: OrderType, px: number): number;
}

export const START = 1_700_000_000_000_000;
export const MINUTE = 60_000_000;

/** A USDT-margined account of one million USDT, BTCUSDT (tick 0.1, lot 0.001) and ETHUSDT (tick 0.01, lot 0.001). */
export function makeStrategyKit(
  options: { autoAccept?: boolean; nativeTypes?: number; keepLog?: boolean } = {},
): StrategyKit {
  const kit = makeKit({
    keepLog: options.keepLog ?? true,
    ...(options.nativeTypes === undefined ? {} : { nativeTypes: options.nativeTypes }),
  });
  kit.venue.autoAccept = options.autoAccept ?? true;
  const { bus, engine, clock } = kit;
  const instruments = engine.cache.instruments;
  const eth = instruments.add({
    symbol: 'ETHUSDT',
    venue: 'SIM',
    kind: InstrumentKind.PERPETUAL,
    base: 'ETH',
    quote: 'USDT',
    settlement: 'USDT',
    tickSize: '0.01',
    lotSize: '0.001',
    minQty: '0.001',
  });
  const usdt = kit.btc.settlement;
  const portfolio = new Portfolio({ bus });
  portfolio.addAccount({
    venue: 'SIM',
    type: AccountType.MARGIN,
    balances: [{ currency: usdt, amount: 1_000_000 * 10 ** usdt.precision }],
  });
  portfolio.register(kit.btc, { leverage: 10 });
  portfolio.register(eth, { leverage: 10 });
  // The kernel's job: fills reach the portfolio before any strategy hears of them (priority 0 < 100).
  bus.subscribe(
    engine.orderEvents,
    (ev: OrderEvent) => {
      if (ev.kind !== OrderEventKind.FILLED) return;
      const order = engine.cache.order(ev.orderId);
      const inst = instruments.get(ev.instrumentId);
      if (order !== undefined && inst !== undefined) portfolio.applyOrderFill(inst, order, ev);
    },
    0,
  );
  const books = new BookArray();
  books.set(kit.btc.id, new L2Book({ windowBits: 12 }));
  books.set(eth.id, new L2Book({ windowBits: 12 }));
  const ctx: StrategyContext = {
    engine,
    cache: engine.cache,
    portfolio,
    bus,
    clock,
    instruments,
    books,
    logger: silentLogger,
  };
  const quotes = bus.topic<QuoteTick>(MarketTopics.QUOTES);
  const trades = bus.topic<TradeTick>(MarketTopics.TRADES);
  const bars = bus.topic<Bar>(MarketTopics.BARS);
  const bookTopic = bus.topic<BookUpdate>(MarketTopics.BOOKS);
  const q = new QuoteTick();
  const t = new TradeTick();
  const b = new Bar();
  const u = new BookUpdate();
  const at = (ts: number): Micros => {
    if (ts > clock.now()) clock.advanceTo(ts as Micros);
    return ts as Micros;
  };
  return {
    ...kit,
    eth,
    portfolio,
    books,
    ctx,
    quotes,
    trades,
    bars,
    bookTopic,
    run(strategy, strategyId = 1) {
      const host = new StrategyHost(strategy, ctx, { strategyId });
      host.start();
      return host;
    },
    quote(instrumentId, ts, bid, ask, bidQty = 1000, askQty = 1000) {
      q.instrumentId = instrumentId as InstrumentId;
      q.tsEvent = at(ts);
      q.tsInit = q.tsEvent;
      q.bidPx = bid as PriceTicks;
      q.askPx = ask as PriceTicks;
      q.bidQty = bidQty as QtyLots;
      q.askQty = askQty as QtyLots;
      engine.onQuote(q);
      bus.publish(quotes, q);
    },
    trade(instrumentId, ts, px, qty = 1) {
      t.instrumentId = instrumentId as InstrumentId;
      t.tsEvent = at(ts);
      t.tsInit = t.tsEvent;
      t.px = px as PriceTicks;
      t.qty = qty as QtyLots;
      engine.onTrade(t);
      bus.publish(trades, t);
    },
    bar(instrumentId, tsOpen, interval, o, h, l, c) {
      b.instrumentId = instrumentId as InstrumentId;
      b.tsOpen = tsOpen as Micros;
      b.tsClose = at(tsOpen + interval);
      b.tsInit = b.tsClose;
      b.open = o as PriceTicks;
      b.high = h as PriceTicks;
      b.low = l as PriceTicks;
      b.close = c as PriceTicks;
      b.volume = 1 as QtyLots;
      b.interval = interval;
      bus.publish(bars, b);
    },
    book(instrumentId, ts, bidLevels, askLevels) {
      const book = books.book(instrumentId as InstrumentId)!;
      book.clear();
      for (const [px, qty] of bidLevels) book.set(BookSide.BID, px as PriceTicks, qty as QtyLots);
      for (const [px, qty] of askLevels) book.set(BookSide.ASK, px as PriceTicks, qty as QtyLots);
      u.instrumentId = instrumentId as InstrumentId;
      u.tsEvent = at(ts);
      u.book = book;
      bus.publish(bookTopic, u);
    },
    fillOpen(type, px) {
      let n = 0;
      for (const id of [...engine.cache.allOpenOrderIds()]) {
        const o = engine.cache.order(id)!;
        if (o.type === type && isOpen(o.status)) {
          kit.venue.fill(id, o.leavesQty, px);
          n++;
        }
      }
      return n;
    },
  };
}
