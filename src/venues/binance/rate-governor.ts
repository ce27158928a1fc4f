// A rate-limit governor for one Binance account and IP: counts request weight and orders in the same fixed
// windows Binance counts them in (aligned to the epoch: a MINUTE window starts at a whole minute), takes the
// venue's own count from the X-MBX-USED-WEIGHT-<n><u> / X-MBX-ORDER-COUNT-<n><u> headers whenever it is higher,
// and refuses to spend past a safety share of each limit: the caller waits for the window to roll over when
// that is soon, and gets a rejection otherwise. A 429 or 418 stops all requests until its Retry-After.
// Limits come from exchangeInfo.rateLimits. Units: milliseconds of venue time (Binance counts in its time).

export interface RateLimitSpec {
  rateLimitType: string;
  interval: string;
  intervalNum: number;
  limit: number;
}

export const LimitKind = { WEIGHT: 0, ORDERS: 1, RAW: 2 } as const;
export type LimitKind = (typeof LimitKind)[keyof typeof LimitKind];

const INTERVAL_MS: Readonly<Record<string, number>> = {
  SECOND: 1_000,
  MINUTE: 60_000,
  HOUR: 3_600_000,
  DAY: 86_400_000,
};
const INTERVAL_LETTER: Readonly<Record<string, string>> = { SECOND: 's', MINUTE: 'm', HOUR: 'h', DAY: 'd' };

/** One counted window. */
class Window {
  readonly kind: LimitKind;
  readonly lengthMs: number;
  readonly limit: number;
  /** The header suffix naming it, e.g. "1m" (X-MBX-USED-WEIGHT-1M), "10s" (X-MBX-ORDER-COUNT-10S). */
  readonly tag: string;
  start = 0;
  used = 0;

  constructor(kind: LimitKind, lengthMs: number, limit: number, tag: string) {
    this.kind = kind;
    this.lengthMs = lengthMs;
    this.limit = limit;
    this.tag = tag;
  }

  roll(nowMs: number): void {
    const start = nowMs - (nowMs % this.lengthMs);
    if (start !== this.start) {
      this.start = start;
      this.used = 0;
    }
  }
}

/** Why a request may not go now. */
export const GovernorVerdict = { GO: 0, WAIT: 1, REJECT: 2 } as const;
export type GovernorVerdict = (typeof GovernorVerdict)[keyof typeof GovernorVerdict];

export interface RateGovernorOptions {
  /** Share of each limit the governor lets us use (default 0.9): the rest covers other clients of the key/IP. */
  safety?: number;
  /** The longest wait for a window to roll over before a request is rejected instead (default 5000 ms). */
  maxWaitMs?: number;
  /** A seam for metrics and logs: called for every wait or rejection the governor imposes. */
  onLimit?: (e: RateLimitEvent) => void;
}

export interface RateLimitEvent {
  verdict: GovernorVerdict;
  /** What limit: "weight 1m", "orders 10s", "ban" (429/418). */
  limit: string;
  used: number;
  max: number;
  waitMs: number;
}

export class RateLimitError extends Error {
  /** Whether waiting `retryAfterMs` can help (true for every rate-limit rejection; no ban is permanent). */
  readonly retryable = true;
  readonly retryAfterMs: number;

  constructor(message: string, retryAfterMs: number) {
    super(message);
    this.name = 'RateLimitError';
    this.retryAfterMs = retryAfterMs;
  }
}

export class RateGovernor {
  private readonly windows: Window[] = [];
  private readonly safety: number;
  private readonly maxWaitMs: number;
  private readonly onLimit: ((e: RateLimitEvent) => void) | undefined;
  /** No request before this venue time (ms), after a 429/418. */
  blockedUntilMs = 0;
  waits = 0;
  rejections = 0;
  backoffs = 0;
  bans = 0;
  /** Set by `check` when it returns WAIT or REJECT, ms. */
  waitMs = 0;

  constructor(limits: readonly RateLimitSpec[], options: RateGovernorOptions = {}) {
    this.safety = options.safety ?? 0.9;
    this.maxWaitMs = options.maxWaitMs ?? 5_000;
    this.onLimit = options.onLimit;
    this.setLimits(limits);
  }

  /** (Re)reads exchangeInfo.rateLimits; counts so far are dropped (the headers bring them back). */
  setLimits(limits: readonly RateLimitSpec[]): void {
    this.windows.length = 0;
    for (const l of limits) {
      const unit = INTERVAL_MS[l.interval];
      if (unit === undefined || !(l.limit > 0) || !(l.intervalNum > 0)) continue;
      const kind =
        l.rateLimitType === 'REQUEST_WEIGHT'
          ? LimitKind.WEIGHT
          : l.rateLimitType === 'ORDERS'
            ? LimitKind.ORDERS
            : l.rateLimitType === 'RAW_REQUESTS'
              ? LimitKind.RAW
              : -1;
      if (kind === -1) continue;
      const tag = `${l.intervalNum}${INTERVAL_LETTER[l.interval]}`;
      this.windows.push(new Window(kind as LimitKind, unit * l.intervalNum, l.limit, tag));
    }
  }

