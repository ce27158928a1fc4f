// The pre-trade risk engine (the execution engine's RiskGate): state, breakers, rates, price band, order,
// position, exposure and open-order limits, reduce-only, balance or margin, self-trade. Checks never allocate or
// throw: a denial is a code plus facts in fields, worded by reasonText at the edge. Limits: arrays by integer id.

// Conventions (units: qty in lots, prices in ticks, money in units of a currency, times in Micros):
// - Open orders count as if they will fill. An order's side exposure is position + every open order of that side:
//   max position bounds |position + open same-side qty + this qty|; an order only fails it when it moves that
//   figure away from zero (an order that reduces the position always passes position and exposure limits).
// - Gross exposure of an instrument = value of (|position| + open buys + open sells); net exposure = value of the
//   worst one-directional position, max(|pos + open buys|, |pos - open sells|). Totals add instruments settling in
//   the account currency (net: the worst of all-buys-fill and all-sells-fill). Values use the reference price.
// - "Reducing" (REDUCING state, REDUCE_ONLY flag) means: opposite the position, and the open orders of that side
//   plus this one do not exceed |position|, so even if all fill the position does not cross zero.
// - Balance: cash buy needs notional + fee of free quote, cash sell qty of free base; margin needs
//   ceil(notional / leverage) + fee (a reducing order only its fee). With balance.reserveOpenOrders the engine
//   deducts what its own open orders reserve (from risk pass to close), so the account must report balances
//   before open-order locks.

import type { Clock } from '../core/clock.ts';
import type { MessageBus, Topic } from '../core/message-bus.ts';
import type { InstrumentId, Micros, PriceTicks, QtyLots, StrategyId } from '../core/units.ts';
import type { Cache } from '../execution/cache.ts';
import { type ExecutionEngine, orderAsRequest } from '../execution/engine.ts';
import type { RiskGate } from '../execution/venue.ts';
import type { Currency, CurrencyId } from '../model/currency.ts';
import { Rounding, stepsToDecimal } from '../model/decimal.ts';
import type { OrderEvent } from '../model/events.ts';
import {
  type Instrument,
  InstrumentKind,
  type InstrumentRegistry,
  LiquiditySide,
} from '../model/instrument.ts';
import {
  hasPrice,
  type Order,
  OrderFlags,
  OrderRequest,
  OrderSide,
  OrderType,
  orderReasonMessage,
  orderSideName,
  typeHasLimitPrice,
  validateOrderRequest,
} from '../model/order.ts';
import { isOpen, OrderEventKind, OrderStatus } from '../model/order-state.ts';
import { BreakerScope, breakerScopeName, CircuitBreakers } from './breakers.ts';
import { normalQuantile } from './correlation.ts';
import { LossLimits, TradingState } from './loss-limits.ts';
import { ReturnSampler } from './return-sampler.ts';
import type { RiskConfig } from './risk-config.ts';
import {
  baseUnitsPerLot,
  breakerOptions,
  exactUnitsPerTickLot,
  FEE_DEN,
  feeHalfUp,
  groupDigits,
  growF64,
  growI32,
  growU8,
  lossLimitOptions,
  money,
  steps,
  TokenBuckets,
} from './risk-engine-setup.ts';

export { TradingState, tradingStateName } from './loss-limits.ts';
export { feeHalfUp, groupDigits } from './risk-engine-setup.ts';

export const RISK_STATE_TOPIC = 'risk.state';

/**
 * What the risk engine needs from the portfolio (the lead adapts the portfolio to it). Values are read on the
 * hot path: implementations must not allocate.
 */
export interface RiskAccount {
  /** Net signed position in lots (long > 0) of an instrument. */
  positionQty(instrumentId: InstrumentId): number;
  /**
   * Money units of a currency available for new orders. Cash: the free wallet balance; margin: the margin
   * balance less the positions' initial margin. With balance.reserveOpenOrders (default) this must be the figure
   * BEFORE open-order locks (the risk engine reserves for its open orders itself); without it, after them.
   */
  freeBalance(currencyId: CurrencyId): number;
  /** Equity in money units of the account currency (loss limits). */
  equity(): number;
  /**
   * Optional: a number that changes whenever any position changes (the portfolio's fill count). With it the
   * engine keeps each position it read and reads it again only once this moved; without it positions are read
   * on every check (an account whose positions may change without notice, e.g. one set by hand in tests).
   */
  positionVersion?(): number;
}

/**
 * Risk reason codes (the engine reports EngineReason.RISK + code). 1..99 are OrderReason codes, used as they
 * are when an amendment breaks the instrument's rules.
 */
export const RiskReason = {
  OK: 0,
  HALTED: 100,
  REDUCING_ONLY: 101,
  BREAKER_OPEN: 102,
  STALE_MARKET_DATA: 103,
  ORDER_RATE: 104,
  MODIFY_RATE: 105,
  NO_REFERENCE_PRICE: 106,
  PRICE_BAND: 107,
  ORDER_QTY: 108,
  ORDER_NOTIONAL: 109,
  POSITION: 110,
  INSTRUMENT_GROSS: 111,
  INSTRUMENT_NET: 112,
  TOTAL_GROSS: 113,
  TOTAL_NET: 114,
  CLUSTER_GROSS: 115,
  OPEN_ORDERS: 116,
  TOTAL_OPEN_ORDERS: 117,
  REDUCE_ONLY: 118,
  INSUFFICIENT_BALANCE: 119,
  INSUFFICIENT_MARGIN: 120,
  SELF_TRADE: 121,
  VALUE_OVERFLOW: 122,
  MODIFY_BELOW_FILLED: 123,
  VAR_LIMIT: 124,
  VENUE_GROSS: 125,
} as const;
export type RiskReason = (typeof RiskReason)[keyof typeof RiskReason];

/** Why the trading state changed. */
export const StateSource = { MANUAL: 0, LOSS_LIMIT: 1, KILL_SWITCH: 2, CLUSTER: 3 } as const;
export type StateSource = (typeof StateSource)[keyof typeof StateSource];

/**
 * Other nodes' exposure (a cluster sharing one risk view, src/cluster/shared-risk.ts), added to this node's for
 * the instrument net, total and venue limits. Money units of the account currency; arrays by this node's
 * instrument and venue ids. Read on the hot path: the owner updates the fields in place, never allocates here.
 */
export interface PeerExposure {
  gross: number;
  /** Worst one-directional totals: every open buy fills (long) and every open sell fills (short, negative). */
  netLong: number;
  netShort: number;
  instLong: Float64Array;
  instShort: Float64Array;
  venueGross: Float64Array;
}

/** Published on RISK_STATE_TOPIC when the effective trading state changes. Preallocated; copy what you keep. */
export class TradingStateEvent {
  from: TradingState = TradingState.ACTIVE;
  to: TradingState = TradingState.ACTIVE;
  source: StateSource = StateSource.MANUAL;
  ts = 0 as Micros;
}

// One flat row of RS doubles per instrument (row[i * RS + ...]): the limits first (Infinity = no limit; indices also
// name the config key), then the state the check reads (reference price and value per lot, updated on price; open
// orders and exposure, updated on order events) and constants of the instrument. One array, one bounds check per
// read, instead of a typed array per figure.
const L_ORDER_QTY = 0;
const L_ORDER_NOTIONAL = 1;
const L_BAND = 2;
const L_POSITION = 3;
const L_GROSS = 4;
const L_NET = 5;
const L_OPEN = 6;
const L_LEVERAGE = 7;
/** Reference price (ticks; NaN until the first price). */
const R_REF = 8;
/** Value of one lot at the reference price: price * k (linear) or k / price (inverse); NaN without a price. */
const R_VPL = 9;
const R_OPEN_BUY = 10;
const R_OPEN_SELL = 11;
const R_OPEN_COUNT = 12;
const R_GROSS = 13;
const R_NET_LONG = 14;
const R_NET_SHORT = 15;
/** |position| + open qty at the last refresh: a price change moves nothing while it is 0. */
const R_EXPOSED = 16;
/** Value of one lot is price * k (linear) or k / price (inverse), money units of the settlement currency. */
const R_VALUE_K = 17;
/** Exact money units per (tick x lot) when a whole number (linear instruments), else 0. */
const R_EXACT_K = 18;
/** The larger fee rate (1e-8 units). */
const R_FEE_RATE = 19;
const R_BASE_PER_LOT = 20;
/**
 * An upper bound of the balance a buy (or any margin order) needs per money unit of notional: 1 (cash) or
 * 1 / leverage, plus the fee rate, with slack for rounding. Used only where the fee is computed exactly (F_FAST_FEE).
 */
const R_NEED_K = 21;
/** The position (lots) last read from the account, and the account's position version then (NaN: none). */
const R_POS = 22;
const R_POS_VER = 23;
const RS = 24;

// Per-instrument bits (flags[i]): facts of the instrument, then the checks that can deny at all under the config
// (a limit of Infinity never denies), computed when the instrument is added; the check skips the others.
const F_MARGIN = 1;
const F_INVERSE = 2;
/** Settles in the account currency: counted in the totals. */
const F_TOTALS = 4;
/** The fee is computed here in integers (exact notional, HALF_UP, rate <= 1%): see feeOf. */
const F_FAST_FEE = 8;
const A_BAND = 1 << 4;
const A_ORDER_QTY = 1 << 5;
const A_NOTIONAL = 1 << 6;
const A_POSITION = 1 << 7;
const A_GROSS = 1 << 8;
const A_NET = 1 << 9;
const A_TOTAL_GROSS = 1 << 10;
const A_TOTAL_NET = 1 << 11;
const A_CLUSTER = 1 << 12;
const A_VENUE = 1 << 13;
const A_OPEN = 1 << 14;
const A_TOTAL_OPEN = 1 << 15;
const A_BALANCE = 1 << 16;
const A_STP = 1 << 17;
const A_VAR = 1 << 18;
/** Any check of exposureCheck. */
const A_EXPOSURE = A_GROSS | A_NET | A_TOTAL_GROSS | A_TOTAL_NET | A_CLUSTER | A_VENUE;
const LIMIT_NAMES = [
  'maxOrderQty',
  'maxOrderNotional',
  'priceBandBps',
  'maxPosition',
  'maxGrossExposure',
  'maxNetExposure',
  'maxOpenOrders',
  'leverage',
] as const;
const LIMITS = LIMIT_NAMES.length;
const INF = Number.POSITIVE_INFINITY;
const MAX_SAFE = Number.MAX_SAFE_INTEGER;
const RATE_KEYS = [
  'risk.rates.venue.orders',
  'risk.rates.venue.modifies',
  'risk.rates.strategy.orders',
  'risk.rates.strategy.modifies',
] as const;
const BUY = OrderSide.BUY;

