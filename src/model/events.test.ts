import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Bot4Error, ErrorCode } from '../core/errors.ts';
import type { Micros, OrderId, PriceTicks, QtyLots } from '../core/units.ts';
import {
  ApplyResult,
  applyEvent,
  applyEventOrThrow,
  OrderEvent,
  rebuildOrder,
  statusAfter,
} from './events.ts';
import { LiquiditySide } from './instrument.ts';
import {
  NO_PRICE,
  Order,
  type OrderRequest,
  OrderSide,
  OrderType,
  orderRequest,
  TimeInForce,
  TrailingOffsetType,
} from './order.ts';
import {
  OrderEventKind as E,
  isPending,
  isTerminal,
  type OrderEventKind,
  OrderStatus as S,
} from './order-state.ts';

const ID = 11 as OrderId;

function requestFor(type: OrderType, qty: number, tif: TimeInForce = TimeInForce.GTC): OrderRequest {
  const r = orderRequest({
    clientOrderId: `C-${type}`,
    side: OrderSide.BUY,
    type,
    qty: qty as QtyLots,
    tif,
    tsInit: 100 as Micros,
  });
  if (type === OrderType.LIMIT || type === OrderType.STOP_LIMIT || type === OrderType.LIMIT_IF_TOUCHED)
    r.price = 1000 as PriceTicks;
  if (
    type >= OrderType.STOP_MARKET &&
    type !== OrderType.TRAILING_STOP_MARKET &&
    type !== OrderType.TRAILING_STOP_LIMIT
  ) {
    r.triggerPrice = 990 as PriceTicks;
  }
  if (type === OrderType.TRAILING_STOP_MARKET || type === OrderType.TRAILING_STOP_LIMIT) {
    r.trailingOffsetType = TrailingOffsetType.TICKS;
    r.trailingOffset = 10;
  }
  if (tif === TimeInForce.GTD) r.expireTime = 10_000 as Micros;
  return r;
}

/** A live order plus its event log, the way the execution engine would keep them. */
class Harness {
  readonly order = new Order();
  readonly log: OrderEvent[] = [];
  readonly results: ApplyResult[] = [];
  seq = 0;
  ts = 100;
  private readonly scratch = new OrderEvent();

  constructor(req: OrderRequest, id: OrderId = ID) {
    expect(this.emit(E.INITIALIZED, (e) => e.setRequest(req), id)).toBe(ApplyResult.OK);
  }

  emit(
    kind: OrderEventKind,
    setup?: (e: OrderEvent) => void,
    id: OrderId = ID,
    seq = this.seq + 1,
  ): ApplyResult {
    this.ts += 10;
    // The record comes from a "pool" (one scratch object), is applied, then journaled as a copy.
    const e = this.scratch.init(kind, id, seq, this.ts as Micros, (this.ts + 1) as Micros);
    setup?.(e);
    const r = applyEvent(this.order, e);
    this.seq = Math.max(this.seq, seq);
    this.log.push(e.clone());
    this.results.push(r);
    return r;
  }

  fill(qty: number, px = 1000, liquidity: LiquiditySide = LiquiditySide.MAKER): ApplyResult {
    return this.emit(E.FILLED, (e) => e.setFill(qty, px, qty, 3, liquidity, `T${this.seq + 1}`));
  }

  ok(...kinds: OrderEventKind[]): void {
    for (const k of kinds) expect(this.emit(k), `event ${k}`).toBe(ApplyResult.OK);
  }

  expectRebuilds(): void {
    expect(snap(rebuildOrder(this.log))).toEqual(snap(this.order));
    const applied = this.log.filter((_, i) => this.results[i] === ApplyResult.OK);
    expect(snap(rebuildOrder(applied, new Order(), true))).toEqual(snap(this.order));
  }
}

function snap(o: Order): Record<string, unknown> {
  return { ...o, linkedOrderIds: [...o.linkedOrderIds] };
}

