import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Bot4Error, ErrorCode } from '../core/errors.ts';
import { MpscRing } from './mpsc-ring.ts';
import { SpscRing } from './spsc-ring.ts';

const startSequence = fc.oneof(
  fc.constantFrom(0, 2 ** 31 - 3, -(2 ** 31), -3, -1),
  fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
);

type Op =
  | { op: 'tryClaim'; p: number }
  | { op: 'claim'; p: number }
  | { op: 'tryClaimBatch'; p: number; max: number }
  | { op: 'publish'; p: number }
  | { op: 'peekRelease'; k: number }
  | { op: 'peekBatch'; max: number; keep: number }
  | { op: 'available'; max: number; take: number };

const P = fc.integer({ min: 0, max: 2 });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ op: fc.constant('tryClaim' as const), p: P }),
  fc.record({ op: fc.constant('claim' as const), p: P }),
  fc.record({ op: fc.constant('tryClaimBatch' as const), p: P, max: fc.integer({ min: 0, max: 12 }) }),
  fc.record({ op: fc.constant('publish' as const), p: P }),
  fc.record({ op: fc.constant('peekRelease' as const), k: fc.integer({ min: 1, max: 12 }) }),
  fc.record({
    op: fc.constant('peekBatch' as const),
    max: fc.integer({ min: 0, max: 12 }),
    keep: fc.integer({ min: 0, max: 2 }),
  }),
  fc.record({
    op: fc.constant('available' as const),
    max: fc.integer({ min: 1, max: 20 }),
    take: fc.integer({ min: 0, max: 12 }),
  }),
);

/** One claimed sequence in the model: the value its producer wrote and whether it is published. */
interface Entry {
  value: number;
  producer: number;
  published: boolean;
}

