// The report analysis: small cases checked by hand (periods, exit reasons, hours and weekdays, drawdown
// episodes, percentiles, a Monte Carlo path), and properties on random runs (fast-check): period tables add up
// to the totals, group tables partition the closed trades, Monte Carlo percentiles ascend and a seed replays.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { present, SHARED_DATA } from '../core/test-resources.ts';
import { newInstrumentRegistry } from '../model/instrument.ts';
import type { Bar } from '../model/market-data.ts';
import { OrderType } from '../model/order.ts';
import { Strategy, type Subscriptions } from '../strategy/strategy.ts';
import { Prng } from '../venues/sim/rng.ts';
import {
  type AnalysisInput,
  analyse,
  drawdownEpisodes,
  exitReasons,
  monteCarlo,
  PERCENTILES,
  pathFigures,
  percentile,
  periodStart,
  returnDistribution,
} from './analysis.ts';
import { formatAnalysis } from './analysis-format.ts';
import { openBacktestData } from './data-query.ts';
import type { Trade } from './recorder.ts';
import { runBacktest } from './runner.ts';
import type { BacktestStats } from './stats.ts';
import { drawdownSeries } from './stats.ts';

const MIN = 60_000_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
/** Monday 2024-01-01 00:00 UTC. */
const T0 = Date.UTC(2024, 0, 1) * 1000;
const USD = { code: 'USD', precision: 2 };

function trade(
  id: number,
  entryTs: number,
  exitTs: number | null,
  netPnl: number,
  direction: 1 | -1 = 1,
): Trade {
  return {
    id,
    slot: 0,
    instrumentId: 1,
    positionSide: 0,
    direction,
    open: exitTs === null,
    entryTs,
    exitTs,
    entryPx: 100,
    exitPx: exitTs === null ? null : 101,
    qty: 1,
    exitQty: exitTs === null ? 0 : 1,
    maxQty: 1,
    entryValue: 10_000,
    exitValue: exitTs === null ? 0 : 10_000 + netPnl,
    grossPnl: netPnl,
    fees: 0,
    funding: 0,
    netPnl,
    returnFraction: netPnl / 10_000,
    fills: exitTs === null ? 1 : 2,
    durationMicros: exitTs === null ? null : exitTs - entryTs,
    bars: null,
  };
}

/** An input from trades (exits by the given order types) and an equity curve. */
function input(trades: Trade[], ts: number[], equity: number[], exitTypes: number[] = []): AnalysisInput {
  const f = { ts: [] as number[], slot: [] as number[], side: [] as number[], positionSide: [] as number[] };
  const orderType: number[] = [];
  trades.forEach((t, i) => {
    f.ts.push(t.entryTs);
    f.slot.push(0);
    f.side.push(t.direction);
    f.positionSide.push(0);
    orderType.push(OrderType.MARKET);
    if (t.exitTs !== null) {
      f.ts.push(t.exitTs);
      f.slot.push(0);
      f.side.push(-t.direction);
      f.positionSide.push(0);
      orderType.push(exitTypes[i] ?? OrderType.MARKET);
    }
  });
  return {
    trades,
    equity: { intervalMicros: MIN, sourceSamples: ts.length, ts, equity, cash: equity, grossExposure: [] },
    stats: { startEquity: equity[0] ?? 0 } as BacktestStats,
    fills: { ...f, orderType },
  };
}

