// Tests for the metrics module on the real pieces: HDR counts exported as exact classic-histogram buckets, the
// /metrics endpoint over loopback, /proc parsing, perf stat attached to this process (software counters
// counted, hardware ones reported absent with a reason on a VM), and trading metrics fed by a real backtest.

import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { afterAll, describe, expect, it } from 'vitest';
import { DEMO_INSTRUMENT, DEMO_START, demoMarket } from '../backtest/demo-market.ts';
import { runBacktest } from '../backtest/runner.ts';
import { Bot4Error } from '../core/errors.ts';
import { newInstrumentRegistry } from '../model/instrument.ts';
import { EventBatch } from '../model/market-data.ts';
import { resolveStrategy } from '../strategy/loader.ts';
import { StageLatencies } from './hdr-metric.ts';
import { HdrHistogram } from './latency.ts';
import { NodeMetrics } from './node-metrics.ts';
import { PerfCounters, parsePerfLine } from './perf-counters.ts';
import { parseContextSwitches, parseProcStat, readThreads } from './process-metrics.ts';
import { parseMetricsPort, startMetricsServer } from './server.ts';
import { SharedMetrics, sharedArray } from './shared-metrics.ts';
import { TradingMetrics } from './trading-metrics.ts';

/** Prometheus text -> sample lines as [name{labels}, value]. */
function samples(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    out.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return out;
}

