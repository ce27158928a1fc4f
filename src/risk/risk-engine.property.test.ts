// Property tests: a real ExecutionEngine gated by the RiskEngine, a stub venue, random orders, fills, cancels,
// rejects, prices, time and trading states. At the moment the venue receives an order, an independent oracle
// recomputes every limit from the engine's open orders and the account, and the order must satisfy all of them.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { InstrumentId, Micros, PriceTicks, QtyLots, StrategyId } from '../core/units.ts';
import { EngineReason } from '../execution/engine.ts';
import { type Instrument, LiquiditySide } from '../model/instrument.ts';
import {
  hasPrice,
  type Order,
  OrderFlags,
  OrderRequest,
  OrderSide,
  OrderType,
  TimeInForce,
} from '../model/order.ts';
import { isOpen, OrderEventKind, OrderStatus } from '../model/order-state.ts';
import { RiskReason, TradingState } from './risk-engine.ts';
import { makeRiskKit, type RiskKit } from './testing.ts';

const U = 100_000_000;
const LIMITS = {
  maxOrderQty: 50, // lots of 0.001 (BTC, ETH) or 0.01 (BNB)
  maxOrderNotional: 2_000 * U,
  bandBps: 200,
  maxPosition: 100,
  maxGross: 8_000 * U,
  maxNet: 6_000 * U,
  maxOpen: 6,
  totalGross: 12_000 * U,
  totalNet: 9_000 * U,
  totalOpen: 10,
  venueBurst: 5,
  venuePerSecond: 20,
  strategyBurst: 3,
  strategyPerSecond: 10,
};

function config() {
  return {
    limits: {
      maxOrderQty: '0.05',
      maxOrderNotional: '2000',
      priceBandBps: LIMITS.bandBps,
      maxPosition: '0.1',
      maxGrossExposure: '8000',
      maxNetExposure: '6000',
      maxOpenOrders: LIMITS.maxOpen,
    },
    instruments: { BNBUSDT: { maxOrderQty: '0.5', maxPosition: '1' } },
    total: { maxGrossExposure: '12000', maxNetExposure: '9000', maxOpenOrders: LIMITS.totalOpen },
    rates: {
      venue: { orders: { perSecond: LIMITS.venuePerSecond, burst: LIMITS.venueBurst } },
      strategy: { orders: { perSecond: LIMITS.strategyPerSecond, burst: LIMITS.strategyBurst } },
    },
  };
}

type Action =
  | {
      t: 'submit';
      inst: number;
      buy: boolean;
      market: boolean;
      qty: number;
      offsetBps: number;
      reduceOnly: boolean;
      strategy: number;
    }
  | { t: 'fill'; pick: number; frac: number }
  | { t: 'cancel'; pick: number }
  | { t: 'reject'; pick: number }
  | { t: 'price'; inst: number; moveBps: number }
  | { t: 'time'; ms: number }
  | { t: 'state'; s: number };

const action: fc.Arbitrary<Action> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.record({
      t: fc.constant('submit' as const),
      inst: fc.integer({ min: 0, max: 2 }),
      buy: fc.boolean(),
      market: fc.boolean(),
      qty: fc.integer({ min: 1, max: 55 }),
      offsetBps: fc.integer({ min: -250, max: 250 }),
      reduceOnly: fc.integer({ min: 0, max: 4 }).map((x) => x === 0),
      strategy: fc.integer({ min: 1, max: 2 }),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      t: fc.constant('fill' as const),
      pick: fc.nat(),
      frac: fc.double({ min: 0, max: 1, noNaN: true }),
    }),
  },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('cancel' as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('reject' as const), pick: fc.nat() }) },
  {
    weight: 2,
    arbitrary: fc.record({
      t: fc.constant('price' as const),
      inst: fc.integer({ min: 0, max: 2 }),
      moveBps: fc.integer({ min: -150, max: 150 }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ t: fc.constant('time' as const), ms: fc.integer({ min: 0, max: 1500 }) }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ t: fc.constant('state' as const), s: fc.constantFrom(0, 0, 1, 1, 2) }),
  },
);

