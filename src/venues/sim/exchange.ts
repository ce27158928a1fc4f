// The simulated exchange: a VenueClient matching the strategy's orders against replayed or live market data.
// Invariants: an order is matched only after it arrives (send time + entry latency); events return in the order
// the venue made them; the hot path allocates nothing but optional id strings. Units: ticks, lots, Micros, money.
//
// It serves backtests and paper trading alike: it only reacts to market data and commands as they arrive, on
// exchange time. A runner, for each market-data record at exchange time ts: wakes the venue at each pending
// time before ts (`nextEventTime()`, with Bot4's clock moved there first, so reactions are stamped when they
// happen), calls `onQuote/onTrade/onBookDelta/onMarkPrice/onFundingRate` (the venue advances itself to ts),
// then hands the record to the strategy at `seenAt(ts)`. Paper trading calls the same methods as data arrives,
// and `advanceTo(clock.now())` from a timer. Events carry tsEvent = exchange time, tsInit = delivery time.
//
// Fill models:
// - L1 (quotes only): a marketable order takes the displayed best up to its size, less what our own fills
//   already took there; the remainder keeps taking at the next quotes while marketable (L1Remainder.NEXT_QUOTE,
//   default: a MARKET remainder waits, a LIMIT remainder rests once it is not marketable), or fills at once at
//   best +/- slippageTicks, never beyond the limit (L1Remainder.SLIPPAGE).
// - L2 (once book deltas are seen for the instrument): a marketable order walks the book, one fill per level, so
//   slippage is real; FOK checks full fillability first; a MARKET or IOC remainder expires (EXPIRED, as Binance
//   reports both).
// - Resting (maker) orders, filled at their own price: a trade through the price fills them from the trade's size
//   (the level was cleared: no queue); a trade at the price consumes the queue ahead first; the other side's
//   quote or level reaching the price fills them too (quoteFills, default on): through always, at the price once
//   the queue ahead is gone. Cancels at our level move us up per QueueModel.
// - Our own liquidity is not offered twice: what our fills took at a displayed level stays consumed until the
//   level is deleted; a smaller size caps it, a trade at the level takes it first, a larger size adds only the
//   increase (the new size is new orders behind what we took).

import { Side as BookSide, L2Book } from '../../book/l2-book.ts';
import type { Clock } from '../../core/clock.ts';
import { Bot4Error, ErrorCode } from '../../core/errors.ts';
import type { Micros, OrderId, PriceTicks } from '../../core/units.ts';
import { typeMask, type VenueClient, type VenueEventSink } from '../../execution/venue.ts';
import { OrderEvent } from '../../model/events.ts';
import { type Instrument, InstrumentKind, LiquiditySide } from '../../model/instrument.ts';
import {
  Bar,
  BookDelta,
  DeltaFlag,
  type EventBatch,
  FundingRate,
  MarkPrice,
  Side as MdSide,
  QuoteTick,
  RATE_SCALE,
  RecordKind,
  TradeTick,
} from '../../model/market-data.ts';
import { hasPrice, type Order, OrderFlags, OrderSide, OrderType, TimeInForce } from '../../model/order.ts';
import { OrderEventKind } from '../../model/order-state.ts';
import { type Action, ActionKind, ActionQueue, CommandFifo } from './action-queue.ts';
import { LatencySampler, type LatencySpec } from './latency.ts';
import { Prng } from './rng.ts';
import { type SlippageModel, slipTicks } from './slippage.ts';
import { Consumed, OrderIndex, OrderTable, OwnSide } from './structures.ts';

/** Where the displayed size that leaves a level (cancels, not trades) came from, relative to our order. */
export const QueueModel = {
  /** Every decrease is ahead of us (optimistic). */
  FRONT: 0,
  /** Every decrease is behind us (pessimistic): only trades, or the level shrinking below us, move us up. */
  BEHIND: 1,
  /** A decrease is ahead in proportion to the size ahead: ahead -= floor(decrease * ahead / level). Default. */
  PROPORTIONAL: 2,
  /** The whole decrease is ahead with probability ahead^n / (ahead^n + behind^n) (seeded draw). */
  PROBABILISTIC: 3,
} as const;
export type QueueModel = (typeof QueueModel)[keyof typeof QueueModel];

/** What an L1 (quotes only) marketable order does with the size the best level did not cover. */
export const L1Remainder = {
  /** Keep taking at the next quotes while marketable (a LIMIT remainder rests once it is not). Default. */
  NEXT_QUOTE: 0,
  /** Fill the rest at once at the best price moved `slippageTicks` against us (never beyond the limit). */
  SLIPPAGE: 1,
} as const;
export type L1Remainder = (typeof L1Remainder)[keyof typeof L1Remainder];

/** Reason codes the simulated venue puts on REJECTED / EXPIRED / CANCELED / *_REJECTED events (200..299). */
export const SimReason = {
  UNKNOWN_INSTRUMENT: 201,
  UNSUPPORTED_TYPE: 202,
  POST_ONLY_WOULD_TAKE: 203,
  REDUCE_ONLY_WOULD_INCREASE: 204,
  EXPIRE_TIME_PASSED: 205,
  STOP_WOULD_TRIGGER: 206,
  FOK_NOT_FILLABLE: 207,
  IOC_REMAINDER: 208,
  NO_LIQUIDITY: 209,
  EXPIRED: 210,
  REDUCE_ONLY_POSITION_CLOSED: 211,
  ORDER_NOT_OPEN: 212,
  MODIFY_INVALID: 213,
  LIQUIDATION: 214,
  DUPLICATE_ORDER_ID: 215,
} as const;
export type SimReason = (typeof SimReason)[keyof typeof SimReason];

/** Indexed by code - 200: an array read, not a keyed lookup, when an event is delivered. */
const REASON_TEXT: readonly string[] = [
  '',
  'unknown instrument on this venue',
  'order type not supported natively by this venue',
  'post-only order would take liquidity (it crosses the best price on the other side)',
  'reduce-only order would increase the position (or the position is flat)',
  'GTD expire time is not after the time the order reached the venue',
  'stop order would trigger immediately',
  'FOK order cannot be filled in full',
  'IOC remainder expired',
  'market order remainder expired: no more liquidity',
  'order expired (GTD/DAY)',
  'reduce-only remainder expired: the position is closed',
  'order is not open on the venue (unknown, filled or already closed)',
  'amendment invalid (quantity not above the filled quantity, market order, or post-only would take)',
  'cancelled by the venue: position liquidated',
  'duplicate order id: an order with this id is already open on the venue',
];

export function simReasonText(code: number): string {
  return REASON_TEXT[code - 200] ?? `simulated venue reason ${code}`;
}

/** Isolated-margin parameters (fractions of notional): liquidation when equity < maintenance. */
export interface MarginSpec {
  /** Initial margin rate, e.g. 0.1 for 10x leverage. */
  readonly initial: number;
  /** Maintenance margin rate, e.g. 0.005. Must be below `initial`. */
  readonly maintenance: number;
}

export interface SimulatedExchangeOptions {
  /** Venue name (VenueClient.name, prefix of trade ids). Default 'SIM'. */
  name?: string;
  /** Bot4's clock: stamps when a command left the strategy (arrival = now + entry latency). */
  clock: Clock;
  /** Instruments this venue trades (their ids index its books). */
  instruments: Iterable<Instrument>;
  /** Where order events go (usually the ExecutionEngine); may be set later with connect(). */
  sink?: VenueEventSink;
  /** Order types matched natively: MARKET and LIMIT always, optionally STOP_MARKET and STOP_LIMIT. Default
   * MARKET|LIMIT, so the engine's emulator handles stops exactly as it does for a live venue. */
  nativeTypes?: number;
  /** Seed of every random model (latency samples, probabilistic queue). Default 1. */
  seed?: number;
  latency?: {
    /** Strategy -> matching engine. Default 0. */
    orderEntry?: LatencySpec;
    /** Matching engine -> strategy (order events, funding and liquidation notices). Default 0. */
    response?: LatencySpec;
    /** Exchange -> strategy for market data; only sampled by seenAt() for the runner. Default 0. */
    marketData?: LatencySpec;
  };
  /** Cancels at our level: where they come from. Default PROPORTIONAL. */
  queueModel?: QueueModel;
  /** Exponent n of QueueModel.PROBABILISTIC. Default 2. */
  queuePower?: number;
  /** Fill resting orders when the other side's quote/level reaches their price (not only on trades). Default true. */
  quoteFills?: boolean;
  l1Remainder?: L1Remainder;
  /** Slippage of L1Remainder.SLIPPAGE and of L1 liquidations, ticks. Default 1. */
  slippageTicks?: number;
  /** A fixed fee per fill in settlement money units instead of the instrument's maker/taker rates. */
  fixedFeePerFill?: number;
  /** Slippage of taker fills on quote (L1) and bar data (src/venues/sim/slippage.ts); none when absent. */
  slippageModel?: SlippageModel;
  /** Put a venue order id string on ACCEPTED and FILLED events (one string per order). Default true. */
  venueOrderIds?: boolean;
  /** Put a trade id string on FILLED events (one string per fill). Default true. */
  tradeIds?: boolean;
  /** Funding interval and offset from midnight UTC, micros. Default 8 h and 0 (00:00, 08:00, 16:00 UTC). */
  fundingIntervalMicros?: number;
  fundingOffsetMicros?: number;
  /** Called at each funding time (after response latency) for each perpetual with a known rate. */
  onFunding?: (instrumentId: number, rate: number, markPx: number, ts: Micros) => void;
  /** Isolated margin for perpetuals and futures; no margin model (and no liquidation) when absent. */
  margin?: MarginSpec;
  /** Called (after response latency) for each fill of a liquidation (side of the liquidation order). */
  onLiquidation?: (
    instrumentId: number,
    side: OrderSide,
    qty: number,
    px: number,
    fee: number,
    ts: Micros,
  ) => void;
  /** Initial order-record and action-pool capacity (both grow, rarely). Default 1024. */
  capacity?: number;
}

/** Counters for reports and tests. */
export class SimStats {
  orders = 0;
  accepted = 0;
  rejected = 0;
  fills = 0;
  makerFills = 0;
  takerFills = 0;
  canceled = 0;
  expired = 0;
  modified = 0;
  cancelRejected = 0;
  modifyRejected = 0;
  liquidations = 0;
  fundings = 0;
  delivered = 0;
  /** Taker fills the slippage model moved, and the ticks it moved them in all. */
  slippedFills = 0;
  slippageTicks = 0;
  /** Taker fills the model could not price (spread model without a spread, impact without a volume). */
  unpricedSlippage = 0;
}

