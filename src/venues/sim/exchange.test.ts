import { describe, expect, it } from 'vitest';
import type { Micros } from '../../core/units.ts';
import { typeMask } from '../../execution/venue.ts';
import { LiquiditySide } from '../../model/instrument.ts';
import { DeltaFlag, EventBatch, RecordKind, Side } from '../../model/market-data.ts';
import { OrderFlags, OrderSide, OrderType, TimeInForce } from '../../model/order.ts';
import { OrderEventKind } from '../../model/order-state.ts';
import { L1Remainder, QueueModel, SimReason } from './exchange.ts';
import { makeSim, PX, T0 } from './test-kit.ts';

const K = OrderEventKind;
const SELL = OrderSide.SELL;
const { MARKET, LIMIT } = OrderType;

/** A book of bids below PX and asks from PX up. */
function l2(k: ReturnType<typeof makeSim>) {
  k.book(
    0,
    [
      [PX - 10, 5],
      [PX - 20, 8],
    ],
    [
      [PX, 5],
      [PX + 1, 3],
      [PX + 3, 10],
    ],
  );
}

describe('SimulatedExchange: L2 taking', () => {
  it('walks the book for a market order: a fill per level, VWAP exact, taker fees on each fill', () => {
    const k = makeSim();
    l2(k);
    const o = k.send({ type: MARKET, qty: 12 });
    k.at(0);
    expect(k.sink.kinds(o.id)).toEqual(['ACCEPTED', 'FILLED', 'FILLED', 'FILLED']);
    expect(k.sink.fillPairs(o.id)).toEqual([
      [5, PX],
      [3, PX + 1],
      [4, PX + 3],
    ]);
    const fills = k.sink.fills(o.id);
    const vwap = fills.reduce((s, e) => s + e.fillQty * e.fillPx, 0) / 12;
    expect(vwap).toBe((5 * PX + 3 * (PX + 1) + 4 * (PX + 3)) / 12);
    for (const f of fills) {
      expect(f.liquidity).toBe(LiquiditySide.TAKER);
      expect(f.fee).toBe(k.btc.tryFee(f.fillPx, f.fillQty, LiquiditySide.TAKER));
      expect(f.feeCurrencyId).toBe(k.btc.settlement.id);
      expect(f.tradeId).toMatch(/^SIM-\d+$/);
      expect(f.venueOrderId).not.toBe('');
    }
    // 5 lots (0.005 BTC) at 60,000 USDT, 5 bp taker: 0.15 USDT.
    expect(fills[0]!.fee).toBe(k.btc.tryFee(PX, 5, LiquiditySide.TAKER));
    expect(k.sim.position(k.btc.id)).toBe(12);
  });

  it('FOK: expires without a fill when the book cannot fill it in full, fills when it can', () => {
    const k = makeSim();
    l2(k);
    const tooBig = k.send({ qty: 9, price: PX + 1, tif: TimeInForce.FOK });
    k.at(0);
    expect(k.sink.kinds(tooBig.id)).toEqual(['ACCEPTED', 'EXPIRED']);
    expect(k.sink.of(tooBig.id)[1]!.reasonCode).toBe(SimReason.FOK_NOT_FILLABLE);
    expect(k.sink.of(tooBig.id)[1]!.reason).toMatch(/FOK/);
    const ok = k.send({ qty: 8, price: PX + 1, tif: TimeInForce.FOK });
    k.at(0);
    expect(k.sink.fillPairs(ok.id)).toEqual([
      [5, PX],
      [3, PX + 1],
    ]);
  });

  it('IOC: takes what its limit allows and expires the rest', () => {
    const k = makeSim();
    l2(k);
    const o = k.send({ qty: 10, price: PX + 1, tif: TimeInForce.IOC });
    k.at(0);
    expect(k.sink.kinds(o.id)).toEqual(['ACCEPTED', 'FILLED', 'FILLED', 'EXPIRED']);
    expect(k.sink.filledQty(o.id)).toBe(8);
    expect(k.sink.of(o.id)[3]!.reasonCode).toBe(SimReason.IOC_REMAINDER);
  });

  it('a marketable GTC limit takes up to its price and rests the remainder behind the displayed size', () => {
    const k = makeSim();
    l2(k);
    const o = k.send({ qty: 10, price: PX + 1 });
    k.at(0);
    expect(k.sink.filledQty(o.id)).toBe(8);
    expect(k.sim.queueAhead(o.id)).toBe(0); // no market bid at PX + 1
    const sell = k.send({ side: SELL, qty: 4, price: PX - 10 });
    k.at(0);
    expect(k.sink.fillPairs(sell.id)).toEqual([[4, PX - 10]]);
  });

  it('a MARKET remainder expires when the book runs out (Binance reports EXPIRED)', () => {
    const k = makeSim();
    l2(k);
    const o = k.send({ type: MARKET, qty: 30 });
    k.at(0);
    expect(k.sink.filledQty(o.id)).toBe(18);
    expect(k.sink.kinds(o.id).at(-1)).toBe('EXPIRED');
    expect(k.sink.of(o.id).at(-1)!.reasonCode).toBe(SimReason.NO_LIQUIDITY);
  });

  it('never offers the same displayed size twice to our own orders', () => {
    const k = makeSim();
    l2(k);
    const a = k.send({ type: MARKET, qty: 4 });
    const b = k.send({ type: MARKET, qty: 4 });
    k.at(0);
    expect(k.sink.fillPairs(a.id)).toEqual([[4, PX]]);
    expect(k.sink.fillPairs(b.id)).toEqual([
      [1, PX],
      [3, PX + 1],
    ]);
    // The same size again, and a smaller one, offer nothing new; a larger one offers only the increase.
    k.delta(1, Side.SELL, PX, 5);
    k.delta(2, Side.SELL, PX, 4);
    const c = k.send({ qty: 2, price: PX, tif: TimeInForce.IOC });
    k.at(2);
    expect(k.sink.filledQty(c.id)).toBe(0);
    k.delta(3, Side.SELL, PX, 6);
    const d = k.send({ qty: 5, price: PX, tif: TimeInForce.IOC });
    k.at(3);
    expect(k.sink.fillPairs(d.id)).toEqual([[2, PX]]);
    // A market trade of 4 at the level takes its front: 4 of the 6 we had taken. The level then shows 5:
    // the 2 we took are still in it, so 3 are new sellers.
    k.trade(4, PX, 4, Side.BUY);
    k.delta(4, Side.SELL, PX, 5);
    const e = k.send({ qty: 5, price: PX, tif: TimeInForce.IOC });
    k.at(4);
    expect(k.sink.fillPairs(e.id)).toEqual([[3, PX]]);
  });

  it('rejects a post-only order that would take, and rests one that would not', () => {
    const k = makeSim();
    l2(k);
    const bad = k.send({ qty: 1, price: PX, flags: OrderFlags.POST_ONLY });
    const good = k.send({ qty: 1, price: PX - 1, flags: OrderFlags.POST_ONLY });
    k.at(0);
    expect(k.sink.kinds(bad.id)).toEqual(['REJECTED']);
    expect(k.sink.of(bad.id)[0]!.reasonCode).toBe(SimReason.POST_ONLY_WOULD_TAKE);
    expect(k.sink.of(bad.id)[0]!.reason).toMatch(/post-only/);
    expect(k.sink.kinds(good.id)).toEqual(['ACCEPTED']);
    expect(k.sim.queueAhead(good.id)).toBe(0);
  });
});