/** Independent recomputation of the limits for `o`, the order the venue is receiving. */
class Oracle {
  readonly k: RiskKit;
  readonly insts: Instrument[];
  /** Valuation price of each order when it reached the venue (market orders: the reference price then). */
  readonly px = new Map<number, number>();
  readonly venueTimes: number[] = [];
  readonly strategyTimes = new Map<number, number[]>();
  seen = 0;
  seenInReducing = 0;
  /** Denials the oracle confirmed, by risk reason: an engine that denies what it should pass fails below. */
  readonly denied = new Map<number, number>();

  constructor(k: RiskKit) {
    this.k = k;
    this.insts = [k.btc, k.eth, k.bnb];
  }

  private lotValue(inst: Instrument, ref: number): number {
    // Exact enough for limits: notional of 1e6 lots / 1e6 (the engine values exposure as a double too).
    return inst.tryNotional(ref, 1_000_000) / 1_000_000;
  }

  private open(
    inst: Instrument,
    exclude: number,
  ): { buy: number; sell: number; count: number; orders: Order[] } {
    let buy = 0;
    let sell = 0;
    const orders: Order[] = [];
    for (const id of this.k.engine.cache.openOrderIds(inst.id)) {
      if (id === exclude) continue;
      const o = this.k.engine.cache.order(id)!;
      if (!isOpen(o.status)) continue;
      orders.push(o);
      if (o.side === OrderSide.BUY) buy += o.leavesQty;
      else sell += o.leavesQty;
    }
    return { buy, sell, count: orders.length, orders };
  }

  check(o: Order): void {
    const k = this.k;
    const risk = k.risk;
    this.seen++;
    const state = risk.tradingState;
    expect(state, 'nothing reaches the venue while HALTED').not.toBe(TradingState.HALTED);
    const inst = k.engine.cache.instruments.require(o.instrumentId);
    const i = inst.id;
    const ref = risk.referencePrice(i);
    const px = hasPrice(o.price) ? o.price : ref;
    this.px.set(o.id, px);
    const isBuy = o.side === OrderSide.BUY;
    const maxQty = inst === k.bnb ? 50 : LIMITS.maxOrderQty;
    const maxPos = inst === k.bnb ? 100 : LIMITS.maxPosition;
    // Per order.
    expect(o.qty).toBeLessThanOrEqual(maxQty);
    expect(inst.tryNotional(px, o.qty)).toBeLessThanOrEqual(LIMITS.maxOrderNotional);
    if (hasPrice(o.price)) expect(Math.abs(o.price - ref) * 10_000).toBeLessThanOrEqual(LIMITS.bandBps * ref);
    // Position and exposure, counting every open order (before this one) as filled.
    const pos = k.account.positions[i]!;
    const { buy: ob, sell: os, count } = this.open(inst, o.id);
    const q = o.qty;
    const reducing = isBuy ? pos < 0 && ob + q <= -pos : pos > 0 && os + q <= pos;
    const worstBefore = Math.max(Math.abs(pos + ob), Math.abs(pos - os));
    const worstAfter = Math.max(Math.abs(pos + ob + (isBuy ? q : 0)), Math.abs(pos - os - (isBuy ? 0 : q)));
    if (state === TradingState.REDUCING) {
      this.seenInReducing++;
      expect(reducing, 'only reducing orders pass in REDUCING').toBe(true);
      expect(worstAfter).toBeLessThanOrEqual(worstBefore);
    }
    if ((o.flags & OrderFlags.REDUCE_ONLY) !== 0) expect(reducing, 'reduce-only reduces').toBe(true);
    if (!reducing) {
      const base = isBuy ? pos + ob : pos - os;
      const proj = isBuy ? base + q : base - q;
      expect(Math.abs(proj) <= maxPos || Math.abs(proj) <= Math.abs(base)).toBe(true);
      const vpl = this.lotValue(inst, ref);
      const tol = 1 + 1e-9;
      expect((Math.abs(pos) + ob + os + q) * vpl).toBeLessThanOrEqual(LIMITS.maxGross * tol);
      expect(worstAfter * vpl).toBeLessThanOrEqual(LIMITS.maxNet * tol);
      let tg = 0;
      let tl = 0;
      let ts = 0;
      for (const j of this.insts) {
        const r = risk.referencePrice(j.id);
        const v = this.lotValue(j, r);
        const p = k.account.positions[j.id]!;
        const op = this.open(j, o.id);
        const addB = j === inst && isBuy ? q : 0;
        const addS = j === inst && !isBuy ? q : 0;
        tg += (Math.abs(p) + op.buy + op.sell + addB + addS) * v;
        tl += (p + op.buy + addB) * v;
        ts += (p - op.sell - addS) * v;
      }
      expect(tg).toBeLessThanOrEqual(LIMITS.totalGross * tol);
      expect(Math.max(Math.abs(tl), Math.abs(ts))).toBeLessThanOrEqual(LIMITS.totalNet * tol);
    }
    // Open orders, this one included.
    expect(count + 1).toBeLessThanOrEqual(LIMITS.maxOpen);
    expect(k.engine.cache.allOpenOrderIds().length).toBeLessThanOrEqual(LIMITS.totalOpen);
    // Balance: what this order needs plus what every other open order holds, per currency.
    this.checkBalance(o, inst, px, reducing);
    // Self-trade: no resting order of the same strategy on the other side at a crossing price.
    for (const r of this.open(inst, o.id).orders) {
      if (r.strategyId !== o.strategyId || r.side === o.side || r.type !== OrderType.LIMIT) continue;
      const crosses = o.type === OrderType.MARKET || (isBuy ? o.price >= r.price : o.price <= r.price);
      expect(crosses, `order ${o.id} crosses own resting order ${r.id}`).toBe(false);
    }
    // Rates: over any span T ending now, at most burst + rate * T orders.
    const now = o.tsInit as number;
    this.venueTimes.push(now);
    const st = this.strategyTimes.get(o.strategyId) ?? [];
    st.push(now);
    this.strategyTimes.set(o.strategyId, st);
    for (const span of [0, 500_000, 1_000_000]) {
      const n = this.venueTimes.filter((t) => t >= now - span).length;
      expect(n).toBeLessThanOrEqual(LIMITS.venueBurst + (LIMITS.venuePerSecond * span) / 1e6);
      const m = st.filter((t) => t >= now - span).length;
      expect(m).toBeLessThanOrEqual(LIMITS.strategyBurst + (LIMITS.strategyPerSecond * span) / 1e6);
    }
  }

