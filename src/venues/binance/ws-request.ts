// A WebSocket API request written as bytes into a preallocated buffer: `{"id":"<n>","method":"<m>","params":{
// ...,"signature":"<hex>"}}`, with the signed payload (`k=v&k=v`, params sorted by name: Binance's rule for the
// WebSocket API) written beside it in a second buffer and signed from there (HMAC-SHA256 in place, see
// hmac-sha256.ts). Numbers, ticks/lots as decimals and the request id are formatted digit by digit: no
// JSON.stringify, template string or intermediate object per order (the tick-to-trade path's request).
// Invariants: params are written in ascending name order (the caller's duty on the typed calls; the generic
// `signedRequest` sorts); the bytes returned are a view of the writer's buffer, valid until the next `begin`
// (ws copies them into its frame when it masks them, see ws-supervisor.ts `sendBytes`).
// Units: Binance's milliseconds (timestamp, recvWindow); ticks/lots with their Step for decimals.

import { Bot4Error, ErrorCode } from '../../core/errors.ts';
import { type Step, stepsToDecimal } from '../../model/decimal.ts';
import { type BinanceCredentials, type ParamValue, wsSignedKeys } from './signing.ts';

const Q = 34; // "
const COLON = 58;
const COMMA = 44;
const AMP = 38;
const EQ = 61;
const DOT = 46;
const ZERO = 48;

export class WsRequestWriter {
  /** The request's JSON text. */
  private readonly json: Buffer;
  /** The signed payload: k=v&k=v. */
  private readonly payload: Buffer;
  private j = 0;
  private p = 0;
  /** Views of `json` by length, made once each (a view per send would be an allocation per order). */
  private readonly views: (Buffer | undefined)[] = [];
  /** Digits of a number, least significant first. */
  private readonly digits = new Uint8Array(24);
  /** Name scratch for the generic path. */
  private readonly keys: string[] = [];

  constructor(capacity = 4096) {
    this.json = Buffer.alloc(capacity);
    this.payload = Buffer.alloc(capacity);
  }

  /** Starts a request: `{"id":"<id>","method":"<method>","params":{`. */
  begin(id: number, method: string): this {
    this.j = 0;
    this.p = 0;
    this.ascii('{"id":"');
    this.uint(id, false);
    this.ascii('","method":"');
    this.ascii(method);
    this.ascii('","params":{');
    return this;
  }

  /** A string param: "key":"value" (JSON-escaped) and key=value in the payload. */
  text(key: string, value: string): this {
    this.key(key);
    this.json[this.j++] = Q;
    if (plain(value)) {
      this.ascii(value);
      this.pAscii(value);
    } else {
      // Quotes, backslashes, control or non-ASCII characters: JSON's escaping, UTF-8 bytes (rare; allocates).
      const s = JSON.stringify(value);
      this.room(Buffer.byteLength(s) + 2);
      this.j += this.json.write(s.slice(1, -1), this.j, 'utf8');
      this.p += this.payload.write(value, this.p, 'utf8');
    }
    this.payload[this.p++] = AMP;
    this.json[this.j++] = Q;
    this.json[this.j++] = COMMA;
    return this;
  }

  /** A non-negative integer param (timestamp, recvWindow): a JSON number, as Binance expects INT params. */
  int(key: string, value: number): this {
    this.key(key);
    this.uint(value, true);
    this.json[this.j++] = COMMA;
    return this;
  }

  /** A DECIMAL param from steps (a JSON string): (618003, step 0.1) -> "61800.3", as `stepsToDecimal`. */
  steps(key: string, steps: number, step: Step): this {
    const v = steps * step.units;
    if (v < 0 || !Number.isSafeInteger(v)) return this.text(key, stepsToDecimal(steps, step));
    this.key(key);
    this.json[this.j++] = Q;
    const d = this.digits;
    let n = 0;
    let x = v;
    do {
      d[n++] = ZERO + (x % 10);
      x = Math.floor(x / 10);
    } while (x > 0);
    const scale = step.scale;
    while (n <= scale) d[n++] = ZERO; // at least one digit before the point
    // The fraction's trailing zeros are dropped (and the point with them when nothing is left).
    let low = 0;
    while (low < scale && d[low] === ZERO) low++;
    this.room(n + 3);
    for (let i = n - 1; i >= scale; i--) this.both(d[i]!);
    if (low < scale) {
      this.both(DOT);
      for (let i = scale - 1; i >= low; i--) this.both(d[i]!);
    }
    this.payload[this.p++] = AMP;
    this.json[this.j++] = Q;
    this.json[this.j++] = COMMA;
    return this;
  }

