import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Micros, OrderId, PriceTicks, QtyLots, StrategyId } from '../core/units.ts';
import { EngineReason } from '../execution/engine.ts';
import {
  type Instrument,
  InstrumentKind,
  LiquiditySide,
  newInstrumentRegistry,
} from '../model/instrument.ts';
import {
  type Order,
  OrderFlags,
  OrderReason,
  OrderRequest,
  OrderSide,
  OrderType,
  TimeInForce,
} from '../model/order.ts';
import { OrderEventKind, OrderStatus } from '../model/order-state.ts';
import { BreakerScope, BreakerState } from './breakers.ts';
import type { RiskConfigInput } from './risk-config.ts';
import {
  feeHalfUp,
  RISK_STATE_TOPIC,
  RiskReason,
  TradingState,
  type TradingStateEvent,
} from './risk-engine.ts';
import { makeRiskKit, type RiskKit } from './testing.ts';

const U = 100_000_000; // money units per USDT (8 dp)
const S = OrderStatus;
const PX = 500_000; // 50,000.0 USDT in BTCUSDT ticks: one lot (0.001 BTC) is worth 50 USDT

interface Fields {
  side?: OrderSide;
  type?: OrderType;
  qty?: number;
  price?: number;
  trigger?: number;
  flags?: number;
  strategy?: number;
  tif?: TimeInForce;
}

function request(inst: Instrument, f: Fields): OrderRequest {
  const r = new OrderRequest();
  r.instrumentId = inst.id;
  r.strategyId = (f.strategy ?? 1) as StrategyId;
  r.side = f.side ?? OrderSide.BUY;
  r.type = f.type ?? (f.price === undefined ? OrderType.MARKET : OrderType.LIMIT);
  r.tif = f.tif ?? (r.type === OrderType.MARKET ? TimeInForce.IOC : TimeInForce.GTC);
  r.qty = (f.qty ?? 1) as QtyLots;
  if (f.price !== undefined) r.price = f.price as PriceTicks;
  if (f.trigger !== undefined) r.triggerPrice = f.trigger as PriceTicks;
  r.flags = f.flags ?? 0;
  return r;
}

function kit(config: RiskConfigInput = {}): RiskKit {
  const k = makeRiskKit(config);
  k.account.balances[k.usdt] = 10_000_000 * U;
  k.risk.onPrice(k.btc.id, PX);
  k.risk.onPrice(k.eth.id, 300_000); // 3,000.00 USDT: one lot (0.001 ETH) is worth 3 USDT
  k.risk.onPrice(k.bnb.id, 6_000); // 600.0 USDT: one lot (0.01 BNB) is worth 6 USDT
  return k;
}

function send(k: RiskKit, f: Fields, inst: Instrument = k.btc): Order {
  return k.engine.submit(request(inst, f));
}

function expectPass(o: Order): void {
  expect(o.status, `order ${o.id} should pass (reason ${o.lastReason})`).not.toBe(S.DENIED);
}

function expectDenied(k: RiskKit, o: Order, reason: number, text?: string | RegExp): void {
  expect(o.status).toBe(S.DENIED);
  expect(o.lastReason).toBe(reason < 100 ? reason : EngineReason.RISK + reason);
  if (text !== undefined) {
    const ev = k.log.filter((e) => e.orderId === o.id && e.kind === OrderEventKind.DENIED).at(-1)!;
    if (typeof text === 'string') expect(ev.reason).toBe(text);
    else expect(ev.reason).toMatch(text);
  }
}

