// The backtest kernel: wires clock, bus, execution engine, simulated exchanges, portfolio, strategies and the
// recorder, then replays market data through them in time order. Per record: the exchange sees it first
// (resting orders fill on it), then the emulator, bars and books, then strategies; a strategy only ever sees
// data whose time is at or before the clock. Deterministic: the same inputs give the same event log, whose
// fingerprint (a hash of every order event) the report carries.

import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { monoNanos, TestClock, wallMicros } from '../core/clock.ts';
import { Bot4Error, ErrorCode, isBot4Error } from '../core/errors.ts';
import type { MessageBus } from '../core/message-bus.ts';
import type { InstrumentId, Micros } from '../core/units.ts';
import { canPump } from '../data/run-sink.ts';
import type { ExecutionEngine } from '../execution/engine.ts';
import { buildKernel } from '../kernel/kernel.ts';
import { type Currency, currencies } from '../model/currency.ts';
import type { OrderEvent } from '../model/events.ts';
import type { InstrumentRegistry } from '../model/instrument.ts';
import {
  Bar,
  BookDelta,
  DeltaFlag,
  type EventBatch,
  FundingRate,
  MarkPrice,
  QuoteTick,
  RecordKind,
  TradeTick,
} from '../model/market-data.ts';
import { OrderEventKind } from '../model/order-state.ts';
import type { Portfolio } from '../portfolio/portfolio.ts';
import type { RiskConfig } from '../risk/risk-config.ts';
import type { RiskEngine } from '../risk/risk-engine.ts';
import { BookUpdate, type StrategyLogger } from '../strategy/context.ts';
import type { Strategy } from '../strategy/strategy.ts';
import { SimulatedExchange, type SimulatedExchangeOptions } from '../venues/sim/exchange.ts';
import { slippageOf } from '../venues/sim/slippage.ts';
import { RecordedBarResampling } from './bar-resampling.ts';
import { type Breakdown, buildBreakdown, FillStrategies } from './breakdown.ts';
import { noTradeNotes } from './diagnose.ts';
import { BacktestRecorder, PortfolioEquitySource, type Recording } from './recorder.ts';
import { type BacktestReport, buildReport } from './report.ts';
import { type BacktestStats, statsFromRecording } from './stats.ts';
import { type FailurePoint, failurePoint, StrategyFailure } from './strategy-failure.ts';

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
  /** Notes about the data for the report (what loaders skipped or repaired), read once the run has ended. */
  dataNotes?: () => readonly string[];
  onProgress?: (p: BacktestProgress) => void;
  /** Stops the run cleanly at the next batch; the result is a partial report. */
  signal?: AbortSignal;
  logger?: StrategyLogger;
  /**
   * What to do with a row older than one already replayed (late beyond the reorder window: the clock cannot
   * go back): 'deliver' it at the current time (default) or 'drop' it. Either way it is counted and noted.
   */
  lateRows?: LateRowPolicy;
  /** Metrics seam (src/monitoring): told the wired components, then timed once per batch, never per event. */
  probe?: BacktestProbe;
  /** Every order event as the engine publishes it (session replay compares them with a live session's). */
  onOrderEvent?: (ev: OrderEvent) => void;
}

/** What the runner tells a metrics probe (the monitoring layer implements it; nothing here depends on it). */
export interface BacktestProbe {
  attach(parts: {
    engine: ExecutionEngine;
    risk: RiskEngine;
    portfolio: Portfolio;
    instruments: InstrumentRegistry;
    bus: MessageBus;
    clock: TestClock;
    strategyIds: readonly number[];
  }): void;
  /**
   * Rows [start, end) of `batch` were handed to the replay; those with from <= ts < to were replayed. Called
   * once per batch, or once per run of rows when a merge hands them over in place: never per row.
   */
  rows(batch: EventBatch, start: number, end: number, from: number, to: number): void;
  /**
   * A batch was replayed (the data's own, or where it would end when rows are handed over in place): ns spent
   * waiting for it (from the end of the previous one to its first row) and replaying it (to its end).
   */
  batch(fetchNs: number, replayNs: number): void;
  /** ns spent between batches on housekeeping (purging closed orders, equity for loss limits). */
  housekeeping(ns: number): void;
}

