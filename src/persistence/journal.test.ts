import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { waitFor } from '../core/poll.test-util.ts';
import {
  crc32c,
  FRAME_HEADER,
  FsyncPolicy,
  JOURNAL_MAGIC,
  openJournal,
  parseJournal,
  readJournal,
} from './journal.ts';

const dir = mkdtempSync(join(tmpdir(), 'bot4-journal-'));
let n = 0;
const fresh = () => join(dir, `j${n++}.bin`);

const recordArb = fc.record({
  kind: fc.integer({ min: 0, max: 255 }),
  payload: fc.uint8Array({ maxLength: 300 }),
});
const recordsArb = fc.array(recordArb, { minLength: 1, maxLength: 40 });

/** Writes records through the real writer and returns the file's bytes and record offsets. */
function writeAll(records: { kind: number; payload: Uint8Array }[]): { path: string; bytes: Buffer } {
  const path = fresh();
  const { writer } = openJournal(path, { fsync: FsyncPolicy.OS });
  for (const r of records) writer.append(r.kind, r.payload);
  writer.close();
  return { path, bytes: readFileSync(path) };
}

describe('journal', () => {
  it('computes CRC32C (the iSCSI check value)', () => {
    expect(crc32c(Buffer.from('123456789'))).toBe(0xe3069283);
  });

  it('round-trips random record sequences', () => {
    fc.assert(
      fc.property(recordsArb, (records) => {
        const { path } = writeAll(records);
        const r = readJournal(path);
        expect(r.repairedBytes).toBe(0);
        expect(r.records.map((x) => ({ kind: x.kind, payload: new Uint8Array(x.payload) }))).toEqual(
          records.map((x) => ({ kind: x.kind, payload: new Uint8Array(x.payload) })),
        );
      }),
      { numRuns: 100 },
    );
  });

  it('repairs a random truncation to a prefix of the records, and appends after it', () => {
    fc.assert(
      fc.property(recordsArb, fc.double({ min: 0, max: 1, noNaN: true }), (records, cutAt) => {
        const { path, bytes } = writeAll(records);
        const cut = Math.floor(cutAt * bytes.length);
        writeFileSync(path, bytes.subarray(0, cut));
        const lines: string[] = [];
        const {
          writer,
          records: got,
          repairedBytes,
        } = openJournal(path, {
          fsync: FsyncPolicy.OS,
          log: (l) => lines.push(l),
        });
        const k = got.length;
        expect(got.map((x) => x.kind)).toEqual(records.slice(0, k).map((x) => x.kind));
        // Exactly the whole records before the cut survive.
        let end = JOURNAL_MAGIC.length;
        for (let i = 0; i < k; i++) end += FRAME_HEADER + records[i]!.payload.length;
        const nextEnd = k < records.length ? end + FRAME_HEADER + records[k]!.payload.length : end;
        if (cut < JOURNAL_MAGIC.length) {
          // Torn while the magic was written: an empty journal again.
          expect(k).toBe(0);
          expect(repairedBytes).toBe(cut);
        } else {
          expect(cut >= end && (cut < nextEnd || k === records.length)).toBe(true);
          expect(repairedBytes).toBe(cut - end);
        }
        expect(lines.length).toBe(repairedBytes > 0 ? 1 : 0);
        writer.append(7, Buffer.from('after'));
        writer.close();
        const again = readJournal(path);
        expect(again.records.length).toBe(k + 1);
        expect(again.records[k]!.payload.toString()).toBe('after');
      }),
      { numRuns: 100 },
    );
  });

  it('detects a flipped byte in the middle and names the damaged record offset', () => {
    fc.assert(
      fc.property(
        fc.array(recordArb, { minLength: 2, maxLength: 30 }),
        fc.nat(),
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        (records, which, within, mask) => {
          const { path, bytes } = writeAll(records);
          const offsets = readJournal(path).records.map((r) => r.offset);
          // Any record but the last: damage with a valid record after it.
          const i = which % (records.length - 1);
          const size = FRAME_HEADER + records[i]!.payload.length;
          const at = offsets[i]! + (within % size);
          const damaged = Buffer.from(bytes);
          damaged[at] = damaged[at]! ^ mask;
          expect(() => parseJournal(damaged, 'j')).toThrow(`at byte offset ${offsets[i]}`);
          writeFileSync(path, damaged);
          const before = statSync(path).size;
          expect(() => openJournal(path, { fsync: FsyncPolicy.OS })).toThrow(/damaged in the middle/);
          expect(statSync(path).size).toBe(before);
        },
      ),
      { numRuns: 100 },
    );
  });

  it('a flipped byte in the last record is a torn tail: cut, counted', () => {
    const records = [
      { kind: 1, payload: Buffer.from('one') },
      { kind: 2, payload: Buffer.from('two') },
    ];
    const { path, bytes } = writeAll(records);
    bytes[bytes.length - 1] = bytes[bytes.length - 1]! ^ 1;
    writeFileSync(path, bytes);
    const lines: string[] = [];
    const j = openJournal(path, { fsync: FsyncPolicy.OS, log: (l) => lines.push(l) });
    j.writer.close();
    expect(j.records.map((r) => r.kind)).toEqual([1]);
    expect(j.repairedBytes).toBe(FRAME_HEADER + 3);
    expect(lines[0]).toMatch(/torn tail repaired: cut 12 byte\(s\) at offset 20 \(1 good record\(s\) kept\)/);
  });

  it('refuses a file that is not a journal, at offset 0', () => {
    const path = fresh();
    writeFileSync(path, 'hello world, not a journal');
    expect(() => openJournal(path, { fsync: FsyncPolicy.OS })).toThrow(/bad magic\) at byte offset 0/);
  });

  it('syncs per record (always), within the group window (group), or never (os)', async () => {
    const counts: Record<string, number> = {};
    for (const fsync of [FsyncPolicy.ALWAYS, FsyncPolicy.GROUP, FsyncPolicy.OS]) {
      const { writer } = openJournal(fresh(), { fsync, groupMs: 20 });
      const s0 = writer.stats.syncs;
      for (let i = 0; i < 10; i++) writer.append(1, Buffer.from([i]));
      if (fsync === FsyncPolicy.GROUP) {
        await waitFor(() => writer.stats.syncs > s0, 'the group fdatasync', 2_000);
      }
      counts[fsync] = writer.stats.syncs - s0;
      writer.close();
    }
    expect(counts.always).toBe(10);
    expect(counts.group).toBeGreaterThanOrEqual(1);
    expect(counts.group).toBeLessThan(10);
    expect(counts.os).toBe(0);
  });
});
