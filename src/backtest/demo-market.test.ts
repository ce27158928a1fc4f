import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { RecordKind } from '../model/market-data.ts';
import { demoMarket, Rng } from './demo-market.ts';

const HOUR = 3_600_000_000;

function digest(seed: number): { hash: string; quotes: number; trades: number } {
  const h = createHash('sha256');
  let quotes = 0;
  let trades = 0;
  for (const b of demoMarket(1, { seed, duration: HOUR })) {
    h.update(new Uint8Array(b.tsEvent.buffer, 0, b.length * 8));
    h.update(new Uint8Array(b.a.buffer, 0, b.length * 8));
    for (let i = 0; i < b.length; i++) b.kind[i] === RecordKind.QUOTE ? quotes++ : trades++;
  }
  return { hash: h.digest('hex'), quotes, trades };
}

describe('demo market', () => {
  it('is deterministic for a seed and differs across seeds', () => {
    const a = digest(7);
    expect(digest(7)).toEqual(a);
    expect(digest(8).hash).not.toBe(a.hash);
    expect(a.quotes).toBeGreaterThan(10_000);
    expect(a.trades).toBeGreaterThan(5_000);
  });

  it('produces a sane book: time moves forward, bid < ask, trades print at the touch', () => {
    let lastT = 0;
    let bid = 0;
    let ask = 0;
    let atTouch = 0;
    let trades = 0;
    const logRets: number[] = [];
    let lastMid = 0;
    let lastMinute = -1;
    let disorder = 0;
    let badQuotes = 0;
    let otherInstrument = 0;
    for (const b of demoMarket(3, { seed: 1, duration: 6 * HOUR })) {
      for (let i = 0; i < b.length; i++) {
        const t = b.tsEvent[i]!;
        if (t <= lastT) disorder++;
        lastT = t;
        if (b.instrument[i] !== 3) otherInstrument++;
        if (b.kind[i] === RecordKind.QUOTE) {
          bid = b.a[i]!;
          ask = b.c[i]!;
          if (!(bid < ask) || !(b.b[i]! > 0) || !(b.d[i]! > 0)) badQuotes++;
          // Sample the mid once a minute: tick-by-tick returns are dominated by bid-ask bounce.
          if (Math.floor(t / 60_000_000) !== lastMinute) {
            const mid = (bid + ask) / 2;
            if (lastMid > 0) logRets.push(Math.log(mid / lastMid));
            lastMid = mid;
            lastMinute = Math.floor(t / 60_000_000);
          }
        } else {
          trades++;
          if (b.a[i] === bid || b.a[i] === ask) atTouch++;
        }
      }
    }
    expect({ disorder, badQuotes, otherInstrument }).toEqual({
      disorder: 0,
      badQuotes: 0,
      otherInstrument: 0,
    });
    // Every trade prints at the quoted touch.
    expect(atTouch).toBe(trades);
    // Realised volatility lands in a crypto-like range (configured 60% a year).
    const variance = logRets.reduce((s, r) => s + r * r, 0);
    const annualised = Math.sqrt((variance / 6) * 24 * 365);
    expect(annualised).toBeGreaterThan(0.2);
    expect(annualised).toBeLessThan(2);
  });

  it('draws uniforms in [0, 1) with the right mean', () => {
    const r = new Rng(123);
    let sum = 0;
    for (let i = 0; i < 100_000; i++) {
      const x = r.next();
      expect(x >= 0 && x < 1).toBe(true);
      sum += x;
    }
    expect(sum / 100_000).toBeCloseTo(0.5, 2);
  });
});
