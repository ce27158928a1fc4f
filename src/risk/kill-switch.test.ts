import { describe, expect, it } from 'vitest';
import type { PriceTicks, QtyLots, StrategyId } from '../core/units.ts';
import { EngineReason } from '../execution/engine.ts';
import { type Instrument, InstrumentKind } from '../model/instrument.ts';
import { OrderFlags, OrderRequest, OrderSide, OrderType, TimeInForce } from '../model/order.ts';
import { OrderEventKind, OrderStatus } from '../model/order-state.ts';
import { formatKillReport, KillSwitch } from './kill-switch.ts';
import {
  RISK_STATE_TOPIC,
  RiskReason,
  StateSource,
  TradingState,
  type TradingStateEvent,
} from './risk-engine.ts';
import { makeRiskKit } from './testing.ts';

const U = 100_000_000;

function perp(k: ReturnType<typeof makeRiskKit>, symbol: string, minQty: string, maxQty: string): Instrument {
  return k.engine.cache.instruments.add({
    symbol,
    venue: 'SIM',
    kind: InstrumentKind.PERPETUAL,
    base: symbol.replace('USDT', ''),
    quote: 'USDT',
    settlement: 'USDT',
    tickSize: '0.01',
    lotSize: '0.001',
    minQty,
    maxQty: '1000',
    marketMaxQty: maxQty,
  });
}

function limit(inst: Instrument, side: OrderSide, qty: number, price: number): OrderRequest {
  const r = new OrderRequest();
  r.instrumentId = inst.id;
  r.strategyId = 1 as StrategyId;
  r.side = side;
  r.type = OrderType.LIMIT;
  r.tif = TimeInForce.GTC;
  r.qty = qty as QtyLots;
  r.price = price as PriceTicks;
  return r;
}

describe('KillSwitch', () => {
  it('halts, cancels every open order, and flattens positions with reduce-only market orders', () => {
    const k = makeRiskKit();
    k.account.balances[k.usdt] = 1_000_000 * U;
    const sol = perp(k, 'SOLUSDT', '0.001', '0.05'); // market orders of at most 50 lots
    const xrp = perp(k, 'XRPUSDT', '0.01', '1000'); // at least 10 lots
    for (const [inst, px] of [
      [k.btc, 500_000],
      [k.eth, 300_000],
      [sol, 15_000],
      [xrp, 60],
    ] as const) {
      k.risk.onPrice(inst.id, px);
    }
    const open = [
      k.engine.submit(limit(k.btc, OrderSide.BUY, 2, 499_000)),
      k.engine.submit(limit(k.eth, OrderSide.SELL, 3, 301_000)),
    ];
    k.venue.send(open[0]!.id, OrderEventKind.ACCEPTED);
    // A stop the stub venue lacks: held by the emulator, not in the cache's open sets.
    const stop = new OrderRequest();
    Object.assign(stop, limit(k.btc, OrderSide.SELL, 2, 0), {
      type: OrderType.STOP_MARKET,
      tif: TimeInForce.GTC,
    });
    stop.price = Number.NaN as PriceTicks;
    stop.triggerPrice = 490_000 as PriceTicks;
    const held = k.engine.submit(stop);
    expect(held.status).toBe(OrderStatus.ACCEPTED);
    k.account.positions[k.btc.id] = 25;
    k.account.positions[k.eth.id] = -7;
    k.account.positions[sol.id] = 123;
    k.account.positions[xrp.id] = 3;
    const states: TradingStateEvent[] = [];
    k.bus.subscribe(k.bus.topic<TradingStateEvent>(RISK_STATE_TOPIC), (e) => states.push({ ...e }));

    const ks = new KillSwitch({
      target: k.engine,
      risk: k.risk,
      account: k.account,
      instruments: k.engine.cache.instruments,
      clock: k.clock,
    });
    const report = ks.kill({ flatten: true, reason: 'test' });

    expect(report.cancelled).toBe(3);
    expect(held.status).toBe(OrderStatus.CANCELED);
    expect(k.venue.calls.filter((c) => c.op === 'cancel').map((c) => c.orderId)).toEqual(
      open.map((o) => o.id),
    );
    expect(report.flatten.map((f) => [f.instrument, f.side, f.lots, f.status])).toEqual([
      ['BTCUSDT.SIM', 'SELL', 25, 'SUBMITTED'],
      ['ETHUSDT.SIM', 'BUY', 7, 'SUBMITTED'],
      ['SOLUSDT.SIM', 'SELL', 50, 'SUBMITTED'],
      ['SOLUSDT.SIM', 'SELL', 50, 'SUBMITTED'],
      ['SOLUSDT.SIM', 'SELL', 23, 'SUBMITTED'],
    ]);
    expect(report.leftOpen).toEqual([
      { instrument: 'XRPUSDT.SIM', lots: 3, why: 'below the minimum quantity 0.01' },
    ]);
    const sent = k.venue.calls.filter((c) => c.op === 'submit').slice(2);
    for (const c of sent) {
      const o = k.engine.cache.order(c.orderId)!;
      expect(o.type).toBe(OrderType.MARKET);
      expect(o.flags & OrderFlags.REDUCE_ONLY).toBe(OrderFlags.REDUCE_ONLY);
    }
    expect(k.risk.tradingState).toBe(TradingState.HALTED);
    expect(states.map((s) => [s.to, s.source])).toEqual([[TradingState.HALTED, StateSource.KILL_SWITCH]]);
    // After the kill, the gate is back to normal: HALTED denies everything, reducing orders included.
    const after = k.engine.submit(limit(k.btc, OrderSide.SELL, 1, 501_000));
    expect(after.status).toBe(OrderStatus.DENIED);
    expect(after.lastReason).toBe(EngineReason.RISK + RiskReason.HALTED);
    expect(formatKillReport(report)).toContain('kill switch at');
    expect(formatKillReport(report)).toContain('flatten SOLUSDT.SIM: SELL 0.023 reduce-only market');
  });

  it('without flatten it only halts and cancels; the configured default applies', () => {
    const k = makeRiskKit();
    k.account.balances[k.usdt] = 1_000_000 * U;
    k.risk.onPrice(k.btc.id, 500_000);
    k.engine.submit(limit(k.btc, OrderSide.BUY, 2, 499_000));
    k.account.positions[k.btc.id] = 4;
    const ks = new KillSwitch({
      target: k.engine,
      risk: k.risk,
      account: k.account,
      instruments: k.engine.cache.instruments,
      clock: k.clock,
      flatten: false,
    });
    const r = ks.kill();
    expect(r).toMatchObject({ cancelled: 1, flatten: [], leftOpen: [], state: 'HALTED' });
    expect(formatKillReport(r)).toContain('no position flattened');
    const ks2 = new KillSwitch({
      target: k.engine,
      risk: k.risk,
      account: k.account,
      instruments: k.engine.cache.instruments,
      clock: k.clock,
      flatten: true,
    });
    expect(ks2.kill().flatten.map((f) => f.lots)).toEqual([4]);
  });
});
