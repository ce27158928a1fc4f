import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runBot4 } from './cli.test-util.ts';

const _root = fileURLToPath(new URL('../..', import.meta.url));
const DATA = fileURLToPath(new URL('../../../shared/data/', import.meta.url));
const CANDLES = `${DATA}nautilus_trader/bars/btc-perp-20211231-20220201_1m.csv`;
const USDM = `${DATA}hftbacktest/usdm/btcusdt_20240808.gz`;
const haveData = existsSync(CANDLES) && existsSync(USDM);

function bot4(args: string[]) {
  return runBot4(args);
}

interface Report {
  currency: { code: string; precision: number };
  instruments: { key: string; makerFee: string; takerFee: string; feeSource: string }[];
  stats: { fees: number };
  fills: { px: number[]; qty: number[]; notional: number[]; fee: number[]; liquidity: number[] };
}

function report(dir: string): Report {
  return JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')) as Report;
}

describe('bot4 backtest --fee: bad values', () => {
  it('exits 2 naming the bad value, before reading any data', () => {
    const a = bot4(['backtest', '--demo', '--fee', 'maker=0.02%,taker=5x']);
    expect(a.code).toBe(2);
    expect(a.stderr).toContain("'5x' is not a fee rate");
    const b = bot4(['backtest', '--demo', '--fee', 'maker=0.02%']);
    expect(b.code).toBe(2);
    expect(b.stderr).toContain('give both maker= and taker=');
    const c = bot4(['optimize', '--bars', '300', '--param', 'fast=5,10', '--fee', 'vip0']);
    expect(c.code).toBe(2);
    expect(c.stderr).toContain("unknown fee preset 'vip0'");
  }, 60_000);
});

describe('bot4 optimize --fee', () => {
  it('charges every trial the given rates and names them in the report', () => {
    const out = mkdtempSync(join(tmpdir(), 'bot4-fee-opt-'));
    const args = [
      'optimize',
      '--bars',
      '2000',
      '--param',
      'fast=5,10',
      '--param',
      'slow=20',
      '--workers',
      '1',
    ];
    const run = (dir: string, fee: string[]) => {
      const r = bot4([...args, ...fee, '--out', join(out, dir), '--no-progress']);
      expect(r.code, r.stderr).toBe(0);
      return JSON.parse(readFileSync(join(out, dir, 'optimize.json'), 'utf8')) as {
        meta: { fees: string[] };
        trials: { params: { fast: number }; stats: { fees: number; trades: number } }[];
      };
    };
    const own = run('own', []);
    const vip0 = run('vip0', ['--fee', 'binance-spot-vip0']);
    const zero = run('zero', ['--fee', 'zero']);
    expect(own.meta.fees).toEqual(['BTCUSDT.DEMO: 0.02% / 0.05% (instrument definition)']);
    expect(vip0.meta.fees).toEqual(['BTCUSDT.DEMO: 0.1% / 0.1% (binance-spot-vip0 via --fee)']);
    expect(zero.meta.fees).toEqual(['BTCUSDT.DEMO: 0% / 0% (zero via --fee)']);
    expect(own.trials.length).toBe(2);
    for (const t of own.trials) {
      // Market orders on bars are takers: 0.1% is exactly twice 0.05% on the same (exact, 4 dp) fill values.
      const same = (r: typeof own) => r.trials.find((x) => x.params.fast === t.params.fast)!.stats;
      expect(t.stats.trades).toBeGreaterThan(0);
      expect(t.stats.fees).toBeGreaterThan(0);
      expect(same(vip0).fees).toBe(2 * t.stats.fees);
      expect(same(zero).fees).toBe(0);
    }
  }, 120_000);
});

