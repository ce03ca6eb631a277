// One live snapshot: walk /proc while lsof runs alongside, store it all in one transaction (a killed
// run leaves no half snapshot: an unfinished transaction is rolled back when the case is next opened).
import fs from 'node:fs';
import path from 'node:path';
import { oneLine } from '../errors.js';
import type { CasePaths, Db } from '../store/db.js';
import { nowIso } from '../store/db.js';
import { commandRecorder } from '../store/commands.js';
import { crossCheckLsof, type CrossCheck } from '../store/lsof.js';
import { WalkWriter, finishSnapshot, hostMeta, insertSnapshotRow } from '../store/snapshots.js';
import { lsofInstalled, startLsof } from '../tools/lsof.js';
import { ingestLsofFile } from '../lsof/ingest.js';
import { TOOL_VERSION } from '../version.js';
import { walkProcesses } from './walk.js';
import type { ItemKind, WalkCounts } from './types.js';

export interface SnapshotOptions {
  pids?: readonly number[];
  /** Run lsof +L1 alongside the walk (when installed). */
  lsof?: boolean;
  /** Where to keep lsof's raw output; required with lsof. */
  casePaths?: CasePaths;
}

export interface SnapshotSummary {
  snapshotId: number;
  counts: WalkCounts;
  items: number;
  itemsByKind: Partial<Record<ItemKind, number>>;
  lsofStatus: string;
  crossCheck: CrossCheck | null;
  warnings: string[];
}

export async function takeSnapshot(db: Db, options: SnapshotOptions): Promise<SnapshotSummary> {
  const startedAt = nowIso();
  const warnings: string[] = [];
  // The transaction spans the awaits of the walk: better-sqlite3's db.transaction() cannot, so
  // BEGIN/COMMIT by hand; nothing else uses this connection meanwhile.
  db.exec('BEGIN IMMEDIATE');
  try {
    const snapshotId = insertSnapshotRow(db, hostMeta(TOOL_VERSION, startedAt));
    let lsofStatus = 'skipped (--no-lsof)';
    let lsofFile: string | null = null;
    let capture: Promise<{ exitCode: number; stderr: string }> | null = null;
    if (options.lsof === true && options.casePaths !== undefined) {
      if (lsofInstalled()) {
        const dir = path.join(options.casePaths.dir, 'lsof');
        fs.mkdirSync(dir, { recursive: true });
        lsofFile = path.join(dir, `live-${startedAt.replace(/[:.]/g, '')}-${process.pid}.F0.txt`);
        // Running before the walk starts: the walk keeps this thread busy until it ends.
        capture = (await startLsof(lsofFile, commandRecorder(db), options.pids)).done;
      } else {
        lsofStatus = 'not installed (apt-get install lsof)';
        warnings.push('lsof is not installed: the snapshot holds the /proc walk only (apt-get install lsof)');
      }
    }
    const writer = new WalkWriter(db, snapshotId);
    const walk = walkProcesses(options.pids === undefined ? {} : { pids: options.pids }, (chunk) => writer.writeChunk(chunk));
    writer.finish(walk);
    warnings.push(...walk.warnings);
    let crossCheck: CrossCheck | null = null;
    if (capture !== null && lsofFile !== null) {
      try {
        const result = await capture;
        const ingested = await ingestLsofFile(db, snapshotId, lsofFile, null);
        crossCheck = crossCheckLsof(db, snapshotId, true);
        lsofStatus = `ran: ${ingested.records} records, exit ${result.exitCode}${ingested.warnings.length > 0 ? `, ${ingested.warnings.length} unreadable lines` : ''}`;
        db.prepare(`UPDATE snapshots SET import_file = ?, import_sha256 = ? WHERE id = ?`).run(lsofFile, ingested.sha256, snapshotId);
        const firstWarning = result.stderr.split('\n').find((line) => line.startsWith('lsof: WARNING'));
        if (firstWarning !== undefined) warnings.push(firstWarning);
      } catch (error) {
        lsofStatus = `failed: ${oneLine(error)}`;
        warnings.push(`lsof failed, the snapshot holds the /proc walk only: ${oneLine(error)}`);
      }
    }
    const itemsByKind: Partial<Record<ItemKind, number>> = {};
    const kinds = db.prepare(`SELECT kind, count(*) AS n FROM items WHERE snapshot_id = ? GROUP BY kind`).all(snapshotId) as Array<{ kind: ItemKind; n: number }>;
    let items = 0;
    for (const row of kinds) {
      itemsByKind[row.kind] = row.n;
      items += row.n;
    }
    finishSnapshot(db, snapshotId, { lsofStatus, warnings });
    db.exec('COMMIT');
    return { snapshotId, counts: walk.counts, items, itemsByKind, lsofStatus, crossCheck, warnings };
  } catch (error) {
    if (db.inTransaction) db.exec('ROLLBACK');
    throw error;
  }
}
