// Streaming line reader for plain and gzip text files (gzip detected by its magic bytes, not the name).
// Memory is constant: one decompressed chunk plus one carried partial line; lines come in reused chunks
// (`LineChunk`, valid until the next iteration) with 1-based line numbers. Progress is raw bytes read from disk.

import { closeSync, createReadStream, openSync, readSync, statSync } from 'node:fs';
import { createGunzip, gunzipSync } from 'node:zlib';
import { Bot4Error, ErrorCode } from '../core/errors.ts';

/** One chunk of lines. Reused: the reader refills `lines` in place, so consume it before the next step. */
export class LineChunk {
  /** Lines without their terminator ("\n" or "\r\n"). */
  readonly lines: string[] = [];
  /** Number of lines in `lines` that belong to this chunk (the array keeps its capacity). */
  count = 0;
  /** 1-based line number of lines[0]. */
  firstLine = 1;
  /** Bytes of the file read from disk so far (compressed bytes for gzip). */
  bytesRead = 0;
  bytesTotal = 0;
}

export interface ReadLinesOptions {
  /** Bytes read from disk per step (default 1 MiB). */
  readonly chunkBytes?: number;
  readonly signal?: AbortSignal;
}

const GZIP_MAGIC_0 = 0x1f;
const GZIP_MAGIC_1 = 0x8b;

function openError(file: string, e: unknown): Bot4Error {
  const code = (e as { code?: string }).code;
  return new Bot4Error(
    code === 'ENOENT' ? ErrorCode.DATA_MISSING : ErrorCode.DATA_MALFORMED,
    code === 'ENOENT' ? `data file ${file} does not exist` : `cannot read data file ${file}: ${String(e)}`,
    { file, code },
    { cause: e },
  );
}

/** First bytes of a file (fewer when the file is shorter). */
export function readHeadBytes(file: string, n: number): Buffer {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (e) {
    throw openError(file, e);
  }
  try {
    const buf = Buffer.alloc(n);
    const got = readSync(fd, buf, 0, n, 0);
    return buf.subarray(0, got);
  } finally {
    closeSync(fd);
  }
}

export function isGzip(head: Uint8Array): boolean {
  return head.length >= 2 && head[0] === GZIP_MAGIC_0 && head[1] === GZIP_MAGIC_1;
}

/**
 * The first `maxBytes` of a file as text, decompressed when it is gzip (for loader detection). A truncated
 * gzip prefix decompresses as far as it goes.
 */
export function readHeadText(file: string, maxBytes = 64 * 1024): string {
  const raw = readHeadBytes(file, maxBytes);
  if (!isGzip(raw)) return raw.toString('utf8');
  try {
    return gunzipSync(raw, { finishFlush: 2 /* Z_SYNC_FLUSH: accept a truncated stream */ })
      .subarray(0, maxBytes)
      .toString('utf8');
  } catch {
    return '';
  }
}

/**
 * One step of readLineBytes: `buf` holds whole lines only (each ends with "\n" except the file's last), so a
 * loader can parse numbers straight from the bytes without a string per line or cell. Not reused: a step's
 * buffer stays valid after the next step.
 */
export interface ByteLines {
  readonly buf: Buffer;
  /** 1-based line number of the first line in `buf`. */
  readonly firstLine: number;
  /** Lines in `buf` (its "\n" count, plus one for a last line without a newline). */
  readonly count: number;
  /** Bytes of the file read from disk so far (compressed bytes for gzip). */
  readonly bytesRead: number;
  readonly bytesTotal: number;
}

/** Counts "\n" bytes in buf[from, to). */
function newlines(buf: Buffer, from: number, to: number): number {
  let n = 0;
  for (let at = buf.indexOf(10, from); at >= 0 && at < to; at = buf.indexOf(10, at + 1)) n++;
  return n;
}

/**
 * Streams a plain or gzip text file as buffers of whole lines (see ByteLines). Lines split on "\n" bytes, which
 * never occur inside a multi-byte UTF-8 character, so decoding a line's bytes gives what decoding the file and
 * splitting it would. A trailing piece without a newline comes last.
 */
