// Scan a raw image or block device for orphan inodes (open but unlinked when the image was taken)
// and deleted inodes, file system by file system, and store what was found in one transaction.
// Per file system: fsstat, ils -aL, ils -r, fls -rd (and icat of the orphan file) run side by side;
// one debugfs -c batch describes every candidate inode as soon as the ils lists are in. The
// directories holding deleted names are then read (debugfs -c dump), so that what fls read out of
// an htree index block is not taken for a name (indexNames.ts); when each last changed tells a name
// it lost before its inode was freed (a stale copy) from the one removed when it was.
import { specialFileType } from '../util/mode.js';
import { UnlinkedError, oneLine } from '../errors.js';
import { displayBytes, displayText } from '../util/bytes.js';
import { beginStep, commitStep, letSignalsIn, stepStored } from '../util/interrupt.js';
import { requireTool, type CommandRecorder } from '../exec/run.js';
import type { Db } from '../store/db.js';
import { markScanPartial, setImageHashAfter, storeScan, type NewFilesystem, type NewImageInode } from '../store/images.js';
import { extType, type ExtSuperblock } from '../../parsers/extSuperblock.js';
import type { FsstatInfo } from '../../parsers/fsstat.js';
import { ilsTime, type IlsInode } from '../../parsers/ils.js';
import { parseOrphanFile } from '../../parsers/orphanFile.js';
import type { ParseResult } from '../../parsers/types.js';
import { debugfsCatToBuffer, debugfsDumpMany, debugfsInodeDumps, debugfsStatMany } from '../tools/debugfs.js';
import { flsDeletedNames } from '../tools/fls.js';
import { fsstat } from '../tools/fsstat.js';
import { icatToBuffer } from '../tools/icat.js';
import { ilsAllocation, ilsRemoved, ilsUnlinkedAllocated, type IlsList } from '../tools/ils.js';
import { istat } from '../tools/istat.js';
import type { IstatInfo } from '../../parsers/istat.js';
import { mmls } from '../tools/mmls.js';
import { protectiveOnly, readTable } from './partitions.js';
import { hasNoFileType, inlineAreaHoldsBytes, isEaInode, isEncrypted, kernelTimes, needsRawTimes, refusedExtraIsize, type DebugfsInode } from '../../parsers/debugfsStats.js';
import { EA_INODE_NOTE, changedBeforeMkfs, earlierFsWhy, emptiedInlineWhy, encryptedNote, noBlocksWhy, type BlockMapping } from './inodeNotes.js';
import { DIRECTORY_MAX_BYTES, ROOT_INODE, dropIndexNames, type DirectoryAccess, type DirectoryFacts, type HoldingDirectory } from './indexNames.js';
import { FlsNames, IlsTable, RecordTable, ScannedInodes, StatTable, type InodeStat } from './inodeTables.js';
import { followOrphanChain } from './orphanChain.js';
import { backupSuperblockAt, changedSinceOpened, checkOffset, filesystemDevice, liveWarning, mountedAsOtherType, openImageSource, readAt, readSuperblock, startHash, type ImageSource } from './source.js';
import type { U64 } from '../util/u64.js';

export interface ScannedFs extends NewFilesystem {
  /** Orphans and deleted inodes in columns (inodeTables.ts): a big disk has millions. */
  inodes: ScannedInodes;
  warnings: string[];
  /** Why this file system could not be scanned at all, or null. */
  failure: string | null;
  /** Not an ext2/3/4 file system (swap, another type, empty): skipped, not failed. */
  notExt: boolean;
  /** Inodes found that neither debugfs nor istat described: whether they are recoverable is unknown. */
  undescribed: number;
  /** The file system runs past the end of the image (a cut copy): data out there is not in it. */
  truncated: boolean;
  /** Something of it was not seen (a journal not replayed, a tool that stopped part-way): the scan is partial. */
  partial: boolean;
  /** Why the list of orphans or of deleted inodes is not whole, or null: what counts them must say so. */
  unlisted: { orphan: ListGap | null; deleted: ListGap | null };
}

/** An inode list a tool did not make whole: `ils -r failed` (`none`: it listed nothing), `ils -aL stopped part-way`. */
export interface ListGap {
  why: string;
  none: boolean;
}

export interface ScanOptions {
  /** Read the whole image a second time after the scan and compare the sha256 (images, not devices). */
  verify?: boolean;
  /** Where the tools' scratch files go: the case directory, which is never on the evidence. */
  workDir: string;
  /** Nothing but printing is left after the scan is stored: a signal then no longer stops the run (util/interrupt.ts). */
  lastStep?: boolean;
}

export interface ScanResult {
  imageId: number;
  source: ImageSource;
  sha256: string | null;
  /** With `verify`: the sha256 read again after the last program. */
  sha256After: string | null;
  /** An image file: true when its size, mtime and ctime are the same after the scan; null for a device. */
  unchangedAfter: boolean | null;
  partitionTable: string | null;
  filesystems: ScannedFs[];
  /** Image-level warnings (hashing, the image changing under us). */
  warnings: string[];
  /** Why the partition table could not be read (then only sector 0 was scanned), or null. */
  tableProblem: string | null;
  /** Why a partition of a table that was read may have been missed (a line of mmls not read), or null. */
  tableDoubt: string | null;
}

/** Every program a scan may run: all checked before anything is read, so a missing one fails cleanly. */
const SCAN_TOOLS = ['mmls', 'fsstat', 'ils', 'fls', 'icat', 'istat', 'debugfs'] as const;

/** Reserved inodes (bad blocks, root, journal, ...) are below s_first_ino, 11 on every ext2/3/4 made by mke2fs. */
export const FIRST_ORDINARY_INODE = 11;

/** The orphan file is a few blocks per CPU; anything far bigger is not one. */
const ORPHAN_FILE_MAX_BYTES = 64 << 20;

/** A real orphan chain only links orphans ils already found; a corrupt one may wander: this many extra lookups at most. */
const CHAIN_EXTRA_LOOKUPS = 64;
/** Without ils (bigalloc) every link of the chain is a lookup of its own (a debugfs run each, some ms). */
const CHAIN_LOOKUPS_WITHOUT_TSK = 4096;

