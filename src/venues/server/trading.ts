// Accounts and orders of the local exchange: Binance's spot rules (filters, balance locks, commission in the
// received asset) around the simulated exchange, which decides every fill. An order's request is checked and
// its funds locked here, then it goes to the simulator at market time; the simulator's events (accepted,
// filled, canceled, expired) come back synchronously through onVenueEvent and become Binance order states,
// balance moves and user-data events. USD-M futures orders take the same path; their margin, positions and
// events are futures.ts's (a market's `usdm` flag decides). Spot and futures keep separate order books of the
// account (client ids are unique per market, as on Binance). Balances are integers in 1e-8 units of each
// asset; prices ticks, sizes lots.

import type { TestClock } from '../../core/clock.ts';
import type { InstrumentId, OrderId, PriceTicks, QtyLots, StrategyId } from '../../core/units.ts';
import type { VenueEventSink } from '../../execution/venue.ts';
import type { OrderEvent } from '../../model/events.ts';
import { FEE_RATE_DENOMINATOR, LiquiditySide } from '../../model/instrument.ts';
import { Order, OrderFlags, OrderRequest, OrderSide, OrderType, TimeInForce } from '../../model/order.ts';
import { OrderEventKind } from '../../model/order-state.ts';
import type { SimulatedExchange } from '../sim/exchange.ts';
import {
  ApiError,
  BinanceCode,
  filterFailure,
  illegal,
  insufficientBalance,
  mandatory,
  noSuchOrder,
  unknownOrder,
} from './errors.ts';
import { FuturesCode, FuturesDesk, orderTradeUpdate } from './futures.ts';
import { FuturesLedger } from './futures-ledger.ts';
import type { SymbolMarket } from './market.ts';
import { cancelJson, executionReport, placeJson } from './spot-json.ts';

export type Params = Record<string, string>;

/** One asset balance, 1e-8 units. */
export interface Balance {
  free: number;
  locked: number;
}

/** A fill as Binance reports it in FULL responses, myTrades and execution reports. */
export interface ServerFill {
  tradeId: number;
  px: number;
  qty: number;
  /** Quote 1e-8 units. */
  quote: number;
  commission: number;
  commissionAsset: string;
  maker: boolean;
  time: number;
  /** USD-M: PnL the fill realised, 1e-8 USDT (0 on spot). */
  realised: number;
}

export const Status = {
  NEW: 'NEW',
  PARTIALLY_FILLED: 'PARTIALLY_FILLED',
  FILLED: 'FILLED',
  CANCELED: 'CANCELED',
  EXPIRED: 'EXPIRED',
  REJECTED: 'REJECTED',
} as const;
export type Status = (typeof Status)[keyof typeof Status];

export interface OrderFields {
  side: 'BUY' | 'SELL';
  type: 'LIMIT' | 'MARKET' | 'LIMIT_MAKER';
  tif: 'GTC' | 'IOC' | 'FOK' | 'GTX';
  price: number;
  qty: number;
  quoteOrderQty: number;
  time: number;
}

export class ServerOrder {
  readonly fills: ServerFill[] = [];
  status: Status = Status.NEW;
  executed = 0;
  /** Quote 1e-8 units. */
  cumQuote = 0;
  updateTime = 0;
  /** Funds still locked for the order (1e-8 units of lockAsset). */
  locked = 0;
  readonly lockAsset: string;
  /** Set once the simulator acknowledged it (NEW or a first fill). */
  accepted = false;
  rejectReason = '';
  /** USD-M: only reduces the position. */
  reduceOnly = false;
  /** USD-M: initial margin the order holds while open, 1e-8 USDT. */
  margin = 0;

  readonly account: Account;
  readonly market: SymbolMarket;
  readonly orderId: number;
  readonly clientOrderId: string;
  readonly side: 'BUY' | 'SELL';
  readonly type: 'LIMIT' | 'MARKET' | 'LIMIT_MAKER';
  readonly tif: 'GTC' | 'IOC' | 'FOK' | 'GTX';
  /** Ticks; NaN for a market order. */
  readonly price: number;
  /** Lots. */
  readonly qty: number;
  /** Quote 1e-8 units (a market buy by quoteOrderQty), else 0. */
  readonly quoteOrderQty: number;
  /** Milliseconds, market time. */
  readonly time: number;

