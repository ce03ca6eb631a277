// A walk that waits on a file system that stopped answering after the probe asked it (mountProbe.ts)
// waits in the kernel, in this thread, for ever: no timer runs, no Ctrl-C is handled. A watchdog
// thread watches the walk's progress (a shared counter bumped before every stat that can reach
// such a file system) and, when it stands still, says on stderr what the walk waits on and what to
// do. It writes with a direct write(2): a worker's process.stderr goes through the blocked thread.
import { Worker } from 'node:worker_threads';

/** A stat on a network or FUSE file system that takes this long is a server that stopped answering. */
export const WALK_STALL_MS = 5_000;

/** What the walk is about to stat: progress[SEQ] changes before each, the rest says which. */
export const SEQ = 0;
export const PID = 1;
/** The fd number, or -1 for the executable or a mapping. */
export const FD = 2;
export const WHAT = 3;
/** No stat under way (the walk reads /proc, stores rows, ...): nothing to warn about. */
export const WHAT_NONE = 0;
export const WHAT_FD = 1;
export const WHAT_EXE = 2;
export const WHAT_MAP = 3;

export interface WalkWatchdog {
  progress: Int32Array;
  stop(): Promise<void>;
}

export function startWalkWatchdog(stallMs = WALK_STALL_MS): WalkWatchdog {
  const progress = new Int32Array(new SharedArrayBuffer(4 * 4));
  const worker = new Worker(new URL('./walkWatchdogWorker.js', import.meta.url), { workerData: { progress, stallMs, ownPid: process.pid } });
  worker.unref();
  // A watchdog that fails (it could not write to stderr, say) must not take the snapshot with it.
  worker.on('error', () => undefined);
  return {
    progress,
    stop: async () => {
      await worker.terminate();
    },
  };
}