export async function scanImage(db: Db, image: string, offset: number | undefined, recorder: CommandRecorder, options: ScanOptions): Promise<ScanResult> {
  for (const tool of SCAN_TOOLS) requireTool(tool);
  const source = openImageSource(image);
  checkOffset(source, offset);
  beginStep(`the scan of ${displayText(source.path)} under way is not stored (rolled back)`);
  // Hashed in a worker while the tools read: the two overlap on separate cores instead of adding up.
  const hashBefore = startHash(source.path);
  try {
    let partitionTable: string | null = null;
    /** A partition table that is there but could not be read: the scan is partial. */
    let tableProblem: string | null = null;
    /** A table read, but a partition of it may be missing (a line of mmls not read): the scan is partial. */
    let tableDoubt: string | null = null;
    const filesystems: ScannedFs[] = [];
    const warnings: string[] = [];
    // A named offset or a bare image must be a readable file system; a partition of a table may be swap.
    const mustRead = (scanned: ScannedFs): ScannedFs => {
      if (scanned.failure !== null) throw new UnlinkedError('BAD_INPUT', `${source.path}${scanned.offsetSectors === 0 ? '' : ` at sector ${scanned.offsetSectors}`}: ${scanned.failure}`);
      return scanned;
    };
    if (offset !== undefined) {
      filesystems.push(mustRead(await scanFilesystem(source, offset, recorder, options.workDir)));
    } else {
      // An ext file system at sector 0 is scanned while mmls looks for a partition table, not after it.
      const atZero = readSuperblock(source, 0) === null ? null : scanFilesystem(source, 0, recorder, options.workDir);
      atZero?.catch(() => undefined);
      const found = await mmls(source.path, recorder);
      const table = found !== null && 'records' in found ? found : null;
      // A table mmls cannot read, or a GPT of which only its protective MBR entry (0xEE) was read (a
      // GPT whose header or entries are damaged or cut off): the partitions are unknown.
      tableProblem = found !== null && 'unreadable' in found
        ? `mmls could not read the partition table (${found.unreadable})`
        : table !== null && protectiveOnly(table) ? `the GPT could not be read (mmls found only its protective MBR entry: a damaged or truncated image?)` : null;
      partitionTable = table?.table ?? null;
      if (tableProblem !== null) {
        if (atZero === null) throw new UnlinkedError('BAD_INPUT', `${source.path}: ${tableProblem}, and no ext file system starts at sector 0: name a partition with --offset SECTORS`);
        warnings.push(`${tableProblem}: only the file system at sector 0 was scanned; name a partition with --offset SECTORS`);
        filesystems.push(mustRead(await atZero));
      } else if (table === null) {
        // mmls says nothing at all of a DOS table it cannot read (an entry past the end, say).
        if (atZero === null && hasBootSignature(source)) {
          throw new UnlinkedError('BAD_INPUT', `${source.path}: sector 0 ends in the 0x55AA signature of a partition table that mmls could not read (damaged?), and no ext file system starts at sector 0: name a partition with --offset SECTORS`);
        }
        filesystems.push(mustRead(await (atZero ?? scanFilesystem(source, 0, recorder, options.workDir))));
      } else {
        // Offsets are kept in 512-byte sectors, TSK's -o unit, whatever sector size the table uses.
        const reading = readTable(table);
        const { starts } = reading;
        warnings.push(...reading.warnings);
        tableDoubt = reading.doubt;
        if (starts.length === 0 && atZero === null) throw new UnlinkedError('BAD_INPUT', `${source.path}: the partition table (${partitionTable ?? 'unknown type'}) lists no partition${tableDoubt === null ? '' : ` that could be read (${tableDoubt})`}`);
        if (atZero !== null && !starts.includes(0)) {
          // A whole-disk file system under a stale partition table: both are looked at.
          warnings.push(`an ext file system starts at sector 0 although mmls found a partition table (${partitionTable ?? '?'}): scanned it as well as the partitions`);
          filesystems.push(await atZero);
        }
        for (const start of starts) filesystems.push(await scanFilesystem(source, start, recorder, options.workDir));
      }
    }
    if (filesystems.every((fs) => fs.notExt)) {
      const wide = filesystems.map((fs) => wideSectorHint(source, fs.offsetSectors)).filter((hint): hint is string => hint !== null);
      throw new UnlinkedError('BAD_INPUT', `${source.path}: none of the ${filesystems.length} partitions (${partitionTable ?? 'partition table'}) holds an ext2/3/4 file system` +
        (wide.length === 0 ? '' : ` (${wide.join('; ')})`));
    }
    // A live file system on it (a mounted device, an image file a mounted loop device reads): what was read may be of no one moment.
    const live = source.mounted ? liveWarning(source) : null;
    if (live !== null) warnings.push(live);
    let sha256: string | null = null;
    try {
      sha256 = (await hashBefore.done).sha256;
    } catch (error) {
      warnings.push(`could not hash ${source.path}: ${oneLine(error)}`);
    }
    // After every program and the hash: the file as the scan found it? Any write moves its mtime and
    // ctime, so the stamp says so at no cost; a second full read (--verify) proves it by hash, at the
    // cost of reading the whole image again (hours for a large disk). A device keeps no such stamp
    // and is read once (see docs/images.md).
    const change = changedSinceOpened(source);
    if (change !== null) warnings.push(`${source.path} CHANGED while it was scanned (${change}): something else writes to it`);
    const unchangedAfter = source.stamp === null ? null : change === null;
    // A device too, unless mounted (then it changes under any reader: a second hash proves nothing).
    const verifyDevice = !source.isDevice || !source.mounted;
    if (options.verify === true && !verifyDevice) warnings.push(`--verify: ${source.path} is mounted and changes while it is read: it was not read a second time`);
    const hashAfter = options.verify === true && verifyDevice && sha256 !== null ? startHash(source.path) : null;
    let sha256After: string | null = null;
    try {
      // The second hash runs in its worker while this thread stores the scan; sha256_after follows.
      // A signal a synchronous parse kept node from handling stops the run here, before the scan is stored.
      const imageId = await commitStep(() => storeScan(db, {
        path: source.path, isDevice: source.isDevice, size: source.size, sha256, sha256After: null, partitionTable,
        filesystems: filesystems.map((fs) => ({ ...storedFs(fs, tableProblem, tableDoubt, sha256 === null, change, live), device: filesystemDevice(source, fs.offsetSectors) })),
        mtimeNs: source.stamp?.mtimeNs ?? null, ctimeNs: source.stamp?.ctimeNs ?? null, unchangedAfter,
      }), (id) => `the scan of ${displayText(source.path)} (image ${id})`, options.lastStep === true && hashAfter === null, 'scan');
      if (hashAfter !== null) beginStep(`its second hash (--verify) under way is not stored: sha256_after stays empty`);
      if (hashAfter !== null) {
        try {
          sha256After = (await hashAfter.done).sha256;
          await letSignalsIn();
          setImageHashAfter(db, imageId, sha256After);
          if (sha256After !== sha256) {
            warnings.push(`${source.path} CHANGED while it was scanned (sha256 ${sha256} before, ${sha256After} after): something else writes to it`);
            // As a change seen by its stamp is (storedFs): each file system's record says it, and a later extract --all.
            markScanPartial(db, imageId, `the image changed while it was scanned (sha256 ${sha256} before, ${sha256After} after)`);
          }
        } catch (error) {
          warnings.push(`could not hash ${source.path} again after the scan: ${oneLine(error)}`);
        }
        stepStored(`the scan of ${displayText(source.path)} (image ${imageId}) and its second hash`, options.lastStep === true, 'scan');
      }
      return { imageId, source, sha256, sha256After, unchangedAfter, partitionTable, filesystems, warnings, tableProblem, tableDoubt };
    } finally {
      hashAfter?.stop();
    }
  } finally {
    hashBefore.stop();
  }
}

/** Does sector 0 end in 0x55 0xAA, the signature of an MBR (or of a GPT's protective MBR)? */
function hasBootSignature(source: ImageSource): boolean {
  const sector = readAt(source, 0, 512);
  return sector !== null && sector[510] === 0x55 && sector[511] === 0xaa;
}

/**
 * Where no ext file system starts at `offset` but one starts 8 times further on: mmls 4.11.1 reads a
 * DOS table of a disk of 4096-byte sectors in 512-byte units, so its starts are 8 times too small.
 */
function wideSectorHint(source: ImageSource, offset: number): string | null {
  if (offset === 0 || readSuperblock(source, offset) !== null || readSuperblock(source, offset * 8) === null) return null;
  return `one starts at sector ${offset * 8} (8 x ${offset}): a DOS table of a disk of 4096-byte sectors, which mmls reads in 512-byte units? name it with --offset ${offset * 8}`;
}

function emptyFs(offsetSectors: number): ScannedFs {
  return {
    offsetSectors, fsType: null, fsUuid: null, label: null, lastMountedAt: null, lastMountPoint: null, blockSize: null, inodeCount: null,
    orphanFile: false, lastOrphan: null, error: null, inodes: new ScannedInodes(new RecordTable(), new RecordTable()), warnings: [], failure: null, notExt: false, undescribed: 0, truncated: false, partial: false,
    seenInPart: false, device: null, unlisted: { orphan: null, deleted: null },
  };
}

