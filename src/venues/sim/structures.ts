// Small allocation-free structures of the simulated venue: the strategy's own resting price levels per side
// (FIFO lists of order slots), the liquidity its fills consumed per displayed level, and order id -> slot.
// Invariants: levels are sorted best first and never empty; consumed qty is > 0 per entry. Units: ticks, lots.

/**
 * One side of the strategy's own resting orders: distinct prices, best first, each a level with the head and
 * tail slot of a FIFO list (the links live in the order records). A level has a stable id (its head, tail
 * and price stay at that id while prices come and go around it), so an order keeps its level's id and leaves
 * it in O(1), and a price finds its level through a hash map in O(1): only a level that appears or empties
 * touches the sorted order. Keys are price * sign (buys +1, sells -1) so that "better" is always "greater
 * key"; the sorted arrays shift element by element (a strategy rests at few prices).
 */
export class OwnSide {
  readonly sign: number;
  /** Sorted, best first: keys[i] = price * sign of the i-th best level, ids[i] its level id. */
  keys: Float64Array;
  ids: Int32Array;
  count = 0;
  /** By level id: first and last order slot (-1 none) and price. */
  heads: Int32Array;
  tails: Int32Array;
  prices: Float64Array;
  /**
   * By level id: bumped each time the level is shown empty (a vanished level clears every queue there), and
   * the size shown since then. An order linked under an older epoch is "cleared": queue ahead 0 and level size
   * clearedQty, not yet written to its record (see SimulatedExchange.levelUpdate). Never reset on reuse.
   */
  epochs: Int32Array;
  clearedQty: Float64Array;
  private freeIds: Int32Array;
  private freeN: number;
  /** Price -> level id (prices are positive ticks; others are looked up by binary search). */
  private readonly byPrice = new OrderIndex(64);

  constructor(sign: 1 | -1, capacity = 32) {
    this.sign = sign;
    this.keys = new Float64Array(capacity);
    this.ids = new Int32Array(capacity);
    this.heads = new Int32Array(capacity);
    this.tails = new Int32Array(capacity);
    this.prices = new Float64Array(capacity);
    this.epochs = new Int32Array(capacity);
    this.clearedQty = new Float64Array(capacity);
    this.freeIds = new Int32Array(capacity);
    this.freeN = capacity;
    for (let i = 0; i < capacity; i++) this.freeIds[i] = capacity - 1 - i;
  }

  /** Best own price, NaN when the side is empty. */
  best(): number {
    return this.count === 0 ? Number.NaN : this.keys[0]! * this.sign;
  }

  priceAt(i: number): number {
    return this.keys[i]! * this.sign;
  }

  /** First and last order slot of the i-th best level. */
  headAt(i: number): number {
    return this.heads[this.ids[i]!]!;
  }

  tailAt(i: number): number {
    return this.tails[this.ids[i]!]!;
  }

  /** Index of the level at `price`, or -(insertion point) - 1 when absent. */
  search(price: number): number {
    const key = price * this.sign;
    const keys = this.keys;
    let lo = 0;
    let hi = this.count;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const k = keys[mid]!;
      if (k === key) return mid;
      if (k > key) lo = mid + 1;
      else hi = mid;
    }
    return -lo - 1;
  }

  /** Level id at `price`, or -1. */
  level(price: number): number {
    // A few levels (a quoting strategy's usual case): the search stays in one cache line, cheaper than a hash.
    if (this.count > 8 && price > 0) return this.byPrice.get(price);
    const i = this.search(price);
    return i < 0 ? -1 : this.ids[i]!;
  }

  /** Level id at `price`, inserted empty (head = tail = -1) in price order when absent. */
  levelFor(price: number): number {
    const found = this.level(price);
    if (found >= 0) return found;
    return this.insertAt(-this.search(price) - 1, price);
  }

  /** Inserts an empty level at sorted index i (the price must be absent); returns its id. */
  insertAt(i: number, price: number): number {
    if (this.freeN === 0) this.grow();
    const id = this.freeIds[--this.freeN]!;
    const n = this.count;
    const keys = this.keys;
    const ids = this.ids;
    // Element loops, not copyWithin: a side holds few levels, and a builtin call costs more than the moves.
    for (let j = n; j > i; j--) {
      keys[j] = keys[j - 1]!;
      ids[j] = ids[j - 1]!;
    }
    keys[i] = price * this.sign;
    ids[i] = id;
    this.heads[id] = -1;
    this.tails[id] = -1;
    this.prices[id] = price;
    if (price > 0) this.byPrice.set(price, id);
    this.count = n + 1;
    return id;
  }

  /** Removes the level at sorted index i. */
  removeAt(i: number): void {
    const id = this.ids[i]!;
    const price = this.prices[id]!;
    if (price > 0) this.byPrice.delete(price, id);
    this.freeIds[this.freeN++] = id;
    const n = this.count - 1;
    const keys = this.keys;
    const ids = this.ids;
    for (let j = i; j < n; j++) {
      keys[j] = keys[j + 1]!;
      ids[j] = ids[j + 1]!;
    }
    this.count = n;
  }

  /** Removes the level with this id (it must be present). */
  removeLevel(id: number): void {
    const i = this.search(this.prices[id]!);
    if (i >= 0) this.removeAt(i);
  }

  private grow(): void {
    const old = this.keys.length;
    const cap = old * 2;
    const k = new Float64Array(cap);
    k.set(this.keys);
    const ids = new Int32Array(cap);
    ids.set(this.ids);
    const h = new Int32Array(cap);
    h.set(this.heads);
    const t = new Int32Array(cap);
    t.set(this.tails);
    const p = new Float64Array(cap);
    p.set(this.prices);
    const ep = new Int32Array(cap);
    ep.set(this.epochs);
    const cq = new Float64Array(cap);
    cq.set(this.clearedQty);
    const f = new Int32Array(cap);
    // Every id below `old` is in use (the free list ran out): the new ids are the free ones.
    for (let i = 0; i < old; i++) f[i] = cap - 1 - i;
    this.keys = k;
    this.ids = ids;
    this.heads = h;
    this.tails = t;
    this.prices = p;
    this.epochs = ep;
    this.clearedQty = cq;
    this.freeIds = f;
    this.freeN = old;
  }
}

