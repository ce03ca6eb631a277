// Which inodes an `image extract` copies, and what is known about each before copying: the newest
// scan of the image when it has them, else one debugfs stat batch (a live file on a device, say).
import { UnlinkedError, oneLine, usageError } from '../errors.js';
import type { CommandRecorder } from '../exec/run.js';
import type { Db } from '../store/db.js';
import { filesystemsOf, imageInodesOf, latestImageId, type ImageInodeRecord } from '../store/images.js';
import { debugfsInodeDumps, debugfsStatMany } from '../tools/debugfs.js';
import { hasNoFileType, isEaInode, isEncrypted, kernelTimes, needsRawTimes, type DebugfsInode } from '../../parsers/debugfsStats.js';
import { EA_INODE_NOTE, changedBeforeMkfs, earlierFsWhy, emptiedInlineWhy, encryptedNote, noBlocksWhy } from './inodeNotes.js';
import { extType } from '../../parsers/extSuperblock.js';
import { specialFileType } from '../util/mode.js';
import { ilsAllocation } from '../tools/ils.js';
import { mmls } from '../tools/mmls.js';
import { readTable } from './partitions.js';
import type { ExtractTarget } from './extract.js';
import { FIRST_ORDINARY_INODE, allHolesNote, scanImage, scanProblems } from './scan.js';
import { backupSuperblockAt, checkOffset, mountedAsOtherType, readSuperblock, type ImageSource } from './source.js';

export interface TargetChoice {
  targets: ExtractTarget[];
  /** Said on stderr: a scan had to run first, an inode is not an orphan, ... */
  notes: string[];
  /** The warnings of the scan made first, or of the case's scan used when it saw the image only in part. */
  warnings: string[];
  /** That scan is partly done: so is the extraction. */
  partial: boolean;
}

const fromRecord = (record: ImageInodeRecord, imageId: number): ExtractTarget => {
  // The note of a record not recoverable starts with why (an inline inode emptied, say): said as the reason.
  const why = record.blocks !== null && !record.recoverable && specialFileType(record.mode) === null ? record.note : null;
  return {
    offsetSectors: record.offset_sectors, inode: record.inode, size: record.size,
    // A scan that could not describe the inode (blocks null) does not know: icat is tried, and judged.
    recoverable: record.blocks === null ? null : record.recoverable,
    state: record.state, blocks: record.blocks, blockSize: record.block_size, mode: record.mode,
    fsUuid: record.fs_uuid, imageInodeId: record.image_inode_id, imageId, crtime: record.crtime, unrecoverableWhy: why, scanNote: record.scan_note,
    // What the scan said of the inode itself (all holes, encrypted) goes with its copy.
    ...(record.note === null || why !== null ? {} : { note: record.note }),
  };
};

/**
 * The newest scan of the image as it is now (latestImageId), whose file systems still carry the
 * UUIDs it found: a device keeps no mtime, and another disk attached at the same path (a loop
 * device set up again, /dev/sdb swapped) is another image, whose inodes the old list does not name.
 */
function currentScanId(db: Db, source: ImageSource): number | null {
  // A mounted device changes while it is read: an older scan's inodes and sizes are already out of date.
  if (source.mounted) return null;
  const imageId = latestImageId(db, source);
  if (imageId === null) return null;
  // One the scan skipped (no type) is not compared; one without a UUID (nil) must have none still.
  const same = filesystemsOf(db, imageId).every((scanned) => {
    if (scanned.fs_type === null) return true;
    const now = readSuperblock(source, scanned.offset_sectors);
    return now !== null && now.uuid === scanned.fs_uuid;
  });
  return same ? imageId : null;
}

