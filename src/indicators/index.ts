// Streaming technical indicators: every class, batch function and the name registry, from one import.
// Each indicator updates in O(1) (CCI: O(period)), returns NaN while warming up and allocates nothing per update;
// see each module for its convention (TA-Lib's by default, with options for Tulip and StockCharts).

export { checkBatch, type EmaSeed, MAX_PERIOD, RollingExtreme } from './common.ts';
export {
  BookImbalance,
  depthImbalance,
  Microprice,
  RealizedVolatility,
  TradeFlowImbalance,
} from './microstructure.ts';
export { Dema, Ema, emaBatch, Hma, Kama, Sma, smaBatch, Tema, Wma, wmaBatch } from './moving-averages.ts';
export {
  Cci,
  Macd,
  Momentum,
  macdBatch,
  Roc,
  Rsi,
  type RsiSeed,
  rsiBatch,
  Stochastic,
  StochRsi,
  WilliamsR,
} from './oscillators.ts';
export {
  CANDLE_INPUTS,
  createIndicator,
  describeParams,
  getIndicator,
  INDICATOR_NAMES,
  INDICATORS,
  type IndicatorSpec,
  type InputName,
  type ParamSpec,
  type Params,
  type ParamType,
  type ParamValue,
  resolveParams,
  type StreamingIndicator,
} from './registry.ts';
export {
  Beta,
  type BetaInput,
  Correlation,
  type Ddof,
  LinReg,
  RollingCovariance,
  RollingMoments,
  StdDev,
  ZScore,
} from './statistics.ts';
export { Adx, type AdxConvention, Aroon, ParabolicSar, type SarConvention } from './trend.ts';
export {
  Atr,
  atrBatch,
  BollingerBands,
  bbandsBatch,
  DonchianChannels,
  type FirstTrueRange,
  KeltnerChannels,
  Natr,
} from './volatility.ts';
export { Mfi, Obv, type ObvStart, Vwap } from './volume.ts';