async function scanFilesystem(source: ImageSource, offset: number, recorder: CommandRecorder, workDir: string): Promise<ScannedFs> {
  const scanned = emptyFs(offset);
  const superblock = readSuperblock(source, offset);
  if (superblock === null) {
    const mounted = mountedAsOtherType(source, offset);
    const wide = wideSectorHint(source, offset);
    scanned.failure = `no ext2/3/4 file system here (no superblock magic 0xEF53)${mounted === '' ? ': not a file system, a clobbered superblock, or another file system type' : mounted}${wide === null ? '' : `; but ${wide}`}`;
    scanned.error = scanned.failure;
    scanned.notExt = true;
    return scanned;
  }
  const backup = backupSuperblockAt(source, superblock, offset);
  if (backup !== null && 'refuse' in backup) {
    scanned.failure = backup.refuse;
    scanned.error = backup.refuse;
    return scanned;
  }
  if (backup !== null) {
    scanned.warnings.push(backup.warn);
    scanned.partial = true;
  }
  Object.assign(scanned, {
    // Bytes as text: valid printable UTF-8 as is, any other byte as \xHH (reversible), never latin1 guessed.
    fsUuid: superblock.uuid, label: superblock.volumeNameBytes.length === 0 ? null : displayBytes(superblock.volumeNameBytes),
    lastMountedAt: superblock.lastMountTime === 0 ? null : superblock.lastMountTime,
    lastMountPoint: superblock.lastMountPointBytes.length === 0 ? null : displayBytes(superblock.lastMountPointBytes),
    blockSize: superblock.blockSize, inodeCount: superblock.inodesCount, orphanFile: superblock.orphanFileInode !== null,
    lastOrphan: superblock.lastOrphan === 0 ? null : superblock.lastOrphan,
  });
  const warn = (message: string) => scanned.warnings.push(message);
  if (superblock.uuid === null) {
    // A UUID is what ties an image to a live item; a device number names a disk only within one boot.
    const device = filesystemDevice(source, offset);
    warn('the file system has no UUID (the nil UUID, all zeros: tune2fs -U clear, or made without one): it cannot be matched with live items except as the same device' +
      (device === null
        ? ' (a live item of this boot on the very block device scanned); this is no block device: no live item is matched with its inodes'
        : `: only live items of this boot on ${device} itself are matched with its inodes`));
  }
  // A copy cut short (a dd that stopped, a partial download): said before anything is read.
  const length = superblock.blocksCount * superblock.blockSize;
  const held = source.size - offset * 512;
  if (length > held) {
    scanned.truncated = true;
    warn(`the file system is ${length} bytes long but the image holds only ${held} bytes of it from sector ${offset}: a truncated image; what lies past its end (inodes, data) is missing`);
  }
  if (superblock.needsRecovery) {
    // Never replayed here: that writes to the evidence. A copy may be; e2fsck would also free the orphans.
    // A partition is cut out to a file of its own first: debugfs 1.47.0's journal_run fails on
    // 'COPY?offset=N' ("Bad magic number in super-block while recovering journal", exit 0).
    const copy = offset === 0 ? 'cp IMAGE COPY' : `dd if=IMAGE of=COPY bs=512 skip=${offset} count=${Math.ceil(length / 512)}`;
    scanned.partial = true;
    warn('the journal was not replayed (needs_recovery: not cleanly unmounted: a crash, a power-off, or a copy of a mounted disk): ' +
      'orphans and deletions recorded only in the journal are not seen. Replay it on a COPY, never the original, and scan the copy: ' +
      `${copy} && debugfs -w -R journal_run COPY (not e2fsck: it frees the orphans)`);
  }
  const fail = (what: string) => (error: unknown) => {
    warn(`${what} failed: ${oneLine(error)}`);
    return null;
  };

  // 1. Side by side: the names of deleted files, the two inode lists, file system facts, the orphan
  // file. fls walks every directory, the longest of them all: started first (each start costs this
  // thread some milliseconds), its names are wanted only at the end.
  const names = (async () => {
    // Its entries kept in columns as they come: millions on a big disk.
    const table = new FlsNames();
    const listed = await flsDeletedNames(source.path, offset, superblock.inodesCount, recorder, (entry) => table.add(entry));
    return { table, warnings: listed.warnings };
  })().catch((error: unknown) => {
    // Without fls no deleted inode has its last name, and an inode only a name leads to is not listed: a partial scan.
    scanned.partial = true;
    warn(`fls -rd (names of deleted files) failed: ${oneLine(error)}: no deleted inode has its last name, and one only a deleted name leads to is not listed`);
    return null;
  });
  const directories = directoryAccess(source.path, offset, superblock.inodeSize, recorder, workDir, warn, ROOT_INODE);
  // Names read out of htree index blocks are not names: dropped before any is used, the directories
  // read as soon as fls is through (beside the debugfs batch of step 2, not after it).
  const checkedNames = names.then(async (flsNames) => {
    if (flsNames === null) return null;
    try {
      const checked = await dropIndexNames(flsNames.table, { blockSize: superblock.blockSize, fileType: superblock.fileType, inodesCount: superblock.inodesCount }, directories);
      checked.warnings.forEach(warn);
      if (checked.unchecked > 0) scanned.partial = true;
      return { ...flsNames, dropped: checked.dropped, holdersOf: checked.holdersOf };
    } catch (error) {
      scanned.partial = true;
      warn(`reading the directories that hold deleted names failed (${oneLine(error)}): the names fls found were kept as it printed them, although one read out of an htree index block would be no name`);
      return { ...flsNames, dropped: new Set<number>(), holdersOf: (): HoldingDirectory[] | null => null };
    }
  });
  const facts = fsstat(source.path, offset, recorder).catch(fail('fsstat'));
  const orphanFileInode = superblock.orphanFileInode;
  const orphanFile = orphanFileInode === null || orphanFileInode === 0
    ? Promise.resolve(null)
    : (superblock.bigalloc
      ? debugfsCatToBuffer(source.path, offset, orphanFileInode, ORPHAN_FILE_MAX_BYTES, recorder, workDir)
      : icatToBuffer(source.path, offset, orphanFileInode, ORPHAN_FILE_MAX_BYTES, recorder)).catch((error: unknown) => {
      // Its orphans were not seen (one ils does not list, its ctime 0, is found through it alone): partial.
      scanned.partial = true;
      return fail(`reading the orphan file (inode ${orphanFileInode})`)(error);
    });
  /** An ils list, its rows kept in columns as they come (ils -r lists millions on a big disk). */
  const listed = async (list: (take: (record: IlsInode) => void) => Promise<IlsList>): Promise<IlsList & { table: IlsTable }> => {
    const table = new IlsTable();
    return { ...(await list((record) => table.add(record))), table };
  };
  const [unlinked, removed] = await Promise.all([
    listed((take) => ilsUnlinkedAllocated(source.path, offset, recorder, take)).catch(fail('ils -aL (open but unlinked inodes)')),
    listed((take) => ilsRemoved(source.path, offset, recorder, take)).catch(fail('ils -r (deleted inodes)')),
  ]);
  /** Neither inode list: what the orphan chain and the orphan file name is all that is found, through debugfs. */
  const withoutTsk = unlinked === null && removed === null;
  if (withoutTsk && !superblock.bigalloc) {
    await Promise.all([facts, orphanFile, checkedNames]);
    scanned.failure = `The Sleuth Kit cannot read this ext file system: ${scanned.warnings.join('; ')}`;
    return finish(scanned, superblock, null);
  }
  if (withoutTsk) {
    scanned.partial = true;
    warn(BIGALLOC_WHY);
  }
  const ilsOrphans = new Map<number, IlsInode>();
  /** Inodes of an ils line that could not be read, with where it was: ils named them, unreadably (not a ctime of 0). */
  const ilsUnreadable = new Map<number, string>();
  collect(unlinked, 'ils -aL', warn, ilsUnreadable);
  for (const inode of unlinked?.table.keys() ?? []) {
    const record = unlinked?.table.get(inode);
    if (record !== undefined && inode >= FIRST_ORDINARY_INODE && inode !== superblock.orphanFileInode) ilsOrphans.set(inode, record);
  }
  collect(removed, 'ils -r', warn, ilsUnreadable);
  const removedRows = removed?.table ?? new IlsTable();
  /** What ils -r listed, but the reserved inodes and those ils -aL listed too: millions, read from its table. */
  const ilsDeleted = {
    has: (inode: number): boolean => inode >= FIRST_ORDINARY_INODE && !ilsOrphans.has(inode) && removedRows.has(inode),
    get: (inode: number): IlsInode | undefined => (ilsDeleted.has(inode) ? removedRows.get(inode) : undefined),
    *keys(): Generator<number> {
      for (const inode of removedRows.keys()) if (inode >= FIRST_ORDINARY_INODE && !ilsOrphans.has(inode)) yield inode;
    },
  };
  /** Why ils did not list these inodes: TSK's ctime-0 blind spot, or a line of it that could not be read. */
  const unlistedWhy = (inodes: readonly number[]): string => {
    const unreadable = inodes.filter((inode) => ilsUnreadable.has(inode));
    if (unreadable.length === 0) return UNLISTED_WHY;
    const lines = `ils printed ${unreadable.length === 1 ? 'a line' : 'lines'} for ${inodes.length === 1 ? 'it' : `inode${unreadable.length === 1 ? '' : 's'} ${unreadable.slice(0, 10).join(', ')}`} ` +
      `that could not be read (${unreadable.slice(0, 3).map((inode) => ilsUnreadable.get(inode)).join(', ')})`;
    return unreadable.length === inodes.length ? lines : `${UNLISTED_WHY}; ${lines}`;
  };
  // One list missing, or cut short, or a line of it not read: the inodes it would have named were not seen.
  if (unlinked === null || removed === null || (unlinked?.warnings.length ?? 0) > 0 || (removed?.warnings.length ?? 0) > 0) scanned.partial = true;
  for (const [what, list, state] of [['ils -aL', unlinked, 'orphan'], ['ils -r', removed, 'deleted']] as const) {
    if (list === null) scanned.unlisted[state] = { why: superblock.bigalloc ? `${what} cannot read bigalloc` : `${what} failed`, none: true };
    if (list?.stoppedEarly === null || list?.stoppedEarly === undefined) continue;
    scanned.unlisted[state] = { why: `${what} stopped part-way`, none: false };
    scanned.partial = true;
    warn(`${what} stopped part-way (${list.stoppedEarly}): what it listed before that is kept (${list.rows} rows); inodes past that point were not seen`);
  }
  /** ils -aL listed every allocated inode without a link: one it does not list is not one. */
  const allocationKnown = unlinked !== null && unlinked.stoppedEarly === null;
  const fromOrphanFile: number[] = [];
  const orphanFileContent = await orphanFile;
  if (orphanFileContent !== null) {
    const parsed = parseOrphanFile(orphanFileContent, superblock.blockSize, superblock.inodesCount);
    for (const warning of parsed.warnings) warn(`orphan file: ${warning.message}`);
    for (const slot of parsed.records) {
      // A damaged block with the right magic must not invent orphans: only ordinary inodes of this file system.
      if (slot.inode >= FIRST_ORDINARY_INODE && slot.inode <= superblock.inodesCount && slot.inode !== superblock.orphanFileInode) fromOrphanFile.push(slot.inode);
      else warn(`orphan file: inode ${slot.inode} is not an ordinary inode of this file system (11 to ${superblock.inodesCount}): left out`);
    }
  }

  // 2. One debugfs batch for every candidate, while fls is still walking the directories.
  const candidates = [...new Set([...ilsOrphans.keys(), ...fromOrphanFile, ...(superblock.lastOrphan === 0 ? [] : [superblock.lastOrphan]), ...ilsDeleted.keys()])]
    .filter((inode) => inode >= 1 && inode <= superblock.inodesCount)
    .sort((a, b) => a - b);
  const stats = new StatTable();
  /** Inodes istat described instead of debugfs: no times of their own (TSK ignores ext4's epoch bits). */
  const byIstat = new Set<number>();
  /** Whether an inode ils did not list is allocated, its inode bitmap bit as ils -e (or istat, describing it) read it; null: not known. */
  const allocation = new Map<number, boolean | null>();
  const statBatch = async (inodes: readonly number[]) => {
    // Each batch into the table as it is read; all of them or none, as when they were kept until the last.
    const before = stats.size;
    try {
      return await debugfsStatMany(source.path, offset, inodes, recorder, workDir, (record) => stats.set(record));
    } catch (error) {
      stats.truncate(before);
      throw error;
    }
  };
  /** What debugfs said of the file system itself (why its, and TSK's, view may be wrong) and where it was stopped in a description: said, and partial. */
  const sayBatch = (parsed: Awaited<ReturnType<typeof statBatch>>): void => {
    for (const complaint of parsed.complaints) warn(`debugfs said: ${complaint}`);
    parsed.cuts.forEach(warn);
    if (parsed.complaints.length > 0 || parsed.cuts.length > 0) scanned.partial = true;
  };
  // The root directory, where the check of fls' names starts, looked at beside this batch: not after fls.
  directories.prefetch();
  try {
    // Without TSK, debugfs is the only reader: asked of the root when nothing else, it shows it can open the file system.
    const parsed = await statBatch(withoutTsk && candidates.length === 0 ? [ROOT_INODE] : candidates);
    sayBatch(parsed);
    if (parsed.warnings.length > 0) warn(`debugfs: ${parsed.warnings.length} inodes not described (first: ${parsed.warnings[0]?.message ?? ''})`);
  } catch (error) {
    warn(`debugfs stat failed: ${oneLine(error)}`);
    if (withoutTsk) {
      // Neither tool reads it (a bigalloc image cut short before its group descriptors): the chain's
      // head is a number in the superblock, no inode anyone read. One line, as when TSK alone is all.
      await Promise.all([facts, orphanFile, checkedNames, directories.settled()]);
      scanned.failure = `neither The Sleuth Kit (bigalloc) nor debugfs can read this ext file system: ${scanned.warnings.filter((said) => said !== BIGALLOC_WHY).join('; ')}`;
      return finish(scanned, superblock, null);
    }
  }
  // What debugfs did not describe, istat (one process per inode) does, for a few; the rest stay
  // unknown: whether they still point at data is not known, and the scan says it is partial.
  const undescribed = candidates.filter((inode) => !stats.has(inode));
  for (let start = 0; start < Math.min(undescribed.length, ISTAT_FALLBACK_MAX); start += ISTAT_PARALLEL) {
    await Promise.all(undescribed.slice(start, Math.min(start + ISTAT_PARALLEL, ISTAT_FALLBACK_MAX)).map(async (inode) => {
      const info = await istat(source.path, offset, inode, recorder).catch(() => null);
      if (info === null) return;
      stats.set(fromIstat(inode, info));
      byIstat.add(inode);
      allocation.set(inode, info.allocated);
    }));
  }
  // ils -r's fields are read only where debugfs did not describe an inode, or left a field out (describe): the rest let go.
  removedRows.keepRowsOf((inode) => !stats.whole(inode) || byIstat.has(inode));
  const byNeither = candidates.filter((inode) => !stats.has(inode)).length;
  // istat exits 0 without the block list it could not read (a file of many extents): known but its data.
  const blocksUnknown = undescribed.filter((inode) => stats.get(inode)?.dataBlocks === null).length;
  scanned.undescribed = byNeither + blocksUnknown;
  if (undescribed.length > 0) {
    warn(`${undescribed.length} inodes not described by debugfs: ${undescribed.length - byNeither} described by istat instead` +
      (blocksUnknown === 0 ? '' : ` (${blocksUnknown} without their data blocks, which istat could not read: whether they still point at data is unknown)`) +
      (byNeither === 0 ? '' : `; ${byNeither} by neither (metadata from ils alone; whether they still point at data is unknown, reported as not recoverable)`));
  }

  // An inode ils did not list but the chain, the orphan file or fls names is looked at itself: TSK
  // takes one whose ctime is 0 for never used and lists it nowhere. Its allocation is its bitmap bit
  // as `ils -e` of its range reads it (only for such inodes, which a normal file system does not have).
  let allocationLookups = 0;
  const lookUpAllocation = async (inodes: readonly number[]) => {
    const wanted = [...new Set(inodes)].filter((inode) => !allocation.has(inode));
    // Past the limit an inode's allocation stays unknown: said by judge(), and the scan is partial.
    const asked = wanted.slice(0, Math.max(0, ALLOCATION_LOOKUPS_MAX - allocationLookups));
    allocationLookups += wanted.length;
    if (asked.length === 0) return;
    for (const [inode, allocated] of await ilsAllocation(source.path, offset, asked, recorder)) allocation.set(inode, allocated);
  };
  /** Once used: a file type, or a size, data, links: an inode never used (or zeroed) has none of them. */
  const wasUsed = (stat: InodeStat) => !hasNoFileType(stat) || (stat.size ?? 0) > 0 || (stat.dataBlocks ?? 0) > 0 || stat.inlineData || (stat.links ?? 0) > 0;
  /** An inode ils did not list, once used: whether it is allocated decides what it is. */
  const unlisted = (inode: number) => {
    const stat = stats.get(inode);
    return inode >= FIRST_ORDINARY_INODE && !ilsOrphans.has(inode) && !ilsDeleted.has(inode) && stat !== undefined && wasUsed(stat);
  };

  // What an inode named by the chain or the orphan file is (a crafted or stale s_last_orphan can
  // name any inode): an orphan when allocated without links; with the reason when it is not.
  const judge = (inode: number): { state: 'orphan' | 'deleted' | 'out' | 'unknown'; why: string | null } => {
    if (ilsOrphans.has(inode)) return { state: 'orphan', why: null };
    if (inode < FIRST_ORDINARY_INODE) return { state: 'out', why: `it is a reserved inode (below ${FIRST_ORDINARY_INODE}), never an unlinked file: left out` };
    if (ilsDeleted.has(inode)) return { state: 'deleted', why: 'it is not allocated (ils -r lists it as deleted): kept as deleted, its dtime a deletion time' };
    const stat = stats.get(inode);
    if (stat !== undefined && !wasUsed(stat)) return { state: 'out', why: 'it was never used (mode 0, no file type): left out' };
    const allocated = allocationKnown ? allocation.get(inode) : undefined;
    if (allocated === false) return { state: 'deleted', why: `it is not allocated (its inode bitmap bit), although ils -r does not list it (${unlistedWhy([inode])}): kept as deleted, its dtime a deletion time` };
    // Allocated with links: a truncation in progress, said by addOrphan; its dtime is a link.
    if (stat?.links !== undefined && stat.links !== null && stat.links > 0) return { state: 'orphan', why: null };
    if (!allocationKnown || allocated === true) return { state: 'orphan', why: null };
    return { state: 'unknown', why: `ils did not list it and whether it is allocated could not be read (${stat === undefined ? 'neither debugfs nor istat described it' : 'ils -e did not say'}): left out` };
  };

  // 3. The s_last_orphan chain, through the dtime links debugfs read. An inode that is no orphan
  // ends it: its dtime is a deletion time or garbage, not a link.
  let extraLookups = 0;
  const chain = await followOrphanChain(superblock.lastOrphan, superblock.inodesCount, async (inode) => {
    if (!stats.has(inode)) {
      if (++extraLookups > (withoutTsk ? CHAIN_LOOKUPS_WITHOUT_TSK : CHAIN_EXTRA_LOOKUPS)) return null;
      await statBatch([inode]).catch(() => null);
    }
    if (allocationKnown && unlisted(inode)) await lookUpAllocation([inode]);
    if (judge(inode).state !== 'orphan') return 0;
    return stats.get(inode)?.dtimeRaw ?? null;
  });
  chain.warnings.forEach(warn);
  const unchecked = [...new Set([...chain.inodes, ...fromOrphanFile])].filter((inode) => !ilsOrphans.has(inode) && !ilsDeleted.has(inode) && inode >= FIRST_ORDINARY_INODE);
  if (!allocationKnown && unchecked.length > 0) {
    warn(`ils -aL ${unlinked === null ? 'did not run' : 'stopped part-way'}: whether inodes ${unchecked.slice(0, 10).join(', ')} of the orphan chain or the orphan file are allocated was not checked`);
  }
  if (allocationKnown) await lookUpAllocation(fromOrphanFile.filter(unlisted));

  // Times: debugfs', as the kernel reads them. Where only TSK gave some (ils, for an inode debugfs
  // did not describe), they are read as the kernel does where that is certain, else left null.
  const timesUnknown = new Set<number>();
  const fromIls = (printed: number): number | null => ilsTime(printed, superblock.inodeSize);
  const record = (inode: number, state: 'orphan' | 'deleted', by: string): NewImageInode => {
    const stat = stats.get(inode);
    const described = describe(inode, state, by, stat, byIstat.has(inode) ? null : stat ?? null, ilsOrphans.get(inode) ?? ilsDeleted.get(inode), fromIls, { type: extType(superblock), extents: superblock.extents });
    if (described.atime === null && described.mtime === null && described.ctime === null) timesUnknown.add(inode);
    return described;
  };

  // 4. Orphans: allocated with no link (ils), on the chain, or in the orphan file.
  const orphans = new RecordTable();
  /** Inodes the chain or the orphan file names that ils did not list, found not allocated: deleted, with who named them. */
  const unlistedDeleted = new Map<number, string[]>();
  let undecided = 0;
  const addOrphan = (inode: number, by: string) => {
    const existing = orphans.get(inode);
    if (existing !== undefined) {
      if (!existing.foundBy.includes(by)) orphans.set({ ...existing, foundBy: [...existing.foundBy, by] });
      return;
    }
    const stat = stats.get(inode);
    const where = by === 'orphan_chain' ? 'orphan chain' : 'orphan file';
    if (by !== 'ils') {
      const verdict = judge(inode);
      if (verdict.why !== null) {
        warn(`inode ${inode} is on the ${where} but ${verdict.why}${by === 'orphan_chain' ? ' (the chain is not followed past it)' : ''}`);
        if (verdict.state === 'unknown') undecided++;
        if (verdict.state === 'deleted' && !ilsDeleted.has(inode)) unlistedDeleted.set(inode, [...(unlistedDeleted.get(inode) ?? []), by]);
        return;
      }
      if (!ilsOrphans.has(inode) && allocation.get(inode) === true) warn(`inode ${inode} is on the ${where} and allocated (its inode bitmap bit), although ils -aL does not list it (${unlistedWhy([inode])}): kept as an orphan`);
    }
    // The orphan list also holds files being truncated, which still have names: not unlinked files.
    if (by !== 'ils' && stat?.links !== undefined && stat.links !== null && stat.links > 0) {
      warn(`inode ${inode} is on the ${where} with ${stat.links} link(s): a truncation in progress, not an unlinked file`);
      return;
    }
    orphans.set(record(inode, 'orphan', by));
  };
  for (const inode of ilsOrphans.keys()) addOrphan(inode, 'ils');
  for (const inode of chain.inodes) addOrphan(inode, 'orphan_chain');
  for (const inode of fromOrphanFile) addOrphan(inode, 'orphan_file');

  // 5. Deleted inodes, with the names fls still finds in directory slack.
  const deleted = new RecordTable();
  for (const inode of ilsDeleted.keys()) if (!orphans.has(inode)) deleted.set(record(inode, 'deleted', 'ils'));
  for (const [inode, by] of unlistedDeleted) {
    const described = record(inode, 'deleted', by[0] ?? 'orphan_chain');
    described.foundBy = by;
    deleted.set(described);
  }
  const flsResult = await checkedNames;
  if (flsResult !== null) {
    // An inode a deleted name points at that no list holds (ils takes one whose ctime is 0 for never
    // used): looked at itself, one debugfs batch for all of them. fls says whether it is allocated
    // (`(realloc)`: the name is deleted, its inode allocated). Allocated with links: reused by a live
    // file; never used (nothing in it): no file. Allocated without links: an orphan; else deleted.
    const { table: fls, dropped } = flsResult;
    /** Only of the inodes no list holds (named below): a deleted name of a listed inode says nothing more. */
    const flsAllocated = new Map<number, boolean | null>();
    for (let row = 0; row < fls.length; row++) {
      if (!fls.deletedAt(row) || dropped.has(row)) continue;
      const inode = fls.inodeAt(row);
      if (deleted.has(inode) || inode < FIRST_ORDINARY_INODE || inode > superblock.inodesCount || ilsOrphans.has(inode) || ilsDeleted.has(inode) || orphans.has(inode)) continue;
      const before = flsAllocated.get(inode);
      const realloc = fls.reallocAt(row);
      flsAllocated.set(inode, before === undefined || before === realloc ? realloc : null);
    }
    const named = [...flsAllocated.keys()].sort((a, b) => a - b);
    const unseen = named.filter((inode) => !stats.has(inode));
    if (unseen.length > 0) {
      try {
        sayBatch(await statBatch(unseen));
      } catch (error) {
        warn(`debugfs stat of the inodes fls names failed: ${oneLine(error)}`);
      }
    }
    const notSeen = named.filter((inode) => !stats.has(inode));
    if (notSeen.length > 0) {
      scanned.partial = true;
      warn(`fls names deleted files of ${notSeen.length} inodes that ils did not list and debugfs did not describe (first: ${notSeen.slice(0, 10).join(', ')}): whether they were files is unknown`);
    }
    const used = named.filter((inode) => {
      const stat = stats.get(inode);
      return stat !== undefined && wasUsed(stat);
    });
    // Told both ways (fls printed the inode with and without `(realloc)`): ils -e reads its bitmap bit.
    await lookUpAllocation(used.filter((inode) => flsAllocated.get(inode) === null));
    const found: number[] = [];
    for (const inode of used) {
      const allocated = flsAllocated.get(inode) ?? allocation.get(inode) ?? null;
      const links = stats.get(inode)?.links ?? null;
      if (allocated === true && links !== null && links > 0) continue;
      if (allocated === true && links === 0) orphans.set(record(inode, 'orphan', 'fls'));
      else if (allocated === false) deleted.set(record(inode, 'deleted', 'fls'));
      else {
        undecided++;
        warn(`inode ${inode}, which a deleted name fls found points at, was once used but ils did not list it (${unlistedWhy([inode])}) and ` +
          `${allocated === null ? 'whether it is allocated could not be read' : 'debugfs printed no link count for it'}: left out`);
        continue;
      }
      found.push(inode);
    }
    if (found.length > 0) warn(`${found.length} inodes (first: ${found.slice(0, 10).join(', ')}) that ils did not list (${unlistedWhy(found)}) were found through the deleted names fls found`);

    // An inode freed, used again and freed again keeps several deleted names: which was its last is
    // not known. The first fls printed is kept, not claimed exact.
    const several = new Set<number>();
    /** The rows of the names inodes keep, as fls printed them, in its order. */
    const kept: number[] = [];
    for (let row = 0; row < fls.length; row++) {
      if (!fls.deletedAt(row) || fls.virtualAt(row) || dropped.has(row)) continue;
      // An orphan keeps a name only when a deleted name is how it was found (a "(realloc)" name of an
      // allocated inode may be an earlier file's): the name that led to it is said.
      const inode = fls.inodeAt(row);
      let target = deleted;
      let at = deleted.rowOf(inode);
      if (at < 0) {
        target = orphans;
        at = orphans.rowOf(inode);
        if (at < 0 || !orphans.foundByAt(at).includes('fls')) continue;
      }
      // Names as fls printed them, one char a byte: equal strings are equal bytes.
      const name = fls.nameAt(row);
      const before = target.nameAt(at);
      if (before === null) {
        kept.push(row);
        // The directory entry's type (fls' `r/r`: before the slash), which TSK's bodyfile mode starts with.
        const type = fls.typeAt(row);
        target.setName(at, name, fls.nameExactAt(row), type.slice(0, type.indexOf('/')));
      } else if (before !== name) {
        target.setNameInexact(at);
        several.add(inode);
      }
    }
    if (several.size > 0) {
      warn(`fls found several deleted names for ${several.size} inodes (first: ${[...several].slice(0, 10).join(', ')}): reused inodes; the first name is kept, with last_name_exact false`);
    }
    // A name the directory lost before the inode was freed is not the one removed when it was: kept, not claimed exact.
    /** How many, and the first ten said (one a name: hundreds of thousands on a big disk). */
    let stale = 0;
    const staleFirst: string[] = [];
    for (const row of kept) {
      const inode = fls.inodeAt(row);
      const at = deleted.rowOf(inode);
      if (at < 0 || several.has(inode)) continue;
      const before = lostBeforeFreed(flsResult.holdersOf(row), deleted.dtimeAt(at));
      if (before === null) continue;
      deleted.setNameInexact(at);
      if (++stale <= 10) staleFirst.push(`${inode} ${displayBytes(Buffer.from(deleted.nameAt(at) ?? '', 'latin1'))}: ${before}`);
    }
    if (stale > 0) {
      warn(`the only deleted name fls found for ${stale} inodes lies in a directory last changed a second or more before the inode was freed ` +
        `(first: ${staleFirst.join('; ')}): not the name removed when it was freed, but a stale copy (an earlier file's on this inode, ` +
        'or an older name of this file: renamed, or a link removed before its last), unless the file was held open after its last name went ' +
        '(freed at its last close, or at the next mount), the name was removed by another writer than the kernel (debugfs) or the clock was set back; ' +
        'kept, with last_name_exact false');
    }
    if (flsResult.warnings.length > 0) warn(`fls: ${flsResult.warnings.length} unreadable lines`);
  }
  if (undecided > 0) scanned.partial = true;
  if (allocationLookups > ALLOCATION_LOOKUPS_MAX) warn(`ils -e was asked whether ${ALLOCATION_LOOKUPS_MAX} inodes that ils did not list are allocated; ${allocationLookups - ALLOCATION_LOOKUPS_MAX} more were not asked`);
  scanned.inodes = new ScannedInodes(orphans, deleted);

  /** Each inode's raw bytes (debugfs inode_dump, one batch); an inode absent could not be read (said). */
  const rawInodes = async (inodes: readonly number[]): Promise<Map<number, Buffer>> => {
    const dumps = new Map<number, Buffer>();
    try {
      const parsed = await debugfsInodeDumps(source.path, offset, inodes, superblock.inodeSize, recorder, workDir);
      for (const dump of parsed.records) dumps.set(dump.inode, dump.raw);
    } catch (error) {
      warn(`debugfs inode_dump failed: ${oneLine(error)}`);
    }
    return dumps;
  };

  /** Replace the times of `found` by the kernel's reading of each raw inode; null (said, partial) where it could not be read. */
  const rawTimes = (found: readonly NewImageInode[], dumps: ReadonlyMap<number, Buffer>): void => {
    for (const entry of found) {
      const raw = dumps.get(entry.inode);
      if (raw === undefined) {
        Object.assign(entry, { atime: null, mtime: null, ctime: null, crtime: null });
        timesUnknown.add(entry.inode);
        continue;
      }
      const times = kernelTimes(raw, superblock.inodeSize);
      Object.assign(entry, { atime: times.atime, mtime: times.mtime, ctime: times.ctime, crtime: times.crtime });
      if (times.refusedByKernel) {
        warn(`inode ${entry.inode} has i_extra_isize ${times.extraIsize}, which the kernel refuses (past the inode's ${superblock.inodeSize} bytes or not a multiple of 4): the file system would not show it; its times are read as the bytes lie`);
      }
    }
  };

  /**
   * debugfs prints `Type: bad type` and the permission bits alone for an i_mode whose type bits are no
   * file type (0, or one of the nine values no file type has, 0170000 say): the whole i_mode is
   * the raw inode's first two bytes, kept as it is, and a type that is none is said.
   */
  const rawModes = (found: readonly NewImageInode[], dumps: ReadonlyMap<number, Buffer>): void => {
    for (const entry of found) {
      const raw = dumps.get(entry.inode);
      if (raw === undefined) {
        warn(`inode ${entry.inode}: debugfs printed "bad type" and its raw inode could not be read: its mode is the permission bits alone`);
        continue;
      }
      entry.mode = raw.readUInt16LE(0);
      const type = entry.mode & 0o170000;
      if (type !== 0) {
        warn(`inode ${entry.inode} has mode 0${entry.mode.toString(8)}, whose file type bits (0${type.toString(8)}) are no valid file type (a corrupt or crafted i_mode): the mode is kept as it is`);
      }
    }
  };

  // 6. Where debugfs printed no extra time words the kernel reads (i_extra_isize below 24, or 0,
  // which the kernel takes for 32), the raw inode says what they are; where it printed no file type,
  // the raw inode says what i_mode holds: one batch, for those only. One pass over the records (millions
  // on a big disk) finds them, the sizes past 2^53 and the i_extra_isize the kernel refuses.
  /** The records this step changes, one object each, written back once (one may be in several lists). */
  const picked = new Map<number, { table: RecordTable; record: NewImageInode }>();
  const pick = (table: RecordTable, row: number): NewImageInode => {
    const inode = table.inodeAt(row);
    const found = picked.get(inode) ?? { table, record: table.at(row) };
    picked.set(inode, found);
    return found.record;
  };
  const rawWanted: NewImageInode[] = [];
  const badType: NewImageInode[] = [];
  // A freed inline inode of size 0: whether its inline area still holds bytes is in the raw inode.
  const emptiedInline: NewImageInode[] = [];
  let oversized = 0;
  const oversizedFirst: string[] = [];
  const refusedExtra: string[] = [];
  for (const { table, row } of scanned.inodes.rows()) {
    const inode = table.inodeAt(row);
    const stat = stats.rowOf(inode);
    const extraIsize = stat < 0 ? null : stats.extraIsizeAt(stat);
    const wantsRaw = stat >= 0 && !byIstat.has(inode) && needsRawTimes({ extraIsize }, superblock.inodeSize);
    if (wantsRaw) rawWanted.push(pick(table, row));
    if (stat >= 0 && stats.typeAt(stat) === 'bad type' && !byIstat.has(inode)) badType.push(pick(table, row));
    if (table.noteAt(row)?.startsWith(emptiedInlineWhy(inode, null)) === true) emptiedInline.push(pick(table, row));
    const size = table.sizeAt(row);
    if (typeof size === 'bigint' && ++oversized <= 10) oversizedFirst.push(`${inode}: ${size} bytes`);
    // From 24 on debugfs' own reading was kept: one the kernel refuses is said all the same.
    if (extraIsize !== null && !wantsRaw && refusedExtraIsize(extraIsize, superblock.inodeSize)) {
      refusedExtra.push(`inode ${inode} has i_extra_isize ${extraIsize}, which the kernel refuses (past the inode's ${superblock.inodeSize} bytes or not a multiple of 4): the file system would not show it; its times are read as debugfs read them`);
    }
  }
  if (rawWanted.length > 0 || badType.length > 0 || emptiedInline.length > 0) {
    const dumps = await rawInodes([...new Set([...rawWanted, ...badType, ...emptiedInline].map((found) => found.inode))].sort((a, b) => a - b));
    rawTimes(rawWanted, dumps);
    rawModes(badType, dumps);
    for (const found of emptiedInline) {
      const raw = dumps.get(found.inode);
      const inlineSize = stats.get(found.inode)?.inlineSize ?? null;
      if (raw !== undefined && inlineSize !== null && found.note !== null) found.note = found.note.replace(emptiedInlineWhy(found.inode, null), emptiedInlineWhy(found.inode, inlineAreaHoldsBytes(raw, inlineSize)));
    }
  }
  for (const { table, record: changed } of picked.values()) table.set(changed);
  // 7. A freed inode whose times are all before the file system was made is no file of it: mke2fs
  // with lazy_itable_init (its default) leaves the inode tables as the disk held them, past the
  // inodes each group has used, until the first mount's ext4lazyinit zeroes them; TSK lists the
  // inodes of the file system that was there before (a quick reformat) as deleted ones of this one.
  const remnants = earlierFsInodes(scanned.inodes, superblock.mkfsTime, { type: extType(superblock), extents: superblock.extents });
  if (remnants.count > 0) {
    warn(`${remnants.count} deleted inode${remnants.count === 1 ? '' : 's'} (first: ${remnants.first.join(', ')}) ${remnants.count === 1 ? 'was' : 'were'} last changed ` +
      `before this file system was made (s_mkfs_time ${superblock.mkfsTime}): most likely left by an earlier file system on this disk in inode tables ` +
      'mke2fs did not zero (lazy_itable_init), not files of this one: kept, each record\'s note says so');
  }
  // A size past 2^53 is no ext4 file's (16 TiB with 4 KiB blocks): an i_size_high set by hand, say. Kept exact, said.
  if (oversized > 0) {
    warn(`${oversized} inode${oversized === 1 ? '' : 's'} (${oversizedFirst.join(', ')}) ` +
      `${oversized === 1 ? 'has a size' : 'have sizes'} past 2^53, larger than any ext4 file (a corrupt or crafted i_size): kept exact; image extract does not copy by such a size`);
  }
  refusedExtra.forEach(warn);
  if (timesUnknown.size > 0) {
    scanned.partial = true;
    warn(`${timesUnknown.size} inodes (first: ${[...timesUnknown].slice(0, 10).join(', ')}) have no times from debugfs: ` +
      (superblock.inodeSize > 128
        ? `those The Sleuth Kit (ils, istat) prints ignore ext4's epoch bits on ${superblock.inodeSize}-byte inodes and may be wrong by multiples of 2^32 s: left null`
        : 'nor from ils: left null'));
  }
  await directories.settled();
  return finish(scanned, superblock, await facts);
}

