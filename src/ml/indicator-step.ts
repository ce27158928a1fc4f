// Compiles a feature engine's indicator updates into straight-line code with a call site per indicator. Through
// one shared site (`inds[u].update(...)` in a loop) the calls are megamorphic: V8 inlines none of the sixteen or
// so indicator classes and each update pays a full dynamic call. With a site per indicator each call sees one
// function, which V8 inlines. Two more V8 facts shape the code:
// - An update's return value is a double merged (a phi) with its warm-up path, a call V8 does not inline (too
//   rare), so the steady-state result is boxed into a heap number on every update just to be returned. The
//   outputs are therefore read from the indicator's fields (`read[k]`, a plain field load) after the update, and
//   the return value is dropped: unused, the boxing is dead code.
// - V8 stops inlining into one function after ~920 bytes of inlined bytecode
//   (--max-inlined-bytecode-size-cumulative), about five indicators' worth. So each indicator gets its own
//   generated function (its own budget) that updates it and stores its outputs into the row, returning nothing,
//   and the step calls them in turn (one plain call per indicator, a few ns, nothing boxed).
// The generated text holds only integer indexes and fixed names (no spec strings), so no input reaches the
// source. Units: whatever the indicators take (bar prices and volumes as doubles).

import type { StreamingIndicator } from '../indicators/registry.ts';

/** Per-bar indicator work: updates every indicator from `bar` (o,h,l,c,v) and writes their features into `row`. */
export type IndicatorStep = (bar: Float64Array, row: Float64Array) => void;

/** Builds a function from generated text; `names` are its closure's bindings, `values` their values. */
function generate(names: readonly string[], values: readonly unknown[], src: string): unknown {
  return new Function(...names, `"use strict";\n${src}`)(...values);
}

/** One indicator's update and row writes: `indicatorU(bar, row)`. */
function compileOne(
  ind: StreamingIndicator,
  u: number,
  inputs: Int8Array,
  arity: number,
  rowOf: readonly (readonly [number, number, number])[],
): IndicatorStep {
  const names: string[] = [];
  const values: unknown[] = [];
  const bind = (name: string, value: unknown): string => {
    names.push(name);
    values.push(value);
    return name;
  };
  const args: string[] = [];
  for (let s = 0; s < 4; s++) args.push(s < arity ? `bar[${inputs[u * 4 + s]!}]` : '0');
  const k = ind.kernel;
  const state = bind('state', k === undefined ? ind : k.state);
  const body: string[] = [];
  if (k !== undefined) body.push(`${bind('step', k.step)}(${state}, ${args.join(', ')});`);
  else body.push(`${state}.update(${args.slice(0, Math.max(1, arity)).join(', ')});`);
  for (const [slot, iu, out] of rowOf) {
    if (iu !== u) continue;
    const read = k?.read[out];
    if (k === undefined) body.push(`row[${slot}] = ${state}.output(${out});`);
    else if (read === undefined) body.push(`row[${slot}] = NaN;`);
    else body.push(`row[${slot}] = ${bind(`read${out}`, read)}(${state});`);
  }
  return generate(
    names,
    values,
    `return function indicator${u}(bar, row) {\n${body.join('\n')}\n};`,
  ) as IndicatorStep;
}

/**
 * @param inds unique indicator instances
 * @param inputs per indicator, 4 bar slots (0..4 = o,h,l,c,v) of which the first `arity[u]` are used
 * @param rowOf per indicator-feature row slot: [slot, indicator, output] triples
 */
export function compileIndicatorStep(
  inds: readonly StreamingIndicator[],
  inputs: Int8Array,
  arity: Int8Array,
  rowOf: readonly (readonly [number, number, number])[],
): IndicatorStep {
  const parts = inds.map((ind, u) => compileOne(ind, u, inputs, arity[u]!, rowOf));
  const n = parts.length;
  // One call per indicator through a single (megamorphic) site on purpose: a generated caller with a direct call
  // per indicator would inline the first few whole and then, its budget spent, leave the rest of the updates and
  // reads as out-of-line calls inside it, each returning a boxed double again.
  return (bar, row) => {
    for (let u = 0; u < n; u++) parts[u]!(bar, row);
  };
}
