// Currencies and money. A money amount is an integer count of the currency's smallest unit, 10^-precision
// (satoshis for BTC at 8 dp, cents for USD at 2 dp), held in a `number`: exact up to 2^53-1 units, which is
// about 90 million BTC/USDT at 8 dp. Currencies are interned once; inside the engine they are small ids.

import { Bot4Error, ErrorCode } from '../core/errors.ts';
import type { Brand } from '../core/units.ts';
import {
  type DecimalLabel,
  decimalToSteps,
  floatToSteps,
  parseDecimalSteps,
  parseFloatSteps,
  type Step,
  stepOfScale,
  stepsToDecimal,
} from './decimal.ts';

/** An integer amount of 10^-precision units of one currency (which currency is the caller's to track). */
export type Money = Brand<number, 'Money'>;
export type CurrencyId = Brand<number, 'CurrencyId'>;

export const CurrencyKind = { CRYPTO: 0, FIAT: 1 } as const;
export type CurrencyKind = (typeof CurrencyKind)[keyof typeof CurrencyKind];

/** Precision given to a code nobody registered: enough for every Binance asset (they report 8 dp). */
export const DEFAULT_PRECISION = 8;

export class Currency {
  readonly id: CurrencyId;
  readonly code: string;
  /** Decimal places of the money unit. */
  readonly precision: number;
  readonly kind: CurrencyKind;
  /** The money unit as a step, 10^-precision. */
  readonly unit: Step;

  constructor(id: CurrencyId, code: string, precision: number, kind: CurrencyKind) {
    this.id = id;
    this.code = code;
    this.precision = precision;
    this.kind = kind;
    this.unit = stepOfScale(precision);
  }
}

const CODE_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$/;

/** Interns currency codes to small ids; lookups by code happen at the edges only. */
export class CurrencyRegistry {
  private readonly byCode = new Map<string, Currency>();
  private readonly list: Currency[] = [];

  /** Registers a currency, or returns the existing one when code, precision and kind agree. */
  register(code: string, precision: number, kind: CurrencyKind = CurrencyKind.CRYPTO): Currency {
    if (!CODE_RE.test(code)) {
      throw new Bot4Error(
        ErrorCode.INVALID_ARGUMENT,
        `currency code ${JSON.stringify(code)} is invalid; use 1-32 letters, digits, '.', '_' or '-' (e.g. "BTC")`,
        { code },
      );
    }
    if (!Number.isInteger(precision) || precision < 0 || precision > 18) {
      throw new Bot4Error(
        ErrorCode.INVALID_ARGUMENT,
        `precision ${precision} for currency ${code} must be an integer number of decimal places in 0..18`,
        { code, precision },
      );
    }
    const existing = this.byCode.get(code);
    if (existing !== undefined) {
      if (existing.precision !== precision || existing.kind !== kind) {
        throw new Bot4Error(
          ErrorCode.INVALID_ARGUMENT,
          `currency ${code} is already registered with precision ${existing.precision}; cannot re-register it with precision ${precision}`,
          { code, precision, existing: existing.precision },
        );
      }
      return existing;
    }
    const c = new Currency(this.list.length as CurrencyId, code, precision, kind);
    this.list.push(c);
    this.byCode.set(code, c);
    return c;
  }

  get(code: string): Currency | undefined {
    return this.byCode.get(code);
  }

  /** The registered currency, or a new crypto currency with DEFAULT_PRECISION (venues list new assets daily). */
  getOrCreate(code: string): Currency {
    return this.byCode.get(code) ?? this.register(code, DEFAULT_PRECISION, CurrencyKind.CRYPTO);
  }

  /** O(1) by id; undefined for an id this registry never issued. */
  byId(id: CurrencyId): Currency | undefined {
    return this.list[id];
  }

  get size(): number {
    return this.list.length;
  }

  /** A registry preloaded with the common crypto and fiat currencies. */
  static withDefaults(): CurrencyRegistry {
    const r = new CurrencyRegistry();
    for (const [code, precision, kind] of DEFAULT_CURRENCIES) r.register(code, precision, kind);
    return r;
  }
}