/**
 * The directories that hold deleted names, looked at through debugfs -c: `stat` for what each is,
 * `dump` for its content. One directory, `lookAhead` (the root), is looked at ahead (prefetch, while
 * fls still walks): its answers, and what debugfs said giving them, are handed over when they are
 * asked for. Asked for before the look ahead was started (on a small image fls is through first),
 * it is started then: either way the same commands run, and a scan records the same ones.
 * (Exported for its tests.)
 */
export function directoryAccess(image: string, offset: number, inodeSize: number, recorder: CommandRecorder, workDir: string, warn: (message: string) => void, lookAhead: number): DirectoryAccess & { prefetch(): void; settled(): Promise<void> } {
  const complaints = (said: readonly string[]) => said.forEach((complaint) => warn(`debugfs said (reading directories): ${complaint}`));
  const statDirectories = async (inodes: readonly number[]) => {
    const parsed = await debugfsStatMany(image, offset, inodes, recorder, workDir);
    const facts = new Map<number, DirectoryFacts>();
    for (const stat of parsed.records) {
      if (stat.size === null) continue;
      facts.set(stat.inode, { directory: stat.type === 'directory', size: stat.size, inline: stat.inlineSize !== null, changed: lastChanged(stat, inodeSize) });
    }
    return { facts, said: [...parsed.complaints, ...parsed.cuts] };
  };
  const dumpDirectories = async (directories: ReadonlyArray<{ inode: number; size: number }>) => {
    const contents = new Map<number, Buffer>();
    const result = await debugfsDumpMany(image, offset, directories, (inode, content) => contents.set(inode, content), recorder, workDir);
    return { contents, said: result.complaints };
  };
  type Answer<T> = { found: Map<number, T>; said: readonly string[] } | null;
  let ahead: { inode: number; facts: Promise<Answer<DirectoryFacts>> | null; content: Promise<Answer<Buffer>> | null } | null = null;
  let lookedAhead: Promise<void> = Promise.resolve();
  /** Start the look ahead, once. */
  function lookAheadStart(): void {
    if (ahead !== null) return;
    const facts = statDirectories([lookAhead]).then(({ facts: found, said }) => ({ found, said }));
    const content = facts.then(({ found }) => {
      const fact = found.get(lookAhead);
      // What dropIndexNames would read of it (a directory of one block too: the root is where every path starts).
      if (fact === undefined || !fact.directory || fact.inline || fact.size > DIRECTORY_MAX_BYTES) return null;
      return dumpDirectories([{ inode: lookAhead, size: Number(fact.size) }]).then(({ contents, said }) => ({ found: contents, said }));
    });
    // Not asked for when fls found nothing to check, or failed: its failure then concerns nobody.
    content.catch(() => undefined);
    ahead = { inode: lookAhead, facts, content };
    lookedAhead = content.then(() => undefined, () => undefined);
  }
  /**
   * What was looked at ahead for one of `asked` (taken once: its complaints are said when it is),
   * with what is looked at now for the rest, and for it too if the look ahead did not answer.
   */
  async function merged<T, A>(asked: readonly A[], inodeOf: (item: A) => number, early: Promise<Answer<T>> | null, now: (rest: readonly A[]) => Promise<{ found: Map<number, T>; said: readonly string[] }>) {
    const before = early === null ? null : await early;
    const rest = asked.filter((item) => before?.found.has(inodeOf(item)) !== true);
    const after = rest.length > 0 ? await now(rest) : null;
    const found = new Map<number, T>();
    for (const answer of [before, after]) {
      if (answer === null) continue;
      complaints(answer.said);
      for (const [key, value] of answer.found) found.set(key, value);
    }
    return found;
  }
  /** The look ahead's answer of this kind, when `inodes` holds its directory and it was not taken yet. */
  function take<K extends 'facts' | 'content'>(kind: K, inodes: readonly number[]): NonNullable<typeof ahead>[K] {
    if (ahead === null || !inodes.includes(ahead.inode)) return null;
    const early = ahead[kind];
    ahead[kind] = null;
    return early;
  }
  return {
    prefetch: lookAheadStart,
    // The look ahead ends before the scan does, asked for or not: its debugfs and scratch folder are
    // never left behind by a run that exits (process.exit) while it still goes on.
    settled: () => lookedAhead,
    async describe(inodes) {
      if (inodes.includes(lookAhead)) lookAheadStart();
      return merged(inodes, (inode) => inode, take('facts', inodes), async (rest) => {
        const { facts, said } = await statDirectories(rest);
        return { found: facts, said };
      });
    },
    async read(directories) {
      return merged(directories, ({ inode }) => inode, take('content', directories.map(({ inode }) => inode)), async (rest) => {
        const { contents, said } = await dumpDirectories(rest);
        return { found: contents, said };
      });
    },
  };
}

