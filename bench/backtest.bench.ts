// Backtest benchmarks: the whole engine (replay -> simulated exchange -> emulator -> bars/books -> strategy ->
// risk -> execution -> portfolio -> recorder) on the seeded demo market (runs on a fresh machine), and on the
// real Binance USD-M L2 captures looped past 10M events: throughput, GC and heap over the run, and peak memory
// measured in child processes.

import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { DEMO_INSTRUMENT, demoMarket } from '../src/backtest/demo-market.ts';
import { runBacktest } from '../src/backtest/runner.ts';
import { siblingModule } from '../src/core/worker.ts';
import { newInstrumentRegistry } from '../src/model/instrument.ts';
import type { EventBatch } from '../src/model/market-data.ts';
import { EmaCross } from '../src/strategy/builtin/ema-cross.ts';
import { captureFiles, loadMarket, looped, realL2Strategies } from './backtest.data.ts';
import type { MemoryReport } from './backtest.memory.ts';
import { type BenchSpec, type Measurement, median, skipped, startProbe } from './harness.ts';

const HOUR = 3_600_000_000;

/** Materialises the demo market once (copies of each batch) so the run measures the engine, not the generator. */
export function demoBatches(instrumentId: number, hours: number): EventBatch[] {
  const out: EventBatch[] = [];
  for (const b of demoMarket(instrumentId, { seed: 42, duration: hours * HOUR })) {
    const copy = new (b.constructor as new (n: number) => EventBatch)(b.length);
    for (let i = 0; i < b.length; i++) copy.copyRow(b, i);
    out.push(copy);
  }
  return out;
}

/** Runs the peak-memory child for `events` events in a fresh process; the reason instead when it cannot. */
function memoryChild(events: number, maxOldSpaceMb: number): Promise<MemoryReport | { skipped: string }> {
  const script = siblingModule(import.meta.url, 'backtest.memory');
  const ts = script.pathname.endsWith('.ts');
  const args = [
    '--expose-gc',
    `--max-old-space-size=${maxOldSpaceMb}`,
    ...(ts ? ['--import', import.meta.resolve('tsx')] : []),
    fileURLToPath(script),
    String(events),
  ];
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr = (stderr + d).slice(-4096);
    });
    child.on('close', (status) => {
      const line = stdout.trim().split('\n').pop() ?? '';
      if (status !== 0 || line === '') {
        resolve({
          skipped: `memory child exited ${status}: ${stderr.trim().split('\n').slice(-3).join(' | ')}`,
        });
      } else {
        resolve(JSON.parse(line) as MemoryReport | { skipped: string });
      }
    });
  });
}

const MB = 1 << 20;

