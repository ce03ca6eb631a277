// The ext4 orphan_file (e2fsprogs 1.47 `mkfs.ext4 -O orphan_file`, Linux 5.15+): each block of the
// orphan file's inode is an array of __le32 inode numbers followed by
// struct ext4_orphan_block_tail { __le32 ob_magic = 0x0b10ca04; __le32 ob_checksum; }.
// Input: the orphan file's content (icat of s_orphan_file_inum). Checksums are not verified
// (they need the fs UUID seed and inode generation); a block with a bad magic is a warning.
import type { ParseResult } from './types.js';

export const ORPHAN_BLOCK_MAGIC = 0x0b10ca04;

export interface OrphanSlot {
  inode: number;
  block: number;
  slot: number;
}

export function parseOrphanFile(content: Buffer, blockSize: number): ParseResult<OrphanSlot> {
  const result: ParseResult<OrphanSlot> = { records: [], warnings: [] };
  if (blockSize < 1024 || blockSize % 4 !== 0) {
    result.warnings.push({ line: 0, message: `bad block size ${blockSize}` });
    return result;
  }
  const blocks = Math.floor(content.length / blockSize);
  if (content.length % blockSize !== 0) result.warnings.push({ line: blocks, message: `orphan file is ${content.length} bytes, not a whole number of ${blockSize}-byte blocks` });
  const slots = (blockSize - 8) / 4;
  for (let block = 0; block < blocks; block++) {
    const base = block * blockSize;
    const magic = content.readUInt32LE(base + blockSize - 8);
    if (magic !== ORPHAN_BLOCK_MAGIC) {
      result.warnings.push({ line: block, message: `orphan file block ${block}: magic 0x${magic.toString(16)}, expected 0x0b10ca04` });
      continue;
    }
    for (let slot = 0; slot < slots; slot++) {
      const inode = content.readUInt32LE(base + slot * 4);
      if (inode !== 0) result.records.push({ inode, block, slot });
    }
  }
  return result;
}
