// The portfolio: accounts and positions kept exactly in step with fills, funding and marks, by integer arithmetic.
// Invariants (tested): margin balance = deposits + realised - fees - funding; cash balance change per currency =
// sum of fill flows; position qty = sum of signed fill lots. Units: lots, ticks, money units per currency, micros.

import { Bot4Error, ErrorCode } from '../core/errors.ts';
import type { MessageBus, Topic } from '../core/message-bus.ts';
import type { InstrumentId, Micros, PriceTicks, QtyLots } from '../core/units.ts';
import type { Currency, CurrencyId, CurrencyRegistry, Money } from '../model/currency.ts';
import { Rounding } from '../model/decimal.ts';
import type { OrderEvent } from '../model/events.ts';
import {
  FEE_RATE_DENOMINATOR,
  type Instrument,
  InstrumentKind,
  instrumentKindName,
} from '../model/instrument.ts';
import { RATE_SCALE } from '../model/market-data.ts';
import { type Order, OrderSide } from '../model/order.ts';
import {
  Account,
  type AccountListener,
  type AccountType,
  accountTypeName,
  PositionMode,
  positionModeName,
} from './account.ts';
import { isSafe, MD, mulDivIo, ValueCalc } from './arith.ts';
import {
  AS_DOUBLE,
  commitFill,
  FillPlan,
  Position,
  PositionEvent,
  PositionEventKind,
  PositionSide,
  planFill,
  positionSideName,
  revalue,
} from './position.ts';
import { PortfolioResult } from './result.ts';

export const POSITION_TOPIC = 'portfolio.position';
export const ACCOUNT_TOPIC = 'portfolio.account';

/**
 * Default leverage of a margin account's instruments: 1x, so that a backtest never runs leveraged unless the
 * configuration says so per instrument (setLeverage); margin then equals the position's value at mark.
 */
export const DEFAULT_LEVERAGE = 1;
/** Binance's ceiling for any contract; integer leverage only, as every venue in scope offers. */
export const MAX_LEVERAGE = 125;
/** Currency ids are small interned integers; a fee currency id past this is garbage, not a currency. */
const MAX_CURRENCY_ID = 1 << 16;
const MAX = Number.MAX_SAFE_INTEGER;

export interface AccountSpec {
  /** Venue name (Instrument.venue) whose instruments settle in this account by default. */
  readonly venue: string;
  readonly type: AccountType;
  /** Default NETTING. HEDGING is for margin accounts only. */
  readonly mode?: PositionMode;
  /** Initial balances, in money units of each currency. */
  readonly balances?: readonly { readonly currency: Currency; readonly amount: Money | number }[];
}

export interface PortfolioOptions {
  /** Publish position and account events on this bus (topics POSITION_TOPIC and ACCOUNT_TOPIC). */
  readonly bus?: MessageBus;
  /**
   * A fill re-marks its instrument at the fill price (the latest price the portfolio has seen). Default true;
   * with false, fills leave the mark to mark() and use the fill price only before the first mark.
   */
  readonly markOnFill?: boolean;
  /** Leverage for instruments registered without one. Default DEFAULT_LEVERAGE (1x). */
  readonly defaultLeverage?: number;
  /** Names currencies (fee currencies the instruments do not mention) in snapshots. */
  readonly currencies?: CurrencyRegistry;
}

export interface InstrumentOptions {
  /** Integer 1..MAX_LEVERAGE, margin accounts only. */
  readonly leverage?: number;
  /** Account id; default the account registered for the instrument's venue. */
  readonly account?: number;
}

/** Published on ACCOUNT_TOPIC when a balance changed. One reused record: read it in the handler. */
export class AccountEvent {
  account: Account | null = null;
  currencyId = 0 as CurrencyId;
  ts = 0 as Micros;

  constructor() {
    this.ts = AS_DOUBLE as Micros; // a double field from the start (see AS_DOUBLE)
    this.ts = 0 as Micros;
  }
}

/** Per-instrument state: its account, leverage, mark and position slots (all three made up front). */
class InstrumentState {
  readonly instrument: Instrument;
  readonly account: Account;
  readonly hedging: boolean = false;
  leverage = DEFAULT_LEVERAGE;
  markPx = Number.NaN;
  readonly net: Position;
  readonly long: Position;
  readonly short: Position;
  /** Cash accounts: base currency units per lot (lot size x multiplier at the base's precision). */
  readonly baseUnitsPerLot: number = 0;
  /** Why the instrument cannot live in its account, '' when it can. */
  readonly unsupported: string = '';
  readonly calc: ValueCalc;
  /** Spot buys reserve this fee rate (1e-8) on top of the notional: the larger of maker and taker, >= 0. */
  readonly feeReserveRate: number = 0;

