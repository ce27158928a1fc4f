// Streaming bar aggregation: trades (or quotes) into time, tick, volume and value bars; time bars into bigger ones.
// A bar is handed out only once closed, at or after its close time (no look-ahead), in one reused Bar: no
// allocation per trade. Units: Micros (UTC; time bars aligned to epoch multiples), prices ticks, volume lots.

import { Bot4Error, ErrorCode } from '../core/errors.ts';
import type { InstrumentId, Micros, PriceTicks, QtyLots } from '../core/units.ts';
import type { Instrument } from '../model/instrument.ts';
import { Bar, type EventBatch, RecordKind } from '../model/market-data.ts';

/** Receives each closed bar. The Bar object is reused: copy what you keep before returning. */
export type BarHandler = (bar: Bar) => void;

/**
 * What a time aggregator does with an interval that saw no trade. SKIP emits nothing (the next bar simply
 * starts later); FLAT emits a bar at the last close with zero volume, so a consumer sees one bar per interval.
 * FLAT starts after the first trade: before it there is no last close to repeat.
 */
export const EmptyBars = { SKIP: 0, FLAT: 1 } as const;
export type EmptyBars = (typeof EmptyBars)[keyof typeof EmptyBars];

/**
 * Which price of a quote feeds a quote bar. MID is (bid + ask) / 2 rounded to the nearest tick, ties to the even
 * tick: bars stay on the tick grid (Bot4 prices are integers) and an odd spread's half tick rounds up as often
 * as down. Use BID or ASK where the half tick matters. Quote bars have zero volume: a quote is not a trade.
 */
export const QuotePrice = { BID: 0, ASK: 1, MID: 2 } as const;
export type QuotePrice = (typeof QuotePrice)[keyof typeof QuotePrice];

export const MICROS_PER_MINUTE = 60_000_000;
export const MICROS_PER_DAY = 86_400_000_000;

export interface TimeBarOptions {
  instrumentId?: InstrumentId | number;
  empty?: EmptyBars;
  quotePrice?: QuotePrice;
}

function checkInterval(micros: number, what: string): void {
  if (!Number.isSafeInteger(micros) || micros < 1_000_000 || micros > MICROS_PER_DAY) {
    throw new Bot4Error(
      ErrorCode.INVALID_ARGUMENT,
      `${what} ${micros} us must be a whole number of microseconds from 1 s (1000000) to 1 day (86400000000)`,
      { interval: micros },
    );
  }
}

function checkThreshold(n: number, what: string): void {
  if (!Number.isSafeInteger(n) || n <= 0) {
    throw new Bot4Error(ErrorCode.INVALID_ARGUMENT, `${what} ${n} must be a positive safe integer`, {
      value: n,
    });
  }
}

/** Start of the epoch-aligned slot of length `interval` holding `ts` (floor, so negative times work too). */
function slotOf(ts: number, interval: number): number {
  const r = ts % interval;
  return r < 0 ? ts - r - interval : ts - r;
}

/** (bid + ask) / 2 in ticks, ties to even; see QuotePrice. */
export function midTicks(bid: number, ask: number): number {
  const s = bid + ask;
  const h = Math.floor(s / 2);
  if (s - 2 * h === 0) return h;
  return h % 2 === 0 ? h : h + 1;
}

/**
 * Time bars from trades: slot [start, start + interval) with start a multiple of the interval since the epoch.
 * A bar closes when a trade at or after its end arrives (update) or when the clock passes its end (onTime);
 * tsInit is that trade's time or `now`. Trades older than the last emitted bar are dropped and counted
 * (`late`): their bar is already published. Each call returns the number of bars it emitted.
 */
