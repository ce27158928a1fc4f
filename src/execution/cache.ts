// The engine's memory of orders: every live or recently closed order by integer id, and the open ones by
// instrument and by strategy, all O(1) without Map lookups or allocation. Orders sit in a power-of-two ring of
// slots (slot = id & mask): ids only grow, but memory stays bounded by the orders not yet purged; the ring
// doubles only when a new id lands on a slot still held by an older unpurged order.

import type { InstrumentId, OrderId, StrategyId } from '../core/units.ts';
import type { InstrumentRegistry } from '../model/instrument.ts';
import type { Order } from '../model/order.ts';

/** Open order ids of one instrument or strategy; swap-remove keeps add and remove O(1). */
class OpenSet {
  ids: OrderId[] = [];
}

const INITIAL_SLOTS = 1024;

export class Cache {
  readonly instruments: InstrumentRegistry;
  private slots: (Order | undefined)[] = new Array<Order | undefined>(INITIAL_SLOTS).fill(undefined);
  private mask = INITIAL_SLOTS - 1;
  /** Position of each slot's open order in its instrument set, strategy set and the all-open set (-1: closed). */
  private posInstrument = new Int32Array(INITIAL_SLOTS).fill(-1);
  private posStrategy = new Int32Array(INITIAL_SLOTS).fill(-1);
  private posAll = new Int32Array(INITIAL_SLOTS).fill(-1);
  private readonly byInstrument: OpenSet[] = [];
  private readonly byStrategy: OpenSet[] = [];
  private readonly allOpen = new OpenSet();
  /** Orders closed since the last purge, so a purge costs what it frees, not the whole history. */
  private readonly closedSincePurge: OrderId[] = [];
  /** 1 where the slot's order is already in closedSincePurge (an O(1) test instead of a search). */
  private queued = new Uint8Array(INITIAL_SLOTS);
  private maxId = 0;

  constructor(instruments: InstrumentRegistry) {
    this.instruments = instruments;
  }

  addOrder(order: Order): void {
    while (this.slots[order.id & this.mask] !== undefined) this.grow();
    this.slots[order.id & this.mask] = order;
    if (order.id > this.maxId) this.maxId = order.id;
  }

  /** The order with this id, or undefined if unknown or purged. */
  order(id: OrderId | number): Order | undefined {
    const o = this.slots[id & this.mask];
    return o !== undefined && o.id === id ? o : undefined;
  }

  /** Highest order id ever added. */
  get lastOrderId(): number {
    return this.maxId;
  }

  isOpen(id: OrderId): boolean {
    return this.order(id) !== undefined && this.posAll[id & this.mask]! >= 0;
  }

  /** Marks an order open (working at a venue or held by the emulator). Idempotent. */
  markOpen(order: Order): void {
    const slot = order.id & this.mask;
    if (this.posAll[slot]! >= 0) return;
    this.posAll[slot] = push(this.allOpen, order.id);
    this.posInstrument[slot] = push(setAt(this.byInstrument, order.instrumentId), order.id);
    this.posStrategy[slot] = push(setAt(this.byStrategy, order.strategyId), order.id);
  }

  /** Marks an order closed (terminal). Idempotent. */
  markClosed(order: Order): void {
    const slot = order.id & this.mask;
    if (this.posAll[slot]! < 0) {
      if (this.slots[slot] === order) this.queueForPurge(slot, order.id);
      return;
    }
    this.remove(this.allOpen, this.posAll, order.id);
    this.remove(setAt(this.byInstrument, order.instrumentId), this.posInstrument, order.id);
    this.remove(setAt(this.byStrategy, order.strategyId), this.posStrategy, order.id);
    this.queueForPurge(slot, order.id);
  }

  private queueForPurge(slot: number, id: OrderId): void {
    if (this.queued[slot] === 1) return;
    this.queued[slot] = 1;
    this.closedSincePurge.push(id);
  }

  /** Open order ids on an instrument. The array is live: copy it before changing orders while iterating. */
  openOrderIds(instrumentId: InstrumentId): readonly OrderId[] {
    return this.byInstrument[instrumentId]?.ids ?? EMPTY;
  }

  openOrderIdsOfStrategy(strategyId: StrategyId): readonly OrderId[] {
    return this.byStrategy[strategyId]?.ids ?? EMPTY;
  }

  allOpenOrderIds(): readonly OrderId[] {
    return this.allOpen.ids;
  }

  openCount(instrumentId?: InstrumentId): number {
    return instrumentId === undefined
      ? this.allOpen.ids.length
      : (this.byInstrument[instrumentId]?.ids.length ?? 0);
  }

  /** Drops orders closed since the last purge (their events stay in the journal); hands them back for pooling. */
  purgeClosed(release: (order: Order) => void): number {
    const ids = this.closedSincePurge;
    let n = 0;
    for (let i = 0; i < ids.length; i++) {
      const o = this.order(ids[i]!);
      if (o !== undefined) this.queued[o.id & this.mask] = 0;
      if (o !== undefined && this.posAll[o.id & this.mask]! < 0) {
        this.slots[o.id & this.mask] = undefined;
        release(o);
        n++;
      }
    }
    ids.length = 0;
    return n;
  }

  /** Swap-remove: the last id takes the removed one's place, and its position is updated. */
  private remove(set: OpenSet, pos: Int32Array, id: OrderId): void {
    const i = pos[id & this.mask]!;
    const ids = set.ids;
    const last = ids.pop()!;
    if (last !== id) {
      ids[i] = last;
      pos[last & this.mask] = i;
    }
    pos[id & this.mask] = -1;
  }

  /** Doubles the ring and re-seats every order (rare: only when unpurged orders span the whole ring). */
  private grow(): void {
    const old = this.slots;
    const size = old.length * 2;
    const pi = this.posInstrument;
    const ps = this.posStrategy;
    const pa = this.posAll;
    const q = this.queued;
    this.slots = new Array<Order | undefined>(size).fill(undefined);
    this.queued = new Uint8Array(size);
    this.mask = size - 1;
    this.posInstrument = new Int32Array(size).fill(-1);
    this.posStrategy = new Int32Array(size).fill(-1);
    this.posAll = new Int32Array(size).fill(-1);
    for (let s = 0; s < old.length; s++) {
      const o = old[s];
      if (o === undefined) continue;
      const slot = o.id & this.mask;
      this.slots[slot] = o;
      this.posInstrument[slot] = pi[s]!;
      this.posStrategy[slot] = ps[s]!;
      this.posAll[slot] = pa[s]!;
      this.queued[slot] = q[s]!;
    }
  }
}

const EMPTY: readonly OrderId[] = [];

function setAt(sets: OpenSet[], index: number): OpenSet {
  while (sets.length <= index) sets.push(new OpenSet());
  return sets[index]!;
}

function push(set: OpenSet, id: OrderId): number {
  set.ids.push(id);
  return set.ids.length - 1;
}