  constructor(instrument: Instrument, account: Account, leverage: number) {
    this.instrument = instrument;
    this.account = account;
    this.calc = new ValueCalc(instrument);
    this.feeReserveRate = Math.max(instrument.makerFee, instrument.takerFee, 0);
    this.hedging = account.mode === PositionMode.HEDGING;
    this.leverage = leverage;
    this.net = new Position(instrument, account.id, PositionSide.BOTH);
    this.long = new Position(instrument, account.id, PositionSide.LONG);
    this.short = new Position(instrument, account.id, PositionSide.SHORT);
    const isSpot = instrument.kind === InstrumentKind.SPOT;
    if (account.isMargin && isSpot) {
      this.unsupported = `spot instrument ${instrument.key} cannot settle in margin account ${account.id} (${account.venue}); use a CASH account`;
    } else if (!account.isMargin && !isSpot) {
      this.unsupported = `${instrumentKindName(instrument.kind)} instrument ${instrument.key} cannot settle in cash account ${account.id} (${account.venue}); use a MARGIN account`;
    } else if (!account.isMargin) {
      const per = baseUnitsPerLot(instrument);
      if (Number.isNaN(per)) {
        this.unsupported = `instrument ${instrument.key}: lot size ${instrument.lotSize.text} x multiplier ${instrument.multiplier.text} is not a whole number of ${instrument.base.code} units (${instrument.base.precision} dp)`;
      } else this.baseUnitsPerLot = per;
    }
  }
}

/** lot size x multiplier in base money units, NaN when not a whole (safe) number of units. */
function baseUnitsPerLot(inst: Instrument): number {
  let n = inst.lotSize.unitsBig * inst.multiplier.unitsBig;
  const e = inst.base.precision - inst.lotSize.scale - inst.multiplier.scale;
  if (e >= 0) n *= 10n ** BigInt(e);
  else {
    const d = 10n ** BigInt(-e);
    if (n % d !== 0n) return Number.NaN;
    n /= d;
  }
  return n <= BigInt(MAX) ? Number(n) : Number.NaN;
}

function isPositiveInt(x: number): boolean {
  return Number.isSafeInteger(x) && x > 0;
}

function isNonNegativeInt(x: number): boolean {
  return Number.isSafeInteger(x) && x >= 0;
}

export class Portfolio implements AccountListener {
  private readonly accounts: Account[] = [];
  private readonly accountByVenue = new Map<string, Account>();
  /** Indexed by InstrumentId. */
  private readonly states: (InstrumentState | undefined)[] = [];
  private readonly currencyNames: (Currency | undefined)[] = [];
  private readonly registry: CurrencyRegistry | null = null;
  private readonly markOnFill: boolean = true;
  private readonly defaultLeverage: number = DEFAULT_LEVERAGE;
  private readonly plan = new FillPlan();
  /** Register file for money-sized values passed between methods (unboxed; see arith.ts). */
  private readonly vals = new Float64Array(4);
  private readonly bus: MessageBus | null = null;
  readonly positionTopic: Topic<PositionEvent> | null = null;
  readonly accountTopic: Topic<AccountEvent> | null = null;
  private readonly positionEvent = new PositionEvent();
  private readonly accountEvent = new AccountEvent();
  /** Total funding paid (positive) or received by the last applyFunding call, settlement units. */
  lastFunding = 0 as Money;
  /** Fills applied (OK results). */
  fillCount = 0;

  constructor(options: PortfolioOptions = {}) {
    this.lastFunding = AS_DOUBLE as Money; // a double field from the start (see AS_DOUBLE)
    this.lastFunding = 0 as Money;
    this.markOnFill = options.markOnFill ?? true;
    const lev = options.defaultLeverage ?? DEFAULT_LEVERAGE;
    checkLeverage(lev, 'defaultLeverage');
    this.defaultLeverage = lev;
    this.registry = options.currencies ?? null;
    if (options.bus !== undefined) {
      this.bus = options.bus;
      this.positionTopic = options.bus.topic<PositionEvent>(POSITION_TOPIC);
      this.accountTopic = options.bus.topic<AccountEvent>(ACCOUNT_TOPIC);
    }
  }

  // ---------------------------------------------------------------- setup (edge: allocates, throws)

  /** Adds an account; its id is its index. One account per venue name. */
  addAccount(spec: AccountSpec): Account {
    if (this.accountByVenue.has(spec.venue)) {
      throw new Bot4Error(
        ErrorCode.INVALID_ARGUMENT,
        `an account for venue ${spec.venue} already exists (account ${this.accountByVenue.get(spec.venue)!.id}); one account per venue`,
        { venue: spec.venue },
      );
    }
    const acct = new Account(this.accounts.length, spec.venue, spec.type, spec.mode ?? PositionMode.NETTING);
    acct.listener = this;
    for (const b of spec.balances ?? []) {
      this.nameCurrency(b.currency);
      acct.deposit(b.currency.id, b.amount, 0);
    }
    this.accounts.push(acct);
    this.accountByVenue.set(spec.venue, acct);
    return acct;
  }

