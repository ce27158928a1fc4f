import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Bot4Error, ErrorCode } from '../core/errors.ts';
import {
  applyTransition,
  OrderEventKind as E,
  FILL_PARTIAL,
  isOpen,
  isPending,
  isTerminal,
  legalTransitions,
  nextState,
  ORDER_STATUS_COUNT,
  type OrderStateHolder,
  type OrderStatus,
  requireTransition,
  OrderStatus as S,
  type TransitionInput,
} from './order-state.ts';

const ALL_INPUTS: TransitionInput[] = [
  E.DENIED,
  E.SUBMITTED,
  E.ACCEPTED,
  E.REJECTED,
  E.PENDING_UPDATE,
  E.UPDATED,
  E.MODIFY_REJECTED,
  E.PENDING_CANCEL,
  E.CANCEL_REJECTED,
  E.CANCELED,
  E.EXPIRED,
  E.TRIGGERED,
  E.FILLED,
  FILL_PARTIAL,
];
const TERMINAL = [S.DENIED, S.REJECTED, S.FILLED, S.CANCELED, S.EXPIRED] as const;
const OPEN_PREV = new Set<number>([S.SUBMITTED, S.ACCEPTED, S.TRIGGERED, S.PARTIALLY_FILLED]);

function holder(status: OrderStatus): OrderStateHolder {
  return { status, prevStatus: status };
}

function run(inputs: TransitionInput[], from: OrderStatus = S.INITIALIZED): OrderStateHolder {
  const h = holder(from);
  for (const i of inputs) {
    if (!applyTransition(h, i)) throw new Error(`illegal ${i} in ${h.status}`);
  }
  return h;
}

describe('transition table', () => {
  it('terminal states accept nothing', () => {
    for (const s of TERMINAL) {
      expect(isTerminal(s)).toBe(true);
      for (const i of ALL_INPUTS) expect(nextState(s, i)).toBe(-1);
    }
  });

  it('has the expected plain transitions', () => {
    const cases: [OrderStatus, TransitionInput, number][] = [
      [S.INITIALIZED, E.SUBMITTED, S.SUBMITTED],
      [S.INITIALIZED, E.DENIED, S.DENIED],
      [S.INITIALIZED, E.CANCELED, S.CANCELED],
      [S.INITIALIZED, E.ACCEPTED, -1],
      [S.INITIALIZED, E.FILLED, -1],
      [S.SUBMITTED, E.ACCEPTED, S.ACCEPTED],
      [S.SUBMITTED, E.REJECTED, S.REJECTED],
      [S.SUBMITTED, FILL_PARTIAL, S.PARTIALLY_FILLED], // fill before ack: implicit accept
      [S.SUBMITTED, E.FILLED, S.FILLED],
      [S.SUBMITTED, E.CANCELED, S.CANCELED], // IOC with nothing to match
      [S.SUBMITTED, E.SUBMITTED, -1],
      [S.ACCEPTED, E.TRIGGERED, S.TRIGGERED],
      [S.ACCEPTED, E.ACCEPTED, -1],
      [S.ACCEPTED, E.UPDATED, S.ACCEPTED], // venue-side amendment
      [S.ACCEPTED, E.CANCEL_REJECTED, -1],
      [S.TRIGGERED, FILL_PARTIAL, S.PARTIALLY_FILLED],
      [S.TRIGGERED, E.TRIGGERED, -1],
      [S.PARTIALLY_FILLED, FILL_PARTIAL, S.PARTIALLY_FILLED],
      [S.PARTIALLY_FILLED, E.FILLED, S.FILLED],
      [S.PARTIALLY_FILLED, E.ACCEPTED, S.PARTIALLY_FILLED], // late ack
      [S.PARTIALLY_FILLED, E.REJECTED, -1],
      [S.PENDING_UPDATE, E.PENDING_UPDATE, -1], // one amend in flight at a time
      [S.PENDING_CANCEL, E.PENDING_UPDATE, -1],
      [S.PENDING_CANCEL, E.PENDING_CANCEL, S.PENDING_CANCEL],
    ];
    for (const [s, i, want] of cases) expect(nextState(s, i), `${s} x ${i}`).toBe(want);
  });

  it('documents itself', () => {
    const rows = legalTransitions();
    expect(rows).toContainEqual({ from: 'PENDING_CANCEL', input: 'CANCEL_REJECTED', to: '(previous)' });
    expect(rows).toContainEqual({
      from: 'PENDING_CANCEL',
      input: 'FILL_PARTIAL',
      to: '(stay; previous advances)',
    });
    expect(rows).toContainEqual({ from: 'PENDING_UPDATE', input: 'REJECTED', to: '(as previous)' });
    expect(
      rows.filter((r) => ['DENIED', 'REJECTED', 'FILLED', 'CANCELED', 'EXPIRED'].includes(r.from)),
    ).toEqual([]);
  });
});

