// The web console's files: a preact app (src/control/console/app.tsx, its own tsconfig with the DOM types)
// bundled with esbuild into one script and one stylesheet, with preact and lightweight-charts inside: nothing
// is fetched from a CDN. `npm run build` writes the bundle next to the compiled module
// (dist/src/control/console/); a node started from the sources (tsx, the tests) bundles in memory at start
// (about a second). Run directly (`node --import tsx src/control/bundle.ts <outdir>`) it writes the bundle.

import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Bot4Error, ErrorCode } from '../core/errors.ts';

export interface ConsoleAssets {
  html: string;
  js: string;
  css: string;
}

const HERE = fileURLToPath(new URL('.', import.meta.url));
const SOURCE = join(HERE, 'console', 'app.tsx');
const BUILT = join(HERE, 'console');

const HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Bot4 console</title>
<link rel="stylesheet" href="/app.css">
</head>
<body>
<div id="app"></div>
<script type="module" src="/app.js"></script>
</body>
</html>
`;

/** Bundles the console's sources (esbuild, minified, ES2022 for current browsers). */
export async function bundleConsole(): Promise<ConsoleAssets> {
  const esbuild = await import('esbuild');
  const r = await esbuild.build({
    entryPoints: [SOURCE],
    bundle: true,
    write: false,
    outdir: 'out',
    format: 'esm',
    target: 'es2022',
    minify: true,
    jsx: 'automatic',
    jsxImportSource: 'preact',
    legalComments: 'none',
    logLevel: 'silent',
  });
  let js = '';
  let css = '';
  for (const f of r.outputFiles) {
    if (f.path.endsWith('.js')) js = f.text;
    else if (f.path.endsWith('.css')) css = f.text;
  }
  return { html: HTML, js, css };
}

/** The console: the bundle `npm run build` wrote, else bundled now from the sources. */
export async function consoleAssets(): Promise<ConsoleAssets> {
  if (existsSync(SOURCE)) return bundleConsole();
  const js = join(BUILT, 'app.js');
  if (!existsSync(js)) {
    throw new Bot4Error(
      ErrorCode.NOT_FOUND,
      `the web console's bundle ${js} is missing: run 'npm run build' (or 'npm run build:console')`,
    );
  }
  return { html: HTML, js: readFileSync(js, 'utf8'), css: readFileSync(join(BUILT, 'app.css'), 'utf8') };
}

/** Build step: writes app.js and app.css into `outDir`. */
export async function writeConsoleBundle(outDir: string): Promise<void> {
  const a = await bundleConsole();
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, 'app.js'), a.js);
  writeFileSync(join(outDir, 'app.css'), a.css);
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const out = process.argv[2];
  if (out === undefined) {
    process.stderr.write('usage: node --import tsx src/control/bundle.ts <outdir>\n');
    process.exit(2);
  }
  await writeConsoleBundle(out);
}
