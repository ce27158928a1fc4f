// Avellaneda-Stoikov market making on the L2 book: quotes a post-only bid and ask around the reservation price
// r = s - q*gamma*sigma^2*(T-t), total spread gamma*sigma^2*(T-t) + (2/gamma)*ln(1 + gamma/kappa), and requotes
// on book changes no more often than minRequoteMs. Units: prices in ticks, sigma in ticks/sqrt(s), T-t in s,
// q in quote sizes (position lots / qty lots), gamma and kappa per tick.

import type { L2Book } from '../../book/l2-book.ts';
import { Bot4Error, ErrorCode } from '../../core/errors.ts';
import type { InstrumentId, OrderId } from '../../core/units.ts';
import type { OrderEvent } from '../../model/events.ts';
import { OrderFlags, OrderSide } from '../../model/order.ts';
import { isOpen, OrderEventKind, OrderStatus } from '../../model/order-state.ts';
import type { BookUpdate } from '../context.ts';
import { float, int, type ParamInput, text } from '../params.ts';
import { Strategy, type Subscriptions } from '../strategy.ts';

const PARAMS = {
  instrument: text({ default: 'BTCUSDT', description: 'instrument quoted (SYMBOL or SYMBOL.VENUE)' }),
  qty: float({
    default: 0.01,
    min: 0,
    step: 0.01,
    description: 'size of each quote in base units (a lot multiple)',
  }),
  gamma: float({
    default: 0.1,
    min: 1e-6,
    max: 100,
    step: 0.05,
    description: 'risk aversion per tick: larger skews harder with inventory and widens the spread',
  }),
  kappa: float({
    default: 1,
    min: 1e-6,
    max: 1000,
    step: 0.25,
    description: 'order-book liquidity per tick (fill intensity decay): larger quotes tighter',
  }),
  sigma: float({
    default: 0,
    min: 0,
    step: 0.5,
    description: 'mid volatility in ticks per sqrt(second); 0 estimates it online from the book',
  }),
  horizon: float({
    default: 60,
    min: 0,
    step: 10,
    description: 'T - t in seconds, held constant: crypto has no session close to run down to',
  }),
  maxInventory: float({
    default: 5,
    min: 0,
    step: 1,
    description: 'stop quoting the side that adds to a position of this many quote sizes',
  }),
  minRequoteMs: int({
    default: 100,
    min: 0,
    max: 3_600_000,
    step: 50,
    description: 'minimum time between requotes',
  }),
  volWindow: int({
    default: 200,
    min: 2,
    max: 1_000_000,
    description: 'book updates in the volatility estimate (EWMA)',
  }),
};

/** Result of one quote computation: reservation price and the two quote prices before rounding, in ticks. */
export class AsQuote {
  reservation = 0;
  halfSpread = 0;
  bid = 0;
  ask = 0;
}

/**
 * The model itself (pure, for tests and research): mid `s`, inventory `q` in quote sizes, `sigma2` in ticks^2
 * per second, `tau` = T - t in seconds. Writes into `out`, allocates nothing.
 */
export function avellanedaStoikov(
  s: number,
  q: number,
  gamma: number,
  sigma2: number,
  tau: number,
  kappa: number,
  out: AsQuote,
): AsQuote {
  const risk = gamma * sigma2 * tau;
  const r = s - q * risk;
  const half = 0.5 * (risk + (2 / gamma) * Math.log(1 + gamma / kappa));
  out.reservation = r;
  out.halfSpread = half;
  out.bid = r - half;
  out.ask = r + half;
  return out;
}

export class MarketMaker extends Strategy<typeof PARAMS> {
  static override readonly params = PARAMS;
  static override readonly description =
    'Avellaneda-Stoikov market maker: inventory-skewed post-only quotes around the reservation price';

