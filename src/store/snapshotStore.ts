// Where a live snapshot's rows go while the walk runs. A small host: straight into the case
// database on the walking thread. A big one: to a worker thread (snapshotWorker.ts) that holds the
// transaction on its own connection and stores beside the walk; this side posts the rows in order
// and waits only for the answers it needs (the lsof cross-check, the commit).
import fs from 'node:fs';
import os from 'node:os';
import { Worker } from 'node:worker_threads';
import { workerFits } from '../util/addressSpace.js';
import { UnlinkedError, oneLine } from '../errors.js';
import type { CommandRecord, CommandRecorder } from '../exec/run.js';
import type { WalkResult } from '../proc/types.js';
import type { WalkChunk } from '../proc/walk.js';
import { commandRecorder } from './commands.js';
import type { Case } from './db.js';
import { beforeWrite } from './lockWait.js';
import type { SnapshotMeta } from './snapshots.js';
import { SnapshotTransaction, type LsofStored, type SnapshotCommitted } from './snapshotTransaction.js';

export type { LsofStored, SnapshotCommitted };

export interface SnapshotStore {
  /** Provenance of commands run during the snapshot, stored in its transaction. */
  readonly record: CommandRecorder;
  /** Called from the synchronous walk. */
  writeChunk(chunk: WalkChunk): void;
  walked(walk: WalkResult): void;
  storeLsof(file: string): Promise<LsofStored>;
  /** Count the items, mark the snapshot finished and commit it. */
  commit(lsofStatus: string, warnings: readonly string[]): Promise<SnapshotCommitted>;
  /**
   * Always, last: after commit() it only waits; otherwise nothing of the snapshot stays. Resolves to
   * why the store failed, when it did (a step that only saw it stop can then say why).
   */
  close(): Promise<Error | null>;
}

/**
 * From this many open files on the host (/proc/sys/fs/file-nr), or this many processes to walk, the
 * rows are stored on another thread. Starting it costs ~0.1 s of CPU; storing costs ~10 µs per fd
 * and ~1 ms per process (its mappings): it pays from about 10,000 fds or a few hundred processes,
 * and at 100k fds takes ~1 s off the snapshot. (file-nr counts open files, not fds: forked
 * processes share theirs, hence the second bound.)
 */
const THREAD_FROM_FILES = 16_384;
const THREAD_FROM_PROCESSES = 500;

export type StoreMode = 'auto' | 'thread' | 'inline';

export interface StoreChoice {
  mode?: StoreMode | undefined;
  /** Processes the walk will visit. */
  processes: number;
  /** Other programs busy beside the walk (lsof): the store thread pays only on a core of its own. */
  busyBeside: number;
}

/** UNLINKED_STORE=thread|inline overrides the choice (docs/schema.md). */
export function openSnapshotStore(kase: Case, meta: SnapshotMeta, choice: StoreChoice): SnapshotStore {
  const mode = choice.mode ?? 'auto';
  const wanted = mode === 'auto' ? (process.env['UNLINKED_STORE'] ?? 'auto') : mode;
  const threaded =
    wanted === 'thread' ||
    (wanted !== 'inline' &&
      // Measured on 2 cores at 100k fds with lsof beside: no faster than storing inline, more CPU.
      os.availableParallelism() >= 2 + choice.busyBeside &&
      (choice.processes >= THREAD_FROM_PROCESSES || (openFilesOnHost() ?? Infinity) >= THREAD_FROM_FILES));
  // Under an address-space limit (ulimit -v) with no room for a thread, inline: a thread that cannot start aborts the process.
  return threaded && workerFits() ? new ThreadStore(kase, meta) : new InlineStore(kase, meta);
}

/** Allocated file handles, host-wide (the first number of file-nr), or null when unreadable. */
function openFilesOnHost(): number | null {
  try {
    const first = Number(fs.readFileSync('/proc/sys/fs/file-nr', 'latin1').split('\t')[0]);
    return Number.isSafeInteger(first) ? first : null;
  } catch {
    return null;
  }
}

/** Why a snapshot could not be stored, as the one line a user sees. */
function storeFailure(database: string, reason: unknown): UnlinkedError {
  return new UnlinkedError('CASE', `cannot store the snapshot in ${database}: ${oneLine(reason)}`, { cause: reason });
}

/** The transaction on the walking thread's own connection: each call stores right away. */
class InlineStore implements SnapshotStore {
  private readonly transaction: SnapshotTransaction;
  private readonly database: string;
  private committed = false;

  constructor(kase: Case, meta: SnapshotMeta) {
    this.database = kase.paths.database;
    this.transaction = this.guard(() => new SnapshotTransaction(kase.db, meta));
  }

  readonly record: CommandRecorder = (record) => this.guard(() => this.transaction.record(record));

  writeChunk(chunk: WalkChunk): void {
    this.guard(() => this.transaction.writeChunk(chunk));
  }

  walked(walk: WalkResult): void {
    this.guard(() => this.transaction.walked(walk));
  }

  async storeLsof(file: string): Promise<LsofStored> {
    try {
      return await this.transaction.storeLsof(file);
    } catch (error) {
      throw storeFailure(this.database, error);
    }
  }

  commit(lsofStatus: string, warnings: readonly string[]): Promise<SnapshotCommitted> {
    const committed = this.guard(() => this.transaction.commit(lsofStatus, warnings));
    this.committed = true;
    return Promise.resolve(committed);
  }

  close(): Promise<Error | null> {
    if (!this.committed) this.transaction.rollback();
    // Its failures were thrown where they happened.
    return Promise.resolve(null);
  }

