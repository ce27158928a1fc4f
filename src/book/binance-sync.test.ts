// The Binance sync state machine: spot and futures bridging rules, gaps, resyncs, diffs mode, and a property.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Bot4Error } from '../core/errors.ts';
import type { Micros } from '../core/units.ts';
import {
  BinanceDepthSync,
  BinanceMarket,
  DepthEvent,
  SyncResult,
  SyncStart,
  SyncState,
} from './binance-sync.ts';
import { L2Book, Side } from './l2-book.ts';

type Levels = [number, number][];

function event(U: number, u: number, pu: number, bids: Levels = [], asks: Levels = []): DepthEvent {
  const ev = new DepthEvent();
  ev.firstId = U;
  ev.finalId = u;
  ev.prevFinalId = pu;
  ev.tsEvent = (u * 1000) as Micros;
  for (const [p, q] of bids) ev.bids.push(p, q);
  for (const [p, q] of asks) ev.asks.push(p, q);
  return ev;
}

function snapshot(lastUpdateId: number, bids: Levels, asks: Levels): DepthEvent {
  return event(0, lastUpdateId, -1, bids, asks);
}

function levels(book: L2Book, side: Side): Levels {
  const n = book.levelCount(side);
  const p = new Float64Array(n);
  const q = new Float64Array(n);
  book.depth(side, n, p, q);
  return Array.from({ length: n }, (_, i) => [p[i]!, q[i]!]);
}

describe('BinanceDepthSync, spot rules', () => {
  it('buffers, applies the snapshot, drops u <= lastUpdateId and bridges with U <= L+1 <= u', () => {
    const book = new L2Book();
    const sync = new BinanceDepthSync(book, { market: BinanceMarket.SPOT });
    expect(sync.state).toBe(SyncState.WAITING_SNAPSHOT);
    expect(sync.onDepth(event(1, 5, -1, [[100, 1]]))).toBe(SyncResult.BUFFERED);
    expect(sync.onDepth(event(6, 10, -1, [[101, 2]]))).toBe(SyncResult.BUFFERED);
    expect(sync.onDepth(event(11, 12, -1, [], [[103, 4]]))).toBe(SyncResult.BUFFERED);
    expect(sync.buffered).toBe(3);
    // Snapshot at 8: the first event is stale, the second straddles (6 <= 9 <= 10), the third follows.
    expect(sync.onSnapshot(snapshot(8, [[99, 5]], [[105, 1]]))).toBe(SyncState.IN_SYNC);
    expect(sync.dropped).toBe(1);
    expect(sync.applied).toBe(2);
    expect(book.sequence).toBe(12);
    expect(levels(book, Side.BID)).toEqual([
      [101, 2],
      [99, 5],
    ]);
    expect(book.bestAsk()).toBe(103);
    expect(sync.onDepth(event(13, 15, -1, [[101, 0]]))).toBe(SyncResult.APPLIED);
    expect(book.bestBid()).toBe(99);
    expect(sync.onDepth(event(13, 15, -1))).toBe(SyncResult.STALE);
  });

  it('treats u == lastUpdateId as stale on spot', () => {
    const sync = new BinanceDepthSync(new L2Book(), { market: BinanceMarket.SPOT });
    sync.onDepth(event(5, 8, -1, [[1, 1]]));
    sync.onSnapshot(snapshot(8, [], []));
    expect(sync.dropped).toBe(1);
    expect(sync.onDepth(event(9, 9, -1, [[2, 1]]))).toBe(SyncResult.APPLIED);
  });

  it('on a gap goes OUT_OF_SYNC, asks for a resync, buffers, and recovers from the next snapshot', () => {
    const book = new L2Book();
    const sync = new BinanceDepthSync(book, { market: BinanceMarket.SPOT });
    sync.onSnapshot(snapshot(10, [[100, 1]], [[110, 1]]));
    expect(sync.onDepth(event(11, 12, -1, [[101, 1]]))).toBe(SyncResult.APPLIED);
    expect(sync.onDepth(event(14, 15, -1, [[102, 1]]))).toBe(SyncResult.GAP);
    expect(sync.state).toBe(SyncState.OUT_OF_SYNC);
    expect(sync.resyncRequested).toBe(true);
    expect(sync.gaps).toBe(1);
    expect(sync.resyncs).toBe(1);
    expect(book.bestBid()).toBe(101); // the gapped event was not applied
    expect(sync.onDepth(event(16, 16, -1, [[103, 1]]))).toBe(SyncResult.BUFFERED);
    expect(sync.onSnapshot(snapshot(14, [[90, 1]], [[110, 1]]))).toBe(SyncState.IN_SYNC);
    expect(sync.resyncRequested).toBe(false);
    expect(levels(book, Side.BID)).toEqual([
      [103, 1],
      [102, 1],
      [90, 1],
    ]);
  });

  it('stays OUT_OF_SYNC, events kept in order, when the snapshot is older than the buffered stream', () => {
    const book = new L2Book();
    const sync = new BinanceDepthSync(book, { market: BinanceMarket.SPOT });
    sync.onDepth(event(20, 21, -1, [[1, 1]]));
    sync.onDepth(event(22, 23, -1, [[2, 1]]));
    expect(sync.onSnapshot(snapshot(10, [], []))).toBe(SyncState.OUT_OF_SYNC);
    expect(sync.resyncRequested).toBe(true);
    expect(sync.buffered).toBe(2);
    expect(sync.onSnapshot(snapshot(21, [[5, 5]], []))).toBe(SyncState.IN_SYNC);
    expect(levels(book, Side.BID)).toEqual([
      [5, 5],
      [2, 1],
    ]);
  });

  it('drops the oldest buffered events when the buffer is full and counts it', () => {
    const sync = new BinanceDepthSync(new L2Book(), { market: BinanceMarket.SPOT, bufferCapacity: 2 });
    for (let i = 1; i <= 5; i++) sync.onDepth(event(i, i, -1));
    expect(sync.buffered).toBe(2);
    expect(sync.bufferOverflows).toBe(3);
    expect(sync.onSnapshot(snapshot(3, [], []))).toBe(SyncState.IN_SYNC);
    expect(sync.applied).toBe(2);
  });

  it('refuses a bad buffer capacity, naming the option', () => {
    expect(
      () => new BinanceDepthSync(new L2Book(), { market: BinanceMarket.SPOT, bufferCapacity: 0 }),
    ).toThrow(/bufferCapacity 0/);
  });
});