// Order record states.
const FREE = 0;
const INFLIGHT = 1;
/** L1 only: a marketable remainder that takes at the next quotes. */
const TAKING = 2;
const RESTING = 3;
/** A native stop waiting for its trigger. */
const STOP = 4;

const DAY_MICROS = 86_400_000_000;
const EIGHT_HOURS = 8 * 3_600_000_000;
/** Size shown at each point of a bar's path: bars carry no depth, so orders fill in full. */
const BAR_DEPTH = 2 ** 52;
const E = OrderEventKind;

/** One instrument's market state at this venue. */
class Market {
  readonly inst: Instrument;
  readonly feeCurrencyId: number;
  readonly perpetual: boolean;
  readonly marginOn: boolean;
  hasL2 = false;
  /** Quotes, trades or deltas were seen: bars (derived or recorded) then never move prices here. */
  ticks = false;
  book: L2Book | null = null;
  /** Deltas come in groups ending in DeltaFlag.LAST: match crossings at group ends only. */
  groups = false;
  crossPending = false;
  bidPx = Number.NaN;
  bidQty = 0;
  askPx = Number.NaN;
  askQty = 0;
  lastPx = Number.NaN;
  markPx = Number.NaN;
  fundingRate = 0;
  hasRate = false;
  readonly cBid = new Consumed();
  readonly cAsk = new Consumed();
  readonly buys = new OwnSide(1);
  readonly sells = new OwnSide(-1);
  taking: Int32Array = new Int32Array(8);
  takingN = 0;
  stops: Int32Array = new Int32Array(8);
  stopsN = 0;
  /** Net position in lots (one-way mode), entry value (money, unsigned) and isolated margin (money). */
  position = 0;
  entryValue = 0;
  margin = 0;
  /** Volume of the bar being matched (lots), for the impact slippage model. */
  barVolume = 0;
  /** Slippage paid on this instrument's fills, settlement money units (|value moved|). */
  slippageCost = 0;

  constructor(inst: Instrument, marginOn: boolean) {
    this.inst = inst;
    this.feeCurrencyId = inst.settlement.id;
    this.perpetual = inst.kind === InstrumentKind.PERPETUAL;
    this.marginOn = marginOn && inst.kind !== InstrumentKind.SPOT;
  }
}

const SUPPORTED_NATIVE = typeMask(
  OrderType.MARKET,
  OrderType.LIMIT,
  OrderType.STOP_MARKET,
  OrderType.STOP_LIMIT,
);
export const SIM_DEFAULT_TYPES = typeMask(OrderType.MARKET, OrderType.LIMIT);

export class SimulatedExchange implements VenueClient {
  readonly name: string;
  /**
   * MARKET and LIMIT (or what the options give); stops are added at the first bar of a market without
   * ticks unless the options set the types: the engine's emulator triggers held stops on quotes and trades,
   * which bar-only data has none of, while this venue's bar path (open, low, high, close) triggers them.
   */
  nativeTypes: number;
  private readonly typesGiven: boolean;
  readonly stats = new SimStats();
  private sink: VenueEventSink | null = null;
  private readonly clock: Clock;
  private readonly latIn: LatencySampler;
  private readonly latOut: LatencySampler;
  private readonly latMd: LatencySampler;
  private readonly queueRng: Prng;
  private readonly queueModel: QueueModel;
  private readonly queuePower: number;
  private readonly quoteFills: boolean;
  private readonly l1Remainder: L1Remainder;
  private readonly slippage: number;
  private readonly fixedFee: number;
  private readonly slipModel: SlippageModel | null;
  private readonly venueIds: boolean;
  private readonly tradeIds: boolean;
  private readonly tradePrefix: string;
  private readonly fundingInterval: number;
  private readonly fundingOffset: number;
  private readonly onFunding: ((id: number, rate: number, px: number, ts: Micros) => void) | null;
  private readonly onLiquidation:
    | ((id: number, side: OrderSide, qty: number, px: number, fee: number, ts: Micros) => void)
    | null;
  private readonly imr: number;
  private readonly mmr: number;
  private readonly markets: (Market | undefined)[] = [];
  private readonly marketList: Market[] = [];
  /** The venue's order records (slot-indexed columns); `o` below is always a slot. */
  private readonly ord = new OrderTable();
  private freeSlots: Int32Array = new Int32Array(0);
  private freeN = 0;
  private readonly index: OrderIndex;
  private readonly queue: ActionQueue;
  /** Commands on their way in (arrival times never decrease), merged with the queue by (time, seq). */
  private readonly cmds = new CommandFifo();
  /** Exchange time, micros: never goes back. */
  private now = 0;
  private lastArrival = Number.NEGATIVE_INFINITY;
  private lastDelivery = Number.NEGATIVE_INFINITY;
  private lastSeen = Number.NEGATIVE_INFINITY;
  private running = false;
  private runTarget = 0;
  private nextFunding = Number.NaN;
  /** Some perpetual has a funding listener or a margin model to pay into. */
  private readonly fundingOn: boolean;
  private readonly events: OrderEvent[] = [new OrderEvent(), new OrderEvent(), new OrderEvent()];
  private depth = 0;
  private scratchPx = new Float64Array(64);
  private scratchQty = new Float64Array(64);
  private venueSeq = 0;
  private tradeSeq = 0;
  private liquidating = false;
  /** Response latency is a constant 0: events may skip the queue when nothing is in flight. */
  private readonly outZero: boolean;
  /** Response-stream records waiting in the queue. */
  private pendingOut = 0;
  // Scratch records for onBatchRow.
  private readonly rq = new QuoteTick();
  private readonly rt = new TradeTick();
  private readonly rd = new BookDelta();
  private readonly rm = new MarkPrice();
  private readonly rf = new FundingRate();
  private readonly rb = new Bar();

  constructor(options: SimulatedExchangeOptions) {
    this.name = options.name ?? 'SIM';
    this.clock = options.clock;
    const types = options.nativeTypes ?? SIM_DEFAULT_TYPES;
    if ((types & SIM_DEFAULT_TYPES) !== SIM_DEFAULT_TYPES || (types & ~SUPPORTED_NATIVE) !== 0) {
      throw new Bot4Error(
        ErrorCode.CONFIG_INVALID,
        `simulated venue ${this.name}: nativeTypes ${types} must include MARKET and LIMIT and may add only STOP_MARKET and STOP_LIMIT (the engine emulates the others)`,
        { nativeTypes: types },
      );
    }
    this.nativeTypes = types;
    this.typesGiven = options.nativeTypes !== undefined;
    const seed = options.seed ?? 1;
    const lat = options.latency ?? {};
    this.latIn = new LatencySampler(lat.orderEntry ?? 0, seed, 1, 'orderEntry');
    this.latOut = new LatencySampler(lat.response ?? 0, seed, 2, 'response');
    this.latMd = new LatencySampler(lat.marketData ?? 0, seed, 3, 'marketData');
    this.outZero = this.latOut.isConstant && this.latOut.median === 0;
    this.queueRng = new Prng(seed, 4);
    this.queueModel = options.queueModel ?? QueueModel.PROPORTIONAL;
    if (this.queueModel < 0 || this.queueModel > 3 || !Number.isInteger(this.queueModel)) {
      throw new Bot4Error(
        ErrorCode.CONFIG_INVALID,
        `queueModel ${this.queueModel} is not a QueueModel (0..3)`,
      );
    }
    this.queuePower = options.queuePower ?? 2;
    this.quoteFills = options.quoteFills ?? true;
    this.l1Remainder = options.l1Remainder ?? L1Remainder.NEXT_QUOTE;
    this.slippage = options.slippageTicks ?? 1;
    if (!Number.isInteger(this.slippage) || this.slippage < 0) {
      throw new Bot4Error(
        ErrorCode.CONFIG_INVALID,
        `slippageTicks ${this.slippage} must be a whole number >= 0`,
      );
    }
    this.fixedFee = options.fixedFeePerFill ?? Number.NaN;
    this.slipModel = options.slippageModel ?? null;
    this.venueIds = options.venueOrderIds ?? true;
    this.tradeIds = options.tradeIds ?? true;
    this.tradePrefix = `${this.name}-`;
    this.fundingInterval = options.fundingIntervalMicros ?? EIGHT_HOURS;
    this.fundingOffset = options.fundingOffsetMicros ?? 0;
    if (!(this.fundingInterval > 0)) {
      throw new Bot4Error(ErrorCode.CONFIG_INVALID, `fundingIntervalMicros must be > 0`);
    }
    this.onFunding = options.onFunding ?? null;
    this.onLiquidation = options.onLiquidation ?? null;
    const mg = options.margin;
    if (
      mg !== undefined &&
      !(mg.initial > 0 && mg.initial <= 1 && mg.maintenance >= 0 && mg.maintenance < mg.initial)
    ) {
      throw new Bot4Error(
        ErrorCode.CONFIG_INVALID,
        `margin rates must satisfy 0 <= maintenance (${mg.maintenance}) < initial (${mg.initial}) <= 1`,
        { margin: mg },
      );
    }
    this.imr = mg?.initial ?? 0;
    this.mmr = mg?.maintenance ?? 0;
    for (const inst of options.instruments) {
      while (this.markets.length <= inst.id) this.markets.push(undefined);
      const m = new Market(inst, mg !== undefined);
      this.markets[inst.id] = m;
      this.marketList.push(m);
    }
    let perp = false;
    for (const m of this.marketList) perp ||= m.perpetual;
    this.fundingOn = perp && (this.onFunding !== null || mg !== undefined);
    const cap = Math.max(16, options.capacity ?? 1024);
    this.freeSlots = new Int32Array(cap);
    this.addSlots(cap);
    // The index grows with the live orders; a small table stays in cache.
    // (and the direct front serves most ids without hashing: 16k cells, 192 KB).
    this.index = new OrderIndex(Math.min(cap, 1024), 1 << 14);
    this.queue = new ActionQueue(cap);
    this.now = this.clock.now();
    if (options.sink !== undefined) this.sink = options.sink;
  }

  /** Sets where order events go (the ExecutionEngine). */
  connect(sink: VenueEventSink): void {
    this.sink = sink;
  }

  // ---- VenueClient: commands from the engine --------------------------------------------------------------

