// Hand-computed scenarios (the arithmetic is written out beside each figure): USD-M linear, COIN-M inverse,
// spot cash flows, funding, flips, hedging, locks, events and snapshots. Money in units of 10^-precision.
import { describe, expect, it } from 'vitest';
import { MessageBus } from '../core/message-bus.ts';
import type { InstrumentId, Micros } from '../core/units.ts';
import { type Currency, moneyFromDecimal } from '../model/currency.ts';
import { OrderEvent } from '../model/events.ts';
import {
  type Instrument,
  type InstrumentRegistry,
  LiquiditySide,
  newInstrumentRegistry,
} from '../model/instrument.ts';
import { Order, OrderSide, orderRequest } from '../model/order.ts';
import { OrderEventKind } from '../model/order-state.ts';
import { AccountType, PositionMode } from './account.ts';
import { type AccountEvent, Portfolio } from './portfolio.ts';
import { type PositionEvent, PositionEventKind, PositionSide } from './position.ts';
import { PortfolioResult as R } from './result.ts';
import { COINM_BTCUSD, SPOT_BTCUSDT, USDM_BTCUSDT } from './testing.ts';

const { BUY, SELL } = OrderSide;
const TAKER = LiquiditySide.TAKER;

interface World {
  reg: InstrumentRegistry;
  pf: Portfolio;
  usdt: Currency;
  btc: Currency;
  bnb: Currency;
}

function world(mode: (typeof PositionMode)[keyof typeof PositionMode] = PositionMode.NETTING): World {
  const reg = newInstrumentRegistry();
  const c = reg.currencies;
  const usdt = c.get('USDT')!;
  const btc = c.get('BTC')!;
  const bnb = c.get('BNB')!;
  const pf = new Portfolio({ currencies: c });
  pf.addAccount({
    venue: 'BINANCE',
    type: AccountType.CASH,
    balances: [
      { currency: usdt, amount: moneyFromDecimal('10000', usdt) },
      { currency: bnb, amount: moneyFromDecimal('1', bnb) },
    ],
  });
  pf.addAccount({
    venue: 'BINANCE_USDM',
    type: AccountType.MARGIN,
    mode,
    balances: [{ currency: usdt, amount: moneyFromDecimal('10000', usdt) }],
  });
  pf.addAccount({
    venue: 'BINANCE_COINM',
    type: AccountType.MARGIN,
    balances: [{ currency: btc, amount: moneyFromDecimal('1', btc) }],
  });
  return { reg, pf, usdt, btc, bnb };
}

/** A fill at the instrument's taker fee, paid in its settlement currency. */
function takerFill(
  pf: Portfolio,
  inst: Instrument,
  side: OrderSide,
  lots: number,
  ticks: number,
  ts: number,
  positionSide: PositionSide = PositionSide.BOTH,
): number {
  return pf.applyFill(
    inst,
    side,
    lots,
    ticks,
    inst.fee(ticks, lots, TAKER),
    inst.settlement.id,
    ts,
    positionSide,
  );
}