/** --all: every orphan, and every deleted inode that still points at data, of the newest scan (made now if there is none). */
export async function allTargets(db: Db, source: ImageSource, offset: number | undefined, recorder: CommandRecorder, workDir: string): Promise<TargetChoice> {
  checkOffset(source, offset);
  const notes: string[] = [];
  let imageId = currentScanId(db, source);
  // A scan of the image as it is now that looked at this offset (a scan of another partition did not).
  if (imageId !== null && offset !== undefined && !filesystemsOf(db, imageId).some((fs) => fs.offset_sectors === offset)) imageId = null;
  /** What the scan the list comes from could not see: the same whether it is made now or was made before. */
  let problems = imageId === null ? { warnings: [], partial: false } : storedScanProblems(db, imageId, offset);
  if (imageId === null) {
    const why = source.mounted
      ? `${source.path} is mounted: an earlier scan of it is out of date`
      : `no scan of ${source.path} as it is now${offset === undefined ? '' : ` at sector ${offset}`} in the case (none yet, or the file or the disk at that path changed since)`;
    notes.push(`${why}: scanned it first`);
    const scan = await scanImage(db, source.path, offset, recorder, { workDir });
    imageId = scan.imageId;
    problems = scanProblems(scan);
  }
  const scanId = imageId;
  const found = imageInodesOf(db, scanId).filter((record) => offset === undefined || record.offset_sectors === offset);
  // A FIFO, socket or device has no content: copying it is no attempt that could fail.
  const special = found.filter((record) => specialFileType(record.mode) !== null);
  if (special.length > 0) {
    const one = special.length === 1;
    const types = [...new Set(special.map((record) => specialFileType(record.mode)))].join(', ');
    const inodes = special.slice(0, 10).map((record) => record.inode).join(', ') + (special.length > 10 ? ', ...' : '');
    notes.push(`${special.length} special file${one ? '' : 's'} (${types}; inode${one ? '' : 's'} ${inodes}) ${one ? 'has' : 'have'} no content: not extracted`);
  }
  const records = found.filter((record) => specialFileType(record.mode) === null);
  const skipped = records.filter((record) => record.state === 'deleted' && !record.recoverable && record.blocks !== null).length;
  if (skipped > 0) notes.push(`${skipped} deleted inodes point at no data blocks any more: not extracted (name them with --inode to have that recorded)`);
  const targets = records.filter((record) => record.state === 'orphan' || record.recoverable || record.blocks === null).map((record) => fromRecord(record, scanId));
  return { targets: await withHolesNotes(targets, source, recorder, workDir), notes, ...problems };
}

/**
 * A scan made before migration 11 stored no note (image_inodes.note NULL: not looked at), also of an
 * inode in use that points at no data block and has a size (all holes, copied as its zeros): those,
 * and only those, are looked at again (one debugfs batch per file system) so that the copy says it.
 * One with inline data has no data block either, and no such note.
 */
async function withHolesNotes(targets: ExtractTarget[], source: ImageSource, recorder: CommandRecorder, workDir: string): Promise<ExtractTarget[]> {
  const unsaid = targets.filter((target) => target.note === undefined && target.recoverable === true && target.blocks === 0 && allHolesNote(target.size, target.mode) !== null);
  const notes = new Map<ExtractTarget, string>();
  for (const offset of new Set(unsaid.map((target) => target.offsetSectors))) {
    const here = unsaid.filter((target) => target.offsetSectors === offset);
    const described = await debugfsStatMany(source.path, offset, here.map((target) => target.inode), recorder, workDir).catch(() => null);
    for (const target of here) {
      const stat = described?.records.find((record) => record.inode === target.inode);
      const note = stat !== undefined && stat.dataBlocks === 0 && !stat.inlineData ? allHolesNote(stat.size, stat.mode) : null;
      if (note !== null) notes.set(target, note);
    }
  }
  return targets.map((target) => {
    const note = notes.get(target);
    return note === undefined ? target : { ...target, note };
  });
}

/**
 * What an earlier scan of the case, whose list --all uses, said it could not read: the warnings it
 * stored for each file system it saw only in part. Said again, and the run is partial, as it was
 * when that scan ran: an exit code must not depend on who ran the scan. (A scan made before
 * migration 8 stored no such flag: its warnings are not said again.)
 */
function storedScanProblems(db: Db, imageId: number, offset: number | undefined): Pick<TargetChoice, 'warnings' | 'partial'> {
  const warnings = filesystemsOf(db, imageId)
    .filter((fs) => (offset === undefined || fs.offset_sectors === offset) && fs.partial === 1)
    .map((fs) => `sector ${fs.offset_sectors}: the case's scan of this image, whose list is used, ${fs.fs_type === null ? 'could not scan it' : 'read it only in part'}${fs.error === null ? '' : `: ${fs.error}`}`);
  return { warnings, partial: warnings.length > 0 };
}