  /**
   * Registers an instrument with its account (by default the one for its venue) and leverage. Fills register
   * instruments on first sight by themselves; call this to set leverage, choose an account, or fail early.
   */
  register(inst: Instrument, options: InstrumentOptions = {}): void {
    const acct =
      options.account === undefined ? this.accountByVenue.get(inst.venue) : this.accounts[options.account];
    if (acct === undefined) {
      throw new Bot4Error(
        ErrorCode.NOT_FOUND,
        options.account === undefined
          ? `no account for venue ${inst.venue} (instrument ${inst.key}); add one with addAccount({ venue: '${inst.venue}', ... })`
          : `account ${options.account} does not exist (${this.accounts.length} accounts)`,
        { instrument: inst.key, account: options.account },
      );
    }
    const lev = options.leverage ?? this.defaultLeverage;
    checkLeverage(lev, `leverage of ${inst.key}`);
    const existing = this.states[inst.id];
    if (existing !== undefined) {
      if (existing.unsupported !== '')
        throw new Bot4Error(ErrorCode.INVALID_ARGUMENT, existing.unsupported, { instrument: inst.key });
      if (existing.account !== acct) {
        throw new Bot4Error(
          ErrorCode.INVALID_ARGUMENT,
          `instrument ${inst.key} is already in account ${existing.account.id}; it cannot move to account ${acct.id}`,
          { instrument: inst.key },
        );
      }
      if (options.leverage !== undefined) this.setLeverage(inst.id, lev);
      return;
    }
    const st = this.createState(inst, acct, lev);
    if (st.unsupported !== '') {
      this.states[inst.id] = undefined;
      throw new Bot4Error(ErrorCode.INVALID_ARGUMENT, st.unsupported, { instrument: inst.key });
    }
  }

  /** Edge: changes an instrument's leverage (integer 1..125) and re-margins its positions. */
  setLeverage(instrumentId: InstrumentId, leverage: number): void {
    checkLeverage(leverage, `leverage of instrument ${instrumentId}`);
    const st = this.states[instrumentId];
    if (st === undefined) {
      throw new Bot4Error(
        ErrorCode.NOT_FOUND,
        `instrument ${instrumentId} is not registered with the portfolio`,
        {
          instrumentId,
        },
      );
    }
    st.leverage = leverage;
    for (const p of [st.net, st.long, st.short]) {
      this.vals[0] = p.value;
      revalue(p, p.markPx, leverage, st.account, this.vals, 0);
    }
  }

  leverage(instrumentId: InstrumentId): number {
    return this.states[instrumentId]?.leverage ?? this.defaultLeverage;
  }

  // ---------------------------------------------------------------- hot path (no allocation, no throw)

  /**
   * Applies one fill: `qty` lots at `px` ticks, `fee` money units of currency `feeCurrencyId` (negative for a
   * rebate; the id may be -1 when the fee is 0), at event time `ts`. `positionSide` is BOTH in a netting
   * account and LONG or SHORT in a hedging one. Returns OK, or a code with nothing changed.
   * Allocation-free. (Where V8 does not inline this small method into its caller, numbers beyond the
   * small-integer range, such as a microsecond timestamp, are boxed at the call site; applyOrderFill reads
   * them from the event record and never is.)
   */
  applyFill(
    inst: Instrument,
    side: OrderSide,
    qty: QtyLots | number,
    px: PriceTicks | number,
    fee: Money | number,
    feeCurrencyId: CurrencyId | number,
    ts: Micros | number,
    positionSide: PositionSide = PositionSide.BOTH,
  ): PortfolioResult {
    if (side !== OrderSide.BUY && side !== OrderSide.SELL) return PortfolioResult.INVALID_FILL;
    const p = this.plan;
    p.buy = side === OrderSide.BUY;
    p.qty = qty;
    p.px = px;
    p.fee = fee;
    p.feeCurrency = feeCurrencyId;
    p.ts = ts as Micros;
    p.positionSide = positionSide;
    return this.applyPlanned(inst);
  }

  /**
   * applyFill from the execution engine's records: the order gives the side, the FILLED event the quantity,
   * price, fee, fee currency and event time. The engine's hot path: nothing money-sized is boxed.
   */
  applyOrderFill(
    inst: Instrument,
    order: Order,
    ev: OrderEvent,
    positionSide: PositionSide = PositionSide.BOTH,
  ): PortfolioResult {
    const side = order.side;
    if (side !== OrderSide.BUY && side !== OrderSide.SELL) return PortfolioResult.INVALID_FILL;
    const p = this.plan;
    p.buy = side === OrderSide.BUY;
    p.qty = ev.fillQty;
    p.px = ev.fillPx;
    p.fee = ev.fee;
    p.feeCurrency = ev.feeCurrencyId;
    p.ts = ev.tsEvent;
    p.positionSide = positionSide;
    return this.applyPlanned(inst);
  }

