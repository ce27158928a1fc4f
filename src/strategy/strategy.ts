// The Strategy API: a class with lifecycle hooks, declared subscriptions and a static parameter schema, which
// trades only through the ExecutionEngine (so through risk) and reads only what the kernel's StrategyContext
// exposes. Hot-path forms take ticks/lots and reuse one OrderRequest; human forms take decimal strings (edges).

import type { L2Book } from '../book/l2-book.ts';
import type { TimerCallback } from '../core/clock.ts';
import { Bot4Error, ErrorCode } from '../core/errors.ts';
import type { InstrumentId, Micros, OrderId, PriceTicks, QtyLots, StrategyId } from '../core/units.ts';
import type { Currency, Money } from '../model/currency.ts';
import type { OrderEvent } from '../model/events.ts';
import { type Instrument, InstrumentKind, type InstrumentRegistry } from '../model/instrument.ts';
import type { Bar, QuoteTick, TradeTick } from '../model/market-data.ts';
import {
  ContingencyType,
  NO_ORDER,
  NO_PRICE,
  type Order,
  OrderFlags,
  OrderRequest,
  OrderSide,
  OrderType,
  TimeInForce,
  TrailingOffsetType,
} from '../model/order.ts';
import { isOpen } from '../model/order-state.ts';
import type { Position, PositionEvent } from '../portfolio/position.ts';
import {
  atrRiskLots,
  fixedFractionLots,
  fixedQtyLots,
  kellyFraction,
  lotsForNotional,
  sizeByPolicy,
  volTargetLots,
} from '../risk/sizing.ts';
import type { BookUpdate, StrategyContext, StrategyLogger } from './context.ts';
import { type ParamInput, type ParamSchema, type ParamValues, resolveParams } from './params.ts';

/**
 * Marks strategy classes across module copies: a user file loaded through tsx's namespaced import gets its own
 * copy of this module, so `instanceof`/prototype identity cannot be the test; Symbol.for is process-wide.
 */
export const STRATEGY_BRAND: unique symbol = Symbol.for('bot4.strategy');

export type SideName = 'buy' | 'sell';
/** An instrument by symbol ('BTCUSDT', when only one venue lists it), key ('BTCUSDT.BINANCE') or object. */
export type InstrumentRef = string | Instrument;

/** A bar series: instrument and interval ('1m', '15m', '1h', '1d', '30s', or micros as a number). */
export interface BarSpec {
  readonly instrument: string;
  readonly interval: string | number;
}

/** What a strategy wants delivered. Instruments by symbol or key; resolved once, when the host is built. */
export interface Subscriptions {
  readonly quotes?: readonly string[];
  readonly trades?: readonly string[];
  /** L2 book updates (onBook). */
  readonly books?: readonly string[];
  readonly bars?: readonly BarSpec[];
}

export interface LimitOptions {
  readonly postOnly?: boolean;
  readonly reduceOnly?: boolean;
  readonly tif?: 'GTC' | 'IOC' | 'FOK';
}

export const StrategyState = { NEW: 0, RUNNING: 1, STOPPED: 2 } as const;
export type StrategyState = (typeof StrategyState)[keyof typeof StrategyState];

const UNIT_MICROS: Readonly<Record<string, number>> = {
  s: 1_000_000,
  m: 60_000_000,
  h: 3_600_000_000,
  d: 86_400_000_000,
};

/** '1m' -> 60_000_000. Edge: throws naming the text. */
export function parseBarInterval(interval: string | number, context = 'bar interval'): number {
  if (typeof interval === 'number') {
    if (Number.isSafeInteger(interval) && interval > 0) return interval;
  } else {
    const m = /^(\d+)([smhd])$/.exec(interval.trim());
    if (m !== null) {
      const n = Number(m[1]) * UNIT_MICROS[m[2]!]!;
      if (n > 0) return n;
    }
  }
  throw new Bot4Error(
    ErrorCode.INVALID_ARGUMENT,
    `${context} '${String(interval)}' is not an interval: write a count and a unit (30s, 1m, 15m, 1h, 1d) or micros`,
    { interval },
  );
}