describe('BinanceDepthSync, futures rules', () => {
  it('bridges with U <= lastUpdateId <= u, then requires pu == previous u', () => {
    const book = new L2Book();
    const sync = new BinanceDepthSync(book, { market: BinanceMarket.FUTURES });
    sync.onDepth(event(100, 120, 90, [[10, 1]]));
    sync.onDepth(event(125, 140, 120, [[11, 1]]));
    sync.onDepth(event(151, 160, 140, [[12, 1]]));
    // L = 140: the first event is stale (u < L); u == L is accepted on futures (U 125 <= 140 <= 140).
    expect(sync.onSnapshot(snapshot(140, [[9, 1]], [[20, 1]]))).toBe(SyncState.IN_SYNC);
    expect(sync.dropped).toBe(1);
    expect(sync.applied).toBe(2);
    expect(book.bestBid()).toBe(12);
    // Ids are not contiguous on futures (U jumps); only pu matters.
    expect(sync.onDepth(event(170, 180, 160, [[13, 1]]))).toBe(SyncResult.APPLIED);
    expect(sync.onDepth(event(190, 200, 185, [[14, 1]]))).toBe(SyncResult.GAP);
    expect(sync.state).toBe(SyncState.OUT_OF_SYNC);
  });

  it('reports a gap when the first event after the snapshot starts after it and does not chain to it', () => {
    const sync = new BinanceDepthSync(new L2Book(), { market: BinanceMarket.FUTURES });
    sync.onSnapshot(snapshot(100, [], []));
    expect(sync.onDepth(event(101, 110, 95))).toBe(SyncResult.GAP);
    expect(sync.resyncRequested).toBe(true);
  });

  it('accepts a first event whose pu is the snapshot id (the snapshot fell between two events)', () => {
    const sync = new BinanceDepthSync(new L2Book(), { market: BinanceMarket.FUTURES });
    sync.onSnapshot(snapshot(100, [], []));
    expect(sync.onDepth(event(104, 110, 100))).toBe(SyncResult.APPLIED);
  });

  it('counts levels with bad prices and books a crossed result', () => {
    const book = new L2Book();
    const sync = new BinanceDepthSync(book, { market: BinanceMarket.FUTURES, start: SyncStart.DIFFS });
    expect(sync.onDepth(event(1, 2, 0, [[1.5, 1]], [[10, 1]]))).toBe(SyncResult.APPLIED_WITH_REJECTS);
    expect(sync.badLevels).toBe(1);
    sync.onDepth(event(3, 4, 2, [[11, 1]]));
    expect(sync.crossedAfterApply).toBe(1);
  });
});

