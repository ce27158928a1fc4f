// The public surface for strategy authors: import everything a strategy file needs from here.
// Stable names only; internals (host wiring, loader) are exported for the kernel and the CLI as well.
// Units follow the engine: prices in ticks, quantities in lots, times in Micros; decimal strings at the edges.

export type { L2Book } from '../book/l2-book.ts';
export type { InstrumentId, Micros, OrderId, PriceTicks, QtyLots } from '../core/units.ts';
export type { OrderEvent } from '../model/events.ts';
export type { Instrument } from '../model/instrument.ts';
export type { Bar, QuoteTick, TradeTick } from '../model/market-data.ts';
export type { Order } from '../model/order.ts';
export { OrderFlags, OrderSide, OrderType, TimeInForce } from '../model/order.ts';
export { OrderEventKind, OrderStatus } from '../model/order-state.ts';
export type { Position, PositionEvent } from '../portfolio/position.ts';
export { EwmaVolatility } from '../risk/sizing.ts';
export { BUILTIN_STRATEGIES } from './builtin/index.ts';
export {
  BookArray,
  type BookSource,
  BookUpdate,
  MarketTopics,
  type OrderGateway,
  type PortfolioView,
  STRATEGY_PRIORITY,
  type StrategyContext,
  type StrategyLogger,
} from './context.ts';
export { type ResolvedSubscriptions, StrategyHost, type StrategyHostOptions } from './host.ts';
export { loadStrategyFile, resolveStrategy, validateStrategyClass } from './loader.ts';
export {
  bool,
  choice,
  describeParams,
  float,
  formatParams,
  int,
  type ParamInput,
  type ParamSchema,
  type ParamSpec,
  type ParamValues,
  paramRange,
  parseParams,
  resolveParams,
  text,
} from './params.ts';
export {
  type BarSpec,
  type InstrumentRef,
  isStrategyClass,
  type LimitOptions,
  parseBarInterval,
  type SideName,
  Strategy,
  type StrategyClass,
  StrategyState,
  type Subscriptions,
} from './strategy.ts';