export class TimeBarAggregator {
  readonly interval: number;
  readonly instrumentId: number;
  readonly flat: boolean;
  readonly quotePrice: QuotePrice;
  /** Trades dropped because their bar was already emitted (or lies before the open bar). */
  late = 0;
  /** Bars emitted so far (flat ones included). */
  emitted = 0;
  private readonly handler: BarHandler;
  private readonly out = new Bar();
  private isOpen = false;
  private start = 0;
  private end = 0;
  private open = 0;
  private high = 0;
  private low = 0;
  private close = 0;
  private volume = 0;
  /** End of the last emitted bar: everything before it is published. */
  private watermark = Number.NEGATIVE_INFINITY;
  private lastClose = Number.NaN;

  constructor(intervalMicros: number, handler: BarHandler, options: TimeBarOptions = {}) {
    checkInterval(intervalMicros, 'time bar interval');
    this.interval = intervalMicros;
    this.handler = handler;
    this.instrumentId = options.instrumentId ?? 0;
    this.flat = (options.empty ?? EmptyBars.SKIP) === EmptyBars.FLAT;
    this.quotePrice = options.quotePrice ?? QuotePrice.MID;
    this.out.instrumentId = this.instrumentId as InstrumentId;
    this.out.interval = intervalMicros;
  }

  /** Adds one trade (ts micros, px ticks, qty lots). Returns the number of bars this closed. */
  update(ts: number, px: number, qty: number): number {
    if (this.isOpen && ts < this.end) {
      if (ts < this.start) {
        this.late++;
        return 0;
      }
      if (px > this.high) this.high = px;
      if (px < this.low) this.low = px;
      this.close = px;
      this.volume += qty;
      return 0;
    }
    return this.roll(ts, px, qty);
  }

  /** Adds one quote: its BID, ASK or MID price (see QuotePrice), zero volume. */
  updateQuote(ts: number, bidPx: number, askPx: number): number {
    const q = this.quotePrice;
    return this.update(
      ts,
      q === QuotePrice.BID ? bidPx : q === QuotePrice.ASK ? askPx : midTicks(bidPx, askPx),
      0,
    );
  }

  /** The clock reached `now`: emits the open bar if it has ended, and flat bars for ended empty slots. */
  onTime(now: number): number {
    let n = 0;
    if (this.isOpen && now >= this.end) {
      this.emitOpen(now);
      n = 1;
    }
    if (this.flat && !Number.isNaN(this.lastClose)) n += this.fillFlat(slotOf(now, this.interval), now);
    return n;
  }

  /** Copies the forming bar (not yet closed) into `out`; false when none is open. For display, not trading. */
  peek(out: Bar): boolean {
    if (!this.isOpen) return false;
    this.write(out, this.start, this.end, this.end);
    return true;
  }

  /** Drops the forming bar and all state (e.g. between backtest runs). */
  reset(): void {
    this.isOpen = false;
    this.watermark = Number.NEGATIVE_INFINITY;
    this.lastClose = Number.NaN;
    this.late = 0;
    this.emitted = 0;
  }

  private roll(ts: number, px: number, qty: number): number {
    // A NaN time must neither close the open bar nor open one at NaN: count it as late.
    if (Number.isNaN(ts)) {
      this.late++;
      return 0;
    }
    let n = 0;
    if (this.isOpen) {
      this.emitOpen(ts);
      n = 1;
    }
    if (ts < this.watermark) {
      this.late++;
      return n;
    }
    const start = slotOf(ts, this.interval);
    if (this.flat && !Number.isNaN(this.lastClose)) n += this.fillFlat(start, ts);
    this.isOpen = true;
    this.start = start;
    this.end = start + this.interval;
    this.open = px;
    this.high = px;
    this.low = px;
    this.close = px;
    this.volume = qty;
    return n;
  }

  private emitOpen(tsInit: number): void {
    this.isOpen = false;
    this.watermark = this.end;
    this.lastClose = this.close;
    this.write(this.out, this.start, this.end, tsInit);
    this.emitted++;
    this.handler(this.out);
  }

