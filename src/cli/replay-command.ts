// `bot4 backtest --replay-session <id>`: the command side of session replay (src/backtest/session-replay.ts):
// finds the session in the catalog, replays it, prints the divergence summary and the backtest's summary, and
// writes report.json, report.html (divergence in its notes) and divergence.json (every divergence) to --out.

import { checkOutputDir } from './outputs.ts';

export async function runReplayCommand(o: {
  sessionId: string;
  catalogDir: string;
  out: string;
}): Promise<void> {
  checkOutputDir(o.out);
  const [{ replaySession, writeDivergence }, { writeReport }, { formatSummary }] = await Promise.all([
    import('../backtest/session-replay.ts'),
    import('../backtest/report.ts'),
    import('../backtest/report-format.ts'),
  ]);
  const r = await replaySession({ catalogDir: o.catalogDir, sessionId: o.sessionId });
  const paths = writeReport(o.out, r.result.report);
  for (const note of paths.notes) process.stderr.write(`bot4 replay: note: ${note}\n`);
  const divergence = writeDivergence(o.out, r);
  process.stdout.write(
    `session ${r.manifest.id} (${r.manifest.mode}, ${r.manifest.strategies.map((s) => s.name).join(', ')}): ` +
      `${r.marketEvents.toLocaleString('en-US')} market events replayed\n${r.lines.join('\n')}\n\n` +
      `${formatSummary(r.result.stats)}\nreport: ${paths.html}\n        ${paths.json}\n        ${divergence}\n`,
  );
}
