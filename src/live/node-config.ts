// The config file of a paper or live node (`bot4 paper|live --config file.json`): which venue, instruments,
// strategies, balances (paper) and risk limits. Unknown keys are errors naming the key; keys and secrets are
// never in this file (they come from the environment or a key file, see venues/binance/signing.ts).

import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { Bot4Error, ErrorCode } from '../core/errors.ts';
import { NotifyConfigSchema } from '../notify/notify-config.ts';
import { RiskConfigSchema } from '../risk/risk-config.ts';
import { ccxtVenueKeys, checkVenueKind } from '../venues/ccxt/ccxt-config.ts';
import { ShutdownConfigSchema } from './shutdown.ts';

const VenueSchema = z.strictObject({
  /** REST base URL; absent: the node starts the local exchange server in-process and trades there. */
  restUrl: z.string().url().optional(),
  /** Market-stream base (wss://stream.binance.com:9443); default: restUrl with ws(s) scheme. */
  wsUrl: z.string().optional(),
  /** WebSocket API (wss://ws-api.binance.com:443/ws-api/v3); default: wsUrl + /ws-api/v3. */
  wsApiUrl: z.string().optional(),
  /** JSON key file ({"apiKey","apiSecret"} or {"apiKey","privateKeyFile"}); else BINANCE_API_KEY/... env. */
  keyFile: z.string().optional(),
  recvWindowMs: z.number().int().positive().max(60_000).default(5_000),
  /** Demo market seed of the in-process server. */
  seed: z.number().int().default(42),
  /** kind (binance|ccxt), exchange, options, sandbox, urls, pollMs: src/venues/ccxt/ccxt-config.ts. */
  ...ccxtVenueKeys,
  /** Binance market: spot (/api/v3) or USD-M futures (/fapi, perpetuals, one-way mode; src/live/usdm.ts). */
  market: z.enum(['spot', 'usdm']).default('spot'),
});

const EngineSchema = z.strictObject({
  /**
   * Where market-data socket I/O and decoding run: 'engine' (the engine thread) or 'worker' (a feed worker
   * handing decoded rows over an SPSC ring; src/live/feed-worker.ts). README says which is faster and why.
   */
  feed: z.enum(['engine', 'worker']).default('engine'),
  /** CPUs to pin to (Linux, taskset): the process to all, the engine thread to the first, the feed worker to the second. */
  cpus: z.array(z.number().int().nonnegative()).default([]),
  /** Busy-poll: the engine thread never sleeps in epoll (src/live/busy-poll.ts); costs a core. README: when. */
  busyPoll: z.boolean().default(false),
  /**
   * Keep-warm period, ms (0: off): while no market message arrived for a period, the engine thread decodes the
   * last quote again and writes, signs and frames a made-up order without sending it, so the first order after
   * a quiet spell meets that code in the CPU's caches (live, native Binance client; src/live/node.ts).
   */
  keepWarmMs: z.number().nonnegative().default(1),
});