describe('USD-M linear perpetual (BTCUSDT, tick 0.1, lot 0.001, USDT 8 dp, taker 0.05%)', () => {
  // One tick x one lot = 0.1 x 0.001 = 0.0001 USDT = 10_000 units, so notional = ticks x lots x 10_000.
  it('realises PnL, charges fees and moves the balance to the last unit', () => {
    const { reg, pf, usdt } = world();
    const perp = reg.add(USDM_BTCUSDT);
    const acct = pf.accountForVenue('BINANCE_USDM')!;
    const u = usdt.id;
    const start = acct.total(u); // 10 000 USDT = 1_000_000_000_000 units

    // buy 0.010 @ 60000.0: notional 600 USDT; fee 600 x 0.0005 = 0.3 USDT
    expect(perp.fee(600_000, 10, TAKER)).toBe(30_000_000);
    expect(takerFill(pf, perp, BUY, 10, 600_000, 1)).toBe(R.OK);
    // buy 0.020 @ 60300.0: notional 1206 USDT; fee 0.603 USDT
    expect(takerFill(pf, perp, BUY, 20, 603_000, 2)).toBe(R.OK);
    const pos = pf.position(perp.id)!;
    expect(pos.qty).toBe(30);
    // cost = 600 + 1206 = 1806 USDT; average entry 1806 / 0.030 = 60200.0 = 602000 ticks
    expect(pos.cost).toBe(moneyFromDecimal('1806', usdt));
    expect(pos.avgPx).toBe(602_000);
    // marked at the last fill, 60300.0: value 0.030 x 60300 = 1809 USDT, unrealised 1809 - 1806 = 3 USDT,
    // margin at the default 1x = 1809 USDT
    expect(pos.unrealisedPnl).toBe(moneyFromDecimal('3', usdt));
    expect(pos.margin).toBe(moneyFromDecimal('1809', usdt));
    expect(acct.locked(u)).toBe(moneyFromDecimal('1809', usdt));

    // sell 0.025 @ 61000.5: exit value 0.025 x 61000.5 = 1525.0125 USDT; cost removed 1806 x 25/30 = 1505;
    // realised 1525.0125 - 1505 = 20.0125 USDT; fee 1525.0125 x 0.0005 = 0.76250625 USDT
    expect(takerFill(pf, perp, SELL, 25, 610_005, 3)).toBe(R.OK);
    expect(pos.lastRealised).toBe(moneyFromDecimal('20.0125', usdt));
    expect(pos.qty).toBe(5);
    expect(pos.cost).toBe(moneyFromDecimal('301', usdt)); // 1806 - 1505: still 60200.0 a coin
    expect(pos.avgPx).toBe(602_000);

    // sell 0.005 @ 59000.0: exit 295 USDT; removes the remaining 301; realised -6 USDT; fee 0.1475 USDT
    expect(takerFill(pf, perp, SELL, 5, 590_000, 4)).toBe(R.OK);
    expect(pos.lastRealised).toBe(moneyFromDecimal('-6', usdt));
    expect(pos.qty).toBe(0);
    expect(pos.cost).toBe(0);

    // realised 20.0125 - 6 = 14.0125 USDT; fees 0.3 + 0.603 + 0.76250625 + 0.1475 = 1.81300625 USDT
    expect(pos.realisedPnl).toBe(moneyFromDecimal('14.0125', usdt));
    expect(pos.fees).toBe(moneyFromDecimal('1.81300625', usdt));
    // balance 10000 + 14.0125 - 1.81300625 = 10012.19949375 USDT
    expect(acct.total(u)).toBe(moneyFromDecimal('10012.19949375', usdt));
    expect(acct.total(u) - start).toBe(pos.realisedPnl - pos.fees - pos.funding);
    // and the realised PnL is the fills' cash flow: sells 1525.0125 + 295 - buys 600 + 1206
    expect(pos.realisedPnl).toBe(moneyFromDecimal('1820.0125', usdt) - moneyFromDecimal('1806', usdt));
    // flat: no margin, no exposure, no unrealised PnL left anywhere
    expect(acct.locked(u)).toBe(0);
    expect(pf.unrealisedPnl(u)).toBe(0);
    expect(pf.grossExposure(u)).toBe(0);
    expect(pos.fills).toBe(4);
    expect(pos.peakQty).toBe(30);
    expect(pos.openedTs).toBe(1);
    expect(pos.closedTs).toBe(4);
    expect(pos.avgPx).toBeNaN();
  });

  it('flips through zero in one fill: closes the long, opens the short with the rest', () => {
    const { reg, pf, usdt } = world();
    const perp = reg.add(USDM_BTCUSDT);
    pf.applyFill(perp, BUY, 10, 600_000, 0, -1, 1);
    // sell 0.025 @ 61000.0: 0.010 closes the long, realising (61000 - 60000) x 0.010 = 10 USDT;
    // 0.015 opens a short with cost 0.015 x 61000 = 915 USDT
    expect(pf.applyFill(perp, SELL, 25, 610_000, 0, -1, 2)).toBe(R.OK);
    const pos = pf.position(perp.id)!;
    expect(pos.qty).toBe(-15);
    expect(pos.lastRealised).toBe(moneyFromDecimal('10', usdt));
    expect(pos.cost).toBe(moneyFromDecimal('915', usdt));
    expect(pos.avgPx).toBe(610_000);
    expect(pos.openedTs).toBe(2);
    expect(pos.closedTs).toBe(2);
    expect(pos.peakQty).toBe(15);
    expect(pos.exposure).toBe(-moneyFromDecimal('915', usdt));
    // buy back 0.015 @ 60000.0: the short realises (61000 - 60000) x 0.015 = 15 USDT
    pf.applyFill(perp, BUY, 15, 600_000, 0, -1, 3);
    expect(pos.lastRealised).toBe(moneyFromDecimal('15', usdt));
    expect(pos.realisedPnl).toBe(moneyFromDecimal('25', usdt));
    expect(pf.balance(usdt.id)).toBe(moneyFromDecimal('10025', usdt) + moneyFromDecimal('10000', usdt));
  });

  it('marks: unrealised PnL, exposure and margin at leverage follow the mark price', () => {
    const { reg, pf, usdt } = world();
    const perp = reg.add(USDM_BTCUSDT);
    pf.register(perp, { leverage: 10 });
    pf.applyFill(perp, SELL, 20, 600_000, 0, -1, 1); // short 0.020 @ 60000.0, cost 1200 USDT
    expect(pf.mark(perp.id, 590_000)).toBe(R.OK); // 59000.0: value 1180 USDT
    const pos = pf.position(perp.id)!;
    expect(pos.unrealisedPnl).toBe(moneyFromDecimal('20', usdt)); // 1200 - 1180
    expect(pos.exposure).toBe(-moneyFromDecimal('1180', usdt));
    expect(pos.margin).toBe(moneyFromDecimal('118', usdt)); // 1180 / 10
    expect(pf.grossExposure(usdt.id)).toBe(moneyFromDecimal('1180', usdt));
    expect(pf.netExposure(usdt.id)).toBe(-moneyFromDecimal('1180', usdt));
    expect(pf.equity(usdt.id)).toBe(moneyFromDecimal('20020', usdt)); // both 10 000 USDT wallets + 20
    // leverage 3: margin ceil(1180 / 3) = 393.33333334 USDT (rounded up to the unit)
    pf.setLeverage(perp.id, 3);
    expect(pos.margin).toBe(39_333_333_334);
    expect(pf.mark(perp.id, 0)).toBe(R.INVALID_PRICE);
    expect(pf.mark(999 as InstrumentId, 1)).toBe(R.UNKNOWN_INSTRUMENT);
  });

  it('with markOnFill false, a fill leaves the mark alone once there is one', () => {
    const reg = newInstrumentRegistry();
    const usdt = reg.currencies.get('USDT')!;
    const pf = new Portfolio({ markOnFill: false });
    pf.addAccount({ venue: 'BINANCE_USDM', type: AccountType.MARGIN });
    const perp = reg.add(USDM_BTCUSDT);
    pf.applyFill(perp, BUY, 10, 600_000, 0, -1, 1); // no mark yet: marked at the fill
    expect(pf.position(perp.id)!.markPx).toBe(600_000);
    pf.mark(perp.id, 601_000);
    pf.applyFill(perp, BUY, 10, 602_000, 0, -1, 2);
    const pos = pf.position(perp.id)!;
    expect(pos.markPx).toBe(601_000);
    // value 0.020 x 60100 = 1202; cost 600 + 602 = 1202
    expect(pos.unrealisedPnl).toBe(0);
    expect(pos.value).toBe(moneyFromDecimal('1202', usdt));
  });
});