/** Edge: finds an instrument by key or by a symbol listed on one venue only; errors list what is there. */
export function resolveInstrument(
  registry: InstrumentRegistry,
  ref: string,
  context = 'strategy',
): Instrument {
  const all = registry.all();
  const byKey = all.find((i) => i.key === ref);
  if (byKey !== undefined) return byKey;
  const matches = all.filter((i) => i.symbol === ref);
  if (matches.length === 1) return matches[0]!;
  if (matches.length > 1) {
    throw new Bot4Error(
      ErrorCode.INVALID_ARGUMENT,
      `${context}: instrument '${ref}' is listed on several venues (${matches.map((i) => i.key).join(', ')}); name one as SYMBOL.VENUE`,
      { instrument: ref },
    );
  }
  const known = all.map((i) => i.key);
  throw new Bot4Error(
    ErrorCode.NOT_FOUND,
    `${context}: instrument '${ref}' is not registered (${known.length === 0 ? 'no instruments are loaded' : `known: ${known.slice(0, 20).join(', ')}${known.length > 20 ? ', ...' : ''}`})`,
    { instrument: ref },
  );
}

/** Stands in for the context before a host attaches the strategy: any use says what is wrong. */
const UNBOUND = new Proxy({} as StrategyContext, {
  get(_target, prop) {
    throw new Bot4Error(
      ErrorCode.INVALID_ARGUMENT,
      `strategy is not attached to a StrategyHost (it read '${String(prop)}'); create it, then wrap it in a StrategyHost, which provides the engine, portfolio and clock`,
    );
  },
});

function sideOf(side: SideName, context: string): OrderSide {
  if (side === 'buy') return OrderSide.BUY;
  if (side === 'sell') return OrderSide.SELL;
  throw new Bot4Error(
    ErrorCode.ORDER_INVALID,
    `${context}: side must be 'buy' or 'sell', got '${String(side)}'`,
    {
      side,
    },
  );
}

function tifOf(tif: LimitOptions['tif']): TimeInForce {
  return tif === 'IOC' ? TimeInForce.IOC : tif === 'FOK' ? TimeInForce.FOK : TimeInForce.GTC;
}

/**
 * OrderRequest.reset() without its unconditional `linkedOrderIds.length = 0`, a runtime call that showed at 7%
 * of the quote-to-order profile; the engine only pushes linked ids for OCO members and bracket children, which
 * never use this request. Every field must appear here (strategy.test.ts checks it against a fresh request).
 */
export function blank(r: OrderRequest): OrderRequest {
  r.clientOrderId = '';
  r.strategyId = 0 as StrategyId;
  r.instrumentId = 0 as InstrumentId;
  r.side = OrderSide.BUY;
  r.type = OrderType.MARKET;
  r.qty = 0 as QtyLots;
  r.price = NO_PRICE;
  r.triggerPrice = NO_PRICE;
  r.tif = TimeInForce.GTC;
  r.expireTime = 0 as Micros;
  r.flags = 0;
  r.displayQty = 0 as QtyLots;
  r.trailingOffsetType = TrailingOffsetType.NONE;
  r.trailingOffset = 0;
  r.contingency = ContingencyType.NONE;
  r.orderListId = 0;
  r.parentOrderId = NO_ORDER;
  if (r.linkedOrderIds.length !== 0) r.linkedOrderIds.length = 0;
  r.tsInit = 0 as Micros;
  return r;
}

function opposite(side: OrderSide): OrderSide {
  return side === OrderSide.BUY ? OrderSide.SELL : OrderSide.BUY;
}

/**
 * Base class of every strategy. Override the hooks you need; declare `static override readonly params` (a
 * ParamSchema) and `subscriptions()`. Parameters arrive resolved and frozen in `this.params` before subclass
 * field initialisers run, so fields may be built from them (`fast = new Ema(this.params.fast)`).
 *
 * No look-ahead, by construction: a strategy holds no handle on the data source. Market data reaches it only
 * through its host's bus handlers, which the data engine calls synchronously when it publishes a record, after
 * the clock has moved to that record's time; a bar is published at its close. Everything it can read (book,
 * portfolio, order cache, clock) is the live state the rest of the engine shares, which only records already
 * published have changed. Timers fire from the same clock, in time order, before any later record. The
 * simulated venue fills an order only on data at or after the order's arrival. So at any point a strategy sees
 * exactly what it would have seen live at that moment.
 *
 * Hot path: hooks get reused records (copy what you keep); use the integer forms (submitMarket, submitLimit,
 * rebalanceTo...) and ids resolved in onStart. Hold order ids, not Order objects (orders are pooled).
 */
