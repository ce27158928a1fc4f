// The optimiser's task module for the worker pool: each worker keeps the shared data set from its setup and
// runs trials on it (see trial.ts).

import { runTrial, type TrialInput, type TrialSetup } from './trial.ts';

export const tasks = {
  trial: (input: TrialInput, ctx: { readonly setup: unknown }) => runTrial(ctx.setup as TrialSetup, input),
};
