// The simulated venue's pending work in time order: orders and cancels on their way to the matching engine,
// events on their way back, expiries, funding and liquidation notices. Invariants: pop order is (time, push
// order), so equal times stay FIFO; records are pooled and reused (no allocation once warm). Units: Micros.
// Commands (new orders, amendments, cancels) travel one connection whose arrival times never decrease, so
// they wait in a FIFO of typed columns (CommandFifo) instead of the heap; they draw their push order from the
// heap's counter (nextSeq), so the venue merges the two by (time, seq) exactly as one heap would order them.

import type { LiquiditySide } from '../../model/instrument.ts';

export const ActionKind = {
  NONE: 0,
  /** A new order reaches the matching engine (slot, gen). */
  ARRIVE: 1,
  /** An amendment reaches the matching engine (orderId, qty, price, trigger). */
  MODIFY: 2,
  /** A cancel reaches the matching engine (orderId). */
  CANCEL: 3,
  /** An order event reaches the engine (evKind and its fields). */
  DELIVER: 4,
  /** A GTD/DAY order's time is up (slot, gen). */
  EXPIRE: 5,
  /** A funding payment notice reaches the listener (instrumentId, rate, px, tsEvent). */
  FUNDING: 6,
  /** A liquidation fill reaches the listener (instrumentId, side, qty, px, fee, tsEvent). */
  LIQUIDATION: 7,
} as const;
export type ActionKind = (typeof ActionKind)[keyof typeof ActionKind];

/** One record for every kind (one hidden class); fields a kind does not use keep their reset values. */
export class Action {
  kind: ActionKind = ActionKind.NONE;
  /** When it happens (micros) and its tie-breaker. Set by push. */
  time = 0;
  seq = 0;
  slot = -1;
  gen = 0;
  orderId = 0;
  instrumentId = 0;
  side = 0;
  evKind = 0;
  /** Exchange time of the event (when it happened at the venue). */
  tsEvent = 0;
  venueOrderId = '';
  qty = 0;
  px = Number.NaN;
  trigger = Number.NaN;
  fee = 0;
  feeCurrencyId = -1;
  liquidity: LiquiditySide = 0;
  tradeId = '';
  reasonCode = 0;
  reason = '';
  /** Funding rate in 1e-8 (RATE_SCALE). */
  rate = 0;

  reset(): this {
    this.kind = ActionKind.NONE;
    this.time = 0;
    this.seq = 0;
    this.slot = -1;
    this.gen = 0;
    this.orderId = 0;
    this.instrumentId = 0;
    this.side = 0;
    this.evKind = 0;
    this.tsEvent = 0;
    this.venueOrderId = '';
    this.qty = 0;
    this.px = Number.NaN;
    this.trigger = Number.NaN;
    this.fee = 0;
    this.feeCurrencyId = -1;
    this.liquidity = 0;
    this.tradeId = '';
    this.reasonCode = 0;
    this.reason = '';
    this.rate = 0;
    return this;
  }
}

/** Binary min-heap of pooled actions. Grows by doubling (rare; never in a warm steady state). */
export class ActionQueue {
  private heap: Action[];
  private count = 0;
  private free: Action[];
  private freeCount = 0;
  private nextSeq = 0;
  /** Records created so far (pool size), for diagnostics. */
  created = 0;

  constructor(capacity = 1024) {
    const cap = Math.max(16, capacity | 0);
    // Filled by push (never `new Array(n)`), so V8 keeps both arrays packed.
    this.heap = [];
    this.free = [];
    for (let i = 0; i < cap; i++) {
      const a = new Action();
      this.heap.push(a);
      this.free.push(a);
    }
    this.freeCount = cap;
    this.created = cap;
  }

  get size(): number {
    return this.count;
  }

  /**
   * A record to fill and push. Not cleared (20 stores saved per action): each kind's producer sets every field
   * its consumer reads.
   */
  acquire(): Action {
    if (this.freeCount === 0) {
      this.created++;
      return new Action();
    }
    return this.free[--this.freeCount]!;
  }

  /** Returns a popped record to the pool. */
  release(a: Action): void {
    if (this.freeCount === this.free.length) this.free.push(a);
    else this.free[this.freeCount] = a;
    this.freeCount++;
  }

