#!/usr/bin/env node
// Entry point of the `bot4` command: runs the compiled CLI, both built by `npm run build` (which `npm install`
// runs through the prepare script): the bundle dist/cli/bot4.js (faster start-up: one file and a few shared
// chunks instead of the CLI's whole module graph), else the compiled modules of dist/src/. No file probing
// before the import: a missing file is told by the import's own error.

const candidates = ['../dist/cli/bot4.js', '../dist/src/cli/main.js'].map((p) => new URL(p, import.meta.url));

/** Whether `e` says that `url` itself is missing (not a module it imports). */
function missing(e, url) {
  return e?.code === 'ERR_MODULE_NOT_FOUND' && String(e.message).includes(decodeURIComponent(url.pathname));
}

let cli;
for (const url of candidates) {
  try {
    cli = await import(url.href);
    break;
  } catch (e) {
    if (!missing(e, url)) throw e;
  }
}
if (cli === undefined) {
  process.stderr.write(
    "bot4: the compiled CLI is missing (dist/). Run 'npm install' or 'npm run build' first.\n",
  );
  process.exit(1);
}
cli.quietOnClosedPipe();
process.exitCode = await cli.run(process.argv.slice(2));
