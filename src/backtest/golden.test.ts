// Golden backtests on real data: the same captured market and strategy must give the same event log
// (fingerprint) and figures, run after run and version after version. A deliberate change to fills, fees or
// the engine's event order changes these pins: update them in the same commit and say why.
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { present } from '../core/test-resources.ts';
import { primedReplay } from '../data/replay.ts';
import { currency } from '../model/currency.ts';
import { newInstrumentRegistry } from '../model/instrument.ts';
import { EmaCross } from '../strategy/builtin/ema-cross.ts';
import { runBacktest } from './runner.ts';

const DATA = fileURLToPath(new URL('../../../shared/data/', import.meta.url));
const USDM = `${DATA}hftbacktest/usdm/btcusdt_20240808.gz`;

async function goldenRun() {
  const instruments = newInstrumentRegistry();
  return runBacktest({
    strategies: [
      { strategy: new EmaCross({ instrument: 'BTCUSDT', source: 'quote', fast: 50, slow: 200, qty: 0.01 }) },
    ],
    instruments,
    data: await primedReplay([USDM], { instruments }),
    dataLabel: 'usdm btcusdt 2024-08-08',
    balances: [{ currency: 'USDT', amount: '10000' }],
  });
}

describe.skipIf(!present(USDM, 'a Binance USD-M capture'))(
  `golden backtest on ${USDM} (skipped when ../shared/data is absent)`,
  () => {
    it('EMA cross on the USD-M BTCUSDT capture: pinned fingerprint, fills and exact reconciliation', async () => {
      const r = await goldenRun();
      const usdt = currency('USDT');
      expect(r.events).toBe(532_992);
      expect(r.recording.fills.length).toBe(138);
      expect(r.fingerprint).toBe('826a9089728cb612');
      const pf = r.portfolio;
      expect(pf.balance(usdt.id) - 10_000e8).toBe(
        pf.realisedPnl(usdt.id) - pf.fees(usdt.id) - pf.funding(usdt.id),
      );
    }, 120_000);
  },
);
