// Walk-forward windows: the range splits into an in-sample (IS) window per fold, where parameters are
// optimised, followed by the out-of-sample (OOS) window they are then judged on. OOS windows tile the range
// after the first IS window exactly (no gap, no overlap); each IS window ends where its OOS window starts.
// Rolling: IS windows keep their length and slide; anchored: every IS window starts at the range's start.
// Times are micros, windows half-open [from, to).

import { bad } from './space.ts';

export interface Window {
  readonly from: number;
  readonly to: number;
}

export interface Fold {
  readonly index: number;
  readonly inSample: Window;
  readonly outOfSample: Window;
}

export interface WalkForwardSpec {
  readonly folds: number;
  readonly anchored: boolean;
  /** IS length / (IS + OOS length) of one fold (default 0.75); ignored when both lengths are given. */
  readonly isRatio?: number;
  /** Explicit lengths, micros. With both, `folds` is how many fit (the last ones, ending at the range's end). */
  readonly isLength?: number;
  readonly oosLength?: number;
}

export function walkForwardFolds(range: Window, spec: WalkForwardSpec): Fold[] {
  const total = range.to - range.from;
  if (!(total > 0)) bad(`walk-forward needs a non-empty range (from ${range.from} to ${range.to})`);
  if (!Number.isInteger(spec.folds) || spec.folds < 1) {
    bad(`--walk-forward must be a whole number of folds >= 1, got ${spec.folds}`, { folds: spec.folds });
  }
  let isLen: number;
  let oosLen: number;
  let start = range.from;
  if (spec.isLength !== undefined && spec.oosLength !== undefined) {
    isLen = spec.isLength;
    oosLen = spec.oosLength;
    if (!(isLen > 0 && oosLen > 0)) bad('--is-length and --oos-length must be > 0');
    const fit = Math.floor((total - isLen) / oosLen);
    if (fit < spec.folds) {
      bad(
        `--walk-forward ${spec.folds} with --is-length/--oos-length needs ${fmtDays(isLen + spec.folds * oosLen)} of data; the range has ${fmtDays(total)}`,
      );
    }
    // The folds nearest the end of the data: the most recent out-of-sample evidence.
    start = range.to - isLen - spec.folds * oosLen;
  } else {
    const r = spec.isRatio ?? 0.75;
    if (!(r > 0 && r < 1)) bad(`--is-ratio must be between 0 and 1 (exclusive), got ${r}`, { isRatio: r });
    // total = isLen + folds * oosLen with isLen / (isLen + oosLen) = r.
    oosLen = total / (spec.folds + r / (1 - r));
    isLen = (oosLen * r) / (1 - r);
  }
  const folds: Fold[] = [];
  const boundary = (k: number): number =>
    k === spec.folds ? range.to : Math.round(start + isLen + k * oosLen);
  for (let k = 0; k < spec.folds; k++) {
    const oosFrom = boundary(k);
    const oosTo = boundary(k + 1);
    const isFrom = spec.anchored ? range.from : Math.max(range.from, Math.round(oosFrom - isLen));
    if (!(oosTo > oosFrom && oosFrom > isFrom)) {
      bad(`walk-forward fold ${k + 1} would be empty: use fewer folds or a longer range`, { fold: k + 1 });
    }
    folds.push({
      index: k,
      inSample: { from: isFrom, to: oosFrom },
      outOfSample: { from: oosFrom, to: oosTo },
    });
  }
  return folds;
}

function fmtDays(micros: number): string {
  return `${(micros / 86_400_000_000).toFixed(2)} days`;
}

// One duration grammar for every command (--walk-forward, --sample, --last): src/core/time-text.ts.
export { parseDuration } from '../../core/time-text.ts';
