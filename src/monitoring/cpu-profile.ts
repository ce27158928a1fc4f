// Reading V8 CPU profiles (.cpuprofile, as `node --cpu-prof` writes them): self time per function, for the
// terminal summary of `bot4 profile`. Units: microseconds of sampled time; shares of the profile's total.

import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface CpuProfile {
  nodes: {
    id: number;
    callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
    hitCount?: number;
    children?: number[];
  }[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

export interface FunctionTime {
  /** "name (file:line)"; V8's pseudo frames keep their names: (garbage collector), (program), (idle). */
  name: string;
  selfMicros: number;
  /** Share of all sampled time, 0..1. */
  share: number;
}

export function readCpuProfile(file: string): CpuProfile {
  return JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
}

function frameName(cf: CpuProfile['nodes'][number]['callFrame'], root: string): string {
  const fn = cf.functionName === '' ? '(anonymous)' : cf.functionName;
  if (cf.url === '') return fn;
  let file = cf.url;
  if (file.startsWith('file://')) {
    try {
      file = relative(root, fileURLToPath(file));
    } catch {
      // keep the URL as it is
    }
  }
  return `${fn} (${file}:${cf.lineNumber + 1})`;
}

/** Functions by self time, largest first; samples are weighted by the time to the next sample. */
export function topSelfTime(profile: CpuProfile, limit = 20, root = process.cwd()): FunctionTime[] {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<string, number>();
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  let total = 0;
  for (let i = 0; i < samples.length; i++) {
    // timeDeltas[i] is the time before sample i; the time a sample stands for is the gap to the next one.
    const dt = Math.max(0, deltas[i + 1] ?? 0);
    const node = byId.get(samples[i]!);
    if (node === undefined) continue;
    const name = frameName(node.callFrame, root);
    self.set(name, (self.get(name) ?? 0) + dt);
    total += dt;
  }
  return [...self]
    .map(([name, selfMicros]) => ({ name, selfMicros, share: total > 0 ? selfMicros / total : 0 }))
    .sort((a, b) => b.selfMicros - a.selfMicros)
    .slice(0, limit);
}

/** The terminal table: share, milliseconds, function. */
export function formatTopFunctions(rows: readonly FunctionTime[]): string[] {
  return [
    '  self %   self ms  function',
    ...rows.map(
      (r) =>
        `${(r.share * 100).toFixed(1).padStart(8)} ${(r.selfMicros / 1000).toFixed(1).padStart(9)}  ${r.name}`,
    ),
  ];
}
