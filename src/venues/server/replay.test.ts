// The server replaying a real Binance capture (hftbacktest's collector: trades, bookTicker, depth diffs):
// the book clients see is the capture's own depth, and their orders fill against it.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { replayFiles } from '../../data/replay.ts';
import { newInstrumentRegistry } from '../../model/instrument.ts';
import { startExchangeServer } from './server.ts';
import { Collector, rest, waitFor } from './test-client.ts';

const FILE = fileURLToPath(
  new URL('../../../../shared/data/hftbacktest/spot/btcusdt_20240809.gz', import.meta.url),
);
const present = existsSync(FILE);

if (!present && process.env.CI !== undefined) {
  it('has the capture it replays', () => {
    throw new Error(`missing ${FILE}: CI must provide ../shared/data`);
  });
}

describe.skipIf(!present)(`exchange server replaying ${FILE} (skipped when absent)`, () => {
  it('serves the capture depth, streams contiguous diffs and fills a client order against it', async () => {
    const instruments = newInstrumentRegistry();
    const s = await startExchangeServer({
      data: { source: replayFiles([FILE], { instruments }).stream, instruments },
      speed: 'max',
      warmupMs: 60_000,
      accounts: [{ apiKey: 'rk', apiSecret: 'rs' }],
    });
    const c = new Collector(`${s.wsUrl}/ws/btcusdt@depth@100ms`);
    try {
      const m = s.markets.get('BTCUSDT')!;
      expect(m.synth).toBe(false);
      const d = await rest(s.url, 'GET', '/api/v3/depth', { symbol: 'BTCUSDT', limit: 5 });
      expect(d.body.bids).toHaveLength(5);
      expect(Number(d.body.bids[0][0])).toBeLessThan(Number(d.body.asks[0][0]));
      const t = await rest(s.url, 'GET', '/api/v3/trades', { symbol: 'BTCUSDT', limit: 3 });
      expect(t.body).toHaveLength(3);
      await c.open();
      // Diffs go out on a 100 ms wall-clock timer with what accumulated since the last one: wait for each
      // advance's diff before the next, or a fast machine folds all five seconds into one message.
      const diffCount = (): number => c.json.filter((j) => j?.e === 'depthUpdate').length;
      for (let i = 0; i < 5; i++) {
        const before = diffCount();
        await s.advance(1000);
        await waitFor('a depth diff after the market moved a second', () => diffCount() > before, 20_000);
      }
      const diffs = c.json.filter((j) => j?.e === 'depthUpdate');
      for (let i = 1; i < diffs.length; i++) expect(diffs[i].U).toBe(diffs[i - 1].u + 1);
      const qty = m.inst.lotsToQty(Math.max(m.inst.minQty, m.inst.qtyFromFloat(0.001)));
      const r = await rest(
        s.url,
        'POST',
        '/api/v3/order',
        { symbol: 'BTCUSDT', side: 'BUY', type: 'MARKET', quantity: qty },
        { apiKey: 'rk', secret: 'rs' },
      );
      expect(r.body.status).toBe('FILLED');
      // A market buy pays the capture's best ask (or deeper), never less.
      expect(Number(r.body.fills[0].price)).toBeGreaterThanOrEqual(Number(d.body.asks[0][0]) - 1000);
      expect(s.feed.stats.deltas).toBeGreaterThan(0);
      // The capture has gaps: stale levels that crossed the book were removed, and counted.
      expect(m.bestBid()).toBeLessThan(m.bestAsk());
    } finally {
      c.close();
      await s.close();
    }
  }, 60_000);
});
