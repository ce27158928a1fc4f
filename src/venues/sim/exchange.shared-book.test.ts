import { describe, expect, it } from 'vitest';
import { Side as BookSide, L2Book } from '../../book/l2-book.ts';
import { Bot4Error } from '../../core/errors.ts';
import type { PriceTicks } from '../../core/units.ts';
import { Side } from '../../model/market-data.ts';
import { OrderSide, OrderType } from '../../model/order.ts';
import { makeSim, PX } from './test-kit.ts';

describe('SimulatedExchange.useBook: one book for matching and strategies', () => {
  it('applies the deltas to the shared book, and walks it for a market order', () => {
    const k = makeSim();
    const book = new L2Book();
    k.sim.useBook(k.btc.id, book);
    // Before any delta the venue is still L1: the shared book is not its view yet.
    expect(k.sim.book(k.btc.id)).toBeNull();
    k.book(
      0,
      [[PX, 5]],
      [
        [PX + 1, 2],
        [PX + 2, 4],
      ],
    );
    expect(k.sim.book(k.btc.id)).toBe(book);
    expect(book.bestBid()).toBe(PX);
    expect(book.bestAsk()).toBe(PX + 1);
    const o = k.send({ side: OrderSide.BUY, type: OrderType.MARKET, qty: 3 });
    k.at(0);
    expect(k.sink.fillPairs(o.id)).toEqual([
      [2, PX + 1],
      [1, PX + 2],
    ]);
    // The venue's fills do not edit the displayed book (its own consumption is tracked apart).
    expect(book.qtyAt(BookSide.ASK, (PX + 1) as PriceTicks)).toBe(2);
    k.delta(1, Side.SELL, PX + 1, 0);
    expect(book.bestAsk()).toBe(PX + 2);
  });

  it('refuses a book once the venue has its own L2 view, or for an instrument it does not trade', () => {
    const k = makeSim();
    expect(() => k.sim.useBook(999, new L2Book())).toThrow(Bot4Error);
    k.delta(0, Side.BUY, PX, 1);
    expect(() => k.sim.useBook(k.btc.id, new L2Book())).toThrow(/has seen no book delta/);
  });
});
