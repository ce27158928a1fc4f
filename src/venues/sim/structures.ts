// Small allocation-free structures of the simulated venue: the strategy's own resting price levels per side
// (FIFO lists of order slots), the liquidity its fills consumed per displayed level, and order id -> slot.
// Invariants: levels are sorted best first and never empty; consumed qty is > 0 per entry. Units: ticks, lots.

/**
 * One side of the strategy's own resting orders: distinct prices, best first, each with the head and tail slot
 * of a FIFO list (the links live in the order records). Keys are price * sign (buys +1, sells -1) so that
 * "better" is always "greater key"; insertion and removal shift a typed array (a strategy rests at few prices).
 */
export class OwnSide {
  readonly sign: number;
  keys: Float64Array;
  heads: Int32Array;
  tails: Int32Array;
  count = 0;

  constructor(sign: 1 | -1, capacity = 32) {
    this.sign = sign;
    this.keys = new Float64Array(capacity);
    this.heads = new Int32Array(capacity);
    this.tails = new Int32Array(capacity);
  }

  /** Best own price, NaN when the side is empty. */
  best(): number {
    return this.count === 0 ? Number.NaN : this.keys[0]! * this.sign;
  }

  priceAt(i: number): number {
    return this.keys[i]! * this.sign;
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

  /** Inserts an empty level (head = tail = -1) at index i. */
  insertAt(i: number, price: number): void {
    if (this.count === this.keys.length) this.grow();
    const n = this.count;
    this.keys.copyWithin(i + 1, i, n);
    this.heads.copyWithin(i + 1, i, n);
    this.tails.copyWithin(i + 1, i, n);
    this.keys[i] = price * this.sign;
    this.heads[i] = -1;
    this.tails[i] = -1;
    this.count = n + 1;
  }

  removeAt(i: number): void {
    const n = this.count;
    this.keys.copyWithin(i, i + 1, n);
    this.heads.copyWithin(i, i + 1, n);
    this.tails.copyWithin(i, i + 1, n);
    this.count = n - 1;
  }

  private grow(): void {
    const cap = this.keys.length * 2;
    const k = new Float64Array(cap);
    k.set(this.keys);
    const h = new Int32Array(cap);
    h.set(this.heads);
    const t = new Int32Array(cap);
    t.set(this.tails);
    this.keys = k;
    this.heads = h;
    this.tails = t;
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

  constructor(capacity = 1024) {
    let cap = 16;
    while (cap < capacity * 2) cap *= 2;
    this.keys = new Float64Array(cap);
    this.vals = new Int32Array(cap);
    this.mask = cap - 1;
  }

  get capacity(): number {
    return this.mask + 1;
  }

  get size(): number {
    return this.count;
  }

  /** Slot of order `id`, or -1. */
  get(id: number): number {
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

  /** Maps id to slot (replacing an existing mapping). */
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
