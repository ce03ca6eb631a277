/**
 * How long a second `unlinked` on the same case waits for the first one's write lock: longer than
 * a snapshot may hold it (the snapshot is one transaction, and on a large or slow host its lsof may
 * run up to 300 s, src/tools/lsof.ts, after the walk), with two minutes for the walk and the store.
 */
export const BUSY_TIMEOUT_MS = 7 * 60_000;
