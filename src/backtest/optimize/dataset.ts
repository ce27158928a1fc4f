// A market-data set loaded once into SharedArrayBuffer-backed columns, with the instrument definitions that
// give its ids meaning. Handed to worker threads as it is (structured clone shares the buffers), each trial
// replays time-ranged views of it: no trial copies or re-parses data. Units: EventBatch's (micros, ticks, lots).

import { createHash } from 'node:crypto';
import { Bot4Error, ErrorCode } from '../../core/errors.ts';
import {
  type InstrumentRegistry,
  type InstrumentSpec,
  newInstrumentRegistry,
} from '../../model/instrument.ts';
import {
  EventBatch as Batch,
  type EventBatch,
  type EventColumns,
  RecordKind,
} from '../../model/market-data.ts';
import { Prng } from '../../venues/sim/rng.ts';

/** What crosses to a worker: plain data and typed arrays over shared memory. */
export interface SharedDataset {
  readonly label: string;
  readonly length: number;
  readonly columns: EventColumns;
  /** In registry order, so a worker's registry gives every instrument the same id. */
  readonly instruments: readonly InstrumentSpec[];
}

/** Rows per replayed batch: big enough to amortise per-batch work, small enough for prompt Ctrl-C. */
export const VIEW_ROWS = 8192;

function sharedColumns(n: number): EventColumns {
  const f64 = () => new Float64Array(new SharedArrayBuffer(Math.max(1, n) * 8));
  return {
    kind: new Uint8Array(new SharedArrayBuffer(Math.max(1, n))),
    instrument: new Int32Array(new SharedArrayBuffer(Math.max(1, n) * 4)),
    tsEvent: f64(),
    tsInit: f64(),
    a: f64(),
    b: f64(),
    c: f64(),
    d: f64(),
    e: f64(),
    f: f64(),
    seq: f64(),
  };
}

/** Reads every batch of `data` (batches may be reused by the source) into one shared copy. */
export async function loadShared(
  data: AsyncIterable<EventBatch> | Iterable<EventBatch>,
  registry: InstrumentRegistry,
  label: string,
): Promise<SharedDataset> {
  // Copies first (the source may reuse its batch), then one shared allocation of the exact size.
  const parts: EventBatch[] = [];
  let n = 0;
  for await (const b of data) {
    if (b.length === 0) continue;
    const copy = new Batch(b.length);
    for (let i = 0; i < b.length; i++) copy.copyRow(b, i);
    parts.push(copy);
    n += b.length;
  }
  if (n === 0) throw new Bot4Error(ErrorCode.DATA_MISSING, `no market data in ${label}`);
  const columns = sharedColumns(n);
  let o = 0;
  for (const p of parts) {
    const len = p.length;
    for (const key of COLUMN_KEYS)
      (columns[key] as Float64Array).set((p[key] as Float64Array).subarray(0, len), o);
    o += len;
  }
  return { label, length: n, columns, instruments: registry.all().map((i) => i.spec) };
}

const COLUMN_KEYS = ['kind', 'instrument', 'tsEvent', 'tsInit', 'a', 'b', 'c', 'd', 'e', 'f', 'seq'] as const;

/** A registry holding the data set's instruments under the ids its rows use. */
export function datasetRegistry(ds: SharedDataset): InstrumentRegistry {
  const reg = newInstrumentRegistry();
  for (const spec of ds.instruments) reg.add(spec);
  return reg;
}

