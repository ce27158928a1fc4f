// The cluster options' bad input: exit 2 with a line naming the option, before any data loads or connection.

import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runBot4 } from '../cli/cli.test-util.ts';

const _root = fileURLToPath(new URL('../..', import.meta.url));

function bot4(args: string[]) {
  return runBot4(args, { timeoutMs: 60_000 });
}

describe('cluster command lines', () => {
  it('refuse bad values naming the option (exit 2)', () => {
    const cases: [string[], RegExp][] = [
      [['worker', '--cluster', 'http://x'], /--cluster 'http:\/\/x' is not a NATS server URL/],
      [
        ['worker', '--cluster', 'nats://127.0.0.1:4222', '--workers', '0'],
        /--workers must be a whole number >= 1/,
      ],
      [['worker'], /required option '--cluster <urls>'/],
      [
        [
          'optimize',
          '--bars',
          '1000',
          '--param',
          'fast=5..50:5',
          '--cluster',
          'nats://h:4222',
          '--cluster-replicas',
          '9',
        ],
        /--cluster-replicas must be a whole number from 1 to 5, got '9'/,
      ],
      [
        [
          'optimize',
          '--bars',
          '1000',
          '--param',
          'fast=5..50:5',
          '--cluster',
          'nats://h:4222',
          '--cluster-ack-wait',
          '0',
        ],
        /--cluster-ack-wait must be a whole number from 1 to 3600/,
      ],
    ];
    for (const [args, re] of cases) {
      const r = bot4(args);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toMatch(re);
      expect(r.stderr).not.toMatch(/events loaded/);
    }
  }, 120_000);
});
