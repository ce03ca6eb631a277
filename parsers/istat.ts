// istat (The Sleuth Kit 4.11.1) on ext2/3/4, `istat [-o SECTOR] IMAGE INODE`:
//   Not Allocated
//   size: 30000
//   Direct Blocks:
//   594 595 596 ...
// What a scan needs: allocation, size, link count, times, and whether any data block is left.
// The size is printed signed (PRIdOFF): `size: -1` is 2^64 - 1, read exact as ils' (parseTskOff).
// An extent tree deeper than the inode (more than 4 extents): 4.11.1 cannot read its block list
// (`Error reading file: ... fs_attr_add_run ...`); 4.14.0 lists the data blocks, then the tree's own
// index and leaf blocks under `Extent Blocks:`, which hold no data and are not counted
// (fixtures/tsk/istat-extent-index-*.txt, one image, both versions).
import { parseTskOff, type U64 } from './types.js';

export interface IstatInfo {
  inode: number | null;
  allocated: boolean | null;
  size: U64 | null;
  nlink: number | null;
  uid: number | null;
  gid: number | null;
  /** Epoch seconds of the "Deleted:" time, when istat prints one. */
  deleted: number | null;
  /**
   * Data block addresses listed under "Direct Blocks:" (and indirect ones); null when istat could not
   * read the block list ("Error reading file: ... fs_attr_add_run ...", seen for a file of 600
   * extents: it exits 0 with no blocks listed): unknown, not none.
   */
  blocks: number | null;
  /** st_mode with the file type, from "mode: rrw-r--r--". */
  mode: number | null;
}

const TYPE_BITS: Record<string, number> = { r: 0o100000, d: 0o040000, l: 0o120000, c: 0o020000, b: 0o060000, p: 0o010000, s: 0o140000, '-': 0 };

/** "rrw-r--r--" (type letter, then ls-style permissions with s/S/t/T) to a numeric st_mode. */
export function modeFromString(text: string): number | null {
  if (text.length !== 10) return null;
  const type = TYPE_BITS[text[0] ?? ''];
  if (type === undefined) return null;
  let mode = type;
  const perms = text.slice(1);
  for (let index = 0; index < 9; index++) {
    const char = perms[index] ?? '-';
    if (char !== '-' && char !== 'S' && char !== 'T') mode |= 1 << (8 - index);
  }
  if (/[sS]/.test(perms[2] ?? '')) mode |= 0o4000;
  if (/[sS]/.test(perms[5] ?? '')) mode |= 0o2000;
  if (/[tT]/.test(perms[8] ?? '')) mode |= 0o1000;
  return mode;
}

export function parseIstat(text: string): IstatInfo {
  const info: IstatInfo = { inode: null, allocated: null, size: null, nlink: null, uid: null, gid: null, deleted: null, blocks: 0, mode: null };
  /** In a block list: 'data' counted, 'tree' (the extent tree's own blocks, TSK 4.14) not. */
  let inBlocks: 'data' | 'tree' | null = null;
  for (const line of text.split('\n')) {
    if (/^(Direct|Indirect|Double Indirect|Triple Indirect) Blocks:/.test(line)) {
      inBlocks = 'data';
      continue;
    }
    if (line === 'Extent Blocks:') {
      inBlocks = 'tree';
      continue;
    }
    if (inBlocks !== null && /^[\d ]+$/.test(line.trim()) && line.trim() !== '') {
      if (inBlocks === 'data' && info.blocks !== null) info.blocks += line.trim().split(/\s+/).filter((block) => block !== '0').length;
      continue;
    }
    if (line.startsWith('Error reading file:')) {
      info.blocks = null;
      continue;
    }
    if (line.trim() === '') continue;
    inBlocks = null;
    let match: RegExpExecArray | null;
    if ((match = /^inode: (\d+)/.exec(line)) !== null) info.inode = Number(match[1]);
    else if (line === 'Allocated') info.allocated = true;
    else if (line === 'Not Allocated') info.allocated = false;
    else if ((match = /^size: (-?\d+)$/.exec(line)) !== null) info.size = parseTskOff(match[1] ?? '');
    else if ((match = /^mode: (\S{10})$/.exec(line)) !== null) info.mode = modeFromString(match[1] ?? '');
    else if ((match = /^num of links: (\d+)/.exec(line)) !== null) info.nlink = Number(match[1]);
    else if ((match = /^uid \/ gid: (\d+) \/ (\d+)/.exec(line)) !== null) {
      info.uid = Number(match[1]);
      info.gid = Number(match[2]);
    } else if ((match = /^Deleted:\s+(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)(?:\.\d+)? \(UTC\)/.exec(line)) !== null) {
      info.deleted = Math.floor(Date.parse(`${match[1]?.replace(' ', 'T')}Z`) / 1000);
    }
  }
  return info;
}