  /** The fill in this.plan: validate, plan, check every new figure, then commit (nothing fails after that). */
  private applyPlanned(inst: Instrument): PortfolioResult {
    const plan = this.plan;
    const qty = plan.qty;
    const px = plan.px;
    const fee = plan.fee;
    const feeCurrency = plan.feeCurrency;
    if (!isPositiveInt(qty) || !isPositiveInt(px) || !Number.isSafeInteger(fee))
      return PortfolioResult.INVALID_FILL;
    if (fee !== 0 && !(Number.isInteger(feeCurrency) && feeCurrency >= 0 && feeCurrency < MAX_CURRENCY_ID))
      return PortfolioResult.INVALID_FILL;
    const st = this.states[inst.id] ?? this.autoRegister(inst);
    if (st === undefined) return PortfolioResult.NO_ACCOUNT;
    if (st.unsupported !== '') return PortfolioResult.UNSUPPORTED_INSTRUMENT;
    const pos = slotOf(st, plan.positionSide);
    if (pos === null) return PortfolioResult.POSITION_SIDE_INVALID;
    const acct = st.account;
    const calc = st.calc;
    const buy = plan.buy;

    if (!calc.compute(px, qty)) return PortfolioResult.OVERFLOW;
    plan.notional = calc.result;
    let r = planFill(pos, calc, plan);
    if (r !== PortfolioResult.OK) return r;

    const markPx = this.markOnFill || Number.isNaN(st.markPx) ? px : st.markPx;
    const vals = this.vals;
    if (!calc.compute(markPx, plan.newQty < 0 ? -plan.newQty : plan.newQty)) return PortfolioResult.OVERFLOW;
    vals[0] = calc.result;
    // Hedging: a new mark revalues the other side too; check it before anything changes.
    const other = st.hedging ? (pos === st.long ? st.short : st.long) : null;
    if (other !== null) {
      if (markPx === other.markPx) vals[1] = other.value;
      else {
        if (!calc.compute(markPx, other.qty < 0 ? -other.qty : other.qty)) return PortfolioResult.OVERFLOW;
        vals[1] = calc.result;
      }
    }
    const settlementFee = fee !== 0 && feeCurrency === pos.settlementId ? fee : 0;
    if (!isSafe(pos.fees + settlementFee)) return PortfolioResult.OVERFLOW;
    // First sight of a fee currency (say BNB) grows the account's arrays: once, not per fill.
    if (fee !== 0 && feeCurrency >= acct.capacity) acct.ensure(feeCurrency);

    if (acct.isMargin) {
      r = acct.applyMarginFill(pos.settlementId, plan);
    } else {
      const baseUnits = qty * st.baseUnitsPerLot;
      if (baseUnits > MAX) return PortfolioResult.OVERFLOW;
      plan.quoteDelta = buy ? 0 - plan.notional : plan.notional;
      plan.baseDelta = buy ? baseUnits : 0 - baseUnits;
      r = acct.applyCashFill(inst.quote.id, inst.base.id, plan);
    }
    if (r !== PortfolioResult.OK) return r;

    // Nothing can fail from here on.
    const kind = commitFill(pos, plan);
    pos.fees = (pos.fees + settlementFee) as Money;
    st.markPx = markPx;
    revalue(pos, markPx, st.leverage, acct, vals, 0);
    if (other !== null) revalue(other, markPx, st.leverage, acct, vals, 1);
    this.fillCount++;

    if (this.bus !== null) {
      const ts = plan.ts;
      const ev = this.positionEvent;
      ev.kind = kind;
      ev.position = pos;
      ev.fillQty = buy ? qty : -qty;
      ev.fillPx = px as PriceTicks;
      ev.amount = plan.realised as Money;
      ev.ts = ts;
      this.bus.publish(this.positionTopic!, ev);
      this.accountEvent.ts = ts;
      if (acct.isMargin) this.publishAccount(acct, pos.settlementId);
      else {
        this.publishAccount(acct, inst.quote.id);
        this.publishAccount(acct, inst.base.id);
      }
      if (fee !== 0 && feeCurrency !== pos.settlementId && (acct.isMargin || feeCurrency !== inst.base.id))
        this.publishAccount(acct, feeCurrency as CurrencyId);
    }
    return PortfolioResult.OK;
  }

  /**
   * Revalues an instrument's positions at `px` ticks (from a quote, trade or mark-price record): unrealised
   * PnL, exposure and margin. UNKNOWN_INSTRUMENT before the instrument is registered or first filled.
   */
  mark(instrumentId: InstrumentId, px: PriceTicks | number): PortfolioResult {
    if (!isPositiveInt(px)) return PortfolioResult.INVALID_PRICE;
    const st = this.states[instrumentId];
    if (st === undefined) return PortfolioResult.UNKNOWN_INSTRUMENT;
    return this.markState(st, px);
  }

