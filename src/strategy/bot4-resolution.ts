// 'bot4' for strategy files anywhere on disk: a strategy (or its test) imports `{ Strategy } from 'bot4'`, and a
// file in a folder without node_modules/bot4 could not resolve that. The engine maps the bare specifier 'bot4'
// to its own API module (src/api.ts, or dist/src/api.js when built) with a Node module resolve hook, so a user
// file gets the very engine that runs it, whatever is installed beside it. The hook also makes a user's .ts file
// an ES module where no package.json says `"type": "module"` (tsx would compile it to CommonJS, whose require()
// the hook cannot reach). Nothing else is redirected.
// Vitest (which does not use Node's hooks) maps it in vitest.config.ts the same way.

import { createRequire, register } from 'node:module';
import { sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const FROM_SOURCE = import.meta.url.endsWith('.ts');

/** The engine's package root, with a trailing separator (src/strategy or dist/src/strategy up from here). */
export const ENGINE_ROOT: string = fileURLToPath(
  new URL(FROM_SOURCE ? '../../' : '../../../', import.meta.url),
);

/**
 * Whether a file is the engine's own code (its src/ or dist/, or an installed package), not a strategy author's:
 * user files inside the repository (examples/, strategies/) are the author's.
 */
export function isEngineFile(path: string): boolean {
  return (
    path.startsWith(`${ENGINE_ROOT}src${sep}`) ||
    path.startsWith(`${ENGINE_ROOT}dist${sep}`) ||
    path.includes(`${sep}node_modules${sep}`)
  );
}

/** URL of the engine's API module: the one `import ... from 'bot4'` gets. */
export const BOT4_API_URL: string = new URL(FROM_SOURCE ? '../api.ts' : '../api.js', import.meta.url).href;

/** The resolve hook, as a module (a data: URL: no file to ship beside the compiled code). */
const HOOKS = `let target;
export async function initialize(data) { target = data.target; }
export async function resolve(specifier, context, next) {
  if (specifier === 'bot4') {
    // The built engine is plain JS: the user gets this very copy. A .ts engine (run from source) goes through
    // the rest of the chain (tsx's loader) like any other import.
    if (target.endsWith('.js')) return { url: target, format: 'module', shortCircuit: true };
    return next(target, context);
  }
  const r = await next(specifier, context);
  if (/^file:[^?]*\\.ts(\\?|$)/.test(r.url) && !r.url.includes('/node_modules/')) {
    // No format: nothing said what it is (tsx's scoped import asks us before deciding): an ES module.
    if (r.format === 'commonjs' || r.format === undefined || r.format === null) return { ...r, format: 'module' };
    if (r.format === 'commonjs-typescript') return { ...r, format: 'module-typescript' };
  }
  return r;
}`;
export const BOT4_HOOKS_URL = `data:text/javascript,${encodeURIComponent(HOOKS)}`;

let registered = false;

/**
 * Registers the hook in this process once; safe to call before every user import. Register it before any
 * TypeScript loader (tsx's tsImport registers its own per import): hooks registered later run first, so tsx's
 * resolver then asks this one, which answers 'bot4' and the user's .ts file's format.
 */
export function resolveBot4ToEngine(): void {
  if (registered) return;
  registered = true;
  register(BOT4_HOOKS_URL, { data: { target: BOT4_API_URL } });
}

/**
 * Node options for a child process that runs user TypeScript importing 'bot4' (a strategy's own tests): tsx's
 * loader, then a preload that registers the hook above. Absolute URLs: the child's folder need not hold either.
 */
export function bot4NodeArgs(): string[] {
  const tsx = createRequire(import.meta.url).resolve('tsx');
  const preload = `import { register } from 'node:module'; register(${JSON.stringify(BOT4_HOOKS_URL)}, { data: { target: ${JSON.stringify(BOT4_API_URL)} } });`;
  return [
    '--import',
    pathToFileURL(tsx).href,
    '--import',
    `data:text/javascript,${encodeURIComponent(preload)}`,
  ];
}
