// Scan a raw image or device for orphan inodes (open-but-unlinked when the image was taken) and
// deleted inodes, partition by partition, and store what was found in one transaction.
import { UnlinkedError, oneLine } from '../errors.js';
import type { CommandRecorder } from '../exec/run.js';
import type { Db } from '../store/db.js';
import { nowIso } from '../store/db.js';
import { parseFsstat } from '../../parsers/fsstat.js';
import { parseIls, type IlsInode } from '../../parsers/ils.js';
import { parseFls } from '../../parsers/fls.js';
import { parseIstat, type IstatInfo } from '../../parsers/istat.js';
import { parseOrphanFile } from '../../parsers/orphanFile.js';
import type { ExtSuperblock } from '../../parsers/extSuperblock.js';
import { fls, fsstat, icat, ils, istat, mmls } from '../tools/tsk.js';
import { debugfsLsdel, debugfsStat } from '../tools/debugfs.js';
import { hashImage, openImageSource, readSuperblock, type ImageSource } from './source.js';

export interface ScannedInode {
  inode: number;
  state: 'orphan' | 'deleted';
  foundBy: string[];
  size: number | null;
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
  blocks: number;
  lastName: Buffer | null;
}

export interface ScannedFs {
  offsetSectors: number;
  fsType: string | null;
  superblock: ExtSuperblock | null;
  lastMountedAt: number | null;
  error: string | null;
  /** The partition holds no ext file system at all (swap, empty, another type): skipped, not failed. */
  notExt: boolean;
  inodes: ScannedInode[];
  warnings: string[];
}

export interface ScanResult {
  imageId: number;
  source: ImageSource;
  sha256: string;
  partitionTable: string | null;
  filesystems: ScannedFs[];
}

/** An orphan chain longer than this is corrupt (and would otherwise make us loop). */
const MAX_CHAIN = 100_000;

export async function scanImage(db: Db, image: string, offset: number | undefined, recorder: CommandRecorder): Promise<ScanResult> {
  const source = openImageSource(image);
  if (offset !== undefined && offset * 512 >= source.size) {
    throw new UnlinkedError('BAD_INPUT', `offset ${offset} sectors is past the end of ${source.path} (${Math.floor(source.size / 512)} sectors)`);
  }
  // Hash while the tools read: the two overlap on separate cores instead of adding up.
  const hashing = hashImage(source);
  hashing.catch(() => undefined);
  let partitionTable: string | null = null;
  let offsets: number[];
  if (offset !== undefined) {
    offsets = [offset];
  } else {
    const table = await mmls(source.path, recorder);
    partitionTable = table?.table ?? null;
    offsets = table === null ? [0] : table.records.filter((part) => part.allocated).map((part) => part.start);
    if (offsets.length === 0) throw new UnlinkedError('BAD_INPUT', `${source.path}: the partition table lists no partition`);
  }
  const filesystems: ScannedFs[] = [];
  for (const start of offsets) {
    const scanned = await scanFilesystem(source, start, recorder);
    // A named offset or a bare image must be a file system; a partition of a table may be swap.
    if (scanned.error !== null && (offset !== undefined || partitionTable === null)) {
      throw new UnlinkedError('BAD_INPUT', `${source.path}${start === 0 ? '' : ` at sector ${start}`}: ${scanned.error}`);
    }
    filesystems.push(scanned);
  }
  const sha256 = await hashing;
  const imageId = storeScan(db, source, sha256, partitionTable, filesystems);
  return { imageId, source, sha256, partitionTable, filesystems };
}

