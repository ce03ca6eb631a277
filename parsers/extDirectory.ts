// An ext2/3/4 directory's content (`debugfs -c -R "dump <N> OUT"`, e2fsprogs 1.47.0), read entry by
// entry exactly as The Sleuth Kit 4.11.1 reads it for `fls -r -d` (tsk/fs/ext2fs_dent.c,
// ext2fs_dent_parse_block): every block on its own, from byte 0, in 4-byte steps past a record's
// used length, so that what lies in a record's slack is read as deleted entries. That is where fls
// finds deleted names, and also where it finds names that never were: TSK does not know htree
// directories, and reads their index blocks (a hash and a block number every 8 bytes) like any
// other. The index is named here, so a name read out of it can be told from a genuine one:
//   dx_root, block 0: "." (rec_len 12), ".." (rec_len blocksize - 12, covering the rest), then
//     dx_root_info { u32 reserved_zero = 0; u8 hash_version; u8 info_length = 8; u8 indirect_levels;
//     u8 unused_flags } at 24, then the dx_entries at 32: { u16 limit; u16 count; u32 block } and
//     count - 1 { u32 hash; u32 block }; limit = (blocksize - 32 - tail) / 8.
//   dx_node: a fake entry { inode 0, rec_len blocksize, name_len 0, file_type 0 }, then dx_entries
//     at 8; limit = (blocksize - 8 - tail) / 8.
//   tail: 8 bytes of struct dx_tail (reserved, crc32c) after the limit's entries with metadata_csum.
// Seen on a 1 KiB-block ext3: `01 08 00 00` (hash_version 1, info_length 8) at 28 read as an entry
// of inode 2049, name "\x01" (printed `d0/^`); a dx_entry read as inode 43 named "O".
// The index ranges are dx_root_info (or the fake entry) plus the `count` entries in use, and the
// tail: the unused slots up to the limit are not index (the kernel zeroes them; an old one may have
// left the directory's earlier entries there, which are names).
import type { ParseResult } from './types.js';

export interface DirectoryEntry {
  /** Byte offset of the entry in the directory's content. */
  offset: number;
  inode: number;
  /** The name as TSK copies it: name_len bytes, cut at the first NUL (strncpy). */
  name: Buffer;
  /** The entry's file type byte (1 regular ... 7 symlink, 2 directory); null without the filetype feature. */
  fileType: number | null;
  /** TSK takes it for deleted: it lies in the slack of the record before it, or its inode is 0. */
  deleted: boolean;
  /** It starts in an htree index range: index bytes read as an entry, not a name. */
  inIndex: boolean;
}

export interface IndexRange {
  kind: 'dx_root' | 'dx_node';
  /** Byte offsets in the directory's content, end exclusive. */
  start: number;
  end: number;
}

export interface ExtDirectory extends ParseResult<DirectoryEntry> {
  /** The htree index ranges, in order; none for a directory that is not indexed. */
  indexRanges: IndexRange[];
}

export interface ExtDirectoryOptions {
  blockSize: number;
  /** INCOMPAT_FILETYPE: entries hold a u8 name_len and a file type byte (TSK's EXT2_DE_V2), else a u16 name_len. */
  fileType: boolean;
  /** s_inodes_count: TSK takes an entry whose inode is past it plus 1 (its $OrphanFiles) for no entry. */
  inodesCount: number;
}

/** EXT2FS_DIRSIZ_lcl: an entry's used length for a name of `nameLength` bytes. */
const entrySize = (nameLength: number): number => (nameLength + 8 + 3) & ~3;
const MAX_NAME = 255;
const DX_TAIL = 8;

export function parseExtDirectory(content: Buffer, options: ExtDirectoryOptions): ExtDirectory {
  const { blockSize } = options;
  const result: ExtDirectory = { records: [], warnings: [], indexRanges: [] };
  if (blockSize < 1024 || blockSize % 1024 !== 0) {
    result.warnings.push({ line: 0, message: `bad block size ${blockSize}` });
    return result;
  }
  if (content.length % blockSize !== 0) {
    result.warnings.push({ line: Math.floor(content.length / blockSize), message: `the directory is ${content.length} bytes, not a whole number of ${blockSize}-byte blocks: its last block is read as far as it goes` });
  }
  result.indexRanges = indexRanges(content, blockSize);
  // Each range lies in one block: an entry is looked up among its own block's ranges only.
  const rangesOf = new Map<number, IndexRange[]>();
  for (const range of result.indexRanges) {
    const base = range.start - (range.start % blockSize);
    rangesOf.set(base, [...(rangesOf.get(base) ?? []), range]);
  }
  for (let base = 0; base < content.length; base += blockSize) {
    const block = content.subarray(base, Math.min(base + blockSize, content.length));
    const ranges = rangesOf.get(base) ?? [];
    for (const entry of parseBlock(block, options)) {
      entry.offset += base;
      entry.inIndex = ranges.some((range) => entry.offset >= range.start && entry.offset < range.end);
      result.records.push(entry);
    }
  }
  return result;
}

