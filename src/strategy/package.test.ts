// Strategies as a package, end to end through the real CLI in a child process (Node's module hooks, tsx, the
// TypeScript compiler), with strategy files in a temp folder outside the repository importing from 'bot4'.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { present, SHARED_DATA } from '../core/test-resources.ts';
import { loadStrategyFile } from './loader.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const MAIN = join(ROOT, 'src/cli/main.ts');
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const CANDLES = `${SHARED_DATA}basana/bitstamp_btcusd_min_2020_01_01.csv`;

/** Runs `bot4 ...` from the sources in `cwd` (a folder with no node_modules), killed after `timeoutMs`. */
function bot4(cwd: string, args: string[], timeoutMs = 150_000) {
  const r = spawnSync(process.execPath, ['--import', TSX, MAIN, ...args], {
    cwd,
    encoding: 'utf8',
    timeout: timeoutMs,
    env: { ...process.env, NO_COLOR: '1' },
  });
  if (r.error !== undefined)
    throw new Error(`bot4 ${args.join(' ')} did not finish in ${timeoutMs} ms: ${r.error}`);
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const STRATEGY = `import { type Bar, Ema, int, Strategy, type Subscriptions, text } from 'bot4';

const params = {
  instrument: text({ default: 'BTCUSD', description: 'instrument' }),
  period: int({ default: 20, min: 2, max: 500, description: 'EMA period' }),
  failAt: int({ default: 0, min: 0, max: 100000, description: 'throw at this bar (0: never)' }),
};

export default class Outside extends Strategy<typeof params> {
  static override readonly params = params;
  private readonly ema = new Ema(this.params.period);
  private bars = 0;
  override subscriptions(): Subscriptions {
    return { bars: [{ instrument: this.params.instrument, interval: '1m' }] };
  }
  override onBar(bar: Bar): void {
    if (++this.bars === this.params.failAt) this.explode(bar.close);
    const ema = this.ema.update(bar.close);
    if (!this.ema.ready || this.openOrders().length > 0) return;
    const held = this.netQty(bar.instrumentId) !== 0;
    if (!held && bar.close > ema) this.buy(this.params.instrument, '0.5');
    else if (held && bar.close < ema) this.closePosition(this.params.instrument);
  }
  private explode(px: number): void {
    throw new Error(\`cannot handle a close of \${px} ticks\`);
  }
}
`;
/** 1-based line of the throw in STRATEGY. */
const THROW_LINE = STRATEGY.split('\n').findIndex((l) => l.includes('throw new Error')) + 1;

describe.skipIf(!present(CANDLES, 'Bitstamp 1m candles'))(
  'strategies as a package (files outside the repo)',
  () => {
    let dir = '';
    let file = '';
    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), 'bot4-outside-'));
      file = join(dir, 'outside.ts');
      writeFileSync(file, STRATEGY);
    });

    it("loads a .ts strategy importing from 'bot4' and backtests it on real candles", () => {
      const out = join(dir, 'run');
      const r = bot4(dir, [
        'backtest',
        '--strategy',
        file,
        '--data',
        CANDLES,
        '--balance',
        '100000USD',
        '--out',
        out,
        '--no-progress',
      ]);
      expect(r.err).not.toMatch(/error/i);
      expect(r.code).toBe(0);
      const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
      expect(report.meta.strategy).toBe('Outside');
      expect(report.meta.partial).toBe(false);
      expect(report.stats.trades).toBeGreaterThan(5);
    });

    it('loads it in-process too (vitest maps bot4 like the CLI does)', async () => {
      const cls = await loadStrategyFile(file);
      expect(cls.name).toBe('Outside');
      expect(Object.keys(cls.params)).toEqual(['instrument', 'period', 'failAt']);
    });

    it("an error in the strategy names the user's file:line, the event time and market, and writes the partial report", () => {
      const out = join(dir, 'fail');
      const r = bot4(dir, [
        'backtest',
        '--strategy',
        file,
        '--data',
        CANDLES,
        '--param',
        'failAt=300',
        '--balance',
        '100000USD',
        '--out',
        out,
        '--no-progress',
      ]);
      expect(r.code).toBe(1);
      expect(r.err).toContain('failed in onBar: cannot handle a close of');
      expect(r.err).toContain(`${file}:${THROW_LINE}:`);
      // The 300th one-minute bar of 2020-01-01 opens at 04:59 and is delivered at its close, 05:00.
      expect(r.err).toContain('event time 2020-01-01T05:00:00.000Z');
      expect(r.err).toMatch(/bar BTCUSD\.BITSTAMP 1m open [\d.]+ high/);
      expect(r.err).toMatch(/BTCUSD\.BITSTAMP last [\d.]+, position/);
      expect(r.err).toContain('partial report (up to the failing event)');
      const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
      expect(report.meta.partial).toBe(true);
      expect(report.notes[0]).toMatch(
        /^the run stopped at 2020-01-01T05:00:00\.000Z on bar BTCUSD\.BITSTAMP 1m .*failed in onBar: cannot handle a close of/,
      );
      expect(report.meta.eventsProcessed).toBe(299);
      expect(report.equity.ts.at(-1)).toBeLessThanOrEqual(Date.UTC(2020, 0, 1, 5) * 1000);
    });

    it('strategy new writes a file that passes strategy check and its own test; check names a type error', () => {
      const proj = join(dir, 'proj');
      mkdirSync(proj);
      expect(bot4(proj, ['strategy', 'new', 'trend-follow']).code).toBe(0);
      expect(existsSync(join(proj, 'trend-follow.test.ts'))).toBe(true);
      const check = bot4(proj, ['strategy', 'check', 'trend-follow.ts']);
      expect(check.err).toBe('');
      expect(check.out).toContain('ok (class TrendFollow, 4 parameters)');
      const test = bot4(proj, ['strategy', 'test', 'trend-follow.test.ts']);
      expect(test.out).toMatch(/# pass 1\n# fail 0/);
      expect(test.code).toBe(0);
      // A second `new` of the same name refuses to overwrite.
      expect(bot4(proj, ['strategy', 'new', 'trend-follow']).code).toBe(2);

      const bad = join(proj, 'bad.ts');
      writeFileSync(
        bad,
        readFileSync(join(proj, 'trend-follow.ts'), 'utf8').replace(
          'this.buy(this.params.instrument, this.params.qty)',
          'this.buy(this.params.instrument, 5, 6)',
        ),
      );
      const line =
        readFileSync(bad, 'utf8')
          .split('\n')
          .findIndex((l) => l.includes('this.buy(')) + 1;
      const r = bot4(proj, ['strategy', 'check', 'bad.ts']);
      expect(r.code).toBe(2);
      expect(r.err).toMatch(new RegExp(`bad\\.ts:${line}:\\d+ - error TS\\d+`));
    }, 400_000);
  },
);

