import { describe, expect, it } from 'vitest';
import { decode, encode } from './codec.ts';
import { trialId } from './job.ts';

describe('cluster message codec', () => {
  it('keeps Infinity, -Infinity and NaN where JSON would write null', () => {
    const msg = {
      input: {
        params: { fast: 5, name: 'Infinity' },
        from: Number.NEGATIVE_INFINITY,
        to: Number.POSITIVE_INFINITY,
      },
      stats: {
        profitFactor: Number.POSITIVE_INFINITY,
        sharpe: Number.NaN,
        trades: [1, Number.NEGATIVE_INFINITY],
      },
      none: null,
    };
    const back = decode<typeof msg>(encode(msg));
    expect(back).toEqual(msg);
    expect(back.input.from).toBe(Number.NEGATIVE_INFINITY);
    expect(Number.isNaN(back.stats.sharpe)).toBe(true);
    expect(back.input.params.name).toBe('Infinity');
    expect(JSON.parse(JSON.stringify(msg)).input.from).toBeNull();
  });

  it('gives an infinite window and a finite one different trial ids', () => {
    const params = { fast: 5, slow: 20 };
    const a = trialId({ params, from: Number.NEGATIVE_INFINITY, to: Number.POSITIVE_INFINITY, curve: false });
    const b = trialId({ params, from: 0, to: 1, curve: false });
    expect(a).not.toBe(b);
    expect(trialId({ params, from: 0, to: 1, curve: false })).toBe(b);
  });
});
