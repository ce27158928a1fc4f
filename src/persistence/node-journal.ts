// The journal of a paper or live node, and its recovery on start. What is written, and when:
//  - SESSION (each start): the portfolio's starting balances of the journal's first run (later runs restate
//    them), the mode and instruments. Written before the first order.
//  - COMMAND (submit, cancel): written BEFORE the venue is asked (the venue client is wrapped), so an order
//    the venue may have received is never unknown after a crash; a command whose order the venue never saw is
//    settled at recovery (the venue says "unknown order" and it is closed as rejected).
//  - EVENT (accepted, rejected, canceled, expired...) and FILL: written right AFTER the venue told the engine
//    and the engine accepted the transition (first subscriber on the order-event topic), before the portfolio,
//    risk or strategies act on it: the venue is the source of truth, so recording what it has not said would
//    invent state, and recording it before anyone acts means no action rests on an unrecorded fact.
//  - POSITION and BALANCE: right after the portfolio applied a fill; not needed to rebuild (fills are), they
//    are checkpoints: recovery replays the fills and must arrive at exactly these figures.
// Recovery (live): replay fills onto the first run's starting balances (positions, balances, realised PnL),
// then ask the venue about every order the journal left open: fills it made while the node was down are
// applied and journalled (deduplicated by trade id), orders still open are adopted by the reconciliation, and
// the rebuilt balances must equal the venue's to the last unit or the start halts. Paper: the simulated venue
// died with the node, so orders it held are closed as canceled. Units: ticks, lots, money units (integers).

import { wallMicros } from '../core/clock.ts';
import { Bot4Error, ErrorCode } from '../core/errors.ts';
import type { VenueClient, VenueEventSink } from '../execution/venue.ts';
import type { Kernel } from '../kernel/kernel.ts';
import { type CurrencyId, currencies, moneyFromDecimal, moneyToDecimal } from '../model/currency.ts';
import { decimalToStepsRounded, Rounding } from '../model/decimal.ts';
import type { OrderEvent } from '../model/events.ts';
import type { Instrument } from '../model/instrument.ts';
import type { Order, OrderSide, OrderType } from '../model/order.ts';
import { OrderEventKind, orderEventName } from '../model/order-state.ts';
import type { BinanceRest } from '../venues/binance/rest.ts';
import {
  type FsyncPolicy,
  type JournalRecord,
  type JournalWriter,
  openJournal,
  readJournal,
} from './journal.ts';

export const RecordKind = {
  SESSION: 1,
  COMMAND: 2,
  EVENT: 3,
  FILL: 4,
  POSITION: 5,
  BALANCE: 6,
  /** An operator's call through the control API (src/control/audit.ts): who, what; not replayed. */
  CONTROL: 7,
} as const;

/** First on the order-event topic (the portfolio is at -100): the journal records before anyone acts. */
const JOURNAL_EVENT_PRIORITY = -1000;
/** Right after the portfolio applied a fill. */
const JOURNAL_CHECKPOINT_PRIORITY = -99;

export interface JournalConfig {
  path: string;
  fsync: FsyncPolicy;
  groupMs: number;
}

export interface Balance {
  currency: string;
  amount: string;
}

export interface SessionRec {
  mode: string;
  instruments: string[];
  balances: Balance[];
}
interface CommandRec {
  op: 'submit' | 'cancel';
  cid: string;
  sym: string;
  side?: number;
  type?: number;
  qty?: number;
  px?: number;
}
interface EventRec {
  cid: string;
  kind: string;
  venueOrderId: string;
  reason: string;
}
export interface FillRec {
  cid: string;
  sym: string;
  side: number;
  qty: number;
  px: number;
  fee: number;
  feeCcy: string;
  tradeId: string;
  ts: number;
  /** Applied at recovery from the venue's trade list (the node was down when it happened). */
  recovered?: boolean;
}

/** What the journal knows of one order. */
export interface JournalOrder {
  cid: string;
  sym: string;
  side: number;
  qty: number;
  px: number;
  /** The last event kind's name (SUBMITTED when only the command exists). */
  state: string;
  filledQty: number;
  venueOrderId: string;
}

const CLOSED = new Set(['FILLED_ALL', 'CANCELED', 'EXPIRED', 'REJECTED', 'DENIED']);

export interface RecoveryReport {
  records: number;
  repairedBytes: number;
  orders: number;
  fills: number;
  /** Fills the venue made while the node was down, applied at this start. */
  recoveredFills: number;
  /** Orders the journal left open that the venue still has open (adopted by the reconciliation). */
  stillOpen: number;
  /** Fills the venue delivered again that the journal already held (dropped). */
  duplicateFills: number;
  /** Orders closed at recovery: the venue closed them while down, or never saw them, or (paper) died. */
  closedAtRecovery: number;
  lines: string[];
}

