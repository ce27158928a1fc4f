// Account balances: lock/unlock/deposit rules and atomic fill flows (nothing changes on a refused call).
// Amounts in money units (8 dp for USDT and BNB here).
import { describe, expect, it } from 'vitest';
import { Bot4Error, ErrorCode } from '../core/errors.ts';
import type { Micros } from '../core/units.ts';
import type { CurrencyId } from '../model/currency.ts';
import { Account, type AccountListener, AccountType, type FillFlows, PositionMode } from './account.ts';
import { PortfolioResult as R } from './result.ts';

const USDT = 2 as CurrencyId;
const BNB = 8 as CurrencyId;
const ts = 1 as Micros;

function flows(
  quoteDelta: number,
  baseDelta: number,
  realised: number,
  fee: number,
  feeCurrency: number,
): FillFlows {
  return { quoteDelta, baseDelta, realised, fee, feeCurrency, ts };
}

function cash(): Account {
  const a = new Account(0, 'BINANCE', AccountType.CASH, PositionMode.NETTING);
  a.deposit(USDT, 1_000_00000000, ts); // 1000 USDT at 8 dp
  return a;
}

describe('Account balances', () => {
  it('keeps free = total - locked through lock and unlock', () => {
    const a = cash();
    expect(a.lock(USDT, 300_00000000)).toBe(R.OK);
    expect(a.total(USDT)).toBe(1_000_00000000);
    expect(a.locked(USDT)).toBe(300_00000000);
    expect(a.free(USDT)).toBe(700_00000000);
    expect(a.unlock(USDT, 100_00000000)).toBe(R.OK);
    expect(a.free(USDT)).toBe(800_00000000);
  });

  it('refuses a lock beyond the free balance unless forced, and changes nothing', () => {
    const a = cash();
    expect(a.lock(USDT, 1_000_00000001)).toBe(R.INSUFFICIENT_FUNDS);
    expect(a.locked(USDT)).toBe(0);
    expect(a.lock(USDT, 1_000_00000001, true)).toBe(R.OK);
    expect(a.free(USDT)).toBe(-1);
  });

  it('refuses to unlock more than is locked, and bad amounts', () => {
    const a = cash();
    a.lock(USDT, 5);
    expect(a.unlock(USDT, 6)).toBe(R.LOCK_UNDERFLOW);
    expect(a.locked(USDT)).toBe(5);
    expect(a.unlock(BNB, 1)).toBe(R.LOCK_UNDERFLOW);
    expect(a.lock(USDT, -1)).toBe(R.INVALID_AMOUNT);
    expect(a.lock(USDT, 1.5)).toBe(R.INVALID_AMOUNT);
    expect(a.lock(-1 as CurrencyId, 1)).toBe(R.INVALID_AMOUNT);
  });

  it('grows its arrays for a currency id beyond the initial capacity', () => {
    const a = cash();
    const far = 100 as CurrencyId;
    expect(a.total(far)).toBe(0);
    a.deposit(far, 42, ts);
    expect(a.capacity).toBeGreaterThan(100);
    expect(a.total(far)).toBe(42);
    expect(a.total(USDT)).toBe(1_000_00000000);
  });

  it('applies a cash fill atomically: OVERFLOW leaves every figure as it was', () => {
    const a = cash();
    a.deposit(1 as CurrencyId, 1, ts);
    const before = Array.from(a.totals);
    // USDT would move fine; the base balance would pass 2^53-1.
    const r = a.applyCashFill(USDT, 1 as CurrencyId, flows(-1, Number.MAX_SAFE_INTEGER, 0, 0, BNB));
    expect(r).toBe(R.OVERFLOW);
    expect(Array.from(a.totals)).toEqual(before);
  });

  it('debits a margin fill fee from its own currency', () => {
    const a = new Account(1, 'BINANCE_USDM', AccountType.MARGIN, PositionMode.HEDGING);
    a.deposit(USDT, 100, ts);
    a.deposit(BNB, 100, ts);
    expect(a.applyMarginFill(USDT, flows(0, 0, 50, 7, BNB))).toBe(R.OK);
    expect(a.total(USDT)).toBe(150);
    expect(a.total(BNB)).toBe(93);
    expect(a.fees[BNB]).toBe(7);
    expect(a.realised[USDT]).toBe(50);
  });

  it('tells its listener about lock, unlock and deposit', () => {
    const seen: number[] = [];
    const a = cash();
    const listener: AccountListener = { accountChanged: (_acct, c) => seen.push(c) };
    a.listener = listener;
    a.lock(USDT, 1);
    a.unlock(USDT, 1);
    a.deposit(BNB, 1, ts);
    expect(seen).toEqual([USDT, USDT, BNB]);
  });

  it('rejects a hedging cash account and bad deposits at the edge', () => {
    expect(() => new Account(0, 'X', AccountType.CASH, PositionMode.HEDGING)).toThrow(/CASH \(spot\)/);
    const a = cash();
    let err: unknown;
    try {
      a.deposit(USDT, 0.5);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(Bot4Error);
    expect((err as Bot4Error).code).toBe(ErrorCode.INVALID_ARGUMENT);
    expect(() => a.deposit(USDT, Number.MAX_SAFE_INTEGER)).toThrow(/2\^53-1/);
  });
});
