import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isBot4Error } from '../../core/errors.ts';
import { LiquiditySide } from '../../model/instrument.ts';
import { Side } from '../../model/market-data.ts';
import { type Order, OrderSide, OrderType, TimeInForce } from '../../model/order.ts';
import { OrderEventKind } from '../../model/order-state.ts';
import { ActionQueue } from './action-queue.ts';
import { QueueModel } from './exchange.ts';
import { LatencySampler } from './latency.ts';
import { Prng } from './rng.ts';
import { makeSim, PX, T0 } from './test-kit.ts';

const K = OrderEventKind;

describe('latency: orders never see data from before they arrive', () => {
  it('a trade through the price before arrival does not fill; events arrive at t + L_in + L_out', () => {
    const k = makeSim({ latency: { orderEntry: 100, response: 50 } });
    k.book(0, [[PX - 10, 5]], [[PX, 5]]);
    k.at(1_000);
    const o = k.send({ qty: 2, price: PX - 10 });
    k.trade(1_099, PX - 11, 10, Side.SELL);
    k.at(1_149);
    expect(k.sink.of(o.id)).toEqual([]);
    k.at(1_150);
    const acc = k.sink.of(o.id)[0]!;
    expect([acc.kind, acc.tsEvent, acc.tsInit]).toEqual([K.ACCEPTED, T0 + 1_100, T0 + 1_150]);
    expect(k.sim.queueAhead(o.id)).toBe(5);
    k.trade(1_200, PX - 11, 10, Side.SELL);
    k.at(1_249);
    expect(k.sink.fills(o.id)).toEqual([]);
    k.at(1_250);
    const f = k.sink.fills(o.id)[0]!;
    expect([f.fillQty, f.fillPx, f.tsEvent, f.tsInit]).toEqual([2, PX - 10, T0 + 1_200, T0 + 1_250]);
  });

  it('a quote through the price at t + L_in - 1 that is gone by arrival does not fill the order', () => {
    const run = (entry: number) => {
      const k = makeSim({ latency: { orderEntry: entry } });
      k.quote(0, PX - 10, 5, PX, 5);
      k.at(1_000);
      const o = k.send({ qty: 2, price: PX - 5 });
      k.quote(1_099, PX - 10, 5, PX - 6, 1);
      k.quote(1_099, PX - 10, 5, PX, 5);
      k.at(2_000);
      return k.sink.fillPairs(o.id);
    };
    expect(run(100)).toEqual([]);
    // Had it been there (no latency), the crossing ask would have filled it, as maker at its price.
    expect(run(0)).toEqual([[1, PX - 5]]);
  });

  it('a market order fills against the book as it is when it arrives, not when it was sent', () => {
    const k = makeSim({ latency: { orderEntry: 100, response: 50 } });
    k.quote(0, PX - 1, 5, PX, 5);
    k.at(1_000);
    const o = k.send({ type: OrderType.MARKET, qty: 3 });
    k.quote(1_050, PX + 2, 5, PX + 3, 5);
    k.at(1_150);
    const evs = k.sink.of(o.id);
    expect(evs.map((e) => [e.kind, e.fillPx, e.tsEvent, e.tsInit])).toEqual([
      [K.ACCEPTED, Number.NaN, T0 + 1_100, T0 + 1_150],
      [K.FILLED, PX + 3, T0 + 1_100, T0 + 1_150],
    ]);
  });

  it('random latencies keep each connection FIFO: commands arrive and events return in order', () => {
    const k = makeSim({
      seed: 7,
      latency: { orderEntry: { median: 100, p99: 2_000 }, response: { median: 50, p99: 5_000 } },
    });
    k.book(0, [[PX - 10, 1_000]], [[PX, 1_000]]);
    const orders: Order[] = [];
    for (let i = 0; i < 300; i++) {
      k.at(i * 3);
      orders.push(k.send({ qty: 1, price: PX - 20 - (i % 7) }));
      if (i % 3 === 2) k.sim.cancel(orders[i - 1]!);
    }
    k.at(1_000_000);
    const acks = k.sink.events.filter((e) => e.kind === K.ACCEPTED).map((e) => e.orderId);
    expect(acks).toEqual(orders.map((o) => o.id));
    const arrivals = k.sink.events.filter((e) => e.kind === K.ACCEPTED).map((e) => e.tsEvent);
    expect(arrivals).toEqual([...arrivals].sort((a, b) => a - b));
    const delivered = k.sink.events.map((e) => e.tsInit);
    expect(delivered).toEqual([...delivered].sort((a, b) => a - b));
    for (const e of k.sink.events) expect(e.tsInit).toBeGreaterThanOrEqual(e.tsEvent);
    // Every cancel reached its order after the order itself.
    expect(k.sink.events.filter((e) => e.kind === K.CANCELED).length).toBe(100);
    expect(k.sink.events.filter((e) => e.kind === K.CANCEL_REJECTED).length).toBe(0);
  });
});

