// Strategy parameters: a static schema per strategy class (type, default, range, grid step, description) that
// the CLI (`--param key=value`), the optimiser (paramRange) and the constructor (resolveParams) all read.
// Invariants: resolved values are complete (defaults applied), typed and in range. Units are the strategy's own.

import { Bot4Error, ErrorCode } from '../core/errors.ts';

interface Described {
  /** One line for `bot4 strategy describe` and reports. */
  readonly description: string;
}

export interface IntParamSpec extends Described {
  readonly type: 'int';
  readonly default: number;
  readonly min?: number;
  readonly max?: number;
  /** Grid step for the optimiser (default 1). */
  readonly step?: number;
}

export interface FloatParamSpec extends Described {
  readonly type: 'float';
  readonly default: number;
  readonly min?: number;
  readonly max?: number;
  /** Grid step for the optimiser; a float parameter without one is not swept. */
  readonly step?: number;
}

export interface BoolParamSpec extends Described {
  readonly type: 'bool';
  readonly default: boolean;
}

export interface EnumParamSpec<V extends string = string> extends Described {
  readonly type: 'enum';
  readonly values: readonly V[];
  readonly default: V;
}

/** Free text (an instrument symbol): given on the command line, never swept by the optimiser. */
export interface StringParamSpec extends Described {
  readonly type: 'string';
  readonly default: string;
}

export type ParamSpec = IntParamSpec | FloatParamSpec | BoolParamSpec | EnumParamSpec | StringParamSpec;
export type ParamSchema = { readonly [key: string]: ParamSpec };
export type ParamPrimitive = number | boolean | string;

export type ParamValue<S extends ParamSpec> = S extends BoolParamSpec
  ? boolean
  : S extends EnumParamSpec<infer V>
    ? V
    : S extends StringParamSpec
      ? string
      : number;
export type ParamValues<S extends ParamSchema> = { readonly [K in keyof S]: ParamValue<S[K]> };
/** What a caller may pass to a strategy's constructor: any subset, the rest takes defaults. */
export type ParamInput<S extends ParamSchema> = { readonly [K in keyof S]?: ParamValue<S[K]> };

// ---- builders: keep the literal types so ParamValues infers boolean / 'a' | 'b' / number per key ----------

export function int(spec: Omit<IntParamSpec, 'type'>): IntParamSpec {
  return { type: 'int', ...spec };
}

export function float(spec: Omit<FloatParamSpec, 'type'>): FloatParamSpec {
  return { type: 'float', ...spec };
}

export function bool(spec: Omit<BoolParamSpec, 'type'>): BoolParamSpec {
  return { type: 'bool', ...spec };
}

export function choice<const V extends string>(
  values: readonly V[],
  spec: { readonly default: NoInfer<V>; readonly description: string },
): EnumParamSpec<V> {
  return { type: 'enum', values, default: spec.default, description: spec.description };
}

export function text(spec: Omit<StringParamSpec, 'type'>): StringParamSpec {
  return { type: 'string', ...spec };
}

// ---- validation -------------------------------------------------------------------------------------------

const KEY_RE = /^[A-Za-z][A-Za-z0-9_]*$/;
const INT_RE = /^[+-]?\d+$/;
const FLOAT_RE = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const TRUE_WORDS = ['true', '1', 'yes', 'on'];
const FALSE_WORDS = ['false', '0', 'no', 'off'];

const checked = new WeakSet<object>();

function fail(code: ErrorCode, message: string, details: Record<string, unknown>): never {
  throw new Bot4Error(code, message, details);
}

function keyList(schema: ParamSchema): string {
  const keys = Object.keys(schema);
  return keys.length === 0 ? '(it takes no parameters)' : keys.join(', ');
}

