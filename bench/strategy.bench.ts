// Strategy benchmarks: the EMA-cross decision alone (two EMA updates and a compare, an intent code out), and a
// quote through the whole strategy path: bus -> host -> onQuote -> decide -> rebalanceTo -> engine (accept-all
// risk) -> StubVenue autoAccept -> events back to the strategy. Prices alternate so every quote is a crossing.

import type { InstrumentId, PriceTicks, QtyLots } from '../src/core/units.ts';
import { QuoteTick } from '../src/model/market-data.ts';
import { EmaCross } from '../src/strategy/builtin/ema-cross.ts';
import { makeStrategyKit } from '../src/strategy/test-kit.ts';
import { type BenchSpec, measure } from './harness.ts';

/** A random walk in ticks around 60,000.0 (tick 0.1), 4,096 points replayed in a ring (no allocation). */
function walk(): Float64Array {
  const px = new Float64Array(4096);
  let x = 600_000;
  let seed = 42;
  for (let i = 0; i < px.length; i++) {
    seed = (seed * 1_103_515_245 + 12_345) >>> 0;
    x += ((seed >>> 16) % 21) - 10;
    px[i] = x;
  }
  return px;
}

export const benches: BenchSpec[] = [
  {
    id: 'strategy.ema_cross.decision',
    title: 'EMA-cross decide(): two EMA updates and a crossing test per quote mid, intent code out',
    unit: 'ns/op',
    better: 'lower',
    target: 10,
    targetSource: 'issue 6: under 10 ns (brief: features-to-intent under 50 ns)',
    async run(ctx) {
      const s = new EmaCross({ fast: 10, slow: 30, source: 'quote' });
      const px = walk();
      const crossings = new Float64Array(1);
      const m = await measure(ctx, (n) => {
        let c = 0;
        for (let i = 0; i < n; i++) c += s.decide(px[i & 4095]!);
        crossings[0]! += c;
        return c;
      });
      return { main: m };
    },
  },
  {
    id: 'strategy.ema_cross.quote_dispatch',
    title: 'quote -> bus -> host (instrument mask) -> EMA-cross onQuote -> decide, no crossing (no order)',
    unit: 'ns/op',
    better: 'lower',
    target: 50,
    targetSource: 'brief: features in, order intent out under 50 ns (here through the real bus and host)',
    async run(ctx) {
      const k = makeStrategyKit({ keepLog: false });
      k.run(new EmaCross({ fast: 10, slow: 30, source: 'quote' }));
      const q = new QuoteTick();
      q.instrumentId = k.btc.id as InstrumentId;
      q.bidPx = 600_000 as PriceTicks;
      q.askPx = 600_002 as PriceTicks;
      const { bus, quotes, engine } = k;
      const m = await measure(ctx, (n) => {
        for (let i = 0; i < n; i++) bus.publish(quotes, q);
        return engine.stats.submitted;
      });
      return { main: m };
    },
  },
  {
    id: 'strategy.ema_cross.quote_to_order',
    title:
      'quote -> bus -> host -> EMA-cross -> rebalance (cancel working + submit) -> engine -> stub venue ack',
    unit: 'ns/op',
    better: 'lower',
    target: null,
    targetSource: 'issue 6: measured, no target (execution.order.submit_accept covers the engine part)',
    async run(ctx) {
      const k = makeStrategyKit({ keepLog: false });
      k.venue.record = false;
      // fast 1 / slow 2 on prices alternating by 100 ticks: the sign of fast - slow flips on every quote.
      const s = new EmaCross({ fast: 1, slow: 2, qty: 0.001, source: 'quote', allowShort: true });
      k.run(s);
      const q = new QuoteTick();
      q.instrumentId = k.btc.id as InstrumentId;
      q.bidQty = 1 as QtyLots;
      q.askQty = 1 as QtyLots;
      const { bus, engine, quotes } = k;
      const ops = new Int32Array(1);
      const m = await measure(ctx, (n) => {
        for (let i = 0; i < n; i++) {
          const px = (i & 1) === 0 ? 600_000 : 600_100;
          q.bidPx = (px - 1) as PriceTicks;
          q.askPx = (px + 1) as PriceTicks;
          engine.onQuote(q);
          bus.publish(quotes, q);
          if ((++ops[0]! & 4095) === 0) engine.purgeClosed();
        }
        return engine.stats.submitted;
      });
      const quotesSeen = ops[0]!;
      return {
        main: m,
        extra: {
          orders_per_quote: Math.round((engine.stats.submitted / Math.max(1, quotesSeen)) * 1000) / 1000,
        },
      };
    },
  },
];
