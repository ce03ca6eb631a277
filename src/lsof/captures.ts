// The case's lsof/ folder: the files a killed run leaves there (a live snapshot's capture,
// `live-TIME-PID.F0.txt`, or an import's copy, `.import-PID-MS.partial`) and that no row names.
import path from 'node:path';
import type { Db } from '../store/db.js';
import { sweepLeftovers } from '../util/leftovers.js';

const LEFTOVER = /^(?:live-[0-9TZ-]+-(\d+)\.F0\.txt|\.import-(\d+)-\d+\.partial)$/;

/**
 * Remove the captures and import copies in lsofDir of runs no longer running that no snapshot
 * names (compared by name: a case moved since names its captures by their old path).
 */
export function sweepCaptureLeftovers(db: Db, lsofDir: string): string[] {
  const named = new Set((db.prepare(`SELECT import_file FROM snapshots WHERE import_file IS NOT NULL`).pluck().all() as string[]).map((file) => path.basename(file)));
  return sweepLeftovers(lsofDir, {
    pattern: LEFTOVER,
    keep: (file) => named.has(path.basename(file)),
  });
}

