// The control for bench/parallel.bench.ts: a plain worker that burns the index range it is sent and answers
// once. Split statically across threads with no pool, it shows the speedup the machine allows at that moment.

import { parentPort } from 'node:worker_threads';
import { burn } from './parallel.work.ts';

parentPort!.on('message', (m: { iters: number; start: number; end: number; out: Int32Array }) => {
  for (let i = m.start; i < m.end; i++) m.out[i] = burn(m.iters);
  parentPort!.postMessage(m.end - m.start);
});
