// ML benchmarks: one feature-vector update of 20 indicator features on a closed bar, a linear prediction over 20
// features, XGBoost's 100-tree depth-6 model on the flat-array walker (peer: the same trees as an ONNX
// TreeEnsembleRegressor in onnxruntime-node), and a small MLP (6-16-8-1) through onnxruntime-node. The models are
// the committed fixtures of src/ml/fixtures (made by make_fixtures.py with Debian's xgboost and onnx).

import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { FeatureEngine, parseFeatureSpec } from '../src/ml/features.ts';
import { LinearModel, Link } from '../src/ml/linear.ts';
import { loadModel } from '../src/ml/model-file.ts';
import { matrix, readCsv } from '../src/ml/table.ts';
import {
  type BenchContext,
  type BenchSpec,
  type Measurement,
  measure,
  median,
  peerName,
  startProbe,
} from './harness.ts';

/** A fixture file, found from bench/ (tsx) and from dist/bench/ (the built suite). */
function fixture(name: string): string {
  for (const up of ['../src/ml/fixtures/', '../../src/ml/fixtures/']) {
    const file = fileURLToPath(new URL(up + name, import.meta.url));
    if (existsSync(file)) return file;
  }
  throw new Error(`ML fixture ${name} not found beside the benchmarks`);
}

/** 20 indicator features on 1m bars: moving averages, oscillators, volatility and volume indicators. */
const SPEC_20 = parseFeatureSpec({
  interval: '1m',
  features: [
    { kind: 'indicator', indicator: 'sma', params: { period: 10 } },
    { kind: 'indicator', indicator: 'sma', params: { period: 50 } },
    { kind: 'indicator', indicator: 'ema', params: { period: 12 } },
    { kind: 'indicator', indicator: 'ema', params: { period: 26 } },
    { kind: 'indicator', indicator: 'wma', params: { period: 20 } },
    { kind: 'indicator', indicator: 'rsi', params: { period: 14 } },
    { kind: 'indicator', indicator: 'rsi', params: { period: 50 } },
    { kind: 'indicator', indicator: 'macd' },
    { kind: 'indicator', indicator: 'macd', output: 'signal' },
    { kind: 'indicator', indicator: 'macd', output: 'histogram' },
    { kind: 'indicator', indicator: 'bbands', output: 'upper' },
    { kind: 'indicator', indicator: 'bbands', output: 'lower' },
    { kind: 'indicator', indicator: 'atr', params: { period: 14 } },
    { kind: 'indicator', indicator: 'natr', params: { period: 14 } },
    { kind: 'indicator', indicator: 'stoch' },
    { kind: 'indicator', indicator: 'stoch', output: 'd' },
    { kind: 'indicator', indicator: 'cci', params: { period: 20 } },
    { kind: 'indicator', indicator: 'roc', params: { period: 10 } },
    { kind: 'indicator', indicator: 'willr', params: { period: 14 } },
    { kind: 'indicator', indicator: 'obv' },
  ],
});

/**
 * Per-call latency of an asynchronous call, median over `calls` (2,000, or 10,000 in the full run; after up to 200
 * unmeasured calls), with the probe's GC figures.
 */
async function measureAsync(
  ctx: BenchContext,
  call: () => Promise<unknown>,
  calls = ctx.quick ? 2_000 : 10_000,
): Promise<Measurement> {
  for (let i = 0; i < Math.min(200, calls); i++) await call();
  const per = new Float64Array(calls);
  const probe = startProbe();
  for (let i = 0; i < calls; i++) {
    const t0 = process.hrtime.bigint();
    await call();
    per[i] = Number(process.hrtime.bigint() - t0);
  }
  return probe.finish(median(per), null, calls);
}

