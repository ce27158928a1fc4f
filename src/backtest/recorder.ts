// What a backtest records while it runs: an equity curve and instrument prices sampled on a fixed grid of
// engine time, every fill and funding payment, in growing typed-array columns (no allocation per event; a
// column doubles when full). Units: times micros, money integer units of the report currency, px ticks, qty lots.

import { Bot4Error, ErrorCode, invariant } from '../core/errors.ts';
import type { InstrumentId, Micros } from '../core/units.ts';
import type { Currency, CurrencyId } from '../model/currency.ts';
import type { OrderEvent } from '../model/events.ts';
import type { Instrument } from '../model/instrument.ts';
import { type Order, OrderSide } from '../model/order.ts';
import { mulDivHalfEven } from '../portfolio/arith.ts';
import type { Portfolio } from '../portfolio/portfolio.ts';
import { type Position, PositionSide } from '../portfolio/position.ts';

export const MICROS_PER_MINUTE = 60_000_000;
/** Default sampling interval of the equity curve: one minute of engine time. */
export const DEFAULT_SAMPLE_INTERVAL = MICROS_PER_MINUTE;

/** An append-only double column: doubles its storage when full, so appends are amortised O(1). */
export class F64Column {
  data: Float64Array;
  length = 0;

  constructor(capacity = 1024) {
    this.data = new Float64Array(Math.max(16, capacity));
  }

  push(v: number): void {
    if (this.length === this.data.length) this.grow();
    this.data[this.length++] = v;
  }

  /** Overwrites the last value (the closing sample of a run). */
  setLast(v: number): void {
    this.data[this.length - 1] = v;
  }

  get(i: number): number {
    return this.data[i]!;
  }

  /** A copy of the filled part. */
  toArray(): Float64Array {
    return this.data.slice(0, this.length);
  }

  /** The filled part without a copy: valid while nothing is pushed or set (a push may move the storage). */
  view(): Float64Array {
    return this.data.subarray(0, this.length);
  }

  private grow(): void {
    const next = new Float64Array(this.data.length * 2);
    next.set(this.data);
    this.data = next;
  }
}

/**
 * Where the recorder reads the account's state at a sample: out[0] equity, out[1] cash (wallet balance),
 * out[2] gross exposure (sum of |position value at mark|), all money units of the report currency. Writing
 * into an array, rather than returning three numbers, keeps money-sized doubles unboxed.
 */
export interface EquitySource {
  read(out: Float64Array): void;
}

/**
 * Equity of a Portfolio in one currency. Margin accounts: wallet + unrealised PnL (Portfolio.equity).
 * Cash (spot) accounts hold the base asset instead of a PnL, so their spot positions' signed value at mark is
 * added. Base assets deposited before the run are not valued (give them as positions or convert them first),
 * and only instruments settling in `currency` count: the portfolio does no FX.
 */
export class PortfolioEquitySource implements EquitySource {
  readonly portfolio: Portfolio;
  readonly currencyId: CurrencyId;

  constructor(portfolio: Portfolio, currency: Currency) {
    this.portfolio = portfolio;
    this.currencyId = currency.id;
  }

  read(out: Float64Array): void {
    const pf = this.portfolio;
    const c = this.currencyId;
    let spot = 0;
    for (let i = 0; i < pf.accountCount; i++) {
      const a = pf.account(i)!;
      if (!a.isMargin && c < a.capacity) spot += a.netExposure[c]!;
    }
    out[0] = pf.equity(c) + spot;
    out[1] = pf.balance(c);
    out[2] = pf.grossExposure(c);
  }
}

/** Columnar fills, row i = the i-th fill recorded. */
export interface FillTable {
  readonly length: number;
  readonly ts: ArrayLike<number>;
  /** Index of the instrument in the recording's `instruments`. */
  readonly slot: ArrayLike<number>;
  /** +1 buy, -1 sell. */
  readonly side: ArrayLike<number>;
  /** Lots, > 0. */
  readonly qty: ArrayLike<number>;
  /** Ticks. */
  readonly px: ArrayLike<number>;
  /** Instrument value of the fill (Instrument.notional), money units. */
  readonly notional: ArrayLike<number>;
  /** Fee in money units (negative: rebate). */
  readonly fee: ArrayLike<number>;
  /** PnL the fill realised, as the portfolio booked it (Position.lastRealised). */
  readonly realised: ArrayLike<number>;
  /** LiquiditySide code. */
  readonly liquidity: ArrayLike<number>;
  /** PositionSide code (BOTH in a netting account). */
  readonly positionSide: ArrayLike<number>;
  readonly orderId: ArrayLike<number>;
  /** OrderType code of the fill's order (0: not known); the analysis names exit reasons from it. */
  readonly orderType?: ArrayLike<number>;
}

