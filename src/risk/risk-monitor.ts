// Wires the risk features a run uses around the risk engine, and keeps what they did for the report: denials
// counted by reason (with the first one's text), loss limits tripped and released, the kill switch run when a
// loss limit's action is KILL, and closed trades fed to the per-trade and consecutive-loss limits.
// Per order and fill: array increments only (no allocation); a trip or a first denial of a kind builds text.
// Units: money in units of the risk engine's account currency; times in micros, shown as ISO UTC.

import type { Clock } from '../core/clock.ts';
import type { MessageBus, Topic } from '../core/message-bus.ts';
import type { InstrumentId, Micros } from '../core/units.ts';
import type { OrderEvent } from '../model/events.ts';
import type { InstrumentRegistry } from '../model/instrument.ts';
import { isOpen, OrderEventKind } from '../model/order-state.ts';
import { type KillReport, KillSwitch, type KillTarget } from './kill-switch.ts';
import {
  LOSS_LIMIT_EVENTS_TOPIC,
  type LossLimitEvent,
  LossLimitKind,
  lossLimitKey,
  lossLimitName,
  tradingStateName,
} from './loss-limits.ts';
import { type RiskAccount, type RiskEngine, RiskReason } from './risk-engine.ts';

/** Engine reason codes (risk denials are EngineReason.RISK + RiskReason, about 1,100) fit below this. */
const MAX_REASON = 2048;
const MAX_FLATTEN_ATTEMPTS = 20;

export interface RiskMonitorOptions {
  risk: RiskEngine;
  /** The execution engine (kill switch target) and its order-event topic. */
  engine: KillTarget & { readonly orderEvents: Topic<OrderEvent> };
  bus: MessageBus;
  clock: Clock;
  instruments: InstrumentRegistry;
  account: RiskAccount;
  /**
   * Realised PnL of an instrument's position over its life in account currency units, NaN when it settles in
   * another currency (closed-trade feed of the per-trade and consecutive-loss limits).
   */
  realisedPnl?: (instrumentId: InstrumentId) => number;
}

interface Trip {
  /** "kill switch tripped", "loss limit tripped", "daily loss limit released". */
  what: string;
  ts: number;
  detail: string;
}

export class RiskMonitor {
  readonly killSwitch: KillSwitch;
  private readonly o: RiskMonitorOptions;
  private readonly denials = new Int32Array(MAX_REASON);
  private readonly firstDenial: (string | undefined)[] = [];
  private readonly trips: Trip[] = [];
  readonly kills: KillReport[] = [];
  /** Per instrument: realised PnL when its position last opened, and the sign of the position. */
  private readonly cycleStart: Float64Array;
  private readonly sign: Int8Array;
  private readonly onOrder = (ev: OrderEvent): void => this.onOrderEvent(ev);
  // The kill in progress (edge state: only while the switch flattens).
  private killTrip: Trip | undefined = undefined;
  private attempts = 0;
  private readonly flattenIds = new Set<number>();
  private readonly flattened: string[] = [];

  constructor(options: RiskMonitorOptions) {
    this.o = options;
    const { risk, engine, bus, clock, instruments, account } = options;
    this.killSwitch = new KillSwitch({
      target: engine,
      risk,
      account,
      instruments,
      clock,
      flatten: risk.config.killSwitch.flatten,
    });
    const n = instruments.size + 1;
    this.cycleStart = new Float64Array(n);
    this.sign = new Int8Array(n);
    // After the portfolio (which books the fill) and the risk engine.
    bus.subscribe(engine.orderEvents, this.onOrder, 200);
    bus.subscribe<LossLimitEvent>(bus.topic<LossLimitEvent>(LOSS_LIMIT_EVENTS_TOPIC), (ev) =>
      this.onLossLimit(ev),
    );
  }

