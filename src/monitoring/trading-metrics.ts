// Trading metrics of an engine (backtest, paper, live alike): market events in by venue and kind, order events,
// open orders by state, rejects by reason (risk reason codes by name), fills, breakers, trading state and kill
// switch, positions, exposure and PnL. The engine side only bumps typed-array slots (per batch for market
// data, per order event for orders); collectors turn them into prom-client values when scraped.
// Units: counts; quantities in base units (lots x lot size); money in the settlement currency's units.

import { Counter, Gauge, type Registry } from 'prom-client';
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

/** Record kinds are 1..6; a stride of 8 slots per venue. */
const KIND_STRIDE = 8;
const MAX_VENUES = 64;
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

export class TradingMetrics {
  /** Market events in, slot = venueId * KIND_STRIDE + kind. */
  readonly marketEvents = new Float64Array(MAX_VENUES * KIND_STRIDE);
  readonly orderEvents = new Float64Array(ORDER_EVENT_KIND_COUNT + 1);
  /** DENIED by the engine or risk, by reason code. */
  readonly denied = new Float64Array(REASON_SLOTS);
  /** REJECTED by the venue, by reason code. */
  readonly venueRejected = new Float64Array(REASON_SLOTS);
  /** Fills per instrument id (grown at attach). */
  private fills = new Float64Array(16);
  private venueOf = new Int32Array(16);
  private parts: EngineParts | undefined = undefined;
  private killEngaged = 0;
  private readonly onOrderEvent = (ev: OrderEvent): void => this.count(ev);
  private readonly onState = (ev: TradingStateEvent): void => {
    if (ev.source === StateSource.KILL_SWITCH && ev.to !== TradingState.ACTIVE) this.killEngaged = 1;
    else if (ev.to === TradingState.ACTIVE) this.killEngaged = 0;
  };

  constructor(registry: Registry) {
    this.register(registry);
  }

  /** Follows an engine: order events from its topic (last, after every other handler), state changes. */
  attach(parts: EngineParts): void {
    this.parts = parts;
    this.growInstruments(parts.instruments);
    parts.bus.subscribe(parts.engine.orderEvents, this.onOrderEvent, 1_000_000);
    parts.bus.subscribe(parts.bus.topic<TradingStateEvent>(RISK_STATE_TOPIC), this.onState, 1_000_000);
  }

  private growInstruments(reg: InstrumentRegistry): void {
    const n = reg.size + 1;
    if (n > this.venueOf.length) {
      const v = new Int32Array(n * 2);
      v.set(this.venueOf);
      this.venueOf = v;
      const f = new Float64Array(n * 2);
      f.set(this.fills);
      this.fills = f;
    }
    for (const inst of reg.all()) this.venueOf[inst.id] = Math.min(inst.venueId, MAX_VENUES - 1);
  }