const FACT_QTY = 1;
const FACT_MONEY = 2;
const FACT_COUNT = 3;
const FACT_PRICE = 4;

export interface RiskEngineOptions {
  config: RiskConfig;
  instruments: InstrumentRegistry;
  account: RiskAccount;
  clock: Clock;
  bus?: MessageBus;
  /** Breakers to use (default: built from config.breakers). */
  breakers?: CircuitBreakers;
  /**
   * Re-run validateOrderRequest's instrument rules in checkSubmit. The execution engine validates every new
   * order before it calls the gate, so this is only for callers that use the gate on its own. (checkModify
   * always validates the amended order: the engine does not.)
   */
  revalidateSubmit?: boolean;
}

export class RiskEngine implements RiskGate {
  readonly config: RiskConfig;
  readonly breakers: CircuitBreakers;
  readonly lossLimits: LossLimits;
  readonly accountCurrency: Currency;
  private readonly registry: InstrumentRegistry;
  private readonly account: RiskAccount;
  /** The account has positionVersion: positions are cached in the row (R_POS) while it does not move. */
  private readonly versioned: boolean = false;
  private readonly clock: Clock;
  private readonly bus: MessageBus | undefined;
  private readonly stateTopic: Topic<TradingStateEvent> | undefined;
  private readonly stateEvent = new TradingStateEvent();
  private cache: Cache | undefined = undefined;
  private readonly revalidate: boolean = false;
  private readonly scratch = new OrderRequest();

  // ---- trading state
  private state: TradingState = TradingState.ACTIVE;
  private manualState: TradingState = TradingState.ACTIVE;
  private limitState: TradingState = TradingState.ACTIVE;
  /** From the cluster's shared risk view (a peer unheard of for too long, with risk.cluster halt). */
  private clusterState: TradingState = TradingState.ACTIVE;
  private stateSource: StateSource = StateSource.MANUAL;
  /** Kill switch in progress: only orders that reduce a position pass, open orders ignored (being cancelled). */
  private flattening = false;
  /** 1: risk off, 2: flattening, 4: revalidating submits: checkSubmit tests one field for all three. */
  private unusualBits = 0;

  // ---- switches from config
  /** risk.enabled: off, every check passes (research runs); book-keeping still follows the events. */
  private readonly enabled: boolean = true;
  private readonly balanceOn: boolean = false;
  private readonly reserveOn: boolean = false;
  private readonly stpOn: boolean = false;
  private readonly maxTotalGross: number = INF;
  private readonly maxTotalNet: number = INF;
  private readonly maxTotalOpen: number = INF;
  private readonly maxClusterGross: number = INF;
  private readonly maxVenueGross: number = INF;
  /** Other nodes' exposure when this node shares risk with a cluster (setPeerExposure). */
  private peers: PeerExposure | null = null;

  // ---- per instrument (index = instrument id)
  private instCap = 0;
  private known: Uint8Array = new Uint8Array(0);
  /** Limits, state and constants: RS doubles per instrument (see R_*). */
  private row: Float64Array = new Float64Array(0);
  /** F_* facts and A_* active checks per instrument. */
  private flags: Int32Array = new Int32Array(0);
  private limitKeys: string[] = [];
  private insts: (Instrument | undefined)[] = [];
  private feeLiquidity: Uint8Array = new Uint8Array(0);
  /** Currency ids a buy and a sell need and reserve (settlement for margin, quote / base for cash): [2i], [2i+1]. */
  private curOf: Int32Array = new Int32Array(0);
  private venueOf: Int32Array = new Int32Array(0);
  private clusterOf: Int32Array = new Int32Array(0);
  private clusterGross: Float64Array = new Float64Array(0);
  // ---- returns sampled for VaR and correlation clusters (risk.correlation, risk.var); undefined when unused
  private readonly sampler: ReturnSampler | undefined;
  private readonly clustersOn: boolean = false;
  private readonly varOn: boolean = false;
  private readonly varConfidence: number = 0.99;
  /** VaR holding period in sampling intervals. */
  private readonly varHorizon: number = 1;
  /** z(confidence) x sqrt(horizon): VaR = varScale x the portfolio's sigma per sampling interval. */
  private readonly varScale: number = 1;
  private readonly maxVarLoss: number = INF;
  private readonly maxVarFraction: number = INF;
  /** Signed exposure per instrument id for the VaR (money units), refilled per check. */
  private varW: Float64Array = new Float64Array(0);
  private clusterIds: Int32Array = new Int32Array(0);
  private clusterLabels: Int32Array = new Int32Array(0);
  private totalGross = 0;
  private totalNetLong = 0;
  private totalNetShort = 0;
  private totalOpen = 0;

  // ---- per currency (index = currency id)
  private reserved: Float64Array = new Float64Array(16);

  // ---- rate limits: per venue and per strategy, submits and modifies
  private readonly venueOrders: TokenBuckets;
  private readonly venueModifies: TokenBuckets;
  private readonly strategyOrders: TokenBuckets;
  private readonly strategyModifies: TokenBuckets;

  // ---- self-trade prevention: resting orders per (strategy, instrument), index k = strategy * instCap + instrument.
  // Each (k, side) keeps its resting records in a doubly linked list sorted best first (buys by price down, sells
  // up), so the best price after the best order left is the next one (O(1)); an insert walks from the nearer end
  // (O(1) for a ladder placed in price order). restBuyMax / restSellMin hold the heads' prices (-/+Infinity: none).
  private stratCap = 0;
  /** Head and tail slot of the list of k's resting buys at [2k], sells at [2k + 1]; -1 = empty. */
  private restHead: Int32Array = new Int32Array(0);
  private restTail: Int32Array = new Int32Array(0);
  private restSellMin: Float64Array = new Float64Array(0);
  private restBuyMax: Float64Array = new Float64Array(0);

  // ---- open orders seen on the event stream: a ring of records, slot = order id & mask
  private recMask = 0;
  private recId: Float64Array = new Float64Array(0);
  private recInst: Int32Array = new Int32Array(0);
  private recStrat: Int32Array = new Int32Array(0);
  private recSide: Uint8Array = new Uint8Array(0);
  private recLeaves: Float64Array = new Float64Array(0);
  private recPx: Float64Array = new Float64Array(0);
  private recRestPx: Float64Array = new Float64Array(0);
  private recReserve: Float64Array = new Float64Array(0);
  private recCur: Int32Array = new Int32Array(0);
  /** Neighbours of a resting record in its (strategy, instrument, side) list (slots; -1 = none). */
  private recNext: Int32Array = new Int32Array(0);
  private recPrev: Int32Array = new Int32Array(0);
  private records = 0;

  // ---- the check in progress: doubles kept here rather than passed to calls V8 may not inline (boxed)
  /** An amendment's total quantity, lots left to fill, prices and what it already reserves (checkModify). */
  private mQty = Number.NaN;
  private mLots = Number.NaN;
  private mPrice = Number.NaN;
  private mTrigger = Number.NaN;
  private mHeld = Number.NaN;
  /** For the exact balance check and the venue check: notional (or gross), price, held and available money. */
  private cValue = Number.NaN;
  private cPx = Number.NaN;
  private cHeld = Number.NaN;
  private cAvail = Number.NaN;
  private cFee = Number.NaN;

  // ---- facts of the last denial, for reasonText
  private fCode = 0;
  private fValue = 0;
  private fLimit = 0;
  private fKind = 0;
  private fInst: Instrument | undefined = undefined;
  private fCur: Currency | undefined = undefined;
  private fKey = '';
  private fScope = -1;
  private fId = 0;

  private readonly onEvent = (ev: OrderEvent): void => this.onOrderEvent(ev);

  constructor(options: RiskEngineOptions) {
    const c = options.config;
    this.config = c;
    this.registry = options.instruments;
    this.account = options.account;
    this.versioned = typeof options.account.positionVersion === 'function';
    this.clock = options.clock;
    this.bus = options.bus;
    this.stateTopic = options.bus?.topic<TradingStateEvent>(RISK_STATE_TOPIC);
    this.revalidate = options.revalidateSubmit === true;
    this.accountCurrency = this.registry.currencies.getOrCreate(c.accountCurrency);
    const acct = this.accountCurrency;
    this.enabled = c.enabled;
    this.unusualBits = (this.enabled ? 0 : 1) | (this.revalidate ? 4 : 0);
    this.balanceOn = c.balance.enabled;
    this.reserveOn = c.balance.enabled && c.balance.reserveOpenOrders;
    this.stpOn = c.selfTradePrevention;
    this.maxTotalGross = money(c.total.maxGrossExposure, acct);
    this.maxTotalNet = money(c.total.maxNetExposure, acct);
    this.maxTotalOpen = c.total.maxOpenOrders ?? INF;
    this.maxClusterGross = money(c.total.maxClusterExposure, acct);
    this.maxVenueGross = money(c.total.maxVenueExposure, acct);
    this.clustersOn = this.maxClusterGross !== INF;
    this.varOn = c.var !== undefined;
    this.varConfidence = c.var?.confidence ?? 0.99;
    const sampleMs = c.correlation.sampleMs;
    this.varHorizon = (c.var?.horizonMs ?? sampleMs) / sampleMs;
    this.varScale = normalQuantile(this.varConfidence) * Math.sqrt(this.varHorizon);
    this.maxVarLoss = money(c.var?.maxLoss, acct);
    this.maxVarFraction = c.var?.maxEquityFraction ?? INF;
    this.sampler =
      this.varOn || this.clustersOn
        ? new ReturnSampler(this.registry.size, {
            sampleUs: sampleMs * 1000,
            window: c.correlation.window,
            minSamples: c.correlation.minSamples,
          })
        : undefined;
    this.venueOrders = TokenBuckets.of(c.rates.venue.orders);
    this.venueModifies = TokenBuckets.of(c.rates.venue.modifies);
    this.strategyOrders = TokenBuckets.of(c.rates.strategy.orders);
    this.strategyModifies = TokenBuckets.of(c.rates.strategy.modifies);
    this.breakers =
      options.breakers ?? new CircuitBreakers(breakerOptions(c, acct), options.clock, options.bus);
    this.lossLimits = new LossLimits(lossLimitOptions(c, acct), options.clock, this, options.bus);
    this.manualState = TradingState[c.initialState];
    this.state = this.manualState;
    this.growRecords(1024);
    this.growStrategies(16);
    for (const inst of this.registry.all()) this.addInstrument(inst);
  }