  private onOrderEvent(ev: OrderEvent): void {
    if (this.flattenIds.size > 0 && this.flattenIds.has(ev.orderId)) this.onFlattenEvent(ev);
    if (ev.kind === OrderEventKind.DENIED) {
      const code = ev.reasonCode < MAX_REASON ? ev.reasonCode : 0;
      const n = this.denials[code]!;
      this.denials[code] = n + 1;
      if (n === 0) this.firstDenial[code] = ev.reason;
      return;
    }
    if (ev.kind !== OrderEventKind.FILLED || this.o.realisedPnl === undefined) return;
    // A position that went flat or flipped closed a trade: its PnL since it opened feeds the loss limits.
    const order = this.o.engine.cache.order(ev.orderId);
    if (order === undefined) return;
    const id = order.instrumentId as number;
    if (id >= this.sign.length) return;
    const pos = this.o.account.positionQty(order.instrumentId);
    const now = pos > 0 ? 1 : pos < 0 ? -1 : 0;
    const before = this.sign[id]!;
    if (now === before) return;
    const realised = this.o.realisedPnl(order.instrumentId);
    if (Number.isNaN(realised)) return;
    if (before !== 0)
      this.o.risk.onTradeClosed(order.strategyId, realised - this.cycleStart[id]!, ev.tsEvent);
    if (now !== 0) this.cycleStart[id] = realised;
    this.sign[id] = now;
  }

  private onLossLimit(ev: LossLimitEvent): void {
    if (!ev.active) {
      this.trips.push({ what: `${lossLimitName(ev.kind)} limit released`, ts: ev.ts, detail: '' });
      return;
    }
    const cur = this.o.risk.accountCurrency;
    const money = (units: number): string => `${(units / 10 ** cur.precision).toFixed(2)} ${cur.code}`;
    let what: string;
    if (ev.kind === LossLimitKind.DRAWDOWN) {
      what = `drawdown ${(ev.value * 100).toFixed(2)}% >= ${(ev.threshold * 100).toFixed(2)}%`;
    } else if (ev.kind === LossLimitKind.CONSECUTIVE_LOSSES) {
      what = `${ev.value} consecutive losing trades >= ${ev.threshold}`;
    } else if (ev.isFraction) {
      what = `daily loss ${pct(ev.value)} of the day's opening equity (${money(ev.value * ev.reference)}) >= ${pct(ev.threshold)}`;
    } else {
      const pct =
        ev.kind === LossLimitKind.DAILY_LOSS && ev.reference > 0
          ? ` (${((ev.value / ev.reference) * 100).toFixed(2)}% of the day's opening equity)`
          : '';
      what = `${lossLimitName(ev.kind)} ${money(ev.value)}${pct} >= ${money(ev.threshold)}`;
    }
    const text = `${what} (${lossLimitKey(ev.kind)}): trading ${tradingStateName(ev.action)}`;
    if (!ev.kill) {
      this.trips.push({ what: 'loss limit tripped', ts: ev.ts, detail: text });
      return;
    }
    // The limit fires inside a fill's dispatch: cancelling and flattening there would re-enter the engine
    // while it is still handling that fill, so the switch runs at the clock's next step (same time).
    const trip: Trip = { what: 'kill switch tripped', ts: ev.ts, detail: text };
    this.trips.push(trip);
    this.o.clock.setTimer(ev.ts as Micros, () => this.kill(trip));
  }

  /**
   * Runs the kill switch and, with flatten on, follows its reduce-only IOC orders: one that expires with the
   * book too thin (the fill before took the liquidity) leaves part of a position, so the switch flattens
   * again at the next step, up to MAX_FLATTEN_ATTEMPTS times, and the note says how it ended.
   */
  private kill(trip: Trip): void {
    const report = this.killSwitch.kill({ reason: trip.detail });
    this.kills.push(report);
    if (this.kills.length === 1 || this.killTrip !== trip) {
      this.killTrip = trip;
      this.attempts = 0;
      trip.detail += `; ${report.cancelled} order(s) cancelled`;
    }
    this.attempts++;
    for (const f of report.flatten) {
      this.flattenIds.add(f.orderId);
      // What had to be closed: the first attempt's orders (retries close what they left).
      if (this.attempts === 1) this.flattened.push(`${f.side} ${f.qty} ${f.instrument}`);
    }
    if (report.leftOpen.length > 0 || this.flattenIds.size === 0) this.endKill(report.leftOpen);
  }

