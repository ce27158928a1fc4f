// Why a run traded nothing, in words: what reached each strategy (quotes, trades, books, bars, and bars
// dropped for another interval), whether its warm-up completed, and whether its orders reached the venue.
// Built from the strategy hosts' counters; denials are the risk monitor's note (src/risk/risk-monitor.ts),
// which counts every denied order by reason, so they are not said twice.

import type { StrategyHost } from '../strategy/host.ts';

const UNITS: readonly [number, string][] = [
  [86_400_000_000, 'd'],
  [3_600_000_000, 'h'],
  [60_000_000, 'm'],
  [1_000_000, 's'],
];

/** 60_000_000 -> '1m'; micros that fit no unit stay micros. */
export function intervalText(micros: number): string {
  for (const [u, name] of UNITS) if (micros % u === 0) return `${micros / u}${name}`;
  return `${micros} µs`;
}

function count(n: number, one: string, many = `${one}s`): string {
  return `${n.toLocaleString('en-US')} ${n === 1 ? one : many}`;
}

export interface RunFacts {
  readonly hosts: readonly StrategyHost[];
  /** Orders denied by risk or the engine's own checks (the risk monitor's count). */
  readonly denied: number;
  /** Orders the engine sent on to a venue (passed risk). */
  readonly submitted: number;
  readonly fills: number;
  /** Market-data records replayed. */
  readonly events: number;
}

/** Notes explaining a run without fills (empty when something filled): one line per finding. */
export function noTradeNotes(f: RunFacts): string[] {
  if (f.fills > 0) return [];
  const notes: string[] = [];
  for (const h of f.hosts) {
    const d = h.delivered;
    const s = h.subscriptions;
    const got: string[] = [];
    if (s.quotes.length > 0) got.push(count(d.quotes, 'quote'));
    if (s.trades.length > 0) got.push(count(d.trades, 'trade'));
    if (s.books.length > 0) got.push(count(d.books, 'book update'));
    for (const b of s.bars)
      got.push(`${count(d.bars, 'bar')} (${intervalText(b.intervalMicros)} ${b.instrument.key})`);
    const w = h.strategy.warmUp();
    const warm =
      w === undefined
        ? ''
        : w.done
          ? '; its warm-up completed'
          : `; its warm-up did not complete${w.needed === undefined ? '' : ` (it needs ${w.needed})`}`;
    notes.push(
      `no trades: of ${count(f.events, 'market-data record')}, ${h.name} received ${got.join(', ') || 'nothing it subscribes to'}${warm}`,
    );
    if (d.otherIntervalBars > 0) {
      const want = [...new Set(s.bars.map((b) => intervalText(b.intervalMicros)))].join(', ');
      notes.push(
        `${h.name} subscribes to ${want} bars but the data's bars are ${intervalText(d.otherInterval)}: ` +
          `${count(d.otherIntervalBars, 'bar')} did not reach it (set its interval parameter to ${intervalText(d.otherInterval)}, or give ${want} data)`,
      );
    }
  }
  if (f.submitted > 0) notes.push(`${count(f.submitted, 'order')} reached the simulated venue, none filled`);
  else if (f.denied === 0) notes.push('the strategy placed no order');
  return notes;
}
