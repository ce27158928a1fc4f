// The server's market: per symbol an L2 book (shared with the simulated exchange through useBook, so clients
// see the book their orders match against), the last trades, 1-minute candles and the depth-diff accumulators
// behind `depth@100ms`. Fed row by row by MarketFeed; each book change is one update id, so a REST snapshot's
// lastUpdateId and a diff's U/u line up exactly as Binance's do. Units: ticks, lots, micros (ms at the edge).

import { Side as BookSide, L2Book } from '../../book/l2-book.ts';
import type { Micros, PriceTicks, QtyLots } from '../../core/units.ts';
import { type Instrument, InstrumentKind } from '../../model/instrument.ts';
import { BookDelta, DeltaFlag, Side as MdSide } from '../../model/market-data.ts';

/** One public trade (each is its own aggTrade here: the feed has no fills to aggregate). */
export interface PublicTrade {
  id: number;
  px: number;
  qty: number;
  /** Milliseconds. */
  time: number;
  buyerMaker: boolean;
}

/** One 1-minute candle; volumes in lots (base) and in quote 1e-8 units. */
export interface Candle {
  openTime: number;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
  quoteVolume: number;
  trades: number;
  takerBuyVolume: number;
  takerBuyQuote: number;
  firstTradeId: number;
  lastTradeId: number;
}

/** Changes since the last flush of one diff stream (absolute sizes, 0 = level removed), with its id span. */
export class DepthAccumulator {
  readonly bids = new Map<number, number>();
  readonly asks = new Map<number, number>();
  first = 0;
  last = 0;

  add(bid: boolean, px: number, qty: number, id: number): void {
    if (this.first === 0) this.first = id;
    this.last = id;
    (bid ? this.bids : this.asks).set(px, qty);
  }

  clear(): void {
    this.bids.clear();
    this.asks.clear();
    this.first = 0;
    this.last = 0;
  }
}

/** What the streams learn from the market, as it happens. */
export interface MarketListener {
  onBookTicker(m: SymbolMarket): void;
  onTrade(m: SymbolMarket, t: PublicTrade): void;
}

const MINUTE_MS = 60_000;
const MAX_TRADES = 1000;
/** Two days of 1-minute candles: enough for a 24-hour ticker and a day of 1m..1d klines. */
const MAX_CANDLES = 2880;
/** Levels per side of a book synthesised from quotes. */
const SYNTH_LEVELS = 50;

/** One side of a synthesised book: its levels, best price and the grid range it holds (empty: hi < lo). */
class SynthSide {
  readonly cur = new Map<number, number>();
  best = Number.NaN;
  lo = 0;
  hi = -1;
}

export class SymbolMarket {
  readonly symbol: string;
  readonly inst: Instrument;
  /** A USD-M futures market (a perpetual or future): margin and positions instead of asset balances. */
  readonly usdm: boolean;
  readonly book = new L2Book();
  /** Id of the last book change; the REST snapshot's lastUpdateId. */
  updateId = 0;
  /** 1-based id of the next public trade. */
  nextTradeId = 1;
  readonly trades: PublicTrade[] = [];
  readonly candles: Candle[] = [];
  /** Diff accumulators, one per published interval (100 and 1000 ms). */
  readonly fast = new DepthAccumulator();
  readonly slow = new DepthAccumulator();
  /** Open time of the last 1-minute candle streamed as closed (x=true). */
  lastClosedKline = 0;
  /** Diffs accumulate only once the server is open (not over the warm-up history, which nobody streams). */
  publishing = false;
  /** Synthesise depth from L1 quotes (the demo feed and quote-only captures) instead of real deltas. */
  synth = true;
  /** Multiplies the feed's sizes (the demo generator's lots are small for a spot lot of 0.00001). */
  readonly sizeScale: number;
  /** Grid spacing of synthetic levels, ticks. */
  private readonly spacing: number;
  /** Set when a book delta of a group arrived; the group's update id. */
  private groupOpen = false;

  constructor(inst: Instrument, sizeScale: number, spacingTicks: number) {
    this.inst = inst;
    this.symbol = inst.symbol;
    this.usdm = inst.kind !== InstrumentKind.SPOT;
    this.sizeScale = sizeScale;
    this.spacing = Math.max(1, spacingTicks);
  }