  constructor(
    account: Account,
    market: SymbolMarket,
    orderId: number,
    clientOrderId: string,
    fields: OrderFields,
  ) {
    this.account = account;
    this.market = market;
    this.orderId = orderId;
    this.clientOrderId = clientOrderId;
    this.side = fields.side;
    this.type = fields.type;
    this.tif = fields.tif;
    this.price = fields.price;
    this.qty = fields.qty;
    this.quoteOrderQty = fields.quoteOrderQty;
    this.time = fields.time;
    this.updateTime = fields.time;
    this.lockAsset = fields.side === 'BUY' ? market.inst.quote.code : market.inst.base.code;
  }

  get open(): boolean {
    return this.status === Status.NEW || this.status === Status.PARTIALLY_FILLED;
  }
}

export interface UserEventListener {
  /** A user-data event (executionReport, outboundAccountPosition) for an account. */
  onUserEvent(account: Account, event: Record<string, unknown>): void;
}

export class Account {
  readonly balances = new Map<string, Balance>();
  readonly orders = new Map<number, ServerOrder>();
  readonly byClientId = new Map<string, ServerOrder>();
  /** USD-M futures: the wallet and positions, and the client ids of futures orders. */
  readonly usdm: FuturesLedger;
  readonly usdmByClientId = new Map<string, ServerOrder>();
  /** Assets whose balance moved since the last outboundAccountPosition. */
  readonly dirty = new Set<string>();
  readonly apiKey: string;
  /** HMAC secret; never logged. */
  readonly secret: string;
  /** The API key's Ed25519 public key (PEM), when it has one. */
  readonly ed25519PublicKey: string | undefined;

  constructor(apiKey: string, secret: string, ed25519PublicKey: string | undefined, usdmWallet = 0) {
    this.usdm = new FuturesLedger(usdmWallet);
    this.apiKey = apiKey;
    this.secret = secret;
    this.ed25519PublicKey = ed25519PublicKey;
  }

  balance(asset: string): Balance {
    let b = this.balances.get(asset);
    if (b === undefined) {
      b = { free: 0, locked: 0 };
      this.balances.set(asset, b);
    }
    return b;
  }

  /** The client-id index of a market's orders. */
  clientIds(m: SymbolMarket): Map<string, ServerOrder> {
    return m.usdm ? this.usdmByClientId : this.byClientId;
  }
}

const SIDES = new Set(['BUY', 'SELL']);
const TYPES = new Set(['LIMIT', 'MARKET', 'LIMIT_MAKER']);
const KNOWN_TYPES = new Set([
  'LIMIT',
  'MARKET',
  'LIMIT_MAKER',
  'STOP_LOSS',
  'STOP_LOSS_LIMIT',
  'TAKE_PROFIT',
  'TAKE_PROFIT_LIMIT',
]);
const TIFS = new Set(['GTC', 'IOC', 'FOK']);
const USDM_TYPES = new Set(['LIMIT', 'MARKET']);
const USDM_KNOWN_TYPES = new Set([
  'LIMIT',
  'MARKET',
  'STOP',
  'STOP_MARKET',
  'TAKE_PROFIT',
  'TAKE_PROFIT_MARKET',
  'TRAILING_STOP_MARKET',
]);
const USDM_TIFS = new Set(['GTC', 'IOC', 'FOK', 'GTX']);
const DECIMAL = /^[0-9]{1,20}(\.[0-9]{1,20})?$/;
const CLIENT_ID = /^[.A-Z:/a-z0-9_-]{1,36}$/;

export const fmt8 = (units: number): string => {
  const neg = units < 0;
  const s = String(Math.abs(Math.round(units))).padStart(9, '0');
  return `${neg ? '-' : ''}${s.slice(0, -8)}.${s.slice(-8)}`;
};

export class Trading implements VenueEventSink {
  readonly accounts = new Map<string, Account>();
  /** USD-M margin, accounting and JSON. */
  readonly desk: FuturesDesk;
  private readonly markets: Map<string, SymbolMarket>;
  private readonly usdmMarkets: Map<string, SymbolMarket>;
  private readonly usdmListener: UserEventListener;
  private nextOrderId = 1;
  private readonly bySimId = new Map<number, ServerOrder>();
  private readonly request = new OrderRequest();
  private readonly sim: SimulatedExchange;
  private readonly clock: TestClock;
  private readonly listener: UserEventListener;
  /** Called for every client fill: the market publishes it as a public trade. */
  private readonly onFill: (m: SymbolMarket, px: number, qty: number, buyerMaker: boolean) => number;

