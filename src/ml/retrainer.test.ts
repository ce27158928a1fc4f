import { afterAll, describe, expect, it } from 'vitest';
import { Rng } from '../backtest/demo-market.ts';
import { LinearModel, Link } from './linear.ts';
import { Retrainer, SwappableModel } from './retrainer.ts';
import { train } from './train.ts';

const d = 20;
const n = 150_000;
const rng = new Rng(5);
const x = Float64Array.from({ length: n * d }, () => rng.next() - 0.5);
const y = new Float64Array(n);
for (let r = 0; r < n; r++) {
  let s = 0.1;
  for (let j = 0; j < d; j++) s += x[r * d + j]! * (j % 3 === 0 ? 0.5 : -0.2);
  y[r] = s + 0.01 * (rng.next() - 0.5);
}
const rows = Int32Array.from({ length: n }, (_, i) => i);
const initial = new LinearModel(new Float64Array(d), 0, Link.IDENTITY);
const target = new SwappableModel(initial);
const retrainer = Retrainer.start(target, { trainer: 'ridge', alpha: 1 });
afterAll(() => retrainer.close());

describe('Retrainer', () => {
  it('fits in a worker while the event loop keeps running, then swaps the model whole', async () => {
    expect(retrainer.request(x, y, d, rows)).toBe(true);
    // One job at a time: a second request while busy is refused, not queued.
    expect(retrainer.request(x, y, d, rows)).toBe(false);
    // The caller's buffers were copied, not transferred: it keeps using them.
    expect(x.length).toBe(n * d);
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    await retrainer.idle(60_000);
    clearInterval(timer);
    expect(retrainer.lastError).toBeNull();
    expect(retrainer.swaps).toBe(1);
    expect(target.current).not.toBe(initial);
    expect(ticks).toBeGreaterThan(0);
    const want = train(x, y, d, rows, { trainer: 'ridge', alpha: 1 }).model;
    const got = target.current as LinearModel;
    expect([...got.weights]).toEqual([...want.weights]);
    expect(got.bias).toBe(want.bias);
    expect(target.predict(x, 0)).toBe(want.predict(x, 0));
    // The model that was in place is untouched (a prediction in flight saw it whole).
    expect([...initial.weights].every((w) => w === 0)).toBe(true);
  }, 90_000);

  it('keeps the old model and reports the failure when a fit fails', async () => {
    const before = target.current;
    expect(retrainer.request(x.subarray(0, 3 * d), y.subarray(0, 3), d, Int32Array.of(0, 1, 2))).toBe(true);
    await retrainer.idle(30_000);
    expect(retrainer.lastError).toMatch(/needs more complete rows than features \+ 1/);
    expect(target.current).toBe(before);
    expect(retrainer.busy).toBe(false);
  }, 60_000);
});
