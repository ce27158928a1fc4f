// What the loaders skipped or repaired, said the same way by every command that reads data files (backtest,
// optimize, ta, data import): one stderr line per note, the same lines in the command's report, and one
// `--strict` option (any row a policy would skip becomes an error naming file:line, exit 2).

export const STRICT_OPTION = [
  '--strict',
  'any data row a loader would skip (malformed, out of order, duplicate...) is an error naming file:line (exit 2); repaired rows still pass, counted',
] as const;

/** Writes each note to stderr as `bot4 <command>: note: ...`. */
export function printNotes(command: string, notes: readonly string[]): void {
  for (const n of notes) process.stderr.write(`bot4 ${command}: note: ${n}\n`);
}