  constructor(
    markets: Map<string, SymbolMarket>,
    sim: SimulatedExchange,
    clock: TestClock,
    listener: UserEventListener,
    onFill: (m: SymbolMarket, px: number, qty: number, buyerMaker: boolean) => number,
    usdm: { markets: Map<string, SymbolMarket>; listener: UserEventListener } = {
      markets: new Map(),
      listener: { onUserEvent: () => {} },
    },
  ) {
    this.markets = markets;
    this.usdmMarkets = usdm.markets;
    this.usdmListener = usdm.listener;
    this.desk = new FuturesDesk(usdm.markets);
    this.sim = sim;
    this.clock = clock;
    this.listener = listener;
    this.onFill = onFill;
    sim.connect(this);
  }

  addAccount(
    apiKey: string,
    secret: string,
    balances: Record<string, number>,
    ed25519?: string,
    usdmWallet = 0,
  ): Account {
    const a = new Account(apiKey, secret, ed25519, Math.round(usdmWallet * 1e8));
    for (const [asset, amount] of Object.entries(balances)) a.balance(asset).free = Math.round(amount * 1e8);
    this.accounts.set(apiKey, a);
    return a;
  }

  /** A spot market by symbol, or with `usdm` the USD-M one; -1121 when unknown. */
  market(symbol: string | undefined, usdm = false): SymbolMarket {
    if (symbol === undefined || symbol === '') throw mandatory('symbol');
    const m = (usdm ? this.usdmMarkets : this.markets).get(symbol);
    if (m === undefined) throw new ApiError(BinanceCode.BAD_SYMBOL, 'Invalid symbol.');
    return m;
  }

  /** Market time in milliseconds: the clock orders and fills are stamped with. */
  nowMs(): number {
    return Math.floor(this.clock.now() / 1000);
  }

  // ---- orders ----------------------------------------------------------------------------------------------

