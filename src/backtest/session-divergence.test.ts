// Pairing a session's orders with a backtest's, on hand-written order-event logs: each divergence kind, the
// time tolerance, the match window, adopted orders left out, and events of orders never created counted.
import { describe, expect, it } from 'vitest';
import { ORDER_TAG, ROW } from '../data/session-log.ts';
import { newInstrumentRegistry } from '../model/instrument.ts';
import { OrderSide, OrderType } from '../model/order.ts';
import { OrderEventKind } from '../model/order-state.ts';
import { compareOrders, divergenceLines } from './session-divergence.ts';

const registry = newInstrumentRegistry();
registry.add({
  symbol: 'BTCUSDT',
  venue: 'BINANCE',
  kind: 0,
  base: 'BTC',
  quote: 'USDT',
  settlement: 'USDT',
  tickSize: '0.01',
  lotSize: '0.001',
});

interface O {
  id: number;
  t: number;
  side?: number;
  type?: number;
  qty?: number;
  px?: number;
  strategy?: number;
  fills?: [qty: number, px: number, t: number][];
  end?: number;
}

/** An order-event log (INITIALIZED, then FILLED rows, then an end event) of the orders given. */
function log(orders: readonly O[]): { rows: Float64Array; count: number } {
  const rows: number[] = [];
  const row = (kind: number, o: O, ts: number, c = 0, d = 0, e = 0, f = 0) =>
    rows.push(ORDER_TAG + kind, 0, ts, ts, o.id, o.strategy ?? 1, c, d, e, f, 0);
  for (const o of orders) {
    row(
      OrderEventKind.INITIALIZED,
      o,
      o.t,
      o.side ?? OrderSide.BUY,
      o.type ?? OrderType.LIMIT,
      o.qty ?? 5,
      o.px ?? 100,
    );
    for (const [q, px, t] of o.fills ?? []) row(OrderEventKind.FILLED, o, t, q, px);
    if (o.end !== undefined) row(o.end, o, o.t + 1);
  }
  return { rows: Float64Array.from(rows), count: rows.length / ROW };
}

function compare(live: readonly O[], bt: readonly O[], tol = 0) {
  const a = log(live);
  const b = log(bt);
  return compareOrders(a.rows, a.count, b.rows, b.count, registry, {
    timeToleranceMicros: tol,
    matchWindowMicros: 1000,
  });
}

describe('session divergence', () => {
  it('identical logs match order by order', () => {
    const orders: O[] = [
      { id: 1, t: 10, fills: [[5, 100, 12]] },
      { id: 2, t: 20, side: OrderSide.SELL, end: OrderEventKind.CANCELED },
    ];
    const d = compare(orders, orders);
    expect(d.counts).toMatchObject({ liveOrders: 2, backtestOrders: 2, matched: 2 });
    expect(d.items).toEqual([]);
    expect(divergenceLines(d)[1]).toBe('no divergence: the backtest reproduced every order of the session');
  });

  it('names each kind of divergence, in time order', () => {
    const d = compare(
      [
        { id: 1, t: 10, fills: [[5, 100, 12]] },
        { id: 2, t: 20, px: 101 },
        { id: 3, t: 30, qty: 4 },
        { id: 4, t: 40, fills: [[5, 100, 45]] },
        { id: 5, t: 50, end: OrderEventKind.CANCELED },
        { id: 6, t: 60, side: OrderSide.SELL },
      ],
      [
        { id: 1, t: 10, fills: [[5, 100, 12]] },
        { id: 2, t: 20, px: 102 },
        { id: 3, t: 30, qty: 5 },
        { id: 4, t: 41, fills: [[5, 100, 46]] },
        { id: 5, t: 50, end: OrderEventKind.REJECTED },
        { id: 7, t: 70, type: OrderType.MARKET },
      ],
    );
    expect(d.counts).toEqual({
      liveOrders: 6,
      backtestOrders: 6,
      matched: 1,
      missingInBacktest: 1,
      extraInBacktest: 1,
      priceDiffers: 1,
      quantityDiffers: 1,
      timeDiffers: 1,
      outcomeDiffers: 1,
    });
    expect(d.items.map((i) => [i.kind, i.fields])).toEqual([
      ['differs', ['price']],
      ['differs', ['quantity']],
      ['differs', ['time']],
      ['differs', ['outcome']],
      ['missing in backtest', []],
      ['extra in backtest', []],
    ]);
    expect(d.items[0]!.text).toBe(
      '#2 BUY LIMIT 0.005 BTCUSDT @ 1.01 created 1970-01-01T00:00:00.000020Z, OPEN: price differ(s); backtest #2 BUY LIMIT 0.005 BTCUSDT @ 1.02 created 1970-01-01T00:00:00.000020Z, OPEN',
    );
    const lines = divergenceLines(d, 2);
    expect(lines[1]).toBe('first 2 of 6 divergence(s):');
    expect(lines).toHaveLength(4);
  });

  it('times within the tolerance agree; orders beyond the match window are never paired', () => {
    expect(compare([{ id: 1, t: 40 }], [{ id: 1, t: 41 }], 1).counts.matched).toBe(1);
    expect(compare([{ id: 1, t: 40 }], [{ id: 1, t: 2000 }]).counts).toMatchObject({
      missingInBacktest: 1,
      extraInBacktest: 1,
    });
  });

  it('pairs each live order with the closest backtest order of its kind, each at most once', () => {
    const d = compare(
      [
        { id: 1, t: 100 },
        { id: 2, t: 105 },
      ],
      [
        { id: 8, t: 104 },
        { id: 9, t: 99 },
      ],
      5,
    );
    expect(d.counts.matched).toBe(2);
  });

  it('leaves adopted orders (no strategy) out and counts events of orders never created', () => {
    const live = log([{ id: 1, t: 10, strategy: 0 }]);
    const orphan = Float64Array.from([ORDER_TAG + OrderEventKind.FILLED, 0, 5, 5, 99, 1, 1, 100, 0, 0, 0]);
    const rows = new Float64Array(live.rows.length + ROW);
    rows.set(live.rows);
    rows.set(orphan, live.rows.length);
    const d = compareOrders(rows, live.count + 1, new Float64Array(0), 0, registry);
    expect(d.notByStrategy).toBe(1);
    expect(d.orphanEvents).toEqual({ live: 1, backtest: 0 });
    expect(d.counts.liveOrders).toBe(0);
    expect(divergenceLines(d)).toContain(
      '1 session order(s) not placed by a strategy (adopted from the venue), not compared',
    );
  });
});
