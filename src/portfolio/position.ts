// Positions per (account, instrument, side): signed lots, an exact cost basis and realised PnL that telescopes,
// so a position back at flat has realised exactly the sum of its fills' cash flows (no residue, no drift).
// Units: qty in lots (+ long, - short); cost, PnL, fees, funding, value in money units of the settlement currency.

import type { InstrumentId, Micros, PriceTicks, QtyLots } from '../core/units.ts';
import type { CurrencyId, Money } from '../model/currency.ts';
import { Rounding } from '../model/decimal.ts';
import type { Instrument } from '../model/instrument.ts';
import type { Account } from './account.ts';
import { isSafe, MD, mulDivIo, type ValueCalc } from './arith.ts';
import { PortfolioResult } from './result.ts';

/**
 * Which position a fill belongs to. Netting accounts have one position per instrument (BOTH). Hedging accounts
 * have a LONG and a SHORT position per instrument, and the caller says which one each fill is for (Binance's
 * positionSide): BUY opens or adds to LONG and closes SHORT; SELL opens or adds to SHORT and closes LONG.
 * A hedging fill that would take a side through zero is refused (EXCEEDS_POSITION), as the venue does.
 */
export const PositionSide = { BOTH: 0, LONG: 1, SHORT: 2 } as const;
export type PositionSide = (typeof PositionSide)[keyof typeof PositionSide];
const SIDE_NAMES = ['BOTH', 'LONG', 'SHORT'] as const;
export function positionSideName(s: number): string {
  return SIDE_NAMES[s] ?? `PositionSide(${s})`;
}

/** What a fill (or funding) did to a position, as published on the position topic. */
export const PositionEventKind = { OPENED: 1, CHANGED: 2, CLOSED: 3, FLIPPED: 4, FUNDING: 5 } as const;
export type PositionEventKind = (typeof PositionEventKind)[keyof typeof PositionEventKind];
const KIND_NAMES = ['', 'OPENED', 'CHANGED', 'CLOSED', 'FLIPPED', 'FUNDING'] as const;
export function positionEventKindName(k: number): string {
  return KIND_NAMES[k] || `PositionEventKind(${k})`;
}

const MAX = Number.MAX_SAFE_INTEGER;

/**
 * V8 gives a field first set to 0 the small-integer representation; the first value past 2^31 (a timestamp in
 * micros, a balance in 1e-8 units) then changes the object's map and deoptimises every function that touched
 * it, possibly hours into a run (measured: a burst of deopts and allocation half a million fills in). Writing
 * a non-integer first makes such fields doubles from construction; the constructors then set them back to 0.
 */
export const AS_DOUBLE = 0.5;

/**
 * One position slot. It lives as long as the portfolio: realised PnL, fees, funding and the fill count add up
 * over every open-close cycle of the slot; openedTs and peakQty describe the current cycle, closedTs the last
 * time it went flat. The cost basis is the entry value of the open quantity in settlement money units: the sum
 * of each opening fill's notional (rounded once, by the instrument, as the fill's cash flow is), less what
 * reductions removed. Keeping it in money rather than ticks x lots makes linear and inverse contracts alike
 * and keeps the close-out identity exact even when an instrument's notional is rounded.
 */
export class Position {
  readonly instrument: Instrument;
  readonly instrumentId: InstrumentId = 0 as InstrumentId;
  readonly accountId: number = 0;
  readonly side: PositionSide = PositionSide.BOTH;
  readonly settlementId: CurrencyId = 0 as CurrencyId;
  readonly isInverse: boolean = false;
  /** Signed lots: positive long, negative short. */
  qty = 0 as QtyLots;
  /** Entry value of the open quantity, >= 0; 0 when flat. */
  cost = 0 as Money;
  /** Realised PnL over the slot's life, and the part the last fill realised. */
  realisedPnl = 0 as Money;
  lastRealised = 0 as Money;
  /** Fees paid in the settlement currency (fees in another currency, e.g. BNB, are on the account only). */
  fees = 0 as Money;
  /** Funding paid (positive) or received (negative). */
  funding = 0 as Money;
  fills = 0;
  openedTs = 0 as Micros;
  closedTs = 0 as Micros;
  lastTs = 0 as Micros;
  /** Largest |qty| in the current cycle. */
  peakQty = 0 as QtyLots;
  /** Price of the last revaluation (mark, or fill price), NaN before any. */
  markPx = Number.NaN as PriceTicks;
  /** |qty| valued at markPx (Instrument.notional), >= 0. */
  value = 0 as Money;
  unrealisedPnl = 0 as Money;
  /** Signed value at mark: + long, - short. */
  exposure = 0 as Money;
  /** Initial margin: ceil(value / leverage) in a margin account, 0 in a cash account. */
  margin = 0 as Money;
  // avgPx from cost: linear cost = avgPx * |qty| * f; inverse cost = |qty| * f / avgPx. Display only.
  private readonly pxFactor: number = 0;

