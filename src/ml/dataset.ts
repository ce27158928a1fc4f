// Datasets for models: feature rows recorded by replaying market data through the engine (the same FeatureFeed a
// live strategy uses), labelled from later bars, and split for evaluation without leakage. Labels look ahead by
// construction and carry the time they resolve (`label_end`), which purging uses: a training row whose label ends
// inside a test window saw the test data and is dropped; an embargo also drops rows right after a test window.
// Times micros; returns are log returns; prices ticks (as the engine sees them).

import { openBacktestData } from '../backtest/data-query.ts';
import { type BacktestProgress, runBacktest } from '../backtest/runner.ts';
import { Bot4Error, ErrorCode } from '../core/errors.ts';
import { type InstrumentRegistry, newInstrumentRegistry } from '../model/instrument.ts';
import type { EventBatch } from '../model/market-data.ts';
import { FeatureRecorder } from './feature-feed.ts';
import type { FeatureSpec } from './features.ts';
import type { Table } from './table.ts';

/** Columns every dataset has besides the features. */
export const META_COLUMNS: readonly string[] = ['ts', 'close', 'high', 'low', 'label', 'label_end'];

export type LabelSpec =
  | { readonly kind: 'forward-return'; readonly horizon: number; readonly text: string }
  | {
      readonly kind: 'triple-barrier';
      readonly up: number;
      readonly down: number;
      readonly horizon: number;
      readonly text: string;
    };

const DURATION = /^(\d+(?:\.\d+)?)(s|m|h|d)$/;
const UNIT: Record<string, number> = { s: 1e6, m: 60e6, h: 3600e6, d: 86_400e6 };

function duration(text: string, label: string): number {
  const m = DURATION.exec(text.trim());
  if (m === null) {
    throw new Bot4Error(
      ErrorCode.INVALID_ARGUMENT,
      `--label '${label}': '${text}' is not a duration like 30s, 5m, 1h, 1d`,
      {
        label,
      },
    );
  }
  return Math.round(Number(m[1]) * UNIT[m[2]!]!);
}

/** 'forward-return:5m' or 'triple-barrier:up=0.01,down=0.01,horizon=1h'. */
export function parseLabel(text: string): LabelSpec {
  const [kind, rest = ''] = text.split(':', 2) as [string, string?];
  if (kind === 'forward-return') return { kind, horizon: duration(rest, text), text };
  if (kind === 'triple-barrier') {
    const kv = Object.fromEntries(
      rest.split(',').map((p) => p.split('=').map((s) => s.trim()) as [string, string]),
    );
    for (const k of Object.keys(kv)) {
      if (!['up', 'down', 'horizon'].includes(k)) {
        throw new Bot4Error(
          ErrorCode.INVALID_ARGUMENT,
          `--label '${text}': unknown key '${k}' (up, down, horizon)`,
          {
            key: k,
          },
        );
      }
    }
    const up = Number(kv.up);
    const down = Number(kv.down);
    if (!(up > 0) || !(down > 0)) {
      throw new Bot4Error(
        ErrorCode.INVALID_ARGUMENT,
        `--label '${text}': up and down must be fractions > 0, e.g. triple-barrier:up=0.01,down=0.01,horizon=1h`,
        { label: text },
      );
    }
    return { kind, up, down, horizon: duration(kv.horizon ?? '', text), text };
  }
  throw new Bot4Error(
    ErrorCode.INVALID_ARGUMENT,
    `--label '${text}' is not forward-return:<duration> or triple-barrier:up=<f>,down=<f>,horizon=<duration>`,
    { label: text },
  );
}

/**
 * Labels for rows at times ts with bar close/high/low. forward-return: log(close at the first row at or after
 * ts + horizon / close). triple-barrier: +1 when a later bar's high reaches close * (1 + up) first, -1 when its low
 * reaches close * (1 - down) first (both in one bar counts as -1: the stop is assumed hit first), 0 when neither
 * happens within the horizon. NaN (and label_end NaN) when the data ends before the label is known.
 */
export function computeLabels(
  spec: LabelSpec,
  ts: Float64Array,
  close: Float64Array,
  high: Float64Array,
  low: Float64Array,
): { label: Float64Array; end: Float64Array } {
  const n = ts.length;
  const label = new Float64Array(n).fill(Number.NaN);
  const end = new Float64Array(n).fill(Number.NaN);
  let j = 0;
  for (let i = 0; i < n; i++) {
    const until = ts[i]! + spec.horizon;
    if (spec.kind === 'forward-return') {
      if (j <= i) j = i + 1;
      while (j < n && ts[j]! < until) j++;
      if (j < n) {
        label[i] = Math.log(close[j]! / close[i]!);
        end[i] = ts[j]!;
      }
      continue;
    }
    const upPx = close[i]! * (1 + spec.up);
    const downPx = close[i]! * (1 - spec.down);
    let k = i + 1;
    for (; k < n && ts[k]! <= until; k++) {
      if (low[k]! <= downPx) {
        label[i] = -1;
        break;
      }
      if (high[k]! >= upPx) {
        label[i] = 1;
        break;
      }
    }
    if (!Number.isNaN(label[i]!)) end[i] = ts[k]!;
    else if (k < n) {
      // The horizon passed inside the data with neither barrier touched.
      label[i] = 0;
      end[i] = ts[k - 1]!;
    }
  }
  return { label, end };
}