/** Columnar funding payments; `afterFill` = fills recorded before it, which orders it among the fills. */
export interface FundingTable {
  readonly length: number;
  readonly ts: ArrayLike<number>;
  readonly slot: ArrayLike<number>;
  readonly positionSide: ArrayLike<number>;
  /** Paid (positive) or received (negative), money units. */
  readonly amount: ArrayLike<number>;
  readonly afterFill: ArrayLike<number>;
}

/**
 * A round trip on one (instrument, position side). Money fields are integer money units of the report
 * currency; prices are average ticks (doubles); quantities lots. An open trade (still in the market when the
 * run ended) has exit fields null and carries only what it realised so far (partial exits).
 */
export interface Trade {
  /** 0, 1, 2... in the order trades opened. */
  id: number;
  /** Index into the recording's instruments, and the instrument's id. */
  slot: number;
  instrumentId: number;
  positionSide: number;
  /** +1 long, -1 short. */
  direction: 1 | -1;
  open: boolean;
  entryTs: number;
  exitTs: number | null;
  /** Volume-weighted average entry price over the entering fills, ticks. */
  entryPx: number;
  exitPx: number | null;
  /** Lots entered in total (adds included) and exited in total. */
  qty: number;
  exitQty: number;
  /** Largest |position| during the trade, lots. */
  maxQty: number;
  /** Sum of the notional of the entering (exiting) parts of fills. */
  entryValue: number;
  exitValue: number;
  grossPnl: number;
  fees: number;
  funding: number;
  /** grossPnl - fees - funding. */
  netPnl: number;
  /** netPnl / entryValue (0 when entryValue is 0). */
  returnFraction: number;
  fills: number;
  durationMicros: number | null;
  /** Sampling intervals the trade spanned: grid boundaries crossed between entry and exit. */
  bars: number | null;
}

export interface TradeBuildOptions {
  /** Instrument value of `qty` lots at `px` ticks in money units (Instrument.notional), for a flip's split. */
  readonly notional: (slot: number, px: number, qty: number) => number;
  /** Instrument id of each slot. */
  readonly instrumentIds: ArrayLike<number>;
  /** Sampling grid (for `bars`): origin and interval. */
  readonly startTs: number;
  readonly intervalMicros: number;
}

export interface TradeBook {
  trades: Trade[];
  /** Funding paid while no trade of its (instrument, side) was open; 0 in a consistent run. */
  unattributedFunding: number;
}

/**
 * Builds round-trip trades from fills, per (instrument, position side):
 * - a trade opens when the position leaves flat; fills in its direction add to it (entry);
 * - fills against it reduce it (exit); partial exits stay in the same trade;
 * - it closes when the position returns to flat. A fill that goes through zero (a flip) closes the trade with
 *   the lots that reach flat and opens a new one with the rest: the flip's notional is split as the portfolio
 *   splits it (closing part = notional(px, closeQty)), its fee pro rata by lots (closing part
 *   round_half_even(fee x closeQty / qty), opening part the remainder), and its realised PnL (which the
 *   portfolio books on the closing part only) goes to the closing trade.
 * - funding goes to the trade open on its (instrument, side) when it was paid.
 * So the trades' net PnL adds up to sum(realised) - sum(fees) - sum(funding) exactly (plus unattributed).
 */
