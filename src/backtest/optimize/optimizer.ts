// The optimisation loop. Per fold (the whole range when there is no walk-forward): the searcher proposes a
// round of points, points that break a constraint or that the strategy refuses are recorded as skipped, the
// rest run as trials on the executor (each persisted as it finishes; ones found in the store are not run
// again), and the round's scores go back to the searcher in proposal order. Rounds have a fixed size, so the
// proposals (and the results) do not depend on the number of workers. Then the fold's best parameters run
// out-of-sample; the OOS curves are stitched into one and IS vs OOS objectives give the degradation.

import { monoMillis } from '../../core/clock.ts';
import { Bot4Error } from '../../core/errors.ts';
import type { ParamPrimitive } from '../../strategy/params.ts';
import type { StrategyClass } from '../../strategy/strategy.ts';
import { drawdownSeries } from '../stats.ts';
import type { TrialExecutor } from './executor.ts';
import { type Objective, scoreOf } from './objective.ts';
import { makeSearcher, type Observation, type SearchKind } from './search.ts';
import { brokenConstraint, gridSize, type ParamSpace, paramsKey, pointParams } from './space.ts';
import type { Phase, TrialRecord, TrialStore } from './store.ts';
import type { EquityCurve, TrialInput, TrialOutput } from './trial.ts';
import { type Fold, type WalkForwardSpec, type Window, walkForwardFolds } from './walk-forward.ts';

export interface OptimizeOptions {
  readonly cls: StrategyClass;
  readonly space: ParamSpace;
  readonly objective: Objective;
  readonly search: SearchKind;
  /** Trials per fold that run (skipped points do not count); capped by the space's size. */
  readonly trials: number;
  readonly seed: number;
  /** Points proposed per round (default 8): fixes the results whatever the worker count. */
  readonly batch?: number;
  readonly range: Window;
  readonly walkForward?: WalkForwardSpec;
  readonly executor: TrialExecutor;
  readonly store?: TrialStore;
  readonly signal?: AbortSignal;
  readonly onProgress?: (p: OptimizeProgress) => void;
}

export interface OptimizeProgress {
  done: number;
  total: number;
  /** Trials run by this process (not read back from the store), and their rate. */
  ran: number;
  trialsPerSecond: number;
  etaSeconds: number;
  fold: number;
  folds: number;
  best: TrialRecord | null;
}

export interface FoldResult {
  index: number;
  inSample: Window;
  outOfSample: Window | null;
  trials: number;
  skipped: number;
  best: TrialRecord | null;
  /** The best parameters run out of sample (walk-forward), or re-run over the whole range with its curve. */
  check: TrialRecord | null;
}

export interface Degradation {
  /** Mean objective over the folds, in sample (the best's) and out of sample (the same parameters). */
  meanInSample: number | null;
  meanOutOfSample: number | null;
  /** meanOutOfSample / meanInSample (walk-forward efficiency; 1 = no loss), null when IS <= 0. */
  efficiency: number | null;
  /** meanInSample - meanOutOfSample, in the objective's unit. */
  drop: number | null;
}

export interface OptimizeResult {
  folds: FoldResult[];
  /** Every in-sample trial, fold by fold, in proposal order. */
  trials: TrialRecord[];
  /** Out-of-sample curves chained by compounding (walk-forward only). */
  stitched: EquityCurve | null;
  stitchedReturn: number | null;
  stitchedMaxDrawdown: number | null;
  degradation: Degradation | null;
  partial: boolean;
  ran: number;
  resumed: number;
  wallMs: number;
  workers: number;
}

export const DEFAULT_BATCH = 8;