  constructor(instrument: Instrument, accountId: number, side: PositionSide) {
    this.instrument = instrument;
    this.instrumentId = instrument.id;
    this.accountId = accountId;
    this.side = side;
    this.settlementId = instrument.settlement.id;
    this.isInverse = instrument.isInverse;
    const t = instrument.tickSize;
    const l = instrument.lotSize;
    const m = instrument.multiplier;
    const p = instrument.settlement.precision;
    this.pxFactor = instrument.isInverse
      ? (l.units * m.units * 10 ** (p - l.scale - m.scale + t.scale)) / t.units
      : t.units * l.units * m.units * 10 ** (p - t.scale - l.scale - m.scale);
    this.setMoney(AS_DOUBLE);
    this.setMoney(0);
  }

  private setMoney(x: number): void {
    this.cost = x as Money;
    this.realisedPnl = x as Money;
    this.lastRealised = x as Money;
    this.fees = x as Money;
    this.funding = x as Money;
    this.openedTs = x as Micros;
    this.closedTs = x as Micros;
    this.lastTs = x as Micros;
    this.value = x as Money;
    this.unrealisedPnl = x as Money;
    this.exposure = x as Money;
    this.margin = x as Money;
  }

  /** Average entry price in ticks (a double: rarely on the grid; harmonic for inverse). NaN when flat. */
  get avgPx(): number {
    const q = this.qty < 0 ? -this.qty : this.qty;
    if (q === 0) return Number.NaN;
    return this.isInverse ? (q * this.pxFactor) / this.cost : this.cost / (q * this.pxFactor);
  }

  get isFlat(): boolean {
    return this.qty === 0;
  }
}

/**
 * One fill on its way in: the inputs, then the outcome planned before anything changes (so that a failure
 * leaves everything untouched), then the balance flows for the account. Reused for every fill; its fields
 * carry money-sized values between functions without boxing them.
 */
export class FillPlan {
  buy = false;
  qty = 0;
  px = 0;
  /** Fee in money units of feeCurrency (negative: rebate); feeCurrency -1 when the fee is 0. */
  fee = 0;
  feeCurrency = -1;
  ts = 0 as Micros;
  positionSide: PositionSide = PositionSide.BOTH;
  /** Instrument value of the fill, settlement units. */
  notional = 0;
  newQty = 0;
  newCost = 0;
  /** PnL realised by the reducing part of the fill (0 when it only opens or adds). */
  realised = 0;
  /** Lots of the fill that reduced the position; the rest opened or added. */
  closeQty = 0;
  /** Cash accounts: quote and base balance changes before the fee. */
  quoteDelta = 0;
  baseDelta = 0;

  constructor() {
    this.setMoney(AS_DOUBLE);
    this.setMoney(0);
  }

  private setMoney(x: number): void {
    this.fee = x;
    this.ts = x as Micros;
    this.notional = x;
    this.newCost = x;
    this.realised = x;
    this.quoteDelta = x;
    this.baseDelta = x;
  }
}

/**
 * Plans the fill in `plan` (qty > 0 lots at px, whose value is plan.notional) on `pos`. Reducing q of |Q| lots
 * removes round_half_even(cost * q / |Q|) of cost (all of it when q = |Q|, so no residue survives a close),
 * and realises, for a long linear (or a short inverse) position, exitValue - removedCost, and the opposite
 * for the other two. Inverse contracts need no special formula: their notional is contracts x multiplier /
 * price in base currency, so entry value - exit value is contracts x multiplier x (1/entry - 1/exit).
 * A fill through zero closes the old position at notional(px, |Q|) and opens the rest at the remainder of
 * the fill's notional, so the two parts add up to the fill's own cash flow exactly.
 */
