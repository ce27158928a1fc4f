// Fuzzing the control API's request handling (fastify's full pipeline through inject(): routing, the Host,
// Origin, auth, rate-limit and role hooks, body and query parsing, the schemas) on a real paper node:
//  - without the operator token (no token, a mutated token, the read-only token): arbitrary methods, paths
//    mutated from the real routes (with traversal and encoding tricks), headers and bodies. A crash is a 5xx
//    or a thrown inject; and nothing may change: trading state, strategy parameters, accepted audit entries.
//  - with the operator token: the write routes with bodies mutated from valid ones and arbitrary JSON, and
//    content types; any 4xx or 200 is fine, a 5xx or a throw is a crash.

import { connect } from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FuzzTally, fuzzParams, mutatedText } from '../core/fuzz.test-util.ts';
import { readAudit } from './audit.ts';
import { type ControlRig, startRig } from './control.test-util.ts';

const ROUTES = [
  'GET /api/status',
  'GET /api/positions',
  'GET /api/orders',
  'GET /api/pnl',
  'GET /api/strategies',
  'GET /api/risk',
  'GET /api/breakers',
  'GET /api/log?after=3',
  'GET /api/whoami',
  'GET /',
  'GET /app.js',
  'GET /app.css',
  'POST /api/kill',
  'POST /api/flatten',
  'POST /api/cancel-all',
  'POST /api/trading-state',
  'POST /api/breakers/reset',
  'POST /api/strategies/1/start',
  'POST /api/strategies/1/stop',
  'POST /api/strategies/1/params',
];
const WRITES = ROUTES.filter((r) => r.startsWith('POST')).map((r) => r.slice(5));
const BODY_SEEDS = [
  '{}',
  '{"reason":"fuzz","flatten":false}',
  '{"state":"ACTIVE"}',
  '{"scope":"venue","id":0}',
  '{"scope":"strategy","id":1}',
  '{"cancelOrders":false}',
  '{"key":"qty","value":0.001}',
  '{"key":"allowShort","value":false}',
];
const PATH_TRICKS = [
  '/..',
  '/%2e%2e',
  '%00',
  '//',
  '/./',
  '?after=-1',
  '?after=1e309',
  '%',
  '#x',
  ';a=b',
  '/\\',
];

/** One request written byte for byte on a fresh socket; the status of the answer (fails after 5 s). */
function rawStatus(
  method: string,
  path: string,
  headers: Record<string, string>,
  body: string | undefined,
): Promise<number> {
  const u = new URL(rig.url);
  const b = Buffer.from(body ?? '', 'utf8');
  const head = [
    `${method} ${path} HTTP/1.1`,
    `host: ${u.host}`,
    ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
    `content-length: ${b.length}`,
    'connection: close',
  ];
  return new Promise((resolve, reject) => {
    const sock = connect(Number(u.port), u.hostname);
    let got = '';
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`no answer in 5 s to ${method} ${path}`));
    }, 5_000);
    sock.on('connect', () =>
      sock.end(Buffer.concat([Buffer.from(`${head.join('\r\n')}\r\n\r\n`, 'latin1'), b])),
    );
    sock.on('data', (d) => {
      got += d.toString('latin1');
    });
    sock.on('error', () => {});
    sock.on('close', () => {
      clearTimeout(timer);
      const m = /^HTTP\/1\.1 (\d{3})/.exec(got);
      if (m === null) reject(new Error(`dropped connection without a status for ${method} ${path}`));
      else resolve(Number(m[1]));
    });
  });
}

let rig: ControlRig;
beforeAll(async () => {
  // Limits high enough that the fuzz reaches the handlers instead of the rate limiter.
  rig = await startRig({ requestsPerSec: 10_000, writesPerSec: 1_000 });
}, 30_000);
afterAll(async () => {
  await rig?.close();
}, 15_000);

const method = fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD');

