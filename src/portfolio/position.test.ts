// Position maths in isolation: proportional cost removal and its residue, flip splits on a rounded notional,
// event kinds per cycle, valuation at a mark. Money in settlement units.
import { describe, expect, it } from 'vitest';
import type { Micros } from '../core/units.ts';
import { newInstrumentRegistry } from '../model/instrument.ts';
import { Account, AccountType, PositionMode } from './account.ts';
import { ValueCalc } from './arith.ts';
import {
  commitFill,
  FillPlan,
  Position,
  PositionEventKind,
  PositionSide,
  planFill,
  revalue,
} from './position.ts';
import { PortfolioResult as R } from './result.ts';
import { COINM_BTCUSD, ODD_LINEAR, USDM_BTCUSDT } from './testing.ts';

const ts = 1 as Micros;

/** Applies a fill to a bare position (no account), returning the PnL it realised. */
function fill(pos: Position, buy: boolean, qty: number, px: number): number {
  const plan = planOf(pos, buy, qty, px);
  expect(planFill(pos, new ValueCalc(pos.instrument), plan)).toBe(R.OK);
  commitFill(pos, plan);
  return plan.realised;
}

function planOf(pos: Position, buy: boolean, qty: number, px: number, at = ts): FillPlan {
  const plan = new FillPlan();
  plan.buy = buy;
  plan.qty = qty;
  plan.px = px;
  plan.ts = at;
  plan.notional = pos.instrument.notional(px, qty);
  return plan;
}

function tryFill(pos: Position, buy: boolean, qty: number): number {
  return planFill(pos, new ValueCalc(pos.instrument), planOf(pos, buy, qty, 600_000));
}

describe('planFill and commitFill', () => {
  it('removes cost proportionally, half-even, and leaves the residue to the last lot (inverse)', () => {
    const inst = newInstrumentRegistry().add(COINM_BTCUSD);
    const pos = new Position(inst, 0, PositionSide.BOTH);
    // buy 7 @ 33333.3: 700 / 33333.3 BTC = 2_100_002.1 sat -> 2_100_002
    fill(pos, true, 7, 333_333);
    expect(pos.cost).toBe(2_100_002);
    // sell 2: removes 2_100_002 x 2/7 = 600_000.57 -> 600_001; exit 200 / 33333.3 = 600_000.6 -> 600_001
    expect(fill(pos, false, 2, 333_333)).toBe(0);
    expect(pos.cost).toBe(1_500_001);
    // sell 5: removes the rest, 1_500_001; exit 500 / 33333.3 = 1_500_001.5 -> 1_500_002 (half-even);
    // long inverse realises entry - exit = -1 sat: the fills' own rounding, and exactly their cash flows
    // (buys 2_100_002 - sells 600_001 - 1_500_002 = -1)
    expect(fill(pos, false, 5, 333_333)).toBe(-1);
    expect(pos.realisedPnl).toBe(-1);
    expect(pos.cost).toBe(0);
  });

  it("splits a flip's notional so the two parts add up to the fill's own value (rounded notional)", () => {
    // ODDUSD: value = round_half_even(ticks x lots / 1e6) units (1e-8 USD; 'cent' below is one unit)
    const inst = newInstrumentRegistry().add(ODD_LINEAR);
    const pos = new Position(inst, 0, PositionSide.BOTH);
    fill(pos, true, 500_000, 1); // 0.5 cent -> 0
    expect(pos.cost).toBe(0);
    // sell 1_000_000 @ 1 tick: the fill is worth 1 cent. Closing 500_000 is worth 0 cents, so the new
    // 500_000-lot short carries 1 - 0 = 1 cent of cost (valued alone it would round to 0: that cent would
    // vanish from the books).
    expect(fill(pos, false, 1_000_000, 1)).toBe(0);
    expect(pos.qty).toBe(-500_000);
    expect(pos.cost).toBe(1);
    // buy back 500_000 @ 1: exit 0 cents; the short realises cost - exit = 1 cent = sells 1 - buys 0 - 0
    expect(fill(pos, true, 500_000, 1)).toBe(1);
    expect(pos.realisedPnl).toBe(1);
  });

  it('reports OPENED, CHANGED, FLIPPED, CLOSED and tracks peak quantity per cycle', () => {
    const inst = newInstrumentRegistry().add(USDM_BTCUSDT);
    const pos = new Position(inst, 0, PositionSide.BOTH);
    const calc = new ValueCalc(inst);
    const kinds: number[] = [];
    const steps: [boolean, number, number][] = [
      [true, 5, 1],
      [true, 5, 2],
      [false, 3, 3],
      [false, 12, 4],
      [true, 5, 5],
    ];
    for (const [buy, qty, at] of steps) {
      const plan = planOf(pos, buy, qty, 600_000, at as Micros);
      expect(planFill(pos, calc, plan)).toBe(R.OK);
      kinds.push(commitFill(pos, plan));
    }
    const K = PositionEventKind;
    expect(kinds).toEqual([K.OPENED, K.CHANGED, K.CHANGED, K.FLIPPED, K.CLOSED]);
    expect(pos.peakQty).toBe(5); // the short cycle's peak (the long peaked at 10)
    expect(pos.openedTs).toBe(4);
    expect(pos.closedTs).toBe(5);
    expect(pos.fills).toBe(5);
  });

  it('refuses to take a hedging side through zero', () => {
    const inst = newInstrumentRegistry().add(USDM_BTCUSDT);
    const long = new Position(inst, 0, PositionSide.LONG);
    const short = new Position(inst, 0, PositionSide.SHORT);
    expect(tryFill(long, false, 1)).toBe(R.EXCEEDS_POSITION);
    expect(tryFill(short, true, 1)).toBe(R.EXCEEDS_POSITION);
    fill(long, true, 3, 600_000);
    expect(tryFill(long, false, 4)).toBe(R.EXCEEDS_POSITION);
    expect(tryFill(long, false, 3)).toBe(R.OK);
  });
});