export const NodeConfigSchema = z.strictObject({
  engine: EngineSchema.default(EngineSchema.parse({})),
  venue: VenueSchema.superRefine(checkVenueKind).default(VenueSchema.parse({})),
  /** Symbols to trade and watch, e.g. ["BTCUSDT"] (spot, or USD-M perpetuals with venue.market usdm). */
  instruments: z.array(z.string().min(1)).min(1),
  strategies: z
    .array(
      z.strictObject({
        /** Built-in name (ema-cross, market-maker...) or a .ts/.js file. */
        name: z.string().min(1),
        params: z.record(z.string(), z.union([z.number(), z.string(), z.boolean()])).default({}),
      }),
    )
    .min(1),
  /** Paper: the simulated account's starting balances. Live reads them from the venue. */
  balances: z
    .array(z.strictObject({ currency: z.string().min(1), amount: z.string().regex(/^\d+(\.\d+)?$/) }))
    .default([{ currency: 'USDT', amount: '10000' }]),
  risk: RiskConfigSchema.default(RiskConfigSchema.parse({})),
  /** Paper: simulated order-entry and response latency, micros each (on top of the real market-data path). */
  paperLatencyMicros: z.number().int().nonnegative().default(0),
  /** Seconds between status lines. */
  statusIntervalSec: z.number().positive().default(5),
  /** Stop by itself after this many seconds (0: run until Ctrl-C / SIGTERM). */
  durationSec: z.number().nonnegative().default(0),
  /** Crash-safe journal (src/persistence/node-journal.ts); absent: none, nothing survives a crash. */
  journal: z
    .strictObject({
      path: z.string().min(1),
      /** always: fdatasync per record; group: within groupMs, off the engine thread; os: never (kill -9 safe). */
      fsync: z.enum(['always', 'group', 'os']).default('group'),
      groupMs: z.number().int().positive().max(1_000).default(5),
    })
    .optional(),
  /** The control API and web console (`--console`; src/control/). */
  control: z
    .strictObject({
      /** Interface; anything but loopback exposes the API (the tokens still guard it). */
      host: z.string().min(1).default('127.0.0.1'),
      /** 0: any free port. */
      port: z.number().int().min(0).max(65_535).default(8470),
      /** Tokens (0600) and the audit journal; created 0700 at first start. */
      stateDir: z.string().min(1).default('.bot4'),
      bodyLimitBytes: z.number().int().min(256).max(1_048_576).default(16_384),
      /** Per token: sustained requests per second (burst twice that), and writes per second (burst 10 or twice). */
      requestsPerSec: z.number().positive().max(10_000).default(20),
      writesPerSec: z.number().positive().max(1_000).default(2),
    })
    .default({
      host: '127.0.0.1',
      port: 8470,
      stateDir: '.bot4',
      bodyLimitBytes: 16_384,
      requestsPerSec: 20,
      writesPerSec: 2,
    }),
  /** Shared risk with other nodes through NATS JetStream (src/cluster/node-cluster.ts); absent: this node alone. */
  cluster: z
    .strictObject({
      url: z.string().min(1),
      node: z.string().regex(/^[\w-]+$/),
      /** A peer unheard of for this long is unknown: counted at its limits, or trading halts (onStale). */
      maxAgeMs: z.number().int().positive().default(5_000),
      onStale: z.enum(['limit', 'halt']).default('limit'),
      publishMs: z.number().int().positive().default(1_000),
      replicas: z.number().int().min(1).max(5).default(1),
    })
    .optional(),
  /** Live start-up: orders open at the venue that this node did not place. */
  unknownOrders: z.enum(['adopt', 'report', 'halt']).default('report'),
  /** On stop: cancel-all (default), leave or flatten, and how long to wait for the venue (src/live/shutdown.ts). */
  shutdown: ShutdownConfigSchema.default(ShutdownConfigSchema.parse({})),
  /** Webhooks and a Telegram chat for fills, breakers, kill switch, disconnects, daily PnL (src/notify/). */
  notify: NotifyConfigSchema.optional(),
});
export type NodeConfig = z.infer<typeof NodeConfigSchema>;

/** Reads and checks a node config file; errors name the file and the bad key. */
export function loadNodeConfig(file: string): NodeConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Bot4Error(ErrorCode.CONFIG_FILE, `config ${file}: ${(e as Error).message.split('\n')[0]}`);
  }
  const r = NodeConfigSchema.safeParse(raw);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    const key = issue.path.join('.');
    const keys = issue.code === 'unrecognized_keys' ? ` ${issue.keys.join(', ')}` : '';
    throw new Bot4Error(
      ErrorCode.CONFIG_INVALID,
      `config ${file}: ${key === '' ? '' : `'${key}': `}${issue.message}${keys}`,
      { file, key },
    );
  }
  return r.data;
}
