// Read-only peek at an ext2/3/4 superblock to learn a device's UUID when udev has no by-uuid link.
import fs from 'node:fs';

const SUPERBLOCK_OFFSET = 1024;
const MAGIC_OFFSET = 0x38;
const UUID_OFFSET = 0x68;
const EXT_MAGIC = 0xef53;

export function readExtSuperblockUuid(device: string): string | null {
  let fd: number | null = null;
  try {
    fd = fs.openSync(device, fs.constants.O_RDONLY);
    const superblock = Buffer.alloc(1024);
    if (fs.readSync(fd, superblock, 0, 1024, SUPERBLOCK_OFFSET) !== 1024) return null;
    if (superblock.readUInt16LE(MAGIC_OFFSET) !== EXT_MAGIC) return null;
    return formatUuid(superblock.subarray(UUID_OFFSET, UUID_OFFSET + 16));
  } catch {
    return null;
  } finally {
    if (fd !== null) fs.closeSync(fd);
  }
}

export function formatUuid(bytes: Buffer): string {
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}
