// Trading metrics of an engine (backtest, paper, live alike): market events in by venue and kind, order events,
// open orders by state, rejects by reason (risk reason codes by name), fills, breakers, trading state and kill
// switch, positions, exposure and PnL. The engine side only bumps shared typed-array slots (per batch for
// market data, per order event for orders); label sets get their slots at construction and attach(); per scrape
// the engine thread copies order-cache, breaker and portfolio figures into shared slots (publish), and the
// metrics worker turns every slot into prom-client values.
// Units: counts; quantities in base units (lots x lot size); money in the settlement currency's units.

import type { Clock } from '../core/clock.ts';
import type { MessageBus } from '../core/message-bus.ts';
import type { InstrumentId } from '../core/units.ts';
import { EngineReason, type ExecutionEngine } from '../execution/engine.ts';
import type { CurrencyId } from '../model/currency.ts';
import type { OrderEvent } from '../model/events.ts';
import type { InstrumentRegistry } from '../model/instrument.ts';
import { type EventBatch, RECORD_KIND_NAMES } from '../model/market-data.ts';
import { OrderReason } from '../model/order.ts';
import {
  ORDER_EVENT_KIND_COUNT,
  ORDER_STATUS_COUNT,
  OrderEventKind,
  orderEventName,
  orderStatusName,
} from '../model/order-state.ts';
import type { Portfolio } from '../portfolio/portfolio.ts';
import { BreakerScope, breakerScopeName } from '../risk/breakers.ts';
import {
  RISK_STATE_TOPIC,
  type RiskEngine,
  RiskReason,
  StateSource,
  TradingState,
  type TradingStateEvent,
} from '../risk/risk-engine.ts';
import { type SharedFamily, type SharedMetrics, sharedArray } from './shared-metrics.ts';

/** Record kinds are 1..6; a stride of 8 slots per venue. */
const KIND_BITS = 3;
const KIND_STRIDE = 1 << KIND_BITS;
const MAX_VENUES = 64;
/** Private count tables countRows spreads rows over (see there). */
const LANES = 4;
/** Reject codes: 1..99 order rules, 100..103 engine, 1000 + RiskReason; the table covers all of them. */
const REASON_SLOTS = 1200;

/** Name of a DENIED/REJECTED reason code, and which layer gave it. */
export function rejectReason(code: number): { source: string; reason: string } {
  const find = (table: Record<string, number>, c: number) =>
    Object.entries(table)
      .find(([, v]) => v === c)?.[0]
      ?.toLowerCase();
  if (code >= EngineReason.RISK) {
    return {
      source: 'risk',
      reason: find(RiskReason, code - EngineReason.RISK) ?? `risk_${code - EngineReason.RISK}`,
    };
  }
  if (code >= 100) return { source: 'engine', reason: find(EngineReason, code) ?? `engine_${code}` };
  return { source: 'order', reason: find(OrderReason, code) ?? `code_${code}` };
}

/** What the metrics read; every part is the engine's own object (nothing is copied per event). */
export interface EngineParts {
  engine: ExecutionEngine;
  portfolio: Portfolio;
  instruments: InstrumentRegistry;
  bus: MessageBus;
  clock?: Clock;
  risk?: RiskEngine;
  /** Strategy ids whose breakers to show (the global and venue breakers always are). */
  strategyIds?: readonly number[];
}

/** Unlabelled gauges' slots (scalars array). */
const S = { TRADING_STATE: 0, KILL: 1, CLOCK: 2, LENGTH: 3 } as const;

/** Per-instrument gauges, in slot order within an instrument's block of the pulled array. */
const PER_INSTRUMENT = [
  [
    'bot4_position_base_units',
    'Net position per instrument in base units (lots x lot size; contracts for inverse), long > 0 (portfolio).',
  ],
  [
    'bot4_exposure_settlement_units',
    'Signed exposure at mark per instrument, in its settlement currency (portfolio position exposure).',
  ],
  [
    'bot4_unrealised_pnl_settlement_units',
    'Unrealised PnL at mark per instrument, in its settlement currency (portfolio).',
  ],
] as const;

