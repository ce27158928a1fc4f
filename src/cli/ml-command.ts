// `bot4 ml`: datasets from market data through the feature engine (dataset), models trained here (train), their
// evaluation on a dataset, with walk-forward retraining or purged cross-validation (evaluate), and predictions of
// any supported model file over a feature table (predict). Reports go to standard output and, with --report, JSON.

import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { parseDuration } from '../backtest/optimize/walk-forward.ts';
import type { Config } from '../core/config.ts';
import { Bot4Error, ErrorCode } from '../core/errors.ts';
import { parseRangeOptions } from '../core/time-text.ts';
import { buildDataset, META_COLUMNS, parseLabel, purgedKFold } from '../ml/dataset.ts';
import { loadFeatureSpec } from '../ml/feature-feed.ts';
import { linearModelFile, loadModel } from '../ml/model-file.ts';
import { column, matrix, readTable, type Table, writeParquet } from '../ml/table.ts';
import {
  completeRows,
  isClassifier,
  type Metrics,
  metrics,
  predictAll,
  TRAINERS,
  type TrainerName,
  type TrainOptions,
  train,
  walkForward,
} from '../ml/train.ts';
import { tradeFolds } from '../ml/wf-trade.ts';
import { collect, parseBalance } from './backtest-command.ts';
import { Interrupted, onInterrupt } from './interrupt.ts';
import { ProgressLine } from './progress.ts';
import { TIMERANGE_OPTION } from './run-options.ts';

function num(text: string | undefined, option: string, min = Number.NEGATIVE_INFINITY): number | undefined {
  if (text === undefined) return undefined;
  const v = Number(text);
  if (!Number.isFinite(v) || v < min) {
    throw new Bot4Error(ErrorCode.INVALID_ARGUMENT, `${option} must be a number >= ${min}, got '${text}'`, {
      option,
      value: text,
    });
  }
  return v;
}

function f(x: number | undefined, digits = 4): string {
  return x === undefined || Number.isNaN(x)
    ? '-'
    : Math.abs(x) >= 1e4 || (x !== 0 && Math.abs(x) < 1e-3)
      ? x.toExponential(3)
      : x.toFixed(digits);
}

export function formatMetrics(m: Metrics): string {
  const parts = [`rows ${m.rows}`, `hit rate ${f(m.hitRate)}`];
  if (m.mse !== undefined) parts.push(`MSE ${f(m.mse)}`, `R2 ${f(m.r2)}`, `corr ${f(m.corr)}`);
  if (m.logLoss !== undefined)
    parts.push(`log loss ${f(m.logLoss)}`, `Brier ${f(m.brier)}`, `AUC ${f(m.auc)}`);
  return parts.join(', ');
}

function formatCalibration(m: Metrics): string {
  const lines = [
    'prediction vs outcome by prediction decile (calibration):',
    '  decile  mean prediction  mean outcome   rows',
  ];
  m.calibration.forEach((c, i) => {
    lines.push(
      `  ${String(i + 1).padStart(6)}  ${f(c.meanPrediction, 6).padStart(15)}  ${f(c.meanOutcome, 6).padStart(12)}  ${String(c.rows).padStart(5)}`,
    );
  });
  return lines.join('\n');
}

function formatImportance(imp: Record<string, number> | null): string {
  if (imp === null) return 'feature importance: not available for this model';
  const rows = Object.entries(imp).sort((a, b) => b[1] - a[1]);
  const top = rows[0]?.[1] ?? 0;
  return [
    'feature importance:',
    ...rows.map(
      ([k, v]) =>
        `  ${k.padEnd(24)} ${f(v, 6).padStart(12)}  ${'#'.repeat(top > 0 ? Math.round((v / top) * 30) : 0)}`,
    ),
  ].join('\n');
}

/** The feature columns of a dataset: --features, or every column that is not a meta column. */
function featureNames(t: Table, given: string | undefined): string[] {
  if (given !== undefined)
    return given
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '');
  return t.names.filter((n) => !META_COLUMNS.includes(n));
}

