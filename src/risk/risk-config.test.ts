import { describe, expect, it } from 'vitest';
import { Bot4Error, ErrorCode } from '../core/errors.ts';
import { parseRiskConfig } from './risk-config.ts';

function errorOf(f: () => unknown): Bot4Error {
  try {
    f();
  } catch (e) {
    if (e instanceof Bot4Error) return e;
    throw e;
  }
  throw new Error('expected a Bot4Error');
}

describe('risk config', () => {
  it('has defaults: enabled, no limits, balance checks on, breakers with a one-minute cool-down', () => {
    const c = parseRiskConfig({});
    expect(c.enabled).toBe(true);
    expect(c.accountCurrency).toBe('USDT');
    expect(c.limits).toEqual({ leverage: 1 });
    expect(c.balance).toEqual({ enabled: true, reserveOpenOrders: true });
    expect(c.breakers.cooldownMs).toBe(60_000);
    expect(c.breakers.staleDataMs).toBe(0);
    expect(c.killSwitch.flatten).toBe(false);
  });

  it('keeps decimals exact, from text or JSON numbers', () => {
    const c = parseRiskConfig({
      limits: { maxOrderQty: 0.3, maxOrderNotional: '10000.5' },
      total: { maxGrossExposure: 1e-7 },
    });
    expect(c.limits.maxOrderQty).toBe('0.3');
    expect(c.limits.maxOrderNotional).toBe('10000.5');
    expect(c.total.maxGrossExposure).toBe('0.0000001');
  });

  it('names an unknown key under risk', () => {
    const e = errorOf(() => parseRiskConfig({ limits: { maxOrderQtyy: '1' } }));
    expect(e.code).toBe(ErrorCode.CONFIG_UNKNOWN_KEY);
    expect(e.message).toContain("'risk.limits.maxOrderQtyy'");
    const inst = errorOf(() => parseRiskConfig({ instruments: { BTCUSDT: { maxPos: '1' } } }));
    expect(inst.message).toContain("'risk.instruments.BTCUSDT.maxPos'");
  });

  it('names an invalid key', () => {
    const e = errorOf(() => parseRiskConfig({ limits: { maxOrderNotional: '-5' } }));
    expect(e.code).toBe(ErrorCode.CONFIG_INVALID);
    expect(e.message).toContain("'risk.limits.maxOrderNotional'");
    expect(errorOf(() => parseRiskConfig({ breakers: { maxRejectRate: 2 } })).message).toContain(
      "'risk.breakers.maxRejectRate'",
    );
    expect(
      errorOf(() => parseRiskConfig({ lossLimits: { dailyLoss: { threshold: '5', action: 'STOP' } } }))
        .message,
    ).toContain("'risk.lossLimits.dailyLoss.action'");
  });
});
