// A seeded synthetic market for the demo backtest and for benchmarks on a fresh machine with no data:
// best bid/ask quotes and trades with realistic microstructure (volatility clustering, a spread that widens
// with volatility, lognormal sizes, clustered trade arrivals, aggressor side leading the next move).
// Deterministic: the same seed gives the same stream, bit for bit. Prices in ticks, sizes in lots, time in micros.

import type { Micros } from '../core/units.ts';
import type { InstrumentSpec } from '../model/instrument.ts';
import { InstrumentKind } from '../model/instrument.ts';
import { EventBatch, RecordKind, Side } from '../model/market-data.ts';

/** The demo instrument: a BTCUSDT-like perpetual on a simulated venue. */
export const DEMO_INSTRUMENT: InstrumentSpec = {
  symbol: 'BTCUSDT',
  venue: 'DEMO',
  kind: InstrumentKind.PERPETUAL,
  base: 'BTC',
  quote: 'USDT',
  settlement: 'USDT',
  tickSize: '0.1',
  lotSize: '0.001',
  minQty: '0.001',
  maxQty: '1000',
  minNotional: '5',
  makerFee: '0.0002',
  takerFee: '0.0005',
};

/** Where the demo market starts unless told otherwise: 2024-01-01 00:00 UTC, micros. */
export const DEMO_START = Date.UTC(2024, 0, 1) * 1000;

export interface DemoMarketOptions {
  seed?: number;
  /** Start time (micros since epoch); default 2024-01-01T00:00:00Z. */
  start?: number;
  /** Simulated duration in micros; default one day. */
  duration?: number;
  /** Starting mid price in ticks; default 600_000 (60,000.0). */
  startPx?: number;
  /** Mean time between market events in micros; default 50 ms. */
  meanGapMicros?: number;
  /** Annualised volatility of the mid; default 0.6 (60%). */
  annualVol?: number;
  /** Rows per emitted batch; default 65,536. */
  batchSize?: number;
}

/** sfc32: small, fast, and good enough for market simulation; seeded through splitmix32. */
export class Rng {
  private a = 0;
  private b = 0;
  private c = 0;
  private d = 1;

  constructor(seed: number) {
    let s = seed >>> 0;
    const next = () => {
      s = (s + 0x9e3779b9) | 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.a = next();
    this.b = next();
    this.c = next();
    this.d = next();
    for (let i = 0; i < 12; i++) this.next();
  }

  /** Uniform in [0, 1). */
  next(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return (t >>> 0) / 4294967296;
  }

  /** Standard normal (Box-Muller; one value per call keeps the stream simple to reproduce). */
  normal(): number {
    const u = 1 - this.next();
    const v = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  exponential(mean: number): number {
    return -Math.log(1 - this.next()) * mean;
  }
}

const YEAR_MICROS = 365 * 86_400_000_000;

/**
 * Streams the demo market as EventBatch chunks of QUOTE and TRADE rows for one instrument id, in time order.
 * The batch object is reused: consume each before asking for the next.
 */
export function* demoMarket(instrumentId: number, options: DemoMarketOptions = {}): Generator<EventBatch> {
  const rng = new Rng(options.seed ?? 42);
  const start = options.start ?? DEMO_START;
  const end = start + (options.duration ?? 86_400_000_000);
  const meanGap = options.meanGapMicros ?? 50_000;
  const baseVol = options.annualVol ?? 0.6;
  const batch = new EventBatch(options.batchSize ?? 65_536);

  let t = start;
  let mid = options.startPx ?? 600_000; // in ticks, as a double: the quote rounds it
  let varRatio = 1; // GARCH-like variance multiplier: shocks raise it, it decays back to 1
  let lastBid = 0;
  let lastAsk = 0;
  let tradeId = 1;
  let intensity = 1; // trade-arrival clustering (self-exciting, decaying)
  let flow = 0; // recent signed order flow, leads the next move

  while (t < end) {
    const gap = rng.exponential(meanGap / intensity);
    t += Math.max(1, Math.round(gap));
    if (t >= end) break;
    const dtYears = gap / YEAR_MICROS;
    const sigma = baseVol * Math.sqrt(varRatio);
    const shock = rng.normal();
    // Log-return on the mid, nudged by recent aggressor flow (informed trading).
    mid *= Math.exp(sigma * Math.sqrt(dtYears) * shock + 2e-8 * flow);
    // GARCH(1,1) on the variance ratio: persistence 0.9995, long-run mean 1.
    varRatio = Math.min(25, 0.0005 + 0.9975 * varRatio + 0.002 * varRatio * shock * shock);
    if (varRatio < 0.2) varRatio = 0.2;
    flow *= 0.95;
    intensity = 1 + (intensity - 1) * 0.97;

    // Spread in ticks: 1 most of the time, wider when volatile.
    const spread = 1 + Math.floor(rng.exponential(0.3 * Math.sqrt(varRatio)));
    const bid = Math.floor(mid - spread / 2);
    const ask = bid + spread;
    // Trades hit the book as displayed (the last quote), not the mid's new position.
    const isTrade = lastBid > 0 && rng.next() < 0.3;
    if (isTrade) {
      // The aggressor more often trades in the direction of the last move.
      const buy = rng.next() < 0.5 + 0.15 * Math.tanh(shock);
      const qty = 1 + Math.floor(Math.exp(rng.normal() * 1.2 + 1.5));
      push(
        batch,
        RecordKind.TRADE,
        instrumentId,
        t,
        buy ? lastAsk : lastBid,
        qty,
        buy ? Side.BUY : Side.SELL,
        0,
        tradeId++,
      );
      flow += buy ? qty : -qty;
      intensity += 0.1;
    } else if (bid !== lastBid || ask !== lastAsk || rng.next() < 0.5) {
      const bidQty = 1 + Math.floor(Math.exp(rng.normal() + 3));
      const askQty = 1 + Math.floor(Math.exp(rng.normal() + 3));
      push(batch, RecordKind.QUOTE, instrumentId, t, bid, bidQty, ask, askQty, 0);
      lastBid = bid;
      lastAsk = ask;
    }
    if (batch.full) {
      yield batch;
      batch.clear();
    }
  }
  if (batch.length > 0) yield batch;
}

function push(
  b: EventBatch,
  kind: RecordKind,
  instrument: number,
  t: number,
  a: number,
  bq: number,
  c: number,
  d: number,
  seq: number,
): void {
  b.push(kind, instrument, t as Micros, t as Micros, a, bq, c, d, 0, 0, seq);
}
