import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { LinearModel, Link } from './linear.ts';
import { linearModelFile, loadModel } from './model-file.ts';
import { column, matrix, readCsv, readTable, writeParquet } from './table.ts';

const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

/** Our predictions for every row of an expected-predictions CSV, beside XGBoost's (or numpy's) own. */
async function compare(modelFile: string, expectedCsv: string, relTol: number): Promise<number> {
  const m = await loadModel(fixture(modelFile));
  const t = readCsv(fixture(expectedCsv));
  const x = matrix(t, m.features, expectedCsv);
  const want = column(t, 'expected', expectedCsv);
  const got = new Float64Array(t.n);
  await m.predictBatch(x, t.n, got);
  let worst = 0;
  for (let r = 0; r < t.n; r++) {
    const err = Math.abs(got[r]! - want[r]!) / Math.max(Math.abs(want[r]!), 1e-3);
    worst = Math.max(worst, err);
    if (m.row !== null) expect(m.row.predict(x, r * m.features.length)).toBe(got[r]);
  }
  m.close();
  expect(worst).toBeLessThan(relTol);
  return t.n;
}

describe('imported models match the libraries that made them', () => {
  it('XGBoost regression (20 trees, depth 4, base_score 0.2, 8% missing values) to 1e-6 relative', async () => {
    expect(await compare('xgb-reg.json', 'xgb-reg.expected.csv', 1e-6)).toBe(200);
  });

  it('XGBoost binary:logistic probabilities to 1e-6 relative', async () => {
    const m = await loadModel(fixture('xgb-bin.json'));
    expect(m.probability).toBe(true);
    expect(m.features).toEqual(['f_ret', 'f_vol', 'f_rsi', 'f_imb', 'f_spread', 'f_tod']);
    await compare('xgb-bin.json', 'xgb-bin.expected.csv', 1e-6);
  });

  it('the 100-tree depth-6 bench model, its gain importance covering the features it splits on', async () => {
    await compare('xgb-100x6.json', 'xgb-100x6.expected.csv', 1e-6);
    const imp = (await loadModel(fixture('xgb-100x6.json'))).importance()!;
    expect(imp.f_ret).toBeGreaterThan(0);
    expect(Object.keys(imp)).toHaveLength(6);
  });

  it('the same 100 trees as an ONNX TreeEnsembleRegressor agree with XGBoost to 1e-4', async () => {
    // onnxruntime sums the leaves in its own order and precision, so only the walker is held to 1e-6.
    await compare('xgb-100x6.onnx', 'xgb-100x6.expected.csv', 1e-4);
  });

  it('an ONNX MLP (6-16-8-1, hand-built with onnx.helper) matches numpy to 1e-6 relative', async () => {
    const m = await loadModel(fixture('mlp.onnx'));
    expect(m.format).toBe('onnx');
    expect(m.features).toEqual(['f_ret', 'f_vol', 'f_rsi', 'f_imb', 'f_spread', 'f_tod']);
    m.close();
    expect(await compare('mlp.onnx', 'mlp.expected.csv', 1e-6)).toBe(50);
  });

  it('a Bot4 linear model file round-trips, and bad files fail naming the problem', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bot4-ml-'));
    const file = join(dir, 'm.json');
    const lm = new LinearModel(Float64Array.of(0.5, -2), 0.25, Link.LOGISTIC);
    writeFileSync(file, JSON.stringify(linearModelFile(lm, ['a', 'b'], { name: 'test' })));
    const m = await loadModel(file);
    expect(m.probability).toBe(true);
    expect(m.row!.predict(Float64Array.of(1, 1), 0)).toBeCloseTo(1 / (1 + Math.exp(1.25)), 15);
    writeFileSync(
      file,
      '{"format":"bot4-linear","features":["a"],"weights":[1,2],"bias":0,"link":"identity"}',
    );
    await expect(loadModel(file)).rejects.toThrow(/weights \(2\) must match features \(1\)/);
    writeFileSync(file, '{"hello":1}');
    await expect(loadModel(file)).rejects.toThrow(/unknown JSON model/);
  });

  it('Parquet written through DuckDB reads back with NaN as a missing value', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bot4-ml-'));
    const file = join(dir, 't.parquet');
    const n = 5000;
    const ts = Float64Array.from({ length: n }, (_, i) => 1.7e15 + i * 60e6);
    const v = Float64Array.from({ length: n }, (_, i) => (i % 7 === 0 ? Number.NaN : i / 3));
    await writeParquet(file, { names: ['ts', 'v'], columns: [ts, v], n }, new Set(['ts']));
    const t = await readTable(file);
    expect(t.n).toBe(n);
    expect([...column(t, 'ts', file)]).toEqual([...ts]);
    expect([...column(t, 'v', file)]).toEqual([...v]);
    expect(() => column(t, 'w', file)).toThrow(`${file} has no column 'w' (it has ts, v)`);
  });
});
