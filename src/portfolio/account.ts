// Accounts: per-currency balances indexed by CurrencyId (typed arrays, grown on a currency's first sight).
// Invariants: free = total - locked, locked = orderLocked + positionMargin; every amount is an integer of
// money units (10^-precision of its currency), exact below 2^53, and a failed call changes nothing.

import { Bot4Error, ErrorCode } from '../core/errors.ts';
import type { Micros } from '../core/units.ts';
import type { CurrencyId, Money } from '../model/currency.ts';
import { isSafe } from './arith.ts';
import { PortfolioResult } from './result.ts';

/**
 * CASH (spot): every fill moves balances (quote notional, base quantity, fee in its currency).
 * MARGIN (derivatives): a balance moves only by realised PnL, fees and funding; positions and open orders
 * hold initial margin (value / leverage), which counts as locked.
 */
export const AccountType = { CASH: 0, MARGIN: 1 } as const;
export type AccountType = (typeof AccountType)[keyof typeof AccountType];
const TYPE_NAMES = ['CASH', 'MARGIN'] as const;
export function accountTypeName(t: number): string {
  return TYPE_NAMES[t] ?? `AccountType(${t})`;
}

/** NETTING: one signed position per instrument. HEDGING: a LONG and a SHORT position per instrument. */
export const PositionMode = { NETTING: 0, HEDGING: 1 } as const;
export type PositionMode = (typeof PositionMode)[keyof typeof PositionMode];
const MODE_NAMES = ['NETTING', 'HEDGING'] as const;
export function positionModeName(m: number): string {
  return MODE_NAMES[m] ?? `PositionMode(${m})`;
}

/** The money a fill moves (FillPlan carries them); fields, so that no money value is boxed on the way. */
export interface FillFlows {
  readonly quoteDelta: number;
  readonly baseDelta: number;
  readonly realised: number;
  readonly fee: number;
  readonly feeCurrency: number;
  readonly ts: Micros;
}

/**
 * Told when lock(), unlock() or deposit() changed a balance (the portfolio publishes it). Fills and funding
 * go through the portfolio, which publishes once the position is updated too.
 */
export interface AccountListener {
  accountChanged(account: Account, currencyId: CurrencyId): void;
}

const INITIAL_CURRENCIES = 32;
const MAX = Number.MAX_SAFE_INTEGER;

function isAmount(x: number): boolean {
  return Number.isSafeInteger(x) && x >= 0;
}

export class Account {
  readonly id: number;
  /** The venue whose instruments settle here (an instrument can also be assigned explicitly). */
  readonly venue: string;
  readonly type: AccountType;
  readonly mode: PositionMode;
  /** Wallet balance: deposits + realised PnL - fees - funding (margin), or the sum of fill flows (cash). */
  totals: Float64Array = new Float64Array(INITIAL_CURRENCIES);
  /** Reserved by open orders through lock()/unlock(). */
  orderLocked: Float64Array = new Float64Array(INITIAL_CURRENCIES);
  /** Initial margin of open positions (margin accounts), recomputed on each fill and mark. */
  positionMargin: Float64Array = new Float64Array(INITIAL_CURRENCIES);
  // Running sums per currency, for the accounting identity and reports. Realised PnL moves `totals` only in
  // a margin account; in a cash account it is the spot positions' PnL against their average cost, for show.
  realised: Float64Array = new Float64Array(INITIAL_CURRENCIES);
  fees: Float64Array = new Float64Array(INITIAL_CURRENCIES);
  /** Funding paid (positive) or received (negative). */
  funding: Float64Array = new Float64Array(INITIAL_CURRENCIES);
  /** Net deposits (initial balances included) minus withdrawals. */
  deposits: Float64Array = new Float64Array(INITIAL_CURRENCIES);
  /** Unrealised PnL of positions at their marks (margin accounts only: a cash account already holds the
   *  base asset in `totals`, so adding its PnL would count it twice). */
  unrealised: Float64Array = new Float64Array(INITIAL_CURRENCIES);
  /** Sum of |value at mark| and of signed value at mark of positions settling in each currency. */
  grossExposure: Float64Array = new Float64Array(INITIAL_CURRENCIES);
  netExposure: Float64Array = new Float64Array(INITIAL_CURRENCIES);
  /** 1 for a currency this account has ever touched (for snapshots). */
  used: Uint8Array = new Uint8Array(INITIAL_CURRENCIES);
  capacity = INITIAL_CURRENCIES;
  /** Event time of the last change. */
  lastTs = 0 as Micros;
  listener: AccountListener | null = null;
  private readonly amountReg = new Float64Array(1);

