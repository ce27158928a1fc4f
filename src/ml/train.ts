// Training and evaluation of the models trained here, on dataset tables: trainers (ridge, OLS, logistic by
// Newton, online SGD linear/logistic, RLS) fit on standardised features and fold the scaling back into raw-space
// weights, so a model file predicts on the engine's raw feature rows. Evaluation: fit metrics, prediction vs
// outcome by decile (calibration), and walk-forward retraining on the optimiser's folds with purged labels.

import { type Fold, walkForwardFolds } from '../backtest/optimize/walk-forward.ts';
import { Bot4Error, ErrorCode } from '../core/errors.ts';
import { fitLogistic, fitRidge, LinearModel, Link, OnlineSgd, Optimizer, Rls } from './linear.ts';
import type { RowModel } from './model-file.ts';

export const TRAINERS = ['ridge', 'ols', 'logistic', 'sgd', 'sgd-logistic', 'rls'] as const;
export type TrainerName = (typeof TRAINERS)[number];

export interface TrainOptions {
  readonly trainer: TrainerName;
  /** ridge penalty (default 1), on standardised features. */
  readonly alpha?: number;
  /** logistic and SGD L2 penalty (default 1 for logistic, 0 for SGD). */
  readonly l2?: number;
  /** SGD: step size, passes over the data, Adam or AdaGrad. */
  readonly rate?: number;
  readonly epochs?: number;
  readonly optimizer?: 'adam' | 'adagrad';
  /** RLS forgetting factor (default 1). */
  readonly lambda?: number;
  readonly onProgress?: (done: number, total: number) => void;
}

export function isClassifier(trainer: TrainerName): boolean {
  return trainer === 'logistic' || trainer === 'sgd-logistic';
}

/** Rows (indices into the table) whose features and label are all present; the rest are counted, not used. */
export function completeRows(
  x: Float64Array,
  y: Float64Array,
  d: number,
  rows: ArrayLike<number>,
): Int32Array {
  const keep: number[] = [];
  for (let k = 0; k < rows.length; k++) {
    const r = rows[k]!;
    let ok = !Number.isNaN(y[r]!);
    for (let j = 0; ok && j < d; j++) ok = !Number.isNaN(x[r * d + j]!);
    if (ok) keep.push(r);
  }
  return Int32Array.from(keep);
}

export interface Trained {
  readonly model: LinearModel;
  /** |standardised coefficient| per feature. */
  readonly importance: Float64Array;
  readonly rows: number;
}

