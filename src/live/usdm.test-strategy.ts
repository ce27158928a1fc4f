// The USD-M node test's strategy: on the first quotes it buys `qty` at market, and once that is filled it sells
// the same quantity back at market (one position opened and closed), then does nothing. It counts what it
// did (a test strategy: the built-in ones are the real ones). Loaded by path, as a user's strategy file.

import type { InstrumentId } from '../core/units.ts';
import type { OrderEvent } from '../model/events.ts';
import type { QuoteTick } from '../model/market-data.ts';
import { OrderSide } from '../model/order.ts';
import { OrderEventKind } from '../model/order-state.ts';
import { bool, float, text } from '../strategy/params.ts';
import { Strategy, type Subscriptions } from '../strategy/strategy.ts';

const PARAMS = {
  instrument: text({ default: 'BTCUSDT.BINANCE_USDM', description: 'instrument traded' }),
  qty: float({ default: 0.005, description: 'quantity opened and closed' }),
  trade: bool({ default: true, description: 'false: send nothing (tests that place orders themselves)' }),
};

export default class OpenThenClose extends Strategy<typeof PARAMS> {
  static override readonly params = PARAMS;
  static override readonly description =
    'test: a market buy, then a market sell of the same size once filled';

  /** 0 nothing sent, 1 buy sent, 2 buy filled and sell sent, 3 sell filled. */
  stage = 0;
  private id = 0 as InstrumentId;
  private lots = 0;
  private filled = 0;

  override subscriptions(): Subscriptions {
    return { quotes: [this.params.instrument] };
  }

  override onStart(): void {
    const inst = this.instrument(this.params.instrument);
    this.id = inst.id;
    this.lots = inst.qtyFromFloat(this.params.qty);
  }

  override onQuote(q: QuoteTick): void {
    if (q.instrumentId !== this.id || this.stage !== 0 || !this.params.trade) return;
    this.stage = 1;
    this.submitMarket(this.id, OrderSide.BUY, this.lots);
  }

  override onOrderEvent(ev: OrderEvent): void {
    if (ev.kind !== OrderEventKind.FILLED || this.stage === 0) return;
    this.filled += ev.fillQty;
    if (this.filled < this.lots) return;
    this.filled = 0;
    if (this.stage === 1) {
      this.stage = 2;
      this.submitMarket(this.id, OrderSide.SELL, this.lots);
    } else if (this.stage === 2) this.stage = 3;
  }
}
