// The node's control API and web console (fastify + @fastify/websocket). Every request passes, in order:
//  1. Host check: bound to loopback, the Host header must name loopback (a DNS-rebinding page cannot reach it);
//  2. Origin check: a request carrying an Origin other than this server's own is refused 403 (no CORS headers
//     are ever sent, so a foreign page can neither read nor, through this check, write);
//  3. the console's files (/, /app.js, /app.css: exact routes from memory, no file system path is ever built
//     from a URL, so there is nothing to traverse) need no token: they hold no data;
//  4. everything under /api needs `Authorization: Bearer <token>` (the WebSocket: subprotocol `bearer.<token>`,
//     as browsers cannot set headers there); failures are rate limited per address (401, then 429);
//  5. a rate limit per token (429 with Retry-After), writes limited separately and tighter;
//  6. writes (POST) need the operator token: a read-only token gets 403, recorded in the audit journal;
//  7. bodies over `bodyLimit` bytes: 413; not JSON: 415/400; a key or value out of schema: 400 naming it;
//  8. an accepted write is journalled (who, what) before it acts.
// Errors answer { error } with the status; nothing about the server's internals (no stack) is sent.

import fastifyWebsocket from '@fastify/websocket';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { z } from 'zod';
import { wallMillis } from '../core/clock.ts';
import { isBot4Error } from '../core/errors.ts';
import type { ControlAudit } from './audit.ts';
import type { ConsoleAssets } from './bundle.ts';
import type { NodeControl } from './node-control.ts';
import { type RateLimit, RateLimiter } from './rate-limit.ts';
import { type Caller, type ControlTokens, Role } from './tokens.ts';

export interface ControlServerOptions {
  control: NodeControl;
  tokens: ControlTokens;
  audit: ControlAudit;
  assets: ConsoleAssets;
  /** Interface (default 127.0.0.1) and port (0: any free one). */
  host: string;
  port: number;
  /** Largest request body, bytes. */
  bodyLimit: number;
  /** Per token: every request; writes on top. */
  rate: RateLimit;
  writeRate: RateLimit;
  /** Per client address: failed authentications. */
  authFailRate: RateLimit;
  /** Seconds between WebSocket pushes. */
  pushIntervalMs?: number;
}

