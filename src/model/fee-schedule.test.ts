// Fee rates from text, Binance presets, the precedence of config entries, and the registry applying them.
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../core/config.ts';
import { type Bot4Error, ErrorCode } from '../core/errors.ts';
import {
  FEE_PRESETS,
  FeeSchedules,
  formatRatePct,
  parseFeeOption,
  parseRate,
  runFeeSchedules,
} from './fee-schedule.ts';
import { InstrumentKind, LiquiditySide, newInstrumentRegistry } from './instrument.ts';

function errorOf(f: () => unknown): Bot4Error {
  try {
    f();
  } catch (e) {
    return e as Bot4Error;
  }
  throw new Error('expected an error');
}

describe('parseRate', () => {
  it('reads percent, basis points and fractions exactly (1e-8 units)', () => {
    expect(parseRate('0.02%', 'x')).toBe(20_000);
    expect(parseRate('2bps', 'x')).toBe(20_000);
    expect(parseRate('2 bp', 'x')).toBe(20_000);
    expect(parseRate('0.0002', 'x')).toBe(20_000);
    expect(parseRate(0.0002, 'x')).toBe(20_000);
    expect(parseRate('.05%', 'x')).toBe(50_000);
    expect(parseRate('0.1%', 'x')).toBe(100_000);
    expect(parseRate('1.5bps', 'x')).toBe(15_000);
    expect(parseRate('-0.01%', 'x')).toBe(-10_000);
    expect(parseRate('0.000001%', 'x')).toBe(1);
    expect(parseRate('12.5%', 'x')).toBe(12_500_000);
  });

  it('refuses anything else, naming the value', () => {
    for (const bad of ['2x', '%', '', '0.02%%', 'abc', '1e-4', '0.0000001%']) {
      const e = errorOf(() => parseRate(bad, '--fee maker'));
      expect(e.code).toBe(ErrorCode.INVALID_ARGUMENT);
      expect(e.message).toContain(`'${bad}'`);
      expect(e.message).toContain('--fee maker');
    }
  });

  it('formats rates as percent without float noise', () => {
    expect(formatRatePct(20_000)).toBe('0.02%');
    expect(formatRatePct(75_000)).toBe('0.075%');
    expect(formatRatePct(0)).toBe('0%');
    expect(formatRatePct(-10_000)).toBe('-0.01%');
    expect(formatRatePct(12_500_000)).toBe('12.5%');
  });
});

describe('presets', () => {
  it("match Binance's published regular tiers (percent), with the BNB discounts", () => {
    const pct = (name: string) => {
      const p = FEE_PRESETS.get(name)!;
      return [formatRatePct(p.maker), formatRatePct(p.taker)];
    };
    expect(pct('binance-spot-vip0')).toEqual(['0.1%', '0.1%']);
    expect(pct('binance-spot-vip0-bnb')).toEqual(['0.075%', '0.075%']);
    expect(pct('binance-spot-vip3')).toEqual(['0.042%', '0.06%']);
    expect(pct('binance-spot-vip9')).toEqual(['0.012%', '0.024%']);
    expect(pct('binance-spot-vip9-bnb')).toEqual(['0.009%', '0.018%']);
    expect(pct('binance-usdm-vip0')).toEqual(['0.02%', '0.05%']);
    expect(pct('binance-usdm-vip0-bnb')).toEqual(['0.018%', '0.045%']);
    expect(pct('binance-usdm-vip9')).toEqual(['0%', '0.017%']);
    // 1 + 2 x 10 x 2 presets, each an exact 1e-8 count (the BNB factor never leaves a fraction)
    expect(FEE_PRESETS.size).toBe(41);
    for (const p of FEE_PRESETS.values()) {
      expect(Number.isInteger(p.maker) && Number.isInteger(p.taker)).toBe(true);
    }
  });
});

describe('--fee', () => {
  it('takes maker=,taker= or a preset', () => {
    expect(parseFeeOption('maker=0.02%,taker=0.05%')).toEqual({
      maker: 20_000,
      taker: 50_000,
      source: '--fee',
    });
    expect(parseFeeOption('taker=5bps, maker=0.0002')).toEqual({
      maker: 20_000,
      taker: 50_000,
      source: '--fee',
    });
    expect(parseFeeOption('binance-usdm-vip0-bnb')).toMatchObject({ maker: 18_000, taker: 45_000 });
  });

  it('refuses a missing side, an unknown key or preset, naming it', () => {
    expect(errorOf(() => parseFeeOption('maker=0.02%')).message).toContain('give both maker= and taker=');
    expect(errorOf(() => parseFeeOption('maker=0.02%,takr=1%')).message).toContain("'takr=1%'");
    expect(errorOf(() => parseFeeOption('maker=0.02%,taker=1%,maker=2%')).message).toContain("'maker=2%'");
    expect(errorOf(() => parseFeeOption('maker=0.02%,taker=abc')).message).toContain("'abc'");
    expect(errorOf(() => parseFeeOption('vip0')).message).toContain("unknown fee preset 'vip0'");
  });
});