export abstract class Strategy<P extends ParamSchema = ParamSchema> {
  static readonly [STRATEGY_BRAND] = true;
  /** The parameter schema. Every concrete strategy declares its own (`{}` when it takes none). */
  static readonly params: ParamSchema = {};
  /** One line for `bot4 strategy list`. */
  static readonly description: string = '';
  /**
   * Parameters an operator may change while the strategy runs (the control API); none unless a strategy
   * lists them and rebuilds what derives from them in onParamsChanged.
   */
  static readonly liveParams: readonly string[] = [];

  readonly params: ParamValues<P>;
  /** Set by the host: the id on its orders, and the name in logs and errors. */
  strategyId = 0 as StrategyId;
  name = '';
  state: StrategyState = StrategyState.NEW;
  protected ctx: StrategyContext = UNBOUND;
  /** The one request this strategy's orders are built in (the engine copies it on submit). */
  protected readonly request: OrderRequest = new OrderRequest();
  private readonly refs = new Map<string, Instrument>();
  /** rebalanceTo's working order per instrument id (0 = none), and the target waiting for it to end (NaN). */
  private working: Int32Array = new Int32Array(0);
  private pendingTarget: Float64Array = new Float64Array(0);
  private readonly timers = new Set<number>();
  private readonly intervals = new Set<number>();
  private readonly timerCallback: TimerCallback = (firedAt, id) => this.fireTimer(firedAt, id);

  constructor(params: ParamInput<P> = {}) {
    const cls = new.target as unknown as { readonly params: ParamSchema; readonly name: string };
    this.params = resolveParams(cls.params, params, `strategy ${cls.name}`) as ParamValues<P>;
    this.name = cls.name;
  }

  // ---- declarations and hooks (override) ----------------------------------------------------------------

  /** What to deliver. Called once when the host is built (parameters are set; the context is attached). */
  subscriptions(): Subscriptions {
    return {};
  }

  /**
   * Whether the strategy has seen enough data to decide (its indicators are ready), and how many events of
   * its subscriptions that takes; undefined when it does not say. Read once after a run, to explain a run
   * that traded nothing; never on the per-event path.
   */
  warmUp(): { readonly done: boolean; readonly needed?: number } | undefined {
    return undefined;
  }

  /** After subscriptions are live, before the first event. Resolve instruments and lots here. */
  onStart(): void {}
  /** Before the host unsubscribes. Cancel working orders here if the strategy should leave none. */
  onStop(): void {}
  onQuote(_quote: QuoteTick): void {}
  onTrade(_trade: TradeTick): void {}
  /** An L2 book after an update (all deltas of one venue message applied). */
  onBook(_book: L2Book, _update: BookUpdate): void {}
  /** A closed bar of a subscribed series (bar.interval says which). */
  onBar(_bar: Bar): void {}
  /** Every event of this strategy's orders, after the portfolio has applied it. */
  onOrderEvent(_event: OrderEvent): void {}
  /** A fill (or funding) changed the position of a subscribed instrument. */
  onPositionChanged(_event: PositionEvent): void {}
  onTimer(_firedAt: Micros, _timerId: number): void {}
  /** After an operator changed `key` (one of liveParams; this.params holds the new value). */
  onParamsChanged(_key: string): void {}

  // ---- reads ------------------------------------------------------------------------------------------

  /** Event time now (the clock the kernel drives). Prefer the event's own timestamp inside hooks. */
  get now(): Micros {
    return this.ctx.clock.now();
  }

  get log(): StrategyLogger {
    return this.ctx.logger;
  }

  /** Edge: an instrument by symbol, key or object (remembered per strategy). */
  instrument(ref: InstrumentRef): Instrument {
    if (typeof ref !== 'string') return ref;
    let inst = this.refs.get(ref);
    if (inst === undefined) {
      inst = resolveInstrument(this.ctx.instruments, ref, `strategy ${this.name}`);
      this.refs.set(ref, inst);
    }
    return inst;
  }

  book(instrumentId: InstrumentId): L2Book | undefined {
    return this.ctx.books.book(instrumentId);
  }

  /** Net signed lots held in the instrument's account (the portfolio's; shared by strategies on it). */
  netQty(instrumentId: InstrumentId): QtyLots {
    return this.ctx.portfolio.netQty(instrumentId);
  }

  position(instrumentId: InstrumentId): Position | undefined {
    return this.ctx.portfolio.position(instrumentId);
  }

