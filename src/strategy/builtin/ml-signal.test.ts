import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEMO_INSTRUMENT, demoMarket } from '../../backtest/demo-market.ts';
import { runBacktest } from '../../backtest/runner.ts';
import { buildDataset, parseLabel } from '../../ml/dataset.ts';
import { parseFeatureSpec } from '../../ml/features.ts';
import { LinearModel, Link } from '../../ml/linear.ts';
import { linearModelFile } from '../../ml/model-file.ts';
import { completeRows, train } from '../../ml/train.ts';
import { newInstrumentRegistry } from '../../model/instrument.ts';
import { EventBatch } from '../../model/market-data.ts';
import { MlSignal } from './ml-signal.ts';

const SPEC_JSON = {
  interval: '1m',
  features: [
    { kind: 'return', window: 3 },
    { kind: 'volatility', window: 20 },
    { kind: 'indicator', indicator: 'rsi', params: { period: 14 } },
    { kind: 'spread' },
    { kind: 'microprice' },
    { kind: 'signed-volume', window: 40 },
    { kind: 'vpin', bucket: 100, buckets: 10 },
    { kind: 'time-of-day', encoding: 'sin' },
  ],
};
const SPEC = parseFeatureSpec(SPEC_JSON);

function market(): EventBatch[] {
  const out: EventBatch[] = [];
  for (const b of demoMarket(0, { seed: 11, duration: 4 * 3_600_000_000, meanGapMicros: 200_000 })) {
    const c = new EventBatch(b.length);
    for (let i = 0; i < b.length; i++) c.copyRow(b, i);
    out.push(c);
  }
  return out;
}

function files(model: LinearModel, features: readonly string[]) {
  const dir = mkdtempSync(join(tmpdir(), 'bot4-mlsignal-'));
  const spec = join(dir, 'features.json');
  const m = join(dir, 'model.json');
  writeFileSync(spec, JSON.stringify(SPEC_JSON));
  writeFileSync(m, JSON.stringify(linearModelFile(model, features, { trainer: 'test' })));
  return { spec, model: m };
}

async function backtest(strategy: MlSignal, batches: EventBatch[]) {
  const instruments = newInstrumentRegistry();
  instruments.add(DEMO_INSTRUMENT);
  return runBacktest({
    strategies: [{ strategy }],
    instruments,
    data: batches,
    dataLabel: 'demo',
    balances: [{ currency: 'USDT', amount: '100000' }],
  });
}