describe('hand-checked cases', () => {
  // Three closed trades and one open: Mon 10:00-11:00 +50, Mon 23:00-Tue 01:00 -20 (stop), Wed 10:30-12:00
  // +30 (limit); one entered Fri and still open. Equity 1000 -> 1050 (Mon) -> 1030 (Tue) -> 1060 (Wed).
  const trades = [
    trade(0, T0 + 10 * HOUR, T0 + 11 * HOUR, 50),
    trade(1, T0 + 23 * HOUR, T0 + DAY + HOUR, -20, -1),
    trade(2, T0 + 2 * DAY + 10.5 * HOUR, T0 + 2 * DAY + 12 * HOUR, 30),
    trade(3, T0 + 4 * DAY, null, 5),
  ];
  const ts = [T0, T0 + 12 * HOUR, T0 + DAY + 2 * HOUR, T0 + 2 * DAY + 13 * HOUR, T0 + 4 * DAY + HOUR];
  const equity = [1000, 1050, 1030, 1060, 1065];
  const a = analyse(input(trades, ts, equity, [OrderType.MARKET, OrderType.STOP_MARKET, OrderType.LIMIT]));

  it('day table: every day from the first sample to the last, trades by exit, equity at the last sample', () => {
    expect(a.periods.day.map((r) => r.key)).toEqual([
      '2024-01-01',
      '2024-01-02',
      '2024-01-03',
      '2024-01-04',
      '2024-01-05',
    ]);
    expect(a.periods.day.map((r) => r.trades)).toEqual([1, 1, 1, 0, 0]);
    expect(a.periods.day.map((r) => r.netPnl)).toEqual([50, -20, 30, 0, 0]);
    expect(a.periods.day.map((r) => [r.startEquity, r.endEquity])).toEqual([
      [1000, 1050],
      [1050, 1030],
      [1030, 1060],
      [1060, 1060],
      [1060, 1065],
    ]);
    expect(a.periods.day[1]!.return).toBeCloseTo(1030 / 1050 - 1, 12);
  });

  it('week and month tables: one Monday week and January', () => {
    expect(a.periods.week.map((r) => [r.key, r.trades, r.netPnl, r.wins, r.losses])).toEqual([
      ['2024-01-01', 3, 60, 2, 1],
    ]);
    expect(a.periods.month.map((r) => [r.key, r.startEquity, r.endEquity])).toEqual([
      ['2024-01', 1000, 1065],
    ]);
    expect(periodStart('week', Date.UTC(2024, 0, 7, 23) * 1000)).toBe(T0);
    expect(periodStart('week', Date.UTC(2024, 0, 8) * 1000)).toBe(T0 + 7 * DAY);
    expect(periodStart('month', Date.UTC(2024, 1, 29, 5) * 1000)).toBe(Date.UTC(2024, 1, 1) * 1000);
  });

  it('exit reasons from the closing order type; the open trade in none', () => {
    expect(a.closedTrades).toBe(3);
    expect(a.openTrades).toBe(1);
    expect(a.exitReasons.map((r) => [r.key, r.trades, r.netPnl])).toEqual([
      ['limit order', 1, 30],
      ['market order', 1, 50],
      ['stop', 1, -20],
    ]);
    const stop = a.exitReasons[2]!;
    expect(stop.winRate).toBe(0);
    expect(stop.avgDurationMicros).toBe(2 * HOUR);
    expect(stop.avgReturn).toBeCloseTo(-0.002, 12);
  });

  it('hour and weekday of entry', () => {
    expect(a.hourOfDay).toHaveLength(24);
    expect(a.hourOfDay[10]!.trades).toBe(2);
    expect(a.hourOfDay[10]!.netPnl).toBe(80);
    expect(a.hourOfDay[23]!.trades).toBe(1);
    expect(a.weekday.map((r) => r.trades)).toEqual([2, 0, 1, 0, 0, 0, 0]);
    expect(a.weekday[0]!.key).toBe('Mon');
  });

  it('drawdown episodes: one from 1050 to 1030, recovered at 1060', () => {
    expect(a.drawdowns.count).toBe(1);
    expect(a.drawdowns.listed[0]).toEqual({
      peakTs: ts[1],
      troughTs: ts[2],
      recoveryTs: ts[3],
      peakEquity: 1050,
      troughEquity: 1030,
      depth: 20 / 1050,
      depthMoney: 20,
      durationMicros: ts[3]! - ts[1]!,
    });
    const open = drawdownEpisodes([1, 2, 3, 4], [100, 80, 90, 70]);
    expect(open).toHaveLength(1);
    expect(open[0]).toMatchObject({ troughTs: 4, recoveryTs: null, depth: 0.3, durationMicros: 3 });
  });

  it('percentiles interpolate between ranks; the histogram holds every trade', () => {
    expect(percentile([1, 2, 3, 4, 5], 50)).toBe(3);
    expect(percentile([1, 2, 3, 4], 50)).toBe(2.5);
    expect(percentile([10, 20], 25)).toBe(12.5);
    const d = returnDistribution([-0.01, 0, 0.01, 0.02]);
    expect(d.mean).toBeCloseTo(0.005, 15);
    expect(d.stdev).toBeCloseTo(Math.sqrt(0.0005 / 3), 15);
    expect(d.percentiles!.p50).toBeCloseTo(0.005, 15);
    expect(d.bins.reduce((s, b) => s + b.count, 0)).toBe(4);
    expect(d.bins[0]!.lo).toBe(-0.01);
    expect(d.bins.at(-1)!.hi).toBe(0.02);
    expect(returnDistribution([0.5, 0.5]).bins).toEqual([{ lo: 0.5, hi: 0.5, count: 2 }]);
  });

  it('a path: return and drawdown at the trade exits; ruin is a 100% drawdown', () => {
    expect(pathFigures(1000, [100, -220, 50])).toEqual({ totalReturn: -0.07, maxDrawdown: 0.2 });
    expect(pathFigures(100, [-150, 10]).maxDrawdown).toBe(1);
  });

  it('Monte Carlo of one trade is that trade on every path', () => {
    const mc = monteCarlo([25], 1000, 50, 7)!;
    expect(mc.totalReturn).toEqual({ p5: 0.025, p25: 0.025, p50: 0.025, p75: 0.025, p95: 0.025 });
    expect(mc.maxDrawdown.p95).toBe(0);
    expect(mc.lossProbability).toBe(0);
    expect(monteCarlo([], 1000)).toBeNull();
    expect(monteCarlo([1], 1000, 0)).toBeNull();
  });

  it('Monte Carlo paths are the draws of Prng.int and pathFigures, bit for bit', () => {
    // The bulk draws (Prng.fillInt) and the drawdown taken only at new lows must change no figure.
    const pnl = Array.from({ length: 300 }, (_, i) => ((i * 7919) % 613) - 330);
    for (const start of [20_000, 400]) {
      const rng = new Prng(3);
      const returns: number[] = [];
      const drawdowns: number[] = [];
      for (let r = 0; r < 40; r++) {
        const path = pnl.map(() => pnl[rng.int(pnl.length)]!);
        const f = pathFigures(start, path);
        returns.push(f.totalReturn);
        drawdowns.push(f.maxDrawdown);
      }
      const sorted = (a: number[]) => Float64Array.from(a).sort();
      const mc = monteCarlo(pnl, start, 40, 3)!;
      for (const p of PERCENTILES) {
        expect(mc.totalReturn[`p${p}`]).toBe(percentile(sorted(returns), p));
        expect(mc.maxDrawdown[`p${p}`]).toBe(percentile(sorted(drawdowns), p));
      }
    }
  });

  it('the text tables name each section', () => {
    const text = formatAnalysis(a, USD);
    for (const title of [
      'Results by month',
      'Results by week',
      'Results by day',
      'Exit reasons',
      'By hour of entry',
      'By weekday of entry',
      'Drawdowns (1 episode(s)',
      'Distribution of trade returns (3 closed trades',
      'Monte Carlo of the trade sequence (1000 paths of 3 trades',
    ]) {
      expect(text).toContain(title);
    }
    expect(text).toContain('1 trade(s) still open at the end are not in these tables');
    expect(text).toMatch(/stop\s+1\s+0\.0%\s+-0\.20 USD/);
  });
});

