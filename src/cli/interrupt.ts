// Ctrl-C or SIGTERM during a long command (backtest, optimize): the first stops the work cleanly through an
// AbortSignal, so the command can still write its partial report, then throw `Interrupted` (exit code 130); a
// second one exits at once. SIGTERM is what `kill`, systemd and container engines send: it gets the same clean
// stop. Outside such a command nothing listens and Node's default applies (the process ends).

/** Thrown by a command that stopped early on Ctrl-C after saving what it had; `run` maps it to exit code 130. */
export class Interrupted extends Error {}

export interface Interrupt {
  readonly signal: AbortSignal;
  /** Stops listening; call it when the work is over, whatever its outcome. */
  dispose(): void;
}

/** Listens for Ctrl-C and SIGTERM until `dispose`; `notice` is printed on the first (say what happens next). */
export function onInterrupt(notice: string): Interrupt {
  const controller = new AbortController();
  const handler = (): void => {
    if (controller.signal.aborted) process.exit(130);
    process.stderr.write(`\n${notice} (Ctrl-C again to quit now)\n`);
    controller.abort();
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return {
    signal: controller.signal,
    dispose: () => {
      process.removeListener('SIGINT', handler);
      process.removeListener('SIGTERM', handler);
    },
  };
}
