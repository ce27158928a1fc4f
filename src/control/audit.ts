// The control API's audit trail: every state-changing call (kill switch, cancel-all, flatten, strategy start,
// stop and parameter, trading state, breaker reset), including one refused for its role, is written BEFORE
// it acts, naming who made it (role and token id, never the token) and from where, to
// `<stateDir>/control-audit.jnl` (the checksummed journal format of src/persistence/journal.ts, fdatasync per
// record: operator calls are rare and each must survive a crash) and, when the node keeps a crash-safe
// journal, to that journal too (record kind CONTROL), so the node's own history says who steered it.

import { join } from 'node:path';
import { type JournalWriter, openJournal, readJournal } from '../persistence/journal.ts';
import type { NodeJournal } from '../persistence/node-journal.ts';
import type { Caller } from './tokens.ts';

export const AUDIT_FILE = 'control-audit.jnl';
/** The audit journal's record kind (its own file: one kind). */
const AUDIT_KIND = 1;

export interface AuditEntry {
  /** ISO UTC time of the call. */
  ts: string;
  role: Caller['role'];
  tokenId: string;
  ip: string;
  /** Method and route, e.g. "POST /api/kill". */
  action: string;
  /** The call's parameters (route ids and the parsed body). */
  args: unknown;
  /** "accepted" (authorised and well-formed, written before it acts; the action may still fail, e.g. no such
   * strategy, which the caller sees as 4xx), or "refused: <why>" (a read-only token on a write call). */
  outcome: string;
}

export class ControlAudit {
  readonly path: string;
  private readonly writer: JournalWriter;
  private readonly node: NodeJournal | undefined;
  /** Entries written this run (tests and the console read them). */
  count = 0;

  private constructor(path: string, writer: JournalWriter, node: NodeJournal | undefined) {
    this.path = path;
    this.writer = writer;
    this.node = node;
  }

  static open(stateDir: string, nodeJournal?: NodeJournal, log?: (line: string) => void): ControlAudit {
    const path = join(stateDir, AUDIT_FILE);
    const j = openJournal(path, { fsync: 'always', ...(log === undefined ? {} : { log }) });
    return new ControlAudit(path, j.writer, nodeJournal);
  }

  record(e: AuditEntry): void {
    this.writer.appendJson(AUDIT_KIND, e);
    this.node?.control(e);
    this.count++;
  }

  close(): void {
    this.writer.close();
  }
}

/** Every entry of an audit journal, oldest first. */
export function readAudit(stateDir: string): AuditEntry[] {
  return readJournal(join(stateDir, AUDIT_FILE)).records.map(
    (r) => JSON.parse(r.payload.toString('utf8')) as AuditEntry,
  );
}
