// Property test of what the risk engine caches between events: positions read through an account with a position
// version (the production PortfolioRiskAccount), kept while the version does not move, and the exposure figures
// refreshed only when an event changed the open-order sums or a fill moved a position. After random orders,
// fills, cancels, price moves and fills applied to the portfolio behind the engine's back, the cached engine must
// agree with a twin reading the same portfolio live on every figure and every decision, and its exposure must
// equal a recomputation from the portfolio and the open orders.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { InstrumentId, Micros, OrderId, PriceTicks, QtyLots, StrategyId } from '../core/units.ts';
import type { CurrencyId } from '../model/currency.ts';
import type { Instrument } from '../model/instrument.ts';
import { Order, OrderRequest, OrderSide, OrderType, TimeInForce } from '../model/order.ts';
import { isOpen } from '../model/order-state.ts';
import { PortfolioRiskAccount } from './portfolio-account.ts';
import { parseRiskConfig } from './risk-config.ts';
import { type RiskAccount, RiskEngine } from './risk-engine.ts';
import { makeRiskKit } from './testing.ts';

const U = 100_000_000;
const CONFIG = {
  limits: {
    maxOrderQty: '0.05',
    maxPosition: '0.08',
    maxGrossExposure: '8000',
    maxNetExposure: '6000',
    maxOpenOrders: 8,
  },
  instruments: { BNBUSDT: { maxOrderQty: '0.5', maxPosition: '1' } },
  total: { maxGrossExposure: '12000', maxNetExposure: '9000' },
};
const MIDS = [500_000, 300_000, 3_000];

/** The production account without its position version: every read goes to the portfolio. */
class LiveAccount implements RiskAccount {
  private readonly inner: PortfolioRiskAccount;
  constructor(inner: PortfolioRiskAccount) {
    this.inner = inner;
  }
  positionQty(instrumentId: InstrumentId): number {
    return this.inner.positionQty(instrumentId);
  }
  freeBalance(currencyId: CurrencyId): number {
    return this.inner.freeBalance(currencyId);
  }
  equity(): number {
    return this.inner.equity();
  }
}

type Action =
  | { t: 'submit'; inst: number; buy: boolean; qty: number; offsetBps: number }
  | { t: 'fill'; pick: number; frac: number }
  | { t: 'cancel'; pick: number }
  | { t: 'price'; inst: number; moveBps: number }
  | { t: 'direct'; inst: number; qty: number };

