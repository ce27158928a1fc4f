// Statistics against figures worked out by hand (the arithmetic is in the comments), and the edge cases:
// no trades, flat equity (Sharpe null), a single sample, an empty curve, a drawdown never recovered.
import { describe, expect, it } from 'vitest';
import type { Trade } from './recorder.ts';
import {
  type BacktestStats,
  computeStats,
  drawdownSeries,
  exposedMicros,
  MICROS_PER_DAY,
  MICROS_PER_YEAR,
  periodReturns,
  type StatsInput,
} from './stats.ts';

const DAY = MICROS_PER_DAY;
const USDT = { code: 'USDT', precision: 2 };

function input(equity: number[], over: Partial<StatsInput> = {}): StatsInput {
  return {
    currency: USDT,
    ts: equity.map((_, i) => i * DAY),
    equity,
    intervalMicros: DAY,
    trades: [],
    fees: 0,
    funding: 0,
    tradedNotional: 0,
    orders: 0,
    fills: 0,
    ...over,
  };
}

function trade(netPnl: number, entryDay: number, exitDay: number | null): Trade {
  const open = exitDay === null;
  return {
    id: 0,
    slot: 0,
    instrumentId: 0,
    positionSide: 0,
    direction: 1,
    open,
    entryTs: entryDay * DAY,
    exitTs: open ? null : exitDay * DAY,
    entryPx: 100,
    exitPx: open ? null : 100,
    qty: 1,
    exitQty: open ? 0 : 1,
    maxQty: 1,
    entryValue: 1000,
    exitValue: 1000,
    grossPnl: netPnl,
    fees: 0,
    funding: 0,
    netPnl,
    returnFraction: netPnl / 1000,
    fills: 2,
    durationMicros: open ? null : (exitDay - entryDay) * DAY,
    bars: null,
  };
}

describe('computeStats on equity 1000, 1100, 990, 1089 sampled daily', () => {
  // Returns: 1100/1000 - 1 = 0.1; 990/1100 - 1 = -0.1; 1089/990 - 1 = 0.1. Mean = 0.1/3 = 1/30.
  // Deviations 1/15, -2/15, 1/15; squares sum to (1 + 4 + 1)/225 = 6/225 = 2/75; sample variance /2 = 1/75.
  // Periods per year: 365 (daily). Volatility = sqrt(1/75) x sqrt(365) = sqrt(365/75) = 2.2060522...
  // Sharpe = (1/30) / sqrt(1/75) x sqrt(365) = sqrt(75 x 365) / 30 = sqrt(27375) / 30 = 165.4539.../30 = 5.51513070...
  // Downside: only -0.1 is below 0: sqrt(0.01 / 3) = sqrt(1/300); Sortino = (1/30) x sqrt(300) x sqrt(365)
  //   = sqrt(109500) / 30 = 330.9078.../30 = 11.03026140...
  // Total return 1089/1000 - 1 = 0.089 over 3 days: CAGR = 1.089^(365/3) - 1 = 31992.27... (a 3-day run).
  // Drawdown: peak 1100 (day 1) to 990 (day 2) = 110 = 10%; never back to 1100, so it lasts from day 1 to the
  // end (day 3): 2 days. Calmar = CAGR / 0.1.
  const s = computeStats(input([1000, 1100, 990, 1089]));

  it('returns and risk ratios', () => {
    expect(s.periodsPerYear).toBe(365);
    expect(s.totalReturn).toBeCloseTo(0.089, 14);
    expect(s.netProfit).toBe(89);
    expect(s.volatility).toBeCloseTo(2.2060522810365, 10);
    expect(s.sharpe).toBeCloseTo(5.5151307026, 9);
    expect(s.sortino).toBeCloseTo(11.0302614052, 9);
    expect(s.cagr).toBeCloseTo(1.089 ** (365 / 3) - 1, 6);
    expect(s.calmar).toBeCloseTo((1.089 ** (365 / 3) - 1) / 0.1, 4);
  });

  it('drawdown, never recovered', () => {
    expect(s.maxDrawdown).toBeCloseTo(0.1, 15);
    expect(s.maxDrawdownMoney).toBe(110);
    expect(s.maxDrawdownPeakTs).toBe(1 * DAY);
    expect(s.maxDrawdownTroughTs).toBe(2 * DAY);
    expect(s.maxDrawdownRecoveryTs).toBeNull();
    expect(s.maxDrawdownDurationMicros).toBe(2 * DAY);
    expect(s.longestDrawdownMicros).toBe(2 * DAY);
  });

  it('a risk-free rate is taken per period, compounded: (1 + rf)^(1/365) - 1', () => {
    const rf = 0.05;
    const rfp = 1.05 ** (1 / 365) - 1; // 0.000133681...
    const r = computeStats(input([1000, 1100, 990, 1089]), { riskFreeRate: rf });
    expect(r.sharpe).toBeCloseTo(((1 / 30 - rfp) / Math.sqrt(1 / 75)) * Math.sqrt(365), 10);
    // Downside now counts r - rfp < 0: only -0.1 - rfp.
    const dd = Math.sqrt((-0.1 - rfp) ** 2 / 3);
    expect(r.sortino).toBeCloseTo(((1 / 30 - rfp) / dd) * Math.sqrt(365), 10);
    expect(r.riskFreeRate).toBe(0.05);
  });
});