/** A venue client whose commands are journalled before it is asked; everything else passes through. */
class JournallingVenue implements VenueClient {
  readonly name: string;
  readonly nativeTypes: number;
  private readonly inner: VenueClient;
  private readonly journal: NodeJournal;
  private readonly prefix: string;

  constructor(inner: VenueClient, journal: NodeJournal, prefix: string) {
    this.inner = inner;
    this.name = inner.name;
    this.nativeTypes = inner.nativeTypes;
    this.journal = journal;
    this.prefix = prefix;
  }

  submit(order: Order, asType: OrderType): void {
    // The client id is fixed here (the venue client would derive the same form) so the command names it.
    if (order.clientOrderId === '') order.clientOrderId = `${this.prefix}${order.id}`;
    this.journal.command(order, 'submit');
    this.inner.submit(order, asType);
  }

  modify(order: Order, qty: number, price: number, triggerPrice: number): void {
    this.inner.modify(order, qty, price, triggerPrice);
  }

  cancel(order: Order): void {
    this.journal.command(order, 'cancel');
    this.inner.cancel(order);
  }
}

function bySymbol(k: Kernel, symbol: string): Instrument | undefined {
  return k.cache.instruments.all().find((i) => i.symbol === symbol);
}

/** The journal's history folded: orders by client id, fills (once each, by trade id), last checkpoints. */
export class JournalState {
  readonly orders = new Map<string, JournalOrder>();
  readonly fills: FillRec[] = [];
  readonly tradeIds = new Set<string>();
  /** The checkpoints written after the last fill (empty when a crash came between a fill and its checkpoint). */
  readonly lastBalance = new Map<string, number>();
  readonly lastPosition = new Map<string, number>();
  /** The first run's starting balances, or undefined for a new journal. */
  startBalances: Balance[] | undefined = undefined;

  constructor(records: readonly JournalRecord[] = []) {
    for (const r of records) this.apply(r.kind, JSON.parse(r.payload.toString('utf8')));
  }

  apply(kind: number, body: unknown): void {
    if (kind === RecordKind.SESSION) this.startBalances ??= (body as SessionRec).balances;
    else if (kind === RecordKind.COMMAND) this.command(body as CommandRec);
    else if (kind === RecordKind.EVENT) this.event(body as EventRec);
    else if (kind === RecordKind.FILL) this.fill(body as FillRec);
    else if (kind === RecordKind.POSITION) {
      const p = body as { sym: string; qty: number };
      this.lastPosition.set(p.sym, p.qty);
    } else if (kind === RecordKind.BALANCE) {
      const b = body as { ccy: string; total: number };
      this.lastBalance.set(b.ccy, b.total);
    }
  }

  /** Orders the journal holds as possibly open at the venue. */
  openOrders(): JournalOrder[] {
    return [...this.orders.values()].filter((o) => !CLOSED.has(o.state));
  }

  private command(c: CommandRec): void {
    if (c.op !== 'submit') return;
    const known = this.orders.get(c.cid);
    if (known !== undefined) {
      // Re-submitted at an earlier recovery (adoption of a still-open order): same order.
      known.state = 'SUBMITTED';
      return;
    }
    this.orders.set(c.cid, {
      cid: c.cid,
      sym: c.sym,
      side: c.side ?? 0,
      qty: c.qty ?? 0,
      px: c.px ?? 0,
      state: 'SUBMITTED',
      filledQty: 0,
      venueOrderId: '',
    });
  }

  private event(e: EventRec): void {
    const o = this.orders.get(e.cid);
    if (o === undefined) return;
    o.state = e.kind;
    if (e.venueOrderId !== '') o.venueOrderId = e.venueOrderId;
  }

  private fill(f: FillRec): void {
    if (this.tradeIds.has(f.tradeId)) return;
    this.tradeIds.add(f.tradeId);
    this.fills.push(f);
    // The checkpoint that follows this fill replaces the earlier ones; a crash before it leaves none to check.
    this.lastPosition.clear();
    this.lastBalance.clear();
    const o = this.orders.get(f.cid);
    if (o === undefined) return;
    o.filledQty += f.qty;
    o.state = o.filledQty >= o.qty ? 'FILLED_ALL' : 'PARTIALLY_FILLED';
  }
}