function rangeText(spec: IntParamSpec | FloatParamSpec): string {
  const lo = spec.min ?? Number.NEGATIVE_INFINITY;
  const hi = spec.max ?? Number.POSITIVE_INFINITY;
  if (lo === Number.NEGATIVE_INFINITY && hi === Number.POSITIVE_INFINITY) return 'any value';
  if (lo === Number.NEGATIVE_INFINITY) return `at most ${hi}`;
  if (hi === Number.POSITIVE_INFINITY) return `at least ${lo}`;
  return `from ${lo} to ${hi}`;
}

/**
 * Checks a schema once (a class's schema is checked on first use and remembered): known types, keys usable
 * as `key=value`, min <= default <= max, positive steps, enum defaults among the values.
 */
export function validateSchema(schema: unknown, context: string): asserts schema is ParamSchema {
  if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) {
    fail(
      ErrorCode.INVALID_ARGUMENT,
      `${context}: the parameter schema must be an object of parameter specs`,
      {
        context,
      },
    );
  }
  if (checked.has(schema)) return;
  for (const [key, raw] of Object.entries(schema)) {
    const where = `${context}: parameter '${key}'`;
    const bad = (why: string): never => fail(ErrorCode.INVALID_ARGUMENT, `${where} ${why}`, { context, key });
    if (!KEY_RE.test(key)) bad('is not a valid name (letters, digits and _, starting with a letter)');
    if (typeof raw !== 'object' || raw === null)
      bad('must be a spec object such as int({ default: 10, ... })');
    const spec = raw as ParamSpec;
    if (typeof spec.description !== 'string') bad('needs a description');
    switch (spec.type) {
      case 'int':
      case 'float': {
        const isInt = spec.type === 'int';
        const num = (v: unknown, what: string): void => {
          if (v === undefined) return;
          if (typeof v !== 'number' || !Number.isFinite(v) || (isInt && !Number.isInteger(v)))
            bad(`${what} must be a finite ${isInt ? 'integer' : 'number'}, got ${String(v)}`);
        };
        num(spec.default, 'default');
        if (spec.default === undefined) bad('needs a default');
        num(spec.min, 'min');
        num(spec.max, 'max');
        num(spec.step, 'step');
        if (spec.step !== undefined && !(spec.step > 0)) bad(`step must be > 0, got ${spec.step}`);
        if (spec.min !== undefined && spec.max !== undefined && spec.min > spec.max)
          bad(`has min ${spec.min} above max ${spec.max}`);
        if (
          (spec.min !== undefined && spec.default < spec.min) ||
          (spec.max !== undefined && spec.default > spec.max)
        )
          bad(`default ${spec.default} is outside its range (${rangeText(spec)})`);
        break;
      }
      case 'bool':
        if (typeof spec.default !== 'boolean')
          bad(`default must be true or false, got ${String((spec as { default: unknown }).default)}`);
        break;
      case 'enum':
        if (
          !Array.isArray(spec.values) ||
          spec.values.length === 0 ||
          spec.values.some((v) => typeof v !== 'string')
        )
          bad('needs a non-empty list of string values');
        if (!spec.values.includes(spec.default))
          bad(`default '${String(spec.default)}' is not one of ${spec.values.join(', ')}`);
        break;
      case 'string':
        if (typeof spec.default !== 'string') bad('default must be a string');
        break;
      default:
        bad(
          `has unknown type '${String((spec as { type: unknown }).type)}' (int, float, bool, enum or string)`,
        );
    }
  }
  checked.add(schema);
}

/** Edit distance, for "did you mean" on a mistyped key (keys are short; quadratic is fine at the edge). */
function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur.push(Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1)));
    }
    prev = cur;
  }
  return prev[b.length]!;
}

function unknownKey(schema: ParamSchema, key: string, context: string): never {
  const near = Object.keys(schema)
    .map((k) => ({ k, d: distance(key.toLowerCase(), k.toLowerCase()) }))
    .filter((x) => x.d <= 2)
    .sort((x, y) => x.d - y.d)[0];
  const hint = near === undefined ? '' : ` Did you mean '${near.k}'?`;
  fail(
    ErrorCode.CONFIG_UNKNOWN_KEY,
    `${context}: unknown parameter '${key}'.${hint} Valid parameters: ${keyList(schema)}`,
    { context, key, valid: Object.keys(schema) },
  );
}

