// One "finding" per live item and per image inode, built once and shared by every format.
import path from 'node:path';
import type { Db } from '../store/db.js';
import { displayBytes, displayCmdline, displayText } from '../util/bytes.js';
import { SHOWN_INODES, bornSecond, correlate, heldByText, sameFilesystemScans, scanNote } from '../store/images.js';
import { exactSignedText, exactText, readI64, readU64, type U64 } from '../util/u64.js';
import { processCommands, type ProcessCommand } from '../store/items.js';
import { processFlagReader, type ProcessFlag } from '../store/processFlags.js';


/** A live item with no copy attempt at all (a report written before the copies, or recover never run). */
const NO_COPY_YET = 'no copy made yet (recover not run on it, or stopped before it: a report written before the copies, as triage writes its first)';
/** An item of an lsof capture imported from elsewhere: recover refuses it (the process is not here to read). */
const IMPORTED_NO_COPY = 'no copy: an item of imported lsof output, which recover cannot copy here (only unlinked recover on its own host, while the process runs, can)';

export interface Finding {
  finding: 'live' | 'image';
  id: number;
  snapshot_id: number | null;
  host: string | null;
  pid: number | null;
  start_time: number | null;
  comm: string | null;
  kind: string;
  fd: number | null;
  path: string;
  path_b64: string;
  dev: string | null;
  inode: U64 | null;
  size: U64 | null;
  mode: number | null;
  uid: number | null;
  gid: number | null;
  /** Seconds since the epoch: a bigint past 2^53 either way (a live file's time set to 2^63 - 1, say). */
  atime: number | bigint | null;
  mtime: number | bigint | null;
  ctime: number | bigint | null;
  dtime: number | null;
  /** Creation (birth) time, where the file system keeps it: an image inode's, a live file's statx birth time; else null. */
  crtime: number | null;
  mount_point: string | null;
  fs_type: string | null;
  fs_uuid: string | null;
  source: string;
  /** not copied | complete | incomplete | unrecoverable */
  status: string;
  sha256: string | null;
  bytes: number | null;
  /** Path of the copy relative to the case directory (a link in the HTML report). */
  output: string | null;
  note: string | null;
  image: string | null;
  offset_sectors: number | null;
  state: string | null;
  recoverable: boolean | null;
  /** For image inodes: the live items that held the same fs UUID + inode. */
  held_by: string | null;
  /** A live item's process: its executable and command line (each argument in the display form, quoted where needed). */
  exe: string | null;
  cmdline: string | null;
  /**
   * The row's key, unique in a report: `live-ID` (items.id), `image-ID` (image_inodes.id), or
   * `extraction-ID` (extractions.id: an inode copied by its number that no scan listed). `finding`
   * and `id` alone are not unique: an extraction's id and an image inode's may be the same number.
   */
  key: string;
  /**
   * The scan of the image an image finding comes from: its images.id (the JSON report's images[].id),
   * the image's sha256 as that scan read it (null: not computed) and when it ran; for an inode copied
   * by its number that no scan listed, the case's scan of the image as it was copied, if any. Null for
   * a live item. Added after key: CSV readers that count columns keep working.
   */
  image_id: number | null;
  image_sha256: string | null;
  image_scanned_at: string | null;
  /**
   * What to know of a live item's process at a glance (processFlags.ts): each flag's code and one
   * line why; [] for none, null for an image finding. CSV: `CODE: WHY` joined by ` | `. Added last.
   */
  process_flags: ProcessFlag[] | null;
  /** Why a live item has no name (path ''): said in its note, and in the bodyfile's name; not a column. */
  nameMissing?: string | null;
  /** The type of an image inode's deleted name's directory entry, as fls printed it; '-' without a name; null: not stored (a scan before migration 12). The bodyfile's; not a column. */
  nameType?: string | null;
  /** An image inode with no name (path `<inode N>`, a placeholder): the bodyfile puts no mount point before it; not a column. */
  unnamed?: boolean;
}

export const FINDING_COLUMNS: ReadonlyArray<keyof Finding> = [
  'finding', 'id', 'snapshot_id', 'host', 'pid', 'start_time', 'comm', 'kind', 'fd', 'path', 'path_b64', 'dev', 'inode', 'size',
  'mode', 'uid', 'gid', 'atime', 'mtime', 'ctime', 'dtime', 'mount_point', 'fs_type', 'fs_uuid', 'source', 'status', 'sha256',
  'bytes', 'output', 'note', 'image', 'offset_sectors', 'state', 'recoverable', 'held_by',
  // Added later: last, so CSV readers that count columns keep working.
  'crtime', 'exe', 'cmdline', 'key', 'image_id', 'image_sha256', 'image_scanned_at', 'process_flags',
];

