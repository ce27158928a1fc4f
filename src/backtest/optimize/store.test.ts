import { appendFileSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type TrialRecord, TrialStore } from './store.ts';

function rec(key: string): TrialRecord {
  return {
    key,
    fold: 0,
    phase: 'is',
    params: { fast: 1 },
    score: 1,
    stats: null,
    skipped: null,
    error: null,
    events: 10,
    wallMs: 1,
    fingerprint: 'f',
    curve: null,
  };
}

describe('TrialStore', () => {
  it('survives a torn last line: that trial is forgotten, the next ones are kept', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bot4-store-'));
    const a = new TrialStore(dir, { s: 1 });
    a.append([rec('is:0:a'), rec('is:0:b')]);
    a.close();
    appendFileSync(join(dir, 'trials.jsonl'), '{"type":"trial","key":"is:0:c","fo');
    const b = new TrialStore(dir, { s: 1 });
    expect(b.resumed).toBe(2);
    expect(b.get('is:0:c')).toBeUndefined();
    b.append([rec('is:0:d')]);
    b.close();
    const c = new TrialStore(dir, { s: 1 }, { resume: true });
    expect(c.resumed).toBe(3);
    expect(c.get('is:0:d')?.fingerprint).toBe('f');
    c.close();
    expect(readFileSync(join(dir, 'trials.jsonl'), 'utf8').split('\n')[0]).toMatch(/"type":"spec"/);
  });

  it('--resume without an earlier run, and another spec in the same folder, are errors saying what to do', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bot4-store-'));
    expect(() => new TrialStore(dir, { s: 1 }, { resume: true })).toThrow(
      /nothing to resume; run without --resume/,
    );
    new TrialStore(dir, { s: 1 }).close();
    expect(() => new TrialStore(dir, { s: 2 })).toThrow(/use another --out, or --fresh/);
  });
});
