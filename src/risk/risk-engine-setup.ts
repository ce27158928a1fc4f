// Setup helpers of the risk engine (edge code, not the check): rate-limit token buckets, limits parsed from config
// text into money units or lots, the breaker and loss-limit options from the risk config, exact per-instrument
// constants, the integer fee, and typed-array growth. Units as in risk-engine.ts.

import { Bot4Error, ErrorCode } from '../core/errors.ts';
import type { Currency } from '../model/currency.ts';
import { decimalToStepsRounded, Rounding, type Step } from '../model/decimal.ts';
import type { Instrument } from '../model/instrument.ts';
import type { BreakerOptions } from './breakers.ts';
import { type LossLimitOptions, TradingState } from './loss-limits.ts';
import type { RiskConfig } from './risk-config.ts';

const INF = Number.POSITIVE_INFINITY;
const MAX_SAFE = Number.MAX_SAFE_INTEGER;
/** Fee rates are integers in 1e-8 (Instrument FeeRate). */
export const FEE_DEN = 100_000_000;

/** Token buckets refilled from order timestamps (never the wall clock); one bucket per venue or strategy id. */
export class TokenBuckets {
  readonly on: boolean = false;
  readonly perUs: number = 0;
  readonly burst: number = 0;
  tokens: Float64Array = new Float64Array(0);
  last: Float64Array = new Float64Array(0);

  constructor(perSecond: number, burst: number) {
    this.on = perSecond > 0;
    this.perUs = perSecond / 1_000_000;
    this.burst = burst;
  }

  static of(cfg: { perSecond: number; burst: number } | undefined): TokenBuckets {
    return cfg === undefined ? new TokenBuckets(0, 0) : new TokenBuckets(cfg.perSecond, cfg.burst);
  }

  /** Tokens available at `ts` (a timestamp before the last one refills nothing). */
  at(id: number, ts: number): number {
    const t = this.tokens[id]!;
    const dt = ts - this.last[id]!;
    if (!(dt > 0)) return t;
    const r = t + dt * this.perUs;
    const burst = this.burst;
    // biome-ignore lint/complexity/useMathMinMax: Math.min's NaN and -0 handling costs the check about 3 ns; r is never NaN here (dt > 0)
    return r < burst ? r : burst;
  }

  /** Takes one of the `available` tokens found at `ts`. */
  take(id: number, available: number, ts: number): void {
    this.tokens[id] = available - 1;
    if (ts > this.last[id]!) this.last[id] = ts;
  }

  ensure(id: number): void {
    if (id < this.tokens.length) return;
    const n = Math.max(id + 1, this.tokens.length * 2, 8);
    const old = this.tokens.length;
    this.tokens = growF64(this.tokens, n);
    this.last = growF64(this.last, n);
    this.tokens.fill(this.burst, old);
    this.last.fill(Number.NEGATIVE_INFINITY, old);
  }
}

/** A resting price ahead of another in its side's list (strictly: ties queue after the ones already there). */
/**
 * round_half_up(n * rate / 1e8) for a notional n (safe integer >= 0) and a rate in 1e-8 units (0 < rate <= 1e6),
 * exactly: n is split at 1e8 so every product stays below 2^53.
 */
export function feeHalfUp(n: number, rate: number): number {
  const a = Math.floor(n / FEE_DEN);
  const b = n - a * FEE_DEN;
  const lo = b * rate;
  let q = Math.floor(lo / FEE_DEN);
  let rem = lo - q * FEE_DEN;
  if (rem < 0) {
    q--;
    rem += FEE_DEN;
  } else if (rem >= FEE_DEN) {
    q++;
    rem -= FEE_DEN;
  }
  return a * rate + q + (rem * 2 >= FEE_DEN ? 1 : 0);
}

/** Base-currency money units in one lot (lot size x multiplier), exact when a whole number. */
export function baseUnitsPerLot(inst: Instrument): number {
  const l = inst.lotSize;
  const m = inst.multiplier;
  const e = inst.base.precision - l.scale - m.scale;
  if (e >= 0) return Number(l.unitsBig * m.unitsBig * 10n ** BigInt(e));
  return l.value * m.value * 10 ** inst.base.precision;
}

/** tick * lot * multiplier in settlement money units, when that is a whole safe integer; else 0. */
export function exactUnitsPerTickLot(inst: Instrument): number {
  const t = inst.tickSize;
  const l = inst.lotSize;
  const m = inst.multiplier;
  const e = inst.settlement.precision - t.scale - l.scale - m.scale;
  if (e < 0) return 0;
  const k = t.unitsBig * l.unitsBig * m.unitsBig * 10n ** BigInt(e);
  return k <= BigInt(MAX_SAFE) ? Number(k) : 0;
}

