// A trading node's notifications: fills, breaker trips (and loss limits that trip), the kill switch,
// market-data disconnects and the daily PnL, posted to the Notifier. A fill is copied into preallocated
// typed slots on the engine thread (no allocation, no text) and turned into a message later, off the
// engine's stack; the rare events build their text at once. Units: ticks/lots in the slots, micros.

import { wallMicros } from '../core/clock.ts';
import { Bot4Error, ErrorCode } from '../core/errors.ts';
import type { InstrumentId } from '../core/units.ts';
import type { Kernel } from '../kernel/kernel.ts';
import type { OrderEvent } from '../model/events.ts';
import { OrderSide } from '../model/order.ts';
import { OrderEventKind } from '../model/order-state.ts';
import { BREAKER_EVENTS_TOPIC, type BreakerEvent, BreakerState } from '../risk/breakers.ts';
import {
  LOSS_LIMIT_EVENTS_TOPIC,
  type LossLimitEvent,
  lossLimitName,
  TradingState,
} from '../risk/loss-limits.ts';
import { RISK_STATE_TOPIC, StateSource, type TradingStateEvent } from '../risk/risk-engine.ts';
import type { ConnectionEvent } from '../venues/binance/ws-supervisor.ts';
import { Notifier, type NotifyMessage } from './notifier.ts';
import { type NotifyConfig, NotifyEvent } from './notify-config.ts';

const iso = (micros: number): string => new Date(Math.floor(micros / 1000)).toISOString();

/** Micros until the next HH:MM UTC after `nowMicros` (a whole day when it is exactly now). */
export function microsUntilDaily(nowMicros: number, hhmm: string): number {
  const [h, m] = hhmm.split(':').map(Number) as [number, number];
  const day = 86_400_000_000;
  const at = (h * 3600 + m * 60) * 1_000_000;
  const into = ((nowMicros % day) + day) % day;
  const wait = at - into;
  return wait > 0 ? wait : wait + day;
}

/** Fills waiting to be formatted: a ring of typed slots the engine thread writes without allocating. */
class FillSlots {
  readonly orderId: Float64Array;
  readonly instrument: Int32Array;
  readonly side: Int8Array;
  readonly qty: Float64Array;
  readonly px: Float64Array;
  readonly ts: Float64Array;
  readonly clientId: string[];
  head = 0;
  size = 0;
  dropped = 0;
  constructor(n: number) {
    this.orderId = new Float64Array(n);
    this.instrument = new Int32Array(n);
    this.side = new Int8Array(n);
    this.qty = new Float64Array(n);
    this.px = new Float64Array(n);
    this.ts = new Float64Array(n);
    this.clientId = new Array<string>(n).fill('');
  }
}

export interface NodeNotifyOptions {
  config: NotifyConfig;
  kernel: Kernel;
  /** "paper" or "live". */
  mode: string;
  env: NodeJS.ProcessEnv;
  print: (line: string) => void;
  /** Equity in account-currency units now (the daily PnL's source). */
  equity: () => number;
}

export class NodeNotify {
  readonly notifier: Notifier;
  private readonly o: NodeNotifyOptions;
  private readonly fills: FillSlots;
  private flushing = false;
  private readonly flush = (): void => this.formatFills();
  private daily: NodeJS.Timeout | undefined = undefined;
  private dayEquity: number;

  constructor(o: NodeNotifyOptions) {
    this.o = o;
    this.notifier = new Notifier(o.config, o.env, o.print);
    if (o.config.webhooks.length === 0 && o.config.telegram === undefined) {
      throw new Bot4Error(
        ErrorCode.CONFIG_INVALID,
        "config 'notify': names no webhook and no telegram chat",
        {
          key: 'notify',
        },
      );
    }
    this.fills = new FillSlots(o.config.queueSize);
    this.dayEquity = o.equity();
    const { bus, engine } = o.kernel;
    if (this.notifier.wants(NotifyEvent.FILL))
      bus.subscribe(engine.orderEvents, (ev) => this.onOrderEvent(ev), 300);
    bus.subscribe<BreakerEvent>(bus.topic<BreakerEvent>(BREAKER_EVENTS_TOPIC), (ev) => this.onBreaker(ev));
    bus.subscribe<LossLimitEvent>(bus.topic<LossLimitEvent>(LOSS_LIMIT_EVENTS_TOPIC), (ev) =>
      this.onLossLimit(ev),
    );
    bus.subscribe<TradingStateEvent>(bus.topic<TradingStateEvent>(RISK_STATE_TOPIC), (ev) =>
      this.onState(ev),
    );
    this.scheduleDaily();
  }

  private message(event: NotifyEvent, ts: number, text: string, data: NotifyMessage['data']): NotifyMessage {
    return { event, time: iso(ts), node: this.o.mode, text, data };
  }

  // ---- engine thread: fills into slots, nothing allocated ------------------------------------------------

