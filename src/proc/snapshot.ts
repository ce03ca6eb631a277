// One live snapshot: walk /proc and store it all in one transaction (a killed run leaves no half
// snapshot: an unfinished transaction is rolled back when the database is next opened).
import type { Db } from '../store/db.js';
import { nowIso } from '../store/db.js';
import { WalkWriter, finishSnapshot, hostMeta, insertSnapshotRow } from '../store/snapshots.js';
import { TOOL_VERSION } from '../version.js';
import { walkProcChunked } from './parallel.js';
import type { ItemKind, WalkCounts } from './types.js';

export interface SnapshotOptions {
  pids?: readonly number[];
}

export interface SnapshotSummary {
  snapshotId: number;
  counts: WalkCounts;
  items: number;
  itemsByKind: Partial<Record<ItemKind, number>>;
  warnings: string[];
}

export async function takeSnapshot(db: Db, options: SnapshotOptions): Promise<SnapshotSummary> {
  const startedAt = nowIso();
  const itemsByKind: Partial<Record<ItemKind, number>> = {};
  // The transaction spans the awaits of the walk: better-sqlite3's db.transaction() cannot, so
  // BEGIN/COMMIT by hand; nothing else uses this connection meanwhile.
  db.exec('BEGIN IMMEDIATE');
  try {
    const snapshotId = insertSnapshotRow(db, hostMeta(TOOL_VERSION, startedAt));
    const writer = new WalkWriter(db, snapshotId);
    const walk = await walkProcChunked(options.pids === undefined ? {} : { pids: options.pids }, (chunk) => writer.writeChunk(chunk));
    writer.finish(walk);
    for (const item of writer.itemIds.keys()) itemsByKind[item.kind] = (itemsByKind[item.kind] ?? 0) + 1;
    finishSnapshot(db, snapshotId, { warnings: walk.warnings });
    db.exec('COMMIT');
    return { snapshotId, counts: walk.counts, items: writer.itemIds.size, itemsByKind, warnings: walk.warnings };
  } catch (error) {
    if (db.inTransaction) db.exec('ROLLBACK');
    throw error;
  }
}
