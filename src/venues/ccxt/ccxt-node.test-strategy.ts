// The ccxt node test's strategy, one step per quote once the previous step's order answered: a far limit buy
// that rests; its cancel once the venue accepted it; a market buy of 0.002 once it is cancelled; a market sell
// of 0.001 once that filled; then nothing. So a run has one cancel and fills of both sides, and ends long
// 0.001 BTC with no open order. Loaded by path, as a user's strategy file.

import type { InstrumentId, OrderId } from '../../core/units.ts';
import type { OrderEvent } from '../../model/events.ts';
import type { QuoteTick } from '../../model/market-data.ts';
import { OrderSide } from '../../model/order.ts';
import { OrderEventKind } from '../../model/order-state.ts';
import { text } from '../../strategy/params.ts';
import { Strategy, type Subscriptions } from '../../strategy/strategy.ts';

const PARAMS = { instrument: text({ default: 'BTCUSDT', description: 'instrument traded' }) };

export default class PlaceCancelFill extends Strategy<typeof PARAMS> {
  static override readonly params = PARAMS;
  static override readonly description = 'test: a resting buy cancelled, then a market buy and a market sell';

  private id = 0 as InstrumentId;
  private step = 0;
  private last = 0 as OrderId;

  override subscriptions(): Subscriptions {
    return { quotes: [this.params.instrument] };
  }

  override onStart(): void {
    this.id = this.instrument(this.params.instrument).id;
  }

  /** The last event kind of the last order this strategy sent (orders are purged once closed: kept here). */
  private lastKind = -1;
  private lastFilled = 0;

  override onOrderEvent(ev: OrderEvent): void {
    if (ev.orderId !== this.last) return;
    this.lastKind = ev.kind;
    if (ev.kind === OrderEventKind.FILLED) this.lastFilled += ev.fillQty;
  }

  private lastIs(kind: OrderEventKind): boolean {
    return this.lastKind === kind;
  }

  override onQuote(q: QuoteTick): void {
    if (q.instrumentId !== this.id) return;
    const inst = this.instrument(this.params.instrument);
    if (this.step === 0) {
      const px = Math.max(1, q.bidPx - inst.priceToTicks('500'));
      this.last = this.submitLimit(this.id, OrderSide.BUY, inst.qtyToLots('0.001'), px).id;
      this.step = 1;
    } else if (this.step === 1 && this.lastIs(OrderEventKind.ACCEPTED)) {
      this.cancel(this.last);
      this.step = 2;
    } else if (this.step === 2 && this.lastIs(OrderEventKind.CANCELED)) {
      this.lastFilled = 0;
      this.last = this.submitMarket(this.id, OrderSide.BUY, inst.qtyToLots('0.002')).id;
      this.step = 3;
    } else if (this.step === 3 && this.lastFilled === inst.qtyToLots('0.002')) {
      this.submitMarket(this.id, OrderSide.SELL, inst.qtyToLots('0.001'));
      this.step = 4;
    }
  }
}
