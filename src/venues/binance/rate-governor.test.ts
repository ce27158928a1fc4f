import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  GovernorVerdict,
  RateGovernor,
  RateLimitError,
  type RateLimitEvent,
  type RateLimitSpec,
} from './rate-governor.ts';

// The spot exchangeInfo fixture: weight 1200/1m, orders 50/10s and 160000/1d, raw requests 6100/5m.
const INFO = JSON.parse(
  readFileSync(
    new URL(
      '../../../../shared/data/nautilus_trader/binance_fixtures/http_responses/http_spot_market_exchange_info.json',
      import.meta.url,
    ),
    'utf8',
  ),
) as { rateLimits: RateLimitSpec[] };

const T0 = 1_700_000_040_000 + 40_000; // 40 s into a minute, 0 s into a 10 s window

describe('RateGovernor', () => {
  it('counts weight per minute window and makes the caller wait for the roll-over before the limit', () => {
    const events: RateLimitEvent[] = [];
    const g = new RateGovernor(INFO.rateLimits, {
      safety: 0.9,
      maxWaitMs: 30_000,
      onLimit: (e) => events.push(e),
    });
    for (let i = 0; i < 54; i++) expect(g.check(20, false, T0)).toBe(GovernorVerdict.GO);
    // 1080 of 1200 used: the 90% cap is reached, the next request waits 20 s for the next minute.
    expect(g.check(20, false, T0)).toBe(GovernorVerdict.WAIT);
    expect(g.waitMs).toBe(20_000);
    expect(events[0]).toMatchObject({
      verdict: GovernorVerdict.WAIT,
      limit: 'weight 1m',
      used: 1080,
      max: 1080,
    });
    expect(g.check(20, false, T0 + 20_000)).toBe(GovernorVerdict.GO);
  });

  it('rejects when the wait would be longer than maxWaitMs', () => {
    const g = new RateGovernor(INFO.rateLimits, { maxWaitMs: 1_000 });
    expect(g.check(1100, false, T0)).toBe(GovernorVerdict.REJECT);
    expect(g.rejections).toBe(1);
  });

  it('counts orders in the 10 s window only for orders', () => {
    const g = new RateGovernor(INFO.rateLimits, { maxWaitMs: 10_000 });
    for (let i = 0; i < 45; i++) expect(g.check(1, true, T0 + 100)).toBe(GovernorVerdict.GO);
    expect(g.check(1, true, T0 + 100)).toBe(GovernorVerdict.WAIT);
    expect(g.waitMs).toBe(9_900);
    expect(g.check(1, false, T0 + 100)).toBe(GovernorVerdict.GO);
  });

  it('takes the venue count from the headers when it is higher than its own', () => {
    const g = new RateGovernor(INFO.rateLimits, { maxWaitMs: 30_000 });
    g.check(1, true, T0);
    const h: Record<string, string> = { 'x-mbx-used-weight-1m': '1079', 'x-mbx-order-count-10s': '3' };
    g.onHeaders((n) => h[n], T0);
    expect(g.usage(T0).slice(0, 2)).toEqual([
      { limit: 'weight 1m', used: 1079, max: 1200 },
      { limit: 'orders 10s', used: 3, max: 50 },
    ]);
    expect(g.check(1, false, T0)).toBe(GovernorVerdict.GO);
    expect(g.check(1, false, T0)).toBe(GovernorVerdict.WAIT);
    // A lower count from the venue does not undo ours.
    g.onHeaders((n) => (n === 'x-mbx-used-weight-1m' ? '5' : undefined), T0);
    expect(g.usage(T0)[0]!.used).toBe(1080);
  });

  it('stops everything for Retry-After after a 429, and two minutes after a 418 without the header', () => {
    const g = new RateGovernor(INFO.rateLimits, { maxWaitMs: 60_000 });
    g.onRateLimited(429, 7, T0);
    expect(g.check(1, false, T0 + 6_999)).toBe(GovernorVerdict.WAIT);
    expect(g.waitMs).toBe(1);
    expect(g.check(1, false, T0 + 7_000)).toBe(GovernorVerdict.GO);
    g.onRateLimited(418, Number.NaN, T0 + 7_000);
    expect(g.check(1, false, T0 + 7_000)).toBe(GovernorVerdict.REJECT);
    expect(g.waitMs).toBe(120_000);
    expect([g.backoffs, g.bans]).toEqual([1, 1]);
  });

  it('acquire waits for a short roll-over and throws a retryable error for a long one', async () => {
    const g = new RateGovernor(
      [{ rateLimitType: 'REQUEST_WEIGHT', interval: 'SECOND', intervalNum: 1, limit: 10 }],
      {
        safety: 1,
        maxWaitMs: 2_000,
      },
    );
    const base = Date.now();
    const now = () => base + (Date.now() - base);
    await g.acquire(10, false, now);
    const t = Date.now();
    await g.acquire(1, false, now);
    expect(Date.now() - t).toBeLessThan(1_500);
    expect(g.waits).toBe(1);
    g.onRateLimited(429, 60, now());
    await expect(g.acquire(1, false, now)).rejects.toBeInstanceOf(RateLimitError);
  }, 5_000);
});
