// Memory benchmarks: object pool, rings and struct-of-arrays stores against the peers doing the same work.
// Every subject does identical work per operation (the same field write and the same reference kept), and
// results are returned from the loop so V8 cannot drop them. Times are ns per operation.

import { createRequire } from 'node:module';
import Denque from 'denque';
import { CircularBuffer, FixedDeque } from 'mnemonist';
import { createObjectPool } from '../src/memory/object-pool.ts';
import { Float64Ring, RingBuffer } from '../src/memory/ring-buffer.ts';
import { createTickStore } from '../src/memory/soa-store.ts';
import { type BenchContext, type BenchSpec, type Measurement, measure, peerName, round } from './harness.ts';

const require = createRequire(import.meta.url);

/** deepool ships no type declarations; this is the part of its API the benchmark uses. */
interface DeePool<T> {
  use(): T;
  recycle(obj: T): void;
  grow(count?: number): number;
}
const deepool = require('deepool') as { create<T>(factory: () => T): DeePool<T> };

/** The same order-sized object for the pool, deepool and plain `new`. */
class BenchOrder {
  id = 0;
  price = 0;
  qty = 0;
  side = 0;
}

/** The brief asks for GC counts over exactly 10M operations. */
const TEN_MILLION = 10_000_000;
function tenMillion(ctx: BenchContext, loop: (n: number) => unknown): Promise<Measurement> {
  return measure(ctx, loop, { iterations: TEN_MILLION, samples: 1 });
}

const RING_CAPACITY = 1024;
/** Steady state: the ring holds half its capacity, so each push + shift neither fills nor drains it. */
const RING_FILL = RING_CAPACITY / 2;

class Item {
  seq = 0;
}