export function planFill(pos: Position, calc: ValueCalc, plan: FillPlan): PortfolioResult {
  const buy = plan.buy;
  const qty = plan.qty;
  const notional = plan.notional;
  const cur = pos.qty;
  const newQty = buy ? cur + qty : cur - qty;
  if (!isSafe(newQty)) return PortfolioResult.OVERFLOW;
  if (pos.side === PositionSide.LONG ? newQty < 0 : pos.side === PositionSide.SHORT && newQty > 0)
    return PortfolioResult.EXCEEDS_POSITION;
  if (cur === 0 || cur > 0 === buy) {
    const newCost = pos.cost + notional;
    if (newCost > MAX) return PortfolioResult.OVERFLOW;
    plan.newQty = newQty;
    plan.newCost = newCost;
    plan.realised = 0;
    plan.closeQty = 0;
    return PortfolioResult.OK;
  }
  const absCur = cur < 0 ? -cur : cur;
  const closeQty = Math.min(qty, absCur);
  let removed: number = pos.cost;
  if (closeQty !== absCur) {
    MD[0] = pos.cost;
    MD[1] = closeQty;
    MD[2] = absCur;
    if (!mulDivIo(Rounding.HALF_EVEN)) return PortfolioResult.OVERFLOW;
    removed = MD[3]!;
  }
  let exitValue: number = notional;
  if (closeQty !== qty) {
    if (!calc.compute(plan.px, closeQty)) return PortfolioResult.OVERFLOW;
    exitValue = calc.result;
  }
  const realised = cur > 0 !== pos.isInverse ? exitValue - removed : removed - exitValue;
  if (!isSafe(pos.realisedPnl + realised)) return PortfolioResult.OVERFLOW;
  plan.newQty = newQty;
  plan.newCost = pos.cost - removed + (notional - exitValue);
  plan.realised = realised;
  plan.closeQty = closeQty;
  return PortfolioResult.OK;
}

/** Writes a successful plan into the position. Returns what happened (OPENED, CHANGED, CLOSED, FLIPPED). */
export function commitFill(pos: Position, plan: FillPlan): PositionEventKind {
  const ts = plan.ts;
  const was = pos.qty;
  const now = plan.newQty;
  pos.qty = now as QtyLots;
  pos.cost = plan.newCost as Money;
  pos.realisedPnl = (pos.realisedPnl + plan.realised) as Money;
  pos.lastRealised = plan.realised as Money;
  pos.fills++;
  pos.lastTs = ts;
  const abs = (now < 0 ? -now : now) as QtyLots;
  if (now === 0) {
    pos.closedTs = ts;
    return PositionEventKind.CLOSED;
  }
  if (was === 0 || was > 0 !== now > 0) {
    if (was !== 0) pos.closedTs = ts;
    pos.openedTs = ts;
    pos.peakQty = abs;
    return was === 0 ? PositionEventKind.OPENED : PositionEventKind.FLIPPED;
  }
  if (abs > pos.peakQty) pos.peakQty = abs;
  return PositionEventKind.CHANGED;
}

/**
 * Sets the position's valuation from values[i] (= its |qty| valued at markPx, computed and checked by the
 * caller) and adds the differences to the account's per-currency sums. Margin is ceil(value / leverage):
 * rounded up, so the margin held never falls short of the venue's figure by rounding.
 */
export function revalue(
  pos: Position,
  markPx: number,
  leverage: number,
  account: Account,
  values: Float64Array,
  i: number,
): void {
  const value = values[i]!;
  const q = pos.qty;
  const u = q === 0 ? 0 : q > 0 !== pos.isInverse ? value - pos.cost : pos.cost - value;
  // 0 - x, not -x: a short valued at 0 must not carry -0 into the sums and snapshots.
  const e = q >= 0 ? value : 0 - value;
  const isMargin = account.isMargin;
  let m = 0;
  if (isMargin && value !== 0) {
    if (value + leverage <= MAX) {
      m = Math.trunc(value / leverage);
      let r = value - m * leverage;
      if (r < 0) {
        m -= 1;
        r += leverage;
      }
      if (r > 0) m += 1;
    } else {
      const r = value % leverage;
      m = (value - r) / leverage + (r > 0 ? 1 : 0);
    }
  }
  const c = pos.settlementId;
  account.positionMargin[c] = account.positionMargin[c]! + (m - pos.margin);
  if (isMargin) account.unrealised[c] = account.unrealised[c]! + (u - pos.unrealisedPnl);
  account.grossExposure[c] = account.grossExposure[c]! + (value - pos.value);
  account.netExposure[c] = account.netExposure[c]! + (e - pos.exposure);
  pos.markPx = markPx as PriceTicks;
  pos.value = value as Money;
  pos.unrealisedPnl = u as Money;
  pos.exposure = e as Money;
  pos.margin = m as Money;
}

/**
 * Published on the position topic after a fill or a funding payment. One preallocated record, reused: read it
 * inside the handler (the live Position is `position`), copy what you keep. A handler that applies another
 * fill synchronously overwrites it for the handlers after it; defer such work (the engine's queue) instead.
 */
export class PositionEvent {
  kind: PositionEventKind = PositionEventKind.CHANGED;
  position: Position | null = null;
  /** Signed lots of the fill (+ buy, - sell), 0 for funding. */
  fillQty = 0;
  fillPx = 0 as PriceTicks;
  /** PnL realised by this fill, or the funding paid (positive) for FUNDING. */
  amount = 0 as Money;
  ts = 0 as Micros;

  constructor() {
    this.amount = AS_DOUBLE as Money;
    this.ts = AS_DOUBLE as Micros;
    this.amount = 0 as Money;
    this.ts = 0 as Micros;
  }
}
