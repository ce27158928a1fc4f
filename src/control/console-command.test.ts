// `bot4 paper --config <file> --console` as a process (the README's command with the example config, on port
// 0 and a temp state dir): it prints the console URL and the tokens, the API answers with the printed token,
// SIGTERM stops it with exit 0; `--rotate-tokens` prints new tokens and the old ones stop working.

import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { waitFor } from '../core/poll.test-util.ts';
import { readAudit } from './audit.ts';
import { call } from './control.test-util.ts';

const dir = mkdtempSync(join(tmpdir(), 'bot4-console-cli-'));
const stateDir = join(dir, 'state');
const config = join(dir, 'paper.json');
writeFileSync(
  config,
  JSON.stringify({
    ...JSON.parse(readFileSync('examples/paper.json', 'utf8')),
    control: { port: 0, stateDir },
  }),
);
const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

async function run(extra: string[]): Promise<{
  url: string;
  operator: string;
  read: string;
  stop: () => Promise<number | null>;
  out: () => string;
}> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'src/cli/main.ts', 'paper', '--config', config, '--console', ...extra],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  children.push(child);
  let out = '';
  child.stdout!.on('data', (d) => {
    out += String(d);
  });
  child.stderr!.on('data', (d) => {
    out += String(d);
  });
  const exited = new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
  await waitFor(
    () => /console read-only token: \S+\n/.test(out) || child.exitCode !== null,
    'the console tokens',
    30_000,
  );
  const m = /^console (http:\/\/127\.0\.0\.1:\d+\/) /m.exec(out);
  expect(m, out).not.toBeNull();
  return {
    url: m![1]!,
    operator: /^console operator token: (\S+)$/m.exec(out)![1]!,
    read: /^console read-only token: (\S+)$/m.exec(out)![1]!,
    out: () => out,
    stop: async () => {
      child.kill('SIGTERM');
      return exited;
    },
  };
}

describe('bot4 paper --console', () => {
  it('prints the URL and tokens; the API answers; --rotate-tokens replaces them', async () => {
    const a = await run([]);
    const s = await call(`${a.url}api/status`, { token: a.read });
    expect(s.status).toBe(200);
    expect(s.body.mode).toBe('paper');
    const page = await call(a.url);
    expect(String(page.body.text)).toContain('<script type="module" src="/app.js">');
    const js = await fetch(`${a.url}app.js`, { signal: AbortSignal.timeout(5_000) });
    expect(js.headers.get('content-type')).toMatch(/^text\/javascript/);
    expect((await js.text()).length).toBeGreaterThan(50_000);
    const halt = await call(`${a.url}api/trading-state`, {
      method: 'POST',
      token: a.operator,
      json: { state: 'HALTED' },
    });
    expect(halt.body).toEqual({ tradingState: 'HALTED' });
    expect(await a.stop()).toBe(0);
    expect(a.out()).toMatch(/stopping\.\.\.\nsummary: \[paper/);
    expect(readAudit(stateDir).at(-1)).toMatchObject({ action: 'POST /api/trading-state', role: 'operator' });

    const b = await run(['--rotate-tokens']);
    expect(b.operator).not.toBe(a.operator);
    expect((await call(`${b.url}api/status`, { token: a.operator })).status).toBe(401);
    expect((await call(`${b.url}api/status`, { token: b.operator })).status).toBe(200);
    expect(await b.stop()).toBe(0);
  }, 90_000);
});