/** Per-currency gauges, in slot order within a currency's block of the pulled array. */
const PER_CURRENCY = [
  ['bot4_pnl_realised', 'Realised PnL, all accounts, per settlement currency (portfolio).'],
  ['bot4_pnl_unrealised', 'Unrealised PnL of open positions per settlement currency (portfolio).'],
  ['bot4_equity', 'Equity (balance + unrealised PnL), all accounts, per currency (portfolio).'],
] as const;

/** What attach() laid out: the label sets and where their pulled values go. */
interface Layout {
  instrumentCount: number;
  venues: { id: number; name: string }[];
  instruments: { id: InstrumentId; lotSize: number; scale: number }[];
  currencies: { id: CurrencyId; scale: number }[];
  strategyIds: readonly number[];
  /** Pulled values: open orders by state, breakers, then per instrument, then per currency. */
  pulled: Float64Array;
  breakersAt: number;
  instrumentsAt: number;
  currenciesAt: number;
}

export class TradingMetrics {
  /** Market events in, slot = venueId * KIND_STRIDE + kind. */
  readonly marketEvents = sharedArray(MAX_VENUES * KIND_STRIDE);
  readonly orderEvents = sharedArray(ORDER_EVENT_KIND_COUNT + 1);
  /** DENIED by the engine or risk, by reason code. */
  readonly denied = sharedArray(REASON_SLOTS);
  /** REJECTED by the venue, by reason code. */
  readonly venueRejected = sharedArray(REASON_SLOTS);
  /** Fills per instrument id (grown at attach). */
  private fills = sharedArray(16);
  private venueOf = new Int32Array(16);
  /** countLanes' tables: LANES of venueOf.length * KIND_STRIDE counts, zero between calls. */
  private lanes = new Int32Array(LANES * 16 * KIND_STRIDE);
  private parts: EngineParts | undefined = undefined;
  private layout: Layout | undefined = undefined;
  private readonly scalars = sharedArray(S.LENGTH);
  private readonly f: Record<
    'market' | 'fills' | 'open' | 'breaker' | 'instrument' | 'currency',
    SharedFamily[]
  >;
  private readonly onOrderEvent = (ev: OrderEvent): void => this.count(ev);
  private readonly onState = (ev: TradingStateEvent): void => {
    if (ev.source === StateSource.KILL_SWITCH && ev.to !== TradingState.ACTIVE) this.scalars[S.KILL] = 1;
    else if (ev.to === TradingState.ACTIVE) this.scalars[S.KILL] = 0;
  };

  constructor(shared: SharedMetrics) {
    this.f = this.register(shared);
    shared.onPublish(() => this.publish());
  }

  /** Follows an engine: order events from its topic (last, after every other handler), state changes. */
  attach(parts: EngineParts): void {
    this.parts = parts;
    this.growInstruments(parts.instruments);
    parts.bus.subscribe(parts.engine.orderEvents, this.onOrderEvent, 1_000_000);
    parts.bus.subscribe(parts.bus.topic<TradingStateEvent>(RISK_STATE_TOPIC), this.onState, 1_000_000);
    this.lay(parts);
  }

  private growInstruments(reg: InstrumentRegistry): void {
    const n = reg.size + 1;
    if (n > this.venueOf.length) {
      const v = new Int32Array(n * 2);
      v.set(this.venueOf);
      this.venueOf = v;
      this.lanes = new Int32Array(LANES * v.length * KIND_STRIDE);
      const f = sharedArray(n * 2);
      f.set(this.fills);
      this.fills = f;
    }
    for (const inst of reg.all()) this.venueOf[inst.id] = Math.min(inst.venueId, MAX_VENUES - 1);
  }

  /**
   * Counts rows [start, end) of a batch with from <= tsEvent < to by venue and kind: once per batch or run of
   * rows handed over in place, never per row. Long ranges count into LANES private tables of (instrument,
   * kind) slots, row i into table i % LANES, summed into the shared slots at the end: one table would chain
   * every row's increment to the previous one's store when rows repeat a slot (they mostly do), and the slot
   * needs no venue lookup per row. Short ranges count straight into the shared slots.
   */
  countRows(b: EventBatch, start: number, end: number, from: number, to: number): void {
    const ts = b.tsEvent;
    // Replay batches are in time order: find the rows in range once, then count without a time test per row.
    let lo = start;
    while (lo < end && ts[lo]! < from) lo++;
    let hi = end;
    while (hi > lo && ts[hi - 1]! >= to) hi--;
    if (hi === lo) return;
    const p = this.parts;
    if (p !== undefined && p.instruments.size >= this.venueOf.length) this.growInstruments(p.instruments);
    if (hi - lo < this.lanes.length) this.countDirect(b, lo, hi);
    else this.countLanes(b, lo, hi);
  }