  /** The next push order number (for records kept outside the heap, merged by (time, seq)). */
  takeSeq(): number {
    return this.nextSeq++;
  }

  push(a: Action, time: number): void {
    a.time = time;
    a.seq = this.nextSeq++;
    if (this.count === this.heap.length) this.heap.push(a);
    const h = this.heap;
    let i = this.count++;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const q = h[p]!;
      if (q.time < time || (q.time === time && q.seq < a.seq)) break;
      h[i] = q;
      i = p;
    }
    h[i] = a;
  }

  /** Time of the earliest action, +Infinity when empty. */
  peekTime(): number {
    return this.count === 0 ? Number.POSITIVE_INFINITY : this.heap[0]!.time;
  }

  /** Push order of the earliest action; the caller must check size first. */
  peekSeq(): number {
    return this.heap[0]!.seq;
  }

  /** Removes and returns the earliest action; the caller must check size first. */
  pop(): Action {
    const h = this.heap;
    const top = h[0]!;
    const n = --this.count;
    if (n > 0) {
      const last = h[n]!;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        let m = l;
        let c = h[l]!;
        const r = l + 1;
        if (r < n) {
          const rc = h[r]!;
          if (rc.time < c.time || (rc.time === c.time && rc.seq < c.seq)) {
            m = r;
            c = rc;
          }
        }
        if (last.time < c.time || (last.time === c.time && last.seq < c.seq)) break;
        h[i] = c;
        i = m;
      }
      h[i] = last;
    }
    h[n] = top;
    return top;
  }
}

/**
 * Commands on their way to the matching engine, oldest first: a ring of typed columns (no records to pool).
 * Push only with a time >= the last one pushed (the venue's arrival times never decrease).
 */
export class CommandFifo {
  kind: Uint8Array;
  slot: Int32Array;
  gen: Int32Array;
  orderId: Float64Array;
  qty: Float64Array;
  px: Float64Array;
  trigger: Float64Array;
  time: Float64Array;
  seq: Float64Array;
  private mask: number;
  /** Index of the oldest command (valid while size > 0). */
  head = 0;
  size = 0;

  constructor(capacity = 64) {
    let cap = 16;
    while (cap < capacity) cap *= 2;
    this.mask = cap - 1;
    this.kind = new Uint8Array(cap);
    this.slot = new Int32Array(cap);
    this.gen = new Int32Array(cap);
    this.orderId = new Float64Array(cap);
    this.qty = new Float64Array(cap);
    this.px = new Float64Array(cap);
    this.trigger = new Float64Array(cap);
    this.time = new Float64Array(cap);
    this.seq = new Float64Array(cap);
  }

  /** Time of the oldest command, +Infinity when empty. */
  peekTime(): number {
    return this.size === 0 ? Number.POSITIVE_INFINITY : this.time[this.head]!;
  }

  /** Appends a command; returns its index (for the fields the kind uses beyond these). */
  push(kind: ActionKind, orderId: number, time: number, seq: number): number {
    if (this.size > this.mask) this.grow();
    const i = (this.head + this.size++) & this.mask;
    this.kind[i] = kind;
    this.orderId[i] = orderId;
    this.time[i] = time;
    this.seq[i] = seq;
    return i;
  }

  /** Drops the oldest command (read its fields at `head` first). */
  shift(): void {
    this.head = (this.head + 1) & this.mask;
    this.size--;
  }

  private grow(): void {
    const old = this.mask + 1;
    const cap = old * 2;
    const h = this.head;
    // Unroll the ring into the new columns, oldest first.
    const re = <T extends Float64Array | Int32Array | Uint8Array>(a: T, b: T): T => {
      for (let k = 0; k < old; k++) b[k] = a[(h + k) & this.mask]!;
      return b;
    };
    this.kind = re(this.kind, new Uint8Array(cap));
    this.slot = re(this.slot, new Int32Array(cap));
    this.gen = re(this.gen, new Int32Array(cap));
    this.orderId = re(this.orderId, new Float64Array(cap));
    this.qty = re(this.qty, new Float64Array(cap));
    this.px = re(this.px, new Float64Array(cap));
    this.trigger = re(this.trigger, new Float64Array(cap));
    this.time = re(this.time, new Float64Array(cap));
    this.seq = re(this.seq, new Float64Array(cap));
    this.head = 0;
    this.mask = cap - 1;
  }
}
