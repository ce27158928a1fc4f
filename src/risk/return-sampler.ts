// Returns of every instrument sampled at a fixed event-time interval from the risk engine's reference prices,
// into a rolling covariance: the input of the VaR limit and of correlation clusters. Per price update O(1);
// per sample O(N^2) with no allocation (the covariance matrix is refreshed into a preallocated array then).
// Units: returns as fractions, times in micros, exposures (VaR weights) and VaR in money units.

import { correlationClusters, normalQuantile, RollingCovariance } from './correlation.ts';

export interface ReturnSamplerOptions {
  sampleUs: number;
  window: number;
  minSamples: number;
}

export class ReturnSampler {
  readonly sampleUs: number;
  readonly minSamples: number;
  private readonly window: number;
  private cov: RollingCovariance;
  /** Series i = instrument id i. Last price seen, and the price at the previous sample (NaN before one). */
  private last: Float64Array;
  private prev: Float64Array;
  private x: Float64Array;
  /** The covariance matrix as of the last sample (row-major n x n). */
  matrix: Float64Array;
  /** Union-find space of correlationClusters (3n). */
  private scratch: Int32Array;
  private nextSample = Number.NaN;
  /** Samples taken since the start (the window holds the last `window` of them). */
  samples = 0;

  constructor(n: number, options: ReturnSamplerOptions) {
    this.sampleUs = options.sampleUs;
    this.minSamples = options.minSamples;
    this.window = options.window;
    const size = Math.max(1, n);
    this.cov = new RollingCovariance(size, options.window);
    this.last = new Float64Array(size).fill(Number.NaN);
    this.prev = new Float64Array(size).fill(Number.NaN);
    this.x = new Float64Array(size);
    this.matrix = new Float64Array(size * size);
    this.scratch = new Int32Array(3 * size);
  }

  get n(): number {
    return this.cov.n;
  }

  /** Enough samples in the window to act on. */
  get ready(): boolean {
    return this.cov.count >= this.minSamples;
  }

  /**
   * A reference price of instrument `i` at `ts`. Returns true when it closed a sample (every interval
   * boundary crossed since the last one makes one sample: the return over the gap). An instrument beyond the
   * series count restarts the estimate with room for it (edge: a new instrument, once).
   */
  onPrice(i: number, px: number, ts: number): boolean {
    if (i >= this.cov.n) this.grow(i + 1);
    let sampled = false;
    if (Number.isNaN(this.nextSample)) this.nextSample = (Math.floor(ts / this.sampleUs) + 1) * this.sampleUs;
    else if (ts >= this.nextSample) {
      this.sample();
      this.nextSample = (Math.floor(ts / this.sampleUs) + 1) * this.sampleUs;
      sampled = true;
    }
    this.last[i] = px;
    return sampled;
  }

  private sample(): void {
    const n = this.cov.n;
    const x = this.x;
    const last = this.last;
    const prev = this.prev;
    for (let i = 0; i < n; i++) {
      const a = prev[i]!;
      const b = last[i]!;
      // No price yet on either side: a zero return (it adds no variance, and no spurious correlation).
      x[i] = a > 0 && b > 0 ? b / a - 1 : 0;
      prev[i] = b;
    }
    this.cov.update(x);
    this.samples++;
    this.cov.covarianceMatrix(this.matrix);
  }

  /**
   * Parametric VaR of signed exposures `w` (money units, index = instrument id), at `confidence`, over
   * `horizonSamples` sampling intervals (sqrt-time scaling). NaN before `ready`. Edge form of portfolioSigma.
   */
  valueAtRisk(w: Float64Array, confidence: number, horizonSamples: number): number {
    if (!this.ready) return Number.NaN;
    this.portfolioSigma(w);
    return normalQuantile(confidence) * this.sigma * Math.sqrt(horizonSamples);
  }

  /** Hot path: sqrt(w' C w) per sampling interval into `sigma` (a field: a returned double may be boxed). */
  sigma = 0;
  portfolioSigma(w: Float64Array): void {
    const n = this.cov.n;
    const c = this.matrix;
    let v = 0;
    for (let i = 0; i < n; i++) {
      let row = 0;
      for (let j = 0; j < n; j++) row += c[i * n + j]! * w[j]!;
      v += w[i]! * row;
    }
    this.sigma = v > 0 ? Math.sqrt(v) : 0;
  }

  /** Cluster labels by |correlation| > threshold into `labels` (length >= n); see correlationClusters. */
  clusters(threshold: number, labels: Int32Array): number {
    return correlationClusters(this.cov, threshold, labels, this.scratch);
  }

  private grow(n: number): void {
    const old = this.cov.n;
    this.cov = new RollingCovariance(n, this.window);
    const grown = (a: Float64Array): Float64Array => {
      const b = new Float64Array(n).fill(Number.NaN);
      b.set(a.subarray(0, old));
      return b;
    };
    this.last = grown(this.last);
    this.prev = grown(this.prev);
    this.x = new Float64Array(n);
    this.matrix = new Float64Array(n * n);
    this.scratch = new Int32Array(3 * n);
    this.samples = 0;
  }
}
