import { describe, expect, it } from 'vitest';
import { TestClock } from '../../core/clock.ts';
import { MessageBus } from '../../core/message-bus.ts';
import type { InstrumentId, Micros, PriceTicks, QtyLots } from '../../core/units.ts';
import { Cache } from '../../execution/cache.ts';
import { ExecutionEngine } from '../../execution/engine.ts';
import { makeKit, req } from '../../execution/test-kit.ts';
import { type OrderEvent, rebuildOrder } from '../../model/events.ts';
import { InstrumentKind, LiquiditySide, newInstrumentRegistry } from '../../model/instrument.ts';
import { QuoteTick, Side, TradeTick } from '../../model/market-data.ts';
import { OrderSide, OrderType } from '../../model/order.ts';
import { OrderEventKind, OrderStatus, orderEventName } from '../../model/order-state.ts';
import { SimulatedExchange, type SimulatedExchangeOptions } from './exchange.ts';
import { PX, T0 } from './test-kit.ts';
import { describeVenueContract } from './venue-contract.test-util.ts';

/** The real engine wired to the simulated venue, as a backtest runner would wire them. */
function wire(options: Partial<SimulatedExchangeOptions> = {}) {
  const clock = new TestClock(T0 as Micros);
  const bus = new MessageBus();
  const registry = newInstrumentRegistry();
  const btc = registry.add({
    symbol: 'BTCUSDT',
    venue: 'SIM',
    kind: InstrumentKind.PERPETUAL,
    base: 'BTC',
    quote: 'USDT',
    settlement: 'USDT',
    tickSize: '0.1',
    lotSize: '0.001',
    minQty: '0.001',
    makerFee: '0.0002',
    takerFee: '0.0005',
  });
  const engine = new ExecutionEngine({ bus, clock, cache: new Cache(registry) });
  const sim = new SimulatedExchange({ clock, instruments: [btc], sink: engine, ...options });
  engine.registerVenue(btc.venueId, sim);
  const log: OrderEvent[] = [];
  bus.subscribe(engine.orderEvents, (ev) => log.push(ev.clone()));
  const q = new QuoteTick();
  const t = new TradeTick();
  const w = {
    clock,
    bus,
    engine,
    sim,
    btc,
    log,
    /** As a runner does: wake at each pending venue time so reactions are stamped when they happen. */
    step(dt: number) {
      for (let n = sim.nextEventTime(); n <= T0 + dt; n = sim.nextEventTime()) {
        clock.advanceTo(Math.max(n, clock.now()) as Micros);
        sim.advanceTo(n);
      }
      clock.advanceTo((T0 + dt) as Micros);
      sim.advanceTo(T0 + dt);
    },
    /** Venue first (exchange time), then the engine's emulator (the strategy's view, no md latency here). */
    quote(dt: number, bid: number, ask: number, size = 5) {
      clock.advanceTo((T0 + dt) as Micros);
      q.instrumentId = btc.id as InstrumentId;
      q.tsEvent = (T0 + dt) as Micros;
      q.bidPx = bid as PriceTicks;
      q.askPx = ask as PriceTicks;
      q.bidQty = size as QtyLots;
      q.askQty = size as QtyLots;
      sim.onQuote(q);
      engine.onQuote(q);
    },
    trade(dt: number, px: number, qty: number, aggressor: number) {
      clock.advanceTo((T0 + dt) as Micros);
      t.instrumentId = btc.id as InstrumentId;
      t.tsEvent = (T0 + dt) as Micros;
      t.px = px as PriceTicks;
      t.qty = qty as QtyLots;
      t.aggressor = aggressor;
      sim.onTrade(t);
      engine.onTrade(t);
    },
    kinds(id: number) {
      return log.filter((e) => e.orderId === id).map((e) => orderEventName(e.kind));
    },
  };
  return w;
}