  submit(order: Order, asType: OrderType): void {
    const ord = this.ord;
    this.requireSink();
    const o = this.acquireSlot();
    ord.state[o] = INFLIGHT;
    ord.orderId[o] = order.id;
    ord.instrumentId[o] = order.instrumentId;
    ord.side[o] = order.side;
    ord.dir[o] = order.side === OrderSide.BUY ? 1 : -1;
    ord.type[o] = asType;
    ord.price[o] = asType === OrderType.MARKET || asType === OrderType.STOP_MARKET ? Number.NaN : order.price;
    ord.trigger[o] = order.triggerPrice;
    ord.tif[o] = order.tif;
    ord.expireTime[o] = order.expireTime;
    ord.flags[o] = order.flags;
    ord.display[o] = order.displayQty;
    ord.qty[o] = order.qty;
    ord.filled[o] = order.filledQty;
    ord.visible[o] = 0;
    ord.queueAhead[o] = 0;
    ord.levelQty[o] = 0;
    ord.prev[o] = -1;
    ord.next[o] = -1;
    ord.level[o] = -1;
    ord.venueOrderId[o] = '';
    this.stats.orders++;
    const c = this.command(ActionKind.ARRIVE, order.id);
    this.cmds.slot[c] = o;
    this.cmds.gen[c] = ord.gen[o]!;
  }

  modify(order: Order, qty: number, price: number, triggerPrice: number): void {
    this.requireSink();
    const c = this.command(ActionKind.MODIFY, order.id);
    this.cmds.qty[c] = qty;
    this.cmds.px[c] = price;
    this.cmds.trigger[c] = triggerPrice;
  }

  cancel(order: Order): void {
    this.requireSink();
    this.command(ActionKind.CANCEL, order.id);
  }

  /** Queues a command at its arrival time; returns its FIFO index for the kind's other fields. */
  private command(kind: ActionKind, orderId: number): number {
    const t = this.arrivalTime();
    return this.cmds.push(kind, orderId, t, this.queue.takeSeq());
  }

  // ---- time --------------------------------------------------------------------------------------------------

  /**
   * Lets everything due at or before `t` happen, in time order: orders and cancels arriving, expiries,
   * funding, events reaching the engine. Re-entrant calls (from an event handler) extend the running pass.
   */
  advanceTo(t: Micros | number): void {
    this.run(t);
  }

  /** Exchange time (micros): the latest of market data and advanceTo seen. */
  get time(): Micros {
    return this.now as Micros;
  }

  /** When the next pending action happens (order arrival, event delivery, expiry...), +Infinity if none. */
  nextEventTime(): number {
    const q = this.peekTime();
    const f = this.nextFunding;
    return !Number.isNaN(f) && f < q ? f : q;
  }

  get pendingActions(): number {
    return this.queue.size + this.cmds.size;
  }

  /**
   * When the strategy sees a market-data record of exchange time `tsEvent`: tsEvent + market-data latency,
   * never earlier than the previous record (one feed connection delivers in order). For the runner.
   */
  seenAt(tsEvent: Micros | number): Micros {
    let t = tsEvent + this.latMd.sample();
    if (t < this.lastSeen) t = this.lastSeen;
    this.lastSeen = t;
    return t as Micros;
  }

  // ---- market data ---------------------------------------------------------------------------------------

  onQuote(q: QuoteTick): void {
    const m = this.markets[q.instrumentId];
    this.runTo(q.tsEvent);
    if (m === undefined) return;
    m.ticks = true;
    this.enter();
    const bidChanged = q.bidPx !== m.bidPx || q.bidQty !== m.bidQty;
    const askChanged = q.askPx !== m.askPx || q.askQty !== m.askQty;
    if (!m.hasL2) {
      // L1 tracks consumption at the best only: a new best price starts afresh, a new size caps it.
      if (q.bidPx !== m.bidPx) m.cBid.clear();
      else if (bidChanged) m.cBid.cap(q.bidPx, q.bidQty);
      if (q.askPx !== m.askPx) m.cAsk.clear();
      else if (askChanged) m.cAsk.cap(q.askPx, q.askQty);
    }
    m.bidPx = q.bidPx;
    m.bidQty = q.bidQty;
    m.askPx = q.askPx;
    m.askQty = q.askQty;
    if (!m.hasL2) {
      if (bidChanged && m.buys.count > 0) this.quoteOwnSide(m.buys, q.bidPx, q.bidQty);
      if (askChanged && m.sells.count > 0) this.quoteOwnSide(m.sells, q.askPx, q.askQty);
      if (m.takingN > 0) this.takeAgain(m);
      if (this.quoteFills) {
        if (m.buys.count > 0 && m.askPx <= m.buys.best()) this.crossL1(m, true);
        if (m.sells.count > 0 && m.bidPx >= m.sells.best()) this.crossL1(m, false);
      }
    }
    if (m.stopsN > 0) this.checkStops(m, q.askPx, q.bidPx);
    this.afterMarket(m);
    this.leave();
  }

  onTrade(t: TradeTick): void {
    const m = this.markets[t.instrumentId];
    this.runTo(t.tsEvent);
    if (m === undefined) return;
    m.ticks = true;
    this.enter();
    const px = t.px;
    const x = t.qty;
    m.lastPx = px;
    const agg = t.aggressor;
    if (agg !== MdSide.SELL) m.cAsk.traded(px, x);
    if (agg !== MdSide.BUY) m.cBid.traded(px, x);
    let budget: number = x;
    // The aggressor sold into bids (our buys) or bought from asks (our sells); unknown: whichever side fits.
    if (agg !== MdSide.BUY && m.buys.count > 0 && m.buys.best() >= px)
      budget = this.tradeFills(m, m.buys, px, x, budget);
    if (agg !== MdSide.SELL && m.sells.count > 0 && m.sells.best() <= px)
      this.tradeFills(m, m.sells, px, x, budget);
    if (m.stopsN > 0) this.checkStops(m, px, px);
    this.afterMarket(m);
    this.leave();
  }

  onBookDelta(d: BookDelta): void {
    const m = this.markets[d.instrumentId];
    this.runTo(d.tsEvent);
    if (m === undefined) return;
    m.ticks = true;
    this.enter();
    if (!m.hasL2) this.enableL2(m);
    const book = m.book!;
    const flags = d.flags;
    if ((flags & DeltaFlag.LAST) !== 0) m.groups = true;
    if ((flags & DeltaFlag.CLEAR) !== 0) {
      book.clear();
      m.cBid.clear();
      m.cAsk.clear();
    }
    const bid = d.side === MdSide.BUY;
    const px = d.px;
    const qty = d.qty;
    book.set(bid ? BookSide.BID : BookSide.ASK, px, qty);
    (bid ? m.cBid : m.cAsk).cap(px, qty);
    const own = bid ? m.buys : m.sells;
    if (own.count > 0) {
      const id = own.level(px);
      if (id >= 0) this.levelUpdate(own, id, qty);
    }
    if (qty > 0 && this.quoteFills) {
      const opp = bid ? m.sells : m.buys;
      if (opp.count > 0 && (bid ? px >= opp.best() : px <= opp.best())) m.crossPending = true;
    }
    if (m.groups && (flags & DeltaFlag.LAST) === 0) {
      this.leave();
      return;
    }
    if (m.crossPending) {
      m.crossPending = false;
      if (m.buys.count > 0) this.crossL2(m, true);
      if (m.sells.count > 0) this.crossL2(m, false);
    }
    if (m.takingN > 0) this.takeAgain(m);
    if (m.stopsN > 0) this.checkStops(m, book.bestAsk(), book.bestBid());
    this.afterMarket(m);
    this.leave();
  }

  /** Mark price (liquidation checks and funding use it; without it, the mid). */
  onMarkPrice(mp: MarkPrice): void {
    const m = this.markets[mp.instrumentId];
    this.run(mp.tsEvent);
    if (m === undefined) return;
    this.enter();
    m.markPx = mp.px;
    this.afterMarket(m);
    this.leave();
  }

  /** The rate the next funding payment will use (1e-8 units). */
  onFundingRate(fr: FundingRate): void {
    const m = this.markets[fr.instrumentId];
    this.run(fr.tsEvent);
    if (m === undefined) return;
    m.fundingRate = fr.rate;
    m.hasRate = true;
    this.run(this.now);
  }

  /**
   * A bar, for markets that only have bars (candle files); ignored once quotes, trades or deltas were seen.
   * Bars carry no intra-bar times or depth, so the model is simple and never looks ahead: every order working
   * when the bar arrives (it arrived at or before the bar's close) sees the path open -> low -> high -> close
   * with unlimited size. Waiting market orders (and marketable limits) fill at the open; resting limits fill at
   * their own price when the range goes through it (a touch is not enough: the queue ahead is unknown); native
   * stops that fire fill at the open on a gap, else at the extreme (worst case). After the bar no price is
   * displayed, so an order sent on a bar's close waits for the next bar's open: fills are stamped with the bar's
   * close time, the time the venue learns of them.
   */
  onBar(bar: Bar): void {
    const m = this.markets[bar.instrumentId];
    this.runTo(bar.tsClose);
    if (m === undefined || m.ticks) return;
    if (!this.typesGiven) this.nativeTypes = SUPPORTED_NATIVE;
    m.lastPx = bar.close;
    if (m.takingN === 0 && m.buys.count === 0 && m.sells.count === 0 && m.stopsN === 0) return;
    this.enter();
    m.cBid.clear();
    m.cAsk.clear();
    m.barVolume = bar.volume;
    this.barPoint(m, bar.open, true);
    this.barPoint(m, bar.low, false);
    this.barPoint(m, bar.high, false);
    m.bidPx = Number.NaN;
    m.askPx = Number.NaN;
    m.bidQty = 0;
    m.askQty = 0;
    this.afterMarket(m);
    this.leave();
  }

  /** One point of a bar's path shown as a locked quote of unlimited size (see onBar). */
  private barPoint(m: Market, px: number, open: boolean): void {
    m.bidPx = px;
    m.askPx = px;
    m.bidQty = BAR_DEPTH;
    m.askQty = BAR_DEPTH;
    if (open && m.takingN > 0) this.takeAgain(m);
    if (m.buys.count > 0 && px < m.buys.best()) this.crossL1(m, true);
    if (m.sells.count > 0 && px > m.sells.best()) this.crossL1(m, false);
    if (m.stopsN > 0) this.checkStops(m, px, px);
  }

