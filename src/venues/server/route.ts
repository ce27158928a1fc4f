// What a REST route of the local exchange is (security, weight, handler) and how an answer is written: shared
// by the spot routes (rest.ts) and the USD-M futures routes (futures-rest.ts).

import type { IncomingMessage, ServerResponse } from 'node:http';
import { wallMs } from './limits.ts';
import type { ServerCore } from './server.ts';
import type { Account, Params } from './trading.ts';

export const Security = { NONE: 0, API_KEY: 1, SIGNED: 2 } as const;
export type Security = (typeof Security)[keyof typeof Security];

export interface Ctx {
  core: ServerCore;
  p: Params;
  account: Account | null;
  /** Server time (wall clock + skew), ms. */
  serverMs: number;
  req: IncomingMessage;
  res: ServerResponse;
}

export interface Route {
  security: Security;
  weight: number | ((p: Params) => number);
  /** Returns the body, or undefined when the handler answered itself (ack faults). */
  handle(c: Ctx): unknown;
  /** Counts against the ORDERS limits. */
  order?: boolean;
}

/** Writes one JSON answer with the used-weight header (and Retry-After for 429/418). */
export function send(
  core: ServerCore,
  req: IncomingMessage,
  res: ServerResponse,
  status: number,
  body: unknown,
  retryAfter = 0,
): void {
  if (res.headersSent || res.destroyed) return;
  const ip = req.socket.remoteAddress ?? '';
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/json;charset=UTF-8');
  res.setHeader('X-MBX-USED-WEIGHT-1M', String(core.limits.used(ip, wallMs())));
  if (retryAfter > 0) res.setHeader('Retry-After', String(retryAfter));
  res.end(JSON.stringify(body));
}
