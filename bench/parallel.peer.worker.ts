// piscina's and tinypool's worker for bench/parallel.bench.ts: the same work as Bot4's tasks (0 = the empty
// task, otherwise the burn kernel with that many iterations). Both pools load it by file name, so it runs
// compiled (dist/bench), or as .ts where Node strips types itself.

import { burn } from './parallel.work.ts';

export default function run(iters: number): number {
  return iters === 0 ? 0 : burn(iters);
}
