// Recorder and trade building: hand-computed round trips (adds, partial exits, a flip, funding, hedging),
// the sampling grid, and a property test against the real Portfolio: trades add up to its realised PnL,
// fees and funding, to the unit, on linear, rounded-notional and inverse contracts.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Micros } from '../core/units.ts';
import type { Currency } from '../model/currency.ts';
import { OrderEvent } from '../model/events.ts';
import {
  type Instrument,
  type InstrumentSpec,
  LiquiditySide,
  newInstrumentRegistry,
} from '../model/instrument.ts';
import { Order, OrderSide } from '../model/order.ts';
import { AccountType, PositionMode } from '../portfolio/account.ts';
import { Portfolio } from '../portfolio/portfolio.ts';
import { PositionSide } from '../portfolio/position.ts';
import { PortfolioResult } from '../portfolio/result.ts';
import { COINM_BTCUSD, ODD_LINEAR, USDM_BTCUSDT } from '../portfolio/testing.ts';
import {
  BacktestRecorder,
  buildTrades,
  type EquitySource,
  F64Column,
  type FillTable,
  type FundingTable,
  PortfolioEquitySource,
  splitFee,
} from './recorder.ts';

const { BUY, SELL } = OrderSide;
const TAKER = LiquiditySide.TAKER;

/** A fill row for buildTrades; notional = px x qty x 10_000 (USD-M BTCUSDT: tick 0.1, lot 0.001, 8 dp). */
interface Row {
  ts: number;
  side: 1 | -1;
  qty: number;
  px: number;
  fee: number;
  realised: number;
  slot?: number;
  positionSide?: number;
}

function table(rows: Row[]): FillTable {
  return {
    length: rows.length,
    ts: rows.map((r) => r.ts),
    slot: rows.map((r) => r.slot ?? 0),
    side: rows.map((r) => r.side),
    qty: rows.map((r) => r.qty),
    px: rows.map((r) => r.px),
    notional: rows.map((r) => r.px * r.qty * 10_000),
    fee: rows.map((r) => r.fee),
    realised: rows.map((r) => r.realised),
    liquidity: rows.map(() => TAKER),
    positionSide: rows.map((r) => r.positionSide ?? PositionSide.BOTH),
    orderId: rows.map((_, i) => i + 1),
  };
}

function fundingTable(rows: { afterFill: number; amount: number; slot?: number; positionSide?: number }[]) {
  const t: FundingTable = {
    length: rows.length,
    ts: rows.map((r) => r.afterFill),
    slot: rows.map((r) => r.slot ?? 0),
    positionSide: rows.map((r) => r.positionSide ?? PositionSide.BOTH),
    amount: rows.map((r) => r.amount),
    afterFill: rows.map((r) => r.afterFill),
  };
  return t;
}

const OPTS = {
  notional: (_slot: number, px: number, qty: number) => px * qty * 10_000,
  instrumentIds: [7],
  startTs: 0,
  intervalMicros: 1,
};