  /** Checks, locks funds, sends to the simulator and returns the order after its synchronous events. */
  place(acc: Account, p: Params, usdm = false): ServerOrder {
    const m = this.market(p.symbol, usdm);
    const side = p.side;
    if (side === undefined || side === '') throw mandatory('side');
    if (!SIDES.has(side)) throw new ApiError(BinanceCode.INVALID_SIDE, 'Invalid side.');
    const type = p.type;
    if (type === undefined || type === '') throw mandatory('type');
    if (!(usdm ? USDM_KNOWN_TYPES : KNOWN_TYPES).has(type)) {
      throw new ApiError(BinanceCode.INVALID_ORDER_TYPE, 'Invalid orderType.');
    }
    if (usdm && !USDM_TYPES.has(type)) {
      // Binance moved USD-M conditional orders to its Algo Order API on 2025-12-09 (not served here).
      throw new ApiError(
        FuturesCode.USE_ALGO_ORDERS,
        'Order type not supported for this endpoint. Please use the Algo Order API endpoints instead.',
      );
    }
    if (!TYPES.has(type)) {
      throw new ApiError(BinanceCode.INVALID_ORDER_TYPE, 'Unsupported order combination');
    }
    const inst = m.inst;
    let tif = p.timeInForce ?? '';
    if (type === 'LIMIT') {
      if (tif === '') throw mandatory('timeInForce');
      if (!(usdm ? USDM_TIFS : TIFS).has(tif))
        throw new ApiError(BinanceCode.INVALID_TIF, 'Invalid timeInForce.');
    } else if (tif !== '' && !usdm) {
      throw new ApiError(BinanceCode.PARAM_NOT_REQUIRED, "Parameter 'timeInForce' sent when not required.");
    } else tif = 'GTC';
    let price = Number.NaN;
    if (type !== 'MARKET') {
      price = this.decimal(p, 'price', (t) => inst.tryPriceToTicks(t), 'PRICE_FILTER');
      if (!(price > 0) || price < inst.minPrice || price > inst.maxPrice) throw filterFailure('PRICE_FILTER');
    } else if (p.price !== undefined) {
      throw new ApiError(BinanceCode.PARAM_NOT_REQUIRED, "Parameter 'price' sent when not required.");
    }
    let qty = 0;
    let quoteOrderQty = 0;
    if (!usdm && type === 'MARKET' && p.quantity === undefined && p.quoteOrderQty !== undefined) {
      const q = p.quoteOrderQty;
      if (!DECIMAL.test(q)) throw illegal('quoteOrderQty', '^([0-9]{1,20})(\\.[0-9]{1,20})?$');
      quoteOrderQty = Math.round(Number(q) * 1e8);
      // Spend the quote amount walking the asks: the largest whole-lot size it pays for.
      qty = this.lotsForQuote(m, quoteOrderQty);
      if (qty <= 0) throw filterFailure('NOTIONAL');
    } else {
      qty = this.decimal(p, 'quantity', (t) => inst.tryQtyToLots(t), 'LOT_SIZE');
      const lo = type === 'MARKET' ? inst.marketMinQty : inst.minQty;
      const hi = type === 'MARKET' ? inst.marketMaxQty : inst.maxQty;
      if (!(qty > 0) || qty < lo || qty > hi) {
        throw filterFailure(type === 'MARKET' ? 'MARKET_LOT_SIZE' : 'LOT_SIZE');
      }
    }
    const refPx = type === 'MARKET' ? (side === 'BUY' ? m.bestAsk() : m.bestBid()) : price;
    if (!usdm && Number.isFinite(refPx) && m.quoteUnits(refPx, qty) < this.minNotional(m)) {
      throw filterFailure('NOTIONAL');
    }
    // A default id from the order number keeps lockstep sessions reproducible (Binance makes a random one).
    const cid = p.newClientOrderId ?? `bot4srv${this.nextOrderId.toString(36)}`;
    if (!CLIENT_ID.test(cid)) throw illegal('newClientOrderId', '^[\\.A-Z\\:/a-z0-9_-]{1,36}$');
    const ids = acc.clientIds(m);
    const prior = ids.get(cid);
    if (prior?.open) {
      if (usdm) throw new ApiError(FuturesCode.DUPLICATE_CLIENT_ID, 'ClientOrderId is duplicated.');
      throw new ApiError(BinanceCode.NEW_ORDER_REJECTED, 'Duplicate order sent.');
    }
    if (usdm) {
      const reduceOnly = p.reduceOnly === 'true';
      if (p.reduceOnly !== undefined && !reduceOnly && p.reduceOnly !== 'false') {
        throw illegal('reduceOnly', 'true|false');
      }
      const margin = this.desk.admit(acc, m, side === 'BUY', qty, refPx, reduceOnly);
      return this.submit(acc, m, cid, side, type, tif, price, qty, 0, margin, reduceOnly);
    }

    // Funds: a buy locks its quote cost (a market buy its cost walking the book, plus 1% for the walk to move),
    // a sell its base quantity. Binance checks the same way: the whole order must be covered when it arrives.
    let lock: number;
    if (side === 'BUY') {
      if (type === 'MARKET') {
        const cost = quoteOrderQty > 0 ? quoteOrderQty : m.costToBuy(qty);
        if (Number.isNaN(cost)) throw new ApiError(BinanceCode.NEW_ORDER_REJECTED, 'Market is closed.');
        lock = cost;
      } else lock = m.quoteUnits(price, qty);
    } else lock = m.baseUnits(qty);
    const bal = acc.balance(side === 'BUY' ? inst.quote.code : inst.base.code);
    if (bal.free < lock) throw insufficientBalance();
    if (side === 'BUY' && type === 'MARKET') lock = Math.min(bal.free, Math.ceil(lock * 1.01));

    bal.free -= lock;
    bal.locked += lock;
    acc.dirty.add(side === 'BUY' ? inst.quote.code : inst.base.code);
    return this.submit(acc, m, cid, side, type, tif, price, qty, quoteOrderQty, lock, false);
  }