/** First row with tsEvent >= t (binary search; rows are in time order). */
export function rowAt(ds: SharedDataset, t: number): number {
  const ts = ds.columns.tsEvent;
  let lo = 0;
  let hi = ds.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (ts[mid]! < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Views of the rows with from <= tsEvent < to, VIEW_ROWS at a time. */
export function* datasetViews(
  ds: SharedDataset,
  from: number,
  to: number,
  rows = VIEW_ROWS,
): Generator<EventBatch> {
  const end = rowAt(ds, to);
  for (let i = rowAt(ds, from); i < end; i += rows) yield Batch.view(ds.columns, i, Math.min(end, i + rows));
}

/** [first tsEvent, last tsEvent + 1): the range a data set covers, half-open like --from/--to. */
export function datasetRange(ds: SharedDataset): { from: number; to: number } {
  return { from: ds.columns.tsEvent[0]!, to: ds.columns.tsEvent[ds.length - 1]! + 1 };
}

/** A content hash (every 97th row and the ends), so resuming on changed data is refused. */
export function datasetFingerprint(ds: SharedDataset): string {
  const h = createHash('sha256');
  h.update(`${ds.length}|${JSON.stringify(ds.instruments)}|`);
  const step = Math.max(1, Math.floor(ds.length / 4096));
  const row = new Float64Array(9);
  const c = ds.columns;
  const add = (i: number): void => {
    row[0] = c.kind[i]!;
    row[1] = c.instrument[i]!;
    row[2] = c.tsEvent[i]!;
    row[3] = c.a[i]!;
    row[4] = c.b[i]!;
    row[5] = c.c[i]!;
    row[6] = c.d[i]!;
    row[7] = c.e[i]!;
    row[8] = c.seq[i]!;
    h.update(new Uint8Array(row.buffer));
  };
  for (let i = 0; i < ds.length; i += step) add(i);
  add(ds.length - 1);
  return h.digest('hex').slice(0, 16);
}

export interface SyntheticBarsOptions {
  bars: number;
  seed?: number;
  /** First bar's open time, micros (default 2024-01-01T00:00Z). */
  start?: number;
  /** Bar length, micros (default one minute). */
  interval?: number;
  /** Start price in ticks (default 500,000: 50,000.0 at a tick of 0.1). */
  price?: number;
  /** Volatility per bar as a fraction of price (default 0.0008, about BTC's one-minute figure). */
  vol?: number;
}

/**
 * Seeded one-minute bars straight into shared columns (no copy, no parsing): a random walk with
 * slowly changing volatility and drift regimes, so trend and mean-reversion strategies both find something.
 */
export function syntheticBars(spec: InstrumentSpec, o: SyntheticBarsOptions): SharedDataset {
  const n = o.bars;
  const instrumentId = newInstrumentRegistry().add(spec).id;
  const interval = o.interval ?? 60_000_000;
  const start = o.start ?? Date.UTC(2024, 0, 1) * 1000;
  const rng = new Prng(o.seed ?? 7, 21);
  const c = sharedColumns(n);
  let px = o.price ?? 500_000;
  const vol0 = o.vol ?? 0.0008;
  let vol = vol0;
  let drift = 0;
  for (let i = 0; i < n; i++) {
    if (i % 1440 === 0) drift = rng.normal() * vol0 * 0.01;
    vol = Math.min(vol0 * 4, Math.max(vol0 / 4, vol * Math.exp(rng.normal() * 0.02) * 0.999 + vol0 * 0.001));
    const open = px;
    // Four sub-steps give a high and low that bracket open and close like real candles.
    let hi = open;
    let lo = open;
    let p = open;
    for (let k = 0; k < 4; k++) {
      p *= 1 + drift / 4 + (rng.normal() * vol) / 2;
      if (p > hi) hi = p;
      if (p < lo) lo = p;
    }
    const close = Math.max(1, Math.round(p));
    px = close;
    const t0 = start + i * interval;
    c.kind[i] = RecordKind.BAR;
    c.instrument[i] = instrumentId;
    c.tsEvent[i] = t0 + interval;
    c.tsInit[i] = t0 + interval;
    c.a[i] = open;
    c.b[i] = Math.max(open, close, Math.round(hi));
    c.c[i] = Math.max(1, Math.min(open, close, Math.round(lo)));
    c.d[i] = close;
    c.e[i] = 1000 + rng.int(100_000);
    c.f[i] = interval;
    c.seq[i] = t0;
  }
  return {
    label: `synthetic ${n.toLocaleString('en-US')} bars (seed ${o.seed ?? 7})`,
    length: n,
    columns: c,
    instruments: [spec],
  };
}
