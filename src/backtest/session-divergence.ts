// Where a backtest and a live session diverged, order by order. Both sides are order-event rows in the session
// log's encoding (data/session-log.ts); each side's orders are rebuilt from them (request, fills, outcome), then
// paired: same strategy, instrument, side and type, created closest in time within a window. A pair agrees
// when price (limit and average fill), quantity (ordered and filled), times (created, last fill) and outcome
// agree; everything else is counted by what differs, and unpaired orders are missing or extra in the backtest.
// Units: µs, ticks and lots inside; decimal prices and quantities, ISO times in the listed lines.

import { isoMicros } from '../core/time-text.ts';
import { Col, ORDER_TAG, ROW } from '../data/session-log.ts';
import { stepsToDecimal } from '../model/decimal.ts';
import type { InstrumentRegistry } from '../model/instrument.ts';
import { OrderSide, OrderType } from '../model/order.ts';
import { OrderEventKind, orderEventName } from '../model/order-state.ts';

/** One order as its events tell it. */
export interface OrderTrail {
  orderId: number;
  strategyId: number;
  instrumentId: number;
  side: number;
  type: number;
  qty: number;
  /** Limit price in ticks, NaN for a market order. */
  price: number;
  /** Engine time the strategy created it (INITIALIZED's tsInit), µs. */
  created: number;
  filledQty: number;
  /** Sum of fill price x fill quantity (ticks x lots); average = fillValue / filledQty. */
  fillValue: number;
  fills: number;
  /** Venue time of the last fill, NaN without one. */
  lastFill: number;
  /** FILLED, CANCELED, REJECTED, DENIED, EXPIRED (event names), or OPEN. */
  outcome: string;
}

export const DivergenceKind = {
  MISSING: 'missing in backtest',
  EXTRA: 'extra in backtest',
  DIFFERS: 'differs',
} as const;
export type DivergenceKind = (typeof DivergenceKind)[keyof typeof DivergenceKind];

export interface DivergenceItem {
  kind: DivergenceKind;
  /** For DIFFERS: what differs (price, quantity, time, outcome). */
  fields: string[];
  live?: OrderTrail;
  backtest?: OrderTrail;
  text: string;
}

export interface DivergenceCounts {
  liveOrders: number;
  backtestOrders: number;
  matched: number;
  missingInBacktest: number;
  extraInBacktest: number;
  priceDiffers: number;
  quantityDiffers: number;
  timeDiffers: number;
  outcomeDiffers: number;
}

export interface Divergence {
  counts: DivergenceCounts;
  /** Every divergence, in time order. */
  items: DivergenceItem[];
  /** Order events whose order was never created in the log (its INITIALIZED row missing), per side. */
  orphanEvents: { live: number; backtest: number };
  /** Session orders no strategy placed (adopted at reconciliation): not compared. */
  notByStrategy: number;
}

export interface CompareOptions {
  /** Times within this many µs agree (default 0: the replay runs on the session's own clock). */
  timeToleranceMicros?: number;
  /** Orders created further apart than this are never paired (default 5 s). */
  matchWindowMicros?: number;
}

