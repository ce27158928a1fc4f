// Cross-thread stress: millions of records through SpscRing and MpscRing between real worker threads, with
// checksums computed independently on both sides. Small capacities force many wrap-arounds, full rings and
// sleeps (the wait/notify path); start sequences near 2^31 cross the int32 overflow during the run.

import type { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { siblingModule, startWorker } from '../core/worker.ts';
import { MpscRing } from './mpsc-ring.ts';
import { consumeSpscAsync, STRESS_RECORD_BYTES, type StressTally } from './ring-stress.ts';
import type { StressJob } from './ring-stress.worker.ts';
import { SpscRing } from './spsc-ring.ts';

const workerUrl = siblingModule(import.meta.url, 'ring-stress.worker');

/** Starts a stress worker and resolves with its tallies; rejects if it throws or exits without reporting. */
function run(job: StressJob): { worker: Worker; done: Promise<StressTally[]> } {
  const worker = startWorker(workerUrl, { workerData: job });
  const done = new Promise<StressTally[]>((resolve, reject) => {
    worker.once('message', (m: StressTally[]) => resolve(m));
    worker.once('error', reject);
    worker.once('exit', (code) =>
      reject(new Error(`${job.role} worker exited (code ${code}) without a result`)),
    );
  });
  return { worker, done };
}

function expectSame(consumer: StressTally, producer: StressTally, count: number): void {
  expect(consumer.firstError).toBe('');
  expect(consumer.errors).toBe(0);
  expect(consumer.count).toBe(count);
  expect(producer.count).toBe(count);
  expect(consumer.sum).toBe(producer.sum);
  expect(consumer.sum).toBe(((count - 1) * count) / 2);
  expect(consumer.hash).toBe(producer.hash);
}

describe('SpscRing across threads', () => {
  it('moves 3M records worker -> worker with matching checksums and strictly consecutive sequences', async () => {
    const count = 3_000_000;
    const ring = SpscRing.create({
      capacity: 1024,
      recordBytes: STRESS_RECORD_BYTES,
      startSequence: 2 ** 31 - 5000,
    });
    const consumer = run({ role: 'spsc-consumer', sab: ring.buffer, count, seed: 7, producer: 0 });
    const producer = run({ role: 'spsc-producer', sab: ring.buffer, count, seed: 11, producer: 0 });
    const [[c], [p]] = await Promise.all([consumer.done, producer.done]);
    expectSame(c!, p!, count);
    expect(ring.size()).toBe(0);
  });

  it('moves 2M records worker -> main thread, the main thread sleeping in Atomics.waitAsync', async () => {
    const count = 2_000_000;
    const ring = SpscRing.create({ capacity: 256, recordBytes: STRESS_RECORD_BYTES, startSequence: -1000 });
    const producer = run({ role: 'spsc-producer', sab: ring.buffer, count, seed: 3, producer: 0 });
    const c = await consumeSpscAsync(ring, count, 5);
    const [p] = await producer.done;
    expectSame(c, p!, count);
  });
});

describe('MpscRing across threads', () => {
  it('merges 3 producers x 1M records: per-producer order, totals and checksums match', async () => {
    const producers = 3;
    const perProducer = 1_000_000;
    const ring = MpscRing.create({
      capacity: 1024,
      recordBytes: STRESS_RECORD_BYTES,
      startSequence: 2 ** 31 - 7000,
    });
    const consumer = run({
      role: 'mpsc-consumer',
      sab: ring.buffer,
      count: perProducer,
      seed: 13,
      producer: producers,
    });
    const started = Array.from({ length: producers }, (_, id) =>
      run({ role: 'mpsc-producer', sab: ring.buffer, count: perProducer, seed: 17 + id, producer: id }),
    );
    // A consumer that stalls (waitNotEmpty timed out) leaves producers blocked in claim() for good: report its
    // error and stop them instead of waiting for the test timeout.
    const tallies = await consumer.done;
    if (tallies.some((t) => t.errors > 0)) for (const s of started) await s.worker.terminate();
    expect(tallies.map((t) => t.firstError)).toEqual(tallies.map(() => ''));
    const sent = await Promise.all(started.map((s) => s.done));
    expect(tallies).toHaveLength(producers);
    for (let id = 0; id < producers; id++) expectSame(tallies[id]!, sent[id]![0]!, perProducer);
    expect(ring.size()).toBe(0);
  });
});