  /** Wallet balance in money units of a currency (a code such as 'USDT' is resolved at the edge). */
  balance(currency: string | Currency): Money {
    const c = typeof currency === 'string' ? this.ctx.instruments.currencies.get(currency) : currency;
    if (c === undefined) {
      throw new Bot4Error(
        ErrorCode.NOT_FOUND,
        `strategy ${this.name}: unknown currency '${String(currency)}'`,
        {
          currency,
        },
      );
    }
    return this.ctx.portfolio.balance(c.id);
  }

  order(orderId: OrderId): Order | undefined {
    return this.ctx.cache.order(orderId);
  }

  // ---- sizing (src/risk/sizing.ts; whole lots within the instrument's limits, 0 when the minimum is not met) --

  /** Equity in money units of the instrument's settlement currency. */
  equityFor(inst: Instrument): Money {
    return this.ctx.portfolio.equity(inst.settlement.id);
  }

  /**
   * The lots for an order at `px` (ticks) under the run's sizing policy (config risk.sizing or --sizing):
   * `fixedLots` when it is `fixed` (the default), else a fixed quantity, a stake, a share of equity, the risk of
   * a stop `stopTicks` away (NaN: the policy's stop), or a volatility target given the instrument's annualised
   * `realisedVol` (EwmaVolatility; NaN: `fixedLots`). Strategies that take a `qty` parameter pass its lots here,
   * so one config line resizes every one of them. Whole lots; every order is then checked by risk.
   */
  size(
    inst: Instrument,
    px: number,
    fixedLots: number,
    stopTicks = Number.NaN,
    realisedVol = Number.NaN,
  ): QtyLots {
    const policy = this.ctx.sizing;
    if (policy === undefined || policy.method === 'fixed') return fixedLots as QtyLots;
    return sizeByPolicy(policy, inst, px, this.equityFor(inst), fixedLots, true, stopTicks, realisedVol);
  }

  /** `qty` base units as whole lots within the instrument's limits. */
  sizeQty(inst: Instrument, qty: number): QtyLots {
    return fixedQtyLots(inst, qty, true);
  }

  /** A position worth `amount` of the settlement currency (the quote, for spot and linear) at `px`. */
  sizeStake(inst: Instrument, px: number, amount: number): QtyLots {
    return lotsForNotional(inst, px, amount * 10 ** inst.settlement.precision, true);
  }

  /** `fraction` of equity at `px`. */
  sizeEquityFraction(inst: Instrument, px: number, fraction: number): QtyLots {
    return fixedFractionLots(inst, px, this.equityFor(inst), fraction, true);
  }

  /** Risk `riskFraction` of equity on a stop `stopTicks` away from `px` (e.g. an ATR multiple). */
  sizeRisk(inst: Instrument, px: number, riskFraction: number, stopTicks: number): QtyLots {
    return atrRiskLots(inst, px, this.equityFor(inst), riskFraction, stopTicks, 1, true);
  }

  /** A position whose volatility is `targetVol` of equity given the instrument's `realisedVol` (same horizon). */
  sizeVolatility(
    inst: Instrument,
    px: number,
    targetVol: number,
    realisedVol: number,
    maxLeverage = 1,
  ): QtyLots {
    return volTargetLots(inst, px, this.equityFor(inst), targetVol, realisedVol, maxLeverage, true);
  }

  /** Fractional Kelly (`fraction` of the full Kelly share) for win probability and payoff (avg win / avg loss). */
  sizeKelly(inst: Instrument, px: number, winProb: number, payoff: number, fraction = 0.5): QtyLots {
    return fixedFractionLots(inst, px, this.equityFor(inst), kellyFraction(winProb, payoff, fraction), true);
  }

  /** This strategy's open order ids (a live array: copy it before cancelling while iterating). */
  openOrders(): readonly OrderId[] {
    return this.ctx.cache.openOrderIdsOfStrategy(this.strategyId);
  }

  // ---- orders, human units (edges: parse decimal strings, throw naming the bad value) -----------------------

  buy(instrument: InstrumentRef, qty: string): Order {
    const inst = this.instrument(instrument);
    return this.submitMarket(inst.id, OrderSide.BUY, inst.qtyToLots(qty));
  }

  sell(instrument: InstrumentRef, qty: string): Order {
    const inst = this.instrument(instrument);
    return this.submitMarket(inst.id, OrderSide.SELL, inst.qtyToLots(qty));
  }