describe('SimulatedExchange: L1 taking (quotes only)', () => {
  it('NEXT_QUOTE: takes the displayed best, the rest waits for the next quotes', () => {
    const k = makeSim();
    k.quote(0, PX - 1, 4, PX, 5);
    const o = k.send({ type: MARKET, qty: 8 });
    k.at(0);
    expect(k.sink.fillPairs(o.id)).toEqual([[5, PX]]);
    k.quote(10, PX, 2, PX + 2, 2);
    k.quote(20, PX, 2, PX + 2, 7);
    expect(k.sink.fillPairs(o.id)).toEqual([
      [5, PX],
      [2, PX + 2],
      [1, PX + 2],
    ]);
    expect(k.sink.of(o.id).at(-1)!.tsEvent).toBe(T0 + 20);
  });

  it('SLIPPAGE: fills the remainder at once, slippageTicks beyond the best, never beyond the limit', () => {
    const k = makeSim({ l1Remainder: L1Remainder.SLIPPAGE, slippageTicks: 2 });
    k.quote(0, PX - 1, 4, PX, 5);
    const m = k.send({ type: MARKET, qty: 8 });
    const l = k.send({ qty: 3, price: PX + 1 });
    k.at(0);
    expect(k.sink.fillPairs(m.id)).toEqual([
      [5, PX],
      [3, PX + 2],
    ]);
    // The best is used up by the market order: the limit fills at best + 2 capped at its price.
    expect(k.sink.fillPairs(l.id)).toEqual([[3, PX + 1]]);
  });

  it('a limit remainder keeps taking while marketable, then rests at its price', () => {
    const k = makeSim();
    k.quote(0, PX - 1, 4, PX, 2);
    const o = k.send({ qty: 6, price: PX + 1 });
    k.at(0);
    k.quote(1, PX - 1, 4, PX + 1, 1);
    k.quote(2, PX - 1, 4, PX + 2, 9);
    expect(k.sink.fillPairs(o.id)).toEqual([
      [2, PX],
      [1, PX + 1],
    ]);
    expect(k.sim.queueAhead(o.id)).toBe(0);
    // Resting now: an ask crossing down to it fills it as maker at its own price.
    k.quote(3, PX - 1, 4, PX, 10);
    const last = k.sink.fills(o.id).at(-1)!;
    expect([last.fillQty, last.fillPx, last.liquidity]).toEqual([3, PX + 1, LiquiditySide.MAKER]);
  });

  it('L1 queue: behind the best the position is unknown until a quote shows the price', () => {
    const k = makeSim();
    k.quote(0, PX - 1, 4, PX, 2);
    const o = k.send({ qty: 1, price: PX - 5 });
    k.at(0);
    expect(k.sim.queueAhead(o.id)).toBe(-1);
    // A trade at its price while unknown fills nothing (the queue ahead may have taken it all).
    k.trade(1, PX - 5, 3, Side.SELL);
    expect(k.sink.filledQty(o.id)).toBe(0);
    k.quote(2, PX - 5, 7, PX - 4, 1);
    expect(k.sim.queueAhead(o.id)).toBe(7);
  });
});