  /** Flat bars for every empty slot from the watermark up to (not including) the slot starting at `upTo`. */
  private fillFlat(upTo: number, tsInit: number): number {
    // The watermark is -Infinity only before the first bar, and lastClose is NaN then, so it is finite here.
    let n = 0;
    const iv = this.interval;
    const o = this.out;
    const px = this.lastClose as PriceTicks;
    while (this.watermark < upTo) {
      const s = this.watermark;
      o.tsOpen = s as Micros;
      o.tsClose = (s + iv) as Micros;
      o.tsInit = tsInit as Micros;
      o.open = px;
      o.high = px;
      o.low = px;
      o.close = px;
      o.volume = 0 as QtyLots;
      this.watermark = s + iv;
      this.emitted++;
      n++;
      this.handler(o);
    }
    return n;
  }

  private write(o: Bar, start: number, end: number, tsInit: number): void {
    o.instrumentId = this.instrumentId as InstrumentId;
    o.interval = this.interval;
    o.tsOpen = start as Micros;
    o.tsClose = end as Micros;
    o.tsInit = tsInit as Micros;
    o.open = this.open as PriceTicks;
    o.high = this.high as PriceTicks;
    o.low = this.low as PriceTicks;
    o.close = this.close as PriceTicks;
    o.volume = this.volume as QtyLots;
  }
}

/**
 * Information-driven bars share one shape: open at the first trade, close (and emit at once, tsInit = tsClose =
 * the closing trade's time) when a threshold is reached. interval is 0 on these bars.
 */
class ThresholdBase {
  readonly instrumentId: number;
  emitted = 0;
  protected readonly handler: BarHandler;
  protected readonly out = new Bar();
  protected isOpen = false;
  protected start = 0;
  protected open = 0;
  protected high = 0;
  protected low = 0;
  protected close = 0;
  protected volume = 0;

  constructor(handler: BarHandler, instrumentId: number) {
    this.handler = handler;
    this.instrumentId = instrumentId;
    this.out.instrumentId = instrumentId as InstrumentId;
    this.out.interval = 0;
  }

  protected begin(ts: number, px: number): void {
    this.isOpen = true;
    this.start = ts;
    this.open = px;
    this.high = px;
    this.low = px;
    this.close = px;
    this.volume = 0;
  }

  protected add(px: number, qty: number): void {
    if (px > this.high) this.high = px;
    if (px < this.low) this.low = px;
    this.close = px;
    this.volume += qty;
  }

  protected emit(ts: number): void {
    this.isOpen = false;
    this.write(this.out, ts);
    this.out.tsInit = ts as Micros;
    this.emitted++;
    this.handler(this.out);
  }

  private write(o: Bar, end: number): void {
    o.tsOpen = this.start as Micros;
    o.tsClose = end as Micros;
    o.open = this.open as PriceTicks;
    o.high = this.high as PriceTicks;
    o.low = this.low as PriceTicks;
    o.close = this.close as PriceTicks;
    o.volume = this.volume as QtyLots;
  }
}

/** A bar every `tradesPerBar` trades; the last trade of a bar closes it (tsClose = its time). */
export class TickBarAggregator extends ThresholdBase {
  readonly tradesPerBar: number;
  private count = 0;

  constructor(tradesPerBar: number, handler: BarHandler, instrumentId: number = 0) {
    super(handler, instrumentId);
    checkThreshold(tradesPerBar, 'trades per tick bar');
    this.tradesPerBar = tradesPerBar;
  }

  update(ts: number, px: number, qty: number): number {
    if (!this.isOpen) {
      this.begin(ts, px);
      this.count = 0;
    }
    this.add(px, qty);
    if (++this.count < this.tradesPerBar) return 0;
    this.emit(ts);
    return 1;
  }
}

/**
 * A bar every `lotsPerBar` lots of volume, exactly: a trade that crosses the threshold is split, its first part
 * closing the bar and the rest opening the next one(s) at the same price and time (a big trade can close
 * several bars). Every emitted bar has volume == lotsPerBar.
 */
export class VolumeBarAggregator extends ThresholdBase {
  readonly lotsPerBar: number;