  get lastTrade(): PublicTrade | undefined {
    return this.trades[this.trades.length - 1];
  }

  /**
   * Applies an L1 quote as a synthetic book: the quote's best levels, then levels on a fixed price grid
   * whose sizes depend only on the price, so most levels survive a move and a diff stays small. Only what
   * changed is computed (the grid ranges' difference), then emitted as one BookDelta group into `out` (the
   * simulated exchange's input).
   */
  quoteToDeltas(
    tsEvent: number,
    bidPx: number,
    bidQty: number,
    askPx: number,
    askQty: number,
    out: (d: BookDelta) => void,
  ): void {
    const ch = this.changes;
    ch.length = 0;
    this.synthSide(this.sBids, true, bidPx, Math.max(1, bidQty * this.sizeScale), ch);
    this.synthSide(this.sAsks, false, askPx, Math.max(1, askQty * this.sizeScale), ch);
    const n = ch.length;
    if (n === 0) return;
    const d = this.scratch;
    d.instrumentId = this.inst.id;
    d.tsEvent = tsEvent as Micros;
    d.tsInit = tsEvent as Micros;
    for (let i = 0; i < n; i += 3) {
      d.side = ch[i] === 1 ? MdSide.BUY : MdSide.SELL;
      d.px = ch[i + 1]! as PriceTicks;
      d.qty = ch[i + 2]! as QtyLots;
      d.flags = i === n - 3 ? DeltaFlag.LAST : 0;
      d.sequence = 0;
      out(d);
    }
  }

  private readonly sBids = new SynthSide();
  private readonly sAsks = new SynthSide();
  /** (side 1 = bid, price, size) triples of the group being built. */
  private readonly changes: number[] = [];

  /** Moves one side to best `px` of size `qty` and its grid beyond it; appends the level changes. */
  private synthSide(side: SynthSide, bid: boolean, px: number, qty: number, ch: number[]): void {
    const s = this.spacing;
    const n = SYNTH_LEVELS - 1;
    let lo: number;
    let hi: number;
    if (bid) {
      hi = Math.floor((px - 1) / s) * s;
      lo = Math.max(s, hi - (n - 1) * s);
    } else {
      lo = Math.ceil((px + 1) / s) * s;
      hi = lo + (n - 1) * s;
    }
    const old = side.best;
    // The old best leaves, or turns back into a plain grid level.
    if (!Number.isNaN(old) && old !== px) {
      const onGrid = old % s === 0 && old >= lo && old <= hi;
      this.level(side, bid, old, onGrid ? this.gridQty(old) : 0, ch);
    }
    for (let g = side.lo; g <= side.hi; g += s) {
      if ((g < lo || g > hi) && g !== px) this.level(side, bid, g, 0, ch);
    }
    for (let g = lo; g <= hi; g += s) {
      if (g < side.lo || g > side.hi) this.level(side, bid, g, this.gridQty(g), ch);
    }
    side.lo = lo;
    side.hi = hi;
    side.best = px;
    this.level(side, bid, px, qty, ch);
  }

  private level(side: SynthSide, bid: boolean, px: number, qty: number, ch: number[]): void {
    if ((side.cur.get(px) ?? 0) === qty) return;
    if (qty === 0) side.cur.delete(px);
    else side.cur.set(px, qty);
    ch.push(bid ? 1 : 0, px, qty);
  }

  private readonly scratch = new BookDelta();

  /** A level's size on the synthetic grid: a hash of its price, 1..60 lots times the size scale. */
  private gridQty(px: number): number {
    let h = Math.imul(px ^ 0x9e3779b9, 0x85ebca6b);
    h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
    h ^= h >>> 16;
    return (1 + ((h >>> 0) % 60)) * this.sizeScale;
  }

  /**
   * Records a delta that the simulated exchange has applied to `book`: one update id per group (a delta with
   * DeltaFlag.LAST, or any delta of a feed without groups), and the change in both diff accumulators.
   */
  noteDelta(side: number, px: number, qty: number, flags: number): void {
    if (!this.groupOpen) {
      this.updateId++;
      this.groupOpen = true;
    }
    if (this.publishing) {
      const bid = side === MdSide.BUY;
      this.fast.add(bid, px, qty, this.updateId);
      this.slow.add(bid, px, qty, this.updateId);
    }
    if ((flags & DeltaFlag.LAST) !== 0 || !this.synth) this.groupOpen = false;
  }

