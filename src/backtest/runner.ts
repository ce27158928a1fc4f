// The backtest kernel: wires clock, bus, execution engine, simulated exchanges, portfolio, strategies and the
// recorder, then replays market data through them in time order. Per record: the exchange sees it first
// (resting orders fill on it), then the emulator, bars and books, then strategies; a strategy only ever sees
// data whose time is at or before the clock. Deterministic: the same inputs give the same event log, whose
// fingerprint (a hash of every order event) the report carries.

import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { L2Book } from '../book/l2-book.ts';
import { TestClock, wallMicros } from '../core/clock.ts';
import { Bot4Error, ErrorCode } from '../core/errors.ts';
import { MessageBus } from '../core/message-bus.ts';
import type { InstrumentId, Micros } from '../core/units.ts';
import { TimeBarAggregator } from '../data/bars.ts';
import { Cache } from '../execution/cache.ts';
import { ExecutionEngine } from '../execution/engine.ts';
import { PortfolioLink } from '../execution/portfolio-link.ts';
import { type Currency, currencies, moneyFromDecimal } from '../model/currency.ts';
import type { OrderEvent } from '../model/events.ts';
import type { Instrument, InstrumentRegistry } from '../model/instrument.ts';
import {
  Bar,
  BookDelta,
  DeltaFlag,
  type EventBatch,
  QuoteTick,
  RecordKind,
  TradeTick,
} from '../model/market-data.ts';
import { OrderEventKind } from '../model/order-state.ts';
import { AccountType } from '../portfolio/account.ts';
import { Portfolio } from '../portfolio/portfolio.ts';
import { type RiskConfig, RiskConfigSchema } from '../risk/risk-config.ts';
import { RiskEngine } from '../risk/risk-engine.ts';
import {
  BookArray,
  BookUpdate,
  MarketTopics,
  type StrategyContext,
  type StrategyLogger,
} from '../strategy/context.ts';
import { StrategyHost } from '../strategy/host.ts';
import type { Strategy } from '../strategy/strategy.ts';
import { SimulatedExchange, type SimulatedExchangeOptions } from '../venues/sim/exchange.ts';
import { DenialCounter, noTradeNotes } from './diagnose.ts';
import { BacktestRecorder, PortfolioEquitySource, type Recording } from './recorder.ts';
import { type BacktestReport, buildReport } from './report.ts';
import { type BacktestStats, statsFromRecording } from './stats.ts';

export interface BacktestProgress {
  events: number;
  /** Engine time reached, micros. */
  ts: number;
  /** Requested range, micros (NaN when open-ended). */
  from: number;
  to: number;
  wallMs: number;
}

export interface BacktestOptions {
  /** Strategies, constructed with their parameters. */
  strategies: readonly { strategy: Strategy; parameters?: Readonly<Record<string, unknown>> }[];
  instruments: InstrumentRegistry;
  /** Market data in time order (loaders, the catalog, replay, the demo generator). */
  data: AsyncIterable<EventBatch> | Iterable<EventBatch>;
  /** What the data is, for the report. */
  dataLabel: string;
  /** Initial balances, e.g. [{ currency: 'USDT', amount: '10000' }]. */
  balances: readonly { currency: string; amount: string }[];
  /** Report currency; default the first balance's. */
  reportCurrency?: string;
  /** Only events with from <= ts < to are replayed. */
  from?: number;
  to?: number;
  /** The risk engine's limits (config section `risk`); every order passes its checks. Default: config defaults. */
  riskConfig?: RiskConfig;
  /**
   * Options for every simulated venue (latency, queue model, fees...); clock, instruments, name are set here.
   * Venue order and trade id strings are off unless set here.
   */
  venue?: Omit<SimulatedExchangeOptions, 'clock' | 'instruments' | 'name' | 'sink'>;
  /** Orders the execution engine preallocates (config memory.pools.orders; default the engine's). */
  orderCapacity?: number;
  /** Leverage for margin accounts (default 1). */
  leverage?: number;
  /** Equity-curve sampling interval, micros (default one minute). */
  sampleIntervalMicros?: number;
  onProgress?: (p: BacktestProgress) => void;
  /** Stops the run cleanly at the next batch; the result is a partial report. */
  signal?: AbortSignal;
  logger?: StrategyLogger;
}

export interface BacktestResult {
  report: BacktestReport;
  stats: BacktestStats;
  recording: Recording;
  fingerprint: string;
  events: number;
  wallMs: number;
  /** True when the run was interrupted (signal) before the data ended. */
  partial: boolean;
  /** What a reader should know about the run (why it traded nothing...); also in the report's notes. */
  notes: string[];
  portfolio: Portfolio;
  engine: ExecutionEngine;
}

/** The replay loop's per-event state (object fields hold doubles in place). */
class RunState {
  events = 0;
  lastTs = Number.NaN;
  started = false;
}