export const LATE_ROW_POLICIES = ['deliver', 'drop'] as const;
export type LateRowPolicy = (typeof LATE_ROW_POLICIES)[number];

export interface BacktestResult {
  report: BacktestReport;
  stats: BacktestStats;
  recording: Recording;
  fingerprint: string;
  events: number;
  wallMs: number;
  /** True when the run was interrupted (signal) before the data ended. */
  partial: boolean;
  portfolio: Portfolio;
  engine: ExecutionEngine;
  /** Rows that arrived older than the clock, and what happened to them (see BacktestOptions.lateRows). */
  late: LateRows;
  /** Per-instrument and per-strategy tables, when the run had several of either. */
  breakdown?: Breakdown;
  /** What a reader should know about the run (data repairs, risk that acted, late rows, why it traded nothing): `report.notes`. */
  notes: string[];
}

/** Rows older than the replay clock when they arrived: counted, and delivered now or dropped by policy. */
export class LateRows {
  count = 0;
  /** Event time of the first late row, and how far behind the clock it was, micros. */
  firstTs = Number.NaN;
  firstBehind = 0;
  maxBehind = 0;
  readonly policy: LateRowPolicy;
  constructor(policy: LateRowPolicy) {
    this.policy = policy;
  }

  add(ts: number, now: number): void {
    const behind = now - ts;
    if (this.count === 0) {
      this.firstTs = ts;
      this.firstBehind = behind;
    }
    if (behind > this.maxBehind) this.maxBehind = behind;
    this.count++;
  }

  /** One line for report.notes and standard error; undefined when no row was late. */
  note(): string | undefined {
    if (this.count === 0) return undefined;
    const what =
      this.policy === 'drop' ? 'dropped' : 'delivered at the replay clock (their own time was already past)';
    return (
      `${this.count} rows were older than rows already replayed (late beyond the reorder window) and were ${what}; ` +
      `first at ${isoTime(this.firstTs)} (${ms(this.firstBehind)} behind), at most ${ms(this.maxBehind)} behind ` +
      `(policy ${this.policy}; --late-rows deliver|drop)`
    );
  }
}

function isoTime(us: number): string {
  return new Date(Math.floor(us / 1000)).toISOString();
}

function ms(us: number): string {
  return `${(us / 1000).toFixed(3)} ms`;
}