/** "12345.67" -> "12,345.67". */
export function groupDigits(text: string): string {
  const neg = text.startsWith('-');
  const body = neg ? text.slice(1) : text;
  const dot = body.indexOf('.');
  const int = dot < 0 ? body : body.slice(0, dot);
  const frac = dot < 0 ? '' : body.slice(dot);
  return `${neg ? '-' : ''}${int.replace(/\B(?=(\d{3})+(?!\d))/g, ',')}${frac}`;
}

/** Decimal text in a currency -> money units (rounded down: a limit never grows by rounding); Infinity if absent. */
export function money(text: string | undefined, cur: Currency): number {
  if (text === undefined) return INF;
  return steps(text, cur.unit, `risk limit in ${cur.code}`);
}

export function steps(text: string, step: Step, what: string): number {
  const v = decimalToStepsRounded(text, step, Rounding.FLOOR);
  if (Number.isNaN(v)) {
    throw new Bot4Error(
      ErrorCode.CONFIG_INVALID,
      `${what}: ${text} is not representable on the ${step.text} grid`,
      {
        value: text,
      },
    );
  }
  return v;
}

export function breakerOptions(c: RiskConfig, acct: Currency): Partial<BreakerOptions> {
  const b = c.breakers;
  return {
    cooldownUs: b.cooldownMs * 1000,
    halfOpenProbes: b.halfOpenProbes,
    windowUs: b.windowMs * 1000,
    minSamples: b.minSamples,
    maxRejectRate: b.maxRejectRate,
    maxErrorRate: b.maxErrorRate,
    maxConsecutiveRejects: b.maxConsecutiveRejects,
    maxLatencyNs: b.maxLatencyMs === undefined ? INF : b.maxLatencyMs * 1e6,
    latencyBreaches: b.latencyBreaches,
    staleDataUs: b.staleDataMs * 1000,
    maxLossInWindow: money(b.maxLossInWindow, acct),
  };
}

export function lossLimitOptions(c: RiskConfig, acct: Currency): LossLimitOptions {
  const l = c.lossLimits;
  const out: LossLimitOptions = {};
  const rule = (
    r: { threshold: string; action: 'REDUCING' | 'HALTED' | 'KILL'; cooldownMs: number },
    units: number,
  ) => ({
    threshold: units,
    action: r.action === 'KILL' ? TradingState.HALTED : TradingState[r.action],
    kill: r.action === 'KILL',
    fraction: false,
    cooldownUs: r.cooldownMs * 1000,
  });
  const pct = (t: string): number => Number(t.slice(0, -1)) / 100;
  if (l.dailyLoss !== undefined) {
    const t = l.dailyLoss.threshold;
    const inPercent = t.endsWith('%');
    out.dailyLoss = { ...rule(l.dailyLoss, inPercent ? pct(t) : money(t, acct)), fraction: inPercent };
  }
  if (l.drawdown !== undefined) {
    const t = l.drawdown.threshold;
    out.drawdown = rule(l.drawdown, t.endsWith('%') ? pct(t) : Number(t));
  }
  if (l.perTrade !== undefined) {
    out.perTrade = rule(l.perTrade, money(l.perTrade.threshold, acct));
  }
  if (l.consecutiveLosses !== undefined) {
    out.consecutiveLosses = {
      threshold: l.consecutiveLosses.count,
      action:
        l.consecutiveLosses.action === 'KILL'
          ? TradingState.HALTED
          : TradingState[l.consecutiveLosses.action],
      kill: l.consecutiveLosses.action === 'KILL',
      fraction: false,
      cooldownUs: l.consecutiveLosses.cooldownMs * 1000,
    };
  }
  return out;
}

export function growU8(a: Uint8Array, n: number): Uint8Array {
  const b = new Uint8Array(n);
  b.set(a.subarray(0, Math.min(a.length, n)));
  return b;
}

export function growI32(a: Int32Array, n: number): Int32Array {
  const b = new Int32Array(n);
  b.set(a.subarray(0, Math.min(a.length, n)));
  return b;
}

export function growF64(a: Float64Array, n: number): Float64Array {
  const b = new Float64Array(n);
  b.set(a.subarray(0, Math.min(a.length, n)));
  return b;
}
