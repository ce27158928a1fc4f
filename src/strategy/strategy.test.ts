import { describe, expect, it } from 'vitest';
import type { L2Book } from '../book/l2-book.ts';
import { Bot4Error } from '../core/errors.ts';
import { silentLogger } from '../core/log.ts';
import type { InstrumentId, Micros, OrderId, PriceTicks, QtyLots, StrategyId } from '../core/units.ts';
import { ALL_ORDER_TYPES } from '../execution/stub-venue.ts';
import type { OrderEvent } from '../model/events.ts';
import type { Bar, QuoteTick, TradeTick } from '../model/market-data.ts';
import {
  ContingencyType,
  OrderFlags,
  OrderRequest,
  OrderSide,
  OrderType,
  orderRequest,
  TimeInForce,
  TrailingOffsetType,
} from '../model/order.ts';
import { OrderEventKind, OrderStatus, orderEventName } from '../model/order-state.ts';
import type { Portfolio } from '../portfolio/portfolio.ts';
import type { PositionEvent } from '../portfolio/position.ts';
import type { BookUpdate, PortfolioView, StrategyLogger } from './context.ts';
import { StrategyHost } from './host.ts';
import { int, type ParamInput, text } from './params.ts';
import { blank, parseBarInterval, Strategy, StrategyState, type Subscriptions } from './strategy.ts';
import { MINUTE, makeStrategyKit, START } from './test-kit.ts';

const PARAMS = {
  instrument: text({ default: 'BTCUSDT', description: 'instrument' }),
  n: int({ default: 1, min: 0, max: 10, description: 'a number' }),
};

/** Records every hook call as a line, with the clock at the time of the call. */
class Recorder extends Strategy<typeof PARAMS> {
  static override readonly params = PARAMS;
  readonly seen: string[] = [];
  subs: Subscriptions = {
    quotes: ['BTCUSDT'],
    trades: ['BTCUSDT'],
    books: ['BTCUSDT'],
    bars: [{ instrument: 'BTCUSDT', interval: '1m' }],
  };
  throwIn = '';

  constructor(params: ParamInput<typeof PARAMS> = {}) {
    super(params);
  }

  override subscriptions(): Subscriptions {
    return this.subs;
  }
  override onStart(): void {
    this.seen.push('start');
  }
  override onStop(): void {
    this.seen.push('stop');
  }
  override onQuote(q: QuoteTick): void {
    if (this.throwIn === 'quote') throw new Error('boom');
    this.seen.push(`quote ${q.instrumentId} ${q.bidPx}/${q.askPx} now=${this.now - q.tsEvent}`);
  }
  override onTrade(t: TradeTick): void {
    this.seen.push(`trade ${t.px}`);
  }
  override onBook(book: L2Book, u: BookUpdate): void {
    this.seen.push(`book ${u.instrumentId} ${book.bestBid()}/${book.bestAsk()}`);
  }
  override onBar(bar: Bar): void {
    this.seen.push(`bar ${bar.interval / MINUTE}m close=${bar.close} now-close=${this.now - bar.tsClose}`);
  }
  override onOrderEvent(ev: OrderEvent): void {
    this.seen.push(`order ${ev.orderId} ${orderEventName(ev.kind)} net=${this.netQty(ev.instrumentId)}`);
  }
  override onPositionChanged(ev: PositionEvent): void {
    this.seen.push(`position ${ev.position?.qty}`);
  }
  override onTimer(firedAt: Micros): void {
    this.seen.push(`timer ${(firedAt - START) / MINUTE}m now=${(this.now - START) / MINUTE}m`);
  }
}

function errorOf(fn: () => unknown): Bot4Error {
  try {
    fn();
  } catch (e) {
    if (e instanceof Bot4Error) return e;
    throw e;
  }
  throw new Error('expected a Bot4Error');
}

