// Portfolio benchmarks: one fill applied (position, cost basis, realised PnL, balances, margin, exposure), on
// a precomputed tape of alternating buys and sells that nets to zero over each pass, so positions reduce,
// close and flip and realisation happens. The tape lives in typed arrays; the measured loop only applies fills.

import { MessageBus } from '../src/core/message-bus.ts';
import type { Micros } from '../src/core/units.ts';
import { moneyFromDecimal } from '../src/model/currency.ts';
import {
  type Instrument,
  InstrumentKind,
  type InstrumentSpec,
  LiquiditySide,
  newInstrumentRegistry,
} from '../src/model/instrument.ts';
import { OrderSide } from '../src/model/order.ts';
import { AccountType } from '../src/portfolio/account.ts';
import { Portfolio } from '../src/portfolio/portfolio.ts';
import type { PositionEvent } from '../src/portfolio/position.ts';
import { COINM_BTCUSD, SPOT_BTCUSDT, USDM_BTCUSDT } from '../src/portfolio/testing.ts';
import { type BenchContext, type BenchSpec, type Measurement, measure } from './harness.ts';

const TAPE = 4096;
/** 2024-07-26T13:20:00Z in micros. */
const T0 = 1_722_000_000_000_000;
const MASK = TAPE - 1;

interface Tape {
  side: Uint8Array;
  qty: Float64Array;
  px: Float64Array;
  fee: Float64Array;
}

/**
 * Alternating sides, 1..maxQty lots, a random walk of prices around `mid` ticks. The second half repeats the
 * first half's sizes with sides swapped, so each pass nets to zero and the position stays bounded however
 * many passes the measurement makes. Fees at the maker rate (keeps the balance far from 2^53 in long runs).
 */
function makeTape(inst: Instrument, mid: number, step: number, maxQty: number): Tape {
  let seed = 12345;
  const rnd = () => {
    seed = (seed * 1103515245 + 12345) >>> 0;
    return seed / 2 ** 32;
  };
  const t: Tape = {
    side: new Uint8Array(TAPE),
    qty: new Float64Array(TAPE),
    px: new Float64Array(TAPE),
    fee: new Float64Array(TAPE),
  };
  let px = mid;
  const half = TAPE / 2;
  for (let i = 0; i < TAPE; i++) {
    const first = i < half;
    const j = first ? i : i - half;
    const buy = (j % 2 === 0) === first;
    const qty = first ? 1 + Math.floor(rnd() * maxQty) : t.qty[j]!;
    px = Math.max(mid - 200 * step, Math.min(mid + 200 * step, px + Math.round((rnd() - 0.5) * 4) * step));
    t.side[i] = buy ? OrderSide.BUY : OrderSide.SELL;
    t.qty[i] = qty;
    t.px[i] = px;
    t.fee[i] = inst.fee(px, qty, LiquiditySide.MAKER);
  }
  return t;
}

function setup(spec: InstrumentSpec, bus?: MessageBus): { pf: Portfolio; inst: Instrument } {
  const reg = newInstrumentRegistry();
  const inst = reg.add(spec);
  const pf = new Portfolio(bus === undefined ? {} : { bus });
  const cur = inst.settlement;
  const isSpot = spec.kind === InstrumentKind.SPOT;
  pf.addAccount({
    venue: spec.venue,
    type: isSpot ? AccountType.CASH : AccountType.MARGIN,
    balances: [
      { currency: cur, amount: moneyFromDecimal(isSpot ? '1000000' : '100000', cur) },
      ...(isSpot ? [{ currency: inst.base, amount: moneyFromDecimal('100', inst.base) }] : []),
    ],
  });
  pf.register(inst);
  return { pf, inst };
}

/** Measures applyFill over the tape; throws if any fill was refused (the figure would be meaningless). */
async function measureFills(
  ctx: BenchContext,
  pf: Portfolio,
  inst: Instrument,
  tape: Tape,
): Promise<Measurement> {
  const { side, qty, px, fee } = tape;
  const feeCurrency = inst.settlement.id;
  // Typed-array accumulators: a captured `let` double would be re-boxed (allocated) on every write.
  const state = new Float64Array(2); // [refused fills, next ts]
  // Real microsecond timestamps (past the small-integer range), as fills carry them.
  state[1] = T0;
  const m = await measure(ctx, (n) => {
    let ts = state[1]!;
    let bad = 0;
    for (let i = 0; i < n; i++) {
      const k = i & MASK;
      bad += pf.applyFill(inst, side[k] as OrderSide, qty[k]!, px[k]!, fee[k]!, feeCurrency, ts++ as Micros);
    }
    state[0]! += bad;
    state[1] = ts;
    return bad;
  });
  if (state[0] !== 0) throw new Error(`portfolio bench: ${state[0]} fills refused on ${inst.key}`);
  return m;
}

export const benches: BenchSpec[] = [
  {
    id: 'portfolio.fill.apply',
    title:
      'Portfolio: apply one fill (USD-M perp, netting; position, realised PnL, balance, margin, exposure)',
    unit: 'ns/op',
    better: 'lower',
    target: null,
    targetSource: 'issue 3 asks for the figure only (no target); GC must be 0',
    async run(ctx) {
      const { pf, inst } = setup(USDM_BTCUSDT);
      const main = await measureFills(ctx, pf, inst, makeTape(inst, 600_000, 1, 50));
      const pos = pf.position(inst.id)!;
      const extra: Record<string, number | string> = {
        fills_applied: pf.fillCount,
        final_qty_lots: pos.qty,
      };

      const inv = setup(COINM_BTCUSD);
      const mi = await measureFills(ctx, inv.pf, inv.inst, makeTape(inv.inst, 600_000, 1, 50));
      extra.inverse_ns = Number(mi.median.toFixed(1));
      extra.inverse_gc = mi.gc;

      const spot = setup(SPOT_BTCUSDT);
      const ms = await measureFills(ctx, spot.pf, spot.inst, makeTape(spot.inst, 6_000_000, 10, 500));
      extra.spot_cash_ns = Number(ms.median.toFixed(1));
      extra.spot_cash_gc = ms.gc;

      const bus = new MessageBus();
      const seen = new Float64Array(1);
      const withBus = setup(USDM_BTCUSDT, bus);
      bus.subscribe(withBus.pf.positionTopic!, (e: PositionEvent) => {
        seen[0]! += e.amount;
      });
      bus.subscribe(withBus.pf.accountTopic!, () => {
        seen[0]! += 1;
      });
      const mb = await measureFills(ctx, withBus.pf, withBus.inst, makeTape(withBus.inst, 600_000, 1, 50));
      extra.with_bus_ns = Number(mb.median.toFixed(1));
      extra.with_bus_gc = mb.gc;
      return { main, extra };
    },
  },
];
