import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { Bot4Error, ErrorCode } from '../core/errors.ts';
import { isGzip, readHeadText, readLineBytes, readLines } from './lines.ts';

const dir = mkdtempSync(join(tmpdir(), 'bot4-lines-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
function file(content: Buffer | string): string {
  const p = join(dir, `f${n++}`);
  writeFileSync(p, content);
  return p;
}

async function collect(path: string, chunkBytes?: number) {
  const lines: [number, string][] = [];
  let chunks = 0;
  let last = { read: 0, total: 0 };
  for await (const c of readLines(path, chunkBytes === undefined ? {} : { chunkBytes })) {
    chunks++;
    for (let i = 0; i < c.count; i++) lines.push([c.firstLine + i, c.lines[i]!]);
    last = { read: c.bytesRead, total: c.bytesTotal };
  }
  return { lines, chunks, last };
}

describe('readLines', () => {
  it('plain text: line numbers from 1, CRLF stripped, blank lines kept, last line without newline', async () => {
    const { lines, last } = await collect(file('a\r\nb\n\nc'));
    expect(lines).toEqual([
      [1, 'a'],
      [2, 'b'],
      [3, ''],
      [4, 'c'],
    ]);
    expect(last).toEqual({ read: 7, total: 7 });
  });

  it('gzip is detected by magic bytes whatever the name; concatenated members are read through', async () => {
    const gz = Buffer.concat([gzipSync('x1\nx2\n'), gzipSync('x3\n')]);
    const p = file(gz);
    expect(isGzip(gz)).toBe(true);
    const { lines, last } = await collect(p);
    expect(lines.map((l) => l[1])).toEqual(['x1', 'x2', 'x3']);
    // Progress counts compressed bytes read from disk against the file size.
    expect(last).toEqual({ read: gz.length, total: gz.length });
    expect(readHeadText(p)).toBe('x1\nx2\nx3\n');
  });

  it('multi-byte UTF-8 split across read chunks decodes intact; chunk objects are reused', async () => {
    const text = 'prix €1\nZürich ✓\n日本\n';
    const p = file(text);
    const seen = new Set<unknown>();
    for await (const c of readLines(p, { chunkBytes: 3 })) seen.add(c);
    expect(seen.size).toBe(1);
    expect((await collect(p, 3)).lines.map((l) => l[1])).toEqual(['prix €1', 'Zürich ✓', '日本']);
  });

  it('property: any text splits into the same lines as String.split, for any chunk size', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.string({ maxLength: 12 }), { maxLength: 20 }),
        fc.integer({ min: 1, max: 9 }),
        fc.boolean(),
        async (parts, chunk, gz) => {
          const text = parts.join('\n').replace(/\r/g, '');
          const p = file(gz ? gzipSync(text) : text);
          const want =
            text === '' ? [] : text.endsWith('\n') ? text.slice(0, -1).split('\n') : text.split('\n');
          expect((await collect(p, chunk)).lines.map((l) => l[1])).toEqual(want);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('property: readLineBytes steps hold whole lines that join back into the file, counted and numbered', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.string({ maxLength: 12 }), { maxLength: 20 }),
        fc.integer({ min: 1, max: 9 }),
        fc.boolean(),
        async (parts, chunk, gz) => {
          const text = parts.join('\n');
          const p = file(gz ? gzipSync(text) : text);
          const bufs: Buffer[] = [];
          let next = 1;
          for await (const step of readLineBytes(p, { chunkBytes: chunk })) {
            const b = Buffer.from(step.buf);
            const nl = b.filter((x) => x === 10).length;
            expect(step.firstLine).toBe(next);
            expect(step.count).toBe(nl + (b[b.length - 1] === 10 ? 0 : 1));
            next += step.count;
            bufs.push(b);
          }
          // Every step but the last ends at a newline; together they are the file.
          for (const b of bufs.slice(0, -1)) expect(b[b.length - 1]).toBe(10);
          expect(Buffer.concat(bufs).toString()).toBe(text);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('a missing file is DATA_MISSING naming it; a corrupt gzip is DATA_MALFORMED near a line', async () => {
    const missing = join(dir, 'nope.gz');
    const e = await collect(missing).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(Bot4Error);
    expect((e as Bot4Error).code).toBe(ErrorCode.DATA_MISSING);
    expect((e as Bot4Error).message).toBe(`data file ${missing} does not exist`);
    const bad = gzipSync('line\n'.repeat(1000));
    bad[40] = bad[40]! ^ 0xff;
    const e2 = await collect(file(bad)).catch((x: unknown) => x);
    expect((e2 as Bot4Error).code).toBe(ErrorCode.DATA_MALFORMED);
    expect((e2 as Bot4Error).message).toMatch(/cannot read .* near line \d+: .*\(gzip stream\)/);
  });
});
