import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Bot4Error, ErrorCode } from '../core/errors.ts';
import type { InstrumentId, PriceTicks, QtyLots } from '../core/units.ts';
import { CurrencyKind, CurrencyRegistry, moneyFromDecimal } from './currency.ts';
import { divRoundBig, Rounding } from './decimal.ts';
import {
  FEE_RATE_DENOMINATOR,
  feeRateToDecimal,
  type Instrument,
  InstrumentKind,
  InstrumentRegistry,
  type InstrumentSpec,
  LiquiditySide,
  newInstrumentRegistry,
  parseFeeRate,
} from './instrument.ts';

const MAX = Number.MAX_SAFE_INTEGER;

const SPOT_BTCUSDT: InstrumentSpec = {
  symbol: 'BTCUSDT',
  venue: 'BINANCE',
  kind: InstrumentKind.SPOT,
  base: 'BTC',
  quote: 'USDT',
  settlement: 'USDT',
  tickSize: '0.01000000',
  lotSize: '0.00001000',
  minQty: '0.00001000',
  maxQty: '9000.00000000',
  minNotional: '10.00000000',
  makerFee: '0.001',
  takerFee: '0.001',
};

const PERP_BTCUSDT: InstrumentSpec = {
  symbol: 'BTCUSDT',
  venue: 'BINANCE_USDM',
  kind: InstrumentKind.PERPETUAL,
  base: 'BTC',
  quote: 'USDT',
  settlement: 'USDT',
  tickSize: '0.10',
  lotSize: '0.001',
  makerFee: '0.0002',
  takerFee: '0.0005',
};

const COINM_BTCUSD: InstrumentSpec = {
  symbol: 'BTCUSD_PERP',
  venue: 'BINANCE_COINM',
  kind: InstrumentKind.PERPETUAL,
  base: 'BTC',
  quote: 'USD',
  settlement: 'BTC',
  isInverse: true,
  multiplier: '100',
  tickSize: '0.1',
  lotSize: '1',
  makerFee: '0.0002',
  takerFee: '0.0005',
};

function thrown(fn: () => unknown): Bot4Error {
  try {
    fn();
  } catch (e) {
    if (e instanceof Bot4Error) return e;
    throw e;
  }
  throw new Error('expected a Bot4Error');
}

function make(spec: InstrumentSpec): Instrument {
  return newInstrumentRegistry().add(spec);
}

/**
 * An instrument whose settlement currency is booked at a coarse precision (USD in cents, JPY in yen), as a
 * venue's own registry may declare; the defaults book every currency at 8 dp, where these values are exact.
 */
function makeCoarse(spec: InstrumentSpec): Instrument {
  const c = new CurrencyRegistry();
  c.register('USD', 2, CurrencyKind.FIAT);
  c.register('JPY', 0, CurrencyKind.FIAT);
  return new InstrumentRegistry(c).add(spec);
}

const p = (n: number) => n as PriceTicks;
const q = (n: number) => n as QtyLots;

