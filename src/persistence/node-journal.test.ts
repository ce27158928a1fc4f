import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FsyncPolicy, openJournal } from './journal.ts';
import { RecordKind, readNodeJournal } from './node-journal.ts';

function journalOf(records: [number, unknown][]): string {
  const path = join(mkdtempSync(join(tmpdir(), 'bot4-node-journal-')), 'j');
  const { writer } = openJournal(path, { fsync: FsyncPolicy.OS });
  for (const [kind, body] of records) writer.appendJson(kind, body);
  writer.close();
  return path;
}

const submit = (cid: string, qty: number) => [
  RecordKind.COMMAND,
  { op: 'submit', cid, sym: 'BTCUSDT', side: 1, type: 2, qty, px: 100 },
];
const fill = (cid: string, qty: number, tradeId: string) => [
  RecordKind.FILL,
  { cid, sym: 'BTCUSDT', side: 1, qty, px: 100, fee: 0, feeCcy: '', tradeId, ts: 1 },
];

describe('journal state (the fold recovery starts from)', () => {
  it('folds orders, fills once each by trade id, and closes a fully filled order', () => {
    const s = readNodeJournal(
      journalOf([
        [
          RecordKind.SESSION,
          { mode: 'live', instruments: ['BTCUSDT'], balances: [{ currency: 'USDT', amount: '5' }] },
        ],
        [
          RecordKind.SESSION,
          { mode: 'live', instruments: ['BTCUSDT'], balances: [{ currency: 'USDT', amount: '9' }] },
        ],
        submit('a', 10) as [number, unknown],
        [RecordKind.EVENT, { cid: 'a', kind: 'ACCEPTED', venueOrderId: '77', reason: '' }],
        fill('a', 4, 'BTCUSDT:1') as [number, unknown],
        fill('a', 4, 'BTCUSDT:1') as [number, unknown],
        submit('b', 3) as [number, unknown],
        fill('a', 6, 'BTCUSDT:2') as [number, unknown],
      ]),
    );
    expect(s.startBalances).toEqual([{ currency: 'USDT', amount: '5' }]);
    expect(s.fills.map((f) => f.tradeId)).toEqual(['BTCUSDT:1', 'BTCUSDT:2']);
    expect(s.orders.get('a')).toMatchObject({ state: 'FILLED_ALL', filledQty: 10, venueOrderId: '77' });
    expect(s.openOrders().map((o) => o.cid)).toEqual(['b']);
  });

  it('keeps only checkpoints written after the last fill (a crash may come between a fill and its checkpoint)', () => {
    const s = readNodeJournal(
      journalOf([
        submit('a', 10) as [number, unknown],
        fill('a', 4, 'BTCUSDT:1') as [number, unknown],
        [RecordKind.POSITION, { sym: 'BTCUSDT', qty: 4 }],
        [RecordKind.BALANCE, { ccy: 'USDT', total: 600 }],
        fill('a', 6, 'BTCUSDT:2') as [number, unknown],
      ]),
    );
    expect([...s.lastPosition]).toEqual([]);
    expect([...s.lastBalance]).toEqual([]);
    const t = readNodeJournal(
      journalOf([
        submit('a', 10) as [number, unknown],
        fill('a', 4, 'BTCUSDT:1') as [number, unknown],
        [RecordKind.POSITION, { sym: 'BTCUSDT', qty: 4 }],
      ]),
    );
    expect([...t.lastPosition]).toEqual([['BTCUSDT', 4]]);
  });
});
