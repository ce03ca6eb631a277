// The numbers at the top of the HTML report and in triage's closing summary.
import type { Db } from '../store/db.js';
import { UNLISTED_SHOWN, shownCopy } from './rows.js';
import { SHOWN_INODES, correlate, sameFilesystemScans, scanWarningsCut } from '../store/images.js';
import { displayText } from '../util/bytes.js';
import { unreadSaid, type UnreadCounts } from '../store/snapshots.js';
import { flaggedProcesses, type FlaggedProcess } from '../store/processFlags.js';

/** How much of each end of a command's requests the summary reads (the HTML report shows the first and the last). */
const REQUEST_ENDS = 200;

export interface CaseSummary {
  hosts: string[];
  kernels: string[];
  snapshots: Array<{ id: number; source: string; host: string | null; started_at: string; finished_at: string | null; import_file: string | null; warnings: string[] }>;
  itemsByKind: Record<string, number>;
  items: number;
  procOnly: number;
  lsofOnly: number;
  both: number;
  recoveredComplete: number;
  recoveredIncomplete: number;
  notRecovered: number;
  images: number;
  /** Every scan of an image or device: what was read, its sha256 (and --verify's), when. */
  imageList: Array<{
    path: string; is_device: number; size: number | null; sha256: string | null; sha256_after: string | null; scanned_at: string;
    /** Each file system's warnings as its scan stored them (image_filesystems.error), `sector N: ...`, cut past 1000 characters. */
    warnings: string[];
  }>;
  imageInodes: { orphan: number; deleted: number; recoverable: number };
  /** The recoverable inodes (as the findings list them) by the status of their copy: complete, incomplete (a prefix kept), not copied (none yet, or refused: no file). */
  recoverableCopies: CopyCounts;
  /**
   * Copies of inodes that are not among the recoverable ones, apart: copied by their number (`image
   * extract --inode N`) when no scan listed them, or listed but not recoverable. Not copied: an
   * attempt that wrote no file (refused, nothing to copy).
   */
  otherCopies: CopyCounts;
  correlated: number;
  /** The processes holding items whose flags are not empty (processFlags.ts), by snapshot and pid. */
  flaggedProcesses: FlaggedProcess[];
  commands: Array<{
    program: string; version: string | null; argv: string; exit_code: number | null; error: string | null; started_at: string; finished_at: string | null;
    /** commands.requests, cut: its first and last REQUEST_ENDS characters and its count of requests (lines not comments); null for none. */
    requests: { head: string; tail: string; count: number } | null;
  }>;
}

export interface CopyCounts {
  complete: number;
  incomplete: number;
  notCopied: number;
}

/** SQL: the three counts of CopyCounts over extractions `e` (NULL: no attempt), as the findings' status says each. */
const COPY_COUNTS = `coalesce(sum(e.complete = 1), 0) AS complete, coalesce(sum(e.complete = 0 AND e.output IS NOT NULL), 0) AS incomplete,
  coalesce(sum(e.id IS NULL OR (e.complete = 0 AND e.output IS NULL)), 0) AS notCopied`;

