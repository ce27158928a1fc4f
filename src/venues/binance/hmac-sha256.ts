// HMAC-SHA256 (RFC 2104 over FIPS 180-4) for the order path, without allocation per signature: the key's inner
// and outer padded blocks are compressed once at construction, so a signature costs the message's blocks plus
// one outer block, hashed straight from the caller's (preallocated) byte buffer, and the hex digest is written
// into the caller's buffer. The state after the message's first block is kept too, with that block: Binance's
// sorted payloads begin with `apiKey=<64-character key>&...`, the same 64 bytes for every request of a key, so
// one block of the four or five a request needs is skipped (the block is compared byte for byte first). node:crypto's createHmac builds a KeyObject-less HMAC context, a Buffer and a hex
// string per call, and crosses into C++ three times: the tick-to-trade profile's largest stage after the write.
// Invariant: the key's states live in private fields only (they are as good as the secret); nothing here logs,
// prints or returns them. Checked byte for byte against node:crypto by a property test (hmac-sha256.test.ts).

import { createHash } from 'node:crypto';

/** The first 32 bits of the fractional parts of the cube roots of the first 64 primes (FIPS 180-4 §4.2.2). */
const K = Int32Array.from([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98,
  0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
  0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8,
  0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
  0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819,
  0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
  0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
  0xc67178f2,
]);

/** The initial hash value (§5.3.3). */
const H0 = Int32Array.from([
  0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
]);

const HEX = Uint8Array.from('0123456789abcdef', (c) => c.charCodeAt(0));

/** One 64-byte block of `m` at `off` into the state `h` (in place); `w` is the 64-word schedule scratch. */
function compress(h: Int32Array, w: Int32Array, m: Uint8Array, off: number): void {
  for (let i = 0; i < 16; i++) {
    const o = off + i * 4;
    w[i] = (m[o]! << 24) | (m[o + 1]! << 16) | (m[o + 2]! << 8) | m[o + 3]!;
  }
  for (let i = 16; i < 64; i++) {
    const x = w[i - 15]!;
    const y = w[i - 2]!;
    const s0 = ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3);
    const s1 = ((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10);
    w[i] = (w[i - 16]! + s0 + w[i - 7]! + s1) | 0;
  }
  let a = h[0]!;
  let b = h[1]!;
  let c = h[2]!;
  let d = h[3]!;
  let e = h[4]!;
  let f = h[5]!;
  let g = h[6]!;
  let hh = h[7]!;
  for (let i = 0; i < 64; i++) {
    const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
    const ch = (e & f) ^ (~e & g);
    const t1 = (hh + S1 + ch + K[i]! + w[i]!) | 0;
    const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
    const maj = (a & b) ^ (a & c) ^ (b & c);
    const t2 = (S0 + maj) | 0;
    hh = g;
    g = f;
    f = e;
    e = (d + t1) | 0;
    d = c;
    c = b;
    b = a;
    a = (t1 + t2) | 0;
  }
  h[0] = (h[0]! + a) | 0;
  h[1] = (h[1]! + b) | 0;
  h[2] = (h[2]! + c) | 0;
  h[3] = (h[3]! + d) | 0;
  h[4] = (h[4]! + e) | 0;
  h[5] = (h[5]! + f) | 0;
  h[6] = (h[6]! + g) | 0;
  h[7] = (h[7]! + hh) | 0;
}

export class HmacSha256 {
  /** State after the key ^ ipad block, and after the key ^ opad block. */
  readonly #inner = new Int32Array(8);
  readonly #outer = new Int32Array(8);
  private readonly h = new Int32Array(8);
  private readonly w = new Int32Array(64);
  /** The message's last partial block with its padding (one or two blocks). */
  private readonly tail = new Uint8Array(128);
  /** The first block of the last message of 64 bytes or more, and the inner state after it. */
  private readonly first = new Uint8Array(64);
  readonly #afterFirst = new Int32Array(8);
  private firstValid = false;