/** --inode N...: from the newest scan when it lists them, else described by debugfs at the one file system of the image (or --offset). */
export async function namedTargets(db: Db, source: ImageSource, inodes: readonly number[], offset: number | undefined, recorder: CommandRecorder, workDir: string): Promise<TargetChoice> {
  const notes: string[] = [];
  const warnings: string[] = [];
  /** What was read may not be this file system (a superblock that calls itself a backup): the run is partial. */
  let partial = false;
  checkOffset(source, offset);
  const imageId = currentScanId(db, source);
  const records = imageId === null ? [] : imageInodesOf(db, imageId).filter((record) => offset === undefined || record.offset_sectors === offset);
  const targets = new Map<number, ExtractTarget>();
  const unknown: number[] = [];
  for (const inode of new Set(inodes)) {
    const matches = records.filter((record) => record.inode === inode);
    if (matches.length > 1) throw usageError(`inode ${inode} was found in ${matches.length} file systems of ${source.path} (sectors ${matches.map((match) => match.offset_sectors).join(', ')}): give --offset SECTORS`);
    const match = matches[0];
    // (A match comes from the scan imageId names: never one without it.)
    if (match === undefined || imageId === null) unknown.push(inode);
    else targets.set(inode, fromRecord(match, imageId));
  }
  for (const target of await withHolesNotes([...targets.values()], source, recorder, workDir)) targets.set(target.inode, target);
  if (unknown.length > 0) {
    const at = offset ?? (await soleFilesystem(db, imageId, source, recorder));
    const superblock = readSuperblock(source, at);
    if (superblock === null) throw new UnlinkedError('BAD_INPUT', `${source.path}${at === 0 ? '' : ` at sector ${at}`}: no ext2/3/4 file system here (no superblock magic 0xEF53)${mountedAsOtherType(source, at)}`);
    const backup = backupSuperblockAt(source, superblock, at);
    if (backup !== null && 'refuse' in backup) throw new UnlinkedError('BAD_INPUT', `${source.path} at sector ${at}: ${backup.refuse}`);
    if (backup !== null) {
      warnings.push(`sector ${at}: ${backup.warn}`);
      partial = true;
    }
    for (const inode of unknown) {
      if (inode < 1 || inode > superblock.inodesCount) throw usageError(`inode ${inode} does not exist: this file system has inodes 1 to ${superblock.inodesCount}`);
    }
    const described = await debugfsStatMany(source.path, at, unknown, recorder, workDir);
    for (const cut of described.cuts) warnings.push(`sector ${at}: ${cut}`);
    const byInode = new Map(described.records.map((record) => [record.inode, record]));
    const { crtimes, failure } = await creationTimes(source, at, superblock.inodeSize, described.records, recorder, workDir);
    if (failure !== null) notes.push(failure);
    // debugfs prints "bad type" and the permission bits alone for type bits that are no file type:
    // the raw i_mode tells one never used (type 0) from one whose type is not valid (0170000, crafted).
    const badType = unknown.filter((inode) => byInode.get(inode)?.type === 'bad type');
    const rawModes = new Map<number, number>();
    if (badType.length > 0) {
      const dumps = await debugfsInodeDumps(source.path, at, badType, superblock.inodeSize, recorder, workDir).catch(() => null);
      for (const dump of dumps?.records ?? []) rawModes.set(dump.inode, dump.raw.readUInt16LE(0));
    }
    let allocation: Promise<Map<number, boolean | null>> | null = null;
    /** The bitmap bits of all the named inodes, read once (one ils -e per range of near inodes) when one is first needed. */
    const bitmapBits = (): Promise<Map<number, boolean | null>> => (allocation ??= ilsAllocation(source.path, at, unknown, recorder));
    for (const inode of unknown) {
      const described = byInode.get(inode);
      const rawMode = rawModes.get(inode);
      const invalidType = rawMode !== undefined && (rawMode & 0o170000) !== 0;
      // Said as image scan says it: a warning, not a note -q hides.
      if (invalidType) warnings.push(`sector ${at}: inode ${inode} has mode 0${rawMode.toString(8)}, whose file type bits (0${(rawMode & 0o170000).toString(8)}) are no valid file type (a corrupt or crafted i_mode): the mode is kept as it is`);
      // Its whole i_mode, and (a type that is none, not none at all) not taken for an inode never used.
      const stat = described === undefined || rawMode === undefined ? described : { ...described, mode: rawMode, type: invalidType ? 'invalid type' : described.type };
      if (stat === undefined) notes.push(`debugfs could not describe inode ${inode}: its size is unknown`);
      const links = stat !== undefined && stat.links !== null && stat.links > 0 ? `inode ${inode} still has ${stat.links} link(s): a live file, not an orphan` : undefined;
      // In the copy's record too when it is in use (its inode bitmap bit): an inode freed without its link count
      // (debugfs kill_file, a damaged file system) is no live file, and is not called one.
      /** Whether the inode is in use, its bitmap bit as ils -e reads it; null: ils could not say. */
      const allocated = async (): Promise<boolean | null> => (await bitmapBits()).get(inode) ?? null;
      const inUse = links === undefined ? null : await allocated();
      if (links !== undefined) {
        notes.push(inUse === true ? links
          : inUse === false ? `inode ${inode} still has ${stat?.links ?? '?'} link(s) but is not allocated (its inode bitmap bit): freed without its link count dropped (debugfs kill_file, a damaged file system), a deleted file, not a live one`
            : `inode ${inode} still has ${stat?.links ?? '?'} link(s): not an orphan; whether it is in use (a live file) or was freed without its link count dropped is not known (ils -e could not read its allocation)`);
      }
      const linked = inUse === true ? links : undefined;
      let hasData = stat === undefined ? null : (stat.dataBlocks ?? 0) > 0 || stat.inlineData || stat.size === 0 || (stat.dataBlocks === null ? null : false);
      let why: string | null = null;
      if (stat !== undefined && hasNoFileType(stat)) {
        // A reserved inode a file system does not use (8 on ext2: no journal), or one never allocated:
        // icat copies 0 bytes of it, which would pass for a whole empty file.
        hasData = false;
        why = `inode ${inode} holds no file (mode 0, no file type: never used${inode < FIRST_ORDINARY_INODE ? ', a reserved inode this file system does not use' : ''})`;
      } else if (stat !== undefined && stat.dataBlocks === 0 && !stat.inlineData && (stat.size !== 0 || stat.links === 0 || inUse === false)) {
        // No data blocks is whole only for an inode in use (empty, or all holes: read as zeros): ext4
        // zeroes the extents and the size of a deleted one. A freed one of size 0 is no empty file
        // either, links or not: what it held is not known (image scan does not call it recoverable).
        hasData = (await allocated()) === true;
        // Inline data the kernel emptied on freeing it (size 0): not "no data blocks".
        if (!hasData && stat.inlineSize !== null) why = emptiedInlineWhy(inode, null);
      }
      // In use with no data block nor inline data: its size is holes, as a scan's record says.
      const holes = hasData === true && stat?.dataBlocks === 0 && !stat.inlineData ? allHolesNote(stat.size, stat.mode) : null;
      const encrypted = stat !== undefined && isEncrypted(stat) ? encryptedNote(hasData !== false) : null;
      // A freed inode last changed before this file system was made: as image scan says it.
      const mkfs = superblock.mkfsTime;
      const earlier = stat !== undefined && !hasNoFileType(stat) && changedBeforeMkfs(stat.ctime, stat.dtimeRaw, mkfs) && (await allocated()) === false ? earlierFsWhy(mkfs) : null;
      const eaValue = stat !== undefined && isEaInode(stat) ? EA_INODE_NOTE : null;
      // What the record says of the inode itself: after why it is not recoverable, when it is not.
      const said = [eaValue, earlier].filter((part): part is string => part !== null);
      if (said.length > 0 && why === null && hasData === false && specialFileType(stat?.mode ?? null) === null) why = noBlocksWhy(stat?.size ?? null, { type: extType(superblock), extents: superblock.extents });
      if (said.length > 0 && why !== null) why = [why, ...said].join('; ');
      const note = [linked, holes, encrypted, ...(why === null ? said : [])].filter((part): part is string => part !== undefined && part !== null).join('; ');
      targets.set(inode, {
        offsetSectors: at, inode, size: stat?.size ?? null, recoverable: hasData, state: null, blocks: stat?.dataBlocks ?? null, blockSize: superblock.blockSize, mode: stat?.mode ?? null, fsUuid: superblock.uuid, imageInodeId: null, imageId,
        crtime: crtimes.get(inode) ?? null, unrecoverableWhy: why, scanNote: null, ...(note === '' ? {} : { note }),
      });
    }
  }
  return { targets: inodes.filter((inode, index) => inodes.indexOf(inode) === index).map((inode) => targets.get(inode)).filter((target): target is ExtractTarget => target !== undefined), notes, warnings, partial };
}

