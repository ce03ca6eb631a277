// Read-only peek at an ext2/3/4 or btrfs superblock to learn a device's UUID when udev has no by-uuid link.
import fs from 'node:fs';
import { BTRFS_SUPERBLOCK_BYTES, BTRFS_SUPERBLOCK_OFFSET, parseBtrfsSuperblock } from '../../parsers/btrfsSuperblock.js';
import { parseExtSuperblock } from '../../parsers/extSuperblock.js';

const SUPERBLOCK_OFFSET = 1024;

export function readExtSuperblockUuid(device: string): string | null {
  const superblock = readBytes(device, SUPERBLOCK_OFFSET, 1024);
  return superblock === null ? null : (parseExtSuperblock(superblock)?.uuid ?? null);
}

export function readBtrfsSuperblockUuid(device: string): string | null {
  const superblock = readBytes(device, BTRFS_SUPERBLOCK_OFFSET, BTRFS_SUPERBLOCK_BYTES);
  return superblock === null ? null : (parseBtrfsSuperblock(superblock)?.uuid ?? null);
}

/** `length` bytes at `offset` of a device opened read-only, or null when they cannot all be read. */
function readBytes(device: string, offset: number, length: number): Buffer | null {
  let fd: number | null = null;
  try {
    fd = fs.openSync(device, fs.constants.O_RDONLY);
    const bytes = Buffer.alloc(length);
    return fs.readSync(fd, bytes, 0, length, offset) === length ? bytes : null;
  } catch {
    return null;
  } finally {
    if (fd !== null) fs.closeSync(fd);
  }
}