describe('funding', () => {
  it('longs pay shorts on a positive rate and receive on a negative one', () => {
    const { reg, pf, usdt } = world();
    const perp = reg.add(USDM_BTCUSDT);
    const acct = pf.accountForVenue('BINANCE_USDM')!;
    pf.applyFill(perp, BUY, 10, 600_000, 0, -1, 1); // long 0.010 @ 60000.0
    // rate 0.0001 (10_000 / 1e8) at mark 60100.0: value 601 USDT, payment 601 x 0.0001 = 0.0601 USDT
    expect(pf.applyFunding(perp, 10_000, 601_000, 2)).toBe(R.OK);
    expect(pf.lastFunding).toBe(moneyFromDecimal('0.0601', usdt));
    // rate -0.00005 at 59900.0: value 599 USDT, received 599 x 0.00005 = 0.02995 USDT
    expect(pf.applyFunding(perp, -5_000, 599_000, 3)).toBe(R.OK);
    expect(pf.lastFunding).toBe(-moneyFromDecimal('0.02995', usdt));
    const pos = pf.position(perp.id)!;
    expect(pos.funding).toBe(moneyFromDecimal('0.03015', usdt)); // 0.0601 - 0.02995
    expect(acct.total(usdt.id)).toBe(moneyFromDecimal('9999.96985', usdt));
    expect(acct.funding[usdt.id]).toBe(pos.funding);
    expect(pos.markPx).toBe(599_000);
  });

  it('rounds the magnitude half-even before the sign: a short receives what an equal long pays', () => {
    const { reg, pf, usdt } = world(PositionMode.HEDGING);
    const perp = reg.add(USDM_BTCUSDT);
    pf.applyFill(perp, BUY, 7, 599_999, 0, -1, 1, PositionSide.LONG);
    pf.applyFill(perp, SELL, 7, 599_999, 0, -1, 1, PositionSide.SHORT);
    // value 0.007 x 59999.9 = 419.9993 USDT = 41_999_930_000 units; x 0.00012345 = 5_184_891.3585 -> 5_184_891
    expect(pf.applyFunding(perp, 12_345, 599_999, 2)).toBe(R.OK);
    expect(pf.position(perp.id, PositionSide.LONG)!.funding).toBe(5_184_891);
    expect(pf.position(perp.id, PositionSide.SHORT)!.funding).toBe(-5_184_891);
    expect(pf.lastFunding).toBe(0);
    expect(pf.balance(usdt.id)).toBe(2 * moneyFromDecimal('10000', usdt));
  });

  it('is a no-op in a cash account and checks its inputs', () => {
    const { reg, pf } = world();
    const spot = reg.add(SPOT_BTCUSDT);
    pf.applyFill(spot, BUY, 100, 6_000_000, 0, -1, 1);
    expect(pf.applyFunding(spot, 10_000, 6_000_000, 2)).toBe(R.OK);
    expect(pf.lastFunding).toBe(0);
    const perp = reg.add(USDM_BTCUSDT);
    expect(pf.applyFunding(perp, 0.5, 600_000, 2)).toBe(R.INVALID_AMOUNT);
    expect(pf.applyFunding(perp, 1, -1, 2)).toBe(R.INVALID_PRICE);
  });
});

