// Loss limits: daily loss (UTC day on the engine clock), drawdown from the equity peak, loss per trade, and a
// cool-down after N consecutive losing trades. Each active limit imposes REDUCING or HALTED on its target.
// Units: equity and PnL in money units of the account currency; times in Micros; drawdown as a fraction.

import type { Clock } from '../core/clock.ts';
import type { MessageBus, Topic } from '../core/message-bus.ts';
import type { Micros } from '../core/units.ts';

export const LOSS_LIMIT_EVENTS_TOPIC = 'risk.loss_limits';

/** What trading is allowed: everything, only position-reducing orders, or nothing. Ordered by severity. */
export const TradingState = { ACTIVE: 0, REDUCING: 1, HALTED: 2 } as const;
export type TradingState = (typeof TradingState)[keyof typeof TradingState];
const STATE_NAMES = ['ACTIVE', 'REDUCING', 'HALTED'] as const;
export function tradingStateName(s: number): string {
  return STATE_NAMES[s] ?? `TradingState(${s})`;
}
export function parseTradingState(name: 'ACTIVE' | 'REDUCING' | 'HALTED'): TradingState {
  return TradingState[name];
}

export const LossLimitKind = { DAILY_LOSS: 0, DRAWDOWN: 1, PER_TRADE: 2, CONSECUTIVE_LOSSES: 3 } as const;
export type LossLimitKind = (typeof LossLimitKind)[keyof typeof LossLimitKind];
const KIND_NAMES = ['daily loss', 'drawdown', 'loss per trade', 'consecutive losing trades'] as const;
const KIND_KEYS = [
  'risk.lossLimits.dailyLoss',
  'risk.lossLimits.drawdown',
  'risk.lossLimits.perTrade',
  'risk.lossLimits.consecutiveLosses',
] as const;
export function lossLimitName(k: number): string {
  return KIND_NAMES[k] ?? `LossLimitKind(${k})`;
}
/** The config key of a limit, e.g. risk.lossLimits.dailyLoss. */
export function lossLimitKey(k: number): string {
  return KIND_KEYS[k] ?? `LossLimitKind(${k})`;
}
const KINDS = 4;

/** A limit tripped (active) or released. Preallocated and reused: copy what you keep. */
export class LossLimitEvent {
  kind: LossLimitKind = LossLimitKind.DAILY_LOSS;
  active = false;
  /** The state the limit imposes while active. */
  action: TradingState = TradingState.HALTED;
  /** The limit also trips the kill switch (config action KILL); whoever owns the switch acts on it. */
  kill = false;
  /** Loss (money units), drawdown (fraction) or count that tripped it, and the limit. */
  value = 0;
  threshold = 0;
  /** Daily loss: the day's opening equity the loss is measured from (money units); NaN for the others. */
  reference = Number.NaN;
  /** value and threshold are fractions of `reference` (a daily loss limit given in percent). */
  isFraction = false;
  ts = 0 as Micros;

  toString(): string {
    return this.active
      ? `${lossLimitName(this.kind)} ${this.value} reached limit ${this.threshold} (${lossLimitKey(this.kind)}): trading ${tradingStateName(this.action)}${this.kill ? ', kill switch' : ''}`
      : `${lossLimitName(this.kind)} limit released`;
  }
}

export interface LossLimitRule {
  /** Money units, or a fraction for drawdown, or a count for consecutive losses. */
  threshold: number;
  action: TradingState;
  /** Also trip the kill switch (config action KILL; action is then HALTED). */
  kill?: boolean;
  /** Daily loss only: threshold is a fraction of the day's opening equity (config "5%"), not money. */
  fraction?: boolean;
  /** Release after this long; 0 = until reset(). Daily loss releases at the next UTC midnight regardless. */
  cooldownUs: number;
}

export interface LossLimitOptions {
  dailyLoss?: LossLimitRule;
  drawdown?: LossLimitRule;
  perTrade?: LossLimitRule;
  consecutiveLosses?: LossLimitRule;
}

/** Receives the combined state of the active limits (the risk engine). */
export interface TradingStateTarget {
  setLimitState(state: TradingState, ts: number): void;
}

export const DAY_US = 86_400_000_000;

export class LossLimits {
  private readonly rules: (LossLimitRule | undefined)[];
  private readonly active = new Uint8Array(KINDS);
  private readonly timerOf = new Float64Array(KINDS);
  private readonly clock: Clock;
  private readonly target: TradingStateTarget;
  private readonly bus: MessageBus | undefined;
  private readonly topic: Topic<LossLimitEvent> | undefined;
  private readonly event = new LossLimitEvent();
  private readonly onTimer = (at: Micros, timerId: number): void => this.timerFired(at, timerId);
  private day = Number.NEGATIVE_INFINITY;
  private dayStartEquity = Number.NaN;
  private lastEquity = Number.NaN;
  private peak = Number.NaN;
  private losingRun = 0;
  private current: TradingState = TradingState.ACTIVE;

  constructor(options: LossLimitOptions, clock: Clock, target: TradingStateTarget, bus?: MessageBus) {
    this.rules = [options.dailyLoss, options.drawdown, options.perTrade, options.consecutiveLosses];
    this.clock = clock;
    this.target = target;
    this.bus = bus;
    this.topic = bus?.topic<LossLimitEvent>(LOSS_LIMIT_EVENTS_TOPIC);
  }