// ---- properties -------------------------------------------------------------------------------------------

/** A random run: a minute-to-hours curve over up to ~90 days, and trades with integer PnL inside it. */
const runArb = fc
  .record({
    steps: fc.array(
      fc.record({ gap: fc.integer({ min: 1, max: 6 * 60 }), move: fc.integer({ min: -500, max: 500 }) }),
      {
        minLength: 1,
        maxLength: 400,
      },
    ),
    trades: fc.array(
      fc.record({
        at: fc.double({ min: 0, max: 1, noNaN: true }),
        len: fc.integer({ min: 1, max: 3 * 24 * 60 }),
        pnl: fc.integer({ min: -2000, max: 2000 }),
        open: fc.boolean(),
        type: fc.constantFrom(
          0,
          OrderType.MARKET,
          OrderType.LIMIT,
          OrderType.STOP_MARKET,
          OrderType.TRAILING_STOP_MARKET,
        ),
      }),
      { maxLength: 60 },
    ),
    start: fc.integer({ min: 0, max: 400 * 24 }),
  })
  .map(({ steps, trades, start }) => {
    const ts = [T0 + start * HOUR];
    const equity = [100_000];
    for (const s of steps) {
      ts.push(ts.at(-1)! + s.gap * MIN);
      equity.push(Math.max(1, equity.at(-1)! + s.move));
    }
    const span = ts.at(-1)! - ts[0]!;
    const list = trades.map((t, i) => {
      const entry = ts[0]! + Math.floor(t.at * span);
      const exit = Math.min(ts.at(-1)!, entry + t.len * MIN);
      return trade(i, entry, t.open ? null : exit, t.pnl, i % 2 === 0 ? 1 : -1);
    });
    return input(
      list,
      ts,
      equity,
      trades.map((t) => t.type),
    );
  });

