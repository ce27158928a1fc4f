// Distributed optimisation against a real three-server JetStream cluster on loopback (R3 streams), with three
// `bot4 worker` processes. Mid-search one worker is killed with SIGKILL in the middle of a trial and one NATS
// server is stopped and started again; the search must still finish with every trial run exactly once and
// the same trials, scores and best parameters as the same search on one machine.

import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { NatsCluster, natsServerPresent } from './nats-testing.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const have = natsServerPresent();

/** A bot4 process whose standard error (and output) is kept, with waits on what it prints. */
class Bot4Process {
  readonly name: string;
  readonly proc: ChildProcess;
  text = '';
  readonly exited: Promise<number | null>;

  constructor(name: string, args: string[]) {
    this.name = name;
    this.proc = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    for (const s of [this.proc.stdout!, this.proc.stderr!]) {
      s.setEncoding('utf8');
      s.on('data', (chunk: string) => {
        this.text += chunk;
      });
    }
    this.exited = new Promise((resolve) => this.proc.once('exit', (code) => resolve(code)));
  }

  /** Resolves with the first match of `re` in the output after `from` characters; fails after `ms`. */
  async waitFor(re: RegExp, ms: number, from = 0): Promise<RegExpExecArray> {
    const deadline = Date.now() + ms;
    for (;;) {
      const m = re.exec(this.text.slice(from));
      if (m !== null) return m;
      if (Date.now() > deadline) {
        throw new Error(`${this.name}: no ${re} within ${ms} ms; its output:\n${this.text.slice(-3000)}`);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  async exit(ms: number): Promise<number | null> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new Error(`${this.name} did not exit within ${ms} ms; its output:\n${this.text.slice(-3000)}`),
          ),
        ms,
      );
    });
    try {
      return await Promise.race([this.exited, late]);
    } finally {
      clearTimeout(timer);
    }
  }

  stop(): void {
    if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill('SIGKILL');
  }
}

/** Polls `check` until it is true; fails after `ms` naming `what`. */
async function until(what: string, ms: number, check: () => boolean): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

interface Report {
  best: { params: Record<string, unknown> };
  trials: { key: string; score: number | null }[];
}

// 30,000 one-minute bars: a trial takes a few hundred ms, so the search is still running when it is disturbed.
const SEARCH = [
  'optimize',
  '--bars',
  '30000',
  '--param',
  'fast=2..30:2',
  '--param',
  'slow=10..80:5',
  '--where',
  'fast < slow',
  '--search',
  'tpe',
  '--trials',
  '30',
  '--batch',
  '6',
  '--seed',
  '3',
  '--no-progress',
];

describe.skipIf(!have)('optimize --cluster on a three-server JetStream cluster', () => {
  const procs: Bot4Process[] = [];
  let cluster: NatsCluster | undefined;
  const dir = mkdtempSync(join(tmpdir(), 'bot4-cluster-opt-'));
  afterAll(async () => {
    for (const p of procs) p.stop();
    await cluster?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('survives a worker killed mid-trial and a server restart, with one-machine results', async () => {
    cluster = await NatsCluster.start(3);
    const urls = cluster.urls;
    const workers = [1, 2, 3].map((i) => {
      const w = new Bot4Process(`worker ${i}`, ['worker', '--cluster', urls, '--workers', '1', '--verbose']);
      procs.push(w);
      return w;
    });
    const out = join(dir, 'cluster');
    const coord = new Bot4Process('coordinator', [
      ...SEARCH,
      '--out',
      out,
      '--cluster',
      urls,
      '--cluster-replicas',
      '3',
      '--cluster-ack-wait',
      '2',
    ]);
    procs.push(coord);
    const local = new Bot4Process('one-machine run', [
      ...SEARCH,
      '--out',
      join(dir, 'local'),
      '--workers',
      '1',
    ]);
    procs.push(local);
    const trialsFile = join(out, 'trials.jsonl');
    const finished = (): number =>
      existsSync(trialsFile) ? readFileSync(trialsFile, 'utf8').split('\n').length - 2 : 0;

    // Once the search is under way, kill worker 1 just after it starts a trial (the trial is not stored).
    const t0 = Date.now();
    await until('4 finished trials', 60_000, () => finished() >= 4);
    const tKill = Date.now();
    const mark = workers[0]!.text.length;
    const started = await workers[0]!.waitFor(/trial (\w+) started/, 30_000, mark);
    workers[0]!.proc.kill('SIGKILL');
    await workers[0]!.exit(10_000);
    expect(workers[0]!.text.slice(mark)).not.toMatch(new RegExp(`trial ${started[1]} stored`));

    // Then stop one server of the three and start it again on its storage.
    const s1 = cluster.servers[0]!;
    await s1.stop();
    const tStopped = Date.now();
    await new Promise((r) => setTimeout(r, 1000));
    await s1.start();
    const atRestart = finished();
    process.stdout.write(
      `search start to kill ${tKill - t0} ms, server s1 stopped in ${tStopped - tKill} ms, back after ${Date.now() - tStopped} ms\n`,
    );
    expect(coord.proc.exitCode, 'the search ended before the server was back').toBeNull();

    const tBack = Date.now();
    const code = await coord.exit(90_000);
    process.stdout.write(`search finished ${Date.now() - tBack} ms after the server was back\n`);
    expect(code, coord.text).toBe(0);
    const summary =
      /cluster: (\d+) trials run by (\d+) worker process\(es\), (\d+) reused from the results stream, (\d+) redelivered, (\d+) duplicate results discarded/.exec(
        coord.text,
      );
    expect(summary, coord.text).not.toBeNull();
    const [, run, , , redelivered, duplicates] = summary!.map(Number);
    process.stdout.write(
      `cluster search: ${run} trials, ${redelivered} redelivered, ${duplicates} duplicates discarded (killed worker 1 in trial ${started[1]}; server s1 back after ${atRestart} trials)\n`,
    );
    // The killed worker's trial came back to another worker.
    expect(redelivered).toBeGreaterThanOrEqual(1);

    // The same search on one machine (started beside the cluster's: it runs while the cluster waits).
    expect(await local.exit(90_000), local.text).toBe(0);

    const c = JSON.parse(readFileSync(join(out, 'optimize.json'), 'utf8')) as Report;
    const l = JSON.parse(readFileSync(join(dir, 'local', 'optimize.json'), 'utf8')) as Report;
    expect(c.best.params).toEqual(l.best.params);
    const scores = (r: Report): Record<string, number | null> =>
      Object.fromEntries(r.trials.map((t) => [t.key, t.score]));
    expect(scores(c)).toEqual(scores(l));

    // Exactly once: one line per trial in trials.jsonl, and as many trials run as the one machine ran.
    const lines = readFileSync(trialsFile, 'utf8')
      .trim()
      .split('\n')
      .slice(1)
      .map((s) => (JSON.parse(s) as { key: string }).key);
    expect(new Set(lines).size).toBe(lines.length);
    const localLines = readFileSync(join(dir, 'local', 'trials.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .slice(1);
    expect(lines.length).toBe(localLines.length);
    const ranLocally = localLines.filter(
      (s) => (JSON.parse(s) as { skipped: unknown }).skipped === null,
    ).length;
    expect(run).toBe(ranLocally);
  }, 240_000);
});
