// Finished trials, persisted as they finish: `<out>/trials.jsonl`, a header line with the optimisation's spec
// and its hash, then one JSON line per trial, written to the OS as it finishes and fsync'd within SYNC_MS. Opening
// the same folder with the same spec resumes (finished trials are read back, not run again); a different spec
// is refused with how to start afresh. A torn last line (killed mid-write) is ignored and its trial re-run.

import { createHash } from 'node:crypto';
import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { Bot4Error, ErrorCode } from '../../core/errors.ts';
import type { ParamPrimitive } from '../../strategy/params.ts';
import type { TrialStats } from './objective.ts';
import type { EquityCurve } from './trial.ts';

export const TRIALS_FILE = 'trials.jsonl';
/** Longest time a finished trial waits for its fsync (it is written to the OS at once). */
export const SYNC_MS = 200;

/** In-sample search, out-of-sample check of a fold's best, or the best re-run over the whole range. */
export type Phase = 'is' | 'oos' | 'best';

export interface TrialRecord {
  /** `<phase>:<fold>:<params>`: what resume matches on. */
  key: string;
  fold: number;
  phase: Phase;
  params: Record<string, ParamPrimitive>;
  /** The objective, oriented so higher is better; null when it is undefined, or the trial failed/skipped. */
  score: number | null;
  stats: TrialStats | null;
  /** Why the trial was not run (a --where constraint), or why it failed (the strategy refused the params). */
  skipped: string | null;
  error: string | null;
  events: number;
  wallMs: number;
  fingerprint: string;
  curve: EquityCurve | null;
}

export function specHash(spec: unknown): string {
  return createHash('sha256').update(JSON.stringify(spec)).digest('hex').slice(0, 16);
}

export interface StoreOptions {
  /** Discard trials of a previous run in this folder instead of resuming. */
  fresh?: boolean;
  /** Insist on resuming: fail when there is nothing to resume. */
  resume?: boolean;
}

export class TrialStore {
  readonly path: string;
  readonly hash: string;
  /** Trials read back from a previous run. */
  readonly resumed: number;
  private readonly done = new Map<string, TrialRecord>();
  private fd: number;
  /** This run wrote the file (nothing was there to resume). */
  private readonly created: boolean = false;
  private syncTimer: NodeJS.Timeout | null = null;
  private readonly sync = (): void => {
    this.syncTimer = null;
    if (this.fd >= 0) fsyncSync(this.fd);
  };

  constructor(dir: string, spec: unknown, options: StoreOptions = {}) {
    // Refused before anything is touched: --fresh would otherwise delete the trials --resume asked to keep.
    if (options.fresh === true && options.resume === true) {
      throw new Bot4Error(
        ErrorCode.INVALID_ARGUMENT,
        '--resume and --fresh contradict each other: --resume keeps the earlier trials, --fresh deletes them; give one',
      );
    }
    mkdirSync(dir, { recursive: true });
    this.path = join(dir, TRIALS_FILE);
    this.hash = specHash(spec);
    if (options.fresh === true && existsSync(this.path)) rmSync(this.path);
    const exists = existsSync(this.path);
    if (options.resume === true && !exists) {
      throw new Bot4Error(
        ErrorCode.INVALID_ARGUMENT,
        `--resume: ${this.path} does not exist, so there is nothing to resume; run without --resume to start`,
        { path: this.path },
      );
    }
    const torn = exists && this.load();
    this.resumed = this.done.size;
    this.fd = openSync(this.path, 'a');
    this.created = !exists;
    if (!exists) this.writeLines([JSON.stringify({ type: 'spec', hash: this.hash, spec })], true);
    // A line cut short by a kill stays unreadable; the next one must not be glued onto it.
    else if (torn) writeSync(this.fd, '\n');
  }

  /** Reads the finished trials; true when the file ends in a torn line. */
  private load(): boolean {
    const text = readFileSync(this.path, 'utf8');
    const lines = text.split('\n');
    const header = parseLine(lines[0] ?? '') as { type?: string; hash?: string } | null;
    if (header?.type !== 'spec') {
      throw new Bot4Error(
        ErrorCode.DATA_MALFORMED,
        `${this.path} is not an optimisation trials file (no spec header); use another --out or pass --fresh`,
        { path: this.path },
      );
    }
    if (header.hash !== this.hash) {
      throw new Bot4Error(
        ErrorCode.INVALID_ARGUMENT,
        `${this.path} holds trials of a different optimisation (spec ${header.hash}, this one is ${this.hash}: strategy, data, parameters, search, seed, objective or walk-forward changed); use another --out, or --fresh to discard them`,
        { path: this.path, stored: header.hash, current: this.hash },
      );
    }
    for (let i = 1; i < lines.length; i++) {
      const r = parseLine(lines[i]!) as (TrialRecord & { type?: string }) | null;
      if (r === null || r.type !== 'trial') continue;
      delete r.type;
      this.done.set(r.key, r);
    }
    return text.length > 0 && !text.endsWith('\n');
  }

  get(key: string): TrialRecord | undefined {
    return this.done.get(key);
  }

  get size(): number {
    return this.done.size;
  }

  /**
   * Appends finished trials. They reach the OS before this returns (a killed process loses none); one fsync
   * follows within SYNC_MS for all the trials written meanwhile, and one on close, so that fast trials are
   * not paced by the disk.
   */
  append(records: readonly TrialRecord[]): void {
    if (records.length === 0) return;
    for (const r of records) this.done.set(r.key, r);
    this.writeLines(
      records.map((r) => JSON.stringify({ type: 'trial', ...r })),
      false,
    );
  }

  private writeLines(lines: readonly string[], now: boolean): void {
    writeSync(this.fd, `${lines.join('\n')}\n`);
    if (now) fsyncSync(this.fd);
    // Unref'd: a pending fsync does not keep the process alive (close() syncs anyway).
    else this.syncTimer ??= setTimeout(this.sync, SYNC_MS).unref();
  }

  /**
   * Closes and deletes the file if this run created it: a run that produced no usable trial (every point
   * refused or failed, or it stopped before the first) must not leave a file that blocks the corrected command.
   * Returns whether it deleted it.
   */
  discardIfCreated(): boolean {
    this.close();
    if (!this.created) return false;
    rmSync(this.path, { force: true });
    return true;
  }

  close(): void {
    if (this.fd < 0) return;
    if (this.syncTimer !== null) clearTimeout(this.syncTimer);
    this.syncTimer = null;
    fsyncSync(this.fd);
    closeSync(this.fd);
    this.fd = -1;
  }
}

function parseLine(line: string): unknown {
  if (line.trim() === '') return null;
  try {
    return JSON.parse(line);
  } catch {
    return null;
  }
}
