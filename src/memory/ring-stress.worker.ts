// Worker entry for the cross-thread ring stress tests: attaches to the ring in workerData and runs one role
// of ring-stress.ts, then posts its tally. Started with startWorker(siblingModule(..., 'ring-stress.worker'))
// so it runs from the TypeScript sources (tests) and from the compiled dist alike.

import { parentPort, workerData } from 'node:worker_threads';
import { MpscRing } from './mpsc-ring.ts';
import { consumeMpsc, consumeSpsc, produceMpsc, produceSpsc } from './ring-stress.ts';
import { SpscRing } from './spsc-ring.ts';

export interface StressJob {
  role: 'spsc-producer' | 'spsc-consumer' | 'mpsc-producer' | 'mpsc-consumer';
  sab: SharedArrayBuffer;
  /** Records to move (per producer for MPSC). */
  count: number;
  seed: number;
  /** MPSC producer id, or the number of producers for the MPSC consumer. */
  producer: number;
}

const job = workerData as StressJob;
switch (job.role) {
  case 'spsc-producer':
    parentPort?.postMessage([produceSpsc(SpscRing.attach(job.sab), job.count, job.seed)]);
    break;
  case 'spsc-consumer':
    parentPort?.postMessage([consumeSpsc(SpscRing.attach(job.sab), job.count, job.seed)]);
    break;
  case 'mpsc-producer':
    parentPort?.postMessage([produceMpsc(MpscRing.attach(job.sab), job.producer, job.count, job.seed)]);
    break;
  case 'mpsc-consumer':
    parentPort?.postMessage(consumeMpsc(MpscRing.attach(job.sab), job.producer, job.count, job.seed));
    break;
}
