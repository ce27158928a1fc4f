import { generateKeyPairSync, verify } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { BinanceCredentials, loadCredentials, ServerTime, signedQuery, signedWsParams } from './signing.ts';
import { WsRequestWriter } from './ws-request.ts';

// Binance's published HMAC example (Spot API docs, "SIGNED endpoint examples for POST /api/v3/order").
const DOC_KEY = 'vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A';
const DOC_SECRET = 'NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j';
const DOC_QUERY =
  'symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559';
const DOC_SIG = 'c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71';

describe('Binance signing', () => {
  it('signs the documented HMAC example exactly', () => {
    const c = BinanceCredentials.hmac(DOC_KEY, DOC_SECRET);
    expect(c.sign(DOC_QUERY)).toBe(DOC_SIG);
  });

  it('appends timestamp, recvWindow and a signature over exactly the text before it', () => {
    const c = BinanceCredentials.hmac(DOC_KEY, DOC_SECRET);
    const q = signedQuery(
      c,
      { symbol: 'LTCBTC', side: 'BUY', price: '0.1', newClientOrderId: 'a b' },
      1,
      5000,
    );
    const [body, sig] = q.split('&signature=');
    expect(body).toBe('symbol=LTCBTC&side=BUY&price=0.1&newClientOrderId=a%20b&timestamp=1&recvWindow=5000');
    expect(sig).toBe(c.sign(body!));
  });

  it('signs WebSocket API params sorted by name, apiKey included', () => {
    const c = BinanceCredentials.hmac(DOC_KEY, DOC_SECRET);
    const p = signedWsParams(c, { symbol: 'BTCUSDT', side: 'SELL', quantity: '0.01' }, 1655971200000, 100);
    expect(p.signature).toBe(
      c.sign(
        `apiKey=${DOC_KEY}&quantity=0.01&recvWindow=100&side=SELL&symbol=BTCUSDT&timestamp=1655971200000`,
      ),
    );
  });

  it('writes a signed WebSocket API request whole, with the same params and signature as signedWsParams', () => {
    const c = BinanceCredentials.hmac(DOC_KEY, DOC_SECRET);
    const params = { symbol: 'BTCUSDT', side: 'SELL', quantity: '0.01', price: undefined, n: 3, q: 'a"b' };
    const text = String(
      new WsRequestWriter().params(7, 'order.place', params, 1655971200000, 100, c.apiKey).signed(c),
    );
    const msg = JSON.parse(text) as { id: string; method: string; params: Record<string, unknown> };
    expect(msg.id).toBe('7');
    expect(msg.method).toBe('order.place');
    expect(msg.params).toEqual(signedWsParams(c, params, 1655971200000, 100));
    expect(msg.params.signature).toBe(
      c.sign(
        `apiKey=${DOC_KEY}&n=3&q=a"b&quantity=0.01&recvWindow=100&side=SELL&symbol=BTCUSDT&timestamp=1655971200000`,
      ),
    );
  });

  it('signs with Ed25519 (base64, verifiable with the public key, URL-encoded in REST)', () => {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const c = BinanceCredentials.ed25519('edkey', pem);
    const sig = c.sign(DOC_QUERY);
    expect(verify(null, Buffer.from(DOC_QUERY), publicKey, Buffer.from(sig, 'base64'))).toBe(true);
    const q = signedQuery(c, { symbol: 'X' }, 5, 10);
    const [body, enc] = q.split('&signature=');
    expect(decodeURIComponent(enc!)).toBe(c.sign(body!));
    expect(() => BinanceCredentials.ed25519('k', 'not a key')).toThrow(/not a readable PEM/);
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey;
    expect(() =>
      BinanceCredentials.ed25519('k', rsa.export({ type: 'pkcs8', format: 'pem' }).toString()),
    ).toThrow(/expected ed25519/);
  });

  it('never prints the secret', () => {
    const c = BinanceCredentials.hmac(DOC_KEY, DOC_SECRET);
    for (const text of [inspect(c), String(c), JSON.stringify({ c }), `${c}`]) {
      expect(text).not.toContain(DOC_SECRET);
      expect(text).not.toContain(DOC_KEY);
    }
  });

  it('loads keys from the environment or a key file', () => {
    expect(loadCredentials({ env: {} })).toBeUndefined();
    const e = loadCredentials({ env: { BINANCE_API_KEY: 'k', BINANCE_API_SECRET: 's' } });
    expect(e?.kind).toBe('hmac');
    expect(() => loadCredentials({ env: { BINANCE_API_KEY: 'k' } })).toThrow(/BINANCE_API_SECRET/);
    const dir = mkdtempSync(join(tmpdir(), 'bot4-keys-'));
    const pemFile = join(dir, 'key.pem');
    writeFileSync(
      pemFile,
      generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }),
    );
    const kf = join(dir, 'keys.json');
    writeFileSync(kf, JSON.stringify({ apiKey: 'k2', privateKeyFile: pemFile }));
    expect(loadCredentials({ keyFile: kf })?.kind).toBe('ed25519');
    writeFileSync(kf, JSON.stringify({ apiKey: 'k2' }));
    expect(() => loadCredentials({ keyFile: kf })).toThrow(/apiSecret/);
    writeFileSync(kf, '{oops');
    expect(() => loadCredentials({ keyFile: kf })).toThrow(/not readable JSON/);
  });

  it('measures the server-time offset from the middle of the round trip', () => {
    const t = new ServerTime();
    // Local clock 2.5 s behind: sent at 1000, answered at 1100, server stamped 3550 (local 1050 + 2500).
    t.update(3550, 1000, 1100);
    expect(t.offsetMs).toBe(2500);
    expect(t.rttMs).toBe(100);
    expect(t.venueMs(2000)).toBe(4500);
  });
});
