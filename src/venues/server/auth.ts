// Signed requests as Binance checks them: the API key names an account; HMAC-SHA256 (hex, keyed with the
// secret) or Ed25519 (base64, the key's registered public key) over the exact parameter text; `timestamp` no
// older than `recvWindow` (default 5000 ms, at most 60000) and no more than 1000 ms ahead of server time.
// REST signs the query string followed by the body; the WebSocket API signs its params sorted by name.

import { createHmac, createPublicKey, type KeyObject, timingSafeEqual, verify } from 'node:crypto';
import {
  ApiError,
  aheadOfServer,
  apiKeyFormat,
  BinanceCode,
  badApiKey,
  badSignature,
  illegal,
  mandatory,
  outsideRecvWindow,
} from './errors.ts';
import type { Account, Params } from './trading.ts';

const keyCache = new WeakMap<Account, KeyObject>();

/** The account of an API key; -2014 when absent, -2015 when unknown. */
export function accountOf(accounts: Map<string, Account>, apiKey: string | undefined): Account {
  if (apiKey === undefined || apiKey === '') throw apiKeyFormat();
  if (!/^[A-Za-z0-9]{1,128}$/.test(apiKey)) throw apiKeyFormat();
  const a = accounts.get(apiKey);
  if (a === undefined) throw badApiKey();
  return a;
}

/** -1021 unless timestamp is inside [serverMs - recvWindow, serverMs + 1000). */
export function checkTimestamp(p: Params, serverMs: number): void {
  const ts = p.timestamp;
  if (ts === undefined || ts === '') throw mandatory('timestamp');
  if (!/^[0-9]{1,16}$/.test(ts)) throw illegal('timestamp', '^[0-9]{1,16}$');
  let window = 5000;
  if (p.recvWindow !== undefined) {
    if (!/^[0-9]{1,10}(\.[0-9]{1,3})?$/.test(p.recvWindow)) throw illegal('recvWindow', '^[0-9]{1,10}$');
    window = Number(p.recvWindow);
    if (window > 60000) {
      throw new ApiError(BinanceCode.BAD_RECV_WINDOW, 'recvWindow must be less than 60000');
    }
  }
  const t = Number(ts);
  if (t >= serverMs + 1000) throw aheadOfServer();
  if (serverMs - t > window) throw outsideRecvWindow();
}

/** Verifies `signature` over `payload` with the account's key type; -1022 when it does not match. */
export function checkSignature(acc: Account, payload: string, signature: string | undefined): void {
  if (signature === undefined || signature === '') throw mandatory('signature');
  if (acc.ed25519PublicKey !== undefined) {
    let key = keyCache.get(acc);
    if (key === undefined) {
      key = createPublicKey(acc.ed25519PublicKey);
      keyCache.set(acc, key);
    }
    const sig = Buffer.from(signature, 'base64');
    if (sig.length !== 64 || !verify(null, Buffer.from(payload), key, sig)) throw badSignature();
    return;
  }
  const want = createHmac('sha256', acc.secret).update(payload).digest();
  if (!/^[0-9a-fA-F]{64}$/.test(signature)) throw badSignature();
  if (!timingSafeEqual(want, Buffer.from(signature, 'hex'))) throw badSignature();
}

/** REST: the query string then the body, each without its `signature` parameter (Binance's totalParams). */
export function restPayload(query: string, body: string): string {
  return `${stripSignature(query)}${stripSignature(body)}`;
}

function stripSignature(text: string): string {
  if (!text.includes('signature=')) return text;
  return text
    .split('&')
    .filter((kv) => !kv.startsWith('signature='))
    .join('&');
}

/** WebSocket API: every param except `signature`, sorted by name, as key=value joined by '&'. */
export function wsPayload(params: Record<string, unknown>): string {
  return Object.keys(params)
    .filter((k) => k !== 'signature')
    .sort()
    .map((k) => `${k}=${String(params[k])}`)
    .join('&');
}