  /** SQLite's errors (a full disk, a locked case) said as a failure to store, in one line. */
  private guard<T>(step: () => T): T {
    try {
      return step();
    } catch (error) {
      throw error instanceof UnlinkedError ? error : storeFailure(this.database, error);
    }
  }
}

export type StoreRequest =
  | { type: 'command'; record: CommandRecord }
  | { type: 'chunk'; chunk: WalkChunk }
  | { type: 'walked'; walk: WalkResult }
  | { type: 'lsof'; id: number; file: string }
  | { type: 'commit'; id: number; lsofStatus: string; warnings: readonly string[] }
  | { type: 'abort' };

/** An answer to a request with an id, or (`failed`) the first error, sent unasked when it happens. */
export type StoreReply = { id: number; value: unknown } | { id: number; error: string } | { failed: string };

/**
 * Chunks posted but not yet stored: past this the walk waits for the store, so a slow disk holds
 * the walk back instead of letting the queue (and the memory) grow with the host.
 */
const MAX_CHUNKS_IN_FLIGHT = 16;
/** Shared counters: [STOPPED] is set by the worker when it stops storing (failed or gone). */
export const STOPPED = 0;
export const CHUNKS_STORED = 1;

type Waiter = { resolve: (value: unknown) => void; reject: (error: Error) => void };

class ThreadStore implements SnapshotStore {
  private readonly worker: Worker;
  private readonly counters: Int32Array;
  private readonly pending = new Map<number, Waiter>();
  private chunksSent = 0;
  private nextId = 1;
  private gone: Error | null = null;
  /** The worker's first error, as it reported it. */
  private failed: Error | null = null;
  private readonly exited: Promise<void>;
  /** Commands that end after the commit is asked for are recorded through the caller's connection. */
  private readonly fallbackRecorder: CommandRecorder;
  private closing = false;

  constructor(kase: Case, meta: SnapshotMeta) {
    this.fallbackRecorder = commandRecorder(kase.db);
    // Wait here for another writer of the case (as the inline store does) before the walk starts: a
    // walk that stalled half-way until the worker got the lock would not be one moment in time.
    try {
      beforeWrite(kase.db);
      kase.db.exec('BEGIN IMMEDIATE');
      kase.db.exec('ROLLBACK');
    } catch (error) {
      throw storeFailure(kase.paths.database, error);
    }
    const control = new SharedArrayBuffer(8);
    this.counters = new Int32Array(control);
    this.worker = new Worker(new URL('./snapshotWorker.js', import.meta.url), { workerData: { caseDir: kase.paths.dir, meta, control } });
    this.worker.on('message', (reply: StoreReply) => {
      if ('failed' in reply) {
        this.failed ??= storeFailure(kase.paths.database, reply.failed);
        return;
      }
      const waiter = this.pending.get(reply.id);
      this.pending.delete(reply.id);
      if ('error' in reply) waiter?.reject(storeFailure(kase.paths.database, reply.error));
      else waiter?.resolve(reply.value);
    });
    const end = (error: Error): void => {
      if (this.gone !== null) return;
      this.gone = error;
      for (const waiter of this.pending.values()) waiter.reject(error);
      this.pending.clear();
    };
    this.worker.on('error', (error) => {
      this.failed ??= storeFailure(kase.paths.database, error);
      end(this.failed);
    });
    this.exited = new Promise((resolve) => {
      this.worker.once('exit', (code) => {
        end(new UnlinkedError('CASE', `the snapshot's storing thread ended (exit ${code}) before the snapshot was committed`));
        resolve();
      });
    });
  }

  readonly record: CommandRecorder = (record) => {
    if (this.closing || this.gone !== null) this.fallbackRecorder(record);
    else this.worker.postMessage({ type: 'command', record } satisfies StoreRequest);
  };

  /** Posts the chunk, waiting first when the store is far behind; stops the walk once the store failed. */
  writeChunk(chunk: WalkChunk): void {
    for (;;) {
      // Its reason arrives as a message, read once this thread awaits again (close() returns it).
      if (Atomics.load(this.counters, STOPPED) !== 0) throw new UnlinkedError('CASE', 'the snapshot store stopped');
      const stored = Atomics.load(this.counters, CHUNKS_STORED);
      if (this.chunksSent - stored < MAX_CHUNKS_IN_FLIGHT) break;
      Atomics.wait(this.counters, CHUNKS_STORED, stored, 1000);
    }
    this.chunksSent++;
    this.worker.postMessage({ type: 'chunk', chunk } satisfies StoreRequest);
  }

  walked(walk: WalkResult): void {
    this.worker.postMessage({ type: 'walked', walk } satisfies StoreRequest);
  }

  storeLsof(file: string): Promise<LsofStored> {
    return this.request<LsofStored>({ type: 'lsof', id: this.nextId++, file });
  }

  commit(lsofStatus: string, warnings: readonly string[]): Promise<SnapshotCommitted> {
    const committed = this.request<SnapshotCommitted>({ type: 'commit', id: this.nextId++, lsofStatus, warnings });
    this.closing = true;
    return committed;
  }

  async close(): Promise<Error | null> {
    this.closing = true;
    if (this.gone === null) this.worker.postMessage({ type: 'abort' } satisfies StoreRequest);
    await this.exited;
    return this.failed;
  }

  private request<T>(message: StoreRequest & { id: number }): Promise<T> {
    if (this.gone !== null) return Promise.reject(this.gone);
    return new Promise<T>((resolve, reject) => {
      this.pending.set(message.id, { resolve: (value) => resolve(value as T), reject });
      this.worker.postMessage(message);
    });
  }
}