describe('SimulatedExchange: resting orders, queue position', () => {
  it('a trade through the price fills from the trade size, as maker at the order price', () => {
    const k = makeSim();
    l2(k);
    const o = k.send({ qty: 4, price: PX - 10 });
    k.at(0);
    expect(k.sim.queueAhead(o.id)).toBe(5);
    k.trade(1, PX - 11, 3, Side.SELL);
    expect(k.sink.fillPairs(o.id)).toEqual([[3, PX - 10]]);
    const f = k.sink.fills(o.id)[0]!;
    expect(f.liquidity).toBe(LiquiditySide.MAKER);
    expect(f.fee).toBe(k.btc.tryFee(PX - 10, 3, LiquiditySide.MAKER));
    k.trade(2, PX - 12, 5, Side.SELL);
    expect(k.sink.filledQty(o.id)).toBe(4);
    expect(k.sink.kinds(o.id)).toEqual(['ACCEPTED', 'FILLED', 'FILLED']);
    expect(k.sim.openOrders).toBe(0);
  });

  it('a limit behind 5 lots at its price fills only after 5 lots traded there', () => {
    const k = makeSim();
    l2(k);
    const o = k.send({ qty: 3, price: PX - 10 });
    k.at(0);
    expect(k.sim.queueAhead(o.id)).toBe(5);
    k.trade(1, PX - 10, 4, Side.SELL);
    expect(k.sink.filledQty(o.id)).toBe(0);
    expect(k.sim.queueAhead(o.id)).toBe(1);
    k.trade(2, PX - 10, 1, Side.SELL);
    expect(k.sink.filledQty(o.id)).toBe(0);
    expect(k.sim.queueAhead(o.id)).toBe(0);
    k.trade(3, PX - 10, 2, Side.SELL);
    expect(k.sink.fillPairs(o.id)).toEqual([[2, PX - 10]]);
    // A buy-aggressor trade at the price does not touch resting bids.
    k.trade(4, PX - 10, 5, Side.BUY);
    expect(k.sink.filledQty(o.id)).toBe(2);
    k.trade(5, PX - 10, 9, Side.SELL);
    expect(k.sink.filledQty(o.id)).toBe(3);
  });

  it('one trade fills two own orders at a level in time priority, never more than its size', () => {
    const k = makeSim();
    l2(k);
    const a = k.send({ qty: 2, price: PX - 10 });
    const b = k.send({ qty: 2, price: PX - 10 });
    k.at(0);
    k.trade(1, PX - 10, 8, Side.SELL);
    // 5 ahead of both: 3 left; a takes 2, b the last 1.
    expect(k.sink.filledQty(a.id)).toBe(2);
    expect(k.sink.filledQty(b.id)).toBe(1);
  });

  const cancelCase = (model: QueueModel, seed = 1) => {
    const k = makeSim({ queueModel: model, seed });
    k.book(0, [[PX - 10, 10]], [[PX, 5]]);
    const o = k.send({ qty: 1, price: PX - 10 });
    k.at(0);
    k.delta(1, Side.BUY, PX - 10, 20); // 10 more join behind us
    k.delta(2, Side.BUY, PX - 10, 16); // 4 cancelled somewhere
    return k.sim.queueAhead(o.id);
  };

  it('cancels at our level move us up per the queue model', () => {
    expect(cancelCase(QueueModel.FRONT)).toBe(6);
    expect(cancelCase(QueueModel.BEHIND)).toBe(10);
    expect(cancelCase(QueueModel.PROPORTIONAL)).toBe(8); // 4 * 10/20 ahead
    // Probabilistic, n = 2: p(ahead) = 10^2 / (10^2 + 10^2) = 1/2; each seed gives one fixed answer.
    const seen = new Set<number>();
    for (let seed = 1; seed <= 20; seed++) {
      const q = cancelCase(QueueModel.PROBABILISTIC, seed);
      expect([6, 10]).toContain(q);
      expect(cancelCase(QueueModel.PROBABILISTIC, seed)).toBe(q);
      seen.add(q);
    }
    expect(seen.size).toBe(2);
  });

  it('the level shrinking below our position pulls us forward whatever the model', () => {
    const k = makeSim({ queueModel: QueueModel.BEHIND });
    k.book(0, [[PX - 10, 10]], [[PX, 5]]);
    const o = k.send({ qty: 1, price: PX - 10 });
    k.at(0);
    k.delta(1, Side.BUY, PX - 10, 3);
    expect(k.sim.queueAhead(o.id)).toBe(3);
    k.delta(2, Side.BUY, PX - 10, 0);
    expect(k.sim.queueAhead(o.id)).toBe(0);
  });

  it('a vanished level clears the queue of every order there; orders joining after it queue behind the new size', () => {
    for (const model of [QueueModel.FRONT, QueueModel.BEHIND, QueueModel.PROPORTIONAL]) {
      const k = makeSim({ queueModel: model });
      k.book(0, [[PX - 10, 10]], [[PX, 5]]);
      const a = k.send({ qty: 2, price: PX - 10 });
      const b = k.send({ qty: 2, price: PX - 10 });
      k.at(0);
      expect(k.sim.queueAhead(a.id)).toBe(10);
      k.delta(1, Side.BUY, PX - 10, 0);
      k.delta(2, Side.BUY, PX - 10, 12);
      k.delta(3, Side.BUY, PX - 10, 9); // cancels: nothing was ahead of a and b, so still nothing is
      const c = k.send({ qty: 2, price: PX - 10 });
      k.at(4);
      expect([k.sim.queueAhead(a.id), k.sim.queueAhead(b.id), k.sim.queueAhead(c.id)]).toEqual([0, 0, 9]);
      k.delta(5, Side.BUY, PX - 10, 7);
      const cAhead = k.sim.queueAhead(c.id);
      expect(cAhead).toBe(7); // all 9 shown were ahead of c: the level shrinking to 7 caps it, any model
      // A trade of 3 at the price: a and b are first (2 + 1), c keeps its place behind the rest.
      k.trade(6, PX - 10, 3, Side.SELL);
      expect([k.sink.filledQty(a.id), k.sink.filledQty(b.id), k.sink.filledQty(c.id)]).toEqual([2, 1, 0]);
      expect(k.sim.queueAhead(b.id)).toBe(0);
      expect(k.sim.queueAhead(c.id)).toBe(cAhead - 3);
      // Cleared again, and a second trade fills b then c from the front.
      k.delta(7, Side.BUY, PX - 10, 0);
      k.delta(8, Side.BUY, PX - 10, 4);
      k.trade(9, PX - 10, 2, Side.SELL);
      expect([k.sink.filledQty(b.id), k.sink.filledQty(c.id)]).toEqual([2, 1]);
    }
  });

  it('an ask arriving at our bid fills us once the queue ahead is gone, through it always', () => {
    const k = makeSim();
    k.book(0, [[PX - 10, 5]], [[PX, 5]]);
    const o = k.send({ qty: 4, price: PX - 10 });
    k.at(0);
    // Locked with size still ahead of us: no fill.
    k.delta(1, Side.SELL, PX - 10, 2, 0);
    expect(k.sink.filledQty(o.id)).toBe(0);
    k.delta(2, Side.SELL, PX - 10, 0);
    k.delta(3, Side.SELL, PX - 11, 3);
    expect(k.sink.fillPairs(o.id)).toEqual([[3, PX - 10]]);
    expect(k.sink.fills(o.id)[0]!.liquidity).toBe(LiquiditySide.MAKER);
  });

  it('iceberg: only the display slice fills per turn; the refill goes to the back of the queue', () => {
    const k = makeSim();
    k.book(0, [[PX - 10, 5]], [[PX, 5]]);
    const o = k.send({ qty: 10, price: PX - 10, displayQty: 3 });
    k.at(0);
    k.delta(1, Side.BUY, PX - 10, 12); // 7 join behind us
    k.trade(2, PX - 10, 8, Side.SELL);
    // 5 ahead, then our 3 visible; the refill queues behind the 4 still shown (12 - 8).
    expect(k.sink.fillPairs(o.id)).toEqual([[3, PX - 10]]);
    expect(k.sim.queueAhead(o.id)).toBe(4);
    k.trade(3, PX - 10, 5, Side.SELL);
    expect(k.sink.fillPairs(o.id)).toEqual([
      [3, PX - 10],
      [1, PX - 10],
    ]);
  });

  it('quoteFills off: only trades fill resting orders', () => {
    const k = makeSim({ quoteFills: false });
    k.quote(0, PX - 1, 4, PX, 2);
    const o = k.send({ qty: 1, price: PX - 1 });
    k.at(0);
    k.quote(1, PX - 3, 4, PX - 2, 2);
    expect(k.sink.filledQty(o.id)).toBe(0);
    k.trade(2, PX - 2, 1, Side.SELL);
    expect(k.sink.filledQty(o.id)).toBe(1);
  });
});

