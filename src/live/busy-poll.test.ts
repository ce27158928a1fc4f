import { describe, expect, it } from 'vitest';
import { BusyPoll } from './busy-poll.ts';
import { NodeConfigSchema } from './node-config.ts';

describe('BusyPoll (engine.busyPoll)', () => {
  it('keeps the event loop turning while I/O and timers still run, and stops within a turn', async () => {
    const b = new BusyPoll();
    expect(b.start()).toMatch(/busy poll: on/);
    // A timer still fires: the loop polls (timeout 0) instead of blocking, it is not starved.
    await new Promise((r) => setTimeout(r, 50));
    const turns = b.turns;
    // Sleeping in epoll for 50 ms would give a handful of turns; spinning gives thousands.
    expect(turns).toBeGreaterThan(500);
    b.stop();
    await new Promise((r) => setTimeout(r, 20));
    const after = b.turns;
    await new Promise((r) => setTimeout(r, 20));
    expect(b.turns).toBe(after);
  }, 10_000);

  it('is off unless the config asks', () => {
    const base = { instruments: ['BTCUSDT'], strategies: [{ name: 'ema-cross' }] };
    expect(NodeConfigSchema.parse(base).engine.busyPoll).toBe(false);
    expect(NodeConfigSchema.parse({ ...base, engine: { busyPoll: true } }).engine.busyPoll).toBe(true);
    expect(() => NodeConfigSchema.parse({ ...base, engine: { busyPoll: 'yes' } })).toThrow();
  });
});
