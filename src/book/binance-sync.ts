// Keeps an L2Book in step with Binance diff-depth streams: buffer, snapshot, bridge, then strict continuity.
// Invariants: the book only ever holds snapshot + contiguous diffs (or, started from diffs, exactly the
// levels seen); a break in continuity is a result code (GAP) and a resync request, never an exception.
// Units: update ids are Binance's (numbers, exact below 2^53); prices/sizes PriceTicks/QtyLots; time Micros.
//
// Rules (Binance "How to manage a local order book correctly"):
// - spot: drop events with u <= lastUpdateId; the first applied has U <= lastUpdateId+1 <= u; then U = prev u + 1.
// - USD-M and COIN-M futures: drop u < lastUpdateId; the first has U <= lastUpdateId <= u (or pu equal to
//   lastUpdateId: the snapshot fell exactly between two events); then pu = prev u.
// Started from diffs (captures without a REST snapshot), the first event is taken as is and the book is only
// valid for levels seen since; `topCertain` says when the best price of a side is nevertheless proven.

import { Bot4Error, ErrorCode } from '../core/errors.ts';
import type { Micros, PriceTicks, QtyLots } from '../core/units.ts';
import { type L2Book, type LevelList, SetResult, Side } from './l2-book.ts';

export const BinanceMarket = { SPOT: 'spot', FUTURES: 'futures' } as const;
export type BinanceMarket = (typeof BinanceMarket)[keyof typeof BinanceMarket];

export const SyncStart = { SNAPSHOT: 'snapshot', DIFFS: 'diffs' } as const;
export type SyncStart = (typeof SyncStart)[keyof typeof SyncStart];

export const SyncState = {
  /** Buffering diffs until a REST snapshot arrives (start, or after a gap). */
  WAITING_SNAPSHOT: 'WAITING_SNAPSHOT',
  IN_SYNC: 'IN_SYNC',
  /** A gap was seen; diffs are buffered and a new snapshot is needed (`resyncRequested`). */
  OUT_OF_SYNC: 'OUT_OF_SYNC',
} as const;
export type SyncState = (typeof SyncState)[keyof typeof SyncState];

export const SyncResult = {
  APPLIED: 0,
  /** Applied, but some levels had a bad price or size and were left out (counted in `badLevels`). */
  APPLIED_WITH_REJECTS: 1,
  /** Kept for replay after the next snapshot. */
  BUFFERED: 2,
  /** Already covered by the book (or the snapshot): dropped. */
  STALE: 3,
  /** Continuity broken. Snapshot mode: OUT_OF_SYNC, event buffered, resync requested. Diffs mode: the book
   *  was cleared and restarted from this event. */
  GAP: 4,
} as const;
export type SyncResult = (typeof SyncResult)[keyof typeof SyncResult];

/** Growable parallel arrays of levels (grows only when an event is larger than any before). */
export class LevelArrays implements LevelList {
  prices: Float64Array;
  qtys: Float64Array;
  count = 0;

  constructor(capacity = 64) {
    this.prices = new Float64Array(capacity);
    this.qtys = new Float64Array(capacity);
  }

  push(price: number, qty: number): void {
    if (this.count === this.prices.length) this.reserve(this.count * 2);
    this.prices[this.count] = price;
    this.qtys[this.count] = qty;
    this.count++;
  }

  reserve(capacity: number): void {
    if (capacity <= this.prices.length) return;
    const prices = new Float64Array(capacity);
    prices.set(this.prices.subarray(0, this.count));
    const qtys = new Float64Array(capacity);
    qtys.set(this.qtys.subarray(0, this.count));
    this.prices = prices;
    this.qtys = qtys;
  }

  copyFrom(other: LevelArrays): void {
    this.reserve(other.count);
    this.prices.set(other.prices.subarray(0, other.count));
    this.qtys.set(other.qtys.subarray(0, other.count));
    this.count = other.count;
  }
}

/**
 * One depthUpdate (or, for `onSnapshot`, one REST snapshot with finalId = lastUpdateId), already converted
 * to ticks and lots. Preallocate and refill it; the sync copies what it needs to keep.
 */
export class DepthEvent {
  /** U: first update id in the event (unused for snapshots). */
  firstId = 0;
  /** u: final update id in the event; lastUpdateId for a snapshot. */
  finalId = 0;
  /** pu: the previous event's final id (futures only); -1 on spot. */
  prevFinalId = -1;
  /** Exchange time (T if present, else E), micros. */
  tsEvent = 0 as Micros;
  readonly bids = new LevelArrays();
  readonly asks = new LevelArrays();

  reset(): void {
    this.firstId = 0;
    this.finalId = 0;
    this.prevFinalId = -1;
    this.tsEvent = 0 as Micros;
    this.bids.count = 0;
    this.asks.count = 0;
  }

