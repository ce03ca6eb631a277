// One live snapshot: walk /proc, store it all in one transaction (a killed run leaves no half snapshot).
import type { Db } from '../store/db.js';
import { nowIso } from '../store/db.js';
import { finishSnapshot, hostMeta, insertSnapshotRow, storeWalk } from '../store/snapshots.js';
import { TOOL_VERSION } from '../version.js';
import { walkProc } from './walk.js';
import type { WalkCounts } from './types.js';

export interface SnapshotOptions {
  pids?: readonly number[];
}

export interface SnapshotSummary {
  snapshotId: number;
  counts: WalkCounts;
  items: number;
  itemsByKind: Record<string, number>;
  warnings: string[];
}

export function takeSnapshot(db: Db, options: SnapshotOptions): SnapshotSummary {
  const startedAt = nowIso();
  const walk = walkProc(options.pids === undefined ? {} : { pids: options.pids });
  const snapshotId = db.transaction(() => {
    const id = insertSnapshotRow(db, hostMeta(TOOL_VERSION, startedAt));
    storeWalk(db, id, walk);
    finishSnapshot(db, id, { warnings: walk.warnings });
    return id;
  }).immediate();
  const itemsByKind: Record<string, number> = {};
  for (const item of walk.items) itemsByKind[item.kind] = (itemsByKind[item.kind] ?? 0) + 1;
  return { snapshotId, counts: walk.counts, items: walk.items.length, itemsByKind, warnings: walk.warnings };
}