  private countDirect(b: EventBatch, lo: number, hi: number): void {
    const kinds = b.kind;
    const inst = b.instrument;
    const c = this.marketEvents;
    const venueOf = this.venueOf;
    const last = venueOf.length - 1;
    for (let i = lo; i < hi; i++) {
      const slot = venueOf[Math.min(inst[i]!, last)]! * KIND_STRIDE + (kinds[i]! & (KIND_STRIDE - 1));
      c[slot] = c[slot]! + 1;
    }
  }

  private countLanes(b: EventBatch, lo: number, hi: number): void {
    const kinds = b.kind;
    const inst = b.instrument;
    const t = this.lanes;
    const venueOf = this.venueOf;
    const last = venueOf.length - 1;
    // One table per lane, each venueOf.length * KIND_STRIDE slots (instrument * KIND_STRIDE + kind).
    const w = venueOf.length * KIND_STRIDE;
    const m = KIND_STRIDE - 1;
    let i = lo;
    for (const e = hi - 3; i < e; i += 4) {
      t[Math.min(inst[i]!, last) * KIND_STRIDE + (kinds[i]! & m)]!++;
      t[w + Math.min(inst[i + 1]!, last) * KIND_STRIDE + (kinds[i + 1]! & m)]!++;
      t[2 * w + Math.min(inst[i + 2]!, last) * KIND_STRIDE + (kinds[i + 2]! & m)]!++;
      t[3 * w + Math.min(inst[i + 3]!, last) * KIND_STRIDE + (kinds[i + 3]! & m)]!++;
    }
    for (; i < hi; i++) t[Math.min(inst[i]!, last) * KIND_STRIDE + (kinds[i]! & m)]!++;
    const c = this.marketEvents;
    for (let k = 0; k < w; k++) {
      const n = t[k]! + t[k + w]! + t[k + 2 * w]! + t[k + 3 * w]!;
      if (n !== 0) {
        const slot = venueOf[k >> KIND_BITS]! * KIND_STRIDE + (k & m);
        c[slot] = c[slot]! + n;
        t[k] = 0;
        t[k + w] = 0;
        t[k + 2 * w] = 0;
        t[k + 3 * w] = 0;
      }
    }
  }

  /** One market event from a live feed (the adapter's per-message path: one array increment). */
  countEvent(venueId: number, kind: number): void {
    const slot = venueId * KIND_STRIDE + (kind & (KIND_STRIDE - 1));
    this.marketEvents[slot] = this.marketEvents[slot]! + 1;
  }

  private count(ev: OrderEvent): void {
    const k = ev.kind;
    this.orderEvents[k] = this.orderEvents[k]! + 1;
    if (k === OrderEventKind.FILLED) {
      const id = ev.instrumentId as number;
      if (id < this.fills.length) this.fills[id] = this.fills[id]! + 1;
    } else if (k === OrderEventKind.DENIED || k === OrderEventKind.REJECTED) {
      const slot = Math.min(Math.max(ev.reasonCode, 0), REASON_SLOTS - 1);
      const arr = k === OrderEventKind.DENIED ? this.denied : this.venueRejected;
      arr[slot] = arr[slot]! + 1;
    }
  }

