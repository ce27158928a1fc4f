// The optimiser's search space: one discrete, ordered list of values per swept parameter, from the strategy's
// schema (paramRange) narrowed or replaced by `--param name=lo..hi:step`, `name=a,b,c` or `name=value` (fixed).
// A point is a vector of indices into those lists, so grid, random and TPE all work on the same integers.

import { Bot4Error, ErrorCode } from '../../core/errors.ts';
import {
  type ParamPrimitive,
  type ParamSchema,
  type ParamSpec,
  paramRange,
  parseParamValue,
  resolveParams,
} from '../../strategy/params.ts';

export interface Dimension {
  readonly name: string;
  readonly values: readonly ParamPrimitive[];
  /** Numbers in increasing order (TPE smooths across neighbours); false for bools and enums (categories). */
  readonly ordered: boolean;
}

export interface ParamSpace {
  readonly dims: readonly Dimension[];
  /** Parameters every trial gets as they are (given once with `name=value`, or defaults). */
  readonly fixed: Readonly<Record<string, ParamPrimitive>>;
  /** Constraints between parameters (`--where 'fast < slow'`); a point breaking one is skipped. */
  readonly where: readonly Constraint[];
}

export interface Constraint {
  readonly text: string;
  readonly left: string | number;
  readonly op: '<' | '<=' | '>' | '>=' | '==' | '!=';
  readonly right: string | number;
}

/** More points than this in a grid is a mistake worth stopping (a step of 1 over a wide range). */
export const MAX_GRID = 10_000_000;

const RANGE_RE = /^\s*([+-]?[\d.eE+-]+?)\s*\.\.\s*([+-]?[\d.eE+-]+?)\s*(?::\s*([\d.eE+-]+)\s*)?$/;

/** An INVALID_ARGUMENT error: the optimiser's input checks all fail through it. */
export function bad(message: string, details: Record<string, unknown> = {}): never {
  throw new Bot4Error(ErrorCode.INVALID_ARGUMENT, message, details);
}

/** `lo..hi:step` over a numeric parameter, checked against its schema range. */
function numericRange(spec: ParamSpec, name: string, text: string, ctx: string): number[] {
  const m = RANGE_RE.exec(text);
  if (m === null || (spec.type !== 'int' && spec.type !== 'float')) return [];
  const lo = parseParamValue(spec, name, m[1]!, ctx) as number;
  const hi = parseParamValue(spec, name, m[2]!, ctx) as number;
  const stepText =
    m[3] ?? (spec.step === undefined ? (spec.type === 'int' ? '1' : undefined) : String(spec.step));
  if (stepText === undefined) {
    bad(`--param ${name}=${text}: a float range needs a step, e.g. ${name}=${m[1]}..${m[2]}:0.1`, { name });
  }
  const step = Number(stepText);
  if (!(step > 0) || (spec.type === 'int' && !Number.isInteger(step))) {
    bad(
      `--param ${name}=${text}: the step must be a positive ${spec.type === 'int' ? 'integer' : 'number'}`,
      {
        name,
      },
    );
  }
  if (hi < lo) bad(`--param ${name}=${text}: the range is empty (${hi} < ${lo}); write low..high`, { name });
  const n = Math.floor((hi - lo) / step + 1e-9);
  if (n + 1 > MAX_GRID) bad(`--param ${name}=${text} has ${n + 1} values; use a larger step`, { name });
  const out: number[] = [];
  for (let i = 0; i <= n; i++) {
    const v = spec.type === 'int' ? lo + i * step : Number.parseFloat((lo + i * step).toPrecision(12));
    out.push(v);
  }
  return out;
}

/**
 * Builds the space. `overrides` are the `--param` arguments: `name=lo..hi:step`, `name=a,b,c` (a list) or
 * `name=value` (fixed). Without any, every int, bool and enum parameter is swept over its schema range; with
 * some, only those given as a range or list are (the rest keep their defaults), which is what users mean.
 */
