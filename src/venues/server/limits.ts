// Request-weight and order-rate limits as Binance enforces them: weight per IP in fixed one-minute windows
// (X-MBX-USED-WEIGHT-1M), new orders per account in 10-second and one-day windows (X-MBX-ORDER-COUNT-*).
// Past the weight limit a request gets 429 (-1003, Retry-After = seconds to the window's end); a client that
// keeps sending after a 429 is banned with 418 for `banMs`, as Binance does. Times are wall-clock ms.

import { wallMicros } from '../../core/clock.ts';
import { ApiError, BinanceCode } from './errors.ts';

/** Wall-clock milliseconds: limits, listen keys, server time and signatures all live on the wall clock. */
export function wallMs(): number {
  return Math.floor(wallMicros() / 1000);
}

export interface LimitOptions {
  /** REQUEST_WEIGHT per minute; Binance spot: 6000. */
  weightPerMinute?: number;
  /** ORDERS per 10 s; Binance spot: 100. */
  ordersPer10s?: number;
  /** ORDERS per day; Binance spot: 200000. */
  ordersPerDay?: number;
  /** How long an IP that ignored a 429 is banned (418); Binance starts at 2 minutes. */
  banMs?: number;
}

interface IpState {
  window: number;
  used: number;
  /** A 429 was answered in this window: the next request over the limit is banned. */
  warned: boolean;
  bannedUntil: number;
}

interface OrderState {
  window10s: number;
  count10s: number;
  day: number;
  countDay: number;
}

export class RateLimits {
  weightPerMinute: number;
  readonly ordersPer10s: number;
  readonly ordersPerDay: number;
  readonly banMs: number;
  private readonly ips = new Map<string, IpState>();
  private readonly orders = new Map<string, OrderState>();

  constructor(o: LimitOptions = {}) {
    this.weightPerMinute = o.weightPerMinute ?? 6000;
    this.ordersPer10s = o.ordersPer10s ?? 100;
    this.ordersPerDay = o.ordersPerDay ?? 200_000;
    this.banMs = o.banMs ?? 120_000;
  }

  /** exchangeInfo.rateLimits. */
  describe(): Record<string, unknown>[] {
    return [
      { rateLimitType: 'REQUEST_WEIGHT', interval: 'MINUTE', intervalNum: 1, limit: this.weightPerMinute },
      { rateLimitType: 'ORDERS', interval: 'SECOND', intervalNum: 10, limit: this.ordersPer10s },
      { rateLimitType: 'ORDERS', interval: 'DAY', intervalNum: 1, limit: this.ordersPerDay },
      { rateLimitType: 'RAW_REQUESTS', interval: 'MINUTE', intervalNum: 5, limit: 61000 },
    ];
  }

  /** Adds a request's weight for an IP; throws 429/418 past the limit. Returns the weight used this minute. */
  spend(ip: string, weight: number, nowMs: number): number {
    let s = this.ips.get(ip);
    const window = nowMs - (nowMs % 60_000);
    if (s === undefined) {
      s = { window, used: 0, warned: false, bannedUntil: 0 };
      this.ips.set(ip, s);
    }
    if (s.bannedUntil > nowMs) {
      throw new ApiError(
        BinanceCode.TOO_MANY_REQUESTS,
        `Way too many requests; IP(${ip}) banned until ${s.bannedUntil}. Please use the websocket for live updates to avoid bans.`,
        418,
        Math.ceil((s.bannedUntil - nowMs) / 1000),
      );
    }
    if (s.window !== window) {
      s.window = window;
      s.used = 0;
      s.warned = false;
    }
    s.used += weight;
    if (s.used > this.weightPerMinute) {
      if (s.warned) {
        s.bannedUntil = nowMs + this.banMs;
        throw new ApiError(
          BinanceCode.TOO_MANY_REQUESTS,
          `Way too many requests; IP(${ip}) banned until ${s.bannedUntil}. Please use the websocket for live updates to avoid bans.`,
          418,
          Math.ceil(this.banMs / 1000),
        );
      }
      s.warned = true;
      throw new ApiError(
        BinanceCode.TOO_MANY_REQUESTS,
        `Too much request weight used; current limit is ${this.weightPerMinute} request weight per 1 MINUTE. Please use the websocket for live updates to avoid polling the API.`,
        429,
        Math.ceil((window + 60_000 - nowMs) / 1000),
      );
    }
    return s.used;
  }

  used(ip: string, nowMs: number): number {
    const s = this.ips.get(ip);
    return s === undefined || s.window !== nowMs - (nowMs % 60_000) ? 0 : s.used;
  }

  /** GET /api/v3/rateLimit/order: the key's order counts in the current windows. */
  orderCounts(apiKey: string, nowMs: number): Record<string, unknown>[] {
    const s = this.orders.get(apiKey);
    const c10 = s !== undefined && s.window10s === nowMs - (nowMs % 10_000) ? s.count10s : 0;
    const cDay = s !== undefined && s.day === nowMs - (nowMs % 86_400_000) ? s.countDay : 0;
    return [
      { rateLimitType: 'ORDERS', interval: 'SECOND', intervalNum: 10, limit: this.ordersPer10s, count: c10 },
      { rateLimitType: 'ORDERS', interval: 'DAY', intervalNum: 1, limit: this.ordersPerDay, count: cDay },
    ];
  }

  /** Counts a new order for an API key; -1015 (429) past either order limit. Returns [10 s, day] counts. */
  order(apiKey: string, nowMs: number): [number, number] {
    let s = this.orders.get(apiKey);
    const w = nowMs - (nowMs % 10_000);
    const d = nowMs - (nowMs % 86_400_000);
    if (s === undefined) {
      s = { window10s: w, count10s: 0, day: d, countDay: 0 };
      this.orders.set(apiKey, s);
    }
    if (s.window10s !== w) {
      s.window10s = w;
      s.count10s = 0;
    }
    if (s.day !== d) {
      s.day = d;
      s.countDay = 0;
    }
    s.count10s++;
    s.countDay++;
    if (s.count10s > this.ordersPer10s) {
      throw new ApiError(
        BinanceCode.TOO_MANY_ORDERS,
        `Too many new orders; current limit is ${this.ordersPer10s} orders per 10 SECOND.`,
        429,
        Math.ceil((w + 10_000 - nowMs) / 1000),
      );
    }
    if (s.countDay > this.ordersPerDay) {
      throw new ApiError(
        BinanceCode.TOO_MANY_ORDERS,
        `Too many new orders; current limit is ${this.ordersPerDay} orders per 1 DAY.`,
        429,
        Math.ceil((d + 86_400_000 - nowMs) / 1000),
      );
    }
    return [s.count10s, s.countDay];
  }
}
