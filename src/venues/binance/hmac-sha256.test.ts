import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HmacSha256 } from './hmac-sha256.ts';

/** node:crypto's HMAC of `msg` under `key`, hex. */
const reference = (key: Uint8Array, msg: Uint8Array): string =>
  createHmac('sha256', key).update(msg).digest('hex');

describe('HmacSha256 (in place, no allocation per signature)', () => {
  it("equals node:crypto's HMAC-SHA256 for any key and message, hex and raw", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: 200 }),
        fc.uint8Array({ maxLength: 600 }),
        fc.nat(40),
        (key, msg, at) => {
          const h = new HmacSha256(key);
          // A buffer longer than the message: only msg[0, len) counts.
          const buf = new Uint8Array(msg.length + 17).fill(0xa5);
          buf.set(msg);
          const hex = new Uint8Array(at + 64);
          h.hexInto(buf, msg.length, hex, at);
          expect(Buffer.from(hex.subarray(at)).toString('latin1')).toBe(reference(key, msg));
          const raw = new Uint8Array(32);
          h.digestInto(buf, msg.length, raw, 0);
          expect(Buffer.from(raw).toString('hex')).toBe(reference(key, msg));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('reuses the state after a shared first block only when the block is the same (Binance payloads)', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: 64 }),
        fc.uint8Array({ minLength: 64, maxLength: 80 }),
        fc.array(fc.tuple(fc.nat(63), fc.nat(255), fc.uint8Array({ maxLength: 200 })), { maxLength: 8 }),
        (key, head, edits) => {
          const h = new HmacSha256(key);
          const out = new Uint8Array(64);
          // A run of messages sharing (or, after an edit in the first 64 bytes, not sharing) their first block.
          for (const [at, byte, rest] of edits) {
            head[at] = byte;
            const msg = new Uint8Array(head.length + rest.length);
            msg.set(head);
            msg.set(rest, head.length);
            h.hexInto(msg, msg.length, out, 0);
            expect(Buffer.from(out).toString('latin1')).toBe(reference(key, msg));
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it('handles every length around the padding boundaries (55, 56, 63, 64, 119, 120 bytes) and reuse', () => {
    const key = Buffer.from('benchSecret');
    const h = new HmacSha256(key);
    const out = Buffer.alloc(64);
    for (let len = 0; len <= 200; len++) {
      const msg = Buffer.alloc(len, len & 0xff);
      h.hexInto(msg, len, out, 0);
      expect(out.toString('latin1'), `length ${len}`).toBe(reference(key, msg));
    }
  });

  it("signs Binance's documented HMAC example", () => {
    const secret = 'NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j';
    const q = Buffer.from(
      'symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559',
    );
    const out = Buffer.alloc(64);
    new HmacSha256(Buffer.from(secret)).hexInto(q, q.length, out, 0);
    expect(out.toString('latin1')).toBe('c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71');
  });

  it('hashes a key longer than a block first (RFC 2104)', () => {
    const key = Buffer.alloc(131, 7);
    const msg = Buffer.from('Test Using Larger Than Block-Size Key - Hash Key First');
    const out = Buffer.alloc(64);
    new HmacSha256(key).hexInto(msg, msg.length, out, 0);
    expect(out.toString('latin1')).toBe(reference(key, msg));
  });
});
