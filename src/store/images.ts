// Offline images in the case database: scans (images, image_filesystems, image_inodes), extractions,
// and their correlation with live items: the same file system UUID and inode number means "this
// inode was held open by that process at snapshot time". The live half and the offline half meet here.
import type { Db } from './db.js';
import { beforeWrite } from './lockWait.js';
import { nowIso } from './db.js';
import { displayBytes, displayText, textBase64 } from '../util/bytes.js';
import { BatchInsert, sqlInteger } from './batch.js';
import { floorSeconds } from '../util/time.js';
import { currentBootId } from './snapshots.js';
import { devicesSharingBytes } from '../util/blockDevices.js';
import { exactText, readU64, sqlU64, type U64 } from '../util/u64.js';

// ---------------------------------------------------------------------------------------------
// Writing a scan

export interface NewImageInode {
  inode: number;
  state: 'orphan' | 'deleted';
  /** Which sources named it: ils, orphan_chain, orphan_file (joined with +). */
  foundBy: readonly string[];
  /** i_size, exact: a bigint past 2^53 (stored as SQLite's signed 64 bits, see sqlU64). */
  size: U64 | null;
  mode: number | null;
  uid: number | null;
  gid: number | null;
  nlink: number | null;
  atime: number | null;
  mtime: number | null;
  ctime: number | null;
  crtime: number | null;
  dtime: number | null;
  recoverable: boolean;
  /** Data blocks the inode still lists; null when no tool could say. */
  blocks: number | null;
  lastName: Buffer | null;
  /** false: fls printed the name with '^' where a control byte may have been: not the exact bytes. */
  lastNameExact: boolean | null;
  /** The type of that name's directory entry as fls printed it (`r`, `d`, `l`, ..., `-` for none): TSK's bodyfile starts its mode with it; null without a name. */
  lastNameType: string | null;
  /** What a reader must know of the inode itself (all holes: see allHolesNote), else null. */
  note: string | null;
}

export interface NewFilesystem {
  offsetSectors: number;
  fsType: string | null;
  fsUuid: string | null;
  label: string | null;
  lastMountedAt: number | null;
  lastMountPoint: string | null;
  blockSize: number | null;
  inodeCount: number | null;
  orphanFile: boolean;
  lastOrphan: number | null;
  /** Why this file system was skipped or only partly read, plus warnings: null when all went well. */
  error: string | null;
  /** Not all of it was seen, or not all of the image (see scanProblems): stored as `partial`. */
  seenInPart: boolean;
  /** The block device holding it, when a device was scanned (filesystemDevice). */
  device: string | null;
  /** In inode order (a scan's ScannedInodes: millions of records, each made as it is read). */
  inodes: Iterable<NewImageInode>;
}

export interface NewScan {
  path: string;
  isDevice: boolean;
  size: number;
  sha256: string | null;
  sha256After: string | null;
  partitionTable: string | null;
  filesystems: readonly NewFilesystem[];
  /** An image file's mtime and ctime when the scan opened it (ns), and whether they and its size held. */
  mtimeNs: bigint | null;
  ctimeNs: bigint | null;
  unchangedAfter: boolean | null;
}

const INSERT_INODE = 'INSERT INTO image_inodes (filesystem_id, inode, state, found_by, size, mode, mode_string, uid, gid, nlink, atime, mtime, ctime, crtime, dtime, recoverable, blocks, last_name, last_name_exact, note, last_name_type)';

