import { describe, expect, it } from 'vitest';
import { currency } from '../model/currency.ts';
import { newInstrumentRegistry } from '../model/instrument.ts';
import { type RiskConfig, RiskConfigSchema } from '../risk/risk-config.ts';
import { EmaCross } from '../strategy/builtin/ema-cross.ts';
import { DEMO_INSTRUMENT, demoMarket } from './demo-market.ts';
import { runBacktest } from './runner.ts';

const HOUR = 3_600_000_000;

async function run(seed: number, hours = 6, riskConfig?: RiskConfig) {
  const instruments = newInstrumentRegistry();
  const inst = instruments.add(DEMO_INSTRUMENT);
  const result = await runBacktest({
    strategies: [
      { strategy: new EmaCross({ instrument: 'BTCUSDT', fast: 5, slow: 20, qty: 0.05, allowShort: true }) },
    ],
    instruments,
    data: demoMarket(inst.id, { seed, duration: hours * HOUR }),
    dataLabel: `demo seed ${seed}`,
    balances: [{ currency: 'USDT', amount: '10000' }],
    ...(riskConfig === undefined ? {} : { riskConfig }),
  });
  return { ...result, inst };
}

describe('backtest runner', () => {
  it('runs a strategy over the demo market and reconciles the account exactly', async () => {
    const r = await run(11);
    const usdt = currency('USDT');
    expect(r.events).toBeGreaterThan(100_000);
    expect(r.recording.fills.length).toBeGreaterThan(5);
    expect(r.recording.trades.length).toBeGreaterThan(2);
    const pos = r.portfolio.position(r.inst.id);
    const realised = r.portfolio.realisedPnl(usdt.id);
    const fees = r.portfolio.fees(usdt.id);
    const funding = r.portfolio.funding(usdt.id);
    expect(r.portfolio.balance(usdt.id) - 10_000e8).toBe(realised - fees - funding);
    // The position is what the recorded fills add up to (the recorder's columns, not the portfolio's sums).
    let signed = 0;
    for (let i = 0; i < r.recording.fills.length; i++) {
      signed += r.recording.fills.side[i]! * r.recording.fills.qty[i]!;
    }
    expect(pos?.qty).toBe(signed);
    expect(r.report.fingerprint).toBe(r.fingerprint);
  });

  it('is deterministic: the same inputs give the same fingerprint and figures', async () => {
    const a = await run(5, 3);
    const b = await run(5, 3);
    const c = await run(6, 3);
    expect(b.fingerprint).toBe(a.fingerprint);
    expect(b.stats).toEqual(a.stats);
    expect(c.fingerprint).not.toBe(a.fingerprint);
  });

  it('sends every order through the risk engine: HALTED lets nothing reach the simulated venue', async () => {
    const r = await run(11, 3, RiskConfigSchema.parse({ initialState: 'HALTED' }));
    expect(r.recording.fills.length).toBe(0);
    expect(r.engine.stats.denied).toBeGreaterThan(0);
    expect(r.engine.stats.submitted).toBe(0);
  });
});
