// An append-only journal file of checksummed records: what a trading node must still know after a crash.
// Layout: an 8-byte magic ("BOT4JNL1"), then records framed as [u32 payload length][u32 CRC32C of kind byte +
// payload][u8 kind][payload], little-endian. Invariants: a record is either wholly valid or detected as bad;
// appends go to the OS with one write() each (a kill -9 loses no record already appended; only power loss or a
// kernel crash can, and the fsync policy bounds that window). Units: bytes, milliseconds.
//
// Reading: damage at the tail (a torn last write: short frame, bad checksum, and no valid record after it) is
// repaired by truncating to the last good record, counted; damage followed by any valid record is corruption
// in the middle and stops with an error naming its byte offset (never silently skipped).
//
// Why a plain file and not LMDB: measured on this machine (bench/journal.bench.ts, see the README), a grouped
// fdatasync on an append-only file costs ~µs per record and appends are strictly sequential; a B-tree store
// adds a page write per commit and a native dependency for no read pattern the node has (it replays the whole
// file once at start).

import {
  closeSync,
  fdatasync,
  fdatasyncSync,
  fstatSync,
  ftruncateSync,
  openSync,
  readSync,
  writeSync,
} from 'node:fs';
import { monoMillis } from '../core/clock.ts';
import { Bot4Error, ErrorCode } from '../core/errors.ts';

export const JOURNAL_MAGIC = Buffer.from('BOT4JNL1', 'latin1');
/** Frame header: length, checksum, kind. */
export const FRAME_HEADER = 9;
/** A record larger than this is damage (a flipped length byte), not data. */
export const MAX_PAYLOAD = 1 << 20;

export const FsyncPolicy = { ALWAYS: 'always', GROUP: 'group', OS: 'os' } as const;
export type FsyncPolicy = (typeof FsyncPolicy)[keyof typeof FsyncPolicy];

// ---- CRC32C (Castagnoli), table-driven; Node 20 has no built-in ----

const CRC_TABLE = (() => {
  const t = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
    t[n] = c;
  }
  return t;
})();