describe('StrategyHost: subscriptions and delivery', () => {
  it('resolves subscriptions when built, so the runner knows what to load', () => {
    const k = makeStrategyKit();
    const s = new Recorder();
    s.subs = {
      quotes: ['BTCUSDT', 'ETHUSDT.SIM', 'BTCUSDT'],
      bars: [{ instrument: 'ETHUSDT', interval: '15m' }],
    };
    const host = new StrategyHost(s, k.ctx, { strategyId: 3 });
    expect(host.subscriptions.quotes.map((i) => i.key)).toEqual(['BTCUSDT.SIM', 'ETHUSDT.SIM']);
    expect(host.subscriptions.bars.map((b) => [b.instrument.key, b.intervalMicros])).toEqual([
      ['ETHUSDT.SIM', 15 * MINUTE],
    ]);
    expect(host.subscriptions.instruments.map((i) => i.symbol)).toEqual(['BTCUSDT', 'ETHUSDT']);
    expect(s.strategyId).toBe(3);
    expect(host.state).toBe(StrategyState.NEW);
  });

  it('explains an unknown instrument, a bad interval and a bad strategy id', () => {
    const k = makeStrategyKit();
    const s = new Recorder();
    s.subs = { quotes: ['SOLUSDT'] };
    expect(errorOf(() => new StrategyHost(s, k.ctx, { strategyId: 1 })).message).toBe(
      "strategy Recorder: instrument 'SOLUSDT' is not registered (known: BTCUSDT.SIM, ETHUSDT.SIM)",
    );
    const s2 = new Recorder();
    s2.subs = { bars: [{ instrument: 'BTCUSDT', interval: '7x' }] };
    expect(errorOf(() => new StrategyHost(s2, k.ctx, { strategyId: 1 })).message).toMatch(
      /bar interval of BTCUSDT '7x' is not an interval/,
    );
    expect(() => new StrategyHost(new Recorder(), k.ctx, { strategyId: 0 })).toThrow(/positive integer/);
    expect(parseBarInterval('1h')).toBe(60 * MINUTE);
    expect(parseBarInterval('30s')).toBe(30_000_000);
    expect(parseBarInterval(5 * MINUTE)).toBe(5 * MINUTE);
  });

  it('delivers only subscribed instruments and bar series, at the record time', () => {
    const k = makeStrategyKit();
    const s = new Recorder();
    k.run(s);
    k.quote(k.btc.id, START + 1, 600_000, 600_010);
    k.quote(k.eth.id, START + 2, 300_000, 300_001); // not subscribed
    k.trade(k.btc.id, START + 3, 600_005);
    k.trade(k.eth.id, START + 4, 300_000);
    k.bar(k.btc.id, START, MINUTE, 1, 3, 1, 2);
    k.bar(k.btc.id, START, 5 * MINUTE, 1, 3, 1, 2); // another interval
    k.bar(k.eth.id, START, MINUTE, 1, 3, 1, 2);
    k.book(k.btc.id, START + 6 * MINUTE, [[599_990, 5]], [[600_020, 5]]);
    k.book(k.eth.id, START + 6 * MINUTE, [[1, 5]], [[2, 5]]);
    expect(s.seen).toEqual([
      'start',
      'quote 0 600000/600010 now=0',
      'trade 600005',
      'bar 1m close=2 now-close=0',
      'book 0 599990/600020',
    ]);
  });

  it('delivers its own order events after the portfolio applied them, and position changes', () => {
    const k = makeStrategyKit();
    const s = new Recorder();
    const other = new Recorder();
    k.run(s, 1);
    k.run(other, 2);
    const o = s.buy('BTCUSDT', '0.005');
    k.venue.fill(o.id, 5, 600_000);
    expect(s.seen.slice(1)).toEqual([
      `order ${o.id} INITIALIZED net=0`,
      `order ${o.id} SUBMITTED net=0`,
      `order ${o.id} ACCEPTED net=0`,
      'position 5',
      `order ${o.id} FILLED net=5`,
    ]);
    // The other strategy hears of the position (same instrument) but not of the order.
    expect(other.seen.slice(1)).toEqual(['position 5']);
  });
});

