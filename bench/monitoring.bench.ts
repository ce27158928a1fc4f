// Monitoring benchmarks: the cost of recording one latency into our HDR histogram and of reading a percentile,
// raced against hdr-histogram-js (JS int32, JS packed and WebAssembly modes) in the same run; what a full
// /metrics scrape costs the engine thread; and the engine's events/s with a scraper every second vs none.
// Units: ns per operation; recorded values are realistic tick-to-order latencies in ns, preallocated.

import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import hdr from 'hdr-histogram-js';
import { DEMO_INSTRUMENT } from '../src/backtest/demo-market.ts';
import { type BacktestProbe, runBacktest } from '../src/backtest/runner.ts';
import { newInstrumentRegistry } from '../src/model/instrument.ts';
import type { EventBatch } from '../src/model/market-data.ts';
import { HdrHistogram } from '../src/monitoring/latency.ts';
import { NodeMetrics } from '../src/monitoring/node-metrics.ts';
import { parseProcStat } from '../src/monitoring/process-metrics.ts';
import { startMetricsServer } from '../src/monitoring/server.ts';
import { EmaCross } from '../src/strategy/builtin/ema-cross.ts';
import { demoBatches } from './backtest.bench.ts';
import {
  type BenchContext,
  type BenchSpec,
  type Measurement,
  measure,
  median,
  peerName,
  startProbe,
} from './harness.ts';

const PEER = 'hdr-histogram-js';

/** Same configuration for every subject: 1 ns resolution, 3 significant digits, up to one hour. */
const CONFIG = {
  lowestDiscernibleValue: 1,
  highestTrackableValue: 3_600_000_000_000,
  significantDigits: 3,
} as const;

const SAMPLE_BITS = 16;
const SAMPLE_MASK = (1 << SAMPLE_BITS) - 1;
const PERCENTILES = [50, 90, 99, 99.9, 99.99] as const;

type PeerHistogram = ReturnType<typeof hdr.build>;

/**
 * Latencies in whole ns (peers ignore fractions): log-normal body around 8 us, a 1% tail of 50 us to 2 ms and
 * 0.05% of 5 to 50 ms stalls. A fixed-seed generator keeps runs comparable; varied magnitudes keep the
 * bucket-index computation honest (a constant value would make it perfectly predicted).
 */
function latencySamples(): Float64Array {
  const out = new Float64Array(1 << SAMPLE_BITS);
  let seed = 0x2545f491;
  const rand = () => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) / 4294967296;
  };
  for (let i = 0; i < out.length; i++) {
    const r = rand();
    let v: number;
    if (r < 0.0005) v = 5e6 + rand() * 45e6;
    else if (r < 0.0105) v = 5e4 * 40 ** rand();
    else {
      const normal = Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
      v = Math.exp(Math.log(8000) + 0.5 * normal);
    }
    out[i] = Math.max(1, Math.round(v));
  }
  return out;
}

const samples = latencySamples();

function peer(kind: 'js-int32' | 'js-packed' | 'wasm'): PeerHistogram {
  return hdr.build({
    lowestDiscernibleValue: CONFIG.lowestDiscernibleValue,
    highestTrackableValue: CONFIG.highestTrackableValue,
    numberOfSignificantValueDigits: CONFIG.significantDigits,
    autoResize: false,
    bitBucketSize: kind === 'js-packed' ? 'packed' : 32,
    useWebAssembly: kind === 'wasm',
  });
}

// One loop literal per subject so each call site stays monomorphic, as it would be in real code.
function recordOurs(h: HdrHistogram, n: number): number {
  const s = samples;
  for (let i = 0; i < n; i++) h.record(s[i & SAMPLE_MASK]!);
  return h.totalCount;
}
function recordPeerJs(h: PeerHistogram, n: number): number {
  const s = samples;
  for (let i = 0; i < n; i++) h.recordValue(s[i & SAMPLE_MASK]!);
  return h.totalCount;
}
function recordPeerPacked(h: PeerHistogram, n: number): number {
  const s = samples;
  for (let i = 0; i < n; i++) h.recordValue(s[i & SAMPLE_MASK]!);
  return h.totalCount;
}
function recordPeerWasm(h: PeerHistogram, n: number): number {
  const s = samples;
  for (let i = 0; i < n; i++) h.recordValue(s[i & SAMPLE_MASK]!);
  return h.totalCount;
}

