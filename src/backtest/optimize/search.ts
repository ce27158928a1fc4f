// Search strategies over a ParamSpace: exhaustive grid, seeded random, and TPE (tree-structured Parzen
// estimator, Bergstra et al. 2011). All propose points (index vectors) in rounds from the scores seen so far;
// a score is oriented so that higher is better, null for a failed or skipped trial. Deterministic: the same
// seed and history give the same proposals, whatever the number of workers that later run them.

import { Prng } from '../../venues/sim/rng.ts';
import { gridSize, type ParamSpace } from './space.ts';

export const SEARCH_KINDS = ['grid', 'random', 'tpe'] as const;
export type SearchKind = (typeof SEARCH_KINDS)[number];

export interface Observation {
  readonly point: readonly number[];
  /** Higher is better; null when the trial failed or was skipped (counts as the worst). */
  readonly score: number | null;
}

export interface Searcher {
  readonly kind: SearchKind;
  /** Up to n new points (fewer, or none, once the space is exhausted); never one proposed before. */
  propose(n: number, history: readonly Observation[]): number[][];
}

export function pointKey(point: readonly number[]): string {
  return point.join(',');
}

/** Every point once, last dimension fastest. */
export class GridSearch implements Searcher {
  readonly kind = 'grid' as const;
  private readonly space: ParamSpace;
  private next = 0;
  readonly total: number;

  constructor(space: ParamSpace) {
    this.space = space;
    this.total = gridSize(space);
  }

  /** The i-th point of the grid. */
  pointAt(i: number): number[] {
    const dims = this.space.dims;
    const out = new Array<number>(dims.length).fill(0);
    let rest = i;
    for (let d = dims.length - 1; d >= 0; d--) {
      const n = dims[d]!.values.length;
      out[d] = rest % n;
      rest = Math.floor(rest / n);
    }
    return out;
  }

  propose(n: number): number[][] {
    const out: number[][] = [];
    while (out.length < n && this.next < this.total) out.push(this.pointAt(this.next++));
    return out;
  }
}

/** Uniform points without repeats (seeded); gives up when the space is exhausted. */
export class RandomSearch implements Searcher {
  readonly kind: SearchKind = 'random';
  protected readonly space: ParamSpace;
  protected readonly rng: Prng;
  protected readonly seen = new Set<string>();
  protected readonly total: number;

  constructor(space: ParamSpace, seed: number, stream = 11) {
    this.space = space;
    this.rng = new Prng(seed, stream);
    this.total = gridSize(space);
  }

  protected randomPoint(): number[] {
    return this.space.dims.map((d) => this.rng.int(d.values.length));
  }

  /** A random point not proposed before, or null once (nearly) every point was. */
  protected freshRandom(): number[] | null {
    if (this.seen.size >= this.total) return null;
    for (let attempt = 0; attempt < 1000; attempt++) {
      const p = this.randomPoint();
      if (this.claim(p)) return p;
    }
    // Dense space: take the first free point of the grid.
    const grid = new GridSearch(this.space);
    for (let i = 0; i < this.total; i++) {
      const p = grid.pointAt(i);
      if (this.claim(p)) return p;
    }
    return null;
  }

  protected claim(p: readonly number[]): boolean {
    const k = pointKey(p);
    if (this.seen.has(k)) return false;
    this.seen.add(k);
    return true;
  }

  propose(n: number, _history: readonly Observation[] = []): number[][] {
    const out: number[][] = [];
    while (out.length < n) {
      const p = this.freshRandom();
      if (p === null) break;
      out.push(p);
    }
    return out;
  }
}

export interface TpeOptions {
  /** Random trials before the model takes over (default max(10, 2 x dimensions)). */
  startup?: number;
  /** Fraction of the trials that are "good" (default 0.1, at most 25 trials, as Optuna). */
  gamma?: number;
  /** Candidates drawn from the good model per proposal (default 24). */
  candidates?: number;
}

/**
 * TPE on discrete dimensions: scores split at the gamma quantile into good and bad; per dimension, a Parzen
 * estimator over the value indices for each set (Gaussian kernels on ordered dimensions, smoothed counts on
 * categories, each mixed with a uniform prior); candidates drawn from the good model, the one with the
 * largest l(x)/g(x) (the expected-improvement maximiser under TPE's model) is proposed.
 */
export class TpeSearch extends RandomSearch {
  override readonly kind: SearchKind = 'tpe';
  private readonly startup: number;
  private readonly gamma: number;
  private readonly candidates: number;

  constructor(space: ParamSpace, seed: number, options: TpeOptions = {}) {
    super(space, seed, 12);
    this.startup = options.startup ?? Math.max(10, 2 * space.dims.length);
    this.gamma = options.gamma ?? 0.1;
    this.candidates = options.candidates ?? 24;
  }