export const benches: BenchSpec[] = [
  {
    id: 'ml.features.update_20',
    title:
      'feature vector of 20 indicator features (SMA, EMA, RSI, MACD, Bollinger, ATR, stochastic...) on one bar',
    unit: 'ns/op',
    better: 'lower',
    target: 50,
    targetSource: 'issue 18',
    async run(ctx) {
      const e = new FeatureEngine(SPEC_20);
      const n = 4096;
      const px = new Float64Array(n);
      let p = 600_000;
      for (let i = 0; i < n; i++) {
        p += Math.round(Math.sin(i * 0.37) * 40 + Math.cos(i * 0.11) * 25);
        px[i] = p;
      }
      const at = new Float64Array(2);
      const m = await measure(ctx, (k) => {
        let j = at[0]!;
        let ts = at[1]!;
        for (let i = 0; i < k; i++) {
          const c = px[j]!;
          ts += 60_000_000;
          e.time[0] = ts;
          e.onBar(c - 5, c + 30, c - 30, c, 10 + (j & 7));
          j = (j + 1) & (n - 1);
        }
        at[0] = j;
        at[1] = ts;
        return e.row[5];
      });
      return { main: m, extra: { features: e.size } };
    },
  },
  {
    id: 'ml.linear.predict',
    title: 'linear model prediction over 20 features (a row read in place)',
    unit: 'ns/op',
    better: 'lower',
    target: 20,
    targetSource: 'issue 18',
    async run(ctx) {
      const d = 20;
      const w = Float64Array.from({ length: d }, (_, i) => Math.sin(i + 1) / 10);
      const m = new LinearModel(w, 0.1, Link.IDENTITY);
      const rows = 1024;
      const x = Float64Array.from({ length: rows * d }, (_, i) => Math.cos(i * 0.7));
      const at = new Int32Array(1);
      return {
        main: await measure(ctx, (k) => {
          let r = at[0]!;
          let s = 0;
          for (let i = 0; i < k; i++) {
            s += m.predict(x, r * d);
            r = (r + 1) & (rows - 1);
          }
          at[0] = r;
          return s;
        }),
      };
    },
  },
  {
    id: 'ml.gbdt.predict_100x6',
    title:
      'XGBoost model, 100 trees of depth 6 on 6 features (8% missing values), flat-array walker, one row',
    unit: 'ns/op',
    better: 'lower',
    target: 2000,
    targetSource: 'issue 18',
    async run(ctx) {
      const model = await loadModel(fixture('xgb-100x6.json'));
      const table = readCsv(fixture('xgb-100x6.expected.csv'));
      const d = model.features.length;
      const x = matrix(table, model.features, 'xgb-100x6.expected.csv');
      const rows = table.n;
      const row = model.row!;
      const at = new Int32Array(1);
      const main = await measure(ctx, (k) => {
        let r = at[0]!;
        let s = 0;
        for (let i = 0; i < k; i++) {
          s += row.predict(x, r * d);
          r = r + 1 === rows ? 0 : r + 1;
        }
        at[0] = r;
        return s;
      });
      // Peer: the same trees as an ONNX TreeEnsembleRegressor, one row per run (what a strategy would do).
      const onnx = await loadModel(fixture('xgb-100x6.onnx'));
      const out = new Float64Array(1);
      let r = 0;
      const peer = await measureAsync(ctx, () => {
        r = r + 1 === rows ? 0 : r + 1;
        return onnx.predictBatch(x.subarray(r * d, r * d + d), 1, out);
      });
      // And in one batch of every row, per row (throughput rather than latency); a batch call takes ~100x a
      // row's, so quick mode times 100 of them.
      const all = new Float64Array(rows);
      const batch = await measureAsync(ctx, () => onnx.predictBatch(x, rows, all), ctx.quick ? 100 : 10_000);
      onnx.close();
      return {
        main,
        peers: { [peerName('onnxruntime-node')]: peer },
        extra: { onnx_batch_per_row_ns: Math.round(batch.median / rows), trees: 100 },
      };
    },
  },
  {
    id: 'ml.onnx.mlp',
    title: 'MLP 6-16-8-1 (Gemm, Relu, Sigmoid) through onnxruntime-node, one row per run',
    unit: 'ns/op',
    better: 'lower',
    target: 20_000,
    targetSource: 'issue 18 (report)',
    async run(ctx) {
      const model = await loadModel(fixture('mlp.onnx'));
      const x = Float64Array.of(0.1, -0.2, 0.3, 0.05, -1, 0.7);
      const out = new Float64Array(1);
      const main = await measureAsync(ctx, () => model.predictBatch(x, 1, out));
      model.close();
      return { main, extra: { runtime: peerName('onnxruntime-node') } };
    },
  },
];