describe('schedules from the config', () => {
  const config = parseConfig({
    fees: {
      default: { preset: 'binance-spot-vip0' },
      venues: { BINANCE_USDM: { maker: '0.02%', taker: '0.05%' } },
      instruments: {
        'ETHUSDT.BINANCE_USDM': { preset: 'binance-usdm-vip1', taker: '3bps' },
        SOLUSDT: { maker: 0, taker: 0 },
      },
    },
  });

  it('resolves the most specific entry: instrument key, symbol, venue, default', () => {
    const s = FeeSchedules.fromConfig(config.fees);
    expect(s.resolve('ETHUSDT', 'BINANCE_USDM')).toMatchObject({ maker: 16_000, taker: 30_000 });
    expect(s.resolve('ETHUSDT', 'BINANCE_USDM')?.source).toBe(
      'binance-usdm-vip1 via fees.instruments.ETHUSDT.BINANCE_USDM',
    );
    expect(s.resolve('SOLUSDT', 'BINANCE')).toMatchObject({
      maker: 0,
      taker: 0,
      source: 'fees.instruments.SOLUSDT',
    });
    expect(s.resolve('BTCUSDT', 'BINANCE_USDM')).toMatchObject({ maker: 20_000, taker: 50_000 });
    expect(s.resolve('BTCUSDT', 'BINANCE')).toMatchObject({ maker: 100_000, taker: 100_000 });
    // --fee replaces the whole schedule
    expect(
      runFeeSchedules(config.fees, 'maker=1bps,taker=2bps')?.resolve('SOLUSDT', 'BINANCE'),
    ).toMatchObject({
      maker: 10_000,
      taker: 20_000,
    });
    expect(runFeeSchedules(parseConfig({}).fees, undefined)).toBeUndefined();
  });

  it('names an unknown key, a half entry and a bad preset', () => {
    const unknown = errorOf(() => parseConfig({ fees: { default: { maker: '1%', takr: '1%' } } }));
    expect(unknown.code).toBe(ErrorCode.CONFIG_UNKNOWN_KEY);
    expect(unknown.message).toContain("'fees.default.takr'");
    const half = errorOf(() => parseConfig({ fees: { venues: { X: { maker: '1%' } } } }));
    expect(half.code).toBe(ErrorCode.CONFIG_INVALID);
    expect(half.message).toContain("'fees.venues.X'");
    const preset = errorOf(() =>
      FeeSchedules.fromConfig(parseConfig({ fees: { venues: { X: { preset: 'vip0' } } } }).fees),
    );
    expect(preset.message).toContain("fees.venues.X.preset: unknown fee preset 'vip0'");
    const rate = errorOf(() =>
      FeeSchedules.fromConfig(parseConfig({ fees: { default: { maker: '1%', taker: 'lots' } } }).fees),
    );
    expect(rate.message).toContain("fees.default.taker: 'lots' is not a fee rate");
  });
});

describe('InstrumentRegistry.fees', () => {
  it('gives instruments added afterwards the scheduled rates in place of their own, and charges them', () => {
    const reg = newInstrumentRegistry();
    reg.fees = FeeSchedules.uniform(parseFeeOption('maker=0.02%,taker=0.05%'));
    const inst = reg.add({
      symbol: 'BTC-PERP',
      venue: 'FTX',
      kind: InstrumentKind.PERPETUAL,
      base: 'BTC',
      quote: 'USD',
      settlement: 'USD',
      tickSize: '0.1',
      lotSize: '0.000001',
      takerFee: '0.001',
    });
    expect([inst.makerFee, inst.takerFee, inst.feeSource]).toEqual([20_000, 50_000, '--fee']);
    // 46475.0 x 0.5 = 23237.50 USD; x 0.05% = 11.61875 USD; x 0.02% = 4.6475 USD (1e-8 units)
    const px = inst.priceToTicks('46475.0');
    const qty = inst.qtyToLots('0.5');
    expect(inst.fee(px, qty, LiquiditySide.TAKER)).toBe(1_161_875_000);
    expect(inst.fee(px, qty, LiquiditySide.MAKER)).toBe(464_750_000);
    // adding the same file's instrument again is the same instrument
    expect(reg.add({ ...inst.spec, makerFee: undefined, takerFee: '0.001', feeSource: undefined })).toBe(
      inst,
    );
  });
});
