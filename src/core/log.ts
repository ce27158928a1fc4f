// Structured logging (pino). Off the hot path: log at the edges (start, stop, errors, summaries),
// never per event. Writes to standard error by default so standard output stays for results.

import { type Logger, pino } from 'pino';
import type { Config } from './config.ts';

export type { Logger };

export function createLogger(config: Pick<Config, 'logging'>, name = 'bot4'): Logger {
  const { level, file } = config.logging;
  const destination =
    file === undefined ? pino.destination(2) : pino.destination({ dest: file, mkdir: true });
  return pino({ name, level }, destination);
}

/** A logger that drops everything, for tests and library use. */
export const silentLogger: Logger = pino({ level: 'silent' });
