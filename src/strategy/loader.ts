// Loading strategies for the CLI and the optimiser: a built-in by name, or a user file (.ts/.mts/.js/.mjs) that
// exports a Strategy subclass. TypeScript files import natively under tsx, vitest or a Node that strips types;
// on a plain Node 20 (the compiled CLI) they go through tsx's scoped tsImport. Errors name the file and exports.

import { existsSync, statSync } from 'node:fs';
import { extname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Bot4Error, ErrorCode } from '../core/errors.ts';
import { resolveBot4ToEngine } from './bot4-resolution.ts';
import { BUILTIN_STRATEGIES } from './builtin/index.ts';
import { validateSchema } from './params.ts';
import { isStrategyClass, STRATEGY_BRAND, type StrategyClass } from './strategy.ts';

const TS_EXTENSIONS = ['.ts', '.mts', '.cts'];
/** The engine itself runs from TypeScript sources, so a TypeScript loader (tsx, vitest, Node) is active. */
const RUNNING_TS = import.meta.url.endsWith('.ts');
const JS_EXTENSIONS = ['.js', '.mjs', '.cjs'];

export interface LoadOptions {
  /** The export to take when the file exports several strategies (`--strategy file.ts:Name`). */
  readonly exportName?: string;
}

function loadError(
  file: string,
  message: string,
  details: Record<string, unknown> = {},
  cause?: unknown,
): Bot4Error {
  return new Bot4Error(
    ErrorCode.INVALID_ARGUMENT,
    `strategy file ${file}: ${message}`,
    { file, ...details },
    cause === undefined ? undefined : { cause },
  );
}

/**
 * Imports a module by URL. A .ts file on a Node that cannot run TypeScript fails with ERR_UNKNOWN_FILE_EXTENSION;
 * it is then imported through tsx's tsImport, which registers a loader for this one import chain only (nothing
 * global changes in the process). tsx must then be installed (it is a dev dependency of Bot4 today; the
 * published CLI needs it as a dependency to load .ts strategy files).
 */
async function importModule(url: string, file: string): Promise<Record<string, unknown>> {
  // The compiled engine runs without a TypeScript loader: straight to tsx (a native attempt would now parse the
  // file as JavaScript, the 'bot4' hook having declared it an ES module).
  if (!RUNNING_TS && TS_EXTENSIONS.includes(extname(file))) return importWithTsx(url, file);
  try {
    return (await import(url)) as Record<string, unknown>;
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    if (code !== 'ERR_UNKNOWN_FILE_EXTENSION' || !TS_EXTENSIONS.includes(extname(file))) throw e;
  }
  return importWithTsx(url, file);
}

/** Exported for the tests of the plain-Node path; the CLI goes through loadStrategyFile. */
export async function importWithTsx(url: string, file: string): Promise<Record<string, unknown>> {
  let api: { tsImport: (specifier: string, parentURL: string) => Promise<unknown> };
  try {
    api = (await import('tsx/esm/api')) as typeof api;
  } catch (e) {
    throw loadError(
      file,
      'is TypeScript, and this Node cannot import TypeScript without tsx; install it (npm install tsx), run with `npx tsx`, or compile the file to .js',
      {},
      e,
    );
  }
  // The 'bot4' hook must be registered before tsx's (hooks registered later run first): it then answers tsx's
  // resolver with 'bot4' and with the format of the user's .ts file (an ES module).
  resolveBot4ToEngine();
  return (await api.tsImport(url, import.meta.url)) as Record<string, unknown>;
}

function describeExports(mod: Record<string, unknown>): string {
  const names = Object.keys(mod).sort();
  if (names.length === 0) return 'it exports nothing';
  return `its exports are: ${names.map((n) => `${n} (${typeof mod[n]})`).join(', ')}`;
}

/** Strategy classes a module exports, by export name ('default' for the default export). */
function strategyExports(mod: Record<string, unknown>): [string, StrategyClass][] {
  const out: [string, StrategyClass][] = [];
  for (const [name, value] of Object.entries(mod)) {
    // A module often re-exports its default under a name as well: count each class once.
    if (isStrategyClass(value) && !out.some(([, c]) => c === value)) out.push([name, value]);
  }
  return out;
}