describe.skipIf(!haveData && process.env.CI === undefined)(
  'bot4 backtest --fee maker=0.02%,taker=0.05% on real data (skipped off CI when ../shared/data is absent)',
  () => {
    it('charges the taker rate on every candle fill: 46,475.0 x 0.5 BTC x 0.05% = 11.61875 USD', () => {
      expect(haveData, `${CANDLES} or ${USDM} is missing`).toBe(true);
      const out = mkdtempSync(join(tmpdir(), 'bot4-fee-'));
      const r = bot4([
        'backtest',
        '--data',
        CANDLES,
        '--param',
        'instrument=BTC-PERP',
        '--param',
        'qty=0.5',
        '--param',
        'fast=10',
        '--param',
        'slow=30',
        '--to',
        '2022-01-01T06:00:00Z',
        '--balance',
        '100000USD',
        '--fee',
        'maker=0.02%,taker=0.05%',
        '--out',
        out,
        '--no-progress',
      ]);
      expect(r.code, r.stderr).toBe(0);
      const rep = report(out);
      expect(rep.currency).toEqual({ code: 'USD', precision: 8 });
      expect(rep.instruments[0]).toMatchObject({
        key: 'BTC-PERP.FTX',
        makerFee: '0.0002',
        takerFee: '0.0005',
        feeSource: '--fee',
      });
      const f = rep.fills;
      expect(f.fee.length).toBe(24);
      // By hand: the first three fills (ticks of 0.001 USD, lots of 0.000001 BTC, fees in 1e-8 USD):
      // 46,475.000 x 0.5 = 23,237.50 USD x 0.0005 = 11.61875 USD
      // 46,408.000 x 0.5 = 23,204.00 USD x 0.0005 = 11.602 USD
      // 46,443.000 x 0.5 = 23,221.50 USD x 0.0005 = 11.61075 USD
      expect([f.px[0], f.qty[0], f.fee[0]]).toEqual([46_475_000, 500_000, 1_161_875_000]);
      expect([f.px[1], f.qty[1], f.fee[1]]).toEqual([46_408_000, 500_000, 1_160_200_000]);
      expect([f.px[2], f.qty[2], f.fee[2]]).toEqual([46_443_000, 500_000, 1_161_075_000]);
      // Every fill: market orders on bars are takers; fee = px x qty x 0.0005 exactly (no rounding needed:
      // the prices are whole dollars, so each is a whole number of 1e-8 USD), computed here from ticks and lots alone.
      let total = 0n;
      for (let i = 0; i < f.fee.length; i++) {
        expect(f.liquidity[i]).toBe(2);
        const fee = (BigInt(f.px[i]!) * BigInt(f.qty[i]!) * 5n) / 100_000n; // 1e-3 x 1e-6 x 5e-4 = 5e-13 -> 1e-8 units
        expect((BigInt(f.px[i]!) * BigInt(f.qty[i]!) * 5n) % 100_000n).toBe(0n);
        expect(BigInt(f.fee[i]!)).toBe(fee);
        total += fee;
      }
      expect(BigInt(rep.stats.fees)).toBe(total);
      expect(total).toBe(28_029_068_750n); // 280.2906875 USD (45,031 bars: none dropped for their volume)
      expect(r.stdout).toMatch(/Fees\s+280\.29 USD/);
      const html = readFileSync(join(out, 'report.html'), 'utf8');
      expect(html).toContain('BTC-PERP.FTX: 0.02% / 0.05% (--fee)');
    }, 120_000);

    it('charges the maker rate on resting fills: 61,800.4 x 0.001 BTC x 0.02% = 0.01236008 USDT', () => {
      const out = mkdtempSync(join(tmpdir(), 'bot4-fee-'));
      const r = bot4([
        'backtest',
        '--strategy',
        'market-maker',
        '--data',
        USDM,
        '--param',
        'qty=0.001',
        '--fee',
        'maker=2bps,taker=0.0005',
        '--out',
        out,
        '--no-progress',
      ]);
      expect(r.code, r.stderr).toBe(0);
      const f = report(out).fills;
      expect(f.fee.length).toBe(2);
      // 61,800.4 x 0.001 = 61.8004 USDT x 0.0002 = 0.01236008; 61,809.4 x 0.001 x 0.0002 = 0.01236188
      expect([f.px[0], f.qty[0], f.liquidity[0], f.fee[0]]).toEqual([618_004, 1, 1, 1_236_008]);
      expect([f.px[1], f.qty[1], f.liquidity[1], f.fee[1]]).toEqual([618_094, 1, 1, 1_236_188]);
    }, 120_000);

    it('takes the rates from the config file when --fee is absent, per instrument', () => {
      const out = mkdtempSync(join(tmpdir(), 'bot4-fee-'));
      const cfg = join(out, 'bot4.json');
      writeFileSync(
        cfg,
        JSON.stringify({
          fees: {
            default: { preset: 'binance-spot-vip0' },
            instruments: { 'BTC-PERP.FTX': { preset: 'binance-usdm-vip0' } },
          },
        }),
      );
      const args = [
        '--param',
        'instrument=BTC-PERP',
        '--param',
        'qty=0.5',
        '--param',
        'fast=10',
        '--param',
        'slow=30',
      ];
      const r = bot4([
        '--config',
        cfg,
        'backtest',
        '--data',
        CANDLES,
        ...args,
        '--to',
        '2022-01-01T06:00:00Z',
        '--balance',
        '100000USD',
        '--out',
        out,
        '--no-progress',
      ]);
      expect(r.code, r.stderr).toBe(0);
      const rep = report(out);
      expect(rep.instruments[0]).toMatchObject({
        takerFee: '0.0005',
        feeSource: 'binance-usdm-vip0 via fees.instruments.BTC-PERP.FTX',
      });
      expect(rep.stats.fees).toBe(28_029_068_750);
    }, 120_000);
  },
);