export function buildTrades(fills: FillTable, fundings: FundingTable, options: TradeBuildOptions): TradeBook {
  const trades: Trade[] = [];
  const open = new Map<number, OpenTrade>();
  let unattributedFunding = 0;
  let f = 0;
  const applyFunding = (upTo: number): void => {
    while (f < fundings.length && fundings.afterFill[f]! <= upTo) {
      const key = fundings.slot[f]! * 3 + fundings.positionSide[f]!;
      const t = open.get(key);
      const amount = fundings.amount[f]!;
      if (t === undefined) unattributedFunding += amount;
      else t.trade.funding += amount;
      f++;
    }
  };
  for (let i = 0; i < fills.length; i++) {
    applyFunding(i);
    const slot = fills.slot[i]!;
    const key = slot * 3 + fills.positionSide[i]!;
    const side = fills.side[i]!;
    const qty = fills.qty[i]!;
    const px = fills.px[i]!;
    const ts = fills.ts[i]!;
    const fee = fills.fee[i]!;
    const notional = fills.notional[i]!;
    let cur = open.get(key);
    if (cur === undefined) {
      cur = openTrade(trades, slot, options.instrumentIds[slot]!, fills.positionSide[i]!, side, ts);
      open.set(key, cur);
      enter(cur, qty, px, notional, fee, fills.realised[i]!);
      continue;
    }
    if (side === cur.trade.direction) {
      enter(cur, qty, px, notional, fee, fills.realised[i]!);
      continue;
    }
    const closeQty = Math.min(qty, cur.pos);
    const flip = qty > cur.pos;
    const exitValue = flip ? options.notional(slot, px, closeQty) : notional;
    const exitFee = flip ? splitFee(fee, closeQty, qty) : fee;
    const t = cur.trade;
    t.exitQty += closeQty;
    t.exitValue += exitValue;
    cur.exitPxQty += px * closeQty;
    t.fees += exitFee;
    t.grossPnl += fills.realised[i]!;
    t.fills++;
    cur.pos -= closeQty;
    if (cur.pos === 0) {
      closeTrade(cur, ts, options);
      open.delete(key);
      if (flip) {
        const rest = openTrade(trades, slot, options.instrumentIds[slot]!, fills.positionSide[i]!, side, ts);
        open.set(key, rest);
        enter(rest, qty - closeQty, px, notional - exitValue, fee - exitFee, 0);
      }
    }
  }
  applyFunding(Number.POSITIVE_INFINITY);
  for (const cur of open.values()) finishOpen(cur);
  return { trades, unattributedFunding };
}

class OpenTrade {
  readonly trade: Trade;
  pos = 0;
  entryPxQty = 0;
  exitPxQty = 0;

  constructor(trade: Trade) {
    this.trade = trade;
  }
}

function openTrade(
  trades: Trade[],
  slot: number,
  instrumentId: number,
  positionSide: number,
  direction: number,
  ts: number,
): OpenTrade {
  const trade: Trade = {
    id: trades.length,
    slot,
    instrumentId,
    positionSide,
    direction: direction > 0 ? 1 : -1,
    open: true,
    entryTs: ts,
    exitTs: null,
    entryPx: 0,
    exitPx: null,
    qty: 0,
    exitQty: 0,
    maxQty: 0,
    entryValue: 0,
    exitValue: 0,
    grossPnl: 0,
    fees: 0,
    funding: 0,
    netPnl: 0,
    returnFraction: 0,
    fills: 0,
    durationMicros: null,
    bars: null,
  };
  trades.push(trade);
  return new OpenTrade(trade);
}

function enter(
  cur: OpenTrade,
  qty: number,
  px: number,
  notional: number,
  fee: number,
  realised: number,
): void {
  const t = cur.trade;
  t.qty += qty;
  t.entryValue += notional;
  t.fees += fee;
  t.grossPnl += realised;
  t.fills++;
  cur.entryPxQty += px * qty;
  cur.pos += qty;
  if (cur.pos > t.maxQty) t.maxQty = cur.pos;
  t.entryPx = cur.entryPxQty / t.qty;
}

function closeTrade(cur: OpenTrade, ts: number, o: TradeBuildOptions): void {
  const t = cur.trade;
  t.open = false;
  t.exitTs = ts;
  t.exitPx = cur.exitPxQty / t.exitQty;
  t.durationMicros = ts - t.entryTs;
  t.bars =
    Math.floor((ts - o.startTs) / o.intervalMicros) - Math.floor((t.entryTs - o.startTs) / o.intervalMicros);
  finishOpen(cur);
}

function finishOpen(cur: OpenTrade): void {
  const t = cur.trade;
  if (t.exitQty > 0 && t.exitPx === null) t.exitPx = cur.exitPxQty / t.exitQty;
  t.netPnl = t.grossPnl - t.fees - t.funding;
  t.returnFraction = t.entryValue === 0 ? 0 : t.netPnl / t.entryValue;
}

/** round_half_even(fee * part / whole), sign kept (a rebate splits like a fee). */
export function splitFee(fee: number, part: number, whole: number): number {
  if (fee === 0 || part === whole) return fee;
  const m = mulDivHalfEven(fee < 0 ? -fee : fee, part, whole);
  return fee < 0 ? 0 - m : m;
}