describe('pending states', () => {
  it('cancel-reject returns to the state before the cancel request', () => {
    for (const open of [S.ACCEPTED, S.TRIGGERED, S.PARTIALLY_FILLED, S.SUBMITTED] as const) {
      const h = holder(open);
      expect(applyTransition(h, E.PENDING_CANCEL)).toBe(true);
      expect(h).toEqual({ status: S.PENDING_CANCEL, prevStatus: open });
      expect(applyTransition(h, E.CANCEL_REJECTED)).toBe(true);
      expect(h).toEqual({ status: open, prevStatus: open });
    }
  });

  it('partial fills while pending cancel keep the cancel pending and advance the remembered state', () => {
    const h = run([E.SUBMITTED, E.ACCEPTED, E.PENDING_CANCEL, FILL_PARTIAL]);
    expect(h).toEqual({ status: S.PENDING_CANCEL, prevStatus: S.PARTIALLY_FILLED });
    expect(applyTransition(h, FILL_PARTIAL)).toBe(true);
    expect(applyTransition(h, E.CANCEL_REJECTED)).toBe(true);
    expect(h.status).toBe(S.PARTIALLY_FILLED);
    // and the full fill ends it
    const g = run([E.SUBMITTED, E.ACCEPTED, E.PENDING_CANCEL, FILL_PARTIAL, E.FILLED]);
    expect(g.status).toBe(S.FILLED);
  });

  it('an ack or a trigger arriving while pending advances the remembered state', () => {
    const h = run([E.SUBMITTED, E.PENDING_CANCEL, E.ACCEPTED]);
    expect(h).toEqual({ status: S.PENDING_CANCEL, prevStatus: S.ACCEPTED });
    expect(nextState(S.PENDING_CANCEL, E.ACCEPTED, S.ACCEPTED)).toBe(-1); // duplicate ack
    expect(nextState(S.PENDING_CANCEL, E.TRIGGERED, S.ACCEPTED)).toBe(S.PENDING_CANCEL);
    expect(nextState(S.PENDING_CANCEL, E.TRIGGERED, S.PARTIALLY_FILLED)).toBe(-1);
    const u = run([E.SUBMITTED, E.ACCEPTED, E.PENDING_UPDATE, E.TRIGGERED, E.UPDATED]);
    expect(u).toEqual({ status: S.TRIGGERED, prevStatus: S.TRIGGERED });
  });

  it('a cancel can overtake an amend; the amend answer does not end the cancel', () => {
    const h = run([E.SUBMITTED, E.ACCEPTED, E.PENDING_UPDATE, E.PENDING_CANCEL]);
    expect(h).toEqual({ status: S.PENDING_CANCEL, prevStatus: S.ACCEPTED });
    expect(applyTransition(h, E.MODIFY_REJECTED)).toBe(true);
    expect(h.status).toBe(S.PENDING_CANCEL);
    expect(applyTransition(h, E.CANCEL_REJECTED)).toBe(true);
    expect(h.status).toBe(S.ACCEPTED);
  });

  it('a submission reject while pending is legal only if it was legal before the request', () => {
    expect(run([E.SUBMITTED, E.PENDING_CANCEL, E.REJECTED]).status).toBe(S.REJECTED);
    const h = run([E.SUBMITTED, FILL_PARTIAL, E.PENDING_CANCEL]);
    expect(applyTransition(h, E.REJECTED)).toBe(false);
    expect(h).toEqual({ status: S.PENDING_CANCEL, prevStatus: S.PARTIALLY_FILLED });
  });
});

describe('requireTransition (edge)', () => {
  it('throws ILLEGAL_TRANSITION naming order, state and event', () => {
    expect(requireTransition(7, S.ACCEPTED, E.PENDING_CANCEL)).toBe(S.PENDING_CANCEL);
    let e: unknown;
    try {
      requireTransition(7, S.CANCELED, E.FILLED);
    } catch (x) {
      e = x;
    }
    expect(e).toBeInstanceOf(Bot4Error);
    expect((e as Bot4Error).code).toBe(ErrorCode.ILLEGAL_TRANSITION);
    expect((e as Bot4Error).message).toBe(
      'order 7: event FILLED is illegal in state CANCELED; CANCELED is terminal',
    );
    expect(() => requireTransition(8, S.PENDING_CANCEL, E.PENDING_UPDATE, S.ACCEPTED)).toThrow(
      'order 8: event PENDING_UPDATE is illegal in state PENDING_CANCEL (from ACCEPTED)',
    );
  });
});

describe('state machine properties', () => {
  it('random inputs: illegal ones change nothing, terminals absorb, pending remembers an open state', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...ALL_INPUTS), { maxLength: 60 }), (inputs) => {
        const h = holder(S.INITIALIZED);
        let terminalSeen = false;
        for (const i of inputs) {
          const before = { ...h };
          const predicted = nextState(h.status, i, h.prevStatus);
          const ok = applyTransition(h, i);
          expect(ok).toBe(predicted >= 0);
          if (!ok) expect(h).toEqual(before);
          else expect(h.status).toBe(predicted);
          if (terminalSeen) expect(ok).toBe(false);
          if (isTerminal(h.status)) terminalSeen = true;
          expect(h.status >= 0 && h.status < ORDER_STATUS_COUNT).toBe(true);
          if (isPending(h.status)) expect(OPEN_PREV.has(h.prevStatus)).toBe(true);
          else expect(h.prevStatus).toBe(h.status);
          expect(isOpen(h.status)).toBe(h.status !== S.INITIALIZED && !isTerminal(h.status));
        }
      }),
      { numRuns: 5000 },
    );
  });
});