describe('COIN-M inverse perpetual (BTCUSD_PERP, 100 USD a contract, tick 0.1, BTC 8 dp)', () => {
  // notional = contracts x 100 USD / price, in BTC: 10 contracts @ 50000.0 = 1000 / 50000 = 0.02 BTC.
  it('realises PnL in BTC as contracts x 100 x (1/entry - 1/exit), through a flip', () => {
    const { reg, pf, btc } = world();
    const inv = reg.add(COINM_BTCUSD);
    const acct = pf.accountForVenue('BINANCE_COINM')!;
    const b = btc.id;

    // buy 10 @ 50000.0: entry value 0.02 BTC = 2_000_000 sat; fee 0.02 x 0.0005 = 1000 sat
    expect(takerFill(pf, inv, BUY, 10, 500_000, 1)).toBe(R.OK);
    const pos = pf.position(inv.id)!;
    expect(pos.cost).toBe(2_000_000);
    expect(pos.avgPx).toBe(500_000);

    // sell 15 @ 55000.0, a flip. Fill notional 1500 / 55000 BTC = 2_727_272.73 sat -> 2_727_273.
    // Closing 10: exit value 1000 / 55000 = 1_818_181.82 -> 1_818_182 sat;
    // realised (long inverse: entry - exit) 2_000_000 - 1_818_182 = 181_818 sat
    //   (exact: 1000 x (1/50000 - 1/55000) = 0.00181818.. BTC).
    // The new short's cost is the rest of the fill's notional: 2_727_273 - 1_818_182 = 909_091 sat.
    // Fee: 2_727_272.73 x 0.0005 = 1363.64 -> 1364 sat (fees round HALF_UP from the exact notional).
    expect(inv.fee(550_000, 15, TAKER)).toBe(1364);
    expect(takerFill(pf, inv, SELL, 15, 550_000, 2)).toBe(R.OK);
    expect(pos.lastRealised).toBe(181_818);
    expect(pos.qty).toBe(-5);
    expect(pos.cost).toBe(909_091);

    // buy 5 @ 50000.0: exit value 500 / 50000 = 0.01 BTC = 1_000_000 sat; realised (short inverse:
    // exit - entry) 1_000_000 - 909_091 = 90_909 sat (exact: 500 x (1/50000 - 1/55000) = 0.000909.. BTC);
    // fee 0.01 x 0.0005 = 500 sat
    expect(takerFill(pf, inv, BUY, 5, 500_000, 3)).toBe(R.OK);
    expect(pos.lastRealised).toBe(90_909);
    expect(pos.qty).toBe(0);
    expect(pos.cost).toBe(0);

    // realised 181_818 + 90_909 = 272_727 sat = buys' value - sells' value = 2_000_000 + 1_000_000 - 2_727_273
    expect(pos.realisedPnl).toBe(272_727);
    expect(pos.fees).toBe(1000 + 1364 + 500);
    // balance 1 BTC + 272_727 - 2_864 = 1.00269863 BTC
    expect(acct.total(b)).toBe(moneyFromDecimal('1.00269863', btc));
  });

  it('averages entry harmonically and values in BTC at the mark', () => {
    const { reg, pf } = world();
    const inv = reg.add(COINM_BTCUSD);
    pf.applyFill(inv, BUY, 10, 500_000, 0, -1, 1); // 0.02 BTC
    pf.applyFill(inv, BUY, 10, 400_000, 0, -1, 2); // 1000 / 40000 = 0.025 BTC
    const pos = pf.position(inv.id)!;
    expect(pos.cost).toBe(4_500_000);
    // 20 x 100 / 0.045 = 44444.44 USD = 444444.4 ticks (not the arithmetic mean 45000)
    expect(pos.avgPx).toBeCloseTo(444_444.444, 2);
    // At 50000.0 the 20 contracts are worth 2000 / 50000 = 0.04 BTC. The long gains as the price rises: its
    // value in BTC falls, and a long inverse position's PnL is entry value - value = 0.045 - 0.04 = +0.005 BTC.
    pf.mark(inv.id, 500_000);
    expect(pos.value).toBe(4_000_000);
    expect(pos.unrealisedPnl).toBe(500_000);
  });
});