describe('RiskEngine: per-order limits at their boundaries', () => {
  it('max order quantity: under and at pass, one lot over is denied naming the key', () => {
    const k = kit({ limits: { maxOrderQty: '0.2' } }); // 200 lots
    expectPass(send(k, { qty: 199, price: PX }));
    expectPass(send(k, { qty: 200, price: PX }));
    expectDenied(
      k,
      send(k, { qty: 201, price: PX }),
      RiskReason.ORDER_QTY,
      'order quantity 0.201 BTC exceeds max 0.2 BTC (risk.limits.maxOrderQty, BTCUSDT)',
    );
  });

  it('max order notional, with a per-instrument override named in the text', () => {
    const k = kit({
      limits: { maxOrderNotional: '1' },
      instruments: { 'BTCUSDT.SIM': { maxOrderNotional: '10000' } },
    });
    expectPass(send(k, { qty: 199, price: PX })); // 9,950 USDT
    expectPass(send(k, { qty: 200, price: PX })); // 10,000 USDT
    expectDenied(
      k,
      send(k, { qty: 201, price: PX }),
      RiskReason.ORDER_NOTIONAL,
      'order notional 10,050 USDT exceeds max 10,000 USDT (risk.instruments.BTCUSDT.SIM.maxOrderNotional, BTCUSDT)',
    );
    // ETH falls back to the default limit of 1 USDT: one lot is worth 3 USDT.
    expectDenied(
      k,
      send(k, { qty: 2, price: 300_000 }, k.eth),
      RiskReason.ORDER_NOTIONAL,
      /risk\.limits\.maxOrderNotional, ETHUSDT/,
    );
  });

  it('values a market order at the reference price and denies it without one', () => {
    const k = kit({ limits: { maxOrderNotional: '100' } });
    expectPass(send(k, { qty: 2 })); // 2 x 50 USDT
    expectDenied(k, send(k, { qty: 3 }), RiskReason.ORDER_NOTIONAL);
    const fresh = makeRiskKit();
    fresh.account.balances[fresh.usdt] = 1_000_000 * U;
    expectDenied(
      fresh,
      send(fresh, { qty: 1 }),
      RiskReason.NO_REFERENCE_PRICE,
      /no reference price yet for BTCUSDT/,
    );
  });

  it('fat-finger band: at the band passes, one tick beyond is denied, both sides, triggers too', () => {
    const k = kit({ limits: { priceBandBps: 100 } }); // 1% of 500,000 ticks = 5,000 ticks
    expectPass(send(k, { qty: 1, price: 505_000 }));
    expectPass(send(k, { qty: 1, price: 504_999 }));
    expectDenied(
      k,
      send(k, { qty: 1, price: 505_001 }),
      RiskReason.PRICE_BAND,
      'price 50,500.1 is more than 100 bps from the reference price 50,000 (risk.limits.priceBandBps, BTCUSDT)',
    );
    expectPass(send(k, { side: OrderSide.SELL, qty: 1, price: 495_000, strategy: 2 }));
    expectDenied(
      k,
      send(k, { side: OrderSide.SELL, qty: 1, price: 494_999, strategy: 2 }),
      RiskReason.PRICE_BAND,
    );
    const stop = send(k, { type: OrderType.STOP_MARKET, qty: 1, trigger: 505_001 });
    expectDenied(k, stop, RiskReason.PRICE_BAND);
    const noRef = makeRiskKit({ limits: { priceBandBps: 100 } });
    expectDenied(noRef, send(noRef, { qty: 1, price: PX }), RiskReason.NO_REFERENCE_PRICE);
  });
});

