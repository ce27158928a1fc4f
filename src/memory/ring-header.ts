import { monoMillis } from '../core/clock.ts';
// Layout and validation shared by the SharedArrayBuffer rings (SpscRing, MpscRing): a metadata cache line
// (magic, kind, capacity, record size) that lets `attach` refuse a buffer it did not lay out.
// Units: capacity in records (a power of two), record sizes and offsets in bytes, header slots in Int32 words.

import { Bot4Error, ErrorCode } from '../core/errors.ts';

/** Bytes per cache line on x86-64 and most ARM cores; fields written by different threads sit on different lines. */
export const CACHE_LINE = 64;
/** Int32 words per cache line. */
export const LINE_WORDS = CACHE_LINE / 4;

/** 'B4RG' in ASCII: marks a buffer laid out by this module. */
export const RING_MAGIC = 0x42345247;
/** Bumped whenever the layout changes, so a worker built from older code refuses a newer buffer. */
export const RING_VERSION = 1;

export const RingKind = { SPSC: 1, MPSC: 2 } as const;
export type RingKind = (typeof RingKind)[keyof typeof RingKind];

/** Word indices of the metadata line (the third cache line, bytes 128..191, in both ring kinds). */
export const META_MAGIC = 2 * LINE_WORDS;
export const META_VERSION = META_MAGIC + 1;
export const META_KIND = META_MAGIC + 2;
export const META_CAPACITY = META_MAGIC + 3;
export const META_RECORD_BYTES = META_MAGIC + 4;
/** Header bytes before any per-kind region: producer line, consumer line, metadata line. */
export const HEADER_BYTES = 3 * CACHE_LINE;

/**
 * Offsets handed to users must stay V8 small integers (31-bit with pointer compression), so the data region
 * is capped at 1 GiB; positions are 32-bit wrapping counters, so capacity is capped at 2^30 to keep
 * `(tail - head) | 0` in [0, capacity] without ambiguity.
 */
export const MAX_DATA_BYTES = 2 ** 30;
export const MAX_CAPACITY = 2 ** 30;

export interface RingSpec {
  /** Number of records the ring holds; a power of two >= 2. */
  capacity: number;
  /** Bytes per record; a positive multiple of 8 so that `f64[offset >> 3]` and `i32[offset >> 2]` are aligned. */
  recordBytes: number;
  /**
   * First sequence number (default 0). Counters are 32-bit and wrap; tests start near 2^31 or 2^32 to cross
   * the wrap early. Any int32 value works.
   */
  startSequence?: number;
}

export function kindName(kind: number): string {
  return kind === RingKind.SPSC ? 'SpscRing' : kind === RingKind.MPSC ? 'MpscRing' : `unknown kind ${kind}`;
}

/** Validates a spec at construction time; throws INVALID_ARGUMENT naming the bad field. */
export function checkSpec(spec: RingSpec, owner: string): void {
  const { capacity, recordBytes } = spec;
  if (
    !Number.isInteger(capacity) ||
    capacity < 2 ||
    capacity > MAX_CAPACITY ||
    (capacity & (capacity - 1)) !== 0
  ) {
    throw new Bot4Error(
      ErrorCode.INVALID_ARGUMENT,
      `${owner}: capacity ${capacity} must be a power of two between 2 and 2^30 (e.g. 1024, 65536)`,
      { capacity },
    );
  }
  if (!Number.isInteger(recordBytes) || recordBytes < 8 || recordBytes % 8 !== 0) {
    throw new Bot4Error(
      ErrorCode.INVALID_ARGUMENT,
      `${owner}: recordBytes ${recordBytes} must be a positive multiple of 8 (pad the record, e.g. 12 -> 16)`,
      { recordBytes },
    );
  }
  if (capacity * recordBytes > MAX_DATA_BYTES) {
    throw new Bot4Error(
      ErrorCode.INVALID_ARGUMENT,
      `${owner}: capacity ${capacity} x recordBytes ${recordBytes} = ${capacity * recordBytes} bytes exceeds the 1 GiB data limit; lower the capacity`,
      { capacity, recordBytes },
    );
  }
  const start = spec.startSequence ?? 0;
  if (!Number.isInteger(start) || start < -(2 ** 31) || start > 2 ** 31 - 1) {
    throw new Bot4Error(
      ErrorCode.INVALID_ARGUMENT,
      `${owner}: startSequence ${start} must be an int32 (between -2^31 and 2^31-1)`,
      { startSequence: start },
    );
  }
}

