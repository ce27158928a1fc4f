// The kill switch: halt trading, cancel every open order through the execution engine and, if asked, close
// every position with reduce-only market orders (split at the venue's market max quantity). Edge code: it
// allocates its report freely. Units: quantities in lots inside, decimal text in the report; times in Micros.

import type { Clock } from '../core/clock.ts';
import type { InstrumentId, Micros, OrderId, StrategyId } from '../core/units.ts';
import type { InstrumentRegistry } from '../model/instrument.ts';
import {
  type Order,
  OrderFlags,
  OrderRequest,
  OrderSide,
  OrderType,
  orderSideName,
  TimeInForce,
} from '../model/order.ts';
import { isOpen, OrderStatus, orderStatusName } from '../model/order-state.ts';
import { type RiskAccount, type RiskEngine, StateSource, TradingState } from './risk-engine.ts';

/** What the kill switch drives; the ExecutionEngine is one. */
export interface KillTarget {
  cancelAll(filter?: { instrumentId?: number; strategyId?: number }): number;
  cancel(orderId: OrderId): boolean;
  submit(req: OrderRequest): Order;
  readonly cache: { order(id: OrderId | number): Order | undefined };
}

export interface KillOptions {
  /** Close positions too (default: the switch's configured `flatten`). */
  flatten?: boolean;
  /** Why, for the report and the logs. */
  reason?: string;
}

export interface FlattenOrder {
  instrument: string;
  side: string;
  /** Decimal quantity and lots. */
  qty: string;
  lots: number;
  orderId: number;
  /** Status right after submission (SUBMITTED, FILLED on a synchronous venue, DENIED...). */
  status: string;
}

export interface KillReport {
  at: Micros;
  reason: string;
  /** Cancel requests sent (and held orders cancelled at once). */
  cancelled: number;
  flatten: FlattenOrder[];
  /** Positions left open, and why (below the minimum quantity, an order denied). */
  leftOpen: { instrument: string; lots: number; why: string }[];
  state: string;
}

/** How the CLI and an API reach a node's kill switch. */
export interface RiskControl {
  kill(options: KillOptions): KillReport | Promise<KillReport>;
}

export interface KillSwitchOptions {
  target: KillTarget;
  risk: RiskEngine;
  account: RiskAccount;
  instruments: InstrumentRegistry;
  clock: Clock;
  /** Default for kill() without `flatten` (config risk.killSwitch.flatten). */
  flatten?: boolean;
  /** Strategy id the flattening orders are booked under (default 0: the system). */
  strategyId?: number;
}

export class KillSwitch implements RiskControl {
  private readonly o: KillSwitchOptions;
  private seq = 0;
  /** The last report, for status queries. */
  last: KillReport | undefined = undefined;

  constructor(options: KillSwitchOptions) {
    this.o = options;
  }

  kill(options: KillOptions = {}): KillReport {
    const { target, risk, account, instruments, clock } = this.o;
    const at = clock.now();
    const reason = options.reason ?? 'kill switch';
    // Halt first, so nothing new passes while orders are being cancelled.
    risk.setTradingState(TradingState.HALTED, StateSource.KILL_SWITCH, at);
    let cancelled = target.cancelAll();
    // Orders held by the emulator (stops, if-touched, trailing) are open but not in the cache's open sets.
    for (const id of risk.trackedOrderIds()) {
      const o = target.cache.order(id);
      if (o === undefined || !isOpen(o.status) || o.status === OrderStatus.PENDING_CANCEL) continue;
      if (target.cancel(id as OrderId)) cancelled++;
    }
    const report: KillReport = { at, reason, cancelled, flatten: [], leftOpen: [], state: 'HALTED' };
    if (options.flatten ?? this.o.flatten ?? false) {
      risk.beginFlatten();
      try {
        for (const inst of instruments.all()) {
          const pos = account.positionQty(inst.id as InstrumentId);
          if (pos === 0) continue;
          const side = pos > 0 ? OrderSide.SELL : OrderSide.BUY;
          let remaining = Math.abs(pos);
          while (remaining > 0) {
            if (remaining < inst.minQty) {
              report.leftOpen.push({
                instrument: inst.key,
                lots: pos > 0 ? remaining : -remaining,
                why: `below the minimum quantity ${inst.lotsToQty(inst.minQty)}`,
              });
              break;
            }
            const lots = Math.min(remaining, inst.marketMaxQty);
            const req = new OrderRequest();
            req.clientOrderId = `KILL-${at}-${++this.seq}`;
            req.strategyId = (this.o.strategyId ?? 0) as StrategyId;
            req.instrumentId = inst.id;
            req.side = side;
            req.type = OrderType.MARKET;
            req.tif = TimeInForce.IOC;
            req.flags = OrderFlags.REDUCE_ONLY;
            req.qty = lots as never;
            req.tsInit = at;
            const order = target.submit(req);
            report.flatten.push({
              instrument: inst.key,
              side: orderSideName(side),
              qty: inst.lotsToQty(lots),
              lots,
              orderId: order.id,
              status: orderStatusName(order.status),
            });
            if (order.status === OrderStatus.DENIED) {
              report.leftOpen.push({
                instrument: inst.key,
                lots: pos > 0 ? remaining : -remaining,
                why: `flatten order ${order.id} denied (reason ${order.lastReason})`,
              });
              break;
            }
            remaining -= lots;
          }
        }
      } finally {
        risk.endFlatten();
      }
    }
    this.last = report;
    return report;
  }
}

/** Edge: the report as lines for a terminal. */
export function formatKillReport(r: KillReport): string {
  const lines = [
    `kill switch at ${r.at} us (${r.reason}): trading ${r.state}, ${r.cancelled} cancel request(s) sent`,
  ];
  for (const f of r.flatten) {
    lines.push(
      `  flatten ${f.instrument}: ${f.side} ${f.qty} reduce-only market, order ${f.orderId} ${f.status}`,
    );
  }
  for (const l of r.leftOpen) lines.push(`  left open ${l.instrument}: ${l.lots} lots (${l.why})`);
  if (r.flatten.length === 0 && r.leftOpen.length === 0) lines.push('  no position flattened');
  return lines.join('\n');
}