function percentileOurs(h: HdrHistogram, n: number): number {
  let acc = 0;
  for (let i = 0; i < n; i++) acc += h.valueAtPercentile(PERCENTILES[i % PERCENTILES.length]!);
  return acc;
}
function percentilePeerJs(h: PeerHistogram, n: number): number {
  let acc = 0;
  for (let i = 0; i < n; i++) acc += h.getValueAtPercentile(PERCENTILES[i % PERCENTILES.length]!);
  return acc;
}
function percentilePeerWasm(h: PeerHistogram, n: number): number {
  let acc = 0;
  for (let i = 0; i < n; i++) acc += h.getValueAtPercentile(PERCENTILES[i % PERCENTILES.length]!);
  return acc;
}

/** A histogram holding 1M samples: every bucket the workload reaches is populated. */
const FILL = 1_000_000;

async function benchRecord(ctx: BenchContext) {
  await hdr.initWebAssembly();
  const ours = new HdrHistogram(CONFIG);
  const js = peer('js-int32');
  const packed = peer('js-packed');
  const wasm = peer('wasm');
  try {
    const main = await measure(ctx, (n) => recordOurs(ours, n));
    const peers: Record<string, Measurement> = {
      [peerName(PEER, `${PEER}/js-int32`)]: await measure(ctx, (n) => recordPeerJs(js, n)),
      [peerName(PEER, `${PEER}/js-packed`)]: await measure(ctx, (n) => recordPeerPacked(packed, n)),
      [peerName(PEER, `${PEER}/wasm`)]: await measure(ctx, (n) => recordPeerWasm(wasm, n)),
    };
    return {
      main,
      peers,
      extra: {
        countsBytes: ours.countsLength * 8,
        'p99 ns (ours)': ours.valueAtPercentile(99),
        'p99 ns (peer wasm)': wasm.getValueAtPercentile(99),
      },
    };
  } finally {
    wasm.destroy();
  }
}

async function benchPercentile(ctx: BenchContext) {
  await hdr.initWebAssembly();
  const ours = new HdrHistogram(CONFIG);
  const js = peer('js-int32');
  const wasm = peer('wasm');
  try {
    recordOurs(ours, FILL);
    recordPeerJs(js, FILL);
    recordPeerWasm(wasm, FILL);
    const main = await measure(ctx, (n) => percentileOurs(ours, n));
    const peers: Record<string, Measurement> = {
      [peerName(PEER, `${PEER}/js-int32`)]: await measure(ctx, (n) => percentilePeerJs(js, n)),
      [peerName(PEER, `${PEER}/wasm`)]: await measure(ctx, (n) => percentilePeerWasm(wasm, n)),
    };
    const extra: Record<string, number> = {};
    for (const p of PERCENTILES) {
      extra[`p${p} ours/peer`] = ours.valueAtPercentile(p) / js.getValueAtPercentile(p);
    }
    return { main, peers, extra };
  } finally {
    wasm.destroy();
  }
}

function demoInstrumentId(): number {
  return newInstrumentRegistry().add(DEMO_INSTRUMENT).id;
}

/**
 * One demo backtest on materialised batches: events per second of wall time and per second of this process's
 * CPU time (the figure that holds on a loaded shared machine). A signal makes it yield as the CLI does.
 */
async function demoRun(
  batches: EventBatch[],
  probe?: BacktestProbe,
): Promise<{ wall: number; cpu: number; thread: number }> {
  const instruments = newInstrumentRegistry();
  instruments.add(DEMO_INSTRUMENT);
  const cpu0 = process.cpuUsage();
  const thread0 = engineThreadCpuSeconds();
  const res = await runBacktest({
    strategies: [{ strategy: new EmaCross({ instrument: 'BTCUSDT', fast: 10, slow: 30, qty: 0.05 }) }],
    instruments,
    data: batches,
    dataLabel: 'demo',
    balances: [{ currency: 'USDT', amount: '100000' }],
    signal: new AbortController().signal,
    ...(probe === undefined ? {} : { probe }),
  });
  const cpu = process.cpuUsage(cpu0);
  return {
    wall: res.events / (res.wallMs / 1000),
    cpu: res.events / ((cpu.user + cpu.system) / 1e6),
    thread: res.events / (engineThreadCpuSeconds() - thread0),
  };
}

/** A scraper in another process, as Prometheus is: GET /metrics every `everyMs`; stop() says how many it did. */
function startScraper(url: string, everyMs: number): { stop: () => Promise<number> } {
  const code = `let n = 0;
    setInterval(() => fetch(process.argv[1]).then((r) => r.text()).then(() => n++, () => {}), Number(process.argv[2]));
    process.on('SIGTERM', () => { process.stdout.write(String(n)); process.exit(0); });`;
  const child = spawn(process.execPath, ['-e', code, url, String(everyMs)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    out += d;
  });
  return {
    stop: () =>
      new Promise<number>((resolve) => {
        child.once('exit', () => resolve(Number(out) || 0));
        child.kill('SIGTERM');
      }),
  };
}