/** Reads a journal file without repairing or writing it (tests, tools): its folded state. */
export function readNodeJournal(path: string): JournalState {
  return new JournalState(readJournal(path).records);
}

export class NodeJournal {
  readonly writer: JournalWriter;
  readonly state: JournalState;
  readonly report: RecoveryReport;
  private kernel: Kernel | undefined = undefined;
  /** Client ids unique across runs (a restart's order 1 is not the previous run's): run start in ms, base 36. */
  private readonly prefix = `b4${Math.floor(wallMicros() / 1000).toString(36)}-`;

  private constructor(writer: JournalWriter, records: JournalRecord[], repaired: number) {
    this.writer = writer;
    this.state = new JournalState(records);
    this.report = {
      records: records.length,
      repairedBytes: repaired,
      orders: this.state.orders.size,
      fills: this.state.fills.length,
      recoveredFills: 0,
      stillOpen: 0,
      duplicateFills: 0,
      closedAtRecovery: 0,
      lines: [],
    };
  }

  /** Opens (or creates) the journal and reads its history; a torn tail is cut, mid-file damage throws. */
  static open(cfg: JournalConfig, log: (line: string) => void): NodeJournal {
    const j = openJournal(cfg.path, { fsync: cfg.fsync, groupMs: cfg.groupMs, log });
    return new NodeJournal(j.writer, j.records, j.repairedBytes);
  }

  /** The first run's starting balances, or undefined for a new journal. */
  get startBalances(): Balance[] | undefined {
    return this.state.startBalances;
  }

  knownClientIds(): Set<string> {
    return new Set(this.state.orders.keys());
  }

  /** The venue client with its submit and cancel commands journalled before they are sent. */
  wrapVenue(venue: VenueClient): VenueClient {
    return new JournallingVenue(venue, this, this.prefix);
  }

  /**
   * The engine behind a filter dropping fills the journal already holds from an earlier run (a venue replaying
   * an adopted order's trades): the engine deduplicates only within a run, by its own order ids.
   */
  wrapSink(engine: VenueEventSink): VenueEventSink {
    const tradeIds = this.state.tradeIds;
    const report = this.report;
    return {
      onVenueEvent(ev: OrderEvent): void {
        if (ev.kind === OrderEventKind.FILLED && ev.tradeId !== '' && tradeIds.has(ev.tradeId)) {
          report.duplicateFills++;
          return;
        }
        engine.onVenueEvent(ev);
      },
    };
  }

  /**
   * Everything recovery does before the reconciliation: rebuild the portfolio from the journal, start
   * journalling, then (live, `rest` given) catch up with the venue and require its balances; (paper) close the
   * orders the dead simulated venue held. Returns the lines to print.
   */
  async recover(kernel: Kernel, session: SessionRec, rest: BinanceRest | undefined): Promise<string[]> {
    this.restore(kernel, session);
    if (rest === undefined) this.closeLostPaperOrders();
    else if (this.report.records > 0) {
      await this.catchUp(rest);
      await this.checkBalances(rest, kernel.cache.instruments.all());
    }
    return this.report.lines;
  }

  private append(kind: number, body: unknown): void {
    this.writer.appendJson(kind, body);
    this.state.apply(kind, body);
  }

  // ---- recording --------------------------------------------------------------------------------------------

  command(order: Order, op: 'submit' | 'cancel'): void {
    const k = this.kernel!;
    const rec: CommandRec =
      op === 'submit'
        ? {
            op,
            cid: order.clientOrderId,
            sym: k.cache.instruments.require(order.instrumentId).symbol,
            side: order.side,
            type: order.type,
            qty: order.qty,
            px: order.price,
          }
        : { op, cid: order.clientOrderId, sym: k.cache.instruments.require(order.instrumentId).symbol };
    this.append(RecordKind.COMMAND, rec);
  }

  private onEvent(ev: OrderEvent): void {
    const k = this.kernel!;
    const order = k.cache.order(ev.orderId);
    if (order === undefined || ev.kind === OrderEventKind.INITIALIZED || ev.kind === OrderEventKind.DENIED)
      return;
    // A paper node's simulated venue is not wrapped (the node drives it directly, and it dies with the node):
    // its orders are recorded at their first event.
    if (order.clientOrderId === '') order.clientOrderId = `${this.prefix}${order.id}`;
    if (!this.state.orders.has(order.clientOrderId)) this.command(order, 'submit');
    if (ev.kind === OrderEventKind.FILLED) {
      const inst = k.cache.instruments.require(order.instrumentId);
      const fee = ev.feeCurrencyId < 0 ? undefined : currencies.byId(ev.feeCurrencyId as CurrencyId);
      const f: FillRec = {
        cid: order.clientOrderId,
        sym: inst.symbol,
        side: order.side,
        qty: ev.fillQty,
        px: ev.fillPx,
        fee: ev.fee,
        feeCcy: fee?.code ?? '',
        tradeId: ev.tradeId,
        ts: ev.tsEvent,
      };
      this.append(RecordKind.FILL, f);
      return;
    }
    const e: EventRec = {
      cid: order.clientOrderId,
      kind: orderEventName(ev.kind),
      venueOrderId: ev.venueOrderId,
      reason: ev.reason,
    };
    this.append(RecordKind.EVENT, e);
  }