export const benches: BenchSpec[] = [
  {
    id: 'backtest.engine.demo_quotes',
    title: 'full engine on the demo market (quotes + trades, EMA cross on 1m bars): events/s',
    unit: 'events/s',
    better: 'higher',
    target: 6_000_000,
    targetSource: 'issue 5: at least 6M/s (NautilusTrader ~3M data points/s with full book maintenance)',
    async run(ctx) {
      const hours = ctx.quick ? 3 : 24;
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
  {
    id: 'backtest.engine.real_l2',
    title:
      'full engine on real Binance USD-M L2 (BTCUSDT+ETHUSDT depth, bookTicker, trades) looped to >=10M events, market maker + EMA cross: events/s',
    unit: 'events/s',
    better: 'higher',
    target: 6_000_000,
    targetSource:
      'issue 5: at least 6M/s; NautilusTrader publishes ~3M data points/s with full book maintenance (published figure, not measured here)',
    async run(ctx) {
      const c = captureFiles();
      if (!('files' in c)) return skipped(c.missing);
      const market = await loadMarket(c.files);
      const minEvents = ctx.quick ? 1_000_000 : 10_000_000;
      const loops = Math.ceil(minEvents / market.events);
      const runs = ctx.quick ? 2 : 5;
      const run = () =>
        runBacktest({
          strategies: realL2Strategies(),
          instruments: market.instruments,
          data: looped(market, loops),
          dataLabel: `usdm captures x${loops}`,
          balances: [{ currency: 'USDT', amount: '1000000' }],
        });
      // One unmeasured run so the figures are of optimised code, as in any backtest longer than a few seconds.
      const warm = await run();
      const rates: number[] = [];
      const cpuRates: number[] = [];
      const gcs: number[] = [];
      const heap: number[] = [];
      const probe = startProbe();
      for (let r = 0; r < runs; r++) {
        const one = startProbe();
        const cpu0 = process.cpuUsage();
        const res = await run();
        const cpu = process.cpuUsage(cpu0);
        const m = await one.finish(0, null, 1);
        // Events per CPU second: on a shared machine wall time includes waiting for a core.
        cpuRates.push(res.events / ((cpu.user + cpu.system) / 1e6));
        if (res.fingerprint !== warm.fingerprint) {
          throw new Error(
            `real_l2 run ${r} fingerprint ${res.fingerprint} != ${warm.fingerprint}: not deterministic`,
          );
        }
        rates.push(res.events / (res.wallMs / 1000));
        gcs.push(m.gc);
        heap.push(m.heapGrowth);
      }
      const main = await probe.finish(median(rates), null, runs);
      return {
        main,
        extra: {
          events_per_run: warm.events,
          loops,
          capture_events: market.events,
          runs,
          events_per_cpu_s: Math.round(median(cpuRates)),
          gc_per_run: gcs.join('/'),
          heap_growth_per_run_mb: heap.map((h) => (h / MB).toFixed(1)).join('/'),
          fills_per_run: warm.recording.fills.length,
          orders_per_run: warm.engine.stats.submitted,
          fingerprint: warm.fingerprint,
          books:
            'reset per loop (CLEAR on the first depth row of each instrument), timestamps shifted per loop',
          nautilus_trader: '~3M data points/s published (not measured here)',
        },
      };
    },
  },
  {
    id: 'backtest.memory.peak_10m',
    title:
      'peak RSS of a 10M-event backtest on the real L2 captures (child process, maxRSS), vs a 2M-event run',
    unit: 'MB',
    better: 'lower',
    target: null,
    targetSource:
      'issue 5: peak memory for a 10M-event backtest; memory must stay bounded whatever the range',
    async run(ctx) {
      // The JS heap is capped well below what a growing run would need: a leak would fail, not just show.
      const heapCapMb = 256;
      // Quick mode: 2M against 1M events (each child loads the captures and replays; this was half the suite).
      // The two children run at once (each measures its own peak RSS; only the wall time is shared).
      const [big, small] = await Promise.all([
        memoryChild(ctx.quick ? 2_000_000 : 10_000_000, heapCapMb),
        memoryChild(ctx.quick ? 1_000_000 : 2_000_000, heapCapMb),
      ]);
      if ('skipped' in big) return skipped(big.skipped);
      if ('skipped' in small) return skipped(small.skipped);
      const main: Measurement = {
        median: big.maxRss / MB,
        p99: null,
        samples: 1,
        gc: 0,
        heapGrowth: big.heapPeak - big.heapBefore,
        voluntaryCtx: 0,
        involuntaryCtx: 0,
        cpuPerWall: 0,
      };
      const mb = (x: number) => Number((x / MB).toFixed(1));
      return {
        main,
        extra: {
          events: big.events,
          peak_rss_mb: mb(big.maxRss),
          rss_after_load_mb: mb(big.rssLoaded),
          data_set_mb: mb(big.dataBytes),
          run_peak_rss_mb: mb(big.rssPeakRun),
          run_rss_growth_mb: mb(big.rssPeakRun - big.rssLoaded),
          run_bytes_per_event: Number(((big.rssPeakRun - big.rssLoaded) / big.events).toFixed(2)),
          heap_peak_mb: mb(big.heapPeak),
          heap_before_run_mb: mb(big.heapBefore),
          small_events: small.events,
          small_peak_rss_mb: mb(small.maxRss),
          small_run_peak_rss_mb: mb(small.rssPeakRun),
          small_heap_peak_mb: mb(small.heapPeak),
          max_old_space_mb: heapCapMb,
        },
      };
    },
  },
];
