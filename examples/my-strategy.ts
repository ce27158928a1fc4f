// An example user strategy: long while the close is above its EMA, flat below it.
// Run it with: bot4 backtest --strategy examples/my-strategy.ts --param period=50
import { Ema } from '../src/indicators/moving-averages.ts';
import { type Bar, int, Strategy, type Subscriptions, text } from '../src/strategy/index.ts';

const params = {
  instrument: text({ default: 'BTCUSDT', description: 'instrument traded' }),
  period: int({ default: 20, min: 2, max: 500, description: 'EMA period in bars' }),
  qty: text({ default: '0.01', description: 'order size in base units' }),
};

export default class AboveEma extends Strategy<typeof params> {
  static override readonly params = params;
  private readonly ema = new Ema(this.params.period);

  override subscriptions(): Subscriptions {
    return { bars: [{ instrument: this.params.instrument, interval: '1m' }] };
  }

  override onBar(bar: Bar): void {
    if (this.openOrders().length > 0) return; // an order is still on its way
    const ema = this.ema.update(bar.close);
    const held = this.netQty(bar.instrumentId) !== 0;
    if (!held && bar.close > ema) this.buy(this.params.instrument, this.params.qty);
    else if (held && bar.close < ema) this.closePosition(this.params.instrument);
  }
}
