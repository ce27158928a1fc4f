// What the control API reads from a running node and does to it: status, positions, orders, PnL and the
// equity curve, strategies, risk limits and breakers (reads); kill switch, cancel-all, flatten, trading state,
// breaker reset, strategy start/stop and live parameters (actions). Every read builds plain JSON from the
// kernel's state at the moment of the call; every action runs on the node's own thread between market events
// (Node is single-threaded: an HTTP handler never interleaves with an event's dispatch). Edge code: it
// allocates freely and is never on the trading path (the equity sampler runs on a 1 s timer).
// Units out: decimal text for prices and quantities, money as numbers in account-currency units (2 dp shown
// by the console), times as ISO UTC or epoch milliseconds.

import { PortfolioEquitySource } from '../backtest/recorder.ts';
import { monoMillis, wallMillis } from '../core/clock.ts';
import { Bot4Error, ErrorCode } from '../core/errors.ts';
import type { TradingNode } from '../live/node.ts';
import { currencies } from '../model/currency.ts';
import { orderSideName, orderTypeName, timeInForceName } from '../model/order.ts';
import { orderStatusName } from '../model/order-state.ts';
import { BREAKER_EVENTS_TOPIC, type BreakerEvent, BreakerScope, breakerStateName } from '../risk/breakers.ts';
import { formatKillReport, type KillReport } from '../risk/kill-switch.ts';
import { StateSource, TradingState, tradingStateName } from '../risk/risk-engine.ts';
import { StrategyState } from '../strategy/strategy.ts';

const STRATEGY_STATES = ['NEW', 'RUNNING', 'STOPPED'] as const;
/** One equity sample a second: an hour of curve in the console, then the oldest half is thinned. */
const EQUITY_POINTS = 3600;

/** Epoch milliseconds, equity in account-currency units. */
export interface EquityPoint {
  t: number;
  equity: number;
}

/** The last lines the node printed, numbered, for the console's log tail. */
export class LogTail {
  private readonly lines: { seq: number; ts: number; line: string }[] = [];
  private seq = 0;
  private readonly cap: number;
  private readonly listeners = new Set<(e: { seq: number; ts: number; line: string }) => void>();

  constructor(cap = 1000) {
    this.cap = cap;
  }

  push(line: string): void {
    const e = { seq: ++this.seq, ts: wallMillis(), line };
    this.lines.push(e);
    if (this.lines.length > this.cap) this.lines.splice(0, this.lines.length - this.cap);
    for (const l of this.listeners) l(e);
  }

  /** Lines after `seq` (all kept when 0). */
  since(seq: number): { seq: number; ts: number; line: string }[] {
    return this.lines.filter((l) => l.seq > seq);
  }

  listen(fn: (e: { seq: number; ts: number; line: string }) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }
}

export class NodeControl {
  readonly node: TradingNode;
  readonly log: LogTail;
  private readonly equitySrc: PortfolioEquitySource;
  private readonly eq = new Float64Array(3);
  private readonly scale: number;
  readonly ccy: string;
  private readonly curve: EquityPoint[] = [];
  private readonly timer: NodeJS.Timeout;
  private readonly t0 = monoMillis();
  private readonly unsubscribe: () => void;

  constructor(node: TradingNode, log: LogTail) {
    this.node = node;
    this.log = log;
    const k = node.kernel;
    const ccy = currencies.getOrCreate(k.risk.config.accountCurrency);
    this.ccy = ccy.code;
    this.scale = 10 ** ccy.precision;
    this.equitySrc = new PortfolioEquitySource(k.portfolio, ccy);
    this.sample();
    this.timer = setInterval(() => this.sample(), 1000);
    this.timer.unref();
    // Breaker trips and resets go to the log tail (the event is reused: its text is taken at once).
    const topic = k.bus.topic<BreakerEvent>(BREAKER_EVENTS_TOPIC);
    const id = k.bus.subscribe(topic, (ev) => log.push(ev.toString()));
    this.unsubscribe = () => k.bus.unsubscribe(topic, id);
  }

  close(): void {
    clearInterval(this.timer);
    this.unsubscribe();
  }

  private equityNow(): number {
    this.equitySrc.read(this.eq);
    return this.eq[0]! / this.scale;
  }

  private sample(): void {
    this.curve.push({ t: wallMillis(), equity: this.equityNow() });
    // Thin the older half to every second point: the curve keeps its whole span in bounded memory.
    if (this.curve.length > EQUITY_POINTS) {
      const half = this.curve.length >> 1;
      const kept = this.curve.slice(0, half).filter((_, i) => i % 2 === 0);
      this.curve.splice(0, half, ...kept);
    }
  }