interface LiveRow {
  id: number; snapshot_id: number; host: string | null; pid: number; start_time: number | null; comm: string | null; kind: string;
  fd: number | null; path: Buffer; dev: string | null; inode: number | null; size: number | null; mode: number | null; uid: number | null;
  gid: number | null; atime: number | null; mtime: number | null; ctime: number | null; mount_point: Buffer | null; fs_type: string | null;
  fs_uuid: string | null; btime_ns: string | null; snapshot_source: string; in_proc: number; in_lsof: number; lsof_note: string | null; inode_text: string | null; size_text: string | null; thread_of: number | null;
  atime_text: string | null; mtime_text: string | null; ctime_text: string | null;
  read_error: string | null;
  r_output: string | null; r_bytes: number | null; r_sha256: string | null; r_complete: number | null; r_note: string | null;
}

interface ImageRow {
  id: number; image: string; offset_sectors: number; fs_uuid: string | null; inode: number; state: string; size: number | null; size_text: string | null;
  mode: number | null; uid: number | null; gid: number | null; atime: number | null; mtime: number | null; ctime: number | null;
  dtime: number | null; crtime: number | null; recoverable: number; last_name: Buffer | null; last_name_exact: number | null; last_name_type: string | null; fs_type: string | null;
  image_id: number; image_sha256: string | null; scanned_at: string; latest_scanned_at: string | null; n_note: string | null; fs_partial: number | null; fs_error: string | null;
  e_output: string | null; e_bytes: number | null; e_sha256: string | null; e_complete: number | null; e_note: string | null;
}

/** The kind of a finding that is an extraction of an inode no scan listed (no state, no metadata). */
export const UNLISTED_KIND = 'extracted';

/**
 * SQL (of extractions `e`): the extraction shown of an inode copied by its number that no scan listed,
 * one per image path, offset, inode and scan of the image as it was copied (extractions.image_id:
 * another content at that path is another finding): its latest complete copy, else its latest attempt.
 */
export const UNLISTED_SHOWN = `e.image_inode_id IS NULL AND e.id = (SELECT x.id FROM extractions x WHERE x.image_inode_id IS NULL AND x.image = e.image
      AND x.offset_sectors = e.offset_sectors AND x.inode = e.inode AND x.image_id IS e.image_id ORDER BY x.complete DESC, x.id DESC LIMIT 1)`;

interface UnlistedRow {
  id: number; image: string; offset_sectors: number; inode: number; output: string | null; bytes: number; sha256: string | null; complete: number; note: string | null;
  image_id: number | null; image_sha256: string | null; image_scanned_at: string | null;
}

/** Stream every finding: live items (with their latest recovery), then image inodes (with extraction and correlation). */
/**
 * The copy a report shows of an item or inode: its latest complete one, else its latest attempt (a
 * retry that failed, a process gone since, must not hide a good copy made before).
 */
export function shownCopy(table: 'recoveries' | 'extractions', column: 'item_id' | 'image_inode_id', owner: string): string {
  return `(SELECT id FROM ${table} WHERE ${column} = ${owner} ORDER BY complete DESC, id DESC LIMIT 1)`;
}

