// `bot4 ml` run as a user would (child processes): predict with imported models against the libraries' own
// outputs, the four-command workflow (dataset, train, walk-forward evaluate, backtest ml-signal) on real bars from
// shared/data, and exit 2 with a one-line message for bad input.

import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { readCsv } from '../ml/table.ts';
import { runBot4 } from './cli.test-util.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const bars = fileURLToPath(
  new URL('../../../shared/data/nautilus_trader/bars/btc-perp-20211231-20220201_1m.csv', import.meta.url),
);
const tmp = mkdtempSync(join(tmpdir(), 'bot4-ml-cli-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function bot4(args: string[]) {
  return runBot4(args);
}

describe('bot4 ml predict', () => {
  it('writes XGBoost predictions matching XGBoost to 1e-6, probabilities for binary:logistic', () => {
    for (const m of ['xgb-reg', 'xgb-bin']) {
      const out = join(tmp, `${m}.csv`);
      const input = `src/ml/fixtures/${m}.expected.csv`;
      const r = bot4([
        'ml',
        'predict',
        '--model',
        `src/ml/fixtures/${m}.json`,
        '--input',
        input,
        '--out',
        out,
      ]);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const got = readCsv(out);
      const want = readCsv(join(root, input));
      expect(got.names).toEqual(['prediction']);
      const e = want.columns[want.names.indexOf('expected')]!;
      for (let i = 0; i < want.n; i++) {
        expect(Math.abs(got.columns[0]![i]! - e[i]!)).toBeLessThanOrEqual(
          1e-6 * Math.max(Math.abs(e[i]!), 1e-3),
        );
      }
    }
  }, 60_000);

  it('exits 2 naming a feature the table lacks, or an unreadable model', () => {
    const csv = join(tmp, 'x.csv');
    writeFileSync(csv, 'f_ret,f_vol\n1,2\n');
    const r = bot4([
      'ml',
      'predict',
      '--model',
      'src/ml/fixtures/xgb-reg.json',
      '--input',
      csv,
      '--out',
      join(tmp, 'p.csv'),
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("has no column 'f_rsi'");
    const bad = bot4(['ml', 'predict', '--model', csv, '--input', csv, '--out', join(tmp, 'p.csv')]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/model file .*x\.csv: not JSON/);
  }, 60_000);
});

describe('bot4 ml workflow on real bars', () => {
  const have = existsSync(bars);
  if (!have && process.env.CI !== undefined) {
    it('has its data', () => {
      throw new Error(`missing ${bars}: CI must have ../shared/data`);
    });
  }
  it.skipIf(!have)(
    'dataset, train, walk-forward evaluate, backtest ml-signal',
    () => {
      const spec = join(tmp, 'features.json');
      writeFileSync(
        spec,
        JSON.stringify({
          interval: '1m',
          features: [
            { kind: 'return', window: 5 },
            { kind: 'volatility', window: 30 },
            { kind: 'indicator', indicator: 'rsi', params: { period: 14 } },
            { kind: 'time-of-day', encoding: 'sin' },
          ],
        }),
      );
      const ds = join(tmp, 'ds.parquet');
      const a = bot4([
        'ml',
        'dataset',
        '--features',
        spec,
        '--data',
        bars,
        '--to',
        '2022-01-08',
        '--label',
        'forward-return:15m',
        '--out',
        ds,
        '--no-progress',
      ]);
      expect(a.code, a.stderr).toBe(0);
      const rows = Number(/(\d+) rows x 4 features of BTC-PERP\.FTX/.exec(a.stdout)?.[1]);
      expect(rows).toBeGreaterThan(9000);
      expect(a.stderr).toContain('15 rows at the end dropped');
      const model = join(tmp, 'model.json');
      const b = bot4([
        'ml',
        'train',
        '--data',
        ds,
        '--trainer',
        'ridge',
        '--alpha',
        '10',
        '--out',
        model,
        '--no-progress',
      ]);
      expect(b.code, b.stderr).toBe(0);
      expect(b.stdout).toContain('feature importance:');
      expect(b.stdout).toContain('calibration');
      expect(b.stderr).toContain('rows skipped: a feature or the label is missing');
      const saved = JSON.parse(readFileSync(model, 'utf8'));
      expect(saved.features).toEqual(['ret_5', 'vol_30', 'rsi_14', 'tod_sin']);
      const report = join(tmp, 'wf.json');
      const c = bot4([
        'ml',
        'evaluate',
        '--data',
        ds,
        '--trainer',
        'ridge',
        '--walk-forward',
        '3',
        '--report',
        report,
        '--no-progress',
        '--trade',
        bars,
        '--param',
        'instrument=BTC-PERP.FTX',
        '--param',
        `features=${spec}`,
        '--param',
        'long=0.0002',
        '--param',
        'short=-0.0002',
        '--param',
        'qty=0.1',
        '--balance',
        '100000USD',
        '--models-dir',
        join(tmp, 'folds'),
      ]);
      expect(c.code, c.stderr).toBe(0);
      const wf = JSON.parse(readFileSync(report, 'utf8'));
      expect(wf.folds).toHaveLength(3);
      // Labels span 15 minutes: each fold purges the 15 training rows whose label reaches into its test window.
      for (const f of wf.folds) expect(f.purged).toBe(15);
      expect(wf.outOfSample.rows).toBeGreaterThan(3000);
      // Each fold's model traded its own out-of-sample window; the fold models are kept for inspection.
      expect(wf.trading.folds).toHaveLength(3);
      for (const [i, t] of wf.trading.folds.entries()) {
        expect(t.from).toBe(wf.folds[i].outOfSample.from);
        expect(t.orders).toBeGreaterThan(0);
        expect(JSON.parse(readFileSync(t.modelFile, 'utf8')).weights).toEqual(wf.folds[i].weights);
      }
      expect(c.stdout).toContain('stitched out-of-sample return');
      const d = bot4([
        'backtest',
        '--strategy',
        'ml-signal',
        '--data',
        bars,
        '--to',
        '2022-01-08',
        '--param',
        'instrument=BTC-PERP.FTX',
        '--param',
        `model=${model}`,
        '--param',
        `features=${spec}`,
        '--param',
        'long=0.0002',
        '--param',
        'short=-0.0002',
        '--param',
        'qty=0.1',
        '--balance',
        '100000USD',
        '--out',
        join(tmp, 'bt'),
        '--no-progress',
      ]);
      expect(d.code, d.stderr).toBe(0);
      expect(Number(/Orders \/ fills\s+(\d+)/.exec(d.stdout)?.[1])).toBeGreaterThan(10);
    },
    300_000,
  );

  it('exits 2 with one line for a bad label, spec or trainer', () => {
    const spec = join(tmp, 'bad.json');
    writeFileSync(spec, JSON.stringify({ interval: '1m', features: [{ kind: 'return', window: 0 }] }));
    const r = bot4([
      'ml',
      'dataset',
      '--features',
      spec,
      '--data',
      bars,
      '--label',
      'forward-return:5m',
      '--out',
      join(tmp, 'x.parquet'),
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain("'window' must be a whole number");
    const l = bot4([
      'ml',
      'dataset',
      '--features',
      spec,
      '--data',
      bars,
      '--label',
      'up:5m',
      '--out',
      join(tmp, 'x.parquet'),
    ]);
    expect(l.code).toBe(2);
    const t = bot4(['ml', 'train', '--data', join(tmp, 'none.parquet'), '--trainer', 'forest']);
    expect(t.code).toBe(2);
    expect(t.stderr).toContain(
      "--trainer 'forest' is not one of ridge, ols, logistic, sgd, sgd-logistic, rls",
    );
  }, 60_000);
});
