// Test support: whether an optional outside resource a test needs (real market data in ../shared/data, Debian's
// Chromium, the built WebAssembly module) is present. On a developer machine without it, the tests that need it
// skip; in CI (environment variable CI set, not 'false') a missing one throws, failing the suite that asked, so
// no suite turns green in CI by skipping itself. Every test that may skip for want of a file asks here.

import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** True under CI: CI set to anything but '' or 'false' (GitHub Actions, GitLab and most runners set CI=true). */
export function isCi(env: NodeJS.ProcessEnv = process.env): boolean {
  const v = env.CI;
  return v !== undefined && v !== '' && v !== 'false';
}

/** The team's real market data beside the repository (repo root -> ../shared/data), with a trailing slash. */
export const SHARED_DATA = fileURLToPath(new URL('../../../shared/data/', import.meta.url));

/** Thrown in CI for a missing resource; its message names the path and what needs it. */
export class MissingTestResource extends Error {
  override readonly name = 'MissingTestResource';
}

/**
 * True when `path` exists. When it does not: false on a developer machine (the caller skips its tests, its
 * title saying why), and in CI a MissingTestResource error, which fails the suite at collection.
 */
export function present(path: string, what = 'test data', env: NodeJS.ProcessEnv = process.env): boolean {
  if (existsSync(path)) return true;
  if (isCi(env)) {
    throw new MissingTestResource(
      `${what} is missing: ${path} does not exist, and CI must run the tests that need it instead of skipping them`,
    );
  }
  return false;
}