  override propose(n: number, history: readonly Observation[]): number[][] {
    for (const h of history) this.seen.add(pointKey(h.point));
    const out: number[][] = [];
    // Points proposed in this round count as pending: later ones in the round avoid them (seen) but the
    // model does not score them, so a round is the same whatever order its trials finish in.
    // The model depends on the history alone: built once per round, not per point.
    let model: Model | null = null;
    while (out.length < n) {
      let p: number[] | null;
      if (history.length + out.length < this.startup || this.space.dims.length === 0) p = this.freshRandom();
      else {
        model ??= this.model(history);
        p = this.modelPoint(model);
      }
      if (p === null) break;
      out.push(p);
    }
    return out;
  }

  private model(history: readonly Observation[]): Model {
    const dims = this.space.dims;
    // Stable order: by score (null last), ties by history order.
    const order = history
      .map((h, i) => ({ h, i }))
      .sort((a, b) => {
        const sa = a.h.score ?? Number.NEGATIVE_INFINITY;
        const sb = b.h.score ?? Number.NEGATIVE_INFINITY;
        return sb - sa || a.i - b.i;
      });
    const scored = order.filter((o) => o.h.score !== null).length;
    const nGood = Math.max(1, Math.min(25, Math.ceil(this.gamma * scored)));
    const good = order.slice(0, nGood).map((o) => o.h.point);
    const bad = order.slice(nGood).map((o) => o.h.point);
    const l = dims.map((d, k) => parzen(d.values.length, d.ordered, good, k));
    const g = dims.map((d, k) => parzen(d.values.length, d.ordered, bad, k));
    return { l, g, lCdf: l.map(cumulative) };
  }

  private modelPoint({ l, g, lCdf }: Model): number[] | null {
    const dims = this.space.dims;
    let best: number[] | null = null;
    let bestRatio = Number.NEGATIVE_INFINITY;
    for (let c = 0; c < this.candidates; c++) {
      const p = lCdf.map((cdf) => sampleCdf(cdf, this.rng.next()));
      if (this.seen.has(pointKey(p))) continue;
      let ratio = 0;
      for (let k = 0; k < dims.length; k++) ratio += Math.log(l[k]![p[k]!]!) - Math.log(g[k]![p[k]!]!);
      if (ratio > bestRatio) {
        bestRatio = ratio;
        best = p;
      }
    }
    if (best !== null && this.claim(best)) return best;
    return this.freshRandom();
  }
}

/** Per dimension: the good (l) and bad (g) densities over value indices, and l's cumulative sums. */
interface Model {
  readonly l: readonly Float64Array[];
  readonly g: readonly Float64Array[];
  readonly lCdf: readonly Float64Array[];
}

/** A discrete density over 0..n-1 from the observed indices of dimension k, mixed with a uniform prior. */
export function parzen(
  n: number,
  ordered: boolean,
  points: readonly (readonly number[])[],
  k: number,
): Float64Array {
  const p = new Float64Array(n);
  const m = points.length;
  // The prior weighs as one observation: with few points the model stays broad.
  const prior = 1 / (m + 1);
  for (let i = 0; i < n; i++) p[i] = prior / n;
  if (m === 0) return p;
  const w = (1 - prior) / m;
  if (!ordered) {
    for (const pt of points) p[pt[k]!]! += w;
    return p;
  }
  // Scott's rule on the points' spread, floored as Optuna's "magic clip" does ((n-1) / min(100, m + 1)) so a
  // few close points do not collapse the model onto themselves.
  let mean = 0;
  for (const pt of points) mean += pt[k]!;
  mean /= m;
  let v = 0;
  for (const pt of points) v += (pt[k]! - mean) ** 2;
  const sd = m > 1 ? Math.sqrt(v / (m - 1)) : 0;
  const h = Math.max(1, sd * 1.06 * m ** -0.2, (n - 1) / Math.min(100, m + 1));
  const kern = new Float64Array(n);
  for (const pt of points) {
    const c = pt[k]!;
    let sum = 0;
    for (let i = 0; i < n; i++) {
      const z = (i - c) / h;
      kern[i] = Math.exp(-0.5 * z * z);
      sum += kern[i]!;
    }
    for (let i = 0; i < n; i++) p[i]! += (w * kern[i]!) / sum;
  }
  return p;
}

function cumulative(p: Float64Array): Float64Array {
  const c = new Float64Array(p.length);
  let s = 0;
  for (let i = 0; i < p.length; i++) {
    s += p[i]!;
    c[i] = s;
  }
  return c;
}

function sampleCdf(cdf: Float64Array, u: number): number {
  const x = u * cdf[cdf.length - 1]!;
  let lo = 0;
  let hi = cdf.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (cdf[mid]! > x) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

export function makeSearcher(kind: SearchKind, space: ParamSpace, seed: number): Searcher {
  if (kind === 'grid') return new GridSearch(space);
  if (kind === 'random') return new RandomSearch(space, seed);
  return new TpeSearch(space, seed);
}