  /** The families, and the label sets that do not depend on an engine (order events, rejects, scalars). */
  private register(shared: SharedMetrics): TradingMetrics['f'] {
    const market = shared.counter(
      'bot4_market_events_total',
      'Market-data events taken in by the engine, by venue and kind (quote, trade, delta, bar, mark, funding).',
      ['venue', 'kind'],
    );
    const orders = shared.counter(
      'bot4_order_events_total',
      'Order events published by the execution engine, by event (SUBMITTED, ACCEPTED, FILLED, DENIED...).',
      ['event'],
    );
    for (let k = 0; k < ORDER_EVENT_KIND_COUNT; k++)
      orders.add({ event: orderEventName(k) }, this.orderEvents, k);
    const rejects = shared.counter(
      'bot4_order_rejects_total',
      'Orders refused, by source (risk: pre-trade risk reason codes; engine; order: instrument rules; venue) and reason.',
      ['source', 'reason'],
    );
    // Every risk reason is shown (0 when it never fired) so a reject-spike panel has all its series; any
    // other code only once it happened (hideZero), under the name rejectReason gives it.
    for (const [name, code] of Object.entries(RiskReason)) {
      if (code !== 0)
        rejects.add({ source: 'risk', reason: name.toLowerCase() }, this.denied, EngineReason.RISK + code);
    }
    for (let c = 1; c < REASON_SLOTS; c++) {
      const r = rejectReason(c);
      if (c < EngineReason.RISK) rejects.add(r, this.denied, c, true);
      rejects.add({ source: 'venue', reason: r.reason }, this.venueRejected, c, true);
    }
    const fills = shared.counter(
      'bot4_fills_total',
      'Fills (partial and complete) by instrument, from the order events.',
      ['instrument'],
    );
    const open = shared.gauge(
      'bot4_orders_open',
      'Open orders by state (SUBMITTED, ACCEPTED, PARTIALLY_FILLED, PENDING_CANCEL...), from the order cache.',
      ['state'],
    );
    const breaker = shared.gauge(
      'bot4_breaker_state',
      'Circuit breaker state by scope and id: 0 closed (trading), 1 open (tripped), 2 half-open (probing).',
      ['scope', 'id'],
    );
    shared
      .gauge('bot4_trading_state', "The risk engine's trading state: 0 active, 1 reducing only, 2 halted.")
      .add({}, this.scalars, S.TRADING_STATE);
    shared
      .gauge(
        'bot4_kill_switch_engaged',
        'Whether the kill switch halted trading (1) and it has not been reset to active (0), from risk state events.',
      )
      .add({}, this.scalars, S.KILL);
    const instrument = PER_INSTRUMENT.map(([n, help]) => shared.gauge(n, help, ['instrument']));
    const currency = PER_CURRENCY.map(([n, help]) => shared.gauge(n, help, ['currency']));
    shared
      .gauge(
        'bot4_engine_clock_seconds',
        'The engine clock, seconds since the epoch (event time in a backtest, wall time live).',
      )
      .add({}, this.scalars, S.CLOCK);
    return { market: [market], fills: [fills], open: [open], breaker: [breaker], instrument, currency };
  }

  /** Label sets of an engine's venues, instruments, currencies and strategies (attach, or instruments added). */
  private lay(p: EngineParts): void {
    for (const fams of Object.values(this.f)) for (const fam of fams) fam.clear();
    const vs = venues(p.instruments);
    const insts = p.instruments.all();
    const curs = settlements(p.instruments);
    const strategyIds = p.strategyIds ?? [];
    const breakersAt = ORDER_STATUS_COUNT;
    const instrumentsAt = breakersAt + 1 + vs.length + strategyIds.length;
    const currenciesAt = instrumentsAt + insts.length * PER_INSTRUMENT.length;
    const pulled = sharedArray(currenciesAt + curs.length * PER_CURRENCY.length).fill(Number.NaN);
    const [market] = this.f.market;
    for (const v of vs) {
      for (const [k, name] of Object.entries(RECORD_KIND_NAMES)) {
        market!.add({ venue: v.name, kind: name }, this.marketEvents, v.id * KIND_STRIDE + Number(k));
      }
    }
    for (const inst of insts) this.f.fills[0]!.add({ instrument: inst.key }, this.fills, inst.id);
    for (let st = 0; st < ORDER_STATUS_COUNT; st++)
      this.f.open[0]!.add({ state: orderStatusName(st) }, pulled, st);
    const breaker = this.f.breaker[0]!;
    breaker.add({ scope: breakerScopeName(BreakerScope.GLOBAL), id: 'global' }, pulled, breakersAt);
    const venueScope = breakerScopeName(BreakerScope.VENUE);
    const strategyScope = breakerScopeName(BreakerScope.STRATEGY);
    for (const [i, v] of vs.entries())
      breaker.add({ scope: venueScope, id: v.name }, pulled, breakersAt + 1 + i);
    for (const [i, s] of strategyIds.entries()) {
      breaker.add({ scope: strategyScope, id: String(s) }, pulled, breakersAt + 1 + vs.length + i);
    }
    for (const [i, inst] of insts.entries()) {
      for (const [j, fam] of this.f.instrument.entries()) {
        fam.add({ instrument: inst.key }, pulled, instrumentsAt + i * PER_INSTRUMENT.length + j);
      }
    }
    for (const [i, c] of curs.entries()) {
      for (const [j, fam] of this.f.currency.entries()) {
        fam.add({ currency: c.code }, pulled, currenciesAt + i * PER_CURRENCY.length + j);
      }
    }
    this.layout = {
      instrumentCount: p.instruments.size,
      venues: vs,
      instruments: insts.map((inst) => ({
        id: inst.id,
        lotSize: inst.lotSize.value,
        scale: 10 ** inst.settlement.precision,
      })),
      currencies: curs.map((c) => ({ id: c.id as CurrencyId, scale: 10 ** c.precision })),
      strategyIds,
      pulled,
      breakersAt,
      instrumentsAt,
      currenciesAt,
    };
  }