/** The orders an order-event log describes, by creation time. Market rows in `rows` are skipped. */
export function orderTrails(
  rows: Float64Array,
  count: number,
): { trails: OrderTrail[]; orphanEvents: number } {
  const byId = new Map<number, OrderTrail>();
  let orphanEvents = 0;
  for (let i = 0; i < count; i++) {
    const o = i * ROW;
    const tag = rows[o + Col.TAG]!;
    if (tag < ORDER_TAG) continue;
    const kind = tag - ORDER_TAG;
    const id = rows[o + Col.A]!;
    if (kind === OrderEventKind.INITIALIZED) {
      byId.set(id, {
        orderId: id,
        strategyId: rows[o + Col.B]!,
        instrumentId: rows[o + Col.INST]!,
        side: rows[o + Col.C]!,
        type: rows[o + Col.D]!,
        qty: rows[o + Col.E]!,
        price: rows[o + Col.F]!,
        created: rows[o + Col.TS_INIT]!,
        filledQty: 0,
        fillValue: 0,
        fills: 0,
        lastFill: Number.NaN,
        outcome: 'OPEN',
      });
      continue;
    }
    const t = byId.get(id);
    if (t === undefined) {
      orphanEvents++;
      continue;
    }
    switch (kind) {
      case OrderEventKind.FILLED: {
        const q = rows[o + Col.C]!;
        t.filledQty += q;
        t.fillValue += q * rows[o + Col.D]!;
        t.fills++;
        t.lastFill = rows[o + Col.TS_EVENT]!;
        if (t.filledQty >= t.qty) t.outcome = orderEventName(kind);
        break;
      }
      case OrderEventKind.UPDATED:
        if (rows[o + Col.C]! > 0) t.qty = rows[o + Col.C]!;
        if (!Number.isNaN(rows[o + Col.D]!)) t.price = rows[o + Col.D]!;
        break;
      case OrderEventKind.CANCELED:
      case OrderEventKind.REJECTED:
      case OrderEventKind.DENIED:
      case OrderEventKind.EXPIRED:
        t.outcome = orderEventName(kind);
        break;
    }
  }
  const trails = [...byId.values()].sort((a, b) => a.created - b.created || a.orderId - b.orderId);
  return { trails, orphanEvents };
}

const samePrice = (a: number, b: number): boolean => a === b || (Number.isNaN(a) && Number.isNaN(b));

/** Pairs the live and backtest orders and says where they differ. */
export function compareOrders(
  live: Float64Array,
  liveCount: number,
  backtest: Float64Array,
  backtestCount: number,
  registry: InstrumentRegistry,
  o: CompareOptions = {},
): Divergence {
  const tol = o.timeToleranceMicros ?? 0;
  const window = o.matchWindowMicros ?? 5_000_000;
  const all = orderTrails(live, liveCount);
  // Strategy ids start at 1; 0 is an order the node adopted from the venue, which a backtest cannot place.
  const L = { trails: all.trails.filter((t) => t.strategyId !== 0), orphanEvents: all.orphanEvents };
  const notByStrategy = all.trails.length - L.trails.length;
  const B = orderTrails(backtest, backtestCount);
  const counts: DivergenceCounts = {
    liveOrders: L.trails.length,
    backtestOrders: B.trails.length,
    matched: 0,
    missingInBacktest: 0,
    extraInBacktest: 0,
    priceDiffers: 0,
    quantityDiffers: 0,
    timeDiffers: 0,
    outcomeDiffers: 0,
  };
  const items: DivergenceItem[] = [];
  const fmt = formatter(registry);
  // Backtest orders by (strategy, instrument, side, type), in creation order; a live order takes the closest.
  const pools = new Map<string, OrderTrail[]>();
  const key = (t: OrderTrail) => `${t.strategyId}/${t.instrumentId}/${t.side}/${t.type}`;
  for (const t of B.trails) {
    const k = key(t);
    const list = pools.get(k);
    if (list === undefined) pools.set(k, [t]);
    else list.push(t);
  }
  const used = new Set<OrderTrail>();
  for (const l of L.trails) {
    let best: OrderTrail | undefined;
    for (const b of pools.get(key(l)) ?? []) {
      if (used.has(b)) continue;
      const d = Math.abs(b.created - l.created);
      if (d > window) {
        if (b.created > l.created) break;
        continue;
      }
      if (best === undefined || d < Math.abs(best.created - l.created)) best = b;
    }
    if (best === undefined) {
      counts.missingInBacktest++;
      items.push({
        kind: DivergenceKind.MISSING,
        fields: [],
        live: l,
        text: `${fmt(l)}: missing in backtest`,
      });
      continue;
    }
    used.add(best);
    const fields: string[] = [];
    const avg = (t: OrderTrail) => (t.filledQty > 0 ? t.fillValue / t.filledQty : Number.NaN);
    if (!samePrice(l.price, best.price) || !samePrice(avg(l), avg(best))) fields.push('price');
    if (l.qty !== best.qty || l.filledQty !== best.filledQty) fields.push('quantity');
    const late = (a: number, b: number) => !(Number.isNaN(a) && Number.isNaN(b)) && !(Math.abs(a - b) <= tol);
    if (late(l.created, best.created) || late(l.lastFill, best.lastFill)) fields.push('time');
    if (l.outcome !== best.outcome) fields.push('outcome');
    if (fields.length === 0) {
      counts.matched++;
      continue;
    }
    if (fields.includes('price')) counts.priceDiffers++;
    if (fields.includes('quantity')) counts.quantityDiffers++;
    if (fields.includes('time')) counts.timeDiffers++;
    if (fields.includes('outcome')) counts.outcomeDiffers++;
    items.push({
      kind: DivergenceKind.DIFFERS,
      fields,
      live: l,
      backtest: best,
      text: `${fmt(l)}: ${fields.join(', ')} differ(s); backtest ${fmt(best)}`,
    });
  }
  for (const b of B.trails) {
    if (used.has(b)) continue;
    counts.extraInBacktest++;
    items.push({ kind: DivergenceKind.EXTRA, fields: [], backtest: b, text: `${fmt(b)}: extra in backtest` });
  }
  const at = (i: DivergenceItem) => (i.live ?? i.backtest)!.created;
  items.sort((a, b) => at(a) - at(b));
  return { counts, items, orphanEvents: { live: L.orphanEvents, backtest: B.orphanEvents }, notByStrategy };
}

