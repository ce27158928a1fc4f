// Child process of the backtest peak-memory benchmark: loads the real L2 captures, runs the full engine over
// them looped to at least the requested event count, and prints one JSON line with the process's peak RSS
// (process.resourceUsage().maxRSS: the kernel's high-water mark, like /usr/bin/time), the RSS once the data
// was loaded (what the in-memory data set costs), and the peak RSS and heap sampled at every batch of the run.
// The process peak includes loading (gunzip, parse, merge); the run's own peak is the engine's.
// Usage: node --expose-gc [--import tsx] bench/backtest.memory.ts <events>

import { runBacktest } from '../src/backtest/runner.ts';
import type { EventBatch } from '../src/model/market-data.ts';
import { captureFiles, loadMarket, looped, realL2Strategies } from './backtest.data.ts';

export interface MemoryReport {
  events: number;
  /** Peak resident set size of the whole process, bytes. */
  maxRss: number;
  /** RSS after the captures were loaded, before the run, and the highest RSS sampled during the run, bytes. */
  rssLoaded: number;
  rssPeakRun: number;
  /** Highest heapUsed seen at a batch boundary during the run, and heapUsed before it, bytes. */
  heapPeak: number;
  heapBefore: number;
  /** Bytes of typed arrays holding the loaded data (outside the JS heap). */
  dataBytes: number;
  fingerprint: string;
}

const target = Number(process.argv[2] ?? '10000000');
const c = captureFiles();
if (!('files' in c)) {
  process.stdout.write(`${JSON.stringify({ skipped: c.missing })}\n`);
} else {
  const market = await loadMarket(c.files);
  (globalThis as { gc?: () => void }).gc?.();
  const mem0 = process.memoryUsage();
  let heapPeak = mem0.heapUsed;
  let rssPeak = mem0.rss;
  const loops = Math.ceil(target / market.events);
  // Samples the heap as each batch goes in: the run's high-water mark at 64k-event resolution.
  function* sampled(src: Iterable<EventBatch>): Generator<EventBatch> {
    for (const b of src) {
      const m = process.memoryUsage();
      if (m.heapUsed > heapPeak) heapPeak = m.heapUsed;
      if (m.rss > rssPeak) rssPeak = m.rss;
      yield b;
    }
  }
  const res = await runBacktest({
    strategies: realL2Strategies(),
    instruments: market.instruments,
    data: sampled(looped(market, loops)),
    dataLabel: `usdm captures x${loops}`,
    balances: [{ currency: 'USDT', amount: '1000000' }],
  });
  const end = process.memoryUsage();
  heapPeak = Math.max(heapPeak, end.heapUsed);
  rssPeak = Math.max(rssPeak, end.rss);
  const report: MemoryReport = {
    events: res.events,
    maxRss: process.resourceUsage().maxRSS * 1024,
    rssLoaded: mem0.rss,
    rssPeakRun: rssPeak,
    heapPeak,
    heapBefore: mem0.heapUsed,
    dataBytes: market.batches.reduce((s, b) => s + b.capacity * (1 + 4 + 10 * 8), 0),
    fingerprint: res.fingerprint,
  };
  process.stdout.write(`${JSON.stringify(report)}\n`);
}
