// SIGTERM (kill, systemd, a container engine) stops a long command the way Ctrl-C does: the first one aborts
// the work's signal, and dispose() stops listening for both.

import { describe, expect, it, vi } from 'vitest';
import { onInterrupt } from './interrupt.ts';

describe('onInterrupt', () => {
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    it(`${sig} aborts the work once, with the notice on stderr; dispose removes the listeners`, () => {
      const counts = () => [process.listenerCount('SIGINT'), process.listenerCount('SIGTERM')];
      const both = counts();
      const write = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
      const it = onInterrupt('interrupted: stopping');
      try {
        expect(process.listenerCount(sig)).toBe(both[sig === 'SIGINT' ? 0 : 1]! + 1);
        expect(it.signal.aborted).toBe(false);
        process.emit(sig, sig);
        expect(it.signal.aborted).toBe(true);
        expect(write).toHaveBeenCalledWith(
          expect.stringContaining('interrupted: stopping (Ctrl-C again to quit now)'),
        );
      } finally {
        it.dispose();
        write.mockRestore();
      }
      // Both listeners gone, whichever signal came.
      expect(counts()).toEqual(both);
    });
  }
});
