import { describe, expect, it } from 'vitest';
import { TestClock } from '../core/clock.ts';
import { MessageBus } from '../core/message-bus.ts';
import type { Micros, PriceTicks, QtyLots, StrategyId } from '../core/units.ts';
import { OrderRequest, OrderSide, OrderType, TimeInForce } from '../model/order.ts';
import { OrderStatus } from '../model/order-state.ts';
import {
  DAY_US,
  LOSS_LIMIT_EVENTS_TOPIC,
  type LossLimitEvent,
  LossLimitKind,
  LossLimits,
  TradingState,
} from './loss-limits.ts';
import { makeRiskKit } from './testing.ts';

const U = 100_000_000;
const DAY0 = 19_700 * DAY_US; // a UTC midnight

function setup(options: ConstructorParameters<typeof LossLimits>[0]) {
  const clock = new TestClock(DAY0 as Micros);
  const bus = new MessageBus();
  const states: number[] = [];
  const events: string[] = [];
  bus.subscribe(bus.topic<LossLimitEvent>(LOSS_LIMIT_EVENTS_TOPIC), (e) => events.push(e.toString()));
  const limits = new LossLimits(options, clock, { setLimitState: (s) => states.push(s) }, bus);
  return { clock, limits, states, events };
}

const rule = (threshold: number, action: TradingState, cooldownUs = 0) => ({ threshold, action, cooldownUs });

describe('LossLimits', () => {
  it('daily loss from the UTC day start: just under holds, at the limit halts, next midnight releases', () => {
    const { clock, limits, states, events } = setup({ dailyLoss: rule(1_000 * U, TradingState.HALTED) });
    limits.onEquity(100_000 * U, DAY0 + 1);
    limits.onEquity(99_000 * U + 1, DAY0 + 2);
    expect(limits.state).toBe(TradingState.ACTIVE);
    limits.onEquity(99_000 * U, DAY0 + 3);
    expect(limits.state).toBe(TradingState.HALTED);
    expect(events[0]).toBe(
      'daily loss 100000000000 reached limit 100000000000 (risk.lossLimits.dailyLoss): trading HALTED',
    );
    clock.advanceTo((DAY0 + DAY_US - 1) as Micros);
    expect(limits.state).toBe(TradingState.HALTED);
    clock.advanceTo((DAY0 + DAY_US) as Micros);
    expect(limits.state).toBe(TradingState.ACTIVE);
    expect(states).toEqual([TradingState.HALTED, TradingState.ACTIVE]);
    // The new day starts from the last equity of the day before: 99,000.
    limits.onEquity(98_000 * U + 1, DAY0 + DAY_US + 5);
    expect(limits.state).toBe(TradingState.ACTIVE);
    expect(limits.dayStart).toBe(99_000 * U);
  });

  it('drawdown from the equity peak, as a fraction; reset restarts the peak', () => {
    const { limits } = setup({ drawdown: rule(0.2, TradingState.REDUCING) });
    limits.onEquity(100_000, DAY0);
    limits.onEquity(120_000, DAY0 + 1);
    limits.onEquity(96_001, DAY0 + 2);
    expect(limits.state).toBe(TradingState.ACTIVE);
    limits.onEquity(96_000, DAY0 + 3);
    expect(limits.state).toBe(TradingState.REDUCING);
    expect(limits.equityPeak).toBe(120_000);
    limits.reset(LossLimitKind.DRAWDOWN, DAY0 + 4);
    expect(limits.state).toBe(TradingState.ACTIVE);
    expect(limits.equityPeak).toBe(96_000);
  });

  it('loss per trade and its cool-down', () => {
    const { clock, limits } = setup({ perTrade: rule(500, TradingState.REDUCING, 60_000_000) });
    limits.onTradeClosed(-499, DAY0);
    limits.onTradeClosed(10_000, DAY0);
    expect(limits.state).toBe(TradingState.ACTIVE);
    limits.onTradeClosed(-500, DAY0 + 10);
    expect(limits.state).toBe(TradingState.REDUCING);
    clock.advanceTo((DAY0 + 60_000_009) as Micros);
    expect(limits.state).toBe(TradingState.REDUCING);
    clock.advanceTo((DAY0 + 60_000_010) as Micros);
    expect(limits.state).toBe(TradingState.ACTIVE);
  });

  it('N consecutive losing trades start a cool-down; a winner resets the count', () => {
    const { clock, limits } = setup({ consecutiveLosses: rule(3, TradingState.REDUCING, 3_600_000_000) });
    limits.onTradeClosed(-1, DAY0);
    limits.onTradeClosed(-1, DAY0);
    limits.onTradeClosed(5, DAY0);
    limits.onTradeClosed(-1, DAY0);
    limits.onTradeClosed(-1, DAY0);
    expect(limits.state).toBe(TradingState.ACTIVE);
    expect(limits.consecutiveLosses).toBe(2);
    limits.onTradeClosed(-1, DAY0 + 7);
    expect(limits.state).toBe(TradingState.REDUCING);
    clock.advanceTo((DAY0 + 7 + 3_600_000_000) as Micros);
    expect(limits.state).toBe(TradingState.ACTIVE);
  });

  it('the state is the most severe of the active limits', () => {
    const { limits, states } = setup({
      perTrade: rule(100, TradingState.REDUCING),
      dailyLoss: rule(1_000, TradingState.HALTED),
    });
    limits.onEquity(10_000, DAY0);
    limits.onTradeClosed(-100, DAY0);
    expect(limits.state).toBe(TradingState.REDUCING);
    limits.onEquity(9_000, DAY0 + 1);
    expect(limits.state).toBe(TradingState.HALTED);
    limits.reset(LossLimitKind.DAILY_LOSS, DAY0 + 2);
    expect(limits.state).toBe(TradingState.REDUCING);
    limits.reset(undefined, DAY0 + 3);
    expect(states).toEqual([
      TradingState.REDUCING,
      TradingState.HALTED,
      TradingState.REDUCING,
      TradingState.ACTIVE,
    ]);
  });

  it('a tripped limit changes what the risk engine lets through, and an operator state still applies on top', () => {
    const k = makeRiskKit({ lossLimits: { dailyLoss: { threshold: '1000', action: 'REDUCING' } } });
    k.account.balances[k.usdt] = 1_000_000 * U;
    k.risk.onPrice(k.btc.id, 500_000);
    const order = (side: OrderSide) => {
      const r = new OrderRequest();
      r.instrumentId = k.btc.id;
      r.strategyId = 1 as StrategyId;
      r.side = side;
      r.type = OrderType.LIMIT;
      r.tif = TimeInForce.GTC;
      r.qty = 1 as QtyLots;
      r.price = (side === OrderSide.BUY ? 499_000 : 501_000) as PriceTicks;
      return k.engine.submit(r);
    };
    k.account.positions[k.btc.id] = 5;
    k.account.equityValue = 50_000 * U;
    k.risk.updateEquity();
    k.account.equityValue = 49_000 * U;
    k.risk.updateEquity();
    expect(k.risk.tradingState).toBe(TradingState.REDUCING);
    expect(order(OrderSide.BUY).status).toBe(OrderStatus.DENIED);
    expect(order(OrderSide.SELL).status).toBe(OrderStatus.SUBMITTED);
    k.risk.setTradingState(TradingState.HALTED);
    expect(k.risk.tradingState).toBe(TradingState.HALTED);
    k.risk.setTradingState(TradingState.ACTIVE);
    expect(k.risk.tradingState).toBe(TradingState.REDUCING);
    k.risk.lossLimits.reset();
    expect(k.risk.tradingState).toBe(TradingState.ACTIVE);
  });
});
