// Wiring for the risk tests and benchmarks: the execution test kit (BTCUSDT perpetual on a stub venue) plus an
// ETHUSDT perpetual and a BNBUSDT spot pair, a simple RiskAccount whose positions follow fills (or, asked for, the
// production account: a Portfolio linked to the engine, read through PortfolioRiskAccount), and a RiskEngine
// attached to the engine. Not used by production code. Units as everywhere: lots, ticks, money units, Micros.

import { TestClock } from '../core/clock.ts';
import { MessageBus, type Topic } from '../core/message-bus.ts';
import type { InstrumentId, Micros } from '../core/units.ts';
import { Cache } from '../execution/cache.ts';
import { ExecutionEngine } from '../execution/engine.ts';
import { PortfolioLink } from '../execution/portfolio-link.ts';
import { BASIC_ORDER_TYPES, StubVenue } from '../execution/stub-venue.ts';
import type { Kit } from '../execution/test-kit.ts';
import type { CurrencyId } from '../model/currency.ts';
import type { OrderEvent } from '../model/events.ts';
import {
  type Instrument,
  InstrumentKind,
  type InstrumentRegistry,
  newInstrumentRegistry,
} from '../model/instrument.ts';
import { OrderSide } from '../model/order.ts';
import { OrderEventKind } from '../model/order-state.ts';
import { AccountType } from '../portfolio/account.ts';
import { Portfolio } from '../portfolio/portfolio.ts';
import { PortfolioRiskAccount } from './portfolio-account.ts';
import { parseRiskConfig, type RiskConfigInput } from './risk-config.ts';
import { type RiskAccount, RiskEngine } from './risk-engine.ts';

/** A RiskAccount over plain arrays: positions by instrument id, free balances by currency id. */
export class TestAccount implements RiskAccount {
  positions: Float64Array = new Float64Array(64);
  balances: Float64Array = new Float64Array(64);
  equityValue = 0;

  positionQty(instrumentId: InstrumentId): number {
    return this.positions[instrumentId] ?? 0;
  }

  freeBalance(currencyId: CurrencyId): number {
    return this.balances[currencyId] ?? 0;
  }

  equity(): number {
    return this.equityValue;
  }

  /** Moves positions by every fill published on the engine's topic (subscribed before the risk engine). */
  follow(bus: MessageBus, engine: { orderEvents: Topic<OrderEvent>; cache: Cache }): void {
    bus.subscribe(
      engine.orderEvents,
      (ev: OrderEvent) => {
        if (ev.kind !== OrderEventKind.FILLED) return;
        const o = engine.cache.order(ev.orderId);
        if (o === undefined) return;
        this.positions[o.instrumentId] =
          this.positions[o.instrumentId]! + (o.side === OrderSide.BUY ? ev.fillQty : -ev.fillQty);
      },
      -10,
    );
  }
}

export interface RiskKit extends Kit {
  eth: Instrument;
  /** BNBUSDT spot (a cash account): tick 0.1, lot 0.01. */
  bnb: Instrument;
  /** The risk engine's account, unless the kit was made with `portfolio` (then unused: positions stay 0). */
  account: TestAccount;
  /** With the `portfolio` option: the Portfolio the risk engine reads (one margin account for venue SIM). */
  portfolio: Portfolio | undefined;
  risk: RiskEngine;
  usdt: CurrencyId;
  bnbId: CurrencyId;
  instruments: InstrumentRegistry;
}

/**
 * The execution test kit's wiring (same BTCUSDT perpetual, clock start, stub venue), built here so the order
 * pool can be small: property tests build thousands of kits.
 */
export function makeRiskKit(
  config: RiskConfigInput = {},
  options: { keepLog?: boolean; orderCapacity?: number; portfolio?: boolean } = {},
): RiskKit {
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
  const engine = new ExecutionEngine({
    bus,
    clock,
    cache: new Cache(registry),
    orderCapacity: options.orderCapacity ?? 256,
  });
  const venue = new StubVenue('SIM', clock, BASIC_ORDER_TYPES);
  venue.sink = engine;
  engine.registerVenue(btc.venueId, venue);
  const log: OrderEvent[] = [];
  if (options.keepLog !== false) bus.subscribe(engine.orderEvents, (ev) => log.push(ev.clone()));
  const kit: Kit = { clock, bus, engine, venue, btc, log };
  const eth = registry.add({
    symbol: 'ETHUSDT',
    venue: 'SIM',
    kind: InstrumentKind.PERPETUAL,
    base: 'ETH',
    quote: 'USDT',
    settlement: 'USDT',
    tickSize: '0.01',
    lotSize: '0.001',
    minQty: '0.001',
    maxQty: '10000',
    minNotional: '5',
    makerFee: '0.0002',
    takerFee: '0.0005',
  });
  const bnb = registry.add({
    symbol: 'BNBUSDT',
    venue: 'SIM',
    kind: InstrumentKind.SPOT,
    base: 'BNB',
    quote: 'USDT',
    settlement: 'USDT',
    tickSize: '0.1',
    lotSize: '0.01',
    minQty: '0.01',
    maxQty: '9000',
    minNotional: '5',
    makerFee: '0.001',
    takerFee: '0.001',
  });
  const account = new TestAccount();
  // With the portfolio the kit is wired as the kernel wires it: no test account following fills beside it.
  if (options.portfolio !== true) account.follow(kit.bus, kit.engine);
  const parsed = parseRiskConfig(config);
  let portfolio: Portfolio | undefined;
  if (options.portfolio === true) {
    // As the kernel wires it: fills reach the portfolio before the risk engine.
    portfolio = new Portfolio({ bus: kit.bus });
    portfolio.addAccount({ venue: 'SIM', type: AccountType.MARGIN });
    new PortfolioLink(kit.bus, kit.engine, portfolio);
  }
  const risk = new RiskEngine({
    config: parsed,
    instruments: registry,
    account:
      portfolio === undefined
        ? account
        : new PortfolioRiskAccount(portfolio, registry.currencies.getOrCreate(parsed.accountCurrency).id),
    clock: kit.clock,
    bus: kit.bus,
  });
  risk.attach(kit.engine, kit.bus);
  const usdt = registry.currencies.getOrCreate('USDT').id;
  const bnbId = registry.currencies.getOrCreate('BNB').id;
  return { ...kit, eth, bnb, account, portfolio, risk, usdt, bnbId, instruments: registry };
}