describe('order lifecycles (one per type)', () => {
  it('MARKET: submitted, accepted, filled in two parts; avg price exact', () => {
    const h = new Harness(requestFor(OrderType.MARKET, 100, TimeInForce.IOC));
    h.ok(E.SUBMITTED);
    expect(h.emit(E.ACCEPTED, (e) => e.setVenueOrderId('V-1'))).toBe(ApplyResult.OK);
    expect(h.fill(40, 1000)).toBe(ApplyResult.OK);
    expect(h.order).toMatchObject({ status: S.PARTIALLY_FILLED, filledQty: 40, leavesQty: 60, avgPx: 1000 });
    expect(h.fill(60, 1005)).toBe(ApplyResult.OK);
    expect(h.order).toMatchObject({ status: S.FILLED, filledQty: 100, leavesQty: 0, venueOrderId: 'V-1' });
    expect(h.order.avgPx).toBe((40 * 1000 + 60 * 1005) / 100);
    expect(h.order.tsLast).toBe(h.log.at(-1)!.tsEvent);
    expect(h.order.eventCount).toBe(5);
    h.expectRebuilds();
  });

  it('MARKET on a fast venue: fills before the ack (implicit accept), the late ack is refused once terminal', () => {
    const h = new Harness(requestFor(OrderType.MARKET, 100));
    h.ok(E.SUBMITTED);
    expect(
      h.emit(E.FILLED, (e) => e.setFill(30, 1000, 30, 3, LiquiditySide.TAKER, 'T1').setVenueOrderId('V-9')),
    ).toBe(ApplyResult.OK);
    expect(h.order).toMatchObject({ status: S.PARTIALLY_FILLED, venueOrderId: 'V-9' });
    expect(h.emit(E.ACCEPTED, (e) => e.setVenueOrderId('V-9'))).toBe(ApplyResult.OK); // late ack: no-op
    expect(h.order.status).toBe(S.PARTIALLY_FILLED);
    expect(h.fill(70)).toBe(ApplyResult.OK);
    expect(h.order.status).toBe(S.FILLED);
    expect(h.emit(E.ACCEPTED)).toBe(ApplyResult.ILLEGAL_TRANSITION);
    h.expectRebuilds();
  });

  it('LIMIT GTC: partial fills, cancel requested, a fill arrives while pending cancel, then cancelled', () => {
    const h = new Harness(requestFor(OrderType.LIMIT, 100));
    h.ok(E.SUBMITTED, E.ACCEPTED);
    expect(h.fill(30, 1000)).toBe(ApplyResult.OK);
    expect(h.fill(20, 999)).toBe(ApplyResult.OK);
    h.ok(E.PENDING_CANCEL);
    expect(h.order).toMatchObject({ status: S.PENDING_CANCEL, prevStatus: S.PARTIALLY_FILLED });
    expect(h.fill(10, 998)).toBe(ApplyResult.OK);
    expect(h.order).toMatchObject({
      status: S.PENDING_CANCEL,
      prevStatus: S.PARTIALLY_FILLED,
      filledQty: 60,
      leavesQty: 40,
    });
    h.ok(E.CANCELED);
    expect(h.order).toMatchObject({ status: S.CANCELED, filledQty: 60, leavesQty: 0 });
    expect(h.order.avgPx).toBe((30 * 1000 + 20 * 999 + 10 * 998) / 60);
    expect(h.fill(10)).toBe(ApplyResult.ILLEGAL_TRANSITION); // a fill after CANCELED goes to reconciliation
    h.expectRebuilds();
  });

  it('LIMIT: the rest of the order fills while the cancel is pending', () => {
    const h = new Harness(requestFor(OrderType.LIMIT, 100));
    h.ok(E.SUBMITTED, E.ACCEPTED, E.PENDING_CANCEL);
    expect(h.fill(100)).toBe(ApplyResult.OK);
    expect(h.order.status).toBe(S.FILLED);
    expect(h.emit(E.CANCEL_REJECTED, (e) => e.setReason(-2011, 'Unknown order sent.'))).toBe(
      ApplyResult.ILLEGAL_TRANSITION,
    );
    h.expectRebuilds();
  });

  it('LIMIT: cancel rejected returns to the previous open state and records the reason', () => {
    const h = new Harness(requestFor(OrderType.LIMIT, 100));
    h.ok(E.SUBMITTED, E.ACCEPTED, E.PENDING_CANCEL);
    expect(h.emit(E.CANCEL_REJECTED, (e) => e.setReason(-2011, 'Unknown order sent.'))).toBe(ApplyResult.OK);
    expect(h.order).toMatchObject({ status: S.ACCEPTED, lastReason: -2011, leavesQty: 100 });
    h.expectRebuilds();
  });

  it('LIMIT: modify accepted (qty and price), modify rejected, fill while pending update', () => {
    const h = new Harness(requestFor(OrderType.LIMIT, 100));
    h.ok(E.SUBMITTED, E.ACCEPTED);
    expect(h.fill(30)).toBe(ApplyResult.OK);
    h.ok(E.PENDING_UPDATE);
    expect(h.fill(10)).toBe(ApplyResult.OK);
    expect(h.order).toMatchObject({
      status: S.PENDING_UPDATE,
      prevStatus: S.PARTIALLY_FILLED,
      filledQty: 40,
    });
    expect(h.emit(E.UPDATED, (e) => e.setUpdate(150, 1010, NO_PRICE))).toBe(ApplyResult.OK);
    expect(h.order).toMatchObject({ status: S.PARTIALLY_FILLED, qty: 150, leavesQty: 110, price: 1010 });
    h.ok(E.PENDING_UPDATE);
    expect(h.emit(E.MODIFY_REJECTED, (e) => e.setReason(5, 'price out of band'))).toBe(ApplyResult.OK);
    expect(h.order).toMatchObject({ status: S.PARTIALLY_FILLED, lastReason: 5, qty: 150 });
    // an update cannot cut the quantity to or below what is filled
    h.ok(E.PENDING_UPDATE);
    expect(h.emit(E.UPDATED, (e) => e.setUpdate(40, NO_PRICE, NO_PRICE))).toBe(ApplyResult.INVALID_EVENT);
    expect(h.order.status).toBe(S.PENDING_UPDATE);
    h.expectRebuilds();
  });

  it('LIMIT IOC: partial fill then the remainder expires; FOK expires unfilled without an ack', () => {
    const ioc = new Harness(requestFor(OrderType.LIMIT, 100, TimeInForce.IOC));
    ioc.ok(E.SUBMITTED, E.ACCEPTED);
    expect(ioc.fill(25)).toBe(ApplyResult.OK);
    ioc.ok(E.EXPIRED);
    expect(ioc.order).toMatchObject({ status: S.EXPIRED, filledQty: 25, leavesQty: 0 });
    ioc.expectRebuilds();
    const fok = new Harness(requestFor(OrderType.LIMIT, 100, TimeInForce.FOK));
    fok.ok(E.SUBMITTED, E.EXPIRED);
    expect(fok.order).toMatchObject({ status: S.EXPIRED, filledQty: 0, leavesQty: 0 });
    fok.expectRebuilds();
  });

  it('LIMIT GTD: expires at the venue', () => {
    const h = new Harness(requestFor(OrderType.LIMIT, 100, TimeInForce.GTD));
    h.ok(E.SUBMITTED, E.ACCEPTED, E.EXPIRED);
    expect(h.order.status).toBe(S.EXPIRED);
    expect(h.order.expireTime).toBe(10_000);
    h.expectRebuilds();
  });

  for (const type of [
    OrderType.STOP_MARKET,
    OrderType.MARKET_IF_TOUCHED,
    OrderType.TRAILING_STOP_MARKET,
  ] as const) {
    it(`${type === 3 ? 'STOP_MARKET' : type === 7 ? 'MARKET_IF_TOUCHED' : 'TRAILING_STOP_MARKET'}: accepted, triggered, filled`, () => {
      const h = new Harness(requestFor(type, 50));
      h.ok(E.SUBMITTED, E.ACCEPTED);
      if (type === OrderType.TRAILING_STOP_MARKET) {
        // the venue trails the stop: an unsolicited update of the trigger
        expect(h.emit(E.UPDATED, (e) => e.setUpdate(0, NO_PRICE, 995))).toBe(ApplyResult.OK);
        expect(h.order).toMatchObject({ status: S.ACCEPTED, triggerPrice: 995, qty: 50 });
      }
      h.ok(E.TRIGGERED);
      expect(h.order.status).toBe(S.TRIGGERED);
      expect(h.fill(50, 994)).toBe(ApplyResult.OK);
      expect(h.order).toMatchObject({ status: S.FILLED, avgPx: 994 });
      h.expectRebuilds();
    });
  }

  for (const type of [
    OrderType.STOP_LIMIT,
    OrderType.LIMIT_IF_TOUCHED,
    OrderType.TRAILING_STOP_LIMIT,
  ] as const) {
    it(`${type === 4 ? 'STOP_LIMIT' : type === 8 ? 'LIMIT_IF_TOUCHED' : 'TRAILING_STOP_LIMIT'}: triggered, rests, partial, cancel rejected back to PARTIALLY_FILLED, filled`, () => {
      const h = new Harness(requestFor(type, 50));
      h.ok(E.SUBMITTED, E.ACCEPTED, E.TRIGGERED, E.PENDING_CANCEL);
      expect(h.order).toMatchObject({ status: S.PENDING_CANCEL, prevStatus: S.TRIGGERED });
      h.ok(E.CANCEL_REJECTED);
      expect(h.order.status).toBe(S.TRIGGERED);
      expect(h.fill(20)).toBe(ApplyResult.OK);
      h.ok(E.PENDING_CANCEL);
      h.ok(E.CANCEL_REJECTED);
      expect(h.order.status).toBe(S.PARTIALLY_FILLED);
      expect(h.fill(30)).toBe(ApplyResult.OK);
      expect(h.order.status).toBe(S.FILLED);
      h.expectRebuilds();
    });
  }

  it('STOP_LIMIT rejected by the venue when triggered', () => {
    const h = new Harness(requestFor(OrderType.STOP_LIMIT, 10));
    h.ok(E.SUBMITTED, E.ACCEPTED, E.TRIGGERED);
    expect(h.emit(E.REJECTED, (e) => e.setReason(-2010, 'Order would immediately match and take.'))).toBe(
      ApplyResult.OK,
    );
    expect(h.order).toMatchObject({ status: S.REJECTED, lastReason: -2010, leavesQty: 0 });
    h.expectRebuilds();
  });

  it('denied by risk, or rejected by the venue', () => {
    const d = new Harness(requestFor(OrderType.LIMIT, 10));
    expect(d.emit(E.DENIED, (e) => e.setReason(26, 'below min notional'))).toBe(ApplyResult.OK);
    expect(d.order).toMatchObject({ status: S.DENIED, lastReason: 26, leavesQty: 0 });
    expect(d.emit(E.SUBMITTED)).toBe(ApplyResult.ILLEGAL_TRANSITION);
    d.expectRebuilds();
    const r = new Harness(requestFor(OrderType.LIMIT, 10));
    r.ok(E.SUBMITTED);
    expect(r.emit(E.REJECTED, (e) => e.setReason(-2010, 'insufficient balance'))).toBe(ApplyResult.OK);
    expect(r.order.status).toBe(S.REJECTED);
    r.expectRebuilds();
  });
});

