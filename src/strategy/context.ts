// What a strategy is given to work with, as interfaces the kernel fills in the same way for backtest, paper
// and live (so a strategy cannot tell them apart), plus the bus topics market data reaches strategies on.
// Units: prices ticks, quantities lots, money units of a currency, times Micros (event time from the Clock).

import type { L2Book } from '../book/l2-book.ts';
import type { Clock } from '../core/clock.ts';
import type { MessageBus, Topic } from '../core/message-bus.ts';
import type { InstrumentId, Micros, OrderId, QtyLots } from '../core/units.ts';
import type { Cache } from '../execution/cache.ts';
import type { CurrencyId, Money } from '../model/currency.ts';
import type { OrderEvent } from '../model/events.ts';
import type { InstrumentRegistry } from '../model/instrument.ts';
import type { Order, OrderRequest } from '../model/order.ts';
import type { Position, PositionSide } from '../portfolio/position.ts';
import type { SizingConfig } from '../risk/risk-config.ts';

/**
 * Topics the data engine (replay in backtest, venue streams live) publishes market data on, one per record
 * kind for every instrument; a StrategyHost filters by instrument. Publish each record after the clock has
 * moved to its time (TestClock.advanceTo(ts) first in backtest). These names belong with the data engine and
 * may move to src/data when it exists; the strings are the contract.
 */
export const MarketTopics = {
  /** QuoteTick */
  QUOTES: 'data.quotes',
  /** TradeTick */
  TRADES: 'data.trades',
  /** Bar, published at its close (tsClose), never before */
  BARS: 'data.bars',
  /** BookUpdate, after a venue message's deltas were applied to the book (DeltaFlag.LAST) */
  BOOKS: 'data.books',
} as const;

/**
 * Dispatch priority of strategies on every topic (lower runs first). Whatever a strategy reads must be
 * subscribed below this: the portfolio's fill handler and the risk engine on order events, the order
 * emulator, books and the simulated exchange on market data.
 */
export const STRATEGY_PRIORITY = 100;

/** Published on MarketTopics.BOOKS: which book changed. One reused record per publisher. */
export class BookUpdate {
  instrumentId = 0 as InstrumentId;
  tsEvent = 0 as Micros;
  /** The book after the update; null only on a record that was never filled in. */
  book: L2Book | null = null;
}

/** The order commands a strategy uses: the ExecutionEngine provides them (through risk, to a venue). */
export interface OrderGateway {
  readonly orderEvents: Topic<OrderEvent>;
  submit(req: OrderRequest): Order;
  submitBracket(entry: OrderRequest, takeProfit: OrderRequest, stopLoss: OrderRequest): Order;
  submitOco(a: OrderRequest, b: OrderRequest): [Order, Order];
  modify(orderId: OrderId, qty: number, price: number, triggerPrice: number): number;
  cancel(orderId: OrderId): boolean;
  cancelAll(filter?: { instrumentId?: number; strategyId?: number }): number;
}

/** The read side of the Portfolio a strategy may use (positions are per account and instrument). */
export interface PortfolioView {
  position(instrumentId: InstrumentId, positionSide?: PositionSide): Position | undefined;
  netQty(instrumentId: InstrumentId): QtyLots;
  balance(c: CurrencyId): Money;
  free(c: CurrencyId): Money;
  equity(c: CurrencyId): Money;
  realisedPnl(c: CurrencyId): Money;
  unrealisedPnl(c: CurrencyId): Money;
}

/** Where L2 books live (the data engine's); undefined for an instrument without one. */
export interface BookSource {
  book(instrumentId: InstrumentId): L2Book | undefined;
}

/** A logger (pino's Logger fits). Strategies log at the edges (start, stop, errors), never per event. */
export interface StrategyLogger {
  debug(msg: string): void;
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
}

/**
 * Everything a strategy reaches, provided by the kernel (backtest runner, paper or live node). Each member is
 * the same object the rest of the engine uses, so the strategy sees exactly the state every other component
 * sees at the event being dispatched, and nothing that a later event will bring.
 */
export interface StrategyContext {
  readonly engine: OrderGateway;
  readonly cache: Cache;
  readonly portfolio: PortfolioView;
  readonly bus: MessageBus;
  readonly clock: Clock;
  readonly instruments: InstrumentRegistry;
  readonly books: BookSource;
  readonly logger: StrategyLogger;
  /** The run's sizing policy (config risk.sizing) behind Strategy.size(); absent = each strategy's own size. */
  readonly sizing?: SizingConfig;
}

/** A BookSource over an array indexed by instrument id (tests; a data engine can expose its own). */
export class BookArray implements BookSource {
  readonly books: (L2Book | undefined)[] = [];

  set(instrumentId: InstrumentId, book: L2Book): void {
    while (this.books.length <= instrumentId) this.books.push(undefined);
    this.books[instrumentId] = book;
  }

  book(instrumentId: InstrumentId): L2Book | undefined {
    return this.books[instrumentId];
  }
}
