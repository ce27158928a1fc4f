// Notifications end to end on loopback: a paper node (the in-process local exchange) posts its fills and the
// kill switch to a fake webhook receiver (HMAC checked) and a fake Telegram Bot API (real HTTP servers on
// 127.0.0.1); a receiver that never answers or always fails holds up neither the engine nor the other
// receiver, and its drops, failures and retries are counted; the bot token appears in no printed line.

import { spawnSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isBot4Error } from '../core/errors.ts';
import { waitFor } from '../core/poll.test-util.ts';
import { NodeMode, TradingNode } from '../live/node.ts';
import { NodeConfigSchema } from '../live/node-config.ts';
import { microsUntilDaily } from './node-notify.ts';
import { Notifier } from './notifier.ts';
import { NotifyConfigSchema } from './notify-config.ts';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

interface Received {
  path: string;
  headers: IncomingMessage['headers'];
  body: string;
}

/** A receiver on 127.0.0.1:0 recording every request; `answer` decides the reply (or never replies). */
async function fakeReceiver(
  answer: (r: Received, res: ServerResponse) => void = (_r, res) => res.writeHead(200).end('{}'),
): Promise<{ url: string; got: Received[]; server: Server }> {
  const got: Received[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => {
      body += String(d);
    });
    req.on('end', () => {
      const r = { path: req.url ?? '', headers: req.headers, body };
      got.push(r);
      answer(r, res);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  cleanups.push(
    () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  );
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, got, server };
}

/** The Telegram Bot API's sendMessage answer shape. */
const telegramOk = (r: Received, res: ServerResponse): void => {
  const { chat_id, text } = JSON.parse(r.body) as { chat_id: number; text: string };
  res
    .writeHead(200, { 'content-type': 'application/json' })
    .end(JSON.stringify({ ok: true, result: { message_id: 1, chat: { id: chat_id }, text } }));
};

const TOKEN = '123456:TEST-token-never-printed';
const SECRET = 'webhook-hmac-key';
const STRATEGY = {
  name: 'ema-cross',
  params: { instrument: 'BTCUSDT.BINANCE', source: 'quote', fast: 2, slow: 4, qty: 0.001 },
};

describe('notifications from a paper node', () => {
  it('fills, the kill switch and a disconnect reach the webhook (signed) and Telegram; the token is never printed', async () => {
    const hook = await fakeReceiver();
    const tg = await fakeReceiver(telegramOk);
    const config = NodeConfigSchema.parse({
      instruments: ['BTCUSDT'],
      strategies: [STRATEGY],
      statusIntervalSec: 60,
      notify: {
        webhooks: [{ url: `${hook.url}/hook/path-secret`, secretEnv: 'TEST_WEBHOOK_SECRET' }],
        telegram: { chatId: 42, tokenEnv: 'TEST_TG_TOKEN', baseUrl: tg.url },
      },
    });
    const lines: string[] = [];
    const node = await TradingNode.start({
      mode: NodeMode.PAPER,
      config,
      print: (l) => lines.push(l),
      env: { TEST_WEBHOOK_SECRET: SECRET, TEST_TG_TOKEN: TOKEN },
    });
    cleanups.push(() => node.stop());
    const events = (r: Received[]) => r.map((x) => (JSON.parse(x.body) as { event?: string }).event);
    await waitFor(() => events(hook.got).includes('fill'), 'a fill notification at the webhook', 30_000);
    await waitFor(
      () => tg.got.some((r) => /fill (BUY|SELL)/.test(r.body)),
      'a fill message at Telegram',
      10_000,
    );

    const fill = hook.got.find((r) => JSON.parse(r.body).event === 'fill')!;
    expect(fill.path).toBe('/hook/path-secret');
    expect(fill.headers['content-type']).toBe('application/json');
    const ts = String(fill.headers['x-bot4-timestamp']);
    const mac = createHmac('sha256', SECRET).update(`${ts}.${fill.body}`).digest('hex');
    expect(fill.headers['x-bot4-signature']).toBe(`sha256=${mac}`);
    expect(JSON.parse(fill.body)).toMatchObject({
      event: 'fill',
      node: 'paper',
      data: { symbol: 'BTCUSDT', qty: '0.001' },
    });
    expect(JSON.parse(fill.body).text).toMatch(/^fill (BUY|SELL) 0\.001 BTCUSDT @ [\d.]+$/);
    const tgFill = tg.got.find((r) => r.body.includes('fill'))!;
    expect(tgFill.path).toBe(`/bot${TOKEN}/sendMessage`);
    expect(JSON.parse(tgFill.body)).toMatchObject({ chat_id: 42 });
    expect(JSON.parse(tgFill.body).text).toMatch(/^\[bot4 paper\] fill /);

    node.kernel.riskMonitor.killSwitch.kill({ reason: 'test' });
    await waitFor(() => events(hook.got).includes('kill-switch'), 'the kill switch at the webhook', 10_000);
    await waitFor(
      () => tg.got.some((r) => r.body.includes('kill switch')),
      'the kill switch at Telegram',
      10_000,
    );
    expect(JSON.parse(hook.got.find((r) => r.body.includes('"kill-switch"'))!.body).text).toMatch(
      /^kill switch: trading halted/,
    );

    // The local server drops the market-data connection: a disconnect message while the node reconnects.
    const stream = node.server!.faults.connections().find((c) => c.kind === 'stream')!;
    node.server!.faults.drop(stream.id);
    await waitFor(() => events(hook.got).includes('disconnect'), 'the disconnect at the webhook', 10_000);
    expect(JSON.parse(hook.got.find((r) => r.body.includes('"disconnect"'))!.body).text).toMatch(
      /^disconnected: .*reconnecting in \d+ ms, attempt \d+$/,
    );
    node.notify!.postDailyPnl();
    await waitFor(() => events(hook.got).includes('daily-pnl'), 'the daily PnL at the webhook', 10_000);
    const summary = await node.stop();
    const notifyLines = summary.filter((l) => l.startsWith('notify '));
    expect(notifyLines).toHaveLength(2);
    expect(notifyLines[0]).toMatch(
      /^notify webhook 1 \(http:\/\/127\.0\.0\.1:\d+\): \d+ sent, 0 failed, 0 dropped/,
    );
    expect(notifyLines[1]).toMatch(/^notify telegram chat 42: \d+ sent, 0 failed, 0 dropped/);
    // The token is in no line printed, no summary line; the webhook's path (which may hold a secret) neither.
    for (const l of [...lines, ...summary]) {
      expect(l).not.toContain(TOKEN);
      expect(l).not.toContain('path-secret');
    }
  }, 60_000);

  it('a receiver that never answers and one that always fails delay neither the engine nor each other', async () => {
    const hung = await fakeReceiver(() => {}); // never replies
    const failing = await fakeReceiver((_r, res) => res.writeHead(503).end());
    const ok = await fakeReceiver();
    const base = {
      instruments: ['BTCUSDT'],
      strategies: [STRATEGY],
      statusIntervalSec: 60,
    };
    // Baseline: the same node without notifications.
    const plain = await TradingNode.start({
      mode: NodeMode.PAPER,
      config: NodeConfigSchema.parse(base),
      print: () => {},
    });
    cleanups.push(() => plain.stop());
    await waitFor(() => plain.handler.totalCount >= 300, '300 market events (no notifications)', 30_000);
    await plain.stop();

    const node = await TradingNode.start({
      mode: NodeMode.PAPER,
      config: NodeConfigSchema.parse({
        ...base,
        notify: {
          webhooks: [{ url: hung.url }, { url: failing.url }, { url: ok.url }],
          queueSize: 4,
          maxRetries: 2,
          backoffMs: 20,
          timeoutMs: 120_000,
        },
      }),
      print: () => {},
    });
    cleanups.push(() => node.stop());
    // Fills go on while the first receiver holds its one request open for the whole test.
    await waitFor(() => node.counters.fills >= 6, 'six fills with a hung receiver', 40_000);
    await waitFor(() => node.handler.totalCount >= 300, '300 market events (notifications on)', 30_000);
    await waitFor(() => ok.got.length >= 6, 'the healthy receiver to get six messages', 10_000);
    expect(hung.got).toHaveLength(1);
    // The failing receiver saw every attempt: its first message and its retries.
    expect(failing.got.length).toBeGreaterThanOrEqual(3);
    const p = (h: typeof node.handler, q: number) => (h.valueAtPercentile(q) / 1000).toFixed(1);
    process.stderr.write(
      `paper handler latency, no notifications: p50 ${p(plain.handler, 50)} us p99 ${p(plain.handler, 99)} us; ` +
        `hung + failing receivers: p50 ${p(node.handler, 50)} us p99 ${p(node.handler, 99)} us ` +
        `(${node.handler.totalCount} events, machine shared)\n`,
    );
    // Were a send awaited on the engine's path, a handler would take the receiver's hang (120 s timeout).
    expect(node.handler.valueAtPercentile(99)).toBeLessThan(1e9);
    const summary = await node.stop();
    const hungLine = summary.find((l) => l.startsWith('notify webhook 1'))!;
    const failLine = summary.find((l) => l.startsWith('notify webhook 2'))!;
    const okLine = summary.find((l) => l.startsWith('notify webhook 3'))!;
    // The hung receiver's queue (4) overflowed: what could not wait was dropped and counted.
    expect(hungLine).toMatch(/: 0 sent, 0 failed, [1-9]\d* dropped/);
    expect(failLine).toMatch(
      /: 0 sent, [1-9]\d* failed, \d+ dropped, [1-9]\d* retries \(last error: HTTP 503\)/,
    );
    expect(okLine).toMatch(/: [1-9]\d* sent, 0 failed/);
  }, 120_000);
});

describe('notify config and scheduling', () => {
  it('a missing secret is a config error naming the key; BOT4_ variables are refused', () => {
    const cfg = NotifyConfigSchema.parse({ telegram: { chatId: '@ops' } });
    let err: unknown;
    try {
      new Notifier(cfg, {}, () => {});
    } catch (e) {
      err = e;
    }
    expect(isBot4Error(err)).toBe(true);
    expect((err as Error).message).toBe(
      "config 'notify.telegram.tokenEnv': environment variable TELEGRAM_BOT_TOKEN is not set (it holds the secret; the config only names it)",
    );
    expect(() => NotifyConfigSchema.parse({ webhooks: [{ url: 'http://x', secretEnv: 'BOT4_X' }] })).toThrow(
      /BOT4_ variables are config keys/,
    );
    expect(() => NotifyConfigSchema.parse({ dailyPnlUtc: '24:00' })).toThrow(/HH:MM/);
    expect(() =>
      NodeConfigSchema.parse({ instruments: ['X'], strategies: [STRATEGY], notify: { webhook: [] } }),
    ).toThrow(/webhook/);
  });

  it('bot4 paper with a token variable unset exits 2 naming the key, before connecting anywhere', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bot4-notify-'));
    const file = join(dir, 'paper.json');
    const cfg = JSON.parse(readFileSync('examples/paper.json', 'utf8')) as Record<string, unknown>;
    writeFileSync(
      file,
      JSON.stringify({ ...cfg, notify: { telegram: { chatId: 1, tokenEnv: 'NO_SUCH_TOKEN_VAR' } } }),
    );
    const env = { ...process.env };
    delete env.NO_SUCH_TOKEN_VAR;
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'paper', '--config', file], {
      env,
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(r.status, r.stderr).toBe(2);
    expect(r.stderr).toContain(
      "config 'notify.telegram.tokenEnv': environment variable NO_SUCH_TOKEN_VAR is not set",
    );
    expect(r.stdout).not.toMatch(/local exchange server/);
  }, 40_000);

  it('the daily PnL message waits until the next HH:MM UTC', () => {
    const at = (iso: string) => Date.parse(iso) * 1000;
    expect(microsUntilDaily(at('2026-01-01T23:30:00Z'), '00:00')).toBe(30 * 60 * 1e6);
    expect(microsUntilDaily(at('2026-01-01T00:00:00Z'), '00:00')).toBe(86_400 * 1e6);
    expect(microsUntilDaily(at('2026-01-01T08:00:00Z'), '20:15')).toBe((12 * 3600 + 15 * 60) * 1e6);
  });

  it('Telegram 429 waits retry_after and then delivers', async () => {
    let first = true;
    const tg = await fakeReceiver((r, res) => {
      if (first) {
        first = false;
        res.writeHead(429, { 'content-type': 'application/json' }).end(
          JSON.stringify({
            ok: false,
            error_code: 429,
            description: 'Too Many Requests',
            parameters: { retry_after: 0.05 },
          }),
        );
        return;
      }
      telegramOk(r, res);
    });
    const n = new Notifier(
      NotifyConfigSchema.parse({ telegram: { chatId: 7, baseUrl: tg.url }, backoffMs: 60_000 }),
      { TELEGRAM_BOT_TOKEN: TOKEN },
      () => {},
    );
    n.post({ event: 'fill', time: '2026-01-01T00:00:00.000Z', node: 'paper', text: 'hello', data: {} });
    // Posting sent nothing yet: delivery happens off the caller's stack.
    expect(tg.got).toHaveLength(0);
    await waitFor(() => tg.got.length === 2, 'the retry after 50 ms (not the 60 s backoff)', 5_000);
    const lines = await n.close();
    expect(lines[0]).toMatch(
      /1 sent, 0 failed, 0 dropped, 1 retries \(last error: HTTP 429: Too Many Requests\)/,
    );
  });
});