describe('Instrument conversions', () => {
  it('converts prices and quantities at the instrument grid', () => {
    const spot = make(SPOT_BTCUSDT);
    expect(spot.pricePrecision).toBe(2);
    expect(spot.sizePrecision).toBe(5);
    expect(spot.priceToTicks('61800.30')).toBe(6180030);
    expect(spot.ticksToPrice(p(6180030))).toBe('61800.3');
    expect(spot.ticksToPrice(p(6180030), true)).toBe('61800.30');
    expect(spot.qtyToLots('0.50000')).toBe(50000);
    expect(spot.lotsToQty(q(50000))).toBe('0.5');
    expect(spot.lotsToQty(q(50000), true)).toBe('0.50000');
    expect(spot.priceFromFloat(61800.3)).toBe(6180030);
    expect(spot.qtyFromFloat(0.1 + 0.2)).toBe(30000);
    expect(spot.tryPriceToTicks('61800.305')).toBeNaN();
    expect(spot.tryQtyToLots('abc')).toBeNaN();
    expect(spot.tryPriceFromFloat(61800.305)).toBeNaN();
    expect(spot.tryQtyFromFloat(0.000015)).toBeNaN();
  });

  it('names value, tick size and symbol when a price is off the grid', () => {
    const perp = make(PERP_BTCUSDT);
    expect(perp.priceToTicks('61800.30')).toBe(618003);
    const e = thrown(() => perp.priceToTicks('61800.35'));
    expect(e.code).toBe(ErrorCode.DECIMAL_INVALID);
    expect(e.message).toBe('price 61800.35 is not a multiple of tick size 0.1 (BTCUSDT)');
    expect(thrown(() => perp.qtyToLots('0.0015')).message).toBe(
      'qty 0.0015 is not a multiple of lot size 0.001 (BTCUSDT)',
    );
    expect(thrown(() => perp.priceFromFloat(61800.35)).message).toMatch(
      /^price 61800\.35 is not on the grid/,
    );
  });

  it('parses limits in lots/ticks/money and fees in 1e-8 units', () => {
    const spot = make(SPOT_BTCUSDT);
    expect(spot.minQty).toBe(1);
    expect(spot.maxQty).toBe(900_000_000);
    expect(spot.marketMaxQty).toBe(900_000_000);
    expect(spot.minNotional).toBe(1_000_000_000);
    expect(spot.makerFee).toBe(100_000);
    expect(spot.takerFee).toBe(100_000);
    expect(spot.minPrice).toBe(0);
    expect(spot.maxPrice).toBe(MAX);
    expect(parseFeeRate('0.00016875')).toBe(16_875);
    expect(parseFeeRate('-0.0001')).toBe(-10_000);
    expect(feeRateToDecimal(parseFeeRate('0.0005'))).toBe('0.0005');
    expect(() => parseFeeRate('0.000000001', 'makerFee', 'X')).toThrow(
      'makerFee 0.000000001 is not a multiple of fee-rate unit 0.00000001 (X)',
    );
  });

  it('refuses inconsistent definitions with the field named', () => {
    expect(thrown(() => make({ ...SPOT_BTCUSDT, tickSize: '0.0' })).message).toBe(
      'tick size "0.0" is not a positive decimal (BTCUSDT); expected e.g. "0.01" or "1e-8"',
    );
    expect(() => make({ ...SPOT_BTCUSDT, settlement: 'BTC' })).toThrow(/quanto contracts are not supported/);
    expect(() => make({ ...SPOT_BTCUSDT, isInverse: true })).toThrow(/spot instrument cannot be inverse/);
    expect(() => make({ ...PERP_BTCUSDT, kind: InstrumentKind.FUTURE })).toThrow(
      /dated future needs an expiry/,
    );
    expect(thrown(() => make({ ...SPOT_BTCUSDT, minNotional: '0.000000001' })).message).toBe(
      'minNotional 0.000000001 is not a multiple of USDT unit 0.00000001 (BTCUSDT)',
    );
  });
});