async function waitFor(cond: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function hasPerf(): boolean {
  try {
    execFileSync('perf', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe('HDR histogram export', () => {
  it('countsBelow matches a brute-force count at bucket-boundary bounds', () => {
    const h = new HdrHistogram();
    const values: number[] = [];
    let seed = 7;
    for (let i = 0; i < 20_000; i++) {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      const v = Math.floor(100 * 1.0001 ** (seed % 150_000));
      values.push(v);
      h.record(v);
    }
    const bounds = [64, 1024, 1536, 4096, 6144, 65536, 98304, 1 << 24, 3 << 23, 2 ** 31, 2 ** 40].map((b) =>
      h.lowestEquivalentValue(b),
    );
    const out = new Float64Array(bounds.length);
    h.countsBelow(bounds, out);
    bounds.forEach((b, j) => {
      expect(out[j], `below ${b}`).toBe(values.filter((v) => v < b).length);
    });
  });

  it('serves stages as a cumulative histogram and a p50/p99/p99.9 summary in seconds', async () => {
    const registry = new Registry();
    const stages = new StageLatencies();
    const h = stages.stage('test.stage');
    for (let i = 1; i <= 1000; i++) h.record(i * 1000); // 1 us .. 1 ms
    stages.register(registry);
    const s = samples(await registry.metrics());
    expect(s.get('bot4_stage_latency_seconds_count{stage="test.stage"}')).toBe(1000);
    expect(s.get('bot4_stage_latency_seconds_bucket{stage="test.stage",le="+Inf"}')).toBe(1000);
    expect(s.get('bot4_stage_latency_seconds_sum{stage="test.stage"}')).toBeCloseTo(0.5005, 6);
    // 1.024 us is a bucket boundary: values 1000 (below) ... so exactly one value is below it.
    expect(s.get('bot4_stage_latency_seconds_bucket{stage="test.stage",le="0.000001024"}')).toBe(1);
    // Buckets span the recorded range only: from the lowest bound (1.024 us, holding the 1 us value) up to the
    // first bucket holding all 1000.
    const buckets = [...s].filter(([k]) => k.startsWith('bot4_stage_latency_seconds_bucket'));
    const finite = buckets.filter(([k]) => !k.includes('+Inf'));
    expect(finite.length).toBeGreaterThan(15);
    expect(finite[0]![0]).toContain('le="0.000001024"');
    expect(finite.at(-1)![1]).toBe(1000);
    expect(finite.at(-2)![1]).toBeLessThan(1000);
    for (let i = 1; i < buckets.length; i++)
      expect(buckets[i]![1]).toBeGreaterThanOrEqual(buckets[i - 1]![1]);
    // Every emitted count matches a brute-force count of the values below its bound.
    const values = Array.from({ length: 1000 }, (_, i) => (i + 1) * 1000);
    for (const [k, v] of finite) {
      const le = Math.round(Number(/le="([^"]+)"/.exec(k)![1]) * 1e9);
      expect(v, k).toBe(values.filter((x) => x < le).length);
    }
    const p99 = s.get('bot4_stage_latency_quantile_seconds{stage="test.stage",quantile="0.99"}')!;
    expect(Math.abs(p99 - 990e-6) / 990e-6).toBeLessThan(0.002);
    expect(() => stages.stage('Bad Name')).toThrow(Bot4Error);
  });
});

describe('/metrics endpoint', () => {
  it('serves the registry on loopback, 404 elsewhere, and records its own scrape cost', async () => {
    const registry = new Registry();
    const cost = new HdrHistogram();
    const server = await startMetricsServer({ registry, port: 0, scrapeCost: cost });
    try {
      expect(server.host).toBe('127.0.0.1');
      const r = await fetch(server.url, { signal: AbortSignal.timeout(5000) });
      expect(r.status).toBe(200);
      expect(r.headers.get('content-type')).toContain('text/plain');
      expect(cost.totalCount).toBe(1);
      const other = await fetch(server.url.replace('/metrics', '/'), { signal: AbortSignal.timeout(5000) });
      expect(other.status).toBe(404);
    } finally {
      await server.close();
    }
  });

  it('serves from its worker thread the same text as formatted in this thread', async () => {
    const registry = new Registry();
    const c = new Counter({
      name: 't_events_total',
      help: 'h',
      labelNames: ['venue', 'kind'],
      registers: [registry],
    });
    c.inc({ venue: 'BINANCE', kind: 'quote' }, 7);
    c.inc({ venue: 'BYBIT', kind: 'trade"x' }, 2);
    new Gauge({
      name: 't_pos',
      help: 'with a collector',
      registers: [registry],
      collect() {
        this.set(-1.5);
      },
    });
    const h = new Histogram({
      name: 't_lat_seconds',
      help: 'h',
      buckets: [0.001, 0.01],
      registers: [registry],
    });
    for (const v of [0.0005, 0.002, 0.5]) h.observe(v);
    const cost = new HdrHistogram();
    const worker = await startMetricsServer({ registry, port: 0, scrapeCost: cost });
    const here = await startMetricsServer({ registry, port: 0, inThread: true });
    try {
      const a = await (await fetch(worker.url, { signal: AbortSignal.timeout(5000) })).text();
      const b = await (await fetch(here.url, { signal: AbortSignal.timeout(5000) })).text();
      expect(a).toBe(b);
      expect(samples(a).get('t_events_total{venue="BINANCE",kind="quote"}')).toBe(7);
      expect(cost.totalCount).toBe(1);
    } finally {
      await worker.close();
      await here.close();
    }
  });

  it('serves shared metrics from its worker: live counters, hidden series, reuse of a recent publish', async () => {
    const shared = new SharedMetrics();
    const hits = sharedArray(3);
    const family = shared.counter('t_hits_total', 'hits by kind', ['kind']);
    family.add({ kind: 'a' }, hits, 0);
    family.add({ kind: 'b' }, hits, 1, true); // hidden while 0
    family.add({ kind: 'gone' }, hits, 2); // NaN: no series
    hits[2] = Number.NaN;
    let published = 0;
    const level = sharedArray(1);
    shared.gauge('t_level', 'copied in at publish').add({}, level, 0);
    shared.onPublish(() => {
      published++;
      level[0] = published;
    });
    const h = shared.stages.stage('t.stage');
    h.record(2000);
    const cost = new HdrHistogram();
    const worker = await startMetricsServer({ shared, port: 0, scrapeCost: cost, reuseMs: 60_000 });
    const here = await startMetricsServer({ shared, port: 0, inThread: true });
    const get = async (url: string) =>
      samples(await (await fetch(url, { signal: AbortSignal.timeout(5000) })).text());
    try {
      hits[0] = 5;
      let s = await get(worker.url);
      expect(s.get('t_hits_total{kind="a"}')).toBe(5);
      expect(s.has('t_hits_total{kind="b"}')).toBe(false);
      expect(s.has('t_hits_total{kind="gone"}')).toBe(false);
      expect(s.get('t_level')).toBe(1);
      expect(s.get('bot4_stage_latency_seconds_count{stage="t.stage"}')).toBe(1);
      // Within reuseMs and no registration since: the worker answers alone; shared counters are read live.
      hits[1] = 2;
      h.record(3000);
      s = await get(worker.url);
      expect(cost.totalCount).toBe(1);
      expect(s.get('t_hits_total{kind="b"}')).toBe(2);
      expect(s.get('t_level')).toBe(1);
      // A registration is seen through shared memory: the next scrape asks this thread again.
      shared.stages.stage('t.other');
      s = await get(worker.url);
      expect(cost.totalCount).toBe(2);
      expect(s.get('t_level')).toBe(2);
      expect(s.get('bot4_stage_latency_seconds_count{stage="t.stage"}')).toBe(2);
      expect(s.has('bot4_stage_latency_seconds_count{stage="t.other"}')).toBe(true);
      // The in-thread server publishes per scrape and formats the same slots the same way.
      const t = await get(here.url);
      expect(t.get('t_level')).toBe(3);
      expect(t.get('t_hits_total{kind="b"}')).toBe(2);
      expect([...t.keys()].filter((k) => !k.startsWith('t_level'))).toEqual(
        [...s.keys()].filter((k) => !k.startsWith('t_level')),
      );
    } finally {
      await worker.close();
      await here.close();
    }
  });

  it('answers 503 when the engine thread does not hand over the values in time', async () => {
    const registry = new Registry();
    let release: () => void = () => {};
    new Gauge({
      name: 't_stuck',
      help: 'a collector that waits until released',
      registers: [registry],
      collect() {
        return new Promise<void>((r) => {
          release = r;
        });
      },
    });
    const server = await startMetricsServer({ registry, port: 0, answerMs: 200 });
    try {
      const r = await fetch(server.url, { signal: AbortSignal.timeout(5000) });
      expect(r.status).toBe(503);
      expect(await r.text()).toMatch(/did not answer within 200 ms/);
    } finally {
      release();
      await server.close();
    }
  });

  it('names a taken port from either mode', async () => {
    const registry = new Registry();
    const first = await startMetricsServer({ registry, port: 0 });
    try {
      for (const inThread of [false, true]) {
        await expect(startMetricsServer({ registry, port: first.port, inThread })).rejects.toThrow(
          /EADDRINUSE \(the port is taken/,
        );
      }
    } finally {
      await first.close();
    }
  });

  it('names a bad port', () => {
    expect(parseMetricsPort('9464')).toBe(9464);
    expect(() => parseMetricsPort('94x')).toThrow(/--metrics-port '94x' must be a port number/);
    expect(() => parseMetricsPort('70000')).toThrow(/70000/);
  });
});

describe('/proc figures', () => {
  it('parses stat lines whose thread name holds spaces and parentheses', () => {
    const line = '42 (a (b) c) S 1 42 42 0 -1 4194304 11 0 3 0 250 75 0 0 20 0 1 0 100 0 0';
    expect(parseProcStat(line)).toEqual({
      name: 'a (b) c',
      minorFaults: 11,
      majorFaults: 3,
      userSeconds: 2.5,
      systemSeconds: 0.75,
    });
    expect(parseContextSwitches('voluntary_ctxt_switches:\t12\nnonvoluntary_ctxt_switches:\t3\n')).toEqual({
      voluntary: 12,
      involuntary: 3,
    });
  });

  it.skipIf(process.platform !== 'linux')(
    'reads every thread of this process, the main one named main',
    async () => {
      const threads = readThreads();
      expect(threads.length).toBeGreaterThan(1);
      const main = threads.find((t) => t.tid === process.pid)!;
      expect(main.name).toBe('main');
      expect(main.userSeconds + main.systemSeconds).toBeGreaterThan(0);
      const own = parseContextSwitches(readFileSync('/proc/self/status', 'utf8'));
      expect(own.voluntary + own.involuntary).toBeGreaterThan(0);
    },
  );
});

describe('perf stat counters', () => {
  it('parses interval lines, unsupported and uncounted events', () => {
    expect(parsePerfLine('     1.001,669,,context-switches,341093725,100.00,1.963,K/sec')).toEqual({
      event: 'context-switches',
      value: 669,
    });
    expect(parsePerfLine('  0.5,<not supported>,,cache-misses,0,100.00,,')?.value).toBe('unsupported');
    expect(parsePerfLine('  0.5,<not counted>,,page-faults,0,100.00,,')?.value).toBe('uncounted');
    expect(parsePerfLine('Problems finding threads of monitor')).toBeUndefined();
  });

  it('reports why when perf cannot run, with bot4_hw_counters_available 0', async () => {
    const shared = new SharedMetrics();
    let status: [boolean, string] | undefined;
    const pc = new PerfCounters({
      shared,
      perf: '/nonexistent/perf',
      onStatus: (ok, why) => (status = [ok, why]),
    });
    await waitFor(() => status !== undefined, 5000, 'the perf status');
    expect(status).toEqual([false, 'perf is not installed (Debian: linux-perf)']);
    expect(samples(await shared.text()).get('bot4_hw_counters_available')).toBe(0);
    pc.close();
  });

  const perf = hasPerf();
  if (!perf && process.env.CI) throw new Error('perf is missing in CI: .ci/run installs linux-perf');
  it.skipIf(!perf)(
    'counts context switches and page faults of this process through perf stat',
    async () => {
      const shared = new SharedMetrics();
      let status: [boolean, string] | undefined;
      const pc = new PerfCounters({ shared, intervalMs: 100, onStatus: (ok, why) => (status = [ok, why]) });
      try {
        // Work that faults pages and switches context, so the software counters have something to count.
        const end = Date.now() + 1500;
        let keep: Uint8Array[] = [];
        while (Date.now() < end) {
          keep.push(new Uint8Array(1 << 16).fill(1));
          if (keep.length > 64) keep = [];
          await new Promise((r) => setImmediate(r));
        }
        await waitFor(
          () => status !== undefined && (pc.totals.get('page-faults') ?? 0) > 0,
          10_000,
          'perf counts',
        );
        const s = samples(await shared.text());
        expect(s.get('bot4_perf_page_faults_total')).toBeGreaterThan(0);
        expect(s.has('bot4_perf_context_switches_total')).toBe(true);
        const hw = s.get('bot4_hw_counters_available');
        expect(hw).toBe(pc.hardwareAvailable() ? 1 : 0);
        // Where the machine has no PMU (this VM) the hardware series are absent and the reason says so.
        if (hw === 0) {
          expect(s.has('bot4_perf_cache_misses_total')).toBe(false);
          expect(status![1]).toMatch(/cache-misses, branch-misses as <not supported>/);
        } else {
          expect(s.has('bot4_perf_cache_misses_total')).toBe(true);
        }
      } finally {
        pc.close();
      }
    },
    30_000,
  );
});

describe('market event counts', () => {
  it('counts a range by kind alike in one long call (private tables) and in short runs (shared slots)', () => {
    const b = new EventBatch(5003);
    b.length = 5003;
    let seed = 7;
    for (let i = 0; i < b.length; i++) {
      seed = (seed * 1103515245 + 12345) >>> 0;
      b.kind[i] = 1 + (seed % 6);
      b.instrument[i] = 1 + ((seed >>> 8) % 3);
      b.tsEvent[i] = 1000 + i;
    }
    const from = 1010;
    const to = 1000 + 4990;
    const whole = new TradingMetrics(new SharedMetrics());
    whole.countRows(b, 0, b.length, from, to);
    // Twice: the private tables are back at zero after a call.
    whole.countRows(b, 0, b.length, from, to);
    const runs = new TradingMetrics(new SharedMetrics());
    for (let k = 0; k < 2; k++) {
      for (let s = 0; s < b.length; s += 7) runs.countRows(b, s, Math.min(s + 7, b.length), from, to);
    }
    expect([...whole.marketEvents]).toEqual([...runs.marketEvents]);
    // No venues attached: every instrument is venue 0, slot = kind.
    const byKind = new Array<number>(8).fill(0);
    for (let i = 0; i < b.length; i++)
      if (b.tsEvent[i]! >= from && b.tsEvent[i]! < to) byKind[b.kind[i]!]! += 2;
    expect([...whole.marketEvents.subarray(0, 8)]).toEqual(byKind);
    expect(whole.marketEvents.reduce((a, x) => a + x, 0)).toBe(2 * (to - from));
  });
});

describe('node metrics on a real backtest', () => {
  let metrics: NodeMetrics | undefined;
  afterAll(async () => {
    await metrics?.close();
  });

  it('counts every replayed event by venue and kind, order events, fills, and serves process metrics', async () => {
    const lines: string[] = [];
    metrics = await NodeMetrics.start({ port: 0, role: 'test', perf: false, log: (l) => lines.push(l) });
    const instruments = newInstrumentRegistry();
    const inst = instruments.add(DEMO_INSTRUMENT);
    const cls = await resolveStrategy('ema-cross');
    const result = await runBacktest({
      strategies: [{ strategy: new cls({}) }],
      instruments,
      data: demoMarket(inst.id, { seed: 3, duration: 6 * 3_600_000_000, start: DEMO_START }),
      dataLabel: 'demo',
      balances: [{ currency: 'USDT', amount: '10000' }],
      probe: metrics.backtestProbe(),
    });
    const r = await fetch(metrics.server.url, { signal: AbortSignal.timeout(10_000) });
    const s = samples(await r.text());
    const quotes = s.get('bot4_market_events_total{venue="DEMO",kind="quote"}')!;
    const trades = s.get('bot4_market_events_total{venue="DEMO",kind="trade"}')!;
    expect(quotes + trades).toBe(result.events);
    const fills = result.recording.fills.length;
    expect(fills).toBeGreaterThan(0);
    expect(s.get('bot4_fills_total{instrument="BTCUSDT.DEMO"}')).toBe(fills);
    expect(s.get('bot4_order_events_total{event="FILLED"}')).toBe(fills);
    expect(s.get('bot4_order_rejects_total{source="risk",reason="price_band"}')).toBe(0);
    expect(s.get('bot4_breaker_state{scope="global",id="global"}')).toBe(0);
    expect(s.get('bot4_kill_switch_engaged')).toBe(0);
    const realised = s.get('bot4_pnl_realised{currency="USDT"}')!;
    expect(realised).toBeCloseTo(
      result.portfolio.realisedPnl(inst.settlement.id) / 10 ** inst.settlement.precision,
      8,
    );
    expect(s.get('bot4_stage_latency_seconds_count{stage="backtest.replay"}')).toBeGreaterThan(0);
    expect(s.get('bot4_heap_bytes{area="used"}')).toBeGreaterThan(0);
    expect(s.get('bot4_resident_memory_bytes')).toBeGreaterThan(0);
    expect(s.get('bot4_heap_allocated_bytes_total')).toBeGreaterThan(0);
    expect([...s.keys()].some((k) => k.startsWith('bot4_gc_pause_seconds_total{kind="minor"}'))).toBe(true);
    expect(s.has('bot4_event_loop_active_seconds_total')).toBe(true);
    if (process.platform === 'linux') {
      expect([...s.keys()].some((k) => k.startsWith('bot4_thread_cpu_seconds_total{thread="main"'))).toBe(
        true,
      );
      expect(s.get('bot4_page_faults_total{kind="minor"}')).toBeGreaterThan(0);
    }
    expect(lines[0]).toMatch(/^metrics: serving http:\/\/127\.0\.0\.1:\d+\/metrics$/);
  }, 60_000);

  it('registers venue series only once a venue is added (no placeholders)', async () => {
    const m = metrics!;
    const scrape = async () =>
      samples(await (await fetch(m.server.url, { signal: AbortSignal.timeout(10_000) })).text());
    let s = await scrape();
    expect([...s.keys()].some((k) => k.startsWith('bot4_venue_connected'))).toBe(false);
    const slot = m.venues.venue('BINANCE');
    slot.connected = 1;
    slot.reconnects = 2;
    slot.feedLatency.record(1_500_000);
    s = await scrape();
    expect(s.get('bot4_venue_connected{venue="BINANCE"}')).toBe(1);
    expect(s.get('bot4_venue_reconnects_total{venue="BINANCE"}')).toBe(2);
    expect(s.get('bot4_stage_latency_seconds_count{stage="feed.binance"}')).toBe(1);
  });
});