  /** Counts rows of a batch with from <= tsEvent < to by venue and kind: once per batch, a tight loop. */
  countBatch(b: EventBatch, from: number, to: number): void {
    const n = b.length;
    const ts = b.tsEvent;
    // Replay batches are in time order: find the rows in range once, then count without a time test per row.
    let lo = 0;
    while (lo < n && ts[lo]! < from) lo++;
    let hi = n;
    while (hi > lo && ts[hi - 1]! >= to) hi--;
    const p = this.parts;
    if (p !== undefined && p.instruments.size >= this.venueOf.length) this.growInstruments(p.instruments);
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

  private register(registry: Registry): void {
    const self = this;
    const registers = [registry];
    new Counter({
      name: 'bot4_market_events_total',
      help: 'Market-data events taken in by the engine, by venue and kind (quote, trade, delta, bar, mark, funding).',
      labelNames: ['venue', 'kind'],
      registers,
      collect() {
        this.reset();
        const p = self.parts;
        if (p === undefined) return;
        for (const v of venues(p.instruments)) {
          for (const [k, name] of Object.entries(RECORD_KIND_NAMES)) {
            this.inc({ venue: v.name, kind: name }, self.marketEvents[v.id * KIND_STRIDE + Number(k)]!);
          }
        }
      },
    });
    new Counter({
      name: 'bot4_order_events_total',
      help: 'Order events published by the execution engine, by event (SUBMITTED, ACCEPTED, FILLED, DENIED...).',
      labelNames: ['event'],
      registers,
      collect() {
        this.reset();
        for (let k = 0; k < ORDER_EVENT_KIND_COUNT; k++)
          this.inc({ event: orderEventName(k) }, self.orderEvents[k]!);
      },
    });
    new Counter({
      name: 'bot4_order_rejects_total',
      help: 'Orders refused, by source (risk: pre-trade risk reason codes; engine; order: instrument rules; venue) and reason.',
      labelNames: ['source', 'reason'],
      registers,
      collect() {
        this.reset();
        // Every risk reason is shown (0 when it never fired) so a reject-spike panel has all its series.
        for (const [name, code] of Object.entries(RiskReason)) {
          if (code !== 0)
            this.inc({ source: 'risk', reason: name.toLowerCase() }, self.denied[EngineReason.RISK + code]!);
        }
        for (let c = 1; c < REASON_SLOTS; c++) {
          const d = self.denied[c]!;
          if (d > 0 && c < EngineReason.RISK) this.inc(rejectReason(c), d);
          const r = self.venueRejected[c]!;
          if (r > 0) this.inc({ source: 'venue', reason: rejectReason(c).reason }, r);
        }
      },
    });
    new Counter({
      name: 'bot4_fills_total',
      help: 'Fills (partial and complete) by instrument, from the order events.',
      labelNames: ['instrument'],
      registers,
      collect() {
        this.reset();
        const p = self.parts;
        if (p === undefined) return;
        for (const inst of p.instruments.all()) this.inc({ instrument: inst.key }, self.fills[inst.id] ?? 0);
      },
    });
    new Gauge({
      name: 'bot4_orders_open',
      help: 'Open orders by state (SUBMITTED, ACCEPTED, PARTIALLY_FILLED, PENDING_CANCEL...), from the order cache.',
      labelNames: ['state'],
      registers,
      collect() {
        this.reset();
        const p = self.parts;
        if (p === undefined) return;
        const byState = new Float64Array(ORDER_STATUS_COUNT);
        for (const id of p.engine.cache.allOpenOrderIds()) {
          const o = p.engine.cache.order(id);
          if (o !== undefined) byState[o.status] = byState[o.status]! + 1;
        }
        for (let s = 0; s < ORDER_STATUS_COUNT; s++) this.set({ state: orderStatusName(s) }, byState[s]!);
      },
    });
    new Gauge({
      name: 'bot4_breaker_state',
      help: 'Circuit breaker state by scope and id: 0 closed (trading), 1 open (tripped), 2 half-open (probing).',
      labelNames: ['scope', 'id'],
      registers,
      collect() {
        this.reset();
        const b = self.parts?.risk?.breakers;
        if (b === undefined) return;
        this.set(
          { scope: breakerScopeName(BreakerScope.GLOBAL), id: 'global' },
          b.stateOf(BreakerScope.GLOBAL),
        );
        for (const v of venues(self.parts!.instruments)) {
          this.set(
            { scope: breakerScopeName(BreakerScope.VENUE), id: v.name },
            b.stateOf(BreakerScope.VENUE, v.id),
          );
        }
        for (const s of self.parts!.strategyIds ?? []) {
          this.set(
            { scope: breakerScopeName(BreakerScope.STRATEGY), id: String(s) },
            b.stateOf(BreakerScope.STRATEGY, s),
          );
        }
      },
    });
    new Gauge({
      name: 'bot4_trading_state',
      help: "The risk engine's trading state: 0 active, 1 reducing only, 2 halted.",
      registers,
      collect() {
        const r = self.parts?.risk;
        if (r !== undefined) this.set(r.tradingState);
      },
    });
    new Gauge({
      name: 'bot4_kill_switch_engaged',
      help: 'Whether the kill switch halted trading (1) and it has not been reset to active (0), from risk state events.',
      registers,
      collect() {
        this.set(self.killEngaged);
      },
    });
    const perInstrument = (name: string, help: string, read: (p: EngineParts, id: InstrumentId) => number) =>
      new Gauge({
        name,
        help,
        labelNames: ['instrument'],
        registers,
        collect() {
          this.reset();
          const p = self.parts;
          if (p === undefined) return;
          for (const inst of p.instruments.all()) {
            if (p.portfolio.position(inst.id) !== undefined)
              this.set({ instrument: inst.key }, read(p, inst.id));
          }
        },
      });
    perInstrument(
      'bot4_position_base_units',
      'Net position per instrument in base units (lots x lot size; contracts for inverse), long > 0 (portfolio).',
      (p, id) => p.portfolio.netQty(id) * p.instruments.require(id).lotSize.value,
    );
    perInstrument(
      'bot4_exposure_settlement_units',
      'Signed exposure at mark per instrument, in its settlement currency (portfolio position exposure).',
      (p, id) => moneyValue(p, id, p.portfolio.position(id)?.exposure ?? 0),
    );
    perInstrument(
      'bot4_unrealised_pnl_settlement_units',
      'Unrealised PnL at mark per instrument, in its settlement currency (portfolio).',
      (p, id) => moneyValue(p, id, p.portfolio.position(id)?.unrealisedPnl ?? 0),
    );
    const perCurrency = (name: string, help: string, read: (p: Portfolio, c: number) => number) =>
      new Gauge({
        name,
        help,
        labelNames: ['currency'],
        registers,
        collect() {
          this.reset();
          const p = self.parts;
          if (p === undefined) return;
          for (const c of settlements(p.instruments)) {
            this.set({ currency: c.code }, read(p.portfolio, c.id) / 10 ** c.precision);
          }
        },
      });
    perCurrency(
      'bot4_pnl_realised',
      'Realised PnL, all accounts, per settlement currency (portfolio).',
      (p, c) => p.realisedPnl(c as CurrencyId),
    );
    perCurrency(
      'bot4_pnl_unrealised',
      'Unrealised PnL of open positions per settlement currency (portfolio).',
      (p, c) => p.unrealisedPnl(c as CurrencyId),
    );
    perCurrency(
      'bot4_equity',
      'Equity (balance + unrealised PnL), all accounts, per currency (portfolio).',
      (p, c) => p.equity(c as CurrencyId),
    );
    new Gauge({
      name: 'bot4_engine_clock_seconds',
      help: 'The engine clock, seconds since the epoch (event time in a backtest, wall time live).',
      registers,
      collect() {
        const c = self.parts?.clock;
        if (c !== undefined) this.set(c.now() / 1e6);
      },
    });
  }
}

function moneyValue(p: EngineParts, id: InstrumentId, units: number): number {
  return units / 10 ** p.instruments.require(id).settlement.precision;
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
