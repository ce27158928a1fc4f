// Repository rules that code review alone would miss: time comes only from the clock module.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const src = fileURLToPath(new URL('..', import.meta.url));

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory()
      ? sources(join(dir, e.name))
      : e.name.endsWith('.ts') && !e.name.endsWith('.test.ts')
        ? [join(dir, e.name)]
        : [],
  );
}

describe('hygiene', () => {
  it('reads the wall clock only in src/core/clock.ts', () => {
    const offenders = sources(src).filter(
      (f) =>
        !f.endsWith(join('core', 'clock.ts')) &&
        /Date\.now\(|new Date\(\)|performance\.now\(/.test(readFileSync(f, 'utf8')),
    );
    expect(offenders).toEqual([]);
  });
});