  /** Position of the instrument and balances of its two currencies, after the portfolio applied a fill. */
  private checkpoint(inst: Instrument): void {
    const p = this.kernel!.portfolio;
    this.append(RecordKind.POSITION, { sym: inst.symbol, qty: p.netQty(inst.id) });
    for (const c of [inst.base, inst.quote])
      this.append(RecordKind.BALANCE, { ccy: c.code, total: p.balance(c.id) });
  }

  // ---- recovery -----------------------------------------------------------------------------------------------

  /**
   * Rebuilds the kernel's portfolio from the journalled fills (it was built with `startBalances`), checks the
   * result against the last checkpoints, then journals from here on. Call right after buildKernel, before any
   * order or market event.
   */
  private restore(kernel: Kernel, session: SessionRec): void {
    this.kernel = kernel;
    const p = kernel.portfolio;
    for (const f of this.state.fills) {
      const inst = bySymbol(kernel, f.sym);
      if (inst === undefined) {
        throw new Bot4Error(
          ErrorCode.CONFIG_INVALID,
          `journal ${this.writer.path}: fill ${f.tradeId} of ${f.sym}, which this node's config does not trade; trading halted (add ${f.sym} to 'instruments')`,
        );
      }
      const feeCcy = f.feeCcy === '' ? -1 : currencies.getOrCreate(f.feeCcy).id;
      p.applyFill(inst, f.side as OrderSide, f.qty, f.px, f.fee, feeCcy, f.ts);
    }
    const checked = this.state.lastPosition.size + this.state.lastBalance.size;
    for (const [sym, qty] of this.state.lastPosition) {
      const inst = bySymbol(kernel, sym);
      if (inst !== undefined && p.netQty(inst.id) !== qty) {
        throw this.diverged(`position ${sym}`, p.netQty(inst.id), qty);
      }
    }
    for (const [ccy, total] of this.state.lastBalance) {
      const have = p.balance(currencies.getOrCreate(ccy).id);
      if (have !== total) throw this.diverged(`balance ${ccy}`, have, total);
    }
    this.writer.appendJson(RecordKind.SESSION, {
      ...session,
      balances: this.startBalances ?? session.balances,
    });
    kernel.bus.subscribe(kernel.engine.orderEvents, (ev) => this.onEvent(ev), JOURNAL_EVENT_PRIORITY);
    kernel.bus.subscribe(
      kernel.engine.orderEvents,
      (ev) => {
        if (ev.kind !== OrderEventKind.FILLED) return;
        const o = kernel.cache.order(ev.orderId);
        if (o !== undefined) this.checkpoint(kernel.cache.instruments.require(o.instrumentId));
      },
      JOURNAL_CHECKPOINT_PRIORITY,
    );
    const r = this.report;
    if (r.records > 0) {
      r.lines.push(
        `journal ${this.writer.path}: replayed ${r.records} record(s): ${r.orders} order(s), ${r.fills} fill(s)` +
          `${r.repairedBytes > 0 ? `, torn tail of ${r.repairedBytes} byte(s) cut` : ''}; ${checked === 0 ? 'no checkpoint after the last fill to check' : `positions and balances match the last checkpoint (${checked} figure(s))`}`,
      );
    }
  }

  private diverged(what: string, have: number, want: number): Bot4Error {
    return new Bot4Error(
      ErrorCode.INTERNAL,
      `journal ${this.writer.path}: replaying the fills gives ${what} ${have} but the journal's checkpoint says ${want}; trading halted`,
    );
  }

  /** Paper: the simulated venue died with the previous process; its open orders are gone. */
  private closeLostPaperOrders(): void {
    for (const o of this.state.openOrders()) {
      this.closeAtRecovery(o, 'CANCELED', 'the paper venue ended with the previous run');
    }
  }