  constructor(id: number, venue: string, type: AccountType, mode: PositionMode) {
    if (type !== AccountType.CASH && type !== AccountType.MARGIN) {
      throw new Bot4Error(
        ErrorCode.INVALID_ARGUMENT,
        `account for ${venue}: type ${type} is not CASH or MARGIN`,
        {
          venue,
          type,
        },
      );
    }
    if (mode !== PositionMode.NETTING && mode !== PositionMode.HEDGING) {
      throw new Bot4Error(
        ErrorCode.INVALID_ARGUMENT,
        `account for ${venue}: mode ${mode} is not NETTING or HEDGING`,
        { venue, mode },
      );
    }
    if (type === AccountType.CASH && mode === PositionMode.HEDGING) {
      throw new Bot4Error(
        ErrorCode.INVALID_ARGUMENT,
        `account for ${venue}: a CASH (spot) account holds assets, not long and short positions; use NETTING`,
        { venue },
      );
    }
    this.id = id;
    this.venue = venue;
    this.type = type;
    this.mode = mode;
    // A double field from the start: the first micros timestamp would otherwise change the map mid-run.
    this.lastTs = 0.5 as Micros;
    this.lastTs = 0 as Micros;
  }

  get isMargin(): boolean {
    return this.type === AccountType.MARGIN;
  }

  total(c: CurrencyId): Money {
    return (c < this.capacity ? this.totals[c]! : 0) as Money;
  }

  locked(c: CurrencyId): Money {
    return (c < this.capacity ? this.orderLocked[c]! + this.positionMargin[c]! : 0) as Money;
  }

  free(c: CurrencyId): Money {
    return (
      c < this.capacity ? this.totals[c]! - this.orderLocked[c]! - this.positionMargin[c]! : 0
    ) as Money;
  }

  /** Wallet balance plus unrealised PnL (margin accounts); the balance itself for a cash account. */
  equity(c: CurrencyId): Money {
    return (c < this.capacity ? this.totals[c]! + this.unrealised[c]! : 0) as Money;
  }

  /** Margin used: initial margin of positions plus what open orders hold. */
  marginUsed(c: CurrencyId): Money {
    return this.locked(c);
  }

  /**
   * Reserves `amount` of currency `c` for an open order. INSUFFICIENT_FUNDS when it exceeds the free balance,
   * unless `force` (a venue already accepted the order; the books must follow it). Hot path, no allocation.
   */
  lock(c: CurrencyId, amount: Money | number, force = false): PortfolioResult {
    this.amountReg[0] = amount;
    return this.lockFrom(c, this.amountReg, 0, force);
  }

  /** Releases what lock() reserved (on fill, cancel, expiry, reject). LOCK_UNDERFLOW when more than locked. */
  unlock(c: CurrencyId, amount: Money | number): PortfolioResult {
    this.amountReg[0] = amount;
    return this.unlockFrom(c, this.amountReg, 0);
  }

  /** lock() with the amount in src[i], so that a money-sized amount reaches it unboxed (the portfolio's path). */
  lockFrom(c: CurrencyId, src: Float64Array, i: number, force = false): PortfolioResult {
    const amount = src[i]!;
    if (!isAmount(amount) || !(c >= 0) || !Number.isInteger(c)) return PortfolioResult.INVALID_AMOUNT;
    if (c >= this.capacity) this.ensure(c);
    const next = this.orderLocked[c]! + amount;
    if (next > MAX) return PortfolioResult.OVERFLOW;
    if (!force && amount > this.totals[c]! - this.orderLocked[c]! - this.positionMargin[c]!)
      return PortfolioResult.INSUFFICIENT_FUNDS;
    this.orderLocked[c] = next;
    this.used[c] = 1;
    if (this.listener !== null) this.listener.accountChanged(this, c);
    return PortfolioResult.OK;
  }

  /** unlock() with the amount in src[i]. */
  unlockFrom(c: CurrencyId, src: Float64Array, i: number): PortfolioResult {
    const amount = src[i]!;
    if (!isAmount(amount) || !(c >= 0) || !Number.isInteger(c)) return PortfolioResult.INVALID_AMOUNT;
    if (c >= this.capacity) return amount === 0 ? PortfolioResult.OK : PortfolioResult.LOCK_UNDERFLOW;
    if (amount > this.orderLocked[c]!) return PortfolioResult.LOCK_UNDERFLOW;
    this.orderLocked[c] = this.orderLocked[c]! - amount;
    if (this.listener !== null) this.listener.accountChanged(this, c);
    return PortfolioResult.OK;
  }

  /**
   * A spot fill's flows: f.quoteDelta (minus the notional on a buy, plus on a sell) and f.baseDelta (plus the
   * quantity in base units on a buy, minus on a sell), then f.fee debited from f.feeCurrency. Checks every new
   * figure before writing any: OVERFLOW leaves the account as it was. The caller ensured feeCurrency's room.
   */
  applyCashFill(quote: CurrencyId, base: CurrencyId, f: FillFlows): PortfolioResult {
    const fee = f.fee;
    const feeCurrency = f.feeCurrency;
    let dq = f.quoteDelta;
    let db = f.baseDelta;
    let other = false;
    if (fee !== 0) {
      if (feeCurrency === quote) dq -= fee;
      else if (feeCurrency === base) db -= fee;
      else other = true;
    }
    const t = this.totals;
    const nq = t[quote]! + dq;
    const nb = t[base]! + db;
    const nFee = fee === 0 ? 0 : this.fees[feeCurrency]! + fee;
    const nOther = other ? t[feeCurrency]! - fee : 0;
    const nReal = this.realised[quote]! + f.realised;
    if (!isSafe(nq) || !isSafe(nb) || !isSafe(nFee) || !isSafe(nOther) || !isSafe(nReal))
      return PortfolioResult.OVERFLOW;
    t[quote] = nq;
    t[base] = nb;
    this.realised[quote] = nReal;
    if (fee !== 0) {
      this.fees[feeCurrency] = nFee;
      this.used[feeCurrency] = 1;
      if (other) t[feeCurrency] = nOther;
    }
    this.lastTs = f.ts;
    return PortfolioResult.OK;
  }

