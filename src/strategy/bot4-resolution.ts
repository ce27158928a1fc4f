// 'bot4' for strategy files anywhere on disk: a strategy (or its test) imports `{ Strategy } from 'bot4'`, and a
// file in a folder without node_modules/bot4 could not resolve that. The engine maps the bare specifier 'bot4'
// to its own API module (src/api.ts, or dist/src/api.js when built) with a Node module resolve hook, so a user
// file gets the very engine that runs it, whatever is installed beside it. Nothing else is redirected.
// Vitest (which does not use Node's hooks) maps it in vitest.config.ts the same way.

import { createRequire, register } from 'node:module';

const FROM_SOURCE = import.meta.url.endsWith('.ts');

/** URL of the engine's API module: the one `import ... from 'bot4'` gets. */
export const BOT4_API_URL: string = new URL(FROM_SOURCE ? '../api.ts' : '../api.js', import.meta.url).href;

/** The resolve hook, as a module (a data: URL: no file to ship beside the compiled code). */
const HOOKS = `let target;
export async function initialize(data) { target = data.target; }
export async function resolve(specifier, context, next) {
  // The rest of the chain (tsx's loader for a .ts engine) resolves the engine's URL as any other import.
  const r = await next(specifier === 'bot4' ? target : specifier, context);
  if (r.format === 'commonjs' && /^file:.*\\.ts$/.test(r.url) && !r.url.includes('/node_modules/')) {
    return { ...r, format: 'module' };
  }
  return r;
}`;
export const BOT4_HOOKS_URL = `data:text/javascript,${encodeURIComponent(HOOKS)}`;

let registered = false;

/** Registers the hook in this process (once). Safe to call before every user import. */
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
    new URL(`file://${tsx}`).href,
    '--import',
    `data:text/javascript,${encodeURIComponent(preload)}`,
  ];
}
