// Latency model of the simulated venue: order entry (strategy -> matching engine), response (matching engine
// -> strategy) and market data (exchange -> strategy), each constant or lognormal from a seeded stream.
// Units: integer microseconds (samples are rounded, never negative). One sampler class: monomorphic calls.

import { Bot4Error, ErrorCode } from '../../core/errors.ts';
import { Prng } from './rng.ts';

/**
 * A latency: a constant in microseconds, or a lognormal given by its median and 99th percentile (both micros,
 * p99 >= median), optionally floored at `min` (a wire never beats the speed of light).
 */
export type LatencySpec = number | { readonly median: number; readonly p99: number; readonly min?: number };

/** z of the 99th percentile of the standard normal. */
const Z99 = 2.3263478740408408;

export class LatencySampler {
  /** Median (constant when sigma is 0), micros. */
  readonly median: number;
  readonly p99: number;
  readonly min: number;
  private readonly mu: number;
  private readonly sigma: number;
  private readonly rng: Prng;

  constructor(spec: LatencySpec, seed: number, stream: number, what: string) {
    if (typeof spec === 'number') {
      check(spec, `${what}`);
      this.median = spec;
      this.p99 = spec;
      this.min = spec;
      this.mu = 0;
      this.sigma = 0;
    } else {
      check(spec.median, `${what}.median`);
      check(spec.p99, `${what}.p99`);
      const min = spec.min ?? 0;
      check(min, `${what}.min`);
      if (spec.p99 < spec.median) {
        throw new Bot4Error(
          ErrorCode.CONFIG_INVALID,
          `latency ${what}: p99 ${spec.p99} us must be >= median ${spec.median} us`,
          { what, median: spec.median, p99: spec.p99 },
        );
      }
      if (spec.median === 0 && spec.p99 > 0) {
        throw new Bot4Error(
          ErrorCode.CONFIG_INVALID,
          `latency ${what}: a lognormal needs median > 0 us (got 0 with p99 ${spec.p99}); use a constant 0 instead`,
          { what },
        );
      }
      this.median = spec.median;
      this.p99 = spec.p99;
      this.min = min;
      this.mu = spec.median > 0 ? Math.log(spec.median) : 0;
      this.sigma = spec.median > 0 ? Math.log(spec.p99 / spec.median) / Z99 : 0;
    }
    this.rng = new Prng(seed, stream);
  }

  get isConstant(): boolean {
    return this.sigma === 0;
  }

  /** One latency in whole microseconds. */
  sample(): number {
    if (this.sigma === 0) return this.median;
    const x = Math.round(Math.exp(this.mu + this.sigma * this.rng.normal()));
    return Math.max(x, this.min);
  }
}

function check(v: number, what: string): void {
  if (!(Number.isFinite(v) && v >= 0 && Number.isInteger(v))) {
    throw new Bot4Error(
      ErrorCode.CONFIG_INVALID,
      `latency ${what} must be a whole number of microseconds >= 0, got ${v}`,
      {
        what,
        value: v,
      },
    );
  }
}
