// A VenueClient over ccxt, for breadth: any exchange ccxt supports. Orders over its REST methods (createOrder,
// cancelOrder, editOrder), fills and cancels from ccxt pro's watchMyTrades / watchOrders where the exchange
// has them. Amounts cross the boundary as ccxt's floats, converted to and from lots and ticks on the
// instrument's grid. Not the fast path (the native Binance adapter is); every event is guarded so an answer
// and a stream update of the same fact give one order event. Units: ticks/lots inside, floats at ccxt.

import type { Order as CcxtOrder, Trade as CcxtTrade, Exchange } from 'ccxt';
import { type Clock, monoMillis } from '../../core/clock.ts';
import type { Micros, OrderId } from '../../core/units.ts';
import { typeMask, type VenueClient, type VenueEventSink } from '../../execution/venue.ts';
import { currencies, moneyFromDecimal } from '../../model/currency.ts';
import { floatToSteps, stepsToDecimal } from '../../model/decimal.ts';
import { OrderEvent } from '../../model/events.ts';
import { type Instrument, LiquiditySide } from '../../model/instrument.ts';
import { hasPrice, type Order, OrderSide, OrderType } from '../../model/order.ts';
import { OrderEventKind } from '../../model/order-state.ts';

export interface CcxtVenueOptions {
  name: string;
  /** A ccxt (pro) exchange instance with keys, markets not yet loaded. */
  exchange: Exchange;
  instruments: readonly Instrument[];
  clock: Clock;
  /** ccxt's unified symbol of an instrument (default BASE/QUOTE). */
  symbolOf?: (inst: Instrument) => string;
  onNote?: (text: string) => void;
}

class Tracked {
  orderId = 0 as OrderId;
  inst: Instrument | undefined = undefined;
  symbol = '';
  venueId = '';
  /** The venue id an edit (cancel-replace) is replacing: its cancellation is not the order's end. */
  replacing = '';
  accepted = false;
  closed = false;
  order: Order | undefined = undefined;
}

export class CcxtVenue implements VenueClient {
  readonly name: string;
  readonly nativeTypes = typeMask(OrderType.MARKET, OrderType.LIMIT);
  sink: VenueEventSink | undefined = undefined;
  readonly stats = { streamUpdates: 0, errors: 0 };
  /** createOrder's round trip of the last order the venue accepted, ms (NaN before the first). */
  lastAckMs = Number.NaN;
  private readonly o: CcxtVenueOptions;
  private readonly ex: Exchange;
  private readonly byOrder: (Tracked | undefined)[] = [];
  private readonly byVenueId = new Map<string, Tracked>();
  private readonly seenTrades = new Set<string>();
  /** Stream updates that arrived before createOrder's answer named their order: replayed on accept. */
  private readonly early = new Map<string, (CcxtTrade | CcxtOrder)[]>();
  /** Client id -> venue id of open orders reconciliation adopts (src/live/reconcile.ts). */
  private readonly adoptions = new Map<string, string>();
  private readonly ev = [new OrderEvent(), new OrderEvent(), new OrderEvent(), new OrderEvent()];
  private depth = 0;
  private running = false;

  constructor(o: CcxtVenueOptions) {
    this.o = o;
    this.name = o.name;
    this.ex = o.exchange;
  }

  /** Loads markets and starts the own-order and own-trade watchers the exchange offers. */
  async start(): Promise<void> {
    await this.ex.loadMarkets();
    this.running = true;
    if (this.ex.has.watchOrders === true) void this.watch('orders');
    if (this.ex.has.watchMyTrades === true) void this.watch('trades');
    // Ready once the watchers' connections are open (a stop before that would fail them mid-handshake).
    await new Promise((r) => setImmediate(r));
    const clients = Object.values(
      (this.ex as unknown as { clients: Record<string, { connected: Promise<unknown> }> }).clients,
    );
    await Promise.all(clients.map((c) => c.connected));
  }

  async stop(): Promise<void> {
    this.running = false;
    try {
      await this.ex.close();
    } catch (e) {
      this.o.onNote?.(`${this.name}: close: ${(e as Error).message}`);
    }
  }

  private symbolOf(inst: Instrument): string {
    return this.o.symbolOf?.(inst) ?? `${inst.base.code}/${inst.quote.code}`;
  }