  /** Replays row i of a columnar batch (quotes, trades, deltas, bars, marks, funding rates). */
  onBatchRow(b: EventBatch, i: number): void {
    switch (b.kind[i]) {
      case RecordKind.BAR:
        this.onBar(b.readBar(i, this.rb));
        break;
      case RecordKind.QUOTE:
        this.onQuote(b.readQuote(i, this.rq));
        break;
      case RecordKind.TRADE:
        this.onTrade(b.readTrade(i, this.rt));
        break;
      case RecordKind.DELTA:
        this.onBookDelta(b.readDelta(i, this.rd));
        break;
      case RecordKind.MARK_PRICE:
        this.onMarkPrice(b.readMark(i, this.rm));
        break;
      case RecordKind.FUNDING_RATE:
        this.onFundingRate(b.readFunding(i, this.rf));
        break;
      default:
        break;
    }
  }

  // ---- inspection (tests, reports) -----------------------------------------------------------------------

  /** Net position in lots as the venue sees it. */
  position(instrumentId: number): number {
    return this.markets[instrumentId]?.position ?? 0;
  }

  /** Isolated margin held for the position, settlement money units (0 without a margin model). */
  margin(instrumentId: number): number {
    return this.markets[instrumentId]?.margin ?? 0;
  }

  /** The L2 book of an instrument, or null while only quotes were seen. */
  book(instrumentId: number): L2Book | null {
    const m = this.markets[instrumentId];
    return m?.hasL2 ? m.book : null;
  }

  /**
   * Keeps the venue's L2 view of an instrument in `book`, e.g. the data engine's book that strategies read, so
   * one book serves matching and strategies instead of two identical copies. From then on the venue applies the
   * instrument's deltas to it (CLEAR included): the caller must not. Call before the first delta.
   */
  useBook(instrumentId: number, book: L2Book): void {
    const m = this.markets[instrumentId];
    if (m === undefined || m.hasL2) {
      throw new Bot4Error(
        ErrorCode.INVALID_ARGUMENT,
        `simulated venue ${this.name}: useBook(${instrumentId}) needs an instrument of this venue that has seen no book delta yet`,
        { instrumentId },
      );
    }
    m.book = book;
  }

  /** Displayed size ahead of a resting order (-1 unknown), NaN when the order is not resting here. */
  queueAhead(orderId: OrderId | number): number {
    const ord = this.ord;
    const o = this.index.get(orderId);
    if (o < 0 || ord.orderId[o]! !== orderId || ord.state[o]! !== RESTING) return Number.NaN;
    const m = this.markets[ord.instrumentId[o]!]!;
    const own = ord.dir[o]! > 0 ? m.buys : m.sells;
    // A cleared order (levelUpdate) has nothing ahead until a walk writes its record.
    return ord.epoch[o]! !== own.epochs[ord.level[o]!]! ? 0 : ord.queueAhead[o]!;
  }

  /** Orders working on the venue (arrived and not closed), all instruments. */
  get openOrders(): number {
    const ord = this.ord;
    let n = 0;
    for (let i = 0; i < ord.capacity; i++) {
      const st = ord.state[i]!;
      if (st === RESTING || st === TAKING || st === STOP) n++;
    }
    return n;
  }

  // ---- the time-ordered loop ---------------------------------------------------------------------------------

  /**
   * run(t) with its usual case on market data inline (nothing due by t: only the time moves), so the hot
   * handlers make no call and box no time for it.
   */
  private runTo(t: number): void {
    if (!this.running && this.queue.peekTime() > t && this.cmds.peekTime() > t) {
      const f = this.nextFunding;
      if (Number.isNaN(f) ? !this.fundingOn : f > t) {
        if (t > this.now) this.now = t;
        return;
      }
    }
    this.run(t);
  }

  private run(t: number): void {
    if (this.running) {
      if (t > this.runTarget) this.runTarget = t;
      return;
    }
    this.running = true;
    this.runTarget = t;
    const q = this.queue;
    const cmds = this.cmds;
    if (this.fundingOn && Number.isNaN(this.nextFunding)) this.initFunding();
    for (;;) {
      const top = q.peekTime();
      const ct = cmds.peekTime();
      const f = this.nextFunding;
      if (!Number.isNaN(f) && f <= this.runTarget && f <= top && f <= ct) {
        if (f > this.now) this.now = f;
        this.funding(f);
        continue;
      }
      if (ct < top || (ct === top && ct !== Number.POSITIVE_INFINITY && cmds.seq[cmds.head]! < q.peekSeq())) {
        if (ct > this.runTarget) break;
        if (ct > this.now) this.now = ct;
        this.commandArrived();
        continue;
      }
      if (top > this.runTarget) break;
      const a = q.pop();
      if (a.time > this.now) this.now = a.time;
      if (a.kind >= ActionKind.DELIVER && a.kind !== ActionKind.EXPIRE) this.pendingOut--;
      this.dispatch(a);
      q.release(a);
    }
    if (this.runTarget > this.now) this.now = this.runTarget;
    this.running = false;
  }

  /** The oldest command reaches the matching engine (taken off the FIFO first: it may grow meanwhile). */
  private commandArrived(): void {
    const cmds = this.cmds;
    const h = cmds.head;
    const kind = cmds.kind[h]!;
    const orderId = cmds.orderId[h]!;
    if (kind === ActionKind.ARRIVE) {
      const o = cmds.slot[h]!;
      const gen = cmds.gen[h]!;
      cmds.shift();
      if (this.ord.gen[o]! === gen && this.ord.state[o]! === INFLIGHT) this.arrive(o);
    } else if (kind === ActionKind.CANCEL) {
      cmds.shift();
      this.cancelArrived(orderId);
    } else {
      const qty = cmds.qty[h]!;
      const px = cmds.px[h]!;
      const trigger = cmds.trigger[h]!;
      cmds.shift();
      this.modifyArrived(orderId, qty, px, trigger);
    }
  }

  /** When the earliest queued action or command happens, +Infinity when none. */
  private peekTime(): number {
    return Math.min(this.queue.peekTime(), this.cmds.peekTime());
  }

  private dispatch(a: Action): void {
    const ord = this.ord;
    switch (a.kind) {
      case ActionKind.DELIVER:
        this.deliver(a);
        break;
      case ActionKind.EXPIRE: {
        const o = a.slot;
        if (ord.gen[o]! === a.gen && ord.state[o]! > INFLIGHT) {
          this.stats.expired++;
          this.close(o, E.EXPIRED, SimReason.EXPIRED);
        }
        break;
      }
      case ActionKind.FUNDING:
        this.onFunding?.(a.instrumentId, a.rate, a.px, a.tsEvent as Micros);
        break;
      case ActionKind.LIQUIDATION:
        this.onLiquidation?.(a.instrumentId, a.side as OrderSide, a.qty, a.px, a.fee, a.tsEvent as Micros);
        break;
      default:
        break;
    }
  }

  // ---- commands reaching the matching engine -------------------------------------------------------------

  private arrive(o: number): void {
    const ord = this.ord;
    const m = this.markets[ord.instrumentId[o]!];
    if (m === undefined) {
      this.reject(o, SimReason.UNKNOWN_INSTRUMENT);
      return;
    }
    const t = ord.type[o]!;
    if (t !== OrderType.MARKET && t !== OrderType.LIMIT && (this.nativeTypes & (1 << t)) === 0) {
      this.reject(o, SimReason.UNSUPPORTED_TYPE);
      return;
    }
    if (this.index.add(ord.orderId[o]!, o) >= 0) {
      this.reject(o, SimReason.DUPLICATE_ORDER_ID);
      return;
    }
    if ((ord.flags[o]! & OrderFlags.REDUCE_ONLY) !== 0 && m.position * ord.dir[o]! >= 0) {
      this.reject(o, SimReason.REDUCE_ONLY_WOULD_INCREASE);
      return;
    }
    if (ord.tif[o]! === TimeInForce.GTD && ord.expireTime[o]! <= this.now) {
      this.reject(o, SimReason.EXPIRE_TIME_PASSED);
      return;
    }
    const isLimit = t === OrderType.LIMIT || t === OrderType.STOP_LIMIT;
    if (
      isLimit &&
      t === OrderType.LIMIT &&
      (ord.flags[o]! & OrderFlags.POST_ONLY) !== 0 &&
      this.marketable(m, o)
    ) {
      this.reject(o, SimReason.POST_ONLY_WOULD_TAKE);
      return;
    }
    const isStop = t === OrderType.STOP_MARKET || t === OrderType.STOP_LIMIT;
    if (isStop && this.stopFires(m, o, Number.NaN)) {
      this.reject(o, SimReason.STOP_WOULD_TRIGGER);
      return;
    }
    this.stats.accepted++;
    if (this.venueIds) ord.venueOrderId[o] = String(++this.venueSeq);
    this.emit(ord.orderId[o]!, E.ACCEPTED, ord.venueOrderId[o]!, 0);
    if (ord.tif[o]! === TimeInForce.GTD) this.scheduleExpiry(o, ord.expireTime[o]!);
    else if (ord.tif[o]! === TimeInForce.DAY)
      this.scheduleExpiry(o, (Math.floor(this.now / DAY_MICROS) + 1) * DAY_MICROS);
    if (isStop) {
      ord.state[o] = STOP;
      m.stops = pushSlot(m.stops, m.stopsN++, o);
      return;
    }
    if (ord.tif[o]! === TimeInForce.FOK && !this.fillable(m, o)) {
      this.stats.expired++;
      this.close(o, E.EXPIRED, SimReason.FOK_NOT_FILLABLE);
      return;
    }
    this.work(m, o);
  }

  private cancelArrived(orderId: number): void {
    const o = this.live(orderId);
    if (o < 0) {
      this.stats.cancelRejected++;
      this.eventFor(orderId, E.CANCEL_REJECTED, SimReason.ORDER_NOT_OPEN);
      return;
    }
    this.stats.canceled++;
    // A cancel the strategy asked for carries no reason (reason strings are for the venue's own decisions).
    this.close(o, E.CANCELED, 0);
  }

