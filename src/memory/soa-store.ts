// Struct-of-arrays record stores: one typed array per column, a record is an integer handle, so a million
// ticks cost a few typed arrays instead of a million objects. alloc/free are O(1) through an Int32Array
// free stack. Units live in the column names' docs: prices/quantities integer ticks/lots, times micros.

import { Bot4Error, ErrorCode } from '../core/errors.ts';
import type { GrowthPolicy } from './object-pool.ts';

/** Column kinds and the typed array that holds each. */
export const COLUMN_TYPES = {
  f64: Float64Array,
  f32: Float32Array,
  i32: Int32Array,
  u32: Uint32Array,
  i16: Int16Array,
  u16: Uint16Array,
  i8: Int8Array,
  u8: Uint8Array,
} as const;
export type ColumnType = keyof typeof COLUMN_TYPES;
export type ColumnArray<K extends ColumnType> = InstanceType<(typeof COLUMN_TYPES)[K]>;
type AnyColumn = ColumnArray<ColumnType>;

/** Column name -> kind. The order of the keys is the order of the store's fields. */
export type SoaSchema = Readonly<Record<string, ColumnType>>;

/** The columns as fields: `store.price[h]`. Re-read the field after an `alloc` that may grow the store. */
export type SoaColumns<S extends SoaSchema> = { readonly [K in keyof S]: ColumnArray<S[K]> };

/** A store with its columns as typed fields. */
export type SoaRecords<S extends SoaSchema> = SoaStore<S> & SoaColumns<S>;

/** Handles are int32 and indexes stay small integers: at most 2^30 records. */
export const MAX_STORE_CAPACITY = 2 ** 30;

export interface SoaStoreOptions {
  /** Records allocated up front (each column is a typed array of this length). */
  capacity: number;
  /** 'grow' (default) doubles every column when full, copying; 'fail' makes `alloc` return -1. */
  growth?: GrowthPolicy;
  /** Detect double free and foreign handles (throws). Default false: unchecked and faster. */
  debug?: boolean;
  /** Config key that sets the capacity, named in errors; optional. */
  configKey?: string;
}

/**
 * Free stack of handles on an Int32Array: slots [0, top) hold free handles. Unchecked: the store picks
 * `CheckedSlots` in debug mode, so a process runs one kind and the call sites stay monomorphic.
 */
class Slots {
  stack: Int32Array;
  // Number initialisers keep these Smi fields (a bare declaration starts them as undefined).
  top = 0;
  cap = 0;

  constructor(capacity: number) {
    this.stack = new Int32Array(capacity);
    // Highest handle at the bottom so that a fresh store hands out 0, 1, 2... (sequential, cache friendly).
    for (let i = 0; i < capacity; i++) this.stack[i] = capacity - 1 - i;
    this.top = capacity;
    this.cap = capacity;
  }

  take(): number {
    const top = this.top - 1;
    if (top < 0) return -1;
    this.top = top;
    return this.stack[top]!;
  }

  give(handle: number, _store: string): void {
    this.stack[this.top++] = handle;
  }

  /** Only called when full (top === 0): the new handles [cap, newCap) become the free ones. */
  growTo(newCap: number): void {
    const stack = new Int32Array(newCap);
    const added = newCap - this.cap;
    for (let i = 0; i < added; i++) stack[i] = newCap - 1 - i;
    this.stack = stack;
    this.top = added;
    this.cap = newCap;
  }

  isLive(_handle: number): boolean {
    return true;
  }
}

/** The debug free stack: a live flag per handle turns double free and unknown handles into errors. */
class CheckedSlots extends Slots {
  live: Uint8Array;

  constructor(capacity: number) {
    super(capacity);
    this.live = new Uint8Array(capacity);
  }

  override take(): number {
    const h = super.take();
    if (h >= 0) this.live[h] = 1;
    return h;
  }