/**
 * Displayed liquidity the strategy's own fills have taken, per price of one book side, so two orders cannot
 * fill against the same displayed size. A linear table: a taker walks few levels between book updates.
 */
export class Consumed {
  px: Float64Array;
  qty: Float64Array;
  n = 0;

  constructor(capacity = 16) {
    this.px = new Float64Array(capacity);
    this.qty = new Float64Array(capacity);
  }

  get(price: number): number {
    const px = this.px;
    for (let i = 0; i < this.n; i++) if (px[i] === price) return this.qty[i]!;
    return 0;
  }

  add(price: number, q: number): void {
    const px = this.px;
    for (let i = 0; i < this.n; i++) {
      if (px[i] === price) {
        this.qty[i]! += q;
        return;
      }
    }
    if (this.n === px.length) this.grow();
    this.px[this.n] = price;
    this.qty[this.n] = q;
    this.n++;
  }

  /** The level now shows `displayed`: what we consumed cannot exceed it (decreases hit the unconsumed part). */
  cap(price: number, displayed: number): void {
    const px = this.px;
    for (let i = 0; i < this.n; i++) {
      if (px[i] === price) {
        if (displayed <= 0) this.removeAt(i);
        else if (this.qty[i]! > displayed) this.qty[i] = displayed;
        return;
      }
    }
  }

  /** A market trade at `price` took `q` from the front of the level: the part we had already taken. */
  traded(price: number, q: number): void {
    const px = this.px;
    for (let i = 0; i < this.n; i++) {
      if (px[i] === price) {
        const left = this.qty[i]! - q;
        if (left <= 0) this.removeAt(i);
        else this.qty[i] = left;
        return;
      }
    }
  }

  clear(): void {
    this.n = 0;
  }

  private removeAt(i: number): void {
    const last = --this.n;
    this.px[i] = this.px[last]!;
    this.qty[i] = this.qty[last]!;
  }

  private grow(): void {
    const cap = this.px.length * 2;
    const p = new Float64Array(cap);
    p.set(this.px);
    const q = new Float64Array(cap);
    q.set(this.qty);
    this.px = p;
    this.qty = q;
  }
}

/**
 * Order id -> slot for the orders the venue holds: open addressing with linear probing, kept at most half full
 * (so its size follows the live orders, not the id range: long-lived orders among fresh ids stay cheap), and
 * backward-shift deletion (no tombstones). Ids are positive safe integers; 0 marks an empty cell.
 */
export class OrderIndex {
  private keys: Float64Array;
  private vals: Int32Array;
  private mask: number;
  private count = 0;
  /**
   * Optional direct-mapped front (cell = id & dMask): engine order ids are dense and increasing, so a live id
   * usually owns its cell and needs no hash, probe or shift; an id whose cell is taken goes to the table.
   */
  private readonly dKeys: Float64Array;
  private readonly dVals: Int32Array;
  private readonly dMask: number;

