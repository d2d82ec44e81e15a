/** The workloads of a run, in the order they run; `W1L`, `W7`, `http`, `degrade`, `archive`, `migrate`, `webhook` and `worker` only when asked for. */
import type { Workload } from '../workload.js';
import { archiveWorkload } from './archive.js';
import { degrade } from './degrade.js';
import { httpApi } from './http-api.js';
import { migrateWorkload } from './migrate.js';
import { w1Sequential } from './w1-sequential.js';
import { w1Long } from './w1l-long.js';
import { w2Concurrent } from './w2-concurrent.js';
import { w3Last20 } from './w3-last20.js';
import { w4PageBack } from './w4-page-back.js';
import { w5Search } from './w5-search.js';
import { w6Import } from './w6-import.js';
import { w7Zipf } from './w7-zipf.js';
import { webhookWorkload } from './webhook.js';
import { workerWorkload } from './worker.js';

/** @example const workloads = await loadWorkloads(); */
export async function loadWorkloads(): Promise<Workload[]> {
  return [
    w1Sequential,
    w2Concurrent,
    w3Last20,
    w4PageBack,
    w5Search,
    w6Import,
    w1Long,
    w7Zipf,
    httpApi,
    degrade,
    archiveWorkload,
    migrateWorkload,
    webhookWorkload,
    workerWorkload,
  ];
}