async function scanFilesystem(source: ImageSource, offset: number, recorder: CommandRecorder): Promise<ScannedFs> {
  const scanned: ScannedFs = { offsetSectors: offset, fsType: null, superblock: null, lastMountedAt: null, error: null, notExt: false, inodes: [], warnings: [] };
  const superblock = readSuperblock(source, offset);
  if (superblock === null) {
    scanned.error = 'no ext2/3/4 file system here (no superblock magic 0xEF53): not a file system, a clobbered superblock, or another file system type';
    scanned.notExt = true;
    return scanned;
  }
  scanned.superblock = superblock;
  scanned.lastMountedAt = superblock.lastMountTime === 0 ? null : superblock.lastMountTime;
  try {
    scanned.fsType = parseFsstat(await fsstat(source.path, offset, recorder)).fsType?.toLowerCase() ?? null;
  } catch (error) {
    // The superblock is sound (we read it): carry on with what it says, and say what fsstat did.
    scanned.warnings.push(`fsstat failed (${oneLine(error)}); file system type taken from the superblock`);
    scanned.fsType = superblock.extents ? 'ext4' : superblock.hasJournal ? 'ext3' : 'ext2';
  }
  const orphans = new Map<number, ScannedInode>();
  const blank = (inode: number, state: 'orphan' | 'deleted'): ScannedInode => ({
    inode, state, foundBy: [], size: null, mode: null, uid: null, gid: null, nlink: null, atime: null, mtime: null, ctime: null, crtime: null, dtime: null,
    recoverable: false, blocks: 0, lastName: null,
  });
  const fromIls = (record: IlsInode, state: 'orphan' | 'deleted', by: string): ScannedInode => ({
    ...blank(record.inode, state), foundBy: [by], size: record.size, uid: record.uid, gid: record.gid, nlink: record.nlink, atime: record.atime,
    mtime: record.mtime, ctime: record.ctime, crtime: record.crtime === 0 ? null : record.crtime, mode: record.perms,
  });

  // 1. Allocated inodes without a link: open-but-unlinked at imaging time. Inode 1 (bad blocks) is reserved.
  const allocatedUnlinked = parseIls(await ils(source.path, offset, ['-a', '-L'], recorder));
  for (const warning of allocatedUnlinked.warnings) scanned.warnings.push(`ils line ${warning.line}: ${warning.message}`);
  for (const record of allocatedUnlinked.records) {
    if (record.inode <= 1) continue;
    orphans.set(record.inode, fromIls(record, 'orphan', 'ils'));
  }
  // 2. The s_last_orphan chain: each orphan's dtime field holds the next one.
  const seen = new Set<number>();
  for (let inode = superblock.lastOrphan; inode !== 0; ) {
    if (seen.has(inode)) {
      scanned.warnings.push(`orphan chain loops back to inode ${inode}: stopped`);
      break;
    }
    if (inode > superblock.inodesCount || seen.size >= MAX_CHAIN) {
      scanned.warnings.push(`orphan chain points at inode ${inode}, outside 1..${superblock.inodesCount}: stopped`);
      break;
    }
    seen.add(inode);
    const existing = orphans.get(inode) ?? blank(inode, 'orphan');
    existing.foundBy.push('orphan_chain');
    orphans.set(inode, existing);
    try {
      inode = (await debugfsStat(source.path, offset, inode, recorder)).dtimeRaw;
    } catch (error) {
      scanned.warnings.push(`cannot follow the orphan chain past inode ${inode}: ${oneLine(error)}`);
      break;
    }
  }
  // 3. The orphan_file (ext4 orphan_file feature): TSK and debugfs 1.47.0 do not read it.
  if (superblock.orphanFileInode !== null && superblock.orphanFileInode !== 0) {
    try {
      const content = await icat(source.path, offset, superblock.orphanFileInode, null, recorder);
      const parsed = parseOrphanFile(content, superblock.blockSize);
      for (const warning of parsed.warnings) scanned.warnings.push(warning.message);
      for (const slot of parsed.records) {
        const existing = orphans.get(slot.inode) ?? blank(slot.inode, 'orphan');
        existing.foundBy.push('orphan_file');
        orphans.set(slot.inode, existing);
      }
    } catch (error) {
      scanned.warnings.push(`cannot read the orphan file (inode ${superblock.orphanFileInode}): ${oneLine(error)}`);
    }
  }
  // 4. Deleted inodes: unallocated but once used; their last names from fls.
  const deleted = new Map<number, ScannedInode>();
  const removed = parseIls(await ils(source.path, offset, ['-r'], recorder));
  for (const warning of removed.warnings) scanned.warnings.push(`ils line ${warning.line}: ${warning.message}`);
  for (const record of removed.records) {
    if (record.inode <= 1 || orphans.has(record.inode)) continue;
    deleted.set(record.inode, fromIls(record, 'deleted', 'ils'));
  }
  if (deleted.size > 0) {
    for (const entry of parseFls(await fls(source.path, offset, recorder)).records) {
      const target = deleted.get(entry.inode);
      if (target !== undefined && !entry.virtual && target.lastName === null) target.lastName = Buffer.from(entry.name, 'latin1');
    }
    // One lsdel pass says which deleted inodes still own blocks (ext4 zeroes them; ext2 keeps them).
    try {
      const lsdel = await debugfsLsdel(source.path, offset, recorder);
      for (const entry of lsdel.records) {
        const target = deleted.get(entry.inode);
        if (target === undefined) continue;
        target.recoverable = entry.blocks > 0;
        target.blocks = entry.blocks;
        target.mode = entry.mode;
        target.dtime = entry.deleted;
      }
    } catch (error) {
      scanned.warnings.push(`debugfs lsdel failed, deleted inodes are marked unrecoverable: ${oneLine(error)}`);
    }
  }
  // 5. istat each orphan (few): does it still point at data blocks, and its full mode.
  for (const found of orphans.values()) {
    let details: IstatInfo;
    try {
      details = parseIstat(await istat(source.path, offset, found.inode, recorder));
    } catch (error) {
      scanned.warnings.push(`istat of inode ${found.inode} failed: ${oneLine(error)}`);
      continue;
    }
    found.blocks = details.blocks;
    found.recoverable = details.blocks > 0 || details.size === 0;
    found.mode = details.mode ?? found.mode;
    found.size = details.size ?? found.size;
    found.nlink = details.nlink ?? found.nlink;
    found.uid = details.uid ?? found.uid;
    found.gid = details.gid ?? found.gid;
  }
  scanned.inodes = [...orphans.values(), ...deleted.values()].sort((a, b) => a.inode - b.inode);
  return scanned;
}

