// The `risk` section of the engine configuration: a zod strictObject with defaults (unknown keys are errors
// naming the key), in the style of src/core/config.ts, ready to be mounted there as `risk`.
// Units in the file: quantities in base units and money in currency units as decimals, times in ms, bands in bps.

import { z } from 'zod';
import { Bot4Error, ErrorCode } from '../core/errors.ts';

/** A non-negative decimal as JSON text ("0.5", "10000") or number (0.5); kept as exact decimal text. */
const decimal = z
  .union([
    z.string().regex(/^\d+(\.\d+)?$/, 'expected a non-negative decimal such as "10000" or "0.5"'),
    z.number().nonnegative().finite(),
  ])
  .transform((v) => (typeof v === 'string' ? v : numberText(v)));

/**
 * What a tripped limit does to trading: only position-reducing orders pass, or nothing does; a loss limit may
 * also trip the kill switch (KILL): trading HALTED, every open order cancelled and, with
 * killSwitch.flatten, every position closed.
 */
const lossAction = z.enum(['REDUCING', 'HALTED', 'KILL']);

/** Limits of one instrument; absent = no limit. Defaults apply to every instrument, overrides per key. */
const instrumentLimits = {
  /** Per order, in base units (lots are derived per instrument, rounded inwards). */
  maxOrderQty: decimal.optional(),
  /** Per order value, settlement currency. */
  maxOrderNotional: decimal.optional(),
  /** Fat-finger band: |price - reference| <= band * reference, basis points. */
  priceBandBps: z.int().positive().optional(),
  /** Worst-case |position| if every open order on the order's side fills, base units. */
  maxPosition: decimal.optional(),
  /** Value of |position| + every open order on both sides, settlement currency. */
  maxGrossExposure: decimal.optional(),
  /** Value of the worst-case one-directional position (position + open orders of one side). */
  maxNetExposure: decimal.optional(),
  maxOpenOrders: z.int().nonnegative().optional(),
  /** Margin instruments: initial margin = notional / leverage. */
  leverage: z.int().min(1).max(125).optional(),
};

const instrumentLimitsSchema = z.strictObject(instrumentLimits);

const bucket = z.strictObject({
  /** Sustained rate, per second. */
  perSecond: z.number().positive().finite(),
  /** Bucket size: how many may go at once after a quiet spell. */
  burst: z.int().positive(),
});

const rateScope = z
  .strictObject({
    orders: bucket.optional(),
    modifies: bucket.optional(),
  })
  .prefault({});

/** "5%": a percentage (of the day's opening equity for daily loss, of the equity peak for drawdown). */
const percent = z.string().regex(/^\d+(\.\d+)?%$/);

const lossLimit = z.strictObject({
  /**
   * Loss in account currency (daily, per trade) or a fraction of the equity peak (drawdown); daily loss and
   * drawdown also take a percentage, "5%" (daily: of the day's opening equity).
   */
  threshold: z.union([percent, decimal]),
  action: lossAction.default('HALTED'),
  /** Released after this long (0 = until reset; daily loss always releases at the next UTC day). */
  cooldownMs: z.int().nonnegative().default(0),
});

