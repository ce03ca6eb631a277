// Read-only peek at an ext2/3/4 or btrfs superblock to learn a device's UUID when udev has no by-uuid link.
import fs from 'node:fs';
import { BTRFS_SUPERBLOCK_BYTES, BTRFS_SUPERBLOCK_OFFSET, parseBtrfsSuperblock } from '../../parsers/btrfsSuperblock.js';
import { parseExtSuperblock } from '../../parsers/extSuperblock.js';

const SUPERBLOCK_OFFSET = 1024;

export function readExtSuperblockUuid(device: string): string | null {
  let fd: number | null = null;
  try {
    fd = fs.openSync(device, fs.constants.O_RDONLY);
    const superblock = Buffer.alloc(1024);
    if (fs.readSync(fd, superblock, 0, 1024, SUPERBLOCK_OFFSET) !== 1024) return null;
    return parseExtSuperblock(superblock)?.uuid ?? null;
  } catch {
    return null;
  } finally {
    if (fd !== null) fs.closeSync(fd);
  }
}

export function readBtrfsSuperblockUuid(device: string): string | null {
  let fd: number | null = null;
  try {
    fd = fs.openSync(device, fs.constants.O_RDONLY);
    const superblock = Buffer.alloc(BTRFS_SUPERBLOCK_BYTES);
    if (fs.readSync(fd, superblock, 0, BTRFS_SUPERBLOCK_BYTES, BTRFS_SUPERBLOCK_OFFSET) !== BTRFS_SUPERBLOCK_BYTES) return null;
    return parseBtrfsSuperblock(superblock)?.uuid ?? null;
  } catch {
    return null;
  } finally {
    if (fd !== null) fs.closeSync(fd);
  }
}
