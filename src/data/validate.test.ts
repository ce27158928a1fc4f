import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Bot4Error } from '../core/errors.ts';
import { DeltaFlag, RecordKind } from '../model/market-data.ts';
import type { ValidationReport } from './loader.ts';
import { emptyReport } from './loader.ts';
import { addNote, droppedRows, loadNotes, MAX_EXAMPLES, SequenceRule, Validator } from './validate.ts';

const v = (policies = {}) => new Validator(emptyReport('f.csv'), policies);

describe('Validator', () => {
  it('policies: skip counts and drops, repair keeps where a repair exists, fail throws with file:line', () => {
    const a = v();
    expect(a.problem('crossed_book', 7, 'x')).toBe(false);
    expect(a.report.problems.crossed_book).toBe(1);
    const b = v({ crossed_book: 'repair', malformed_row: 'repair' });
    expect(b.problem('crossed_book', 7, 'x')).toBe(true);
    expect(b.problem('malformed_row', 8, 'y')).toBe(false); // nothing to repair
    const c = v({ duplicate_trade: 'fail' });
    expect(() => c.problem('duplicate_trade', 9, 'trade id 5 again')).toThrow(Bot4Error);
    expect(() => c.problem('duplicate_trade', 9, 'trade id 5 again')).toThrow(
      'f.csv:9: duplicate_trade: trade id 5 again',
    );
  });

  it('counts dropped rows apart from repaired ones, and loadNotes words both with the first file:line', () => {
    const a = new Validator(emptyReport('f.csv'), { out_of_order: 'repair' });
    a.report.rows = 40;
    a.problem('out_of_order', 3, 'late row');
    a.problem('out_of_order', 5, 'repeated bar time', false); // dropped whatever the policy
    a.problem('crossed_book', 9, 'bid 5 >= ask 4');
    addNote(a.report, 'interval from the file name');
    expect(a.report.dropped).toEqual({ out_of_order: 1, crossed_book: 1 });
    expect(droppedRows(a.report)).toBe(2);
    expect(loadNotes(a.report)).toEqual([
      'f.csv: 2 of 40 rows out_of_order (1 skipped, 1 repaired); first at line 3: late row',
      'f.csv: 1 of 40 rows crossed_book (skipped); first at line 9: bid 5 >= ask 4',
      'f.csv: interval from the file name',
    ]);
  });

  it('strict: a row that would be dropped throws naming file:line; a repaired row passes', () => {
    const s = new Validator(emptyReport('f.csv'), { crossed_book: 'repair' }, true);
    expect(s.problem('crossed_book', 4, 'locked')).toBe(true);
    expect(() => s.problem('malformed_row', 6, 'two fields')).toThrow(
      'f.csv:6: malformed_row: two fields (--strict: no row may be skipped)',
    );
    expect(s.report.problems).toMatchObject({ crossed_book: 1, malformed_row: 0 });
  });

  it('keeps the first examples only, with their lines', () => {
    const a = v();
    for (let i = 1; i <= 9; i++) a.malformed(i, `bad ${i}`);
    expect(a.report.problems.malformed_row).toBe(9);
    expect(a.report.examples.malformed_row).toEqual(
      [1, 2, 3, 4, 5].map((i) => ({ line: i, message: `bad ${i}` })),
    );
    expect(MAX_EXAMPLES).toBe(5);
  });

  it('event time per (instrument, kind): equal is fine, backwards is out_of_order (skip NaN, repair clamps)', () => {
    const a = v();
    expect(a.orderedTs(0, RecordKind.TRADE, 10, 1)).toBe(10);
    expect(a.orderedTs(0, RecordKind.TRADE, 10, 2)).toBe(10);
    expect(a.orderedTs(0, RecordKind.QUOTE, 5, 3)).toBe(5); // another kind
    expect(a.orderedTs(1, RecordKind.TRADE, 5, 4)).toBe(5); // another instrument
    expect(a.orderedTs(0, RecordKind.TRADE, 9, 5)).toBeNaN();
    expect(a.report.examples.out_of_order?.[0]?.line).toBe(5);
    const r = v({ out_of_order: 'repair' });
    r.orderedTs(300, RecordKind.DELTA, 10, 1); // grows its tables
    expect(r.orderedTs(300, RecordKind.DELTA, 9, 2)).toBe(10);
  });

  it('trade ids increase per instrument; repeats are duplicates; id 0 is not checked', () => {
    const a = v();
    expect([
      a.tradeId(0, 5, 1),
      a.tradeId(0, 6, 2),
      a.tradeId(0, 6, 3),
      a.tradeId(0, 4, 4),
      a.tradeId(1, 1, 5),
    ]).toEqual([true, true, false, false, true]);
    expect([a.tradeId(0, 0, 6), a.tradeId(0, 0, 7)]).toEqual([true, true]);
    expect(a.report.problems.duplicate_trade).toBe(2);
  });

  it('quotes: crossed and locked tops are problems; an empty side is not; negatives are non_positive', () => {
    const a = v();
    expect(a.quote(100, 1, 101, 1, 1)).toBe(true);
    expect(a.quote(101, 1, 101, 1, 2)).toBe(false);
    expect(a.quote(102, 1, 101, 1, 3)).toBe(false);
    expect(a.quote(0, 0, 101, 1, 4)).toBe(true);
    expect(a.quote(-1, 1, 101, 1, 5)).toBe(false);
    expect(a.report.examples.crossed_book?.map((e) => e.message)).toEqual([
      'locked quote: bid 101 >= ask 101 (ticks)',
      'crossed quote: bid 102 >= ask 101 (ticks)',
    ]);
    expect(a.report.problems.non_positive).toBe(1);
  });

  it('Binance depth rules: spot U == prev u + 1, futures pu == prev u, snapshot straddle, stale diffs', () => {
    const s = v();
    expect(s.depth(0, SequenceRule.SPOT, 1, 5, Number.NaN, 1)).toBe(1); // first diff: nothing to continue
    expect(s.depth(0, SequenceRule.SPOT, 6, 9, Number.NaN, 2)).toBe(1);
    expect(s.depth(0, SequenceRule.SPOT, 11, 12, Number.NaN, 3)).toBe(DeltaFlag.GAP);
    expect(s.report.examples.sequence_gap?.[0]?.message).toBe(
      'depth update U=11 u=12 does not continue the chain: expected U == 10 (previous u + 1)',
    );
    s.snapshot(0, 20);
    expect(s.staleDepth(0, SequenceRule.SPOT, 20)).toBe(true);
    expect(s.staleDepth(0, SequenceRule.SPOT, 21)).toBe(false);
    expect(s.depth(0, SequenceRule.SPOT, 19, 25, Number.NaN, 4)).toBe(1); // straddles 21
    expect(s.staleDepth(0, SequenceRule.SPOT, 10)).toBe(false); // only right after a snapshot
    const f = v({ sequence_gap: 'skip' });
    expect(f.depth(0, SequenceRule.FUTURES, 10, 20, 9, 1)).toBe(1);
    expect(f.depth(0, SequenceRule.FUTURES, 22, 30, 20, 2)).toBe(1);
    expect(f.depth(0, SequenceRule.FUTURES, 35, 40, 33, 3)).toBe(0); // skip: dropped
    expect(f.depth(0, SequenceRule.FUTURES, 41, 50, 40, 4)).toBe(1); // the chain goes on from the dropped one
    f.snapshot(0, 45);
    expect(f.staleDepth(0, SequenceRule.FUTURES, 45)).toBe(false); // futures: u >= L is kept
    expect(f.depth(0, SequenceRule.FUTURES, 46, 48, 44, 5)).toBe(0); // does not straddle 45
  });

  it('a gap on a message without deltas is carried to the next one', () => {
    const a = v();
    a.depth(0, SequenceRule.SPOT, 1, 5, Number.NaN, 1);
    expect(a.depth(0, SequenceRule.SPOT, 8, 9, Number.NaN, 2)).toBe(DeltaFlag.GAP);
    a.deferGap(0);
    expect(a.depth(0, SequenceRule.SPOT, 10, 11, Number.NaN, 3)).toBe(DeltaFlag.GAP);
    expect(a.depth(0, SequenceRule.SPOT, 12, 13, Number.NaN, 4)).toBe(1);
  });

  it('property: an unbroken futures chain never reports a gap; one broken link reports exactly one', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 50 }), { minLength: 2, maxLength: 60 }),
        fc.nat(),
        (steps, at) => {
          const a = v();
          let u = 100;
          const brk = 1 + (at % (steps.length - 1));
          steps.forEach((k, i) => {
            const pu = i === brk ? u + 1 : u;
            a.depth(3, SequenceRule.FUTURES, u + 1, u + k, pu, i + 1);
            u += k;
          });
          expect(a.report.problems.sequence_gap).toBe(1);
          expect(a.report.examples.sequence_gap?.[0]?.line).toBe(brk + 1);
        },
      ),
    );
  });

  it('notes are kept once each', () => {
    const r = emptyReport('x') as ValidationReport;
    addNote(r, 'a');
    addNote(r, 'a');
    addNote(r, 'b');
    expect(r.notes).toEqual(['a', 'b']);
  });
});
