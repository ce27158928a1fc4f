// The bundled CLI (dist/cli/, written by `npm run build`) as bin/bot4.js runs it: files loaded by URL (worker
// entry files, package.json) are still found from the bundle, and a user strategy's 'bot4' is the bundled API.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { present } from '../core/test-resources.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BUNDLE = join(ROOT, 'dist/cli/bot4.js');

/**
 * Runs the bundle itself (bin/bot4.js would fall back to dist/src/ without it) from a script file: `node -e`
 * would pass its --input-type to the worker threads, which then fail to start.
 */
function bundled(args: string[]): { code: number | null; out: string; err: string } {
  const script = join(mkdtempSync(join(tmpdir(), 'bot4-bundle-')), 'run.mjs');
  writeFileSync(
    script,
    `const m = await import(${JSON.stringify(pathToFileURL(BUNDLE).href)});\nprocess.exitCode = await m.run(${JSON.stringify(args)});\n`,
  );
  const timeout = 240_000;
  const r = spawnSync(process.execPath, [script], { cwd: ROOT, encoding: 'utf8', timeout });
  if (r.error !== undefined) {
    throw new Error(
      `bundled bot4 ${args.join(' ')} did not finish within ${timeout / 1000} s: ${r.error.message}`,
    );
  }
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe.skipIf(!present(BUNDLE, 'the bundled CLI (npm run build)'))('the bundled CLI', () => {
  it('reads the version from package.json', () => {
    const version = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string })
      .version;
    const r = bundled(['--version']);
    expect(r.err).toBe('');
    expect(r.out.trim()).toBe(version);
  });

  it('lists the benchmarks (their modules find their worker and data files from the bundle)', () => {
    const r = bundled(['bench', '--list']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/cli\.startup/);
  });

  it('starts the optimiser workers from their compiled entry files', () => {
    const out = join(mkdtempSync(join(tmpdir(), 'bot4-bundle-')), 'opt');
    const r = bundled(['optimize', '--bars', '3000', '--param', 'fast=5,10', '--workers', '2', '--out', out]);
    expect(r.err).not.toMatch(/unexpected failure/);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/trials .* on 2 worker\(s\)/);
  }, 300_000);

  it("type-checks and runs a strategy importing 'bot4'", () => {
    const dir = mkdtempSync(join(tmpdir(), 'bot4-bundle-'));
    expect(bundled(['strategy', 'new', 'trend', '--dir', dir]).code).toBe(0);
    const file = join(dir, 'trend.ts');
    const check = bundled(['strategy', 'check', file]);
    expect(check.out + check.err).toMatch(/ok \(class Trend/);
    const run = bundled(['backtest', '--demo', '--no-progress', '--strategy', file, '--out', join(dir, 'r')]);
    expect(run.err).toBe('');
    expect(run.code).toBe(0);
  }, 300_000);
});
