// Every command example in README.md and in the `--help` texts, run as written (in this process, from a fresh
// folder laid out like the repository root: examples/, src/ and ../shared linked in, so reports/ and trials start
// empty on every run and nothing resumes from an earlier one; against a temporary catalog). An example that cannot run here is listed below with why;
// the list must match exactly, so a new example is run or explained, never silently skipped.
import { mkdirSync, mkdtempSync, readFileSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { present, SHARED_DATA } from '../core/test-resources.ts';
import { runCaptured } from './in-process.test-util.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const SERVER =
  'a server that runs until stopped: src/cli/exchange-command.test.ts spawns it, checks the listening line and SIGTERM';
/** Examples this test does not run, and why (each must still appear among the examples). */
const NOT_RUN: Readonly<Record<string, string>> = {
  '...': 'README: "`npx bot4 ...`" stands for any command',
  'data import <files...>': 'placeholder for the files (the catalog examples import a real capture below)',
  'data import data/*.csv --venue BINANCE --symbol ETHUSDT --policy out_of_order=fail': 'placeholder files',
  'data import trades.json.gz --policy all=skip --catalog /tmp/catalog': 'placeholder file',
  'data ls --catalog /tmp/catalog --json': 'reads the placeholder catalog above',
  'data download BTCUSDT --from 2024-08-01 --to 2024-08-02 --interval 1m --import': 'needs the network',
  'data download ETHUSDT --market usdm --type trades --from 2024-08-08T00:00:00Z --to 2024-08-08T01:00:00Z':
    'needs the network',
  'ta rsi --param period=14 --input btcusdt_1h.csv --out rsi.csv': 'placeholder file',
  'ta macd --param fast=12 --param slow=26 --param signal=9 --input ETH_BTC-5m.feather': 'placeholder file',
  'bench --quick': 'the whole benchmark suite: about 1.5 min on 2 cores, more when loaded',
  'bench --filter live.': 'benchmarks take minutes on a loaded machine',
  'bench --filter journal.': 'benchmarks take minutes on a loaded machine',
  'bench --compare old.json new.json':
    'placeholder files (src/cli/main.test.ts compares two real result files)',
  'exchange serve --demo --api-key K --api-secret S': SERVER,
  'exchange serve --demo --port 0 --api-key K --api-secret S': SERVER,
  'exchange serve --data catalog:BTCUSDT/quotes,trades,depth --speed 10x --api-key K --api-secret S': SERVER,
  'exchange serve --demo --seed 7 --speed max --api-key K --api-secret S': SERVER,
  'exchange serve --demo --metrics-port 9465':
    'a server that runs until stopped: src/venues/server/metrics.test.ts spawns it and scrapes it',
  'paper --config examples/paper.json':
    'a node that runs until stopped: src/live/node.test.ts spawns it and stops it with SIGTERM',
  'paper --config examples/paper-usdm.json':
    'a node that runs until stopped: src/live/usdm-node.test.ts starts it from this file and stops it',
  'paper --config examples/paper.json --console':
    'a node that runs until stopped on port 8470: src/control/console-command.test.ts spawns it (port 0) and stops it',
  'paper --config examples/paper.json --catalog /tmp/bot4-sessions':
    'a node that runs until stopped: src/cli/replay-command.test.ts runs paper with --catalog, stops it with Ctrl-C and replays its session',
  'backtest --replay-session paper-20261207T163012Z-a1b2 --catalog /tmp/bot4-sessions --out reports/replay':
    'needs a recorded session (paper prints its id): src/cli/replay-command.test.ts replays one',
  'backtest --replay-session paper-20261207T163012Z-a1b2 --out reports/replay':
    'needs a recorded session (paper prints its id): src/cli/replay-command.test.ts replays one',
  'bench --filter live.session': 'a benchmark (writes ~100 MB to the temp folder); the bench run measures it',
  '--config examples/paper.json paper --metrics-port 9464':
    'a node that runs until stopped: src/live/node-metrics.test.ts spawns it and scrapes it',
  'backtest --demo --hours 2000 --metrics-port 9464':
    'a 2,000-hour demo on a fixed port: src/monitoring/dashboards.test.ts runs a demo with --metrics-port 0',
  'backtest --demo --hours 2000 --metrics-port 9464 --metrics-hold 600':
    'holds its endpoint ten minutes: src/monitoring/dashboards.test.ts runs it with a short hold',
  'profile -- backtest --demo':
    'spawns a profiled child: src/cli/profile-command.test.ts runs it and opens the flamegraph in Chromium',
  'bench --quick --json out.json --filter memory.': 'benchmarks take minutes on a loaded machine',
  'bench --filter memory.pool --json bench.json': 'benchmarks take minutes on a loaded machine',
  'worker --cluster nats://10.0.0.1:4222 --workers 8':
    'needs a NATS server: src/cluster/cluster-optimize.test.ts runs workers against a real cluster',
  // (two spaces: the README line continues after `'fast < slow' \`)
  "optimize --bars 200000 --param fast=5..50:5 --param slow=20..200:10 --where 'fast < slow'  --search tpe --trials 200 --batch 32 --cluster nats://10.0.0.1:4222 --cluster-replicas 3":
    'needs a NATS server: src/cluster/cluster-optimize.test.ts runs a search against a real cluster',
  'bench --filter cluster.': 'benchmarks take minutes on a loaded machine',
  'optimize --data FILE ... --walk-forward 6 --is-ratio 0.75 --search tpe --trials 50 --out reports/wf':
    'placeholder for the data and parameters',
  'optimize --data FILE ... --walk-forward 4 --anchored --is-length 7d --oos-length 2d':
    'placeholder for the data and parameters',
};

/** Shell words: spaces split, single and double quotes group, $D expands. */
function words(line: string, vars: Record<string, string>): string[] {
  const out: string[] = [];
  const re = /'([^']*)'|"([^"]*)"|(\S+)/g;
  for (let m = re.exec(line); m !== null; m = re.exec(line)) {
    out.push(m[1] ?? m[2] ?? m[3]!.replace(/\$(\w+)/g, (_, k: string) => vars[k] ?? `$${k}`));
  }
  return out;
}

