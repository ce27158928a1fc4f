// The native client against the local exchange server's fault switches (src/venues/server/faults.ts): each
// test turns one switch on and checks the client sees it and recovers the way it must on Binance.
import { afterEach, describe, expect, it } from 'vitest';
import { LiveClock } from '../../core/clock.ts';
import { waitFor } from '../../core/poll.test-util.ts';
import { OrderType } from '../../model/order.ts';
import { OrderEventKind, OrderStatus } from '../../model/order-state.ts';
import { BinanceMarketData } from './market-data.ts';
import { GovernorVerdict } from './rate-governor.ts';
import { BinanceApiError } from './rest.ts';
import { bestBid, type LiveHarness, limitBuy, startHarness } from './server-harness.test-util.ts';

const open: LiveHarness[] = [];
afterEach(async () => {
  for (const h of open.splice(0)) await h.close();
});
async function harness(...a: Parameters<typeof startHarness>): Promise<LiveHarness> {
  const h = await startHarness(...a);
  open.push(h);
  return h;
}

async function venueOrders(h: LiveHarness): Promise<{ clientOrderId: string; status: string }[]> {
  return (await h.rest.signed('GET', '/api/v3/allOrders', { symbol: 'BTCUSDT' }, 20)) as {
    clientOrderId: string;
    status: string;
  }[];
}

describe('native client under the server fault switches', () => {
  it('ack lost: the order still rests, is accepted from the user stream, and is never sent twice', async () => {
    const h = await harness();
    h.server.faults.set({ ack: 'lose', ackCount: 1 });
    const o = h.engine.submit(limitBuy(h.btc, 100, (await bestBid(h)) - 40_000));
    await waitFor(() => o.status === OrderStatus.ACCEPTED, 'ACCEPTED without an ack');
    await new Promise((r) => setTimeout(r, 700)); // past the ack timeout: nothing more may happen
    const coid = h.client.clientIdOf(o.id);
    expect((await venueOrders(h)).filter((v) => v.clientOrderId === coid)).toHaveLength(1);
    expect(h.client.stats.resent).toBe(0);
  }, 15_000);

  it('order frame lost with the connection: looked up by client id, re-sent once, one order at the venue', async () => {
    const h = await harness();
    const px = (await bestBid(h)) - 40_000;
    // Cut the WebSocket API connection server-side, then send before the client has noticed: the frame is lost.
    const api = h.server.faults.connections().find((c) => c.kind === 'ws-api')!;
    h.server.faults.drop(api.id);
    const o = h.engine.submit(limitBuy(h.btc, 100, px));
    await waitFor(() => o.status === OrderStatus.ACCEPTED, 'ACCEPTED after look-up and re-send', 8_000);
    const coid = h.client.clientIdOf(o.id);
    expect((await venueOrders(h)).filter((v) => v.clientOrderId === coid)).toHaveLength(1);
    expect(h.client.stats.lookups).toBeGreaterThanOrEqual(1);
    expect(h.client.supervisor.reconnects).toBe(1);
  }, 15_000);

  it('fills made while the user stream was down are read back after the reconnect: no missed fill', async () => {
    const h = await harness({ connection: { backoffInitialMs: 1_500 } });
    const api = h.server.faults.connections().find((c) => c.kind === 'ws-api')!;
    h.server.faults.drop(api.id);
    await waitFor(() => h.client.supervisor.state === 'backoff', 'the client to see the drop');
    // Sent over the REST fallback; its executionReports go nowhere (no subscribed connection).
    const o = h.engine.submit(limitBuy(h.btc, 2_000, Number.NaN, OrderType.MARKET));
    await waitFor(() => o.status === OrderStatus.FILLED, 'the fills recovered after the reconnect', 8_000);
    expect(h.client.stats.restFallbacks).toBe(1);
    expect(h.client.stats.recovered).toBeGreaterThan(0);
    const fills = h.log.filter((e) => e.orderId === o.id && e.kind === OrderEventKind.FILLED);
    const trades = (await h.rest.signed('GET', '/api/v3/myTrades', { symbol: 'BTCUSDT' }, 20)) as {
      id: number;
    }[];
    expect(fills.map((e) => e.tradeId).sort()).toEqual(trades.map((t) => `BTCUSDT:${t.id}`).sort());
    expect(fills.reduce((s, e) => s + e.fillQty, 0)).toBe(2_000);
  }, 15_000);

  it('clock skew beyond recvWindow: -1021, time re-measured, the request goes through', async () => {
    const h = await harness();
    h.server.faults.set({ clockSkewMs: 90_000 });
    const acct = (await h.rest.signed('GET', '/api/v3/account', {}, 20)) as { balances: unknown[] };
    expect(acct.balances.length).toBeGreaterThan(0);
    expect(h.rest.timeResyncs).toBe(1);
    expect(Math.abs(h.rest.serverTime.offsetMs - 90_000)).toBeLessThan(2_000);
    // Orders over the WebSocket API use the corrected time too.
    const o = h.engine.submit(limitBuy(h.btc, 100, (await bestBid(h)) - 40_000));
    await waitFor(() => o.status === OrderStatus.ACCEPTED, 'ACCEPTED with the skewed server clock');
  }, 15_000);

  it('429 past the weight limit: the governor stops sending until Retry-After, so no 418 ban follows', async () => {
    const h = await harness();
    h.server.faults.set({ weightLimit: 30 });
    let limited: BinanceApiError | undefined;
    for (let i = 0; i < 20 && limited === undefined; i++) {
      await h.rest.get('/api/v3/ticker/24hr', { symbol: 'BTCUSDT' }, 2).catch((e: unknown) => {
        if (!(e instanceof BinanceApiError) || e.status !== 429) throw e;
        limited = e;
      });
    }
    expect(limited?.retryable).toBe(true);
    expect(h.rest.governor.check(1, false, h.rest.venueNow())).not.toBe(GovernorVerdict.GO);
    // Binance bans (418) a client that keeps sending after a 429: the governor holds requests back instead,
    // refusing them locally or waiting out the window, so the server never sees one before Retry-After.
    for (let i = 0; i < 3; i++) {
      await h.rest.get('/api/v3/ticker/24hr', { symbol: 'BTCUSDT' }, 2).catch((e: unknown) => {
        if ((e as Error).name !== 'RateLimitError') throw e;
      });
    }
    expect(h.rest.governor.bans).toBe(0);
    expect(h.rest.governor.backoffs).toBe(1);
  }, 15_000);
});

