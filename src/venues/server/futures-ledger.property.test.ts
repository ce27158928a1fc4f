// The futures ledger's accounting identity on random fill sequences (buys, sells, flips through zero, partial
// closes, any prices): wallet + unrealised PnL equals the starting wallet plus the signed cash of every fill,
// minus every commission, plus the position valued at the mark; and a position closed back to zero leaves no
// cost behind (everything it made or lost is realised, to 1e-8).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FuturesLedger } from './futures-ledger.ts';

/** Cash of `lots` at `px` ticks, 1e-8 units: tick 0.10 x step 0.001 = 1e-4 USDT per tick-lot = 10_000 units. */
const cashOf = (px: number, lots: number): number => px * lots * 10_000;

const fillArb = fc.record({
  lots: fc.integer({ min: -5_000, max: 5_000 }).filter((n) => n !== 0),
  px: fc.integer({ min: 100_000, max: 1_500_000 }),
  feeBp: fc.integer({ min: -1, max: 5 }),
});

describe('FuturesLedger accounting', () => {
  it('wallet + unrealised equals the sum of cash flows, for any fill sequence and mark', () => {
    fc.assert(
      fc.property(
        fc.array(fillArb, { minLength: 1, maxLength: 60 }),
        fc.integer({ min: 50_000, max: 2_000_000 }),
        (fills, mark) => {
          const start = 1_000_000 * 1e8;
          const l = new FuturesLedger(start);
          let flows = start;
          let realised = 0;
          let fees = 0;
          let amt = 0;
          for (const f of fills) {
            const cash = cashOf(f.px, Math.abs(f.lots));
            const fee = Math.round((cash * f.feeBp) / 10_000);
            realised += l.fill('BTCUSDT', f.lots, cash, fee, 1).realised;
            fees += fee;
            flows += (f.lots > 0 ? -cash : cash) - fee;
            amt += f.lots;
          }
          const p = l.position('BTCUSDT');
          expect(p.amt).toBe(amt);
          const markValue = cashOf(mark, Math.abs(p.amt));
          const unrealised = p.amt === 0 ? 0 : FuturesLedger.unrealised(p, markValue);
          expect(l.wallet + unrealised).toBe(flows + (p.amt >= 0 ? markValue : -markValue));
          expect(l.wallet).toBe(start + realised - fees);
          expect(l.realisedTotal).toBe(realised);
          expect(l.commissionTotal).toBe(fees);
          if (p.amt === 0) expect(p.cost).toBe(0);
          // The cost is the position's average entry times its size: the same sign as the position.
          if (p.amt !== 0) expect(Math.sign(p.cost)).toBe(Math.sign(p.amt));
        },
      ),
      { numRuns: 500 },
    );
  });

  it('a round trip realises exactly the price difference; a flip opens the rest at the fill price', () => {
    const l = new FuturesLedger(0);
    l.fill('X', 10, cashOf(600_000, 10), 0, 1);
    l.fill('X', 5, cashOf(600_100, 5), 0, 2);
    // Sell 25 at 600_300: closes 15 (entry avg 600_033.3 ticks), opens a short of 10 at 600_300.
    const r = l.fill('X', -25, cashOf(600_300, 25), 0, 3).realised;
    expect(r).toBe(cashOf(600_300, 15) - cashOf(600_000, 10) - cashOf(600_100, 5));
    const p = l.position('X');
    expect(p.amt).toBe(-10);
    expect(p.cost).toBe(-cashOf(600_300, 10));
    // Short closed 100 ticks lower: a gain of 100 ticks x 10 lots.
    expect(l.fill('X', 10, cashOf(600_200, 10), 0, 4).realised).toBe(cashOf(100, 10));
  });
});
