// The one order state machine: (state, input) -> next state in an Int8Array, so the hot path is one read.
// Terminal states accept nothing; an illegal input changes nothing and is reported (-1 / false), never thrown.
// Pending states remember the open state they came from (prevStatus); a cancel/modify reject returns to it.

import { Bot4Error, ErrorCode } from '../core/errors.ts';

export const OrderStatus = {
  INITIALIZED: 0,
  DENIED: 1,
  SUBMITTED: 2,
  ACCEPTED: 3,
  REJECTED: 4,
  /** A stop-limit, limit-if-touched or trailing order whose trigger fired; it now works as its limit order. */
  TRIGGERED: 5,
  PARTIALLY_FILLED: 6,
  FILLED: 7,
  PENDING_UPDATE: 8,
  PENDING_CANCEL: 9,
  CANCELED: 10,
  EXPIRED: 11,
} as const;
export type OrderStatus = (typeof OrderStatus)[keyof typeof OrderStatus];
export const ORDER_STATUS_COUNT = 12;
const STATUS_NAMES = [
  'INITIALIZED',
  'DENIED',
  'SUBMITTED',
  'ACCEPTED',
  'REJECTED',
  'TRIGGERED',
  'PARTIALLY_FILLED',
  'FILLED',
  'PENDING_UPDATE',
  'PENDING_CANCEL',
  'CANCELED',
  'EXPIRED',
] as const;
export function orderStatusName(s: number): string {
  return STATUS_NAMES[s] ?? `OrderStatus(${s})`;
}

/**
 * Order event kinds. INITIALIZED opens an order's event log (it carries the request) and is not a transition.
 * FILLED is any fill; the machine sees it as FILLED when it completes the order, else as FILL_PARTIAL.
 */
export const OrderEventKind = {
  INITIALIZED: 0,
  DENIED: 1,
  SUBMITTED: 2,
  ACCEPTED: 3,
  REJECTED: 4,
  PENDING_UPDATE: 5,
  UPDATED: 6,
  MODIFY_REJECTED: 7,
  PENDING_CANCEL: 8,
  CANCEL_REJECTED: 9,
  CANCELED: 10,
  EXPIRED: 11,
  TRIGGERED: 12,
  FILLED: 13,
} as const;
export type OrderEventKind = (typeof OrderEventKind)[keyof typeof OrderEventKind];
export const ORDER_EVENT_KIND_COUNT = 14;
const EVENT_NAMES = [
  'INITIALIZED',
  'DENIED',
  'SUBMITTED',
  'ACCEPTED',
  'REJECTED',
  'PENDING_UPDATE',
  'UPDATED',
  'MODIFY_REJECTED',
  'PENDING_CANCEL',
  'CANCEL_REJECTED',
  'CANCELED',
  'EXPIRED',
  'TRIGGERED',
  'FILLED',
  'FILL_PARTIAL',
] as const;
export function orderEventName(k: number): string {
  return EVENT_NAMES[k] ?? `OrderEventKind(${k})`;
}

/** Inputs of the machine: the event kinds plus FILL_PARTIAL (a fill that leaves quantity open). */
export const FILL_PARTIAL = 14;
export type TransitionInput = OrderEventKind | typeof FILL_PARTIAL;
const INPUTS = 15;

// Table cell values besides a next state (>= 0):
const ILLEGAL = -1;
/** Leave the pending state for the open state it came from (cancel/modify answered). */
const RESTORE = -2;
/** Stay pending; the remembered open state advances with the input (accepted, triggered, partly filled meanwhile). */
const ADVANCE = -3;
/** Leave the pending state as the remembered open state would on this input (a late submission reject). */
const VIA_PREV = -4;

const S = OrderStatus;
const E = OrderEventKind;

