// `bot4 profile -- <bot4 command>`: runs any bot4 command in a child Node with V8's sampling profiler on
// (--cpu-prof), then writes the profile, a self-contained flamegraph page (speedscope, offline) and prints the
// functions with the most self time. --perf records the same run with Linux perf (JIT symbols from
// --perf-basic-prof) where perf can, and says why not where it cannot.

import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { Bot4Error, ErrorCode } from '../core/errors.ts';
import { formatTopFunctions, readCpuProfile, topSelfTime } from '../monitoring/cpu-profile.ts';
import { flamegraphHtml } from '../monitoring/flamegraph.ts';
import { Interrupted } from './interrupt.ts';

interface ProfileCliOptions {
  out: string;
  top: string;
  perf?: boolean;
}

/** Why perf cannot record here, or undefined when it can (a 0.1 s trial recording of `true`). */
export function perfUnavailable(): string | undefined {
  const v = spawnSync('perf', ['--version'], { encoding: 'utf8' });
  if (v.error !== undefined) return 'perf is not installed (Debian: linux-perf)';
  const t = spawnSync('perf', ['record', '-q', '-e', 'cpu-clock', '-o', '/dev/null', '--', 'true'], {
    encoding: 'utf8',
  });
  if (t.status !== 0)
    return `perf record failed: ${(t.stderr ?? '').trim().split('\n').slice(0, 2).join(' ')}`;
  return undefined;
}

function runChild(cmd: string, args: string[]): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(cmd, args, { stdio: 'inherit' });
    // Ctrl-C reaches the child through the terminal; this process stays to write the flamegraph.
    const ignore = () => {};
    process.on('SIGINT', ignore);
    child.once('error', (e) => {
      process.off('SIGINT', ignore);
      reject(e);
    });
    child.once('exit', (code, signal) => {
      process.off('SIGINT', ignore);
      resolvePromise(code ?? (signal === 'SIGINT' ? 130 : 1));
    });
  });
}

export function registerProfileCommand(program: Command): void {
  program
    .command('profile')
    .description(
      'run a bot4 command under the V8 CPU profiler; write a flamegraph (HTML) and print the top functions',
    )
    .argument('<command...>', 'the bot4 command and its arguments, after --')
    .option('-o, --out <dir>', 'folder for the profile and flamegraph.html', 'reports/profile')
    .option('--top <n>', 'functions to print, by self time', '20')
    .option('--perf', 'also record with Linux perf (perf.data, perf.script) where available')
    .addHelpText(
      'after',
      `
Examples:
  bot4 profile -- backtest --demo
  bot4 profile --out reports/prof-opt -- optimize --bars 100000 --param fast=5..50:5 --trials 20
  bot4 profile --perf -- backtest --demo --hours 48

Writes <out>/main.cpuprofile (open in Chrome DevTools too), <out>/flamegraph.html (speedscope, offline;
other threads' profiles listed beside it) and prints the functions with the most self time. The exit
code is the profiled command's.`,
    )
    .action(async (command: string[], opts: ProfileCliOptions) => {
      const top = Number(opts.top);
      if (!Number.isInteger(top) || top < 1) {
        throw new Bot4Error(ErrorCode.INVALID_ARGUMENT, `--top '${opts.top}' must be a whole number >= 1`, {
          option: '--top',
        });
      }
      if (command[0] === 'profile') {
        throw new Bot4Error(ErrorCode.INVALID_ARGUMENT, 'bot4 profile cannot profile itself', {});
      }
      const out = resolve(opts.out);
      const profDir = join(out, 'cpuprofile');
      rmSync(profDir, { recursive: true, force: true });
      mkdirSync(profDir, { recursive: true });
      // The same Node flags and entry as this process (tsx in development, dist/ when installed).
      const nodeArgs = [...process.execArgv, '--cpu-prof', `--cpu-prof-dir=${profDir}`];
      const entry = process.argv[1]!;
      let code: number;
      if (opts.perf === true) {
        const why = perfUnavailable();
        if (why === undefined) {
          const data = join(out, 'perf.data');
          process.stderr.write(`profile: recording with perf (cpu-clock, call graphs) into ${data}\n`);
          code = await runChild('perf', [
            'record',
            '-q',
            '-g',
            '-F',
            '999',
            '-e',
            'cpu-clock',
            '-o',
            data,
            '--',
            process.execPath,
            '--perf-basic-prof',
            ...nodeArgs,
            entry,
            ...command,
          ]);
          const script = spawnSync('perf', ['script', '-i', data], { encoding: 'utf8', maxBuffer: 1 << 30 });
          if (script.status === 0) {
            writeFileSync(join(out, 'perf.script'), script.stdout);
            process.stderr.write(
              `profile: perf samples in ${join(out, 'perf.script')} (speedscope opens it too)\n`,
            );
          } else {
            process.stderr.write(`profile: perf script failed: ${script.stderr.trim().split('\n')[0]}\n`);
          }
        } else {
          process.stderr.write(`profile: --perf unavailable here (${why}); recording the V8 profile only\n`);
          code = await runChild(process.execPath, [...nodeArgs, entry, ...command]);
        }
      } else {
        code = await runChild(process.execPath, [...nodeArgs, entry, ...command]);
      }

      // Node names profiles CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile; thread 0 is the main one.
      const files = readdirSync(profDir).filter((f) => f.endsWith('.cpuprofile'));
      const main = files.find((f) => f.split('.')[4] === '0') ?? files[0];
      if (main === undefined) {
        throw new Bot4Error(
          ErrorCode.DATA_MISSING,
          `the profiled command wrote no CPU profile into ${profDir}`,
          {},
        );
      }
      const text = readFileSync(join(profDir, main));
      writeFileSync(join(out, 'main.cpuprofile'), text);
      const html = join(out, 'flamegraph.html');
      writeFileSync(html, flamegraphHtml(text, `bot4 ${command.join(' ')}`));
      const rows = topSelfTime(readCpuProfile(join(profDir, main)), top);
      process.stdout.write(
        `\nTop ${rows.length} functions by self time (main thread):\n${formatTopFunctions(rows).join('\n')}\n` +
          `\nflamegraph: ${html}\nprofile:    ${join(out, 'main.cpuprofile')}` +
          `${files.length > 1 ? `\nthreads:    ${files.length - 1} more profile(s) in ${profDir}` : ''}\n`,
      );
      if (code === 130) throw new Interrupted('profiled command interrupted');
      if (code !== 0) {
        throw new Bot4Error(
          code === 2 ? ErrorCode.INVALID_ARGUMENT : ErrorCode.INTERNAL,
          `the profiled command exited with code ${code} (profile written)`,
          { code },
        );
      }
    });
}
