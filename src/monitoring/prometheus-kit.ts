// Starting Debian's real Prometheus for tests and tools: a temporary config and storage directory, a free
// loopback port, a short scrape interval; queries through its HTTP API. Nothing here is used by a node.

import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monoMillis } from '../core/clock.ts';

export const PROMETHEUS = '/usr/bin/prometheus';
export const PROMTOOL = '/usr/bin/promtool';

export function hasPrometheus(): boolean {
  return existsSync(PROMETHEUS) && existsSync(PROMTOOL);
}

/** A free TCP port on 127.0.0.1 (bound, read, released). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export async function waitUntil(
  cond: () => Promise<boolean> | boolean,
  ms: number,
  what: string,
): Promise<void> {
  const end = monoMillis() + ms;
  for (;;) {
    if (await cond()) return;
    if (monoMillis() > end) throw new Error(`timed out after ${ms / 1000} s waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

export interface QueryResult {
  status: 'success' | 'error';
  error?: string;
  data?: { resultType: string; result: { metric: Record<string, string>; value: [number, string] }[] };
}

export class PrometheusProcess {
  readonly url: string;
  private readonly child: ChildProcess;
  private readonly dir: string;
  private log = '';

  private constructor(url: string, child: ChildProcess, dir: string) {
    this.url = url;
    this.child = child;
    this.dir = dir;
    child.stderr?.setEncoding('utf8').on('data', (d: string) => {
      this.log = (this.log + d).slice(-4000);
    });
  }

  /** Starts Prometheus scraping `targets` (host:port) every `scrapeMs`; resolves once it reports ready. */
  static async start(
    targets: string[],
    scrapeMs = 1000,
    ruleFiles: string[] = [],
  ): Promise<PrometheusProcess> {
    const dir = mkdtempSync(join(tmpdir(), 'bot4-prom-'));
    const port = await freePort();
    const config = join(dir, 'prometheus.yml');
    writeFileSync(
      config,
      [
        'global:',
        `  scrape_interval: ${scrapeMs}ms`,
        `  evaluation_interval: ${scrapeMs}ms`,
        ...(ruleFiles.length > 0 ? ['rule_files:', ...ruleFiles.map((f) => `  - ${JSON.stringify(f)}`)] : []),
        'scrape_configs:',
        '  - job_name: bot4',
        '    static_configs:',
        `      - targets: [${targets.map((t) => JSON.stringify(t)).join(', ')}]`,
        '',
      ].join('\n'),
    );
    const child = spawn(
      PROMETHEUS,
      [
        `--config.file=${config}`,
        `--storage.tsdb.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--log.level=warn',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    const p = new PrometheusProcess(`http://127.0.0.1:${port}`, child, dir);
    try {
      await waitUntil(
        async () => {
          if (child.exitCode !== null) throw new Error(`prometheus exited with ${child.exitCode}: ${p.log}`);
          return (await fetch(`${p.url}/-/ready`).catch(() => undefined))?.ok === true;
        },
        30_000,
        'prometheus to report ready',
      );
    } catch (e) {
      await p.stop();
      throw e;
    }
    return p;
  }

  /** An instant query at the current time. */
  async query(expr: string): Promise<QueryResult> {
    const r = await fetch(`${this.url}/api/v1/query?query=${encodeURIComponent(expr)}`, {
      signal: AbortSignal.timeout(10_000),
    });
    return (await r.json()) as QueryResult;
  }

  get stderr(): string {
    return this.log;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null) {
      const exited = new Promise((r) => this.child.once('exit', r));
      this.child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      if (this.child.exitCode === null) this.child.kill('SIGKILL');
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
