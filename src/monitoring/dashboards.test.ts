// The Grafana dashboards against a real Prometheus: a demo backtest and a paper node (examples/paper.json:
// the local exchange server in-process, real WebSocket market data, so the venue series are the node's own)
// serve /metrics (--metrics-port), Debian's Prometheus scrapes both every second, and every panel query of
// every dashboard must parse and return data. Also checks the committed JSON is what generate.ts writes from dashboards.ts.

import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DASHBOARDS, panelQueries } from '../../deploy/grafana/dashboards.ts';
import { generatedFiles } from '../../deploy/grafana/generate.ts';
import { hasPrometheus, PrometheusProcess, waitUntil } from './prometheus-kit.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

describe('generated dashboards', () => {
  it('deploy/grafana holds exactly what generate.ts writes (run npm run grafana after editing dashboards.ts)', () => {
    for (const [rel, content] of generatedFiles()) {
      expect(readFileSync(join(ROOT, 'deploy/grafana', rel), 'utf8'), rel).toBe(content);
    }
  });
});

const available = hasPrometheus();
if (!available && process.env.CI) throw new Error('prometheus/promtool missing in CI: .ci/run installs them');

describe.skipIf(!available)('every dashboard panel against a real Prometheus', () => {
  let node: ChildProcess | undefined;
  let paper: ChildProcess | undefined;
  let paperLog = '';
  let prom: PrometheusProcess | undefined;
  let nodeLog = '';

  beforeAll(async () => {
    const out = mkdtempSync(join(tmpdir(), 'bot4-dash-'));
    // A long demo run (stopped by the test) with metrics held after it, so the node outlives the queries.
    node = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        'src/cli/main.ts',
        'backtest',
        '--demo',
        '--hours',
        '4000',
        '--metrics-port',
        '0',
        '--metrics-hold',
        '300',
        '--no-progress',
        '--out',
        out,
      ],
      { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    node.stderr!.setEncoding('utf8').on('data', (d: string) => {
      nodeLog += d;
    });
    await waitUntil(
      () => /serving http:\/\/127\.0\.0\.1:\d+\/metrics/.test(nodeLog),
      60_000,
      `the node's metrics endpoint (log: ${nodeLog})`,
    );
    const nodeTarget = /serving http:\/\/(127\.0\.0\.1:\d+)\/metrics/.exec(nodeLog)![1]!;
    paper = spawn(
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
    for (const s of [paper.stdout!, paper.stderr!]) {
      s.setEncoding('utf8').on('data', (d: string) => {
        paperLog = (paperLog + d).slice(-8000);
      });
    }
    await waitUntil(
      () => /serving http:\/\/127\.0\.0\.1:\d+\/metrics/.test(paperLog),
      60_000,
      `the paper node's metrics endpoint (log: ${paperLog})`,
    );
    const paperTarget = /serving http:\/\/(127\.0\.0\.1:\d+)\/metrics/.exec(paperLog)![1]!;
    prom = await PrometheusProcess.start([nodeTarget, paperTarget], 1000);
    // rate() over 20 s needs two samples of a moving counter: wait for a dozen scrapes of both targets.
    await waitUntil(
      async () => {
        const r = await prom!.query('min(count_over_time(bot4_node_info[1m]))');
        return Number(r.data?.result[0]?.value[1] ?? 0) >= 12;
      },
      120_000,
      'Prometheus to scrape both targets a dozen times',
    );
  }, 240_000);

  afterAll(async () => {
    node?.kill('SIGKILL');
    await prom?.stop();
    paper?.kill('SIGKILL');
  });

  for (const d of DASHBOARDS) {
    it(`${d.file}: every panel query parses and returns series`, async () => {
      const built = d.build().build();
      const queries = panelQueries(built);
      expect(queries.length).toBeGreaterThan(0);
      const failures: string[] = [];
      for (const q of queries) {
        // Grafana's own variables, as Grafana would expand them with "All" selected.
        const expr = q.expr
          .replaceAll('$__rate_interval', '20s')
          .replaceAll('$instance', '.+')
          .replaceAll('$stage', '.+');
        const r = await prom!.query(expr);
        if (r.status !== 'success') failures.push(`${q.panel}: ${r.error} in ${expr}`);
        else if ((r.data?.result.length ?? 0) === 0) failures.push(`${q.panel}: no data for ${expr}`);
      }
      // Template variables: label_values(selector, label) must find values.
      for (const v of (built.templating?.list ?? []) as { name: string; query?: unknown }[]) {
        const m = /^label_values\((.*), (\w+)\)$/.exec(String(v.query ?? ''));
        if (m === null) continue;
        const r = await prom!.query(m[1]!.replaceAll('$instance', '.+'));
        if (!(r.data?.result ?? []).some((s) => s.metric[m[2]!] !== undefined))
          failures.push(`variable ${v.name}: no ${m[2]} values`);
      }
      expect(
        failures,
        `node log:\n${nodeLog}\npaper node log:\n${paperLog}\nprometheus:\n${prom!.stderr}`,
      ).toEqual([]);
    }, 60_000);
  }
});
