// Branded number types: units that must not mix (see DESIGN.md "Types say units").
// Brands are erased at run time; they cost nothing and stop a price being passed as a quantity.

declare const unit: unique symbol;
export type Brand<T, U extends string> = T & { readonly [unit]: U };

/** Microseconds since the Unix epoch, UTC. */
export type Micros = Brand<number, 'Micros'>;
/** Nanoseconds on the process's monotonic clock (for latency only, never for event time). */
export type MonoNanos = Brand<number, 'MonoNanos'>;
/** A price as an integer count of the instrument's tick size. */
export type PriceTicks = Brand<number, 'PriceTicks'>;
/** A quantity as an integer count of the instrument's lot size. */
export type QtyLots = Brand<number, 'QtyLots'>;
export type InstrumentId = Brand<number, 'InstrumentId'>;
export type OrderId = Brand<number, 'OrderId'>;
export type StrategyId = Brand<number, 'StrategyId'>;
export type VenueId = Brand<number, 'VenueId'>;

export const MICROS_PER_MS = 1_000;
export const MICROS_PER_SECOND = 1_000_000;
