// The composition every mode shares: bus, cache, execution engine, portfolio (one account per venue), the
// risk engine in front of every venue, strategy hosts, their books and bar aggregators. Backtest, paper and
// live differ only in the clock they pass and the venue each venue name gets (simulated exchange, live
// adapter), so a strategy, the risk engine and the OMS cannot tell the modes apart (DESIGN: the parity promise).
// Per-event dispatch stays with each mode's loop (replay in the backtest, sockets in paper and live).

import { L2Book } from '../book/l2-book.ts';
import type { Clock } from '../core/clock.ts';
import { MessageBus, type Topic } from '../core/message-bus.ts';
import { TimeBarAggregator } from '../data/bars.ts';
import { Cache } from '../execution/cache.ts';
import { ExecutionEngine } from '../execution/engine.ts';
import { PortfolioLink } from '../execution/portfolio-link.ts';
import type { VenueClient } from '../execution/venue.ts';
import { currencies, moneyFromDecimal } from '../model/currency.ts';
import type { Instrument, InstrumentRegistry } from '../model/instrument.ts';
import type { Bar, QuoteTick, TradeTick } from '../model/market-data.ts';
import { AccountType } from '../portfolio/account.ts';
import { Portfolio } from '../portfolio/portfolio.ts';
import { PortfolioRiskAccount } from '../risk/portfolio-account.ts';
import { type RiskConfig, RiskConfigSchema } from '../risk/risk-config.ts';
import { type RiskAccount, RiskEngine } from '../risk/risk-engine.ts';
import { RiskMonitor } from '../risk/risk-monitor.ts';
import {
  BookArray,
  type BookUpdate,
  MarketTopics,
  type StrategyContext,
  type StrategyLogger,
} from '../strategy/context.ts';
import { StrategyHost } from '../strategy/host.ts';
import type { Strategy } from '../strategy/strategy.ts';

export interface KernelOptions {
  clock: Clock;
  instruments: InstrumentRegistry;
  strategies: readonly { strategy: Strategy; parameters?: Readonly<Record<string, unknown>> }[];
  /** Initial balances of every venue account, e.g. [{ currency: 'USDT', amount: '10000' }]. */
  balances: readonly { currency: string; amount: string }[];
  riskConfig?: RiskConfig;
  /** Leverage for margin accounts (default 1). */
  leverage?: number;
  logger?: StrategyLogger;
  /** Orders the engine's pool holds before it grows (config memory.pools.orders). */
  orderCapacity?: number;
  /** The venue client of `venue` for its instruments; the kernel registers it with the engine. */
  makeVenue: (venue: string, instruments: Instrument[], k: KernelParts) => VenueClient;
}

/** What exists before the venues: handed to makeVenue so a venue can deliver to the engine and portfolio. */
export interface KernelParts {
  clock: Clock;
  bus: MessageBus;
  cache: Cache;
  engine: ExecutionEngine;
  portfolio: Portfolio;
  risk: RiskEngine;
}

export interface Kernel extends KernelParts {
  /** Loss limits and the kill switch acting on closed trades; what risk did, as report notes. */
  riskMonitor: RiskMonitor;
  /** One venue client per venue name, and the client of each instrument id. */
  venues: Map<string, VenueClient>;
  venueByInstrument: (VenueClient | undefined)[];
  books: BookArray;
  hosts: StrategyHost[];
  ctx: StrategyContext;
  quoteTopic: Topic<QuoteTick>;
  tradeTopic: Topic<TradeTick>;
  barTopic: Topic<Bar>;
  bookTopic: Topic<BookUpdate>;
  /** Instruments some strategy subscribed to, and a byte per instrument id (1 = traded). */
  traded: Instrument[];
  isTraded: Uint8Array;
  /** Bar aggregators by instrument id (from the strategies' bar subscriptions). */
  barAggs: TimeBarAggregator[][];
}

const quietLogger: StrategyLogger = { debug() {}, info() {}, warn() {}, error() {} };