describe('SimulatedExchange: time in force, modify, cancel, flags', () => {
  it('GTD expires exactly at expireTime on exchange time', () => {
    const k = makeSim();
    l2(k);
    const o = k.send({ qty: 1, price: PX - 50, tif: TimeInForce.GTD, expireTime: (T0 + 1_000) as Micros });
    k.at(999);
    expect(k.sink.kinds(o.id)).toEqual(['ACCEPTED']);
    k.at(1_000);
    expect(k.sink.kinds(o.id)).toEqual(['ACCEPTED', 'EXPIRED']);
    const ev = k.sink.of(o.id)[1]!;
    expect(ev.tsEvent).toBe(T0 + 1_000);
    expect(ev.reasonCode).toBe(SimReason.EXPIRED);
    expect(k.sim.openOrders).toBe(0);
  });

  it('GTD already past when it arrives is rejected; DAY expires at the next UTC midnight', () => {
    const k = makeSim({ latency: { orderEntry: 500 } });
    l2(k);
    const late = k.send({ qty: 1, price: PX - 50, tif: TimeInForce.GTD, expireTime: (T0 + 400) as Micros });
    const day = k.send({ qty: 1, price: PX - 50, tif: TimeInForce.DAY });
    k.at(500);
    expect(k.sink.kinds(late.id)).toEqual(['REJECTED']);
    expect(k.sink.of(late.id)[0]!.reasonCode).toBe(SimReason.EXPIRE_TIME_PASSED);
    const midnight = (Math.floor(T0 / 86_400_000_000) + 1) * 86_400_000_000;
    k.at(midnight - T0 - 1);
    expect(k.sink.kinds(day.id)).toEqual(['ACCEPTED']);
    k.at(midnight - T0);
    expect(k.sink.kinds(day.id)).toEqual(['ACCEPTED', 'EXPIRED']);
    expect(k.sink.of(day.id)[1]!.tsEvent).toBe(midnight);
  });

  it('cancel: CANCELED when open, CANCEL_REJECTED when the venue does not hold it', () => {
    const k = makeSim();
    l2(k);
    const o = k.send({ qty: 1, price: PX - 50 });
    k.at(0);
    k.sim.cancel(o);
    k.at(1);
    expect(k.sink.kinds(o.id)).toEqual(['ACCEPTED', 'CANCELED']);
    k.sim.cancel(o);
    k.at(2);
    expect(k.sink.kinds(o.id)).toEqual(['ACCEPTED', 'CANCELED', 'CANCEL_REJECTED']);
    expect(k.sink.of(o.id)[2]!.reasonCode).toBe(SimReason.ORDER_NOT_OPEN);
    expect(k.sim.openOrders).toBe(0);
  });

  it('modify: a smaller quantity keeps the queue; a new price goes to the back or takes', () => {
    const k = makeSim();
    l2(k);
    const o = k.send({ qty: 5, price: PX - 10 });
    k.at(0);
    k.trade(1, PX - 10, 2, Side.SELL);
    expect(k.sim.queueAhead(o.id)).toBe(3);
    k.sim.modify(o, 4, Number.NaN, Number.NaN);
    k.at(2);
    expect(k.sim.queueAhead(o.id)).toBe(3);
    const upd = k.sink.of(o.id).at(-1)!;
    expect([upd.kind, upd.newQty]).toEqual([K.UPDATED, 4]);
    // Re-priced to cross: UPDATED first, then it takes like a new order.
    k.sim.modify(o, 0, PX, Number.NaN);
    k.at(3);
    expect(k.sink.kinds(o.id)).toEqual(['ACCEPTED', 'UPDATED', 'UPDATED', 'FILLED']);
    expect(k.sink.fillPairs(o.id)).toEqual([[4, PX]]);
    k.sim.modify(o, 2, Number.NaN, Number.NaN);
    k.at(4);
    expect(k.sink.kinds(o.id).at(-1)).toBe('MODIFY_REJECTED');
  });

  it('reduce-only: rejected when it would open or add (Binance); capped at the position, rest expired', () => {
    const k = makeSim();
    l2(k);
    const opening = k.send({ side: SELL, type: MARKET, qty: 1, flags: OrderFlags.REDUCE_ONLY });
    k.at(0);
    expect(k.sink.kinds(opening.id)).toEqual(['REJECTED']);
    expect(k.sink.of(opening.id)[0]!.reasonCode).toBe(SimReason.REDUCE_ONLY_WOULD_INCREASE);
    k.send({ type: MARKET, qty: 3 });
    k.at(0);
    expect(k.sim.position(k.btc.id)).toBe(3);
    const close = k.send({ side: SELL, type: MARKET, qty: 8, flags: OrderFlags.REDUCE_ONLY });
    k.at(0);
    expect(k.sink.filledQty(close.id)).toBe(3);
    expect(k.sink.kinds(close.id).at(-1)).toBe('EXPIRED');
    expect(k.sink.of(close.id).at(-1)!.reasonCode).toBe(SimReason.REDUCE_ONLY_POSITION_CLOSED);
    expect(k.sim.position(k.btc.id)).toBe(0);
  });

  it('rejects types it does not match natively; with nativeTypes, stops trigger on trades', () => {
    const plain = makeSim();
    l2(plain);
    const s = plain.send({ type: OrderType.STOP_MARKET, qty: 1, triggerPrice: PX + 5 });
    plain.at(0);
    expect(plain.sink.of(s.id)[0]!.reasonCode).toBe(SimReason.UNSUPPORTED_TYPE);

    const k = makeSim({ nativeTypes: typeMask(MARKET, LIMIT, OrderType.STOP_MARKET, OrderType.STOP_LIMIT) });
    l2(k);
    const now = k.send({ type: OrderType.STOP_MARKET, qty: 1, triggerPrice: PX });
    const stop = k.send({ type: OrderType.STOP_MARKET, qty: 2, triggerPrice: PX + 2 });
    k.at(0);
    expect(k.sink.of(now.id)[0]!.reasonCode).toBe(SimReason.STOP_WOULD_TRIGGER);
    expect(k.sink.kinds(stop.id)).toEqual(['ACCEPTED']);
    k.trade(1, PX + 2, 1, Side.BUY);
    expect(k.sink.kinds(stop.id)).toEqual(['ACCEPTED', 'TRIGGERED', 'FILLED']);
    expect(k.sink.fillPairs(stop.id)).toEqual([[2, PX]]);
  });

  it('a fixed fee per fill replaces the instrument rates', () => {
    const k = makeSim({ fixedFeePerFill: 7 });
    l2(k);
    const o = k.send({ type: MARKET, qty: 6 });
    k.at(0);
    expect(k.sink.fills(o.id).map((f) => f.fee)).toEqual([7, 7]);
  });

  it('rejects a second order with an id the venue already holds, and keeps the first', () => {
    const k = makeSim();
    l2(k);
    const a = k.send({ qty: 1, price: PX - 50 });
    k.sim.submit(a, LIMIT);
    k.at(0);
    expect(k.sink.kinds(a.id)).toEqual(['ACCEPTED', 'REJECTED']);
    expect(k.sink.of(a.id)[1]!.reasonCode).toBe(SimReason.DUPLICATE_ORDER_ID);
    expect(k.sim.openOrders).toBe(1);
    k.sim.cancel(a);
    k.at(1);
    expect(k.sink.kinds(a.id).at(-1)).toBe('CANCELED');
  });

  it('replays columnar batches row by row (quotes, trades, deltas)', () => {
    const k = makeSim();
    const b = new EventBatch(8);
    b.push(RecordKind.DELTA, k.btc.id, T0, T0, PX - 1, 5, Side.BUY, 0);
    b.push(RecordKind.DELTA, k.btc.id, T0, T0, PX, 5, Side.SELL, 0);
    b.push(RecordKind.BAR, k.btc.id, T0, T0, 1, 1, 1, 1, 1, 1);
    for (let i = 0; i < b.length; i++) k.sim.onBatchRow(b, i);
    const o = k.send({ qty: 2, price: PX - 1 });
    k.at(1);
    const t = new EventBatch(2);
    t.push(RecordKind.TRADE, k.btc.id, T0 + 2, T0 + 2, PX - 1, 9, Side.SELL, 0, 0, 0, 77);
    k.sim.onBatchRow(t, 0);
    expect(k.sim.book(k.btc.id)!.bestAsk()).toBe(PX);
    expect(k.sink.fillPairs(o.id)).toEqual([[2, PX - 1]]);
  });

  it('ids can be switched off (no strings on the hot path)', () => {
    const k = makeSim({ venueOrderIds: false, tradeIds: false });
    l2(k);
    const o = k.send({ type: MARKET, qty: 1 });
    k.at(0);
    for (const e of k.sink.of(o.id)) {
      expect(e.venueOrderId).toBe('');
      expect(e.tradeId).toBe('');
    }
  });
});