  /**
   * Applies a funding event: each open position pays round_half_even(|value at markPx| x |rate| / 1e8)
   * settlement units (value = Instrument.notional, itself rounded once), longs paying shorts when the rate is
   * positive and receiving when negative. The magnitude is rounded before the sign, so equal long and short
   * positions pay and receive the same amount. `rate` in 1e-8 units (RATE_SCALE). Re-marks at markPx.
   * No-op (OK) in a cash account. `lastFunding` holds the total paid. A few times a day per instrument, so
   * it is not held to the fill path's no-allocation rule (it may box a number or two).
   */
  applyFunding(
    inst: Instrument,
    rate: number,
    markPx: PriceTicks | number,
    ts: Micros | number,
  ): PortfolioResult {
    this.lastFunding = 0 as Money;
    if (!Number.isSafeInteger(rate)) return PortfolioResult.INVALID_AMOUNT;
    if (!isPositiveInt(markPx)) return PortfolioResult.INVALID_PRICE;
    const st = this.states[inst.id] ?? this.autoRegister(inst);
    if (st === undefined) return PortfolioResult.NO_ACCOUNT;
    if (st.unsupported !== '') return PortfolioResult.UNSUPPORTED_INSTRUMENT;
    const acct = st.account;
    if (!acct.isMargin) return PortfolioResult.OK;
    const r = this.markState(st, markPx);
    if (r !== PortfolioResult.OK) return r;
    const a = st.hedging ? st.long : st.net;
    const b = st.hedging ? st.short : null;
    const vals = this.vals;
    if (!fundingInto(a, rate, vals, 0)) return PortfolioResult.OVERFLOW;
    vals[1] = 0;
    if (b !== null && !fundingInto(b, rate, vals, 1)) return PortfolioResult.OVERFLOW;
    const pa = vals[0]!;
    const pb = vals[1]!;
    const total = pa + pb;
    if (!isSafe(total) || !isSafe(a.funding + pa) || (b !== null && !isSafe(b.funding + pb)))
      return PortfolioResult.OVERFLOW;
    const ra = acct.applyFunding(a.settlementId, total, ts as Micros);
    if (ra !== PortfolioResult.OK) return ra;
    a.funding = (a.funding + pa) as Money;
    if (b !== null) b.funding = (b.funding + pb) as Money;
    this.lastFunding = total as Money;
    if (this.bus !== null) {
      const ev = this.positionEvent;
      ev.kind = PositionEventKind.FUNDING;
      ev.fillQty = 0;
      ev.fillPx = markPx as PriceTicks;
      ev.ts = ts as Micros;
      if (a.qty !== 0) {
        ev.position = a;
        ev.amount = pa as Money;
        this.bus.publish(this.positionTopic!, ev);
      }
      if (b !== null && b.qty !== 0) {
        ev.position = b;
        ev.amount = pb as Money;
        this.bus.publish(this.positionTopic!, ev);
      }
      this.accountEvent.ts = ts as Micros;
      this.publishAccount(acct, a.settlementId);
    }
    return PortfolioResult.OK;
  }

  // ---------------------------------------------------------------- order locks (hot path)

  /**
   * The currency an order on `inst` reserves: quote for a spot buy, base for a spot sell, the settlement
   * currency for a derivative. -1 when the instrument has no account.
   */
  orderLockCurrency(inst: Instrument, side: OrderSide): number {
    const st = this.states[inst.id] ?? this.autoRegister(inst);
    if (st === undefined) return -1;
    if (st.account.isMargin) return inst.settlement.id;
    return side === OrderSide.BUY ? inst.quote.id : inst.base.id;
  }

  /**
   * What `qty` lots of an order at `px` reserve, money units of orderLockCurrency(): a spot buy its notional
   * plus ceil(notional x the larger of the maker and taker fee rates) (the venue may take the fee from the base
   * asset instead; reserving it in quote errs on the safe side); a spot sell its quantity in base units; a
   * derivative its initial margin, ceil(notional / leverage). Market orders pass a reference price (best ask
   * or bid). NaN on overflow, a bad quantity or price, or an instrument without an account. Non-decreasing in
   * qty, so the differences lockOrder and unlockOrder take are >= 0. (Returns a double: for risk checks and
   * reports; lockOrder/unlockOrder compute it without boxing.)
   */
  orderLockAmount(inst: Instrument, side: OrderSide, qty: QtyLots | number, px: PriceTicks | number): number {
    if (!isNonNegativeInt(qty) || !isPositiveInt(px)) return Number.NaN;
    const st = this.states[inst.id] ?? this.autoRegister(inst);
    if (st === undefined || st.unsupported !== '') return Number.NaN;
    return lockAmountInto(st, side, qty, px, this.vals, 2) ? this.vals[2]! : Number.NaN;
  }

