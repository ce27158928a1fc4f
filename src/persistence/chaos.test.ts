// Chaos: a live node (child process) trading on the local exchange server is kill -9-ed at random instants,
// half of them right after it journalled something (an order being sent, a fill being handled), and restarted
// on the same journal each time; afterwards a node recovered from the journal must know every order the venue
// acknowledged, hold every venue fill exactly once, and have the venue's balances. CHAOS_KILLS sets the number
// of kills (default 10; the long run is CHAOS_KILLS=50), CHAOS_SEED the random instants.

import { statSync } from 'node:fs';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '../core/poll.test-util.ts';
import { NodeMode, TradingNode } from '../live/node.ts';
import { NodeConfigSchema } from '../live/node-config.ts';
import { readJournal } from './journal.ts';
import { RecordKind } from './node-journal.ts';
import {
  checkInvariants,
  journalFills,
  kill9,
  nodeConfig,
  spawnNode,
  startVenue,
  venueTruth,
} from './recovery.test-util.ts';

const KILLS = Number(process.env.CHAOS_KILLS ?? 10);
const SEED = Number(process.env.CHAOS_SEED ?? 7);
if (!Number.isInteger(KILLS) || KILLS < 1)
  throw new Error(`CHAOS_KILLS must be a positive integer, got '${process.env.CHAOS_KILLS}'`);

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const size = (p: string) => {
  try {
    return statSync(p).size;
  } catch {
    return 0;
  }
};

describe('chaos: kill -9 a trading node at random instants', () => {
  it(
    `survives ${KILLS} kills with nothing lost`,
    async () => {
      const v = await startVenue();
      cleanups.push(() => v.srv.close());
      // Random instants from a seeded generator, so a failing run can be repeated (CHAOS_SEED).
      const delays = fc.sample(fc.integer({ min: 0, max: 1500 }), { seed: SEED, numRuns: KILLS });
      let afterRecord = 0;
      for (let k = 0; k < KILLS; k++) {
        const { child, out } = spawnNode(v, `run${k}`);
        cleanups.push(() => kill9(child));
        const exited = () => child.exitCode !== null;
        // Trading: the start-up (recovery, reconciliation) is done once it prints its trading line.
        await waitFor(() => / trading BTCUSDT/.test(out()) || exited(), `run ${k} to start trading`, 30_000);
        expect(exited(), `run ${k} exited by itself:\n${out()}`).toBe(false);
        if (k % 2 === 1) {
          // Right after the journal grows: an order going out or a fill being handled.
          const s0 = size(v.journal);
          await waitFor(() => size(v.journal) > s0 || exited(), `run ${k} to journal something`, 30_000);
          afterRecord++;
        } else {
          await waitFor(() => journalFills(v.journal) > 0 || exited(), `run ${k}: a first fill`, 30_000);
          await new Promise((r) => setTimeout(r, delays[k]!));
        }
        expect(exited(), `run ${k} exited by itself:\n${out()}`).toBe(false);
        await kill9(child);
      }
      const node = await TradingNode.start({
        mode: NodeMode.LIVE,
        config: NodeConfigSchema.parse(nodeConfig(v, false)),
        print: () => {},
        env: {},
      });
      cleanups.push(() => node.stop());
      const counts = await checkInvariants(node, v, await venueTruth(v));
      const recovered = readJournal(v.journal).records.filter(
        (r) =>
          r.kind === RecordKind.FILL &&
          (JSON.parse(r.payload.toString()) as { recovered?: boolean }).recovered,
      ).length;
      process.stdout.write(
        `chaos: kills ${KILLS} (${afterRecord} right after a journal record), orders ${counts.orders}, fills ${counts.fills}, ` +
          `recovered ${recovered} (fills made while the node was down), lost ${counts.lost}\n`,
      );
      expect(counts.lost).toBe(0);
      expect(counts.fills).toBeGreaterThan(0);
    },
    60_000 + KILLS * 20_000,
  );
});
