import { describe, expect, it } from 'vitest';
import type { InstrumentId, OrderId, PriceTicks } from '../core/units.ts';
import { TradeTick } from '../model/market-data.ts';
import { Order, OrderSide, OrderType } from '../model/order.ts';
import { OrderEmulator } from './emulator.ts';

function stop(id: number, instrumentId: number, trigger: number): Order {
  const o = new Order();
  o.id = id as OrderId;
  o.instrumentId = instrumentId as InstrumentId;
  o.side = OrderSide.BUY;
  o.type = OrderType.STOP_MARKET;
  o.triggerPrice = trigger as PriceTicks;
  return o;
}

describe('OrderEmulator: held orders', () => {
  it('drops any held order (swap-remove keeps the others findable), and only the very order held', () => {
    const released: number[] = [];
    const em = new OrderEmulator({ release: (o) => released.push(o.id), trail: () => {} });
    const a = stop(1, 0, 110);
    const b = stop(2, 0, 120);
    const c = stop(3, 0, 130);
    const d = stop(4, 1, 100);
    for (const o of [a, b, c, d]) em.hold(o);
    em.hold(b); // holding twice is one hold
    expect(em.heldCount(0 as InstrumentId)).toBe(3);
    expect(em.isHeld(stop(2, 0, 120))).toBe(false); // another object with the same id is not held
    expect(em.drop(a)).toBe(true);
    expect(em.drop(a)).toBe(false);
    expect([em.isHeld(a), em.isHeld(b), em.isHeld(c), em.isHeld(d)]).toEqual([false, true, true, true]);
    expect(em.drop(c)).toBe(true);
    expect(em.isHeld(b)).toBe(true);
    const t = new TradeTick();
    t.instrumentId = 0 as InstrumentId;
    t.px = 125 as PriceTicks;
    em.onTrade(t);
    expect(released).toEqual([2]);
    expect(em.heldCount(0 as InstrumentId)).toBe(0);
    expect(em.isHeld(d)).toBe(true);
  });
});