describe('MlSignal', () => {
  it('trades on exactly the features the dataset recorded: predictions equal the model on dataset rows, bit for bit', async () => {
    const batches = market();
    const instruments = newInstrumentRegistry();
    instruments.add(DEMO_INSTRUMENT);
    const ds = await buildDataset({
      spec: SPEC,
      data: { batches, instruments, label: 'demo' },
      label: parseLabel('forward-return:5m'),
      catalogDir: '',
    });
    const d = SPEC.names.length;
    const n = ds.table.n;
    const x = new Float64Array(n * d);
    for (let j = 0; j < d; j++) for (let r = 0; r < n; r++) x[r * d + j] = ds.table.columns[j + 1]![r]!;
    const y = ds.table.columns[ds.table.names.indexOf('label')]!;
    const rows = completeRows(
      x,
      y,
      d,
      Int32Array.from({ length: n }, (_, i) => i),
    );
    const { model } = train(x, y, d, rows, { trainer: 'ridge', alpha: 1 });
    // The model lists its features in reverse: the strategy must gather by name, not by position.
    const rev = [...SPEC.names].reverse();
    const revModel = new LinearModel(model.weights.slice().reverse(), model.bias, Link.IDENTITY);
    const f = files(revModel, rev);
    const s = new MlSignal({
      instrument: 'BTCUSDT.DEMO',
      model: f.model,
      features: f.spec,
      long: 1e-4,
      short: -1e-4,
      allowShort: true,
      qty: 0.01,
    });
    s.predictions = [];
    const result = await backtest(s, batches);
    expect(s.predictions.length).toBe(ds.recorded);
    // The same model over the dataset's rows, columns in the model's (reversed) order: the same sums, bit for bit.
    const xr = new Float64Array(n * d);
    for (let r = 0; r < n; r++) for (let j = 0; j < d; j++) xr[r * d + j] = x[r * d + (d - 1 - j)]!;
    let compared = 0;
    for (let r = 0; r < n; r++) {
      const want = revModel.predict(xr, r * d);
      expect(Object.is(s.predictions[r], want), `row ${r}: ${s.predictions[r]} vs ${want}`).toBe(true);
      if (!Number.isNaN(want)) compared++;
    }
    expect(compared).toBeGreaterThan(150);
    expect(result.stats.orders).toBeGreaterThan(2);
  });

  it('holds between the thresholds, sizes by fraction of equity, and refuses bad setups', async () => {
    const f = files(new LinearModel(new Float64Array(SPEC.names.length), 0.5, Link.LOGISTIC), SPEC.names);
    // A constant probability 0.62: long at 0.6, nothing at 0.7.
    const long = new MlSignal({
      instrument: 'BTCUSDT.DEMO',
      model: f.model,
      features: f.spec,
      long: 0.6,
      short: 0.4,
    });
    const none = new MlSignal({
      instrument: 'BTCUSDT.DEMO',
      model: f.model,
      features: f.spec,
      long: 0.7,
      short: 0.4,
    });
    const frac = new MlSignal({
      instrument: 'BTCUSDT.DEMO',
      model: f.model,
      features: f.spec,
      long: 0.6,
      short: 0.4,
      sizing: 'fraction',
      fraction: 0.5,
    });
    const batches = market();
    const a = await backtest(long, batches);
    expect(a.stats.orders).toBe(1);
    expect((await backtest(none, batches)).stats.orders).toBe(0);
    const c = await backtest(frac, batches);
    expect(c.stats.orders).toBe(1);
    // Half of 100,000 USDT at ~60,000: about 0.83 BTC (830 lots of 0.001), against 0.01 for the fixed default.
    const pos = c.portfolio.netQty(0 as never);
    expect(pos).toBeGreaterThan(700);
    expect(pos).toBeLessThan(950);
    expect(a.portfolio.netQty(0 as never)).toBe(10);
    expect(() => new MlSignal({ model: f.model }).subscriptions()).toThrow(
      /'model' and 'features' are required/,
    );
    expect(() => new MlSignal({ model: f.model, features: f.spec, long: 0.1, short: 0.2 })).toThrow(
      /'short' \(0.2\) must not be above 'long' \(0.1\)/,
    );
    const g = files(new LinearModel(new Float64Array(1), 0, Link.IDENTITY), ['nope']);
    expect(() => new MlSignal({ model: g.model, features: f.spec }).subscriptions()).toThrow(
      /reads nope, which feature spec/,
    );
  });

  it('retrains in a worker on a schedule and swaps at the same bar in every run: the model trained on that window', async () => {
    const batches = market();
    const instruments = newInstrumentRegistry();
    instruments.add(DEMO_INSTRUMENT);
    const ds = await buildDataset({
      spec: SPEC,
      data: { batches, instruments, label: 'demo' },
      label: parseLabel('forward-return:5m'),
      catalogDir: '',
    });
    const d = SPEC.names.length;
    const f = files(new LinearModel(new Float64Array(d), 0, Link.IDENTITY), SPEC.names);
    const params = {
      instrument: 'BTCUSDT.DEMO',
      model: f.model,
      features: f.spec,
      long: 1e-4,
      short: -1e-4,
      allowShort: true,
      retrainEvery: 100,
      retrainWindow: 120,
      retrainHorizon: 5,
      retrainLag: 3,
      retrainAlpha: 2,
    };
    const runs: { p: number[]; fingerprint: string }[] = [];
    for (let k = 0; k < 2; k++) {
      const s = new MlSignal(params);
      s.predictions = [];
      const r = await backtest(s, batches);
      runs.push({ p: s.predictions, fingerprint: r.fingerprint });
    }
    expect(runs[0]!.fingerprint).toBe(runs[1]!.fingerprint);
    expect(runs[0]!.p.every((v, i) => Object.is(v, runs[1]!.p[i]))).toBe(true);
    // Before bar 103 the zero model predicts 0 (NaN in warm-up); from bar 103 on, the ridge fit requested at bar
    // 100 on rows 0..95 (labels: the close 5 bars later) predicts, exactly as train() on the same rows does.
    const n = 96;
    const x = new Float64Array(n * d);
    const close = ds.table.columns[ds.table.names.indexOf('close')]!;
    const y = new Float64Array(n);
    for (let r = 0; r < n; r++) {
      for (let j = 0; j < d; j++) x[r * d + j] = ds.table.columns[j + 1]![r]!;
      y[r] = Math.log(close[r + 5]! / close[r]!);
    }
    const rows = completeRows(
      x,
      y,
      d,
      Int32Array.from({ length: n }, (_, i) => i),
    );
    const want = train(x, y, d, rows, { trainer: 'ridge', alpha: 2 }).model;
    const p = runs[0]!.p;
    for (let t = 0; t < 103; t++) expect(p[t] === 0 || Number.isNaN(p[t]!), `bar ${t}`).toBe(true);
    const row = new Float64Array(d);
    for (let t = 103; t < 200; t++) {
      for (let j = 0; j < d; j++) row[j] = ds.table.columns[j + 1]![t]!;
      expect(Object.is(p[t], want.predict(row, 0)), `bar ${t}`).toBe(true);
    }
  }, 120_000);
});