export function crc32c(buf: Uint8Array, start = 0, end = buf.length, seed = 0): number {
  let c = ~seed;
  for (let i = start; i < end; i++) c = CRC_TABLE[(c ^ buf[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}

// ---- reading ----

export interface JournalRecord {
  kind: number;
  payload: Buffer;
  /** Byte offset of the record's frame in the file. */
  offset: number;
}

export interface ReadResult {
  records: JournalRecord[];
  /** File length after any repair: where the next append goes. */
  end: number;
  /** Bytes cut from a torn tail (0 when the file was whole). */
  repairedBytes: number;
  /** Offset the tail was cut at, or -1. */
  repairedAt: number;
}

/** Is there a whole, checksum-valid frame at `p`? */
function validAt(buf: Buffer, p: number): boolean {
  if (p + FRAME_HEADER > buf.length) return false;
  const len = buf.readUInt32LE(p);
  if (len > MAX_PAYLOAD || p + FRAME_HEADER + len > buf.length) return false;
  return crc32c(buf, p + 8, p + FRAME_HEADER + len) === buf.readUInt32LE(p + 4);
}

/**
 * Parses a journal image. A bad frame with a valid frame anywhere after it is mid-file corruption (throws,
 * naming the offset); a bad frame with none after it is a torn tail: the result ends before it.
 */
export function parseJournal(buf: Buffer, name = 'journal'): ReadResult {
  const records: JournalRecord[] = [];
  if (buf.length === 0) return { records, end: 0, repairedBytes: 0, repairedAt: -1 };
  if (buf.length < JOURNAL_MAGIC.length) {
    // Torn while writing the magic of a new file.
    if (JOURNAL_MAGIC.subarray(0, buf.length).equals(buf)) {
      return { records, end: 0, repairedBytes: buf.length, repairedAt: 0 };
    }
    throw corrupt(name, 0, 'not a Bot4 journal (bad magic)');
  }
  if (!buf.subarray(0, JOURNAL_MAGIC.length).equals(JOURNAL_MAGIC)) {
    throw corrupt(name, 0, 'not a Bot4 journal (bad magic)');
  }
  let p = JOURNAL_MAGIC.length;
  while (p < buf.length) {
    if (validAt(buf, p)) {
      const len = buf.readUInt32LE(p);
      records.push({
        kind: buf[p + 8]!,
        payload: buf.subarray(p + FRAME_HEADER, p + FRAME_HEADER + len),
        offset: p,
      });
      p += FRAME_HEADER + len;
      continue;
    }
    // Bad frame at p: a torn tail only if nothing valid follows (a random 32-bit checksum match is ~2^-32).
    for (let q = p + 1; q + FRAME_HEADER <= buf.length; q++) {
      if (validAt(buf, q)) {
        throw corrupt(name, p, `damaged record (a valid record follows at byte ${q})`);
      }
    }
    return { records, end: p, repairedBytes: buf.length - p, repairedAt: p };
  }
  return { records, end: p, repairedBytes: 0, repairedAt: -1 };
}

function corrupt(name: string, offset: number, what: string): Bot4Error {
  return new Bot4Error(
    ErrorCode.DATA_MALFORMED,
    `${name}: ${what} at byte offset ${offset}; the journal is damaged in the middle and cannot be trusted (restore it or move it aside)`,
    { file: name, offset },
  );
}

function readAll(fd: number): Buffer {
  const size = fstatSync(fd).size;
  const buf = Buffer.allocUnsafe(size);
  let got = 0;
  while (got < size) {
    const n = readSync(fd, buf, got, size - got, got);
    if (n === 0) break;
    got += n;
  }
  return buf.subarray(0, got);
}

/** Reads a journal file (no repair; see openJournal). */
export function readJournal(path: string): ReadResult {
  const fd = openSync(path, 'r');
  try {
    return parseJournal(readAll(fd), path);
  } finally {
    closeSync(fd);
  }
}

// ---- writing ----

export interface JournalOptions {
  fsync: FsyncPolicy;
  /** GROUP: the longest a record may wait for its fdatasync, ms. */
  groupMs?: number;
  /** A line for the torn-tail repair (default stderr). */
  log?: (line: string) => void;
}

/** Counts for status lines and tests. */
export class JournalStats {
  records = 0;
  bytes = 0;
  syncs = 0;
}

export class JournalWriter {
  readonly path: string;
  readonly policy: FsyncPolicy;
  readonly stats = new JournalStats();
  private fd: number;
  private readonly groupMs: number;
  private scratch = Buffer.allocUnsafe(4096);
  private dirty = false;
  private lastSync = 0;
  private timer: NodeJS.Timeout | undefined = undefined;
  private inFlight = false;
  private closePending = false;
  private readonly log: (line: string) => void;

  constructor(path: string, fd: number, options: JournalOptions) {
    this.path = path;
    this.fd = fd;
    this.policy = options.fsync;
    this.groupMs = options.groupMs ?? 5;
    this.lastSync = monoMillis();
    this.log = options.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  }

  /** Appends one record: one write() to the OS, then an fdatasync now (ALWAYS), within groupMs off the engine thread (GROUP), or never (OS). */
  append(kind: number, payload: Uint8Array): void {
    if (this.fd < 0) throw new Bot4Error(ErrorCode.INTERNAL, `journal ${this.path} is closed`);
    const n = FRAME_HEADER + payload.length;
    if (payload.length > MAX_PAYLOAD) {
      throw new Bot4Error(
        ErrorCode.CAPACITY,
        `journal record of ${payload.length} bytes exceeds ${MAX_PAYLOAD}`,
      );
    }
    if (this.scratch.length < n) this.scratch = Buffer.allocUnsafe(Math.max(n, this.scratch.length * 2));
    const b = this.scratch;
    b.writeUInt32LE(payload.length, 0);
    b[8] = kind;
    b.set(payload, FRAME_HEADER);
    b.writeUInt32LE(crc32c(b, 8, n), 4);
    let off = 0;
    while (off < n) off += writeSync(this.fd, b, off, n - off);
    this.stats.records++;
    this.stats.bytes += n;
    if (this.policy === FsyncPolicy.ALWAYS) this.sync();
    else if (this.policy === FsyncPolicy.GROUP) this.groupSync();
  }

  appendJson(kind: number, body: unknown): void {
    this.append(kind, Buffer.from(JSON.stringify(body), 'utf8'));
  }

  /** Makes every appended record durable now. */
  sync(): void {
    if (this.fd < 0) return;
    fdatasyncSync(this.fd);
    this.stats.syncs++;
    this.dirty = false;
    this.lastSync = monoMillis();
  }

  private groupSync(): void {
    this.dirty = true;
    if (this.inFlight || this.timer !== undefined) return;
    const wait = this.groupMs - (monoMillis() - this.lastSync);
    if (wait <= 0) this.startGroupSync();
    else {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.startGroupSync();
      }, wait);
      this.timer.unref();
    }
  }

  /** fdatasync on libuv's thread pool: the engine thread keeps appending; later records ride the next one. */
  private startGroupSync(): void {
    if (this.fd < 0 || !this.dirty) return;
    this.dirty = false;
    this.inFlight = true;
    this.lastSync = monoMillis();
    const fd = this.fd;
    fdatasync(fd, (err) => {
      this.inFlight = false;
      if (this.closePending) {
        this.closePending = false;
        closeSync(fd);
        return;
      }
      if (err !== null) {
        this.log(`journal ${this.path}: fdatasync failed: ${err.message}; syncing on the next append`);
        this.dirty = true;
      } else this.stats.syncs++;
      if (this.dirty) this.groupSync();
    });
  }

  /** Syncs what is unsynced (except under OS) and closes; safe to call twice. */
  close(): void {
    if (this.fd < 0) return;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.policy !== FsyncPolicy.OS && (this.dirty || this.inFlight)) this.sync();
    // An fdatasync still running on the pool holds the descriptor: it closes it when done.
    if (this.inFlight) this.closePending = true;
    else closeSync(this.fd);
    this.fd = -1;
  }
}

export interface OpenedJournal {
  writer: JournalWriter;
  records: JournalRecord[];
  /** Bytes cut from a torn tail at open (0: none). */
  repairedBytes: number;
}

/**
 * Opens (creating) a journal for appending: reads every record, cuts a torn tail (logged with its offset and
 * size), throws on mid-file damage. The returned records are the history to replay.
 */
export function openJournal(path: string, options: JournalOptions): OpenedJournal {
  const fd = openSync(path, 'a+');
  try {
    const r = parseJournal(readAll(fd), path);
    if (r.repairedBytes > 0) {
      ftruncateSync(fd, r.end);
      (options.log ?? ((l: string) => process.stderr.write(`${l}\n`)))(
        `journal ${path}: torn tail repaired: cut ${r.repairedBytes} byte(s) at offset ${r.repairedAt} (${r.records.length} good record(s) kept)`,
      );
    }
    if (r.end === 0) writeSync(fd, JOURNAL_MAGIC);
    const writer = new JournalWriter(path, fd, options);
    if (r.repairedBytes > 0 || r.end === 0) writer.sync();
    return { writer, records: r.records, repairedBytes: r.repairedBytes };
  } catch (e) {
    closeSync(fd);
    throw e;
  }
}