describe('LatencySampler', () => {
  it('constant and lognormal (median, p99) from a seeded stream', () => {
    expect(new LatencySampler(250, 1, 1, 'x').sample()).toBe(250);
    const s = new LatencySampler({ median: 200, p99: 2_000 }, 42, 1, 'x');
    const xs = Float64Array.from({ length: 40_000 }, () => s.sample()).sort();
    expect(xs[20_000]! / 200).toBeGreaterThan(0.96);
    expect(xs[20_000]! / 200).toBeLessThan(1.04);
    expect(xs[39_600]! / 2_000).toBeGreaterThan(0.9);
    expect(xs[39_600]! / 2_000).toBeLessThan(1.1);
    expect(xs.every((x) => Number.isInteger(x) && x >= 0)).toBe(true);
    const a = new LatencySampler({ median: 200, p99: 2_000, min: 150 }, 42, 1, 'x');
    const ys = Array.from({ length: 1_000 }, () => a.sample());
    expect(Math.min(...ys)).toBe(150);
  });

  it('rejects invalid specs with a message naming the field', () => {
    for (const spec of [-1, 1.5, { median: 100, p99: 50 }, { median: 0, p99: 10 }]) {
      try {
        new LatencySampler(spec, 1, 1, 'orderEntry');
        expect.unreachable();
      } catch (e) {
        expect(isBot4Error(e) && e.code).toBe('CONFIG_INVALID');
        expect(String(e)).toMatch(/orderEntry/);
      }
    }
  });
});

describe('ActionQueue and Prng', () => {
  it('pops in (time, push order) for any pushes', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 20 }), { maxLength: 300 }), (times) => {
        const q = new ActionQueue(16);
        times.forEach((t, i) => {
          const a = q.acquire();
          a.orderId = i;
          q.push(a, t);
        });
        const out: [number, number][] = [];
        while (q.size > 0) {
          const a = q.pop();
          out.push([a.time, a.orderId]);
          q.release(a);
        }
        const want = times
          .map((t, i) => [t, i] as [number, number])
          .sort((x, y) => x[0] - y[0] || x[1] - y[1]);
        expect(out).toEqual(want);
      }),
    );
  });

  it('same seed and stream, same numbers; streams differ', () => {
    const a = new Prng(5, 1);
    const b = new Prng(5, 1);
    const c = new Prng(5, 2);
    const xa = Array.from({ length: 50 }, () => a.nextU32());
    expect(Array.from({ length: 50 }, () => b.nextU32())).toEqual(xa);
    expect(Array.from({ length: 50 }, () => c.nextU32())).not.toEqual(xa);
    const u = Array.from({ length: 10_000 }, () => a.next());
    const mean = u.reduce((s, x) => s + x, 0) / u.length;
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.02);
  });
});

// ---- random scripts: determinism and invariants --------------------------------------------------------------

