// Typed errors for the edges of the engine (config, files, CLI, venue input).
// Every error has a stable machine-readable code and a message that names the bad input and, where
// possible, how to fix it. The hot path never throws: it returns reason codes instead.

export const ErrorCode = {
  CONFIG_INVALID: 'CONFIG_INVALID',
  CONFIG_UNKNOWN_KEY: 'CONFIG_UNKNOWN_KEY',
  CONFIG_FILE: 'CONFIG_FILE',
  INVALID_ARGUMENT: 'INVALID_ARGUMENT',
  POOL_EXHAUSTED: 'POOL_EXHAUSTED',
  POOL_DOUBLE_RELEASE: 'POOL_DOUBLE_RELEASE',
  POOL_FOREIGN_OBJECT: 'POOL_FOREIGN_OBJECT',
  CAPACITY: 'CAPACITY',
  RING_FULL: 'RING_FULL',
  RING_EMPTY: 'RING_EMPTY',
  RING_LAYOUT: 'RING_LAYOUT',
  CLOCK: 'CLOCK',
  DATA_MALFORMED: 'DATA_MALFORMED',
  DATA_MISSING: 'DATA_MISSING',
  NOT_FOUND: 'NOT_FOUND',
  DECIMAL_INVALID: 'DECIMAL_INVALID',
  NUMERIC_OVERFLOW: 'NUMERIC_OVERFLOW',
  ILLEGAL_TRANSITION: 'ILLEGAL_TRANSITION',
  ORDER_INVALID: 'ORDER_INVALID',
  TASK_FAILED: 'TASK_FAILED',
  WORKER_FAILED: 'WORKER_FAILED',
  POOL_CLOSED: 'POOL_CLOSED',
  INTERNAL: 'INTERNAL',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export class Bot4Error extends Error {
  readonly code: ErrorCode;
  /** Facts about the failure (key, value, file, line...), for logs and machine consumers. */
  readonly details: Readonly<Record<string, unknown>>;

  constructor(
    code: ErrorCode,
    message: string,
    details: Record<string, unknown> = {},
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'Bot4Error';
    this.code = code;
    this.details = details;
  }
}

/** A broken invariant is a bug: fail loudly with the facts. */
export function invariant(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Bot4Error(ErrorCode.INTERNAL, `invariant violated: ${message}`);
}

export function isBot4Error(e: unknown): e is Bot4Error {
  return e instanceof Bot4Error;
}
