// Hot-path latency stages exported to Prometheus at scrape time: each stage records into its own HDR histogram
// (a few ns, no allocation); a scrape copies the counts out as a classic histogram whose buckets are HDR
// bucket boundaries (so the counts are exact) and as a summary of p50/p99/p99.9. Units: ns in, seconds out.
// Shared stages (NodeMetrics) keep their counts on SharedArrayBuffers: the metrics worker reads them through
// reader histograms; the engine thread's only part in a scrape is storing each stage's six totals (publish()).

import type { Metric, Registry } from 'prom-client';
import { Bot4Error, ErrorCode } from '../core/errors.ts';
import { type HdrConfig, HdrHistogram, TOTALS_LENGTH } from './latency.ts';

/** Nominal bucket bounds in ns: 1 and 1.5 times each power of two from 1024 ns (~1 us) to ~25 s. */
function nominalBoundsNs(): number[] {
  const out: number[] = [];
  for (let k = 0; k <= 24; k++) out.push(1024 * 2 ** k, 1536 * 2 ** k);
  return out;
}

export const STAGE_QUANTILES = [0.5, 0.99, 0.999] as const;

interface PromValue {
  value: number;
  labels: Record<string, string | number>;
  metricName?: string;
}

/**
 * A prom-client metric read from HDR histograms when scraped. prom-client's own Histogram and Summary take
 * one observe() per value (hundreds of ns, allocating): this one holds no state of its own.
 */
abstract class HdrMetric {
  readonly aggregator = 'sum';
  readonly name: string;
  readonly help: string;
  readonly type: 'histogram' | 'summary';
  protected readonly stages: StageLatencies;
  constructor(name: string, help: string, type: 'histogram' | 'summary', stages: StageLatencies) {
    this.name = name;
    this.help = help;
    this.type = type;
    this.stages = stages;
  }
  reset(): void {}
  get(): { name: string; help: string; type: string; aggregator: string; values: PromValue[] } {
    return {
      name: this.name,
      help: this.help,
      type: this.type,
      aggregator: this.aggregator,
      values: this.values(),
    };
  }
  protected abstract values(): PromValue[];
}

class StageHistogram extends HdrMetric {
  protected values(): PromValue[] {
    const out: PromValue[] = [];
    for (const s of this.stages.refreshed()) {
      const h = s.histogram;
      const n = h.totalCount;
      const bounds = s.boundsNs;
      // Only the buckets between the smallest and the largest value recorded: below them every bucket is 0,
      // above them every bucket is the total, and formatting those lines was most of a scrape. A stage that
      // never ran has only +Inf. Buckets appear as the range widens and never go away (min and max only widen).
      if (n > 0) {
        h.countsBelow(bounds, s.scratch);
        let lo = 0;
        while (lo < bounds.length - 1 && bounds[lo + 1]! <= h.min) lo++;
        for (let j = lo; j < bounds.length; j++) {
          // A reader's counts may run ahead of the totals it loaded (values recorded since): clamp to n.
          const below = Math.min(s.scratch[j]!, n);
          out.push({
            metricName: `${this.name}_bucket`,
            labels: { stage: s.stage, le: bounds[j]! / 1e9 },
            value: below,
          });
          if (below === n) break;
        }
      }
      out.push({ metricName: `${this.name}_bucket`, labels: { stage: s.stage, le: '+Inf' }, value: n });
      out.push({ metricName: `${this.name}_sum`, labels: { stage: s.stage }, value: h.sum / 1e9 });
      out.push({ metricName: `${this.name}_count`, labels: { stage: s.stage }, value: n });
    }
    return out;
  }
}

class StageSummary extends HdrMetric {
  protected values(): PromValue[] {
    const out: PromValue[] = [];
    for (const s of this.stages.refreshed()) {
      const h = s.histogram;
      for (const q of STAGE_QUANTILES) {
        out.push({ labels: { stage: s.stage, quantile: q }, value: h.valueAtPercentile(q * 100) / 1e9 });
      }
      out.push({ metricName: `${this.name}_sum`, labels: { stage: s.stage }, value: h.sum / 1e9 });
      out.push({ metricName: `${this.name}_count`, labels: { stage: s.stage }, value: h.totalCount });
    }
    return out;
  }
}

interface Stage {
  stage: string;
  histogram: HdrHistogram;
  /** Bucket bounds in ns, each the lowest value of an HDR bucket, ascending. */
  boundsNs: Float64Array;
  scratch: Float64Array;
  /** Shared stages: the totals the engine thread stores per scrape (TOTALS_LENGTH slots). */
  totals: Float64Array | undefined;
}

/** What a reader thread needs to see a shared stage: its name, config, counts and totals buffers. */
export interface SharedStageSpec {
  stage: string;
  config: Required<HdrConfig>;
  counts: SharedArrayBuffer;
  totals: SharedArrayBuffer;
}

