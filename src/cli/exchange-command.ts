// `bot4 exchange serve`: the local exchange server (Binance's spot protocol over the simulated exchange) as a
// process. Its command line is a contract for tools around it: the FIRST stdout line is
// `listening http://127.0.0.1:<port>`, printed once connections are accepted; SIGTERM (or Ctrl-C) stops it
// cleanly with exit code 0. API keys and secrets are never printed or logged.

import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { Config } from '../core/config.ts';
import { Bot4Error, ErrorCode } from '../core/errors.ts';
import { newInstrumentRegistry } from '../model/instrument.ts';
import type { ExchangeServerOptions } from '../venues/server/server.ts';
import {
  addMetricsOptions,
  closeCliMetrics,
  type MetricsCliOptions,
  startCliMetrics,
} from './metrics-option.ts';

interface ServeOptions {
  demo?: boolean;
  data?: string[];
  catalog?: string;
  speed: string;
  step: string;
  seed: string;
  port: string;
  apiKey?: string;
  apiSecret?: string;
  ed25519Key?: string;
  adminToken?: string;
  warmup: string;
}

function bad(message: string): Bot4Error {
  return new Bot4Error(ErrorCode.INVALID_ARGUMENT, message);
}

/** '1x', '10x', '2.5x' -> the factor; 'max' -> 'max'. */
export function parseSpeed(text: string): number | 'max' {
  if (text === 'max') return 'max';
  const m = /^([0-9]+(?:\.[0-9]+)?)x$/.exec(text);
  const v = m === null ? Number.NaN : Number(m[1]);
  if (!(v > 0)) throw bad(`--speed '${text}' must be 1x, 10x (any <factor>x) or max`);
  return v;
}

function wholeNumber(text: string, name: string, min: number, max: number): number {
  const v = Number(text);
  if (!Number.isInteger(v) || v < min || v > max) {
    throw bad(`${name} '${text}' must be a whole number from ${min} to ${max}`);
  }
  return v;
}