describe('spot cash account (BTCUSDT, tick 0.01, lot 0.00001 = 1000 sat)', () => {
  // notional = ticks x lots x 0.01 x 0.00001 USDT = ticks x lots x 10 units.
  it('moves USDT, BTC and BNB balances by each fill, fee in the currency the fill names', () => {
    const { reg, pf, usdt, btc, bnb } = world();
    const spot = reg.add(SPOT_BTCUSDT);
    const acct = pf.accountForVenue('BINANCE')!;
    const [u, b, n] = [usdt.id, btc.id, bnb.id];

    // buy 0.05 BTC @ 60000.00: pay 3000 USDT; receive 0.05 BTC less the 0.1% fee in BTC, 0.00005 BTC
    expect(pf.applyFill(spot, BUY, 5000, 6_000_000, 5_000, b, 1)).toBe(R.OK);
    expect(acct.total(u)).toBe(moneyFromDecimal('7000', usdt));
    expect(acct.total(b)).toBe(moneyFromDecimal('0.04995', btc));

    // sell 0.04 BTC @ 61000.00: receive 2440 USDT less the fee 2.44 USDT
    const fee = spot.fee(6_100_000, 4000, TAKER);
    expect(fee).toBe(moneyFromDecimal('2.44', usdt));
    expect(pf.applyFill(spot, SELL, 4000, 6_100_000, fee, u, 2)).toBe(R.OK);
    expect(acct.total(u)).toBe(moneyFromDecimal('9437.56', usdt)); // 7000 + 2440 - 2.44
    expect(acct.total(b)).toBe(moneyFromDecimal('0.00995', btc)); // 0.04995 - 0.04

    // buy 0.01 BTC @ 60500.00 with the fee in BNB (0.0015 BNB): pay 605 USDT
    expect(pf.applyFill(spot, BUY, 1000, 6_050_000, moneyFromDecimal('0.0015', bnb), n, 3)).toBe(R.OK);
    expect(acct.total(u)).toBe(moneyFromDecimal('8832.56', usdt));
    expect(acct.total(b)).toBe(moneyFromDecimal('0.01995', btc));
    expect(acct.total(n)).toBe(moneyFromDecimal('0.9985', bnb));

    // The position counts traded lots (0.05 - 0.04 + 0.01 = 0.02 BTC); the wallet holds 0.01995 because the
    // first fee was paid in BTC. Its realised PnL is for show: 2440 - 3000 x 4/5 = 40 USDT, not in the balance.
    const pos = pf.position(spot.id)!;
    expect(pos.qty).toBe(2000);
    expect(pos.realisedPnl).toBe(moneyFromDecimal('40', usdt));
    expect(acct.fees[b]).toBe(5_000);
    expect(acct.fees[u]).toBe(fee);
    expect(acct.fees[n]).toBe(150_000);
    // a cash account's equity is its balances; spot PnL is not added on top of the coins it already holds
    expect(pf.unrealisedPnl(u)).toBe(0);
    expect(pf.equity(u)).toBe(acct.total(u) + moneyFromDecimal('10000', usdt));
    expect(pos.margin).toBe(0);
  });

  it('locks quote for buys and base for sells; the pieces of an order telescope to zero', () => {
    const { reg, pf, usdt, btc } = world();
    const spot = reg.add(SPOT_BTCUSDT);
    const acct = pf.accountForVenue('BINANCE')!;
    // buy 0.01001 BTC @ 60000.01: 1001 lots x 6_000_001 ticks x 10 = 60_060_010_010 units, plus a fee
    // reserve at 0.1%, rounded up: 60_060_010.01 -> 60_060_011; 60_120_070_021 units = 601.20070021 USDT
    expect(pf.orderLockCurrency(spot, BUY)).toBe(usdt.id);
    expect(pf.orderLockAmount(spot, BUY, 1001, 6_000_001)).toBe(60_120_070_021);
    expect(pf.lockOrder(spot, BUY, 6_000_001, 0, 1001)).toBe(R.OK);
    expect(acct.locked(usdt.id)).toBe(60_120_070_021);
    // fills of 333, 333 and 335 lots release the differences; nothing is left locked
    expect(pf.unlockOrder(spot, BUY, 6_000_001, 0, 333)).toBe(R.OK);
    expect(pf.unlockOrder(spot, BUY, 6_000_001, 333, 666)).toBe(R.OK);
    expect(acct.locked(usdt.id)).toBe(60_120_070_021 - pf.orderLockAmount(spot, BUY, 666, 6_000_001));
    expect(pf.unlockOrder(spot, BUY, 6_000_001, 666, 1001)).toBe(R.OK);
    expect(acct.locked(usdt.id)).toBe(0);
    // a sell locks base: 0.5 BTC is more than the account holds
    expect(pf.orderLockCurrency(spot, SELL)).toBe(btc.id);
    expect(pf.lockOrder(spot, SELL, 6_000_000, 0, 50_000)).toBe(R.INSUFFICIENT_FUNDS);
    expect(pf.lockOrder(spot, SELL, 6_000_000, 0, 50_000, true)).toBe(R.OK);
    expect(acct.free(btc.id)).toBe(-moneyFromDecimal('0.5', btc));
    expect(pf.unlockOrder(spot, SELL, 6_000_000, 0, 50_001)).toBe(R.LOCK_UNDERFLOW);
    expect(pf.unlockOrder(spot, SELL, 6_000_000, 5, 4)).toBe(R.INVALID_AMOUNT);
  });

  it('locks margin, ceil(notional / leverage), for derivative orders', () => {
    const { reg, pf, usdt } = world();
    const perp = reg.add(USDM_BTCUSDT);
    pf.register(perp, { leverage: 7 });
    // 0.001 @ 60000.1: 60.0001 USDT / 7 = 8.57144285714.. -> 8.57144286 USDT
    expect(pf.orderLockAmount(perp, BUY, 1, 600_001)).toBe(857_144_286);
    expect(pf.lockOrder(perp, SELL, 600_001, 0, 1)).toBe(R.OK);
    expect(pf.accountForVenue('BINANCE_USDM')!.locked(usdt.id)).toBe(857_144_286);
  });
});

