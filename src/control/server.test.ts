// The control API against a real paper node on the in-process local exchange server: reads, operator
// actions journalled with who made them, and the refusals (no token, wrong token, read-only token on a write,
// oversize body, path traversal, another origin, another Host, rate limit), each with its status and with
// nothing changed: trading state, strategy parameters, open orders and the audit journal's accepted entries.

import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { waitFor } from '../core/poll.test-util.ts';
import { readJournal } from '../persistence/journal.ts';
import { RecordKind, readNodeJournal } from '../persistence/node-journal.ts';
import { BreakerScope } from '../risk/breakers.ts';
import { TradingState } from '../risk/risk-engine.ts';
import { StrategyState } from '../strategy/strategy.ts';
import { type AuditEntry, readAudit } from './audit.ts';
import { type ControlRig, call, startRig } from './control.test-util.ts';
import { RateLimiter } from './rate-limit.ts';
import { prepareControl } from './start.ts';
import { ControlTokens, TOKENS_FILE } from './tokens.ts';

let rig: ControlRig;
beforeAll(async () => {
  // Writes limited loosely: this file makes many on purpose (reads keep the default limit, tested last).
  rig = await startRig({ writesPerSec: 100 }, { journal: true });
}, 30_000);
afterAll(async () => {
  await rig?.close();
}, 15_000);