/** One value, already typed, against its spec. Returns it or throws naming the key and the accepted range. */
function checkValue(spec: ParamSpec, key: string, value: unknown, context: string): ParamPrimitive {
  const where = `${context}: parameter '${key}'`;
  switch (spec.type) {
    case 'int':
    case 'float': {
      const isInt = spec.type === 'int';
      if (typeof value !== 'number' || !Number.isFinite(value) || (isInt && !Number.isInteger(value))) {
        fail(
          ErrorCode.INVALID_ARGUMENT,
          `${where} must be ${isInt ? 'an integer' : 'a number'}, got ${show(value)}`,
          {
            context,
            key,
            value,
          },
        );
      }
      if ((spec.min !== undefined && value < spec.min) || (spec.max !== undefined && value > spec.max)) {
        fail(
          ErrorCode.INVALID_ARGUMENT,
          `${where} is ${value}, out of range: it must be ${rangeText(spec)}`,
          {
            context,
            key,
            value,
            min: spec.min,
            max: spec.max,
          },
        );
      }
      return value;
    }
    case 'bool':
      if (typeof value !== 'boolean')
        fail(ErrorCode.INVALID_ARGUMENT, `${where} must be true or false, got ${show(value)}`, {
          context,
          key,
          value,
        });
      return value;
    case 'enum':
      if (typeof value !== 'string' || !spec.values.includes(value)) {
        fail(
          ErrorCode.INVALID_ARGUMENT,
          `${where} must be one of ${spec.values.join(', ')}, got ${show(value)}`,
          {
            context,
            key,
            value,
          },
        );
      }
      return value;
    case 'string':
      if (typeof value !== 'string')
        fail(ErrorCode.INVALID_ARGUMENT, `${where} must be text, got ${show(value)}`, {
          context,
          key,
          value,
        });
      return value;
  }
}

function show(v: unknown): string {
  return typeof v === 'string' ? `'${v}'` : String(v);
}

/**
 * Complete, checked parameter values: every key of the schema, given values checked, the rest defaulted.
 * The result is frozen so that a strategy cannot change its own parameters mid-run.
 */
export function resolveParams<S extends ParamSchema>(
  schema: S,
  given: Readonly<Record<string, unknown>> = {},
  context = 'strategy',
): ParamValues<S> {
  validateSchema(schema, context);
  for (const key of Object.keys(given)) {
    if (!Object.hasOwn(schema, key)) unknownKey(schema, key, context);
  }
  const out: Record<string, ParamPrimitive> = {};
  for (const [key, spec] of Object.entries(schema)) {
    const v = given[key];
    out[key] = v === undefined ? spec.default : checkValue(spec, key, v, context);
  }
  return Object.freeze(out) as ParamValues<S>;
}

/** Parses one command-line value for `spec`; throws naming the key when it is not of the parameter's type. */
export function parseParamValue(
  spec: ParamSpec,
  key: string,
  raw: string,
  context = 'strategy',
): ParamPrimitive {
  const where = `${context}: parameter '${key}'`;
  const s = raw.trim();
  switch (spec.type) {
    case 'int':
      if (!INT_RE.test(s)) {
        const hint = FLOAT_RE.test(s) ? ' (it takes whole numbers only)' : '';
        fail(ErrorCode.INVALID_ARGUMENT, `${where} must be an integer, got '${raw}'${hint}`, {
          context,
          key,
          value: raw,
        });
      }
      return checkValue(spec, key, Number(s), context);
    case 'float':
      if (!FLOAT_RE.test(s))
        fail(ErrorCode.INVALID_ARGUMENT, `${where} must be a number, got '${raw}'`, {
          context,
          key,
          value: raw,
        });
      return checkValue(spec, key, Number(s), context);
    case 'bool': {
      const w = s.toLowerCase();
      if (TRUE_WORDS.includes(w)) return true;
      if (FALSE_WORDS.includes(w)) return false;
      return fail(ErrorCode.INVALID_ARGUMENT, `${where} must be true or false, got '${raw}'`, {
        context,
        key,
        value: raw,
      });
    }
    case 'enum':
      return checkValue(spec, key, s, context);
    case 'string':
      return raw;
  }
}