  /**
   * Locks the part of an order between cumulative quantities `fromQty` and `toQty` (lots) at `px`:
   * orderLockAmount(toQty) - orderLockAmount(fromQty). On accept: (0, qty). On an update to newQty or a new
   * price: unlock (filled, oldQty) at the old price, then lock (filled, newQty) at the new one. Because
   * unlockOrder uses the same differences, the pieces telescope: an order's locks and unlocks at one price
   * cancel exactly, to the unit, however it was filled. `force` locks even beyond the free balance.
   */
  lockOrder(
    inst: Instrument,
    side: OrderSide,
    px: PriceTicks | number,
    fromQty: QtyLots | number,
    toQty: QtyLots | number,
    force = false,
  ): PortfolioResult {
    const r = this.lockDelta(inst, side, px, fromQty, toQty);
    if (r !== PortfolioResult.OK) return r;
    const c = this.orderLockCurrency(inst, side) as CurrencyId;
    return this.states[inst.id]!.account.lockFrom(c, this.vals, 2, force);
  }

  /** Releases the part between `fromQty` and `toQty`: on a fill (filledBefore, filledAfter); on a cancel,
   *  expiry or reject (filled, qty). Use the price the order was locked at. */
  unlockOrder(
    inst: Instrument,
    side: OrderSide,
    px: PriceTicks | number,
    fromQty: QtyLots | number,
    toQty: QtyLots | number,
  ): PortfolioResult {
    const r = this.lockDelta(inst, side, px, fromQty, toQty);
    if (r !== PortfolioResult.OK) return r;
    const c = this.orderLockCurrency(inst, side) as CurrencyId;
    return this.states[inst.id]!.account.unlockFrom(c, this.vals, 2);
  }

  /** vals[2] = lock amount of (fromQty, toQty]. */
  private lockDelta(
    inst: Instrument,
    side: OrderSide,
    px: number,
    fromQty: number,
    toQty: number,
  ): PortfolioResult {
    if (side !== OrderSide.BUY && side !== OrderSide.SELL) return PortfolioResult.INVALID_AMOUNT;
    if (!isNonNegativeInt(fromQty) || !isNonNegativeInt(toQty) || toQty < fromQty)
      return PortfolioResult.INVALID_AMOUNT;
    if (!isPositiveInt(px)) return PortfolioResult.INVALID_PRICE;
    const st = this.states[inst.id] ?? this.autoRegister(inst);
    if (st === undefined) return PortfolioResult.NO_ACCOUNT;
    if (st.unsupported !== '') return PortfolioResult.UNSUPPORTED_INSTRUMENT;
    const vals = this.vals;
    if (!lockAmountInto(st, side, toQty, px, vals, 2) || !lockAmountInto(st, side, fromQty, px, vals, 3))
      return PortfolioResult.OVERFLOW;
    vals[2] = vals[2]! - vals[3]!;
    return PortfolioResult.OK;
  }

  // ---------------------------------------------------------------- queries (no allocation)

  /** The position slot: BOTH in a netting account, LONG or SHORT in a hedging one; undefined otherwise. */
  position(instrumentId: InstrumentId, positionSide: PositionSide = PositionSide.BOTH): Position | undefined {
    const st = this.states[instrumentId];
    if (st === undefined) return undefined;
    return slotOf(st, positionSide) ?? undefined;
  }

  /** Net signed lots of an instrument (long + short in a hedging account). */
  netQty(instrumentId: InstrumentId): QtyLots {
    const st = this.states[instrumentId];
    if (st === undefined) return 0 as QtyLots;
    return (st.hedging ? st.long.qty + st.short.qty : st.net.qty) as QtyLots;
  }

  account(id: number): Account | undefined {
    return this.accounts[id];
  }

  accountForVenue(venue: string): Account | undefined {
    return this.accountByVenue.get(venue);
  }

  accountOf(instrumentId: InstrumentId): Account | undefined {
    return this.states[instrumentId]?.account;
  }

  get accountCount(): number {
    return this.accounts.length;
  }

  // Sums over accounts, per currency, with no FX conversion: a USDT figure is the USDT wallets of every
  // account added up; combining currencies is a report's job, given prices.

  /** Wallet balance, all accounts. */
  balance(c: CurrencyId): Money {
    return this.sum(c, 0);
  }

  locked(c: CurrencyId): Money {
    return this.sum(c, 1);
  }

  free(c: CurrencyId): Money {
    return this.sum(c, 2);
  }

  realisedPnl(c: CurrencyId): Money {
    return this.sum(c, 3);
  }

  /** Unrealised PnL of margin positions (spot PnL is already in the cash balances). */
  unrealisedPnl(c: CurrencyId): Money {
    return this.sum(c, 4);
  }

  /** Balance + unrealised PnL. */
  equity(c: CurrencyId): Money {
    return this.sum(c, 5);
  }

  fees(c: CurrencyId): Money {
    return this.sum(c, 6);
  }

  funding(c: CurrencyId): Money {
    return this.sum(c, 7);
  }

  /** Sum of |value at mark| of positions settling in `c`. */
  grossExposure(c: CurrencyId): Money {
    return this.sum(c, 8);
  }

  /** Sum of signed value at mark (long +, short -) of positions settling in `c`. */
  netExposure(c: CurrencyId): Money {
    return this.sum(c, 9);
  }