describe('buildTrades', () => {
  it('keeps adds and partial exits in one trade and splits a flip', () => {
    // Long: buy 2 @ 100.0, add 1 @ 130.0, sell 1 @ 120.0 (partial), sell 2 @ 90.0 (flat).
    // Entry value 2000x1000x1e4 + 1000x1300x1e4 = 2e10 + 1.3e10 = 3.3e10; avg entry (1000x2000 + 1300x1000)/3000
    // = 1100 ticks. Partial exit removes 3.3e10/3 = 1.1e10 of cost for 1.2e10: +1e9. Final exit removes 2.2e10
    // for 1.8e10: -4e9. Exit avg (1200x1000 + 900x2000)/3000 = 1000 ticks. Fees 10+5+4+6 = 25.
    // Short: sell 1 @ 100.0 (fee 8), then buy 3 @ 80.0 (fee 9) flips: 1000 lots close at 800x1000x1e4 = 8e9,
    // realising 1e10 - 8e9 = 2e9, with fee 9x1000/3000 = 3; the other 2000 lots open a long worth
    // 2.4e10 - 8e9 = 1.6e10 with fee 6. Funding of 50 after fill 6 goes to that long; 7 paid before any fill
    // is unattributed.
    const fills = table([
      { ts: 1, side: 1, qty: 2000, px: 1000, fee: 10, realised: 0 },
      { ts: 2, side: 1, qty: 1000, px: 1300, fee: 5, realised: 0 },
      { ts: 3, side: -1, qty: 1000, px: 1200, fee: 4, realised: 1_000_000_000 },
      { ts: 4, side: -1, qty: 2000, px: 900, fee: 6, realised: -4_000_000_000 },
      { ts: 5, side: -1, qty: 1000, px: 1000, fee: 8, realised: 0 },
      { ts: 6, side: 1, qty: 3000, px: 800, fee: 9, realised: 2_000_000_000 },
    ]);
    const fundings = fundingTable([
      { afterFill: 0, amount: 7 },
      { afterFill: 6, amount: 50 },
    ]);
    const { trades, unattributedFunding } = buildTrades(fills, fundings, OPTS);
    expect(unattributedFunding).toBe(7);
    expect(trades).toHaveLength(3);
    const [a, b, c] = trades as [(typeof trades)[0], (typeof trades)[0], (typeof trades)[0]];
    expect(a).toMatchObject({
      id: 0,
      instrumentId: 7,
      direction: 1,
      open: false,
      entryTs: 1,
      exitTs: 4,
      entryPx: 1100,
      exitPx: 1000,
      qty: 3000,
      exitQty: 3000,
      maxQty: 3000,
      entryValue: 33_000_000_000,
      exitValue: 30_000_000_000,
      grossPnl: -3_000_000_000,
      fees: 25,
      funding: 0,
      netPnl: -3_000_000_025,
      fills: 4,
      durationMicros: 3,
      bars: 3,
    });
    expect(a.returnFraction).toBeCloseTo(-3_000_000_025 / 33_000_000_000, 15);
    expect(b).toMatchObject({
      direction: -1,
      open: false,
      entryTs: 5,
      exitTs: 6,
      entryPx: 1000,
      exitPx: 800,
      qty: 1000,
      exitQty: 1000,
      entryValue: 10_000_000_000,
      exitValue: 8_000_000_000,
      grossPnl: 2_000_000_000,
      fees: 11,
      netPnl: 1_999_999_989,
      fills: 2,
    });
    expect(c).toMatchObject({
      direction: 1,
      open: true,
      entryTs: 6,
      exitTs: null,
      entryPx: 800,
      exitPx: null,
      qty: 2000,
      exitQty: 0,
      entryValue: 16_000_000_000,
      grossPnl: 0,
      fees: 6,
      funding: 50,
      netPnl: -56,
      fills: 1,
      durationMicros: null,
      bars: null,
    });
    // The identity: trades + unattributed = realised - fees - funding.
    const net = trades.reduce((s, t) => s + t.netPnl, 0) - unattributedFunding;
    expect(net).toBe(1e9 - 4e9 + 2e9 - (10 + 5 + 4 + 6 + 8 + 9) - (7 + 50));
  });

  it('treats the LONG and SHORT slots of a hedging account as separate trades', () => {
    const L = PositionSide.LONG;
    const S = PositionSide.SHORT;
    const fills = table([
      { ts: 1, side: 1, qty: 10, px: 100, fee: 1, realised: 0, positionSide: L },
      { ts: 2, side: -1, qty: 10, px: 100, fee: 1, realised: 0, positionSide: S },
      { ts: 3, side: -1, qty: 10, px: 110, fee: 1, realised: 100_000, positionSide: L },
      { ts: 4, side: 1, qty: 10, px: 105, fee: 1, realised: -50_000, positionSide: S },
    ]);
    const { trades } = buildTrades(fills, fundingTable([]), OPTS);
    expect(trades.map((t) => [t.positionSide, t.direction, t.entryTs, t.exitTs, t.netPnl])).toEqual([
      [L, 1, 1, 3, 100_000 - 2],
      [S, -1, 2, 4, -50_000 - 2],
    ]);
  });

  it('splits a fee pro rata, ties to even, rebates like fees', () => {
    expect(splitFee(9, 1000, 3000)).toBe(3);
    expect(splitFee(10, 1, 3)).toBe(3); // 3.33
    expect(splitFee(5, 1, 2)).toBe(2); // 2.5 -> 2 (even)
    expect(splitFee(7, 1, 2)).toBe(4); // 3.5 -> 4 (even)
    expect(splitFee(-5, 1, 2)).toBe(-2);
    expect(splitFee(11, 4, 4)).toBe(11);
  });
});

