// Token buckets for the control API: per caller (token id, or the client address before authentication), a
// bucket of `burst` requests refilled at `perSec`; an empty bucket answers 429 with Retry-After. The map is
// bounded (the oldest key is dropped past MAX_KEYS) so a flood of addresses cannot grow it without limit.
// Units: seconds, requests. Edge code (per HTTP request, never on the trading path).

import { monoMillis } from '../core/clock.ts';

const MAX_KEYS = 4096;

export interface RateLimit {
  /** Sustained requests per second. */
  perSec: number;
  /** Requests allowed at once. */
  burst: number;
}

export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  private readonly limit: RateLimit;
  private readonly now: () => number;

  constructor(limit: RateLimit, now: () => number = monoMillis) {
    this.limit = limit;
    this.now = now;
  }

  /** Takes one request from `key`'s bucket: 0 when allowed, else the seconds until one is. */
  take(key: string): number {
    const t = this.now();
    const { perSec, burst } = this.limit;
    let b = this.buckets.get(key);
    if (b === undefined) {
      if (this.buckets.size >= MAX_KEYS) this.buckets.delete(this.buckets.keys().next().value!);
      b = { tokens: burst, at: t };
      this.buckets.set(key, b);
    } else {
      b.tokens = Math.min(burst, b.tokens + ((t - b.at) / 1000) * perSec);
      b.at = t;
    }
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - b.tokens) / perSec));
  }
}