  private sum(c: number, what: number): Money {
    let s = 0;
    for (let i = 0; i < this.accounts.length; i++) {
      const a = this.accounts[i]!;
      if (c >= a.capacity) continue;
      switch (what) {
        case 0:
          s += a.totals[c]!;
          break;
        case 1:
          s += a.orderLocked[c]! + a.positionMargin[c]!;
          break;
        case 2:
          s += a.totals[c]! - a.orderLocked[c]! - a.positionMargin[c]!;
          break;
        case 3:
          s += a.realised[c]!;
          break;
        case 4:
          s += a.unrealised[c]!;
          break;
        case 5:
          s += a.totals[c]! + a.unrealised[c]!;
          break;
        case 6:
          s += a.fees[c]!;
          break;
        case 7:
          s += a.funding[c]!;
          break;
        case 8:
          s += a.grossExposure[c]!;
          break;
        default:
          s += a.netExposure[c]!;
      }
    }
    return s as Money;
  }

  // ---------------------------------------------------------------- reports (edge: allocates)

  /** Every account's balances and every position ever filled, as plain integers (money units, lots, ticks). */
  snapshot(): PortfolioSnapshot {
    const accounts: AccountSnapshot[] = this.accounts.map((a) => {
      const balances: BalanceSnapshot[] = [];
      for (let c = 0; c < a.capacity; c++) {
        if (a.used[c] === 0) continue;
        balances.push({
          currency: this.currencyCode(c),
          currencyId: c,
          total: a.totals[c]!,
          locked: a.orderLocked[c]! + a.positionMargin[c]!,
          free: a.totals[c]! - a.orderLocked[c]! - a.positionMargin[c]!,
          orderLocked: a.orderLocked[c]!,
          positionMargin: a.positionMargin[c]!,
          deposits: a.deposits[c]!,
          realised: a.realised[c]!,
          fees: a.fees[c]!,
          funding: a.funding[c]!,
          unrealised: a.unrealised[c]!,
          equity: a.totals[c]! + a.unrealised[c]!,
          grossExposure: a.grossExposure[c]!,
          netExposure: a.netExposure[c]!,
        });
      }
      return {
        id: a.id,
        venue: a.venue,
        type: accountTypeName(a.type),
        mode: positionModeName(a.mode),
        balances,
      };
    });
    const positions: PositionSnapshot[] = [];
    for (const st of this.states) {
      if (st === undefined) continue;
      for (const p of st.hedging ? [st.long, st.short] : [st.net]) {
        if (p.fills === 0 && p.funding === 0) continue;
        positions.push({
          accountId: p.accountId,
          instrumentId: p.instrumentId,
          symbol: p.instrument.key,
          side: positionSideName(p.side),
          settlement: this.currencyCode(p.settlementId),
          qty: p.qty,
          cost: p.cost,
          avgPx: Number.isNaN(p.avgPx) ? null : p.avgPx,
          realisedPnl: p.realisedPnl,
          fees: p.fees,
          funding: p.funding,
          fills: p.fills,
          openedTs: p.openedTs,
          closedTs: p.closedTs,
          lastTs: p.lastTs,
          peakQty: p.peakQty,
          markPx: Number.isNaN(p.markPx) ? null : p.markPx,
          value: p.value,
          unrealisedPnl: p.unrealisedPnl,
          exposure: p.exposure,
          margin: p.margin,
        });
      }
    }
    return { accounts, positions };
  }

  /** AccountListener: lock(), unlock(), deposit() on an account publish through here. */
  accountChanged(account: Account, currencyId: CurrencyId): void {
    if (this.bus === null) return;
    this.accountEvent.ts = account.lastTs;
    this.publishAccount(account, currencyId);
  }

  // ---------------------------------------------------------------- internals

  // Money and time reach the event records through their fields (set by the caller), never as arguments: V8
  // boxes a non-small-integer argument to a call it does not inline.
  private publishAccount(account: Account, currencyId: CurrencyId): void {
    const ev = this.accountEvent;
    ev.account = account;
    ev.currencyId = currencyId;
    this.bus!.publish(this.accountTopic!, ev);
  }

  private markState(st: InstrumentState, px: number): PortfolioResult {
    const calc = st.calc;
    const vals = this.vals;
    if (st.hedging) {
      const l = st.long;
      const s = st.short;
      if (!calc.compute(px, l.qty)) return PortfolioResult.OVERFLOW;
      vals[0] = calc.result;
      if (!calc.compute(px, 0 - s.qty)) return PortfolioResult.OVERFLOW;
      vals[1] = calc.result;
      revalue(l, px, st.leverage, st.account, vals, 0);
      revalue(s, px, st.leverage, st.account, vals, 1);
    } else {
      const p = st.net;
      if (!calc.compute(px, p.qty < 0 ? -p.qty : p.qty)) return PortfolioResult.OVERFLOW;
      vals[0] = calc.result;
      revalue(p, px, st.leverage, st.account, vals, 0);
    }
    st.markPx = px;
    return PortfolioResult.OK;
  }