/**
 * When a directory last changed: the later of its mtime and ctime (the kernel sets both when it
 * adds or removes a name; a user can set the mtime back, never the ctime). Null where debugfs
 * printed no extra time word the kernel reads: not known here, never guessed.
 */
function lastChanged(stat: DebugfsInode, inodeSize: number): DirectoryFacts['changed'] {
  if (stat.mtime === null || stat.ctime === null || needsRawTimes(stat, inodeSize)) return null;
  const mtime = { seconds: stat.mtime, nanoseconds: stat.mtimeNs };
  const ctime = { seconds: stat.ctime, nanoseconds: stat.ctimeNs };
  return ctime.seconds > mtime.seconds || (ctime.seconds === mtime.seconds && (ctime.nanoseconds ?? 0) >= (mtime.nanoseconds ?? 0)) ? ctime : mtime;
}

/**
 * Whether a deleted inode's one name lies only in directories last changed a second or more before
 * the inode was freed: said as `DIR (inode N) changed C, dtime D`, else null. The kernel sets a
 * directory's mtime and ctime when it removes a name, and frees the inode (i_dtime, in
 * ext4_evict_inode) right after its last name goes unless something still holds it open; later
 * changes only move them on. Null when a directory, when it changed or the dtime is not known, and
 * where that time is of whole seconds on an inode that keeps nanoseconds: the kernel stamps them,
 * so such a time was set by another writer (debugfs, mke2fs), which may remove names without it.
 */
