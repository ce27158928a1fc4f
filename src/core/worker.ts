// Starts worker threads from a module URL in both ways Bot4 runs: compiled JavaScript (dist/) and
// TypeScript sources (tests, development). Node 20 cannot run .ts files itself, so a .ts worker is
// started with the tsx loader; Node 22.18+ strips types natively and does not need it.

import { Worker, type WorkerOptions } from 'node:worker_threads';

const nativeTypeStripping = (() => {
  const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
  return major > 22 || (major === 22 && minor >= 18);
})();

/** Resolves a sibling module of `importMetaUrl` by base name, keeping the caller's own extension. */
export function siblingModule(importMetaUrl: string, baseName: string): URL {
  const ext = importMetaUrl.endsWith('.ts') ? '.ts' : '.js';
  return new URL(`./${baseName}${ext}`, importMetaUrl);
}

export function startWorker(moduleUrl: URL, options: WorkerOptions = {}): Worker {
  if (!moduleUrl.pathname.endsWith('.ts') || nativeTypeStripping) return new Worker(moduleUrl, options);
  // Node 20 ignores `--import` in a worker's execArgv, so a small bootstrap registers tsx's loader inside
  // the worker and then imports the module; a failed import surfaces as the worker's 'error' event.
  const api = import.meta.resolve('tsx/esm/api');
  const bootstrap =
    `const { register } = await import(${JSON.stringify(api)}); register();\n` +
    `await import(${JSON.stringify(moduleUrl.href)});\n`;
  return new Worker(new URL(`data:text/javascript,${encodeURIComponent(bootstrap)}`), options);
}
