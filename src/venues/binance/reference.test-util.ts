// Test helper: a JSON.parse-based reference decoder for Binance market-data messages, written independently
// of the scanner in messages.ts, so that comparing the two on real captures checks the scanner. Test use only.

import { expect } from 'vitest';
import type { BinanceMarket } from '../../model/binance-instruments.ts';
import { decimalToSteps, decimalToStepsRounded, Rounding, stepOfScale } from '../../model/decimal.ts';
import type { Instrument } from '../../model/instrument.ts';
import { DeltaFlag, EventBatch, RecordKind, Side } from '../../model/market-data.ts';
import { type BinanceParser, ParseResult } from './messages.ts';

export type Row = [
  kind: number,
  inst: number,
  tsEvent: number,
  tsInit: number,
  a: number,
  b: number,
  c: number,
  d: number,
  seq: number,
];

type J = Record<string, unknown>;

function steps(text: unknown, step: Instrument['tickSize']): number {
  if (typeof text !== 'string') throw new Error(`not a decimal string: ${String(text)}`);
  const v = decimalToSteps(text, step);
  if (Number.isNaN(v)) throw new Error(`not on grid: ${text} at ${step.text}`);
  return v;
}

/** Rows the message should produce, or a string naming why none ('unknown'). */
export function referenceRows(msg: string, inst: Instrument, tsInit: number): Row[] | 'unknown' {
  const o = JSON.parse(msg) as J;
  const d = (o['data'] !== undefined && typeof o['data'] === 'object' ? o['data'] : o) as J;
  const e = d['e'];
  const id = inst.id as number;
  const ms = (d['T'] ?? d['E']) as number | undefined;
  const ts = ms === undefined ? tsInit : ms * 1000;
  const tick = inst.tickSize;
  const lot = inst.lotSize;
  if (e === 'bookTicker' || (e === undefined && typeof d['b'] === 'string' && d['u'] !== undefined)) {
    return [
      [
        RecordKind.QUOTE,
        id,
        ts,
        tsInit,
        steps(d['b'], tick),
        steps(d['B'], lot),
        steps(d['a'], tick),
        steps(d['A'], lot),
        (d['u'] as number | undefined) ?? 0,
      ],
    ];
  }
  if (e === 'trade' || e === 'aggTrade') {
    const side = d['m'] === true ? Side.SELL : d['m'] === false ? Side.BUY : 0;
    const tid = (e === 'trade' ? d['t'] : d['a']) as number;
    return [[RecordKind.TRADE, id, ts, tsInit, steps(d['p'], tick), steps(d['q'], lot), side, 0, tid]];
  }
  const snap = e === undefined && d['lastUpdateId'] !== undefined;
  if (e === 'depthUpdate' || snap) {
    const bids = (snap ? d['bids'] : d['b']) as [string, string][];
    const asks = (snap ? d['asks'] : d['a']) as [string, string][];
    const seq = (snap ? d['lastUpdateId'] : d['u']) as number;
    const flags = snap ? DeltaFlag.SNAPSHOT : 0;
    const rows: Row[] = [];
    for (const [p, q] of bids)
      rows.push([RecordKind.DELTA, id, ts, tsInit, steps(p, tick), steps(q, lot), Side.BUY, flags, seq]);
    for (const [p, q] of asks)
      rows.push([RecordKind.DELTA, id, ts, tsInit, steps(p, tick), steps(q, lot), Side.SELL, flags, seq]);
    if (rows.length > 0) {
      rows[rows.length - 1]![7] |= DeltaFlag.LAST;
      if (snap) rows[0]![7] |= DeltaFlag.CLEAR;
    }
    return rows;
  }
  if (e === 'markPriceUpdate') {
    const t = (d['E'] as number) * 1000;
    const round = (x: unknown, st = tick, signed = false) =>
      decimalToStepsRounded(x as string, st, Rounding.HALF_EVEN, signed);
    const rows: Row[] = [
      [
        RecordKind.MARK_PRICE,
        id,
        t,
        tsInit,
        round(d['p']),
        d['i'] === undefined ? 0 : round(d['i']),
        0,
        0,
        0,
      ],
    ];
    if (d['r'] !== undefined) {
      rows.push([
        RecordKind.FUNDING_RATE,
        id,
        t,
        tsInit,
        round(d['r'], stepOfScale(8), true),
        (d['T'] as number) * 1000,
        0,
        0,
        0,
      ]);
    }
    return rows;
  }
  return 'unknown';
}

