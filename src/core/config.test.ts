import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig, parseConfig } from './config.ts';
import { Bot4Error, ErrorCode } from './errors.ts';

function tempFile(content: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'bot4-config-')), 'bot4.json');
  writeFileSync(file, content);
  return file;
}

function errorOf(f: () => unknown): Bot4Error {
  try {
    f();
  } catch (e) {
    if (e instanceof Bot4Error) return e;
    throw e;
  }
  throw new Error('expected a Bot4Error');
}

describe('config', () => {
  it('has the brief defaults', () => {
    const c = parseConfig({});
    expect(c.memory.pools).toEqual({ orders: 10_000 });
    expect(c.memory.growth).toBe('grow');
  });

  it('has no keys that nothing reads (signal and tick pools, engine.mode)', () => {
    for (const [key, value] of [
      ['BOT4_MEMORY__POOLS__SIGNALS', '5'],
      ['BOT4_MEMORY__POOLS__TICKS', '5'],
      ['BOT4_ENGINE__MODE', 'live'],
    ]) {
      expect(() => loadConfig({ env: { [key!]: value! } }), key).toThrow(/unknown/i);
    }
  });

  it('loads a file and lets the environment override it', () => {
    const file = tempFile(JSON.stringify({ memory: { pools: { orders: 5 } }, logging: { level: 'debug' } }));
    const c = loadConfig({
      file,
      env: { BOT4_MEMORY__POOLS__ORDERS: '42', BOT4_ENGINE__TRADER_ID: 'T-9', PATH: '/bin' },
    });
    expect(c.memory.pools.orders).toBe(42);
    expect(c.logging.level).toBe('debug');
    expect(c.engine.traderId).toBe('T-9');
  });

  it('names an unknown key and where it came from', () => {
    const file = tempFile(JSON.stringify({ memory: { pool: {} } }));
    const e = errorOf(() => loadConfig({ file }));
    expect(e.code).toBe(ErrorCode.CONFIG_UNKNOWN_KEY);
    expect(e.message).toContain("'memory.pool'");
    expect(e.message).toContain('known keys here: pools, growth, debugPools');
    const env = errorOf(() => loadConfig({ env: { BOT4_RISK__MAX: '1' } }));
    expect(env.message).toContain("unknown config key 'risk.max' (from env BOT4_RISK__MAX)");
  });

  it('names an invalid key and its source', () => {
    const e = errorOf(() => loadConfig({ env: { BOT4_MEMORY__GROWTH: 'sometimes' } }));
    expect(e.code).toBe(ErrorCode.CONFIG_INVALID);
    expect(e.message).toContain("'memory.growth' (from env BOT4_MEMORY__GROWTH)");
    const neg = errorOf(() => parseConfig({ memory: { pools: { ticks: -1 } } }));
    expect(neg.message).toContain("'memory.pools.ticks'");
  });

  it('reports unreadable and malformed files', () => {
    expect(errorOf(() => loadConfig({ file: '/nonexistent/bot4.json' })).code).toBe(ErrorCode.CONFIG_FILE);
    expect(errorOf(() => loadConfig({ file: tempFile('{ nope') })).message).toMatch(/is not valid JSON/);
    expect(errorOf(() => loadConfig({ file: tempFile('[1]') })).message).toMatch(/must hold a JSON object/);
  });
});