  /**
   * Amendments keep the queue position only when they just lower the quantity (as Binance's amend does);
   * a new price or a larger quantity sends the order to the back of its (new) level, and a new price that is
   * marketable takes liquidity after the UPDATED event, as a fresh order would.
   */
  private modifyArrived(orderId: number, qty: number, price: number, trigger: number): void {
    const ord = this.ord;
    const o = this.live(orderId);
    if (o < 0) {
      this.stats.modifyRejected++;
      this.eventFor(orderId, E.MODIFY_REJECTED, SimReason.ORDER_NOT_OPEN);
      return;
    }
    const m = this.markets[ord.instrumentId[o]!]!;
    const newPx = hasPrice(price) && price !== ord.price[o]!;
    const newTrig = hasPrice(trigger) && trigger !== ord.trigger[o]!;
    const invalid =
      (qty !== 0 && qty <= ord.filled[o]!) ||
      ord.type[o]! === OrderType.MARKET ||
      (newPx && ord.type[o]! !== OrderType.LIMIT && ord.type[o]! !== OrderType.STOP_LIMIT) ||
      (newTrig && ord.state[o]! !== STOP);
    if (invalid) {
      this.stats.modifyRejected++;
      this.eventFor(orderId, E.MODIFY_REJECTED, SimReason.MODIFY_INVALID);
      return;
    }
    if (newPx && ord.type[o]! === OrderType.LIMIT && (ord.flags[o]! & OrderFlags.POST_ONLY) !== 0) {
      const old = ord.price[o]!;
      ord.price[o] = price;
      const crosses = this.marketable(m, o);
      ord.price[o] = old;
      if (crosses) {
        this.stats.modifyRejected++;
        this.eventFor(orderId, E.MODIFY_REJECTED, SimReason.POST_ONLY_WOULD_TAKE);
        return;
      }
    }
    this.stats.modified++;
    const requeue = ord.state[o]! === RESTING && (newPx || (qty !== 0 && qty > ord.qty[o]!));
    if (requeue) this.unlink(m, o);
    if (qty !== 0) ord.qty[o] = qty;
    if (newPx) ord.price[o] = price;
    if (newTrig) ord.trigger[o] = trigger;
    const leaves = ord.qty[o]! - ord.filled[o]!;
    if (ord.visible[o]! > leaves) ord.visible[o] = leaves;
    const a = this.ev(o, E.UPDATED);
    a.qty = qty;
    a.px = hasPrice(price) ? price : Number.NaN;
    a.trigger = hasPrice(trigger) ? trigger : Number.NaN;
    this.post(a);
    if (requeue) this.work(m, o);
    else if (ord.state[o]! === STOP && newTrig && this.stopFires(m, o, Number.NaN)) this.trigger(m, o);
  }

  // ---- matching ----------------------------------------------------------------------------------------------

  /** An active MARKET or LIMIT order (arrived, triggered or re-priced): take what it may, then rest or end. */
  private work(m: Market, o: number): void {
    const ord = this.ord;
    const isLimit = ord.type[o]! === OrderType.LIMIT;
    if (!isLimit || this.marketable(m, o)) {
      if (m.hasL2) this.takeL2(m, o);
      else this.takeL1(m, o);
    }
    if (ord.filled[o]! >= ord.qty[o]!) {
      this.free(o);
      return;
    }
    if ((ord.flags[o]! & OrderFlags.REDUCE_ONLY) !== 0 && this.room(m, o) === 0) {
      this.stats.expired++;
      this.close(o, E.EXPIRED, SimReason.REDUCE_ONLY_POSITION_CLOSED);
      return;
    }
    if (ord.tif[o]! === TimeInForce.IOC || ord.tif[o]! === TimeInForce.FOK) {
      this.stats.expired++;
      this.close(o, E.EXPIRED, SimReason.IOC_REMAINDER);
      return;
    }
    if (!isLimit) {
      if (m.hasL2) {
        this.stats.expired++;
        this.close(o, E.EXPIRED, SimReason.NO_LIQUIDITY);
      } else {
        ord.state[o] = TAKING;
        m.taking = pushSlot(m.taking, m.takingN++, o);
      }
      return;
    }
    if (!m.hasL2 && this.l1Remainder === L1Remainder.NEXT_QUOTE && this.marketable(m, o)) {
      ord.state[o] = TAKING;
      m.taking = pushSlot(m.taking, m.takingN++, o);
      return;
    }
    this.rest(m, o);
  }

  /** A limit price at or through the other side's displayed best (consumed or not). */
  private marketable(m: Market, o: number): boolean {
    const ord = this.ord;
    const buy = ord.dir[o]! > 0;
    const opp = m.hasL2 ? (buy ? m.book!.bestAsk() : m.book!.bestBid()) : buy ? m.askPx : m.bidPx;
    if (Number.isNaN(opp)) return false;
    const p = ord.price[o]!;
    if (Number.isNaN(p)) return true;
    return buy ? opp <= p : opp >= p;
  }

  /** Lots this order may still fill: its leaves, or for reduce-only no more than closes the position. */
  private room(m: Market, o: number): number {
    const ord = this.ord;
    const leaves = ord.qty[o]! - ord.filled[o]!;
    if ((ord.flags[o]! & OrderFlags.REDUCE_ONLY) === 0) return leaves;
    const pos = m.position * ord.dir[o]!;
    if (pos >= 0) return 0;
    return Math.min(-pos, leaves);
  }

  /** L1: take the displayed best (less our consumption); SLIPPAGE mode fills the rest at best +/- slippage. */
  private takeL1(m: Market, o: number): void {
    const ord = this.ord;
    const buy = ord.dir[o]! > 0;
    const px = buy ? m.askPx : m.bidPx;
    if (Number.isNaN(px)) return;
    const lim = ord.price[o]!;
    if (!Number.isNaN(lim) && (buy ? px > lim : px < lim)) return;
    const cons = buy ? m.cAsk : m.cBid;
    const avail = (buy ? m.askQty : m.bidQty) - cons.get(px);
    let want = this.room(m, o);
    if (avail > 0 && want > 0) {
      const q = Math.min(want, avail);
      cons.add(px, q);
      this.fill(m, o, q, px, LiquiditySide.TAKER);
      want = this.room(m, o);
    }
    if (want > 0 && this.l1Remainder === L1Remainder.SLIPPAGE) {
      let sp = px + ord.dir[o]! * this.slippage;
      if (!Number.isNaN(lim) && (buy ? sp > lim : sp < lim)) sp = lim;
      if (sp < 1) sp = 1;
      this.fill(m, o, want, sp, LiquiditySide.TAKER);
    }
  }

  /** L2: walk the other side from its best, a fill per level, up to the limit price. */
  private takeL2(m: Market, o: number): void {
    const ord = this.ord;
    const buy = ord.dir[o]! > 0;
    const book = m.book!;
    const side = buy ? BookSide.ASK : BookSide.BID;
    const cons = buy ? m.cAsk : m.cBid;
    const lim = ord.price[o]!;
    let want = this.room(m, o);
    let start = 0;
    // Most orders take one or two levels: read a few first, more only when needed.
    let cap = 4;
    while (want > 0) {
      if (cap > this.scratchPx.length) this.growScratch(cap);
      const n = book.depth(side, cap, this.scratchPx, this.scratchQty);
      for (let i = start; i < n; i++) {
        const p = this.scratchPx[i]!;
        if (!Number.isNaN(lim) && (buy ? p > lim : p < lim)) return;
        const avail = this.scratchQty[i]! - cons.get(p);
        if (avail <= 0) continue;
        const q = Math.min(want, avail);
        cons.add(p, q);
        this.fill(m, o, q, p, LiquiditySide.TAKER);
        want = this.room(m, o);
        if (want === 0) return;
      }
      if (n < cap) return;
      start = n;
      cap *= 4;
    }
  }

  /** FOK: can the whole order fill now, within its limit, from liquidity we have not consumed? */
  private fillable(m: Market, o: number): boolean {
    const ord = this.ord;
    const buy = ord.dir[o]! > 0;
    const want = this.room(m, o);
    const lim = ord.price[o]!;
    const cons = buy ? m.cAsk : m.cBid;
    if (!m.hasL2) {
      const px = buy ? m.askPx : m.bidPx;
      if (Number.isNaN(px) || (!Number.isNaN(lim) && (buy ? px > lim : px < lim))) return false;
      if (this.l1Remainder === L1Remainder.SLIPPAGE) return true;
      return (buy ? m.askQty : m.bidQty) - cons.get(px) >= want;
    }
    const side = buy ? BookSide.ASK : BookSide.BID;
    let sum = 0;
    let start = 0;
    let cap = 16;
    for (;;) {
      if (cap > this.scratchPx.length) this.growScratch(cap);
      const n = m.book!.depth(side, cap, this.scratchPx, this.scratchQty);
      for (let i = start; i < n; i++) {
        const p = this.scratchPx[i]!;
        if (!Number.isNaN(lim) && (buy ? p > lim : p < lim)) return false;
        const avail = this.scratchQty[i]! - cons.get(p);
        if (avail > 0) sum += avail;
        if (sum >= want) return true;
      }
      if (n < cap) return false;
      start = n;
      cap *= 4;
    }
  }

  /**
   * Puts a limit order on the book. Queue ahead = the displayed size at its price on arrival (L2: the level;
   * L1: the best's size when the price is the best, 0 when it improves on it, unknown (-1) when it is behind
   * the best: resolved, conservatively, to the level's size the first time a quote shows the price).
   */
  private rest(m: Market, o: number): void {
    const ord = this.ord;
    const buy = ord.dir[o]! > 0;
    const p = ord.price[o]!;
    let shown: number;
    if (m.hasL2) {
      shown = m.book!.qtyAt(buy ? BookSide.BID : BookSide.ASK, p as PriceTicks);
    } else {
      const best = buy ? m.bidPx : m.askPx;
      if (Number.isNaN(best)) shown = -1;
      else if (p === best) shown = buy ? m.bidQty : m.askQty;
      else if (buy ? p > best : p < best) shown = 0;
      else shown = -1;
    }
    ord.state[o] = RESTING;
    ord.queueAhead[o] = shown;
    ord.levelQty[o] = Math.max(shown, 0);
    const leaves = ord.qty[o]! - ord.filled[o]!;
    ord.visible[o] = ord.display[o]! > 0 && ord.display[o]! < leaves ? ord.display[o]! : leaves;
    this.link(buy ? m.buys : m.sells, o);
  }

  /** L1 quote changed our side: levels better than the best are alone (queue 0), the best gets its size. */
  private quoteOwnSide(own: OwnSide, bestPx: number, bestQty: number): void {
    if (Number.isNaN(bestPx)) return;
    let i = 0;
    while (i < own.count) {
      const p = own.priceAt(i);
      if (own.sign > 0 ? p < bestPx : p > bestPx) break;
      this.levelUpdate(own, own.ids[i]!, p === bestPx ? bestQty : 0);
      i++;
    }
  }