const Mode = { LOCAL: 0, SHARED: 1, READER: 2 } as const;
type Mode = (typeof Mode)[keyof typeof Mode];

/**
 * Named hot-path stages (`feed.decode`, `backtest.batch`, `tick_to_trade`...), each an HDR histogram in ns
 * the stage records into. Exported as `bot4_stage_latency_seconds` (classic histogram, cumulative since start)
 * and `bot4_stage_latency_quantile_seconds` (p50/p99/p99.9 since start).
 */
export class StageLatencies {
  private readonly stages: Stage[] = [];
  private mode: Mode;
  private readonly onAdded: () => void;

  /** `shared`: every stage's counts go on a SharedArrayBuffer and `onAdded` runs when a stage is added. */
  constructor(shared?: { onAdded: () => void }) {
    this.mode = shared === undefined ? Mode.LOCAL : Mode.SHARED;
    this.onAdded = shared?.onAdded ?? (() => {});
  }

  /** Read-only stages over another thread's shared ones (the metrics worker's view). */
  static reader(specs: readonly SharedStageSpec[]): StageLatencies {
    const r = new StageLatencies();
    r.mode = Mode.READER;
    for (const spec of specs) {
      const h = HdrHistogram.reader(spec.config, new Float64Array(spec.counts));
      r.add(spec.stage, h, new Float64Array(spec.totals));
    }
    return r;
  }

  /** The histogram a stage records into (created on first use; a setup-time call, not per event). */
  stage(name: string, histogram?: HdrHistogram): HdrHistogram {
    if (!/^[a-z][a-z0-9_.]*$/.test(name)) {
      throw new Bot4Error(
        ErrorCode.INVALID_ARGUMENT,
        `latency stage name '${name}' must be lower case letters, digits, '_' and '.'`,
        { name },
      );
    }
    const found = this.stages.find((s) => s.stage === name);
    if (found !== undefined) {
      if (histogram !== undefined && histogram !== found.histogram) {
        throw new Bot4Error(ErrorCode.INVALID_ARGUMENT, `latency stage '${name}' already has a histogram`, {
          name,
        });
      }
      return found.histogram;
    }
    const h = histogram ?? new HdrHistogram();
    if (this.mode === Mode.SHARED) {
      h.shareCounts();
      this.add(name, h, new Float64Array(new SharedArrayBuffer(TOTALS_LENGTH * 8)));
      this.onAdded();
    } else {
      this.add(name, h, undefined);
    }
    return h;
  }

  private add(name: string, h: HdrHistogram, totals: Float64Array | undefined): void {
    // Snap each nominal bound to the start of its HDR bucket: then no bucket straddles a bound.
    const bounds = [...new Set(nominalBoundsNs().map((b) => h.lowestEquivalentValue(b)))];
    const boundsNs = Float64Array.from(bounds.filter((b) => b <= h.highestTrackableValue));
    this.stages.push({
      stage: name,
      histogram: h,
      boundsNs,
      scratch: new Float64Array(boundsNs.length),
      totals,
    });
  }

  list(): readonly Stage[] {
    return this.stages;
  }

  /** The stages, a reader's with the totals the engine thread last stored. */
  refreshed(): readonly Stage[] {
    if (this.mode === Mode.READER) for (const s of this.stages) s.histogram.loadTotals(s.totals!);
    return this.stages;
  }

  /** Shared mode, engine thread, once per scrape: each stage's totals (six stores) where readers see them. */
  publish(): void {
    for (const s of this.stages) if (s.totals !== undefined) s.histogram.storeTotals(s.totals);
  }

  /** Shared mode: what a reader thread needs (buffers are shared, not copied, when posted). */
  specs(): SharedStageSpec[] {
    return this.stages.map((s) => {
      const h = s.histogram;
      return {
        stage: s.stage,
        config: {
          lowestDiscernibleValue: h.lowestDiscernibleValue,
          highestTrackableValue: h.highestTrackableValue,
          significantDigits: h.significantDigits,
        },
        counts: h.shareCounts().buffer as SharedArrayBuffer,
        totals: s.totals!.buffer as SharedArrayBuffer,
      };
    });
  }

  register(registry: Registry): void {
    const metrics = [
      new StageHistogram(
        'bot4_stage_latency_seconds',
        'Latency per hot-path stage, seconds, cumulative since start; copied from the HDR histograms the stages ' +
          'record into (buckets are HDR bucket boundaries, counts of values below le).',
        'histogram',
        this,
      ),
      new StageSummary(
        'bot4_stage_latency_quantile_seconds',
        'p50/p99/p99.9 latency per hot-path stage since start, seconds, from the HDR histograms (0.1% precision).',
        'summary',
        this,
      ),
    ];
    // Structurally a prom-client metric (name, help, type, get, reset): the registry needs nothing else.
    for (const m of metrics) registry.registerMetric(m as unknown as Metric);
  }
}
