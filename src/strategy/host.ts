// Runs one strategy inside a kernel: binds it to its context, resolves its subscriptions, and subscribes it to
// the bus (market-data topics, the engine's order events, the portfolio's position events) at STRATEGY_PRIORITY.
// Invariant: handlers are built once; per event they test a byte mask and call the hook, allocating nothing.

import type { L2Book } from '../book/l2-book.ts';
import { Bot4Error, ErrorCode, isBot4Error } from '../core/errors.ts';
import type { Handler, Topic } from '../core/message-bus.ts';
import type { StrategyId } from '../core/units.ts';
import type { OrderEvent } from '../model/events.ts';
import type { Instrument } from '../model/instrument.ts';
import type { Bar, QuoteTick, TradeTick } from '../model/market-data.ts';
import { POSITION_TOPIC } from '../portfolio/portfolio.ts';
import type { PositionEvent } from '../portfolio/position.ts';
import { type BookUpdate, MarketTopics, STRATEGY_PRIORITY, type StrategyContext } from './context.ts';
import { parseBarInterval, resolveInstrument, type Strategy, StrategyState } from './strategy.ts';

export interface StrategyHostOptions {
  /** Unique among the strategies of one kernel: order events are routed by it. */
  readonly strategyId: number;
  /** For logs and errors; default the class name. */
  readonly name?: string;
}

/** A strategy's subscriptions with instruments resolved: what the runner must load and feed. */
export interface ResolvedSubscriptions {
  readonly quotes: readonly Instrument[];
  readonly trades: readonly Instrument[];
  readonly books: readonly Instrument[];
  readonly bars: readonly { readonly instrument: Instrument; readonly intervalMicros: number }[];
  /** Every instrument above, once. Position events are delivered for these. */
  readonly instruments: readonly Instrument[];
}

/** What reached a strategy in a run (one add per delivered event), to explain a run that traded nothing. */
export class DeliveryCounts {
  quotes = 0;
  trades = 0;
  books = 0;
  bars = 0;
  /** Bars of a subscribed instrument at an interval the strategy did not ask for (dropped), and the last one. */
  otherIntervalBars = 0;
  otherInterval = 0;
}

function mask(list: readonly Instrument[], size: number): Uint8Array {
  const m = new Uint8Array(Math.max(size, 1));
  for (const i of list) m[i.id] = 1;
  return m;
}

/**
 * The one delivery mechanism: the host subscribes to bus topics; the kernel publishes. Market data goes on
 * MarketTopics (QuoteTick, TradeTick, Bar, BookUpdate), order events on the engine's topic, position changes on
 * the portfolio's. Lifecycle: new StrategyHost (attach + resolve; `subscriptions` readable) -> start()
 * (subscribe, onStart) -> stop() (onStop, timers cancelled, unsubscribe).
 */
export class StrategyHost {
  readonly strategy: Strategy;
  readonly ctx: StrategyContext;
  readonly strategyId: StrategyId;
  readonly name: string;
  readonly subscriptions: ResolvedSubscriptions;
  private readonly quoteMask: Uint8Array = new Uint8Array(0);
  private readonly tradeMask: Uint8Array = new Uint8Array(0);
  private readonly bookMask: Uint8Array = new Uint8Array(0);
  private readonly instrumentMask: Uint8Array = new Uint8Array(0);
  /** Bar series as parallel arrays: (instrument id, interval) pairs, scanned per bar (a strategy has few). */
  private readonly barIds: Int32Array = new Int32Array(0);
  private readonly barIntervals: Float64Array = new Float64Array(0);
  private readonly subs: { topic: Topic<never>; id: number }[] = [];
  readonly delivered: DeliveryCounts = new DeliveryCounts();

