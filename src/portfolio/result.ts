// Result codes of the portfolio's hot-path calls (fills, funding, marks, locks): a value, never an exception.
// Invariant: any code but OK means nothing changed (positions, balances and aggregates are as before).
// Codes are stable small integers; portfolioResultName() turns one into text for logs.

export const PortfolioResult = {
  OK: 0,
  /** Side not BUY/SELL, qty or price not a positive safe integer, fee not a safe integer, or a non-zero fee
   *  without a valid fee currency id. */
  INVALID_FILL: 1,
  /** An amount (lock, unlock, rate) that is not a safe integer, or negative where it must not be. */
  INVALID_AMOUNT: 2,
  /** No account takes this instrument (no account for its venue, and none given at register()). */
  NO_ACCOUNT: 3,
  /** A mark for an instrument the portfolio has never seen (register it first). */
  UNKNOWN_INSTRUMENT: 4,
  /** Hedging account without LONG/SHORT, or a netting account given LONG/SHORT. */
  POSITION_SIDE_INVALID: 5,
  /** Hedging: a reducing fill larger than the side's position (it would cross zero, which hedging forbids). */
  EXCEEDS_POSITION: 6,
  /** A value would pass 2^53-1 money units (or lots); split the amount. */
  OVERFLOW: 7,
  /** lock() larger than the free balance (and not forced). */
  INSUFFICIENT_FUNDS: 8,
  /** unlock() larger than what is locked. */
  LOCK_UNDERFLOW: 9,
  /** A mark or funding price that is not a positive safe integer of ticks. */
  INVALID_PRICE: 10,
  /** The instrument cannot live in its account (a derivative in a cash account, a spot pair in a margin
   *  account, a lot finer than the base currency's unit). register() throws with the details. */
  UNSUPPORTED_INSTRUMENT: 11,
} as const;
export type PortfolioResult = (typeof PortfolioResult)[keyof typeof PortfolioResult];

const NAMES = [
  'OK',
  'INVALID_FILL',
  'INVALID_AMOUNT',
  'NO_ACCOUNT',
  'UNKNOWN_INSTRUMENT',
  'POSITION_SIDE_INVALID',
  'EXCEEDS_POSITION',
  'OVERFLOW',
  'INSUFFICIENT_FUNDS',
  'LOCK_UNDERFLOW',
  'INVALID_PRICE',
  'UNSUPPORTED_INSTRUMENT',
] as const;

export function portfolioResultName(r: number): string {
  return NAMES[r] ?? `PortfolioResult(${r})`;
}
