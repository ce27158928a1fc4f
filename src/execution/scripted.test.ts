// The trading engine's "done when": a scripted sequence of commands against a venue stub, with the portfolio
// checked against figures computed by hand, to the last money unit (USDT has 8 decimals here).
import { describe, expect, it } from 'vitest';
import type { PriceTicks, QtyLots } from '../core/units.ts';
import { currency } from '../model/currency.ts';
import { LiquiditySide } from '../model/instrument.ts';
import { OrderSide, OrderType } from '../model/order.ts';
import { OrderEventKind, OrderStatus } from '../model/order-state.ts';
import { AccountType } from '../portfolio/account.ts';
import { Portfolio } from '../portfolio/portfolio.ts';
import { PortfolioLink } from './portfolio-link.ts';
import { makeKit, req } from './test-kit.ts';

const USDT = currency('USDT');
/** USDT amounts in money units (1e-8). */
const usdt = (x: string) => {
  const [i = '0', f = ''] = x.split('.');
  return Number(i) * 1e8 + Number(f.padEnd(8, '0')) * (i.startsWith('-') ? -1 : 1);
};

describe('scripted session: engine + venue stub + portfolio', () => {
  it('reconciles fills, fees, realised PnL and balance exactly with hand-computed figures', () => {
    const k = makeKit();
    const portfolio = new Portfolio({ bus: k.bus });
    portfolio.addAccount({
      venue: 'SIM',
      type: AccountType.MARGIN,
      balances: [{ currency: USDT, amount: usdt('10000') }],
    });
    const link = new PortfolioLink(k.bus, k.engine, portfolio);
    const { engine, venue, btc } = k;
    const seenByStrategy: number[] = [];
    // A strategy-priority subscriber sees the position already updated when it receives the fill.
    k.bus.subscribe(engine.orderEvents, (ev) => {
      if (ev.kind === OrderEventKind.FILLED) seenByStrategy.push(portfolio.netQty(btc.id));
    });

    // 1. Buy limit 0.010 @ 60000.0, filled as maker. Fee 60000 x 0.010 x 0.0002 = 0.12.
    const a = engine.submit(req(btc, { qty: 10 as QtyLots, price: 600_000 as PriceTicks }));
    venue.send(a.id, OrderEventKind.ACCEPTED);
    venue.fill(a.id, 10, 600_000, usdt('0.12'), 'T1', USDT.id, LiquiditySide.MAKER);
    // 2. Buy market 0.020, filled @ 60300.0 as taker. Notional 1206.0, fee x 0.0005 = 0.603.
    const b = engine.submit(req(btc, { type: OrderType.MARKET, qty: 20 as QtyLots }));
    venue.fill(b.id, 20, 603_000, usdt('0.603'), 'T2', USDT.id, LiquiditySide.TAKER);
    // Position 0.030, cost 600 + 1206 = 1806.
    // 3. Sell market 0.025 @ 61000.5 taker: notional 1525.0125, fee 0.76250625.
    //    Cost removed 1806 x 25/30 = 1505; realised 1525.0125 - 1505 = 20.0125.
    const c = engine.submit(req(btc, { side: OrderSide.SELL, type: OrderType.MARKET, qty: 25 as QtyLots }));
    venue.fill(c.id, 25, 610_005, usdt('0.76250625'), 'T3', USDT.id, LiquiditySide.TAKER);
    // 4. Sell limit 0.005 @ 59000.0 maker: notional 295, fee 0.059. Realised 295 - 301 = -6.
    const d = engine.submit(
      req(btc, { side: OrderSide.SELL, qty: 5 as QtyLots, price: 590_000 as PriceTicks }),
    );
    venue.send(d.id, OrderEventKind.ACCEPTED);
    venue.fill(d.id, 5, 590_000, usdt('0.059'), 'T4', USDT.id, LiquiditySide.MAKER);

    // The instrument's own fee model gives the same fees as the hand figures.
    expect(btc.fee(600_000, 10, LiquiditySide.MAKER)).toBe(usdt('0.12'));
    expect(btc.fee(603_000, 20, LiquiditySide.TAKER)).toBe(usdt('0.603'));
    expect(btc.fee(610_005, 25, LiquiditySide.TAKER)).toBe(usdt('0.76250625'));
    expect(btc.fee(590_000, 5, LiquiditySide.MAKER)).toBe(usdt('0.059'));

    for (const o of [a, b, c, d]) expect(o.status).toBe(OrderStatus.FILLED);
    expect(seenByStrategy).toEqual([10, 30, 5, 0]);
    const pos = portfolio.position(btc.id)!;
    expect(pos.qty).toBe(0);
    expect(pos.realisedPnl).toBe(usdt('14.0125')); // 20.0125 - 6
    expect(portfolio.fees(USDT.id)).toBe(usdt('1.54450625')); // 0.12 + 0.603 + 0.76250625 + 0.059
    // Balance = 10000 + 14.0125 - 1.54450625 = 10012.46799375
    expect(portfolio.balance(USDT.id)).toBe(usdt('10012.46799375'));
    expect(portfolio.balance(USDT.id) - usdt('10000')).toBe(
      pos.realisedPnl - portfolio.fees(USDT.id) - portfolio.funding(USDT.id),
    );
    expect(link.refused).toBe(0);
  });
});