describe('hedging mode', () => {
  it('keeps separate LONG and SHORT positions, keyed by the position side the caller passes', () => {
    const { reg, pf, usdt } = world(PositionMode.HEDGING);
    const perp = reg.add(USDM_BTCUSDT);
    const { LONG, SHORT, BOTH } = PositionSide;
    expect(pf.applyFill(perp, BUY, 10, 600_000, 0, -1, 1, LONG)).toBe(R.OK);
    expect(pf.applyFill(perp, SELL, 5, 601_000, 0, -1, 2, SHORT)).toBe(R.OK);
    const long = pf.position(perp.id, LONG)!;
    const short = pf.position(perp.id, SHORT)!;
    expect(long.qty).toBe(10);
    expect(short.qty).toBe(-5);
    expect(pf.netQty(perp.id)).toBe(5);
    // sell 0.004 on LONG @ 60200.0: realised (60200 - 60000) x 0.004 = 0.8 USDT
    expect(pf.applyFill(perp, SELL, 4, 602_000, 0, -1, 3, LONG)).toBe(R.OK);
    expect(long.lastRealised).toBe(moneyFromDecimal('0.8', usdt));
    // buy 0.005 on SHORT @ 59900.0: realised (60100 - 59900) x 0.005 = 1 USDT; short flat
    expect(pf.applyFill(perp, BUY, 5, 599_000, 0, -1, 4, SHORT)).toBe(R.OK);
    expect(short.lastRealised).toBe(moneyFromDecimal('1', usdt));
    expect(short.qty).toBe(0);
    // both sides were re-marked at the last fill, 59900.0: long 0.006 at 59900 = 359.4, cost 360 -> -0.6
    expect(long.unrealisedPnl).toBe(-moneyFromDecimal('0.6', usdt));

    const before = JSON.stringify(pf.snapshot());
    // a sell of 0.007 on a 0.006 LONG would cross zero: refused, nothing changes
    expect(pf.applyFill(perp, SELL, 7, 600_000, 0, -1, 5, LONG)).toBe(R.EXCEEDS_POSITION);
    expect(pf.applyFill(perp, BUY, 1, 600_000, 0, -1, 5, SHORT)).toBe(R.EXCEEDS_POSITION);
    expect(pf.applyFill(perp, BUY, 1, 600_000, 0, -1, 5, BOTH)).toBe(R.POSITION_SIDE_INVALID);
    expect(pf.applyFill(perp, BUY, 1, 600_000, 0, -1, 5)).toBe(R.POSITION_SIDE_INVALID);
    expect(JSON.stringify(pf.snapshot())).toBe(before);
    expect(pf.position(perp.id, BOTH)).toBeUndefined();
    expect(pf.balance(usdt.id)).toBe(moneyFromDecimal('20001.8', usdt));
  });

  it('refuses LONG/SHORT in a netting account', () => {
    const { reg, pf } = world();
    const perp = reg.add(USDM_BTCUSDT);
    expect(pf.applyFill(perp, BUY, 1, 600_000, 0, -1, 1, PositionSide.LONG)).toBe(R.POSITION_SIDE_INVALID);
  });
});

