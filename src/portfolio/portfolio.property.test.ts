// Property tests: random fill, funding and mark sequences keep the portfolio's accounting identities exactly
// (integers compared with toBe), on linear, inverse and rounded-notional contracts, netting and hedging.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Currency } from '../model/currency.ts';
import { type Instrument, type InstrumentSpec, newInstrumentRegistry } from '../model/instrument.ts';
import { OrderSide } from '../model/order.ts';
import { AccountType, PositionMode } from './account.ts';
import { Portfolio } from './portfolio.ts';
import { type Position, PositionSide } from './position.ts';
import { PortfolioResult as R } from './result.ts';
import { COINM_BTCUSD, ODD_LINEAR, SPOT_BTCUSDT, USDM_BTCUSDT } from './testing.ts';

const { BUY, SELL } = OrderSide;
const INITIAL = 1_000_000_000_000;

interface Fill {
  kind: 'fill';
  buy: boolean;
  qty: number;
  px: number;
  fee: number;
  /** Pay the fee in BNB instead of the settlement currency. */
  bnb: boolean;
  /** Hedging only: the LONG (true) or SHORT position. */
  long: boolean;
}
interface Funding {
  kind: 'funding';
  rate: number;
  px: number;
}
interface Mark {
  kind: 'mark';
  px: number;
}
type Op = Fill | Funding | Mark;

interface Case {
  spec: InstrumentSpec;
  minPx: number;
  maxPx: number;
  maxQty: number;
}
const CASES: Record<string, Case> = {
  linear: { spec: USDM_BTCUSDT, minPx: 100_000, maxPx: 1_200_000, maxQty: 5_000 },
  inverse: { spec: COINM_BTCUSD, minPx: 100_000, maxPx: 1_200_000, maxQty: 5_000 },
  rounded: { spec: ODD_LINEAR, minPx: 1, maxPx: 1_000_000, maxQty: 1_000_000 },
};

function opsArb(c: Case): fc.Arbitrary<Op[]> {
  const px = fc.integer({ min: c.minPx, max: c.maxPx });
  const fill: fc.Arbitrary<Op> = fc.record({
    kind: fc.constant('fill' as const),
    buy: fc.boolean(),
    qty: fc.integer({ min: 1, max: c.maxQty }),
    px,
    fee: fc.integer({ min: -500, max: 100_000 }),
    bnb: fc.boolean(),
    long: fc.boolean(),
  });
  const funding: fc.Arbitrary<Op> = fc.record({
    kind: fc.constant('funding' as const),
    rate: fc.integer({ min: -300_000, max: 300_000 }),
    px,
  });
  const mark: fc.Arbitrary<Op> = fc.record({ kind: fc.constant('mark' as const), px });
  return fc.array(
    fc.oneof(
      { weight: 8, arbitrary: fill },
      { weight: 1, arbitrary: funding },
      { weight: 1, arbitrary: mark },
    ),
    {
      maxLength: 60,
    },
  );
}

interface Setup {
  pf: Portfolio;
  inst: Instrument;
  settle: Currency;
  bnb: Currency;
}

function setup(spec: InstrumentSpec, mode: PositionMode): Setup {
  const reg = newInstrumentRegistry();
  const inst = reg.add(spec);
  const bnb = reg.currencies.get('BNB')!;
  const pf = new Portfolio({ currencies: reg.currencies });
  const acct = pf.addAccount({
    venue: spec.venue,
    type: AccountType.MARGIN,
    mode,
    balances: [
      { currency: inst.settlement, amount: INITIAL },
      { currency: bnb, amount: INITIAL },
    ],
  });
  pf.register(inst); // so that a mark before the first fill has somewhere to go
  expect(pf.accountOf(inst.id)).toBe(acct);
  return { pf, inst, settle: inst.settlement, bnb };
}

/** What the ledger says independently of the portfolio's own sums. */
interface Ledger {
  signedQty: number;
  realised: number;
  settlementFees: number;
  bnbFees: number;
  funding: number;
  /** Sum over fills of (sell ? +N : -N), N = notional(px, qty). */
  cashFlow: number;
  applied: number;
  /** Per position slot (PositionSide): signed qty and entry value, kept by the reference model below. */
  slots: Map<number, { qty: number; cost: number }>;
}

/** Round-half-even of a / b for BigInts, b > 0. */
function divHalfEven(a: bigint, b: bigint): bigint {
  const q = a / b;
  const r2 = (a % b) * 2n;
  if (r2 > b || (r2 === b && q % 2n !== 0n)) return q + 1n;
  return q;
}