  /**
   * Ends the params with `"signature":"..."` over the payload and returns the request's bytes (a view of the
   * writer's buffer, valid until the next `begin`).
   */
  signed(creds: BinanceCredentials): Buffer {
    this.ascii('"signature":"');
    // The payload's last byte is the `&` after the last value.
    this.j = creds.signInto(this.payload, Math.max(0, this.p - 1), this.json, this.j);
    this.ascii('"}}');
    return this.view();
  }

  /** Ends the params unsigned (a request on a logged-on session: no apiKey, no signature) and returns the bytes. */
  unsigned(): Buffer {
    if (this.json[this.j - 1] === COMMA) this.j--;
    this.ascii('}}');
    return this.view();
  }

  /**
   * Starts a request from a params object (the generic path: requests other than the order path's place and
   * cancel): the caller's defined params plus apiKey (unless '': a logged-on session), timestamp and
   * recvWindow, sorted by name. End it with `signed` or `unsigned`.
   */
  params(
    id: number,
    method: string,
    params: Readonly<Record<string, ParamValue | undefined>>,
    timestampMs: number,
    recvWindowMs: number,
    apiKey: string,
  ): this {
    this.begin(id, method);
    for (const k of wsSignedKeys(params, this.keys)) {
      if (k === 'apiKey') {
        if (apiKey !== '') this.text(k, apiKey);
        continue;
      }
      const v = k === 'timestamp' ? timestampMs : k === 'recvWindow' ? recvWindowMs : params[k]!;
      if (typeof v === 'string') this.text(k, v);
      else if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) this.int(k, v);
      else this.raw(k, String(v));
    }
    return this;
  }

  /** A JSON literal written as is (a boolean, a fractional number): the generic path only. */
  private raw(key: string, value: string): void {
    this.key(key);
    this.ascii(value);
    this.pAscii(value);
    this.payload[this.p++] = AMP;
    this.json[this.j++] = COMMA;
  }

  private view(): Buffer {
    const len = this.j;
    let v = this.views[len];
    if (v === undefined) {
      v = this.json.subarray(0, len);
      this.views[len] = v;
    }
    return v;
  }

  /** `"key":` in the JSON, `key=` in the payload (every value there is followed by `&`). */
  private key(key: string): void {
    this.room(key.length + 3);
    this.json[this.j++] = Q;
    this.ascii(key);
    this.json[this.j++] = Q;
    this.json[this.j++] = COLON;
    this.pAscii(key);
    this.payload[this.p++] = EQ;
  }

  /** Digits of a non-negative safe integer into the JSON (and the payload when `signedToo`). */
  private uint(value: number, signedToo: boolean): void {
    const d = this.digits;
    let n = 0;
    let x = value;
    do {
      d[n++] = ZERO + (x % 10);
      x = Math.floor(x / 10);
    } while (x > 0);
    this.room(n);
    for (let i = n - 1; i >= 0; i--) {
      this.json[this.j++] = d[i]!;
      if (signedToo) this.payload[this.p++] = d[i]!;
    }
    if (signedToo) this.payload[this.p++] = AMP;
  }

  private both(c: number): void {
    this.json[this.j++] = c;
    this.payload[this.p++] = c;
  }

  private ascii(s: string): void {
    this.room(s.length);
    const b = this.json;
    let j = this.j;
    for (let i = 0; i < s.length; i++) b[j++] = s.charCodeAt(i);
    this.j = j;
  }

  /** ASCII text into the payload (never longer than the JSON, which `room` checks). */
  private pAscii(s: string): void {
    const b = this.payload;
    let p = this.p;
    for (let i = 0; i < s.length; i++) b[p++] = s.charCodeAt(i);
    this.p = p;
  }

  /** Throws unless `jsonBytes` more fit with room for the signature and the closing bytes. The payload holds
   * less than the JSON (k=v& against "k":"v",), in a buffer of the same size. */
  private room(jsonBytes: number): void {
    if (this.j + jsonBytes + 200 > this.json.length) {
      throw new Bot4Error(
        ErrorCode.INVALID_ARGUMENT,
        `WebSocket API request longer than the writer's ${this.json.length} bytes`,
      );
    }
  }
}

/** True when `s` needs no JSON escaping and is ASCII (its UTF-16 units are its bytes). */
function plain(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === Q || c === 92 || c > 0x7e) return false;
  }
  return true;
}
