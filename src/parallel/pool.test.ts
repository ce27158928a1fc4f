import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Bot4Error, ErrorCode } from '../core/errors.ts';
import { pinProcess, WorkerPool } from './pool.ts';

const module = new URL('./pool.test-tasks.ts', import.meta.url);

describe('WorkerPool', () => {
  let pool: WorkerPool;
  const visits = new Int32Array(new SharedArrayBuffer(4 * 4096));
  beforeAll(async () => {
    pool = await WorkerPool.start({ module, threads: 2, name: 'test-pool', setup: { visits } });
  });
  afterAll(() => pool.close());

  it('returns map results in input order', async () => {
    const inputs = Array.from({ length: 1000 }, (_, i) => i);
    expect(await pool.map<number, number>('square', inputs)).toEqual(inputs.map((x) => x * x));
  });

  it('streams every result once through onResult', async () => {
    const seen = new Map<number, number>();
    const out = await pool.map<number, number>('later', [10, 20, 30, 40], {
      onResult: (i, r) => {
        expect(seen.has(i)).toBe(false);
        seen.set(i, r);
      },
    });
    expect(out).toEqual([11, 21, 31, 41]);
    expect([...seen.entries()].sort((a, b) => a[0] - b[0])).toEqual([
      [0, 11],
      [1, 21],
      [2, 31],
      [3, 41],
    ]);
  });

  it('clones plain inputs and results', async () => {
    const value = { a: [1, 2, { b: 'x' }], m: new Map([['k', 1]]) };
    expect(await pool.map('echo', [value])).toEqual([value]);
    expect(await pool.map('echo', [])).toEqual([]);
  });

  it('visits every index of a parallelFor exactly once (setup visits array)', async () => {
    visits.fill(0);
    await pool.parallelFor('visit', 4096, { chunk: 7 });
    expect(visits.every((v) => v === 1)).toBe(true);
  });

  it('shares typed arrays: writes in a worker are seen by the main thread', async () => {
    const out = new Float64Array(new SharedArrayBuffer(8 * 4));
    await pool.map(
      'writeShared',
      [0, 1, 2, 3].map((at) => ({ out, at, value: at + 0.5 })),
    );
    expect([...out]).toEqual([0.5, 1.5, 2.5, 3.5]);
  });

  it('names its threads and gives each an index', async () => {
    const who = await pool.map<number, { index: number; name: string; os: string | null }>(
      'whoami',
      Array(200).fill(0),
    );
    for (const w of who) {
      expect(w.name).toBe(`test-pool-${w.index}`);
      if (process.platform === 'linux') expect(w.os).toBe(`test-pool-${w.index}`); // the OS thread's name too
    }
    expect(new Set(who.map((w) => w.index)).size).toBeGreaterThanOrEqual(1);
    expect(who.every((w) => w.index === 0 || w.index === 1)).toBe(true);
  });

  it('lets the main thread join a parallelFor', async () => {
    const owners = new Int32Array(new SharedArrayBuffer(4 * 2000));
    await pool.parallelFor('owner', 2000, { chunk: 1, mainThread: true, args: { owners } });
    expect(owners.every((o) => o >= 1 && o <= 3)).toBe(true);
  });

  it('rejects a failing map with the task, the input index and the thread, then keeps working', async () => {
    const inputs = Array.from({ length: 100 }, (_, i) => ({ value: i, failAt: 37 }));
    const error = await pool.map('failOn', inputs).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Bot4Error);
    const e = error as Bot4Error;
    expect(e.code).toBe(ErrorCode.TASK_FAILED);
    expect(e.message).toMatch(
      /task 'failOn' failed on input 37 in thread test-pool-[01]: RangeError: value 37/,
    );
    expect(e.details).toMatchObject({ task: 'failOn', index: 37 });
    expect((e.cause as Error).stack).toContain('pool.test-tasks');
    expect(await pool.map('square', [3])).toEqual([9]);
  });

  it('rejects a failing parallelFor with the failing chunk and runs the next call', async () => {
    const v = new Int32Array(new SharedArrayBuffer(4 * 100));
    const error = await pool
      .parallelFor('visitThenFail', 100, { chunk: 10, args: { visits: v, failAt: 55 } })
      .catch((e: unknown) => e);
    expect((error as Bot4Error).code).toBe(ErrorCode.TASK_FAILED);
    expect((error as Bot4Error).message).toContain("task 'visitThenFail' failed on indices [50, 60)");
    v.fill(0);
    await pool.parallelFor('visit', 100, { args: { visits: v } });
    expect(v.every((x) => x === 1)).toBe(true);
  });

  it('runs calls made together one after another, each with its own results', async () => {
    const [a, b, c] = await Promise.all([
      pool.map<number, number>('square', [1, 2, 3]),
      pool.map<number, number>('later', [1, 2, 3]),
      pool.map<number, number>('square', [4]),
    ]);
    expect([a, b, c]).toEqual([[1, 4, 9], [2, 3, 4], [16]]);
  });

  it('keeps every result with its own call when many calls of both kinds are in flight', async () => {
    const calls = Array.from({ length: 40 }, (_, c) => {
      if (c % 3 === 0) {
        const v = new Int32Array(new SharedArrayBuffer(4 * (c + 1) * 10));
        return pool.parallelFor('visit', v.length, { chunk: 3, args: { visits: v } }).then(() => [...v]);
      }
      return pool.map<number, number>(
        'square',
        Array.from({ length: c * 7 }, (_, i) => i + c),
      );
    });
    const out = await Promise.all(calls);
    for (const [c, r] of out.entries()) {
      if (c % 3 === 0) expect(r).toEqual(Array((c + 1) * 10).fill(1));
      else expect(r).toEqual(Array.from({ length: c * 7 }, (_, i) => (i + c) * (i + c)));
    }
  });

  it('stops handing out inputs when the signal aborts', async () => {
    const ac = new AbortController();
    let got = 0;
    const run = pool.map<number, number>('later', Array(500).fill(0), {
      signal: ac.signal,
      onResult: () => {
        if (++got === 5) ac.abort(new Error('enough'));
      },
    });
    await expect(run).rejects.toThrow('enough');
    const pre = new AbortController();
    pre.abort(new Error('before'));
    await expect(pool.map('square', [1], { signal: pre.signal })).rejects.toThrow('before');
    expect(await pool.map('square', [5])).toEqual([25]);
  });

  it('rejects inputs or args that cannot be cloned, and runs the next call', async () => {
    await expect(pool.map('echo', [() => 1])).rejects.toThrow(/map\('echo'\): its inputs cannot be sent/);
    await expect(pool.parallelFor('visit', 10, { args: { f: () => 1 } })).rejects.toMatchObject({
      code: ErrorCode.INVALID_ARGUMENT,
    });
    expect(await pool.map('square', [6])).toEqual([36]);
  });

  it('names an unknown task and the tasks that exist', async () => {
    await expect(pool.map('nope', [1])).rejects.toThrow(
      /no task 'nope' in .*pool.test-tasks.ts; it exports: square/,
    );
    await expect(pool.parallelFor('visit', -1)).rejects.toThrow(/n must be an integer >= 0/);
  });

  it('covers [0, n) exactly once for any n, chunk and thread count (property)', async () => {
    const pools = new Map<number, WorkerPool>([[2, pool]]);
    try {
      for (const t of [1, 3]) pools.set(t, await WorkerPool.start({ module, threads: t }));
      await fc.assert(
        fc.asyncProperty(
          fc.integer({ min: 0, max: 3000 }),
          fc.integer({ min: 1, max: 400 }),
          fc.constantFrom(1, 2, 3),
          fc.boolean(),
          async (n, chunk, threads, mainThread) => {
            const v = new Int32Array(new SharedArrayBuffer(4 * Math.max(1, n)));
            await pools.get(threads)!.parallelFor('visit', n, { chunk, mainThread, args: { visits: v } });
            for (let i = 0; i < n; i++) if (v[i] !== 1) return false;
            return true;
          },
        ),
        { numRuns: 60 },
      );
    } finally {
      for (const [t, p] of pools) if (t !== 2) await p.close();
    }
  });
});

