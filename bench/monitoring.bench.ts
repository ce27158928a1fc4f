// Monitoring benchmarks: the cost of recording one latency into our HDR histogram and of reading a percentile,
// raced against hdr-histogram-js (JS int32, JS packed and WebAssembly modes) in the same run.
// Units: ns per operation; recorded values are realistic tick-to-order latencies in ns, preallocated.

import hdr from 'hdr-histogram-js';
import { HdrHistogram } from '../src/monitoring/latency.ts';
import { type BenchContext, type BenchSpec, type Measurement, measure, peerName } from './harness.ts';

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
];