  // ---- reads ----------------------------------------------------------------------------------------------

  status(): Record<string, unknown> {
    const n = this.node;
    const k = n.kernel;
    const c = n.counters;
    const equity = this.equityNow();
    const us = (h: typeof n.handler, p: number): number | null =>
      h.totalCount === 0 ? null : Number((h.valueAtPercentile(p) / 1000).toFixed(1));
    const last = k.riskMonitor.killSwitch.last;
    return {
      mode: n.mode,
      uptimeSec: Math.round((monoMillis() - this.t0) / 1000),
      tradingState: tradingStateName(k.risk.tradingState),
      currency: this.ccy,
      equity,
      pnl: equity - n.startEquity / this.scale,
      orders: {
        submitted: c.submitted,
        open: k.cache.openCount(),
        fills: c.fills,
        canceled: c.canceled,
        rejected: c.rejected,
        denied: c.denied,
      },
      marketData: {
        messages: n.md.stats.messages,
        gaps: n.md.stats.gaps,
        reconnects: n.md.supervisor.reconnects,
      },
      latency: {
        handlerP50Us: us(n.handler, 50),
        handlerP99Us: us(n.handler, 99),
        tickToTradeP50Us: us(n.tickToTrade, 50),
        tickToTradeP99Us: us(n.tickToTrade, 99),
        events: n.handler.totalCount,
      },
      killSwitch:
        last === undefined ? null : { at: last.at, reason: last.reason, text: formatKillReport(last) },
    };
  }

  positions(): Record<string, unknown>[] {
    const k = this.node.kernel;
    const out: Record<string, unknown>[] = [];
    for (const inst of k.cache.instruments.all()) {
      const p = k.portfolio.position(inst.id);
      if (p === undefined && k.isTraded[inst.id] !== 1) continue;
      const scale = 10 ** inst.settlement.precision;
      out.push({
        instrument: inst.key,
        qty: inst.lotsToQty(p?.qty ?? 0),
        avgPx: p === undefined || p.qty === 0 ? null : inst.ticksToPrice(Math.round(p.avgPx)),
        markPx: p === undefined || Number.isNaN(p.markPx) ? null : inst.ticksToPrice(p.markPx),
        realisedPnl: (p?.realisedPnl ?? 0) / scale,
        unrealisedPnl: (p?.unrealisedPnl ?? 0) / scale,
        currency: inst.settlement.code,
        fills: p?.fills ?? 0,
      });
    }
    return out;
  }

  orders(): Record<string, unknown>[] {
    const k = this.node.kernel;
    return k.cache.allOpenOrderIds().map((id) => {
      const o = k.cache.order(id)!;
      const inst = k.cache.instruments.require(o.instrumentId);
      return {
        id: o.id,
        clientOrderId: o.clientOrderId,
        strategyId: o.strategyId,
        instrument: inst.key,
        side: orderSideName(o.side),
        type: orderTypeName(o.type),
        tif: timeInForceName(o.tif),
        qty: inst.lotsToQty(o.qty),
        filled: inst.lotsToQty(o.filledQty),
        price: o.price > 0 ? inst.ticksToPrice(o.price) : null,
        status: orderStatusName(o.status),
      };
    });
  }

  pnl(): { currency: string; equity: number; start: number; pnl: number; curve: EquityPoint[] } {
    const equity = this.equityNow();
    return {
      currency: this.ccy,
      equity,
      start: this.node.startEquity / this.scale,
      pnl: equity - this.node.startEquity / this.scale,
      curve: this.curve,
    };
  }

  strategies(): Record<string, unknown>[] {
    return this.node.kernel.hosts.map((h) => {
      const cls = h.strategy.constructor as unknown as { liveParams?: readonly string[] };
      return {
        id: h.strategyId,
        name: h.name,
        state: STRATEGY_STATES[h.state] ?? String(h.state),
        params: h.strategy.params,
        liveParams: cls.liveParams ?? [],
        openOrders: h.ctx.cache.openOrderIdsOfStrategy(h.strategyId).length,
      };
    });
  }

  risk(): Record<string, unknown> {
    const r = this.node.kernel.risk;
    return {
      tradingState: tradingStateName(r.tradingState),
      // Infinity (a limit that is off) has no JSON: it is sent as null.
      limits: r.config,
      notes: this.node.kernel.riskMonitor.notes(),
    };
  }