  /** Records a public trade and folds it into the current 1-minute candle. */
  noteTrade(tsMicros: number, px: number, qty: number, aggressor: number): PublicTrade {
    const time = Math.floor(tsMicros / 1000);
    const t: PublicTrade = {
      id: this.nextTradeId++,
      px,
      qty,
      time,
      buyerMaker: aggressor === MdSide.SELL,
    };
    this.trades.push(t);
    if (this.trades.length > MAX_TRADES * 2) this.trades.splice(0, this.trades.length - MAX_TRADES);
    const c = this.candleAt(time, px);
    if (c.trades === 0) c.open = px;
    c.high = c.trades === 0 ? px : Math.max(c.high, px);
    c.low = c.trades === 0 ? px : Math.min(c.low, px);
    c.close = px;
    const quote = this.quoteUnits(px, qty);
    c.volume += qty;
    c.quoteVolume += quote;
    if (!t.buyerMaker) {
      c.takerBuyVolume += qty;
      c.takerBuyQuote += quote;
    }
    if (c.trades === 0) c.firstTradeId = t.id;
    c.lastTradeId = t.id;
    c.trades++;
    return t;
  }

  /** The candle holding `timeMs`, opening the minutes in between (flat at the last close, as Binance does). */
  candleAt(timeMs: number, px: number): Candle {
    const open = timeMs - (timeMs % MINUTE_MS);
    let last = this.candles[this.candles.length - 1];
    if (last !== undefined && last.openTime === open) return last;
    const prevClose = last?.close ?? px;
    let t = last === undefined ? open : last.openTime + MINUTE_MS;
    // A long gap in the data does not open millions of empty candles: at most two days' worth.
    if (open - t > MAX_CANDLES * MINUTE_MS) t = open - MAX_CANDLES * MINUTE_MS;
    for (; t <= open; t += MINUTE_MS) {
      last = {
        openTime: t,
        open: prevClose,
        high: prevClose,
        low: prevClose,
        close: prevClose,
        volume: 0,
        quoteVolume: 0,
        trades: 0,
        takerBuyVolume: 0,
        takerBuyQuote: 0,
        firstTradeId: -1,
        lastTradeId: -1,
      };
      this.candles.push(last);
    }
    if (this.candles.length > MAX_CANDLES + 60) this.candles.splice(0, this.candles.length - MAX_CANDLES);
    return last!;
  }

  /** Price x quantity in quote-asset units of 1e-8 (exact: tick and lot scales sum to at most 8). */
  quoteUnits(px: number, qty: number): number {
    return px * qty * this.notionalFactor;
  }

  get notionalFactor(): number {
    const t = this.inst.tickSize;
    const l = this.inst.lotSize;
    return t.units * l.units * 10 ** (8 - t.scale - l.scale);
  }

  /** Lots to base-asset units of 1e-8. */
  baseUnits(lots: number): number {
    const l = this.inst.lotSize;
    return lots * l.units * 10 ** (8 - l.scale);
  }

  bestBid(): number {
    return this.book.bestBid();
  }

  bestAsk(): number {
    return this.book.bestAsk();
  }

  /** Up to n levels of a side, best first, as [ticks, lots] pairs. */
  levels(bid: boolean, n: number): [number, number][] {
    const side = bid ? BookSide.BID : BookSide.ASK;
    const count = Math.min(n, this.book.levelCount(side));
    const px = new Float64Array(count);
    const qty = new Float64Array(count);
    const got = this.book.depth(side, count, px, qty);
    const out: [number, number][] = [];
    for (let i = 0; i < got; i++) out.push([px[i]!, qty[i]!]);
    return out;
  }

  /** Quote units (1e-8) a market buy of `lots` would cost walking the displayed asks; NaN if too deep. */
  costToBuy(lots: number): number {
    let left = lots;
    let cost = 0;
    for (const [px, q] of this.levels(false, 5000)) {
      const take = Math.min(left, q);
      cost += this.quoteUnits(px, take);
      left -= take;
      if (left <= 0) return cost;
    }
    return Number.NaN;
  }
}