  /**
   * The displayed size at one of our levels is now `shown`: apply the queue model to our orders there.
   * A level shown empty clears every queue there (nothing is ahead, whatever the model), and under the
   * deterministic models a cleared order stays at queue 0 while the level is re-shown and resized: so the
   * clear is one epoch bump (OwnSide.epochs) instead of a write per order, and the orders linked before it
   * (a prefix of the FIFO) are "cleared" (queue 0, level size OwnSide.clearedQty) until a walk that reads
   * them writes it into their records (settle). A step is then O(orders that joined since the last clear),
   * with the same results as the per-order step. The probabilistic model draws per order: always per order.
   */
  private levelUpdate(own: OwnSide, id: number, shown: number): void {
    const ord = this.ord;
    if (this.queueModel === QueueModel.PROBABILISTIC) {
      for (let o = own.heads[id]!; o >= 0; o = ord.next[o]!) this.queueStep(o, shown);
      return;
    }
    const epoch = own.epochs[id]!;
    if (shown === 0) {
      own.epochs[id] = epoch + 1;
      own.clearedQty[id] = 0;
      return;
    }
    own.clearedQty[id] = shown;
    // From the tail back to the cleared prefix (the order of the steps does not matter without draws).
    for (let o = own.tails[id]!; o >= 0 && ord.epoch[o]! === epoch; o = ord.prev[o]!)
      this.queueStep(o, shown);
  }

  /** One order's queue after its level shows `shown` (not by trade), per the queue model. */
  private queueStep(o: number, shown: number): void {
    const ord = this.ord;
    let qa = ord.queueAhead[o]!;
    const lq = ord.levelQty[o]!;
    if (qa < 0) qa = shown;
    else if (shown < lq) qa = this.cancelsAhead(qa, lq, lq - shown);
    if (qa > shown) qa = shown;
    ord.queueAhead[o] = qa;
    ord.levelQty[o] = shown;
  }

  /** Writes the cleared orders' queue fields (see levelUpdate) into their records, before a walk reads them. */
  private settle(own: OwnSide, id: number): void {
    const ord = this.ord;
    const epoch = own.epochs[id]!;
    for (let o = own.heads[id]!; o >= 0 && ord.epoch[o]! !== epoch; o = ord.next[o]!) {
      ord.queueAhead[o] = 0;
      ord.levelQty[o] = own.clearedQty[id]!;
      ord.epoch[o] = epoch;
    }
  }

  /** Queue ahead after `d` lots left a level of `lq` lots (not by trade), per the queue model. */
  private cancelsAhead(qa: number, lq: number, d: number): number {
    let out = qa;
    switch (this.queueModel) {
      case QueueModel.FRONT:
        out = qa - d;
        break;
      case QueueModel.BEHIND:
        break;
      case QueueModel.PROPORTIONAL:
        out = lq > 0 ? qa - Math.floor((d * qa) / lq) : 0;
        break;
      default: {
        const behind = lq - qa;
        const n = this.queuePower;
        const fa = qa ** n;
        const fb = behind > 0 ? behind ** n : 0;
        const p = fa + fb > 0 ? fa / (fa + fb) : 1;
        if (this.queueRng.next() < p) out = qa - d;
        break;
      }
    }
    return Math.max(out, 0);
  }

  /**
   * Maker fills from a market trade at px of size x, for our levels at px or better for the aggressor: through
   * levels fill from what is left of the trade (no queue); at px, the queue ahead trades first. Returns the
   * trade size left for the other side (unknown aggressor only).
   */
  private tradeFills(m: Market, own: OwnSide, px: number, x: number, budgetIn: number): number {
    const ord = this.ord;
    let budget = budgetIn;
    const buy = own.sign > 0;
    let i = 0;
    while (i < own.count) {
      const p = own.priceAt(i);
      const through = buy ? p > px : p < px;
      if (!through && p !== px) break;
      const key = own.keys[i]!;
      this.settle(own, own.ids[i]!);
      let ownAhead = 0;
      // Stop at the level's tail as it was: an iceberg slice refilled meanwhile went behind it.
      const end = own.tailAt(i);
      for (let s = own.headAt(i); s >= 0; ) {
        const o = s;
        const nx = ord.next[o]!;
        let fillable = 0;
        if (through) {
          ord.queueAhead[o] = 0;
          ord.levelQty[o] = 0;
          fillable = budget;
        } else {
          const qa = ord.queueAhead[o]!;
          if (qa >= 0) {
            fillable = x - qa - ownAhead;
            ord.queueAhead[o] = qa > x ? qa - x : 0;
          }
          ord.levelQty[o] = ord.levelQty[o]! > x ? ord.levelQty[o]! - x : 0;
        }
        if (fillable > budget) fillable = budget;
        if (fillable > 0) {
          const q = this.makerQty(m, o, fillable);
          if (q > 0) {
            ownAhead += q;
            budget -= q;
            this.fill(m, o, q, p, LiquiditySide.MAKER);
            this.afterMakerFill(m, own, o);
          }
        }
        if (s === end) break;
        s = nx;
      }
      if (i < own.count && own.keys[i] === key) i++;
    }
    return budget;
  }

  /** L1: the other side's quote is at or through our resting orders: fill them (maker) from its size. */
  private crossL1(m: Market, buy: boolean): void {
    const ord = this.ord;
    const own = buy ? m.buys : m.sells;
    const cons = buy ? m.cAsk : m.cBid;
    const px = buy ? m.askPx : m.bidPx;
    let avail = (buy ? m.askQty : m.bidQty) - cons.get(px);
    let i = 0;
    while (i < own.count && avail > 0) {
      const p = own.priceAt(i);
      const through = buy ? p > px : p < px;
      if (!through && p !== px) break;
      const key = own.keys[i]!;
      this.settle(own, own.ids[i]!);
      const end = own.tailAt(i);
      for (let s = own.headAt(i); s >= 0 && avail > 0; ) {
        const o = s;
        const nx = ord.next[o]!;
        if (through) ord.queueAhead[o] = 0;
        if (ord.queueAhead[o]! === 0) {
          const q = this.makerQty(m, o, avail);
          if (q > 0) {
            avail -= q;
            cons.add(px, q);
            this.fill(m, o, q, p, LiquiditySide.MAKER);
            this.afterMakerFill(m, own, o);
          }
        }
        if (s === end) break;
        s = nx;
      }
      if (i < own.count && own.keys[i] === key) i++;
    }
  }

  /** L2: levels of the other side at or through our resting orders: fill them (maker) level by level. */
  private crossL2(m: Market, buy: boolean): void {
    const ord = this.ord;
    const own = buy ? m.buys : m.sells;
    const cons = buy ? m.cAsk : m.cBid;
    const side = buy ? BookSide.ASK : BookSide.BID;
    let cap = 16;
    let start = 0;
    for (;;) {
      if (own.count === 0) return;
      if (cap > this.scratchPx.length) this.growScratch(cap);
      const n = m.book!.depth(side, cap, this.scratchPx, this.scratchQty);
      for (let k = start; k < n; k++) {
        const a = this.scratchPx[k]!;
        if (own.count === 0) return;
        const ob = own.best();
        if (buy ? a > ob : a < ob) return;
        let avail = this.scratchQty[k]! - cons.get(a);
        let i = 0;
        while (i < own.count && avail > 0) {
          const p = own.priceAt(i);
          const through = buy ? p > a : p < a;
          if (!through && p !== a) break;
          const key = own.keys[i]!;
          this.settle(own, own.ids[i]!);
          const end = own.tailAt(i);
          for (let s = own.headAt(i); s >= 0 && avail > 0; ) {
            const o = s;
            const nx = ord.next[o]!;
            if (through) ord.queueAhead[o] = 0;
            if (ord.queueAhead[o]! === 0) {
              const q = this.makerQty(m, o, avail);
              if (q > 0) {
                avail -= q;
                cons.add(a, q);
                this.fill(m, o, q, p, LiquiditySide.MAKER);
                this.afterMakerFill(m, own, o);
              }
            }
            if (s === end) break;
            s = nx;
          }
          if (i < own.count && own.keys[i] === key) i++;
        }
      }
      if (n < cap) return;
      start = n;
      cap *= 4;
    }
  }

  private makerQty(m: Market, o: number, max: number): number {
    let q = this.ord.visible[o]!;
    const r = this.room(m, o);
    if (r < q) q = r;
    return Math.min(max, q);
  }

  /** After a maker fill: done, reduce-only exhausted, or an iceberg slice refilled at the back of the queue. */
  private afterMakerFill(m: Market, own: OwnSide, o: number): void {
    const ord = this.ord;
    const leaves = ord.qty[o]! - ord.filled[o]!;
    if (leaves === 0) {
      this.unlinkFrom(own, o);
      this.free(o);
      return;
    }
    if ((ord.flags[o]! & OrderFlags.REDUCE_ONLY) !== 0 && this.room(m, o) === 0) {
      this.stats.expired++;
      this.close(o, E.EXPIRED, SimReason.REDUCE_ONLY_POSITION_CLOSED);
      return;
    }
    if (ord.visible[o]! === 0) {
      ord.visible[o] = ord.display[o]! > 0 && ord.display[o]! < leaves ? ord.display[o]! : leaves;
      ord.queueAhead[o] = ord.levelQty[o]!;
      this.unlinkFrom(own, o);
      this.link(own, o);
    }
  }

  /** New liquidity: remainders waiting for it take again; a LIMIT no longer marketable rests. */
  private takeAgain(m: Market): void {
    const ord = this.ord;
    let i = 0;
    while (i < m.takingN) {
      const o = m.taking[i]!;
      if (m.hasL2) this.takeL2(m, o);
      else this.takeL1(m, o);
      if (ord.filled[o]! >= ord.qty[o]!) {
        removeAt(m.taking, m.takingN--, i);
        this.free(o);
        continue;
      }
      if ((ord.flags[o]! & OrderFlags.REDUCE_ONLY) !== 0 && this.room(m, o) === 0) {
        this.stats.expired++;
        this.close(o, E.EXPIRED, SimReason.REDUCE_ONLY_POSITION_CLOSED);
        continue;
      }
      if (ord.type[o]! === OrderType.LIMIT && !this.marketable(m, o)) {
        removeAt(m.taking, m.takingN--, i);
        this.rest(m, o);
        continue;
      }
      i++;
    }
  }

  // ---- native stops -----------------------------------------------------------------------------------------