describe('drawdowns', () => {
  // 1000, 900, 950, 1000, 1200, 1020, 1100 daily.
  // Episode 1: peak 1000 (day 0), trough 900 (day 1, 10%, 100), back to 1000 on day 3: 3 days.
  // Episode 2: peak 1200 (day 4), trough 1020 (day 5, 180/1200 = 15%, 180), not recovered by day 6: 2 days.
  const s = computeStats(input([1000, 900, 950, 1000, 1200, 1020, 1100]));

  it('max drawdown is the deeper episode; the longest is the other one', () => {
    expect(s.maxDrawdown).toBeCloseTo(0.15, 15);
    expect(s.maxDrawdownMoney).toBe(180);
    expect(s.maxDrawdownPeakTs).toBe(4 * DAY);
    expect(s.maxDrawdownTroughTs).toBe(5 * DAY);
    expect(s.maxDrawdownRecoveryTs).toBeNull();
    expect(s.maxDrawdownDurationMicros).toBe(2 * DAY);
    expect(s.longestDrawdownMicros).toBe(3 * DAY);
  });

  it('a recovered max drawdown lasts from its peak to the first sample back at the peak', () => {
    // 1000, 800 (20%), 900, 1000 (recovered day 3), 1100, 1050 (4.5%).
    const r = computeStats(input([1000, 800, 900, 1000, 1100, 1050]));
    expect(r.maxDrawdown).toBeCloseTo(0.2, 15);
    expect(r.maxDrawdownPeakTs).toBe(0);
    expect(r.maxDrawdownTroughTs).toBe(1 * DAY);
    expect(r.maxDrawdownRecoveryTs).toBe(3 * DAY);
    expect(r.maxDrawdownDurationMicros).toBe(3 * DAY);
    expect(r.longestDrawdownMicros).toBe(3 * DAY);
  });

  it('drawdownSeries and periodReturns', () => {
    expect(Array.from(drawdownSeries([100, 80, 120, 90]))).toEqual([0, 0.2, 0, 0.25]);
    expect(Array.from(periodReturns([100, 80, 120]))).toEqual([80 / 100 - 1, 120 / 80 - 1]);
    // After ruin there is nothing to return on: 0, not Infinity.
    expect(Array.from(periodReturns([100, 0, 50]))).toEqual([-1, 0]);
  });
});

describe('trade statistics', () => {
  // Closed nets +300, -100, +50, 0, -200 and one open trade (+999, ignored).
  // Wins 2, losses 2, closed 5: win rate 2/5 = 0.4. Gross profit 350, gross loss -300; profit factor
  // 350/300 = 1.1666...; expectancy (350 - 300)/5 = 10; average win 175, average loss -150.
  // Run 0..10 days; intervals [1,3), [2,4), [6,7), [3,3) (empty), [5,8) and the open one from day 9 to the end:
  // union [1,4) + [5,8) + [9,10) = 3 + 3 + 1 = 7 days of 10 = 0.7.
  const trades = [
    trade(300, 1, 3),
    trade(-100, 2, 4),
    trade(50, 6, 7),
    trade(0, 3, 3),
    trade(-200, 5, 8),
    trade(999, 9, null),
  ];
  const eq = Array.from({ length: 11 }, () => 1000);
  const s = computeStats(
    input(eq, { trades, tradedNotional: 5000, fees: 12, funding: -3, orders: 9, fills: 11 }),
  );

  it('counts, rates and averages over closed trades', () => {
    expect(s.trades).toBe(5);
    expect(s.openTrades).toBe(1);
    expect(s.wins).toBe(2);
    expect(s.losses).toBe(2);
    expect(s.winRate).toBe(0.4);
    expect(s.grossProfit).toBe(350);
    expect(s.grossLoss).toBe(-300);
    expect(s.profitFactor).toBeCloseTo(350 / 300, 15);
    expect(s.expectancy).toBe(10);
    expect(s.avgWin).toBe(175);
    expect(s.avgLoss).toBe(-150);
    expect(s.largestWin).toBe(300);
    expect(s.largestLoss).toBe(-200);
    // Durations 2 + 2 + 1 + 0 + 3 = 8 days over 5 trades.
    expect(s.avgTradeDurationMicros).toBe((8 / 5) * DAY);
  });

  it('exposure, turnover and the run totals', () => {
    expect(s.exposureTime).toBeCloseTo(0.7, 15);
    expect(exposedMicros(trades, 0, 10 * DAY)).toBe(7 * DAY);
    // Turnover: 5000 traded / mean equity 1000 = 5.
    expect(s.turnover).toBe(5);
    expect(s.fees).toBe(12);
    expect(s.funding).toBe(-3);
    expect(s.orders).toBe(9);
    expect(s.fills).toBe(11);
  });

  it('no losing trade: profit factor is null (not Infinity)', () => {
    const r = computeStats(input([1000, 1010], { trades: [trade(10, 0, 1)] }));
    expect(r.profitFactor).toBeNull();
    expect(r.winRate).toBe(1);
    expect(r.avgLoss).toBeNull();
    expect(r.largestLoss).toBeNull();
    expect(r.exposureTime).toBe(1);
  });
});

