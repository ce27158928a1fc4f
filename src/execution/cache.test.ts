// The order cache against a plain model, over random sequences of add, open, close (also of orders closed
// without ever being open, as denied ones are), close again, and purge: the open sets match the model, and a
// purge releases each closed order exactly once, however often it was closed, keeping every open one.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { InstrumentId, OrderId, StrategyId } from '../core/units.ts';
import { newInstrumentRegistry } from '../model/instrument.ts';
import { Order } from '../model/order.ts';
import { Cache } from './cache.ts';

type Op =
  | { k: 'add'; inst: number; strat: number }
  | { k: 'open'; pick: number }
  | { k: 'close'; pick: number }
  | { k: 'purge' };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ k: fc.constant('add' as const), inst: fc.nat(2), strat: fc.nat(2) }),
  fc.record({ k: fc.constant('open' as const), pick: fc.nat() }),
  fc.record({ k: fc.constant('close' as const), pick: fc.nat() }),
  fc.record({ k: fc.constant('purge' as const) }),
);

describe('Cache', () => {
  it('keeps open sets and purges each closed order once (random sequences, ring growth included)', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 3000 }), (ops) => {
        const cache = new Cache(newInstrumentRegistry());
        const live = new Map<number, { order: Order; open: boolean; closed: boolean }>();
        let nextId = 1;
        const released = new Map<number, number>();
        for (const o of ops) {
          if (o.k === 'add') {
            const order = new Order();
            order.id = nextId++ as OrderId;
            order.instrumentId = o.inst as InstrumentId;
            order.strategyId = o.strat as StrategyId;
            cache.addOrder(order);
            live.set(order.id, { order, open: false, closed: false });
          } else if (o.k === 'purge') {
            cache.purgeClosed((x) => {
              released.set(x.id, (released.get(x.id) ?? 0) + 1);
              live.delete(x.id);
            });
          } else if (live.size > 0) {
            const ids = [...live.keys()];
            const e = live.get(ids[o.pick % ids.length]!)!;
            if (o.k === 'open' && !e.closed) {
              cache.markOpen(e.order);
              e.open = true;
            } else if (o.k === 'close') {
              cache.markClosed(e.order);
              e.open = false;
              e.closed = true;
            }
          }
        }
        for (const n of released.values()) expect(n).toBe(1);
        const open = [...live.values()].filter((e) => e.open).map((e) => e.order.id);
        expect([...cache.allOpenOrderIds()].sort((a, b) => a - b)).toEqual(open.sort((a, b) => a - b));
        for (const inst of [0, 1, 2]) {
          const want = [...live.values()].filter((e) => e.open && e.order.instrumentId === inst).length;
          expect(cache.openCount(inst as InstrumentId)).toBe(want);
        }
        for (const [id, e] of live) expect(cache.order(id)).toBe(e.order);
      }),
      { numRuns: 60 },
    );
  });
});
