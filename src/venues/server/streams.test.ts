import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BinanceDepthSync, DepthEvent, SyncResult, SyncState } from '../../book/binance-sync.ts';
import { L2Book } from '../../book/l2-book.ts';
import { type ExchangeServer, startExchangeServer } from './server.ts';
import { Collector, type Json, rest, waitFor } from './test-client.ts';

/** A depth message (REST snapshot or depthUpdate) as the sync's input, prices and sizes in ticks and lots. */
function toEvent(s: ExchangeServer, j: Json, snapshot: boolean): DepthEvent {
  const inst = s.markets.get('BTCUSDT')!.inst;
  const ev = new DepthEvent();
  ev.firstId = snapshot ? 0 : j.U;
  ev.finalId = snapshot ? j.lastUpdateId : j.u;
  for (const [p, q] of snapshot ? j.bids : j.b) ev.bids.push(inst.priceToTicks(p), inst.qtyToLots(q));
  for (const [p, q] of snapshot ? j.asks : j.a) ev.asks.push(inst.priceToTicks(p), inst.qtyToLots(q));
  return ev;
}

function levels(book: L2Book, side: 0 | 1): [number, number][] {
  const n = book.levelCount(side);
  const px = new Float64Array(n);
  const qty = new Float64Array(n);
  book.depth(side, n, px, qty);
  return Array.from(px, (p, i) => [p, qty[i]!]);
}

