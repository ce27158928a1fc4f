import { describe, expect, it } from 'vitest';
import { Bot4Error, ErrorCode } from '../core/errors.ts';
import {
  CurrencyKind,
  CurrencyRegistry,
  currencies,
  currency,
  DEFAULT_PRECISION,
  formatMoney,
  type Money,
  moneyFromDecimal,
  moneyFromFloat,
  moneyToDecimal,
  tryMoneyFromDecimal,
  tryMoneyFromFloat,
} from './currency.ts';

describe('CurrencyRegistry', () => {
  it('ships the common currencies with their precisions', () => {
    const r = CurrencyRegistry.withDefaults();
    for (const code of ['BTC', 'ETH', 'USDT', 'USDC', 'BNB']) {
      expect(r.get(code)).toMatchObject({ code, precision: 8, kind: CurrencyKind.CRYPTO });
    }
    // Fiat is booked at 8 dp too (accounting precision, not display precision; see DEFAULT_CURRENCIES).
    expect(r.get('USD')).toMatchObject({ precision: 8, kind: CurrencyKind.FIAT });
    expect(r.get('EUR')).toMatchObject({ precision: 8, kind: CurrencyKind.FIAT });
    expect(r.get('JPY')?.precision).toBe(8);
    expect(r.get('USD')?.unit.text).toBe('0.00000001');
  });

  it('creates unknown codes on demand at 8 dp, once, with a dense id', () => {
    const r = CurrencyRegistry.withDefaults();
    const n = r.size;
    const pepe = r.getOrCreate('PEPE');
    expect(pepe).toMatchObject({
      code: 'PEPE',
      precision: DEFAULT_PRECISION,
      kind: CurrencyKind.CRYPTO,
      id: n,
    });
    expect(r.getOrCreate('PEPE')).toBe(pepe);
    expect(r.byId(pepe.id)).toBe(pepe);
    expect(r.size).toBe(n + 1);
  });

  it('refuses conflicting or malformed registrations', () => {
    const r = CurrencyRegistry.withDefaults();
    expect(r.register('USD', 8, CurrencyKind.FIAT)).toBe(r.get('USD'));
    let e: unknown;
    try {
      r.register('USD', 4, CurrencyKind.FIAT);
    } catch (x) {
      e = x;
    }
    expect(e).toBeInstanceOf(Bot4Error);
    expect((e as Bot4Error).message).toBe(
      'currency USD is already registered with precision 8; cannot re-register it with precision 4',
    );
    expect(() => r.register('', 8)).toThrow(/currency code "" is invalid/);
    expect(() => r.register('BAD CODE', 8)).toThrow(/is invalid/);
    expect(() => r.register('X', 19)).toThrow(/precision 19 for currency X/);
  });

  it('has a process-wide default registry', () => {
    expect(currency('BTC')).toBe(currencies.get('BTC'));
  });
});

describe('money <-> decimal', () => {
  const usdt = currency('USDT');
  // A currency booked in cents (a registry of a venue that settles at 2 dp) exercises a coarse unit.
  const usd = new CurrencyRegistry().register('USD', 2, CurrencyKind.FIAT);

  it('converts exactly in both directions', () => {
    expect(moneyFromDecimal('1.25', usdt)).toBe(125_000_000);
    expect(moneyFromDecimal('-0.00000001', usdt)).toBe(-1);
    expect(moneyFromDecimal('10.00000000', usdt)).toBe(1_000_000_000);
    expect(moneyToDecimal(125_000_000 as Money, usdt)).toBe('1.25');
    expect(moneyToDecimal(125_000_000 as Money, usdt, true)).toBe('1.25000000');
    expect(moneyToDecimal(-1 as Money, usdt)).toBe('-0.00000001');
    expect(moneyToDecimal(1999 as Money, usd, true)).toBe('19.99');
    expect(formatMoney(150 as Money, usd, true)).toBe('1.50 USD');
    expect(tryMoneyFromDecimal('2.5', usd)).toBe(250);
    expect(tryMoneyFromDecimal('2.555', usd)).toBeNaN();
  });

  it('names the amount and the currency unit when inexact', () => {
    let e: unknown;
    try {
      moneyFromDecimal('0.001', usd, { what: 'balance', context: 'account 7' });
    } catch (x) {
      e = x;
    }
    expect((e as Bot4Error).code).toBe(ErrorCode.DECIMAL_INVALID);
    expect((e as Bot4Error).message).toBe('balance 0.001 is not a multiple of USD unit 0.01 (account 7)');
  });

  it('takes floats that are on the unit grid', () => {
    expect(moneyFromFloat(0.1 + 0.2, usd)).toBe(30);
    expect(tryMoneyFromFloat(19.99, usd)).toBe(1999);
    expect(tryMoneyFromFloat(0.001, usd)).toBeNaN();
    expect(() => moneyFromFloat(0.001, usd)).toThrow(/not on the grid of USD unit 0.01/);
  });
});
