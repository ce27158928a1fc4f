#!/usr/bin/env node
// Entry point of the `bot4` command: runs the compiled CLI in dist/ (built by `npm run build`, which
// `npm install` runs through the prepare script).
import { existsSync } from 'node:fs';

const main = new URL('../dist/src/cli/main.js', import.meta.url);
if (!existsSync(main)) {
  process.stderr.write(
    "bot4: the compiled CLI is missing (dist/). Run 'npm install' or 'npm run build' first.\n",
  );
  process.exit(1);
}
const { run, quietOnClosedPipe } = await import(main.href);
quietOnClosedPipe();
process.exitCode = await run(process.argv.slice(2));