/** ext2fs_dent_parse_block of TSK 4.11.1, line for line (a_is_del left to the caller: a deleted directory's entries are all deleted). */
function parseBlock(block: Buffer, options: ExtDirectoryOptions): DirectoryEntry[] {
  const entries: DirectoryEntry[] = [];
  const length = block.length;
  const lastInode = options.inodesCount + 1;
  let deletedLength = 0;
  let step = 4;
  for (let at = 0; at <= length - entrySize(1); at += step) {
    const inode = block.readUInt32LE(at);
    const recordLength = block.readUInt16LE(at + 4);
    const nameLength = options.fileType ? (block[at + 6] ?? 0) : block.readUInt16LE(at + 6);
    step = entrySize(nameLength);
    if (inode > lastInode || nameLength > MAX_NAME || nameLength === 0 || recordLength < step || recordLength % 4 !== 0 || at + recordLength > length) {
      step = 4;
      if (deletedLength > 0) deletedLength -= 4;
      continue;
    }
    // In slack, an entry must end within the slack too.
    if (deletedLength !== 0 && deletedLength < step) {
      step = 4;
      deletedLength -= 4;
      continue;
    }
    const raw = block.subarray(at + 8, at + 8 + nameLength);
    const nul = raw.indexOf(0);
    entries.push({
      offset: at, inode, name: Buffer.from(nul < 0 ? raw : raw.subarray(0, nul)), fileType: options.fileType ? (block[at + 7] ?? 0) : null,
      deleted: deletedLength > 0 || inode === 0, inIndex: false,
    });
    if (deletedLength > 0) deletedLength -= step;
    if (deletedLength <= 0) {
      if (recordLength - step >= entrySize(1)) deletedLength = recordLength - step;
      else step = recordLength;
    }
  }
  return entries;
}

/** The dx_root (block 0) and dx_node blocks of an htree directory, told by their shape (the inode's index flag aside: a kernel without dir_index clears it and leaves the blocks). */
function indexRanges(content: Buffer, blockSize: number): IndexRange[] {
  const ranges: IndexRange[] = [];
  if (content.length < blockSize || !isDxRoot(content, blockSize)) return ranges;
  const rootCount = entriesIn(content, 32, blockSize);
  if (rootCount === null) return ranges;
  ranges.push({ kind: 'dx_root', start: 24, end: 32 + 8 * rootCount.count });
  if (rootCount.tail) ranges.push({ kind: 'dx_root', start: blockSize - DX_TAIL, end: blockSize });
  for (let base = blockSize; base + blockSize <= content.length; base += blockSize) {
    // A fake entry covering the block, with no name: a leaf's first entry, even deleted, keeps its name_len.
    if (content.readUInt32LE(base) !== 0 || recordLength(content.readUInt16LE(base + 4), blockSize) !== blockSize || content[base + 6] !== 0 || content[base + 7] !== 0) continue;
    const node = entriesIn(content.subarray(base, base + blockSize), 8, blockSize);
    if (node === null) continue;
    ranges.push({ kind: 'dx_node', start: base, end: base + 8 + 8 * node.count });
    if (node.tail) ranges.push({ kind: 'dx_node', start: base + blockSize - DX_TAIL, end: base + blockSize });
  }
  return ranges;
}

function isDxRoot(content: Buffer, blockSize: number): boolean {
  const dot = content.readUInt16LE(4) === 12 && content[6] === 1 && content[8] === 0x2e;
  const dotdot = recordLength(content.readUInt16LE(16), blockSize) === blockSize - 12 && content[18] === 2 && content[20] === 0x2e && content[21] === 0x2e;
  // reserved_zero, info_length 8, indirect_levels at most 3 (largedir).
  return dot && dotdot && content.readUInt32LE(24) === 0 && content[29] === 8 && (content[30] ?? 0xff) <= 3;
}

/** The count of a dx_entries array at `at` whose limit fills the block (with or without a dx_tail), or null. */
function entriesIn(block: Buffer, at: number, blockSize: number): { count: number; tail: boolean } | null {
  const limit = block.readUInt16LE(at);
  const count = block.readUInt16LE(at + 2);
  const tail = limit === (blockSize - at - DX_TAIL) / 8;
  if (limit !== (blockSize - at) / 8 && !tail) return null;
  if (count < 1 || count > limit) return null;
  return { count, tail };
}

/** ext4_rec_len_from_disk: 65536-byte blocks store a whole-block record as 0 or 65535. */
function recordLength(stored: number, blockSize: number): number {
  return blockSize === 65536 && (stored === 0 || stored === 65535) ? 65536 : stored;
}