/** Checks what a strategy class must have: a concrete subclass with its own valid parameter schema. */
export function validateStrategyClass(value: unknown, where: string): StrategyClass {
  if (!isStrategyClass(value)) {
    const brand =
      typeof value === 'function' && Object.hasOwn(value, STRATEGY_BRAND)
        ? 'is the Strategy base class itself; export a subclass'
        : 'does not extend Strategy (import { Strategy } from bot4 and write `class X extends Strategy`)';
    throw new Bot4Error(ErrorCode.INVALID_ARGUMENT, `${where} ${brand}`, { where });
  }
  if (!Object.hasOwn(value, 'params')) {
    // Inherited from Strategy (or a parent strategy): be explicit, the CLI and the optimiser read it.
    throw new Bot4Error(
      ErrorCode.INVALID_ARGUMENT,
      `${where} (class ${value.name}) declares no parameter schema: add \`static override readonly params = { ... }\` (use {} for none)`,
      { where, class: value.name },
    );
  }
  validateSchema(value.params, `${where} (class ${value.name})`);
  return value;
}

/**
 * Imports a user strategy file and returns its strategy class: the default export if it is one, else the one
 * strategy class it exports by name (or `options.exportName`). Fails clearly when the file is missing, exports
 * no strategy, or exports several without a default.
 */
export async function loadStrategyFile(path: string, options: LoadOptions = {}): Promise<StrategyClass> {
  const file = resolve(path);
  if (!existsSync(file) || !statSync(file).isFile()) {
    throw new Bot4Error(
      ErrorCode.NOT_FOUND,
      `strategy file not found: ${file}${file === path ? '' : ` (given as '${path}')`}`,
      {
        file,
      },
    );
  }
  const ext = extname(file);
  if (!TS_EXTENSIONS.includes(ext) && !JS_EXTENSIONS.includes(ext)) {
    throw loadError(file, `has extension '${ext}'; a strategy file is .ts, .mts, .js or .mjs`);
  }
  let mod: Record<string, unknown>;
  try {
    // `import { Strategy } from 'bot4'` in a file outside any bot4 install resolves to this engine.
    resolveBot4ToEngine();
    mod = await importModule(pathToFileURL(file).href, file);
  } catch (e) {
    if (e instanceof Bot4Error) throw e;
    throw loadError(file, `failed to load: ${e instanceof Error ? e.message : String(e)}`, {}, e);
  }

  if (options.exportName !== undefined) {
    if (!Object.hasOwn(mod, options.exportName)) {
      throw loadError(file, `has no export named '${options.exportName}'; ${describeExports(mod)}`, {
        export: options.exportName,
      });
    }
    return validateStrategyClass(
      mod[options.exportName],
      `strategy file ${file}: export '${options.exportName}'`,
    );
  }
  if (mod['default'] !== undefined && isStrategyClass(mod['default'])) {
    return validateStrategyClass(mod['default'], `strategy file ${file}: default export`);
  }
  const found = strategyExports(mod);
  if (found.length === 1)
    return validateStrategyClass(found[0]![1], `strategy file ${file}: export '${found[0]![0]}'`);
  if (found.length === 0) {
    const hint =
      mod['default'] !== undefined
        ? ` Its default export is a ${typeof mod['default']}${typeof mod['default'] === 'function' ? ` (${(mod['default'] as { name: string }).name}) that does not extend Strategy` : ''}.`
        : '';
    throw loadError(file, `exports no Strategy subclass; ${describeExports(mod)}.${hint}`, {
      exports: Object.keys(mod),
    });
  }
  throw loadError(
    file,
    `exports several strategies (${found.map(([n]) => n).join(', ')}) and none as default; export one as default or pick one with ${file}:${found[0]![0]}`,
    { exports: found.map(([n]) => n) },
  );
}

/**
 * The CLI's `--strategy` value: a built-in name ('ema-cross'), or a file path, optionally with ':ExportName'.
 */
export async function resolveStrategy(spec: string): Promise<StrategyClass> {
  const builtin = Object.hasOwn(BUILTIN_STRATEGIES, spec) ? BUILTIN_STRATEGIES[spec] : undefined;
  if (builtin !== undefined) return builtin;
  const m = /^(.*\.(?:[cm]?ts|[cm]?js)):([A-Za-z_$][\w$]*)$/.exec(spec);
  const path = m === null ? spec : m[1]!;
  const ext = extname(path);
  if (!TS_EXTENSIONS.includes(ext) && !JS_EXTENSIONS.includes(ext)) {
    throw new Bot4Error(
      ErrorCode.NOT_FOUND,
      `unknown strategy '${spec}': built-in strategies are ${Object.keys(BUILTIN_STRATEGIES).join(', ')}; or give a .ts/.js file`,
      { strategy: spec, builtins: Object.keys(BUILTIN_STRATEGIES) },
    );
  }
  return loadStrategyFile(path, m === null ? {} : { exportName: m[2]! });
}