export const benches: BenchSpec[] = [
  {
    id: 'memory.pool.acquire_release',
    title: 'ObjectPool: acquire, write a field, release (vs deepool and plain new)',
    unit: 'ns/op',
    better: 'lower',
    target: 3,
    targetSource: 'issue/brief: brief asks <10 ns; deepool measures 4.8 ns here',
    async run(ctx) {
      // The kept reference makes the object escape, so `new` cannot be optimised away by escape analysis.
      const keep: BenchOrder[] = Array.from({ length: 64 }, () => new BenchOrder());

      const pool = createObjectPool({
        name: 'bench',
        capacity: 1024,
        growth: 'fail',
        factory: () => new BenchOrder(),
      });
      const poolLoop = (n: number) => {
        for (let i = 0; i < n; i++) {
          const o = pool.acquire();
          o.price = i;
          keep[i & 63] = o;
          pool.release(o);
        }
        return keep[0];
      };

      const dp = deepool.create(() => new BenchOrder());
      dp.grow(1024);
      const deepoolLoop = (n: number) => {
        for (let i = 0; i < n; i++) {
          const o = dp.use();
          o.price = i;
          keep[i & 63] = o;
          dp.recycle(o);
        }
        return keep[0];
      };

      const newLoop = (n: number) => {
        for (let i = 0; i < n; i++) {
          const o = new BenchOrder();
          o.price = i;
          keep[i & 63] = o;
        }
        return keep[0];
      };

      // The two pools alone, without the kept reference that only `new` needs (a pointer store into an
      // array, with its write barrier). The sum reads a field that stays 0, so it never leaves Smi range.
      const poolBare = (n: number) => {
        let sum = 0;
        for (let i = 0; i < n; i++) {
          const o = pool.acquire();
          o.price = i;
          sum += o.id;
          pool.release(o);
        }
        return sum;
      };
      const deepoolBare = (n: number) => {
        let sum = 0;
        for (let i = 0; i < n; i++) {
          const o = dp.use();
          o.price = i;
          sum += o.id;
          dp.recycle(o);
        }
        return sum;
      };

      // What the loop does besides the pool: the same field write and kept-reference store (its write barrier)
      // on one object, and the loop itself. Reported beside the figure, not subtracted from it.
      const baseLoop = (n: number) => {
        const o = keep[63]!;
        for (let i = 0; i < n; i++) {
          o.price = i;
          keep[i & 63] = o;
        }
        return keep[0];
      };

      const main = await measure(ctx, poolLoop);
      const base = await measure(ctx, baseLoop);
      const gcPool = await tenMillion(ctx, poolLoop);
      const bare = await measure(ctx, poolBare);
      const dpMain = await measure(ctx, deepoolLoop);
      const gcDeepool = await tenMillion(ctx, deepoolLoop);
      const dpBare = await measure(ctx, deepoolBare);
      const newMain = await measure(ctx, newLoop);
      const gcNew = await tenMillion(ctx, newLoop);
      return {
        main,
        peers: { [peerName('deepool')]: dpMain, 'new-object': newMain },
        extra: {
          gc_10M_pool: gcPool.gc,
          gc_10M_deepool: gcDeepool.gc,
          gc_10M_new: gcNew.gc,
          loop_without_pool_ns: round(base.median),
          pool_net_ns: round(main.median - base.median),
          pool_ns_without_kept_ref: round(bare.median),
          deepool_ns_without_kept_ref: round(dpBare.median),
          pool_in_use_after: pool.inUse,
        },
      };
    },
  },
  {
    id: 'memory.ring.push_pop',
    title: 'RingBuffer<T>: one push + one shift on a half-full 1024 ring (vs denque, mnemonist FixedDeque)',
    unit: 'ns/op',
    better: 'lower',
    target: 2,
    targetSource: 'issue/brief: brief asks <15 ns; mnemonist push+pop 3.2 ns here',
    async run(ctx) {
      const items: Item[] = Array.from({ length: RING_CAPACITY }, (_, seq) =>
        Object.assign(new Item(), { seq }),
      );

      const ring = new RingBuffer<Item>(RING_CAPACITY);
      for (let i = 0; i < RING_FILL; i++) ring.push(items[i]!);
      const ringLoop = (n: number) => {
        let last: Item | undefined;
        for (let i = 0; i < n; i++) {
          ring.push(items[i & (RING_CAPACITY - 1)]!);
          last = ring.shift();
        }
        return last;
      };

      const denque = new Denque<Item>();
      for (let i = 0; i < RING_FILL; i++) denque.push(items[i]!);
      const denqueLoop = (n: number) => {
        let last: Item | undefined;
        for (let i = 0; i < n; i++) {
          denque.push(items[i & (RING_CAPACITY - 1)]!);
          last = denque.shift();
        }
        return last;
      };

      // FixedDeque is mnemonist's bounded FIFO that refuses (throws) when full, like our push returning
      // false; CircularBuffer would overwrite instead. Note it does not clear shifted slots, ours does.
      const fixed = new FixedDeque<Item>(Array, RING_CAPACITY);
      for (let i = 0; i < RING_FILL; i++) fixed.push(items[i]!);
      const fixedLoop = (n: number) => {
        let last: Item | undefined;
        for (let i = 0; i < n; i++) {
          fixed.push(items[i & (RING_CAPACITY - 1)]!);
          last = fixed.shift();
        }
        return last;
      };

      // The loop without the ring: the same item load and kept result. Reported beside the figure, not
      // subtracted from it.
      const baseLoop = (n: number) => {
        let last: Item | undefined;
        for (let i = 0; i < n; i++) last = items[i & (RING_CAPACITY - 1)];
        return last;
      };

      const main = await measure(ctx, ringLoop);
      const base = await measure(ctx, baseLoop);
      const denqueM = await measure(ctx, denqueLoop);
      const fixedM = await measure(ctx, fixedLoop);
      return {
        main,
        peers: { [peerName('denque')]: denqueM, [peerName('mnemonist', 'mnemonist/FixedDeque')]: fixedM },
        extra: {
          loop_without_ring_ns: round(base.median),
          ring_net_ns: round(main.median - base.median),
          ring_size_after: ring.size,
        },
      };
    },
  },
  {
    id: 'memory.ring.push_evict',
    title:
      'Float64Ring.pushEvict on a full 1024 window: push, evict and return the oldest (rolling window step)',
    unit: 'ns/op',
    better: 'lower',
    target: null,
    targetSource: 'no target in the brief; peers doing the same bounded push that overwrites the oldest',
    async run(ctx) {
      // The loops keep the last result rather than a running sum: a sum passes 2^31 and would be boxed (and
      // allocate) in any sample that runs before the optimised code is ready, spoiling the GC count.
      const ring = new Float64Ring(RING_CAPACITY);
      for (let i = 0; i < RING_CAPACITY; i++) ring.push(i);
      const ringLoop = (n: number) => {
        let last = 0;
        for (let i = 0; i < n; i++) last = ring.pushEvict(i);
        return last;
      };

      // Same bounded overwrite on a Float64Array; it returns the size, not the evicted value (less work).
      const circular = new CircularBuffer<number>(Float64Array, RING_CAPACITY);
      for (let i = 0; i < RING_CAPACITY; i++) circular.push(i);
      const circularLoop = (n: number) => {
        let last = 0;
        for (let i = 0; i < n; i++) last = circular.push(i);
        return last;
      };

      // denque's `capacity` option: push then shift the oldest once over capacity (a JS array of doubles).
      const denque = new Denque<number>([], { capacity: RING_CAPACITY });
      for (let i = 0; i < RING_CAPACITY; i++) denque.push(i);
      const denqueLoop = (n: number) => {
        let last = 0;
        for (let i = 0; i < n; i++) last = denque.push(i);
        return last;
      };

      const main = await measure(ctx, ringLoop);
      const circularM = await measure(ctx, circularLoop);
      const denqueM = await measure(ctx, denqueLoop);
      return {
        main,
        peers: {
          [peerName('mnemonist', 'mnemonist/CircularBuffer')]: circularM,
          [peerName('denque')]: denqueM,
        },
      };
    },
  },
  {
    id: 'memory.soa.alloc_free',
    title: 'TickStore: alloc a record, write its price, free it',
    unit: 'ns/op',
    better: 'lower',
    target: null,
    async run(ctx) {
      const store = createTickStore({ capacity: 1024, growth: 'fail' });
      const loop = (n: number) => {
        let acc = 0;
        for (let i = 0; i < n; i++) {
          const h = store.alloc();
          store.price[h] = i;
          acc += h;
          store.free(h);
        }
        return acc;
      };
      const main = await measure(ctx, loop);
      const gc10M = await tenMillion(ctx, loop);
      return { main, extra: { gc_10M_soa: gc10M.gc, live_after: store.size } };
    },
  },
];