const quietLogger: StrategyLogger = { debug() {}, info() {}, warn() {}, error() {} };

/**
 * A 64-bit FNV-1a over the numbers of every order event, in two 32-bit lanes (no BigInt, no allocation):
 * equal fingerprints mean the same orders, fills, prices, fees and times.
 */
class Fingerprint {
  private h1 = 0x811c9dc5;
  private h2 = 0x01000193;
  private readonly f = new Float64Array(1);
  private readonly w = new Int32Array(this.f.buffer);

  add(x: number): void {
    this.f[0] = x;
    this.h1 = Math.imul(this.h1 ^ this.w[0]!, 0x01000193);
    this.h2 = Math.imul(this.h2 ^ this.w[1]!, 0x01000193);
    this.h1 = Math.imul(this.h1 ^ (this.h2 >>> 7), 0x01000193);
  }

  addEvent(ev: OrderEvent): void {
    this.add(ev.kind);
    this.add(ev.orderId);
    this.add(ev.tsEvent);
    if (ev.kind === OrderEventKind.FILLED) {
      this.add(ev.fillQty);
      this.add(ev.fillPx);
      this.add(ev.fee);
    }
  }

  hex(): string {
    return (this.h1 >>> 0).toString(16).padStart(8, '0') + (this.h2 >>> 0).toString(16).padStart(8, '0');
  }
}