describe('Strategy: orders', () => {
  it('places orders in human units at the edges, with clear errors', () => {
    // Stops native at the venue: the engine does not list emulated (held) orders among the open ones.
    const k = makeStrategyKit({ autoAccept: false, nativeTypes: ALL_ORDER_TYPES });
    const s = new Recorder();
    k.run(s, 7);
    const o = s.limit('BTCUSDT', 'buy', '0.01', '61800.3', { postOnly: true });
    expect([o.side, o.type, o.qty, o.price, o.flags, o.strategyId]).toEqual([
      OrderSide.BUY,
      OrderType.LIMIT,
      10,
      618_003,
      OrderFlags.POST_ONLY,
      7,
    ]);
    expect(errorOf(() => s.limit('BTCUSDT', 'buy', '0.0015', '61800.3')).message).toMatch(
      /0\.0015.*lot size 0\.001.*BTCUSDT/,
    );
    expect(errorOf(() => s.limit('BTCUSDT', 'buy', '0.001', '61800.35')).message).toMatch(/tick size 0\.1/);
    expect(errorOf(() => s.limit('BTCUSDT', 'hold' as 'buy', '0.001', '1')).message).toBe(
      "strategy Recorder: limit: side must be 'buy' or 'sell', got 'hold'",
    );
    const st = s.stop('BTCUSDT', 'sell', '0.002', '59000');
    expect([st.type, st.triggerPrice, st.status]).toEqual([
      OrderType.STOP_MARKET,
      590_000,
      OrderStatus.SUBMITTED,
    ]);
    const sl = s.stop('BTCUSDT', 'sell', '0.002', '59000', '58990.5');
    expect([sl.type, sl.price]).toEqual([OrderType.STOP_LIMIT, 589_905]);
    expect(s.openOrders()).toEqual([o.id, st.id, sl.id]);
    expect(s.cancelAll()).toBe(3);
    expect(s.order(o.id)?.status).toBe(OrderStatus.PENDING_CANCEL);
  });

  it('sends a bracket whose exits appear when the entry fills, reduce-only on a perpetual', () => {
    const k = makeStrategyKit();
    const s = new Recorder();
    k.run(s);
    const entry = s.bracket('BTCUSDT', 'buy', '0.01', null, '62000', '59000');
    expect(entry.type).toBe(OrderType.MARKET);
    k.venue.fill(entry.id, 10, 600_000);
    // Exits are the next two ids (take-profit, then stop-loss); the stop is held by the engine's emulator.
    const exits = [entry.id + 1, entry.id + 2].map((id) => s.order(id as OrderId)!);
    expect(exits.map((x) => [x.type, x.side, x.qty, x.price, x.triggerPrice, x.flags])).toEqual([
      [OrderType.LIMIT, OrderSide.SELL, 10, 620_000, Number.NaN, OrderFlags.REDUCE_ONLY],
      [OrderType.STOP_MARKET, OrderSide.SELL, 10, Number.NaN, 590_000, OrderFlags.REDUCE_ONLY],
    ]);
    expect(exits.map((x) => x.status)).toEqual([OrderStatus.ACCEPTED, OrderStatus.ACCEPTED]);
  });

  it('closes a position with a reduce-only market order, and does nothing when flat', () => {
    const k = makeStrategyKit();
    const s = new Recorder();
    k.run(s);
    expect(s.closePosition('BTCUSDT')).toBeNull();
    k.venue.fill(s.sell('BTCUSDT', '0.003').id, 3, 600_000);
    const c = s.closePosition('BTCUSDT')!;
    expect([c.side, c.qty, c.type, c.flags]).toEqual([
      OrderSide.BUY,
      3,
      OrderType.MARKET,
      OrderFlags.REDUCE_ONLY,
    ]);
  });

  it('rebalanceTo waits for a working order to end before sending the next difference', () => {
    const k = makeStrategyKit({ autoAccept: false });
    const s = new Recorder();
    k.run(s);
    const a = s.rebalanceTo(k.btc.id, 10)!;
    expect([a.side, a.qty]).toEqual([OrderSide.BUY, 10]);
    k.venue.send(a.id, OrderEventKind.ACCEPTED);
    k.venue.fill(a.id, 4, 600_000); // partly filled, still working
    expect(s.rebalanceTo(k.btc.id, -5)).toBeNull(); // deferred: the working order is being cancelled
    expect(a.status).toBe(OrderStatus.PENDING_CANCEL);
    k.venue.fill(a.id, 2, 600_000); // a late fill before the cancel lands
    const before = k.venue.calls.length;
    k.venue.send(a.id, OrderEventKind.CANCELED);
    const next = k.venue.calls.slice(before);
    expect(next).toHaveLength(1);
    const b = s.order(next[0]!.orderId as OrderId)!;
    // From +6 to -5: sell 11, computed after the late fill.
    expect([b.side, b.qty]).toEqual([OrderSide.SELL, 11]);
    expect(s.rebalanceTo(k.btc.id, -5)).toBeNull(); // same target while b works: cancel b and wait again
    k.venue.send(b.id, OrderEventKind.CANCEL_REJECTED);
    k.venue.fill(b.id, 11, 600_000);
    expect(k.portfolio.netQty(k.btc.id)).toBe(-5);
    // b ended filled: the re-run finds the target met and sends nothing.
    expect(s.openOrders()).toEqual([]);
  });
});

describe('Strategy: time', () => {
  it('fires timers from the engine clock before later records, and cancels them on stop', () => {
    const k = makeStrategyKit();
    const s = new Recorder();
    s.subs = { bars: [{ instrument: 'BTCUSDT', interval: '1m' }] };
    const host = k.run(s);
    s.setTimer(START + 30_000_000);
    const every = s.setInterval(2 * MINUTE);
    k.bar(k.btc.id, START, MINUTE, 1, 1, 1, 1);
    k.bar(k.btc.id, START + 2 * MINUTE, MINUTE, 1, 1, 1, 2);
    expect(s.seen).toEqual([
      'start',
      'timer 0.5m now=0.5m',
      'bar 1m close=1 now-close=0',
      'timer 2m now=2m',
      'bar 1m close=2 now-close=0',
    ]);
    expect(k.clock.pendingTimers).toBe(1);
    host.stop();
    expect(k.clock.pendingTimers).toBe(0);
    expect(s.cancelTimer(every)).toBe(false);
    k.bar(k.btc.id, START + 10 * MINUTE, MINUTE, 1, 1, 1, 3);
    expect(s.seen.at(-1)).toBe('stop');
    expect(host.state).toBe(StrategyState.STOPPED);
  });
});

