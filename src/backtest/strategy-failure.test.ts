import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ENGINE_ROOT } from '../strategy/bot4-resolution.ts';
import { rootCause, userFrames } from './strategy-failure.ts';

describe("a strategy error's own frames", () => {
  it("keeps the author's files (in the repository too), drops the engine's, node's and packages'", () => {
    const user = join(ENGINE_ROOT, 'examples/my-strategy.ts');
    const e = new Error('boom');
    e.stack = [
      'Error: boom',
      `    at AboveEma.onBar (${pathToFileURL(user).href}:24:11)`,
      `    at StrategyHost.handleBar (${join(ENGINE_ROOT, 'src/strategy/host.ts')}:180:25)`,
      `    at MessageBus.publish (${join(ENGINE_ROOT, 'dist/src/core/message-bus.js')}:90:9)`,
      '    at /tmp/elsewhere/helpers.ts:3:7',
      '    at process.processTicksAndRejections (node:internal/process/task_queues:95:5)',
      `    at x (${join(ENGINE_ROOT, 'node_modules/tsx/dist/loader.mjs')}:1:1)`,
    ].join('\n');
    const wrapped = new Error('strategy AboveEma failed in onBar: boom', { cause: e });
    expect(rootCause(wrapped)).toBe(e);
    expect(userFrames(rootCause(wrapped))).toEqual([
      `AboveEma.onBar ${user}:24:11`,
      '/tmp/elsewhere/helpers.ts:3:7',
    ]);
  });
});
