import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig } from './config.ts';
import { createLogger } from './log.ts';

describe('logging', () => {
  it('writes structured lines at or above the configured level to the configured file', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'bot4-log-')), 'logs', 'bot4.log');
    const log = createLogger(parseConfig({ logging: { level: 'warn', file } }), 'test');
    log.info('not written');
    log.warn({ key: 'memory.growth' }, 'pool grew');
    await new Promise<void>((resolve) => log.flush(() => resolve()));
    const lines = readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 40, name: 'test', key: 'memory.growth', msg: 'pool grew' });
  });
});