export function* findings(db: Db, caseDir: string): Generator<Finding> {
  const live = db.prepare(`
    SELECT i.id, i.snapshot_id, s.host, s.source AS snapshot_source, i.pid, i.start_time, i.comm, i.kind, i.fd, i.path, i.dev, i.inode, i.size, i.mode, i.uid, i.gid,
           i.atime, i.mtime, i.ctime, i.btime_ns, i.mount_point, i.fs_type, i.fs_uuid, i.in_proc, i.in_lsof, i.lsof_note,
           ${exactText('i.inode', 'inode_text')}, ${exactText('i.size', 'size_text')},
           ${exactSignedText('i.atime', 'atime_text')}, ${exactSignedText('i.mtime', 'mtime_text')}, ${exactSignedText('i.ctime', 'ctime_text')},
           r.output AS r_output, r.bytes AS r_bytes, r.sha256 AS r_sha256, r.complete AS r_complete, r.note AS r_note, p.thread_of,
           CASE WHEN length(i.path) = 0 THEN p.read_error END AS read_error
    FROM items i JOIN snapshots s ON s.id = i.snapshot_id
    LEFT JOIN processes p ON p.snapshot_id = i.snapshot_id AND p.pid = i.pid
    LEFT JOIN recoveries r ON r.id = ${shownCopy('recoveries', 'item_id', 'i.id')}
    WHERE s.finished_at IS NOT NULL
    ORDER BY i.snapshot_id, i.pid, i.kind, i.fd, i.id`);
  // A process's executable and command line, read and shown once per process (rows come by snapshot
  // and pid): a command line can be long, and 100,000 rows each reading it kept 60 MB more in memory.
  const commandOf = processCommands(db);
  const flagsOf = processFlagReader(db);
  let shown: { command: ProcessCommand | null; exe: string | null; cmdline: string | null } = { command: null, exe: null, cmdline: null };
  const processText = (snapshotId: number, pid: number): { exe: string | null; cmdline: string | null } => {
    const command = commandOf(snapshotId, pid);
    if (shown.command !== command) {
      shown = { command, exe: command.exe === null ? null : displayBytes(command.exe), cmdline: command.cmdline === null ? null : shownCmdline(command.cmdline) };
    }
    return shown;
  };
  for (const row of live.iterate() as IterableIterator<LiveRow>) {
    const { exe, cmdline } = processText(row.snapshot_id, row.pid);
    const sources = [row.in_proc ? 'proc' : null, row.in_lsof ? 'lsof' : null].filter(Boolean).join('+');
    const nameMissing = row.path.length === 0 ? missingName(row.fd, row.read_error) : null;
    yield {
      finding: 'live', id: row.id, snapshot_id: row.snapshot_id, host: displayText(row.host), pid: row.pid, start_time: row.start_time, comm: row.comm,
      kind: row.kind, fd: row.fd, path: displayBytes(row.path), path_b64: row.path.toString('base64'), dev: row.dev, inode: readU64(row.inode, row.inode_text),
      size: readU64(row.size, row.size_text), mode: row.mode, uid: row.uid, gid: row.gid,
      atime: readI64(row.atime, row.atime_text), mtime: readI64(row.mtime, row.mtime_text), ctime: readI64(row.ctime, row.ctime_text), dtime: null, crtime: bornSecond(row.btime_ns),
      mount_point: row.mount_point === null ? null : displayBytes(row.mount_point), fs_type: row.fs_type, fs_uuid: row.fs_uuid, source: sources,
      // A copy refused before it started (no room, another file system, a process gone) left no file: not copied.
      status: row.r_complete === null || (row.r_complete === 0 && row.r_output === null) ? 'not copied' : row.r_complete ? 'complete' : 'incomplete',
      sha256: row.r_sha256, bytes: row.r_bytes, output: relative(caseDir, row.r_output),
      note: [nameMissing, threadNote(row), row.r_complete === null ? (row.snapshot_source === 'lsof' ? IMPORTED_NO_COPY : NO_COPY_YET) : row.r_note, row.lsof_note].filter((part): part is string => part !== null).join('; ') || null,
      image: null, offset_sectors: null, state: null, recoverable: null, held_by: null,
      exe, cmdline, key: `live-${row.id}`, image_id: null, image_sha256: null, image_scanned_at: null, process_flags: flagsOf(row.snapshot_id, row.pid, row.comm), nameMissing,
    };
  }
  // One row per inode of each file system, however often it was scanned (SHOWN_INODES).
  const images = db.prepare(`
    ${SHOWN_INODES.with}
    SELECT n.id, im.path AS image, f.offset_sectors, f.fs_uuid, f.fs_type, n.inode, n.state, n.size, n.mode, n.uid, n.gid, n.atime, n.mtime,
           n.ctime, n.dtime, n.crtime, n.recoverable, n.last_name, n.last_name_exact, n.last_name_type, im.id AS image_id, im.sha256 AS image_sha256, im.scanned_at, ${exactText('n.size', 'size_text')},
           (SELECT li.scanned_at FROM image_filesystems lf JOIN images li ON li.id = lf.image_id WHERE lf.id = ${SHOWN_INODES.latestFs} AND lf.id != n.filesystem_id) AS latest_scanned_at,
           n.note AS n_note, f.partial AS fs_partial, f.error AS fs_error,
           e.output AS e_output, e.bytes AS e_bytes, e.sha256 AS e_sha256, e.complete AS e_complete, e.note AS e_note
    FROM image_inodes n ${SHOWN_INODES.join} JOIN image_filesystems f ON f.id = n.filesystem_id JOIN images im ON im.id = f.image_id
    LEFT JOIN extractions e ON e.id = ${SHOWN_INODES.extraction}
    WHERE ${SHOWN_INODES.where}
    ORDER BY ${SHOWN_INODES.latestFs}, n.inode`);
  // The live items each inode matches, as image scan says them; a match in doubt says so here too.
  const matched = new Map(correlate(db).map((match) => [match.image_inode_id, match]));
  for (const row of images.iterate(sameFilesystemScans(db)) as IterableIterator<ImageRow>) {
    const name = row.last_name === null ? `<inode ${row.inode}>` : displayBytes(row.last_name);
    const nameNote = lastNameNote(row.last_name, row.last_name_exact);
    const match = matched.get(row.id);
    const heldBy = match === undefined ? null : match.live.map(heldByText).join('; ') + (match.ambiguous ? ` (ambiguous: ${match.reasons.join('; ')})` : '');
    // An inode the latest scan of its file system did not list (freed and reused since, or a scan that stopped part-way).
    const olderScan = row.latest_scanned_at === null ? null : `as the scan of ${row.scanned_at} found it: the latest scan of this file system (${row.latest_scanned_at}) did not list it`;
    yield {
      finding: 'image', id: row.id, snapshot_id: null, host: null, pid: null, start_time: null, comm: null, kind: row.state, fd: null,
      path: name, path_b64: row.last_name === null || nameNote?.bytesUnknown === true ? '' : row.last_name.toString('base64'), dev: null, inode: row.inode, size: readU64(row.size, row.size_text),
      mode: row.mode, uid: row.uid, gid: row.gid, atime: row.atime, mtime: row.mtime, ctime: row.ctime, dtime: row.dtime, crtime: row.crtime, mount_point: null,
      fs_type: row.fs_type, fs_uuid: row.fs_uuid, source: 'image',
      // An attempt that wrote no file (unrecoverable, refused, failed) is no copy: "incomplete" is a prefix kept.
      status: row.e_complete === null || (row.e_complete === 0 && row.e_output === null) ? (row.recoverable ? 'not copied' : 'unrecoverable') : row.e_complete ? 'complete' : 'incomplete',
      sha256: row.e_sha256, bytes: row.e_bytes, output: relative(caseDir, row.e_output),
      // The scan's own note on the inode (an all-holes orphan) unless its copy's note already says it, and why its scan was partial.
      note: [row.e_note, row.n_note !== null && row.e_note?.includes(row.n_note) !== true ? row.n_note : null, nameNote?.text ?? null, olderScan,
        scanNote(row.offset_sectors, row.fs_partial, row.fs_error)].filter((part): part is string => part !== null).join('; ') || null, image: displayText(row.image),
      offset_sectors: row.offset_sectors, state: row.state, recoverable: row.recoverable === 1, held_by: heldBy, exe: null, cmdline: null, key: `image-${row.id}`,
      image_id: row.image_id, image_sha256: row.image_sha256, image_scanned_at: row.scanned_at, process_flags: null, nameType: row.last_name === null ? '-' : row.last_name_type, unnamed: row.last_name === null,
    };
  }
  // Inodes extracted by number (`image extract --inode N`) that no scan of the case listed, a live
  // file on a device say: their copies are findings too, once per inode of an image and offset as it
  // was copied (UNLISTED_SHOWN). Nothing more is known of them here.
  const unlisted = db.prepare(`
    SELECT e.id, e.image, e.offset_sectors, e.inode, e.output, e.bytes, e.sha256, e.complete, e.note, e.image_id, im.sha256 AS image_sha256, im.scanned_at AS image_scanned_at
    FROM extractions e LEFT JOIN images im ON im.id = e.image_id
    WHERE ${UNLISTED_SHOWN}
    ORDER BY e.image, e.offset_sectors, e.inode, e.image_id`);
  for (const row of unlisted.iterate() as IterableIterator<UnlistedRow>) {
    yield {
      finding: 'image', id: row.id, snapshot_id: null, host: null, pid: null, start_time: null, comm: null, kind: UNLISTED_KIND, fd: null,
      path: `<inode ${row.inode}>`, path_b64: '', dev: null, inode: row.inode, size: null, mode: null, uid: null, gid: null, atime: null, mtime: null,
      ctime: null, dtime: null, crtime: null, mount_point: null, fs_type: null, fs_uuid: null, source: 'image',
      status: row.complete === 1 ? 'complete' : row.output === null ? 'not copied' : 'incomplete', sha256: row.sha256, bytes: row.bytes, output: relative(caseDir, row.output),
      note: [row.note, 'extracted by its number (image extract --inode) when no scan of the image as it was then listed it (id is the extraction\'s)'].filter((part): part is string => part !== null).join('; '),
      image: displayText(row.image), offset_sectors: row.offset_sectors, state: null, recoverable: null, held_by: null, exe: null, cmdline: null,
      key: `extraction-${row.id}`, image_id: row.image_id, image_sha256: row.image_sha256, image_scanned_at: row.image_scanned_at, process_flags: null,
    };
  }
}