  override give(handle: number, store: string): void {
    if (!Number.isInteger(handle) || handle < 0 || handle >= this.cap) {
      throw new Bot4Error(
        ErrorCode.POOL_FOREIGN_OBJECT,
        `store '${store}': free(${String(handle)}) is not a handle of this store (valid: integers 0 to ${this.cap - 1}); ` +
          'pass the value alloc() returned',
        { store, handle, capacity: this.cap },
      );
    }
    if (this.live[handle] === 0) {
      throw new Bot4Error(
        ErrorCode.POOL_DOUBLE_RELEASE,
        `store '${store}': record ${handle} freed twice (or never allocated); some holder kept the handle after freeing it`,
        { store, handle },
      );
    }
    this.live[handle] = 0;
    super.give(handle, store);
  }

  override growTo(newCap: number): void {
    super.growTo(newCap);
    const live = new Uint8Array(newCap);
    live.set(this.live);
    this.live = live;
  }

  override isLive(handle: number): boolean {
    return this.live[handle] === 1;
  }
}

/** Generic store; build it with `createSoaStore` to get the columns typed as fields. */
export class SoaStore<S extends SoaSchema> {
  readonly name: string;
  readonly schema: S;
  readonly growth: GrowthPolicy;
  readonly configKey: string | undefined;
  private readonly slots: Slots;
  private readonly names: readonly string[];
  /** The same arrays as the column fields, by schema position, for whole-record work (grow, clear). */
  private readonly arrays: AnyColumn[];
  private growCount = 0;

  constructor(name: string, schema: S, options: SoaStoreOptions) {
    const { capacity } = options;
    if (!Number.isInteger(capacity) || capacity < 1 || capacity > MAX_STORE_CAPACITY) {
      throw new Bot4Error(
        ErrorCode.INVALID_ARGUMENT,
        `store '${name}': capacity ${String(capacity)} is invalid; ${options.configKey ? `set ${options.configKey} to ` : 'pass '}` +
          `an integer from 1 to ${MAX_STORE_CAPACITY}`,
        { store: name, capacity },
      );
    }
    this.name = name;
    this.schema = schema;
    this.growth = options.growth ?? 'grow';
    this.configKey = options.configKey;
    this.slots = options.debug === true ? new CheckedSlots(capacity) : new Slots(capacity);
    this.names = Object.keys(schema);
    this.arrays = [];
    if (this.names.length === 0) {
      throw new Bot4Error(ErrorCode.INVALID_ARGUMENT, `store '${name}': the schema has no columns`, {
        store: name,
      });
    }
    const self = this as unknown as Record<string, AnyColumn>;
    for (const column of this.names) {
      const kind = schema[column] as string;
      if (!Object.hasOwn(COLUMN_TYPES, kind)) {
        throw new Bot4Error(
          ErrorCode.INVALID_ARGUMENT,
          `store '${name}': column '${column}' has kind '${kind}'; use one of ${Object.keys(COLUMN_TYPES).join(', ')}`,
          { store: name, column, kind },
        );
      }
      if (column in this) {
        throw new Bot4Error(
          ErrorCode.INVALID_ARGUMENT,
          `store '${name}': column name '${column}' clashes with a store member; rename the column`,
          { store: name, column },
        );
      }
      const array = new COLUMN_TYPES[kind as ColumnType](capacity);
      // Columns are added in schema order after the fixed fields, so every store of one schema shares a shape.
      self[column] = array;
      this.arrays.push(array);
    }
  }

  /**
   * A free record's handle, or -1 when full under growth 'fail'. The record keeps whatever its previous
   * use left: write every column (or call `clearRecord`). Growth replaces the column arrays.
   */
  alloc(): number {
    const h = this.slots.take();
    return h >= 0 ? h : this.allocWhenFull();
  }

  /** Like `alloc`, but a full 'fail' store throws CAPACITY (for the edges, where full is a sizing error). */
  allocOrThrow(): number {
    const h = this.alloc();
    if (h < 0) {
      const fix = this.configKey ? `raise ${this.configKey}` : 'create the store with a larger capacity';
      throw new Bot4Error(
        ErrorCode.CAPACITY,
        `store '${this.name}' is full: all ${this.capacity} records are live (growth '${this.growth}'); ${fix} ` +
          "or use growth 'grow'",
        { store: this.name, capacity: this.capacity, growth: this.growth, configKey: this.configKey },
      );
    }
    return h;
  }