/**
 * The creation time (seconds) of each inode debugfs described, as the kernel reads it: what tells a
 * live item's file from a later one given the same (reused) number. Where debugfs may not print the
 * kernel's (see needsRawTimes), read from the raw inode; absent when that cannot be read either.
 */
async function creationTimes(
  source: ImageSource, at: number, inodeSize: number, described: readonly DebugfsInode[], recorder: CommandRecorder, workDir: string,
): Promise<{ crtimes: Map<number, number | null>; failure: string | null }> {
  const crtimes = new Map<number, number | null>();
  const raw: number[] = [];
  for (const stat of described) {
    if (needsRawTimes(stat, inodeSize)) raw.push(stat.inode);
    else crtimes.set(stat.inode, stat.crtime);
  }
  if (raw.length === 0) return { crtimes, failure: null };
  try {
    const dumps = await debugfsInodeDumps(source.path, at, raw, inodeSize, recorder, workDir);
    for (const dump of dumps.records) crtimes.set(dump.inode, kernelTimes(dump.raw, inodeSize).crtime);
    return { crtimes, failure: null };
  } catch (error) {
    return { crtimes, failure: `debugfs inode_dump failed (${oneLine(error)}): the creation time of inode ${raw.join(', ')} is unknown, so a live file given the same number earlier cannot be told from it` };
  }
}

