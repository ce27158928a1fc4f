import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Bot4Error, ErrorCode } from '../core/errors.ts';
import { MpscRing } from './mpsc-ring.ts';
import { META_CAPACITY, META_RECORD_BYTES } from './ring-header.ts';
import { SpscRing, SpscWord } from './spsc-ring.ts';

/** Start positions that cross the int32 overflow (2^31) and the unsigned wrap (2^32 = 0) early. */
const startSequence = fc.oneof(
  fc.constantFrom(0, 2 ** 31 - 3, -(2 ** 31), -3, -1),
  fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
);

type Op =
  | { op: 'push'; k: number; publish: boolean }
  | { op: 'claimBatch'; max: number }
  | { op: 'publish' }
  | { op: 'peekRelease'; k: number }
  | { op: 'peekBatch'; max: number; keep: number }
  | { op: 'available'; take: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ op: fc.constant('push' as const), k: fc.integer({ min: 1, max: 20 }), publish: fc.boolean() }),
  fc.record({ op: fc.constant('claimBatch' as const), max: fc.integer({ min: 0, max: 20 }) }),
  fc.record({ op: fc.constant('publish' as const) }),
  fc.record({ op: fc.constant('peekRelease' as const), k: fc.integer({ min: 1, max: 20 }) }),
  fc.record({
    op: fc.constant('peekBatch' as const),
    max: fc.integer({ min: 0, max: 20 }),
    keep: fc.integer({ min: 0, max: 3 }),
  }),
  fc.record({ op: fc.constant('available' as const), take: fc.integer({ min: 0, max: 20 }) }),
);

function expectBot4(fn: () => unknown, code: string, text: RegExp): void {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(Bot4Error);
    expect((e as Bot4Error).code).toBe(code);
    expect((e as Bot4Error).message).toMatch(text);
    return;
  }
  throw new Error('expected a Bot4Error');
}

