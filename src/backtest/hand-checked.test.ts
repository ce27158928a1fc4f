// A backtest small enough to check by hand: six hand-built quotes and two trades, a scripted strategy placing
// market and limit orders, and every fill price, quantity, fee, realised PnL and the final balance worked out
// below in integer units (ticks of 0.1, lots of 0.001 BTC, USDT money units of 1e-8) before the engine runs.
// Fees: taker 0.05%, maker 0.02%, rounded half-up once per fill (all figures below are exact, no rounding).
import { describe, expect, it } from 'vitest';
import { currency } from '../model/currency.ts';
import { InstrumentKind, LiquiditySide, newInstrumentRegistry } from '../model/instrument.ts';
import { EventBatch, type QuoteTick, RecordKind, Side } from '../model/market-data.ts';
import { OrderSide } from '../model/order.ts';
import { Strategy, type Subscriptions } from '../strategy/strategy.ts';
import { runBacktest } from './runner.ts';

const T0 = 1_722_470_400_000_000; // 2024-08-01T00:00:00Z, micros: no funding time inside the run
const S = 1_000_000; // one second, micros
const USDT = 100_000_000; // money units per USDT

/** Places the script's orders on the n-th quote it sees (1-based). Integer forms: ticks and lots. */
class HandScript extends Strategy {
  static override readonly params = {};
  private n = 0;
  private id = 0 as ReturnType<Strategy['instrument']>['id'];

  override subscriptions(): Subscriptions {
    return { quotes: ['BTCUSDT'] };
  }

  override onStart(): void {
    this.id = this.instrument('BTCUSDT').id;
  }

  override onQuote(_q: QuoteTick): void {
    this.n++;
    if (this.n === 1) {
      this.submitMarket(this.id, OrderSide.BUY, 100); // buy 0.100 at market
      this.submitLimit(this.id, OrderSide.SELL, 50, 600_100); // rest: sell 0.050 @ 60010.0
    } else if (this.n === 3) {
      this.submitMarket(this.id, OrderSide.SELL, 50); // close the rest: sell 0.050 at market
    } else if (this.n === 4) {
      this.submitMarket(this.id, OrderSide.BUY, 300); // buy 0.300: more than the 0.200 offered
    } else if (this.n === 6) {
      this.submitLimit(this.id, OrderSide.SELL, 300, 600_010); // rest: sell 0.300 @ 60001.0
    }
  }
}

function handMarket(instrumentId: number): EventBatch {
  const b = new EventBatch(16);
  // quote: a bidPx, b bidQty, c askPx, d askQty; trade: a px, b qty, c aggressor.
  const quote = (ts: number, bid: number, bidQty: number, ask: number, askQty: number) =>
    b.push(RecordKind.QUOTE, instrumentId, ts, ts, bid, bidQty, ask, askQty);
  const trade = (ts: number, px: number, qty: number, aggressor: number) =>
    b.push(RecordKind.TRADE, instrumentId, ts, ts, px, qty, aggressor);
  quote(T0, 600_000, 1_000, 600_005, 1_000); //          q1 60000.0 / 60000.5 (1.000 each)
  quote(T0 + 1 * S, 600_050, 1_000, 600_055, 1_000); // q2 60005.0 / 60005.5
  trade(T0 + 2 * S, 600_105, 200, Side.BUY); //          a buyer lifts 0.200 @ 60010.5, through our 60010.0
  quote(T0 + 3 * S, 599_900, 1_000, 599_905, 1_000); // q3 59990.0 / 59990.5
  quote(T0 + 4 * S, 599_950, 500, 599_955, 200); //      q4 59995.0 / 59995.5 (only 0.200 offered)
  quote(T0 + 5 * S, 599_960, 1_000, 599_965, 1_000); // q5 59996.0 / 59996.5
  quote(T0 + 6 * S, 599_970, 1_000, 599_975, 1_000); // q6 59997.0 / 59997.5
  trade(T0 + 7 * S, 600_015, 1_000, Side.BUY); //        a buyer lifts 1.000 @ 60001.5, through our 60001.0
  quote(T0 + 8 * S, 600_000, 1_000, 600_005, 1_000); //  q7 60000.0 / 60000.5: ends flat, mark moves nothing
  return b;
}