/** The replay loop's per-event state (object fields hold doubles in place). */
class RunState {
  events = 0;
  /** Index of the row being run in its batch (where a strategy failure happened). */
  row = 0;
  lastTs = Number.NaN;
  started = false;
  /** Rows handed over in place (pump): the rest of the current batch is past `to`, and its last row's time. */
  skip = false;
  batchLastTs = Number.NaN;
  /** A strategy failed: the rows still handed over are not replayed. */
  stop = false;
  /** Probe timing (pump): when the current batch's first rows arrived, monotonic ns (NaN: not yet). */
  batchT0 = Number.NaN;
}

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
  // The composition shared with paper and live trading; the backtest's venues are simulated exchanges.
  const simByInstrument: (SimulatedExchange | undefined)[] = [];
  const sims: SimulatedExchange[] = [];
  const kernel = buildKernel({
    clock,
    instruments: registry,
    strategies: options.strategies,
    balances: options.balances,
    ...(options.riskConfig === undefined ? {} : { riskConfig: options.riskConfig }),
    ...(options.leverage === undefined ? {} : { leverage: options.leverage }),
    ...(options.logger === undefined ? {} : { logger: options.logger }),
    ...(options.orderCapacity === undefined ? {} : { orderCapacity: options.orderCapacity }),
    makeVenue: (name, venueInstruments, k) => {
      const sim = new SimulatedExchange({
        // No venue order or trade id strings unless asked: a simulated venue never repeats a fill, so nothing
        // needs them, and building and deduplicating them was a large share of each order's cost.
        venueOrderIds: false,
        tradeIds: false,
        ...options.venue,
        name,
        clock,
        instruments: venueInstruments,
        sink: k.engine,
        onFunding: (id, rate, markPx) => {
          k.portfolio.applyFunding(registry.require(id as InstrumentId), rate, markPx, clock.now());
          if (isTraded[id] === 1) recorder.funding(clock.now(), id, k.portfolio.lastFunding);
        },
      });
      sims.push(sim);
      for (const i of venueInstruments) simByInstrument[i.id] = sim;
      return sim;
    },
  });
  const { bus, cache, engine, portfolio, risk, books, hosts, barAggs, isTraded } = kernel;
  const { quoteTopic, tradeTopic, barTopic, bookTopic } = kernel;
  const tradedList = kernel.traded;
  const reportCurrency: Currency = currencies.getOrCreate(
    options.reportCurrency ?? options.balances[0]!.currency,
  );
  // A strategy's book is the venue's own L2 view (one book per instrument, not two kept in step): every
  // registered instrument has a venue, and the venue applies the deltas.
  for (let id = 0; id < books.books.length; id++) {
    const book = books.books[id];
    if (book !== undefined) simByInstrument[id]?.useBook(id, book);
  }
  // Bars are built from quote mids where an instrument has quotes, else from its trades (trade-only data):
  // set on an instrument's first quote, after which its trades no longer feed its bars.
  const hasQuotes = new Uint8Array(registry.size + 1);
  // Subscribed bar intervals the recorded bars of candle data are resampled to (15m from 1m candles).
  const resampling = new RecordedBarResampling(barAggs, (bar) => bus.publish(barTopic, bar));
  const recorder = new BacktestRecorder({
    currency: reportCurrency,
    instruments: tradedList,
    source: new PortfolioEquitySource(portfolio, reportCurrency),
    ...(options.sampleIntervalMicros === undefined ? {} : { intervalMicros: options.sampleIntervalMicros }),
  });
  const fingerprint = new Fingerprint();
  const onOrderEvent = options.onOrderEvent;
  const fillStrategies = new FillStrategies();
  // After the portfolio and before strategies: the recorder books each fill with the realised PnL it made.
  bus.subscribe(
    engine.orderEvents,
    (ev) => {
      fingerprint.addEvent(ev);
      onOrderEvent?.(ev);
      if (ev.kind === OrderEventKind.SUBMITTED) recorder.orderSubmitted();
      if (ev.kind === OrderEventKind.FILLED) {
        const order = cache.order(ev.orderId);
        const pos = order === undefined ? undefined : portfolio.position(order.instrumentId);
        if (order !== undefined && pos !== undefined) {
          recorder.recordOrderFill(order, ev, pos);
          fillStrategies.push(ev.strategyId);
        }
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
  const late = new LateRows(options.lateRows ?? 'deliver');
  const dropLate = late.policy === 'drop';
  let partial = false;
  let failure: { error: unknown; point: FailurePoint } | undefined;
  let lastProgress = wall0;

  const probe = options.probe;
  probe?.attach({
    engine,
    risk,
    portfolio,
    instruments: registry,
    bus,
    clock,
    strategyIds: hosts.map((_, i) => i + 1),
  });
  for (const h of hosts) h.start();
  const runRow = (b: EventBatch, i: number): void => {
    let ts = b.tsEvent[i]!;
    if (ts < clock.now()) {
      // Late beyond the reorder window: the clock never goes back, so the row is dropped or delivered now.
      late.add(ts, clock.now());
      if (dropLate) return;
      ts = clock.now();
    }
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
        b.readQuote(i, q).tsEvent = ts as Micros;
        sim?.onQuote(q);
        const mid = Math.round((q.bidPx + q.askPx) / 2);
        risk.onPrice(id as InstrumentId, mid, ts);
        engine.onQuote(q);
        if (isTraded[id] === 1) {
          portfolio.mark(id as InstrumentId, mid);
          recorder.observePrice(id, mid);
        }
        hasQuotes[id] = 1;
        resampling.markTicks(id);
        const aggs = barAggs[id];
        if (aggs !== undefined) for (const a of aggs) a.updateQuote(ts, q.bidPx, q.askPx);
        bus.publish(quoteTopic, q);
        break;
      }
      case RecordKind.TRADE: {
        b.readTrade(i, t).tsEvent = ts as Micros;
        sim?.onTrade(t);
        risk.onPrice(id as InstrumentId, t.px, ts);
        engine.onTrade(t);
        if (isTraded[id] === 1) {
          portfolio.mark(id as InstrumentId, t.px);
          recorder.observePrice(id, t.px);
        }
        resampling.markTicks(id);
        if (hasQuotes[id] === 0) {
          const aggs = barAggs[id];
          if (aggs !== undefined) for (const a of aggs) a.update(ts, t.px, t.qty);
        }
        bus.publish(tradeTopic, t);
        break;
      }
      case RecordKind.DELTA: {
        b.readDelta(i, d).tsEvent = ts as Micros;
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
        bar.tsClose = ts as Micros;
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
        resampling.onBar(bar);
        break;
      }
      case RecordKind.MARK_PRICE:
        b.readMark(i, mark).tsEvent = ts as Micros;
        sim?.onMarkPrice(mark);
        break;
      case RecordKind.FUNDING_RATE:
        b.readFunding(i, funding).tsEvent = ts as Micros;
        sim?.onFundingRate(funding);
        break;
      default:
        sim?.onBatchRow(b, i);
        break;
    }
    st.lastTs = ts;
    st.events++;
  };
  const barOut = new Bar();
  // The per-row loop in a small synchronous function of its own: V8 optimises it (and inlines runRow's
  // callers' work) however large runBacktest is, and the async loop around it runs once per batch.
  // Returns false at the first row at or past `to` (the rest of the batch is not replayed).
  const runRows = (batch: EventBatch, start: number, end: number): boolean => {
    const times = batch.tsEvent;
    for (let i = start; i < end; i++) {
      const ts = times[i]!;
      if (ts < from) continue;
      if (ts >= to) return false;
      st.row = i;
      runRow(batch, i);
    }
    return true;
  };
  // runRows, a strategy's exception turned into the end of the run (partial report up to the event): false.
  const runCaught = (batch: EventBatch, start: number, end: number): boolean => {
    try {
      if (!runRows(batch, start, end)) st.skip = true;
      probe?.rows(batch, start, end, from, to);
      return true;
    } catch (e) {
      if (!isStrategyError(e)) throw e;
      failure = { error: e, point: failurePoint(batch, st.row, registry, portfolio) };
      // The recorder and the clock had reached the failing event: the run ends there.
      st.lastTs = clock.now();
      partial = true;
      st.stop = true;
      return false;
    }
  };
  const mark = new MarkPrice();
  const funding = new FundingRate();

  let tNext = probe === undefined ? 0 : monoNanos();
  const resume = (): boolean => {
    if (options.signal?.aborted === true) {
      partial = true;
      return false;
    }
    if (probe !== undefined) tNext = monoNanos();
    return true;
  };
  // Between batches (the data's own, or where they would end when rows are handed over in place): closed orders
  // go back to the pool (never while one of their events is handled), equity for loss limits, progress. False
  // ends the run; a promise only when it lets the event loop run.
  const afterBatch = (t1: number): boolean | Promise<boolean> => {
    engine.purgeClosed();
    risk.updateEquity();
    probe?.housekeeping(monoNanos() - t1);
    const now = wallMicros();
    if (now - lastProgress > 250_000) {
      lastProgress = now;
      options.onProgress?.({ events: st.events, ts: st.lastTs, from, to, wallMs: (now - wall0) / 1000 });
      // In-memory data never leaves the microtask queue: let the event loop run (Ctrl-C, timers) now and then.
      // A metrics endpoint is served from the event loop too.
      if (options.signal !== undefined || probe !== undefined) return yieldToEventLoop().then(resume);
    }
    return resume();
  };
  const data = options.data;
  try {
    if (canPump(data)) {
      // Merged sources hand their rows over in place (no copy into an output batch); same rows, same batches.
      // With a probe, as without: the clock is read once where a batch's first rows arrive and once at its end.
      await data.pump({
        rows(b: EventBatch, start: number, end: number): void {
          if (st.stop) return;
          st.batchLastTs = b.tsEvent[end - 1]!;
          if (probe !== undefined && Number.isNaN(st.batchT0)) st.batchT0 = monoNanos();
          if (!st.skip) runCaught(b, start, end);
        },
        batchEnd(): boolean | Promise<boolean> {
          if (st.stop) return false;
          let t1 = 0;
          if (probe !== undefined) {
            t1 = monoNanos();
            probe.batch(st.batchT0 - tNext, t1 - st.batchT0);
            st.batchT0 = Number.NaN;
          }
          if (st.batchLastTs >= to) return false;
          st.skip = false;
          return afterBatch(t1);
        },
      });
    } else {
      for await (const batch of data) {
        const t0 = probe === undefined ? 0 : monoNanos();
        const n = batch.length;
        if (!runCaught(batch, 0, n)) break;
        st.skip = false;
        const t1 = probe === undefined ? 0 : monoNanos();
        probe?.batch(t0 - tNext, t1 - t0);
        if (n > 0 && batch.tsEvent[n - 1]! >= to) break;
        const go = afterBatch(t1);
        if (!(go === true || (go !== false && (await go)))) break;
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
  const slippage = slippageOf(sims, reportCurrency.id, reportCurrency.code, options.venue?.slippageModel);
  const stats = statsFromRecording(recording, {}, { slippage: slippage.cost });
  // What the data loaders and the risk monitor have to say, then the runner's own findings.
  const notes: string[] = [...(options.dataNotes?.() ?? []), ...kernel.riskMonitor.notes()];
  notes.push(...slippage.notes);
  if (failure !== undefined) {
    const why = failure.error instanceof Error ? failure.error.message : String(failure.error);
    notes.unshift(
      `the run stopped at ${isoTime(failure.point.ts)} on ${failure.point.event}: ${why}; this report covers the run up to that event`,
    );
  }
  const lateNote = late.note();
  if (lateNote !== undefined) notes.push(lateNote);
  notes.push(
    ...noTradeNotes({
      hosts,
      denied: kernel.riskMonitor.totalDenied,
      submitted: engine.stats.submitted,
      fills: recording.fills.length,
      events,
    }),
  );
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
  const breakdown =
    recording.instruments.length > 1 || hosts.length > 1
      ? buildBreakdown(
          recording,
          fillStrategies,
          hosts.map((h, k) => ({ name: h.name, parameters: options.strategies[k]!.parameters ?? {} })),
          portfolio,
        )
      : undefined;
  const result: BacktestResult = {
    get report(): BacktestReport {
      if (report === undefined) {
        report = buildReport(reportInput);
        if (breakdown !== undefined) report.breakdown = breakdown;
      }
      return report;
    },
    ...(breakdown === undefined ? {} : { breakdown }),
    stats,
    recording,
    fingerprint: fp,
    events,
    wallMs,
    partial,
    portfolio,
    engine,
    late,
    notes,
  };
  if (failure !== undefined) throw new StrategyFailure(failure.error, failure.point, result);
  return result;
}

/** An error a strategy hook threw (the host names the strategy); anything else is the engine's and propagates. */
function isStrategyError(e: unknown): boolean {
  return isBot4Error(e) && typeof e.details['strategy'] === 'string' && typeof e.details['hook'] === 'string';
}
