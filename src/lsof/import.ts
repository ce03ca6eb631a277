// `lsof import`: output captured elsewhere becomes a snapshot of source lsof, in one transaction.
import fs from 'node:fs';
import path from 'node:path';
import { UnlinkedError, errnoCode, oneLine } from '../errors.js';
import type { Db } from '../store/db.js';
import { nowIso } from '../store/db.js';
import { beforeWrite } from '../store/lockWait.js';
import { LsofItemizer, crossCheckLsof } from '../store/lsof.js';
import { finishSnapshot, insertSnapshotRow } from '../store/snapshots.js';
import { TOOL_VERSION } from '../version.js';
import { ingestLsofFile, type IngestResult } from './ingest.js';
import { captureRefusal } from './parseFile.js';
import { absolutePath } from '../util/cwd.js';
import { cannotWriteWhy, caseFolder } from '../util/caseFolder.js';
import { tryOr } from '../util/tryOr.js';
import { sweepCaptureLeftovers } from './captures.js';
import { beginStep, commitStep, onSignalExit } from '../util/interrupt.js';
import { displayText } from '../util/bytes.js';

export interface ImportResult extends IngestResult {
  snapshotId: number;
  items: number;
  /** Lines the parser could not read (lsof's own warning lines are not counted). */
  unreadable: number;
  /** The snapshots of the case that hold this capture already (alreadyInCase), said and stored as the import's first warning; null: none. */
  alreadyInCase: string | null;
}

/**
 * When snapshots of the case hold this very capture (the same sha256) already, what to warn: which
 * ones and how each took it (an import, or a live snapshot's own lsof run, kept in the case's lsof/
 * and imported again), for its items are then in the case that many times more. Null: none.
 */
export function alreadyInCase(db: Db, sha256: string, snapshotId: number): string | null {
  const earlier = db.prepare(`SELECT id, source, host FROM snapshots WHERE import_sha256 = ? AND id != ? AND finished_at IS NOT NULL ORDER BY id`)
    .all(sha256, snapshotId) as Array<{ id: number; source: 'proc' | 'lsof'; host: string | null }>;
  if (earlier.length === 0) return null;
  const imports = earlier.filter((snapshot) => snapshot.source === 'lsof').map((snapshot) => snapshot.id);
  const live = earlier.filter((snapshot) => snapshot.source === 'proc');
  const how = [
    ...(imports.length === 0 ? [] : [`was imported before, as snapshot ${imports.join(', ')}`]),
    ...live.map((snapshot) => `was taken as the lsof capture of live snapshot ${snapshot.id} of host ${displayText(snapshot.host) ?? 'unknown'} (its lsof run, not an import)`),
  ];
  const shows = live.length === 0 ? 'one import' : 'one snapshot\'s';
  return `this capture (sha256 ${sha256}) ${how.join(', and ')}: its items are in the case ${earlier.length + 1} times now (list --snapshot N shows ${shows})`;
}

/** The capture's absolute path, once it is known to be a regular file (checked before a case is created for it). */
export function captureFile(file: string): string {
  const absolute = absolutePath(file);
  let stat: fs.Stats;
  try {
    stat = fs.statSync(absolute);
  } catch (error) {
    throw new UnlinkedError('BAD_INPUT', `cannot read ${absolute}: ${errnoCode(error) === 'ENOENT' ? 'no such file' : (errnoCode(error) ?? String(error))}`);
  }
  if (!stat.isFile()) throw new UnlinkedError('BAD_INPUT', `${absolute} is not a regular file`);
  return absolute;
}

/** Bytes copied per read: a capture of hundreds of megabytes is copied in constant memory. */
const COPY_CHUNK = 1 << 20;

/**
 * Copy the capture into the case, telling a capture that cannot be read (BAD_INPUT) from a case
 * folder that cannot be written (read-only media, a full disk): each said as what it is, and where.
 */
function copyCapture(source: string, copy: string): void {
  const cannotRead = (error: unknown): UnlinkedError => new UnlinkedError('BAD_INPUT', `cannot read ${source}: ${errnoCode(error) === 'ENOENT' ? 'no such file' : (errnoCode(error) ?? oneLine(error))}`, { cause: error });
  const cannotWrite = (error: unknown): UnlinkedError =>
    new UnlinkedError('CASE', `cannot copy the capture into the case folder ${path.dirname(copy)}: ${cannotWriteWhy(error)} (the case keeps a copy of every capture it imports); nothing was imported`, { cause: error });
  let input: number;
  try {
    input = fs.openSync(source, 'r');
  } catch (error) {
    throw cannotRead(error);
  }
  try {
    let output: number;
    try {
      output = fs.openSync(copy, 'wx', fs.fstatSync(input).mode & 0o644);
    } catch (error) {
      throw cannotWrite(error);
    }
    try {
      const buffer = Buffer.allocUnsafe(COPY_CHUNK);
      for (;;) {
        let read: number;
        try {
          read = fs.readSync(input, buffer, 0, COPY_CHUNK, null);
        } catch (error) {
          throw cannotRead(error);
        }
        if (read === 0) break;
        try {
          for (let written = 0; written < read; ) written += fs.writeSync(output, buffer, written, read - written);
        } catch (error) {
          throw cannotWrite(error);
        }
      }
    } catch (error) {
      tryOr(() => fs.closeSync(output), undefined);
      throw error;
    }
    try {
      fs.closeSync(output); // a network file system may say only now that the bytes did not fit
    } catch (error) {
      throw cannotWrite(error);
    }
  } finally {
    fs.closeSync(input);
  }
}