/**
 * The average-cost rule written out from its statement (position.ts planFill's comment), in exact BigInt
 * arithmetic, so that the realised PnL the properties check is not read back from the implementation:
 * reducing q of |Q| lots removes round_half_even(cost * q / |Q|) of cost (all of it on a full close) and
 * realises exitValue - removed for a long linear or short inverse position, removed - exitValue otherwise;
 * a fill through zero closes at notional(px, |Q|) and opens the rest at the remainder of its notional.
 */
function referenceFill(
  l: Ledger,
  inst: Instrument,
  side: number,
  buy: boolean,
  qty: number,
  px: number,
): number {
  const slot = l.slots.get(side) ?? { qty: 0, cost: 0 };
  l.slots.set(side, slot);
  const notional = inst.notional(px, qty);
  const cur = slot.qty;
  if (cur === 0 || cur > 0 === buy) {
    slot.qty += buy ? qty : -qty;
    slot.cost += notional;
    return 0;
  }
  const absCur = Math.abs(cur);
  const closeQty = Math.min(qty, absCur);
  const removed =
    closeQty === absCur
      ? slot.cost
      : Number(divHalfEven(BigInt(slot.cost) * BigInt(closeQty), BigInt(absCur)));
  const exitValue = closeQty === qty ? notional : inst.notional(px, closeQty);
  const realised = cur > 0 !== inst.isInverse ? exitValue - removed : removed - exitValue;
  slot.qty += buy ? qty : -qty;
  slot.cost = slot.cost - removed + (notional - exitValue);
  return realised;
}

function run(s: Setup, ops: readonly Op[], hedging: boolean, check?: (s: Setup, l: Ledger) => void): Ledger {
  const { pf, inst, settle, bnb } = s;
  const l: Ledger = {
    signedQty: 0,
    realised: 0,
    settlementFees: 0,
    bnbFees: 0,
    funding: 0,
    cashFlow: 0,
    applied: 0,
    slots: new Map(),
  };
  for (const op of ops) {
    if (op.kind === 'fill') {
      const side = hedging ? (op.long ? PositionSide.LONG : PositionSide.SHORT) : PositionSide.BOTH;
      const feeCurrency = op.bnb ? bnb.id : settle.id;
      const before = hedging ? JSON.stringify(pf.snapshot()) : '';
      const r = pf.applyFill(
        inst,
        op.buy ? BUY : SELL,
        op.qty,
        op.px,
        op.fee,
        feeCurrency,
        l.applied + 1,
        side,
      );
      if (r !== R.OK) {
        // Only hedging refuses a valid fill: one that would take a side through zero. Nothing may change.
        expect(hedging).toBe(true);
        expect(r).toBe(R.EXCEEDS_POSITION);
        expect(JSON.stringify(pf.snapshot())).toBe(before);
        continue;
      }
      const pos = pf.position(inst.id, side)!;
      l.applied++;
      l.signedQty += op.buy ? op.qty : -op.qty;
      const realised = referenceFill(l, inst, side, op.buy, op.qty, op.px);
      expect(pos.lastRealised).toBe(realised);
      l.realised += realised;
      if (op.bnb) l.bnbFees += op.fee;
      else l.settlementFees += op.fee;
      const n = inst.notional(op.px, op.qty);
      l.cashFlow += op.buy ? -n : n;
    } else if (op.kind === 'funding') {
      expect(pf.applyFunding(inst, op.rate, op.px, l.applied + 1)).toBe(R.OK);
      l.funding += pf.lastFunding;
    } else {
      expect(pf.mark(inst.id, op.px)).toBe(R.OK);
    }
    check?.(s, l);
  }
  return l;
}

function slots(s: Setup, hedging: boolean): Position[] {
  return hedging
    ? [s.pf.position(s.inst.id, PositionSide.LONG)!, s.pf.position(s.inst.id, PositionSide.SHORT)!]
    : [s.pf.position(s.inst.id)!];
}