describe('SimulatedExchange: funding, margin, liquidation', () => {
  it('calls onFunding at 00:00/08:00/16:00 UTC with the latest rate and the mark, after response latency', () => {
    const calls: [number, number, number, number][] = [];
    const k = makeSim({
      latency: { response: 10 },
      onFunding: (id, rate, px, ts) => calls.push([id, rate, px, ts]),
    });
    k.quote(0, PX - 2, 1, PX, 1);
    k.sim.onFundingRate({
      instrumentId: k.btc.id,
      tsEvent: T0 as Micros,
      tsInit: T0 as Micros,
      rate: 10_000,
      nextFundingTime: 0 as Micros,
    });
    const eight = 8 * 3_600_000_000;
    const next = (Math.floor(T0 / eight) + 1) * eight;
    k.at(next - T0 + 9);
    expect(calls).toEqual([]);
    k.at(next - T0 + 10);
    expect(calls).toEqual([[k.btc.id, 10_000, PX - 1, next]]);
    k.at(next - T0 + eight + 10);
    expect(calls.length).toBe(2);
    expect(calls[1]![3]).toBe(next + eight);
  });

  it('liquidates an isolated position whose equity falls below maintenance, cancelling its orders first', () => {
    const liq: [number, number, number, number][] = [];
    const k = makeSim({
      margin: { initial: 0.1, maintenance: 0.05 },
      onLiquidation: (_id, side, qty, px) => liq.push([side, qty, px, k.sim.position(k.btc.id)]),
    });
    let bid = PX - 10;
    let ask = PX;
    // One venue message per move (the last delta carries LAST), so checks see whole books only.
    const move = (dt: number, b: number, a: number) => {
      k.delta(dt, Side.BUY, bid, 0);
      k.delta(dt, Side.SELL, ask, 0);
      k.delta(dt, Side.BUY, b, 50);
      k.delta(dt, Side.SELL, a, 50, DeltaFlag.LAST);
      bid = b;
      ask = a;
    };
    k.book(0, [[bid, 50]], [[ask, 50]]);
    const long = k.send({ type: MARKET, qty: 10 });
    const tp = k.send({ side: SELL, qty: 10, price: PX + 1_000 });
    k.at(0);
    expect(k.sim.position(k.btc.id)).toBe(10);
    expect(k.sim.margin(k.btc.id)).toBeCloseTo(k.btc.tryNotional(PX, 10) * 0.1, 6);
    // 0.01 BTC at 60,000 (600 USDT), 60 USDT margin: 60 + 0.01 (m - 60,000) < 0.05 * 0.01 m below m = 56,842.1.
    move(1, PX - 30_000, PX - 29_990);
    expect(liq).toEqual([]);
    move(2, PX - 34_000, PX - 33_990);
    expect(liq).toEqual([[SELL, 10, PX - 34_000, 0]]);
    expect(k.sim.position(k.btc.id)).toBe(0);
    expect(k.sim.margin(k.btc.id)).toBe(0);
    expect(k.sink.kinds(long.id)).toEqual(['ACCEPTED', 'FILLED']);
    expect(k.sink.kinds(tp.id)).toEqual(['ACCEPTED', 'CANCELED']);
    expect(k.sink.of(tp.id)[1]!.reasonCode).toBe(SimReason.LIQUIDATION);
  });
});