  constructor(key: Uint8Array) {
    // A key longer than a block is hashed first (RFC 2104 §2); construction is not the hot path.
    const k = new Uint8Array(64);
    k.set(key.length > 64 ? createHash('sha256').update(key).digest() : key);
    const pad = new Uint8Array(64);
    for (let i = 0; i < 64; i++) pad[i] = k[i]! ^ 0x36;
    this.#inner.set(H0);
    compress(this.#inner, this.w, pad, 0);
    for (let i = 0; i < 64; i++) pad[i] = k[i]! ^ 0x5c;
    this.#outer.set(H0);
    compress(this.#outer, this.w, pad, 0);
    k.fill(0);
    pad.fill(0);
  }

  /** HMAC of `msg[0, len)` as 64 lowercase hex characters (ASCII bytes) written into `out` at `at`. */
  hexInto(msg: Uint8Array, len: number, out: Uint8Array, at: number): void {
    this.mac(msg, len);
    const h = this.h;
    for (let i = 0; i < 8; i++) {
      const v = h[i]!;
      for (let j = 0; j < 8; j++) out[at + i * 8 + j] = HEX[(v >>> (28 - j * 4)) & 15]!;
    }
  }

  /** The same as 32 raw bytes into `out` at `at`. */
  digestInto(msg: Uint8Array, len: number, out: Uint8Array, at: number): void {
    this.mac(msg, len);
    this.wordsInto(out, at);
  }

  /** Leaves HMAC(key, msg[0, len)) in `h`. */
  private mac(msg: Uint8Array, len: number): void {
    const h = this.h;
    let start = 0;
    if (len >= 64) {
      if (this.firstValid && this.sameFirst(msg)) h.set(this.#afterFirst);
      else {
        h.set(this.#inner);
        compress(h, this.w, msg, 0);
        for (let i = 0; i < 64; i++) this.first[i] = msg[i]!;
        this.#afterFirst.set(h);
        this.firstValid = true;
      }
      start = 64;
    } else h.set(this.#inner);
    this.finish(msg, start, len, 64);
    // Outer hash: the inner digest (32 bytes) after the key ^ opad block already compressed.
    const t = this.tail;
    this.wordsInto(t, 0);
    h.set(this.#outer);
    this.finish(t, 0, 32, 64);
  }

  private sameFirst(msg: Uint8Array): boolean {
    const f = this.first;
    for (let i = 0; i < 64; i++) if (msg[i] !== f[i]) return false;
    return true;
  }

  /**
   * Hashes `msg[start, len)` onward from `h` (`prefix` bytes and `msg[0, start)` already compressed, `start` a
   * multiple of 64), padding and length included.
   */
  private finish(msg: Uint8Array, start: number, len: number, prefix: number): void {
    const h = this.h;
    const w = this.w;
    const full = len - (len % 64);
    for (let o = start; o < full; o += 64) compress(h, w, msg, o);
    const t = this.tail;
    const rem = len - full;
    // `msg` may be the tail itself (the outer hash): its bytes are moved before the padding overwrites them.
    if (msg !== t) for (let i = 0; i < rem; i++) t[i] = msg[full + i]!;
    t[rem] = 0x80;
    const blocks = rem + 9 > 64 ? 2 : 1;
    const end = blocks * 64;
    t.fill(0, rem + 1, end - 8);
    const bits = (prefix + len) * 8;
    const hi = Math.floor(bits / 0x100000000);
    const lo = bits >>> 0;
    t[end - 8] = hi >>> 24;
    t[end - 7] = hi >>> 16;
    t[end - 6] = hi >>> 8;
    t[end - 5] = hi;
    t[end - 4] = lo >>> 24;
    t[end - 3] = lo >>> 16;
    t[end - 2] = lo >>> 8;
    t[end - 1] = lo;
    compress(h, w, t, 0);
    if (blocks === 2) compress(h, w, t, 64);
  }

  private wordsInto(out: Uint8Array, at: number): void {
    const h = this.h;
    for (let i = 0; i < 8; i++) {
      const v = h[i]!;
      const o = at + i * 4;
      out[o] = v >>> 24;
      out[o + 1] = v >>> 16;
      out[o + 2] = v >>> 8;
      out[o + 3] = v;
    }
  }
}