export function registerExchangeCommand(program: Command, config: () => Config): void {
  const exchange = program
    .command('exchange')
    .description('the local exchange server: Binance spot protocol on loopback');
  const serve = exchange
    .command('serve')
    .description(
      "serve BTCUSDT and ETHUSDT spot and USD-M perpetuals (or replayed markets) over Binance's REST (/api/v3, /fapi), market streams, user data streams and WebSocket API",
    )
    .option('--demo', 'market from the seeded demo generator (the default without --data)')
    .option(
      '-d, --data <files|query...>',
      'replay market-data files or catalog:<instruments>[/<kinds>] queries',
    )
    .option('--catalog <dir>', 'catalog directory for catalog: queries (default: config data.catalogDir)')
    .option(
      '--speed <pace>',
      '1x (real time), 10x, or max (lockstep: each request advances the market --step)',
      '1x',
    )
    .option('--step <ms>', 'market time each request advances at --speed max, ms', '1000')
    .option('--seed <n>', 'seed of the demo market and of the fill model', '42')
    .option('-p, --port <n>', 'TCP port on 127.0.0.1 (0 = any free port)', '0')
    .option('--api-key <key>', 'API key of the funded test account (1 BTC, 10 ETH, 100000 USDT)')
    .option('--api-secret <secret>', 'its HMAC-SHA256 secret')
    .option('--ed25519-key <pem-file>', 'or: the Ed25519 public key (PEM file) the API key signs with')
    .option('--admin-token <token>', 'enables the fault-injection endpoints /admin/* for loopback callers')
    .option('--warmup <minutes>', 'demo market history generated before serving (klines, trades)', '30')
    .addHelpText(
      'after',
      `
The first stdout line is 'listening http://127.0.0.1:<port>'. Point a Binance client at it:
  REST  http://127.0.0.1:<port>/api/v3     streams  ws://127.0.0.1:<port>/ws  and  /stream?streams=...
  WebSocket API  ws://127.0.0.1:<port>/ws-api/v3
SIGTERM or Ctrl-C stops it. Examples:
  bot4 exchange serve --demo --port 0 --api-key K --api-secret S
  bot4 exchange serve --data catalog:BTCUSDT/quotes,trades --speed 10x --api-key K --api-secret S
`,
    )
    .action(async (opts: ServeOptions & MetricsCliOptions) => {
      const speed = parseSpeed(opts.speed);
      const seed = wholeNumber(opts.seed, '--seed', 0, 2 ** 31 - 1);
      const port = wholeNumber(opts.port, '--port', 0, 65535);
      const stepMs = wholeNumber(opts.step, '--step', 1, 86_400_000);
      const warmupMs = wholeNumber(opts.warmup, '--warmup', 0, 2880) * 60_000;
      if (opts.demo === true && opts.data !== undefined) throw bad('give either --demo or --data, not both');
      if (opts.apiKey !== undefined && opts.apiSecret === undefined && opts.ed25519Key === undefined) {
        throw bad('--api-key needs --api-secret or --ed25519-key');
      }
      if (opts.apiKey === undefined && (opts.apiSecret !== undefined || opts.ed25519Key !== undefined)) {
        throw bad('--api-secret and --ed25519-key need --api-key');
      }
      let ed25519PublicKey: string | undefined;
      if (opts.ed25519Key !== undefined) {
        try {
          ed25519PublicKey = readFileSync(opts.ed25519Key, 'utf8');
        } catch (e) {
          throw new Bot4Error(
            ErrorCode.CONFIG_FILE,
            `--ed25519-key ${opts.ed25519Key}: ${(e as Error).message}`,
          );
        }
      }
      const { startExchangeServer } = await import('../venues/server/server.ts');
      let closeData = (): void => {};
      let data: ExchangeServerOptions['data'];
      if (opts.data !== undefined) {
        const { openBacktestData } = await import('../backtest/data-query.ts');
        const instruments = newInstrumentRegistry();
        const opened = await openBacktestData(opts.data, {
          instruments,
          catalogDir: opts.catalog ?? config().data.catalogDir,
        });
        closeData = opened.close;
        data = { source: opened.data, instruments };
      }
      const server = await startExchangeServer({
        port,
        seed,
        speed,
        stepMs,
        warmupMs,
        ...(data === undefined ? {} : { data }),
        ...(opts.apiKey === undefined
          ? {}
          : {
              accounts: [
                {
                  apiKey: opts.apiKey,
                  ...(opts.apiSecret === undefined ? {} : { apiSecret: opts.apiSecret }),
                  ...(ed25519PublicKey === undefined ? {} : { ed25519PublicKey }),
                },
              ],
            }),
        ...(opts.adminToken === undefined ? {} : { adminToken: opts.adminToken }),
      }).catch((e: unknown) => {
        closeData();
        if ((e as NodeJS.ErrnoException).code === 'EADDRINUSE') {
          throw bad(`--port ${port} is in use on 127.0.0.1; give another port or 0 for any free one`);
        }
        throw e;
      });
      // Metrics (process figures plus the server's requests, weight, connections, messages) once it listens.
      const metrics = await startCliMetrics(opts, 'exchange-server').catch(async (e: unknown) => {
        await server.close();
        closeData();
        throw e;
      });
      if (metrics !== undefined) server.counters.register(metrics.registry);
      process.stdout.write(`listening ${server.url}\n`);
      process.stderr.write(
        `exchange: serving ${[...server.markets.keys()].join(', ')} at ${opts.speed}; REST ${server.url}/api/v3, ` +
          `streams ${server.wsUrl}/ws and ${server.wsUrl}/stream, WebSocket API ${server.wsUrl}/ws-api/v3` +
          `${opts.adminToken === undefined ? '' : `, faults ${server.url}/admin/faults`}\n`,
      );
      await new Promise<void>((resolve) => {
        const stop = (): void => {
          process.removeListener('SIGTERM', stop);
          process.removeListener('SIGINT', stop);
          resolve();
        };
        process.on('SIGTERM', stop);
        process.on('SIGINT', stop);
      });
      await server.close();
      closeData();
      await closeCliMetrics(metrics, opts);
      const st = server.feed.stats;
      let orders = 0;
      for (const a of server.trading.accounts.values()) orders += a.orders.size;
      process.stderr.write(
        `exchange: stopped; ${orders} orders taken, ${st.rows} market rows replayed (${st.ignored} not served, ${st.repairedLevels} stale book levels removed)\n`,
      );
    });
  addMetricsOptions(serve);
}
