// Realised PnL against an exact, independent computation: random fills go through the Portfolio, and a BigInt
// rational average-cost ledger, built from the instrument's decimal tick and lot texts (not from Instrument or
// Portfolio), says what the PnL is. Money is booked at 8 dp (currency.ts), so whenever the position is flat
// the two agree to the unit; in between, only the proportional cost removal of partial closes may round (half
// a unit each). The real-data case is the issue's: 0.123457 BTC per trade on FTX BTC-PERP candles (USD).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { primedReplay } from '../data/replay.ts';
import { InstrumentKind, type InstrumentSpec, newInstrumentRegistry } from '../model/instrument.ts';
import { OrderSide } from '../model/order.ts';
import { AccountType } from './account.ts';
import { Portfolio } from './portfolio.ts';
import { USDM_BTCUSDT } from './testing.ts';

/** An FTX-style perpetual quoted and settled in USD, lot 1e-6 BTC (the nautilus_trader candles' shape). */
const FTX_PERP: InstrumentSpec = {
  symbol: 'BTC-PERP',
  venue: 'FTX',
  kind: InstrumentKind.PERPETUAL,
  base: 'BTC',
  quote: 'USD',
  settlement: 'USD',
  tickSize: '0.1',
  lotSize: '0.000001',
};

/** A reduced fraction of BigInts. */
interface Q {
  n: bigint;
  d: bigint;
}
function q(n: bigint, d = 1n): Q {
  if (d < 0n) return q(-n, -d);
  let a = n < 0n ? -n : n;
  let b = d;
  while (b !== 0n) [a, b] = [b, a % b];
  return a === 0n ? { n: 0n, d: 1n } : { n: n / a, d: d / a };
}
const add = (x: Q, y: Q) => q(x.n * y.d + y.n * x.d, x.d * y.d);
const sub = (x: Q, y: Q) => add(x, { n: -y.n, d: y.d });
const mul = (x: Q, y: Q) => q(x.n * y.n, x.d * y.d);

/** "0.000001" -> 1/1000000, from the text alone. */
function decimalQ(text: string): Q {
  const [i, f = ''] = text.split('.');
  return q(BigInt(i! + f), 10n ** BigInt(f.length));
}

/** Exact average-cost ledger in units of 1e-8 of the settlement currency (linear contracts). */
class ExactLedger {
  qty = 0n;
  cost: Q = q(0n);
  realised: Q = q(0n);
  private readonly unitsPerTickLot: Q;

  constructor(spec: InstrumentSpec) {
    this.unitsPerTickLot = mul(mul(decimalQ(spec.tickSize), decimalQ(spec.lotSize)), q(10n ** 8n));
  }

  fill(buy: boolean, lots: number, ticks: number): void {
    const l = BigInt(lots);
    const value = mul(q(BigInt(ticks) * l), this.unitsPerTickLot);
    const cur = this.qty;
    if (cur === 0n || cur > 0n === buy) {
      this.cost = add(this.cost, value);
      this.qty += buy ? l : -l;
      return;
    }
    const abs = cur < 0n ? -cur : cur;
    const close = l < abs ? l : abs;
    const removed = mul(this.cost, q(close, abs));
    const exit = mul(value, q(close, l));
    this.realised = add(this.realised, cur > 0n ? sub(exit, removed) : sub(removed, exit));
    this.cost = add(sub(this.cost, removed), mul(value, q(l - close, l)));
    this.qty += buy ? l : -l;
  }
}

function portfolioFor(spec: InstrumentSpec) {
  const reg = newInstrumentRegistry();
  const inst = reg.add(spec);
  const pf = new Portfolio({ currencies: reg.currencies });
  pf.addAccount({
    venue: spec.venue,
    type: AccountType.MARGIN,
    balances: [{ currency: inst.settlement, amount: 1e15 }],
  });
  return { pf, inst };
}

/** Fills of up to 20 BTC at 10,000-100,000: positions stay well inside 2^53 money units. */
function fillArb(maxLots: number) {
  return fc.record({
    buy: fc.boolean(),
    lots: fc.integer({ min: 1, max: maxLots }),
    ticks: fc.integer({ min: 100_000, max: 1_000_000 }),
  });
}