type Step =
  | { op: 'quote'; dt: number; bid: number; bq: number; spread: number; aq: number }
  | { op: 'trade'; dt: number; off: number; qty: number; agg: number }
  | { op: 'delta'; dt: number; bid: boolean; off: number; qty: number }
  | { op: 'limit'; dt: number; buy: boolean; off: number; qty: number; tif: TimeInForce; iceberg: boolean }
  | { op: 'market'; dt: number; buy: boolean; qty: number }
  | { op: 'cancel'; dt: number; pick: number }
  | { op: 'modify'; dt: number; pick: number; qty: number; off: number };

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  fc.record({
    op: fc.constant('quote' as const),
    dt: fc.integer({ min: 0, max: 500 }),
    bid: fc.integer({ min: -5, max: 5 }),
    bq: fc.integer({ min: 1, max: 20 }),
    spread: fc.integer({ min: 1, max: 3 }),
    aq: fc.integer({ min: 1, max: 20 }),
  }),
  fc.record({
    op: fc.constant('trade' as const),
    dt: fc.integer({ min: 0, max: 500 }),
    off: fc.integer({ min: -6, max: 6 }),
    qty: fc.integer({ min: 1, max: 15 }),
    agg: fc.constantFrom(0, Side.BUY, Side.SELL),
  }),
  fc.record({
    op: fc.constant('delta' as const),
    dt: fc.integer({ min: 0, max: 500 }),
    bid: fc.boolean(),
    off: fc.integer({ min: 0, max: 6 }),
    qty: fc.integer({ min: 0, max: 20 }),
  }),
  fc.record({
    op: fc.constant('limit' as const),
    dt: fc.integer({ min: 0, max: 500 }),
    buy: fc.boolean(),
    off: fc.integer({ min: -4, max: 4 }),
    qty: fc.integer({ min: 1, max: 12 }),
    tif: fc.constantFrom(TimeInForce.GTC, TimeInForce.IOC, TimeInForce.FOK),
    iceberg: fc.boolean(),
  }),
  fc.record({
    op: fc.constant('market' as const),
    dt: fc.integer({ min: 0, max: 500 }),
    buy: fc.boolean(),
    qty: fc.integer({ min: 1, max: 12 }),
  }),
  fc.record({ op: fc.constant('cancel' as const), dt: fc.integer({ min: 0, max: 500 }), pick: fc.nat() }),
  fc.record({
    op: fc.constant('modify' as const),
    dt: fc.integer({ min: 0, max: 500 }),
    pick: fc.nat(),
    qty: fc.integer({ min: 0, max: 14 }),
    off: fc.integer({ min: -3, max: 3 }),
  }),
);

/** Runs a script (L1 when `l2` is false: deltas are skipped) and returns the sink and the orders. */
function play(steps: Step[], seed: number, l2: boolean) {
  const k = makeSim({
    seed,
    queueModel: QueueModel.PROBABILISTIC,
    latency: { orderEntry: { median: 80, p99: 900 }, response: { median: 40, p99: 600 } },
  });
  if (l2) k.book(0, [[PX - 1, 10]], [[PX + 1, 10]]);
  else k.quote(0, PX - 1, 10, PX + 1, 10);
  const orders: Order[] = [];
  let t = 0;
  for (const s of steps) {
    t += s.dt;
    switch (s.op) {
      case 'quote':
        if (!l2) k.quote(t, PX + s.bid, s.bq, PX + s.bid + s.spread, s.aq);
        break;
      case 'trade':
        k.trade(t, PX + s.off, s.qty, s.agg);
        break;
      case 'delta':
        if (l2) k.delta(t, s.bid ? Side.BUY : Side.SELL, s.bid ? PX - 1 - s.off : PX + 1 + s.off, s.qty);
        break;
      case 'limit':
        k.at(t);
        orders.push(
          k.send({
            side: s.buy ? OrderSide.BUY : OrderSide.SELL,
            qty: s.qty,
            price: PX + s.off,
            tif: s.tif,
            displayQty: s.iceberg && s.tif === TimeInForce.GTC ? Math.ceil(s.qty / 3) : 0,
          }),
        );
        break;
      case 'market':
        k.at(t);
        orders.push(
          k.send({ side: s.buy ? OrderSide.BUY : OrderSide.SELL, type: OrderType.MARKET, qty: s.qty }),
        );
        break;
      case 'cancel':
        k.at(t);
        if (orders.length > 0) k.sim.cancel(orders[s.pick % orders.length]!);
        break;
      case 'modify':
        k.at(t);
        if (orders.length > 0) {
          const o = orders[s.pick % orders.length]!;
          k.sim.modify(o, s.qty, PX + s.off, Number.NaN);
        }
        break;
    }
  }
  k.at(t + 100_000);
  return { k, orders };
}

