import { describe, expect, it } from 'vitest';
import { ActionKind, CommandFifo } from './action-queue.ts';

describe('CommandFifo', () => {
  it('keeps commands oldest first across wrap-around and growth', () => {
    const f = new CommandFifo(16);
    let pushed = 0;
    let shifted = 0;
    // Interleave pushes and shifts so the ring wraps before it has to grow, then grows with a wrapped head.
    for (let round = 0; round < 6; round++) {
      for (let k = 0; k < 7 + round * 5; k++) {
        const i = f.push(ActionKind.CANCEL, 1000 + pushed, pushed, pushed);
        f.slot[i] = pushed;
        pushed++;
      }
      for (let k = 0; k < 5; k++) {
        expect(f.peekTime()).toBe(shifted);
        expect(f.orderId[f.head]).toBe(1000 + shifted);
        expect(f.slot[f.head]).toBe(shifted);
        expect(f.seq[f.head]).toBe(shifted);
        f.shift();
        shifted++;
      }
    }
    expect(f.size).toBe(pushed - shifted);
    while (f.size > 0) {
      expect(f.orderId[f.head]).toBe(1000 + shifted++);
      f.shift();
    }
    expect(f.peekTime()).toBe(Number.POSITIVE_INFINITY);
  });
});
