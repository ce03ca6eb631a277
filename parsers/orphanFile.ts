// The ext4 orphan_file (e2fsprogs 1.47 `mkfs.ext4 -O orphan_file`, Linux 5.15+): each block of the
// orphan file's inode is an array of __le32 inode numbers followed by
// struct ext4_orphan_block_tail { __le32 ob_magic = 0x0b10ca04; __le32 ob_checksum; }.
// Input: the orphan file's content (icat of s_orphan_file_inum). Checksums are not verified
// (they need the fs UUID seed and inode generation); a block with a bad magic is a warning.
// The kernel puts an inode in one slot at a time: a number in several slots, or one past the file
// system's inodes, is damage or a crafted file. A crafted orphan file can be 64 MiB of slots all
// naming one inode (its extents all over one block): each number is kept once, the slots past the
// file system's inodes and the blocks with a bad magic are counted, each said once, never a
// record or a warning per slot (16 million of them made one string too long to hold).
import type { ParseResult } from './types.js';

export const ORPHAN_BLOCK_MAGIC = 0x0b10ca04;

export interface OrphanSlot {
  inode: number;
  /** Where the number is first found. */
  block: number;
  slot: number;
}

/** Blocks with a bad magic named one by one; the rest counted in one more warning. */
const BAD_BLOCKS_NAMED = 10;

/** Inode numbers named as examples in a warning. */
const EXAMPLES = 5;

/**
 * `inodesCount` (s_inodes_count), when given: a number above it names no inode, and is counted, not
 * listed. Records: each inode number once, at its first slot, in the order first found.
 */
export function parseOrphanFile(content: Buffer, blockSize: number, inodesCount?: number): ParseResult<OrphanSlot> {
  const result: ParseResult<OrphanSlot> = { records: [], warnings: [] };
  if (blockSize < 1024 || blockSize % 4 !== 0) {
    result.warnings.push({ line: 0, message: `bad block size ${blockSize}` });
    return result;
  }
  const blocks = Math.floor(content.length / blockSize);
  if (content.length % blockSize !== 0) result.warnings.push({ line: blocks, message: `orphan file is ${content.length} bytes, not a whole number of ${blockSize}-byte blocks` });
  const slots = (blockSize - 8) / 4;
  const seen = new Set<number>();
  let badBlocks = 0;
  let repeated = 0;
  let past = 0;
  const pastExamples: number[] = [];
  for (let block = 0; block < blocks; block++) {
    const base = block * blockSize;
    const magic = content.readUInt32LE(base + blockSize - 8);
    if (magic !== ORPHAN_BLOCK_MAGIC) {
      if (++badBlocks <= BAD_BLOCKS_NAMED) result.warnings.push({ line: block, message: `orphan file block ${block}: magic 0x${magic.toString(16)}, expected 0x0b10ca04` });
      continue;
    }
    for (let slot = 0; slot < slots; slot++) {
      const inode = content.readUInt32LE(base + slot * 4);
      if (inode === 0) continue;
      if (inodesCount !== undefined && inode > inodesCount) {
        past++;
        if (pastExamples.length < EXAMPLES && !pastExamples.includes(inode)) pastExamples.push(inode);
      } else if (seen.has(inode)) {
        repeated++;
      } else {
        seen.add(inode);
        result.records.push({ inode, block, slot });
      }
    }
  }
  if (badBlocks > BAD_BLOCKS_NAMED) result.warnings.push({ line: blocks, message: `${badBlocks - BAD_BLOCKS_NAMED} more orphan file blocks have a bad magic (${badBlocks} of ${blocks} in all)` });
  if (past > 0) result.warnings.push({ line: blocks, message: `${past} slots name inodes past the file system's ${inodesCount ?? '?'} (${pastExamples.join(', ')}${past > pastExamples.length ? ', ...' : ''}): left out` });
  if (repeated > 0) {
    result.warnings.push({ line: blocks, message: `${repeated} slots repeat an inode number an earlier slot holds (the kernel puts an inode in one slot): each inode taken once` });
  }
  return result;
}