  /** `this.limit('BTCUSDT', 'buy', '0.01', '61800.3')` */
  limit(
    instrument: InstrumentRef,
    side: SideName,
    qty: string,
    price: string,
    options: LimitOptions = {},
  ): Order {
    const inst = this.instrument(instrument);
    const flags =
      (options.postOnly === true ? OrderFlags.POST_ONLY : 0) |
      (options.reduceOnly === true ? OrderFlags.REDUCE_ONLY : 0);
    return this.submitLimit(
      inst.id,
      sideOf(side, `strategy ${this.name}: limit`),
      inst.qtyToLots(qty),
      inst.priceToTicks(price),
      flags,
      tifOf(options.tif),
    );
  }

  /** A stop-market at `trigger`, or a stop-limit when `limitPrice` is given. */
  stop(instrument: InstrumentRef, side: SideName, qty: string, trigger: string, limitPrice?: string): Order {
    const inst = this.instrument(instrument);
    return this.submitStop(
      inst.id,
      sideOf(side, `strategy ${this.name}: stop`),
      inst.qtyToLots(qty),
      inst.priceToTicks(trigger),
      limitPrice === undefined ? NO_PRICE : inst.priceToTicks(limitPrice),
    );
  }

  /** Entry (market when `entryPrice` is null, else limit) with a take-profit limit and a stop-loss stop. */
  bracket(
    instrument: InstrumentRef,
    side: SideName,
    qty: string,
    entryPrice: string | null,
    takeProfit: string,
    stopLoss: string,
  ): Order {
    const inst = this.instrument(instrument);
    return this.submitBracket(
      inst.id,
      sideOf(side, `strategy ${this.name}: bracket`),
      inst.qtyToLots(qty),
      entryPrice === null ? NO_PRICE : inst.priceToTicks(entryPrice),
      inst.priceToTicks(takeProfit),
      inst.priceToTicks(stopLoss),
    );
  }

  cancel(orderId: OrderId): boolean {
    return this.ctx.engine.cancel(orderId);
  }

  /** Cancels this strategy's open orders (on one instrument when given). Returns how many were asked. */
  cancelAll(instrument?: InstrumentRef): number {
    if (instrument === undefined) return this.ctx.engine.cancelAll({ strategyId: this.strategyId });
    const inst = this.instrument(instrument);
    return this.ctx.engine.cancelAll({ instrumentId: inst.id, strategyId: this.strategyId });
  }

  /** Flattens the instrument's net position with a market order (reduce-only on derivatives); null if flat. */
  closePosition(instrument: InstrumentRef): Order | null {
    const inst = this.instrument(instrument);
    const net = this.netQty(inst.id);
    if (net === 0) return null;
    const flags = inst.kind === InstrumentKind.SPOT ? 0 : OrderFlags.REDUCE_ONLY;
    return this.submitMarket(inst.id, net > 0 ? OrderSide.SELL : OrderSide.BUY, Math.abs(net), flags);
  }

  // ---- orders, integer forms (hot path: no allocation, no throw; the engine reports problems as events) -----

  submitMarket(instrumentId: InstrumentId, side: OrderSide, lots: number, flags = 0): Order {
    const r = blank(this.request);
    r.strategyId = this.strategyId;
    r.instrumentId = instrumentId;
    r.side = side;
    r.type = OrderType.MARKET;
    r.qty = lots as QtyLots;
    r.flags = flags;
    return this.ctx.engine.submit(r);
  }

  submitLimit(
    instrumentId: InstrumentId,
    side: OrderSide,
    lots: number,
    priceTicks: number,
    flags = 0,
    tif: TimeInForce = TimeInForce.GTC,
  ): Order {
    const r = blank(this.request);
    r.strategyId = this.strategyId;
    r.instrumentId = instrumentId;
    r.side = side;
    r.type = OrderType.LIMIT;
    r.qty = lots as QtyLots;
    r.price = priceTicks as PriceTicks;
    r.flags = flags;
    r.tif = tif;
    return this.ctx.engine.submit(r);
  }

  /** Stop-market (limitTicks NaN) or stop-limit. Emulated by the engine where the venue lacks the type. */
  submitStop(
    instrumentId: InstrumentId,
    side: OrderSide,
    lots: number,
    triggerTicks: number,
    limitTicks: number = NO_PRICE,
    flags = 0,
  ): Order {
    const r = blank(this.request);
    r.strategyId = this.strategyId;
    r.instrumentId = instrumentId;
    r.side = side;
    r.type = Number.isNaN(limitTicks) ? OrderType.STOP_MARKET : OrderType.STOP_LIMIT;
    r.qty = lots as QtyLots;
    r.price = limitTicks as PriceTicks;
    r.triggerPrice = triggerTicks as PriceTicks;
    r.flags = flags;
    return this.ctx.engine.submit(r);
  }