/** The printed summary: counts, then the first `listMax` divergences. */
export function divergenceLines(d: Divergence, listMax = 20): string[] {
  const c = d.counts;
  const lines = [
    `replay vs session: ${c.liveOrders} live orders, ${c.backtestOrders} backtest orders: ${c.matched} matched, ` +
      `${c.missingInBacktest} missing in backtest, ${c.extraInBacktest} extra in backtest, ` +
      `${c.priceDiffers} price differs, ${c.quantityDiffers} quantity differs, ${c.timeDiffers} time differs, ` +
      `${c.outcomeDiffers} outcome differs`,
  ];
  if (d.orphanEvents.live + d.orphanEvents.backtest > 0) {
    lines.push(
      `order events of orders never created in the log (not compared): ${d.orphanEvents.live} live, ${d.orphanEvents.backtest} backtest`,
    );
  }
  if (d.notByStrategy > 0) {
    lines.push(
      `${d.notByStrategy} session order(s) not placed by a strategy (adopted from the venue), not compared`,
    );
  }
  if (d.items.length === 0) {
    lines.push('no divergence: the backtest reproduced every order of the session');
    return lines;
  }
  const shown = d.items.slice(0, listMax);
  lines.push(`first ${shown.length} of ${d.items.length} divergence(s):`);
  for (const i of shown) lines.push(`  ${i.text}`);
  return lines;
}

const SIDE_NAMES: Record<number, string> = { [OrderSide.BUY]: 'BUY', [OrderSide.SELL]: 'SELL' };
const TYPE_NAMES: Record<number, string> = Object.fromEntries(
  Object.entries(OrderType).map(([k, v]) => [v, k]),
);

/** "#12 BUY MARKET 0.001 BTCUSDT created 2026-...Z, FILLED 0.001 @ 43000.12 (last fill ...Z)". */
function formatter(registry: InstrumentRegistry): (t: OrderTrail) => string {
  return (t) => {
    const inst = registry.get(t.instrumentId as never);
    const px = (v: number) =>
      Number.isNaN(v)
        ? '-'
        : inst === undefined
          ? String(v)
          : Number.isInteger(v)
            ? stepsToDecimal(v, inst.tickSize)
            : (v * Number(stepsToDecimal(1, inst.tickSize))).toString();
    const qty = (v: number) => (inst === undefined ? String(v) : stepsToDecimal(v, inst.lotSize));
    const limit = Number.isNaN(t.price) ? '' : ` @ ${px(t.price)}`;
    const fill =
      t.filledQty > 0
        ? `, filled ${qty(t.filledQty)} avg ${px(t.fillValue / t.filledQty)} (last fill ${isoMicros(t.lastFill)})`
        : '';
    return (
      `#${t.orderId} ${SIDE_NAMES[t.side] ?? t.side} ${TYPE_NAMES[t.type] ?? t.type} ${qty(t.qty)} ` +
      `${inst?.symbol ?? `instrument ${t.instrumentId}`}${limit} created ${isoMicros(t.created)}, ${t.outcome}${fill}`
    );
  };
}