describe('notional (linear)', () => {
  it('is exact: 0.5 BTC at 61800.30 = 30900.15 USDT', () => {
    const spot = make(SPOT_BTCUSDT);
    const v = spot.notional(spot.priceToTicks('61800.30'), spot.qtyToLots('0.5'));
    expect(v).toBe(moneyFromDecimal('30900.15', spot.settlement));
    expect(spot.tryNotional(p(6180030), q(-50000))).toBe(-v);
    const perp = make(PERP_BTCUSDT);
    expect(perp.notional(p(618003), q(1))).toBe(moneyFromDecimal('61.8003', perp.settlement));
  });

  it('falls back to BigInt when ticks x lots x factor passes 2^53 but the value does not', () => {
    // USD at 2 dp, lot 1e-8: 100 BTC at 60000.00 -> 6e16 intermediate, 6,000,000.00 USD result.
    const inst = makeCoarse({
      symbol: 'BTCUSD',
      venue: 'TEST',
      kind: InstrumentKind.SPOT,
      base: 'BTC',
      quote: 'USD',
      settlement: 'USD',
      tickSize: '0.01',
      lotSize: '0.00000001',
    });
    const ticks = inst.priceToTicks('60000.00');
    const lots = inst.qtyToLots('100');
    expect(Number.isSafeInteger(ticks * lots)).toBe(false);
    expect(inst.notional(ticks, lots)).toBe(moneyFromDecimal('6000000.00', inst.settlement));
    // 0.00000001 BTC at 0.01 = 1e-10 USD -> rounds (HALF_EVEN) to 0 cents; 0.5 BTC at 0.01 = 0.005 USD -> 0 (tie to even).
    expect(inst.notional(p(1), q(1))).toBe(0);
    expect(inst.notional(p(1), q(50_000_000))).toBe(0);
    expect(inst.notional(p(3), q(50_000_000))).toBe(2);
  });

  it('keeps exact BigInt factors when the constant fraction itself passes 2^53', () => {
    // tick 1e-8 x lot 1e-8 in JPY (0 dp): value factor 1/1e16, not a safe double.
    const inst = makeCoarse({
      symbol: 'DUST',
      venue: 'TEST',
      kind: InstrumentKind.SPOT,
      base: 'X',
      quote: 'JPY',
      settlement: 'JPY',
      tickSize: '1e-8',
      lotSize: '1e-8',
      takerFee: '0.5',
    });
    expect(inst.notional(inst.priceToTicks('1'), inst.qtyToLots('1'))).toBe(1);
    expect(inst.notional(inst.priceToTicks('150.5'), inst.qtyToLots('2'))).toBe(301);
    expect(inst.notional(inst.priceToTicks('0.5'), inst.qtyToLots('1'))).toBe(0); // tie -> even
    expect(inst.fee(inst.priceToTicks('3'), inst.qtyToLots('1'), LiquiditySide.TAKER)).toBe(2); // 1.5 -> HALF_UP
    expect(inst.tryNotional(0.5, 1)).toBeNaN();
  });

  it('rounds ties HALF_EVEN by default, or as configured, when the settlement precision is coarse', () => {
    const spec: InstrumentSpec = {
      symbol: 'XUSD',
      venue: 'TEST',
      kind: InstrumentKind.SPOT,
      base: 'X',
      quote: 'USD',
      settlement: 'USD',
      tickSize: '0.01',
      lotSize: '0.001',
    };
    const even = makeCoarse(spec);
    expect(even.notional(p(100), q(5))).toBe(0); // 1.00 x 0.005 = 0.5 cent
    expect(even.notional(p(300), q(5))).toBe(2); // 3.00 x 0.005 = 1.5 cents
    const up = makeCoarse({ ...spec, notionalRounding: Rounding.HALF_UP });
    expect(up.notional(p(100), q(5))).toBe(1);
  });

  it('overflows beyond 2^53-1 money units with a clear error', () => {
    const spot = make(SPOT_BTCUSDT);
    // 9000 BTC at 1,000,000.00 USDT = 9e9 USDT, beyond the ~90M USDT a number holds at 8 dp.
    expect(spot.tryNotional(p(100_000_000), q(900_000_000))).toBeNaN();
    const e = thrown(() => spot.notional(p(100_000_000), q(900_000_000)));
    expect(e.code).toBe(ErrorCode.NUMERIC_OVERFLOW);
    expect(e.message).toBe(
      'notional of qty 9000 at price 1000000 (BTCUSDT) exceeds 2^53-1 USDT units (max 90071992.54740991 USDT at 8 dp); split the amount',
    );
    // The boundary itself: tick 1e-8, lot 1 -> value = ticks x lots units.
    const unit = make({
      ...SPOT_BTCUSDT,
      symbol: 'U',
      tickSize: '0.00000001',
      lotSize: '1',
      maxQty: undefined,
      minQty: undefined,
    });
    expect(unit.tryNotional(p(MAX), q(1))).toBe(MAX);
    expect(unit.tryNotional(p(2 ** 52), q(2))).toBeNaN();
    expect(unit.tryNotional(p(-MAX), q(1))).toBe(-MAX);
  });

  it('equals a BigInt reference for random instruments and amounts (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 99 }),
        fc.integer({ min: 0, max: 8 }),
        fc.integer({ min: 1, max: 99 }),
        fc.integer({ min: 0, max: 8 }),
        fc.constantFrom('USDT', 'USD', 'JPY'),
        fc.integer({ min: 0, max: 2 ** 40 }),
        fc.integer({ min: -(2 ** 40), max: 2 ** 40 }),
        fc.integer({ min: 0, max: 5 }),
        (tu, ts, lu, ls, cur, ticks, lots, mode) => {
          const inst = make({
            symbol: 'R',
            venue: 'TEST',
            kind: InstrumentKind.SPOT,
            base: 'X',
            quote: cur,
            settlement: cur,
            tickSize: `${tu}e-${ts}`,
            lotSize: `${lu}e-${ls}`,
            notionalRounding: mode as Rounding,
          });
          const prec = inst.settlement.precision;
          // value = ticks*tu*10^-ts * lots*lu*10^-ls, in units of 10^-prec
          const num = BigInt(ticks) * BigInt(tu) * BigInt(lots) * BigInt(lu) * 10n ** BigInt(prec);
          const den = 10n ** BigInt(ts + ls);
          const ref = divRoundBig(num, den, mode as Rounding);
          const got = inst.tryNotional(p(ticks), q(lots));
          if (ref > BigInt(MAX) || ref < -BigInt(MAX)) expect(got).toBeNaN();
          else expect(got).toBe(Number(ref));
        },
      ),
      { numRuns: 2000 },
    );
  });
});