  /** `direct`: cells of the direct-mapped front (a power of two), 0 for none (keys that are not dense). */
  constructor(capacity = 1024, direct = 0) {
    let cap = 16;
    while (cap < capacity * 2) cap *= 2;
    this.keys = new Float64Array(cap);
    this.vals = new Int32Array(cap);
    this.mask = cap - 1;
    this.dKeys = new Float64Array(direct);
    this.dVals = new Int32Array(direct);
    this.dMask = direct - 1;
  }

  get capacity(): number {
    return this.mask + 1;
  }

  /** Ids held in the table (not the direct front). */
  get size(): number {
    return this.count;
  }

  /** Slot of order `id`, or -1. */
  get(id: number): number {
    if (this.dMask >= 0) {
      const j = id & this.dMask;
      if (this.dKeys[j] === id) return this.dVals[j]!;
      if (this.count === 0) return -1;
    }
    return this.tableGet(id);
  }

  private tableGet(id: number): number {
    const keys = this.keys;
    const mask = this.mask;
    for (let i = hash(id) & mask; ; i = (i + 1) & mask) {
      const k = keys[i]!;
      if (k === id) return this.vals[i]!;
      if (k === 0) return -1;
    }
  }

  /** Maps id to slot unless id is already mapped: returns the existing slot, or -1 after inserting. */
  add(id: number, slot: number): number {
    if (this.dMask >= 0) {
      const j = id & this.dMask;
      const k = this.dKeys[j]!;
      if (k === id) return this.dVals[j]!;
      if (k === 0) {
        // Not in the table either (an id goes there only while its cell is taken), unless added then.
        const t = this.count === 0 ? -1 : this.tableGet(id);
        if (t >= 0) return t;
        this.dKeys[j] = id;
        this.dVals[j] = slot;
        return -1;
      }
    }
    return this.tableAdd(id, slot);
  }

  private tableAdd(id: number, slot: number): number {
    if ((this.count + 1) * 2 > this.mask + 1) this.grow();
    const keys = this.keys;
    const mask = this.mask;
    for (let i = hash(id) & mask; ; i = (i + 1) & mask) {
      const k = keys[i]!;
      if (k === id) return this.vals[i]!;
      if (k === 0) {
        keys[i] = id;
        this.vals[i] = slot;
        this.count++;
        return -1;
      }
    }
  }

  /** Maps id to slot (replacing an existing mapping). Only for an index without a direct front. */
  set(id: number, slot: number): void {
    if ((this.count + 1) * 2 > this.mask + 1) this.grow();
    const keys = this.keys;
    const mask = this.mask;
    for (let i = hash(id) & mask; ; i = (i + 1) & mask) {
      const k = keys[i]!;
      if (k === id) {
        this.vals[i] = slot;
        return;
      }
      if (k === 0) {
        keys[i] = id;
        this.vals[i] = slot;
        this.count++;
        return;
      }
    }
  }

  /** Forgets `id` if it still maps to `slot` (a rejected duplicate must not unmap the original). */
  delete(id: number, slot: number): void {
    if (this.dMask >= 0) {
      const j = id & this.dMask;
      if (this.dKeys[j] === id) {
        if (this.dVals[j] !== slot) return;
        this.dKeys[j] = 0;
        this.dVals[j] = 0;
        return;
      }
      if (this.count === 0) return;
    }
    const keys = this.keys;
    const vals = this.vals;
    const mask = this.mask;
    let i = hash(id) & mask;
    for (;;) {
      const k = keys[i]!;
      if (k === 0) return;
      if (k === id) break;
      i = (i + 1) & mask;
    }
    if (vals[i] !== slot) return;
    this.count--;
    // Backward shift: pull later entries of the probe run into the hole if their home allows it.
    let hole = i;
    for (let j = (i + 1) & mask; ; j = (j + 1) & mask) {
      const k = keys[j]!;
      if (k === 0) break;
      const home = hash(k) & mask;
      // Move k when its home is not in the cyclic range (hole, j].
      if (((j - home) & mask) >= ((j - hole) & mask)) {
        keys[hole] = k;
        vals[hole] = vals[j]!;
        hole = j;
      }
    }
    keys[hole] = 0;
    vals[hole] = 0;
  }

  private grow(): void {
    const oldK = this.keys;
    const oldV = this.vals;
    const cap = oldK.length * 2;
    this.keys = new Float64Array(cap);
    this.vals = new Int32Array(cap);
    this.mask = cap - 1;
    this.count = 0;
    for (let i = 0; i < oldK.length; i++) if (oldK[i] !== 0) this.set(oldK[i]!, oldV[i]!);
  }
}

