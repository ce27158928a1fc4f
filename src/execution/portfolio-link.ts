// Keeps a Portfolio in step with the execution engine: every FILLED order event is applied to the portfolio
// before any strategy sees it (the link subscribes at a priority below strategies), so a strategy's
// onOrderEvent reads a position and balance that already include the fill.

import type { MessageBus } from '../core/message-bus.ts';
import type { OrderEvent } from '../model/events.ts';
import { OrderEventKind } from '../model/order-state.ts';
import type { Portfolio } from '../portfolio/portfolio.ts';
import { PortfolioResult } from '../portfolio/result.ts';
import type { ExecutionEngine } from './engine.ts';

/** Subscription priority of the portfolio on the order-event topic: before risk and strategies. */
export const PORTFOLIO_PRIORITY = -100;

export class PortfolioLink {
  /** Fills the portfolio refused (a hedging fill through zero, an unregistered venue...): a bug or bad data. */
  refused = 0;
  lastRefusal: number = PortfolioResult.OK;
  private readonly engine: ExecutionEngine;
  private readonly portfolio: Portfolio;

  constructor(bus: MessageBus, engine: ExecutionEngine, portfolio: Portfolio) {
    this.engine = engine;
    this.portfolio = portfolio;
    bus.subscribe(engine.orderEvents, (ev) => this.onOrderEvent(ev), PORTFOLIO_PRIORITY);
  }

  private onOrderEvent(ev: OrderEvent): void {
    if (ev.kind !== OrderEventKind.FILLED) return;
    const order = this.engine.cache.order(ev.orderId);
    if (order === undefined) return;
    const inst = this.engine.cache.instruments.require(order.instrumentId);
    const r = this.portfolio.applyOrderFill(inst, order, ev);
    if (r !== PortfolioResult.OK) {
      this.refused++;
      this.lastRefusal = r;
    }
  }
}
