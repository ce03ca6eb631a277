// The walk spread over worker threads: its cost is in the kernel (readlink/stat through /proc),
// which runs on every core at once, and the main thread stores chunks while the workers walk.
import os from 'node:os';
import { Worker } from 'node:worker_threads';
import { emptyWalk, listPids, walkPids, type WalkChunk, type WalkOptions } from './walk.js';
import type { WalkResult } from './types.js';

/** Below this many processes, starting workers costs more than it saves. */
const MIN_PIDS_FOR_WORKERS = 256;
const MAX_THREADS = 4;

export type WorkerMessage = { type: 'chunk'; chunk: WalkChunk } | { type: 'done'; result: WalkResult };

/**
 * Walk every process (or options.pids). Records arrive through onChunk, in no particular order
 * of PIDs; the returned result holds mounts, counts and warnings (and no records).
 */
export async function walkProcChunked(options: WalkOptions, onChunk: (chunk: WalkChunk) => void): Promise<WalkResult> {
  const procRoot = options.procRoot ?? '/proc';
  const pids = options.pids ?? listPids(procRoot);
  const threads = Math.min(MAX_THREADS, os.availableParallelism(), Number(process.env['UNLINKED_WALK_THREADS'] ?? MAX_THREADS));
  if (threads < 2 || pids.length < MIN_PIDS_FOR_WORKERS) {
    return walkPids(pids, procRoot, onChunk);
  }
  // Round-robin shares: neighbouring PIDs (a service's workers) often hold alike fd tables.
  const shares: number[][] = Array.from({ length: threads }, () => []);
  pids.forEach((pid, index) => shares[index % threads]?.push(pid));
  const workerUrl = new URL('./walkWorker.js', import.meta.url);
  const parts = await Promise.all(
    shares.map(
      (share) =>
        new Promise<WalkResult>((resolve, reject) => {
          const worker = new Worker(workerUrl, { workerData: { pids: share, procRoot } });
          worker.on('message', (message: WorkerMessage) => {
            if (message.type === 'chunk') onChunk(message.chunk);
            else resolve(message.result);
          });
          worker.once('error', reject);
          worker.once('exit', (code) => {
            if (code !== 0) reject(new Error(`walk worker exited with code ${code}`));
          });
        }),
    ),
  );
  return mergeWalks(parts);
}

/** The whole walk in memory: for callers that want every record at once. */
export async function walkProc(options: WalkOptions = {}): Promise<WalkResult> {
  const records: WalkChunk[] = [];
  const result = await walkProcChunked(options, (chunk) => records.push(chunk));
  return mergeWalks([{ ...result }, ...records.map((chunk) => ({ ...emptyWalk(), ...chunk }))]);
}

export function mergeWalks(parts: readonly WalkResult[]): WalkResult {
  const merged = emptyWalk();
  const mountKeys = new Set<string>();
  for (const part of parts) {
    for (const record of part.processes) merged.processes.push(record);
    for (const record of part.fds) merged.fds.push(record);
    for (const record of part.maps) merged.maps.push(record);
    for (const record of part.items) merged.items.push(record);
    for (const mount of part.mounts) {
      const key = `${mount.mntNs}/${mount.mntId}`;
      if (mountKeys.has(key)) continue;
      mountKeys.add(key);
      merged.mounts.push(mount);
    }
    merged.warnings.push(...part.warnings);
    merged.counts.processesSeen += part.counts.processesSeen;
    merged.counts.processesVanished += part.counts.processesVanished;
    merged.counts.processesUnreadable += part.counts.processesUnreadable;
    merged.counts.fdsSeen += part.counts.fdsSeen;
    merged.counts.fdsVanished += part.counts.fdsVanished;
  }
  return merged;
}