function trainOptions(o: TrainCli, progress?: ProgressLine): TrainOptions {
  const trainer = o.trainer as TrainerName;
  if (!TRAINERS.includes(trainer)) {
    throw new Bot4Error(
      ErrorCode.INVALID_ARGUMENT,
      `--trainer '${o.trainer}' is not one of ${TRAINERS.join(', ')}`,
      {
        trainer: o.trainer,
      },
    );
  }
  if (o.optimizer !== undefined && o.optimizer !== 'adam' && o.optimizer !== 'adagrad') {
    throw new Bot4Error(ErrorCode.INVALID_ARGUMENT, `--optimizer '${o.optimizer}' is not adam or adagrad`);
  }
  const lambda = num(o.lambda, '--lambda', 0);
  if (lambda !== undefined && !(lambda > 0 && lambda <= 1)) {
    throw new Bot4Error(ErrorCode.INVALID_ARGUMENT, `--lambda must be in (0, 1], got '${o.lambda}'`);
  }
  const opt = (k: string, v: number | string | undefined) => (v === undefined ? {} : { [k]: v });
  return {
    trainer,
    ...opt('alpha', num(o.alpha, '--alpha', 0)),
    ...opt('l2', num(o.l2, '--l2', 0)),
    ...opt('rate', num(o.rate, '--rate', 0)),
    ...opt('epochs', num(o.epochs, '--epochs', 1)),
    ...opt('optimizer', o.optimizer),
    ...opt('lambda', lambda),
    ...(progress === undefined
      ? {}
      : { onProgress: (d: number, t: number) => progress.show(`epoch ${d}/${t}`, d === t) }),
  } as TrainOptions;
}

interface TrainCli {
  data: string;
  trainer: string;
  features?: string;
  alpha?: string;
  l2?: string;
  rate?: string;
  epochs?: string;
  optimizer?: string;
  lambda?: string;
  out?: string;
  report?: string;
  model?: string;
  walkForward?: string;
  anchored?: boolean;
  isRatio?: string;
  cv?: string;
  embargo?: string;
  trade?: string[];
  param: string[];
  balance: string[];
  catalog?: string;
  modelsDir?: string;
  progress: boolean;
}

function trainerOptions(c: Command): Command {
  return c
    .option('-t, --trainer <name>', `model to train: ${TRAINERS.join(', ')}`, 'ridge')
    .option('--features <names>', 'comma-separated feature columns (default: every non-meta column)')
    .option('--alpha <x>', 'ridge penalty on standardised features (default 1)')
    .option('--l2 <x>', 'L2 penalty: logistic (default 1), sgd (default 0)')
    .option('--rate <x>', 'SGD step size (default 0.01)')
    .option('--epochs <n>', 'SGD passes over the rows, in time order (default 5)')
    .option('--optimizer <name>', 'SGD step: adam (default) or adagrad')
    .option('--lambda <x>', 'RLS forgetting factor in (0, 1] (default 1)')
    .option('--report <file>', 'also write the report as JSON')
    .option('--no-progress', 'no progress on standard error');
}

async function loadDataset(file: string, names: string | undefined) {
  const t = await readTable(file);
  const features = featureNames(t, names);
  if (features.length === 0)
    throw new Bot4Error(ErrorCode.INVALID_ARGUMENT, `${file} has no feature columns`);
  return {
    t,
    features,
    x: matrix(t, features, file),
    y: column(t, 'label', file),
    ts: column(t, 'ts', file),
    end: column(t, 'label_end', file),
  };
}