describe('realised PnL equals an exact rational average-cost computation', () => {
  for (const [name, spec, maxLots] of [
    ['FTX BTC-PERP in USD (lot 1e-6)', FTX_PERP, 20_000_000],
    ['USD-M BTCUSDT', USDM_BTCUSDT, 20_000],
  ] as const) {
    it(`${name}: to the unit whenever flat, within half a unit per partial close otherwise`, () => {
      fc.assert(
        fc.property(
          fc.array(fillArb(maxLots), { minLength: 1, maxLength: 80 }),
          fc.boolean(),
          (fills, closeOut) => {
            const { pf, inst } = portfolioFor(spec);
            const ex = new ExactLedger(spec);
            let partials = 0;
            const all = [...fills];
            for (let i = 0; i < all.length; i++) {
              const f = all[i]!;
              // Reductions that leave part of the position open are the only place cost is rounded.
              const cur = ex.qty;
              const reduces = cur !== 0n && cur > 0n !== f.buy;
              if (reduces && BigInt(f.lots) < (cur < 0n ? -cur : cur)) partials++;
              const r = pf.applyFill(
                inst,
                f.buy ? OrderSide.BUY : OrderSide.SELL,
                f.lots,
                f.ticks,
                0,
                -1,
                i + 1,
              );
              expect(r).toBe(0);
              ex.fill(f.buy, f.lots, f.ticks);
              const impl = BigInt(pf.realisedPnl(inst.settlement.id));
              // |impl - exact| <= partials / 2, compared as rationals.
              const diff = sub(q(impl), ex.realised);
              const absN = diff.n < 0n ? -diff.n : diff.n;
              expect(absN * 2n <= BigInt(partials) * diff.d).toBe(true);
              if (ex.qty === 0n) expect(diff.n).toBe(0n);
              if (closeOut && i === all.length - 1 && ex.qty !== 0n) {
                const lots = Number(ex.qty < 0n ? -ex.qty : ex.qty);
                all.push({ buy: ex.qty < 0n, lots, ticks: f.ticks });
              }
            }
          },
        ),
        { numRuns: 300 },
      );
    });
  }
});

const DATA = fileURLToPath(new URL('../../../shared/data/', import.meta.url));
const CANDLES = `${DATA}nautilus_trader/bars/btc-perp-20211231-20220201_1m.csv`;
const haveData = existsSync(CANDLES);

describe.skipIf(!haveData && process.env.CI === undefined)(
  `realised PnL of a real backtest at 8 dp (${CANDLES}; skipped off CI when ../shared/data is absent)`,
  () => {
    it('EMA cross, 0.123457 BTC a trade, FTX BTC-PERP in USD: every fill and the total are exact', async () => {
      expect(haveData, `${CANDLES} is missing`).toBe(true);
      const { runBacktest } = await import('../backtest/runner.ts');
      const { EmaCross } = await import('../strategy/builtin/ema-cross.ts');
      const instruments = newInstrumentRegistry();
      const r = await runBacktest({
        strategies: [
          { strategy: new EmaCross({ instrument: 'BTC-PERP', qty: 0.123457, fast: 10, slow: 30 }) },
        ],
        instruments,
        data: await primedReplay([CANDLES], { instruments }),
        dataLabel: 'btc-perp candles',
        balances: [{ currency: 'USD', amount: '100000' }],
      });
      const inst = instruments.find('BTC-PERP', 'FTX')!;
      const f = r.recording.fills;
      expect(f.length).toBeGreaterThan(1_000);
      const ex = new ExactLedger(inst.spec);
      let total = 0n;
      for (let i = 0; i < f.length; i++) {
        const before = ex.realised;
        ex.fill(f.side[i]! > 0, f.qty[i]!, f.px[i]!);
        // EMA cross closes whole positions (no partial), so each fill's PnL is exact, not within a bound.
        const exact = sub(ex.realised, before);
        expect(exact.d).toBe(1n);
        expect(BigInt(f.realised[i]!)).toBe(exact.n);
        total += BigInt(f.realised[i]!);
      }
      expect(total).toBe(ex.realised.n);
      expect(BigInt(r.portfolio.realisedPnl(inst.settlement.id))).toBe(ex.realised.n);
    }, 120_000);
  },
);