  private onFlattenEvent(ev: OrderEvent): void {
    const order = this.o.engine.cache.order(ev.orderId);
    if (order !== undefined && isOpen(order.status)) return;
    this.flattenIds.delete(ev.orderId);
    if (this.flattenIds.size > 0) return;
    const trip = this.killTrip!;
    const flat = this.o.instruments.all().every((i) => this.o.account.positionQty(i.id) === 0);
    if (flat) this.endKill([]);
    else if (this.attempts < MAX_FLATTEN_ATTEMPTS)
      this.o.clock.setTimer((ev.tsEvent + 1) as Micros, () => this.kill(trip));
    else {
      this.endKill(
        this.o.instruments
          .all()
          .filter((i) => this.o.account.positionQty(i.id) !== 0)
          .map((i) => ({
            instrument: i.key,
            lots: 0,
            why: `still open after ${this.attempts} flatten attempts`,
          })),
      );
    }
  }

  private endKill(leftOpen: readonly { instrument: string; why: string }[]): void {
    const trip = this.killTrip!;
    if (this.flattened.length > 0) {
      trip.detail += `, flattened with ${this.flattened.join(', ')}${this.attempts > 1 ? ` (in ${this.attempts} reduce-only IOC attempts: the book was thin)` : ''}`;
    } else if (!this.o.risk.config.killSwitch.flatten)
      trip.detail += ', positions kept (risk.killSwitch.flatten off)';
    if (leftOpen.length > 0)
      trip.detail += `; left open: ${leftOpen.map((l) => `${l.instrument} (${l.why})`).join(', ')}`;
    this.flattened.length = 0;
    this.flattenIds.clear();
  }

  /** Orders risk denied, by reason code (engine reason codes). */
  deniedCount(engineReason: number): number {
    return this.denials[engineReason] ?? 0;
  }

  get totalDenied(): number {
    let n = 0;
    for (const c of this.denials) n += c;
    return n;
  }

  /** Report notes: what acted, when, and the first denial of each kind. Empty when nothing acted. */
  notes(): string[] {
    const out = this.trips.map((t) => `${t.what} at ${iso(t.ts)}${t.detail === '' ? '' : `: ${t.detail}`}`);
    const total = this.totalDenied;
    if (total > 0) {
      const kinds: string[] = [];
      for (let code = 0; code < MAX_REASON; code++) {
        const n = this.denials[code]!;
        if (n > 0) kinds.push(`${n} ${reasonLabel(code)} (first: ${this.firstDenial[code]})`);
      }
      out.push(`risk denied ${total} order(s): ${kinds.join('; ')}`);
    }
    return out;
  }
}

const RISK_BASE = 1000;
const LABELS: Record<number, string> = {
  [RiskReason.HALTED]: 'trading halted',
  [RiskReason.REDUCING_ONLY]: 'reducing only',
  [RiskReason.VAR_LIMIT]: 'VaR limit',
  [RiskReason.CLUSTER_GROSS]: 'correlated cluster exposure',
  [RiskReason.VENUE_GROSS]: 'venue exposure',
  [RiskReason.INSUFFICIENT_BALANCE]: 'insufficient balance',
  [RiskReason.INSUFFICIENT_MARGIN]: 'insufficient margin',
  [RiskReason.POSITION]: 'position limit',
};

function reasonLabel(code: number): string {
  const risk = code >= RISK_BASE ? code - RISK_BASE : -1;
  return LABELS[risk] ?? (risk >= 0 ? `risk reason ${risk}` : `order rule ${code}`);
}

/** 0.052 -> "5.2%", 0.000096 -> "0.0096%": up to 4 decimals of a percent, no trailing zeros. */
function pct(fraction: number): string {
  return `${Number((fraction * 100).toFixed(4))}%`;
}

function iso(ts: number): string {
  return new Date(Math.floor(ts / 1000)).toISOString();
}