  /**
   * Entry (market when entryTicks is NaN) plus take-profit and stop-loss, released by the engine when the entry
   * fills and linked one-cancels-other. Allocates its two exit requests: the engine keeps them until the entry
   * fills, so they cannot be shared scratch (brackets are an entry decision, not a per-tick one).
   */
  submitBracket(
    instrumentId: InstrumentId,
    side: OrderSide,
    lots: number,
    entryTicks: number,
    takeProfitTicks: number,
    stopLossTicks: number,
  ): Order {
    const inst = this.ctx.instruments.get(instrumentId);
    const exitFlags = inst === undefined || inst.kind === InstrumentKind.SPOT ? 0 : OrderFlags.REDUCE_ONLY;
    const exitSide = opposite(side);
    const tp = new OrderRequest();
    tp.strategyId = this.strategyId;
    tp.instrumentId = instrumentId;
    tp.side = exitSide;
    tp.type = OrderType.LIMIT;
    tp.qty = lots as QtyLots;
    tp.price = takeProfitTicks as PriceTicks;
    tp.flags = exitFlags;
    const sl = new OrderRequest();
    sl.strategyId = this.strategyId;
    sl.instrumentId = instrumentId;
    sl.side = exitSide;
    sl.type = OrderType.STOP_MARKET;
    sl.qty = lots as QtyLots;
    sl.triggerPrice = stopLossTicks as PriceTicks;
    sl.flags = exitFlags;
    const r = blank(this.request);
    r.strategyId = this.strategyId;
    r.instrumentId = instrumentId;
    r.side = side;
    r.type = Number.isNaN(entryTicks) ? OrderType.MARKET : OrderType.LIMIT;
    r.qty = lots as QtyLots;
    r.price = entryTicks as PriceTicks;
    return this.ctx.engine.submitBracket(r, tp, sl);
  }

  /** Amends an open order: lots 0 and NaN prices mean unchanged. 0 = sent, else the engine's reason code. */
  modifyOrder(orderId: OrderId, lots: number, priceTicks: number, triggerTicks: number = NO_PRICE): number {
    return this.ctx.engine.modify(orderId, lots, priceTicks, triggerTicks);
  }

  /**
   * Moves the instrument's net position to `targetLots` with one market order for the difference. While an
   * earlier rebalance order is still working it is cancelled first and the new target is applied when that
   * order ends (cancelled or filled), so a late fill can never double the position. Returns the order sent
   * now, or null (already there, or deferred until the working order ends).
   */
  rebalanceTo(instrumentId: InstrumentId, targetLots: number): Order | null {
    if (instrumentId >= this.working.length) this.growSlots(instrumentId);
    const w = this.working[instrumentId]!;
    if (w !== 0) {
      const o = this.ctx.cache.order(w);
      if (o !== undefined && isOpen(o.status)) {
        this.pendingTarget[instrumentId] = targetLots;
        this.ctx.engine.cancel(w as OrderId);
        return null;
      }
      this.working[instrumentId] = 0;
    }
    const delta = targetLots - this.ctx.portfolio.netQty(instrumentId);
    if (delta === 0) return null;
    const o = this.submitMarket(
      instrumentId,
      delta > 0 ? OrderSide.BUY : OrderSide.SELL,
      delta > 0 ? delta : -delta,
    );
    if (isOpen(o.status)) this.working[instrumentId] = o.id;
    return o;
  }

  // ---- timers (the kernel's clock: data time in backtest, wall time live) ---------------------------------

  /** Calls onTimer once at `at` (event time, micros). Returns the timer id. */
  setTimer(at: Micros | number): number {
    const id = this.ctx.clock.setTimer(at as Micros, this.timerCallback);
    this.timers.add(id);
    return id;
  }

  /** Calls onTimer every `intervalMicros`, first at now + interval. */
  setInterval(intervalMicros: number): number {
    const id = this.ctx.clock.setInterval(intervalMicros, this.timerCallback);
    this.intervals.add(id);
    return id;
  }