export const RiskConfigSchema = z.strictObject({
  /** Off: the engine uses an accept-all gate (research only). */
  enabled: z.boolean().default(true),
  /** Currency of total exposure limits, equity and loss limits; instruments settling elsewhere count only
   *  against their own limits. */
  accountCurrency: z.string().min(1).default('USDT'),
  initialState: z.enum(['ACTIVE', 'REDUCING', 'HALTED']).default('ACTIVE'),
  /** Defaults for every instrument. */
  limits: z.strictObject({ ...instrumentLimits, leverage: z.int().min(1).max(125).default(1) }).prefault({}),
  /** Per-instrument overrides, keyed "SYMBOL.VENUE" or "SYMBOL". */
  instruments: z.record(z.string().min(1), instrumentLimitsSchema).default({}),
  total: z
    .strictObject({
      maxGrossExposure: decimal.optional(),
      maxNetExposure: decimal.optional(),
      maxOpenOrders: z.int().nonnegative().optional(),
      /** Gross exposure of a cluster of instruments correlated above correlation.clusterThreshold. */
      maxClusterExposure: decimal.optional(),
      /** Gross exposure of all instruments of one venue (with shared risk: of every node on it). */
      maxVenueExposure: decimal.optional(),
    })
    .prefault({}),
  balance: z
    .strictObject({
      /** Cash: free quote >= notional + fee (buys), free base >= qty (sells). Margin: initial margin. */
      enabled: z.boolean().default(true),
      /** The risk engine reserves what its open orders need; turn off when the account's free balance already
       *  deducts open-order locks, so nothing is counted twice. */
      reserveOpenOrders: z.boolean().default(true),
    })
    .prefault({}),
  rates: z.strictObject({ venue: rateScope, strategy: rateScope }).prefault({}),
  selfTradePrevention: z.boolean().default(true),
  breakers: z
    .strictObject({
      cooldownMs: z.int().positive().default(60_000),
      /** Orders let through in HALF_OPEN; that many successes close the breaker, one failure reopens it. */
      halfOpenProbes: z.int().positive().default(1),
      windowMs: z.int().positive().default(60_000),
      /** Rates are judged only once the window holds this many orders. */
      minSamples: z.int().positive().default(20),
      maxRejectRate: z.number().min(0).max(1).default(0.5),
      maxErrorRate: z.number().min(0).max(1).default(0.5),
      maxConsecutiveRejects: z.int().positive().default(10),
      /** Venue latency threshold; `latencyBreaches` consecutive samples above it trip the venue breaker. */
      maxLatencyMs: z.number().positive().optional(),
      latencyBreaches: z.int().positive().default(3),
      /** No market data from a venue for this long while orders are sent trips its breaker; 0 = off. */
      staleDataMs: z.int().nonnegative().default(0),
      /** Realised loss within the window, account currency. */
      maxLossInWindow: decimal.optional(),
    })
    .prefault({}),
  lossLimits: z
    .strictObject({
      dailyLoss: lossLimit.optional(),
      /** threshold is a fraction of the equity peak, e.g. "0.2" for 20%. */
      drawdown: lossLimit.optional(),
      perTrade: lossLimit.optional(),
      consecutiveLosses: z
        .strictObject({
          count: z.int().positive(),
          action: lossAction.default('REDUCING'),
          cooldownMs: z.int().nonnegative().default(3_600_000),
        })
        .optional(),
    })
    .refine((l) => l.perTrade === undefined || !l.perTrade.threshold.endsWith('%'), {
      message: 'a per-trade loss is an amount of the account currency, not a percentage',
      path: ['perTrade', 'threshold'],
    })
    .prefault({}),
  killSwitch: z
    .strictObject({
      /** Also close every position with reduce-only market orders. */
      flatten: z.boolean().default(false),
    })
    .prefault({}),
  correlation: z
    .strictObject({
      /** |rho| above which two instruments belong to one exposure cluster. */
      clusterThreshold: z.number().min(0).max(1).default(0.8),
      /**
       * Returns are sampled from the reference prices every sampleMs (event time) into a rolling window of
       * `window` samples; clusters (total.maxClusterExposure) and VaR (var) act once minSamples are in.
       */
      sampleMs: z.int().positive().default(60_000),
      window: z.int().min(2).default(500),
      minSamples: z.int().min(2).default(30),
    })
    .prefault({}),
  /**
   * How strategies size orders through Strategy.size() (src/risk/sizing.ts): `fixed` keeps each strategy's own
   * quantity; `quantity` is `qty` base units; `stake` is `amount` of the settlement currency (the quote, for
   * spot and linear instruments) per position; `equity-fraction` takes `fraction` of equity; `risk` loses
   * `fraction` of equity when the stop is hit, the stop the strategy's or `stop` (a fraction of the price) away;
   * `volatility` holds a position whose annualised volatility is `target` of equity, from the realised
   * volatility the strategy passes, at most `maxLeverage` (default 1) times equity; `kelly` takes the fractional
   * Kelly share `fraction` x (p b - (1 - p)) / b of equity for win probability `winProb` and payoff `payoff`.
   * Sizes are whole lots within the instrument's limits, then checked by risk like every order.
   */
  sizing: z
    .strictObject({
      method: z
        .enum(['fixed', 'quantity', 'stake', 'equity-fraction', 'risk', 'volatility', 'kelly'])
        .default('fixed'),
      fraction: z.number().positive().max(100).optional(),
      qty: z.number().positive().optional(),
      amount: z.number().positive().optional(),
      stop: z.number().positive().lt(1).optional(),
      target: z.number().positive().optional(),
      maxLeverage: z.number().positive().optional(),
      winProb: z.number().min(0).max(1).optional(),
      payoff: z.number().positive().optional(),
    })
    .refine((v) => v.method !== 'quantity' || v.qty !== undefined, {
      message: "method 'quantity' needs qty (base units, e.g. 0.5)",
    })
    .refine((v) => v.method !== 'stake' || v.amount !== undefined, {
      message: "method 'stake' needs amount (settlement currency, e.g. 1000)",
    })
    .refine((v) => v.method !== 'equity-fraction' || v.fraction !== undefined, {
      message: "method 'equity-fraction' needs fraction (e.g. 0.1 for 10% of equity)",
    })
    .refine((v) => v.method !== 'risk' || (v.fraction !== undefined && v.stop !== undefined), {
      message:
        "method 'risk' needs fraction (of equity lost at the stop, e.g. 0.01) and stop (its distance as a fraction of the price, e.g. 0.02, used when the strategy gives none)",
    })
    .refine((v) => v.method !== 'volatility' || v.target !== undefined, {
      message: "method 'volatility' needs target (annualised volatility as a fraction of equity, e.g. 0.2)",
    })
    .refine((v) => v.method !== 'kelly' || (v.winProb !== undefined && v.payoff !== undefined), {
      message: "method 'kelly' needs winProb and payoff (fraction, default 0.5, scales the Kelly share)",
    })
    .prefault({}),
  /**
   * Parametric (normal) value at risk of the positions, from the rolling covariance of returns: an order whose
   * worst-case position would take VaR above the limit, and raise it, is denied (VAR_LIMIT). Absent = off.
   */
  var: z
    .strictObject({
      confidence: z.number().gt(0.5).lt(1).default(0.99),
      /** Holding period of the VaR, ms; default one sample (correlation.sampleMs). Scaled by sqrt(time). */
      horizonMs: z.int().positive().optional(),
      /** Limit in account currency. */
      maxLoss: decimal.optional(),
      /** Limit as a fraction of equity, e.g. 0.02. */
      maxEquityFraction: z.number().positive().max(1).optional(),
    })
    .refine((v) => v.maxLoss !== undefined || v.maxEquityFraction !== undefined, {
      message: 'give maxLoss (account currency) or maxEquityFraction (e.g. 0.02), or both',
    })
    .optional(),
});

