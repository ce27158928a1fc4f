import type { BacktestOptions } from '../src/backtest/runner.ts';
import { replayFiles } from '../src/data/replay.ts';
import { type InstrumentRegistry, newInstrumentRegistry } from '../src/model/instrument.ts';
import { DeltaFlag, EventBatch, RecordKind } from '../src/model/market-data.ts';
import { EmaCross } from '../src/strategy/builtin/ema-cross.ts';
import { MarketMaker } from '../src/strategy/builtin/market-maker.ts';
import { sharedDataFile } from './harness.ts';

export const USDM_CAPTURES = ['hftbacktest/usdm/btcusdt_20240808.gz', 'hftbacktest/usdm/ethusdt_20240808.gz'];

/** The capture files, or a message saying which one is missing. */
export function captureFiles(): { files: string[] } | { missing: string } {
  const files: string[] = [];
  for (const rel of USDM_CAPTURES) {
    const f = sharedDataFile(rel);
    if (f === undefined)
      return { missing: `../shared/data/${rel} not found (see shared/data/README.md section 1)` };
    files.push(f);
  }
  return { files };
}

export interface LoadedMarket {
  instruments: InstrumentRegistry;
  batches: EventBatch[];
  /** Events in one pass over the captures. */
  events: number;
  /** Time one loop adds to every timestamp: the capture's span plus one second, micros. */
  span: number;
}

/** Loads the captures once (merged in venue-time order), as owned copies of the replay's batches. */
export async function loadMarket(files: readonly string[], batchSize = 65_536): Promise<LoadedMarket> {
  const instruments = newInstrumentRegistry();
  const { stream } = replayFiles(files, { instruments, outputBatchSize: batchSize });
  const batches: EventBatch[] = [];
  let events = 0;
  const seenDelta = new Set<number>();
  for await (const b of stream) {
    const copy = new EventBatch(b.length);
    for (let i = 0; i < b.length; i++) {
      copy.copyRow(b, i);
      const id = b.instrument[i]!;
      if (b.kind[i] === RecordKind.DELTA && !seenDelta.has(id)) {
        seenDelta.add(id);
        copy.d[i] = copy.d[i]! | DeltaFlag.CLEAR;
      }
    }
    events += b.length;
    batches.push(copy);
  }
  const first = batches[0]!.tsEvent[0]!;
  const lastBatch = batches[batches.length - 1]!;
  const last = lastBatch.tsEvent[lastBatch.length - 1]!;
  return { instruments, batches, events, span: last - first + 1_000_000 };
}

/**
 * The loaded market replayed `loops` times, shifting timestamps in place between loops (a pass over two
 * Float64Arrays per batch, a few ms per loop: counted in the run's time, it is part of feeding the engine).
 * Restores the original times when the iteration ends, so runs are repeatable.
 */
export function* looped(market: LoadedMarket, loops: number): Generator<EventBatch> {
  let offset = 0;
  try {
    for (let l = 0; l < loops; l++) {
      if (l > 0) {
        shift(market.batches, market.span);
        offset += market.span;
      }
      for (const b of market.batches) yield b;
    }
  } finally {
    if (offset !== 0) shift(market.batches, -offset);
  }
}

function shift(batches: readonly EventBatch[], by: number): void {
  for (const b of batches) {
    const te = b.tsEvent;
    const ti = b.tsInit;
    for (let i = 0; i < b.length; i++) {
      te[i] = te[i]! + by;
      ti[i] = ti[i]! + by;
    }
  }
}

/**
 * The strategies of the real-L2 runs: an Avellaneda-Stoikov market maker quoting BTCUSDT from the L2 book
 * (post-only quotes amended on book changes: resting fills, queue position, modifies) and an EMA cross
 * trading ETHUSDT on quote mids (market orders). New instances per run: strategies hold state.
 */
export function realL2Strategies(): BacktestOptions['strategies'] {
  return [
    { strategy: new MarketMaker({ instrument: 'BTCUSDT', qty: 0.01 }) },
    { strategy: new EmaCross({ instrument: 'ETHUSDT', source: 'quote', fast: 50, slow: 200, qty: 0.1 }) },
  ];
}