/** An equity source the test moves by hand. */
class Manual implements EquitySource {
  equity = 0;
  cash = 0;
  gross = 0;
  read(out: Float64Array): void {
    out[0] = this.equity;
    out[1] = this.cash;
    out[2] = this.gross;
  }
}

function usdmWorld() {
  const reg = newInstrumentRegistry();
  const inst = reg.add(USDM_BTCUSDT);
  const usdt = reg.currencies.get('USDT')!;
  return { reg, inst, usdt };
}

describe('BacktestRecorder sampling', () => {
  it('samples the state before each event on the grid, repeats it across gaps, ends with the final state', () => {
    const { inst, usdt } = usdmWorld();
    const src = new Manual();
    const rec = new BacktestRecorder({
      currency: usdt,
      instruments: [inst],
      source: src,
      intervalMicros: 10,
    });
    src.equity = 1000;
    src.cash = 1000;
    rec.advance(100); // first event begins the run: sample at 100
    rec.observePrice(inst.id, 500);
    src.equity = 1010; // the event at 100 changed the state
    rec.advance(105);
    rec.advance(112); // grid 110 gets the state after the event at 105: 1010
    rec.observePrice(inst.id, 510);
    src.equity = 1020;
    src.gross = 77;
    rec.advance(135); // grid 120 and 130 (a gap) both get 1020
    src.equity = 1030;
    rec.advance(138);
    src.equity = 1040;
    rec.end(145); // grid 140 gets 1040, then the final sample at 145
    const r = rec.recording();
    expect(Array.from(r.curve.ts)).toEqual([100, 110, 120, 130, 140, 145]);
    expect(Array.from(r.curve.equity)).toEqual([1000, 1010, 1020, 1020, 1040, 1040]);
    expect(Array.from(r.curve.grossExposure)).toEqual([0, 0, 77, 77, 77, 77]);
    expect(Array.from(r.prices[0]!)).toEqual([Number.NaN, 500, 510, 510, 510, 510]);
    expect(r.startTs).toBe(100);
    expect(r.endTs).toBe(145);
  });

  it('overwrites a grid sample that falls on the end time with the final state', () => {
    const { inst, usdt } = usdmWorld();
    const src = new Manual();
    const rec = new BacktestRecorder({
      currency: usdt,
      instruments: [inst],
      source: src,
      intervalMicros: 10,
    });
    src.equity = 5;
    rec.begin(0);
    rec.advance(10); // the event at 10 is about to happen: grid 10 = 5
    src.equity = 6;
    rec.end(10);
    expect(Array.from(rec.recording().curve.equity)).toEqual([5, 6]);
  });

  it('grows its columns past the initial capacity', () => {
    const col = new F64Column(16);
    for (let i = 0; i < 1000; i++) col.push(i * 1.5);
    expect(col.length).toBe(1000);
    expect(col.get(999)).toBe(1498.5);
    expect(col.toArray()).toHaveLength(1000);
  });

  it('refuses instruments settling in another currency, unknown instruments and bad intervals', () => {
    const reg = newInstrumentRegistry();
    const coin = reg.add(COINM_BTCUSD);
    const usdm = reg.add(USDM_BTCUSDT);
    const usdt = reg.currencies.get('USDT')!;
    const src = new Manual();
    expect(() => new BacktestRecorder({ currency: usdt, instruments: [coin], source: src })).toThrow(
      /settles in BTC, not the report currency USDT/,
    );
    expect(
      () => new BacktestRecorder({ currency: usdt, instruments: [usdm], source: src, intervalMicros: 0 }),
    ).toThrow(/intervalMicros 0/);
    const rec = new BacktestRecorder({ currency: usdt, instruments: [usdm], source: src });
    expect(() => rec.fill(1, coin.id, BUY, 1, 1, 0, TAKER, 0)).toThrow(
      /was not given to the BacktestRecorder/,
    );
  });

  it('records an order fill from the engine records and reads equity from a Portfolio', () => {
    const { inst, usdt, reg } = usdmWorld();
    const pf = new Portfolio();
    pf.addAccount({
      venue: inst.venue,
      type: AccountType.MARGIN,
      balances: [{ currency: usdt, amount: 1_000_000_000_000 }],
    });
    const src = new PortfolioEquitySource(pf, usdt);
    const rec = new BacktestRecorder({
      currency: usdt,
      instruments: [inst],
      source: src,
      intervalMicros: 10,
    });
    rec.begin(0);
    const order = new Order();
    order.id = 42 as never;
    order.instrumentId = inst.id;
    order.side = BUY;
    const ev = new OrderEvent();
    ev.tsEvent = 5 as Micros;
    ev.fillQty = 1000 as never; // 1 BTC
    ev.fillPx = 1_000_000 as never; // 100,000.0
    ev.fee = inst.fee(1_000_000, 1000, TAKER); // 0.05% of 100,000 = 50 USDT
    ev.feeCurrencyId = usdt.id;
    ev.liquidity = TAKER;
    expect(ev.fee).toBe(5_000_000_000);
    expect(pf.applyOrderFill(inst, order, ev)).toBe(PortfolioResult.OK);
    rec.recordOrderFill(order, ev, pf.position(inst.id)!);
    rec.orderSubmitted();
    expect(pf.mark(inst.id, 1_010_000)).toBe(PortfolioResult.OK); // +1,000 USDT unrealised
    rec.end(20);
    const r = rec.recording();
    // equity = 10,000 - 50 fee + 1,000 unrealised = 10,950 USDT
    expect(Array.from(r.curve.equity)).toEqual([1e12, 1_095_000_000_000, 1_095_000_000_000]);
    expect(Array.from(r.curve.cash)).toEqual([1e12, 995_000_000_000, 995_000_000_000]);
    expect(r.curve.grossExposure[2]).toBe(10_100_000_000_000);
    expect(r.fills.length).toBe(1);
    expect(r.fills.notional[0]).toBe(10_000_000_000_000);
    expect(r.fills.orderId[0]).toBe(42);
    expect(r.orders).toBe(1);
    expect(r.trades).toHaveLength(1);
    expect(r.trades[0]).toMatchObject({ open: true, qty: 1000, fees: 5_000_000_000, netPnl: -5_000_000_000 });
    void reg;
  });
});

