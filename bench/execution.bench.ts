// Execution benchmarks: a strategy's order through the default risk gate to a venue stub that acknowledges at
// once, with the accepted event applied and published. The stub records nothing, so the loop allocates
// nothing of its own; closed orders go back to the pool every 4,096 orders (included in the figure).

import type { PriceTicks, QtyLots } from '../src/core/units.ts';
import { makeKit, req } from '../src/execution/test-kit.ts';
import { OrderType } from '../src/model/order.ts';
import { type BenchSpec, measure, percentile, startProbe } from './harness.ts';

function setup() {
  const kit = makeKit({ keepLog: false });
  kit.venue.autoAccept = true;
  kit.venue.record = false;
  const request = req(kit.btc, { type: OrderType.LIMIT, qty: 1 as QtyLots, price: 600_000 as PriceTicks });
  return { kit, request };
}

export const benches: BenchSpec[] = [
  {
    id: 'execution.order.submit_accept',
    title: 'submit -> risk (accept-all) -> venue stub -> ACCEPTED applied and published (with cancel)',
    unit: 'ns/op',
    better: 'lower',
    target: 200,
    targetSource: 'issue 3: under 200 ns p50 (NautilusTrader Rust outbound submit: 152 ns)',
    async run(ctx) {
      const { kit, request } = setup();
      const { engine } = kit;
      // Loop figure: each op is a full order life (submit->accepted, cancel->canceled), purged in batches.
      // The purge counter lives outside the loop: measure() calls the loop with varying n.
      const ops = new Int32Array(1);
      const life = await measure(ctx, (n) => {
        let last = 0;
        for (let i = 0; i < n; i++) {
          const o = engine.submit(request);
          engine.cancel(o.id);
          last = o.status;
          if ((++ops[0]! & 4095) === 0) engine.purgeClosed();
        }
        return last;
      });
      // Per-order latency of submit->accepted alone, timer overhead subtracted (the timer allocates BigInts,
      // so GC figures for this part are the timer's, not the engine's).
      const samples = ctx.quick ? 20_000 : 200_000;
      const lat = new Float64Array(samples);
      const overhead = new Float64Array(1000);
      for (let i = 0; i < overhead.length; i++) {
        const t0 = process.hrtime.bigint();
        overhead[i] = Number(process.hrtime.bigint() - t0);
      }
      const timer = percentile(overhead, 50);
      const probe = startProbe();
      for (let i = 0; i < samples; i++) {
        const t0 = process.hrtime.bigint();
        const o = engine.submit(request);
        lat[i] = Number(process.hrtime.bigint() - t0) - timer;
        engine.cancel(o.id);
        if ((i & 4095) === 4095) engine.purgeClosed();
      }
      const p50 = percentile(lat, 50);
      const p99 = percentile(lat, 99);
      const m = await probe.finish(p50, p99, samples);
      return {
        main: { ...m, gc: life.gc, heapGrowth: life.heapGrowth },
        extra: {
          full_life_ns: life.median,
          timer_overhead_ns: timer,
          gc_latency_run_timer_included: m.gc,
        },
      };
    },
  },
];