  copyFrom(o: DepthEvent): void {
    this.firstId = o.firstId;
    this.finalId = o.finalId;
    this.prevFinalId = o.prevFinalId;
    this.tsEvent = o.tsEvent;
    this.bids.copyFrom(o.bids);
    this.asks.copyFrom(o.asks);
  }
}

export interface BinanceSyncOptions {
  market: BinanceMarket;
  /** 'snapshot' (default, live): wait for a REST snapshot. 'diffs': captures without one. */
  start?: SyncStart;
  /** Events kept while waiting for a snapshot; the oldest is dropped when full. Default 4096. */
  bufferCapacity?: number;
}

/** Widest spread (ticks) `topCertain` will scan in diffs mode; wider spreads count as not proven. */
const MAX_PROOF_SPREAD = 4096;

export class BinanceDepthSync {
  readonly book: L2Book;
  readonly market: BinanceMarket;
  readonly start: SyncStart;
  state: SyncState;
  /** Set on a gap in snapshot mode: the owner should fetch a REST snapshot and call `onSnapshot`. */
  resyncRequested = false;

  // Counters for metrics and reports.
  applied = 0;
  /** Stale events dropped (u already covered). */
  dropped = 0;
  gaps = 0;
  /** Resyncs requested (snapshot mode) or restarts from diffs (diffs mode). */
  resyncs = 0;
  /** Levels with a bad price or size, left out of the book. */
  badLevels = 0;
  /** Buffered events lost because the buffer was full. */
  bufferOverflows = 0;
  /** Applied events after which the book was crossed: a sign of corrupt or missing data. */
  crossedAfterApply = 0;

  /** Final id of the last applied event, or the snapshot's lastUpdateId; -1 before anything. */
  private last = -1;
  /** True right after a snapshot: the next event must bridge it. */
  private bridging = false;
  /** Ring of events kept while waiting for a snapshot; slots are created on first use. */
  private readonly buffer: (DepthEvent | undefined)[];
  private head = 0;
  private size = 0;
  private replaying = false;
  /** Diffs mode: prices seen per side since the (re)start. */
  private readonly seen: [Set<number>, Set<number>] = [new Set(), new Set()];

  constructor(book: L2Book, options: BinanceSyncOptions) {
    const cap = options.bufferCapacity ?? 4096;
    if (!Number.isInteger(cap) || cap < 1) {
      throw new Bot4Error(ErrorCode.INVALID_ARGUMENT, `bufferCapacity ${cap} must be a positive integer`, {
        bufferCapacity: cap,
      });
    }
    this.book = book;
    this.market = options.market;
    this.start = options.start ?? SyncStart.SNAPSHOT;
    this.state = this.start === SyncStart.DIFFS ? SyncState.IN_SYNC : SyncState.WAITING_SNAPSHOT;
    this.buffer = new Array<DepthEvent | undefined>(this.start === SyncStart.SNAPSHOT ? cap : 0);
  }

  /** Events waiting for a snapshot. */
  get buffered(): number {
    return this.size;
  }

  /** The update id the book reflects (-1 before anything was applied). */
  get lastUpdateId(): number {
    return this.last;
  }

  /** Diffs mode: how many distinct prices of a side have been seen since the (re)start. */
  levelsSeen(side: Side): number {
    return this.seen[side].size;
  }

  /** Diffs mode: whether the current size at this price is known (it was updated since the (re)start). */
  hasSeen(side: Side, price: number): boolean {
    return this.start === SyncStart.SNAPSHOT || this.seen[side].has(price);
  }

  onDepth(ev: DepthEvent): SyncResult {
    if (this.state !== SyncState.IN_SYNC) {
      this.keep(ev);
      return SyncResult.BUFFERED;
    }
    return this.process(ev);
  }

  /**
   * Applies a REST snapshot (finalId = lastUpdateId), then replays the buffered events through the rules.
   * Returns the state afterwards (OUT_OF_SYNC when the snapshot is older than the buffered stream).
   */
  onSnapshot(snap: DepthEvent): SyncState {
    if (this.start === SyncStart.DIFFS) {
      throw new Bot4Error(
        ErrorCode.INVALID_ARGUMENT,
        'a REST snapshot was given to a Binance depth sync started from diffs; start it with start: "snapshot"',
        { lastUpdateId: snap.finalId },
      );
    }
    this.badLevels += this.book.applySnapshot(snap.bids, snap.asks, snap.finalId, snap.tsEvent);
    this.last = snap.finalId;
    this.bridging = true;
    this.state = SyncState.IN_SYNC;
    this.resyncRequested = false;
    const cap = this.buffer.length;
    while (this.size > 0 && this.state === SyncState.IN_SYNC) {
      // On a gap the event stays at the head of the buffer, in order, for the next snapshot.
      this.replaying = true;
      const result = this.process(this.buffer[this.head]!);
      this.replaying = false;
      if (result === SyncResult.GAP) break;
      this.head = (this.head + 1) % cap;
      this.size--;
    }
    return this.state;
  }