describe('control API fuzz', () => {
  it('without the operator token: no 5xx, nothing changes', async () => {
    const tally = new FuzzTally('control API (unauthorised)');
    const k = rig.node.kernel;
    const before = {
      state: k.risk.tradingState,
      qty: k.hosts[0]!.strategy.params.qty,
      accepted: readAudit(rig.stateDir).filter((e) => e.outcome === 'accepted').length,
    };
    const statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(
        method,
        fc.oneof(
          mutatedText(ROUTES.map((r) => r.split(' ')[1]!)),
          fc
            .tuple(fc.constantFrom(...ROUTES.map((r) => r.split(' ')[1]!)), fc.constantFrom(...PATH_TRICKS))
            .map(([a, b]) => a + b),
          fc.string({ maxLength: 60 }).map((s) => `/${s}`),
        ),
        fc.oneof(
          fc.constant(undefined),
          { weight: 4, arbitrary: fc.constant(`Bearer ${rig.read}`) },
          mutatedText([`Bearer ${rig.operator}`, `Bearer ${rig.read}`]),
          fc.string({ maxLength: 80 }),
        ),
        fc.option(fc.constantFrom('http://evil.example', 'null', 'http://localhost:80', ''), { freq: 2 }),
        fc.option(mutatedText(BODY_SEEDS)),
        fc.constantFrom('application/json', 'text/plain', 'application/x-www-form-urlencoded', ''),
        async (m, url, auth, origin, body, type) => {
          if (auth === `Bearer ${rig.operator}`) return; // a mutation that undid itself
          await tally.checkAsync(
            async () => {
              const headers: Record<string, string> = {};
              if (auth !== undefined) headers.authorization = auth;
              if (origin !== null) headers.origin = origin;
              if (type !== '') headers['content-type'] = type;
              const noBody = m === 'GET' || m === 'HEAD' || body === null;
              const path = url.startsWith('/') ? url : `/${url}`;
              let status: number;
              try {
                const r = await rig.server.app.inject({
                  method: m as 'GET',
                  url: path,
                  headers,
                  ...(noBody ? {} : { payload: body }),
                });
                status = r.statusCode;
              } catch (e) {
                // inject() builds a WHATWG URL first, which some raw paths (`/\x`) are not: send those bytes
                // over a real socket instead, as a client would.
                if (!(e instanceof TypeError && /Invalid URL/.test(e.message))) throw e;
                status = await rawStatus(m, path, headers, noBody ? undefined : (body ?? undefined));
              }
              statuses.set(status, (statuses.get(status) ?? 0) + 1);
              if (status >= 500) throw new Error(`status ${status}`);
            },
            () =>
              `${m} ${url} auth=${String(auth)} origin=${String(origin)} type=${type} body=${String(body)}`,
          );
        },
      ),
      fuzzParams(400),
    );
    tally.report();
    process.stderr.write(`  statuses: ${JSON.stringify(Object.fromEntries(statuses))}\n`);
    expect(tally.crashes).toEqual([]);
    expect({
      state: k.risk.tradingState,
      qty: k.hosts[0]!.strategy.params.qty,
      accepted: readAudit(rig.stateDir).filter((e) => e.outcome === 'accepted').length,
    }).toEqual(before);
  }, 120_000);

  it('with the operator token: mutated and arbitrary bodies on every write route: no 5xx', async () => {
    const tally = new FuzzTally('control API (operator bodies)');
    const statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...WRITES),
        fc.oneof(
          { weight: 4, arbitrary: mutatedText(BODY_SEEDS) },
          fc.jsonValue().map((v) => JSON.stringify(v)),
          fc.string({ maxLength: 100 }),
        ),
        fc.constantFrom(
          'application/json',
          'application/json; charset=utf-8',
          'text/plain',
          'application/xml',
        ),
        async (path, body, type) => {
          await tally.checkAsync(
            async () => {
              const r = await rig.server.app.inject({
                method: 'POST',
                url: path,
                headers: { authorization: `Bearer ${rig.operator}`, 'content-type': type },
                payload: body,
              });
              statuses.set(r.statusCode, (statuses.get(r.statusCode) ?? 0) + 1);
              if (r.statusCode >= 500) throw new Error(`${r.statusCode} ${r.body.slice(0, 200)}`);
            },
            () => `POST ${path} type=${type} body=${body}`,
          );
        },
      ),
      fuzzParams(400),
    );
    tally.report();
    process.stderr.write(`  statuses: ${JSON.stringify(Object.fromEntries(statuses))}\n`);
    expect(tally.crashes).toEqual([]);
    // Some inputs got past parsing into the handlers (the fuzz is not only testing the 4xx paths).
    expect(statuses.get(200) ?? 0).toBeGreaterThan(0);
    expect(statuses.get(400) ?? 0).toBeGreaterThan(0);
  }, 120_000);
});