/** lastStep: nothing but printing is left after the import's commit (a signal then no longer stops the run: util/interrupt.ts). */
export async function importLsof(db: Db, file: string, host: string | null, lsofDir: string, lastStep = false): Promise<ImportResult> {
  const absolute = captureFile(file);
  beginStep('the import under way is not stored (rolled back)');
  caseFolder(lsofDir);
  // The capture is copied into the case first, and that copy is what is parsed, hashed and kept: a
  // file still being written (or replaced) meanwhile cannot make the kept copy differ from its hash.
  const copy = path.join(lsofDir, `.import-${process.pid}-${Date.now()}.partial`);
  /** The capture's file in the case until the import is committed: the copy, then its kept name if this run made it. */
  let uncommitted: string | null = copy;
  const forget = (): void => {
    if (uncommitted !== null) fs.rmSync(uncommitted, { force: true });
  };
  // Stopped by a signal (the process exits without unwinding): that file goes, as in the finally below.
  const unhook = onSignalExit(forget);
  try {
    copyCapture(absolute, copy);
  } catch (error) {
    unhook();
    tryOr(() => fs.rmSync(copy, { force: true }), undefined);
    throw error;
  }
  beforeWrite(db);
  db.exec('BEGIN IMMEDIATE');
  try {
    const snapshotId = insertSnapshotRow(db, {
      source: 'lsof', host, bootId: null, kernel: null, toolVersion: TOOL_VERSION, startedAt: nowIso(), euid: process.geteuid?.() ?? null,
      importFile: absolute,
    });
    const ingested = await ingestLsofFile(db, snapshotId, copy, new LsofItemizer(db, snapshotId, false));
    // Not lsof output, nothing readable, or nothing that tells a deleted file: refused, no empty snapshot stored.
    const refused = captureRefusal(ingested, absolute, false);
    if (refused !== null) throw new UnlinkedError('BAD_INPUT', ingested.format === null ? refused : `${refused}: nothing imported`);
    const check = crossCheckLsof(db, snapshotId, false);
    // The database keeps the deleted-file records; the capture itself is kept whole, byte for byte.
    // (The name's part from the original is cut to 100 bytes: a file name has at most 255.)
    const kept = path.join(lsofDir, `import-${ingested.sha256.slice(0, 16)}-${path.basename(absolute).replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 100)}`);
    // The same capture imported before is there already under that name: kept once. The rename replaces
    // nothing else: a name with this hash prefix and base name holds these bytes.
    const keptBefore = fs.existsSync(kept);
    fs.renameSync(copy, kept);
    uncommitted = keptBefore ? null : kept;
    db.prepare(`UPDATE snapshots SET import_sha256 = ?, lsof_status = ? WHERE id = ?`).run(ingested.sha256, `kept as ${kept}`, snapshotId);
    const unreadable = ingested.unreadable;
    // Stored with the snapshot (first, before the line warnings it keeps 100 of), so every report says it too, not this run's stderr alone.
    const again = alreadyInCase(db, ingested.sha256, snapshotId);
    finishSnapshot(db, snapshotId, {
      lsofStatus: `imported ${ingested.format} output: ${ingested.records} records (${ingested.stored} of deleted files stored), ${unreadable} unreadable lines; capture kept as ${kept}`,
      warnings: [...(again === null ? [] : [again]), ...ingested.warnings.slice(0, 100).map((warning) => `line ${warning.line}: ${warning.message}`)],
    });
    // A Ctrl-C that came during a synchronous parse is handled here, before the commit: the import is
    // then not counted, as the message says (otherwise it would be said after the snapshot was stored).
    await commitStep(() => {
      db.exec('COMMIT');
      uncommitted = null;
    }, () => `snapshot ${snapshotId} (the import)`, lastStep);
    // Copies left by imports killed (SIGKILL) before they were stored, and captures of killed snapshots.
    sweepCaptureLeftovers(db, lsofDir);
    return { ...ingested, snapshotId, items: check.lsofOnly, unreadable, alreadyInCase: again };
  } catch (error) {
    if (db.inTransaction) db.exec('ROLLBACK');
    throw error;
  } finally {
    unhook();
    forget();
  }
}