export function registerMlCommands(program: Command, loadConfig: () => Config, description: string): void {
  const ml = program.command('ml').description(description);

  ml.command('dataset')
    .description('replay market data through the feature engine and write features + labels to Parquet')
    .requiredOption(
      '--features <spec.json>',
      'feature spec: {"interval": "1m", "features": [{"kind": ...}, ...]}',
    )
    .requiredOption(
      '-d, --data <files|query...>',
      'market-data files or catalog:<instruments>[/<kinds>] queries',
    )
    .requiredOption(
      '--label <spec>',
      'forward-return:<duration> or triple-barrier:up=<f>,down=<f>,horizon=<duration>',
    )
    .requiredOption('-o, --out <file.parquet>', 'dataset file (Parquet: pandas, polars, DuckDB read it)')
    .option(
      '--instrument <symbol>',
      'instrument whose features are recorded (default: the only one in the data)',
    )
    .option('--catalog <dir>', 'catalog directory for catalog: queries (default: config data.catalogDir)')
    .option('--from <time>', 'start (ISO time, date or micros)')
    .option('--to <time>', 'end, exclusive')
    .option(...TIMERANGE_OPTION)
    .option('--no-progress', 'no progress on standard error')
    .addHelpText(
      'after',
      `
Feature kinds: indicator (any bar indicator of \`bot4 ta\`: {"kind":"indicator","indicator":"rsi","params":{"period":14}}),
return and volatility ({"window": bars}), spread, microprice, imbalance ({"levels": n}), signed-volume and
trade-intensity ({"window": trades}), vpin ({"bucket": lots, "buckets": n}), time-of-day ({"encoding": fraction|sin|cos}).
Columns: ts (micros, when the row was computed: the bar's close as the engine saw it), the features, close,
high, low, label, label_end (micros, when the label resolved). Rows whose label the data cannot resolve are
dropped and counted. Example:
  bot4 ml dataset --features examples/ml/features.json \\
      --data ../shared/data/nautilus_trader/bars/btc-perp-20211231-20220201_1m.csv \\
      --label forward-return:15m --out ds.parquet`,
    )
    .action(
      async (o: {
        features: string;
        data: string[];
        label: string;
        out: string;
        instrument?: string;
        catalog?: string;
        from?: string;
        to?: string;
        timerange?: string;
        progress: boolean;
      }) => {
        const spec = loadFeatureSpec(o.features);
        const label = parseLabel(o.label);
        const { from, to } = parseRangeOptions(o);
        const interrupt = onInterrupt('interrupted: stopping the replay; no dataset is written');
        const progress = new ProgressLine(o.progress);
        let ds: Awaited<ReturnType<typeof buildDataset>>;
        try {
          ds = await buildDataset({
            spec,
            data: o.data,
            label,
            catalogDir: o.catalog ?? loadConfig().data.catalogDir,
            ...(o.instrument === undefined ? {} : { instrument: o.instrument }),
            ...(from === undefined ? {} : { from }),
            ...(to === undefined ? {} : { to }),
            onProgress: (p) => progress.show(`${(p.events / 1e6).toFixed(2)}M events replayed`),
            signal: interrupt.signal,
          });
        } finally {
          interrupt.dispose();
          progress.end();
        }
        if (interrupt.signal.aborted) throw new Interrupted('dataset interrupted: nothing written');
        if (ds.table.n === 0) {
          throw new Bot4Error(
            ErrorCode.DATA_MISSING,
            `no labelled rows: ${ds.recorded} rows recorded for ${ds.instrument} at ${spec.interval} (is the interval one the data has or can be aggregated to?)`,
          );
        }
        await writeParquet(o.out, ds.table, new Set(['ts', 'label_end']));
        if (ds.unlabelled > 0) {
          process.stderr.write(
            `${ds.unlabelled} rows at the end dropped: the data ends before their label (${label.text}) resolves\n`,
          );
        }
        const lines = [
          `dataset ${o.out}: ${ds.table.n} rows x ${ds.features.length} features of ${ds.instrument} (${ds.events.toLocaleString('en-US')} events replayed; ${ds.unlabelled} unlabelled rows dropped)`,
        ];
        const missing = ds.features.map((nm, j) => {
          const c = ds.table.columns[j + 1]!;
          let k = 0;
          for (let r = 0; r < ds.table.n; r++) if (Number.isNaN(c[r]!)) k++;
          return `${nm} ${k}`;
        });
        lines.push(`missing values (warm-up, no book/trades yet): ${missing.join(', ')}`);
        const y = ds.table.columns[ds.table.names.indexOf('label')]!;
        let s = 0;
        let pos = 0;
        for (const v of y) {
          s += v;
          if (v > 0) pos++;
        }
        lines.push(
          `label ${label.text}: mean ${f(s / y.length, 6)}, positive ${((100 * pos) / y.length).toFixed(1)}%`,
        );
        process.stdout.write(`${lines.join('\n')}\n`);
      },
    );

  trainerOptions(
    ml
      .command('train')
      .description(
        'train a model on a dataset (rows with a missing feature are skipped and counted) and write it',
      )
      .requiredOption(
        '-d, --data <ds.parquet>',
        'dataset from `bot4 ml dataset` (or any table with label, ts columns)',
      )
      .option('-o, --out <model.json>', 'model file', 'model.json'),
  )
    .addHelpText(
      'after',
      '\nExample:\n  bot4 ml train --data ds.parquet --trainer ridge --alpha 10 --out model.json',
    )
    .action(async (o: TrainCli) => {
      const progress = new ProgressLine(o.progress);
      const opts = trainOptions(o, progress);
      const d = await loadDataset(o.data, o.features);
      const all = Int32Array.from({ length: d.t.n }, (_, i) => i);
      const rows = completeRows(d.x, d.y, d.features.length, all);
      const skipped = d.t.n - rows.length;
      if (skipped > 0)
        process.stderr.write(`${skipped} of ${d.t.n} rows skipped: a feature or the label is missing\n`);
      const fit = train(d.x, d.y, d.features.length, rows, opts);
      progress.end();
      const importance = Object.fromEntries(d.features.map((nm, j) => [nm, fit.importance[j]!]));
      const { trainer: _t, onProgress: _p, ...settings } = opts;
      const file = linearModelFile(
        fit.model,
        d.features,
        {
          trainer: opts.trainer,
          ...settings,
          rows: fit.rows,
          skipped,
          from: d.ts[rows[0]!],
          to: d.ts[rows[rows.length - 1]!],
          dataset: o.data,
        },
        importance,
      );
      writeFileSync(o.out!, `${JSON.stringify(file, null, 2)}\n`);
      const p = predictAll(fit.model, d.x, d.t.n, d.features.length);
      const m = metrics(p, d.y, rows, isClassifier(opts.trainer));
      process.stdout.write(
        `model ${o.out}: ${opts.trainer} on ${fit.rows} rows x ${d.features.length} features (${skipped} skipped)\n` +
          `in-sample: ${formatMetrics(m)}\n${formatImportance(importance)}\n${formatCalibration(m)}\n`,
      );
      if (o.report !== undefined)
        writeFileSync(
          o.report,
          `${JSON.stringify({ model: o.out, inSample: m, importance, skipped }, null, 2)}\n`,
        );
    });

  trainerOptions(
    ml
      .command('evaluate')
      .description(
        'evaluate a model file on a dataset, or retrain walk-forward (--walk-forward) or by purged k-fold (--cv)',
      )
      .requiredOption('-d, --data <ds.parquet>', 'dataset from `bot4 ml dataset`')
      .option('-m, --model <file>', 'evaluate this model file (linear, XGBoost JSON or .onnx) on every row')
      .option(
        '--walk-forward <folds>',
        'retrain --trainer on each in-sample fold, predict the out-of-sample fold',
      )
      .option('--anchored', 'walk-forward: every in-sample window starts at the data start')
      .option('--is-ratio <r>', 'walk-forward: in-sample share of a fold (default 0.75)')
      .option('--cv <k>', 'purged k-fold cross-validation of --trainer')
      .option(
        '--embargo <duration>',
        'with --cv: also drop training rows this long after each test block (90m, 12h, 1d)',
      )
      .option(
        '--trade <data...>',
        'with --walk-forward: backtest ml-signal with each fold model on its out-of-sample window of this data',
      )
      .option(
        '-p, --param <key=value>',
        'with --trade: ml-signal parameter (repeatable; features=SPEC required)',
        collect,
        [],
      )
      .option(
        '-b, --balance <amountCCY>',
        'with --trade: initial balance (repeatable), e.g. 100000USD',
        collect,
        [],
      )
      .option('--catalog <dir>', 'with --trade: catalog directory for catalog: queries')
      .option('--models-dir <dir>', 'with --trade: where the fold models go (default: a temporary folder)'),
  )
    .addHelpText(
      'after',
      `
Walk-forward folds are the optimiser's (bot4 optimize --walk-forward); training rows whose label ends inside
the out-of-sample window are purged. Examples:
  bot4 ml evaluate --data ds.parquet --model model.json
  bot4 ml evaluate --data ds.parquet --trainer ridge --alpha 10 --walk-forward 4 --report wf.json
  bot4 ml evaluate --data ds.parquet --trainer ridge --walk-forward 4 --trade bars.csv \\
      --param features=spec.json --param long=0.0003 --param short=-0.0003 --balance 100000USD
  bot4 ml evaluate --data ds.parquet --trainer logistic --cv 5 --embargo 1h`,
    )
    .action(async (o: TrainCli) => {
      const modes = [o.model, o.walkForward, o.cv].filter((v) => v !== undefined).length;
      if (modes !== 1) {
        throw new Bot4Error(ErrorCode.INVALID_ARGUMENT, 'give exactly one of --model, --walk-forward, --cv');
      }
      const progress = new ProgressLine(o.progress);
      if (o.model !== undefined) {
        const model = await loadModel(o.model);
        const d = await loadDataset(o.data, model.features.join(','));
        const p = new Float64Array(d.t.n);
        await model.predictBatch(d.x, d.t.n, p);
        model.close();
        const m = metrics(
          p,
          d.y,
          Int32Array.from({ length: d.t.n }, (_, i) => i),
          model.probability,
        );
        process.stdout.write(
          `${model.format} model ${o.model} on ${o.data}: ${formatMetrics(m)}\n${formatImportance(model.importance())}\n${formatCalibration(m)}\n`,
        );
        if (o.report !== undefined)
          writeFileSync(
            o.report,
            `${JSON.stringify({ model: o.model, metrics: m, importance: model.importance() }, null, 2)}\n`,
          );
        return;
      }
      const opts = trainOptions(o);
      const d = await loadDataset(o.data, o.features);
      const dim = d.features.length;
      const cls = isClassifier(opts.trainer);
      if (o.walkForward !== undefined) {
        const folds = num(o.walkForward, '--walk-forward', 1)!;
        const isRatio = num(o.isRatio, '--is-ratio');
        const wf = walkForward(
          d.x,
          d.y,
          d.ts,
          d.end,
          dim,
          { folds, anchored: o.anchored === true, ...(isRatio === undefined ? {} : { isRatio }) },
          opts,
          (k, n) => progress.show(`fold ${k}/${n} trained`, k === n),
        );
        progress.end();
        const iso = (t: number) => new Date(t / 1000).toISOString().slice(0, 16);
        const lines = [
          `walk-forward ${opts.trainer}, ${folds} folds${o.anchored === true ? ' (anchored)' : ''} on ${o.data}:`,
        ];
        for (const r of wf.folds) {
          lines.push(
            `  fold ${r.fold.index + 1}: train ${iso(r.fold.inSample.from)}..${iso(r.fold.inSample.to)} (${r.trainRows} rows, ${r.purged} purged), ` +
              `test ..${iso(r.fold.outOfSample.to)}: ${formatMetrics(r.metrics)}`,
          );
        }
        const oosRows = Array.from({ length: d.t.n }, (_, i) => i).filter((i) => !Number.isNaN(wf.oos[i]!));
        const m = metrics(wf.oos, d.y, oosRows, cls);
        lines.push(`out-of-sample, all folds: ${formatMetrics(m)}`, formatCalibration(m));
        let traded: Awaited<ReturnType<typeof tradeFolds>> | null = null;
        if (o.trade !== undefined) {
          const dir = o.modelsDir ?? mkdtempSync(join(tmpdir(), 'bot4-ml-wf-'));
          mkdirSync(dir, { recursive: true });
          const interrupt = onInterrupt('interrupted: stopping the fold backtests');
          try {
            traded = await tradeFolds({
              folds: wf.folds,
              features: d.features,
              data: o.trade,
              catalogDir: o.catalog ?? loadConfig().data.catalogDir,
              params: o.param,
              balances:
                o.balance.length > 0 ? o.balance.map(parseBalance) : [{ amount: '10000', currency: 'USDT' }],
              riskConfig: loadConfig().risk,
              dir,
              trainer: opts.trainer,
              onFold: (k, n) => progress.show(`fold ${k}/${n} traded`, k === n),
              signal: interrupt.signal,
            });
          } finally {
            interrupt.dispose();
            progress.end();
          }
          if (interrupt.signal.aborted) throw new Interrupted('walk-forward trading interrupted');
          lines.push(`ml-signal on each out-of-sample window (fold models in ${dir}):`);
          for (const t of traded.folds) {
            lines.push(
              `  fold ${t.fold}: return ${f((t.totalReturn ?? Number.NaN) * 100, 2)}%, Sharpe ${f(t.sharpe ?? Number.NaN, 2)}, ` +
                `max drawdown ${f(t.maxDrawdown * 100, 2)}%, ${t.trades} trades`,
            );
          }
          lines.push(`stitched out-of-sample return: ${f(traded.stitchedReturn * 100, 2)}%`);
        }
        process.stdout.write(`${lines.join('\n')}\n`);
        if (o.report !== undefined) {
          const folds_ = wf.folds.map((r) => ({
            ...r.fold,
            trainRows: r.trainRows,
            purged: r.purged,
            testRows: r.testRows,
            metrics: r.metrics,
            weights: [...r.model.weights],
            bias: r.model.bias,
          }));
          writeFileSync(
            o.report,
            `${JSON.stringify({ trainer: opts.trainer, features: d.features, folds: folds_, outOfSample: m, trading: traded }, null, 2)}\n`,
          );
        }
        return;
      }
      const k = num(o.cv, '--cv', 2)!;
      const embargo = o.embargo === undefined ? 0 : parseDuration(o.embargo, '--embargo');
      const splits = purgedKFold(d.ts, d.end, k, embargo);
      const oos = new Float64Array(d.t.n).fill(Number.NaN);
      const lines = [
        `purged ${k}-fold ${opts.trainer}${embargo > 0 ? `, embargo ${o.embargo}` : ''} on ${o.data}:`,
      ];
      splits.forEach((s, i) => {
        const rows = completeRows(d.x, d.y, dim, s.train);
        const { model } = train(d.x, d.y, dim, rows, opts);
        for (const r of s.test) oos[r] = model.predict(d.x, r * dim);
        lines.push(
          `  fold ${i + 1}: ${rows.length} training rows, ${formatMetrics(metrics(oos, d.y, s.test, cls))}`,
        );
        progress.show(`fold ${i + 1}/${k}`, i + 1 === k);
      });
      progress.end();
      const m = metrics(
        oos,
        d.y,
        Int32Array.from({ length: d.t.n }, (_, i) => i),
        cls,
      );
      lines.push(`all folds: ${formatMetrics(m)}`, formatCalibration(m));
      process.stdout.write(`${lines.join('\n')}\n`);
      if (o.report !== undefined)
        writeFileSync(
          o.report,
          `${JSON.stringify({ trainer: opts.trainer, k, embargo, metrics: m }, null, 2)}\n`,
        );
    });

  ml.command('predict')
    .description('predict with any supported model over a feature table; writes one prediction per row')
    .requiredOption('-m, --model <file>', 'Bot4 linear JSON, XGBoost JSON or .onnx')
    .requiredOption(
      '-i, --input <file>',
      'features.csv (header of feature names; empty cell = missing) or .parquet',
    )
    .requiredOption(
      '-o, --out <preds.csv>',
      'output CSV with one column, prediction (a probability for logistic models)',
    )
    .addHelpText(
      'after',
      '\nExample:\n  bot4 ml predict --model src/ml/fixtures/xgb-reg.json --input src/ml/fixtures/xgb-reg.expected.csv --out preds.csv',
    )
    .action(async (o: { model: string; input: string; out: string }) => {
      const model = await loadModel(o.model);
      try {
        const t = await readTable(o.input);
        const x = matrix(t, model.features, o.input);
        const p = new Float64Array(t.n);
        await model.predictBatch(x, t.n, p);
        const out = ['prediction'];
        let missing = 0;
        for (const v of p) {
          if (Number.isNaN(v)) missing++;
          out.push(Number.isNaN(v) ? '' : String(v));
        }
        writeFileSync(o.out, `${out.join('\n')}\n`);
        if (missing > 0)
          process.stderr.write(
            `${missing} rows have no prediction (a missing value the model cannot take): empty cells\n`,
          );
        process.stdout.write(`${t.n} predictions of ${model.format} model ${o.model} written to ${o.out}\n`);
      } finally {
        model.close();
      }
    });
}
