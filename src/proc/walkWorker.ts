// Worker thread entry: walk a share of the PIDs, posting records in chunks as they are ready.
import { parentPort, workerData } from 'node:worker_threads';
import { walkPids } from './walk.js';
import type { WorkerMessage } from './parallel.js';

const { pids, procRoot } = workerData as { pids: number[]; procRoot: string };
const post = (message: WorkerMessage): void => parentPort?.postMessage(message);
const result = walkPids(pids, procRoot, (chunk) => post({ type: 'chunk', chunk }));
post({ type: 'done', result });