  /**
   * A derivative fill: the settlement balance moves by f.realised, and f.fee is debited from its own currency
   * (the settlement currency, or e.g. BNB). Checks before writing: OVERFLOW changes nothing.
   */
  applyMarginFill(settlement: CurrencyId, f: FillFlows): PortfolioResult {
    const fee = f.fee;
    const feeCurrency = f.feeCurrency;
    let ds = f.realised;
    const other = fee !== 0 && feeCurrency !== settlement;
    if (fee !== 0 && !other) ds -= fee;
    const t = this.totals;
    const ns = t[settlement]! + ds;
    const nReal = this.realised[settlement]! + f.realised;
    const nFee = fee === 0 ? 0 : this.fees[feeCurrency]! + fee;
    const nOther = other ? t[feeCurrency]! - fee : 0;
    if (!isSafe(ns) || !isSafe(nReal) || !isSafe(nFee) || !isSafe(nOther)) return PortfolioResult.OVERFLOW;
    t[settlement] = ns;
    this.realised[settlement] = nReal;
    if (fee !== 0) {
      this.fees[feeCurrency] = nFee;
      this.used[feeCurrency] = 1;
      if (other) t[feeCurrency] = nOther;
    }
    this.lastTs = f.ts;
    return PortfolioResult.OK;
  }

  /** A funding payment (positive: paid) in the settlement currency. OVERFLOW changes nothing. */
  applyFunding(settlement: CurrencyId, payment: number, ts: Micros): PortfolioResult {
    const nt = this.totals[settlement]! - payment;
    const nf = this.funding[settlement]! + payment;
    if (!isSafe(nt) || !isSafe(nf)) return PortfolioResult.OVERFLOW;
    this.totals[settlement] = nt;
    this.funding[settlement] = nf;
    this.lastTs = ts;
    return PortfolioResult.OK;
  }

  /** Edge: adds (or, negative, withdraws) `amount` to the balance and to `deposits`. Throws on bad input. */
  deposit(c: CurrencyId, amount: Money | number, ts: Micros | number = this.lastTs): void {
    if (!Number.isSafeInteger(amount) || !Number.isSafeInteger(c) || c < 0) {
      throw new Bot4Error(
        ErrorCode.INVALID_ARGUMENT,
        `account ${this.id} (${this.venue}): deposit of ${amount} units to currency id ${c}: amount and id must be safe integers (id >= 0)`,
        { account: this.id, currencyId: c, amount },
      );
    }
    this.ensure(c);
    const next = this.totals[c]! + amount;
    if (!isSafe(next)) {
      throw new Bot4Error(
        ErrorCode.NUMERIC_OVERFLOW,
        `account ${this.id} (${this.venue}): balance of currency id ${c} would pass 2^53-1 units`,
        { account: this.id, currencyId: c, amount },
      );
    }
    this.totals[c] = next;
    this.deposits[c] = this.deposits[c]! + amount;
    this.used[c] = 1;
    this.lastTs = ts as Micros;
    if (this.listener !== null) this.listener.accountChanged(this, c);
  }

  /** Edge: makes room for currency `c` and lists it in snapshots (the portfolio calls it at registration). */
  track(c: CurrencyId): void {
    this.ensure(c);
    this.used[c] = 1;
  }

  /**
   * Makes room for currency id `c`. Allocates (new typed arrays) the first time a currency id beyond the
   * capacity appears, doubling, so it happens a handful of times per process, never per event.
   */
  ensure(c: number): void {
    if (c < this.capacity) return;
    let cap = this.capacity;
    while (cap <= c) cap *= 2;
    this.totals = grow(this.totals, cap);
    this.orderLocked = grow(this.orderLocked, cap);
    this.positionMargin = grow(this.positionMargin, cap);
    this.realised = grow(this.realised, cap);
    this.fees = grow(this.fees, cap);
    this.funding = grow(this.funding, cap);
    this.deposits = grow(this.deposits, cap);
    this.unrealised = grow(this.unrealised, cap);
    this.grossExposure = grow(this.grossExposure, cap);
    this.netExposure = grow(this.netExposure, cap);
    const used = new Uint8Array(cap);
    used.set(this.used);
    this.used = used;
    this.capacity = cap;
  }
}

function grow(a: Float64Array, cap: number): Float64Array {
  const b = new Float64Array(cap);
  b.set(a);
  return b;
}