describe('Strategy: lifecycle and failures', () => {
  it('stops delivering after stop(), and can cancel the strategy orders on the way out', () => {
    const k = makeStrategyKit({ autoAccept: false });
    const s = new Recorder();
    const host = k.run(s);
    const o = s.limit('BTCUSDT', 'sell', '0.001', '70000');
    host.stop({ cancelOrders: true });
    expect(o.status).toBe(OrderStatus.PENDING_CANCEL);
    const n = s.seen.length;
    k.quote(k.btc.id, START + 1, 1, 2);
    k.venue.send(o.id, OrderEventKind.CANCELED);
    expect(s.seen.length).toBe(n);
    expect(() => host.start()).toThrow(/already started/);
    // An operator may resume it: subscribed again, onStart again, events delivered again.
    host.resume();
    expect(host.state).toBe(StrategyState.RUNNING);
    k.quote(k.btc.id, START + 2, 1, 2);
    expect(s.seen.length).toBeGreaterThan(n);
    expect(() => host.resume()).toThrow(/is not stopped/);
  });

  it('names the strategy and the hook when a hook throws', () => {
    const k = makeStrategyKit();
    const s = new Recorder();
    k.run(s);
    s.throwIn = 'quote';
    const e = errorOf(() => k.quote(k.btc.id, START + 1, 1, 2));
    expect(e.message).toBe('strategy Recorder failed in onQuote: boom');
    expect(e.details).toEqual({ strategy: 'Recorder', hook: 'onQuote' });
    expect((e.cause as Error).message).toBe('boom');
  });

  it('refuses use before a host attaches it, and a second attachment', () => {
    const s = new Recorder();
    expect(() => s.buy('BTCUSDT', '1')).toThrow(/not attached to a StrategyHost/);
    const k = makeStrategyKit();
    k.run(s);
    expect(() => new StrategyHost(s, k.ctx, { strategyId: 2 })).toThrow(/already attached/);
  });

  it('checks parameters when constructed', () => {
    expect(new Recorder({ n: 4 }).params).toEqual({ instrument: 'BTCUSDT', n: 4 });
    expect(() => new Recorder({ n: 11 })).toThrow(
      "strategy Recorder: parameter 'n' is 11, out of range: it must be from 0 to 10",
    );
  });

  it('reads balances, books and the instrument registry through the context', () => {
    const k = makeStrategyKit();
    const s = new Recorder();
    k.run(s);
    expect(s.balance('USDT')).toBe(1_000_000 * 10 ** k.btc.settlement.precision);
    expect(() => s.balance('XYZ')).toThrow("strategy Recorder: unknown currency 'XYZ'");
    k.book(k.btc.id, START + 1, [[599_990, 5]], [[600_020, 7]]);
    expect(s.book(k.btc.id)?.bestAskQty()).toBe(7);
    expect(s.instrument('ETHUSDT')).toBe(k.eth);
    expect(s.instrument('BTCUSDT.SIM')).toBe(k.btc);
    expect(s.position(k.btc.id)?.qty).toBe(0);
  });

  it('blank() clears every field of a used request, as OrderRequest.reset() does', () => {
    const used = orderRequest({
      clientOrderId: 'x',
      strategyId: 3 as StrategyId,
      instrumentId: 1 as InstrumentId,
      side: OrderSide.SELL,
      type: OrderType.TRAILING_STOP_LIMIT,
      qty: 5 as QtyLots,
      price: 9 as PriceTicks,
      triggerPrice: 8 as PriceTicks,
      tif: TimeInForce.GTD,
      expireTime: 7 as Micros,
      flags: OrderFlags.REDUCE_ONLY,
      displayQty: 2 as QtyLots,
      trailingOffsetType: TrailingOffsetType.TICKS,
      trailingOffset: 4,
      contingency: ContingencyType.OCO,
      orderListId: 6,
      parentOrderId: 5 as OrderId,
      linkedOrderIds: [4 as OrderId],
      tsInit: 3 as Micros,
    });
    const fresh = new OrderRequest();
    // Every field was changed above, so a field blank() forgot would show here.
    for (const key of Object.keys(fresh))
      expect(used, key).not.toEqual(expect.objectContaining({ [key]: (fresh as never)[key] }));
    expect({ ...blank(used), linkedOrderIds: [...used.linkedOrderIds] }).toEqual({
      ...fresh,
      linkedOrderIds: [],
    });
  });

  it('accepts the real Portfolio and the pino logger as context members', () => {
    const view: PortfolioView = {} as Portfolio;
    const log: StrategyLogger = silentLogger;
    expect([view, log]).toHaveLength(2);
  });
});
