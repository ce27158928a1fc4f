// The `bot4` package's entry (`import { Strategy } from 'bot4'`): what a strategy file anywhere on disk needs,
// the Strategy API with its parameter helpers and types, the indicators, and `backtest()` for the author's own
// tests. package.json `exports` points here (dist/src/api.js and its .d.ts); `bot4 backtest`, `strategy check`
// and `strategy test` resolve 'bot4' to the running engine's copy of this module (strategy/bot4-resolution.ts).

export { type BacktestRunOptions, backtest } from './backtest/run-api.ts';
export type { BacktestResult } from './backtest/runner.ts';
export * from './indicators/index.ts';
export * from './strategy/index.ts';
// The indicator registry has parameter helpers of the same names; a strategy file means the strategy ones.
export { describeParams, type ParamSpec, resolveParams } from './strategy/index.ts';
