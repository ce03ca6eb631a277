// The ext2/3/4 superblock (1024 bytes at byte 1024 of the file system), read straight from the
// image: the UUID blkid shows, the orphan chain head and the orphan_file inode, which fsstat 4.11.1
// does not print. Offsets from struct ext4_super_block (linux fs/ext4/ext4.h).
import { uuidText } from './types.js';

export interface ExtSuperblock {
  inodesCount: number;
  /** s_blocks_count (with its high half on a 64bit file system): the file system's length in blocks. */
  blocksCount: number;
  blockSize: number;
  inodeSize: number;
  /** s_uuid; null when it is the nil UUID (all zeros: `tune2fs -U clear`): no UUID. */
  uuid: string | null;
  /** s_volume_name as UTF-8 when it is valid UTF-8, else null (see volumeNameBytes). */
  volumeName: string | null;
  /** The raw bytes, up to the first NUL: a name is bytes, shown with displayBytes. */
  volumeNameBytes: Buffer;
  /** s_last_mounted as UTF-8 when it is valid UTF-8, else null (see lastMountPointBytes). */
  lastMountPoint: string | null;
  lastMountPointBytes: Buffer;
  /**
   * s_mtime, seconds since the epoch: the low 32 bits (unsigned) plus s_mtime_hi (byte 0x275) times
   * 2^32, as the kernel reads it (ext4_get_tstamp): a mount after 2106 has a high byte.
   */
  lastMountTime: number;
  /**
   * s_mkfs_time (0x108) plus s_mkfs_time_hi (byte 0x276) times 2^32: when mke2fs made the file
   * system, seconds since the epoch; 0 when it did not say (mke2fs before 1.41).
   */
  mkfsTime: number;
  /** s_last_orphan: head of the orphan chain, 0 when empty. */
  lastOrphan: number;
  featureCompat: number;
  featureIncompat: number;
  featureRoCompat: number;
  /** s_orphan_file_inum, when the orphan_file feature is on. */
  orphanFileInode: number | null;
  hasJournal: boolean;
  /**
   * INCOMPAT_RECOVER (needs_recovery): the journal holds transactions not written to their places
   * (a crash, a power-off, a copy of a mounted disk): what only the journal holds is not seen.
   */
  needsRecovery: boolean;
  extents: boolean;
  /** INCOMPAT_FILETYPE: directory entries carry a file type byte and a one-byte name length. */
  fileType: boolean;
  /**
   * RO_COMPAT_BIGALLOC: blocks allocated in clusters of several (s_log_cluster_size). The Sleuth Kit
   * 4.11.1 cannot read such a file system at all ("Cannot determine file system type"); debugfs can.
   */
  bigalloc: boolean;
  /** s_first_data_block: 1 with 1 KiB blocks (block 0 holds the boot block and the superblock), else 0. */
  firstDataBlock: number;
  blocksPerGroup: number;
  /**
   * s_block_group_nr: 0 in the primary superblock; mke2fs writes the group's number into each backup
   * copy. Not 0: these bytes are a backup, inside the file system, not its start.
   */
  blockGroupNr: number;
}

export const EXT_MAGIC = 0xef53;
const COMPAT_HAS_JOURNAL = 0x4;
const COMPAT_ORPHAN_FILE = 0x1000;
const INCOMPAT_FILETYPE = 0x2;
const INCOMPAT_RECOVER = 0x4;
const INCOMPAT_EXTENTS = 0x40;
const INCOMPAT_64BIT = 0x80;
const RO_COMPAT_BIGALLOC = 0x200;

// What ext2 and ext3 understand (libblkid superblocks/ext.c, EXT2/EXT3_FEATURE_*_SUPP): sparse_super,
// large_file, btree_dir read-only-compatible; filetype and meta_bg (and needs_recovery for ext3) incompatible.
const EXT3_RO_COMPAT_SUPPORTED = 0x1 | 0x2 | 0x4;
const EXT2_INCOMPAT_SUPPORTED = 0x2 | 0x10;
const EXT3_INCOMPAT_SUPPORTED = EXT2_INCOMPAT_SUPPORTED | INCOMPAT_RECOVER;

