// `bot4 exchange serve --metrics-port 0` as a process, with client traffic (REST calls, an unknown path, a
// market stream), scraped by Debian's real Prometheus: the server's request, weight, connection and message
// series and the process metrics must carry what the traffic did; the listening line stays stdout's first.

import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { hasPrometheus, PrometheusProcess, waitUntil } from '../../monitoring/prometheus-kit.ts';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const available = hasPrometheus();
if (!available && process.env.CI) throw new Error('prometheus missing in CI: .ci/run installs it');

describe.skipIf(!available)('exchange server metrics scraped by a real Prometheus', () => {
  let child: ChildProcess | undefined;
  let prom: PrometheusProcess | undefined;
  let ws: WebSocket | undefined;
  let out = '';
  let err = '';
  let url = '';
  let received = 0;

  beforeAll(async () => {
    child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        'src/cli/main.ts',
        'exchange',
        'serve',
        '--demo',
        '--port',
        '0',
        '--warmup',
        '1',
        '--metrics-port',
        '0',
      ],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      out += d;
    });
    child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      err += d;
    });
    await waitUntil(() => out.includes('\n'), 60_000, `the listening line (stderr: ${err})`);
    expect(out.split('\n')[0]).toMatch(/^listening http:\/\/127\.0\.0\.1:\d+$/);
    url = out.split('\n')[0]!.slice('listening '.length);
    const target = /metrics: serving http:\/\/(127\.0\.0\.1:\d+)\/metrics/.exec(err)?.[1];
    expect(target, `no metrics line on stderr: ${err}`).toBeDefined();
    const get = (path: string) => fetch(`${url}${path}`, { signal: AbortSignal.timeout(5000) });
    for (let i = 0; i < 3; i++) expect((await get('/api/v3/time')).status).toBe(200);
    expect((await get('/api/v3/exchangeInfo')).status).toBe(200);
    expect((await get('/no/such/path')).status).toBe(404);
    ws = new WebSocket(`${url.replace('http', 'ws')}/ws/btcusdt@trade/btcusdt@bookTicker`);
    ws.on('message', () => {
      received++;
    });
    await waitUntil(() => received > 0, 30_000, 'a market stream message from the server');
    prom = await PrometheusProcess.start([target!], 1000);
    await waitUntil(
      async () => {
        const r = await prom!.query('count_over_time(bot4_node_info{role="exchange-server"}[1m])');
        return Number(r.data?.result[0]?.value[1] ?? 0) >= 2;
      },
      60_000,
      'Prometheus to scrape the exchange server twice',
    );
  }, 150_000);

  afterAll(async () => {
    ws?.terminate();
    if (child !== undefined && child.exitCode === null) child.kill('SIGKILL');
    await prom?.stop();
  });

  async function value(expr: string): Promise<number> {
    const r = await prom!.query(expr);
    expect(r.status, `${expr}: ${r.error}`).toBe('success');
    const v = r.data?.result[0]?.value[1];
    expect(v, `no data for ${expr}\nstderr:\n${err}\nprometheus:\n${prom!.stderr}`).toBeDefined();
    return Number(v);
  }

  it('serves requests by route and status, weight, connections and messages sent', async () => {
    expect(
      await value('bot4_exchange_http_requests_total{method="GET",route="/api/v3/time",status="200"}'),
    ).toBe(3);
    expect(
      await value(
        'bot4_exchange_http_requests_total{method="GET",route="/api/v3/exchangeInfo",status="200"}',
      ),
    ).toBe(1);
    // An unknown path is folded into route "other" (clients cannot grow the label set).
    expect(await value('bot4_exchange_http_requests_total{route="other",status="404"}')).toBe(1);
    const probed = await prom!.query('bot4_exchange_http_requests_total{route="/no/such/path"}');
    expect(probed.data?.result).toEqual([]);
    // time 1 each + exchangeInfo 20 (Binance's weights).
    expect(await value('bot4_exchange_request_weight_total')).toBe(23);
    expect(await value('bot4_exchange_request_weight_limit')).toBe(6000);
    expect(await value('bot4_exchange_connections{kind="stream"}')).toBe(1);
    expect(await value('bot4_exchange_connections{kind="ws-api"}')).toBe(0);
    expect(await value('bot4_exchange_stream_messages_sent_total')).toBeGreaterThan(0);
    expect(await value('bot4_resident_memory_bytes')).toBeGreaterThan(0);
  }, 30_000);

  it('stops cleanly on SIGTERM with the endpoint open', async () => {
    ws?.terminate();
    const exited = new Promise<number | null>((resolve) => child!.once('exit', (code) => resolve(code)));
    child!.kill('SIGTERM');
    const code = await Promise.race([
      exited,
      new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), 20_000)),
    ]);
    expect(code, `no exit 0 within 20 s on SIGTERM; stderr:\n${err}`).toBe(0);
    expect(err).toContain('exchange: stopped');
  }, 30_000);
});
