// Fuzzing the config readers: the engine config (loadConfig: a JSON file plus BOT4_* environment variables)
// and the paper/live node config (loadNodeConfig), from valid files mutated and from arbitrary JSON. A config
// is either accepted or refused with Bot4Error (CONFIG_FILE, CONFIG_INVALID, CONFIG_UNKNOWN_KEY); anything
// else thrown is a crash.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { loadNodeConfig } from '../live/node-config.ts';
import { ConfigSchema, loadConfig } from './config.ts';
import { FuzzTally, fuzzParams, mutatedText } from './fuzz.test-util.ts';

const dir = mkdtempSync(join(tmpdir(), 'bot4-config-fuzz-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = join(dir, 'config.json');

const ENV_KEYS = [
  'BOT4_MEMORY__POOLS__ORDERS',
  'BOT4_DATA__CATALOG_DIR',
  'BOT4_RISK',
  'BOT4_',
  'BOT4_X__Y__Z',
];

describe('config fuzz', () => {
  it('engine config: mutated full config files and BOT4_* variables: accepted or Bot4Error', () => {
    const seed = JSON.stringify(ConfigSchema.parse({}), null, 2);
    const tally = new FuzzTally('engine config (file + env)');
    let accepted = 0;
    fc.assert(
      fc.property(
        fc.oneof(
          { weight: 4, arbitrary: mutatedText([seed]) },
          fc.jsonValue().map((v) => JSON.stringify(v)),
        ),
        fc.dictionary(
          fc.oneof(fc.constantFrom(...ENV_KEYS), mutatedText(ENV_KEYS)),
          fc.oneof(fc.string({ maxLength: 20 }), mutatedText(['10000', 'true', '{"a":1}', '[1,2]', 'null'])),
          { maxKeys: 3 },
        ),
        (text, env) => {
          writeFileSync(file, text);
          tally.check(
            () => {
              loadConfig({ file, env });
              accepted++;
            },
            () => `${text} env ${JSON.stringify(env)}`,
          );
        },
      ),
      fuzzParams(500),
    );
    tally.report();
    expect(tally.crashes).toEqual([]);
    expect(accepted).toBeGreaterThan(0);
  });

  it('node config: mutated examples/paper.json: accepted or Bot4Error', () => {
    const seed = readFileSync(new URL('../../examples/paper.json', import.meta.url), 'utf8');
    const tally = new FuzzTally('node config (examples/paper.json)');
    let accepted = 0;
    fc.assert(
      fc.property(
        fc.oneof(
          { weight: 4, arbitrary: mutatedText([seed]) },
          fc.jsonValue().map((v) => JSON.stringify(v)),
        ),
        (text) => {
          writeFileSync(file, text);
          tally.check(
            () => {
              loadNodeConfig(file);
              accepted++;
            },
            () => text,
          );
        },
      ),
      fuzzParams(500),
    );
    tally.report();
    expect(tally.crashes).toEqual([]);
    expect(accepted).toBeGreaterThan(0);
  });
});