export interface RecorderOptions {
  /** Report currency; every recorded instrument must settle in it. */
  readonly currency: Currency;
  /** The instruments the run trades or charts (their prices are sampled; fills on others are a bug). */
  readonly instruments: readonly Instrument[];
  readonly source: EquitySource;
  /** Sampling interval of engine time, micros. Default one minute. */
  readonly intervalMicros?: number;
  /** Initial rows of each column (they grow by doubling). Default 4096. */
  readonly capacity?: number;
}

/** Everything a run recorded, as plain arrays: the input of statistics and reports. */
export interface Recording {
  readonly currency: Currency;
  readonly instruments: readonly Instrument[];
  readonly intervalMicros: number;
  readonly startTs: number;
  readonly endTs: number;
  readonly curve: {
    readonly ts: Float64Array;
    readonly equity: Float64Array;
    readonly cash: Float64Array;
    readonly grossExposure: Float64Array;
  };
  /** Per slot: price in ticks at each curve sample, NaN before the first price seen. */
  readonly prices: readonly Float64Array[];
  readonly fills: FillTable;
  readonly fundings: FundingTable;
  readonly trades: Trade[];
  readonly unattributedFunding: number;
  readonly orders: number;
  /** Fills whose fee was in another currency than the report's (not counted in fees). */
  readonly foreignFeeFills: number;
}

/**
 * The recorder. Call order per run: (begin), then for each event advance(ts) BEFORE the event changes any
 * state, observePrice() with the price the portfolio is marked at, fill()/recordOrderFill()/funding() after
 * the portfolio applied them, orderSubmitted() per order sent; end(ts) after the last event.
 * Sampling: grid t_k = start + k * interval; the sample at t_k is the state after every event with
 * timestamp < t_k (a gap in the data repeats the last state at each grid point it spans). The final sample
 * is at end(ts) and holds the state after every event. Hot path calls allocate nothing (columns double
 * when full) and never throw except on a bug (an instrument not declared up front).
 */
export class BacktestRecorder {
  readonly currency: Currency;
  readonly instruments: readonly Instrument[];
  readonly intervalMicros: number = DEFAULT_SAMPLE_INTERVAL;
  private readonly source: EquitySource;
  /** InstrumentId -> slot, -1 when not recorded. */
  private readonly slotOf: Int32Array;
  private readonly lastPx: Float64Array;
  private readonly reg = new Float64Array(3);
  private started = false;
  startTs = 0;
  endTs = 0;
  /** -Infinity until the first advance(), which then begins the run at that event's time. */
  private nextSampleTs = Number.NEGATIVE_INFINITY;
  orders = 0;
  foreignFeeFills = 0;

  private readonly sTs: F64Column;
  private readonly sEquity: F64Column;
  private readonly sCash: F64Column;
  private readonly sGross: F64Column;
  private readonly sPrices: F64Column[];

  private readonly fTs: F64Column;
  private readonly fSlot: F64Column;
  private readonly fSide: F64Column;
  private readonly fQty: F64Column;
  private readonly fPx: F64Column;
  private readonly fNotional: F64Column;
  private readonly fFee: F64Column;
  private readonly fRealised: F64Column;
  private readonly fLiquidity: F64Column;
  private readonly fPosSide: F64Column;
  private readonly fOrderId: F64Column;
  private readonly fOrderType: F64Column;

  private readonly uTs: F64Column;
  private readonly uSlot: F64Column;
  private readonly uPosSide: F64Column;
  private readonly uAmount: F64Column;
  private readonly uAfter: F64Column;

