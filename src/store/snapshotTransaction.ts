// One live snapshot's write transaction: the snapshot row, the walk's rows as they come, lsof's
// capture and its cross-check, the commit. Used on the walking thread for a small host, and inside
// snapshotWorker.ts (its own connection) when the walk is big enough to store beside it.
import { oneLine } from '../errors.js';
import type { CommandRecord } from '../exec/run.js';
import { ingestLsofFile } from '../lsof/ingest.js';
import { captureRefusal } from '../lsof/parseFile.js';
import type { ItemKind, WalkResult } from '../proc/types.js';
import type { WalkChunk } from '../proc/walk.js';
import { commandRecorder } from './commands.js';
import { nowIso, type Db } from './db.js';
import { beforeWrite } from './lockWait.js';
import { crossCheckLsof, type CrossCheck } from './lsof.js';
import { WalkWriter, finishSnapshot, insertSnapshotRow, type SnapshotMeta } from './snapshots.js';

/** lsof's capture in the snapshot, or why it is not (error: nothing of it was stored). */
export interface LsofStored {
  records: number;
  unreadableLines: number;
  crossCheck: CrossCheck | null;
  error: string | null;
}

export interface SnapshotCommitted {
  snapshotId: number;
  items: number;
  itemsByKind: Partial<Record<ItemKind, number>>;
}

export class SnapshotTransaction {
  readonly snapshotId: number;
  private readonly writer: WalkWriter;
  private readonly recorder: (record: CommandRecord) => void;

  /** Takes the case's write lock (waiting for another writer up to the busy timeout). */
  constructor(
    private readonly db: Db,
    meta: SnapshotMeta,
  ) {
    beforeWrite(db);
    db.exec('BEGIN IMMEDIATE');
    try {
      // A process with many fds or mappings comes in parts (walk.ts, WalkChunk): its fds' and maps'
      // rows before its own row, which they reference. Checked at the commit instead of per statement
      // (SQLite turns this off again at the COMMIT or ROLLBACK).
      db.pragma('defer_foreign_keys = ON');
      // Dated when the lock is ours, just before the walk: not when the command began, which may have
      // waited for another writer of the case (up to the busy timeout) while the files changed.
      this.snapshotId = insertSnapshotRow(db, { ...meta, startedAt: nowIso() });
      this.writer = new WalkWriter(db, this.snapshotId);
      this.recorder = commandRecorder(db);
    } catch (error) {
      db.exec('ROLLBACK');
      throw error;
    }
  }

  record(command: CommandRecord): void {
    this.recorder(command);
  }

  writeChunk(chunk: WalkChunk): void {
    this.writer.writeChunk(chunk);
  }

  /** The walk's last rows, its mounts and counts. */
  walked(walk: WalkResult): void {
    this.writer.finish(walk);
  }

  /**
   * lsof's capture and its cross-check with the walk, all or nothing: a capture that cannot be read
   * leaves no rows of it (the snapshot keeps the walk and says why lsof is missing).
   */
  async storeLsof(file: string): Promise<LsofStored> {
    this.db.exec('SAVEPOINT lsof');
    try {
      const ingested = await ingestLsofFile(this.db, this.snapshotId, file, null);
      // Output that is not lsof's (a wrapper's garbage), or tells no deleted file: lsof failed, no cross-check claimed.
      const refused = captureRefusal(ingested, 'its output', true);
      if (refused !== null) throw new Error(refused);
      const crossCheck = crossCheckLsof(this.db, this.snapshotId, true);
      this.db.prepare(`UPDATE snapshots SET import_file = ?, import_sha256 = ? WHERE id = ?`).run(file, ingested.sha256, this.snapshotId);
      this.db.exec('RELEASE lsof');
      return { records: ingested.records, unreadableLines: ingested.unreadable, crossCheck, error: null };
    } catch (error) {
      this.db.exec('ROLLBACK TO lsof');
      this.db.exec('RELEASE lsof');
      return { records: 0, unreadableLines: 0, crossCheck: null, error: oneLine(error) };
    }
  }

  /** Count the items, mark the snapshot finished and commit it. */
  commit(lsofStatus: string, warnings: readonly string[]): SnapshotCommitted {
    const itemsByKind: Partial<Record<ItemKind, number>> = {};
    const kinds = this.db.prepare(`SELECT kind, count(*) AS n FROM items WHERE snapshot_id = ? GROUP BY kind`).all(this.snapshotId) as Array<{ kind: ItemKind; n: number }>;
    let items = 0;
    for (const row of kinds) {
      itemsByKind[row.kind] = row.n;
      items += row.n;
    }
    finishSnapshot(this.db, this.snapshotId, { lsofStatus, warnings });
    this.db.exec('COMMIT');
    return { snapshotId: this.snapshotId, items, itemsByKind };
  }

  /** Give up: nothing of this snapshot stays. */
  rollback(): void {
    if (this.db.inTransaction) this.db.exec('ROLLBACK');
  }
}