export interface Split {
  readonly train: Int32Array;
  readonly test: Int32Array;
}

/**
 * Purged k-fold with embargo (de Prado): k contiguous test blocks in time order; a training row is dropped when
 * its label interval [ts, end] overlaps the test block's [first ts, last end], or when it starts within `embargo`
 * micros after the block. Rows without a label are in no set.
 */
export function purgedKFold(ts: Float64Array, end: Float64Array, k: number, embargo = 0): Split[] {
  const idx: number[] = [];
  for (let i = 0; i < ts.length; i++) if (!Number.isNaN(end[i]!)) idx.push(i);
  if (!Number.isInteger(k) || k < 2 || idx.length < k) {
    throw new Bot4Error(
      ErrorCode.INVALID_ARGUMENT,
      `--cv must be a whole number from 2 to the ${idx.length} labelled rows, got ${k}`,
    );
  }
  const out: Split[] = [];
  for (let f = 0; f < k; f++) {
    const lo = Math.floor((f * idx.length) / k);
    const hi = Math.floor(((f + 1) * idx.length) / k);
    const test = idx.slice(lo, hi);
    const t0 = ts[test[0]!]!;
    let t1 = t0;
    for (const i of test) t1 = Math.max(t1, end[i]!);
    const lastStart = ts[test[test.length - 1]!]!;
    const train = idx.filter((i, p) => {
      if (p >= lo && p < hi) return false;
      if (ts[i]! <= t1 && end[i]! >= t0) return false; // label overlaps the test block
      return !(ts[i]! > lastStart && ts[i]! < t1 + embargo);
    });
    out.push({ train: Int32Array.from(train), test: Int32Array.from(test) });
  }
  return out;
}

export interface DatasetOptions {
  readonly spec: FeatureSpec;
  /** `--data` specs (files, catalog queries), or an in-memory stream with its instruments (tests, benchmarks). */
  readonly data:
    | readonly string[]
    | {
        readonly batches: Iterable<EventBatch>;
        readonly instruments: InstrumentRegistry;
        readonly label: string;
      };
  readonly label: LabelSpec;
  /** Instrument symbol or key; default: the only instrument in the data. */
  readonly instrument?: string;
  readonly catalogDir: string;
  readonly from?: number;
  readonly to?: number;
  readonly onProgress?: (p: BacktestProgress) => void;
  readonly signal?: AbortSignal;
}

export interface Dataset {
  readonly table: Table;
  readonly features: readonly string[];
  readonly instrument: string;
  /** Rows recorded, and rows dropped because the data ended before their label was known. */
  readonly recorded: number;
  readonly unlabelled: number;
  readonly events: number;
}

/** Replays the data through the engine with a FeatureRecorder and labels the rows. */
export async function buildDataset(o: DatasetOptions): Promise<Dataset> {
  const given = 'batches' in o.data ? o.data : null;
  const instruments = given?.instruments ?? newInstrumentRegistry();
  const opened =
    given !== null
      ? { data: given.batches, label: given.label, close() {} }
      : await openBacktestData(o.data as readonly string[], {
          instruments,
          catalogDir: o.catalogDir,
          ...(o.from === undefined ? {} : { from: o.from }),
          ...(o.to === undefined ? {} : { to: o.to }),
        });
  try {
    const all = instruments.all();
    let key = o.instrument;
    if (key === undefined) {
      if (all.length !== 1) {
        throw new Bot4Error(
          ErrorCode.INVALID_ARGUMENT,
          `the data holds ${all.length} instruments (${all.map((i) => i.key).join(', ')}); name one with --instrument`,
        );
      }
      key = all[0]!.key;
    }
    const rec = new FeatureRecorder({ instrument: key }, o.spec);
    const settlement = all.find((i) => i.key === key || i.symbol === key)?.settlement.code ?? 'USDT';
    const result = await runBacktest({
      strategies: [{ strategy: rec }],
      instruments,
      data: opened.data,
      dataLabel: opened.label,
      balances: [{ currency: settlement, amount: '1000000' }],
      ...(o.from === undefined ? {} : { from: o.from }),
      ...(o.to === undefined ? {} : { to: o.to }),
      ...(o.onProgress === undefined ? {} : { onProgress: o.onProgress }),
      ...(o.signal === undefined ? {} : { signal: o.signal }),
    });
    const cols = rec.out.trimmed();
    const names = rec.out.names;
    const get = (nm: string) => cols[names.indexOf(nm)]!;
    const { label, end } = computeLabels(o.label, get('ts'), get('close'), get('high'), get('low'));
    const keep: number[] = [];
    for (let i = 0; i < label.length; i++) if (!Number.isNaN(label[i]!)) keep.push(i);
    const pick = (c: Float64Array) => Float64Array.from(keep, (i) => c[i]!);
    const outNames = ['ts', ...o.spec.names, 'close', 'high', 'low', 'label', 'label_end'];
    const outCols = [...outNames.slice(0, -2).map((nm) => pick(get(nm))), pick(label), pick(end)];
    return {
      table: { names: outNames, columns: outCols, n: keep.length },
      features: o.spec.names,
      instrument: key,
      recorded: label.length,
      unlabelled: label.length - keep.length,
      events: result.events,
    };
  } finally {
    opened.close();
  }
}
