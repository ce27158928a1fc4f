// Build step: the `bot4` command bundled by esbuild into dist/cli/ (bot4.js, api.js and shared chunks), so that
// start-up reads a couple of dozen files instead of walking the CLI's graph of ~55 modules through the ES module
// loader (most of `bot4 --help`'s time on Node 20, which has no compile cache). bin/bot4.js prefers it.
// Invariants: npm packages stay external (heavy ones are imported lazily where they are used, and a bundled
// package would be a second copy of the one workers load); code splitting keeps every lazily imported module
// lazy and every module once in the process; each bundled module keeps the `import.meta.url` of its compiled
// twin in dist/src/ (or dist/bench/), so worker entry files, the WebAssembly kernels and package.json are found
// where they always were (tsc still writes them).

import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const OUT = join(ROOT, 'dist', 'cli');
/** Bare imports bundled rather than left to Node (see the plugin below). */
const BUNDLED_PACKAGES = /^(commander|zod)(\/|$)/;

/**
 * The URL (relative to a file in dist/cli/) a bundled module gets as `import.meta.url`: its compiled twin's.
 * The exception: the resolution of 'bot4' for user strategy files points at the bundled API (dist/cli/api.js),
 * so a strategy loaded by the bundled CLI shares its classes (Bot4Error, ...) rather than loading a second engine.
 */
function twinUrl(file: string): string {
  const rel = relative(ROOT, file).split('\\').join('/').replace(/\.ts$/, '.js');
  if (rel === 'src/strategy/bot4-resolution.js') return './strategy/bot4-resolution.js';
  return `../${rel}`;
}

export async function bundleCli(): Promise<string[]> {
  const esbuild = await import('esbuild');
  const compilerOptions = (
    JSON.parse(readFileSync(join(ROOT, 'tsconfig.json'), 'utf8')) as { compilerOptions: object }
  ).compilerOptions;
  rmSync(OUT, { recursive: true, force: true });
  const result = await esbuild.build({
    absWorkingDir: ROOT,
    entryPoints: { bot4: 'src/cli/main.ts', api: 'src/api.ts' },
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    // CommonJS inside the bundle (commander) calls require: give each file one, as Node gives a CJS module.
    banner: {
      js: "import { createRequire as __bot4CreateRequire } from 'node:module';\nconst require = __bot4CreateRequire(import.meta.url);",
    },
    outdir: OUT,
    chunkNames: 'chunk-[hash]',
    logLevel: 'warning',
    metafile: true,
    plugins: [
      {
        name: 'compiled-twin-meta-url',
        setup(build) {
          // Packages stay external, but for two that the commands load at every start and that hold no state
          // shared with code outside the bundle: commander (CommonJS imported from an ES module: nine files and
          // Node's scan of its exports) and zod (the config schema: about a hundred ES module files).
          build.onResolve({ filter: /^[^./]/ }, (args) =>
            BUNDLED_PACKAGES.test(args.path) ? undefined : { path: args.path, external: true },
          );
          build.onLoad({ filter: /\.ts$/ }, async (args) => {
            const text = readFileSync(args.path, 'utf8');
            if (!text.includes('import.meta.url')) return undefined;
            // On the syntax tree (define), not the text: a string that mentions import.meta.url stays as it is.
            const js = await esbuild.transform(text, {
              loader: 'ts',
              sourcefile: args.path,
              target: 'node20',
              tsconfigRaw: { compilerOptions },
              define: { 'import.meta.url': '__bot4ModuleUrl' },
            });
            const own = `const __bot4ModuleUrl = new URL(${JSON.stringify(twinUrl(args.path))}, import.meta.url).href;\n`;
            return { contents: own + js.code, loader: 'js' };
          });
        },
      },
    ],
  });
  // `bot4 strategy check` type-checks a strategy against the declarations beside the API module 'bot4' names.
  writeFileSync(join(OUT, 'api.d.ts'), "export * from '../src/api.js';\n");
  return Object.keys(result.metafile.outputs);
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const files = await bundleCli();
  process.stdout.write(`bundled the CLI into ${relative(ROOT, OUT)}/ (${files.length} files)\n`);
}
