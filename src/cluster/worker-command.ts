// `bot4 worker`: runs the trials of distributed optimisations (`bot4 optimize --cluster`) pulled from NATS
// JetStream, any number of them on any number of machines. Registered at start-up without loading anything of
// NATS or the engine (they load when the command runs: `bot4 --help` stays fast).

import { availableParallelism } from 'node:os';
import type { Command } from 'commander';
import { Bot4Error, ErrorCode } from '../core/errors.ts';

interface WorkerCliOptions {
  cluster: string;
  workers?: string;
  verbose?: boolean;
}

export function registerWorkerCommand(program: Command): void {
  program
    .command('worker')
    .description('run trials of `bot4 optimize --cluster` searches pulled from NATS JetStream')
    .requiredOption('--cluster <urls>', 'NATS servers: nats://host:4222 (comma-separated for a cluster)')
    .option('-w, --workers <n>', 'trials at once, one thread each (default: every core)')
    .option('-v, --verbose', 'a line per trial started and stored')
    .addHelpText(
      'after',
      `
The coordinator (bot4 optimize ... --cluster URL) queues each round's trials on a JetStream work queue; every
worker pulls trials, runs them, stores the result on the results stream, and only then acknowledges the trial:
a worker that dies mid-trial has its trial run by another after --cluster-ack-wait. Data is loaded by
reference: the --data paths and catalog folder of the coordinator must be readable here at the same paths
(a shared mount); a worker whose data or strategy file differs from the coordinator's refuses the job.

Examples:
  bot4 worker --cluster nats://127.0.0.1:4222
  bot4 worker --cluster nats://10.0.0.1:4222,nats://10.0.0.2:4222 --workers 8

Stop with Ctrl-C: running trials finish and are stored first. Exit codes: 0 stopped, 1 failure, 2 bad input.`,
    )
    .action(async (opts: WorkerCliOptions) => {
      const { parseClusterUrls } = await import('./nats.ts');
      const urls = parseClusterUrls(opts.cluster);
      const slots = opts.workers === undefined ? Math.max(1, availableParallelism()) : Number(opts.workers);
      if (!Number.isInteger(slots) || slots < 1 || !/^\d+$/.test(opts.workers ?? '1')) {
        throw new Bot4Error(
          ErrorCode.INVALID_ARGUMENT,
          `--workers must be a whole number >= 1, got '${opts.workers}'`,
        );
      }
      const { runWorker, WORKER_NAME } = await import('./trial-worker.ts');
      const stop = new AbortController();
      const onSignal = (): void => {
        if (stop.signal.aborted) process.exit(130);
        process.stderr.write('\nstopping: finishing the running trials (Ctrl-C again to quit now)\n');
        stop.abort();
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      const log = (line: string): void => {
        process.stderr.write(`worker ${WORKER_NAME}: ${line}\n`);
      };
      log(`${slots} slot(s) on ${urls.join(',')}`);
      try {
        const s = await runWorker({ urls, slots, signal: stop.signal, log, verbose: opts.verbose === true });
        log(
          `stopped: ran ${s.ran} trials (${s.redelivered} redelivered, ${s.alreadyDone} already done, ${s.duplicates} duplicate results discarded)`,
        );
      } finally {
        process.removeListener('SIGINT', onSignal);
        process.removeListener('SIGTERM', onSignal);
      }
    });
}