describe('SpscRing (single thread, model-based)', () => {
  it('keeps FIFO order with nothing lost or duplicated across wrap-around, full and empty edges', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(2, 4, 8, 16),
        startSequence,
        fc.array(opArb, { minLength: 1, maxLength: 400 }),
        (capacity, start, ops) => {
          // Producer and consumer are separate handles on one buffer, as in two workers.
          const producer = SpscRing.create({ capacity, recordBytes: 16, startSequence: start });
          const consumer = SpscRing.attach(producer.buffer);
          const published: number[] = []; // values visible to the consumer, oldest first
          let pending: number[] = []; // claimed and written, not yet published
          let next = 0; // next value to write; values are consecutive, so FIFO means consecutive reads
          let expected = 0; // next value the consumer must read
          let claimedTotal = 0;
          const write = (ring: SpscRing, off: number, v: number) => {
            ring.i32[off >> 2] = v;
            ring.f64[(off >> 3) + 1] = v * 0.5;
          };
          const read = (off: number): number => {
            const v = consumer.i32[off >> 2]!;
            expect(consumer.f64[(off >> 3) + 1]).toBe(v * 0.5);
            expect(v).toBe(expected);
            expected++;
            return v;
          };
          const inRing = () => published.length + pending.length;
          for (const o of ops) {
            switch (o.op) {
              case 'push':
                for (let i = 0; i < o.k; i++) {
                  const off = producer.claim();
                  if (inRing() >= capacity) {
                    expect(off).toBe(-1);
                    break;
                  }
                  expect(off).toBe(((start + claimedTotal) & (capacity - 1)) * 16);
                  claimedTotal++;
                  write(producer, off, next);
                  pending.push(next++);
                  if (o.publish) {
                    producer.publish();
                    published.push(...pending);
                    pending = [];
                  }
                }
                break;
              case 'claimBatch': {
                const index = (start + claimedTotal) & (capacity - 1);
                const want = Math.min(o.max, capacity - inRing(), capacity - index);
                const n = producer.claimBatch(o.max);
                expect(n).toBe(want);
                if (n > 0) expect(producer.batchOffset).toBe(index * 16);
                for (let i = 0; i < n; i++) {
                  write(producer, producer.batchOffset + i * 16, next);
                  pending.push(next++);
                }
                claimedTotal += n;
                break;
              }
              case 'publish':
                expect(producer.pending()).toBe(pending.length);
                producer.publish();
                published.push(...pending);
                pending = [];
                break;
              case 'peekRelease':
                for (let i = 0; i < o.k; i++) {
                  const off = consumer.peek();
                  if (published.length === 0) {
                    expect(off).toBe(-1);
                    break;
                  }
                  expect(consumer.peek()).toBe(off); // peek does not consume
                  expect(read(off)).toBe(published.shift());
                  consumer.release();
                }
                break;
              case 'peekBatch': {
                const index = (start + expected) & (capacity - 1);
                const n = consumer.peekBatch(o.max);
                expect(n).toBe(Math.min(o.max, published.length, capacity - index));
                if (n > 0) expect(consumer.readOffset).toBe(index * 16);
                const take = Math.max(0, n - o.keep);
                for (let i = 0; i < take; i++)
                  expect(read(consumer.readOffset + i * 16)).toBe(published.shift());
                consumer.releaseBatch(take);
                break;
              }
              case 'available': {
                const n = consumer.available();
                expect(n).toBe(published.length);
                const take = Math.min(n, o.take);
                for (let i = 0; i < take; i++) expect(read(consumer.offsetAt(i))).toBe(published.shift());
                consumer.releaseBatch(take);
                break;
              }
            }
            expect(producer.size()).toBe(published.length);
          }
          // Drain: everything written comes out once, in order.
          producer.publish();
          published.push(...pending);
          for (;;) {
            const off = consumer.peek();
            if (off < 0) break;
            expect(read(off)).toBe(published.shift());
            consumer.release();
          }
          expect(published).toEqual([]);
          expect(expected).toBe(next);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('wraps its 32-bit counters many times without becoming doubles or losing records', () => {
    for (const start of [2 ** 31 - 2, -2]) {
      const ring = SpscRing.create({ capacity: 4, recordBytes: 8, startSequence: start });
      let sum = 0;
      let refused = 0;
      let outOfOrder = 0;
      let prev = -1;
      for (let i = 0; i < 100_000; i++) {
        if (!ring.pushF64(i)) refused++;
        const v = ring.f64[ring.peek() >> 3]!;
        ring.release();
        if (v !== prev + 1) outOfOrder++;
        prev = v;
        sum += v;
      }
      expect({ refused, outOfOrder, sum }).toEqual({
        refused: 0,
        outOfOrder: 0,
        sum: (99_999 * 100_000) / 2,
      });
      expect(ring.size()).toBe(0);
    }
  });

  it('reports full and empty exactly at capacity and zero', () => {
    const ring = SpscRing.create({ capacity: 8, recordBytes: 8 });
    expect(ring.peek()).toBe(-1);
    expect(ring.available()).toBe(0);
    for (let i = 0; i < 8; i++) expect(ring.pushF64(i)).toBe(true);
    expect(ring.pushF64(8)).toBe(false);
    expect(ring.claim()).toBe(-1);
    expect(ring.claimBatch(4)).toBe(0);
    expect(ring.freeSlots()).toBe(0);
    expect(ring.available()).toBe(8);
    ring.releaseBatch(8);
    expect(ring.freeSlots()).toBe(8);
    expect(ring.peek()).toBe(-1);
  });

  it('refuses to release records the consumer has not seen', () => {
    const ring = SpscRing.create({ capacity: 4, recordBytes: 8 });
    ring.pushF64(1);
    expectBot4(() => ring.releaseBatch(1), ErrorCode.INTERNAL, /has seen \(0\)/);
    expect(ring.available()).toBe(1);
    expectBot4(() => ring.releaseBatch(2), ErrorCode.INTERNAL, /releaseBatch\(2\)/);
    ring.releaseBatch(1);
  });

  it('wakes an async waiter on publish and a full-ring waiter on release', async () => {
    const ring = SpscRing.create({ capacity: 2, recordBytes: 8 });
    expect(ring.waitNotEmpty(0)).toBe(false);
    const notEmpty = ring.waitNotEmptyAsync();
    ring.pushF64(42); // the waiter's flag is up, so this publish notifies
    expect(await notEmpty).toBe(true);
    expect(ring.f64[ring.peek() >> 3]).toBe(42);
    ring.pushF64(43);
    expect(ring.waitNotFull(0)).toBe(false);
    const notFull = ring.waitNotFullAsync();
    ring.release();
    expect(await notFull).toBe(true);
    expect(await ring.waitNotEmptyAsync(0)).toBe(true);
  });

  it('wakes a full-ring waiter only once the space it asked for is free (hysteresis)', async () => {
    const ring = SpscRing.create({ capacity: 8, recordBytes: 8 });
    const flags = new Int32Array(ring.buffer);
    for (let i = 0; i < 8; i++) ring.pushF64(i);
    const waiting = ring.waitNotFullAsync(Number.POSITIVE_INFINITY, 3);
    expect(flags[SpscWord.PRODUCER_WAITING]).toBe(3); // asleep, asking for 3 slots
    expect(ring.available()).toBe(8);
    ring.releaseBatch(2);
    expect(flags[SpscWord.PRODUCER_WAITING]).toBe(3); // 2 free: not woken
    ring.release();
    expect(flags[SpscWord.PRODUCER_WAITING]).toBe(0); // 3 free: the consumer cleared the flag and notified
    expect(await waiting).toBe(true);
    expect(ring.freeSlots()).toBe(3);
    expect(ring.waitNotFull(0, 4)).toBe(false);
    expect(ring.waitNotFull(0, 3)).toBe(true);
  });

  it('wakes an empty-ring waiter only once the records it asked for are published', async () => {
    const ring = SpscRing.create({ capacity: 8, recordBytes: 8 });
    const flags = new Int32Array(ring.buffer);
    const waiting = ring.waitNotEmptyAsync(Number.POSITIVE_INFINITY, 3);
    expect(flags[SpscWord.CONSUMER_WAITING]).toBe(3);
    ring.pushF64(1);
    ring.pushF64(2);
    expect(flags[SpscWord.CONSUMER_WAITING]).toBe(3); // 2 readable: not woken
    ring.pushF64(3);
    expect(flags[SpscWord.CONSUMER_WAITING]).toBe(0); // 3 readable: the producer cleared the flag and notified
    expect(await waiting).toBe(true);
    expect(ring.available()).toBe(3);
    expect(ring.waitNotEmpty(0, 4)).toBe(false);
    expect(ring.waitNotEmpty(0, 100)).toBe(false); // clamped to capacity, which 3 records do not reach
  });

  it('times out an async wait on an empty ring', async () => {
    const ring = SpscRing.create({ capacity: 2, recordBytes: 8 });
    expect(await ring.waitNotEmptyAsync(1)).toBe(false);
  });
});

describe('SpscRing layout and attach', () => {
  it('places HEAD and TAIL on separate cache lines and shares data between handles', () => {
    expect(SpscWord.TAIL * 4 - SpscWord.HEAD * 4).toBe(64);
    const a = SpscRing.create({ capacity: 16, recordBytes: 24 });
    const b = SpscRing.attach(a.buffer);
    expect(b.capacity).toBe(16);
    expect(b.recordBytes).toBe(24);
    const off = a.claim();
    a.view.setFloat64(off + 16, 3.25, true);
    a.publish();
    expect(b.view.getFloat64(b.peek() + 16, true)).toBe(3.25);
  });

  it('rejects bad specs with a message naming the field', () => {
    expectBot4(
      () => SpscRing.create({ capacity: 3, recordBytes: 8 }),
      ErrorCode.INVALID_ARGUMENT,
      /capacity 3/,
    );
    expectBot4(
      () => SpscRing.create({ capacity: 1, recordBytes: 8 }),
      ErrorCode.INVALID_ARGUMENT,
      /power of two/,
    );
    expectBot4(
      () => SpscRing.create({ capacity: 8, recordBytes: 12 }),
      ErrorCode.INVALID_ARGUMENT,
      /12 -> 16/,
    );
    expectBot4(
      () => SpscRing.create({ capacity: 2 ** 30, recordBytes: 8 }),
      ErrorCode.INVALID_ARGUMENT,
      /1 GiB/,
    );
    expectBot4(
      () => SpscRing.create({ capacity: 8, recordBytes: 8, startSequence: 2 ** 32 }),
      ErrorCode.INVALID_ARGUMENT,
      /startSequence/,
    );
  });

  it('rejects a foreign or corrupt buffer on attach', () => {
    const good = SpscRing.create({ capacity: 8, recordBytes: 16 });
    const bad = (sab: unknown, text: RegExp) =>
      expectBot4(() => SpscRing.attach(sab as SharedArrayBuffer), ErrorCode.RING_LAYOUT, text);
    bad(new ArrayBuffer(1024), /got ArrayBuffer/);
    bad(undefined, /got undefined/);
    bad(new SharedArrayBuffer(16), /smaller than a ring header/);
    bad(new SharedArrayBuffer(4096), /no ring header/);
    bad(MpscRing.create({ capacity: 8, recordBytes: 16 }).buffer, /holds a MpscRing/);
    // A copy with a damaged capacity field.
    const corrupt = new SharedArrayBuffer(good.buffer.byteLength);
    new Uint8Array(corrupt).set(new Uint8Array(good.buffer));
    new Int32Array(corrupt)[META_CAPACITY] = 12;
    bad(corrupt, /corrupt ring header: .*capacity 12/);
    const badRecord = new SharedArrayBuffer(good.buffer.byteLength);
    new Uint8Array(badRecord).set(new Uint8Array(good.buffer));
    new Int32Array(badRecord)[META_RECORD_BYTES] = 0;
    bad(badRecord, /recordBytes 0/);
    // Right header, wrong length (truncated or padded).
    const longer = new SharedArrayBuffer(good.buffer.byteLength + 64);
    new Uint8Array(longer).set(new Uint8Array(good.buffer));
    bad(longer, /needs \d+/);
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 192, maxLength: 512 }), (bytes) => {
        const sab = new SharedArrayBuffer(bytes.length);
        new Uint8Array(sab).set(bytes);
        expect(() => SpscRing.attach(sab)).toThrow(Bot4Error);
      }),
    );
  });
});