/** The offset of the image's only ext file system (from the newest scan, or mmls), or a usage error naming the choices. */
async function soleFilesystem(db: Db, imageId: number | null, source: ImageSource, recorder: CommandRecorder): Promise<number> {
  let offsets: number[];
  let tableProblem = '';
  if (imageId !== null) {
    // The ext file systems the scan found (a type), with or without a UUID.
    offsets = filesystemsOf(db, imageId).filter((fs) => fs.fs_type !== null).map((fs) => fs.offset_sectors);
  } else {
    const found = await mmls(source.path, recorder);
    const table = found !== null && 'records' in found ? found : null;
    if (found !== null && 'unreadable' in found) tableProblem = ` (mmls could not read its partition table: ${found.unreadable}; name a partition with --offset SECTORS)`;
    // The scan's rule: each start once, in 512-byte sectors.
    const reading = table === null ? null : readTable(table);
    // A partition may be missing from what was read: which file system is meant is not known.
    if (reading !== null && reading.doubt !== null) throw usageError(`${source.path}: ${reading.doubt}: give --offset SECTORS`);
    offsets = reading === null ? [0] : reading.starts;
    if (table !== null && readSuperblock(source, 0) !== null && !offsets.includes(0)) offsets.push(0);
    offsets = offsets.filter((start) => readSuperblock(source, start) !== null);
  }
  const [only] = offsets;
  if (offsets.length === 1 && only !== undefined) return only;
  if (offsets.length === 0) {
    const mounted = mountedAsOtherType(source, 0);
    const what = mounted === '' ? ': not a file system, a clobbered superblock, or another file system type' : mounted;
    throw new UnlinkedError('BAD_INPUT', `${source.path}: no ext2/3/4 file system here (no superblock magic 0xEF53 at sector 0 or in any partition)${what}${tableProblem}`);
  }
  throw usageError(`${source.path} holds ${offsets.length} ext file systems (sectors ${offsets.join(', ')}): give --offset SECTORS`);
}
