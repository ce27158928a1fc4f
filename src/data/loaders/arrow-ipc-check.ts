// Bounds checks on an Arrow IPC file's metadata before apache-arrow decodes it. apache-arrow trusts the
// flatbuffer vector lengths it reads (fields, children, record-batch nodes and buffers) and loops over them;
// a damaged length of two billion makes that loop run for minutes or fill the heap, a hang no timeout on
// the same thread can stop (the loader fuzz found both). A vector of n elements of s bytes must fit in its
// message, so n * s <= message bytes is checked for every vector apache-arrow iterates, without iterating.
// Also a bounded LZ4 frame decoder: lz4js allocates whatever size a frame header claims.
// Units: bytes.

import { createRequire } from 'node:module';
import type { ByteBuffer } from 'flatbuffers';
import { Bot4Error, ErrorCode } from '../../core/errors.ts';

const require = createRequire(import.meta.url);
// flatbuffers is apache-arrow's dependency (its generated classes read with it): resolved from there.
const fromArrow = createRequire(require.resolve('apache-arrow'));
type FbModule = typeof import('flatbuffers');
type FooterCls = typeof import('apache-arrow/fb/footer').Footer;
type MessageCls = typeof import('apache-arrow/fb/message').Message;
type Field = import('apache-arrow/fb/field').Field;
type RecordBatchFb = import('apache-arrow/fb/record-batch').RecordBatch;
type DictionaryBatchFb = import('apache-arrow/fb/dictionary-batch').DictionaryBatch;
let fb:
  | {
      fb: FbModule;
      Footer: FooterCls;
      Message: MessageCls;
      rb: () => RecordBatchFb;
      db: () => DictionaryBatchFb;
    }
  | undefined;

function mods(): NonNullable<typeof fb> {
  if (fb !== undefined) return fb;
  const RB = fromArrow('apache-arrow/fb/record-batch') as typeof import('apache-arrow/fb/record-batch');
  const DB = fromArrow(
    'apache-arrow/fb/dictionary-batch',
  ) as typeof import('apache-arrow/fb/dictionary-batch');
  fb = {
    fb: fromArrow('flatbuffers') as FbModule,
    Footer: (fromArrow('apache-arrow/fb/footer') as typeof import('apache-arrow/fb/footer')).Footer,
    Message: (fromArrow('apache-arrow/fb/message') as typeof import('apache-arrow/fb/message')).Message,
    rb: () => new RB.RecordBatch(),
    db: () => new DB.DictionaryBatch(),
  };
  return fb;
}

const MAGIC = 'ARROW1';
const BLOCK = 24;
const FIELD_NODE = 16;
const BUFFER = 16;
const OFFSET = 4;
/** MessageHeader union tags (Schema.fbs). */
const HEADER_DICTIONARY_BATCH = 2;
const HEADER_RECORD_BATCH = 3;

/**
 * Throws a DATA_MALFORMED Bot4Error naming the file and the first length that cannot be right; returns when
 * every vector apache-arrow will loop over fits in its bytes. Only the file format (feather v2) is accepted.
 */