  /** Returns a record. Unchecked unless debug: a double free would hand one record out twice. */
  free(handle: number): void {
    this.slots.give(handle, this.name);
  }

  /** Zeroes every column of one record. */
  clearRecord(handle: number): void {
    const arrays = this.arrays;
    for (let i = 0; i < arrays.length; i++) arrays[i]![handle] = 0;
  }

  /** Live records. */
  get size(): number {
    return this.slots.cap - this.slots.top;
  }

  get capacity(): number {
    return this.slots.cap;
  }

  get available(): number {
    return this.slots.top;
  }

  get grows(): number {
    return this.growCount;
  }

  /** Debug stores only: whether `handle` is allocated. A store without debug answers true. */
  isLive(handle: number): boolean {
    return this.slots.isLive(handle);
  }

  private allocWhenFull(): number {
    const cap = this.slots.cap;
    if (this.growth === 'fail' || cap >= MAX_STORE_CAPACITY) return -1;
    // Doubling: growth events stay logarithmic in the peak, and each copy is amortised O(1) per record.
    const newCap = Math.min(cap * 2, MAX_STORE_CAPACITY);
    const self = this as unknown as Record<string, AnyColumn>;
    for (let i = 0; i < this.names.length; i++) {
      const old = this.arrays[i]!;
      const next = new COLUMN_TYPES[this.schema[this.names[i]!]!](newCap);
      next.set(old);
      this.arrays[i] = next;
      self[this.names[i]!] = next;
    }
    this.slots.growTo(newCap);
    this.growCount++;
    return this.slots.take();
  }
}

export function createSoaStore<const S extends SoaSchema>(
  name: string,
  schema: S,
  options: SoaStoreOptions,
): SoaRecords<S> {
  return new SoaStore(name, schema, options) as SoaRecords<S>;
}

/** Who took liquidity in a trade (the `side` column of TickStore). */
export const Aggressor = { UNKNOWN: 0, BUYER: 1, SELLER: 2 } as const;
export type Aggressor = (typeof Aggressor)[keyof typeof Aggressor];

/**
 * Trades. ts, tsRecv: exchange and receive time, micros since epoch. price: integer ticks. qty: integer lots.
 * side: an Aggressor. tradeId: the venue's trade id (f64: ids pass 2^31, exact to 2^53).
 */
export const TICK_SCHEMA = {
  ts: 'f64',
  tsRecv: 'f64',
  instrument: 'i32',
  price: 'f64',
  qty: 'f64',
  side: 'u8',
  tradeId: 'f64',
} as const satisfies SoaSchema;
export type TickStore = SoaRecords<typeof TICK_SCHEMA>;

/**
 * Top-of-book quotes. ts, tsRecv: micros since epoch. bidPx, askPx: integer ticks. bidQty, askQty: integer lots.
 */
export const QUOTE_SCHEMA = {
  ts: 'f64',
  tsRecv: 'f64',
  instrument: 'i32',
  bidPx: 'f64',
  bidQty: 'f64',
  askPx: 'f64',
  askQty: 'f64',
} as const satisfies SoaSchema;
export type QuoteStore = SoaRecords<typeof QUOTE_SCHEMA>;

/** Default capacity of tick and quote stores: 1M records (the brief's), about 45 MB of ticks. */
export const TICK_STORE_CAPACITY = 1_000_000;

/** Capacity TICK_STORE_CAPACITY unless `options.capacity` says otherwise (the caller's option, not config). */
export function createTickStore(options: Partial<SoaStoreOptions> = {}): TickStore {
  return createSoaStore('ticks', TICK_SCHEMA, {
    capacity: TICK_STORE_CAPACITY,
    configKey: 'the tick store capacity option',
    ...options,
  });
}

export function createQuoteStore(options: Partial<SoaStoreOptions> = {}): QuoteStore {
  return createSoaStore('quotes', QUOTE_SCHEMA, { capacity: TICK_STORE_CAPACITY, ...options });
}
