// One optimisation trial: a backtest of the strategy with one parameter set over a time window of the shared
// data set. The same function runs on pool workers and in the main thread (--workers 1, tests), so results
// do not depend on where a trial ran. A strategy that rejects its parameters makes a failed trial, not a crash.

import { Bot4Error } from '../../core/errors.ts';
import type { RiskConfig } from '../../risk/risk-config.ts';
import { resolveStrategy } from '../../strategy/loader.ts';
import type { ParamPrimitive } from '../../strategy/params.ts';
import type { StrategyClass } from '../../strategy/strategy.ts';
import type { SlippageModel } from '../../venues/sim/slippage.ts';
import { downsampleIndices } from '../report-html.ts';
import { runBacktest } from '../runner.ts';
import { datasetRegistry, datasetViews, type SharedDataset } from './dataset.ts';
import { type TrialStats, trialStats } from './objective.ts';

/** Given once to every worker (the data set's buffers are shared, not copied). */
export interface TrialSetup {
  readonly data: SharedDataset;
  /** Built-in strategy name or an absolute file path (`file.ts:Export`), as resolveStrategy takes it. */
  readonly strategy: string;
  readonly balances: readonly { currency: string; amount: string }[];
  readonly riskConfig?: RiskConfig;
  /** Order entry and response latency of the simulated venue, micros each. */
  readonly latency?: number;
  /** Equity sampling interval of the statistics, micros (runner default: one minute). */
  readonly sampleIntervalMicros?: number;
  /** Slippage model of the simulated venue (--slippage); none when absent. */
  readonly slippage?: SlippageModel;
}

export interface TrialInput {
  readonly params: Readonly<Record<string, ParamPrimitive>>;
  /** Window, micros, half-open. */
  readonly from: number;
  readonly to: number;
  /** Return the equity curve (out-of-sample runs, for stitching). */
  readonly curve: boolean;
}

export interface EquityCurve {
  ts: number[];
  /** Equity in the report currency (a double, not money units). */
  equity: number[];
}

export interface TrialOutput {
  stats: TrialStats | null;
  error: string | null;
  events: number;
  wallMs: number;
  fingerprint: string;
  curve: EquityCurve | null;
}

/** Points kept of an out-of-sample curve: plenty for a chart, small in trials.jsonl. */
export const CURVE_POINTS = 400;

const classes = new Map<string, Promise<StrategyClass>>();

function strategyClass(spec: string): Promise<StrategyClass> {
  let p = classes.get(spec);
  if (p === undefined) {
    p = resolveStrategy(spec);
    classes.set(spec, p);
  }
  return p;
}

export async function runTrial(setup: TrialSetup, input: TrialInput): Promise<TrialOutput> {
  const cls = await strategyClass(setup.strategy);
  try {
    const strategy = new cls(input.params);
    const res = await runBacktest({
      strategies: [{ strategy, parameters: input.params }],
      instruments: datasetRegistry(setup.data),
      data: datasetViews(setup.data, input.from, input.to),
      dataLabel: setup.data.label,
      balances: setup.balances,
      from: input.from,
      to: input.to,
      ...(setup.riskConfig === undefined ? {} : { riskConfig: setup.riskConfig }),
      ...(setup.sampleIntervalMicros === undefined
        ? {}
        : { sampleIntervalMicros: setup.sampleIntervalMicros }),
      ...(setup.latency === undefined && setup.slippage === undefined
        ? {}
        : {
            venue: {
              ...(setup.latency === undefined
                ? {}
                : { latency: { orderEntry: setup.latency, response: setup.latency } }),
              ...(setup.slippage === undefined ? {} : { slippageModel: setup.slippage }),
            },
          }),
    });
    const scale = 10 ** res.stats.currency.precision;
    return {
      stats: trialStats(res.stats),
      error: null,
      events: res.events,
      wallMs: res.wallMs,
      fingerprint: res.fingerprint,
      curve: input.curve ? downsample(res.recording.curve.ts, res.recording.curve.equity, scale) : null,
    };
  } catch (e) {
    // Bad parameter combinations (fast >= slow) and empty windows are results; anything else is a bug.
    if (!(e instanceof Bot4Error)) throw e;
    return { stats: null, error: e.message, events: 0, wallMs: 0, fingerprint: '', curve: null };
  }
}

/** At most ~2 x CURVE_POINTS points keeping each bucket's low and high, so drawdowns survive the thinning. */
function downsample(ts: Float64Array, equity: Float64Array, scale: number): EquityCurve {
  const keep = downsampleIndices(ts.length, [equity], CURVE_POINTS);
  return { ts: keep.map((i) => ts[i]!), equity: keep.map((i) => equity[i]! / scale) };
}