  /** Buy stops fire when the price rises to the trigger (`up`: ask or trade), sell stops when it falls. */
  private stopFires(m: Market, o: number, ref: number): boolean {
    const ord = this.ord;
    let up = ref;
    let down = ref;
    if (Number.isNaN(ref)) {
      const lp = m.lastPx;
      up = !Number.isNaN(lp) ? lp : m.hasL2 ? m.book!.bestAsk() : m.askPx;
      down = !Number.isNaN(lp) ? lp : m.hasL2 ? m.book!.bestBid() : m.bidPx;
    }
    return ord.dir[o]! > 0 ? up >= ord.trigger[o]! : down <= ord.trigger[o]!;
  }

  private checkStops(m: Market, up: number, down: number): void {
    const ord = this.ord;
    let i = 0;
    while (i < m.stopsN) {
      const o = m.stops[i]!;
      const fires = ord.dir[o]! > 0 ? up >= ord.trigger[o]! : down <= ord.trigger[o]!;
      if (!fires) {
        i++;
        continue;
      }
      this.trigger(m, o);
    }
  }

  private trigger(m: Market, o: number): void {
    const ord = this.ord;
    const i = indexOf(m.stops, m.stopsN, o);
    if (i >= 0) removeAt(m.stops, m.stopsN--, i);
    ord.state[o] = INFLIGHT;
    this.emit(ord.orderId[o]!, E.TRIGGERED, ord.venueOrderId[o]!, 0);
    ord.type[o] = ord.type[o]! === OrderType.STOP_LIMIT ? OrderType.LIMIT : OrderType.MARKET;
    if (
      ord.type[o]! === OrderType.LIMIT &&
      (ord.flags[o]! & OrderFlags.POST_ONLY) !== 0 &&
      this.marketable(m, o)
    ) {
      this.reject(o, SimReason.POST_ONLY_WOULD_TAKE);
      return;
    }
    this.work(m, o);
  }

  // ---- fills, positions, margin ---------------------------------------------------------------------------

  private fill(m: Market, o: number, q: number, px0: number, liq: LiquiditySide): void {
    const ord = this.ord;
    const px =
      liq === LiquiditySide.TAKER && this.slipModel !== null && !m.hasL2 ? this.slip(m, o, q, px0) : px0;
    ord.filled[o]! += q;
    ord.visible[o] = ord.visible[o]! > q ? ord.visible[o]! - q : 0;
    const fee = this.feeOf(m, px, q, liq);
    this.applyPosition(m, ord.dir[o]!, q, px);
    this.stats.fills++;
    if (liq === LiquiditySide.MAKER) this.stats.makerFills++;
    else this.stats.takerFills++;
    const tradeId = this.tradeIds ? this.tradePrefix + String(++this.tradeSeq) : '';
    if (this.direct()) {
      const ev = this.directEvent(ord.orderId[o]!, E.FILLED, ord.venueOrderId[o]!);
      ev.setFill(q, px, fee, m.feeCurrencyId, liq, tradeId);
      this.sendDirect(ev);
      return;
    }
    const a = this.ev(o, E.FILLED);
    a.qty = q;
    a.px = px;
    a.fee = fee;
    a.feeCurrencyId = m.feeCurrencyId;
    a.liquidity = liq;
    a.tradeId = tradeId;
    this.post(a);
  }

  /**
   * The price of a taker fill of q at px after the slippage model, never beyond the order's limit nor below a
   * tick; books the value it moved as the instrument's slippage cost. Bar-only markets measure impact against
   * the bar's volume, quoted ones against the size shown at the best.
   */
  private slip(m: Market, o: number, q: number, px: number): number {
    const ord = this.ord;
    const buy = ord.dir[o]! > 0;
    const spread = m.askPx - m.bidPx;
    const volume = m.ticks ? (buy ? m.askQty : m.bidQty) : m.barVolume;
    const t = slipTicks(this.slipModel!, px, q, spread, volume, m.inst.tickSize.value);
    if (Number.isNaN(t)) {
      this.stats.unpricedSlippage++;
      return px;
    }
    let sp = px + ord.dir[o]! * t;
    const lim = ord.price[o]!;
    if (!Number.isNaN(lim) && (buy ? sp > lim : sp < lim)) sp = buy ? Math.max(px, lim) : Math.min(px, lim);
    if (sp < 1) sp = 1;
    if (sp === px) return px;
    this.stats.slippedFills++;
    this.stats.slippageTicks += (sp - px) * ord.dir[o]!;
    const moved = m.inst.tryNotional(sp, q) - m.inst.tryNotional(px, q);
    if (!Number.isNaN(moved)) m.slippageCost += moved < 0 ? -moved : moved;
    return sp;
  }

  /** Slippage paid on fills settled in `currencyId`, money units, and how many instruments settle elsewhere. */
  slippageCost(currencyId: number): { cost: number; otherCurrencies: number } {
    let cost = 0;
    let otherCurrencies = 0;
    for (const m of this.marketList) {
      if (m.slippageCost === 0) continue;
      if (m.feeCurrencyId === currencyId) cost += m.slippageCost;
      else otherCurrencies++;
    }
    return { cost, otherCurrencies };
  }

  private feeOf(m: Market, px: number, q: number, liq: LiquiditySide): number {
    const ff = this.fixedFee;
    if (!Number.isNaN(ff)) return ff;
    const f = m.inst.tryFee(px, q, liq);
    return !Number.isNaN(f) ? f : 0;
  }

  /**
   * Net position and the isolated-margin book-keeping: opening size posts initial margin on its entry
   * value; closing size releases margin and entry value pro rata (realised PnL is the portfolio's business).
   */
  private applyPosition(m: Market, dir: number, q: number, px: number): void {
    const pos = m.position;
    m.position = pos + dir * q;
    if (!m.marginOn) return;
    const abs = pos < 0 ? -pos : pos;
    let opening = q;
    if (pos !== 0 && pos > 0 !== dir > 0) {
      const closing = Math.min(q, abs);
      const keep = (abs - closing) / abs;
      m.entryValue *= keep;
      m.margin *= keep;
      opening = q - closing;
    }
    if (opening > 0) {
      const v = m.inst.tryNotional(px, opening);
      if (!Number.isNaN(v)) {
        m.entryValue += v;
        m.margin += v * this.imr;
      }
    }
  }

  private markOf(m: Market): number {
    if (!Number.isNaN(m.markPx)) return m.markPx;
    const mid = m.hasL2 ? m.book!.mid() : (m.bidPx + m.askPx) / 2;
    return !Number.isNaN(mid) ? Math.round(mid) : m.lastPx;
  }

  /** After each market-data event: an isolated position whose equity fell below maintenance is liquidated. */
  private afterMarket(m: Market): void {
    if (m.marginOn && m.position !== 0 && !this.liquidating) {
      const mark = this.markOf(m);
      if (mark > 0) {
        const pos = m.position;
        const abs = pos < 0 ? -pos : pos;
        const mv = m.inst.tryNotional(mark, abs);
        if (!Number.isNaN(mv)) {
          const diff = m.inst.isInverse ? m.entryValue - mv : mv - m.entryValue;
          const equity = m.margin + (pos > 0 ? diff : -diff);
          if (equity < mv * this.mmr) this.liquidate(m);
        }
      }
    }
  }

  /**
   * Matching on market data runs as one section: events delivered meanwhile (zero response latency) may make
   * the strategy send commands or call advanceTo, which must not run queued work in the middle of a level walk.
   */
  private enter(): void {
    this.running = true;
    this.runTarget = this.now;
  }

  private leave(): void {
    const t = this.runTarget;
    this.running = false;
    this.runTo(Math.max(t, this.now));
  }

  /**
   * Liquidation, kept simple: the venue cancels the instrument's open orders, then closes the whole position
   * with a market order at the book (L2 walk; L1 best then best +/- slippage), taker fees; the listener gets
   * each fill (the engine never created this order, so it gets no order events for it).
   */
  private liquidate(m: Market): void {
    const ord = this.ord;
    this.liquidating = true;
    this.stats.liquidations++;
    for (let o = 0; o < ord.capacity; o++) {
      if (ord.instrumentId[o]! === m.inst.id && ord.state[o]! > INFLIGHT) {
        this.stats.canceled++;
        this.close(o, E.CANCELED, SimReason.LIQUIDATION);
      }
    }
    const pos = m.position;
    const dir = pos > 0 ? -1 : 1;
    let want = pos > 0 ? pos : -pos;
    const buy = dir > 0;
    const cons = buy ? m.cAsk : m.cBid;
    let lastPx = Number.NaN;
    if (m.hasL2) {
      const n = this.depthAll(m, buy ? BookSide.ASK : BookSide.BID);
      for (let i = 0; i < n && want > 0; i++) {
        const p = this.scratchPx[i]!;
        lastPx = p;
        const avail = this.scratchQty[i]! - cons.get(p);
        if (avail <= 0) continue;
        const q = Math.min(want, avail);
        cons.add(p, q);
        this.liquidationFill(m, dir, q, p);
        want -= q;
      }
    } else {
      const p = buy ? m.askPx : m.bidPx;
      if (!Number.isNaN(p)) {
        lastPx = p;
        const avail = (buy ? m.askQty : m.bidQty) - cons.get(p);
        if (avail > 0) {
          const q = Math.min(want, avail);
          cons.add(p, q);
          this.liquidationFill(m, dir, q, p);
          want -= q;
        }
        lastPx = p + dir * this.slippage;
      }
    }
    if (want > 0) {
      // Beyond the visible book: the rest at the last price reached (or the mark), so the position closes.
      let p = !Number.isNaN(lastPx) ? lastPx : this.markOf(m);
      if (!(p >= 1)) p = 1;
      this.liquidationFill(m, dir, want, p);
    }
    m.position = 0;
    m.entryValue = 0;
    m.margin = 0;
    this.liquidating = false;
  }

  private liquidationFill(m: Market, dir: number, q: number, px: number): void {
    const fee = this.feeOf(m, px, q, LiquiditySide.TAKER);
    this.applyPosition(m, dir, q, px);
    if (this.onLiquidation === null) return;
    const a = this.queue.acquire();
    a.kind = ActionKind.LIQUIDATION;
    a.instrumentId = m.inst.id;
    a.side = dir > 0 ? OrderSide.BUY : OrderSide.SELL;
    a.qty = q;
    a.px = px;
    a.fee = fee;
    a.tsEvent = this.now;
    this.post(a);
  }

  private depthAll(m: Market, side: BookSide): number {
    const total = m.book!.levelCount(side);
    if (total > this.scratchPx.length) this.growScratch(total);
    return m.book!.depth(side, total, this.scratchPx, this.scratchQty);
  }

  // ---- funding -----------------------------------------------------------------------------------------------

