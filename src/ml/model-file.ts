// Model files: Bot4's own linear models (JSON written by `bot4 ml train`), XGBoost JSON models, and ONNX graphs
// (through onnxruntime-node, loaded only when an .onnx file is opened). Every format is a Predictor over rows of
// named features; linear and tree models also predict one row synchronously with no allocation (the strategy's
// hot path), ONNX only in batches (its runtime is asynchronous).

import { readFileSync } from 'node:fs';
import { Bot4Error, ErrorCode } from '../core/errors.ts';
import { GbdtModel } from './gbdt.ts';
import { LinearModel, Link } from './linear.ts';

/** A model that predicts one row in place, synchronously: what a strategy calls per decision. */
export interface RowModel {
  predict(x: Float64Array, off: number): number;
}

export interface Predictor {
  readonly format: 'linear' | 'xgboost' | 'onnx';
  readonly file: string;
  /** Feature names in the column order the model reads. */
  readonly features: readonly string[];
  /** True when predictions are probabilities (logistic link, binary:logistic, a sigmoid output). */
  readonly probability: boolean;
  /** The synchronous row form, or null (ONNX). */
  readonly row: RowModel | null;
  /** Predictions for n rows of x (row-major, features.length columns) into out. */
  predictBatch(x: Float64Array, n: number, out: Float64Array): Promise<void>;
  /** Importance per feature where the model has one (linear: |w| times the feature's training std). */
  importance(): Record<string, number> | null;
  close(): void;
}

export const LINEAR_FORMAT = 'bot4-linear';

/** The JSON of a linear model file. */
export interface LinearModelFile {
  format: typeof LINEAR_FORMAT;
  version: 1;
  features: string[];
  link: 'identity' | 'logistic';
  weights: number[];
  bias: number;
  /** How it was trained (trainer name and options, rows, time range). */
  trainer: Record<string, unknown>;
  importance?: Record<string, number>;
}

export function linearModelFile(
  model: LinearModel,
  features: readonly string[],
  trainer: Record<string, unknown>,
  importance?: Record<string, number>,
): LinearModelFile {
  return {
    format: LINEAR_FORMAT,
    version: 1,
    features: [...features],
    link: model.link === Link.LOGISTIC ? 'logistic' : 'identity',
    weights: [...model.weights],
    bias: model.bias,
    trainer,
    ...(importance === undefined ? {} : { importance }),
  };
}

function rowBatch(m: RowModel, d: number) {
  return async (x: Float64Array, n: number, out: Float64Array): Promise<void> => {
    for (let r = 0; r < n; r++) out[r] = m.predict(x, r * d);
  };
}

function bad(file: string, what: string): never {
  throw new Bot4Error(ErrorCode.DATA_MALFORMED, `model file ${file}: ${what}`, { file });
}

export function linearFromJson(j: LinearModelFile, file: string): LinearModel {
  const d = j.features?.length ?? -1;
  if (!Array.isArray(j.weights) || j.weights.length !== d || !Number.isFinite(j.bias)) {
    bad(file, `weights (${j.weights?.length}) must match features (${d}) and bias must be a number`);
  }
  if (j.link !== 'identity' && j.link !== 'logistic')
    bad(file, `link '${String(j.link)}' (identity or logistic)`);
  return new LinearModel(
    Float64Array.from(j.weights),
    j.bias,
    j.link === 'logistic' ? Link.LOGISTIC : Link.IDENTITY,
  );
}

function readJson(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new Bot4Error(
      ErrorCode.DATA_MISSING,
      `model file ${file} cannot be read: ${(e as Error).message}`,
      {
        file,
      },
    );
  }
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch (e) {
    bad(
      file,
      `not JSON (${(e as Error).message}); expected a Bot4 linear model, an XGBoost JSON model or .onnx`,
    );
  }
}

