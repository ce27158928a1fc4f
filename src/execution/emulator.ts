// Holds orders whose type the venue lacks (stops, trailing stops, market/limit-if-touched) and releases them
// on market data, identically in backtest, paper and live. Triggers: a BUY stop fires when the price reaches
// the trigger from below (ask or trade >= trigger), a SELL stop from above (bid or trade <= trigger);
// if-touched orders the other way round. Trailing stops ratchet their trigger behind the best price seen.

import type { InstrumentId, PriceTicks } from '../core/units.ts';
import type { QuoteTick, TradeTick } from '../model/market-data.ts';
import { hasPrice, type Order, OrderSide, OrderType, TrailingOffsetType } from '../model/order.ts';

/** What the emulator asks of the engine: the engine owns the order events. */
export interface EmulatorActions {
  /** The trigger fired: the engine records TRIGGERED and releases the order to its venue. */
  release(order: Order, releasePrice: number): void;
  /** A trailing stop moved its trigger: the engine records UPDATED with the new trigger price. */
  trail(order: Order, newTrigger: number): void;
}

/** Fires when price >= trigger (buy stop, sell if-touched) or price <= trigger (sell stop, buy if-touched). */
function firesUp(order: Order): boolean {
  const stop = order.type !== OrderType.MARKET_IF_TOUCHED && order.type !== OrderType.LIMIT_IF_TOUCHED;
  return (order.side === OrderSide.BUY) === stop;
}

export class OrderEmulator {
  /** Held orders per instrument id. Small arrays: a strategy rarely holds more than a handful per instrument. */
  private readonly held: Order[][] = [];
  /**
   * Best price seen since a trailing order was held (peak for sells, trough for buys), parallel to `held`
   * (same instrument, same index), so memory follows the orders held, not the highest order id ever seen.
   */
  private readonly extreme: number[][] = [];
  /** Order id -> its index in its instrument's held list, so drop and isHeld need no search. */
  private readonly at = new Map<number, number>();
  private readonly actions: EmulatorActions;

  constructor(actions: EmulatorActions) {
    this.actions = actions;
  }

  hold(order: Order): void {
    if (this.isHeld(order)) return;
    const list = this.listFor(order.instrumentId);
    this.at.set(order.id, list.length);
    list.push(order);
    this.extreme[order.instrumentId]!.push(Number.NaN);
  }

  /** Stops holding the order (cancelled, expired, or released). Returns false if it was not held. O(1). */
  drop(order: Order): boolean {
    const i = this.indexOf(order);
    if (i < 0) return false;
    const list = this.held[order.instrumentId]!;
    const ext = this.extreme[order.instrumentId]!;
    const last = list[list.length - 1]!;
    list[i] = last;
    list.pop();
    ext[i] = ext[ext.length - 1]!;
    ext.pop();
    this.at.delete(order.id);
    if (last !== order) this.at.set(last.id, i);
    return true;
  }

  isHeld(order: Order): boolean {
    return this.indexOf(order) >= 0;
  }

  /** The order's index in its instrument's held list, -1 when this very order is not held. */
  private indexOf(order: Order): number {
    const i = this.at.get(order.id);
    if (i === undefined) return -1;
    return this.held[order.instrumentId]?.[i] === order ? i : -1;
  }

  heldCount(instrumentId: InstrumentId): number {
    return this.held[instrumentId]?.length ?? 0;
  }

  onQuote(q: QuoteTick): void {
    const list = this.held[q.instrumentId];
    if (list === undefined || list.length === 0) return;
    // Iterate backwards: a release removes the current element by swapping in the last one.
    for (let i = list.length - 1; i >= 0; i--) {
      const o = list[i];
      if (o === undefined) continue;
      // A buy trigger watches the ask (what it would pay), a sell trigger the bid.
      const px = o.side === OrderSide.BUY ? q.askPx : q.bidPx;
      if (px > 0) this.check(o, i, px);
    }
  }

  onTrade(t: TradeTick): void {
    const list = this.held[t.instrumentId];
    if (list === undefined || list.length === 0) return;
    for (let i = list.length - 1; i >= 0; i--) {
      const o = list[i];
      if (o !== undefined) this.check(o, i, t.px);
    }
  }

  /** `at`: the order's index in its instrument's held list. */
  private check(o: Order, at: number, px: PriceTicks): void {
    if (o.type === OrderType.TRAILING_STOP_MARKET || o.type === OrderType.TRAILING_STOP_LIMIT) {
      this.trailTo(o, at, px);
    }
    const trigger = o.triggerPrice;
    if (!hasPrice(trigger)) return;
    if (firesUp(o) ? px >= trigger : px <= trigger) {
      this.drop(o);
      this.actions.release(o, px);
    }
  }

  /** Ratchets a trailing stop's trigger: sells trail below the peak, buys above the trough; never loosens. */
  private trailTo(o: Order, at: number, px: number): void {
    const sell = o.side === OrderSide.SELL;
    const ext = this.extreme[o.instrumentId]!;
    const prev = ext[at]!;
    const best = Number.isNaN(prev) ? px : sell ? Math.max(prev, px) : Math.min(prev, px);
    ext[at] = best;
    const offset =
      o.trailingOffsetType === TrailingOffsetType.TICKS
        ? o.trailingOffset
        : // Basis points of the best price, rounded to whole ticks away from the market (never tighter).
          Math.ceil((best * o.trailingOffset) / 10_000);
    const candidate = sell ? best - offset : best + offset;
    const current = o.triggerPrice;
    const tighter = !hasPrice(current) || (sell ? candidate > current : candidate < current);
    if (tighter && candidate > 0) this.actions.trail(o, candidate);
  }

  private listFor(instrumentId: InstrumentId): Order[] {
    while (this.held.length <= instrumentId) {
      this.held.push([]);
      this.extreme.push([]);
    }
    return this.held[instrumentId]!;
  }
}