  /**
   * The other half of the gate: an order the engine denied (before it changed anything) must break the limit
   * the denial names. Checked for the limits an order's own fields and the open orders decide; exposure,
   * balance and rate denials depend on valuation and token-bucket details and are covered by `seen` above.
   */
  checkDenial(req: OrderRequest, risk: number, openBefore: number, openOnInstBefore: number): void {
    const k = this.k;
    const inst = k.engine.cache.instruments.require(req.instrumentId);
    const ref = k.risk.referencePrice(inst.id);
    const maxQty = inst === k.bnb ? 50 : LIMITS.maxOrderQty;
    const px = req.type === OrderType.MARKET ? ref : req.price;
    const pos = k.account.positions[inst.id]!;
    const isBuy = req.side === OrderSide.BUY;
    // Reducing counts the open orders on the same side as filled, as check() does (a denied order is not open).
    const { buy: ob, sell: os } = this.open(inst, -1);
    const wouldReduce = isBuy ? pos < 0 && ob + req.qty <= -pos : pos > 0 && os + req.qty <= pos;
    const state = k.risk.tradingState;
    switch (risk) {
      case RiskReason.HALTED:
        expect(state).toBe(TradingState.HALTED);
        break;
      case RiskReason.ORDER_QTY:
        expect(req.qty).toBeGreaterThan(maxQty);
        break;
      case RiskReason.ORDER_NOTIONAL:
        expect(inst.tryNotional(px, req.qty)).toBeGreaterThan(LIMITS.maxOrderNotional);
        break;
      case RiskReason.PRICE_BAND:
        expect(Math.abs(req.price - ref) * 10_000).toBeGreaterThan(LIMITS.bandBps * ref);
        break;
      case RiskReason.OPEN_ORDERS:
        expect(openOnInstBefore + 1).toBeGreaterThan(LIMITS.maxOpen);
        break;
      case RiskReason.TOTAL_OPEN_ORDERS:
        expect(openBefore + 1).toBeGreaterThan(LIMITS.totalOpen);
        break;
      case RiskReason.REDUCE_ONLY:
        expect(req.flags & OrderFlags.REDUCE_ONLY).not.toBe(0);
        expect(wouldReduce && state !== TradingState.REDUCING).toBe(false);
        break;
      case RiskReason.REDUCING_ONLY:
        expect(state).toBe(TradingState.REDUCING);
        break;
      default:
        break;
    }
    this.denied.set(risk, (this.denied.get(risk) ?? 0) + 1);
  }

