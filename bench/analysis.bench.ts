// The report analysis (src/backtest/analysis.ts) on a large synthetic run: 10,000 closed trades over 20,000
// kept equity samples (the report's bound) spanning a year, with the default 1,000-path Monte Carlo. Every
// `bot4 backtest` pays this once when it writes its report; the Monte Carlo (paths x trades draws) dominates.

import { type AnalysisInput, analyse, monteCarlo } from '../src/backtest/analysis.ts';
import type { Trade } from '../src/backtest/recorder.ts';
import type { BacktestStats } from '../src/backtest/stats.ts';
import { type BenchSpec, median, startProbe } from './harness.ts';

const T0 = Date.UTC(2024, 0, 1) * 1000;
const YEAR = 365 * 86_400_000_000;
const TRADES = 10_000;
const SAMPLES = 20_000;

function run(): AnalysisInput {
  let seed = 12345;
  const rand = (): number => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648;
  };
  const ts: number[] = [];
  const equity: number[] = [];
  let e = 1e12;
  for (let i = 0; i < SAMPLES; i++) {
    ts.push(T0 + Math.floor((i * YEAR) / SAMPLES));
    e += Math.round((rand() - 0.5) * 1e9);
    equity.push(e);
  }
  const trades: Trade[] = [];
  const f = { ts: [] as number[], slot: [] as number[], side: [] as number[], positionSide: [] as number[] };
  const orderType: number[] = [];
  for (let i = 0; i < TRADES; i++) {
    const entryTs = T0 + Math.floor((i * YEAR) / TRADES);
    const exitTs = entryTs + Math.floor(rand() * (YEAR / TRADES));
    const netPnl = Math.round((rand() - 0.48) * 1e9);
    const direction = rand() < 0.5 ? 1 : -1;
    trades.push({
      id: i,
      slot: 0,
      instrumentId: 1,
      positionSide: 0,
      direction,
      open: false,
      entryTs,
      exitTs,
      entryPx: 1000,
      exitPx: 1001,
      qty: 1,
      exitQty: 1,
      maxQty: 1,
      entryValue: 1e11,
      exitValue: 1e11 + netPnl,
      grossPnl: netPnl,
      fees: 0,
      funding: 0,
      netPnl,
      returnFraction: netPnl / 1e11,
      fills: 2,
      durationMicros: exitTs - entryTs,
      bars: null,
    });
    for (const [t, side] of [
      [entryTs, direction],
      [exitTs, -direction],
    ] as const) {
      f.ts.push(t);
      f.slot.push(0);
      f.side.push(side);
      f.positionSide.push(0);
      orderType.push(1 + (i % 3));
    }
  }
  return {
    trades,
    equity: {
      intervalMicros: YEAR / SAMPLES,
      sourceSamples: SAMPLES,
      ts,
      equity,
      cash: equity,
      grossExposure: [],
    },
    stats: { startEquity: equity[0]! } as BacktestStats,
    fills: { ...f, orderType },
  };
}

export const benches: BenchSpec[] = [
  {
    id: 'backtest.analysis.report',
    title: 'Report analysis: 10k trades, 20k equity samples, 1,000-path Monte Carlo (ms per analysis)',
    unit: 'ms',
    better: 'lower',
    target: null,
    targetSource: 'issue 17 item 8 asks for the analysis in every report; no target (paid once per run)',
    async run(ctx) {
      const input = run();
      const times = (f: () => unknown, n: number): number[] => {
        const ms: number[] = [];
        for (let i = 0; i < n; i++) {
          const t0 = process.hrtime.bigint();
          f();
          ms.push(Number(process.hrtime.bigint() - t0) / 1e6);
        }
        return ms;
      };
      const n = ctx.quick ? 5 : 15;
      times(() => analyse(input), 2);
      const probe = startProbe();
      const all = times(() => analyse(input), n);
      const main = await probe.finish(median(all), null, n);
      const pnl = input.trades.map((t) => t.netPnl);
      const mc = times(() => monteCarlo(pnl, input.stats.startEquity), n);
      return { main, extra: { monte_carlo_ms: Number(median(mc).toFixed(2)), trades: TRADES } };
    },
  },
];