describe('market data under the server fault switches', () => {
  async function marketData(h: LiveHarness) {
    let crossedSeen = 0;
    let quotes = 0;
    const md = new BinanceMarketData({
      wsBaseUrl: h.server.wsUrl,
      rest: h.rest,
      market: 'spot',
      instruments: [h.btc],
      clock: new LiveClock(),
      sink: {
        onQuote: () => {
          quotes++;
        },
        onTrade: () => {},
        onBook: (_id, book) => {
          if (book.crossed()) crossedSeen++;
        },
      },
      connection: { backoffInitialMs: 20 },
    });
    await md.start();
    await waitFor(() => md.inSync(h.btc.id) && quotes > 0, 'the first sync', 8_000);
    return { md, crossed: () => crossedSeen };
  }

  it('sequence gap, malformed and truncated frames, a dropped connection: counted, resynced, never crossed', async () => {
    const h = await harness();
    const { md, crossed } = await marketData(h);
    try {
      h.server.faults.set({ depthGap: 1 });
      await waitFor(() => md.stats.gaps === 1, 'the gap to be seen', 8_000);
      await waitFor(() => md.inSync(h.btc.id), 'the resync after the gap', 8_000);
      h.server.faults.set({ malformed: 2, truncated: 2 });
      await waitFor(() => md.stats.malformed >= 4, 'four bad frames counted', 8_000);
      h.server.faults.drop();
      await waitFor(() => md.supervisor.reconnects === 1, 'the reconnect', 8_000);
      const depth = md.stats.depthEvents;
      await waitFor(() => md.inSync(h.btc.id) && md.stats.depthEvents > depth + 5, 'in sync again', 8_000);
      expect(crossed()).toBe(0);
      expect(md.stats.crossed).toBe(0);
      expect(md.book(h.btc.id)!.crossed()).toBe(false);
    } finally {
      await md.stop();
    }
  }, 30_000);

  it("Binance's 24-hour close (rollover) early: reconnected, resubscribed, the book resynced", async () => {
    const h = await harness();
    const { md, crossed } = await marketData(h);
    try {
      const quotes = md.stats.quotes;
      expect(h.server.faults.rollover()).toBeGreaterThan(0);
      await waitFor(() => md.supervisor.reconnects === 1, 'the reconnect after the rollover', 8_000);
      await waitFor(
        () => md.inSync(h.btc.id) && md.stats.quotes > quotes + 3,
        'quotes and sync again',
        8_000,
      );
      expect(md.stats.resyncs).toBeGreaterThanOrEqual(1);
      expect(crossed()).toBe(0);
    } finally {
      await md.stop();
    }
  }, 30_000);
});
