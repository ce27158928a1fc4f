import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Bot4Error, ErrorCode } from '../core/errors.ts';
import { Float64Ring, nextPowerOfTwo, RingBuffer } from './ring-buffer.ts';

/** One step of a random workload; the model is a plain array with the same bound. */
type Op =
  | { kind: 'push'; value: number }
  | { kind: 'shift' }
  | { kind: 'pop' }
  | { kind: 'clear' }
  | { kind: 'pushEvict'; value: number };

const valueArb = fc.double({ noNaN: true });
const opArb = (withEvict: boolean): fc.Arbitrary<Op> =>
  fc.oneof(
    // Pushes weigh more so the ring reaches full and wraps around often.
    { weight: 5, arbitrary: valueArb.map((value) => ({ kind: 'push' as const, value })) },
    { weight: 3, arbitrary: fc.constant({ kind: 'shift' as const }) },
    { weight: 1, arbitrary: fc.constant({ kind: 'pop' as const }) },
    { weight: 1, arbitrary: fc.constant({ kind: 'clear' as const }) },
    ...(withEvict
      ? [{ weight: 3, arbitrary: valueArb.map((value) => ({ kind: 'pushEvict' as const, value })) }]
      : []),
  );

function checkAgainstModel(
  ring: {
    size: number;
    isEmpty: boolean;
    isFull: boolean;
    capacity: number;
    toArray(): unknown[];
    peek(): unknown;
    peekBack(): unknown;
    at(i: number): unknown;
  },
  model: unknown[],
  empty: unknown,
): void {
  expect(ring.size).toBe(model.length);
  expect(ring.isEmpty).toBe(model.length === 0);
  expect(ring.isFull).toBe(model.length === ring.capacity);
  expect(ring.toArray()).toEqual(model);
  expect(ring.peek()).toEqual(model.length === 0 ? empty : model[0]);
  expect(ring.peekBack()).toEqual(model.length === 0 ? empty : model[model.length - 1]);
  for (let i = -model.length - 1; i <= model.length; i++) {
    const expected = i >= -model.length && i < model.length ? model.at(i) : empty;
    expect(ring.at(i)).toEqual(expected);
  }
}

describe('nextPowerOfTwo', () => {
  it('rounds up to the nearest power of two', () => {
    expect([1, 2, 3, 4, 5, 7, 8, 9, 1000, 1024, 1025].map(nextPowerOfTwo)).toEqual([
      1, 2, 4, 4, 8, 8, 8, 16, 1024, 1024, 2048,
    ]);
    expect(nextPowerOfTwo(2 ** 30)).toBe(2 ** 30);
    expect(nextPowerOfTwo(2 ** 29 + 1)).toBe(2 ** 30);
  });
});