const TABLE: Int8Array = (() => {
  const t = new Int8Array(ORDER_STATUS_COUNT * INPUTS).fill(ILLEGAL);
  const set = (from: OrderStatus, input: number, to: number): void => {
    t[from * INPUTS + input] = to;
  };
  // Local orders (emulated, or held by the engine) can be cancelled or expire before they are ever sent.
  set(S.INITIALIZED, E.DENIED, S.DENIED);
  set(S.INITIALIZED, E.SUBMITTED, S.SUBMITTED);
  set(S.INITIALIZED, E.CANCELED, S.CANCELED);
  set(S.INITIALIZED, E.EXPIRED, S.EXPIRED);

  // SUBMITTED: fast venues may fill, cancel (IOC/FOK) or trigger before the ack arrives: implicit accept.
  for (const [input, to] of [
    [E.ACCEPTED, S.ACCEPTED],
    [E.REJECTED, S.REJECTED],
    [E.CANCELED, S.CANCELED],
    [E.EXPIRED, S.EXPIRED],
    [E.TRIGGERED, S.TRIGGERED],
    [FILL_PARTIAL, S.PARTIALLY_FILLED],
    [E.FILLED, S.FILLED],
    [E.PENDING_UPDATE, S.PENDING_UPDATE],
    [E.PENDING_CANCEL, S.PENDING_CANCEL],
  ] as const) {
    set(S.SUBMITTED, input, to);
  }

  // Working states. UPDATED without a pending request is a venue-side amendment (e.g. self-trade prevention
  // reducing quantity): the status does not change.
  for (const open of [S.ACCEPTED, S.TRIGGERED, S.PARTIALLY_FILLED] as const) {
    set(open, E.PENDING_UPDATE, S.PENDING_UPDATE);
    set(open, E.PENDING_CANCEL, S.PENDING_CANCEL);
    set(open, E.CANCELED, S.CANCELED);
    set(open, E.EXPIRED, S.EXPIRED);
    set(open, E.UPDATED, open);
    set(open, FILL_PARTIAL, S.PARTIALLY_FILLED);
    set(open, E.FILLED, S.FILLED);
  }
  // A stop-limit can be rejected by the venue when its trigger fires (e.g. the limit would cross as post-only).
  set(S.ACCEPTED, E.REJECTED, S.REJECTED);
  set(S.TRIGGERED, E.REJECTED, S.REJECTED);
  set(S.ACCEPTED, E.TRIGGERED, S.TRIGGERED);
  // The ack can trail the first fill (fill seen on the stream before the REST response): no-op.
  set(S.PARTIALLY_FILLED, E.ACCEPTED, S.PARTIALLY_FILLED);

  for (const pending of [S.PENDING_UPDATE, S.PENDING_CANCEL] as const) {
    set(pending, E.CANCELED, S.CANCELED);
    set(pending, E.EXPIRED, S.EXPIRED);
    set(pending, E.FILLED, S.FILLED);
    set(pending, E.REJECTED, VIA_PREV);
    set(pending, FILL_PARTIAL, ADVANCE);
    set(pending, E.ACCEPTED, ADVANCE);
    set(pending, E.TRIGGERED, ADVANCE);
  }
  set(S.PENDING_UPDATE, E.UPDATED, RESTORE);
  set(S.PENDING_UPDATE, E.MODIFY_REJECTED, RESTORE);
  set(S.PENDING_UPDATE, E.PENDING_CANCEL, S.PENDING_CANCEL);
  // A cancel overtakes an amend in flight: the amend's answer may still arrive; it does not end the cancel.
  set(S.PENDING_CANCEL, E.CANCEL_REJECTED, RESTORE);
  set(S.PENDING_CANCEL, E.UPDATED, S.PENDING_CANCEL);
  set(S.PENDING_CANCEL, E.MODIFY_REJECTED, S.PENDING_CANCEL);
  set(S.PENDING_CANCEL, E.PENDING_CANCEL, S.PENDING_CANCEL);
  return t;
})();

export function isTerminal(s: OrderStatus): boolean {
  return s === S.DENIED || s === S.REJECTED || s === S.FILLED || s === S.CANCELED || s === S.EXPIRED;
}

export function isPending(s: OrderStatus): boolean {
  return s === S.PENDING_UPDATE || s === S.PENDING_CANCEL;
}