  /** Records a checked order holding `held` (spot: locked funds; USD-M: margin) and runs it in the simulator. */
  private submit(
    acc: Account,
    m: SymbolMarket,
    cid: string,
    side: string,
    type: string,
    tif: string,
    price: number,
    qty: number,
    quoteOrderQty: number,
    held: number,
    reduceOnly: boolean,
  ): ServerOrder {
    const inst = m.inst;
    const id = this.nextOrderId++;
    const o = new ServerOrder(acc, m, id, cid, {
      side: side as 'BUY' | 'SELL',
      type: type as 'LIMIT' | 'MARKET' | 'LIMIT_MAKER',
      tif: tif as 'GTC' | 'IOC' | 'FOK' | 'GTX',
      price,
      qty,
      quoteOrderQty,
      time: this.nowMs(),
    });
    if (m.usdm) o.margin = held;
    else o.locked = held;
    o.reduceOnly = reduceOnly;
    const ids = acc.clientIds(m);
    acc.orders.set(id, o);
    ids.set(cid, o);
    this.bySimId.set(id, o);

    const r = this.request.reset();
    r.clientOrderId = cid;
    r.strategyId = 1 as StrategyId;
    r.instrumentId = inst.id as InstrumentId;
    r.side = side === 'BUY' ? OrderSide.BUY : OrderSide.SELL;
    r.type = type === 'MARKET' ? OrderType.MARKET : OrderType.LIMIT;
    r.qty = qty as QtyLots;
    if (type !== 'MARKET') r.price = price as PriceTicks;
    r.tif = tif === 'IOC' ? TimeInForce.IOC : tif === 'FOK' ? TimeInForce.FOK : TimeInForce.GTC;
    r.flags = type === 'LIMIT_MAKER' || tif === 'GTX' ? OrderFlags.POST_ONLY : 0;
    r.tsInit = this.clock.now();
    const simOrder = new Order().init(id as OrderId, r);
    this.sim.submit(simOrder, r.type);
    this.sim.advanceTo(this.clock.now());
    if (o.status === Status.REJECTED) {
      // Binance keeps no record of an order it refused: it is neither queryable nor in allOrders.
      acc.orders.delete(id);
      if (ids.get(cid) === o) ids.delete(cid);
      this.bySimId.delete(id);
      if (tif === 'GTX') {
        throw new ApiError(
          FuturesCode.GTX_WOULD_TAKE,
          'Due to the order could not be executed as maker, the Post Only order will be rejected. The order will not be recorded in the order history',
        );
      }
      const msg =
        type === 'LIMIT_MAKER'
          ? 'Order would immediately match and take.'
          : `Order rejected: ${o.rejectReason}`;
      throw new ApiError(BinanceCode.NEW_ORDER_REJECTED, msg);
    }
    return o;
  }

  /** Cancels by orderId or origClientOrderId; -2011 when no open order matches. */
  cancel(acc: Account, p: Params, usdm = false): ServerOrder {
    const o = this.find(acc, p, usdm);
    if (o === undefined || !o.open) throw unknownOrder();
    const req = this.request.reset();
    req.instrumentId = o.market.inst.id as InstrumentId;
    const simOrder = new Order().init(o.orderId as OrderId, req);
    this.sim.cancel(simOrder);
    this.sim.advanceTo(this.clock.now());
    if (o.open) throw unknownOrder();
    return o;
  }

  /**
   * Cancels an open order and places a new one (POST /api/v3/order/cancelReplace, order.cancelReplace).
   * STOP_ON_FAILURE places nothing when the cancel fails (-2022); ALLOW_FAILURE places anyway. A half done
   * exchange answers -2021 with HTTP 409 and both results in `data`, as Binance does.
   */
  cancelReplace(acc: Account, p: Params): Record<string, unknown> {
    const mode = p.cancelReplaceMode;
    if (mode === undefined || mode === '') throw mandatory('cancelReplaceMode');
    if (mode !== 'STOP_ON_FAILURE' && mode !== 'ALLOW_FAILURE') {
      throw illegal('cancelReplaceMode', 'STOP_ON_FAILURE|ALLOW_FAILURE');
    }
    if (p.cancelOrderId === undefined && p.cancelOrigClientOrderId === undefined) {
      throw new ApiError(
        BinanceCode.MANDATORY_PARAM_EMPTY_OR_MALFORMED,
        "Param 'cancelOrigClientOrderId' or 'cancelOrderId' must be sent, but both were empty/null!",
      );
    }
    const target: Params = { symbol: p.symbol ?? '' };
    if (p.cancelOrderId !== undefined) target.orderId = p.cancelOrderId;
    else target.origClientOrderId = p.cancelOrigClientOrderId!;
    let cancelResponse: Record<string, unknown>;
    let canceled = false;
    try {
      const o = this.cancel(acc, target);
      cancelResponse = cancelJson(o, p.cancelNewClientOrderId ?? `cancel${o.orderId}`);
      canceled = true;
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
      cancelResponse = e.body();
    }
    const result = (cancelResult: string, newOrderResult: string, newOrderResponse: unknown) => ({
      cancelResult,
      newOrderResult,
      cancelResponse,
      newOrderResponse,
    });
    if (!canceled && mode === 'STOP_ON_FAILURE') {
      throw new ApiError(
        BinanceCode.CANCEL_REPLACE_FAILED,
        'Order cancel-replace failed.',
        400,
        0,
        result('FAILURE', 'NOT_ATTEMPTED', null),
      );
    }
    let placed: Record<string, unknown>;
    try {
      placed = placeJson(this.place(acc, p), p.newOrderRespType ?? 'FULL');
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
      if (canceled) {
        throw new ApiError(
          BinanceCode.CANCEL_REPLACE_PARTIAL,
          'Order cancel-replace partially failed.',
          409,
          0,
          result('SUCCESS', 'FAILURE', e.body()),
        );
      }
      throw new ApiError(
        BinanceCode.CANCEL_REPLACE_FAILED,
        'Order cancel-replace failed.',
        400,
        0,
        result('FAILURE', 'FAILURE', e.body()),
      );
    }
    if (!canceled) {
      throw new ApiError(
        BinanceCode.CANCEL_REPLACE_PARTIAL,
        'Order cancel-replace partially failed.',
        409,
        0,
        result('FAILURE', 'SUCCESS', placed),
      );
    }
    return result('SUCCESS', 'SUCCESS', placed);
  }