function lostBeforeFreed(holders: readonly HoldingDirectory[] | null, dtime: number | null): string | null {
  if (holders === null || holders.length === 0 || dtime === null) return null;
  const said: string[] = [];
  for (const { inode, path, changed } of holders) {
    if (changed === null || changed.nanoseconds === 0) return null;
    // The dtime is whole seconds: two apart, a whole second at least passed between the change and the
    // freeing. An ordinary unlink whose inode is freed just after, in the next second, is not taken for one.
    if (dtime - changed.seconds < 2) return null;
    said.push(`${path === '' ? '/' : displayBytes(Buffer.from(path, 'latin1'))} (inode ${inode}) changed ${changed.seconds}`);
  }
  return `${said.join(', ')}, dtime ${dtime}`;
}

/**
 * The deleted inodes last changed before the file system was made (changedBeforeMkfs). Each gets
 * the note (after the reason a record not recoverable has, which image extract gives as its reason).
 */
function earlierFsInodes(inodes: ScannedInodes, mkfsTime: number, mapping: BlockMapping): { count: number; first: number[] } {
  const first: number[] = [];
  let count = 0;
  if (mkfsTime <= 0) return { count, first };
  const why = earlierFsWhy(mkfsTime);
  for (const { table, row } of inodes.rows()) {
    if (table.stateAt(row) !== 'deleted') continue;
    if (!changedBeforeMkfs(table.ctimeAt(row), table.dtimeAt(row), mkfsTime)) continue;
    const record = table.at(row);
    const content = specialFileType(record.mode) === null;
    const lead = record.note ?? (record.recoverable || !content ? null : noBlocksWhy(record.size, mapping));
    record.note = lead === null ? why : `${lead}; ${why}`;
    table.set(record);
    if (++count <= 10) first.push(record.inode);
  }
  return { count, first };
}