  /**
   * Diffs mode: whether the best price of `side` is proven although levels may be missing. Every level in
   * the book is real (it was set since the start), so the true best bid is >= ours and the true best ask
   * <= ours; the truth is never crossed, so any missing better level lies strictly inside our spread. If
   * every tick inside the spread has been seen on that side (trivially so for a one-tick spread), none is
   * missing. Snapshot mode: true whenever in sync and the side has a level (assuming the price stays within
   * the snapshot's depth, 1,000 levels a side on Binance; untouched levels beyond it are unknown).
   */
  topCertain(side: Side): boolean {
    if (this.state !== SyncState.IN_SYNC) return false;
    const bid = this.book.bestBid();
    const ask = this.book.bestAsk();
    if (this.start === SyncStart.SNAPSHOT) return !Number.isNaN(side === Side.BID ? bid : ask);
    if (Number.isNaN(bid) || Number.isNaN(ask) || ask - bid > MAX_PROOF_SPREAD) return false;
    const seen = this.seen[side];
    for (let p = bid + 1; p < ask; p++) if (!seen.has(p)) return false;
    return true;
  }

  private process(ev: DepthEvent): SyncResult {
    const u = ev.finalId;
    if (this.last >= 0) {
      if (this.bridging) {
        // The first event after a snapshot must straddle it.
        if (this.market === BinanceMarket.SPOT) {
          if (u <= this.last) return this.stale();
          if (ev.firstId > this.last + 1) return this.gap(ev);
        } else {
          if (u < this.last) return this.stale();
          // pu == lastUpdateId also bridges: the snapshot then ends exactly where this event starts.
          if (ev.firstId > this.last && ev.prevFinalId !== this.last) return this.gap(ev);
        }
      } else {
        if (u <= this.last) return this.stale();
        const continuous =
          this.market === BinanceMarket.SPOT ? ev.firstId === this.last + 1 : ev.prevFinalId === this.last;
        if (!continuous) return this.gap(ev);
      }
    }
    return this.apply(ev);
  }

  private apply(ev: DepthEvent): SyncResult {
    const book = this.book;
    const track = this.start === SyncStart.DIFFS;
    let bad = 0;
    const bids = ev.bids;
    for (let i = 0; i < bids.count; i++) {
      const p = bids.prices[i]!;
      // BAD_PRICE and BAD_QTY are the two highest codes.
      if (book.set(Side.BID, p as PriceTicks, bids.qtys[i]! as QtyLots) >= SetResult.BAD_PRICE) bad++;
      else if (track) this.seen[0].add(p);
    }
    const asks = ev.asks;
    for (let i = 0; i < asks.count; i++) {
      const p = asks.prices[i]!;
      if (book.set(Side.ASK, p as PriceTicks, asks.qtys[i]! as QtyLots) >= SetResult.BAD_PRICE) bad++;
      else if (track) this.seen[1].add(p);
    }
    book.sequence = ev.finalId;
    book.tsEvent = ev.tsEvent;
    this.last = ev.finalId;
    this.bridging = false;
    this.applied++;
    if (book.crossed()) this.crossedAfterApply++;
    if (bad === 0) return SyncResult.APPLIED;
    this.badLevels += bad;
    return SyncResult.APPLIED_WITH_REJECTS;
  }

  private stale(): SyncResult {
    this.dropped++;
    return SyncResult.STALE;
  }

  private gap(ev: DepthEvent): SyncResult {
    this.gaps++;
    this.resyncs++;
    if (this.start === SyncStart.DIFFS) {
      this.book.clear();
      this.seen[0].clear();
      this.seen[1].clear();
      this.apply(ev);
      return SyncResult.GAP;
    }
    this.state = SyncState.OUT_OF_SYNC;
    this.resyncRequested = true;
    this.bridging = false;
    if (!this.replaying) this.keep(ev);
    return SyncResult.GAP;
  }

  private keep(ev: DepthEvent): void {
    const cap = this.buffer.length;
    if (cap === 0) return;
    if (this.size === cap) {
      // A snapshot taken later will be newer than the oldest events anyway.
      this.head = (this.head + 1) % cap;
      this.size--;
      this.bufferOverflows++;
    }
    const at = (this.head + this.size) % cap;
    let slot = this.buffer[at];
    if (slot === undefined) {
      slot = new DepthEvent();
      this.buffer[at] = slot;
    }
    slot.copyFrom(ev);
    this.size++;
  }
}