export type RiskConfig = z.infer<typeof RiskConfigSchema>;
export type RiskConfigInput = z.input<typeof RiskConfigSchema>;
export type InstrumentLimits = z.infer<typeof instrumentLimitsSchema>;
export type LossLimitConfig = z.infer<typeof lossLimit>;
export type SizingConfig = RiskConfig['sizing'];

/**
 * Parses a risk section on its own (tests, tools). Errors name the key as `risk.<path>`, like the engine
 * config's, with CONFIG_UNKNOWN_KEY or CONFIG_INVALID.
 */
export function parseRiskConfig(raw: unknown = {}): RiskConfig {
  const result = RiskConfigSchema.safeParse(raw);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  if (issue.code === 'unrecognized_keys') {
    const key = ['risk', ...issue.path, issue.keys[0]!].join('.');
    throw new Bot4Error(
      ErrorCode.CONFIG_UNKNOWN_KEY,
      `unknown config key '${key}': remove it or check its spelling`,
      { key },
    );
  }
  const key = ['risk', ...issue.path].join('.');
  throw new Bot4Error(ErrorCode.CONFIG_INVALID, `invalid config key '${key}': ${issue.message}`, {
    key,
    issues: result.error.issues,
  });
}

/** A JSON number as decimal text without an exponent (0.3 -> "0.3", 1e-7 -> "0.0000001"). */
function numberText(x: number): string {
  const s = String(x);
  if (!/e/i.test(s)) return s;
  return x.toFixed(20).replace(/\.?0+$/, '');
}
