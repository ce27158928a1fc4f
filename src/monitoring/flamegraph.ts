// A self-contained flamegraph page: speedscope's released build (its JS, CSS and font) inlined into one HTML
// file with the profile, so it opens offline from disk. The profile reaches speedscope through the hook its own
// CLI uses (#localProfilePath, then speedscope.loadFileFromBase64): the script element speedscope would load
// from a file is answered from the page instead.

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Bot4Error, ErrorCode } from '../core/errors.ts';

const PROFILE_SCRIPT = 'bot4-profile.js';

function speedscopeDir(): string {
  try {
    return join(
      dirname(createRequire(import.meta.url).resolve('speedscope/package.json')),
      'dist',
      'release',
    );
  } catch (e) {
    throw new Bot4Error(
      ErrorCode.NOT_FOUND,
      'the speedscope package is missing: run npm install',
      {},
      { cause: e },
    );
  }
}

export function speedscopeVersion(): string {
  return (
    JSON.parse(readFileSync(join(speedscopeDir(), '..', '..', 'package.json'), 'utf8')) as { version: string }
  ).version;
}

/** Inline `</script` cannot end the script element early. */
function scriptSafe(text: string): string {
  return text.replace(/<\/script/gi, '<\\/script');
}

/** One HTML file showing `profile` (any format speedscope reads; a V8 .cpuprofile here) named `name`. */
export function flamegraphHtml(profile: Buffer | string, name: string): string {
  const dir = speedscopeDir();
  const index = readFileSync(join(dir, 'index.html'), 'utf8');
  const js = /<script src="([^"]+\.js)"><\/script>/.exec(index)?.[1];
  const css = /<link rel="stylesheet" href="([^"]+\.css)">/.exec(index)?.[1];
  if (js === undefined || css === undefined) {
    throw new Bot4Error(
      ErrorCode.DATA_MALFORMED,
      `speedscope's index.html in ${dir} no longer names its script and stylesheet`,
    );
  }
  // Fonts the stylesheet loads by relative URL become data: URLs.
  const style = readFileSync(join(dir, css), 'utf8').replace(/url\(([^)]+\.woff2)\)/g, (_, file: string) => {
    const data = readFileSync(join(dir, file.replace(/^["']|["']$/g, ''))).toString('base64');
    return `url(data:font/woff2;base64,${data})`;
  });
  const b64 = Buffer.from(profile).toString('base64');
  const hook = `
history.replaceState(null, '', '#localProfilePath=${PROFILE_SCRIPT}&title=' + encodeURIComponent(${JSON.stringify(name)}));
(function () {
  var profile = ${JSON.stringify(b64)};
  var append = Node.prototype.appendChild;
  document.head.appendChild = function (el) {
    if (el && el.tagName === 'SCRIPT' && String(el.src).endsWith(${JSON.stringify(PROFILE_SCRIPT)})) {
      setTimeout(function () { window.speedscope.loadFileFromBase64(${JSON.stringify(`${name}.cpuprofile`)}, profile); }, 0);
      return el;
    }
    return append.call(this, el);
  };
})();`;
  return `<!DOCTYPE html>
<html>
<head>
<meta charset="UTF-8">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>${name.replace(/[<&"]/g, '')} - flamegraph (speedscope)</title>
<style>${style}</style>
</head>
<body>
<script>${scriptSafe(hook)}</script>
<script>${scriptSafe(readFileSync(join(dir, js), 'utf8'))}</script>
</body>
</html>
`;
}
