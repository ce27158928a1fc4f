// The ccxt adapter passes the same venue contract suite as the simulator and the native adapter: ccxt's binance
// (pro) class, unmodified, aimed at the local exchange server.
import { LiveClock } from '../../core/clock.ts';
import { MessageBus } from '../../core/message-bus.ts';
import { waitFor } from '../../core/poll.test-util.ts';
import { Cache } from '../../execution/cache.ts';
import { ExecutionEngine } from '../../execution/engine.ts';
import { binanceSpotSpecs } from '../../model/binance-instruments.ts';
import { decimalToSteps } from '../../model/decimal.ts';
import type { OrderEvent } from '../../model/events.ts';
import { newInstrumentRegistry } from '../../model/instrument.ts';
import { OrderStatus } from '../../model/order-state.ts';
import { startExchangeServer } from '../server/server.ts';
import { localCcxt } from '../server/test-client.ts';
import { describeVenueContract } from '../sim/venue-contract.test-util.ts';
import { CcxtVenue } from './ccxt-venue.ts';

describeVenueContract(
  'ccxt binance (pro) on the local exchange server',
  async () => {
    const srv = await startExchangeServer({
      accounts: [{ apiKey: 'ccxtKey', apiSecret: 'ccxtSecret' }],
      log: () => {},
    });
    const info = await (await fetch(`${srv.url}/api/v3/exchangeInfo`)).json();
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
    const t = (await (await fetch(`${srv.url}/api/v3/ticker/bookTicker?symbol=BTCUSDT`)).json()) as {
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
  },
  30_000,
);