describe('RiskEngine: position, exposure and open orders (open orders count as filled)', () => {
  it('max position counts the position and open orders of the same side', () => {
    const k = kit({ limits: { maxPosition: '0.1' } }); // 100 lots
    k.account.positions[k.btc.id] = 50;
    expectPass(send(k, { qty: 30, price: PX })); // open buys 30: worst case 80
    expectPass(send(k, { qty: 20, price: PX })); // 100: at the limit
    expectDenied(
      k,
      send(k, { qty: 1, price: PX }),
      RiskReason.POSITION,
      'worst-case position 0.101 BTC (position + open BUY orders + this one) exceeds max 0.1 BTC (risk.limits.maxPosition, BTCUSDT)',
    );
    // Selling: 50 - 150 = -100 is at the limit; -101 is over.
    expectPass(send(k, { side: OrderSide.SELL, qty: 150, price: PX, strategy: 2 }));
    expectDenied(k, send(k, { side: OrderSide.SELL, qty: 1, price: PX, strategy: 2 }), RiskReason.POSITION);
  });

  it('an order that moves the position toward zero passes even when the position is over the limit', () => {
    const k = kit({ limits: { maxPosition: '0.1' } });
    k.account.positions[k.btc.id] = 150;
    expectPass(send(k, { side: OrderSide.SELL, qty: 10, price: PX }));
    expectDenied(k, send(k, { qty: 1, price: PX }), RiskReason.POSITION);
  });

  it('max open orders per instrument and in total', () => {
    const k = kit({ limits: { maxOpenOrders: 2 }, total: { maxOpenOrders: 3 } });
    expectPass(send(k, { qty: 1, price: PX }));
    const second = send(k, { qty: 1, price: PX });
    expectPass(second);
    expectDenied(
      k,
      send(k, { qty: 1, price: PX }),
      RiskReason.OPEN_ORDERS,
      'open orders 3 would exceed max 2 (risk.limits.maxOpenOrders, BTCUSDT)',
    );
    expectPass(send(k, { qty: 2, price: 300_000 }, k.eth));
    expectDenied(
      k,
      send(k, { qty: 2, price: 300_000 }, k.eth),
      RiskReason.TOTAL_OPEN_ORDERS,
      /risk\.total\.maxOpenOrders/,
    );
    // A closed order frees its place.
    k.engine.cancel(second.id);
    k.venue.send(second.id, OrderEventKind.CANCELED);
    expectPass(send(k, { qty: 2, price: 300_000 }, k.eth));
  });

  it('instrument gross exposure counts |position| and open orders of both sides', () => {
    const k = kit({ limits: { maxGrossExposure: '10000' } }); // 200 lots at 50 USDT
    k.account.positions[k.btc.id] = 100;
    expectPass(send(k, { side: OrderSide.SELL, qty: 50, price: 510_000 })); // 150 lots exposed
    expectPass(send(k, { qty: 50, price: PX })); // 200 lots: 10,000 USDT
    expectDenied(
      k,
      send(k, { qty: 1, price: PX }),
      RiskReason.INSTRUMENT_GROSS,
      'gross exposure 10,050 USDT would exceed max 10,000 USDT (risk.limits.maxGrossExposure, BTCUSDT)',
    );
  });

  it('instrument net exposure is the worst one-directional position', () => {
    const k = kit({ limits: { maxNetExposure: '6000' } }); // 120 lots
    k.account.positions[k.btc.id] = 100;
    expectPass(send(k, { qty: 20, price: PX }));
    expectDenied(k, send(k, { qty: 1, price: PX }), RiskReason.INSTRUMENT_NET);
    // Sells only bring the long side down: -120 lots (6,000 short) is the limit on the other side.
    expectPass(send(k, { side: OrderSide.SELL, qty: 220, price: PX, strategy: 2 }));
    expectDenied(
      k,
      send(k, { side: OrderSide.SELL, qty: 1, price: PX, strategy: 2 }),
      RiskReason.INSTRUMENT_NET,
    );
  });

  it('total gross and net exposure add instruments settling in the account currency', () => {
    const k = kit({ total: { maxGrossExposure: '1000', maxNetExposure: '900' } });
    k.account.positions[k.eth.id] = 100; // 300 USDT long
    k.risk.refreshAll();
    expectPass(send(k, { qty: 12, price: PX })); // + 600: gross 900, net 900
    expectDenied(
      k,
      send(k, { qty: 1, price: PX }),
      RiskReason.TOTAL_NET,
      'total net exposure 950 USDT would exceed max 900 USDT (risk.total.maxNetExposure, BTCUSDT)',
    );
    expectPass(send(k, { side: OrderSide.SELL, qty: 2, price: PX, strategy: 2 })); // gross 1,000
    expectDenied(
      k,
      send(k, { side: OrderSide.SELL, qty: 1, price: PX, strategy: 2 }),
      RiskReason.TOTAL_GROSS,
      /total gross exposure 1,050 USDT/,
    );
  });

  it('cluster exposure bounds correlated instruments together', () => {
    const k = kit({ total: { maxClusterExposure: '900' } });
    k.risk.setClusters([k.btc.id, k.eth.id], [0, 0]);
    expectPass(send(k, { qty: 100, price: 300_000 }, k.eth)); // 300 USDT
    expectPass(send(k, { qty: 12, price: PX })); // + 600
    expectDenied(
      k,
      send(k, { qty: 1, price: PX }),
      RiskReason.CLUSTER_GROSS,
      /correlated cluster 950 USDT would exceed max 900 USDT/,
    );
    k.risk.setClusters([k.btc.id, k.eth.id], [-1, -1]);
    expectPass(send(k, { qty: 1, price: PX }));
  });
});