export async function* readLineBytes(
  file: string,
  options: ReadLinesOptions = {},
): AsyncGenerator<ByteLines> {
  let total: number;
  try {
    total = statSync(file).size;
  } catch (e) {
    throw openError(file, e);
  }
  const gz = isGzip(readHeadBytes(file, 2));
  const chunkBytes = options.chunkBytes ?? 1 << 20;
  const raw = createReadStream(file, { highWaterMark: chunkBytes });
  let bytesRead = 0;
  raw.on('data', (b) => {
    bytesRead += (b as Buffer).length;
  });
  let source: AsyncIterable<Buffer>;
  if (gz) {
    const gunzip = createGunzip({ chunkSize: Math.max(64, chunkBytes) });
    raw.on('error', (e) => gunzip.destroy(e));
    raw.pipe(gunzip);
    source = gunzip;
  } else {
    source = raw;
  }
  let carry: Buffer | undefined;
  let nextLine = 1;
  try {
    for await (const chunk of source) {
      if (options.signal?.aborted) throw abortError(file, options.signal);
      const last = chunk.lastIndexOf(10);
      if (last < 0) {
        carry = carry === undefined ? Buffer.from(chunk) : Buffer.concat([carry, chunk]);
        continue;
      }
      let from = 0;
      if (carry !== undefined) {
        // The line cut at the previous chunk's end is joined alone (one line copied, not the whole chunk).
        from = chunk.indexOf(10) + 1;
        yield {
          buf: Buffer.concat([carry, chunk.subarray(0, from)]),
          firstLine: nextLine,
          count: 1,
          bytesRead,
          bytesTotal: total,
        };
        nextLine++;
      }
      // The tail is copied: a stream may reuse its chunk's memory once the next one is asked for.
      carry = last + 1 < chunk.length ? Buffer.from(chunk.subarray(last + 1)) : undefined;
      if (from < last + 1) {
        const count = newlines(chunk, from, last + 1);
        yield {
          buf: chunk.subarray(from, last + 1),
          firstLine: nextLine,
          count,
          bytesRead,
          bytesTotal: total,
        };
        nextLine += count;
      }
    }
    if (carry !== undefined && carry.length > 0) {
      yield { buf: carry, firstLine: nextLine, count: 1, bytesRead: total, bytesTotal: total };
    }
  } catch (e) {
    if (e instanceof Bot4Error) throw e;
    throw new Bot4Error(
      ErrorCode.DATA_MALFORMED,
      `cannot read ${file} near line ${nextLine}: ${(e as Error).message}${gz ? ' (gzip stream)' : ''}`,
      { file, line: nextLine, gzip: gz },
      { cause: e },
    );
  } finally {
    raw.destroy();
  }
}

/**
 * Streams the lines of a plain or gzip text file. Each step yields the same LineChunk object refilled with
 * the lines decoded from the next piece of the file. A trailing line without a newline is yielded too.
 */
export async function* readLines(file: string, options: ReadLinesOptions = {}): AsyncGenerator<LineChunk> {
  const out = new LineChunk();
  const lines = out.lines;
  for await (const step of readLineBytes(file, options)) {
    const text = step.buf.toString('utf8');
    let n = 0;
    let from = 0;
    while (from < text.length) {
      let nl = text.indexOf('\n', from);
      if (nl < 0) nl = text.length;
      const end = nl > from && text.charCodeAt(nl - 1) === 13 ? nl - 1 : nl;
      const line = text.slice(from, end);
      if (n < lines.length) lines[n] = line;
      else lines.push(line);
      n++;
      from = nl + 1;
    }
    out.count = n;
    out.firstLine = step.firstLine;
    out.bytesRead = step.bytesRead;
    out.bytesTotal = step.bytesTotal;
    yield out;
  }
}

function abortError(file: string, signal: AbortSignal): Bot4Error {
  return new Bot4Error(ErrorCode.INVALID_ARGUMENT, `loading ${file} was aborted`, {
    file,
    reason: String(signal.reason),
  });
}

/** Throws the loader-standard abort error when `signal` has fired. */
export function checkAborted(file: string, signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw abortError(file, signal);
}