/** Fits the trainer on rows of x (n x d, row-major) and y. Classifiers learn P(y > 0). */
export function train(
  x: Float64Array,
  y: Float64Array,
  d: number,
  rows: Int32Array,
  o: TrainOptions,
): Trained {
  const n = rows.length;
  if (n < d + 2) {
    throw new Bot4Error(
      ErrorCode.INVALID_ARGUMENT,
      `${o.trainer} needs more complete rows than features + 1; it has ${n} rows for ${d} features`,
      { rows: n, features: d },
    );
  }
  const mean = new Float64Array(d);
  const std = new Float64Array(d);
  for (const r of rows) for (let j = 0; j < d; j++) mean[j] = mean[j]! + x[r * d + j]!;
  for (let j = 0; j < d; j++) mean[j] = mean[j]! / n;
  for (const r of rows) for (let j = 0; j < d; j++) std[j] = std[j]! + (x[r * d + j]! - mean[j]!) ** 2;
  for (let j = 0; j < d; j++) std[j] = Math.sqrt(std[j]! / n) || 1;
  const z = new Float64Array(n * d);
  const t = new Float64Array(n);
  const cls = isClassifier(o.trainer);
  for (let k = 0; k < n; k++) {
    const r = rows[k]!;
    for (let j = 0; j < d; j++) z[k * d + j] = (x[r * d + j]! - mean[j]!) / std[j]!;
    t[k] = cls ? (y[r]! > 0 ? 1 : 0) : y[r]!;
  }
  let std_: LinearModel;
  switch (o.trainer) {
    case 'ridge':
    case 'ols':
      std_ = fitRidge(z, t, n, d, o.trainer === 'ols' ? 0 : (o.alpha ?? 1));
      break;
    case 'logistic':
      std_ = fitLogistic(z, t, n, d, o.l2 ?? 1);
      break;
    case 'sgd':
    case 'sgd-logistic': {
      const sgd = new OnlineSgd(d, {
        link: cls ? Link.LOGISTIC : Link.IDENTITY,
        optimizer: o.optimizer === 'adagrad' ? Optimizer.ADAGRAD : Optimizer.ADAM,
        rate: o.rate ?? 0.01,
        l2: o.l2 ?? 0,
      });
      const epochs = o.epochs ?? 5;
      for (let e = 0; e < epochs; e++) {
        for (let k = 0; k < n; k++) sgd.update(z, k * d, t[k]!);
        o.onProgress?.(e + 1, epochs);
      }
      std_ = sgd.model();
      break;
    }
    case 'rls': {
      const rls = new Rls(d, o.lambda ?? 1, 1e4);
      for (let k = 0; k < n; k++) rls.update(z, k * d, t[k]!);
      std_ = rls.model();
      break;
    }
  }
  const w = new Float64Array(d);
  let bias = std_.bias;
  for (let j = 0; j < d; j++) {
    w[j] = std_.weights[j]! / std[j]!;
    bias -= w[j]! * mean[j]!;
  }
  const importance = Float64Array.from(std_.weights, Math.abs);
  return { model: new LinearModel(w, bias, std_.link), importance, rows: n };
}

export interface Metrics {
  rows: number;
  /** Regression: mean squared error, R^2, correlation; both: sign hit rate (prediction side vs outcome side). */
  mse?: number;
  r2?: number;
  corr?: number;
  hitRate: number;
  /** Classifiers (outcome y > 0): log loss, Brier score, accuracy at 0.5, ROC AUC. */
  logLoss?: number;
  brier?: number;
  accuracy?: number;
  auc?: number;
  /** Prediction deciles: mean prediction, mean outcome, rows. */
  calibration: { meanPrediction: number; meanOutcome: number; rows: number }[];
}

/** Metrics of predictions p against outcomes y over the given rows (NaN predictions skipped). */
export function metrics(
  p: Float64Array,
  y: Float64Array,
  rowsIn: ArrayLike<number>,
  probability: boolean,
): Metrics {
  const rows = Array.from(rowsIn).filter((r) => !Number.isNaN(p[r]!) && !Number.isNaN(y[r]!));
  const n = rows.length;
  const out: Metrics = { rows: n, hitRate: Number.NaN, calibration: [] };
  if (n === 0) return out;
  const outcome = (r: number) => (probability ? (y[r]! > 0 ? 1 : 0) : y[r]!);
  let hits = 0;
  for (const r of rows)
    if (probability ? p[r]! > 0.5 === y[r]! > 0 : Math.sign(p[r]!) === Math.sign(y[r]!)) hits++;
  out.hitRate = hits / n;
  if (probability) {
    let ll = 0;
    let br = 0;
    for (const r of rows) {
      const q = Math.min(Math.max(p[r]!, 1e-15), 1 - 1e-15);
      const o = outcome(r);
      ll -= o * Math.log(q) + (1 - o) * Math.log(1 - q);
      br += (q - o) ** 2;
    }
    out.logLoss = ll / n;
    out.brier = br / n;
    out.accuracy = out.hitRate;
    // AUC by ranks (Mann-Whitney U), ties averaged.
    const sorted = [...rows].sort((a, b) => p[a]! - p[b]!);
    let pos = 0;
    let rankSum = 0;
    for (let i = 0; i < n; ) {
      let j = i;
      while (j < n && p[sorted[j]!] === p[sorted[i]!]) j++;
      const avg = (i + j + 1) / 2;
      for (let k = i; k < j; k++) {
        if (outcome(sorted[k]!) === 1) {
          pos++;
          rankSum += avg;
        }
      }
      i = j;
    }
    const neg = n - pos;
    out.auc = pos > 0 && neg > 0 ? (rankSum - (pos * (pos + 1)) / 2) / (pos * neg) : Number.NaN;
  } else {
    let my = 0;
    let mp = 0;
    for (const r of rows) {
      my += y[r]!;
      mp += p[r]!;
    }
    my /= n;
    mp /= n;
    let se = 0;
    let sy = 0;
    let sp = 0;
    let spy = 0;
    for (const r of rows) {
      se += (p[r]! - y[r]!) ** 2;
      sy += (y[r]! - my) ** 2;
      sp += (p[r]! - mp) ** 2;
      spy += (p[r]! - mp) * (y[r]! - my);
    }
    out.mse = se / n;
    out.r2 = sy > 0 ? 1 - se / sy : Number.NaN;
    out.corr = sp > 0 && sy > 0 ? spy / Math.sqrt(sp * sy) : Number.NaN;
  }
  const byP = [...rows].sort((a, b) => p[a]! - p[b]!);
  const bins = Math.min(10, n);
  for (let b = 0; b < bins; b++) {
    const part = byP.slice(Math.floor((b * n) / bins), Math.floor(((b + 1) * n) / bins));
    let sp = 0;
    let so = 0;
    for (const r of part) {
      sp += p[r]!;
      so += outcome(r);
    }
    out.calibration.push({
      meanPrediction: sp / part.length,
      meanOutcome: so / part.length,
      rows: part.length,
    });
  }
  return out;
}

