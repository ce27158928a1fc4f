import { generateKeyPairSync } from 'node:crypto';
import type { Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '../../core/poll.test-util.ts';
import { OrderType } from '../../model/order.ts';
import { OrderEventKind, OrderStatus } from '../../model/order-state.ts';
import { type ExchangeServer, startExchangeServer } from '../server/server.ts';
import {
  API_KEY,
  API_SECRET,
  bestBid,
  type LiveHarness,
  limitBuy,
  startHarness,
} from './server-harness.test-util.ts';
import { BinanceCredentials } from './signing.ts';

const open: LiveHarness[] = [];
const servers: ExchangeServer[] = [];
afterEach(async () => {
  for (const h of open.splice(0)) await h.close();
  for (const s of servers.splice(0)) await s.close();
});
async function harness(...a: Parameters<typeof startHarness>): Promise<LiveHarness> {
  const h = await startHarness(...a);
  open.push(h);
  return h;
}

/** The venue's open orders of the key, by client order id. */
async function venueOpen(h: LiveHarness): Promise<string[]> {
  const r = (await h.rest.signed('GET', '/api/v3/openOrders', { symbol: 'BTCUSDT' }, 6)) as {
    clientOrderId: string;
  }[];
  return r.map((o) => o.clientOrderId).sort();
}

describe('BinanceOrderClient against the local exchange server', () => {
  it('places a resting limit order over the WebSocket API and cancels it', async () => {
    const h = await harness();
    const px = (await bestBid(h)) - 50_000;
    const o = h.engine.submit(limitBuy(h.btc, 100, px));
    await waitFor(() => o.status === OrderStatus.ACCEPTED, 'ACCEPTED');
    expect(o.venueOrderId).not.toBe('');
    expect(await venueOpen(h)).toEqual([h.client.clientIdOf(o.id)]);
    expect(h.engine.cancel(o.id)).toBe(true);
    await waitFor(() => o.status === OrderStatus.CANCELED, 'CANCELED');
    expect(await venueOpen(h)).toEqual([]);
    expect(h.client.stats.restFallbacks).toBe(0);
    expect(h.engine.stats.rejectedEvents).toBe(0);
  }, 15_000);

  it('warm() runs the place path on a made-up order and sends nothing; the next real order is unaffected', async () => {
    const h = await harness();
    const sock = (h.client.supervisor as unknown as { sock: Socket }).sock;
    const written = sock.bytesWritten;
    const placed = h.client.stats.placed;
    for (let i = 0; i < 100; i++) h.client.warm();
    expect(sock.bytesWritten).toBe(written);
    expect(h.client.stats.placed).toBe(placed);
    // Signed with the same key state and written by the same writer and frame buffer: the venue accepts it.
    const o = h.engine.submit(limitBuy(h.btc, 100, (await bestBid(h)) - 50_000));
    await waitFor(() => o.status === OrderStatus.ACCEPTED, 'ACCEPTED');
    h.client.warm();
    expect(h.engine.cancel(o.id)).toBe(true);
    await waitFor(() => o.status === OrderStatus.CANCELED, 'CANCELED');
    expect(await venueOpen(h)).toEqual([]);
    expect(h.engine.stats.rejectedEvents).toBe(0);
  }, 15_000);

  it('forgets closed orders beyond retainClosed, so its maps do not grow with every order placed', async () => {
    const h = await harness({ retainClosed: 2 });
    const px = (await bestBid(h)) - 50_000;
    const orders = [];
    for (let i = 0; i < 5; i++) {
      const o = h.engine.submit(limitBuy(h.btc, 100, px - i * 100));
      await waitFor(() => o.status === OrderStatus.ACCEPTED, `ACCEPTED ${i}`);
      orders.push(o);
    }
    expect(h.client.trackedOrders).toBe(5);
    for (const o of orders) {
      expect(h.engine.cancel(o.id)).toBe(true);
      await waitFor(() => o.status === OrderStatus.CANCELED, `CANCELED ${o.id}`);
    }
    // The two closed last stay findable; the three before them are forgotten.
    expect(h.client.trackedOrders).toBe(2);
    expect(h.client.clientIdOf(orders[4]!.id)).not.toBe('');
    expect(h.client.clientIdOf(orders[0]!.id)).toBe('');
    expect(await venueOpen(h)).toEqual([]);
    expect(h.client.stats.unknownReports).toBe(0);
  }, 20_000);

  it('logs an Ed25519 key on (session.logon): orders and cancels go without apiKey or signature', async () => {
    const ed = generateKeyPairSync('ed25519');
    const srv = await startExchangeServer({
      accounts: [
        { apiKey: API_KEY, apiSecret: API_SECRET },
        {
          apiKey: 'edKey1',
          ed25519PublicKey: ed.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
        },
      ],
      warmupMs: 60_000,
      log: () => {},
    });
    servers.push(srv);
    const pem = ed.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const h = await harness({ credentials: BinanceCredentials.ed25519('edKey1', pem) }, srv);
    // What goes on the wire from here on.
    const frames: string[] = [];
    const sup = h.client.supervisor;
    const send = sup.sendBytes.bind(sup);
    sup.sendBytes = (b) => {
      frames.push(String(b));
      return send(b);
    };
    const o = h.engine.submit(limitBuy(h.btc, 100, (await bestBid(h)) - 50_000));
    await waitFor(() => o.status === OrderStatus.ACCEPTED, 'ACCEPTED');
    expect(h.engine.cancel(o.id)).toBe(true);
    await waitFor(() => o.status === OrderStatus.CANCELED, 'CANCELED (from the session user stream)');
    const place = frames.find((f) => f.includes('"order.place"'))!;
    const cancel = frames.find((f) => f.includes('"order.cancel"'))!;
    for (const f of [place, cancel]) {
      expect(f).not.toMatch(/signature|apiKey/);
      expect(f).toMatch(/"timestamp":\d{13}[,}]/);
    }
    expect(h.client.stats.restFallbacks).toBe(0);
    expect(h.notes.filter((n) => /logon/.test(n))).toEqual([]);
  }, 15_000);

  it('maps the fills of a market order from the user stream, and they agree with myTrades', async () => {
    const h = await harness();
    const o = h.engine.submit(limitBuy(h.btc, 2_000, Number.NaN, OrderType.MARKET));
    await waitFor(() => o.status === OrderStatus.FILLED, 'FILLED');
    const fills = h.log.filter((e) => e.orderId === o.id && e.kind === OrderEventKind.FILLED);
    expect(fills.reduce((s, e) => s + e.fillQty, 0)).toBe(2_000);
    const trades = (await h.rest.signed('GET', '/api/v3/myTrades', { symbol: 'BTCUSDT' }, 20)) as {
      id: number;
      qty: string;
    }[];
    expect(fills.map((e) => e.tradeId).sort()).toEqual(trades.map((t) => `BTCUSDT:${t.id}`).sort());
    expect(fills.every((e) => e.fee > 0 && e.feeCurrencyId >= 0)).toBe(true);
  }, 15_000);

  it('answers a venue rejection (over the balance) with REJECTED and its reason', async () => {
    const h = await harness();
    const o = h.engine.submit(limitBuy(h.btc, 900_000_000, (await bestBid(h)) - 10));
    await waitFor(() => o.status === OrderStatus.REJECTED, 'REJECTED');
    const ev = h.log.find((e) => e.orderId === o.id && e.kind === OrderEventKind.REJECTED)!;
    expect(ev.reason).toMatch(/-2010/);
  }, 15_000);

  it('refuses an order locally (never sent) when the governor says the order limit is reached', async () => {
    const h = await harness();
    h.rest.governor.setLimits([{ rateLimitType: 'ORDERS', interval: 'SECOND', intervalNum: 10, limit: 1 }]);
    const o = h.engine.submit(limitBuy(h.btc, 100, (await bestBid(h)) - 50_000));
    expect(o.status).toBe(OrderStatus.REJECTED);
    expect(h.log.find((e) => e.orderId === o.id && e.kind === OrderEventKind.REJECTED)!.reason).toMatch(
      /-1003 rate limit: refused locally/,
    );
    expect(await venueOpen(h)).toEqual([]);
  }, 15_000);

  it('amends price and quantity with order.cancelReplace: one order at the venue, UPDATED in the engine', async () => {
    const h = await harness();
    const px = (await bestBid(h)) - 50_000;
    const o = h.engine.submit(limitBuy(h.btc, 300, px));
    await waitFor(() => o.status === OrderStatus.ACCEPTED, 'ACCEPTED');
    expect(h.engine.modify(o.id, 200, px - 100, Number.NaN)).toBe(0);
    await waitFor(() => o.status === OrderStatus.ACCEPTED && o.qty === 200, 'UPDATED', 5_000);
    expect(o.price).toBe(px - 100);
    const open = (await h.rest.signed('GET', '/api/v3/openOrders', { symbol: 'BTCUSDT' }, 6)) as {
      price: string;
      origQty: string;
    }[];
    expect(open).toHaveLength(1);
    expect(open[0]!.origQty.startsWith('0.00200')).toBe(true);
    // Cancelling the amended order reaches the venue's replacement.
    h.engine.cancel(o.id);
    await waitFor(() => o.status === OrderStatus.CANCELED, 'CANCELED after the amend');
    expect(await venueOpen(h)).toEqual([]);
  }, 15_000);
});