  /** Becomes the engine's gate and follows its order events (after the portfolio: a high priority number). */
  attach(engine: ExecutionEngine, bus: MessageBus, priority = 100): void {
    this.cache = engine.cache;
    engine.setRisk(this);
    bus.subscribe(engine.orderEvents, this.onEvent, priority);
  }

  // ---- the gate (hot path) ----------------------------------------------------------------------------------
  // Doubles (timestamps, prices, money) travel between the check's steps in fields of this object, not as
  // arguments or return values: a double crossing a call V8 does not inline is boxed (an allocation). The limits
  // are one straight-line pass over the instrument's row; checks its config cannot fail are skipped by bit.

  checkSubmit(order: Order, inst: Instrument): number {
    if (this.unusualBits !== 0) return this.checkSubmitUnusual(order, inst);
    const i = inst.id as number;
    if (this.known[i] !== 1) this.addInstrument(inst);
    const s = order.strategyId as number;
    if (s >= this.stratCap) this.growStrategies(s + 1);
    return this.check(order, inst, i, s, true);
  }

  /** checkSubmit when risk is off, a kill switch is flattening or submits are revalidated (unusualBits). */
  private checkSubmitUnusual(order: Order, inst: Instrument): number {
    if (!this.enabled) return 0;
    const i = inst.id as number;
    if (this.known[i] !== 1) this.addInstrument(inst);
    const s = order.strategyId as number;
    if (s >= this.stratCap) this.growStrategies(s + 1);
    if (this.flattening) return this.checkFlatten(order, inst, i);
    if (this.revalidate) {
      const code = validateOrderRequest(orderAsRequest(order, this.scratch), inst);
      if (code !== 0) return this.deny(code, 0, 0, 0, inst, '');
    }
    return this.check(order, inst, i, s, true);
  }

  checkModify(order: Order, inst: Instrument, qty: number, price: number, triggerPrice: number): number {
    if (!this.enabled) return 0;
    const i = inst.id as number;
    if (this.known[i] !== 1) this.addInstrument(inst);
    const s = order.strategyId as number;
    if (s >= this.stratCap) this.growStrategies(s + 1);
    const newQty = qty > 0 ? qty : order.qty;
    const req = orderAsRequest(order, this.scratch);
    req.qty = newQty as QtyLots;
    if (hasPrice(price)) req.price = price as PriceTicks;
    if (hasPrice(triggerPrice)) req.triggerPrice = triggerPrice as PriceTicks;
    const rule = validateOrderRequest(req, inst);
    if (rule !== 0) return this.deny(rule, 0, 0, 0, inst, '');
    if (newQty <= order.filledQty)
      return this.deny(RiskReason.MODIFY_BELOW_FILLED, newQty, order.filledQty, FACT_QTY, inst, '');
    // The amended figures travel in fields (doubles cross no call), read by check for a modify.
    this.mQty = newQty;
    this.mLots = newQty - order.filledQty;
    this.mPrice = req.price;
    this.mTrigger = req.triggerPrice;
    this.mHeld = this.reserveOf(order.id);
    return this.check(order, inst, i, s, false);
  }

  /**
   * The check proper, one straight pass: state, breakers and stale data, rate buckets, then the limits over the
   * instrument's row, in the order of the reason codes' precedence; a limit whose A_* bit is clear cannot deny
   * under the config and is skipped. A new order (`isNew`) is checked as given; an amendment with the figures
   * checkModify left in the m* fields. `qty` is the order's total quantity, `add` the lots it adds to the open
   * exposure of its side (the change of leaves for an amendment), `lots` what is left to fill (the balance it
   * needs), `held` what the order already reserves. Tokens are taken only when everything passed.
   */
  private check(order: Order, inst: Instrument, i: number, s: number, isNew: boolean): number {
    if (this.state === TradingState.HALTED) return this.denyState(RiskReason.HALTED, inst);
    const v = this.venueOf[i]!;
    const ts = isNew ? (order.tsInit as number) : this.clock.now();
    const br = this.breakers;
    if (br.isBlocked(v, s)) return this.denyBreaker(inst, v, s);
    const stale = br.options.staleDataUs;
    if (stale > 0 && ts - br.lastMarketData(v) > stale) return this.denyStale(inst, v, ts);
    const vb = isNew ? this.venueOrders : this.venueModifies;
    const sb = isNew ? this.strategyOrders : this.strategyModifies;
    let tokV = 0;
    let tokS = 0;
    if (vb.on) {
      tokV = vb.at(v, ts);
      if (tokV < 1) return this.denyRate(inst, isNew, 0, v, vb.burst);
    }
    if (sb.on) {
      tokS = sb.at(s, ts);
      if (tokS < 1) return this.denyRate(inst, isNew, 2, s, sb.burst);
    }

    const qty = isNew ? (order.qty as number) : this.mQty;
    const lots = isNew ? qty : this.mLots;
    const add = isNew ? qty : lots - order.leavesQty;
    const price = isNew ? (order.price as number) : this.mPrice;
    const trigger = isNew ? (order.triggerPrice as number) : this.mTrigger;
    const row = this.row;
    const r = i * RS;
    const f = this.flags[i]!;
    const ref = row[r + R_REF]!;
    // Number.isNaN(x): NaN (no price), without a call.
    const px = !Number.isNaN(price) ? price : !Number.isNaN(trigger) ? trigger : ref;
    if (Number.isNaN(px)) return this.deny(RiskReason.NO_REFERENCE_PRICE, 0, 0, 0, inst, '');
    if ((f & A_BAND) !== 0) {
      const band = row[r + L_BAND]!;
      if (Number.isNaN(ref))
        return this.deny(RiskReason.NO_REFERENCE_PRICE, 0, 0, 0, inst, this.keyOf(i, L_BAND));
      // Integer ticks times 10_000 stay exact far beyond any real price.
      if (!Number.isNaN(price) && Math.abs(price - ref) * 10_000 > band * ref)
        return this.denyBand(price, ref, band, inst, i);
      if (!Number.isNaN(trigger) && Math.abs(trigger - ref) * 10_000 > band * ref)
        return this.denyBand(trigger, ref, band, inst, i);
    }
    if ((f & A_ORDER_QTY) !== 0 && qty > row[r + L_ORDER_QTY]!)
      return this.denyLimit(RiskReason.ORDER_QTY, qty, FACT_QTY, inst, L_ORDER_QTY);
    // Exact notional: ticks * lots * k where the value per tick and lot is a whole number of money units (every
    // linear USDT pair), else Instrument.tryNotional (NaN beyond 2^53).
    const ek = row[r + R_EXACT_K]!;
    let notional = px * qty * ek;
    if (!(ek > 0 && notional <= MAX_SAFE)) notional = inst.tryNotional(px, qty);
    if (Number.isNaN(notional)) return this.deny(RiskReason.VALUE_OVERFLOW, qty, px, 0, inst, '');
    if ((f & A_NOTIONAL) !== 0 && notional > row[r + L_ORDER_NOTIONAL]!)
      return this.denyLimit(RiskReason.ORDER_NOTIONAL, notional, FACT_MONEY, inst, L_ORDER_NOTIONAL);

    // Position and exposure, counting every open order as filled.
    const pos = this.positionOf(i);
    const ob = row[r + R_OPEN_BUY]!;
    const os = row[r + R_OPEN_SELL]!;
    const isBuy = order.side === BUY;
    const reducing = isBuy ? pos < 0 && ob + add <= -pos : pos > 0 && os + add <= pos;
    if (!reducing && add > 0) {
      if (this.state === TradingState.REDUCING) return this.denyState(RiskReason.REDUCING_ONLY, inst);
      if ((order.flags & OrderFlags.REDUCE_ONLY) !== 0)
        return this.deny(RiskReason.REDUCE_ONLY, pos, isBuy ? ob : os, FACT_QTY, inst, '');
      if ((f & A_POSITION) !== 0) {
        const base = isBuy ? pos + ob : pos - os;
        const absProj = Math.abs(isBuy ? base + add : base - add);
        if (absProj > row[r + L_POSITION]! && absProj > Math.abs(base))
          return this.denyLimit(RiskReason.POSITION, absProj, FACT_QTY, inst, L_POSITION);
      }
      if ((f & A_EXPOSURE) !== 0) {
        // Valued at the reference price (the order's price before there is one).
        let vpl = row[r + R_VPL]!;
        if (Number.isNaN(vpl)) vpl = valuePerLot(row[r + R_VALUE_K]!, px, (f & F_INVERSE) !== 0);
        const g = (Math.abs(pos) + ob + os + add) * vpl;
        if ((f & A_GROSS) !== 0 && g > row[r + L_GROSS]!)
          return this.denyExposure(RiskReason.INSTRUMENT_GROSS, g, inst);
        const nl = (isBuy ? pos + ob + add : pos + ob) * vpl;
        const ns = (isBuy ? pos - os : pos - os - add) * vpl;
        const peers = this.peers;
        if ((f & A_NET) !== 0) {
          const worst =
            peers === null
              ? Math.max(Math.abs(nl), Math.abs(ns))
              : Math.max(Math.abs(nl + (peers.instLong[i] ?? 0)), Math.abs(ns + (peers.instShort[i] ?? 0)));
          if (worst > row[r + L_NET]!) return this.denyExposure(RiskReason.INSTRUMENT_NET, worst, inst);
        }
        if ((f & A_TOTAL_GROSS) !== 0) {
          const tg = this.totalGross - row[r + R_GROSS]! + g + (peers === null ? 0 : peers.gross);
          if (tg > this.maxTotalGross) return this.denyExposure(RiskReason.TOTAL_GROSS, tg, inst);
        }
        if ((f & A_TOTAL_NET) !== 0) {
          const tl = this.totalNetLong - row[r + R_NET_LONG]! + nl + (peers === null ? 0 : peers.netLong);
          const tsh = this.totalNetShort - row[r + R_NET_SHORT]! + ns + (peers === null ? 0 : peers.netShort);
          const tw = Math.max(Math.abs(tl), Math.abs(tsh));
          if (tw > this.maxTotalNet) return this.denyExposure(RiskReason.TOTAL_NET, tw, inst);
        }
        const c = this.clusterOf[i]!;
        if ((f & A_CLUSTER) !== 0 && c >= 0) {
          const cg = this.clusterGross[c]! - row[r + R_GROSS]! + g;
          if (cg > this.maxClusterGross) return this.denyExposure(RiskReason.CLUSTER_GROSS, cg, inst);
        }
        if ((f & A_VENUE) !== 0) {
          this.cValue = g;
          const code = this.venueCheck(inst, i);
          if (code !== 0) return code;
        }
      }
      if ((f & A_VAR) !== 0) {
        const code = this.varCheck(inst, i, isBuy ? add : -add);
        if (code !== 0) return code;
      }
    }

    if (isNew) {
      const n = row[r + R_OPEN_COUNT]! + 1;
      if ((f & A_OPEN) !== 0 && n > row[r + L_OPEN]!)
        return this.denyLimit(RiskReason.OPEN_ORDERS, n, FACT_COUNT, inst, L_OPEN);
      if ((f & A_TOTAL_OPEN) !== 0 && this.totalOpen + 1 > this.maxTotalOpen)
        return this.deny(
          RiskReason.TOTAL_OPEN_ORDERS,
          this.totalOpen + 1,
          this.maxTotalOpen,
          FACT_COUNT,
          inst,
          'risk.total.maxOpenOrders',
        );
    }

    if ((f & A_BALANCE) !== 0) {
      // Free balance (less this engine's reservations) must cover what `lots` need, less what the order holds.
      const held = isNew ? 0 : this.mHeld;
      let need = notional;
      if (lots !== qty) {
        need = px * lots * ek;
        if (!(ek > 0 && need <= MAX_SAFE)) need = inst.tryNotional(px, lots);
      }
      const cur = this.curOf[2 * i + (isBuy ? 0 : 1)]!;
      let avail = this.account.freeBalance(cur as CurrencyId);
      if (this.reserveOn) avail -= this.reserved[cur] ?? 0;
      // A buy or margin order compares the bound notional * R_NEED_K + 2 (at least the exact need, see
      // addInstrument) first; only when that does not pass is the exact need (margin and fee) worked out.
      const cashSell = (f & F_MARGIN) === 0 && !isBuy;
      if (cashSell || !(need * row[r + R_NEED_K]! + 2 - held <= avail)) {
        this.cValue = need;
        this.cPx = px;
        this.cHeld = held;
        this.cAvail = avail;
        const code = this.balanceCheck(inst, i, f, order.side, order.flags, lots, reducing);
        if (code !== 0) return code;
      }
    }

    if ((f & A_STP) !== 0) {
      const type = order.type;
      if (type === OrderType.MARKET || type === OrderType.LIMIT) {
        const k = s * this.instCap + i;
        const market = type === OrderType.MARKET;
        if (isBuy) {
          const best = this.restSellMin[k]!;
          if (market ? this.restHead[2 * k + 1]! >= 0 : price >= best)
            return this.deny(
              RiskReason.SELF_TRADE,
              price,
              best,
              FACT_PRICE,
              inst,
              'risk.selfTradePrevention',
            );
        } else {
          const best = this.restBuyMax[k]!;
          if (market ? this.restHead[2 * k]! >= 0 : price <= best)
            return this.deny(
              RiskReason.SELF_TRADE,
              price,
              best,
              FACT_PRICE,
              inst,
              'risk.selfTradePrevention',
            );
        }
      }
    }
    if (vb.on) vb.take(v, tokV, ts);
    if (sb.on) sb.take(s, tokS, ts);
    return 0;
  }