  private closeAtRecovery(o: JournalOrder, kind: string, reason: string): void {
    const e: EventRec = { cid: o.cid, kind, venueOrderId: o.venueOrderId, reason };
    this.append(RecordKind.EVENT, e);
    this.report.closedAtRecovery++;
    this.report.lines.push(`journal: order ${o.cid} ${kind.toLowerCase()} at recovery (${reason})`);
  }

  /**
   * Live: asks the venue about each order the journal left open. Fills made while the node was down are
   * applied to the portfolio and journalled (once: by trade id); closed orders are closed; orders still open
   * are returned for the reconciliation to adopt.
   */
  private async catchUp(rest: BinanceRest): Promise<void> {
    const k = this.kernel!;
    for (const o of this.state.openOrders()) {
      const inst = bySymbol(k, o.sym)!;
      let v: { orderId: number; status: string; executedQty: string };
      try {
        v = (await rest.signed(
          'GET',
          '/api/v3/order',
          { symbol: o.sym, origClientOrderId: o.cid },
          4,
        )) as typeof v;
      } catch (e) {
        if ((e as { code?: number }).code === -2013) {
          this.closeAtRecovery(o, 'REJECTED', 'the venue never received it');
          continue;
        }
        throw e;
      }
      if (decimalToStepsRounded(v.executedQty, inst.lotSize, Rounding.HALF_EVEN) > o.filledQty) {
        const trades = await rest.orderTrades(o.sym, v.orderId);
        for (const t of trades) {
          const tradeId = `${o.sym}:${t.id}`;
          if (this.state.tradeIds.has(tradeId)) continue;
          const feeCcy = t.commissionAsset === '' ? undefined : currencies.getOrCreate(t.commissionAsset);
          const f: FillRec = {
            cid: o.cid,
            sym: o.sym,
            side: o.side,
            qty: decimalToStepsRounded(t.qty, inst.lotSize, Rounding.HALF_EVEN),
            px: decimalToStepsRounded(t.price, inst.tickSize, Rounding.HALF_EVEN),
            fee: feeCcy === undefined ? 0 : moneyFromDecimal(t.commission, feeCcy),
            feeCcy: feeCcy?.code ?? '',
            tradeId,
            ts: t.time * 1000,
            recovered: true,
          };
          k.portfolio.applyFill(inst, f.side as OrderSide, f.qty, f.px, f.fee, feeCcy?.id ?? -1, f.ts);
          this.append(RecordKind.FILL, f);
          this.checkpoint(inst);
          this.report.recoveredFills++;
        }
      }
      if (v.status === 'NEW' || v.status === 'PARTIALLY_FILLED') this.report.stillOpen++;
      else if (v.status === 'FILLED') {
        if (o.state !== 'FILLED_ALL') this.closeAtRecovery(o, 'FILLED_ALL', 'filled at the venue while down');
      } else
        this.closeAtRecovery(o, v.status === 'CANCELED' ? 'CANCELED' : 'EXPIRED', `${v.status} at the venue`);
    }
    this.report.lines.push(
      `journal: venue catch-up: ${this.report.recoveredFills} fill(s) made while down applied, ${this.report.stillOpen} order(s) still open, ${this.report.closedAtRecovery} closed`,
    );
  }

  /** The rebuilt balances must be the venue's, to the last unit (free + locked). */
  private async checkBalances(rest: BinanceRest, instruments: readonly Instrument[]): Promise<void> {
    const acct = (await rest.signed('GET', '/api/v3/account', {}, 20)) as {
      balances: { asset: string; free: string; locked: string }[];
    };
    const p = this.kernel!.portfolio;
    const wanted = new Set(instruments.flatMap((i) => [i.base.code, i.quote.code]));
    for (const b of acct.balances) {
      if (!wanted.has(b.asset)) continue;
      const c = currencies.getOrCreate(b.asset);
      const venue = moneyFromDecimal(b.free, c) + moneyFromDecimal(b.locked, c);
      const have = p.balance(c.id);
      if (venue !== have) {
        throw new Bot4Error(
          ErrorCode.CONFIG_INVALID,
          `journal ${this.writer.path}: ${b.asset} rebuilt from the journal is ${moneyToDecimal(have, c)} but the venue holds ${moneyToDecimal(venue, c)}; trading halted (another client on this key, a transfer, or a lost journal)`,
        );
      }
    }
    this.report.lines.push('journal: rebuilt balances equal the venue balances');
  }

  /** Records an operator's control call (written before it acts; recovery skips it). */
  control(body: unknown): void {
    this.writer.appendJson(RecordKind.CONTROL, body);
  }

  close(): void {
    this.writer.close();
  }
}