/** A JSON model (Bot4 linear or XGBoost) with its feature names: what a strategy predicts with, synchronously. */
export function loadRowModel(file: string): {
  format: 'linear' | 'xgboost';
  model: LinearModel | GbdtModel;
  features: readonly string[];
  importance: Record<string, number> | null;
} {
  if (file.toLowerCase().endsWith('.onnx')) {
    throw new Bot4Error(
      ErrorCode.INVALID_ARGUMENT,
      `model ${file}: ONNX models run in batches only (onnxruntime is asynchronous); a strategy needs a linear or XGBoost JSON model`,
      { file },
    );
  }
  const json = readJson(file);
  if (json.format === LINEAR_FORMAT) {
    const j = json as unknown as LinearModelFile;
    return {
      format: 'linear',
      model: linearFromJson(j, file),
      features: j.features,
      importance: j.importance ?? null,
    };
  }
  if (json.learner !== undefined) {
    const m = new GbdtModel(json, file);
    return { format: 'xgboost', model: m, features: m.features, importance: m.importance() };
  }
  bad(file, `unknown JSON model (no "format": "${LINEAR_FORMAT}" and no XGBoost "learner")`);
}

/** Opens a model file by content: .onnx files, Bot4 linear JSON, XGBoost JSON. */
export async function loadModel(file: string): Promise<Predictor> {
  if (file.toLowerCase().endsWith('.onnx')) return loadOnnx(file);
  const m = loadRowModel(file);
  return {
    format: m.format,
    file,
    features: m.features,
    probability: m.model instanceof GbdtModel ? m.model.probability : m.model.link === Link.LOGISTIC,
    row: m.model,
    predictBatch: rowBatch(m.model, m.features.length),
    importance: () => m.importance,
    close() {},
  };
}

/** An ONNX graph with one float input [batch, features] and one output [batch] or [batch, 1]. */
async function loadOnnx(file: string): Promise<Predictor> {
  let ort: typeof import('onnxruntime-node');
  try {
    ort = await import('onnxruntime-node');
  } catch (e) {
    throw new Bot4Error(
      ErrorCode.NOT_FOUND,
      `model file ${file}: ONNX needs the onnxruntime-node package, which did not load (${(e as Error).message})`,
      { file },
    );
  }
  let session: import('onnxruntime-node').InferenceSession;
  try {
    session = await ort.InferenceSession.create(file);
  } catch (e) {
    bad(file, `onnxruntime cannot load it: ${(e as Error).message}`);
  }
  const input = session.inputNames[0]!;
  const output = session.outputNames[0]!;
  const meta = session.inputMetadata?.[0] as { shape?: readonly (number | string)[] } | undefined;
  const width = Number(meta?.shape?.[1]);
  // Feature names: the graph's metadata `feature_names` (comma separated), else f0..f{n-1}.
  const names = await onnxFeatureNames(file);
  const features = names ?? (Number.isInteger(width) ? Array.from({ length: width }, (_, i) => `f${i}`) : []);
  if (features.length === 0)
    bad(file, `input '${input}' has no fixed feature dimension and no feature_names metadata`);
  const d = features.length;
  let buf = new Float32Array(0);
  return {
    format: 'onnx',
    file,
    features,
    probability: false,
    row: null,
    async predictBatch(x, n, out) {
      if (buf.length < n * d) buf = new Float32Array(n * d);
      for (let i = 0; i < n * d; i++) buf[i] = x[i]!;
      const res = await session.run({ [input]: new ort.Tensor('float32', buf.subarray(0, n * d), [n, d]) });
      const y = res[output]!.data as Float32Array;
      for (let r = 0; r < n; r++) out[r] = y[r]!;
    },
    importance: () => null,
    close() {
      void session.release();
    },
  };
}

/**
 * Reads `feature_names` from the ONNX file's metadata_props (onnxruntime-node does not expose them): a scan for
 * the key's protobuf string followed by its value, which is enough for the small graphs we produce.
 */
async function onnxFeatureNames(file: string): Promise<string[] | null> {
  const bytes = readFileSync(file);
  const key = Buffer.from('feature_names');
  const at = bytes.lastIndexOf(key);
  if (at < 0) return null;
  // StringStringEntryProto: field 1 (key) then field 2 (value): tag 0x12, varint length, bytes.
  let p = at + key.length;
  if (bytes[p] !== 0x12) return null;
  p++;
  let len = 0;
  let shift = 0;
  for (;;) {
    const b = bytes[p++]!;
    len |= (b & 0x7f) << shift;
    if ((b & 0x80) === 0) break;
    shift += 7;
  }
  const v = bytes.subarray(p, p + len).toString('utf8');
  return v === '' ? null : v.split(',');
}
