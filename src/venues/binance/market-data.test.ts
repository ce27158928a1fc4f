import { afterEach, describe, expect, it } from 'vitest';
import type { L2Book } from '../../book/l2-book.ts';
import { LiveClock } from '../../core/clock.ts';
import { waitFor } from '../../core/poll.test-util.ts';
import type { InstrumentId } from '../../core/units.ts';
import { newInstrumentRegistry } from '../../model/instrument.ts';
import type { QuoteTick, TradeTick } from '../../model/market-data.ts';
import { CaptureVenue, captureFrames, SKIP_NO_DATA, topLevels } from './capture-feed.test-util.ts';
import { knownBinanceSpec } from './known-instruments.ts';
import { BinanceMarketData, type MarketDataEvent, type MarketDataSink } from './market-data.ts';
import { BinanceRest } from './rest.ts';

const FRAMES = SKIP_NO_DATA ? [] : captureFrames('spot/btcusdt_20240808.gz', 3_000);

class Sink implements MarketDataSink {
  quotes = 0;
  trades = 0;
  books = 0;
  crossed = 0;
  lastBid = 0;
  onQuote(q: QuoteTick): void {
    this.quotes++;
    this.lastBid = q.bidPx;
  }
  onTrade(_t: TradeTick): void {
    this.trades++;
  }
  onBook(_id: InstrumentId, book: L2Book): void {
    this.books++;
    if (book.crossed()) this.crossed++;
  }
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

async function setup() {
  const reg = newInstrumentRegistry();
  const inst = reg.add(knownBinanceSpec('spot', 'BTCUSDT')!);
  const venue = new CaptureVenue(FRAMES, inst);
  const urls = await venue.listen();
  const sink = new Sink();
  const events: MarketDataEvent[] = [];
  const md = new BinanceMarketData({
    wsBaseUrl: urls.ws,
    rest: new BinanceRest({ baseUrl: urls.http }),
    market: 'spot',
    instruments: [inst],
    sink,
    clock: new LiveClock(),
    onEvent: (e) => events.push(e),
    connection: { backoffInitialMs: 10 },
  });
  cleanups.push(async () => {
    await md.stop();
    await venue.close();
  });
  await md.start();
  await waitFor(() => venue.openSockets === 1, 'the venue to see the connection');
  return { inst, venue, sink, md, events };
}

/** Sends frames in chunks, letting the client read them, until `n` are sent. */
async function play(venue: CaptureVenue, md: BinanceMarketData, n: number): Promise<void> {
  for (let sent = 0; sent < n; sent += 100) {
    const before = md.stats.messages;
    const k = Math.min(100, n - sent, venue.remaining);
    if (k === 0) return;
    const m = venue.send(k);
    await waitFor(() => md.stats.messages >= before + m, `the client to read ${m} frames`);
  }
}

describe.skipIf(SKIP_NO_DATA)('Binance market data over a combined stream (real spot capture)', () => {
  it('syncs the book from snapshot + diffs and keeps it equal to the venue book', async () => {
    const { inst, venue, sink, md } = await setup();
    await play(venue, md, 1_000);
    await waitFor(() => md.inSync(inst.id), 'the book to be in sync');
    await play(venue, md, 1_000);
    expect(topLevels(md.book(inst.id)!, 50)).toEqual(topLevels(venue.book, 50));
    expect(md.stats.gaps).toBe(0);
    expect(md.stats.crossed).toBe(0);
    expect(sink.crossed).toBe(0);
    expect(sink.quotes).toBeGreaterThan(500);
    expect(sink.trades).toBeGreaterThan(50);
    expect(sink.books).toBeGreaterThan(10);
    expect(md.stats.malformed + md.stats.badValue + md.stats.noInstrument).toBe(0);
  }, 20_000);

  it('detects an injected sequence gap, fetches a new snapshot and is equal to the venue again', async () => {
    const { inst, venue, md, events } = await setup();
    await play(venue, md, 600);
    await waitFor(() => md.inSync(inst.id), 'the first sync');
    const snaps = venue.snapshotsServed;
    venue.gapNextDepth();
    await play(venue, md, 600);
    await waitFor(() => md.inSync(inst.id), 'the resync after the gap');
    await play(venue, md, 300);
    expect(venue.skipped).toBe(1);
    expect(md.stats.gaps).toBe(1);
    expect(venue.snapshotsServed).toBeGreaterThan(snaps);
    expect(events.some((e) => e.kind === 'resync' && e.reason.startsWith('sequence gap'))).toBe(true);
    expect(topLevels(md.book(inst.id)!, 50)).toEqual(topLevels(venue.book, 50));
    expect(md.stats.crossed).toBe(0);
  }, 20_000);

  it('reconnects after the connection drops mid-stream, resyncs and publishes no crossed book', async () => {
    const { inst, venue, sink, md } = await setup();
    await play(venue, md, 600);
    await waitFor(() => md.inSync(inst.id), 'the first sync');
    venue.dropAll();
    venue.send(200); // frames sent while the client is away are lost to it
    await waitFor(() => venue.openSockets === 1, 'the reconnect', 5_000);
    await play(venue, md, 600);
    await waitFor(() => md.inSync(inst.id), 'the resync after the reconnect');
    await play(venue, md, 200);
    expect(md.supervisor.reconnects).toBe(1);
    expect(topLevels(md.book(inst.id)!, 50)).toEqual(topLevels(venue.book, 50));
    expect(sink.crossed).toBe(0);
  }, 20_000);

  it('counts malformed, truncated and unknown frames and carries on', async () => {
    const { inst, venue, md } = await setup();
    await play(venue, md, 300);
    const before = md.stats.messages;
    venue.sendRaw('{"stream":"btcusdt@bookTicker","data":{"u":1,"s":"BTCUSDT","b":"6'); // truncated
    venue.sendRaw('not json at all');
    venue.sendRaw('{"result":null,"id":1}');
    venue.sendRaw(
      '{"stream":"btcusdt@bookTicker","data":{"u":2,"s":"BTCUSDT","b":"1.0000001","B":"1","a":"2","A":"1"}}',
    );
    await waitFor(() => md.stats.messages === before + 4, 'the four bad frames');
    expect(md.stats.malformed).toBe(2);
    expect(md.stats.unknown).toBe(1);
    expect(md.stats.badValue).toBe(1);
    await play(venue, md, 300);
    await waitFor(() => md.inSync(inst.id), 'sync after the bad frames');
    expect(md.supervisor.reconnects).toBe(0);
  }, 20_000);
});