  constructor(options: RecorderOptions) {
    const interval = options.intervalMicros ?? DEFAULT_SAMPLE_INTERVAL;
    if (!Number.isSafeInteger(interval) || interval < 1) {
      throw new Bot4Error(
        ErrorCode.INVALID_ARGUMENT,
        `recorder intervalMicros ${interval} must be a whole number of microseconds >= 1 (e.g. 60000000 for one minute)`,
        { intervalMicros: interval },
      );
    }
    this.currency = options.currency;
    this.instruments = options.instruments.slice();
    this.intervalMicros = interval;
    this.source = options.source;
    let maxId = -1;
    for (const inst of this.instruments) {
      if (inst.settlement.id !== options.currency.id) {
        throw new Bot4Error(
          ErrorCode.INVALID_ARGUMENT,
          `instrument ${inst.key} settles in ${inst.settlement.code}, not the report currency ${options.currency.code}; the recorder does no FX conversion`,
          { instrument: inst.key, settlement: inst.settlement.code, currency: options.currency.code },
        );
      }
      if (inst.id > maxId) maxId = inst.id;
    }
    this.slotOf = new Int32Array(maxId + 1).fill(-1);
    this.instruments.forEach((inst, i) => {
      if (this.slotOf[inst.id] !== -1) {
        throw new Bot4Error(ErrorCode.INVALID_ARGUMENT, `instrument ${inst.key} is listed twice`, {
          instrument: inst.key,
        });
      }
      this.slotOf[inst.id] = i;
    });
    this.lastPx = new Float64Array(this.instruments.length).fill(Number.NaN);
    const cap = options.capacity ?? 4096;
    const col = (): F64Column => new F64Column(cap);
    this.sTs = col();
    this.sEquity = col();
    this.sCash = col();
    this.sGross = col();
    this.sPrices = this.instruments.map(col);
    this.fTs = col();
    this.fSlot = col();
    this.fSide = col();
    this.fQty = col();
    this.fPx = col();
    this.fNotional = col();
    this.fFee = col();
    this.fRealised = col();
    this.fLiquidity = col();
    this.fPosSide = col();
    this.fOrderId = col();
    this.fOrderType = col();
    const small = (): F64Column => new F64Column(64);
    this.uTs = small();
    this.uSlot = small();
    this.uPosSide = small();
    this.uAmount = small();
    this.uAfter = small();
  }

  /** Starts the run at `ts` with a first sample (the initial equity). advance() calls it if you do not. */
  begin(ts: Micros | number): void {
    invariant(!this.started, 'BacktestRecorder.begin() called twice');
    this.started = true;
    this.startTs = ts;
    this.endTs = ts;
    this.push(ts);
    this.nextSampleTs = ts + this.intervalMicros;
  }

  /** Engine time moved to `ts` (call before the event at `ts` changes state). One compare when no sample is due. */
  advance(ts: Micros | number): void {
    if (ts >= this.nextSampleTs) this.sampleUpTo(ts);
  }

  /** The latest price of an instrument (the one the portfolio is marked at), for the price chart. */
  observePrice(instrumentId: InstrumentId | number, px: number): void {
    const s = this.slotOf[instrumentId];
    if (s !== undefined && s >= 0) this.lastPx[s] = px;
  }

  orderSubmitted(): void {
    this.orders++;
  }

  /**
   * A fill the portfolio applied: `realised` is what it booked for it (Position.lastRealised), `fee` in money
   * units of the report currency. Side is OrderSide (BUY/SELL).
   */
  fill(
    ts: Micros | number,
    instrumentId: InstrumentId | number,
    side: OrderSide,
    qty: number,
    px: number,
    fee: number,
    liquidity: number,
    realised: number,
    positionSide: PositionSide = PositionSide.BOTH,
    orderId = 0,
    orderType = 0,
  ): void {
    const slot = this.requireSlot(instrumentId);
    const inst = this.instruments[slot]!;
    this.fTs.push(ts);
    this.fSlot.push(slot);
    this.fSide.push(side === OrderSide.BUY ? 1 : -1);
    this.fQty.push(qty);
    this.fPx.push(px);
    this.fNotional.push(inst.tryNotional(px, qty));
    this.fFee.push(fee);
    this.fRealised.push(realised);
    this.fLiquidity.push(liquidity);
    this.fPosSide.push(positionSide);
    this.fOrderId.push(orderId);
    this.fOrderType.push(orderType);
  }

  /**
   * fill() from the execution engine's records, after Portfolio.applyOrderFill returned OK: the event gives
   * time, lots, price, fee and liquidity, `position` (the slot the fill went to) the realised PnL. A fee in
   * another currency than the report's is not counted (foreignFeeFills says how many were skipped).
   */
  recordOrderFill(order: Order, ev: OrderEvent, position: Position): void {
    let fee: number = ev.fee;
    if (fee !== 0 && ev.feeCurrencyId !== this.currency.id) {
      fee = 0;
      this.foreignFeeFills++;
    }
    this.fill(
      ev.tsEvent,
      order.instrumentId,
      order.side,
      ev.fillQty,
      ev.fillPx,
      fee,
      ev.liquidity,
      position.lastRealised,
      position.side,
      order.id,
      order.type,
    );
  }