describe('WorkerPool lifecycle', () => {
  it('close is idempotent, finishes queued work and leaves no thread running', async () => {
    const pool = await WorkerPool.start({ module, threads: 2 });
    expect(pool.liveThreads).toBe(2);
    const work = pool.map<number, number>('later', [1, 2, 3]);
    const a = pool.close();
    const b = pool.close();
    expect(await work).toEqual([2, 3, 4]);
    await Promise.all([a, b]);
    expect(pool.liveThreads).toBe(0);
    await expect(pool.map('square', [1])).rejects.toMatchObject({ code: ErrorCode.POOL_CLOSED });
  });

  it('rejects pending work with a clear error when a thread dies outside a task', async () => {
    const pool = await WorkerPool.start({ module, threads: 2, name: 'crash' });
    const dying = pool.map('exitThread', [0]);
    const queued = pool.map('square', [2]);
    await expect(dying).rejects.toThrow(
      /pool thread crash-[01] exited with code 3 while running task 'exitThread'/,
    );
    await expect(queued).rejects.toMatchObject({ code: ErrorCode.WORKER_FAILED });
    await expect(pool.map('square', [1])).rejects.toMatchObject({ code: ErrorCode.WORKER_FAILED });
    await pool.close();
    expect(pool.liveThreads).toBe(0);
  });

  it('fails to start with the module and the cause when the task module cannot load', async () => {
    await expect(
      WorkerPool.start({ module: new URL('./no-such-tasks.ts', import.meta.url), threads: 1 }),
    ).rejects.toThrow(/could not load the task module .*no-such-tasks.ts/);
  });

  it.runIf(process.platform === 'linux' && availableParallelism() > 1)(
    'pins each pool thread to its CPU, and only that thread',
    async () => {
      const mainCpus = () =>
        /Cpus_allowed_list:\s*(\S+)/.exec(readFileSync('/proc/thread-self/status', 'utf8'))?.[1];
      const before = mainCpus();
      const pool = await WorkerPool.start({ module, threads: 2, pin: [1, 0] });
      try {
        const got = await pool.map<number, { index: number; cpus: string }>('affinity', Array(100).fill(0));
        for (const g of got) expect(g.cpus).toBe(g.index === 0 ? '1' : '0');
        expect(mainCpus()).toBe(before);
      } finally {
        await pool.close();
      }
    },
  );

  it.runIf(process.platform === 'linux')('pins the whole process, or says why it cannot', () => {
    const allowed = () =>
      /Cpus_allowed_list:\s*(\S+)/.exec(readFileSync('/proc/thread-self/status', 'utf8'))![1]!;
    const before = allowed();
    const cpus = before.split(',').flatMap((part) => {
      const [a, b = a] = part.split('-').map(Number);
      return Array.from({ length: b! - a! + 1 }, (_, k) => a! + k);
    });
    pinProcess(cpus); // the CPUs it already had: the process keeps running where it did
    expect(allowed()).toBe(before);
    expect(() => pinProcess([4096])).toThrow(/pinProcess\(\[4096\]\) failed/);
    expect(() => pinProcess([])).toThrow(/cpus must be CPU numbers/);
  });

  it('refuses a pool thread it cannot pin, with the reason', async () => {
    await expect(WorkerPool.start({ module, threads: 1, pin: [4096] })).rejects.toThrow(
      /pool thread bot4-pool-0 could not load the task module .*cannot pin thread \d+ to CPU 4096/,
    );
  });

  it('hands back an error thrown by onResult and stays usable', async () => {
    const pool = await WorkerPool.start({ module, threads: 1 });
    try {
      const boom = new Error('callback failed');
      await expect(
        pool.map('square', [1, 2, 3], {
          onResult: () => {
            throw boom;
          },
        }),
      ).rejects.toBe(boom);
      expect(await pool.map('square', [4])).toEqual([16]);
    } finally {
      await pool.close();
    }
  });

  it('checks its options', async () => {
    await expect(WorkerPool.start({ module, threads: 0 })).rejects.toThrow(/'threads' must be an integer/);
    await expect(WorkerPool.start({ module, threads: 2, setup: { f: () => 1 } })).rejects.toThrow(
      /'setup' cannot be sent to the pool threads/,
    );
  });
});