export function buildKernel(options: KernelOptions): Kernel {
  const registry = options.instruments;
  const clock = options.clock;
  const bus = new MessageBus();
  const cache = new Cache(registry);
  const engine = new ExecutionEngine({
    bus,
    clock,
    cache,
    ...(options.orderCapacity === undefined ? {} : { orderCapacity: options.orderCapacity }),
  });
  const portfolio = new Portfolio({ bus, defaultLeverage: options.leverage ?? 1 });
  new PortfolioLink(bus, engine, portfolio);
  // Risk is the same engine in every mode: every order passes it before any venue.
  const riskConfig = options.riskConfig ?? RiskConfigSchema.parse({});
  const riskCurrency = currencies.getOrCreate(riskConfig.accountCurrency);
  const riskAccount: RiskAccount = new PortfolioRiskAccount(portfolio, riskCurrency.id);
  const risk = new RiskEngine({
    config: riskConfig,
    instruments: registry,
    clock,
    bus,
    account: riskAccount,
  });
  engine.setRisk(risk);
  risk.attach(engine, bus);
  // Kill switch on loss limits, closed trades to the loss limits, and what risk did for the report.
  const riskMonitor = new RiskMonitor({
    risk,
    engine,
    bus,
    clock,
    instruments: registry,
    account: riskAccount,
    realisedPnl: (id) =>
      registry.get(id)?.settlement.id === riskCurrency.id
        ? (portfolio.position(id)?.realisedPnl ?? 0)
        : Number.NaN,
  });
  const parts: KernelParts = { clock, bus, cache, engine, portfolio, risk };

  // One venue and one account per venue of the registry.
  const venues = new Map<string, VenueClient>();
  const venueByInstrument: (VenueClient | undefined)[] = [];
  for (const inst of registry.all()) {
    let venue = venues.get(inst.venue);
    if (venue === undefined) {
      const venueInstruments = registry.all().filter((i) => i.venue === inst.venue);
      venue = options.makeVenue(inst.venue, venueInstruments, parts);
      venues.set(inst.venue, venue);
      engine.registerVenue(inst.venueId, venue);
      const spot = venueInstruments.every((i) => i.kind === 0);
      portfolio.addAccount({
        venue: inst.venue,
        type: spot ? AccountType.CASH : AccountType.MARGIN,
        balances: options.balances.map((b) => {
          const c = currencies.getOrCreate(b.currency);
          return { currency: c, amount: moneyFromDecimal(b.amount, c, { what: `balance ${b.currency}` }) };
        }),
      });
    }
    venueByInstrument[inst.id] = venue;
  }

  const books = new BookArray();
  const ctx: StrategyContext = {
    engine,
    cache,
    portfolio,
    bus,
    clock,
    instruments: registry,
    books,
    logger: options.logger ?? quietLogger,
    sizing: riskConfig.sizing,
  };
  const hosts = options.strategies.map((s, i) => new StrategyHost(s.strategy, ctx, { strategyId: i + 1 }));

  // What the strategies need: books for their instruments, bars aggregated from quote mids (or trades).
  const barTopic = bus.topic<Bar>(MarketTopics.BARS);
  const traded = new Map<number, Instrument>();
  const barAggs: TimeBarAggregator[][] = [];
  for (const h of hosts) {
    const s = h.subscriptions;
    for (const i of s.instruments) traded.set(i.id, i);
    for (const i of s.books) if (books.book(i.id) === undefined) books.set(i.id, new L2Book());
    for (const b of s.bars) {
      while (barAggs.length <= b.instrument.id) barAggs.push([]);
      const list = barAggs[b.instrument.id]!;
      if (!list.some((a) => a.interval === b.intervalMicros)) {
        list.push(
          new TimeBarAggregator(b.intervalMicros, (bar) => bus.publish(barTopic, bar), {
            instrumentId: b.instrument.id,
          }),
        );
      }
    }
  }
  const tradedList = [...traded.values()];
  // Per-event checks read arrays, not Maps: a byte per instrument id.
  const isTraded = new Uint8Array(registry.size + 1);
  for (const i of tradedList) isTraded[i.id] = 1;
  return {
    ...parts,
    riskMonitor,
    venues,
    venueByInstrument,
    books,
    hosts,
    ctx,
    quoteTopic: bus.topic<QuoteTick>(MarketTopics.QUOTES),
    tradeTopic: bus.topic<TradeTick>(MarketTopics.TRADES),
    barTopic,
    bookTopic: bus.topic<BookUpdate>(MarketTopics.BOOKS),
    traded: tradedList,
    isTraded,
    barAggs,
  };
}