const C = CurrencyKind.CRYPTO;
const F = CurrencyKind.FIAT;
/**
 * Accounting precision: 8 dp for every currency, fiat included. This is the precision money is booked at, not
 * shown at: Binance books every asset (USDT, and USD where it lists it) to 8 decimals, and a crypto venue's fiat
 * balance moves by fractions of a cent (0.123457 BTC x 46377.5 USD is 5,725.5 + a fraction of a cent), so booking
 * fiat at its ISO 4217 minor unit rounded every fill's value and fee to cents and let realised PnL drift by
 * cents per trade. Reports round once, for display (report-format.ts: 2 decimals for fiat and stablecoins).
 * A venue that truly books a coarser unit registers its currency at that precision in its own registry.
 */
const DEFAULT_CURRENCIES: readonly (readonly [string, number, CurrencyKind])[] = [
  ['BTC', 8, C],
  ['ETH', 8, C],
  ['USDT', 8, C],
  ['USDC', 8, C],
  ['BUSD', 8, C],
  ['FDUSD', 8, C],
  ['TUSD', 8, C],
  ['DAI', 8, C],
  ['BNB', 8, C],
  ['SOL', 8, C],
  ['XRP', 8, C],
  ['ADA', 8, C],
  ['DOGE', 8, C],
  ['LTC', 8, C],
  ['DOT', 8, C],
  ['LINK', 8, C],
  ['TRX', 8, C],
  ['AVAX', 8, C],
  ['USD', 8, F],
  ['EUR', 8, F],
  ['GBP', 8, F],
  ['CHF', 8, F],
  ['AUD', 8, F],
  ['CAD', 8, F],
  ['TRY', 8, F],
  ['BRL', 8, F],
  ['JPY', 8, F],
  ['KRW', 8, F],
];

/** The process-wide registry used by the instrument builders unless they are given another. */
export const currencies: CurrencyRegistry = CurrencyRegistry.withDefaults();

/** Shorthand for currencies.getOrCreate(code). */
export function currency(code: string): Currency {
  return currencies.getOrCreate(code);
}

/** Edge: "1.25" USDT -> 125000000 units. Throws a DECIMAL_INVALID error naming the field when inexact. */
export function moneyFromDecimal(text: string, cur: Currency, label: DecimalLabel = {}): Money {
  return parseDecimalSteps(text, cur.unit, {
    what: label.what ?? 'amount',
    stepName: label.stepName ?? `${cur.code} unit`,
    context: label.context ?? '',
    signed: label.signed ?? true,
  }) as Money;
}

/** Hot path: like moneyFromDecimal but NaN on failure (see lastDecimalStatus()). Signed. */
export function tryMoneyFromDecimal(text: string, cur: Currency): Money {
  return decimalToSteps(text, cur.unit, true) as Money;
}

/** A float amount to money units: nearest unit, if the float was on the grid (see floatToSteps). */
export function moneyFromFloat(x: number, cur: Currency, label: DecimalLabel = {}): Money {
  return parseFloatSteps(x, cur.unit, {
    what: label.what ?? 'amount',
    stepName: label.stepName ?? `${cur.code} unit`,
    context: label.context ?? '',
    signed: label.signed ?? true,
  }) as Money;
}

/** Hot path twin of moneyFromFloat: NaN when off-grid or non-finite. */
export function tryMoneyFromFloat(x: number, cur: Currency): Money {
  return floatToSteps(x, cur.unit, true) as Money;
}

/** Money units back to exact text: 125000000 USDT -> "1.25"; `fixed` keeps all decimals -> "1.25000000". */
export function moneyToDecimal(
  amount: Money | number,
  cur: Currency,
  fixed: boolean | number = false,
): string {
  return stepsToDecimal(amount, cur.unit, fixed);
}

/** Money for display with its code: "1.25 USDT". */
export function formatMoney(amount: Money | number, cur: Currency, fixed: boolean | number = false): string {
  return `${stepsToDecimal(amount, cur.unit, fixed)} ${cur.code}`;
}