  constructor(strategy: Strategy, ctx: StrategyContext, options: StrategyHostOptions) {
    if (!Number.isSafeInteger(options.strategyId) || options.strategyId < 1) {
      throw new Bot4Error(
        ErrorCode.INVALID_ARGUMENT,
        `strategy id must be a positive integer, got ${options.strategyId}`,
        { strategyId: options.strategyId },
      );
    }
    this.strategy = strategy;
    this.ctx = ctx;
    this.strategyId = options.strategyId as StrategyId;
    this.name = options.name ?? strategy.name;
    strategy.attach(ctx, this.strategyId, this.name);
    this.subscriptions = this.resolve();
    const size = ctx.instruments.size;
    this.quoteMask = mask(this.subscriptions.quotes, size);
    this.tradeMask = mask(this.subscriptions.trades, size);
    this.bookMask = mask(this.subscriptions.books, size);
    this.instrumentMask = mask(this.subscriptions.instruments, size);
    const bars = this.subscriptions.bars;
    this.barIds = Int32Array.from(bars, (b) => b.instrument.id);
    this.barIntervals = Float64Array.from(bars, (b) => b.intervalMicros);
  }

  get state(): StrategyState {
    return this.strategy.state;
  }

  /** Subscribes the strategy's handlers and calls onStart. */
  start(): void {
    if (this.strategy.state !== StrategyState.NEW) {
      throw new Bot4Error(ErrorCode.INVALID_ARGUMENT, `strategy ${this.name} was already started`);
    }
    const s = this.subscriptions;
    const bus = this.ctx.bus;
    if (s.quotes.length > 0) this.on(bus.topic<QuoteTick>(MarketTopics.QUOTES), this.handleQuote);
    if (s.trades.length > 0) this.on(bus.topic<TradeTick>(MarketTopics.TRADES), this.handleTrade);
    if (s.books.length > 0) this.on(bus.topic<BookUpdate>(MarketTopics.BOOKS), this.handleBook);
    if (s.bars.length > 0) this.on(bus.topic<Bar>(MarketTopics.BARS), this.handleBar);
    this.on(this.ctx.engine.orderEvents, this.handleOrderEvent);
    this.on(bus.topic<PositionEvent>(POSITION_TOPIC), this.handlePosition);
    this.strategy.state = StrategyState.RUNNING;
    this.guard('onStart', () => this.strategy.onStart());
  }

  /**
   * Starts a stopped strategy again (an operator, through the control API): subscribes and calls onStart
   * again. What the strategy kept (indicators, fields) stays; a rebalance target deferred before the stop is
   * dropped (the new onStart and the next signal decide).
   */
  resume(): void {
    if (this.strategy.state !== StrategyState.STOPPED) {
      throw new Bot4Error(ErrorCode.INVALID_ARGUMENT, `strategy ${this.name} is not stopped`);
    }
    this.strategy.clearDeferredTargets();
    this.strategy.state = StrategyState.NEW;
    this.start();
  }

  /** Calls onStop, cancels the strategy's timers (and, if asked, its open orders), then unsubscribes. */
  stop(options: { cancelOrders?: boolean } = {}): void {
    const st = this.strategy;
    if (st.state !== StrategyState.RUNNING) return;
    try {
      this.guard('onStop', () => st.onStop());
      if (options.cancelOrders === true) this.ctx.engine.cancelAll({ strategyId: this.strategyId });
    } finally {
      st.state = StrategyState.STOPPED;
      st.cancelTimers();
      const bus = this.ctx.bus;
      for (const { topic, id } of this.subs) bus.unsubscribe(topic, id);
      this.subs.length = 0;
    }
  }

  // ---- handlers: built once (fields), so subscribing allocates nothing per event -------------------------

  private readonly handleQuote = (q: QuoteTick): void => {
    if (this.quoteMask[q.instrumentId] === 1) {
      this.delivered.quotes++;
      try {
        this.strategy.onQuote(q);
      } catch (e) {
        throw this.failure('onQuote', e);
      }
    }
  };

  private readonly handleTrade = (t: TradeTick): void => {
    if (this.tradeMask[t.instrumentId] === 1) {
      this.delivered.trades++;
      try {
        this.strategy.onTrade(t);
      } catch (e) {
        throw this.failure('onTrade', e);
      }
    }
  };

