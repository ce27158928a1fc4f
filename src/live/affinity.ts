// CPU affinity of a trading node (`engine.cpus` in the node config, `--cpus` on `bot4 paper|live`), through
// the pool's pinning (util-linux taskset, src/parallel): the process and all its threads to the listed CPUs,
// the engine (main JavaScript) thread to the first, the feed worker's thread to the second (the first when
// only one is listed). V8's GC and compiler helpers and libuv's threads follow the process mask only.
// Never fatal: what could not be pinned (no taskset, not Linux, a CPU the machine lacks) is reported in the
// start-up lines, and the node runs where the OS scheduler puts it.

import { Bot4Error, ErrorCode } from '../core/errors.ts';
import { taskset } from '../parallel/pool.protocol.ts';
import { pinProcess } from '../parallel/pool.ts';

export interface Pinning {
  /** Start-up report lines: what was pinned and what could not be. */
  lines: string[];
  /** The CPU the feed worker should pin its thread to, or null. */
  feedCpu: number | null;
}

/** Parses `--cpus 0,1` or `--cpus 2-3` into CPU numbers; exit-code-2 error naming the value otherwise. */
export function parseCpuList(text: string): number[] {
  const out: number[] = [];
  for (const part of text.split(',')) {
    const m = /^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$/.exec(part);
    const lo = m === null ? Number.NaN : Number(m[1]);
    const hi = m?.[2] === undefined ? lo : Number(m[2]);
    if (!(hi >= lo) || hi - lo > 1023) {
      throw new Bot4Error(
        ErrorCode.INVALID_ARGUMENT,
        `--cpus '${text}': expected CPU numbers like 0,1 or 2-3`,
        { key: 'cpus', value: text },
      );
    }
    for (let c = lo; c <= hi; c++) if (!out.includes(c)) out.push(c);
  }
  return out;
}

/** Pins this process, its engine thread, and chooses the feed worker's CPU; reports every step. */
export function pinNode(cpus: readonly number[]): Pinning {
  if (cpus.length === 0) return { lines: [], feedCpu: null };
  const list = cpus.join(',');
  if (process.platform !== 'linux') {
    return {
      lines: [`cpu pinning: not available on ${process.platform}; nothing pinned (engine.cpus ${list})`],
      feedCpu: null,
    };
  }
  const lines: string[] = [];
  let ok = true;
  try {
    pinProcess(cpus);
    lines.push(`cpu pinning: process (all threads, V8 and libuv helpers included) to CPUs ${list}`);
  } catch (e) {
    ok = false;
    lines.push(`cpu pinning: could not pin the process to CPUs ${list}: ${(e as Error).message}`);
  }
  const engineCpu = cpus[0]!;
  // The main thread's id is the process id: taskset without -a moves that thread alone.
  const failed = ok
    ? taskset(['-p', '-c', String(engineCpu), String(process.pid)])
    : { why: 'process not pinned' };
  lines.push(
    failed === null
      ? `cpu pinning: engine thread to CPU ${engineCpu}`
      : `cpu pinning: could not pin the engine thread to CPU ${engineCpu}: ${failed.why}`,
  );
  const feedCpu = cpus.length > 1 ? cpus[1]! : engineCpu;
  return { lines, feedCpu: ok ? feedCpu : null };
}
