import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InstrumentKind, newInstrumentRegistry } from '../model/instrument.ts';
import {
  atrRiskLots,
  fixedFractionLots,
  fixedQtyLots,
  kellyContinuous,
  kellyFraction,
  lotsForNotional,
  realisedVolatility,
  riskContributions,
  riskParityWeights,
  roundLots,
  volTargetLots,
} from './sizing.ts';

const U = 100_000_000;
const registry = newInstrumentRegistry();
const btc = registry.add({
  symbol: 'BTCUSDT',
  venue: 'SIM',
  kind: InstrumentKind.PERPETUAL,
  base: 'BTC',
  quote: 'USDT',
  settlement: 'USDT',
  tickSize: '0.1',
  lotSize: '0.001',
  minQty: '0.002',
  maxQty: '1',
  marketMaxQty: '0.5',
});
const PX = 500_000; // 50,000.0: a lot is worth 50 USDT

describe('sizing', () => {
  it('rounds down onto the lot grid, 0 below the minimum, capped at the maximum', () => {
    expect(roundLots(btc, 1.999)).toBe(0);
    expect(roundLots(btc, 2)).toBe(2);
    expect(roundLots(btc, 2.7)).toBe(2);
    expect(roundLots(btc, 1000)).toBe(1000);
    expect(roundLots(btc, 1001)).toBe(1000);
    expect(roundLots(btc, 1001, true)).toBe(500);
    expect(fixedQtyLots(btc, 0.3)).toBe(300);
    expect(fixedQtyLots(btc, 0.0015)).toBe(0);
  });

  it('the most lots within a notional budget, exactly at the boundary', () => {
    expect(lotsForNotional(btc, PX, 10_000 * U)).toBe(200);
    expect(lotsForNotional(btc, PX, 10_000 * U - 1)).toBe(199);
    expect(fixedFractionLots(btc, PX, 100_000 * U, 0.1)).toBe(200);
  });

  it('ATR risk sizing: risks the fraction of equity over atr x multiple', () => {
    // 1% of 100,000 USDT = 1,000; stop 2 x 1,000 ticks = 200 USDT per BTC = 0.2 USDT per lot -> 5,000 lots,
    // capped at the 1,000-lot maximum; with 0.1% risk, 500 lots.
    expect(atrRiskLots(btc, PX, 100_000 * U, 0.01, 1_000, 2)).toBe(1000);
    expect(atrRiskLots(btc, PX, 100_000 * U, 0.001, 1_000, 2)).toBe(500);
    expect(atrRiskLots(btc, PX, 100_000 * U, 0.001, 0, 2)).toBe(0);
  });

  it('volatility targeting, capped by leverage', () => {
    // 20% target / 80% realised: a quarter of equity, 25,000 USDT = 500 lots.
    expect(volTargetLots(btc, PX, 100_000 * U, 0.2, 0.8)).toBe(500);
    expect(volTargetLots(btc, PX, 10_000 * U, 0.8, 0.2, 1)).toBe(200);
    expect(volTargetLots(btc, PX, 10_000 * U, 0.8, 0)).toBe(0);
    expect(realisedVolatility([0.01, -0.01, 0.01, -0.01])).toBeCloseTo(Math.sqrt(4e-4 / 3), 15);
    expect(realisedVolatility([0.01, -0.01, 0.01, -0.01], 365)).toBeCloseTo(Math.sqrt((4e-4 / 3) * 365), 15);
  });

  it('fractional Kelly', () => {
    expect(kellyFraction(0.6, 1, 0.5)).toBeCloseTo(0.1, 15);
    expect(kellyFraction(0.4, 1)).toBe(0);
    expect(kellyFraction(0.5, 2, 1)).toBeCloseTo(0.25, 15);
    expect(kellyContinuous(0.001, 0.0004, 0.5)).toBeCloseTo(1.25, 12);
  });

  it('risk parity: inverse volatility for uncorrelated assets', () => {
    const c = [0.04, 0, 0, 0, 0.01, 0, 0, 0, 0.0025];
    const w = riskParityWeights(c, 3);
    const inv = [1 / 0.2, 1 / 0.1, 1 / 0.05];
    const s = inv[0]! + inv[1]! + inv[2]!;
    for (let i = 0; i < 3; i++) expect(w[i]).toBeCloseTo(inv[i]! / s, 12);
    expect(() => riskParityWeights([0, 0, 0, 1], 2)).toThrow(/asset 0 has 0/);
  });

  it('risk parity: equal risk contributions for random covariance matrices', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 8 }),
        fc.array(fc.double({ min: -1, max: 1, noNaN: true }), { minLength: 64, maxLength: 64 }),
        (n, raw) => {
          // C = A A' + eps I is symmetric positive definite.
          const c = new Float64Array(n * n);
          for (let i = 0; i < n; i++) {
            for (let j = 0; j < n; j++) {
              let s = i === j ? 0.01 : 0;
              for (let k = 0; k < n; k++) s += raw[i * n + k]! * raw[j * n + k]!;
              c[i * n + j] = s;
            }
          }
          const w = riskParityWeights(c, n);
          expect(w.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
          for (const x of w) expect(x).toBeGreaterThan(0);
          const rc = riskContributions(c, n, w);
          const mean = rc.reduce((a, b) => a + b, 0) / n;
          for (const x of rc) expect(Math.abs(x - mean) / mean).toBeLessThan(1e-8);
        },
      ),
      { numRuns: 200 },
    );
  });
});