/** Multiplicative hash of a safe integer (both 32-bit halves, so ids past 2^32 spread too). */
function hash(id: number): number {
  const hi = (id / 4294967296) | 0;
  return Math.imul((id | 0) ^ Math.imul(hi, 0x85ebca6b), 0x9e3779b1) >>> 7;
}
/**
 * The venue's copies of orders as a struct of arrays indexed by slot: fields copied when the command was sent,
 * then the venue's own progress. Typed columns keep the fields the matching loops touch (queue, links, sizes)
 * dense in cache and unboxed (object fields holding NaN or fractions would be boxed numbers). Grows by
 * doubling (rare: slots are reused). Units: ticks, lots, Micros.
 */
export class OrderTable {
  capacity = 0;
  /** Bumped when the record is freed, so stale expiry actions can tell. */
  gen: Int32Array = new Int32Array(0);
  /** The exchange's record state (FREE, INFLIGHT, TAKING, RESTING, STOP). */
  state: Uint8Array = new Uint8Array(0);
  orderId: Float64Array = new Float64Array(0);
  instrumentId: Int32Array = new Int32Array(0);
  /** OrderSide. */
  side: Uint8Array = new Uint8Array(0);
  /** +1 buy, -1 sell. */
  dir: Int8Array = new Int8Array(0);
  /** Working OrderType: MARKET, LIMIT, or a native stop until it triggers. */
  type: Uint8Array = new Uint8Array(0);
  price: Float64Array = new Float64Array(0);
  trigger: Float64Array = new Float64Array(0);
  /** TimeInForce. */
  tif: Uint8Array = new Uint8Array(0);
  expireTime: Float64Array = new Float64Array(0);
  flags: Int32Array = new Int32Array(0);
  display: Float64Array = new Float64Array(0);
  qty: Float64Array = new Float64Array(0);
  filled: Float64Array = new Float64Array(0);
  /** Iceberg: what is left of the displayed slice (for other orders: the leaves). */
  visible: Float64Array = new Float64Array(0);
  /** Displayed size ahead of us at our price, lots; -1 while unknown (L1, price behind the best). */
  queueAhead: Float64Array = new Float64Array(0);
  /** The displayed size at our price when we last saw it (after trades we applied), lots. */
  levelQty: Float64Array = new Float64Array(0);
  /** FIFO links within the order's own price level (slots, -1 none). */
  prev: Int32Array = new Int32Array(0);
  next: Int32Array = new Int32Array(0);
  /** The OwnSide level id the order rests in, -1 while it does not. */
  level: Int32Array = new Int32Array(0);
  /** The level's epoch (OwnSide.epochs) when the order's queue fields were last written. */
  epoch: Int32Array = new Int32Array(0);
  venueOrderId: string[] = [];

  /** Makes room for `cap` slots (keeps the records held). */
  grow(cap: number): void {
    this.gen = growI32(this.gen, cap);
    this.state = growU8(this.state, cap);
    this.orderId = growF64(this.orderId, cap);
    this.instrumentId = growI32(this.instrumentId, cap);
    this.side = growU8(this.side, cap);
    const dir = new Int8Array(cap);
    dir.set(this.dir);
    this.dir = dir;
    this.type = growU8(this.type, cap);
    this.price = growF64(this.price, cap);
    this.trigger = growF64(this.trigger, cap);
    this.tif = growU8(this.tif, cap);
    this.expireTime = growF64(this.expireTime, cap);
    this.flags = growI32(this.flags, cap);
    this.display = growF64(this.display, cap);
    this.qty = growF64(this.qty, cap);
    this.filled = growF64(this.filled, cap);
    this.visible = growF64(this.visible, cap);
    this.queueAhead = growF64(this.queueAhead, cap);
    this.levelQty = growF64(this.levelQty, cap);
    this.prev = growI32(this.prev, cap);
    this.next = growI32(this.next, cap);
    this.level = growI32(this.level, cap);
    this.epoch = growI32(this.epoch, cap);
    for (let i = this.capacity; i < cap; i++) {
      this.prev[i] = -1;
      this.next[i] = -1;
      this.level[i] = -1;
      this.venueOrderId.push('');
    }
    this.capacity = cap;
  }
}

function growF64(a: Float64Array, cap: number): Float64Array {
  const b = new Float64Array(cap);
  b.set(a);
  return b;
}

function growI32(a: Int32Array, cap: number): Int32Array {
  const b = new Int32Array(cap);
  b.set(a);
  return b;
}

function growU8(a: Uint8Array, cap: number): Uint8Array {
  const b = new Uint8Array(cap);
  b.set(a);
  return b;
}