export function buildSpace(
  schema: ParamSchema,
  overrides: readonly string[],
  where: readonly string[] = [],
  context = 'strategy',
): ParamSpace {
  resolveParams(schema, {}, context);
  const given = new Map<string, string>();
  for (const arg of overrides) {
    const eq = arg.indexOf('=');
    if (eq <= 0) bad(`--param '${arg}' must be name=lo..hi:step, name=a,b,c or name=value`, { arg });
    const name = arg.slice(0, eq).trim();
    if (!Object.hasOwn(schema, name)) {
      bad(
        `--param ${name}: ${context} has no parameter '${name}' (it has: ${Object.keys(schema).join(', ')})`,
        {
          name,
        },
      );
    }
    if (given.has(name)) bad(`--param ${name} is given twice`, { name });
    given.set(name, arg.slice(eq + 1));
  }
  const dims: Dimension[] = [];
  const fixed: Record<string, ParamPrimitive> = {};
  const sweepDefaults = given.size === 0;
  for (const [name, spec] of Object.entries(schema)) {
    const text = given.get(name);
    let values: ParamPrimitive[];
    if (text === undefined) {
      values = sweepDefaults && spec.type !== 'float' ? paramRange(spec) : [spec.default];
    } else if (text.includes('..') && (spec.type === 'int' || spec.type === 'float')) {
      values = numericRange(spec, name, text, context);
      if (values.length === 0) bad(`--param ${name}=${text} is not lo..hi or lo..hi:step`, { name });
    } else if (text.includes(',')) {
      values = text.split(',').map((v) => parseParamValue(spec, name, v, context));
      if (new Set(values).size !== values.length) bad(`--param ${name}=${text} repeats a value`, { name });
      if (spec.type === 'int' || spec.type === 'float') (values as number[]).sort((a, b) => a - b);
    } else {
      values = [parseParamValue(spec, name, text, context)];
    }
    if (values.length === 1) fixed[name] = values[0]!;
    else dims.push({ name, values, ordered: spec.type === 'int' || spec.type === 'float' });
  }
  const space: ParamSpace = { dims, fixed, where: where.flatMap((w) => parseWhere(w, schema)) };
  if (gridSize(space) > MAX_GRID) {
    bad(
      `the parameter space has ${gridSize(space).toExponential(2)} points; narrow it with --param name=lo..hi:step`,
    );
  }
  return space;
}

const WHERE_RE =
  /^\s*([A-Za-z_][\w]*|[+-]?\d+(?:\.\d+)?)\s*(<=|>=|==|!=|<|>)\s*([A-Za-z_][\w]*|[+-]?\d+(?:\.\d+)?)\s*$/;

/** `fast < slow`, several joined by `,` or `&&`: comparisons of parameters and numbers. */
export function parseWhere(text: string, schema: ParamSchema): Constraint[] {
  return text.split(/,|&&/).map((part) => {
    const m = WHERE_RE.exec(part);
    if (m === null) {
      bad(`--where '${part.trim()}' is not a comparison like 'fast < slow' (operators < <= > >= == !=)`, {
        where: text,
      });
    }
    const side = (s: string): string | number => {
      if (/^[+-]?\d/.test(s)) return Number(s);
      if (!Object.hasOwn(schema, s))
        bad(`--where '${part.trim()}': unknown parameter '${s}'`, { where: text });
      return s;
    };
    return {
      text: part.trim(),
      left: side(m[1]!),
      op: m[2] as Constraint['op'],
      right: side(m[3]!),
    };
  });
}

export function gridSize(space: ParamSpace): number {
  let n = 1;
  for (const d of space.dims) n *= d.values.length;
  return n;
}

/** The parameter values of a point (indices per dimension), fixed ones included. */
export function pointParams(space: ParamSpace, point: ArrayLike<number>): Record<string, ParamPrimitive> {
  const out: Record<string, ParamPrimitive> = { ...space.fixed };
  for (let i = 0; i < space.dims.length; i++) {
    const d = space.dims[i]!;
    out[d.name] = d.values[point[i]!]!;
  }
  return out;
}

/** The first constraint a parameter set breaks, or null. */
export function brokenConstraint(
  space: ParamSpace,
  params: Readonly<Record<string, ParamPrimitive>>,
): Constraint | null {
  for (const c of space.where) {
    const l = typeof c.left === 'number' ? c.left : params[c.left];
    const r = typeof c.right === 'number' ? c.right : params[c.right];
    if (l === undefined || r === undefined) continue;
    const ok =
      c.op === '<'
        ? l < r
        : c.op === '<='
          ? l <= r
          : c.op === '>'
            ? l > r
            : c.op === '>='
              ? l >= r
              : c.op === '=='
                ? l === r
                : l !== r;
    if (!ok) return c;
  }
  return null;
}

/** A stable key for a point's parameters (resume matches finished trials by it). */
export function paramsKey(params: Readonly<Record<string, ParamPrimitive>>): string {
  return JSON.stringify(
    Object.keys(params)
      .sort()
      .map((k) => [k, params[k]]),
  );
}