/** Predictions of a row model for every row of x (NaN where a feature is missing and the model is linear). */
export function predictAll(m: RowModel, x: Float64Array, n: number, d: number): Float64Array {
  const p = new Float64Array(n);
  for (let r = 0; r < n; r++) p[r] = m.predict(x, r * d);
  return p;
}

export interface FoldResult {
  readonly fold: Fold;
  readonly trainRows: number;
  /** Training rows dropped because their label ended inside the out-of-sample window. */
  readonly purged: number;
  readonly testRows: number;
  readonly metrics: Metrics;
  readonly model: LinearModel;
}

/**
 * Walk-forward retraining: the optimiser's folds over the dataset's time range; each fold trains on its in-sample
 * rows whose labels end before the out-of-sample window starts (purged), then predicts the out-of-sample rows.
 * Returns per-fold results and the stitched out-of-sample predictions (NaN outside every OOS window).
 */
export function walkForward(
  x: Float64Array,
  y: Float64Array,
  ts: Float64Array,
  end: Float64Array,
  d: number,
  spec: { folds: number; anchored: boolean; isRatio?: number },
  o: TrainOptions,
  onFold?: (k: number, folds: number) => void,
): { folds: FoldResult[]; oos: Float64Array } {
  const n = ts.length;
  const folds = walkForwardFolds({ from: ts[0]!, to: ts[n - 1]! + 1 }, spec);
  const oos = new Float64Array(n).fill(Number.NaN);
  const all = Int32Array.from({ length: n }, (_, i) => i);
  const complete = completeRows(x, y, d, all);
  const results: FoldResult[] = [];
  for (const f of folds) {
    const inIs = Array.from(complete).filter((r) => ts[r]! >= f.inSample.from && ts[r]! < f.inSample.to);
    const trainRows = Int32Array.from(inIs.filter((r) => end[r]! < f.outOfSample.from));
    const { model } = train(x, y, d, trainRows, o);
    const test: number[] = [];
    for (let r = 0; r < n; r++) {
      if (ts[r]! >= f.outOfSample.from && ts[r]! < f.outOfSample.to) {
        oos[r] = model.predict(x, r * d);
        test.push(r);
      }
    }
    results.push({
      fold: f,
      trainRows: trainRows.length,
      purged: inIs.length - trainRows.length,
      testRows: test.length,
      metrics: metrics(oos, y, test, isClassifier(o.trainer)),
      model,
    });
    onFold?.(f.index + 1, folds.length);
  }
  return { folds: results, oos };
}
