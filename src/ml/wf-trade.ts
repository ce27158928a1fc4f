// Walk-forward trading of models trained here: each fold's model (trained on its purged in-sample rows) is written
// to a file and traded by the ml-signal strategy over that fold's out-of-sample window only, on the market data the
// dataset came from. Folds chain their equity (each starts from the last one's return) into a stitched
// out-of-sample return, as the optimiser's walk-forward reports. Features warm up afresh at each window's start.

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openBacktestData } from '../backtest/data-query.ts';
import { runBacktest } from '../backtest/runner.ts';
import { newInstrumentRegistry } from '../model/instrument.ts';
import type { RiskConfig } from '../risk/risk-config.ts';
import { MlSignal } from '../strategy/builtin/ml-signal.ts';
import { parseParams } from '../strategy/params.ts';
import { linearModelFile } from './model-file.ts';
import type { FoldResult } from './train.ts';

export interface FoldTrade {
  readonly fold: number;
  readonly from: number;
  readonly to: number;
  readonly modelFile: string;
  readonly totalReturn: number | null;
  readonly sharpe: number | null;
  readonly maxDrawdown: number;
  readonly trades: number;
  readonly orders: number;
}

export interface TradeFoldsOptions {
  readonly folds: readonly FoldResult[];
  readonly features: readonly string[];
  /** Market-data specs (files or catalog queries) the dataset was built from. */
  readonly data: readonly string[];
  readonly catalogDir: string;
  /** ml-signal parameters as key=value (model is set per fold). */
  readonly params: readonly string[];
  readonly balances: readonly { currency: string; amount: string }[];
  readonly riskConfig?: RiskConfig;
  /** Where the fold models are written. */
  readonly dir: string;
  readonly trainer: string;
  readonly onFold?: (k: number, n: number) => void;
  readonly signal?: AbortSignal;
}

export async function tradeFolds(
  o: TradeFoldsOptions,
): Promise<{ folds: FoldTrade[]; stitchedReturn: number }> {
  const out: FoldTrade[] = [];
  let growth = 1;
  for (const r of o.folds) {
    const k = r.fold.index + 1;
    const modelFile = join(o.dir, `fold-${k}.model.json`);
    const file = linearModelFile(r.model, o.features, {
      trainer: o.trainer,
      fold: k,
      from: r.fold.inSample.from,
      to: r.fold.inSample.to,
      rows: r.trainRows,
    });
    writeFileSync(modelFile, `${JSON.stringify(file, null, 2)}\n`);
    const params = parseParams(MlSignal.params, [...o.params, `model=${modelFile}`], 'strategy MlSignal');
    const strategy = new MlSignal(params);
    const instruments = newInstrumentRegistry();
    const { from, to } = r.fold.outOfSample;
    const opened = await openBacktestData(o.data, { instruments, catalogDir: o.catalogDir, from, to });
    try {
      const res = await runBacktest({
        strategies: [{ strategy, parameters: params }],
        instruments,
        data: opened.data,
        dataLabel: opened.label,
        balances: o.balances,
        from,
        to,
        ...(o.riskConfig === undefined ? {} : { riskConfig: o.riskConfig }),
        ...(o.signal === undefined ? {} : { signal: o.signal }),
      });
      const s = res.stats;
      growth *= 1 + (s.totalReturn ?? 0);
      out.push({
        fold: k,
        from,
        to,
        modelFile,
        totalReturn: s.totalReturn,
        sharpe: s.sharpe,
        maxDrawdown: s.maxDrawdown,
        trades: s.trades,
        orders: s.orders,
      });
    } finally {
      opened.close();
    }
    o.onFold?.(k, o.folds.length);
  }
  return { folds: out, stitchedReturn: growth - 1 };
}