describe('bad input and setup errors', () => {
  it('rejects invalid fills with a code and changes nothing', () => {
    const { reg, pf, usdt } = world();
    const perp = reg.add(USDM_BTCUSDT);
    pf.applyFill(perp, BUY, 1, 600_000, 0, -1, 1);
    const before = JSON.stringify(pf.snapshot());
    expect(pf.applyFill(perp, 3 as OrderSide, 1, 600_000, 0, -1, 2)).toBe(R.INVALID_FILL);
    expect(pf.applyFill(perp, BUY, 0, 600_000, 0, -1, 2)).toBe(R.INVALID_FILL);
    expect(pf.applyFill(perp, BUY, 1.5, 600_000, 0, -1, 2)).toBe(R.INVALID_FILL);
    expect(pf.applyFill(perp, BUY, 1, -5, 0, -1, 2)).toBe(R.INVALID_FILL);
    expect(pf.applyFill(perp, BUY, 1, 600_000, 0.5, usdt.id, 2)).toBe(R.INVALID_FILL);
    expect(pf.applyFill(perp, BUY, 1, 600_000, 5, -1, 2)).toBe(R.INVALID_FILL);
    // 2^52 lots at 60000.0 is far beyond 2^53 units
    expect(pf.applyFill(perp, BUY, 2 ** 52, 600_000, 0, -1, 2)).toBe(R.OVERFLOW);
    expect(JSON.stringify(pf.snapshot())).toBe(before);
  });

  it('returns NO_ACCOUNT for a venue without an account, and register() explains', () => {
    const { reg, pf } = world();
    const other = reg.add({ ...USDM_BTCUSDT, venue: 'BYBIT' });
    expect(pf.applyFill(other, BUY, 1, 600_000, 0, -1, 1)).toBe(R.NO_ACCOUNT);
    expect(() => pf.register(other)).toThrow(/no account for venue BYBIT/);
  });

  it('refuses a derivative in a cash account and a spot pair in a margin account', () => {
    const { reg, pf } = world();
    const perpOnSpotVenue = reg.add({ ...USDM_BTCUSDT, venue: 'BINANCE', symbol: 'BTCUSDT_PERP' });
    expect(pf.applyFill(perpOnSpotVenue, BUY, 1, 600_000, 0, -1, 1)).toBe(R.UNSUPPORTED_INSTRUMENT);
    expect(() => pf.register(perpOnSpotVenue)).toThrow(/cannot settle in cash account/);
    const spotOnMargin = reg.add({ ...SPOT_BTCUSDT, venue: 'BINANCE_USDM', symbol: 'ETHBTC' });
    expect(() => pf.register(spotOnMargin)).toThrow(/use a CASH account/);
  });

  it('validates leverage and accounts at the edge', () => {
    const { reg, pf } = world();
    const perp = reg.add(USDM_BTCUSDT);
    expect(() => pf.register(perp, { leverage: 0 })).toThrow(/whole number from 1 to 125/);
    expect(() => pf.register(perp, { leverage: 2.5 })).toThrow(/whole number/);
    expect(() => new Portfolio({ defaultLeverage: 126 })).toThrow(/126/);
    expect(() => pf.addAccount({ venue: 'BINANCE', type: AccountType.CASH })).toThrow(/already exists/);
    expect(() => pf.setLeverage(77 as InstrumentId, 2)).toThrow(/not registered/);
    pf.register(perp, { leverage: 20 });
    expect(pf.leverage(perp.id)).toBe(20);
    expect(() => pf.register(perp, { account: 0 })).toThrow(/cannot move/);
  });
});