  private readonly handleBook = (u: BookUpdate): void => {
    const book: L2Book | null = u.book;
    if (book !== null && this.bookMask[u.instrumentId] === 1) {
      this.delivered.books++;
      try {
        this.strategy.onBook(book, u);
      } catch (e) {
        throw this.failure('onBook', e);
      }
    }
  };

  private readonly handleBar = (b: Bar): void => {
    const ids = this.barIds;
    let instrument = false;
    for (let i = 0; i < ids.length; i++) {
      if (ids[i] !== b.instrumentId) continue;
      instrument = true;
      if (this.barIntervals[i] === b.interval) {
        this.delivered.bars++;
        try {
          this.strategy.onBar(b);
        } catch (e) {
          throw this.failure('onBar', e);
        }
        return;
      }
    }
    if (instrument) {
      this.delivered.otherIntervalBars++;
      this.delivered.otherInterval = b.interval;
    }
  };

  private readonly handleOrderEvent = (ev: OrderEvent): void => {
    if (ev.strategyId === this.strategyId) {
      try {
        this.strategy.dispatchOrderEvent(ev);
      } catch (e) {
        throw this.failure('onOrderEvent', e);
      }
    }
  };

  private readonly handlePosition = (ev: PositionEvent): void => {
    const p = ev.position;
    if (p !== null && this.instrumentMask[p.instrumentId] === 1) {
      try {
        this.strategy.onPositionChanged(ev);
      } catch (e) {
        throw this.failure('onPositionChanged', e);
      }
    }
  };

  // ---- edges ---------------------------------------------------------------------------------------------

  private on<T>(topic: Topic<T>, handler: Handler<T>): void {
    const id = this.ctx.bus.subscribe(topic, handler, STRATEGY_PRIORITY);
    this.subs.push({ topic: topic as Topic<never>, id });
  }

  private guard(hook: string, fn: () => void): void {
    try {
      fn();
    } catch (e) {
      throw this.failure(hook, e);
    }
  }

  /** A strategy bug stops the run with the strategy and hook named (once: nested hooks keep the inner one). */
  private failure(hook: string, e: unknown): Error {
    if (isBot4Error(e) && e.details['strategy'] === this.name) return e;
    const msg = e instanceof Error ? e.message : String(e);
    // Keep the code of a typed error (a bad decimal, an unknown instrument); anything else is a bug.
    return new Bot4Error(
      isBot4Error(e) ? e.code : ErrorCode.INTERNAL,
      `strategy ${this.name} failed in ${hook}: ${msg}`,
      { strategy: this.name, hook },
      { cause: e },
    );
  }

  private resolve(): ResolvedSubscriptions {
    const context = `strategy ${this.name}`;
    const decl = this.strategy.subscriptions();
    const reg = this.ctx.instruments;
    const list = (refs: readonly string[] | undefined): Instrument[] => {
      const out: Instrument[] = [];
      for (const r of refs ?? []) {
        const inst = resolveInstrument(reg, r, context);
        if (!out.includes(inst)) out.push(inst);
      }
      return out;
    };
    const quotes = list(decl.quotes);
    const trades = list(decl.trades);
    const books = list(decl.books);
    const bars: { instrument: Instrument; intervalMicros: number }[] = [];
    for (const b of decl.bars ?? []) {
      const instrument = resolveInstrument(reg, b.instrument, context);
      const intervalMicros = parseBarInterval(b.interval, `${context}: bar interval of ${b.instrument}`);
      if (!bars.some((x) => x.instrument === instrument && x.intervalMicros === intervalMicros))
        bars.push({ instrument, intervalMicros });
    }
    const instruments: Instrument[] = [];
    for (const i of [...quotes, ...trades, ...books, ...bars.map((b) => b.instrument)]) {
      if (!instruments.includes(i)) instruments.push(i);
    }
    return { quotes, trades, books, bars, instruments };
  }
}