interface Op {
  kind: 'fill' | 'funding';
  buy: boolean;
  qty: number;
  px: number;
  long: boolean;
  rate: number;
}

function run(
  spec: InstrumentSpec,
  hedging: boolean,
  ops: Op[],
): {
  inst: Instrument;
  pf: Portfolio;
  cur: Currency;
  rec: BacktestRecorder;
} {
  const reg = newInstrumentRegistry();
  const inst = reg.add(spec);
  const cur = inst.settlement;
  const pf = new Portfolio();
  pf.addAccount({
    venue: inst.venue,
    type: AccountType.MARGIN,
    mode: hedging ? PositionMode.HEDGING : PositionMode.NETTING,
    balances: [{ currency: cur, amount: 1e15 }],
  });
  pf.register(inst);
  const rec = new BacktestRecorder({
    currency: cur,
    instruments: [inst],
    source: new PortfolioEquitySource(pf, cur),
    intervalMicros: 3,
  });
  let ts = 0;
  for (const op of ops) {
    ts += 1;
    rec.advance(ts);
    if (op.kind === 'fill') {
      const side = op.buy ? BUY : SELL;
      const ps = hedging ? (op.long ? PositionSide.LONG : PositionSide.SHORT) : PositionSide.BOTH;
      // In hedging mode a reducing fill may not pass zero: clamp it to the side's position.
      let qty = op.qty;
      if (hedging) {
        const p = pf.position(inst.id, ps)!;
        const reducing = ps === PositionSide.LONG ? !op.buy : op.buy;
        if (reducing) qty = Math.min(qty, Math.abs(p.qty));
        if (qty === 0) continue;
      }
      const fee = inst.fee(op.px, qty, TAKER);
      const r = pf.applyFill(inst, side, qty, op.px, fee, cur.id, ts, ps);
      expect(r).toBe(PortfolioResult.OK);
      const pos = pf.position(inst.id, ps)!;
      rec.fill(ts, inst.id, side, qty, op.px, fee, TAKER, pos.lastRealised, ps);
      rec.observePrice(inst.id, op.px);
    } else {
      const longQty = pf.position(inst.id, hedging ? PositionSide.LONG : PositionSide.BOTH)!.qty;
      const before = hedging ? pf.position(inst.id, PositionSide.SHORT)!.funding : 0;
      const beforeLong = pf.position(inst.id, hedging ? PositionSide.LONG : PositionSide.BOTH)!.funding;
      expect(pf.applyFunding(inst, op.rate, op.px, ts)).toBe(PortfolioResult.OK);
      const paidLong =
        pf.position(inst.id, hedging ? PositionSide.LONG : PositionSide.BOTH)!.funding - beforeLong;
      if (hedging) {
        const paidShort = pf.position(inst.id, PositionSide.SHORT)!.funding - before;
        rec.funding(ts, inst.id, paidLong, PositionSide.LONG);
        rec.funding(ts, inst.id, paidShort, PositionSide.SHORT);
      } else {
        rec.funding(ts, inst.id, paidLong);
      }
      void longQty;
    }
  }
  rec.end(ts + 1);
  return { inst, pf, cur, rec };
}