describe('RiskEngine: reduce-only, trading state, balance', () => {
  it('reduce-only must not increase the position, counting open orders of its side', () => {
    const k = kit();
    const ro = OrderFlags.REDUCE_ONLY;
    expectDenied(k, send(k, { qty: 1, flags: ro }), RiskReason.REDUCE_ONLY);
    k.account.positions[k.btc.id] = -10;
    expectDenied(k, send(k, { qty: 11, flags: ro }), RiskReason.REDUCE_ONLY);
    expectPass(send(k, { qty: 6, price: PX, flags: ro }));
    expectPass(send(k, { qty: 4, price: PX, flags: ro })); // 6 + 4 = 10: flat if both fill
    expectDenied(
      k,
      send(k, { qty: 1, price: PX, flags: ro }),
      RiskReason.REDUCE_ONLY,
      /reduce-only BUY of 0.001 BTC would increase the position -0.01 BTC \(open BUY orders 0.01 BTC\)/,
    );
    expectDenied(k, send(k, { side: OrderSide.SELL, qty: 1, flags: ro }), RiskReason.REDUCE_ONLY);
  });

  it('REDUCING lets only reducing orders through; HALTED nothing; the state change is published', () => {
    const k = kit();
    const seen: string[] = [];
    k.bus.subscribe(k.bus.topic<TradingStateEvent>(RISK_STATE_TOPIC), (e) => seen.push(`${e.from}->${e.to}`));
    k.account.positions[k.btc.id] = 10;
    k.risk.setTradingState(TradingState.REDUCING);
    expectDenied(
      k,
      send(k, { qty: 1, price: PX }),
      RiskReason.REDUCING_ONLY,
      /trading is REDUCING \(operator\)/,
    );
    expectDenied(k, send(k, { side: OrderSide.SELL, qty: 11, price: PX }), RiskReason.REDUCING_ONLY);
    expectPass(send(k, { side: OrderSide.SELL, qty: 10, price: PX }));
    expectDenied(k, send(k, { side: OrderSide.SELL, qty: 1, price: PX }), RiskReason.REDUCING_ONLY);
    k.risk.setTradingState(TradingState.HALTED);
    k.account.positions[k.btc.id] = 20;
    expectDenied(
      k,
      send(k, { side: OrderSide.SELL, qty: 1, price: PX }),
      RiskReason.HALTED,
      'trading is HALTED (operator): no order passes (BTCUSDT)',
    );
    k.risk.setTradingState(TradingState.ACTIVE);
    expectPass(send(k, { qty: 1, price: PX, strategy: 2 }));
    expect(seen).toEqual(['0->1', '1->2', '2->0']);
  });

  it('cash buy needs free quote >= notional + fee; cash sell needs free base >= qty', () => {
    const k = kit();
    // 10 lots of BNB at 600.0 = 60 USDT, taker fee 0.1% = 0.06 USDT.
    k.account.balances[k.usdt] = 60.06 * U;
    expectPass(send(k, { qty: 10, price: 6_000 }, k.bnb));
    k.engine.cancelAll();
    for (const c of k.venue.calls.filter((c) => c.op === 'cancel'))
      k.venue.send(c.orderId, OrderEventKind.CANCELED);
    expect(k.risk.reservedBalance(k.usdt)).toBe(0);
    k.account.balances[k.usdt] = 60.06 * U - 1;
    expectDenied(
      k,
      send(k, { qty: 10, price: 6_000 }, k.bnb),
      RiskReason.INSUFFICIENT_BALANCE,
      'order needs 60.06 USDT but only 60.05999999 USDT is free (risk.balance.enabled, BNBUSDT)',
    );
    k.account.balances[k.bnbId] = 0.1 * U; // 0.1 BNB = 10 lots
    expectPass(send(k, { side: OrderSide.SELL, qty: 10, price: 6_000 }, k.bnb));
    expectDenied(
      k,
      send(k, { side: OrderSide.SELL, qty: 1, price: 6_000 }, k.bnb),
      RiskReason.INSUFFICIENT_BALANCE,
      /only 0 BNB is free/,
    );
  });

  it('reserves balance for open orders so two orders cannot spend it twice', () => {
    const k = kit();
    k.account.balances[k.usdt] = 100 * U;
    expectPass(send(k, { qty: 8, price: 6_000 }, k.bnb)); // 48.048 USDT
    expectDenied(k, send(k, { qty: 9, price: 6_000 }, k.bnb), RiskReason.INSUFFICIENT_BALANCE);
    expectPass(send(k, { qty: 8, price: 6_000 }, k.bnb)); // 96.096 in all
    expect(k.risk.reservedBalance(k.usdt)).toBe(2 * 48.048 * U);
  });

  it('margin: initial margin at the configured leverage plus fee; reducing orders need only the fee', () => {
    const k = kit({ instruments: { BTCUSDT: { leverage: 10 } } });
    // 100 lots at 50,000 = 5,000 USDT: margin 500 + taker fee 2.5.
    k.account.balances[k.usdt] = 502.5 * U;
    expectPass(send(k, { qty: 100, price: PX }));
    k.engine.cancelAll();
    for (const c of k.venue.calls.filter((c) => c.op === 'cancel'))
      k.venue.send(c.orderId, OrderEventKind.CANCELED);
    k.account.balances[k.usdt] = 502.5 * U - 1;
    expectDenied(
      k,
      send(k, { qty: 100, price: PX }),
      RiskReason.INSUFFICIENT_MARGIN,
      /needs margin 502.5 USDT but only 502.49999999 USDT/,
    );
    k.account.positions[k.btc.id] = 100;
    k.account.balances[k.usdt] = 2.5 * U;
    expectPass(send(k, { side: OrderSide.SELL, qty: 100, price: PX }));
  });
});