  /** First sight of an instrument on the hot path: one allocation per instrument, never a throw. */
  private autoRegister(inst: Instrument): InstrumentState | undefined {
    const acct = this.accountByVenue.get(inst.venue);
    if (acct === undefined) return undefined;
    return this.createState(inst, acct, this.defaultLeverage);
  }

  private createState(inst: Instrument, acct: Account, leverage: number): InstrumentState {
    const st = new InstrumentState(inst, acct, leverage);
    while (this.states.length <= inst.id) this.states.push(undefined);
    this.states[inst.id] = st;
    if (st.unsupported === '') {
      for (const c of [inst.base, inst.quote, inst.settlement]) this.nameCurrency(c);
      if (acct.isMargin) acct.track(inst.settlement.id);
      else {
        acct.track(inst.base.id);
        acct.track(inst.quote.id);
      }
    }
    return st;
  }

  private nameCurrency(c: Currency): void {
    while (this.currencyNames.length <= c.id) this.currencyNames.push(undefined);
    this.currencyNames[c.id] = c;
  }

  private currencyCode(id: number): string {
    return this.currencyNames[id]?.code ?? this.registry?.byId(id as CurrencyId)?.code ?? `#${id}`;
  }
}

function slotOf(st: InstrumentState, side: number): Position | null {
  if (st.hedging) return side === PositionSide.LONG ? st.long : side === PositionSide.SHORT ? st.short : null;
  return side === PositionSide.BOTH ? st.net : null;
}

/** out[i] = the signed funding payment of one position (positive when it pays). False on overflow. */
function fundingInto(pos: Position, rate: number, out: Float64Array, i: number): boolean {
  if (pos.qty === 0 || rate === 0) {
    out[i] = 0;
    return true;
  }
  MD[0] = pos.value;
  MD[1] = rate < 0 ? -rate : rate;
  MD[2] = RATE_SCALE;
  if (!mulDivIo(Rounding.HALF_EVEN)) return false;
  // 0 - x, not -x: never -0
  out[i] = pos.qty > 0 === rate > 0 ? MD[3]! : 0 - MD[3]!;
  return true;
}

/** out[i] = what `qty` lots of an order at `px` reserve (see Portfolio.orderLockAmount). False on overflow. */
function lockAmountInto(
  st: InstrumentState,
  side: OrderSide,
  qty: number,
  px: number,
  out: Float64Array,
  i: number,
): boolean {
  if (qty === 0) {
    out[i] = 0;
    return true;
  }
  if (!st.account.isMargin && side === OrderSide.SELL) {
    const units = qty * st.baseUnitsPerLot;
    out[i] = units;
    return units <= MAX;
  }
  if (!st.calc.compute(px, qty)) return false;
  const n = st.calc.result;
  if (st.account.isMargin) {
    MD[0] = n;
    MD[1] = 1;
    MD[2] = st.leverage;
    if (!mulDivIo(Rounding.CEIL)) return false;
    out[i] = MD[3]!;
    return true;
  }
  if (st.feeReserveRate === 0) {
    out[i] = n;
    return true;
  }
  MD[0] = n;
  MD[1] = st.feeReserveRate;
  MD[2] = FEE_RATE_DENOMINATOR;
  if (!mulDivIo(Rounding.CEIL)) return false;
  const total = n + MD[3]!;
  out[i] = total;
  return total <= MAX;
}

function checkLeverage(lev: number, what: string): void {
  if (!Number.isInteger(lev) || lev < 1 || lev > MAX_LEVERAGE) {
    throw new Bot4Error(
      ErrorCode.INVALID_ARGUMENT,
      `${what} ${lev} must be a whole number from 1 to ${MAX_LEVERAGE}`,
      { leverage: lev },
    );
  }
}

export interface BalanceSnapshot {
  currency: string;
  currencyId: number;
  total: number;
  locked: number;
  free: number;
  orderLocked: number;
  positionMargin: number;
  deposits: number;
  realised: number;
  fees: number;
  funding: number;
  unrealised: number;
  equity: number;
  grossExposure: number;
  netExposure: number;
}

export interface AccountSnapshot {
  id: number;
  venue: string;
  type: string;
  mode: string;
  balances: BalanceSnapshot[];
}

export interface PositionSnapshot {
  accountId: number;
  instrumentId: number;
  symbol: string;
  side: string;
  settlement: string;
  qty: number;
  cost: number;
  /** null when flat. */
  avgPx: number | null;
  realisedPnl: number;
  fees: number;
  funding: number;
  fills: number;
  openedTs: number;
  closedTs: number;
  lastTs: number;
  peakQty: number;
  markPx: number | null;
  value: number;
  unrealisedPnl: number;
  exposure: number;
  margin: number;
}

export interface PortfolioSnapshot {
  accounts: AccountSnapshot[];
  positions: PositionSnapshot[];
}
