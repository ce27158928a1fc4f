// Tests wait for asynchronous outcomes by polling a condition (never by sleeping a fixed time), and fail with
// a message naming what they waited for when it does not come.

import { monoMillis } from './clock.ts';

/** Resolves once `cond()` is true; rejects naming `what` after `ms`. */
export async function waitFor(cond: () => boolean, what: string, ms = 3_000): Promise<void> {
  const t0 = monoMillis();
  while (!cond()) {
    if (monoMillis() - t0 > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