  private async watch(what: 'orders' | 'trades'): Promise<void> {
    while (this.running) {
      try {
        if (what === 'orders') for (const o of await this.ex.watchOrders()) this.onStreamOrder(o);
        else for (const t of await this.ex.watchMyTrades()) this.onTrade(t);
        this.stats.streamUpdates++;
      } catch (e) {
        if (!this.running) return;
        this.stats.errors++;
        this.o.onNote?.(`${this.name}: watch ${what} failed: ${(e as Error).message}`);
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  }

  /** The next submit with this client id takes over the venue's open order: accepted at once, not sent. */
  expectAdoption(clientOrderId: string, venueOrderId: string): void {
    this.adoptions.set(clientOrderId, venueOrderId);
  }

  // ---- VenueClient ------------------------------------------------------------------------------------------

  submit(order: Order, asType: OrderType): void {
    const t = new Tracked();
    t.orderId = order.id;
    t.order = order;
    t.inst = this.o.instruments.find((i) => i.id === order.instrumentId);
    while (this.byOrder.length <= order.id) this.byOrder.push(undefined);
    this.byOrder[order.id] = t;
    const inst = t.inst;
    if (inst === undefined) {
      this.close(t, OrderEventKind.REJECTED, `no instrument ${order.instrumentId} at ${this.name}`);
      return;
    }
    t.symbol = this.symbolOf(inst);
    const adopted = this.adoptions.get(order.clientOrderId);
    if (adopted !== undefined) {
      this.adoptions.delete(order.clientOrderId);
      this.accept(t, adopted);
      return;
    }
    const limit = asType === OrderType.LIMIT;
    const params = order.clientOrderId === '' ? {} : { clientOrderId: order.clientOrderId };
    const sentMs = monoMillis();
    this.ex
      .createOrder(
        t.symbol,
        limit ? 'limit' : 'market',
        order.side === OrderSide.BUY ? 'buy' : 'sell',
        Number(stepsToDecimal(order.leavesQty, inst.lotSize)),
        limit ? Number(stepsToDecimal(order.price, inst.tickSize)) : undefined,
        params,
      )
      .then(
        (o) => {
          this.lastAckMs = monoMillis() - sentMs;
          this.accept(t, o.id ?? '');
        },
        (e: unknown) =>
          this.close(t, OrderEventKind.REJECTED, `${(e as Error).constructor.name}: ${(e as Error).message}`),
      );
  }

  modify(order: Order, qty: number, price: number, _triggerPrice: number): void {
    const t = this.byOrder[order.id];
    if (t === undefined || t.closed || t.inst === undefined || t.venueId === '') return;
    const inst = t.inst;
    const newQty = qty > 0 ? qty : order.qty;
    const newPx = hasPrice(price) ? price : order.price;
    const old = t.venueId;
    t.replacing = old;
    this.ex
      .editOrder(
        old,
        t.symbol,
        'limit',
        order.side === OrderSide.BUY ? 'buy' : 'sell',
        Number(stepsToDecimal(newQty - order.filledQty, inst.lotSize)),
        Number(stepsToDecimal(newPx, inst.tickSize)),
      )
      .then(
        (o) => {
          t.replacing = '';
          if (t.closed) return;
          this.byVenueId.delete(old);
          t.venueId = o.id ?? '';
          this.byVenueId.set(t.venueId, t);
          const ev = this.begin(t, OrderEventKind.UPDATED);
          ev.setUpdate(newQty, newPx, Number.NaN);
          this.deliver(ev);
        },
        (e: unknown) => {
          if (!t.closed)
            this.emit(
              t,
              OrderEventKind.MODIFY_REJECTED,
              `${(e as Error).constructor.name}: ${(e as Error).message}`,
            );
        },
      );
  }

  cancel(order: Order): void {
    const t = this.byOrder[order.id];
    if (t === undefined) return;
    if (t.closed || t.venueId === '') {
      this.emit(
        t,
        OrderEventKind.CANCEL_REJECTED,
        t.closed ? 'order is already closed' : 'order not acknowledged yet',
      );
      return;
    }
    const id = t.venueId;
    this.ex.cancelOrder(id, t.symbol).then(
      () => {
        // The stream may have said it first; an order replaced meanwhile is not this cancel's.
        if (t.venueId === id) this.close(t, OrderEventKind.CANCELED, '');
      },
      (e: unknown) => {
        if (!t.closed)
          this.emit(
            t,
            OrderEventKind.CANCEL_REJECTED,
            `${(e as Error).constructor.name}: ${(e as Error).message}`,
          );
      },
    );
  }

  // ---- stream -----------------------------------------------------------------------------------------------

  private onStreamOrder(o: CcxtOrder): void {
    const id = o.id ?? '';
    const t = this.byVenueId.get(id);
    if (t === undefined) {
      this.keepEarly(id, o);
      return;
    }
    if (!t.accepted) this.accept(t, id);
    if (o.status === 'canceled' && t.venueId === id && t.replacing !== id)
      this.close(t, OrderEventKind.CANCELED, '');
    else if (o.status === 'expired' || o.status === 'rejected')
      this.close(t, OrderEventKind.EXPIRED, o.status);
  }

  private onTrade(tr: CcxtTrade): void {
    const t = tr.order === undefined ? undefined : this.byVenueId.get(tr.order);
    if (t === undefined && tr.order !== undefined) {
      this.keepEarly(tr.order, tr);
      return;
    }
    if (t === undefined || t.inst === undefined || tr.id === undefined || this.seenTrades.has(tr.id)) return;
    this.seenTrades.add(tr.id);
    if (!t.accepted) this.accept(t, tr.order!);
    const inst = t.inst;
    const ev = this.begin(t, OrderEventKind.FILLED);
    const feeCcy = tr.fee?.currency === undefined ? undefined : currencies.getOrCreate(tr.fee.currency);
    ev.setFill(
      floatToSteps(tr.amount ?? 0, inst.lotSize),
      floatToSteps(tr.price ?? 0, inst.tickSize),
      feeCcy === undefined ? 0 : moneyFromDecimal(String(tr.fee!.cost ?? 0), feeCcy),
      feeCcy === undefined ? -1 : feeCcy.id,
      tr.takerOrMaker === 'maker' ? LiquiditySide.MAKER : LiquiditySide.TAKER,
      `${inst.symbol}:${tr.id}`,
    );
    this.deliver(ev);
    const o = t.order!;
    if (o.leavesQty === 0) t.closed = true;
  }

  private keepEarly(venueId: string, x: CcxtTrade | CcxtOrder): void {
    if (venueId === '') return;
    const list = this.early.get(venueId);
    if (list === undefined) this.early.set(venueId, [x]);
    else list.push(x);
  }

  // ---- events -----------------------------------------------------------------------------------------------

  private accept(t: Tracked, venueId: string): void {
    if (t.accepted || t.closed) return;
    t.accepted = true;
    t.venueId = venueId;
    this.byVenueId.set(venueId, t);
    const ev = this.begin(t, OrderEventKind.ACCEPTED);
    ev.setVenueOrderId(venueId);
    this.deliver(ev);
    const early = this.early.get(venueId);
    if (early === undefined) return;
    this.early.delete(venueId);
    for (const x of early) {
      if ('side' in x && 'takerOrMaker' in x) this.onTrade(x as CcxtTrade);
      else this.onStreamOrder(x as CcxtOrder);
    }
  }

  private close(t: Tracked, kind: OrderEventKind, reason: string): void {
    if (t.closed) return;
    t.closed = true;
    this.emit(t, kind, reason);
  }

  private emit(t: Tracked, kind: OrderEventKind, reason: string): void {
    const ev = this.begin(t, kind);
    if (reason !== '') ev.setReason(1, reason);
    this.deliver(ev);
  }

  private begin(t: Tracked, kind: OrderEventKind): OrderEvent {
    const now = this.o.clock.now();
    return this.ev[this.depth]!.init(kind, t.orderId, 0, now as Micros, now as Micros);
  }

  private deliver(ev: OrderEvent): void {
    if (this.sink === undefined) throw new Error(`venue ${this.name} has no event sink`);
    this.depth++;
    try {
      this.sink.onVenueEvent(ev);
    } finally {
      this.depth--;
    }
  }
}