/** A raw HTTP request (fetch would normalise `..` out of the path before sending it). */
function raw(
  path: string,
  headers: Record<string, string> = {},
  method = 'GET',
  ms = 5_000,
): Promise<{ status: number; body: string }> {
  const u = new URL(rig.url);
  return new Promise((resolve, reject) => {
    const req = request({ host: u.hostname, port: u.port, path, method, headers, timeout: ms }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => {
        body += c.toString();
      });
      res.on('end', () => resolve({ status: res.statusCode!, body }));
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${path} timed out after ${ms} ms`)));
    req.on('error', reject);
    req.end();
  });
}

/** What must not change when a call is refused. */
function unchanged(): { state: number; qty: unknown; accepted: number } {
  return {
    state: rig.node.kernel.risk.tradingState,
    qty: rig.node.kernel.hosts[0]!.strategy.params.qty,
    accepted: readAudit(rig.stateDir).filter((e) => e.outcome === 'accepted').length,
  };
}

describe('control API: reads', () => {
  it('prints the console URL and both tokens at first start; the token file is owner-only', () => {
    expect(rig.lines.some((l) => l.startsWith(`console ${rig.url}`))).toBe(true);
    expect(rig.lines).toContain(`console operator token: ${rig.operator}`);
    expect(rig.lines).toContain(`console read-only token: ${rig.read}`);
    expect(statSync(join(rig.stateDir, TOKENS_FILE)).mode & 0o777).toBe(0o600);
    expect(statSync(rig.stateDir).mode & 0o777).toBe(0o700);
    // The log tail (readable with the read-only token) never holds a token.
    expect(rig.control.log.since(0).some((l) => l.line.includes(rig.read))).toBe(false);
  });

  it('serves status, positions, orders, PnL, strategies, risk and breakers to the read-only token', async () => {
    const s = await call(`${rig.url}api/status`, { token: rig.read });
    expect(s.status).toBe(200);
    expect(s.body).toMatchObject({ mode: 'paper', tradingState: 'ACTIVE', currency: 'USDT' });
    expect(typeof s.body.equity).toBe('number');
    const p = await call(`${rig.url}api/positions`, { token: rig.read });
    expect(p.body).toEqual([expect.objectContaining({ instrument: 'BTCUSDT.BINANCE' })]);
    expect((await call(`${rig.url}api/orders`, { token: rig.read })).status).toBe(200);
    const pnl = await call(`${rig.url}api/pnl`, { token: rig.read });
    expect((pnl.body.curve as unknown[]).length).toBeGreaterThan(0);
    const st = await call(`${rig.url}api/strategies`, { token: rig.read });
    expect(st.body).toEqual([
      expect.objectContaining({
        id: 1,
        name: 'EmaCross',
        state: 'RUNNING',
        liveParams: ['qty', 'allowShort'],
      }),
    ]);
    const risk = await call(`${rig.url}api/risk`, { token: rig.read });
    expect(risk.body).toMatchObject({ tradingState: 'ACTIVE' });
    const br = await call(`${rig.url}api/breakers`, { token: rig.read });
    expect(br.body).toEqual(
      expect.arrayContaining([expect.objectContaining({ scope: 'global', state: 'CLOSED' })]),
    );
    const who = await call(`${rig.url}api/whoami`, { token: rig.read });
    expect(who.body).toEqual({ role: 'read', tokenId: rig.control.tokens.id('read') });
  });

  it('pushes snapshots and log lines over the WebSocket with the token as subprotocol', async () => {
    const ws = new WebSocket(`${rig.url.replace('http', 'ws')}api/ws`, ['bot4', `bearer.${rig.read}`]);
    const got: Record<string, unknown>[] = [];
    ws.on('message', (m) => got.push(JSON.parse(String(m)) as Record<string, unknown>));
    await waitFor(() => got.some((g) => g.type === 'snapshot'), 'a WebSocket snapshot', 5_000);
    expect(ws.protocol).toBe('bot4');
    ws.close();
    // Without a token the upgrade is refused with 401.
    const bad = new WebSocket(`${rig.url.replace('http', 'ws')}api/ws`, ['bot4']);
    const status = await new Promise<number>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('no answer to an unauthenticated upgrade in 5 s')), 5_000);
      bad.on('unexpected-response', (_req, res) => {
        clearTimeout(t);
        resolve(res.statusCode!);
      });
      bad.on('open', () => {
        clearTimeout(t);
        reject(new Error('an unauthenticated WebSocket was accepted'));
      });
      bad.on('error', () => {});
    });
    expect(status).toBe(401);
  });
});

describe('control API: refusals change nothing', () => {
  it('no token and a wrong token: 401 on reads and writes', async () => {
    const before = unchanged();
    for (const [path, method] of [
      ['api/status', 'GET'],
      ['api/kill', 'POST'],
      ['api/strategies/1/params', 'POST'],
    ] as const) {
      const json = method === 'POST' ? { key: 'qty', value: 0.005 } : undefined;
      const none = await call(`${rig.url}${path}`, { method, json });
      expect(none.status, `${method} ${path} without a token`).toBe(401);
      expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/);
      const wrong = await call(`${rig.url}${path}`, {
        method,
        token: `${rig.operator.slice(0, -2)}xx`,
        json,
      });
      expect(wrong.status, `${method} ${path} with a wrong token`).toBe(401);
      expect(wrong.body.error).toBe('invalid token');
    }
    expect(unchanged()).toEqual(before);
  });

  it('the read-only token on a write: 403, recorded as refused with its role and id', async () => {
    const before = unchanged();
    for (const path of ['api/kill', 'api/cancel-all', 'api/flatten', 'api/strategies/1/stop']) {
      const r = await call(`${rig.url}${path}`, { method: 'POST', token: rig.read, json: {} });
      expect(r.status, path).toBe(403);
    }
    expect(unchanged()).toEqual(before);
    const refused = readAudit(rig.stateDir).filter((e) => e.outcome.startsWith('refused'));
    expect(refused.at(-1)).toMatchObject({ role: 'read', tokenId: rig.control.tokens.id('read') });
    expect(readFileSync(join(rig.stateDir, 'control-audit.jnl'), 'latin1')).not.toContain(rig.read);
  });

  it('an oversize body: 413; a body outside the schema: 400 naming the key', async () => {
    const before = unchanged();
    const big = await call(`${rig.url}api/kill`, {
      method: 'POST',
      token: rig.operator,
      json: { reason: 'x'.repeat(40_000) },
    });
    expect(big.status).toBe(413);
    const extra = await call(`${rig.url}api/kill`, {
      method: 'POST',
      token: rig.operator,
      json: { flatten: true, everything: 1 },
    });
    expect(extra.status).toBe(400);
    expect(extra.body.error).toMatch(/everything/);
    const notJson = await call(`${rig.url}api/kill`, {
      method: 'POST',
      token: rig.operator,
      body: '{"flatten":',
      headers: { 'content-type': 'application/json' },
    });
    expect(notJson.status).toBe(400);
    const badParam = await call(`${rig.url}api/strategies/1/params`, {
      method: 'POST',
      token: rig.operator,
      json: { key: 'fast', value: 5 },
    });
    expect(badParam.status).toBe(400);
    expect(badParam.body.error).toMatch(/'fast' cannot change while running/);
    const outOfRange = await call(`${rig.url}api/strategies/1/params`, {
      method: 'POST',
      token: rig.operator,
      json: { key: 'qty', value: -1 },
    });
    expect(outOfRange.status).toBe(400);
    const noStrategy = await call(`${rig.url}api/strategies/9/stop`, {
      method: 'POST',
      token: rig.operator,
      json: {},
    });
    expect(noStrategy.status).toBe(404);
    // Accepted-and-failed calls are journalled (they were asked for); the state is what matters here.
    expect(unchanged().state).toBe(before.state);
    expect(unchanged().qty).toBe(before.qty);
  });

  it('path traversal on the console files: 404 (or 401 under /api), never a file', async () => {
    for (const path of [
      '/../../../../etc/passwd',
      '/%2e%2e/%2e%2e/%2e%2e/etc/passwd',
      '/app.js/../../../etc/passwd',
      '/..%2f..%2f..%2fetc%2fpasswd',
      '/%252e%252e/etc/passwd',
      '/app.css%00.js',
      '/./package.json',
      '//etc/passwd',
    ]) {
      const r = await raw(path);
      expect([400, 404], path).toContain(r.status);
      expect(r.body, path).not.toMatch(/root:|"name": "bot4"/);
    }
    const api = await raw('/api/../../etc/passwd');
    expect([401, 404]).toContain(api.status);
    expect((await raw('/')).body).toContain('<div id="app">');
  });

  it('another origin (CORS) and another Host: 403, no CORS headers, nothing changed', async () => {
    const before = unchanged();
    const post = await call(`${rig.url}api/kill`, {
      method: 'POST',
      token: rig.operator,
      json: {},
      headers: { origin: 'http://evil.example' },
    });
    expect(post.status).toBe(403);
    expect(post.headers.get('access-control-allow-origin')).toBeNull();
    const preflight = await raw(
      '/api/kill',
      {
        origin: 'http://evil.example',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization,content-type',
      },
      'OPTIONS',
    );
    expect(preflight.status).toBe(403);
    const read = await call(`${rig.url}api/status`, {
      token: rig.read,
      headers: { origin: 'http://127.0.0.1:1' },
    });
    expect(read.status).toBe(403);
    const rebinding = await raw('/api/status', { host: 'evil.example', authorization: `Bearer ${rig.read}` });
    expect(rebinding.status).toBe(403);
    expect(unchanged()).toEqual(before);
  });
});

describe('control API: operator actions', () => {
  it('changes a live parameter, cancels all, kills and resumes; each journalled with who, never the token', async () => {
    const host = rig.node.kernel.hosts[0]!;
    const p = await call(`${rig.url}api/strategies/1/params`, {
      method: 'POST',
      token: rig.operator,
      json: { key: 'qty', value: 0.002 },
    });
    expect(p.status).toBe(200);
    expect(host.strategy.params.qty).toBe(0.002);
    const stop = await call(`${rig.url}api/strategies/1/stop`, {
      method: 'POST',
      token: rig.operator,
      json: { cancelOrders: true },
    });
    expect(stop.body).toEqual({ state: 'STOPPED' });
    expect(host.state).toBe(StrategyState.STOPPED);
    const start = await call(`${rig.url}api/strategies/1/start`, { method: 'POST', token: rig.operator });
    expect(start.body).toEqual({ state: 'RUNNING' });
    const again = await call(`${rig.url}api/strategies/1/start`, { method: 'POST', token: rig.operator });
    expect(again.status).toBe(400);
    expect(again.body.error).toMatch(/already running/);
    // A tripped breaker shows OPEN and an operator closes it.
    rig.node.kernel.risk.breakers.tripManually(BreakerScope.STRATEGY, 1);
    const open = await call(`${rig.url}api/breakers`, { token: rig.read });
    expect(open.body).toEqual(
      expect.arrayContaining([expect.objectContaining({ scope: 'strategy', id: 1, state: 'OPEN' })]),
    );
    const reset = await call(`${rig.url}api/breakers/reset`, {
      method: 'POST',
      token: rig.operator,
      json: { scope: 'strategy', id: 1 },
    });
    expect(reset.body).toEqual({ state: 'CLOSED' });
    const noBreaker = await call(`${rig.url}api/breakers/reset`, {
      method: 'POST',
      token: rig.operator,
      json: { scope: 'strategy', id: 7 },
    });
    expect(noBreaker.status).toBe(404);
    const c = await call(`${rig.url}api/cancel-all`, { method: 'POST', token: rig.operator, json: {} });
    expect(c.status).toBe(200);
    expect(typeof c.body.cancelRequests).toBe('number');
    const k = await call(`${rig.url}api/kill`, {
      method: 'POST',
      token: rig.operator,
      json: { reason: 'test' },
    });
    expect(k.status).toBe(200);
    expect(k.body).toMatchObject({ state: 'HALTED' });
    expect(rig.node.kernel.risk.tradingState).toBe(TradingState.HALTED);
    const r = await call(`${rig.url}api/trading-state`, {
      method: 'POST',
      token: rig.operator,
      json: { state: 'ACTIVE' },
    });
    expect(r.body).toEqual({ tradingState: 'ACTIVE' });
    const audit = readAudit(rig.stateDir).filter((e) => e.outcome === 'accepted');
    const opId = rig.control.tokens.id('operator');
    expect(audit.map((e) => e.action)).toEqual(
      expect.arrayContaining([
        'POST /api/strategies/:id/params',
        'POST /api/cancel-all',
        'POST /api/kill',
        'POST /api/trading-state',
      ]),
    );
    const kill = audit.find(
      (e) => e.action === 'POST /api/kill' && (e.args as { reason?: string }).reason === 'test',
    );
    expect(kill).toMatchObject({ role: 'operator', tokenId: opId, ip: '127.0.0.1' });
    expect(readFileSync(join(rig.stateDir, 'control-audit.jnl'), 'latin1')).not.toContain(rig.operator);
    // The node's own journal says who steered it too (record kind CONTROL, skipped by recovery).
    const inJournal = readJournal(rig.journalPath)
      .records.filter((rec) => rec.kind === RecordKind.CONTROL)
      .map((rec) => JSON.parse(rec.payload.toString('utf8')) as AuditEntry);
    expect(inJournal.find((e) => e.action === 'POST /api/kill' && e.outcome === 'accepted')).toMatchObject({
      role: 'operator',
      tokenId: opId,
    });
    // Replay (what recovery reads) passes over them: every fill record is still replayed.
    const records = readJournal(rig.journalPath).records;
    expect(readNodeJournal(rig.journalPath).fills.length).toBe(
      records.filter((rec) => rec.kind === RecordKind.FILL).length,
    );
  });
});

describe('control start-up', () => {
  it('a port already in use fails the start with a message naming the config section', async () => {
    const port = Number(new URL(rig.url).port);
    const again = prepareControl(
      { console: true },
      {
        host: '127.0.0.1',
        port,
        stateDir: rig.stateDir,
        bodyLimitBytes: 16_384,
        requestsPerSec: 20,
        writesPerSec: 2,
      },
      () => {},
      false,
    )!;
    await expect(again.start(rig.node)).rejects.toThrow(
      new RegExp(`config 'control': cannot listen on 127\\.0\\.0\\.1:${port} \\(EADDRINUSE\\)`),
    );
    await again.close();
  });
});

describe('tokens', () => {
  it('rotation replaces both tokens; a file others can read is refused', async () => {
    const dir = join(rig.stateDir, 'rot');
    const a = ControlTokens.open(dir);
    expect(a.fresh).toBe(true);
    const same = ControlTokens.open(dir);
    expect(same.fresh).toBe(false);
    expect(same.token('operator')).toBe(a.token('operator'));
    const b = ControlTokens.open(dir, { rotate: true });
    expect(b.token('operator')).not.toBe(a.token('operator'));
    expect(b.verify(a.token('operator'))).toBeUndefined();
    expect(b.verify(b.token('read'))).toEqual({ role: 'read', tokenId: b.id('read') });
    const file = join(dir, TOKENS_FILE);
    writeFileSync(file, readFileSync(file), { mode: 0o644 });
    const { chmodSync } = await import('node:fs');
    chmodSync(file, 0o644);
    expect(() => ControlTokens.open(dir)).toThrow(/readable by others \(mode 644\)/);
  });

  it('the rate limiter refills at its rate and answers the wait', () => {
    let t = 0;
    const lim = new RateLimiter({ perSec: 2, burst: 3 }, () => t);
    expect([lim.take('a'), lim.take('a'), lim.take('a')]).toEqual([0, 0, 0]);
    expect(lim.take('a')).toBe(1);
    expect(lim.take('b')).toBe(0);
    t = 500;
    expect(lim.take('a')).toBe(0);
    expect(lim.take('a')).toBe(1);
  });
});

describe('control API: rate limit (last: it drains the read token)', () => {
  it('answers 429 with Retry-After past the burst, and the operator token is not affected', async () => {
    const statuses: number[] = [];
    let retry: string | null = null;
    for (let i = 0; i < 80 && !statuses.includes(429); i++) {
      const r = await call(`${rig.url}api/status`, { token: rig.read });
      statuses.push(r.status);
      if (r.status === 429) retry = r.headers.get('retry-after');
    }
    expect(statuses).toContain(429);
    expect(Number(retry)).toBeGreaterThanOrEqual(1);
    expect((await call(`${rig.url}api/status`, { token: rig.operator })).status).toBe(200);
  });
});