/** Open at the venue (or about to be): can still fill. */
export function isOpen(s: OrderStatus): boolean {
  return s >= S.SUBMITTED && !isTerminal(s);
}

/**
 * The next state for `input` in `state`, or -1 when illegal. `prev` is the open state a pending state came
 * from (needed only when `state` is PENDING_UPDATE or PENDING_CANCEL).
 */
export function nextState(state: OrderStatus, input: TransitionInput, prev: OrderStatus = state): number {
  const t = TABLE[state * INPUTS + input];
  if (t === undefined) return ILLEGAL;
  if (t >= ILLEGAL) return t;
  const viaPrev = TABLE[prev * INPUTS + input] ?? ILLEGAL;
  if (t === RESTORE) return prev;
  if (t === ADVANCE) return viaPrev >= 0 ? state : ILLEGAL;
  return viaPrev; // VIA_PREV
}

/** What the state machine mutates on an order. */
export interface OrderStateHolder {
  status: OrderStatus;
  /** While pending: the open state to return to. Otherwise equal to status. */
  prevStatus: OrderStatus;
}

/**
 * Applies `input` to `o` in place. Returns false (and changes nothing) when the transition is illegal.
 * Allocation-free; the hot path of the OMS.
 */
export function applyTransition(o: OrderStateHolder, input: TransitionInput): boolean {
  const state = o.status;
  const t = TABLE[state * INPUTS + input];
  if (t === undefined || t === ILLEGAL) return false;
  if (t >= 0) {
    const next = t as OrderStatus;
    // Entering a pending state from an open one remembers it; pending -> pending keeps what is remembered.
    if (!isPending(next)) o.prevStatus = next;
    else if (!isPending(state)) o.prevStatus = state;
    o.status = next;
    return true;
  }
  const prev = o.prevStatus;
  if (t === RESTORE) {
    o.status = prev;
    return true;
  }
  const viaPrev = TABLE[prev * INPUTS + input] ?? ILLEGAL;
  if (viaPrev < 0) return false;
  if (t === ADVANCE) {
    o.prevStatus = viaPrev as OrderStatus;
    return true;
  }
  o.status = viaPrev as OrderStatus; // VIA_PREV: always a plain terminal or open state
  o.prevStatus = viaPrev as OrderStatus;
  return true;
}

/** Edge: the next state, or a Bot4Error ILLEGAL_TRANSITION naming the order, the state and the event. */
export function requireTransition(
  orderId: number,
  state: OrderStatus,
  input: TransitionInput,
  prev: OrderStatus = state,
): OrderStatus {
  const next = nextState(state, input, prev);
  if (next >= 0) return next as OrderStatus;
  throw illegalTransition(orderId, state, input, prev);
}

export function illegalTransition(
  orderId: number,
  state: OrderStatus,
  input: number,
  prev: OrderStatus,
): Bot4Error {
  const from = isPending(state)
    ? `${orderStatusName(state)} (from ${orderStatusName(prev)})`
    : orderStatusName(state);
  const why = isTerminal(state) ? `; ${orderStatusName(state)} is terminal` : '';
  return new Bot4Error(
    ErrorCode.ILLEGAL_TRANSITION,
    `order ${orderId}: event ${orderEventName(input)} is illegal in state ${from}${why}`,
    { orderId, state: orderStatusName(state), prev: orderStatusName(prev), event: orderEventName(input) },
  );
}

/** Every legal (state, input) pair, for documentation and tests. */
export function legalTransitions(): { from: string; input: string; to: string }[] {
  const out: { from: string; input: string; to: string }[] = [];
  for (let s = 0; s < ORDER_STATUS_COUNT; s++) {
    for (let i = 0; i < INPUTS; i++) {
      const t = TABLE[s * INPUTS + i] ?? ILLEGAL;
      if (t === ILLEGAL) continue;
      const to =
        t >= 0
          ? orderStatusName(t)
          : t === RESTORE
            ? '(previous)'
            : t === ADVANCE
              ? '(stay; previous advances)'
              : '(as previous)';
      out.push({ from: orderStatusName(s), input: orderEventName(i), to });
    }
  }
  return out;
}
