// `bot4 report`: the kept backtest runs (reports/<time>-<strategy>/, see src/backtest/runs.ts). `ls` lists them
// with their headline figures, `show` prints one's text report (summary and analysis), `compare` puts two or
// more side by side in the terminal and writes one HTML page with their equity curves overlaid.

import type { Command } from 'commander';
import { Bot4Error, ErrorCode } from '../core/errors.ts';
import { checkOutputFile } from './outputs.ts';

interface DirOption {
  dir: string;
}

const DIR_OPTION = ['--dir <folder>', 'reports root of the kept runs', 'reports'] as const;

export function registerReportCommands(program: Command): void {
  const report = program
    .command('report')
    .description('list, show and compare kept backtest runs (reports/<time>-<strategy>/)');
  report
    .command('ls')
    .description('list the kept runs, oldest first, with their headline figures (* = latest)')
    .option(...DIR_OPTION)
    .option('--json', 'one JSON object per run instead of the table')
    .action(async (opts: DirOption & { json?: boolean }) => {
      const { listRuns, runsTable } = await import('../backtest/runs.ts');
      const runs = listRuns(opts.dir);
      if (opts.json === true) {
        for (const r of runs) {
          const s = r.report.stats;
          process.stdout.write(
            `${JSON.stringify({ name: r.name, dir: r.dir, latest: r.latest, createdAt: r.report.createdAt, strategy: r.report.meta.strategy, data: r.report.meta.data, totalReturn: s.totalReturn, maxDrawdown: s.maxDrawdown, sharpe: s.sharpe, trades: s.trades, winRate: s.winRate, netProfit: s.netProfit, currency: s.currency.code })}\n`,
          );
        }
        return;
      }
      process.stdout.write(`${runsTable(runs, opts.dir)}\n`);
    });
  report
    .command('show')
    .description('print a run’s text report: the summary and the analysis tables')
    .argument('[run]', 'a run: folder, name (or part of one), latest or latest~N', 'latest')
    .option(...DIR_OPTION)
    .action(async (ref: string, opts: DirOption) => {
      const [{ findRun }, { reportText }] = await Promise.all([
        import('../backtest/runs.ts'),
        import('../backtest/report.ts'),
      ]);
      const run = findRun(ref, opts.dir);
      process.stdout.write(`${run.name}: ${run.report.meta.strategy} on ${run.report.meta.data}\n\n`);
      process.stdout.write(reportText(run.report));
    });
  report
    .command('compare')
    .description('statistics of two or more runs side by side, and an HTML page with their equity overlaid')
    .argument('<runs...>', 'runs: folders, names (or parts of one), latest, latest~N; the first is the base')
    .option(...DIR_OPTION)
    .option('-o, --out <file>', 'the HTML page (default: <dir>/compare.html)')
    .addHelpText(
      'after',
      `
Runs are named by folder (reports/20240101-120000-ema-cross or a report.json), by name or a unique part of
one, by latest, or by latest~N (the N-th run before the latest, in time order). Trades match on instrument,
side and entry time; the page lists those that differ from the first run's.`,
    )
    .action(async (refs: string[], opts: DirOption & { out?: string }) => {
      if (refs.length < 2) {
        throw new Bot4Error(
          ErrorCode.INVALID_ARGUMENT,
          `report compare needs two runs or more, got ${refs.length}`,
          { runs: refs },
        );
      }
      const { join, resolve } = await import('node:path');
      const out = opts.out ?? join(opts.dir, 'compare.html');
      const [
        { findRun, withAllTrades },
        { compareRuns, formatComparison, renderCompareHtml },
        { writeFileSync, mkdirSync },
      ] = await Promise.all([
        import('../backtest/runs.ts'),
        import('../backtest/compare.ts'),
        import('node:fs'),
      ]);
      const runs = refs.map((ref) => {
        const full = withAllTrades(findRun(ref, opts.dir));
        if (full.note !== undefined) process.stderr.write(`bot4 report compare: note: ${full.note}\n`);
        return full.run;
      });
      if (opts.out === undefined) mkdirSync(opts.dir, { recursive: true });
      checkOutputFile(out, '--out');
      const c = compareRuns(runs);
      writeFileSync(out, renderCompareHtml(c, runs));
      process.stdout.write(`${formatComparison(c, runs)}\n\ncompare page: ${resolve(out)}\n`);
    });
}