export async function optimize(o: OptimizeOptions): Promise<OptimizeResult> {
  const t0 = monoMillis();
  const batch = o.batch ?? DEFAULT_BATCH;
  const folds: Fold[] =
    o.walkForward === undefined
      ? [{ index: 0, inSample: o.range, outOfSample: o.range }]
      : walkForwardFolds(o.range, o.walkForward);
  const wf = o.walkForward !== undefined;
  const budget = Math.min(o.trials, gridSize(o.space));
  const total = folds.length * (budget + 1);
  let done = 0;
  let ran = 0;
  let resumed = 0;
  // Wall time spent running trials (not reading them back): the rate and ETA come from it.
  let runMs = 0;
  let runStart = Number.NaN;
  let best: TrialRecord | null = null;
  const aborted = (): boolean => o.signal?.aborted === true;

  // Called after each trial and again after each round (for resumed and skipped points, which have no
  // callback); a count already reported is not reported again, so the final N/N comes once.
  let reported = -1;
  const progress = (fold: number): void => {
    if (o.onProgress === undefined || done === reported) return;
    reported = done;
    const ms = runMs + (Number.isNaN(runStart) ? 0 : monoMillis() - runStart);
    const rate = ran / Math.max(ms / 1000, 1e-3);
    o.onProgress({
      done,
      total: Math.max(total, done),
      ran,
      trialsPerSecond: rate,
      etaSeconds: ran === 0 ? Number.NaN : (total - done) / rate,
      fold,
      folds: folds.length,
      best,
    });
  };

  const record = (
    phase: Phase,
    fold: number,
    params: Record<string, ParamPrimitive>,
    out: TrialOutput | null,
    skipped: string | null,
  ): TrialRecord => ({
    key: `${phase}:${fold}:${paramsKey(params)}`,
    fold,
    phase,
    params,
    score: out?.stats == null ? null : scoreOf(o.objective, out.stats),
    stats: out?.stats ?? null,
    skipped,
    error: out?.error ?? null,
    events: out?.events ?? 0,
    wallMs: out?.wallMs ?? 0,
    fingerprint: out?.fingerprint ?? '',
    curve: out?.curve ?? null,
  });

  /** Runs the trials not in the store; returns every record in input order. */
  const runAll = async (
    phase: Phase,
    fold: number,
    items: readonly { params: Record<string, ParamPrimitive>; window: Window; curve: boolean }[],
  ): Promise<(TrialRecord | null)[]> => {
    const out: (TrialRecord | null)[] = items.map(() => null);
    const todo: number[] = [];
    for (let i = 0; i < items.length; i++) {
      const it = items[i]!;
      const stored = o.store?.get(`${phase}:${fold}:${paramsKey(it.params)}`);
      if (stored !== undefined) {
        out[i] = stored;
        resumed++;
        done++;
      } else todo.push(i);
    }
    if (todo.length === 0) return out;
    const inputs: TrialInput[] = todo.map((i) => ({
      params: items[i]!.params,
      from: items[i]!.window.from,
      to: items[i]!.window.to,
      curve: items[i]!.curve,
    }));
    runStart = monoMillis();
    await o.executor.run(
      inputs,
      (k, res) => {
        const i = todo[k]!;
        const rec = record(phase, fold, items[i]!.params, res, null);
        out[i] = rec;
        o.store?.append([rec]);
        ran++;
        done++;
        if (phase === 'is' && rec.score !== null && (best === null || rec.score > (best.score ?? -Infinity)))
          best = rec;
        progress(fold);
      },
      o.signal,
    );
    runMs += monoMillis() - runStart;
    runStart = Number.NaN;
    return out;
  };

  const results: FoldResult[] = [];
  const allTrials: TrialRecord[] = [];
  for (const f of folds) {
    if (aborted()) break;
    const searcher = makeSearcher(o.search, o.space, o.seed + f.index);
    const history: Observation[] = [];
    const foldTrials: TrialRecord[] = [];
    let valid = 0;
    let skipped = 0;
    best = null;
    while (valid < budget && !aborted()) {
      const points = searcher.propose(Math.min(batch, budget - valid), history);
      if (points.length === 0) break;
      const round: (TrialRecord | null)[] = [];
      const items: { params: Record<string, ParamPrimitive>; window: Window; curve: boolean }[] = [];
      const slots: number[] = [];
      for (const p of points) {
        const params = pointParams(o.space, p);
        const why = refusal(o, params);
        if (why !== null) {
          const rec = record('is', f.index, params, null, why);
          if (o.store?.get(rec.key) === undefined) o.store?.append([rec]);
          round.push(rec);
          skipped++;
          // A grid's total counts every point; other searches propose more when points are skipped.
          if (o.search === 'grid') done++;
          continue;
        }
        slots.push(round.length);
        round.push(null);
        items.push({ params, window: f.inSample, curve: false });
      }
      const recs = await runAll('is', f.index, items);
      for (let k = 0; k < slots.length; k++) round[slots[k]!] = recs[k]!;
      if (round.some((r) => r === null)) break; // interrupted mid-round
      for (let k = 0; k < points.length; k++) {
        const rec = round[k]!;
        history.push({ point: points[k]!, score: rec.score });
        foldTrials.push(rec);
        if (rec.skipped === null) valid++;
      }
      progress(f.index);
    }
    allTrials.push(...foldTrials);
    const fb = bestOf(foldTrials);
    let check: TrialRecord | null = null;
    if (fb !== null && !aborted()) {
      const phase: Phase = wf ? 'oos' : 'best';
      const [c] = await runAll(phase, f.index, [{ params: fb.params, window: f.outOfSample, curve: true }]);
      check = c ?? null;
      progress(f.index);
    }
    results.push({
      index: f.index,
      inSample: f.inSample,
      outOfSample: wf ? f.outOfSample : null,
      trials: foldTrials.length - skipped,
      skipped,
      best: fb,
      check,
    });
  }
  const partial =
    aborted() || results.length < folds.length || results.some((r) => r.check === null && r.best !== null);
  const stitched = wf ? stitch(results.map((r) => r.check?.curve ?? null)) : null;
  let stitchedReturn: number | null = null;
  let stitchedMaxDrawdown: number | null = null;
  if (stitched !== null && stitched.equity.length > 1) {
    stitchedReturn = stitched.equity[stitched.equity.length - 1]! / stitched.equity[0]! - 1;
    stitchedMaxDrawdown = Math.max(...drawdownSeries(stitched.equity));
  }
  return {
    folds: results,
    trials: allTrials,
    stitched,
    stitchedReturn,
    stitchedMaxDrawdown,
    degradation: wf ? degradation(o.objective, results) : null,
    partial,
    ran,
    resumed,
    wallMs: monoMillis() - t0,
    workers: o.executor.workers,
  };
}

