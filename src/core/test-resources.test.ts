import { describe, expect, it } from 'vitest';
import { isCi, MissingTestResource, present, SHARED_DATA } from './test-resources.ts';

const missing = '/nonexistent/bot4/shared/data/file.csv';

describe('test resources', () => {
  it('reads CI the way CI runners set it', () => {
    expect(isCi({ CI: 'true' })).toBe(true);
    expect(isCi({ CI: '1' })).toBe(true);
    expect(isCi({})).toBe(false);
    expect(isCi({ CI: '' })).toBe(false);
    expect(isCi({ CI: 'false' })).toBe(false);
  });

  it('a missing file skips on a developer machine and fails in CI, naming the file', () => {
    expect(present(missing, 'candles', {})).toBe(false);
    expect(() => present(missing, 'candles', { CI: 'true' })).toThrow(MissingTestResource);
    expect(() => present(missing, 'candles', { CI: 'true' })).toThrow(/candles is missing: .*file\.csv/);
  });

  it('a present file is present, in CI or not', () => {
    expect(present(import.meta.filename, 'this test', { CI: 'true' })).toBe(true);
    expect(SHARED_DATA.endsWith('/shared/data/')).toBe(true);
  });
});
