import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { present } from '../../core/test-resources.ts';
import { primedReplay } from '../../data/replay.ts';
import { newInstrumentRegistry } from '../../model/instrument.ts';
import { EmaCross } from '../../strategy/builtin/ema-cross.ts';
import { datasetRange, loadShared, type SharedDataset } from './dataset.ts';
import { InProcessExecutor, PoolExecutor, type TrialExecutor } from './executor.ts';
import { objectiveByName } from './objective.ts';
import { type OptimizeOptions, optimize } from './optimizer.ts';
import { buildOptimizeReport, writeOptimizeReport } from './report.ts';
import { buildSpace } from './space.ts';
import { TrialStore } from './store.ts';
import type { TrialSetup } from './trial.ts';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const FILE = resolve(root, '../shared/data/basana/bitstamp_btcusd_min_2020_01_01.csv');
const have = present(FILE, 'Bitstamp one-minute bars');
if (!have) console.warn(`skipping the real-data optimiser tests: ${FILE} is absent`);

async function realData(): Promise<SharedDataset> {
  const reg = newInstrumentRegistry();
  return loadShared(await primedReplay([FILE], { instruments: reg }), reg, 'bitstamp 1m 2020-01-01');
}

function setup(data: SharedDataset): TrialSetup {
  return { data, strategy: 'ema-cross', balances: [{ currency: 'USD', amount: '100000' }] };
}

function options(
  data: SharedDataset,
  executor: TrialExecutor,
  extra: Partial<OptimizeOptions> = {},
): OptimizeOptions {
  const space = buildSpace(
    EmaCross.params,
    ['instrument=BTCUSD.BITSTAMP', 'qty=1', 'fast=2..10:2', 'slow=6..30:6'],
    ['fast < slow'],
  );
  return {
    cls: EmaCross,
    space,
    objective: objectiveByName('return'),
    search: 'tpe',
    trials: 12,
    seed: 5,
    batch: 4,
    range: datasetRange(data),
    executor,
    ...extra,
  };
}

/** What must not depend on where trials ran: every trial's parameters, fingerprint and score, in order. */
function digest(r: Awaited<ReturnType<typeof optimize>>) {
  return {
    trials: r.trials.map((t) => [t.key, t.fingerprint, t.score, t.skipped]),
    folds: r.folds.map((f) => [f.best?.key, f.check?.fingerprint, f.check?.score]),
    stitched: r.stitched,
  };
}

describe.skipIf(!have)('optimize on real one-minute bars', () => {
  it('walk-forward on 2 pool workers gives exactly the results of 1 worker in this thread', async () => {
    const data = await realData();
    const wf = { folds: 3, anchored: false, isRatio: 0.7 };
    const one = await optimize(options(data, new InProcessExecutor(setup(data)), { walkForward: wf }));
    const pool = await PoolExecutor.start(setup(data), 2);
    let two: Awaited<ReturnType<typeof optimize>>;
    try {
      two = await optimize(options(data, pool, { walkForward: wf }));
    } finally {
      await pool.close();
    }
    expect(two.workers).toBe(2);
    expect(digest(two)).toEqual(digest(one));
    expect(one.folds).toHaveLength(3);
    for (const f of one.folds) {
      expect(f.best).not.toBeNull();
      // EMA cross with fast <= 10 trades dozens of times a day on one-minute bars: each check traded.
      expect(f.check?.stats?.trades).toBeGreaterThan(0);
      expect(f.inSample.to).toBe(f.outOfSample!.from);
    }
    // Skipped points (fast >= slow) carry their reason and never ran.
    const skipped = one.trials.filter((t) => t.skipped !== null);
    // The seeded TPE proposes some (7 of 43 today): the loop below must have something to check.
    expect(skipped.length).toBeGreaterThan(0);
    for (const t of skipped) {
      expect(t.skipped).toMatch(/fast < slow/);
      expect(t.fingerprint).toBe('');
    }
    expect(one.stitched!.ts.length).toBeGreaterThan(10);
    expect(one.degradation?.meanInSample).not.toBeNull();
    const out = mkdtempSync(join(tmpdir(), 'bot4-opt-'));
    const report = buildOptimizeReport(
      {
        strategy: 'EmaCross',
        data: data.label,
        search: 'tpe',
        seed: 5,
        trialsPerFold: 12,
        batch: 4,
        range: datasetRange(data),
        walkForward: wf,
        specHash: 'test',
      },
      objectiveByName('return'),
      options(data, pool).space,
      one,
    );
    const paths = writeOptimizeReport(out, report);
    const html = readFileSync(paths.html, 'utf8');
    expect(html).not.toMatch(/<script[^>]+src=/);
    expect(html).toContain('Walk-forward folds');
    expect(report.heatmap?.x).toBe('fast');
    expect(report.heatmap?.y).toBe('slow');
  }, 120_000);

  it('resumes: finished trials are read back, not run again, and the results are the same', async () => {
    const data = await realData();
    const dir = mkdtempSync(join(tmpdir(), 'bot4-resume-'));
    const spec = { test: 'resume', seed: 5 };
    const full = await optimize(options(data, new InProcessExecutor(setup(data))));
    // Interrupt the first run after 5 trials have finished.
    const controller = new AbortController();
    let finished = 0;
    const store1 = new TrialStore(dir, spec);
    const first = await optimize(
      options(data, new InProcessExecutor(setup(data)), {
        store: store1,
        signal: controller.signal,
        onProgress: (p) => {
          finished = p.ran;
          if (finished >= 5) controller.abort();
        },
      }),
    );
    store1.close();
    expect(first.partial).toBe(true);
    expect(first.ran).toBe(5);
    const store2 = new TrialStore(dir, spec, { resume: true });
    expect(store2.resumed).toBeGreaterThanOrEqual(5);
    const second = await optimize(options(data, new InProcessExecutor(setup(data)), { store: store2 }));
    store2.close();
    expect(second.partial).toBe(false);
    expect(second.resumed).toBe(5);
    expect(second.ran).toBe(full.ran - 5);
    expect(digest(second)).toEqual(digest(full));
    // The same folder with another spec is refused, naming how to start afresh.
    expect(() => new TrialStore(dir, { ...spec, seed: 6 })).toThrow(/different optimisation.*--fresh/);
    expect(new TrialStore(dir, { ...spec, seed: 6 }, { fresh: true }).resumed).toBe(0);
  }, 120_000);
});
