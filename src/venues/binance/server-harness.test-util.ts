// Wiring for tests of the native Binance client against the local exchange server (src/venues/server): the
// server on a free loopback port with a funded HMAC key, instruments read from its exchangeInfo, an execution
// engine with the order client as its venue, and every order event logged. Not used by production code.

import { LiveClock } from '../../core/clock.ts';
import { MessageBus } from '../../core/message-bus.ts';
import type { StrategyId } from '../../core/units.ts';
import { Cache } from '../../execution/cache.ts';
import { ExecutionEngine } from '../../execution/engine.ts';
import { binanceSpotSpecs } from '../../model/binance-instruments.ts';
import { decimalToSteps } from '../../model/decimal.ts';
import type { OrderEvent } from '../../model/events.ts';
import { type Instrument, newInstrumentRegistry } from '../../model/instrument.ts';
import { OrderRequest, OrderSide, OrderType, TimeInForce } from '../../model/order.ts';
import { type ExchangeServer, startExchangeServer } from '../server/server.ts';
import { BinanceOrderClient, type BinanceOrderClientOptions } from './order-client.ts';
import { RateGovernor } from './rate-governor.ts';
import { BinanceRest } from './rest.ts';
import { BinanceCredentials } from './signing.ts';

export const API_KEY = 'bot4TestKey';
export const API_SECRET = 'bot4TestSecret';

export interface LiveHarness {
  server: ExchangeServer;
  rest: BinanceRest;
  client: BinanceOrderClient;
  engine: ExecutionEngine;
  btc: Instrument;
  log: OrderEvent[];
  notes: string[];
  close(): Promise<void>;
}

export async function startHarness(
  extra: Partial<BinanceOrderClientOptions> = {},
  server?: ExchangeServer,
): Promise<LiveHarness> {
  const srv =
    server ??
    (await startExchangeServer({
      accounts: [{ apiKey: API_KEY, apiSecret: API_SECRET }],
      warmupMs: 60_000,
      log: () => {},
    }));
  const creds = BinanceCredentials.hmac(API_KEY, API_SECRET);
  const rest = new BinanceRest({ baseUrl: srv.url, credentials: creds, governor: new RateGovernor([]) });
  const info = await rest.exchangeInfo();
  const registry = newInstrumentRegistry();
  for (const spec of binanceSpotSpecs(info, { venue: 'BINANCE' }).specs) registry.add(spec);
  const btc = registry.find('BTCUSDT', 'BINANCE')!;
  const clock = new LiveClock();
  const bus = new MessageBus();
  const engine = new ExecutionEngine({ bus, clock, cache: new Cache(registry) });
  const log: OrderEvent[] = [];
  bus.subscribe(engine.orderEvents, (ev) => log.push(ev.clone()));
  const notes: string[] = [];
  const client = new BinanceOrderClient({
    name: 'BINANCE',
    wsApiUrl: `${srv.wsUrl}/ws-api/v3`,
    rest,
    credentials: creds,
    instruments: registry.all(),
    clock,
    ackTimeoutMs: 300,
    onNote: (t) => notes.push(t),
    connection: { backoffInitialMs: 20 },
    ...extra,
  });
  client.sink = engine;
  engine.registerVenue(btc.venueId, client);
  await client.start();
  return {
    server: srv,
    rest,
    client,
    engine,
    btc,
    log,
    notes,
    async close() {
      await client.stop();
      if (server === undefined) await srv.close();
    },
  };
}

/** The best bid now, ticks (from the server's REST book ticker). */
export async function bestBid(h: LiveHarness): Promise<number> {
  const t = (await h.rest.get('/api/v3/ticker/bookTicker', { symbol: h.btc.symbol }, 2)) as {
    bidPrice: string;
  };
  return decimalToSteps(t.bidPrice, h.btc.tickSize);
}

export function limitBuy(
  btc: Instrument,
  qty: number,
  price: number,
  type: OrderType = OrderType.LIMIT,
): OrderRequest {
  const r = new OrderRequest();
  r.instrumentId = btc.id;
  r.strategyId = 1 as StrategyId;
  r.side = OrderSide.BUY;
  r.type = type;
  r.tif = TimeInForce.GTC;
  r.qty = qty as OrderRequest['qty'];
  r.price = price as OrderRequest['price'];
  return r;
}
