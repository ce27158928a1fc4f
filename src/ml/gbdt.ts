// Gradient-boosted trees imported from XGBoost's JSON model format, evaluated by a flat-array walker: every node
// of every tree lives in one set of typed arrays (children, split feature, threshold, default direction), so a
// prediction allocates nothing and touches no object per node. Semantics follow XGBoost: features compare as
// float32 (`x < threshold` goes left), a missing value (NaN) takes the node's default branch, leaf values sum in
// float32 from the base margin, and binary:logistic turns the margin into a probability.

import { Bot4Error, ErrorCode } from '../core/errors.ts';
import { sigmoid } from './linear.ts';

/** Objectives whose output is the margin itself, and those whose output is sigmoid(margin). */
const IDENTITY_OBJECTIVES = new Set([
  'reg:squarederror',
  'reg:linear',
  'reg:pseudohubererror',
  'reg:absoluteerror',
]);
const LOGISTIC_OBJECTIVES = new Set(['binary:logistic', 'reg:logistic']);

interface XgbTree {
  left_children: number[];
  right_children: number[];
  split_indices: number[];
  split_conditions: number[];
  default_left: (number | boolean)[];
  loss_changes?: number[];
  split_type?: number[];
}

export class GbdtModel {
  readonly features: readonly string[];
  readonly objective: string;
  readonly probability: boolean;
  readonly trees: number;
  /** Margin added to the tree sum (logit of base_score for logistic objectives). */
  readonly baseMargin: number;
  readonly roots: Int32Array;
  readonly left: Int32Array;
  readonly right: Int32Array;
  /** Split feature, -1 at a leaf. */
  readonly feature: Int32Array;
  /** Split threshold (float32), or the leaf value at a leaf. */
  readonly value: Float32Array;
  readonly defaultLeft: Uint8Array;
  /** Total gain (loss change) of the splits on each feature. */
  readonly gain: Float64Array;

  constructor(json: unknown, source = 'model') {
    const learner = (json as { learner?: Record<string, unknown> }).learner;
    const fail = (what: string): never => {
      throw new Bot4Error(
        ErrorCode.DATA_MALFORMED,
        `${source}: not a supported XGBoost JSON model: ${what}`,
        {
          file: source,
        },
      );
    };
    if (learner === undefined) fail("no 'learner' object");
    // biome-ignore lint/suspicious/noExplicitAny: untrusted JSON, every field read is checked below.
    const l = learner as Record<string, any>;
    const param = l.learner_model_param ?? {};
    if (Number(param.num_class ?? 0) > 1 || Number(param.num_target ?? 1) > 1) {
      fail(
        `multi-output models (num_class ${param.num_class}, num_target ${param.num_target}) are not supported`,
      );
    }
    const booster = l.gradient_booster ?? {};
    if (booster.name !== 'gbtree') fail(`booster '${booster.name}' (only gbtree)`);
    this.objective = String(l.objective?.name ?? '');
    const logistic = LOGISTIC_OBJECTIVES.has(this.objective);
    if (!logistic && !IDENTITY_OBJECTIVES.has(this.objective)) fail(`objective '${this.objective}'`);
    this.probability = logistic;
    // base_score is "5E-1" in 1.x and "[5E-1]" in 2.x+; logistic models store it as a probability.
    const base = Number(String(param.base_score ?? '0.5').replace(/[[\]]/g, ''));
    if (!Number.isFinite(base)) fail(`base_score '${param.base_score}'`);
    this.baseMargin = Math.fround(logistic ? Math.log(base / (1 - base)) : base);
    const nFeatures = Number(param.num_feature ?? 0);
    const names = Array.isArray(l.feature_names) ? (l.feature_names as string[]) : [];
    this.features = names.length > 0 ? names : Array.from({ length: nFeatures }, (_, i) => `f${i}`);
    const trees = (booster.model?.trees ?? []) as XgbTree[];
    if (trees.length === 0) fail('no trees');
    let total = 0;
    for (const t of trees) total += t.left_children.length;
    this.trees = trees.length;
    this.roots = new Int32Array(trees.length);
    this.left = new Int32Array(total);
    this.right = new Int32Array(total);
    this.feature = new Int32Array(total);
    this.value = new Float32Array(total);
    this.defaultLeft = new Uint8Array(total);
    this.gain = new Float64Array(this.features.length);
    let at = 0;
    for (let k = 0; k < trees.length; k++) {
      const t = trees[k]!;
      this.roots[k] = at;
      const n = t.left_children.length;
      for (let i = 0; i < n; i++) {
        const g = at + i;
        const lc = t.left_children[i]!;
        if (lc === -1) {
          this.feature[g] = -1;
          this.value[g] = t.split_conditions[i]!;
          continue;
        }
        if ((t.split_type?.[i] ?? 0) !== 0) fail(`tree ${k} node ${i} is a categorical split`);
        const f = t.split_indices[i]!;
        if (f < 0 || f >= this.features.length) fail(`tree ${k} node ${i} splits on feature ${f}`);
        this.left[g] = at + lc;
        this.right[g] = at + t.right_children[i]!;
        this.feature[g] = f;
        this.value[g] = t.split_conditions[i]!;
        this.defaultLeft[g] = t.default_left[i] === 1 || t.default_left[i] === true ? 1 : 0;
        this.gain[f] = this.gain[f]! + (t.loss_changes?.[i] ?? 0);
      }
      at += n;
    }
  }

  /** The margin (sum of leaves + base) for the row x[off .. off + features). */
  margin(x: Float64Array, off = 0): number {
    const feature = this.feature;
    const value = this.value;
    const left = this.left;
    const right = this.right;
    const dl = this.defaultLeft;
    const roots = this.roots;
    // XGBoost starts each prediction at the base margin and adds tree by tree in float32: same order, same bits.
    let sum = this.baseMargin;
    for (let k = 0; k < roots.length; k++) {
      let node = roots[k]!;
      let f = feature[node]!;
      while (f >= 0) {
        const v = x[off + f]!;
        // NaN: the default branch; else XGBoost's float32 compare (the threshold is already float32).
        node = Number.isNaN(v)
          ? dl[node] === 1
            ? left[node]!
            : right[node]!
          : Math.fround(v) < value[node]!
            ? left[node]!
            : right[node]!;
        f = feature[node]!;
      }
      sum = Math.fround(sum + value[node]!);
    }
    return sum;
  }

  predict(x: Float64Array, off = 0): number {
    const m = this.margin(x, off);
    return this.probability ? sigmoid(m) : m;
  }

  /** Total gain per feature name. */
  importance(): Record<string, number> {
    const out: Record<string, number> = {};
    this.features.forEach((f, i) => {
      out[f] = this.gain[i]!;
    });
    return out;
  }
}
