// Slippage models of the simulated venue's taker fills on quote (L1) and bar data: a fill's price moves against
// the taker by a whole number of ticks, rounded up (a cost is never rounded away). On L2 data no model applies:
// walking the book is the slippage. Maker fills (resting orders filled at their own price) never slip.
//   ticks:N                     N ticks
//   spread:F                    F x the spread at the fill (ask - bid); bar data has none (counted in a note)
//   impact:k=K,a=A[,volume=V]   price x K x (q / V)^A, q the fill's size and V the bar's volume (volume-
//                               participation impact, the square-root law at A = 0.5); on quotes V is the size
//                               shown at the best. volume=quote when the data's bar volume is quote turnover
//                               (the nautilus FTX bars count USD), base otherwise (default).
// Units: prices in ticks, sizes in lots; the hot path (slipTicks) allocates nothing.

import { Bot4Error, ErrorCode } from '../../core/errors.ts';

export const SlippageKind = { TICKS: 1, SPREAD: 2, IMPACT: 3 } as const;
export type SlippageKind = (typeof SlippageKind)[keyof typeof SlippageKind];

/** A parsed slippage model: plain data, so it crosses to optimiser workers as it is. */
export interface SlippageModel {
  readonly kind: SlippageKind;
  /** TICKS: ticks per fill. */
  readonly ticks: number;
  /** SPREAD: fraction of the spread. */
  readonly fraction: number;
  /** IMPACT: coefficient K (relative price move at full participation) and exponent A. */
  readonly k: number;
  readonly a: number;
  /** IMPACT: the bar volume counts quote currency (price x size), not base units. */
  readonly quoteVolume: boolean;
  /** The text it was parsed from, for the report. */
  readonly text: string;
}

const FORMS =
  'use ticks:N, spread:F or impact:k=K,a=A[,volume=base|quote] (e.g. ticks:1, spread:0.5, impact:k=0.1,a=0.5)';

function bad(option: string, text: string, why: string): never {
  throw new Bot4Error(ErrorCode.INVALID_ARGUMENT, `${option} '${text}': ${why}; ${FORMS}`, {
    option,
    value: text,
  });
}

function number(option: string, text: string, key: string, value: string, min: number): number {
  const n = /^\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\s*$/.test(value) ? Number(value) : Number.NaN;
  if (!(n >= min) || !Number.isFinite(n)) bad(option, text, `${key} '${value}' must be a number >= ${min}`);
  return n;
}

/** Edge: `--slippage` text -> a model; INVALID_ARGUMENT (exit 2) naming the bad part. */
export function parseSlippage(text: string, option = '--slippage'): SlippageModel {
  const t = text.trim();
  const colon = t.indexOf(':');
  if (colon < 0) bad(option, text, 'no model named');
  const name = t.slice(0, colon).trim().toLowerCase();
  const rest = t.slice(colon + 1).trim();
  const base = { ticks: 0, fraction: 0, k: 0, a: 1, quoteVolume: false, text: t };
  switch (name) {
    case 'ticks': {
      const n = number(option, text, 'ticks', rest, 0);
      if (!Number.isInteger(n)) bad(option, text, `ticks '${rest}' must be a whole number`);
      return { ...base, kind: SlippageKind.TICKS, ticks: n };
    }
    case 'spread':
      return {
        ...base,
        kind: SlippageKind.SPREAD,
        fraction: number(option, text, 'spread fraction', rest, 0),
      };
    case 'impact': {
      const kv = new Map<string, string>();
      for (const part of rest.split(',')) {
        const eq = part.indexOf('=');
        const key = part.slice(0, eq).trim().toLowerCase();
        if (eq <= 0 || !['k', 'a', 'volume'].includes(key)) {
          bad(option, text, `'${part.trim()}' is not k=..., a=... or volume=base|quote`);
        }
        if (kv.has(key)) bad(option, text, `${key} is given twice`);
        kv.set(key, part.slice(eq + 1).trim());
      }
      if (!kv.has('k')) bad(option, text, 'impact needs k');
      const volume = (kv.get('volume') ?? 'base').toLowerCase();
      if (volume !== 'base' && volume !== 'quote') {
        bad(option, text, `volume '${kv.get('volume')}' must be base or quote`);
      }
      const a = kv.has('a') ? number(option, text, 'a', kv.get('a')!, 0) : 0.5;
      return {
        ...base,
        kind: SlippageKind.IMPACT,
        k: number(option, text, 'k', kv.get('k')!, 0),
        a,
        quoteVolume: volume === 'quote',
      };
    }
    default:
      return bad(option, text, `'${name}' is not a slippage model`);
  }
}

/**
 * Ticks a taker fill of `lots` at `px` moves against the taker (>= 0, whole, rounded up). `spread` is ask - bid
 * in ticks (NaN or 0 when unknown), `volume` the bar's volume or the size shown at the best (lots; in quote
 * money steps of lot size when the model says volume=quote), `tickValue` the tick size (quote per base unit per
 * tick) for that conversion. NaN when the model cannot price this fill (no spread, no volume): the caller counts
 * those and fills unslipped. Hot path: no allocation.
 */
export function slipTicks(
  model: SlippageModel,
  px: number,
  lots: number,
  spread: number,
  volume: number,
  tickValue: number,
): number {
  switch (model.kind) {
    case SlippageKind.TICKS:
      return model.ticks;
    case SlippageKind.SPREAD:
      if (!(spread > 0)) return Number.NaN;
      return Math.ceil(model.fraction * spread - 1e-9);
    default: {
      if (!(volume > 0)) return Number.NaN;
      // Participation q / V; with a quote-turnover volume q is valued at the price first.
      const q = model.quoteVolume ? lots * px * tickValue : lots;
      const move = px * model.k * (q / volume) ** model.a;
      return move > 1e-9 ? Math.ceil(move - 1e-9) : 0;
    }
  }
}

/** What a run's venues report about slippage: the cost in one currency, and notes for the report. */
export function slippageOf(
  venues: readonly {
    slippageCost(currencyId: number): { cost: number; otherCurrencies: number };
    readonly stats: { slippedFills: number; unpricedSlippage: number };
  }[],
  currencyId: number,
  currencyCode: string,
  model: SlippageModel | undefined,
): { cost: number; notes: string[] } {
  let cost = 0;
  let other = 0;
  let slipped = 0;
  let unpriced = 0;
  for (const v of venues) {
    const c = v.slippageCost(currencyId);
    cost += c.cost;
    other += c.otherCurrencies;
    slipped += v.stats.slippedFills;
    unpriced += v.stats.unpricedSlippage;
  }
  const notes: string[] = [];
  if (model === undefined) return { cost, notes };
  notes.push(`slippage model ${model.text}: ${slipped} taker fills moved against the taker`);
  if (unpriced > 0) {
    const why = model.kind === SlippageKind.SPREAD ? 'no spread (bar data has none)' : 'no volume';
    notes.push(
      `${unpriced} taker fills had ${why} for slippage model ${model.text} and filled without slippage`,
    );
  }
  if (other > 0) {
    notes.push(
      `slippage on ${other} instruments settled in another currency than ${currencyCode} is not in the figures`,
    );
  }
  return { cost, notes };
}
