// Wiring for the simulated exchange's tests: a BTCUSDT perpetual (tick 0.1 USDT, lot 0.001 BTC, maker 2 bp,
// taker 5 bp), a test clock, a sink that records cloned events, and builders for orders and market data.
// Not used by production code. Prices in ticks, sizes in lots, times in micros from T0.

import { TestClock } from '../../core/clock.ts';
import type { InstrumentId, Micros, OrderId, PriceTicks, QtyLots, StrategyId } from '../../core/units.ts';
import type { VenueEventSink } from '../../execution/venue.ts';
import type { OrderEvent } from '../../model/events.ts';
import { type Instrument, InstrumentKind, newInstrumentRegistry } from '../../model/instrument.ts';
import { BookDelta, QuoteTick, Side, TradeTick } from '../../model/market-data.ts';
import { Order, OrderRequest, OrderSide, OrderType, TimeInForce } from '../../model/order.ts';
import { OrderEventKind, orderEventName } from '../../model/order-state.ts';
import { SimulatedExchange, type SimulatedExchangeOptions } from './exchange.ts';

/** 2023-11-14T22:13:20Z: not a funding time, not a day boundary. */
export const T0 = 1_700_000_000_000_000;
/** A price level near 60,000 USDT in ticks of 0.1. */
export const PX = 600_000;

export class RecordingSink implements VenueEventSink {
  readonly events: OrderEvent[] = [];
  onVenueEvent(ev: OrderEvent): void {
    this.events.push(ev.clone());
  }
  of(orderId: number): OrderEvent[] {
    return this.events.filter((e) => e.orderId === orderId);
  }
  kinds(orderId: number): string[] {
    return this.of(orderId).map((e) => orderEventName(e.kind));
  }
  fills(orderId: number): OrderEvent[] {
    return this.of(orderId).filter((e) => e.kind === OrderEventKind.FILLED);
  }
  /** [qty, px] of each fill of an order. */
  fillPairs(orderId: number): [number, number][] {
    return this.fills(orderId).map((e) => [e.fillQty, e.fillPx]);
  }
  filledQty(orderId: number): number {
    return this.fills(orderId).reduce((s, e) => s + e.fillQty, 0);
  }
}

/** Order fields in plain numbers (ticks, lots, micros): tests write literals. */
export interface OrderFields {
  side?: OrderSide;
  type?: OrderType;
  qty?: number;
  price?: number;
  triggerPrice?: number;
  tif?: TimeInForce;
  expireTime?: number;
  flags?: number;
  displayQty?: number;
}

export interface SimKit {
  clock: TestClock;
  sim: SimulatedExchange;
  btc: Instrument;
  sink: RecordingSink;
  /** Moves Bot4's clock and the venue to t (micros after T0). */
  at(dt: number): void;
  /** A new order (ids 1, 2, ...), submitted at the clock's time; asType defaults to its own type. */
  send(fields: OrderFields, asType?: OrderType): Order;
  order(fields: OrderFields): Order;
  quote(dt: number, bid: number, bidQty: number, ask: number, askQty: number): void;
  trade(dt: number, px: number, qty: number, aggressor: number): void;
  /** side: Side.BUY (bid level) or Side.SELL (ask level). */
  delta(dt: number, side: number, px: number, qty: number, flags?: number): void;
  /** Bids then asks as [px, qty] lists, one delta each. */
  book(dt: number, bids: [number, number][], asks: [number, number][]): void;
}

export function makeSim(options: Partial<SimulatedExchangeOptions> = {}): SimKit {
  const clock = new TestClock(T0 as Micros);
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
    makerFee: '0.0002',
    takerFee: '0.0005',
  });
  const sink = new RecordingSink();
  const sim = new SimulatedExchange({ clock, instruments: [btc], sink, ...options });
  let nextId = 1;
  const q = new QuoteTick();
  const t = new TradeTick();
  const d = new BookDelta();
  const move = (dt: number): void => {
    if (T0 + dt > clock.now()) clock.advanceTo((T0 + dt) as Micros);
  };
  const kit: SimKit = {
    clock,
    sim,
    btc,
    sink,
    at(dt) {
      move(dt);
      sim.advanceTo(T0 + dt);
    },
    order(fields) {
      const r = new OrderRequest();
      r.instrumentId = btc.id;
      r.strategyId = 1 as StrategyId;
      r.side = OrderSide.BUY;
      r.type = OrderType.LIMIT;
      r.tif = TimeInForce.GTC;
      Object.assign(r, fields);
      r.tsInit = clock.now();
      return new Order().init(nextId++ as OrderId, r);
    },
    send(fields, asType) {
      const o = kit.order(fields);
      sim.submit(o, asType ?? o.type);
      return o;
    },
    quote(dt, bid, bidQty, ask, askQty) {
      move(dt);
      q.instrumentId = btc.id as InstrumentId;
      q.tsEvent = (T0 + dt) as Micros;
      q.tsInit = q.tsEvent;
      q.bidPx = bid as PriceTicks;
      q.bidQty = bidQty as QtyLots;
      q.askPx = ask as PriceTicks;
      q.askQty = askQty as QtyLots;
      sim.onQuote(q);
    },
    trade(dt, px, qty, aggressor) {
      move(dt);
      t.instrumentId = btc.id as InstrumentId;
      t.tsEvent = (T0 + dt) as Micros;
      t.tsInit = t.tsEvent;
      t.px = px as PriceTicks;
      t.qty = qty as QtyLots;
      t.aggressor = aggressor;
      sim.onTrade(t);
    },
    delta(dt, side, px, qty, flags = 0) {
      move(dt);
      d.instrumentId = btc.id as InstrumentId;
      d.tsEvent = (T0 + dt) as Micros;
      d.tsInit = d.tsEvent;
      d.side = side;
      d.px = px as PriceTicks;
      d.qty = qty as QtyLots;
      d.flags = flags;
      sim.onBookDelta(d);
    },
    book(dt, bids, asks) {
      for (const [px, qty] of bids) kit.delta(dt, Side.BUY, px, qty);
      for (const [px, qty] of asks) kit.delta(dt, Side.SELL, px, qty);
    },
  };
  return kit;
}
