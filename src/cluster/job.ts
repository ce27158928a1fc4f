// A distributed optimisation's job: what a worker on another machine needs to rebuild the coordinator's trial
// setup. Data goes by reference (the file paths and catalog queries, a shared catalog folder), never by value;
// each worker loads it once per job, and the data set's fingerprint (rows and instruments, fee rates included)
// must equal the coordinator's, as must the strategy file's content hash, or the worker refuses the job (a
// mounted catalog of another version would otherwise give other results silently).

import { createHash } from 'node:crypto';
import type { TrialInput, TrialSetup } from '../backtest/optimize/trial.ts';
import { type DataSource, loadData, strategyIdentity } from '../cli/optimize-command.ts';
import { Bot4Error, ErrorCode } from '../core/errors.ts';
import type { FeeConfig } from '../model/fee-schedule.ts';
import { encode } from './codec.ts';

export interface OptimizeJob {
  readonly v: 1;
  /** The spec hash of the search (trials.jsonl's): trials and results are keyed under it. */
  readonly id: string;
  readonly source: DataSource;
  /** Absolute catalog folder for catalog: queries. */
  readonly catalogDir: string;
  readonly from?: number;
  readonly to?: number;
  readonly fees: { readonly config: FeeConfig; readonly option?: string };
  /** datasetFingerprint of the coordinator's data set. */
  readonly fingerprint: string;
  /** The coordinator's strategyIdentity (name, or absolute file path # content hash). */
  readonly strategyIdentity: string;
  /** Everything of the TrialSetup but the data. */
  readonly setup: Omit<TrialSetup, 'data'>;
}

/** The trial's id inside its job: a hash of its input (parameters, window, curve), so a re-run matches it. */
export function trialId(input: TrialInput): string {
  return createHash('sha256').update(encode(input)).digest('hex').slice(0, 20);
}

/** Loads the job's data from the worker's view of the shared paths, checking it is the coordinator's. */
export async function loadJobSetup(job: OptimizeJob): Promise<{ setup: TrialSetup; notes: string[] }> {
  const { datasetFingerprint } = await import('../backtest/optimize/dataset.ts');
  const { runFeeSchedules } = await import('../model/fee-schedule.ts');
  const identity = strategyIdentity(job.setup.strategy);
  if (identity !== job.strategyIdentity) {
    throw new Bot4Error(
      ErrorCode.TASK_FAILED,
      `job ${job.id}: strategy ${job.setup.strategy} here is ${identity}, the coordinator's is ${job.strategyIdentity}`,
    );
  }
  const { data, notes } = await loadData(
    job.source,
    job.catalogDir,
    {
      ...(job.from === undefined ? {} : { from: job.from }),
      ...(job.to === undefined ? {} : { to: job.to }),
    },
    runFeeSchedules(job.fees.config, job.fees.option),
  );
  const fp = datasetFingerprint(data);
  if (fp !== job.fingerprint) {
    throw new Bot4Error(
      ErrorCode.TASK_FAILED,
      `job ${job.id}: the data set loaded here (${data.label}) has fingerprint ${fp}, the coordinator's ${job.fingerprint}: the shared data differs`,
    );
  }
  return { setup: { ...job.setup, data }, notes };
}