describe('MpscRing (single thread, model-based)', () => {
  it('delivers in claim order, stops at the first unpublished slot, loses and duplicates nothing', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(2, 4, 8, 16),
        startSequence,
        fc.array(opArb, { minLength: 1, maxLength: 400 }),
        (capacity, start, ops) => {
          const mask = capacity - 1;
          const first = MpscRing.create({ capacity, recordBytes: 16, startSequence: start });
          const producers = [first, MpscRing.attach(first.buffer), MpscRing.attach(first.buffer)];
          const consumer = MpscRing.attach(first.buffer);
          // Claimed, unreleased sequences in sequence order; queue[0] is the consumer's next sequence.
          const queue: Entry[] = [];
          const pending: Entry[][] = [[], [], []];
          let claimedTotal = 0;
          let releasedTotal = 0;
          let nextValue = 0;
          const lastSeen = [-1, -1, -1];
          const claimOne = (p: number, off: number) => {
            expect(off).toBe(((start + claimedTotal) & mask) * 16);
            const ring = producers[p]!;
            const e: Entry = { value: nextValue++, producer: p, published: false };
            ring.i32[off >> 2] = e.value;
            ring.i32[(off >> 2) + 1] = p;
            ring.f64[(off >> 3) + 1] = e.value * 0.25;
            queue.push(e);
            pending[p]!.push(e);
            claimedTotal++;
          };
          const readyCount = () => {
            let k = 0;
            while (k < queue.length && queue[k]!.published) k++;
            return k;
          };
          const consume = (off: number) => {
            const e = queue.shift()!;
            expect(e.published).toBe(true);
            expect(consumer.i32[off >> 2]).toBe(e.value);
            expect(consumer.i32[(off >> 2) + 1]).toBe(e.producer);
            expect(consumer.f64[(off >> 3) + 1]).toBe(e.value * 0.25);
            // Per-producer order holds, since each producer claims its sequences in order.
            expect(e.value).toBeGreaterThan(lastSeen[e.producer]!);
            lastSeen[e.producer] = e.value;
            releasedTotal++;
          };
          for (const o of ops) {
            switch (o.op) {
              case 'tryClaim':
              case 'claim': {
                const ring = producers[o.p]!;
                if (pending[o.p]!.length > 0) {
                  // A second claim before publishing is a caller bug and is refused.
                  expect(() => ring.tryClaim()).toThrow(/publish\(\) the previous claim/);
                  break;
                }
                if (o.op === 'claim' && queue.length >= capacity) break; // would block this thread forever
                const off = o.op === 'claim' ? ring.claim() : ring.tryClaim();
                if (queue.length >= capacity) expect(off).toBe(-1);
                else claimOne(o.p, off);
                break;
              }
              case 'tryClaimBatch': {
                const ring = producers[o.p]!;
                if (pending[o.p]!.length > 0) break;
                const index = (start + claimedTotal) & mask;
                const n = ring.tryClaimBatch(o.max);
                expect(n).toBe(Math.max(0, Math.min(o.max, capacity - queue.length, capacity - index)));
                const base = ring.batchOffset;
                for (let i = 0; i < n; i++) claimOne(o.p, (base + i * 16) % (capacity * 16));
                break;
              }
              case 'publish':
                producers[o.p]!.publish();
                for (const e of pending[o.p]!) e.published = true;
                pending[o.p] = [];
                break;
              case 'peekRelease':
                for (let i = 0; i < o.k; i++) {
                  const off = consumer.peek();
                  if (readyCount() === 0) {
                    expect(off).toBe(-1);
                    break;
                  }
                  consume(off);
                  consumer.release();
                }
                break;
              case 'peekBatch': {
                const index = (start + releasedTotal) & mask;
                const n = consumer.peekBatch(o.max);
                expect(n).toBe(Math.min(o.max, readyCount(), capacity - index));
                const take = Math.max(0, n - o.keep);
                for (let i = 0; i < take; i++) consume(consumer.readOffset + i * 16);
                consumer.releaseBatch(take);
                break;
              }
              case 'available': {
                const n = consumer.available(o.max);
                expect(n).toBe(Math.min(o.max, readyCount()));
                const take = Math.min(n, o.take);
                for (let i = 0; i < take; i++) consume(consumer.offsetAt(i));
                consumer.releaseBatch(take);
                break;
              }
            }
            expect(consumer.size()).toBe(queue.length);
          }
          for (let p = 0; p < 3; p++) {
            producers[p]!.publish();
            for (const e of pending[p]!) e.published = true;
          }
          for (;;) {
            const off = consumer.peek();
            if (off < 0) break;
            consume(off);
            consumer.release();
          }
          expect(queue).toEqual([]);
          expect(releasedTotal).toBe(nextValue);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('holds back later publications until the earlier claim is published', () => {
    const a = MpscRing.create({ capacity: 8, recordBytes: 8 });
    const b = MpscRing.attach(a.buffer);
    const c = MpscRing.attach(a.buffer);
    a.f64[a.tryClaim() >> 3] = 1;
    b.f64[b.tryClaim() >> 3] = 2;
    b.publish();
    expect(c.peek()).toBe(-1);
    expect(c.available()).toBe(0);
    a.publish();
    expect(c.available()).toBe(2);
    expect([c.f64[c.offsetAt(0) >> 3], c.f64[c.offsetAt(1) >> 3]]).toEqual([1, 2]);
    c.releaseBatch(2);
    expect(c.size()).toBe(0);
  });

  it('refuses to release unseen records', () => {
    const ring = MpscRing.create({ capacity: 4, recordBytes: 8 });
    ring.tryClaim();
    ring.publish();
    expect(() => ring.releaseBatch(1)).toThrow(/has seen \(0\)/);
    expect(ring.peek()).toBeGreaterThanOrEqual(0);
    ring.release();
  });

  it('wakes an async consumer on publish and answers waitNotFull', async () => {
    const ring = MpscRing.create({ capacity: 2, recordBytes: 8 });
    const producer = MpscRing.attach(ring.buffer);
    expect(ring.waitNotEmpty(0)).toBe(false);
    const woke = ring.waitNotEmptyAsync();
    producer.f64[producer.tryClaim() >> 3] = 7;
    producer.publish();
    expect(await woke).toBe(true);
    expect(ring.f64[ring.peek() >> 3]).toBe(7);
    producer.tryClaim();
    expect(producer.waitNotFull(0)).toBe(false); // publishes its pending claim first
    expect(ring.available()).toBe(2);
    ring.release();
    expect(producer.waitNotFull(0)).toBe(true);
    expect(await ring.waitNotEmptyAsync(1)).toBe(true);
  });

  it('wakes a consumer asleep on a sequence when its producer publishes it when that producer publishes, not before', async () => {
    const consumer = MpscRing.create({ capacity: 8, recordBytes: 8 });
    const a = MpscRing.attach(consumer.buffer);
    const b = MpscRing.attach(consumer.buffer);
    a.f64[a.tryClaim() >> 3] = 1; // sequence 0, the one the consumer needs
    b.f64[b.tryClaim() >> 3] = 2; // sequence 1
    const waiting = consumer.waitNotEmptyAsync();
    b.publish(); // not the awaited sequence: B makes no notify, and nothing is readable yet
    expect(consumer.available()).toBe(0);
    a.publish();
    expect(await waiting).toBe(true);
    expect(consumer.available()).toBe(2);
  });

  it('crosses the 32-bit wrap in a long run', () => {
    const ring = MpscRing.create({ capacity: 4, recordBytes: 8, startSequence: 2 ** 31 - 2 });
    const p = MpscRing.attach(ring.buffer);
    let sum = 0;
    let bad = 0;
    for (let i = 0; i < 50_000; i++) {
      const off = i % 2 === 0 ? p.claim() : p.tryClaim();
      p.f64[off >> 3] = i;
      p.publish();
      const r = ring.peek();
      if (r < 0 || ring.f64[r >> 3] !== i) bad++;
      sum += ring.f64[r >> 3]!;
      ring.release();
    }
    expect({ bad, sum }).toEqual({ bad: 0, sum: (49_999 * 50_000) / 2 });
  });

  it('rejects bad specs and foreign buffers', () => {
    expect(() => MpscRing.create({ capacity: 6, recordBytes: 8 })).toThrow(/capacity 6/);
    const spsc = SpscRing.create({ capacity: 8, recordBytes: 8 });
    try {
      MpscRing.attach(spsc.buffer);
      expect.unreachable();
    } catch (e) {
      expect((e as Bot4Error).code).toBe(ErrorCode.RING_LAYOUT);
      expect((e as Error).message).toMatch(/holds a SpscRing/);
    }
    expect(() => MpscRing.attach(new SharedArrayBuffer(512))).toThrow(/no ring header/);
  });
});
