// The native Binance adapter passes the same venue contract as the StubVenue and the SimulatedExchange, against
// the local exchange server; settling means waiting until no order is still waiting for the venue's answer.
import { LiveClock } from '../../core/clock.ts';
import { waitFor } from '../../core/poll.test-util.ts';
import type { ExecutionEngine } from '../../execution/engine.ts';
import { OrderStatus } from '../../model/order-state.ts';
import { describeVenueContract } from '../sim/venue-contract.test-util.ts';
import { bestBid, startHarness } from './server-harness.test-util.ts';

/** Every open order has its venue answer (nothing SUBMITTED, PENDING_CANCEL or PENDING_UPDATE). */
function settled(engine: ExecutionEngine): boolean {
  for (const id of engine.cache.allOpenOrderIds()) {
    const s = engine.cache.order(id)!.status;
    if (s === OrderStatus.SUBMITTED || s === OrderStatus.PENDING_CANCEL || s === OrderStatus.PENDING_UPDATE) {
      return false;
    }
  }
  return true;
}

describeVenueContract(
  'native Binance adapter on the local exchange server',
  async () => {
    const h = await startHarness();
    return {
      engine: h.engine,
      venue: h.client,
      clock: new LiveClock(),
      btc: h.btc,
      log: h.log,
      restingBuyPx: (await bestBid(h)) - 50_000,
      // 1 lot is 0.00001 BTC; the venue's minimum notional is 5 USDT.
      lotScale: 100,
      settle: () => waitFor(() => settled(h.engine), 'the venue to answer every order', 5_000),
      close: () => h.close(),
    };
  },
  20_000,
);
