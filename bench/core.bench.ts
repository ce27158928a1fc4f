// Core benchmarks: message-bus dispatch.
import { MessageBus } from '../src/core/message-bus.ts';
import { type BenchSpec, measure } from './harness.ts';

/** A preallocated event, reused for every publish, as the engine does. */
class QuoteEvent {
  instrument = 0;
  bid = 0;
  ask = 0;
}

export const benches: BenchSpec[] = [
  {
    id: 'core.bus.publish',
    title: 'MessageBus: publish on a typed topic with one handler',
    unit: 'events/s',
    better: 'higher',
    target: 50_000_000,
    targetSource: 'issue 3 (brief: 1M+ ops/s for the whole system)',
    async run(ctx) {
      const bus = new MessageBus();
      const topic = bus.topic<QuoteEvent>('quotes');
      // A typed-array accumulator: a captured `let` double would be re-boxed (allocated) on every write.
      const acc = new Float64Array(1);
      bus.subscribe(topic, (e) => {
        acc[0]! += e.bid;
      });
      const ev = new QuoteEvent();
      const m = await measure(ctx, (n) => {
        for (let i = 0; i < n; i++) {
          ev.bid = i;
          bus.publish(topic, ev);
        }
        return acc[0];
      });
      const perSecond = 1e9 / m.median;
      return { main: { ...m, median: perSecond }, extra: { ns_per_event: m.median } };
    },
  },
];