  breakers(): Record<string, unknown>[] {
    const k = this.node.kernel;
    const br = k.risk.breakers;
    const row = (scope: BreakerScope, id: number, name: string) => {
      const at = br.reopensAt(scope, id);
      return {
        scope: scope === BreakerScope.GLOBAL ? 'global' : scope === BreakerScope.VENUE ? 'venue' : 'strategy',
        id,
        name,
        state: breakerStateName(br.stateOf(scope, id)),
        reopensAt: Number.isNaN(at) ? null : new Date(at / 1000).toISOString(),
      };
    };
    const out = [row(BreakerScope.GLOBAL, 0, 'global')];
    const seen = new Set<number>();
    for (const inst of k.cache.instruments.all()) {
      if (seen.has(inst.venueId)) continue;
      seen.add(inst.venueId);
      out.push(row(BreakerScope.VENUE, inst.venueId, inst.venue));
    }
    for (const h of k.hosts) out.push(row(BreakerScope.STRATEGY, h.strategyId, h.name));
    return out;
  }

  // ---- actions (the server journals who asked before calling them) -----------------------------------------

  /** Halt, cancel every order and (flatten, or the config's risk.killSwitch.flatten) close every position. */
  kill(reason: string, flatten?: boolean): KillReport {
    const r = this.node.kernel.riskMonitor.killSwitch.kill({
      reason,
      ...(flatten === undefined ? {} : { flatten }),
    });
    this.log.push(formatKillReport(r));
    return r;
  }

  cancelAll(): number {
    const n = this.node.kernel.engine.cancelAll();
    this.log.push(`control: cancel-all sent ${n} cancel request(s)`);
    return n;
  }

  /** The operator's trading state (ACTIVE resumes after a kill; the loss limits' state still applies). */
  setTradingState(name: string): string {
    if (name !== 'ACTIVE' && name !== 'REDUCING' && name !== 'HALTED') {
      throw new Bot4Error(
        ErrorCode.INVALID_ARGUMENT,
        `'state' must be ACTIVE, REDUCING or HALTED, got '${name}'`,
      );
    }
    const r = this.node.kernel.risk;
    r.setTradingState(TradingState[name], StateSource.MANUAL);
    const now = tradingStateName(r.tradingState);
    this.log.push(`control: trading state set to ${name} (effective ${now})`);
    return now;
  }

  resetBreaker(scope: string, id: number): string {
    const k = this.node.kernel;
    let s: BreakerScope;
    if (scope === 'global' && id === 0) s = BreakerScope.GLOBAL;
    else if (scope === 'venue' && k.cache.instruments.all().some((i) => i.venueId === id))
      s = BreakerScope.VENUE;
    else if (scope === 'strategy' && k.hosts.some((h) => h.strategyId === id)) s = BreakerScope.STRATEGY;
    else {
      throw new Bot4Error(
        ErrorCode.NOT_FOUND,
        `no breaker '${scope}' ${id} (scopes: global 0, venue <venue id>, strategy <strategy id>)`,
      );
    }
    k.risk.breakers.reset(s, id);
    return breakerStateName(k.risk.breakers.stateOf(s, id));
  }

  private host(id: number) {
    const h = this.node.kernel.hosts.find((x) => x.strategyId === id);
    if (h === undefined) throw new Bot4Error(ErrorCode.NOT_FOUND, `no strategy with id ${id}`);
    return h;
  }

  /** Starts a strategy not yet started, or resumes a stopped one (its indicators kept). */
  startStrategy(id: number): string {
    const h = this.host(id);
    if (h.state === StrategyState.RUNNING) {
      throw new Bot4Error(ErrorCode.INVALID_ARGUMENT, `strategy ${id} (${h.name}) is already running`);
    }
    if (h.state === StrategyState.STOPPED) h.resume();
    else h.start();
    this.log.push(`control: strategy ${id} (${h.name}) started`);
    return STRATEGY_STATES[h.state]!;
  }

  stopStrategy(id: number, cancelOrders: boolean): string {
    const h = this.host(id);
    h.stop({ cancelOrders });
    this.log.push(
      `control: strategy ${id} (${h.name}) stopped${cancelOrders ? ', its orders cancelled' : ''}`,
    );
    return STRATEGY_STATES[h.state]!;
  }

  setParam(id: number, key: string, value: unknown): Record<string, unknown> {
    const h = this.host(id);
    h.strategy.changeParam(key, value);
    this.log.push(`control: strategy ${id} (${h.name}) ${key} = ${JSON.stringify(value)}`);
    return h.strategy.params;
  }
}
