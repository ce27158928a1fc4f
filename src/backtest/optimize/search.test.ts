import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { choice, int } from '../../strategy/params.ts';
import { GridSearch, makeSearcher, type Observation, pointKey, RandomSearch, TpeSearch } from './search.ts';
import { buildSpace, gridSize, type ParamSpace } from './space.ts';

const SCHEMA = {
  a: int({ default: 1, min: 0, max: 100, description: 'a' }),
  b: int({ default: 1, min: 0, max: 100, description: 'b' }),
  mode: choice(['x', 'y', 'z'], { default: 'x', description: 'mode' }),
};

function space(args: string[]): ParamSpace {
  return buildSpace(SCHEMA, args);
}

/** Runs a searcher for n trials against f (higher is better), rounds of `batch`. */
function drive(kind: 'random' | 'tpe', s: ParamSpace, seed: number, n: number, f: (p: number[]) => number) {
  const searcher = makeSearcher(kind, s, seed);
  const history: Observation[] = [];
  while (history.length < n) {
    const pts = searcher.propose(Math.min(4, n - history.length), history);
    if (pts.length === 0) break;
    for (const p of pts) history.push({ point: p, score: f(p) });
  }
  return history;
}

describe('search', () => {
  it('grid enumerates exactly the space: every point once', () => {
    const s = space(['a=5..50:5', 'b=1,2,3', 'mode=x,z']);
    expect(gridSize(s)).toBe(10 * 3 * 2);
    const g = new GridSearch(s);
    const pts = g.propose(1000);
    expect(pts).toHaveLength(60);
    expect(new Set(pts.map(pointKey)).size).toBe(60);
    expect(g.propose(10)).toEqual([]);
    const a = new Set(pts.map((p) => s.dims[0]!.values[p[0]!]));
    expect([...a]).toEqual([5, 10, 15, 20, 25, 30, 35, 40, 45, 50]);
  });

  it('random and TPE are deterministic per seed, inside the bounds, and never repeat a point', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1_000_000 }), fc.constantFrom('random', 'tpe'), (seed, kind) => {
        const s = space(['a=0..30', 'b=10..20:2', 'mode=x,y,z']);
        const f = (p: number[]) => -Math.abs(p[0]! - 7) - Math.abs(p[1]! - 3) + p[2]!;
        const h1 = drive(kind as 'random' | 'tpe', s, seed, 40, f);
        const h2 = drive(kind as 'random' | 'tpe', s, seed, 40, f);
        expect(h1).toEqual(h2);
        expect(new Set(h1.map((h) => pointKey(h.point))).size).toBe(h1.length);
        for (const h of h1)
          h.point.forEach((v, d) => {
            expect(Number.isInteger(v) && v >= 0 && v < s.dims[d]!.values.length).toBe(true);
          });
      }),
      { numRuns: 25 },
    );
  });

  it('stops when the space is exhausted', () => {
    const s = space(['a=1..3', 'b=1..2']);
    expect(new RandomSearch(s, 1).propose(100)).toHaveLength(6);
    expect(drive('tpe', s, 1, 100, () => 0)).toHaveLength(6);
  });

  it('TPE finds better points than random search on a smooth objective (30 fixed seeds, 60 trials each)', () => {
    const s = space(['a=0..100', 'b=0..100', 'mode=x,y,z']);
    // A peak at a=73, b=21 in mode z; smaller peaks elsewhere.
    const f = (p: number[]) =>
      -((p[0]! - 73) ** 2 + (p[1]! - 21) ** 2) / 100 + (p[2] === 2 ? 0.5 : 0) + Math.cos(p[0]! / 7);
    let wins = 0;
    let sumT = 0;
    let sumR = 0;
    for (let seed = 1; seed <= 30; seed++) {
      const bt = Math.max(...drive('tpe', s, seed, 60, f).map((h) => h.score!));
      const br = Math.max(...drive('random', s, seed, 60, f).map((h) => h.score!));
      if (bt > br) wins++;
      sumT += bt;
      sumR += br;
    }
    expect(wins).toBeGreaterThanOrEqual(20);
    expect(sumT / 30).toBeGreaterThan(sumR / 30);
  });

  it('TPE treats failed trials (null score) as the worst', () => {
    const s = buildSpace({ ...SCHEMA, a: int({ default: 1, min: 0, max: 200, description: 'a' }) }, [
      'a=0..200',
      'b=0',
    ]);
    const t = new TpeSearch(s, 3, { startup: 5 });
    const history: Observation[] = [];
    for (let i = 0; i < 20; i++) {
      const [p] = t.propose(1, history);
      history.push({ point: p!, score: p![0]! < 100 ? null : p![0]! });
    }
    const late = history.slice(10).filter((h) => h.score !== null).length;
    expect(late).toBeGreaterThanOrEqual(6);
  });
});

describe('space', () => {
  it('parses ranges, lists and fixed values, sweeping only what was given as a range or list', () => {
    const s = space(['a=5..50:5', 'mode=z']);
    expect(s.dims.map((d) => d.name)).toEqual(['a']);
    expect(s.fixed).toEqual({ b: 1, mode: 'z' });
    const all = space([]);
    expect(all.dims.map((d) => [d.name, d.values.length])).toEqual([
      ['a', 101],
      ['b', 101],
      ['mode', 3],
    ]);
  });

  it('errors name the bad --param or --where', () => {
    expect(() => space(['c=1..2'])).toThrow(/--param c: .*no parameter 'c'/);
    expect(() => space(['a=50..5'])).toThrow(/--param a=50..5: the range is empty/);
    expect(() => space(['a=1..200'])).toThrow(/parameter 'a' is 200, out of range/);
    expect(() => space(['a=1..5:0'])).toThrow(/--param a=1..5:0: the step must be a positive integer/);
    expect(() => space(['a'])).toThrow(/--param 'a' must be name=lo..hi:step/);
    expect(() => buildSpace(SCHEMA, [], ['a <> b'])).toThrow(/--where 'a <> b' is not a comparison/);
    expect(() => buildSpace(SCHEMA, [], ['a < c'])).toThrow(/unknown parameter 'c'/);
  });
});