/**
 * The file system's type as blkid and mount name it: ext4 when it has a feature ext3 does not
 * understand (extents, flex_bg, huge_file, dir_nlink, extra_isize, metadata_csum, 64bit, ...), else
 * ext3 with a journal, else ext2. fsstat 4.11.1 says ext4 only for extents or 64bit: an ext4 made
 * without them (`mkfs.ext4 -O ^extent,^64bit`, metadata_csum and all) is "Ext3" to it.
 */
export function extType(superblock: Pick<ExtSuperblock, 'featureIncompat' | 'featureRoCompat' | 'hasJournal'>): 'ext2' | 'ext3' | 'ext4' {
  const beyondExt3 = (superblock.featureRoCompat & ~EXT3_RO_COMPAT_SUPPORTED) !== 0 || (superblock.featureIncompat & ~EXT3_INCOMPAT_SUPPORTED) !== 0;
  if (beyondExt3) return 'ext4';
  if (superblock.hasJournal) return 'ext3';
  return (superblock.featureIncompat & ~EXT2_INCOMPAT_SUPPORTED) === 0 ? 'ext2' : 'ext4';
}

/** null when the bytes are not an ext2/3/4 superblock (wrong magic, absurd block size). */
export function parseExtSuperblock(block: Buffer): ExtSuperblock | null {
  if (block.length < 1024 || block.readUInt16LE(0x38) !== EXT_MAGIC) return null;
  const logBlockSize = block.readUInt32LE(0x18);
  if (logBlockSize > 6) return null;
  const compat = block.readUInt32LE(0x5c);
  const incompat = block.readUInt32LE(0x60);
  const bytes = (start: number, length: number): Buffer => {
    const raw = block.subarray(start, start + length);
    const end = raw.indexOf(0);
    return Buffer.from(raw.subarray(0, end < 0 ? raw.length : end));
  };
  const volumeNameBytes = bytes(0x78, 16);
  const lastMountPointBytes = bytes(0x88, 64);
  return {
    inodesCount: block.readUInt32LE(0x00),
    blocksCount: block.readUInt32LE(0x04) + ((incompat & INCOMPAT_64BIT) !== 0 ? block.readUInt32LE(0x150) * 2 ** 32 : 0),
    blockSize: 1024 << logBlockSize,
    inodeSize: block.readUInt16LE(0x58) || 128,
    uuid: uuidText(block.subarray(0x68, 0x78)),
    volumeName: strictUtf8(volumeNameBytes),
    volumeNameBytes,
    lastMountPoint: strictUtf8(lastMountPointBytes),
    lastMountPointBytes,
    lastMountTime: block.readUInt32LE(0x2c) + block.readUInt8(0x275) * 2 ** 32,
    mkfsTime: block.readUInt32LE(0x108) + block.readUInt8(0x276) * 2 ** 32,
    lastOrphan: block.readUInt32LE(0xe8),
    featureCompat: compat,
    featureIncompat: incompat,
    featureRoCompat: block.readUInt32LE(0x64),
    orphanFileInode: (compat & COMPAT_ORPHAN_FILE) !== 0 ? block.readUInt32LE(0x280) : null,
    hasJournal: (compat & COMPAT_HAS_JOURNAL) !== 0,
    needsRecovery: (incompat & INCOMPAT_RECOVER) !== 0,
    extents: (incompat & INCOMPAT_EXTENTS) !== 0,
    fileType: (incompat & INCOMPAT_FILETYPE) !== 0,
    bigalloc: (block.readUInt32LE(0x64) & RO_COMPAT_BIGALLOC) !== 0,
    firstDataBlock: block.readUInt32LE(0x14),
    blocksPerGroup: block.readUInt32LE(0x20),
    blockGroupNr: block.readUInt16LE(0x5a),
  };
}

/**
 * Where the file system whose backup superblock this is starts, in bytes before the place the
 * superblock was read as a primary (1024 bytes into a supposed start): the backup of group N sits at
 * the start of block s_first_data_block + N * s_blocks_per_group. null for a primary superblock.
 */
export function backupSuperblockShift(superblock: ExtSuperblock): number | null {
  if (superblock.blockGroupNr === 0) return null;
  return (superblock.firstDataBlock + superblock.blockGroupNr * superblock.blocksPerGroup) * superblock.blockSize - 1024;
}

/** The text when the bytes are valid UTF-8 (mkfs -L "données" writes UTF-8), else null: never a guess at another charset. */
function strictUtf8(raw: Buffer): string | null {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(raw);
  } catch {
    return null;
  }
}
