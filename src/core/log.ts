// Structured logging (pino). Off the hot path: log at the edges (start, stop, errors, summaries),
// never per event. Writes to standard error by default so standard output stays for results.

import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { type Logger, pino } from 'pino';
import type { Config } from './config.ts';

export type { Logger };

export function createLogger(config: Pick<Config, 'logging'>, name = 'bot4'): Logger {
  const { level, file } = config.logging;
  if (file !== undefined) mkdirSync(dirname(file), { recursive: true });
  // Synchronous writes: logging is off the hot path, and a crash must not lose the lines that explain it.
  const destination = pino.destination({ dest: file ?? 2, sync: true });
  return pino({ name, level }, destination);
}

/** A logger that drops everything, for tests and library use. */
export const silentLogger: Logger = pino({ level: 'silent' });