/** `npx bot4 ...` lines of README's sh blocks (continuations joined, comments cut) and inline `npx bot4 ...`. */
function readmeExamples(): { text: string; vars: Record<string, string> }[] {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const out: { text: string; vars: Record<string, string> }[] = [];
  for (const block of readme.matchAll(/```sh\n([\s\S]*?)```/g)) {
    const vars: Record<string, string> = {};
    const lines = block[1]!.replace(/\\\n\s*/g, ' ').split('\n');
    for (const raw of lines) {
      const line = raw.replace(/\s+#.*$/, '').trim();
      const v = /^(\w+)=(\S+)$/.exec(line);
      if (v !== null) vars[v[1]!] = v[2]!;
      if (line.startsWith('npx bot4 ')) out.push({ text: line.slice('npx bot4 '.length), vars: { ...vars } });
    }
  }
  for (const m of readme.matchAll(/`npx bot4 ([^`]+)`/g)) out.push({ text: m[1]!, vars: {} });
  return out;
}

/** `bot4 ...` lines under "Examples:" in each command's --help. */
async function helpExamples(): Promise<string[]> {
  const out: string[] = [];
  for (const cmd of [
    ['backtest'],
    ['optimize'],
    ['ta'],
    ['bench'],
    ['data', 'import'],
    ['data', 'ls'],
    ['data', 'inspect'],
    ['data', 'download'],
  ]) {
    const help = (await runCaptured([...cmd, '--help'])).out;
    const text = help.slice(help.indexOf('Examples:')).replace(/\\\n\s*/g, ' ');
    for (const line of text.split('\n')) {
      const t = line.replace(/\s+#.*$/, '').trim();
      if (t.startsWith('bot4 ')) out.push(t.slice('bot4 '.length));
    }
  }
  return out;
}

const CAPTURE = `${SHARED_DATA}hftbacktest/usdm/btcusdt_20240808.gz`;

describe.skipIf(!present(CAPTURE, 'the Binance USD-M capture the examples use'))('command examples', () => {
  const env = { ...process.env };
  const cwd = process.cwd();
  beforeAll(async () => {
    const sandbox = mkdtempSync(join(tmpdir(), 'bot4-examples-'));
    const repo = join(sandbox, 'repo');
    mkdirSync(repo);
    // examples/ imports ../src, resolved beside the link (not through it): link both.
    for (const dir of ['examples', 'src']) symlinkSync(join(root, dir), join(repo, dir));
    symlinkSync(resolve(root, '../shared'), join(sandbox, 'shared'));
    process.chdir(repo);
    // A private catalog holding what the catalog examples query (what `data import <files...>` stands for).
    process.env.BOT4_DATA__CATALOG_DIR = join(sandbox, 'catalog');
    const r = await runCaptured(['data', 'import', CAPTURE]);
    expect(r.code, r.err).toBe(0);
  }, 300_000);
  afterAll(() => {
    process.chdir(cwd);
    process.env = env;
  });

  it('README and --help examples run as written (or are listed with why not)', async () => {
    const all = [...readmeExamples(), ...(await helpExamples()).map((text) => ({ text, vars: {} }))];
    const texts = new Set(all.map((e) => e.text));
    for (const k of Object.keys(NOT_RUN)) expect(texts.has(k), `listed but not an example: ${k}`).toBe(true);
    const failures: string[] = [];
    const ran = new Set<string>();
    for (const ex of all) {
      if (NOT_RUN[ex.text] !== undefined || ran.has(ex.text)) continue;
      ran.add(ex.text);
      const args = words(ex.text, ex.vars);
      if (!args.includes('--help') && (args[0] === 'backtest' || args[0] === 'optimize'))
        args.push('--no-progress');
      const r = await runCaptured(args);
      if (r.code !== 0)
        failures.push(`bot4 ${ex.text}\n  exit ${r.code}: ${r.err.split('\n').slice(0, 3).join('\n  ')}`);
    }
    expect(failures, failures.join('\n')).toEqual([]);
    expect(ran.size).toBeGreaterThan(15);
  }, 900_000);
});
