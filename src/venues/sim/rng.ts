// Seeded pseudo-random numbers for the simulated exchange (latency samples, probabilistic queue model), so a
// run is reproducible bit for bit from its seed. sfc32 on 32-bit integers: no allocation, no BigInt, and each
// consumer gets its own stream (derived seed) so enabling one random model never shifts another's samples.

/** Small Fast Counter (sfc32, public domain, PractRand-clean to 2^40+ bytes); state is four uint32 words. */
export class Prng {
  private a = 0;
  private b = 0;
  private c = 0;
  private d = 0;
  /** A cached second normal deviate from Box-Muller (NaN when none is cached). */
  private spare = Number.NaN;

  constructor(seed: number, stream = 0) {
    this.reseed(seed, stream);
  }

  /** Restarts the sequence; `stream` separates independent consumers of one seed. */
  reseed(seed: number, stream = 0): void {
    // splitmix32 spreads the seed over the state, so nearby seeds give unrelated sequences.
    let s = (seed ^ Math.imul(stream + 1, 0x9e3779b9)) >>> 0;
    const next = (): number => {
      s = (s + 0x9e3779b9) >>> 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.a = next();
    this.b = next();
    this.c = next();
    this.d = 1;
    this.spare = Number.NaN;
    for (let i = 0; i < 12; i++) this.nextU32();
  }

  /** Uniform integer in [0, 2^32). */
  nextU32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform double in [0, 1) with 32 bits of randomness (enough for latencies and probabilities). */
  next(): number {
    return this.nextU32() / 4294967296;
  }

  /** Uniform integer in [0, n), n <= 2^32 (slightly biased for huge n; irrelevant at simulation sizes). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /**
   * Fills `out` with int(n) draws, the very ones as many int(n) calls give, in one loop over local state (for
   * bulk consumers such as the Monte Carlo of a report: millions of draws).
   */
  fillInt(out: Uint32Array, n: number): void {
    let a = this.a;
    let b = this.b;
    let c = this.c;
    let d = this.d;
    for (let i = 0; i < out.length; i++) {
      const t = (((a + b) | 0) + d) | 0;
      d = (d + 1) | 0;
      a = b ^ (b >>> 9);
      b = (c + (c << 3)) | 0;
      c = (c << 21) | (c >>> 11);
      c = (c + t) | 0;
      out[i] = Math.floor(((t >>> 0) / 4294967296) * n);
    }
    this.a = a;
    this.b = b;
    this.c = c;
    this.d = d;
  }

  /** Standard normal deviate (Box-Muller, polar-free form); every second call is free. */
  normal(): number {
    const s = this.spare;
    if (!Number.isNaN(s)) {
      this.spare = Number.NaN;
      return s;
    }
    // 1 - next() is in (0, 1], so the log is finite.
    const r = Math.sqrt(-2 * Math.log(1 - this.next()));
    const th = 2 * Math.PI * this.next();
    this.spare = r * Math.sin(th);
    return r * Math.cos(th);
  }
}
