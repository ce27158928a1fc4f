// The `bot4` command. Parses arguments, loads the config, runs a subcommand and maps failures to exit codes:
// 0 success, 1 runtime failure, 2 bad input (arguments, config, files), 130 interrupted (Ctrl-C).

import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { registerWorkerCommand } from '../cluster/worker-command.ts';
import type { Config } from '../core/config.ts';
import { Bot4Error, ErrorCode, isBot4Error } from '../core/errors.ts';
import { registerBacktestCommand } from './backtest-command.ts';
import { registerDataCommands } from './data-command.ts';
import { registerExchangeCommand } from './exchange-command.ts';
import { Interrupted } from './interrupt.ts';
import { registerLiveCommands } from './live-command.ts';
import { registerOptimizeCommand } from './optimize-command.ts';
import { checkOutputFile } from './outputs.ts';
import { registerProfileCommand } from './profile-command.ts';
import { registerReportCommands } from './report-command.ts';
import { registerRiskCommands } from './risk-command.ts';
import { registerStrategyCommands } from './strategy-command.ts';
import { registerTaCommand } from './ta-command.ts';

export const ExitCode = { OK: 0, FAILURE: 1, USAGE: 2, INTERRUPTED: 130 } as const;

const INPUT_ERRORS: ReadonlySet<string> = new Set([
  ErrorCode.CONFIG_INVALID,
  ErrorCode.CONFIG_UNKNOWN_KEY,
  ErrorCode.CONFIG_FILE,
  ErrorCode.INVALID_ARGUMENT,
  ErrorCode.DATA_MALFORMED,
  ErrorCode.DATA_MISSING,
  ErrorCode.NOT_FOUND,
  // Decimal conversions fail on values a user or a data file gave (a quantity, a balance, a price).
  ErrorCode.DECIMAL_INVALID,
]);

/**
 * The package root is two folders up from the sources (src/cli) and three from the build (dist/src/cli, which
 * the bundle in dist/cli takes as its import.meta.url): read there, no probing of other places at start-up.
 */
function packageVersion(): string {
  const rel = import.meta.url.endsWith('.ts') ? '../../package.json' : '../../../package.json';
  try {
    return (JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

/**
 * The config module (zod schemas), loaded before any command's action runs (the preAction hook) and not for
 * --help or --version: start-up loads only what the command needs.
 */
let configModule: typeof import('../core/config.ts') | undefined;

/** Loads the config named by --config (or BOT4_CONFIG), with BOT4_* environment overrides. */
export function configFrom(program: Command): Config {
  if (configModule === undefined) throw new Error('configFrom called before the preAction hook loaded it');
  const opts = program.opts<{ config?: string }>();
  const file = opts.config ?? process.env.BOT4_CONFIG;
  const env = { ...process.env };
  delete env.BOT4_CONFIG;
  return configModule.loadConfig({ ...(file === undefined ? {} : { file }), env });
}

/** `bot4 ml`'s description, shown by `bot4 --help` without loading the ML modules (see run()). */
const ML_DESCRIPTION =
  'machine learning: feature datasets, models trained here or imported (XGBoost, ONNX), evaluation';

/** The command a command line names: its first word that is not an option or the --config value. */
function commandWord(argv: readonly string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '-c' || a === '--config') i++;
    else if (!a.startsWith('-')) return a;
  }
  return undefined;
}

export function buildProgram(): Command {
  const program = new Command('bot4')
    .description(
      'Bot4: a high-performance algorithmic crypto trading engine (backtest, optimise, paper and live trading).',
    )
    .version(packageVersion(), '-V, --version', 'print the Bot4 version')
    .option(
      '-c, --config <file>',
      'engine config file (JSON); environment variables BOT4_<SECTION>__<KEY> override it',
    )
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ outputError: (text, write) => write(`bot4: ${text}`) })
    .exitOverride()
    .hook('preAction', async () => {
      configModule ??= await import('../core/config.ts');
    });

  program
    .command('bench')
    .description('run the benchmark suite and print median figures beside their targets and peer libraries')
    .option(
      '-q, --quick',
      'fewer, shorter samples and smaller data: 7 samples of ~3 ms after a 50 ms warm-up, one run of the slow peers (medians move a few percent more than in a full run)',
    )
    .option('-f, --filter <pattern>', 'only benchmarks whose id contains PATTERN (or matches it as a regex)')
    .option(
      '-j, --json <file>',
      'also write the results to FILE as JSON (stable ids, comparable across runs)',
    )
    .option('-l, --list', 'list the benchmark ids and exit')
    .option('--compare <files...>', 'compare two --json result files (old new): the ratio per id, and exit')
    .addHelpText(
      'after',
      '\nExamples:\n  bot4 bench --quick\n  bot4 bench --filter memory.pool --json bench.json\n  bot4 bench --compare old.json new.json\n',
    )
    .action(
      async (opts: {
        quick?: boolean;
        filter?: string;
        json?: string;
        list?: boolean;
        compare?: string[];
      }) => {
        if (opts.compare !== undefined) {
          if (opts.compare.length !== 2) {
            throw new Bot4Error(
              ErrorCode.INVALID_ARGUMENT,
              `--compare takes two result files (old new), got ${opts.compare.length}`,
            );
          }
          const { compareResults, formatComparison } = await import('../../bench/index.ts');
          const rows = compareResults(opts.compare[0]!, opts.compare[1]!);
          process.stdout.write(`${formatComparison(rows).join('\n')}\n`);
          return;
        }
        if (opts.json !== undefined) checkOutputFile(opts.json, '--json');
        const { createLogger } = await import('../core/log.ts');
        const log = createLogger(configFrom(program), 'bench');
        log.debug({ options: opts }, 'benchmark suite starting');
        const { runSuite } = await import('../../bench/index.ts');
        const { results } = await runSuite({
          quick: opts.quick === true,
          ...(opts.filter === undefined ? {} : { filter: opts.filter }),
          ...(opts.json === undefined ? {} : { json: opts.json }),
          list: opts.list === true,
        });
        const missed = results.filter((r) => r.met === false).map((r) => r.id);
        log.debug({ benchmarks: results.length, missed }, 'benchmark suite finished');
      },
    );

  const config = program.command('config').description('inspect and validate the engine configuration');
  config
    .command('show')
    .description('print the effective config (file + environment + defaults) as JSON')
    .action(() => {
      process.stdout.write(`${JSON.stringify(configFrom(program), null, 2)}\n`);
    });
  config
    .command('check')
    .description('validate the config; exits 2 naming the first bad key')
    .action(() => {
      configFrom(program);
      process.stdout.write('config ok\n');
    });
  registerBacktestCommand(program, () => configFrom(program));
  registerOptimizeCommand(program, () => configFrom(program));
  registerWorkerCommand(program);
  registerDataCommands(program, () => configFrom(program));
  registerRiskCommands(program);
  registerLiveCommands(program);
  registerExchangeCommand(program, () => configFrom(program));
  registerProfileCommand(program);
  registerReportCommands(program);
  registerStrategyCommands(program);
  // The ML commands load their modules (the feature engine, models, onnxruntime) only when `ml` is the command.
  program.command('ml').description(ML_DESCRIPTION);

  registerTaCommand(program);
  return program;
}