/** Runs one backtest to the end of the data (or the signal) and returns its report. */
export async function runBacktest(options: BacktestOptions): Promise<BacktestResult> {
  const wall0 = wallMicros();
  const registry = options.instruments;
  const from = options.from ?? Number.NEGATIVE_INFINITY;
  const to = options.to ?? Number.POSITIVE_INFINITY;
  if (!(from < to)) {
    throw new Bot4Error(
      ErrorCode.INVALID_ARGUMENT,
      `backtest time range is empty: from ${from} is not before to ${to}`,
    );
  }
  if (options.strategies.length === 0) {
    throw new Bot4Error(ErrorCode.INVALID_ARGUMENT, 'a backtest needs at least one strategy');
  }
  if (options.balances.length === 0) {
    throw new Bot4Error(
      ErrorCode.INVALID_ARGUMENT,
      'a backtest needs an initial balance (e.g. --balance 10000USDT)',
    );
  }

  const clock = new TestClock(0 as Micros);
  const bus = new MessageBus();
  const cache = new Cache(registry);
  const engine = new ExecutionEngine({
    bus,
    clock,
    cache,
    ...(options.orderCapacity === undefined ? {} : { orderCapacity: options.orderCapacity }),
  });
  const portfolio = new Portfolio({ bus, defaultLeverage: options.leverage ?? 1 });
  new PortfolioLink(bus, engine, portfolio);
  // Risk in the backtest is the same engine as live: every order passes it before the simulated venue.
  const riskConfig = options.riskConfig ?? RiskConfigSchema.parse({});
  const riskCurrency = currencies.getOrCreate(riskConfig.accountCurrency);
  const risk = new RiskEngine({
    config: riskConfig,
    instruments: registry,
    clock,
    bus,
    account: {
      positionQty: (id) => portfolio.netQty(id),
      freeBalance: (c) => portfolio.free(c),
      equity: () => portfolio.equity(riskCurrency.id),
    },
  });
  engine.setRisk(risk);
  risk.attach(engine, bus);

  // One simulated venue and one account per venue of the registry.
  const venues = new Map<string, SimulatedExchange>();
  const simByInstrument: (SimulatedExchange | undefined)[] = [];
  for (const inst of registry.all()) {
    let sim = venues.get(inst.venue);
    if (sim === undefined) {
      const venueInstruments = registry.all().filter((i) => i.venue === inst.venue);
      sim = new SimulatedExchange({
        // No venue order or trade id strings unless asked: a simulated venue never repeats a fill, so nothing
        // needs them, and building and deduplicating them was a large share of each order's cost.
        venueOrderIds: false,
        tradeIds: false,
        ...options.venue,
        name: inst.venue,
        clock,
        instruments: venueInstruments,
        sink: engine,
        onFunding: (id, rate, markPx) => {
          portfolio.applyFunding(registry.require(id as InstrumentId), rate, markPx, clock.now());
          if (isTraded[id] === 1) recorder.funding(clock.now(), id, portfolio.lastFunding);
        },
      });
      venues.set(inst.venue, sim);
      engine.registerVenue(inst.venueId, sim);
      const spot = venueInstruments.every((i) => i.kind === 0);
      portfolio.addAccount({
        venue: inst.venue,
        type: spot ? AccountType.CASH : AccountType.MARGIN,
        balances: options.balances.map((b) => {
          const c = currencies.getOrCreate(b.currency);
          return { currency: c, amount: moneyFromDecimal(b.amount, c, { what: `balance ${b.currency}` }) };
        }),
      });
    }
    simByInstrument[inst.id] = sim;
  }

  const reportCurrency: Currency = currencies.getOrCreate(
    options.reportCurrency ?? options.balances[0]!.currency,
  );
  const books = new BookArray();
  const logger = options.logger ?? quietLogger;
  const ctx: StrategyContext = { engine, cache, portfolio, bus, clock, instruments: registry, books, logger };
  const hosts = options.strategies.map((s, i) => new StrategyHost(s.strategy, ctx, { strategyId: i + 1 }));
  const denials = new DenialCounter(bus, engine);

  // What the strategies need: books for their instruments, bars aggregated from trades (or quote mids).
  const quoteTopic = bus.topic<QuoteTick>(MarketTopics.QUOTES);
  const tradeTopic = bus.topic<TradeTick>(MarketTopics.TRADES);
  const barTopic = bus.topic<Bar>(MarketTopics.BARS);
  const bookTopic = bus.topic<BookUpdate>(MarketTopics.BOOKS);
  const traded = new Map<number, Instrument>();
  const barAggs: TimeBarAggregator[][] = [];
  for (const h of hosts) {
    const s = h.subscriptions;
    for (const i of s.instruments) traded.set(i.id, i);
    for (const i of s.books) if (books.book(i.id) === undefined) books.set(i.id, new L2Book());
    for (const b of s.bars) {
      while (barAggs.length <= b.instrument.id) barAggs.push([]);
      const list = barAggs[b.instrument.id]!;
      if (!list.some((a) => a.interval === b.intervalMicros)) {
        list.push(
          new TimeBarAggregator(b.intervalMicros, (bar) => bus.publish(barTopic, bar), {
            instrumentId: b.instrument.id,
          }),
        );
      }
    }
  }
  // A strategy's book is the venue's own L2 view (one book per instrument, not two kept in step): every
  // registered instrument has a venue, and the venue applies the deltas.
  for (let id = 0; id < books.books.length; id++) {
    const book = books.books[id];
    if (book !== undefined) simByInstrument[id]?.useBook(id, book);
  }
  const tradedList = [...traded.values()];
  // Per-event checks read arrays, not Maps: a byte per instrument id, and the venues as a plain array.
  const isTraded = new Uint8Array(registry.size + 1);
  for (const i of tradedList) isTraded[i.id] = 1;
  const sims = [...venues.values()];
  const recorder = new BacktestRecorder({
    currency: reportCurrency,
    instruments: tradedList,
    source: new PortfolioEquitySource(portfolio, reportCurrency),
    ...(options.sampleIntervalMicros === undefined ? {} : { intervalMicros: options.sampleIntervalMicros }),
  });
  const fingerprint = new Fingerprint();
  // After the portfolio and before strategies: the recorder books each fill with the realised PnL it made.
  bus.subscribe(
    engine.orderEvents,
    (ev) => {
      fingerprint.addEvent(ev);
      if (ev.kind === OrderEventKind.SUBMITTED) recorder.orderSubmitted();
      if (ev.kind === OrderEventKind.FILLED) {
        const order = cache.order(ev.orderId);
        const pos = order === undefined ? undefined : portfolio.position(order.instrumentId);
        if (order !== undefined && pos !== undefined) recorder.recordOrderFill(order, ev, pos);
      }
    },
    -50,
  );

  const q = new QuoteTick();
  const t = new TradeTick();
  const d = new BookDelta();
  const bookUpdate = new BookUpdate();
  // Per-event counters live in an object: a closure's `let` holding a double boxes a new number per write.
  const st = new RunState();
  let partial = false;
  let lastProgress = wall0;

  for (const h of hosts) h.start();
  const runRow = (b: EventBatch, i: number): void => {
    const ts = b.tsEvent[i]!;
    if (!st.started) {
      st.started = true;
      clock.advanceTo(ts as Micros);
      recorder.begin(ts);
    }
    // Let the venues deliver what is due before this record (order arrivals, acks, fills), each at its time.
    for (let v = 0; v < sims.length; v++) {
      const sim = sims[v]!;
      for (let next = sim.nextEventTime(); next <= ts; next = sim.nextEventTime()) {
        // Sample the curve before the venue's events at `next` change the account.
        recorder.advance(next);
        if (next > clock.now()) clock.advanceTo(next as Micros);
        sim.advanceTo(next);
      }
    }
    recorder.advance(ts);
    clock.advanceTo(ts as Micros);
    const id = b.instrument[i]!;
    const sim = simByInstrument[id];
    // Each record is read once; the venue sees it first (resting orders fill on it), then the rest.
    switch (b.kind[i]) {
      case RecordKind.QUOTE: {
        b.readQuote(i, q);
        sim?.onQuote(q);
        const mid = Math.round((q.bidPx + q.askPx) / 2);
        risk.onPrice(id as InstrumentId, mid, ts);
        engine.onQuote(q);
        if (isTraded[id] === 1) {
          portfolio.mark(id as InstrumentId, mid);
          recorder.observePrice(id, mid);
        }
        const aggs = barAggs[id];
        if (aggs !== undefined) for (const a of aggs) a.updateQuote(ts, q.bidPx, q.askPx);
        bus.publish(quoteTopic, q);
        break;
      }
      case RecordKind.TRADE: {
        b.readTrade(i, t);
        sim?.onTrade(t);
        risk.onPrice(id as InstrumentId, t.px, ts);
        engine.onTrade(t);
        if (isTraded[id] === 1) {
          portfolio.mark(id as InstrumentId, t.px);
          recorder.observePrice(id, t.px);
        }
        bus.publish(tradeTopic, t);
        break;
      }
      case RecordKind.DELTA: {
        b.readDelta(i, d);
        sim?.onBookDelta(d);
        const book = books.book(id as InstrumentId);
        if (book !== undefined && (d.flags & DeltaFlag.LAST) !== 0) {
          bookUpdate.instrumentId = id as InstrumentId;
          bookUpdate.tsEvent = ts as Micros;
          bookUpdate.book = book;
          bus.publish(bookTopic, bookUpdate);
        }
        break;
      }
      case RecordKind.BAR: {
        const bar = b.readBar(i, barOut);
        sim?.onBar(bar);
        // Recorded bars (candle files) go straight to strategies at their close time; on bar-only data the
        // close is also the risk engine's reference price (else every order is denied for want of one).
        const close = b.d[i]!;
        risk.onPrice(id as InstrumentId, close, ts);
        if (isTraded[id] === 1) {
          portfolio.mark(id as InstrumentId, close);
          recorder.observePrice(id, close);
        }
        bus.publish(barTopic, bar);
        break;
      }
      default:
        sim?.onBatchRow(b, i);
        break;
    }
    st.lastTs = ts;
    st.events++;
  };
  const barOut = new Bar();

  try {
    for await (const batch of options.data) {
      const n = batch.length;
      for (let i = 0; i < n; i++) {
        const ts = batch.tsEvent[i]!;
        if (ts < from) continue;
        if (ts >= to) break;
        runRow(batch, i);
      }
      if (n > 0 && batch.tsEvent[n - 1]! >= to) break;
      // Closed orders go back to the pool between batches (never while one of their events is handled).
      engine.purgeClosed();
      risk.updateEquity();
      const now = wallMicros();
      if (now - lastProgress > 250_000) {
        lastProgress = now;
        options.onProgress?.({ events: st.events, ts: st.lastTs, from, to, wallMs: (now - wall0) / 1000 });
        // In-memory data never leaves the microtask queue: let the event loop run (Ctrl-C, timers) now and then.
        if (options.signal !== undefined) await yieldToEventLoop();
      }
      if (options.signal?.aborted === true) {
        partial = true;
        break;
      }
    }
  } finally {
    for (const h of hosts) h.stop();
  }
  if (!st.started) {
    throw new Bot4Error(
      ErrorCode.DATA_MISSING,
      `no market data in the requested range of ${options.dataLabel}`,
    );
  }
  // Close bars that ended with the data, and let pending venue actions up to the last event finish.
  const { events, lastTs } = st;
  for (const sim of sims) sim.advanceTo(lastTs);
  recorder.end(lastTs);
  const recording = recorder.recording();
  const stats = statsFromRecording(recording);
  const notes = noTradeNotes({
    hosts,
    denials,
    submitted: engine.stats.submitted,
    fills: recording.fills.length,
    events,
  });
  const wallMs = (wallMicros() - wall0) / 1000;
  const fp = fingerprint.hex();
  // Built on first read: optimiser trials only need the statistics, and the report's arrays of a long run
  // (a JS array per curve column) cost more than the statistics themselves.
  let report: BacktestReport | undefined;
  const reportInput = {
    recording,
    stats,
    fingerprint: fp,
    meta: {
      strategy: hosts.map((h) => h.name).join(', '),
      data: options.dataLabel,
      ...(Number.isFinite(from) ? { startTs: from } : {}),
      ...(Number.isFinite(to) ? { endTs: to } : {}),
      eventsProcessed: events,
      wallTimeMs: wallMs,
      partial,
    },
    parameters: Object.assign({}, ...options.strategies.map((s) => s.parameters ?? {})),
    notes,
  };
  return {
    get report(): BacktestReport {
      report ??= buildReport(reportInput);
      return report;
    },
    stats,
    recording,
    fingerprint: fp,
    events,
    wallMs,
    partial,
    notes,
    portfolio,
    engine,
  };
}