/** CPU seconds of this process's main (engine) thread so far, from /proc (10 ms ticks). */
function engineThreadCpuSeconds(): number {
  const st = parseProcStat(readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8'));
  return st.userSeconds + st.systemSeconds;
}

/**
 * A scraper in another process, as Prometheus is: each go(n) makes `n` back-to-back GETs and resolves when all
 * are answered. One process for every block, so spawning it is not counted in any block's engine CPU.
 */
function blockScraper(url: string): { go: (n: number) => Promise<void>; stop: () => void } {
  const code = `const url = process.argv[1]; let buf = '';
    process.stdin.setEncoding('utf8').on('data', async (d) => {
      buf += d;
      for (let nl = buf.indexOf('\\n'); nl >= 0; nl = buf.indexOf('\\n')) {
        const n = Number(buf.slice(0, nl)); buf = buf.slice(nl + 1);
        for (let i = 0; i < n; i++) await (await fetch(url)).text();
        process.stdout.write('done\\n');
      }
    });`;
  const child = spawn(process.execPath, ['-e', code, url], { stdio: ['pipe', 'pipe', 'inherit'] });
  child.stdout.setEncoding('utf8');
  let waiting: ((e?: Error) => void) | undefined;
  child.stdout.on('data', () => waiting?.());
  child.once('exit', (c) => waiting?.(new Error(`the scraper exited ${c}`)));
  return {
    go: (n) =>
      new Promise<void>((resolve, reject) => {
        waiting = (e) => {
          waiting = undefined;
          if (e === undefined) resolve();
          else reject(e);
        };
        child.stdin.write(`${n}\n`);
      }),
    stop: () => child.kill(),
  };
}

/**
 * What one scrape of the full set costs the engine thread: its CPU time (from /proc, not the process's, since
 * the worker formats and reads /proc on its own thread) in five blocks of back-to-back scrapes from another
 * process (median block). Back to back, the worker reuses a publish younger than 100 ms (reuseMs), so most
 * scrapes never wake the engine thread; the peers are the same metrics served and formatted on the engine
 * thread (`inThread`), and the worker asking the engine to publish for every scrape (reuseMs 0), the cost of
 * an isolated scrape such as Prometheus' every 15 s.
 */
async function benchScrape(ctx: BenchContext) {
  const metrics = await NodeMetrics.start({ port: 0, role: 'bench' });
  const served = { registry: metrics.registry, shared: metrics.shared, port: 0, procFs: true };
  const inThread = await startMetricsServer({ ...served, inThread: true });
  const everyScrape = await startMetricsServer({ ...served, reuseMs: 0 });
  try {
    // The full set: process, perf, trading (a backtest attached), venue seams and several latency stages.
    await demoRun(demoBatches(demoInstrumentId(), 2), metrics.backtestProbe());
    for (const v of ['BINANCE', 'BYBIT']) metrics.venues.venue(v).feedLatency.record(1e6);
    // Five blocks of back-to-back scrapes; the thread's CPU comes in 10 ms ticks, so a block must be long.
    const block = ctx.quick ? 150 : 600;
    const n = 5 * block;
    const perScrape = async (url: string): Promise<number> => {
      const scraper = blockScraper(url);
      try {
        await scraper.go(20);
        const us = new Float64Array(5);
        for (let b = 0; b < 5; b++) {
          const c0 = engineThreadCpuSeconds();
          await scraper.go(block);
          us[b] = ((engineThreadCpuSeconds() - c0) * 1e6) / block;
        }
        return median(us);
      } finally {
        scraper.stop();
      }
    };
    const probe = startProbe();
    const workerUs = await perScrape(metrics.server.url);
    const main = await probe.finish(workerUs, null, n);
    const peerProbe = startProbe();
    const hereUs = await perScrape(inThread.url);
    const here = await peerProbe.finish(hereUs, null, n);
    const everyProbe = startProbe();
    const everyUs = await perScrape(everyScrape.url);
    const every = await everyProbe.finish(everyUs, null, n);
    const text = await (await fetch(metrics.server.url)).text();
    return {
      main,
      peers: {
        'served and formatted on the engine thread (inThread)': here,
        'worker, the engine publishing for every scrape (reuseMs 0)': every,
      },
      extra: { 'exposition bytes': text.length, series: metricsSeries(text) },
    };
  } finally {
    await inThread.close();
    await everyScrape.close();
    await metrics.close();
  }
}

function metricsSeries(text: string): number {
  return text.split('\n').filter((l) => l !== '' && !l.startsWith('#')).length;
}

type RunFigures = { wall: number; cpu: number; thread: number };

/** Percent of events per CPU-second (or per wall second, per engine-thread CPU-second) lost by `b` against `a`. */
function loss(a: RunFigures[], b: RunFigures[], key: keyof RunFigures): number {
  return Math.round((1 - median(b.map((x) => x[key])) / median(a.map((x) => x[key]))) * 1000) / 10;
}

async function benchScrapeOverhead(ctx: BenchContext) {
  const hours = ctx.quick ? 12 : 48;
  // Run-to-run spread on a shared machine is several percent: alternate the variants, compare medians (quick
  // mode: 2 runs each, a rough figure).
  const runs = ctx.quick ? 2 : 7;
  const batches = demoBatches(demoInstrumentId(), hours);
  await demoRun(batches); // warm-up: every variant then runs optimised code
  const plain: RunFigures[] = [];
  // The scraper: once a second, as a fast Prometheus job does. A run lasts about a second, so each is
  // scraped about once; the stress variant scrapes ten times a second, so that the scrape's own cost shows.
  const variants = [
    { everyMs: 1000, runs: [] as RunFigures[], scrapes: 0 },
    { everyMs: 100, runs: [] as RunFigures[], scrapes: 0 },
  ];
  const probe = startProbe();
  // Alternate the variants so machine load drifting over the run hits all alike.
  for (let r = 0; r < runs; r++) {
    plain.push(await demoRun(batches));
    for (const v of variants) {
      const metrics = await NodeMetrics.start({ port: 0, role: 'bench', perf: false });
      const scraper = startScraper(metrics.server.url, v.everyMs);
      try {
        v.runs.push(await demoRun(batches, metrics.backtestProbe()));
      } finally {
        v.scrapes += await scraper.stop();
        await metrics.close();
      }
    }
  }
  const [second, stress] = variants as [(typeof variants)[0], (typeof variants)[0]];
  // The figure is events per CPU-second of the whole process (the metrics worker's formatting included) lost: a
  // shared machine's wall clock mostly measures its other tenants.
  const main: Measurement = await probe.finish(loss(plain, second.runs, 'cpu'), null, runs);
  return {
    main,
    extra: {
      'events/cpu-s without metrics': Math.round(median(plain.map((x) => x.cpu))),
      'events/cpu-s with metrics + 1 s scraper': Math.round(median(second.runs.map((x) => x.cpu))),
      // The engine thread's own CPU (10 ms ticks): what metrics cost the engine itself, without the worker.
      'engine-thread loss %': loss(plain, second.runs, 'thread'),
      'wall loss %': loss(plain, second.runs, 'wall'),
      'scrapes served (1 s)': second.scrapes,
      'stress: loss % with a 100 ms scraper': loss(plain, stress.runs, 'cpu'),
      'stress: engine-thread loss %': loss(plain, stress.runs, 'thread'),
      'stress: scrapes served (100 ms)': stress.scrapes,
    },
  };
}

export const benches: BenchSpec[] = [
  {
    id: 'monitoring.hdr.record',
    title: 'HDR histogram: record one latency (ns/op)',
    unit: 'ns/op',
    better: 'lower',
    target: 5,
    targetSource: "issue: 'a few ns' per recorded value on the hot path (DESIGN.md performance rules)",
    run: benchRecord,
  },
  {
    id: 'monitoring.hdr.percentile',
    title: 'HDR histogram: valueAtPercentile over a full histogram, p50..p99.99 (ns/op)',
    unit: 'ns/op',
    better: 'lower',
    target: null,
    run: benchPercentile,
  },
  {
    id: 'monitoring.scrape.full',
    title:
      'one /metrics scrape with the full set (process, perf, trading, venues, stages): engine-thread CPU us',
    unit: 'cpu-us/scrape',
    better: 'lower',
    target: 300,
    targetSource: "issue 15: 'a few hundred' us of the engine thread per scrape, else serve from a worker",
    run: benchScrape,
  },
  {
    id: 'monitoring.backtest.scrape_overhead',
    title: 'demo backtest events per CPU-second lost with metrics on and a scraper every second, vs none (%)',
    unit: '%',
    better: 'lower',
    target: 2,
    targetSource: 'issue 15: <= 2% loss',
    run: benchScrapeOverhead,
  },
];
