// The ccxt adapter passes the same venue contract suite as the simulator and the native adapter: ccxt's binance
// (pro) class, unmodified, aimed at the local exchange server.

import { describe, expect, it } from 'vitest';
import { LiveClock } from '../../core/clock.ts';
import { MessageBus } from '../../core/message-bus.ts';
import { waitFor } from '../../core/poll.test-util.ts';
import type { QtyLots } from '../../core/units.ts';
import { Cache } from '../../execution/cache.ts';
import { ExecutionEngine } from '../../execution/engine.ts';
import { req } from '../../execution/test-kit.ts';
import { binanceSpotSpecs } from '../../model/binance-instruments.ts';
import { decimalToSteps } from '../../model/decimal.ts';
import type { OrderEvent } from '../../model/events.ts';
import { newInstrumentRegistry } from '../../model/instrument.ts';
import { OrderType } from '../../model/order.ts';
import { OrderEventKind, OrderStatus } from '../../model/order-state.ts';
import { startExchangeServer } from '../server/server.ts';
import { localCcxt } from '../server/test-client.ts';
import { describeVenueContract } from '../sim/venue-contract.test-util.ts';
import { CcxtVenue } from './ccxt-venue.ts';

async function makeHarness() {
  const srv = await startExchangeServer({
    accounts: [{ apiKey: 'ccxtKey', apiSecret: 'ccxtSecret' }],
    log: () => {},
  });
  const info = await (
    await fetch(`${srv.url}/api/v3/exchangeInfo`, { signal: AbortSignal.timeout(10_000) })
  ).json();
  const registry = newInstrumentRegistry();
  for (const spec of binanceSpotSpecs(info, { venue: 'BINANCE' }).specs) registry.add(spec);
  const btc = registry.find('BTCUSDT', 'BINANCE')!;
  const clock = new LiveClock();
  const bus = new MessageBus();
  const engine = new ExecutionEngine({ bus, clock, cache: new Cache(registry) });
  const log: OrderEvent[] = [];
  bus.subscribe(engine.orderEvents, (ev) => log.push(ev.clone()));
  const venue = new CcxtVenue({
    name: 'BINANCE',
    exchange: await localCcxt(srv, 'ccxtKey', 'ccxtSecret'),
    instruments: registry.all(),
    clock,
  });
  venue.sink = engine;
  engine.registerVenue(btc.venueId, venue);
  await venue.start();
  const t = (await (
    await fetch(`${srv.url}/api/v3/ticker/bookTicker?symbol=BTCUSDT`, { signal: AbortSignal.timeout(10_000) })
  ).json()) as {
    bidPrice: string;
  };
  return {
    engine,
    venue,
    clock,
    btc,
    log,
    restingBuyPx: decimalToSteps(t.bidPrice, btc.tickSize) - 50_000,
    lotScale: 100,
    settle: () =>
      waitFor(
        () =>
          engine.cache.allOpenOrderIds().every((id) => {
            const s = engine.cache.order(id)!.status;
            return (
              s !== OrderStatus.SUBMITTED &&
              s !== OrderStatus.PENDING_CANCEL &&
              s !== OrderStatus.PENDING_UPDATE
            );
          }),
        'the venue to answer every order',
        5_000,
      ),
    close: async () => {
      await venue.stop();
      await srv.close();
    },
  };
}

describeVenueContract('ccxt binance (pro) on the local exchange server', makeHarness, 30_000);

describe('ccxt adapter fills', () => {
  it('maps the fills of a market order from watchMyTrades; they equal the venue trades', async () => {
    const h = await makeHarness();
    try {
      const o = h.engine.submit(req(h.btc, { type: OrderType.MARKET, qty: 2_000 as QtyLots }));
      await waitFor(() => o.status === OrderStatus.FILLED, 'FILLED from the trade stream', 10_000);
      const fills = h.log.filter((e) => e.orderId === o.id && e.kind === OrderEventKind.FILLED);
      expect(fills.reduce((s, e) => s + e.fillQty, 0)).toBe(2_000);
      expect(fills.every((e) => e.tradeId.startsWith('BTCUSDT:') && e.feeCurrencyId >= 0)).toBe(true);
      expect(new Set(fills.map((e) => e.tradeId)).size).toBe(fills.length);
    } finally {
      await h.close();
    }
  }, 30_000);
});