  private denyBreaker(inst: Instrument, v: number, s: number): number {
    const scope = this.breakers.blockingScope(v, s);
    this.deny(RiskReason.BREAKER_OPEN, 0, 0, 0, inst, 'risk.breakers');
    this.fScope = scope;
    this.fId = scope === BreakerScope.VENUE ? v : scope === BreakerScope.STRATEGY ? s : 0;
    return RiskReason.BREAKER_OPEN;
  }

  private denyStale(inst: Instrument, v: number, ts: number): number {
    const br = this.breakers;
    const silence = ts - br.lastMarketData(v);
    br.tripStale(v, ts);
    return this.deny(
      RiskReason.STALE_MARKET_DATA,
      silence,
      br.options.staleDataUs,
      0,
      inst,
      'risk.breakers.staleDataMs',
    );
  }

  /** A rate denial; `scope` 0 for the venue's bucket, 2 for the strategy's (the config key's index). */
  private denyRate(inst: Instrument, isNew: boolean, scope: number, id: number, burst: number): number {
    const code = isNew ? RiskReason.ORDER_RATE : RiskReason.MODIFY_RATE;
    return this.deny(code, id, burst, FACT_COUNT, inst, RATE_KEYS[scope + (isNew ? 0 : 1)]!);
  }

  /**
   * Parametric VaR of the positions (account-currency instruments, at their reference prices) with this
   * order filled: denied when above risk.var's limit and above the VaR without the order (an order that
   * lowers the VaR, e.g. a hedge, passes). Open orders are not counted. Acts once the sampler is ready.
   */
  private varCheck(inst: Instrument, i: number, addSigned: number): number {
    const sm = this.sampler!;
    if (!sm.ready) return 0;
    const n = sm.n;
    if (this.varW.length < n) this.varW = new Float64Array(n);
    const w = this.varW;
    const row = this.row;
    const cap = this.instCap;
    // Positions as in positionOf, with the account's version read once for all of them (NaN: read each).
    const ver = this.versioned ? this.account.positionVersion!() : Number.NaN;
    for (let j = 0; j < n; j++) {
      const r = j * RS;
      if (j >= cap || this.known[j] !== 1 || (this.flags[j]! & F_TOTALS) === 0 || !(row[r + R_REF]! > 0)) {
        w[j] = 0;
        continue;
      }
      let pos = row[r + R_POS]!;
      if (row[r + R_POS_VER] !== ver) {
        pos = this.account.positionQty(j as InstrumentId);
        row[r + R_POS] = pos;
        row[r + R_POS_VER] = ver;
      }
      w[j] = (pos + (j === i ? addSigned : 0)) * row[r + R_VPL]!;
    }
    // VaR = z x sigma x sqrt(h); sigma comes back in a field, and the limit is compared in sigma units.
    sm.portfolioSigma(w);
    const after = this.varScale * sm.sigma;
    const byEquity = this.maxVarFraction === INF ? INF : this.maxVarFraction * this.account.equity();
    const limit = Math.min(byEquity, this.maxVarLoss);
    if (!(after > limit)) return 0;
    if (i < n) w[i]! -= addSigned * row[i * RS + R_VPL]!;
    sm.portfolioSigma(w);
    if (this.varScale * sm.sigma >= after) return 0;
    return this.deny(
      RiskReason.VAR_LIMIT,
      after,
      limit,
      FACT_MONEY,
      inst,
      byEquity < this.maxVarLoss ? 'risk.var.maxEquityFraction' : 'risk.var.maxLoss',
    );
  }

  /** The venue's gross exposure with this order (its instrument's gross in this.cValue) against the limit. */
  private venueCheck(inst: Instrument, i: number): number {
    // Few instruments per node: a scan at check time instead of one more running sum to keep.
    const row = this.row;
    const peers = this.peers;
    const v = this.venueOf[i]!;
    let vg = this.cValue - row[i * RS + R_GROSS]! + (peers === null ? 0 : (peers.venueGross[v] ?? 0));
    for (let j = 0; j < this.instCap; j++)
      if (this.venueOf[j] === v && (this.flags[j]! & F_TOTALS) !== 0) vg += row[j * RS + R_GROSS]!;
    return vg > this.maxVenueGross ? this.denyExposure(RiskReason.VENUE_GROSS, vg, inst) : 0;
  }

  /** An exposure denial: the limit and its config key follow from the code. */
  private denyExposure(code: number, value: number, inst: Instrument): number {
    switch (code) {
      case RiskReason.INSTRUMENT_GROSS:
        return this.denyLimit(code, value, FACT_MONEY, inst, L_GROSS);
      case RiskReason.INSTRUMENT_NET:
        return this.denyLimit(code, value, FACT_MONEY, inst, L_NET);
      case RiskReason.TOTAL_GROSS:
        return this.deny(code, value, this.maxTotalGross, FACT_MONEY, inst, 'risk.total.maxGrossExposure');
      case RiskReason.TOTAL_NET:
        return this.deny(code, value, this.maxTotalNet, FACT_MONEY, inst, 'risk.total.maxNetExposure');
      case RiskReason.CLUSTER_GROSS:
        return this.deny(
          code,
          value,
          this.maxClusterGross,
          FACT_MONEY,
          inst,
          'risk.total.maxClusterExposure',
        );
      default:
        return this.deny(code, value, this.maxVenueGross, FACT_MONEY, inst, 'risk.total.maxVenueExposure');
    }
  }