  constructor(lotsPerBar: number, handler: BarHandler, instrumentId: number = 0) {
    super(handler, instrumentId);
    checkThreshold(lotsPerBar, 'lots per volume bar');
    this.lotsPerBar = lotsPerBar;
  }

  update(ts: number, px: number, qty: number): number {
    let n = 0;
    let left = qty;
    // A zero-size print still moves the price of the forming bar.
    do {
      if (!this.isOpen) this.begin(ts, px);
      const room = this.lotsPerBar - this.volume;
      const take = Math.min(left, room);
      this.add(px, take);
      left -= take;
      if (this.volume >= this.lotsPerBar) {
        this.emit(ts);
        n++;
      }
    } while (left > 0);
    return n;
  }
}

/**
 * A bar every `threshold` of traded value, value = price ticks * lots (use valueThreshold() to state it in
 * quote currency). A bar closes with the first lot that brings its value to the threshold or beyond; the
 * crossing trade is split there (whole lots), the rest opening the next bar(s). Exact while the running value
 * stays below 2^53 (ticks * lots per bar); beyond that the boundary is a double's nearest.
 */
export class ValueBarAggregator extends ThresholdBase {
  readonly threshold: number;
  /** Trades dropped because their price was not positive (a value bar needs a price to weigh lots). */
  rejected = 0;
  private value = 0;

  constructor(threshold: number, handler: BarHandler, instrumentId: number = 0) {
    super(handler, instrumentId);
    checkThreshold(threshold, 'value bar threshold (ticks x lots)');
    this.threshold = threshold;
  }

  update(ts: number, px: number, qty: number): number {
    if (!(px > 0)) {
      this.rejected++;
      return 0;
    }
    let n = 0;
    let left = qty;
    do {
      if (!this.isOpen) {
        this.begin(ts, px);
        this.value = 0;
      }
      const need = Math.ceil((this.threshold - this.value) / px);
      const take = Math.min(left, need);
      this.add(px, take);
      this.value += take * px;
      left -= take;
      if (this.value >= this.threshold) {
        this.emit(ts);
        n++;
      }
    } while (left > 0);
    return n;
  }
}

/**
 * A quote-currency amount (decimal text, e.g. "1000000" USDT) as a value-bar threshold in ticks x lots for
 * `instrument`: amount / (tickSize * lotSize * multiplier), rounded up so a bar never closes below the amount.
 * Linear instruments only (an inverse contract's value is not price x size).
 */
export function valueThreshold(instrument: Instrument, quoteAmount: string): number {
  if (instrument.isInverse) {
    throw new Bot4Error(
      ErrorCode.INVALID_ARGUMENT,
      `value bars for ${instrument.key}: an inverse contract's value is not price x size; use volume bars`,
      { instrument: instrument.key },
    );
  }
  const m = /^(\d+)(?:\.(\d+))?$/.exec(quoteAmount);
  if (m === null) {
    throw new Bot4Error(
      ErrorCode.INVALID_ARGUMENT,
      `value bar amount ${JSON.stringify(quoteAmount)} for ${instrument.key} must be a plain positive decimal such as "250000"`,
      { amount: quoteAmount },
    );
  }
  const frac = m[2] ?? '';
  const t = instrument.tickSize;
  const l = instrument.lotSize;
  const mu = instrument.multiplier;
  // amount = A * 10^-f; one tick x lot x multiplier = tu*lu*mu * 10^-(ts+ls+ms).
  let num = BigInt(m[1]! + frac);
  let den = t.unitsBig * l.unitsBig * mu.unitsBig;
  const e = t.scale + l.scale + mu.scale - frac.length;
  if (e >= 0) num *= 10n ** BigInt(e);
  else den *= 10n ** BigInt(-e);
  const q = (num + den - 1n) / den;
  if (q <= 0n || q > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new Bot4Error(
      ErrorCode.INVALID_ARGUMENT,
      `value bar amount ${quoteAmount} for ${instrument.key} is ${q} ticks x lots: it must be between 1 and 2^53-1`,
      { amount: quoteAmount },
    );
  }
  return Number(q);
}