/** Runs the CLI and returns the exit code instead of exiting, so tests can call it. */
export async function run(argv: string[]): Promise<number> {
  const program = buildProgram();
  if (commandWord(argv) === 'ml') {
    const { registerMlCommands } = await import('./ml-command.ts');
    // Swap the listing-only `ml` for the real one (commander keeps its subcommands in a plain array).
    const commands = program.commands as Command[];
    commands.splice(
      commands.findIndex((c) => c.name() === 'ml'),
      1,
    );
    registerMlCommands(program, () => configFrom(program), ML_DESCRIPTION);
  }
  try {
    await program.parseAsync(argv, { from: 'user' });
    return ExitCode.OK;
  } catch (e) {
    if (e instanceof Interrupted) return ExitCode.INTERRUPTED;
    // A synchronous write (writeSync to fd 1) into a pipe whose reader left: see quietOnClosedPipe.
    if ((e as NodeJS.ErrnoException | null)?.code === 'EPIPE') return ExitCode.OK;
    if (e instanceof CommanderError) {
      // Help and version also arrive here, with exit code 0.
      return e.exitCode === 0 ? ExitCode.OK : ExitCode.USAGE;
    }
    if (isBot4Error(e)) {
      process.stderr.write(`bot4: error [${e.code}]: ${e.message}\n`);
      return INPUT_ERRORS.has(e.code) ? ExitCode.USAGE : ExitCode.FAILURE;
    }
    process.stderr.write(`bot4: unexpected failure: ${(e as Error).stack ?? String(e)}\n`);
    return ExitCode.FAILURE;
  }
}

/**
 * `bot4 ... | head -1`: once the reader has gone, writing to the pipe fails with EPIPE. That is the reader's
 * choice, not a failure: stop at once and quietly (exit 0) instead of crashing with a stack trace.
 */
export function quietOnClosedPipe(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EPIPE') process.exit(ExitCode.OK);
      throw e;
    });
  }
}

export function isMain(metaUrl: string): boolean {
  const entry = process.argv[1];
  if (entry === undefined) return false;
  return metaUrl === new URL(`file://${entry}`).href || metaUrl.endsWith(entry);
}

if (isMain(import.meta.url)) {
  quietOnClosedPipe();
  run(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      process.stderr.write(`bot4: ${String(e)}\n`);
      process.exitCode = ExitCode.FAILURE;
    },
  );
}