  /**
   * The larger of the maker and taker fee (never below 0) of `lots` at this.cPx, notional this.cValue, into
   * this.cFee. Where the notional is exact (exactK) and the fee rounds HALF_UP, it is computed here in integers
   * split at 1e8 (exact, and no call that boxes a double); otherwise Instrument.tryFee.
   */
  private feeOf(inst: Instrument, i: number, f: number, lots: number): void {
    const rate = this.row[i * RS + R_FEE_RATE]!;
    if (rate <= 0) {
      this.cFee = 0;
      return;
    }
    const n = this.cValue;
    if ((f & F_FAST_FEE) !== 0 && n >= 0) {
      this.cFee = feeHalfUp(n, rate);
      return;
    }
    const fee = inst.tryFee(this.cPx, lots, this.feeLiquidity[i]! as LiquiditySide) as number;
    this.cFee = Math.max(fee, 0);
  }

  private denyBand(p: number, ref: number, bps: number, inst: Instrument, i: number): number {
    this.deny(RiskReason.PRICE_BAND, p, bps, FACT_PRICE, inst, this.keyOf(i, L_BAND));
    this.fId = ref;
    return RiskReason.PRICE_BAND;
  }

  /** A denial by the instrument's limit L_* `l` (value, limit and config key from its row). */
  private denyLimit(code: number, value: number, kind: number, inst: Instrument, l: number): number {
    const i = inst.id as number;
    return this.deny(code, value, this.row[i * RS + l]!, kind, inst, this.keyOf(i, l));
  }

  private keyOf(i: number, l: number): string {
    return this.limitKeys[i * LIMITS + l]!;
  }

  /**
   * The exact balance check, where the bound in check did not pass: what `lots` at this.cPx (notional
   * this.cValue) need (initial margin and fee, or the base sold), less what the order holds (this.cHeld), against
   * this.cAvail (free balance less this engine's reservations).
   */
  private balanceCheck(
    inst: Instrument,
    i: number,
    f: number,
    side: number,
    flags: number,
    lots: number,
    reducing: boolean,
  ): number {
    const margin = (f & F_MARGIN) !== 0;
    const notional = this.cValue;
    let need: number;
    if (!margin && side !== BUY) {
      need = lots * this.row[i * RS + R_BASE_PER_LOT]!;
    } else {
      this.feeOf(inst, i, f, lots);
      const fee = this.cFee;
      const im = !margin
        ? notional
        : reducing || (flags & OrderFlags.REDUCE_ONLY) !== 0
          ? 0
          : Math.ceil(notional / this.row[i * RS + L_LEVERAGE]!);
      need = im + fee;
    }
    need -= this.cHeld;
    const avail = this.cAvail;
    if (need <= 0 || need <= avail) return 0;
    const code = margin ? RiskReason.INSUFFICIENT_MARGIN : RiskReason.INSUFFICIENT_BALANCE;
    this.deny(code, need, avail, FACT_MONEY, inst, 'risk.balance.enabled');
    this.fCur = margin ? inst.settlement : side === BUY ? inst.quote : inst.base;
    return code;
  }

  /** Kill-switch orders: only what reduces a position passes; open orders are being cancelled, so not counted. */
  private checkFlatten(order: Order, inst: Instrument, i: number): number {
    const pos = this.account.positionQty(i as InstrumentId);
    const ok = order.side === BUY ? pos < 0 && order.qty <= -pos : pos > 0 && order.qty <= pos;
    return ok ? 0 : this.deny(RiskReason.REDUCE_ONLY, pos, 0, FACT_QTY, inst, 'kill switch');
  }

  private deny(
    code: number,
    value: number,
    limit: number,
    kind: number,
    inst: Instrument | undefined,
    key: string,
  ): number {
    this.fCode = code;
    this.fValue = value;
    this.fLimit = limit;
    this.fKind = kind;
    this.fInst = inst;
    this.fCur = inst === undefined ? this.accountCurrency : inst.settlement;
    this.fKey = key;
    this.fScope = -1;
    this.fId = 0;
    return code;
  }

  private denyState(code: number, inst: Instrument): number {
    this.deny(code, this.state, 0, 0, inst, '');
    this.fScope = this.stateSource;
    return code;
  }

  // ---- market data and order events ------------------------------------------------------------------------

  /**
   * A reference price (last trade or mid, ticks) for the fat-finger band and valuation; also marks the venue's
   * data fresh. Pass the event's timestamp: the default reads the clock (about 45 ns on the live clock).
   */
  onPrice(instrumentId: InstrumentId | number, px: number, ts: number = this.clock.now()): void {
    const i = instrumentId as number;
    if (this.known[i] !== 1) {
      const inst = this.registry.get(instrumentId as InstrumentId);
      if (inst === undefined) return;
      this.addInstrument(inst);
    }
    const r = i * RS;
    const row = this.row;
    row[r + R_REF] = px;
    row[r + R_VPL] = !Number.isNaN(px)
      ? valuePerLot(row[r + R_VALUE_K]!, px, (this.flags[i]! & F_INVERSE) !== 0)
      : Number.NaN;
    this.breakers.onMarketData(this.venueOf[i]!, ts);
    if (row[r + R_EXPOSED] !== 0) this.refresh(i);
    const sm = this.sampler;
    if (sm?.onPrice(i, px, ts) && this.clustersOn && sm.ready) this.reclusters(sm);
  }

  /** A new return sample: regroup instruments by correlation for risk.total.maxClusterExposure. */
  private reclusters(sm: ReturnSampler): void {
    const n = sm.n;
    // Exactly n long (the sampler only grows): passed whole, no views allocated per sample.
    if (this.clusterIds.length !== n) {
      this.clusterIds = Int32Array.from({ length: n }, (_, k) => k);
      this.clusterLabels = new Int32Array(n);
    }
    sm.clusters(this.config.correlation.clusterThreshold, this.clusterLabels);
    this.setClusters(this.clusterIds, this.clusterLabels);
  }

  /** Order events from the execution engine (subscribed by attach). */
  onOrderEvent(ev: OrderEvent): void {
    const kind = ev.kind;
    if (kind === OrderEventKind.INITIALIZED || kind === OrderEventKind.DENIED) return;
    const order = this.cache?.order(ev.orderId);
    if (order === undefined) return;
    const i = order.instrumentId as number;
    if (this.known[i] !== 1) {
      const inst = this.registry.get(order.instrumentId);
      if (inst === undefined) return;
      this.addInstrument(inst);
    }
    // Exposure moves only when the open-order sums changed or a fill moved the position (the portfolio applied
    // it before this handler): most events (SUBMITTED's ack, PENDING_*) leave it as it is.
    if (this.resync(order) || kind === OrderEventKind.FILLED) this.refresh(i);
    const v = this.venueOf[i]!;
    const s = order.strategyId as number;
    const ts = ev.tsEvent as number;
    if (kind === OrderEventKind.SUBMITTED) this.breakers.onSent(v, s, ts);
    else if (kind === OrderEventKind.ACCEPTED) this.breakers.onSuccess(v, s, ts);
    else if (kind === OrderEventKind.REJECTED) this.breakers.onReject(v, s, ts);
    else if (kind === OrderEventKind.FILLED) {
      this.breakers.onSuccess(v, s, ts);
      this.lossLimits.onEquity(this.account.equity(), ts);
    }
  }

  /** A closed trade's realised PnL (account currency units): loss limits and the loss breakers. */
  onTradeClosed(strategyId: StrategyId | number, pnl: number, ts: number = this.clock.now()): void {
    this.lossLimits.onTradeClosed(pnl, ts);
    if (pnl < 0) this.breakers.onLoss(strategyId, -pnl, ts);
  }

  /** Re-reads equity for the loss limits (call on marks or a timer; fills do it themselves). */
  updateEquity(ts: number = this.clock.now()): void {
    this.lossLimits.onEquity(this.account.equity(), ts);
  }

  // ---- trading state ------------------------------------------------------------------------------------------

  get tradingState(): TradingState {
    return this.state;
  }

  /** Operator (or kill switch) state; the effective state is the more severe of it and the loss limits'. */
  setTradingState(
    state: TradingState,
    source: StateSource = StateSource.MANUAL,
    ts: number = this.clock.now(),
  ): void {
    this.manualState = state;
    this.apply(source, ts);
  }

  /** From the cluster's shared risk view; the effective state is the most severe of the three. */
  setClusterState(state: TradingState, ts: number = this.clock.now()): void {
    this.clusterState = state;
    this.apply(StateSource.CLUSTER, ts);
  }

  /**
   * Adds other nodes' exposure to the global limits (instrument net, totals, venue), or stops (null). Edge: the
   * object is kept and read on every check; its owner updates it in place.
   */
  setPeerExposure(peers: PeerExposure | null): void {
    this.peers = peers;
  }

  /**
   * This node's gross, worst long and worst short exposure of an instrument, and its net exposure limit
   * (settlement money units; Infinity = none), into out[0..3].
   */
  instrumentExposure(instrumentId: number, out: Float64Array): void {
    const known = this.known[instrumentId] === 1;
    const r = instrumentId * RS;
    out[0] = known ? this.row[r + R_GROSS]! : 0;
    out[1] = known ? this.row[r + R_NET_LONG]! : 0;
    out[2] = known ? this.row[r + R_NET_SHORT]! : 0;
    out[3] = known ? this.row[r + L_NET]! : INF;
  }

  /** The total gross, total net and venue gross limits (account money units; Infinity = none) into out[0..2]. */
  totalLimits(out: Float64Array): void {
    out[0] = this.maxTotalGross;
    out[1] = this.maxTotalNet;
    out[2] = this.maxVenueGross;
  }

