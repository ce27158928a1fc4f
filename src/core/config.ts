// The whole engine configuration: one zod schema with defaults, loaded from a JSON file and overridden by
// environment variables. Unknown or invalid keys are errors that name the key and where it came from.
// Environment overrides: BOT4_<SECTION>__<KEY>[__<KEY>...], e.g. BOT4_MEMORY__POOLS__ORDERS=20000.

import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { FeeConfigSchema } from '../model/fee-schedule.ts';
import { RiskConfigSchema } from '../risk/risk-config.ts';
import { Bot4Error, ErrorCode } from './errors.ts';

/**
 * Object-pool capacities: 10,000 orders (the brief's). Only pools something reads have a key here: signal and
 * tick pools do not exist (tick stores take their capacity in code), so they have none.
 */
export const POOL_DEFAULTS = { orders: 10_000 } as const;

const growth = z.enum(['grow', 'fail']);

export const ConfigSchema = z.strictObject({
  engine: z
    .strictObject({
      traderId: z.string().min(1).default('BOT4-001'),
    })
    .prefault({}),
  logging: z
    .strictObject({
      level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
      /** Log file path; standard error when absent. */
      file: z.string().min(1).optional(),
    })
    .prefault({}),
  memory: z
    .strictObject({
      /** Preallocated object-pool capacities (the brief's defaults). */
      pools: z
        .strictObject({
          /** Orders the execution engine of `bot4 backtest` preallocates (it grows past them when needed). */
          orders: z.int().positive().default(POOL_DEFAULTS.orders),
        })
        .prefault({}),
      /** What a pool does when empty: grow (allocate more) or fail with POOL_EXHAUSTED. */
      growth: growth.default('grow'),
      /** Detects double release and foreign objects in pools (costs a few ns per release). */
      debugPools: z.boolean().default(false),
    })
    .prefault({}),
  risk: RiskConfigSchema.prefault({}),
  /** Maker/taker fee schedules of simulated venues (backtest, optimize); see src/model/fee-schedule.ts. */
  fees: FeeConfigSchema.prefault({}),
  data: z
    .strictObject({
      /** Folder of the shared real market data used by tests, benchmarks and demos. */
      sharedDir: z.string().min(1).default('../shared/data'),
      /** Folder of the embedded market-data catalog. */
      catalogDir: z.string().min(1).default('.bot4/catalog'),
      /** A backtest row older than one already replayed (late beyond the reorder window): deliver it now or drop it; counted and noted either way. */
      lateRows: z.enum(['deliver', 'drop']).default('deliver'),
    })
    .prefault({}),
});

export type Config = z.infer<typeof ConfigSchema>;
export type ConfigInput = z.input<typeof ConfigSchema>;

export const ENV_PREFIX = 'BOT4_';

/** Where each provided value came from, so an error can say "in file x" or "from env BOT4_...". */
type Sources = Map<string, string>;

/** Builds the config from optional file contents and environment variables. */
export function loadConfig(options: { file?: string; env?: NodeJS.ProcessEnv } = {}): Config {
  const sources: Sources = new Map();
  let raw: Record<string, unknown> = {};
  if (options.file !== undefined) {
    raw = readConfigFile(options.file);
    recordSources(raw, [], `file ${options.file}`, sources);
  }
  applyEnv(raw, options.env ?? {}, sources);
  return parseConfig(raw, sources);
}

export function parseConfig(raw: unknown, sources: Sources = new Map()): Config {
  const result = ConfigSchema.safeParse(raw);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  if (issue.code === 'unrecognized_keys') {
    const key = [...issue.path, issue.keys[0]!].join('.');
    const where = sources.get(key);
    throw new Bot4Error(
      ErrorCode.CONFIG_UNKNOWN_KEY,
      `unknown config key '${key}'${where ? ` (${where})` : ''}: remove it or check its spelling; ` +
        `known keys here: ${knownKeys(issue.path).join(', ')}`,
      { key },
    );
  }
  const key = issue.path.join('.');
  const where = sources.get(key);
  throw new Bot4Error(
    ErrorCode.CONFIG_INVALID,
    `invalid config key '${key}'${where ? ` (${where})` : ''}: ${issue.message}`,
    { key, issues: result.error.issues },
  );
}

function readConfigFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new Bot4Error(ErrorCode.CONFIG_FILE, `cannot read config file ${file}: ${(e as Error).message}`, {
      file,
    });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new Bot4Error(
      ErrorCode.CONFIG_FILE,
      `config file ${file} is not valid JSON: ${(e as Error).message}`,
      { file },
    );
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new Bot4Error(ErrorCode.CONFIG_FILE, `config file ${file} must hold a JSON object`, { file });
  }
  return value as Record<string, unknown>;
}

function recordSources(value: unknown, path: string[], where: string, sources: Sources): void {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) recordSources(v, [...path, k], where, sources);
  } else {
    sources.set(path.join('.'), where);
  }
}

/** BOT4_MEMORY__POOLS__ORDERS -> ['memory','pools','orders']; camelCase keys accept their snake form. */
function envPath(name: string): string[] {
  return name
    .slice(ENV_PREFIX.length)
    .split('__')
    .map((part) => part.toLowerCase().replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase()));
}

function applyEnv(raw: Record<string, unknown>, env: NodeJS.ProcessEnv, sources: Sources): void {
  for (const [name, text] of Object.entries(env)) {
    if (!name.startsWith(ENV_PREFIX) || text === undefined) continue;
    const path = envPath(name);
    let node: Record<string, unknown> = raw;
    for (const key of path.slice(0, -1)) {
      const child = node[key];
      if (child === null || typeof child !== 'object' || Array.isArray(child)) node[key] = {};
      node = node[key] as Record<string, unknown>;
    }
    node[path[path.length - 1]!] = envValue(text);
    sources.set(path.join('.'), `from env ${name}`);
  }
}

/** Numbers and booleans arrive as text in the environment; JSON-looking text is parsed, the rest is a string. */
function envValue(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function knownKeys(path: PropertyKey[]): string[] {
  let schema: z.ZodType = ConfigSchema;
  for (const key of path) {
    const shape = objectShape(schema);
    const next = shape?.[String(key)];
    if (next === undefined) return [];
    schema = next;
  }
  return Object.keys(objectShape(schema) ?? {});
}

function objectShape(schema: z.ZodType): Record<string, z.ZodType> | undefined {
  let s: z.ZodType = schema;
  // Unwrap defaults and optionals to reach the object underneath.
  while (s instanceof z.ZodDefault || s instanceof z.ZodOptional || s instanceof z.ZodPrefault) {
    s = s.unwrap() as z.ZodType;
  }
  return s instanceof z.ZodObject ? (s.shape as Record<string, z.ZodType>) : undefined;
}