describe('revalue', () => {
  it('values the position at the mark and passes differences to the account sums', () => {
    const inst = newInstrumentRegistry().add(USDM_BTCUSDT);
    const acct = new Account(0, 'BINANCE_USDM', AccountType.MARGIN, PositionMode.NETTING);
    acct.track(inst.settlement.id);
    const pos = new Position(inst, 0, PositionSide.BOTH);
    fill(pos, false, 10, 600_000); // short 0.010 @ 60000.0, cost 600 USDT
    const c = inst.settlement.id;
    const v = new Float64Array([inst.notional(610_000, 10), inst.notional(590_000, 10)]);
    revalue(pos, 610_000, 4, acct, v, 0); // 610 USDT
    expect(pos.unrealisedPnl).toBe(-1_000_000_000); // -10 USDT
    expect(pos.exposure).toBe(-61_000_000_000);
    expect(pos.margin).toBe(15_250_000_000); // 610 / 4
    expect(acct.positionMargin[c]).toBe(15_250_000_000);
    expect(acct.unrealised[c]).toBe(-1_000_000_000);
    revalue(pos, 590_000, 4, acct, v, 1); // 590 USDT
    expect(acct.unrealised[c]).toBe(1_000_000_000);
    expect(acct.grossExposure[c]).toBe(59_000_000_000);
    expect(acct.netExposure[c]).toBe(-59_000_000_000);
  });

  it('derives the average entry price for display', () => {
    const inst = newInstrumentRegistry().add(USDM_BTCUSDT);
    const pos = new Position(inst, 0, PositionSide.BOTH);
    expect(pos.avgPx).toBeNaN();
    fill(pos, true, 1, 600_000);
    fill(pos, true, 2, 600_003);
    expect(pos.avgPx).toBeCloseTo(600_002, 6);
  });
});