describe('ExecutionEngine -> SimulatedExchange -> fills -> events', () => {
  it('a market order is acknowledged and filled after entry + response latency, with fees', () => {
    const w = wire({ latency: { orderEntry: 100, response: 50 } });
    w.quote(0, PX - 1, PX, 5);
    const o = w.engine.submit(req(w.btc, { type: OrderType.MARKET, qty: 3 as QtyLots }));
    expect(o.status).toBe(OrderStatus.SUBMITTED);
    w.step(149);
    expect(o.status).toBe(OrderStatus.SUBMITTED);
    w.step(150);
    expect(o.status).toBe(OrderStatus.FILLED);
    expect(o.avgPx).toBe(PX);
    expect(o.venueOrderId).not.toBe('');
    expect(w.kinds(o.id)).toEqual(['INITIALIZED', 'SUBMITTED', 'ACCEPTED', 'FILLED']);
    const fill = w.log.find((e) => e.kind === OrderEventKind.FILLED)!;
    expect([fill.tsEvent, fill.tsInit]).toEqual([T0 + 100, T0 + 150]);
    expect(fill.fee).toBe(w.btc.tryFee(PX, 3, LiquiditySide.TAKER));
    expect(fill.feeCurrencyId).toBe(w.btc.settlement.id);
    expect(w.engine.cache.isOpen(o.id)).toBe(false);
    expect(w.engine.stats).toMatchObject({ rejectedEvents: 0, unknownOrders: 0, duplicates: 0 });
  });

  it('a resting limit fills on a trade through it; a cancel in flight loses the race and is refused', () => {
    const w = wire({ latency: { orderEntry: 10, response: 10 } });
    w.quote(0, PX - 1, PX, 5);
    const o = w.engine.submit(req(w.btc, { qty: 2 as QtyLots, price: (PX - 1) as PriceTicks }));
    w.step(20);
    expect(o.status).toBe(OrderStatus.ACCEPTED);
    w.engine.cancel(o.id); // reaches the venue at +10, after the trade below
    w.trade(25, PX - 2, 4, Side.SELL);
    w.step(100);
    expect(o.status).toBe(OrderStatus.FILLED);
    expect(o.avgPx).toBe(PX - 1);
    expect(w.kinds(o.id)).toEqual(['INITIALIZED', 'SUBMITTED', 'ACCEPTED', 'PENDING_CANCEL', 'FILLED']);
    // The venue's refusal arrives after the fill: the engine refuses it (not published), the order stays FILLED.
    expect(w.engine.stats.rejectedEvents).toBe(1);
    expect(w.sim.stats.cancelRejected).toBe(1);
  });

  it('stops stay in the engine emulator (not native here) and reach the venue as market orders', () => {
    const w = wire();
    w.quote(0, PX - 1, PX, 5);
    const stop = w.engine.submit(
      req(w.btc, {
        type: OrderType.STOP_MARKET,
        side: OrderSide.BUY,
        qty: 2 as QtyLots,
        triggerPrice: (PX + 10) as PriceTicks,
      }),
    );
    w.step(1);
    expect(stop.status).toBe(OrderStatus.ACCEPTED);
    expect(w.sim.stats.orders).toBe(0);
    w.quote(5, PX + 9, PX + 10, 5);
    w.step(5);
    expect(stop.status).toBe(OrderStatus.FILLED);
    expect(stop.avgPx).toBe(PX + 10);
    expect(w.kinds(stop.id)).toEqual(['INITIALIZED', 'SUBMITTED', 'ACCEPTED', 'TRIGGERED', 'FILLED']);
  });

  it('a strategy that answers a fill with a new order (nested) gets it matched in order', () => {
    const w = wire({ latency: { orderEntry: 5, response: 5 } });
    w.quote(0, PX - 1, PX, 5);
    const exits: number[] = [];
    w.bus.subscribe(w.engine.orderEvents, (ev) => {
      if (ev.kind === OrderEventKind.FILLED && ev.strategyId === 1 && exits.length === 0) {
        const exit = w.engine.submit(
          req(w.btc, { side: OrderSide.SELL, type: OrderType.MARKET, qty: ev.fillQty }),
        );
        exits.push(exit.id);
      }
    });
    const entry = w.engine.submit(req(w.btc, { type: OrderType.MARKET, qty: 2 as QtyLots }));
    w.step(100);
    expect(entry.status).toBe(OrderStatus.FILLED);
    const exit = w.engine.cache.order(exits[0]!)!;
    expect(exit.status).toBe(OrderStatus.FILLED);
    expect(exit.avgPx).toBe(PX - 1);
    expect(w.sim.position(w.btc.id)).toBe(0);
    for (const o of [entry, exit]) {
      expect(rebuildOrder(w.log.filter((e) => e.orderId === o.id)).status).toBe(OrderStatus.FILLED);
    }
  });
});

describeVenueContract('StubVenue (autoAccept)', () => {
  const k = makeKit();
  k.venue.autoAccept = true;
  return {
    engine: k.engine,
    venue: k.venue,
    clock: k.clock,
    btc: k.btc,
    log: k.log,
    settle: () => {},
    restingBuyPx: PX - 100,
  };
});

describeVenueContract('SimulatedExchange', () => {
  const w = wire({ latency: { orderEntry: 20, response: { median: 30, p99: 300 } }, seed: 3 });
  w.quote(0, PX - 1, PX, 5);
  let t = 0;
  return {
    engine: w.engine,
    venue: w.sim,
    clock: w.clock,
    btc: w.btc,
    log: w.log,
    settle: () => {
      t += 10_000;
      w.step(t);
    },
    restingBuyPx: PX - 100,
  };
});