  /**
   * May a request of `weight` (and one order when `order`) go at venue time `nowMs`? GO counts it; WAIT
   * means `waitMs` (set on return) until the window it would overflow rolls over; REJECT means longer.
   */
  check(weight: number, order: boolean, nowMs: number): GovernorVerdict {
    this.waitMs = 0;
    if (nowMs < this.blockedUntilMs) {
      return this.refuse(this.blockedUntilMs - nowMs, 'ban', 0, 0);
    }
    for (const w of this.windows) {
      w.roll(nowMs);
      const add = w.kind === LimitKind.ORDERS ? (order ? 1 : 0) : w.kind === LimitKind.RAW ? 1 : weight;
      if (add === 0) continue;
      const cap = Math.floor(w.limit * this.safety);
      if (w.used + add > cap) {
        const label = `${w.kind === LimitKind.ORDERS ? 'orders' : w.kind === LimitKind.RAW ? 'raw requests' : 'weight'} ${w.tag}`;
        return this.refuse(w.start + w.lengthMs - nowMs, label, w.used, cap);
      }
    }
    for (const w of this.windows) {
      w.used += w.kind === LimitKind.ORDERS ? (order ? 1 : 0) : w.kind === LimitKind.RAW ? 1 : weight;
    }
    return GovernorVerdict.GO;
  }

  private refuse(waitMs: number, limit: string, used: number, max: number): GovernorVerdict {
    this.waitMs = waitMs;
    const verdict = waitMs <= this.maxWaitMs ? GovernorVerdict.WAIT : GovernorVerdict.REJECT;
    if (verdict === GovernorVerdict.WAIT) this.waits++;
    else this.rejections++;
    this.onLimit?.({ verdict, limit, used, max, waitMs });
    return verdict;
  }

  /**
   * Waits (at most maxWaitMs) until a request may go, or throws RateLimitError. `venueNow` reads venue time
   * in ms (local clock + server offset).
   */
  async acquire(weight: number, order: boolean, venueNow: () => number): Promise<void> {
    for (;;) {
      const v = this.check(weight, order, venueNow());
      if (v === GovernorVerdict.GO) return;
      if (v === GovernorVerdict.REJECT) {
        throw new RateLimitError(
          `rate limit: request refused for ${Math.ceil(this.waitMs / 1000)} s to stay under Binance's limits`,
          this.waitMs,
        );
      }
      await new Promise((r) => setTimeout(r, Math.max(1, this.waitMs)));
    }
  }

  /**
   * Takes the venue's counts from response headers (names in any case). Binance's count includes requests
   * of other clients on the same IP/account, so ours only ever rises to it.
   */
  onHeaders(get: (name: string) => string | null | undefined, nowMs: number): void {
    for (const w of this.windows) {
      if (w.kind === LimitKind.RAW) continue;
      const name = `${w.kind === LimitKind.WEIGHT ? 'x-mbx-used-weight-' : 'x-mbx-order-count-'}${w.tag}`;
      const text = get(name);
      if (text === null || text === undefined) continue;
      const n = Number(text);
      if (!Number.isFinite(n)) continue;
      w.roll(nowMs);
      if (n > w.used) w.used = n;
    }
  }

  /** The WebSocket API's `rateLimits` entries of an answer (type, interval, count): the same as the headers. */
  onWsRateLimits(list: readonly (RateLimitSpec & { count?: number })[], nowMs: number): void {
    for (const l of list) {
      if (l.count === undefined) continue;
      const prefix = l.rateLimitType === 'REQUEST_WEIGHT' ? 'x-mbx-used-weight-' : 'x-mbx-order-count-';
      const name = `${prefix}${l.intervalNum}${INTERVAL_LETTER[l.interval] ?? '?'}`;
      this.onHeaders((n) => (n === name ? String(l.count) : undefined), nowMs);
    }
  }

  /**
   * A 429 (too many requests) or 418 (IP banned): nothing goes until Retry-After (seconds) has passed. Without
   * the header, 429 waits for the current minute to end and 418 for two minutes (Binance's shortest ban).
   */
  onRateLimited(status: number, retryAfterSec: number, nowMs: number): void {
    const fallback = status === 418 ? 120_000 : 60_000 - (nowMs % 60_000);
    const waitMs = Number.isFinite(retryAfterSec) && retryAfterSec > 0 ? retryAfterSec * 1000 : fallback;
    this.blockedUntilMs = Math.max(this.blockedUntilMs, nowMs + waitMs);
    if (status === 418) this.bans++;
    else this.backoffs++;
    this.onLimit?.({ verdict: GovernorVerdict.REJECT, limit: `http ${status}`, used: 0, max: 0, waitMs });
  }

  /** Current use of each window, for status lines: e.g. [{ limit: 'weight 1m', used: 12, max: 6000 }]. */
  usage(nowMs: number): { limit: string; used: number; max: number }[] {
    return this.windows.map((w) => {
      w.roll(nowMs);
      const what =
        w.kind === LimitKind.ORDERS ? 'orders' : w.kind === LimitKind.RAW ? 'raw requests' : 'weight';
      return { limit: `${what} ${w.tag}`, used: w.used, max: w.limit };
    });
  }
}