  /** The order named by orderId or origClientOrderId (any state); -2013 when unknown. */
  query(acc: Account, p: Params, usdm = false): ServerOrder {
    const o = this.find(acc, p, usdm);
    if (o === undefined) throw noSuchOrder();
    return o;
  }

  private find(acc: Account, p: Params, usdm: boolean): ServerOrder | undefined {
    const m = this.market(p.symbol, usdm);
    let o: ServerOrder | undefined;
    if (p.orderId !== undefined) {
      if (!/^[0-9]{1,19}$/.test(p.orderId)) throw illegal('orderId', '^[0-9]{1,19}$');
      o = acc.orders.get(Number(p.orderId));
    } else if (p.origClientOrderId !== undefined) {
      o = acc.clientIds(m).get(p.origClientOrderId);
    } else {
      throw new ApiError(
        BinanceCode.MANDATORY_PARAM_EMPTY_OR_MALFORMED,
        "Param 'origClientOrderId' or 'orderId' must be sent, but both were empty/null!",
      );
    }
    return o !== undefined && o.market === m ? o : undefined;
  }

  openOrders(acc: Account, symbol: string | undefined, usdm = false): ServerOrder[] {
    const m = symbol === undefined ? undefined : this.market(symbol, usdm);
    return [...acc.orders.values()].filter(
      (o) => o.open && o.market.usdm === usdm && (m === undefined || o.market === m),
    );
  }

  private decimal(p: Params, name: string, parse: (t: string) => number, filter: string): number {
    const t = p[name];
    if (t === undefined || t === '') throw mandatory(name);
    if (!DECIMAL.test(t)) throw illegal(name, '^([0-9]{1,20})(\\.[0-9]{1,20})?$');
    const v = parse(t);
    if (!Number.isFinite(v)) throw filterFailure(filter);
    return v;
  }

  minNotional(m: SymbolMarket): number {
    const mn = m.inst.minNotional;
    // Money of the settlement currency at its precision, to 1e-8 units.
    return mn * 10 ** (8 - m.inst.settlement.precision);
  }

  private lotsForQuote(m: SymbolMarket, quote: number): number {
    let left = quote;
    let lots = 0;
    for (const [px, q] of m.levels(false, 5000)) {
      const per = m.quoteUnits(px, 1);
      const take = Math.min(q, Math.floor(left / per));
      lots += take;
      left -= take * per;
      if (take < q) break;
    }
    return lots;
  }

  // ---- events from the simulator -----------------------------------------------------------------------

