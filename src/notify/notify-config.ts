// The `notify` section of a node config: webhook URLs and a Telegram chat that hear about fills, breaker
// trips, the kill switch, disconnects and the daily PnL. Secrets (a webhook's HMAC key, the bot token) are
// never in the file: the config names the environment variable that holds them. Units: ms, counts.

import { z } from 'zod';
import { Bot4Error, ErrorCode } from '../core/errors.ts';

export const NotifyEvent = {
  FILL: 'fill',
  BREAKER: 'breaker',
  KILL_SWITCH: 'kill-switch',
  DISCONNECT: 'disconnect',
  DAILY_PNL: 'daily-pnl',
} as const;
export type NotifyEvent = (typeof NotifyEvent)[keyof typeof NotifyEvent];
const EVENTS = Object.values(NotifyEvent) as [NotifyEvent, ...NotifyEvent[]];

const ENV_NAME = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name')
  // BOT4_<SECTION>__<KEY> variables are config, not a place for secrets.
  .refine((s) => !s.startsWith('BOT4_'), 'BOT4_ variables are config keys; name another variable');
const Events = z.array(z.enum(EVENTS)).min(1);

export const NotifyConfigSchema = z.strictObject({
  /** JSON POST of every event to each URL. */
  webhooks: z
    .array(
      z.strictObject({
        url: z.string().url(),
        /** Environment variable holding the HMAC-SHA256 key: then X-Bot4-Signature signs each body. */
        secretEnv: ENV_NAME.optional(),
        /** Default: every event. */
        events: Events.optional(),
      }),
    )
    .default([]),
  /** Telegram Bot API sendMessage to one chat. */
  telegram: z
    .strictObject({
      chatId: z.union([z.string().min(1), z.number().int()]),
      /** Environment variable holding the bot token (never in the config, never logged). */
      tokenEnv: ENV_NAME.default('TELEGRAM_BOT_TOKEN'),
      /** The API's base URL (tests point it at a local fake). */
      baseUrl: z.string().url().default('https://api.telegram.org'),
      events: Events.optional(),
    })
    .optional(),
  /** Messages waiting per receiver; when full the oldest is dropped (and counted). */
  queueSize: z.number().int().positive().max(100_000).default(1_000),
  /** Attempts after the first for a failed send (network error, timeout, 429, 5xx). */
  maxRetries: z.number().int().nonnegative().max(20).default(5),
  /** First retry delay; doubles per attempt up to 30 s. */
  backoffMs: z.number().int().positive().max(60_000).default(500),
  /** Per request. */
  timeoutMs: z.number().int().positive().max(120_000).default(5_000),
  /** UTC time of day of the daily PnL message (HH:MM). */
  dailyPnlUtc: z
    .string()
    .regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be HH:MM (UTC)')
    .default('00:00'),
});
export type NotifyConfig = z.infer<typeof NotifyConfigSchema>;

/** Reads a secret named by a config key from the environment; a config error naming the key when absent. */
export function secretFromEnv(env: NodeJS.ProcessEnv, name: string, key: string): string {
  const v = env[name];
  if (v === undefined || v === '') {
    throw new Bot4Error(
      ErrorCode.CONFIG_INVALID,
      `config '${key}': environment variable ${name} is not set (it holds the secret; the config only names it)`,
      { key },
    );
  }
  return v;
}

/** Every secret the section names is set: checked before the node connects anywhere (exit 2 naming the key). */
export function checkNotifySecrets(config: NotifyConfig, env: NodeJS.ProcessEnv): void {
  config.webhooks.forEach((w, i) => {
    if (w.secretEnv !== undefined) secretFromEnv(env, w.secretEnv, `notify.webhooks.${i}.secretEnv`);
  });
  if (config.telegram !== undefined) secretFromEnv(env, config.telegram.tokenEnv, 'notify.telegram.tokenEnv');
}