const serialise = (k: ReturnType<typeof makeSim>) =>
  k.sink.events.map((e) =>
    [
      e.kind,
      e.orderId,
      e.tsEvent,
      e.tsInit,
      e.fillQty,
      e.fillPx,
      e.fee,
      e.liquidity,
      e.reasonCode,
      e.tradeId,
    ].join(),
  );

describe('SimulatedExchange: determinism and invariants on random scripts', () => {
  it('the same inputs and seed give the identical event sequence', () => {
    fc.assert(
      fc.property(fc.array(stepArb, { maxLength: 60 }), fc.integer(), fc.boolean(), (steps, seed, l2) => {
        const a = serialise(play(steps, seed, l2).k);
        const b = serialise(play(steps, seed, l2).k);
        expect(a).toEqual(b);
      }),
      { numRuns: 60 },
    );
  });

  it('no overfill, nothing after the end, fills within the limit, FIFO delivery', () => {
    fc.assert(
      fc.property(fc.array(stepArb, { maxLength: 80 }), fc.integer(), fc.boolean(), (steps, seed, l2) => {
        const { k, orders } = play(steps, seed, l2);
        const modified = new Set(
          k.sink.events.filter((e) => e.kind === OrderEventKind.UPDATED).map((e) => e.orderId),
        );
        for (const o of orders) {
          const evs = k.sink.of(o.id);
          let filled = 0;
          let qty: number = o.qty;
          let closed = false;
          for (const e of evs) {
            if (e.kind === K.CANCEL_REJECTED || e.kind === K.MODIFY_REJECTED) continue;
            expect(closed).toBe(false);
            if (e.kind === K.UPDATED && e.newQty !== 0) {
              expect(e.newQty).toBeGreaterThan(filled);
              qty = e.newQty;
            }
            if (e.kind === K.FILLED) {
              filled += e.fillQty;
              expect(e.fillQty).toBeGreaterThan(0);
              expect(filled).toBeLessThanOrEqual(qty);
              if (filled === qty) closed = true;
              if (o.type === OrderType.LIMIT && !modified.has(o.id)) {
                if (o.side === OrderSide.BUY) expect(e.fillPx).toBeLessThanOrEqual(o.price);
                else expect(e.fillPx).toBeGreaterThanOrEqual(o.price);
                if (e.liquidity === LiquiditySide.MAKER) expect(e.fillPx).toBe(o.price);
              }
            }
            if (e.kind === K.CANCELED || e.kind === K.EXPIRED || e.kind === K.REJECTED) closed = true;
          }
        }
        const delivered = k.sink.events.map((e) => e.tsInit);
        expect(delivered).toEqual([...delivered].sort((a, b) => a - b));
        expect(k.sim.pendingActions).toBe(0);
      }),
      { numRuns: 150 },
    );
  });

  it('L2, static book: our takers never get more at a level than it displays', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            buy: fc.boolean(),
            qty: fc.integer({ min: 1, max: 9 }),
            off: fc.integer({ min: 0, max: 4 }),
          }),
          { maxLength: 30 },
        ),
        (orders) => {
          const k = makeSim();
          const bids: [number, number][] = [0, 1, 2, 3].map((i) => [PX - 1 - i, 3 + i]);
          const asks: [number, number][] = [0, 1, 2, 3].map((i) => [PX + 1 + i, 2 + 2 * i]);
          k.book(0, bids, asks);
          for (const o of orders) {
            const px = o.buy ? PX + 1 + o.off : PX - 1 - o.off;
            k.send({
              side: o.buy ? OrderSide.BUY : OrderSide.SELL,
              qty: o.qty,
              price: px,
              tif: TimeInForce.IOC,
            });
          }
          k.at(1);
          const taken = new Map<number, number>();
          for (const e of k.sink.events) {
            if (e.kind !== K.FILLED) continue;
            taken.set(e.fillPx, (taken.get(e.fillPx) ?? 0) + e.fillQty);
          }
          for (const [px, q] of taken) {
            const shown = [...bids, ...asks].find((l) => l[0] === px)![1];
            expect(q).toBeLessThanOrEqual(shown);
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});
