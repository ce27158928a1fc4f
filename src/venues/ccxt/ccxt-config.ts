// The node config's venue keys for trading through ccxt (`venue.kind: "ccxt"`): which exchange, its ccxt
// options, sandbox, endpoint overrides and the polling interval for what the exchange cannot stream. Spread
// into the node's venue schema (src/live/node-config.ts); ccxt itself is not imported here (loading it costs
// a second, and `--help` must stay fast), so the exchange id is checked against `ccxt.exchanges` when the
// node starts (src/venues/ccxt/ccxt-node.ts). Keys never live in the config: BOT4_CCXT_API_KEY and
// BOT4_CCXT_SECRET (BOT4_CCXT_PASSWORD where the exchange has a passphrase) or venue.keyFile.

import { z } from 'zod';

export const VenueKind = { BINANCE: 'binance', CCXT: 'ccxt' } as const;
export type VenueKind = (typeof VenueKind)[keyof typeof VenueKind];

/** Environment variables of the ccxt keys. */
export const CCXT_KEY_ENV = {
  apiKey: 'BOT4_CCXT_API_KEY',
  secret: 'BOT4_CCXT_SECRET',
  password: 'BOT4_CCXT_PASSWORD',
} as const;

export const ccxtVenueKeys = {
  /** binance: the native adapter (src/venues/binance/); ccxt: any exchange ccxt supports. */
  kind: z.enum([VenueKind.BINANCE, VenueKind.CCXT]).default(VenueKind.BINANCE),
  /** ccxt exchange id (kind ccxt), one of ccxt.exchanges: binance, kraken, okx... */
  exchange: z.string().min(1).optional(),
  /** ccxt's exchange-specific `options`, passed to the exchange constructor as they are. */
  options: z.record(z.string(), z.unknown()).optional(),
  /** ccxt's setSandboxMode(true): the exchange's testnet where it has one. */
  sandbox: z.boolean().default(false),
  /** Deep-merged into the ccxt exchange's `urls` (e.g. {"api": {"public": "..."}}): any endpoint elsewhere. */
  urls: z.record(z.string(), z.unknown()).optional(),
  /** Interval of fetchOrderBook / fetchTrades where the exchange has no watchOrderBook / watchTrades, ms. */
  pollMs: z.number().int().min(50).max(60_000).default(1_000),
};

/** The ccxt-only keys: an error for kind binance (a forgotten `kind` must not silently trade natively). */
const CCXT_ONLY = ['exchange', 'options', 'urls'] as const;

/** Cross-key checks of the venue section; issues name the key (loadNodeConfig prefixes `venue.`). */
export function checkVenueKind(
  v: {
    kind: VenueKind;
    exchange?: string | undefined;
    options?: unknown;
    urls?: unknown;
    wsApiUrl?: string | undefined;
    market?: string;
  },
  ctx: z.RefinementCtx,
): void {
  if (v.kind === VenueKind.CCXT) {
    // The native adapter's market switch; ccxt picks the market by exchange id (binance, binanceusdm...).
    if (v.market !== undefined && v.market !== 'spot') {
      ctx.addIssue({
        code: 'custom',
        path: ['market'],
        message: "is for venue.kind 'binance'; with ccxt choose the exchange id instead (e.g. binanceusdm)",
      });
    }
    // ccxt places orders over REST: a WebSocket API URL would be ignored, so it is refused.
    if (v.wsApiUrl !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['wsApiUrl'],
        message: "not used with venue.kind 'ccxt' (ccxt places orders over REST)",
      });
    }
    if (v.exchange === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['exchange'],
        message: "venue.kind 'ccxt' needs venue.exchange (a ccxt exchange id, e.g. binance)",
      });
    }
    return;
  }
  for (const k of CCXT_ONLY) {
    if (v[k] !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: [k],
        message: `only for venue.kind 'ccxt' (kind is '${v.kind}')`,
      });
    }
  }
}
