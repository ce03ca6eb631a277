// Worker thread: a big snapshot's transaction (snapshotTransaction.ts) on its own connection to the
// case database. The /proc walk keeps the main thread busy for seconds; the rows it hands over are
// stored here meanwhile, on the other core (at 100k fds: ~1 s of SQLite that no longer adds to the
// walk). Requests are handled in the order they were posted; see snapshotStore.ts for the protocol.
import { parentPort, workerData } from 'node:worker_threads';
import { oneLine } from '../errors.js';
import { openCase, type Case } from './db.js';
import type { SnapshotMeta } from './snapshots.js';
import { SnapshotTransaction } from './snapshotTransaction.js';
import { CHUNKS_STORED, STOPPED, type StoreReply, type StoreRequest } from './snapshotStore.js';

const { caseDir, meta, control } = workerData as { caseDir: string; meta: SnapshotMeta; control: SharedArrayBuffer };
const counters = new Int32Array(control);
const port = parentPort;
if (port === null) throw new Error('snapshotWorker runs as a worker thread');

const { kase, transaction } = begin();
/** The first error ends the snapshot: rolled back, and every later request is answered with it. */
let failure: string | null = null;
let queue: Promise<void> = Promise.resolve();

port.on('message', (request: StoreRequest) => {
  queue = queue.then(() => handle(request));
});

/** Open the case and start the transaction; a failure here ends the thread (the walk is told). */
function begin(): { kase: Case; transaction: SnapshotTransaction } {
  let opened: Case | null = null;
  try {
    opened = openCase(caseDir, { create: false });
    return { kase: opened, transaction: new SnapshotTransaction(opened.db, meta) };
  } catch (error) {
    opened?.close();
    stop();
    throw error;
  }
}

/** Tell the walk that this thread stopped storing: its next chunk ends the walk (nor does it wait here). */
function stop(): void {
  Atomics.store(counters, STOPPED, 1);
  Atomics.notify(counters, CHUNKS_STORED);
}

/** Roll back what is not committed, close the connection and let the thread end. */
function end(): void {
  if (kase.db.open) {
    transaction.rollback();
    kase.close();
  }
  port?.close();
}

async function handle(request: StoreRequest): Promise<void> {
  if (request.type === 'abort') {
    end();
    return;
  }
  if (failure !== null) {
    if ('id' in request) port?.postMessage({ id: request.id, error: failure } satisfies StoreReply);
    return;
  }
  try {
    switch (request.type) {
      case 'command':
        transaction.record(request.record);
        return;
      case 'chunk':
        transaction.writeChunk(request.chunk);
        Atomics.add(counters, CHUNKS_STORED, 1);
        Atomics.notify(counters, CHUNKS_STORED);
        return;
      case 'walked':
        transaction.walked(request.walk);
        return;
      case 'lsof':
        port?.postMessage({ id: request.id, value: await transaction.storeLsof(request.file) } satisfies StoreReply);
        return;
      case 'commit':
        port?.postMessage({ id: request.id, value: transaction.commit(request.lsofStatus, request.warnings) } satisfies StoreReply);
        end();
        return;
    }
  } catch (error) {
    failure = oneLine(error);
    stop();
    transaction.rollback();
    port?.postMessage({ failed: failure } satisfies StoreReply);
    if ('id' in request) port?.postMessage({ id: request.id, error: failure } satisfies StoreReply);
  }
}
