// Wiring shared by the execution tests and benchmarks: a registry with one BTCUSDT perpetual on a stub venue,
// a test clock, a bus and an engine. Not used by production code.

import { TestClock } from '../core/clock.ts';
import { MessageBus } from '../core/message-bus.ts';
import type { Micros, StrategyId } from '../core/units.ts';
import type { OrderEvent } from '../model/events.ts';
import { type Instrument, InstrumentKind, newInstrumentRegistry } from '../model/instrument.ts';
import { OrderRequest, OrderSide, OrderType, TimeInForce } from '../model/order.ts';
import { Cache } from './cache.ts';
import { ExecutionEngine, type ExecutionEngineOptions } from './engine.ts';
import { BASIC_ORDER_TYPES, StubVenue } from './stub-venue.ts';
import type { RiskGate } from './venue.ts';

export interface Kit {
  clock: TestClock;
  bus: MessageBus;
  engine: ExecutionEngine;
  venue: StubVenue;
  btc: Instrument;
  /** Every published order event, cloned, in order. */
  log: OrderEvent[];
}

export function makeKit(options: { nativeTypes?: number; risk?: RiskGate; keepLog?: boolean } = {}): Kit {
  const clock = new TestClock(1_700_000_000_000_000 as Micros);
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
    maxQty: '1000',
    minNotional: '5',
    makerFee: '0.0002',
    takerFee: '0.0005',
  });
  const engineOptions: ExecutionEngineOptions = { bus, clock, cache: new Cache(registry) };
  if (options.risk !== undefined) engineOptions.risk = options.risk;
  const engine = new ExecutionEngine(engineOptions);
  const venue = new StubVenue('SIM', clock, options.nativeTypes ?? BASIC_ORDER_TYPES);
  venue.sink = engine;
  engine.registerVenue(btc.venueId, venue);
  const log: OrderEvent[] = [];
  if (options.keepLog !== false) bus.subscribe(engine.orderEvents, (ev) => log.push(ev.clone()));
  return { clock, bus, engine, venue, btc, log };
}

/** A request on the kit's instrument; prices in ticks (0.1 USDT), quantities in lots (0.001 BTC). */
export function req(
  btc: Instrument,
  fields: Partial<
    Pick<
      OrderRequest,
      | 'side'
      | 'type'
      | 'qty'
      | 'price'
      | 'triggerPrice'
      | 'tif'
      | 'flags'
      | 'trailingOffset'
      | 'trailingOffsetType'
      | 'expireTime'
    >
  >,
): OrderRequest {
  const r = new OrderRequest();
  r.instrumentId = btc.id;
  r.strategyId = 1 as StrategyId;
  r.side = OrderSide.BUY;
  r.type = OrderType.LIMIT;
  r.tif = TimeInForce.GTC;
  Object.assign(r, fields);
  return r;
}
