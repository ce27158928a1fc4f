// The control API's bearer tokens: one read-only and one operator token, generated at the node's first start
// and kept in `<stateDir>/control-tokens.json` with owner-only permissions (directory 0700, file 0600). A file
// that others may read is refused (as ssh refuses a readable key): its tokens must be taken as leaked.
// Rotation writes two new tokens (the old ones stop working at once) through a temporary file and a rename,
// so a crash never leaves a half-written file. Who made a call is named by role and token id (the first 12
// hex digits of the token's SHA-256), never by the token. Comparison is constant-time on the digests.

import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { wallMillis } from '../core/clock.ts';
import { Bot4Error, ErrorCode } from '../core/errors.ts';

export const Role = { READ: 'read', OPERATOR: 'operator' } as const;
export type Role = (typeof Role)[keyof typeof Role];

export const TOKENS_FILE = 'control-tokens.json';

export interface Caller {
  role: Role;
  /** sha256(token) prefix: names the token in the audit journal and logs. */
  tokenId: string;
}

interface StoredTokens {
  read: string;
  operator: string;
  created: string;
}

/** 32 random bytes, base64url, with a prefix saying the role (so a pasted token is recognisable). */
function newToken(role: Role): string {
  return `bot4_${role === Role.OPERATOR ? 'op' : 'ro'}_${randomBytes(32).toString('base64url')}`;
}

function digest(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

export function tokenId(token: string): string {
  return digest(token).toString('hex').slice(0, 12);
}

export class ControlTokens {
  readonly file: string;
  /** Whether this start created or rotated them (the CLI prints them then, and always with --console). */
  readonly fresh: boolean;
  private readonly stored: StoredTokens;
  private readonly digests: { role: Role; digest: Buffer; id: string }[];

  private constructor(file: string, stored: StoredTokens, fresh: boolean) {
    this.file = file;
    this.stored = stored;
    this.fresh = fresh;
    this.digests = [Role.OPERATOR, Role.READ].map((role) => {
      const t = stored[role];
      return { role, digest: digest(t), id: tokenId(t) };
    });
  }

  /** Reads the tokens of `stateDir`, creating the directory and the tokens at first start (or `rotate`). */
  static open(stateDir: string, options: { rotate?: boolean } = {}): ControlTokens {
    mkdirSync(stateDir, { recursive: true, mode: 0o700 });
    const file = join(stateDir, TOKENS_FILE);
    if (existsSync(file) && options.rotate !== true) {
      const mode = statSync(file).mode & 0o777;
      if ((mode & 0o077) !== 0) {
        throw new Bot4Error(
          ErrorCode.CONFIG_INVALID,
          `control tokens ${file} are readable by others (mode ${mode.toString(8)}): take them as leaked and start with --rotate-tokens`,
          { file },
        );
      }
      let stored: StoredTokens;
      try {
        stored = JSON.parse(readFileSync(file, 'utf8')) as StoredTokens;
      } catch (e) {
        throw new Bot4Error(ErrorCode.CONFIG_FILE, `control tokens ${file}: ${(e as Error).message}`, {
          file,
        });
      }
      if (typeof stored.read !== 'string' || typeof stored.operator !== 'string' || stored.read === '') {
        throw new Bot4Error(
          ErrorCode.CONFIG_FILE,
          `control tokens ${file}: 'read' and 'operator' must be tokens (start with --rotate-tokens for new ones)`,
          { file },
        );
      }
      return new ControlTokens(file, stored, false);
    }
    const stored: StoredTokens = {
      read: newToken(Role.READ),
      operator: newToken(Role.OPERATOR),
      created: new Date(wallMillis()).toISOString(),
    };
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, `${JSON.stringify(stored, null, 2)}\n`, { mode: 0o600, flag: 'w' });
    chmodSync(tmp, 0o600);
    renameSync(tmp, file);
    return new ControlTokens(file, stored, true);
  }

  /** The caller a bearer token names, or undefined (constant time per stored token). */
  verify(token: string): Caller | undefined {
    const d = digest(token);
    let found: Caller | undefined;
    for (const t of this.digests) {
      if (timingSafeEqual(d, t.digest) && found === undefined) found = { role: t.role, tokenId: t.id };
    }
    return found;
  }

  token(role: Role): string {
    return this.stored[role];
  }

  id(role: Role): string {
    return tokenId(this.stored[role]);
  }
}