describe('market streams', () => {
  let s: ExchangeServer;
  beforeAll(async () => {
    s = await startExchangeServer({ speed: 10, warmupMs: 60_000, pingIntervalMs: 200 });
  }, 30_000);
  afterAll(() => s?.close());

  it('serves combined streams in {stream, data} envelopes: trade, aggTrade, bookTicker, kline_1m, depth5', async () => {
    const c = new Collector(
      `${s.wsUrl}/stream?streams=btcusdt@trade/ethusdt@aggTrade/btcusdt@bookTicker/btcusdt@kline_1m/ethusdt@depth5@100ms`,
    );
    try {
      await c.open();
      const trade = await c.next('trade', (m) => m?.stream === 'btcusdt@trade');
      expect(trade.data).toMatchObject({ e: 'trade', s: 'BTCUSDT', M: true });
      expect(Object.keys(trade.data).sort()).toEqual(['E', 'M', 'T', 'e', 'm', 'p', 'q', 's', 't'].sort());
      const agg = await c.next('aggTrade', (m) => m?.stream === 'ethusdt@aggTrade');
      expect(agg.data).toMatchObject({ e: 'aggTrade', s: 'ETHUSDT' });
      expect(agg.data.f).toBe(agg.data.a);
      const bt = await c.next('bookTicker', (m) => m?.stream === 'btcusdt@bookTicker');
      expect(Object.keys(bt.data).sort()).toEqual(['A', 'B', 'a', 'b', 's', 'u']);
      expect(Number(bt.data.b)).toBeLessThan(Number(bt.data.a));
      const k = await c.next('kline', (m) => m?.stream === 'btcusdt@kline_1m', 0, 3000);
      expect(k.data.k).toMatchObject({ s: 'BTCUSDT', i: '1m' });
      expect(k.data.k.T - k.data.k.t).toBe(59_999);
      const d5 = await c.next('depth5', (m) => m?.stream === 'ethusdt@depth5@100ms');
      expect(d5.data.bids).toHaveLength(5);
      expect(d5.data.lastUpdateId).toBeGreaterThan(0);
    } finally {
      c.close();
    }
  });

  it('SUBSCRIBE, LIST_SUBSCRIPTIONS and UNSUBSCRIBE on a raw /ws connection; pings the client', async () => {
    const c = new Collector(`${s.wsUrl}/ws`);
    let pings = 0;
    c.ws.on('ping', () => pings++);
    try {
      await c.open();
      c.send({ method: 'SUBSCRIBE', params: ['btcusdt@trade', 'btcusdt@bookTicker'], id: 1 });
      expect(await c.next('subscribe reply', (m) => m?.id === 1)).toEqual({ result: null, id: 1 });
      await c.next('raw trade', (m) => m?.e === 'trade');
      c.send({ method: 'LIST_SUBSCRIPTIONS', id: 2 });
      expect((await c.next('list', (m) => m?.id === 2)).result.sort()).toEqual([
        'btcusdt@bookTicker',
        'btcusdt@trade',
      ]);
      c.send({ method: 'UNSUBSCRIBE', params: ['btcusdt@trade'], id: 3 });
      await c.next('unsubscribe reply', (m) => m?.id === 3);
      c.send({ method: 'SUBSCRIBE', params: ['nosuch@trade'], id: 4 });
      expect((await c.next('error reply', (m) => m?.id === 4)).error.code).toBe(2);
      await waitFor('a ping from the server', () => pings > 0, 3000);
    } finally {
      c.close();
    }
  });

  it('kline_1m: a minute that closes is pushed once with x=true and equals the REST kline', async () => {
    const lock = await startExchangeServer({ speed: 'max', warmupMs: 120_000, seed: 5 });
    const c = new Collector(`${lock.wsUrl}/ws/btcusdt@kline_1m`);
    try {
      await c.open();
      await c.next('an open candle', (m) => m?.k?.x === false, 0, 3000);
      await lock.advance(60_000);
      const closed = await c.next('a closed candle', (m) => m?.k?.x === true, 0, 3000);
      const rows = await rest(lock.url, 'GET', '/api/v3/klines', {
        symbol: 'BTCUSDT',
        interval: '1m',
        startTime: closed.k.t,
        limit: 1,
      });
      const [t, o, h, l, cl, v, T, q, n] = rows.body[0];
      expect(closed.k).toMatchObject({ t, o, h, l, c: cl, v, T, q, n });
      await new Promise((r) => setTimeout(r, 1200));
      expect(c.json.filter((m) => m?.k?.x === true && m.k.t === closed.k.t)).toHaveLength(1);
    } finally {
      c.close();
      await lock.close();
    }
  }, 20_000);

  it('diff depth with U/u continues the REST snapshot: a client syncs and holds the server book', async () => {
    const lock = await startExchangeServer({ speed: 'max', warmupMs: 30_000, seed: 3 });
    const c = new Collector(`${lock.wsUrl}/ws/btcusdt@depth@100ms`);
    try {
      await c.open();
      const book = new L2Book();
      const sync = new BinanceDepthSync(book, { market: 'spot' });
      // The snapshot request advances the lockstep market one step; its diff follows within 100 ms.
      const snap = await rest(lock.url, 'GET', '/api/v3/depth', { symbol: 'BTCUSDT', limit: 5000 });
      let used = 0;
      const drain = (): SyncResult[] => {
        const out: SyncResult[] = [];
        for (; used < c.json.length; used++) out.push(sync.onDepth(toEvent(lock, c.json[used], false)));
        return out;
      };
      expect(sync.onSnapshot(toEvent(lock, snap.body, true))).not.toBe(SyncState.OUT_OF_SYNC);
      for (let step = 0; step < 5; step++) {
        await lock.advance(500);
        const target = lock.markets.get('BTCUSDT')!.updateId;
        await waitFor(`diff up to update ${target}`, () => {
          const results = drain();
          expect(results).not.toContain(SyncResult.GAP);
          return sync.lastUpdateId >= target || undefined;
        });
        expect(sync.state).toBe(SyncState.IN_SYNC);
        const m = lock.markets.get('BTCUSDT')!;
        // Every level of both sides equals the server's book at the same update id.
        expect(levels(book, 0)).toEqual(m.levels(true, 5000));
        expect(levels(book, 1)).toEqual(m.levels(false, 5000));
      }
      // Consecutive diffs chain: U = previous u + 1.
      const diffs = c.json.filter((j) => j?.e === 'depthUpdate');
      for (let i = 1; i < diffs.length; i++) expect(diffs[i].U).toBe(diffs[i - 1].u + 1);
    } finally {
      c.close();
      await lock.close();
    }
  }, 30_000);
});