/** Said of a bigalloc file system, which TSK 4.11.1 cannot read at all, when debugfs reads it. */
const BIGALLOC_WHY = 'bigalloc (blocks allocated in clusters), which The Sleuth Kit cannot read: the orphans of the s_last_orphan chain and of the orphan file ' +
  'were found and described through debugfs; deleted inodes (ils -r, fls) and open-but-unlinked inodes off the chain (ils -aL) could not be listed';

/** Why ils lists an inode in neither list although it was used: TSK takes an inode whose ctime is 0 for one never used. */
const UNLISTED_WHY = 'The Sleuth Kit takes an inode whose ctime is 0 for one never used';

/** Inodes ils did not list whose allocation is asked (ils -e): a crafted image may name any number. */
const ALLOCATION_LOOKUPS_MAX = 1024;

/** Inodes istat is asked about when debugfs could not describe them (a process each). */
const ISTAT_FALLBACK_MAX = 256;
const ISTAT_PARALLEL = 4;

/** istat's view in debugfs' shape: no times but the deletion time, blocks as istat lists them. */
function fromIstat(inode: number, info: IstatInfo): DebugfsInode {
  return {
    inode, type: 'unknown', mode: info.mode, uid: info.uid, gid: info.gid, size: info.size, links: info.nlink, blockcount: null,
    atime: null, mtime: null, ctime: null, crtime: null, atimeNs: null, mtimeNs: null, ctimeNs: null, crtimeNs: null,
    dtimeRaw: info.deleted ?? 0, extraIsize: null, dataBlocks: info.blocks, inlineData: false, inlineSize: null, flags: null, symlinkTarget: null,
  };
}