  /** From the loss limits (TradingStateTarget). */
  setLimitState(state: TradingState, ts: number): void {
    this.limitState = state;
    this.apply(StateSource.LOSS_LIMIT, ts);
  }

  beginFlatten(): void {
    this.flattening = true;
    this.unusualBits |= 2;
  }

  endFlatten(): void {
    this.flattening = false;
    this.unusualBits &= ~2;
  }

  private apply(source: StateSource, ts: number): void {
    const next = Math.max(this.manualState, this.limitState, this.clusterState) as TradingState;
    if (next === this.state) return;
    const from = this.state;
    this.state = next;
    this.stateSource = source;
    if (this.bus === undefined || this.stateTopic === undefined) return;
    const ev = this.stateEvent;
    ev.from = from;
    ev.to = next;
    ev.source = source;
    ev.ts = ts as Micros;
    this.bus.publish(this.stateTopic, ev);
  }

  // ---- correlation clusters ------------------------------------------------------------------------------------

  /**
   * Groups instruments into clusters (label >= 0; -1 = alone) for risk.total.maxClusterExposure, e.g. from
   * correlationClusters(). Edge: call when the correlation estimate is refreshed, not per order.
   */
  setClusters(instrumentIds: ArrayLike<number>, labels: ArrayLike<number>): void {
    this.clusterOf.fill(-1);
    let max = -1;
    for (let k = 0; k < instrumentIds.length; k++) {
      const id = instrumentIds[k]!;
      const inst = this.registry.get(id as InstrumentId);
      if (inst !== undefined && this.known[id] !== 1) this.addInstrument(inst);
      const label = labels[k]!;
      if (id < this.instCap) this.clusterOf[id] = label;
      if (label > max) max = label;
    }
    if (this.clusterGross.length < max + 1) this.clusterGross = new Float64Array(max + 1);
    this.clusterGross.fill(0);
    for (let i = 0; i < this.instCap; i++) {
      const c = this.clusterOf[i]!;
      if (c >= 0 && (this.flags[i]! & F_TOTALS) !== 0) this.clusterGross[c]! += this.row[i * RS + R_GROSS]!;
    }
  }

  // ---- diagnostics ----------------------------------------------------------------------------------------------

  /** Open-order book-keeping of an instrument: lots of open buys and sells, open order count. */
  openExposure(instrumentId: number): { buy: number; sell: number; orders: number } {
    const known = instrumentId < this.instCap;
    const r = instrumentId * RS;
    return {
      buy: known ? this.row[r + R_OPEN_BUY]! : 0,
      sell: known ? this.row[r + R_OPEN_SELL]! : 0,
      orders: known ? this.row[r + R_OPEN_COUNT]! : 0,
    };
  }

  /** Totals over instruments settling in the account currency: gross, worst net, open orders. */
  totals(): { gross: number; netLong: number; netShort: number; openOrders: number } {
    return {
      gross: this.totalGross,
      netLong: this.totalNetLong,
      netShort: this.totalNetShort,
      openOrders: this.totalOpen,
    };
  }

  /**
   * Ids of the open orders seen on the event stream, held (emulated) ones included: the engine's cache lists only
   * orders sent to a venue as open, so the kill switch cancels these too. Edge: allocates.
   */
  trackedOrderIds(): number[] {
    const out: number[] = [];
    for (let slot = 0; slot < this.recId.length; slot++)
      if (this.recId[slot] !== 0) out.push(this.recId[slot]!);
    return out.sort((a, b) => a - b);
  }

  /** Open orders the engine is tracking from the event stream. */
  get trackedOrders(): number {
    return this.records;
  }

  reservedBalance(currencyId: number): number {
    return this.reserved[currencyId] ?? 0;
  }

  referencePrice(instrumentId: number): number {
    return instrumentId < this.instCap ? this.row[instrumentId * RS + R_REF]! : Number.NaN;
  }

  /** Recomputes every instrument's exposure from the account (after a restart or a reconciliation). */
  refreshAll(): void {
    for (let i = 0; i < this.instCap; i++) if (this.known[i] === 1) this.refresh(i);
  }

  // ---- reason text (edge) ------------------------------------------------------------------------------------------

  reasonText(code: number, order: Order): string {
    const inst = this.fCode === code ? this.fInst : this.registry.get(order.instrumentId);
    const sym = inst?.symbol ?? `instrument ${order.instrumentId}`;
    if (code > 0 && code < 100) {
      return orderReasonMessage(
        code,
        this.fCode === code ? this.scratch : orderAsRequest(order, this.scratch),
        inst,
      );
    }
    if (this.fCode !== code) return `denied by risk (code ${code}, ${sym})`;
    const cur = this.fCur ?? this.accountCurrency;
    const v = this.fValue;
    const lim = this.fLimit;
    const fmt = (x: number): string =>
      this.fKind === FACT_MONEY
        ? `${groupDigits(stepsToDecimal(Math.round(x), cur.unit))} ${cur.code}`
        : this.fKind === FACT_QTY && inst !== undefined
          ? `${groupDigits(inst.lotsToQty(Math.round(x)))} ${inst.base.code}`
          : this.fKind === FACT_PRICE && inst !== undefined && Number.isSafeInteger(x)
            ? groupDigits(inst.ticksToPrice(x))
            : String(x);
    const where = `(${this.fKey}${this.fKey === '' ? '' : ', '}${sym})`;
    const side = orderSideName(order.side);
    switch (code) {
      case RiskReason.HALTED:
        return `trading is HALTED (${sourceName(this.fScope)}): no order passes (${sym})`;
      case RiskReason.REDUCING_ONLY:
        return `trading is REDUCING (${sourceName(this.fScope)}): only orders that reduce the position pass; this ${side} would not (${sym})`;
      case RiskReason.BREAKER_OPEN:
        return `circuit breaker open: ${breakerScopeName(this.fScope)}${this.fScope === BreakerScope.GLOBAL ? '' : ` ${this.fId}`} ${where}`;
      case RiskReason.STALE_MARKET_DATA:
        return `no market data from the venue for ${(v / 1000).toFixed(0)} ms (max ${(lim / 1000).toFixed(0)} ms) ${where}`;
      case RiskReason.ORDER_RATE:
      case RiskReason.MODIFY_RATE:
        return `${code === RiskReason.ORDER_RATE ? 'order' : 'modify'} rate limit reached (burst ${lim}) for ${this.fKey.includes('venue') ? `venue ${inst?.venue ?? v}` : `strategy ${v}`} ${where}`;
      case RiskReason.NO_REFERENCE_PRICE:
        return `no reference price yet for ${sym}: cannot value the order or apply the price band ${where}`;
      case RiskReason.PRICE_BAND:
        return `price ${fmt(v)} is more than ${lim} bps from the reference price ${inst !== undefined && Number.isSafeInteger(this.fId) ? groupDigits(inst.ticksToPrice(this.fId)) : this.fId} ${where}`;
      case RiskReason.ORDER_QTY:
        return `order quantity ${fmt(v)} exceeds max ${fmt(lim)} ${where}`;
      case RiskReason.ORDER_NOTIONAL:
        return `order notional ${fmt(v)} exceeds max ${fmt(lim)} ${where}`;
      case RiskReason.POSITION:
        return `worst-case position ${fmt(v)} (position + open ${side} orders + this one) exceeds max ${fmt(lim)} ${where}`;
      case RiskReason.INSTRUMENT_GROSS:
        return `gross exposure ${fmt(v)} would exceed max ${fmt(lim)} ${where}`;
      case RiskReason.INSTRUMENT_NET:
        return `net exposure ${fmt(v)} would exceed max ${fmt(lim)} ${where}`;
      case RiskReason.TOTAL_GROSS:
        return `total gross exposure ${fmt(v)} would exceed max ${fmt(lim)} ${where}`;
      case RiskReason.TOTAL_NET:
        return `total net exposure ${fmt(v)} would exceed max ${fmt(lim)} ${where}`;
      case RiskReason.VENUE_GROSS:
        return `gross exposure on venue ${inst?.venue ?? '?'} ${fmt(v)} would exceed max ${fmt(lim)} ${where}`;
      case RiskReason.CLUSTER_GROSS:
        return `gross exposure of the correlated cluster ${fmt(v)} would exceed max ${fmt(lim)} ${where}`;
      case RiskReason.OPEN_ORDERS:
      case RiskReason.TOTAL_OPEN_ORDERS:
        return `open orders ${v} would exceed max ${lim} ${where}`;
      case RiskReason.REDUCE_ONLY:
        return `reduce-only ${side} of ${fmt(order.qty)} would increase the position ${fmt(v)}${lim !== 0 ? ` (open ${side} orders ${fmt(lim)})` : ''} ${where}`;
      case RiskReason.INSUFFICIENT_BALANCE:
        return `order needs ${fmt(v)} but only ${fmt(lim)} is free ${where}`;
      case RiskReason.INSUFFICIENT_MARGIN:
        return `order needs margin ${fmt(v)} but only ${fmt(lim)} is available ${where}`;
      case RiskReason.SELF_TRADE:
        return `${side} ${order.type === OrderType.MARKET ? 'market order' : `at ${fmt(v)}`} would trade against the strategy's own resting order at ${fmt(lim)} ${where}`;
      case RiskReason.VALUE_OVERFLOW:
        return `order value of ${v} lots at ${lim} ticks is beyond 2^53 money units ${where}`;
      case RiskReason.VAR_LIMIT:
        return `value at risk ${fmt(v)} (${(this.varConfidence * 100).toFixed(1)}%, ${this.varHorizon} x ${this.config.correlation.sampleMs / 1000} s) with this ${side} would exceed max ${fmt(lim)} ${where}`;
      case RiskReason.MODIFY_BELOW_FILLED:
        return `new quantity ${fmt(v)} is not above the filled quantity ${fmt(lim)} ${where}`;
      default:
        return `denied by risk (code ${code}) ${where}`;
    }
  }