const opArb = (minPx: number, maxPx: number, maxQty: number): fc.Arbitrary<Op> =>
  fc.record({
    kind: fc.oneof(
      { weight: 6, arbitrary: fc.constant('fill' as const) },
      { weight: 1, arbitrary: fc.constant('funding' as const) },
    ),
    buy: fc.boolean(),
    qty: fc.integer({ min: 1, max: maxQty }),
    px: fc.integer({ min: minPx, max: maxPx }),
    long: fc.boolean(),
    rate: fc.integer({ min: -300_000, max: 300_000 }),
  });

describe('trades against the Portfolio (property)', () => {
  const cases: [string, InstrumentSpec, number, number, number][] = [
    ['linear', USDM_BTCUSDT, 100_000, 1_200_000, 5_000],
    ['rounded notional', ODD_LINEAR, 1, 1_000_000, 1_000_000],
    ['inverse', COINM_BTCUSD, 100_000, 1_200_000, 5_000],
  ];
  for (const [name, spec, minPx, maxPx, maxQty] of cases) {
    for (const hedging of [false, true]) {
      it(`${name}, ${hedging ? 'hedging' : 'netting'}: sum of trade net PnL = realised - fees - funding`, () => {
        fc.assert(
          fc.property(fc.array(opArb(minPx, maxPx, maxQty), { maxLength: 60 }), (ops) => {
            const { inst, pf, cur, rec } = run(spec, hedging, ops);
            const r = rec.recording();
            const tradeNet = r.trades.reduce((s, t) => s + t.netPnl, 0);
            const expected = pf.realisedPnl(cur.id) - pf.fees(cur.id) - pf.funding(cur.id);
            expect(tradeNet - r.unattributedFunding).toBe(expected);
            expect(r.trades.reduce((s, t) => s + t.grossPnl, 0)).toBe(pf.realisedPnl(cur.id));
            expect(r.trades.reduce((s, t) => s + t.fees, 0)).toBe(pf.fees(cur.id));
            // Funding is only paid on open positions, so none is left outside a trade.
            expect(r.unattributedFunding).toBe(0);
            for (const t of r.trades) {
              if (t.open) continue;
              // A closed trade realised its value flows: exit - entry for a linear long, reversed for a short;
              // an inverse contract's value moves against the price, so the sign flips once more.
              const sign = t.direction * (inst.isInverse ? -1 : 1);
              expect(t.grossPnl).toBe(sign * (t.exitValue - t.entryValue) + 0); // + 0: never -0
              expect(t.exitQty).toBe(t.qty);
            }
            // What is still open matches the positions.
            const sides = hedging ? [PositionSide.LONG, PositionSide.SHORT] : [PositionSide.BOTH];
            for (const ps of sides) {
              const pos = pf.position(inst.id, ps)!;
              const open = r.trades.filter((t) => t.open && t.positionSide === ps);
              expect(open.length).toBe(pos.qty === 0 ? 0 : 1);
              if (open[0] !== undefined)
                expect(open[0].direction * (open[0].qty - open[0].exitQty)).toBe(pos.qty);
            }
            // And the final sample is the portfolio's equity.
            expect(r.curve.equity[r.curve.equity.length - 1]).toBe(pf.equity(cur.id));
          }),
          { numRuns: 150 },
        );
      });
    }
  }
});