describe('properties', () => {
  it('period tables add up: trade PnL to the closed total, equity changes to end - start', () => {
    fc.assert(
      fc.property(runArb, (inp) => {
        const a = analyse(inp, { runs: 20 });
        const closed = inp.trades.filter((t) => !t.open);
        const total = closed.reduce((s, t) => s + t.netPnl, 0);
        const change = inp.equity.equity.at(-1)! - inp.equity.equity[0]!;
        for (const kind of ['day', 'week', 'month'] as const) {
          const rows = a.periods[kind];
          expect(rows.reduce((s, r) => s + r.netPnl, 0)).toBe(total);
          expect(rows.reduce((s, r) => s + r.trades, 0)).toBe(closed.length);
          expect(rows.reduce((s, r) => s + (r.endEquity - r.startEquity), 0)).toBe(change);
          // Contiguous: each period starts where the last ended, and its start equity is the last one's end.
          for (let i = 1; i < rows.length; i++) {
            expect(rows[i]!.start).toBe(rows[i - 1]!.end);
            expect(rows[i]!.startEquity).toBe(rows[i - 1]!.endEquity);
          }
        }
        for (const groups of [a.exitReasons, a.hourOfDay, a.weekday]) {
          expect(groups.reduce((s, r) => s + r.trades, 0)).toBe(closed.length);
          expect(groups.reduce((s, r) => s + r.netPnl, 0)).toBe(total);
          expect(groups.reduce((s, r) => s + r.wins + r.losses, 0)).toBe(
            closed.filter((t) => t.netPnl !== 0).length,
          );
        }
        expect(a.returns.bins.reduce((s, b) => s + b.count, 0)).toBe(closed.length);
      }),
      { numRuns: 150 },
    );
  });

  it('the deepest drawdown episode is the curve maximum drawdown', () => {
    fc.assert(
      fc.property(runArb, (inp) => {
        const a = analyse(inp, { runs: 0 });
        const dd = drawdownSeries(inp.equity.equity);
        const max = dd.reduce((m, x) => Math.max(m, x), 0);
        expect(a.drawdowns.listed[0]?.depth ?? 0).toBeCloseTo(max, 12);
        const episodes = drawdownEpisodes(inp.equity.ts, inp.equity.equity);
        // Episodes do not overlap, and each recovers before the next peak.
        for (let i = 1; i < episodes.length; i++) {
          expect(episodes[i]!.peakTs).toBeGreaterThanOrEqual(episodes[i - 1]!.recoveryTs!);
        }
      }),
      { numRuns: 150 },
    );
  });

  it('Monte Carlo: percentiles ascend, lie within the bounds, and the same seed gives the same result', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: -5000, max: 5000 }), { minLength: 1, maxLength: 80 }),
        fc.integer({ min: 1, max: 300 }),
        fc.integer({ min: 0, max: 0xffffffff }),
        (pnl, runs, seed) => {
          const start = 100_000;
          const mc = monteCarlo(pnl, start, runs, seed)!;
          const keys = PERCENTILES.map((p) => `p${p}` as const);
          for (let i = 1; i < keys.length; i++) {
            expect(mc.totalReturn[keys[i]!]).toBeGreaterThanOrEqual(mc.totalReturn[keys[i - 1]!]);
            expect(mc.maxDrawdown[keys[i]!]).toBeGreaterThanOrEqual(mc.maxDrawdown[keys[i - 1]!]);
          }
          const n = pnl.length;
          const lo = (n * Math.min(...pnl)) / start;
          const hi = (n * Math.max(...pnl)) / start;
          expect(mc.totalReturn.p5).toBeGreaterThanOrEqual(lo - 1e-12);
          expect(mc.totalReturn.p95).toBeLessThanOrEqual(hi + 1e-12);
          expect(mc.maxDrawdown.p5).toBeGreaterThanOrEqual(0);
          expect(mc.maxDrawdown.p95).toBeLessThanOrEqual(1);
          expect(mc.lossProbability).toBeGreaterThanOrEqual(0);
          expect(mc.lossProbability).toBeLessThanOrEqual(1);
          expect(monteCarlo(pnl, start, runs, seed)).toEqual(mc);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('Monte Carlo: every path gives the figures of pathFigures on the same draws (seed, then index per trade)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: -60_000, max: 50_000 }), { minLength: 1, maxLength: 60 }),
        fc.integer({ min: 1, max: 60 }),
        fc.integer({ min: 0, max: 0xffffffff }),
        (pnl, runs, seed) => {
          const start = 100_000;
          const rng = new Prng(seed);
          const returns: number[] = [];
          const drawdowns: number[] = [];
          for (let r = 0; r < runs; r++) {
            const path = pnl.map(() => pnl[Math.floor(rng.next() * pnl.length)]!);
            const f = pathFigures(start, path);
            returns.push(f.totalReturn);
            drawdowns.push(f.maxDrawdown);
          }
          const mc = monteCarlo(pnl, start, runs, seed)!;
          const sorted = (a: number[]) => Float64Array.from(a).sort();
          for (const p of PERCENTILES) {
            expect(mc.totalReturn[`p${p}`]).toBe(percentile(sorted(returns), p));
            expect(mc.maxDrawdown[`p${p}`]).toBe(percentile(sorted(drawdowns), p));
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('Monte Carlo: another seed draws other paths', () => {
    const pnl = Array.from({ length: 50 }, (_, i) => ((i * 7919) % 201) - 100);
    const a = monteCarlo(pnl, 10_000, 500, 1)!;
    const b = monteCarlo(pnl, 10_000, 500, 2)!;
    expect(b.totalReturn).not.toEqual(a.totalReturn);
    // 500 paths: the medians of two seeds agree to within a few standard errors of the mean trade.
    expect(Math.abs(a.totalReturn.p50 - b.totalReturn.p50)).toBeLessThan(0.05);
  });
});

// ---- real bars: exits by take-profit limit and by stop ---------------------------------------------------

const BARS = `${SHARED_DATA}nautilus_trader/bars/btc-perp-20211231-20220201_1m.csv`;

/**
 * Flat: buys 0.1 BTC at market. Long, the k-th trade exits by a take-profit limit 0.3% above the entry (k % 3
 * = 0), a stop 0.3% below it (1), or at market after five bars (2).
 */
class ThreeExits extends Strategy {
  static override readonly params = {};
  private trades = 0;
  private kind = 0;
  private held = 0;
  override subscriptions(): Subscriptions {
    return { bars: [{ instrument: 'BTC-PERP.FTX', interval: '1m' }] };
  }
  override onBar(bar: Bar): void {
    if (this.openOrders().length > 0) return; // an entry on its way, or the exit working
    const id = 'BTC-PERP.FTX';
    if (this.netQty(bar.instrumentId) === 0) {
      this.buy(id, '0.1');
      this.kind = this.trades++ % 3;
      this.held = 0;
      return;
    }
    const entry = this.position(bar.instrumentId)!.avgPx;
    const inst = this.instrument(id);
    if (this.kind === 0) this.limit(id, 'sell', '0.1', inst.ticksToPrice(Math.round(entry * 1.003)));
    else if (this.kind === 1) this.stop(id, 'sell', '0.1', inst.ticksToPrice(Math.round(entry * 0.997)));
    else if (++this.held >= 5) this.closePosition(id);
  }
}

describe.skipIf(!present(BARS, 'the FTX BTC-PERP 1-minute bars'))('exit reasons on real bars', () => {
  it('take-profit limits, stops and market exits: each its own row; limits win, stops lose', async () => {
    const instruments = newInstrumentRegistry();
    const data = await openBacktestData([BARS], { instruments, catalogDir: '/nonexistent' });
    let r: Awaited<ReturnType<typeof runBacktest>>;
    try {
      r = await runBacktest({
        strategies: [{ strategy: new ThreeExits({}) }],
        instruments,
        data: data.data,
        dataLabel: 'btc-perp 1m',
        balances: [{ currency: 'USD', amount: '100000' }],
        // No venue options: on bar-only data the simulated venue takes the stops itself (the emulator could not).
      });
    } finally {
      data.close();
    }
    const report = r.report;
    const a = analyse(report, { runs: 100 });
    const keys = a.exitReasons.map((g) => g.key);
    expect(keys).toEqual(['limit order', 'market order', 'stop']);
    const [tp, mkt, sl] = a.exitReasons;
    expect(tp!.trades + mkt!.trades + sl!.trades).toBe(report.stats.trades);
    // The strategy cycles the three exits, so each takes a third of the trades (54 in this month).
    expect(report.stats.trades).toBeGreaterThan(30);
    for (const g of a.exitReasons)
      expect(Math.abs(g.trades - report.stats.trades / 3)).toBeLessThanOrEqual(1);
    // Take-profits win, stops lose (no fees configured: the PnL is the price move).
    expect(tp!.winRate).toBe(1);
    expect(sl!.winRate).toBe(0);
    const reasons = exitReasons(
      report,
      report.trades.filter((t) => !t.open),
    );
    report.trades
      .filter((t) => !t.open)
      .forEach((t, i) => {
        if (reasons[i] === 'stop') expect(t.exitPx!).toBeLessThan(t.entryPx);
        if (reasons[i] === 'limit order') expect(t.exitPx!).toBeGreaterThan(t.entryPx);
      });
  }, 120_000);
});