/**
 * Time bars into bigger time bars (1 m -> 5 m): the target interval must be a multiple of the source's. The big
 * bar closes when a source bar ending at its end arrives, when a source bar of a later slot arrives, or when
 * the clock passes its end (onTime, or a source bar whose tsInit is past it); tsInit is the time that closed
 * it, so the result is the bar the trades would have given directly, emitted at the same moment.
 * Feed it SKIP source bars and let it fill empty slots itself (its own `empty` option): a FLAT source bar is
 * indistinguishable from a quiet one, and one at the start of a slot would become the big bar's open.
 */
export class BarResampler {
  readonly interval: number;
  readonly instrumentId: number;
  readonly flat: boolean;
  /** Source bars dropped: older than the last emitted bar, or not inside one target slot. */
  late = 0;
  misaligned = 0;
  emitted = 0;
  private readonly handler: BarHandler;
  private readonly out = new Bar();
  private isOpen = false;
  private start = 0;
  private end = 0;
  private open = 0;
  private high = 0;
  private low = 0;
  private close = 0;
  private volume = 0;
  private watermark = Number.NEGATIVE_INFINITY;
  private lastClose = Number.NaN;

  constructor(
    targetIntervalMicros: number,
    handler: BarHandler,
    options: { instrumentId?: number; empty?: EmptyBars; sourceIntervalMicros?: number } = {},
  ) {
    checkInterval(targetIntervalMicros, 'target bar interval');
    const src = options.sourceIntervalMicros;
    if (src !== undefined && (!(src > 0) || targetIntervalMicros % src !== 0)) {
      throw new Bot4Error(
        ErrorCode.INVALID_ARGUMENT,
        `cannot build ${targetIntervalMicros} us bars from ${src} us bars: the target must be a whole multiple of the source`,
        { target: targetIntervalMicros, source: src },
      );
    }
    this.interval = targetIntervalMicros;
    this.handler = handler;
    this.instrumentId = options.instrumentId ?? 0;
    this.flat = (options.empty ?? EmptyBars.SKIP) === EmptyBars.FLAT;
    this.out.instrumentId = this.instrumentId as InstrumentId;
    this.out.interval = targetIntervalMicros;
  }

  /** Adds a closed source bar. Returns the number of target bars emitted. */
  updateBar(bar: Bar): number {
    return this.update(
      bar.tsOpen,
      bar.tsClose,
      bar.tsInit,
      bar.open,
      bar.high,
      bar.low,
      bar.close,
      bar.volume,
    );
  }

  /** Handler form, to chain straight from an aggregator: `new TimeBarAggregator(MINUTE, resampler.onBar)`. */
  readonly onBar: BarHandler = (bar: Bar): void => {
    this.updateBar(bar);
  };

  update(
    tsOpen: number,
    tsClose: number,
    tsInit: number,
    open: number,
    high: number,
    low: number,
    close: number,
    volume: number,
  ): number {
    let n = 0;
    const start = slotOf(tsOpen, this.interval);
    // Negated so that NaN times land here too.
    if (!(tsClose > tsOpen && tsClose <= start + this.interval)) {
      this.misaligned++;
      return 0;
    }
    if (this.isOpen && start !== this.start) {
      if (start < this.start) {
        this.late++;
        return 0;
      }
      this.emitOpen(tsInit);
      n++;
    }
    if (!this.isOpen) {
      if (start < this.watermark) {
        this.late++;
        return n;
      }
      if (this.flat && !Number.isNaN(this.lastClose)) n += this.fillFlat(start, tsInit);
      this.isOpen = true;
      this.start = start;
      this.end = start + this.interval;
      this.open = open;
      this.high = high;
      this.low = low;
      this.volume = 0;
    } else {
      if (high > this.high) this.high = high;
      if (low < this.low) this.low = low;
    }
    this.close = close;
    this.volume += volume;
    if (tsClose >= this.end) {
      this.emitOpen(Math.max(tsInit, this.end));
      n++;
    }
    // The source bar was published at tsInit, so the clock has reached it: close what has ended by then.
    return n + this.onTime(tsInit);
  }