  /** A new equity figure (after fills, on marks, on a timer). Allocation-free unless a limit trips. */
  onEquity(equity: number, ts: number): void {
    this.rollDay(ts);
    if (Number.isNaN(this.dayStartEquity)) this.dayStartEquity = equity;
    this.lastEquity = equity;
    if (!(equity <= this.peak)) this.peak = equity;
    const daily = this.rules[LossLimitKind.DAILY_LOSS];
    if (daily !== undefined && this.active[LossLimitKind.DAILY_LOSS] === 0) {
      const loss = this.dayStartEquity - equity;
      const v = daily.fraction === true ? (this.dayStartEquity > 0 ? loss / this.dayStartEquity : 0) : loss;
      if (v >= daily.threshold) this.activate(LossLimitKind.DAILY_LOSS, v, ts);
    }
    const dd = this.rules[LossLimitKind.DRAWDOWN];
    if (dd !== undefined && this.active[LossLimitKind.DRAWDOWN] === 0 && this.peak > 0) {
      const drawdown = (this.peak - equity) / this.peak;
      if (drawdown >= dd.threshold) this.activate(LossLimitKind.DRAWDOWN, drawdown, ts);
    }
  }

  /** A closed trade's realised PnL (negative = loss). */
  onTradeClosed(pnl: number, ts: number): void {
    this.rollDay(ts);
    const per = this.rules[LossLimitKind.PER_TRADE];
    if (per !== undefined && -pnl >= per.threshold && this.active[LossLimitKind.PER_TRADE] === 0) {
      this.activate(LossLimitKind.PER_TRADE, -pnl, ts);
    }
    if (pnl < 0) this.losingRun++;
    else this.losingRun = 0;
    const run = this.rules[LossLimitKind.CONSECUTIVE_LOSSES];
    if (run !== undefined && this.losingRun >= run.threshold) {
      const n = this.losingRun;
      this.losingRun = 0;
      if (this.active[LossLimitKind.CONSECUTIVE_LOSSES] === 0)
        this.activate(LossLimitKind.CONSECUTIVE_LOSSES, n, ts);
    }
  }

  /** Releases a limit by hand (all when omitted); a drawdown reset also restarts the peak from now. */
  reset(kind?: LossLimitKind, ts: number = this.clock.now()): void {
    for (let k = 0; k < KINDS; k++) {
      if (kind !== undefined && k !== kind) continue;
      if (k === LossLimitKind.DRAWDOWN) this.peak = this.lastEquity;
      if (k === LossLimitKind.CONSECUTIVE_LOSSES) this.losingRun = 0;
      if (this.active[k] === 1) this.release(k as LossLimitKind, ts);
    }
  }

  isActive(kind: LossLimitKind): boolean {
    return this.active[kind] === 1;
  }

  /** The combined state the active limits impose. */
  get state(): TradingState {
    return this.current;
  }

  get equityPeak(): number {
    return this.peak;
  }

  get dayStart(): number {
    return this.dayStartEquity;
  }

  get consecutiveLosses(): number {
    return this.losingRun;
  }

  /** At the first figure of a new UTC day, the day's reference is the last equity of the day before. */
  private rollDay(ts: number): void {
    const day = Math.floor(ts / DAY_US);
    if (day <= this.day) return;
    this.day = day;
    this.dayStartEquity = this.lastEquity;
    if (this.active[LossLimitKind.DAILY_LOSS] === 1) this.release(LossLimitKind.DAILY_LOSS, ts);
  }

  private activate(kind: LossLimitKind, value: number, ts: number): void {
    const rule = this.rules[kind]!;
    this.active[kind] = 1;
    const release =
      kind === LossLimitKind.DAILY_LOSS
        ? (Math.floor(ts / DAY_US) + 1) * DAY_US
        : rule.cooldownUs > 0
          ? ts + rule.cooldownUs
          : 0;
    if (release > 0) {
      const id = this.clock.setTimer(release as Micros, this.onTimer);
      this.timerOf[kind] = id;
    }
    this.publish(kind, true, value, rule.threshold, ts);
    this.update(ts);
  }

  private release(kind: LossLimitKind, ts: number): void {
    this.active[kind] = 0;
    const id = this.timerOf[kind]!;
    if (id !== 0) {
      this.clock.cancelTimer(id);
      this.timerOf[kind] = 0;
    }
    this.publish(kind, false, 0, this.rules[kind]?.threshold ?? 0, ts);
    this.update(ts);
  }

  private timerFired(at: Micros, timerId: number): void {
    for (let k = 0; k < KINDS; k++) {
      if (this.timerOf[k] !== timerId) continue;
      this.timerOf[k] = 0;
      if (k === LossLimitKind.DAILY_LOSS) this.rollDay(at);
      if (this.active[k] === 1) this.release(k as LossLimitKind, at);
    }
  }

  private update(ts: number): void {
    let s: TradingState = TradingState.ACTIVE;
    for (let k = 0; k < KINDS; k++) {
      if (this.active[k] === 1) {
        const a = this.rules[k]!.action;
        if (a > s) s = a;
      }
    }
    if (s === this.current) return;
    this.current = s;
    this.target.setLimitState(s, ts);
  }

  private publish(kind: LossLimitKind, active: boolean, value: number, threshold: number, ts: number): void {
    if (this.bus === undefined || this.topic === undefined) return;
    const ev = this.event;
    ev.kind = kind;
    ev.active = active;
    ev.action = this.rules[kind]?.action ?? TradingState.HALTED;
    ev.kill = active && this.rules[kind]?.kill === true;
    ev.value = value;
    ev.threshold = threshold;
    ev.reference = kind === LossLimitKind.DAILY_LOSS ? this.dayStartEquity : Number.NaN;
    ev.isFraction = kind === LossLimitKind.DAILY_LOSS && this.rules[kind]?.fraction === true;
    ev.ts = ts as Micros;
    this.bus.publish(this.topic, ev);
  }
}