  // ---- book-keeping of open orders (event path) ---------------------------------------------------------------------

  /**
   * Replaces what the order contributed to the open-order sums by what it contributes now; false when that was
   * already the case (nothing changed).
   */
  private resync(order: Order): boolean {
    const id = order.id as number;
    let slot = id & this.recMask;
    let px = Number.NaN;
    const open = isOpen(order.status) && order.leavesQty > 0;
    const resting =
      open &&
      hasPrice(order.price) &&
      (order.type === OrderType.LIMIT || (typeHasLimitPrice(order.type) && isTriggered(order)));
    if (this.recId[slot] === id) {
      px = this.recPx[slot]!;
      // Most events (SUBMITTED, ACCEPTED, PENDING_*) change nothing the sums hold: then nothing is redone.
      if (
        open &&
        this.recLeaves[slot] === order.leavesQty &&
        px ===
          (hasPrice(order.price) ? order.price : hasPrice(order.triggerPrice) ? order.triggerPrice : px) &&
        (resting ? this.recRestPx[slot] === order.price : Number.isNaN(this.recRestPx[slot]!))
      )
        return false;
      this.removeRecord(slot);
    } else if (!open) return false;
    if (!open) return true;
    if (this.recId[slot] !== 0) {
      while (this.recId[id & this.recMask] !== 0) this.growRecords(this.recId.length * 2);
      slot = id & this.recMask;
    }
    const i = order.instrumentId as number;
    const row = this.row;
    const r = i * RS;
    if (hasPrice(order.price)) px = order.price;
    else if (hasPrice(order.triggerPrice)) px = order.triggerPrice;
    else if (Number.isNaN(px)) px = row[r + R_REF]!;
    const leaves = order.leavesQty as number;
    const side = order.side;
    this.recId[slot] = id;
    this.recInst[slot] = i;
    this.recStrat[slot] = order.strategyId;
    this.recSide[slot] = side;
    this.recLeaves[slot] = leaves;
    this.recPx[slot] = px;
    this.records++;
    if (side === BUY) row[r + R_OPEN_BUY]! += leaves;
    else row[r + R_OPEN_SELL]! += leaves;
    row[r + R_OPEN_COUNT]!++;
    this.totalOpen++;
    if (this.reserveOn && !Number.isNaN(px)) {
      const inst = this.insts[i]!;
      const amount = this.reserveAmount(inst, i, side, order.flags, leaves, px);
      const cur = this.curOf[2 * i + (side === BUY ? 0 : 1)]!;
      this.recReserve[slot] = amount;
      this.recCur[slot] = cur;
      if (cur >= this.reserved.length) this.reserved = growF64(this.reserved, cur + 16);
      this.reserved[cur]! += amount;
    } else {
      this.recReserve[slot] = 0;
      this.recCur[slot] = -1;
    }
    this.recRestPx[slot] = resting ? order.price : Number.NaN;
    if (resting) this.linkRest(slot, (order.strategyId as number) * this.instCap + i, side === BUY);
    return true;
  }

  private removeRecord(slot: number): void {
    const i = this.recInst[slot]!;
    const leaves = this.recLeaves[slot]!;
    const row = this.row;
    const r = i * RS;
    const buy = this.recSide[slot] === BUY;
    if (buy) row[r + R_OPEN_BUY]! -= leaves;
    else row[r + R_OPEN_SELL]! -= leaves;
    row[r + R_OPEN_COUNT]!--;
    this.totalOpen--;
    const cur = this.recCur[slot]!;
    if (cur >= 0) this.reserved[cur]! -= this.recReserve[slot]!;
    this.recId[slot] = 0;
    this.records--;
    if (!Number.isNaN(this.recRestPx[slot]!))
      this.unlinkRest(slot, this.recStrat[slot]! * this.instCap + i, buy);
  }

  /**
   * Puts a resting record into its (strategy, instrument, side) list, kept best first: buys by price down, sells
   * up. The walk starts at the nearer end by price: a ladder placed from the best outwards (or inwards) appends at
   * one end in O(1).
   */
  private linkRest(slot: number, k: number, buy: boolean): void {
    const h = 2 * k + (buy ? 0 : 1);
    const px = this.recRestPx[slot]!;
    const next = this.recNext;
    const prev = this.recPrev;
    const rp = this.recRestPx;
    const head = this.restHead[h]!;
    const tail = this.restTail[h]!;
    if (head < 0) {
      next[slot] = -1;
      prev[slot] = -1;
      this.restHead[h] = slot;
      this.restTail[h] = slot;
    } else if (isBetter(buy, px, rp[head]!)) {
      next[slot] = head;
      prev[slot] = -1;
      prev[head] = slot;
      this.restHead[h] = slot;
    } else if (!isBetter(buy, px, rp[tail]!)) {
      next[slot] = -1;
      prev[slot] = tail;
      next[tail] = slot;
      this.restTail[h] = slot;
    } else {
      // Strictly between the head and the tail: walk from the tail towards the head.
      let at = tail;
      while (isBetter(buy, px, rp[prev[at]!]!)) at = prev[at]!;
      // px is better than rp[at] and not better than rp[prev[at]]: goes just before `at`.
      const before = prev[at]!;
      next[slot] = at;
      prev[slot] = before;
      next[before] = slot;
      prev[at] = slot;
    }
    if (buy) this.restBuyMax[k] = rp[this.restHead[h]!]!;
    else this.restSellMin[k] = rp[this.restHead[h]!]!;
  }

  /** Takes a resting record out of its list; the new best is the new head. */
  private unlinkRest(slot: number, k: number, buy: boolean): void {
    const h = 2 * k + (buy ? 0 : 1);
    const next = this.recNext;
    const prev = this.recPrev;
    const n = next[slot]!;
    const p = prev[slot]!;
    if (p >= 0) next[p] = n;
    else this.restHead[h] = n;
    if (n >= 0) prev[n] = p;
    else this.restTail[h] = p;
    const head = this.restHead[h]!;
    if (buy) this.restBuyMax[k] = head >= 0 ? this.recRestPx[head]! : Number.NEGATIVE_INFINITY;
    else this.restSellMin[k] = head >= 0 ? this.recRestPx[head]! : INF;
  }

  /**
   * The account's position of a known instrument (lots): the one in the row while the account's position version
   * has not moved since it was read, else read again (every time when the account has no version).
   */
  private positionOf(i: number): number {
    if (!this.versioned) return this.account.positionQty(i as InstrumentId);
    const row = this.row;
    const r = i * RS;
    const ver = this.account.positionVersion!();
    if (row[r + R_POS_VER] === ver) return row[r + R_POS]!;
    const pos = this.account.positionQty(i as InstrumentId);
    row[r + R_POS] = pos;
    row[r + R_POS_VER] = ver;
    return pos;
  }

  private reserveOf(orderId: number): number {
    const slot = orderId & this.recMask;
    return this.recId[slot] === orderId ? this.recReserve[slot]! : 0;
  }

  private reserveAmount(
    inst: Instrument,
    i: number,
    side: number,
    flags: number,
    lots: number,
    px: number,
  ): number {
    const r = i * RS;
    const fl = this.flags[i]!;
    const margin = (fl & F_MARGIN) !== 0;
    if (!margin && side !== BUY) return lots * this.row[r + R_BASE_PER_LOT]!;
    // The notional and fee as the balance check works them out (exact integers where it can, see check).
    const ek = this.row[r + R_EXACT_K]!;
    let n = px * lots * ek;
    if (!(ek > 0 && n <= MAX_SAFE)) n = inst.tryNotional(px, lots);
    this.cValue = n;
    this.cPx = px;
    this.feeOf(inst, i, fl, lots);
    const f = this.cFee;
    if (!margin) return n + f;
    return ((flags & OrderFlags.REDUCE_ONLY) !== 0 ? 0 : Math.ceil(n / this.row[r + L_LEVERAGE]!)) + f;
  }

  /** Recomputes an instrument's exposure figures and moves the totals by the difference. */
  private refresh(i: number): void {
    const row = this.row;
    const r = i * RS;
    const pos = this.positionOf(i);
    const ob = row[r + R_OPEN_BUY]!;
    const os = row[r + R_OPEN_SELL]!;
    const absPos = pos < 0 ? -pos : pos;
    const lots = absPos + ob + os;
    row[r + R_EXPOSED] = lots;
    const ref = row[r + R_REF]!;
    let g = 0;
    let nl = 0;
    let ns = 0;
    if (!Number.isNaN(ref) && ref > 0) {
      const vpl = row[r + R_VPL]!;
      g = lots * vpl;
      nl = (pos + ob) * vpl;
      ns = (pos - os) * vpl;
    }
    if ((this.flags[i]! & F_TOTALS) !== 0) {
      this.totalGross += g - row[r + R_GROSS]!;
      this.totalNetLong += nl - row[r + R_NET_LONG]!;
      this.totalNetShort += ns - row[r + R_NET_SHORT]!;
      const c = this.clusterOf[i]!;
      if (c >= 0) this.clusterGross[c]! += g - row[r + R_GROSS]!;
    }
    row[r + R_GROSS] = g;
    row[r + R_NET_LONG] = nl;
    row[r + R_NET_SHORT] = ns;
  }

  // ---- setup and growth (edge) ----------------------------------------------------------------------------------

