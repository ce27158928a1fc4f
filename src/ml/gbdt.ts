// Gradient-boosted trees imported from XGBoost's JSON model format, evaluated by a flat-array walker: every node
// of every tree lives in one set of typed arrays (children, split feature, threshold, default direction), so a
// prediction allocates nothing and touches no object per node. Shallow ensembles (depth <= 10, e.g. the usual
// depth 6) are also laid out as complete binary trees (a leaf above the bottom is copied to every slot below
// it), so a row walks exactly `depth` nodes per tree by index arithmetic (children of i are 2i+1 and 2i+2)
// with no child pointers loaded and the row rounded to float32 once instead of at every node. Semantics follow XGBoost: features compare as
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
/** Deeper ensembles keep the pointer walk: a complete tree of depth d holds 2^(d+1) - 1 slots. */
const MAX_COMPLETE_DEPTH = 10;

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
  /** Complete-tree layout (depth > 0 when built): per tree 2^depth - 1 splits, then 2^depth leaves. */
  readonly depth: number;
  private readonly cFeature: Int32Array;
  private readonly cThreshold: Float32Array;
  /** 1 where a missing value goes right (the complement of XGBoost's default_left). */
  private readonly cMissingRight: Uint8Array;
  private readonly cLeaf: Float32Array;
  /** The row as float32, XGBoost's comparison type: filled once per prediction. */
  private readonly row32: Float32Array;

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
    let depth = 0;
    for (let k = 0; k < trees.length; k++) depth = Math.max(depth, this.depthBelow(this.roots[k]!));
    const complete = depth >= 1 && depth <= MAX_COMPLETE_DEPTH;
    this.depth = complete ? depth : 0;
    const splits = complete ? (1 << this.depth) - 1 : 0;
    const leaves = complete ? 1 << this.depth : 0;
    this.cFeature = new Int32Array(splits * trees.length);
    this.cThreshold = new Float32Array(splits * trees.length);
    this.cMissingRight = new Uint8Array(splits * trees.length);
    this.cLeaf = new Float32Array(leaves * trees.length);
    this.row32 = new Float32Array(this.features.length);
    if (complete) {
      for (let k = 0; k < trees.length; k++) this.layOut(this.roots[k]!, k * splits, k * leaves, 0, 0);
    }
  }

  /** Levels of splits on the longest path from `node` to a leaf. */
  private depthBelow(node: number): number {
    if (this.feature[node]! < 0) return 0;
    return 1 + Math.max(this.depthBelow(this.left[node]!), this.depthBelow(this.right[node]!));
  }

  /**
   * Copies the subtree at `node` into complete-tree slot `i` of level `d`. A leaf reached early fills every
   * slot below it: splits that send both ways to the same value, and all their leaves.
   */
  private layOut(node: number, splitBase: number, leafBase: number, i: number, d: number): void {
    const depth = this.depth;
    if (d === depth) {
      this.cLeaf[leafBase + i - ((1 << depth) - 1)] = this.value[node]!;
      return;
    }
    const leaf = this.feature[node]! < 0;
    this.cFeature[splitBase + i] = leaf ? 0 : this.feature[node]!;
    this.cThreshold[splitBase + i] = leaf ? Number.POSITIVE_INFINITY : this.value[node]!;
    this.cMissingRight[splitBase + i] = leaf ? 0 : 1 - this.defaultLeft[node]!;
    this.layOut(leaf ? node : this.left[node]!, splitBase, leafBase, 2 * i + 1, d + 1);
    this.layOut(leaf ? node : this.right[node]!, splitBase, leafBase, 2 * i + 2, d + 1);
  }

  /** The margin (sum of leaves + base) for the row x[off .. off + features). */
  margin(x: Float64Array, off = 0): number {
    return this.depth > 0 ? this.marginComplete(x, off) : this.marginWalk(x, off);
  }

  /**
   * The complete-tree walk. Each step goes right by the compare's value (no branch to mispredict), so a tree's
   * walk is one chain of dependent loads; four trees walk side by side in one loop so the CPU overlaps four
   * chains instead of waiting on one (the leaves still add in tree order: the same float32 sum). A row with a
   * missing value takes the second walk, where NaN goes the node's missing-value way.
   */
  private marginComplete(x: Float64Array, off: number): number {
    const r = this.row32;
    let missing = false;
    for (let c = 0; c < r.length; c++) {
      const xv = x[off + c]!;
      r[c] = xv;
      if (Number.isNaN(xv)) missing = true;
    }
    return missing ? this.walkWithMissing() : this.walkClean();
  }

  private walkClean(): number {
    const r = this.row32;
    const f = this.cFeature;
    const th = this.cThreshold;
    const leaf = this.cLeaf;
    const depth = this.depth;
    const splits = (1 << depth) - 1;
    const trees = this.trees;
    const quads = trees - (trees & 3);
    let sum = this.baseMargin;
    let k = 0;
    // Tree k's splits start at k * splits, its leaves at k * (splits + 1).
    for (; k < quads; k += 4) {
      const s0 = k * splits;
      const s1 = s0 + splits;
      const s2 = s1 + splits;
      const s3 = s2 + splits;
      let i0 = 0;
      let i1 = 0;
      let i2 = 0;
      let i3 = 0;
      for (let level = 0; level < depth; level++) {
        const n0 = s0 + i0;
        const n1 = s1 + i1;
        const n2 = s2 + i2;
        const n3 = s3 + i3;
        i0 = 2 * i0 + 1 + +(r[f[n0]!]! >= th[n0]!);
        i1 = 2 * i1 + 1 + +(r[f[n1]!]! >= th[n1]!);
        i2 = 2 * i2 + 1 + +(r[f[n2]!]! >= th[n2]!);
        i3 = 2 * i3 + 1 + +(r[f[n3]!]! >= th[n3]!);
      }
      sum = Math.fround(sum + leaf[s0 + k + i0 - splits]!);
      sum = Math.fround(sum + leaf[s1 + k + 1 + i1 - splits]!);
      sum = Math.fround(sum + leaf[s2 + k + 2 + i2 - splits]!);
      sum = Math.fround(sum + leaf[s3 + k + 3 + i3 - splits]!);
    }
    for (; k < trees; k++) {
      const sb = k * splits;
      let i = 0;
      for (let level = 0; level < depth; level++) {
        const n = sb + i;
        i = 2 * i + 1 + +(r[f[n]!]! >= th[n]!);
      }
      sum = Math.fround(sum + leaf[sb + k + i - splits]!);
    }
    return sum;
  }

  private walkWithMissing(): number {
    const r = this.row32;
    const f = this.cFeature;
    const th = this.cThreshold;
    const mr = this.cMissingRight;
    const leaf = this.cLeaf;
    const depth = this.depth;
    const splits = (1 << depth) - 1;
    const trees = this.trees;
    const quads = trees - (trees & 3);
    let sum = this.baseMargin;
    let k = 0;
    for (; k < quads; k += 4) {
      const s0 = k * splits;
      const s1 = s0 + splits;
      const s2 = s1 + splits;
      const s3 = s2 + splits;
      let i0 = 0;
      let i1 = 0;
      let i2 = 0;
      let i3 = 0;
      for (let level = 0; level < depth; level++) {
        const n0 = s0 + i0;
        const n1 = s1 + i1;
        const n2 = s2 + i2;
        const n3 = s3 + i3;
        const v0 = r[f[n0]!]!;
        const v1 = r[f[n1]!]!;
        const v2 = r[f[n2]!]!;
        const v3 = r[f[n3]!]!;
        i0 = 2 * i0 + 1 + (+(v0 >= th[n0]!) | (+Number.isNaN(v0) & mr[n0]!));
        i1 = 2 * i1 + 1 + (+(v1 >= th[n1]!) | (+Number.isNaN(v1) & mr[n1]!));
        i2 = 2 * i2 + 1 + (+(v2 >= th[n2]!) | (+Number.isNaN(v2) & mr[n2]!));
        i3 = 2 * i3 + 1 + (+(v3 >= th[n3]!) | (+Number.isNaN(v3) & mr[n3]!));
      }
      sum = Math.fround(sum + leaf[s0 + k + i0 - splits]!);
      sum = Math.fround(sum + leaf[s1 + k + 1 + i1 - splits]!);
      sum = Math.fround(sum + leaf[s2 + k + 2 + i2 - splits]!);
      sum = Math.fround(sum + leaf[s3 + k + 3 + i3 - splits]!);
    }
    for (; k < trees; k++) {
      const sb = k * splits;
      let i = 0;
      for (let level = 0; level < depth; level++) {
        const n = sb + i;
        const v = r[f[n]!]!;
        i = 2 * i + 1 + (+(v >= th[n]!) | (+Number.isNaN(v) & mr[n]!));
      }
      sum = Math.fround(sum + leaf[sb + k + i - splits]!);
    }
    return sum;
  }

  /** The general walker: any depth, child pointers. */
  private marginWalk(x: Float64Array, off: number): number {
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