  cancelTimer(timerId: number): boolean {
    this.timers.delete(timerId);
    this.intervals.delete(timerId);
    return this.ctx.clock.cancelTimer(timerId);
  }

  // ---- host side (called by StrategyHost only) --------------------------------------------------------------

  /**
   * Edge: sets one of the class's liveParams to `value`, checked against the schema (type, range) like a
   * constructor argument, then calls onParamsChanged. Throws Bot4Error naming the key when refused.
   */
  changeParam(key: string, value: unknown): void {
    const cls = this.constructor as unknown as {
      readonly params: ParamSchema;
      readonly liveParams: readonly string[];
    };
    if (!cls.liveParams.includes(key)) {
      const live = cls.liveParams.length === 0 ? 'none' : cls.liveParams.join(', ');
      throw new Bot4Error(
        ErrorCode.INVALID_ARGUMENT,
        `strategy ${this.name}: parameter '${key}' cannot change while running (live parameters: ${live})`,
        { key },
      );
    }
    const next = resolveParams(cls.params, { ...this.params, [key]: value }, `strategy ${this.name}`);
    const self = this as { params: ParamValues<P> };
    const before = self.params;
    self.params = next as ParamValues<P>;
    try {
      this.onParamsChanged(key);
    } catch (e) {
      // The strategy refused the value (e.g. a size below one lot): it keeps the old one.
      self.params = before;
      throw e;
    }
  }

  /** @internal Binds the strategy to its context; the host calls it once. */
  attach(ctx: StrategyContext, strategyId: StrategyId, name: string): void {
    if (this.ctx !== UNBOUND) {
      throw new Bot4Error(
        ErrorCode.INVALID_ARGUMENT,
        `strategy ${this.name} is already attached to a host (id ${this.strategyId}); create a new instance per run`,
      );
    }
    this.ctx = ctx;
    this.strategyId = strategyId;
    this.name = name;
    this.growSlots(Math.max(0, ctx.instruments.size - 1));
  }

  /** @internal Order events of this strategy: rebalance bookkeeping, then the onOrderEvent hook. */
  dispatchOrderEvent(ev: OrderEvent): void {
    const id = ev.instrumentId;
    if (id < this.working.length && this.working[id] === ev.orderId) {
      const o = this.ctx.cache.order(ev.orderId);
      if (o === undefined || !isOpen(o.status)) {
        this.working[id] = 0;
        const target = this.pendingTarget[id]!;
        if (!Number.isNaN(target)) {
          this.pendingTarget[id] = Number.NaN;
          this.onOrderEvent(ev);
          this.rebalanceTo(id, target);
          return;
        }
      }
    }
    this.onOrderEvent(ev);
  }

  /** @internal Drops rebalance targets waiting for a working order (the host calls it on resume). */
  clearDeferredTargets(): void {
    this.pendingTarget.fill(Number.NaN);
  }

  /** @internal Cancels every timer the strategy set (the host calls it on stop). */
  cancelTimers(): void {
    const clock = this.ctx.clock;
    for (const id of this.timers) clock.cancelTimer(id);
    for (const id of this.intervals) clock.cancelTimer(id);
    this.timers.clear();
    this.intervals.clear();
  }

  private fireTimer(firedAt: Micros, id: number): void {
    if (!this.intervals.has(id)) this.timers.delete(id);
    if (this.state === StrategyState.RUNNING) this.onTimer(firedAt, id);
  }

  private growSlots(maxId: number): void {
    const n = Math.max(maxId + 1, this.working.length * 2, 8);
    const w = new Int32Array(n);
    w.set(this.working);
    const p = new Float64Array(n).fill(Number.NaN);
    p.set(this.pendingTarget);
    this.working = w;
    this.pendingTarget = p;
  }
}

/** A concrete strategy class, as the CLI, the optimiser and the loader handle it. */
export interface StrategyClass {
  // biome-ignore lint/suspicious/noExplicitAny: each class takes its own ParamInput; callers pass checked values.
  new (params?: any): Strategy<ParamSchema>;
  readonly params: ParamSchema;
  readonly description: string;
  readonly name: string;
}

/** True for a concrete subclass of Strategy (from any copy of this module), false for anything else. */
export function isStrategyClass(value: unknown): value is StrategyClass {
  return (
    typeof value === 'function' &&
    (value as unknown as Record<symbol, unknown>)[STRATEGY_BRAND] === true &&
    !Object.hasOwn(value, STRATEGY_BRAND)
  );
}