/**
 * Parses `key=value` arguments (the CLI's repeated `--param`) against a schema and applies defaults.
 * Errors name the key: unknown key (with the valid ones), wrong type, out of range, given twice, no '='.
 */
export function parseParams<S extends ParamSchema>(
  schema: S,
  args: readonly string[],
  context = 'strategy',
): ParamValues<S> {
  validateSchema(schema, context);
  const given: Record<string, ParamPrimitive> = {};
  for (const arg of args) {
    const eq = arg.indexOf('=');
    if (eq <= 0) {
      fail(
        ErrorCode.INVALID_ARGUMENT,
        `${context}: parameter '${arg}' must be written key=value (e.g. ${exampleArg(schema)})`,
        {
          context,
          arg,
        },
      );
    }
    const key = arg.slice(0, eq).trim();
    const spec = Object.hasOwn(schema, key) ? schema[key] : undefined;
    if (spec === undefined) unknownKey(schema, key, context);
    if (Object.hasOwn(given, key)) {
      fail(ErrorCode.INVALID_ARGUMENT, `${context}: parameter '${key}' is given twice`, { context, key });
    }
    given[key] = parseParamValue(spec, key, arg.slice(eq + 1), context);
  }
  return resolveParams(schema, given, context);
}

function exampleArg(schema: ParamSchema): string {
  const first = Object.entries(schema)[0];
  return first === undefined ? 'key=value' : `${first[0]}=${String(first[1].default)}`;
}

/**
 * The optimiser's grid for one parameter: min..max by step for numbers (ints step 1 by default; a float needs
 * a step, else only its default), both values of a bool, every value of an enum, the default of a string.
 */
export function paramRange(spec: ParamSpec): ParamPrimitive[] {
  switch (spec.type) {
    case 'bool':
      return [false, true];
    case 'enum':
      return [...spec.values];
    case 'string':
      return [spec.default];
    case 'int':
    case 'float': {
      const step = spec.step ?? (spec.type === 'int' ? 1 : undefined);
      if (step === undefined || spec.min === undefined || spec.max === undefined) return [spec.default];
      const n = Math.floor((spec.max - spec.min) / step + 1e-9);
      const out: number[] = [];
      // Multiplying (not accumulating) keeps float grids free of drift: 0.1 * 3 rather than 0.1 + 0.1 + 0.1.
      for (let i = 0; i <= n; i++)
        out.push(spec.type === 'int' ? spec.min + i * step : roundGrid(spec.min + i * step));
      return out;
    }
  }
}

function roundGrid(x: number): number {
  return Number.parseFloat(x.toPrecision(12));
}

/** A table of the schema for help output: key, type, default, range or values, description. */
export function describeParams(schema: ParamSchema): string[] {
  const rows = Object.entries(schema).map(([key, s]) => [
    key,
    s.type,
    String(s.default),
    s.type === 'int' || s.type === 'float'
      ? rangeText(s)
      : s.type === 'enum'
        ? s.values.join('|')
        : s.type === 'bool'
          ? 'true|false'
          : 'text',
    s.description,
  ]);
  const widths = [0, 1, 2, 3].map((c) => Math.max(0, ...rows.map((r) => r[c]!.length)));
  return rows.map((r) => r.map((cell, c) => (c < 4 ? cell.padEnd(widths[c]!) : cell)).join('  '));
}

/** 'fast=10 slow=30' for logs and reports (same syntax the CLI takes back). */
export function formatParams(values: Readonly<Record<string, ParamPrimitive>>): string {
  return Object.entries(values)
    .map(([k, v]) => `${k}=${String(v)}`)
    .join(' ');
}