  private requirement(
    o: Order,
    inst: Instrument,
    lots: number,
    px: number,
    reducing: boolean,
  ): [number, number] {
    const k = this.k;
    const fee = Math.max(0, inst.tryFee(px, lots, LiquiditySide.TAKER));
    if (inst === k.bnb) {
      if (o.side === OrderSide.BUY) return [k.usdt, inst.tryNotional(px, lots) + fee];
      return [k.bnbId, lots * 1_000_000]; // 0.01 BNB per lot, 8 dp
    }
    const margin = reducing || (o.flags & OrderFlags.REDUCE_ONLY) !== 0 ? 0 : inst.tryNotional(px, lots);
    return [k.usdt, margin + fee];
  }

  private checkBalance(o: Order, inst: Instrument, px: number, reducing: boolean): void {
    const [cur, need] = this.requirement(o, inst, o.qty, px, reducing);
    let held = 0;
    for (const j of this.insts) {
      for (const r of this.open(j, o.id).orders) {
        const [c, amount] = this.requirement(r, j, r.leavesQty, this.px.get(r.id)!, false);
        if (c === cur) held += amount;
      }
    }
    expect(need + held).toBeLessThanOrEqual(this.k.account.balances[cur]!);
  }
}

function run(actions: Action[]): Oracle {
  const k = makeRiskKit(config(), { keepLog: false });
  k.account.balances[k.usdt] = 6_000 * U;
  k.account.balances[k.bnbId] = 0.3 * U;
  const refs = [500_000, 300_000, 6_000];
  const insts = [k.btc, k.eth, k.bnb];
  for (let j = 0; j < 3; j++) k.risk.onPrice(insts[j]!.id, refs[j]!);
  const oracle = new Oracle(k);
  const submit = k.venue.submit.bind(k.venue);
  k.venue.submit = (order, asType) => {
    oracle.check(order);
    submit(order, asType);
  };
  const openIds = () => [...k.engine.cache.allOpenOrderIds()];
  const denial = { code: 0 };
  k.bus.subscribe(k.engine.orderEvents, (ev) => {
    if (ev.kind === OrderEventKind.DENIED) denial.code = ev.reasonCode;
  });
  for (const a of actions) {
    switch (a.t) {
      case 'submit': {
        const inst = insts[a.inst]!;
        const r = new OrderRequest();
        r.instrumentId = inst.id as InstrumentId;
        r.strategyId = a.strategy as StrategyId;
        r.side = a.buy ? OrderSide.BUY : OrderSide.SELL;
        r.qty = a.qty as QtyLots;
        r.flags = a.reduceOnly ? OrderFlags.REDUCE_ONLY : 0;
        if (a.market) {
          r.type = OrderType.MARKET;
          r.tif = TimeInForce.IOC;
        } else {
          r.type = OrderType.LIMIT;
          r.tif = TimeInForce.GTC;
          r.price = Math.max(1, Math.round((refs[a.inst]! * (10_000 + a.offsetBps)) / 10_000)) as PriceTicks;
        }
        const openBefore = k.engine.cache.allOpenOrderIds().length;
        const openOnInst = [...k.engine.cache.openOrderIds(inst.id)].length;
        const o = k.engine.submit(r);
        if (o.status === OrderStatus.DENIED && denial.code >= EngineReason.RISK) {
          oracle.checkDenial(r, denial.code - EngineReason.RISK, openBefore, openOnInst);
        }
        break;
      }
      case 'fill': {
        const ids = openIds();
        if (ids.length === 0) break;
        const o = k.engine.cache.order(ids[a.pick % ids.length]!)!;
        if (o.status === OrderStatus.PENDING_CANCEL) break;
        const qty = Math.max(1, Math.floor(o.leavesQty * a.frac));
        k.venue.fill(
          o.id,
          qty,
          hasPrice(o.price)
            ? o.price
            : refs[insts.indexOf(k.engine.cache.instruments.require(o.instrumentId))]!,
        );
        break;
      }
      case 'cancel': {
        const ids = openIds();
        if (ids.length === 0) break;
        const id = ids[a.pick % ids.length]!;
        if (k.engine.cancel(id)) k.venue.send(id, OrderEventKind.CANCELED);
        break;
      }
      case 'reject': {
        const ids = openIds().filter((id) => k.engine.cache.order(id)!.status === OrderStatus.SUBMITTED);
        if (ids.length === 0) break;
        k.venue.send(ids[a.pick % ids.length]!, OrderEventKind.REJECTED, 'venue says no');
        break;
      }
      case 'price': {
        refs[a.inst] = Math.max(10, Math.round((refs[a.inst]! * (10_000 + a.moveBps)) / 10_000));
        k.risk.onPrice(insts[a.inst]!.id, refs[a.inst]!);
        break;
      }
      case 'time':
        k.clock.advanceTo((k.clock.now() + a.ms * 1000) as Micros);
        break;
      case 'state':
        k.risk.setTradingState(a.s as TradingState);
        break;
    }
  }
  return oracle;
}

