// `bot4 strategy`: work on strategy files kept anywhere on disk. `new` scaffolds a strategy and its test,
// `check` type-checks a file against the Strategy API and loads it, `test` runs strategy tests (node:test) with
// 'bot4' and TypeScript resolved to this engine, `list` shows the built-ins. Modules load inside each action.

import { spawn } from 'node:child_process';
import type { Command } from 'commander';
import { Bot4Error, ErrorCode } from '../core/errors.ts';

export function registerStrategyCommands(program: Command): void {
  const cmd = program
    .command('strategy')
    .description('strategy files anywhere on disk: scaffold, type-check, test; list the built-ins');
  cmd
    .command('new <name>')
    .description("write NAME.ts (a working strategy importing from 'bot4') and NAME.test.ts")
    .option('--dir <dir>', 'folder to write them in', '.')
    .action(async (name: string, opts: { dir: string }) => {
      const { scaffoldStrategy } = await import('../strategy/scaffold.ts');
      const f = scaffoldStrategy(name, opts.dir);
      process.stdout.write(
        `wrote ${f.strategy}\n      ${f.test}\nnext: bot4 strategy check ${f.strategy} && bot4 strategy test ${f.test}\n`,
      );
    });
  cmd
    .command('check <file>')
    .description('type-check a strategy file against the Strategy API, then load it (exit 2 on an error)')
    .action(async (file: string) => {
      const { checkStrategyFile } = await import('../strategy/check.ts');
      const r = await checkStrategyFile(file);
      if (r.errors.length > 0) {
        throw new Bot4Error(
          ErrorCode.INVALID_ARGUMENT,
          `strategy file ${r.file} has ${r.errors.length} type error(s):\n  ${r.errors.join('\n  ')}`,
          { file: r.file },
        );
      }
      const n = Object.keys(r.cls!.params).length;
      process.stdout.write(`${r.file}: ok (class ${r.cls!.name}, ${n} parameter${n === 1 ? '' : 's'})\n`);
    });
  cmd
    .command('test <files...>')
    .description("run strategy tests (node:test files; TypeScript and 'bot4' resolved to this engine)")
    .action(async (files: string[]) => {
      const { bot4NodeArgs } = await import('../strategy/bot4-resolution.ts');
      const { checkInputFiles } = await import('./outputs.ts');
      checkInputFiles(files, 'strategy test');
      const code = await new Promise<number>((resolveCode, reject) => {
        const child = spawn(process.execPath, [...bot4NodeArgs(), '--test', ...files], { stdio: 'inherit' });
        child.on('error', reject);
        child.on('exit', (c, signal) => resolveCode(c ?? (signal === null ? 1 : 128)));
      });
      if (code !== 0) {
        throw new Bot4Error(ErrorCode.TASK_FAILED, `strategy tests failed (node --test exit code ${code})`, {
          code,
        });
      }
    });
  cmd
    .command('list')
    .description('the built-in strategies, with one line each')
    .action(async () => {
      const { BUILTIN_STRATEGIES } = await import('../strategy/builtin/index.ts');
      for (const [name, cls] of Object.entries(BUILTIN_STRATEGIES)) {
        process.stdout.write(`${name.padEnd(20)} ${cls.description}\n`);
      }
    });
}
