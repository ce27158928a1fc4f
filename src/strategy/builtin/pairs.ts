// Pairs / statistical arbitrage on bar closes of two instruments: a rolling OLS fit a = alpha + beta*b over
// `window` bars gives the hedge ratio, the z-score is the latest residual over the window's residual deviation.
// Opens the spread when |z| > entryZ (short a / long beta*b when z > 0), closes it when |z| < exitZ.

import { Bot4Error, ErrorCode } from '../../core/errors.ts';
import type { InstrumentId } from '../../core/units.ts';
import { RollingCovariance, RollingMoments } from '../../indicators/statistics.ts';
import type { Instrument } from '../../model/instrument.ts';
import type { Bar } from '../../model/market-data.ts';
import { choice, float, int, type ParamInput, text } from '../params.ts';
import { Strategy, type Subscriptions } from '../strategy.ts';

const PARAMS = {
  a: text({ default: 'ETHUSDT', description: 'the leg sized by qty (dependent variable of the fit)' }),
  b: text({ default: 'BTCUSDT', description: 'the hedge leg, sized beta x qty' }),
  interval: choice(['1m', '5m', '15m', '1h', '4h', '1d'], { default: '1m', description: 'bar interval' }),
  window: int({
    default: 60,
    min: 5,
    max: 100_000,
    step: 10,
    description: 'bars in the rolling fit and z-score',
  }),
  entryZ: float({
    default: 2,
    min: 0,
    max: 10,
    step: 0.25,
    description: 'open the spread when |z| exceeds this',
  }),
  exitZ: float({
    default: 0.5,
    min: 0,
    max: 10,
    step: 0.25,
    description: 'close the spread when |z| falls below this',
  }),
  qty: float({
    default: 0.1,
    min: 0,
    step: 0.1,
    description: 'size of leg a in base units (a lot multiple)',
  }),
};

export class PairsTrading extends Strategy<typeof PARAMS> {
  static override readonly params = PARAMS;
  static override readonly description =
    'Pairs trading on a rolling OLS hedge ratio and the z-score of the residual';

  /** Latest fit and signal, for tests and reports. */
  beta = Number.NaN;
  alpha = Number.NaN;
  z = Number.NaN;
  /** +1 long the spread (long a, short b), -1 short it, 0 flat. */
  direction = 0;
  private readonly cov = new RollingCovariance(this.params.window);
  private readonly meanA = new RollingMoments(this.params.window);
  private readonly meanB = new RollingMoments(this.params.window);
  private aId = 0 as InstrumentId;
  private bId = 0 as InstrumentId;
  private aTick = 0;
  private bTick = 0;
  private aLots = 0;
  private bLotSize = 0;
  private pxA = Number.NaN;
  private pxB = Number.NaN;
  private tsA = Number.NaN;
  private tsB = Number.NaN;

  constructor(params: ParamInput<typeof PARAMS> = {}) {
    super(params);
    if (this.params.exitZ >= this.params.entryZ) {
      throw new Bot4Error(
        ErrorCode.INVALID_ARGUMENT,
        `strategy ${this.name}: 'exitZ' (${this.params.exitZ}) must be below 'entryZ' (${this.params.entryZ})`,
      );
    }
  }

  override subscriptions(): Subscriptions {
    const { a, b, interval } = this.params;
    return {
      bars: [
        { instrument: a, interval },
        { instrument: b, interval },
      ],
    };
  }

  override onStart(): void {
    const a: Instrument = this.instrument(this.params.a);
    const b: Instrument = this.instrument(this.params.b);
    if (a === b)
      throw new Bot4Error(ErrorCode.INVALID_ARGUMENT, `strategy ${this.name}: legs a and b are the same`);
    this.aId = a.id;
    this.bId = b.id;
    // The fit runs on prices in quote currency (ticks x tick size), so beta is units of b per unit of a.
    this.aTick = a.tickSize.value;
    this.bTick = b.tickSize.value;
    this.aLots = a.qtyFromFloat(this.params.qty);
    this.bLotSize = b.lotSize.value;
    if (this.aLots <= 0)
      throw new Bot4Error(ErrorCode.INVALID_ARGUMENT, `strategy ${this.name}: qty must be at least one lot`);
  }

  override onBar(bar: Bar): void {
    const id = bar.instrumentId;
    if (id === this.aId) {
      this.pxA = bar.close * this.aTick;
      this.tsA = bar.tsClose;
    } else if (id === this.bId) {
      this.pxB = bar.close * this.bTick;
      this.tsB = bar.tsClose;
    } else return;
    // One step per bar time, once both legs have closed it.
    if (this.tsA === this.tsB) {
      this.tsB = Number.NaN;
      this.step(this.pxA, this.pxB);
    }
  }

  private step(pa: number, pb: number): void {
    const cov = this.cov;
    cov.push(pb, pa);
    this.meanA.push(pa);
    this.meanB.push(pb);
    if (!cov.full) return;
    const sxx = cov.sxx;
    if (!(sxx > 0)) return;
    const beta = cov.sxy / sxx;
    const alpha = this.meanA.mean - beta * this.meanB.mean;
    // Residual sum of squares of the window's fit: Syy - beta * Sxy.
    const rss = cov.syy - beta * cov.sxy;
    const sd = rss > 0 ? Math.sqrt(rss / this.params.window) : 0;
    const z = sd > 0 ? (pa - alpha - beta * pb) / sd : 0;
    this.beta = beta;
    this.alpha = alpha;
    this.z = z;
    const p = this.params;
    if (this.direction === 0) {
      if (z > p.entryZ) this.open(-1, beta);
      else if (z < -p.entryZ) this.open(1, beta);
    } else if (Math.abs(z) < p.exitZ) {
      this.direction = 0;
      this.rebalanceTo(this.aId, 0);
      this.rebalanceTo(this.bId, 0);
    }
  }

  /** The hedge is sized at entry (beta x qty of b) and held until exit; it is not re-hedged bar by bar. */
  private open(direction: number, beta: number): void {
    const bLots = Math.round((beta * this.params.qty) / this.bLotSize);
    this.direction = direction;
    this.rebalanceTo(this.aId, direction * this.aLots);
    this.rebalanceTo(this.bId, -direction * bLots);
  }
}
