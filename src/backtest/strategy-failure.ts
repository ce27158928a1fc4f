// A strategy that throws stops the run; what its author needs then: where in their own code (the first stack
// frames outside Bot4, file:line:column, source-mapped for TypeScript), at which event time, on which market
// event, and the state of the market and account at that moment. The runner ends the recording at the failing
// event, so the partial report (everything up to it) is written as for Ctrl-C. Not on the per-event path.

import { fileURLToPath } from 'node:url';
import { Bot4Error, ErrorCode, isBot4Error } from '../core/errors.ts';
import type { InstrumentId } from '../core/units.ts';
import type { InstrumentRegistry } from '../model/instrument.ts';
import { type EventBatch, RecordKind } from '../model/market-data.ts';
import type { Portfolio } from '../portfolio/portfolio.ts';
import { isEngineFile } from '../strategy/bot4-resolution.ts';
import type { BacktestResult } from './runner.ts';

/** The error a strategy threw: the innermost cause under the host's wrapper. */
export function rootCause(e: unknown): unknown {
  let cur = e;
  for (let depth = 0; depth < 10; depth++) {
    const cause = (cur as { cause?: unknown } | null)?.cause;
    if (cause === undefined || cause === null) break;
    cur = cause;
  }
  return cur;
}

/**
 * The frames of `e`'s stack in user code, as `path:line:column` (function name first when there is one): every
 * frame outside the engine's code (isEngineFile) and node: internals. Empty when the error has no such frame.
 */
export function userFrames(e: unknown): string[] {
  const stack = (e as { stack?: unknown } | null)?.stack;
  if (typeof stack !== 'string') return [];
  const out: string[] = [];
  for (const line of stack.split('\n')) {
    const m = /^\s*at (?:(.*?) \()?(.+?):(\d+):(\d+)\)?\s*$/.exec(line);
    if (m === null) continue;
    let file = m[2]!;
    if (file.startsWith('file://')) file = fileURLToPath(file);
    if (file.startsWith('node:') || isEngineFile(file)) continue;
    out.push(`${m[1] === undefined ? '' : `${m[1]} `}${file}:${m[3]}:${m[4]}`);
  }
  return out;
}

/** One market-data row in words and decimals: "quote BTCUSDT.BINANCE bid 61800.2 x 2.507 ask 61800.3 x 2.51". */
export function describeRow(b: EventBatch, i: number, registry: InstrumentRegistry): string {
  const inst = registry.get(b.instrument[i]! as InstrumentId);
  const key = inst?.key ?? `instrument #${b.instrument[i]}`;
  const px = (t: number): string => (inst === undefined ? String(t) : inst.ticksToPrice(t));
  const qty = (l: number): string => (inst === undefined ? String(l) : inst.lotsToQty(l));
  switch (b.kind[i]) {
    case RecordKind.QUOTE:
      return `quote ${key} bid ${px(b.a[i]!)} x ${qty(b.b[i]!)} ask ${px(b.c[i]!)} x ${qty(b.d[i]!)}`;
    case RecordKind.TRADE:
      return `trade ${key} ${px(b.a[i]!)} x ${qty(b.b[i]!)}`;
    case RecordKind.BAR:
      return `bar ${key} ${b.f[i]! / 60_000_000}m open ${px(b.a[i]!)} high ${px(b.b[i]!)} low ${px(b.c[i]!)} close ${px(b.d[i]!)} volume ${qty(b.e[i]!)}`;
    case RecordKind.DELTA:
      return `book delta ${key}`;
    default:
      return `record kind ${b.kind[i]} ${key}`;
  }
}

/** What the run knew when the strategy failed: the event, and each marked instrument's last price and position. */
export interface FailurePoint {
  /** Event time, micros. */
  readonly ts: number;
  readonly event: string;
  readonly market: string[];
}

export function failurePoint(
  b: EventBatch,
  i: number,
  registry: InstrumentRegistry,
  portfolio: Portfolio,
): FailurePoint {
  const market: string[] = [];
  for (const inst of registry.all()) {
    const pos = portfolio.position(inst.id);
    const px = pos?.markPx ?? Number.NaN;
    if (Number.isNaN(px)) continue;
    market.push(
      `${inst.key} last ${inst.ticksToPrice(px)}, position ${inst.lotsToQty(pos?.qty ?? 0)}${pos === undefined || pos.qty === 0 ? '' : ` (avg ${inst.ticksToPrice(Math.round(pos.avgPx))})`}`,
    );
  }
  return { ts: b.tsEvent[i]!, event: describeRow(b, i, registry), market };
}

/** A strategy threw: the run stopped at `point`; `result` is the partial run up to it (its report is partial). */
export class StrategyFailure extends Bot4Error {
  readonly result: BacktestResult;
  readonly point: FailurePoint;
  readonly frames: string[];

  constructor(cause: unknown, point: FailurePoint, result: BacktestResult) {
    const frames = userFrames(rootCause(cause));
    const base = cause instanceof Error ? cause.message : String(cause);
    super(
      isBot4Error(cause) ? cause.code : ErrorCode.INTERNAL,
      [
        base,
        ...(frames.length === 0
          ? []
          : ['  at (strategy code):', ...frames.slice(0, 5).map((f) => `    ${f}`)]),
        `  event time ${new Date(Math.floor(point.ts / 1000)).toISOString()} (${point.ts} us): ${point.event}`,
        ...(point.market.length === 0
          ? []
          : ['  market and account then:', ...point.market.map((m) => `    ${m}`)]),
      ].join('\n'),
      { ...(isBot4Error(cause) ? cause.details : {}), ts: point.ts, event: point.event, frames },
      { cause },
    );
    this.result = result;
    this.point = point;
    this.frames = frames;
  }
}