export function caseSummary(db: Db): CaseSummary {
  const scans = sameFilesystemScans(db);
  // An image inode counts once however often its file system was scanned, as the findings list it.
  const shown = SHOWN_INODES.with;
  const count = (sql: string): number => (db.prepare(sql).get(...(sql.startsWith(shown) ? [scans] : [])) as { n: number }).n;
  const finished = `snapshot_id IN (SELECT id FROM snapshots WHERE finished_at IS NOT NULL)`;
  const itemsByKind: Record<string, number> = {};
  for (const row of db.prepare(`SELECT kind, count(*) AS n FROM items WHERE ${finished} GROUP BY kind ORDER BY kind`).all() as Array<{ kind: string; n: number }>) {
    itemsByKind[row.kind] = row.n;
  }
  const latest = shownCopy('recoveries', 'item_id', 'i.id');
  const scanWarnings = db.prepare(`SELECT offset_sectors, error FROM image_filesystems WHERE image_id = ? AND error IS NOT NULL ORDER BY offset_sectors, id`);
  // Snapshots whose lsof ran (src/proc/snapshot.ts writes "ran: N records, ..."), even when it listed
  // nothing: a process hiding its files from lsof is the case the /proc-only count is there for.
  const lsofRan = `snapshot_id IN (SELECT id FROM snapshots WHERE lsof_status LIKE 'ran%')`;
  return {
    hosts: (db.prepare(`SELECT DISTINCT host FROM snapshots WHERE host IS NOT NULL ORDER BY host`).all() as Array<{ host: string }>).map((row) => displayText(row.host)),
    kernels: (db.prepare(`SELECT DISTINCT kernel FROM snapshots WHERE kernel IS NOT NULL`).all() as Array<{ kernel: string }>).map((row) => row.kernel),
    snapshots: (db.prepare(`SELECT id, source, host, started_at, finished_at, import_file, warnings, processes_seen, processes_unreadable, processes_vanished
      FROM snapshots WHERE finished_at IS NOT NULL ORDER BY id`).all() as Array<Omit<CaseSummary['snapshots'][number], 'warnings'> & UnreadCounts & { warnings: string | null }>)
      // What the walk could not read comes first: "none found" is only among what was read.
      .map(({ processes_seen, processes_unreadable, processes_vanished, ...snapshot }) => ({
        ...snapshot, host: displayText(snapshot.host), import_file: displayText(snapshot.import_file),
        warnings: [...unreadSaid({ source: snapshot.source, processes_seen, processes_unreadable, processes_vanished }), ...warningList(snapshot.warnings)],
      })),
    itemsByKind,
    items: count(`SELECT count(*) AS n FROM items WHERE ${finished}`),
    procOnly: count(`SELECT count(*) AS n FROM items WHERE ${finished} AND in_proc = 1 AND in_lsof = 0 AND ${lsofRan}`),
    lsofOnly: count(`SELECT count(*) AS n FROM items WHERE ${finished} AND in_proc = 0 AND snapshot_id IN (SELECT id FROM snapshots WHERE source = 'proc')`),
    both: count(`SELECT count(*) AS n FROM items WHERE ${finished} AND in_proc = 1 AND in_lsof = 1`),
    recoveredComplete: count(`SELECT count(*) AS n FROM items i JOIN recoveries r ON r.id = ${latest} WHERE r.complete = 1`),
    // A copy that was not even started (refused: no room, another file system, a process gone) left
    // no file: it counts as not copied, as the findings show it, not as an incomplete copy.
    recoveredIncomplete: count(`SELECT count(*) AS n FROM items i JOIN recoveries r ON r.id = ${latest} WHERE r.complete = 0 AND r.output IS NOT NULL`),
    notRecovered: count(`SELECT count(*) AS n FROM items i LEFT JOIN recoveries r ON r.id = ${latest} WHERE ${finished} AND (r.id IS NULL OR (r.complete = 0 AND r.output IS NULL))`),
    // Images by their path, however often each was scanned.
    images: count(`SELECT count(DISTINCT path) AS n FROM images`),
    imageInodes: {
      orphan: count(`${shown} SELECT count(*) AS n FROM image_inodes n ${SHOWN_INODES.join} WHERE ${SHOWN_INODES.where} AND n.state = 'orphan'`),
      deleted: count(`${shown} SELECT count(*) AS n FROM image_inodes n ${SHOWN_INODES.join} WHERE ${SHOWN_INODES.where} AND n.state = 'deleted'`),
      recoverable: count(`${shown} SELECT count(*) AS n FROM image_inodes n ${SHOWN_INODES.join} WHERE ${SHOWN_INODES.where} AND n.recoverable = 1`),
    },
    // Inodes, not attempts, each by the copy its finding shows (SHOWN_INODES.extraction): counted as the findings' status says.
    recoverableCopies: db.prepare(`${shown} SELECT ${COPY_COUNTS} FROM image_inodes n ${SHOWN_INODES.join} LEFT JOIN extractions e ON e.id = ${SHOWN_INODES.extraction}
      WHERE ${SHOWN_INODES.where} AND n.recoverable = 1`).get(scans) as CopyCounts,
    otherCopies: sumCounts(
      db.prepare(`${shown} SELECT ${COPY_COUNTS} FROM image_inodes n ${SHOWN_INODES.join} JOIN extractions e ON e.id = ${SHOWN_INODES.extraction}
        WHERE ${SHOWN_INODES.where} AND n.recoverable = 0`).get(scans) as CopyCounts,
      db.prepare(`SELECT ${COPY_COUNTS} FROM extractions e WHERE ${UNLISTED_SHOWN}`).get() as CopyCounts,
    ),
    // The inodes shown that the findings name a holder of (held_by): correlate's matches, its rules
    // (by device for a file system without UUID, a clone's items left out) applied once, there.
    correlated: (db.prepare(`${shown} SELECT count(*) AS n FROM image_inodes n ${SHOWN_INODES.join} WHERE ${SHOWN_INODES.where} AND n.id IN (SELECT value FROM json_each(?))`)
      .get(scans, JSON.stringify(correlate(db).map((match) => match.image_inode_id))) as { n: number }).n,
    flaggedProcesses: flaggedProcesses(db, 'finished'),
    // In the order they started (tools run side by side; most rows are written as their command ends).
    // A scan's requests may be MBs (one per inode): only their ends and count are read here.
    commands: (db.prepare(`SELECT program, version, argv, exit_code, error, started_at, finished_at,
        substr(requests, 1, ${REQUEST_ENDS}) AS head, substr(requests, -${REQUEST_ENDS}) AS tail,
        length(requests) - length(replace(requests, char(10), '')) - (length(char(10) || requests) - length(replace(char(10) || requests, char(10) || '#', ''))) / 2 AS count
      FROM commands ORDER BY started_at, id`).all() as Array<Omit<CaseSummary['commands'][number], 'requests'> & { head: string | null; tail: string | null; count: number | null }>)
      .map(({ head, tail, count, ...command }) => ({ ...command, requests: head === null || tail === null ? null : { head, tail, count: count ?? 0 } })),
    imageList: (db.prepare(`SELECT id, path, is_device, size, sha256, sha256_after, scanned_at FROM images ORDER BY id`).all() as Array<Omit<CaseSummary['imageList'][number], 'warnings'> & { id: number }>)
      .map(({ id, ...image }) => ({
        ...image, path: displayText(image.path),
        warnings: (scanWarnings.all(id) as Array<{ offset_sectors: number; error: string }>)
          .map((fs) => `sector ${fs.offset_sectors}: ${scanWarningsCut(fs.error)}`),
      })),
  };
}

/** Each process of the items `where` (SQL over items) selects, once, with its flags: those that have any. */
function sumCounts(a: CopyCounts, b: CopyCounts): CopyCounts {
  return { complete: a.complete + b.complete, incomplete: a.incomplete + b.incomplete, notCopied: a.notCopied + b.notCopied };
}

/** A snapshot's warnings as stored (a JSON array of strings); anything else is one warning of its text. */
function warningList(stored: string | null): string[] {
  if (stored === null || stored === '') return [];
  try {
    const parsed = JSON.parse(stored) as unknown;
    return Array.isArray(parsed) ? parsed.map(String) : [stored];
  } catch {
    return [stored];
  }
}