  private addInstrument(inst: Instrument): void {
    const i = inst.id as number;
    if (i >= this.instCap) this.growInstruments(Math.max(i + 1, this.instCap * 2, 8));
    const c = this.config;
    const over = c.instruments[inst.key] ?? c.instruments[inst.symbol];
    const overKey = c.instruments[inst.key] !== undefined ? inst.key : inst.symbol;
    const li = i * LIMITS;
    const row = this.row;
    const r = i * RS;
    for (let k = 0; k < LIMITS; k++) {
      const name = LIMIT_NAMES[k]!;
      const own = over?.[name];
      const text = own ?? c.limits[name];
      this.limitKeys[li + k] =
        own !== undefined ? `risk.instruments.${overKey}.${name}` : `risk.limits.${name}`;
      let value = INF;
      if (text !== undefined) {
        if (k === L_ORDER_QTY || k === L_POSITION)
          value = steps(String(text), inst.lotSize, `risk ${name} of ${inst.key}`);
        else if (k === L_ORDER_NOTIONAL || k === L_GROSS || k === L_NET)
          value = money(String(text), inst.settlement);
        else value = Number(text);
      }
      row[r + k] = value;
    }
    if (row[r + L_LEVERAGE] === INF) row[r + L_LEVERAGE] = 1;
    this.insts[i] = inst;
    row[r + R_REF] = Number.NaN;
    row[r + R_VPL] = Number.NaN;
    row[r + R_POS_VER] = Number.NaN;
    this.clusterOf[i] = -1;
    this.venueOf[i] = inst.venueId;
    const margin = inst.kind !== InstrumentKind.SPOT;
    const totals = inst.settlement.id === this.accountCurrency.id;
    const p = inst.settlement.precision;
    const lot = inst.lotSize.value * inst.multiplier.value;
    row[r + R_VALUE_K] = inst.isInverse
      ? (lot / inst.tickSize.value) * 10 ** p
      : inst.tickSize.value * lot * 10 ** p;
    row[r + R_BASE_PER_LOT] = baseUnitsPerLot(inst);
    row[r + R_EXACT_K] = inst.isInverse ? 0 : exactUnitsPerTickLot(inst);
    this.feeLiquidity[i] = inst.takerFee >= inst.makerFee ? LiquiditySide.TAKER : LiquiditySide.MAKER;
    const rate = Math.max(inst.takerFee, inst.makerFee);
    row[r + R_FEE_RATE] = rate;
    // a * rate stays exact below 2^53 for notionals up to 2^53 units while the rate is at most 1% (1e6).
    const fastFee = row[r + R_EXACT_K]! > 0 && inst.feeRounding === Rounding.HALF_UP && rate <= 1_000_000;
    // The exact need is ceil(notional / leverage) (margin) or the notional (cash), plus a fee of at most
    // notional * rate / 1e8 + 1/2 (HALF_UP, or 0 when the rate is not positive): notional * NEED_K + 2 bounds it,
    // the 1e-9 slack covering the rounding of this product far beyond its ulp. Elsewhere (other fee rounding) NaN
    // turns the bound off.
    row[r + R_NEED_K] =
      fastFee || rate <= 0
        ? ((margin ? 1 / row[r + L_LEVERAGE]! : 1) + Math.max(rate, 0) / FEE_DEN) * (1 + 1e-9)
        : Number.NaN;
    this.curOf[2 * i] = margin ? inst.settlement.id : inst.quote.id;
    this.curOf[2 * i + 1] = margin ? inst.settlement.id : inst.base.id;
    this.flags[i] = this.activeChecks(r, margin, totals, inst.isInverse, fastFee);
    this.breakers.ensure(inst.venueId, 0);
    this.venueOrders.ensure(inst.venueId);
    this.venueModifies.ensure(inst.venueId);
    this.known[i] = 1;
  }

  /** The instrument's F_* facts and the A_* checks that can deny under the config (a limit of Infinity cannot). */
  private activeChecks(
    r: number,
    margin: boolean,
    totals: boolean,
    inverse: boolean,
    fastFee: boolean,
  ): number {
    const row = this.row;
    const on = (cond: boolean, bit: number): number => (cond ? bit : 0);
    return (
      on(margin, F_MARGIN) |
      on(inverse, F_INVERSE) |
      on(totals, F_TOTALS) |
      on(fastFee, F_FAST_FEE) |
      on(row[r + L_BAND] !== INF, A_BAND) |
      on(row[r + L_ORDER_QTY] !== INF, A_ORDER_QTY) |
      on(row[r + L_ORDER_NOTIONAL] !== INF, A_NOTIONAL) |
      on(row[r + L_POSITION] !== INF, A_POSITION) |
      on(row[r + L_GROSS] !== INF, A_GROSS) |
      on(row[r + L_NET] !== INF, A_NET) |
      on(totals && this.maxTotalGross !== INF, A_TOTAL_GROSS) |
      on(totals && this.maxTotalNet !== INF, A_TOTAL_NET) |
      on(totals && this.clustersOn, A_CLUSTER) |
      on(totals && this.maxVenueGross !== INF, A_VENUE) |
      on(row[r + L_OPEN] !== INF, A_OPEN) |
      on(this.maxTotalOpen !== INF, A_TOTAL_OPEN) |
      on(this.balanceOn, A_BALANCE) |
      on(this.stpOn, A_STP) |
      on(this.varOn, A_VAR)
    );
  }

  private growInstruments(n: number): void {
    const old = this.instCap;
    this.known = growU8(this.known, n);
    this.row = growF64(this.row, n * RS);
    this.flags = growI32(this.flags, n);
    this.curOf = growI32(this.curOf, 2 * n);
    this.feeLiquidity = growU8(this.feeLiquidity, n);
    this.venueOf = growI32(this.venueOf, n);
    const clusters = growI32(this.clusterOf, n);
    clusters.fill(-1, old);
    this.clusterOf = clusters;
    while (this.insts.length < n) this.insts.push(undefined);
    while (this.limitKeys.length < n * LIMITS) this.limitKeys.push('');
    this.instCap = n;
    this.regridStrategies(this.stratCap, old);
  }

  private growStrategies(n: number): void {
    this.regridStrategies(Math.max(n, this.stratCap * 2), this.instCap);
    this.strategyOrders.ensure(n);
    this.strategyModifies.ensure(n);
    this.breakers.ensure(0, n);
  }

  /** Re-lays the (strategy x instrument) arrays after either dimension grew. */
  private regridStrategies(strats: number, oldInst: number): void {
    const oldStrats = this.stratCap;
    const inst = this.instCap;
    const head = new Int32Array(2 * strats * inst).fill(-1);
    const tail = new Int32Array(2 * strats * inst).fill(-1);
    const sellMin = new Float64Array(strats * inst).fill(INF);
    const buyMax = new Float64Array(strats * inst).fill(Number.NEGATIVE_INFINITY);
    for (let s = 0; s < oldStrats; s++) {
      for (let i = 0; i < oldInst; i++) {
        const from = s * oldInst + i;
        const to = s * inst + i;
        head[2 * to] = this.restHead[2 * from]!;
        head[2 * to + 1] = this.restHead[2 * from + 1]!;
        tail[2 * to] = this.restTail[2 * from]!;
        tail[2 * to + 1] = this.restTail[2 * from + 1]!;
        sellMin[to] = this.restSellMin[from]!;
        buyMax[to] = this.restBuyMax[from]!;
      }
    }
    this.restHead = head;
    this.restTail = tail;
    this.restSellMin = sellMin;
    this.restBuyMax = buyMax;
    this.stratCap = strats;
  }

  private growRecords(n: number): void {
    const old = this.recId;
    const oldAt = {
      inst: this.recInst,
      strat: this.recStrat,
      side: this.recSide,
      leaves: this.recLeaves,
      px: this.recPx,
      rest: this.recRestPx,
      reserve: this.recReserve,
      cur: this.recCur,
      next: this.recNext,
      prev: this.recPrev,
    };
    this.recId = new Float64Array(n);
    this.recInst = new Int32Array(n);
    this.recStrat = new Int32Array(n);
    this.recSide = new Uint8Array(n);
    this.recLeaves = new Float64Array(n);
    this.recPx = new Float64Array(n);
    this.recRestPx = new Float64Array(n);
    this.recReserve = new Float64Array(n);
    this.recCur = new Int32Array(n);
    this.recNext = new Int32Array(n).fill(-1);
    this.recPrev = new Int32Array(n).fill(-1);
    this.recMask = n - 1;
    // Records move to new slots: the resting lists' links are translated through moved[old slot].
    const moved = new Int32Array(old.length).fill(-1);
    for (let s = 0; s < old.length; s++) {
      const id = old[s]!;
      if (id === 0) continue;
      const t = id & this.recMask;
      moved[s] = t;
      this.recId[t] = id;
      this.recInst[t] = oldAt.inst[s]!;
      this.recStrat[t] = oldAt.strat[s]!;
      this.recSide[t] = oldAt.side[s]!;
      this.recLeaves[t] = oldAt.leaves[s]!;
      this.recPx[t] = oldAt.px[s]!;
      this.recRestPx[t] = oldAt.rest[s]!;
      this.recReserve[t] = oldAt.reserve[s]!;
      this.recCur[t] = oldAt.cur[s]!;
    }
    const at = (slot: number): number => (slot < 0 ? -1 : moved[slot]!);
    for (let s = 0; s < old.length; s++) {
      const t = moved[s]!;
      if (t < 0) continue;
      this.recNext[t] = at(oldAt.next[s]!);
      this.recPrev[t] = at(oldAt.prev[s]!);
    }
    for (let h = 0; h < this.restHead.length; h++) {
      this.restHead[h] = at(this.restHead[h]!);
      this.restTail[h] = at(this.restTail[h]!);
    }
  }
}

/** Value of one lot at `px`: px * k (linear) or k / px (inverse), money units of the settlement currency. */
function valuePerLot(k: number, px: number, inverse: boolean): number {
  return inverse ? k / px : k * px;
}

function isBetter(buy: boolean, a: number, b: number): boolean {
  return buy ? a > b : a < b;
}

function isTriggered(order: Order): boolean {
  const s =
    order.status === OrderStatus.PENDING_UPDATE || order.status === OrderStatus.PENDING_CANCEL
      ? order.prevStatus
      : order.status;
  return s === OrderStatus.TRIGGERED;
}

function sourceName(s: number): string {
  return s === StateSource.LOSS_LIMIT
    ? 'loss limit'
    : s === StateSource.KILL_SWITCH
      ? 'kill switch'
      : s === StateSource.CLUSTER
        ? 'cluster: a peer node unheard of'
        : 'operator';
}