export function checkArrowIpcFile(buf: Uint8Array, file: string): void {
  const bad = (what: string): never => {
    throw new Bot4Error(ErrorCode.DATA_MALFORMED, `${file}: damaged Arrow IPC file: ${what}`, { file });
  };
  const n = buf.length;
  const text = (at: number) => Buffer.from(buf.buffer, buf.byteOffset + at, 6).toString('latin1');
  if (n < 6 + 8 + 4 + 6 || text(0) !== MAGIC || text(n - 6) !== MAGIC) {
    bad(`${n} bytes without the ARROW1 magic at both ends (truncated?)`);
  }
  const view = new DataView(buf.buffer, buf.byteOffset, n);
  const footerLen = view.getInt32(n - 10, true);
  const footerAt = n - 10 - footerLen;
  if (footerLen <= 0 || footerAt < 8) bad(`footer length ${footerLen} does not fit in ${n} bytes`);
  const m = mods();
  const fits = (count: number, size: number, room: number, what: string): void => {
    if (!(count >= 0) || count * size > room) bad(`${what}: ${count} entries cannot fit in ${room} bytes`);
  };
  const footer = m.Footer.getRootAsFooter(bb(m.fb, buf.subarray(footerAt, footerAt + footerLen)));
  fits(footer.recordBatchesLength(), BLOCK, footerLen, 'footer record batches');
  fits(footer.dictionariesLength(), BLOCK, footerLen, 'footer dictionaries');
  fits(footer.customMetadataLength(), OFFSET, footerLen, 'footer metadata');
  const schema = footer.schema();
  if (schema === null) bad('footer without a schema');
  fits(schema!.fieldsLength(), OFFSET, footerLen, 'schema fields');
  fits(schema!.customMetadataLength(), OFFSET, footerLen, 'schema metadata');
  // Fields nest (lists, structs); damaged offsets can make a cycle or a fan-out, so the walk is bounded by
  // how many field tables the footer can hold.
  let budget = Math.floor(footerLen / OFFSET);
  const walk = (f: Field | null, depth: number): void => {
    if (f === null) return;
    if (--budget < 0 || depth > 64) bad('schema fields nest deeper than the footer can hold');
    fits(f.childrenLength(), OFFSET, footerLen, `field ${JSON.stringify(f.name())} children`);
    fits(f.customMetadataLength(), OFFSET, footerLen, 'field metadata');
    for (let i = 0; i < f.childrenLength(); i++) walk(f.children(i), depth + 1);
  };
  for (let i = 0; i < schema!.fieldsLength(); i++) walk(schema!.fields(i), 0);

  // Each block must hold the message kind the footer files it under: apache-arrow's batch iterator re-reads
  // a block whose message is of another kind forever (the fuzz's hang).
  const blocks: { at: number; meta: number; body: number; kind: number }[] = [];
  for (let i = 0; i < footer.recordBatchesLength(); i++) {
    blocks.push(block(footer.recordBatches(i), HEADER_RECORD_BATCH));
  }
  for (let i = 0; i < footer.dictionariesLength(); i++) {
    blocks.push(block(footer.dictionaries(i), HEADER_DICTIONARY_BATCH));
  }
  function block(
    b: { offset(): bigint; metaDataLength(): number; bodyLength(): bigint } | null,
    kind: number,
  ) {
    if (b === null) return bad('footer block missing');
    const at = Number(b.offset());
    const meta = b.metaDataLength();
    const body = Number(b.bodyLength());
    if (!(at >= 8 && meta > 0 && body >= 0 && at + meta + body <= footerAt)) {
      bad(`block at ${at} (metadata ${meta}, body ${body} bytes) lies outside the ${footerAt} data bytes`);
    }
    return { at, meta, body, kind };
  }
  for (const { at, meta, kind } of blocks) {
    // Message: [0xFFFFFFFF continuation] int32 length, then the flatbuffer (pre-0.15 files lack the marker).
    let p = at;
    if (view.getUint32(p, true) === 0xffffffff) p += 4;
    const len = view.getInt32(p, true);
    p += 4;
    if (len <= 0 || p + len > at + meta) bad(`message at ${at}: length ${len} exceeds its block of ${meta}`);
    const msg = m.Message.getRootAsMessage(bb(m.fb, buf.subarray(p, p + len)));
    fits(msg.customMetadataLength(), OFFSET, len, `message at ${at} metadata`);
    const type = msg.headerType();
    if (type !== kind) bad(`message at ${at} is of kind ${type}, its footer block says ${kind}`);
    const rb =
      type === HEADER_RECORD_BATCH
        ? (msg.header(m.rb()) as RecordBatchFb | null)
        : ((msg.header(m.db()) as DictionaryBatchFb | null)?.data(m.rb()) ?? null);
    if (rb === null) bad(`message at ${at} has no record batch`);
    fits(rb!.nodesLength(), FIELD_NODE, len, `record batch at ${at} field nodes`);
    fits(rb!.buffersLength(), BUFFER, len, `record batch at ${at} buffers`);
    fits(rb!.variadicBufferCountsLength(), 8, len, `record batch at ${at} variadic counts`);
  }
}

function bb(fbm: FbModule, bytes: Uint8Array): ByteBuffer {
  // A copy: flatbuffers reads from offset 0 of its array.
  return new fbm.ByteBuffer(Uint8Array.from(bytes));
}

/**
 * LZ4 frame decode into at most 255 bytes per input byte (LZ4 cannot expand more: a run grows by 255 per
 * length byte) and at most `max`: lz4js would allocate whatever size a damaged frame header claims, and fall
 * back to filling a plain array of that size, which is the loader fuzz's out-of-memory.
 */
export function lz4DecodeBounded(frame: Uint8Array, max = 1 << 30): Uint8Array {
  // @types/lz4js says decompressBound returns void; it returns the bound in bytes.
  const lz4 = require('lz4js') as Omit<typeof import('lz4js'), 'decompressBound'> & {
    decompressBound(src: Uint8Array): number;
  };
  checkLz4Blocks(frame);
  const cap = Math.min(max, lz4.decompressBound(frame), frame.length * 255 + 64);
  if (!(cap >= 0)) throw new Error(`LZ4 frame of ${frame.length} bytes has no readable size`);
  const out = new Uint8Array(cap);
  const size = lz4.decompressFrame(frame, out);
  if (!(size >= 0 && size <= cap)) {
    throw new Error(`LZ4 frame of ${frame.length} bytes decodes to more than ${cap} bytes`);
  }
  return out.subarray(0, size);
}

/**
 * Every block of an LZ4 frame lies inside the frame: lz4js decodes a block to its declared end, so a damaged
 * block size of two billion runs its loop past the input for billions of steps (the fuzz's other hang).
 */
function checkLz4Blocks(f: Uint8Array): void {
  const n = f.length;
  const u32 = (i: number) => (f[i]! | (f[i + 1]! << 8) | (f[i + 2]! << 16) | (f[i + 3]! << 24)) >>> 0;
  if (n < 7 || u32(0) !== 0x184d2204) throw new Error(`LZ4 frame of ${n} bytes without the frame magic`);
  const flags = f[4]!;
  const blockSum = (flags & 0x10) !== 0;
  // magic, FLG, BD, optional 8-byte content size, header checksum
  let i = 4 + 2 + ((flags & 0x08) !== 0 ? 8 : 0) + 1;
  for (;;) {
    if (i + 4 > n) throw new Error(`LZ4 frame of ${n} bytes ends inside a block header at ${i}`);
    const size = u32(i) & 0x7fffffff;
    i += 4;
    if (size === 0) return;
    i += size + (blockSum ? 4 : 0);
    if (i > n) throw new Error(`LZ4 block of ${size} bytes runs past the frame's ${n} bytes`);
  }
}
