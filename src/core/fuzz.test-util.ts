// Fuzzing support for the `*.fuzz.test.ts` files: the run budget, mutations of real inputs, and the crash
// verdict. A fuzz target is a parser of outside input; it may reject an input only with its typed error
// (Bot4Error) or its documented reject value. Anything else thrown is a crash, and so is a hang (each test's
// timeout) or, for servers, a 5xx or a dropped connection.
//
// Budget: FUZZ_RUNS (inputs per target) when set, for long runs (`npm run fuzz` sets 20000, random seed); else a
// small fixed number with a fixed seed so the fuzz set stays well under a minute in CI. FUZZ_SEED replays a run.

import fc from 'fast-check';
import { isBot4Error } from './errors.ts';

/** Inputs per fuzz target: FUZZ_RUNS, or `ci` (the small fixed budget). */
export function fuzzRuns(ci: number): number {
  const v = process.env.FUZZ_RUNS;
  if (v === undefined || v === '') return ci;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new Error(`FUZZ_RUNS '${v}' must be a positive integer`);
  return n;
}

/**
 * fast-check parameters for one target: the budget, and the seed: FUZZ_SEED when set; else fixed for the CI
 * budget (the same inputs every run, so CI does not turn red on a newly drawn input) and random for FUZZ_RUNS.
 */
export function fuzzParams(ci: number): fc.Parameters<unknown> {
  const seed = process.env.FUZZ_SEED;
  const runs = process.env.FUZZ_RUNS;
  const fixed =
    seed !== undefined && seed !== '' ? Number(seed) : runs === undefined || runs === '' ? 42 : undefined;
  return { numRuns: fuzzRuns(ci), ...(fixed === undefined ? {} : { seed: fixed }), endOnFailure: true };
}

/** Numbers that break naive parsers: overflow, precision, signs, exponents, non-numbers. */
export const NUMERIC_EXTREMES = [
  '0',
  '-0',
  '-1',
  '1e308',
  '1e309',
  '-1e309',
  '5e-324',
  '9007199254740993',
  '99999999999999999999999999999',
  '0.000000000000000000000001',
  'NaN',
  'Infinity',
  '-Infinity',
  '1e',
  '.',
  '-',
  '0x10',
  '1_000',
  '',
  'null',
  '"1"',
  '[]',
  '{}',
] as const;

/** One edit of a byte string. Positions are fractions of the length so they fit any input. */
type Mutation =
  | { op: 'flip'; at: number; bit: number }
  | { op: 'set'; at: number; byte: number }
  | { op: 'truncate'; at: number }
  | { op: 'delete'; at: number; len: number }
  | { op: 'duplicate'; at: number; len: number }
  | { op: 'splice'; at: number; other: number; from: number; len: number }
  | { op: 'number'; which: number; extreme: number };

const pos = fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true });
const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: fc.constant('flip' as const), at: pos, bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ op: fc.constant('set' as const), at: pos, byte: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ op: fc.constant('truncate' as const), at: pos }),
  fc.record({ op: fc.constant('delete' as const), at: pos, len: fc.integer({ min: 1, max: 64 }) }),
  fc.record({ op: fc.constant('duplicate' as const), at: pos, len: fc.integer({ min: 1, max: 256 }) }),
  fc.record({
    op: fc.constant('splice' as const),
    at: pos,
    other: fc.nat(),
    from: pos,
    len: fc.integer({ min: 1, max: 512 }),
  }),
  {
    // Weighted up: a numeric edit mostly keeps the text well-formed, so it reaches past the syntax checks.
    weight: 4,
    arbitrary: fc.record({
      op: fc.constant('number' as const),
      which: fc.nat(),
      extreme: fc.integer({ min: 0, max: NUMERIC_EXTREMES.length - 1 }),
    }),
  },
);

const NUMBER_RE = /-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?/g;

function applyMutation(b: Buffer, m: Mutation, seeds: readonly Buffer[]): Buffer {
  const n = b.length;
  const at = 'at' in m ? Math.floor(m.at * (n + 1)) : 0;
  switch (m.op) {
    case 'flip': {
      if (n === 0) return b;
      const c = Buffer.from(b);
      const i = Math.min(at, n - 1);
      c[i] = c[i]! ^ (1 << m.bit);
      return c;
    }
    case 'set': {
      if (n === 0) return Buffer.from([m.byte]);
      const c = Buffer.from(b);
      c[Math.min(at, n - 1)] = m.byte;
      return c;
    }
    case 'truncate':
      return b.subarray(0, at);
    case 'delete':
      return Buffer.concat([b.subarray(0, at), b.subarray(at + m.len)]);
    case 'duplicate':
      return Buffer.concat([b.subarray(0, at + m.len), b.subarray(at)]);
    case 'splice': {
      const o = seeds[m.other % seeds.length]!;
      const from = Math.floor(m.from * o.length);
      return Buffer.concat([b.subarray(0, at), o.subarray(from, from + m.len), b.subarray(at)]);
    }
    case 'number': {
      // Replace the which-th number of the text with an extreme (the text read as latin1 keeps every byte).
      const s = b.toString('latin1');
      const hits = [...s.matchAll(NUMBER_RE)];
      if (hits.length === 0) return b;
      const h = hits[m.which % hits.length]!;
      const t = s.slice(0, h.index) + NUMERIC_EXTREMES[m.extreme]! + s.slice(h.index + h[0].length);
      return Buffer.from(t, 'latin1');
    }
  }
}

/** Real inputs mutated by 1 to 4 edits (byte flips, truncation, deletion, duplication, splices, numbers). */
export function mutatedBytes(seeds: readonly Buffer[]): fc.Arbitrary<Buffer> {
  if (seeds.length === 0) throw new Error('mutatedBytes needs at least one seed input');
  return fc
    .tuple(fc.nat({ max: seeds.length - 1 }), fc.array(mutationArb, { minLength: 1, maxLength: 4 }))
    .map(([i, ms]) => ms.reduce((b, m) => applyMutation(b, m, seeds), seeds[i]!));
}

/** mutatedBytes over text seeds, as UTF-8 text (invalid sequences become U+FFFD, as a decoder would). */
export function mutatedText(seeds: readonly string[]): fc.Arbitrary<string> {
  return mutatedBytes(seeds.map((s) => Buffer.from(s, 'utf8'))).map((b) => b.toString('utf8'));
}

/** Tally of one target's inputs, printed by report() so the run says what was tried. */
export class FuzzTally {
  inputs = 0;
  rejected = 0;
  readonly crashes: string[] = [];
  readonly target: string;
  constructor(target: string) {
    this.target = target;
  }

  /** Runs `fn` on one input: a Bot4Error is a reject; anything else thrown is recorded as a crash. */
  check(fn: () => void, input: () => string): void {
    this.inputs++;
    try {
      fn();
    } catch (e) {
      if (isBot4Error(e)) this.rejected++;
      else this.crash(e, input());
    }
  }

  async checkAsync(fn: () => Promise<void>, input: () => string): Promise<void> {
    this.inputs++;
    try {
      await fn();
    } catch (e) {
      if (isBot4Error(e)) this.rejected++;
      else this.crash(e, input());
    }
  }

  crash(e: unknown, input: string): void {
    const what = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    this.crashes.push(`${what}\n  input: ${JSON.stringify(input.slice(0, 300))}`);
  }

  report(): string {
    const line = `fuzz ${this.target}: ${this.inputs} inputs, ${this.rejected} rejected with a typed error, ${this.crashes.length} crashes`;
    process.stderr.write(`${line}\n`);
    return line;
  }
}