  /** A funding payment of one position (positive: paid), money units of the report currency. */
  funding(
    ts: Micros | number,
    instrumentId: InstrumentId | number,
    amount: number,
    positionSide: PositionSide = PositionSide.BOTH,
  ): void {
    if (amount === 0) return;
    this.uTs.push(ts);
    this.uSlot.push(this.requireSlot(instrumentId));
    this.uPosSide.push(positionSide);
    this.uAmount.push(amount);
    this.uAfter.push(this.fTs.length);
  }

  /** Ends the run at `ts` (>= the last event): grid samples up to it, then the final state at `ts` itself. */
  end(ts: Micros | number): void {
    if (!this.started) this.begin(ts);
    invariant(ts >= this.endTs, `BacktestRecorder.end(${ts}) is before the last sample (${this.endTs})`);
    this.advance(ts);
    if (this.sTs.get(this.sTs.length - 1) === ts) {
      this.source.read(this.reg);
      this.sEquity.setLast(this.reg[0]!);
      this.sCash.setLast(this.reg[1]!);
      this.sGross.setLast(this.reg[2]!);
      for (let i = 0; i < this.sPrices.length; i++) this.sPrices[i]!.setLast(this.lastPx[i]!);
    } else {
      this.push(ts);
    }
    this.endTs = ts;
  }

  get sampleCount(): number {
    return this.sTs.length;
  }

  get fillCount(): number {
    return this.fTs.length;
  }

  /**
   * Everything recorded, with the trades built: call once, after end(). The columns are views of the
   * recorder's storage, not copies (a 1M-sample curve is 40 MB that a copy would allocate and fault in again).
   */
  recording(): Recording {
    const fills: FillTable = {
      length: this.fTs.length,
      ts: this.fTs.view(),
      slot: this.fSlot.view(),
      side: this.fSide.view(),
      qty: this.fQty.view(),
      px: this.fPx.view(),
      notional: this.fNotional.view(),
      fee: this.fFee.view(),
      realised: this.fRealised.view(),
      liquidity: this.fLiquidity.view(),
      positionSide: this.fPosSide.view(),
      orderId: this.fOrderId.view(),
      orderType: this.fOrderType.view(),
    };
    const fundings: FundingTable = {
      length: this.uTs.length,
      ts: this.uTs.view(),
      slot: this.uSlot.view(),
      positionSide: this.uPosSide.view(),
      amount: this.uAmount.view(),
      afterFill: this.uAfter.view(),
    };
    const instruments = this.instruments;
    const book = buildTrades(fills, fundings, {
      notional: (slot, px, qty) => instruments[slot]!.notional(px, qty),
      instrumentIds: instruments.map((i) => i.id),
      startTs: this.startTs,
      intervalMicros: this.intervalMicros,
    });
    return {
      currency: this.currency,
      instruments,
      intervalMicros: this.intervalMicros,
      startTs: this.startTs,
      endTs: this.endTs,
      curve: {
        ts: this.sTs.view(),
        equity: this.sEquity.view(),
        cash: this.sCash.view(),
        grossExposure: this.sGross.view(),
      },
      prices: this.sPrices.map((c) => c.view()),
      fills,
      fundings,
      trades: book.trades,
      unattributedFunding: book.unattributedFunding,
      orders: this.orders,
      foreignFeeFills: this.foreignFeeFills,
    };
  }

  private requireSlot(instrumentId: number): number {
    const s = this.slotOf[instrumentId];
    if (s === undefined || s < 0) {
      throw new Bot4Error(
        ErrorCode.INVALID_ARGUMENT,
        `instrument id ${instrumentId} was not given to the BacktestRecorder; list every traded instrument in its options`,
        { instrumentId },
      );
    }
    return s;
  }

  /** Reads the state once and writes it at every grid point <= ts (more than one across a data gap). */
  private sampleUpTo(ts: number): void {
    if (!this.started) {
      this.begin(ts);
      return;
    }
    this.source.read(this.reg);
    const interval = this.intervalMicros;
    let t = this.nextSampleTs;
    while (t <= ts) {
      this.pushRead(t);
      t += interval;
    }
    this.nextSampleTs = t;
    this.endTs = t - interval;
  }

  private push(ts: number): void {
    this.source.read(this.reg);
    this.pushRead(ts);
  }

  private pushRead(ts: number): void {
    const reg = this.reg;
    this.sTs.push(ts);
    this.sEquity.push(reg[0]!);
    this.sCash.push(reg[1]!);
    this.sGross.push(reg[2]!);
    const px = this.lastPx;
    for (let i = 0; i < this.sPrices.length; i++) this.sPrices[i]!.push(px[i]!);
  }
}
