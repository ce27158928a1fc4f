// The sizing policies behind Strategy.size() (config risk.sizing, --sizing): each method's size worked out by
// hand on an instrument with a lot grid and limits, always whole lots rounded down; the --sizing text and its
// errors; and the realised-volatility estimator volatility targeting reads.
import { describe, expect, it } from 'vitest';
import { Bot4Error } from '../core/errors.ts';
import { InstrumentKind, newInstrumentRegistry } from '../model/instrument.ts';
import { parseRiskConfig } from './risk-config.ts';
import { EwmaVolatility, sizeByPolicy } from './sizing.ts';
import { parseSizing } from './sizing-text.ts';

const U = 100_000_000;
const btc = newInstrumentRegistry().add({
  symbol: 'BTCUSDT',
  venue: 'SIM',
  kind: InstrumentKind.PERPETUAL,
  base: 'BTC',
  quote: 'USDT',
  settlement: 'USDT',
  tickSize: '0.1',
  lotSize: '0.001',
  minQty: '0.002',
  maxQty: '1',
});
const PX = 500_000; // 50,000.0 USDT: a lot (0.001 BTC) is worth 50 USDT
const EQUITY = 100_000 * U;
const size = (text: string, fixedLots = 7, stop = Number.NaN, vol = Number.NaN) =>
  sizeByPolicy(parseSizing(text), btc, PX, EQUITY, fixedLots, true, stop, vol);

describe('sizing policies (risk.sizing, --sizing)', () => {
  it('fixed keeps the strategy size; qty rounds down onto the lot grid', () => {
    expect(size('fixed', 7)).toBe(7);
    expect(size('qty:0.0059')).toBe(5); // 0.0059 BTC -> 5 lots of 0.001
    expect(size('qty:0.0015')).toBe(0); // below the 0.002 minimum: no order
    expect(size('qty:5')).toBe(1000); // capped at the 1 BTC maximum
  });

  it('stake: the most whole lots whose value stays within the amount', () => {
    expect(size('stake:1000')).toBe(20); // 1,000 / 50 = 20 lots exactly
    expect(size('stake:1049.99')).toBe(20); // 20.9999 lots -> 20
    expect(size('stake:99')).toBe(0); // 1.98 lots: below the 2-lot minimum
  });

  it('equity fraction and Kelly take a share of equity', () => {
    expect(size('equity:1%')).toBe(20); // 1,000 USDT
    expect(size('equity:0.005')).toBe(10);
    // Kelly (p 0.75, payoff 1) = 0.5, a quarter of it = 12.5% of equity = 12,500 USDT = 250 lots.
    expect(size('kelly:p=0.75,b=1,f=0.25')).toBe(250);
  });

  it('risk: the stop distance sets the size (the strategy stop wins over the policy stop)', () => {
    // Lose 0.1% of 100,000 = 100 USDT at a stop 2% away (1,000 USDT per BTC = 1 USDT per 0.001-BTC lot): 100 lots.
    expect(size('risk:0.1%,stop=2%')).toBe(100);
    // The strategy's own stop, 5,000 ticks of 0.1 (500 USDT per BTC = 0.5 USDT per lot): 200 lots.
    expect(size('risk:0.1%,stop=2%', 7, 5_000)).toBe(200);
  });

  it('volatility: target / realised of equity, capped by leverage; without a realised figure the own size', () => {
    expect(size('vol:20%', 7, Number.NaN, 0.8)).toBe(500); // 25,000 USDT
    expect(size('vol:20%', 7, Number.NaN, 0.1)).toBe(1000); // 200,000 capped at 1x = 100,000 USDT -> 2,000, max 1,000
    expect(size('vol:20%,lev=0.1', 7, Number.NaN, 0.1)).toBe(200); // 10,000 USDT
    expect(size('vol:20%', 7)).toBe(7);
  });

  it('the config takes the same policies and refuses incomplete ones naming the key', () => {
    expect(parseRiskConfig({ sizing: { method: 'stake', amount: 500 } }).sizing).toEqual({
      method: 'stake',
      amount: 500,
    });
    expect(() => parseRiskConfig({ sizing: { method: 'risk', fraction: 0.01 } })).toThrow(
      /method 'risk' needs/,
    );
    expect(() => parseRiskConfig({ sizing: { method: 'volatility' } })).toThrow(/needs target/);
  });

  it('--sizing text: every form, and one-line errors naming the bad part', () => {
    expect(parseSizing('risk:1%,stop=2%')).toEqual({ method: 'risk', fraction: 0.01, stop: 0.02 });
    expect(parseSizing('vol:0.2,lev=2')).toEqual({ method: 'volatility', target: 0.2, maxLeverage: 2 });
    expect(parseSizing('kelly:p=0.55,b=1.2,f=0.25')).toEqual({
      method: 'kelly',
      winProb: 0.55,
      payoff: 1.2,
      fraction: 0.25,
    });
    const bad = (t: string, m: RegExp) => {
      expect(() => parseSizing(t)).toThrow(Bot4Error);
      expect(() => parseSizing(t)).toThrow(m);
    };
    bad('stake:abc', /--sizing 'stake:abc': 'abc' is not key=number/);
    bad('risk:1%,stop=200%', /stop/);
    bad('vol:20%,leverage=2', /'leverage' is not a key of vol/);
    bad('kelly:p=0.55', /method 'kelly' needs winProb and payoff/);
    bad('equity', /equity needs a share of equity/);
  });
});

describe('EwmaVolatility', () => {
  it('recovers the volatility of returns sampled at any interval, NaN while warming up', () => {
    // Alternating +-1% log returns every minute: variance 1e-4 per minute -> annualised sqrt(1e-4 x 525,600).
    const v = new EwmaVolatility(50, 20);
    let px = 100;
    for (let i = 0; i < 20; i++) {
      expect(Number.isNaN(v.value)).toBe(true);
      v.update(px, i * 60_000_000);
      px *= Math.exp(i % 2 === 0 ? 0.01 : -0.01);
    }
    v.update(px, 20 * 60_000_000);
    expect(v.value).toBeCloseTo(Math.sqrt(1e-4 * 525_600), 10);
    // The same moves every 5 minutes are a fifth of the variance per unit of time.
    const slow = new EwmaVolatility(50, 20);
    px = 100;
    for (let i = 0; i <= 40; i++) {
      slow.update(px, i * 300_000_000);
      px *= Math.exp(i % 2 === 0 ? 0.01 : -0.01);
    }
    expect(slow.value).toBeCloseTo(Math.sqrt((1e-4 / 5) * 525_600), 10);
  });
});
