import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MessageBus } from './message-bus.ts';

describe('MessageBus', () => {
  it('delivers synchronously to every handler in priority, then subscription, order', () => {
    const bus = new MessageBus();
    const t = bus.topic<number>('quotes.BTCUSDT');
    const seen: string[] = [];
    bus.subscribe(t, (m) => seen.push(`a${m}`));
    bus.subscribe(t, (m) => seen.push(`risk${m}`), -10);
    bus.subscribe(t, (m) => seen.push(`b${m}`));
    bus.publish(t, 1);
    expect(seen).toEqual(['risk1', 'a1', 'b1']);
    expect(t.published).toBe(1);
  });

  it('returns the same topic for the same name and separates different names', () => {
    const bus = new MessageBus();
    const a = bus.topic<number>('x');
    expect(bus.topic<number>('x')).toBe(a);
    expect(bus.topic<number>('y')).not.toBe(a);
    expect(bus.topicById(a.id)).toBe(a);
    expect(() => bus.topicById(99)).toThrow(/no topic with id 99/);
  });

  it('keeps the dispatch in progress intact when handlers change subscriptions', () => {
    const bus = new MessageBus();
    const t = bus.topic<number>('t');
    const seen: string[] = [];
    let lateId = 0;
    const firstId = bus.subscribe(t, (m) => {
      seen.push(`first${m}`);
      bus.unsubscribe(t, firstId);
      lateId = bus.subscribe(t, (n) => seen.push(`late${n}`));
    });
    bus.subscribe(t, (m) => seen.push(`second${m}`));
    bus.publish(t, 1);
    bus.publish(t, 2);
    expect(seen).toEqual(['first1', 'second1', 'second2', 'late2']);
    expect(bus.unsubscribe(t, lateId)).toBe(true);
    expect(bus.unsubscribe(t, lateId)).toBe(false);
  });

  it('property: delivery order equals a stable sort of subscriptions by priority', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: -3, max: 3 }), { maxLength: 30 }), (priorities) => {
        const bus = new MessageBus();
        const t = bus.topic<void>('t');
        const seen: number[] = [];
        for (const [i, p] of priorities.entries()) bus.subscribe(t, () => seen.push(i), p);
        bus.publish(t, undefined);
        const expected = priorities
          .map((p, i) => ({ p, i }))
          .sort((a, b) => a.p - b.p || a.i - b.i)
          .map((x) => x.i);
        expect(seen).toEqual(expected);
      }),
    );
  });
});
