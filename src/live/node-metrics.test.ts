// `bot4 paper --metrics-port 0` as a process (examples/paper.json: the local exchange server in-process, real
// WebSocket market data, the simulated venue), scraped by Debian's real Prometheus: the trading and venue
// series must hold data (events counted by kind, connected, rate-limit weight, feed latency, handler latency),
// and SIGTERM still stops the node with exit code 0 after the endpoint has been scraped.

import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasPrometheus, PrometheusProcess, waitUntil } from '../monitoring/prometheus-kit.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const available = hasPrometheus();
if (!available && process.env.CI) throw new Error('prometheus missing in CI: .ci/run installs it');

describe.skipIf(!available)('paper node metrics scraped by a real Prometheus', () => {
  let node: ChildProcess | undefined;
  let prom: PrometheusProcess | undefined;
  let log = '';

  beforeAll(async () => {
    node = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        'src/cli/main.ts',
        '--config',
        'examples/paper.json',
        'paper',
        '--metrics-port',
        '0',
      ],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    for (const s of [node.stdout!, node.stderr!]) {
      s.setEncoding('utf8').on('data', (d: string) => {
        log += d;
      });
    }
    await waitUntil(
      () => /serving http:\/\/127\.0\.0\.1:\d+\/metrics/.test(log),
      60_000,
      `the paper node's metrics endpoint (log: ${log})`,
    );
    const target = /serving http:\/\/(127\.0\.0\.1:\d+)\/metrics/.exec(log)![1]!;
    prom = await PrometheusProcess.start([target], 1000);
    await waitUntil(
      async () => {
        const r = await prom!.query('count_over_time(bot4_node_info{role="paper"}[1m])');
        return Number(r.data?.result[0]?.value[1] ?? 0) >= 3;
      },
      60_000,
      'Prometheus to scrape the paper node three times',
    );
  }, 150_000);

  afterAll(async () => {
    if (node !== undefined && node.exitCode === null) node.kill('SIGKILL');
    await prom?.stop();
  });

  async function value(expr: string): Promise<number> {
    const r = await prom!.query(expr);
    expect(r.status, `${expr}: ${r.error}`).toBe('success');
    const v = r.data?.result[0]?.value[1];
    expect(v, `no data for ${expr}\nnode log:\n${log}\nprometheus:\n${prom!.stderr}`).toBeDefined();
    return Number(v);
  }

  it('serves trading and venue series with data', async () => {
    for (const kind of ['quote', 'trade', 'delta']) {
      expect(await value(`bot4_market_events_total{venue="BINANCE",kind="${kind}"}`), kind).toBeGreaterThan(
        0,
      );
    }
    expect(await value('bot4_venue_connected{venue="BINANCE"}')).toBe(1);
    expect(await value('bot4_venue_reconnects_total{venue="BINANCE"}')).toBe(0);
    // exchangeInfo's REQUEST_WEIGHT limit and the weight of the node's own requests (time, exchangeInfo, depth).
    expect(await value('bot4_rate_limit_weight_limit{venue="BINANCE"}')).toBe(6000);
    expect(await value('bot4_rate_limit_weight_used{venue="BINANCE"}')).toBeGreaterThan(0);
    expect(await value('bot4_feed_last_message_age_seconds{venue="BINANCE"}')).toBeLessThan(30);
    expect(await value('bot4_stage_latency_seconds_count{stage="feed.binance"}')).toBeGreaterThan(0);
    expect(await value('bot4_stage_latency_seconds_count{stage="node.handler"}')).toBeGreaterThan(0);
    // Counters move between scrapes: the feed is live, not a snapshot.
    await waitUntil(
      async () => (await value('increase(bot4_market_events_total{kind="quote"}[30s])')) > 0,
      30_000,
      'quote events to increase between scrapes',
    );
    // Process metrics come with it (same registry).
    expect(await value('bot4_resident_memory_bytes')).toBeGreaterThan(0);
  }, 60_000);

  it('still stops cleanly on SIGTERM with the endpoint open', async () => {
    const exited = new Promise<number | null>((resolve) => node!.once('exit', (code) => resolve(code)));
    node!.kill('SIGTERM');
    const code = await Promise.race([
      exited,
      new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), 30_000)),
    ]);
    expect(code, `the node did not exit 0 on SIGTERM within 30 s; log:\n${log}`).toBe(0);
    expect(log).toMatch(/summary: \[paper/);
  }, 40_000);
});
