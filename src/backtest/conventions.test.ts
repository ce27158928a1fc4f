// README's "How a backtest fills" worked by hand: a candle file and ema-cross, every fill predicted from the
// documented rules alone (timestamps are open times, a bar is an event at open + interval, EMAs seeded with the
// SMA of their first `period` closes, orders sent on a close fill at the next bar's open, an open position at
// the end stays open and counts in equity only), then compared with the engine's.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { primedReplay } from '../data/replay.ts';
import { newInstrumentRegistry } from '../model/instrument.ts';
import { EmaCross } from '../strategy/builtin/ema-cross.ts';
import { runBacktest } from './runner.ts';

const T0 = Date.UTC(2024, 0, 1) * 1000;
const MIN = 60_000_000;
const CLOSES = [100, 101, 102, 101, 99, 97, 98, 100, 103, 104, 102, 99, 96, 97, 99, 102];

/** The README's EMA: alpha = 2 / (n + 1), the first value the mean of the first n inputs. */
function ema(values: number[], n: number): number[] {
  const out: number[] = [];
  let e = Number.NaN;
  for (let i = 0; i < values.length; i++) {
    if (i === n - 1) e = values.slice(0, n).reduce((a, b) => a + b, 0) / n;
    else if (i >= n) e = e * (1 - 2 / (n + 1)) + (2 / (n + 1)) * values[i]!;
    out.push(e);
  }
  return out;
}

describe('README conventions, by hand', () => {
  it('ema-cross on candles: fills at the next bar open, stamped at its close; the last position stays open', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bot4-conv-'));
    const file = join(dir, 'binance_btcusdt_1m.csv');
    const rows = ['timestamp,open,high,low,close,volume'];
    CLOSES.forEach((c, i) => {
      const open = i === 0 ? c : CLOSES[i - 1]! + 0.5; // each bar opens half a dollar above the last close
      rows.push(`${(T0 + i * MIN) / 1000},${open},${Math.max(open, c) + 1},${Math.min(open, c) - 1},${c},10`);
    });
    writeFileSync(file, `${rows.join('\n')}\n`);
    const instruments = newInstrumentRegistry();
    const data = await primedReplay([file], { instruments });
    const inst = instruments.all()[0]!;
    const r = await runBacktest({
      strategies: [{ strategy: new EmaCross({ instrument: inst.symbol, fast: 2, slow: 4, qty: 1 }) }],
      instruments,
      data,
      dataLabel: file,
      balances: [{ currency: inst.settlement.code, amount: '1000000' }],
    });

    // By hand: crosses of EMA(2) over EMA(4) on the closes; the first ready bar only sets the side.
    const f = ema(CLOSES, 2);
    const s = ema(CLOSES, 4);
    const expected: { ts: number; side: number; px: number; qty: number }[] = [];
    let side = 0;
    let pos = 0;
    for (let i = 3; i < CLOSES.length; i++) {
      const now = f[i]! > s[i]! ? 1 : f[i]! < s[i]! ? -1 : 0;
      if (now === 0 || now === side) continue;
      const cross = side !== 0;
      side = now;
      if (!cross || i + 1 >= CLOSES.length) continue; // no next bar: the order never fills
      const target = now > 0 ? 1 : 0; // qty 1; a down-cross goes flat (spot: no shorts)
      if (target === pos) continue;
      const open = CLOSES[i]! + 0.5; // bar i+1's open
      // Bar i+1 opens at T0 + (i+1) min and is an event at its close, T0 + (i+2) min.
      expected.push({
        ts: T0 + (i + 2) * MIN,
        side: target > pos ? 1 : -1,
        px: open,
        qty: Math.abs(target - pos),
      });
      pos = target;
    }
    expect(expected.length).toBeGreaterThanOrEqual(2);
    const tick = inst.tickSize.value;
    const lot = inst.lotSize.value;
    const fills = r.recording.fills;
    const got = Array.from({ length: fills.length }, (_, i) => ({
      ts: fills.ts[i]!,
      side: fills.side[i]!,
      px: Math.round(fills.px[i]! * tick * 1e6) / 1e6,
      qty: Math.round(fills.qty[i]! * lot * 1e6) / 1e6,
    }));
    expect(got).toEqual(expected);
    // A position still open at the end is counted apart, in the equity, not in the trade statistics.
    expect(r.stats.openTrades).toBe(pos === 0 ? 0 : 1);
    expect(r.stats.trades).toBe(Math.floor(expected.length / 2));
  });

  it('README and backtest --help state the conventions', () => {
    const root = fileURLToPath(new URL('../..', import.meta.url));
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const help = readFileSync(join(root, 'src/cli/backtest-command.ts'), 'utf8');
    for (const text of [readme, help]) {
      expect(text).toMatch(/_?open_? time/);
      expect(text).toMatch(/open \+ interval/);
      expect(text).toMatch(/next bar's open/);
      expect(text).toMatch(/range goes \**through/);
      expect(text).toMatch(/--latency N/);
      expect(text).toMatch(/SMA|simple average/);
      expect(text).toMatch(/funding/i);
      expect(text).toMatch(/end of (the )?data/i);
    }
  });
});