describe('RiskEngine: rates, self-trade, stale data, breakers', () => {
  it('order rate: a venue bucket of 3 at 1/s refills from order timestamps', () => {
    const k = kit({ rates: { venue: { orders: { perSecond: 1, burst: 3 } } } });
    for (let i = 0; i < 3; i++) expectPass(send(k, { qty: 1, price: PX }));
    expectDenied(
      k,
      send(k, { qty: 1, price: PX }),
      RiskReason.ORDER_RATE,
      /order rate limit reached \(burst 3\) for venue SIM/,
    );
    k.clock.advanceTo((k.clock.now() + 999_999) as Micros);
    expectDenied(k, send(k, { qty: 1, price: PX }), RiskReason.ORDER_RATE);
    k.clock.advanceTo((k.clock.now() + 1) as Micros);
    expectPass(send(k, { qty: 1, price: PX }));
    expectDenied(k, send(k, { qty: 1, price: PX }), RiskReason.ORDER_RATE);
  });

  it('strategy buckets are separate per strategy; denied orders take no token', () => {
    const k = kit({
      rates: { strategy: { orders: { perSecond: 1, burst: 2 } } },
      limits: { maxOrderQty: '0.01' },
    });
    expectDenied(k, send(k, { qty: 11, price: PX }), RiskReason.ORDER_QTY);
    expectPass(send(k, { qty: 1, price: PX }));
    expectPass(send(k, { qty: 1, price: PX }));
    expectDenied(k, send(k, { qty: 1, price: PX }), RiskReason.ORDER_RATE, /for strategy 1/);
    expectPass(send(k, { qty: 1, price: PX, strategy: 2 }));
  });

  it('modify: rate, limits and instrument rules apply to the amended order', () => {
    const k = kit({
      limits: { maxOrderQty: '0.05' },
      rates: { venue: { modifies: { perSecond: 1, burst: 1 } } },
    });
    const o = send(k, { qty: 10, price: PX });
    k.venue.send(o.id, OrderEventKind.ACCEPTED);
    expect(k.engine.modify(o.id, 51, Number.NaN, Number.NaN)).toBe(EngineReason.RISK + RiskReason.ORDER_QTY);
    expect(k.engine.modify(o.id, 0, 500_000.5, Number.NaN)).toBe(
      EngineReason.RISK + OrderReason.PRICE_INVALID,
    );
    k.venue.fill(o.id, 5, PX);
    expect(k.engine.modify(o.id, 5, Number.NaN, Number.NaN)).toBe(
      EngineReason.RISK + RiskReason.MODIFY_BELOW_FILLED,
    );
    expect(k.engine.modify(o.id, 50, Number.NaN, Number.NaN)).toBe(0);
    k.venue.update(o.id, 50, Number.NaN, Number.NaN);
    expect(k.risk.openExposure(k.btc.id)).toEqual({ buy: 45, sell: 0, orders: 1 });
    expect(k.engine.modify(o.id, 40, Number.NaN, Number.NaN)).toBe(
      EngineReason.RISK + RiskReason.MODIFY_RATE,
    );
    k.clock.advanceTo((k.clock.now() + 1_000_000) as Micros);
    expect(k.engine.modify(o.id, 40, Number.NaN, Number.NaN)).toBe(0);
  });

  it('self-trade prevention against the strategy’s own resting orders on the other side', () => {
    const k = kit();
    const s1 = send(k, { side: OrderSide.SELL, qty: 1, price: 500_100 });
    const s2 = send(k, { side: OrderSide.SELL, qty: 1, price: 500_200 });
    expectPass(send(k, { qty: 1, price: 500_099 }));
    expectDenied(
      k,
      send(k, { qty: 1, price: 500_100 }),
      RiskReason.SELF_TRADE,
      "BUY at 50,010 would trade against the strategy's own resting order at 50,010 (risk.selfTradePrevention, BTCUSDT)",
    );
    expectDenied(k, send(k, { qty: 1, price: 500_101 }), RiskReason.SELF_TRADE);
    expectDenied(k, send(k, { qty: 1 }), RiskReason.SELF_TRADE);
    expectPass(send(k, { qty: 1, price: 500_101, strategy: 2 })); // another strategy may
    k.engine.cancel(s1.id);
    k.venue.send(s1.id, OrderEventKind.CANCELED);
    expectPass(send(k, { qty: 1, price: 500_150 }));
    expectDenied(k, send(k, { qty: 1, price: 500_200 }), RiskReason.SELF_TRADE);
    k.engine.cancel(s2.id);
    k.venue.send(s2.id, OrderEventKind.CANCELED);
    expectPass(send(k, { qty: 1 }));
    // And the other way round: a sell at or below the strategy's highest resting buy (500,150).
    expectDenied(k, send(k, { side: OrderSide.SELL, qty: 1, price: 500_150 }), RiskReason.SELF_TRADE);
    expectPass(send(k, { side: OrderSide.SELL, qty: 1, price: 500_151 }));
  });

  it('stale market data trips the venue breaker: at the limit passes, one microsecond later does not', () => {
    const k = kit({ breakers: { staleDataMs: 1000 } });
    const t0 = k.clock.now();
    k.risk.onPrice(k.btc.id, PX, t0);
    k.clock.advanceTo((t0 + 1_000_000) as Micros);
    expectPass(send(k, { qty: 1, price: PX }));
    k.clock.advanceTo((t0 + 1_000_001) as Micros);
    expectDenied(
      k,
      send(k, { qty: 1, price: PX }),
      RiskReason.STALE_MARKET_DATA,
      'no market data from the venue for 1000 ms (max 1000 ms) (risk.breakers.staleDataMs, BTCUSDT)',
    );
    expect(k.risk.breakers.stateOf(BreakerScope.VENUE, k.btc.venueId)).toBe(BreakerState.OPEN);
    expectDenied(
      k,
      send(k, { qty: 1, price: PX }),
      RiskReason.BREAKER_OPEN,
      `circuit breaker open: venue ${k.btc.venueId} (risk.breakers, BTCUSDT)`,
    );
  });

  it('consecutive venue rejects open the venue breaker; a probe after the cool-down closes it', () => {
    const k = kit({ breakers: { maxConsecutiveRejects: 3, cooldownMs: 5_000 } });
    for (let i = 0; i < 3; i++) {
      const o = send(k, { qty: 1, price: PX });
      k.venue.send(o.id, OrderEventKind.REJECTED, 'insufficient margin');
    }
    expectDenied(k, send(k, { qty: 1, price: PX }), RiskReason.BREAKER_OPEN);
    k.clock.advanceTo((k.clock.now() + 5_000_000) as Micros);
    expect(k.risk.breakers.stateOf(BreakerScope.VENUE, k.btc.venueId)).toBe(BreakerState.HALF_OPEN);
    const probe = send(k, { qty: 1, price: PX });
    expectPass(probe);
    expectDenied(k, send(k, { qty: 1, price: PX }), RiskReason.BREAKER_OPEN); // probe still out
    k.venue.send(probe.id, OrderEventKind.ACCEPTED);
    expect(k.risk.breakers.stateOf(BreakerScope.VENUE, k.btc.venueId)).toBe(BreakerState.CLOSED);
    expectPass(send(k, { qty: 1, price: PX }));
  });
});