const action: fc.Arbitrary<Action> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      t: fc.constant('submit' as const),
      inst: fc.integer({ min: 0, max: 2 }),
      buy: fc.boolean(),
      qty: fc.integer({ min: 1, max: 60 }),
      offsetBps: fc.integer({ min: -150, max: 150 }),
    }),
  },
  {
    weight: 4,
    arbitrary: fc.record({
      t: fc.constant('fill' as const),
      pick: fc.nat(),
      frac: fc.double({ min: 0, max: 1, noNaN: true }),
    }),
  },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('cancel' as const), pick: fc.nat() }) },
  {
    weight: 3,
    arbitrary: fc.record({
      t: fc.constant('price' as const),
      inst: fc.integer({ min: 0, max: 2 }),
      moveBps: fc.integer({ min: -200, max: 200 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      t: fc.constant('direct' as const),
      inst: fc.integer({ min: 0, max: 1 }),
      qty: fc.integer({ min: -20, max: 20 }),
    }),
  },
);

function setup() {
  const k = makeRiskKit(CONFIG, { keepLog: false, portfolio: true });
  k.venue.autoAccept = true;
  k.venue.record = false;
  const portfolio = k.portfolio!;
  portfolio.accountForVenue('SIM')!.deposit(k.usdt, 20_000 * U, k.clock.now());
  const parsed = parseRiskConfig(CONFIG);
  const twin = new RiskEngine({
    config: parsed,
    instruments: k.instruments,
    account: new LiveAccount(new PortfolioRiskAccount(portfolio, k.usdt)),
    clock: k.clock,
    bus: k.bus,
  });
  // The twin follows the same order events; the kit's engine stays the gate.
  twin.attach(k.engine, k.bus);
  k.engine.setRisk(k.risk);
  const insts = [k.btc, k.eth, k.bnb];
  for (let i = 0; i < 3; i++) {
    k.risk.onPrice(insts[i]!.id, MIDS[i]!, k.clock.now());
    twin.onPrice(insts[i]!.id, MIDS[i]!, k.clock.now());
  }
  return { k, twin, insts, portfolio };
}

function request(inst: Instrument, buy: boolean, qty: number, price: number, ts: number): OrderRequest {
  const r = new OrderRequest();
  r.instrumentId = inst.id;
  r.strategyId = 1 as StrategyId;
  r.side = buy ? OrderSide.BUY : OrderSide.SELL;
  r.type = OrderType.LIMIT;
  r.tif = TimeInForce.GTC;
  r.qty = qty as QtyLots;
  r.price = price as PriceTicks;
  r.tsInit = ts as Micros;
  return r;
}

describe('risk engine caches (positions by account version, exposure refreshed on change)', () => {
  it('agree with a twin reading live and with a recomputation after random fills and price moves', () => {
    fc.assert(
      fc.property(fc.array(action, { minLength: 5, maxLength: 60 }), (actions) => {
        const { k, twin, insts, portfolio } = setup();
        const cached = new Float64Array(4);
        const live = new Float64Array(4);
        const probe = new Order();
        let probeId = 1_000_000;
        for (const a of actions) {
          k.clock.advanceTo((k.clock.now() + 1_000) as Micros);
          const now = k.clock.now();
          if (a.t === 'submit') {
            const inst = insts[a.inst]!;
            const ref = k.risk.referencePrice(inst.id);
            const px = Math.max(1, Math.round(ref * (1 + a.offsetBps / 10_000)));
            k.engine.submit(request(inst, a.buy, a.qty, px, now));
          } else if (a.t === 'fill' || a.t === 'cancel') {
            const open = k.engine.cache.allOpenOrderIds();
            if (open.length === 0) continue;
            const id = open[a.pick % open.length]! as OrderId;
            const o = k.engine.cache.order(id)!;
            if (!isOpen(o.status)) continue;
            if (a.t === 'cancel') k.engine.cancel(id);
            else k.venue.fill(id, Math.max(1, Math.round(o.leavesQty * a.frac)), o.price);
          } else if (a.t === 'price') {
            const inst = insts[a.inst]!;
            const px = Math.max(1, Math.round(k.risk.referencePrice(inst.id) * (1 + a.moveBps / 10_000)));
            k.risk.onPrice(inst.id, px, now);
            twin.onPrice(inst.id, px, now);
          } else if (a.qty !== 0) {
            // A fill the event stream never carried (a reconciliation): the engines are told to re-read.
            const inst = insts[a.inst]!;
            const side = a.qty > 0 ? OrderSide.BUY : OrderSide.SELL;
            portfolio.applyFill(inst, side, Math.abs(a.qty), k.risk.referencePrice(inst.id), 0, -1, now);
            k.risk.refreshAll();
            twin.refreshAll();
          }
          for (const inst of insts) {
            const i = inst.id;
            k.risk.instrumentExposure(i, cached);
            twin.instrumentExposure(i, live);
            expect([...cached], `exposure of ${inst.symbol} after ${a.t}`).toEqual([...live]);
            // Recomputed from the portfolio, the open orders and the reference price.
            const pos = portfolio.netQty(i);
            const open = k.risk.openExposure(i);
            const ref = k.risk.referencePrice(i);
            const vpl = inst.tryNotional(ref, 1_000_000) / 1_000_000;
            const gross = (Math.abs(pos) + open.buy + open.sell) * vpl;
            expect(cached[0]!).toBeCloseTo(gross, 0);
            expect(cached[1]!).toBeCloseTo((pos + open.buy) * vpl, 0);
            expect(cached[2]!).toBeCloseTo((pos - open.sell) * vpl, 0);
            // The same decision on probe orders both ways (no rate limits configured: probes take nothing).
            for (const buy of [true, false]) {
              for (const qty of [1, 25]) {
                const req = request(inst, buy, qty, k.risk.referencePrice(i), now);
                probe.init(probeId++ as OrderId, req);
                expect(k.risk.checkSubmit(probe, inst), `${inst.symbol} ${buy ? 'buy' : 'sell'} ${qty}`).toBe(
                  twin.checkSubmit(probe, inst),
                );
              }
            }
          }
          expect(k.risk.totals()).toEqual(twin.totals());
        }
      }),
      { numRuns: 150 },
    );
  });
});