  private onOrderEvent(ev: OrderEvent): void {
    if (ev.kind !== OrderEventKind.FILLED) return;
    const f = this.fills;
    const cap = f.orderId.length;
    if (f.size === cap) {
      f.dropped++;
      return;
    }
    const order = this.o.kernel.cache.order(ev.orderId);
    const i = (f.head + f.size) % cap;
    f.orderId[i] = ev.orderId;
    f.instrument[i] = order === undefined ? -1 : order.instrumentId;
    f.side[i] = order === undefined ? -1 : order.side;
    f.qty[i] = ev.fillQty;
    f.px[i] = ev.fillPx;
    f.ts[i] = ev.tsEvent;
    f.clientId[i] = order === undefined ? '' : order.clientOrderId;
    f.size++;
    if (!this.flushing) {
      this.flushing = true;
      setImmediate(this.flush);
    }
  }

  // ---- off the engine's stack ---------------------------------------------------------------------------

  private formatFills(): void {
    this.flushing = false;
    const f = this.fills;
    const reg = this.o.kernel.cache.instruments;
    while (f.size > 0) {
      const i = f.head;
      const inst = f.instrument[i]! < 0 ? undefined : reg.get(f.instrument[i]! as InstrumentId);
      const side = f.side[i] === OrderSide.BUY ? 'BUY' : f.side[i] === OrderSide.SELL ? 'SELL' : '?';
      const qty = inst === undefined ? String(f.qty[i]) : inst.lotsToQty(f.qty[i]!);
      const px = inst === undefined ? String(f.px[i]) : inst.ticksToPrice(f.px[i]!);
      const symbol = inst?.symbol ?? '?';
      this.notifier.post(
        this.message(NotifyEvent.FILL, f.ts[i]!, `fill ${side} ${qty} ${symbol} @ ${px}`, {
          symbol,
          side,
          qty,
          price: px,
          orderId: f.orderId[i]!,
          clientOrderId: f.clientId[i]!,
        }),
      );
      f.clientId[i] = '';
      f.head = (i + 1) % f.orderId.length;
      f.size--;
    }
  }

  private onBreaker(ev: BreakerEvent): void {
    if (ev.to !== BreakerState.OPEN) return;
    this.notifier.post(
      this.message(NotifyEvent.BREAKER, ev.ts, ev.toString(), {
        value: ev.value,
        threshold: ev.threshold,
      }),
    );
  }

  private onLossLimit(ev: LossLimitEvent): void {
    if (!ev.active) return;
    this.notifier.post(
      this.message(
        NotifyEvent.BREAKER,
        ev.ts,
        `loss limit ${lossLimitName(ev.kind)} tripped: ${ev.value} >= ${ev.threshold}`,
        {
          limit: lossLimitName(ev.kind),
          value: ev.value,
          threshold: ev.threshold,
          kill: ev.kill,
        },
      ),
    );
  }

  private onState(ev: TradingStateEvent): void {
    if (ev.source !== StateSource.KILL_SWITCH || ev.to !== TradingState.HALTED) return;
    const open = this.o.kernel.cache.openCount();
    this.notifier.post(
      this.message(
        NotifyEvent.KILL_SWITCH,
        ev.ts,
        `kill switch: trading halted, ${open} open order(s) being cancelled`,
        {
          state: 'HALTED',
          openOrders: open,
        },
      ),
    );
  }

  /** Market-data connection events: a connection that left OPEN (closed, reconnecting) is a disconnect. */
  onConnection(e: ConnectionEvent): void {
    if (e.kind !== 'reconnect' && e.kind !== 'pong-timeout') return;
    const now = wallMicros();
    this.notifier.post(
      this.message(
        NotifyEvent.DISCONNECT,
        now,
        `disconnected: ${e.connection} (${e.reason || e.kind}); reconnecting in ${e.delayMs} ms, attempt ${e.attempt}`,
        { connection: e.connection, reason: e.reason, attempt: e.attempt, delayMs: e.delayMs },
      ),
    );
  }

  private scheduleDaily(): void {
    const wait = microsUntilDaily(wallMicros(), this.o.config.dailyPnlUtc) / 1000;
    this.daily = setTimeout(() => {
      this.postDailyPnl();
      this.scheduleDaily();
    }, wait);
    this.daily.unref();
  }

  /** The PnL since the last daily message (or the start), posted now; also what the timer does. */
  postDailyPnl(): void {
    const eq = this.o.equity();
    const cur = this.o.kernel.risk.accountCurrency;
    const money = (v: number) => (v / 10 ** cur.precision).toFixed(2);
    const pnl = eq - this.dayEquity;
    this.dayEquity = eq;
    this.notifier.post(
      this.message(
        NotifyEvent.DAILY_PNL,
        wallMicros(),
        `daily PnL ${money(pnl)} ${cur.code}, equity ${money(eq)} ${cur.code}`,
        {
          pnl: money(pnl),
          equity: money(eq),
          currency: cur.code,
        },
      ),
    );
  }

  /** Formats what is left, flushes the queues for up to `graceMs`, and returns the summary lines. */
  async close(graceMs?: number): Promise<string[]> {
    if (this.daily !== undefined) clearTimeout(this.daily);
    this.formatFills();
    const lines = await this.notifier.close(graceMs);
    if (this.fills.dropped > 0)
      lines.push(`notify: ${this.fills.dropped} fill(s) dropped before formatting (queue full)`);
    return lines;
  }
}