describe('applyEvent refusals leave the order untouched', () => {
  it('reports overfill, bad content, wrong order, stale seq and double INITIALIZED', () => {
    const h = new Harness(requestFor(OrderType.LIMIT, 100));
    h.ok(E.SUBMITTED, E.ACCEPTED);
    const before = snap(h.order);
    expect(h.fill(101)).toBe(ApplyResult.OVERFILL);
    expect(h.fill(0)).toBe(ApplyResult.INVALID_EVENT);
    expect(h.fill(1.5)).toBe(ApplyResult.INVALID_EVENT);
    expect(h.fill(10, 0)).toBe(ApplyResult.INVALID_EVENT);
    expect(h.emit(E.TRIGGERED)).toBe(ApplyResult.INVALID_EVENT); // a LIMIT has no trigger
    expect(h.emit(E.CANCELED, undefined, 99 as OrderId)).toBe(ApplyResult.WRONG_ORDER);
    expect(h.emit(E.CANCELED, undefined, ID, 2)).toBe(ApplyResult.STALE_EVENT);
    expect(h.emit(E.INITIALIZED, (e) => e.setRequest(requestFor(OrderType.MARKET, 1)))).toBe(
      ApplyResult.INVALID_EVENT,
    );
    expect(h.emit(E.SUBMITTED)).toBe(ApplyResult.ILLEGAL_TRANSITION);
    expect(h.emit(99 as OrderEventKind)).toBe(ApplyResult.INVALID_EVENT);
    expect(snap(h.order)).toEqual(before);
    h.expectRebuilds();
  });

  it('applyEventOrThrow names the order, state and event', () => {
    const o = new Order();
    const e = new OrderEvent()
      .init(E.INITIALIZED, ID, 1, 5 as Micros, 5 as Micros)
      .setRequest(requestFor(OrderType.LIMIT, 10));
    applyEventOrThrow(o, e);
    const grab = (ev: OrderEvent): Bot4Error => {
      try {
        applyEventOrThrow(o, ev);
      } catch (x) {
        return x as Bot4Error;
      }
      throw new Error('expected a throw');
    };
    const illegal = grab(new OrderEvent().init(E.ACCEPTED, ID, 2, 6 as Micros, 6 as Micros));
    expect(illegal.code).toBe(ErrorCode.ILLEGAL_TRANSITION);
    expect(illegal.message).toBe('order 11: event ACCEPTED is illegal in state INITIALIZED');
    applyEventOrThrow(o, new OrderEvent().init(E.SUBMITTED, ID, 2, 6 as Micros, 6 as Micros));
    const over = grab(
      new OrderEvent()
        .init(E.FILLED, ID, 3, 7 as Micros, 7 as Micros)
        .setFill(11, 1000, 0, 3, LiquiditySide.TAKER, 't'),
    );
    expect(over.code).toBe(ErrorCode.DATA_MALFORMED);
    expect(over.message).toBe(
      'order 11: FILLED event seq 3 rejected (OVERFILL): fill qty 11 exceeds leaves qty 10 (qty 10, filled 0)',
    );
    const stale = grab(new OrderEvent().init(E.ACCEPTED, ID, 2, 7 as Micros, 7 as Micros));
    expect(stale.message).toBe(
      'order 11: ACCEPTED event seq 2 rejected (STALE_EVENT): seq 2 is not after the last applied seq 2',
    );
  });
});