describe('edge cases', () => {
  function nulls(s: BacktestStats): Record<string, unknown> {
    return {
      winRate: s.winRate,
      profitFactor: s.profitFactor,
      expectancy: s.expectancy,
      avgWin: s.avgWin,
      avgLoss: s.avgLoss,
      largestWin: s.largestWin,
      largestLoss: s.largestLoss,
      avgTradeDurationMicros: s.avgTradeDurationMicros,
    };
  }
  const allNull = {
    winRate: null,
    profitFactor: null,
    expectancy: null,
    avgWin: null,
    avgLoss: null,
    largestWin: null,
    largestLoss: null,
    avgTradeDurationMicros: null,
  };

  it('flat equity, no trades: Sharpe and Sortino are null (no variance), volatility 0, no drawdown', () => {
    const s = computeStats(input([1000, 1000, 1000]));
    expect(s.sharpe).toBeNull();
    expect(s.sortino).toBeNull();
    expect(s.calmar).toBeNull();
    expect(s.volatility).toBe(0);
    expect(s.totalReturn).toBe(0);
    expect(s.cagr).toBe(0);
    expect(s.maxDrawdown).toBe(0);
    expect(s.maxDrawdownPeakTs).toBeNull();
    expect(s.maxDrawdownDurationMicros).toBe(0);
    expect(s.trades).toBe(0);
    expect(s.exposureTime).toBe(0);
    expect(s.turnover).toBe(0);
    expect(nulls(s)).toEqual(allNull);
  });

  it('a single sample: no returns, no duration', () => {
    const s = computeStats(input([1000]));
    expect(s.samples).toBe(1);
    expect(s.durationMicros).toBe(0);
    expect(s.totalReturn).toBe(0);
    expect(s.cagr).toBeNull();
    expect(s.volatility).toBeNull();
    expect(s.sharpe).toBeNull();
    expect(s.sortino).toBeNull();
    expect(s.exposureTime).toBe(0);
  });

  it('two samples: one return has no sample deviation (Sharpe null) but a downside one', () => {
    // 1000 -> 900: r = -0.1; downside sqrt(0.01/1) = 0.1; Sortino = -0.1/0.1 x sqrt(365) = -sqrt(365).
    const s = computeStats(input([1000, 900]));
    expect(s.sharpe).toBeNull();
    expect(s.volatility).toBeNull();
    expect(s.sortino).toBeCloseTo(-Math.sqrt(365), 12);
    // CAGR over one day: 0.9^365 - 1.
    expect(s.cagr).toBeCloseTo(0.9 ** 365 - 1, 15);
  });

  it('an empty curve', () => {
    const s = computeStats(input([]));
    expect(s.samples).toBe(0);
    expect(s.totalReturn).toBeNull();
    expect(s.cagr).toBeNull();
    expect(s.sharpe).toBeNull();
    expect(s.maxDrawdown).toBe(0);
    expect(s.turnover).toBeNull();
  });

  it('equity wiped out: CAGR -1, returns after ruin are 0', () => {
    const s = computeStats(input([1000, 0, 0]));
    expect(s.totalReturn).toBe(-1);
    expect(s.cagr).toBe(-1);
    expect(s.maxDrawdown).toBe(1);
    expect(s.maxDrawdownMoney).toBe(1000);
  });

  it('annualises from the sampling interval: minute samples give 525,600 periods a year', () => {
    const s = computeStats(input([1, 2], { intervalMicros: 60_000_000 }));
    expect(s.periodsPerYear).toBe(525_600);
    expect(MICROS_PER_YEAR).toBe(365 * 86_400 * 1_000_000);
  });
});
