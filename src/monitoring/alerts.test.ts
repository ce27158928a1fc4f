// The alert rules (deploy/prometheus/alerts.yml) through Prometheus's own tools: promtool checks the rules and
// the example config, and runs the unit tests in alerts.test.yml (each alert fires on its series, and not before).

import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { hasPrometheus, PROMTOOL } from './prometheus-kit.ts';

const DIR = fileURLToPath(new URL('../../deploy/prometheus/', import.meta.url));

function promtool(...args: string[]): { status: number | null; out: string } {
  const r = spawnSync(PROMTOOL, args, { cwd: DIR, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, out: `${r.stdout}${r.stderr}${r.error === undefined ? '' : String(r.error)}` };
}

const available = hasPrometheus();
if (!available && process.env.CI) throw new Error('promtool missing in CI: .ci/run installs prometheus');

describe.skipIf(!available)('alert rules (promtool)', () => {
  it('the rules and the example Prometheus config are valid', () => {
    const rules = promtool('check', 'rules', 'alerts.yml');
    expect(rules.status, rules.out).toBe(0);
    expect(rules.out).toMatch(/SUCCESS: 9 rules found/);
    const config = promtool('check', 'config', 'prometheus.yml');
    expect(config.status, config.out).toBe(0);
  });

  it('every alert passes its promtool unit tests', () => {
    const r = promtool('test', 'rules', 'alerts.test.yml');
    expect(r.status, r.out).toBe(0);
    expect(r.out).toContain('SUCCESS');
    // Each alert of alerts.yml has at least one firing case in the tests.
    const names = [...readFileSync(`${DIR}alerts.yml`, 'utf8').matchAll(/alert: (\w+)/g)].map((m) => m[1]!);
    const tests = readFileSync(`${DIR}alerts.test.yml`, 'utf8');
    for (const n of names)
      expect(tests, n).toMatch(new RegExp(`alertname: ${n}\\n\\s+exp_alerts:\\n\\s+- exp_labels`));
  });
});
