import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseStep, stepsToDecimal } from '../../model/decimal.ts';
import { BinanceCredentials, signedWsParams } from './signing.ts';
import { WsRequestWriter } from './ws-request.ts';

const creds = BinanceCredentials.hmac('benchKey', 'benchSecret');

describe('WsRequestWriter (a WebSocket API request written in place)', () => {
  it('writes any params as signedWsParams signs them: same JSON params, same signature', () => {
    const value = fc.oneof(
      fc.string({ maxLength: 12 }),
      fc.string({ unit: 'binary', maxLength: 8 }),
      fc.nat(),
      fc.boolean(),
      fc.double({ noNaN: true, noDefaultInfinity: true }),
    );
    const w = new WsRequestWriter();
    fc.assert(
      fc.property(
        fc.dictionary(
          fc
            .stringMatching(/^[a-z][A-Za-z]{0,12}$/)
            .filter((k) => !['apiKey', 'timestamp', 'recvWindow'].includes(k)),
          value,
          { maxKeys: 10 },
        ),
        fc.nat(2 ** 31),
        fc.integer({ min: 1, max: 2 ** 45 }),
        (params, id, ts) => {
          const bytes = w.params(id, 'order.place', params, ts, 5000, creds.apiKey).signed(creds);
          const msg = JSON.parse(bytes.toString('utf8')) as { id: string; method: string; params: unknown };
          expect(msg.id).toBe(String(id));
          expect(msg.method).toBe('order.place');
          // Numbers the way String() and JSON.parse round-trip them (-0 prints as 0).
          expect(msg.params).toEqual(JSON.parse(JSON.stringify(signedWsParams(creds, params, ts, 5000))));
        },
      ),
      { numRuns: 150 },
    );
  });

  it('writes decimals from steps exactly as stepsToDecimal', () => {
    const w = new WsRequestWriter();
    fc.assert(
      fc.property(
        fc.constantFrom('1', '0.1', '0.01', '0.00001', '0.00000001', '5', '0.25', '10'),
        fc.oneof(fc.nat(1_000_000), fc.nat(Number.MAX_SAFE_INTEGER)),
        (stepText, steps) => {
          const step = parseStep(stepText);
          const bytes = w.begin(1, 'x').steps('price', steps, step).unsigned();
          const msg = JSON.parse(bytes.toString('utf8')) as { params: { price: string } };
          expect(msg.params.price).toBe(stepsToDecimal(steps, step));
        },
      ),
      { numRuns: 500 },
    );
  });

  it('leaves apiKey and signature out on a logged-on session, timestamp and recvWindow in', () => {
    const w = new WsRequestWriter();
    const text = String(
      w.params(3, 'order.cancel', { symbol: 'BTCUSDT' }, 1700000000000, 100, '').unsigned(),
    );
    expect(text).toBe(
      '{"id":"3","method":"order.cancel","params":{"recvWindow":100,"symbol":"BTCUSDT","timestamp":1700000000000}}',
    );
    expect(String(w.begin(4, 'userDataStream.subscribe').unsigned())).toBe(
      '{"id":"4","method":"userDataStream.subscribe","params":{}}',
    );
  });

  it('returns the same view for the same length (no allocation per request) and refuses an oversized one', () => {
    const w = new WsRequestWriter(512);
    const a = w.begin(10, 'm').text('k', 'v').signed(creds);
    const b = w.begin(11, 'm').text('k', 'w').signed(creds);
    expect(b).toBe(a);
    expect(String(b)).toContain('"k":"w"');
    expect(() => w.begin(1, 'm').text('k', 'x'.repeat(400))).toThrow(/longer than the writer's 512 bytes/);
  });
});