/** Why a point is not run: a --where constraint it breaks, or the strategy's own refusal of the values. */
function refusal(o: OptimizeOptions, params: Record<string, ParamPrimitive>): string | null {
  const c = brokenConstraint(o.space, params);
  if (c !== null) return `breaks --where ${c.text}`;
  try {
    new o.cls(params);
  } catch (e) {
    if (e instanceof Bot4Error) return e.message;
    throw e;
  }
  return null;
}

/** Highest score; ties go to the earliest trial (deterministic). */
export function bestOf(trials: readonly TrialRecord[]): TrialRecord | null {
  let b: TrialRecord | null = null;
  for (const t of trials) if (t.score !== null && (b === null || t.score > b.score!)) b = t;
  return b;
}

/** Chains curves: each starts where the previous ended (returns compound; the first keeps its level). */
export function stitch(curves: readonly (EquityCurve | null)[]): EquityCurve | null {
  const out: EquityCurve = { ts: [], equity: [] };
  let level = Number.NaN;
  for (const c of curves) {
    if (c === null || c.equity.length === 0) continue;
    const e0 = c.equity[0]!;
    const k = Number.isNaN(level) || !(e0 > 0) ? 1 : level / e0;
    for (let i = 0; i < c.ts.length; i++) {
      out.ts.push(c.ts[i]!);
      out.equity.push(c.equity[i]! * k);
    }
    level = out.equity[out.equity.length - 1]!;
  }
  return out.ts.length === 0 ? null : out;
}

function degradation(objective: Objective, folds: readonly FoldResult[]): Degradation {
  const is: number[] = [];
  const oos: number[] = [];
  for (const f of folds) {
    const a = f.best?.stats == null ? null : objective.value(f.best.stats);
    const b = f.check?.stats == null ? null : objective.value(f.check.stats);
    if (a === null || b === null || !Number.isFinite(a) || !Number.isFinite(b)) continue;
    is.push(a);
    oos.push(b);
  }
  const mean = (x: number[]): number | null =>
    x.length === 0 ? null : x.reduce((s, v) => s + v, 0) / x.length;
  const mi = mean(is);
  const mo = mean(oos);
  return {
    meanInSample: mi,
    meanOutOfSample: mo,
    efficiency: mi !== null && mo !== null && mi > 0 ? mo / mi : null,
    drop: mi !== null && mo !== null ? mi - mo : null,
  };
}