describe('events on the message bus', () => {
  it('publishes position and account events from reused records', () => {
    const reg = newInstrumentRegistry();
    const usdt = reg.currencies.get('USDT')!;
    const bus = new MessageBus();
    const pf = new Portfolio({ bus });
    pf.addAccount({ venue: 'BINANCE_USDM', type: AccountType.MARGIN });
    const perp = reg.add(USDM_BTCUSDT);
    const kinds: number[] = [];
    const amounts: number[] = [];
    const records = new Set<PositionEvent>();
    const accountSeen: string[] = [];
    bus.subscribe(pf.positionTopic!, (e) => {
      kinds.push(e.kind);
      amounts.push(e.amount);
      records.add(e);
      expect(e.position!.instrumentId).toBe(perp.id);
    });
    bus.subscribe(pf.accountTopic!, (e: AccountEvent) => {
      accountSeen.push(`${e.currencyId}:${e.account!.total(e.currencyId)}@${e.ts}`);
    });
    pf.applyFill(perp, BUY, 10, 600_000, 0, -1, 1);
    pf.applyFill(perp, BUY, 10, 600_000, 0, -1, 2);
    pf.applyFill(perp, SELL, 30, 610_000, 0, -1, 3);
    pf.applyFunding(perp, 10_000, 610_000, 4);
    pf.applyFill(perp, BUY, 10, 610_000, 0, -1, 5);
    const K = PositionEventKind;
    expect(kinds).toEqual([K.OPENED, K.CHANGED, K.FLIPPED, K.FUNDING, K.CLOSED]);
    // the flip realised (61000 - 60000) x 0.020 = 20 USDT; the short 0.010 received 610 x 0.0001 = 0.061
    expect(amounts).toEqual([0, 0, 2_000_000_000, -6_100_000, 0]);
    expect(records.size).toBe(1);
    expect(accountSeen).toEqual([
      `${usdt.id}:0@1`,
      `${usdt.id}:0@2`,
      `${usdt.id}:2000000000@3`,
      `${usdt.id}:2006100000@4`,
      `${usdt.id}:2006100000@5`,
    ]);
  });
});

describe('applyOrderFill', () => {
  it('takes the side from the order and the rest from the FILLED event', () => {
    const { reg, pf, usdt } = world();
    const perp = reg.add(USDM_BTCUSDT);
    const order = new Order().init(
      1 as never,
      orderRequest({ side: SELL, qty: 5 as never, instrumentId: perp.id }),
    );
    const ev = new OrderEvent()
      .init(OrderEventKind.FILLED, order.id, 2, 7 as Micros, 7 as Micros)
      .setFill(5, 600_000, 1_500_000, usdt.id, TAKER, 'T1');
    expect(pf.applyOrderFill(perp, order, ev)).toBe(R.OK);
    const pos = pf.position(perp.id)!;
    expect(pos.qty).toBe(-5);
    expect(pos.fees).toBe(1_500_000);
    expect(pos.lastTs).toBe(7);
  });
});

describe('snapshot', () => {
  it('lists balances by currency code and positions that ever traded', () => {
    const { reg, pf, usdt } = world();
    const perp = reg.add(USDM_BTCUSDT);
    reg.add(COINM_BTCUSD);
    pf.applyFill(perp, BUY, 10, 600_000, moneyFromDecimal('0.3', usdt), usdt.id, 1);
    const s = pf.snapshot();
    expect(s.accounts.map((a) => `${a.venue}:${a.type}:${a.mode}`)).toEqual([
      'BINANCE:CASH:NETTING',
      'BINANCE_USDM:MARGIN:NETTING',
      'BINANCE_COINM:MARGIN:NETTING',
    ]);
    const usdm = s.accounts[1]!.balances;
    expect(usdm).toEqual([
      {
        currency: 'USDT',
        currencyId: usdt.id,
        total: 999_970_000_000,
        locked: 60_000_000_000,
        free: 939_970_000_000,
        orderLocked: 0,
        positionMargin: 60_000_000_000,
        deposits: 1_000_000_000_000,
        realised: 0,
        fees: 30_000_000,
        funding: 0,
        unrealised: 0,
        equity: 999_970_000_000,
        grossExposure: 60_000_000_000,
        netExposure: 60_000_000_000,
      },
    ]);
    expect(s.positions).toHaveLength(1);
    expect(s.positions[0]).toMatchObject({
      symbol: 'BTCUSDT.BINANCE_USDM',
      side: 'BOTH',
      qty: 10,
      avgPx: 600_000,
    });
    expect(JSON.parse(JSON.stringify(s))).toEqual(s);
  });
});
