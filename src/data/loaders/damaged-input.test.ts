// The crashes and hangs the loader fuzz found, pinned as fixed inputs: a feather file whose LZ4 block size,
// record-batch message kind or field-node count is damaged is a DATA_MALFORMED error at once (it hung or ran
// out of memory), and Bybit v5 messages whose data is null or whose trade entries are not objects are counted
// as malformed rows (a TypeError escaped).

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isBot4Error } from '../../core/errors.ts';
import { present, SHARED_DATA } from '../../core/test-resources.ts';
import { newInstrumentRegistry } from '../../model/instrument.ts';
import { emptyReport } from '../loader.ts';
import { bybitLoader } from './json-ticks.ts';
import { readFeather } from './ohlcv-feather.ts';

const dir = mkdtempSync(join(tmpdir(), 'bot4-damaged-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const FEATHER = join(SHARED_DATA, 'freqtrade/futures/XRP_USDT_USDT-8h-funding_rate.feather');

function damaged(edit: (b: Buffer) => void): string {
  const b = Buffer.from(readFileSync(FEATHER));
  edit(b);
  const f = join(dir, 'XRP_USDT_USDT-8h-funding_rate.feather');
  writeFileSync(f, b);
  return f;
}

function malformedError(file: string): string {
  try {
    readFeather(file);
  } catch (e) {
    expect(isBot4Error(e)).toBe(true);
    return (e as Error).message;
  }
  throw new Error('the damaged file was read without an error');
}

describe.skipIf(!present(FEATHER, 'a freqtrade feather file'))('damaged feather files', () => {
  it('an LZ4 block size past the frame is refused (lz4js looped over it for billions of steps)', () => {
    const f = damaged((b) => {
      // The first LZ4 frame's first block size (frame magic, FLG, BD, [content size], HC, then the size).
      const at = b.indexOf(Buffer.from([0x04, 0x22, 0x4d, 0x18]));
      const skip = (b[at + 4]! & 0x08) !== 0 ? 8 : 0;
      b.writeUInt32LE(0x3f000000, at + 7 + skip);
    });
    expect(malformedError(f)).toMatch(/LZ4 block of \d+ bytes runs past the frame/);
  });

  it("a record batch block holding another kind of message is refused (apache-arrow's reader spun on it)", () => {
    const f = damaged((b) => {
      // This file's record batch message is at 1448 (its footer's only block): [0xFFFFFFFF, length, ...].
      expect(b.readUInt32LE(1448)).toBe(0xffffffff);
      b.writeInt32LE(4, 1448 + 4);
    });
    expect(malformedError(f)).toMatch(/damaged Arrow IPC file: message at \d+/);
  });

  it('a truncated file is refused before decoding', () => {
    const f = join(dir, 'cut.feather');
    writeFileSync(f, readFileSync(FEATHER).subarray(0, 3000));
    expect(malformedError(f)).toMatch(/without the ARROW1 magic at both ends/);
  });
});

describe('Bybit v5 messages of unexpected shapes', () => {
  it('null data and non-object trades are malformed rows, not a TypeError', async () => {
    const good = {
      topic: 'orderbook.50.BTCUSDT',
      type: 'snapshot',
      ts: 1672304484978,
      data: { s: 'BTCUSDT', b: [['16493.50', '0.006']], a: [['16611.00', '0.029']], u: 18521288 },
      cts: 1672304484976,
    };
    const lines = [
      good,
      { ...good, data: null },
      { topic: 'publicTrade.BTCUSDT', ts: 1672304486000, data: [null, 5] },
      { ...good, data: { ...good.data, b: 5 } },
    ];
    const f = join(dir, 'bybit.json');
    writeFileSync(f, `${lines.map((l) => JSON.stringify(l)).join('\n')}\n`);
    const report = emptyReport(f);
    let rows = 0;
    for await (const b of bybitLoader.load(f, { instruments: newInstrumentRegistry() }, report)) {
      rows += b.length;
    }
    // The good snapshot's two levels and the asks of the message whose bids are not a list.
    expect(rows).toBe(3);
    expect(report.problems.malformed_row).toBe(3);
    // strict: the first bad message is an error naming the line
    await expect(async () => {
      for await (const _ of bybitLoader.load(
        f,
        { instruments: newInstrumentRegistry(), strict: true },
        emptyReport(f),
      )) {
        // drain
      }
    }).rejects.toThrow(/:2\b/);
  });
});
