// The risk features a config turns on, acting in backtests: the kill switch on a loss limit (action KILL), the
// per-trade and consecutive-loss limits fed by closed trades, the VaR limit and correlation clusters. Each shows
// in the report's notes when it acts, and each check compares with what the recording says independently.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../core/config.ts';
import { Merge } from '../data/replay.ts';
import { FeeSchedules } from '../model/fee-schedule.ts';
import { newInstrumentRegistry } from '../model/instrument.ts';
import type { EventBatch } from '../model/market-data.ts';
import { type RiskConfigInput, RiskConfigSchema } from '../risk/risk-config.ts';
import { EmaCross } from '../strategy/builtin/ema-cross.ts';
import { DEMO_INSTRUMENT, demoMarket } from './demo-market.ts';
import { runBacktest } from './runner.ts';

const HOUR = 3_600_000_000;

async function demo(risk: RiskConfigInput, hours = 6) {
  const instruments = newInstrumentRegistry();
  const inst = instruments.add(DEMO_INSTRUMENT);
  return runBacktest({
    strategies: [
      { strategy: new EmaCross({ instrument: 'BTCUSDT', fast: 5, slow: 20, qty: 0.05, allowShort: true }) },
    ],
    instruments,
    data: demoMarket(inst.id, { seed: 11, duration: hours * HOUR }),
    dataLabel: 'demo seed 11',
    balances: [{ currency: 'USDT', amount: '100000' }],
    riskConfig: RiskConfigSchema.parse(risk),
  });
}

const iso = (ts: number) => new Date(ts / 1000).toISOString();

/** Closed trades' realised PnL (before fees, as the portfolio books it) and exit times, from the recording. */
function closedTrades(r: Awaited<ReturnType<typeof demo>>) {
  return r.recording.trades
    .filter((t) => !t.open)
    .map((t) => ({ pnl: t.grossPnl, exitTs: t.exitTs ?? Number.NaN }));
}

