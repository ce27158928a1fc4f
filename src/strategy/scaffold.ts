// `bot4 strategy new NAME`: a strategy file and its test, ready to run from any folder. Both import from 'bot4'
// (resolved to the engine that runs them, see bot4-resolution.ts); the strategy is a complete, working EMA
// filter to edit, and the test backtests it on the demo market with `backtest()`. No file is overwritten.

import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Bot4Error, ErrorCode } from '../core/errors.ts';

/** 'mean-revert' -> 'MeanRevert'. */
export function className(name: string): string {
  return name
    .split(/[-_]/)
    .filter((p) => p !== '')
    .map((p) => p[0]!.toUpperCase() + p.slice(1))
    .join('');
}

export function strategySource(name: string): string {
  const cls = className(name);
  return `// ${cls}: made by \`bot4 strategy new ${name}\`. Long while the bar close is above its EMA, flat below.
//   bot4 strategy check ${name}.ts                 type-check against the Strategy API
//   bot4 strategy test ${name}.test.ts             run its test
//   bot4 backtest --strategy ${name}.ts --data <candles or ticks>
// Prices arrive in ticks and sizes in lots (integers); buy/sell/closePosition take decimal strings.
import { type Bar, Ema, int, Strategy, type Subscriptions, text } from 'bot4';

const params = {
  instrument: text({ default: 'BTCUSDT', description: 'instrument traded (SYMBOL or SYMBOL.VENUE)' }),
  interval: text({ default: '1m', description: 'bar interval (1m, 15m, 1h...)' }),
  period: int({ default: 20, min: 2, max: 500, description: 'EMA period in bars' }),
  qty: text({ default: '0.01', description: 'order size in base units' }),
};

export default class ${cls} extends Strategy<typeof params> {
  static override readonly params = params;
  static override readonly description = 'long above the EMA of the close, flat below';
  private readonly ema = new Ema(this.params.period);

  override subscriptions(): Subscriptions {
    return { bars: [{ instrument: this.params.instrument, interval: this.params.interval }] };
  }

  override warmUp(): { done: boolean; needed: number } {
    return { done: this.ema.ready, needed: this.params.period };
  }

  override onBar(bar: Bar): void {
    const ema = this.ema.update(bar.close);
    if (!this.ema.ready || this.openOrders().length > 0) return; // warming up, or an order is on its way
    const held = this.netQty(bar.instrumentId) !== 0;
    if (!held && bar.close > ema) this.buy(this.params.instrument, this.params.qty);
    else if (held && bar.close < ema) this.closePosition(this.params.instrument);
  }
}
`;
}

export function testSource(name: string): string {
  const cls = className(name);
  return `// The test of ${name}.ts: \`bot4 strategy test ${name}.test.ts\` (node:test; in a project with bot4 installed,
// \`npx tsx --test ${name}.test.ts\` works too). backtest() runs the strategy as \`bot4 backtest\` would.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { backtest } from 'bot4';
import ${cls} from './${name}.ts';

test('${name} trades on the demo market, and only after its EMA is ready', async () => {
  const r = await backtest(${cls}, { demo: { hours: 12, seed: 7 }, params: { period: 30 } });
  assert.equal(r.partial, false);
  assert.ok(r.stats.trades > 0, 'no closed trade in 12 demo hours');
  // The first entry comes no earlier than the close of the 30th one-minute bar.
  const first = r.recording.trades[0]!;
  assert.ok(first.entryTs >= r.recording.startTs + 30 * 60_000_000, 'entered before the EMA was ready');
});
`;
}

/** Writes DIR/NAME.ts and DIR/NAME.test.ts; returns their paths. */
export function scaffoldStrategy(name: string, dir = '.'): { strategy: string; test: string } {
  if (!/^[a-z][a-z0-9]*(?:[-_][a-z0-9]+)*$/i.test(name)) {
    throw new Bot4Error(
      ErrorCode.INVALID_ARGUMENT,
      `strategy name '${name}' must be letters and digits, words joined by - or _ (e.g. my-breakout)`,
      { name },
    );
  }
  const root = resolve(dir);
  const strategy = join(root, `${name}.ts`);
  const test = join(root, `${name}.test.ts`);
  for (const f of [strategy, test]) {
    if (existsSync(f)) {
      throw new Bot4Error(ErrorCode.INVALID_ARGUMENT, `${f} already exists; pick another name or folder`, {
        file: f,
      });
    }
  }
  mkdirSync(root, { recursive: true });
  writeFileSync(strategy, strategySource(name));
  writeFileSync(test, testSource(name));
  return { strategy, test };
}