/**
 * What a report says of a last name fls gave that is not known exactly. fls prints every control
 * byte of a name as '^': a name holding '^' may hold other bytes there (its bytes are unknown, so no
 * path_b64 claims them); a name without one is exact, but one of several names of a reused inode.
 */
/**
 * Why a live item has no name: the walk could not read its fd's link (a path longer than PATH_MAX:
 * readlink fails with ENAMETOOLONG) and said so in processes.read_error. No path is made up for it.
 */
function missingName(fd: number | null, readError: string | null): string {
  const code = fd === null ? undefined : readError?.split('; ').map((part) => new RegExp(`^fd ${fd}: readlink (\\S+):`).exec(part)?.[1]).find((found) => found !== undefined);
  if (code === undefined) return 'no name: none was recorded for this item';
  return `no name: its fd's link could not be read (readlink ${code}${code === 'ENAMETOOLONG' ? ': a path longer than PATH_MAX, 4096 bytes' : ''}; processes.read_error)`;
}

/** pid is a thread's TID when the file is in that thread's own fd table: said, with its process. */
function threadNote(row: { pid: number; thread_of: number | null }): string | null {
  return row.thread_of === null ? null : `held by thread ${row.pid} of process ${row.thread_of} in an fd table of its own (unshare(CLONE_FILES)), not the process's`;
}

