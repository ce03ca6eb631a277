// debugfs (e2fsprogs 1.47.0) `debugfs -c -f CMDFILE IMAGE` where CMDFILE holds `stat <N>` lines:
// debugfs echoes each command, then prints that inode, so one process describes thousands of inodes.
//   debugfs: stat <12>
//   Inode: 12   Type: regular    Mode:  0644   Flags: 0x0
//   User:     0   Group:     0   Project:     0   Size: 30000
//   Links: 0   Blockcount: 62
//    ctime: 0x6b062269:00000000 -- Tue Nov 24 23:48:57 2026
//    dtime: 0x6b062269:(00000000) -- Tue Nov 24 23:48:57 2026
//   BLOCKS:
//   (0-11):594-605, (IND):606, (12-29):607-624
//   TOTAL: 31
// 128-byte inodes print `ctime: 0x6b062269 -- ...` (no nanoseconds). A chunk is only accepted when
// it starts with the inode that was asked for, so a symlink target cannot forge another inode.
import { warningText, type ParseResult } from './types.js';

export interface DebugfsInode {
  inode: number;
  /** debugfs' type word: regular, directory, symlink, FIFO, socket, character special, block special. */
  type: string;
  /** st_mode: file type bits and permission bits. */
  mode: number | null;
  uid: number | null;
  gid: number | null;
  size: number | null;
  links: number | null;
  /** i_blocks in 512-byte units. */
  blockcount: number | null;
  atime: number | null;
  mtime: number | null;
  ctime: number | null;
  crtime: number | null;
  /** The raw 32-bit i_dtime: a deletion time, or on the s_last_orphan chain the next orphan's number. */
  dtimeRaw: number;
  /** File data blocks still listed by the extent tree or the block map (metadata blocks not counted). */
  dataBlocks: number;
  /** Data stored in the inode itself (inline data, fast symlink): readable without blocks. */
  inlineData: boolean;
}

const TYPE_BITS: Record<string, number> = {
  regular: 0o100000, directory: 0o040000, symlink: 0o120000, FIFO: 0o010000, socket: 0o140000,
  'character special': 0o020000, 'block special': 0o060000,
};

/** Parse the output of one batch; `asked` is the list of inode numbers in the order of the stat commands. */
export function parseDebugfsStats(text: string, asked: readonly number[]): ParseResult<DebugfsInode> {
  const result: ParseResult<DebugfsInode> = { records: [], warnings: [] };
  const lines = text.split('\n');
  let next = 0;
  let chunk: { inode: number; line: number; lines: string[] } | null = null;
  const finish = () => {
    if (chunk === null) return;
    const parsed = parseOne(chunk.inode, chunk.lines);
    if (parsed === null) result.warnings.push({ line: chunk.line, message: `debugfs printed nothing usable for inode ${chunk.inode}`, text: warningText(chunk.lines[0] ?? '') });
    else result.records.push(parsed);
    chunk = null;
  };
  lines.forEach((line, index) => {
    const expected = asked[next];
    if (expected !== undefined && line === `debugfs: stat <${expected}>`) {
      finish();
      chunk = { inode: expected, line: index + 1, lines: [] };
      next++;
      return;
    }
    if (chunk !== null) (chunk as { lines: string[] }).lines.push(line);
  });
  finish();
  for (let missing = next; missing < asked.length; missing++) result.warnings.push({ line: lines.length, message: `debugfs output ends before inode ${asked[missing]}` });
  return result;
}

function parseOne(inode: number, lines: readonly string[]): DebugfsInode | null {
  const head = /^Inode: (\d+)\s+Type: (.+?)\s+Mode:\s+([0-7]{4})\s/.exec(lines[0] ?? '');
  if (head === null || Number(head[1]) !== inode) return null;
  const type = head[2] ?? '';
  const perms = parseInt(head[3] ?? '0', 8);
  const found: DebugfsInode = {
    inode, type, mode: TYPE_BITS[type] === undefined ? null : (TYPE_BITS[type] ?? 0) | perms, uid: null, gid: null, size: null, links: null,
    blockcount: null, atime: null, mtime: null, ctime: null, crtime: null, dtimeRaw: 0, dataBlocks: 0, inlineData: false,
  };
  let inList = false;
  for (const line of lines.slice(1)) {
    let match: RegExpExecArray | null;
    if (inList) {
      if (/^\(/.test(line)) {
        found.dataBlocks += countDataBlocks(line);
        continue;
      }
      inList = false;
    }
    if (line === 'EXTENTS:' || line === 'BLOCKS:' || /^(EXTENTS|BLOCKS):\(/.test(line)) {
      inList = true;
      const rest = line.slice(line.indexOf(':') + 1);
      if (rest !== '') found.dataBlocks += countDataBlocks(rest);
    } else if ((match = /^User:\s+(\d+)\s+Group:\s+(\d+)(?:\s+Project:\s+\d+)?\s+Size: (\d+)$/.exec(line)) !== null && found.uid === null) {
      found.uid = Number(match[1]);
      found.gid = Number(match[2]);
      found.size = Number(match[3]);
    } else if ((match = /^Links: (\d+)\s+Blockcount: (\d+)/.exec(line)) !== null && found.links === null) {
      found.links = Number(match[1]);
      found.blockcount = Number(match[2]);
    } else if ((match = /^\s*(ctime|atime|mtime|crtime|dtime): 0x([0-9a-f]{8})(?::|\s|$)/.exec(line)) !== null) {
      const value = parseInt(match[2] ?? '0', 16);
      const key = match[1];
      if (key === 'dtime') found.dtimeRaw = value;
      else if (key === 'ctime' && found.ctime === null) found.ctime = value;
      else if (key === 'atime' && found.atime === null) found.atime = value;
      else if (key === 'mtime' && found.mtime === null) found.mtime = value;
      else if (key === 'crtime' && found.crtime === null) found.crtime = value;
    } else if (/^Size of inline data: [1-9]/.test(line) || line.startsWith('Fast link dest: ')) {
      found.inlineData = true;
    }
  }
  return found;
}

/** "(0-11):594-605, (IND):606, (12-29):607-624" -> 30: logical ranges of file data, not IND/DIND/TIND/ETB. */
function countDataBlocks(list: string): number {
  let blocks = 0;
  // "[u]" marks an unwritten (preallocated) extent: its blocks read as zeros, and still count.
  for (const match of list.matchAll(/\((\d+)(?:-(\d+))?(?:\[u\])?\):(\d+)/g)) {
    const first = Number(match[1]);
    const last = match[2] === undefined ? first : Number(match[2]);
    if (last >= first) blocks += last - first + 1;
  }
  return blocks;
}