const DIST_API = join(ROOT, 'dist/src/api.d.ts');

describe.skipIf(!present(DIST_API, 'the build (npm run build)'))(
  "the package: 'bot4' from node_modules",
  () => {
    it('resolves through package.json exports to the build, and its shipped types check a strategy', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'bot4-consumer-'));
      mkdirSync(join(dir, 'node_modules'));
      symlinkSync(ROOT, join(dir, 'node_modules/bot4'));
      writeFileSync(join(dir, 'package.json'), '{"type":"module"}');
      const run = spawnSync(
        process.execPath,
        [
          '--input-type=module',
          '-e',
          "import { Strategy, Ema, backtest } from 'bot4'; console.log(typeof Strategy, typeof Ema, typeof backtest)",
        ],
        { cwd: dir, encoding: 'utf8', timeout: 60_000 },
      );
      expect(run.stderr).toBe('');
      expect(run.stdout.trim()).toBe('function function function');

      const ts = createRequire(import.meta.url)('typescript') as typeof import('typescript');
      const diagnose = (source: string): string[] => {
        writeFileSync(join(dir, 'mine.ts'), source);
        const program = ts.createProgram([join(dir, 'mine.ts')], {
          target: ts.ScriptTarget.ES2023,
          module: ts.ModuleKind.NodeNext,
          moduleResolution: ts.ModuleResolutionKind.NodeNext,
          strict: true,
          noEmit: true,
          skipLibCheck: true,
          types: [],
        });
        return ts
          .getPreEmitDiagnostics(program)
          .map((d) => ts.flattenDiagnosticMessageText(d.messageText, ' '));
      };
      expect(diagnose(STRATEGY)).toEqual([]);
      expect(
        diagnose(
          STRATEGY.replace(
            "this.buy(this.params.instrument, '0.5')",
            'this.buy(this.params.instrument, 0.5)',
          ),
        ),
      ).toEqual(["Argument of type 'number' is not assignable to parameter of type 'string'."]);
    });
  },
);