  private initFunding(): void {
    const iv = this.fundingInterval;
    const off = this.fundingOffset;
    this.nextFunding = (Math.floor((this.now - off) / iv) + 1) * iv + off;
  }

  private funding(ts: number): void {
    this.nextFunding = ts + this.fundingInterval;
    for (let i = 0; i < this.marketList.length; i++) {
      const m = this.marketList[i]!;
      if (!m.perpetual || !m.hasRate) continue;
      const mark = this.markOf(m);
      if (!(mark >= 1)) continue;
      this.stats.fundings++;
      if (m.marginOn && m.position !== 0) {
        const v = m.inst.tryNotional(mark, m.position);
        // Longs pay a positive rate (v > 0), shorts receive it; inverse contracts alike in base currency.
        if (!Number.isNaN(v)) m.margin -= (v * m.fundingRate) / RATE_SCALE;
      }
      if (this.onFunding !== null) {
        const a = this.queue.acquire();
        a.kind = ActionKind.FUNDING;
        a.instrumentId = m.inst.id;
        a.rate = m.fundingRate;
        a.px = mark;
        a.tsEvent = ts;
        this.post(a);
      }
    }
  }

  // ---- events out --------------------------------------------------------------------------------------------

  private arrivalTime(): number {
    let t = this.clock.now() + this.latIn.sample();
    // One order connection: commands reach the matching engine in the order they were sent.
    if (t < this.lastArrival) t = this.lastArrival;
    this.lastArrival = t;
    return t;
  }

  private responseTime(): number {
    let t = this.now + this.latOut.sample();
    // One stream back: events reach the engine in the order the venue produced them.
    if (t < this.lastDelivery) t = this.lastDelivery;
    this.lastDelivery = t;
    return t;
  }

  /** An event record for order `o` (header set); the caller adds its fields, then post()s it. */
  private ev(o: number, kind: OrderEventKind): Action {
    const ord = this.ord;
    return this.evFor(ord.orderId[o]!, kind, ord.venueOrderId[o]!);
  }

  private evFor(orderId: number, kind: OrderEventKind, venueOrderId: string): Action {
    const a = this.queue.acquire();
    a.kind = ActionKind.DELIVER;
    a.evKind = kind;
    a.orderId = orderId;
    a.tsEvent = this.now;
    a.venueOrderId = venueOrderId;
    a.reasonCode = 0;
    a.tradeId = '';
    return a;
  }

  /**
   * Sends a record down the response stream (events, funding and liquidation notices): delivered after the
   * response latency, in production order. With a constant zero latency and nothing earlier in flight it is
   * delivered at once (the same order and times, without the queue round trip).
   */
  private post(a: Action): void {
    if (this.outZero && this.pendingOut === 0 && this.depth === 0 && this.now >= this.lastDelivery) {
      a.time = this.now;
      this.lastDelivery = this.now;
      this.dispatch(a);
      this.queue.release(a);
      return;
    }
    this.pendingOut++;
    this.queue.push(a, this.responseTime());
  }

  private eventFor(orderId: number, kind: OrderEventKind, reason: number): void {
    this.emit(orderId, kind, '', reason);
  }

  /**
   * Delivery at once is allowed: a constant zero response latency, nothing earlier in flight, not inside a
   * delivery (post's condition). Then events are written straight into the sink's record, no queue record.
   */
  private direct(): boolean {
    return this.outZero && this.pendingOut === 0 && this.depth === 0 && this.now >= this.lastDelivery;
  }

  /** An event with no payload but an optional reason (ACCEPTED, CANCELED, EXPIRED, REJECTED, ...). */
  private emit(orderId: number, kind: OrderEventKind, venueOrderId: string, reason: number): void {
    if (this.direct()) {
      const ev = this.directEvent(orderId, kind, venueOrderId);
      if (reason !== 0) ev.setReason(reason, simReasonText(reason));
      this.sendDirect(ev);
      return;
    }
    const a = this.evFor(orderId, kind, venueOrderId);
    a.reasonCode = reason;
    this.post(a);
  }

  /** The sink's record for a direct delivery at `now` (depth 0), header set as deliver() sets it. */
  private directEvent(orderId: number, kind: OrderEventKind, venueOrderId: string): OrderEvent {
    const now = this.now;
    this.lastDelivery = now;
    const ev = this.events[0]!.init(kind, orderId as OrderId, 0, now as Micros, now as Micros);
    if (venueOrderId !== '') ev.venueOrderId = venueOrderId;
    return ev;
  }

  private sendDirect(ev: OrderEvent): void {
    this.stats.delivered++;
    this.depth = 1;
    this.sink!.onVenueEvent(ev);
    this.depth = 0;
  }

  private deliver(a: Action): void {
    const sink = this.sink!;
    const d = this.depth;
    if (d >= this.events.length) this.events.push(new OrderEvent());
    const ev = this.events[d]!.init(
      a.evKind as OrderEventKind,
      a.orderId as OrderId,
      0,
      a.tsEvent as Micros,
      a.time as Micros,
    );
    if (a.venueOrderId !== '') ev.venueOrderId = a.venueOrderId;
    const k = a.evKind;
    if (k === E.FILLED) ev.setFill(a.qty, a.px, a.fee, a.feeCurrencyId, a.liquidity, a.tradeId);
    else if (k === E.UPDATED) ev.setUpdate(a.qty, a.px, a.trigger);
    else if (a.reasonCode !== 0) ev.setReason(a.reasonCode, simReasonText(a.reasonCode));
    this.stats.delivered++;
    this.depth = d + 1;
    sink.onVenueEvent(ev);
    this.depth = d;
  }

  private reject(o: number, reason: number): void {
    const ord = this.ord;
    this.stats.rejected++;
    this.emit(ord.orderId[o]!, E.REJECTED, ord.venueOrderId[o]!, reason);
    this.free(o);
  }

  /** Ends a working order with CANCELED or EXPIRED: off the book (or waiting lists), event, record freed. */
  private close(o: number, kind: OrderEventKind, reason: number): void {
    const ord = this.ord;
    const m = this.markets[ord.instrumentId[o]!]!;
    if (ord.state[o]! === RESTING) this.unlink(m, o);
    else if (ord.state[o]! === TAKING) {
      const i = indexOf(m.taking, m.takingN, o);
      if (i >= 0) removeAt(m.taking, m.takingN--, i);
    } else if (ord.state[o]! === STOP) {
      const i = indexOf(m.stops, m.stopsN, o);
      if (i >= 0) removeAt(m.stops, m.stopsN--, i);
    }
    this.emit(ord.orderId[o]!, kind, ord.venueOrderId[o]!, reason);
    this.free(o);
  }

  private scheduleExpiry(o: number, at: number): void {
    const a = this.queue.acquire();
    a.kind = ActionKind.EXPIRE;
    a.slot = o;
    a.gen = this.ord.gen[o]!;
    this.queue.push(a, at);
  }

  // ---- order records -----------------------------------------------------------------------------------------

  /** The working (arrived, not closed) record of an order id, or undefined. */
  private live(orderId: number): number {
    const ord = this.ord;
    const o = this.index.get(orderId);
    if (o < 0) return -1;
    return ord.orderId[o]! === orderId && ord.state[o]! > INFLIGHT ? o : -1;
  }

  private link(own: OwnSide, o: number): void {
    const ord = this.ord;
    const id = own.levelFor(ord.price[o]!);
    const tail = own.tails[id]!;
    ord.level[o] = id;
    ord.epoch[o] = own.epochs[id]!;
    ord.prev[o] = tail;
    ord.next[o] = -1;
    if (tail >= 0) ord.next[tail] = o;
    else own.heads[id] = o;
    own.tails[id] = o;
  }

  private unlink(m: Market, o: number): void {
    this.unlinkFrom(this.ord.dir[o]! > 0 ? m.buys : m.sells, o);
  }

  private unlinkFrom(own: OwnSide, o: number): void {
    const ord = this.ord;
    const id = ord.level[o]!;
    if (id < 0) return;
    const prev = ord.prev[o]!;
    const next = ord.next[o]!;
    if (prev >= 0) ord.next[prev] = next;
    else own.heads[id] = next;
    if (next >= 0) ord.prev[next] = prev;
    else own.tails[id] = prev;
    ord.prev[o] = -1;
    ord.next[o] = -1;
    ord.level[o] = -1;
    if (own.heads[id]! < 0) own.removeLevel(id);
  }

  private acquireSlot(): number {
    if (this.freeN === 0) this.addSlots(this.ord.capacity);
    return this.freeSlots[--this.freeN]!;
  }

  private free(o: number): void {
    const ord = this.ord;
    this.index.delete(ord.orderId[o]!, o);
    ord.state[o] = FREE;
    ord.gen[o]!++;
    ord.venueOrderId[o] = '';
    this.freeSlots[this.freeN++] = o;
  }

  private addSlots(n: number): void {
    const ord = this.ord;
    const start = ord.capacity;
    const total = start + n;
    if (this.freeSlots.length < total) {
      const f = new Int32Array(total);
      f.set(this.freeSlots.subarray(0, this.freeN));
      this.freeSlots = f;
    }
    ord.grow(total);
    // Pushed highest first so that the lowest slots are handed out first (easier to read in a debugger).
    for (let i = total - 1; i >= start; i--) this.freeSlots[this.freeN++] = i;
  }

  private growScratch(n: number): void {
    let cap = this.scratchPx.length;
    while (cap < n) cap *= 2;
    this.scratchPx = new Float64Array(cap);
    this.scratchQty = new Float64Array(cap);
  }

  private enableL2(m: Market): void {
    // Remainders still waiting for a quote keep waiting, now for book updates (takeAgain walks the book).
    m.hasL2 = true;
    if (m.book === null) m.book = new L2Book();
  }

  private requireSink(): void {
    if (this.sink === null) {
      throw new Bot4Error(
        ErrorCode.INVALID_ARGUMENT,
        `simulated venue ${this.name} has no event sink: pass options.sink or call connect(engine) first`,
      );
    }
  }
}

function pushSlot(list: Int32Array, n: number, slot: number): Int32Array {
  let out = list;
  if (n === list.length) {
    out = new Int32Array(list.length * 2);
    out.set(list);
  }
  out[n] = slot;
  return out;
}

/** Ordered removal (keeps time priority); n is the count before removal. */
function removeAt(list: Int32Array, n: number, i: number): void {
  list.copyWithin(i, i + 1, n);
}

function indexOf(list: Int32Array, n: number, slot: number): number {
  for (let i = 0; i < n; i++) if (list[i] === slot) return i;
  return -1;
}
