// The feed-worker test's strategy: its decision depends on the quote alone (place a far limit buy when the
// bookTicker update id is a multiple of 3; cancel the previous one on every quote), so two nodes that see the
// same quotes must send the same orders whichever thread decoded them. It keeps what it saw and sent (a test
// strategy: it allocates, the built-in ones do not). Loaded by path, as a user's strategy file.

import type { InstrumentId, OrderId } from '../core/units.ts';
import type { QuoteTick } from '../model/market-data.ts';
import { OrderSide } from '../model/order.ts';
import { text } from '../strategy/params.ts';
import { Strategy, type Subscriptions } from '../strategy/strategy.ts';

const PARAMS = { instrument: text({ default: 'BTCUSDT', description: 'instrument traded' }) };

export default class EveryThirdQuote extends Strategy<typeof PARAMS> {
  static override readonly params = PARAMS;
  static override readonly description = 'test: a far limit buy on quotes whose update id is a multiple of 3';

  /** bookTicker update id -> the quote's bid and ask (ticks), and the price of the order it sent. */
  readonly quotes = new Map<number, string>();
  readonly orders = new Map<number, number>();
  private id = 0 as InstrumentId;
  private lots = 0;
  private open = 0 as OrderId;

  override subscriptions(): Subscriptions {
    return { quotes: [this.params.instrument] };
  }

  override onStart(): void {
    const inst = this.instrument(this.params.instrument);
    this.id = inst.id;
    this.lots = inst.qtyFromFloat(0.001);
  }

  override onQuote(q: QuoteTick): void {
    if (q.instrumentId !== this.id) return;
    this.quotes.set(q.sequence, `${q.bidPx}/${q.askPx}/${q.bidQty}/${q.askQty}`);
    if (this.open !== 0) {
      this.cancel(this.open);
      this.open = 0 as OrderId;
    }
    if (q.sequence % 3 !== 0) return;
    const px = Math.max(1, q.bidPx - 50_000);
    this.open = this.submitLimit(this.id, OrderSide.BUY, this.lots, px).id;
    this.orders.set(q.sequence, px);
  }
}