describe('RiskEngine: book-keeping follows the event stream', () => {
  it('open exposure, reservations and counts return to zero when every order closes', () => {
    const k = kit();
    const a = send(k, { qty: 10, price: PX });
    const b = send(k, { side: OrderSide.SELL, qty: 7, price: 510_000 });
    const c = send(k, { qty: 5, strategy: 2 });
    expect(k.risk.openExposure(k.btc.id)).toEqual({ buy: 15, sell: 7, orders: 3 });
    k.venue.send(a.id, OrderEventKind.ACCEPTED);
    k.venue.fill(a.id, 4, PX);
    expect(k.risk.openExposure(k.btc.id)).toEqual({ buy: 11, sell: 7, orders: 3 });
    expect(k.account.positions[k.btc.id]).toBe(4);
    k.venue.fill(a.id, 6, PX);
    k.venue.send(b.id, OrderEventKind.REJECTED);
    k.venue.fill(c.id, 5, PX);
    expect(k.risk.openExposure(k.btc.id)).toEqual({ buy: 0, sell: 0, orders: 0 });
    expect(k.risk.reservedBalance(k.usdt)).toBe(0);
    expect(k.risk.trackedOrders).toBe(0);
    expect(k.risk.totals()).toMatchObject({ openOrders: 0, gross: 15 * 50 * U });
  });

  it('keeps records apart when order ids collide in the ring (growth)', () => {
    const k = kit();
    const ids: OrderId[] = [];
    for (let i = 0; i < 1500; i++) ids.push(send(k, { qty: 1, price: PX - i }).id);
    expect(k.risk.openExposure(k.btc.id)).toEqual({ buy: 1500, sell: 0, orders: 1500 });
    for (const id of ids) k.venue.send(id, OrderEventKind.CANCELED);
    expect(k.risk.openExposure(k.btc.id)).toEqual({ buy: 0, sell: 0, orders: 0 });
  });

  it('reasonText of a denial names the limit for the gate used on its own', () => {
    const k = kit({ limits: { maxOrderQty: '0.001' } });
    const o = send(k, { qty: 1, price: PX });
    o.qty = 2 as QtyLots;
    expect(k.risk.checkSubmit(o, k.btc)).toBe(RiskReason.ORDER_QTY);
    expect(k.risk.reasonText(RiskReason.ORDER_QTY, o)).toBe(
      'order quantity 0.002 BTC exceeds max 0.001 BTC (risk.limits.maxOrderQty, BTCUSDT)',
    );
  });
});

describe('RiskEngine: the integer fee path', () => {
  it('equals Instrument.tryFee (HALF_UP on the exact notional) for every size and rate', () => {
    const registry = newInstrumentRegistry();
    const insts = ['0.0005', '0.001', '0.00075', '0.00016875', '0.01'].map((fee, n) =>
      registry.add({
        symbol: `X${n}USDT`,
        venue: 'SIM',
        kind: InstrumentKind.PERPETUAL,
        base: `X${n}`,
        quote: 'USDT',
        settlement: 'USDT',
        tickSize: n % 2 === 0 ? '0.1' : '0.01',
        lotSize: n % 2 === 0 ? '0.001' : '0.0001',
        takerFee: fee,
      }),
    );
    fc.assert(
      fc.property(
        fc.constantFrom(...insts),
        fc.integer({ min: 1, max: 100_000_000 }),
        fc.integer({ min: 1, max: 10_000_000 }),
        (inst, px, lots) => {
          const n = inst.tryNotional(px, lots);
          fc.pre(!Number.isNaN(n));
          expect(feeHalfUp(n, inst.takerFee)).toBe(inst.tryFee(px, lots, LiquiditySide.TAKER));
        },
      ),
      { numRuns: 5000 },
    );
  });
});