/** The identities that hold after every step. */
function checkInvariants(s: Setup, l: Ledger, hedging: boolean): void {
  const acct = s.pf.accountOf(s.inst.id)!;
  const c = s.settle.id;
  const ps = slots(s, hedging);
  // sum of signed fill quantities = position
  expect(ps.reduce((a, p) => a + p.qty, 0)).toBe(l.signedQty);
  expect(s.pf.netQty(s.inst.id)).toBe(l.signedQty);
  // margin balance = initial + realised - fees - funding, from the independent ledger and from the sums
  expect(acct.total(c) - INITIAL).toBe(l.realised - l.settlementFees - l.funding);
  expect(acct.total(c) - INITIAL).toBe(acct.realised[c]! - acct.fees[c]! - acct.funding[c]!);
  expect(acct.total(s.bnb.id)).toBe(INITIAL - l.bnbFees);
  let realised = 0;
  let unrealised = 0;
  let exposure = 0;
  for (const p of ps) {
    expect(p.cost >= 0).toBe(true);
    if (p.qty === 0) expect(p.cost).toBe(0);
    realised += p.realisedPnl;
    unrealised += p.unrealisedPnl;
    exposure += p.exposure;
  }
  expect(realised).toBe(l.realised);
  expect(acct.unrealised[c]).toBe(unrealised);
  expect(acct.netExposure[c]).toBe(exposure);
  // Realised + unrealised is the fills' cash flow plus the position's value at the mark, to the unit, at every
  // step: for linear contracts R + U = cashFlow + exposure; for inverse (value in base, sign reversed)
  // R + U = -cashFlow - exposure.
  if (s.inst.isInverse) expect(realised + unrealised).toBe(0 - l.cashFlow - exposure);
  else expect(realised + unrealised).toBe(l.cashFlow + exposure);
}

/** Closes every open slot with one fill at `px`, and returns the ledger updated with it. */
function flatten(s: Setup, l: Ledger, hedging: boolean, px: number): void {
  for (const p of slots(s, hedging)) {
    if (p.qty === 0) continue;
    const buy = p.qty < 0;
    const qty = Math.abs(p.qty);
    expect(s.pf.applyFill(s.inst, buy ? BUY : SELL, qty, px, 0, -1, 1e9, p.side)).toBe(R.OK);
    l.signedQty += buy ? qty : -qty;
    l.realised += referenceFill(l, s.inst, p.side, buy, qty, px);
    const n = s.inst.notional(px, qty);
    l.cashFlow += buy ? -n : n;
  }
}

for (const [name, c] of Object.entries(CASES)) {
  for (const hedging of [false, true]) {
    const mode = hedging ? PositionMode.HEDGING : PositionMode.NETTING;
    describe(`${name} contract, ${hedging ? 'hedging' : 'netting'} (property)`, () => {
      it('keeps qty, balance and PnL identities exactly after every step', () => {
        fc.assert(
          fc.property(opsArb(c), (ops) => {
            const s = setup(c.spec, mode);
            run(s, ops, hedging, (st, l) => checkInvariants(st, l, hedging));
          }),
          { numRuns: 150 },
        );
      });

      it('closing to flat realises exactly the sum of the fills cash flows', () => {
        fc.assert(
          fc.property(opsArb(c), fc.integer({ min: c.minPx, max: c.maxPx }), (ops, px) => {
            const s = setup(c.spec, mode);
            const l = run(s, ops, hedging);
            flatten(s, l, hedging, px);
            for (const p of slots(s, hedging)) {
              expect(p.qty).toBe(0);
              expect(p.cost).toBe(0);
              expect(p.unrealisedPnl).toBe(0);
              expect(p.margin).toBe(0);
            }
            expect(l.signedQty).toBe(0);
            // linear: realised = sells' notional - buys' notional; inverse: the reverse (value in base)
            expect(l.realised).toBe(s.inst.isInverse ? 0 - l.cashFlow : l.cashFlow);
            const acct = s.pf.accountOf(s.inst.id)!;
            expect(acct.total(s.settle.id)).toBe(INITIAL + l.realised - l.settlementFees - l.funding);
            expect(acct.locked(s.settle.id)).toBe(0);
          }),
          { numRuns: 150 },
        );
      });

      it('replaying the same events into a new portfolio gives identical state', () => {
        fc.assert(
          fc.property(opsArb(c), (ops) => {
            const a = setup(c.spec, mode);
            const b = setup(c.spec, mode);
            run(a, ops, hedging);
            run(b, ops, hedging);
            expect(b.pf.snapshot()).toEqual(a.pf.snapshot());
          }),
          { numRuns: 50 },
        );
      });
    });
  }
}