export interface ControlServer {
  readonly url: string;
  readonly app: FastifyInstance;
  close(): Promise<void>;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

// ---- request bodies (strict: an unknown key is a 400 naming it) ----------------------------------------------
const KillBody = z.strictObject({
  reason: z.string().max(200).optional(),
  flatten: z.boolean().optional(),
});
const ReasonBody = z.strictObject({ reason: z.string().max(200).optional() });
const EmptyBody = z.strictObject({});
const StateBody = z.strictObject({ state: z.enum(['ACTIVE', 'REDUCING', 'HALTED']) });
const BreakerBody = z.strictObject({
  scope: z.enum(['global', 'venue', 'strategy']),
  id: z.number().int().nonnegative().max(1_000_000),
});
const StopBody = z.strictObject({ cancelOrders: z.boolean().optional() });
const ParamBody = z.strictObject({
  key: z.string().min(1).max(64),
  value: z.union([z.number(), z.string().max(200), z.boolean()]),
});
const IdParam = z.strictObject({ id: z.coerce.number().int().positive().max(1_000_000) });
const LogQuery = z.strictObject({ after: z.coerce.number().int().nonnegative().optional() });

class HttpError extends Error {
  readonly statusCode: number;
  constructor(statusCode: number, message: string) {
    super(message);
    this.statusCode = statusCode;
  }
}

function parse<T>(schema: z.ZodType<T>, value: unknown, where: string): T {
  const r = schema.safeParse(value ?? {});
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  const key = issue.path.join('.');
  const keys = issue.code === 'unrecognized_keys' ? ` ${issue.keys.join(', ')}` : '';
  throw new HttpError(400, `${where}${key === '' ? '' : ` '${key}'`}: ${issue.message}${keys}`);
}

declare module 'fastify' {
  interface FastifyRequest {
    caller?: Caller;
  }
}

export async function startControlServer(o: ControlServerOptions): Promise<ControlServer> {
  const { control, tokens, audit, assets } = o;
  const app = Fastify({
    bodyLimit: o.bodyLimit,
    logger: false,
    // Client-supplied request ids are ignored; no proxy is trusted (the address is the socket's).
    trustProxy: false,
    routerOptions: { maxParamLength: 64 },
  });
  await app.register(fastifyWebsocket, {
    options: {
      maxPayload: 1024,
      // The client offers ['bot4', 'bearer.<token>']: the server answers with 'bot4', never echoing the token.
      handleProtocols: (protocols: Set<string>) => (protocols.has('bot4') ? 'bot4' : false),
    },
  });
  const reads = new RateLimiter(o.rate);
  const writes = new RateLimiter(o.writeRate);
  const authFails = new RateLimiter(o.authFailRate);
  const loopbackOnly = LOOPBACK.has(o.host);
  let port = o.port;

  const refuse = (reply: FastifyReply, status: number, error: string): FastifyReply =>
    reply.code(status).header('cache-control', 'no-store').send({ error });

  app.addHook('onRequest', async (req, reply) => {
    reply.header('x-content-type-options', 'nosniff');
    reply.header('referrer-policy', 'no-referrer');
    reply.header('x-frame-options', 'DENY');
    const host = req.headers.host ?? '';
    const hostName = host.replace(/:\d+$/, '');
    if (loopbackOnly && !LOOPBACK.has(hostName)) return refuse(reply, 403, `host '${host}' not allowed`);
    const origin = req.headers.origin;
    if (origin !== undefined && origin !== `http://${host}`) {
      return refuse(reply, 403, 'cross-origin requests are not allowed');
    }
    if (!req.url.startsWith('/api/') && req.url !== '/api') return;
    const bearer = bearerOf(req);
    const caller = bearer === undefined ? undefined : tokens.verify(bearer);
    if (caller === undefined) {
      const wait = authFails.take(req.ip);
      if (wait > 0) {
        reply.header('retry-after', String(wait));
        return refuse(reply, 429, 'too many failed authentications');
      }
      reply.header('www-authenticate', 'Bearer realm="bot4"');
      return refuse(reply, 401, bearer === undefined ? 'missing bearer token' : 'invalid token');
    }
    req.caller = caller;
    const isWrite = req.method !== 'GET' && req.method !== 'HEAD';
    const wait = reads.take(caller.tokenId) || (isWrite ? writes.take(caller.tokenId) : 0);
    if (wait > 0) {
      reply.header('retry-after', String(wait));
      return refuse(reply, 429, 'rate limit exceeded');
    }
    if (isWrite && caller.role !== Role.OPERATOR) {
      audit.record(entry(req, caller, null, 'refused: read-only token'));
      return refuse(reply, 403, 'this token is read-only: writes need the operator token');
    }
  });

  app.setErrorHandler((err: Error & { statusCode?: number; code?: string }, _req, reply) => {
    let status = err instanceof HttpError ? err.statusCode : (err.statusCode ?? 500);
    if (isBot4Error(err)) status = err.code === 'NOT_FOUND' ? 404 : err.code === 'INTERNAL' ? 500 : 400;
    if (status >= 500) return refuse(reply, 500, 'internal error');
    return refuse(reply, status, err.message.split('\n')[0]!);
  });
  app.setNotFoundHandler((_req, reply) => refuse(reply, 404, 'not found'));

  // ---- the console: three files from memory -------------------------------------------------------------
  const csp =
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; " +
    "frame-ancestors 'none'; base-uri 'none'; form-action 'none'";
  const asset = (type: string, body: string) => (_req: FastifyRequest, reply: FastifyReply) =>
    reply.header('content-type', type).header('content-security-policy', csp).send(body);
  app.get('/', asset('text/html; charset=utf-8', assets.html));
  app.get('/app.js', asset('text/javascript; charset=utf-8', assets.js));
  app.get('/app.css', asset('text/css; charset=utf-8', assets.css));
  app.get('/favicon.ico', (_req, reply) => reply.code(204).send());

  // ---- reads ------------------------------------------------------------------------------------------------
  const read = (path: string, fn: (req: FastifyRequest) => unknown) =>
    app.get(path, async (req, reply) => {
      reply.header('cache-control', 'no-store');
      return fn(req);
    });
  read('/api/status', () => control.status());
  read('/api/positions', () => control.positions());
  read('/api/orders', () => control.orders());
  read('/api/pnl', () => control.pnl());
  read('/api/strategies', () => control.strategies());
  read('/api/risk', () => control.risk());
  read('/api/breakers', () => control.breakers());
  read('/api/log', (req) => control.log.since(parse(LogQuery, req.query, 'query').after ?? 0));
  read('/api/whoami', (req) => ({ role: req.caller!.role, tokenId: req.caller!.tokenId }));

  // ---- writes: parsed, journalled (who, what), then done ------------------------------------------------------
  const write = <T>(path: string, body: z.ZodType<T>, act: (b: T, req: FastifyRequest) => unknown) =>
    app.post(path, async (req, reply) => {
      reply.header('cache-control', 'no-store');
      const b = parse(body, req.body, 'body');
      const params = req.params as Record<string, string>;
      audit.record(entry(req, req.caller!, { ...params, ...(b as object) }, 'accepted'));
      return act(b, req);
    });
  const by = (req: FastifyRequest, what: string, reason?: string): string =>
    `${what} by ${req.caller!.role} token ${req.caller!.tokenId}${reason === undefined ? '' : `: ${reason}`}`;
  write('/api/kill', KillBody, (b, req) => control.kill(by(req, 'kill switch', b.reason), b.flatten));
  write('/api/flatten', ReasonBody, (b, req) => control.kill(by(req, 'flatten', b.reason), true));
  write('/api/cancel-all', EmptyBody, () => ({ cancelRequests: control.cancelAll() }));
  write('/api/trading-state', StateBody, (b) => ({ tradingState: control.setTradingState(b.state) }));
  write('/api/breakers/reset', BreakerBody, (b) => ({ state: control.resetBreaker(b.scope, b.id) }));
  const idOf = (req: FastifyRequest): number => parse(IdParam, req.params, 'path').id;
  write('/api/strategies/:id/start', EmptyBody, (_b, req) => ({ state: control.startStrategy(idOf(req)) }));
  write('/api/strategies/:id/stop', StopBody, (b, req) => ({
    state: control.stopStrategy(idOf(req), b.cancelOrders ?? false),
  }));
  write('/api/strategies/:id/params', ParamBody, (b, req) => ({
    params: control.setParam(idOf(req), b.key, b.value),
  }));

  // ---- live updates: one snapshot per push interval shared by every socket, log lines as they are printed --
  const pushMs = o.pushIntervalMs ?? 1000;
  const sockets = new Set<{ send(data: string): void }>();
  const snapshot = (): string =>
    JSON.stringify({
      type: 'snapshot',
      status: control.status(),
      positions: control.positions(),
      orders: control.orders(),
      breakers: control.breakers(),
      equity: control.pnl().curve.at(-1) ?? null,
    });
  const pushTimer = setInterval(() => {
    if (sockets.size === 0) return;
    const s = snapshot();
    for (const sock of sockets) sock.send(s);
  }, pushMs);
  pushTimer.unref();
  const stopLog = control.log.listen((e) => {
    if (sockets.size === 0) return;
    const s = JSON.stringify({ type: 'log', ...e });
    for (const sock of sockets) sock.send(s);
  });
  app.addHook('onClose', async () => {
    clearInterval(pushTimer);
    stopLog();
  });
  app.get('/api/ws', { websocket: true }, (socket) => {
    socket.send(snapshot());
    sockets.add(socket);
    // The socket is one way: anything a client sends is ignored (maxPayload bounds it).
    socket.on('close', () => sockets.delete(socket));
  });

  await app.listen({ host: o.host, port: o.port });
  const addr = app.server.address();
  if (addr !== null && typeof addr === 'object') port = addr.port;
  const shownHost = o.host.includes(':') ? `[${o.host}]` : o.host;
  return {
    url: `http://${shownHost}:${port}/`,
    app,
    close: async () => {
      await app.close();
    },
  };
}

/** The bearer token of a request: the Authorization header, or the WebSocket subprotocol `bearer.<token>`. */
function bearerOf(req: FastifyRequest): string | undefined {
  const h = req.headers.authorization;
  if (typeof h === 'string') {
    const m = /^Bearer ([\x21-\x7e]{1,256})$/.exec(h);
    return m === null ? '' : m[1];
  }
  const proto = req.headers['sec-websocket-protocol'];
  if (typeof proto === 'string') {
    for (const p of proto.split(',')) {
      const t = p.trim();
      if (t.startsWith('bearer.')) return t.slice(7);
    }
  }
  return undefined;
}

function entry(req: FastifyRequest, caller: Caller, args: unknown, outcome: string) {
  return {
    ts: new Date(wallMillis()).toISOString(),
    role: caller.role,
    tokenId: caller.tokenId,
    ip: req.ip,
    action: `${req.method} ${req.routeOptions.url ?? req.url.split('?')[0]}`,
    args,
    outcome,
  };
}