describe('risk features in a backtest', () => {
  it('nothing configured: nothing acts and no risk note appears', async () => {
    const r = await demo({});
    expect(r.recording.fills.length).toBeGreaterThan(20);
    expect(r.report.notes.filter((n) => /risk|kill|limit/.test(n))).toEqual([]);
  }, 60_000);

  it('a daily loss limit with action KILL trips the kill switch: cancel, flatten, halt, reported', async () => {
    const r = await demo({
      lossLimits: { dailyLoss: { threshold: '5', action: 'KILL' } },
      killSwitch: { flatten: true },
    });
    const note = r.report.notes.find((n) => n.startsWith('kill switch tripped'));
    expect(note, r.report.notes.join('\n')).toBeDefined();
    const m =
      /^kill switch tripped at (\S+Z): daily loss (\d+\.\d\d) USDT \((\d+\.\d\d)% of the day's opening equity\) >= 5\.00 USDT \(risk\.lossLimits\.dailyLoss\): trading HALTED; (\d+) order\(s\) cancelled, flattened with (BUY|SELL) ([\d.]+) BTCUSDT\.DEMO( \(in \d+ reduce-only IOC attempts: the book was thin\))?$/.exec(
        note!,
      );
    expect(m, note).not.toBeNull();
    expect(Number(m![2])).toBeGreaterThanOrEqual(5);
    // Day's opening equity is the 100,000 USDT balance: the percentage is the loss over it.
    expect(Number(m![3])).toBeCloseTo((Number(m![2]) / 100_000) * 100, 2);
    // The note's time is in whole ms; the tripping fill is within that millisecond.
    const killMs = Date.parse(m![1]!);
    const f = r.recording.fills;
    let before = 0;
    let after = 0;
    let lastTs = 0;
    for (let i = 0; i < f.length; i++) {
      const lots = f.side[i]! * f.qty[i]!;
      if (Math.floor(f.ts[i]! / 1000) <= killMs) before += lots;
      else {
        after += lots;
        lastTs = f.ts[i]!;
      }
    }
    // It flattened exactly the position held at the trip, in the opposite direction, within a second.
    expect(m![5]).toBe(before > 0 ? 'SELL' : 'BUY');
    expect(Number(m![6])).toBe(Math.abs(before) / 1000);
    expect(after).toBe(-before);
    expect(lastTs - killMs * 1000).toBeLessThan(1_000_000);
    expect(r.portfolio.netQty(0 as never)).toBe(0);
    expect(r.report.notes.some((n) => /^risk denied \d+ order\(s\): \d+ trading halted/.test(n))).toBe(true);
    // The same limit without KILL halts but neither cancels nor flattens, and says so differently.
    const halted = await demo({ lossLimits: { dailyLoss: { threshold: '5', action: 'HALTED' } } });
    expect(halted.report.notes.some((n) => n.startsWith('kill switch'))).toBe(false);
    expect(halted.report.notes.some((n) => n.startsWith(`loss limit tripped at ${m![1]}: daily loss`))).toBe(
      true,
    );
  }, 60_000);

  it("a daily loss limit in percent of the day's opening equity says so", async () => {
    const r = await demo({ lossLimits: { dailyLoss: { threshold: '0.005%', action: 'KILL' } } });
    const note = r.report.notes[0]!;
    const m =
      /^kill switch tripped at \S+Z: daily loss ([\d.]+)% of the day's opening equity \(([\d.]+) USDT\) >= 0\.005% \(risk\.lossLimits\.dailyLoss\): trading HALTED; \d+ order\(s\) cancelled, positions kept \(risk\.killSwitch\.flatten off\)$/.exec(
        note,
      );
    expect(m, note).not.toBeNull();
    // The percentage is the money loss over the 100,000 USDT the day opened with.
    expect(Number(m![1])).toBeCloseTo(Number(m![2]) / 1000, 4);
    expect(Number(m![2])).toBeGreaterThanOrEqual(5);
    expect(() => RiskConfigSchema.parse({ lossLimits: { perTrade: { threshold: '1%' } } })).toThrow(
      /not a percentage/,
    );
  }, 60_000);

  it('consecutive losing trades halt trading at the third loss in a row, per the recorded trades', async () => {
    const base = closedTrades(await demo({}));
    let run = 0;
    let tripTs = Number.NaN;
    for (const t of base) {
      run = t.pnl < 0 ? run + 1 : 0;
      if (run === 3) {
        tripTs = t.exitTs;
        break;
      }
    }
    expect(Number.isNaN(tripTs), 'the demo needs three losses in a row').toBe(false);
    const r = await demo({
      lossLimits: { consecutiveLosses: { count: 3, action: 'HALTED', cooldownMs: 3_600_000 } },
    });
    expect(r.report.notes[0]).toBe(
      `loss limit tripped at ${iso(tripTs)}: 3 consecutive losing trades >= 3 (risk.lossLimits.consecutiveLosses): trading HALTED`,
    );
    expect(r.report.notes).toContain(
      `consecutive losing trades limit released at ${iso(tripTs + 3_600_000_000)}`,
    );
  }, 60_000);

  it('a per-trade loss limit trips at the first trade that loses more, per the recorded trades', async () => {
    const base = closedTrades(await demo({}));
    const worst = Math.min(...base.map((t) => t.pnl));
    // A threshold a little under the worst loss: the first trade at or beyond it trips the limit.
    const threshold = Math.floor((-worst * 0.9) / 1e6) * 1e6;
    const first = base.find((t) => -t.pnl >= threshold)!;
    const r = await demo({
      lossLimits: {
        perTrade: { threshold: String(threshold / 1e8), action: 'REDUCING', cooldownMs: 60_000 },
      },
    });
    const note = r.report.notes[0]!;
    expect(
      note.startsWith(
        `loss limit tripped at ${iso(first.exitTs)}: loss per trade ${(-first.pnl / 1e8).toFixed(2)} USDT`,
      ),
    ).toBe(true);
    expect(note.endsWith('(risk.lossLimits.perTrade): trading REDUCING')).toBe(true);
  }, 60_000);

  it('a VaR limit denies orders that would take the parametric VaR above it, and says how many', async () => {
    const free = await demo({ var: { maxLoss: '1000000' }, correlation: { minSamples: 10 } });
    expect(free.report.notes.filter((n) => n.includes('VaR'))).toEqual([]);
    const r = await demo({ var: { maxLoss: '5' }, correlation: { minSamples: 10 } });
    const note = r.report.notes.find((n) => n.startsWith('risk denied'));
    const m =
      /^risk denied (\d+) order\(s\): (\d+) VaR limit \(first: value at risk ([\d.,]+) USDT \(99\.0%, 1 x 60 s\) with this (BUY|SELL) would exceed max 5 USDT \(risk\.var\.maxLoss, BTCUSDT\)\)$/.exec(
        note ?? '',
      );
    expect(m, r.report.notes.join('\n')).not.toBeNull();
    expect(Number(m![2])).toBe(Number(m![1]));
    expect(Number(m![3]!.replace(/,/g, ''))).toBeGreaterThan(5);
    expect(r.recording.fills.length).toBeLessThan(free.recording.fills.length);
    // As a fraction of equity: 5 USDT of 100,000 is 0.005%.
    const byEquity = await demo({ var: { maxEquityFraction: 0.00005 }, correlation: { minSamples: 10 } });
    expect(byEquity.report.notes.some((n) => n.includes('(risk.var.maxEquityFraction, BTCUSDT)'))).toBe(true);
  }, 60_000);

  it('correlation clusters: two instruments moving together share one cluster exposure limit', async () => {
    async function* once(it: Iterable<EventBatch>): AsyncGenerator<EventBatch> {
      yield* it;
    }
    async function twin(risk: RiskConfigInput) {
      const instruments = newInstrumentRegistry();
      const a = instruments.add(DEMO_INSTRUMENT);
      const b = instruments.add({ ...DEMO_INSTRUMENT, symbol: 'BTCUSDC' });
      const market = (id: number) => once(demoMarket(id, { seed: 11, duration: 6 * HOUR }));
      return runBacktest({
        strategies: ['BTCUSDT', 'BTCUSDC'].map((instrument) => ({
          strategy: new EmaCross({ instrument, fast: 5, slow: 20, qty: 0.05, allowShort: true }),
        })),
        instruments,
        // The same seed: identical prices, correlation 1.
        data: new Merge([market(a.id), market(b.id)]),
        dataLabel: 'two demo markets',
        balances: [{ currency: 'USDT', amount: '100000' }],
        riskConfig: RiskConfigSchema.parse(risk),
      });
    }
    const count = (r: Awaited<ReturnType<typeof twin>>) => {
      const c = [0, 0];
      for (let i = 0; i < r.recording.fills.length; i++) c[r.recording.fills.slot[i]!]!++;
      return c;
    };
    const free = await twin({});
    expect(free.report.notes).toEqual([]);
    expect(count(free)[1]).toBeGreaterThan(0);
    // One 0.05 BTC position (about 2,980 USDT) fits under 4,000; the twin's would make the cluster 5,960.
    const r = await twin({ total: { maxClusterExposure: '4000' }, correlation: { minSamples: 10 } });
    expect(count(r)[1]).toBeLessThan(count(free)[1]!);
    const note = r.report.notes.find((n) => n.startsWith('risk denied'));
    expect(note, r.report.notes.join('\n')).toMatch(
      /^risk denied \d+ order\(s\): \d+ correlated cluster exposure \(first: gross exposure of the correlated cluster [\d,.]+ USDT would exceed max 4,000 USDT \(risk\.total\.maxClusterExposure, BTCUSDC\)\)$/,
    );
  }, 60_000);
  it('risk.sizing resizes a strategy that takes a qty: a share of equity, or fractional Kelly', async () => {
    /** The first order's lots (its fills summed) and its value at the fill prices, in USDT. */
    const firstOrder = (r: Awaited<ReturnType<typeof demo>>) => {
      const f = r.recording.fills;
      let lots = 0;
      let value = 0;
      for (let i = 0; i < f.length && f.orderId[i] === f.orderId[0]; i++) {
        lots += f.qty[i]!;
        value += f.notional[i]! / 1e8;
      }
      return { lots, value };
    };
    const fixed = firstOrder(await demo({}));
    expect(fixed.lots).toBe(50); // the strategy's own qty 0.05 at lot 0.001
    // 10% of the 100,000 USDT equity, at the decision price: within one lot (about 60 USDT) and the spread.
    const tenth = firstOrder(await demo({ sizing: { method: 'equity-fraction', fraction: 0.1 } }));
    expect(Math.abs(tenth.value - 10_000)).toBeLessThan(100);
    // Half Kelly for p = 0.6, b = 1.5: 0.5 x (0.6 x 1.5 - 0.4) / 1.5 = 1/6 of equity, 16,666.67 USDT.
    const kelly = firstOrder(await demo({ sizing: { method: 'kelly', winProb: 0.6, payoff: 1.5 } }));
    expect(Math.abs(kelly.value - 100_000 / 6)).toBeLessThan(100);
    // Same decision price: 1/6 over 1/10 of equity, each rounded down to a whole lot.
    expect(Math.abs(kelly.lots - (tenth.lots * 10) / 6)).toBeLessThanOrEqual(1);
  }, 60_000);

  it('a sizing policy with a missing parameter is a config error naming the key', () => {
    expect(() => RiskConfigSchema.parse({ sizing: { method: 'kelly', winProb: 0.6 } })).toThrow(
      /winProb and payoff/,
    );
    expect(() => RiskConfigSchema.parse({ sizing: { method: 'equity-fraction' } })).toThrow(/needs fraction/);
  });

  it("README's config examples (fees, risk) are valid configs as written", () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const blocks = [...readme.matchAll(/```json\n([\s\S]*?)```/g)].map((m) => JSON.parse(m[1]!) as object);
    const ours = blocks.filter((b) => 'risk' in b || 'fees' in b);
    expect(ours.length).toBeGreaterThanOrEqual(2);
    // The schema, and the fee presets and rates the schema leaves as text.
    for (const b of ours) expect(() => FeeSchedules.fromConfig(parseConfig(b).fees)).not.toThrow();
  });
});