describe('RiskEngine properties (real ExecutionEngine, stub venue)', () => {
  it('every order the venue sees satisfies every limit, whatever happens around it', () => {
    let seen = 0;
    let reducing = 0;
    const denied = new Map<number, number>();
    // Limits the random runs reach every time; the open-orders limit is rarer (often none in 1,500 runs) and its
    // denial is pinned by the example tests in risk-engine.test.ts instead.
    const wanted = [RiskReason.ORDER_QTY, RiskReason.PRICE_BAND, RiskReason.HALTED];
    for (let round = 0; round < 5 && wanted.some((r) => (denied.get(r) ?? 0) === 0); round++) {
      fc.assert(
        fc.property(fc.array(action, { minLength: 20, maxLength: 150, size: 'max' }), (actions) => {
          const o = run(actions);
          seen += o.seen;
          reducing += o.seenInReducing;
          for (const [r, n] of o.denied) denied.set(r, (denied.get(r) ?? 0) + n);
        }),
        { numRuns: 300 },
      );
    }
    // The runs exercised the gate: many orders reached the venue, some of them in REDUCING.
    expect(seen).toBeGreaterThan(1000);
    expect(reducing).toBeGreaterThan(10);
    // ...and denied orders for the limits their own fields break, each confirmed by the oracle.
    for (const r of wanted) {
      expect(denied.get(r) ?? 0, `denials for risk reason ${r}`).toBeGreaterThan(0);
    }
  });

  it('in HALTED nothing passes, whatever the order', () => {
    fc.assert(
      fc.property(fc.array(action, { maxLength: 60 }), (actions) => {
        const halted = actions.map((a) => (a.t === 'state' ? { t: 'time' as const, ms: 1 } : a));
        const k = makeRiskKit(config(), { keepLog: false });
        k.account.balances[k.usdt] = 6_000 * U;
        k.risk.onPrice(k.btc.id, 500_000);
        k.risk.setTradingState(TradingState.HALTED);
        for (const a of halted) {
          if (a.t !== 'submit') continue;
          const o = k.engine.submit(
            Object.assign(new OrderRequest(), {
              instrumentId: k.btc.id,
              strategyId: a.strategy as StrategyId,
              side: a.buy ? OrderSide.BUY : OrderSide.SELL,
              type: OrderType.MARKET,
              tif: TimeInForce.IOC,
              qty: a.qty as QtyLots,
              flags: a.reduceOnly ? OrderFlags.REDUCE_ONLY : 0,
            }),
          );
          expect(o.status).toBe(OrderStatus.DENIED);
        }
        expect(k.venue.calls).toEqual([]);
      }),
      { numRuns: 100 },
    );
  });
});