  /** Engine thread, once per scrape: order-cache, breaker, risk, portfolio and clock figures into slots. */
  private publish(): void {
    const p = this.parts;
    if (p === undefined) return;
    if (this.layout === undefined || p.instruments.size !== this.layout.instrumentCount) {
      this.growInstruments(p.instruments);
      this.lay(p);
    }
    const l = this.layout!;
    const v = l.pulled;
    v.fill(0, 0, ORDER_STATUS_COUNT);
    const cache = p.engine.cache;
    for (const id of cache.allOpenOrderIds()) {
      const o = cache.order(id);
      if (o !== undefined) v[o.status] = v[o.status]! + 1;
    }
    const b = p.risk?.breakers;
    if (b !== undefined) {
      v[l.breakersAt] = b.stateOf(BreakerScope.GLOBAL);
      for (let i = 0; i < l.venues.length; i++)
        v[l.breakersAt + 1 + i] = b.stateOf(BreakerScope.VENUE, l.venues[i]!.id);
      for (let i = 0; i < l.strategyIds.length; i++) {
        v[l.breakersAt + 1 + l.venues.length + i] = b.stateOf(BreakerScope.STRATEGY, l.strategyIds[i]!);
      }
    }
    const pf = p.portfolio;
    for (let i = 0; i < l.instruments.length; i++) {
      const inst = l.instruments[i]!;
      const at = l.instrumentsAt + i * PER_INSTRUMENT.length;
      const pos = pf.position(inst.id);
      // No position: NaN, no series (as before: only instruments the portfolio holds a position in).
      v[at] = pos === undefined ? Number.NaN : pf.netQty(inst.id) * inst.lotSize;
      v[at + 1] = pos === undefined ? Number.NaN : pos.exposure / inst.scale;
      v[at + 2] = pos === undefined ? Number.NaN : pos.unrealisedPnl / inst.scale;
    }
    for (let i = 0; i < l.currencies.length; i++) {
      const c = l.currencies[i]!;
      const at = l.currenciesAt + i * PER_CURRENCY.length;
      v[at] = pf.realisedPnl(c.id) / c.scale;
      v[at + 1] = pf.unrealisedPnl(c.id) / c.scale;
      v[at + 2] = pf.equity(c.id) / c.scale;
    }
    const r = p.risk;
    if (r !== undefined) this.scalars[S.TRADING_STATE] = r.tradingState;
    const clock = p.clock;
    if (clock !== undefined) this.scalars[S.CLOCK] = clock.now() / 1e6;
  }
}

function venues(reg: InstrumentRegistry): { id: number; name: string }[] {
  const seen = new Map<number, string>();
  for (const i of reg.all()) seen.set(i.venueId, i.venue);
  return [...seen].map(([id, name]) => ({ id, name }));
}

function settlements(reg: InstrumentRegistry): { id: number; code: string; precision: number }[] {
  const seen = new Map<number, { id: number; code: string; precision: number }>();
  for (const i of reg.all())
    seen.set(i.settlement.id, {
      id: i.settlement.id,
      code: i.settlement.code,
      precision: i.settlement.precision,
    });
  return [...seen.values()];
}
