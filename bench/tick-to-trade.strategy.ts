// The strategy of the tick-to-trade benchmark: on every quote it either places a limit buy far below the bid
// (it rests, so no fills disturb the account) or cancels the one it has, so every other quote sends an order.
// A user-strategy file (default export), loaded by path as the live node loads a user's strategy.

import type { InstrumentId, OrderId } from '../src/core/units.ts';
import type { QuoteTick } from '../src/model/market-data.ts';
import { OrderSide } from '../src/model/order.ts';
import { float, int, text } from '../src/strategy/params.ts';
import { Strategy, type Subscriptions } from '../src/strategy/strategy.ts';

const PARAMS = {
  instrument: text({ default: 'BTCUSDT', description: 'instrument traded' }),
  qty: float({ default: 0.001, min: 0, description: 'order size in base units' }),
  offsetTicks: int({ default: 100_000, min: 1, description: 'how far below the bid the order rests' }),
};

export default class TickToTrade extends Strategy<typeof PARAMS> {
  static override readonly params = PARAMS;
  static override readonly description =
    'places or cancels a far limit buy on every quote (tick-to-trade bench)';

  private id = 0 as InstrumentId;
  private lots = 0;
  private open = 0 as OrderId;

  override subscriptions(): Subscriptions {
    return { quotes: [this.params.instrument] };
  }

  override onStart(): void {
    const inst = this.instrument(this.params.instrument);
    this.id = inst.id;
    this.lots = inst.qtyFromFloat(this.params.qty);
  }

  override onQuote(q: QuoteTick): void {
    if (q.instrumentId !== this.id) return;
    if (this.open !== 0) {
      this.cancel(this.open);
      this.open = 0 as OrderId;
      return;
    }
    this.open = this.submitLimit(this.id, OrderSide.BUY, this.lots, q.bidPx - this.params.offsetTicks).id;
  }
}