describe('notional (inverse)', () => {
  const inv = make(COINM_BTCUSD);

  it('values contracts x multiplier / price in base currency, rounded HALF_EVEN at 8 dp', () => {
    expect(inv.isInverse).toBe(true);
    expect(inv.settlement.code).toBe('BTC');
    // 1 contract = 100 USD at 60000.3 = 0.00166665833... BTC -> 166666 sat
    expect(inv.notional(inv.priceToTicks('60000.3'), q(1))).toBe(166_666);
    // Exact ties: 100/409.6 = 0.244140625 BTC = 24414062.5 sat -> 24414062 (even); x3 = 73242187.5 -> 73242188
    expect(inv.notional(inv.priceToTicks('409.6'), q(1))).toBe(24_414_062);
    expect(inv.notional(inv.priceToTicks('409.6'), q(3))).toBe(73_242_188);
    expect(inv.notional(inv.priceToTicks('409.6'), q(-1))).toBe(-24_414_062);
  });

  it('uses BigInt for large positions and reports bad prices', () => {
    // 100,000 contracts: 1e16 intermediate.
    const v = inv.notional(p(600003), q(100_000));
    expect(v).toBe(Number(divRoundBig(10n ** 16n, 600003n, Rounding.HALF_EVEN)));
    expect(v).toBe(16_666_583_334);
    expect(inv.tryNotional(p(0), q(1))).toBeNaN();
    expect(thrown(() => inv.notional(p(0), q(1))).message).toBe(
      'notional of 1 BTCUSD_PERP at price 0: an inverse contract needs a positive price',
    );
  });

  it('equals a BigInt reference (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 2 ** 40 }),
        fc.integer({ min: -(2 ** 40), max: 2 ** 40 }),
        (ticks, lots) => {
          // lots x 100 USD / (ticks x 0.1) BTC = lots x 1000 / ticks BTC -> x 1e8 sat
          const ref = divRoundBig(BigInt(lots) * 100_000_000_000n, BigInt(ticks), Rounding.HALF_EVEN);
          const got = inv.tryNotional(p(ticks), q(lots));
          if (ref > BigInt(MAX) || ref < -BigInt(MAX)) expect(got).toBeNaN();
          else expect(got).toBe(Number(ref));
        },
      ),
      { numRuns: 2000 },
    );
  });
});

describe('fees', () => {
  it('charges rate x exact notional, rounded HALF_UP by default', () => {
    const spot = make(SPOT_BTCUSDT);
    // 0.5 BTC at 61800.30, 0.1% = 30.90015 USDT
    expect(spot.fee(p(6180030), q(50000), LiquiditySide.TAKER)).toBe(
      moneyFromDecimal('30.90015', spot.settlement),
    );
    // 0.00001 BTC at 61800.50 = 0.618005 USDT; 0.1% = 0.000618005 = 61800.5 units: a tie
    expect(spot.fee(p(6180050), q(1), LiquiditySide.MAKER)).toBe(61_801);
    const even = make({ ...SPOT_BTCUSDT, feeRounding: Rounding.HALF_EVEN });
    expect(even.fee(p(6180050), q(1), LiquiditySide.MAKER)).toBe(61_800);
    const down = make({ ...SPOT_BTCUSDT, feeRounding: Rounding.DOWN });
    expect(down.fee(p(6180059), q(1), LiquiditySide.MAKER)).toBe(61_800);
  });

  it('distinguishes maker and taker, rebates are negative, liquidity NONE is taker', () => {
    const perp = make({ ...PERP_BTCUSDT, makerFee: '-0.0001' });
    const ticks = p(618003);
    const lots = q(1000); // 1 BTC at 61800.3
    expect(perp.fee(ticks, lots, LiquiditySide.TAKER)).toBe(moneyFromDecimal('30.90015', perp.settlement));
    expect(perp.fee(ticks, lots, LiquiditySide.MAKER)).toBe(moneyFromDecimal('-6.18003', perp.settlement));
    expect(perp.fee(ticks, lots, LiquiditySide.NONE)).toBe(perp.fee(ticks, lots, LiquiditySide.TAKER));
    expect(perp.feeRate(LiquiditySide.MAKER)).toBe(-10_000);
    const free = make({ ...PERP_BTCUSDT, makerFee: '0' });
    expect(free.fee(ticks, lots, LiquiditySide.MAKER)).toBe(0);
  });

  it('rounds once, from the exact notional rather than the rounded one', () => {
    const inst = makeCoarse({
      symbol: 'XUSD',
      venue: 'TEST',
      kind: InstrumentKind.SPOT,
      base: 'X',
      quote: 'USD',
      settlement: 'USD',
      tickSize: '0.01',
      lotSize: '0.001',
      takerFee: '0.2',
    });
    // 5.00 x 0.005 = 2.5 cents (notional rounds to 2); 20% of 2.5 = 0.5 -> 1 cent, not 20% of 2 = 0.4 -> 0
    expect(inst.notional(p(500), q(5))).toBe(2);
    expect(inst.fee(p(500), q(5), LiquiditySide.TAKER)).toBe(1);
  });

  it('inverse fees are in base currency', () => {
    const inv = make(COINM_BTCUSD);
    // 166665.8333 sat x 0.05% = 83.33 sat -> 83
    expect(inv.fee(p(600003), q(1), LiquiditySide.TAKER)).toBe(83);
    expect(inv.tryFee(p(0), q(1), LiquiditySide.TAKER)).toBeNaN();
  });

  it('equals a BigInt reference for random fills and rates (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: -200_000, max: 1_000_000 }),
        fc.integer({ min: 1, max: 2 ** 36 }),
        fc.integer({ min: -(2 ** 36), max: 2 ** 36 }),
        (rate, ticks, lots) => {
          const inst = make({ ...SPOT_BTCUSDT, takerFee: `${rate}e-8` });
          // notional units = ticks x lots x 10 (8 - 2 - 5 = 1); fee = that x rate / 1e8
          const ref = divRoundBig(
            BigInt(ticks) * BigInt(lots) * 10n * BigInt(rate),
            BigInt(FEE_RATE_DENOMINATOR),
            Rounding.HALF_UP,
          );
          const got = inst.tryFee(p(ticks), q(lots), LiquiditySide.TAKER);
          if (ref > BigInt(MAX) || ref < -BigInt(MAX)) expect(got).toBeNaN();
          else expect(got).toBe(Number(ref));
        },
      ),
      { numRuns: 2000 },
    );
  });
});