  onVenueEvent(ev: OrderEvent): void {
    const o = this.bySimId.get(ev.orderId);
    if (o === undefined) return;
    const acc = o.account;
    const m = o.market;
    const now = Math.floor(ev.tsEvent / 1000);
    o.updateTime = now;
    switch (ev.kind) {
      case OrderEventKind.ACCEPTED:
        o.accepted = true;
        this.report(o, 'NEW', null);
        break;
      case OrderEventKind.FILLED: {
        if (!o.accepted) {
          o.accepted = true;
          this.report(o, 'NEW', null);
        }
        const qty = ev.fillQty;
        const px = ev.fillPx;
        const quote = m.quoteUnits(px, qty);
        const maker = ev.liquidity === LiquiditySide.MAKER;
        const buy = o.side === 'BUY';
        let fill: ServerFill;
        if (m.usdm) {
          const { fee, realised } = this.desk.fill(o, qty, quote, maker, now);
          const tradeId = this.onFill(m, px, qty, buy === maker);
          fill = {
            tradeId,
            px,
            qty,
            quote,
            commission: fee,
            commissionAsset: 'USDT',
            maker,
            time: now,
            realised,
          };
        } else fill = this.spotFill(o, px, qty, quote, maker, now);
        o.executed += qty;
        o.cumQuote += quote;
        o.fills.push(fill);
        o.status = o.executed >= o.qty ? Status.FILLED : Status.PARTIALLY_FILLED;
        if (o.status === Status.FILLED) this.release(o);
        this.report(o, 'TRADE', fill);
        break;
      }
      case OrderEventKind.CANCELED:
        o.status = Status.CANCELED;
        this.release(o);
        this.report(o, 'CANCELED', null);
        break;
      case OrderEventKind.EXPIRED:
        o.status = Status.EXPIRED;
        this.release(o);
        this.report(o, 'EXPIRED', null);
        break;
      case OrderEventKind.REJECTED:
        o.status = Status.REJECTED;
        o.rejectReason = ev.reason;
        this.release(o);
        break;
      default:
        break;
    }
    // A closed order gets no more venue events: forget its routing entry (its record stays in the account).
    if (!o.open && o.status !== Status.REJECTED) this.bySimId.delete(o.orderId);
    this.flushBalances(acc);
  }

  /** Spot: commission in the received asset, the spent asset out of the order's lock. */
  private spotFill(
    o: ServerOrder,
    px: number,
    qty: number,
    quote: number,
    maker: boolean,
    now: number,
  ): ServerFill {
    const acc = o.account;
    const m = o.market;
    const rate = maker ? m.inst.makerFee : m.inst.takerFee;
    const base = m.baseUnits(qty);
    const baseAsset = m.inst.base.code;
    const quoteAsset = m.inst.quote.code;
    const buy = o.side === 'BUY';
    const commission = Math.round(((buy ? base : quote) * rate) / FEE_RATE_DENOMINATOR);
    const spent = buy ? quote : base;
    const lockBal = acc.balance(o.lockAsset);
    const fromLock = Math.min(spent, o.locked);
    o.locked -= fromLock;
    lockBal.locked -= fromLock;
    lockBal.free -= spent - fromLock;
    const got = acc.balance(buy ? baseAsset : quoteAsset);
    got.free += (buy ? base : quote) - commission;
    acc.dirty.add(baseAsset);
    acc.dirty.add(quoteAsset);
    const tradeId = this.onFill(m, px, qty, buy === maker);
    return {
      tradeId,
      px,
      qty,
      quote,
      commission,
      commissionAsset: buy ? baseAsset : quoteAsset,
      maker,
      time: now,
      realised: 0,
    };
  }

  private release(o: ServerOrder): void {
    if (o.market.usdm) {
      this.desk.release(o);
      return;
    }
    if (o.locked <= 0) return;
    const b = o.account.balance(o.lockAsset);
    b.locked -= o.locked;
    b.free += o.locked;
    o.locked = 0;
    o.account.dirty.add(o.lockAsset);
  }

  private report(o: ServerOrder, x: string, fill: ServerFill | null): void {
    if (o.market.usdm) {
      this.usdmListener.onUserEvent(o.account, orderTradeUpdate(o, x, fill));
      if (fill !== null) this.usdmListener.onUserEvent(o.account, this.desk.accountUpdate(o, fill.time));
      return;
    }
    this.listener.onUserEvent(o.account, executionReport(o, x, fill));
  }

  /** outboundAccountPosition for the assets that moved. */
  flushBalances(acc: Account): void {
    if (acc.dirty.size === 0) return;
    const B = [...acc.dirty].map((a) => {
      const b = acc.balance(a);
      return { a, f: fmt8(b.free), l: fmt8(b.locked) };
    });
    acc.dirty.clear();
    const now = this.nowMs();
    this.listener.onUserEvent(acc, { e: 'outboundAccountPosition', E: now, u: now, B });
  }
}