/** Everything of one scan in one transaction: a failed scan leaves nothing behind. */
export function storeScan(db: Db, scan: NewScan): number {
  const insertImage = db.prepare(
    `INSERT INTO images (path, is_device, size, sha256, sha256_after, scanned_at, partition_table, mtime_ns, ctime_ns, unchanged_after) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const insertFs = db.prepare(
    `INSERT INTO image_filesystems (image_id, offset_sectors, fs_type, fs_uuid, label, last_mounted_at, last_mount_point, block_size, inode_count, orphan_file, last_orphan, error, partial, device)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  beforeWrite(db);
  return db.transaction(() => {
    const imageId = Number(
      insertImage.run(
        scan.path, scan.isDevice ? 1 : 0, scan.size, scan.sha256, scan.sha256After, nowIso(), scan.partitionTable,
        scan.mtimeNs === null ? null : String(scan.mtimeNs), scan.ctimeNs === null ? null : String(scan.ctimeNs),
        scan.unchangedAfter === null ? null : scan.unchangedAfter ? 1 : 0,
      ).lastInsertRowid,
    );
    for (const fs of scan.filesystems) {
      const fsId = Number(
        insertFs.run(imageId, fs.offsetSectors, fs.fsType, fs.fsUuid, fs.label, fs.lastMountedAt, fs.lastMountPoint, fs.blockSize, fs.inodeCount,
          fs.orphanFile ? 1 : 0, fs.lastOrphan, fs.error, fs.seenInPart ? 1 : 0, fs.device).lastInsertRowid,
      );
      // Many rows per statement (10,000 deleted inodes: 75 -> 35 ms here), the file system's id written into them.
      const inodes = new BatchInsert(db, INSERT_INODE, `(${sqlInteger(fsId)}, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
      for (const inode of fs.inodes) {
        inodes.add(inode.inode, inode.state, inode.foundBy.join('+'), sqlU64(inode.size), inode.mode, inode.mode === null ? null : modeString(inode.mode),
          inode.uid, inode.gid, inode.nlink, inode.atime, inode.mtime, inode.ctime, inode.crtime, inode.dtime, inode.recoverable ? 1 : 0, inode.blocks, inode.lastName,
          inode.lastNameExact === null ? null : inode.lastNameExact ? 1 : 0, inode.note, inode.lastNameType);
      }
      inodes.flush();
    }
    if (!scan.isDevice && scan.unchangedAfter === true && scan.mtimeNs !== null && scan.ctimeNs !== null) {
      adoptCopiesByNumber(db, imageId, { path: scan.path, size: scan.size, mtimeNs: scan.mtimeNs, ctimeNs: scan.ctimeNs });
    }
    return imageId;
  }).immediate();
}

/**
 * Copies by number (`image extract --inode N`) made of this very image content before this scan of
 * it: the same path, size, mtime and ctime to the nanosecond (what the copy stored of the image:
 * extractions.image_size, image_mtime_ns, image_ctime_ns). This scan is the scan of the image as they
 * copied it: a copy of an inode it lists becomes a copy of that record (image_inode_id, image_id: one
 * finding, not two), one of an inode it does not list names it as its scan if it named none.
 */
function adoptCopiesByNumber(db: Db, imageId: number, image: { path: string; size: number; mtimeNs: bigint; ctimeNs: bigint }): void {
  db.prepare(
    `UPDATE extractions SET
       image_inode_id = (SELECT n.id FROM image_inodes n JOIN image_filesystems f ON f.id = n.filesystem_id
                         WHERE f.image_id = @imageId AND f.offset_sectors = extractions.offset_sectors AND n.inode = extractions.inode),
       image_id = CASE WHEN EXISTS (SELECT 1 FROM image_inodes n JOIN image_filesystems f ON f.id = n.filesystem_id
                         WHERE f.image_id = @imageId AND f.offset_sectors = extractions.offset_sectors AND n.inode = extractions.inode)
                  THEN @imageId ELSE coalesce(image_id, @imageId) END
     WHERE image_inode_id IS NULL AND image = @path AND image_size = @size AND image_mtime_ns = @mtimeNs AND image_ctime_ns = @ctimeNs`,
  ).run({ imageId, path: image.path, size: image.size, mtimeNs: String(image.mtimeNs), ctimeNs: String(image.ctimeNs) });
}

/** The image's sha256 read again after its scan (`--verify`; NULL until then, and without it). */
export function setImageHashAfter(db: Db, imageId: number, sha256After: string): void {
  beforeWrite(db);
  db.prepare(`UPDATE images SET sha256_after = ? WHERE id = ?`).run(sha256After, imageId);
}

/**
 * What `image scan` found of a file system once its scan was stored, by comparing it with the case's
 * live items (a copied-up overlay file that matches nothing, the same file system under another
 * UUID): added to that file system's warnings (image_filesystems.error), where the reports read them,
 * not said on stderr alone. Not a reason for `partial`: the file system was read whole.
 */
export function addScanWarnings(db: Db, imageId: number, warnings: ReadonlyArray<{ offsetSectors: number; warning: string }>): void {
  if (warnings.length === 0) return;
  beforeWrite(db);
  const add = db.prepare(`UPDATE image_filesystems SET error = CASE WHEN error IS NULL THEN ? ELSE error || '; ' || ? END WHERE image_id = ? AND offset_sectors = ?`);
  db.transaction(() => {
    for (const { offsetSectors, warning } of warnings) add.run(warning, warning, imageId, offsetSectors);
  }).immediate();
}

/** A reason found after the scan was stored (its second hash differs) that every file system of it was not read as one state: partial, said in its error. */
export function markScanPartial(db: Db, imageId: number, reason: string): void {
  beforeWrite(db);
  db.prepare(`UPDATE image_filesystems SET partial = 1, error = CASE WHEN error IS NULL THEN ? ELSE error || '; ' || ? END WHERE image_id = ?`).run(reason, reason, imageId);
}

/** `ls -l` style: "-rw-r--r--" (bodyfile and reports show it). */
export function modeString(mode: number): string {
  const types: Record<number, string> = { 0o100000: '-', 0o040000: 'd', 0o120000: 'l', 0o020000: 'c', 0o060000: 'b', 0o010000: 'p', 0o140000: 's' };
  return (types[mode & 0o170000] ?? '?') + permissionString(mode);
}

/** The nine permission characters as ls writes them, setuid, setgid and sticky included (rwsr-xr-t). */
export function permissionString(mode: number): string {
  const bit = (mask: number, char: string) => ((mode & mask) !== 0 ? char : '-');
  const special = (mask: number, executable: string, set: string) => ((mode & mask) === 0 ? executable : executable === 'x' ? set : set.toUpperCase());
  return bit(0o400, 'r') + bit(0o200, 'w') + special(0o4000, bit(0o100, 'x'), 's') +
    bit(0o040, 'r') + bit(0o020, 'w') + special(0o2000, bit(0o010, 'x'), 's') +
    bit(0o004, 'r') + bit(0o002, 'w') + special(0o1000, bit(0o001, 'x'), 't');
}

// ---------------------------------------------------------------------------------------------
// Correlation with live snapshots

/** A live item (deleted-but-open file of a finished snapshot) that matches an image inode. */
export interface LiveMatch {
  item_id: number;
  snapshot_id: number;
  pid: number;
  start_time: number | null;
  comm: string | null;
  fd: number | null;
  kind: string;
  /** Size at snapshot time (exact). */
  size: U64 | null;
}

export interface Correlation {
  image_inode_id: number;
  image_id: number;
  image: string;
  offset_sectors: number;
  fs_uuid: string | null;
  inode: number;
  state: 'orphan' | 'deleted';
  live: LiveMatch[];
  /** True when the match does not name one process holding one file: see reasons. */
  ambiguous: boolean;
  reasons: string[];
}

/** A live item an image inode may be the same file as: where it was (dev, in which boot) and when its file was born. */
export interface LiveCandidate extends LiveMatch {
  dev: string | null;
  btime_ns: string | null;
  /** The boot of the live snapshot that saw it (null: an lsof import, whose boot is not known). */
  boot_id: string | null;
}

/** The boot of a live item's snapshot (null for an lsof import), as a column of deleted_items i. */
const BOOT_OF_ITEM = `(SELECT s.boot_id FROM snapshots s WHERE s.id = i.snapshot_id AND s.source = 'proc') AS boot_id`;

/** The second a live file was born (its statx birth time, ns text, floored), as a scan's crtime counts it; null: not kept. */
export function bornSecond(btimeNs: string | null): number | null {
  if (btimeNs === null) return null;
  return Number(floorSeconds(BigInt(btimeNs)));
}

/**
 * The devices of live items that share a file system UUID within one boot (a cloned file system: two
 * devices with one UUID, whether one snapshot saw both or two snapshots one each), or null. Across
 * boots a device number may change (a reboot): that is the same file system. An lsof import's boot
 * is not known: its items count within their snapshot alone.
 */
export function cloneDevices(live: readonly LiveCandidate[]): Set<string> | null {
  const byBoot = new Map<string, Set<string>>();
  for (const match of live) {
    const boot = match.boot_id === null ? `snapshot ${match.snapshot_id}` : `boot ${match.boot_id}`;
    const devices = byBoot.get(boot) ?? new Set<string>();
    devices.add(match.dev ?? '?');
    byBoot.set(boot, devices);
  }
  return [...byBoot.values()].find((devices) => devices.size > 1) ?? null;
}

/**
 * Whether a live item is provably on another disk than the device examined: seen in this boot (a
 * device number names a disk only within one boot) on a block device (major 0 is an anonymous
 * device: btrfs, overlay...) that shares no bytes with it (see devicesSharingBytes, given as SHARING).
 */
export function onAnotherDisk(match: Pick<LiveCandidate, 'dev' | 'boot_id'>, sharing: ReadonlySet<string>, bootNow: string | null): boolean {
  return bootNow !== null && match.boot_id === bootNow && match.dev !== null && !match.dev.startsWith('0:') && !sharing.has(match.dev);
}

interface MatchRow extends LiveCandidate {
  image_inode_id: number;
  size_text: string | null;
}

interface CorrelatableRow {
  image_inode_id: number;
  image_id: number;
  image: string;
  offset_sectors: number;
  fs_uuid: string | null;
  device: string | null;
  inode: number;
  state: 'orphan' | 'deleted';
  size: U64 | null;
  size_text?: string | null;
  crtime: number | null;
}

/** The live snapshots of this boot (parameter: its boot id). */
const THIS_BOOT = `SELECT id FROM snapshots WHERE source = 'proc' AND boot_id = ?`;

/**
 * SQL: the live item `i` is on the file system with UUID `uuid` (an SQL expression), or, having no
 * UUID itself, on the block device `device` in this boot (the parameter after them: its boot id). A
 * file system without a UUID (NULL: none, or the nil one) matches by device alone: a device number
 * names a disk only within one boot (an import or an earlier boot's item with the same MAJ:MIN is
 * another disk); an image file has no device and matches nothing.
 */
function onFilesystem(uuid: string, device: string): string {
  // An item held through an overlay (a container's root) is on the file system of the overlay's
  // upper directory, with that file system's inode number, when the walk recorded one (upper_dev).
  return `(i.fs_uuid = ${uuid} OR (${device} IS NOT NULL AND i.fs_uuid IS NULL AND i.dev = ${device} AND i.snapshot_id IN (${THIS_BOOT})) OR ` +
    `i.upper_fs_uuid = ${uuid} OR (${device} IS NOT NULL AND i.upper_fs_uuid IS NULL AND i.upper_dev = ${device} AND i.snapshot_id IN (${THIS_BOOT})))`;
}

/** SQL: the device a live item's file is on: an overlay's upper directory's for an item held through one (see onFilesystem). */
const DEVICE_OF_ITEM = `COALESCE(i.upper_dev, i.dev) AS dev`;

/**
 * For each image inode (of one image, or of every image in the case) the live items on the same
 * file system (onFilesystem) with the same inode number, and whether that is ambiguous. Inodes
 * without a match are left out.
 */
export function correlate(db: Db, options: { imageId?: number } = {}): Correlation[] {
  const where = options.imageId === undefined ? '' : 'WHERE f.image_id = ?';
  const params = options.imageId === undefined ? [] : [options.imageId];
  // Device numbers name a disk in this boot of this host only: an item of an lsof import or of an
  // earlier boot with the same MAJ:MIN is another disk, and matches by UUID alone.
  const bootId = currentBootId();
  const bootNow = bootId ?? '';
  // What shares bytes with each device scanned (sysfs, asked once per device).
  const sharing = new Map<string, Set<string>>();
  const sharingWith = (device: string): Set<string> => {
    let found = sharing.get(device);
    if (found === undefined) sharing.set(device, (found = devicesSharingBytes(device)));
    return found;
  };
  const matches = db
    .prepare(
      `SELECT n.id AS image_inode_id, i.id AS item_id, i.snapshot_id, i.pid, i.start_time, i.comm, i.fd, i.kind, i.size, ${DEVICE_OF_ITEM}, i.btime_ns, ${BOOT_OF_ITEM},
              ${exactText('i.size', 'size_text')}
       FROM image_inodes n JOIN image_filesystems f ON f.id = n.filesystem_id
       JOIN deleted_items i ON i.inode = n.inode AND ${onFilesystem('f.fs_uuid', 'f.device')}
       ${where} ORDER BY n.id, i.snapshot_id, i.pid, i.fd`,
    )
    .all(bootNow, bootNow, ...params) as MatchRow[];
  if (matches.length === 0) return [];
  const byInode = new Map<number, LiveCandidate[]>();
  for (const { image_inode_id: id, size_text: sizeText, ...found } of matches) {
    const match = { ...found, size: readU64(found.size, sizeText) };
    const list = byInode.get(id);
    if (list === undefined) byInode.set(id, [match]);
    else list.push(match);
  }
  // The matched records alone (a scan of a big disk stores millions), in the order of the whole list.
  const rows = db
    .prepare(
      `SELECT n.id AS image_inode_id, f.image_id, im.path AS image, f.offset_sectors, f.fs_uuid, f.device, n.inode, n.state, n.size, n.crtime,
              ${exactText('n.size', 'size_text')}
       FROM image_inodes n JOIN image_filesystems f ON f.id = n.filesystem_id JOIN images im ON im.id = f.image_id
       WHERE n.id IN (SELECT value FROM json_each(?)) ORDER BY f.image_id, f.offset_sectors, n.inode`,
    )
    .all(JSON.stringify([...byInode.keys()])) as CorrelatableRow[];
  const result: Correlation[] = [];
  for (const stored of rows) {
    const matched = byInode.get(stored.image_inode_id);
    if (matched === undefined) continue;
    const row = { ...stored, size: readU64(stored.size, stored.size_text ?? null) };
    // A device scanned: in this boot, an item on another device number (one that shares no bytes with
    // it) is on another disk: with the same UUID a clone's file, not this one, even when none is on
    // this device. A live file system whose mount is gone (umount -l) has no UUID, only its device.
    const device = row.device;
    const candidates = device === null ? matched : matched.filter((match) => !onAnotherDisk(match, sharingWith(device), bootId));
    const clones = matched.length - candidates.length;
    // Only clones' items: no live item matches this inode (it is not listed as held).
    if (candidates.length === 0) continue;
    // Live files born at another second than this inode are other files given its number: left out
    // when some holder was born with it (image extract compares with those alone too).
    const bornWith = candidates.filter((match) => row.crtime === null || bornSecond(match.btime_ns) === null || bornSecond(match.btime_ns) === row.crtime);
    const live = bornWith.length > 0 ? bornWith : candidates;
    const reasons = ambiguity(row, live);
    const others = candidates.length - live.length;
    if (others > 0) reasons.push(`${others} other live item${others === 1 ? '' : 's'} on this inode number, born at another second: other files on a reused inode number, not listed`);
    if (clones > 0) reasons.push(`${clones} live item${clones === 1 ? '' : 's'} on this inode number of a file system with the same UUID on another device than ${row.device ?? '?'} in this boot (another disk: a clone), not listed`);
    result.push({
      image_inode_id: row.image_inode_id, image_id: row.image_id, image: row.image, offset_sectors: row.offset_sectors, fs_uuid: row.fs_uuid,
      inode: row.inode, state: row.state, live, ambiguous: reasons.length > 0, reasons,
    });
  }
  return result;
}

/** A live match as the JSON of image scan and of the JSON report name it. */
export function liveJson({ item_id, pid, comm, fd, snapshot_id, kind }: LiveMatch): Pick<LiveMatch, 'item_id' | 'pid' | 'comm' | 'fd' | 'snapshot_id' | 'kind'> {
  return { item_id, pid, comm, fd, snapshot_id, kind };
}

/** "pid 4242 (nginx) fd 3 in snapshot 1", "pid 7 (x) map in snapshot 1": a live match as the reports' held_by says it. */
export function heldByText({ pid, comm, fd, kind, snapshot_id }: LiveMatch): string {
  return `pid ${pid}${comm === null ? '' : ` (${comm})`}${fd === null ? ` ${kind}` : ` fd ${fd}`} in snapshot ${snapshot_id}`;
}

function ambiguity(row: CorrelatableRow, live: readonly LiveCandidate[]): string[] {
  const reasons: string[] = [];
  const processes = new Set(live.map((match) => `${match.pid}/${match.start_time ?? '?'}`));
  const snapshots = new Set(live.map((match) => match.snapshot_id));
  if (processes.size > 1) reasons.push(`held by ${processes.size} processes`);
  if (snapshots.size > 1) reasons.push(`seen in ${snapshots.size} snapshots`);
  if (row.state === 'deleted') reasons.push('freed in the image (deleted, not open): the inode number may have been reused since the snapshot');
  const sizes = new Set(live.map((match) => match.size).filter((size): size is U64 => size !== null));
  if (row.size !== null && sizes.size > 0 && !sizes.has(row.size)) {
    reasons.push(`size ${row.size} in the image, ${[...sizes].join('/')} at snapshot time: changed since, or another file on a reused inode`);
  }
  const born = new Set(live.map((match) => bornSecond(match.btime_ns)).filter((second): second is number => second !== null));
  if (row.crtime !== null && born.size > 0 && !born.has(row.crtime)) {
    reasons.push(`created at second ${row.crtime} in the image, the live file at ${[...born].join('/')}: another file on a reused inode number`);
  }
  const clone = cloneDevices(live);
  if (clone !== null) reasons.push(`live items on ${clone.size} devices (${[...clone].join(', ')}) in one boot share this file system UUID: a cloned file system`);
  return reasons;
}

/**
 * Live items on this file system with this inode number, as correlate matches them (onFilesystem):
 * by UUID; by the block device's MAJOR:MINOR, in this boot, for an item without a UUID (a device
 * number is reused: another disk attached there later, or in another boot, is another file system).
 */
export function liveItemsFor(db: Db, fsUuid: string | null, deviceId: string | null, inode: number): LiveCandidate[] {
  if (fsUuid === null && deviceId === null) return [];
  return (db
    .prepare(
      `SELECT i.id AS item_id, i.snapshot_id, i.pid, i.start_time, i.comm, i.fd, i.kind, i.size, ${DEVICE_OF_ITEM}, i.btime_ns, ${BOOT_OF_ITEM}, ${exactText('i.size', 'size_text')} FROM deleted_items i
       WHERE i.inode = ? AND ${onFilesystem('?', '?')} ORDER BY i.snapshot_id DESC, i.pid, i.fd`,
    )
    .all(inode, fsUuid, deviceId, deviceId, currentBootId() ?? '', fsUuid, deviceId, deviceId, currentBootId() ?? '') as Array<LiveCandidate & { size_text: string | null }>)
    .map(({ size_text: sizeText, ...candidate }) => ({ ...candidate, size: readU64(candidate.size, sizeText) }));
}

/** A complete /proc copy of a live item, as an image extraction is compared with it. */
export interface LiveCopy {
  item_id: number;
  snapshot_id: number;
  output: string | null;
  sha256: string;
  bytes: number;
}

/** Every complete /proc copy of any of these items, the newest first: what an image extraction is compared with. */
export function completeRecoveries(db: Db, itemIds: readonly number[]): LiveCopy[] {
  if (itemIds.length === 0) return [];
  return db
    .prepare(
      `SELECT r.item_id, i.snapshot_id, r.output, r.sha256, r.bytes FROM recoveries r JOIN items i ON i.id = r.item_id
       WHERE r.item_id IN (${itemIds.map(() => '?').join(',')}) AND r.sha256 IS NOT NULL AND r.complete = 1 ORDER BY r.id DESC`,
    )
    .all(...itemIds) as LiveCopy[];
}

// ---------------------------------------------------------------------------------------------
// Reading scans back as CONTRACT.md records

export interface ImageInodeJson {
  /** The image's path in the display form (as the JSON report's images[].path); its bytes in image_b64. */
  image: string;
  offset_sectors: number;
  fs_type: string | null;
  fs_uuid: string | null;
  inode: number;
  size: U64 | null;
  mode: number | null;
  uid: number | null;
  gid: number | null;
  atime: number | null;
  mtime: number | null;
  ctime: number | null;
  dtime: number | null;
  state: 'orphan' | 'deleted';
  recoverable: boolean;
  found_by: string;
  /** The name fls found for a deleted inode (display form), or null. */
  last_name: string | null;
  /** Its bytes (base64), as fls printed them (see last_name_exact), or null: what the JSON report has. */
  last_name_b64: string | null;
  /** Live items of the case on the same fs UUID with the same inode number. */
  live: Array<Pick<LiveMatch, 'item_id' | 'pid' | 'comm' | 'fd' | 'snapshot_id' | 'kind'>>;
  /** Several processes or snapshots, a freed inode whose number may have been reused, or sizes that disagree. */
  live_ambiguous: boolean;
  /** false: fls printed last_name with '^' for what may have been control bytes (TSK sanitizes them): not the exact name; null without a name. */
  last_name_exact: boolean | null;
  /** Why live_ambiguous is true (each reason a sentence); empty when it is false. */
  live_ambiguous_why: string[];
  /** Why the scan of this inode's file system is partial (scanNote), or null when it saw all of it. */
  scan_note: string | null;
  /** The image's path, its exact bytes (base64), as path_b64 is a live item's. */
  image_b64: string;
  /** What to know of the inode itself (an orphan all holes: its size read as zeros), or null. */
  note: string | null;
}

export interface ImageInodeRecord extends ImageInodeJson {
  image_inode_id: number;
  blocks: number | null;
  /** The file system's block size, the unit of `blocks` (null: not read). */
  block_size: number | null;
  nlink: number | null;
  /** When the inode was created (seconds; null: not kept), told apart from a live file's birth: a reused number. */
  crtime: number | null;
}

interface FilesystemRow {
  id: number; image: string; offset_sectors: number; fs_type: string | null; fs_uuid: string | null; block_size: number | null;
  fs_partial: number | null; fs_error: string | null;
}

interface InodeRow {
  id: number; inode: number; size: number | null; size_text: string | null; mode: number | null;
  uid: number | null; gid: number | null; atime: number | null; mtime: number | null; ctime: number | null; dtime: number | null; state: 'orphan' | 'deleted';
  recoverable: number; found_by: string; last_name: Buffer | null; last_name_exact: number | null; blocks: number | null; nlink: number | null;
  crtime: number | null; note: string | null;
}

/** The longest scan_note: a file system's error joins every warning of its scan (some are one per inode). */
const SCAN_NOTE_MAX = 1000;

/**
 * A record's `scan_note`: why the scan of its file system (image_filesystems.partial, .error) saw
 * it only in part, so that the exit 3 of a scan or an `extract --all` is said in its JSON, not on
 * stderr alone; null when it saw all of it (and for a scan made before `partial` was kept). Cut to
 * SCAN_NOTE_MAX characters: the whole is in image_filesystems.error.
 */
export function scanNote(offsetSectors: number, partial: number | null, error: string | null): string | null {
  if (partial !== 1) return null;
  const lead = `the scan of the file system at sector ${offsetSectors} is partial (inodes may be missing from its list, or not fully described)`;
  return error === null ? lead : `${lead}: ${scanWarningsCut(error)}`;
}

/** A file system's warnings as stored (image_filesystems.error), cut at a warning's end past SCAN_NOTE_MAX characters, saying where the rest is. */
export function scanWarningsCut(error: string): string {
  if (error.length <= SCAN_NOTE_MAX) return error;
  const boundary = error.lastIndexOf('; ', SCAN_NOTE_MAX);
  return `${error.slice(0, boundary > 0 ? boundary : SCAN_NOTE_MAX)}; ... (all of it in image_filesystems.error)`;
}

export function imageInodesOf(db: Db, imageId: number): ImageInodeRecord[] {
  return [...eachImageInode(db, imageId)];
}

/**
 * imageInodesOf one record at a time, as SQLite reads them: what prints them all holds one at a time,
 * not a million. File system by file system (a scan has one per offset), each one's inodes in the
 * order of its (filesystem_id, inode) index: one ORDER BY over the join made SQLite sort every row
 * first, each with its file system's error text, in memory (temp_store) — 1.1 GB for 500,000 inodes.
 */
export function* eachImageInode(db: Db, imageId: number): Generator<ImageInodeRecord> {
  // Read before the rows: the connection answers no other query while it steps through them.
  const correlations = new Map(correlate(db, { imageId }).map((entry) => [entry.image_inode_id, entry]));
  const filesystems = db
    .prepare(
      `SELECT f.id, im.path AS image, f.offset_sectors, f.fs_type, f.fs_uuid, f.block_size, f.partial AS fs_partial, f.error AS fs_error
       FROM image_filesystems f JOIN images im ON im.id = f.image_id WHERE im.id = ? ORDER BY f.offset_sectors, f.id`,
    )
    .all(imageId) as FilesystemRow[];
  const inodesOf = db.prepare(
    `SELECT n.id, n.inode, n.size, n.mode, n.uid, n.gid, n.atime, n.mtime, n.ctime, n.dtime, n.state,
            n.recoverable, n.found_by, n.last_name, n.last_name_exact, n.blocks, n.nlink, n.crtime, n.note,
            ${exactText('n.size', 'size_text')}
     FROM image_inodes n WHERE n.filesystem_id = ? ORDER BY n.inode`,
  );
  for (const fs of filesystems) {
    const image = displayText(fs.image);
    const imageB64 = textBase64(fs.image);
    const note = scanNote(fs.offset_sectors, fs.fs_partial, fs.fs_error);
    for (const row of inodesOf.iterate(fs.id) as IterableIterator<InodeRow>) {
      const correlation = correlations.get(row.id);
      yield {
        image_inode_id: row.id,
        image, offset_sectors: fs.offset_sectors, fs_type: fs.fs_type, fs_uuid: fs.fs_uuid, inode: row.inode, size: readU64(row.size, row.size_text), mode: row.mode,
        uid: row.uid, gid: row.gid, atime: row.atime, mtime: row.mtime, ctime: row.ctime, dtime: row.dtime, state: row.state, recoverable: row.recoverable === 1,
        found_by: row.found_by, last_name: row.last_name === null ? null : displayBytes(row.last_name),
        last_name_b64: row.last_name === null ? null : row.last_name.toString('base64'),
        live: (correlation?.live ?? []).map(liveJson),
        live_ambiguous: correlation?.ambiguous ?? false,
        last_name_exact: row.last_name === null || row.last_name_exact === null ? null : row.last_name_exact === 1,
        live_ambiguous_why: correlation?.reasons ?? [],
        scan_note: note,
        image_b64: imageB64,
        note: row.note,
        blocks: row.blocks, block_size: fs.block_size, nlink: row.nlink, crtime: row.crtime,
      };
    }
  }
}

/**
 * The newest scan of this image as it is now: the same path, size and (for an image file) mtime and
 * ctime to the nanosecond. A file copied over the image, or written to, since that scan is another
 * image: null, and the caller scans it again instead of extracting by an old inode list.
 */
export function latestImageId(db: Db, image: { path: string; size: number; stamp: { mtimeNs: bigint; ctimeNs: bigint } | null }): number | null {
  const row = db.prepare(
    `SELECT max(id) AS id FROM images WHERE path = ? AND size = ? AND mtime_ns IS ? AND ctime_ns IS ?`,
  ).get(image.path, image.size, image.stamp === null ? null : String(image.stamp.mtimeNs), image.stamp === null ? null : String(image.stamp.ctimeNs)) as { id: number | null };
  return row.id;
}

/** The file systems of a scan (offset, UUID, type, and why one was skipped). */
export function filesystemsOf(db: Db, imageId: number): Array<{ offset_sectors: number; fs_type: string | null; fs_uuid: string | null; error: string | null; partial: number | null }> {
  return db.prepare(`SELECT offset_sectors, fs_type, fs_uuid, error, partial FROM image_filesystems WHERE image_id = ? ORDER BY offset_sectors`).all(imageId) as Array<{
    offset_sectors: number; fs_type: string | null; fs_uuid: string | null; error: string | null; partial: number | null;
  }>;
}

// ---------------------------------------------------------------------------------------------
// What reports show: one finding per inode of each file system, however often it was scanned

interface ScannedFilesystem {
  id: number; path: string; is_device: number; offset_sectors: number; fs_type: string | null; fs_uuid: string | null; size: number | null; sha256: string | null;
  mtime_ns: string | null; ctime_ns: string | null;
}

/**
 * Every scanned file system's id, with the ids of all scans of the same file system (ascending, its
 * own included), as JSON for SHOWN_INODES. The same file system: the same image path (as stored: the
 * real path), the same kind (file or device), offset and UUID; for an image file also the same
 * content: the same size and mtime and ctime to the nanosecond (the image as it was, as `image
 * extract` finds "the image as it is now"), or the same sha256 (a copy put back). A device is read
 * as it is (a mounted one changes between scans): its latest scan is what it holds; another disk or
 * a new mkfs at that path has another UUID. A file system skipped (not ext) is never taken for
 * another, nor one without a UUID (the nil one) on a device; one in an image file is by its content.
 */
export function sameFilesystemScans(db: Db): string {
  const scanned = db.prepare(
    `SELECT f.id, im.path, im.is_device, f.offset_sectors, f.fs_type, f.fs_uuid, im.size, im.sha256, im.mtime_ns, im.ctime_ns
     FROM image_filesystems f JOIN images im ON im.id = f.image_id ORDER BY f.id`,
  ).all() as ScannedFilesystem[];
  const root = new Map<number, number>(scanned.map((fs) => [fs.id, fs.id]));
  const find = (id: number): number => {
    let at = id;
    while (root.get(at) !== at) at = root.get(at) ?? at;
    return at;
  };
  const sameContent = (a: ScannedFilesystem, b: ScannedFilesystem): boolean =>
    a.is_device === 1 ||
    (a.sha256 !== null && a.sha256 === b.sha256) ||
    (a.mtime_ns !== null && a.ctime_ns !== null && a.size === b.size && a.mtime_ns === b.mtime_ns && a.ctime_ns === b.ctime_ns);
  const byPlace = new Map<string, ScannedFilesystem[]>();
  for (const fs of scanned) {
    // Skipped (no type), or a device's without a UUID: nothing tells the disk at that path then from another.
    if (fs.fs_type === null || (fs.fs_uuid === null && fs.is_device === 1)) continue;
    const place = JSON.stringify([fs.path, fs.is_device, fs.offset_sectors, fs.fs_uuid]);
    const earlier = byPlace.get(place) ?? [];
    for (const other of earlier) if (sameContent(fs, other)) root.set(find(fs.id), find(other.id));
    earlier.push(fs);
    byPlace.set(place, earlier);
  }
  const members = new Map<number, number[]>();
  for (const fs of scanned) {
    const group = members.get(find(fs.id)) ?? [];
    group.push(fs.id);
    members.set(find(fs.id), group);
  }
  return JSON.stringify(Object.fromEntries(scanned.map((fs) => [fs.id, members.get(find(fs.id))])));
}

/**
 * SQL pieces for the image inodes a report shows, with `n` an image_inodes row and `s` its scans:
 * one row per inode of each file system (sameFilesystemScans, the one parameter of `with`): the one
 * of its latest scan that lists the inode. Every scan stays in the database; a rescan of the same
 * image must not list each inode twice, nor hide the copy made from the earlier scan's row.
 */
export const SHOWN_INODES = {
  with: `WITH scans(fs_id, members) AS (SELECT CAST(key AS INTEGER), value FROM json_each(?))`,
  join: `JOIN scans s ON s.fs_id = n.filesystem_id`,
  where: `NOT EXISTS (SELECT 1 FROM json_each(s.members) later JOIN image_inodes o ON o.filesystem_id = later.value AND o.inode = n.inode WHERE later.value > n.filesystem_id)`,
  /** The scan of that file system latest of all (which may not list this inode: freed since, or a scan that stopped part-way). */
  latestFs: `(SELECT max(value) FROM json_each(s.members))`,
  /** The extraction shown: the latest complete one of this inode from any scan of this file system, else the latest attempt. */
  extraction: `(SELECT x.id FROM json_each(s.members) m JOIN image_inodes o ON o.filesystem_id = m.value AND o.inode = n.inode
     JOIN extractions x ON x.image_inode_id = o.id ORDER BY x.complete DESC, x.id DESC LIMIT 1)`,
} as const;

// ---------------------------------------------------------------------------------------------
// Extractions

/** What a killed extraction leaves in its row: the copy is never counted, and says why. */
export const EXTRACTION_INTERRUPTED = 'interrupted: the copy did not finish';

export interface ExtractionStart {
  imageInodeId: number | null;
  /** The scan of the image as it was copied (see ExtractTarget.imageId), or null. */
  imageId: number | null;
  image: string;
  offsetSectors: number;
  inode: number;
  /** An image file (not mounted) as it was copied: a later scan of that very content is its scan (adoptCopiesByNumber); null for a device. */
  imageStamp: { size: number; mtimeNs: bigint; ctimeNs: bigint } | null;
}

export interface ExtractionEnd {
  output: string | null;
  bytes: number;
  sha256: string | null;
  complete: boolean;
  method: 'icat' | 'debugfs' | null;
  note: string | null;
  liveItemId: number | null;
  liveSha256Match: boolean | null;
}

/** The row goes in before the copy starts, marked interrupted, so a killed run is still on record. */
export function startExtraction(db: Db, start: ExtractionStart): number {
  beforeWrite(db);
  return Number(
    db
      .prepare(`INSERT INTO extractions (image_inode_id, image_id, image, offset_sectors, inode, complete, note, started_at, image_size, image_mtime_ns, image_ctime_ns)
        VALUES (?, ?, ?, ?, ?, 0, ?, ?, ?, ?, ?)`)
      .run(start.imageInodeId, start.imageId, start.image, start.offsetSectors, start.inode, EXTRACTION_INTERRUPTED, nowIso(),
        start.imageStamp?.size ?? null, start.imageStamp === null ? null : String(start.imageStamp.mtimeNs), start.imageStamp === null ? null : String(start.imageStamp.ctimeNs)).lastInsertRowid,
  );
}

/** The file being written, as soon as it exists (a killed run leaves its name in the row). */
export function extractionOutput(db: Db, id: number, output: string): void {
  beforeWrite(db);
  db.prepare(`UPDATE extractions SET output = ? WHERE id = ?`).run(output, id);
}

export function finishExtraction(db: Db, id: number, end: ExtractionEnd): void {
  beforeWrite(db);
  db.prepare(
    `UPDATE extractions SET output = ?, bytes = ?, sha256 = ?, complete = ?, method = ?, note = ?, live_item_id = ?, live_sha256_match = ?, finished_at = ? WHERE id = ?`,
  ).run(end.output, end.bytes, end.sha256, end.complete ? 1 : 0, end.method, end.note, end.liveItemId, end.liveSha256Match === null ? null : end.liveSha256Match ? 1 : 0, nowIso(), id);
}
