// Backtest benchmarks: the whole engine (replay -> simulated exchange -> emulator -> bars -> strategy -> risk
// -> execution -> portfolio -> recorder) on the seeded demo market, so it runs on a fresh machine.

import { DEMO_INSTRUMENT, demoMarket } from '../src/backtest/demo-market.ts';
import { runBacktest } from '../src/backtest/runner.ts';
import { newInstrumentRegistry } from '../src/model/instrument.ts';
import type { EventBatch } from '../src/model/market-data.ts';
import { EmaCross } from '../src/strategy/builtin/ema-cross.ts';
import { type BenchSpec, median, startProbe } from './harness.ts';

const HOUR = 3_600_000_000;

/** Materialises the demo market once (copies of each batch) so the run measures the engine, not the generator. */
function demoBatches(instrumentId: number, hours: number): EventBatch[] {
  const out: EventBatch[] = [];
  for (const b of demoMarket(instrumentId, { seed: 42, duration: hours * HOUR })) {
    const copy = new (b.constructor as new (n: number) => EventBatch)(b.length);
    for (let i = 0; i < b.length; i++) copy.copyRow(b, i);
    out.push(copy);
  }
  return out;
}

export const benches: BenchSpec[] = [
  {
    id: 'backtest.engine.demo_quotes',
    title: 'full engine on the demo market (quotes + trades, EMA cross on 1m bars): events/s',
    unit: 'events/s',
    better: 'higher',
    target: 6_000_000,
    targetSource: 'issue 5: at least 6M/s (NautilusTrader ~3M data points/s with full book maintenance)',
    async run(ctx) {
      const hours = ctx.quick ? 6 : 24;
      const registry = newInstrumentRegistry();
      const inst = registry.add(DEMO_INSTRUMENT);
      const batches = demoBatches(inst.id, hours);
      const runs = ctx.quick ? 3 : 5;
      const rates: number[] = [];
      let events = 0;
      const probe = startProbe();
      for (let r = 0; r < runs; r++) {
        const instruments = newInstrumentRegistry();
        instruments.add(DEMO_INSTRUMENT);
        const res = await runBacktest({
          strategies: [{ strategy: new EmaCross({ instrument: 'BTCUSDT', fast: 10, slow: 30, qty: 0.05 }) }],
          instruments,
          data: batches,
          dataLabel: 'demo',
          balances: [{ currency: 'USDT', amount: '100000' }],
        });
        events = res.events;
        rates.push(res.events / (res.wallMs / 1000));
      }
      const m = await probe.finish(median(rates), null, runs);
      return { main: m, extra: { events_per_run: events, runs } };
    },
  },
];
