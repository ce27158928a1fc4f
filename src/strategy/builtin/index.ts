// The built-in strategies by CLI name (`bot4 backtest --strategy ema-cross`). Names are stable: reports and
// saved optimiser results refer to them. A user strategy file is loaded with loadStrategyFile instead.

import type { StrategyClass } from '../strategy.ts';
import { DonchianBreakout } from './donchian-breakout.ts';
import { EmaCross } from './ema-cross.ts';
import { MarketMaker } from './market-maker.ts';
import { MeanReversion } from './mean-reversion.ts';
import { MlSignal } from './ml-signal.ts';
import { PairsTrading } from './pairs.ts';

export const BUILTIN_STRATEGIES: Readonly<Record<string, StrategyClass>> = Object.freeze({
  'ema-cross': EmaCross,
  'mean-reversion': MeanReversion,
  'donchian-breakout': DonchianBreakout,
  'market-maker': MarketMaker,
  pairs: PairsTrading,
  'ml-signal': MlSignal,
});

export { DonchianBreakout, EmaCross, MarketMaker, MeanReversion, MlSignal, PairsTrading };
