// Test helpers for the local exchange server: a signed REST call (HMAC-SHA256 or Ed25519, as a Binance client
// signs), a WebSocket that collects JSON messages, and waits that fail with a message after a timeout.
// Not used by production code.

import { createHmac, type KeyObject, sign } from 'node:crypto';
import ccxt from 'ccxt';
import WebSocket from 'ws';
import { pointBinanceAt } from '../ccxt/binance-urls.ts';
import { wallMs } from './limits.ts';
import type { ExchangeServer } from './server.ts';

// biome-ignore lint/suspicious/noExplicitAny: parsed JSON of any shape, read by tests
export type Json = any;

export interface Reply {
  status: number;
  body: Json;
  headers: Headers;
}

export interface Signer {
  apiKey: string;
  secret?: string;
  ed25519?: KeyObject;
}

export function signPayload(s: Signer, payload: string): string {
  if (s.ed25519 !== undefined) return sign(null, Buffer.from(payload), s.ed25519).toString('base64');
  return createHmac('sha256', s.secret ?? '')
    .update(payload)
    .digest('hex');
}

/** A REST call; signed when `signer` is given (timestamp added unless params has one). */
export async function rest(
  base: string,
  method: string,
  path: string,
  params: Record<string, string | number> = {},
  signer?: Signer,
): Promise<Reply> {
  const p: Record<string, string> = {};
  for (const [k, v] of Object.entries(params)) p[k] = String(v);
  const headers: Record<string, string> = {};
  if (signer !== undefined) {
    headers['X-MBX-APIKEY'] = signer.apiKey;
    p.timestamp ??= String(wallMs());
  }
  let qs = new URLSearchParams(p).toString();
  if (signer !== undefined && (signer.secret !== undefined || signer.ed25519 !== undefined)) {
    qs += `&signature=${encodeURIComponent(signPayload(signer, qs))}`;
  }
  const res = await fetch(`${base}${path}${qs === '' ? '' : `?${qs}`}`, {
    method,
    headers,
    signal: AbortSignal.timeout(10_000),
  });
  const text = await res.text();
  return { status: res.status, body: text === '' ? null : JSON.parse(text), headers: res.headers };
}

/** Polls `cond` every 10 ms; fails naming `what` after `ms`. */
export async function waitFor<T>(
  what: string,
  cond: () => T | undefined | null | false,
  ms = 5000,
): Promise<T> {
  const end = wallMs() + ms;
  for (;;) {
    const v = cond();
    if (v !== undefined && v !== null && v !== false) return v;
    if (wallMs() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A WebSocket that keeps every text frame (raw) and its parsed JSON (undefined when not JSON). */
export class Collector {
  readonly ws: WebSocket;
  readonly raw: string[] = [];
  readonly json: Json[] = [];
  closed: { code: number; reason: string } | null = null;

  constructor(url: string) {
    this.ws = new WebSocket(url);
    this.ws.on('message', (d) => {
      const t = String(d);
      this.raw.push(t);
      try {
        this.json.push(JSON.parse(t));
      } catch {
        this.json.push(undefined);
      }
    });
    this.ws.on('close', (code, reason) => {
      this.closed = { code, reason: String(reason) };
    });
    this.ws.on('error', () => {});
  }

  open(): Promise<void> {
    return waitFor('WebSocket open', () => this.ws.readyState === WebSocket.OPEN || undefined).then(() => {});
  }

  send(msg: unknown): void {
    this.ws.send(JSON.stringify(msg));
  }

  /** The first message (from index `from`) matching `pred`. */
  next(what: string, pred: (m: Json) => boolean, from = 0, ms = 5000): Promise<Json> {
    return waitFor(
      what,
      () => {
        for (let i = from; i < this.json.length; i++) if (pred(this.json[i])) return { m: this.json[i] };
        return undefined;
      },
      ms,
    ).then((r) => r.m);
  }

  close(): void {
    this.ws.terminate();
  }
}

/** A ccxt binance (pro) instance aimed at the local server: only URLs and the market types to load change. */
export async function localCcxt(
  s: ExchangeServer,
  apiKey: string,
  secret: string,
): Promise<InstanceType<typeof ccxt.pro.binance>> {
  const ex = new ccxt.pro.binance({
    apiKey,
    secret,
    timeout: 10_000,
    // The local server serves spot only, and has no sapi (wallet, margin) routes.
    options: { fetchMarkets: { types: ['spot'] }, fetchCurrencies: false, fetchMargins: false },
  });
  // REST, streams and WebSocket API to the server; anything else ccxt might call gets the server's 404.
  pointBinanceAt(ex, s.url, s.wsUrl);
  // ccxt's own switch for plain ws:// URLs (node's http agent instead of a TLS one).
  await ex.loadHttpProxyAgent();
  return ex;
}