export function writeMeta(header: Int32Array, kind: RingKind, capacity: number, recordBytes: number): void {
  header[META_VERSION] = RING_VERSION;
  header[META_KIND] = kind;
  header[META_CAPACITY] = capacity;
  header[META_RECORD_BYTES] = recordBytes;
  // Magic last: the buffer is only shared after construction, but a half-written header should never look valid.
  Atomics.store(header, META_MAGIC, RING_MAGIC);
}

export interface RingMeta {
  capacity: number;
  recordBytes: number;
}

/**
 * Reads and checks the metadata of a buffer handed to `attach`. `totalBytes(capacity, recordBytes)` gives the
 * exact size the kind lays out, so a truncated or over-long buffer is refused too.
 */
export function readMeta(
  sab: unknown,
  kind: RingKind,
  totalBytes: (capacity: number, recordBytes: number) => number,
): RingMeta {
  const owner = kindName(kind);
  if (!(sab instanceof SharedArrayBuffer)) {
    throw new Bot4Error(
      ErrorCode.RING_LAYOUT,
      `${owner}.attach: expected the SharedArrayBuffer of a ring (ring.buffer), got ${describe(sab)}`,
      { got: describe(sab) },
    );
  }
  if (sab.byteLength < HEADER_BYTES) {
    throw new Bot4Error(
      ErrorCode.RING_LAYOUT,
      `${owner}.attach: buffer of ${sab.byteLength} bytes is smaller than a ring header (${HEADER_BYTES} bytes); pass ring.buffer from ${owner}.create`,
      { byteLength: sab.byteLength },
    );
  }
  const header = new Int32Array(sab, 0, HEADER_BYTES / 4);
  const magic = Atomics.load(header, META_MAGIC);
  if (magic !== RING_MAGIC) {
    throw new Bot4Error(
      ErrorCode.RING_LAYOUT,
      `${owner}.attach: buffer has no ring header (magic 0x${(magic >>> 0).toString(16)}, expected 0x${RING_MAGIC.toString(16)}); pass ring.buffer from ${owner}.create`,
      { magic },
    );
  }
  const version = header[META_VERSION]!;
  if (version !== RING_VERSION) {
    throw new Bot4Error(
      ErrorCode.RING_LAYOUT,
      `${owner}.attach: ring layout version ${version} is not the supported version ${RING_VERSION}; build both sides from the same Bot4 version`,
      { version },
    );
  }
  const found = header[META_KIND]!;
  if (found !== kind) {
    throw new Bot4Error(
      ErrorCode.RING_LAYOUT,
      `${owner}.attach: buffer holds a ${kindName(found)}, not a ${owner}; attach it with ${kindName(found)}.attach`,
      { kind: found },
    );
  }
  const capacity = header[META_CAPACITY]!;
  const recordBytes = header[META_RECORD_BYTES]!;
  try {
    checkSpec({ capacity, recordBytes }, `${owner}.attach`);
  } catch (e) {
    throw new Bot4Error(ErrorCode.RING_LAYOUT, `corrupt ring header: ${(e as Error).message}`, {
      capacity,
      recordBytes,
    });
  }
  const expected = totalBytes(capacity, recordBytes);
  if (sab.byteLength !== expected) {
    throw new Bot4Error(
      ErrorCode.RING_LAYOUT,
      `${owner}.attach: buffer is ${sab.byteLength} bytes but its header (capacity ${capacity}, recordBytes ${recordBytes}) needs ${expected}; the buffer is corrupt or not a ring`,
      { byteLength: sab.byteLength, expected, capacity, recordBytes },
    );
  }
  return { capacity, recordBytes };
}

function describe(x: unknown): string {
  if (x === null) return 'null';
  if (typeof x !== 'object') return typeof x;
  return (x as object).constructor?.name ?? 'object';
}

/** Remaining milliseconds until `deadline` (a monoMillis() value); Infinity stays Infinity. */
export function remainingMs(deadline: number): number {
  return deadline === Number.POSITIVE_INFINITY ? deadline : Math.max(0, deadline - monoMillis());
}

/** A release of records the consumer has not seen would let producers overwrite unread data: a caller bug. */
export function releasePastSeen(owner: string, n: number, seen: number): never {
  throw new Bot4Error(
    ErrorCode.INTERNAL,
    `${owner}.releaseBatch(${n}) releases more records than the consumer has seen (${seen}); release only what peek/peekBatch/available returned`,
    { n, seen },
  );
}