describe('OrderEvent record', () => {
  it('init() clears every field; one shape for every kind; clone is deep for the request', () => {
    const fresh = Object.keys(new OrderEvent());
    const e = new OrderEvent()
      .init(E.FILLED, ID, 3, 10 as Micros, 11 as Micros)
      .setFill(5, 1000, -2, 3, LiquiditySide.MAKER, 'T-1')
      .setReason(1, 'x')
      .setUpdate(5, 6, 7)
      .setVenueOrderId('V')
      .setRequest(requestFor(OrderType.LIMIT, 10));
    expect(Object.keys(e)).toEqual(fresh);
    const c = e.clone();
    expect(c).toEqual(e);
    expect(c.request).not.toBe(e.request);
    e.init(E.CANCELED, ID, 4, 12 as Micros, 13 as Micros);
    const blank = new OrderEvent().init(E.CANCELED, ID, 4, 12 as Micros, 13 as Micros);
    expect(e).toEqual(blank);
    expect(Object.keys(e)).toEqual(fresh);
  });
});

describe('rebuildOrder', () => {
  it('needs an INITIALIZED event first, and in strict mode refuses any rejected event', () => {
    expect(() => rebuildOrder([])).toThrow(
      'cannot rebuild an order: its event log must start with INITIALIZED (got no events)',
    );
    expect(() => rebuildOrder([new OrderEvent().init(E.SUBMITTED, ID, 1, 1 as Micros, 1 as Micros)])).toThrow(
      /got SUBMITTED/,
    );
    const h = new Harness(requestFor(OrderType.LIMIT, 10));
    h.ok(E.SUBMITTED);
    expect(h.emit(E.TRIGGERED)).toBe(ApplyResult.INVALID_EVENT);
    expect(() => rebuildOrder(h.log, new Order(), true)).toThrow(
      /TRIGGERED event seq 3 rejected \(INVALID_EVENT\)/,
    );
    expect(statusAfter(h.log)).toBe(S.SUBMITTED);
  });
});