  readonly quote = new AsQuote();
  private instrumentId = 0 as InstrumentId;
  private lots = 0;
  private bidId = 0 as OrderId;
  private askId = 0 as OrderId;
  private readonly minRequote: number = this.params.minRequoteMs * 1000;
  private lastQuoteTs = Number.NEGATIVE_INFINITY;
  // Online variance of the mid: EWMAs of squared mid changes and of elapsed seconds; their ratio is ticks^2/s.
  private readonly alpha: number = 1 / this.params.volWindow;
  private lastMid = Number.NaN;
  private lastMidTs = 0;
  private sqSum = 0;
  private timeSum = 0;

  constructor(params: ParamInput<typeof PARAMS> = {}) {
    super(params);
  }

  override subscriptions(): Subscriptions {
    return { books: [this.params.instrument] };
  }

  override onStart(): void {
    const inst = this.instrument(this.params.instrument);
    this.instrumentId = inst.id;
    this.lots = inst.qtyFromFloat(this.params.qty);
    if (this.lots <= 0)
      throw new Bot4Error(ErrorCode.INVALID_ARGUMENT, `strategy ${this.name}: qty must be at least one lot`);
  }

  override onStop(): void {
    this.pull(this.bidId);
    this.pull(this.askId);
  }

  /** Variance of the mid in ticks^2 per second: the parameter when set, else the online estimate. */
  get sigma2(): number {
    const s = this.params.sigma;
    if (s > 0) return s * s;
    return this.timeSum > 0 ? this.sqSum / this.timeSum : 0;
  }

  override onBook(book: L2Book, update: BookUpdate): void {
    const bb = book.bestBid();
    const ba = book.bestAsk();
    if (Number.isNaN(bb) || Number.isNaN(ba)) return;
    const mid = (bb + ba) * 0.5;
    const ts = update.tsEvent;
    this.trackVolatility(mid, ts);
    if (ts - this.lastQuoteTs < this.minRequote) return;
    this.lastQuoteTs = ts;

    const p = this.params;
    const q = this.netQty(this.instrumentId) / this.lots;
    const quote = avellanedaStoikov(mid, q, p.gamma, this.sigma2, p.horizon, p.kappa, this.quote);
    // Post-only: never at or through the opposite best, or the venue would reject (or we would take).
    let bid = Math.floor(quote.bid);
    let ask = Math.ceil(quote.ask);
    if (bid >= ba) bid = ba - 1;
    if (ask <= bb) ask = bb + 1;
    this.bidId =
      q < p.maxInventory && bid > 0 ? this.place(this.bidId, OrderSide.BUY, bid) : this.pull(this.bidId);
    this.askId = q > -p.maxInventory ? this.place(this.askId, OrderSide.SELL, ask) : this.pull(this.askId);
  }

  override onOrderEvent(ev: OrderEvent): void {
    // A fill changes inventory: requote on the next book update whatever the interval.
    if (ev.kind === OrderEventKind.FILLED) this.lastQuoteTs = Number.NEGATIVE_INFINITY;
  }

  private trackVolatility(mid: number, ts: number): void {
    const last = this.lastMid;
    if (!Number.isNaN(last) && ts > this.lastMidTs) {
      const d = mid - last;
      const a = this.alpha;
      this.sqSum += a * (d * d - this.sqSum);
      this.timeSum += a * ((ts - this.lastMidTs) / 1e6 - this.timeSum);
    }
    this.lastMid = mid;
    this.lastMidTs = ts;
  }

  /** Keeps one working quote at `price`: amends it, or sends a new one when none is working. */
  private place(id: OrderId, side: OrderSide, price: number): OrderId {
    const o = id === 0 ? undefined : this.order(id);
    if (o !== undefined && isOpen(o.status)) {
      // Amend only a quote the venue has acknowledged; one in flight is left until its answer.
      if (
        o.price !== price &&
        (o.status === OrderStatus.ACCEPTED || o.status === OrderStatus.PARTIALLY_FILLED)
      )
        this.modifyOrder(id, 0, price);
      return id;
    }
    const n = this.submitLimit(this.instrumentId, side, this.lots, price, OrderFlags.POST_ONLY);
    return isOpen(n.status) ? n.id : (0 as OrderId);
  }

  private pull(id: OrderId): OrderId {
    if (id !== 0) this.cancel(id);
    return 0 as OrderId;
  }
}