describe('cash account (property)', () => {
  it("each currency's balance change equals the sum of the fills' flows in it", () => {
    const fill = fc.record({
      buy: fc.boolean(),
      qty: fc.integer({ min: 1, max: 100_000 }),
      px: fc.integer({ min: 1_000_000, max: 12_000_000 }),
      fee: fc.integer({ min: 0, max: 1_000_000 }),
      feeIn: fc.constantFrom('quote', 'base', 'bnb'),
    });
    fc.assert(
      fc.property(fc.array(fill, { maxLength: 60 }), (fills) => {
        const reg = newInstrumentRegistry();
        const spot = reg.add(SPOT_BTCUSDT);
        const [usdt, btc, bnb] = ['USDT', 'BTC', 'BNB'].map((k) => reg.currencies.get(k)!) as [
          Currency,
          Currency,
          Currency,
        ];
        const pf = new Portfolio();
        pf.addAccount({
          venue: 'BINANCE',
          type: AccountType.CASH,
          balances: [
            { currency: usdt, amount: INITIAL },
            { currency: btc, amount: INITIAL },
          ],
        });
        const flow = { usdt: 0, btc: 0, bnb: 0 };
        let qty = 0;
        for (const f of fills) {
          const feeCur = f.feeIn === 'quote' ? usdt : f.feeIn === 'base' ? btc : bnb;
          expect(pf.applyFill(spot, f.buy ? BUY : SELL, f.qty, f.px, f.fee, feeCur.id, 1)).toBe(R.OK);
          const n = spot.notional(f.px, f.qty);
          flow.usdt += f.buy ? -n : n;
          flow.btc += (f.buy ? 1 : -1) * f.qty * 1000; // a lot is 0.00001 BTC = 1000 sat
          if (feeCur === usdt) flow.usdt -= f.fee;
          else if (feeCur === btc) flow.btc -= f.fee;
          else flow.bnb -= f.fee;
          qty += f.buy ? f.qty : -f.qty;
        }
        const acct = pf.accountForVenue('BINANCE')!;
        expect(acct.total(usdt.id) - INITIAL).toBe(flow.usdt);
        expect(acct.total(btc.id) - INITIAL).toBe(flow.btc);
        expect(acct.total(bnb.id)).toBe(flow.bnb);
        expect(pf.position(spot.id)?.qty ?? 0).toBe(qty);
      }),
      { numRuns: 300 },
    );
  });
});

describe('order locks (property)', () => {
  it('lock (0, qty), unlock each fill, cancel the rest: nothing stays locked, at every step locked = L(qty) - L(filled)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('spot', 'linear', 'inverse'),
        fc.boolean(),
        fc.integer({ min: 1, max: 200_000 }),
        fc.integer({ min: 100_000, max: 1_000_000 }),
        fc.array(fc.integer({ min: 1, max: 50_000 }), { maxLength: 20 }),
        fc.integer({ min: 1, max: 125 }),
        (kind, buy, qty, pxBase, fills, leverage) => {
          // spot ticks are 0.01 (1000..10000 USDT), perpetual ticks 0.1 (10000..100000 USD)
          const px = kind === 'spot' ? pxBase * 10 : pxBase;
          const reg = newInstrumentRegistry();
          const spec = kind === 'spot' ? SPOT_BTCUSDT : kind === 'linear' ? USDM_BTCUSDT : COINM_BTCUSD;
          const inst = reg.add(spec);
          const pf = new Portfolio();
          pf.addAccount({ venue: spec.venue, type: kind === 'spot' ? AccountType.CASH : AccountType.MARGIN });
          if (kind !== 'spot') pf.register(inst, { leverage });
          const side = buy ? BUY : SELL;
          const c = pf.orderLockCurrency(inst, side);
          const acct = pf.accountOf(inst.id)!;
          const L = (q: number) => pf.orderLockAmount(inst, side, q, px);
          if (Number.isNaN(L(qty))) {
            // the order's value passes 2^53-1 units: refused with a code, nothing locked
            expect(pf.lockOrder(inst, side, px, 0, qty, true)).toBe(R.OVERFLOW);
            expect(acct.orderLocked[c]).toBe(0);
            return;
          }
          expect(pf.lockOrder(inst, side, px, 0, qty, true)).toBe(R.OK);
          expect(acct.orderLocked[c]).toBe(L(qty));
          let filled = 0;
          for (const f of fills) {
            const next = Math.min(qty, filled + f);
            expect(pf.unlockOrder(inst, side, px, filled, next)).toBe(R.OK);
            filled = next;
            expect(acct.orderLocked[c]).toBe(L(qty) - L(filled));
          }
          expect(pf.unlockOrder(inst, side, px, filled, qty)).toBe(R.OK);
          expect(acct.orderLocked[c]).toBe(0);
        },
      ),
      { numRuns: 500 },
    );
  });
});