describe('BinanceDepthSync, started from diffs', () => {
  it('applies the first event as is and proves the top only when the spread is fully seen', () => {
    const book = new L2Book();
    const sync = new BinanceDepthSync(book, { market: BinanceMarket.FUTURES, start: SyncStart.DIFFS });
    expect(sync.state).toBe(SyncState.IN_SYNC);
    expect(sync.topCertain(Side.BID)).toBe(false);
    sync.onDepth(event(50, 60, 40, [[100, 1]], [[104, 1]]));
    // 101..103 never seen: a resting bid or ask there would be invisible.
    expect(sync.topCertain(Side.BID)).toBe(false);
    sync.onDepth(event(61, 62, 60, [[101, 0]], [[102, 0]]));
    expect(sync.topCertain(Side.BID)).toBe(false);
    sync.onDepth(
      event(
        63,
        64,
        62,
        [
          [102, 0],
          [103, 0],
        ],
        [
          [101, 0],
          [103, 0],
        ],
      ),
    );
    expect(sync.topCertain(Side.BID)).toBe(true);
    expect(sync.topCertain(Side.ASK)).toBe(true);
    expect(sync.levelsSeen(Side.BID)).toBe(4);
    expect(sync.hasSeen(Side.ASK, 102)).toBe(true);
    expect(sync.hasSeen(Side.ASK, 100)).toBe(false);
    // A one-tick spread is proven at once.
    sync.onDepth(event(65, 66, 64, [[103, 1]]));
    expect(book.bestBid()).toBe(103);
    expect(sync.topCertain(Side.ASK)).toBe(true);
  });

  it('restarts from the gapped event and forgets what it had seen', () => {
    const book = new L2Book();
    const sync = new BinanceDepthSync(book, { market: BinanceMarket.SPOT, start: SyncStart.DIFFS });
    sync.onDepth(event(1, 2, -1, [[100, 1]]));
    expect(sync.onDepth(event(5, 6, -1, [[90, 1]]))).toBe(SyncResult.GAP);
    expect(sync.state).toBe(SyncState.IN_SYNC);
    expect(levels(book, Side.BID)).toEqual([[90, 1]]);
    expect(sync.resyncs).toBe(1);
    expect(sync.levelsSeen(Side.BID)).toBe(1);
    expect(sync.onDepth(event(7, 7, -1))).toBe(SyncResult.APPLIED);
  });

  it('will not take a REST snapshot', () => {
    const sync = new BinanceDepthSync(new L2Book(), { market: BinanceMarket.SPOT, start: SyncStart.DIFFS });
    expect(() => sync.onSnapshot(snapshot(1, [], []))).toThrow(Bot4Error);
  });
});

describe('BinanceDepthSync, property', () => {
  const levelsArb = fc.array(fc.tuple(fc.integer({ min: 1, max: 60 }), fc.integer({ min: 0, max: 5 })), {
    maxLength: 6,
  });
  it('after a snapshot at any point, ends equal to replaying every event; a missing event is a GAP', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(levelsArb, levelsArb, fc.integer({ min: 1, max: 3 })), {
          minLength: 1,
          maxLength: 40,
        }),
        fc.constantFrom(BinanceMarket.SPOT, BinanceMarket.FUTURES),
        fc.nat(),
        fc.nat(),
        fc.option(fc.nat(), { nil: undefined }),
        (specs, market, snapSeed, arriveSeed, missingSeed) => {
          // Events with contiguous ids (spot) / chained pu (futures; ids may jump between events).
          const events: DepthEvent[] = [];
          let next = 1000;
          let prev = 999;
          for (const [b, a, len] of specs) {
            const U = market === BinanceMarket.FUTURES ? next + (len - 1) : next;
            const u = U + len - 1;
            events.push(event(U, u, market === BinanceMarket.FUTURES ? prev : -1, b, a));
            prev = u;
            next = u + 1;
          }
          // The reference: every event applied in order, state recorded after each.
          const ref = new L2Book();
          const states: { bids: Levels; asks: Levels; u: number }[] = [];
          for (const ev of events) {
            for (let i = 0; i < ev.bids.count; i++)
              ref.set(Side.BID, ev.bids.prices[i]! as never, ev.bids.qtys[i]! as never);
            for (let i = 0; i < ev.asks.count; i++)
              ref.set(Side.ASK, ev.asks.prices[i]! as never, ev.asks.qtys[i]! as never);
            states.push({ bids: levels(ref, Side.BID), asks: levels(ref, Side.ASK), u: ev.finalId });
          }
          const k = snapSeed % events.length; // the snapshot reflects events[0..k]
          const arrived = Math.min(events.length, k + 1 + (arriveSeed % 3)); // events seen before the snapshot
          const missing = missingSeed === undefined ? -1 : missingSeed % events.length;
          const book = new L2Book();
          const sync = new BinanceDepthSync(book, { market });
          const feed = (i: number) => (i === missing ? undefined : sync.onDepth(events[i]!));
          for (let i = 0; i < arrived; i++) feed(i);
          const s = states[k]!;
          sync.onSnapshot(snapshot(s.u, s.bids, s.asks));
          for (let i = arrived; i < events.length; i++) feed(i);
          if (missing > k) {
            // A missing event after the snapshot breaks the chain, unless it was the very last one.
            if (missing < events.length - 1) {
              expect(sync.gaps).toBe(1);
              expect(sync.state).toBe(SyncState.OUT_OF_SYNC);
              return;
            }
            const last = states[events.length - 2]!;
            expect(levels(book, Side.BID)).toEqual(last.bids);
            return;
          }
          const last = states[events.length - 1]!;
          expect(sync.gaps).toBe(0);
          expect(sync.state).toBe(SyncState.IN_SYNC);
          expect(book.sequence).toBe(last.u);
          expect(levels(book, Side.BID)).toEqual(last.bids);
          expect(levels(book, Side.ASK)).toEqual(last.asks);
        },
      ),
      { numRuns: 300 },
    );
  });
});
