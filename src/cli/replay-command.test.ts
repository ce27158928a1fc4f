// The commands as a user types them: `bot4 paper` records its session into --catalog and prints the id at
// start and in the summary; Ctrl-C (SIGINT) stops it; `bot4 backtest --replay-session <id>` replays it and
// writes the report files with the divergence (none, for ema-cross on its own data).
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '../core/poll.test-util.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const children: ReturnType<typeof spawn>[] = [];
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
});

/** Runs bot4 with `args`; `until` (a regex on stdout) sends SIGINT once seen. Fails after `ms` with the output. */
async function bot4(
  args: string[],
  ms: number,
  until?: RegExp,
): Promise<{ code: number | null; out: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => {
    out += String(d);
  });
  child.stderr!.on('data', (d) => {
    err += String(d);
  });
  const exited = new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
  if (until !== undefined) {
    await waitFor(() => until.test(out) || child.exitCode !== null, `${until} from bot4 ${args[0]}`, ms);
    child.kill('SIGINT');
  }
  let code: number | null | undefined;
  void exited.then((c) => {
    code = c;
  });
  await waitFor(() => code !== undefined, `bot4 ${args.join(' ')} to exit (output so far: ${out}${err})`, ms);
  return { code: code ?? null, out: out + err };
}

describe('bot4 paper records its session; bot4 backtest --replay-session replays it', () => {
  it('records, stops on Ctrl-C with the session id, and replays with zero divergence', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bot4-replay-cli-'));
    const config = join(dir, 'paper.json');
    writeFileSync(
      config,
      JSON.stringify({
        instruments: ['BTCUSDT'],
        strategies: [
          {
            name: 'ema-cross',
            params: { instrument: 'BTCUSDT.BINANCE', source: 'quote', fast: 2, slow: 5, qty: 0.001 },
          },
        ],
        paperLatencyMicros: 500,
        statusIntervalSec: 1,
      }),
    );
    const catalog = join(dir, 'catalog');
    // Two status lines with fills: the session has orders to compare.
    const paper = await bot4(
      ['paper', '--config', config, '--catalog', catalog],
      40_000,
      /\[paper \d+s\].* [1-9]\d* fills[\s\S]*\[paper \d+s\]/,
    );
    expect(paper.code, paper.out).toBe(0);
    const id = /^session (paper-\d{8}T\d{6}Z-[0-9a-f]{4}) recording to /m.exec(paper.out)?.[1];
    expect(id, paper.out).toBeDefined();
    expect(paper.out).toMatch(
      new RegExp(
        `stopping\\.\\.\\.\\nsummary: [\\s\\S]*\\nsession ${id}: \\d+ market events, \\d+ order events recorded`,
      ),
    );
    expect(paper.out).toContain(`replay it: bot4 backtest --replay-session ${id} --catalog ${catalog}`);

    const out = join(dir, 'report');
    const replay = await bot4(
      ['backtest', '--replay-session', id!, '--catalog', catalog, '--out', out],
      60_000,
    );
    expect(replay.code, replay.out).toBe(0);
    expect(replay.out).toMatch(
      new RegExp(`^session ${id} \\(paper, ema-cross\\): [\\d,]+ market events replayed`),
    );
    expect(replay.out).toMatch(
      /replay vs session: (\d+) live orders, \1 backtest orders: \1 matched, 0 missing in backtest, 0 extra/,
    );
    expect(replay.out).toContain('no divergence: the backtest reproduced every order of the session');
    const d = JSON.parse(readFileSync(join(out, 'divergence.json'), 'utf8')) as {
      session: string;
      counts: { liveOrders: number; matched: number };
      items: unknown[];
    };
    expect(d.session).toBe(id);
    expect(d.counts.liveOrders).toBeGreaterThan(0);
    expect(d.counts.matched).toBe(d.counts.liveOrders);
    expect(d.items).toEqual([]);
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as { notes: string[] };
    expect(report.notes.some((n) => n.startsWith('replay vs session: '))).toBe(true);

    const missing = await bot4(['backtest', '--replay-session', 'paper-none', '--catalog', catalog], 30_000);
    expect(missing.code).toBe(2);
    expect(missing.out).toMatch(
      /--replay-session 'paper-none': no session paper-none in .* \(latest: paper-/,
    );
  }, 120_000);
});
