// Binance request signing: HMAC-SHA256 (hex) and Ed25519 (base64) keys, the `timestamp` taken from a clock
// corrected by the server-time offset, and `recvWindow`. REST signs the query string as sent; the WebSocket
// API signs its params sorted by name (apiKey included, signature excluded), as Binance documents.
// Invariant: a secret never leaves this module in text form: credentials print as the key's first characters
// only (inspect, JSON, String), so a log line or a report that includes them cannot leak the secret.
// Units: Binance's milliseconds here (timestamp, recvWindow, offsets), not the engine's micros.

import { createHmac, createPrivateKey, sign as edSign, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { inspect } from 'node:util';
import { Bot4Error, ErrorCode } from '../../core/errors.ts';
import { HmacSha256 } from './hmac-sha256.ts';

export const KeyKind = { HMAC: 'hmac', ED25519: 'ed25519' } as const;
export type KeyKind = (typeof KeyKind)[keyof typeof KeyKind];

/** An API key and its secret. Prints redacted; the secret is reachable only through `sign`. */
export class BinanceCredentials {
  readonly apiKey: string;
  readonly kind: KeyKind;
  /** The HMAC secret's bytes (a Buffer key skips the string-to-bytes conversion of every signature). */
  readonly #hmacSecret: Buffer;
  /** The same key's HMAC states, for signing from a byte buffer without allocation (the order path). */
  readonly #hmac: HmacSha256 | undefined;
  readonly #edKey: KeyObject | undefined;

  private constructor(apiKey: string, kind: KeyKind, hmacSecret: Buffer, edKey: KeyObject | undefined) {
    if (apiKey === '') throw new Bot4Error(ErrorCode.CONFIG_INVALID, 'Binance API key is empty');
    this.apiKey = apiKey;
    this.kind = kind;
    this.#hmacSecret = hmacSecret;
    this.#hmac = edKey === undefined ? new HmacSha256(hmacSecret) : undefined;
    this.#edKey = edKey;
  }

  static hmac(apiKey: string, secret: string): BinanceCredentials {
    if (secret === '') throw new Bot4Error(ErrorCode.CONFIG_INVALID, 'Binance API secret is empty');
    return new BinanceCredentials(apiKey, KeyKind.HMAC, Buffer.from(secret, 'utf8'), undefined);
  }

  /** An Ed25519 key: PEM text of the private key (PKCS#8), as Binance's key generator writes it. */
  static ed25519(apiKey: string, privateKeyPem: string): BinanceCredentials {
    let key: KeyObject;
    try {
      key = createPrivateKey(privateKeyPem);
    } catch {
      throw new Bot4Error(ErrorCode.CONFIG_INVALID, 'Binance Ed25519 private key is not a readable PEM key');
    }
    if (key.asymmetricKeyType !== 'ed25519') {
      throw new Bot4Error(
        ErrorCode.CONFIG_INVALID,
        `Binance private key is ${key.asymmetricKeyType ?? 'not asymmetric'}, expected ed25519`,
      );
    }
    return new BinanceCredentials(apiKey, KeyKind.ED25519, Buffer.alloc(0), key);
  }

  /** The signature of `payload`: lowercase hex (HMAC) or base64 (Ed25519). */
  sign(payload: string): string {
    if (this.#edKey !== undefined) return edSign(null, Buffer.from(payload), this.#edKey).toString('base64');
    return createHmac('sha256', this.#hmacSecret).update(payload).digest('hex');
  }

  /**
   * The signature of `payload[0, len)` written as ASCII into `out` at `at`; returns the offset after it. HMAC:
   * 64 hex characters computed in place (no allocation); Ed25519: 88 base64 characters (node:crypto, allocates;
   * the order path logs on instead, see order-client.ts).
   */
  signInto(payload: Uint8Array, len: number, out: Uint8Array, at: number): number {
    if (this.#hmac !== undefined) {
      this.#hmac.hexInto(payload, len, out, at);
      return at + 64;
    }
    const sig = edSign(null, payload.subarray(0, len), this.#edKey!).toString('base64');
    for (let i = 0; i < sig.length; i++) out[at + i] = sig.charCodeAt(i);
    return at + sig.length;
  }

  /** The key as it may appear in logs: its first four characters. */
  get redacted(): string {
    return `${this.apiKey.slice(0, 4)}… (${this.kind}, secret redacted)`;
  }

  toString(): string {
    return `BinanceCredentials(${this.redacted})`;
  }

  toJSON(): { apiKey: string; kind: KeyKind } {
    return { apiKey: this.redacted, kind: this.kind };
  }

  [inspect.custom](): string {
    return this.toString();
  }
}

/**
 * Credentials from the environment or a key file, never from the command line (a shell history keeps it).
 * Environment: BINANCE_API_KEY with BINANCE_API_SECRET (HMAC) or BINANCE_PRIVATE_KEY_FILE (Ed25519 PEM).
 * Key file (JSON): {"apiKey": "...", "apiSecret": "..."} or {"apiKey": "...", "privateKeyFile": "key.pem"}.
 * Returns undefined when neither names a key.
 */
export function loadCredentials(options: {
  env?: NodeJS.ProcessEnv;
  keyFile?: string;
}): BinanceCredentials | undefined {
  if (options.keyFile !== undefined) {
    let obj: Record<string, unknown>;
    try {
      obj = JSON.parse(readFileSync(options.keyFile, 'utf8')) as Record<string, unknown>;
    } catch (e) {
      throw new Bot4Error(
        ErrorCode.CONFIG_FILE,
        `key file ${options.keyFile} is not readable JSON: ${(e as Error).message.split('\n')[0]}`,
      );
    }
    const apiKey = typeof obj.apiKey === 'string' ? obj.apiKey : '';
    if (typeof obj.apiSecret === 'string') return BinanceCredentials.hmac(apiKey, obj.apiSecret);
    if (typeof obj.privateKeyFile === 'string') {
      return BinanceCredentials.ed25519(apiKey, readFileSync(obj.privateKeyFile, 'utf8'));
    }
    throw new Bot4Error(
      ErrorCode.CONFIG_INVALID,
      `key file ${options.keyFile} needs "apiKey" and either "apiSecret" or "privateKeyFile"`,
    );
  }
  const env = options.env ?? {};
  const apiKey = env.BINANCE_API_KEY;
  if (apiKey === undefined || apiKey === '') return undefined;
  if (env.BINANCE_API_SECRET !== undefined) return BinanceCredentials.hmac(apiKey, env.BINANCE_API_SECRET);
  if (env.BINANCE_PRIVATE_KEY_FILE !== undefined) {
    return BinanceCredentials.ed25519(apiKey, readFileSync(env.BINANCE_PRIVATE_KEY_FILE, 'utf8'));
  }
  throw new Bot4Error(
    ErrorCode.CONFIG_INVALID,
    'BINANCE_API_KEY is set but neither BINANCE_API_SECRET nor BINANCE_PRIVATE_KEY_FILE is',
  );
}

/**
 * The offset between the venue's clock and ours, measured from a `time` request (NTP style: the server
 * stamped its time halfway through the round trip). A request's timestamp is local time + offset, so a local
 * clock that runs behind (or ahead) does not push requests outside recvWindow.
 */
export class ServerTime {
  /** serverTime - localTime, ms. */
  offsetMs = 0;
  /** Round trip of the measurement that set the offset, ms (the offset's uncertainty is half of it). */
  rttMs = Number.NaN;
  samples = 0;

  /** Records a `time` answer: `serverMs` from the venue, sent/received at local ms. */
  update(serverMs: number, sentMs: number, receivedMs: number): void {
    const rtt = receivedMs - sentMs;
    this.offsetMs = Math.round(serverMs - (sentMs + rtt / 2));
    this.rttMs = rtt;
    this.samples++;
  }

  /** The venue's time now, ms, from a local wall-clock reading in ms. */
  venueMs(localMs: number): number {
    return Math.round(localMs + this.offsetMs);
  }
}

export type ParamValue = string | number | boolean;

/** k=v&k=v in the given order, values URL-encoded (as Binance reads them back). */
export function queryString(params: Readonly<Record<string, ParamValue | undefined>>): string {
  let out = '';
  for (const k in params) {
    const v = params[k];
    if (v === undefined) continue;
    if (out !== '') out += '&';
    out += `${k}=${encodeURIComponent(String(v))}`;
  }
  return out;
}

/**
 * A REST query string with timestamp, recvWindow and signature appended. The signature covers exactly the
 * text before it; Ed25519's base64 is URL-encoded (it may hold '+', '/' and '=').
 */
export function signedQuery(
  creds: BinanceCredentials,
  params: Readonly<Record<string, ParamValue | undefined>>,
  timestampMs: number,
  recvWindowMs: number,
): string {
  const q = queryString({ ...params, timestamp: timestampMs, recvWindow: recvWindowMs });
  return `${q}&signature=${encodeURIComponent(creds.sign(q))}`;
}

/** The names a signed WebSocket API request signs, sorted (Binance's rule): the caller's defined params plus
 * apiKey, timestamp and recvWindow. Fills `out` (reused by the caller: no array per request). */
export function wsSignedKeys(
  params: Readonly<Record<string, ParamValue | undefined>>,
  out: string[],
): string[] {
  out.length = 0;
  for (const k in params) if (params[k] !== undefined) out.push(k);
  out.push('apiKey', 'timestamp', 'recvWindow');
  // Insertion sort: a dozen names, and Array.prototype.sort's generic path cost more than the rest of the
  // request in the tick-to-trade profile.
  for (let i = 1; i < out.length; i++) {
    const k = out[i]!;
    let j = i - 1;
    while (j >= 0 && out[j]! > k) {
      out[j + 1] = out[j]!;
      j--;
    }
    out[j + 1] = k;
  }
  return out;
}

/**
 * WebSocket API params for a signed method: the caller's params plus apiKey, timestamp and recvWindow, and
 * the signature of all of them sorted by name (Binance's rule for the WebSocket API).
 */
export function signedWsParams(
  creds: BinanceCredentials,
  params: Readonly<Record<string, ParamValue | undefined>>,
  timestampMs: number,
  recvWindowMs: number,
): Record<string, ParamValue> {
  const all: Record<string, ParamValue> = {};
  for (const k in params) {
    const v = params[k];
    if (v !== undefined) all[k] = v;
  }
  all.apiKey = creds.apiKey;
  all.timestamp = timestampMs;
  all.recvWindow = recvWindowMs;
  let payload = '';
  for (const k of wsSignedKeys(params, [])) payload += `${payload === '' ? '' : '&'}${k}=${String(all[k])}`;
  all.signature = creds.sign(payload);
  return all;
}