  onTime(now: number): number {
    let n = 0;
    if (this.isOpen && now >= this.end) {
      this.emitOpen(now);
      n = 1;
    }
    if (this.flat && !Number.isNaN(this.lastClose)) n += this.fillFlat(slotOf(now, this.interval), now);
    return n;
  }

  private emitOpen(tsInit: number): void {
    this.isOpen = false;
    this.watermark = this.end;
    this.lastClose = this.close;
    const o = this.out;
    o.tsOpen = this.start as Micros;
    o.tsClose = this.end as Micros;
    o.tsInit = tsInit as Micros;
    o.open = this.open as PriceTicks;
    o.high = this.high as PriceTicks;
    o.low = this.low as PriceTicks;
    o.close = this.close as PriceTicks;
    o.volume = this.volume as QtyLots;
    this.emitted++;
    this.handler(o);
  }

  private fillFlat(upTo: number, tsInit: number): number {
    let n = 0;
    const iv = this.interval;
    const o = this.out;
    const px = this.lastClose as PriceTicks;
    while (this.watermark < upTo) {
      const s = this.watermark;
      o.tsOpen = s as Micros;
      o.tsClose = (s + iv) as Micros;
      o.tsInit = tsInit as Micros;
      o.open = px;
      o.high = px;
      o.low = px;
      o.close = px;
      o.volume = 0 as QtyLots;
      this.watermark = s + iv;
      this.emitted++;
      n++;
      this.handler(o);
    }
    return n;
  }
}

/**
 * Appends each bar it is handed to an EventBatch as a BAR row. When the batch is full it calls `onFull` (which
 * must consume the rows) and clears it; without `onFull` a full batch is a sizing bug and throws CAPACITY.
 */
export class BarBatchWriter {
  readonly batch: EventBatch;
  private readonly onFull: ((batch: EventBatch) => void) | undefined;

  constructor(batch: EventBatch, onFull?: (batch: EventBatch) => void) {
    this.batch = batch;
    this.onFull = onFull;
  }

  readonly handler: BarHandler = (bar: Bar): void => {
    const b = this.batch;
    if (b.length >= b.capacity) {
      if (this.onFull === undefined) {
        throw new Bot4Error(
          ErrorCode.CAPACITY,
          `bar batch full at ${b.capacity} rows; drain it between updates or give BarBatchWriter an onFull callback`,
          { capacity: b.capacity },
        );
      }
      this.onFull(b);
      b.clear();
    }
    b.push(
      RecordKind.BAR,
      bar.instrumentId,
      bar.tsClose,
      bar.tsInit,
      bar.open,
      bar.high,
      bar.low,
      bar.close,
      bar.volume,
      bar.interval,
      bar.tsOpen,
    );
  };
}

/** Anything that takes trades (time, tick, volume and value aggregators). */
export interface TradeBarAggregator {
  update(ts: number, px: number, qty: number): number;
}

/**
 * Feeds the TRADE rows of `batch` (optionally of one instrument only) to `agg`; returns bars emitted. For
 * loaders and tests; a hot loop over one aggregator class is faster written out at the call site.
 */
export function feedTrades(agg: TradeBarAggregator, batch: EventBatch, instrumentId = -1): number {
  let n = 0;
  const kind = batch.kind;
  const inst = batch.instrument;
  const ts = batch.tsEvent;
  const px = batch.a;
  const qty = batch.b;
  for (let i = 0; i < batch.length; i++) {
    if (kind[i] !== RecordKind.TRADE || (instrumentId >= 0 && inst[i] !== instrumentId)) continue;
    n += agg.update(ts[i]!, px[i]!, qty[i]!);
  }
  return n;
}