describe('RingBuffer', () => {
  it('rounds the capacity up to a power of two', () => {
    expect(new RingBuffer(1).capacity).toBe(1);
    expect(new RingBuffer(5).capacity).toBe(8);
    expect(new RingBuffer(64).capacity).toBe(64);
  });

  it.each([0, -1, 1.5, Number.NaN, 2 ** 30 + 1, Number.POSITIVE_INFINITY])(
    'rejects capacity %s with INVALID_ARGUMENT naming it',
    (capacity) => {
      expect(() => new RingBuffer(capacity)).toThrow(Bot4Error);
      try {
        new RingBuffer(capacity);
      } catch (e) {
        expect((e as Bot4Error).code).toBe(ErrorCode.INVALID_ARGUMENT);
        expect((e as Bot4Error).message).toContain(String(capacity));
        expect((e as Bot4Error).message).toContain('2^30');
      }
    },
  );

  it('push returns false when full and stores nothing; shift returns undefined when empty', () => {
    const ring = new RingBuffer<string>(2);
    expect(ring.shift()).toBeUndefined();
    expect(ring.pop()).toBeUndefined();
    expect(ring.push('a')).toBe(true);
    expect(ring.push('b')).toBe(true);
    expect(ring.isFull).toBe(true);
    expect(ring.push('c')).toBe(false);
    expect(ring.toArray()).toEqual(['a', 'b']);
    expect(ring.shift()).toBe('a');
    expect(ring.push('c')).toBe(true);
    expect(ring.toArray()).toEqual(['b', 'c']);
  });

  it('does not keep references to removed items', () => {
    const ring = new RingBuffer<object>(4);
    const a = {};
    ring.push(a);
    ring.push({});
    ring.shift();
    ring.pop();
    ring.push({});
    ring.clear();
    // Inspect the backing store: every slot must be empty again.
    const items = (ring as unknown as { items: unknown[] }).items;
    expect(items.every((x) => x === undefined)).toBe(true);
  });

  it('behaves like a bounded array under random operations (FIFO, nothing lost or duplicated)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 17 }), fc.array(opArb(false), { maxLength: 300 }), (req, ops) => {
        const ring = new RingBuffer<number>(req);
        const model: number[] = [];
        for (const op of ops) {
          switch (op.kind) {
            case 'push': {
              const accepted = model.length < ring.capacity;
              expect(ring.push(op.value)).toBe(accepted);
              if (accepted) model.push(op.value);
              break;
            }
            case 'shift':
              expect(ring.shift()).toBe(model.shift());
              break;
            case 'pop':
              expect(ring.pop()).toBe(model.pop());
              break;
            case 'clear':
              ring.clear();
              model.length = 0;
              break;
            case 'pushEvict':
              break;
          }
          checkAgainstModel(ring, model, undefined);
        }
      }),
    );
  });

  it('delivers every pushed item exactly once, in order, across many wrap-arounds', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 8 }),
        fc.array(fc.integer({ min: 0, max: 9 }), { minLength: 1, maxLength: 100 }),
        (req, bursts) => {
          const ring = new RingBuffer<number>(req);
          let next = 0;
          const out: number[] = [];
          for (const burst of bursts) {
            for (let i = 0; i < burst; i++) if (ring.push(next)) next++;
            for (let i = 0; i < (burst >> 1) + 1; i++) {
              const v = ring.shift();
              if (v !== undefined) out.push(v);
            }
          }
          for (let v = ring.shift(); v !== undefined; v = ring.shift()) out.push(v);
          expect(out).toEqual(Array.from({ length: next }, (_, i) => i));
        },
      ),
    );
  });
});

describe('Float64Ring', () => {
  it('returns NaN when empty and rejects bad capacities', () => {
    const ring = new Float64Ring(3);
    expect(ring.capacity).toBe(4);
    expect(ring.shift()).toBeNaN();
    expect(ring.pop()).toBeNaN();
    expect(ring.peek()).toBeNaN();
    expect(ring.at(0)).toBeNaN();
    expect(() => new Float64Ring(0)).toThrow(/capacity 0 is invalid/);
  });

  it('pushEvict keeps a rolling window and returns the evicted value', () => {
    const ring = new Float64Ring(4);
    const evicted = [1, 2, 3, 4, 5, 6, 7].map((v) => ring.pushEvict(v));
    expect(evicted.slice(0, 4).every(Number.isNaN)).toBe(true);
    expect(evicted.slice(4)).toEqual([1, 2, 3]);
    expect(ring.toArray()).toEqual([4, 5, 6, 7]);
    // The window sum maintained from the evictions equals the sum of what the ring holds.
    const sums = new Float64Ring(8);
    let sum = 0;
    for (let v = 1; v <= 100; v++) {
      const out = sums.pushEvict(v);
      sum += v - (Number.isNaN(out) ? 0 : out);
    }
    expect(sum).toBe(sums.toArray().reduce((a, b) => a + b, 0));
    expect(sum).toBe(93 + 94 + 95 + 96 + 97 + 98 + 99 + 100);
  });

  it('behaves like a bounded array under random operations', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 17 }), fc.array(opArb(true), { maxLength: 300 }), (req, ops) => {
        const ring = new Float64Ring(req);
        const model: number[] = [];
        const nanIfUndefined = (v: number | undefined) => (v === undefined ? Number.NaN : v);
        for (const op of ops) {
          switch (op.kind) {
            case 'push': {
              const accepted = model.length < ring.capacity;
              expect(ring.push(op.value)).toBe(accepted);
              if (accepted) model.push(op.value);
              break;
            }
            case 'pushEvict': {
              const evicted = model.length === ring.capacity ? model.shift() : undefined;
              model.push(op.value);
              expect(ring.pushEvict(op.value)).toBe(nanIfUndefined(evicted));
              break;
            }
            case 'shift':
              expect(ring.shift()).toBe(nanIfUndefined(model.shift()));
              break;
            case 'pop':
              expect(ring.pop()).toBe(nanIfUndefined(model.pop()));
              break;
            case 'clear':
              ring.clear();
              model.length = 0;
              break;
          }
          checkAgainstModel(ring, model, Number.NaN);
        }
      }),
    );
  });
});