/** What an ils list could not read: said, and the inodes its lines name kept as `unreadable`. */
function collect(result: ParseResult<IlsInode> | null, what: string, warn: (message: string) => void, unreadable: Map<number, string>): void {
  if (result === null) return;
  for (const warning of result.warnings) {
    warn(`${what} line ${warning.line}: ${warning.message}${warning.text === undefined ? '' : `: ${JSON.stringify(warning.text)}`}: an inode it names may be missing from the scan`);
    const inode = /^(\d+)\|/.exec(warning.text ?? '')?.[1];
    if (inode !== undefined && Number.isSafeInteger(Number(inode))) unreadable.set(Number(inode), `${what} line ${warning.line}`);
  }
}

/**
 * One inode's record: debugfs' view when it has one (full mode, dtime, blocks), else istat's, else
 * what ils printed. Times only from `timed` (debugfs' description): istat's stand-in has none, and
 * ils' are read by `fromIls`, which gives null where TSK's value may not be the kernel's.
 */
function describe(
  inode: number, state: 'orphan' | 'deleted', by: string, stat: InodeStat | undefined, timed: InodeStat | null, ils: IlsInode | undefined,
  fromIls: (printed: number) => number | null, mapping: BlockMapping,
): NewImageInode {
  const ilsTimeOf = (printed: number | undefined): number | null => (printed === undefined ? null : fromIls(printed));
  const size = stat?.size ?? ils?.size ?? null;
  // null: not described, or described without its block list (istat could not read it): unknown.
  const dataBlocks = stat?.dataBlocks ?? null;
  const hasContent = (dataBlocks ?? 0) > 0 || stat?.inlineData === true;
  // An orphan (in use) without data blocks is whole as it is: empty, or all holes (ftruncate'd up,
  // never written), read as zeros; a deleted inode without them is one whose extents ext4 zeroed;
  // a FIFO, socket or device has no content to copy.
  const recoverable = stat === undefined || specialFileType(stat.mode) !== null ? false : hasContent || (state === 'orphan' && dataBlocks === 0);
  // debugfs printing no crtime means the inode has none (128-byte inodes): never one of TSK's instead.
  const times = timed === null
    ? { atime: ilsTimeOf(ils?.atime), mtime: ilsTimeOf(ils?.mtime), ctime: ilsTimeOf(ils?.ctime), crtime: ils === undefined || ils.crtime === 0 ? null : ilsTimeOf(ils.crtime) }
    : { atime: timed.atime, mtime: timed.mtime, ctime: timed.ctime, crtime: timed.crtime };
  return {
    inode, state, foundBy: [by], size,
    mode: stat?.mode ?? (ils === undefined ? null : ils.perms),
    uid: stat?.uid ?? ils?.uid ?? null,
    gid: stat?.gid ?? ils?.gid ?? null,
    nlink: stat?.links ?? ils?.nlink ?? null,
    ...times,
    // On an orphan, i_dtime is a link of the chain (or 0), not a time.
    dtime: state === 'deleted' && stat !== undefined && stat.dtimeRaw !== 0 ? stat.dtimeRaw : null,
    recoverable,
    // null: debugfs did not describe it (nor istat its blocks), so whether it still has blocks is unknown (not "none").
    blocks: dataBlocks,
    lastName: null,
    lastNameExact: null,
    lastNameType: null,
    note: inodeNote(recoverable, size, timed, mapping),
  };
}

/**
 * What a record says of the inode itself (debugfs' description, `timed`): why a freed one that is
 * not recoverable has nothing to copy when that is not the usual no-blocks reason (or the record
 * says more), that one in use without a block is all holes, that an encrypted one is ciphertext.
 * A note of a record not recoverable starts with why (image extract says it as its reason).
 */
function inodeNote(recoverable: boolean, size: U64 | null, timed: InodeStat | null, mapping: BlockMapping): string | null {
  if (timed === null) return null;
  const encrypted = isEncrypted(timed) ? encryptedNote(recoverable) : null;
  const eaValue = isEaInode(timed) ? EA_INODE_NOTE : null;
  // Whole with no block (debugfs, which tells inline data apart, says so): its size is holes, said.
  const holes = recoverable && timed.dataBlocks === 0 && !timed.inlineData ? allHolesNote(size, timed.mode) : null;
  const content = specialFileType(timed.mode) === null;
  const why = recoverable || !content ? null : timed.inlineSize !== null ? emptiedInlineWhy(timed.inode, null) : encrypted !== null || eaValue !== null ? noBlocksWhy(size, mapping) : null;
  const said = [why, holes, encrypted, eaValue].filter((part): part is string => part !== null);
  return said.length === 0 ? null : said.join('; ');
}

/**
 * What the record (and the copy) of an inode in use that points at no data block and holds no
 * inline data must say: its whole size is holes, which the file system reads as zeros. Nothing for
 * an empty file, nor a fast symlink (its target is in the inode itself).
 */
export function allHolesNote(size: U64 | null, mode: number | null): string | null {
  if (size === null || size <= 0 || (mode !== null && (mode & 0o170000) === 0o120000)) return null;
  return `points at no data block: all holes; its ${size} bytes are zeros as the file system reads them: a file given its size (ftruncate) and never written, ` +
    'or written since but its data not on the disk yet when the image was taken (delayed allocation); not a file whose data was freed ' +
    '(when an unlinked file is let go, the kernel sets its size to 0 before it frees its blocks)';
}

function finish(scanned: ScannedFs, superblock: ExtSuperblock, facts: FsstatInfo | null): ScannedFs {
  // From the superblock's features, as blkid and mount name it (fsstat's guess differs: see extType).
  scanned.fsType = extType(superblock);
  // The label is the superblock's alone (read in scanFilesystem): fsstat prints s_last_mounted raw,
  // and a newline there makes a line of its own that fsstat's "Volume Name:" is no different from.
  // fsstat walks the chain too: say so when it names an orphan we did not list (its list is taken from
  // its METADATA INFORMATION section only, printed after every text the file system holds).
  const missed = (facts?.orphanInodes ?? []).filter((inode) => !scanned.inodes.has(inode));
  if (missed.length > 0) scanned.warnings.push(`fsstat lists orphan inodes ${missed.slice(0, 10).join(', ')} that the scan did not keep`);
  scanned.error = scanned.failure ?? (scanned.warnings.length > 0 ? scanned.warnings.join('; ') : null);
  return scanned;
}

/**
 * What a scan has to say on stderr (its own warnings, each file system's, prefixed with its sector,
 * and why one was skipped or not scanned), and whether it is partly done: a file system that could
 * not be read or was not all seen, inodes whose state is unknown, no hash, an image that changed.
 */
export function scanProblems(scan: ScanResult): { warnings: string[]; partial: boolean } {
  const warnings = [...scan.warnings];
  for (const fs of scan.filesystems) {
    const where = `sector ${fs.offsetSectors}`;
    if (fs.failure !== null) warnings.push(`${where}: ${fs.notExt ? 'skipped' : 'not scanned'}: ${fs.failure}`);
    else for (const warning of fs.warnings) warnings.push(`${where}: ${warning}`);
  }
  const changed = scan.unchangedAfter === false || (scan.sha256After !== null && scan.sha256After !== scan.sha256);
  const partial = scan.filesystems.some(readInPart) || scan.tableProblem !== null || scan.tableDoubt !== null || scan.sha256 === null || changed || scan.source.mounted;
  return { warnings, partial };
}

/**
 * A file system as stored: `seenInPart` (the column `partial`) when it was read only in part, or
 * when the scan as a whole was (a partition table not read: other file systems were not scanned;
 * an image not hashed, changed while read, or read with a live file system on it), with that reason beside its own: a later
 * `extract --all` of its list says it again.
 */
function storedFs(fs: ScannedFs, tableProblem: string | null, tableDoubt: string | null, notHashed: boolean, change: string | null, live: string | null): ScannedFs {
  const whole = [
    tableProblem === null ? null : `${tableProblem}: only the file system at sector 0 was scanned`,
    tableDoubt === null ? null : `the partition table was read in part (${tableDoubt})`,
    notHashed ? 'the image could not be hashed' : null,
    change === null ? null : `the image changed while it was scanned (${change})`,
    live,
  ].filter((reason): reason is string => reason !== null);
  if (whole.length === 0) return { ...fs, seenInPart: readInPart(fs) };
  return { ...fs, seenInPart: true, error: [fs.error, ...whole].filter((reason): reason is string => reason !== null).join('; ') };
}

/** Whether a file system was seen only in part: not scanned (but ext), inodes not described, cut short, or a tool that stopped. */
function readInPart(fs: ScannedFs): boolean {
  return (fs.failure !== null && !fs.notExt) || fs.undescribed > 0 || fs.truncated || fs.partial;
}