describe('InstrumentRegistry', () => {
  it('interns symbol+venue to dense ids with O(1) lookup by id', () => {
    const reg = newInstrumentRegistry();
    const a = reg.add(SPOT_BTCUSDT);
    const b = reg.add(PERP_BTCUSDT);
    const c = reg.add(COINM_BTCUSD);
    expect([a.id, b.id, c.id]).toEqual([0, 1, 2]);
    expect(reg.get(1 as InstrumentId)).toBe(b);
    expect(reg.get(7 as InstrumentId)).toBeUndefined();
    expect(reg.find('BTCUSDT', 'BINANCE')).toBe(a);
    expect(reg.find('BTCUSDT', 'BINANCE_USDM')).toBe(b);
    expect(reg.idOf('BTCUSD_PERP', 'BINANCE_COINM')).toBe(2);
    expect(a.key).toBe('BTCUSDT.BINANCE');
    expect(reg.venueName(a.venueId)).toBe('BINANCE');
    expect(a.venueId).not.toBe(b.venueId);
    expect(reg.venueId('BINANCE')).toBe(a.venueId);
    expect(reg.size).toBe(3);
    expect(reg.all().map((i) => i.key)).toEqual([
      'BTCUSDT.BINANCE',
      'BTCUSDT.BINANCE_USDM',
      'BTCUSD_PERP.BINANCE_COINM',
    ]);
  });

  it('returns the same instrument for the same definition and refuses a different one', () => {
    const reg = newInstrumentRegistry();
    const a = reg.add(SPOT_BTCUSDT);
    expect(reg.add({ ...SPOT_BTCUSDT })).toBe(a);
    const e = thrown(() => reg.add({ ...SPOT_BTCUSDT, tickSize: '0.1' }));
    expect(e.message).toBe(
      'instrument BTCUSDT.BINANCE is already registered with a different definition; call replace() to update venue metadata',
    );
    const r = reg.replace({ ...SPOT_BTCUSDT, tickSize: '0.1' });
    expect(r.id).toBe(a.id);
    expect(reg.get(a.id)).toBe(r);
    expect(r.tickSize.text).toBe('0.1');
  });

  it('reports unknown instruments at the edge', () => {
    const reg = newInstrumentRegistry();
    const e = thrown(() => reg.idOf('NOPE', 'BINANCE'));
    expect(e.code).toBe(ErrorCode.NOT_FOUND);
    expect(e.message).toBe("instrument NOPE.BINANCE is not registered; load the venue's instruments first");
    expect(() => reg.require(3 as InstrumentId)).toThrow(/instrument id 3 is not registered/);
    expect(() => reg.venueId('BAD VENUE')).toThrow(/venue name/);
  });
});