export function batchRows(b: EventBatch, from: number, to: number): Row[] {
  const rows: Row[] = [];
  for (let i = from; i < to; i++) {
    rows.push([
      b.kind[i]!,
      b.instrument[i]!,
      b.tsEvent[i]!,
      b.tsInit[i]!,
      b.a[i]!,
      b.b[i]!,
      b.c[i]!,
      b.d[i]!,
      b.seq[i]!,
    ]);
  }
  return rows;
}

export const CAPTURES: [string, BinanceMarket, string, number][] = [
  // The last figure: depth messages with a level size finer than the exchangeInfo lot (legacy orders).
  ['spot/btcusdt_20240808.gz', 'spot', 'BTCUSDT', 3],
  ['spot/btcusdt_20240809.gz', 'spot', 'BTCUSDT', 4],
  ['spot/ethusdt_20240808.gz', 'spot', 'ETHUSDT', 2],
  ['spot/ethusdt_20240809.gz', 'spot', 'ETHUSDT', 1],
  ['usdm/btcusdt_20240808.gz', 'usdm', 'BTCUSDT', 0],
  ['usdm/ethusdt_20240808.gz', 'usdm', 'ETHUSDT', 0],
  ['cm/btcusd_perp_20240808.gz', 'coinm', 'BTCUSD_PERP', 0],
  ['cm/btcusd_perp_20240809.gz', 'coinm', 'BTCUSD_PERP', 0],
  ['cm/ethusd_perp_20240808.gz', 'coinm', 'ETHUSD_PERP', 0],
  ['cm/ethusd_perp_20240809.gz', 'coinm', 'ETHUSD_PERP', 0],
];

export function compare(
  lines: string[],
  start: (line: string) => number,
  parser: BinanceParser,
  instOf: (msg: string) => Instrument,
): Record<string, number> {
  const out = new EventBatch(4096);
  const counts: Record<string, number> = {};
  for (const line of lines) {
    if (line === '') continue;
    const at = start(line);
    if (at < 0) continue;
    out.clear();
    const r = parser.parse(line, at, 1, out);
    counts[r] = (counts[r] ?? 0) + 1;
    const msg = line.slice(at);
    let want: ReturnType<typeof referenceRows>;
    try {
      want = referenceRows(msg, instOf(msg), 1);
    } catch (e) {
      // A value off the instrument's grid: the parser must refuse the message too.
      if (!/not on grid/.test((e as Error).message)) throw e;
      if (r !== ParseResult.BAD_VALUE) expect.fail(`expected BAD_VALUE for ${msg.slice(0, 160)}`);
      continue;
    }
    if (want === 'unknown') {
      if (r !== ParseResult.UNKNOWN) expect.fail(`expected UNKNOWN for ${msg.slice(0, 120)}`);
      continue;
    }
    // One expect per message would dominate the run time: compare in place, report a mismatch in full.
    if (!sameRows(out, want)) expect(batchRows(out, 0, out.length), msg.slice(0, 200)).toEqual(want);
  }
  return counts;
}

function sameRows(b: EventBatch, want: Row[]): boolean {
  if (b.length !== want.length) return false;
  for (let i = 0; i < want.length; i++) {
    const w = want[i]!;
    if (
      b.kind[i] !== w[0] ||
      b.instrument[i] !== w[1] ||
      b.tsEvent[i] !== w[2] ||
      b.tsInit[i] !== w[3] ||
      b.a[i] !== w[4] ||
      b.b[i] !== w[5] ||
      b.c[i] !== w[6] ||
      b.d[i] !== w[7] ||
      b.seq[i] !== w[8]
    ) {
      return false;
    }
  }
  return true;
}