function storeScan(db: Db, source: ImageSource, sha256: string, partitionTable: string | null, filesystems: readonly ScannedFs[]): number {
  return db.transaction(() => {
    const imageId = Number(
      db.prepare(`INSERT INTO images (path, is_device, size, sha256, sha256_after, scanned_at, partition_table) VALUES (?, ?, ?, ?, ?, ?, ?)`)
        .run(source.path, source.isDevice ? 1 : 0, source.size, sha256, null, nowIso(), partitionTable).lastInsertRowid,
    );
    const insertFs = db.prepare(
      `INSERT INTO image_filesystems (image_id, offset_sectors, fs_type, fs_uuid, label, last_mounted_at, last_mount_point, block_size, inode_count, orphan_file, last_orphan, error)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    const insertInode = db.prepare(
      `INSERT INTO image_inodes (filesystem_id, inode, state, found_by, size, mode, uid, gid, nlink, atime, mtime, ctime, crtime, dtime, recoverable, blocks, last_name)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    for (const fs of filesystems) {
      const sb = fs.superblock;
      const fsId = Number(
        insertFs.run(imageId, fs.offsetSectors, fs.fsType, sb?.uuid ?? null, sb?.volumeName || null, fs.lastMountedAt, sb?.lastMountPoint || null, sb?.blockSize ?? null,
          sb?.inodesCount ?? null, sb?.orphanFileInode ? 1 : 0, sb?.lastOrphan ?? null, fs.error ?? (fs.warnings.length > 0 ? fs.warnings.join('; ') : null)).lastInsertRowid,
      );
      for (const inode of fs.inodes) {
        insertInode.run(fsId, inode.inode, inode.state, inode.foundBy.join('+'), inode.size, inode.mode, inode.uid, inode.gid, inode.nlink, inode.atime, inode.mtime,
          inode.ctime, inode.crtime, inode.dtime, inode.recoverable ? 1 : 0, inode.blocks, inode.lastName);
      }
    }
    return imageId;
  }).immediate();
}
