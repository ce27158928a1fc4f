// Compiles a feature engine's indicator updates into one function with a call site per indicator. Through one
// shared site (`inds[u].update(...)` in a loop) the calls are megamorphic: V8 inlines none of the sixteen or so
// indicator classes and each update pays a full dynamic call (~40 ns of the ~45 a feature cost). With a site
// per indicator each call sees one function, so V8 inlines the indicator's own update into the step. The
// generated text holds only integer indexes and fixed names (no spec strings), so no input reaches the source.
// Units: whatever the indicators take (bar prices and volumes as doubles).

import type { StreamingIndicator } from '../indicators/registry.ts';

/** Per-bar indicator work: updates every indicator from `bar` (o,h,l,c,v), keeps output 0 in `last`, fills `row`. */
export type IndicatorStep = (bar: Float64Array, last: Float64Array, row: Float64Array) => void;

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
  const head: string[] = ['"use strict";'];
  const body: string[] = [];
  const steps: unknown[] = [];
  const states: unknown[] = [];
  const reads: unknown[] = [];
  inds.forEach((ind, u) => {
    const args: string[] = [];
    for (let s = 0; s < 4; s++) args.push(s < arity[u]! ? `bar[${inputs[u * 4 + s]!}]` : '0');
    const k = ind.kernel;
    if (k !== undefined) {
      head.push(`const s${u} = steps[${u}], n${u} = states[${u}];`);
      steps[u] = k.step;
      states[u] = k.state;
      body.push(`last[${u}] = s${u}(n${u}, ${args.join(', ')});`);
    } else {
      head.push(`const n${u} = states[${u}];`);
      states[u] = ind;
      body.push(`last[${u}] = n${u}.update(${args.slice(0, Math.max(1, arity[u]!)).join(', ')});`);
    }
  });
  rowOf.forEach(([slot, u, out], j) => {
    if (out === 0) {
      body.push(`row[${slot}] = last[${u}];`);
      return;
    }
    const k = inds[u]!.kernel;
    const read = k?.read[out];
    if (k !== undefined && read !== undefined) {
      head.push(`const r${j} = reads[${j}];`);
      reads[j] = read;
      body.push(`row[${slot}] = r${j}(n${u});`);
    } else {
      body.push(`row[${slot}] = ${k === undefined ? `n${u}.output(${out})` : 'NaN'};`);
    }
  });
  const src = `${head.join('\n')}\nreturn function indicatorStep(bar, last, row) {\n${body.join('\n')}\n};`;
  return new Function('steps', 'states', 'reads', src)(steps, states, reads) as IndicatorStep;
}