describe('hand-checked backtest', () => {
  it('fills, fees, realised PnL and the final balance match the arithmetic by hand', async () => {
    const instruments = newInstrumentRegistry();
    const inst = instruments.add({
      symbol: 'BTCUSDT',
      venue: 'HAND',
      kind: InstrumentKind.PERPETUAL,
      base: 'BTC',
      quote: 'USDT',
      settlement: 'USDT',
      tickSize: '0.1',
      lotSize: '0.001',
      minQty: '0.001',
      makerFee: '0.0002',
      takerFee: '0.0005',
    });
    const r = await runBacktest({
      strategies: [{ strategy: new HandScript() }],
      instruments,
      data: [handMarket(inst.id)],
      dataLabel: 'hand-built quotes and trades',
      // Enough that risk (leverage 1) lets the 0.300 BTC buy, about 18,000 USDT, through.
      balances: [{ currency: 'USDT', amount: '100000' }],
    });
    expect(r.events).toBe(9);
    expect(r.engine.stats.denied).toBe(0);

    // Orders arrive with zero latency at the time they were sent and fill on the venue's book as it was then
    // (L1: the displayed best quote), before the next record is handled.
    const expected = [
      // 1. market buy 0.100 at q1's ask 60000.5 (taker). Notional 0.1 * 60000.5 = 6000.05 USDT;
      //    fee 6000.05 * 0.0005 = 3.000025 USDT. Opens long 0.100, cost 6000.05.
      { ts: T0, side: 1, qty: 100, px: 600_005, liq: LiquiditySide.TAKER, fee: 300_002_500, realised: 0 },
      // 2. resting sell 0.050 @ 60010.0: the trade at 60010.5 went through it, so it fills in full at its own
      //    price (maker). Notional 3000.5; fee 3000.5 * 0.0002 = 0.6001. Half the cost leaves: 3000.025;
      //    realised 3000.5 - 3000.025 = 0.475 USDT.
      {
        ts: T0 + 2 * S,
        side: -1,
        qty: 50,
        px: 600_100,
        liq: LiquiditySide.MAKER,
        fee: 60_010_000,
        realised: 47_500_000,
      },
      // 3. market sell 0.050 at q3's bid 59990.0 (taker). Notional 2999.5; fee 2999.5 * 0.0005 = 1.49975.
      //    Realised 2999.5 - 3000.025 = -0.525 USDT. Flat.
      {
        ts: T0 + 3 * S,
        side: -1,
        qty: 50,
        px: 599_900,
        liq: LiquiditySide.TAKER,
        fee: 149_975_000,
        realised: -52_500_000,
      },
      // 4. market buy 0.300 against q4's ask 59995.5 x 0.200: 0.200 fill there (taker). Notional 11999.1;
      //    fee 11999.1 * 0.0005 = 5.99955. Opens long 0.200, cost 11999.1.
      {
        ts: T0 + 4 * S,
        side: 1,
        qty: 200,
        px: 599_955,
        liq: LiquiditySide.TAKER,
        fee: 599_955_000,
        realised: 0,
      },
      // 5. the remaining 0.100 waits for the next quote and takes q5's ask 59996.5 (taker). Notional 5999.65;
      //    fee 5999.65 * 0.0005 = 2.999825. Long 0.300, cost 11999.1 + 5999.65 = 17998.75.
      {
        ts: T0 + 5 * S,
        side: 1,
        qty: 100,
        px: 599_965,
        liq: LiquiditySide.TAKER,
        fee: 299_982_500,
        realised: 0,
      },
      // 6. resting sell 0.300 @ 60001.0, filled in full by the trade through it at 60001.5 (maker). Notional
      //    18000.3; fee 18000.3 * 0.0002 = 3.60006. Realised 18000.3 - 17998.75 = 1.55 USDT. Flat.
      {
        ts: T0 + 7 * S,
        side: -1,
        qty: 300,
        px: 600_010,
        liq: LiquiditySide.MAKER,
        fee: 360_006_000,
        realised: 155_000_000,
      },
    ];
    const f = r.recording.fills;
    const got = Array.from({ length: f.length }, (_, i) => ({
      ts: f.ts[i],
      side: f.side[i],
      qty: f.qty[i],
      px: f.px[i],
      liq: f.liquidity[i],
      fee: f.fee[i],
      realised: f.realised[i],
    }));
    expect(got).toEqual(expected);

    // Fees: 3.000025 + 0.6001 + 1.49975 + 5.99955 + 2.999825 + 3.60006 = 17.69931 USDT.
    // Realised: 0.475 - 0.525 + 1.55 = 1.5 USDT. No funding (no rate was ever published).
    // Final balance: 100000 + 1.5 - 17.69931 = 99983.80069 USDT.
    const usdt = currency('USDT');
    const pf = r.portfolio;
    expect(pf.fees(usdt.id)).toBe(1_769_931_000);
    expect(pf.realisedPnl(usdt.id)).toBe(150_000_000);
    expect(pf.funding(usdt.id)).toBe(0);
    expect(pf.balance(usdt.id)).toBe(9_998_380_069_000);
    expect(pf.netQty(inst.id)).toBe(0);
    // Reconciliation, exactly in integer money units: final = initial + realised - fees - funding.
    expect(pf.balance(usdt.id)).toBe(
      100_000 * USDT + pf.realisedPnl(usdt.id) - pf.fees(usdt.id) - pf.funding(usdt.id),
    );
    // The per-fill columns add up to the account's totals.
    expect(expected.reduce((s, x) => s + x.fee, 0)).toBe(pf.fees(usdt.id));
    expect(expected.reduce((s, x) => s + x.realised, 0)).toBe(pf.realisedPnl(usdt.id));
    // Two round trips: +0.475 - 0.525 - fees (3.000025 + 0.6001 + 1.49975) and +1.55 - fees (5.99955 +
    // 2.999825 + 3.60006).
    expect(r.recording.trades.map((t) => [t.grossPnl, t.fees, t.netPnl])).toEqual([
      [-5_000_000, 509_987_500, -514_987_500],
      [155_000_000, 1_259_943_500, -1_104_943_500],
    ]);
  });
});