export function lastNameNote(lastName: Buffer | null, lastNameExact: number | null): { text: string; bytesUnknown: boolean } | null {
  if (lastName === null || lastNameExact !== 0) return null;
  if (lastName.includes(0x5e)) return { text: "last name as fls printed it: '^' stands for a control byte, not the exact bytes", bytesUnknown: true };
  // Which of the two (the scan's warnings say) is not stored: the note names both.
  return {
    text: 'not known to be its last name: one of several deleted names fls found for this reused inode, or a stale copy its directory lost before the inode was freed ' +
      "(an earlier file's name on this inode, or an older name of this one); the scan's warnings say which",
    bytesUnknown: false,
  };
}

/** Shown per item, in CSV and HTML: a command line (a Java class path) can be hundreds of KB, repeated for each item of its process. */
const CMDLINE_SHOWN = 4096;

function shownCmdline(cmdline: Buffer): string {
  const text = displayCmdline(cmdline);
  return text.length <= CMDLINE_SHOWN ? text : `${text.slice(0, CMDLINE_SHOWN)}... (cut: ${cmdline.length} bytes in all, in processes.cmdline)`;
}

function relative(caseDir: string, output: string | null): string | null {
  const now = currentOutput(caseDir, output);
  return now === null ? null : path.relative(caseDir, now);
}

/**
 * Where a stored copy is now. recoveries.output and extractions.output are the absolute paths the
 * copies were written to; a case folder moved or copied since (to an examiner's machine, an archive)
 * still holds them under its recovered/ and extracted/, so the part from the last such segment is
 * put on the current case directory. A path not under one of them is kept as it is.
 */
export function currentOutput(caseDir: string, output: string | null): string | null {
  if (output === null) return null;
  const at = Math.max(output.lastIndexOf('/recovered/'), output.lastIndexOf('/extracted/'));
  return at < 0 ? output : path.join(caseDir, output.slice(at + 1));
}