// ---- property: random event streams --------------------------------------------------------------------

const KINDS = fc.oneof(
  { arbitrary: fc.constant(E.FILLED), weight: 6 },
  {
    arbitrary: fc.constantFrom(E.ACCEPTED, E.PENDING_CANCEL, E.PENDING_UPDATE, E.UPDATED, E.TRIGGERED),
    weight: 6,
  },
  { arbitrary: fc.constantFrom(E.CANCEL_REJECTED, E.MODIFY_REJECTED, E.SUBMITTED), weight: 3 },
  { arbitrary: fc.constantFrom(E.CANCELED, E.EXPIRED, E.REJECTED, E.DENIED, E.INITIALIZED), weight: 1 },
);

const STEP = fc.record({
  kind: KINDS,
  qty: fc.integer({ min: -1, max: 60 }),
  px: fc.integer({ min: 1, max: 2000 }),
  newPx: fc.option(fc.integer({ min: 1, max: 2000 }), { nil: undefined }),
  stale: fc.integer({ min: 0, max: 15 }),
  otherOrder: fc.integer({ min: 0, max: 30 }),
});

const TYPES = [1, 2, 3, 4, 5, 6, 7, 8] as const;

describe('random event sequences (property)', () => {
  it('never leave an order in an illegal state, and the log rebuilds it exactly', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...TYPES),
        fc.integer({ min: 1, max: 50 }),
        fc.boolean(),
        fc.array(STEP, { maxLength: 40 }),
        (type, qty, submitFirst, steps) => {
          const h = new Harness(requestFor(type, qty));
          if (submitFirst) h.ok(E.SUBMITTED);
          let terminalAt = isTerminal(h.order.status) ? 0 : -1;
          let minPx = Number.POSITIVE_INFINITY;
          let maxPx = Number.NEGATIVE_INFINITY;
          for (const s of steps) {
            const before = snap(h.order);
            const id = s.otherOrder === 0 ? ((ID + 1) as OrderId) : ID;
            const seq = s.stale === 0 ? h.seq : h.seq + 1;
            const r = h.emit(
              s.kind,
              (e) => {
                if (s.kind === E.FILLED) e.setFill(s.qty, s.px, 1, 0, LiquiditySide.TAKER, 't');
                if (s.kind === E.UPDATED) e.setUpdate(Math.max(0, s.qty), s.newPx ?? NO_PRICE, NO_PRICE);
                if (s.kind === E.INITIALIZED) e.setRequest(requestFor(OrderType.MARKET, 1));
              },
              id,
              seq,
            );
            const o = h.order;
            if (r !== ApplyResult.OK) {
              expect(snap(o)).toEqual(before);
            } else if (s.kind === E.FILLED) {
              minPx = Math.min(minPx, s.px);
              maxPx = Math.max(maxPx, s.px);
            }
            if (terminalAt >= 0) expect(r).not.toBe(ApplyResult.OK); // terminal states absorb
            if (isTerminal(o.status) && terminalAt < 0) terminalAt = h.log.length;
            // quantities
            expect(o.filledQty).toBeGreaterThanOrEqual(0);
            expect(o.filledQty).toBeLessThanOrEqual(o.qty);
            if (isTerminal(o.status)) expect(o.leavesQty).toBe(0);
            else expect(o.filledQty + o.leavesQty).toBe(o.qty);
            expect(o.status === S.FILLED).toBe(o.filledQty === o.qty);
            // prices
            if (o.filledQty === 0) expect(o.avgPx).toBeNaN();
            else {
              expect(o.avgPx).toBeGreaterThanOrEqual(minPx);
              expect(o.avgPx).toBeLessThanOrEqual(maxPx);
            }
            // state memory
            if (isPending(o.status)) {
              expect([S.SUBMITTED, S.ACCEPTED, S.TRIGGERED, S.PARTIALLY_FILLED]).toContain(o.prevStatus);
            } else {
              expect(o.prevStatus).toBe(o.status);
            }
            expect(o.status === S.TRIGGERED && o.type <= OrderType.LIMIT).toBe(false);
          }
          h.expectRebuilds();
        },
      ),
      { numRuns: 3000 },
    );
  });
});
